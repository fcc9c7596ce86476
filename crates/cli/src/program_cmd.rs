//! careid about itself: `version`, `config paths`, `completions`, and the man pages the
//! packages install. Completions and man pages are made from the same clap definitions as
//! `--help`, so they cannot disagree with it.

use std::path::PathBuf;

use anyhow::Context as _;
use careid_core::profile::PROFILES_FILE;

use crate::context::Context;
use crate::json::{self, PathsJson, VersionJson};

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete careid's commands and options in.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The folder to write the pages into (careid.1, careid-login.1, ...).
    #[arg(long, value_name = "DIR")]
    pub(crate) out: PathBuf,
}

pub fn version(as_json: bool) -> anyhow::Result<()> {
    let version = VersionJson {
        commit: option_env!("CAREID_COMMIT"),
        profile: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        target: env!("CAREID_TARGET"),
        version: env!("CARGO_PKG_VERSION"),
    };
    if as_json {
        return json::print(&version);
    }
    match version.commit {
        Some(commit) => println!("careid {} ({commit}, {})", version.version, version.target),
        None => println!("careid {} ({})", version.version, version.target),
    }
    Ok(())
}

pub fn paths(context: &Context) -> anyhow::Result<()> {
    let host = &context.host;
    let text = |path: &std::path::Path| path.display().to_string();
    let paths = PathsJson {
        cache_dir: text(host.cache_dir()),
        config_dir: text(host.config_dir()),
        keychain_service: host.keychain().service().to_owned(),
        profiles_file: text(&host.config_dir().join(PROFILES_FILE)),
        state_dir: text(host.state_dir()),
    };
    if context.args.json {
        return json::print(&paths);
    }
    println!("profiles file     {}", paths.profiles_file);
    println!("state folder      {}", paths.state_dir);
    println!("cache folder      {}", paths.cache_dir);
    println!("keychain service  {}", paths.keychain_service);
    Ok(())
}

pub fn completions(args: &CompletionsArgs, mut command: clap::Command) -> anyhow::Result<()> {
    use std::io::Write as _;
    // Made whole first: the generator panics on a write error, such as a closed pipe.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "careid", &mut script);
    std::io::stdout()
        .write_all(&script)
        .context("cannot write the completion script")
}

/// careid.1 and a page per command (careid-profile-set.1, ...), each as `--help` has it,
/// written as every careid file is. The walk is `clap_mangen::generate_to`'s.
pub fn man_pages(args: &ManArgs, command: clap::Command) -> anyhow::Result<()> {
    fn write(command: clap::Command, out: &std::path::Path) -> anyhow::Result<()> {
        for sub in command.get_subcommands().filter(|sub| !sub.is_hide_set()) {
            write(sub.clone(), out)?;
        }
        let page = clap_mangen::Man::new(command);
        let path = out.join(page.get_filename());
        let mut text = Vec::new();
        page.render(&mut text)?;
        careid_core::files::write_atomically(&path, &text)
            .with_context(|| format!("cannot write {}", path.display()))
    }
    careid_core::files::create_private_dir(&args.out)
        .with_context(|| format!("cannot make {}", args.out.display()))?;
    let mut command = command.disable_help_subcommand(true);
    command.build();
    write(command, &args.out)
}
