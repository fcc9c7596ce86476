//! CIS2 claims: UserInfo read tolerantly, the role choice, and the assurance checks, one table each.

use careid_core::{
    assurance_level, check_assurance, check_id_assurance, choose_role, requested_level, Identity,
    NrbacRole, RoleChoice,
};
use serde_json::{json, Value};

/// CIS2's example UserInfo (shared/cis2/examples/userinfo.json), copied so tests stand alone.
const EXAMPLE: &str = include_str!("../data/userinfo-example.json");

const NURSE: &str = "555057898108";
const PRIVACY_OFFICER: &str = "555057996107";
const SYSTEMS_SUPPORT: &str = "555057899109";

fn example() -> Value {
    serde_json::from_str(EXAMPLE).expect("the example is JSON")
}

/// The example with some claims replaced; a `null` in `changes` removes the claim.
fn example_with(changes: Value) -> Value {
    let mut userinfo = example();
    let claims = userinfo.as_object_mut().expect("an object");
    for (claim, value) in changes.as_object().expect("an object") {
        if value.is_null() {
            claims.remove(claim);
        } else {
            claims.insert(claim.clone(), value.clone());
        }
    }
    userinfo
}

fn role(id: &str, org_code: &str, role_name: &str) -> Value {
    json!({
        "person_roleid": id,
        "person_orgid": "555000000100",
        "org_code": org_code,
        "role_code": "S8000:G8000:R8001",
        "role_name": role_name,
    })
}

fn identity(userinfo: &Value) -> Identity {
    Identity::from_userinfo(userinfo).expect("UserInfo is read")
}

fn role_ids(roles: &[NrbacRole]) -> Vec<&str> {
    roles
        .iter()
        .map(|role| role.person_roleid.as_str())
        .collect()
}

#[test]
fn the_example_userinfo_is_read_in_full() {
    let identity = Identity::from_userinfo_json(EXAMPLE).expect("read");
    assert_eq!(identity.sub, "555057896106");
    assert_eq!(identity.uid.as_deref(), Some("555057896106"));
    assert_eq!(identity.nhsid_useruid.as_deref(), Some("555057896106"));
    assert_eq!(identity.name.as_deref(), Some("Flo Nurse"));
    assert_eq!(identity.given_name.as_deref(), Some("Nurse"));
    assert_eq!(identity.family_name.as_deref(), Some("Flo"));
    assert_eq!(identity.display_name.as_deref(), Some("Nurse Flo"));
    assert_eq!(identity.title.as_deref(), Some("Ms"));
    assert_eq!(identity.email.as_deref(), Some("nurse.flo@example.nhs.uk"));
    assert_eq!(identity.id_assurance_level, Some(3));
    assert!(identity.org_memberships.is_empty());
    assert!(identity.professional_memberships.is_empty());
    assert_eq!(identity.warnings(), [] as [&str; 0]);

    let orgs: Vec<(&str, &str)> = identity
        .organisations
        .iter()
        .map(|org| (org.code.as_str(), org.name.as_str()))
        .collect();
    assert_eq!(orgs, [("X26", "NHS ENGLAND - X26"), ("A9A5A", "NHSID DEV")]);

    assert_eq!(
        role_ids(&identity.roles),
        [NURSE, PRIVACY_OFFICER, SYSTEMS_SUPPORT]
    );
    let nurse = identity.role(NURSE).expect("the nurse role");
    assert_eq!(nurse.person_orgid, "555057897107");
    assert_eq!(nurse.org_code, "A9A5A");
    assert_eq!(nurse.role_code, "S8000:G8000:R8001");
    assert_eq!(nurse.job_role_code(), "R8001");
    assert_eq!(nurse.job_role_name(), "Nurse Access Role");
    assert_eq!(
        nurse.activities,
        [
            "Personal Medication Administration",
            "Amend Patient Demographics"
        ]
    );
    assert_eq!(nurse.activity_codes, ["B0428", "B0825"]);
    assert_eq!(nurse.workgroups, ["Community Nursing"]);
    assert_eq!(nurse.workgroups_codes, ["555653110100"]);
    assert!(nurse.aow.is_empty());

    let privacy = identity.role(PRIVACY_OFFICER).expect("the privacy role");
    assert_eq!(privacy.aow, ["\"Pathology\":\"Pathology\":\"Phlebotomy\""]);
    assert_eq!(privacy.aow_codes, ["P0020:Q0300:T0640"]);
    assert_eq!(privacy.job_role_code(), "R0001");
    assert_eq!(privacy.job_role_name(), "Privacy Officer");
    assert!(identity.role("555000000000").is_none());
}

