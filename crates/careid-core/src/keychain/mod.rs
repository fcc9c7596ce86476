//! The OS keychain: the only place careid keeps a secret. Secret Service on Linux, spoken
//! directly over one D-Bus connection per process ([`secret_service`]); Windows Credential
//! Manager and the macOS Keychain through the `keyring` crate ([`native`]).
//!
//! Each account has one head entry. A value that fits in one entry (under Windows' limit of 2,560
//! bytes) is kept in it whole, after a marker, so it is read and replaced in one operation.
//! Longer values (CIS2 refresh tokens and private keys can be) are stored as numbered parts, and
//! the head holds a header naming them. Such a value is replaced by writing a new generation of
//! parts and only then pointing the header at it: if the keychain fails half way, the previous
//! value is still whole.

use std::time::Duration;

use crate::SecretString;

// Also built for Linux unit tests, so the Windows and macOS code is compiled and checked here.
#[cfg(any(not(target_os = "linux"), test))]
#[cfg_attr(target_os = "linux", allow(dead_code))]
mod native;
#[cfg(not(target_os = "linux"))]
use native as store;
#[cfg(target_os = "linux")]
mod secret_service;
#[cfg(target_os = "linux")]
use secret_service as store;
#[cfg(target_os = "linux")]
mod transport;
// Linux only: Windows Credential Manager and the macOS Keychain answer with one local call, so a
// copy would save nothing there.
#[cfg(target_os = "linux")]
mod kernel_copy;
#[cfg(not(target_os = "linux"))]
mod kernel_copy {
    pub(super) fn keep(
        _: &str,
        _: &str,
        _: &str,
        _: &crate::SecretString,
        _: std::time::Duration,
    ) -> Result<(), String> {
        Err("none on this system".to_owned())
    }
    pub(super) fn read(_: &str, _: &str, _: &str) -> Option<crate::SecretString> {
        None
    }
    pub(super) fn forget(_: &str, _: &str) {}
}

/// The largest part, in UTF-16 code units: Windows counts `set_password` in UTF-16 and holds at
/// most 2,560 bytes, so 1,200 units fit with room to spare on every platform.
pub const MAX_PART_UTF16_UNITS: usize = 1_200;

/// The most parts a value may have: 64 × 1,200 units is 75 KiB, many times the longest secret
/// careid keeps (CIS2 refresh tokens of a few KiB, a 4096-bit RSA key of about 3.3 KiB). A
/// header claiming more is damaged: reading it never sizes a buffer or makes keychain calls by
/// a number taken from the keychain.
pub const MAX_PARTS: usize = 64;

const HEADER_PREFIX: &str = "careid-secret/1";
/// The head of a value kept whole: this marker, then the value.
const INLINE_PREFIX: &str = "careid-secret/1 inline ";

/// Development and release builds keep separate secrets, so a debug build can never read, rotate
/// or delete the refresh token of the installed app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildKind {
    Debug,
    Release,
}

impl BuildKind {
    fn service(self) -> &'static str {
        match self {
            BuildKind::Debug => "careid-dev",
            BuildKind::Release => "careid",
        }
    }
}

/// What went wrong with the keychain. Messages never contain a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeychainError {
    /// No keychain is reachable: no Secret Service on the session bus, or a locked store.
    #[error("the OS keychain is unavailable: {0}")]
    Unavailable(String),
    /// An entry exists and was read correctly, but is not one careid wrote whole, or one of its
    /// parts is missing. Only this error means the entry itself is bad (callers may delete it).
    #[error("the keychain entry {account:?} is damaged")]
    Corrupt { account: String },
    /// The keychain answered, but its answer could not be used: a secret that did not decrypt
    /// under the session's key, or an answer that did not arrive whole. A fault of the keychain
    /// or the bus, not of the entry, which is kept.
    #[error(
        "the OS keychain could not be read for the entry {account:?}; nothing was deleted: \
         try again, and unlock the keychain if it asks"
    )]
    Unreadable { account: String },
    /// The value needs more parts than [`MAX_PARTS`].
    #[error(
        "the value for the keychain entry {account:?} is too long to store \
         ({units} UTF-16 units; at most {max})",
        max = MAX_PARTS * MAX_PART_UTF16_UNITS
    )]
    TooLong { account: String, units: usize },
    /// The keychain refused the operation.
    #[error("the OS keychain failed: {0}")]
    Failed(String),
}

