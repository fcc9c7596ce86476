//! ID token validation (OpenID Connect Core 1.0 §3.1.3.7), refreshed ID tokens (§12.2) and signed
//! UserInfo (§5.3.2), on top of [`crate::jose`]. Pure: the caller passes the key set, the clock
//! and what the sign-in request asked for.
//!
//! CIS2's quirks (REFERENCE §5): the issuer carries `:443` and is compared as an exact string,
//! assurance levels arrive as `"3"` or `3`, `acr` may be missing, and `amr` may arrive as one
//! value instead of a list.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::claims::{self, ClaimsError};
use crate::jose::{self, JoseError, JsonWebKeySet, JwsAlgorithm, UnknownKid};
use crate::secret::{
    constant_time_eq, AccessToken, AuthorizationCode, ClientSecret, IdToken, Nonce,
};
use crate::values::{AcrValues, ClientId, IssuerUrl};

/// The clock skew tolerated on `exp`, `iat` and `auth_time` unless the caller says otherwise:
/// enough for a desktop clock a little off, short next to CIS2's hour-long tokens.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);

/// The longest token-supplied value (an issuer, an audience) repeated in an error message.
const SHOWN_CHARS: usize = 200;

/// One rule [`validate_id_token`] holds a first ID token to, for reports that list each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdTokenRule {
    /// The signature, by an allowed algorithm and a key of the provider's set; the token's form.
    Signature,
    /// The claims careid reads have their types (`sub` among them).
    Claims,
    Issuer,
    Audience,
    /// `azp` names the client (required with several audiences).
    AuthorizedParty,
    Expiry,
    /// `iat`, `nbf` and `auth_time` not in the future beyond the skew.
    NotInFuture,
    AccessTokenHash,
    CodeHash,
    /// `authentication_assurance_level` meets the level `acr_values` asked for.
    AssuranceLevel,
    IdAssuranceLevel,
    Nonce,
    SessionLimit,
    /// `auth_time` within the request's `max_age`.
    MaxAge,
}

/// [`validate_id_token`]'s rules in the order it checks them: when one fails, those before it
/// passed and those after it were not checked. Keep it in step with the function.
pub const ID_TOKEN_RULES: [IdTokenRule; 14] = [
    IdTokenRule::Signature,
    IdTokenRule::Claims,
    IdTokenRule::Issuer,
    IdTokenRule::Audience,
    IdTokenRule::AuthorizedParty,
    IdTokenRule::Expiry,
    IdTokenRule::NotInFuture,
    IdTokenRule::AccessTokenHash,
    IdTokenRule::CodeHash,
    IdTokenRule::AssuranceLevel,
    IdTokenRule::IdAssuranceLevel,
    IdTokenRule::Nonce,
    IdTokenRule::SessionLimit,
    IdTokenRule::MaxAge,
];

/// What an ID token is checked against: the provider, this client, and the sign-in request.
#[derive(Debug, Clone)]
pub struct IdTokenCheck<'a> {
    /// The issuer exactly as discovery published it, `:443` and all: never normalised.
    pub issuer: &'a IssuerUrl,
    pub client_id: &'a ClientId,
    /// The `max_age` sent in the authorization request, in seconds.
    pub max_age: Option<u32>,
    /// The `acr_values` sent, from which the assurance level asked for is read.
    pub acr_values: Option<&'a AcrValues>,
    /// The lowest `id_assurance_level` the profile accepts, when it sets one.
    pub min_id_assurance_level: Option<u8>,
    /// Audiences besides the client that the profile trusts (OIDC Core §3.1.3.7 step 3): any
    /// other audience is refused.
    pub trusted_audiences: &'a [String],
    /// The access token that came with the ID token, checked against `at_hash` when present.
    pub access_token: Option<&'a AccessToken>,
    /// The authorization code redeemed for it, checked against `c_hash` when present.
    pub code: Option<&'a AuthorizationCode>,
    /// The session's absolute limit: a sign-in whose `auth_time` is already past it is refused,
    /// so a session never starts ended.
    pub absolute_limit: Option<Duration>,
    pub skew: Duration,
    pub now: SystemTime,
}

