//! The relying party's state against a software authenticator of the tests' own (ES256, `none`
//! attestation, WebAuthn §6.1 and §6.5), so each rule is checked without a browser.

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_ASN1_SIGNING};
use serde_json::{json, Value};

use super::*;
use crate::users::Directory;

const ISSUER: &str =
    "http://localhost:8765/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare";
const ORIGIN: &str = "http://localhost:8765";
const CLINICIAN: &str = "555057900101";
const PHARMACIST: &str = "555057940108";
const NOW: UnixTime = 1_700_000_000;

/// CBOR (RFC 8949) for the few shapes an authenticator's answer needs.
fn cbor_head(major: u8, value: usize, out: &mut Vec<u8>) {
    let major = major << 5;
    match value {
        0..=23 => out.push(major | value as u8),
        24..=0xff => out.extend([major | 24, value as u8]),
        _ => {
            out.push(major | 25);
            out.extend((value as u16).to_be_bytes());
        }
    }
}

fn cbor_int(value: i64, out: &mut Vec<u8>) {
    if value >= 0 {
        cbor_head(0, value as usize, out);
    } else {
        cbor_head(1, (-1 - value) as usize, out);
    }
}

fn cbor_bytes(bytes: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, bytes.len(), out);
    out.extend_from_slice(bytes);
}

fn cbor_text(text: &str, out: &mut Vec<u8>) {
    cbor_head(3, text.len(), out);
    out.extend_from_slice(text.as_bytes());
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A security key holding one ES256 credential.
struct SoftKey {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    sign_count: u32,
}

impl SoftKey {
    fn new(id: u8) -> Self {
        Self {
            key: EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).expect("a P-256 key"),
            credential_id: vec![id; 32],
            sign_count: 0,
        }
    }

    fn client_data(kind: &str, options: &str, origin: &str) -> Vec<u8> {
        let options: Value = serde_json::from_str(options).expect("options JSON");
        let challenge = options["challenge"].as_str().expect("a challenge");
        json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false })
            .to_string()
            .into_bytes()
    }

    /// rpIdHash, flags (UP, UV when `verified`, AT when attested) and the counter (§6.1).
    fn authenticator_data(&mut self, verified: bool, attested: bool) -> Vec<u8> {
        let mut data = digest::digest(&digest::SHA256, b"localhost")
            .as_ref()
            .to_vec();
        let flags = 0x01 | if verified { 0x04 } else { 0 } | if attested { 0x40 } else { 0 };
        data.push(flags);
        self.sign_count += 1;
        data.extend(self.sign_count.to_be_bytes());
        data
    }

    /// `navigator.credentials.create`'s answer, as `RegistrationResponseJSON`.
    fn register(&mut self, options: &str, verified: bool, origin: &str) -> String {
        let client_data = Self::client_data("webauthn.create", options, origin);
        let mut auth_data = self.authenticator_data(verified, true);
        auth_data.extend([0; 16]);
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        let point = self.key.public_key().as_ref();
        let mut cose = Vec::new();
        cbor_head(5, 5, &mut cose);
        for (label, value) in [(1, 2), (3, -7), (-1, 1)] {
            cbor_int(label, &mut cose);
            cbor_int(value, &mut cose);
        }
        cbor_int(-2, &mut cose);
        cbor_bytes(&point[1..33], &mut cose);
        cbor_int(-3, &mut cose);
        cbor_bytes(&point[33..65], &mut cose);
        auth_data.extend(cose);
        let mut attestation = Vec::new();
        cbor_head(5, 3, &mut attestation);
        cbor_text("fmt", &mut attestation);
        cbor_text("none", &mut attestation);
        cbor_text("attStmt", &mut attestation);
        cbor_head(5, 0, &mut attestation);
        cbor_text("authData", &mut attestation);
        cbor_bytes(&auth_data, &mut attestation);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "attestationObject": b64(&attestation),
                "transports": ["usb"],
            },
        })
        .to_string()
    }

    /// `navigator.credentials.get`'s answer, as `AuthenticationResponseJSON`.
    fn sign_in(&mut self, options: &str, verified: bool) -> String {
        let client_data = Self::client_data("webauthn.get", options, ORIGIN);
        let auth_data = self.authenticator_data(verified, false);
        let mut signed = auth_data.clone();
        signed.extend(digest::digest(&digest::SHA256, &client_data).as_ref());
        let signature = self
            .key
            .sign(&SystemRandom::new(), &signed)
            .expect("a signature");
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "cross-platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&auth_data),
                "signature": b64(signature.as_ref()),
            },
        })
        .to_string()
    }
}

