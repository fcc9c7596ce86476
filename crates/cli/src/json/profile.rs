//! A profile as JSON: `profile show` and `profile list`. Whether its secret is stored, never the
//! secret.

use careid_core::{Credential, IssuerSource, Profile, RoleSelection};
use serde::Serialize;

/// Everything a profile holds, and what it needs before it can sign in.
#[derive(Debug, Serialize)]
pub struct ProfileJson {
    /// Hours after sign-in that end a session whatever happens.
    pub absolute_hours: u32,
    /// `acr_values` asked for; null for none.
    pub acr_values: Option<String>,
    /// The client assertion's algorithm; null for the key's or method's default.
    pub assertion_algorithm: Option<String>,
    /// The broker that holds the credential and relays the token requests; null for none.
    pub broker: Option<String>,
    /// One of careid's own profiles (mock, int, dep, live).
    pub built_in: bool,
    /// The client authentication method, or `by the broker`.
    pub client_auth: &'static str,
    /// Null until the client id is given.
    pub client_id: Option<String>,
    /// Clock skew allowed when checking token times, in seconds.
    pub clock_skew_seconds: u32,
    /// `client secret` or `private key`; null when the profile keeps none (the built-in mock,
    /// a broker, `none`).
    pub credential: Option<&'static str>,
    /// Whether that credential is in the keychain; null when there is none to keep or the
    /// keychain could not be read.
    pub credential_stored: Option<bool>,
    /// The profile used when a command is given no `--profile` (`careid profile use`).
    pub default: bool,
    pub description: String,
    /// Minutes of inactivity that end a session.
    pub inactivity_minutes: u32,
    /// The issuer, exactly as the provider publishes it (or what the built-in mock is).
    pub issuer: String,
    /// The `kid` of assertions, when not the key's thumbprint; null otherwise.
    pub key_id: Option<String>,
    /// `max_age` in seconds; null for none.
    pub max_age: Option<u32>,
    /// The lowest `id_assurance_level` an ID token may carry; null checks none.
    pub min_id_assurance_level: Option<u8>,
    /// What the profile needs before it can sign in, such as `a client id`; empty when ready.
    pub missing: Vec<&'static str>,
    pub name: String,
    /// Whether the authorization request is pushed (RFC 9126): `auto`, `always` or `never`.
    pub par: &'static str,
    /// `prompt` sent; null for none.
    pub prompt: Option<String>,
    /// careid listens on any free port (`redirect_uris` is then empty).
    pub redirect_any_port: bool,
    /// `127.0.0.1` or `localhost`.
    pub redirect_host: &'static str,
    pub redirect_path: String,
    /// Ports tried in order; empty for any free port.
    pub redirect_ports: Vec<u16>,
    /// What to register with the provider, in one sentence.
    pub redirect_register: String,
    /// Every redirect URI careid may send, exactly as sent.
    pub redirect_uris: Vec<String>,
    /// Who asks for the role: `app` or `cis2`.
    pub role_selection: RoleSelectionJson,
    pub scopes: Vec<String>,
    /// Audiences besides the client id that ID tokens may also name.
    pub trusted_audiences: Vec<String>,
    /// Whether UserInfo is asked for as a signed JWT.
    pub userinfo_signed: bool,
}

