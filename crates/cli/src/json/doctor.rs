//! `doctor` as JSON: each check of a provider, and for a profile the redirect URIs to register.

use careid_core::{CheckStatus, DoctorCheck, DoctorReport, RedirectRegistration};
use serde::Serialize;

/// A provider's checks, in a fixed order.
#[derive(Debug, Serialize)]
pub struct DoctorJson {
    /// The issuer checked, exactly as given.
    pub issuer: String,
    pub checks: Vec<CheckJson>,
    /// What the profile's client must have registered; absent when an issuer was checked
    /// without a profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect: Option<RedirectJson>,
}

impl From<&DoctorReport> for DoctorJson {
    fn from(report: &DoctorReport) -> Self {
        Self {
            issuer: report.issuer.to_string(),
            checks: report.checks.iter().map(Into::into).collect(),
            redirect: report.redirect.as_ref().map(Into::into),
        }
    }
}

/// One check.
#[derive(Debug, Serialize)]
pub struct CheckJson {
    /// What is checked, such as `PKCE S256`.
    pub name: &'static str,
    pub status: CheckStatusJson,
    /// What was found, in words.
    pub detail: String,
}

impl From<&DoctorCheck> for CheckJson {
    fn from(check: &DoctorCheck) -> Self {
        Self {
            name: check.name,
            status: check.status.into(),
            detail: check.detail.clone(),
        }
    }
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatusJson {
    Pass,
    /// Something CIS2 has is missing or unverified.
    Warn,
    /// Sign-in cannot work, or would be unsafe: `doctor` exits 3.
    Fail,
    Info,
}

impl From<CheckStatus> for CheckStatusJson {
    fn from(status: CheckStatus) -> Self {
        match status {
            CheckStatus::Pass => Self::Pass,
            CheckStatus::Warn => Self::Warn,
            CheckStatus::Fail => Self::Fail,
            CheckStatus::Info => Self::Info,
        }
    }
}

/// The redirect URIs a profile's client must have registered.
#[derive(Debug, Serialize)]
pub struct RedirectJson {
    /// Every URI careid may send, exactly as sent, in the order the ports are tried; empty when
    /// the profile listens on any free port.
    pub uris: Vec<String>,
    /// The profile listens on any free port: the provider must accept any port on
    /// `any_port_uri`.
    pub any_port: bool,
    /// The URI without a port, for any-port matching; null with fixed ports.
    pub any_port_uri: Option<String>,
}

impl From<&RedirectRegistration> for RedirectJson {
    fn from(registration: &RedirectRegistration) -> Self {
        Self {
            uris: registration.uris.iter().map(ToString::to_string).collect(),
            any_port: registration.any_port,
            any_port_uri: registration.any_port_uri.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use careid_core::{CheckStatus, DoctorCheck, DoctorReport, RedirectRegistration};

    use super::{CheckStatusJson, DoctorJson};
    use crate::json::assert_json;

    fn report() -> DoctorReport {
        DoctorReport {
            issuer: careid_core::IssuerUrl::new("https://provider.example/realm").unwrap(),
            checks: vec![
                DoctorCheck {
                    name: "Issuer",
                    status: CheckStatus::Pass,
                    detail: "matches exactly".to_owned(),
                },
                DoctorCheck {
                    name: "PKCE S256",
                    status: CheckStatus::Fail,
                    detail: "code_challenge_methods_supported lacks S256".to_owned(),
                },
            ],
            redirect: None,
        }
    }

    /// A report's fields in their own order (it was never sorted); no `redirect` for an issuer.
    #[test]
    fn an_issuer_s_report_prints_its_checks() {
        assert_json(
            &DoctorJson::from(&report()),
            r#"
{
  "issuer": "https://provider.example/realm",
  "checks": [
    {
      "name": "Issuer",
      "status": "pass",
      "detail": "matches exactly"
    },
    {
      "name": "PKCE S256",
      "status": "fail",
      "detail": "code_challenge_methods_supported lacks S256"
    }
  ]
}"#,
        );
    }

    #[test]
    fn a_profile_s_report_prints_its_redirect_uris() {
        let mut report = report();
        report.checks.truncate(1);
        report.redirect = Some(RedirectRegistration {
            uris: vec!["http://127.0.0.1:23741/callback".into()],
            any_port: false,
            any_port_uri: None,
        });
        assert_json(
            &DoctorJson::from(&report),
            r#"
{
  "issuer": "https://provider.example/realm",
  "checks": [
    {
      "name": "Issuer",
      "status": "pass",
      "detail": "matches exactly"
    }
  ],
  "redirect": {
    "uris": [
      "http://127.0.0.1:23741/callback"
    ],
    "any_port": false,
    "any_port_uri": null
  }
}"#,
        );
    }

    #[test]
    fn every_check_status_has_its_code() {
        let cases = [
            (CheckStatus::Pass, "\"pass\""),
            (CheckStatus::Warn, "\"warn\""),
            (CheckStatus::Fail, "\"fail\""),
            (CheckStatus::Info, "\"info\""),
        ];
        for (status, expected) in cases {
            assert_json(&CheckStatusJson::from(status), expected);
        }
    }
}