impl KeychainError {
    /// A stable code for callers to branch on (the UI chooses its sentence by code).
    pub fn code(&self) -> &'static str {
        match self {
            KeychainError::Unavailable(_) => "keychain_unavailable",
            KeychainError::Corrupt { .. } => "keychain_corrupt",
            KeychainError::Unreadable { .. } => "keychain_unreadable",
            KeychainError::TooLong { .. } => "keychain_value_too_long",
            KeychainError::Failed(_) => "keychain_failed",
        }
    }
}

/// The OS keychain under one service name. Accounts name what is stored (for example
/// `profile/user/refresh-token`); the service name separates build kinds.
#[derive(Debug, Clone)]
pub struct Keychain {
    service: String,
    backend: Backend,
}

/// Where a [`Keychain`]'s entries live: the OS keychain, or (for tests that are not about the
/// keychain) a map in this process's memory, shared by the clones of one keychain.
#[derive(Clone)]
enum Backend {
    Os,
    Memory(std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, String>>>),
}

/// Entries are secrets: only their number is shown.
impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Backend::Os => f.write_str("Os"),
            Backend::Memory(map) => write!(f, "Memory({} entries)", Self::entries(map).len()),
        }
    }
}

impl Backend {
    fn entries(
        map: &std::sync::Mutex<std::collections::BTreeMap<String, String>>,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, String>> {
        // Each change is one insert or remove, so a poisoned map is still whole.
        map.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self, service: &str, account: &str) -> Result<Option<String>, KeychainError> {
        match self {
            Backend::Os => store::read(service, account),
            Backend::Memory(map) => Ok(Self::entries(map).get(account).cloned()),
        }
    }

    fn write(&self, service: &str, account: &str, value: &str) -> Result<(), KeychainError> {
        match self {
            Backend::Os => store::write(service, account, value),
            Backend::Memory(map) => {
                Self::entries(map).insert(account.to_owned(), value.to_owned());
                Ok(())
            }
        }
    }

    fn delete(&self, service: &str, account: &str) -> Result<(), KeychainError> {
        match self {
            Backend::Os => store::delete(service, account),
            Backend::Memory(map) => {
                Self::entries(map).remove(account);
                Ok(())
            }
        }
    }

    fn accounts(&self, service: &str) -> Result<Option<Vec<String>>, KeychainError> {
        match self {
            Backend::Os => store::accounts(service),
            Backend::Memory(map) => Ok(Some(Self::entries(map).keys().cloned().collect())),
        }
    }

    fn describe(&self) -> String {
        match self {
            Backend::Os => store::describe(),
            Backend::Memory(_) => "in memory (tests only)".to_owned(),
        }
    }

    fn is_os(&self) -> bool {
        matches!(self, Backend::Os)
    }
}

/// What an account's head entry holds.
pub(crate) enum Head {
    Inline(SecretString),
    Split(Header),
}

impl Head {
    pub(crate) fn decode(text: &str) -> Option<Self> {
        match text.strip_prefix(INLINE_PREFIX) {
            Some(value) => Some(Head::Inline(SecretString::new(value.to_owned()))),
            None => Header::decode(text).map(Head::Split),
        }
    }

    pub(crate) fn parts(&self) -> Option<Header> {
        match self {
            Head::Inline(_) => None,
            Head::Split(header) => Some(*header),
        }
    }
}

/// Where a stored value's parts are: which generation, and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) generation: u32,
    pub(crate) parts: usize,
}

impl Header {
    pub(crate) fn encode(self) -> String {
        format!(
            "{HEADER_PREFIX} gen={} parts={}",
            self.generation, self.parts
        )
    }

    /// `None` for anything careid does not write, including a part count of 0 or over
    /// [`MAX_PARTS`].
    pub(crate) fn decode(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(HEADER_PREFIX)?.strip_prefix(" gen=")?;
        let (generation, parts) = rest.split_once(" parts=")?;
        let parts = parts.parse().ok().filter(|n| (1..=MAX_PARTS).contains(n))?;
        Some(Header {
            generation: generation.parse().ok()?,
            parts,
        })
    }
}

