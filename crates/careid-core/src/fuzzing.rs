//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz, libFuzzer): each takes the raw bytes
//! an attacker controls and runs them through careid's own code, the same functions the app
//! calls, nothing copied. A panic here is a bug in careid. Not part of careid's API.
//!
//! Besides "never panics", each entry point asserts what must hold for any input: what careid
//! writes it reads back, outputs stay bounded.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::{Duration, UNIX_EPOCH};

use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::discovery::{cache_file_members, cached_jwks, cached_metadata, MAX_CACHE_AGE};
use crate::id_token::{
    validate_id_token, validate_refreshed_id_token, verify_signed_userinfo, IdTokenCheck,
    IdTokenClaims, IdTokenError, OriginalIdToken,
};
use crate::jose::{self, JsonWebKeySet, JwsAlgorithm};
use crate::keychain::{
    is_part_account, part_account, split_into_parts, utf16_units, Head, Header, MAX_PARTS,
    MAX_PART_UTF16_UNITS,
};
use crate::loopback::{self, CallbackChecks, Route};
use crate::profile::Profiles;
use crate::values::{AcrValues, ClientId, IssuerUrl};
use crate::{diagnose, ProviderMetadata};

/// CIS2's INT issuer, `:443` and all (REFERENCE §1), and the client of its examples.
pub const ISSUER: &str = "https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk:443/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
pub const CLIENT_ID: &str = "123456789012.apps.national";
/// The nonce of REFERENCE's example ID token, and a moment at which that token is valid.
/// [`ISSUER`] and [`CLIENT_ID`] as the checks take them.
static ISSUER_URL: LazyLock<IssuerUrl> =
    LazyLock::new(|| IssuerUrl::new(ISSUER).expect("the fuzzing issuer is an issuer"));
static CLIENT: LazyLock<ClientId> = LazyLock::new(|| ClientId::new(CLIENT_ID));
static AAL3_ANY: LazyLock<AcrValues> = LazyLock::new(|| AcrValues::new("AAL3_ANY"));
pub const NONCE: &str = "9f2c6a0e4d7b4c1e8f3a";
pub const NOW: u64 = 1_760_000_100;
/// The client secret HMAC-signed tokens are keyed with (the `jwt` target's claims mode).
pub const HMAC_SECRET: &str = "fuzzing-client-secret-0123456789abcdef";
/// The listener's path and `state` in the callback target.
pub const CALLBACK_PATH: &str = "/callback";
pub const STATE: &str = "Zr0hNcD1y4q9VwTfA7xLkQ";

/// The public halves of careid-core's committed test keys (`tests/data/test-key-rsa*.pem`,
/// `test-key-ec-p256*.pem`): the key set tokens are verified against.
pub const JWKS: &str = r#"{"keys":[
{"kty":"RSA","use":"sig","kid":"fuzz-rsa","n":"tHtcyPSlb7HntLGtUA1y0-6-1ByVPU-vpE9odz0DNkgEKQRrAzcyYdBJ3H6KChh4H9PLl6DJXKd4wi8sMl9XyfbPdPWmOvG-T5YSp1DI1MmT4-gpcZXP7IYKQ97sGoLXBzymctqGoT2pbP5AANEpg-OCFdkiNhn1-c99S2idi2Kp6SoTShr_yx-J5lidq_Bk8U6u7Nj-Ge-0woezNYap-uEmhmekc9R6bQhwR-uCB4DZR-s1pCl6EUQbu4ATXmv5ZB8L_IgJIr4qc_XAHmCWC2LaTo4w8Wea68kU_xp73km5ktRQxfdFx88_PBsOTRwHRoXdDiJhdbCbpIB2Vrq2OQ","e":"AQAB"},
{"kty":"EC","crv":"P-256","kid":"fuzz-ec","x":"Sf_QCQ_P0UTltP7Q8CNMvH1uMdd1szQzCkwNElbXaBU","y":"Bz1UUHBOzJNmWgWwp0KrtCI99jpQVBejMLgoH5Rm7ho"}
]}"#;

