//! `careid history`: each attempt recorded by `careid login`, listed, shown, exported and
//! pruned, as a tester runs it against the built-in mock with the real keychain.

use careid_e2e::CliWorld;

#[test]
fn attempts_are_listed_shown_exported_and_pruned() {
    let world = CliWorld::new().expect("a test home");
    world.ok(&[
        "login",
        "--mock-auto-login",
        "555057896106",
        "--label",
        "smartcard at AAL3",
        "--acr",
        "AAL3_ANY",
    ]);
    // An authenticator app is AAL2, below the AAL3 asked for: the mock refuses, as CIS2 would.
    let refused = world
        .run(&[
            "login",
            "--mock-auto-login",
            "555057930104:authenticator_app",
            "--acr",
            "AAL3_ANY",
        ])
        .expect("runs");
    assert_eq!(refused.code, Some(4), "{}", refused.text());

    let listed = world.ok(&["history", "--json"]).json();
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["verdict"], "provider_error", "newest first");
    assert_eq!(listed[1]["verdict"], "signed_in");
    assert_eq!(listed[1]["label"], "smartcard at AAL3");
    assert_eq!(listed[1]["authentication_assurance_level"], "3");
    let signed_in = listed[1]["id"].as_str().expect("an id").to_owned();
    let denied = listed[0]["id"].as_str().expect("an id").to_owned();

    let table = world.ok(&["history"]).stdout;
    assert!(
        table.contains(&signed_in) && table.contains(&denied),
        "{table}"
    );
    assert!(table.contains("smartcard at AAL3"), "{table}");

    let shown = world.ok(&["history", "show", &signed_in]).stdout;
    for line in [
        "Checks",
        "PASS state",
        "PASS id_token_signature",
        "acr_values   AAL3_ANY (overridden)",
    ] {
        assert!(shown.contains(line), "{line:?} in {shown}");
    }
    let record = world.ok(&["history", "show", &signed_in, "--json"]).json();
    assert_eq!(record["id"], signed_in.as_str());
    assert_eq!(record["asked"]["acr_values"]["source"], "overridden");
    assert!(record["times"][0]["at"]["utc"]
        .as_str()
        .is_some_and(|utc| utc.ends_with('Z')));

    let out = tempfile::tempdir().expect("a folder");
    let out_dir = out.path().to_str().expect("utf-8");
    let html = world
        .ok(&[
            "history", "export", "--all", "--format", "html", "--out", out_dir,
        ])
        .stdout;
    let html = std::fs::read_to_string(html.trim()).expect("the page");
    assert!(html.contains(&signed_in) && html.contains(&denied));
    assert!(html.starts_with("<!doctype html>"));
    assert!(!html.contains("<script"), "self-contained, no script");
    let json = world
        .ok(&[
            "history", "export", &denied, "--format", "json", "--out", out_dir,
        ])
        .stdout;
    assert!(
        json.trim()
            .ends_with(&format!("careid-attempt-{denied}.json")),
        "{json}"
    );
    let exported: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json.trim()).expect("the file"))
            .expect("JSON");
    assert_eq!(exported["verdict"], "provider_error");
    for file in std::fs::read_dir(out.path()).expect("exports") {
        let text = std::fs::read_to_string(file.expect("a file").path()).expect("text");
        assert!(
            careid_e2e::jwt_shaped(&text).is_empty(),
            "no token in an export"
        );
    }

    // The signed-in attempt again: the same acr_values, and its label.
    world.ok(&[
        "login",
        "--again",
        &signed_in,
        "--mock-auto-login",
        "555057896106",
    ]);
    let again = world
        .ok(&["history", "show", "--json", &listed_newest(&world)])
        .json();
    assert_eq!(again["asked"]["acr_values"]["value"], "AAL3_ANY");
    assert_eq!(again["label"], "smartcard at AAL3");
    assert_eq!(again["verdict"], "signed_in");
    // A second sign-in of the same user says how auth_time moved.
    assert!(
        again["returned"]["auth_time_change"]["previous_attempt"].is_string(),
        "{again}"
    );

    world.ok(&["history", "keep", "1"]);
    let listed = world.ok(&["history", "--json"]).json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    assert_ne!(listed[0]["id"], denied.as_str(), "the newest is kept");

    for bad in [
        vec!["history", "show", "../profiles"],
        vec!["history", "keep", "0"],
    ] {
        let run = world.run(&bad).expect("runs");
        assert_eq!(run.code, Some(2), "{bad:?}: {}", run.text());
    }
}

fn listed_newest(world: &CliWorld) -> String {
    let listed = world.ok(&["history", "--json", "--limit", "1"]).json();
    listed[0]["id"].as_str().expect("an id").to_owned()
}
