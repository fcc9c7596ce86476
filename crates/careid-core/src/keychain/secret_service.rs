//! The Secret Service API (freedesktop.org; served by gnome-keyring, KWallet, KeePassXC) over
//! D-Bus, with **one connection and one encrypted session per process**.
//!
//! careid speaks it itself rather than through the `keyring` crate because that crate opens a
//! new D-Bus connection and a new Diffie-Hellman session for every operation (about 9 ms each
//! on a 2-core machine, six of them for one store), and the library under it draws the DH private
//! key from a non-cryptographic generator. See [`super::transport`] for the encryption.
//!
//! An entry is the item whose attributes include `service` and `username` (what `secret-tool
//! lookup service S username U` finds, and what entries the `keyring` crate wrote also carry).
//! A write updates that item in place, so an entry never has two items; new items go in the
//! default collection with `application=careid` besides.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use dbus::arg::{PropMap, RefArg, Variant};
use dbus::blocking::stdintf::org_freedesktop_dbus::Properties;
use dbus::blocking::{Connection, Proxy};
use dbus::message::MatchRule;
use dbus::Path;

use super::transport::{self, Keypair, SessionKey, TransportError};
use super::KeychainError;

const BUS_NAME: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const COLLECTION: &str = "org.freedesktop.Secret.Collection";
const ITEM: &str = "org.freedesktop.Secret.Item";
const PROMPT: &str = "org.freedesktop.Secret.Prompt";
const CONTENT_TYPE: &str = "text/plain";

/// A method call that takes longer than this has a hung service behind it.
const CALL_TIMEOUT: Duration = Duration::from_secs(25);
/// Unlocking may show the user a password prompt.
const PROMPT_TIMEOUT: Duration = Duration::from_secs(300);

/// The process's connection, opened on first use and kept: a D-Bus connection and session are
/// cheap to hold and expensive to open.
static SHARED: Mutex<Option<SecretService>> = Mutex::new(None);

/// The secret stored for `(service, account)`, if any.
pub(super) fn read(service: &str, account: &str) -> Result<Option<String>, KeychainError> {
    with_service(account, |secrets| {
        secrets.read(&attributes(service, account))
    })
}

/// Stores `value` for `(service, account)`, replacing what was there.
pub(super) fn write(service: &str, account: &str, value: &str) -> Result<(), KeychainError> {
    with_service(account, |secrets| {
        secrets.write(
            &format!("{service}: {account}"),
            &attributes(service, account),
            value,
        )
    })
}

/// Deletes every item for `(service, account)`; deleting nothing is not an error.
pub(super) fn delete(service: &str, account: &str) -> Result<(), KeychainError> {
    with_service(account, |secrets| {
        secrets.delete(&attributes(service, account))
    })
}

/// The accounts stored under `service`: the `username` attribute of every item that has the
/// `service` attribute. `Some` always: the Secret Service can be searched.
pub(super) fn accounts(service: &str) -> Result<Option<Vec<String>>, KeychainError> {
    with_service(service, |secrets| {
        let mut accounts = Vec::new();
        for item in secrets.search(&HashMap::from([("service", service)]))? {
            let attributes: HashMap<String, String> =
                secrets.proxy(&item).get(ITEM, "Attributes")?;
            if let Some(account) = attributes.get("username") {
                accounts.push(account.clone());
            }
        }
        Ok(Some(accounts))
    })
}

/// What this process's keychain is, for diagnostics (`careid keychain check`).
pub(super) fn describe() -> String {
    let shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    match shared.as_ref() {
        Some(secrets) if secrets.key.is_encrypted() => format!(
            "Secret Service; secrets encrypted on the bus ({})",
            transport::ALGORITHM
        ),
        Some(_) => "Secret Service; secrets NOT encrypted on the bus (the service offers no \
                    encryption)"
            .to_owned(),
        None => "Secret Service (not connected)".to_owned(),
    }
}

fn attributes<'a>(service: &'a str, account: &'a str) -> HashMap<&'a str, &'a str> {
    HashMap::from([("service", service), ("username", account)])
}

