//! The sign-in client against the in-process mock over real HTTP and a real loopback listener,
//! with an in-memory keychain (the keychain itself is proven in `session.rs` and the end-to-end suite) and a clock the test moves.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use careid_core::http::{HttpClient, HttpSettings};
use careid_core::signin::{
    Client, ClientOptions, Clock, ErrorClass, LoginOptions, SessionEvent, SessionWatch,
    SignInError, StoredStatus,
};
use careid_core::{
    CacheFolder, ClientCredential, ClientSecret, EndReason, Keychain, Profiles, RefreshToken,
    Restored, SessionFacts, SessionLock, SessionStore,
};
use mock_cis2::{MockCis2, PushedRequests, RunningMock};

const MOCK_SECRET: &str = "8f2d5c1e-4b7a-4e39-9c06-2a1b3d4e5f60";

/// A clock that starts at the real time and moves only when the test says.
#[derive(Debug)]
struct TestClock(AtomicU64);

impl TestClock {
    fn new() -> Arc<Self> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        Arc::new(Self(AtomicU64::new(now)))
    }

    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs(), Ordering::SeqCst);
    }

    fn rewind(&self, by: Duration) {
        self.0.fetch_sub(by.as_secs(), Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
    }
}

pub(crate) struct Fixture {
    pub(crate) mock: RunningMock,
    pub(crate) client: Arc<Client>,
    clock: Arc<TestClock>,
    pub(crate) store: SessionStore,
    keychain: Keychain,
    _dir: tempfile::TempDir,
}

pub(crate) async fn fixture(user: &str) -> Fixture {
    fixture_with(user, PushedRequests::Offered).await
}

async fn fixture_with(user: &str, pushed: PushedRequests) -> Fixture {
    fixture_of(
        MockCis2::new()
            .auto_login(user.parse().expect("auto-login"))
            .pushed_requests(pushed),
        |_| {},
        MOCK_SECRET,
    )
    .await
}

/// The client of the `mock` profile, as `change` leaves it, with `secret`, on `mock`.
async fn fixture_of(
    mock: MockCis2,
    change: impl FnOnce(&mut careid_core::Profile),
    secret: &str,
) -> Fixture {
    let mock = mock.start().await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let keychain = Keychain::in_memory();
    let store = SessionStore::new(keychain.clone(), dir.path().join("state"));
    let mut profile = Profiles::load(dir.path())
        .expect("profiles")
        .get("mock")
        .expect("mock");
    change(&mut profile);
    let clock = TestClock::new();
    let client = Client::new(
        profile,
        crate::issuer_url(mock.issuer()),
        ClientCredential::Secret(ClientSecret::new(secret.into())),
        HttpClient::new(HttpSettings::default()).expect("http"),
        Arc::new(
            CacheFolder::new(dir.path().join("cache")).provider_cache(Duration::from_secs(3600)),
        ),
        store.clone(),
    )
    .expect("client")
    .with_clock(clock.clone())
    .with_options(ClientOptions {
        retry_delay: Duration::from_millis(10),
        ..ClientOptions::default()
    });
    let client = Arc::new(client);
    Fixture {
        mock,
        client,
        clock,
        store,
        keychain,
        _dir: dir,
    }
}

/// The browser's part: open the link careid hands over, follow it to the authorization URL (the
/// mock signs in without a page) and follow the provider's redirect to the loopback listener.
pub(crate) async fn browse(url: &str) {
    let browser = crate::http()
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .expect("client");
    let _ = browser.get(url).send().await;
}

async fn sign_in(fixture: &Fixture) -> Result<careid_core::signin::Session, SignInError> {
    sign_in_with(fixture, LoginOptions::default()).await
}

/// A sign-in with `options`, the browser's part played by [`browse`].
pub(crate) async fn sign_in_with(
    fixture: &Fixture,
    options: LoginOptions,
) -> Result<careid_core::signin::Session, SignInError> {
    let pending = fixture.client.begin_login(options).await?;
    let url = pending.launch_links().issue().expect("a link");
    let browser = tokio::spawn(async move { browse(&url).await });
    let session = pending
        .finish(
            &fixture.client,
            Duration::from_secs(20),
            std::future::pending(),
        )
        .await;
    browser.await.expect("browser");
    session
}

fn revocations(mock: &RunningMock) -> usize {
    mock.request_log()
        .iter()
        .filter(|request| request.endpoint == "/token/revoke")
        .count()
}

fn endpoints_since(mock: &RunningMock, from: usize) -> Vec<String> {
    mock.request_log()[from..]
        .iter()
        .map(|request| request.endpoint.clone())
        .collect()
}

