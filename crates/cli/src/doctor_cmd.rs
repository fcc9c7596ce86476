//! `careid doctor`: how a provider compares with what careid and CIS2 expect, line by line,
//! from its discovery document and JWKS.

use careid_core::discovery::DiscoveryError;
use careid_core::http::display_url;
use careid_core::signin::SignInError;
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
        if report.passed() {
            Ok(())
        } else {
            Err(DoctorFailed.into())
        }
    })
}

/// The `--issuer` given, as an issuer. One careid could not fetch from (not a URL, or plain http
/// off loopback) is refused as discovery refuses such an issuer; one with a query or fragment is
/// not an issuer at all.
fn issuer_url(issuer: &str) -> anyhow::Result<IssuerUrl> {
    IssuerUrl::new(issuer).map_err(|error| match error {
        InvalidIssuer::QueryOrFragment { .. } => UsageError(error.to_string()).into(),
        _ => SignInError::from(DiscoveryError::InsecureEndpoint {
            member: "issuer",
            url: display_url(issuer),
        })
        .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--issuer` is refused as before for an address careid cannot fetch from, and as a usage
    /// error when it has a query or fragment.
    #[test]
    fn an_issuer_flag_that_is_no_issuer_is_refused_by_kind() {
        for (issuer, refusal) in [
            ("https://am.example.nhs.uk:443/realm", None),
            ("http://127.0.0.1:8080/realm", None),
            ("http://am.example.nhs.uk/realm", Some("insecure_endpoint")),
            ("am.example.nhs.uk", Some("insecure_endpoint")),
            ("https://am.example.nhs.uk/realm?x=1", Some("usage")),
        ] {
            let refused = issuer_url(issuer).err().map(|error| {
                if error.downcast_ref::<UsageError>().is_some() {
                    "usage"
                } else {
                    error
                        .downcast_ref::<SignInError>()
                        .expect("a sign-in error")
                        .code()
                }
            });
            assert_eq!(refused, refusal, "{issuer}");
        }
    }
}
