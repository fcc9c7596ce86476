//! `careid doctor`: a provider's metadata and keys compared, line by line, with what careid needs
//! and what CIS2 publishes (see the project's CIS2 reference), and for a profile, whether the
//! provider takes its client authentication. A `Fail` means sign-in cannot work or would be
//! unsafe, so a provider careid can sign in with never fails: what careid leaves aside (an
//! algorithm it refuses beside ones it takes, a key it cannot use beside one it can) is a `Warn`
//! that says what careid uses instead. A `Warn` also means something CIS2 has is missing or
//! unverified.

use std::collections::HashSet;
use std::fmt::Write as _;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::Value;

use crate::client_auth::{check_token_endpoint_method, ClientAuth};
use crate::discovery::{is_secure_url, DiscoveryError, ProviderMetadata};
use crate::http::{clean_text, display_url};
use crate::jose::{allowed_algorithms, HmacKey, JwsAlgorithm, MIN_RSA_BITS};
use crate::profile::{Profile, RedirectRegistration};
use crate::values::{AssertionAlgorithm, IssuerUrl};

/// The client authentication methods careid implements.
const CAREID_AUTH_METHODS: [&str; 5] = [
    "client_secret_basic",
    "client_secret_post",
    "client_secret_jwt",
    "private_key_jwt",
    "none",
];
/// What careid signs a `private_key_jwt` assertion with; CIS2 registers RS256 or RS512.
const PRIVATE_KEY_JWT_ALGS: [&str; 3] = ["RS256", "RS512", "ES256"];
const CLIENT_SECRET_JWT_ALGS: [&str; 2] = ["HS256", "HS512"];
/// CIS2's scopes beyond `openid`.
const CIS2_SCOPES: [&str; 8] = [
    "profile",
    "email",
    "nhsperson",
    "associatedorgs",
    "nationalrbacaccess",
    "organisationalmemberships",
    "professionalmemberships",
    "selectedrole",
];
/// The claims careid reads from CIS2's ID token and UserInfo.
const CIS2_CLAIMS: [&str; 9] = [
    "sub",
    "auth_time",
    "sid",
    "selected_roleid",
    "authentication_assurance_level",
    "id_assurance_level",
    "nhsid_useruid",
    "nhsid_user_orgs",
    "nhsid_nrbac_roles",
];
/// CIS2's `acr` values that admit an AAL2 or AAL3 authenticator.
const CIS2_ACR_VALUES: [&str; 3] = ["AAL3_ANY", "AAL2_OR_AAL3_ANY", "AAL2_ANY"];
/// Members that only a private or symmetric key has: a key set must never publish them.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
/// The most values of one list quoted in a detail.
const MAX_LISTED: usize = 20;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Warn,
    Fail,
    Info,
}

impl CheckStatus {
    pub fn label(self) -> &'static str {
        match self {
            CheckStatus::Pass => "PASS",
            CheckStatus::Warn => "WARN",
            CheckStatus::Fail => "FAIL",
            CheckStatus::Info => "INFO",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorCheck {
    pub name: &'static str,
    pub status: CheckStatus,
    pub detail: String,
}

/// Every check for one provider, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    pub issuer: IssuerUrl,
    pub checks: Vec<DoctorCheck>,
    /// When a profile was checked: the redirect URIs its client must have registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectRegistration>,
}

impl DoctorReport {
    /// No check failed (warnings allowed).
    pub fn passed(&self) -> bool {
        self.checks
            .iter()
            .all(|check| check.status != CheckStatus::Fail)
    }

    /// The report when the discovery document could not be used: one FAIL row saying why
    /// (the issuer it names, when that is the trouble), and an INFO row that the rest was not
    /// checked. So the report has its rows whatever happened.
    pub fn discovery_failed(issuer: &IssuerUrl, error: &DiscoveryError) -> Self {
        let failed = match error {
            DiscoveryError::IssuerMismatch { found, .. } => DoctorCheck {
                name: "Issuer",
                status: CheckStatus::Fail,
                detail: issuer_mismatch(issuer, found),
            },
            other => DoctorCheck {
                name: "Discovery",
                status: CheckStatus::Fail,
                detail: other.to_string(),
            },
        };
        Self {
            issuer: issuer.clone(),
            checks: vec![
                failed,
                DoctorCheck {
                    name: "Other checks",
                    status: CheckStatus::Info,
                    detail: "not made: they need the provider's discovery document".to_owned(),
                },
            ],
            redirect: None,
        }
    }

