//! `cargo xtask bundle [--test]`: the installers, built with the Tauri bundler (the Tauri CLI,
//! pinned in `packaging/tauri-cli`) from release builds.
//!
//! - Linux: the `.deb` (the app at `/usr/bin/careid-desktop`, the `careid` CLI at
//!   `/usr/bin/careid`, the desktop entry and icons), and the AppImage when linuxdeploy's tools
//!   are in the Tauri bundler's tools folder (the bundler downloads them from GitHub otherwise,
//!   which machines without internet access cannot do; see `APPIMAGE_TOOLS`). Beside them the
//!   broker's own `.deb` (`careid-broker`, its systemd unit and system user), built with
//!   `dpkg-deb` (`broker_deb.rs`).
//! - Windows: the NSIS and MSI installers (`bundle.windows` in `src-tauri/tauri.conf.json`).
//! - macOS: the `.app` and `.dmg`.
//!
//! `--test` (and `cargo xtask test`, as a step of its own) installs both `.deb`s with apt into a
//! fresh Debian root made by `mmdebstrap` (only `minbase` and what the packages depend on), then
//! runs the installed `careid --version` and `careid-broker --version`, the bash completion
//! script and `man careid` (the CLI's completion scripts and man pages are made at bundle time by
//! the built `careid` from its own definitions), checks that every
//! installed binary's libraries resolve in that root, that `careid broker serve` reaches the
//! installed broker, verifies the installed systemd unit, and starts the installed app in it
//! under the tests' Xvfb display: the window must map and the UI must reach the app.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{bail, Context};

use crate::{setup, shell};

#[cfg(target_os = "linux")]
mod broker_deb;

/// What the Tauri bundler needs for an AppImage on x86_64, in its tools folder
/// (`$XDG_CACHE_HOME/tauri`, or `~/.cache/tauri`): it downloads each missing one. Its fifth,
/// `linuxdeploy-plugin-appimage.AppImage`, is optional (linuxdeploy's built-in one is used
/// when it cannot be downloaded).
const APPIMAGE_TOOLS: &[&str] = &[
    "AppRun-x86_64",
    "linuxdeploy-x86_64.AppImage",
    "linuxdeploy-plugin-gtk.sh",
    "linuxdeploy-plugin-gstreamer.sh",
];

/// The broker's systemd unit.
#[cfg(target_os = "linux")]
const BROKER_UNIT: &str = "packaging/careid-broker.service";

/// The broker's system user, for systemd-sysusers.
#[cfg(target_os = "linux")]
const BROKER_SYSUSERS: &str = "packaging/careid-broker.sysusers";

/// The line the app logs once the UI, loaded from the binary, has asked it for its state.
#[cfg(target_os = "linux")]
const UI_REACHED_APP_LINE: &str = "first state answered";

/// What one bundle run made.
#[derive(Debug)]
pub struct Bundles {
    /// The app's and CLI's package (Linux).
    pub deb: Option<PathBuf>,
    /// The broker's package (Linux).
    pub broker_deb: Option<PathBuf>,
    pub appimage: Option<PathBuf>,
}

impl Bundles {
    /// The two `.deb`s the installed-package test installs.
    pub fn debs(&self) -> anyhow::Result<(&Path, &Path)> {
        let deb = self.deb.as_deref().context("no careid .deb was built")?;
        let broker = self
            .broker_deb
            .as_deref()
            .context("no careid-broker .deb was built")?;
        Ok((deb, broker))
    }
}

pub fn run(args: &[String]) -> anyhow::Result<ExitCode> {
    let usage = "usage: cargo xtask bundle [--test [--deb PATH --broker-deb PATH]]";
    let mut test = false;
    let mut given: Option<PathBuf> = None;
    let mut given_broker: Option<PathBuf> = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--test" => test = true,
            "--deb" => given = Some(args.next().context(usage)?.into()),
            "--broker-deb" => given_broker = Some(args.next().context(usage)?.into()),
            other => bail!("unknown argument {other:?}; {usage}"),
        }
    }
    match (given, given_broker) {
        (Some(deb), Some(broker_deb)) => {
            // Packages built before (or elsewhere, such as CI's): tested as they are.
            anyhow::ensure!(test, "--deb and --broker-deb go with --test; {usage}");
            test_installed(&deb, &broker_deb)?;
        }
        (None, None) => {
            let bundles = build()?;
            if test {
                let (deb, broker_deb) = bundles.debs()?;
                test_installed(deb, broker_deb)?;
            }
        }
        _ => bail!("--deb and --broker-deb go together; {usage}"),
    }
    if test {
        println!("xtask: the installed .debs work");
    }
    Ok(ExitCode::SUCCESS)
}

