//! The `careid` binary, run as a user runs it.

use std::process::Command;

use careid_e2e::{binaries, CliWorld, MockHost};
use mock_cis2::MockCis2;

const NURSE: &str = "555057896106";

#[test]
fn keychain_check_proves_the_real_keychain() -> anyhow::Result<()> {
    let service = format!("careid-e2e-cli-{}", std::process::id());
    let output = Command::new(binaries::cli()?)
        .args(["keychain", "check", "--service", &service])
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("keychain: ok"), "{stdout}");
    // gnome-keyring offers DH transport encryption, and careid's session must have agreed a key
    // with it (the value read back above came through that session).
    assert!(
        stdout.contains("backend: Secret Service; secrets encrypted on the bus (dh-ietf1024-sha256-aes128-cbc-pkcs7)"),
        "{stdout}"
    );
    // The test run has a session keyring of its own (`keyctl session -`).
    assert!(
        stdout.contains("access token quick copy: the kernel's session keyring (this user only;"),
        "{stdout}"
    );
    Ok(())
}

#[test]
fn keychain_check_without_a_keychain_exits_7() -> anyhow::Result<()> {
    // No session bus: Secret Service cannot be reached.
    let output = Command::new(binaries::cli()?)
        .args(["keychain", "check", "--service", "careid-e2e-no-bus"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/careid-test-bus",
        )
        .env_remove("DISPLAY")
        .output()?;
    assert_eq!(
        output.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("keychain"), "{stderr}");
    Ok(())
}

#[test]
fn help_documents_the_exit_codes() -> anyhow::Result<()> {
    let output = Command::new(binaries::cli()?).arg("--help").output()?;
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for line in [
        "0  success",
        "2  usage error",
        "7  the OS keychain is unavailable or failing",
    ] {
        assert!(help.contains(line), "missing {line:?} in:\n{help}");
    }
    Ok(())
}

#[test]
fn a_usage_error_exits_2() -> anyhow::Result<()> {
    let output = Command::new(binaries::cli()?)
        .arg("no-such-command")
        .output()?;
    assert_eq!(output.status.code(), Some(2));
    Ok(())
}

/// `doctor` has its rows whatever happens to discovery, in text and JSON: an issuer the provider
/// does not call itself is a FAIL row (exit 3), a provider that cannot be reached a FAIL row
/// (exit 5); an `--issuer` that is no https URL is a mistake on the command line (exit 2).
#[test]
fn doctor_reports_rows_when_discovery_fails_and_a_mistyped_issuer_is_a_usage_error() {
    let mock = careid_e2e::MockHost::start(mock_cis2::MockCis2::new()).expect("the mock starts");
    let world = careid_e2e::CliWorld::new().expect("a test home");
    let issuer = mock.issuer();
    let other_name = if issuer.contains("localhost") {
        issuer.replace("localhost", "127.0.0.1")
    } else {
        issuer.replace("127.0.0.1", "localhost")
    };
    let mismatch = world
        .run(&["--json", "doctor", "--issuer", &other_name])
        .expect("careid runs");
    assert_eq!(mismatch.code, Some(3), "{}", mismatch.text());
    let report = mismatch.json();
    assert_eq!(report["checks"][0]["name"], "Issuer", "{report:#}");
    assert_eq!(report["checks"][0]["status"], "fail");
    assert!(report["checks"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("must match exactly"));
    let text = world
        .run(&["doctor", "--issuer", &other_name])
        .expect("careid runs");
    assert_eq!(text.code, Some(3), "{}", text.text());
    assert!(text.stdout.starts_with("FAIL  Issuer"), "{}", text.text());

    let unreachable = world
        .run(&["--json", "doctor", "--issuer", "http://127.0.0.1:9/nothing"])
        .expect("careid runs");
    assert_eq!(unreachable.code, Some(5), "{}", unreachable.text());
    assert_eq!(unreachable.json()["checks"][0]["name"], "Discovery");

    let mistyped = world
        .run(&["doctor", "--issuer", "foo"])
        .expect("careid runs");
    assert_eq!(mistyped.code, Some(2), "{}", mistyped.text());
    assert!(mistyped.stderr.contains("--issuer"), "{}", mistyped.text());
}

/// With no keychain to keep the session, `login` says so, and how to fix it, before the
/// browser opens (exit 7): the user does not sign in for nothing.
#[test]
fn login_without_a_keychain_fails_before_the_browser_opens() {
    let mut world = careid_e2e::CliWorld::new().expect("a test home");
    world.set_env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/careid-test-bus",
    );
    let run = world
        .run(&["login", "--mock-auto-login", "555057896106"])
        .expect("careid runs");
    assert_eq!(run.code, Some(7), "{}", run.text());
    assert!(
        run.stderr.contains("careid keychain check") && run.stderr.contains("D-Bus"),
        "{}",
        run.text()
    );
    assert!(
        std::fs::read_to_string(world.browser_log())
            .unwrap_or_default()
            .is_empty(),
        "the browser was opened: {}",
        run.text()
    );
}

/// A role the user does not hold is said plainly once the user is known, with the roles they
/// do hold, as a usage error (exit 2); no session is kept.
#[test]
fn login_with_a_role_the_user_does_not_hold_names_the_roles_they_do() {
    let world = careid_e2e::CliWorld::new().expect("a test home");
    let run = world
        .run(&[
            "login",
            "--mock-auto-login",
            "555057896106",
            "--role",
            "999999999999",
        ])
        .expect("careid runs");
    assert_eq!(run.code, Some(2), "{}", run.text());
    assert!(
        run.stderr.contains("you do not hold role \"999999999999\"")
            && run.stderr.contains("your roles are 555057898108 ("),
        "{}",
        run.text()
    );
    assert!(
        !run.stderr.contains("claims were rejected"),
        "{}",
        run.text()
    );
    let status = world.run(&["status"]).expect("careid runs");
    assert_eq!(status.code, Some(8), "no session kept: {}", status.text());
}

/// `careid ARGS --help`, which must succeed.
fn help_of(path: &[&str]) -> String {
    let output = Command::new(binaries::cli().expect("built"))
        .args(path)
        .arg("--help")
        .output()
        .expect("careid runs");
    assert!(output.status.success(), "careid {path:?} --help failed");
    String::from_utf8(output.stdout).expect("UTF-8 help")
}

/// The names under `Commands:` in a help text, clap's `help` left out.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
        .filter(|name| name != "help")
        .collect()
}

