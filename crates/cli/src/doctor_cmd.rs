//! `careid doctor`: how a provider compares with what careid and CIS2 expect, line by line,
//! from its discovery document and JWKS.

use careid_core::discovery::DiscoveryError;
use careid_core::http::display_url;
use careid_core::{InvalidIssuer, IssuerUrl};

use crate::context::runtime;
use crate::context::Context;
use crate::json::{self, DoctorJson};
use crate::output::{DoctorFailed, UsageError};

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The issuer to check, exactly as the provider publishes it; without it, the profile's.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
}

/// A report with a failed check exits 3, so scripts can gate on it.
pub fn run(context: &Context, args: &DoctorArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        // A profile's check also says which redirect URIs its client must have registered.
        let diagnosis = match &args.issuer {
            Some(issuer) => context.host.diagnose(&issuer_url(issuer)?).await?,
            None => context.host.diagnose_profile(&context.profile()?).await?,
        };
        if let Some(error) = &diagnosis.jwks_error {
            eprintln!("careid: the JWKS could not be fetched: {error}");
        }
        let report = diagnosis.report;
        if context.args.json {
            json::print(&DoctorJson::from(&report))?;
        } else {
            print!("{}", report.render_text());
        }
        // The rows said why; the outcome is the discovery's (unreachable, or unsafe).
        if let Some(error) = diagnosis.discovery_error {
            return Err(error.into());
        }
        if report.passed() {
            Ok(())
        } else {
            Err(DoctorFailed.into())
        }
    })
}

/// The `--issuer` given, as an issuer: one careid cannot fetch from (not a URL, or plain http off
/// loopback) or with a query or fragment is a mistake on the command line (exit 2), said as
/// discovery would refuse it.
fn issuer_url(issuer: &str) -> anyhow::Result<IssuerUrl> {
    IssuerUrl::new(issuer).map_err(|error| {
        let problem = match error {
            InvalidIssuer::QueryOrFragment { .. } => error.to_string(),
            _ => DiscoveryError::InsecureEndpoint {
                member: "issuer",
                url: display_url(issuer),
            }
            .to_string(),
        };
        UsageError(format!("--issuer {problem}")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `--issuer` careid cannot fetch from, or with a query or fragment, is a usage error
    /// (exit 2) saying why.
    #[test]
    fn an_issuer_flag_that_is_no_issuer_is_a_usage_error() {
        for (issuer, refusal) in [
            ("https://am.example.nhs.uk:443/realm", None),
            ("http://127.0.0.1:8080/realm", None),
            ("http://am.example.nhs.uk/realm", Some("is not https")),
            ("foo", Some("is not https")),
            ("https://am.example.nhs.uk/realm?x=1", Some("query")),
        ] {
            let refused = issuer_url(issuer).err().map(|error| {
                assert_eq!(crate::output::exit_code(&error), 2, "{issuer}");
                error.to_string()
            });
            match (refused, refusal) {
                (None, None) => {}
                (Some(text), Some(words)) => assert!(text.contains(words), "{issuer}: {text}"),
                (refused, _) => panic!("{issuer}: {refused:?}"),
            }
        }
    }
}
