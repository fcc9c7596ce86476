//! Refresh handles: the broker never hands a CIS2 refresh token to a desktop. It answers with the
//! token sealed (AES-256-GCM) under a key only the broker holds and bound to the desktop's DPoP key
//! (RFC 9449; the binding is that key's RFC 7638 thumbprint), and opens the handle when it comes
//! back. A copied handle is of no use without that DPoP key, nor anywhere but at the broker.
//!
//! A handle is URL- and header-safe text:
//!
//! ```text
//! cr1.<key id>.<base64url(nonce || ciphertext || tag)>
//! ```
//!
//! - `cr1`: the format's version.
//! - key id: 11 base64url characters, the first 8 bytes of SHA-256 over a domain label and the key
//!   file's secret. It names the key that sealed the handle, so a retiring key still opens its
//!   handles and no numbering of key versions has to be kept.
//! - nonce: 12 random bytes. Random nonces under one key are safe for far more handles than a
//!   broker seals between key changes (NIST SP 800-38D §8.3: 2^32).
//! - ciphertext: SHA-256 over a domain label and the binding (32 bytes); the user's `sub` as
//!   the provider's ID token named it, after one byte of its length (0: none), so a refresh is
//!   counted against its user's budget before it reaches the provider; then the refresh token.
//! - tag: 16 bytes; the associated data is a domain label and the key id.
//!
//! The binding is sealed inside rather than given as associated data so that a handle shown with
//! another DPoP key (`wrong_binding`, a stolen handle) is told apart from a damaged one
//! (`tampered`) in the audit log: as associated data, both would fail the same tag check.
//!
//! The keys ([`HandleKeys`]) come from owner-only files, the current key first and retiring keys
//! after it. Each file's 32 random bytes give, by HKDF-SHA256 (RFC 5869) with distinct labels, the
//! handle key and the DPoP nonce key of [`crate::dpop_nonce`], so one list of files rotates both.

use std::fmt;
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{Aad, Nonce, RandomizedNonceKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::{digest, hkdf, hmac};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use careid_oidc::secret::constant_time_eq;
use careid_oidc::{RefreshToken, SecretString};
use zeroize::Zeroizing;

use crate::credential::{read_private, CredentialError};

/// The length of a key file's secret, in bytes.
pub const KEY_LEN: usize = 32;

/// The longest refresh token [`HandleKeys::seal`] takes, in bytes: far above any CIS2 issues,
/// and it keeps every handle within [`MAX_HANDLE_LEN`].
pub const MAX_REFRESH_TOKEN_LEN: usize = 12 * 1024;

/// The longest handle [`HandleKeys::open`] reads: the longest that sealing can make. Anything
/// longer is refused before it is decoded.
pub const MAX_HANDLE_LEN: usize = PREFIX.len()
    + KEY_ID_CHARS
    + 1
    + ((NONCE_LEN + BINDING_DIGEST_LEN + 1 + MAX_SUBJECT_LEN + MAX_REFRESH_TOKEN_LEN + TAG_LEN)
        * 4)
    .div_ceil(3);
/// The longest `sub` a handle carries; a longer one is not carried (its user's budget is then
/// not counted, the rest holds).
pub const MAX_SUBJECT_LEN: usize = 255;

const PREFIX: &str = "cr1.";
const KEY_ID_BYTES: usize = 8;
/// Base64url without padding of [`KEY_ID_BYTES`].
const KEY_ID_CHARS: usize = (KEY_ID_BYTES * 4).div_ceil(3);
const BINDING_DIGEST_LEN: usize = 32;
const TAG_LEN: usize = 16;

// Domain labels: each derived value is tied to its one use, so no two uses can share a value.
const HKDF_SALT: &[u8] = b"careid-broker key file v1";
const HANDLE_KEY_INFO: &[u8] = b"careid-broker refresh handle aes-256-gcm v1";
const NONCE_KEY_INFO: &[u8] = b"careid-broker dpop nonce hmac-sha256 v1";
const KEY_ID_LABEL: &[u8] = b"careid-broker key id v1\0";
const HANDLE_AAD_LABEL: &[u8] = b"careid-broker refresh handle cr1\0";
const BINDING_LABEL: &[u8] = b"careid-broker refresh handle binding v1\0";

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// The list of key files is empty.
    #[error("no handle key file is configured: at least one is needed")]
    NoKeyFiles,
    /// A key file cannot be read.
    #[error("cannot read the handle key file {path}: {source}")]
    KeyFileUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A key file others can read (Unix).
    #[error(
        "the handle key file {path} can be read by other users (mode {mode:o}): \
         make it readable by the broker's user only (chmod 600)"
    )]
    KeyFileNotPrivate { path: PathBuf, mode: u32 },
    /// A key file that does not hold exactly one key. The message never quotes the file.
    #[error(
        "the handle key file {path} holds no usable key: it must hold 32 random bytes written as \
         64 hex characters or 43 base64url characters (`openssl rand -hex 32`)"
    )]
    KeyFileInvalid { path: PathBuf },
    /// A key file holding the same key as one listed before it: a rotation half done.
    #[error("the handle key file {path} holds the same key as a file listed before it")]
    DuplicateKey { path: PathBuf },
    /// A refresh token longer than [`MAX_REFRESH_TOKEN_LEN`].
    #[error("the refresh token is longer than a handle carries ({MAX_REFRESH_TOKEN_LEN} bytes)")]
    TokenTooLong,
    /// An empty binding: a handle is always bound to a DPoP key.
    #[error("a refresh handle must be bound to a DPoP key, and the binding is empty")]
    NoBinding,
    /// The cipher failed (its random source): nothing about the token.
    #[error("the refresh handle could not be sealed")]
    SealFailed,
    /// A handle longer than [`MAX_HANDLE_LEN`], refused before decoding.
    #[error("the refresh handle is longer than any the broker issues")]
    TooLong,
    /// Not `cr1.<key id>.<base64url>` with room for a nonce, a binding and a tag.
    #[error("the refresh handle is not in the broker's format")]
    Malformed,
    /// Sealed under a key not in the list (a retired key removed, or another broker's).
    #[error("the refresh handle was sealed under a key the broker does not hold")]
    UnknownKey,
    /// Sealed for another DPoP key than the one the request proves.
    #[error("the refresh handle is bound to another DPoP key")]
    WrongBinding,
    /// Its tag does not verify: changed since it was sealed.
    #[error("the refresh handle fails its integrity check")]
    Tampered,
}

