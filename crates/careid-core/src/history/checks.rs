//! The checks a sign-in makes, listed for its record: each passed, failed, not applicable or not
//! reached, with the rule it holds the provider to. The sign-in itself ([`crate::signin`]) makes
//! the checks; this says which ran and how they came out.

use serde::{Deserialize, Serialize};

use crate::id_token::{IdTokenRule, ID_TOKEN_RULES};

/// One rule a sign-in holds the provider's answers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// The request was pushed (RFC 9126) when the provider offers it.
    PushedRequest,
    /// The callback's `state` is the request's.
    State,
    /// The callback's `iss` is the provider's issuer (RFC 9207).
    CallbackIssuer,
    /// The code was redeemed with the PKCE verifier (RFC 7636, S256).
    Pkce,
    IdToken(IdTokenRule),
    /// UserInfo's `sub` is the ID token's (OIDC Core §5.3.2), and its claims are CIS2's shape.
    UserinfoSubject,
    /// A role: CIS2's `selected_roleid` among the user's roles, or one chosen.
    Role,
}

impl Rule {
    /// Every rule, in the order a sign-in reaches them.
    pub fn all() -> Vec<Rule> {
        let mut rules = vec![
            Rule::PushedRequest,
            Rule::State,
            Rule::CallbackIssuer,
            Rule::Pkce,
        ];
        rules.extend(ID_TOKEN_RULES.map(Rule::IdToken));
        rules.extend([Rule::UserinfoSubject, Rule::Role]);
        rules
    }

    /// A stable name for reports and scripts.
    pub fn code(self) -> &'static str {
        match self {
            Rule::PushedRequest => "pushed_request",
            Rule::State => "state",
            Rule::CallbackIssuer => "callback_iss",
            Rule::Pkce => "pkce",
            Rule::IdToken(rule) => match rule {
                IdTokenRule::Signature => "id_token_signature",
                IdTokenRule::Claims => "id_token_claims",
                IdTokenRule::Issuer => "id_token_iss",
                IdTokenRule::Audience => "id_token_aud",
                IdTokenRule::AuthorizedParty => "id_token_azp",
                IdTokenRule::Expiry => "id_token_exp",
                IdTokenRule::NotInFuture => "id_token_iat",
                IdTokenRule::AccessTokenHash => "id_token_at_hash",
                IdTokenRule::CodeHash => "id_token_c_hash",
                IdTokenRule::AssuranceLevel => "assurance_level",
                IdTokenRule::IdAssuranceLevel => "id_assurance_level",
                IdTokenRule::Nonce => "id_token_nonce",
                IdTokenRule::SessionLimit => "session_limit",
                IdTokenRule::MaxAge => "max_age",
            },
            Rule::UserinfoSubject => "userinfo_sub",
            Rule::Role => "role",
        }
    }

    /// The rule in words, with where it comes from.
    pub fn describe(self) -> &'static str {
        match self {
            Rule::PushedRequest => {
                "The authorization request is pushed to the provider first when it offers that (RFC 9126)"
            }
            Rule::State => "The callback's state is the one this sign-in sent (RFC 6749 §10.12)",
            Rule::CallbackIssuer => {
                "The callback's iss is the provider's issuer, when the provider sends it (RFC 9207)"
            }
            Rule::Pkce => "The code is redeemed with the PKCE S256 verifier (RFC 7636)",
            Rule::IdToken(rule) => match rule {
                IdTokenRule::Signature => {
                    "The ID token is signed by an allowed algorithm with a key from the provider's JWKS"
                }
                IdTokenRule::Claims => "The ID token's claims have their types, sub among them",
                IdTokenRule::Issuer => "iss is the provider's issuer, byte for byte (OIDC Core §3.1.3.7)",
                IdTokenRule::Audience => "aud names this client and no audience it does not trust",
                IdTokenRule::AuthorizedParty => "azp names this client (required with several audiences)",
                IdTokenRule::Expiry => "exp is in the future, within the clock skew",
                IdTokenRule::NotInFuture => "iat, nbf and auth_time are not in the future, within the clock skew",
                IdTokenRule::AccessTokenHash => "at_hash, when present, matches the access token",
                IdTokenRule::CodeHash => "c_hash, when present, matches the code",
                IdTokenRule::AssuranceLevel => {
                    "authentication_assurance_level reaches the level acr_values asked for"
                }
                IdTokenRule::IdAssuranceLevel => {
                    "id_assurance_level reaches the profile's minimum"
                }
                IdTokenRule::Nonce => "nonce is the one this sign-in sent",
                IdTokenRule::SessionLimit => "auth_time is within the session's absolute limit",
                IdTokenRule::MaxAge => "auth_time is within the request's max_age",
            },
            Rule::UserinfoSubject => "UserInfo's sub is the ID token's (OIDC Core §5.3.2)",
            Rule::Role => "A role is chosen among the user's roles (CIS2's selected_roleid first)",
        }
    }
}

