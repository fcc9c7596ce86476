//! What a run's front end (the CLI's `careid run`, the app's Runs screen) needs of the host for
//! each case: the plan's profile with the case's role selection, one client per selection, and
//! on the built-in mock with `[mock] user` the case's user signed in without a page. The mock's
//! auto-login is put back as it was when the run ends ([`CaseClients::restore_mock`]).

use std::sync::Arc;

use careid_core::runs::{Case, Plan, Prepared};
use careid_core::signin::Client;
use careid_core::{IssuerSource, Profile, RoleSelection};
use mock_cis2::AutoLogin;

use crate::{Host, HostError, SharedMock, SharedMockError};

/// A plan that cannot run on this machine's profiles, said before any case.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunSetupError {
    #[error(transparent)]
    Profile(#[from] careid_core::ProfileError),
    #[error(
        "the plan's [mock] section is for the built-in mock, but its profile {0:?} is another \
         provider: remove [mock], or use profile \"mock\""
    )]
    MockSectionOnOtherProvider(String),
}

impl RunSetupError {
    pub fn code(&self) -> &'static str {
        match self {
            RunSetupError::Profile(error) => error.code(),
            RunSetupError::MockSectionOnOtherProvider(_) => "plan_mock_on_other_provider",
        }
    }
}

/// The clients a run's cases sign in with.
#[derive(Debug)]
pub struct CaseClients<'h> {
    host: &'h Host,
    /// The plan's profile; each case may change its role selection.
    profile: Profile,
    plan: &'h Plan,
    /// One client per role selection, made when first needed.
    clients: Vec<(RoleSelection, Arc<Client>)>,
    /// The built-in mock, once connected.
    mock: Option<SharedMock>,
    /// The mock's auto-login before the run changed it, to put back: `Some(before)` once changed.
    replaced_auto_login: Option<Option<AutoLogin>>,
}

impl<'h> CaseClients<'h> {
    pub fn new(host: &'h Host, plan: &'h Plan) -> Result<Self, RunSetupError> {
        let profile = host.profile(&plan.profile)?;
        if plan.mock.is_some() && profile.issuer != IssuerSource::BuiltInMock {
            return Err(RunSetupError::MockSectionOnOtherProvider(
                plan.profile.clone(),
            ));
        }
        Ok(Self {
            host,
            profile,
            plan,
            clients: Vec::new(),
            mock: None,
            replaced_auto_login: None,
        })
    }

    /// The case's client, and on the built-in mock with `[mock] user` its user signed in
    /// without a page (then the case is unattended).
    pub async fn prepare(&mut self, case: &Case) -> Result<Prepared, CasePrepareError> {
        let client = self.client(case).await?;
        let unattended = self.sign_in_without_page(case).await?;
        Ok(Prepared { client, unattended })
    }

    async fn client(&mut self, case: &Case) -> Result<Arc<Client>, HostError> {
        let selection = case.role_selection.unwrap_or(self.profile.role_selection);
        if let Some((_, client)) = self
            .clients
            .iter()
            .find(|(made_for, _)| *made_for == selection)
        {
            return Ok(Arc::clone(client));
        }
        let mut profile = self.profile.clone();
        profile.role_selection = selection;
        let connection = self.host.connect(profile, None).await?;
        if let Some(mock) = connection.mock() {
            self.mock = Some(mock.clone());
        }
        self.clients
            .push((selection, Arc::clone(&connection.client)));
        Ok(connection.client)
    }

    async fn sign_in_without_page(&mut self, case: &Case) -> Result<bool, SharedMockError> {
        let (Some(mock), Some(sign_in)) = (&self.mock, &self.plan.mock) else {
            return Ok(false);
        };
        let before = mock.sign_in_case(self.host.http(), sign_in, case).await?;
        if self.replaced_auto_login.is_none() {
            self.replaced_auto_login = Some(before);
        }
        Ok(true)
    }

    /// Puts the mock's auto-login back as it was before the run (nothing to do if the run did
    /// not change it).
    pub async fn restore_mock(&mut self) -> Result<(), SharedMockError> {
        let (Some(mock), Some(before)) = (&self.mock, self.replaced_auto_login.take()) else {
            return Ok(());
        };
        mock.set_auto_login(self.host.http(), before.as_ref())
            .await
            .map(|_| ())
    }
}

/// Why a case could not be made ready (the case is reported as not run).
#[derive(Debug, thiserror::Error)]
pub enum CasePrepareError {
    #[error(transparent)]
    Connect(#[from] HostError),
    #[error(transparent)]
    Mock(#[from] SharedMockError),
}
