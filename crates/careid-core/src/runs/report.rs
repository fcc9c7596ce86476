//! A run's result: each case's status (PASSED, WARNING, FAILED, SKIPPED or REVIEW) with its
//! checks, which expected failures were used, and whether the run passed; written as JSON for
//! machines (`to_json`), JUnit XML for CI (`junit.rs`) and one HTML page for people
//! (`html.rs`). Built from attempts' records, which hold no token, so no report can either.

use serde::{Deserialize, Serialize};

use super::authenticators::Authenticator;
use super::expect::{CaseCheck, Finding, Sent};
use super::expected_failures::ExpectedFailure;
use super::plan::{Case, CaseId, Plan};
use crate::history::{Attempt, AttemptId, Returned, Time, Verdict};
use crate::profile::RoleSelection;

/// The reports' format. A newer careid's extra fields are ignored when read.
pub const FORMAT: u32 = 1;

/// A run's id: made as attempt ids are (UTC to the millisecond, four random hex digits), so
/// reports sort by time and their file names differ.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    pub fn new() -> Self {
        Self(AttemptId::new().as_str().to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for RunId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A case's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Passed,
    /// Passed, with something careid does not expect of CIS2 where CIS2 is unverified.
    Warning,
    Failed,
    Skipped,
    /// Passed as far as the machine can tell; a person must still confirm a step.
    Review,
}

impl CaseStatus {
    /// As reports show it: `PASSED`, `WARNING`, `FAILED`, `SKIPPED`, `REVIEW`.
    pub fn word(self) -> &'static str {
        match self {
            CaseStatus::Passed => "PASSED",
            CaseStatus::Warning => "WARNING",
            CaseStatus::Failed => "FAILED",
            CaseStatus::Skipped => "SKIPPED",
            CaseStatus::Review => "REVIEW",
        }
    }

    /// The status of a case that ran, from its checks: a check that fails it wins, then a step
    /// still to review, then a warning.
    pub fn of(checks: &[CaseCheck]) -> Self {
        let uncovered = |finding| {
            checks
                .iter()
                .any(|check| check.finding == finding && check.expected_failure.is_none())
        };
        if checks.iter().any(CaseCheck::fails_case) {
            CaseStatus::Failed
        } else if uncovered(Finding::Review) {
            CaseStatus::Review
        } else if uncovered(Finding::Warning) {
            CaseStatus::Warning
        } else {
            CaseStatus::Passed
        }
    }
}

/// What a case asked for, as its record says it was sent (or, when it did not run, as planned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRequest {
    #[serde(default)]
    pub acr_values: Option<String>,
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub max_age: Option<u32>,
    #[serde(default)]
    pub role_selection: Option<RoleSelection>,
}

impl PlannedRequest {
    pub(crate) fn of(sent: &Sent) -> Self {
        Self {
            acr_values: sent
                .acr_values
                .as_ref()
                .map(|values| values.as_str().to_owned()),
            prompt: sent.prompt.clone(),
            max_age: sent.max_age,
            role_selection: Some(sent.role_selection),
        }
    }

    fn of_case(case: &Case) -> Self {
        Self {
            acr_values: case
                .acr_values
                .as_ref()
                .map(|values| values.as_str().to_owned()),
            prompt: case.prompt.clone(),
            max_age: case.max_age,
            role_selection: case.role_selection,
        }
    }
}

/// One case of a run, as it came out.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseResult {
    pub id: CaseId,
    pub authenticator: Authenticator,
    pub asked: PlannedRequest,
    pub status: CaseStatus,
    /// What the tester was told; `None` when the case signed in without a person.
    #[serde(default)]
    pub instruction: Option<String>,
    #[serde(default)]
    pub unattended: bool,
    /// Why it was skipped, or why it could not run.
    #[serde(default)]
    pub note: Option<String>,
    /// The sign-in's record in the history (`careid history show ID`).
    #[serde(default)]
    pub attempt: Option<AttemptId>,
    #[serde(default)]
    pub verdict: Option<Verdict>,
    /// What came back (claims decoded from verified tokens; never a token).
    #[serde(default)]
    pub returned: Option<Returned>,
    #[serde(default)]
    pub checks: Vec<CaseCheck>,
    #[serde(default)]
    pub millis: u64,
}

