//! Every command through Tauri's IPC on the mock runtime, against the real desk: a real
//! built-in mock, the real keychain (a service name of the test's own), real loopback
//! listeners; the "system browser" is a plain HTTP client that follows the mock's
//! auto-login redirects to the listener.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindowBuilder;

use super::*;

/// Whether `text` holds a JWT (by its shape, not three letters a random `jti` can hold).
fn has_jwt(text: &str) -> bool {
    !careid_test_fixtures::jwt::jwt_shaped(text).is_empty()
}

struct Shell {
    _app: tauri::App<tauri::test::MockRuntime>,
    window: tauri::WebviewWindow<tauri::test::MockRuntime>,
    opened: Arc<Mutex<Vec<String>>>,
    /// Where each opened link redirected, as the browser followed it.
    led_to: Arc<Mutex<Vec<String>>>,
    published: Arc<Mutex<usize>>,
    /// Each time the desk asked for the user's attention, with what it would say.
    attention: Arc<Mutex<Vec<String>>>,
    host: Host,
    _config: tempfile::TempDir,
}

/// How long a copied access token stays on the clipboard in these tests.
const SHELL_SECRET_ON_CLIPBOARD_FOR: Duration = Duration::from_millis(500);

/// The app on the mock runtime. With `auto_login`, the mock signs that user in without a
/// page and the browser hook completes the visit; without, the browser hook only records.
fn shell(auto_login: Option<&str>) -> Shell {
    shell_with(
        tempfile::tempdir().expect("temporary folder"),
        auto_login,
        auto_login.is_some(),
    )
}

/// The app with its folders in `config`; its browser follows the provider's redirects when
/// `follow`.
fn shell_with(config: tempfile::TempDir, auto_login: Option<&str>, follow: bool) -> Shell {
    let unique = config
        .path()
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let options = HostOptions {
        config_dir: Some(config.path().to_owned()),
        keychain_service: Some(format!("careid-shell-test-{unique}")),
        ..HostOptions::default()
    };
    let host = Host::new(options.clone()).expect("host");
    let settings = DeskSettings {
        sign_in_timeout: Duration::from_secs(30),
        mock_auto_login: auto_login.map(|user| user.parse().expect("auto-login")),
        preferences_path: config.path().join("desktop.json"),
        secret_on_clipboard_for: SHELL_SECRET_ON_CLIPBOARD_FOR,
    };
    let opened = Arc::new(Mutex::new(Vec::new()));
    let led_to = Arc::new(Mutex::new(Vec::new()));
    let published = Arc::new(Mutex::new(0));
    let attention = Arc::new(Mutex::new(Vec::new()));
    let hooks = Hooks {
        publish: Box::new({
            let published = Arc::clone(&published);
            move |_| *published.lock().unwrap() += 1
        }),
        bring_to_front: Box::new(|| {}),
        attention: Box::new({
            let attention = Arc::clone(&attention);
            move |message| attention.lock().unwrap().push(message.to_owned())
        }),
        open_browser: Box::new({
            let (opened, led_to) = (Arc::clone(&opened), Arc::clone(&led_to));
            move |url| {
                opened.lock().unwrap().push(url.to_owned());
                if follow {
                    // A one-time loopback link that redirects to the provider: noted, then
                    // followed on.
                    let (url, led_to) = (url.to_owned(), Arc::clone(&led_to));
                    std::thread::spawn(move || {
                        let link: ureq::Agent = ureq::Agent::config_builder()
                            .max_redirects(0)
                            .http_status_as_error(false)
                            .build()
                            .into();
                        let Ok(answer) = link.get(&url).call() else {
                            return;
                        };
                        let Some(location) = answer
                            .headers()
                            .get("location")
                            .and_then(|value| value.to_str().ok())
                            .map(str::to_owned)
                        else {
                            return;
                        };
                        led_to.lock().unwrap().push(location.clone());
                        let _ = ureq::get(&location).call();
                    });
                }
                Ok(())
            }
        }),
    };
    let app = run_app(
        mock_builder(),
        mock_context(noop_assets()),
        host,
        settings,
        Some(hooks),
    )
    .expect("app builds");
    let window = WebviewWindowBuilder::new(&app, MAIN_WINDOW, Default::default())
        .build()
        .expect("window builds");
    start_desk(app.handle());
    let shell = Shell {
        _app: app,
        window,
        opened,
        led_to,
        published,
        attention,
        host: Host::new(options).expect("a second look at the same folders"),
        _config: config,
    };
    shell.wait_for_screen("home");
    shell
}

/// `command` with `args` through the IPC of `window`, as the UI calls it.
fn invoke_on(
    window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
    command: &str,
    args: Value,
) -> Result<Value, Value> {
    get_ipc_response(
        window,
        InvokeRequest {
            cmd: command.into(),
            callback: tauri::ipc::CallbackFn(0),
            error: tauri::ipc::CallbackFn(1),
            url: "tauri://localhost".parse().expect("valid url"),
            body: tauri::ipc::InvokeBody::Json(args),
            headers: Default::default(),
            invoke_key: INVOKE_KEY.to_string(),
        },
    )
    .map(|body| body.deserialize::<Value>().expect("json body"))
}

