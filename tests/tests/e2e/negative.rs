//! Every fault the mock offers, every mode that shows CIS2 as it may really be (careid's answer
//! to each: signed in, or refused with its code), and every loopback listener rule, as one
//! table: each case runs the real `careid` binary and checks its exit code, the words of its
//! error, and what is left in the real keychain afterwards.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use careid_e2e::{CliWorld, MockHost};
use mock_cis2::{AutoLogin, MockCis2};

/// When in a session's life the fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// `careid login`.
    Login,
    /// `careid token --refresh` after a clean sign-in (without `--refresh` the kept access
    /// token serves, with no request).
    Refresh,
    /// `careid logout` after a clean sign-in and a `careid token --refresh`, both with the
    /// fault armed.
    Logout,
    /// `careid logout` after a clean sign-in, with nothing in between.
    SignOut,
}

/// A case that needs a mock of its own: another test user, or profile settings.
#[derive(Debug, Clone, Copy)]
struct Setup {
    /// The auto-login of the case's mock (`USER[:AUTHENTICATOR[:ROLE]]`).
    auto_login: &'static str,
    /// Options for `careid profile add` besides the issuer and the client.
    profile: &'static [&'static str],
}

#[derive(Debug)]
struct Case {
    name: &'static str,
    /// Mock faults, `+` between several, armed until cleared after the case.
    fault: Option<&'static str>,
    /// Mock modes (MODES.md), `+` between several, on from before the sign-in until the case
    /// ends.
    modes: Option<&'static str>,
    /// A mock and profile of the case's own; the nurse's shared one when `None`.
    setup: Option<Setup>,
    phase: Phase,
    /// Extra arguments for the command under test.
    args: &'static [&'static str],
    /// Environment for the command under test (for example a browser that misbehaves).
    env: &'static [(&'static str, &'static str)],
    code: i32,
    /// Words the error (stderr) or output must contain.
    says: &'static str,
    /// Whether a session is stored afterwards.
    stored: bool,
}

const fn login(name: &'static str, fault: &'static str, code: i32, says: &'static str) -> Case {
    Case {
        name,
        fault: Some(fault),
        modes: None,
        setup: None,
        phase: Phase::Login,
        args: &[],
        env: &[],
        code,
        says,
        stored: code == 0,
    }
}

/// A sign-in with these modes on (and no fault).
const fn with_modes(
    name: &'static str,
    modes: &'static str,
    code: i32,
    says: &'static str,
) -> Case {
    Case {
        name,
        fault: None,
        modes: Some(modes),
        setup: None,
        phase: Phase::Login,
        args: &[],
        env: &[],
        code,
        says,
        stored: code == 0,
    }
}

const fn refresh(
    name: &'static str,
    fault: &'static str,
    code: i32,
    says: &'static str,
    stored: bool,
) -> Case {
    Case {
        name,
        fault: Some(fault),
        modes: None,
        setup: None,
        phase: Phase::Refresh,
        args: &[],
        env: &[],
        code,
        says,
        stored,
    }
}

/// A short HTTP timeout for the slow-endpoint cases.
const QUICK: &[&str] = &["--http-timeout", "1"];

