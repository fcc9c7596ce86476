//! What commands share: the global options, each offered only by the commands it means
//! something to, and the [`Host`] (where careid keeps its profiles, session state, cache and
//! keychain entries), which the desktop app builds the same way, so both see one session.

use std::path::PathBuf;
use std::time::Duration;

use careid_core::{Keychain, Profile, Profiles};
use careid_host::{Host, HostOptions};
use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches};

/// The heading the global options are listed under in every `--help`.
const HEADING: &str = "Global options";

/// An option several commands share. Each is accepted before the command (`careid --profile int
/// login`) and after it (`careid login --profile int`), but only by a command it means
/// something to ([`Global::taken_by`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    Profile,
    ConfigDir,
    Json,
    HttpTimeout,
}

impl Global {
    pub const ALL: [Global; 4] = [
        Global::Profile,
        Global::ConfigDir,
        Global::Json,
        Global::HttpTimeout,
    ];

    /// Which global options each command takes: the one table. `None` for a command not in
    /// it, which a test refuses.
    pub fn taken_by(command: &str) -> Option<&'static [Global]> {
        use Global::{ConfigDir, HttpTimeout, Json, Profile};
        Some(match command {
            "login" | "status" | "token" | "userinfo" | "roles" | "role" | "logout" | "doctor" => {
                &[Profile, ConfigDir, Json, HttpTimeout]
            }
            // A plan names its own profile.
            "run" => &[ConfigDir, Json, HttpTimeout],
            "profile" | "history" | "config" => &[ConfigDir, Json],
            "version" => &[Json],
            "keychain" | "mock" | "broker" | "completions" | "man" => &[],
            _ => return None,
        })
    }

    pub fn long(self) -> &'static str {
        match self {
            Global::Profile => "profile",
            Global::ConfigDir => "config-dir",
            Global::Json => "json",
            Global::HttpTimeout => "http-timeout",
        }
    }

    /// The argument's id before the command; after it, the same with `command-` in front, so
    /// the two are told apart.
    fn id(self, after_command: bool) -> &'static str {
        match (self, after_command) {
            (_, false) => self.long(),
            (Global::Profile, true) => "command-profile",
            (Global::ConfigDir, true) => "command-config-dir",
            (Global::Json, true) => "command-json",
            (Global::HttpTimeout, true) => "command-http-timeout",
        }
    }

    fn arg(self, after_command: bool) -> Arg {
        let arg = Arg::new(self.id(after_command))
            .long(self.long())
            .help_heading(HEADING);
        // A value given after the command wins over one before it and over the environment.
        let arg = match self {
            Global::Profile => with_env(arg, after_command, "CAREID_PROFILE")
                .value_name("NAME")
                .help(
                    "The profile to sign in with: mock (the built-in mock provider), int, dep, \
                     live or one of your own. Without it, CAREID_PROFILE, else the default set \
                     by `careid profile use`, else mock",
                ),
            Global::ConfigDir => with_env(arg, after_command, "CAREID_CONFIG_DIR")
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .help(
                    "Keep profiles, session state and cache in DIR instead of the platform's \
                     folders (`careid config paths` shows them). Also read from \
                     CAREID_CONFIG_DIR",
                ),
            Global::Json => arg
                .action(ArgAction::SetTrue)
                .help("Print data as JSON on stdout; progress and errors still go to stderr"),
            Global::HttpTimeout => arg
                .value_name("SECONDS")
                .value_parser(clap::value_parser!(u64).range(1..))
                .help("Give up on a request to the provider after this many seconds (default 30)"),
        };
        match after_command {
            // Given after a command, it applies to that command's subcommands too.
            true => arg.global(true),
            false => arg,
        }
    }
}

/// Before the command the environment is read too (shown in the option's words, not twice);
/// after it, only the command line.
fn with_env(arg: Arg, after_command: bool, name: &'static str) -> Arg {
    match after_command {
        false => arg.env(name).hide_env(true),
        true => arg,
    }
}

/// `command` with the global options added: before any subcommand, and to each subcommand that
/// takes them.
pub fn with_global_options(mut command: clap::Command) -> clap::Command {
    command = command.args(Global::ALL.map(|global| global.arg(false)));
    let names: Vec<String> = command
        .get_subcommands()
        .map(|sub| sub.get_name().to_owned())
        .collect();
    for name in names {
        let taken = Global::taken_by(&name).unwrap_or(&[]);
        command = command.mut_subcommand(name, |sub| {
            sub.args(taken.iter().map(|global| global.arg(true)))
        });
    }
    command
}

