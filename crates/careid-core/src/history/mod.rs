//! Every sign-in attempt, success or failure, as a record in the state folder (`history/`, one
//! file each), for testers: what was asked beside what came back, each check and how it came
//! out, the tokens' headers and claims, the steps' timings and, once signed in, the session's
//! timeline. Never a token, code or secret: claims are decoded, tokens are not kept.
//!
//! Each record carries [`FORMAT`]; a record from a newer careid is read for what this one knows.
//! The newest [`History::keep`] records are kept (the tester sets how many).

pub mod checks;
pub(crate) mod export;
mod recorder;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use checks::{Check, CheckList, CheckOutcome, Rule};
pub use export::{export_file_name, to_html, to_json, ExportFormat};
pub use recorder::{AttemptLog, IdTokenHeld, Verdict};

use crate::time::utc_text;

/// The records' format. A newer careid's extra fields are ignored when read.
pub const FORMAT: u32 = 1;
/// How many records are kept until the tester says otherwise.
pub const DEFAULT_KEEP: usize = 200;
/// The most records a tester may ask to keep.
pub const MAX_KEEP: usize = 100_000;

/// A record's id: when the attempt began (UTC, to the millisecond) and four random hex digits,
/// so ids sort by time and are safe as file names on every system.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttemptId(String);

impl AttemptId {
    /// A new id, later than any this process made before: from the system's clock (not a
    /// test's), to the millisecond, one millisecond on from the last when the clock has not moved.
    pub fn new() -> Self {
        use std::sync::atomic::{AtomicU64, Ordering};
        static LAST: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| {
                u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
            });
        let mut last = LAST.load(Ordering::SeqCst);
        let millis = loop {
            let next = now.max(last.saturating_add(1));
            match LAST.compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst) {
                Ok(_) => break next,
                Err(seen) => last = seen,
            }
        };
        let text = utc_text(millis / 1000).replace(':', "");
        let mut random = [0u8; 2];
        // Only to tell apart ids two processes make in the same millisecond.
        let _ =
            aws_lc_rs::rand::SecureRandom::fill(&aws_lc_rs::rand::SystemRandom::new(), &mut random);
        Self(format!(
            "{}.{:03}Z-{:02x}{:02x}",
            text.trim_end_matches('Z'),
            millis % 1000,
            random[0],
            random[1]
        ))
    }

    /// An id as a user typed it: refused unless it has only the characters ids are made of (it
    /// names a file).
    pub fn parse(text: &str) -> Option<Self> {
        let fits = !text.is_empty()
            && text.len() <= 64
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.'))
            && !text.starts_with('.');
        fits.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AttemptId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One sign-in attempt.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attempt {
    pub format: u32,
    pub id: AttemptId,
    pub careid_version: String,
    /// A tester's label (a run's name and case), if any.
    #[serde(default)]
    pub label: Option<String>,
    pub started_at: Time,
    pub finished_at: Time,
    pub profile: ProfileSnapshot,
    pub asked: Asked,
    pub verdict: Verdict,
    #[serde(default)]
    pub error: Option<AttemptError>,
    #[serde(default)]
    pub returned: Option<Returned>,
    #[serde(default)]
    pub checks: Vec<Check>,
    /// The JOSE headers of the tokens and signed documents that came back.
    #[serde(default)]
    pub headers: Vec<TokenHeader>,
    /// Every time claim, as a number and in UTC.
    #[serde(default)]
    pub times: Vec<TimeClaim>,
    #[serde(default)]
    pub timings: Vec<StepTiming>,
    #[serde(default)]
    pub claims: ClaimSets,
    /// Callbacks with another `state` refused while the sign-in waited.
    #[serde(default)]
    pub stray_callbacks: u32,
    /// Once signed in: refreshes, role changes, the end.
    #[serde(default)]
    pub timeline: Vec<TimelineEvent>,
}

/// A moment: seconds since the epoch, written with the same in UTC for people (`utc`, which
/// follows from the number and is not read back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Time {
    pub unix: u64,
}

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = serializer.serialize_struct("Time", 2)?;
        out.serialize_field("unix", &self.unix)?;
        out.serialize_field("utc", &utc_text(self.unix))?;
        out.end()
    }
}

impl Time {
    pub fn at(unix: u64) -> Self {
        Self { unix }
    }

    pub fn text(&self) -> String {
        utc_text(self.unix)
    }
}