fn cases() -> Vec<Case> {
    let mut cases = vec![
        // The ID token (OIDC Core §3.1.3.7).
        login("wrong issuer", "wrong_issuer", 3, "issuer"),
        login("wrong audience", "wrong_audience", 3, "not this client"),
        // One audience and no azp is valid OpenID Connect: accepted.
        login(
            "missing azp with one audience",
            "missing_azp",
            0,
            "Signed in",
        ),
        login("wrong azp", "wrong_azp", 3, "azp"),
        login("wrong nonce", "wrong_nonce", 3, "nonce"),
        login("bad signature", "bad_signature", 3, "signature"),
        login("unknown kid after one refetch", "unknown_kid", 3, "kid"),
        login("alg none", "alg_none", 3, "none"),
        login(
            "HS256 keyed with the public key",
            "hs256_with_public_key",
            3,
            "HS256",
        ),
        login("expired ID token", "expired_id_token", 3, "expired"),
        login("iat in the future", "iat_in_future", 3, "future"),
        login("missing sub", "missing_sub", 3, "sub"),
        login(
            "keys rotated without notice",
            "jwks_rotated_without_notice",
            0,
            "Signed in",
        ),
        // The token rules (OIDC Core §3.1.3.7, §3.1.3.8, §3.3.2.11, §12.2): refused, nothing kept.
        login(
            "an audience the profile does not trust",
            "extra_audience",
            3,
            "does not trust",
        ),
        login(
            "auth_time in the future",
            "auth_time_in_future",
            3,
            "auth_time",
        ),
        login(
            "auth_time already past the session limit",
            "auth_time_zero",
            3,
            "auth_time",
        ),
        login("wrong at_hash", "wrong_at_hash", 3, "at_hash"),
        login("wrong c_hash", "wrong_c_hash", 3, "c_hash"),
        // Assurance (REFERENCE §5): decided on the level claims, `acr` or not.
        Case {
            args: &["--acr", "AAL3_ANY"],
            ..login(
                "acr missing and the level below the one asked for",
                "missing_acr+assurance_level_lowered",
                3,
                "signed in at AAL2 but AAL3 was requested",
            )
        },
        Case {
            args: &["--acr", "AAL3_ANY"],
            ..login(
                "acr missing with the level asked for",
                "missing_acr",
                0,
                "Signed in",
            )
        },
        Case {
            name: "a selected_roleid that is not one of the user's roles",
            fault: Some("unknown_selected_role"),
            modes: None,
            setup: Some(Setup {
                auto_login: "555057900101:smartcard:555057900304",
                profile: &["--role-selection", "cis2"],
            }),
            phase: Phase::Login,
            args: &[],
            env: &[],
            code: 3,
            says: "cis2 selected role 555999999999 is not among the user's roles",
            stored: false,
        },
        Case {
            name: "an identity assurance level below the profile's minimum",
            fault: None,
            modes: None,
            setup: Some(Setup {
                // IAL1 in users.json; signs in with a password (AAL1, development only).
                auto_login: "656005750110",
                profile: &["--min-id-assurance-level", "3"],
            }),
            phase: Phase::Login,
            args: &[],
            env: &[],
            code: 3,
            says: "identity assurance level is IAL1 but the profile requires IAL3",
            stored: false,
        },
        login(
            "expires_in of 2^64-1 is capped",
            "huge_expires_in",
            0,
            "Signed in",
        ),
        refresh(
            "a refreshed ID token without the original azp",
            "missing_azp",
            3,
            "azp",
            false,
        ),
        refresh(
            "a refreshed ID token for an untrusted audience too",
            "extra_audience",
            3,
            "does not trust",
            false,
        ),
        refresh(
            "a refreshed ID token with a wrong at_hash",
            "wrong_at_hash",
            3,
            "at_hash",
            false,
        ),
        refresh(
            "a refreshed auth_time in the future",
            "auth_time_in_future",
            3,
            "auth_time",
            false,
        ),
        refresh(
            "a refresh with expires_in of 2^64-1",
            "huge_expires_in",
            0,
            "",
            true,
        ),
        Case {
            args: &["--id"],
            // The last valid ID token, a JWT whose header starts `{"`.
            ..refresh(
                "a refresh without an ID token keeps the last one",
                "no_id_token_on_refresh",
                0,
                "eyJ",
                true,
            )
        },
        Case {
            // The hint is kept for `--browser` and not printed: careid says the URL shown
            // omits it only when it holds one.
            name: "sign-out after a refresh without an ID token still has the hint",
            fault: Some("no_id_token_on_refresh"),
            modes: None,
            setup: None,
            phase: Phase::Logout,
            args: &[],
            env: &[],
            code: 0,
            says: "omits id_token_hint",
            stored: false,
        },
        // UserInfo (OIDC Core §5.3.2).
        login("UserInfo sub mismatch", "userinfo_sub_mismatch", 3, "sub"),
        // The callback (RFC 6749 §4.1.2, RFC 9207).
        login(
            "missing iss in the callback",
            "missing_iss_in_callback",
            3,
            "iss",
        ),
        login(
            "wrong iss in the callback",
            "wrong_iss_in_callback",
            3,
            "another issuer",
        ),
        // Any page can fire a callback with another state: refused with 400 and the wait goes
        // on; this sign-in's own never comes, so it times out saying what it refused.
        Case {
            name: "wrong state",
            fault: Some("wrong_state"),
            modes: None,
            setup: None,
            phase: Phase::Login,
            args: &["--timeout", "3"],
            env: &[],
            code: 6,
            says: "not for this sign-in",
            stored: false,
        },
        login(
            "access denied",
            "authorize_access_denied",
            4,
            "access_denied",
        ),
        login(
            "login required",
            "authorize_login_required",
            4,
            "login_required",
        ),
        login(
            "invalid scope",
            "authorize_invalid_scope",
            4,
            "invalid_scope",
        ),
        login(
            "server error callback",
            "authorize_server_error",
            4,
            "server_error",
        ),
        // The token endpoint.
        login(
            "invalid grant at code exchange",
            "token_invalid_grant",
            4,
            "invalid_grant",
        ),
        login(
            "invalid client",
            "token_invalid_client",
            4,
            "invalid_client",
        ),
        refresh(
            "refresh revoked",
            "refresh_revoked",
            8,
            "sign in again",
            false,
        ),
        refresh(
            "invalid grant at refresh",
            "token_invalid_grant",
            8,
            "sign in again",
            false,
        ),
        refresh(
            "refresh answered 500",
            "http_500@token",
            5,
            "unavailable",
            true,
        ),
        refresh(
            "refresh answered 503 then recovers",
            "http_503@token:1",
            0,
            "",
            true,
        ),
        Case {
            args: QUICK,
            ..refresh(
                "refresh timed out",
                "slow_endpoint@token=3000",
                5,
                "did not answer in time",
                true,
            )
        },
        Case {
            name: "revocation fails at logout",
            fault: Some("http_500@revocation"),
            modes: None,
            setup: None,
            phase: Phase::Logout,
            args: &[],
            env: &[],
            code: 0,
            says: "could not revoke",
            stored: false,
        },
    ];
    // CIS2 as it may really be (MODES.md): signed in where the shape is CIS2's to choose,
    // refused with a code of its own where it cannot be used.
    cases.extend([
        with_modes(
            "lean discovery: a plain authorization request, no refresh token",
            "lean_discovery",
            0,
            "Signed in to profile",
        ),
        Case {
            name: "lean discovery with par = always is refused before the browser",
            fault: None,
            modes: Some("lean_discovery"),
            setup: Some(Setup {
                auto_login: "555057896106",
                profile: &["--par", "always"],
            }),
            phase: Phase::Login,
            args: &[],
            env: &[],
            code: 2,
            says: "says par = \"always\", and the provider publishes no pushed_authorization_request_endpoint",
            stored: false,
        },
        Case {
            phase: Phase::Refresh,
            stored: true,
            ..with_modes(
                "lean discovery: a refresh asked for is a usage error, the session stays",
                "lean_discovery",
                2,
                "has no refresh token",
            )
        },
        Case {
            phase: Phase::SignOut,
            stored: false,
            ..with_modes(
                "lean discovery: sign-out ends the session here and says so",
                "lean_discovery",
                0,
                "offers no revocation: the session was ended here",
            )
        },
        Case {
            fault: Some("authorize_access_denied"),
            ..with_modes(
                "an error redirect without iss shows the provider's error, unverified",
                "errors_without_iss",
                4,
                "access_denied (fault injected by the mock) (unverified",
            )
        },
        with_modes(
            "amr as one string",
            "amr_as_string",
            0,
            "amr:             N3_SMARTCARD",
        ),
        with_modes(
            "one role as the object itself",
            "roles_as_object",
            0,
            "Role:            Nurse Access Role at NHSID DEV (A9A5A)",
        ),
        with_modes(
            "role ids as numbers",
            "role_ids_as_numbers",
            0,
            "Role:            Nurse Access Role at NHSID DEV (A9A5A), code S8000:G8000:R8001",
        ),
        with_modes(
            "roles without their optional fields",
            "role_fields_missing",
            0,
            "Nurse Access Role",
        ),
        with_modes(
            "roles without a required field",
            "role_fields_missing=org_code",
            3,
            "role 555057898108 lacks org_code",
        ),
        Case {
            name: "CIS2's chosen role without a required field",
            fault: None,
            modes: Some("role_fields_missing=role_name"),
            setup: Some(Setup {
                auto_login: "555057900101:smartcard:555057900304",
                profile: &["--role-selection", "cis2"],
            }),
            phase: Phase::Login,
            args: &[],
            env: &[],
            code: 3,
            says: "cis2 selected role 555057900304, but userinfo lists it without role_name",
            stored: false,
        },
        Case {
            name: "CIS2's chosen role with numeric ids",
            fault: None,
            modes: Some("role_ids_as_numbers"),
            setup: Some(Setup {
                auto_login: "555057900101:smartcard:555057900304",
                profile: &["--role-selection", "cis2"],
            }),
            phase: Phase::Login,
            args: &[],
            env: &[],
            code: 0,
            says: "Role:            Privacy Officer at ",
            stored: true,
        },
        Case {
            args: &["--acr", "AAL3_ANY"],
            ..with_modes(
                "assurance levels as numbers",
                "assurance_levels_as_numbers",
                0,
                "Assurance level: AAL3",
            )
        },
        with_modes(
            "the provider's clock 90 s ahead, within the 120 s allowed",
            "clock_skew=90",
            0,
            "Signed in to profile",
        ),
        with_modes(
            "the provider's clock 90 s behind",
            "clock_skew=-90",
            0,
            "Signed in to profile",
        ),
        with_modes(
            "the provider's clock 5 minutes ahead, beyond the 120 s allowed",
            "clock_skew=300",
            3,
            "the provider's clock and this computer's differ by more than that",
        ),
        with_modes(
            "the provider's clock two hours behind",
            "clock_skew=-7200",
            3,
            "the ID token has expired",
        ),
    ]);
    // Any endpoint: server errors, broken and oversized bodies, slowness.
    for (endpoint, name_500, name_503, name_json, name_big, name_slow) in [
        (
            "discovery",
            "discovery answered 500",
            "discovery answered 503",
            "discovery malformed JSON",
            "discovery oversized",
            "discovery slow",
        ),
        (
            "jwks",
            "JWKS answered 500",
            "JWKS answered 503",
            "JWKS malformed JSON",
            "JWKS oversized",
            "JWKS slow",
        ),
        (
            "token",
            "token answered 500",
            "token answered 503",
            "token malformed JSON",
            "token oversized",
            "token slow",
        ),
        (
            "userinfo",
            "UserInfo answered 500",
            "UserInfo answered 503",
            "UserInfo malformed JSON",
            "UserInfo oversized",
            "UserInfo slow",
        ),
    ] {
        let fault = |name: &str| -> &'static str {
            Box::leak(format!("{name}@{endpoint}").into_boxed_str())
        };
        cases.push(login(name_500, fault("http_500"), 5, ""));
        cases.push(login(name_503, fault("http_503"), 5, ""));
        cases.push(login(name_json, fault("malformed_json"), 3, ""));
        cases.push(login(name_big, fault("oversized_response"), 3, "large"));
        cases.push(Case {
            args: QUICK,
            ..login(
                name_slow,
                fault("slow_endpoint"),
                5,
                "did not answer in time",
            )
        });
    }
    // The loopback listener's rules (PRODUCT step 5).
    cases.extend([
        Case {
            name: "no callback before the timeout",
            fault: None,
            modes: None,
            setup: None,
            phase: Phase::Login,
            args: &["--timeout", "1"],
            env: &[("BROWSER", "true")],
            code: 6,
            says: "no answer from the browser",
            stored: false,
        },
        Case {
            name: "a request to the wrong path does not end the wait",
            fault: None,
            modes: None,
            setup: None,
            phase: Phase::Login,
            args: &[],
            env: &[("CAREID_TEST_BROWSER_FIRST", "wrong_path")],
            code: 0,
            says: "Signed in",
            stored: true,
        },
        Case {
            name: "an oversized request does not end the wait",
            fault: None,
            modes: None,
            setup: None,
            phase: Phase::Login,
            args: &[],
            env: &[("CAREID_TEST_BROWSER_FIRST", "oversized")],
            code: 0,
            says: "Signed in",
            stored: true,
        },
        Case {
            name: "a slow request does not end the wait",
            fault: None,
            modes: None,
            setup: None,
            phase: Phase::Login,
            args: &[],
            env: &[("CAREID_TEST_BROWSER_FIRST", "slow")],
            code: 0,
            says: "Signed in",
            stored: true,
        },
        Case {
            // Any page can fire a callback with another state at the listener (its ports are
            // public): refused with 400, and the browser's real callback still signs in.
            name: "a forged callback with another state does not end the wait",
            fault: None,
            modes: None,
            setup: None,
            phase: Phase::Login,
            args: &[],
            env: &[("CAREID_TEST_BROWSER_FIRST", "no_state")],
            code: 0,
            says: "Signed in",
            stored: true,
        },
        Case {
            // A page whose DNS name was rebound to 127.0.0.1 reaches the listener under its own
            // name: refused with 421, and the browser's real callback still signs in.
            name: "a callback under another host name does not end the wait",
            fault: None,
            modes: None,
            setup: None,
            phase: Phase::Login,
            args: &[],
            env: &[("CAREID_TEST_BROWSER_FIRST", "rebound")],
            code: 0,
            says: "Signed in",
            stored: true,
        },
    ]);
    cases
}