/// Within its lifetime the kept access token serves UserInfo; a minute (the skew) before it
/// expires, the restore refreshes first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signs_in_and_restores_with_the_kept_access_token_then_one_refresh_near_expiry() {
    let fixture = fixture("555057896106").await;
    let session = sign_in(&fixture).await.expect("signed in");
    assert_eq!(session.facts.sub, "555057896106");
    assert!(session.refreshable);
    let from = fixture.mock.request_log().len();
    let restored = fixture.client.use_session().await.expect("restored");
    assert_eq!(endpoints_since(&fixture.mock, from), ["/userinfo"]);
    assert_eq!(restored.facts.sub, "555057896106");
    assert_eq!(
        restored.tokens.access_token, session.tokens.access_token,
        "the sign-in's access token, kept"
    );

    // The mock's tokens live an hour: 59 minutes on, the token is within the skew.
    fixture.clock.advance(Duration::from_secs(59 * 60));
    fixture.client.record_activity().await.expect("active");
    let from = fixture.mock.request_log().len();
    let refreshed = fixture.client.use_session().await.expect("restored");
    assert_eq!(
        endpoints_since(&fixture.mock, from),
        ["/access_token", "/userinfo"]
    );
    assert_ne!(refreshed.tokens.access_token, session.tokens.access_token);
}

/// `careid token`'s restore: no request at all while the kept token is valid, the same token,
/// the refresh token untouched; a refresh when asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_for_use_make_no_request_while_the_kept_token_is_valid() {
    let fixture = fixture("555057896106").await;
    let session = sign_in(&fixture).await.expect("signed in");
    let refresh_token = |store: &SessionStore| match store.load("mock").expect("load") {
        Restored::Session(loaded) => loaded.refresh_token.expect("kept"),
        Restored::SignedOut(reason) => panic!("signed out: {reason}"),
    };
    let before = refresh_token(&fixture.store);
    let from = fixture.mock.request_log().len();
    for _ in 0..3 {
        let tokens = fixture.client.tokens_for_use().await.expect("tokens");
        assert_eq!(tokens.tokens.access_token, session.tokens.access_token);
        assert!(
            tokens.tokens.id_token.is_none(),
            "the ID token is read only when asked"
        );
        let tokens = fixture.client.id_token_for_use().await.expect("tokens");
        assert!(tokens.tokens.id_token.is_some(), "the kept ID token");
    }
    assert_eq!(endpoints_since(&fixture.mock, from), Vec::<String>::new());
    assert_eq!(refresh_token(&fixture.store), before, "nothing rotated");

    let fresh = fixture.client.fresh_tokens_for_use().await.expect("tokens");
    assert_eq!(endpoints_since(&fixture.mock, from), ["/access_token"]);
    assert_ne!(fresh.tokens.access_token, session.tokens.access_token);
    let again = fixture.client.tokens_for_use().await.expect("tokens");
    assert_eq!(
        again.tokens.access_token, fresh.tokens.access_token,
        "the refreshed token is kept in turn"
    );
    assert_ne!(refresh_token(&fixture.store), before, "rotated once");
}

/// The provider refuses the kept access token (revoked there): UserInfo's 401 leads to one
/// refresh and one more UserInfo request, and the new token is kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_access_token_is_refreshed_once_and_userinfo_retried() {
    let fixture = fixture("555057896106").await;
    let session = sign_in(&fixture).await.expect("signed in");
    let revocation = format!("{}/token/revoke", fixture.mock.issuer());
    let answer = crate::http()
        .build()
        .unwrap()
        .post(revocation)
        .basic_auth("555000000001.apps.local", Some(MOCK_SECRET))
        .form(&[("token", session.tokens.access_token.expose_secret())])
        .send()
        .await
        .expect("revoked");
    assert!(answer.status().is_success());
    let from = fixture.mock.request_log().len();
    let restored = fixture.client.use_session().await.expect("restored");
    let log = fixture.mock.request_log();
    let answered: Vec<_> = log[from..]
        .iter()
        .map(|request| (request.endpoint.as_str(), request.status))
        .collect();
    assert_eq!(
        answered,
        [
            ("/userinfo", 401),
            ("/access_token", 200),
            ("/userinfo", 200)
        ]
    );
    let kept = fixture.client.tokens_for_use().await.expect("tokens");
    assert_eq!(kept.tokens.access_token, restored.tokens.access_token);
    assert_eq!(fixture.mock.request_log().len(), log.len(), "no request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inactivity_ends_the_session_by_the_injected_clock() {
    let fixture = fixture("555057896106").await;
    sign_in(&fixture).await.expect("signed in");
    fixture.clock.advance(Duration::from_secs(14 * 60));
    fixture
        .client
        .tokens_for_use()
        .await
        .expect("still active after 14 minutes");
    // The restore was activity: 14 more minutes are fine, 15 more are not.
    fixture.clock.advance(Duration::from_secs(14 * 60));
    fixture.client.end_if_over_limit().await.expect("active");
    fixture.clock.advance(Duration::from_secs(60));
    // The query only says so: nothing revoked or deleted.
    match fixture.client.session_status().expect("status") {
        StoredStatus::Session(stored) => assert_eq!(stored.due, Some(EndReason::Inactivity)),
        other => panic!("still stored: {other:?}"),
    }
    assert_eq!(revocations(&fixture.mock), 0, "a query revokes nothing");
    let error = fixture.client.end_if_over_limit().await.expect_err("ended");
    assert_eq!(error.code(), "session_ended");
    assert_eq!(error.end_reason(), Some(EndReason::Inactivity));
    assert_eq!(error.class(), ErrorClass::NotSignedIn);
    assert!(
        error.to_string().contains("no activity for 15 minutes"),
        "{error}"
    );
    assert_eq!(
        revocations(&fixture.mock),
        1,
        "the refresh token was revoked"
    );
    match fixture.client.session_status().expect("status") {
        StoredStatus::SignedOut(reason) => {
            assert_eq!(
                reason.end().map(|end| end.reason),
                Some(EndReason::Inactivity)
            )
        }
        other => panic!("ended: {other:?}"),
    }
    // Said again to whoever asks next, without asking the provider.
    let again = fixture.client.tokens_for_use().await.expect_err("ended");
    assert_eq!(again.end_reason(), Some(EndReason::Inactivity));
    assert!(
        again.to_string().contains("no activity for 15 minutes"),
        "{again}"
    );
}

