//! The session as JSON: `login` ([`SessionJson`]), `role select` ([`RoleChangeJson`]), `status`
//! ([`SignedInStatus`], [`SignedOutStatus`]), `token` ([`TokenJson`], the one that holds a
//! token, because it was asked for), `userinfo`, `roles` and `logout`. The user and the role are
//! the shared objects of [`super::shared`].

use careid_core::signin::{
    BrokerCheck, LogoutOutcome, Session, SessionStatus, SignInError, Timing,
};
use careid_core::{EndReason, RoleChoice, RoleSelection, SessionEnd, SessionFacts};
use serde::Serialize;
use serde_json::{Map, Value};

use super::shared::{utc, OrganisationJson, RoleDetailJson, RoleJson, UserJson};

/// Claims as the provider sent them, passed through whole: their names are the provider's.
pub type Claims = Map<String, Value>;

/// The session's role: the one chosen, as the sign-in's UserInfo names it, else as the session
/// keeps it.
fn session_role(session: &Session) -> Option<RoleJson> {
    let chosen = session.role.as_ref().and_then(RoleChoice::role);
    match (chosen, session.identity.as_ref()) {
        (Some(role), Some(identity)) => Some(RoleJson::of(role, identity)),
        _ => RoleJson::of_facts(&session.facts),
    }
}

/// A signed-in session: what `login` prints.
#[derive(Debug, Serialize)]
pub struct SessionJson {
    /// The profile signed in to.
    pub profile: String,
    /// The provider's issuer, exactly as it publishes it.
    pub issuer: String,
    pub user: UserJson,
    /// The role the session works in; null when none is chosen (yet).
    pub role: Option<RoleJson>,
    /// How the role was chosen.
    pub role_choice: RoleChoiceJson,
    /// The user's roles (`nhsid_nrbac_roles`), in the order CIS2 sent them; null without
    /// UserInfo.
    pub roles: Option<Vec<RoleDetailJson>>,
    /// The user's organisations (`nhsid_user_orgs`); null without UserInfo.
    pub organisations: Option<Vec<OrganisationJson>>,
    /// The authentication assurance level (CIS2: 2 or 3); null when the provider did not say.
    pub authentication_assurance_level: Option<u8>,
    /// The ID token's identity assurance level (1 to 3); null when it did not say.
    pub id_assurance_level: Option<u8>,
    /// The ID token's `acr`; null when it has none or there is no ID token.
    pub acr: Option<String>,
    /// The ID token's `amr`, always a list; null when there is no ID token.
    pub amr: Option<Vec<String>>,
    /// When the user authenticated.
    pub auth_time: String,
    pub auth_time_unix: u64,
    /// The provider's session id (`sid`); null when it sent none.
    pub sid: Option<String>,
    /// Whether a refresh token is kept in the keychain.
    pub refreshable: bool,
    /// How long each step of the sign-in took.
    pub timings: Vec<TimingJson>,
    /// What of UserInfo was set aside as malformed, in words; null without UserInfo.
    pub warnings: Option<Vec<String>>,
    /// Every claim of the validated ID token, as sent; null when there is no ID token.
    pub id_token_claims: Option<Claims>,
    /// UserInfo's claims, as sent; null when UserInfo was not asked for.
    pub userinfo: Option<Claims>,
}

impl From<&Session> for SessionJson {
    fn from(session: &Session) -> Self {
        let identity = session.identity.as_ref();
        let claims = session.id_token.as_ref();
        Self {
            profile: session.profile.clone(),
            issuer: session.issuer.to_string(),
            user: UserJson::of(&session.facts),
            role: session_role(session),
            role_choice: session.role.as_ref().into(),
            roles: identity.map(RoleDetailJson::all),
            organisations: identity.map(|i| i.organisations.iter().map(Into::into).collect()),
            authentication_assurance_level: session.facts.assurance_level,
            id_assurance_level: claims.and_then(|c| c.id_assurance_level),
            acr: claims.and_then(|c| c.acr.clone()),
            amr: claims.map(|c| c.amr.clone()),
            auth_time: utc(session.facts.auth_time),
            auth_time_unix: session.facts.auth_time,
            sid: session.facts.sid.clone(),
            refreshable: session.refreshable,
            timings: session.timings.iter().map(Into::into).collect(),
            warnings: identity.map(|i| i.warnings().to_vec()),
            id_token_claims: claims.map(|c| c.claims.clone()),
            userinfo: session.userinfo.clone(),
        }
    }
}