/// Each option and argument in a help text's lists (its first line) with its description,
/// which is on the same line or on the more indented lines below it.
fn options(help: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = help.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut found = Vec::new();
    let mut in_list = false;
    for (at, line) in lines.iter().enumerate() {
        if indent(line) == 0 && line.ends_with(':') {
            in_list = ["Arguments:", "Options:", "Global options:"].contains(line);
            continue;
        }
        let entry = in_list
            && (2..=6).contains(&indent(line))
            && line.trim_start().starts_with(['-', '<', '[']);
        if !entry {
            continue;
        }
        let mut parts = line.trim().splitn(2, "  ");
        let spec = parts.next().unwrap_or_default().to_owned();
        let mut description = parts.next().unwrap_or_default().trim().to_owned();
        for next in &lines[at + 1..] {
            if next.trim().is_empty() || indent(next) <= 6 {
                break;
            }
            description += " ";
            description += next.trim();
        }
        found.push((spec, description.trim().to_owned()));
    }
    found
}

/// Every command's `--help`, walked from `careid --help` as a newcomer would: each option and
/// argument is described, each command shows an example, the global options sit under their
/// own heading and only where they mean something, and `--mock-auto-login` only on the
/// commands that sign in.
#[test]
fn every_help_describes_its_options_and_offers_only_its_own() -> anyhow::Result<()> {
    let mut pending = vec![Vec::<String>::new()];
    let mut seen = Vec::new();
    while let Some(path) = pending.pop() {
        let words: Vec<&str> = path.iter().map(String::as_str).collect();
        let help = help_of(&words);
        for sub in subcommands(&help) {
            let mut next = path.clone();
            next.push(sub);
            pending.push(next);
        }
        let name = format!("careid {}", words.join(" "));
        let listed = options(&help);
        assert!(!listed.is_empty(), "{name}: no options found in:\n{help}");
        for (spec, description) in &listed {
            assert!(
                description.starts_with(|c: char| c.is_uppercase()),
                "{name}: {spec} has no description:\n{help}"
            );
        }
        if subcommands(&help).is_empty() || words.is_empty() {
            assert!(
                help.contains("Examples:\n  "),
                "{name}: no example:\n{help}"
            );
        }
        let offers = |flag: &str| listed.iter().any(|(spec, _)| spec.contains(flag));
        let signs_in = ["login", "role select"].contains(&words.join(" ").as_str());
        assert_eq!(offers("--mock-auto-login"), signs_in, "{name}:\n{help}");
        let uses_profile = matches!(
            words.first().copied(),
            Some(
                "login" | "status" | "token" | "userinfo" | "roles" | "role" | "logout" | "doctor"
            )
        );
        if !words.is_empty() {
            assert_eq!(offers("--profile <NAME>"), uses_profile, "{name}:\n{help}");
        }
        let heading = help.find("Global options:");
        for flag in [
            "--profile <NAME>",
            "--config-dir <DIR>",
            "--json",
            "--http-timeout",
        ] {
            if let Some(at) = help.find(&format!("\n      {flag}")) {
                assert!(
                    heading.is_some_and(|heading| at > heading),
                    "{name}: {flag} is not under Global options:\n{help}"
                );
            }
        }
        seen.push(name);
    }
    for expected in [
        "careid mock serve",
        "careid profile set",
        "careid config paths",
    ] {
        assert!(
            seen.iter().any(|name| name == expected),
            "{expected} not reached"
        );
    }
    assert!(!help_of(&["mock", "serve"]).contains("--profile"));
    Ok(())
}

