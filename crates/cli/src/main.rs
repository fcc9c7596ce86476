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
mod program_cmd;
mod run_cmd;
mod session_cmd;
mod signin_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Sign in to NHS CIS2 Authentication from a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "careid",
    version,
    about,
    after_help = EXAMPLES_AND_EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES_AND_EXIT_CODES: &str = "\
Examples:
  careid login --mock-auto-login 555057896106
  careid status
  careid --profile int login
  careid profile use int

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

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in: open the system browser and wait for the provider to send it back.
    #[command(after_help = "Examples:
  careid login
  careid login --mock-auto-login 555057896106:smartcard
  careid login --profile int --acr AAL3_ANY --role 555057898108")]
    Login(signin_cmd::LoginArgs),
    /// Show the stored session: who, which role and when it ends (no request to the provider).
    #[command(after_help = "Examples:
  careid status
  careid status --json --profile int")]
    Status,
    /// Print a valid access token, or the ID token with --id: the kept one while it is valid,
    /// with no request; refreshed near its expiry or with --refresh.
    #[command(after_help = "Examples:
  curl -H \"Authorization: Bearer $(careid token)\" https://api.example.nhs.uk/
  careid token --id --refresh")]
    Token(session_cmd::TokenArgs),
    /// Show the signed-in user's claims from UserInfo.
    #[command(after_help = "Examples:
  careid userinfo
  careid userinfo --json")]
    Userinfo,
    /// List the signed-in user's roles, grouped by organisation.
    #[command(after_help = "Examples:
  careid roles
  careid role select 555057898108")]
    Roles,
    /// Change the session's role.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Sign out: revoke and delete the session, and show the provider's end-session URL
    /// (without the ID token; --browser opens it with the ID token as a hint).
    #[command(after_help = "Examples:
  careid logout
  careid logout --browser --profile int")]
    Logout(session_cmd::LogoutArgs),
    /// Check a provider's discovery document and keys against what careid and CIS2 expect.
    #[command(after_help = "Examples:
  careid doctor --profile int
  careid doctor --issuer https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare")]
    Doctor(doctor_cmd::DoctorArgs),
    /// List, show or export every sign-in attempt, success or failure, with each check it
    /// made, or say how many to keep.
    #[command(after_help = "Examples:
  careid history --limit 5
  careid history show ATTEMPT_ID
  careid history export --all --format json --out reports/")]
    History(history_cmd::HistoryArgs),
    /// Run a test plan: each case a sign-in through the browser (unattended on the built-in
    /// mock with a [mock] user), judged against its expectation, with reports as JSON, JUnit
    /// XML and HTML.
    #[command(after_help = "Examples:
  careid run plan.toml --out reports/
  careid run plan.toml --expected-failures known.toml --no-review")]
    Run(run_cmd::RunArgs),
    /// Manage profiles: the environments careid signs in to, and their client credentials.
    #[command(subcommand)]
    Profile(profile_cmd::ProfileCommand),
    /// Show where careid keeps its files.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Check the OS keychain, where careid keeps a session's tokens and client secrets.
    #[command(subcommand)]
    Keychain(KeychainCommand),
    /// Run the mock CIS2 provider, for trying careid and other clients without a CIS2
    /// registration.
    #[command(subcommand)]
    Mock(mock_serve::MockCommand),
    /// Run the careid broker: the service an organisation runs to hold the CIS2 client
    /// credential.
    #[command(subcommand)]
    Broker(broker_cmd::BrokerCommand),
    /// Print careid's version, and with --json the commit and target it was built from.
    #[command(after_help = "Examples:
  careid version
  careid version --json")]
    Version,
    /// Print a shell completion script for bash, zsh, fish, elvish or PowerShell.
    #[command(after_help = "Examples:
  careid completions bash > ~/.local/share/bash-completion/completions/careid
  careid completions zsh > ~/.zfunc/_careid
  careid completions fish > ~/.config/fish/completions/careid.fish")]
    Completions(program_cmd::CompletionsArgs),
    /// Write careid's man pages (careid.1, and one per command) into a folder.
    #[command(hide = true)]
    Man(program_cmd::ManArgs),
}