impl ProfileJson {
    /// `profile`, with whether its credential is stored, as the keychain said (`None` when it
    /// keeps none or could not be read).
    pub fn new(profile: &Profile, credential_stored: Option<bool>, default: bool) -> Self {
        let redirect = profile.redirect_registration();
        Self {
            absolute_hours: profile.session.absolute_hours,
            acr_values: profile.acr_values.clone().map(String::from),
            assertion_algorithm: profile.assertion_algorithm.map(String::from),
            broker: profile.broker.clone(),
            built_in: profile.built_in,
            client_auth: client_auth_text(profile),
            client_id: profile.client_id.clone().map(String::from),
            clock_skew_seconds: profile.session.clock_skew_seconds,
            credential: profile
                .credential_account()
                .map(|_| credential_words(profile)),
            credential_stored,
            default,
            description: profile.description.clone(),
            inactivity_minutes: profile.session.inactivity_minutes,
            issuer: issuer_text(profile),
            key_id: profile.key_id.clone(),
            max_age: profile.max_age,
            min_id_assurance_level: profile.min_id_assurance_level,
            missing: profile.missing(),
            name: profile.name.clone(),
            par: profile.par.as_str(),
            prompt: profile.prompt.clone(),
            redirect_any_port: redirect.any_port,
            redirect_host: profile.redirect_host.as_str(),
            redirect_path: profile.redirect_path.clone(),
            redirect_ports: profile.redirect_ports.clone(),
            redirect_register: redirect.advice(),
            // Exactly as careid sends them; empty when any loopback port must be accepted.
            redirect_uris: redirect.uris.iter().map(ToString::to_string).collect(),
            role_selection: profile.role_selection.into(),
            scopes: profile.scopes.clone(),
            trusted_audiences: profile.trusted_audiences.clone(),
            userinfo_signed: profile.userinfo_signed,
        }
    }
}

/// Who asks for the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleSelectionJson {
    /// careid, from UserInfo.
    App,
    /// CIS2's own role picker.
    Cis2,
}

impl From<RoleSelection> for RoleSelectionJson {
    fn from(selection: RoleSelection) -> Self {
        match selection {
            RoleSelection::App => Self::App,
            RoleSelection::Cis2 => Self::Cis2,
        }
    }
}

/// What the profile keeps in the keychain, in words (also for the messages on stderr).
pub fn credential_words(profile: &Profile) -> &'static str {
    match profile.client_auth.credential() {
        Some(Credential::PrivateKey) => "private key",
        _ => "client secret",
    }
}

/// The profile's client authentication: the broker's, for a profile with one.
pub fn client_auth_text(profile: &Profile) -> &'static str {
    if profile.broker.is_some() {
        "by the broker"
    } else {
        profile.client_auth.as_str()
    }
}

/// The issuer, or what the built-in mock's is.
pub fn issuer_text(profile: &Profile) -> String {
    match &profile.issuer {
        IssuerSource::Url(issuer) => issuer.to_string(),
        IssuerSource::BuiltInMock => "(built-in mock, started when needed)".to_owned(),
    }
}

/// `profile remove`: which profile is gone.
#[derive(Debug, Serialize)]
pub struct ProfileRemovedJson {
    pub profile: String,
    /// Always true: a profile that cannot be removed is an error (exit 2).
    pub removed: bool,
}

impl ProfileRemovedJson {
    pub fn new(name: &str) -> Self {
        Self {
            profile: name.to_owned(),
            removed: true,
        }
    }
}

/// `profile secret set` and `delete`: whether the profile's credential is in the keychain now.
/// Never the credential.
#[derive(Debug, Serialize)]
pub struct SecretJson {
    pub profile: String,
    /// `client secret` or `private key`; null when the profile keeps none.
    pub credential: Option<&'static str>,
    pub stored: bool,
}

impl SecretJson {
    pub fn new(profile: &Profile, stored: bool) -> Self {
        Self {
            profile: profile.name.clone(),
            credential: profile
                .credential_account()
                .map(|_| credential_words(profile)),
            stored,
        }
    }
}

#[cfg(test)]
mod tests {
    use careid_core::profile::built_in_mock;
    use careid_core::{ClientAuth, IssuerSource, RedirectHost, RoleSelection};

    use super::ProfileJson;
    use crate::json::assert_json;