    /// Adds what a profile's client must have registered: a line saying which redirect URIs,
    /// and the list itself for `--json`. The provider cannot be asked which it holds.
    pub fn add_redirect_registration(&mut self, registration: RedirectRegistration) {
        self.checks.push(DoctorCheck {
            name: "Redirect URIs",
            status: CheckStatus::Info,
            detail: registration.advice(),
        });
        self.redirect = Some(registration);
    }

    /// Adds the checks of a profile against this provider: whether the provider takes its client
    /// authentication, and which assertion algorithm careid will sign with.
    pub fn add_profile_checks(&mut self, profile: &Profile, metadata: &ProviderMetadata) {
        let (status, detail) = check_client_auth(profile, metadata);
        self.checks.push(DoctorCheck {
            name: "Client authentication",
            status,
            detail,
        });
    }

    /// The check of that name.
    pub fn check(&self, name: &str) -> Option<&DoctorCheck> {
        self.checks.iter().find(|check| check.name == name)
    }

    /// One line per check: `PASS  PKCE S256              code_challenge_methods_supported has S256`.
    pub fn render_text(&self) -> String {
        let width = self
            .checks
            .iter()
            .map(|check| check.name.len())
            .max()
            .unwrap_or(0)
            + 2;
        let mut text = String::new();
        for check in &self.checks {
            let _ = writeln!(
                text,
                "{}  {:width$}{}",
                check.status.label(),
                check.name,
                check.detail
            );
        }
        text
    }
}

/// Checks `metadata` (and the key set, when it could be fetched) against careid's and CIS2's
/// expectations. `issuer` is the issuer as configured.
pub fn diagnose(
    issuer: &IssuerUrl,
    metadata: &ProviderMetadata,
    jwks: Option<&Value>,
) -> DoctorReport {
    let mut checks = Vec::new();
    let mut add = |name, (status, detail)| {
        checks.push(DoctorCheck {
            name,
            status,
            detail,
        })
    };
    add("Issuer", check_issuer(issuer, metadata));
    add("Transport security", check_transport(metadata));
    add("Authorization code flow", check_code_flow(metadata));
    add("Query response mode", check_response_mode(metadata));
    add("PKCE S256", check_pkce(metadata));
    add("Issuer in callback", check_iss_parameter(metadata));
    add("Grant types", check_grant_types(metadata));
    add("Token endpoint auth", check_auth_methods(metadata));
    add("Assertion signing algs", check_assertion_algs(metadata));
    add("ID token signing", check_id_token_algs(metadata));
    add("UserInfo", check_userinfo(metadata));
    add("Revocation", check_revocation(metadata));
    add("End session", check_end_session(metadata));
    add("Back-channel logout", check_backchannel(metadata));
    add("Scopes", check_scopes(metadata));
    add("Claims", check_claims(metadata));
    add("ACR values", check_acr_values(metadata));
    add("JWKS", check_jwks(jwks, metadata));
    DoctorReport {
        issuer: issuer.clone(),
        checks,
        redirect: None,
    }
}

type Outcome = (CheckStatus, String);

fn pass(detail: impl Into<String>) -> Outcome {
    (CheckStatus::Pass, detail.into())
}
fn warn(detail: impl Into<String>) -> Outcome {
    (CheckStatus::Warn, detail.into())
}
fn fail(detail: impl Into<String>) -> Outcome {
    (CheckStatus::Fail, detail.into())
}
fn info(detail: impl Into<String>) -> Outcome {
    (CheckStatus::Info, detail.into())
}

/// Provider values, cleaned and capped, for a detail line.
fn list<S: AsRef<str>>(values: &[S]) -> String {
    if values.is_empty() {
        return "(empty)".to_owned();
    }
    let mut shown: Vec<String> = values
        .iter()
        .take(MAX_LISTED)
        .map(|value| clean_text(value.as_ref(), 60))
        .collect();
    if values.len() > MAX_LISTED {
        shown.push(format!("and {} more", values.len() - MAX_LISTED));
    }
    shown.join(", ")
}

fn has(values: &[String], wanted: &str) -> bool {
    values.iter().any(|value| value == wanted)
}

fn check_issuer(issuer: &IssuerUrl, metadata: &ProviderMetadata) -> Outcome {
    if !issuer.matches(metadata.issuer.as_str()) {
        return fail(issuer_mismatch(issuer, metadata.issuer.as_str()));
    }
    if issuer.as_str().contains(":443/") || issuer.as_str().ends_with(":443") {
        pass("matches exactly, :443 included (as CIS2 writes its issuer)")
    } else {
        pass("matches exactly")
    }
}

/// An issuer the provider does not call itself, in words.
fn issuer_mismatch(issuer: &IssuerUrl, found: &str) -> String {
    format!(
        "discovery says {:?}, configured {:?}: they must match exactly",
        clean_text(found, 200),
        issuer.as_str()
    )
}

fn check_transport(metadata: &ProviderMetadata) -> Outcome {
    let endpoints = metadata.endpoints();
    let insecure: Vec<String> = endpoints
        .iter()
        .filter(|(_, url)| !is_secure_url(url))
        .map(|(member, url)| format!("{member} {}", display_url(url)))
        .collect();
    if !insecure.is_empty() {
        return fail(format!("not https: {}", list(&insecure)));
    }
    let loopback = endpoints
        .iter()
        .filter(|(_, url)| url.starts_with("http:"))
        .count();
    if loopback == 0 {
        pass(format!("all {} URLs use https", endpoints.len()))
    } else {
        pass(format!(
            "{loopback} of {} URLs use plain http on loopback (a local provider)",
            endpoints.len()
        ))
    }
}

fn check_code_flow(metadata: &ProviderMetadata) -> Outcome {
    match &metadata.response_types_supported {
        None => warn("response_types_supported is not advertised (OIDC Discovery requires it)"),
        Some(types) if has(types, "code") => pass("response_types_supported has code"),
        Some(types) => fail(format!(
            "response_types_supported lacks code ({}): careid uses the authorization code flow only",
            list(types)
        )),
    }
}

fn check_response_mode(metadata: &ProviderMetadata) -> Outcome {
    match &metadata.response_modes_supported {
        None => pass("response_modes_supported not advertised: the default is query and fragment"),
        Some(modes) if has(modes, "query") => {
            pass("response_modes_supported has query (the only mode CIS2 accepts)")
        }
        Some(modes) => fail(format!(
            "response_modes_supported lacks query ({}): careid's loopback listener reads the query",
            list(modes)
        )),
    }
}

fn check_pkce(metadata: &ProviderMetadata) -> Outcome {
    match &metadata.code_challenge_methods_supported {
        None => warn(
            "code_challenge_methods_supported not advertised: PKCE unverified (careid sends S256 regardless)",
        ),
        Some(methods) if has(methods, "S256") => pass("code_challenge_methods_supported has S256"),
        Some(methods) => fail(format!(
            "code_challenge_methods_supported lacks S256 ({}): careid sends S256 and never plain",
            list(methods)
        )),
    }
}

fn check_iss_parameter(metadata: &ProviderMetadata) -> Outcome {
    if metadata.authorization_response_iss_parameter_supported {
        pass("authorization_response_iss_parameter_supported: careid requires iss on every callback (RFC 9207)")
    } else {
        warn("authorization_response_iss_parameter_supported not advertised: callbacks without iss are accepted, so mix-up defence rests on state")
    }
}

fn check_grant_types(metadata: &ProviderMetadata) -> Outcome {
    match &metadata.grant_types_supported {
        None => {
            pass("grant_types_supported not advertised: the default includes authorization_code")
        }
        Some(grants) if has(grants, "authorization_code") => {
            if has(grants, "refresh_token") {
                pass("authorization_code and refresh_token")
            } else {
                pass("authorization_code; refresh_token not listed: careid uses a refresh token if one arrives anyway, and otherwise signs in again when the tokens expire")
            }
        }
        Some(grants) => fail(format!(
            "grant_types_supported lacks authorization_code ({})",
            list(grants)
        )),
    }
}

/// The advertised methods, or the specification's default when none are.
fn auth_methods(metadata: &ProviderMetadata) -> Vec<String> {
    metadata
        .token_endpoint_auth_methods_supported
        .clone()
        .unwrap_or_else(|| vec!["client_secret_basic".to_owned()])
}

fn check_auth_methods(metadata: &ProviderMetadata) -> Outcome {
    let methods = auth_methods(metadata);
    let usable: Vec<&str> = CAREID_AUTH_METHODS
        .into_iter()
        .filter(|method| has(&methods, method))
        .collect();
    let advertised = match &metadata.token_endpoint_auth_methods_supported {
        Some(methods) => list(methods),
        None => "not advertised, so client_secret_basic".to_owned(),
    };
    if usable.is_empty() {
        return fail(format!(
            "{advertised}: none of careid's methods ({})",
            list(&CAREID_AUTH_METHODS)
        ));
    }
    if usable == ["none"] {
        return warn(format!(
            "{advertised}: public clients only, but CIS2 requires a confidential client"
        ));
    }
    pass(format!(
        "{advertised} (CIS2 requires a confidential client)"
    ))
}

fn check_assertion_algs(metadata: &ProviderMetadata) -> Outcome {
    let methods = auth_methods(metadata);
    let private_key = has(&methods, "private_key_jwt");
    let secret_jwt = has(&methods, "client_secret_jwt");
    if !private_key && !secret_jwt {
        return info("no JWT client authentication advertised");
    }
    let Some(algs) = &metadata.token_endpoint_auth_signing_alg_values_supported else {
        return warn("token_endpoint_auth_signing_alg_values_supported not advertised: careid signs with RS256/RS512 (private_key_jwt) or HS256/HS512 (client_secret_jwt), unverified");
    };
    let mut problems = Vec::new();
    if private_key && !PRIVATE_KEY_JWT_ALGS.iter().any(|alg| has(algs, alg)) {
        problems.push("private_key_jwt without RS256, RS512 or ES256");
    }
    if secret_jwt && !CLIENT_SECRET_JWT_ALGS.iter().any(|alg| has(algs, alg)) {
        problems.push("client_secret_jwt without HS256 or HS512");
    }
    if has(algs, "none") {
        // careid never sends an unsigned assertion, so it can sign in; the provider would take
        // one from anyone, which is the provider's weakness, not a reason to stop.
        problems.push(
            "none is listed too, so the provider would take unsigned assertions from anyone; careid \
             never sends one: it signs RS256 or RS512 (private_key_jwt, ES256 outside CIS2) or \
             HS256 or HS512 (client_secret_jwt)",
        );
    }
    if problems.is_empty() {
        pass(format!("{} (CIS2 registers RS256 or RS512)", list(algs)))
    } else {
        warn(format!("{}: {}", list(algs), problems.join("; ")))
    }
}

/// A profile's client authentication against the provider: a method the provider does not take
/// fails (careid refuses to sign in with it, [`check_token_endpoint_method`]); for a JWT
/// assertion, the algorithm careid signs with, and whether the provider lists it.
fn check_client_auth(profile: &Profile, metadata: &ProviderMetadata) -> Outcome {
    if let Some(broker) = &profile.broker {
        return info(format!(
            "through the broker {}, which authenticates the client with a method of its own",
            display_url(broker)
        ));
    }
    let method = profile.client_auth;
    if let Err(refused) = check_token_endpoint_method(
        method,
        metadata.token_endpoint_auth_methods_supported.as_deref(),
    ) {
        return fail(format!("careid will not sign in: {refused}"));
    }
    let algorithm = match (method, profile.assertion_algorithm) {
        (ClientAuth::PrivateKeyJwt | ClientAuth::ClientSecretJwt, Some(algorithm)) => {
            Some(algorithm.as_str().to_owned())
        }
        (ClientAuth::PrivateKeyJwt, None) => None,
        (ClientAuth::ClientSecretJwt, None) => Some(
            AssertionAlgorithm::Hmac(Default::default())
                .as_str()
                .to_owned(),
        ),
        _ => return pass(format!("{}, which the provider takes", method.as_str())),
    };
    let listed = metadata
        .token_endpoint_auth_signing_alg_values_supported
        .as_deref();
    match (algorithm, listed) {
        (None, _) => pass(format!(
            "{}, which the provider takes; careid signs with the key's algorithm (RS256 for an RSA key, ES256 for an EC key)",
            method.as_str()
        )),
        (Some(algorithm), Some(listed)) if !has(listed, &algorithm) => warn(format!(
            "{}, which the provider takes; careid signs its assertions {algorithm}, which token_endpoint_auth_signing_alg_values_supported does not list ({})",
            method.as_str(),
            list(listed)
        )),
        (Some(algorithm), _) => pass(format!(
            "{}, which the provider takes; careid signs its assertions {algorithm}",
            method.as_str()
        )),
    }
}

fn check_id_token_algs(metadata: &ProviderMetadata) -> Outcome {
    // What careid verifies with the provider's public keys: the one list, jose's.
    let verified = || {
        let names: Vec<String> = JwsAlgorithm::ALL
            .into_iter()
            .filter(|alg| !alg.is_hmac())
            .map(|alg| alg.as_str().to_owned())
            .collect();
        list(&names)
    };
    let Some(algs) = &metadata.id_token_signing_alg_values_supported else {
        return warn("id_token_signing_alg_values_supported not advertised (required): careid expects RS256, the default");
    };
    let usable = allowed_algorithms(algs, HmacKey::None);
    let usable_names: Vec<String> = usable.iter().map(|alg| alg.as_str().to_owned()).collect();
    if has(algs, "none") {
        if usable.is_empty() {
            return fail(format!(
                "{}: none offers unsigned ID tokens, which careid refuses, and careid verifies {} only",
                list(algs),
                verified()
            ));
        }
        return warn(format!(
            "{}: none (unsigned ID tokens) is offered too, which careid always refuses; careid verifies {}",
            list(algs),
            list(&usable_names)
        ));
    }
    if !usable.is_empty() {
        return pass(format!(
            "{} (careid verifies {})",
            list(algs),
            list(&usable_names)
        ));
    }
    if !algs.is_empty() && algs.iter().all(|alg| alg.starts_with("HS")) {
        return warn(format!(
            "{}: HMAC only, but careid verifies ID tokens with the provider's public keys",
            list(algs)
        ));
    }
    fail(format!(
        "{}: careid verifies {} only",
        list(algs),
        verified()
    ))
}

/// An endpoint for a detail line: its path when it lies under the issuer, as CIS2's do.
fn endpoint(url: &str, metadata: &ProviderMetadata) -> String {
    match url.strip_prefix(metadata.issuer.as_str().trim_end_matches('/')) {
        Some(path) if path.starts_with('/') => display_url(path),
        _ => display_url(url),
    }
}

fn check_userinfo(metadata: &ProviderMetadata) -> Outcome {
    let Some(url) = &metadata.userinfo_endpoint else {
        return warn("no userinfo_endpoint: CIS2's roles and organisations come from UserInfo");
    };
    let endpoint = endpoint(url, metadata);
    match &metadata.userinfo_signing_alg_values_supported {
        Some(algs) if !algs.is_empty() => {
            pass(format!("{endpoint}; signed responses with {}", list(algs)))
        }
        _ => pass(format!("{endpoint}; plain JSON responses")),
    }
}

fn check_revocation(metadata: &ProviderMetadata) -> Outcome {
    match &metadata.revocation_endpoint {
        Some(url) => pass(format!(
            "{}: sign-out revokes tokens at the provider",
            endpoint(url, metadata)
        )),
        None => info("no revocation_endpoint: sign-out cannot revoke tokens at the provider"),
    }
}

fn check_end_session(metadata: &ProviderMetadata) -> Outcome {
    match &metadata.end_session_endpoint {
        Some(url) => pass(format!(
            "{}: sign-out can end the provider's session",
            endpoint(url, metadata)
        )),
        None => info("no end_session_endpoint: sign-out ends careid's session only"),
    }
}

fn check_backchannel(metadata: &ProviderMetadata) -> Outcome {
    match (
        metadata.backchannel_logout_supported,
        metadata.backchannel_logout_session_supported,
    ) {
        (true, true) => pass("supported, with sid"),
        (true, false) => pass("supported, without sid"),
        (false, _) => info("not advertised"),
    }
}

fn missing<'a>(advertised: &[String], wanted: &[&'a str]) -> Vec<&'a str> {
    let advertised: HashSet<&str> = advertised.iter().map(String::as_str).collect();
    wanted
        .iter()
        .copied()
        .filter(|value| !advertised.contains(value))
        .collect()
}