/// A script calling `careid token` in a loop: activity alone is written at most every
/// `ACTIVITY_WRITE_EVERY` (no file write and sync per call), and it still moves the inactivity
/// limit on once that has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_alone_is_written_at_most_every_twenty_seconds() {
    let fixture = fixture("555057896106").await;
    sign_in(&fixture).await.expect("signed in");
    let path = fixture.store.state_path("mock").expect("path");
    let written = || std::fs::read(&path).expect("state");
    let last_activity = |fixture: &Fixture| match fixture.store.load("mock").expect("load") {
        Restored::Session(loaded) => loaded.facts.last_activity,
        Restored::SignedOut(reason) => panic!("signed out: {reason}"),
    };
    let at_sign_in = last_activity(&fixture);
    let before = written();
    let soon = careid_core::ACTIVITY_WRITE_EVERY - Duration::from_secs(1);
    fixture.clock.advance(soon);
    let used = fixture.client.tokens_for_use().await.expect("tokens");
    assert_eq!(written(), before, "not written again within the interval");
    assert_eq!(used.facts.last_activity, at_sign_in, "the facts as stored");

    fixture.clock.advance(Duration::from_secs(2));
    fixture.client.tokens_for_use().await.expect("tokens");
    assert_ne!(written(), before, "written once the interval has passed");
    assert_eq!(
        last_activity(&fixture),
        at_sign_in + careid_core::ACTIVITY_WRITE_EVERY.as_secs() + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_absolute_limit_ends_the_session_despite_activity() {
    let fixture = fixture("555057896106").await;
    sign_in(&fixture).await.expect("signed in");
    // Ten minutes past the limit: the limit runs from the provider's auth_time, taken from its
    // own clock, which is ahead of the frozen test clock by however long the sign-in took.
    for _ in 0..=(12 * 60 / 10) {
        fixture.clock.advance(Duration::from_secs(600));
        if fixture.client.record_activity().await.is_err() {
            break;
        }
    }
    let error = fixture.client.end_if_over_limit().await.expect_err("ended");
    assert!(error.to_string().contains("12-hour limit"), "{error}");
    assert_eq!(error.end_reason(), Some(EndReason::AbsoluteLimit));
    assert_eq!(revocations(&fixture.mock), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_fault_keeps_the_refresh_token_and_invalid_grant_deletes_it() {
    let fixture = fixture("555057896106").await;
    sign_in(&fixture).await.expect("signed in");
    fixture
        .mock
        .arm_fault("http_503@token".parse().expect("fault"), None);
    let error = fixture
        .client
        .fresh_tokens_for_use()
        .await
        .expect_err("unavailable");
    assert!(error.is_transient(), "{error}");
    let attempts = fixture
        .mock
        .request_log()
        .iter()
        .filter(|request| request.endpoint == "/access_token" && request.status == 503)
        .count();
    assert_eq!(attempts, 3, "retried with backoff, then gave up");
    assert!(matches!(
        fixture.store.load("mock").expect("load"),
        Restored::Session(_)
    ));
    fixture.mock.clear_faults();
    fixture
        .client
        .fresh_tokens_for_use()
        .await
        .expect("the kept token works");

    fixture
        .mock
        .arm_fault("refresh_revoked".parse().expect("fault"), Some(1));
    let error = fixture
        .client
        .fresh_tokens_for_use()
        .await
        .expect_err("revoked");
    assert_eq!(error.code(), "refresh_rejected");
    assert_eq!(error.end_reason(), Some(EndReason::RefreshRejected));
    assert_eq!(
        fixture.store.last_end("mock").map(|end| end.reason),
        Some(EndReason::RefreshRejected)
    );
    assert!(matches!(
        fixture.store.load("mock").expect("load"),
        Restored::SignedOut(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_id_token_stores_nothing() {
    let fixture = fixture("555057896106").await;
    fixture
        .mock
        .arm_fault("wrong_nonce".parse().expect("fault"), Some(1));
    let error = sign_in(&fixture).await.expect_err("rejected");
    assert_eq!(error.code(), "id_token_wrong_nonce");
    assert!(matches!(
        fixture.store.load("mock").expect("load"),
        Restored::SignedOut(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotated_without_notice_are_refetched_once() {
    let fixture = fixture("555057896106").await;
    fixture.mock.arm_fault(
        "jwks_rotated_without_notice".parse().expect("fault"),
        Some(1),
    );
    sign_in(&fixture)
        .await
        .expect("signed in with the refetched keys");
    let jwks = fixture
        .mock
        .request_log()
        .iter()
        .filter(|request| request.endpoint == "/connect/jwk_uri")
        .count();
    assert_eq!(jwks, 2, "the prefetch and one refetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_output_of_every_secret_holder_is_redacted() {
    // Without a pushed request the state is in the URL, to look for in the output.
    let fixture = fixture_with("555057896106", PushedRequests::Off).await;
    let pending = fixture
        .client
        .begin_login(LoginOptions::default())
        .await
        .expect("begin");
    let url = url::Url::parse(pending.authorization_url()).expect("URL");
    let state = url
        .query_pairs()
        .find(|(name, _)| name == "state")
        .expect("state")
        .1
        .into_owned();
    let pending_debug = format!("{pending:?}");
    assert!(!pending_debug.contains(&state), "{pending_debug}");
    let address = pending.authorization_url().to_owned();
    let browser = tokio::spawn(async move { browse(&address).await });
    let session = pending
        .finish(
            &fixture.client,
            Duration::from_secs(20),
            std::future::pending(),
        )
        .await
        .expect("signed in");
    browser.await.expect("browser");
    let access = session.tokens.access_token.expose_secret().to_owned();
    let id = session
        .tokens
        .id_token
        .as_ref()
        .expect("ID token")
        .expose_secret()
        .to_owned();
    let signature = id.rsplit('.').next().expect("signature").to_owned();
    for text in [
        format!("{session:?}"),
        format!("{:?}", session.tokens),
        format!("{:?}", fixture.client),
    ] {
        assert!(!text.contains(&access), "access token in {text}");
        assert!(!text.contains(&signature), "ID token in {text}");
        assert!(!text.contains(MOCK_SECRET), "client secret in {text}");
    }
    let Restored::Session(loaded) = fixture.store.load("mock").expect("load") else {
        panic!("stored")
    };
    let refresh = loaded
        .refresh_token
        .as_ref()
        .expect("refresh token")
        .expose_secret()
        .to_owned();
    assert!(!format!("{loaded:?}").contains(&refresh));
}

/// The state file is read, changed and written whole. A change made while another process
/// holds the session lock (here: signs a second user in) waits for it, and then starts from
/// what that process wrote, never from what it read before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recording_activity_waits_for_the_session_lock_and_keeps_a_new_sign_in() {
    let fixture = fixture("555057896106").await;
    sign_in(&fixture).await.expect("signed in");
    let first = match fixture.store.load("mock").expect("load") {
        Restored::Session(loaded) => loaded.facts,
        Restored::SignedOut(reason) => panic!("signed out: {reason}"),
    };

    // "Another process" signs another user in on the same profile, holding the lock.
    let held = SessionLock::acquire(fixture.store.state_dir(), "mock", Duration::ZERO)
        .expect("the lock is free");
    let second = SessionFacts {
        sub: "555000000002".into(),
        ..first.clone()
    };
    let second_token = RefreshToken::new("rt-second-user".into());
    fixture
        .store
        .save(&held, &second, Some(&second_token))
        .expect("the other process saves");

    let client = Arc::new(fixture.client);
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { client.record_activity().await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "activity waits while the lock is held"
    );
    drop(held);

    let recorded = waiting.await.expect("task").expect("recorded");
    assert_eq!(recorded.sub, "555000000002", "it read the new sign-in");
    match fixture.store.load("mock").expect("load") {
        Restored::Session(loaded) => {
            assert_eq!(loaded.facts.sub, "555000000002");
            assert_eq!(loaded.refresh_token, Some(second_token));
        }
        Restored::SignedOut(reason) => panic!("the new sign-in was written over: {reason}"),
    }
}

/// A change that cannot get the lock in time fails with its own code and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_cannot_get_the_session_lock_gives_up_and_changes_nothing() {
    let fixture = fixture("555057896106").await;
    sign_in(&fixture).await.expect("signed in");
    let before = std::fs::read(fixture.store.state_path("mock").expect("path")).expect("state");
    let client = Arc::into_inner(fixture.client)
        .expect("one owner")
        .with_options(ClientOptions {
            lock_timeout: Duration::from_millis(200),
            ..ClientOptions::default()
        });
    let _held = SessionLock::acquire(fixture.store.state_dir(), "mock", Duration::ZERO)
        .expect("the lock is free");

    fixture.clock.advance(Duration::from_secs(60));
    let error = client.record_activity().await.expect_err("gave up");
    assert!(
        error.to_string().contains("another careid process"),
        "{error}"
    );
    assert_eq!(error.code(), "session_lock_timeout");
    assert_eq!(
        error.class(),
        ErrorClass::Cancelled,
        "a wait that timed out"
    );
    let error = client.logout(None).await.expect_err("gave up");
    assert!(
        error.to_string().contains("another careid process"),
        "{error}"
    );
    assert_eq!(
        std::fs::read(fixture.store.state_path("mock").expect("path")).expect("state"),
        before,
        "the state file is untouched"
    );
    assert_eq!(revocations(&fixture.mock), 0, "nothing was revoked");
}

/// Signing out after the state file was damaged still revokes the refresh token the keychain
/// holds, and deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_and_deletes_a_token_whose_state_file_is_damaged() {
    let fixture = fixture("555057896106").await;
    sign_in(&fixture).await.expect("signed in");
    let path = fixture.store.state_path("mock").expect("path");
    std::fs::write(&path, "{\"facts\": damaged").expect("damaged");
    assert!(
        fixture.client.end_if_over_limit().await.is_err(),
        "reads as signed out"
    );

    let outcome = fixture.client.logout(None).await.expect("signed out");
    assert_eq!(outcome.signed_out.as_deref(), Some("555057896106"));
    assert_eq!(outcome.revocation, "revoked");
    assert_eq!(revocations(&fixture.mock), 1);
    let lock = SessionLock::acquire(fixture.store.state_dir(), "mock", Duration::ZERO)
        .expect("the lock is free");
    assert!(fixture
        .store
        .orphaned_refresh_tokens(&lock)
        .expect("listed")
        .is_empty());
    assert!(!path.exists());

    // A second sign-out finds nothing left to do.
    drop(lock);
    let again = fixture.client.logout(None).await.expect("signed out");
    assert_eq!(again.signed_out, None);
    assert_eq!(again.revocation, "no_session");
    assert_eq!(revocations(&fixture.mock), 1);
}

/// Choosing a role changes only the role in the stored facts: activity recorded since the
/// session was restored is kept, not written back to the restore's copy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn choosing_a_role_keeps_activity_recorded_since_the_restore() {
    let fixture = fixture("555057896106").await;
    sign_in(&fixture).await.expect("signed in");
    let mut session = fixture.client.resume().await.expect("restored");
    let role_id = session
        .role
        .as_ref()
        .and_then(|choice| choice.role())
        .map(|role| role.person_roleid.clone())
        .expect("the user's one role");

    fixture.clock.advance(Duration::from_secs(300));
    let active = fixture.client.record_activity().await.expect("recorded");
    assert!(active.last_activity > session.facts.last_activity);

    fixture
        .client
        .apply_role(&mut session, &role_id)
        .await
        .expect("chosen");
    let stored = match fixture.store.load("mock").expect("load") {
        Restored::Session(loaded) => loaded.facts,
        Restored::SignedOut(reason) => panic!("signed out: {reason}"),
    };
    assert_eq!(stored.last_activity, active.last_activity);
    assert_eq!(stored.selected_role_id.as_deref(), Some(role_id.as_str()));
    assert_eq!(
        session.facts, stored,
        "the caller's copy is what was written"
    );
}

/// A provider whose clock is ahead of ours (within the allowed skew) issues an `auth_time` in
/// our future. It is kept as the provider said it, so a refreshed ID token, which repeats it,
/// still matches; the session limits count it as now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_clock_ahead_of_ours_keeps_the_session_restorable() {
    let fixture = fixture("555057896106").await;
    fixture.clock.rewind(Duration::from_secs(90));
    let session = sign_in(&fixture).await.expect("signed in within the skew");
    let now = fixture
        .clock
        .now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    assert!(
        session.facts.auth_time > now,
        "the provider's time, ahead of ours"
    );

    let restored = fixture.client.refresh_quietly().await.expect("refreshed");
    assert!(restored.id_token.is_some(), "a refreshed ID token, checked");
    assert_eq!(restored.facts.auth_time, session.facts.auth_time);
    let status = fixture.client.end_if_over_limit().await.expect("active");
    assert_eq!(
        status.ends_at,
        now + 12 * 3600,
        "the absolute limit runs from our now, never from the provider's future"
    );
}

/// RFC 9126: when discovery advertises a pushed authorization request endpoint, the parameters
/// go there with client authentication, and the browser's address holds only `client_id` and
/// `request_uri`. The browser itself is given a one-time link on the sign-in's loopback listener.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_request_keeps_the_parameters_off_the_browsers_address() {
    for (name, pushed, expect_pushed) in [
        ("offered", PushedRequests::Offered, true),
        ("required", PushedRequests::Required, true),
        ("off", PushedRequests::Off, false),
    ] {
        let fixture = fixture_with("555057896106", pushed).await;
        let pending = fixture
            .client
            .begin_login(LoginOptions::default())
            .await
            .expect("begin");
        let url = url::Url::parse(pending.authorization_url()).expect("URL");
        let names: Vec<String> = url
            .query_pairs()
            .map(|(name, _)| name.into_owned())
            .collect();
        if expect_pushed {
            assert_eq!(names, ["client_id", "request_uri"], "{name}");
        } else {
            assert!(
                names.iter().any(|n| n == "state") && names.iter().any(|n| n == "code_challenge"),
                "{name}: {names:?}"
            );
        }
        // The browser gets a one-time loopback link: no parameter of the sign-in in it.
        let links = pending.launch_links();
        let link = links.issue().expect("a link");
        let parsed = url::Url::parse(&link).expect("a URL");
        assert_eq!(parsed.host_str(), Some("127.0.0.1"), "{name}");
        let redirect = url::Url::parse(pending.redirect_uri().as_str()).expect("a URL");
        assert_eq!(
            parsed.port(),
            redirect.port(),
            "{name}: the sign-in's own listener"
        );
        assert!(parsed.path().starts_with("/launch/"), "{name}: {link}");
        assert_eq!(parsed.query(), None, "{name}: {link}");
        let authorization_url = pending.authorization_url().to_owned();
        // The listener answers while the sign-in waits.
        let client = Arc::clone(&fixture.client);
        let waiting = tokio::spawn(async move {
            pending
                .finish(&client, Duration::from_secs(20), std::future::pending())
                .await
        });
        // The link leads to the authorization URL, once.
        let no_redirects = crate::http()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let answer = no_redirects.get(&link).send().await.expect("answered");
        assert_eq!(answer.status(), 303, "{name}");
        assert_eq!(
            answer.headers()["location"],
            authorization_url.as_str(),
            "{name}"
        );
        assert_eq!(answer.headers()["cache-control"], "no-store", "{name}");
        assert_eq!(answer.headers()["referrer-policy"], "no-referrer", "{name}");
        let again = no_redirects.get(&link).send().await.expect("answered");
        assert_eq!(again.status(), 410, "{name}: the link works once");
        // "Open the browser again" takes a new link, and the sign-in completes through it.
        let address = links.issue().expect("another link");
        assert_ne!(address, link, "{name}");
        browse(&address).await;
        waiting
            .await
            .expect("the sign-in's task")
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let pushes = fixture
            .mock
            .request_log()
            .iter()
            .filter(|request| request.endpoint == "/par")
            .count();
        assert_eq!(pushes, usize::from(expect_pushed), "{name}");
    }
}

/// The profile's `par` against what the provider offers: `auto` pushes when PAR is offered and
/// not otherwise (CIS2 today, or lean discovery), `always` refuses a provider without it and
/// `never` sends the request in the URL, refused by a provider that requires PAR. Each refusal
/// comes before the browser opens.
#[tokio::test]
async fn the_profiles_par_setting_meets_what_the_provider_offers() {
    use careid_core::PushedRequests as Par;
    use mock_cis2::Mode;
    let cases = [
        (Par::Auto, PushedRequests::Offered, None, Ok(true)),
        (Par::Auto, PushedRequests::Off, None, Ok(false)),
        (
            Par::Auto,
            PushedRequests::Offered,
            Some(Mode::LeanDiscovery),
            Ok(false),
        ),
        (Par::Always, PushedRequests::Offered, None, Ok(true)),
        (
            Par::Always,
            PushedRequests::Off,
            None,
            Err("par_not_offered"),
        ),
        (
            Par::Always,
            PushedRequests::Offered,
            Some(Mode::LeanDiscovery),
            Err("par_not_offered"),
        ),
        (Par::Never, PushedRequests::Offered, None, Ok(false)),
        (
            Par::Never,
            PushedRequests::Required,
            None,
            Err("par_required"),
        ),
    ];
    for (setting, offer, mode, expected) in cases {
        let name = format!("par = {} with {offer:?} {mode:?}", setting.as_str());
        let mut mock = MockCis2::new()
            .auto_login("555057896106".parse().expect("auto-login"))
            .pushed_requests(offer);
        if let Some(mode) = mode {
            mock = mock.mode(mode);
        }
        let fixture = fixture_of(mock, |profile| profile.par = setting, MOCK_SECRET).await;
        let begun = fixture.client.begin_login(LoginOptions::default()).await;
        let pushes = fixture
            .mock
            .request_log()
            .iter()
            .filter(|request| request.endpoint == "/par")
            .count();
        match (expected, begun) {
            (Ok(pushed), Ok(pending)) => {
                let url = url::Url::parse(pending.authorization_url()).expect("URL");
                let by_reference = url.query_pairs().any(|(name, _)| name == "request_uri");
                assert_eq!(by_reference, pushed, "{name}");
                assert_eq!(pushes, usize::from(pushed), "{name}");
            }
            (Err(code), Err(error)) => {
                assert_eq!(error.code(), code, "{name}: {error}");
                assert_eq!(error.class(), ErrorClass::Usage, "{name}");
                assert!(error.to_string().contains("par = "), "{name}: {error}");
                assert_eq!(pushes, 0, "{name}");
            }
            (expected, Ok(_)) => panic!("{name}: expected {expected:?}, began"),
            (expected, Err(error)) => panic!("{name}: expected {expected:?}, got {error}"),
        }
    }
}

/// A client authentication the provider's discovery does not list is refused before the
/// browser opens, naming the methods it lists: not after the user signed in, as the provider's
/// `invalid_client` would be.
#[tokio::test]
async fn a_client_authentication_the_provider_does_not_take_is_refused_before_the_browser() {
    use mock_cis2::ClientAuthMethod;
    let mock = MockCis2::new()
        .auto_login("555057896106".parse().expect("auto-login"))
        .token_endpoint_auth_methods(&[
            ClientAuthMethod::PrivateKeyJwt,
            ClientAuthMethod::ClientSecretJwt,
        ]);
    // The mock profile's client authenticates with client_secret_basic.
    let fixture = fixture_of(mock, |_| {}, MOCK_SECRET).await;
    let error = fixture
        .client
        .begin_login(LoginOptions::default())
        .await
        .expect_err("refused");
    assert_eq!(error.code(), "client_auth_not_offered", "{error}");
    assert_eq!(error.class(), ErrorClass::Usage);
    let message = error.to_string();
    assert!(
        message.contains("does not take client_secret_basic")
            && message.contains("lists private_key_jwt, client_secret_jwt"),
        "{message}"
    );
    let asked: Vec<String> = endpoints_since(&fixture.mock, 0);
    assert_eq!(
        asked,
        ["/.well-known/openid-configuration"],
        "nothing after discovery"
    );
}

/// An empty `acr_values` (how a profile turns off a built-in's default level) asks for no level:
/// the parameter is left out rather than sent empty.
#[tokio::test]
async fn an_empty_acr_values_asks_for_no_level() {
    let fixture = fixture_with("555057896106", PushedRequests::Off).await;
    for (acr_values, sent) in [("", None), (" ", None), ("AAL3_ANY", Some("AAL3_ANY"))] {
        let pending = fixture
            .client
            .begin_login(LoginOptions {
                acr_values: Some(acr_values.into()),
                ..LoginOptions::default()
            })
            .await
            .expect("begin");
        let url = url::Url::parse(pending.authorization_url()).expect("URL");
        let found = url
            .query_pairs()
            .find(|(name, _)| name == "acr_values")
            .map(|(_, value)| value.into_owned());
        assert_eq!(found.as_deref(), sent, "{acr_values:?}");
    }
}

/// The mock's client that gets no refresh token (its session lasts as long as its tokens).
const NO_REFRESH_CLIENT: &str = "555000000007.apps.local";
const NO_REFRESH_SECRET: &str = "0d7c4b2a-9e1f-4a63-b8d5-3c2e1f0a9b87";

/// The watcher's next event within `within` of real time.
async fn next_event(
    watch: &mut SessionWatch,
    client: &Arc<Client>,
    within: Duration,
) -> SessionEvent {
    tokio::time::timeout(within, async {
        loop {
            if let Some(event) = watch.next(client).await {
                return event;
            }
        }
    })
    .await
    .expect("an event in time")
}

/// How the watched session is made to end, in each case.
#[derive(Debug, Clone, Copy)]
enum EndBy {
    /// The test clock moves past the inactivity limit.
    Idle,
    /// Activity every 10 minutes until the absolute limit passes.
    BusyForADay,
    /// Another careid process signs out.
    SignOutElsewhere,
    /// A session without a refresh token: its tokens run out.
    TokensRunOut,
    /// The provider answers the due refresh with `invalid_grant`.
    RefreshRevoked,
    /// The due refresh's ID token fails a check.
    RefreshAnswerBad,
    /// The refresh token is deleted from the keychain before the due refresh.
    KeychainEntryDeleted,
}

/// Every end the watcher can see without a broker comes out as `Ended` with its reason, the
/// session deleted, and the end recorded for whoever looks next.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_reports_each_end_with_its_reason() {
    use EndBy::*;
    let cases = [
        (Idle, EndReason::Inactivity),
        (BusyForADay, EndReason::AbsoluteLimit),
        (SignOutElsewhere, EndReason::SignedOutHere),
        (TokensRunOut, EndReason::TokensExpiredWithoutRefresh),
        (RefreshRevoked, EndReason::RefreshRejected),
        (RefreshAnswerBad, EndReason::ResponseRejected),
        (KeychainEntryDeleted, EndReason::KeychainCleared),
    ];
    for (how, expected) in cases {
        // 62-second tokens: a refresh is due two seconds after sign-in.
        let mock = MockCis2::new()
            .auto_login("555057896106".parse().expect("auto-login"))
            .token_lifetime(Duration::from_secs(62));
        let fixture = match how {
            TokensRunOut => {
                fixture_of(
                    mock,
                    |profile| profile.client_id = Some(NO_REFRESH_CLIENT.into()),
                    NO_REFRESH_SECRET,
                )
                .await
            }
            _ => fixture_of(mock, |_| {}, MOCK_SECRET).await,
        };
        let session = sign_in(&fixture).await.expect("signed in");
        let mut watch = SessionWatch::new(&session);
        let client = &fixture.client;
        match how {
            Idle => fixture.clock.advance(Duration::from_secs(15 * 60)),
            BusyForADay => {
                for _ in 0..=(12 * 60 / 10) {
                    fixture.clock.advance(Duration::from_secs(600));
                    if client.record_activity().await.is_err() {
                        break;
                    }
                }
            }
            SignOutElsewhere => {
                client.logout(None).await.expect("signed out");
            }
            TokensRunOut => fixture.clock.advance(Duration::from_secs(63)),
            RefreshRevoked => {
                fixture
                    .mock
                    .arm_fault("refresh_revoked".parse().expect("fault"), Some(1));
                fixture.clock.advance(Duration::from_secs(3));
            }
            RefreshAnswerBad => {
                fixture
                    .mock
                    .arm_fault("wrong_at_hash".parse().expect("fault"), Some(1));
                fixture.clock.advance(Duration::from_secs(3));
            }
            KeychainEntryDeleted => {
                fixture
                    .keychain
                    .delete(&careid_core::session::refresh_token_account(&session.facts))
                    .expect("deleted behind careid's back");
                fixture.clock.advance(Duration::from_secs(3));
            }
        }
        let event = next_event(&mut watch, client, Duration::from_secs(20)).await;
        let SessionEvent::Ended(end) = event else {
            panic!("{how:?}: not an end: {event:?}");
        };
        assert_eq!(end.reason, expected, "{how:?}: {end:?}");
        assert!(end.ends(&session.facts), "{how:?}");
        assert!(
            matches!(
                fixture.store.load("mock").expect("load"),
                Restored::SignedOut(_)
            ),
            "{how:?}: deleted"
        );
        assert_eq!(
            fixture.store.last_end("mock").map(|end| end.reason),
            Some(expected),
            "{how:?}: recorded"
        );
        assert!(
            watch.next(client).await.is_none(),
            "{how:?}: nothing more is said"
        );
    }
}

/// Refreshed before expiry, and changes another process makes to the facts, come out as events;
/// so does a failed refresh that trying again may cure: nothing, until it works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_refreshes_before_expiry_and_follows_changes_elsewhere() {
    let fixture = fixture_of(
        MockCis2::new()
            .auto_login("555057896106".parse().expect("auto-login"))
            .token_lifetime(Duration::from_secs(62)),
        |_| {},
        MOCK_SECRET,
    )
    .await;
    let session = sign_in(&fixture).await.expect("signed in");
    let client = &fixture.client;
    let mut watch = SessionWatch::new(&session);

    // Another process records activity.
    fixture.clock.advance(Duration::from_secs(1));
    let facts = client.record_activity().await.expect("recorded");
    match next_event(&mut watch, client, Duration::from_secs(10)).await {
        SessionEvent::Changed(changed) => assert_eq!(changed, facts),
        other => panic!("not a change: {other:?}"),
    }

    // The provider is away when the refresh falls due: no event, the session kept.
    fixture
        .mock
        .arm_fault("http_503@token".parse().expect("fault"), None);
    fixture.clock.advance(Duration::from_secs(2));
    for _ in 0..2 {
        assert!(watch.next(client).await.is_none(), "kept, retried later");
    }
    assert!(matches!(
        fixture.store.load("mock").expect("load"),
        Restored::Session(_)
    ));
    // Back: a new watch (the first one waits out its backoff) refreshes at once, after saying
    // the facts moved on since the session it was given.
    fixture.mock.clear_faults();
    let mut watch = SessionWatch::new(&session);
    assert!(matches!(
        next_event(&mut watch, client, Duration::from_secs(10)).await,
        SessionEvent::Changed(_)
    ));
    match next_event(&mut watch, client, Duration::from_secs(10)).await {
        SessionEvent::Refreshed(refreshed) => {
            assert_ne!(refreshed.tokens.access_token, session.tokens.access_token);
        }
        other => panic!("not a refresh: {other:?}"),
    }
}