impl HandleError {
    /// A stable short reason, for audit logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoKeyFiles => "no_key_files",
            Self::KeyFileUnreadable { .. } => "key_file_unreadable",
            Self::KeyFileNotPrivate { .. } => "key_file_not_private",
            Self::KeyFileInvalid { .. } => "key_file_invalid",
            Self::DuplicateKey { .. } => "duplicate_key",
            Self::TokenTooLong => "token_too_long",
            Self::NoBinding => "no_binding",
            Self::SealFailed => "seal_failed",
            Self::TooLong => "too_long",
            Self::Malformed => "malformed",
            Self::UnknownKey => "unknown_key",
            Self::WrongBinding => "wrong_binding",
            Self::Tampered => "tampered",
        }
    }
}

/// A sealed refresh token, as the desktop holds it. Kept as a secret (redacted `Debug`, no
/// `Display`, wiped when dropped) though it is weaker than the token it carries.
#[derive(PartialEq, Eq)]
pub struct RefreshHandle(SecretString);

impl RefreshHandle {
    /// The handle itself: call only where it leaves for the wire.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// The handle as a secret of no particular kind.
    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

impl fmt::Debug for RefreshHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshHandle([redacted])")
    }
}

/// An opened handle.
#[derive(Debug)]
pub struct Opened {
    pub refresh_token: RefreshToken,
    /// The user the handle was sealed for, when the provider's answer named one.
    pub subject: Option<String>,
    /// False for a handle sealed under a retiring key: the caller seals the token again under
    /// the current key in its answer, so rotation re-wraps handles as they come back.
    pub under_current_key: bool,
}

/// The broker's wrapping keys: the current key first, then retiring ones.
pub struct HandleKeys {
    /// Never empty.
    keys: Vec<WrappingKey>,
}

struct WrappingKey {
    id: String,
    handle_key: RandomizedNonceKey,
    nonce_key: hmac::Key,
}

