//! The registered relying parties: loaded from a data file, with exact redirect URI matching
//! (RFC 6749 §3.1.2.3, OpenID Connect Core 1.0 §3.1.2.1) and optional loopback port-agnostic
//! matching (RFC 8252 §7.3).

use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;
use url::{Host, Url};

use crate::error::DataError;
use crate::keys::SigningAlgorithm;

/// The built-in clients, shared with tests through the file itself.
pub const BUILTIN_CLIENTS_JSON: &str = include_str!("../data/clients.json");

/// How a client authenticates at the token endpoint (RFC 6749 §2.3, OpenID Connect Core 1.0 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// An HS256 or HS512 client assertion keyed with the client secret (RFC 7523 §2.2).
    ClientSecretJwt,
    /// An RS256 or RS512 client assertion signed with a key from the client's JWKS (RFC 7523 §2.2).
    PrivateKeyJwt,
    /// A public client. Not CIS2 behaviour: CIS2 registers confidential clients only.
    None,
}

impl ClientAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }
}

fn default_alg() -> SigningAlgorithm {
    SigningAlgorithm::RS256
}

/// One registered client.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisteredClient {
    pub client_id: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub client_secret: Option<String>,
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// A `private_key_jwt` client's public keys, inline (a JWK Set, RFC 7517 §5).
    #[serde(default)]
    pub jwks: Option<serde_json::Value>,
    /// Where a `private_key_jwt` client publishes its keys, fetched when an assertion arrives.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    pub redirect_uris: Vec<String>,
    /// PKCE with S256 is required for every authorization request.
    #[serde(default)]
    pub pkce_required: bool,
    /// A loopback IP redirect URI matches on any port (RFC 8252 §7.3).
    #[serde(default)]
    pub loopback_any_port: bool,
    /// Whether the token endpoint issues refresh tokens to this client.
    #[serde(default)]
    pub refresh_tokens: bool,
    /// UserInfo answers as a signed JWT (`application/jwt`) rather than JSON.
    #[serde(default)]
    pub userinfo_signed: bool,
    /// The algorithm of signed UserInfo (OpenID Connect Dynamic Client Registration 1.0 §2):
    /// RS256 or RS512, as CIS2 registers it (REFERENCE §2).
    #[serde(default = "default_alg")]
    pub userinfo_signed_response_alg: SigningAlgorithm,
    #[serde(default = "default_alg")]
    pub id_token_signed_response_alg: SigningAlgorithm,
    /// Where end-session may send the browser back (RP-Initiated Logout 1.0 §3), matched
    /// exactly; none registered means the provider shows its own signed-out page.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Where the provider POSTs a logout token when a session this client received tokens in
    /// ends (Back-Channel Logout 1.0 §2.2). The mock also accepts `http` for loopback tests.
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
}

impl RegisteredClient {
    /// Whether `requested` is one of the registered redirect URIs: compared as exact strings,
    /// or, for a client registered for it, as a loopback IP URI whose port alone differs.
    pub fn accepts_redirect_uri(&self, requested: &str) -> bool {
        if self
            .redirect_uris
            .iter()
            .any(|registered| registered == requested)
        {
            return true;
        }
        self.loopback_any_port
            && self
                .redirect_uris
                .iter()
                .any(|registered| same_loopback_uri_but_port(registered, requested))
    }
}

/// RFC 8252 §7.3 matching: both URIs are `http` on the same loopback IP literal, with the same
/// path and query; only the port may differ. `localhost` is deliberately excluded (RFC 8252 §8.3).
fn same_loopback_uri_but_port(registered: &str, requested: &str) -> bool {
    let (Ok(registered), Ok(requested)) = (Url::parse(registered), Url::parse(requested)) else {
        return false;
    };
    let loopback_ip = |url: &Url| match url.host() {
        Some(Host::Ipv4(ip)) => Some(IpAddr::V4(ip)).filter(IpAddr::is_loopback),
        Some(Host::Ipv6(ip)) => Some(IpAddr::V6(ip)).filter(IpAddr::is_loopback),
        _ => None,
    };
    registered.scheme() == "http"
        && requested.scheme() == "http"
        && loopback_ip(&registered).is_some()
        && loopback_ip(&registered) == loopback_ip(&requested)
        && registered.path() == requested.path()
        && registered.query() == requested.query()
        && requested.fragment().is_none()
        && requested.username().is_empty()
        && requested.password().is_none()
}