/// Builds the UI, the release CLI and the bundles of this platform.
pub fn build() -> anyhow::Result<Bundles> {
    let started = Instant::now();
    setup::prepare(setup::Needs::App)?;
    setup::prepare_tauri_cli()?;
    setup::build_ui()?;
    let root = crate::root();
    let release = shell::target_dir().join("release");

    let mut targets = Vec::new();
    let mut appimage_missing = Vec::new();
    if cfg!(target_os = "linux") {
        // The CLI goes into the .deb (`bundle.linux.deb.files`): built first, in release, with
        // the broker, whose package is made after the bundler's.
        shell::run_checked(shell::cargo().args([
            "build",
            "--release",
            "--locked",
            "--package",
            "careid-cli",
            "--package",
            "careid-broker",
        ]))?;
        targets.push("deb");
        appimage_missing = missing_appimage_tools();
        if appimage_missing.is_empty() {
            targets.push("appimage");
        }
    } else if cfg!(windows) {
        targets.extend(["nsis", "msi"]);
    } else if cfg!(target_os = "macos") {
        targets.extend(["app", "dmg"]);
    }

    let mut tauri = Command::new(tauri_cli());
    tauri
        .current_dir(root.join("src-tauri"))
        .args(["build", "--ci", "--bundles"])
        .arg(targets.join(","));
    if cfg!(target_os = "linux") {
        // tauri.conf.json names the CLI under target/; follow CARGO_TARGET_DIR, and add what
        // the built CLI made of its own definitions.
        let mut files = vec![("/usr/bin/careid".to_owned(), release.join("careid"))];
        files.extend(cli_extras(&release)?);
        tauri.args(["--config", &files_override(&files)]);
    }
    tauri.args(["--", "--locked"]);
    shell::run_checked(&mut tauri)?;

    let bundle_dir = release.join("bundle");
    let broker_deb = if cfg!(target_os = "linux") {
        Some(build_broker_deb(&release, &bundle_dir.join("deb"))?)
    } else {
        None
    };
    let bundles = Bundles {
        // The bundler names its package after the product: `careid_VERSION_ARCH.deb`.
        deb: newest_package(&bundle_dir.join("deb"), "careid_", "deb"),
        broker_deb,
        appimage: newest_package(&bundle_dir.join("appimage"), "", "AppImage")
            .filter(|_| targets.contains(&"appimage")),
    };
    for path in bundles
        .deb
        .iter()
        .chain(&bundles.broker_deb)
        .chain(&bundles.appimage)
    {
        println!("xtask: built {}", path.display());
    }
    if cfg!(windows) || cfg!(target_os = "macos") {
        println!("xtask: installers written below {}", bundle_dir.display());
    }
    if !appimage_missing.is_empty() {
        println!(
            "xtask: AppImage not built: the Tauri bundler needs linuxdeploy's tools, which it \
             downloads from GitHub, and this machine may not reach it. To build it offline, put \
             {} (executable) into {} and run `cargo xtask bundle` again.",
            appimage_missing.join(", "),
            tauri_tools_dir().display()
        );
    }
    println!(
        "xtask: bundles built in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(bundles)
}

#[cfg(target_os = "linux")]
fn build_broker_deb(release: &Path, out_dir: &Path) -> anyhow::Result<PathBuf> {
    broker_deb::build(release, out_dir)
}

#[cfg(not(target_os = "linux"))]
fn build_broker_deb(_release: &Path, _out_dir: &Path) -> anyhow::Result<PathBuf> {
    bail!("the broker's .deb is built on Linux")
}

/// The pinned Tauri CLI installed by `npm ci` in `TAURI_CLI_FOLDER`.
fn tauri_cli() -> PathBuf {
    crate::root()
        .join(setup::TAURI_CLI_FOLDER)
        .join("node_modules/.bin")
        .join(if cfg!(windows) { "tauri.cmd" } else { "tauri" })
}

/// A `--config` merge that sets files of the `.deb`: where each is installed, and the file.
fn files_override(files: &[(String, PathBuf)]) -> String {
    let quoted = |text: &str| text.replace('\\', "\\\\").replace('"', "\\\"");
    let entries: Vec<String> = files
        .iter()
        .map(|(installed, file)| {
            format!(
                r#""{}":"{}""#,
                quoted(installed),
                quoted(&file.display().to_string())
            )
        })
        .collect();
    format!(
        r#"{{"bundle":{{"linux":{{"deb":{{"files":{{{}}}}}}}}}}}"#,
        entries.join(",")
    )
}

/// Where the `.deb` installs the CLI's completion scripts, by shell.
const COMPLETIONS: [(&str, &str); 3] = [
    ("bash", "/usr/share/bash-completion/completions/careid"),
    ("zsh", "/usr/share/zsh/vendor-completions/_careid"),
    ("fish", "/usr/share/fish/vendor_completions.d/careid.fish"),
];

/// Where the `.deb` installs the CLI's man pages.
const MAN_DIR: &str = "/usr/share/man/man1";

/// The CLI's completion scripts and man pages, made by the built `careid` from the same
/// definitions as its `--help` (`careid completions`, `careid man`), each with where the
/// `.deb` installs it. Man pages are compressed, as Debian installs them.
fn cli_extras(release: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let cli = release.join("careid");
    let out = release.join("careid-extras");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    let mut files = Vec::new();
    for (shell, installed) in COMPLETIONS {
        let output = Command::new(&cli).args(["completions", shell]).output()?;
        anyhow::ensure!(
            output.status.success() && !output.stdout.is_empty(),
            "`careid completions {shell}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let file = out.join(format!("careid.{shell}"));
        std::fs::write(&file, output.stdout)?;
        files.push((installed.to_owned(), file));
    }
    let pages = out.join("man");
    shell::run_checked(Command::new(&cli).arg("man").arg("--out").arg(&pages))?;
    let mut names: Vec<String> = std::fs::read_dir(&pages)?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<anyhow::Result<_>>()?;
    names.sort();
    for name in names {
        // -n: no name or time inside, so the same pages make the same bytes.
        shell::run_checked(Command::new("gzip").args(["-9nf"]).arg(pages.join(&name)))?;
        files.push((
            format!("{MAN_DIR}/{name}.gz"),
            pages.join(format!("{name}.gz")),
        ));
    }
    // careid writes its files owner-only; what the package installs is for every user.
    #[cfg(unix)]
    for (_, file) in &files[..] {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(files)
}

/// Where the Tauri bundler keeps (and looks for) its downloaded tools on Linux.
fn tauri_tools_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"))
        .join("tauri")
}

fn missing_appimage_tools() -> Vec<&'static str> {
    let dir = tauri_tools_dir();
    APPIMAGE_TOOLS
        .iter()
        .copied()
        .filter(|tool| !dir.join(tool).is_file())
        .collect()
}

/// The newest file in `dir` whose name starts with `prefix` and has `extension`.
fn newest_package(dir: &Path, prefix: &str, extension: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == extension))
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(prefix))
        })
        .max_by_key(|path| {
            std::fs::metadata(path)
                .and_then(|meta| meta.modified())
                .ok()
        })
}