/// How one check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// The rule had nothing to hold (no `max_age` asked, no `at_hash` sent).
    NotApplicable,
    /// The sign-in ended before this check.
    NotRun,
}

impl CheckOutcome {
    pub fn code(self) -> &'static str {
        match self {
            CheckOutcome::Passed => "passed",
            CheckOutcome::Failed => "failed",
            CheckOutcome::NotApplicable => "not_applicable",
            CheckOutcome::NotRun => "not_run",
        }
    }
}

/// One check of a sign-in as its record keeps it: the rule by name and in words (so a record
/// reads the same in any careid, and one from a newer careid keeps rules this one lacks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// [`Rule::code`].
    pub rule: String,
    /// [`Rule::describe`].
    pub description: String,
    pub outcome: CheckOutcome,
    /// What was compared (`alg RS256, kid k1`; `level 3, asked 3`) or why it failed.
    #[serde(default)]
    pub detail: Option<String>,
}

/// The checks of one sign-in as it runs, every rule listed from the start as not run.
#[derive(Debug, Clone)]
pub struct CheckList {
    checks: Vec<(Rule, CheckOutcome, Option<String>)>,
}

impl Default for CheckList {
    fn default() -> Self {
        Self {
            checks: Rule::all()
                .into_iter()
                .map(|rule| (rule, CheckOutcome::NotRun, None))
                .collect(),
        }
    }
}

impl CheckList {
    pub fn set(&mut self, rule: Rule, outcome: CheckOutcome, detail: impl Into<Option<String>>) {
        if let Some(check) = self.checks.iter_mut().find(|check| check.0 == rule) {
            check.1 = outcome;
            check.2 = detail.into();
        }
    }

    pub fn passed(&mut self, rule: Rule, detail: impl Into<Option<String>>) {
        self.set(rule, CheckOutcome::Passed, detail);
    }

    pub fn not_applicable(&mut self, rule: Rule, why: &str) {
        self.set(rule, CheckOutcome::NotApplicable, Some(why.to_owned()));
    }

    pub fn failed(&mut self, rule: Rule, why: String) {
        self.set(rule, CheckOutcome::Failed, Some(why));
    }

    /// The ID token check failed on `failed`: the rules checked before it passed, the rest
    /// were not reached ([`ID_TOKEN_RULES`] is the order they are checked in).
    pub fn id_token_failed(&mut self, failed: IdTokenRule, why: String) {
        for rule in ID_TOKEN_RULES {
            if rule == failed {
                self.failed(Rule::IdToken(rule), why);
                return;
            }
            self.passed(Rule::IdToken(rule), None);
        }
    }

    pub fn outcome(&self, rule: Rule) -> CheckOutcome {
        self.checks
            .iter()
            .find(|check| check.0 == rule)
            .map_or(CheckOutcome::NotRun, |check| check.1)
    }

    pub fn into_checks(self) -> Vec<Check> {
        self.checks
            .into_iter()
            .map(|(rule, outcome, detail)| Check {
                rule: rule.code().to_owned(),
                description: rule.describe().to_owned(),
                outcome,
                detail,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_its_own_code() {
        let mut codes: Vec<&str> = Rule::all().into_iter().map(Rule::code).collect();
        let count = codes.len();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), count);
    }

    #[test]
    fn a_failed_id_token_rule_passes_those_before_it_and_leaves_the_rest_not_run() {
        let mut list = CheckList::default();
        list.id_token_failed(IdTokenRule::Nonce, "the nonce differs".to_owned());
        assert_eq!(
            list.outcome(Rule::IdToken(IdTokenRule::Signature)),
            CheckOutcome::Passed
        );
        assert_eq!(
            list.outcome(Rule::IdToken(IdTokenRule::Nonce)),
            CheckOutcome::Failed
        );
        assert_eq!(
            list.outcome(Rule::IdToken(IdTokenRule::MaxAge)),
            CheckOutcome::NotRun
        );
        assert_eq!(list.outcome(Rule::Role), CheckOutcome::NotRun);
    }

    #[test]
    fn checks_are_written_with_their_rule_in_words_and_read_back() {
        let mut list = CheckList::default();
        list.passed(Rule::State, None);
        let checks = list.into_checks();
        let json = serde_json::to_value(&checks).unwrap();
        assert_eq!(json[1]["rule"], "state");
        assert_eq!(json[1]["outcome"], "passed");
        assert!(json[1]["description"]
            .as_str()
            .unwrap()
            .contains("RFC 6749"));
        let back: Vec<Check> = serde_json::from_value(json).unwrap();
        assert_eq!(back, checks);
    }
}
