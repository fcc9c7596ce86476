//! The `careid` CLI as a tester runs it: an isolated home, its own keychain service name, the
//! scripted browser as `BROWSER`, and a mock provider running in the test process (so a test
//! can arm faults and read the mock's request log while `careid` talks to it over real HTTP).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use mock_cis2::{MockCis2, RunningMock};

use crate::{binaries, TestHome};

/// The mock's built-in confidential client (client_secret_basic) and its published secret.
pub const MOCK_CLIENT: &str = "555000000001.apps.local";
pub const MOCK_SECRET: &str = "8f2d5c1e-4b7a-4e39-9c06-2a1b3d4e5f60";
/// The mock's client that gets no refresh token (`data/clients.json`), and its secret.
pub const NO_REFRESH_CLIENT: &str = "555000000007.apps.local";
pub const NO_REFRESH_SECRET: &str = "0d7c4b2a-9e1f-4a63-b8d5-3c2e1f0a9b87";

/// What a finished `careid` run left.
#[derive(Debug)]
pub struct Run {
    /// `None` when killed at the deadline.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertion messages.
    pub fn text(&self) -> String {
        format!(
            "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}):\n{}", self.text()))
    }
}

/// One tester's machine: home, config folder, keychain namespace, browser.
#[derive(Debug)]
pub struct CliWorld {
    home: TestHome,
    keychain_service: String,
    env: Vec<(String, String)>,
}

impl CliWorld {
    pub fn new() -> anyhow::Result<Self> {
        Ok(Self::in_home(TestHome::new()?))
    }

