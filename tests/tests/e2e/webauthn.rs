//! Real WebAuthn in the mock's sign-in pages, end to end: `careid login` opens real Chromium
//! (the test browser) with a virtual authenticator, which registers a credential on first use
//! and signs in with it; the mock refuses an authenticator that does not verify the user at
//! AAL3, says a credential removed from the key is not recognised and lets it be registered
//! again, and takes a second authenticator for the same user.

use std::path::{Path, PathBuf};

use careid_e2e::{CliWorld, MockHost, Run};
use mock_cis2::{Authenticator, MockCis2, TokenKind, WebAuthnCredential};
use serde_json::{json, Value};

const CLINICIAN: &str = "555057900101";
const NURSE: &str = "555057896106";
const PHARMACIST: &str = "555057940108";

/// The sign-in pages' primary button (Continue), not Cancel.
const CONTINUE: &str = "form button.nhsuk-button:not(.nhsuk-button--secondary)";
/// The ceremony page's button: register, or sign in, with the authenticator.
const START: &str = "#webauthn-start";
const REGISTER_ANOTHER: &str = "#webauthn-register-another";
const CANCEL: &str = "button[name=cancel]";

/// One test's mock (with the sign-in pages), careid home and authenticators' files.
struct Bench {
    mock: MockHost,
    world: CliWorld,
    keys: tempfile::TempDir,
}

impl Bench {
    fn new() -> Self {
        let mock = MockHost::start(MockCis2::new()).expect("the mock starts");
        let world = CliWorld::new().expect("a test home");
        world.add_mock_profile("t", &mock.issuer(), &[]);
        Self {
            mock,
            world,
            keys: tempfile::tempdir().expect("a folder for the keys"),
        }
    }

    /// A virtual authenticator's credentials file: one name, one key.
    fn key(&self, name: &str) -> PathBuf {
        self.keys.path().join(format!("{name}.json"))
    }

    /// `careid login` in Chromium with the virtual authenticator `key`, clicking `clicks` after
    /// choosing `user` and `authenticator`; `settings` are more of the test browser's.
    fn login(
        &mut self,
        user: &str,
        authenticator: &str,
        key: &Path,
        clicks: &[&str],
        settings: &[(&str, &str)],
    ) -> (Run, String) {
        let world = &mut self.world;
        let user_radio = format!("#user-{user}");
        let authenticator_radio = format!("#authenticator-{authenticator}");
        let mut all = vec![
            user_radio.as_str(),
            CONTINUE,
            &authenticator_radio,
            CONTINUE,
        ];
        all.extend_from_slice(clicks);
        world.set_env("CAREID_TEST_BROWSER", "chromium");
        world.set_env("CAREID_TEST_BROWSER_WEBAUTHN", "1");
        world.set_env("CAREID_TEST_BROWSER_CLICKS", all.join(";"));
        world.set_env(
            "CAREID_TEST_BROWSER_WEBAUTHN_CREDENTIALS",
            key.display().to_string(),
        );
        let transport = if authenticator == "windows_hello" {
            "internal"
        } else {
            "usb"
        };
        world.set_env("CAREID_TEST_BROWSER_WEBAUTHN_TRANSPORT", transport);
        world.set_env("CAREID_TEST_BROWSER_WEBAUTHN_UV", "verified");
        world.set_env("CAREID_TEST_BROWSER_WEBAUTHN_REMOVE", "0");
        for (name, value) in settings {
            world.set_env(name, *value);
        }
        let mut pages_log = world.browser_log().into_os_string();
        pages_log.push(".pages");
        let _ = std::fs::remove_file(&pages_log);
        let run = world
            .run(&["--profile", "t", "login", "--timeout", "50"])
            .expect("careid runs");
        let pages = std::fs::read_to_string(&pages_log).unwrap_or_default();
        (run, pages)
    }

    /// careid's session, and the claims of the last ID token the mock issued.
    fn signed_in(&self) -> (Value, Value) {
        let status = self
            .world
            .ok(&["--profile", "t", "status", "--json"])
            .json();
        let id_token = self
            .mock
            .mock()
            .issued_tokens()
            .into_iter()
            .rev()
            .find(|token| token.kind == TokenKind::IdToken)
            .expect("an ID token");
        (status, id_token.claims)
    }

    fn credentials(&self, user: &str) -> Vec<WebAuthnCredential> {
        self.mock
            .mock()
            .webauthn_credentials()
            .into_iter()
            .filter(|credential| credential.user_id == user)
            .collect()
    }
}

fn assert_signed_in(run: &Run, pages: &str) {
    assert_eq!(run.code, Some(0), "{}\npages:\n{pages}", run.text());
}

