use std::sync::OnceLock;
use std::time::UNIX_EPOCH;

use serde_json::json;

use super::*;
use crate::jose::test_support::{ec_jwk, keys, rsa_jwk, sign, tamper, SECRET};

const NOW: u64 = 1_767_225_600;
const URL: &str = "https://broker.example.nhs.uk/token";
const ALLOWED: &[JwsAlgorithm] = &[
    JwsAlgorithm::Es256,
    JwsAlgorithm::Es384,
    JwsAlgorithm::Rs256,
    JwsAlgorithm::Ps256,
];

/// RFC 9449 §4.1's example `DPoP` header, also the token request's of §5 (POST
/// https://server.example.com/token, iat 1562262616), with RFC 8792's line wrapping undone.
const RFC_TOKEN_REQUEST_PROOF: &str = concat!(
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik",
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR",
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE",
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj",
    "oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia",
    "WF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg",
    "4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg",
);

/// RFC 9449 §5's refresh-token request proof: the same key and claims, iat 1562265296.
const RFC_REFRESH_PROOF: &str = concat!(
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik",
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR",
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE",
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj",
    "oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia",
    "WF0IjoxNTYyMjY1Mjk2fQ.pAqut2IRDm_De6PR93SYmGBPXpwrAk90e8cP2hjiaG5Qs",
    "GSuKDYW7_X620BxqhvYC8ynrrvZLTk41mSRroapUA",
);

/// RFC 9449 §7.1's protected resource request proof (GET
/// https://resource.example.org/protectedresource, iat 1562262618), with `ath`.
const RFC_RESOURCE_PROOF: &str = concat!(
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik",
    "VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR",
    "nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE",
    "QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIj",
    "oiR0VUIiwiaHR1IjoiaHR0cHM6Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0Z",
    "WRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoiZlVIeU8ycjJaM0RaNTNF",
    "c05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71E",
    "OptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA",
);

/// RFC 9449 §5 and §7.1's access token, and its `ath` in §7.1's proof.
const RFC_ACCESS_TOKEN: &str = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU";
const RFC_ATH: &str = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo";

/// The thumbprint of the examples' key: the `jkt` of RFC 9449 §6.1 and §6.2.
const RFC_JKT: &str = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I";

/// One key per test binary; every proof here is signed with it unless a case says otherwise.
fn key() -> &'static DpopKey {
    static KEY: OnceLock<DpopKey> = OnceLock::new();
    KEY.get_or_init(|| DpopKey::generate().expect("a P-256 key"))
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// A POST to [`URL`] at [`NOW`], a minute's `max_age` and five seconds' skew.
fn check() -> ProofCheck<'static> {
    ProofCheck {
        method: "POST",
        url: URL,
        now: at(NOW),
        max_age: Duration::from_secs(60),
        skew: Duration::from_secs(5),
        allowed: ALLOWED,
        access_token: None,
    }
}

fn header() -> Value {
    json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": key().public_jwk() })
}

fn claims() -> Value {
    json!({ "jti": "jti-1", "htm": "POST", "htu": URL, "iat": NOW })
}

/// A proof of `header` and `claims` signed with [`key`].
fn signed(header: &Value, claims: &Value) -> String {
    key().sign(header, claims).expect("signs")
}

/// A proof of `header` and `claims` with an empty signature, as `alg: none` has.
fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// [`header`] with `changes` applied, a null removing the member.
fn header_with(changes: Value) -> Value {
    merged(header(), changes)
}

/// [`claims`] with `changes` applied, a null removing the member.
fn claims_with(changes: Value) -> Value {
    merged(claims(), changes)
}

fn merged(mut base: Value, changes: Value) -> Value {
    let (Some(base_members), Value::Object(changes)) = (base.as_object_mut(), changes) else {
        panic!("objects only");
    };
    for (name, value) in changes {
        if value.is_null() {
            base_members.remove(&name);
        } else {
            base_members.insert(name, value);
        }
    }
    base
}

