//! The token endpoint: the authorization code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OpenID
//! Connect Core 1.0 §3.1.3) and the refresh token grant with rotation and reuse detection
//! (RFC 6749 §6, RFC 9700 §4.14.2); CIS2-shaped ID and access tokens.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use crate::activity::TokenKind;
use crate::client_auth::{authenticate_form_with, FormParameters};
use crate::clients::RegisteredClient;
use crate::error::{ErrorCode, OAuthError};
use crate::keys::SigningAlgorithm;
use crate::provider::{now, Provider};
use crate::store::{AuthorizationRequest, CodeRedemption, GrantId, RefreshUse, SignIn};

/// The realm as AM names it inside its tokens.
const AM_REALM: &str = "/NHSIdentity/Healthcare";

pub(crate) async fn handle(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = FormParameters::parse(&body);
    match exchange(&provider, &headers, &form).await {
        Ok(body) => {
            let mut response = Json(body).into_response();
            // RFC 6749 §5.1: token responses must not be cached.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => error.into_response(),
    }
}

async fn exchange(
    provider: &Provider,
    headers: &HeaderMap,
    form: &FormParameters,
) -> Result<Value, OAuthError> {
    let methods = provider.settings.token_auth_methods.as_deref();
    let client = authenticate_form_with(provider, headers, form, methods).await?;
    // Faults hook: token endpoint errors.
    if let Some(error) = crate::faults::token_error(provider, form.get("grant_type")) {
        return Err(error);
    }
    match form.get("grant_type") {
        Some("authorization_code") => authorization_code(provider, client, form),
        Some("refresh_token") => refresh(provider, client, form),
        Some(other) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            format!("grant_type {other} is not supported"),
        )),
        None => Err(OAuthError::invalid_request("grant_type is missing")),
    }
}

fn authorization_code(
    provider: &Provider,
    client: &RegisteredClient,
    form: &FormParameters,
) -> Result<Value, OAuthError> {
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let now = now();
    let (request, sign_in) = match provider.store.redeem_code(code, now) {
        CodeRedemption::Fresh(details) => *details,
        CodeRedemption::Replayed => {
            return Err(OAuthError::invalid_grant(
                "the code was already used; the tokens issued from it are revoked",
            ))
        }
        CodeRedemption::Unknown => {
            return Err(OAuthError::invalid_grant("the code is unknown or expired"))
        }
    };
    if request.client_id != client.client_id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if form.get("redirect_uri") != Some(request.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    check_verifier(request.code_challenge.as_deref(), form.get("code_verifier"))?;

    let lifetime = if crate::modes::refresh_tokens(provider, client) {
        provider.settings.refresh_token_lifetime
    } else {
        provider.settings.token_lifetime
    };
    let grant = provider
        .store
        .create_grant(code, request.clone(), sign_in.clone(), now + lifetime);
    // The session now has a client to notify when it ends (Back-Channel Logout 1.0 §2.7).
    provider
        .sessions
        .add_client(&sign_in.sid, &client.client_id);
    Ok(issue(
        provider,
        client,
        grant,
        &request,
        &sign_in,
        Some(code),
        now,
    ))
}

/// RFC 7636 §4.6, and RFC 9700 §2.1.1: a verifier without a challenge is refused too, since
/// accepting it would hide a PKCE downgrade.
fn check_verifier(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent but the authorization request had no code_challenge",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is missing")),
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier.bytes().all(|byte| {
                    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
                });
            let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes());
            if well_formed && URL_SAFE_NO_PAD.encode(digest.as_ref()) == challenge {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge",
                ))
            }
        }
    }
}

fn refresh(
    provider: &Provider,
    client: &RegisteredClient,
    form: &FormParameters,
) -> Result<Value, OAuthError> {
    if !crate::modes::refresh_tokens(provider, client) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client is not issued refresh tokens",
        ));
    }
    let token = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let now = now();
    match provider
        .store
        .use_refresh_token(token, &client.client_id, now)
    {
        RefreshUse::Current(grant_id, grant) => {
            if let Some(scope) = form.get("scope") {
                // RFC 6749 §6: a refresh may narrow the scope but never widen it.
                if scope
                    .split(' ')
                    .any(|wanted| !grant.request.has_scope(wanted))
                {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidScope,
                        "the scope exceeds the original grant",
                    ));
                }
            }
            // No nonce: OpenID Connect Core 1.0 §12.2 leaves it out of refreshed ID tokens.
            let mut request = grant.request.clone();
            request.nonce = None;
            Ok(issue(
                provider,
                client,
                grant_id,
                &request,
                &grant.sign_in,
                None,
                now,
            ))
        }
        RefreshUse::Reused => Err(OAuthError::invalid_grant(
            "the refresh token was already used; every token of its grant is revoked",
        )),
        RefreshUse::Invalid => Err(OAuthError::invalid_grant(
            "the refresh token is unknown, expired, revoked or not this client's",
        )),
    }
}