/// The most characters any error message may have: messages repeat a capped excerpt of what
/// arrived, never all of it.
const MAX_MESSAGE_CHARS: usize = 2_000;

fn bounded(message: String) {
    assert!(
        message.chars().count() <= MAX_MESSAGE_CHARS,
        "an error message of {} characters",
        message.chars().count()
    );
}

/// The loopback listener's handling of one connection's bytes: the head as `read_head` finds it
/// (fed in the 1 KiB reads it makes), the request line, the callback's query and its checks, and
/// the page for the browser.
pub fn callback_request(data: &[u8]) {
    let checks = CallbackChecks {
        state: crate::secret::CsrfState::new(STATE.to_owned()),
        issuer: ISSUER_URL.clone(),
        iss_required: data.first().is_some_and(|byte| byte & 1 == 1),
    };
    let mut received = Vec::new();
    for chunk in data.chunks(1024) {
        received.extend_from_slice(chunk);
        match loopback::complete_head(&received) {
            Ok(Some(head)) => {
                let route = loopback::route(&head, CALLBACK_PATH, &checks);
                if let Route::Callback(Ok(response)) = &route {
                    assert!(!response.code.expose_secret().is_empty());
                    assert!(response.iss.as_deref().is_none_or(|iss| iss == ISSUER));
                }
                if let Route::Callback(Err(error)) = &route {
                    assert!(!error.code().is_empty());
                    bounded(error.to_string());
                }
                let (status, page, _) = loopback::answer(route);
                assert!(status.len() > 4 && page.starts_with("<!doctype html>"));
                return;
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
}

/// JWS decoding and verification, and the ID token and signed UserInfo checks. The first byte
/// picks the mode: even, the rest is a compact token, verified against [`JWKS`]; odd, the rest
/// is an ID token's claims (any bytes), signed HS256 with [`HMAC_SECRET`] so that every claim
/// check is reached.
pub fn jwt(data: &[u8]) {
    let Some((outcome, token, check)) = check_jwt(data) else {
        return;
    };
    let keys = JsonWebKeySet::from_json(JWKS).expect("the fuzzing key set reads");
    let secret = crate::secret::ClientSecret::new(HMAC_SECRET.to_owned());
    match outcome {
        Ok(claims) => {
            // What was accepted is what the checks asked for.
            assert_eq!(claims.iss, ISSUER);
            assert!(claims.aud.iter().all(|aud| aud == CLIENT_ID));
            assert_eq!(claims.nonce.as_deref(), Some(NONCE));
            assert!(claims.exp.saturating_add(check.skew.as_secs()) > NOW);
            let original = OriginalIdToken::from(&claims);
            let refreshed = validate_refreshed_id_token(
                &crate::secret::IdToken::new(token.clone()),
                &keys,
                &ALLOWED,
                Some(&secret),
                &check,
                &original,
            );
            assert!(
                refreshed.is_ok(),
                "a token is its own refresh: {refreshed:?}"
            );
        }
        Err(error) => {
            assert!(!error.code().is_empty());
            bounded(error.to_string());
        }
    }
    if let Err(error) =
        verify_signed_userinfo(&token, &keys, &ALLOWED, Some(&secret), &ISSUER_URL, &CLIENT)
    {
        bounded(error.to_string());
    }
}

/// The algorithms the `jwt` target allows: CIS2's two, one EC, and HMAC (a client secret).
const ALLOWED: [JwsAlgorithm; 4] = [
    JwsAlgorithm::Rs256,
    JwsAlgorithm::Rs512,
    JwsAlgorithm::Es256,
    JwsAlgorithm::Hs256,
];

/// The token of [`jwt`]'s input, the check it is held to, and what `validate_id_token` says.
fn check_jwt(
    data: &[u8],
) -> Option<(
    Result<IdTokenClaims, IdTokenError>,
    String,
    IdTokenCheck<'static>,
)> {
    let (&mode, rest) = data.split_first()?;
    let token = if mode & 1 == 0 {
        std::str::from_utf8(rest).ok()?.to_owned()
    } else {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(rest)
        );
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, HMAC_SECRET.as_bytes()),
            input.as_bytes(),
        );
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    };
    if let Ok(decoded) = jose::decode(&token) {
        let _ = format!("{decoded:?}");
    }
    let keys = JsonWebKeySet::from_json(JWKS).expect("the fuzzing key set reads");
    let secret = crate::secret::ClientSecret::new(HMAC_SECRET.to_owned());
    let mut check = IdTokenCheck::new(&ISSUER_URL, &CLIENT, UNIX_EPOCH + Duration::from_secs(NOW));
    check.max_age = (mode & 2 == 2).then_some(3_600);
    check.acr_values = (mode & 4 == 4).then_some(&*AAL3_ANY);
    check.absolute_limit = (mode & 8 == 8).then_some(Duration::from_secs(12 * 3_600));
    let nonce = crate::secret::Nonce::new(NONCE.to_owned());
    let id_token = crate::secret::IdToken::new(token.clone());
    let outcome = validate_id_token(&id_token, &keys, &ALLOWED, Some(&secret), &check, &nonce);
    Some((outcome, token, check))
}

