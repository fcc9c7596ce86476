//! `careid-broker serve --config broker.toml`: runs the careid broker in the foreground until
//! SIGTERM or Ctrl-C. Logs are JSON lines on stderr (one object per event, with `timestamp`,
//! `level`, `target` and the event's fields; the audit log is target `careid_broker::audit`),
//! filtered by `RUST_LOG` (default `info`).
//!
//! Exit codes: 0 after a clean stop, 1 when the broker cannot run (the reason is logged), 2 for a
//! usage error. `careid broker serve` runs this program with the same arguments.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The soak's build counts the bytes the program holds (`count-heap`): see `/metrics`.
#[cfg(feature = "count-heap")]
#[global_allocator]
static HEAP: heap_count::CountingAllocator = heap_count::CountingAllocator;

/// The careid broker: the service an organisation runs to hold the CIS2 client credential.
#[derive(Debug, Parser)]
#[command(name = "careid-broker", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the broker until SIGTERM or Ctrl-C.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The broker's configuration (see crates/broker/broker.example.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

/// Logs as JSON lines on stderr, then runs the command; a failure is logged and exits 1.
fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "the careid broker cannot run");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    let Command::Serve(args) = command;
    #[cfg(feature = "count-heap")]
    careid_broker::metrics::report_live_heap(heap_count::live_bytes);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        careid_broker::run::run_from_file(&args.config, stopped()).await?;
        Ok(())
    })
}

/// Completes at the first SIGTERM (a service manager stopping the broker) or Ctrl-C.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot wait for SIGTERM: stopping on Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("stopping the careid broker");
}