#[derive(Debug, Deserialize)]
struct ClientsFile {
    clients: Vec<RegisteredClient>,
}

/// The client id of the broker registration [`broker_client`] makes.
pub const BROKER_CLIENT_ID: &str = "555000000008.apps.national";

/// A careid broker registered as CIS2 would register it: `private_key_jwt` with the broker's
/// published keys (`jwks_uri = {broker}/jwks`, fetched at every assertion), its back-channel
/// logout URI (`{broker}/backchannel-logout`), and the loopback redirect URIs of careid on
/// any port (the broker holds clients to its own exact list). `broker` is the broker's public
/// URL, without a trailing slash.
pub fn broker_client(broker: &str) -> RegisteredClient {
    let broker = broker.trim_end_matches('/');
    RegisteredClient {
        client_id: BROKER_CLIENT_ID.to_owned(),
        description: format!(
            "A careid broker at {broker}: private_key_jwt with the broker's JWKS, back-channel \
             logout to the broker, PKCE required, loopback redirects on any port, refresh tokens"
        ),
        client_secret: None,
        token_endpoint_auth_method: ClientAuthMethod::PrivateKeyJwt,
        jwks: None,
        jwks_uri: Some(format!("{broker}/jwks")),
        redirect_uris: vec![
            "http://127.0.0.1/callback".to_owned(),
            "http://[::1]/callback".to_owned(),
        ],
        pkce_required: true,
        loopback_any_port: true,
        refresh_tokens: true,
        userinfo_signed: false,
        userinfo_signed_response_alg: SigningAlgorithm::RS256,
        id_token_signed_response_alg: SigningAlgorithm::RS256,
        post_logout_redirect_uris: Vec::new(),
        backchannel_logout_uri: Some(format!("{broker}/backchannel-logout")),
    }
}

/// All registered clients.
#[derive(Debug, Clone)]
pub struct ClientRegistry {
    clients: Vec<RegisteredClient>,
}

impl ClientRegistry {
    /// The clients shipped with the mock (`data/clients.json`).
    pub fn builtin() -> Self {
        Self::from_json(BUILTIN_CLIENTS_JSON, "built-in clients.json")
            .expect("the built-in clients file is valid")
    }

    pub fn from_path(path: &Path) -> Result<Self, DataError> {
        let (file, what) = DataError::parse_file(path)?;
        Self::from_file(file, &what)
    }

    /// Parses a clients file; `what` names it in errors.
    pub fn from_json(text: &str, what: &str) -> Result<Self, DataError> {
        Self::from_file(DataError::parse_json(text, what)?, what)
    }