/// How the session's role was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleChoiceJson {
    /// On CIS2's own role picker (the ID token's `selected_roleid`).
    Selected,
    /// The user's only role.
    Automatic,
    /// Named with `login --role`.
    Requested,
    /// The user's last choice for this profile.
    Remembered,
    /// Several roles and nothing to go on: the user is to choose (`careid role select`).
    Ask,
    /// The user holds no roles.
    NoRoles,
    /// Not decided: UserInfo was not asked for.
    Unknown,
}

impl From<Option<&RoleChoice>> for RoleChoiceJson {
    fn from(choice: Option<&RoleChoice>) -> Self {
        match choice {
            Some(RoleChoice::Selected(_)) => Self::Selected,
            Some(RoleChoice::Automatic(_)) => Self::Automatic,
            Some(RoleChoice::Requested(_)) => Self::Requested,
            Some(RoleChoice::Remembered(_)) => Self::Remembered,
            Some(RoleChoice::Ask(_)) => Self::Ask,
            Some(RoleChoice::NoRoles) => Self::NoRoles,
            None => Self::Unknown,
        }
    }
}

/// `role select`: the role the session works in now.
#[derive(Debug, Serialize)]
pub struct RoleChangeJson {
    pub profile: String,
    pub user: UserJson,
    /// The role now.
    pub role: Option<RoleJson>,
    /// Where it was chosen: `app` (careid's own list, no sign-in) or `cis2` (CIS2's picker,
    /// signing in again).
    pub chosen_in: &'static str,
    /// When the user authenticated: a change on CIS2's picker signs in again.
    pub auth_time: String,
    pub auth_time_unix: u64,
}

impl RoleChangeJson {
    pub fn new(session: &Session, selection: RoleSelection) -> Self {
        Self {
            profile: session.profile.clone(),
            user: UserJson::of(&session.facts),
            role: session_role(session),
            chosen_in: match selection {
                RoleSelection::App => "app",
                RoleSelection::Cis2 => "cis2",
            },
            auth_time: utc(session.facts.auth_time),
            auth_time_unix: session.facts.auth_time,
        }
    }
}

/// How long one step of a sign-in took.
#[derive(Debug, Clone, Serialize)]
pub struct TimingJson {
    /// The step, such as `discovery`.
    pub step: &'static str,
    pub millis: u64,
}

impl From<&Timing> for TimingJson {
    fn from(timing: &Timing) -> Self {
        Self {
            step: timing.step,
            millis: timing.millis,
        }
    }
}

/// `status` with a session.
#[derive(Debug, Serialize)]
pub struct SignedInStatus {
    /// Always true here.
    pub signed_in: bool,
    pub profile: String,
    pub user: UserJson,
    /// The session's role; null until one is chosen.
    pub role: Option<RoleJson>,
    /// The authentication assurance level; null when the provider did not say.
    pub authentication_assurance_level: Option<u8>,
    /// The provider's session id; null when it sent none.
    pub sid: Option<String>,
    /// When the user authenticated: the absolute limit runs from here.
    pub auth_time: String,
    pub auth_time_unix: u64,
    /// The last activity: the inactivity limit runs from here.
    pub last_activity: String,
    pub last_activity_unix: u64,
    /// When the absolute limit ends the session.
    pub ends_at: String,
    pub ends_at_unix: u64,
    /// When inactivity ends it, unless there is activity first.
    pub idle_ends_at: String,
    pub idle_ends_at_unix: u64,
    /// Whether a refresh token is kept in the keychain.
    pub refreshable: bool,
    /// Without a refresh token, when the session's tokens expire and it ends with them; null
    /// with a refresh token.
    pub tokens_end_at: Option<String>,
    pub tokens_end_at_unix: Option<u64>,
    /// Through a broker: whether it could be asked if the provider ended the session.
    pub broker: BrokerJson,
    /// `broker` in words; null without a broker.
    pub broker_detail: Option<String>,
}