/// Log lines and errors carry no colour codes into a pipe; at a terminal they are coloured
/// unless NO_COLOR is set.
#[test]
fn colour_only_at_a_terminal_without_no_color() -> anyhow::Result<()> {
    let mut world = CliWorld::new()?;
    // The built-in mock's start is logged at info.
    world.set_env("RUST_LOG", "info");
    let piped = world.run(&["status"])?;
    assert_eq!(piped.code, Some(8), "{}", piped.text());
    assert!(piped.stderr.contains("INFO"), "{}", piped.text());
    assert!(
        !piped.stdout.contains('\x1b') && !piped.stderr.contains('\x1b'),
        "{}",
        piped.text()
    );

    // `script` gives careid a terminal and copies what it wrote to its own stdout.
    let at_terminal = |no_color: Option<&str>| -> anyhow::Result<String> {
        let careid = world.command(&["status"])?;
        let mut script = Command::new("script");
        script.args([
            "-qec",
            &format!("'{}' status", careid.get_program().to_string_lossy()),
            "/dev/null",
        ]);
        for (name, value) in careid.get_envs() {
            match value {
                Some(value) => script.env(name, value),
                None => script.env_remove(name),
            };
        }
        match no_color {
            Some(value) => script.env("NO_COLOR", value),
            None => script.env_remove("NO_COLOR"),
        };
        let output = script.output()?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let coloured = at_terminal(None)?;
    assert!(
        coloured.contains("INFO") && coloured.contains('\x1b'),
        "{coloured:?}"
    );
    let plain = at_terminal(Some("1"))?;
    assert!(
        plain.contains("INFO") && !plain.contains('\x1b'),
        "{plain:?}"
    );
    Ok(())
}

/// `profile set` changes what it names and keeps the rest, the stored secret and the session;
/// a change the profile rules refuse leaves it as it was. `profile use` makes it the default
/// for every command given no --profile.
#[test]
fn profile_set_changes_in_place_and_use_makes_the_default() -> anyhow::Result<()> {
    let auto_login: mock_cis2::AutoLogin = NURSE.parse().expect("auto-login syntax");
    let mock = MockHost::start(MockCis2::new().auto_login(auto_login))?;
    let world = CliWorld::new()?;
    world.add_mock_profile("t", &mock.issuer(), &["--prompt", "login"]);
    world.ok(&["--profile", "t", "login"]);
    let token = world.ok(&["--profile", "t", "token"]).stdout;

    let changed = world.ok(&[
        "profile",
        "set",
        "t",
        "--max-age",
        "600",
        "--unset",
        "prompt",
    ]);
    assert!(changed.stderr.contains("changed"), "{}", changed.text());
    let shown = world.ok(&["profile", "show", "t", "--json"]).json();
    assert_eq!(shown["max_age"], 600);
    assert_eq!(shown["prompt"], serde_json::Value::Null);
    assert_eq!(shown["issuer"], mock.issuer().as_str());
    assert_eq!(shown["credential_stored"], true);
    assert_eq!(world.ok(&["--profile", "t", "token"]).stdout, token);

    for refused in [
        vec!["profile", "set", "t", "--prompt", "sometimes"],
        vec!["profile", "set", "t", "--unset", "issuer"],
        vec!["profile", "set", "nobody", "--max-age", "1"],
    ] {
        let run = world.run(&refused)?;
        assert_eq!(run.code, Some(2), "{refused:?}: {}", run.text());
    }
    assert_eq!(world.ok(&["profile", "show", "t", "--json"]).json(), shown);

    // Until `profile use`, a command given no --profile is on the built-in mock.
    assert_eq!(world.run(&["token"])?.code, Some(8));
    world.ok(&["profile", "use", "t"]);
    assert_eq!(world.ok(&["token"]).stdout, token);
    let listed = world.ok(&["profile", "list"]).stdout;
    assert!(
        listed.lines().any(|line| line.starts_with("* t ")),
        "{listed}"
    );
    let defaults: Vec<(String, bool)> = world
        .ok(&["profile", "list", "--json"])
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap_or_default().to_owned(),
                p["default"] == true,
            )
        })
        .collect();
    assert!(defaults.contains(&("t".into(), true)) && defaults.contains(&("mock".into(), false)));
    assert_eq!(world.run(&["profile", "use", "nobody"])?.code, Some(2));

    world.ok(&["--profile", "t", "logout"]);
    world.ok(&["profile", "remove", "t"]);
    let listed = world.ok(&["profile", "list"]).stdout;
    assert!(
        listed.lines().any(|line| line.starts_with("* mock ")),
        "{listed}"
    );
    Ok(())
}

