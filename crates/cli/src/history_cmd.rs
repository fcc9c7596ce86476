//! `careid history`: every sign-in attempt, newest first; one in full; exports; how many to keep.

use std::path::PathBuf;

use careid_core::history::{
    export_file_name, to_html, to_json, Attempt, AttemptId, CheckOutcome, ExportFormat, History,
};

use crate::context::Context;
use crate::json;
use crate::output::UsageError;

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct HistoryArgs {
    /// List at most this many (the newest).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    #[command(subcommand)]
    command: Option<HistoryCommand>,
}

#[derive(Debug, clap::Subcommand)]
enum HistoryCommand {
    /// List the attempts, newest first (the default).
    #[command(after_help = "Examples:
  careid history list --limit 10
  careid history list --json")]
    List {
        /// List at most this many (the newest).
        #[arg(long, value_name = "N")]
        limit: Option<usize>,
    },
    /// One attempt in full: what was asked and what came back, each check, headers, times.
    #[command(after_help = "Examples:
  careid history show ATTEMPT_ID
  careid history show ATTEMPT_ID --json")]
    Show {
        /// The attempt's id, as `careid history` lists it.
        id: String,
    },
    /// Write attempts to a file: JSON for machines, or a self-contained HTML page for people.
    #[command(after_help = "Examples:
  careid history export
  careid history export ATTEMPT_ID --format json --out reports/
  careid history export --all --out reports/")]
    Export {
        /// The attempts' ids; with none, the newest.
        ids: Vec<String>,
        /// Every attempt in the history.
        #[arg(long, conflicts_with = "ids")]
        all: bool,
        /// The file's format: html, a page for people, or json, for machines.
        #[arg(long, value_enum, default_value = "html")]
        format: Format,
        /// The folder to write into.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
    /// Keep the newest N attempts (200 unless set); older ones are removed at once.
    #[command(after_help = "Examples:
  careid history keep 500")]
    Keep {
        /// How many attempts to keep, from 1 to 100,000.
        #[arg(value_name = "N")]
        count: usize,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Format {
    Json,
    Html,
}

pub fn run(context: &Context, args: HistoryArgs) -> anyhow::Result<()> {
    let history = History::in_state_dir(context.host.state_dir());
    match args
        .command
        .unwrap_or(HistoryCommand::List { limit: args.limit })
    {
        HistoryCommand::List { limit } => list(context, &history, limit),
        HistoryCommand::Show { id } => {
            let attempt = history.get(&parse(&id)?)?;
            if context.args.json {
                println!("{}", to_json(std::slice::from_ref(&attempt)));
            } else {
                print_attempt(&attempt);
            }
            Ok(())
        }
        HistoryCommand::Export {
            ids,
            all,
            format,
            out,
        } => export(context, &history, &ids, all, format, &out),
        HistoryCommand::Keep { count } => {
            history.set_keep(count)?;
            if context.args.json {
                json::print(&json::KeepJson { keep: count })?;
            } else {
                eprintln!("careid keeps the newest {count} attempts.");
            }
            Ok(())
        }
    }
}

/// An attempt id as typed; a usage error when it cannot be one.
pub fn parse(id: &str) -> anyhow::Result<AttemptId> {
    AttemptId::parse(id).ok_or_else(|| {
        UsageError(format!(
            "{id:?} is not an attempt id (`careid history` lists them)"
        ))
        .into()
    })
}

fn list(context: &Context, history: &History, limit: Option<usize>) -> anyhow::Result<()> {
    let (mut attempts, damaged) = history.list();
    if let Some(limit) = limit {
        attempts.truncate(limit);
    }
    if damaged > 0 {
        eprintln!(
            "careid: {damaged} damaged record(s) in {} were skipped",
            history.dir().display()
        );
    }
    if context.args.json {
        let summaries: Vec<json::AttemptSummaryJson> = attempts.iter().map(Into::into).collect();
        return json::print(&summaries);
    }
    if attempts.is_empty() {
        eprintln!("No sign-in attempts yet: `careid login` records each one.");
        return Ok(());
    }
    println!(
        "{:<29} {:<21} {:<10} {:<15} {:<5} DETAIL",
        "ID", "STARTED (UTC)", "PROFILE", "VERDICT", "AAL"
    );
    for attempt in &attempts {
        let returned = attempt.returned.as_ref();
        let level = returned
            .and_then(|returned| returned.authentication_assurance_level.clone())
            .unwrap_or_else(|| "-".to_owned());
        let mut detail = match &attempt.error {
            Some(error) => error.code.clone(),
            None => returned
                .map(|returned| {
                    returned
                        .amr
                        .iter()
                        .map(|amr| {
                            amr.authenticator
                                .clone()
                                .unwrap_or_else(|| amr.value.clone())
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
        };
        if let Some(label) = &attempt.label {
            detail = format!("{detail} [{label}]");
        }
        println!(
            "{:<29} {:<21} {:<10} {:<15} {:<5} {detail}",
            attempt.id.as_str(),
            attempt.started_at.text(),
            attempt.profile.name,
            attempt.verdict.code(),
            level
        );
    }
    Ok(())
}

fn print_attempt(attempt: &Attempt) {
    println!("Attempt {} ({})", attempt.id, attempt.verdict.code());
    println!("  started      {}", attempt.started_at.text());
    println!(
        "  profile      {} ({})",
        attempt.profile.name, attempt.profile.issuer
    );
    if let Some(label) = &attempt.label {
        println!("  label        {label}");
    }
    if let Some(error) = &attempt.error {
        println!(
            "  error        {} ({}): {}",
            error.code, error.class, error.message
        );
    }
    println!("Asked");
    let asked = &attempt.asked;
    for (name, value) in asked.rows() {
        println!(
            "  {name:<12} {} ({})",
            value.value.as_deref().unwrap_or("-"),
            value.source.code()
        );
    }
    if let Some(returned) = &attempt.returned {
        println!("Returned");
        let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
        println!("  acr          {}", shown(&returned.acr));
        for amr in &returned.amr {
            println!("  amr          {}", amr.described());
        }
        println!(
            "  level        {}",
            shown(&returned.authentication_assurance_level)
        );
        println!("  id level     {}", shown(&returned.id_assurance_level));
        if let Some(auth_time) = returned.auth_time {
            let change = returned
                .auth_time_change
                .as_ref()
                .map(|change| format!(", {:+} s since the previous sign-in", change.seconds))
                .unwrap_or_default();
            println!(
                "  auth_time    {} ({}){change}",
                auth_time.text(),
                auth_time.unix
            );
        }
        if let Some(role) = &returned.role {
            println!(
                "  role         {} ({}, {}, {})",
                role.name, role.person_roleid, role.org_code, role.how
            );
        }
    }
    println!("Checks");
    for check in &attempt.checks {
        let outcome = match check.outcome {
            CheckOutcome::Passed => "PASS",
            CheckOutcome::Failed => "FAIL",
            CheckOutcome::NotApplicable => "N/A ",
            CheckOutcome::NotRun => "----",
        };
        let detail = check
            .detail
            .as_deref()
            .map(|detail| format!(": {detail}"))
            .unwrap_or_default();
        println!(
            "  {outcome} {:<20} {}{detail}",
            check.rule, check.description
        );
    }
    if !attempt.headers.is_empty() {
        println!("Headers");
        for header in &attempt.headers {
            println!(
                "  {:<12} alg {} kid {} typ {}",
                header.token,
                header.alg,
                header.kid.as_deref().unwrap_or("-"),
                header.typ.as_deref().unwrap_or("-")
            );
        }
    }
    if !attempt.times.is_empty() {
        println!("Times");
        for time in &attempt.times {
            println!(
                "  {:<12} {:<9} {} ({})",
                time.token,
                time.claim,
                time.at.text(),
                time.at.unix
            );
        }
    }
    println!("Timings");
    for timing in &attempt.timings {
        println!("  {:<12} {} ms", timing.step, timing.millis);
    }
    if !attempt.timeline.is_empty() {
        println!("Timeline");
        for event in &attempt.timeline {
            println!(
                "  {} {}{}",
                event.at.text(),
                event.kind,
                event
                    .detail
                    .as_deref()
                    .map(|detail| format!(": {detail}"))
                    .unwrap_or_default()
            );
        }
    }
}

fn export(
    context: &Context,
    history: &History,
    ids: &[String],
    all: bool,
    format: Format,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let attempts: Vec<Attempt> = if all {
        history.list().0
    } else if ids.is_empty() {
        history.list().0.into_iter().take(1).collect()
    } else {
        ids.iter()
            .map(|id| Ok(history.get(&parse(id)?)?))
            .collect::<anyhow::Result<_>>()?
    };
    if attempts.is_empty() {
        return Err(
            UsageError("no attempts to export: `careid login` records each one".into()).into(),
        );
    }
    let format = match format {
        Format::Json => ExportFormat::Json,
        Format::Html => ExportFormat::Html,
    };
    let text = match format {
        ExportFormat::Json => to_json(&attempts),
        ExportFormat::Html => {
            let title = match attempts.as_slice() {
                [one] => match &one.label {
                    Some(label) => format!("careid sign-in attempt: {label}"),
                    None => format!("careid sign-in attempt {}", one.id),
                },
                _ => "careid sign-in attempts".to_owned(),
            };
            to_html(&attempts, &title)
        }
    };
    let path = out.join(export_file_name(&attempts, format));
    careid_core::files::write_atomically(&path, text.as_bytes())
        .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", path.display()))?;
    if context.args.json {
        json::print(&json::ExportJson {
            path: path.display().to_string(),
            attempts: attempts.len(),
        })?;
    } else {
        println!("{}", path.display());
    }
    Ok(())
}
