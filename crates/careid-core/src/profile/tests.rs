use super::*;

#[test]
fn redirect_settings_are_overridden_by_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join(PROFILES_FILE),
        "[profiles.int]\nclient_id = \"1.apps.local\"\nredirect_ports = []\n\n\
         [profiles.live]\nclient_id = \"2.apps.local\"\nredirect_ports = [8765]\n\
         redirect_host = \"localhost\"\nredirect_path = \"/cb\"\n",
    )
    .expect("write");
    let profiles = Profiles::load(dir.path()).expect("loads");
    let int = profiles.get("int").expect("int");
    assert!(int.redirect_ports.is_empty() && int.redirect_registration().any_port);
    let live = profiles.get("live").expect("live");
    assert_eq!(live.redirect_host, RedirectHost::Localhost);
    assert_eq!(
        live.redirect_registration().uris,
        ["http://localhost:8765/cb"]
    );
    assert_eq!(
        profiles.get("dep").expect("dep").redirect_ports,
        CIS2_REDIRECT_PORTS
    );
}

#[test]
fn redirect_host_is_127_0_0_1_or_localhost_only() {
    for (text, expected) in [
        ("127.0.0.1", Some(RedirectHost::Ipv4Loopback)),
        ("localhost", Some(RedirectHost::Localhost)),
        ("LOCALHOST", None),
        ("[::1]", None),
        ("example.com", None),
        ("", None),
    ] {
        assert_eq!(text.parse::<RedirectHost>().ok(), expected, "{text:?}");
        let file = format!("[profiles.int]\nredirect_host = {text:?}\n");
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(PROFILES_FILE), file).expect("write");
        match Profiles::load(dir.path()) {
            Ok(profiles) => assert_eq!(
                Some(profiles.get("int").expect("int").redirect_host),
                expected,
                "{text:?}"
            ),
            Err(error) => {
                assert!(expected.is_none(), "{text:?}: {error}");
                assert_eq!(error.code(), "profile_file_invalid", "{text:?}");
            }
        }
    }
}

/// A profile with a broker: its address is https (http on 127.0.0.1 only), it holds no
/// credential (no keychain account, not even for a CIS2 environment), and a client
/// authentication method, algorithm or key id given with it is refused.
#[test]
fn a_broker_profile_holds_no_credential() {
    let dir = tempfile::tempdir().expect("dir");
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    let entry = |broker: &str| ProfileEntry {
        issuer: Some("https://am.example.nhs.uk:443/realm".into()),
        client_id: Some("1.apps.local".into()),
        broker: Some(broker.into()),
        ..ProfileEntry::default()
    };
    let trust = profiles
        .add("trust", entry("https://broker.example.nhs.uk"))
        .expect("added");
    assert_eq!(
        trust.broker.as_deref(),
        Some("https://broker.example.nhs.uk")
    );
    assert_eq!(trust.credential_account(), None);
    let live = profiles
        .add(
            "live",
            ProfileEntry {
                client_id: Some("2.apps.national".into()),
                broker: Some("https://broker.example.nhs.uk".into()),
                ..ProfileEntry::default()
            },
        )
        .expect("a built-in completed with a broker");
    assert_eq!(live.credential_account(), None);
    profiles.save().expect("saved");
    let reloaded = Profiles::load(dir.path()).expect("reloads");
    assert_eq!(reloaded.get("trust").expect("trust"), trust);

    for (name, broker) in [
        ("plain", "http://broker.example.nhs.uk"),
        ("localhost", "http://localhost:8080"),
        ("query", "https://broker.example.nhs.uk/?a=b"),
    ] {
        let error = profiles.add(name, entry(broker)).expect_err(broker);
        assert_eq!(error.code(), "profile_invalid", "{broker}");
        assert!(profiles.get(name).is_err(), "{name} was not kept");
    }
    profiles
        .add("local", entry("http://127.0.0.1:8080"))
        .expect("loopback");

    for (name, with) in [
        (
            "secret",
            ProfileEntry {
                client_auth: Some(ClientAuth::ClientSecretBasic),
                ..entry("https://broker.example.nhs.uk")
            },
        ),
        (
            "key",
            ProfileEntry {
                client_auth: Some(ClientAuth::PrivateKeyJwt),
                key_id: Some("k1".into()),
                ..entry("https://broker.example.nhs.uk")
            },
        ),
    ] {
        let error = profiles.add(name, with).expect_err(name);
        let message = error.to_string();
        assert!(
            message.contains("broker") && message.contains("client_auth"),
            "{message}"
        );
    }
}

