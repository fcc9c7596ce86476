use aws_lc_rs::signature::KeyPair as _;
use serde_json::json;

use super::test_support::*;
use super::*;

fn key_set() -> JsonWebKeySet {
    JsonWebKeySet::from_value(&jwks()).expect("a key set")
}

fn secret() -> ClientSecret {
    ClientSecret::new(SECRET.to_owned())
}

fn claims() -> Value {
    json!({ "iss": "https://op.example", "sub": "555057896106" })
}

fn check(
    token: &str,
    allowed: &[JwsAlgorithm],
    secret: Option<&ClientSecret>,
) -> Result<(), JoseError> {
    verify(&decode(token)?, &key_set(), allowed, secret)
}

#[test]
fn algorithm_names_round_trip_and_none_is_its_own_error() {
    for alg in JwsAlgorithm::ALL {
        assert_eq!(alg.as_str().parse::<JwsAlgorithm>().unwrap(), alg);
    }
    assert_eq!(
        JwsAlgorithm::ALL.iter().filter(|alg| alg.is_hmac()).count(),
        3
    );
    for none in ["none", "None", "NONE"] {
        assert!(matches!(
            none.parse::<JwsAlgorithm>(),
            Err(JoseError::AlgNone)
        ));
    }
    let error = "rs256".parse::<JwsAlgorithm>().unwrap_err();
    assert_eq!(error.code(), "jws_alg_unknown", "names are case-sensitive");
    assert_eq!(
        "EdDSA".parse::<JwsAlgorithm>().unwrap_err().code(),
        "jws_alg_unknown"
    );
}

#[test]
fn allowed_algorithms_intersects_with_discovery() {
    let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect::<Vec<_>>();
    assert_eq!(
        allowed_algorithms(&[], HmacKey::None),
        [JwsAlgorithm::Rs256]
    );
    assert_eq!(
        allowed_algorithms(&[], HmacKey::ClientSecret),
        [JwsAlgorithm::Rs256]
    );
    assert_eq!(
        allowed_algorithms(&names(&["RS512", "RS256", "none", "HS256"]), HmacKey::None),
        [JwsAlgorithm::Rs256, JwsAlgorithm::Rs512]
    );
    assert_eq!(
        allowed_algorithms(
            &names(&["RS256", "none", "HS256", "ES256"]),
            HmacKey::ClientSecret
        ),
        [
            JwsAlgorithm::Rs256,
            JwsAlgorithm::Es256,
            JwsAlgorithm::Hs256
        ]
    );
    assert!(allowed_algorithms(&names(&["none"]), HmacKey::ClientSecret).is_empty());
    assert!(allowed_algorithms(&names(&["rs256"]), HmacKey::None).is_empty());
}

#[test]
fn userinfo_algorithms_come_from_the_userinfo_list_first() {
    let names = |list: &[&str]| list.iter().map(|name| name.to_string()).collect::<Vec<_>>();
    let userinfo = names(&["RS512"]);
    let id_token = names(&["RS256", "ES256"]);
    assert_eq!(
        allowed_userinfo_algorithms(Some(&userinfo), Some(&id_token), HmacKey::None),
        [JwsAlgorithm::Rs512]
    );
    for empty in [None, Some(&[][..])] {
        assert_eq!(
            allowed_userinfo_algorithms(empty, Some(&id_token), HmacKey::None),
            [JwsAlgorithm::Rs256, JwsAlgorithm::Es256]
        );
    }
    assert_eq!(
        allowed_userinfo_algorithms(None, None, HmacKey::None),
        [JwsAlgorithm::Rs256]
    );
    assert!(
        allowed_userinfo_algorithms(
            Some(&names(&["none", "HS256"])),
            Some(&id_token),
            HmacKey::None
        )
        .is_empty(),
        "never none, and HMAC only with a client secret"
    );
}