/// The built-in mock cannot be added, removed or made another provider or client: each exits 2
/// and says why, and it stays as it was. How it signs in can be changed.
#[test]
fn the_built_in_mock_cannot_be_overwritten_or_removed() -> anyhow::Result<()> {
    let world = CliWorld::new()?;
    let before = world.ok(&["profile", "show", "mock", "--json"]).json();
    for attempt in [
        vec!["profile", "add", "mock", "--client-id", "someone-else"],
        vec!["profile", "set", "mock", "--client-id", "someone-else"],
        vec!["profile", "remove", "mock"],
    ] {
        let run = world.run(&attempt)?;
        assert_eq!(run.code, Some(2), "{attempt:?}: {}", run.text());
        assert!(run.stderr.contains("built-in mock"), "{}", run.text());
        assert!(!run.stderr.contains("saved"), "{}", run.text());
    }
    assert_eq!(
        world.ok(&["profile", "show", "mock", "--json"]).json(),
        before
    );
    assert!(!world.home().config_dir().join("profiles.toml").exists());
    world.ok(&["profile", "set", "mock", "--acr", "AAL3_ANY"]);
    let changed = world.ok(&["profile", "show", "mock", "--json"]).json();
    assert_eq!(changed["acr_values"], "AAL3_ANY", "{changed:#}");
    assert_eq!(changed["client_id"], before["client_id"]);
    Ok(())
}

