//! The Runs screen: a tester's plan, run by the core's runner with the desk as its front end.
//! Each case is an ordinary sign-in through the system browser, with what to use said on the
//! screen; a step only a person can confirm is asked there. The run under way (or last
//! finished) is part of every [`AppState`](crate::ipc::AppState); its reports are exported from
//! the finished run.
//!
//! Plans come from the examples careid ships, the plans folder (`<config>/plans/*.toml`) and
//! files the tester opened: only a plan listed here can run, so the page cannot make the app
//! read any other file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use careid_core::runs::{
    read_plan, Case, ExpectedFailures, Plan, PlanFiles, PlanReadError, Preparation, ReviewAnswer,
    Run, RunCancel, RunDriver, RunEvent, RunOutcome, RunReport,
};
use careid_core::signin::PendingLogin;
use careid_host::run_cases::CaseClients;
use tokio::sync::oneshot;

use super::{lock, Desk, Outcome, Phase};
use crate::ipc::{
    CommandError, NoticeClass, RunAnswer, RunCaseView, RunFindingView, RunPlanView, RunPlansView,
    RunQuestionView, RunReportKind, RunView,
};

/// The plans careid ships: each a file of `docs/examples/runs/`.
const EXAMPLES: &[(&str, &str)] = &[(
    "mock.toml",
    include_str!("../../../docs/examples/runs/mock.toml"),
)];

/// The Runs screen's memory.
#[derive(Default)]
pub(super) struct RunBoard {
    /// Plan files the tester opened this time, beside the plans folder's.
    opened: Vec<PathBuf>,
    run: Option<RunUnderWay>,
}

struct RunUnderWay {
    view: RunView,
    cancel: RunCancel,
    /// Takes the tester's answer to the step asked.
    answer: Option<oneshot::Sender<ReviewAnswer>>,
    /// Once finished.
    report: Option<RunReport>,
}

impl RunBoard {
    pub(super) fn view(&self) -> Option<RunView> {
        self.run.as_ref().map(|run| run.view.clone())
    }

    pub(super) fn running(&self) -> bool {
        self.run.as_ref().is_some_and(|run| run.report.is_none())
    }
}

/// Where a listed plan is.
enum PlanSource {
    Example(&'static str, &'static str),
    File(PathBuf),
}

impl Desk {
    /// Where careid looks for plan files.
    fn plans_folder(&self) -> PathBuf {
        self.host.config_dir().join("plans")
    }

    /// Every plan the Runs screen offers, each read (or why it cannot be).
    pub async fn run_plans(&self) -> RunPlansView {
        let folder = self.plans_folder();
        let opened = lock(&self.runs).opened.clone();
        let plans = careid_core::signin::blocking(|| {
            self.plan_sources(&folder, &opened)
                .into_iter()
                .map(|(id, origin, source)| plan_view(id, origin, &source))
                .collect()
        });
        RunPlansView {
            folder: folder.display().to_string(),
            plans,
        }
    }

    /// The plans with their ids: the examples, the plans folder's files (by name), then the
    /// files opened (by their place in that list).
    fn plan_sources(
        &self,
        folder: &Path,
        opened: &[PathBuf],
    ) -> Vec<(String, &'static str, PlanSource)> {
        let mut sources: Vec<_> = EXAMPLES
            .iter()
            .map(|(file, text)| {
                (
                    format!("example:{file}"),
                    "example",
                    PlanSource::Example(file, text),
                )
            })
            .collect();
        let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .filter_map(|entry| Some(entry.ok()?.path()))
                    .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
                    .filter(|path| !is_expected_failures_file(path))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        for path in files {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            sources.push((format!("folder:{name}"), "folder", PlanSource::File(path)));
        }
        for (index, path) in opened.iter().enumerate() {
            sources.push((
                format!("opened:{index}"),
                "opened",
                PlanSource::File(path.clone()),
            ));
        }
        sources
    }

    /// Adds a plan file the tester chose to the list; its view.
    pub fn open_run_plan(&self, path: PathBuf) -> RunPlanView {
        let mut board = lock(&self.runs);
        let index = match board.opened.iter().position(|known| *known == path) {
            Some(index) => index,
            None => {
                board.opened.push(path.clone());
                board.opened.len() - 1
            }
        };
        drop(board);
        careid_core::signin::blocking(|| {
            plan_view(format!("opened:{index}"), "opened", &PlanSource::File(path))
        })
    }

