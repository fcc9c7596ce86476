//! Connects a command to the chosen profile through the host; for the built-in `mock` profile
//! that is the user's one mock provider, started here if no other careid process serves it.

use careid_core::Profile;
use careid_host::Connection;
use mock_cis2::AutoLogin;

use crate::context::Context;

/// Options for the built-in mock, which only the `mock` profile uses.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MockArgs {
    /// With the built-in mock, sign this test user in without a page: the authenticator and
    /// role as named, else the user's first (crates/mock-cis2/README.md).
    #[arg(
        long,
        env = "CAREID_MOCK_AUTO_LOGIN",
        value_name = "USER_ID[:AUTHENTICATOR[:ROLE_ID[:CHANGED_ROLE_ID]]]",
        value_parser = parse_auto_login
    )]
    pub mock_auto_login: Option<AutoLogin>,
}

fn parse_auto_login(text: &str) -> Result<AutoLogin, String> {
    text.parse()
}

/// The chosen profile's connection.
pub async fn open(context: &Context, mock_args: &MockArgs) -> anyhow::Result<Connection> {
    open_profile(context, context.profile()?, mock_args).await
}

pub async fn open_profile(
    context: &Context,
    profile: Profile,
    mock_args: &MockArgs,
) -> anyhow::Result<Connection> {
    Ok(context
        .host
        .connect(profile, mock_args.mock_auto_login.as_ref())
        .await?)
}