impl<'a> IdTokenCheck<'a> {
    /// A check with no `max_age` or `acr_values` and the default skew.
    pub fn new(issuer: &'a IssuerUrl, client_id: &'a ClientId, now: SystemTime) -> Self {
        Self {
            issuer,
            client_id,
            max_age: None,
            acr_values: None,
            min_id_assurance_level: None,
            trusted_audiences: &[],
            access_token: None,
            code: None,
            absolute_limit: None,
            skew: DEFAULT_CLOCK_SKEW,
            now,
        }
    }
}

/// What a refreshed ID token must repeat of the sign-in's (OIDC Core §12.2), kept with the
/// session. Nothing here is secret: the nonce was spent by the sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginalIdToken {
    /// The issuer the sign-in's ID token named, which was the profile's exactly.
    pub iss: IssuerUrl,
    pub sub: String,
    pub aud: Vec<String>,
    pub azp: Option<String>,
    pub auth_time: Option<u64>,
    pub nonce: Option<String>,
}

impl From<&IdTokenClaims> for OriginalIdToken {
    fn from(claims: &IdTokenClaims) -> Self {
        Self {
            // Taken from a validated token, whose `iss` matched the issuer checked against.
            iss: IssuerUrl::published(claims.iss.clone()),
            sub: claims.sub.clone(),
            aud: claims.aud.clone(),
            azp: claims.azp.clone(),
            auth_time: claims.auth_time,
            nonce: claims.nonce.clone(),
        }
    }
}

/// A validated ID token's claims: CIS2's named ones, and all of them in `claims` for the
/// testers' view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IdTokenClaims {
    pub sub: String,
    pub iss: String,
    /// Always a list, whether the token sent a string or an array.
    pub aud: Vec<String>,
    pub azp: Option<String>,
    pub exp: u64,
    pub iat: u64,
    pub nbf: Option<u64>,
    pub auth_time: Option<u64>,
    pub nonce: Option<String>,
    pub acr: Option<String>,
    /// Always a list: CIS2 may send a single value.
    pub amr: Vec<String>,
    /// CIS2's session id, matched by back-channel logout tokens.
    pub sid: Option<String>,
    /// The role chosen on CIS2's role picker (`selectedrole` scope).
    pub selected_roleid: Option<String>,
    /// `"3"` and `3` alike; `None` when missing or not 1 to 3.
    pub authentication_assurance_level: Option<u8>,
    pub id_assurance_level: Option<u8>,
    pub claims: Map<String, Value>,
}

impl UnknownKid for IdTokenError {
    fn is_unknown_kid(&self) -> bool {
        matches!(self, IdTokenError::Signature { source, .. } if source.is_unknown_kid())
    }
}

/// Which signed document failed, for messages and codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedDocument {
    IdToken,
    UserInfo,
}

impl fmt::Display for SignedDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignedDocument::IdToken => "ID token",
            SignedDocument::UserInfo => "signed UserInfo",
        })
    }
}

/// Validates an ID token from the token endpoint: the signature ([`jose::verify`]), then OIDC
/// Core §3.1.3.7: `iss` is the issuer byte for byte, `aud` lists the client and no audience the
/// profile does not trust, `azp` is the client (and present when there are several audiences),
/// `exp`, `iat`, `nbf` and `auth_time` within `skew` of `now`, `sub` present, `nonce` the
/// request's, `auth_time` within `max_age` and not already past the session's absolute limit,
/// `at_hash` and `c_hash` (§3.1.3.8, §3.3.2.11) those of the tokens it came with, and the
/// assurance level at least what `acr_values` asked for. The `nonce` the request sent is
/// required: there is no sign-in without one, so the rule cannot be skipped.
pub fn validate_id_token(
    token: &IdToken,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    hmac_secret: Option<&ClientSecret>,
    check: &IdTokenCheck<'_>,
    nonce: &Nonce,
) -> Result<IdTokenClaims, IdTokenError> {
    let (claims, alg) = verified_id_token(token.expose_secret(), keys, allowed, hmac_secret)?;
    let now = seconds_since_epoch(check.now)?;
    check_common(&claims, alg, check, now)?;
    if !same_nonce(claims.nonce.as_deref(), Some(nonce.expose_secret())) {
        return Err(IdTokenError::WrongNonce);
    }
    if let Some(limit) = check.absolute_limit {
        // Before max_age, so the message names the limit that ends the session.
        check_session_limit(&claims, limit, now)?;
    }
    if let Some(max_age) = check.max_age {
        let auth_time = claims.auth_time.ok_or(IdTokenError::MissingAuthTime)?;
        let limit = auth_time
            .saturating_add(u64::from(max_age))
            .saturating_add(check.skew.as_secs());
        if limit < now {
            return Err(IdTokenError::AuthTimeTooOld {
                age: now.saturating_sub(auth_time),
                max_age,
            });
        }
    }
    Ok(claims)
}

