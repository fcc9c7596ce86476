use super::*;
use crate::history::{
    AmrValue, Asked, AskedValue, AttemptError, AttemptId, AttemptLog, AuthTimeChange,
    ProfileSnapshot, Returned, Source, Time,
};
use crate::runs::plan::Plan;
use crate::runs::report::CaseStatus;

/// The one case of a plan for `authenticator` with these axes and case table.
fn case(authenticator: &str, axes: &str, table: &str) -> Case {
    let text = format!(
        "name = \"t\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"{authenticator}\"]\n{axes}\n{table}"
    );
    Plan::parse(&text, "t.toml").unwrap().cases.remove(0)
}

/// An attempt as recorded: `acr_values`, `prompt` and `max_age` as sent.
fn attempt(sent: (&str, &str, Option<u32>), verdict: Verdict) -> Attempt {
    let value = |text: &str| AskedValue {
        value: (!text.is_empty()).then(|| text.to_owned()),
        source: Source::Overridden,
    };
    let asked = Asked {
        acr_values: value(sent.0),
        prompt: value(sent.1),
        max_age: value(&sent.2.map(|age| age.to_string()).unwrap_or_default()),
        ..Asked::nothing()
    };
    let log = AttemptLog::begin(
        std::time::SystemTime::now(),
        ProfileSnapshot {
            name: "mock".to_owned(),
            role_selection: "app".to_owned(),
            ..ProfileSnapshot::default()
        },
        asked,
        None,
    );
    let mut attempt = log.finish(Ok(false), &[], std::time::SystemTime::now());
    attempt.verdict = verdict;
    attempt.started_at = Time::at(10_000);
    attempt.claims.id_token_verified = verdict.signed_in();
    attempt
}

fn signed_in(acr: Option<&str>, level: &str, amr: &[&str], moved: Option<i64>) -> Returned {
    Returned {
        sub: Some("555057900101".to_owned()),
        acr: acr.map(str::to_owned),
        amr: amr.iter().map(|value| AmrValue::of(value)).collect(),
        authentication_assurance_level: Some(level.to_owned()),
        id_assurance_level: Some("3".to_owned()),
        auth_time: Some(Time::at(9_990)),
        auth_time_change: moved.map(|seconds| AuthTimeChange {
            previous_attempt: AttemptId::new(),
            previous: Time::at(u64::try_from(9_990 - seconds).unwrap()),
            seconds,
            moved: seconds != 0,
        }),
        ..Returned::default()
    }
}

fn findings(checks: &[CaseCheck]) -> Vec<(Aspect, Finding)> {
    checks
        .iter()
        .map(|check| (check.aspect, check.finding))
        .collect()
}

#[test]
fn a_sign_in_is_judged_aspect_by_aspect() {
    use Aspect as A;
    use Finding as F;
    let smartcard = case(
        "smartcard",
        "acr_values = [\"AAL3_ANY\"]\nprompt = [\"login\"]",
        "",
    );
    let security_key = case(
        "security_key",
        "acr_values = [\"AAL3_ANY\"]\nprompt = [\"login\"]",
        "",
    );
    let app = case(
        "authenticator_app",
        "acr_values = [\"AAL2_ANY\"]\nmax_age = [300]",
        "",
    );
    let sent_login = ("AAL3_ANY", "login", None);
    type Row<'a> = (
        &'a str,
        &'a Case,
        (&'a str, &'a str, Option<u32>),
        Returned,
        Vec<(Aspect, Finding)>,
    );
    let rows: Vec<Row<'_>> = vec![
        (
            "everything as CIS2 should give it",
            &smartcard,
            sent_login,
            signed_in(Some("AAL3_ANY"), "3", &["N3_SMARTCARD"], Some(30)),
            vec![
                (A::Outcome, F::Passed),
                (A::Acr, F::Passed),
                (A::AuthenticationAssuranceLevel, F::Passed),
                (A::Amr, F::Passed),
                (A::AuthTimeMoved, F::Passed),
            ],
        ),
        (
            "no acr, another amr seen from CIS2, auth_time not moved despite prompt=login",
            &smartcard,
            sent_login,
            signed_in(None, "3", &["pwd"], Some(0)),
            vec![
                (A::Outcome, F::Passed),
                (A::Acr, F::Warning),
                (A::AuthenticationAssuranceLevel, F::Passed),
                (A::Amr, F::Failed),
                (A::AuthTimeMoved, F::Failed),
            ],
        ),
        (
            "an unverified amr guess differs; acr not one asked; no earlier sign-in",
            &security_key,
            sent_login,
            signed_in(Some("AAL2_ANY"), "3", &["hwk"], None),
            vec![
                (A::Outcome, F::Passed),
                (A::Acr, F::Warning),
                (A::AuthenticationAssuranceLevel, F::Passed),
                (A::Amr, F::Warning),
                (A::AuthTimeMoved, F::NotApplicable),
            ],
        ),
        (
            "a lower level than the authenticator's",
            &security_key,
            sent_login,
            signed_in(Some("AAL3_ANY"), "2", &["FIDO2"], Some(4)),
            vec![
                (A::Outcome, F::Passed),
                (A::Acr, F::Passed),
                (A::AuthenticationAssuranceLevel, F::Failed),
                (A::Amr, F::Passed),
                (A::AuthTimeMoved, F::Passed),
            ],
        ),
        (
            "max_age with the previous authentication within it: the provider may reuse it",
            &app,
            ("AAL2_ANY", "", Some(300)),
            signed_in(Some("AAL2_ANY"), "2", &["TOTP"], Some(0)),
            vec![
                (A::Outcome, F::Passed),
                (A::Acr, F::Passed),
                (A::AuthenticationAssuranceLevel, F::Passed),
                (A::Amr, F::Passed),
                (A::AuthTimeMoved, F::NotApplicable),
            ],
        ),
    ];
    for (what, case, sent, returned, expected) in rows {
        let mut attempt = attempt(sent, Verdict::SignedIn);
        attempt.returned = Some(returned);
        let expectation = Expectation::for_case(case, &Sent::recorded(&attempt));
        assert_eq!(findings(&expectation.judge(&attempt)), expected, "{what}");
    }
}