/// The profile as the attempt used it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProfileSnapshot {
    pub name: String,
    pub issuer: String,
    #[serde(default)]
    pub client_id: Option<String>,
    pub client_auth: String,
    #[serde(default)]
    pub broker: Option<String>,
    #[serde(default)]
    pub redirect_uri: Option<String>,
    pub role_selection: String,
    #[serde(default)]
    pub min_id_assurance_level: Option<u8>,
}

/// Where a value the request carried came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The profile's own setting.
    Profile,
    /// Changed for this attempt (the testers' view, a flag, a run's case).
    Overridden,
    /// Set by careid itself (`prompt=login` to change role, CIS2's role scopes).
    Careid,
    /// Not in the request.
    NotSent,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Source::Profile => "profile",
            Source::Overridden => "overridden",
            Source::Careid => "careid",
            Source::NotSent => "not_sent",
        }
    }
}

/// One value of the request and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskedValue {
    #[serde(default)]
    pub value: Option<String>,
    pub source: Source,
}

impl AskedValue {
    /// The override if there is one, else the profile's, else nothing sent. An override of
    /// nothing (`Some(None)`) sends nothing.
    pub fn chosen(overridden: Option<Option<String>>, profile: Option<String>) -> Self {
        match (overridden, profile) {
            (Some(value), _) => Self {
                value,
                source: Source::Overridden,
            },
            (None, Some(value)) => Self {
                value: Some(value),
                source: Source::Profile,
            },
            (None, None) => Self::not_sent(),
        }
    }

    pub fn not_sent() -> Self {
        Self {
            value: None,
            source: Source::NotSent,
        }
    }
}

/// What the request asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Asked {
    pub acr_values: AskedValue,
    pub prompt: AskedValue,
    pub max_age: AskedValue,
    pub scope: AskedValue,
    /// The role the user named for this sign-in.
    pub role: AskedValue,
    #[serde(default)]
    pub login_hint: Option<AskedValue>,
    /// Whether the request was pushed (RFC 9126).
    #[serde(default)]
    pub pushed: bool,
}

impl Asked {
    /// Each value by its parameter's name, in the order reports list them.
    pub fn rows(&self) -> [(&'static str, &AskedValue); 5] {
        [
            ("acr_values", &self.acr_values),
            ("prompt", &self.prompt),
            ("max_age", &self.max_age),
            ("scope", &self.scope),
            ("role", &self.role),
        ]
    }

    /// A request that sent none of these values.
    pub fn nothing() -> Self {
        Self {
            acr_values: AskedValue::not_sent(),
            prompt: AskedValue::not_sent(),
            max_age: AskedValue::not_sent(),
            scope: AskedValue::not_sent(),
            role: AskedValue::not_sent(),
            login_hint: None,
            pushed: false,
        }
    }
}

/// How the attempt failed, in careid's codes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttemptError {
    pub code: String,
    pub class: String,
    pub message: String,
    /// The provider's OAuth error (`access_denied`), when the provider answered with one.
    #[serde(default)]
    pub provider_error: Option<String>,
}

/// What came back, from the ID token (verified, unless the record says otherwise) and UserInfo.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Returned {
    #[serde(default)]
    pub sub: Option<String>,
    #[serde(default)]
    pub acr: Option<String>,
    #[serde(default)]
    pub amr: Vec<AmrValue>,
    /// `authentication_assurance_level` as it arrived (a string or a number in CIS2).
    #[serde(default)]
    pub authentication_assurance_level: Option<String>,
    #[serde(default)]
    pub id_assurance_level: Option<String>,
    #[serde(default)]
    pub auth_time: Option<Time>,
    /// `auth_time` against the previous sign-in's of the same user on the same profile.
    #[serde(default)]
    pub auth_time_change: Option<AuthTimeChange>,
    #[serde(default)]
    pub sid: Option<String>,
    #[serde(default)]
    pub selected_roleid: Option<String>,
    #[serde(default)]
    pub role: Option<RoleTaken>,
}

/// One `amr` value, named where careid knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AmrValue {
    pub value: String,
    /// The authenticator in words; `None` for a value careid does not know (flagged).
    #[serde(default)]
    pub authenticator: Option<String>,
    /// Seen in real CIS2 tokens; the others' meaning is unverified.
    #[serde(default)]
    pub seen_from_cis2: bool,
}