fn check_scopes(metadata: &ProviderMetadata) -> Outcome {
    let Some(scopes) = &metadata.scopes_supported else {
        return warn("scopes_supported not advertised: CIS2's scopes unverified");
    };
    if !has(scopes, "openid") {
        // A provider may list only some of its scopes; careid asks for openid regardless.
        return warn(format!(
            "{}: openid is not listed (OpenID Connect Discovery says it must be supported); careid asks for it regardless",
            list(scopes)
        ));
    }
    let absent = missing(scopes, &CIS2_SCOPES);
    if absent.is_empty() {
        pass("openid and all of CIS2's scopes")
    } else {
        warn(format!("CIS2 scopes not advertised: {}", list(&absent)))
    }
}

fn check_claims(metadata: &ProviderMetadata) -> Outcome {
    let Some(claims) = &metadata.claims_supported else {
        return info("claims_supported not advertised");
    };
    let absent = missing(claims, &CIS2_CLAIMS);
    if absent.is_empty() {
        pass(format!("{} claims, CIS2's included", claims.len()))
    } else {
        warn(format!("CIS2 claims not advertised: {}", list(&absent)))
    }
}

fn check_acr_values(metadata: &ProviderMetadata) -> Outcome {
    match &metadata.acr_values_supported {
        None => info("acr_values_supported not advertised"),
        Some(values) if CIS2_ACR_VALUES.iter().any(|value| has(values, value)) => {
            pass(list(values))
        }
        Some(values) => info(format!("{}: none of CIS2's AAL values", list(values))),
    }
}

