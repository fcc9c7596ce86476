//! Protocol values that are not secrets, one type per kind, named after the specifications: an
//! issuer cannot be passed where a client id is meant, and each is checked once, where it enters
//! (a profile, a flag, a discovery document, the broker's configuration).
//!
//! Each is held exactly as written and serialised as that string, so every file and JSON output
//! reads as it did when these were plain strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::client_auth::{ClientAuthError, HmacAlgorithm, SigningAlgorithm};
use crate::discovery::{is_secure, PlainHttp};

/// Why an issuer was refused. The message quotes the issuer, which is public.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidIssuer {
    #[error("issuer {issuer:?} is not a URL: {reason}")]
    NotAUrl { issuer: String, reason: String },
    #[error("issuer {issuer:?} must not have a query or fragment")]
    QueryOrFragment { issuer: String },
    #[error("issuer {issuer:?} must use https (http is allowed on loopback only)")]
    NotSecure { issuer: String },
}

/// An issuer identifier (OpenID Connect Discovery §3 and §4.3, RFC 8414 §2): an absolute `https`
/// URL (or `http` on a loopback host, for providers on this machine) with no query or fragment.
///
/// It is held exactly as written, and two issuers are the same only when they are the same
/// string ([`IssuerUrl::matches`]): never normalised, no trailing slash added or taken away,
/// CIS2's `:443` kept (its tokens carry it).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IssuerUrl(String);

impl IssuerUrl {
    /// Checks `issuer` against the issuer rules and keeps it as written.
    pub fn new(issuer: impl Into<String>) -> Result<Self, InvalidIssuer> {
        let issuer = issuer.into();
        let url = match url::Url::parse(&issuer) {
            Ok(url) => url,
            Err(error) => {
                return Err(InvalidIssuer::NotAUrl {
                    issuer,
                    reason: error.to_string(),
                })
            }
        };
        if url.query().is_some() || url.fragment().is_some() {
            return Err(InvalidIssuer::QueryOrFragment { issuer });
        }
        if !is_secure(&url, PlainHttp::OnLoopback) {
            return Err(InvalidIssuer::NotSecure { issuer });
        }
        Ok(Self(issuer))
    }

    /// An issuer as the provider wrote it, unchecked: a discovery document's, held to the issuer
    /// asked for character for character ([`crate::ProviderMetadata::validate`]) before anything
    /// uses it, or a validated ID token's, which already was. Either equals an issuer that
    /// passed [`IssuerUrl::new`]; the check is not repeated, so a mismatch is named as one.
    pub(crate) fn published(issuer: String) -> Self {
        Self(issuer)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `claimed` (a token's `iss`, a document's `issuer`) is this issuer: the one
    /// comparison, exact, byte for byte.
    pub fn matches(&self, claimed: &str) -> bool {
        self.0 == claimed
    }
}

impl TryFrom<String> for IssuerUrl {
    type Error = InvalidIssuer;

    fn try_from(issuer: String) -> Result<Self, Self::Error> {
        Self::new(issuer)
    }
}

impl FromStr for IssuerUrl {
    type Err = InvalidIssuer;

    fn from_str(issuer: &str) -> Result<Self, Self::Err> {
        Self::new(issuer)
    }
}

impl From<IssuerUrl> for String {
    fn from(issuer: IssuerUrl) -> Self {
        issuer.0
    }
}

/// Defines a value kept exactly as given, with no rule of its own to check.
macro_rules! plain_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        /// As openidconnect-rs's value types do: the text, wherever a `&str` is read. The
        /// issuer has no such way out, so it is compared only by [`IssuerUrl::matches`].
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self(value.to_owned()))
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

plain_value!(
    /// The client identifier the provider registered (RFC 6749 §2.2): public, opaque, compared
    /// exactly (an ID token's `aud` and `azp`, a client assertion's `iss` and `sub`). careid has
    /// no rule of its own for its shape; the broker's configuration refuses an empty one.
    ClientId
);

plain_value!(
    /// The redirect URI sent in the authorization and token requests (OAuth 2.0 §3.1.2, RFC 8252
    /// §7.3): the provider compares it exactly with what was registered and with what the
    /// authorization request sent. careid writes its own in one place
    /// (`careid_core::RedirectHost::redirect_uri`).
    RedirectUri
);

impl RedirectUri {
    /// The loopback redirect URI on `host` (`127.0.0.1` or `localhost`), `port` and `path`.
    pub fn loopback(host: &str, port: u16, path: &str) -> Self {
        Self(format!("http://{host}:{port}{path}"))
    }
}

