//! The CIS2 claim model and the role choice: UserInfo's identity, organisations and national RBAC
//! roles (REFERENCE §4 and §6), the role to sign in with (REFERENCE §7, PRODUCT step 8), and the
//! assurance levels of the ID token (REFERENCE §5). Pure: no I/O, nothing printed.
//!
//! CIS2's claims are read tolerantly, because real tokens and UserInfo answers vary: levels arrive
//! as `"3"` or `3`, a list claim may arrive as one object, and a malformed role must not cost the
//! user the roles that are fine. What is set aside is recorded in [`Identity::warnings`].

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::values::AcrValues;

/// The professional registration claims released by the `professionalmemberships` scope. CIS2's
/// exact names are unverified (REFERENCE §4), so these are the names in use so far.
pub const PROFESSIONAL_MEMBERSHIP_CLAIMS: &[&str] =
    &["gmc_id", "nmc_id", "gphc_id", "gdc_id", "hcpc_id"];

/// An organisation: its ODS code and its name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Organisation {
    /// The ODS code, e.g. `A9A5A`.
    pub code: String,
    /// The name from `nhsid_user_orgs`, or the ODS code when CIS2 did not name it.
    pub name: String,
}

/// One national RBAC role from `nhsid_nrbac_roles` (REFERENCE §6).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NrbacRole {
    /// The role's id: what `selected_roleid` points at and what the user chooses by.
    pub person_roleid: String,
    /// The user's membership of the role's organisation.
    pub person_orgid: String,
    /// The ODS code of the role's organisation.
    pub org_code: String,
    /// `S####:G####:R####`: staff group, job group, job role.
    pub role_code: String,
    /// The three names of `role_code`, each quoted: `"Clinical":"Clinical Provision":"Nurse Access Role"`.
    pub role_name: String,
    pub activities: Vec<String>,
    /// B-codes of the activities granted explicitly; the baseline's are not listed.
    pub activity_codes: Vec<String>,
    pub workgroups: Vec<String>,
    pub workgroups_codes: Vec<String>,
    /// Areas of work.
    pub aow: Vec<String>,
    pub aow_codes: Vec<String>,
}

impl NrbacRole {
    /// The job role's R-code, the last part of `role_code`: what services authorise on.
    pub fn job_role_code(&self) -> &str {
        last_part(&self.role_code, ':')
    }

    /// The job role's name, the last quoted part of `role_name`: what services show.
    pub fn job_role_name(&self) -> &str {
        let name = self.role_name.trim();
        match name.strip_suffix('"') {
            Some(open) => match open.rfind('"') {
                Some(start) => &open[start + 1..],
                // One stray quote: the name is what is left without it.
                None => open.trim(),
            },
            None => last_part(name, ':'),
        }
    }
}

/// The part after the last `separator`, trimmed; all of `text` when there is none.
fn last_part(text: &str, separator: char) -> &str {
    text.rsplit(separator).next().unwrap_or(text).trim()
}

/// The user's membership of an organisation, from `nhsid_org_memberships`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OrgMembership {
    pub org_code: String,
    pub person_orgid: Option<String>,
    pub org_name: Option<String>,
}

/// Who signed in, from UserInfo (REFERENCE §4 and §6). Built with [`Identity::from_userinfo`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    /// The user id. A 12-digit number in CIS2, but INT has other shapes, so it is not checked.
    pub sub: String,
    pub uid: Option<String>,
    pub nhsid_useruid: Option<String>,
    pub name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub email: Option<String>,
    /// From `idassurancelevel`.
    pub id_assurance_level: Option<u8>,
    /// From `nhsid_user_orgs`, in the order CIS2 sent them.
    pub organisations: Vec<Organisation>,
    /// From `nhsid_nrbac_roles`, in the order CIS2 sent them. May be empty: users can have no roles.
    pub roles: Vec<NrbacRole>,
    /// From `nhsid_org_memberships`.
    pub org_memberships: Vec<OrgMembership>,
    /// Professional registration ids as sent, e.g. `gmc_id` → `7654321`.
    pub professional_memberships: BTreeMap<String, String>,
    warnings: Vec<String>,
    /// The roles set aside for lacking a required field: the role choice refuses a sign-in
    /// that is left with none of the user's roles, or whose role CIS2 chose is one of them.
    #[serde(skip)]
    incomplete_roles: Vec<IncompleteRole>,
}