/// The installed-package test (Linux: mmdebstrap, chroot, mount namespaces, Xvfb).
#[cfg(target_os = "linux")]
mod installed {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::mpsc::{self, Receiver};
    use std::time::{Duration, Instant};

    use anyhow::{bail, ensure, Context};

    use super::broker_deb::{self, INSTALLED_SYSUSERS, INSTALLED_UNIT};
    use super::{tauri_tools_dir, COMPLETIONS, MAN_DIR, UI_REACHED_APP_LINE};
    use crate::isolation::TestEnvironment;
    use crate::{setup, shell};

    /// Installs `deb` (app and CLI) and `broker_deb` into a fresh Debian root and proves the
    /// installed programs work there.
    pub fn test_installed(deb: &Path, broker_deb: &Path) -> anyhow::Result<()> {
        ensure!(
            setup::is_root(),
            "the installed-package test needs root (mmdebstrap, chroot and mounts)"
        );
        let deb = deb.canonicalize()?;
        let broker_deb = broker_deb.canonicalize()?;
        let version = env!("CARGO_PKG_VERSION");
        check_fields(&package_fields(&deb)?, version)?;
        check_broker_fields(&package_fields(&broker_deb)?, version)?;

        let fresh = FreshRoot::install(&[&deb, &broker_deb])?;
        let root = fresh.path();
        check_files(root)?;
        check_completions_and_man_pages(root)?;
        check_broker_files(root)?;
        for program in ["careid", "careid-broker"] {
            let printed = chroot_output(root, &[&format!("/usr/bin/{program}"), "--version"])?;
            ensure!(
                printed.trim() == format!("{program} {version}"),
                "the installed `{program} --version` printed {printed:?}"
            );
        }
        for binary in [
            "/usr/bin/careid",
            "/usr/bin/careid-desktop",
            "/usr/bin/careid-broker",
        ] {
            let libraries = chroot_output(root, &["ldd", binary])?;
            let unresolved: Vec<&str> = libraries
                .lines()
                .filter(|line| line.contains("not found"))
                .collect();
            ensure!(
                unresolved.is_empty(),
                "{binary} in the fresh root misses libraries its package does not depend on:\n{}",
                unresolved.join("\n")
            );
        }
        check_cli_forwards_to_broker(root)?;
        check_broker_unit(root)?;
        start_installed_app(root)
    }