impl HandleKeys {
    /// Reads the key files, the current key's first. Each must be readable by the broker's user
    /// only and hold 32 random bytes as 64 hex or 43 base64url characters (surrounding
    /// whitespace ignored).
    pub fn load(files: &[PathBuf]) -> Result<Self, HandleError> {
        if files.is_empty() {
            return Err(HandleError::NoKeyFiles);
        }
        let mut keys: Vec<WrappingKey> = Vec::with_capacity(files.len());
        for path in files {
            let text = read_key_file(path)?;
            let secret = parse_key(text.expose_secret())
                .ok_or_else(|| HandleError::KeyFileInvalid { path: path.clone() })?;
            let key = WrappingKey::derive(&secret);
            if keys.iter().any(|earlier| earlier.id == key.id) {
                return Err(HandleError::DuplicateKey { path: path.clone() });
            }
            keys.push(key);
        }
        Ok(Self { keys })
    }

    /// Keys from secrets in hand, for tests: `current` seals, `retiring` only open.
    pub fn from_secrets(current: &[u8; KEY_LEN], retiring: &[[u8; KEY_LEN]]) -> Self {
        let keys = std::iter::once(current)
            .chain(retiring)
            .map(WrappingKey::derive)
            .collect();
        Self { keys }
    }

    /// The keys' ids, the current key's first: for the log at start, never secret.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|key| key.id.as_str())
    }

    /// Seals `refresh_token` under the current key, bound to `binding` (the DPoP key's RFC 7638
    /// thumbprint).
    pub fn seal(
        &self,
        refresh_token: &RefreshToken,
        binding: &str,
        subject: Option<&str>,
    ) -> Result<RefreshHandle, HandleError> {
        if binding.is_empty() {
            return Err(HandleError::NoBinding);
        }
        let token = refresh_token.expose_secret().as_bytes();
        if token.len() > MAX_REFRESH_TOKEN_LEN {
            return Err(HandleError::TokenTooLong);
        }
        let key = self.current();
        // Sized up front so the plaintext is never left behind in a reallocated buffer.
        let subject = subject
            .map(str::as_bytes)
            .filter(|subject| subject.len() <= MAX_SUBJECT_LEN)
            .unwrap_or_default();
        let mut sealed = Zeroizing::new(Vec::with_capacity(
            BINDING_DIGEST_LEN + 1 + subject.len() + token.len(),
        ));
        sealed.extend_from_slice(binding_digest(binding).as_ref());
        // At most MAX_SUBJECT_LEN, so it fits its byte.
        sealed.push(u8::try_from(subject.len()).unwrap_or(0));
        sealed.extend_from_slice(subject);
        sealed.extend_from_slice(token);
        let (nonce, tag) = key
            .handle_key
            .seal_in_place_separate_tag(Aad::from(associated_data(&key.id)), &mut sealed)
            .map_err(|_| HandleError::SealFailed)?;
        let mut bytes = Vec::with_capacity(NONCE_LEN + sealed.len() + TAG_LEN);
        bytes.extend_from_slice(nonce.as_ref());
        bytes.extend_from_slice(&sealed);
        bytes.extend_from_slice(tag.as_ref());
        let handle = format!("{PREFIX}{}.{}", key.id, URL_SAFE_NO_PAD.encode(bytes));
        Ok(RefreshHandle(SecretString::new(handle)))
    }

    /// Opens a handle from the network, shown with the DPoP key whose thumbprint is `binding`.
    pub fn open(&self, handle: &str, binding: &str) -> Result<Opened, HandleError> {
        if handle.len() > MAX_HANDLE_LEN {
            return Err(HandleError::TooLong);
        }
        let (key_id, body) = handle
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('.'))
            .ok_or(HandleError::Malformed)?;
        let (index, key) = self
            .keys
            .iter()
            .enumerate()
            .find(|(_, key)| key.id == key_id)
            .ok_or(HandleError::UnknownKey)?;
        let mut bytes = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(body)
                .map_err(|_| HandleError::Malformed)?,
        );
        if bytes.len() < NONCE_LEN + BINDING_DIGEST_LEN + 1 + TAG_LEN {
            return Err(HandleError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at_mut(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| HandleError::Malformed)?;
        let plaintext = key
            .handle_key
            .open_in_place(nonce, Aad::from(associated_data(&key.id)), sealed)
            .map_err(|_| HandleError::Tampered)?;
        // The length check above leaves at least the digest and a length once the tag is off.
        let (digest, rest) = plaintext.split_at(BINDING_DIGEST_LEN);
        if !constant_time_eq(digest, binding_digest(binding).as_ref()) {
            return Err(HandleError::WrongBinding);
        }
        let (length, rest) = rest.split_first().ok_or(HandleError::Tampered)?;
        let (subject, token) = rest
            .split_at_checked(usize::from(*length))
            .ok_or(HandleError::Tampered)?;
        // Only `seal` makes a handle that verifies, and it seals strings.
        let subject = std::str::from_utf8(subject).map_err(|_| HandleError::Tampered)?;
        let token = std::str::from_utf8(token).map_err(|_| HandleError::Tampered)?;
        Ok(Opened {
            refresh_token: RefreshToken::new(token.to_owned()),
            subject: (!subject.is_empty()).then(|| subject.to_owned()),
            under_current_key: index == 0,
        })
    }

    /// The DPoP nonce keys, in the same order as the handle keys.
    pub(crate) fn nonce_keys(&self) -> impl Iterator<Item = &hmac::Key> {
        self.keys.iter().map(|key| &key.nonce_key)
    }

    fn current(&self) -> &WrappingKey {
        // `load` and `from_secrets` never make an empty list.
        &self.keys[0]
    }
}

