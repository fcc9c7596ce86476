//! Secret values, one type per kind (RFC 6749, RFC 7636, OpenID Connect Core): a refresh token
//! cannot be passed where an ID token is meant, and a nonce cannot be left out by accident.
//!
//! Every secret prints `[redacted]`, has no `Display` or `Serialize`, compares in constant time
//! and is wiped from memory when dropped. The one way out is `expose_secret()`, called only where the
//! value leaves for the keychain or the wire.

use std::fmt;

use zeroize::Zeroizing;

/// A secret string of no particular protocol kind: a keychain value, a PEM private key, a client
/// assertion, a sign-in URL that carries a hint.
#[derive(Clone)]
pub struct SecretString(Zeroizing<String>);

impl SecretString {
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The secret itself: call only where it leaves for the keychain or the wire.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([redacted])")
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for SecretString {}

/// Whether two byte strings are equal, in time that depends on their lengths only.
pub fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(left, right).is_ok()
}

/// Defines a secret of one protocol kind over [`SecretString`].
macro_rules! secret_kind {
    ($(#[$doc:meta])* $name:ident $(, $derive:ident)?) => {
        $(#[$doc])*
        $(#[derive($derive)])?
        pub struct $name(SecretString);

        impl $name {
            pub fn new(value: String) -> Self {
                Self(SecretString::new(value))
            }

            /// The secret itself: call only where it leaves for the keychain or the wire.
            pub fn expose_secret(&self) -> &str {
                self.0.expose_secret()
            }

            /// The value as a secret of no particular kind, for the keychain.
            pub fn as_secret(&self) -> &SecretString {
                &self.0
            }

            /// The value as a secret of no particular kind, for the keychain.
            pub fn into_secret(self) -> SecretString {
                self.0
            }
        }

        impl From<SecretString> for $name {
            /// A secret read back from where it was kept as this kind.
            fn from(secret: SecretString) -> Self {
                Self(secret)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.0 == other.0
            }
        }

        impl Eq for $name {}

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_kind!(
    /// The `state` of an authorization request (RFC 6749 §10.12): ties the callback to it.
    CsrfState
);
secret_kind!(
    /// The `nonce` of an authentication request (OIDC Core §3.1.2.1), which the ID token must
    /// repeat.
    Nonce
);
secret_kind!(
    /// The PKCE `code_verifier` (RFC 7636 §4.1). Not `Clone`: it is spent by the one code
    /// exchange it was made for.
    PkceVerifier
);
secret_kind!(
    /// An authorization code from the redirect (RFC 6749 §4.1.2), redeemed once.
    AuthorizationCode
);
secret_kind!(
    /// An access token (RFC 6749 §1.4).
    AccessToken,
    Clone
);
secret_kind!(
    /// A refresh token (RFC 6749 §1.5): kept in the OS keychain and nowhere else.
    RefreshToken,
    Clone
);
secret_kind!(
    /// An ID token as issued: a signed JWT (OIDC Core §2), also the `id_token_hint` of logout and
    /// the proof of a session shown to the broker.
    IdToken,
    Clone
);
secret_kind!(
    /// An install's DPoP private key as it is kept in the OS keychain: its PKCS#8 document,
    /// base64url (RFC 9449 §2; [`crate::DpopKey::to_stored`]). Not `Clone`: one copy goes to
    /// the keychain.
    DpopKeySecret
);
secret_kind!(
    /// A client secret (RFC 6749 §2.3.1), used as such or as the HMAC key of
    /// `client_secret_jwt` and of HS256 ID tokens.
    ClientSecret,
    Clone
);

impl PkceVerifier {
    /// The S256 `code_challenge` of this verifier (RFC 7636 §4.2): what the authorization
    /// request carries, and what a broker binds a sign-in's DPoP key to.
    pub fn s256_challenge(&self) -> String {
        s256_challenge(self.expose_secret())
    }
}

/// `BASE64URL(SHA256(verifier))`, RFC 7636 §4.2: the one place it is computed.
pub fn s256_challenge(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let secret = SecretString::new("refresh-token-value".to_owned());
        let printed = format!("{secret:?} {:#?}", secret);
        assert!(!printed.contains("refresh-token-value"), "{printed}");
        assert!(printed.contains("[redacted]"));
        assert_eq!(secret.expose_secret(), "refresh-token-value");
        let token = RefreshToken::new("refresh-token-value".to_owned());
        let printed = format!("{token:?} {:#?}", token);
        assert_eq!(printed, "RefreshToken([redacted]) RefreshToken([redacted])");
    }

    #[test]
    fn secrets_compare_whole_values() {
        assert_eq!(Nonce::new("abc".into()), Nonce::new("abc".into()));
        assert_ne!(Nonce::new("abc".into()), Nonce::new("abd".into()));
        assert_ne!(Nonce::new("abc".into()), Nonce::new("abcd".into()));
        assert_ne!(Nonce::new(String::new()), Nonce::new("a".into()));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn secrets_read_from_json() {
        let token: AccessToken = serde_json::from_str("\"at-1\"").expect("a string");
        assert_eq!(token.expose_secret(), "at-1");
    }
}