impl AmrValue {
    /// For people: `Smartcard (N3_SMARTCARD)`, flagged when unverified or unknown.
    pub fn described(&self) -> String {
        match &self.authenticator {
            Some(name) if self.seen_from_cis2 => format!("{name} ({})", self.value),
            Some(name) => format!("{name} ({}, unverified)", self.value),
            None => format!("{} (unknown to careid)", self.value),
        }
    }

    pub fn of(value: &str) -> Self {
        let meaning = crate::claims::amr_meaning(value);
        Self {
            value: value.to_owned(),
            authenticator: meaning.authenticator.map(str::to_owned),
            seen_from_cis2: meaning.seen_from_cis2,
        }
    }
}

/// How `auth_time` moved since the previous sign-in (`prompt=login` and `max_age` must move it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthTimeChange {
    pub previous_attempt: AttemptId,
    pub previous: Time,
    /// Seconds later (negative: earlier) than the previous sign-in's.
    pub seconds: i64,
    pub moved: bool,
}

impl Returned {
    /// `auth_time` in UTC and as the number, with how it moved since the previous sign-in.
    pub fn auth_time_text(&self) -> Option<String> {
        let auth_time = self.auth_time?;
        let change = self
            .auth_time_change
            .as_ref()
            .map(|change| format!("; {:+} s since the previous sign-in", change.seconds))
            .unwrap_or_default();
        Some(format!("{} ({}){change}", auth_time.text(), auth_time.unix))
    }
}

impl RoleTaken {
    /// `Nurse Access Role (555057898108, RX1, selected)`.
    pub fn described(&self) -> String {
        format!(
            "{} ({}, {}, {})",
            self.name, self.person_roleid, self.org_code, self.how
        )
    }
}

/// The role the sign-in settled on, and how.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RoleTaken {
    pub person_roleid: String,
    pub name: String,
    pub org_code: String,
    /// `selected` (CIS2's picker), `automatic`, `requested`, `remembered` or `chosen`.
    pub how: String,
}

/// A token's JOSE header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenHeader {
    /// `id_token`, `access_token` or `userinfo`.
    pub token: String,
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
}

/// A time claim, as the token has it and in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeClaim {
    pub token: String,
    pub claim: String,
    pub at: Time,
}

/// How long one step took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTiming {
    pub step: String,
    pub millis: u64,
}

/// The claims that came back. Signatures and the tokens themselves are never kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ClaimSets {
    #[serde(default)]
    pub id_token: Option<Value>,
    /// Whether the ID token's claims passed every check; `false` when they are shown from a
    /// token that was refused.
    #[serde(default)]
    pub id_token_verified: bool,
    /// The access token's claims when it is a JWT (CIS2's are); not verified (it is not for us).
    #[serde(default)]
    pub access_token: Option<Value>,
    #[serde(default)]
    pub userinfo: Option<Value>,
}

/// Something that happened to a signed-in session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: Time,
    /// `refreshed`, `role_changed` or `ended`.
    pub kind: String,
    #[serde(default)]
    pub detail: Option<String>,
}

