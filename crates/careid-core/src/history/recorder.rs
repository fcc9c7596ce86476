//! [`AttemptLog`]: what a sign-in notes as it goes, made into an [`Attempt`] when it ends, however
//! it ends.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::checks::{CheckList, Rule};
use super::{
    AmrValue, Asked, Attempt, AttemptError, AttemptId, ClaimSets, ProfileSnapshot, Returned,
    RoleTaken, StepTiming, Time, TimeClaim, TokenHeader, FORMAT,
};
use crate::id_token::{IdTokenClaims, IdTokenRule};
use crate::signin::{SignInError, Timing};
use crate::{ClaimsError, LoopbackError, RoleChoice};

/// How an attempt ended, in one word a report can sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Signed in, with a role or one to choose.
    SignedIn,
    /// Signed in, but the user holds no roles.
    NoRoles,
    /// An answer failed a check.
    Refused,
    /// The provider answered with an error (the user cancelled there, a level refused ...).
    ProviderError,
    Cancelled,
    TimedOut,
    /// Anything else: the provider unreachable, the profile unusable, the keychain.
    Failed,
}

impl Verdict {
    /// Whether a session was kept.
    pub fn signed_in(self) -> bool {
        matches!(self, Verdict::SignedIn | Verdict::NoRoles)
    }

    pub fn code(self) -> &'static str {
        match self {
            Verdict::SignedIn => "signed_in",
            Verdict::NoRoles => "no_roles",
            Verdict::Refused => "refused",
            Verdict::ProviderError => "provider_error",
            Verdict::Cancelled => "cancelled",
            Verdict::TimedOut => "timed_out",
            Verdict::Failed => "failed",
        }
    }

    fn of(error: &SignInError) -> Self {
        use crate::signin::ErrorClass;
        match error {
            SignInError::Loopback(LoopbackError::TimedOut { .. }) => Verdict::TimedOut,
            _ => match error.class() {
                ErrorClass::Cancelled => Verdict::Cancelled,
                ErrorClass::Provider => Verdict::ProviderError,
                ErrorClass::Rejected => Verdict::Refused,
                _ => Verdict::Failed,
            },
        }
    }
}

/// The attempt so far.
#[derive(Debug)]
pub struct AttemptLog {
    id: AttemptId,
    started_at: u64,
    started: std::time::Instant,
    profile: ProfileSnapshot,
    asked: Asked,
    pub checks: CheckList,
    returned: Option<Returned>,
    headers: Vec<TokenHeader>,
    times: Vec<TimeClaim>,
    claims: ClaimSets,
    stray_callbacks: u32,
    label: Option<String>,
}

impl AttemptLog {
    pub fn begin(
        now: std::time::SystemTime,
        profile: ProfileSnapshot,
        asked: Asked,
        label: Option<String>,
    ) -> Self {
        Self {
            id: AttemptId::new(),
            started_at: crate::time::unix_seconds(now),
            started: std::time::Instant::now(),
            profile,
            asked,
            checks: CheckList::default(),
            returned: None,
            headers: Vec::new(),
            times: Vec::new(),
            claims: ClaimSets::default(),
            stray_callbacks: 0,
            label,
        }
    }

    pub fn id(&self) -> &AttemptId {
        &self.id
    }

    pub fn redirect_uri(&mut self, uri: &str) {
        self.profile.redirect_uri = Some(uri.to_owned());
    }

    pub fn pushed(&mut self, pushed: bool) {
        self.asked.pushed = pushed;
    }

    pub fn stray_callbacks(&mut self, count: u32) {
        self.stray_callbacks = count;
    }

    /// A token or signed document that came back: its header and (unverified until
    /// [`Self::id_token_passed`]) claims, decoded for display. Not a JWT: nothing to note.
    pub fn token_seen(&mut self, token: &'static str, compact: &str) {
        let Ok(jwt) = crate::jose::decode_any_type(compact) else {
            return;
        };
        self.headers.retain(|header| header.token != token);
        self.headers.push(TokenHeader {
            token: token.to_owned(),
            alg: jwt.header.alg.clone(),
            kid: jwt.header.kid.clone(),
            typ: jwt.header.typ.clone(),
        });
        self.times.retain(|time| time.token != token);
        for claim in ["iat", "nbf", "exp", "auth_time"] {
            if let Some(unix) = jwt.claims.get(claim).and_then(Value::as_u64) {
                self.times.push(TimeClaim {
                    token: token.to_owned(),
                    claim: claim.to_owned(),
                    at: Time::at(unix),
                });
            }
        }
        let claims = Some(Value::Object(jwt.claims));
        match token {
            "id_token" => {
                self.returned = Some(returned_of(claims.as_ref()));
                self.claims.id_token = claims;
            }
            "access_token" => self.claims.access_token = claims,
            _ => {}
        }
    }