#[test]
fn max_age_must_move_auth_time_once_the_previous_authentication_is_older() {
    let app = case("authenticator_app", "max_age = [300]", "");
    for (previous_age, seconds_moved, finding) in [
        (400, 400, Finding::Passed),
        (400, 0, Finding::Failed),
        (100, 0, Finding::NotApplicable),
    ] {
        let mut attempt = attempt(("", "", Some(300)), Verdict::SignedIn);
        let mut returned = signed_in(None, "2", &["TOTP"], Some(seconds_moved));
        if let Some(change) = returned.auth_time_change.as_mut() {
            change.previous = Time::at(10_000 - previous_age);
        }
        attempt.returned = Some(returned);
        let checks = Expectation::for_case(&app, &Sent::recorded(&attempt)).judge(&attempt);
        let auth_time = checks
            .iter()
            .find(|check| check.aspect == Aspect::AuthTimeMoved)
            .unwrap();
        assert_eq!(
            auth_time.finding, finding,
            "{previous_age} s old, moved {seconds_moved}"
        );
    }
}

#[test]
fn an_authenticator_below_the_level_asked_is_expected_to_be_refused() {
    let app = case("authenticator_app", "acr_values = [\"AAL3_ANY\"]", "");
    let sent = ("AAL3_ANY", "login", None);
    let mut refused = attempt(sent, Verdict::ProviderError);
    refused.error = Some(AttemptError {
        code: "provider_error".to_owned(),
        class: "provider".to_owned(),
        message: "the provider refused the sign-in: access_denied".to_owned(),
        provider_error: Some("access_denied".to_owned()),
    });
    let expectation = Expectation::for_case(&app, &Sent::recorded(&refused));
    assert!(!expectation.admitted);
    assert_eq!(
        findings(&expectation.judge(&refused)),
        [
            (Aspect::Outcome, Finding::Passed),
            (Aspect::ProviderError, Finding::Passed)
        ]
    );
    assert!(expectation
        .instruction(&Sent::recorded(&refused))
        .contains("should refuse"));

    let mut let_in = attempt(sent, Verdict::SignedIn);
    let_in.returned = Some(signed_in(Some("AAL3_ANY"), "2", &["TOTP"], None));
    let checks = expectation.judge(&let_in);
    assert_eq!(
        findings(&checks),
        [
            (Aspect::Outcome, Finding::Failed),
            (Aspect::ProviderError, Finding::Failed)
        ]
    );
    assert_eq!(CaseStatus::of(&checks), CaseStatus::Failed);
}

#[test]
fn the_plans_overrides_replace_careids_rules() {
    let key = case(
        "security_key",
        "acr_values = [\"AAL3_ANY\"]\nrole_selection = [\"cis2\"]",
        "[expect]\nacr = \"AAL3_FIDO2\"\namr = [\"hwk\", \"pin\"]\nid_assurance_level = 2\nauth_time_moved = false\nerror = \"none\"",
    );
    let mut attempt = attempt(("AAL3_ANY", "", None), Verdict::SignedIn);
    attempt.profile.role_selection = "cis2".to_owned();
    attempt.returned = Some(signed_in(Some("AAL3_ANY"), "3", &["pin", "hwk"], Some(0)));
    let checks = Expectation::for_case(&key, &Sent::recorded(&attempt)).judge(&attempt);
    assert_eq!(
        findings(&checks),
        [
            (Aspect::Outcome, Finding::Passed),
            (Aspect::Error, Finding::Failed),
            (Aspect::Acr, Finding::Failed),
            (Aspect::AuthenticationAssuranceLevel, Finding::Passed),
            (Aspect::IdAssuranceLevel, Finding::Failed),
            (Aspect::Amr, Finding::Passed),
            (Aspect::AuthTimeMoved, Finding::Passed),
            // CIS2's picker chose no role.
            (Aspect::SelectedRole, Finding::Failed),
        ]
    );
}

#[test]
fn a_case_is_failed_before_review_before_warning() {
    let check = |finding| CaseCheck {
        aspect: Aspect::Acr,
        finding,
        expected: String::new(),
        actual: String::new(),
        detail: None,
        expected_failure: None,
    };
    use Finding as F;
    for (findings, status) in [
        (vec![F::Passed, F::NotApplicable], CaseStatus::Passed),
        (vec![F::Passed, F::Warning], CaseStatus::Warning),
        (vec![F::Warning, F::Review], CaseStatus::Review),
        (vec![F::Review, F::Failed, F::Warning], CaseStatus::Failed),
    ] {
        let checks: Vec<CaseCheck> = findings.into_iter().map(check).collect();
        assert_eq!(CaseStatus::of(&checks), status);
    }
    let mut covered = check(F::Failed);
    covered.expected_failure = Some(ExpectedFailureMark {
        comment: "known".to_owned(),
        happened: true,
    });
    assert_eq!(CaseStatus::of(&[covered]), CaseStatus::Passed);
}