/// The code `proof` is refused with, after checking the message does not repeat the proof's
/// payload or signature.
fn refusal(proof: &str, check: &ProofCheck<'_>) -> &'static str {
    let error = verify_proof(proof, check).expect_err("refused");
    let message = error.to_string();
    for part in proof.split('.').skip(1).filter(|part| part.len() > 8) {
        assert!(!message.contains(part), "{message}");
    }
    error.code()
}

#[test]
fn a_proof_made_here_verifies_and_names_its_key() {
    let token = AccessToken::new("access-token-1".to_owned());
    let proof = key()
        .proof(
            "POST",
            "https://broker.example.nhs.uk/token?x=1#part",
            Some("server-nonce"),
            Some(&token),
            at(NOW),
        )
        .expect("a proof");
    let verified = verify_proof(
        proof.as_str(),
        &ProofCheck {
            access_token: Some(&token),
            ..check()
        },
    )
    .expect("verifies");
    assert_eq!(verified.thumbprint, key().thumbprint());
    assert_eq!(verified.iat, NOW);
    assert_eq!(verified.nonce.as_deref(), Some("server-nonce"));
    assert_eq!(verified.jti.len(), 22, "128 bits, base64url");

    let jwt = jose::decode_any_type(proof.as_str()).expect("a JWS");
    assert_eq!(jwt.header.typ.as_deref(), Some("dpop+jwt"));
    assert_eq!(jwt.header.alg, "ES256");
    assert_eq!(jwt.header_member("jwk"), Some(&key().public_jwk()));
    assert_eq!(jwt.claims["htm"], "POST");
    assert_eq!(jwt.claims["htu"], URL, "no query or fragment");
    assert_eq!(jwt.claims["ath"], access_token_hash(&token));
}

#[test]
fn a_proof_without_nonce_or_token_has_neither_claim() {
    let proof = key()
        .proof("GET", URL, None, None, at(NOW))
        .expect("a proof");
    let jwt = jose::decode_any_type(proof.as_str()).expect("a JWS");
    let mut names: Vec<&str> = jwt.claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["htm", "htu", "iat", "jti"]);
    let verified = verify_proof(
        proof.as_str(),
        &ProofCheck {
            method: "GET",
            ..check()
        },
    )
    .expect("verifies");
    assert_eq!(verified.nonce, None);
}

#[test]
fn every_proof_has_its_own_jti() {
    let jti = || {
        let proof = key()
            .proof("POST", URL, None, None, at(NOW))
            .expect("a proof");
        verify_proof(proof.as_str(), &check())
            .expect("verifies")
            .jti
    };
    assert_ne!(jti(), jti());
}

#[test]
fn rfc_9449_example_proofs_verify_and_give_the_example_thumbprint() {
    let token = AccessToken::new(RFC_ACCESS_TOKEN.to_owned());
    let cases = [
        (
            RFC_TOKEN_REQUEST_PROOF,
            "POST",
            "https://server.example.com/token",
            1_562_262_616,
            None,
        ),
        (
            RFC_REFRESH_PROOF,
            "POST",
            "https://server.example.com/token",
            1_562_265_296,
            None,
        ),
        (
            RFC_RESOURCE_PROOF,
            "GET",
            "https://resource.example.org/protectedresource",
            1_562_262_618,
            Some(&token),
        ),
    ];
    for (proof, method, url, iat, access_token) in cases {
        let verified = verify_proof(
            proof,
            &ProofCheck {
                method,
                url,
                now: at(iat),
                allowed: &[JwsAlgorithm::Es256],
                access_token,
                ..check()
            },
        )
        .unwrap_or_else(|error| panic!("{url} at {iat}: {error}"));
        assert_eq!(verified.thumbprint.as_str(), RFC_JKT);
        assert_eq!(verified.iat, iat);
        assert_eq!(verified.nonce, None);
    }
}

#[test]
fn rfc_9449_example_ath_matches() {
    let token = AccessToken::new(RFC_ACCESS_TOKEN.to_owned());
    assert_eq!(access_token_hash(&token), RFC_ATH);
}