/// Signs the access and ID tokens for a grant and stores them, with a new refresh token when
/// the client is registered for them.
fn issue(
    provider: &Provider,
    client: &RegisteredClient,
    grant: GrantId,
    request: &AuthorizationRequest,
    sign_in: &SignIn,
    code: Option<&str>,
    now: u64,
) -> Value {
    let settings = &provider.settings;
    let expires_at = now + settings.token_lifetime;
    let access_token = access_token(provider, request, sign_in, grant, now, expires_at);
    let id_token = id_token(provider, client, request, sign_in, &access_token, code, now);
    provider
        .store
        .insert_access_token(access_token.clone(), grant, expires_at);
    // Only the claims are kept, for the admin page: never the tokens themselves.
    let activity = &provider.activity;
    activity.record_token(TokenKind::IdToken, &client.client_id, now, &id_token);
    activity.record_token(
        TokenKind::AccessToken,
        &client.client_id,
        now,
        &access_token,
    );

    let mut body = json!({
        "access_token": access_token,
        "id_token": id_token,
        "token_type": "Bearer",
        // CIS2 fixtures show one second under the hour.
        "expires_in": settings.token_lifetime.saturating_sub(1),
        "scope": request.scopes.join(" "),
    });
    if let Some(nonce) = &request.nonce {
        body["nonce"] = json!(nonce);
    }
    crate::faults::token_response(provider, &mut body, code.is_none());
    if crate::modes::refresh_tokens(provider, client) {
        let refresh_token = provider.random(settings.refresh_token_bytes);
        provider.store.insert_refresh_token(
            refresh_token.clone(),
            grant,
            &client.client_id,
            now + settings.refresh_token_lifetime,
        );
        body["refresh_token"] = json!(refresh_token);
    }
    body
}

/// A CIS2 access token: a signed JWT with `iss` and deliberately no `aud` (REFERENCE §8).
fn access_token(
    provider: &Provider,
    request: &AuthorizationRequest,
    sign_in: &SignIn,
    grant: GrantId,
    now: u64,
    expires_at: u64,
) -> String {
    let mut claims = json!({
        "iss": provider.issuer.as_str(),
        "sub": sign_in.user_id,
        "subname": sign_in.user_id,
        "client_id": request.client_id,
        "scope": request.scopes,
        "auth_time": sign_in.auth_time,
        "iat": now,
        "nbf": now,
        "exp": expires_at,
        "jti": provider.random(16),
        "authGrantId": format!("grant-{grant}"),
        "auditTrackingId": provider.random(16),
        "tokenName": "access_token",
        "token_type": "Bearer",
        "realm": AM_REALM,
    });
    if let Some(claims) = claims.as_object_mut() {
        crate::modes::token_times(provider, claims);
    }
    provider.keys.sign(SigningAlgorithm::RS256, "JWT", &claims)
}

/// An ID token with the claims of `examples/id-token-payload.json`.
fn id_token(
    provider: &Provider,
    client: &RegisteredClient,
    request: &AuthorizationRequest,
    sign_in: &SignIn,
    access_token: &str,
    code: Option<&str>,
    now: u64,
) -> String {
    let alg = client.id_token_signed_response_alg;
    let user_level = provider
        .users
        .get(&sign_in.user_id)
        .map_or(3, |user| user.id_assurance_level());
    let level = |value: u8| {
        if crate::modes::assurance_levels_as_numbers(provider) {
            json!(value)
        } else {
            json!(value.to_string())
        }
    };
    let mut claims = Map::new();
    let mut put = |name: &str, value: Value| {
        claims.insert(name.to_owned(), value);
    };
    put("iss", json!(provider.issuer.as_str()));
    put("sub", json!(sign_in.user_id));
    put("aud", json!(client.client_id));
    put("azp", json!(client.client_id));
    put("iat", json!(now));
    put("exp", json!(now + provider.settings.token_lifetime));
    put("auth_time", json!(sign_in.auth_time));
    if let Some(nonce) = &request.nonce {
        put("nonce", json!(nonce));
    }
    put("acr", json!(sign_in.acr));
    put("amr", json!([sign_in.authenticator.amr()]));
    put("id_assurance_level", level(user_level));
    put(
        "authentication_assurance_level",
        level(sign_in.authenticator.assurance_level()),
    );
    if let Some(role) = &sign_in.selected_roleid {
        put("selected_roleid", json!(role));
    }
    put("sid", json!(sign_in.sid));
    put("at_hash", json!(alg.half_hash(access_token)));
    if let Some(code) = code {
        put("c_hash", json!(alg.half_hash(code)));
    }
    if let Some(state) = &request.state {
        put("s_hash", json!(alg.half_hash(state)));
    }
    put("auditTrackingId", json!(provider.random(16)));
    put("tokenName", json!("id_token"));
    put("tokenType", json!("JWTToken"));
    put("realm", json!(AM_REALM));
    put("subname", json!(sign_in.user_id));
    put(
        "org.forgerock.openidconnect.ops",
        json!(provider.random(16)),
    );
    // Modes, then faults: the one place ID tokens are minted.
    crate::modes::id_token(provider, &mut claims);
    crate::faults::mint_id_token(provider, alg, claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_checks_follow_rfc_7636() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        let cases = [
            (Some(challenge), Some(verifier), true),
            (
                Some(challenge),
                Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK"),
                false,
            ),
            (Some(challenge), None, false),
            (None, Some(verifier), false),
            (None, None, true),
            (Some(challenge), Some("short"), false),
        ];
        for (challenge, verifier, accepted) in cases {
            let result = check_verifier(challenge, verifier);
            assert_eq!(result.is_ok(), accepted, "{challenge:?} {verifier:?}");
            if let Err(error) = result {
                assert_eq!(error.code(), ErrorCode::InvalidGrant);
            }
        }
    }
}