fn user(id: &str) -> TestUser {
    Directory::builtin()
        .get(id)
        .expect("a built-in user")
        .clone()
}

/// Registers `key` for `user_id`'s `authenticator` through a whole ceremony.
fn register(
    party: &WebAuthn,
    key: &mut SoftKey,
    user_id: &str,
    authenticator: Authenticator,
    verified: bool,
) -> Result<Authenticator, CeremonyError> {
    let user = user(user_id);
    let options = party
        .begin_registration("pending", &user, authenticator)
        .expect("options");
    let response = key.register(&options, verified, ORIGIN);
    party.finish_registration("pending", &user, &response, NOW)
}

fn sign_in(
    party: &WebAuthn,
    key: &mut SoftKey,
    user_id: &str,
    authenticator: Authenticator,
    verified: bool,
) -> Result<Authenticator, CeremonyError> {
    let user = user(user_id);
    let options = party
        .begin_sign_in("pending", &user, authenticator)
        .expect("options")
        .expect("a registered credential");
    let response = key.sign_in(&options, verified);
    party.finish_sign_in("pending", &user, &response, NOW + 1)
}

#[test]
fn a_registered_key_signs_in_and_its_counter_moves() {
    let party = WebAuthn::for_issuer(ISSUER);
    assert_eq!(party.rp_id(), Ok("localhost"));
    let mut key = SoftKey::new(1);
    let security_key = Authenticator::SecurityKey;
    assert_eq!(
        register(&party, &mut key, CLINICIAN, security_key, true),
        Ok(security_key)
    );
    assert_eq!(party.count(CLINICIAN, security_key), 1);
    assert_eq!(party.count(CLINICIAN, Authenticator::WindowsHello), 0);
    assert_eq!(
        sign_in(&party, &mut key, CLINICIAN, security_key, true),
        Ok(security_key)
    );
    let listed = party.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sign_count, 2);
    assert_eq!(listed[0].last_used_at, Some(NOW + 1));
    assert!(listed[0].user_verified);
    // Only the start of the id is shown.
    assert_eq!(listed[0].credential_id.len(), 12);
}

#[test]
fn aal3_refuses_an_unverified_user_at_registration_and_sign_in() {
    let party = WebAuthn::for_issuer(ISSUER);
    let mut key = SoftKey::new(1);
    let security_key = Authenticator::SecurityKey;
    assert_eq!(
        register(&party, &mut key, CLINICIAN, security_key, false),
        Err(CeremonyError::NotVerified)
    );
    assert_eq!(party.count(CLINICIAN, security_key), 0);
    register(&party, &mut key, CLINICIAN, security_key, true).expect("registered");
    assert_eq!(
        sign_in(&party, &mut key, CLINICIAN, security_key, false),
        Err(CeremonyError::NotVerified)
    );
}

#[test]
fn a_passkey_at_aal2_takes_an_unverified_user() {
    let party = WebAuthn::for_issuer(ISSUER);
    let mut key = SoftKey::new(1);
    let passkey = Authenticator::Passkey;
    assert_eq!(
        register(&party, &mut key, PHARMACIST, passkey, false),
        Ok(passkey)
    );
    assert_eq!(
        sign_in(&party, &mut key, PHARMACIST, passkey, false),
        Ok(passkey)
    );
}