impl From<&SessionStatus> for SignedInStatus {
    fn from(status: &SessionStatus) -> Self {
        let facts = &status.facts;
        Self {
            signed_in: true,
            profile: facts.profile.clone(),
            user: UserJson::of(facts),
            role: RoleJson::of_facts(facts),
            authentication_assurance_level: facts.assurance_level,
            sid: facts.sid.clone(),
            auth_time: utc(facts.auth_time),
            auth_time_unix: facts.auth_time,
            last_activity: utc(facts.last_activity),
            last_activity_unix: facts.last_activity,
            ends_at: utc(status.ends_at),
            ends_at_unix: status.ends_at,
            idle_ends_at: utc(status.idle_ends_at),
            idle_ends_at_unix: status.idle_ends_at,
            refreshable: status.refreshable,
            tokens_end_at: status.tokens_end_at.map(utc),
            tokens_end_at_unix: status.tokens_end_at,
            broker: (&status.broker).into(),
            broker_detail: status.broker.describe(),
        }
    }
}

/// What the broker said of the session when careid last asked.
#[derive(Debug, Clone, Serialize)]
pub struct BrokerJson {
    pub state: BrokerState,
    /// Why the broker could not be asked; only with `state: not_asked`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BrokerState {
    /// The profile has no broker.
    NotUsed,
    /// The broker says the provider has not ended the session.
    Active,
    /// The broker could not be asked; the session stays.
    NotAsked,
}

impl From<&BrokerCheck> for BrokerJson {
    fn from(check: &BrokerCheck) -> Self {
        let (state, reason) = match check {
            BrokerCheck::NotUsed => (BrokerState::NotUsed, None),
            BrokerCheck::Active => (BrokerState::Active, None),
            BrokerCheck::NotAsked { reason } => (BrokerState::NotAsked, Some(reason.clone())),
        };
        Self { state, reason }
    }
}

/// `status` without a session (it then exits 8).
#[derive(Debug, Serialize)]
pub struct SignedOutStatus {
    /// Always false here.
    pub signed_in: bool,
    pub profile: String,
    /// Why there is no session: an end's code (as `ended.reason`), or the error's code, such as
    /// `not_signed_in`.
    pub reason: &'static str,
    /// Why there is no session, in words.
    pub message: String,
    /// The end of the last session, when careid ended it; null otherwise.
    pub ended: Option<EndedJson>,
}

impl SignedOutStatus {
    /// `profile` has no session, for `error`; `ended` is the end careid recorded, if any.
    pub fn new(profile: &str, error: &SignInError, ended: Option<EndedJson>) -> Self {
        Self {
            signed_in: false,
            profile: profile.to_owned(),
            reason: error.end_reason().map_or(error.code(), EndReason::code),
            message: error.to_string(),
            ended,
        }
    }
}

/// How the last session ended: the record careid kept, or only why when it kept none.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EndedJson {
    Recorded {
        /// Why, by code (the same code as the desktop app's notice).
        reason: &'static str,
        /// When careid ended it.
        at: String,
        at_unix: u64,
        /// The user whose session it was (the record keeps the id only).
        user: UserJson,
        /// When that session's user had signed in: with `user`, which sign-in ended.
        auth_time: String,
        auth_time_unix: u64,
        /// In words, for people; never to branch on.
        detail: String,
    },
    ReasonOnly {
        reason: &'static str,
    },
}

impl From<&SessionEnd> for EndedJson {
    fn from(end: &SessionEnd) -> Self {
        Self::Recorded {
            reason: end.reason.code(),
            at: utc(end.at),
            at_unix: end.at,
            user: UserJson::id_only(&end.sub),
            auth_time: utc(end.auth_time),
            auth_time_unix: end.auth_time,
            detail: end.detail.clone(),
        }
    }
}

impl From<EndReason> for EndedJson {
    fn from(reason: EndReason) -> Self {
        Self::ReasonOnly {
            reason: reason.code(),
        }
    }
}

