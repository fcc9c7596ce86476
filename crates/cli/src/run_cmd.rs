//! `careid run PLAN`: a tester's plan of sign-ins, each case through the browser with what to
//! use said on stderr, steps only a person can confirm asked at a terminal, and reports written
//! as JSON, JUnit XML and HTML. On the built-in mock with `[mock] user`, the mock signs each
//! case's user and authenticator in without a page, so the whole plan runs unattended.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use careid_core::runs::{
    read_plan, Case, PlanFiles, Preparation, ReviewAnswer, Run, RunCancel, RunDriver, RunEvent,
    RunOutcome, RunReport,
};
use careid_core::signin::PendingLogin;
use careid_host::run_cases::{CaseClients, RunSetupError};

use crate::context::{runtime, Context};
use crate::output::{RunFailed, UsageError};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The plan: a TOML file naming a profile and a matrix of cases (docs/runs.md).
    plan: PathBuf,
    /// Known deviations (TOML, a comment for each), turned into passes, instead of the plan's
    /// own `expected_failures`. The run fails when one does not happen or is never used.
    #[arg(long, value_name = "FILE")]
    expected_failures: Option<PathBuf>,
    /// The folder to write the reports into (JSON, JUnit XML and HTML).
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Leave every step a person must confirm as REVIEW, without asking.
    #[arg(long)]
    no_review: bool,
    /// A label for this run in its reports; the plan's name and the time when absent.
    #[arg(long, value_name = "TEXT")]
    label: Option<String>,
    /// Print each case's sign-in URL instead of opening the browser.
    #[arg(long)]
    no_browser: bool,
}

pub fn run(context: &Context, args: &RunArgs) -> anyhow::Result<()> {
    let PlanFiles {
        plan,
        expected_failures,
        ..
    } = read_plan(&args.plan, args.expected_failures.as_deref())
        .map_err(|error| UsageError(error.to_string()))?;
    let mut clients = CaseClients::new(&context.host, &plan).map_err(|error| match error {
        RunSetupError::Profile(error) => anyhow::Error::from(error),
        other => UsageError(other.to_string()).into(),
    })?;
    // Reports are written at the end: a folder that cannot take them is said before any case.
    careid_core::files::create_private_dir(&args.out)
        .map_err(|error| UsageError(format!("cannot use {}: {error}", args.out.display())))?;
    let label = args.label.clone().unwrap_or_else(|| {
        format!(
            "{} at {}",
            plan.name,
            careid_core::time::utc_text(careid_core::time::unix_seconds(
                std::time::SystemTime::now()
            ))
        )
    });

    let report = runtime()?.block_on(async {
        let cancel = RunCancel::default();
        let on_interrupt = cancel.clone();
        let interrupt = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_interrupt.cancel();
            }
        });
        let terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        let mut driver = CliDriver {
            clients: &mut clients,
            no_browser: args.no_browser,
            ask: terminal && !args.no_review,
            cancel: cancel.clone(),
        };
        eprintln!(
            "careid: running plan {:?} ({} cases) on profile {}",
            plan.name,
            plan.cases.len(),
            plan.profile
        );
        let run = Run {
            plan: &plan,
            expected_failures: &expected_failures,
            label,
        };
        let report = run.run(&mut driver, &cancel).await;
        if let Err(error) = clients.restore_mock().await {
            eprintln!("careid: could not put the mock's auto-login back: {error}");
        }
        interrupt.abort();
        report
    });

    let written = write_reports(&report, &args.out)?;
    eprintln!("careid: {}", report.summary());
    for problem in &report.problems {
        eprintln!("careid:   {problem}");
    }
    if context.args.json {
        println!("{}", report.to_json());
    } else {
        for path in &written {
            println!("{}", path.display());
        }
    }
    match report.outcome {
        RunOutcome::Passed => Ok(()),
        RunOutcome::Failed => Err(RunFailed {
            problems: report.problems.len(),
        }
        .into()),
        RunOutcome::Cancelled => Err(careid_core::signin::SignInError::from(
            careid_core::LoopbackError::Cancelled,
        )
        .into()),
    }
}

