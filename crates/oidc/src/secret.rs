//! Secret values: refresh tokens, client secrets, private keys.

use std::fmt;

use zeroize::Zeroizing;

/// A secret string. `Debug` prints `[redacted]`, there is no `Display` or `Serialize`, and the
/// memory is wiped when it is dropped, so a secret cannot reach a log or a file by accident.
#[derive(Clone, PartialEq, Eq)]
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
    }
}