#[test]
fn every_fault_and_listener_rule_gives_its_exit_code_and_leaves_nothing_stored() {
    let auto_login: AutoLogin = "555057896106".parse().expect("auto-login");
    let mock = MockHost::start(MockCis2::new().auto_login(auto_login)).expect("mock");
    let world = CliWorld::new().expect("home");
    world.add_mock_profile("t", &mock.issuer(), &[]);
    let cache = world.home().config_dir().join("cache");
    let cases = cases();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    let mut last_attempt = serde_json::Value::Null;
    // Cases with a setup of their own get their own mock and profile, started on first use.
    let mut own: Vec<(String, MockHost)> = Vec::new();
    for case in &cases {
        let (mock, profile) = match case.setup {
            None => (&mock, "t".to_owned()),
            Some(setup) => {
                let auto_login: AutoLogin = setup.auto_login.parse().expect("auto-login");
                let started =
                    MockHost::start(MockCis2::new().auto_login(auto_login)).expect("mock");
                let profile = format!("own{}", own.len());
                world.add_mock_profile(&profile, &started.issuer(), setup.profile);
                own.push((profile.clone(), started));
                let (_, started) = own.last().expect("just added");
                (started, profile)
            }
        };
        mock.mock().clear_faults();
        mock.mock().switch_off_modes();
        for mode in case.modes.into_iter().flat_map(|modes| modes.split('+')) {
            mock.mock().switch_on(mode.parse().expect("a known mode"));
        }
        // Discovery and JWKS faults must be met, not skipped by the cache.
        let _ = std::fs::remove_dir_all(&cache);
        if case.phase != Phase::Login {
            world.ok(&["--profile", &profile, "login"]);
        }
        for fault in case.fault.into_iter().flat_map(|faults| faults.split('+')) {
            let (fault, count) = match fault.rsplit_once(':') {
                Some((fault, count)) => (fault, count.parse().ok()),
                None => (fault, None),
            };
            mock.mock()
                .arm_fault(fault.parse().expect("a known fault"), count);
        }
        if case.phase == Phase::Logout {
            world.ok(&["--profile", &profile, "token", "--refresh"]);
        }
        let command: &[&str] = match case.phase {
            Phase::Login => &["login"],
            Phase::Refresh => &["token", "--refresh"],
            Phase::Logout | Phase::SignOut => &["logout"],
        };
        let mut args = vec!["--profile", profile.as_str()];
        args.extend_from_slice(command);
        args.extend_from_slice(case.args);
        let mut run_world = world.command(&args).expect("command");
        run_world
            .envs(case.env.iter().copied())
            .stdin(Stdio::null());
        let started = Instant::now();
        let output = run_world.output().expect("careid runs");
        mock.mock().clear_faults();
        mock.mock().switch_off_modes();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let stored = !world.stored_sessions().is_empty();
        let mut problems = Vec::new();
        if output.status.code() != Some(case.code) {
            problems.push(format!(
                "exit {:?}, expected {}",
                output.status.code(),
                case.code
            ));
        }
        if !text.contains(case.says) {
            problems.push(format!("does not say {:?}", case.says));
        }
        if stored != case.stored {
            problems.push(format!("stored {stored}, expected {}", case.stored));
        }
        if started.elapsed() > Duration::from_secs(20) {
            problems.push(format!("took {:?}", started.elapsed()));
        }
        if case.phase == Phase::Login {
            problems.extend(recorded_problem(&world, stored, &mut last_attempt));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}\n{text}", case.name, problems.join("; ")));
        }
        // Start the next case signed out.
        let _ = world.run(&["--profile", &profile, "logout"]);
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // Every refused answer above is in the history as claims and checks, never as a token.
    let history = world.state_dir().join("history");
    for entry in std::fs::read_dir(&history).expect("the history folder") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("a record");
        assert!(
            careid_e2e::jwt_shaped(&text).is_empty(),
            "a JWT in the history: {text}"
        );
    }
}