    /// `careid broker serve`, as installed, runs the installed `careid-broker`: its JSON log
    /// line names the missing configuration.
    fn check_cli_forwards_to_broker(root: &Path) -> anyhow::Result<()> {
        let config = "/nonexistent/broker.toml";
        let args = ["/usr/bin/careid", "broker", "serve", "--config", config];
        let output = chroot_command(root, &args)?;
        let said = String::from_utf8_lossy(&output.stderr);
        ensure!(
            output.status.code() == Some(1)
                && said.trim_start().starts_with('{')
                && said.contains("the careid broker cannot run")
                && said.contains(config),
            "the installed {args:?} did not reach careid-broker ({}): {}",
            output.status,
            said.trim()
        );
        Ok(())
    }

    /// `systemd-analyze verify` on the installed `careid-broker.service`, its command pointed at
    /// the installed `careid-broker` (systemd checks that it exists): any warning fails, as an
    /// unknown or misspelt directive is only a warning to systemd. Then its exposure score, for
    /// the log.
    fn check_broker_unit(root: &Path) -> anyhow::Result<()> {
        let unit = std::fs::read_to_string(root.join(INSTALLED_UNIT))
            .with_context(|| format!("reading the installed /{INSTALLED_UNIT}"))?;
        let installed = "ExecStart=/usr/bin/careid-broker ";
        ensure!(
            unit.contains(installed),
            "/{INSTALLED_UNIT} does not start /usr/bin/careid-broker"
        );
        let broker = root.join("usr/bin/careid-broker");
        let dir = tempfile::tempdir()?;
        let copy = dir.path().join("careid-broker.service");
        std::fs::write(
            &copy,
            unit.replace(installed, &format!("ExecStart={} ", broker.display())),
        )?;
        let output = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&copy)
            .output()
            .context("running systemd-analyze (Debian package systemd)")?;
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        ensure!(
            output.status.success() && said.trim().is_empty(),
            "systemd-analyze verify /{INSTALLED_UNIT}: {}",
            said.trim()
        );
        let security = Command::new("systemd-analyze")
            .args(["security", "--offline=yes", "--no-pager"])
            .arg(&copy)
            .output()?;
        let text = String::from_utf8_lossy(&security.stdout);
        if let Some(level) = text
            .lines()
            .find(|line| line.contains("Overall exposure level"))
        {
            println!(
                "xtask: /{INSTALLED_UNIT} verified; {}",
                level.trim_start_matches(['→', ' '])
            );
        }
        Ok(())
    }

    /// `dpkg-deb --field`: the control file's fields.
    fn package_fields(deb: &Path) -> anyhow::Result<Vec<(String, String)>> {
        let output = Command::new("dpkg-deb")
            .arg("--field")
            .arg(deb)
            .output()
            .context("running dpkg-deb")?;
        ensure!(output.status.success(), "dpkg-deb --field failed");
        Ok(parse_control(&String::from_utf8_lossy(&output.stdout)))
    }

    /// The fields of a Debian control paragraph, continuation lines joined.
    pub(super) fn parse_control(text: &str) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push('\n');
                    value.push_str(line.trim());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                fields.push((name.trim().to_owned(), value.trim().to_owned()));
            }
        }
        fields
    }

    pub(super) fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
        fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map_or("", |(_, value)| value)
    }

    /// The names of a relationship field (`a (>= 1) | b, c`): every alternative.
    pub(super) fn relation_names(value: &str) -> Vec<&str> {
        value
            .split([',', '|'])
            .filter_map(|item| item.split_whitespace().next())
            .collect()
    }

    /// The control fields a trust's packaging team reads.
    pub(super) fn check_fields(fields: &[(String, String)], version: &str) -> anyhow::Result<()> {
        ensure!(
            field(fields, "Package") == "careid",
            "Package is {:?}",
            field(fields, "Package")
        );
        ensure!(
            field(fields, "Version") == version,
            "Version is {:?}, the workspace's is {version}",
            field(fields, "Version")
        );
        let depends = relation_names(field(fields, "Depends"));
        for needed in ["libwebkit2gtk-4.1-0", "libgtk-3-0", "libdbus-1-3"] {
            ensure!(
                depends.contains(&needed),
                "Depends lacks {needed}: {depends:?}"
            );
        }
        let recommends = relation_names(field(fields, "Recommends"));
        ensure!(
            recommends.contains(&"gnome-keyring"),
            "Recommends lacks a Secret Service (gnome-keyring): {recommends:?}"
        );
        ensure!(
            !field(fields, "Description").is_empty() && !field(fields, "Maintainer").is_empty(),
            "the package has no Description or Maintainer"
        );
        Ok(())
    }

    /// The broker package's control fields.
    pub(super) fn check_broker_fields(
        fields: &[(String, String)],
        version: &str,
    ) -> anyhow::Result<()> {
        ensure!(
            field(fields, "Package") == broker_deb::PACKAGE,
            "Package is {:?}",
            field(fields, "Package")
        );
        ensure!(
            field(fields, "Version") == version,
            "Version is {:?}, the workspace's is {version}",
            field(fields, "Version")
        );
        let depends = relation_names(field(fields, "Depends"));
        ensure!(
            depends.contains(&"libc6"),
            "Depends lacks libc6: {depends:?}"
        );
        for desktop in ["libwebkit2gtk-4.1-0", "libgtk-3-0", "libdbus-1-3"] {
            ensure!(
                !depends.contains(&desktop),
                "the broker depends on {desktop}: {depends:?}"
            );
        }
        ensure!(
            !field(fields, "Description").is_empty() && !field(fields, "Maintainer").is_empty(),
            "the broker package has no Description or Maintainer"
        );
        Ok(())
    }

    /// The broker's program, systemd unit and sysusers file, as installed.
    fn check_broker_files(root: &Path) -> anyhow::Result<()> {
        for file in ["usr/bin/careid-broker", INSTALLED_UNIT, INSTALLED_SYSUSERS] {
            ensure!(
                root.join(file).is_file(),
                "the broker package installed no /{file}"
            );
        }
        Ok(())
    }

    /// The desktop entry, its program and its icon, as installed.
    fn check_files(root: &Path) -> anyhow::Result<()> {
        for binary in ["usr/bin/careid", "usr/bin/careid-desktop"] {
            ensure!(
                root.join(binary).is_file(),
                "the package installed no /{binary}"
            );
        }
        let entry_path = root.join("usr/share/applications/careid.desktop");
        let entry = std::fs::read_to_string(&entry_path)
            .with_context(|| format!("reading the installed {}", entry_path.display()))?;
        let value = |key: &str| {
            entry
                .lines()
                .find_map(|line| line.strip_prefix(&format!("{key}=")))
                .unwrap_or("")
                .trim()
                .to_owned()
        };
        let exec = value("Exec");
        let program = exec.split_whitespace().next().unwrap_or("");
        ensure!(
            root.join("usr/bin").join(program).is_file(),
            "the desktop entry runs {exec:?}, which the package did not install in /usr/bin"
        );
        ensure!(
            value("Categories").split(';').any(|c| c == "Utility"),
            "the desktop entry's Categories are {:?}",
            value("Categories")
        );
        let icon = value("Icon");
        let icon_found = ["32x32", "128x128", "256x256@2"].iter().any(|size| {
            root.join(format!("usr/share/icons/hicolor/{size}/apps/{icon}.png"))
                .is_file()
        });
        ensure!(
            icon_found,
            "no icon {icon:?} installed under /usr/share/icons/hicolor"
        );
        Ok(())
    }

    /// The CLI's completion scripts and man pages, as installed: readable by every user, the
    /// bash script completing careid's commands in the root's own bash, and `man careid`
    /// (man-db, put into the root for this) showing the pages.
    fn check_completions_and_man_pages(root: &Path) -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let man_dir = Path::new(MAN_DIR);
        let installed = COMPLETIONS
            .iter()
            .map(|(_, path)| Path::new(path).to_owned())
            .chain(["careid.1.gz", "careid-profile-set.1.gz"].map(|page| man_dir.join(page)));
        for file in installed {
            let in_root = root.join(file.strip_prefix("/")?);
            let mode = std::fs::metadata(&in_root)
                .with_context(|| format!("the package installed no {}", file.display()))?
                .permissions()
                .mode();
            ensure!(
                mode & 0o444 == 0o444,
                "{} is installed as {mode:o}, not readable by every user",
                file.display()
            );
        }
        let completed = chroot_output(
            root,
            &[
                "bash",
                "-c",
                ". /usr/share/bash-completion/completions/careid; \
                 COMP_WORDS=(careid profile s); COMP_CWORD=2; _careid careid s profile; \
                 printf '%s\\n' \"${COMPREPLY[@]}\"",
            ],
        )?;
        let mut offered: Vec<&str> = completed.lines().collect();
        offered.sort_unstable();
        ensure!(
            offered == ["secret", "set", "show"],
            "the installed bash completion offered {offered:?} after `careid profile s`"
        );
        let page = chroot_output(root, &["man", "careid"])?;
        ensure!(
            page.contains("Sign in to NHS CIS2 Authentication") && page.contains("Exit codes:"),
            "`man careid` showed:\n{page}"
        );
        let page = chroot_output(root, &["man", "careid-profile-set"])?;
        ensure!(
            page.contains("--unset") && page.contains("careid profile set int"),
            "`man careid-profile-set` showed:\n{page}"
        );
        println!("xtask: the installed completion script and man pages work");
        Ok(())
    }

    /// A fresh Debian root (the host's release and mirrors) with the packages installed by apt,
    /// removed on drop.
    struct FreshRoot {
        path: PathBuf,
    }

    impl FreshRoot {
        fn install(debs: &[&Path]) -> anyhow::Result<Self> {
            let started = Instant::now();
            let path =
                shell::target_dir().join(format!("xtask/bundle-root-{}", std::process::id()));
            if path.exists() {
                std::fs::remove_dir_all(&path)?;
            }
            let fresh = Self { path };
            let codename = os_release("VERSION_CODENAME").context(
                "no VERSION_CODENAME in /etc/os-release: the installed-package test runs on Debian",
            )?;
            // Downloaded packages are kept between runs, so only the first run on a machine
            // fetches them.
            let cache = tauri_tools_dir()
                .with_file_name("careid-xtask")
                .join("apt-archives");
            std::fs::create_dir_all(&cache)?;
            // In a private mount namespace: what mmdebstrap mounts into the root (`/proc`, `/sys`,
            // `/dev/shm`, the package) ends with it, even when it is killed half way.
            let mut command = Command::new("unshare");
            command
                .args(["--mount", "--propagation", "private", "--", "mmdebstrap"])
                .args(["--variant=minbase", "--mode=root", "--quiet"])
                .arg("--dpkgopt=force-unsafe-io")
                .args(
                    debs.iter()
                        .map(|deb| format!("--include={}", deb.display())),
                )
                // `man`, so the test reads the installed pages as a user would.
                .arg("--include=man-db")
                .arg("--hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount")
                .arg(r#"--setup-hook=mkdir -p "$1/var/cache/apt/archives""#)
                .arg(format!(
                    "--setup-hook=sync-in {} /var/cache/apt/archives/",
                    cache.display()
                ))
                .arg(format!(
                    "--customize-hook=sync-out /var/cache/apt/archives {}",
                    cache.display()
                ))
                .arg(&codename)
                .arg(&fresh.path)
                .args(apt_sources()?)
                .stdin(Stdio::null());
            shell::run_checked(&mut command).context(
                "making a fresh Debian root with the packages installed (mmdebstrap); \
                 an unmet dependency shows in apt's output above",
            )?;
            let names: Vec<String> = debs.iter().map(|deb| deb.display().to_string()).collect();
            println!(
                "xtask: installed {} into a fresh {codename} root in {:.0}s",
                names.join(" and "),
                started.elapsed().as_secs_f64()
            );
            Ok(fresh)
        }

        fn path(&self) -> &Path {
            &self.path
        }
    }

    impl Drop for FreshRoot {
        fn drop(&mut self) {
            // Every mount into the root was made inside a private mount namespace that ended
            // with its processes; should one still show here, the root is left alone rather
            // than removed through it.
            let inside = self.path.display().to_string();
            let mounted = std::fs::read_to_string("/proc/self/mountinfo").is_ok_and(|info| {
                info.lines()
                    .filter_map(|line| line.split(' ').nth(4))
                    .any(|point| point.starts_with(&inside))
            });
            if mounted {
                eprintln!("xtask: {inside} still has something mounted below it; not removed");
                return;
            }
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }

    fn os_release(key: &str) -> Option<String> {
        let text = std::fs::read_to_string("/etc/os-release").ok()?;
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{key}=")))
            .map(|value| value.trim_matches('"').to_owned())
            .filter(|value| !value.is_empty())
    }

    /// The host's apt source files, which mmdebstrap takes as its mirrors.
    fn apt_sources() -> anyhow::Result<Vec<PathBuf>> {
        let mut sources = Vec::new();
        let list = PathBuf::from("/etc/apt/sources.list");
        if std::fs::metadata(&list).is_ok_and(|meta| meta.len() > 0) {
            sources.push(list);
        }
        if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
            let mut more: Vec<PathBuf> = entries
                .flatten()
                .map(|entry| entry.path())
                .filter(|path| {
                    path.extension()
                        .is_some_and(|ext| ext == "list" || ext == "sources")
                })
                .collect();
            more.sort();
            sources.extend(more);
        }
        ensure!(!sources.is_empty(), "no apt sources on this machine");
        Ok(sources)
    }

    /// coreutils' `chroot`, in `/usr/sbin`, which a user's PATH may lack.
    const CHROOT: &str = "/usr/sbin/chroot";

    /// Runs a program inside the root (no mounts needed) and returns what it printed.
    fn chroot_output(root: &Path, args: &[&str]) -> anyhow::Result<String> {
        let output = chroot_command(root, args)?;
        ensure!(
            output.status.success(),
            "{args:?} in the fresh root failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Runs a program inside the root, however it ends.
    fn chroot_command(root: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
        Command::new(CHROOT)
            .arg(root)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running {args:?} in the fresh root"))
    }

    /// How long the installed app has to map its window and load its UI.
    const APP_START_TIMEOUT: Duration = Duration::from_secs(60);

    /// Starts `/usr/bin/careid-desktop` inside the root, in a private mount namespace that brings in
    /// `/proc`, `/dev`, the X socket and the test environment's folders (home, session bus), and
    /// waits for its window and the UI's first call.
    fn start_installed_app(root: &Path) -> anyhow::Result<()> {
        let environment = TestEnvironment::start()?;
        let outside = environment.root().to_path_buf();
        let script = r#"set -e
    root=$1; outside=$2
    mount -t proc proc "$root/proc"
    mount --rbind /dev "$root/dev"
    mkdir -p "$root/tmp/.X11-unix" "$root$outside"
    mount --bind /tmp/.X11-unix "$root/tmp/.X11-unix"
    mount --bind "$outside" "$root$outside"
    exec /usr/sbin/chroot "$root" /usr/bin/careid-desktop"#;
        let mut command = Command::new("unshare");
        command
            .args([
                "--mount",
                "--propagation",
                "private",
                "--",
                "sh",
                "-c",
                script,
            ])
            .arg("careid-installed")
            .arg(root)
            .arg(&outside);
        environment.apply(&mut command);
        command
            .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
            .env("RUST_LOG", "info")
            .env(
                "CAREID_KEYCHAIN_SERVICE",
                format!("careid-installed-{}", std::process::id()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0);
        let started = Instant::now();
        let mut child = command.spawn().context("starting the installed app")?;
        // unshare, sh and chroot each exec the next: the app keeps the child's id.
        let pid = child.id();
        let lines = read_lines(&mut child);
        let waited = wait_for_app(&environment, pid, &lines, started);
        end_group(&mut child);
        let log = lines.try_iter().collect::<Vec<_>>();
        drop(environment);
        waited.map_err(|error| {
            let from = log.len().saturating_sub(15);
            error.context(format!(
                "the installed app's last lines:\n{}",
                log[from..].join("\n")
            ))
        })
    }

    fn wait_for_app(
        environment: &TestEnvironment,
        pid: u32,
        lines: &Receiver<String>,
        started: Instant,
    ) -> anyhow::Result<()> {
        let display = crate::observe::XServer::connect(environment.display())?;
        let mut window = None;
        let mut ui_reached_app = None;
        let mut seen = Vec::new();
        while started.elapsed() < APP_START_TIMEOUT {
            while let Ok(line) = lines.try_recv() {
                if ui_reached_app.is_none() && line.contains(UI_REACHED_APP_LINE) {
                    ui_reached_app = Some(started.elapsed());
                }
                seen.push(line);
            }
            if window.is_none() && display.has_mapped_window(pid)? {
                window = Some(started.elapsed());
            }
            if let (Some(window), Some(ui)) = (window, ui_reached_app) {
                println!(
                    "xtask: the installed app mapped its window after {:.2}s and its UI called it \
                     after {:.2}s",
                    window.as_secs_f64(),
                    ui.as_secs_f64()
                );
                return Ok(());
            }
            if !crate::observe::is_running(pid) {
                bail!("the installed app ended before its window and UI were up");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        bail!(
            "after {APP_START_TIMEOUT:?}: window mapped: {}, UI reached the app: {}",
            window.is_some(),
            ui_reached_app.is_some()
        )
    }

    /// The child's stderr, line by line.
    fn read_lines(child: &mut Child) -> Receiver<String> {
        let (sender, receiver) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        receiver
    }

    /// Ends the app's process group (WebKit's processes are in it) and waits for the app.
    fn end_group(child: &mut Child) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[cfg(target_os = "linux")]
pub use installed::test_installed;

/// The installed-package test runs on Linux only.
#[cfg(not(target_os = "linux"))]
pub fn test_installed(_deb: &Path, _broker_deb: &Path) -> anyhow::Result<()> {
    bail!("the installed-package test runs on Linux")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_os = "linux")]
    use installed::{check_fields, field, parse_control, relation_names};

    #[cfg(target_os = "linux")]
    const CONTROL: &str = "Package: careid\nVersion: 0.1.0\nArchitecture: amd64\n\
        Depends: libwebkit2gtk-4.1-0, libgtk-3-0, libdbus-1-3\n\
        Recommends: gnome-keyring | org.freedesktop.secrets, xdg-utils\n\
        Maintainer: careid\nDescription: Sign in to NHS CIS2 Authentication\n more text\n";

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_control_fields_and_relations() {
        let fields = parse_control(CONTROL);
        assert_eq!(field(&fields, "package"), "careid");
        assert_eq!(
            field(&fields, "Description"),
            "Sign in to NHS CIS2 Authentication\nmore text"
        );
        assert_eq!(
            relation_names(field(&fields, "Recommends")),
            ["gnome-keyring", "org.freedesktop.secrets", "xdg-utils"]
        );
        check_fields(&fields, "0.1.0").expect("the fields of a good package");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn refuses_a_package_without_webkit_or_of_another_version() {
        let fields = parse_control(&CONTROL.replace("libwebkit2gtk-4.1-0, ", ""));
        let error = check_fields(&fields, "0.1.0").expect_err("no WebKitGTK");
        assert!(error.to_string().contains("libwebkit2gtk-4.1-0"), "{error}");
        let fields = parse_control(CONTROL);
        assert!(check_fields(&fields, "0.2.0").is_err());
    }

    #[test]
    fn the_apps_package_is_told_from_the_brokers_beside_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("careid_0.1.0_amd64.deb"), "app").unwrap();
        // Written last, so the newest .deb in the folder.
        std::fs::write(dir.path().join("careid-broker_0.1.0_amd64.deb"), "broker").unwrap();
        assert_eq!(
            newest_package(dir.path(), "careid_", "deb"),
            Some(dir.path().join("careid_0.1.0_amd64.deb"))
        );
        assert_eq!(newest_package(dir.path(), "careid_", "AppImage"), None);
    }

    #[test]
    fn the_override_points_the_cli_at_another_target_folder() {
        let json = files_override(&[
            (
                "/usr/bin/careid".into(),
                "/tmp/t \"x\"/release/careid".into(),
            ),
            (
                "/usr/share/man/man1/careid.1.gz".into(),
                "/tmp/r/careid.1.gz".into(),
            ),
        ]);
        assert_eq!(
            json,
            r#"{"bundle":{"linux":{"deb":{"files":{"/usr/bin/careid":"/tmp/t \"x\"/release/careid","/usr/share/man/man1/careid.1.gz":"/tmp/r/careid.1.gz"}}}}}"#
        );
    }
}
