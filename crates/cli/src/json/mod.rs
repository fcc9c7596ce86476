//! What `--json` prints: one transfer type per command's output, built from the core's values.
//!
//! This is the CLI's stable interface for scripts (docs/cli.md, "JSON"): fields are added, never
//! renamed or removed, without a major version. So nothing the core serialises reaches stdout
//! as it is; each field here is copied from the core by name, and a change in the core cannot
//! change this output unseen. The tests compare each type with its JSON, text for text.
//!
//! The fields of the objects that have always come out with their keys sorted (every output
//! but `logout` and `doctor`) are declared in alphabetical order, so they still do.

mod about;
mod doctor;
mod profile;
mod session;

pub use about::{PathsJson, VersionJson};
pub use doctor::DoctorJson;
pub use profile::{client_auth_text, credential_words, issuer_text, ProfileJson};
pub use session::{
    EndedJson, LogoutJson, RolesJson, SessionJson, SignedInStatus, SignedOutStatus, UserInfoJson,
};

/// Prints `value` as pretty JSON on stdout.
pub fn print(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

#[cfg(test)]
pub(crate) fn assert_json(value: &impl serde::Serialize, expected: &str) {
    let printed = serde_json::to_string_pretty(value).expect("serialises");
    assert_eq!(printed, expected.trim(), "printed:\n{printed}");
}