/// What is wrong with the history's newest attempt after a login case: it must be new, signed
/// in exactly when a session was stored, and a refusal must name its error and, for an ID token
/// refused, the check that failed.
fn recorded_problem(
    world: &CliWorld,
    stored: bool,
    last: &mut serde_json::Value,
) -> Option<String> {
    let listed = world.ok(&["history", "--json", "--limit", "1"]).json();
    let newest = listed.get(0).cloned().unwrap_or_default();
    let problem = if newest["id"] == last["id"] {
        Some("no new attempt in the history".to_owned())
    } else {
        let verdict = newest["verdict"].as_str().unwrap_or_default();
        let signed_in = matches!(verdict, "signed_in" | "no_roles");
        let code = newest["error_code"].as_str().unwrap_or_default();
        let failed_checks = newest["failed_checks"].as_array().map_or(0, Vec::len);
        if signed_in != stored {
            Some(format!("history verdict {verdict}, stored {stored}"))
        } else if !signed_in && code.is_empty() {
            Some("a failed attempt without its error code".to_owned())
        } else if code.starts_with("id_token_") && failed_checks == 0 {
            Some(format!("{code} recorded without a failed check"))
        } else {
            None
        }
    };
    *last = newest;
    problem
}

#[test]
fn all_redirect_ports_taken_is_named_in_the_error() {
    let held = TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    let port = held.local_addr().expect("address").port().to_string();
    let mock = MockHost::start(MockCis2::new()).expect("mock");
    let world = CliWorld::new().expect("home");
    world.add_mock_profile("t", &mock.issuer(), &["--redirect-port", &port]);
    let run = world.run(&["--profile", "t", "login"]).expect("runs");
    assert_eq!(run.code, Some(1), "{}", run.text());
    assert!(run.stderr.contains(&port), "names the port: {}", run.text());
    assert!(world.stored_sessions().is_empty());
}