struct Reads {
    name: &'static str,
    userinfo: Value,
    sub: &'static str,
    level: Option<u8>,
    orgs: &'static [&'static str],
    roles: &'static [&'static str],
    memberships: &'static [(&'static str, &'static str)],
    warnings: &'static [&'static str],
}

fn check_reads(case: Reads) {
    let identity = identity(&case.userinfo);
    let name = case.name;
    assert_eq!(identity.sub, case.sub, "{name}: sub");
    assert_eq!(identity.id_assurance_level, case.level, "{name}: level");
    let orgs: Vec<&str> = identity
        .organisations
        .iter()
        .map(|org| org.code.as_str())
        .collect();
    assert_eq!(orgs, case.orgs, "{name}: organisations");
    assert_eq!(role_ids(&identity.roles), case.roles, "{name}: roles");
    let memberships: Vec<(&str, &str)> = identity
        .professional_memberships
        .iter()
        .map(|(claim, id)| (claim.as_str(), id.as_str()))
        .collect();
    assert_eq!(memberships, case.memberships, "{name}: memberships");
    assert_eq!(identity.warnings(), case.warnings, "{name}: warnings");
}

#[test]
fn userinfo_variants_are_read_tolerantly() {
    let all_roles = &[NURSE, PRIVACY_OFFICER, SYSTEMS_SUPPORT];
    let all_orgs = &["X26", "A9A5A"];
    let cases = [
        Reads {
            name: "level as a number",
            userinfo: example_with(json!({"idassurancelevel": 3})),
            sub: "555057896106",
            level: Some(3),
            orgs: all_orgs,
            roles: all_roles,
            memberships: &[],
            warnings: &[],
        },
        Reads {
            name: "level that is not one",
            userinfo: example_with(json!({"idassurancelevel": "very high"})),
            sub: "555057896106",
            level: None,
            orgs: all_orgs,
            roles: all_roles,
            memberships: &[],
            warnings: &[
                "claim idassurancelevel is not an assurance level (\"very high\") and was ignored",
            ],
        },
        Reads {
            name: "role list as a single object",
            userinfo: example_with(json!({"nhsid_nrbac_roles": example()["nhsid_nrbac_roles"][1]})),
            sub: "555057896106",
            level: Some(3),
            orgs: all_orgs,
            roles: &[PRIVACY_OFFICER],
            memberships: &[],
            warnings: &[],
        },
        Reads {
            name: "org list as a single object",
            userinfo: example_with(
                json!({"nhsid_user_orgs": {"org_code": "X26", "org_name": "NHS ENGLAND - X26"}}),
            ),
            sub: "555057896106",
            level: Some(3),
            orgs: &["X26"],
            roles: all_roles,
            memberships: &[],
            warnings: &[],
        },
        Reads {
            name: "no roles claim",
            userinfo: example_with(json!({"nhsid_nrbac_roles": null, "nhsid_user_orgs": null})),
            sub: "555057896106",
            level: Some(3),
            orgs: &[],
            roles: &[],
            memberships: &[],
            warnings: &[],
        },
        Reads {
            name: "an empty role list",
            userinfo: example_with(json!({"nhsid_nrbac_roles": []})),
            sub: "555057896106",
            level: Some(3),
            orgs: all_orgs,
            roles: &[],
            memberships: &[],
            warnings: &[],
        },
        Reads {
            name: "roles missing required fields",
            userinfo: example_with(json!({"nhsid_nrbac_roles": [
                {"person_orgid": "555057897107", "org_code": "A9A5A", "role_code": "S8000:G8000:R8001"},
                "not a role",
                role(NURSE, "A9A5A", ""),
                role(SYSTEMS_SUPPORT, "A9A5A", "\"Admin and Clerical\":\"Management - Health Records\":\"Systems Support Access Role\""),
            ]})),
            sub: "555057896106",
            level: Some(3),
            orgs: all_orgs,
            roles: &[SYSTEMS_SUPPORT],
            memberships: &[],
            warnings: &[
                "item 1 of nhsid_nrbac_roles is not an object and was skipped",
                "role 0 of nhsid_nrbac_roles lacks person_roleid, role_name and was skipped",
                "role 2 (555057898108) of nhsid_nrbac_roles lacks role_name and was skipped",
            ],
        },
        Reads {
            name: "unknown claims and AM internals",
            userinfo: example_with(
                json!({"auditTrackingId": "91f6", "realm": "/NHSIdentity/Healthcare", "nhsid_future_claim": {"x": 1}}),
            ),
            sub: "555057896106",
            level: Some(3),
            orgs: all_orgs,
            roles: all_roles,
            memberships: &[],
            warnings: &[],
        },
        Reads {
            name: "an INT user id that is not 12 digits, and only sub",
            userinfo: json!({"sub": "int-test-user-7"}),
            sub: "int-test-user-7",
            level: None,
            orgs: &[],
            roles: &[],
            memberships: &[],
            warnings: &[],
        },
        Reads {
            name: "professional memberships as text or number",
            userinfo: example_with(json!({"gmc_id": "7654321", "nmc_id": 1234567})),
            sub: "555057896106",
            level: Some(3),
            orgs: all_orgs,
            roles: all_roles,
            memberships: &[("gmc_id", "7654321"), ("nmc_id", "1234567")],
            warnings: &[],
        },
        Reads {
            name: "a text claim of the wrong type",
            userinfo: example_with(
                json!({"email": ["a@example.nhs.uk"], "nhsid_user_orgs": "X26"}),
            ),
            sub: "555057896106",
            level: Some(3),
            orgs: &[],
            roles: all_roles,
            memberships: &[],
            warnings: &[
                "claim nhsid_user_orgs is not a list and was ignored",
                "claim email is not text and was ignored",
            ],
        },
    ];
    for case in cases {
        check_reads(case);
    }
}