#[test]
fn every_algorithm_verifies() {
    let secret = secret();
    for alg in JwsAlgorithm::ALL {
        let kid = match alg {
            JwsAlgorithm::Es256 => Some(EC256_KID),
            JwsAlgorithm::Es384 => Some(EC384_KID),
            _ if alg.is_hmac() => None,
            _ => Some(RSA_KID),
        };
        let mut header = json!({ "alg": alg.as_str(), "typ": "JWT" });
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let token = sign(&header, &claims());
        check(&token, &[alg], Some(&secret)).unwrap_or_else(|error| panic!("{alg}: {error}"));
        // Without a kid, the one key of the right type is used.
        header.as_object_mut().unwrap().remove("kid");
        check(&sign(&header, &claims()), &[alg], Some(&secret))
            .unwrap_or_else(|error| panic!("{alg} without kid: {error}"));
        let error = check(&tamper(&token), &[alg], Some(&secret)).unwrap_err();
        assert!(matches!(error, JoseError::BadSignature), "{alg}: {error}");
        assert_eq!(error.code(), "jws_bad_signature");
    }
}

#[test]
fn a_signature_checks_the_signed_bytes() {
    let token = sign(&json!({ "alg": "RS256", "kid": RSA_KID }), &claims());
    let (_, signature) = token.rsplit_once('.').unwrap();
    let other = sign(
        &json!({ "alg": "RS256", "kid": RSA_KID }),
        &json!({ "sub": "someone-else" }),
    );
    let (input, _) = other.rsplit_once('.').unwrap();
    let swapped = format!("{input}.{signature}");
    assert!(matches!(
        check(&swapped, &[JwsAlgorithm::Rs256], None),
        Err(JoseError::BadSignature)
    ));
}

#[test]
fn rs512_does_not_pass_as_rs256() {
    let token = sign(&json!({ "alg": "RS512", "kid": RSA_KID }), &claims());
    let (input, signature) = token.rsplit_once('.').unwrap();
    let (_, payload) = input.split_once('.').unwrap();
    let header = URL_SAFE_NO_PAD.encode(json!({ "alg": "RS256", "kid": RSA_KID }).to_string());
    let relabelled = format!("{header}.{payload}.{signature}");
    assert!(matches!(
        check(
            &relabelled,
            &[JwsAlgorithm::Rs256, JwsAlgorithm::Rs512],
            None
        ),
        Err(JoseError::BadSignature)
    ));
}

#[test]
fn alg_none_is_never_accepted() {
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({ "alg": "none" }).to_string()),
        URL_SAFE_NO_PAD.encode(claims().to_string())
    );
    let error = check(&unsigned, &JwsAlgorithm::ALL, Some(&secret())).unwrap_err();
    assert!(matches!(error, JoseError::AlgNone), "{error}");
    assert_eq!(error.code(), "jws_alg_none");
}

#[test]
fn hmac_keyed_with_the_rsa_public_key_is_refused() {
    let forged = sign_hs256_with_rsa_public_key(&claims());
    // No client secret: HMAC is not allowed at all, even when listed.
    let error = check(&forged, &[JwsAlgorithm::Rs256, JwsAlgorithm::Hs256], None).unwrap_err();
    assert_eq!(error.code(), "jws_alg_not_allowed", "{error}");
    assert!(error.to_string().contains("\"HS256\""), "{error}");
    assert!(error.to_string().contains("allowed: RS256"), "{error}");
    // A client secret: HMAC uses it, never the key set, so the forged tag fails.
    let error = check(
        &forged,
        &[JwsAlgorithm::Rs256, JwsAlgorithm::Hs256],
        Some(&secret()),
    )
    .unwrap_err();
    assert_eq!(error.code(), "jws_bad_signature", "{error}");
    // A secret but HMAC not allowed.
    let error = check(&forged, &[JwsAlgorithm::Rs256], Some(&secret())).unwrap_err();
    assert_eq!(error.code(), "jws_alg_not_allowed", "{error}");
}

#[test]
fn an_algorithm_outside_the_list_is_refused() {
    let token = sign(&json!({ "alg": "PS256", "kid": RSA_KID }), &claims());
    let error = check(&token, &[JwsAlgorithm::Rs256, JwsAlgorithm::Rs512], None).unwrap_err();
    assert!(
        matches!(&error, JoseError::AlgNotAllowed { alg, allowed } if alg == "PS256" && allowed == "RS256, RS512"),
        "{error}"
    );
    let token = sign(&json!({ "alg": "XX999", "kid": RSA_KID }), &claims());
    assert_eq!(
        check(&token, &JwsAlgorithm::ALL, None).unwrap_err().code(),
        "jws_alg_not_allowed"
    );
}