/// Validates an ID token from a refresh grant (OIDC Core §12.2): the checks of
/// [`validate_id_token`] except `max_age` and the absolute limit, which the session policy
/// applies to the original `auth_time`. `iss`, `sub`, `aud` and `azp` must be the original's;
/// `auth_time` and `nonce` may be left out but must otherwise be the original's. The caller
/// passes the `acr_values` the sign-in used in `check`.
pub fn validate_refreshed_id_token(
    token: &IdToken,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    hmac_secret: Option<&ClientSecret>,
    check: &IdTokenCheck<'_>,
    original: &OriginalIdToken,
) -> Result<IdTokenClaims, IdTokenError> {
    let (claims, alg) = verified_id_token(token.expose_secret(), keys, allowed, hmac_secret)?;
    let now = seconds_since_epoch(check.now)?;
    check_common(&claims, alg, check, now)?;
    if claims.nonce.is_some() && !same_nonce(claims.nonce.as_deref(), original.nonce.as_deref()) {
        return Err(IdTokenError::WrongNonce);
    }
    let changed = |claim| Err(IdTokenError::RefreshedClaimChanged { claim });
    if !original.iss.matches(&claims.iss) {
        return changed("iss");
    }
    if claims.sub != original.sub {
        return changed("sub");
    }
    let sorted = |aud: &[String]| {
        let mut aud = aud.to_vec();
        aud.sort();
        aud.dedup();
        aud
    };
    if sorted(&claims.aud) != sorted(&original.aud) {
        return changed("aud");
    }
    // §12.2: the same azp, and none when the original had none.
    if claims.azp != original.azp {
        return changed("azp");
    }
    if claims.auth_time.is_some() && claims.auth_time != original.auth_time {
        return changed("auth_time");
    }
    Ok(claims)
}

/// Validates an ID token shown again later as proof that its holder holds the session it names
/// (the careid broker's session listeners): the signature ([`jose::verify`]), `iss` the issuer
/// byte for byte, `aud` listing the client and no audience besides it but `trusted_audiences`,
/// `azp` as at sign-in (the client; required with several audiences), `iat`, `nbf` and
/// `auth_time` not in the future
/// beyond [`DEFAULT_CLOCK_SKEW`], and the session begun (`auth_time`, else `iat`) less than
/// `session_limit` ago.
/// `exp` is deliberately not checked: the token outlives its few minutes as proof of the
/// session, and `session_limit` bounds how long.
pub fn validate_session_proof(
    token: &IdToken,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    check: &SessionProofCheck<'_>,
) -> Result<IdTokenClaims, IdTokenError> {
    let (claims, _) = verified_id_token(token.expose_secret(), keys, allowed, None)?;
    let now = seconds_since_epoch(check.now)?;
    check_issuer_and_audience(&claims, check.issuer, check.client_id)?;
    check_other_parties(&claims, check.client_id, check.trusted_audiences)?;
    check_not_in_future(&claims, now, DEFAULT_CLOCK_SKEW.as_secs())?;
    check_session_limit(&claims, check.session_limit, now)?;
    Ok(claims)
}

/// What a session proof is held to ([`validate_session_proof`]).
#[derive(Debug, Clone, Copy)]
pub struct SessionProofCheck<'a> {
    pub issuer: &'a IssuerUrl,
    pub client_id: &'a ClientId,
    /// Audiences besides the client the token may also name; any other is refused.
    pub trusted_audiences: &'a [String],
    /// How long after it began (`auth_time`, else `iat`) a session may be proven.
    pub session_limit: Duration,
    pub now: SystemTime,
}

/// Whether a token's `nonce` is the one expected, compared in constant time (a nonce is a
/// secret until spent); a missing one never matches.
fn same_nonce(token: Option<&str>, expected: Option<&str>) -> bool {
    match (token, expected) {
        (Some(token), Some(expected)) => constant_time_eq(token.as_bytes(), expected.as_bytes()),
        _ => false,
    }
}