    fn from_file(file: ClientsFile, what: &str) -> Result<Self, DataError> {
        let invalid = |problem: String| DataError::Invalid {
            what: what.to_owned(),
            problem,
        };
        for (index, client) in file.clients.iter().enumerate() {
            let id = &client.client_id;
            if file.clients[..index]
                .iter()
                .any(|other| &other.client_id == id)
            {
                return Err(invalid(format!("client {id} appears twice")));
            }
            let has_secret = client
                .client_secret
                .as_deref()
                .is_some_and(|s| !s.is_empty());
            match (client.token_endpoint_auth_method, has_secret) {
                (ClientAuthMethod::None, true) => {
                    return Err(invalid(format!(
                        "public client {id} must not have a secret"
                    )))
                }
                (
                    ClientAuthMethod::ClientSecretBasic
                    | ClientAuthMethod::ClientSecretPost
                    | ClientAuthMethod::ClientSecretJwt,
                    false,
                ) => return Err(invalid(format!("client {id} needs a client_secret"))),
                _ => {}
            }
            let has_keys = client.jwks.is_some() || client.jwks_uri.is_some();
            match (client.token_endpoint_auth_method, has_keys) {
                (ClientAuthMethod::PrivateKeyJwt, false) => {
                    return Err(invalid(format!("client {id} needs jwks or a jwks_uri")))
                }
                (ClientAuthMethod::PrivateKeyJwt, true) => {}
                (_, true) => {
                    return Err(invalid(format!(
                        "client {id}: jwks and jwks_uri are for private_key_jwt only"
                    )))
                }
                (_, false) => {}
            }
            if client.redirect_uris.is_empty() {
                return Err(invalid(format!("client {id} has no redirect URI")));
            }
            if let Some(bad) = client
                .redirect_uris
                .iter()
                .find(|uri| Url::parse(uri).map_or(true, |url| url.fragment().is_some()))
            {
                return Err(invalid(format!(
                    "client {id}: redirect URI {bad:?} is not an absolute URI without fragment"
                )));
            }
            // Back-Channel Logout 1.0 §2.2 and RP-Initiated Logout 1.0 §3: both are absolute
            // URIs without a fragment, like redirect URIs.
            if let Some(bad) = client
                .post_logout_redirect_uris
                .iter()
                .chain(client.backchannel_logout_uri.as_ref())
                .find(|uri| Url::parse(uri).map_or(true, |url| url.fragment().is_some()))
            {
                return Err(invalid(format!(
                    "client {id}: logout URI {bad:?} is not an absolute URI without fragment"
                )));
            }
        }
        Ok(Self {
            clients: file.clients,
        })
    }

    /// These clients and `client`, which replaces any registered under its id.
    pub fn with(mut self, client: RegisteredClient) -> Self {
        self.clients
            .retain(|registered| registered.client_id != client.client_id);
        self.clients.push(client);
        self
    }

    pub fn get(&self, client_id: &str) -> Option<&RegisteredClient> {
        self.clients
            .iter()
            .find(|client| client.client_id == client_id)
    }

