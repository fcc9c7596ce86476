//! Modes: CIS2 as it may really be, for testers to rehearse. Each mode is a variation of CIS2's
//! answers that the reference leaves open (REFERENCE §1, §3, §5, §6, §8): a leaner discovery
//! document, error redirects without the RFC 9207 `iss`, `amr` as one string, the national RBAC
//! roles shaped otherwise, a provider clock that is off. A mode stays on until switched off;
//! unlike a fault it counts no requests. `MODES.md` says what each does and what a client must
//! do. They are switched on with the builder ([`crate::MockCis2::mode`]), `careid mock serve
//! --mode`, the admin page, or the JSON admin endpoint (`admin_api.rs`); each is applied here,
//! at the one place its output is made.

use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use serde_json::{json, Map, Value};

use crate::clients::RegisteredClient;
use crate::provider::{Provider, PushedRequests};
use crate::store::UnixTime;

mod admin_api;

pub(crate) use admin_api::{admin_list, admin_set, admin_switch_off_all};

/// The fields of a national RBAC role that CIS2 always sends (REFERENCE §6).
pub const REQUIRED_ROLE_FIELDS: &[&str] = &[
    "person_orgid",
    "person_roleid",
    "org_code",
    "role_code",
    "role_name",
];

/// The fields of a national RBAC role that CIS2 may leave out (REFERENCE §6): what
/// `role_fields_missing` drops when it names none.
pub const OPTIONAL_ROLE_FIELDS: &[&str] = &[
    "activities",
    "activity_codes",
    "workgroups",
    "workgroups_codes",
    "aow",
    "aow_codes",
];

/// The longest clock skew a mode takes: a day either way is already far past any client's
/// allowance, and the bound keeps every time it shifts meaningful.
pub const MAX_CLOCK_SKEW_SECONDS: i64 = 86_400;

/// One way CIS2 may really answer. `MODES.md` describes each.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mode {
    /// Discovery without PAR, revocation, the RFC 9207 `iss` parameter or the refresh grant,
    /// and the provider behaves as it says: no `/par`, no `/token/revoke`, no `iss` in any
    /// redirect, no refresh tokens.
    LeanDiscovery,
    /// Error redirects carry no `iss`, though discovery advertises it; a code still does.
    ErrorsWithoutIss,
    /// `amr` is one string instead of a list of one.
    AmrAsString,
    /// A user's one role arrives as the role object itself, not a list of one.
    RolesAsObject,
    /// `person_roleid`, `person_orgid` and `selected_roleid` arrive as JSON numbers.
    RoleIdsAsNumbers,
    /// Each role lacks these fields (by default the optional ones).
    RoleFieldsMissing(Vec<String>),
    /// `authentication_assurance_level` and `id_assurance_level` arrive as numbers, not the
    /// strings CIS2 sends more often (REFERENCE §5).
    AssuranceLevelsAsNumbers,
    /// Every time the provider writes into a token (`iat`, `exp`, `nbf`, `auth_time`) is this
    /// many seconds off: positive ahead of the real time, negative behind it.
    ClockSkew(i64),
}

/// Every mode as [`Mode::from_str`] takes it, with what it does: for `--help`, the admin page's
/// list and the JSON endpoint's refusals.
pub const MODE_NAMES: &[(&str, &str)] = &[
    (
        "lean_discovery",
        "discovery without PAR, revocation, the iss parameter or the refresh grant",
    ),
    (
        "errors_without_iss",
        "error redirects without iss, though discovery advertises it",
    ),
    ("amr_as_string", "amr as one string, not a list"),
    (
        "roles_as_object",
        "one role as the object itself, not a list of one",
    ),
    (
        "role_ids_as_numbers",
        "person_roleid, person_orgid and selected_roleid as numbers",
    ),
    (
        "role_fields_missing[=FIELD,...]",
        "roles without these fields (by default the optional ones)",
    ),
    (
        "assurance_levels_as_numbers",
        "the assurance level claims as numbers, not strings",
    ),
    (
        "clock_skew=SECONDS",
        "the provider's clock SECONDS ahead (or behind, when negative)",
    ),
];