/// `config paths` names the profiles file, the state folder and the cache, as text and JSON.
#[test]
fn config_paths_says_where_careid_keeps_its_files() -> anyhow::Result<()> {
    let world = CliWorld::new()?;
    let config = world.home().config_dir();
    let paths = world.ok(&["config", "paths", "--json"]).json();
    let path = |key: &str| paths[key].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        path("profiles_file"),
        config.join("profiles.toml").display().to_string()
    );
    assert_eq!(path("state_dir"), world.state_dir().display().to_string());
    assert_eq!(
        path("cache_dir"),
        config.join("cache").display().to_string()
    );
    assert_eq!(path("keychain_service"), world.keychain_service());
    let text = world.ok(&["config", "paths"]).stdout;
    for key in ["profiles_file", "state_dir", "cache_dir"] {
        assert!(text.contains(&path(key)), "{key} in:\n{text}");
    }
    // --profile means nothing here.
    assert_eq!(
        world.run(&["--profile", "int", "config", "paths"])?.code,
        Some(2)
    );
    Ok(())
}

#[test]
fn version_says_what_was_built() -> anyhow::Result<()> {
    let world = CliWorld::new()?;
    let version = world.ok(&["version", "--json"]).json();
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(version["profile"], "debug");
    assert!(
        version["target"]
            .as_str()
            .is_some_and(|t| t.contains("linux")),
        "{version}"
    );
    let text = world.ok(&["version"]).stdout;
    assert!(
        text.starts_with(&format!("careid {} (", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    Ok(())
}

/// The bash completion script completes careid's commands and a command's subcommands, and
/// the zsh and fish ones are made for careid.
#[test]
fn completion_scripts_complete_commands() -> anyhow::Result<()> {
    let world = CliWorld::new()?;
    let script = world.home().path().join("careid.bash");
    std::fs::write(&script, world.ok(&["completions", "bash"]).stdout)?;
    let complete = |words: &str, current: usize| -> anyhow::Result<Vec<String>> {
        let program = format!(
            ". '{}'; COMP_WORDS=({words}); COMP_CWORD={current}; \
             _careid careid \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let output = Command::new("bash").args(["-c", &program]).output()?;
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(String::from_utf8(output.stdout)?
            .lines()
            .map(str::to_owned)
            .collect())
    };
    assert_eq!(complete("careid prof", 1)?, ["profile"]);
    let mut profile = complete("careid profile s", 2)?;
    profile.sort();
    assert_eq!(profile, ["secret", "set", "show"]);
    assert!(complete("careid login --mock", 2)?.contains(&"--mock-auto-login".to_owned()));
    assert!(world
        .ok(&["completions", "zsh"])
        .stdout
        .starts_with("#compdef careid"));
    assert!(world
        .ok(&["completions", "fish"])
        .stdout
        .contains("complete -c careid"));
    assert_eq!(world.run(&["completions", "tcsh"])?.code, Some(2));
    Ok(())
}

/// A secret typed or pasted at a terminal is not echoed: the terminal's output never shows it,
/// and it is stored.
#[test]
fn a_secret_given_at_a_terminal_is_not_shown() -> anyhow::Result<()> {
    use std::io::Write as _;
    let world = CliWorld::new()?;
    add_secret_profile(&world);
    let careid = world.command(&["profile", "secret", "set", "p"])?;
    // `script` gives careid a terminal, fed from the pipe below, and copies the terminal's
    // output (with any echo) to its own stdout.
    let mut script = Command::new("script");
    script.args([
        "-qec",
        &format!(
            "'{}' profile secret set p",
            careid.get_program().to_string_lossy()
        ),
        "/dev/null",
    ]);
    for (name, value) in careid.get_envs() {
        match value {
            Some(value) => script.env(name, value),
            None => script.env_remove(name),
        };
    }
    let mut child = script
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    // Given once careid has turned echo off (it says so first).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"terminal-secret-value\n")?;
    let output = child.wait_with_output()?;
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("not shown"), "{shown}");
    assert!(!shown.contains("terminal-secret-value"), "echoed: {shown}");
    let profile = world.ok(&["profile", "show", "p", "--json"]).json();
    assert_eq!(profile["credential_stored"], true, "{profile:#}");
    Ok(())
}

/// The user and the role read the same in `login`, `status`, `roles` and `logout`: the user by
/// name and id, the role by its job role, organisation and code (its id where it is chosen).
#[test]
fn the_user_and_role_read_the_same_in_every_command() {
    let world = CliWorld::new().expect("a test home");
    let login = world.ok(&["login", "--mock-auto-login", "555057896106"]);
    let role_line = |text: &str| {
        text.lines()
            .find(|line| line.starts_with("Role:"))
            .unwrap_or_else(|| panic!("no role line in {text}"))
            .trim_start_matches("Role:")
            .trim()
            .to_owned()
    };
    assert!(
        login
            .stdout
            .starts_with("Signed in to profile mock as Flo Nurse (555057896106)"),
        "{}",
        login.text()
    );
    let role = role_line(&login.stdout);
    assert!(
        role.contains(" at ") && role.contains(", code S"),
        "the role by name, organisation and code: {role}"
    );
    assert!(!role.contains('"'), "not CIS2's raw role name: {role}");

    let status = world.ok(&["status"]);
    assert!(status
        .stdout
        .starts_with("Signed in to profile mock as Flo Nurse (555057896106)"));
    assert_eq!(role_line(&status.stdout), role);
    let roles = world.ok(&["roles"]);
    assert!(
        roles.stdout.contains(&format!("* 555057898108  {role}")),
        "{}",
        roles.text()
    );
    let logout = world.ok(&["logout"]);
    assert!(
        logout
            .stdout
            .starts_with("Signed out Flo Nurse (555057896106) from profile mock"),
        "{}",
        logout.text()
    );
}

/// Exit codes as the table says: a secret file that is not there is a usage error (2); with no
/// keychain, `profile remove` fails (7) and leaves the profile, its secret and session as they
/// were, rather than removing the profile and failing.
#[test]
fn a_missing_secret_file_is_2_and_a_remove_without_a_keychain_removes_nothing() {
    let mut world = CliWorld::new().expect("a test home");
    add_secret_profile(&world);
    let missing = world
        .run(&[
            "profile",
            "secret",
            "set",
            "p",
            "--from-file",
            "/nonexistent/secret",
        ])
        .expect("careid runs");
    assert_eq!(missing.code, Some(2), "{}", missing.text());
    assert!(missing.stderr.contains("--from-file"), "{}", missing.text());

    world.set_env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/careid-test-bus",
    );
    let remove = world.run(&["profile", "remove", "p"]).expect("careid runs");
    assert_eq!(remove.code, Some(7), "{}", remove.text());
    assert!(
        remove.stderr.contains("careid keychain check"),
        "{}",
        remove.text()
    );
    let listed = world.ok(&["profile", "list"]);
    assert!(
        listed.stdout.contains("p "),
        "the profile stays: {}",
        listed.text()
    );
}

/// A profile `p` whose client authenticates with a secret (not stored yet).
fn add_secret_profile(world: &CliWorld) {
    world.ok(&[
        "profile",
        "add",
        "p",
        "--issuer",
        "https://am.example.nhs.uk/realm",
        "--client-id",
        "c",
        "--client-auth",
        "client_secret_basic",
    ]);
}