#[test]
fn rfc_9449_example_proofs_are_refused_for_another_request() {
    let rfc = ProofCheck {
        url: "https://server.example.com/token",
        now: at(1_562_262_616),
        ..check()
    };
    let other_token = AccessToken::new("another-token".to_owned());
    let tampered = tamper(RFC_TOKEN_REQUEST_PROOF);
    let rfc_token = AccessToken::new(RFC_ACCESS_TOKEN.to_owned());
    let cases = [
        (
            RFC_TOKEN_REQUEST_PROOF,
            ProofCheck {
                method: "GET",
                ..rfc
            },
            "method",
        ),
        (
            RFC_TOKEN_REQUEST_PROOF,
            ProofCheck {
                url: "https://server.example.com/par",
                ..rfc
            },
            "url",
        ),
        (
            RFC_TOKEN_REQUEST_PROOF,
            ProofCheck {
                now: at(1_562_262_616 + 66),
                ..rfc
            },
            "time",
        ),
        (
            RFC_TOKEN_REQUEST_PROOF,
            ProofCheck {
                allowed: &[JwsAlgorithm::Rs256],
                ..rfc
            },
            "algorithm",
        ),
        (
            RFC_TOKEN_REQUEST_PROOF,
            ProofCheck {
                access_token: Some(&rfc_token),
                ..rfc
            },
            "ath",
        ),
        (
            RFC_RESOURCE_PROOF,
            ProofCheck {
                method: "GET",
                url: "https://resource.example.org/protectedresource",
                now: at(1_562_262_618),
                access_token: Some(&other_token),
                ..rfc
            },
            "ath",
        ),
        (tampered.as_str(), rfc, "signature"),
    ];
    for (proof, check, code) in cases {
        assert_eq!(refusal(proof, &check), code, "{check:?}");
    }
}

/// §4.3 steps 2, 5 and 6 on proofs that are not JWSs, are unsigned, or were altered.
#[test]
fn malformed_unsigned_and_altered_proofs_are_refused() {
    let proof = signed(&header(), &claims());
    let (signing_input, signature) = proof.rsplit_once('.').expect("a JWS");
    let (header_part, _) = signing_input.split_once('.').expect("a JWS");
    let other_claims = URL_SAFE_NO_PAD.encode(claims_with(json!({ "htm": "GET" })).to_string());
    let other_key = DpopKey::generate().expect("a key");
    let cases = [
        ("not a JWS", "not-a-jws".to_owned(), "malformed"),
        ("too large", "a".repeat(MAX_PROOF_BYTES + 1), "too_large"),
        ("no signature", format!("{signing_input}."), "signature"),
        (
            "alg none",
            unsigned(&header_with(json!({ "alg": "none" })), &claims()),
            "algorithm",
        ),
        ("tampered signature", tamper(&proof), "signature"),
        (
            "tampered claims",
            format!("{header_part}.{other_claims}.{signature}"),
            "signature",
        ),
        (
            "signed by another key",
            other_key.sign(&header(), &claims()).expect("signs"),
            "signature",
        ),
    ];
    for (name, proof, code) in cases {
        assert_eq!(refusal(&proof, &check()), code, "{name}");
    }
}

/// §4.3 steps 4, 5 and 7: `typ`, `alg` and `jwk`, each refused with its code.
#[test]
fn each_header_check_refuses_with_its_code() {
    let zero = URL_SAFE_NO_PAD.encode([0_u8; 32]);
    let off_curve = json!({ "kty": "EC", "crv": "P-256", "x": zero, "y": zero });
    let cases = [
        ("typ JWT", json!({ "typ": "JWT" }), "type"),
        ("typ in capitals", json!({ "typ": "DPOP+JWT" }), "type"),
        (
            "typ as a media type",
            json!({ "typ": "application/dpop+jwt" }),
            "type",
        ),
        ("no typ", json!({ "typ": null }), "type"),
        ("HS256", json!({ "alg": "HS256" }), "algorithm"),
        (
            "alg not in the list",
            json!({ "alg": "PS384" }),
            "algorithm",
        ),
        ("alg unknown", json!({ "alg": "EdDSA" }), "algorithm"),
        ("no jwk", json!({ "jwk": null }), "jwk"),
        ("jwk not an object", json!({ "jwk": "key" }), "jwk"),
        (
            "jwk of another kty",
            json!({ "jwk": { "kty": "OKP", "crv": "Ed25519", "x": "AAAA" } }),
            "jwk",
        ),
        ("jwk off the curve", json!({ "jwk": off_curve }), "jwk"),
        (
            "jwk that does not fit alg",
            json!({ "alg": "ES384" }),
            "jwk",
        ),
        ("crit", json!({ "crit": ["exp"] }), "malformed"),
    ];
    for (name, changes, code) in cases {
        let proof = signed(&header_with(changes), &claims());
        assert_eq!(refusal(&proof, &check()), code, "{name}");
    }
}