/// A role of `nhsid_nrbac_roles` without a field careid needs to show it or act as it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteRole {
    /// Its `person_roleid`, when it has one.
    pub person_roleid: Option<String>,
    /// The required fields it lacks.
    pub missing: Vec<&'static str>,
}

impl std::fmt::Display for IncompleteRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.person_roleid {
            Some(id) => write!(f, "role {id} lacks {}", self.missing.join(", ")),
            None => write!(f, "a role lacks {}", self.missing.join(", ")),
        }
    }
}

impl Identity {
    /// Reads UserInfo's JSON text.
    pub fn from_userinfo_json(text: &str) -> Result<Self, ClaimsError> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| ClaimsError::NotJson(error.to_string()))?;
        Self::from_userinfo(&value)
    }

    /// Reads UserInfo's claims. Only a missing or empty `sub` fails; a malformed claim or role is
    /// set aside with a warning and unknown claims are ignored.
    pub fn from_userinfo(userinfo: &Value) -> Result<Self, ClaimsError> {
        let claims = userinfo.as_object().ok_or(ClaimsError::NotAnObject)?;
        let sub = match claims.get("sub") {
            Some(Value::String(sub)) if !sub.trim().is_empty() => sub.clone(),
            _ => return Err(ClaimsError::MissingSub),
        };
        let mut reader = Reader {
            claims,
            warnings: Vec::new(),
            incomplete_roles: Vec::new(),
        };
        let id_assurance_level = reader.level("idassurancelevel");
        let organisations = reader.organisations();
        let roles = reader.roles();
        let org_memberships = reader.org_memberships();
        let professional_memberships = PROFESSIONAL_MEMBERSHIP_CLAIMS
            .iter()
            .filter_map(|&claim| Some((claim.to_owned(), reader.text(claim)?)))
            .collect();
        Ok(Identity {
            sub,
            uid: reader.text("uid"),
            nhsid_useruid: reader.text("nhsid_useruid"),
            name: reader.text("name"),
            given_name: reader.text("given_name"),
            family_name: reader.text("family_name"),
            display_name: reader.text("display_name"),
            title: reader.text("title"),
            email: reader.text("email"),
            id_assurance_level,
            organisations,
            roles,
            org_memberships,
            professional_memberships,
            warnings: reader.warnings,
            incomplete_roles: reader.incomplete_roles,
        })
    }

    /// The roles set aside for lacking a required field (each also in [`Identity::warnings`]).
    pub fn incomplete_roles(&self) -> &[IncompleteRole] {
        &self.incomplete_roles
    }

    /// What was set aside while reading, one sentence each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The role with this id, for `careid role select ID`.
    pub fn role(&self, person_roleid: &str) -> Option<&NrbacRole> {
        self.roles
            .iter()
            .find(|role| role.person_roleid == person_roleid)
    }

    /// The organisation with this ODS code. Its name comes from `nhsid_user_orgs`, else from
    /// `nhsid_org_memberships` (a profile may ask for only one of the two scopes), else it is the
    /// code itself.
    pub fn organisation(&self, org_code: &str) -> Organisation {
        let named = self
            .organisations
            .iter()
            .find(|org| org.code == org_code)
            .map(|org| org.name.clone());
        let member_of = || {
            self.org_memberships
                .iter()
                .find(|membership| membership.org_code == org_code)
                .and_then(|membership| membership.org_name.clone())
        };
        Organisation {
            code: org_code.to_owned(),
            name: named
                .or_else(member_of)
                .unwrap_or_else(|| org_code.to_owned()),
        }
    }

    /// The roles grouped by organisation, groups in the order their first role arrived and roles
    /// in arrival order within each group.
    pub fn role_groups(&self) -> Vec<RoleGroup> {
        let mut groups: Vec<RoleGroup> = Vec::new();
        for role in &self.roles {
            match groups
                .iter_mut()
                .find(|group| group.organisation.code == role.org_code)
            {
                Some(group) => group.roles.push(role.clone()),
                None => groups.push(RoleGroup {
                    organisation: self.organisation(&role.org_code),
                    roles: vec![role.clone()],
                }),
            }
        }
        groups
    }
}