impl fmt::Debug for HandleKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandleKeys")
            .field("key_ids", &self.key_ids().collect::<Vec<_>>())
            .finish()
    }
}

impl WrappingKey {
    fn derive(secret: &[u8; KEY_LEN]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, HKDF_SALT).extract(secret);
        let expand = |info: &[u8]| {
            let mut out = Zeroizing::new([0u8; KEY_LEN]);
            prk.expand(&[info], hkdf::HKDF_SHA256)
                .and_then(|okm| okm.fill(out.as_mut_slice()))
                .expect("32 bytes is HKDF-SHA256's output length");
            out
        };
        let handle_key = RandomizedNonceKey::new(&AES_256_GCM, expand(HANDLE_KEY_INFO).as_ref())
            .expect("32 bytes is AES-256's key length");
        let nonce_key = hmac::Key::new(hmac::HMAC_SHA256, expand(NONCE_KEY_INFO).as_ref());
        let mut id_input = Zeroizing::new(Vec::with_capacity(KEY_ID_LABEL.len() + KEY_LEN));
        id_input.extend_from_slice(KEY_ID_LABEL);
        id_input.extend_from_slice(secret);
        let id_digest = digest::digest(&digest::SHA256, &id_input);
        Self {
            id: URL_SAFE_NO_PAD.encode(&id_digest.as_ref()[..KEY_ID_BYTES]),
            handle_key,
            nonce_key,
        }
    }
}

fn associated_data(key_id: &str) -> Vec<u8> {
    [HANDLE_AAD_LABEL, key_id.as_bytes()].concat()
}

fn binding_digest(binding: &str) -> digest::Digest {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(BINDING_LABEL);
    context.update(binding.as_bytes());
    context.finish()
}

fn read_key_file(path: &Path) -> Result<SecretString, HandleError> {
    read_private(path).map_err(|error| match error {
        CredentialError::NotPrivate { path, mode } => HandleError::KeyFileNotPrivate { path, mode },
        // Text that is not UTF-8 is a file of the wrong contents, not one that cannot be read.
        CredentialError::Read { path, source }
            if source.kind() == std::io::ErrorKind::InvalidData =>
        {
            HandleError::KeyFileInvalid { path }
        }
        CredentialError::Read { path, source } => HandleError::KeyFileUnreadable { path, source },
        // `read_private` judges no contents, so these do not arise; their messages quote none.
        other @ (CredentialError::Key { .. } | CredentialError::Empty { .. }) => {
            HandleError::KeyFileUnreadable {
                path: path.to_path_buf(),
                source: std::io::Error::other(other.to_string()),
            }
        }
    })
}

/// A key file's secret: 64 hex or 43 base64url characters, surrounding whitespace ignored.
fn parse_key(text: &str) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let text = text.trim();
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    match text.len() {
        64 => {
            for (byte, pair) in key.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
                *byte = hex_digit(pair[0])? << 4 | hex_digit(pair[1])?;
            }
        }
        43 => {
            let written = URL_SAFE_NO_PAD
                .decode_slice(text, key.as_mut_slice())
                .ok()?;
            if written != KEY_LEN {
                return None;
            }
        }
        _ => return None,
    }
    Some(key)
}

