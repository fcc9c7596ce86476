//! The `careid` command: the CLI over careid-core, for testers and scripts.
//!
//! Arguments are parsed once into clap types; each command returns `anyhow::Result`, and
//! [`exit_code`] maps the core's typed errors to the documented exit codes.

mod broker_cmd;
mod connect;
mod context;
mod doctor_cmd;
mod history_cmd;
mod json;
mod keychain_check;
mod mock_serve;
mod output;
mod profile_cmd;
mod run_cmd;
mod session_cmd;
mod signin_cmd;

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
  9  careid run: the run failed (a case failed, or an expected failure did not
     happen or was never used)

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
    /// Sign in: opens the system browser and waits for the provider to send it back.
    Login(signin_cmd::LoginArgs),
    /// The stored session: who, which role, when it ends (no request to the provider).
    Status {
        #[command(flatten)]
        mock: connect::MockArgs,
    },
    /// Print a valid access token (or --id for the ID token): the kept one while it is valid,
    /// with no request; refreshed near its expiry or with --refresh.
    Token(session_cmd::TokenArgs),
    /// The signed-in user's claims from UserInfo.
    Userinfo {
        #[command(flatten)]
        mock: connect::MockArgs,
    },
    /// The signed-in user's roles, grouped by organisation.
    Roles {
        #[command(flatten)]
        mock: connect::MockArgs,
    },
    /// Change the session's role.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Sign out: revoke and delete the session, and show the provider's end-session URL
    /// (without the ID token; --browser opens it with the ID token as a hint).
    Logout(session_cmd::LogoutArgs),
    /// Check a provider's discovery document and keys against what careid and CIS2 expect.
    Doctor(doctor_cmd::DoctorArgs),
    /// Every sign-in attempt, success or failure, with each check it made: list, show one,
    /// export as JSON or HTML, or say how many to keep.
    History(history_cmd::HistoryArgs),
    /// Run a test plan: each case a sign-in through the browser (unattended on the built-in
    /// mock with [mock] user), judged against its expectation; reports as JSON, JUnit XML, HTML.
    Run(run_cmd::RunArgs),
    /// Profiles: the environments careid signs in to, and their client credentials.
    #[command(subcommand)]
    Profile(profile_cmd::ProfileCommand),
    /// The OS keychain, where careid keeps a session's tokens and client secrets.
    #[command(subcommand)]
    Keychain(KeychainCommand),
    /// The mock CIS2 provider, for trying careid and other clients without a CIS2 registration.
    #[command(subcommand)]
    Mock(mock_serve::MockCommand),
    /// The careid broker: the service an organisation runs to hold the CIS2 client credential.
    #[command(subcommand)]
    Broker(broker_cmd::BrokerCommand),
}

#[derive(Debug, Subcommand)]
enum RoleCommand {
    /// Work in another of your roles (with CIS2-hosted selection, signs in again).
    Select(signin_cmd::SelectArgs),
}

#[derive(Debug, Subcommand)]
enum KeychainCommand {
    /// Store, read back and delete a 4 KiB test secret, to prove the keychain works here.
    Check(keychain_check::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The built-in mock started for a command would repeat its development-keys warning on
    // every run; `careid mock serve` keeps it.
    let default_filter = match cli.command {
        Command::Mock(_) => "warn",
        _ => "warn,mock_cis2=error",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .init();

    let profile = cli.global.profile.clone();
    let result = match cli.command {
        Command::Keychain(KeychainCommand::Check(args)) => keychain_check::run(&args),
        Command::Mock(command) => mock_serve::run(command),
        Command::Broker(command) => broker_cmd::run(command),
        command => context::Context::new(cli.global).and_then(|context| run(&context, command)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("careid: {}", output::describe(&error, &profile));
            ExitCode::from(output::exit_code(&error))
        }
    }
}

fn run(context: &context::Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Profile(command) => profile_cmd::run(context, command),
        Command::Login(args) => signin_cmd::login(context, args),
        Command::Status { mock } => session_cmd::status(context, &mock),
        Command::Token(args) => session_cmd::token(context, &args),
        Command::Userinfo { mock } => session_cmd::userinfo(context, &mock),
        Command::Roles { mock } => session_cmd::roles(context, &mock),
        Command::Role(RoleCommand::Select(args)) => signin_cmd::select_role(context, args),
        Command::Logout(args) => session_cmd::logout(context, &args),
        Command::Doctor(args) => doctor_cmd::run(context, &args),
        Command::History(args) => history_cmd::run(context, args),
        Command::Run(args) => run_cmd::run(context, &args),
        Command::Keychain(_) | Command::Mock(_) | Command::Broker(_) => {
            unreachable!("handled before a context is made")
        }
    }
}
