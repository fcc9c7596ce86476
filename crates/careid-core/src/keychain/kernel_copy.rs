//! A short-lived copy of a keychain value in the Linux kernel's key retention service
//! (keyrings(7)), for the one value read on nearly every run: the kept access token that
//! `careid token` prints. Reading the Secret Service costs every new process a D-Bus connection
//! and a 1024-bit Diffie-Hellman exchange with gnome-keyring (about 8 ms of an 18 ms run); the
//! copy costs two system calls.
//!
//! Why the copy is no weaker than the keychain for what it holds:
//! - It lives in kernel memory: never in a file, never swapped out, gone at reboot.
//! - It grants this OS user alone view, read, write, search and set-attribute, and nothing to
//!   its possessor as such, the group or others: another user, as on a shared terminal server,
//!   can neither read it nor see that it exists, even from a process that shares this session
//!   keyring (after `su`). It is linked into the session keyring, so only this login
//!   session's processes find it by name.
//! - The kernel destroys it when its time runs out: the access token's own expiry, capped.
//! - It is only ever a copy, tagged by the caller (the session keeps the access token's
//!   expiry in its state file and uses that): a copy whose tag is not the current one is
//!   ignored, and every keychain store or delete of the account drops the copy first (see
//!   [`super::Keychain`]), so it can be missing but never newer or other than the keychain's.
//!
//! Only the access token is copied. Refresh tokens, ID tokens and client credentials stay in
//! the keychain alone. Where the kernel refuses (a sandbox that filters `keyctl`, a keyring
//! quota reached), there is simply no copy and the keychain is read instead.

use std::time::Duration;

use linux_keyutils::{
    Key, KeyError, KeyPermissionsBuilder, KeyRing, KeyRingIdentifier, Permission,
};
use zeroize::Zeroizing;

use crate::SecretString;

/// The longest a copy lives, whatever the value's own lifetime: a copy only needs to outlast
/// a burst of runs, and a shorter life bounds what a forgotten copy could ever be.
pub(super) const LONGEST_LIFE: Duration = Duration::from_secs(60 * 60);

/// The largest copy read back: an access token is a few KiB; a larger payload is not one of
/// ours and is ignored rather than sized from.
const LARGEST_PAYLOAD: usize = 32 * 1024;

/// Separates the tag from the value in the payload. Tags never contain it.
const TAG_END: u8 = b'\n';

/// Keeps a copy of `value` for `(service, account)` under `tag` for `life` (capped at
/// [`LONGEST_LIFE`]). Failure leaves no copy and is not an error: the keychain holds the value.
pub(super) fn keep(
    service: &str,
    account: &str,
    tag: &str,
    value: &SecretString,
    life: Duration,
) -> Result<(), String> {
    if tag.as_bytes().contains(&TAG_END) {
        return Err("a tag with a line break".to_owned());
    }
    if life.is_zero() {
        return Err("no life left".to_owned());
    }
    let seconds = life.min(LONGEST_LIFE).as_secs().max(1);
    let mut payload = Zeroizing::new(Vec::with_capacity(
        tag.len() + 1 + value.expose_secret().len(),
    ));
    payload.extend_from_slice(tag.as_bytes());
    payload.push(TAG_END);
    payload.extend_from_slice(value.expose_secret().as_bytes());
    add(&description(service, account), &payload, seconds).map_err(|error| {
        forget(service, account);
        let reason = format!("the kernel refused it ({error:?})");
        tracing::debug!("no kernel copy of a keychain value: {reason}");
        reason
    })
}

fn add(description: &str, payload: &[u8], seconds: u64) -> Result<(), KeyError> {
    let ring = session_ring()?;
    // The kernel gives a new key its default permissions (all to its possessor, whoever that
    // is): it holds a placeholder until its own are set, and only then the value.
    let key = ring.add_key(description, PLACEHOLDER)?;
    key.set_perms(
        KeyPermissionsBuilder::builder()
            .user(
                Permission::VIEW
                    | Permission::READ
                    | Permission::WRITE
                    | Permission::SEARCH
                    | Permission::SETATTR,
            )
            .build(),
    )?;
    // `add_key` again, not `KEYCTL_UPDATE`, which takes at most a page: the same description
    // in the same keyring updates the key in place, keeping its permissions.
    let updated = ring.add_key(description, payload)?;
    if updated.get_id() != key.get_id() {
        // Replaced in between by a key of the kernel's default permissions: not ours to fill.
        let _ = updated.invalidate();
        return Err(KeyError::KeyDoesNotExist);
    }
    // Last: an update of a `user` key clears its timeout.
    key.set_timeout(usize::try_from(seconds).unwrap_or(usize::MAX))
}

/// What a copy holds until its permissions are set: no tag, so never read as a value.
const PLACEHOLDER: &[u8] = b"-";