    /// The CLI on the same machine as a desktop app under test: its home, folders and keychain
    /// entries.
    pub fn in_home(home: TestHome) -> Self {
        Self {
            keychain_service: home.keychain_service(),
            home,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for every later run (for example the browser's mode).
    pub fn set_env(&mut self, name: &str, value: impl Into<String>) {
        self.env.retain(|(existing, _)| existing != name);
        self.env.push((name.to_owned(), value.into()));
    }

    pub fn keychain_service(&self) -> &str {
        &self.keychain_service
    }

    pub fn home(&self) -> &TestHome {
        &self.home
    }

    /// careid's state folder (`--config-dir` puts it under the config folder).
    pub fn state_dir(&self) -> PathBuf {
        self.home.config_dir().join("state")
    }

    /// The file the scripted browser appends each opened URL to.
    pub fn browser_log(&self) -> PathBuf {
        self.home.path().join("browser.log")
    }

    /// `careid ARGS` with this world's environment, not yet started.
    pub fn command(&self, args: &[&str]) -> anyhow::Result<Command> {
        let mut command = Command::new(binaries::cli()?);
        command
            .args(args)
            .envs(self.home.env())
            .env("CAREID_KEYCHAIN_SERVICE", &self.keychain_service)
            .env("BROWSER", binaries::test_browser()?)
            .env("CAREID_TEST_BROWSER_LOG", self.browser_log())
            .env_remove("CAREID_PROFILE")
            .env_remove("CAREID_MOCK_AUTO_LOGIN")
            .env_remove("RUST_LOG")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(command)
    }

    /// Runs `careid ARGS` to the end (killed after 60 s), with `stdin` as its input.
    pub fn run_with_input(&self, args: &[&str], stdin: &str) -> anyhow::Result<Run> {
        let mut child = self
            .command(args)?
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut input) = child.stdin.take() {
            input.write_all(stdin.as_bytes())?;
        }
        let mut stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        let err = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let code = loop {
            if let Some(status) = child.try_wait()? {
                break status.code();
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Ok(Run {
            code,
            stdout: out.join().unwrap_or_default(),
            stderr: err.join().unwrap_or_default(),
        })
    }

    pub fn run(&self, args: &[&str]) -> anyhow::Result<Run> {
        self.run_with_input(args, "")
    }

    /// Runs and requires exit 0.
    pub fn ok(&self, args: &[&str]) -> Run {
        let run = self.run(args).expect("careid runs");
        assert_eq!(run.code, Some(0), "careid {args:?} failed:\n{}", run.text());
        run
    }

    /// Adds profile `name` for a provider at `issuer` with the mock's default client and
    /// stores its secret, as a tester would.
    pub fn add_mock_profile(&self, name: &str, issuer: &str, extra: &[&str]) {
        self.add_secret_profile(name, issuer, MOCK_CLIENT, MOCK_SECRET, extra);
    }

    /// Adds profile `name` for the mock's client that gets no refresh token.
    pub fn add_no_refresh_profile(&self, name: &str, issuer: &str) {
        self.add_secret_profile(name, issuer, NO_REFRESH_CLIENT, NO_REFRESH_SECRET, &[]);
    }

    /// Adds profile `name` for `client_id` (client_secret_basic) at `issuer` and stores its
    /// `secret`, as a tester would.
    pub fn add_secret_profile(
        &self,
        name: &str,
        issuer: &str,
        client_id: &str,
        secret: &str,
        extra: &[&str],
    ) {
        let mut args = vec![
            "profile",
            "add",
            name,
            "--issuer",
            issuer,
            "--client-id",
            client_id,
            "--client-auth",
            "client_secret_basic",
        ];
        args.extend_from_slice(extra);
        self.ok(&args);
        let run = self
            .run_with_input(&["profile", "secret", "set", name], secret)
            .expect("careid runs");
        assert_eq!(run.code, Some(0), "{}", run.text());
    }

    /// The keychain entries under this world's service, as libsecret's own tool lists them.
    pub fn keychain_accounts(&self) -> Vec<String> {
        let output = Command::new("secret-tool")
            .args(["search", "--all", "service", &self.keychain_service])
            .output()
            .expect("secret-tool runs (Debian package libsecret-tools)");
        let listing = String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr);
        listing
            .lines()
            .filter_map(|line| line.trim().strip_prefix("attribute.username = "))
            .map(str::to_owned)
            .collect()
    }

    /// The values stored under this world's service (long enough to be tokens or secrets).
    pub fn keychain_secrets(&self) -> Vec<String> {
        let output = Command::new("secret-tool")
            .args([
                "search",
                "--all",
                "--unlock",
                "service",
                &self.keychain_service,
            ])
            .output()
            .expect("secret-tool runs");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.trim().strip_prefix("secret = "))
            // A value that fits one entry is kept after careid's marker; a split value's header
            // (`careid-secret/1 gen=N parts=M`) holds no secret.
            .map(|secret| {
                secret
                    .strip_prefix("careid-secret/1 inline ")
                    .unwrap_or(secret)
            })
            .filter(|secret| secret.len() >= 16 && !secret.starts_with("careid-secret/"))
            .map(str::to_owned)
            .collect()
    }

    /// The sessions stored in the keychain (one entry each; the parts of a long value are
    /// entries named `ACCOUNT#GEN.N` and are not counted), not client secrets.
    pub fn stored_sessions(&self) -> Vec<String> {
        self.keychain_accounts()
            .into_iter()
            .filter(|account| account.starts_with("session/") && !account.contains('#'))
            .collect()
    }
}

/// The mock provider in this test process, on its own runtime.
#[derive(Debug)]
pub struct MockHost {
    runtime: tokio::runtime::Runtime,
    running: Option<RunningMock>,
}

impl MockHost {
    pub fn start(mock: MockCis2) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let running = runtime.block_on(mock.start())?;
        Ok(Self {
            runtime,
            running: Some(running),
        })
    }

    pub fn mock(&self) -> &RunningMock {
        self.running.as_ref().expect("running until dropped")
    }

    pub fn issuer(&self) -> String {
        self.mock().issuer().to_owned()
    }

    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

impl Drop for MockHost {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            self.runtime.block_on(running.shutdown());
        }
    }
}