/// Whether `name` is a mode's name, without its value.
pub(crate) fn is_mode_name(name: &str) -> bool {
    MODE_NAMES
        .iter()
        .any(|(listed, _)| listed.split(['=', '[']).next() == Some(name))
}

/// A mode name that is not one of [`MODE_NAMES`], or a malformed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown mode {0:?}: expected NAME[=VALUE], see MODES.md")]
pub struct UnknownMode(pub String);

impl UnknownMode {
    pub fn code(&self) -> &'static str {
        "unknown_mode"
    }
}

impl Mode {
    /// The mode's name without its value: one mode of each name is on at a time.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::LeanDiscovery => "lean_discovery",
            Mode::ErrorsWithoutIss => "errors_without_iss",
            Mode::AmrAsString => "amr_as_string",
            Mode::RolesAsObject => "roles_as_object",
            Mode::RoleIdsAsNumbers => "role_ids_as_numbers",
            Mode::RoleFieldsMissing(_) => "role_fields_missing",
            Mode::AssuranceLevelsAsNumbers => "assurance_levels_as_numbers",
            Mode::ClockSkew(_) => "clock_skew",
        }
    }
}

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownMode(text.to_owned());
        let (name, value) = match text.trim().split_once('=') {
            Some((name, value)) => (name, Some(value.trim())),
            None => (text.trim(), None),
        };
        let mode = match (name, value) {
            ("lean_discovery", None) => Mode::LeanDiscovery,
            ("errors_without_iss", None) => Mode::ErrorsWithoutIss,
            ("amr_as_string", None) => Mode::AmrAsString,
            ("roles_as_object", None) => Mode::RolesAsObject,
            ("role_ids_as_numbers", None) => Mode::RoleIdsAsNumbers,
            ("role_fields_missing", None) => Mode::RoleFieldsMissing(
                OPTIONAL_ROLE_FIELDS.iter().map(|&f| f.to_owned()).collect(),
            ),
            ("role_fields_missing", Some(fields)) => {
                let fields: Vec<String> = fields
                    .split(',')
                    .map(str::trim)
                    .filter(|field| !field.is_empty())
                    .map(str::to_owned)
                    .collect();
                let known = |field: &String| {
                    REQUIRED_ROLE_FIELDS.contains(&field.as_str())
                        || OPTIONAL_ROLE_FIELDS.contains(&field.as_str())
                };
                if fields.is_empty() || !fields.iter().all(known) {
                    return Err(unknown());
                }
                Mode::RoleFieldsMissing(fields)
            }
            ("assurance_levels_as_numbers", None) => Mode::AssuranceLevelsAsNumbers,
            ("clock_skew", Some(seconds)) => Mode::ClockSkew(
                seconds
                    .strip_prefix('+')
                    .unwrap_or(seconds)
                    .parse::<i64>()
                    .ok()
                    .filter(|seconds| seconds.abs() <= MAX_CLOCK_SKEW_SECONDS)
                    .ok_or_else(unknown)?,
            ),
            _ => return Err(unknown()),
        };
        Ok(mode)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::RoleFieldsMissing(fields) => write!(f, "{}={}", self.name(), fields.join(",")),
            Mode::ClockSkew(seconds) => write!(f, "{}={seconds}", self.name()),
            other => f.write_str(other.name()),
        }
    }
}

/// The modes switched on in a running provider.
#[derive(Debug, Default)]
pub(crate) struct Modes(Mutex<Vec<Mode>>);

