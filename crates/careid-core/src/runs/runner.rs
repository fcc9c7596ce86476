//! Runs a plan: each case an ordinary sign-in through [`Client`] (so each is an attempt in the
//! history, labelled "plan / case"), judged from its record against its expectation, with the
//! steps only a person can confirm asked of the front end, and expected failures applied.
//!
//! The front end is a [`RunDriver`]: it gives each case its client (and, on the built-in mock,
//! signs the case's user in without a page), opens the browser, asks the tester, and hears of
//! progress. A run stops at [`RunCancel::cancel`]: the case under way is cancelled and the rest
//! are skipped.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::expect::{Aspect, CaseCheck, Expectation, Finding, Sent};
use super::expected_failures::ExpectedFailures;
use super::plan::{Case, Plan};
use super::report::{CaseResult, CaseStatus, EntryUse, PlannedRequest, RunId, RunReport};
use crate::history::{AttemptId, Time};
use crate::signin::{Client, LoginOptions, PendingLogin};

/// A case made ready by the front end.
#[derive(Debug)]
pub enum Preparation {
    Ready(Prepared),
    /// The case cannot run here (why, for the report).
    Skip(String),
}

/// The client a case signs in with, its profile set for the case (role selection).
#[derive(Debug)]
pub struct Prepared {
    pub client: Arc<Client>,
    /// Whether the case signs in without a person: the built-in mock's auto-login. Then no
    /// instruction is given and the authenticator's own steps are not for review.
    pub unattended: bool,
}

/// A tester's answer to a step only a person can confirm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewAnswer {
    Confirmed,
    Denied,
    /// Not asked (no terminal, `--no-review`) or not answered: it stays for review.
    NotAnswered,
}

/// What a run tells its front end as it goes.
#[derive(Debug)]
pub enum RunEvent<'a> {
    CaseStarting {
        /// From 1.
        number: usize,
        total: usize,
        case: &'a Case,
        /// What to tell the tester ("Use your FIDO2 security key"); `None` when unattended.
        instruction: Option<&'a str>,
    },
    CaseFinished {
        number: usize,
        total: usize,
        result: &'a CaseResult,
    },
}

/// The front end of a run: the CLI's `careid run`, the desktop's Runs screen, a test.
pub trait RunDriver {
    /// The client for `case` (the plan's profile with the case's role selection), and on the
    /// built-in mock its auto-login set to the case's user and authenticator.
    fn prepare(&mut self, case: &Case) -> impl Future<Output = Result<Preparation, String>> + Send;

    /// Opens the browser on the sign-in (a one-time link from [`PendingLogin::launch_links`]),
    /// or says where to open it.
    fn open_browser(&mut self, case: &Case, pending: &PendingLogin);

    /// Asks the tester to confirm `step`.
    fn review(&mut self, case: &Case, step: &str) -> impl Future<Output = ReviewAnswer> + Send;

    fn progress(&mut self, event: RunEvent<'_>);
}

/// Stops a run from another task: the case under way is cancelled, the rest skipped.
#[derive(Debug, Clone)]
pub struct RunCancel {
    sender: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for RunCancel {
    fn default() -> Self {
        Self {
            sender: Arc::new(tokio::sync::watch::channel(false).0),
        }
    }
}

impl RunCancel {
    pub fn cancel(&self) {
        self.sender.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.sender.borrow()
    }