#[test]
fn a_header_alg_that_does_not_fit_the_key_type_is_refused() {
    let only = |alg: JwsAlgorithm| [alg];
    // An EC algorithm under the RSA key's kid, and RSA ones under the EC key's.
    for (alg, kid) in [
        ("ES256", RSA_KID),
        ("ES384", RSA_KID),
        ("RS256", EC256_KID),
        ("PS256", EC256_KID),
        ("RS512", EC384_KID),
    ] {
        let token = sign(&json!({ "alg": alg, "kid": kid }), &claims());
        let parsed: JwsAlgorithm = alg.parse().unwrap();
        let error = check(&token, &only(parsed), None).unwrap_err();
        assert_eq!(
            error.code(),
            "jws_no_matching_key",
            "{alg} under {kid}: {error}"
        );
    }
    // A signature relabelled with another algorithm of the same key type fails, both ways
    // between PKCS#1 v1.5 and PSS, and between the hashes.
    let relabel = |token: &str, alg: &str| {
        let (input, signature) = token.rsplit_once('.').unwrap();
        let (header, payload) = input.split_once('.').unwrap();
        let mut header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        header["alg"] = json!(alg);
        format!(
            "{}.{payload}.{signature}",
            URL_SAFE_NO_PAD.encode(header.to_string())
        )
    };
    for (signed_as, labelled) in [
        ("PS256", "RS256"),
        ("RS256", "PS256"),
        ("PS256", "PS384"),
        ("PS512", "RS512"),
        ("ES256", "ES384"),
    ] {
        let kid = if signed_as == "ES256" {
            EC256_KID
        } else {
            RSA_KID
        };
        let token = relabel(
            &sign(&json!({ "alg": signed_as, "kid": kid }), &claims()),
            labelled,
        );
        let error = check(&token, &JwsAlgorithm::ALL, None).unwrap_err();
        let expected = if labelled == "ES384" {
            "jws_no_matching_key"
        } else {
            "jws_bad_signature"
        };
        assert_eq!(error.code(), expected, "{signed_as} labelled {labelled}");
    }
    // Without a kid, an EC header never reaches the RSA key, nor an RSA header the EC keys.
    let rsa_key_only =
        JsonWebKeySet::from_value(&json!({ "keys": [rsa_jwk(&keys().rsa, RSA_KID)] })).unwrap();
    let token = sign(&json!({ "alg": "ES256" }), &claims());
    let error = verify(
        &decode(&token).unwrap(),
        &rsa_key_only,
        &[JwsAlgorithm::Es256],
        None,
    )
    .unwrap_err();
    assert_eq!(error.code(), "jws_no_matching_key");
}

/// RFC 7518 §3.5: PS256 is RSASSA-PSS with SHA-256, MGF1 with SHA-256 and a 32-byte salt.
/// Signatures made apart (Node.js's OpenSSL) with salt lengths 32, 0 and 64 over the same
/// input: only the one that follows the rule verifies.
#[test]
fn ps256_from_another_signer_verifies_with_a_32_byte_salt_only() {
    let vectors: Value =
        serde_json::from_str(include_str!("../../tests/data/ps256-salt-lengths.json")).unwrap();
    let keys = JsonWebKeySet::from_value(&json!({ "keys": [{
        "kty": "RSA", "kid": "node-pss", "n": vectors["n"], "e": vectors["e"],
    }]}))
    .unwrap();
    let check = |name: &str| {
        let token = vectors[name].as_str().unwrap();
        verify(&decode(token).unwrap(), &keys, &[JwsAlgorithm::Ps256], None)
    };
    check("salt32").expect("PS256 with a 32-byte salt verifies");
    for name in ["salt0", "salt64"] {
        let error = check(name).unwrap_err();
        assert_eq!(error.code(), "jws_bad_signature", "{name}");
    }
}

#[test]
fn an_unknown_kid_asks_for_a_refetch() {
    let token = sign(&json!({ "alg": "RS256", "kid": "rotated-away" }), &claims());
    let error = check(&token, &[JwsAlgorithm::Rs256], None).unwrap_err();
    assert!(error.is_unknown_kid());
    assert_eq!(error.code(), "jws_unknown_kid");
    assert!(error.to_string().contains("rotated-away"));
    assert!(!JoseError::BadSignature.is_unknown_kid());
}