fn hex_digit(character: u8) -> Option<u8> {
    match character {
        b'0'..=b'9' => Some(character - b'0'),
        b'a'..=b'f' => Some(character - b'a' + 10),
        b'A'..=b'F' => Some(character - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const CURRENT: [u8; KEY_LEN] = [7; KEY_LEN];
    const RETIRING: [u8; KEY_LEN] = [9; KEY_LEN];
    const BINDING: &str = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs";
    const OTHER_BINDING: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";
    const TOKEN: &str = "cis2-refresh-token-3f9a1c";

    fn token() -> RefreshToken {
        RefreshToken::new(TOKEN.to_owned())
    }

    fn keys() -> HandleKeys {
        HandleKeys::from_secrets(&CURRENT, &[RETIRING])
    }

    fn file(dir: &Path, name: &str, contents: &[u8], mode: u32) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// Opens `handle` with `keys`, expecting the error `code`, whose message must not repeat
    /// the handle.
    fn check_refused(keys: &HandleKeys, handle: &str, binding: &str, code: &str) {
        let error = keys.open(handle, binding).unwrap_err();
        assert_eq!(error.code(), code, "{error}");
        let message = error.to_string();
        assert!(handle.is_empty() || !message.contains(handle), "{message}");
        assert!(!message.contains(TOKEN), "{message}");
    }

    #[test]
    fn a_handle_opens_to_its_token_with_its_binding() {
        let keys = keys();
        let handle = keys.seal(&token(), BINDING, None).unwrap();
        let text = handle.expose_secret();
        let current_id = keys.key_ids().next().unwrap();
        assert!(text.starts_with(&format!("cr1.{current_id}.")), "{text}");
        assert_eq!(current_id.len(), KEY_ID_CHARS);
        assert!(!text.contains(TOKEN));
        let opened = keys.open(text, BINDING).unwrap();
        assert_eq!(opened.refresh_token.expose_secret(), TOKEN);
        assert!(opened.under_current_key);
        // A fresh nonce each time: two seals of one token differ.
        assert_ne!(keys.seal(&token(), BINDING, None).unwrap(), handle);
    }

    #[test]
    fn a_handle_shown_with_another_binding_is_refused() {
        let keys = keys();
        let handle = keys.seal(&token(), BINDING, None).unwrap();
        for binding in [OTHER_BINDING, "", &BINDING[1..], &format!("{BINDING}x")] {
            check_refused(&keys, handle.expose_secret(), binding, "wrong_binding");
        }
    }

    #[test]
    fn every_flipped_byte_is_refused_as_tampered() {
        let keys = keys();
        let handle = keys.seal(&token(), BINDING, None).unwrap();
        let (head, body) = handle.expose_secret().rsplit_once('.').unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(body).unwrap();
        for index in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[index] ^= 0x01;
            let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode(flipped));
            check_refused(&keys, &forged, BINDING, "tampered");
        }
        let shortened = format!(
            "{head}.{}",
            URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() - 1])
        );
        check_refused(&keys, &shortened, BINDING, "tampered");
    }

    #[test]
    fn a_handle_under_a_removed_key_is_refused_as_unknown() {
        let handle = keys().seal(&token(), BINDING, None).unwrap();
        let after_rotation = HandleKeys::from_secrets(&[3; KEY_LEN], &[RETIRING]);
        check_refused(
            &after_rotation,
            handle.expose_secret(),
            BINDING,
            "unknown_key",
        );
    }

    #[test]
    fn a_handle_under_a_retiring_key_opens_and_is_sealed_again_under_the_current() {
        let before = HandleKeys::from_secrets(&RETIRING, &[]);
        let handle = before.seal(&token(), BINDING, None).unwrap();
        let after = keys();
        let opened = after.open(handle.expose_secret(), BINDING).unwrap();
        assert!(!opened.under_current_key);
        assert_eq!(opened.refresh_token.expose_secret(), TOKEN);

        let resealed = after.seal(&opened.refresh_token, BINDING, None).unwrap();
        let current_id = after.key_ids().next().unwrap();
        assert!(resealed
            .expose_secret()
            .starts_with(&format!("cr1.{current_id}.")));
        assert!(
            after
                .open(resealed.expose_secret(), BINDING)
                .unwrap()
                .under_current_key
        );
    }

    /// A handle sealed by this version: changing the format, the labels or the key derivation
    /// would strand every handle desktops hold, so it must still open.
    #[test]
    fn a_handle_sealed_by_this_format_still_opens() {
        let keys = HandleKeys::from_secrets(&CURRENT, &[]);
        assert_eq!(keys.key_ids().collect::<Vec<_>>(), ["L7dljeD2dto"]);
        let sealed = "cr1.L7dljeD2dto.ZaCnsJjS-l-Ob1qJAM0HZ9GopSxd5_0lmqXkC0mg7qG-jlfSAPfMpSk5x3l1\
                      8aUPo-D8_sBbmGFgwScQaTIOU4wxzEJLWxNpYQUwAHZR7uRtMyudPhZhcDKTs3VwGcgPGtc";
        let opened = keys.open(sealed, BINDING).unwrap();
        assert_eq!(opened.refresh_token.expose_secret(), TOKEN);
        assert_eq!(opened.subject.as_deref(), Some("555057896106"));
    }

    #[test]
    fn a_handle_carries_its_users_sub_when_there_is_one_that_fits() {
        let keys = keys();
        for (subject, carried) in [
            (Some("555057896106"), Some("555057896106")),
            (None, None),
            (Some(""), None),
        ] {
            let handle = keys.seal(&token(), BINDING, subject).unwrap();
            let opened = keys.open(handle.expose_secret(), BINDING).unwrap();
            assert_eq!(opened.subject.as_deref(), carried, "{subject:?}");
            assert_eq!(opened.refresh_token.expose_secret(), TOKEN);
        }
        let long = "9".repeat(MAX_SUBJECT_LEN + 1);
        let handle = keys.seal(&token(), BINDING, Some(&long)).unwrap();
        let opened = keys.open(handle.expose_secret(), BINDING).unwrap();
        assert_eq!(opened.subject, None, "too long to carry: not carried");
    }

    #[test]
    fn garbage_and_huge_handles_are_refused_without_panicking() {
        let keys = keys();
        let id = keys.key_ids().next().unwrap().to_owned();
        let valid = keys.seal(&token(), BINDING, None).unwrap();
        let body = valid.expose_secret().rsplit_once('.').unwrap().1.to_owned();
        let cases: &[(String, &str)] = &[
            (String::new(), "malformed"),
            ("cr1".into(), "malformed"),
            ("cr1.".into(), "malformed"),
            ("cr1..".into(), "unknown_key"),
            (format!("cr2.{id}.{body}"), "malformed"),
            (format!("CR1.{id}.{body}"), "malformed"),
            (format!("cr1.{id}"), "malformed"),
            (format!("cr1.{id}."), "malformed"),
            (format!("cr1.{id}.AAAA"), "malformed"),
            (format!("cr1.{id}.{}", &body[..20]), "malformed"),
            (format!("cr1.{id}.{body}="), "malformed"),
            (format!("cr1.{id}.{body}.x"), "malformed"),
            (format!("cr1.{id}.+{body}"), "malformed"),
            (format!("cr1.{id}.é{body}"), "malformed"),
            (format!("cr1.{id}x.{body}"), "unknown_key"),
            (format!("cr1.é.{body}"), "unknown_key"),
            ("cr1.\0.\0".into(), "unknown_key"),
            (
                format!("cr1.{id}.{}", "A".repeat(MAX_HANDLE_LEN)),
                "too_long",
            ),
            ("é".repeat(MAX_HANDLE_LEN), "too_long"),
            (".".repeat(MAX_HANDLE_LEN + 1), "too_long"),
        ];
        for (handle, code) in cases {
            check_refused(&keys, handle, BINDING, code);
        }
    }

    #[test]
    fn the_longest_token_seals_and_opens_and_a_longer_one_is_refused() {
        let keys = keys();
        let longest = RefreshToken::new("t".repeat(MAX_REFRESH_TOKEN_LEN));
        let handle = keys.seal(&longest, BINDING, None).unwrap();
        assert!(handle.expose_secret().len() <= MAX_HANDLE_LEN);
        assert_eq!(
            keys.open(handle.expose_secret(), BINDING)
                .unwrap()
                .refresh_token,
            longest
        );
        let longer = RefreshToken::new("t".repeat(MAX_REFRESH_TOKEN_LEN + 1));
        let error = keys.seal(&longer, BINDING, None).unwrap_err();
        assert_eq!(error.code(), "token_too_long");
        let error = keys.seal(&token(), "", None).unwrap_err();
        assert_eq!(error.code(), "no_binding");
    }

    #[test]
    fn nothing_secret_is_printed() {
        let keys = keys();
        let handle = keys.seal(&token(), BINDING, None).unwrap();
        assert_eq!(format!("{handle:?}"), "RefreshHandle([redacted])");
        let opened = keys.open(handle.expose_secret(), BINDING).unwrap();
        assert!(!format!("{opened:?}").contains(TOKEN));
        let printed = format!("{keys:?}");
        assert!(printed.starts_with("HandleKeys { key_ids: ["), "{printed}");
    }

    #[test]
    fn key_files_are_read_as_hex_or_base64url_and_give_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let hex: String = CURRENT.iter().map(|byte| format!("{byte:02X}")).collect();
        let current = file(
            dir.path(),
            "current",
            format!("  {hex}\n").as_bytes(),
            0o600,
        );
        let retiring_text = format!("\n{}\r\n", URL_SAFE_NO_PAD.encode(RETIRING));
        let retiring = file(dir.path(), "retiring", retiring_text.as_bytes(), 0o400);
        let loaded = HandleKeys::load(&[current, retiring]).unwrap();
        assert!(loaded.key_ids().eq(keys().key_ids()));

        let handle = keys().seal(&token(), BINDING, None).unwrap();
        assert!(loaded.open(handle.expose_secret(), BINDING).is_ok());
    }

    #[test]
    fn a_key_file_others_can_read_is_refused_naming_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let hex = "ab".repeat(KEY_LEN);
        for mode in [0o640, 0o604, 0o644, 0o660] {
            let path = file(dir.path(), "key", hex.as_bytes(), mode);
            let error = HandleKeys::load(&[path]).unwrap_err();
            assert_eq!(error.code(), "key_file_not_private");
            assert!(error.to_string().contains("chmod 600"), "{mode:o}: {error}");
        }
    }

    #[test]
    fn a_key_file_of_the_wrong_contents_is_refused_without_quoting_them() {
        let dir = tempfile::tempdir().unwrap();
        let hex = "ab".repeat(KEY_LEN);
        let base64url = URL_SAFE_NO_PAD.encode([0xfb; KEY_LEN]);
        let contents: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b" \n".to_vec(),
            b"secret-password".to_vec(),
            hex[..62].into(),
            format!("{hex}ab").into(),
            format!("{}zz", &hex[..62]).into(),
            format!("0x{}", &hex[..62]).into(),
            format!("{hex} {hex}").into(),
            format!("{base64url}=").into(),
            base64url.replace('_', "/").into(),
            // 43 characters whose last one carries bits past the 32 bytes.
            format!("{}B", &base64url[..42]).into(),
            vec![0xff; 64],
        ];
        for (index, contents) in contents.iter().enumerate() {
            let path = file(dir.path(), &format!("key-{index}"), contents, 0o600);
            let error = HandleKeys::load(std::slice::from_ref(&path)).unwrap_err();
            assert_eq!(error.code(), "key_file_invalid", "case {index}: {error}");
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            let text = String::from_utf8_lossy(contents);
            let text = text.trim();
            assert!(text.is_empty() || !message.contains(text), "{message}");
        }
    }

    #[test]
    fn a_list_of_key_files_must_be_whole() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(HandleKeys::load(&[]).unwrap_err().code(), "no_key_files");
        let missing = dir.path().join("missing");
        let error = HandleKeys::load(&[missing]).unwrap_err();
        assert_eq!(error.code(), "key_file_unreadable");
        let hex = "cd".repeat(KEY_LEN);
        let one = file(dir.path(), "one", hex.as_bytes(), 0o600);
        let same = file(dir.path(), "same", format!("{hex}\n").as_bytes(), 0o600);
        let error = HandleKeys::load(&[one, same.clone()]).unwrap_err();
        assert_eq!(error.code(), "duplicate_key");
        assert!(error.to_string().contains(&same.display().to_string()));
    }
}
