//! `careid run`: a whole plan on the built-in mock, unattended (the mock signs each case's user
//! and authenticator in without a page), through the real binary with the real keychain: the
//! cases' outcomes, expected failures used and unused, and the JSON, JUnit XML and HTML reports.

use std::path::{Path, PathBuf};

use careid_e2e::binaries::workspace_root;
use careid_e2e::CliWorld;
use serde_json::Value;

/// Three authenticators of one clinician at AAL3 and AAL2, with a fresh login each time. The
/// plan expects a smartcard sign-in at AAL2_OR_AAL3_ANY to carry acr AAL3_ANY, which the mock
/// does not do (it answers with the value asked): a known deviation for the expected failures.
const PLAN: &str = r#"
name = "Authenticators <on> the mock"
profile = "mock"

[mock]
user = "555057900101"

[matrix]
authenticator = ["smartcard", "security_key", "authenticator_app"]
acr_values = ["AAL3_ANY", "AAL2_OR_AAL3_ANY"]
prompt = ["login"]

[[case]]
match = "smartcard-AAL2_OR_AAL3_ANY-login"
acr = "AAL3_ANY"

[[case]]
match = "security_key-AAL3_ANY-login"
review = ["The key's light flashed <b>twice</b>"]
"#;

const KNOWN: &str = r#"
[[expected_failure]]
case = "smartcard-AAL2_OR_AAL3_ANY-*"
check = "acr"
comment = "the mock answers with the acr asked for, not the level reached"

[[expected_failure]]
case = "authenticator_app-AAL2_OR_AAL3_ANY-login"
check = "amr"
comment = "an entry whose failure does not happen: the authenticator app gives TOTP"

[[expected_failure]]
case = "passkey-*"
check = "amr"
comment = "no passkey case in this plan"
"#;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("written");
    path
}

fn case<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["cases"]
        .as_array()
        .and_then(|cases| cases.iter().find(|case| case["id"] == id))
        .unwrap_or_else(|| panic!("case {id} in the report"))
}

fn check<'a>(case: &'a Value, aspect: &str) -> &'a Value {
    case["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|check| check["aspect"] == aspect))
        .unwrap_or_else(|| panic!("check {aspect} in {case}"))
}