#[test]
fn a_second_key_registers_beside_the_first_and_a_stranger_is_not_recognised() {
    let party = WebAuthn::for_issuer(ISSUER);
    let security_key = Authenticator::SecurityKey;
    let mut first = SoftKey::new(1);
    let mut second = SoftKey::new(2);
    register(&party, &mut first, CLINICIAN, security_key, true).expect("first");
    // The second registration excludes the first key's credential.
    let options = party
        .begin_registration("pending", &user(CLINICIAN), security_key)
        .expect("options");
    let excluded: Value = serde_json::from_str(&options).expect("JSON");
    assert_eq!(
        excluded["excludeCredentials"][0]["id"],
        b64(&first.credential_id)
    );
    register(&party, &mut second, CLINICIAN, security_key, true).expect("second");
    assert_eq!(party.count(CLINICIAN, security_key), 2);
    for key in [&mut first, &mut second] {
        assert_eq!(
            sign_in(&party, key, CLINICIAN, security_key, true),
            Ok(security_key)
        );
    }
    // The same key twice is refused.
    assert_eq!(
        register(&party, &mut first, CLINICIAN, security_key, true),
        Err(CeremonyError::AlreadyRegistered)
    );
    // A key the mock does not know.
    let mut stranger = SoftKey::new(3);
    assert_eq!(
        sign_in(&party, &mut stranger, CLINICIAN, security_key, true),
        Err(CeremonyError::UnknownCredential)
    );
    assert_eq!(party.remove(CLINICIAN, Some(security_key)), 2);
    assert_eq!(party.count(CLINICIAN, security_key), 0);
}

#[test]
fn another_origin_a_replayed_answer_and_a_damaged_one_are_refused() {
    let party = WebAuthn::for_issuer(ISSUER);
    let user = user(CLINICIAN);
    let security_key = Authenticator::SecurityKey;
    let mut key = SoftKey::new(1);
    let options = party
        .begin_registration("pending", &user, security_key)
        .expect("options");
    let elsewhere = key.register(&options, true, "http://localhost:9999");
    assert!(matches!(
        party.finish_registration("pending", &user, &elsewhere, NOW),
        Err(CeremonyError::Refused(_))
    ));
    // The ceremony was spent by the refused answer: the right one now finds none.
    let right = key.register(&options, true, ORIGIN);
    assert_eq!(
        party.finish_registration("pending", &user, &right, NOW),
        Err(CeremonyError::NoCeremony)
    );
    party
        .begin_registration("pending", &user, security_key)
        .expect("options");
    assert_eq!(
        party.finish_registration("pending", &user, "{\"not\": \"webauthn\"}", NOW),
        Err(CeremonyError::Malformed)
    );
    assert_eq!(party.count(CLINICIAN, security_key), 0);
}

#[test]
fn credentials_survive_a_snapshot_and_restore() {
    let party = WebAuthn::for_issuer(ISSUER);
    let mut key = SoftKey::new(1);
    let security_key = Authenticator::SecurityKey;
    register(&party, &mut key, CLINICIAN, security_key, true).expect("registered");
    let saved = serde_json::to_string(&party.snapshot()).expect("JSON");
    assert!(!format!("{:?}", party.snapshot()).contains(&b64(&key.credential_id)));
    let restarted = WebAuthn::for_issuer(ISSUER);
    let generation = restarted.generation();
    restarted.restore(serde_json::from_str(&saved).expect("restored"));
    assert_ne!(restarted.generation(), generation);
    assert_eq!(
        sign_in(&restarted, &mut key, CLINICIAN, security_key, true),
        Ok(security_key)
    );
}

#[test]
fn an_ip_address_issuer_has_no_relying_party() {
    let party = WebAuthn::for_issuer("http://127.0.0.1:8765/realm");
    let reason = party.rp_id().expect_err("no RP ID");
    assert!(reason.contains("IP address"), "{reason}");
    assert!(matches!(
        party.begin_registration("pending", &user(CLINICIAN), Authenticator::SecurityKey),
        Err(CeremonyError::Unavailable(_))
    ));
}
