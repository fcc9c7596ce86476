//! The built-in profiles: the mock, the default, and CIS2's `int`, `dep` and `live` with their
//! issuers, redirect ports and assurance exactly as CIS2 publishes and registers them.

use crate::client_auth::ClientAuth;
use crate::values::{AcrValues, ClientId, IssuerUrl};

use super::{IssuerSource, Profile, PushedRequests, RedirectHost, RoleSelection, SessionPolicy};

/// CIS2's realm path, the same in every environment.
const CIS2_REALM: &str = "/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";

/// The built-in CIS2 environments with their issuers exactly as CIS2 publishes them: the `:443`
/// is part of the string every token carries (REFERENCE §1). DEP's host is by pattern only.
const CIS2_ENVIRONMENTS: &[(&str, &str, &str)] = &[
    (
        "int",
        "am.nhsint.auth-ptl.cis2.spineservices.nhs.uk",
        "CIS2 integration (INT)",
    ),
    (
        "dep",
        "am.nhsdep.auth-ptl.cis2.spineservices.nhs.uk",
        "CIS2 deployment (DEP), host unverified",
    ),
    (
        "live",
        "am.nhsidentity.spineservices.nhs.uk",
        "CIS2 production (live)",
    ),
];

/// The redirect ports of the built-in CIS2 profiles, tried in this order. CIS2 (ForgeRock AM)
/// matches registered redirect URIs exactly by default, and whether it accepts any loopback port
/// (RFC 8252 §7.3) is unverified (REFERENCE §2), so these profiles listen on a fixed, registered
/// port rather than an ephemeral one. The three are consecutive, unassigned by IANA (its
/// 23547-23999 gap), below every OS's ephemeral range (Linux 32768-60999, Windows and macOS
/// 49152-65535, where Hyper-V also reserves blocks), so an outgoing connection never holds one,
/// and away from the ports development tools use. Three leave room for two other careid
/// processes signing in at once; a busy port is skipped, and when all are busy the sign-in stops
/// with an error rather than use a port that is not registered.
pub const CIS2_REDIRECT_PORTS: [u16; 3] = [23741, 23742, 23743];

/// The assurance the built-in CIS2 environments ask for unless the profile says otherwise
/// (REFERENCE §3 and §5): `live` asks for AAL3; INT and DEP, where testers sign in with every kind
/// of authenticator, for AAL2 or AAL3 (NHS recommends AAL2 where possible). Every one sends
/// `max_age` as NHS services do (240 to 300 s), so the ID token's `auth_time` is always checked
/// for freshness.
const CIS2_ACR_VALUES: &[(&str, &str)] = &[
    ("int", "AAL2_OR_AAL3_ANY"),
    ("dep", "AAL2_OR_AAL3_ANY"),
    ("live", "AAL3_ANY"),
];
const CIS2_MAX_AGE: u32 = 300;

/// The mock's default confidential client, as registered in its `data/clients.json`.
const MOCK_CLIENT_ID: &str = "555000000001.apps.local";

pub(super) fn cis2_scopes() -> Vec<String> {
    [
        "openid",
        "profile",
        "nhsperson",
        "associatedorgs",
        "nationalrbacaccess",
    ]
    .map(String::from)
    .to_vec()
}

/// The built-in mock profile, the default: what is shown even when the profiles file cannot be
/// read.
pub fn built_in_mock() -> Profile {
    built_in_profiles()
        .into_iter()
        .find(|profile| profile.issuer == IssuerSource::BuiltInMock)
        .expect("the mock is built in")
}

