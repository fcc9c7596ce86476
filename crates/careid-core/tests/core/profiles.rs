//! Profiles on disk: built-ins, completing them, custom ones, and refusals.

use careid_core::{ClientAuth, IssuerSource, ProfileEntry, Profiles, RoleSelection};

fn custom(issuer: &str) -> ProfileEntry {
    ProfileEntry {
        issuer: Some(issuer.to_owned()),
        client_id: Some("555000000009.apps.supplier".to_owned()),
        client_auth: Some(ClientAuth::PrivateKeyJwt),
        redirect_ports: Some(vec![8765, 8766]),
        scopes: Some(vec![
            "openid".into(),
            "profile".into(),
            "nationalrbacaccess".into(),
        ]),
        acr_values: Some("AAL3_ANY".into()),
        prompt: Some("login".into()),
        max_age: Some(300),
        role_selection: Some(RoleSelection::Cis2),
        ..ProfileEntry::default()
    }
}

#[test]
fn without_a_file_there_are_the_built_ins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let names: Vec<String> = Profiles::load(dir.path())
        .expect("loads")
        .list()
        .expect("lists")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["mock", "int", "dep", "live"]);
}

#[test]
fn custom_profile_survives_a_save_and_keeps_its_issuer_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let issuer = "https://am.example.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    let added = profiles.add("trust-idp", custom(issuer)).expect("added");
    profiles.save().expect("saved");

    let reloaded = Profiles::load(dir.path())
        .expect("reloads")
        .get("trust-idp")
        .expect("present");
    assert_eq!(reloaded, added);
    assert_eq!(
        reloaded.issuer,
        IssuerSource::Url(crate::issuer_url(issuer)),
        "the :443 is kept"
    );
    assert_eq!(reloaded.redirect_ports, [8765, 8766]);
    assert_eq!(
        reloaded.credential_account().as_deref(),
        Some("profile/trust-idp/private-key")
    );
    let text = std::fs::read_to_string(dir.path().join("profiles.toml")).expect("file");
    assert!(
        !text.to_lowercase().contains("secret ="),
        "no secret in the file: {text}"
    );
}

#[test]
fn a_built_in_cis2_environment_is_completed_with_the_users_client_id() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    assert!(!profiles.get("int").expect("built in").missing().is_empty());
    let entry = ProfileEntry {
        client_id: Some("555000000010.apps.supplier".into()),
        client_auth: Some(ClientAuth::ClientSecretPost),
        ..ProfileEntry::default()
    };
    profiles.add("int", entry).expect("completed");
    profiles.save().expect("saved");
    let int = Profiles::load(dir.path())
        .expect("reloads")
        .get("int")
        .expect("int");
    assert!(int.missing().is_empty() && int.built_in);
    assert_eq!(
        int.credential_account().as_deref(),
        Some("profile/int/client-secret")
    );
    assert!(
        matches!(int.issuer, IssuerSource::Url(ref issuer) if issuer.as_str().contains(":443/"))
    );
}

#[test]
fn refusals_each_name_the_problem() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    profiles
        .add("taken", custom("https://idp.example"))
        .expect("first");
    let public_cis2 = ProfileEntry {
        client_auth: Some(ClientAuth::None),
        ..custom("https://idp.example")
    };
    let cases: Vec<(&str, ProfileEntry, &str, &str)> = vec![
        (
            "no issuer",
            ProfileEntry {
                issuer: None,
                ..custom("x")
            },
            "profile_invalid",
            "issuer",
        ),
        (
            "plain http",
            custom("http://idp.example/realm"),
            "profile_invalid",
            "https",
        ),
        (
            "no openid scope",
            ProfileEntry {
                scopes: Some(vec!["profile".into()]),
                ..custom("https://idp.example")
            },
            "profile_invalid",
            "openid",
        ),
        (
            "port zero",
            ProfileEntry {
                redirect_ports: Some(vec![0]),
                ..custom("https://idp.example")
            },
            "profile_invalid",
            "port",
        ),
        (
            "repeated port",
            ProfileEntry {
                redirect_ports: Some(vec![8765, 8765]),
                ..custom("https://idp.example")
            },
            "profile_invalid",
            "twice",
        ),
        (
            "prompt none with login",
            ProfileEntry {
                prompt: Some("none login".into()),
                ..custom("https://idp.example")
            },
            "profile_invalid",
            "prompt",
        ),
        (
            "bad name",
            custom("https://idp.example"),
            "profile_invalid",
            "name",
        ),
        (
            "existing name",
            custom("https://idp.example"),
            "profile_exists",
            "taken",
        ),
    ];
    for (name, entry, code, words) in cases {
        let profile_name = match name {
            "bad name" => "has space",
            "existing name" => "taken",
            _ => "new-profile",
        };
        let error = profiles.add(profile_name, entry).expect_err(name);
        assert_eq!(error.code(), code, "{name}: {error}");
        assert!(error.to_string().contains(words), "{name}: {error}");
    }
    let error = profiles.add(
        "live",
        ProfileEntry {
            client_auth: Some(ClientAuth::None),
            ..ProfileEntry::default()
        },
    );
    assert!(error
        .expect_err("CIS2 is confidential only")
        .to_string()
        .contains("confidential"));
    assert!(
        profiles.add("public", public_cis2).is_ok(),
        "none is allowed for other providers"
    );
    assert_eq!(
        profiles.remove("mock").expect_err("built in").code(),
        "profile_built_in"
    );
    assert_eq!(
        profiles.remove("nothing").expect_err("absent").code(),
        "profile_not_found"
    );
    profiles.remove("taken").expect("custom removed");
}

