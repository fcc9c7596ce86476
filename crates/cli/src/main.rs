//! The `careid` command: the CLI over careid-core, for testers and scripts.
//!
//! Arguments are parsed once into clap types; each command returns `anyhow::Result`, and
//! [`exit_code`] maps the core's typed errors to the documented exit codes.

mod context;
mod keychain_check;
mod mock_serve;
mod output;
mod profile_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  any other failure (for example, the mock's port is in use)
  2  usage error
  3  a response was rejected as unsafe or invalid
  4  the provider answered with an OAuth error
  5  the provider could not be reached
  6  cancelled or timed out
  7  the OS keychain is unavailable or failing
  8  not signed in, or the session ended

Logging goes to stderr; set RUST_LOG (for example RUST_LOG=debug) for more.";

/// Sign in to NHS CIS2 Authentication from a terminal.
#[derive(Debug, Parser)]
#[command(name = "careid", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(flatten)]
    global: context::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Profiles: the environments careid signs in to, and their client credentials.
    #[command(subcommand)]
    Profile(profile_cmd::ProfileCommand),
    /// The OS keychain, where careid keeps refresh tokens and client secrets.
    #[command(subcommand)]
    Keychain(KeychainCommand),
    /// The mock CIS2 provider, for trying careid and other clients without a CIS2 registration.
    #[command(subcommand)]
    Mock(mock_serve::MockCommand),
}

#[derive(Debug, Subcommand)]
enum KeychainCommand {
    /// Store, read back and delete a 4 KiB test secret, to prove the keychain works here.
    Check(keychain_check::Args),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .init();

    let cli = Cli::parse();
    let result = match cli.command {
        Command::Profile(command) => {
            context::Context::new(cli.global).and_then(|context| profile_cmd::run(&context, command))
        }
        Command::Keychain(KeychainCommand::Check(args)) => keychain_check::run(&args),
        Command::Mock(command) => mock_serve::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("careid: {error:#}");
            ExitCode::from(output::exit_code(&error))
        }
    }
}
