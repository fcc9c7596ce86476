//! `careid keychain check`: proves the OS keychain can hold a secret of a refresh token's size.

use std::time::Duration;

use anyhow::{ensure, Context};
use careid_core::{BuildKind, Keychain, SecretString};

/// Larger than the biggest refresh tokens seen, and over Windows' 2,560-byte limit per entry.
const PROBE_BYTES: usize = 4096;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keychain service name to use instead of this build's own.
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
}

pub fn run(args: &Args) -> anyhow::Result<()> {
    let keychain = match &args.service {
        Some(service) => Keychain::with_service(service.clone()),
        None if cfg!(debug_assertions) => Keychain::new(BuildKind::Debug),
        None => Keychain::new(BuildKind::Release),
    };
    let account = format!("keychain-check/{}", std::process::id());
    let probe = SecretString::new(probe_value(PROBE_BYTES));

    keychain
        .store(&account, &probe)
        .context("storing a test secret")?;
    let loaded = keychain
        .load(&account)
        .context("reading the test secret back");
    // The quick copy `careid token` reads the kept access token from (Linux: the kernel's
    // session keyring); optional, so only reported. The delete below drops it.
    let quick_copy = keychain
        .keep_quick_copy(&account, "check", &probe, Duration::from_secs(60))
        .and_then(|()| match keychain.quick_copy(&account, "check") {
            Some(copy) if copy == probe => Ok(()),
            Some(_) => Err("it read back different".to_owned()),
            None => Err("it did not read back".to_owned()),
        });
    // Delete whatever happened to the read, so a failed check leaves nothing behind.
    let deleted = keychain
        .delete(&account)
        .context("deleting the test secret");
    let loaded = loaded?;
    deleted?;
    ensure!(
        loaded.as_ref() == Some(&probe),
        "the keychain gave back a different value"
    );
    ensure!(
        keychain
            .load(&account)
            .context("checking the deletion")?
            .is_none(),
        "the test secret was still there after deletion"
    );
    ensure!(
        keychain.quick_copy(&account, "check").is_none(),
        "the quick copy was still there after deletion"
    );
    println!(
        "keychain: ok (stored, read back and deleted {PROBE_BYTES} bytes under service {:?})",
        keychain.service()
    );
    println!("backend: {}", keychain.describe_backend());
    println!("{}", quick_copy_line(&quick_copy));
    Ok(())
}

fn quick_copy_line(kept: &Result<(), String>) -> String {
    match kept {
        Ok(()) => "access token quick copy: the kernel's session keyring (this user only; \
                   `careid token` reads no keychain while the kept token is valid)"
            .to_owned(),
        Err(reason) if cfg!(target_os = "linux") => format!(
            "access token quick copy: unavailable here: {reason}; \
             `careid token` reads the keychain instead"
        ),
        Err(_) => "access token quick copy: none on this system (the keychain is fast)".to_owned(),
    }
}

/// A printable, non-repeating value, so a truncated or reordered read cannot pass.
fn probe_value(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..len)
        .map(|i| ALPHABET[(i * 7 + i / ALPHABET.len()) % ALPHABET.len()] as char)
        .collect()
}