/// The session's absolute limit, run from `auth_time`, or `iat` without it (see `SessionFacts`):
/// a session begun `limit` or longer ago is over.
fn check_session_limit(
    claims: &IdTokenClaims,
    limit: Duration,
    now: u64,
) -> Result<(), IdTokenError> {
    let (claim, time) = match claims.auth_time {
        Some(auth_time) => ("auth_time", auth_time),
        None => ("iat", claims.iat),
    };
    if time.saturating_add(limit.as_secs()) <= now {
        return Err(IdTokenError::PastSessionLimit {
            claim,
            age: now.saturating_sub(time),
            limit_hours: limit.as_secs() / 3_600,
        });
    }
    Ok(())
}

/// Verifies a signed UserInfo response (OIDC Core §5.3.2) and returns its claims: the signature
/// as for ID tokens, `iss` when present must be the issuer exactly, `aud` when present must list
/// the client. CIS2 sends no `aud` (REFERENCE §6). The caller compares `sub` with the ID token's.
pub fn verify_signed_userinfo(
    signed_response: &str,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    hmac_secret: Option<&ClientSecret>,
    issuer: &IssuerUrl,
    client_id: &ClientId,
) -> Result<Map<String, Value>, IdTokenError> {
    let what = SignedDocument::UserInfo;
    let claims = verified(signed_response, keys, allowed, hmac_secret, what)?;
    if let Some(iss) = claims.get("iss") {
        let iss = iss.as_str().ok_or(IdTokenError::InvalidClaim {
            what,
            claim: "iss",
            expected: "a string",
        })?;
        if !issuer.matches(iss) {
            return Err(wrong_issuer(what, iss, issuer));
        }
    }
    if let Some(aud) = claims.get("aud") {
        let aud = audiences(aud).ok_or(IdTokenError::InvalidClaim {
            what,
            claim: "aud",
            expected: "a string or an array of strings",
        })?;
        if !aud.iter().any(|aud| client_id == aud.as_str()) {
            return Err(wrong_audience(what, &aud, client_id));
        }
    }
    Ok(claims)
}

/// Decodes and verifies a token's signature, returning its claims.
fn verified(
    token: &str,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    hmac_secret: Option<&ClientSecret>,
    what: SignedDocument,
) -> Result<Map<String, Value>, IdTokenError> {
    let signature = |source| IdTokenError::Signature { what, source };
    let jwt = jose::decode(token).map_err(signature)?;
    jose::verify(&jwt, keys, allowed, hmac_secret).map_err(signature)?;
    Ok(jwt.claims)
}

/// An ID token's claims and the algorithm it was verified with (which names the `at_hash` and
/// `c_hash` digest).
fn verified_id_token(
    token: &str,
    keys: &JsonWebKeySet,
    allowed: &[JwsAlgorithm],
    hmac_secret: Option<&ClientSecret>,
) -> Result<(IdTokenClaims, JwsAlgorithm), IdTokenError> {
    let signature = |source| IdTokenError::Signature {
        what: SignedDocument::IdToken,
        source,
    };
    let jwt = jose::decode(token).map_err(signature)?;
    jose::verify(&jwt, keys, allowed, hmac_secret).map_err(signature)?;
    // `verify` accepted the name, so it parses.
    let alg = jwt
        .header
        .alg
        .parse::<JwsAlgorithm>()
        .map_err(|_| IdTokenError::InvalidClaim {
            what: SignedDocument::IdToken,
            claim: "alg",
            expected: "a known algorithm",
        })?;
    Ok((read_claims(jwt.claims)?, alg))
}

/// The checks shared by first and refreshed ID tokens.
fn check_common(
    claims: &IdTokenClaims,
    alg: JwsAlgorithm,
    check: &IdTokenCheck<'_>,
    now: u64,
) -> Result<(), IdTokenError> {
    check_issuer_and_audience(claims, check.issuer, check.client_id)?;
    check_other_parties(claims, check.client_id, check.trusted_audiences)?;
    let skew = check.skew.as_secs();
    if claims.exp.saturating_add(skew) <= now {
        return Err(IdTokenError::Expired {
            exp: claims.exp,
            now,
            skew,
        });
    }
    check_not_in_future(claims, now, skew)?;
    check_token_hash(
        claims,
        alg,
        "at_hash",
        check.access_token.map(AccessToken::expose_secret),
    )?;
    check_token_hash(
        claims,
        alg,
        "c_hash",
        check.code.map(AuthorizationCode::expose_secret),
    )?;
    // REFERENCE §5: decided on the level claims, never on `acr`, which CIS2 may leave out.
    claims::check_assurance(
        check.acr_values.and_then(claims::requested_level),
        claims.claims.get("authentication_assurance_level"),
    )?;
    claims::check_id_assurance(
        check.min_id_assurance_level,
        claims.claims.get("id_assurance_level"),
    )?;
    Ok(())
}