#[test]
fn a_kid_of_the_wrong_key_type_is_no_matching_key() {
    // RS256 under the EC key's kid: the EC key is never used for RSA.
    let token = sign(&json!({ "alg": "RS256", "kid": EC256_KID }), &claims());
    let error = check(&token, &[JwsAlgorithm::Rs256], None).unwrap_err();
    assert_eq!(error.code(), "jws_no_matching_key", "{error}");
    // ES384 under the P-256 key.
    let token = sign(&json!({ "alg": "ES384", "kid": EC256_KID }), &claims());
    assert_eq!(
        check(&token, &[JwsAlgorithm::Es384], None)
            .unwrap_err()
            .code(),
        "jws_no_matching_key"
    );
}

#[test]
fn a_jwk_alg_limits_the_key_to_that_algorithm() {
    let mut jwk = rsa_jwk(&keys().rsa, RSA_KID);
    jwk["alg"] = json!("RS512");
    let keys = JsonWebKeySet::from_value(&json!({ "keys": [jwk] })).unwrap();
    let token = sign(&json!({ "alg": "RS256", "kid": RSA_KID }), &claims());
    let error = verify(
        &decode(&token).unwrap(),
        &keys,
        &[JwsAlgorithm::Rs256],
        None,
    )
    .unwrap_err();
    assert_eq!(error.code(), "jws_no_matching_key");
    let token = sign(&json!({ "alg": "RS512", "kid": RSA_KID }), &claims());
    verify(
        &decode(&token).unwrap(),
        &keys,
        &[JwsAlgorithm::Rs512],
        None,
    )
    .unwrap();
}

#[test]
fn decode_reads_header_and_claims() {
    let token = sign(
        &json!({ "alg": "RS256", "kid": RSA_KID, "typ": "JWT" }),
        &claims(),
    );
    let jwt = decode(&token).unwrap();
    assert_eq!(
        jwt.header,
        JwsHeader {
            alg: "RS256".into(),
            kid: Some(RSA_KID.into()),
            typ: Some("JWT".into())
        }
    );
    assert_eq!(jwt.claims["sub"], "555057896106");
}

#[test]
fn decode_is_strict() {
    let token = sign(&json!({ "alg": "RS256", "kid": RSA_KID }), &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let code = |token: &str| decode(token).unwrap_err().code();
    assert_eq!(code("a.b.c.d.e"), "jws_encrypted");
    assert!(decode("a.b.c.d.e")
        .unwrap_err()
        .to_string()
        .contains("encrypted tokens are not supported"));
    assert_eq!(code(&format!("{}.{}", parts[0], parts[1])), "jws_malformed");
    assert_eq!(code(&format!("{token}.x")), "jws_malformed");
    // Padding, the standard alphabet and stray characters are all refused.
    assert_eq!(
        code(&format!("{}=.{}.{}", parts[0], parts[1], parts[2])),
        "jws_malformed"
    );
    assert_eq!(
        code(&format!("{}.{}.{}==", parts[0], parts[1], parts[2])),
        "jws_malformed"
    );
    assert_eq!(
        code(&format!("{}.{}+.{}", parts[0], parts[1], parts[2])),
        "jws_malformed"
    );
    assert_eq!(
        code(&format!("{}.{} .{}", parts[0], parts[1], parts[2])),
        "jws_malformed"
    );
    let part = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let with_header = |header: &Value| format!("{}.{}.{}", part(header), parts[1], parts[2]);
    assert_eq!(code(&with_header(&json!(["RS256"]))), "jws_malformed");
    assert_eq!(code(&with_header(&json!({ "kid": "x" }))), "jws_malformed");
    assert_eq!(code(&with_header(&json!({ "alg": 256 }))), "jws_malformed");
    assert_eq!(
        code(&with_header(&json!({ "alg": "RS256", "kid": 1 }))),
        "jws_malformed"
    );
    assert_eq!(
        code(&with_header(&json!({ "alg": "RS256", "crit": ["exp"] }))),
        "jws_crit_unsupported"
    );
    assert_eq!(
        code(&format!(
            "{}.{}.{}",
            parts[0],
            part(&json!("a string")),
            parts[2]
        )),
        "jws_malformed"
    );
    assert_eq!(
        code(&format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode("{not json"),
            parts[2]
        )),
        "jws_malformed"
    );
    let huge = format!("{}.{}.{}", parts[0], "A".repeat(MAX_TOKEN_BYTES), parts[2]);
    assert_eq!(code(&huge), "jws_malformed");
}

