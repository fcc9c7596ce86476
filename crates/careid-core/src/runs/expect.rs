//! What a case should give, and how its attempt's record measures up: each aspect (outcome,
//! errors, `acr`, levels, `amr`, `auth_time`, CIS2's role) passed, a warning, failed, not
//! applicable, or for a person to review.
//!
//! The sign-in's own checks (signature, issuer, nonce ...) are made once, by the sign-in, and
//! come here as its verdict: a run never validates a token again, it reads the record.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::authenticators::{Authenticator, ExpectedAmr};
use super::plan::Case;
use crate::history::{Attempt, CheckOutcome, Verdict};
use crate::profile::{Profile, RoleSelection};
use crate::values::AcrValues;

/// One aspect of a case's outcome a run checks; also what an expected failure names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aspect {
    /// The attempt's verdict (`signed_in`, `provider_error`, ...).
    Outcome,
    /// careid's error code.
    Error,
    /// The provider's OAuth error (`access_denied`).
    ProviderError,
    Acr,
    AuthenticationAssuranceLevel,
    IdAssuranceLevel,
    Amr,
    /// `auth_time` later than the previous sign-in's (`prompt=login`, `max_age`).
    AuthTimeMoved,
    /// CIS2's picker chose a role (`selected_roleid`).
    SelectedRole,
    /// A step only a person can confirm.
    Review,
}

impl Aspect {
    pub const ALL: [Aspect; 10] = [
        Aspect::Outcome,
        Aspect::Error,
        Aspect::ProviderError,
        Aspect::Acr,
        Aspect::AuthenticationAssuranceLevel,
        Aspect::IdAssuranceLevel,
        Aspect::Amr,
        Aspect::AuthTimeMoved,
        Aspect::SelectedRole,
        Aspect::Review,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Aspect::Outcome => "outcome",
            Aspect::Error => "error",
            Aspect::ProviderError => "provider_error",
            Aspect::Acr => "acr",
            Aspect::AuthenticationAssuranceLevel => "authentication_assurance_level",
            Aspect::IdAssuranceLevel => "id_assurance_level",
            Aspect::Amr => "amr",
            Aspect::AuthTimeMoved => "auth_time_moved",
            Aspect::SelectedRole => "selected_role",
            Aspect::Review => "review",
        }
    }
}

impl std::fmt::Display for Aspect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// How one aspect came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    Passed,
    /// Not what careid expects of CIS2, where CIS2's behaviour is unverified.
    Warning,
    Failed,
    NotApplicable,
    /// Only a person can say; nobody has yet.
    Review,
}

/// An expected failure applied to a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpectedFailureMark {
    pub comment: String,
    /// Whether the check did fail (or warn), as the entry said it would. When it did not, the
    /// run fails: the deviation is gone, and the entry should be too.
    pub happened: bool,
}

/// One aspect of one case, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseCheck {
    pub aspect: Aspect,
    pub finding: Finding,
    pub expected: String,
    pub actual: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub expected_failure: Option<ExpectedFailureMark>,
}

impl CaseCheck {
    /// Whether this check makes its case fail: it failed and no expected failure covers it, or
    /// an expected failure said it would fail and it did not.
    pub fn fails_case(&self) -> bool {
        match &self.expected_failure {
            Some(mark) => !mark.happened,
            None => self.finding == Finding::Failed,
        }
    }
}

/// What a sign-in sent, which decides what it should give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub acr_values: Option<AcrValues>,
    pub prompt: Option<String>,
    pub max_age: Option<u32>,
    pub role_selection: RoleSelection,
}

impl Sent {
    /// What a case will send with `profile` (before the sign-in).
    pub fn planned(case: &Case, profile: &Profile) -> Self {
        Self {
            acr_values: case
                .acr_values
                .clone()
                .or_else(|| profile.acr_values.clone())
                .filter(|values| !values.asks_for_none()),
            prompt: case.prompt.clone().or_else(|| profile.prompt.clone()),
            max_age: case.max_age.or(profile.max_age),
            role_selection: case.role_selection.unwrap_or(profile.role_selection),
        }
    }

    /// What the attempt's record says was sent: the truth once it has run.
    pub fn recorded(attempt: &Attempt) -> Self {
        let asked = &attempt.asked;
        Self {
            acr_values: asked.acr_values.value.clone().map(AcrValues::new),
            prompt: asked.prompt.value.clone(),
            max_age: asked
                .max_age
                .value
                .as_deref()
                .and_then(|text| text.parse().ok()),
            role_selection: match attempt.profile.role_selection.as_str() {
                "cis2" => RoleSelection::Cis2,
                _ => RoleSelection::App,
            },
        }
    }

