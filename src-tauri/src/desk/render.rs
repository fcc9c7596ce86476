//! The desk's state as the UI's one [`AppState`]: the screen, and on the signed-in screen the
//! session's limits and the inactivity warning.

use std::time::{Duration, SystemTime};

use careid_core::session::{check, Verdict};
use careid_core::time::unix_seconds;
use careid_core::{RoleChoice, RoleSelection};

use super::{Desk, Inner, Live, Phase};
use crate::ipc::{AppInfo, AppState, RoleChoiceView, Screen, SignedInView};
use crate::views;

/// The inactivity warning shows this long before the limit.
const WARN_BEFORE: Duration = Duration::from_secs(60);

impl Desk {
    pub(super) fn render(&self, inner: &Inner) -> AppState {
        let profiles = self.host.profiles().and_then(|profiles| profiles.list());
        let profiles: Vec<_> = profiles
            .unwrap_or_default()
            .iter()
            .map(|profile| views::profile(profile, self.host.credential_stored(profile)))
            .collect();
        let profile = profiles
            .iter()
            .find(|profile| profile.name == inner.profile)
            .cloned()
            .or_else(|| profiles.first().cloned())
            .unwrap_or_else(|| views::profile(&careid_core::profile::built_in_mock(), None));
        let (screen, tester) = match &inner.phase {
            Phase::Restoring => (Screen::Restoring, None),
            Phase::Home => (Screen::Home, None),
            Phase::Waiting(waiting) => (Screen::Waiting(waiting.view.clone()), None),
            Phase::Live(live) => (self.live_screen(live), Some(live.tester.clone())),
        };
        AppState {
            app: AppInfo::current(),
            profile,
            profiles,
            screen,
            notice: inner.notice.clone(),
            preferences: inner.preferences.clone(),
            tester,
            mock_guide: self.mock_guide.clone(),
            run: super::lock(&self.runs).view(),
        }
    }

    pub(super) fn live_screen(&self, live: &Live) -> Screen {
        let session = &live.session;
        let user = views::user(session);
        let identity = session.identity.as_ref();
        if identity.is_some_and(|identity| identity.roles.is_empty()) {
            return Screen::NoRoles(crate::ipc::NoRolesView { user });
        }
        if let (Some(changing), Some(identity)) = (live.choosing, identity) {
            let current = session.facts.selected_role_id.clone();
            return Screen::ChooseRole(RoleChoiceView {
                user,
                groups: views::role_groups(identity),
                preselected: current,
                changing,
            });
        }
        let now = SystemTime::now();
        let policy = self.policy_of(&session.profile);
        let (ends_at, idle_ends_at) = match check(&session.facts, &policy, now) {
            Verdict::Active {
                ends_at,
                idle_ends_at,
            } => (ends_at, idle_ends_at),
            _ => (unix_seconds(now), unix_seconds(now)),
        };
        let idle_left = idle_ends_at.saturating_sub(unix_seconds(now));
        Screen::SignedIn(SignedInView {
            user,
            role: session
                .role
                .as_ref()
                .and_then(RoleChoice::role)
                .map(|role| {
                    views::role(
                        role,
                        identity.map(|identity| identity.organisation(&role.org_code)),
                    )
                }),
            assurance_level: session.facts.assurance_level,
            ends_at,
            idle_ends_at,
            inactivity_minutes: careid_core::session::inactivity_minutes(&session.facts, &policy),
            absolute_hours: policy.absolute_hours,
            inactivity_warning: idle_left <= WARN_BEFORE.as_secs(),
            can_change_role: identity.is_some_and(|identity| identity.roles.len() > 1)
                || self.role_selection_of(&session.profile) == RoleSelection::Cis2,
            refreshable: session.refreshable,
        })
    }
}