/// The history folder of a state folder.
#[derive(Debug, Clone)]
pub struct History {
    dir: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Settings {
    #[serde(default)]
    keep: Option<usize>,
}

impl History {
    pub fn in_state_dir(state_dir: &Path) -> Self {
        Self {
            dir: state_dir.join("history"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &AttemptId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Writes `attempt` (whole or not at all), then removes the oldest past [`Self::keep`].
    pub fn save(&self, attempt: &Attempt) -> std::io::Result<()> {
        careid_files::create_private_dir(&self.dir)?;
        let json = serde_json::to_vec_pretty(attempt).map_err(std::io::Error::other)?;
        careid_files::write_atomically(&self.path(&attempt.id), &json)?;
        self.prune()
    }

    /// How many records are kept.
    pub fn keep(&self) -> usize {
        std::fs::read(self.dir.join("settings.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Settings>(&bytes).ok())
            .and_then(|settings| settings.keep)
            .map_or(DEFAULT_KEEP, |keep| keep.clamp(1, MAX_KEEP))
    }

    /// Keeps the newest `keep` records from now on (and removes older ones at once).
    pub fn set_keep(&self, keep: usize) -> Result<(), HistoryError> {
        if !(1..=MAX_KEEP).contains(&keep) {
            return Err(HistoryError::KeepOutOfRange { keep });
        }
        careid_files::create_private_dir(&self.dir).map_err(HistoryError::Io)?;
        let json =
            serde_json::to_vec(&Settings { keep: Some(keep) }).map_err(std::io::Error::other);
        careid_files::write_atomically(
            &self.dir.join("settings.json"),
            &json.map_err(HistoryError::Io)?,
        )
        .map_err(HistoryError::Io)?;
        self.prune().map_err(HistoryError::Io)
    }

    /// The records' ids, newest first.
    fn ids(&self) -> Vec<AttemptId> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut ids: Vec<AttemptId> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                AttemptId::parse(name.strip_suffix(".json")?)
            })
            .filter(|id| id.as_str() != "settings")
            .collect();
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids
    }

    fn prune(&self) -> std::io::Result<()> {
        for old in self.ids().into_iter().skip(self.keep()) {
            match std::fs::remove_file(self.path(&old)) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
                _ => {}
            }
        }
        Ok(())
    }

    /// Every readable record, newest first; a damaged file is skipped (and counted).
    pub fn list(&self) -> (Vec<Attempt>, usize) {
        let mut damaged = 0;
        let attempts = self
            .ids()
            .into_iter()
            .filter_map(|id| match self.get(&id) {
                Ok(attempt) => Some(attempt),
                Err(_) => {
                    damaged += 1;
                    None
                }
            })
            .collect();
        (attempts, damaged)
    }

    pub fn get(&self, id: &AttemptId) -> Result<Attempt, HistoryError> {
        let bytes = std::fs::read(self.path(id)).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => HistoryError::NotFound { id: id.clone() },
            _ => HistoryError::Io(error),
        })?;
        serde_json::from_slice(&bytes).map_err(|error| HistoryError::Damaged {
            id: id.clone(),
            line: error.line(),
        })
    }

    /// The newest successful sign-in of `sub` on `profile` before `before`.
    pub fn previous_sign_in(
        &self,
        profile: &str,
        sub: &str,
        before: &AttemptId,
    ) -> Option<Attempt> {
        self.ids()
            .into_iter()
            .filter(|id| id < before)
            .filter_map(|id| self.get(&id).ok())
            .find(|attempt| attempt.is_sign_in_of(profile, sub))
    }

    /// [`Self::add_to_timeline`], logging a failure: a timeline that cannot be written never
    /// stops what happened to the session.
    pub fn note(&self, profile: &str, sub: &str, event: TimelineEvent) {
        if let Err(error) = self.add_to_timeline(profile, sub, event) {
            tracing::warn!("could not add to the sign-in's timeline in the history: {error}");
        }
    }

    /// Adds `event` to the timeline of the newest successful sign-in of `sub` on `profile` (the
    /// session it happened to). Nothing to add to is no error: the record may have been pruned.
    pub fn add_to_timeline(
        &self,
        profile: &str,
        sub: &str,
        event: TimelineEvent,
    ) -> std::io::Result<()> {
        let newest = self
            .ids()
            .into_iter()
            .filter_map(|id| self.get(&id).ok())
            .find(|attempt| attempt.is_sign_in_of(profile, sub));
        match newest {
            Some(mut attempt) => {
                attempt.timeline.push(event);
                careid_files::write_atomically(
                    &self.path(&attempt.id),
                    &serde_json::to_vec_pretty(&attempt).map_err(std::io::Error::other)?,
                )
            }
            None => Ok(()),
        }
    }
}

impl Attempt {
    /// The rules of the checks that failed, in the order they ran: what a list of attempts
    /// shows of each.
    pub fn failed_rules(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|check| check.outcome == CheckOutcome::Failed)
            .map(|check| check.rule.clone())
            .collect()
    }

    /// Notes how `auth_time` moved since `previous`, the same user's sign-in before this one.
    pub fn note_previous(&mut self, previous: Option<Attempt>) {
        let Some(previous) = previous else { return };
        let before = previous
            .returned
            .as_ref()
            .and_then(|returned| returned.auth_time);
        let Some(returned) = self.returned.as_mut() else {
            return;
        };
        if let (Some(before), Some(now)) = (before, returned.auth_time) {
            let seconds = i64::try_from(now.unix)
                .unwrap_or(i64::MAX)
                .saturating_sub(i64::try_from(before.unix).unwrap_or(i64::MAX));
            returned.auth_time_change = Some(AuthTimeChange {
                previous_attempt: previous.id,
                previous: before,
                seconds,
                moved: seconds != 0,
            });
        }
    }

    fn is_sign_in_of(&self, profile: &str, sub: &str) -> bool {
        self.profile.name == profile
            && self.verdict.signed_in()
            && self
                .returned
                .as_ref()
                .and_then(|returned| returned.sub.as_deref())
                == Some(sub)
    }
}