#[test]
fn debug_shows_no_signature_or_claim_values() {
    let token = sign(
        &json!({ "alg": "RS256", "kid": RSA_KID }),
        &json!({ "sub": "555057896106", "nonce": "n-0S6_WzA2Mj" }),
    );
    let jwt = decode(&token).unwrap();
    let printed = format!("{jwt:?} {jwt:#?}");
    let (input, signature) = token.rsplit_once('.').unwrap();
    assert!(!printed.contains(signature), "{printed}");
    assert!(!printed.contains(input), "{printed}");
    assert!(!printed.contains("n-0S6_WzA2Mj"), "{printed}");
    assert!(
        printed.contains("nonce") && printed.contains(RSA_KID),
        "{printed}"
    );
}

/// Found by the differential tests: openidconnect refuses these and careid accepted them.
#[test]
fn a_typ_other_than_jwt_is_another_kind_of_token() {
    for typ in ["JWT", "jwt", "application/jwt", "Application/JWT"] {
        let token = sign(
            &json!({ "alg": "RS256", "kid": RSA_KID, "typ": typ }),
            &claims(),
        );
        check(&token, &[JwsAlgorithm::Rs256], None).unwrap_or_else(|e| panic!("{typ}: {e}"));
    }
    for typ in ["at+jwt", "logout+jwt", "JOSE", "application/", ""] {
        let token = sign(
            &json!({ "alg": "RS256", "kid": RSA_KID, "typ": typ }),
            &claims(),
        );
        let error = check(&token, &[JwsAlgorithm::Rs256], None).unwrap_err();
        assert_eq!(error.code(), "jws_wrong_type", "{typ}");
    }
}

#[test]
fn nested_and_unencoded_token_headers_are_refused() {
    for (member, value) in [
        ("cty", json!("JWT")),
        ("cty", json!("json")),
        ("b64", json!(false)),
    ] {
        let mut header = json!({ "alg": "RS256", "kid": RSA_KID });
        header[member] = value;
        let error = check(&sign(&header, &claims()), &[JwsAlgorithm::Rs256], None).unwrap_err();
        assert_eq!(error.code(), "jws_header_unsupported", "{member}");
        assert!(error.to_string().contains(member));
    }
}

