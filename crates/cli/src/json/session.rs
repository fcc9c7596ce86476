//! The session as JSON: `login` and `role select` ([`SessionJson`]), `status`
//! ([`SignedInStatus`], [`SignedOutStatus`]), `userinfo`, `roles` and `logout`. Never a token.

use careid_core::signin::{
    BrokerCheck, LogoutOutcome, Session, SessionStatus, SignInError, Timing,
};
use careid_core::{EndReason, NrbacRole, Organisation, RoleChoice, SessionEnd};
use serde::Serialize;
use serde_json::{Map, Value};

/// Claims as the provider sent them, passed through whole: their names are the provider's.
pub type Claims = Map<String, Value>;

/// A signed-in session: what `login` and `role select` print.
#[derive(Debug, Serialize)]
pub struct SessionJson {
    /// The ID token's `acr`; null when it has none or there is no ID token.
    pub acr: Option<String>,
    /// The ID token's `amr`, always a list; null when there is no ID token.
    pub amr: Option<Vec<String>>,
    /// When the user authenticated (`auth_time`).
    pub auth_time: u64,
    /// The authentication assurance level (CIS2: 2 or 3); null when the provider did not say.
    pub authentication_assurance_level: Option<u8>,
    /// The ID token's identity assurance level (1 to 3); null when it did not say.
    pub id_assurance_level: Option<u8>,
    /// Every claim of the validated ID token, as sent; null when there is no ID token.
    pub id_token_claims: Option<Claims>,
    /// The provider's issuer, exactly as it publishes it.
    pub issuer: String,
    /// The user's name from UserInfo; null when UserInfo has none.
    pub name: Option<String>,
    /// The user's organisations (`nhsid_user_orgs`); null without UserInfo.
    pub organisations: Option<Vec<OrganisationJson>>,
    /// The profile signed in to.
    pub profile: String,
    /// Whether a refresh token is kept in the keychain.
    pub refreshable: bool,
    /// How the role was chosen.
    pub role_choice: RoleChoiceJson,
    /// The user's roles (`nhsid_nrbac_roles`), in the order CIS2 sent them; null without
    /// UserInfo.
    pub roles: Option<Vec<RoleJson>>,
    /// The role the session works in; null when none is chosen (yet).
    pub selected_role: Option<RoleJson>,
    /// The provider's session id (`sid`); null when it sent none.
    pub sid: Option<String>,
    /// The user's id (`sub`).
    pub sub: String,
    /// How long each step of the sign-in took.
    pub timings: Vec<TimingJson>,
    /// UserInfo's claims, as sent; null when UserInfo was not asked for.
    pub userinfo: Option<Claims>,
    /// What of UserInfo was set aside as malformed, in words; null without UserInfo.
    pub warnings: Option<Vec<String>>,
}

