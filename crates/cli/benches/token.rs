//! `careid token` with a valid session, as a script runs it: a new process each time, which
//! reads the profile, the client secret and the session from the OS keychain and prints the
//! access token. Measured three ways: with a valid kept access token (no request to the
//! provider, a mock in this process: the bench checks its request log), and with `--refresh`
//! (one refresh, the new ID token validated, the rotated refresh token and the new access token
//! stored) for a client_secret_basic client and for a private_key_jwt client (a signed
//! assertion on every refresh, as CIS2 clients authenticate).
//!
//! `cargo bench -p careid-cli --bench token [-- RUNS]` measures the release build of `careid`.
//! The keychain is the real one (Secret Service on Linux), under a service name of its own that
//! is emptied afterwards; run it through `cargo xtask bench` for a private, unlocked keychain.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use careid_test_fixtures::latency::Summary;
use mock_cis2::MockCis2;

const CAREID: &str = env!("CARGO_BIN_EXE_careid");
/// The mock's confidential client (client_secret_basic).
const CLIENT_ID: &str = "555000000001.apps.local";
/// The mock's private_key_jwt client, authenticating as CIS2 clients usually do, and its key.
const JWT_CLIENT_ID: &str = "555000000005.apps.national";
const JWT_CLIENT_KEY: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../mock-cis2/data/test-keys/private-key-jwt-client.pem"
);
/// The test nurse of the mock's directory.
const USER: &str = "555057896106";
const PROFILE: &str = "bench";
const JWT_PROFILE: &str = "bench-jwt";

fn main() {
    // `cargo bench` passes `--bench`; numbers are ours.
    let runs = std::env::args()
        .find_map(|arg| arg.parse::<usize>().ok())
        .unwrap_or(50)
        .max(1);

    // The provider serves from this process's runtime while `careid` runs as a child.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let mock = runtime
        .block_on(
            MockCis2::new()
                .auto_login(USER.parse().expect("a user id"))
                .start(),
        )
        .expect("the mock starts");
    let secret = mock
        .clients()
        .get(CLIENT_ID)
        .and_then(|client| client.client_secret.clone())
        .expect("the mock's client has a secret");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let careid = Careid {
        config_dir: dir.path().to_path_buf(),
        keychain_service: format!("careid-bench-token-{}", std::process::id()),
    };

    careid.checked(
        &[
            "profile",
            "add",
            PROFILE,
            "--issuer",
            mock.issuer(),
            "--client-id",
            CLIENT_ID,
            "--client-auth",
            "client_secret_basic",
        ],
        None,
    );
    careid.checked(&["profile", "secret", "set", PROFILE], Some(&secret));
    careid.login(&runtime, PROFILE);
    careid.checked(
        &[
            "profile",
            "add",
            JWT_PROFILE,
            "--issuer",
            mock.issuer(),
            "--client-id",
            JWT_CLIENT_ID,
            "--client-auth",
            "private_key_jwt",
        ],
        None,
    );
    careid.checked(
        &[
            "profile",
            "secret",
            "set",
            JWT_PROFILE,
            "--from-file",
            JWT_CLIENT_KEY,
        ],
        None,
    );
    careid.login(&runtime, JWT_PROFILE);

    // The kept access token: the mock must see no request at all.
    careid.token(PROFILE, &[]);
    let requests = mock.request_log().len();
    let mut kept = careid.token_runs(PROFILE, runs, &[]);
    assert_eq!(
        mock.request_log().len(),
        requests,
        "careid token with a valid access token made a request to the provider"
    );
    let mut token = careid.token_runs(PROFILE, runs, &["--refresh"]);
    let mut jwt_token = careid.token_runs(JWT_PROFILE, runs, &["--refresh"]);
    // Where the time goes: starting the process, and `status` (the profile, the client secret
    // and the session read from the keychain, no request to the provider).
    let version = careid.timed(runs.min(20), &["--version"]);
    let status = careid.timed(runs.min(20), &["--profile", PROFILE, "status"]);

    careid.checked(&["profile", "remove", PROFILE], None);
    careid.checked(&["profile", "remove", JWT_PROFILE], None);
    runtime.block_on(mock.shutdown());

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for (name, times) in [
        ("valid access token, no request", &mut kept),
        ("--refresh, client_secret_basic", &mut token),
        ("--refresh, private_key_jwt", &mut jwt_token),
    ] {
        let summary = Summary::of(times);
        println!(
            "careid token ({name}): median {:.1} ms, p95 {:.1} ms, min {:.1} ms ({runs} runs, release build; {cores} cores)",
            summary.median, summary.p95, summary.min,
        );
    }
    println!(
        "  for comparison (median): `careid --version` {:.1} ms (process start), \
         `careid status` {:.1} ms (keychain reads, no request)",
        version.median, status.median,
    );
}

