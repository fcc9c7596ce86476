//! The ways a CIS2 user can authenticate, with the `acr`, `amr` and assurance level each yields
//! (REFERENCE §5, OpenID Connect Core 1.0 §2 and §3.1.2.1 for `acr_values`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One authenticator offered by CIS2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Authenticator {
    /// A smartcard over HSCN with Identity Agent.
    Smartcard,
    /// Windows Hello for Business.
    WindowsHello,
    /// A FIDO2 security key.
    SecurityKey,
    /// The NHS CIS2 iPad app.
    Ipad,
    /// An authenticator app such as Microsoft Authenticator (TOTP).
    AuthenticatorApp,
    /// NHSmail.
    Nhsmail,
    /// A passkey, offered at AAL2.
    Passkey,
    /// A user name and password: development environments only.
    Password,
}

impl Authenticator {
    pub const ALL: [Self; 8] = [
        Self::Smartcard,
        Self::WindowsHello,
        Self::SecurityKey,
        Self::Ipad,
        Self::AuthenticatorApp,
        Self::Nhsmail,
        Self::Passkey,
        Self::Password,
    ];

    /// The name used in data files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Smartcard => "smartcard",
            Self::WindowsHello => "windows_hello",
            Self::SecurityKey => "security_key",
            Self::Ipad => "ipad",
            Self::AuthenticatorApp => "authenticator_app",
            Self::Nhsmail => "nhsmail",
            Self::Passkey => "passkey",
            Self::Password => "password",
        }
    }

    /// The name shown on the sign-in page.
    pub fn label(self) -> &'static str {
        match self {
            Self::Smartcard => "Smartcard",
            Self::WindowsHello => "Windows Hello for Business",
            Self::SecurityKey => "Security key",
            Self::Ipad => "NHS CIS2 Authentication iPad app",
            Self::AuthenticatorApp => "Authenticator app",
            Self::Nhsmail => "NHSmail",
            Self::Passkey => "Passkey",
            Self::Password => "Password (development only)",
        }
    }

    /// The authentication assurance level (NIST SP 800-63B) the authenticator reaches.
    pub fn assurance_level(self) -> u8 {
        match self {
            Self::Smartcard | Self::WindowsHello | Self::SecurityKey | Self::Ipad => 3,
            Self::AuthenticatorApp | Self::Nhsmail | Self::Passkey => 2,
            Self::Password => 1,
        }
    }

    /// The `amr` value. Only `N3_SMARTCARD` and `pwd` are seen in real CIS2 tokens; the others
    /// follow the naming pattern of the `acr` values and are unverified (REFERENCE §5).
    pub fn amr(self) -> &'static str {
        match self {
            Self::Smartcard => "N3_SMARTCARD",
            Self::WindowsHello | Self::SecurityKey | Self::Passkey => "FIDO2",
            Self::Ipad => "IOS",
            Self::AuthenticatorApp => "TOTP",
            Self::Nhsmail => "NHSMAIL",
            Self::Password => "pwd",
        }
    }

    /// The `acr` a sign-in with this authenticator carries when the client asked for none.
    fn default_acr(self) -> &'static str {
        match self.assurance_level() {
            3 => "AAL3_ANY",
            2 => "AAL2_ANY",
            _ => "AAL1_USERPASS",
        }
    }

    /// Whether one `acr` value admits this authenticator; `None` for a value CIS2 does not know.
    fn admitted_by(self, acr: &str) -> Option<bool> {
        let admitted = match acr {
            "AAL3_ANY" => self.assurance_level() >= 3,
            "AAL2_OR_AAL3_ANY" | "AAL2_ANY" => self.assurance_level() >= 2,
            "AAL1_USERPASS" => true,
            "AAL3_IOS" => self == Self::Ipad,
            "AAL3_FIDO2" => matches!(self, Self::WindowsHello | Self::SecurityKey),
            "AAL3_N3_SMARTCARD" | "AAL3_CIS2_SMARTCARD" | "AAL3_SMARTCARD" => {
                self == Self::Smartcard
            }
            "AAL2_TOTP" => self == Self::AuthenticatorApp,
            "AAL2_NHSMAIL" => self == Self::Nhsmail,
            _ => return None,
        };
        Some(admitted)
    }

    /// Why the requested `acr_values` refuse this authenticator, in words for the sign-in page;
    /// `None` when they admit it.
    pub(crate) fn refusal(self, requested: &[String]) -> Option<String> {
        if self.acr_for(requested).is_some() {
            return None;
        }
        let by_level = requested.iter().any(|acr| {
            matches!(
                acr.as_str(),
                "AAL3_ANY" | "AAL2_OR_AAL3_ANY" | "AAL2_ANY" | "AAL1_USERPASS"
            )
        });
        Some(if by_level {
            format!(
                "AAL{} is below the assurance level the application asked for",
                self.assurance_level()
            )
        } else {
            format!(
                "the application asked for a specific authenticator ({})",
                requested.join(" ")
            )
        })
    }

    /// The `acr` of a sign-in with this authenticator for the requested `acr_values`: the first
    /// requested value that admits it, or `None` when every known requested value refuses it.
    /// Values unknown to CIS2 are ignored, since `acr_values` is a voluntary request.
    pub fn acr_for(self, requested: &[String]) -> Option<String> {
        let mut any_known = false;
        for acr in requested {
            match self.admitted_by(acr) {
                Some(true) => return Some(acr.clone()),
                Some(false) => any_known = true,
                None => {}
            }
        }
        if any_known {
            None
        } else {
            Some(self.default_acr().to_owned())
        }
    }
}

