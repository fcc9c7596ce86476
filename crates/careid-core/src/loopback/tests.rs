use super::*;

fn checks(iss_required: bool) -> CallbackChecks {
    CallbackChecks {
        state: CsrfState::new("s-123".to_owned()),
        issuer: IssuerUrl::new("https://am.example:443/realm").unwrap(),
        iss_required,
    }
}

#[test]
fn callback_checks_table() {
    let iss = "iss=https%3A%2F%2Fam.example%3A443%2Frealm";
    let cases: &[(&str, bool, Result<&str, &str>)] = &[
        ("valid with iss", true, Ok("c-1")),
        ("valid without iss when not required", false, Ok("c-1")),
        ("iss missing when required", true, Err("issuer_missing")),
        (
            "iss without the :443 the issuer has",
            true,
            Err("issuer_mismatch"),
        ),
        ("wrong state", true, Err("stray")),
        ("no state", true, Err("stray")),
        ("repeated state", true, Err("stray")),
        ("state checked before error", true, Err("stray")),
        ("provider error", true, Err("provider_error")),
        ("no code", true, Err("code_missing")),
        (
            "provider error without iss when required",
            true,
            Err("provider_error_unverified"),
        ),
        (
            "provider error without iss when not required",
            false,
            Err("provider_error"),
        ),
        ("error without iss and another state", true, Err("stray")),
        ("error with another issuer", true, Err("issuer_mismatch")),
    ];
    let queries = [
        format!("code=c-1&state=s-123&{iss}"),
        "code=c-1&state=s-123".to_owned(),
        "code=c-1&state=s-123".to_owned(),
        "code=c-1&state=s-123&iss=https%3A%2F%2Fam.example%2Frealm".to_owned(),
        format!("code=c-1&state=s-124&{iss}"),
        format!("code=c-1&{iss}"),
        format!("code=c-1&state=s-123&state=s-123&{iss}"),
        format!("error=access_denied&state=bad&{iss}"),
        format!("error=access_denied&error_description=User+cancelled&state=s-123&{iss}"),
        format!("state=s-123&{iss}"),
        "error=access_denied&error_description=User+cancelled&state=s-123".to_owned(),
        "error=access_denied&state=s-123".to_owned(),
        "error=access_denied&state=s-124".to_owned(),
        "error=access_denied&state=s-123&iss=https%3A%2F%2Fevil.example".to_owned(),
    ];
    for ((name, required, expected), query) in cases.iter().zip(queries) {
        let outcome = check_callback(&query, &checks(*required));
        match (expected, outcome) {
            (Ok(code), Ok(response)) => {
                assert_eq!(response.code.expose_secret(), *code, "{name}")
            }
            (Err(code), Err(Checked::Failed(error))) => {
                assert_eq!(error.code(), *code, "{name}: {error}")
            }
            (Err(code), Err(Checked::Stray)) => assert_eq!(*code, "stray", "{name}"),
            (expected, Ok(response)) => {
                panic!("{name}: expected {expected:?}, got {response:?}")
            }
            (expected, Err(Checked::Failed(error))) => {
                panic!("{name}: expected {expected:?}, got {error}")
            }
            (expected, Err(Checked::Stray)) => {
                panic!("{name}: expected {expected:?}, got stray")
            }
        }
    }
}

#[test]
fn the_callback_is_taken_under_a_loopback_host_only() {
    let callback = "GET /callback?code=c-1&state=s-123 HTTP/1.1";
    let cases = [
        ("Host: 127.0.0.1:23741", true),
        ("Host: 127.0.0.1", true),
        ("host:localhost:23741", true),
        ("HOST: LocalHost", true),
        ("Host: attacker.example:23741", false),
        ("Host: 127.0.0.1.attacker.example", false),
        ("Host: 127.0.0.1:", false),
        ("Host: 127.0.0.1:x", false),
        ("Host: [::1]:23741", false),
        ("Host: 127.0.0.1\r\nHost: attacker.example", false),
        ("X-Host: 127.0.0.1", false),
        ("", false),
    ];
    for (headers, taken) in cases {
        let head = format!("{callback}\r\n{headers}");
        let route = route(&head, "/callback", &checks(false));
        assert_eq!(
            matches!(route, Route::Callback(Ok(_))),
            taken,
            "{headers:?}"
        );
        if !taken {
            assert!(matches!(route, Route::MisdirectedHost), "{headers:?}");
        }
    }
}

#[test]
fn provider_error_is_readable_and_bounded() {
    let long = "x".repeat(1000);
    let query = format!("error=access_denied&error_description={long}%0A%1B&state=s-123");
    let Err(Checked::Failed(error)) = check_callback(&query, &checks(false)) else {
        panic!("an error response");
    };
    let text = error.to_string();
    assert!(
        text.starts_with("the provider refused the sign-in: access_denied ("),
        "{text}"
    );
    assert!(text.len() < 400 && !text.contains('\n') && !text.contains('\u{1b}'));
}

#[test]
fn an_error_without_iss_keeps_the_providers_words_marked_unverified() {
    let query = "error=access_denied&error_description=Authenticator+below+AAL3&state=s-123";
    let Err(Checked::Failed(error)) = check_callback(query, &checks(true)) else {
        panic!("an error response");
    };
    let text = error.to_string();
    assert!(
        text.starts_with(
            "the provider refused the sign-in: access_denied (Authenticator below AAL3) (unverified"
        ),
        "{text}"
    );
    let LoopbackError::UnverifiedProvider { error, description } = error else {
        panic!("unverified: {error:?}");
    };
    assert_eq!(error, "access_denied");
    assert_eq!(description.as_deref(), Some("Authenticator below AAL3"));
}

#[test]
fn errors_never_show_the_code_or_the_state() {
    let query = "code=secret-code&state=wrong-state-value";
    assert!(matches!(
        check_callback(query, &checks(false)),
        Err(Checked::Stray)
    ));
    let (_, stray, _) = answer(route(
        &format!("GET /callback?{query} HTTP/1.1\r\nHost: 127.0.0.1"),
        "/callback",
        &checks(false),
    ));
    let query = "error=access_denied&code=secret-code&state=s-123";
    let Err(Checked::Failed(error)) = check_callback(query, &checks(false)) else {
        panic!("an error response");
    };
    let shown = format!("{error} {error:?} {} {stray}", page(Page::Failure(&error)));
    assert!(
        !shown.contains("secret-code") && !shown.contains("wrong-state-value"),
        "{shown}"
    );
}

#[test]
fn constant_time_eq_compares_whole_values() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"abcd"));
    assert!(!constant_time_eq(b"", b"a"));
}