impl Keychain {
    /// The keychain of this kind of build.
    pub fn new(build: BuildKind) -> Self {
        Self::with_service(build.service())
    }

    /// A keychain under another service name, so tests and diagnostics never touch a user's
    /// own entries.
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            backend: Backend::Os,
        }
    }

    /// A keychain held in this process's memory, for tests that are not about the keychain:
    /// the same entries, parts and errors as the OS keychain, with nothing leaving the process.
    /// Its clones share its entries. Never used by careid itself.
    pub fn in_memory() -> Self {
        Self {
            service: "careid-in-memory".to_owned(),
            backend: Backend::Memory(Default::default()),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Which store this is and, for Secret Service, whether secrets cross the bus encrypted
    /// (known once an operation has connected).
    pub fn describe_backend(&self) -> String {
        self.backend.describe()
    }

    /// Stores `secret` under `account`, replacing any previous value only once the new one is
    /// whole.
    pub fn store(&self, account: &str, secret: &SecretString) -> Result<(), KeychainError> {
        self.forget_quick_copy(account);
        let value = secret.expose_secret();
        let inline = utf16_units(INLINE_PREFIX) + utf16_units(value) <= MAX_PART_UTF16_UNITS;
        let parts = if inline {
            Vec::new()
        } else {
            split_into_parts(value)
        };
        // Refused before the keychain is touched: a header careid wrote must read back.
        if parts.len() > MAX_PARTS {
            return Err(KeychainError::TooLong {
                account: account.to_owned(),
                units: utf16_units(value),
            });
        }
        // A damaged or unreadable previous head must not stop a fresh value from being stored.
        let previous = self.read_head(account);
        let generation = next_generation(&previous, random_generation);
        let previous = previous.ok().flatten().and_then(|head| head.parts());
        if inline {
            let head = SecretString::new(format!("{INLINE_PREFIX}{value}"));
            self.backend
                .write(&self.service, account, head.expose_secret())?;
        } else {
            for (index, part) in parts.iter().enumerate() {
                self.backend.write(
                    &self.service,
                    &part_account(account, generation, index),
                    part,
                )?;
            }
            let header = Header {
                generation,
                parts: parts.len(),
            };
            self.backend
                .write(&self.service, account, &header.encode())?;
        }
        if let Some(old) = previous {
            self.delete_parts(account, old)?;
        }
        Ok(())
    }

    /// The secret stored under `account`, or `None` when there is none.
    pub fn load(&self, account: &str) -> Result<Option<SecretString>, KeychainError> {
        let header = match self.read_head(account)? {
            None => return Ok(None),
            Some(Head::Inline(value)) => return Ok(Some(value)),
            Some(Head::Split(header)) => header,
        };
        let corrupt = || KeychainError::Corrupt {
            account: account.to_owned(),
        };
        // Sized up front (a UTF-16 unit is at most 3 bytes of UTF-8; the header's part count is
        // bounded), so no partial copy of the secret is left behind by a reallocation.
        let mut value = String::with_capacity(header.parts * MAX_PART_UTF16_UNITS * 3);
        for index in 0..header.parts {
            let part = self.backend.read(
                &self.service,
                &part_account(account, header.generation, index),
            )?;
            let part = part.map(SecretString::new).ok_or_else(corrupt)?;
            if utf16_units(part.expose_secret()) > MAX_PART_UTF16_UNITS {
                return Err(corrupt());
            }
            value.push_str(part.expose_secret());
        }
        Ok(Some(SecretString::new(value)))
    }

    /// Deletes what is stored under `account`. Deleting nothing is not an error.
    pub fn delete(&self, account: &str) -> Result<(), KeychainError> {
        self.forget_quick_copy(account);
        match self.read_head(account) {
            Ok(Some(head)) => {
                if let Some(header) = head.parts() {
                    self.delete_parts(account, header)?;
                }
            }
            Ok(None) => return Ok(()),
            // A damaged header is still deleted, so the account is clean afterwards.
            Err(KeychainError::Corrupt { .. }) => {}
            Err(error) => return Err(error),
        }
        self.backend.delete(&self.service, account)
    }

    /// Whether the keychain can keep a secret now: a small one stored and deleted under an
    /// account of its own. A sign-in asks before the browser opens, so a keychain that cannot
    /// keep the session is said before the user signs in, not after.
    pub fn probe(&self) -> Result<(), KeychainError> {
        let account = format!(
            "probe/{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        );
        let stored = self.store(&account, &SecretString::new("probe".to_owned()));
        // Deleted whatever the store said, so a half-made entry is not left behind.
        let deleted = self.delete(&account);
        stored.and(deleted)
    }

    /// Deletes every entry whose account starts with `prefix`, heads and parts alike, including
    /// parts no head names any more (left by a store that failed half way), except the account
    /// `keep` and its parts. Returns how many were deleted, or `None` where the platform's
    /// keychain cannot be listed.
    pub fn delete_prefixed(
        &self,
        prefix: &str,
        keep: Option<&str>,
    ) -> Result<Option<usize>, KeychainError> {
        let Some(accounts) = self.backend.accounts(&self.service)? else {
            return Ok(None);
        };
        let kept = |account: &str| {
            keep.is_some_and(|keep| {
                account == keep
                    || account
                        .strip_prefix(keep)
                        .is_some_and(|rest| rest.starts_with('#') && is_part_account(account))
            })
        };
        let mut deleted = 0;
        for account in accounts
            .iter()
            .filter(|account| account.starts_with(prefix) && !kept(account))
        {
            self.forget_quick_copy(account);
            self.backend.delete(&self.service, account)?;
            deleted += 1;
        }
        Ok(Some(deleted))
    }

    /// Keeps a quick copy of `secret`, just stored under or read from `account`, for at most
    /// `life`, tagged `tag`: on Linux in the kernel's key retention service, readable by this
    /// user alone (see [`kernel_copy`]); elsewhere nothing. The copy is dropped by any store or
    /// delete of `account`, so it is never other than the keychain's value; `tag` tells a copy
    /// of an earlier value apart (a value replaced by another process's session, say).
    /// Failing is not an error (the keychain holds the value): the reason is for diagnostics.
    pub fn keep_quick_copy(
        &self,
        account: &str,
        tag: &str,
        secret: &SecretString,
        life: Duration,
    ) -> Result<(), String> {
        if !self.backend.is_os() {
            return Err("an in-memory keychain keeps no quick copy".to_owned());
        }
        kernel_copy::keep(&self.service, account, tag, secret, life)
    }

    /// The quick copy of `account` kept under `tag`, if there is one; `None` means "read the
    /// keychain", never "no value".
    pub fn quick_copy(&self, account: &str, tag: &str) -> Option<SecretString> {
        self.backend
            .is_os()
            .then(|| kernel_copy::read(&self.service, account, tag))
            .flatten()
    }

    fn forget_quick_copy(&self, account: &str) {
        if self.backend.is_os() {
            kernel_copy::forget(&self.service, account);
        }
    }

    /// The accounts that start with `prefix` and hold a value (heads, not the parts of a split
    /// value), or `None` where the platform's keychain cannot be listed.
    pub fn accounts_with_prefix(&self, prefix: &str) -> Result<Option<Vec<String>>, KeychainError> {
        Ok(self.backend.accounts(&self.service)?.map(|accounts| {
            accounts
                .into_iter()
                .filter(|account| account.starts_with(prefix) && !is_part_account(account))
                .collect()
        }))
    }

    fn read_head(&self, account: &str) -> Result<Option<Head>, KeychainError> {
        let Some(text) = self.backend.read(&self.service, account)? else {
            return Ok(None);
        };
        let text = SecretString::new(text);
        Head::decode(text.expose_secret())
            .map(Some)
            .ok_or_else(|| KeychainError::Corrupt {
                account: account.to_owned(),
            })
    }

    fn delete_parts(&self, account: &str, header: Header) -> Result<(), KeychainError> {
        for index in 0..header.parts {
            self.backend.delete(
                &self.service,
                &part_account(account, header.generation, index),
            )?;
        }
        Ok(())
    }
}

/// The generation a new split value is written under: the one after the head's. When the head
/// could not be read, the generation in use is unknown, and overwriting its parts would leave a
/// value made of two (if the store then failed half way), so a random one is taken instead: the
/// old parts become strays that `delete_prefixed` sweeps.
fn next_generation(
    previous: &Result<Option<Head>, KeychainError>,
    random: impl FnOnce() -> u32,
) -> u32 {
    match previous {
        Ok(Some(head)) => head
            .parts()
            .map_or(0, |header| header.generation.wrapping_add(1)),
        Ok(None) => 0,
        Err(_) => random(),
    }
}

fn random_generation() -> u32 {
    use aws_lc_rs::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0; 4];
    // The OS generator does not fail in practice; a fixed value would still be a correct store.
    let _ = SystemRandom::new().fill(&mut bytes);
    u32::from_le_bytes(bytes)
}

pub(crate) fn part_account(account: &str, generation: u32, index: usize) -> String {
    format!("{account}#{generation}.{index}")
}

/// Whether `account` names a part of a split value: `ACCOUNT#GENERATION.INDEX`.
pub(crate) fn is_part_account(account: &str) -> bool {
    let Some((_, suffix)) = account.rsplit_once('#') else {
        return false;
    };
    let Some((generation, index)) = suffix.split_once('.') else {
        return false;
    };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    digits(generation) && digits(index)
}

pub(crate) fn utf16_units(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Splits on character boundaries so that no part exceeds [`MAX_PART_UTF16_UNITS`]. An empty
/// value is one empty part, so it round-trips.
pub(crate) fn split_into_parts(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut units = 0;
    for (offset, character) in value.char_indices() {
        if units + character.len_utf16() > MAX_PART_UTF16_UNITS {
            parts.push(&value[start..offset]);
            start = offset;
            units = 0;
        }
        units += character.len_utf16();
    }
    parts.push(&value[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_generation_never_writes_over_parts_that_may_be_in_use() {
        let split = |generation| {
            Ok(Some(Head::Split(Header {
                generation,
                parts: 2,
            })))
        };
        let never = || panic!("no random generation needed");
        assert_eq!(next_generation(&split(7), never), 8);
        assert_eq!(next_generation(&split(u32::MAX), never), 0);
        assert_eq!(next_generation(&Ok(None), never), 0);
        let inline = Ok(Some(Head::Inline(SecretString::new("v".into()))));
        assert_eq!(next_generation(&inline, never), 0);
        // The head could not be read: the generation in use is unknown, so not 0 or 1 by rule.
        for fault in [
            KeychainError::Corrupt {
                account: "a".into(),
            },
            KeychainError::Unreadable {
                account: "a".into(),
            },
        ] {
            assert_eq!(next_generation(&Err(fault), || 0xdead_beef), 0xdead_beef);
        }
        assert_ne!(random_generation(), random_generation());
    }

    #[test]
    fn split_respects_the_windows_limit_and_rejoins() {
        let cases: &[(&str, String)] = &[
            ("empty", String::new()),
            ("short", "abc".to_owned()),
            ("exactly one part", "a".repeat(MAX_PART_UTF16_UNITS)),
            ("one over", "a".repeat(MAX_PART_UTF16_UNITS + 1)),
            ("4 KiB token", "x".repeat(4096)),
            ("astral characters", "𝄞".repeat(MAX_PART_UTF16_UNITS)),
        ];
        for (name, value) in cases {
            let parts = split_into_parts(value);
            assert!(!parts.is_empty(), "{name}");
            for part in &parts {
                let units: usize = part.chars().map(char::len_utf16).sum();
                assert!(
                    units <= MAX_PART_UTF16_UNITS,
                    "{name}: part of {units} units"
                );
                assert!(part.encode_utf16().count() * 2 <= 2_560, "{name}");
            }
            assert_eq!(parts.concat(), *value, "{name}");
        }
    }

    #[test]
    fn header_round_trips_and_refuses_foreign_values() {
        let header = Header {
            generation: 7,
            parts: 4,
        };
        assert_eq!(Header::decode(&header.encode()), Some(header));
        assert_eq!(
            Head::decode(&header.encode()).and_then(|head| head.parts()),
            Some(header)
        );
        match Head::decode(&format!("{INLINE_PREFIX}a token with spaces ")) {
            Some(Head::Inline(value)) => assert_eq!(value.expose_secret(), "a token with spaces "),
            _ => panic!("an inline head holds its value"),
        }
        for foreign in [
            "",
            "a-refresh-token",
            "careid-secret/1 gen=x parts=1",
            "careid-secret/1",
            "careid-secret/1 inline",
            "careid-secret/2 inline value",
        ] {
            assert_eq!(Header::decode(foreign), None, "{foreign}");
            assert!(Head::decode(foreign).is_none(), "{foreign}");
        }
    }

    #[test]
    fn headers_claiming_no_parts_or_too_many_are_damaged() {
        let header = |parts: &str| format!("{HEADER_PREFIX} gen=0 parts={parts}");
        for (parts, expect) in [
            ("1", Some(1)),
            ("64", Some(MAX_PARTS)),
            ("0", None),
            ("65", None),
            ("4294967296", None),
            ("18446744073709551615", None),
            ("18446744073709551616", None),
            ("-1", None),
            ("1e300", None),
            ("", None),
        ] {
            assert_eq!(
                Header::decode(&header(parts)).map(|header| header.parts),
                expect,
                "parts={parts}"
            );
            assert_eq!(
                Head::decode(&header(parts)).is_some(),
                expect.is_some(),
                "parts={parts}"
            );
        }
        for generation in ["4294967296", "-1", "x"] {
            let text = format!("{HEADER_PREFIX} gen={generation} parts=2");
            assert_eq!(Header::decode(&text), None, "gen={generation}");
        }
    }

    #[test]
    fn a_value_longer_than_the_parts_allowed_is_refused_before_the_keychain() {
        // Refused before any keychain call, so this needs no keychain.
        let keychain = Keychain::with_service("careid-unit-test-never-written");
        let longest = "x".repeat(MAX_PARTS * MAX_PART_UTF16_UNITS);
        assert_eq!(split_into_parts(&longest).len(), MAX_PARTS);
        let error = keychain
            .store("a", &SecretString::new(format!("{longest}x")))
            .expect_err("too long");
        assert_eq!(error.code(), "keychain_value_too_long");
        assert!(!error.to_string().contains("xxxx"), "{error}");
    }

    /// The in-memory keychain keeps values as the OS keychain does (whole or in parts), its
    /// clones share them, and it keeps no quick copy another keychain could see.
    #[test]
    fn the_in_memory_keychain_keeps_values_like_the_os_keychain() {
        let keychain = Keychain::in_memory();
        let other = Keychain::in_memory();
        let long = SecretString::new("x".repeat(MAX_PART_UTF16_UNITS * 3 + 7));
        let short = SecretString::new("short".to_owned());
        keychain.store("p/u/refresh-token", &long).expect("stored");
        keychain.store("p/u/id-token", &short).expect("stored");
        let clone = keychain.clone();
        assert_eq!(clone.load("p/u/refresh-token").expect("read"), Some(long));
        assert_eq!(other.load("p/u/id-token").expect("read"), None);
        assert_eq!(
            keychain.accounts_with_prefix("p/u/").expect("listed"),
            Some(vec![
                "p/u/id-token".to_owned(),
                "p/u/refresh-token".to_owned()
            ])
        );
        assert!(keychain
            .keep_quick_copy("p/u/id-token", "1", &short, Duration::from_secs(60))
            .is_err());
        assert_eq!(keychain.quick_copy("p/u/id-token", "1"), None);
        keychain.delete_prefixed("p/", None).expect("deleted");
        assert_eq!(clone.load("p/u/refresh-token").expect("read"), None);
        assert!(keychain.describe_backend().contains("memory"));
        keychain.store("p/u/refresh-token", &short).expect("stored");
        assert!(!format!("{keychain:?}").contains("short"), "{keychain:?}");
    }

    #[test]
    fn build_kinds_use_separate_services() {
        assert_ne!(
            Keychain::new(BuildKind::Debug).service(),
            Keychain::new(BuildKind::Release).service()
        );
    }

    #[test]
    fn part_accounts_are_told_from_heads() {
        for part in [
            "a#0.0",
            "session/mock/555/refresh-token#12.3",
            "x#y#4294967295.17",
        ] {
            assert!(is_part_account(part), "{part}");
        }
        for head in [
            "a",
            "session/mock/555/refresh-token",
            "a#",
            "a#1",
            "a#1.",
            "a#.1",
            "a#1.x",
            "a#-1.0",
            "a#1.0.0",
        ] {
            assert!(!is_part_account(head), "{head}");
        }
    }
}
