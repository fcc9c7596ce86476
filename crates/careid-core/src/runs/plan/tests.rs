use super::*;

const SMALL: &str = r#"
name = "Two authenticators"
profile = "mock"

[matrix]
authenticator = ["smartcard", "security_key"]
acr_values = ["AAL3_ANY", "AAL2_OR_AAL3_ANY"]
prompt = ["login"]
max_age = [300, 0]
"#;

fn ids(plan: &Plan) -> Vec<&str> {
    plan.cases.iter().map(|case| case.id.as_str()).collect()
}

#[test]
fn the_matrix_expands_into_cases_with_stable_ids_in_the_plans_order() {
    let plan = Plan::parse(SMALL, "small.toml").unwrap();
    assert_eq!(
        ids(&plan),
        [
            "smartcard-AAL3_ANY-login-300",
            "smartcard-AAL3_ANY-login-0",
            "smartcard-AAL2_OR_AAL3_ANY-login-300",
            "smartcard-AAL2_OR_AAL3_ANY-login-0",
            "security_key-AAL3_ANY-login-300",
            "security_key-AAL3_ANY-login-0",
            "security_key-AAL2_OR_AAL3_ANY-login-300",
            "security_key-AAL2_OR_AAL3_ANY-login-0",
        ]
    );
    assert_eq!(
        plan,
        Plan::parse(SMALL, "small.toml").unwrap(),
        "the same every time"
    );
    let case = &plan.cases[1];
    assert_eq!(case.authenticator, Authenticator::Smartcard);
    assert_eq!(
        case.acr_values.as_ref().map(AcrValues::as_str),
        Some("AAL3_ANY")
    );
    assert_eq!(
        (case.prompt.as_deref(), case.max_age),
        (Some("login"), Some(0))
    );
    assert_eq!(plan.timeout, DEFAULT_CASE_TIMEOUT);
}

#[test]
fn axes_left_out_leave_the_profiles_values_and_role_modes_and_multiple_values_name_cases() {
    let plan = Plan::parse(
        r#"
name = "Roles"
profile = "int"
[matrix]
authenticator = ["ipad"]
acr_values = ["AAL3_IOS  AAL3_FIDO2"]
prompt = ["login consent"]
role_selection = ["app", "cis2"]
"#,
        "roles.toml",
    )
    .unwrap();
    assert_eq!(
        ids(&plan),
        [
            "ipad-AAL3_IOS+AAL3_FIDO2-login+consent-roles_in_app",
            "ipad-AAL3_IOS+AAL3_FIDO2-login+consent-roles_in_cis2",
        ]
    );
    assert_eq!(plan.cases[0].max_age, None);
    assert_eq!(plan.cases[1].role_selection, Some(RoleSelection::Cis2));
    assert_eq!(
        plan.cases[0].acr_values.as_ref().map(AcrValues::as_str),
        Some("AAL3_IOS AAL3_FIDO2")
    );
}

#[test]
fn expect_applies_to_every_case_and_each_matching_case_table_after_it_in_order() {
    let plan = Plan::parse(
        &format!(
            r#"{SMALL}
[expect]
id_assurance_level = 3
review = ["CIS2 showed the NHS sign-in page"]

[[case]]
match = "security_key-*"
amr = ["FIDO2"]
instruction = "Use the blue key"

[[case]]
match = "security_key-AAL3_ANY-login-0"
outcome = "provider_error"
provider_error = "access_denied"
skip = "no second key today"
"#
        ),
        "plan.toml",
    )
    .unwrap();
    let smartcard = &plan.cases[0];
    assert_eq!(smartcard.overrides.id_assurance_level, Some(3));
    assert_eq!(smartcard.overrides.amr, None);
    assert_eq!(smartcard.review, ["CIS2 showed the NHS sign-in page"]);
    let key = plan
        .case(&CaseId("security_key-AAL3_ANY-login-0".to_owned()))
        .unwrap();
    assert_eq!(
        key.overrides.amr.as_deref(),
        Some(&["FIDO2".to_owned()][..])
    );
    assert_eq!(key.overrides.outcome, Some(Verdict::ProviderError));
    assert_eq!(
        key.overrides.provider_error.as_deref(),
        Some("access_denied")
    );
    assert_eq!(key.instruction.as_deref(), Some("Use the blue key"));
    assert_eq!(key.skip.as_deref(), Some("no second key today"));
    assert_eq!(plan.cases[4].skip, None);
}