impl Modes {
    fn on(&self) -> std::sync::MutexGuard<'_, Vec<Mode>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Switches a mode on, replacing the mode of the same name (another clock skew, say).
    pub fn switch_on(&self, mode: Mode) {
        let mut modes = self.on();
        modes.retain(|existing| existing.name() != mode.name());
        tracing::warn!(mode = %mode, "mock CIS2 mode switched on");
        modes.push(mode);
    }

    /// Switches off the mode of this name; `false` when it was not on.
    pub fn switch_off(&self, name: &str) -> bool {
        let mut modes = self.on();
        let before = modes.len();
        modes.retain(|existing| existing.name() != name);
        modes.len() != before
    }

    pub fn switch_off_all(&self) {
        self.on().clear();
    }

    pub fn list(&self) -> Vec<Mode> {
        self.on().clone()
    }

    fn is_on(&self, wanted: &Mode) -> bool {
        self.on().iter().any(|mode| mode == wanted)
    }

    fn find<T>(&self, pick: impl Fn(&Mode) -> Option<T>) -> Option<T> {
        self.on().iter().find_map(pick)
    }

    fn lean(&self) -> bool {
        self.is_on(&Mode::LeanDiscovery)
    }
}

/// The discovery document as the modes shape it: lean drops PAR, revocation, `iss` and the
/// refresh grant.
pub(crate) fn discovery(provider: &Provider, document: &mut Value) {
    if !provider.modes.lean() {
        return;
    }
    if let Some(members) = document.as_object_mut() {
        for member in [
            "pushed_authorization_request_endpoint",
            "require_pushed_authorization_requests",
            "revocation_endpoint",
            "revocation_endpoint_auth_methods_supported",
            "authorization_response_iss_parameter_supported",
        ] {
            members.remove(member);
        }
        members.insert(
            "grant_types_supported".into(),
            json!(["authorization_code"]),
        );
    }
}

/// Whether pushed authorization requests are offered, required or off: the setting, unless
/// lean discovery turns them off.
pub(crate) fn pushed_requests(provider: &Provider) -> PushedRequests {
    if provider.modes.lean() {
        PushedRequests::Off
    } else {
        provider.settings.pushed_requests
    }
}

/// Whether the revocation endpoint is there: not under lean discovery.
pub(crate) fn revocation_offered(provider: &Provider) -> bool {
    !provider.modes.lean()
}

/// Whether `client` is issued refresh tokens: as registered, and never under lean discovery.
pub(crate) fn refresh_tokens(provider: &Provider, client: &RegisteredClient) -> bool {
    client.refresh_tokens && !provider.modes.lean()
}

/// Whether a redirect back to the client carries `iss` (RFC 9207 §2): not under lean discovery,
/// and not on an error redirect under `errors_without_iss`.
pub(crate) fn iss_in_redirect(provider: &Provider, error: bool) -> bool {
    !(provider.modes.lean() || (error && provider.modes.is_on(&Mode::ErrorsWithoutIss)))
}

/// Whether the assurance level claims are numbers rather than strings.
pub(crate) fn assurance_levels_as_numbers(provider: &Provider) -> bool {
    provider.modes.is_on(&Mode::AssuranceLevelsAsNumbers)
}

/// A time as the provider's clock tells it.
pub(crate) fn provider_time(provider: &Provider, real: UnixTime) -> UnixTime {
    match provider.modes.find(|mode| match mode {
        Mode::ClockSkew(seconds) => Some(*seconds),
        _ => None,
    }) {
        Some(seconds) => real.saturating_add_signed(seconds),
        None => real,
    }
}

/// The ID token's claims as the modes shape them, before any fault: its times by the provider's
/// clock, `amr` as one string, `selected_roleid` as a number.
pub(crate) fn id_token(provider: &Provider, claims: &mut Map<String, Value>) {
    token_times(provider, claims);
    if provider.modes.is_on(&Mode::AmrAsString) {
        if let Some(Value::Array(values)) = claims.get("amr") {
            if let [only] = values.as_slice() {
                let only = only.clone();
                claims.insert("amr".into(), only);
            }
        }
    }
    if provider.modes.is_on(&Mode::RoleIdsAsNumbers) {
        if let Some(id) = claims.get_mut("selected_roleid") {
            as_number(id);
        }
    }
}

