//! `careid doctor`: how a provider compares with what careid and CIS2 expect, line by line,
//! from its discovery document and JWKS.

use std::time::SystemTime;

use careid_core::discovery::ProviderCache;
use careid_core::doctor::diagnose;
use careid_core::IssuerSource;

use crate::connect::{Connection, MockArgs};
use crate::context::Context;
use crate::output::print_json;
use crate::signin_cmd::runtime;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The issuer to check, exactly as the provider publishes it; without it, the profile's.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    #[command(flatten)]
    mock: MockArgs,
}

/// A report with a failed check exits 3, so scripts can gate on it.
pub fn run(context: &Context, args: &DoctorArgs) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        // The built-in mock runs for as long as the check does.
        let (issuer, _mock) = match &args.issuer {
            Some(issuer) => (issuer.clone(), None),
            None => {
                let profile = context.profile()?;
                match &profile.issuer {
                    IssuerSource::Url(issuer) => (issuer.clone(), None),
                    IssuerSource::BuiltInMock => {
                        let connection =
                            Connection::open_profile(context, profile, &args.mock).await?;
                        (connection.client.issuer().to_owned(), Some(connection))
                    }
                }
            }
        };
        let http = crate::connect::http_client(context)?;
        // Always fresh: the point is to see the provider as it is now.
        let providers = ProviderCache::new(None, crate::connect::PROVIDER_CACHE_AGE);
        let metadata = providers
            .metadata(&http, &issuer, SystemTime::now())
            .await?;
        let jwks = providers.jwks(&http, &metadata, SystemTime::now()).await;
        if let Err(error) = &jwks {
            eprintln!("careid: the JWKS could not be fetched: {error}");
        }
        let report = diagnose(
            &issuer,
            &metadata,
            jwks.as_ref().ok().map(|jwks| jwks.as_ref()),
        );
        if context.args.json {
            print_json(&report)?;
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

/// At least one check failed: a response was found unsuitable (exit 3).
#[derive(Debug)]
pub struct DoctorFailed;

impl std::fmt::Display for DoctorFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the provider fails at least one check (see FAIL above)")
    }
}

impl std::error::Error for DoctorFailed {}
