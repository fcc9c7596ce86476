//! careid-core at its boundaries, over real sockets.

mod claims;
mod client_auth;
mod discovery;
mod doctor;
mod id_token;
mod loopback;
mod profiles;
mod redirect;
mod session;
mod signin;

/// A reqwest client builder for the tests' own requests. reqwest comes without a crypto provider
/// of its own choosing (careid's and the mock's clients are given aws-lc-rs): these clients take
/// the process's default, installed here.
pub fn http() -> reqwest::ClientBuilder {
    // An error only means a default is already installed.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
}

/// An issuer as careid holds it, from a test's text.
pub fn issuer_url(text: &str) -> careid_core::IssuerUrl {
    careid_core::IssuerUrl::new(text).expect("an issuer")
}

/// `value` for as long as the test runs: for checks that borrow what they are checked against.
pub fn leaked<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// A client id as careid holds it, from a test's text.
pub fn client_id(text: &str) -> careid_core::ClientId {
    careid_core::ClientId::new(text)
}
