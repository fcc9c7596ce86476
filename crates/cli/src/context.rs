//! What every command shares: the options that apply to all of them, and where careid keeps
//! its profiles, session state, cache and keychain entries.

use std::path::PathBuf;

use anyhow::Context as _;
use careid_core::{BuildKind, Keychain, Profile, Profiles, SessionStore};

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

/// Folders and stores, resolved once per command.
#[derive(Debug)]
pub struct Context {
    pub args: GlobalArgs,
    pub config_dir: PathBuf,
    pub state_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub keychain: Keychain,
}

impl Context {
    /// With `--config-dir DIR`, everything careid writes goes under DIR, so a tester can keep
    /// separate worlds apart; otherwise the platform's config, state and cache folders.
    pub fn new(args: GlobalArgs) -> anyhow::Result<Self> {
        let (config_dir, state_dir, cache_dir) = match &args.config_dir {
            Some(dir) => (dir.clone(), dir.join("state"), dir.join("cache")),
            None => {
                let config = dirs::config_dir()
                    .context("this platform has no per-user config folder; use --config-dir")?;
                let state = dirs::state_dir()
                    .or_else(dirs::data_local_dir)
                    .unwrap_or_else(|| config.clone());
                let cache = dirs::cache_dir().unwrap_or_else(|| state.clone());
                (
                    config.join("careid"),
                    state.join("careid"),
                    cache.join("careid"),
                )
            }
        };
        // Tests run many isolated sessions side by side in one keychain; they set their own
        // service name. Users never need to.
        let keychain = match std::env::var("CAREID_KEYCHAIN_SERVICE") {
            Ok(service) if !service.is_empty() => Keychain::with_service(service),
            _ => Keychain::new(build_kind()),
        };
        Ok(Self {
            args,
            config_dir,
            state_dir,
            cache_dir,
            keychain,
        })
    }

    pub fn profiles(&self) -> anyhow::Result<Profiles> {
        Ok(Profiles::load(&self.config_dir)?)
    }

    /// The profile chosen with `--profile`.
    pub fn profile(&self) -> anyhow::Result<Profile> {
        Ok(self.profiles()?.get(&self.args.profile)?)
    }

    pub fn session_store(&self) -> SessionStore {
        SessionStore::new(self.keychain.clone(), self.state_dir.clone())
    }
}

/// Debug and release builds keep their keychain entries apart, so a development build never
/// reads or rotates a real session.
pub fn build_kind() -> BuildKind {
    if cfg!(debug_assertions) {
        BuildKind::Debug
    } else {
        BuildKind::Release
    }
}
