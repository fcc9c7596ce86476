//! careid itself as JSON: `version` and `config paths`.

use serde::Serialize;

/// What `careid version --json` prints.
#[derive(Debug, Serialize)]
pub struct VersionJson {
    /// The git commit built from; null when built outside a git checkout.
    pub commit: Option<&'static str>,
    /// `release` or `debug`: a debug build keeps its keychain entries apart (`careid-dev`).
    pub profile: &'static str,
    /// The target triple built for, such as `x86_64-unknown-linux-gnu`.
    pub target: &'static str,
    /// careid's version, such as `0.1.0`.
    pub version: &'static str,
}

/// What `careid config paths --json` prints: where careid keeps its files.
#[derive(Debug, Serialize)]
pub struct PathsJson {
    /// The cache folder (providers' discovery documents and keys).
    pub cache_dir: String,
    /// The config folder, which holds the profiles file.
    pub config_dir: String,
    /// The keychain service careid's secrets and tokens are stored under.
    pub keychain_service: String,
    /// The profiles file, whether it exists yet or not.
    pub profiles_file: String,
    /// The state folder (sessions, sign-in history, the built-in mock's state).
    pub state_dir: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::assert_json;

    #[test]
    fn version_and_paths_print_their_fields_sorted() {
        assert_json(
            &VersionJson {
                commit: Some("0123456789ab"),
                profile: "release",
                target: "x86_64-unknown-linux-gnu",
                version: "0.1.0",
            },
            r#"
{
  "commit": "0123456789ab",
  "profile": "release",
  "target": "x86_64-unknown-linux-gnu",
  "version": "0.1.0"
}"#,
        );
        assert_json(
            &PathsJson {
                cache_dir: "/home/u/.cache/careid".into(),
                config_dir: "/home/u/.config/careid".into(),
                keychain_service: "careid".into(),
                profiles_file: "/home/u/.config/careid/profiles.toml".into(),
                state_dir: "/home/u/.local/state/careid".into(),
            },
            r#"
{
  "cache_dir": "/home/u/.cache/careid",
  "config_dir": "/home/u/.config/careid",
  "keychain_service": "careid",
  "profiles_file": "/home/u/.config/careid/profiles.toml",
  "state_dir": "/home/u/.local/state/careid"
}"#,
        );
    }
}
