//! What every command shares: the options that apply to all of them, and the [`Host`] (where
//! careid keeps its profiles, session state, cache and keychain entries), which the desktop app
//! builds the same way, so both see one session.

use std::path::PathBuf;
use std::time::Duration;

use careid_core::{Keychain, Profile, Profiles};
use careid_host::{Host, HostOptions};

/// Options accepted by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalArgs {
    /// The environment to use: mock (the built-in mock provider), int, dep, live, or a custom
    /// profile.
    #[arg(long, global = true, env = "CAREID_PROFILE", default_value = "mock")]
    pub profile: String,
    /// Keep profiles, session state and cache in DIR instead of the platform's folders.
    #[arg(long, global = true, env = "CAREID_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// Print data as JSON on stdout (progress and errors still go to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Give up on a request to the provider after this many seconds.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 30)]
    pub http_timeout: u64,
}

/// The options and the host, resolved once per command.
#[derive(Debug)]
pub struct Context {
    pub args: GlobalArgs,
    pub host: Host,
}

impl Context {
    pub fn new(args: GlobalArgs) -> anyhow::Result<Self> {
        // The environment's keychain service name (tests keep their entries apart with it),
        // with the folder and timeout the command line chose.
        let options = HostOptions {
            config_dir: args.config_dir.clone(),
            http_timeout: Duration::from_secs(args.http_timeout.max(1)),
            ..HostOptions::from_env()
        };
        Ok(Self {
            host: Host::new(options)?,
            args,
        })
    }

    pub fn keychain(&self) -> &Keychain {
        self.host.keychain()
    }

    pub fn profiles(&self) -> anyhow::Result<Profiles> {
        Ok(self.host.profiles()?)
    }

    /// The profile chosen with `--profile`.
    pub fn profile(&self) -> anyhow::Result<Profile> {
        Ok(self.host.profile(&self.args.profile)?)
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