    /// Starts the listed plan `id`. Refused while a run or a sign-in is under way, or while
    /// signed in: each case signs in afresh and would replace the session.
    pub async fn start_run(self: &Arc<Self>, id: &str, label: Option<String>) -> Outcome {
        {
            let inner = self.inner.lock().await;
            if matches!(inner.phase, Phase::Waiting(_) | Phase::Live(_)) {
                return Err(CommandError::new(
                    "run_needs_sign_out",
                    NoticeClass::Usage,
                    "sign out before a run: each case signs in afresh",
                ));
            }
        }
        if lock(&self.runs).running() {
            return Err(run_in_progress());
        }
        let folder = self.plans_folder();
        let opened = lock(&self.runs).opened.clone();
        let files = careid_core::signin::blocking(|| {
            let source = self
                .plan_sources(&folder, &opened)
                .into_iter()
                .find(|(known, _, _)| known == id)
                .map(|(_, _, source)| source)
                .ok_or_else(|| {
                    CommandError::new("run_plan_unknown", NoticeClass::Usage, "no such plan")
                })?;
            read_source(&source).map_err(|error| {
                CommandError::new(error.code(), NoticeClass::Usage, &error.to_string())
            })
        })?;
        // What cannot run here is said now, not as the run's first case.
        CaseClients::new(&self.host, &files.plan).map_err(|error| {
            CommandError::new(error.code(), NoticeClass::Usage, &error.to_string())
        })?;
        let label = label
            .map(|label| label.trim().to_owned())
            .filter(|label| !label.is_empty())
            .unwrap_or_else(|| {
                format!(
                    "{} at {}",
                    files.plan.name,
                    careid_core::time::utc_text(careid_core::time::unix_seconds(
                        std::time::SystemTime::now()
                    ))
                )
            });
        let cancel = RunCancel::default();
        {
            let mut board = lock(&self.runs);
            if board.running() {
                return Err(run_in_progress());
            }
            board.run = Some(RunUnderWay {
                view: starting_view(&files.plan, &label),
                cancel: cancel.clone(),
                answer: None,
                report: None,
            });
        }
        self.republish().await;

        let desk = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            let report = desk.execute(&files, label, &cancel).await;
            desk.finish_run(report).await;
        });
        Ok(())
    }

    async fn execute(
        self: &Arc<Self>,
        files: &PlanFiles,
        label: String,
        cancel: &RunCancel,
    ) -> RunReport {
        let run = Run {
            plan: &files.plan,
            expected_failures: &files.expected_failures,
            label,
        };
        // Checked at the start; a profile removed since fails each case.
        let mut clients =
            CaseClients::new(&self.host, &files.plan).map_err(|error| error.to_string());
        let mut driver = DeskDriver {
            desk: Arc::clone(self),
            clients: clients.as_mut().map_err(|problem| problem.clone()),
            cancel: cancel.clone(),
        };
        let report = run.run(&mut driver, cancel).await;
        if let Ok(clients) = clients.as_mut() {
            if let Err(error) = clients.restore_mock().await {
                tracing::warn!("could not put the mock's auto-login back: {error}");
            }
        }
        report
    }

    async fn finish_run(&self, report: RunReport) {
        {
            let mut board = lock(&self.runs);
            if let Some(run) = board.run.as_mut() {
                run.view.state = outcome_code(report.outcome).to_owned();
                run.view.current = None;
                run.view.instruction = None;
                run.view.question = None;
                run.view.summary = Some(report.summary());
                run.view.problems = report.problems.clone();
                run.view.cases = report.cases.iter().map(case_view).collect();
                run.answer = None;
                run.report = Some(report);
            }
        }
        self.republish().await;
    }

    /// Stops the run: the case under way is cancelled, the rest skipped.
    pub fn cancel_run(&self) -> Outcome {
        match lock(&self.runs).run.as_ref() {
            Some(run) if run.report.is_none() => {
                run.cancel.cancel();
                Ok(())
            }
            _ => Err(no_run()),
        }
    }

    /// The tester's answer to the step asked.
    pub async fn answer_run_step(&self, answer: RunAnswer) -> Outcome {
        let sender = lock(&self.runs)
            .run
            .as_mut()
            .and_then(|run| run.answer.take())
            .ok_or_else(|| {
                CommandError::new("run_no_question", NoticeClass::Usage, "no step is asked")
            })?;
        let answer = match answer {
            RunAnswer::Confirmed => ReviewAnswer::Confirmed,
            RunAnswer::Denied => ReviewAnswer::Denied,
            RunAnswer::Later => ReviewAnswer::NotAnswered,
        };
        // The run may have been cancelled meanwhile: then nobody waits for the answer.
        let _ = sender.send(answer);
        Ok(())
    }

    /// Back to the list of plans, once the run has finished.
    pub async fn close_run(&self) -> Outcome {
        {
            let mut board = lock(&self.runs);
            if board.running() {
                return Err(run_in_progress());
            }
            board.run = None;
        }
        self.republish().await;
        Ok(())
    }

    /// The finished run's report as `kind`, with its file name.
    pub fn run_report(&self, kind: RunReportKind) -> Result<(String, String), CommandError> {
        let board = lock(&self.runs);
        let report = board
            .run
            .as_ref()
            .and_then(|run| run.report.as_ref())
            .ok_or_else(no_run)?;
        let (text, extension) = match kind {
            RunReportKind::Json => (report.to_json(), "json"),
            RunReportKind::Junit => (report.to_junit(), "xml"),
            RunReportKind::Html => (report.to_html(), "html"),
        };
        Ok((text, report.file_name(extension)))
    }

    /// Publishes the state again (the run's part changed).
    async fn republish(&self) {
        let inner = self.inner.lock().await;
        self.publish(&inner);
    }

    fn update_run(&self, change: impl FnOnce(&mut RunUnderWay)) {
        if let Some(run) = lock(&self.runs).run.as_mut() {
            change(run);
        }
    }
}