    #[test]
    fn the_built_in_mock_prints_its_fields_sorted() {
        assert_json(
            &ProfileJson::new(&built_in_mock(), None, true),
            r#"
{
  "absolute_hours": 12,
  "acr_values": null,
  "assertion_algorithm": null,
  "broker": null,
  "built_in": true,
  "client_auth": "client_secret_basic",
  "client_id": "555000000001.apps.local",
  "clock_skew_seconds": 120,
  "credential": null,
  "credential_stored": null,
  "default": true,
  "description": "The built-in mock CIS2 provider (no network)",
  "inactivity_minutes": 15,
  "issuer": "(built-in mock, started when needed)",
  "key_id": null,
  "max_age": null,
  "min_id_assurance_level": null,
  "missing": [],
  "name": "mock",
  "par": "auto",
  "prompt": "login",
  "redirect_any_port": true,
  "redirect_host": "127.0.0.1",
  "redirect_path": "/callback",
  "redirect_ports": [],
  "redirect_register": "careid listens on any free port: the provider must accept any loopback port for http://127.0.0.1/callback (RFC 8252 §7.3); register fixed ports with --redirect-port if it does not",
  "redirect_uris": [],
  "role_selection": "app",
  "scopes": [
    "openid",
    "profile",
    "nhsperson",
    "associatedorgs",
    "nationalrbacaccess"
  ],
  "trusted_audiences": [],
  "userinfo_signed": false
}"#,
        );
    }

    /// A profile that needs a private key it does not have yet, with every optional setting.
    #[test]
    fn a_custom_profile_prints_what_it_needs() {
        let mut profile = built_in_mock();
        profile.name = "own".to_owned();
        profile.description = String::new();
        profile.built_in = false;
        profile.issuer = IssuerSource::Url(
            careid_core::IssuerUrl::new("https://provider.example/realm").unwrap(),
        );
        profile.client_id = None;
        profile.client_auth = ClientAuth::PrivateKeyJwt;
        profile.assertion_algorithm = Some("RS512".parse().unwrap());
        profile.key_id = Some("k1".to_owned());
        profile.redirect_ports = vec![23741, 23742];
        profile.redirect_host = RedirectHost::Localhost;
        profile.scopes = vec!["openid".to_owned()];
        profile.acr_values = Some("AAL3_ANY".into());
        profile.prompt = None;
        profile.max_age = Some(60);
        profile.min_id_assurance_level = Some(3);
        profile.role_selection = RoleSelection::Cis2;
        profile.userinfo_signed = true;
        profile.session.inactivity_minutes = 5;
        profile.session.absolute_hours = 2;
        profile.session.clock_skew_seconds = 30;
        profile.trusted_audiences = vec!["other".to_owned()];
        assert_json(
            &ProfileJson::new(&profile, Some(false), false),
            r#"
{
  "absolute_hours": 2,
  "acr_values": "AAL3_ANY",
  "assertion_algorithm": "RS512",
  "broker": null,
  "built_in": false,
  "client_auth": "private_key_jwt",
  "client_id": null,
  "clock_skew_seconds": 30,
  "credential": "private key",
  "credential_stored": false,
  "default": false,
  "description": "",
  "inactivity_minutes": 5,
  "issuer": "https://provider.example/realm",
  "key_id": "k1",
  "max_age": 60,
  "min_id_assurance_level": 3,
  "missing": [
    "a client id"
  ],
  "name": "own",
  "par": "auto",
  "prompt": null,
  "redirect_any_port": false,
  "redirect_host": "localhost",
  "redirect_path": "/callback",
  "redirect_ports": [
    23741,
    23742
  ],
  "redirect_register": "register every one of these redirect URIs for the client (careid uses the first free port): http://localhost:23741/callback, http://localhost:23742/callback",
  "redirect_uris": [
    "http://localhost:23741/callback",
    "http://localhost:23742/callback"
  ],
  "role_selection": "cis2",
  "scopes": [
    "openid"
  ],
  "trusted_audiences": [
    "other"
  ],
  "userinfo_signed": true
}"#,
        );
    }

    /// A profile with a broker keeps no credential: the broker authenticates the client.
    #[test]
    fn a_broker_profile_keeps_no_credential() {
        let mut profile = built_in_mock();
        profile.issuer = IssuerSource::Url(
            careid_core::IssuerUrl::new("https://provider.example/realm").unwrap(),
        );
        profile.broker = Some("https://broker.example".to_owned());
        let shown = ProfileJson::new(&profile, None, false);
        assert_eq!(shown.client_auth, "by the broker");
        assert_eq!(shown.credential, None);
        assert_eq!(shown.broker.as_deref(), Some("https://broker.example"));
    }
}
