//! Every `--json` output against its documented schema (docs/json/*.schema.json), through the
//! real binary on the built-in mock, signed in and signed out; and the same user and role read
//! the same in `login`, `status`, `roles`, `role select` and `logout`.

use std::path::Path;

use careid_e2e::binaries::workspace_root;
use careid_e2e::{CliWorld, Run};
use serde_json::Value;

const NURSE: &str = "555057896106";

/// Where every schema says it lives; `$ref`s between them resolve against it.
const SCHEMA_BASE: &str = "https://github.com/careid/careid/docs/json/";

fn read_schema(dir: &Path, name: &str) -> Value {
    let path = dir.join(format!("{name}.schema.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// Checks `value` against docs/json/`name`.schema.json, naming every mismatch.
fn assert_shape(name: &str, value: &Value) {
    let dir = workspace_root().join("docs/json");
    let common = read_schema(&dir, "common");
    let registry = jsonschema::Registry::new()
        .add(format!("{SCHEMA_BASE}common.schema.json"), common)
        .and_then(|registry| registry.prepare())
        .expect("the shared schema registers");
    let validator = jsonschema::options()
        .with_registry(&registry)
        .offline()
        .build(&read_schema(&dir, name))
        .unwrap_or_else(|error| panic!("schema {name} is invalid: {error}"));
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{name}: {}\n{value:#}",
        errors.join("\n")
    );
}

/// Runs `args` with `--json`, requires exit `code`, and checks stdout against `schema`.
fn json(world: &CliWorld, args: &[&str], code: i32, schema: &str) -> Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let run = world.run(&with_json).expect("careid runs");
    assert_eq!(
        run.code,
        Some(code),
        "careid {with_json:?}:\n{}",
        run.text()
    );
    let value = run.json();
    assert_shape(schema, &value);
    value
}

fn refused(run: &Run, args: &[&str]) {
    assert_eq!(run.code, Some(2), "careid {args:?}:\n{}", run.text());
    assert!(run.stdout.is_empty(), "{}", run.text());
}

#[test]
fn every_json_output_has_its_documented_shape_and_names_user_and_role_alike() {
    let world = CliWorld::new().expect("a test home");

    // Signed out: data, and exit 8.
    let never = json(&world, &["status"], 8, "status");
    assert_eq!(never["signed_in"], false);
    assert_eq!(never["reason"], "not_signed_in");
    assert_eq!(never["ended"], Value::Null);

    json(&world, &["version"], 0, "version");
    json(&world, &["config", "paths"], 0, "config-paths");
    json(&world, &["profile", "list"], 0, "profile-list");
    json(&world, &["profile", "show", "mock"], 0, "profile");

    let login = json(&world, &["login", "--mock-auto-login", NURSE], 0, "login");
    let user = login["user"].clone();
    assert_eq!(user["id"], NURSE, "{login:#}");
    assert!(user["name"].is_string(), "{login:#}");
    let role = login["role"].clone();
    assert!(
        role["job_role"]
            .as_str()
            .is_some_and(|name| !name.is_empty()),
        "{login:#}"
    );
    assert!(
        role["role_name"].as_str().is_some_and(
            |name| name.ends_with(&format!("\"{}\"", role["job_role"].as_str().unwrap()))
        ),
        "{login:#}"
    );

    let status = json(&world, &["status"], 0, "status");
    assert_eq!(status["signed_in"], true);
    assert_eq!(status["user"], user, "status names the user as login does");
    assert_eq!(status["role"], role, "status names the role as login does");
    assert_eq!(
        status["authentication_assurance_level"],
        login["authentication_assurance_level"]
    );
    assert_eq!(status["auth_time"], login["auth_time"]);

    let roles = json(&world, &["roles"], 0, "roles");
    assert_eq!(roles["user"], user);
    assert_eq!(roles["role"], role, "roles names the role as login does");
    let listed = roles["roles"]
        .as_array()
        .and_then(|all| all.iter().find(|listed| listed["id"] == role["id"]))
        .expect("the session's role is listed");
    for field in ["id", "job_role", "role_name", "role_code", "organisation"] {
        assert_eq!(listed[field], role[field], "{field}");
    }

    json(&world, &["userinfo"], 0, "userinfo");

    let access = json(&world, &["token"], 0, "token");
    assert_eq!(access["type"], "access_token");
    let id = json(&world, &["token", "--id"], 0, "token");
    assert_eq!(id["type"], "id_token");
    assert!(id["expires_at"].is_string(), "{id:#}");

    let role_id = role["id"].as_str().expect("a role id");
    let changed = json(&world, &["role", "select", role_id], 0, "role-select");
    assert_eq!(changed["user"], user);
    assert_eq!(
        changed["role"], role,
        "role select names the role as login does"
    );

    json(&world, &["doctor"], 0, "doctor");

    // The history of the sign-in above.
    let history = json(&world, &["history"], 0, "history-list");
    let attempt = history[0]["id"].as_str().expect("an attempt").to_owned();
    json(&world, &["history", "show", &attempt], 0, "history-show");
    json(&world, &["history", "keep", "50"], 0, "history-keep");
    let reports = tempfile::tempdir().expect("a folder");
    let out = reports.path().to_str().expect("utf-8");
    json(
        &world,
        &["history", "export", &attempt, "--out", out],
        0,
        "history-export",
    );

    // A profile of one's own, changed and removed.
    let added = json(
        &world,
        &[
            "profile",
            "add",
            "local",
            "--issuer",
            "http://127.0.0.1:9/realm",
            "--client-id",
            "c",
            "--client-auth",
            "client_secret_basic",
        ],
        0,
        "profile",
    );
    assert_eq!(added["name"], "local");
    let set = json(
        &world,
        &["profile", "set", "local", "--prompt", "login"],
        0,
        "profile",
    );
    assert_eq!(set["prompt"], "login");
    let secret_args = ["profile", "secret", "set", "local", "--json"];
    let secret = world
        .run_with_input(&secret_args, "a-client-secret")
        .expect("careid runs");
    assert_eq!(secret.code, Some(0), "{}", secret.text());
    assert!(
        !secret.stdout.contains("a-client-secret"),
        "{}",
        secret.text()
    );
    assert_shape("profile-secret", &secret.json());
    assert_eq!(secret.json()["stored"], true);
    let deleted = json(
        &world,
        &["profile", "secret", "delete", "local"],
        0,
        "profile-secret",
    );
    assert_eq!(deleted["stored"], false);
    let default = json(&world, &["profile", "use", "local"], 0, "profile");
    assert_eq!(default["default"], true);
    json(&world, &["profile", "use", "mock"], 0, "profile");
    json(&world, &["profile", "remove", "local"], 0, "profile-remove");

    // Signing out names whom and which role it ended, and the printed URL has no hint.
    let logout = json(&world, &["logout"], 0, "logout");
    assert_eq!(
        logout["signed_out"], user,
        "logout names the user as login does"
    );
    assert_eq!(logout["role"], role, "logout names the role as login does");
    assert_eq!(logout["browser_sends_id_token_hint"], true, "{logout:#}");

    let ended = json(&world, &["status"], 8, "status");
    assert_eq!(ended["signed_in"], false);
    assert_eq!(ended["reason"], "signed_out_here", "{ended:#}");
    assert_eq!(ended["ended"]["user"]["id"], NURSE, "{ended:#}");

    // Signed out, the commands that need a session fail with exit 8 and print nothing on stdout.
    for args in [&["token"][..], &["roles"], &["userinfo"]] {
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let run = world.run(&with_json).expect("careid runs");
        assert_eq!(run.code, Some(8), "{}", run.text());
        assert!(run.stdout.is_empty(), "{}", run.text());
    }

    // A plan's report.
    let plan_dir = tempfile::tempdir().expect("a folder");
    let plan = plan_dir.path().join("plan.toml");
    std::fs::write(
        &plan,
        "name = \"one\"\nprofile = \"mock\"\n\n[mock]\nuser = \"555057900101\"\n\n[matrix]\nauthenticator = [\"smartcard\"]\nacr_values = [\"AAL3_ANY\"]\nprompt = [\"login\"]\n",
    )
    .expect("the plan is written");
    let plan_out = plan_dir.path().join("reports");
    json(
        &world,
        &[
            "run",
            plan.to_str().expect("utf-8"),
            "--out",
            plan_out.to_str().expect("utf-8"),
        ],
        0,
        "run",
    );

    // The commands that print no data refuse --json.
    for args in [
        &["keychain", "check", "--json"][..],
        &["mock", "serve", "--json"],
        &["broker", "serve", "--json"],
    ] {
        refused(&world.run(args).expect("careid runs"), args);
    }
}

/// Every schema is valid JSON Schema, and each command's documentation names its schema.
#[test]
fn every_schema_is_valid_and_documented() {
    let dir = workspace_root().join("docs/json");
    let docs =
        std::fs::read_to_string(workspace_root().join("docs/json.md")).expect("docs/json.md");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("docs/json") {
        let file = entry.expect("an entry").file_name();
        let file = file.to_str().expect("utf-8").to_owned();
        let name = file
            .strip_suffix(".schema.json")
            .expect("only schemas")
            .to_owned();
        let schema = read_schema(&dir, &name);
        assert!(
            jsonschema::meta::is_valid(&schema),
            "{file} is not a valid JSON Schema"
        );
        assert_eq!(schema["$id"], format!("{SCHEMA_BASE}{file}"));
        assert!(
            docs.contains(&format!("json/{file}")),
            "docs/json.md does not link {file}"
        );
        names.push(name);
    }
    assert!(names.len() > 10, "{names:?}");
}