fn run_in_progress() -> CommandError {
    CommandError::new("run_in_progress", NoticeClass::Usage, "a run is under way")
}

fn no_run() -> CommandError {
    CommandError::new("run_not_found", NoticeClass::Usage, "no run to act on")
}

/// A file in the plans folder that is an expected-failures file, not a plan.
fn is_expected_failures_file(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| {
        ExpectedFailures::parse(&text, "").is_ok_and(|known| !known.entries.is_empty())
    })
}

fn read_source(source: &PlanSource) -> Result<PlanFiles, PlanReadError> {
    match source {
        PlanSource::Example(file, text) => Ok(PlanFiles {
            plan: Plan::parse(text, file)?,
            expected_failures: ExpectedFailures::default(),
            expected_failures_file: None,
        }),
        PlanSource::File(path) => read_plan(path, None),
    }
}

fn plan_view(id: String, origin: &str, source: &PlanSource) -> RunPlanView {
    let file = match source {
        PlanSource::Example(file, _) => format!("docs/examples/runs/{file}"),
        PlanSource::File(path) => path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
    };
    let mut view = RunPlanView {
        id,
        origin: origin.to_owned(),
        file,
        name: None,
        description: None,
        profile: None,
        cases: 0,
        unattended: false,
        expected_failures: 0,
        problem: None,
    };
    match read_source(source) {
        Ok(files) => {
            view.name = Some(files.plan.name.clone());
            view.description = files.plan.description.clone();
            view.profile = Some(files.plan.profile.clone());
            view.cases = count(files.plan.cases.len());
            view.unattended = files.plan.mock.is_some();
            view.expected_failures = count(files.expected_failures.entries.len());
        }
        Err(error) => view.problem = Some(error.to_string()),
    }
    view
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn starting_view(plan: &Plan, label: &str) -> RunView {
    RunView {
        plan: plan.name.clone(),
        profile: plan.profile.clone(),
        label: label.to_owned(),
        state: "running".to_owned(),
        current: None,
        instruction: None,
        question: None,
        cases: plan
            .cases
            .iter()
            .map(|case| RunCaseView {
                id: case.id.to_string(),
                authenticator: case.authenticator.words().to_owned(),
                status: "pending".to_owned(),
                verdict: None,
                note: None,
                attempt: None,
                findings: Vec::new(),
            })
            .collect(),
        summary: None,
        problems: Vec::new(),
    }
}

fn case_view(result: &careid_core::runs::CaseResult) -> RunCaseView {
    RunCaseView {
        id: result.id.to_string(),
        authenticator: result.authenticator.words().to_owned(),
        status: result.status.word().to_ascii_lowercase(),
        verdict: result.verdict.map(|verdict| verdict.code().to_owned()),
        note: result.note.clone(),
        attempt: result.attempt.as_ref().map(ToString::to_string),
        findings: result
            .notable_checks()
            .map(|(check, shown)| RunFindingView {
                aspect: check.aspect.to_string(),
                shown,
                expected: check.expected.clone(),
                actual: check.actual.clone(),
                detail: check.detail.clone(),
            })
            .collect(),
    }
}

fn outcome_code(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Passed => "passed",
        RunOutcome::Failed => "failed",
        RunOutcome::Cancelled => "cancelled",
    }
}

