//! The one table of CIS2's authenticators for runs: a plan's names, the words a tester is told
//! ("Use your FIDO2 security key"), the assurance level and `amr` each should give, which
//! `acr_values` admit it (REFERENCE §5), and what only a person at the browser can confirm.
//!
//! The names are the mock's (`data/users.json`), so one plan reads the same against the mock and
//! CIS2. The levels and admissions are careid's own expectation of CIS2, written apart from the
//! mock's table on purpose: the client and the fake must not share a bug.

use serde::{Deserialize, Serialize};

use crate::values::AcrValues;

/// One way a CIS2 user authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Authenticator {
    Smartcard,
    WindowsHello,
    SecurityKey,
    Ipad,
    AuthenticatorApp,
    Nhsmail,
    Passkey,
    Password,
}

/// The `amr` value a sign-in with an authenticator should carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedAmr {
    pub value: &'static str,
    /// Seen in real CIS2 tokens (only `N3_SMARTCARD` and `pwd`); the others follow the naming
    /// pattern and are unverified, so a different value is a warning, not a failure.
    pub seen_from_cis2: bool,
}

impl Authenticator {
    pub const ALL: [Authenticator; 8] = [
        Authenticator::Smartcard,
        Authenticator::WindowsHello,
        Authenticator::SecurityKey,
        Authenticator::Ipad,
        Authenticator::AuthenticatorApp,
        Authenticator::Nhsmail,
        Authenticator::Passkey,
        Authenticator::Password,
    ];

    /// The name in plans, case ids and the mock's auto-login.
    pub fn name(self) -> &'static str {
        match self {
            Authenticator::Smartcard => "smartcard",
            Authenticator::WindowsHello => "windows_hello",
            Authenticator::SecurityKey => "security_key",
            Authenticator::Ipad => "ipad",
            Authenticator::AuthenticatorApp => "authenticator_app",
            Authenticator::Nhsmail => "nhsmail",
            Authenticator::Passkey => "passkey",
            Authenticator::Password => "password",
        }
    }

    /// The authenticator in words, as a tester knows it.
    pub fn words(self) -> &'static str {
        match self {
            Authenticator::Smartcard => "smartcard",
            Authenticator::WindowsHello => "Windows Hello for Business",
            Authenticator::SecurityKey => "FIDO2 security key",
            Authenticator::Ipad => "NHS CIS2 Authentication iPad app",
            Authenticator::AuthenticatorApp => {
                "authenticator app (such as Microsoft Authenticator)"
            }
            Authenticator::Nhsmail => "NHSmail account",
            Authenticator::Passkey => "passkey",
            Authenticator::Password => "user name and password (development environments only)",
        }
    }

    /// What the tester is told to do in the browser.
    pub fn instruction(self) -> String {
        match self {
            Authenticator::WindowsHello => "Use Windows Hello for Business".to_owned(),
            Authenticator::Password => {
                "Use your user name and password (development environments only)".to_owned()
            }
            other => format!("Use your {}", other.words()),
        }
    }

    /// The authentication assurance level (NIST SP 800-63B) CIS2 gives it.
    pub fn level(self) -> u8 {
        match self {
            Authenticator::Smartcard
            | Authenticator::WindowsHello
            | Authenticator::SecurityKey
            | Authenticator::Ipad => 3,
            Authenticator::AuthenticatorApp | Authenticator::Nhsmail | Authenticator::Passkey => 2,
            Authenticator::Password => 1,
        }
    }

    /// The `amr` value CIS2 should send (REFERENCE §5); whether it was seen for real comes from
    /// [`crate::claims::amr_meaning`], the one table of `amr` values.
    pub fn amr(self) -> ExpectedAmr {
        let value = match self {
            Authenticator::Smartcard => "N3_SMARTCARD",
            Authenticator::WindowsHello | Authenticator::SecurityKey | Authenticator::Passkey => {
                "FIDO2"
            }
            Authenticator::Ipad => "IOS",
            Authenticator::AuthenticatorApp => "TOTP",
            Authenticator::Nhsmail => "NHSMAIL",
            Authenticator::Password => "pwd",
        };
        ExpectedAmr {
            value,
            seen_from_cis2: crate::claims::amr_meaning(value).seen_from_cis2,
        }
    }

    /// Whether one `acr` value admits this authenticator; `None` for a value careid does not
    /// know (CIS2 treats `acr_values` as a voluntary request, so such a value decides nothing).
    fn admitted_by_value(self, acr: &str) -> Option<bool> {
        let admitted = match acr {
            "AAL3_ANY" => self.level() >= 3,
            "AAL2_OR_AAL3_ANY" | "AAL2_ANY" => self.level() >= 2,
            "AAL1_USERPASS" => true,
            "AAL3_IOS" => self == Authenticator::Ipad,
            "AAL3_FIDO2" => matches!(
                self,
                Authenticator::WindowsHello | Authenticator::SecurityKey
            ),
            "AAL3_N3_SMARTCARD" | "AAL3_CIS2_SMARTCARD" | "AAL3_SMARTCARD" => {
                self == Authenticator::Smartcard
            }
            "AAL2_TOTP" => self == Authenticator::AuthenticatorApp,
            "AAL2_NHSMAIL" => self == Authenticator::Nhsmail,
            _ => return None,
        };
        Some(admitted)
    }

    /// Whether `acr_values` let a user sign in with this authenticator: one known value
    /// admitting it is enough; when none is known, nothing is refused. Asking for AAL2 admits
    /// AAL3 authenticators; asking for AAL3 refuses AAL2 ones (REFERENCE §5).
    pub fn admitted_by(self, acr_values: Option<&AcrValues>) -> bool {
        let Some(acr_values) = acr_values else {
            return true;
        };
        let known: Vec<bool> = acr_values
            .values()
            .filter_map(|value| self.admitted_by_value(value))
            .collect();
        known.is_empty() || known.contains(&true)
    }

    /// What only a person at the browser can confirm happened, listed as REVIEW steps when a
    /// person signs in (never when the mock signs the case in without a page).
    pub fn review_steps(self) -> &'static [&'static str] {
        match self {
            Authenticator::Smartcard => &["CIS2 asked for the smartcard and its passcode"],
            Authenticator::WindowsHello => {
                &["Windows asked for Windows Hello (face, fingerprint or PIN)"]
            }
            Authenticator::SecurityKey => {
                &["The browser asked for the security key's PIN and a touch of the key"]
            }
            Authenticator::Ipad => &["CIS2 asked you to approve the sign-in in the iPad app"],
            Authenticator::AuthenticatorApp => {
                &["CIS2 asked for the six-digit code from the authenticator app"]
            }
            Authenticator::Nhsmail => &["CIS2 sent you to NHSmail to sign in"],
            Authenticator::Passkey => &["The browser or device asked to use the passkey"],
            Authenticator::Password => &["CIS2 asked for a user name and password"],
        }
    }

    /// When the sign-in page should not offer this authenticator at all: the step to confirm.
    pub fn refusal_review_step(self, acr_values: &str) -> String {
        format!(
            "CIS2 did not let you use your {} for acr_values {acr_values} (AAL{} is not enough)",
            self.words(),
            self.level()
        )
    }
}