/// The roles the user holds in one organisation, as the role choice shows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RoleGroup {
    pub organisation: Organisation,
    pub roles: Vec<NrbacRole>,
}

/// The role to sign in with (PRODUCT step 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChoice {
    /// Chosen in CIS2's own picker: the ID token's `selected_roleid`.
    Selected(NrbacRole),
    /// The user's only role.
    Automatic(NrbacRole),
    /// The role the user named for this sign-in (`careid login --role`), one of their roles.
    Requested(NrbacRole),
    /// The user's last choice for this profile, still one of their roles.
    Remembered(NrbacRole),
    /// Several roles and nothing to go on: the user chooses.
    Ask(Vec<RoleGroup>),
    /// The user has no roles: signed in, but with nothing to act as.
    NoRoles,
}

impl RoleChoice {
    /// The chosen role, if one was chosen without asking.
    pub fn role(&self) -> Option<&NrbacRole> {
        match self {
            RoleChoice::Selected(role)
            | RoleChoice::Automatic(role)
            | RoleChoice::Requested(role)
            | RoleChoice::Remembered(role) => Some(role),
            RoleChoice::Ask(_) | RoleChoice::NoRoles => None,
        }
    }
}

/// Chooses the role: CIS2's `selected_roleid` when present, else the role the user asked for
/// (`requested`), else the only role, else the remembered `person_roleid` when it is still one of
/// the roles, else the user is asked. An empty `selected_roleid` or `requested` counts as absent.
///
/// The role CIS2 picked is the role (REFERENCE §7): a remembered role never overrides it, and a
/// `requested` role that differs is refused naming both ([`check_requested_role`]), never
/// applied in its place. A requested role the user does not hold is refused too.
pub fn choose_role(
    identity: &Identity,
    selected_roleid: Option<&str>,
    requested: Option<&str>,
    remembered: Option<&str>,
) -> Result<RoleChoice, ClaimsError> {
    let requested = requested.filter(|id| !id.trim().is_empty());
    if let Some(selected) = selected_roleid.filter(|id| !id.trim().is_empty()) {
        // The ID token and UserInfo disagree: trusting either alone would act as a role the user
        // may not hold, so this fails rather than falling back to asking. A role UserInfo lists
        // without a field careid needs is said as such.
        let role = identity.role(selected).ok_or_else(|| {
            match identity
                .incomplete_roles
                .iter()
                .find(|role| role.person_roleid.as_deref() == Some(selected))
            {
                Some(incomplete) => ClaimsError::SelectedRoleIncomplete(incomplete.clone()),
                None => ClaimsError::SelectedRoleUnknown(selected.to_owned()),
            }
        })?;
        if let Some(requested) = requested {
            check_requested_role(identity, selected, requested)?;
        }
        return Ok(RoleChoice::Selected(role.clone()));
    }
    if let Some(requested) = requested {
        return identity
            .role(requested)
            .map(|role| RoleChoice::Requested(role.clone()))
            .ok_or_else(|| ClaimsError::RequestedRoleUnknown {
                requested: requested.to_owned(),
                held: identity
                    .roles
                    .iter()
                    .map(|role| RoleNamed {
                        id: role.person_roleid.clone(),
                        name: Some(role.job_role_name().to_owned()),
                    })
                    .collect(),
            });
    }
    match identity.roles.as_slice() {
        // CIS2 sent roles and none can be used: signing in "with no roles" would be untrue.
        [] if !identity.incomplete_roles.is_empty() => Err(ClaimsError::RolesIncomplete(
            identity.incomplete_roles.clone(),
        )),
        [] => Ok(RoleChoice::NoRoles),
        [only] => Ok(RoleChoice::Automatic(only.clone())),
        _ => Ok(match remembered.and_then(|id| identity.role(id)) {
            Some(role) => RoleChoice::Remembered(role.clone()),
            // A remembered role the user no longer holds is forgotten, not an error.
            None => RoleChoice::Ask(identity.role_groups()),
        }),
    }
}

