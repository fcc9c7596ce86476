//! A run through a front end of the test's own, as the desktop's Runs screen would drive it: on a
//! task of its own, the mock's auto-login set per case through its admin endpoint, the browser
//! step, the tester's answers, progress events, cases the front end skips or cannot prepare, and
//! cancellation.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use careid_core::runs::{
    Case, CaseStatus, ExpectedFailures, Plan, Preparation, Prepared, ReviewAnswer, Run, RunCancel,
    RunDriver, RunEvent, RunOutcome,
};
use careid_core::signin::{Client, PendingLogin};

use crate::signin::{browse, fixture};

/// A front end that answers each review step from a table, and notes what it was told.
struct TestDriver {
    client: Arc<Client>,
    admin_auto_login: String,
    user: &'static str,
    /// Answers by case id; cases not listed are not answered.
    answers: Vec<(&'static str, ReviewAnswer)>,
    /// Cases to skip, and cases that cannot be prepared.
    skip: Vec<&'static str>,
    broken: Vec<&'static str>,
    /// Cancels the run instead of opening the browser for this case.
    cancel_at: Option<(&'static str, RunCancel)>,
    events: Arc<Mutex<Vec<String>>>,
}

impl RunDriver for TestDriver {
    async fn prepare(&mut self, case: &Case) -> Result<Preparation, String> {
        if self.skip.contains(&case.id.as_str()) {
            return Ok(Preparation::Skip("not on this machine".to_owned()));
        }
        if self.broken.contains(&case.id.as_str()) {
            return Err("the provider is not set up".to_owned());
        }
        let auto_login = format!("{}:{}", self.user, case.authenticator.name());
        let answer = crate::http()
            .build()
            .expect("client")
            .put(&self.admin_auto_login)
            .json(&serde_json::json!({ "auto_login": auto_login }))
            .send()
            .await
            .map_err(|error| error.to_string())?;
        if !answer.status().is_success() {
            return Err(format!("auto-login refused: {}", answer.status()));
        }
        Ok(Preparation::Ready(Prepared {
            client: Arc::clone(&self.client),
            unattended: false,
        }))
    }

    fn open_browser(&mut self, case: &Case, pending: &PendingLogin) {
        if let Some((id, cancel)) = &self.cancel_at {
            if case.id.as_str() == *id {
                cancel.cancel();
                return;
            }
        }
        let url = pending.launch_links().issue().expect("a link");
        tokio::spawn(async move { browse(&url).await });
    }

    async fn review(&mut self, case: &Case, step: &str) -> ReviewAnswer {
        self.events
            .lock()
            .unwrap()
            .push(format!("review {}: {step}", case.id));
        self.answers
            .iter()
            .find(|(id, _)| *id == case.id.as_str())
            .map_or(ReviewAnswer::NotAnswered, |(_, answer)| *answer)
    }

    fn progress(&mut self, event: RunEvent<'_>) {
        let line = match event {
            RunEvent::CaseStarting {
                number,
                total,
                case,
                instruction,
            } => format!(
                "start {number}/{total} {}: {}",
                case.id,
                instruction.unwrap_or("-")
            ),
            RunEvent::CaseFinished {
                number,
                total,
                result,
            } => format!(
                "end {number}/{total} {} {}",
                result.id,
                result.status.word()
            ),
        };
        self.events.lock().unwrap().push(line);
    }
}

const PLAN: &str = r#"
name = "Front end"
profile = "mock"
timeout = 20

[matrix]
authenticator = ["smartcard", "security_key", "authenticator_app", "ipad"]
acr_values = ["AAL3_ANY"]
"#;

fn driver(fixture: &crate::signin::Fixture) -> TestDriver {
    TestDriver {
        client: Arc::clone(&fixture.client),
        admin_auto_login: fixture.mock.admin_auto_login_url(),
        user: "555057900101",
        answers: Vec::new(),
        skip: Vec::new(),
        broken: Vec::new(),
        cancel_at: None,
        events: Arc::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_runs_on_a_task_of_its_own_through_a_front_end() {
    let fixture = fixture("555057896106").await;
    let plan = Plan::parse(PLAN, "plan.toml").expect("a plan");
    let mut driver = driver(&fixture);
    driver.answers = vec![
        ("smartcard-AAL3_ANY", ReviewAnswer::Confirmed),
        ("security_key-AAL3_ANY", ReviewAnswer::Denied),
    ];
    driver.skip = vec!["ipad-AAL3_ANY"];
    let events = Arc::clone(&driver.events);
    // Owned by the task, as a desktop screen would spawn it.
    let report = tokio::spawn(async move {
        let expected_failures = ExpectedFailures::default();
        let run = Run {
            plan: &plan,
            expected_failures: &expected_failures,
            label: "from a task".to_owned(),
        };
        run.run(&mut driver, &RunCancel::default()).await
    })
    .await
    .expect("the run's task");

    let statuses: Vec<(&str, CaseStatus)> = report
        .cases
        .iter()
        .map(|case| (case.id.as_str(), case.status))
        .collect();
    assert_eq!(
        statuses,
        [
            // Signed in, and the tester confirmed the smartcard's own step.
            ("smartcard-AAL3_ANY", CaseStatus::Passed),
            // Signed in, but the tester said the key's step did not happen.
            ("security_key-AAL3_ANY", CaseStatus::Failed),
            // Refused as expected; the tester has not confirmed CIS2 did not offer it.
            ("authenticator_app-AAL3_ANY", CaseStatus::Review),
            ("ipad-AAL3_ANY", CaseStatus::Skipped),
        ]
    );
    assert_eq!(report.outcome, RunOutcome::Failed);
    assert_eq!(report.label, "from a task");
    assert_eq!(report.cases[3].note.as_deref(), Some("not on this machine"));

    let events = events.lock().unwrap().clone();
    assert_eq!(
        events[0], "start 1/4 smartcard-AAL3_ANY: Use your smartcard",
        "{events:#?}"
    );
    assert!(events.contains(
        &"review security_key-AAL3_ANY: The browser asked for the security key's PIN and a touch of the key"
            .to_owned()
    ));
    assert!(events.iter().any(|event| event
        .starts_with("start 3/4 authenticator_app-AAL3_ANY: Try to use your authenticator app")));
    assert_eq!(
        events.last().map(String::as_str),
        Some("end 4/4 ipad-AAL3_ANY SKIPPED")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_that_cannot_be_prepared_fails_and_a_cancelled_run_skips_the_rest() {
    let fixture = fixture("555057896106").await;
    let plan = Plan::parse(PLAN, "plan.toml").expect("a plan");
    let cancel = RunCancel::default();
    let mut driver = driver(&fixture);
    driver.broken = vec!["smartcard-AAL3_ANY"];
    driver.cancel_at = Some(("security_key-AAL3_ANY", cancel.clone()));
    let expected_failures = ExpectedFailures::default();
    let run = Run {
        plan: &plan,
        expected_failures: &expected_failures,
        label: "cancelled".to_owned(),
    };
    let report = tokio::time::timeout(Duration::from_secs(30), run.run(&mut driver, &cancel))
        .await
        .expect("a cancelled case does not wait for its timeout");
    let first = &report.cases[0];
    assert_eq!(first.status, CaseStatus::Failed);
    assert!(first
        .note
        .as_deref()
        .is_some_and(|note| note.contains("the provider is not set up")));
    let cancelled = &report.cases[1];
    assert_eq!(cancelled.status, CaseStatus::Skipped);
    assert!(cancelled.attempt.is_some(), "its attempt is in the history");
    assert!(report.cases[2..]
        .iter()
        .all(|case| case.status == CaseStatus::Skipped
            && case.note.as_deref() == Some("the run was cancelled")));
    assert_eq!(report.outcome, RunOutcome::Cancelled);
}