/// Each mistake, the line it is reported at, and words the message must hold.
#[test]
fn mistakes_are_reported_at_their_line_naming_the_field() {
    let cases: &[(&str, &str, usize, &str)] = &[
        ("unknown top-level key", "name = \"x\"\nprofile = \"mock\"\ncolour = 1\n[matrix]\nauthenticator = [\"smartcard\"]\n", 3, "unknown field `colour`"),
        ("unknown matrix key", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\nacr = [\"AAL3_ANY\"]\n", 5, "unknown field `acr`"),
        ("unknown authenticator", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\", \"retina\"]\n", 4, "retina"),
        ("no matrix", "name = \"x\"\nprofile = \"mock\"\n", 1, "matrix"),
        ("no name", "profile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\n", 1, "name"),
        ("empty name", "name = \" \"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\n", 1, "needs a name"),
        ("not TOML", "name = \"x\nprofile = \"mock\"\n", 1, ""),
        ("empty axis", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\nmax_age = []\n", 5, "lists no value"),
        ("repeated value", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\", \"smartcard\"]\n", 4, "twice"),
        ("unknown prompt", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\nprompt = [\"again\"]\n", 5, "not a prompt"),
        ("none with another prompt", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\nprompt = [\"none login\"]\n", 5, "none alone"),
        ("odd acr_values", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\nacr_values = [\"AAL3_ANY&x=1\"]\n", 5, "not acr values"),
        ("negative max_age", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\nmax_age = [-1]\n", 5, "max_age"),
        ("role mode", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\nrole_selection = [\"picker\"]\n", 5, "picker"),
        ("case without match", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\n[[case]]\noutcome = \"signed_in\"\n", 5, "needs match"),
        ("match of no case", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\n[[case]]\nmatch = \"passkey-*\"\n", 6, "no case of the matrix"),
        ("match in expect", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\n[expect]\nmatch = \"*\"\n", 6, "every case"),
        ("unknown outcome", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\n[expect]\noutcome = \"fine\"\n", 6, "fine"),
        ("unknown expectation", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\n[[case]]\nmatch = \"*\"\nlevel = 3\n", 7, "unknown field `level`"),
        ("level out of range", "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\"]\n[expect]\nauthentication_assurance_level = 4\n", 6, "1, 2 or 3"),
        ("timeout", "name = \"x\"\nprofile = \"mock\"\ntimeout = 0\n[matrix]\nauthenticator = [\"smartcard\"]\n", 3, "timeout"),
        ("scopes", "name = \"x\"\nprofile = \"mock\"\nscopes = [\"profile\"]\n[matrix]\nauthenticator = [\"smartcard\"]\n", 3, "openid"),
        ("mock user", "name = \"x\"\nprofile = \"mock\"\n[mock]\nuser = \"\"\n[matrix]\nauthenticator = [\"smartcard\"]\n", 4, "no test user"),
        ("unknown mock key", "name = \"x\"\nprofile = \"mock\"\n[mock]\nuser = \"1\"\npin = \"1234\"\n[matrix]\nauthenticator = [\"smartcard\"]\n", 5, "unknown field `pin`"),
    ];
    for (what, text, line, words) in cases {
        let error = Plan::parse(text, "plan.toml").expect_err(what);
        assert_eq!(error.line, *line, "{what}: {error}");
        assert!(
            error.to_string().starts_with(&format!("plan.toml:{line}:")),
            "{what}: {error}"
        );
        assert!(error.message.contains(words), "{what}: {error}");
    }
}

#[test]
fn the_example_plans_and_expected_failures_are_valid() {
    let mock = Plan::parse(
        include_str!("../../../../../docs/examples/runs/mock.toml"),
        "mock.toml",
    )
    .unwrap();
    assert_eq!(
        mock.mock.as_ref().map(|mock| mock.user.as_str()),
        Some("555057900101")
    );
    assert_eq!(mock.cases.len(), 16);
    let int = Plan::parse(
        include_str!("../../../../../docs/examples/runs/int.toml"),
        "int.toml",
    )
    .unwrap();
    assert_eq!(int.profile, "int");
    assert!(int
        .cases
        .iter()
        .any(|case| case.id.as_str() == "security_key-AAL3_ANY-login-300"));
    let known = super::super::ExpectedFailures::parse(
        include_str!("../../../../../docs/examples/runs/int-known.toml"),
        "int-known.toml",
    )
    .unwrap();
    assert!(known
        .entries
        .iter()
        .all(|entry| int.cases.iter().any(|case| entry.case.matches(&case.id))));
}

#[test]
fn a_matrix_too_large_is_refused() {
    let many: Vec<String> = (0..40).map(|age| age.to_string()).collect();
    let text = format!(
        "name = \"x\"\nprofile = \"mock\"\n[matrix]\nauthenticator = [\"smartcard\", \"ipad\", \"passkey\"]\n\
         max_age = [{}]\nprompt = [\"login\", \"consent\", \"none\", \"select_account\", \"login consent\", \"login select_account\", \"consent select_account\", \"login consent select_account\", \"select_account login\"]\n",
        many.join(", ")
    );
    let error = Plan::parse(&text, "big.toml").unwrap_err();
    assert!(error.message.contains("more than the 1000"), "{error}");
}

#[test]
fn patterns_match_whole_ids_with_stars_for_any_run() {
    let id = CaseId("security_key-AAL3_ANY-login-300".to_owned());
    for (pattern, matches) in [
        ("security_key-AAL3_ANY-login-300", true),
        ("security_key-*", true),
        ("*-300", true),
        ("*AAL3*login*", true),
        ("*", true),
        ("security_key", false),
        ("*-0", false),
        ("smartcard-*", false),
        ("security_key-AAL3_ANY-login-300*-", false),
        ("**300", true),
    ] {
        assert_eq!(CasePattern::new(pattern).matches(&id), matches, "{pattern}");
    }
    assert!(!CasePattern::new("ab*ba").matches(&CaseId("aba".to_owned())));
}