/// Runs `operation` on the shared connection, opening it when needed. A connection that worked
/// before and now fails (the service restarted, the session was closed, a secret that does not
/// decrypt under the session's key) is replaced once and the operation tried again: every
/// operation here is idempotent, and an entry is only called damaged when a fresh session agrees.
fn with_service<T>(
    account: &str,
    operation: impl Fn(&mut SecretService) -> Result<T, Failure>,
) -> Result<T, KeychainError> {
    let mut shared = SHARED.lock().unwrap_or_else(PoisonError::into_inner);
    let reused = shared.is_some();
    let secrets = match shared.as_mut() {
        Some(secrets) => secrets,
        None => shared.insert(SecretService::connect().map_err(|f| f.into_error(account))?),
    };
    match operation(secrets) {
        Ok(value) => Ok(value),
        Err(Failure::Bus(_) | Failure::Transport(_) | Failure::Damaged) if reused => {
            *shared = None;
            let secrets =
                shared.insert(SecretService::connect().map_err(|f| f.into_error(account))?);
            operation(secrets).map_err(|f| f.into_error(account))
        }
        Err(failure) => Err(failure.into_error(account)),
    }
}

/// What went wrong inside one operation, before it is told to the caller.
#[derive(Debug)]
enum Failure {
    Bus(dbus::Error),
    Transport(TransportError),
    /// The user dismissed the unlock prompt, or it was not answered in time.
    NotUnlocked(&'static str),
    /// More than one item, or a value that decrypted correctly but is not text.
    Damaged,
    NoCollection,
}

impl From<dbus::Error> for Failure {
    fn from(error: dbus::Error) -> Self {
        Failure::Bus(error)
    }
}

impl From<TransportError> for Failure {
    fn from(error: TransportError) -> Self {
        Failure::Transport(error)
    }
}

impl Failure {
    fn into_error(self, account: &str) -> KeychainError {
        match self {
            Failure::Bus(error) => bus_error(&error),
            // Only what arrived and decrypted can be judged: a secret that does not decrypt
            // says the session (or the service) is wrong, not the entry, so it is kept.
            Failure::Damaged => KeychainError::Corrupt {
                account: account.to_owned(),
            },
            Failure::Transport(TransportError::Undecryptable) => KeychainError::Unreadable {
                account: account.to_owned(),
            },
            Failure::Transport(error) => KeychainError::Failed(error.to_string()),
            Failure::NotUnlocked(why) => {
                KeychainError::Unavailable(format!("the keychain is locked ({why})"))
            }
            Failure::NoCollection => KeychainError::Unavailable(
                "the keychain has no default collection and none could be created".to_owned(),
            ),
        }
    }
}

/// D-Bus errors name the failure; their messages come from the bus or the service and never
/// contain a secret (secrets only travel in method arguments, encrypted).
fn bus_error(error: &dbus::Error) -> KeychainError {
    let message = error.message().unwrap_or("no message").to_owned();
    match error.name().unwrap_or_default() {
        "org.freedesktop.DBus.Error.ServiceUnknown"
        | "org.freedesktop.DBus.Error.NameHasNoOwner"
        | "org.freedesktop.DBus.Error.Spawn.ChildExited"
        | "org.freedesktop.DBus.Error.NoServer"
        | "org.freedesktop.DBus.Error.FileNotFound"
        | "org.freedesktop.DBus.Error.Disconnected"
        | "org.freedesktop.DBus.Error.NoReply"
        | "org.freedesktop.DBus.Error.Timeout" => KeychainError::Unavailable(format!(
            "no Secret Service answers on the session bus ({message})"
        )),
        "org.freedesktop.Secret.Error.IsLocked" => {
            KeychainError::Unavailable("the keychain is locked".to_owned())
        }
        _ => KeychainError::Failed(message),
    }
}

struct SecretService {
    connection: Connection,
    session: Path<'static>,
    key: SessionKey,
    /// The default collection's path, once looked up.
    collection: Option<Path<'static>>,
}

impl SecretService {
    fn connect() -> Result<Self, Failure> {
        let connection = Connection::new_session()?;
        let service = connection.with_proxy(BUS_NAME, SERVICE_PATH, CALL_TIMEOUT);
        let keypair = Keypair::generate()?;
        let opened: Result<(Variant<Vec<u8>>, Path<'static>), dbus::Error> = service.method_call(
            SERVICE,
            "OpenSession",
            (transport::ALGORITHM, Variant(keypair.public().to_vec())),
        );
        let (session, key) = match opened {
            Ok((Variant(peer_public), session)) => (session, keypair.agree(&peer_public)?),
            // A service without the DH algorithm: libsecret falls back to `plain` too.
            Err(error) if error.name() == Some("org.freedesktop.DBus.Error.NotSupported") => {
                tracing::warn!("the Secret Service offers no transport encryption; using plain");
                let (_, session): (Variant<Box<dyn RefArg>>, Path<'static>) = service.method_call(
                    SERVICE,
                    "OpenSession",
                    ("plain", Variant(String::new())),
                )?;
                (session, SessionKey::plain())
            }
            Err(error) => return Err(error.into()),
        };
        drop(service);
        Ok(Self {
            connection,
            session,
            key,
            collection: None,
        })
    }

