//! A `redis-server` of a test's own, or of the soak bench's, on a free loopback port and keeping
//! nothing on disk, so it can be stopped (killed) and started again on the same port, empty.

#![allow(dead_code, reason = "the soak bench uses part of it")]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` of the test's own. Ended when dropped.
pub struct OwnRedis {
    program: String,
    port: u16,
    dir: tempfile::TempDir,
    extra: Vec<String>,
    /// Whether it speaks TLS only (`start_tls`).
    tls: bool,
    child: Option<Child>,
}

impl OwnRedis {
    /// `program` (a `redis-server`) started with `extra` arguments.
    pub fn start_program(program: &str, extra: &[&str]) -> Self {
        Self::start_in(program, tempfile::tempdir().unwrap(), extra, false)
    }

    /// `program` speaking TLS only (no plain port), serving the certificate chain `cert_pem`
    /// with `key_pem`, and asking clients for no certificate.
    pub fn start_tls_program(program: &str, cert_pem: &str, key_pem: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let cert = dir.path().join("redis-cert.pem");
        let key = dir.path().join("redis-key.pem");
        std::fs::write(&cert, cert_pem).unwrap();
        std::fs::write(&key, key_pem).unwrap();
        let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
        let args = [
            "--tls-cert-file",
            cert,
            "--tls-key-file",
            key,
            "--tls-auth-clients",
            "no",
        ];
        Self::start_in(program, dir, &args, true)
    }

    fn start_in(program: &str, dir: tempfile::TempDir, extra: &[&str], tls: bool) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Self {
            program: program.to_owned(),
            port,
            dir,
            extra: extra.iter().map(|arg| (*arg).to_owned()).collect(),
            tls,
            child: None,
        };
        redis.start_again();
        redis
    }

    /// `redis://127.0.0.1:PORT/`, or `rediss://` for a TLS Redis.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}/", self.port)
    }

    pub fn address(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The running server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (SIGKILL: it has no time to save or say anything) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on its port, empty, and waits until it listens.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "already running");
        let port = self.port.to_string();
        // Port 0 turns plain TCP off, so a TLS Redis cannot be reached any other way.
        let listen: &[&str] = if self.tls {
            &["--port", "0", "--tls-port", &port]
        } else {
            &["--port", &port]
        };
        let child = Command::new(&self.program)
            .args(["--bind", "127.0.0.1"])
            .args(listen)
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| panic!("starting {}: {error}", self.program));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Runs one command (no password, plain TCP) and returns its reply.
    pub async fn command(&self, args: &[&str]) -> redis::Value {
        command(&self.url(), args).await
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs one command on the Redis at `url`.
pub async fn command(url: &str, args: &[&str]) -> redis::Value {
    let client = redis::Client::open(url).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query_async(&mut connection).await.unwrap()
}
