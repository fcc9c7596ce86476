//! Claims several tests build alike: a signed-in session's ID token and a back-channel logout
//! token, and one way to vary a set of claims.

use serde_json::{json, Value};

/// The `events` member that makes a JWT a logout token (Back-Channel Logout 1.0 §2.4).
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// An ID token's claims for a session `sid` of `sub` begun at `auth_time` with client `client`:
/// issued 5 seconds after, valid an hour.
pub fn session_id_token_claims(
    issuer: &str,
    client: &str,
    sub: &str,
    sid: &str,
    auth_time: u64,
) -> Value {
    json!({
        "iss": issuer, "sub": sub, "aud": client, "azp": client, "sid": sid,
        "iat": auth_time + 5, "exp": auth_time + 3600, "auth_time": auth_time,
    })
}

/// A logout token's claims naming neither session nor user: add `sid` and/or `sub`.
pub fn logout_token_claims(issuer: &str, client: &str, iat: u64, jti: &str) -> Value {
    json!({
        "iss": issuer, "aud": client, "iat": iat, "jti": jti,
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    })
}

/// `claims` with the members of `changes` replaced, or removed where a change is `null`.
pub fn with_changes(mut claims: Value, changes: &Value) -> Value {
    for (name, value) in changes.as_object().expect("changes as an object") {
        if value.is_null() {
            claims
                .as_object_mut()
                .expect("claims as an object")
                .remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// A random value for a `jti`: 16 bytes, base64url.
pub fn random_jti() -> String {
    let mut bytes = [0u8; 16];
    aws_lc_rs::rand::fill(&mut bytes).expect("random bytes");
    crate::base64url(bytes)
}
