//! Role selection: the role chosen, changed or kept.

use std::sync::Arc;

use careid_core::RoleSelection;

use super::{Desk, Inner, Outcome, Phase};
use crate::error::not_signed_in;
use crate::ipc::{CommandError, LoginOverrides};

impl Desk {
    pub async fn choose_role(&self, role_id: String) -> Outcome {
        let mut inner = self.inner.lock().await;
        let Inner {
            phase, connection, ..
        } = &mut *inner;
        let (Phase::Live(live), Some(connection)) = (phase, connection.as_ref()) else {
            return Err(not_signed_in());
        };
        match connection
            .client
            .apply_role(&mut live.session, &role_id)
            .await
        {
            Ok(()) => live.choosing = None,
            Err(error) => {
                let error = CommandError::from(&error);
                self.publish(&inner);
                return Err(error);
            }
        }
        self.publish(&inner);
        Ok(())
    }

    /// Change role: the app's own choice, or CIS2's picker again for profiles that let CIS2
    /// choose.
    pub async fn change_role(self: &Arc<Self>) -> Outcome {
        let mut inner = self.inner.lock().await;
        let Phase::Live(live) = &mut inner.phase else {
            return Err(not_signed_in());
        };
        if self.role_selection_of(&live.session.profile) == RoleSelection::Cis2 {
            drop(inner);
            return self.begin(LoginOverrides::default(), true).await;
        }
        if live.session.identity.is_none() {
            let fresh = match inner.connection.as_ref() {
                Some(connection) => connection.client.use_session().await,
                None => return Err(not_signed_in()),
            };
            match fresh {
                Ok(session) => {
                    if let Phase::Live(live) = &mut inner.phase {
                        live.session.identity = session.identity;
                    }
                }
                Err(error) => return Err(CommandError::from(&error)),
            }
        }
        if let Phase::Live(live) = &mut inner.phase {
            live.choosing = Some(true);
        }
        self.publish(&inner);
        Ok(())
    }

    pub async fn keep_current_role(&self) -> Outcome {
        let mut inner = self.inner.lock().await;
        if let Phase::Live(live) = &mut inner.phase {
            if live.choosing == Some(true) {
                live.choosing = None;
            }
        }
        self.publish(&inner);
        Ok(())
    }
}