plain_value!(
    /// The `acr_values` of an authorization request (OpenID Connect Core §3.1.2.1): the
    /// authentication context classes asked for, space-separated, in order of preference. A
    /// value of only spaces, or an empty one, asks for none ([`AcrValues::asks_for_none`]).
    AcrValues
);

impl AcrValues {
    /// No class is asked for: the value is empty or only spaces (a profile's `acr_values = ""`
    /// overriding a built-in's).
    pub fn asks_for_none(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// The classes asked for, in order.
    pub fn values(&self) -> impl Iterator<Item = &str> {
        self.0.split_whitespace()
    }
}

/// A client assertion's `alg`: RS256, RS512 or ES256 for `private_key_jwt` (RFC 7523 §2.2),
/// HS256 or HS512 for `client_secret_jwt`. Case-sensitive, as in a JWS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertionAlgorithm {
    /// A `private_key_jwt` assertion, signed with the private key.
    Signing(SigningAlgorithm),
    /// A `client_secret_jwt` assertion, an HMAC keyed with the client secret.
    Hmac(HmacAlgorithm),
}

impl AssertionAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            AssertionAlgorithm::Signing(algorithm) => algorithm.as_str(),
            AssertionAlgorithm::Hmac(algorithm) => algorithm.as_str(),
        }
    }

    /// The signing algorithm, for a `private_key_jwt` assertion.
    pub fn signing(self) -> Option<SigningAlgorithm> {
        match self {
            AssertionAlgorithm::Signing(algorithm) => Some(algorithm),
            AssertionAlgorithm::Hmac(_) => None,
        }
    }

    /// The HMAC algorithm, for a `client_secret_jwt` assertion.
    pub fn hmac(self) -> Option<HmacAlgorithm> {
        match self {
            AssertionAlgorithm::Hmac(algorithm) => Some(algorithm),
            AssertionAlgorithm::Signing(_) => None,
        }
    }
}

impl FromStr for AssertionAlgorithm {
    type Err = ClientAuthError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if let Some(algorithm) = HmacAlgorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == name)
        {
            return Ok(AssertionAlgorithm::Hmac(algorithm));
        }
        name.parse().map(AssertionAlgorithm::Signing)
    }
}

impl TryFrom<String> for AssertionAlgorithm {
    type Error = ClientAuthError;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl From<AssertionAlgorithm> for String {
    fn from(algorithm: AssertionAlgorithm) -> Self {
        algorithm.as_str().to_owned()
    }
}

impl Serialize for AssertionAlgorithm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for AssertionAlgorithm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// `Display` and `Debug` show the value itself: none of these is a secret.
macro_rules! shown_as_text {
    ($($name:ident),*) => {$(
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }
    )*};
}

shown_as_text!(IssuerUrl, ClientId, RedirectUri, AcrValues);

