//! The tests' own HTTP client, for requests careid's client would not make (a browser, a
//! provider posting a logout).

use serde_json::Value;

/// A reqwest client builder. reqwest comes without a crypto provider of its own choosing
/// (careid's and the mock's clients are given aws-lc-rs): these clients take the process's
/// default, installed here.
pub fn client_builder() -> reqwest::ClientBuilder {
    // An error only means a default is already installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
}

/// A client that leaves redirects to the caller, as a browser's address bar would show them.
pub fn no_redirects() -> reqwest::Client {
    client_builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client")
}

/// Where a GET of `url` is redirected: with the mock's auto-login, an authorization request's
/// answer is the redirect to the client's callback.
pub async fn redirect_location(http: &reqwest::Client, url: &str) -> String {
    let answer = http
        .get(url)
        .send()
        .await
        .expect("the provider answers the authorization request");
    answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .expect("auto-login redirects to the callback")
        .to_owned()
}

/// GETs `url` and reads the answer as JSON.
pub async fn get_json(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> Value {
    http.get(url)
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("a JSON answer")
}

/// `issuer`'s discovery document, fetched.
pub async fn discovery(http: &reqwest::Client, issuer: &str) -> Value {
    get_json(http, format!("{issuer}/.well-known/openid-configuration")).await
}