#[test]
fn a_plan_runs_unattended_on_the_mock_and_expected_failures_that_do_not_happen_or_are_unused_fail_it(
) {
    let world = CliWorld::new().expect("a test home");
    let files = tempfile::tempdir().expect("a folder");
    let plan = write(files.path(), "plan.toml", PLAN);
    let known = write(files.path(), "known.toml", KNOWN);
    let out = files.path().join("reports");
    let run = world
        .run(&[
            "run",
            plan.to_str().expect("utf-8"),
            "--expected-failures",
            known.to_str().expect("utf-8"),
            "--out",
            out.to_str().expect("utf-8"),
            "--label",
            "nightly & <e2e>",
        ])
        .expect("careid runs");
    // The unused entry fails the run, by name, and so does the one whose failure did not happen.
    assert_eq!(run.code, Some(9), "{}", run.text());
    assert!(
        run.stderr.contains("passkey-*") && run.stderr.contains("never used"),
        "{}",
        run.text()
    );
    assert!(
        run.stderr
            .contains("authenticator_app-AAL2_OR_AAL3_ANY-login: amr was expected to fail"),
        "{}",
        run.text()
    );
    assert!(run
        .stderr
        .contains("the built-in mock signs this case in without a page"));

    let written: Vec<PathBuf> = run.stdout.lines().map(PathBuf::from).collect();
    assert_eq!(written.len(), 3, "{}", run.text());
    let stems: Vec<String> = written
        .iter()
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(stems.iter().all(|stem| *stem == stems[0]), "{stems:?}");
    assert!(stems[0].starts_with("careid-run-authenticators-on-the-mock-"));

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&written[0]).expect("JSON")).expect("JSON");
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["plan"]["name"], "Authenticators <on> the mock");
    assert_eq!(report["label"], "nightly & <e2e>");
    assert_eq!(report["careid_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(report["cases"].as_array().map(Vec::len), Some(6));

    // Each authenticator the clinician holds signs in at its level, with its amr.
    for (id, level, amr, status) in [
        ("smartcard-AAL3_ANY-login", "3", "N3_SMARTCARD", "passed"),
        (
            "security_key-AAL2_OR_AAL3_ANY-login",
            "3",
            "FIDO2",
            "passed",
        ),
        // Expected to fail by the file, but the amr is right: the case fails.
        (
            "authenticator_app-AAL2_OR_AAL3_ANY-login",
            "2",
            "TOTP",
            "failed",
        ),
    ] {
        let case = case(&report, id);
        assert_eq!(case["status"], status, "{case}");
        assert_eq!(case["verdict"], "signed_in");
        assert_eq!(case["unattended"], true);
        assert_eq!(
            check(case, "authentication_assurance_level")["actual"],
            level
        );
        assert_eq!(check(case, "amr")["finding"], "passed", "{case}");
        assert!(check(case, "amr")["actual"].as_str().unwrap().contains(amr));
    }
    // prompt=login moved auth_time each time after the first sign-in.
    let later = case(&report, "security_key-AAL2_OR_AAL3_ANY-login");
    assert_eq!(
        check(later, "auth_time_moved")["finding"],
        "passed",
        "{later}"
    );

    // An AAL2 authenticator at AAL3 is refused, as expected: the case passes.
    let refused = case(&report, "authenticator_app-AAL3_ANY-login");
    assert_eq!(refused["status"], "passed", "{refused}");
    assert_eq!(refused["verdict"], "provider_error");
    assert_eq!(check(refused, "provider_error")["actual"], "access_denied");

    // The known deviation happened: an expected failure, so the case passes.
    let deviation = case(&report, "smartcard-AAL2_OR_AAL3_ANY-login");
    assert_eq!(deviation["status"], "passed", "{deviation}");
    let acr = check(deviation, "acr");
    assert_eq!(acr["finding"], "failed");
    assert_eq!(acr["actual"], "AAL2_OR_AAL3_ANY");
    assert_eq!(acr["expected_failure"]["happened"], true);

    // The plan's own step for a person stays REVIEW without a terminal.
    let reviewed = case(&report, "security_key-AAL3_ANY-login");
    assert_eq!(reviewed["status"], "review", "{reviewed}");
    assert_eq!(check(reviewed, "review")["finding"], "review");

    let unhappened = check(
        case(&report, "authenticator_app-AAL2_OR_AAL3_ANY-login"),
        "amr",
    );
    assert_eq!(unhappened["expected_failure"]["happened"], false);
    let entries = report["expected_failures"].as_array().expect("entries");
    assert_eq!(entries[0]["used_by"][0], "smartcard-AAL2_OR_AAL3_ANY-login");
    assert_eq!(
        entries[1]["used_by"][0],
        "authenticator_app-AAL2_OR_AAL3_ANY-login"
    );
    assert_eq!(entries[2]["used_by"].as_array().map(Vec::len), Some(0));
    assert!(report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|problem| problem.as_str().unwrap().contains("passkey-*")));

    // Each case is an ordinary attempt in the history, labelled with the plan and case.
    let history = world.ok(&["history", "--json"]).json();
    let labels: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|attempt| attempt["label"].as_str())
        .collect();
    assert_eq!(labels.len(), 6, "{history}");
    assert!(labels.contains(&"Authenticators <on> the mock / authenticator_app-AAL3_ANY-login"));
    let attempt = reviewed["attempt"].as_str().expect("an attempt id");
    assert!(history
        .as_array()
        .unwrap()
        .iter()
        .any(|record| record["id"] == attempt));

    // JUnit XML for CI: a test case per case and per expected failure; the unused one fails.
    let xml = std::fs::read_to_string(&written[1]).expect("XML");
    let junit = quick_junit::Report::deserialize_from_str(&xml).expect("JUnit XML");
    let suite = &junit.test_suites[0];
    assert_eq!(suite.test_cases.len(), 6 + 3);
    assert_eq!(suite.failures, 2, "{xml}");
    let failed: Vec<&str> = suite
        .test_cases
        .iter()
        .filter(|test| !matches!(test.status, quick_junit::TestCaseStatus::Success { .. }))
        .map(|test| test.name.as_str())
        .collect();
    assert_eq!(
        failed,
        [
            "authenticator_app-AAL2_OR_AAL3_ANY-login",
            "expected failure: passkey-* amr"
        ]
    );

    // HTML for people: self-contained, every value escaped.
    let html = std::fs::read_to_string(&written[2]).expect("HTML");
    assert!(html.starts_with("<!doctype html>"));
    assert!(!html.contains("<script"), "no script");
    assert!(html.contains("Authenticators &lt;on&gt; the mock"));
    assert!(html.contains("nightly &amp; &lt;e2e&gt;"));
    assert!(!html.contains("<b>twice</b>"), "the plan's text is escaped");
    assert!(html.contains("authenticator_app-AAL3_ANY-login"));

    // No token anywhere in the reports.
    for path in &written {
        let text = std::fs::read_to_string(path).expect("a report");
        assert!(
            careid_e2e::jwt_shaped(&text).is_empty(),
            "a token in {}",
            path.display()
        );
    }
}

#[test]
fn the_example_plan_for_the_mock_runs_and_a_plan_with_a_mistake_names_its_line() {
    let world = CliWorld::new().expect("a test home");
    let out = tempfile::tempdir().expect("a folder");
    let example = workspace_root().join("docs/examples/runs/mock.toml");
    let run = world
        .run(&[
            "run",
            example.to_str().expect("utf-8"),
            "--out",
            out.path().to_str().expect("utf-8"),
            "--json",
        ])
        .expect("careid runs");
    assert_eq!(run.code, Some(0), "{}", run.text());
    let report = run.json();
    assert_eq!(report["outcome"], "passed", "{report}");
    assert_eq!(report["counts"]["failed"], 0);
    // CIS2's picker chose the plan's role in the cis2 role mode.
    let picked = case(&report, "smartcard-AAL3_ANY-login-roles_in_cis2");
    assert_eq!(check(picked, "selected_role")["actual"], "555057900302");
    assert_eq!(std::fs::read_dir(out.path()).expect("reports").count(), 3);

    let files = tempfile::tempdir().expect("a folder");
    let mistaken = write(
        files.path(),
        "mistaken.toml",
        "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\", \"retina\"]\n",
    );
    let run = world
        .run(&["run", mistaken.to_str().expect("utf-8")])
        .expect("careid runs");
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(run.stderr.contains("mistaken.toml:4:"), "{}", run.text());
    assert!(run.stderr.contains("retina"), "{}", run.text());
}