#[derive(Debug, Subcommand)]
enum RoleCommand {
    /// Work in another of your roles (with CIS2-hosted selection, this signs in again).
    #[command(after_help = "Examples:
  careid roles
  careid role select 555057898108
  careid role select 555057898108 --mock-auto-login 555057896106")]
    Select(signin_cmd::SelectArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print where the profiles file, the state folder and the cache are, and the keychain
    /// service careid's entries are under.
    #[command(after_help = "Examples:
  careid config paths
  careid config paths --json --config-dir /tmp/careid-try")]
    Paths,
}

#[derive(Debug, Subcommand)]
enum KeychainCommand {
    /// Store, read back and delete a 4 KiB test secret, to prove the keychain works here.
    #[command(after_help = "Examples:
  careid keychain check")]
    Check(keychain_check::Args),
}

/// The whole command line: the commands and every option, global ones included. Help, the
/// completion scripts and the man pages are all made from it.
fn cli_command() -> clap::Command {
    context::with_global_options(Cli::command())
}

fn main() -> ExitCode {
    let mut command = cli_command();
    let matches = command.get_matches_mut();
    let parsed = Cli::from_arg_matches(&matches).and_then(|cli| {
        context::GlobalArgs::from_matches(&matches)
            .map(|global| (cli, global))
            .map_err(|problem| command.error(clap::error::ErrorKind::ArgumentConflict, problem))
    });
    let (cli, global) = parsed.unwrap_or_else(|error| error.exit());
    // The built-in mock started for a command would repeat its development-keys warning on
    // every run; `careid mock serve` keeps it.
    let default_filter = match cli.command {
        Command::Mock(_) => "warn",
        _ => "warn,mock_cis2=error",
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour_on_stderr())
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .init();

    let mut profile = global.profile_given.clone();
    let result = match cli.command {
        Command::Keychain(KeychainCommand::Check(args)) => keychain_check::run(&args),
        Command::Mock(command) => mock_serve::run(command),
        Command::Broker(command) => broker_cmd::run(command),
        Command::Version => program_cmd::version(global.json),
        Command::Completions(args) => program_cmd::completions(&args, cli_command()),
        Command::Man(args) => program_cmd::man_pages(&args, cli_command()),
        command => context::Context::new(global).and_then(|context| {
            profile = Some(context.args.profile.clone());
            run(&context, command)
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let profile = profile.unwrap_or_else(|| careid_core::profile::built_in_mock().name);
            eprintln!("careid: {}", output::describe(&error, &profile));
            ExitCode::from(output::exit_code(&error))
        }
    }
}

fn run(context: &context::Context, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Profile(command) => profile_cmd::run(context, command),
        Command::Login(args) => signin_cmd::login(context, args),
        Command::Status => session_cmd::status(context, &connect::MockArgs::default()),
        Command::Token(args) => session_cmd::token(context, &args),
        Command::Userinfo => session_cmd::userinfo(context, &connect::MockArgs::default()),
        Command::Roles => session_cmd::roles(context, &connect::MockArgs::default()),
        Command::Role(RoleCommand::Select(args)) => signin_cmd::select_role(context, args),
        Command::Logout(args) => session_cmd::logout(context, &args),
        Command::Doctor(args) => doctor_cmd::run(context, &args),
        Command::History(args) => history_cmd::run(context, args),
        Command::Run(args) => run_cmd::run(context, &args),
        Command::Config(ConfigCommand::Paths) => program_cmd::paths(context),
        Command::Keychain(_)
        | Command::Mock(_)
        | Command::Broker(_)
        | Command::Version
        | Command::Completions(_)
        | Command::Man(_) => {
            unreachable!("handled before a context is made")
        }
    }
}

/// Colour codes only for a person reading a terminal: never into a pipe or a file, and never
/// when `NO_COLOR` is set to anything (no-color.org).
fn colour_on_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