/// A role the user asks for (`--role`, a role change) against the role CIS2's picker chose
/// (`selected_roleid`): they must be the same. A different one is refused with both roles' ids
/// and names, so nothing overrides CIS2's choice without the user seeing it.
pub fn check_requested_role(
    identity: &Identity,
    selected_roleid: &str,
    requested: &str,
) -> Result<(), ClaimsError> {
    if requested == selected_roleid {
        return Ok(());
    }
    let named = |id: &str| RoleNamed {
        id: id.to_owned(),
        name: identity
            .role(id)
            .map(|role| role.job_role_name().to_owned()),
    };
    Err(ClaimsError::SelectedRoleConflict {
        selected: named(selected_roleid),
        requested: named(requested),
    })
}

/// A role in an error message: its id, and its job role name when the user holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleNamed {
    pub id: String,
    pub name: Option<String>,
}

impl std::fmt::Display for RoleNamed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({name})", self.id),
            None => write!(f, "{} (not one of the user's roles)", self.id),
        }
    }
}

/// An assurance level claim (`authentication_assurance_level`, `id_assurance_level`,
/// `idassurancelevel`): `"3"` and `3` alike. Anything but 1, 2 or 3 is `None`.
pub fn assurance_level(value: &Value) -> Option<u8> {
    let level = match value {
        Value::String(text) => text.trim().parse::<u8>().ok()?,
        Value::Number(number) => u8::try_from(number.as_u64()?).ok()?,
        _ => return None,
    };
    (1..=3).contains(&level).then_some(level)
}

/// The lowest authentication assurance level a space-separated `acr_values` admits: `AAL3_*` is
/// 3, `AAL2_*` (including `AAL2_OR_AAL3_ANY`) is 2, `AAL1_*` is 1. Values of other shapes say
/// nothing about the level and are skipped; `None` when no value names one.
pub fn requested_level(acr_values: &AcrValues) -> Option<u8> {
    acr_values
        .values()
        .filter_map(|value| {
            if value.starts_with("AAL3_") {
                Some(3)
            } else if value.starts_with("AAL2_") {
                Some(2)
            } else if value.starts_with("AAL1_") {
                Some(1)
            } else {
                None
            }
        })
        .min()
}

/// Checks the ID token's `authentication_assurance_level` against the level asked for. `acr` is
/// not looked at: CIS2 sometimes leaves it out (REFERENCE §5).
pub fn check_assurance(
    requested: Option<u8>,
    authentication_assurance_level: Option<&Value>,
) -> Result<(), ClaimsError> {
    let Some(requested) = requested else {
        return Ok(());
    };
    let claim = authentication_assurance_level
        .filter(|value| !value.is_null())
        .ok_or(ClaimsError::AssuranceMissing { requested })?;
    let actual =
        assurance_level(claim).ok_or_else(|| ClaimsError::AssuranceInvalid(claim.to_string()))?;
    if actual < requested {
        return Err(ClaimsError::AssuranceTooLow { requested, actual });
    }
    Ok(())
}

/// Checks the ID token's `id_assurance_level` (how well the person's identity was verified at
/// registration) against the profile's `min_id_assurance_level`, when it sets one. CIS2 sends the
/// level as `"3"` or `3` (REFERENCE §5); a missing or unreadable level is refused.
pub fn check_id_assurance(
    minimum: Option<u8>,
    id_assurance_level: Option<&Value>,
) -> Result<(), ClaimsError> {
    let Some(minimum) = minimum else {
        return Ok(());
    };
    let claim = id_assurance_level
        .filter(|value| !value.is_null())
        .ok_or(ClaimsError::IdAssuranceMissing { minimum })?;
    let actual =
        assurance_level(claim).ok_or_else(|| ClaimsError::IdAssuranceInvalid(claim.to_string()))?;
    if actual < minimum {
        return Err(ClaimsError::IdAssuranceTooLow { minimum, actual });
    }
    Ok(())
}

/// Reads UserInfo's claims and keeps the warnings about what it set aside.
struct Reader<'a> {
    claims: &'a Map<String, Value>,
    warnings: Vec<String>,
    incomplete_roles: Vec<IncompleteRole>,
}