    /// Every ID token rule passed: each is noted with what it compared.
    pub fn id_token_passed(&mut self, claims: &IdTokenClaims, held: &IdTokenHeld) {
        use IdTokenRule as R;
        let header = self
            .headers
            .iter()
            .find(|header| header.token == "id_token");
        let signature = header.map(|header| match &header.kid {
            Some(kid) => format!("alg {}, verified by key {kid}", header.alg),
            None => format!("alg {}, verified by the set's only fitting key", header.alg),
        });
        let skew = held.skew_seconds;
        let mut pass =
            |rule, detail: Option<String>| self.checks.passed(Rule::IdToken(rule), detail);
        pass(R::Signature, signature);
        pass(R::Claims, None);
        pass(R::Issuer, Some(format!("iss {}", claims.iss)));
        pass(R::Audience, Some(format!("aud {}", claims.aud.join(" "))));
        pass(
            R::Expiry,
            Some(format!("exp {}, {skew} s of skew", claims.exp)),
        );
        pass(
            R::NotInFuture,
            Some(format!("iat {}, {skew} s of skew", claims.iat)),
        );
        pass(
            R::Nonce,
            Some("the request's, compared in constant time".to_owned()),
        );
        pass(
            R::SessionLimit,
            Some(format!("within {} hours", held.absolute_limit_hours)),
        );
        let level = claims.authentication_assurance_level;
        let asked_level = held.asked_level;
        let id_level = claims.id_assurance_level;
        let not_applicable = |checks: &mut CheckList, rule, why: &str| {
            checks.not_applicable(Rule::IdToken(rule), why);
        };
        match &claims.azp {
            Some(azp) => self.checks.passed(
                Rule::IdToken(R::AuthorizedParty),
                Some(format!("azp {azp}")),
            ),
            None => not_applicable(
                &mut self.checks,
                R::AuthorizedParty,
                "no azp with one audience",
            ),
        }
        for (rule, claim) in [(R::AccessTokenHash, "at_hash"), (R::CodeHash, "c_hash")] {
            if claims.claims.contains_key(claim) {
                self.checks
                    .passed(Rule::IdToken(rule), Some(format!("{claim} matches")));
            } else {
                not_applicable(&mut self.checks, rule, &format!("no {claim} in the token"));
            }
        }
        match asked_level {
            Some(asked) => self.checks.passed(
                Rule::IdToken(R::AssuranceLevel),
                Some(format!(
                    "level {}, asked {asked}",
                    level.map_or("none".to_owned(), |level| level.to_string())
                )),
            ),
            None => not_applicable(
                &mut self.checks,
                R::AssuranceLevel,
                "no level asked (no acr_values)",
            ),
        }
        match held.min_id_assurance_level {
            Some(minimum) => self.checks.passed(
                Rule::IdToken(R::IdAssuranceLevel),
                Some(format!(
                    "level {}, at least {minimum}",
                    id_level.map_or("none".to_owned(), |level| level.to_string())
                )),
            ),
            None => not_applicable(
                &mut self.checks,
                R::IdAssuranceLevel,
                "the profile sets no minimum",
            ),
        }
        match (held.max_age, claims.auth_time) {
            (Some(max_age), Some(auth_time)) => self.checks.passed(
                Rule::IdToken(R::MaxAge),
                Some(format!("auth_time {auth_time}, max_age {max_age} s")),
            ),
            _ => not_applicable(&mut self.checks, R::MaxAge, "no max_age asked"),
        }
        self.claims.id_token = Some(Value::Object(claims.claims.clone()));
        self.claims.id_token_verified = true;
        self.returned = Some(returned_of(self.claims.id_token.as_ref()));
    }

    pub fn userinfo(&mut self, userinfo: &Map<String, Value>) {
        self.claims.userinfo = Some(Value::Object(userinfo.clone()));
    }

    pub fn role(&mut self, choice: &RoleChoice) {
        let how = match choice {
            RoleChoice::Selected(_) => "selected",
            RoleChoice::Automatic(_) => "automatic",
            RoleChoice::Requested(_) => "requested",
            RoleChoice::Remembered(_) => "remembered",
            RoleChoice::Ask(_) => {
                self.checks.passed(
                    Rule::Role,
                    Some("several roles: the user chooses".to_owned()),
                );
                return;
            }
            RoleChoice::NoRoles => {
                self.checks
                    .not_applicable(Rule::Role, "the user holds no roles");
                return;
            }
        };
        if let (Some(role), Some(returned)) = (choice.role(), self.returned.as_mut()) {
            self.checks
                .passed(Rule::Role, Some(format!("{} ({how})", role.person_roleid)));
            returned.role = Some(RoleTaken {
                person_roleid: role.person_roleid.clone(),
                name: role.job_role_name().to_owned(),
                org_code: role.org_code.clone(),
                how: how.to_owned(),
            });
        }
    }