/// The copy for `(service, account)` if there is one under exactly `tag`.
pub(super) fn read(service: &str, account: &str, tag: &str) -> Option<SecretString> {
    let key = find(service, account).ok()?;
    let mut buffer = Zeroizing::new(vec![0u8; LARGEST_PAYLOAD]);
    let length = key.read(&mut *buffer).ok()?;
    let payload = buffer.get(..length)?;
    let end = payload.iter().position(|byte| *byte == TAG_END)?;
    let (found_tag, value) = (&payload[..end], &payload[end + 1..]);
    if found_tag != tag.as_bytes() {
        return None;
    }
    std::str::from_utf8(value)
        .ok()
        .map(|value| SecretString::new(value.to_owned()))
}

/// Drops the copy for `(service, account)`, if there is one.
pub(super) fn forget(service: &str, account: &str) {
    if let Ok(key) = find(service, account) {
        if let Err(error) = key.invalidate() {
            tracing::debug!("a kernel copy of a keychain value could not be dropped: {error}");
        }
    }
}

fn find(service: &str, account: &str) -> Result<Key, KeyError> {
    session_ring()?.search(&description(service, account))
}

/// The calling process's session keyring (the user's session keyring where the process has
/// none), never created here: a keyring made for one process would die with it.
fn session_ring() -> Result<KeyRing, KeyError> {
    KeyRing::from_special_id(KeyRingIdentifier::Session, false)
}

fn description(service: &str, account: &str) -> String {
    format!("careid:{service}:{account}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unique_service(name: &str) -> String {
        format!("careid-kernel-copy-test-{name}-{}", std::process::id())
    }

    fn token(text: &str) -> SecretString {
        SecretString::new(text.to_owned())
    }

    #[test]
    fn a_copy_is_read_back_under_its_tag_only() {
        let service = unique_service("tag");
        keep(
            &service,
            "a",
            "1750003600",
            &token("eyJ.access"),
            Duration::from_secs(60),
        )
        .expect("kept");
        assert_eq!(
            read(&service, "a", "1750003600").map(|value| value.expose_secret().to_owned()),
            Some("eyJ.access".to_owned())
        );
        assert!(read(&service, "a", "1750003601").is_none(), "another tag");
        assert!(
            read(&service, "b", "1750003600").is_none(),
            "another account"
        );
        forget(&service, "a");
        assert!(read(&service, "a", "1750003600").is_none(), "forgotten");
    }

    #[test]
    fn a_copy_grants_this_user_alone() {
        let service = unique_service("perms");
        keep(
            &service,
            "a",
            "1",
            &token("value"),
            Duration::from_secs(3600 * 24),
        )
        .expect("kept");
        let key = find(&service, "a").expect("the copy is there");
        let metadata = key.metadata().expect("this user may view it");
        // This user view|read|write|search|setattr; a possessor as such, the group and others
        // nothing.
        assert_eq!(metadata.get_perms().bits(), 0x002f_0000);
        assert_eq!(metadata.get_uid(), rustix::process::geteuid().as_raw());
        forget(&service, "a");
    }

    #[test]
    fn a_copy_outliving_its_life_is_gone() {
        let service = unique_service("life");
        keep(&service, "a", "1", &token("value"), Duration::from_secs(1)).expect("kept");
        assert!(read(&service, "a", "1").is_some());
        std::thread::sleep(Duration::from_millis(2_100));
        assert!(
            read(&service, "a", "1").is_none(),
            "the kernel destroyed it"
        );
    }

    /// CIS2 access tokens are JWTs of a few KiB: more than the page `KEYCTL_UPDATE` takes.
    #[test]
    fn a_copy_of_16_kib_is_kept_and_one_past_the_kernels_limit_is_refused() {
        let service = unique_service("large");
        let large = token(&"x".repeat(16 * 1024));
        keep(&service, "a", "1", &large, Duration::from_secs(60)).expect("kept");
        assert_eq!(read(&service, "a", "1").as_ref(), Some(&large));
        forget(&service, "a");
        let too_large = token(&"x".repeat(32 * 1024));
        assert!(keep(&service, "b", "1", &too_large, Duration::from_secs(60)).is_err());
        assert!(find(&service, "b").is_err(), "nothing left behind");
    }

    #[test]
    fn a_replaced_copy_reads_as_the_new_value() {
        let service = unique_service("replace");
        keep(&service, "a", "1", &token("old"), Duration::from_secs(60)).expect("kept");
        keep(&service, "a", "2", &token("new"), Duration::from_secs(60)).expect("kept");
        assert!(read(&service, "a", "1").is_none());
        assert_eq!(
            read(&service, "a", "2").map(|value| value.expose_secret().to_owned()),
            Some("new".to_owned())
        );
        forget(&service, "a");
    }

    #[test]
    fn no_life_or_a_tag_with_a_line_break_keeps_nothing() {
        let service = unique_service("refused");
        assert!(keep(&service, "a", "1", &token("value"), Duration::ZERO).is_err());
        assert!(read(&service, "a", "1").is_none());
        assert!(keep(
            &service,
            "b",
            "1\n2",
            &token("value"),
            Duration::from_secs(60)
        )
        .is_err());
        assert!(find(&service, "b").is_err());
    }
}
