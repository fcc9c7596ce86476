//! Every sign-in attempt lands in the history with what was asked, what came back and each
//! check, against the in-process mock over real HTTP and a real loopback listener; and no
//! record holds a token.

use std::time::Duration;

use careid_core::history::{Attempt, CheckOutcome, Source, Verdict};
use careid_core::signin::LoginOptions;
use careid_core::AcrValues;

use crate::signin::{fixture, sign_in_with as attempt, Fixture};

fn records(fixture: &Fixture) -> Vec<Attempt> {
    let (attempts, damaged) = fixture.client.history().list();
    assert_eq!(damaged, 0);
    attempts
}

fn outcome(attempt: &Attempt, rule: &str) -> CheckOutcome {
    attempt
        .checks
        .iter()
        .find(|check| check.rule == rule)
        .unwrap_or_else(|| panic!("no check {rule}"))
        .outcome
}

/// Every file in the history folder, as text.
fn history_text(fixture: &Fixture) -> String {
    let dir = fixture.client.history().dir().to_owned();
    std::fs::read_dir(dir)
        .expect("history folder")
        .map(|entry| std::fs::read_to_string(entry.expect("entry").path()).expect("text"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_is_recorded_with_each_check_and_no_token() {
    let fixture = fixture("555057896106").await;
    let session = attempt(&fixture, LoginOptions::default())
        .await
        .expect("signed in");

    let records = records(&fixture);
    assert_eq!(records.len(), 1);
    let record = &records[0];
    assert_eq!(session.attempt_id.as_ref(), Some(&record.id));
    assert_eq!(record.verdict, Verdict::SignedIn);
    assert_eq!(record.profile.name, "mock");
    assert!(record.error.is_none());
    for rule in [
        "state",
        "pkce",
        "id_token_signature",
        "id_token_iss",
        "id_token_aud",
        "id_token_exp",
        "id_token_nonce",
        "userinfo_sub",
        "role",
    ] {
        assert_eq!(outcome(record, rule), CheckOutcome::Passed, "{rule}");
    }
    assert_eq!(outcome(record, "max_age"), CheckOutcome::NotApplicable);
    let signature = record
        .checks
        .iter()
        .find(|check| check.rule == "id_token_signature")
        .expect("signature");
    let header = record
        .headers
        .iter()
        .find(|header| header.token == "id_token")
        .expect("the ID token's header");
    let kid = header.kid.as_deref().expect("the mock names its key");
    assert!(
        signature
            .detail
            .as_deref()
            .is_some_and(|detail| detail.contains(kid)),
        "{signature:?}"
    );
    assert!(record.claims.id_token_verified);
    let returned = record.returned.as_ref().expect("returned");
    assert_eq!(returned.sub.as_deref(), Some("555057896106"));
    assert!(!returned.amr.is_empty());
    assert!(returned.amr.iter().all(|amr| amr.authenticator.is_some()));
    assert!(returned.role.is_some() || outcome(record, "role") == CheckOutcome::Passed);
    let exp = record
        .times
        .iter()
        .find(|time| time.token == "id_token" && time.claim == "exp")
        .expect("exp");
    assert!(exp.at.text().ends_with('Z'));
    let steps: Vec<&str> = record.timings.iter().map(|t| t.step.as_str()).collect();
    for step in [
        "discovery",
        "browser",
        "token",
        "jwks",
        "checks",
        "userinfo",
        "total",
    ] {
        assert!(steps.contains(&step), "{step} in {steps:?}");
    }
    // The mock profile asks for no level; its scopes are its own.
    assert_eq!(record.asked.acr_values.source, Source::NotSent);
    assert_eq!(record.asked.scope.source, Source::Profile);

    // Claims and headers, never the tokens: no compact JWS and no token's text.
    let text = history_text(&fixture);
    assert!(!text.contains("eyJ"), "a JWT in the history");
    assert!(!text.contains(session.tokens.access_token.expose_secret()));
    let id_token = session.tokens.id_token.as_ref().expect("id token");
    let signature_part = id_token
        .expose_secret()
        .rsplit('.')
        .next()
        .expect("signature");
    assert!(!text.contains(signature_part));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_id_token_is_recorded_with_the_check_that_failed() {
    let fixture = fixture("555057896106").await;
    fixture
        .mock
        .arm_fault("wrong_nonce".parse().expect("fault"), Some(1));
    attempt(&fixture, LoginOptions::default())
        .await
        .expect_err("refused");

    let record = &records(&fixture)[0];
    assert_eq!(record.verdict, Verdict::Refused);
    assert_eq!(
        record.error.as_ref().map(|error| error.code.as_str()),
        Some("id_token_wrong_nonce")
    );
    assert_eq!(outcome(record, "id_token_signature"), CheckOutcome::Passed);
    assert_eq!(outcome(record, "id_token_nonce"), CheckOutcome::Failed);
    assert_eq!(outcome(record, "max_age"), CheckOutcome::NotRun);
    assert_eq!(outcome(record, "userinfo_sub"), CheckOutcome::NotRun);
    // The refused token's claims are shown, marked as not verified.
    assert!(!record.claims.id_token_verified);
    assert!(record.claims.id_token.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level_below_the_one_asked_for_fails_the_assurance_check() {
    let fixture = fixture("555057896106").await;
    fixture
        .mock
        .arm_fault("assurance_level_lowered".parse().expect("fault"), Some(1));
    let options = LoginOptions {
        acr_values: Some(AcrValues::new("AAL3_ANY")),
        ..LoginOptions::default()
    };
    attempt(&fixture, options).await.expect_err("refused");

    let record = &records(&fixture)[0];
    assert_eq!(record.verdict, Verdict::Refused);
    assert_eq!(record.asked.acr_values.value.as_deref(), Some("AAL3_ANY"));
    assert_eq!(record.asked.acr_values.source, Source::Overridden);
    assert_eq!(outcome(record, "assurance_level"), CheckOutcome::Failed);
    assert_eq!(
        record
            .returned
            .as_ref()
            .and_then(|returned| returned.authentication_assurance_level.as_deref()),
        Some("2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_with_no_roles_and_a_provider_error_are_recorded_as_such() {
    let fixture = fixture("555057920109").await;
    attempt(&fixture, LoginOptions::default())
        .await
        .expect("signed in without a role");
    fixture
        .mock
        .arm_fault("authorize_access_denied".parse().expect("fault"), Some(1));
    attempt(&fixture, LoginOptions::default())
        .await
        .expect_err("denied");

    let records = records(&fixture);
    assert_eq!(records.len(), 2);
    // Newest first.
    assert_eq!(records[0].verdict, Verdict::ProviderError);
    assert_eq!(
        outcome(&records[0], "id_token_signature"),
        CheckOutcome::NotRun
    );
    assert_eq!(records[1].verdict, Verdict::NoRoles);
    assert_eq!(outcome(&records[1], "role"), CheckOutcome::NotApplicable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_that_fails_before_the_browser_is_recorded() {
    let fixture = fixture("555057896106").await;
    fixture
        .mock
        .arm_fault("http_500@discovery".parse().expect("fault"), None);
    attempt(&fixture, LoginOptions::default())
        .await
        .expect_err("no discovery");

    let record = &records(&fixture)[0];
    assert_eq!(record.verdict, Verdict::Failed);
    assert!(record.error.is_some());
    assert!(record
        .checks
        .iter()
        .all(|check| check.outcome == CheckOutcome::NotRun));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sign_in_says_how_auth_time_moved_since_the_first() {
    let fixture = fixture("555057896106").await;
    attempt(&fixture, LoginOptions::default())
        .await
        .expect("first");
    // A new authentication at the provider, at least a second later.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let options = LoginOptions {
        prompt: Some("login".to_owned()),
        ..LoginOptions::default()
    };
    attempt(&fixture, options).await.expect("second");

    let records = records(&fixture);
    let change = records[0]
        .returned
        .as_ref()
        .and_then(|returned| returned.auth_time_change.as_ref())
        .unwrap_or_else(|| {
            panic!(
                "a change against the first: {:#?}",
                records
                    .iter()
                    .map(|r| (&r.id, &r.returned))
                    .collect::<Vec<_>>()
            )
        });
    assert_eq!(change.previous_attempt, records[1].id);
    assert!(change.moved && change.seconds >= 1, "{change:?}");
    assert!(records[1]
        .returned
        .as_ref()
        .is_some_and(|returned| returned.auth_time_change.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_refreshes_role_changes_and_end_go_on_its_sign_ins_timeline() {
    let fixture = fixture("555057896106").await;
    let session = attempt(&fixture, LoginOptions::default())
        .await
        .expect("signed in");
    fixture
        .client
        .fresh_tokens_for_use()
        .await
        .expect("refreshed");
    let role = session
        .identity
        .as_ref()
        .and_then(|identity| identity.roles.last())
        .map(|role| role.person_roleid.clone())
        .expect("a role");
    fixture
        .client
        .select_role(&role)
        .await
        .expect("role changed");
    fixture.client.logout(None).await.expect("signed out");

    let record = &records(&fixture)[0];
    let kinds: Vec<&str> = record
        .timeline
        .iter()
        .map(|event| event.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["refreshed", "role_changed", "ended"],
        "{:#?}",
        record.timeline
    );
    assert!(record.timeline[1]
        .detail
        .as_deref()
        .is_some_and(|detail| detail.contains(&role)));
    assert!(record.timeline[2]
        .detail
        .as_deref()
        .is_some_and(|detail| detail.starts_with("signed_out")));
}