impl fmt::Display for AssertionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_follow_the_discovery_rules() {
        for (issuer, code) in [
            ("https://am.example.nhs.uk:443/realm", None),
            ("https://idp.example", None),
            ("https://idp.example/realm/", None),
            ("http://localhost:8080/realm", None),
            ("http://127.0.0.1:9/x", None),
            ("http://[::1]:9/x", None),
            ("http://idp.example/realm", Some("not secure")),
            ("ftp://idp.example/realm", Some("not secure")),
            ("https://idp.example/realm?x=1", Some("query")),
            ("https://idp.example/realm#f", Some("query")),
            ("idp.example", Some("not a URL")),
            ("", Some("not a URL")),
        ] {
            let refused = match IssuerUrl::new(issuer) {
                Ok(_) => None,
                Err(InvalidIssuer::NotSecure { .. }) => Some("not secure"),
                Err(InvalidIssuer::QueryOrFragment { .. }) => Some("query"),
                Err(InvalidIssuer::NotAUrl { .. }) => Some("not a URL"),
            };
            assert_eq!(refused, code, "{issuer}");
        }
    }

    #[test]
    fn the_issuer_messages_are_the_profiles() {
        let message = |issuer: &str| IssuerUrl::new(issuer).unwrap_err().to_string();
        assert_eq!(
            message("http://idp.example"),
            r#"issuer "http://idp.example" must use https (http is allowed on loopback only)"#
        );
        assert_eq!(
            message("https://idp.example/?a"),
            r#"issuer "https://idp.example/?a" must not have a query or fragment"#
        );
        assert!(message("idp").starts_with(r#"issuer "idp" is not a URL: "#));
    }

    /// The issuer is held as written: CIS2's `:443` stays, a trailing slash is neither added nor
    /// taken away, and only the same string matches.
    #[test]
    fn issuers_are_kept_and_matched_exactly() {
        for written in [
            "https://am.example.nhs.uk:443/openam/realms/x",
            "https://idp.example",
            "https://idp.example/",
            "https://IDP.example/Realm",
        ] {
            let issuer = IssuerUrl::new(written).unwrap();
            assert_eq!(issuer.as_str(), written);
            assert_eq!(issuer.to_string(), written);
            assert!(issuer.matches(written));
        }
        let issuer = IssuerUrl::new("https://am.example.nhs.uk:443/realm").unwrap();
        for other in [
            "https://am.example.nhs.uk/realm",
            "https://am.example.nhs.uk:443/realm/",
            "https://AM.example.nhs.uk:443/realm",
            "https://am.example.nhs.uk:443/realm ",
        ] {
            assert!(!issuer.matches(other), "{other}");
            assert_ne!(Ok(issuer.clone()), IssuerUrl::new(other), "{other}");
        }
    }

    #[test]
    fn values_serialise_as_the_string_written() {
        let issuer = IssuerUrl::new("https://h:443/r").unwrap();
        assert_eq!(
            serde_json::to_string(&issuer).unwrap(),
            r#""https://h:443/r""#
        );
        let read: IssuerUrl = serde_json::from_str(r#""https://h:443/r""#).unwrap();
        assert_eq!(read, issuer);
        assert!(serde_json::from_str::<IssuerUrl>(r#""http://h/r""#).is_err());

        let client = ClientId::new("555000000001.apps.local");
        assert_eq!(
            serde_json::to_string(&client).unwrap(),
            r#""555000000001.apps.local""#
        );
        assert_eq!(
            serde_json::from_str::<ClientId>(r#""555000000001.apps.local""#).unwrap(),
            client
        );
        let acr = AcrValues::new("AAL3_ANY AAL2_ANY");
        assert_eq!(
            serde_json::to_string(&acr).unwrap(),
            r#""AAL3_ANY AAL2_ANY""#
        );
        assert_eq!(
            serde_json::from_str::<AcrValues>(r#""AAL3_ANY AAL2_ANY""#).unwrap(),
            acr
        );
        let uri = RedirectUri::loopback("127.0.0.1", 23741, "/callback");
        assert_eq!(
            serde_json::to_string(&uri).unwrap(),
            r#""http://127.0.0.1:23741/callback""#
        );
        assert_eq!(format!("{uri:?}"), r#""http://127.0.0.1:23741/callback""#);
    }

    #[test]
    fn client_ids_compare_exactly() {
        let client = ClientId::new("1.apps.local");
        assert_eq!(client, "1.apps.local");
        assert_ne!(client, "1.apps.local ");
        assert_ne!(client, ClientId::new("1.APPS.local"));
    }

    /// An empty `acr_values`, or one of spaces, asks for no class: a profile's `acr_values = ""`
    /// turns a built-in's default off.
    #[test]
    fn empty_acr_values_ask_for_none() {
        for (written, none, values) in [
            ("", true, &[][..]),
            ("  ", true, &[][..]),
            ("AAL3_ANY", false, &["AAL3_ANY"][..]),
            (
                "AAL3_ANY  AAL2_OR_AAL3_ANY",
                false,
                &["AAL3_ANY", "AAL2_OR_AAL3_ANY"][..],
            ),
        ] {
            let acr = AcrValues::new(written);
            assert_eq!(acr.asks_for_none(), none, "{written:?}");
            assert_eq!(acr.values().collect::<Vec<_>>(), values, "{written:?}");
            assert_eq!(acr.as_str(), written);
        }
    }

    #[test]
    fn assertion_algorithms_round_trip_and_unknown_names_are_refused() {
        for (name, expected) in [
            (
                "RS256",
                AssertionAlgorithm::Signing(SigningAlgorithm::Rs256),
            ),
            (
                "RS512",
                AssertionAlgorithm::Signing(SigningAlgorithm::Rs512),
            ),
            (
                "ES256",
                AssertionAlgorithm::Signing(SigningAlgorithm::Es256),
            ),
            ("HS256", AssertionAlgorithm::Hmac(HmacAlgorithm::Hs256)),
            ("HS512", AssertionAlgorithm::Hmac(HmacAlgorithm::Hs512)),
        ] {
            let parsed: AssertionAlgorithm = name.parse().unwrap();
            assert_eq!(parsed, expected);
            assert_eq!(parsed.as_str(), name);
            assert_eq!(serde_json::to_string(&parsed).unwrap(), format!("{name:?}"));
        }
        for name in ["rs256", "none", "HS384", "PS256", ""] {
            let error = name.parse::<AssertionAlgorithm>().unwrap_err();
            assert_eq!(error.code(), "signing_algorithm_unknown", "{name}");
        }
    }
}