impl<'a> Reader<'a> {
    fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// A present, non-null claim.
    fn get(&self, claim: &str) -> Option<&'a Value> {
        self.claims.get(claim).filter(|value| !value.is_null())
    }

    /// A text claim. Ids sometimes arrive as numbers, so those are taken as their digits.
    fn text(&mut self, claim: &str) -> Option<String> {
        let value = self.get(claim)?;
        let text = text_of(value);
        if text.is_none() {
            self.warn(format!("claim {claim} is not text and was ignored"));
        }
        text
    }

    fn level(&mut self, claim: &str) -> Option<u8> {
        let value = self.get(claim)?;
        let level = assurance_level(value);
        if level.is_none() {
            self.warn(format!(
                "claim {claim} is not an assurance level ({value}) and was ignored"
            ));
        }
        level
    }

    /// The objects of a list claim with their places in it, so warnings name the item CIS2 sent;
    /// one object on its own is a list of one (REFERENCE §6).
    fn objects(&mut self, claim: &str) -> Vec<(usize, &'a Map<String, Value>)> {
        let items: Vec<&'a Value> = match self.claims.get(claim) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            Some(_) => {
                self.warn(format!("claim {claim} is not a list and was ignored"));
                return Vec::new();
            }
        };
        let mut objects = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            match item.as_object() {
                Some(object) => objects.push((index, object)),
                None => self.warn(format!(
                    "item {index} of {claim} is not an object and was skipped"
                )),
            }
        }
        objects
    }

    fn organisations(&mut self) -> Vec<Organisation> {
        let mut organisations = Vec::new();
        for (index, org) in self.objects("nhsid_user_orgs") {
            let Some(code) = field(org, "org_code") else {
                self.warn(format!(
                    "item {index} of nhsid_user_orgs has no org_code and was skipped"
                ));
                continue;
            };
            let name = field(org, "org_name").unwrap_or_else(|| code.clone());
            organisations.push(Organisation { code, name });
        }
        organisations
    }

    fn org_memberships(&mut self) -> Vec<OrgMembership> {
        let mut memberships = Vec::new();
        for (index, membership) in self.objects("nhsid_org_memberships") {
            let Some(org_code) = field(membership, "org_code") else {
                self.warn(format!(
                    "item {index} of nhsid_org_memberships has no org_code and was skipped"
                ));
                continue;
            };
            memberships.push(OrgMembership {
                org_code,
                person_orgid: field(membership, "person_orgid"),
                org_name: field(membership, "org_name"),
            });
        }
        memberships
    }

    fn roles(&mut self) -> Vec<NrbacRole> {
        let mut roles: Vec<NrbacRole> = Vec::new();
        for (index, item) in self.objects("nhsid_nrbac_roles") {
            let role = match role_of(item) {
                Ok(role) => role,
                Err(missing) => {
                    let person_roleid = field(item, "person_roleid");
                    let id = person_roleid
                        .as_ref()
                        .map(|id| format!(" ({id})"))
                        .unwrap_or_default();
                    self.warn(format!(
                        "role {index}{id} of nhsid_nrbac_roles lacks {} and was skipped",
                        missing.join(", ")
                    ));
                    self.incomplete_roles.push(IncompleteRole {
                        person_roleid,
                        missing,
                    });
                    continue;
                }
            };
            // A role is chosen by its id, so a second role with the same id could never be chosen.
            if roles
                .iter()
                .any(|known| known.person_roleid == role.person_roleid)
            {
                self.warn(format!(
                    "role {index} of nhsid_nrbac_roles repeats person_roleid {} and was skipped",
                    role.person_roleid
                ));
                continue;
            }
            roles.push(role);
        }
        roles
    }
}

/// A role, or the names of the required fields it lacks.
fn role_of(item: &Map<String, Value>) -> Result<NrbacRole, Vec<&'static str>> {
    let required = [
        "person_roleid",
        "person_orgid",
        "org_code",
        "role_code",
        "role_name",
    ];
    let values = required.map(|name| field(item, name));
    let missing: Vec<&'static str> = required
        .iter()
        .zip(&values)
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    let [Some(person_roleid), Some(person_orgid), Some(org_code), Some(role_code), Some(role_name)] =
        values
    else {
        return Err(missing);
    };
    Ok(NrbacRole {
        person_roleid,
        person_orgid,
        org_code,
        role_code,
        role_name,
        activities: texts(item, "activities"),
        activity_codes: texts(item, "activity_codes"),
        workgroups: texts(item, "workgroups"),
        workgroups_codes: texts(item, "workgroups_codes"),
        aow: texts(item, "aow"),
        aow_codes: texts(item, "aow_codes"),
    })
}