/// The provider's documents: the first byte picks a discovery document, a JWKS, or a cache
/// file (discovery and JWKS together, as careid keeps them), each read the way careid reads it.
pub fn provider_documents(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let Ok(document) = serde_json::from_slice::<Value>(rest) else {
                return;
            };
            let Ok(metadata) = ProviderMetadata::from_document(document, ISSUER) else {
                return;
            };
            let _ = metadata.validate(&ISSUER_URL);
            let own = metadata.issuer.clone();
            let _ = metadata.validate(&own);
            let _ = metadata.endpoints();
            let jwks = serde_json::from_str::<Value>(JWKS).expect("the fuzzing key set is JSON");
            for check in diagnose(&own, &metadata, Some(&jwks)).checks {
                bounded(check.detail);
            }
        }
        1 => key_set(rest),
        _ => {
            let now = UNIX_EPOCH + Duration::from_secs(NOW);
            if let Some((file, fetched_at)) =
                cache_file_members(rest, &ISSUER_URL, now, MAX_CACHE_AGE)
            {
                assert!(fetched_at <= now && now < fetched_at + MAX_CACHE_AGE);
                let jwks_uri = file
                    .get("jwks_uri")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if let Some(metadata) = cached_metadata(file.clone(), &ISSUER_URL) {
                    assert_eq!(metadata.issuer, *ISSUER_URL);
                }
                if let Some(jwks_uri) = jwks_uri {
                    if let Some(jwks) = cached_jwks(file, &jwks_uri) {
                        let _ = JsonWebKeySet::from_value(&jwks);
                    }
                }
            }
        }
    }
}

/// A JWKS document, read tolerantly, then used to check a token that names each of its keys.
fn key_set(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(keys) = JsonWebKeySet::from_json(text) else {
        return;
    };
    assert!(keys.kids().len() <= keys.len());
    let _ = format!("{keys:?}");
    let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"1"}"#);
    let kids: Vec<Option<&str>> = keys.kids().into_iter().map(Some).chain([None]).collect();
    for kid in kids {
        for alg in ["RS256", "PS256", "ES256", "ES384", "RS512"] {
            let header = match kid {
                Some(kid) => serde_json::json!({ "alg": alg, "kid": kid }),
                None => serde_json::json!({ "alg": alg }),
            };
            let header = URL_SAFE_NO_PAD.encode(header.to_string());
            let signature = URL_SAFE_NO_PAD.encode([7u8; 64]);
            let Ok(token) = jose::decode(&format!("{header}.{payload}.{signature}")) else {
                continue;
            };
            let result = jose::verify(&token, &keys, &JwsAlgorithm::ALL, None);
            assert!(result.is_err(), "a made-up signature verified");
        }
    }
}