/// `careid` with a configuration folder and keychain service of its own.
#[derive(Debug)]
struct Careid {
    config_dir: PathBuf,
    keychain_service: String,
}

impl Careid {
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(CAREID);
        command
            .arg("--config-dir")
            .arg(&self.config_dir)
            .args(args)
            .env("CAREID_KEYCHAIN_SERVICE", &self.keychain_service)
            .env_remove("CAREID_PROFILE")
            .env_remove("CAREID_CONFIG_DIR")
            .env_remove("CAREID_MOCK_AUTO_LOGIN")
            .env_remove("RUST_LOG");
        command
    }

    fn checked(&self, args: &[&str], input: Option<&str>) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("careid starts");
        let mut stdin = child.stdin.take().expect("careid's stdin");
        if let Some(input) = input {
            stdin
                .write_all(input.as_bytes())
                .expect("careid reads stdin");
        }
        drop(stdin);
        let output = child.wait_with_output().expect("careid ends");
        assert!(
            output.status.success(),
            "careid {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// One `careid token [EXTRA]`, which must print a token.
    fn token(&self, profile: &str, extra: &[&str]) {
        let mut args = vec!["--profile", profile, "token"];
        args.extend_from_slice(extra);
        let output = self.checked(&args, None);
        assert!(
            output.stdout.len() > 20,
            "careid token printed no access token"
        );
    }

    /// The time of each of `runs` runs of `careid token`, after a warm-up (the discovery and
    /// JWKS cache written, the binary in the page cache).
    fn token_runs(&self, profile: &str, runs: usize, extra: &[&str]) -> Vec<Duration> {
        for _ in 0..3 {
            self.token(profile, extra);
        }
        (0..runs)
            .map(|_| {
                let started = Instant::now();
                self.token(profile, extra);
                started.elapsed()
            })
            .collect()
    }

    /// Median of `runs` runs of `careid ARGS`.
    fn timed(&self, runs: usize, args: &[&str]) -> Summary {
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                self.checked(args, None);
                started.elapsed()
            })
            .collect();
        Summary::of(&mut times)
    }

    /// `careid login --no-browser`, with this process as the browser: the printed URL is
    /// fetched, and the mock's auto-login redirect followed to careid's loopback listener.
    fn login(&self, runtime: &tokio::runtime::Runtime, profile: &str) {
        let mut child = self
            .command(&[
                "--profile",
                profile,
                "login",
                "--no-browser",
                "--timeout",
                "60",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("careid login starts");
        let mut stderr = BufReader::new(child.stderr.take().expect("careid's stderr")).lines();
        let url = stderr
            .by_ref()
            .map_while(Result::ok)
            .find(|line| line.starts_with("http"))
            .expect("careid login prints the sign-in URL");
        // The rest of stderr is drained so careid never blocks on it.
        let drain = std::thread::spawn(move || stderr.map_while(Result::ok).collect::<Vec<_>>());
        runtime.block_on(browse(&url));
        let output = child.wait_with_output().expect("careid login ends");
        let rest = drain.join().unwrap_or_default();
        assert!(
            output.status.success(),
            "careid login failed: {}",
            rest.join("\n")
        );
    }
}

/// What the browser does with the sign-in URL when the mock signs the user in by itself.
async fn browse(url: &str) {
    let http = careid_test_fixtures::http::no_redirects();
    let callback = careid_test_fixtures::http::redirect_location(&http, url).await;
    let delivered = http
        .get(&callback)
        .send()
        .await
        .expect("careid's listener answers");
    assert!(delivered.status().is_success(), "the callback is accepted");
}
