//! The history as JSON: `history [list]`, `history keep` and `history export`. `history show`
//! prints the attempt's record as the history exports it (the core's file format).

use careid_core::history::{AmrValue, Attempt};
use serde::Serialize;

use super::shared::utc;

/// A listed attempt: enough to choose one; `careid history show ID --json` has it all.
#[derive(Debug, Serialize)]
pub struct AttemptSummaryJson {
    pub id: String,
    pub started_at: String,
    pub started_at_unix: u64,
    pub profile: String,
    /// The tester's label; null for none.
    pub label: Option<String>,
    /// `signed_in`, `no_roles`, `failed`, ...
    pub verdict: &'static str,
    /// The error's code; null when it signed in.
    pub error_code: Option<String>,
    /// The ID token's `acr`; null when none came back.
    pub acr: Option<String>,
    /// As it arrived (CIS2 sends a string); null when it did not.
    pub authentication_assurance_level: Option<String>,
    /// The ID token's `amr`, each value named where careid knows it; null when nothing came
    /// back.
    pub amr: Option<Vec<AmrJson>>,
    /// The codes of the checks that failed.
    pub failed_checks: Vec<String>,
}

impl From<&Attempt> for AttemptSummaryJson {
    fn from(attempt: &Attempt) -> Self {
        let returned = attempt.returned.as_ref();
        Self {
            id: attempt.id.to_string(),
            started_at: utc(attempt.started_at.unix),
            started_at_unix: attempt.started_at.unix,
            profile: attempt.profile.name.clone(),
            label: attempt.label.clone(),
            verdict: attempt.verdict.code(),
            error_code: attempt.error.as_ref().map(|error| error.code.clone()),
            acr: returned.and_then(|returned| returned.acr.clone()),
            authentication_assurance_level: returned
                .and_then(|returned| returned.authentication_assurance_level.clone()),
            amr: returned.map(|returned| returned.amr.iter().map(Into::into).collect()),
            failed_checks: attempt.failed_rules(),
        }
    }
}

/// One `amr` value.
#[derive(Debug, Serialize)]
pub struct AmrJson {
    pub value: String,
    /// The authenticator in words; null for a value careid does not know.
    pub authenticator: Option<String>,
    /// Seen in real CIS2 tokens; the others' meaning is unverified.
    pub seen_from_cis2: bool,
}

impl From<&AmrValue> for AmrJson {
    fn from(amr: &AmrValue) -> Self {
        Self {
            value: amr.value.clone(),
            authenticator: amr.authenticator.clone(),
            seen_from_cis2: amr.seen_from_cis2,
        }
    }
}

/// `history keep N`: how many attempts careid keeps now.
#[derive(Debug, Serialize)]
pub struct KeepJson {
    pub keep: usize,
}

/// `history export`: the file written and how many attempts it holds.
#[derive(Debug, Serialize)]
pub struct ExportJson {
    pub path: String,
    pub attempts: usize,
}