/// `profiles.toml`: read and validated as careid loads it; whatever loads, careid writes back
/// in a form it loads again to the same profiles.
pub fn profiles_file(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = PathBuf::from("/nonexistent/careid/profiles.toml");
    let Ok(profiles) = Profiles::from_text(path.clone(), text) else {
        return;
    };
    let list = profiles.list().expect("loaded profiles list");
    for profile in &list {
        let _ = profile.credential_account();
        let _ = profile.missing();
    }
    let written = profiles.to_text().expect("loaded profiles are written");
    let again = Profiles::from_text(path, &written).expect("written profiles load again");
    let relisted = again.list().expect("reloaded profiles list");
    assert_eq!(format!("{list:?}"), format!("{relisted:?}"));
}

/// A keychain head entry as read back: a header is 1 to [`MAX_PARTS`] parts and re-encodes to
/// itself; any value splits into parts that fit the platform limit and rejoin to it.
pub fn keychain_header(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match Head::decode(&text) {
        Some(Head::Split(header)) => {
            assert!((1..=MAX_PARTS).contains(&header.parts));
            assert_eq!(Header::decode(&header.encode()), Some(header));
        }
        Some(Head::Inline(value)) => assert!(text.ends_with(value.expose_secret())),
        None => {}
    }
    let parts = split_into_parts(&text);
    assert!(parts
        .iter()
        .all(|part| utf16_units(part) <= MAX_PART_UTF16_UNITS));
    assert_eq!(parts.concat(), text);
    let generation = data.len() as u32;
    assert!(is_part_account(&part_account(
        &text,
        generation,
        parts.len()
    )));
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Every seed of `fuzz/corpus/<target>/` through its entry point, as a plain test: the
    /// corpora stay valid inputs, and the entry points' own assertions hold for real examples.
    #[test]
    fn the_fuzz_seed_corpora_run_clean() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 5] = [
            ("callback", callback_request),
            ("jwt", jwt),
            ("provider_documents", provider_documents),
            ("profiles", profiles_file),
            ("keychain_header", keychain_header),
        ];
        for (target, run) in targets {
            let dir = corpus.join(target);
            let mut seeds = 0;
            for entry in std::fs::read_dir(&dir).unwrap_or_else(|_| panic!("{dir:?}")) {
                let bytes = std::fs::read(entry.expect("entry").path()).expect("seed");
                run(&bytes);
                seeds += 1;
            }
            assert!(seeds >= 2, "{target} has {seeds} seeds");
        }
    }

    /// The `jwt` target reaches the end of the checks: REFERENCE's example ID token is accepted
    /// in claims mode under every combination of the optional checks, and signed as a token.
    #[test]
    fn the_jwt_target_accepts_the_reference_example() {
        let example = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/jwt/claims-cis2-int"),
        )
        .expect("seed");
        for mode in [1u8, 3, 5, 7, 9, 15] {
            let mut data = example.clone();
            data[0] = mode;
            let (outcome, _, _) = check_jwt(&data).expect("a token");
            assert!(outcome.is_ok(), "mode {mode}: {outcome:?}");
        }
        // The token seeds are signed with the keys of [`JWKS`].
        for seed in ["token-rs256", "token-rs512", "token-es256"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/jwt");
            let data = std::fs::read(path.join(seed)).expect("seed");
            let (outcome, _, _) = check_jwt(&data).expect("a token");
            assert!(outcome.is_ok(), "{seed}: {outcome:?}");
        }
    }

    #[test]
    fn the_fuzzing_key_set_holds_both_keys() {
        let keys = JsonWebKeySet::from_json(JWKS).expect("reads");
        assert_eq!(keys.kids(), ["fuzz-rsa", "fuzz-ec"]);
    }
}