    fn proxy<'a>(&'a self, path: &'a Path<'static>) -> Proxy<'a, &'a Connection> {
        self.connection
            .with_proxy(BUS_NAME, path.clone(), CALL_TIMEOUT)
    }

    fn service(&self) -> Proxy<'_, &Connection> {
        self.connection
            .with_proxy(BUS_NAME, SERVICE_PATH, CALL_TIMEOUT)
    }

    /// Every matching item, unlocked.
    fn search(&self, attributes: &HashMap<&str, &str>) -> Result<Vec<Path<'static>>, Failure> {
        let (mut unlocked, locked): (Vec<Path<'static>>, Vec<Path<'static>>) = self
            .service()
            .method_call(SERVICE, "SearchItems", (attributes,))?;
        if !locked.is_empty() {
            self.unlock(&locked)?;
            unlocked.extend(locked);
        }
        Ok(unlocked)
    }

    fn read(&self, attributes: &HashMap<&str, &str>) -> Result<Option<String>, Failure> {
        let item = match self.search(attributes)?.as_slice() {
            [] => return Ok(None),
            [item] => item.clone(),
            _ => return Err(Failure::Damaged),
        };
        let ((_session, parameters, value, _content_type),): ((
            Path<'static>,
            Vec<u8>,
            Vec<u8>,
            String,
        ),) = self
            .proxy(&item)
            .method_call(ITEM, "GetSecret", (&self.session,))?;
        let plain = self.key.decrypt(&parameters, value)?;
        let text = std::str::from_utf8(&plain).map_err(|_| Failure::Damaged)?;
        Ok(Some(text.to_owned()))
    }

    fn write(
        &mut self,
        label: &str,
        attributes: &HashMap<&str, &str>,
        value: &str,
    ) -> Result<(), Failure> {
        let (parameters, encrypted) = self.key.encrypt(value.as_bytes())?;
        let secret = (self.session.clone(), parameters, encrypted, CONTENT_TYPE);
        let existing = self.search(attributes)?;
        if let [item] = existing.as_slice() {
            self.proxy(item)
                .method_call::<(), _, _, _>(ITEM, "SetSecret", (&secret,))?;
            return Ok(());
        }
        // Several items for one entry (written by another client) are replaced by one.
        for item in existing {
            self.delete_item(&item)?;
        }
        let collection = self.default_collection()?;
        let mut attributes: HashMap<String, String> = attributes
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        attributes.insert("application".to_owned(), "careid".to_owned());
        let properties: PropMap = HashMap::from([
            (
                "org.freedesktop.Secret.Item.Label".to_owned(),
                Variant(Box::new(label.to_owned()) as Box<dyn RefArg>),
            ),
            (
                "org.freedesktop.Secret.Item.Attributes".to_owned(),
                Variant(Box::new(attributes) as Box<dyn RefArg>),
            ),
        ]);
        let create = |secrets: &Self| -> Result<(Path<'static>, Path<'static>), dbus::Error> {
            secrets.proxy(&collection).method_call(
                COLLECTION,
                "CreateItem",
                (&properties, &secret, false),
            )
        };
        let (_item, prompt) = match create(self) {
            Err(error) if error.name() == Some("org.freedesktop.Secret.Error.IsLocked") => {
                self.unlock(std::slice::from_ref(&collection))?;
                create(self)?
            }
            other => other?,
        };
        self.complete_prompt(prompt)?;
        Ok(())
    }

    fn delete(&self, attributes: &HashMap<&str, &str>) -> Result<(), Failure> {
        for item in self.search(attributes)? {
            self.delete_item(&item)?;
        }
        Ok(())
    }

    fn delete_item(&self, item: &Path<'static>) -> Result<(), Failure> {
        let (prompt,): (Path<'static>,) = self.proxy(item).method_call(ITEM, "Delete", ())?;
        self.complete_prompt(prompt)?;
        Ok(())
    }

    /// The collection the `default` alias names, created (as libsecret does) when there is none.
    fn default_collection(&mut self) -> Result<Path<'static>, Failure> {
        if let Some(collection) = &self.collection {
            return Ok(collection.clone());
        }
        let (mut collection,): (Path<'static>,) =
            self.service()
                .method_call(SERVICE, "ReadAlias", ("default",))?;
        if is_none(&collection) {
            let properties: PropMap = HashMap::from([(
                "org.freedesktop.Secret.Collection.Label".to_owned(),
                Variant(Box::new("Login".to_owned()) as Box<dyn RefArg>),
            )]);
            let (created, prompt): (Path<'static>, Path<'static>) =
                self.service()
                    .method_call(SERVICE, "CreateCollection", (properties, "default"))?;
            collection = match self.complete_prompt(prompt)? {
                Some(created) => created,
                None => created,
            };
            if is_none(&collection) {
                return Err(Failure::NoCollection);
            }
        }
        self.collection = Some(collection.clone());
        Ok(collection)
    }

    fn unlock(&self, objects: &[Path<'static>]) -> Result<(), Failure> {
        let (_unlocked, prompt): (Vec<Path<'static>>, Path<'static>) =
            self.service().method_call(SERVICE, "Unlock", (objects,))?;
        self.complete_prompt(prompt)?;
        Ok(())
    }

    /// Shows the service's prompt (when it asks for one: `/` means no prompt) and waits for the
    /// user. Returns the object path the prompt produced, when it produced one.
    fn complete_prompt(&self, prompt: Path<'static>) -> Result<Option<Path<'static>>, Failure> {
        if is_none(&prompt) {
            return Ok(None);
        }
        type Outcome = Option<(bool, Option<Path<'static>>)>;
        let outcome: Arc<Mutex<Outcome>> = Arc::default();
        let seen = Arc::clone(&outcome);
        let rule = MatchRule::new_signal(PROMPT, "Completed").with_path(prompt.clone());
        let token = self.connection.add_match(
            rule,
            move |(dismissed, result): (bool, Variant<Box<dyn RefArg>>), _, _| {
                let path = dbus::arg::cast::<Path<'static>>(&result.0).cloned();
                *seen.lock().unwrap_or_else(PoisonError::into_inner) = Some((dismissed, path));
                false
            },
        )?;
        let waited = (|| {
            // No parent window: the prompt is the service's own.
            self.proxy(&prompt)
                .method_call::<(), _, _, _>(PROMPT, "Prompt", ("",))?;
            let deadline = Instant::now() + PROMPT_TIMEOUT;
            loop {
                if let Some(done) = outcome
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take()
                {
                    return Ok(done);
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let _ = self
                        .proxy(&prompt)
                        .method_call::<(), _, _, _>(PROMPT, "Dismiss", ());
                    return Err(Failure::NotUnlocked("the unlock prompt was not answered"));
                }
                self.connection
                    .process(left.min(Duration::from_millis(500)))?;
            }
        })();
        let _ = self.connection.remove_match(token);
        match waited? {
            (true, _) => Err(Failure::NotUnlocked("the unlock prompt was dismissed")),
            (false, path) => Ok(path.filter(|path| !is_none(path))),
        }
    }
}

/// Secret Service's "no object": `/`.
fn is_none(path: &Path<'_>) -> bool {
    &**path == "/"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What each failure inside an operation becomes: only content that arrived and decrypted
    /// is "damaged" (and so deleted by the session store); every fault of the transport or the
    /// bus keeps the entry.
    #[test]
    fn a_secret_that_does_not_decrypt_is_a_keychain_fault_not_damage() {
        let bus = |name: &str| Failure::Bus(dbus::Error::new_custom(name, "the bus said no"));
        let cases: Vec<(&str, Failure, &str)> = vec![
            (
                "bad padding or wrong key",
                Failure::Transport(TransportError::Undecryptable),
                "keychain_unreadable",
            ),
            (
                "session not opened: bad peer value",
                Failure::Transport(TransportError::BadPeerKey),
                "keychain_failed",
            ),
            (
                "random generator",
                Failure::Transport(TransportError::Random),
                "keychain_failed",
            ),
            (
                "bus error in the middle",
                bus("org.freedesktop.DBus.Error.NoReply"),
                "keychain_unavailable",
            ),
            (
                "service error",
                bus("org.freedesktop.DBus.Error.UnknownObject"),
                "keychain_failed",
            ),
            (
                "locked",
                Failure::NotUnlocked("the unlock prompt was dismissed"),
                "keychain_unavailable",
            ),
            (
                "decrypted, but not text",
                Failure::Damaged,
                "keychain_corrupt",
            ),
        ];
        for (name, failure, code) in cases {
            let error = failure.into_error("session/mock/555/refresh-token");
            assert_eq!(error.code(), code, "{name}: {error}");
        }
        let message = Failure::Transport(TransportError::Undecryptable)
            .into_error("a")
            .to_string();
        assert!(
            message.contains("could not be read") && message.contains("try again"),
            "{message}"
        );
    }

    /// Needs the real Secret Service (`cargo xtask test`). A session whose key is wrong reads
    /// the entry as unreadable, not damaged; the entry stays, and the process's shared
    /// connection recovers by opening a fresh session.
    #[test]
    fn keychain_a_wrong_session_key_is_a_fault_and_the_entry_is_kept() {
        let service = format!("careid-unit-wrong-key-{}", std::process::id());
        let keychain = super::super::Keychain::with_service(&service);
        let account = "profile/user/refresh-token";
        let value = crate::SecretString::new("a token".to_owned());
        keychain.store(account, &value).expect("stored");

        let wrong_key = || {
            let stranger = Keypair::generate().expect("keypair");
            Keypair::generate()
                .expect("keypair")
                .agree(stranger.public())
                .expect("agreed")
        };
        // A connection of its own whose session key is not the service's. A wrong key breaks
        // the padding, except about once in 256 keys, when it decrypts to bytes that are not
        // text: try a few keys until the usual case is seen.
        let mut own = SecretService::connect().expect("connected");
        let attributes = attributes(&service, account);
        let undecryptable = (0..8).find_map(|_| {
            own.key = wrong_key();
            match own.read(&attributes) {
                Err(failure @ Failure::Transport(TransportError::Undecryptable)) => Some(failure),
                Err(Failure::Damaged) => None,
                other => panic!("a wrong key read {:?}", other.map(|_| "a value")),
            }
        });
        let error = undecryptable
            .expect("a wrong key breaks the padding")
            .into_error(account);
        assert_eq!(error.code(), "keychain_unreadable");

        // The shared connection with a wrong key: one fresh session reads the entry whole.
        SHARED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .expect("connected by the store above")
            .key = wrong_key();
        let read = keychain.load(account).expect("read after reconnecting");
        assert_eq!(read.as_ref().map(|v| v.expose_secret()), Some("a token"));
        keychain.delete(account).expect("deleted");
    }
}