impl CaseResult {
    pub(crate) fn skipped(case: &Case, reason: &str) -> Self {
        Self {
            status: CaseStatus::Skipped,
            note: Some(reason.to_owned()),
            ..Self::planned(case)
        }
    }

    /// A case that could not be run: a failure of the run, not of the provider.
    pub(crate) fn not_run(case: &Case, problem: String) -> Self {
        Self {
            status: CaseStatus::Failed,
            note: Some(problem),
            ..Self::planned(case)
        }
    }

    fn planned(case: &Case) -> Self {
        Self {
            id: case.id.clone(),
            authenticator: case.authenticator,
            asked: PlannedRequest::of_case(case),
            status: CaseStatus::Skipped,
            instruction: None,
            unattended: false,
            note: None,
            attempt: None,
            verdict: None,
            returned: None,
            checks: Vec::new(),
            millis: 0,
        }
    }

    pub(crate) fn ran(
        case: &Case,
        attempt: &Attempt,
        asked: PlannedRequest,
        instruction: Option<String>,
        unattended: bool,
        checks: Vec<CaseCheck>,
        took: std::time::Duration,
    ) -> Self {
        Self {
            id: case.id.clone(),
            authenticator: case.authenticator,
            asked,
            status: CaseStatus::of(&checks),
            instruction,
            unattended,
            note: None,
            attempt: Some(attempt.id.clone()),
            verdict: Some(attempt.verdict),
            returned: attempt.returned.clone(),
            checks,
            millis: u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// The checks worth a line of their own when a case is shown: each failure, warning, step
    /// left for review and expected failure, with how it reads ("FAILED", "expected failure
    /// (why)"). Passes are not listed.
    pub fn notable_checks(&self) -> impl Iterator<Item = (&CaseCheck, String)> {
        let review = self.status == CaseStatus::Review;
        self.checks.iter().filter_map(move |check| {
            let shown = match (&check.expected_failure, check.finding) {
                (Some(mark), _) if mark.happened => {
                    format!("expected failure ({})", mark.comment)
                }
                (Some(_), _) => "FAILED: expected to fail, but did not".to_owned(),
                (None, Finding::Failed) => "FAILED".to_owned(),
                (None, Finding::Warning) => "WARNING".to_owned(),
                (None, Finding::Review) if review => "REVIEW".to_owned(),
                _ => return None,
            };
            Some((check, shown))
        })
    }

    /// The checks an expected failure turned into passes.
    pub fn expected_failures(&self) -> impl Iterator<Item = &CaseCheck> {
        self.checks.iter().filter(|check| {
            check
                .expected_failure
                .as_ref()
                .is_some_and(|mark| mark.happened)
        })
    }
}

/// An expected failure and the cases it was used by.
#[derive(Debug, Clone, Serialize)]
pub struct EntryUse {
    #[serde(flatten)]
    pub entry: ExpectedFailure,
    pub used_by: Vec<CaseId>,
}

impl EntryUse {
    /// The cases that used it, for people: "never used" when none did.
    pub fn used_by_text(&self) -> String {
        if self.used_by.is_empty() {
            return "never used".to_owned();
        }
        self.used_by
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether the run passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunOutcome {
    /// No case failed and every expected failure happened; cases may be left for review.
    Passed,
    Failed,
    Cancelled,
}

/// How many cases came out each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub passed: usize,
    pub warning: usize,
    pub failed: usize,
    pub skipped: usize,
    pub review: usize,
    /// Cases that passed through an expected failure.
    pub expected_failures: usize,
}

/// The plan as the report names it.
#[derive(Debug, Clone, Serialize)]
pub struct PlanSummary {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub profile: String,
    pub cases: usize,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub format: u32,
    pub id: RunId,
    pub careid_version: String,
    pub plan: PlanSummary,
    /// The tester's label for the run.
    pub label: String,
    pub started_at: Time,
    pub finished_at: Time,
    pub outcome: RunOutcome,
    pub counts: Counts,
    /// Why the run failed, in words: each failed case, each expected failure that did not
    /// happen or was never used.
    pub problems: Vec<String>,
    pub cases: Vec<CaseResult>,
    pub expected_failures: Vec<EntryUse>,
}

impl RunReport {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        id: RunId,
        plan: &Plan,
        label: &str,
        started_at: Time,
        finished_at: Time,
        cases: Vec<CaseResult>,
        expected_failures: Vec<EntryUse>,
        cancelled: bool,
    ) -> Self {
        let mut counts = Counts::default();
        let mut problems = Vec::new();
        for case in &cases {
            match case.status {
                CaseStatus::Passed => counts.passed += 1,
                CaseStatus::Warning => counts.warning += 1,
                CaseStatus::Failed => counts.failed += 1,
                CaseStatus::Skipped => counts.skipped += 1,
                CaseStatus::Review => counts.review += 1,
            }
            if case.expected_failures().next().is_some() {
                counts.expected_failures += 1;
            }
            if case.status != CaseStatus::Failed {
                continue;
            }
            if let Some(note) = &case.note {
                problems.push(format!("{}: {note}", case.id));
            }
            for check in case.checks.iter().filter(|check| check.fails_case()) {
                problems.push(match &check.expected_failure {
                    Some(mark) => format!(
                        "{}: {} was expected to fail ({}) but did not",
                        case.id, check.aspect, mark.comment
                    ),
                    None => format!(
                        "{}: {} failed: expected {}, got {}",
                        case.id, check.aspect, check.expected, check.actual
                    ),
                });
            }
        }
        for entry in expected_failures
            .iter()
            .filter(|entry| entry.used_by.is_empty())
        {
            problems.push(format!(
                "the expected failure of {} for {} ({}) was never used: no case of this run \
                 checked it",
                entry.entry.check, entry.entry.case, entry.entry.written_at
            ));
        }
        if cancelled {
            problems.push("the run was cancelled".to_owned());
        }
        let outcome = if cancelled {
            RunOutcome::Cancelled
        } else if problems.is_empty() {
            RunOutcome::Passed
        } else {
            RunOutcome::Failed
        };
        Self {
            format: FORMAT,
            id,
            careid_version: env!("CARGO_PKG_VERSION").to_owned(),
            plan: PlanSummary {
                name: plan.name.clone(),
                description: plan.description.clone(),
                profile: plan.profile.clone(),
                cases: plan.cases.len(),
            },
            label: label.to_owned(),
            started_at,
            finished_at,
            outcome,
            counts,
            problems,
            cases,
            expected_failures,
        }
    }

    /// The report for machines.
    pub fn to_json(&self) -> String {
        // Plain data: it always serialises.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A file name for this report in `extension`'s form, the same stem for each form and
    /// different for each run: `careid-run-<plan>-<run id>.<extension>`.
    pub fn file_name(&self, extension: &str) -> String {
        let slug: String = self
            .plan
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
            .split('-')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("-");
        let slug: String = slug.chars().take(40).collect();
        let slug = slug.trim_end_matches('-');
        if slug.is_empty() {
            format!("careid-run-{}.{extension}", self.id)
        } else {
            format!("careid-run-{slug}-{}.{extension}", self.id)
        }
    }

    /// One line for a terminal: the outcome and the counts.
    pub fn summary(&self) -> String {
        let counts = &self.counts;
        let mut parts = vec![format!("{} passed", counts.passed)];
        for (count, word) in [
            (counts.warning, "with warnings"),
            (counts.review, "to review"),
            (counts.failed, "failed"),
            (counts.skipped, "skipped"),
        ] {
            if count > 0 {
                parts.push(format!("{count} {word}"));
            }
        }
        if counts.expected_failures > 0 {
            parts.push(format!(
                "{} through expected failures",
                counts.expected_failures
            ));
        }
        let outcome = match self.outcome {
            RunOutcome::Passed => "passed",
            RunOutcome::Failed => "FAILED",
            RunOutcome::Cancelled => "CANCELLED",
        };
        format!(
            "run {outcome}: {} of {} cases; {}",
            self.cases.len(),
            self.plan.cases,
            parts.join(", ")
        )
    }
}
