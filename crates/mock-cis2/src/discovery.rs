//! The issuer and its discovery document (OpenID Connect Discovery 1.0 §3, RFC 9207 §3), shaped
//! like CIS2's published configuration.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::provider::{Provider, PushedRequests};

/// The path of CIS2's Healthcare realm under the host, as in every CIS2 issuer.
pub const CIS2_REALM_PATH: &str = "/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";

/// The issuer string, kept exactly as configured: CIS2 clients compare it as a string, so an
/// explicit default port (`:443`, `:80`) must survive into every endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    /// The default mock issuer on a loopback port: `localhost`, because WebAuthn refuses an IP
    /// address as a relying party.
    pub fn localhost(port: u16) -> Self {
        Self(format!("http://localhost:{port}{CIS2_REALM_PATH}"))
    }

    /// Any issuer string, used exactly as given (a trailing slash is kept too).
    pub fn exact(issuer: impl Into<String>) -> Self {
        Self(issuer.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An endpoint under the issuer, joined as text so the issuer's spelling is kept.
    pub fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.0.trim_end_matches('/'))
    }

    /// The discovery document, with CIS2's endpoint paths, scopes, `acr` values and methods.
    pub fn discovery_document(&self) -> Value {
        json!({
            "issuer": self.0,
            "authorization_endpoint": self.endpoint("/authorize"),
            "token_endpoint": self.endpoint("/access_token"),
            "userinfo_endpoint": self.endpoint("/userinfo"),
            "jwks_uri": self.endpoint("/connect/jwk_uri"),
            "end_session_endpoint": self.endpoint("/connect/endSession"),
            "revocation_endpoint": self.endpoint("/token/revoke"),
            "introspection_endpoint": self.endpoint("/introspect"),
            "pushed_authorization_request_endpoint": self.endpoint("/par"),
            "scopes_supported": [
                "openid", "profile", "email", "nhsperson", "associatedorgs", "nationalrbacaccess",
                "professionalmemberships", "organisationalmemberships", "selectedrole"
            ],
            "response_types_supported": ["code"],
            // CIS2 refuses form_post since release 11.01.
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "subject_types_supported": ["public"],
            "code_challenge_methods_supported": ["S256"],
            "acr_values_supported": [
                "AAL3_ANY", "AAL2_OR_AAL3_ANY", "AAL2_ANY", "AAL3_IOS", "AAL3_FIDO2",
                "AAL3_N3_SMARTCARD", "AAL3_CIS2_SMARTCARD", "AAL3_SMARTCARD", "AAL2_TOTP",
                "AAL2_NHSMAIL"
            ],
            // CIS2's four methods, all accepted; `none` is the mock's public-client extension.
            "token_endpoint_auth_methods_supported": [
                "client_secret_post", "client_secret_basic", "client_secret_jwt", "private_key_jwt",
                "none"
            ],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256", "RS512", "HS256", "HS512"],
            "id_token_signing_alg_values_supported": ["RS256", "RS512"],
            "userinfo_signing_alg_values_supported": ["RS256", "RS512"],
            "claims_supported": [
                "sub", "uid", "name", "given_name", "family_name", "email", "nhsid_useruid",
                "title", "initials", "middle_names", "display_name", "idassurancelevel",
                "nhsid_user_orgs", "nhsid_nrbac_roles", "nhsid_org_memberships",
                "selected_roleid", "id_assurance_level", "authentication_assurance_level", "acr",
                "amr", "auth_time", "sid"
            ],
            "authorization_response_iss_parameter_supported": true,
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true
        })
    }
}

/// The discovery endpoint: `{issuer}/.well-known/openid-configuration`.
pub(crate) async fn handle(State(provider): State<Arc<Provider>>) -> Json<Value> {
    let mut document = provider.issuer.discovery_document();
    match crate::modes::pushed_requests(&provider) {
        PushedRequests::Offered => {}
        PushedRequests::Required => {
            document["require_pushed_authorization_requests"] = Value::Bool(true);
        }
        PushedRequests::Off => {
            if let Some(members) = document.as_object_mut() {
                members.remove("pushed_authorization_request_endpoint");
            }
        }
    }
    if let Some(methods) = &provider.settings.token_auth_methods {
        document["token_endpoint_auth_methods_supported"] =
            methods.iter().map(|method| method.as_str()).collect();
    }
    if let Some(methods) = &provider.settings.revocation_auth_methods {
        document["revocation_endpoint_auth_methods_supported"] =
            methods.iter().map(|method| method.as_str()).collect();
    }
    crate::modes::discovery(&provider, &mut document);
    Json(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localhost_issuer_uses_the_cis2_realm_path() {
        assert_eq!(
            Issuer::localhost(8443).as_str(),
            "http://localhost:8443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare"
        );
    }

    #[test]
    fn explicit_default_port_survives_into_every_endpoint() {
        let issuer = Issuer::exact(format!("https://am.example.nhs.uk:443{CIS2_REALM_PATH}"));
        let document = issuer.discovery_document();
        assert_eq!(document["issuer"], issuer.as_str());
        let endpoints = [
            ("authorization_endpoint", "/authorize"),
            ("token_endpoint", "/access_token"),
            ("userinfo_endpoint", "/userinfo"),
            ("jwks_uri", "/connect/jwk_uri"),
            ("end_session_endpoint", "/connect/endSession"),
            ("revocation_endpoint", "/token/revoke"),
            ("introspection_endpoint", "/introspect"),
            ("pushed_authorization_request_endpoint", "/par"),
        ];
        for (field, path) in endpoints {
            let expected = format!("https://am.example.nhs.uk:443{CIS2_REALM_PATH}{path}");
            assert_eq!(document[field], expected.as_str(), "{field}");
        }
    }

    #[test]
    fn advertises_only_what_cis2_supports_for_the_flow() {
        let document = Issuer::localhost(1).discovery_document();
        assert_eq!(document["response_types_supported"], json!(["code"]));
        assert_eq!(document["response_modes_supported"], json!(["query"]));
        assert_eq!(
            document["code_challenge_methods_supported"],
            json!(["S256"])
        );
        assert_eq!(
            document["authorization_response_iss_parameter_supported"],
            json!(true)
        );
        assert_eq!(
            document["id_token_signing_alg_values_supported"],
            json!(["RS256", "RS512"])
        );
    }
}