/// The three reports, one name stem, into `out`.
fn write_reports(report: &RunReport, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for (extension, text) in [
        ("json", report.to_json()),
        ("xml", report.to_junit()),
        ("html", report.to_html()),
    ] {
        let path = out.join(report.file_name(extension));
        careid_core::files::write_atomically(&path, text.as_bytes())
            .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The CLI as a run's front end.
struct CliDriver<'c, 'h> {
    clients: &'c mut CaseClients<'h>,
    no_browser: bool,
    /// Ask the tester to confirm steps (a terminal, and not `--no-review`).
    ask: bool,
    /// Ends a question unanswered when the run is cancelled.
    cancel: RunCancel,
}

impl RunDriver for CliDriver<'_, '_> {
    async fn prepare(&mut self, case: &Case) -> Result<Preparation, String> {
        self.clients
            .prepare(case)
            .await
            .map(Preparation::Ready)
            .map_err(|error| format!("{error:#}"))
    }

    fn open_browser(&mut self, _case: &Case, pending: &PendingLogin) {
        let url = pending.authorization_url();
        if self.no_browser {
            eprintln!("careid: open this URL in a browser to sign in:\n{url}");
            return;
        }
        // A one-time loopback link, never the URL, goes on the browser's command line.
        let link = match pending.launch_links().issue() {
            Ok(link) => link,
            Err(error) => {
                eprintln!("careid: could not make a launch link ({error}); open this URL:\n{url}");
                return;
            }
        };
        if let Err(error) = webbrowser::open(&link) {
            eprintln!(
                "careid: could not open a browser ({error}); open this URL to sign in:\n{url}"
            );
        }
    }

    async fn review(&mut self, case: &Case, step: &str) -> ReviewAnswer {
        if !self.ask {
            return ReviewAnswer::NotAnswered;
        }
        let question = format!(
            "careid: {}: did this happen? {step} [y/n, Enter to leave for review] ",
            case.id
        );
        // A thread of its own, not the runtime's blocking pool: a read still waiting when the
        // run is cancelled must not hold up the runtime's shutdown.
        let (sender, receiver) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            eprint!("{question}");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            let answer = match std::io::stdin().lock().read_line(&mut line) {
                Ok(0) | Err(_) => None,
                Ok(_) => Some(line.trim().to_ascii_lowercase()),
            };
            let _ = sender.send(answer);
        });
        let answer = tokio::select! {
            answer = receiver => answer.ok().flatten(),
            () = self.cancel.cancelled() => None,
        };
        match answer.as_deref() {
            Some("y" | "yes") => ReviewAnswer::Confirmed,
            Some("n" | "no") => ReviewAnswer::Denied,
            _ => ReviewAnswer::NotAnswered,
        }
    }

    fn progress(&mut self, event: RunEvent<'_>) {
        match event {
            RunEvent::CaseStarting {
                number,
                total,
                case,
                instruction,
            } => {
                eprintln!("careid: [{number}/{total}] {}", case.id);
                match instruction {
                    Some(instruction) => eprintln!("careid:   {instruction}."),
                    None => {
                        eprintln!("careid:   the built-in mock signs this case in without a page")
                    }
                }
            }
            RunEvent::CaseFinished {
                number,
                total,
                result,
            } => {
                let verdict = result
                    .verdict
                    .map(|verdict| format!(" ({})", verdict.code()))
                    .unwrap_or_default();
                eprintln!(
                    "careid: [{number}/{total}] {} {}{verdict}",
                    result.status.word(),
                    result.id
                );
                if let Some(note) = &result.note {
                    eprintln!("careid:   {note}");
                }
                for (check, shown) in result.notable_checks() {
                    let detail = check
                        .detail
                        .as_ref()
                        .map(|detail| format!(" ({detail})"))
                        .unwrap_or_default();
                    eprintln!(
                        "careid:   {} {shown}: expected {}, got {}{detail}",
                        check.aspect, check.expected, check.actual
                    );
                }
            }
        }
    }
}