/// The built-in mock is refused by add and remove, and by a change of its provider or
/// client, with its own code, and the refusal leaves the file as it was; how it signs in
/// can change.
#[test]
fn the_built_in_mock_cannot_be_added_removed_or_made_another_provider() {
    let dir = tempfile::tempdir().expect("dir");
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    let before = profiles.to_text().expect("text");
    let client = ProfileEntry {
        client_id: Some("1.apps.local".into()),
        ..ProfileEntry::default()
    };
    let refusals = [
        profiles.add("mock", client.clone()).expect_err("add"),
        profiles
            .change("mock", |entry| {
                entry.client_id = Some("someone-else".into())
            })
            .expect_err("change its client"),
        profiles
            .change("mock", |entry| {
                entry.issuer = Some("https://x.example".into())
            })
            .expect_err("change its issuer"),
        profiles.remove("mock").expect_err("remove"),
    ];
    for error in refusals {
        assert!(matches!(error, ProfileError::BuiltInMock(_)), "{error}");
        assert_eq!(error.code(), "profile_built_in", "{error}");
        assert!(error.to_string().contains("built-in mock"), "{error}");
    }
    assert_eq!(profiles.to_text().expect("text"), before);
    assert_eq!(profiles.get("mock").expect("mock"), built_in_mock());

    let changed = profiles
        .change("mock", |entry| entry.acr_values = Some("AAL3_ANY".into()))
        .expect("how it signs in can change");
    assert_eq!(
        changed.acr_values.map(String::from).as_deref(),
        Some("AAL3_ANY")
    );
    assert_eq!(changed.issuer, built_in_mock().issuer);
    assert_eq!(changed.client_id, built_in_mock().client_id);
}

/// A change keeps what it does not name, is held to the rules a new profile is, and a
/// refused change leaves the profile as it was.
#[test]
fn a_change_keeps_the_rest_and_is_held_to_the_same_rules() {
    let dir = tempfile::tempdir().expect("dir");
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    let added = profiles
        .add(
            "trust",
            ProfileEntry {
                issuer: Some("https://am.example.nhs.uk:443/realm".into()),
                client_id: Some("1.apps.local".into()),
                prompt: Some("login".into()),
                ..ProfileEntry::default()
            },
        )
        .expect("added");
    let changed = profiles
        .change("trust", |entry| entry.max_age = Some(300))
        .expect("changed");
    assert_eq!(changed.max_age, Some(300));
    assert_eq!(changed.prompt, added.prompt);
    assert_eq!(changed.issuer, added.issuer);

    for (what, edit) in [
        (
            "no issuer",
            (|e: &mut ProfileEntry| e.issuer = None) as fn(&mut ProfileEntry),
        ),
        ("no client id", |e| e.client_id = None),
        ("a bad prompt", |e| e.prompt = Some("always".into())),
        ("no openid scope", |e| {
            e.scopes = Some(vec!["profile".into()])
        }),
    ] {
        let error = profiles.change("trust", edit).expect_err(what);
        assert_eq!(error.code(), "profile_invalid", "{what}: {error}");
        assert_eq!(profiles.get("trust").expect("kept"), changed, "{what}");
    }
    let error = profiles
        .change("nobody", |e| e.max_age = Some(1))
        .expect_err("unknown");
    assert_eq!(error.code(), "profile_not_found");

    // A built-in with no settings yet gets its first ones.
    let int = profiles
        .change("int", |e| e.client_id = Some("2.apps.local".into()))
        .expect("int completed");
    assert_eq!(
        int.client_id.map(String::from).as_deref(),
        Some("2.apps.local")
    );
    profiles.save().expect("saved");
    let reloaded = Profiles::load(dir.path()).expect("reloads");
    assert_eq!(reloaded.get("trust").expect("trust"), changed);
}

/// The default profile is kept in the file; a removed or unknown one falls back to the
/// built-in mock.
#[test]
fn the_default_profile_is_kept_and_falls_back_to_the_mock() {
    let dir = tempfile::tempdir().expect("dir");
    let mut profiles = Profiles::load(dir.path()).expect("loads");
    assert_eq!(profiles.default_name(), "mock");
    profiles
        .add(
            "trust",
            ProfileEntry {
                issuer: Some("https://am.example.nhs.uk:443/realm".into()),
                client_id: Some("1.apps.local".into()),
                ..ProfileEntry::default()
            },
        )
        .expect("added");
    assert_eq!(
        profiles.set_default("nobody").expect_err("unknown").code(),
        "profile_not_found"
    );
    profiles.set_default("trust").expect("default");
    profiles.save().expect("saved");
    let mut reloaded = Profiles::load(dir.path()).expect("reloads");
    assert_eq!(reloaded.default_name(), "trust");
    reloaded.remove("trust").expect("removed");
    assert_eq!(reloaded.default_name(), "mock");
    assert!(!reloaded
        .to_text()
        .expect("text")
        .contains("default_profile"));
}

#[test]
fn client_auth_names_round_trip() {
    for method in ClientAuth::ALL {
        assert_eq!(
            method.as_str().parse::<ClientAuth>().expect("parses"),
            method
        );
    }
    assert_eq!(
        ProfileError::from("client_secret".parse::<ClientAuth>().expect_err("unknown")).code(),
        "profile_invalid"
    );
}

#[test]
fn a_broker_is_https_or_http_on_127_0_0_1() {
    for (url, ok) in [
        ("https://broker.example.nhs.uk", true),
        ("https://broker.example.nhs.uk/careid/", true),
        ("http://127.0.0.1:8080", true),
        ("http://127.0.0.1:8080/base", true),
        ("http://localhost:8080", false),
        ("http://[::1]:8080", false),
        ("http://broker.example.nhs.uk", false),
        ("https://broker.example.nhs.uk/?x=1", false),
        ("https://broker.example.nhs.uk/#f", false),
        ("https://user:pw@broker.example.nhs.uk", false),
        ("ftp://broker.example.nhs.uk", false),
        ("broker.example.nhs.uk", false),
    ] {
        assert_eq!(check_broker_url(url).is_ok(), ok, "{url}");
    }
}