impl From<&Session> for SessionJson {
    fn from(session: &Session) -> Self {
        let identity = session.identity.as_ref();
        let claims = session.id_token.as_ref();
        Self {
            acr: claims.and_then(|c| c.acr.clone()),
            amr: claims.map(|c| c.amr.clone()),
            auth_time: session.facts.auth_time,
            authentication_assurance_level: session.facts.assurance_level,
            id_assurance_level: claims.and_then(|c| c.id_assurance_level),
            id_token_claims: claims.map(|c| c.claims.clone()),
            issuer: session.issuer.to_string(),
            name: identity.and_then(|i| i.name.clone()),
            organisations: identity.map(|i| i.organisations.iter().map(Into::into).collect()),
            profile: session.profile.clone(),
            refreshable: session.refreshable,
            role_choice: session.role.as_ref().into(),
            roles: identity.map(|i| i.roles.iter().map(Into::into).collect()),
            selected_role: session
                .role
                .as_ref()
                .and_then(RoleChoice::role)
                .map(Into::into),
            sid: session.facts.sid.clone(),
            sub: session.facts.sub.clone(),
            timings: session.timings.iter().map(Into::into).collect(),
            userinfo: session.userinfo.clone(),
            warnings: identity.map(|i| i.warnings().to_vec()),
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

/// One national RBAC role, as `nhsid_nrbac_roles` gives it.
#[derive(Debug, Clone, Serialize)]
pub struct RoleJson {
    /// The activities' names.
    pub activities: Vec<String>,
    /// B-codes of the activities granted explicitly.
    pub activity_codes: Vec<String>,
    /// Areas of work.
    pub aow: Vec<String>,
    pub aow_codes: Vec<String>,
    /// The ODS code of the role's organisation.
    pub org_code: String,
    /// The user's membership of that organisation.
    pub person_orgid: String,
    /// The role's id: what `careid role select` takes.
    pub person_roleid: String,
    /// `S####:G####:R####`: staff group, job group, job role.
    pub role_code: String,
    /// The three names of `role_code`, each quoted.
    pub role_name: String,
    pub workgroups: Vec<String>,
    pub workgroups_codes: Vec<String>,
}

impl From<&NrbacRole> for RoleJson {
    fn from(role: &NrbacRole) -> Self {
        Self {
            activities: role.activities.clone(),
            activity_codes: role.activity_codes.clone(),
            aow: role.aow.clone(),
            aow_codes: role.aow_codes.clone(),
            org_code: role.org_code.clone(),
            person_orgid: role.person_orgid.clone(),
            person_roleid: role.person_roleid.clone(),
            role_code: role.role_code.clone(),
            role_name: role.role_name.clone(),
            workgroups: role.workgroups.clone(),
            workgroups_codes: role.workgroups_codes.clone(),
        }
    }
}

/// An organisation.
#[derive(Debug, Clone, Serialize)]
pub struct OrganisationJson {
    /// The ODS code.
    pub code: String,
    /// Its name; the ODS code when CIS2 did not name it.
    pub name: String,
}

impl From<&Organisation> for OrganisationJson {
    fn from(organisation: &Organisation) -> Self {
        Self {
            code: organisation.code.clone(),
            name: organisation.name.clone(),
        }
    }
}

/// How long one step of a sign-in took.
#[derive(Debug, Clone, Serialize)]
pub struct TimingJson {
    pub millis: u64,
    /// The step, such as `discovery`.
    pub step: &'static str,
}

impl From<&Timing> for TimingJson {
    fn from(timing: &Timing) -> Self {
        Self {
            millis: timing.millis,
            step: timing.step,
        }
    }
}

/// `status` with a session.
#[derive(Debug, Serialize)]
pub struct SignedInStatus {
    /// The authentication assurance level; null when the provider did not say.
    pub assurance_level: Option<u8>,
    /// When the user authenticated: the absolute limit runs from here.
    pub auth_time: u64,
    /// Through a broker: whether it could be asked if the provider ended the session.
    pub broker: BrokerJson,
    /// `broker` in words; null without a broker.
    pub broker_detail: Option<String>,
    /// When the absolute limit ends the session.
    pub ends_at: u64,
    /// When inactivity ends it, unless there is activity first.
    pub idle_ends_at: u64,
    /// The last activity: the inactivity limit runs from here.
    pub last_activity: u64,
    pub profile: String,
    /// Whether a refresh token is kept in the keychain.
    pub refreshable: bool,
    /// The selected role's `person_roleid`; null until a role is chosen.
    pub selected_role_id: Option<String>,
    /// The provider's session id; null when it sent none.
    pub sid: Option<String>,
    /// Always true here.
    pub signed_in: bool,
    pub sub: String,
    /// Without a refresh token, when the session's tokens expire and it ends with them; null
    /// with a refresh token.
    pub tokens_end_at: Option<u64>,
}

impl From<&SessionStatus> for SignedInStatus {
    fn from(status: &SessionStatus) -> Self {
        let facts = &status.facts;
        Self {
            assurance_level: facts.assurance_level,
            auth_time: facts.auth_time,
            broker: (&status.broker).into(),
            broker_detail: status.broker.describe(),
            ends_at: status.ends_at,
            idle_ends_at: status.idle_ends_at,
            last_activity: facts.last_activity,
            profile: facts.profile.clone(),
            refreshable: status.refreshable,
            selected_role_id: facts.selected_role_id.clone(),
            sid: facts.sid.clone(),
            signed_in: true,
            sub: facts.sub.clone(),
            tokens_end_at: status.tokens_end_at,
        }
    }
}

/// What the broker said of the session when careid last asked.
#[derive(Debug, Clone, Serialize)]
pub struct BrokerJson {
    /// Why the broker could not be asked; only with `state: not_asked`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub state: BrokerState,
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
        Self { reason, state }
    }
}

/// `status` without a session (it then exits 8).
#[derive(Debug, Serialize)]
pub struct SignedOutStatus {
    /// The end of the last session, when careid ended it; null otherwise.
    pub ended: Option<EndedJson>,
    /// Why there is no session, in words.
    pub message: String,
    pub profile: String,
    /// Why there is no session: an end's code (as `ended.reason`), or the error's code, such as
    /// `not_signed_in`.
    pub reason: &'static str,
    /// Always false here.
    pub signed_in: bool,
}

impl SignedOutStatus {
    /// `profile` has no session, for `error`; `ended` is the end careid recorded, if any.
    pub fn new(profile: &str, error: &SignInError, ended: Option<EndedJson>) -> Self {
        Self {
            ended,
            message: error.to_string(),
            profile: profile.to_owned(),
            reason: error.end_reason().map_or(error.code(), EndReason::code),
            signed_in: false,
        }
    }
}

/// How the last session ended: the record careid kept, or only why when it kept none.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EndedJson {
    Recorded {
        /// When careid ended it.
        at: u64,
        /// When that session's user had signed in: with `sub`, which sign-in ended.
        auth_time: u64,
        /// In words, for people; never to branch on.
        detail: String,
        /// Why, by code (the same code as the desktop app's notice).
        reason: &'static str,
        /// The user whose session it was.
        sub: String,
    },
    ReasonOnly {
        reason: &'static str,
    },
}

impl From<&SessionEnd> for EndedJson {
    fn from(end: &SessionEnd) -> Self {
        Self::Recorded {
            at: end.at,
            auth_time: end.auth_time,
            detail: end.detail.clone(),
            reason: end.reason.code(),
            sub: end.sub.clone(),
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
    /// The organisations the user holds roles in, in the order of their first role.
    pub organisations: Vec<OrganisationJson>,
    /// Every role, in the order CIS2 sent them.
    pub roles: Vec<RoleJson>,
    /// The session's role; null until one is chosen.
    pub selected_role_id: Option<String>,
}

impl RolesJson {
    pub fn new(identity: &careid_core::Identity, selected_role_id: Option<&str>) -> Self {
        Self {
            organisations: identity
                .role_groups()
                .iter()
                .map(|group| (&group.organisation).into())
                .collect(),
            roles: identity.roles.iter().map(Into::into).collect(),
            selected_role_id: selected_role_id.map(str::to_owned),
        }
    }
}

/// `logout`: how the sign-out went. Never the ID token.
#[derive(Debug, Serialize)]
pub struct LogoutJson {
    /// The user id of the session that was ended; null when there was none.
    pub signed_out: Option<String>,
    /// `revoked`, `not_advertised`, `no_refresh_token`, `no_session` or `failed`.
    pub revocation: &'static str,
    /// Why revocation failed, in words; null unless it failed.
    pub revocation_error: Option<String>,
    /// The provider's end-session URL, never with `id_token_hint`; null when it publishes none.
    pub end_session_url: Option<String>,
    /// Whether the ID token was at hand as `id_token_hint` (only `--browser` sends it).
    pub id_token_hint: bool,
}

impl From<&LogoutOutcome> for LogoutJson {
    fn from(outcome: &LogoutOutcome) -> Self {
        Self {
            signed_out: outcome.signed_out.clone(),
            revocation: outcome.revocation,
            revocation_error: outcome.revocation_error.clone(),
            end_session_url: outcome.end_session_url.clone(),
            id_token_hint: outcome.id_token_hint,
        }
    }
}

#[cfg(test)]
mod tests {
    use careid_core::signin::{
        BrokerCheck, LogoutOutcome, Session, SessionStatus, SignInError, Timing, Tokens,
    };
    use careid_core::{
        AccessToken, EndReason, IdTokenClaims, Identity, RoleChoice, SessionEnd, SessionFacts,
        SignedOutReason,
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
            name: None,
            auth_time: 1_796_617_127,
            last_activity: 1_796_617_200,
            selected_role_id: Some("555057898108".to_owned()),
            role: None,
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

    #[test]
    fn a_session_prints_its_fields_sorted_and_no_token() {
        let printed = serde_json::to_string(&SessionJson::from(&session(true))).unwrap();
        assert!(!printed.contains("access-token-never-printed"), "{printed}");
        assert_json(
            &SessionJson::from(&session(true)),
            r#"
{
  "acr": "AAL3_ANY",
  "amr": [
    "N3_SMARTCARD"
  ],
  "auth_time": 1796617127,
  "authentication_assurance_level": 3,
  "id_assurance_level": 3,
  "id_token_claims": {
    "acr": "AAL3_ANY",
    "sub": "555057896106"
  },
  "issuer": "https://provider.example/realm",
  "name": "Flo Nurse",
  "organisations": [
    {
      "code": "A9A5A",
      "name": "NHSID DEV"
    }
  ],
  "profile": "mock",
  "refreshable": true,
  "role_choice": "automatic",
  "roles": [
    {
      "activities": [
        "View Clinical Summary"
      ],
      "activity_codes": [
        "B0264"
      ],
      "aow": [],
      "aow_codes": [],
      "org_code": "A9A5A",
      "person_orgid": "555057897107",
      "person_roleid": "555057898108",
      "role_code": "S8000:G8000:R8001",
      "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
      "workgroups": [],
      "workgroups_codes": []
    }
  ],
  "selected_role": {
    "activities": [
      "View Clinical Summary"
    ],
    "activity_codes": [
      "B0264"
    ],
    "aow": [],
    "aow_codes": [],
    "org_code": "A9A5A",
    "person_orgid": "555057897107",
    "person_roleid": "555057898108",
    "role_code": "S8000:G8000:R8001",
    "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
    "workgroups": [],
    "workgroups_codes": []
  },
  "sid": "sid-1",
  "sub": "555057896106",
  "timings": [
    {
      "millis": 12,
      "step": "discovery"
    }
  ],
  "userinfo": {
    "name": "Flo Nurse",
    "nhsid_nrbac_roles": [
      {
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
      },
      {
        "person_roleid": "555057898109"
      }
    ],
    "nhsid_user_orgs": [
      {
        "org_code": "A9A5A",
        "org_name": "NHSID DEV"
      }
    ],
    "sub": "555057896106"
  },
  "warnings": [
    "role 1 (555057898109) of nhsid_nrbac_roles lacks person_orgid, org_code, role_code, role_name and was skipped"
  ]
}"#,
        );
    }

    /// Without an ID token or UserInfo (a refresh that returned neither), what is unknown is
    /// null, never absent.
    #[test]
    fn a_session_without_claims_prints_nulls() {
        assert_json(
            &SessionJson::from(&session(false)),
            r#"
{
  "acr": null,
  "amr": null,
  "auth_time": 1796617127,
  "authentication_assurance_level": 3,
  "id_assurance_level": null,
  "id_token_claims": null,
  "issuer": "https://provider.example/realm",
  "name": null,
  "organisations": null,
  "profile": "mock",
  "refreshable": true,
  "role_choice": "unknown",
  "roles": null,
  "selected_role": null,
  "sid": "sid-1",
  "sub": "555057896106",
  "timings": [
    {
      "millis": 12,
      "step": "discovery"
    }
  ],
  "userinfo": null,
  "warnings": null
}"#,
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
    fn a_signed_in_status_prints_its_fields_sorted() {
        assert_json(
            &SignedInStatus::from(&status(BrokerCheck::NotUsed)),
            r#"
{
  "assurance_level": 3,
  "auth_time": 1796617127,
  "broker": {
    "state": "not_used"
  },
  "broker_detail": null,
  "ends_at": 1796660327,
  "idle_ends_at": 1796618100,
  "last_activity": 1796617200,
  "profile": "mock",
  "refreshable": false,
  "selected_role_id": "555057898108",
  "sid": "sid-1",
  "signed_in": true,
  "sub": "555057896106",
  "tokens_end_at": 1796620727
}"#,
        );
    }

    /// The broker's state and reason, the reason first, as they have always come.
    #[test]
    fn a_broker_check_prints_its_state() {
        let cases = [
            (BrokerCheck::NotUsed, r#"{"state":"not_used"}"#),
            (BrokerCheck::Active, r#"{"state":"active"}"#),
            (
                BrokerCheck::NotAsked {
                    reason: "timed out".to_owned(),
                },
                r#"{"reason":"timed out","state":"not_asked"}"#,
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
  "ended": {{
    "at": 1796618000,
    "auth_time": 1796617127,
    "detail": "no activity for 15 minutes",
    "reason": "inactivity",
    "sub": "555057896106"
  }},
  "message": {message},
  "profile": "mock",
  "reason": "inactivity",
  "signed_in": false
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
  "ended": null,
  "message": "not signed in to profile \"mock\" (no stored session)",
  "profile": "mock",
  "reason": "not_signed_in",
  "signed_in": false
}"#,
        );
    }

    /// An end careid kept no record of (another end's record is there) is said by its reason.
    #[test]
    fn an_end_without_its_record_prints_the_reason_alone() {
        assert_json(
            &EndedJson::from(EndReason::EndedByProvider),
            r#"
{
  "reason": "ended_by_provider"
}"#,
        );
        for reason in EndReason::ALL {
            let printed = serde_json::to_string(&EndedJson::from(reason)).unwrap();
            assert_eq!(printed, format!(r#"{{"reason":"{}"}}"#, reason.code()));
        }
    }

    #[test]
    fn roles_print_the_organisations_of_the_roles() {
        assert_json(
            &RolesJson::new(&identity(), Some("555057898108")),
            r#"
{
  "organisations": [
    {
      "code": "A9A5A",
      "name": "NHSID DEV"
    }
  ],
  "roles": [
    {
      "activities": [
        "View Clinical Summary"
      ],
      "activity_codes": [
        "B0264"
      ],
      "aow": [],
      "aow_codes": [],
      "org_code": "A9A5A",
      "person_orgid": "555057897107",
      "person_roleid": "555057898108",
      "role_code": "S8000:G8000:R8001",
      "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
      "workgroups": [],
      "workgroups_codes": []
    }
  ],
  "selected_role_id": "555057898108"
}"#,
        );
    }

    #[test]
    fn userinfo_prints_the_claims_as_sent() {
        let printed = serde_json::to_string(&UserInfoJson::from(&session(true))).unwrap();
        assert_eq!(printed, serde_json::to_string(&userinfo()).unwrap());
    }

    /// Logout's fields in their own order (it was never sorted), and never the hint's URL.
    #[test]
    fn a_logout_prints_the_url_without_the_hint() {
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
        assert_json(
            &LogoutJson::from(&outcome),
            r#"
{
  "signed_out": "555057896106",
  "revocation": "failed",
  "revocation_error": "the provider answered 503",
  "end_session_url": "https://provider.example/end?client_id=c",
  "id_token_hint": true
}"#,
        );
    }
}