pub(super) fn built_in_profiles() -> Vec<Profile> {
    let base = |name: &str, description: &str, issuer: IssuerSource| Profile {
        name: name.to_owned(),
        description: description.to_owned(),
        issuer,
        client_id: None,
        client_auth: ClientAuth::PrivateKeyJwt,
        assertion_algorithm: None,
        key_id: None,
        redirect_ports: CIS2_REDIRECT_PORTS.to_vec(),
        redirect_host: RedirectHost::default(),
        redirect_path: "/callback".to_owned(),
        scopes: cis2_scopes(),
        acr_values: None,
        prompt: Some("login".to_owned()),
        max_age: None,
        min_id_assurance_level: None,
        role_selection: RoleSelection::App,
        userinfo_signed: false,
        session: SessionPolicy::default(),
        trusted_audiences: Vec::new(),
        par: PushedRequests::Auto,
        broker: None,
        built_in: true,
    };
    let mut mock = base(
        "mock",
        "The built-in mock CIS2 provider (no network)",
        IssuerSource::BuiltInMock,
    );
    mock.client_id = Some(ClientId::new(MOCK_CLIENT_ID));
    mock.client_auth = ClientAuth::ClientSecretBasic;
    // The mock's client accepts any loopback port (RFC 8252 §7.3): no port to keep free.
    mock.redirect_ports = Vec::new();
    let mut profiles = vec![mock];
    for (name, host, description) in CIS2_ENVIRONMENTS {
        let mut profile = base(
            name,
            description,
            IssuerSource::Url(
                IssuerUrl::new(format!("https://{host}:443{CIS2_REALM}"))
                    .expect("CIS2's issuers are https URLs"),
            ),
        );
        profile.acr_values = CIS2_ACR_VALUES
            .iter()
            .find(|(environment, _)| environment == name)
            .map(|(_, acr_values)| AcrValues::new(*acr_values));
        profile.max_age = Some(CIS2_MAX_AGE);
        profiles.push(profile);
    }
    profiles
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::ProfileEntry;

    #[test]
    fn built_in_cis2_issuers_keep_the_443() {
        for profile in built_in_profiles().into_iter().filter(|p| p.name != "mock") {
            let IssuerSource::Url(issuer) = &profile.issuer else {
                panic!("{} has a URL", profile.name)
            };
            assert!(
                issuer
                    .as_str()
                    .contains(".spineservices.nhs.uk:443/openam/"),
                "{issuer}"
            );
            assert!(
                issuer
                    .as_str()
                    .ends_with("/realms/NHSIdentity/realms/Healthcare"),
                "{issuer}"
            );
            assert_eq!(
                profile.missing().len(),
                1,
                "{} needs the user's client id",
                profile.name
            );
            profile.validate().expect("built-ins are valid");
        }
    }

    /// The built-in CIS2 environments always ask for a level and a fresh `auth_time`: AAL3 for
    /// live, AAL2 or AAL3 for INT and DEP, `max_age` 300; a profile entry overrides either, and
    /// an empty `acr_values` asks for none.
    #[test]
    fn built_in_cis2_profiles_ask_for_assurance_by_default() {
        let profiles = built_in_profiles();
        let get = |name: &str| {
            profiles
                .iter()
                .find(|profile| profile.name == name)
                .expect("built in")
                .clone()
        };
        for (name, acr_values) in [
            ("int", "AAL2_OR_AAL3_ANY"),
            ("dep", "AAL2_OR_AAL3_ANY"),
            ("live", "AAL3_ANY"),
        ] {
            let profile = get(name);
            assert_eq!(profile.acr_values.as_deref(), Some(acr_values), "{name}");
            assert_eq!(profile.max_age, Some(300), "{name}");
            assert_eq!(profile.min_id_assurance_level, None, "{name}");
        }
        let mock = get("mock");
        assert_eq!((mock.acr_values, mock.max_age), (None, None));

        let mut live = get("live");
        ProfileEntry {
            acr_values: Some("AAL2_OR_AAL3_ANY".into()),
            max_age: Some(240),
            min_id_assurance_level: Some(3),
            ..ProfileEntry::default()
        }
        .apply(&mut live)
        .expect("applies");
        assert_eq!(live.acr_values.as_deref(), Some("AAL2_OR_AAL3_ANY"));
        assert_eq!(live.max_age, Some(240));
        assert_eq!(live.min_id_assurance_level, Some(3));
        live.validate().expect("valid");
        for level in [0, 4] {
            live.min_id_assurance_level = Some(level);
            assert_eq!(
                live.validate().expect_err("not a level").code(),
                "profile_invalid",
                "{level}"
            );
        }
    }

    #[test]
    fn built_in_cis2_profiles_listen_on_the_registered_ports() {
        for profile in built_in_profiles().into_iter().filter(|p| p.name != "mock") {
            assert_eq!(
                profile.redirect_ports, CIS2_REDIRECT_PORTS,
                "{}",
                profile.name
            );
            let registration = profile.redirect_registration();
            assert!(!registration.any_port, "{}", profile.name);
            assert_eq!(
                registration.uris,
                [
                    "http://127.0.0.1:23741/callback",
                    "http://127.0.0.1:23742/callback",
                    "http://127.0.0.1:23743/callback"
                ]
            );
            assert!(registration
                .advice()
                .contains("http://127.0.0.1:23743/callback"));
        }
        let mock = built_in_profiles().remove(0);
        let registration = mock.redirect_registration();
        assert!(registration.any_port && registration.uris.is_empty());
        assert_eq!(
            registration.any_port_uri.as_deref(),
            Some("http://127.0.0.1/callback")
        );
        assert!(registration.advice().contains("any loopback port"));
    }

    #[test]
    fn mock_is_a_confidential_client_needing_no_keychain() {
        let mock = built_in_profiles().remove(0);
        assert_eq!(mock.issuer, IssuerSource::BuiltInMock);
        assert_ne!(mock.client_auth, ClientAuth::None);
        assert!(mock.missing().is_empty() && mock.credential_account().is_none());
    }
}