    fn prompts(&self, value: &str) -> bool {
        self.prompt
            .as_deref()
            .is_some_and(|prompt| prompt.split_whitespace().any(|word| word == value))
    }
}

/// What `acr` should be.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AcrExpectation {
    Exactly(String),
    /// One of the values asked for; missing or another is a warning (CIS2 sometimes leaves it
    /// out, REFERENCE §5).
    AmongAsked(Vec<String>),
    NotChecked,
}

/// What `amr` should hold.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AmrExpectation {
    /// These values and no others, in any order.
    Exactly(Vec<String>),
    /// The authenticator's value.
    Authenticator(ExpectedAmr),
}

/// Whether `auth_time` should be later than the same user's previous sign-in's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthTimeExpectation {
    /// `prompt=login` or `max_age=0` (or the plan says so): the provider must authenticate again.
    MustMove,
    /// `max_age`: it must move when the previous authentication is older than this many seconds
    /// when the request is made (OIDC Core §3.1.2.1); otherwise the provider may reuse it.
    MovesIfOlderThan(u32),
    MustNotMove,
    NotChecked,
}

/// What a case should give, from careid's rules and the plan's overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    pub authenticator: Authenticator,
    /// Whether `acr_values` let the user use the authenticator at all.
    pub admitted: bool,
    pub outcome: Verdict,
    pub error: Option<String>,
    pub provider_error: Option<String>,
    acr: AcrExpectation,
    authentication_assurance_level: u8,
    id_assurance_level: Option<u8>,
    amr: AmrExpectation,
    pub auth_time: AuthTimeExpectation,
    selected_role: Option<bool>,
}

impl Expectation {
    /// careid's rules for `case` as `sent`, then the plan's overrides: an authenticator below
    /// the level asked for is refused by the provider (`access_denied`); one admitted signs in
    /// at its level, with its `amr` and one of the `acr` values asked; `prompt=login` and
    /// `max_age` move `auth_time`, as the OpenID conformance suite checks; CIS2's role picker
    /// chooses a role.
    pub fn for_case(case: &Case, sent: &Sent) -> Self {
        let authenticator = case.authenticator;
        let admitted = authenticator.admitted_by(sent.acr_values.as_ref());
        let overrides = &case.overrides;
        let outcome = overrides.outcome.unwrap_or(if admitted {
            Verdict::SignedIn
        } else {
            Verdict::ProviderError
        });
        let provider_error = overrides.provider_error.clone().or_else(|| {
            (!admitted && overrides.outcome.is_none()).then(|| "access_denied".to_owned())
        });
        let acr = match (&overrides.acr, &sent.acr_values) {
            (Some(acr), _) => AcrExpectation::Exactly(acr.clone()),
            (None, Some(asked)) => {
                AcrExpectation::AmongAsked(asked.values().map(str::to_owned).collect())
            }
            (None, None) => AcrExpectation::NotChecked,
        };
        let amr = match &overrides.amr {
            Some(values) => AmrExpectation::Exactly(values.clone()),
            None => AmrExpectation::Authenticator(authenticator.amr()),
        };
        let auth_time = match overrides.auth_time_moved {
            Some(true) => AuthTimeExpectation::MustMove,
            Some(false) => AuthTimeExpectation::MustNotMove,
            None if sent.prompts("login") || sent.max_age == Some(0) => {
                AuthTimeExpectation::MustMove
            }
            None => sent
                .max_age
                .map_or(AuthTimeExpectation::NotChecked, |max_age| {
                    AuthTimeExpectation::MovesIfOlderThan(max_age)
                }),
        };
        // A user with no roles gives CIS2's picker nothing to choose.
        let selected_role = overrides.selected_role.or((sent.role_selection
            == RoleSelection::Cis2
            && outcome == Verdict::SignedIn)
            .then_some(true));
        Self {
            authenticator,
            admitted,
            outcome,
            error: overrides.error.clone(),
            provider_error,
            acr,
            authentication_assurance_level: overrides
                .authentication_assurance_level
                .unwrap_or(authenticator.level()),
            id_assurance_level: overrides.id_assurance_level,
            amr,
            auth_time,
            selected_role,
        }
    }

    /// Whether the case should sign in (with or without roles).
    pub fn signs_in(&self) -> bool {
        self.outcome.signed_in()
    }

    /// The instruction for the tester, from the authenticator's table.
    pub fn instruction(&self, sent: &Sent) -> String {
        if self.admitted {
            self.authenticator.instruction()
        } else {
            format!(
                "Try to use your {}: CIS2 should refuse it for acr_values {}. When it does not \
                 offer it, cancel the sign-in",
                self.authenticator.words(),
                acr_text(sent)
            )
        }
    }