/// `token`: the token asked for (the one output that holds one), and when it expires.
#[derive(Debug, Serialize)]
pub struct TokenJson<'a> {
    pub token: &'a str,
    /// `access_token` or `id_token`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When it expires; null when the provider did not say.
    pub expires_at: Option<String>,
    pub expires_at_unix: Option<u64>,
}

impl<'a> TokenJson<'a> {
    pub fn new(token: &'a str, kind: &'static str, expires_at_unix: Option<u64>) -> Self {
        Self {
            token,
            kind,
            expires_at: expires_at_unix.map(utc),
            expires_at_unix,
        }
    }
}

/// `userinfo`: UserInfo's claims as the provider sent them; null when it was not asked for.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct UserInfoJson(pub Option<Claims>);

impl From<&Session> for UserInfoJson {
    fn from(session: &Session) -> Self {
        Self(session.userinfo.clone())
    }
}

/// `roles`: the user's roles and organisations.
#[derive(Debug, Serialize)]
pub struct RolesJson {
    pub user: UserJson,
    /// The session's role; null until one is chosen.
    pub role: Option<RoleJson>,
    /// Every role, in the order CIS2 sent them.
    pub roles: Vec<RoleDetailJson>,
    /// The organisations the user holds roles in, in the order of their first role.
    pub organisations: Vec<OrganisationJson>,
}

impl RolesJson {
    pub fn new(session: &Session, identity: &careid_core::Identity) -> Self {
        Self {
            user: UserJson::of(&session.facts),
            role: session_role(session),
            roles: RoleDetailJson::all(identity),
            organisations: identity
                .role_groups()
                .iter()
                .map(|group| (&group.organisation).into())
                .collect(),
        }
    }
}

/// `logout`: how the sign-out went. Never the ID token.
#[derive(Debug, Serialize)]
pub struct LogoutJson {
    pub profile: String,
    /// The user whose session was ended; null when there was none.
    pub signed_out: Option<UserJson>,
    /// The role that session worked in; null when none was chosen or there was no session.
    pub role: Option<RoleJson>,
    /// `revoked`, `not_advertised`, `no_refresh_token`, `no_session` or `failed`.
    pub revocation: &'static str,
    /// Why revocation failed, in words; null unless it failed.
    pub revocation_error: Option<String>,
    /// The provider's end-session URL, as printed: never with `id_token_hint`; null when it
    /// publishes none.
    pub end_session_url: Option<String>,
    /// Whether `logout --browser` sends the ID token as `id_token_hint` to end the provider's
    /// browser session too (the token was at hand); the printed URL never carries it.
    pub browser_sends_id_token_hint: bool,
}

impl LogoutJson {
    /// `before` is what the session kept before it was ended, to name its user and role.
    pub fn new(profile: &str, outcome: &LogoutOutcome, before: Option<&SessionFacts>) -> Self {
        let before = before.filter(|facts| Some(&facts.sub) == outcome.signed_out.as_ref());
        Self {
            profile: profile.to_owned(),
            signed_out: match before {
                Some(facts) => Some(UserJson::of(facts)),
                None => outcome.signed_out.as_deref().map(UserJson::id_only),
            },
            role: before.and_then(RoleJson::of_facts),
            revocation: outcome.revocation,
            revocation_error: outcome.revocation_error.clone(),
            end_session_url: outcome.end_session_url.clone(),
            browser_sends_id_token_hint: outcome.id_token_hint,
        }
    }
}

#[cfg(test)]
mod tests {
    use careid_core::signin::{
        BrokerCheck, LogoutOutcome, Session, SessionStatus, SignInError, Timing, Tokens,
    };
    use careid_core::{
        AccessToken, EndReason, IdTokenClaims, Identity, RoleChoice, RoleSelection, SessionEnd,
        SessionFacts, SignedOutReason,
    };
    use serde_json::{Map, Value};

    use super::*;
    use crate::json::assert_json;

    fn object(text: &str) -> Map<String, Value> {
        serde_json::from_str(text).expect("a JSON object")
    }