impl std::fmt::Display for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acr(values: &str) -> AcrValues {
        AcrValues::new(values)
    }

    #[test]
    fn each_authenticator_is_admitted_by_the_levels_and_mechanisms_that_name_it() {
        use Authenticator as A;
        let cases: &[(&str, &[Authenticator])] = &[
            (
                "AAL3_ANY",
                &[A::Smartcard, A::WindowsHello, A::SecurityKey, A::Ipad],
            ),
            (
                "AAL2_OR_AAL3_ANY",
                &[
                    A::Smartcard,
                    A::WindowsHello,
                    A::SecurityKey,
                    A::Ipad,
                    A::AuthenticatorApp,
                    A::Nhsmail,
                    A::Passkey,
                ],
            ),
            ("AAL3_FIDO2", &[A::WindowsHello, A::SecurityKey]),
            ("AAL2_TOTP AAL3_IOS", &[A::Ipad, A::AuthenticatorApp]),
            ("AAL1_USERPASS", &A::ALL),
            // Unknown values ask nothing careid can judge: nothing is refused.
            ("SOMETHING_NEW", &A::ALL),
        ];
        for (values, admitted) in cases {
            for authenticator in A::ALL {
                assert_eq!(
                    authenticator.admitted_by(Some(&acr(values))),
                    admitted.contains(&authenticator),
                    "{authenticator} at {values}"
                );
            }
        }
        assert!(A::Password.admitted_by(None));
    }

    #[test]
    fn instructions_name_the_authenticator_in_words() {
        assert_eq!(
            Authenticator::SecurityKey.instruction(),
            "Use your FIDO2 security key"
        );
        assert_eq!(Authenticator::Smartcard.instruction(), "Use your smartcard");
        for authenticator in Authenticator::ALL {
            assert!(!authenticator.review_steps().is_empty(), "{authenticator}");
        }
        assert!(Authenticator::Smartcard.amr().seen_from_cis2);
        assert!(!Authenticator::SecurityKey.amr().seen_from_cis2);
    }
}
