//! Roles after sign-in: choosing another of the user's roles (PRODUCT step 8), and the last role
//! each user chose on each profile, kept across sign-outs in `<state folder>/roles.json`. Role
//! ids are not secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::signin::{blocking, Client, Session, SignInError};
use crate::SessionLock;

/// profile → user id (`sub`) → `person_roleid`.
type Choices = BTreeMap<String, BTreeMap<String, String>>;

/// How long a choice waits for another profile's write of the shared file.
const FILE_LOCK_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct RememberedRoles {
    path: PathBuf,
}

impl RememberedRoles {
    pub fn new(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("roles.json"),
        }
    }

    pub fn get(&self, profile: &str, sub: &str) -> Option<String> {
        self.read().get(profile)?.get(sub).cloned()
    }

    /// Remembers a choice for `lock`'s profile. The caller holds the profile's session lock, so
    /// the choice is written in step with the session it belongs to (a sign-out or another
    /// user's sign-in cannot come in between); the file is shared by every profile, so its
    /// read, change and write also hold a lock of its own. Failing to write only loses a
    /// convenience, so it is logged, not returned.
    pub fn set(&self, lock: &SessionLock, sub: &str, role_id: &str) {
        if let Err(error) = self.change(lock.profile(), sub, role_id) {
            tracing::warn!(
                "cannot remember the role choice in {}: {error}",
                self.path.display()
            );
        }
    }

    fn change(&self, profile: &str, sub: &str, role_id: &str) -> std::io::Result<()> {
        let lock_path = self.path.with_extension("json.lock");
        let _file_lock = crate::files::lock_file(&lock_path, FILE_LOCK_TIMEOUT)?
            .ok_or_else(|| std::io::Error::other("another careid process kept it locked"))?;
        let mut choices = self.read();
        choices
            .entry(profile.to_owned())
            .or_default()
            .insert(sub.to_owned(), role_id.to_owned());
        crate::files::write_atomically(&self.path, &serde_json::to_vec_pretty(&choices)?)
    }

    /// A missing or damaged file remembers nothing.
    fn read(&self) -> Choices {
        std::fs::read(&self.path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }
}

impl Client {
    /// Chooses `role_id` (a `person_roleid` of the user's) as the session's role and remembers
    /// it for the next sign-in. Restores the session first to check the role is the user's.
    pub async fn select_role(&self, role_id: &str) -> Result<Session, SignInError> {
        let mut session = self.use_session().await?;
        self.apply_role(&mut session, role_id).await?;
        Ok(session)
    }

    /// Chooses `role_id` for a session that holds UserInfo (just signed in or restored), and
    /// remembers it for the next sign-in. A session whose ID token carries CIS2's choice
    /// (`selected_roleid`) keeps it: another role is refused naming both (change it in CIS2).
    pub async fn apply_role(
        &self,
        session: &mut Session,
        role_id: &str,
    ) -> Result<(), SignInError> {
        if let (Some(selected), Some(identity)) = (
            session
                .id_token
                .as_ref()
                .and_then(|claims| claims.selected_roleid.as_deref())
                .filter(|id| !id.trim().is_empty()),
            session.identity.as_ref(),
        ) {
            crate::check_requested_role(identity, selected, role_id)?;
        }
        let identity = session
            .identity
            .clone()
            .ok_or_else(|| SignInError::UnknownRole(role_id.to_owned()))?;
        let role = identity
            .role(role_id)
            .cloned()
            .ok_or_else(|| SignInError::UnknownRole(role_id.to_owned()))?;
        let lock = self.session_lock().await?;
        session.facts = blocking(|| {
            self.store
                .change_facts(&lock, Some(&session.facts.sub), |facts| {
                    facts.set_role(Some(&role), &identity)
                })
        })?;
        blocking(|| {
            self.remembered_roles()
                .set(&lock, &session.facts.sub, &role.person_roleid)
        });
        drop(lock);
        self.note_on_timeline(
            &session.facts.sub,
            "role_changed",
            &format!(
                "{} ({}, {})",
                role.job_role_name(),
                role.person_roleid,
                role.org_code
            ),
        );
        session.role = Some(crate::RoleChoice::Selected(role));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Profiles have locks of their own, and all their choices share one file: choices made at
    /// once under different profiles' locks are all kept.
    #[test]
    fn choices_made_at_once_on_several_profiles_are_all_remembered() {
        let dir = tempfile::tempdir().expect("temp dir");
        let state_dir = dir.path().join("state");
        let profiles: Vec<String> = (0..6).map(|i| format!("p{i}")).collect();
        std::thread::scope(|scope| {
            for profile in &profiles {
                let state_dir = &state_dir;
                scope.spawn(move || {
                    let roles = RememberedRoles::new(state_dir);
                    for sub in 0..15 {
                        let lock =
                            SessionLock::acquire(state_dir, profile, Duration::from_secs(10))
                                .expect("session lock");
                        roles.set(&lock, &format!("sub{sub}"), &format!("{profile}-role{sub}"));
                    }
                });
            }
        });
        let roles = RememberedRoles::new(&state_dir);
        for profile in &profiles {
            for sub in 0..15 {
                assert_eq!(
                    roles.get(profile, &format!("sub{sub}")),
                    Some(format!("{profile}-role{sub}")),
                    "{profile} sub{sub}"
                );
            }
        }
    }

    #[test]
    fn a_choice_is_kept_under_the_profile_of_the_lock_held() {
        let dir = tempfile::tempdir().expect("temp dir");
        let roles = RememberedRoles::new(dir.path());
        let lock =
            SessionLock::acquire(dir.path(), "int", Duration::from_secs(5)).expect("session lock");
        roles.set(&lock, "555", "role-1");
        assert_eq!(roles.get("int", "555").as_deref(), Some("role-1"));
        assert_eq!(roles.get("mock", "555"), None);
        #[cfg(unix)]
        for file in ["roles.json", "roles.json.lock"] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(file))
                .expect("written")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file} is the user's alone");
        }
    }
}