/// `iss` is the issuer byte for byte and `aud` lists the client.
fn check_issuer_and_audience(
    claims: &IdTokenClaims,
    issuer: &IssuerUrl,
    client_id: &ClientId,
) -> Result<(), IdTokenError> {
    let what = SignedDocument::IdToken;
    if !issuer.matches(&claims.iss) {
        return Err(wrong_issuer(what, &claims.iss, issuer));
    }
    if !claims.aud.iter().any(|aud| client_id == aud.as_str()) {
        return Err(wrong_audience(what, &claims.aud, client_id));
    }
    Ok(())
}

/// §3.1.3.7 steps 3 to 5: an audience besides the client that is not trusted is refused, azp or
/// not; `azp`, when present, is the client, and is required when there are several audiences.
fn check_other_parties(
    claims: &IdTokenClaims,
    client_id: &ClientId,
    trusted_audiences: &[String],
) -> Result<(), IdTokenError> {
    if let Some(untrusted) = claims
        .aud
        .iter()
        .find(|aud| client_id != aud.as_str() && !trusted_audiences.contains(aud))
    {
        return Err(IdTokenError::UntrustedAudience {
            aud: shown(untrusted),
        });
    }
    match &claims.azp {
        Some(azp) if client_id != azp.as_str() => Err(IdTokenError::WrongAzp {
            azp: shown(azp),
            client_id: client_id.to_string(),
        }),
        None if claims.aud.len() > 1 => Err(IdTokenError::MissingAzp),
        _ => Ok(()),
    }
}

/// `iat`, `nbf` and `auth_time` are not later than now (and `auth_time` not later than `iat`)
/// beyond `skew` seconds.
fn check_not_in_future(claims: &IdTokenClaims, now: u64, skew: u64) -> Result<(), IdTokenError> {
    if claims.iat > now.saturating_add(skew) {
        return Err(IdTokenError::IssuedInFuture {
            iat: claims.iat,
            now,
            skew,
        });
    }
    if let Some(nbf) = claims.nbf {
        if nbf > now.saturating_add(skew) {
            return Err(IdTokenError::NotYetValid { nbf, now, skew });
        }
    }
    // The absolute session limit runs from auth_time: one the provider dated after the token
    // (or after now) would stretch it.
    if let Some(auth_time) = claims.auth_time {
        if auth_time > claims.iat.min(now).saturating_add(skew) {
            return Err(IdTokenError::AuthTimeInFuture {
                auth_time,
                iat: claims.iat,
                skew,
            });
        }
    }
    Ok(())
}

/// OIDC Core §3.1.3.8 and §3.3.2.11: when the ID token carries `claim`, it is the base64url
/// left half of the digest of `value` (ASCII) with the hash of the token's JWS algorithm.
fn check_token_hash(
    claims: &IdTokenClaims,
    alg: JwsAlgorithm,
    claim: &'static str,
    value: Option<&str>,
) -> Result<(), IdTokenError> {
    let (Some(found), Some(value)) = (claims.claims.get(claim), value) else {
        return Ok(());
    };
    let found = found.as_str().ok_or(IdTokenError::InvalidClaim {
        what: SignedDocument::IdToken,
        claim,
        expected: "a string",
    })?;
    if found == token_hash(alg, value) {
        Ok(())
    } else {
        Err(IdTokenError::WrongTokenHash { claim })
    }
}