    /// UserInfo with one role, one organisation and one role set aside as malformed.
    fn userinfo() -> Map<String, Value> {
        object(
            r#"{
                "sub": "555057896106",
                "name": "Flo Nurse",
                "nhsid_user_orgs": [{"org_code": "A9A5A", "org_name": "NHSID DEV"}],
                "nhsid_nrbac_roles": [
                    {
                        "person_roleid": "555057898108",
                        "person_orgid": "555057897107",
                        "org_code": "A9A5A",
                        "role_code": "S8000:G8000:R8001",
                        "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
                        "activities": ["View Clinical Summary"],
                        "activity_codes": ["B0264"]
                    },
                    {"person_roleid": "555057898109"}
                ]
            }"#,
        )
    }

    fn identity() -> Identity {
        Identity::from_userinfo(&Value::Object(userinfo())).expect("valid UserInfo")
    }

    fn facts() -> SessionFacts {
        SessionFacts {
            profile: "mock".to_owned(),
            sub: "555057896106".to_owned(),
            name: Some("Flo Nurse".to_owned()),
            auth_time: 1_796_617_127,
            last_activity: 1_796_617_200,
            selected_role_id: Some("555057898108".to_owned()),
            role: Some(careid_core::RoleLabel::of(
                &identity().roles[0],
                &identity(),
            )),
            sid: Some("sid-1".to_owned()),
            assurance_level: Some(3),
            stored_at: 1_796_617_200,
        }
    }

    fn session(with_claims: bool) -> Session {
        let identity = identity();
        let role = identity.roles[0].clone();
        Session {
            profile: "mock".to_owned(),
            issuer: careid_core::IssuerUrl::new("https://provider.example/realm").unwrap(),
            tokens: Tokens {
                access_token: AccessToken::new("access-token-never-printed".to_owned()),
                id_token: None,
                expires_at: None,
                scope: None,
            },
            id_token: with_claims.then(|| IdTokenClaims {
                sub: "555057896106".to_owned(),
                iss: "https://provider.example/realm".to_owned(),
                aud: vec!["client".to_owned()],
                azp: None,
                exp: 1_796_620_727,
                iat: 1_796_617_127,
                nbf: None,
                auth_time: Some(1_796_617_127),
                nonce: None,
                acr: Some("AAL3_ANY".to_owned()),
                amr: vec!["N3_SMARTCARD".to_owned()],
                sid: Some("sid-1".to_owned()),
                selected_roleid: None,
                authentication_assurance_level: Some(3),
                id_assurance_level: Some(3),
                claims: object(r#"{"sub": "555057896106", "acr": "AAL3_ANY"}"#),
            }),
            userinfo: with_claims.then(userinfo),
            identity: with_claims.then_some(identity),
            role: with_claims.then_some(RoleChoice::Automatic(role)),
            facts: facts(),
            refreshable: true,
            timings: vec![Timing {
                step: "discovery",
                millis: 12,
            }],
            stray_callbacks: 0,
            attempt_id: None,
        }
    }

    const ROLE: &str = r#"{
    "id": "555057898108",
    "job_role": "Nurse Access Role",
    "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
    "role_code": "S8000:G8000:R8001",
    "organisation": {
      "code": "A9A5A",
      "name": "NHSID DEV"
    }
  }"#;

    const USER: &str = r#"{
    "id": "555057896106",
    "name": "Flo Nurse"
  }"#;

    #[test]
    fn a_session_prints_the_shared_user_and_role_and_no_token() {
        let printed = serde_json::to_string(&SessionJson::from(&session(true))).unwrap();
        assert!(!printed.contains("access-token-never-printed"), "{printed}");
        assert_json(
            &SessionJson::from(&session(true)),
            &format!(
                r#"
{{
  "profile": "mock",
  "issuer": "https://provider.example/realm",
  "user": {USER},
  "role": {ROLE},
  "role_choice": "automatic",
  "roles": [
    {{
      "id": "555057898108",
      "job_role": "Nurse Access Role",
      "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
      "role_code": "S8000:G8000:R8001",
      "organisation": {{
        "code": "A9A5A",
        "name": "NHSID DEV"
      }},
      "person_orgid": "555057897107",
      "activities": [
        "View Clinical Summary"
      ],
      "activity_codes": [
        "B0264"
      ],
      "aow": [],
      "aow_codes": [],
      "workgroups": [],
      "workgroups_codes": []
    }}
  ],
  "organisations": [
    {{
      "code": "A9A5A",
      "name": "NHSID DEV"
    }}
  ],
  "authentication_assurance_level": 3,
  "id_assurance_level": 3,
  "acr": "AAL3_ANY",
  "amr": [
    "N3_SMARTCARD"
  ],
  "auth_time": "2026-12-07T04:18:47Z",
  "auth_time_unix": 1796617127,
  "sid": "sid-1",
  "refreshable": true,
  "timings": [
    {{
      "step": "discovery",
      "millis": 12
    }}
  ],
  "warnings": [
    "role 1 (555057898109) of nhsid_nrbac_roles lacks person_orgid, org_code, role_code, role_name and was skipped"
  ],
  "id_token_claims": {{
    "acr": "AAL3_ANY",
    "sub": "555057896106"
  }},
  "userinfo": {{
    "name": "Flo Nurse",
    "nhsid_nrbac_roles": [
      {{
        "activities": [
          "View Clinical Summary"
        ],
        "activity_codes": [
          "B0264"
        ],
        "org_code": "A9A5A",
        "person_orgid": "555057897107",
        "person_roleid": "555057898108",
        "role_code": "S8000:G8000:R8001",
        "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\""
      }},
      {{
        "person_roleid": "555057898109"
      }}
    ],
    "nhsid_user_orgs": [
      {{
        "org_code": "A9A5A",
        "org_name": "NHSID DEV"
      }}
    ],
    "sub": "555057896106"
  }}
}}"#
            ),
        );
    }

    /// Without an ID token or UserInfo (a refresh that returned neither), what is unknown is
    /// null, never absent; the role is the one the session keeps.
    #[test]
    fn a_session_without_claims_prints_nulls() {
        assert_json(
            &SessionJson::from(&session(false)),
            &format!(
                r#"
{{
  "profile": "mock",
  "issuer": "https://provider.example/realm",
  "user": {USER},
  "role": {ROLE},
  "role_choice": "unknown",
  "roles": null,
  "organisations": null,
  "authentication_assurance_level": 3,
  "id_assurance_level": null,
  "acr": null,
  "amr": null,
  "auth_time": "2026-12-07T04:18:47Z",
  "auth_time_unix": 1796617127,
  "sid": "sid-1",
  "refreshable": true,
  "timings": [
    {{
      "step": "discovery",
      "millis": 12
    }}
  ],
  "warnings": null,
  "id_token_claims": null,
  "userinfo": null
}}"#
            ),
        );
        assert_json(&UserInfoJson::from(&session(false)), "null");
    }

    #[test]
    fn every_role_choice_has_its_code() {
        let role = identity().roles[0].clone();
        let cases = [
            (Some(RoleChoice::Selected(role.clone())), "\"selected\""),
            (Some(RoleChoice::Automatic(role.clone())), "\"automatic\""),
            (Some(RoleChoice::Requested(role.clone())), "\"requested\""),
            (Some(RoleChoice::Remembered(role)), "\"remembered\""),
            (Some(RoleChoice::Ask(identity().role_groups())), "\"ask\""),
            (Some(RoleChoice::NoRoles), "\"no_roles\""),
            (None, "\"unknown\""),
        ];
        for (choice, expected) in cases {
            assert_json(&RoleChoiceJson::from(choice.as_ref()), expected);
        }
    }

    /// A role change says the role now and where it was chosen; nothing of a sign-in's claims.
    #[test]
    fn a_role_change_prints_the_role_now() {
        assert_json(
            &RoleChangeJson::new(&session(true), RoleSelection::App),
            &format!(
                r#"
{{
  "profile": "mock",
  "user": {USER},
  "role": {ROLE},
  "chosen_in": "app",
  "auth_time": "2026-12-07T04:18:47Z",
  "auth_time_unix": 1796617127
}}"#
            ),
        );
    }

    /// A session kept by an older careid has the role's id alone.
    #[test]
    fn a_role_kept_without_its_label_prints_its_id() {
        let mut facts = facts();
        facts.role = None;
        let role = crate::json::shared::RoleJson::of_facts(&facts).expect("a role");
        assert_eq!(role.id, "555057898108");
        assert_eq!(role.job_role, "");
        assert_eq!(role.role_name, None);
        facts.selected_role_id = None;
        assert_eq!(crate::json::shared::RoleJson::of_facts(&facts), None);
    }

    fn status(broker: BrokerCheck) -> SessionStatus {
        SessionStatus {
            facts: facts(),
            ends_at: 1_796_660_327,
            idle_ends_at: 1_796_618_100,
            refreshable: false,
            tokens_end_at: Some(1_796_620_727),
            broker,
        }
    }

    #[test]
    fn a_signed_in_status_prints_the_same_user_and_role_as_login() {
        assert_json(
            &SignedInStatus::from(&status(BrokerCheck::NotUsed)),
            &format!(
                r#"
{{
  "signed_in": true,
  "profile": "mock",
  "user": {USER},
  "role": {ROLE},
  "authentication_assurance_level": 3,
  "sid": "sid-1",
  "auth_time": "2026-12-07T04:18:47Z",
  "auth_time_unix": 1796617127,
  "last_activity": "2026-12-07T04:20:00Z",
  "last_activity_unix": 1796617200,
  "ends_at": "2026-12-07T16:18:47Z",
  "ends_at_unix": 1796660327,
  "idle_ends_at": "2026-12-07T04:35:00Z",
  "idle_ends_at_unix": 1796618100,
  "refreshable": false,
  "tokens_end_at": "2026-12-07T05:18:47Z",
  "tokens_end_at_unix": 1796620727,
  "broker": {{
    "state": "not_used"
  }},
  "broker_detail": null
}}"#
            ),
        );
    }

    #[test]
    fn a_broker_check_prints_its_state() {
        let cases = [
            (BrokerCheck::NotUsed, r#"{"state":"not_used"}"#),
            (BrokerCheck::Active, r#"{"state":"active"}"#),
            (
                BrokerCheck::NotAsked {
                    reason: "timed out".to_owned(),
                },
                r#"{"state":"not_asked","reason":"timed out"}"#,
            ),
        ];
        for (check, expected) in cases {
            let printed = serde_json::to_string(&BrokerJson::from(&check)).unwrap();
            assert_eq!(printed, expected);
        }
        let status = SignedInStatus::from(&status(BrokerCheck::Active));
        assert_eq!(status.broker_detail, BrokerCheck::Active.describe());
    }

    fn end(reason: EndReason) -> SessionEnd {
        SessionEnd {
            reason,
            at: 1_796_618_000,
            sub: "555057896106".to_owned(),
            auth_time: 1_796_617_127,
            detail: "no activity for 15 minutes".to_owned(),
        }
    }

    #[test]
    fn an_ended_session_prints_its_end() {
        let error = SignInError::SessionEnded {
            profile: "mock".to_owned(),
            end: end(EndReason::Inactivity),
        };
        let message = serde_json::to_string(&error.to_string()).unwrap();
        assert_json(
            &SignedOutStatus::new("mock", &error, Some((&end(EndReason::Inactivity)).into())),
            &format!(
                r#"
{{
  "signed_in": false,
  "profile": "mock",
  "reason": "inactivity",
  "message": {message},
  "ended": {{
    "reason": "inactivity",
    "at": "2026-12-07T04:33:20Z",
    "at_unix": 1796618000,
    "user": {{
      "id": "555057896106",
      "name": null
    }},
    "auth_time": "2026-12-07T04:18:47Z",
    "auth_time_unix": 1796617127,
    "detail": "no activity for 15 minutes"
  }}
}}"#
            ),
        );
    }

    #[test]
    fn never_signed_in_prints_no_end() {
        let error = SignInError::NotSignedIn {
            profile: "mock".to_owned(),
            reason: SignedOutReason::NoSession,
        };
        assert_json(
            &SignedOutStatus::new("mock", &error, None),
            r#"
{
  "signed_in": false,
  "profile": "mock",
  "reason": "not_signed_in",
  "message": "not signed in to profile \"mock\" (no stored session)",
  "ended": null
}"#,
        );
    }

    /// An end careid kept no record of (another end's record is there) is said by its reason.
    #[test]
    fn an_end_without_its_record_prints_the_reason_alone() {
        for reason in EndReason::ALL {
            let printed = serde_json::to_string(&EndedJson::from(reason)).unwrap();
            assert_eq!(printed, format!(r#"{{"reason":"{}"}}"#, reason.code()));
        }
    }

    #[test]
    fn a_token_prints_its_type_and_expiry() {
        assert_json(
            &TokenJson::new("eyJ.asked-for.token", "access_token", Some(1_796_620_727)),
            r#"
{
  "token": "eyJ.asked-for.token",
  "type": "access_token",
  "expires_at": "2026-12-07T05:18:47Z",
  "expires_at_unix": 1796620727
}"#,
        );
        assert_json(
            &TokenJson::new("eyJ.id.token", "id_token", None),
            r#"
{
  "token": "eyJ.id.token",
  "type": "id_token",
  "expires_at": null,
  "expires_at_unix": null
}"#,
        );
    }

    #[test]
    fn roles_print_the_user_the_role_and_the_organisations() {
        let session = session(true);
        assert_json(
            &RolesJson::new(&session, session.identity.as_ref().unwrap()),
            &format!(
                r#"
{{
  "user": {USER},
  "role": {ROLE},
  "roles": [
    {{
      "id": "555057898108",
      "job_role": "Nurse Access Role",
      "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
      "role_code": "S8000:G8000:R8001",
      "organisation": {{
        "code": "A9A5A",
        "name": "NHSID DEV"
      }},
      "person_orgid": "555057897107",
      "activities": [
        "View Clinical Summary"
      ],
      "activity_codes": [
        "B0264"
      ],
      "aow": [],
      "aow_codes": [],
      "workgroups": [],
      "workgroups_codes": []
    }}
  ],
  "organisations": [
    {{
      "code": "A9A5A",
      "name": "NHSID DEV"
    }}
  ]
}}"#
            ),
        );
    }

    #[test]
    fn userinfo_prints_the_claims_as_sent() {
        let printed = serde_json::to_string(&UserInfoJson::from(&session(true))).unwrap();
        assert_eq!(printed, serde_json::to_string(&userinfo()).unwrap());
    }

    /// The printed URL never holds the hint, and the field says what `--browser` would send.
    #[test]
    fn a_logout_prints_the_user_and_role_ended_and_no_hint() {
        let outcome = LogoutOutcome {
            signed_out: Some("555057896106".to_owned()),
            user: None,
            revocation: "failed",
            revocation_error: Some("the provider answered 503".to_owned()),
            end_session_url: Some("https://provider.example/end?client_id=c".to_owned()),
            id_token_hint: true,
            end_session_with_hint: Some(careid_core::SecretString::new(
                "https://provider.example/end?id_token_hint=secret-id-token".to_owned(),
            )),
        };
        let printed =
            serde_json::to_string(&LogoutJson::new("mock", &outcome, Some(&facts()))).unwrap();
        assert!(!printed.contains("secret-id-token"), "{printed}");
        assert_json(
            &LogoutJson::new("mock", &outcome, Some(&facts())),
            &format!(
                r#"
{{
  "profile": "mock",
  "signed_out": {USER},
  "role": {ROLE},
  "revocation": "failed",
  "revocation_error": "the provider answered 503",
  "end_session_url": "https://provider.example/end?client_id=c",
  "browser_sends_id_token_hint": true
}}"#
            ),
        );
        let mut other = facts();
        other.sub = "555057896107".to_owned();
        let named_by_id = LogoutJson::new("mock", &outcome, Some(&other));
        assert_eq!(named_by_id.signed_out.unwrap().name, None);
        assert_eq!(named_by_id.role, None);
    }
}
