//! The test users: loaded from a CIS2-shaped data file (REFERENCE §4 and §6), checked once, and
//! looked up by user id.

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::authenticators::Authenticator;
use crate::error::DataError;

/// The built-in users, shared with tests through the file itself.
pub const BUILTIN_USERS_JSON: &str = include_str!("../data/users.json");

#[derive(Debug, Deserialize)]
struct UsersFile {
    users: Vec<UserRecord>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRecord {
    description: String,
    authenticators: Vec<Authenticator>,
    /// The PIN the smartcard step asks for.
    #[serde(default)]
    smartcard_pin: Option<String>,
    /// The base32 TOTP secret the authenticator app step checks codes against.
    #[serde(default)]
    totp_secret: Option<String>,
    /// The development-only password.
    #[serde(default)]
    password: Option<String>,
    claims: Map<String, Value>,
}

/// One national RBAC role of a user, as far as the provider needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NrbacRole {
    /// `person_roleid`: what `selected_roleid` points at.
    pub person_roleid: String,
    pub org_code: String,
    pub role_code: String,
    pub role_name: String,
}

/// A test user: the full CIS2 UserInfo claims, and how the user can sign in.
#[derive(Debug, Clone)]
pub struct TestUser {
    id: String,
    description: String,
    authenticators: Vec<Authenticator>,
    roles: Vec<NrbacRole>,
    secrets: Secrets,
    claims: Map<String, Value>,
}

/// What the sign-in steps check. Test data, not credentials: `Debug` still hides them so a log
/// line never teaches anyone to paste them elsewhere.
#[derive(Clone, Default)]
struct Secrets {
    smartcard_pin: Option<String>,
    totp_secret: Option<Vec<u8>>,
    password: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([redacted])")
    }
}

impl TestUser {
    /// The 12-digit user id: `sub`, `uid` and `nhsid_useruid`.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn display_name(&self) -> &str {
        ["display_name", "name"]
            .iter()
            .find_map(|claim| self.claims.get(*claim).and_then(Value::as_str))
            .unwrap_or(&self.id)
    }

    /// The authenticators the user holds, strongest first.
    pub fn authenticators(&self) -> &[Authenticator] {
        &self.authenticators
    }

    pub fn roles(&self) -> &[NrbacRole] {
        &self.roles
    }

    pub fn role(&self, person_roleid: &str) -> Option<&NrbacRole> {
        self.roles
            .iter()
            .find(|role| role.person_roleid == person_roleid)
    }

    /// The user's identity assurance level, as the `idassurancelevel` claim holds it.
    pub fn id_assurance_level(&self) -> u8 {
        match self.claims.get("idassurancelevel") {
            Some(Value::String(level)) => level.parse().unwrap_or(3),
            Some(Value::Number(level)) => level
                .as_u64()
                .and_then(|level| u8::try_from(level).ok())
                .unwrap_or(3),
            _ => 3,
        }
    }

    /// Whether `pin` is the user's smartcard PIN.
    pub(crate) fn smartcard_pin_is(&self, pin: &str) -> bool {
        self.secrets.smartcard_pin.as_deref() == Some(pin)
    }

    /// The decoded TOTP secret of the user's authenticator app.
    pub(crate) fn totp_secret(&self) -> Option<&[u8]> {
        self.secrets.totp_secret.as_deref()
    }

    /// Whether `password` is the user's development password.
    pub(crate) fn password_is(&self, password: &str) -> bool {
        self.secrets.password.as_deref() == Some(password)
    }

    /// The name of an organisation the user belongs to, from `nhsid_user_orgs`.
    pub(crate) fn org_name(&self, org_code: &str) -> Option<&str> {
        self.claims
            .get("nhsid_user_orgs")?
            .as_array()?
            .iter()
            .find(|org| org.get("org_code").and_then(Value::as_str) == Some(org_code))?
            .get("org_name")?
            .as_str()
    }

    /// One claim from the user's full UserInfo.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    fn from_record(record: UserRecord, what: &str) -> Result<Self, DataError> {
        let invalid = |problem: String| DataError::Invalid {
            what: what.to_owned(),
            problem,
        };
        let id = record
            .claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("a user has no string `sub`".to_owned()))?
            .to_owned();
        if !is_cis2_id(&id) {
            return Err(invalid(format!("user id {id:?} is not 12 digits")));
        }
        for alias in ["uid", "nhsid_useruid"] {
            if let Some(value) = record.claims.get(alias) {
                if value.as_str() != Some(id.as_str()) {
                    return Err(invalid(format!("user {id}: `{alias}` differs from `sub`")));
                }
            }
        }
        if record.authenticators.is_empty() {
            return Err(invalid(format!("user {id} has no authenticator")));
        }
        // Each step needs its secret, so a user who could never finish signing in is refused
        // at load rather than on the page.
        let holds = |authenticator| record.authenticators.contains(&authenticator);
        let needs = |authenticator, field: &str, present: bool| {
            if holds(authenticator) && !present {
                Err(invalid(format!(
                    "user {id} has the {authenticator} authenticator but no `{field}`"
                )))
            } else {
                Ok(())
            }
        };
        needs(
            Authenticator::Smartcard,
            "smartcard_pin",
            record.smartcard_pin.is_some(),
        )?;
        needs(
            Authenticator::Password,
            "password",
            record.password.is_some(),
        )?;
        let totp_secret = match &record.totp_secret {
            Some(text) => Some(
                crate::totp::decode_base32(text)
                    .ok_or_else(|| invalid(format!("user {id}: `totp_secret` is not base32")))?,
            ),
            None => None,
        };
        needs(
            Authenticator::AuthenticatorApp,
            "totp_secret",
            totp_secret.is_some(),
        )?;
        let roles = match record.claims.get("nhsid_nrbac_roles") {
            None => Vec::new(),
            Some(Value::Array(roles)) => roles
                .iter()
                .map(|role| {
                    parse_role(role).map_err(|problem| invalid(format!("user {id}: {problem}")))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => {
                return Err(invalid(format!(
                    "user {id}: `nhsid_nrbac_roles` is not a list"
                )))
            }
        };
        Ok(Self {
            id,
            description: record.description,
            authenticators: record.authenticators,
            roles,
            secrets: Secrets {
                smartcard_pin: record.smartcard_pin,
                totp_secret,
                password: record.password,
            },
            claims: record.claims,
        })
    }
}