/// The `at_hash` / `c_hash` of `value` for a token signed with `alg`.
pub fn token_hash(alg: JwsAlgorithm, value: &str) -> String {
    let algorithm = match alg {
        JwsAlgorithm::Rs256 | JwsAlgorithm::Ps256 | JwsAlgorithm::Es256 | JwsAlgorithm::Hs256 => {
            &digest::SHA256
        }
        JwsAlgorithm::Rs384 | JwsAlgorithm::Ps384 | JwsAlgorithm::Es384 | JwsAlgorithm::Hs384 => {
            &digest::SHA384
        }
        JwsAlgorithm::Rs512 | JwsAlgorithm::Ps512 | JwsAlgorithm::Hs512 => &digest::SHA512,
    };
    let hash = digest::digest(algorithm, value.as_bytes());
    let hash = hash.as_ref();
    URL_SAFE_NO_PAD.encode(&hash[..hash.len() / 2])
}

/// Reads the claims every ID token must carry in the right shape, and CIS2's optional ones.
fn read_claims(claims: Map<String, Value>) -> Result<IdTokenClaims, IdTokenError> {
    let invalid = |claim, expected| IdTokenError::InvalidClaim {
        what: SignedDocument::IdToken,
        claim,
        expected,
    };
    // An optional claim: absent (or null) is `None`, the wrong type is an error.
    let optional = |claim: &'static str,
                    read: fn(&Value) -> Option<String>,
                    expected: &'static str|
     -> Result<Option<String>, IdTokenError> {
        match claims.get(claim) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => read(value).map(Some).ok_or(invalid(claim, expected)),
        }
    };
    let string = |value: &Value| value.as_str().map(str::to_owned);
    let date = |claim: &'static str| -> Result<Option<u64>, IdTokenError> {
        match claims.get(claim) {
            // A date given as null is not a date: only absence means none (RFC 7519 §4.1).
            None => Ok(None),
            Some(value) => numeric_date(value)
                .map(Some)
                .ok_or(invalid(claim, "a number of seconds")),
        }
    };

    let iss = optional("iss", string, "a string")?.ok_or(invalid("iss", "a string"))?;
    let sub = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
        _ => return Err(IdTokenError::MissingSub),
    };
    let aud = claims
        .get("aud")
        .and_then(audiences)
        .ok_or(invalid("aud", "a string or an array of strings"))?;
    let exp = date("exp")?.ok_or(invalid("exp", "a number of seconds"))?;
    let iat = date("iat")?.ok_or(invalid("iat", "a number of seconds"))?;
    let auth_time = date("auth_time")?;
    let nbf = date("nbf")?;
    let azp = optional("azp", string, "a string")?;
    let nonce = optional("nonce", string, "a string")?;
    let level = |claim| claims.get(claim).and_then(claims::assurance_level);
    Ok(IdTokenClaims {
        sub,
        iss,
        aud,
        azp,
        exp,
        iat,
        nbf,
        auth_time,
        nonce,
        // Informational claims are read tolerantly: a surprise there is not worth a sign-in.
        acr: claims.get("acr").and_then(string),
        amr: match claims.get("amr") {
            Some(Value::Array(items)) => items.iter().filter_map(id_text).collect(),
            Some(value) => id_text(value).into_iter().collect(),
            None => Vec::new(),
        },
        sid: claims.get("sid").and_then(string),
        selected_roleid: claims.get("selected_roleid").and_then(id_text),
        authentication_assurance_level: level("authentication_assurance_level"),
        id_assurance_level: level("id_assurance_level"),
        claims,
    })
}