impl Shell {
    fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        invoke_on(&self.window, command, args)
    }

    fn ok(&self, command: &str, args: Value) -> Value {
        self.invoke(command, args)
            .unwrap_or_else(|error| panic!("{command} failed: {error}"))
    }

    fn state(&self) -> Value {
        self.ok("current_state", json!({}))
    }

    fn wait_for_screen(&self, kind: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = self.state();
            if state["screen"]["kind"] == json!(kind) {
                return state;
            }
            assert!(
                Instant::now() < deadline,
                "no {kind} screen; last state: {state:#}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Signed out, the home screen comes without the provider: the built-in mock starts when
/// the user signs in, not while the window opens.
#[test]
fn a_signed_out_start_shows_home_without_starting_the_mock() {
    let shell = shell(None);
    let record = shell.host.state_dir().join("mock-provider.run.json");
    assert!(!record.exists(), "the mock started before it was needed");
    shell.ok("sign_in", json!({ "overrides": null }));
    shell.wait_for_screen("waiting");
    assert!(record.exists(), "the sign-in did not start the mock");
    shell.ok("cancel_sign_in", json!({}));
}

/// One app per session: the same folders and keychain service give the same name, another
/// folder or service another; the name is a valid D-Bus bus name.
#[test]
fn single_instance_is_one_per_session() {
    let folder = tempfile::tempdir().expect("folder");
    let other_folder = tempfile::tempdir().expect("folder");
    let id = |folder: &tempfile::TempDir, service: &str| {
        single_instance_id(
            &Host::new(HostOptions {
                config_dir: Some(folder.path().to_owned()),
                keychain_service: Some(service.to_owned()),
                ..HostOptions::default()
            })
            .expect("host"),
        )
    };
    let first = id(&folder, "careid-a");
    assert_eq!(first, id(&folder, "careid-a"));
    assert_ne!(first, id(&other_folder, "careid-a"));
    assert_ne!(first, id(&folder, "careid-b"));
    let name = format!("{first}.SingleInstance");
    assert!(name.len() <= 255, "{name}");
    for element in name.split('.') {
        assert!(!element.is_empty() && !element.starts_with(|c: char| c.is_ascii_digit()));
        assert!(element
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
    }
}

#[test]
fn starts_signed_out_on_the_built_in_mock() {
    let shell = shell(None);
    let state = shell.state();
    assert_eq!(state["profile"]["name"], "mock");
    assert_eq!(state["app"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(state["notice"], Value::Null);
    assert_eq!(state["preferences"]["testersView"], false);
    assert!(state["mockGuide"]["users"].as_array().unwrap().len() >= 6);
    assert!(
        *shell.published.lock().unwrap() >= 1,
        "the state was published"
    );
}

/// A folder other users can write to stops careid at start: the window is told why, with
/// what to do in the technical detail, instead of a stderr line no desktop user sees. (Unix:
/// Windows keeps others out of a user's folders by their ACLs, which careid does not check.)
#[cfg(unix)]
#[test]
fn a_start_up_fault_is_what_the_window_is_told() {
    use std::os::unix::fs::PermissionsExt as _;
    let folder = tempfile::tempdir().expect("temporary folder");
    std::fs::set_permissions(folder.path(), std::fs::Permissions::from_mode(0o777))
        .expect("made writable by others");
    let error = Host::new(HostOptions {
        config_dir: Some(folder.path().to_owned()),
        ..HostOptions::default()
    })
    .expect_err("a folder others can write is refused");
    let fault = startup_fault::StartupFault::new(&error);
    let app = startup_fault::app(mock_builder(), mock_context(noop_assets()), fault)
        .expect("the app builds");
    let window = WebviewWindowBuilder::new(&app, MAIN_WINDOW, Default::default())
        .build()
        .expect("window builds");
    let answer =
        invoke_on(&window, "current_state", json!({})).expect_err("the state is the fault");
    assert_eq!(answer["code"], "folder_writable_by_others", "{answer}");
    let message = answer["message"].as_str().expect("a message");
    assert!(message.contains("chmod go-w"), "{message}");
    assert!(
        message.contains(&folder.path().display().to_string()),
        "{message}"
    );
    // Nothing else is there to call.
    assert!(invoke_on(&window, "sign_in", json!({ "overrides": null })).is_err());
}

#[test]
fn a_one_role_user_signs_in_and_out() {
    let shell = shell(Some("555057896106"));
    shell.ok("sign_in", json!({ "overrides": null }));
    let state = shell.wait_for_screen("signedIn");
    let view = &state["screen"];
    assert_eq!(view["user"]["name"], "Flo Nurse");
    assert_eq!(view["role"]["name"], "Nurse Access Role");
    assert_eq!(view["assuranceLevel"], 3);
    assert_eq!(state["tester"]["acr"], "AAL3_ANY");
    // The browser is given a one-time loopback link, never the authorization URL itself.
    let first = shell.opened.lock().unwrap()[0].clone();
    assert!(first.starts_with("http://127.0.0.1:"), "{first}");
    assert!(!first.contains("state="), "{first}");
    // No token crosses to the UI: nothing JWT-shaped anywhere in the state.
    assert!(!has_jwt(&state.to_string()), "{state}");

    shell.ok("note_activity", json!({}));
    shell.ok("stay_signed_in", json!({}));
    shell.ok("sign_out", json!({}));
    let state = shell.wait_for_screen("home");
    assert_eq!(state["notice"]["code"], "signed_out");
    let opened = shell.opened.lock().unwrap();
    // The end-session URL carries the ID token as a hint: the browser is given a one-time
    // loopback link that leads to it, never the URL on its command line.
    let given = opened.last().unwrap().clone();
    drop(opened);
    assert!(given.starts_with("http://127.0.0.1:"), "{given}");
    assert!(
        !given.contains("id_token_hint") && !has_jwt(&given),
        "{given}"
    );
    // The browser followed the link to the end-session URL with the ID token as its hint.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let target = loop {
        let led_to = shell.led_to.lock().unwrap().clone();
        if let Some(target) = led_to
            .iter()
            .find(|url| url.contains("/connect/endSession?"))
        {
            break target.clone();
        }
        assert!(std::time::Instant::now() < deadline, "{led_to:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(target.contains("&id_token_hint=eyJ"), "{target}");
    let again = ureq::get(&given).config().max_redirects(0).build().call();
    assert!(
        !matches!(&again, Ok(answer) if answer.status().is_redirection()),
        "the link works once: {again:?}"
    );
    shell.ok("dismiss_notice", json!({}));
    assert_eq!(shell.state()["notice"], Value::Null);
}

#[test]
fn roles_are_chosen_changed_and_kept() {
    let shell = shell(Some("555057900101"));
    shell.ok("sign_in", json!({ "overrides": { "acrValues": "AAL2_OR_AAL3_ANY", "prompt": null, "maxAge": 300, "scopes": null } }));
    let state = shell.wait_for_screen("chooseRole");
    assert_eq!(state["screen"]["groups"].as_array().unwrap().len(), 2);
    assert_eq!(state["tester"]["requested"]["maxAge"], 300);
    let unknown = shell
        .invoke("choose_role", json!({ "roleId": "not-a-role" }))
        .unwrap_err();
    assert_eq!(unknown["code"], "unknown_role");
    shell.ok("choose_role", json!({ "roleId": "555057900304" }));
    let state = shell.wait_for_screen("signedIn");
    assert_eq!(state["screen"]["role"]["name"], "Privacy Officer");
    assert_eq!(state["screen"]["canChangeRole"], true);
    shell.ok("change_role", json!({}));
    let state = shell.wait_for_screen("chooseRole");
    assert_eq!(state["screen"]["preselected"], "555057900304");
    assert_eq!(state["screen"]["changing"], true);
    shell.ok("keep_current_role", json!({}));
    shell.wait_for_screen("signedIn");
    shell.ok("copy_access_token", json!({}));

    // The next sign-in asks again, with the last choice preselected.
    shell.ok("sign_out", json!({}));
    shell.wait_for_screen("home");
    shell.ok("sign_in", json!({}));
    let state = shell.wait_for_screen("chooseRole");
    assert_eq!(state["screen"]["preselected"], "555057900304");
    assert_eq!(state["screen"]["changing"], false);
    shell.ok("choose_role", json!({ "roleId": "555057900304" }));
    shell.wait_for_screen("signedIn");
}

/// A copied access token stays on the clipboard for a while only; what the user copies
/// after it is left alone. (Under the tests' X server; the history exclusions are each
/// platform's clipboard format, `clipboard::without_history`.)
#[test]
fn a_copied_access_token_is_cleared_from_the_clipboard_unless_replaced() {
    let shell = shell(Some("555057896106"));
    shell.ok("sign_in", json!({ "overrides": null }));
    shell.wait_for_screen("signedIn");
    let mut clipboard = arboard::Clipboard::new().expect("the test display's clipboard");
    shell.ok("copy_access_token", json!({}));
    let copied = clipboard.get_text().expect("text on the clipboard");
    assert!(
        copied.starts_with("eyJ") && copied.matches('.').count() == 2,
        "an access token"
    );
    let deadline = Instant::now() + SHELL_SECRET_ON_CLIPBOARD_FOR * 10;
    while clipboard.get_text().is_ok_and(|text| !text.is_empty()) {
        assert!(Instant::now() < deadline, "the token was cleared in time");
        std::thread::sleep(Duration::from_millis(20));
    }

    shell.ok("copy_access_token", json!({}));
    clipboard
        .set_text("the user's own words")
        .expect("copied over");
    std::thread::sleep(SHELL_SECRET_ON_CLIPBOARD_FOR * 3);
    assert_eq!(
        clipboard.get_text().expect("still there"),
        "the user's own words"
    );
}

#[test]
fn a_waiting_sign_in_can_be_cancelled() {
    let shell = shell(None);
    shell.ok("sign_in", json!({}));
    let state = shell.wait_for_screen("waiting");
    assert!(state["screen"]["redirectUri"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    // The built-in mock takes pushed requests, so it has accepted the redirect URI already;
    // the hint comes after half this shell's 30 s timeout.
    assert_eq!(state["screen"]["redirectUriAccepted"], true);
    assert_eq!(state["screen"]["hintAfterSeconds"], 15);
    assert!(
        !state.to_string().contains("code_challenge"),
        "the URL stays in Rust"
    );
    shell.ok("open_sign_in_page_again", json!({}));
    assert_eq!(shell.opened.lock().unwrap().len(), 2);
    let busy = shell.invoke("sign_in", json!({})).unwrap_err();
    assert_eq!(busy["code"], "sign_in_under_way");
    shell.ok("cancel_sign_in", json!({}));
    let state = shell.wait_for_screen("home");
    assert_eq!(state["notice"]["code"], "cancelled");
    let not_waiting = shell
        .invoke("open_sign_in_page_again", json!({}))
        .unwrap_err();
    assert_eq!(not_waiting["code"], "not_waiting");
}

#[test]
fn profiles_are_saved_checked_and_removed() {
    let shell = shell(None);
    let refused = shell
        .invoke("use_profile", json!({ "name": "nope" }))
        .unwrap_err();
    assert_eq!(refused["class"], "usage");
    shell.ok(
        "save_profile",
        json!({ "profile": {
            "name": "local", "issuer": "http://127.0.0.1:9/realm", "clientId": "abc",
            "clientAuth": "client_secret_basic", "assertionAlgorithm": null, "scopes": ["openid"],
            "acrValues": null, "prompt": null, "maxAge": null, "roleSelection": "app",
            "redirectPorts": [], "inactivityMinutes": 30, "absoluteHours": null
        } }),
    );
    let state = shell.state();
    let local = state["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|profile| profile["name"] == "local")
        .expect("listed")
        .clone();
    assert_eq!(local["credential"], "missing");
    assert_eq!(local["inactivityMinutes"], 30);
    let empty = shell
        .invoke(
            "store_credential",
            json!({ "name": "local", "value": "  " }),
        )
        .unwrap_err();
    assert_eq!(empty["code"], "credential_empty");
    shell.ok(
        "store_credential",
        json!({ "name": "local", "value": "s3cret" }),
    );
    let state = shell.state();
    assert!(!state.to_string().contains("s3cret"), "never shown again");
    let stored = state["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|profile| profile["name"] == "local")
        .unwrap()["credential"]
        .clone();
    assert_eq!(stored, "stored");
    let lines = shell.ok("check_profile", json!({ "name": "mock" }));
    assert!(lines
        .as_array()
        .unwrap()
        .iter()
        .any(|line| line["status"] == "pass"));
    shell.ok("set_testers_view", json!({ "enabled": true }));
    assert_eq!(shell.state()["preferences"]["testersView"], true);
    shell.ok("remove_profile", json!({ "name": "local" }));
    assert!(!shell.state().to_string().contains("\"local\""));
}

/// The app on a mock that "another careid process" serves, with 62-second tokens (so a
/// refresh falls due two seconds after sign-in) and Flo Nurse signed in without a page; the
/// app's browser follows the mock's redirects. The app comes second, so it is dropped first.
fn shell_on_a_shared_mock(runtime: &tokio::runtime::Runtime) -> (mock_cis2::RunningMock, Shell) {
    let running = runtime
        .block_on(
            mock_cis2::MockCis2::new()
                .token_lifetime(Duration::from_secs(62))
                .auto_login("555057896106".parse().unwrap())
                .start(),
        )
        .unwrap();
    let config = tempfile::tempdir().unwrap();
    let state_dir = config.path().join("state");
    std::fs::create_dir_all(&state_dir).unwrap();
    // pid 1 always exists: the record reads as another live process's mock.
    std::fs::write(
        state_dir.join("mock-provider.run.json"),
        json!({ "pid": 1, "issuer": running.issuer(), "auto_login": null }).to_string(),
    )
    .unwrap();
    (running, shell_with(config, None, true))
}

/// The access token is refreshed in the background a minute before it expires, without a
/// browser. The user's mock here is one "another process" serves with 62-second tokens.
#[test]
fn tokens_are_refreshed_in_the_background_before_they_expire() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (running, shell) = shell_on_a_shared_mock(&runtime);
    shell.ok("sign_in", json!({}));
    shell.wait_for_screen("signedIn");
    assert_eq!(shell.opened.lock().unwrap().len(), 1, "one browser visit");
    let token_requests = || {
        running
            .request_log()
            .iter()
            .filter(|request| request.endpoint == "/access_token")
            .count()
    };
    assert_eq!(token_requests(), 1, "the code exchange");
    let deadline = Instant::now() + Duration::from_secs(20);
    while token_requests() < 2 {
        assert!(Instant::now() < deadline, "no background refresh");
        std::thread::sleep(Duration::from_millis(100));
    }
    shell.wait_for_screen("signedIn");
    assert_eq!(
        shell.opened.lock().unwrap().len(),
        1,
        "a background step never opens a browser"
    );
}

/// How a live session is made to end, from outside the desk.
#[derive(Debug, Clone, Copy)]
enum EndBy {
    /// The state file says the user signed in 13 hours ago (the absolute limit is 12).
    SignedInLongAgo,
    /// Another careid process signs out (as `careid logout` does, through the store).
    SignOutElsewhere,
    /// Another careid process found the session idle too long and ended it (as `careid
    /// status` does): the app says inactivity, not a sign-out.
    EndedIdleElsewhere,
    /// The state file is removed by hand: no end recorded.
    StateFileRemoved,
    /// The refresh token is deleted from the keychain before the refresh falls due.
    KeychainEntryDeleted,
    /// The provider answers the due refresh with `invalid_grant`.
    RefreshRevoked,
    /// The due refresh's ID token fails a check.
    RefreshAnswerBad,
}

/// Each way a live session ends that the desk learns of without a broker or a long wait
/// reaches the UI under its one code, the core's `EndReason`'s (inactivity and the
/// provider's end go through the real window in the end-to-end suite; the tokens' end in
/// the test below). The mock here is one "another process" serves with 62-second tokens,
/// so a refresh falls due two seconds after sign-in.
#[test]
fn each_end_reaches_the_ui_under_its_one_code() {
    use careid_core::session::{refresh_token_account, EndReason, SessionEnd};
    use careid_core::{Restored, SessionLock};
    use EndBy::*;
    let cases = [
        (SignedInLongAgo, EndReason::AbsoluteLimit, "info"),
        (SignOutElsewhere, EndReason::SignedOutHere, "info"),
        (EndedIdleElsewhere, EndReason::Inactivity, "info"),
        (StateFileRemoved, EndReason::SignedOutHere, "info"),
        (KeychainEntryDeleted, EndReason::KeychainCleared, "info"),
        (RefreshRevoked, EndReason::RefreshRejected, "info"),
        (RefreshAnswerBad, EndReason::ResponseRejected, "rejected"),
    ];
    for (how, reason, class) in cases {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let (running, shell) = shell_on_a_shared_mock(&runtime);
        shell.ok("sign_in", json!({}));
        shell.wait_for_screen("signedIn");
        let store = shell.host.session_store();
        let path = store.state_path("mock").unwrap();
        let Restored::Session(loaded) = store.load_state("mock").unwrap() else {
            panic!("{how:?}: stored");
        };
        match how {
            SignedInLongAgo => {
                let mut state: Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let auth_time = state["facts"]["auth_time"].as_u64().unwrap();
                state["facts"]["auth_time"] = json!(auth_time - 13 * 3600);
                std::fs::write(&path, state.to_string()).unwrap();
            }
            SignOutElsewhere | EndedIdleElsewhere => {
                let lock = SessionLock::acquire(store.state_dir(), "mock", Duration::from_secs(5))
                    .unwrap();
                let end = SessionEnd::new(reason, &loaded.facts, std::time::SystemTime::now());
                store.end(&lock, &end).unwrap();
            }
            StateFileRemoved => std::fs::remove_file(&path).unwrap(),
            KeychainEntryDeleted => {
                shell
                    .host
                    .keychain()
                    .delete(&refresh_token_account(&loaded.facts))
                    .unwrap();
            }
            RefreshRevoked => {
                running.arm_fault("refresh_revoked".parse().unwrap(), Some(1));
            }
            RefreshAnswerBad => {
                running.arm_fault("wrong_at_hash".parse().unwrap(), Some(1));
            }
        }
        let state = shell.wait_for_screen("home");
        assert_eq!(state["notice"]["code"], reason.code(), "{how:?}: {state:#}");
        assert_eq!(state["notice"]["class"], class, "{how:?}: {state:#}");
        assert!(
            matches!(store.load("mock").unwrap(), Restored::SignedOut(_)),
            "{how:?}: the session is gone"
        );
        shell.ok("dismiss_notice", json!({}));
        drop(shell);
        runtime.block_on(running.shutdown());
    }
}

/// The shell on `mock` (the nurse signed in without a page), with a profile `name` of its own
/// for it (`inactivity_minutes` its limit), in use on the home screen. The runtime and the
/// mock are returned to be kept for the test.
fn shell_on_a_mock_of_its_own(
    mock: mock_cis2::MockCis2,
    name: &str,
    inactivity_minutes: Option<u32>,
) -> (tokio::runtime::Runtime, mock_cis2::RunningMock, Shell) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let running = runtime
        .block_on(mock.auto_login("555057896106".parse().unwrap()).start())
        .unwrap();
    let shell = shell_with(tempfile::tempdir().unwrap(), None, true);
    shell.ok(
        "save_profile",
        json!({ "profile": {
            "name": name, "issuer": running.issuer(),
            "clientId": "555000000007.apps.local",
            "clientAuth": "client_secret_basic", "assertionAlgorithm": null, "scopes": null,
            "acrValues": null, "prompt": null, "maxAge": null, "roleSelection": null,
            "redirectPorts": null, "inactivityMinutes": inactivity_minutes, "absoluteHours": null
        } }),
    );
    shell.ok(
        "store_credential",
        json!({ "name": name, "value": "0d7c4b2a-9e1f-4a63-b8d5-3c2e1f0a9b87" }),
    );
    shell.ok("use_profile", json!({ "name": name }));
    shell.wait_for_screen("home");
    (runtime, running, shell)
}

/// A session the provider gave no refresh token is never refreshed: when its tokens
/// expire the desk ends it through the core (nothing kept) and the home screen says why.
#[test]
fn a_session_without_a_refresh_token_ends_when_its_tokens_expire() {
    let (_runtime, running, shell) = shell_on_a_mock_of_its_own(
        mock_cis2::MockCis2::new().token_lifetime(Duration::from_secs(4)),
        "norefresh",
        None,
    );
    shell.ok("sign_in", json!({}));
    shell.wait_for_screen("signedIn");
    let store = shell.host.session_store();
    assert!(matches!(
        store.load("norefresh").unwrap(),
        careid_core::Restored::Session(loaded) if loaded.refresh_token.is_none()
    ));

    let state = shell.wait_for_screen("home");
    assert_eq!(
        state["notice"]["code"], "tokens_expired_without_refresh",
        "{state:#}"
    );
    assert_eq!(state["notice"]["class"], "info", "{state:#}");
    let detail = state["notice"]["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("no refresh token"), "{detail}");
    let token_requests = running
        .request_log()
        .iter()
        .filter(|request| request.endpoint == "/access_token")
        .count();
    assert_eq!(
        token_requests, 1,
        "the code exchange only: no refresh tried"
    );
    assert!(matches!(
        store.load("norefresh").unwrap(),
        careid_core::Restored::SignedOut(_)
    ));
    let session_entries = shell
        .host
        .keychain()
        .accounts_with_prefix("session/norefresh/")
        .unwrap()
        .unwrap_or_default();
    assert!(session_entries.is_empty(), "{session_entries:?}");
}

/// The inactivity warning asks for the user's attention (who may be in another application)
/// once, when it starts: not again with each second it shows. A one-minute limit warns from
/// the sign-in on.
#[test]
fn the_inactivity_warning_asks_for_attention_once_when_it_starts() {
    let (runtime, running, shell) =
        shell_on_a_mock_of_its_own(mock_cis2::MockCis2::new(), "brief", Some(1));
    assert!(shell.attention.lock().unwrap().is_empty());
    shell.ok("sign_in", json!({}));
    shell.wait_for_screen("signedIn");

    let deadline = Instant::now() + Duration::from_secs(10);
    while shell.attention.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no call for attention");
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = shell.state();
    assert_eq!(state["screen"]["inactivityWarning"], true, "{state:#}");
    // Three more ticks of the warning showing: no more calls.
    std::thread::sleep(Duration::from_millis(3_200));
    let calls = shell.attention.lock().unwrap().clone();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(calls[0].contains("signed out of careid"), "{calls:?}");
    assert_eq!(shell.state()["screen"]["inactivityWarning"], true);
    drop(shell);
    runtime.block_on(running.shutdown());
}

/// A profile `name` on an unreachable provider with a stored session, signed in
/// `signed_in_ago` seconds ago and last active `idle_for` seconds ago.
fn stored_session(
    shell: &Shell,
    name: &str,
    signed_in_ago: u64,
    idle_for: u64,
) -> careid_core::SessionStore {
    shell.ok(
        "save_profile",
        json!({ "profile": {
            "name": name, "issuer": "http://127.0.0.1:9/realm", "clientId": "abc",
            "clientAuth": "client_secret_basic", "assertionAlgorithm": null, "scopes": null,
            "acrValues": null, "prompt": null, "maxAge": null, "roleSelection": null,
            "redirectPorts": null, "inactivityMinutes": null, "absoluteHours": null
        } }),
    );
    shell.ok(
        "store_credential",
        json!({ "name": name, "value": "s3cret" }),
    );
    let store = shell.host.session_store();
    let now = careid_core::time::unix_seconds(std::time::SystemTime::now());
    let facts = careid_core::SessionFacts {
        profile: name.into(),
        sub: "555057896106".into(),
        name: None,
        auth_time: now - signed_in_ago,
        last_activity: now - idle_for,
        selected_role_id: None,
        role: None,
        sid: None,
        assurance_level: Some(3),
        stored_at: now - idle_for,
    };
    let lock =
        careid_core::SessionLock::acquire(store.state_dir(), name, Duration::from_secs(5)).unwrap();
    let refresh = careid_core::RefreshToken::new("refresh".into());
    store.save(&lock, &facts, Some(&refresh)).unwrap();
    store
}

/// A stored session whose provider cannot be reached at start is kept, said so, and tried
/// again later; never deleted.
#[test]
fn a_restore_that_cannot_reach_the_provider_keeps_the_session() {
    let shell = shell(None);
    let store = stored_session(&shell, "away", 0, 0);
    shell.ok("use_profile", json!({ "name": "away" }));
    let state = shell.wait_for_screen("home");
    assert_eq!(state["profile"]["name"], "away");
    assert_eq!(state["notice"]["class"], "unreachable", "{state:#}");
    assert!(
        matches!(
            store.load("away").unwrap(),
            careid_core::Restored::Session(_)
        ),
        "the session is kept for when the provider is back"
    );
}

/// A stored session found past its inactivity limit at start is ended by the restore, and
/// the home screen says so under the same code as when the watcher ends it.
#[test]
fn a_session_past_its_limit_at_start_says_why_under_the_same_code() {
    let shell = shell(None);
    let store = stored_session(&shell, "idle", 3600, 20 * 60);
    shell.ok("use_profile", json!({ "name": "idle" }));
    let state = shell.wait_for_screen("home");
    assert_eq!(state["notice"]["code"], "inactivity", "{state:#}");
    assert_eq!(state["notice"]["class"], "info", "{state:#}");
    assert!(matches!(
        store.load("idle").unwrap(),
        careid_core::Restored::SignedOut(_)
    ));
}

/// CIS2's refusal reaches the UI with what the words and the technical detail need: CIS2's
/// own code and words, the `acr_values` asked for, a reference and the time.
#[test]
fn a_refusal_carries_cis2s_words_what_was_asked_and_a_reference() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (running, shell) = shell_on_a_shared_mock(&runtime);
    running.arm_fault("authorize_access_denied".parse().unwrap(), Some(1));
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    shell.ok(
        "sign_in",
        json!({ "overrides": { "acrValues": "AAL3_ANY", "prompt": null, "maxAge": null, "scopes": null } }),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let notice = loop {
        let state = shell.state();
        if state["screen"]["kind"] == "home" && !state["notice"].is_null() {
            break state["notice"].clone();
        }
        assert!(Instant::now() < deadline, "no refusal: {state:#}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(notice["code"], "provider_error", "{notice:#}");
    assert_eq!(notice["providerError"], "access_denied", "{notice:#}");
    assert!(notice["providerDescription"].is_string(), "{notice:#}");
    assert_eq!(notice["acrValues"], "AAL3_ANY", "{notice:#}");
    let reference = notice["reference"].as_str().unwrap();
    assert_eq!(reference.len(), 8, "{reference}");
    assert!(
        u128::from(notice["at"].as_u64().unwrap()) >= before,
        "{notice:#}"
    );
    drop(shell);
    runtime.block_on(running.shutdown());
}

/// "Copy details" writes the text the UI shows to the system clipboard, from Rust.
#[test]
fn notice_details_are_copied_from_rust() {
    let shell = shell(None);
    let text = "Reference: 7KQ2M9XD\nCIS2 error: access_denied\n";
    shell.ok("copy_notice_details", json!({ "text": text }));
    let copied = arboard::Clipboard::new().unwrap().get_text().unwrap();
    assert_eq!(copied, text);
}

#[test]
fn commands_outside_the_app_are_refused() {
    let shell = shell(None);
    assert!(shell.invoke("open_anything", json!({})).is_err());
    let not_signed_in = shell.invoke("copy_access_token", json!({})).unwrap_err();
    assert_eq!(not_signed_in["code"], "not_signed_in");
    let export = shell
        .invoke("export_sign_in_record", json!({}))
        .unwrap_err();
    assert_eq!(export["code"], "not_signed_in");
}

#[test]
fn the_history_lists_opens_exports_and_repeats_each_attempt() {
    let shell = shell(Some("555057896106"));
    shell.ok(
        "sign_in",
        json!({ "overrides": { "acrValues": "AAL3_ANY", "prompt": null, "maxAge": 600, "scopes": null } }),
    );
    shell.wait_for_screen("signedIn");
    shell.ok("sign_out", json!({}));
    shell.wait_for_screen("home");

    let listed = shell.invoke("list_attempts", json!({})).expect("listed");
    let listed = listed.as_array().expect("a list").clone();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["verdict"], "signed_in");
    let id = listed[0]["id"].as_str().expect("an id").to_owned();

    let view = shell
        .invoke("attempt_details", json!({ "id": id }))
        .expect("details");
    let asked: Vec<(&str, &str)> = view["asked"]
        .as_array()
        .expect("asked")
        .iter()
        .filter_map(|row| Some((row["name"].as_str()?, row["source"].as_str()?)))
        .collect();
    assert!(asked.contains(&("acr_values", "overridden")), "{asked:?}");
    assert!(asked.contains(&("max_age", "overridden")), "{asked:?}");
    let outcome = |rule: &str| {
        view["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|check| check["rule"] == rule)
            .map(|check| check["outcome"].clone())
    };
    assert_eq!(outcome("max_age"), Some(json!("passed")));
    assert_eq!(outcome("assurance_level"), Some(json!("passed")));
    // The sign-out reached the sign-in's timeline.
    assert!(view["timeline"].to_string().contains("ended"), "{view}");
    assert!(!has_jwt(&view.to_string()), "no token crosses to the UI");

    let folder = tempfile::tempdir().expect("a folder");
    let path = folder.path().join("attempts.html");
    std::env::set_var("CAREID_EXPORT_PATH", &path);
    let saved = shell
        .invoke("export_attempts", json!({ "ids": [id], "kind": "html" }))
        .expect("exported");
    std::env::remove_var("CAREID_EXPORT_PATH");
    assert_eq!(saved, json!(path.display().to_string()));
    let page = std::fs::read_to_string(&path).expect("the page");
    assert!(page.contains(&id) && !has_jwt(&page));
    let unknown = shell
        .invoke("attempt_details", json!({ "id": "../profiles" }))
        .expect_err("not an attempt");
    assert_eq!(unknown["code"], "attempt_not_found");

    // How many are kept: 200 until the tester says, then theirs; out of range is refused.
    assert_eq!(
        shell.invoke("history_keep", json!({})).expect("keep"),
        json!(200)
    );
    shell.ok("set_history_keep", json!({ "keep": 5 }));
    assert_eq!(
        shell.invoke("history_keep", json!({})).expect("keep"),
        json!(5)
    );
    let refused = shell
        .invoke("set_history_keep", json!({ "keep": 0 }))
        .expect_err("out of range");
    assert_eq!(refused["code"], "history_keep_out_of_range");

    // "Sign in again with these settings" sends what the attempt sent.
    shell.ok("sign_in_again", json!({ "id": id }));
    shell.wait_for_screen("signedIn");
    let listed = shell.invoke("list_attempts", json!({})).expect("listed");
    let again = &listed[0];
    assert_ne!(again["id"], json!(id));
    let again = shell
        .invoke("attempt_details", json!({ "id": again["id"] }))
        .expect("details");
    assert_eq!(again["record"]["asked"]["acr_values"]["value"], "AAL3_ANY");
    assert_eq!(again["record"]["asked"]["max_age"]["value"], "600");
}

/// Waits for the state's run to satisfy `done`.
fn wait_for_run(shell: &Shell, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = shell.state()["run"].clone();
        if done(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "{what}; the run: {run:#}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The Runs screen plays a plan from the plans folder on the built-in mock, unattended: a step
/// for a person is asked and answered, an expected failure (from the plan's own file) turns a
/// known deviation into a pass, each case names its attempt in the history, and the reports
/// are exported with no token in them. Only listed plans run, and not over a session.
#[test]
fn a_run_plays_a_listed_plan_asks_its_steps_and_exports_its_reports() {
    let config = tempfile::tempdir().expect("temporary folder");
    let plans = config.path().join("plans");
    std::fs::create_dir_all(&plans).expect("the plans folder");
    std::fs::write(
        plans.join("quick.toml"),
        r#"
name = "Quick"
profile = "mock"
expected_failures = "known.toml"

[mock]
user = "555057900101"

[matrix]
authenticator = ["smartcard", "authenticator_app"]
acr_values = ["AAL3_ANY"]

[[case]]
match = "smartcard-*"
acr = "AAL3_SOMETHING_ELSE"
review = ["The reader's light went green"]
"#,
    )
    .expect("the plan");
    std::fs::write(
        plans.join("known.toml"),
        "[[expected_failure]]\ncase = \"smartcard-*\"\ncheck = \"acr\"\n\
         comment = \"a deviation this plan knows\"\n",
    )
    .expect("the expected failures");
    std::fs::write(
        plans.join("broken.toml"),
        "name = \"Broken\"\nprofile = 3\n",
    )
    .expect("a broken plan");
    let shell = shell_with(config, None, true);

    let listed = shell.ok("list_run_plans", json!({}));
    assert_eq!(listed["folder"], json!(plans.display().to_string()));
    let ids: Vec<&str> = listed["plans"]
        .as_array()
        .expect("plans")
        .iter()
        .filter_map(|plan| plan["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "example:mock.toml",
            "folder:broken.toml",
            "folder:quick.toml"
        ],
        "the expected-failures file is no plan: {listed:#}"
    );
    let plan = |id: &str| {
        listed["plans"]
            .as_array()
            .unwrap()
            .iter()
            .find(|plan| plan["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(plan("example:mock.toml")["unattended"], true);
    assert_eq!(plan("folder:quick.toml")["cases"], 2);
    assert_eq!(plan("folder:quick.toml")["expectedFailures"], 1);
    let problem = plan("folder:broken.toml")["problem"].clone();
    assert!(problem.to_string().contains("broken.toml:2"), "{problem}");

    let unknown = shell
        .invoke(
            "start_run",
            json!({ "plan": "folder:../profiles.toml", "label": null }),
        )
        .expect_err("not a listed plan");
    assert_eq!(unknown["code"], "run_plan_unknown");
    let broken = shell
        .invoke(
            "start_run",
            json!({ "plan": "folder:broken.toml", "label": null }),
        )
        .expect_err("a broken plan");
    assert_eq!(broken["code"], "run_plan_invalid");

    shell.ok(
        "start_run",
        json!({ "plan": "folder:quick.toml", "label": "Tuesday" }),
    );
    let asked = wait_for_run(&shell, "no step asked", |run| !run["question"].is_null());
    assert_eq!(asked["label"], "Tuesday");
    assert_eq!(asked["state"], "running");
    assert_eq!(asked["question"]["step"], "The reader's light went green");
    let again = shell
        .invoke(
            "start_run",
            json!({ "plan": "folder:quick.toml", "label": null }),
        )
        .expect_err("one run at a time");
    assert_eq!(again["code"], "run_in_progress");
    shell.ok("answer_run_step", json!({ "answer": "confirmed" }));

    let run = wait_for_run(&shell, "the run did not finish", |run| {
        run["state"] != "running"
    });
    assert_eq!(run["state"], "passed", "{run:#}");
    assert!(
        run["summary"].as_str().unwrap().starts_with("run passed"),
        "{run:#}"
    );
    let cases = run["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 2);
    let smartcard = &cases[0];
    assert_eq!(smartcard["status"], "passed", "{smartcard:#}");
    assert_eq!(smartcard["verdict"], "signed_in");
    assert!(
        smartcard["findings"]
            .to_string()
            .contains("expected failure (a deviation this plan knows)"),
        "{smartcard:#}"
    );
    let app = &cases[1];
    assert_eq!(app["status"], "passed", "{app:#}");
    assert_eq!(app["verdict"], "provider_error", "refused at AAL3: {app:#}");
    let attempt = smartcard["attempt"].as_str().expect("an attempt");
    let details = shell.ok("attempt_details", json!({ "id": attempt }));
    assert_eq!(details["summary"]["label"], "Quick / smartcard-AAL3_ANY");

    let folder = tempfile::tempdir().expect("a folder");
    for (kind, file, mark) in [
        ("json", "run.json", "\"outcome\": \"passed\""),
        ("junit", "run.xml", "<testsuites"),
        ("html", "run.html", "<!doctype html>"),
    ] {
        let path = folder.path().join(file);
        std::env::set_var("CAREID_EXPORT_PATH", &path);
        let saved = shell.invoke("export_run_report", json!({ "kind": kind }));
        std::env::remove_var("CAREID_EXPORT_PATH");
        assert_eq!(saved.expect("exported"), json!(path.display().to_string()));
        let text = std::fs::read_to_string(&path).expect("the report");
        assert!(text.contains(mark), "{kind}: {text}");
        assert!(text.contains("Tuesday"), "{kind}: the label");
        assert!(!has_jwt(&text), "{kind}: no token in a report");
    }
    assert!(
        !has_jwt(&shell.state().to_string()),
        "no token crosses to the UI"
    );

    // The run over, the app takes up the session its last signed-in case left (the user holds
    // several roles: it asks which); a run is not started over it.
    shell.wait_for_screen("chooseRole");
    let over_session = shell
        .invoke(
            "start_run",
            json!({ "plan": "folder:quick.toml", "label": null }),
        )
        .expect_err("signed in");
    assert_eq!(over_session["code"], "run_needs_sign_out");
    shell.ok("close_run", json!({}));
    assert!(shell.state()["run"].is_null());
}

/// A run cancelled while a step waits for the tester: the rest is skipped, and the run says
/// it was cancelled.
#[test]
fn a_cancelled_run_skips_the_rest() {
    let config = tempfile::tempdir().expect("temporary folder");
    let plans = config.path().join("plans");
    std::fs::create_dir_all(&plans).expect("the plans folder");
    std::fs::write(
        plans.join("two.toml"),
        "name = \"Two\"\nprofile = \"mock\"\n[mock]\nuser = \"555057900101\"\n\
         [matrix]\nauthenticator = [\"smartcard\", \"security_key\"]\n\
         [[case]]\nmatch = \"smartcard\"\nreview = [\"Something a person sees\"]\n",
    )
    .expect("the plan");
    let shell = shell_with(config, None, true);
    shell.ok(
        "start_run",
        json!({ "plan": "folder:two.toml", "label": null }),
    );
    wait_for_run(&shell, "no step asked", |run| !run["question"].is_null());
    let none = shell.invoke("close_run", json!({})).expect_err("running");
    assert_eq!(none["code"], "run_in_progress");
    shell.ok("cancel_run", json!({}));
    let run = wait_for_run(&shell, "not cancelled", |run| run["state"] != "running");
    assert_eq!(run["state"], "cancelled", "{run:#}");
    assert_eq!(run["cases"][1]["status"], "skipped", "{run:#}");
    assert!(run["question"].is_null());
    let no_question = shell
        .invoke("answer_run_step", json!({ "answer": "later" }))
        .expect_err("nothing asked");
    assert_eq!(no_question["code"], "run_no_question");
}