impl fmt::Display for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An authenticator name that is not one of [`Authenticator::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown authenticator {0:?}")]
pub struct UnknownAuthenticator(pub String);

impl FromStr for Authenticator {
    type Err = UnknownAuthenticator;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|authenticator| authenticator.name() == name)
            .ok_or_else(|| UnknownAuthenticator(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acr(authenticator: Authenticator, requested: &[&str]) -> Option<String> {
        let requested: Vec<String> = requested.iter().map(|value| value.to_string()).collect();
        authenticator.acr_for(&requested)
    }

    #[test]
    fn acr_values_admit_authenticators_by_level_and_mechanism() {
        use Authenticator::*;
        let cases: &[(Authenticator, &[&str], Option<&str>)] = &[
            (Smartcard, &[], Some("AAL3_ANY")),
            (AuthenticatorApp, &[], Some("AAL2_ANY")),
            (Password, &[], Some("AAL1_USERPASS")),
            (Smartcard, &["AAL2_OR_AAL3_ANY"], Some("AAL2_OR_AAL3_ANY")),
            (AuthenticatorApp, &["AAL3_ANY"], None),
            (
                AuthenticatorApp,
                &["AAL3_ANY", "AAL2_ANY"],
                Some("AAL2_ANY"),
            ),
            (SecurityKey, &["AAL3_FIDO2"], Some("AAL3_FIDO2")),
            (Smartcard, &["AAL3_FIDO2"], None),
            (Nhsmail, &["AAL2_TOTP"], None),
            (Ipad, &["SOMETHING_NEW"], Some("AAL3_ANY")),
        ];
        for (authenticator, requested, expected) in cases {
            assert_eq!(
                acr(*authenticator, requested).as_deref(),
                *expected,
                "{authenticator} for {requested:?}"
            );
        }
    }

    #[test]
    fn readme_table_matches_the_code() {
        let readme = include_str!("../README.md");
        for authenticator in Authenticator::ALL {
            let row = readme
                .lines()
                .find(|line| line.starts_with(&format!("| `{authenticator}` |")))
                .unwrap_or_else(|| panic!("a README row for {authenticator}"));
            let level = format!("| AAL{} |", authenticator.assurance_level());
            let acr = format!("`{}`", authenticator.default_acr());
            let amr = format!("| `{}`", authenticator.amr());
            for expected in [&level, &acr, &amr] {
                assert!(row.contains(expected.as_str()), "{expected} in {row}");
            }
            let verified = matches!(authenticator.amr(), "N3_SMARTCARD" | "pwd");
            assert_eq!(!row.contains("UNVERIFIED"), verified, "{row}");
        }
    }

    #[test]
    fn names_round_trip() {
        for authenticator in Authenticator::ALL {
            assert_eq!(authenticator.name().parse(), Ok(authenticator));
        }
        assert!("fingerprint".parse::<Authenticator>().is_err());
    }
}
