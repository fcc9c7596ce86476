//! Profiles: the one in use, and those saved, removed, given a credential or checked.

use careid_core::SecretString;
use careid_host::{CredentialError, HostError};

use super::{Desk, Outcome, Phase};
use crate::ipc::{CommandError, DoctorLine, DoctorStatus, NoticeClass, ProfileInput};
use crate::views;

impl Desk {
    pub async fn use_profile(&self, name: String) -> Outcome {
        self.host.profile(&name).map_err(HostError::from)?;
        {
            let mut inner = self.inner.lock().await;
            if matches!(inner.phase, Phase::Waiting(_)) {
                return Err(CommandError::new(
                    "sign_in_under_way",
                    NoticeClass::Usage,
                    "cancel the sign-in before changing profile",
                ));
            }
            inner.generation += 1;
            inner.profile = name;
            inner.connection = None;
            inner.notice = None;
            self.save_preferences(&inner);
        }
        self.restore().await;
        Ok(())
    }

    pub async fn save_profile(&self, input: ProfileInput) -> Outcome {
        let mut profiles = self.host.profiles().map_err(HostError::from)?;
        let name = input.name.clone();
        let entry = views::profile_entry(input)?;
        profiles.add(&name, entry).map_err(HostError::from)?;
        profiles.save().map_err(HostError::from)?;
        let mut inner = self.inner.lock().await;
        if inner.profile == name {
            inner.connection = None;
        }
        self.publish(&inner);
        Ok(())
    }

    pub async fn remove_profile(&self, name: String) -> Outcome {
        let mut inner = self.inner.lock().await;
        if inner.profile == name && !matches!(inner.phase, Phase::Home) {
            return Err(CommandError::new(
                "profile_in_use",
                NoticeClass::Usage,
                "sign out of this profile, or use another, before removing it",
            ));
        }
        careid_core::signin::blocking(|| self.host.remove_profile(&name))?;
        if inner.profile == name {
            inner.profile = "mock".into();
            inner.connection = None;
            self.save_preferences(&inner);
        }
        self.publish(&inner);
        Ok(())
    }

    pub async fn store_credential(&self, name: String, value: SecretString) -> Outcome {
        let stored = careid_core::signin::blocking(|| self.host.store_credential(&name, value))?;
        stored.map_err(|refused: CredentialError| {
            CommandError::new(refused.code(), NoticeClass::Usage, &refused.to_string())
        })?;
        let mut inner = self.inner.lock().await;
        if inner.profile == name {
            inner.connection = None;
        }
        self.publish(&inner);
        Ok(())
    }

    pub async fn check_profile(&self, name: String) -> Result<Vec<DoctorLine>, CommandError> {
        let profile = self.host.profile(&name).map_err(HostError::from)?;
        let diagnosis = self.host.diagnose_profile(&profile).await?;
        let mut lines = views::doctor_lines(&diagnosis.report);
        if let Some(error) = diagnosis.jwks_error {
            lines.push(DoctorLine {
                name: "jwks".into(),
                status: DoctorStatus::Fail,
                detail: format!("the JWKS could not be fetched: {error}"),
            });
        }
        Ok(lines)
    }
}