fn parse_role(role: &Value) -> Result<NrbacRole, String> {
    let field = |name: &str| {
        role.get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("a role lacks the required `{name}`"))
    };
    let role = NrbacRole {
        person_roleid: field("person_roleid")?,
        org_code: field("org_code")?,
        role_code: field("role_code")?,
        role_name: field("role_name")?,
    };
    field("person_orgid")?;
    if !is_cis2_id(&role.person_roleid) {
        return Err(format!(
            "person_roleid {:?} is not 12 digits",
            role.person_roleid
        ));
    }
    Ok(role)
}

fn is_cis2_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|byte| byte.is_ascii_digit())
}

/// All test users, in file order.
#[derive(Debug, Clone)]
pub struct Directory {
    users: Vec<TestUser>,
}

impl Directory {
    /// The users shipped with the mock (`data/users.json`).
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_USERS_JSON, "built-in users.json")
            .expect("the built-in users file is valid")
    }

    pub fn from_path(path: &Path) -> Result<Self, DataError> {
        let (file, what) = DataError::parse_file(path)?;
        Self::from_file(file, &what)
    }

    /// Parses a users file; `what` names it in errors.
    pub fn from_json(text: &str, what: &str) -> Result<Self, DataError> {
        Self::from_file(DataError::parse_json(text, what)?, what)
    }

    fn from_file(file: UsersFile, what: &str) -> Result<Self, DataError> {
        let mut users: Vec<TestUser> = Vec::with_capacity(file.users.len());
        for record in file.users {
            let user = TestUser::from_record(record, what)?;
            if users.iter().any(|known| known.id == user.id) {
                return Err(DataError::Invalid {
                    what: what.to_owned(),
                    problem: format!("user {} appears twice", user.id),
                });
            }
            users.push(user);
        }
        Ok(Self { users })
    }

    pub fn get(&self, id: &str) -> Option<&TestUser> {
        self.users.iter().find(|user| user.id == id)
    }

    pub fn users(&self) -> &[TestUser] {
        &self.users
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_users_cover_the_cases_the_issue_lists() {
        let directory = Directory::builtin();
        let nurse = directory.get("555057896106").expect("the nurse");
        assert_eq!(nurse.roles().len(), 1);
        assert_eq!(nurse.authenticators()[0], Authenticator::Smartcard);

        assert!(directory.users().iter().any(|user| user.roles().len() > 5));
        assert!(directory.users().iter().any(|user| user.roles().is_empty()));
        assert!(directory.users().iter().any(|user| {
            let orgs: std::collections::BTreeSet<&str> = user
                .roles()
                .iter()
                .map(|role| role.org_code.as_str())
                .collect();
            user.roles().len() > 1 && orgs.len() == 2
        }));
        assert!(directory.users().iter().any(|user| {
            user.authenticators()
                .iter()
                .all(|authenticator| authenticator.assurance_level() == 2)
        }));
        assert!(directory.users().iter().any(|user| user
            .roles()
            .iter()
            .any(|role| role.role_name.ends_with("\"Pharmacist\""))));
        assert!(directory.users().iter().any(|user| user
            .roles()
            .iter()
            .any(|role| role.org_code == "A9A5A" && role.role_code == "S8001:G8005:R8015")));

        let platform = directory.get("656005750104").expect("API platform user");
        let orgs: Vec<&str> = platform
            .roles()
            .iter()
            .map(|role| role.org_code.as_str())
            .collect();
        assert_eq!(orgs, ["Y51", "X09"]);
        for id in [
            "656005750108",
            "656005750107",
            "656005750111",
            "656005750109",
            "656005750112",
            "656005750110",
        ] {
            assert!(directory.get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn rejects_files_that_would_mislead_a_client() {
        let cases = [
            (
                r#"{"users":[{"description":"","authenticators":["nhsmail"],"claims":{"sub":"12"}}]}"#,
                "not 12 digits",
            ),
            (
                r#"{"users":[{"description":"","authenticators":["nhsmail"],"claims":{"sub":"555000000001","uid":"555000000002"}}]}"#,
                "`uid` differs",
            ),
            (
                r#"{"users":[{"description":"","authenticators":[],"claims":{"sub":"555000000001"}}]}"#,
                "no authenticator",
            ),
            (
                r#"{"users":[{"description":"","authenticators":["smartcard"],"claims":{"sub":"555000000001"}}]}"#,
                "no `smartcard_pin`",
            ),
            (
                r#"{"users":[{"description":"","authenticators":["authenticator_app"],"totp_secret":"1!","claims":{"sub":"555000000001"}}]}"#,
                "not base32",
            ),
            (
                r#"{"users":[{"description":"","authenticators":["nhsmail"],"claims":{"sub":"555000000001","nhsid_nrbac_roles":[{"person_roleid":"555000000002"}]}}]}"#,
                "lacks the required",
            ),
        ];
        for (text, expected) in cases {
            let error = Directory::from_json(text, "test").unwrap_err();
            assert!(error.to_string().contains(expected), "{error} for {text}");
            assert_eq!(error.code(), "data_invalid");
        }
    }
}