    /// The steps only a person at the browser can confirm.
    pub fn review_steps(&self, sent: &Sent) -> Vec<String> {
        if self.admitted {
            self.authenticator
                .review_steps()
                .iter()
                .map(|step| (*step).to_owned())
                .collect()
        } else {
            vec![self.authenticator.refusal_review_step(&acr_text(sent))]
        }
    }

    /// Each aspect of `attempt` against this expectation.
    pub fn judge(&self, attempt: &Attempt) -> Vec<CaseCheck> {
        let mut checks = vec![self.outcome_check(attempt)];
        let error = attempt.error.as_ref();
        if let Some(expected) = &self.provider_error {
            let actual = error.and_then(|error| error.provider_error.clone());
            checks.push(equal(Aspect::ProviderError, expected, actual));
        }
        if let Some(expected) = &self.error {
            let actual = error.map(|error| error.code.clone());
            checks.push(equal(Aspect::Error, expected, actual));
        }
        if !self.signs_in() {
            return checks;
        }
        let returned = attempt
            .returned
            .as_ref()
            .filter(|_| attempt.verdict.signed_in() && attempt.claims.id_token_verified);
        let Some(returned) = returned else {
            // Nothing verified came back: what would be compared is unknown.
            for aspect in [
                Aspect::Acr,
                Aspect::AuthenticationAssuranceLevel,
                Aspect::Amr,
                Aspect::AuthTimeMoved,
            ] {
                checks.push(CaseCheck {
                    aspect,
                    finding: Finding::NotApplicable,
                    expected: String::new(),
                    actual: "not signed in".to_owned(),
                    detail: None,
                    expected_failure: None,
                });
            }
            return checks;
        };

        checks.push(match &self.acr {
            AcrExpectation::Exactly(expected) => equal(Aspect::Acr, expected, returned.acr.clone()),
            AcrExpectation::AmongAsked(asked) => {
                let expected = format!("one of {}", asked.join(" "));
                match &returned.acr {
                    Some(acr) if asked.contains(acr) => {
                        check(Aspect::Acr, Finding::Passed, expected, acr.clone(), None)
                    }
                    Some(acr) => check(
                        Aspect::Acr,
                        Finding::Warning,
                        expected,
                        acr.clone(),
                        Some("not one of the acr_values asked for".to_owned()),
                    ),
                    None => check(
                        Aspect::Acr,
                        Finding::Warning,
                        expected,
                        "none".to_owned(),
                        Some("no acr: CIS2 sometimes leaves it out".to_owned()),
                    ),
                }
            }
            AcrExpectation::NotChecked => check(
                Aspect::Acr,
                Finding::NotApplicable,
                String::new(),
                shown(&returned.acr),
                Some("no acr_values asked".to_owned()),
            ),
        });
        checks.push(level(
            Aspect::AuthenticationAssuranceLevel,
            self.authentication_assurance_level,
            returned.authentication_assurance_level.as_deref(),
        ));
        if let Some(expected) = self.id_assurance_level {
            checks.push(level(
                Aspect::IdAssuranceLevel,
                expected,
                returned.id_assurance_level.as_deref(),
            ));
        }
        let amr: Vec<String> = returned.amr.iter().map(|amr| amr.value.clone()).collect();
        checks.push(match &self.amr {
            AmrExpectation::Exactly(expected) => {
                let mut wanted = expected.clone();
                let mut got = amr.clone();
                wanted.sort();
                got.sort();
                let finding = if wanted == got {
                    Finding::Passed
                } else {
                    Finding::Failed
                };
                check(Aspect::Amr, finding, expected.join(" "), list(&amr), None)
            }
            AmrExpectation::Authenticator(expected) => {
                let (finding, detail) = if amr.iter().any(|value| value == expected.value) {
                    (Finding::Passed, None)
                } else if expected.seen_from_cis2 {
                    (Finding::Failed, None)
                } else {
                    (
                        Finding::Warning,
                        Some(format!(
                            "{} is careid's guess for the {} (unverified for CIS2)",
                            expected.value,
                            self.authenticator.words()
                        )),
                    )
                };
                check(
                    Aspect::Amr,
                    finding,
                    format!("includes {}", expected.value),
                    list(&amr),
                    detail,
                )
            }
        });
        checks.push(self.auth_time_check(attempt, returned));
        if let Some(expected) = self.selected_role {
            let actual = returned.selected_roleid.clone();
            let finding = if actual.is_some() == expected {
                Finding::Passed
            } else {
                Finding::Failed
            };
            checks.push(check(
                Aspect::SelectedRole,
                finding,
                if expected {
                    "a role chosen on CIS2's picker"
                } else {
                    "no selected_roleid"
                }
                .to_owned(),
                actual.unwrap_or_else(|| "none".to_owned()),
                None,
            ));
        }
        checks
    }

