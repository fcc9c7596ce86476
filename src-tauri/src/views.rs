//! From the core's types to the IPC views the UI renders, and back for the profile form. The
//! one place that decides what of a session crosses to the UI: names, ids, roles and claims,
//! never a token.

use careid_core::history::{AmrValue, Attempt};
use careid_core::signin::Session;
use careid_core::{
    CheckStatus, ClientAuth, DoctorReport, Identity, IssuerSource, NrbacRole, Organisation,
    Profile, ProfileEntry, RoleSelection, SessionPolicy,
};
use mock_cis2::Authenticator;

use crate::ipc::{
    CommandError, DoctorLine, DoctorStatus, LoginOverrides, MockAuthenticatorView, MockGuide,
    MockUserView, NoticeClass, OrganisationView, ProfileInput, ProfileView, RoleGroupView,
    RoleView, TesterRecord, TimingView, UserView,
};

/// The user as careid names them everywhere ([`careid_core::UserName`]).
pub fn user(session: &Session) -> UserView {
    let user = session.facts.user();
    UserView {
        label: user.to_string(),
        name: user.name,
        user_id: user.user_id,
    }
}

pub fn organisation(organisation: Organisation) -> OrganisationView {
    OrganisationView {
        name: organisation.name,
        code: organisation.code,
    }
}

pub fn role(role: &NrbacRole, organisation_of: Option<Organisation>) -> RoleView {
    let organisation_of = organisation_of.unwrap_or_else(|| Organisation {
        code: role.org_code.clone(),
        name: role.org_code.clone(),
    });
    RoleView {
        id: role.person_roleid.clone(),
        name: role.job_role_name().to_owned(),
        code: role.role_code.clone(),
        job_role_code: role.job_role_code().to_owned(),
        organisation: organisation(organisation_of),
        activities: role.activities.clone(),
    }
}

pub fn role_groups(identity: &Identity) -> Vec<RoleGroupView> {
    identity
        .role_groups()
        .into_iter()
        .map(|group| RoleGroupView {
            roles: group
                .roles
                .iter()
                .map(|one| role(one, Some(group.organisation.clone())))
                .collect(),
            organisation: organisation(group.organisation),
        })
        .collect()
}