/// A non-empty text field of an object.
fn field(object: &Map<String, Value>, name: &str) -> Option<String> {
    object
        .get(name)
        .and_then(text_of)
        .filter(|text| !text.trim().is_empty())
}

/// A list of texts; one text on its own is a list of one, and items that are not text are left out.
fn texts(object: &Map<String, Value>, name: &str) -> Vec<String> {
    match object.get(name) {
        Some(Value::Array(items)) => items.iter().filter_map(text_of).collect(),
        Some(one) => text_of(one).into_iter().collect(),
        None => Vec::new(),
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// What an `amr` value says about how the user authenticated, for people reading a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AmrMeaning {
    /// The authenticator in words; `None` for a value careid does not know.
    pub authenticator: Option<&'static str>,
    /// Seen in real CIS2 tokens (`N3_SMARTCARD`, `pwd`); the others follow the `acr` values'
    /// naming and are unverified (REFERENCE §5).
    pub seen_from_cis2: bool,
}

/// The one table of `amr` values careid can name. Whatever arrives is shown; an unknown value
/// is flagged, not refused.
pub fn amr_meaning(value: &str) -> AmrMeaning {
    let (authenticator, seen_from_cis2) = match value {
        "N3_SMARTCARD" => (Some("Smartcard"), true),
        "pwd" => (Some("Password"), true),
        "CIS2_SMARTCARD" | "SMARTCARD" => (Some("Smartcard"), false),
        "FIDO2" => (
            Some("FIDO2 security key or Windows Hello for Business"),
            false,
        ),
        "IOS" => (Some("NHS CIS2 Authentication iPad app"), false),
        "TOTP" => (Some("Authenticator app"), false),
        "NHSMAIL" => (Some("NHSmail"), false),
        _ => (None, false),
    };
    AmrMeaning {
        authenticator,
        seen_from_cis2,
    }
}

/// The incomplete roles in words, at most a few: `role 555057898108 lacks org_code; ...`.
/// The roles a user holds, for a message: the first ten, each id with its job role.
fn held_list(held: &[RoleNamed]) -> String {
    if held.is_empty() {
        return "you hold no roles".to_owned();
    }
    let mut shown: Vec<String> = held.iter().take(10).map(ToString::to_string).collect();
    if held.len() > 10 {
        shown.push(format!(
            "and {} more (`careid roles` lists them)",
            held.len() - 10
        ));
    }
    format!("your roles are {}", shown.join(", "))
}

fn incomplete_list(roles: &[IncompleteRole]) -> String {
    let mut shown: Vec<String> = roles.iter().take(5).map(ToString::to_string).collect();
    if roles.len() > 5 {
        shown.push(format!("and {} more", roles.len() - 5));
    }
    shown.join("; ")
}

/// Why claims could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// UserInfo's body is not JSON.
    #[error("userinfo is not JSON: {0}")]
    NotJson(String),
    /// UserInfo's JSON is not an object of claims.
    #[error("userinfo is not a JSON object")]
    NotAnObject,
    /// UserInfo has no `sub`, or it is not a non-empty string.
    #[error("userinfo has no sub claim")]
    MissingSub,
    /// The ID token's `selected_roleid` names a role UserInfo does not list.
    #[error("cis2 selected role {0} is not among the user's roles in userinfo")]
    SelectedRoleUnknown(String),
    /// The ID token's `selected_roleid` names a role UserInfo lists without a required field.
    #[error("cis2 selected role {}, but userinfo lists it without {}: careid cannot show or act as a role without them", .0.person_roleid.as_deref().unwrap_or("?"), .0.missing.join(", "))]
    SelectedRoleIncomplete(IncompleteRole),
    /// UserInfo lists roles, and every one lacks a required field: none can be used.
    #[error("none of the user's roles in userinfo can be used, since each lacks a field careid needs ({})", incomplete_list(.0))]
    RolesIncomplete(Vec<IncompleteRole>),
    /// The user asked for a role other than the one chosen on CIS2's role picker.
    #[error("role {requested} was asked for but CIS2's role picker chose role {selected}: the role chosen in CIS2 is the session's role, so choose the role there")]
    SelectedRoleConflict {
        selected: RoleNamed,
        requested: RoleNamed,
    },
    /// The user asked for a role they do not hold: said with the roles they do hold.
    #[error(
        "you do not hold role {requested:?}; {}; sign in without --role to choose, or give one of these",
        held_list(held)
    )]
    RequestedRoleUnknown {
        requested: String,
        held: Vec<RoleNamed>,
    },
    /// An assurance level was asked for and the ID token states none.
    #[error("the id token has no authentication_assurance_level and AAL{requested} was requested")]
    AssuranceMissing { requested: u8 },
    /// The ID token's `authentication_assurance_level` is not 1, 2 or 3.
    #[error("the id token's authentication_assurance_level {0} is not a level")]
    AssuranceInvalid(String),
    /// The user authenticated at a lower level than was asked for.
    #[error("signed in at AAL{actual} but AAL{requested} was requested")]
    AssuranceTooLow { requested: u8, actual: u8 },
    /// The profile requires an identity assurance level and the ID token states none.
    #[error("the id token has no id_assurance_level and the profile requires IAL{minimum}")]
    IdAssuranceMissing { minimum: u8 },
    /// The ID token's `id_assurance_level` is not 1, 2 or 3.
    #[error("the id token's id_assurance_level {0} is not a level")]
    IdAssuranceInvalid(String),
    /// The person's identity was verified at a lower level than the profile requires.
    #[error(
        "the user's identity assurance level is IAL{actual} but the profile requires IAL{minimum}"
    )]
    IdAssuranceTooLow { minimum: u8, actual: u8 },
}