/// A JWT's times (`iat`, `exp`, `nbf`, `auth_time`) by the provider's clock.
pub(crate) fn token_times(provider: &Provider, claims: &mut Map<String, Value>) {
    for name in ["iat", "exp", "nbf", "auth_time"] {
        if let Some(time) = claims.get(name).and_then(Value::as_u64) {
            claims.insert(name.into(), json!(provider_time(provider, time)));
        }
    }
}

/// UserInfo's claims as the modes shape them: the roles' ids as numbers, fields left out, and
/// one role as the object itself.
pub(crate) fn userinfo(provider: &Provider, claims: &mut Map<String, Value>) {
    let numbers = provider.modes.is_on(&Mode::RoleIdsAsNumbers);
    let missing = provider.modes.find(|mode| match mode {
        Mode::RoleFieldsMissing(fields) => Some(fields.clone()),
        _ => None,
    });
    let as_object = provider.modes.is_on(&Mode::RolesAsObject);
    let Some(Value::Array(roles)) = claims.get_mut("nhsid_nrbac_roles") else {
        return;
    };
    for role in roles.iter_mut().filter_map(Value::as_object_mut) {
        if numbers {
            for field in ["person_roleid", "person_orgid"] {
                if let Some(id) = role.get_mut(field) {
                    as_number(id);
                }
            }
        }
        for field in missing.iter().flatten() {
            role.remove(field);
        }
    }
    if as_object && roles.len() == 1 {
        let only = roles.remove(0);
        claims.insert("nhsid_nrbac_roles".into(), only);
    }
}

/// A text of digits as the number it spells; anything else is left as it is.
fn as_number(value: &mut Value) {
    if let Some(number) = value.as_str().and_then(|text| text.parse::<u64>().ok()) {
        *value = json!(number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_name_parses_and_prints_back() {
        for (name, _) in MODE_NAMES {
            let name = name
                .replace("[=FIELD,...]", "=activities,org_code")
                .replace("=SECONDS", "=-90");
            let mode: Mode = name.parse().unwrap_or_else(|error| panic!("{error}"));
            assert_eq!(mode.to_string(), name);
        }
    }

    #[test]
    fn values_are_checked() {
        let cases = [
            ("clock_skew=300", Some(Mode::ClockSkew(300))),
            ("clock_skew=+300", Some(Mode::ClockSkew(300))),
            ("clock_skew=-7200", Some(Mode::ClockSkew(-7200))),
            ("clock_skew=86401", None),
            ("clock_skew", None),
            ("clock_skew=soon", None),
            (
                "role_fields_missing=org_code",
                Some(Mode::RoleFieldsMissing(vec!["org_code".into()])),
            ),
            ("role_fields_missing=org_code,no_such_field", None),
            ("role_fields_missing=", None),
            ("lean_discovery=1", None),
            ("no_such_mode", None),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Mode>().ok(), expected, "{text}");
        }
        assert_eq!(
            "role_fields_missing".parse::<Mode>().unwrap().to_string(),
            format!("role_fields_missing={}", OPTIONAL_ROLE_FIELDS.join(","))
        );
    }

    #[test]
    fn a_mode_switched_on_again_replaces_the_one_of_its_name() {
        let modes = Modes::default();
        modes.switch_on(Mode::ClockSkew(60));
        modes.switch_on(Mode::AmrAsString);
        modes.switch_on(Mode::ClockSkew(-60));
        assert_eq!(modes.list(), [Mode::AmrAsString, Mode::ClockSkew(-60)]);
        assert!(modes.switch_off("clock_skew"));
        assert!(!modes.switch_off("clock_skew"));
        assert_eq!(modes.list(), [Mode::AmrAsString]);
    }
}