#[test]
fn repeated_member_names_are_refused() {
    let token = sign(&json!({ "alg": "RS256", "kid": RSA_KID }), &claims());
    let parts: Vec<&str> = token.split('.').collect();
    let part = |text: &str| URL_SAFE_NO_PAD.encode(text);
    let error = |token: String| decode(&token).unwrap_err().to_string();
    let header = part(&format!(
        r#"{{"alg":"none","kid":"{RSA_KID}","alg":"RS256"}}"#
    ));
    assert!(error(format!("{header}.{}.{}", parts[1], parts[2])).contains("header repeats"));
    for payload in [
        r#"{"sub":"1","aud":"client","aud":"other"}"#,
        r#"{"sub":"1","events":{"a":{},"a":{}}}"#,
        r#"{"sub":"1","list":[{"x":1,"x":2}]}"#,
    ] {
        let token = format!("{}.{}.{}", parts[0], part(payload), parts[2]);
        assert!(error(token).contains("payload repeats"), "{payload}");
    }
    // The same names in different objects are not repeats.
    let payload = part(r#"{"sub":"1","a":{"sub":"2"},"b":[{"sub":"3"}]}"#);
    assert!(decode(&format!("{}.{payload}.{}", parts[0], parts[2])).is_ok());
}

#[test]
fn without_a_kid_several_fitting_keys_are_refused() {
    let keys = keys();
    let two = JsonWebKeySet::from_value(&json!({ "keys": [
        rsa_jwk(&keys.rsa, "rsa-old"), rsa_jwk(&keys.rsa, "rsa-new"),
        ec_jwk(&keys.ec256, "P-256", EC256_KID),
    ]}))
    .unwrap();
    let verify_with = |header: Value| {
        verify(
            &decode(&sign(&header, &claims())).unwrap(),
            &two,
            &[JwsAlgorithm::Rs256, JwsAlgorithm::Es256],
            None,
        )
    };
    let error = verify_with(json!({ "alg": "RS256" })).unwrap_err();
    assert_eq!(error.code(), "jws_kid_required");
    verify_with(json!({ "alg": "RS256", "kid": "rsa-new" })).unwrap();
    // One key of the algorithm's kind: no kid needed.
    verify_with(json!({ "alg": "ES256" })).unwrap();
}

#[test]
fn key_sets_keep_only_usable_signing_keys() {
    let keys = keys();
    let mut enc = rsa_jwk(&keys.rsa, "enc-key");
    enc["use"] = json!("enc");
    let mut wrap = rsa_jwk(&keys.rsa, "wrap-key");
    wrap["key_ops"] = json!(["wrapKey"]);
    let mut padded = rsa_jwk(&keys.rsa, "padded");
    padded["e"] = json!("AQAB=");
    let mut bad_point = ec_jwk(&keys.ec256, "P-256", "off-curve");
    bad_point["y"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32]));
    let short = json!({ "kty": "RSA", "kid": "rsa-1024", "n": URL_SAFE_NO_PAD.encode([0xc5u8; 128]), "e": "AQAB" });
    let document = json!({ "keys": [
        rsa_jwk(&keys.rsa, RSA_KID),
        enc,
        wrap,
        padded,
        short,
        bad_point,
        { "kty": "OKP", "crv": "Ed25519", "kid": "ed", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" },
        { "kty": "oct", "kid": "sym", "k": "c2VjcmV0" },
        { "kty": "EC", "crv": "P-521", "kid": "p521", "x": "AA", "y": "AA" },
        { "kty": "RSA", "kid": "no-n", "e": "AQAB" },
        { "kty": 3 },
        "not an object",
        ec_jwk(&keys.ec256, "P-256", EC256_KID),
        ec_jwk(&keys.ec384, "P-256", "wrong-curve-length"),
    ]});
    let set = JsonWebKeySet::from_json(&document.to_string()).unwrap();
    assert_eq!(set.kids(), [RSA_KID, EC256_KID]);
    assert_eq!(set.len(), 2);
    assert!(!set.is_empty());
    let printed = format!("{set:?}");
    assert!(
        printed.contains(RSA_KID) && !printed.contains(document["keys"][0]["n"].as_str().unwrap()),
        "{printed}"
    );
}

#[test]
fn a_document_that_is_not_a_key_set_is_an_error() {
    for text in ["not json", "[]", "{}", r#"{"keys": {}}"#] {
        let error = JsonWebKeySet::from_json(text).unwrap_err();
        assert_eq!(error.code(), "jwks_malformed", "{text}");
    }
    let empty = JsonWebKeySet::from_json(r#"{"keys": []}"#).unwrap();
    assert!(empty.is_empty());
    let token = sign(&json!({ "alg": "RS256" }), &claims());
    let error = verify(
        &decode(&token).unwrap(),
        &empty,
        &[JwsAlgorithm::Rs256],
        None,
    )
    .unwrap_err();
    assert_eq!(error.code(), "jws_no_matching_key");
}

/// RFC 7638 §3.1's example key and its thumbprint; the optional members leave it unchanged.
#[test]
fn thumbprint_matches_rfc_7638_example() {
    let jwk = json!({
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    });
    let key = read_jwk(&jwk).expect("a usable RSA key");
    assert_eq!(
        key.thumbprint().as_str(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    assert_eq!(
        Value::Object(key.key.to_jwk()),
        json!({ "kty": "RSA", "n": jwk["n"], "e": "AQAB" }),
        "the JWK keeps the required members only"
    );
}

#[test]
fn thumbprints_ignore_leading_zeros_and_serialise_as_strings() {
    let keys = keys();
    let public = keys.rsa.public_key();
    let n = public.modulus().big_endian_without_leading_zero();
    let e = public.exponent().big_endian_without_leading_zero();
    let padded = PublicKey::rsa(&[&[0, 0][..], n].concat(), &[&[0][..], e].concat());
    assert_eq!(padded.thumbprint(), PublicKey::rsa(n, e).thumbprint());

    let thumbprint = PublicKey::rsa(n, e).thumbprint();
    let json = serde_json::to_string(&thumbprint).expect("serialises");
    assert_eq!(json, format!("\"{thumbprint}\""));
    let back: JwkThumbprint = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, thumbprint);
}