/// The size in bits of an RSA modulus (`n`, base64url), if it decodes.
fn rsa_bits(key: &Value) -> Option<usize> {
    let modulus = URL_SAFE_NO_PAD
        .decode(key.get("n")?.as_str()?.trim_end_matches('='))
        .ok()?;
    let first = modulus.iter().position(|byte| *byte != 0)?;
    let significant = modulus.len() - first;
    Some(significant * 8 - modulus[first].leading_zeros() as usize)
}

fn check_jwks(jwks: Option<&Value>, metadata: &ProviderMetadata) -> Outcome {
    // The ID token algorithms careid would take from this provider: a key must serve one.
    let wanted: Vec<JwsAlgorithm> = allowed_algorithms(
        metadata
            .id_token_signing_alg_values_supported
            .as_deref()
            .unwrap_or_default(),
        HmacKey::None,
    );
    let Some(jwks) = jwks else {
        return warn("the key set was not fetched");
    };
    let Some(keys) = jwks.get("keys").and_then(Value::as_array) else {
        return fail("no keys list");
    };
    if keys.is_empty() {
        return fail("the key set is empty: no ID token can be verified");
    }
    let mut problems: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    let mut described = Vec::new();
    let mut kids = HashSet::new();
    let mut usable = 0;
    for key in keys {
        let text = |name: &str| {
            key.get(name)
                .and_then(Value::as_str)
                .map(|v| clean_text(v, 60))
        };
        let kid = text("kid");
        let kty = text("kty").unwrap_or_else(|| "no kty".to_owned());
        let alg = text("alg");
        let usage = text("use");
        let name = kid.clone().unwrap_or_else(|| "(no kid)".to_owned());
        if PRIVATE_MEMBERS
            .iter()
            .any(|member| key.get(member).is_some())
        {
            problems.push(format!("{name} publishes private or secret key material"));
        }
        match &kid {
            Some(kid) if !kids.insert(kid.clone()) => {
                warnings.push(format!("kid {kid} appears twice"))
            }
            Some(_) => {}
            None if keys.len() > 1 => warnings.push("a key has no kid".to_owned()),
            None => {}
        }
        let mut description = kty.clone();
        // A key careid leaves out of the set it verifies with (as jose does): a warning while
        // another key serves, a failure when none does.
        let mut left_out = false;
        if kty == "RSA" {
            match rsa_bits(key) {
                Some(bits) => {
                    let _ = write!(description, " {bits}");
                    if bits < MIN_RSA_BITS {
                        left_out = true;
                        warnings.push(format!(
                            "{name} is only {bits} bits, so careid leaves it out"
                        ));
                    }
                }
                None => {
                    left_out = true;
                    warnings.push(format!(
                        "{name} has no readable modulus, so careid leaves it out"
                    ));
                }
            }
        }
        if let Some(alg) = &alg {
            let _ = write!(description, " {alg}");
        }
        if let Some(usage) = &usage {
            let _ = write!(description, " {usage}");
        }
        let signs = usage.as_deref().is_none_or(|usage| usage == "sig");
        // A key careid can verify with: RSA (RS*, PS*) or EC P-256/P-384 (ES*), as jose does.
        let family = match (kty.as_str(), text("crv").as_deref()) {
            ("RSA", _) => Some(["RS", "PS"].as_slice()),
            ("EC", Some("P-256" | "P-384")) => Some(["ES"].as_slice()),
            _ => None,
        };
        let verifiable = family.is_some_and(|family| {
            wanted.iter().any(|want| {
                let name = want.as_str();
                family.iter().any(|prefix| name.starts_with(prefix))
                    && alg.as_deref().is_none_or(|alg| alg == name)
            })
        });
        if signs && verifiable && !left_out {
            usable += 1;
        }
        described.push(format!("{name} ({description})"));
    }
    let mut shown = described
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>();
    if described.len() > MAX_LISTED {
        shown.push(format!("and {} more", described.len() - MAX_LISTED));
    }
    let summary = format!(
        "{} key{}: {}",
        keys.len(),
        if keys.len() == 1 { "" } else { "s" },
        shown.join(", ")
    );
    if usable == 0 {
        let wanted: Vec<&str> = wanted.iter().map(|alg| alg.as_str()).collect();
        problems.append(&mut warnings);
        problems.push(format!(
            "no signing key for the ID token algorithms careid takes from this provider ({})",
            list(&wanted)
        ));
    }
    if !problems.is_empty() {
        fail(format!("{summary}; {}", problems.join("; ")))
    } else if !warnings.is_empty() {
        warn(format!("{summary}; {}", warnings.join("; ")))
    } else {
        pass(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rsa_sizes_are_counted_from_the_first_set_bit() {
        let n = URL_SAFE_NO_PAD.encode([&[0u8, 0x80][..], &[0u8; 255][..]].concat());
        assert_eq!(rsa_bits(&json!({ "n": n })), Some(2048));
        let n = URL_SAFE_NO_PAD.encode([&[0x01u8][..], &[0u8; 127][..]].concat());
        assert_eq!(rsa_bits(&json!({ "n": n })), Some(1017));
        assert_eq!(rsa_bits(&json!({ "n": "!!" })), None);
    }

    #[test]
    fn private_key_material_fails() {
        let n = URL_SAFE_NO_PAD.encode([0xC0u8; 256]);
        let jwks = json!({"keys": [{"kty": "RSA", "kid": "a", "n": n, "e": "AQAB", "d": "xx"}]});
        let metadata = ProviderMetadata::from_document(
            json!({"issuer": "https://p.example", "authorization_endpoint": "https://p.example/a",
                "token_endpoint": "https://p.example/t", "jwks_uri": "https://p.example/k",
                "id_token_signing_alg_values_supported": ["RS256"]}),
            "test",
        )
        .expect("a document");
        let (status, detail) = check_jwks(Some(&jwks), &metadata);
        assert_eq!(status, CheckStatus::Fail, "{detail}");
        assert!(detail.contains("private"), "{detail}");
    }
}