/// §4.3 steps 3, 8, 9 and 11, and `jti` and `nonce` of the right type, each refused with its
/// code.
#[test]
fn each_claim_check_refuses_with_its_code() {
    let cases = [
        ("wrong htm", json!({ "htm": "GET" }), "method"),
        ("htm in lower case", json!({ "htm": "post" }), "method"),
        ("no htm", json!({ "htm": null }), "method"),
        ("htm a number", json!({ "htm": 1 }), "method"),
        (
            "wrong htu path",
            json!({ "htu": "https://broker.example.nhs.uk/par" }),
            "url",
        ),
        (
            "wrong htu host",
            json!({ "htu": "https://evil.example/token" }),
            "url",
        ),
        (
            "htu over http",
            json!({ "htu": "http://broker.example.nhs.uk/token" }),
            "url",
        ),
        (
            "htu on another port",
            json!({ "htu": "https://broker.example.nhs.uk:8443/token" }),
            "url",
        ),
        (
            "htu with a path suffix",
            json!({ "htu": "https://broker.example.nhs.uk/token/x" }),
            "url",
        ),
        ("htu relative", json!({ "htu": "/token" }), "url"),
        ("no htu", json!({ "htu": null }), "url"),
        ("iat too old", json!({ "iat": NOW - 66 }), "time"),
        ("iat too far ahead", json!({ "iat": NOW + 6 }), "time"),
        ("no iat", json!({ "iat": null }), "time"),
        ("iat a string", json!({ "iat": NOW.to_string() }), "time"),
        ("iat negative", json!({ "iat": -1 }), "time"),
        ("iat a fraction", json!({ "iat": 1_767_225_600.5 }), "time"),
        ("iat u64::MAX", json!({ "iat": u64::MAX }), "time"),
        ("no jti", json!({ "jti": null }), "jti"),
        ("empty jti", json!({ "jti": "" }), "jti"),
        ("jti a number", json!({ "jti": 7 }), "jti"),
        (
            "jti too long",
            json!({ "jti": "j".repeat(MAX_JTI_BYTES + 1) }),
            "jti",
        ),
        ("nonce a number", json!({ "nonce": 7 }), "nonce"),
    ];
    for (name, changes, code) in cases {
        let proof = signed(&header(), &claims_with(changes));
        assert_eq!(refusal(&proof, &check()), code, "{name}");
    }
    let longest_jti = claims_with(json!({ "jti": "j".repeat(MAX_JTI_BYTES) }));
    assert!(verify_proof(&signed(&header(), &longest_jti), &check()).is_ok());
}

#[test]
fn a_jwk_with_any_private_member_is_refused() {
    for member in PRIVATE_MEMBERS {
        let mut jwk = key().public_jwk();
        jwk[member] = json!("AAAA");
        let proof = signed(&header_with(json!({ "jwk": jwk })), &claims());
        let error = verify_proof(&proof, &check()).expect_err("refused");
        assert_eq!(error.code(), "private_key", "{member}");
        assert!(matches!(error, DpopError::PrivateKey { member: found } if found == member));
    }
}