    fn outcome_check(&self, attempt: &Attempt) -> CaseCheck {
        let finding = if attempt.verdict == self.outcome {
            Finding::Passed
        } else {
            Finding::Failed
        };
        // What the sign-in's own checks said, for the reader: the failed ones by rule.
        let failed_rules: Vec<&str> = attempt
            .checks
            .iter()
            .filter(|check| check.outcome == CheckOutcome::Failed)
            .map(|check| check.rule.as_str())
            .collect();
        let mut detail = attempt.error.as_ref().map(|error| error.message.clone());
        if !failed_rules.is_empty() {
            let rules = format!("failed check: {}", failed_rules.join(", "));
            detail = Some(match detail {
                Some(message) => format!("{message} ({rules})"),
                None => rules,
            });
        }
        check(
            Aspect::Outcome,
            finding,
            self.outcome.code().to_owned(),
            attempt.verdict.code().to_owned(),
            detail,
        )
    }

    fn auth_time_check(&self, attempt: &Attempt, returned: &crate::history::Returned) -> CaseCheck {
        let change = returned.auth_time_change.as_ref();
        let actual = change.map_or_else(
            || "no earlier sign-in of this user on this profile to compare with".to_owned(),
            |change| format!("{:+} s since the previous sign-in's", change.seconds),
        );
        let expected_words = match self.auth_time {
            AuthTimeExpectation::MustMove => "later than the previous sign-in's".to_owned(),
            AuthTimeExpectation::MovesIfOlderThan(max_age) => {
                format!("later than the previous sign-in's when that was over {max_age} s before")
            }
            AuthTimeExpectation::MustNotMove => "the previous sign-in's".to_owned(),
            AuthTimeExpectation::NotChecked => String::new(),
        };
        let Some(change) = change else {
            return check(
                Aspect::AuthTimeMoved,
                Finding::NotApplicable,
                expected_words,
                actual,
                None,
            );
        };
        let moved = change.seconds > 0;
        let (finding, detail) = match self.auth_time {
            AuthTimeExpectation::NotChecked => (
                Finding::NotApplicable,
                Some("neither prompt=login nor max_age asked".to_owned()),
            ),
            AuthTimeExpectation::MustMove | AuthTimeExpectation::MustNotMove => {
                let wanted = self.auth_time == AuthTimeExpectation::MustMove;
                let finding = if moved == wanted {
                    Finding::Passed
                } else {
                    Finding::Failed
                };
                (finding, None)
            }
            AuthTimeExpectation::MovesIfOlderThan(max_age) => {
                let age = attempt.started_at.unix.saturating_sub(change.previous.unix);
                if age > u64::from(max_age) {
                    let finding = if moved {
                        Finding::Passed
                    } else {
                        Finding::Failed
                    };
                    (
                        finding,
                        Some(format!("the previous authentication was {age} s old")),
                    )
                } else {
                    (
                        Finding::NotApplicable,
                        Some(format!(
                            "the previous authentication was {age} s old, within max_age: \
                             the provider may reuse it"
                        )),
                    )
                }
            }
        };
        check(
            Aspect::AuthTimeMoved,
            finding,
            expected_words,
            actual,
            detail,
        )
    }
}

fn acr_text(sent: &Sent) -> String {
    sent.acr_values
        .as_ref()
        .map_or_else(|| "(none)".to_owned(), |values| values.as_str().to_owned())
}

fn check(
    aspect: Aspect,
    finding: Finding,
    expected: String,
    actual: String,
    detail: Option<String>,
) -> CaseCheck {
    CaseCheck {
        aspect,
        finding,
        expected,
        actual,
        detail,
        expected_failure: None,
    }
}

fn equal(aspect: Aspect, expected: &str, actual: Option<String>) -> CaseCheck {
    let finding = if actual.as_deref() == Some(expected) {
        Finding::Passed
    } else {
        Finding::Failed
    };
    check(aspect, finding, expected.to_owned(), shown(&actual), None)
}

/// An assurance level, as CIS2 sends it (a string or a number), against the one expected.
fn level(aspect: Aspect, expected: u8, actual: Option<&str>) -> CaseCheck {
    let read = actual.and_then(|text| crate::assurance_level(&Value::String(text.to_owned())));
    let finding = if read == Some(expected) {
        Finding::Passed
    } else {
        Finding::Failed
    };
    check(
        aspect,
        finding,
        expected.to_string(),
        actual.unwrap_or("none").to_owned(),
        None,
    )
}

fn shown(value: &Option<String>) -> String {
    value.clone().unwrap_or_else(|| "none".to_owned())
}

fn list(values: &[String]) -> String {
    if values.is_empty() {
        "none".to_owned()
    } else {
        values.join(" ")
    }
}

#[cfg(test)]
mod tests;