/// The global options as given, resolved once per command.
#[derive(Debug, Clone)]
pub struct GlobalArgs {
    /// The profile named on the command line or in `CAREID_PROFILE`; `None` for the default.
    pub profile_given: Option<String>,
    /// The profile in use: the one given, else the default ([`Context::new`] sets it).
    pub profile: String,
    pub config_dir: Option<PathBuf>,
    pub json: bool,
    pub http_timeout: u64,
}

impl GlobalArgs {
    /// The options from the parsed command line: given after the command, else before it (or
    /// in the environment). One given before a command that does not take it is an error.
    pub fn from_matches(matches: &ArgMatches) -> Result<Self, String> {
        let command = matches.subcommand_name().unwrap_or_default();
        let taken = Global::taken_by(command).unwrap_or(&[]);
        if let Some(misplaced) = Global::ALL.into_iter().find(|global| {
            !taken.contains(global) && given_on_command_line(matches, global.id(false))
        }) {
            return Err(format!(
                "--{} does not apply to `careid {command}`",
                misplaced.long()
            ));
        }
        // Global arguments reach the innermost subcommand's matches.
        let mut innermost = matches;
        while let Some((_, sub)) = innermost.subcommand() {
            innermost = sub;
        }
        let after = |global: Global| -> Option<&ArgMatches> {
            given_on_command_line(innermost, global.id(true)).then_some(innermost)
        };
        let value = |global: Global| {
            after(global)
                .map(|found| (found, global.id(true)))
                .unwrap_or((matches, global.id(false)))
        };
        let (found, id) = value(Global::Profile);
        let profile_given = found.get_one::<String>(id).cloned();
        let (found, id) = value(Global::ConfigDir);
        let config_dir = found.get_one::<PathBuf>(id).cloned();
        let (found, id) = value(Global::HttpTimeout);
        let http_timeout = found
            .get_one::<u64>(id)
            .copied()
            .unwrap_or(careid_host::DEFAULT_HTTP_TIMEOUT.as_secs());
        let json = matches.get_flag(Global::Json.id(false))
            || after(Global::Json).is_some_and(|found| found.get_flag(Global::Json.id(true)));
        Ok(Self {
            profile: profile_given.clone().unwrap_or_default(),
            profile_given,
            config_dir,
            json,
            http_timeout,
        })
    }
}

/// Whether `id` is an argument of the command `matches` are for, given on the command line.
fn given_on_command_line(matches: &ArgMatches, id: &str) -> bool {
    matches.try_contains_id(id).unwrap_or(false)
        && matches.value_source(id) == Some(ValueSource::CommandLine)
}

/// The options and the host, resolved once per command.
#[derive(Debug)]
pub struct Context {
    pub args: GlobalArgs,
    pub host: Host,
}

impl Context {
    pub fn new(mut args: GlobalArgs) -> anyhow::Result<Self> {
        // The environment's keychain service name (tests keep their entries apart with it),
        // with the folder and timeout the command line chose.
        let options = HostOptions {
            config_dir: args.config_dir.clone(),
            http_timeout: Duration::from_secs(args.http_timeout.max(1)),
            ..HostOptions::from_env()
        };
        let host = Host::new(options)?;
        args.profile = match &args.profile_given {
            Some(name) => name.clone(),
            None => host.default_profile_name(),
        };
        Ok(Self { host, args })
    }

    pub fn keychain(&self) -> &Keychain {
        self.host.keychain()
    }

    pub fn profiles(&self) -> anyhow::Result<Profiles> {
        Ok(self.host.profiles()?)
    }

    /// The profile chosen with `--profile`, or the default.
    pub fn profile(&self) -> anyhow::Result<Profile> {
        Ok(self.host.profile(&self.args.profile)?)
    }

    /// The profile as given, for the commands a hint suggests.
    pub fn given_profile(&self) -> crate::show::GivenProfile {
        crate::show::GivenProfile(self.args.profile_given.clone())
    }
}

/// The async runtime every command that talks to a provider runs on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    use anyhow::Context as _;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