    /// The attempt as it ended: `outcome` is the sign-in's result, `no_roles` whether it
    /// signed in a user with no roles.
    pub fn finish(
        mut self,
        outcome: Result<bool, &SignInError>,
        timings: &[Timing],
        now: std::time::SystemTime,
    ) -> Attempt {
        let (verdict, error) = match outcome {
            Ok(no_roles) => (
                if no_roles {
                    Verdict::NoRoles
                } else {
                    Verdict::SignedIn
                },
                None,
            ),
            Err(error) => {
                let message = error.to_string();
                match failed_rule(error) {
                    Some(Rule::IdToken(rule)) => self.checks.id_token_failed(rule, message.clone()),
                    Some(rule) => self.checks.failed(rule, message.clone()),
                    None => {}
                }
                (
                    Verdict::of(error),
                    Some(AttemptError {
                        code: error.code().to_owned(),
                        class: error.class().as_str().to_owned(),
                        message,
                        provider_error: provider_error(error),
                    }),
                )
            }
        };
        let mut timings: Vec<StepTiming> = timings
            .iter()
            .map(|timing| StepTiming {
                step: timing.step.to_owned(),
                millis: timing.millis,
            })
            .collect();
        let finished_at = crate::time::unix_seconds(now);
        timings.push(StepTiming {
            step: "total".to_owned(),
            millis: u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        });
        Attempt {
            format: FORMAT,
            id: self.id,
            careid_version: env!("CARGO_PKG_VERSION").to_owned(),
            label: self.label,
            started_at: Time::at(self.started_at),
            finished_at: Time::at(finished_at),
            profile: self.profile,
            asked: self.asked,
            verdict,
            error,
            returned: self.returned,
            checks: self.checks.into_checks(),
            headers: self.headers,
            times: self.times,
            timings,
            claims: self.claims,
            stray_callbacks: self.stray_callbacks,
            timeline: Vec::new(),
        }
    }
}

/// What the ID token was held to, for the passed checks' details.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenHeld {
    pub skew_seconds: u64,
    pub absolute_limit_hours: u32,
    pub max_age: Option<u32>,
    pub asked_level: Option<u8>,
    pub min_id_assurance_level: Option<u8>,
}

/// What came back, read from the ID token's claims (verified or not: the record says which).
fn returned_of(claims: Option<&Value>) -> Returned {
    let Some(claims) = claims else {
        return Returned::default();
    };
    let text = |name: &str| match claims.get(name) {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    };
    let amr = match claims.get("amr") {
        Some(Value::Array(values)) => values
            .iter()
            .filter_map(Value::as_str)
            .map(AmrValue::of)
            .collect(),
        // CIS2 may send one value instead of a list (REFERENCE §5).
        Some(Value::String(value)) => vec![AmrValue::of(value)],
        _ => Vec::new(),
    };
    Returned {
        sub: text("sub"),
        acr: text("acr"),
        amr,
        authentication_assurance_level: text("authentication_assurance_level"),
        id_assurance_level: text("id_assurance_level"),
        auth_time: claims
            .get("auth_time")
            .and_then(Value::as_u64)
            .map(Time::at),
        auth_time_change: None,
        sid: text("sid"),
        selected_roleid: text("selected_roleid"),
        role: None,
    }
}

/// The provider's OAuth error code, when the provider answered with one (at the callback, the
/// token or PAR endpoint).
fn provider_error(error: &SignInError) -> Option<String> {
    match error {
        SignInError::Ended { source, .. } => provider_error(source),
        SignInError::Loopback(LoopbackError::Provider { error, .. })
        | SignInError::OAuth { error, .. }
        | SignInError::RedirectUriRefused { error, .. } => Some(error.clone()),
        _ => None,
    }
}

/// The rule an error broke, when it broke one.
fn failed_rule(error: &SignInError) -> Option<Rule> {
    match error {
        SignInError::Ended { source, .. } => failed_rule(source),
        SignInError::Loopback(
            LoopbackError::IssuerMismatch { .. } | LoopbackError::IssuerMissing,
        ) => Some(Rule::CallbackIssuer),
        SignInError::IdToken(error) => error.rule().map(Rule::IdToken),
        SignInError::OAuth {
            endpoint, error, ..
        } if *endpoint == "token" && error == "invalid_grant" => Some(Rule::Pkce),
        SignInError::OAuth { endpoint, .. } if endpoint.starts_with("pushed") => {
            Some(Rule::PushedRequest)
        }
        SignInError::RedirectUriRefused { .. } => Some(Rule::PushedRequest),
        SignInError::UserInfo(_) => Some(Rule::UserinfoSubject),
        SignInError::Claims(
            ClaimsError::SelectedRoleUnknown(_)
            | ClaimsError::SelectedRoleConflict { .. }
            | ClaimsError::RequestedRoleUnknown { .. },
        )
        | SignInError::UnknownRole(_) => Some(Rule::Role),
        SignInError::Claims(
            ClaimsError::NotJson(_) | ClaimsError::NotAnObject | ClaimsError::MissingSub,
        ) => Some(Rule::UserinfoSubject),
        _ => None,
    }
}
