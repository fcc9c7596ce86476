//! How the CLI's text names things, one way for every command: the user ("Flo Nurse
//! (555057896106)", the core's `UserName`), a role ("Nurse Access Role at NHSID DEV (A9A5A), code
//! S8000:G8000:R8001", the core's `RoleLabel`, with its id only where the user chooses by it), an
//! assurance level ("AAL3") and a time (ISO 8601 UTC); and the commands a hint suggests, with
//! the `--profile` that was given.

use careid_core::time::utc_text;
use careid_core::{Identity, NrbacRole, RoleLabel};

/// The width of a session line's label, so their values line up.
const LABEL_WIDTH: usize = 17;

/// One line of a session's description: `Role:            Nurse Access Role ...`.
pub fn line(label: &str, value: impl std::fmt::Display) -> String {
    format!("{:LABEL_WIDTH$}{value}", format!("{label}:"))
}

/// An authentication assurance level as CIS2 names it.
pub fn level(level: u8) -> String {
    format!("AAL{level}")
}

/// A time for people: ISO 8601, UTC.
pub fn time(unix: u64) -> String {
    utc_text(unix)
}

/// A role the user may choose, its id first: `555057898108  Nurse Access Role at ...`.
pub fn role_to_choose(role: &NrbacRole, identity: &Identity) -> String {
    format!("{}  {}", role.person_roleid, RoleLabel::of(role, identity))
}

/// A role in the session's words.
pub fn role(role: &NrbacRole, identity: &Identity) -> String {
    RoleLabel::of(role, identity).to_string()
}

/// The profile a hint's command runs on, as it was given.
#[derive(Debug, Clone, Default)]
pub struct GivenProfile(pub Option<String>);

impl GivenProfile {
    /// `careid ARGS`, with `--profile NAME` when a profile was given, so the hint does what was
    /// meant (a bare `careid login` signs in to the default profile).
    pub fn command(&self, args: &str) -> String {
        match &self.0 {
            Some(profile) => format!("`careid --profile {profile} {args}`"),
            None => format!("`careid {args}`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_keeps_the_profile_given() {
        assert_eq!(GivenProfile(None).command("login"), "`careid login`");
        assert_eq!(
            GivenProfile(Some("int".into())).command("login"),
            "`careid --profile int login`"
        );
    }

    #[test]
    fn session_lines_line_up() {
        assert_eq!(line("Role", "x"), "Role:            x");
        assert_eq!(line("Assurance level", level(3)), "Assurance level: AAL3");
        assert_eq!(time(0), "1970-01-01T00:00:00Z");
    }
}