/// A claim as text: CIS2 sends the assurance levels as strings in some tokens, numbers in others.
fn claim_text(claims: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// What the testers' view shows of a sign-in, and what the export writes.
pub fn tester_record(
    session: &Session,
    requested: LoginOverrides,
    discovery: serde_json::Value,
) -> TesterRecord {
    let claims = session.id_token.as_ref();
    let id_claims = claims.map(|claims| &claims.claims);
    TesterRecord {
        profile: session.profile.clone(),
        issuer: session.issuer.to_string(),
        signed_in_at: session.facts.stored_at,
        acr: claims.and_then(|claims| claims.acr.clone()),
        amr: claims.map(|claims| claims.amr.clone()).unwrap_or_default(),
        authentication_assurance_level: id_claims
            .and_then(|claims| claim_text(claims, "authentication_assurance_level")),
        id_assurance_level: id_claims.and_then(|claims| claim_text(claims, "id_assurance_level")),
        auth_time: claims
            .and_then(|claims| claims.auth_time)
            .or(Some(session.facts.auth_time)),
        sid: claims
            .and_then(|claims| claims.sid.clone())
            .or_else(|| session.facts.sid.clone()),
        selected_roleid: claims.and_then(|claims| claims.selected_roleid.clone()),
        requested,
        id_token_claims: id_claims
            .map(|claims| serde_json::Value::Object(claims.clone()))
            .unwrap_or(serde_json::Value::Null),
        // Decoded for display only (CIS2's access tokens are JWTs); the token itself stays.
        access_token_claims: careid_core::jose::decode(session.tokens.access_token.expose_secret())
            .ok()
            .map(|jwt| serde_json::Value::Object(jwt.claims)),
        userinfo: session
            .userinfo
            .as_ref()
            .map(|claims| serde_json::Value::Object(claims.clone())),
        discovery,
        timings: session
            .timings
            .iter()
            .map(|timing| timing_view(timing.step, timing.millis))
            .collect(),
        stray_callbacks: session.stray_callbacks,
    }
}

pub fn profile(profile: &Profile, stored: Option<bool>) -> ProfileView {
    let credential = match (profile.credential_account(), stored) {
        (None, _) => "notNeeded",
        (Some(_), Some(true)) => "stored",
        (Some(_), _) => "missing",
    };
    let mut missing: Vec<String> = profile.missing().iter().map(|&m| m.to_owned()).collect();
    if credential == "missing" {
        missing.push(match profile.client_auth {
            ClientAuth::PrivateKeyJwt => "its private key, stored in the keychain".to_owned(),
            _ => "its client secret, stored in the keychain".to_owned(),
        });
    }
    let redirect = profile.redirect_registration();
    ProfileView {
        name: profile.name.clone(),
        description: profile.description.clone(),
        built_in: profile.built_in,
        issuer: match &profile.issuer {
            IssuerSource::Url(issuer) => Some(issuer.to_string()),
            IssuerSource::BuiltInMock => None,
        },
        client_id: profile.client_id.clone().map(String::from),
        client_auth: profile.client_auth.as_str().to_owned(),
        assertion_algorithm: profile.assertion_algorithm.map(String::from),
        credential: credential.to_owned(),
        missing,
        scopes: profile.scopes.clone(),
        acr_values: profile.acr_values.clone().map(String::from),
        prompt: profile.prompt.clone(),
        max_age: profile.max_age,
        role_selection: match profile.role_selection {
            RoleSelection::App => "app",
            RoleSelection::Cis2 => "cis2",
        }
        .to_owned(),
        redirect_ports: profile.redirect_ports.clone(),
        redirect_uris: redirect.uris.iter().map(ToString::to_string).collect(),
        redirect_register: redirect.advice(),
        inactivity_minutes: profile.session.inactivity_minutes,
        absolute_hours: profile.session.absolute_hours,
    }
}

/// The profile form's fields as a profile entry; the core validates the whole profile on add.
pub fn profile_entry(input: ProfileInput) -> Result<ProfileEntry, CommandError> {
    let usage =
        |message: String| CommandError::new("profile_invalid", NoticeClass::Usage, &message);
    let text = |value: Option<String>| {
        value
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let client_auth = text(input.client_auth)
        .map(|method| method.parse::<ClientAuth>())
        .transpose()
        .map_err(|error| usage(error.to_string()))?;
    let role_selection = text(input.role_selection)
        .map(|selection| selection.parse::<RoleSelection>())
        .transpose()
        .map_err(|error| usage(error.to_string()))?;
    let session =
        (input.inactivity_minutes.is_some() || input.absolute_hours.is_some()).then(|| {
            let default = SessionPolicy::default();
            SessionPolicy {
                inactivity_minutes: input
                    .inactivity_minutes
                    .unwrap_or(default.inactivity_minutes),
                absolute_hours: input.absolute_hours.unwrap_or(default.absolute_hours),
                ..default
            }
        });
    Ok(ProfileEntry {
        issuer: text(input.issuer),
        client_id: text(input.client_id),
        client_auth,
        assertion_algorithm: text(input.assertion_algorithm),
        redirect_ports: input.redirect_ports.filter(|ports| !ports.is_empty()),
        scopes: input.scopes.filter(|scopes| !scopes.is_empty()),
        acr_values: text(input.acr_values),
        prompt: text(input.prompt),
        max_age: input.max_age,
        role_selection,
        session,
        ..ProfileEntry::default()
    })
}

impl From<CheckStatus> for DoctorStatus {
    fn from(status: CheckStatus) -> Self {
        match status {
            CheckStatus::Pass => DoctorStatus::Pass,
            CheckStatus::Warn => DoctorStatus::Warn,
            CheckStatus::Fail => DoctorStatus::Fail,
            CheckStatus::Info => DoctorStatus::Info,
        }
    }
}

pub fn doctor_lines(report: &DoctorReport) -> Vec<DoctorLine> {
    report
        .checks
        .iter()
        .map(|check| DoctorLine {
            name: check.name.to_owned(),
            status: check.status.into(),
            detail: check.detail.clone(),
        })
        .collect()
}

/// The built-in mock's users and authenticators, from its own data (the same the mock serves).
pub fn mock_guide() -> MockGuide {
    let users = mock_cis2::Directory::builtin();
    MockGuide {
        users: users
            .users()
            .iter()
            .map(|user| MockUserView {
                id: user.id().to_owned(),
                name: user.display_name().to_owned(),
                description: user.description().to_owned(),
                roles: u32::try_from(user.roles().len()).unwrap_or(u32::MAX),
                authenticators: user
                    .authenticators()
                    .iter()
                    .map(|authenticator| authenticator.name().to_owned())
                    .collect(),
            })
            .collect(),
        authenticators: Authenticator::ALL
            .iter()
            .map(|authenticator| MockAuthenticatorView {
                id: authenticator.name().to_owned(),
                label: authenticator.label().to_owned(),
                assurance_level: authenticator.assurance_level(),
                amr: authenticator.amr().to_owned(),
            })
            .collect(),
    }
}

fn timing_view(step: &str, millis: u64) -> TimingView {
    TimingView {
        step: step.to_owned(),
        millis: u32::try_from(millis).unwrap_or(u32::MAX),
    }
}

/// An attempt as the history's list shows it.
pub fn attempt_summary(attempt: &Attempt) -> crate::ipc::AttemptSummaryView {
    let returned = attempt.returned.as_ref();
    crate::ipc::AttemptSummaryView {
        id: attempt.id.to_string(),
        started_at: attempt.started_at.unix,
        profile: attempt.profile.name.clone(),
        label: attempt.label.clone(),
        verdict: attempt.verdict.code().to_owned(),
        error_code: attempt.error.as_ref().map(|error| error.code.clone()),
        level: returned.and_then(|returned| returned.authentication_assurance_level.clone()),
        authenticators: returned
            .map(|returned| returned.amr.iter().map(AmrValue::described).collect())
            .unwrap_or_default(),
        failed_checks: attempt.failed_rules(),
    }
}

/// An attempt in full, for its page in the testers' view.
pub fn attempt_view(attempt: &Attempt) -> crate::ipc::AttemptView {
    use crate::ipc::{AskedView, CheckView, NamedValue};
    let named = |name: &str, value: String| NamedValue {
        name: name.to_owned(),
        value,
    };
    let asked = &attempt.asked;
    let asked_rows = asked
        .rows()
        .into_iter()
        .map(|(name, value)| AskedView {
            name: name.to_owned(),
            value: value.value.clone(),
            source: value.source.code().to_owned(),
        })
        .collect();
    let mut returned_rows = Vec::new();
    if let Some(returned) = &attempt.returned {
        let shown = |value: &Option<String>| value.clone().unwrap_or_else(|| "not sent".to_owned());
        returned_rows.push(named("acr", shown(&returned.acr)));
        returned_rows.push(named(
            "amr",
            if returned.amr.is_empty() {
                "not sent".to_owned()
            } else {
                attempt_summary(attempt).authenticators.join(", ")
            },
        ));
        returned_rows.push(named(
            "Authentication assurance level",
            shown(&returned.authentication_assurance_level),
        ));
        returned_rows.push(named(
            "Identity assurance level",
            shown(&returned.id_assurance_level),
        ));
        if let Some(auth_time) = returned.auth_time_text() {
            returned_rows.push(named("auth_time", auth_time));
        }
        if let Some(role) = &returned.role {
            returned_rows.push(named("Role", role.described()));
        }
    }
    crate::ipc::AttemptView {
        summary: attempt_summary(attempt),
        error_message: attempt.error.as_ref().map(|error| error.message.clone()),
        asked: asked_rows,
        returned: returned_rows,
        checks: attempt
            .checks
            .iter()
            .map(|check| CheckView {
                rule: check.rule.clone(),
                description: check.description.clone(),
                outcome: check.outcome.code().to_owned(),
                detail: check.detail.clone(),
            })
            .collect(),
        headers: attempt
            .headers
            .iter()
            .map(|header| {
                named(
                    &header.token,
                    format!(
                        "alg {}, kid {}, typ {}",
                        header.alg,
                        header.kid.as_deref().unwrap_or("none"),
                        header.typ.as_deref().unwrap_or("none")
                    ),
                )
            })
            .collect(),
        times: attempt
            .times
            .iter()
            .map(|time| {
                named(
                    &format!("{} {}", time.token, time.claim),
                    format!("{} ({})", time.at.text(), time.at.unix),
                )
            })
            .collect(),
        timings: attempt
            .timings
            .iter()
            .map(|timing| timing_view(&timing.step, timing.millis))
            .collect(),
        timeline: attempt
            .timeline
            .iter()
            .map(|event| {
                named(
                    &event.kind,
                    format!(
                        "{}{}",
                        event.at.text(),
                        event
                            .detail
                            .as_deref()
                            .map(|detail| format!(": {detail}"))
                            .unwrap_or_default()
                    ),
                )
            })
            .collect(),
        record: serde_json::to_value(attempt).unwrap_or_default(),
    }
}