#[test]
fn ctrl_c_cancels_the_wait_with_exit_6() {
    let mock = MockHost::start(MockCis2::new()).expect("mock");
    let world = CliWorld::new().expect("home");
    world.add_mock_profile("t", &mock.issuer(), &[]);
    let mut child = world
        .command(&["--profile", "t", "login", "--no-browser"])
        .expect("command")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // The URL is printed once the listener is bound: then the wait is under way.
    let stderr = child.stderr.take().expect("piped");
    let (sender, waiting) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("open this URL") {
                let _ = sender.send(());
            }
            text += &line;
            text += "\n";
        }
        text
    });
    waiting
        .recv_timeout(Duration::from_secs(20))
        .expect("careid printed the sign-in URL");
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    let status = child.wait().expect("ends");
    let stderr = reader.join().expect("stderr read");
    assert_eq!(status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert!(world.stored_sessions().is_empty());
}
#[test]
fn an_unreachable_provider_exits_5() {
    let closed = TcpListener::bind(("127.0.0.1", 0)).expect("a port");
    let port = closed.local_addr().expect("address").port();
    drop(closed);
    // Nothing listens there now.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    let world = CliWorld::new().expect("home");
    world.add_mock_profile("t", &format!("http://127.0.0.1:{port}/realm"), &[]);
    let run = world.run(&["--profile", "t", "login"]).expect("runs");
    assert_eq!(run.code, Some(5), "{}", run.text());
}

#[test]
fn usage_errors_exit_2() {
    let world = CliWorld::new().expect("home");
    let unknown = world.run(&["--profile", "nope", "login"]).expect("runs");
    assert_eq!(unknown.code, Some(2), "{}", unknown.text());
    world.ok(&[
        "profile",
        "add",
        "s",
        "--issuer",
        "http://127.0.0.1:9/realm",
        "--client-id",
        "abc",
        "--client-auth",
        "client_secret_post",
    ]);
    let no_secret = world.run(&["--profile", "s", "login"]).expect("runs");
    assert_eq!(no_secret.code, Some(2), "{}", no_secret.text());
    assert!(
        no_secret.stderr.contains("careid profile secret set s"),
        "{}",
        no_secret.text()
    );
    let not_a_key = world
        .run_with_input(&["profile", "secret", "set", "s"], "")
        .expect("runs");
    assert_eq!(not_a_key.code, Some(2), "{}", not_a_key.text());
}