impl ClaimsError {
    /// Whether the caller asked for something the claims cannot give (a role): a usage error,
    /// not a refused answer.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            ClaimsError::SelectedRoleConflict { .. } | ClaimsError::RequestedRoleUnknown { .. }
        )
    }

    pub fn code(&self) -> &'static str {
        match self {
            ClaimsError::NotJson(_) => "userinfo_not_json",
            ClaimsError::NotAnObject => "userinfo_not_object",
            ClaimsError::MissingSub => "userinfo_sub_missing",
            ClaimsError::SelectedRoleUnknown(_) => "selected_role_unknown",
            ClaimsError::SelectedRoleIncomplete(_) => "selected_role_incomplete",
            ClaimsError::RolesIncomplete(_) => "roles_incomplete",
            ClaimsError::SelectedRoleConflict { .. } => "selected_role_conflict",
            ClaimsError::RequestedRoleUnknown { .. } => "unknown_role",
            ClaimsError::AssuranceMissing { .. } => "assurance_missing",
            ClaimsError::AssuranceInvalid(_) => "assurance_invalid",
            ClaimsError::AssuranceTooLow { .. } => "assurance_too_low",
            ClaimsError::IdAssuranceMissing { .. } => "id_assurance_missing",
            ClaimsError::IdAssuranceInvalid(_) => "id_assurance_invalid",
            ClaimsError::IdAssuranceTooLow { .. } => "id_assurance_too_low",
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn role(id: &str, org: &str) -> Value {
        json!({
            "person_roleid": id,
            "person_orgid": "555000000100",
            "org_code": org,
            "role_code": "S8000:G8000:R8001",
            "role_name": "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
        })
    }

    #[test]
    fn job_role_code_and_name_are_the_last_parts() {
        let identity =
            Identity::from_userinfo(&json!({"sub": "1", "nhsid_nrbac_roles": [role("9", "X26")]}))
                .expect("reads");
        let role = &identity.roles[0];
        assert_eq!(role.job_role_code(), "R8001");
        assert_eq!(role.job_role_name(), "Nurse Access Role");
    }

    #[test]
    fn a_role_missing_a_required_field_is_skipped_with_a_warning() {
        let mut broken = role("8", "X26");
        broken.as_object_mut().expect("object").remove("role_code");
        let identity = Identity::from_userinfo(
            &json!({"sub": "1", "nhsid_nrbac_roles": [broken, role("9", "X26")]}),
        )
        .expect("reads");
        assert_eq!(identity.roles.len(), 1);
        assert_eq!(identity.roles[0].person_roleid, "9");
        assert_eq!(
            identity.warnings(),
            ["role 0 (8) of nhsid_nrbac_roles lacks role_code and was skipped"]
        );
    }

    #[test]
    fn roles_without_a_required_field_refuse_when_none_is_left_or_cis2_chose_one() {
        let mut incomplete = role("8", "X26");
        incomplete
            .as_object_mut()
            .expect("object")
            .remove("org_code");
        let only_incomplete =
            Identity::from_userinfo(&json!({"sub": "1", "nhsid_nrbac_roles": incomplete.clone()}))
                .expect("reads");
        let error = choose_role(&only_incomplete, None, None, None).expect_err("refused");
        assert_eq!(error.code(), "roles_incomplete");
        assert!(
            error.to_string().contains("role 8 lacks org_code"),
            "{error}"
        );

        let with_another = Identity::from_userinfo(
            &json!({"sub": "1", "nhsid_nrbac_roles": [incomplete, role("9", "X26")]}),
        )
        .expect("reads");
        let chosen = choose_role(&with_another, None, None, None).expect("the complete role");
        assert_eq!(
            chosen.role().map(|role| role.person_roleid.as_str()),
            Some("9")
        );
        let error = choose_role(&with_another, Some("8"), None, None).expect_err("refused");
        assert_eq!(error.code(), "selected_role_incomplete");
        assert!(error.to_string().contains("without org_code"), "{error}");
        let error = choose_role(&with_another, Some("7"), None, None).expect_err("refused");
        assert_eq!(error.code(), "selected_role_unknown");

        let no_roles = Identity::from_userinfo(&json!({"sub": "1"})).expect("reads");
        assert_eq!(
            choose_role(&no_roles, None, None, None).expect("no roles"),
            RoleChoice::NoRoles
        );
    }

    #[test]
    fn a_repeated_role_id_keeps_the_first() {
        let identity = Identity::from_userinfo(
            &json!({"sub": "1", "nhsid_nrbac_roles": [role("9", "X26"), role("9", "A9A5A")]}),
        )
        .expect("reads");
        assert_eq!(identity.roles.len(), 1);
        assert_eq!(identity.roles[0].org_code, "X26");
        assert_eq!(identity.warnings().len(), 1);
    }

    #[test]
    fn sub_must_be_a_non_empty_string() {
        for userinfo in [
            json!({}),
            json!({"sub": ""}),
            json!({"sub": 555057896106_u64}),
        ] {
            let error = Identity::from_userinfo(&userinfo).expect_err("refused");
            assert_eq!(error.code(), "userinfo_sub_missing", "{userinfo}");
        }
        assert_eq!(
            Identity::from_userinfo(&json!([]))
                .expect_err("refused")
                .code(),
            "userinfo_not_object"
        );
        assert_eq!(
            Identity::from_userinfo_json("{")
                .expect_err("refused")
                .code(),
            "userinfo_not_json"
        );
    }

    #[test]
    fn levels_outside_one_to_three_are_not_levels() {
        assert_eq!(assurance_level(&json!("3")), Some(3));
        assert_eq!(assurance_level(&json!(2)), Some(2));
        assert_eq!(assurance_level(&json!(4)), None);
        assert_eq!(assurance_level(&json!("high")), None);
        assert_eq!(assurance_level(&json!(-1)), None);
        assert_eq!(assurance_level(&json!(3.5)), None);
    }

    #[test]
    fn organisation_names_fall_back_to_memberships_then_the_code() {
        let identity = Identity::from_userinfo(&json!({
            "sub": "1",
            "nhsid_user_orgs": {"org_code": "X26", "org_name": "NHS ENGLAND - X26"},
            "nhsid_org_memberships": [{"org_code": "RYJ", "org_name": "IMPERIAL COLLEGE"}],
        }))
        .expect("reads");
        assert_eq!(identity.organisation("X26").name, "NHS ENGLAND - X26");
        assert_eq!(identity.organisation("RYJ").name, "IMPERIAL COLLEGE");
        assert_eq!(identity.organisation("Z99").name, "Z99");
    }
}
