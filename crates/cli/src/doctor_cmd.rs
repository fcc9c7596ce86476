//! `careid doctor`: how a provider compares with what careid and CIS2 expect, line by line,
//! from its discovery document and JWKS.

use crate::context::runtime;
use crate::context::Context;
use crate::json::{self, DoctorJson};
use crate::output::DoctorFailed;

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
            Some(issuer) => context.host.diagnose(issuer).await?,
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
