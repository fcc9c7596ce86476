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
mod show;
mod signin_cmd;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Sign in to NHS CIS2 Authentication from a terminal.
#[derive(Debug, Parser)]
#[command(
    name = "careid",
    version,
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
    #[command(
        hide = true,
        after_help = "Examples:
  careid man --out target/man"
    )]
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

    let global_profile_given = global.profile_given.clone();
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
            let given = show::GivenProfile(global_profile_given);
            eprintln!("careid: {}", output::describe(&error, &profile, &given));
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

#[cfg(test)]
mod tests {
    use super::*;
    use context::Global;

    /// Every command, as a path of names from `careid`, with its definition; clap's own
    /// `help` subcommand left out.
    fn every_command() -> Vec<(String, clap::Command)> {
        fn walk(path: String, command: &clap::Command, found: &mut Vec<(String, clap::Command)>) {
            for sub in command
                .get_subcommands()
                .filter(|sub| sub.get_name() != "help")
            {
                walk(format!("{path} {}", sub.get_name()), sub, found);
            }
            found.push((path, command.clone()));
        }
        let mut command = cli_command();
        command.build();
        let mut found = Vec::new();
        walk("careid".into(), &command, &mut found);
        found
    }

    #[test]
    fn the_command_line_passes_clap_checks() {
        cli_command().debug_assert();
    }

    /// Every command says what it does and shows an example; every option and argument says
    /// what it is for, starting as a sentence does.
    #[test]
    fn every_command_and_option_is_described_with_an_example() {
        let mut missing = Vec::new();
        let sentence = |text: Option<String>| {
            text.is_some_and(|text| text.starts_with(|c: char| c.is_uppercase()))
        };
        for (path, command) in every_command() {
            if !sentence(command.get_about().map(ToString::to_string)) {
                missing.push(format!("`{path}`: no description"));
            }
            let leaf = command.get_subcommands().next().is_none();
            let example = command
                .get_after_help()
                .is_some_and(|text| text.to_string().contains("Examples:\n  "));
            if (leaf || path == "careid") && !example {
                missing.push(format!("`{path}`: no example"));
            }
            for arg in command.get_arguments() {
                let help = arg.get_long_help().or(arg.get_help());
                if !sentence(help.map(ToString::to_string)) {
                    missing.push(format!("`{path}`: {} has no description", arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    /// The global options are offered by the commands in [`Global::taken_by`] alone, under
    /// their heading, and `--mock-auto-login` only by the commands that sign in.
    #[test]
    fn options_are_offered_only_where_they_mean_something() {
        let long_names = |command: &clap::Command| -> Vec<String> {
            command
                .get_arguments()
                .filter_map(|arg| arg.get_long().map(str::to_owned))
                .collect()
        };
        for (path, command) in every_command() {
            let mut words = path.split(' ').skip(1);
            let Some(top) = words.next() else { continue };
            let taken = Global::taken_by(top)
                .unwrap_or_else(|| panic!("`careid {top}` is not in Global::taken_by"));
            let names = long_names(&command);
            for global in Global::ALL {
                let long = global.long();
                assert_eq!(
                    names.iter().any(|name| name == long),
                    taken.contains(&global),
                    "`{path}` and --{long}"
                );
            }
            for arg in command.get_arguments() {
                if arg.is_global_set() {
                    assert_eq!(arg.get_help_heading(), Some("Global options"), "`{path}`");
                }
            }
            let signs_in = ["careid login", "careid role select"].contains(&path.as_str());
            assert_eq!(
                names.iter().any(|name| name == "mock-auto-login"),
                signs_in,
                "`{path}` and --mock-auto-login"
            );
        }
        let serve = every_command()
            .into_iter()
            .find(|(path, _)| path == "careid mock serve")
            .expect("mock serve")
            .1;
        assert!(!long_names(&serve).contains(&"profile".to_owned()));
    }

    /// Given after the command, an option wins over the same before it and over the
    /// environment; given before a command that does not take it, it is refused.
    #[test]
    fn global_options_are_read_before_and_after_the_command() {
        let parse = |args: &[&str]| {
            let matches = cli_command().try_get_matches_from(args).expect("parses");
            context::GlobalArgs::from_matches(&matches)
        };
        let before = parse(&["careid", "--profile", "int", "--json", "status"]).expect("ok");
        assert_eq!(before.profile_given.as_deref(), Some("int"));
        assert!(before.json);
        assert_eq!(before.http_timeout, 30);
        let after = parse(&[
            "careid",
            "--profile",
            "int",
            "role",
            "select",
            "R1",
            "--profile",
            "dep",
            "--http-timeout",
            "5",
        ])
        .expect("ok");
        assert_eq!(after.profile_given.as_deref(), Some("dep"));
        assert_eq!(after.http_timeout, 5);
        assert!(!after.json);
        let refused = parse(&["careid", "--profile", "int", "mock", "serve"]).expect_err("refused");
        assert!(refused.contains("--profile"), "{refused}");
        assert!(cli_command()
            .try_get_matches_from(["careid", "mock", "serve", "--profile", "int"])
            .is_err());
        assert!(cli_command()
            .try_get_matches_from(["careid", "status", "--mock-auto-login", "555057896106"])
            .is_err());
    }

    /// The man pages are made from the same definitions: one per command, with its options
    /// and examples.
    #[test]
    fn man_pages_are_written_for_every_command() {
        let out = tempfile::tempdir().expect("dir");
        program_cmd::man_pages(
            &program_cmd::ManArgs {
                out: out.path().to_owned(),
            },
            cli_command(),
        )
        .expect("written");
        for (path, _) in every_command()
            .into_iter()
            .filter(|(_, command)| !command.is_hide_set())
        {
            let file = out.path().join(format!("{}.1", path.replace(' ', "-")));
            let page = std::fs::read_to_string(&file)
                .unwrap_or_else(|error| panic!("{}: {error}", file.display()));
            assert!(page.starts_with(".ie"), "{}", file.display());
        }
        let set = std::fs::read_to_string(out.path().join("careid-profile-set.1")).expect("page");
        assert!(
            set.contains("unset") && set.contains("careid profile set int"),
            "{set}"
        );
    }
}
