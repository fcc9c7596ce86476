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
        assert_eq!(status["user"]["id"], user, "{status}");
        assert_eq!(status["authentication_assurance_level"], 3, "{status}");
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
    assert_eq!(status["authentication_assurance_level"], 2, "{status}");
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

/// A whole plan on the mock's own sign-in pages (no `[mock] user`: the mock signs nobody in
/// without a page), run unattended by Chromium with a virtual authenticator, one visit per
/// case: the iPad app clicked through, a security key that cannot verify the user refused at
/// AAL3 (as the plan expects), the same key with its PIN registering on first use and signing
/// in, and an expected failure among them. The run passes; its JSON, JUnit XML and HTML reports
/// say so, case by case, with no token in any of them.
#[test]
fn webauthn_a_plan_runs_on_the_mocks_pages_with_a_virtual_authenticator() {
    let mut bench = Bench::new();
    let files = tempfile::tempdir().expect("a folder");
    let plan = files.path().join("plan.toml");
    std::fs::write(
        &plan,
        r#"name = "WebAuthn on the mock's pages"
profile = "t"
expected_failures = "known.toml"

[matrix]
authenticator = ["ipad", "security_key"]
acr_values = ["AAL3_ANY", "AAL2_OR_AAL3_ANY"]

[[case]]
match = "ipad-AAL3_ANY"
acr = "AAL2_ANY"

[[case]]
match = "security_key-AAL3_ANY"
outcome = "provider_error"
provider_error = "access_denied"
"#,
    )
    .expect("the plan");
    std::fs::write(
        files.path().join("known.toml"),
        "[[expected_failure]]\ncase = \"ipad-AAL3_ANY\"\ncheck = \"acr\"\n\
         comment = \"a deviation the plan knows\"\n",
    )
    .expect("the expected failures");

    // One visit per case, in the plan's order: who and what to click, and the key's settings.
    let visit = |authenticator: &str, clicks: &[&str], uv: &str| {
        let user = format!("#user-{CLINICIAN}");
        let choice = format!("#authenticator-{authenticator}");
        let mut all = vec![user.as_str(), CONTINUE, choice.as_str(), CONTINUE];
        all.extend_from_slice(clicks);
        json!({
            "CAREID_TEST_BROWSER_CLICKS": all.join(";"),
            "CAREID_TEST_BROWSER_WEBAUTHN_UV": uv,
        })
        .to_string()
    };
    let visits = files.path().join("visits.jsonl");
    std::fs::write(
        &visits,
        [
            visit("ipad", &[CONTINUE], "verified"),
            visit("ipad", &[CONTINUE], "verified"),
            visit("security_key", &[START, CANCEL], "none"),
            visit("security_key", &[START, START], "verified"),
        ]
        .join("\n"),
    )
    .expect("the visits");
    let key = bench.key("key");
    let world = &mut bench.world;
    world.set_env("CAREID_TEST_BROWSER", "chromium");
    world.set_env("CAREID_TEST_BROWSER_WEBAUTHN", "1");
    world.set_env("CAREID_TEST_BROWSER_WEBAUTHN_TRANSPORT", "usb");
    world.set_env("CAREID_TEST_BROWSER_WEBAUTHN_REMOVE", "0");
    world.set_env(
        "CAREID_TEST_BROWSER_WEBAUTHN_CREDENTIALS",
        key.display().to_string(),
    );
    world.set_env("CAREID_TEST_BROWSER_VISITS", visits.display().to_string());
    let out = files.path().join("reports");
    let run = world
        .run(&[
            "run",
            plan.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
        ])
        .expect("careid runs");
    assert_eq!(run.code, Some(0), "{}", run.text());
    // Not unattended: each case said what to use.
    assert!(
        run.stderr
            .contains("Use your NHS CIS2 Authentication iPad app")
            && run.stderr.contains("Use your FIDO2 security key"),
        "{}",
        run.text()
    );

    let written: Vec<std::path::PathBuf> = run.stdout.lines().map(Into::into).collect();
    assert_eq!(written.len(), 3, "{}", run.text());
    let text = |extension: &str| {
        let path = written
            .iter()
            .find(|path| path.extension().is_some_and(|ext| ext == extension))
            .unwrap_or_else(|| panic!("a .{extension} report"));
        let text = std::fs::read_to_string(path).expect("the report");
        assert!(
            careid_e2e::jwt_shaped(&text).is_empty(),
            ".{extension}: no token in a report"
        );
        text
    };
    let report: Value = serde_json::from_str(&text("json")).expect("JSON");
    assert_eq!(report["outcome"], "passed", "{report:#}");
    let case = |id: &str| {
        report["cases"]
            .as_array()
            .and_then(|cases| cases.iter().find(|case| case["id"] == id))
            .unwrap_or_else(|| panic!("case {id}: {report:#}"))
            .clone()
    };
    let aspect = |case: &Value, aspect: &str| {
        case["checks"]
            .as_array()
            .and_then(|checks| checks.iter().find(|check| check["aspect"] == aspect))
            .unwrap_or_else(|| panic!("{aspect} in {case:#}"))
            .clone()
    };
    // A person was not there to confirm the authenticators' own steps: REVIEW, not a failure.
    for id in [
        "ipad-AAL3_ANY",
        "ipad-AAL2_OR_AAL3_ANY",
        "security_key-AAL2_OR_AAL3_ANY",
    ] {
        let case = case(id);
        assert_eq!(case["verdict"], "signed_in", "{case:#}");
        assert_eq!(case["unattended"], false);
        assert!(
            ["passed", "review"].contains(&case["status"].as_str().unwrap()),
            "{case:#}"
        );
    }
    let deviation = aspect(&case("ipad-AAL3_ANY"), "acr");
    assert_eq!(
        deviation["expected_failure"]["happened"], true,
        "{deviation}"
    );
    let refused = case("security_key-AAL3_ANY");
    assert_eq!(refused["verdict"], "provider_error", "{refused:#}");
    assert_eq!(
        aspect(&refused, "provider_error")["actual"],
        "access_denied"
    );
    assert_ne!(refused["status"], "failed", "{refused:#}");
    let registered = case("security_key-AAL2_OR_AAL3_ANY");
    assert!(aspect(&registered, "amr")["actual"]
        .as_str()
        .unwrap()
        .contains("FIDO2"));
    let credentials = bench.credentials(CLINICIAN);
    assert_eq!(credentials.len(), 1, "only the verifying key registered");

    let junit = text("xml");
    assert!(junit.contains("<testsuites") && junit.contains("security_key-AAL3_ANY"));
    assert!(!junit.contains("<failure"), "{junit}");
    let html = text("html");
    assert!(html.contains("ipad-AAL2_OR_AAL3_ANY") && html.contains("a deviation the plan knows"));
}
