//! The private world the tests run in: a temporary home and XDG folders, an Xvfb display, a
//! session D-Bus of its own with an unlocked gnome-keyring (Secret Service), so tests never touch
//! the user's keychain, files or display; for the test run, a Redis of its own too. Every
//! process started here is ended by its id when the environment is dropped, on success and on
//! failure alike.
//!
//! This is what `dbus-run-session` plus `gnome-keyring-daemon --unlock` do, with the daemons
//! started directly so that their ids are ours to end.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::shell;

/// Where the tests find the run's Redis, and the program to start one of their own.
const REDIS_URL_VARIABLE: &str = "CAREID_TEST_REDIS_URL";
const REDIS_SERVER_VARIABLE: &str = "CAREID_TEST_REDIS_SERVER";

/// The unlock password of the throwaway login keyring.
const KEYRING_PASSWORD: &str = "careid-test";

#[derive(Debug)]
pub struct TestEnvironment {
    root: PathBuf,
    display: String,
    bus_address: String,
    /// `redis://127.0.0.1:PORT/` once [`TestEnvironment::start_redis`] ran.
    redis_url: Option<String>,
    /// Started in order; ended in reverse order.
    processes: Vec<(&'static str, Child)>,
}

impl TestEnvironment {
    pub fn start() -> anyhow::Result<Self> {
        let root = std::env::temp_dir().join(format!("careid-xtask-{}", std::process::id()));
        // A leftover from a killed run with the same id is ours to replace.
        let _ = std::fs::remove_dir_all(&root);
        let mut environment = Self {
            root,
            display: String::new(),
            bus_address: String::new(),
            redis_url: None,
            processes: Vec::new(),
        };
        for dir in environment.folders() {
            std::fs::create_dir_all(dir.1)?;
        }
        restrict_to_owner(&environment.runtime_dir())?;
        environment.start_display()?;
        environment.start_bus()?;
        environment.start_keyring()?;
        Ok(environment)
    }

    /// The X display, `:N`.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// The folder holding the environment's home, runtime folder and session bus socket.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    fn runtime_dir(&self) -> PathBuf {
        self.root.join("runtime")
    }

    fn folders(&self) -> Vec<(&'static str, PathBuf)> {
        let home = self.home();
        vec![
            ("HOME", home.clone()),
            ("XDG_CONFIG_HOME", home.join(".config")),
            ("XDG_DATA_HOME", home.join(".local/share")),
            ("XDG_CACHE_HOME", home.join(".cache")),
            ("XDG_STATE_HOME", home.join(".local/state")),
            ("XDG_RUNTIME_DIR", self.runtime_dir()),
            ("TMPDIR", self.root.join("tmp")),
        ]
    }

    /// Points a command into this environment. Cargo's and rustup's homes are kept explicitly,
    /// since HOME moves.
    pub fn apply(&self, command: &mut Command) {
        command.env("CARGO_HOME", shell::cargo_home());
        if let Some(rustup_home) = shell::rustup_home() {
            command.env("RUSTUP_HOME", rustup_home);
        }
        for (name, path) in self.folders() {
            command.env(name, path);
        }
        let mut path = vec![shell::cargo_home().join("bin")];
        path.extend(
            std::env::var_os("PATH")
                .iter()
                .flat_map(std::env::split_paths),
        );
        if let Ok(joined) = std::env::join_paths(path) {
            command.env("PATH", joined);
        }
        command
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env_remove("WAYLAND_DISPLAY")
            .env("GDK_BACKEND", "x11")
            // WebKit's GPU paths fail on a virtual display; software rendering is reliable.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .env("NO_AT_BRIDGE", "1");
        if let Some(url) = &self.redis_url {
            command
                .env(REDIS_URL_VARIABLE, url)
                .env(REDIS_SERVER_VARIABLE, "redis-server");
        }
    }

    /// A `redis-server` of the run's own on a free loopback port, keeping nothing on disk, for
    /// the broker's Redis store tests: its URL is exported as `CAREID_TEST_REDIS_URL`, and
    /// `CAREID_TEST_REDIS_SERVER` names the program for tests that start (and restart) one
    /// of their own.
    pub fn start_redis(&mut self) -> anyhow::Result<()> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = self.root.join("redis");
        std::fs::create_dir_all(&dir)?;
        let redis = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting redis-server (Debian package redis-server)")?;
        self.processes.push(("redis-server", redis));
        wait_until(Duration::from_secs(15), "redis-server to listen", || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        })?;
        self.redis_url = Some(format!("redis://127.0.0.1:{port}/"));
        Ok(())
    }

    fn start_display(&mut self) -> anyhow::Result<()> {
        let number = (99..400)
            .find(|n| {
                !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
            })
            .context("no free X display number")?;
        let xvfb = Command::new("Xvfb")
            .arg(format!(":{number}"))
            .args([
                "-screen",
                "0",
                "1024x768x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb (Debian package xvfb)")?;
        self.processes.push(("Xvfb", xvfb));
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        wait_until(Duration::from_secs(15), "Xvfb to listen", || {
            socket.exists()
        })?;
        self.display = format!(":{number}");
        Ok(())
    }

    fn start_bus(&mut self) -> anyhow::Result<()> {
        // A session bus with no service directories: nothing is activated behind our back (no
        // portals, no second keyring), so every process on it is one we started and will end.
        let config = self.root.join("session-bus.conf");
        std::fs::write(&config, session_bus_config(&self.runtime_dir().join("bus")))?;
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .envs(self.folders())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting dbus-daemon")?;
        let stdout = bus.stdout.take().context("dbus-daemon stdout")?;
        self.processes.push(("dbus-daemon", bus));
        let mut address = String::new();
        BufReader::new(stdout).read_line(&mut address)?;
        self.bus_address = address.trim().to_owned();
        anyhow::ensure!(
            !self.bus_address.is_empty(),
            "dbus-daemon printed no address"
        );
        Ok(())
    }

    fn start_keyring(&mut self) -> anyhow::Result<()> {
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .envs(self.folders())
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .env("DISPLAY", &self.display)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting gnome-keyring-daemon (Debian package gnome-keyring)")?;
        // The password on stdin, then end of input, is how --unlock takes it.
        let mut stdin = keyring.stdin.take().context("gnome-keyring stdin")?;
        stdin.write_all(KEYRING_PASSWORD.as_bytes())?;
        drop(stdin);
        self.processes.push(("gnome-keyring-daemon", keyring));
        wait_until(
            Duration::from_secs(15),
            "Secret Service on the test bus",
            || self.bus_has_owner("org.freedesktop.secrets"),
        )
    }

    fn bus_has_owner(&self, name: &str) -> bool {
        Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                &format!("string:{name}"),
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).contains("boolean true"))
            .unwrap_or(false)
    }
}

impl Drop for TestEnvironment {
    fn drop(&mut self) {
        while let Some((_name, mut child)) = self.processes.pop() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn session_bus_config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

fn wait_until(timeout: Duration, what: &str, mut done: impl FnMut() -> bool) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if done() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bail!("timed out after {timeout:?} waiting for {what}")
}

#[cfg(unix)]
fn restrict_to_owner(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::set_permissions(
        dir,
        std::fs::Permissions::from_mode(0o700),
    )?)
}

#[cfg(not(unix))]
fn restrict_to_owner(_dir: &Path) -> anyhow::Result<()> {
    Ok(())
}