/// A text claim, or an id CIS2 sent as a number, taken as its digits.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// `aud` as a list: a string or an array of strings (OIDC Core §2).
fn audiences(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::String(aud) => Some(vec![aud.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

/// RFC 7519 §2 NumericDate: whole or fractional seconds, never negative; fractions dropped, and
/// a value beyond `u64` (1e300, say) saturates, so later arithmetic on it cannot overflow.
fn numeric_date(value: &Value) -> Option<u64> {
    let number = value.as_number()?;
    number.as_u64().or_else(|| {
        number
            .as_f64()
            .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
            .map(|seconds| seconds as u64)
    })
}

fn seconds_since_epoch(now: SystemTime) -> Result<u64, IdTokenError> {
    now.duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs())
        .map_err(|_| IdTokenError::ClockBeforeEpoch)
}

fn wrong_issuer(what: SignedDocument, actual: &str, expected: &IssuerUrl) -> IdTokenError {
    IdTokenError::WrongIssuer {
        what,
        actual: shown(actual),
        expected: expected.to_string(),
    }
}

fn wrong_audience(what: SignedDocument, aud: &[String], client_id: &ClientId) -> IdTokenError {
    IdTokenError::WrongAudience {
        what,
        aud: shown(&aud.join(", ")),
        client_id: client_id.to_string(),
    }
}

/// At most [`SHOWN_CHARS`] characters of a token's value, for an error message.
fn shown(text: &str) -> String {
    jose::shortened(text, SHOWN_CHARS)
}

/// Why an ID token or signed UserInfo was refused. Each message names the check that failed;
/// only issuers, audiences, times and claim names are repeated, never the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// The signature, its algorithm or key, or the token's form. On
    /// [`IdTokenError::is_unknown_kid`], refetch the key set once.
    #[error("the {what} cannot be trusted: {source}")]
    Signature {
        what: SignedDocument,
        source: JoseError,
    },
    #[error("the {what}'s issuer {actual:?} is not the provider's {expected:?}")]
    WrongIssuer {
        what: SignedDocument,
        actual: String,
        expected: String,
    },
    #[error("the {what} is for {aud:?}, not this client {client_id:?}")]
    WrongAudience {
        what: SignedDocument,
        aud: String,
        client_id: String,
    },
    #[error("the ID token is also for {aud:?}, an audience this profile does not trust (add it to trusted_audiences if it should be)")]
    UntrustedAudience { aud: String },
    #[error("the ID token has several audiences and no azp claim naming the client")]
    MissingAzp,
    #[error("the ID token's authorized party (azp) {azp:?} is not this client {client_id:?}")]
    WrongAzp { azp: String, client_id: String },
    #[error("the ID token's nonce does not match the sign-in request")]
    WrongNonce,
    #[error("the ID token has expired (exp {exp}, now {now}, {skew} s of clock skew allowed); one that has just been issued means the provider's clock and this computer's differ by more than that")]
    Expired { exp: u64, now: u64, skew: u64 },
    #[error("the ID token was issued in the future (iat {iat}, now {now}, {skew} s of clock skew allowed): the provider's clock and this computer's differ by more than that; check this computer's clock")]
    IssuedInFuture { iat: u64, now: u64, skew: u64 },
    #[error("the ID token is not valid yet (nbf {nbf}, now {now}, {skew} s of clock skew allowed); check this computer's clock")]
    NotYetValid { nbf: u64, now: u64, skew: u64 },
    #[error("the ID token's auth_time {auth_time} is later than when it was issued (iat {iat}) or now, beyond {skew} s of clock skew")]
    AuthTimeInFuture { auth_time: u64, iat: u64, skew: u64 },
    #[error("the user authenticated {age} s ago ({claim}), already past the session's {limit_hours}-hour limit: sign in again at the provider")]
    PastSessionLimit {
        claim: &'static str,
        age: u64,
        limit_hours: u64,
    },
    #[error("the ID token's {claim} does not match the token it came with")]
    WrongTokenHash { claim: &'static str },
    #[error("the ID token has no sub claim naming the user")]
    MissingSub,
    #[error("the ID token has no auth_time, which max_age in the sign-in request requires")]
    MissingAuthTime,
    #[error("the user authenticated {age} s ago (auth_time), longer than the sign-in request's max_age of {max_age} s")]
    AuthTimeTooOld { age: u64, max_age: u32 },
    #[error("the {what}'s {claim} claim is missing or not {expected}")]
    InvalidClaim {
        what: SignedDocument,
        claim: &'static str,
        expected: &'static str,
    },
    #[error("the refreshed ID token's {claim} differs from the original ID token's")]
    RefreshedClaimChanged { claim: &'static str },
    #[error(transparent)]
    Assurance(#[from] ClaimsError),
    #[error("the system clock is set before 1970")]
    ClockBeforeEpoch,
}

impl IdTokenError {
    pub fn code(&self) -> &'static str {
        let userinfo = |what: &SignedDocument| *what == SignedDocument::UserInfo;
        match self {
            IdTokenError::Signature { source, .. } => source.code(),
            IdTokenError::WrongIssuer { what, .. } if userinfo(what) => "userinfo_wrong_issuer",
            IdTokenError::WrongIssuer { .. } => "id_token_wrong_issuer",
            IdTokenError::WrongAudience { what, .. } if userinfo(what) => "userinfo_wrong_audience",
            IdTokenError::WrongAudience { .. } => "id_token_wrong_audience",
            IdTokenError::UntrustedAudience { .. } => "id_token_untrusted_audience",
            IdTokenError::MissingAzp => "id_token_missing_azp",
            IdTokenError::WrongAzp { .. } => "id_token_wrong_azp",
            IdTokenError::WrongNonce => "id_token_wrong_nonce",
            IdTokenError::Expired { .. } => "id_token_expired",
            IdTokenError::IssuedInFuture { .. } => "id_token_issued_in_future",
            IdTokenError::NotYetValid { .. } => "id_token_not_yet_valid",
            IdTokenError::AuthTimeInFuture { .. } => "id_token_auth_time_in_future",
            IdTokenError::PastSessionLimit { .. } => "id_token_past_session_limit",
            IdTokenError::WrongTokenHash { claim: "c_hash" } => "id_token_wrong_c_hash",
            IdTokenError::WrongTokenHash { .. } => "id_token_wrong_at_hash",
            IdTokenError::MissingSub => "id_token_missing_sub",
            IdTokenError::MissingAuthTime => "id_token_missing_auth_time",
            IdTokenError::AuthTimeTooOld { .. } => "id_token_auth_time_too_old",
            IdTokenError::InvalidClaim { what, .. } if userinfo(what) => "userinfo_invalid_claim",
            IdTokenError::InvalidClaim { .. } => "id_token_invalid_claim",
            IdTokenError::RefreshedClaimChanged { .. } => "id_token_refresh_mismatch",
            IdTokenError::Assurance(error) => error.code(),
            IdTokenError::ClockBeforeEpoch => "clock_invalid",
        }
    }

    /// Which of [`ID_TOKEN_RULES`] failed; `None` for a failure that is no rule of a first ID
    /// token's (a refreshed token's changed claim, a clock before 1970).
    pub fn rule(&self) -> Option<IdTokenRule> {
        Some(match self {
            IdTokenError::Signature { .. } => IdTokenRule::Signature,
            IdTokenError::InvalidClaim { claim: "alg", .. } => IdTokenRule::Signature,
            IdTokenError::InvalidClaim { .. } | IdTokenError::MissingSub => IdTokenRule::Claims,
            IdTokenError::WrongIssuer { .. } => IdTokenRule::Issuer,
            IdTokenError::WrongAudience { .. } | IdTokenError::UntrustedAudience { .. } => {
                IdTokenRule::Audience
            }
            IdTokenError::MissingAzp | IdTokenError::WrongAzp { .. } => {
                IdTokenRule::AuthorizedParty
            }
            IdTokenError::Expired { .. } => IdTokenRule::Expiry,
            IdTokenError::IssuedInFuture { .. }
            | IdTokenError::NotYetValid { .. }
            | IdTokenError::AuthTimeInFuture { .. } => IdTokenRule::NotInFuture,
            IdTokenError::WrongTokenHash { claim: "c_hash" } => IdTokenRule::CodeHash,
            IdTokenError::WrongTokenHash { .. } => IdTokenRule::AccessTokenHash,
            IdTokenError::Assurance(
                ClaimsError::AssuranceMissing { .. }
                | ClaimsError::AssuranceInvalid(_)
                | ClaimsError::AssuranceTooLow { .. },
            ) => IdTokenRule::AssuranceLevel,
            IdTokenError::Assurance(
                ClaimsError::IdAssuranceMissing { .. }
                | ClaimsError::IdAssuranceInvalid(_)
                | ClaimsError::IdAssuranceTooLow { .. },
            ) => IdTokenRule::IdAssuranceLevel,
            IdTokenError::WrongNonce => IdTokenRule::Nonce,
            IdTokenError::PastSessionLimit { .. } => IdTokenRule::SessionLimit,
            IdTokenError::MissingAuthTime | IdTokenError::AuthTimeTooOld { .. } => {
                IdTokenRule::MaxAge
            }
            IdTokenError::Assurance(_)
            | IdTokenError::RefreshedClaimChanged { .. }
            | IdTokenError::ClockBeforeEpoch => return None,
        })
    }

    /// The signature error, if that is what failed.
    pub fn jose(&self) -> Option<&JoseError> {
        match self {
            IdTokenError::Signature { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
