//! What `--json` prints: one transfer type per command's output, built from the core's values.
//!
//! This is the CLI's stable interface for scripts (docs/json.md, with a JSON Schema per output in
//! docs/json/): fields are added, never renamed or removed, without a major version. So nothing
//! the core serialises reaches stdout as it is; each field here is copied from the core by
//! name, and a change in the core cannot change this output unseen. The tests compare each type
//! with its JSON, text for text; the e2e tests check each command's output against its schema.
//!
//! A user, a role, an organisation and a time are said one way by every command
//! ([`shared`]).

mod about;
mod doctor;
mod history;
mod profile;
mod session;
pub mod shared;

pub use about::{PathsJson, VersionJson};
pub use doctor::DoctorJson;
pub use history::{AttemptSummaryJson, ExportJson, KeepJson};
pub use profile::{
    client_auth_text, credential_words, issuer_text, ProfileJson, ProfileRemovedJson, SecretJson,
};
pub use session::{
    EndedJson, LogoutJson, RoleChangeJson, RolesJson, SessionJson, SignedInStatus, SignedOutStatus,
    TokenJson, UserInfoJson,
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