    /// Resolves once the run is cancelled.
    pub fn cancelled(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut receiver = self.sender.subscribe();
        async move {
            // An error means the sender is gone: then nobody can cancel any more.
            if receiver.wait_for(|cancelled| *cancelled).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// A run about to start: the plan, its known deviations and the tester's label for it.
#[derive(Debug)]
pub struct Run<'a> {
    pub plan: &'a Plan,
    pub expected_failures: &'a ExpectedFailures,
    /// The tester's name for this run ("INT, Tuesday's build"), in every report.
    pub label: String,
}

impl Run<'_> {
    /// Runs every case in order and reports.
    pub async fn run<D: RunDriver>(&self, driver: &mut D, cancel: &RunCancel) -> RunReport {
        let id = RunId::new();
        let started_at = now_unix();
        let total = self.plan.cases.len();
        let mut results = Vec::with_capacity(total);
        let mut entries_used = vec![Vec::new(); self.expected_failures.entries.len()];
        // The newest auth_time this run has seen: a case that must move auth_time starts in a
        // later second, since auth_time counts whole seconds.
        let mut last_auth_time: Option<u64> = None;
        for (index, case) in self.plan.cases.iter().enumerate() {
            let number = index + 1;
            let mut result = self
                .run_case(case, number, total, driver, cancel, &mut last_auth_time)
                .await;
            // Only a case that ran has checks (at least its outcome); one skipped or not run
            // keeps its status.
            if !result.checks.is_empty() {
                for entry in self.expected_failures.apply(&case.id, &mut result.checks) {
                    entries_used[entry].push(case.id.clone());
                }
                result.status = CaseStatus::of(&result.checks);
            }
            driver.progress(RunEvent::CaseFinished {
                number,
                total,
                result: &result,
            });
            results.push(result);
        }
        let entries = self
            .expected_failures
            .entries
            .iter()
            .zip(entries_used)
            .map(|(entry, used_by)| EntryUse {
                entry: entry.clone(),
                used_by,
            })
            .collect();
        RunReport::new(
            id,
            self.plan,
            &self.label,
            Time::at(started_at),
            Time::at(now_unix()),
            results,
            entries,
            cancel.is_cancelled(),
        )
    }

    async fn run_case<D: RunDriver>(
        &self,
        case: &Case,
        number: usize,
        total: usize,
        driver: &mut D,
        cancel: &RunCancel,
        last_auth_time: &mut Option<u64>,
    ) -> CaseResult {
        let started = Instant::now();
        if cancel.is_cancelled() {
            return CaseResult::skipped(case, "the run was cancelled");
        }
        if let Some(reason) = &case.skip {
            return CaseResult::skipped(case, reason);
        }
        let prepared = match driver.prepare(case).await {
            Ok(Preparation::Ready(prepared)) => prepared,
            Ok(Preparation::Skip(reason)) => return CaseResult::skipped(case, &reason),
            Err(problem) => {
                return CaseResult::not_run(case, format!("could not prepare the case: {problem}"))
            }
        };
        let client = prepared.client;
        let planned = Sent::planned(case, client.profile());
        let expectation = Expectation::for_case(case, &planned);
        let instruction = (!prepared.unattended).then(|| {
            case.instruction
                .clone()
                .unwrap_or_else(|| expectation.instruction(&planned))
        });
        if expectation.auth_time != super::expect::AuthTimeExpectation::NotChecked {
            if let Some(last) = *last_auth_time {
                wait_for_second_after(last).await;
            }
        }
        driver.progress(RunEvent::CaseStarting {
            number,
            total,
            case,
            instruction: instruction.as_deref(),
        });

        let options = LoginOptions {
            acr_values: case.acr_values.clone(),
            prompt: case.prompt.clone(),
            max_age: case.max_age,
            scopes: self.plan.scopes.clone(),
            login_hint: self.plan.login_hint.clone(),
            change_role: false,
            role: None,
            label: Some(format!("{} / {}", self.plan.name, case.id)),
        };
        // Ids sort by creation: the attempt's record is no older than this one.
        let earliest = AttemptId::new();
        let attempt_id = match client.begin_login(options).await {
            Ok(pending) => {
                let id = pending.attempt_id().clone();
                driver.open_browser(case, &pending);
                // Its outcome is in the record, read next.
                let _ = pending
                    .finish(&client, self.plan.timeout, cancel.cancelled())
                    .await;
                if cancel.is_cancelled() {
                    let mut result =
                        CaseResult::skipped(case, "the run was cancelled during this case");
                    result.attempt = Some(id);
                    return result;
                }
                Some(id)
            }
            // Recorded by `begin_login` under an id it did not hand out.
            Err(_) => None,
        };
        let history = client.history();
        let label = format!("{} / {}", self.plan.name, case.id);
        let attempt = crate::signin::blocking(|| match attempt_id {
            Some(id) => history.get(&id).map_err(|error| error.to_string()),
            None => history
                .list()
                .0
                .into_iter()
                .find(|attempt| attempt.id >= earliest && attempt.label.as_deref() == Some(&label))
                .ok_or_else(|| "the attempt left no record in the history".to_owned()),
        });
        let attempt = match attempt {
            Ok(attempt) => attempt,
            Err(problem) => {
                return CaseResult::not_run(
                    case,
                    format!("cannot read the attempt's record: {problem}"),
                )
            }
        };
        if attempt.verdict.signed_in() {
            if let Some(auth_time) = attempt.returned.as_ref().and_then(|r| r.auth_time) {
                *last_auth_time =
                    Some(last_auth_time.map_or(auth_time.unix, |last| last.max(auth_time.unix)));
            }
        }

        // Judged by what the record says was sent, which is what the provider saw.
        let sent = Sent::recorded(&attempt);
        let expectation = Expectation::for_case(case, &sent);
        let mut checks = expectation.judge(&attempt);
        let mut steps = if prepared.unattended {
            Vec::new()
        } else {
            expectation.review_steps(&sent)
        };
        steps.extend(case.review.iter().cloned());
        for step in steps {
            let answer = if cancel.is_cancelled() {
                ReviewAnswer::NotAnswered
            } else {
                driver.review(case, &step).await
            };
            checks.push(review_check(step, answer));
        }
        CaseResult::ran(
            case,
            &attempt,
            PlannedRequest::of(&sent),
            instruction,
            prepared.unattended,
            checks,
            started.elapsed(),
        )
    }
}

fn review_check(step: String, answer: ReviewAnswer) -> CaseCheck {
    let (finding, actual) = match answer {
        ReviewAnswer::Confirmed => (Finding::Passed, "confirmed by the tester"),
        ReviewAnswer::Denied => (Finding::Failed, "the tester said it did not happen"),
        ReviewAnswer::NotAnswered => (Finding::Review, "for a person to confirm"),
    };
    CaseCheck {
        aspect: Aspect::Review,
        finding,
        expected: step,
        actual: actual.to_owned(),
        detail: None,
        expected_failure: None,
    }
}

fn now_unix() -> u64 {
    crate::time::unix_seconds(SystemTime::now())
}

/// Waits until the clock's whole second is past `unix` (at most a little over a second).
async fn wait_for_second_after(unix: u64) {
    let target = Duration::from_secs(unix.saturating_add(1));
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    if let Some(wait) = target.checked_sub(now) {
        tokio::time::sleep(wait.min(Duration::from_secs(2))).await;
    }
}