fn check_refused(cases: &[(&str, &str, &str)]) {
    for (name, text, code) in cases {
        let error = Identity::from_userinfo_json(text).expect_err(name);
        assert_eq!(error.code(), *code, "{name}: {error}");
    }
}

#[test]
fn userinfo_without_a_usable_sub_is_refused() {
    check_refused(&[
        (
            "sub missing",
            r#"{"uid": "555057896106"}"#,
            "userinfo_sub_missing",
        ),
        ("sub empty", r#"{"sub": ""}"#, "userinfo_sub_missing"),
        ("sub blank", r#"{"sub": "  "}"#, "userinfo_sub_missing"),
        (
            "sub a number",
            r#"{"sub": 555057896106}"#,
            "userinfo_sub_missing",
        ),
        ("sub null", r#"{"sub": null}"#, "userinfo_sub_missing"),
        ("not an object", r#"["sub"]"#, "userinfo_not_object"),
        ("not JSON", "<html>", "userinfo_not_json"),
    ]);
}

/// What `choose_role` should decide: a role id, the groups as (ODS code, name, role ids), or an
/// error code.
#[derive(Debug)]
enum Expect {
    Selected(&'static str),
    Automatic(&'static str),
    Requested(&'static str),
    Remembered(&'static str),
    Ask(&'static [(&'static str, &'static str, &'static [&'static str])]),
    NoRoles,
    Error(&'static str),
}

fn check_choice(
    name: &str,
    userinfo: &Value,
    selected: Option<&str>,
    requested: Option<&str>,
    remembered: Option<&str>,
    expect: Expect,
) {
    let choice = choose_role(&identity(userinfo), selected, requested, remembered);
    match (&choice, &expect) {
        (Ok(RoleChoice::Selected(role)), Expect::Selected(id))
        | (Ok(RoleChoice::Automatic(role)), Expect::Automatic(id))
        | (Ok(RoleChoice::Requested(role)), Expect::Requested(id))
        | (Ok(RoleChoice::Remembered(role)), Expect::Remembered(id)) => {
            assert_eq!(role.person_roleid, *id, "{name}");
            let chosen = choice.as_ref().expect("ok").role().expect("a role");
            assert_eq!(chosen.person_roleid, *id, "{name}");
        }
        (Ok(RoleChoice::Ask(groups)), Expect::Ask(expected)) => {
            let groups: Vec<(&str, &str, Vec<&str>)> = groups
                .iter()
                .map(|group| {
                    (
                        group.organisation.code.as_str(),
                        group.organisation.name.as_str(),
                        role_ids(&group.roles),
                    )
                })
                .collect();
            let expected: Vec<(&str, &str, Vec<&str>)> = expected
                .iter()
                .map(|(code, org, ids)| (*code, *org, ids.to_vec()))
                .collect();
            assert_eq!(groups, expected, "{name}");
        }
        (Ok(RoleChoice::NoRoles), Expect::NoRoles) => {
            assert!(choice.as_ref().expect("ok").role().is_none(), "{name}");
        }
        (Err(error), Expect::Error(code)) => assert_eq!(error.code(), *code, "{name}: {error}"),
        _ => panic!("{name}: expected {expect:?}, got {choice:?}"),
    }
}

#[test]
fn the_role_is_chosen_as_product_step_8_says() {
    let several = example();
    let one = example_with(json!({"nhsid_nrbac_roles": [example()["nhsid_nrbac_roles"][0]]}));
    let none = example_with(json!({"nhsid_nrbac_roles": null}));
    let both_groups: &[(&str, &str, &[&str])] = &[
        ("A9A5A", "NHSID DEV", &[NURSE, SYSTEMS_SUPPORT]),
        ("X26", "NHS ENGLAND - X26", &[PRIVACY_OFFICER]),
    ];
    let unnamed_org = example_with(json!({"nhsid_nrbac_roles": [
        role("555000000201", "RYJ", "\"A\":\"B\":\"Clerk\""),
        role("555000000202", "X26", "\"A\":\"B\":\"Clerk\""),
        role("555000000203", "RYJ", "\"A\":\"B\":\"Manager\""),
    ]}));
    let cases = [
        (
            "selected role found",
            &several,
            Some(NURSE),
            None,
            Expect::Selected(NURSE),
        ),
        (
            "selected role wins over the remembered one",
            &several,
            Some(PRIVACY_OFFICER),
            Some(NURSE),
            Expect::Selected(PRIVACY_OFFICER),
        ),
        (
            "selected role of a user with one role",
            &one,
            Some(NURSE),
            None,
            Expect::Selected(NURSE),
        ),
        (
            "selected role not in userinfo",
            &several,
            Some("555000000999"),
            None,
            Expect::Error("selected_role_unknown"),
        ),
        (
            "selected role of a user with no roles",
            &none,
            Some(NURSE),
            None,
            Expect::Error("selected_role_unknown"),
        ),
        (
            "empty selected role counts as absent",
            &one,
            Some(""),
            None,
            Expect::Automatic(NURSE),
        ),
        ("one role", &one, None, None, Expect::Automatic(NURSE)),
        (
            "one role with a stale remembered choice",
            &one,
            None,
            Some(PRIVACY_OFFICER),
            Expect::Automatic(NURSE),
        ),
        (
            "remembered choice still held",
            &several,
            None,
            Some(SYSTEMS_SUPPORT),
            Expect::Remembered(SYSTEMS_SUPPORT),
        ),
        (
            "remembered choice no longer held",
            &several,
            None,
            Some("555000000999"),
            Expect::Ask(both_groups),
        ),
        (
            "several roles across two orgs",
            &several,
            None,
            None,
            Expect::Ask(both_groups),
        ),
        (
            "an org userinfo does not name shows its ODS code",
            &unnamed_org,
            None,
            None,
            Expect::Ask(&[
                ("RYJ", "RYJ", &["555000000201", "555000000203"]),
                ("X26", "NHS ENGLAND - X26", &["555000000202"]),
            ]),
        ),
        ("no roles", &none, None, None, Expect::NoRoles),
        (
            "no roles with a remembered choice",
            &none,
            None,
            Some(NURSE),
            Expect::NoRoles,
        ),
    ];
    for (name, userinfo, selected, remembered, expect) in cases {
        check_choice(name, userinfo, selected, None, remembered, expect);
    }
}

/// The role CIS2's picker chose (`selected_roleid`) is the role: a role the user asks for
/// (`careid login --role`, a role change) must be that one, or the sign-in is refused naming
/// both; without a CIS2 choice the asked-for role is used when the user holds it.
#[test]
fn a_requested_role_never_overrides_the_role_cis2_chose() {
    let several = example();
    let none = example_with(json!({"nhsid_nrbac_roles": null}));
    let cases = [
        (
            "requested is the selected role",
            &several,
            Some(NURSE),
            Some(NURSE),
            None,
            Expect::Selected(NURSE),
        ),
        (
            "requested differs from the selected role",
            &several,
            Some(NURSE),
            Some(PRIVACY_OFFICER),
            Some(PRIVACY_OFFICER),
            Expect::Error("selected_role_conflict"),
        ),
        (
            "requested is not a role of the user, and CIS2 chose one",
            &several,
            Some(NURSE),
            Some("555000000999"),
            None,
            Expect::Error("selected_role_conflict"),
        ),
        (
            "the selected role must be the user's whatever was requested",
            &several,
            Some("555000000999"),
            Some(NURSE),
            None,
            Expect::Error("selected_role_unknown"),
        ),
        (
            "requested without a CIS2 choice",
            &several,
            None,
            Some(SYSTEMS_SUPPORT),
            Some(NURSE),
            Expect::Requested(SYSTEMS_SUPPORT),
        ),
        (
            "requested role the user does not hold",
            &several,
            None,
            Some("555000000999"),
            None,
            Expect::Error("unknown_role"),
        ),
        (
            "requested by a user with no roles",
            &none,
            None,
            Some(NURSE),
            None,
            Expect::Error("unknown_role"),
        ),
        (
            "an empty request counts as absent",
            &several,
            None,
            Some(" "),
            Some(NURSE),
            Expect::Remembered(NURSE),
        ),
    ];
    for (name, userinfo, selected, requested, remembered, expect) in cases {
        check_choice(name, userinfo, selected, requested, remembered, expect);
    }
}

#[test]
fn a_role_conflict_names_both_roles_and_is_a_usage_error() {
    let error = choose_role(
        &identity(&example()),
        Some(NURSE),
        Some(PRIVACY_OFFICER),
        None,
    )
    .expect_err("refused");
    assert!(error.is_usage(), "{error}");
    let message = error.to_string();
    for part in [
        NURSE,
        "Nurse Access Role",
        PRIVACY_OFFICER,
        "Privacy Officer",
    ] {
        assert!(message.contains(part), "{part} in {message}");
    }
    let stranger = choose_role(
        &identity(&example()),
        Some(NURSE),
        Some("555000000999"),
        None,
    )
    .expect_err("refused")
    .to_string();
    assert!(
        stranger.contains("555000000999 (not one of the user's roles)"),
        "{stranger}"
    );
}

fn check_job_roles(cases: &[(&str, &str, &str, &str)]) {
    for (role_code, role_name, code, name) in cases {
        let userinfo = json!({"sub": "1", "nhsid_nrbac_roles": {
            "person_roleid": "555000000301",
            "person_orgid": "555000000300",
            "org_code": "X26",
            "role_code": role_code,
            "role_name": role_name,
        }});
        let identity = identity(&userinfo);
        let role = identity.role("555000000301").expect("the role");
        assert_eq!(role.job_role_code(), *code, "{role_code}");
        assert_eq!(role.job_role_name(), *name, "{role_name}");
    }
}

#[test]
fn job_role_code_and_name_are_the_last_parts() {
    check_job_roles(&[
        (
            "S8000:G8000:R8001",
            "\"Clinical\":\"Clinical Provision\":\"Nurse Access Role\"",
            "R8001",
            "Nurse Access Role",
        ),
        (
            "S8001:G8005:R8015",
            "\"Admin and Clerical\":\"Management - Health Records\":\"Systems Support Access Role\"",
            "R8015",
            "Systems Support Access Role",
        ),
        (
            "S8000:G8000:R8000",
            " \"Clinical\":\"Clinical Provision\":\"Clinical Practitioner Access Role\" ",
            "R8000",
            "Clinical Practitioner Access Role",
        ),
        (
            "R8008",
            "Admin and Clerical:Admin and Clerical:Admin Clinical Support Access Role",
            "R8008",
            "Admin Clinical Support Access Role",
        ),
        ("S8002:G8003:R0001", "Privacy Officer", "R0001", "Privacy Officer"),
    ]);
}

#[test]
fn requested_levels_are_the_lowest_acr_values_admit() {
    let cases: &[(&str, Option<u8>)] = &[
        ("AAL3_ANY", Some(3)),
        ("AAL3_N3_SMARTCARD AAL3_FIDO2", Some(3)),
        ("AAL2_OR_AAL3_ANY", Some(2)),
        ("AAL2_ANY", Some(2)),
        ("AAL2_TOTP AAL3_ANY", Some(2)),
        ("AAL1_USERPASS", Some(1)),
        ("AAL3_ANY  AAL1_USERPASS", Some(1)),
        ("", None),
        ("urn:example:loa", None),
    ];
    for (acr_values, level) in cases {
        assert_eq!(
            requested_level(&careid_core::AcrValues::new(*acr_values)),
            *level,
            "{acr_values:?}"
        );
    }
}

/// A case: its name, the level asked for, the ID token's claim, and the error code expected.
type AssuranceCase = (
    &'static str,
    Option<u8>,
    Option<Value>,
    Result<(), &'static str>,
);

fn check_assurance_table(cases: &[AssuranceCase]) {
    for (name, requested, level, expect) in cases {
        let outcome = check_assurance(*requested, level.as_ref()).map_err(|error| error.code());
        assert_eq!(outcome, *expect, "{name}");
    }
}

#[test]
fn the_assurance_level_matches_the_request() {
    check_assurance_table(&[
        ("AAL3 asked, \"3\"", Some(3), Some(json!("3")), Ok(())),
        ("AAL3 asked, 3", Some(3), Some(json!(3)), Ok(())),
        (
            "AAL3 asked, \"2\"",
            Some(3),
            Some(json!("2")),
            Err("assurance_too_low"),
        ),
        (
            "AAL3 asked, 2",
            Some(3),
            Some(json!(2)),
            Err("assurance_too_low"),
        ),
        (
            "AAL3 asked, missing",
            Some(3),
            None,
            Err("assurance_missing"),
        ),
        (
            "AAL3 asked, null",
            Some(3),
            Some(Value::Null),
            Err("assurance_missing"),
        ),
        (
            "AAL3 asked, not a level",
            Some(3),
            Some(json!("AAL3")),
            Err("assurance_invalid"),
        ),
        ("AAL2 asked, 2", Some(2), Some(json!(2)), Ok(())),
        ("AAL2 asked, \"2\"", Some(2), Some(json!("2")), Ok(())),
        ("AAL2 asked, 3", Some(2), Some(json!(3)), Ok(())),
        (
            "AAL2 asked, 1",
            Some(2),
            Some(json!(1)),
            Err("assurance_too_low"),
        ),
        (
            "AAL2 asked, missing",
            Some(2),
            None,
            Err("assurance_missing"),
        ),
        ("nothing asked, missing", None, None, Ok(())),
        ("nothing asked, 1", None, Some(json!("1")), Ok(())),
    ]);
}

#[test]
fn the_id_assurance_level_meets_the_profile_s_minimum() {
    let cases: &[AssuranceCase] = &[
        ("IAL3 required, \"3\"", Some(3), Some(json!("3")), Ok(())),
        ("IAL3 required, 3", Some(3), Some(json!(3)), Ok(())),
        (
            "IAL3 required, 1",
            Some(3),
            Some(json!(1)),
            Err("id_assurance_too_low"),
        ),
        (
            "IAL2 required, \"1\"",
            Some(2),
            Some(json!("1")),
            Err("id_assurance_too_low"),
        ),
        (
            "IAL3 required, missing",
            Some(3),
            None,
            Err("id_assurance_missing"),
        ),
        (
            "IAL3 required, not a level",
            Some(3),
            Some(json!("high")),
            Err("id_assurance_invalid"),
        ),
        ("nothing required, 1", None, Some(json!(1)), Ok(())),
        ("nothing required, missing", None, None, Ok(())),
    ];
    for (name, minimum, level, expect) in cases {
        let outcome = check_id_assurance(*minimum, level.as_ref()).map_err(|error| error.code());
        assert_eq!(outcome, *expect, "{name}");
    }
}

#[test]
fn assurance_levels_are_read_from_text_or_numbers() {
    let cases: &[(Value, Option<u8>)] = &[
        (json!("3"), Some(3)),
        (json!(3), Some(3)),
        (json!("2"), Some(2)),
        (json!(2), Some(2)),
        (json!(" 3 "), Some(3)),
        (json!(0), None),
        (json!("4"), None),
        (json!(true), None),
        (Value::Null, None),
    ];
    for (value, level) in cases {
        assert_eq!(assurance_level(value), *level, "{value}");
    }
}