/// A history that could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("no attempt {id} in the history (`careid history` lists them)")]
    NotFound { id: AttemptId },
    #[error("the record of attempt {id} is damaged (line {line})")]
    Damaged { id: AttemptId, line: usize },
    #[error("keep must be between 1 and {MAX_KEEP} records, not {keep}")]
    KeepOutOfRange { keep: usize },
    #[error("the history folder: {0}")]
    Io(#[source] std::io::Error),
}

impl HistoryError {
    pub fn code(&self) -> &'static str {
        match self {
            HistoryError::NotFound { .. } => "attempt_not_found",
            HistoryError::Damaged { .. } => "attempt_damaged",
            HistoryError::KeepOutOfRange { .. } => "history_keep_out_of_range",
            HistoryError::Io(_) => "history_io",
        }
    }
}

impl Default for AttemptId {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(verdict: Verdict) -> Attempt {
        let log = AttemptLog::begin(
            std::time::SystemTime::now(),
            ProfileSnapshot {
                name: "mock".to_owned(),
                ..ProfileSnapshot::default()
            },
            Asked::nothing(),
            None,
        );
        let mut attempt = log.finish(Ok(false), &[], std::time::SystemTime::now());
        attempt.verdict = verdict;
        attempt
    }

    #[test]
    fn ids_sort_by_creation_even_within_one_millisecond() {
        let ids: Vec<AttemptId> = (0..50).map(|_| AttemptId::new()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert!(ids.iter().all(|id| AttemptId::parse(id.as_str()).is_some()));
    }

    #[test]
    fn an_id_that_could_name_another_file_is_refused() {
        for text in ["../state", "a/b", "", ".hidden", "x\\y", "a b"] {
            assert!(AttemptId::parse(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn the_newest_records_are_kept_up_to_the_testers_limit() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::in_state_dir(dir.path());
        assert_eq!(history.keep(), DEFAULT_KEEP);
        let saved: Vec<Attempt> = (0..4).map(|_| attempt(Verdict::Failed)).collect();
        for one in &saved {
            history.save(one).unwrap();
        }
        assert_eq!(history.list().0.len(), 4);
        history.set_keep(2).unwrap();
        let kept: Vec<AttemptId> = history.list().0.into_iter().map(|a| a.id).collect();
        assert_eq!(kept, [saved[3].id.clone(), saved[2].id.clone()]);
        assert_eq!(history.keep(), 2);
        assert!(matches!(
            history.set_keep(0),
            Err(HistoryError::KeepOutOfRange { keep: 0 })
        ));
    }

    #[test]
    fn a_newer_record_is_read_and_a_damaged_one_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::in_state_dir(dir.path());
        let one = attempt(Verdict::SignedIn);
        history.save(&one).unwrap();
        let mut newer = serde_json::to_value(attempt(Verdict::Refused)).unwrap();
        newer["format"] = 7.into();
        newer["something_new"] = serde_json::json!({ "a": 1 });
        newer["checks"] = serde_json::json!([{
            "rule": "a_rule_from_later", "description": "d", "outcome": "passed"
        }]);
        let newer_id = newer["id"].as_str().unwrap().to_owned();
        std::fs::write(
            history.dir().join(format!("{newer_id}.json")),
            serde_json::to_vec(&newer).unwrap(),
        )
        .unwrap();
        std::fs::write(
            history.dir().join("2000-01-01T000000.000Z-0000.json"),
            b"{ not json",
        )
        .unwrap();
        let (attempts, damaged) = history.list();
        assert_eq!(damaged, 1);
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0].id.as_str(), newer_id);
        assert_eq!(attempts[0].checks[0].rule, "a_rule_from_later");
    }

    #[test]
    fn times_are_written_with_their_utc_text() {
        let json = serde_json::to_value(Time::at(0)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "unix": 0, "utc": "1970-01-01T00:00:00Z" })
        );
        let back: Time = serde_json::from_value(json).unwrap();
        assert_eq!(back, Time::at(0));
    }
}
