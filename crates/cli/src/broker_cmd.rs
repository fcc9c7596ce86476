//! `careid broker serve --config broker.toml`: runs the careid broker in the foreground until
//! SIGTERM or Ctrl-C. Logs are JSON lines on stderr (one object per event, with `timestamp`,
//! `level`, `target` and the event's fields; the audit log is target `careid_broker::audit`),
//! filtered by `RUST_LOG` (default `info`).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Subcommand;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Subcommand)]
pub enum BrokerCommand {
    /// Run the broker until SIGTERM or Ctrl-C.
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The broker's configuration (see crates/broker/broker.example.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

/// Logs as JSON lines on stderr, then runs the command; a failure is logged and exits 1.
pub fn main(command: BrokerCommand) -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run(command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "the careid broker cannot run");
            ExitCode::FAILURE
        }
    }
}

fn run(command: BrokerCommand) -> anyhow::Result<()> {
    let BrokerCommand::Serve(args) = command;
    let config = careid_broker::BrokerConfig::load(&args.config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        careid_broker::run::run(config, stopped()).await?;
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