/// The desk as a run's front end.
struct DeskDriver<'c, 'h> {
    desk: Arc<Desk>,
    /// Or why the plan's profile cannot be used.
    clients: Result<&'c mut CaseClients<'h>, String>,
    cancel: RunCancel,
}

impl DeskDriver<'_, '_> {
    fn publish_soon(&self) {
        let desk = Arc::clone(&self.desk);
        tauri::async_runtime::spawn(async move { desk.republish().await });
    }
}

impl RunDriver for DeskDriver<'_, '_> {
    async fn prepare(&mut self, case: &Case) -> Result<Preparation, String> {
        match &mut self.clients {
            Ok(clients) => clients
                .prepare(case)
                .await
                .map(Preparation::Ready)
                .map_err(|error| error.to_string()),
            Err(problem) => Err(problem.clone()),
        }
    }

    fn open_browser(&mut self, _case: &Case, pending: &PendingLogin) {
        // A one-time loopback link, never the URL, goes on the browser's command line.
        let opened = pending
            .launch_links()
            .issue()
            .map_err(|error| error.to_string())
            .and_then(|link| (self.desk.hooks.open_browser)(&link));
        if let Err(error) = opened {
            tracing::warn!("could not open the browser for a run's case: {error}");
            self.desk.update_run(|run| {
                run.view.instruction = Some(format!(
                    "careid could not open the browser ({error}). Cancel the run, and check \
                     the default browser"
                ));
            });
            self.publish_soon();
        }
    }

    async fn review(&mut self, case: &Case, step: &str) -> ReviewAnswer {
        let (sender, receiver) = oneshot::channel();
        self.desk.update_run(|run| {
            run.answer = Some(sender);
            run.view.question = Some(RunQuestionView {
                case: case.id.to_string(),
                step: step.to_owned(),
            });
        });
        self.desk.republish().await;
        let answer = tokio::select! {
            answer = receiver => answer.unwrap_or(ReviewAnswer::NotAnswered),
            () = self.cancel.cancelled() => ReviewAnswer::NotAnswered,
        };
        self.desk.update_run(|run| {
            run.answer = None;
            run.view.question = None;
        });
        self.desk.republish().await;
        answer
    }

    fn progress(&mut self, event: RunEvent<'_>) {
        match event {
            RunEvent::CaseStarting {
                number,
                case,
                instruction,
                ..
            } => self.desk.update_run(|run| {
                run.view.current = Some(count(number));
                run.view.instruction = instruction.map(str::to_owned);
                if let Some(shown) = run.view.cases.iter_mut().find(|c| c.id == case.id.as_str()) {
                    shown.status = "running".to_owned();
                }
            }),
            RunEvent::CaseFinished { result, .. } => self.desk.update_run(|run| {
                run.view.instruction = None;
                let id = result.id.as_str();
                if let Some(shown) = run.view.cases.iter_mut().find(|c| c.id == id) {
                    *shown = case_view(result);
                }
            }),
        }
        self.publish_soon();
    }
}
