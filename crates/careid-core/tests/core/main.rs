//! careid-core at its boundaries, over real sockets.

mod claims;
mod client_auth;
mod discovery;
mod doctor;
mod history;
mod id_token;
mod loopback;
mod profiles;
mod redirect;
mod runs;
mod session;
mod signin;

pub use careid_test_fixtures::http::client_builder as http;
use mock_cis2::{MockCis2, RunningMock};
use serde_json::Value;

/// The authorization code in the `Location` a redirect to the client's callback carries.
pub fn code_in_redirect(response: &reqwest::Response) -> String {
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, value)| value.into_owned())
        .expect("a code in the redirect")
}

/// The in-process mock signing the nurse in by smartcard without a page, a client of the test's
/// own that leaves redirects to it, and the mock's discovery document.
pub async fn mock_signing_in_the_nurse() -> (RunningMock, reqwest::Client, Value) {
    let mock = MockCis2::new()
        .auto_login("555057896106:smartcard".parse().expect("valid auto-login"))
        .start()
        .await
        .expect("the mock starts");
    let http = careid_test_fixtures::http::no_redirects();
    let discovery = careid_test_fixtures::http::discovery(&http, mock.issuer()).await;
    (mock, http, discovery)
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