/// Numbers past u64 and i64 are read as floats; none may panic, and each is refused.
#[test]
fn a_huge_iat_is_refused_without_panicking() {
    for iat in [
        "18446744073709551616",
        "-9223372036854775809",
        "1e300",
        "-1e300",
        "123456789012345678901234567890",
    ] {
        let claims = format!(r#"{{"jti":"jti-1","htm":"POST","htu":"{URL}","iat":{iat}}}"#);
        let claims: Value = serde_json::from_str(&claims).expect("JSON");
        let proof = signed(&header(), &claims);
        assert_eq!(refusal(&proof, &check()), "time", "{iat}");
    }
    // The window's arithmetic saturates too: the longest durations and the latest clock.
    let proof = signed(&header(), &claims_with(json!({ "iat": u64::MAX })));
    let far = ProofCheck {
        now: at(i64::MAX.unsigned_abs()),
        max_age: Duration::MAX,
        skew: Duration::MAX,
        ..check()
    };
    assert!(verify_proof(&proof, &far).is_ok());
}

#[test]
fn the_iat_window_includes_its_edges() {
    for iat in [NOW - 65, NOW, NOW + 5] {
        let proof = signed(&header(), &claims_with(json!({ "iat": iat })));
        assert_eq!(
            verify_proof(&proof, &check())
                .expect("inside the window")
                .iat,
            iat
        );
    }
}

#[test]
fn htu_is_compared_after_normalisation_with_query_and_fragment_ignored() {
    for htu in [
        "https://broker.example.nhs.uk/token?state=1",
        "https://broker.example.nhs.uk/token#fragment",
        "HTTPS://Broker.Example.NHS.uk/token",
        "https://broker.example.nhs.uk:443/token",
        "https://broker.example.nhs.uk/./other/../token",
        "https://broker.example.nhs.uk/%74oken",
    ] {
        let proof = signed(&header(), &claims_with(json!({ "htu": htu })));
        assert!(verify_proof(&proof, &check()).is_ok(), "{htu}");
    }
    let proof = signed(
        &header(),
        &claims_with(json!({ "htu": "http://localhost/token" })),
    );
    let plain = ProofCheck {
        url: "http://LOCALHOST:80/token?x",
        ..check()
    };
    assert!(verify_proof(&proof, &plain).is_ok());
}

#[test]
fn target_uri_normalises_as_rfc_3986_says() {
    let cases = [
        ("https://Host.Example:443", Some("https://host.example/")),
        (
            "https://host.example/a%7e%2fb%2F",
            Some("https://host.example/a~%2Fb%2F"),
        ),
        (
            "https://host.example/a%zz",
            Some("https://host.example/a%zz"),
        ),
        (
            "https://host.example/a/b/../c?q#f",
            Some("https://host.example/a/c"),
        ),
        (
            "http://host.example:8080/x",
            Some("http://host.example:8080/x"),
        ),
        ("ftp://host.example/x", None),
        ("/relative", None),
        ("", None),
    ];
    for (url, normalised) in cases {
        assert_eq!(target_uri(url).as_deref(), normalised, "{url}");
    }
}

#[test]
fn ath_is_checked_only_when_an_access_token_is_given() {
    let token = AccessToken::new("access-token-1".to_owned());
    let with_token = ProofCheck {
        access_token: Some(&token),
        ..check()
    };
    let matching = signed(
        &header(),
        &claims_with(json!({ "ath": access_token_hash(&token) })),
    );
    assert!(verify_proof(&matching, &with_token).is_ok());
    assert!(verify_proof(&matching, &check()).is_ok());

    let other = AccessToken::new("access-token-2".to_owned());
    let mismatched = signed(
        &header(),
        &claims_with(json!({ "ath": access_token_hash(&other) })),
    );
    assert_eq!(refusal(&mismatched, &with_token), "ath");
    assert_eq!(refusal(&signed(&header(), &claims()), &with_token), "ath");
    let not_a_string = signed(&header(), &claims_with(json!({ "ath": 7 })));
    assert_eq!(refusal(&not_a_string, &with_token), "ath");
}

#[test]
fn hmac_and_none_are_refused_even_when_listed() {
    let everything = ProofCheck {
        allowed: &JwsAlgorithm::ALL,
        ..check()
    };
    // Signed with the test signer's HMAC secret, which the proof's own `k` names.
    let oct_jwk = json!({ "kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET) });
    for alg in ["HS256", "HS384", "HS512"] {
        let proof = sign(
            &header_with(json!({ "alg": alg, "jwk": oct_jwk })),
            &claims(),
        );
        assert_eq!(refusal(&proof, &everything), "algorithm", "{alg}");
    }
    for alg in ["none", "None", "NONE"] {
        let proof = unsigned(&header_with(json!({ "alg": alg })), &claims());
        assert_eq!(refusal(&proof, &everything), "algorithm", "{alg}");
    }
}

/// Proofs from other signers and key types: RSA (PS256, RS256) and P-384, signed by the
/// test signer that shares nothing with this module but aws-lc-rs.
#[test]
fn rsa_and_p384_proofs_verify() {
    let keys = keys();
    let cases = [
        ("PS256", rsa_jwk(&keys.rsa, "rsa")),
        ("RS256", rsa_jwk(&keys.rsa, "rsa")),
        ("ES384", ec_jwk(&keys.ec384, "P-384", "ec")),
        ("ES256", ec_jwk(&keys.ec256, "P-256", "ec")),
    ];
    for (alg, jwk) in cases {
        let proof = sign(
            &json!({ "typ": "dpop+jwt", "alg": alg, "jwk": jwk }),
            &claims(),
        );
        let verified =
            verify_proof(&proof, &check()).unwrap_or_else(|error| panic!("{alg}: {error}"));
        let expected = jose::read_jwk(&jwk).expect("a usable key").thumbprint();
        assert_eq!(verified.thumbprint, expected, "{alg}");
        assert_eq!(refusal(&tamper(&proof), &check()), "signature", "{alg}");
    }
}

#[test]
fn the_stored_key_round_trips() {
    let stored = key().to_stored();
    let restored = DpopKey::from_stored(&stored).expect("reads back");
    assert_eq!(restored.thumbprint(), key().thumbprint());
    assert_eq!(restored.public_jwk(), key().public_jwk());
    assert_eq!(restored.to_stored(), stored);
    let proof = restored
        .proof("POST", URL, None, None, at(NOW))
        .expect("a proof");
    assert_eq!(
        verify_proof(proof.as_str(), &check())
            .expect("verifies")
            .thumbprint,
        key().thumbprint()
    );
    assert_ne!(
        DpopKey::generate().expect("a key").thumbprint(),
        key().thumbprint()
    );
}

#[test]
fn a_damaged_stored_key_is_refused() {
    let stored = key().to_stored();
    let truncated = &stored.expose_secret()[..40];
    let p384 = EcdsaKeyPair::generate(&aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED_SIGNING)
        .and_then(|key| key.to_pkcs8v1())
        .expect("a P-384 key");
    let p384 = URL_SAFE_NO_PAD.encode(p384.as_ref());
    for text in ["", "not base64url!", truncated, &p384] {
        let error =
            DpopKey::from_stored(&DpopKeySecret::new(text.to_owned())).expect_err("refused");
        assert_eq!(error.code(), "key");
        assert!(!error.to_string().contains(stored.expose_secret()));
    }
}

#[test]
fn the_public_jwk_holds_the_public_members_only() {
    let jwk = key().public_jwk();
    let mut names: Vec<&str> = jwk
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["crv", "kty", "x", "y"]);
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    assert_eq!(
        jose::read_jwk(&jwk).expect("a usable key").thumbprint(),
        key().thumbprint()
    );
}

#[test]
fn debug_shows_neither_the_key_nor_the_proof() {
    let stored = key().to_stored();
    let printed = format!("{:?} {:#?} {stored:?}", key(), key());
    assert!(!printed.contains(stored.expose_secret()), "{printed}");
    assert!(printed.contains(key().thumbprint().as_str()));
    let proof = key()
        .proof("POST", URL, None, None, at(NOW))
        .expect("a proof");
    assert_eq!(format!("{proof:?}"), "DpopProof([redacted])");
}

#[test]
fn a_proof_is_made_for_http_urls_only() {
    for url in ["ftp://broker.example.nhs.uk/token", "/token", "not a url"] {
        let error = key()
            .proof("POST", url, None, None, at(NOW))
            .expect_err("refused");
        assert_eq!(error.code(), "request_url", "{url}");
    }
    let error = verify_proof(
        RFC_TOKEN_REQUEST_PROOF,
        &ProofCheck {
            url: "server.example.com/token",
            ..check()
        },
    )
    .expect_err("refused");
    assert_eq!(error.code(), "expected_url");
}
