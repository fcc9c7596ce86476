//! A browser stand-in for the sign-in pages: a plain HTTP client that keeps cookies, reads the
//! pending sign-in from each page and submits the forms, and verifies the resulting ID token
//! through the independent `openidconnect` crate (OpenID Connect Core 1.0 §3.1.3.7).

use mock_cis2::{MockCis2, RunningMock};
use openidconnect::core::{CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, IssuerUrl, Nonce, PkceCodeVerifier, RedirectUrl,
    TokenResponse,
};
use serde_json::Value;

use crate::support::*;

/// What a step answered: a page (with its status) or a redirect to the client.
#[derive(Debug)]
pub enum Outcome {
    Page { status: u16, html: String },
    Redirect(Vec<(String, String)>),
}

impl Outcome {
    pub async fn of(response: reqwest::Response) -> Self {
        match location_query(&response) {
            Some(query) => Self::Redirect(query),
            None => Self::Page {
                status: response.status().as_u16(),
                html: response.text().await.expect("a page"),
            },
        }
    }

    /// The page's HTML, failing the test if the step redirected.
    pub fn page(&self) -> &str {
        match self {
            Self::Page { html, .. } => html,
            Self::Redirect(query) => panic!("expected a page, got a redirect with {query:?}"),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::Page { status, .. } => *status,
            Self::Redirect(_) => 302,
        }
    }

    /// The redirect's query, failing the test if the step showed a page.
    pub fn redirect(&self) -> &[(String, String)] {
        match self {
            Self::Redirect(query) => query,
            Self::Page { status, html } => panic!("expected a redirect, got {status}: {html}"),
        }
    }

    /// The pending sign-in's handle from the page's hidden field.
    pub fn pending(&self) -> String {
        self.page()
            .split("name=\"pending\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a pending sign-in on the page")
            .to_owned()
    }
}

pub const NONCE: &str = "nonce-456";

/// A mock without auto-login: every sign-in goes through the pages.
pub async fn start_with_pages() -> RunningMock {
    MockCis2::new().start().await.expect("the mock starts")
}

/// One browser: its own cookie jar, so its own SSO session.
pub struct Browser {
    http: reqwest::Client,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            http: crate::support::http()
                .redirect(reqwest::redirect::Policy::none())
                .cookie_store(true)
                .build()
                .expect("an HTTP client"),
        }
    }

    /// A valid authorize request for the basic client with `params` replacing or adding to it.
    pub async fn authorize(&self, mock: &RunningMock, params: &[(&str, &str)]) -> Outcome {
        let (_, challenge) = pkce_pair("browser");
        let mut request: Vec<(&str, String)> = valid_request(&challenge)
            .into_iter()
            .filter(|(name, _)| !params.iter().any(|(replaced, _)| replaced == name))
            .collect();
        request.extend(
            params
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned())),
        );
        let url = url::Url::parse_with_params(&format!("{}/authorize", mock.issuer()), &request)
            .expect("an authorize URL");
        Outcome::of(self.http.get(url).send().await.expect("the mock answers")).await
    }

    /// Posts a sign-in form with the pending handle and `fields`.
    pub async fn submit(
        &self,
        mock: &RunningMock,
        pending: &str,
        fields: &[(&str, &str)],
    ) -> Outcome {
        let mut form = vec![("pending", pending)];
        form.extend_from_slice(fields);
        let response = self
            .http
            .post(format!("{}/authorize/sign-in", mock.issuer()))
            .form(&form)
            .send()
            .await
            .expect("the mock answers");
        Outcome::of(response).await
    }

    /// The role picker's search: a GET, as the page's search form sends it.
    pub async fn search_roles(&self, mock: &RunningMock, pending: &str, search: &str) -> Outcome {
        let response = self
            .http
            .get(format!("{}/authorize/sign-in", mock.issuer()))
            .query(&[("pending", pending), ("search", search)])
            .send()
            .await
            .expect("the mock answers");
        Outcome::of(response).await
    }

    /// From the first page: the user, the authenticator, then the step's `fields`.
    pub async fn sign_in(
        &self,
        mock: &RunningMock,
        first_page: &Outcome,
        user: &str,
        authenticator: &str,
        fields: &[(&str, &str)],
    ) -> Outcome {
        let pending = first_page.pending();
        let chooser = self
            .submit(mock, &pending, &[("step", "user"), ("user", user)])
            .await;
        assert_eq!(chooser.status(), 200, "{}", chooser.page());
        let step = self
            .submit(
                mock,
                &pending,
                &[("step", "authenticator"), ("authenticator", authenticator)],
            )
            .await;
        assert_eq!(step.status(), 200, "{}", step.page());
        let mut form = vec![("step", "verify")];
        form.extend_from_slice(fields);
        self.submit(mock, &pending, &form).await
    }
}

/// The six-digit TOTP code of a base32 secret now (RFC 6238, SHA-1, 30 s), computed here
/// independently of the mock's own implementation.
pub fn totp_now(secret_base32: &str) -> String {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = String::new();
    for character in secret_base32.chars() {
        let value = alphabet.find(character).expect("base32");
        bits.push_str(&format!("{value:05b}"));
    }
    let secret: Vec<u8> = bits
        .as_bytes()
        .chunks(8)
        .filter(|chunk| chunk.len() == 8)
        .map(|chunk| u8::from_str_radix(std::str::from_utf8(chunk).unwrap(), 2).unwrap())
        .collect();
    let counter = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &secret);
    let digest = aws_lc_rs::hmac::sign(&key, &counter.to_be_bytes());
    let digest = digest.as_ref();
    let offset = usize::from(digest[19] & 0x0f);
    let value = u32::from_be_bytes(digest[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

/// A user's field from the shared users file.
pub fn user_field(user_id: &str, field: &str) -> String {
    let users: Value = serde_json::from_str(mock_cis2::BUILTIN_USERS_JSON).unwrap();
    users["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|user| user["claims"]["sub"] == user_id)
        .and_then(|user| user[field].as_str())
        .unwrap_or_else(|| panic!("user {user_id} has a {field}"))
        .to_owned()
}

/// Redeems the code of a successful redirect with `openidconnect` and returns the verified ID
/// token's claims (signature, `iss`, `aud`, nonce, expiry checked by the crate).
pub async fn verified_claims(mock: &RunningMock, redirect: &[(String, String)]) -> Value {
    assert_eq!(param(redirect, "iss"), Some(mock.issuer()));
    assert_eq!(param(redirect, "state"), Some("state-123"));
    let code = param(redirect, "code").expect("a code");
    let http = no_redirects();
    let metadata = CoreProviderMetadata::discover_async(
        IssuerUrl::new(mock.issuer().to_owned()).unwrap(),
        &http,
    )
    .await
    .expect("discovery");
    let oidc = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(BASIC_CLIENT.to_owned()),
        Some(ClientSecret::new(secret(BASIC_CLIENT))),
    )
    .set_redirect_uri(RedirectUrl::new(LOOPBACK_REDIRECT.to_owned()).unwrap());
    let (verifier, _) = pkce_pair("browser");
    let tokens = oidc
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .unwrap()
        .set_pkce_verifier(PkceCodeVerifier::new(verifier))
        .request_async(&http)
        .await
        .expect("token exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = oidc.id_token_verifier().set_allowed_algs(vec![
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    ]);
    id_token
        .claims(&verifier, &Nonce::new(NONCE.to_owned()))
        .expect("the ID token verifies");
    jwt_payload(&id_token.to_string())
}
