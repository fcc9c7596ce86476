//! The objects every command's JSON names the same way: a user, a role, an organisation, and
//! the rule for times. Each command builds them here, so `login`, `status`, `roles`, `role
//! select` and `logout` say the same user and role with the same fields.

use careid_core::time::utc_text;
use careid_core::{Identity, NrbacRole, Organisation, RoleLabel, SessionFacts};
use serde::Serialize;

/// A time as scripts read it: ISO 8601 in UTC (`2026-12-07T14:16:45Z`). Where the seconds since
/// the Unix epoch are given too, they are in the field of the same name ending `_unix`.
pub fn utc(seconds: u64) -> String {
    utc_text(seconds)
}

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserJson {
    /// The user id (`sub`; CIS2's 12-digit UUID).
    pub id: String,
    /// The person's name from UserInfo, cleaned; null when the provider gave none (or careid
    /// did not keep it).
    pub name: Option<String>,
}

impl UserJson {
    pub fn of(facts: &SessionFacts) -> Self {
        Self {
            id: facts.sub.clone(),
            name: facts.name.clone(),
        }
    }

    /// A user careid knows only by id.
    pub fn id_only(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: None,
        }
    }
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

/// A role, the same in every command: built from the [`RoleLabel`] the session keeps, so a
/// command that makes no request names it as one that asked UserInfo does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleJson {
    /// The role's id (`person_roleid`): what `careid role select` and `login --role` take.
    pub id: String,
    /// What people call the role: the last of CIS2's three names ("Nurse Access Role").
    pub job_role: String,
    /// CIS2's whole role name, the three names quoted; null when careid did not keep it.
    pub role_name: Option<String>,
    /// `S####:G####:R####`: staff group, job group, job role.
    pub role_code: String,
    /// The organisation the role is in.
    pub organisation: OrganisationJson,
}

impl RoleJson {
    pub fn of(role: &NrbacRole, identity: &Identity) -> Self {
        Self::labelled(&role.person_roleid, &RoleLabel::of(role, identity))
    }

    /// The session's role from its kept facts; null until one is chosen. A session kept by an
    /// older careid has the id alone: the rest is then empty.
    pub fn of_facts(facts: &SessionFacts) -> Option<Self> {
        let id = facts.selected_role_id.as_deref()?;
        Some(match &facts.role {
            Some(label) => Self::labelled(id, label),
            None => Self::labelled(
                id,
                &RoleLabel {
                    job_role: String::new(),
                    organisation: String::new(),
                    org_code: String::new(),
                    role_code: String::new(),
                    role_name: None,
                },
            ),
        })
    }

    fn labelled(id: &str, label: &RoleLabel) -> Self {
        Self {
            id: id.to_owned(),
            job_role: label.job_role.clone(),
            role_name: label.role_name.clone(),
            role_code: label.role_code.clone(),
            organisation: OrganisationJson {
                code: label.org_code.clone(),
                name: label.organisation.clone(),
            },
        }
    }
}

/// A role with all `nhsid_nrbac_roles` says of it: `login`'s and `roles`' lists.
#[derive(Debug, Clone, Serialize)]
pub struct RoleDetailJson {
    #[serde(flatten)]
    pub role: RoleJson,
    /// The user's membership of the role's organisation.
    pub person_orgid: String,
    /// The activities' names.
    pub activities: Vec<String>,
    /// B-codes of the activities granted explicitly.
    pub activity_codes: Vec<String>,
    /// Areas of work, and their codes.
    pub aow: Vec<String>,
    pub aow_codes: Vec<String>,
    pub workgroups: Vec<String>,
    pub workgroups_codes: Vec<String>,
}

impl RoleDetailJson {
    pub fn of(role: &NrbacRole, identity: &Identity) -> Self {
        Self {
            role: RoleJson::of(role, identity),
            person_orgid: role.person_orgid.clone(),
            activities: role.activities.clone(),
            activity_codes: role.activity_codes.clone(),
            aow: role.aow.clone(),
            aow_codes: role.aow_codes.clone(),
            workgroups: role.workgroups.clone(),
            workgroups_codes: role.workgroups_codes.clone(),
        }
    }

    pub fn all(identity: &Identity) -> Vec<Self> {
        identity
            .roles
            .iter()
            .map(|role| Self::of(role, identity))
            .collect()
    }
}
