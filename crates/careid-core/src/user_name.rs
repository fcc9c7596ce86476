//! How careid names the signed-in user and their role to people, one way everywhere: `careid
//! login`, `careid status` and the app all say "Flo Nurse (555057896106)" (or the user id alone
//! when the provider gave no name) and "Nurse Access Role at NHSID DEV (A9A5A), code R8001".

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::http::clean_text;
use crate::{Identity, NrbacRole};

/// The longest name shown: a provider's text, so it is bounded and cleaned.
const MAX_NAME_CHARS: usize = 100;
/// CIS2's whole role name holds three names.
const MAX_ROLE_NAME_CHARS: usize = 3 * MAX_NAME_CHARS;

/// The signed-in user as people are told who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName {
    /// The person's name, when the provider gave one ([`person_name`]).
    pub name: Option<String>,
    /// The user id (`sub`; CIS2's 12-digit UUID).
    pub user_id: String,
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{name} ({})", self.user_id),
            None => f.write_str(&self.user_id),
        }
    }
}

/// A role as people read it: the last part of CIS2's role name (what people call it, "Nurse
/// Access Role"), its organisation's name and ODS code, and the role code. Kept with the session's
/// facts, so a command that makes no request can still name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleLabel {
    pub job_role: String,
    pub organisation: String,
    pub org_code: String,
    pub role_code: String,
    /// CIS2's whole role name (`role_name`, three quoted names); absent in files written before
    /// careid kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
}

impl RoleLabel {
    pub fn of(role: &NrbacRole, identity: &Identity) -> Self {
        Self {
            job_role: clean_text(role.job_role_name(), MAX_NAME_CHARS),
            organisation: clean_text(&identity.organisation(&role.org_code).name, MAX_NAME_CHARS),
            org_code: clean_text(&role.org_code, MAX_NAME_CHARS),
            role_code: clean_text(&role.role_code, MAX_NAME_CHARS),
            role_name: Some(clean_text(&role.role_name, MAX_ROLE_NAME_CHARS)),
        }
    }
}

impl fmt::Display for RoleLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let organisation = if self.organisation.is_empty() || self.organisation == self.org_code {
            self.org_code.clone()
        } else {
            format!("{} ({})", self.organisation, self.org_code)
        };
        write!(f, "{} at {organisation}", self.job_role)?;
        if !self.role_code.is_empty() {
            write!(f, ", code {}", self.role_code)?;
        }
        Ok(())
    }
}

/// The person's name from UserInfo: `name`, else `display_name`, else the given and family
/// names; cleaned of control characters and bounded. `None` when UserInfo gives none that is
/// not blank.
pub fn person_name(identity: &Identity) -> Option<String> {
    let joined = [&identity.given_name, &identity.family_name]
        .into_iter()
        .flatten()
        .map(|part| part.trim())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = [identity.name.as_deref(), identity.display_name.as_deref()]
        .into_iter()
        .flatten()
        .chain(std::iter::once(joined.as_str()))
        .map(|name| clean_text(name, MAX_NAME_CHARS))
        .find(|name| !name.is_empty());
    name
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_user_is_named_by_the_first_name_given_then_the_id() {
        let cases = [
            (
                json!({"sub": "555057896106", "name": "Flo Nurse", "display_name": "Nurse Flo"}),
                "Flo Nurse (555057896106)",
            ),
            (
                json!({"sub": "555057896106", "name": " ", "display_name": "Nurse Flo"}),
                "Nurse Flo (555057896106)",
            ),
            (
                json!({"sub": "555057896106", "given_name": "Flo", "family_name": "Nurse"}),
                "Flo Nurse (555057896106)",
            ),
            (
                json!({"sub": "555057896106", "name": "Flo\u{1b}[2J Nurse\n"}),
                "Flo [2J Nurse (555057896106)",
            ),
            (json!({"sub": "555057896106"}), "555057896106"),
        ];
        for (userinfo, expected) in cases {
            let identity = Identity::from_userinfo(&userinfo).expect("reads");
            let user = UserName {
                name: person_name(&identity),
                user_id: identity.sub.clone(),
            };
            assert_eq!(user.to_string(), expected, "{userinfo}");
        }
    }
}
