//! The "system browser" stand-in that tests point the app's `BROWSER` variable at.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::{Arc, Mutex};

/// A tiny HTTP server: `/start` redirects to `/landing`; returns the port and the paths asked for.
fn redirecting_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let port = listener.local_addr().expect("address").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            // Skip the headers; these requests have no body.
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let response = if path == "/start" {
                format!("HTTP/1.1 302 Found\r\nLocation: http://localhost:{port}/landing\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            } else {
                let body = "<!doctype html><title>landing</title><p>landed</p>";
                format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
            };
            let _ = reader.get_mut().write_all(response.as_bytes());
            record.lock().expect("lock").push(path);
        }
    });
    (port, seen)
}

fn run_browser(mode: &str, port: u16) -> (std::process::Output, String) {
    let log = tempfile::NamedTempFile::new().expect("log file");
    let url = format!("http://localhost:{port}/start");
    let output = Command::new(env!("CARGO_BIN_EXE_test-browser"))
        .arg(&url)
        .env("CAREID_TEST_BROWSER", mode)
        .env("CAREID_TEST_BROWSER_LOG", log.path())
        .env(
            "CAREID_TEST_BROWSER_UNTIL",
            format!("http://localhost:{port}/landing"),
        )
        .output()
        .expect("test-browser runs");
    let opened = std::fs::read_to_string(log.path()).expect("log written");
    assert_eq!(opened.trim(), url, "the opened URL is logged");
    (output, url)
}

#[test]
fn http_browser_follows_redirects_to_the_end() {
    let (port, seen) = redirecting_server();
    let (output, _) = run_browser("http", port);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(*seen.lock().expect("lock"), ["/start", "/landing"]);
}

#[test]
fn chromium_browser_loads_pages_and_follows_redirects() {
    let (port, seen) = redirecting_server();
    let (output, _) = run_browser("chromium", port);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen = seen.lock().expect("lock");
    assert!(
        seen.starts_with(&["/start".to_owned(), "/landing".to_owned()]),
        "{seen:?}"
    );
}

#[test]
fn unknown_browser_mode_is_refused() {
    let output = Command::new(env!("CARGO_BIN_EXE_test-browser"))
        .arg("http://127.0.0.1:9/")
        .env("CAREID_TEST_BROWSER", "netscape")
        .output()
        .expect("test-browser runs");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown CAREID_TEST_BROWSER"));
}

/// Like a snap or flatpak browser, which cannot read hidden folders, the test browser opens no
/// local page: careid must hand every browser an address it can open.
#[test]
fn no_local_page_is_opened() {
    let page = tempfile::NamedTempFile::new().expect("a page");
    let url = url::Url::from_file_path(page.path()).expect("a file URL");
    let output = Command::new(env!("CARGO_BIN_EXE_test-browser"))
        .arg(url.as_str())
        .output()
        .expect("test-browser runs");
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("opens no local files"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