    pub fn clients(&self) -> &[RegisteredClient] {
        &self.clients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(loopback_any_port: bool) -> RegisteredClient {
        RegisteredClient {
            client_id: "555000000009.apps.local".into(),
            description: String::new(),
            client_secret: Some("secret".into()),
            token_endpoint_auth_method: ClientAuthMethod::ClientSecretBasic,
            jwks: None,
            jwks_uri: None,
            redirect_uris: vec![
                "http://127.0.0.1/callback".into(),
                "http://[::1]:7000/callback".into(),
                "http://localhost:8765/callback".into(),
            ],
            pkce_required: true,
            loopback_any_port,
            refresh_tokens: true,
            userinfo_signed: false,
            id_token_signed_response_alg: SigningAlgorithm::RS256,
            userinfo_signed_response_alg: SigningAlgorithm::RS256,
            post_logout_redirect_uris: Vec::new(),
            backchannel_logout_uri: None,
        }
    }

    #[test]
    fn redirect_uri_matching() {
        let cases = [
            // (loopback_any_port, requested, accepted)
            (false, "http://127.0.0.1/callback", true),
            (false, "http://127.0.0.1:50000/callback", false),
            (true, "http://127.0.0.1:50000/callback", true),
            (true, "http://[::1]:50001/callback", true),
            (true, "http://127.0.0.1:50000/other", false),
            (true, "http://127.0.0.1:50000/callback?extra=1", false),
            (true, "https://127.0.0.1:50000/callback", false),
            (true, "http://127.0.0.2:50000/callback", false),
            // RFC 8252 §7.3 is for IP literals; `localhost` stays exact.
            (true, "http://localhost:9999/callback", false),
            (true, "http://localhost:8765/callback", true),
            (false, "http://localhost:8765/callback/", false),
            // A `localhost` registration is matched exactly, and is not the IP literal.
            (false, "http://localhost:8765/callback", true),
            (false, "http://127.0.0.1:8765/callback", false),
            (false, "http://LOCALHOST:8765/callback", false),
            (false, "http://localhost:8766/callback", false),
            (true, "http://127.0.0.1:50000/callback#fragment", false),
        ];
        for (any_port, requested, expected) in cases {
            assert_eq!(
                client(any_port).accepts_redirect_uri(requested),
                expected,
                "{requested} with loopback_any_port={any_port}"
            );
        }
    }

    #[test]
    fn builtin_clients_offer_each_method() {
        let registry = ClientRegistry::builtin();
        let methods: Vec<ClientAuthMethod> = registry
            .clients()
            .iter()
            .map(|client| client.token_endpoint_auth_method)
            .collect();
        assert_eq!(
            methods,
            [
                ClientAuthMethod::ClientSecretBasic,
                ClientAuthMethod::ClientSecretPost,
                ClientAuthMethod::None,
                ClientAuthMethod::ClientSecretJwt,
                ClientAuthMethod::PrivateKeyJwt,
                // The client that gets no refresh token (and any loopback port).
                ClientAuthMethod::ClientSecretBasic,
            ]
        );
        assert!(!registry.clients()[5].refresh_tokens);
        let public = &registry.clients()[2];
        assert!(public.description.contains("NOT CIS2 BEHAVIOUR"));
    }

    #[test]
    fn a_broker_is_registered_with_its_jwks_and_logout_uris() {
        let registry = ClientRegistry::builtin().with(broker_client("https://broker.example/"));
        let broker = registry.get(BROKER_CLIENT_ID).expect("registered");
        assert_eq!(
            broker.token_endpoint_auth_method,
            ClientAuthMethod::PrivateKeyJwt
        );
        assert_eq!(
            broker.jwks_uri.as_deref(),
            Some("https://broker.example/jwks")
        );
        assert_eq!(
            broker.backchannel_logout_uri.as_deref(),
            Some("https://broker.example/backchannel-logout")
        );
        assert!(broker.accepts_redirect_uri("http://127.0.0.1:23741/callback"));
        assert!(broker.client_secret.is_none() && broker.jwks.is_none());
        // Registering again replaces the earlier registration.
        let again = registry.with(broker_client("https://other.example"));
        assert_eq!(
            again
                .clients()
                .iter()
                .filter(|client| client.client_id == BROKER_CLIENT_ID)
                .count(),
            1
        );
        assert_eq!(
            again.get(BROKER_CLIENT_ID).unwrap().jwks_uri.as_deref(),
            Some("https://other.example/jwks")
        );
    }

    #[test]
    fn rejects_inconsistent_registrations() {
        let cases = [
            (
                r#"{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","client_secret":"s","redirect_uris":["http://127.0.0.1/cb"]}]}"#,
                "must not have a secret",
            ),
            (
                r#"{"clients":[{"client_id":"a","token_endpoint_auth_method":"client_secret_post","redirect_uris":["http://127.0.0.1/cb"]}]}"#,
                "needs a client_secret",
            ),
            (
                r#"{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","redirect_uris":[]}]}"#,
                "no redirect URI",
            ),
            (
                r#"{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","redirect_uris":["/relative"]}]}"#,
                "not an absolute URI",
            ),
            (
                r#"{"clients":[{"client_id":"a","token_endpoint_auth_method":"private_key_jwt","redirect_uris":["http://127.0.0.1/cb"]}]}"#,
                "needs jwks or a jwks_uri",
            ),
            (
                r#"{"clients":[{"client_id":"a","token_endpoint_auth_method":"client_secret_jwt","redirect_uris":["http://127.0.0.1/cb"]}]}"#,
                "needs a client_secret",
            ),
            (
                r#"{"clients":[{"client_id":"a","client_secret":"s","token_endpoint_auth_method":"client_secret_basic","jwks_uri":"http://127.0.0.1/jwks","redirect_uris":["http://127.0.0.1/cb"]}]}"#,
                "for private_key_jwt only",
            ),
            (
                r#"{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1/cb"],"backchannel_logout_uri":"/logout"}]}"#,
                "logout URI",
            ),
            (
                r#"{"clients":[{"client_id":"a","token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1/cb"],"post_logout_redirect_uris":["http://127.0.0.1/bye#x"]}]}"#,
                "logout URI",
            ),
        ];
        for (text, expected) in cases {
            let error = ClientRegistry::from_json(text, "test").unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
}