/// A security key and Windows Hello each register on first use (the registration page, as
/// CIS2's), then sign in with the new credential in the same visit; a later visit with the same
/// key signs in at once. The tokens carry AAL3, `AAL3_ANY` and `FIDO2`.
#[test]
fn webauthn_registers_on_first_use_then_signs_in() {
    for (user, authenticator, kind) in [
        (CLINICIAN, "security_key", Authenticator::SecurityKey),
        (NURSE, "windows_hello", Authenticator::WindowsHello),
    ] {
        let mut bench = Bench::new();
        let key = bench.key("first");
        let (run, pages) = bench.login(user, authenticator, &key, &[START, START], &[]);
        assert_signed_in(&run, &pages);
        assert!(pages.contains("Register your"), "{authenticator}: {pages}");
        let (status, claims) = bench.signed_in();
        assert_eq!(status["sub"], user, "{status}");
        assert_eq!(status["assurance_level"], 3, "{status}");
        assert_eq!(claims["acr"], "AAL3_ANY", "{claims}");
        assert_eq!(claims["amr"], json!(["FIDO2"]), "{claims}");
        assert_eq!(claims["authentication_assurance_level"], "3", "{claims}");
        let credentials = bench.credentials(user);
        assert_eq!(credentials.len(), 1, "{credentials:?}");
        assert_eq!(credentials[0].authenticator, kind);
        assert!(credentials[0].user_verified, "{credentials:?}");
        let first_use = credentials[0].last_used_at.expect("used to sign in");
        assert!(first_use >= credentials[0].registered_at);

        // The same key again: no registration, straight to the sign-in ceremony.
        let (run, pages) = bench.login(user, authenticator, &key, &[START], &[]);
        assert_signed_in(&run, &pages);
        assert!(!pages.contains("Register your"), "{authenticator}: {pages}");
        let credentials = bench.credentials(user);
        assert_eq!(credentials.len(), 1, "{credentials:?}");
    }
}

/// CIS2's AAL3 needs the user verified: a security key that cannot verify (no PIN) is refused
/// with a page saying why, and nothing is registered; the tester cancels back to careid.
#[test]
fn webauthn_at_aal3_refuses_an_authenticator_that_does_not_verify_the_user() {
    let mut bench = Bench::new();
    let key = bench.key("no-pin");
    let (run, pages) = bench.login(
        CLINICIAN,
        "security_key",
        &key,
        &[START, CANCEL],
        &[("CAREID_TEST_BROWSER_WEBAUTHN_UV", "none")],
    );
    assert_ne!(run.code, Some(0), "{}", run.text());
    assert!(run.text().contains("access_denied"), "{}", run.text());
    assert!(
        pages.contains("did not verify you") && pages.contains("AAL3 needs user verification"),
        "{pages}"
    );
    assert!(bench.credentials(CLINICIAN).is_empty());
}

/// A passkey is AAL2, where user verification is only preferred: the same authenticator
/// without a PIN registers and signs in, and the tokens say AAL2.
#[test]
fn webauthn_passkey_at_aal2_signs_in_without_user_verification() {
    let mut bench = Bench::new();
    let key = bench.key("passkey");
    let (run, pages) = bench.login(
        PHARMACIST,
        "passkey",
        &key,
        &[START, START],
        &[("CAREID_TEST_BROWSER_WEBAUTHN_UV", "none")],
    );
    assert_signed_in(&run, &pages);
    let (status, claims) = bench.signed_in();
    assert_eq!(status["assurance_level"], 2, "{status}");
    assert_eq!(claims["acr"], "AAL2_ANY", "{claims}");
    assert_eq!(claims["authentication_assurance_level"], "2", "{claims}");
    let credentials = bench.credentials(PHARMACIST);
    assert_eq!(credentials.len(), 1, "{credentials:?}");
    assert!(!credentials[0].user_verified, "{credentials:?}");
}

/// The user deletes the credential from the key: the mock still has it, the key no longer
/// answers for it, and the page says it was not recognised and offers to register again; the
/// key registers anew and signs in.
#[test]
fn webauthn_a_credential_removed_from_the_key_can_be_registered_again() {
    let mut bench = Bench::new();
    let key = bench.key("key");
    let (run, pages) = bench.login(CLINICIAN, "security_key", &key, &[START, START], &[]);
    assert_signed_in(&run, &pages);

    let (run, pages) = bench.login(
        CLINICIAN,
        "security_key",
        &key,
        &[START, REGISTER_ANOTHER, START, START],
        &[("CAREID_TEST_BROWSER_WEBAUTHN_REMOVE", "1")],
    );
    assert_signed_in(&run, &pages);
    assert!(
        pages.contains("was not recognised") && pages.contains("register it again"),
        "{pages}"
    );
    assert_eq!(bench.credentials(CLINICIAN).len(), 2);
}

/// A second security key registers for the same test user ("register another"), and each key
/// then signs in on its own.
#[test]
fn webauthn_a_second_authenticator_registers_and_both_sign_in() {
    let mut bench = Bench::new();
    let first = bench.key("first");
    let second = bench.key("second");
    let (run, pages) = bench.login(CLINICIAN, "security_key", &first, &[START, START], &[]);
    assert_signed_in(&run, &pages);
    let (run, pages) = bench.login(
        CLINICIAN,
        "security_key",
        &second,
        &[REGISTER_ANOTHER, START, START],
        &[],
    );
    assert_signed_in(&run, &pages);
    assert!(pages.contains("Register your"), "{pages}");
    for key in [&first, &second] {
        let (run, pages) = bench.login(CLINICIAN, "security_key", key, &[START], &[]);
        assert_signed_in(&run, &pages);
    }
    let credentials = bench.credentials(CLINICIAN);
    assert_eq!(credentials.len(), 2, "{credentials:?}");
    assert!(
        credentials
            .iter()
            .all(|credential| credential.last_used_at.is_some()),
        "{credentials:?}"
    );
}