#[test]
fn cis2_profiles_refuse_es256_assertions_when_added_and_loaded() {
    let int_host = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
    let dir = tempfile::tempdir().expect("temp dir");
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    let es256 = |entry: ProfileEntry| ProfileEntry {
        assertion_algorithm: Some("ES256".into()),
        ..entry
    };
    let completing = ProfileEntry {
        client_id: Some("555000000009.apps.supplier".into()),
        ..ProfileEntry::default()
    };
    for (name, entry) in [
        ("live", es256(completing.clone())),
        ("cis2-custom", es256(custom(int_host))),
    ] {
        let error = profiles.add(name, entry).expect_err(name);
        assert_eq!(error.code(), "profile_invalid", "{name}: {error}");
        let message = error.to_string();
        assert!(
            message.contains("CIS2 accepts private_key_jwt assertions signed RS256 or RS512 only")
                && message.contains("ES256"),
            "{name}: {message}"
        );
    }
    for (name, entry, algorithm) in [
        ("live", completing.clone(), "RS512"),
        ("cis2-custom", custom(int_host), "RS256"),
        ("elsewhere", custom("https://idp.example"), "ES256"),
    ] {
        let entry = ProfileEntry {
            assertion_algorithm: Some(algorithm.into()),
            ..entry
        };
        let profile = profiles.add(name, entry).expect(name);
        assert_eq!(
            profile
                .assertion_algorithm
                .map(|algorithm| algorithm.as_str()),
            Some(algorithm)
        );
    }
    profiles.save().expect("saved");

    // A file written by hand (or by an older careid) is refused when it is loaded.
    let text = std::fs::read_to_string(dir.path().join("profiles.toml")).expect("written");
    let edited = text.replace(
        r#"assertion_algorithm = "RS512""#,
        r#"assertion_algorithm = "ES256""#,
    );
    assert_ne!(text, edited, "{text}");
    std::fs::write(dir.path().join("profiles.toml"), edited).expect("edited");
    let error = Profiles::load(dir.path()).expect_err("ES256 for live");
    assert_eq!(error.code(), "profile_invalid", "{error}");
    assert!(
        error.to_string().contains("\"live\"") && error.to_string().contains("RS256 or RS512"),
        "{error}"
    );
}

#[test]
fn a_damaged_file_is_a_clear_error() {
    let cases = [
        ("not toml", "this is = = not toml"),
        (
            "unknown field",
            "[profiles.x]\nissuer = \"https://idp.example\"\nclient_secret = \"oops\"\n",
        ),
        (
            "invalid profile",
            "[profiles.x]\nissuer = \"ftp://idp.example\"\nclient_id = \"c\"\n",
        ),
    ];
    for (name, text) in cases {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("profiles.toml"), text).expect("written");
        let error = Profiles::load(dir.path()).expect_err(name);
        assert!(
            matches!(error.code(), "profile_file_invalid" | "profile_invalid"),
            "{name}: {error}"
        );
        assert!(
            !error.to_string().contains("oops"),
            "{name}: a value from the file is not echoed: {error}"
        );
    }
}

/// The built-in CIS2 profiles' assurance defaults are overridden in `profiles.toml`: another
/// `max_age`, no level at all (`acr_values = ""`), and an identity assurance minimum.
#[test]
fn the_assurance_defaults_are_overridden_in_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("profiles.toml"),
        "[profiles.live]\nclient_id = \"555000000009.apps.supplier\"\nacr_values = \"\"\n\
         max_age = 240\nmin_id_assurance_level = 3\n",
    )
    .expect("written");
    let profiles = Profiles::load(dir.path()).expect("loads");
    let live = profiles.get("live").expect("live");
    assert_eq!(live.acr_values.as_deref(), Some(""));
    assert_eq!(live.max_age, Some(240));
    assert_eq!(live.min_id_assurance_level, Some(3));
    let int = profiles.get("int").expect("int");
    assert_eq!(int.acr_values.as_deref(), Some("AAL2_OR_AAL3_ANY"));
    assert_eq!(int.max_age, Some(300));

    std::fs::write(
        dir.path().join("profiles.toml"),
        "[profiles.live]\nmin_id_assurance_level = 4\n",
    )
    .expect("written");
    let error = Profiles::load(dir.path()).expect_err("not a level");
    assert!(
        error.to_string().contains("min_id_assurance_level 4"),
        "{error}"
    );
}
