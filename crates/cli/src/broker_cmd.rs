//! `careid broker serve --config broker.toml`: runs the careid broker, which is a program of its
//! own, `careid-broker`, from its own package, so `careid` carries no server, Redis or TLS code.
//! The program is looked for beside the running `careid` and given the same arguments. On Unix it
//! replaces this process, so a service manager's SIGTERM, the JSON log lines and the exit status
//! are the broker's own.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, Context as _};
use clap::Subcommand;

/// The broker's program, installed in the same folder as `careid`.
pub const BROKER_PROGRAM: &str = "careid-broker";

#[derive(Debug, Subcommand)]
pub enum BrokerCommand {
    /// Run the broker until SIGTERM or Ctrl-C (runs `careid-broker serve`, installed beside
    /// careid by the careid-broker package). Logs are JSON lines on stderr.
    #[command(after_help = "Examples:
  careid broker serve --config /etc/careid-broker/broker.toml")]
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The broker's configuration (see crates/broker/broker.example.toml).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

/// Runs `careid-broker` with the command's arguments; returns only when it could not be run
/// (on Unix) or, elsewhere, exits with its status.
pub fn run(command: BrokerCommand) -> anyhow::Result<()> {
    let BrokerCommand::Serve(args) = command;
    let program = broker_program()?;
    let mut broker = Command::new(&program);
    broker.arg("serve").arg("--config").arg(&args.config);
    forward(broker, &program)
}

/// `careid-broker` in the folder of the running `careid` (links resolved), so an installed
/// `careid` runs the broker of the same installation, never one found on PATH. Without `/proc`
/// (a bare chroot), the path `careid` was started by, when it was started by one.
fn broker_program() -> anyhow::Result<PathBuf> {
    let careid = std::env::current_exe()
        .or_else(|error| {
            std::env::args_os()
                .next()
                .map(PathBuf::from)
                .filter(|started| started.components().count() > 1)
                .ok_or(error)
        })
        .context("cannot tell where careid is installed")?;
    let folder = careid
        .parent()
        .with_context(|| format!("{} has no folder", careid.display()))?;
    Ok(folder.join(format!("{BROKER_PROGRAM}{}", std::env::consts::EXE_SUFFIX)))
}

#[cfg(unix)]
fn forward(mut broker: Command, program: &Path) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt as _;
    // `exec` returns only when the program could not be started.
    Err(not_run(&broker.exec(), program))
}

#[cfg(not(unix))]
fn forward(mut broker: Command, program: &Path) -> anyhow::Result<()> {
    // No `exec` here: wait for the broker and end with its exit code.
    let status = broker.status().map_err(|error| not_run(&error, program))?;
    std::process::exit(status.code().unwrap_or(1));
}

fn not_run(error: &std::io::Error, program: &Path) -> anyhow::Error {
    if error.kind() == std::io::ErrorKind::NotFound {
        anyhow!(
            "{} is not installed: the careid broker is its own program, {BROKER_PROGRAM}, which \
             `careid broker serve` runs from careid's folder (install the careid-broker package)",
            program.display()
        )
    } else {
        anyhow!("cannot run {}: {error}", program.display())
    }
}
