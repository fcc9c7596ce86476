//! When a session ends: inactivity and the absolute limit from `auth_time` (CIS2 guidance: 15
//! minutes and 12 hours; NIST SP 800-63B §4.2.3 and §4.3.3 allow 30 minutes of inactivity at AAL2).

use std::time::SystemTime;

use crate::session::{EndReason, SessionFacts};
use crate::time::unix_seconds;
use crate::SessionPolicy;

/// Whether a stored session may go on, and if not, which limit ended it. Times are seconds since
/// the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The session may go on until the earlier of `ends_at` (the absolute limit) and
    /// `idle_ends_at` (the inactivity limit, moved on by each recorded activity).
    Active { ends_at: u64, idle_ends_at: u64 },
    /// A limit has passed: [`EndReason::Inactivity`] (no activity for longer than the
    /// inactivity limit) or [`EndReason::AbsoluteLimit`] (the absolute limit after `auth_time`).
    Ended(EndReason),
}

impl Verdict {
    /// A stable code for callers to branch on: `session_active`, or the end's own code.
    pub fn code(&self) -> &'static str {
        match self {
            Verdict::Active { .. } => "session_active",
            Verdict::Ended(reason) => reason.code(),
        }
    }
}

/// Decides whether the session of `facts` may go on at `now` under `policy`.
///
/// A limit is reached at its end instant: a session idle for exactly the inactivity limit has
/// ended. When both limits have passed, the one reached first is the reason.
///
/// A time recorded in the future (the clock went backwards since, or the provider's clock is
/// ahead) is treated as `now`: `min(t, now) + limit` is never later than `t + limit`, so a wrong
/// clock can shorten a session but never extend it.
pub fn check(facts: &SessionFacts, policy: &SessionPolicy, now: SystemTime) -> Verdict {
    let now = unix_seconds(now);
    // A time further ahead than the whole absolute limit is no clock out of step but a damaged
    // state file: counted as now, it would keep the session from ever ending.
    let absolute = u64::from(policy.absolute_hours) * 3_600;
    if facts.auth_time.max(facts.last_activity) > now.saturating_add(absolute) {
        return Verdict::Ended(EndReason::AbsoluteLimit);
    }
    let ends_at = facts
        .auth_time
        .min(now)
        .saturating_add(u64::from(policy.absolute_hours) * 3_600);
    let idle_ends_at = facts
        .last_activity
        .min(now)
        .saturating_add(u64::from(inactivity_minutes(facts, policy)) * 60);
    match (now >= ends_at, now >= idle_ends_at) {
        (false, false) => Verdict::Active {
            ends_at,
            idle_ends_at,
        },
        (true, true) if idle_ends_at < ends_at => Verdict::Ended(EndReason::Inactivity),
        (true, _) => Verdict::Ended(EndReason::AbsoluteLimit),
        (false, true) => Verdict::Ended(EndReason::Inactivity),
    }
}

/// Whether a stored session must end at `now`, and why: a limit has passed ([`check`]), or the
/// provider gave it no refresh token and its kept access token has expired, or was kept with no
/// known expiry (such a session lives only as long as its tokens). The one home of both rules:
/// the client ends sessions by it, and a watcher knows by it when to ask the client to.
pub fn end_due(
    facts: &SessionFacts,
    policy: &SessionPolicy,
    refresh_token_stored: bool,
    access_token_expires_at: Option<u64>,
    now: SystemTime,
) -> Option<EndReason> {
    match check(facts, policy, now) {
        Verdict::Ended(reason) => Some(reason),
        Verdict::Active { .. } if refresh_token_stored => None,
        Verdict::Active { .. } => access_token_expires_at
            .is_none_or(|expires_at| expires_at <= unix_seconds(now))
            .then_some(EndReason::TokensExpiredWithoutRefresh),
    }
}

/// The inactivity limit for this session: the profile's AAL2 limit applies only to a session
/// signed in at AAL2, so an AAL3 (smartcard) session keeps the stricter default.
pub fn inactivity_minutes(facts: &SessionFacts, policy: &SessionPolicy) -> u32 {
    match (facts.assurance_level, policy.aal2_inactivity_minutes) {
        (Some(2), Some(minutes)) => minutes,
        _ => policy.inactivity_minutes,
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// Signed in at this instant (an arbitrary Tuesday in 2025).
    const SIGNED_IN: u64 = 1_750_000_000;
    const MIN: u64 = 60;
    const HOUR: u64 = 3_600;

    struct Case {
        name: &'static str,
        assurance_level: Option<u8>,
        aal2_inactivity_minutes: Option<u32>,
        /// Seconds after sign-in of the last activity.
        last_activity: u64,
        /// Seconds after sign-in of the check.
        now: u64,
        expect: Expect,
    }

    #[derive(Debug, PartialEq)]
    enum Expect {
        Active { ends_in: u64, idle_ends_in: u64 },
        Inactive,
        Absolute,
    }

    fn check_table(cases: &[Case]) {
        for case in cases {
            let facts = SessionFacts {
                profile: "mock".into(),
                sub: "555000000001".into(),
                name: None,
                auth_time: SIGNED_IN,
                last_activity: SIGNED_IN + case.last_activity,
                selected_role_id: Some("555254242106".into()),
                role: None,
                sid: Some("sid-1".into()),
                assurance_level: case.assurance_level,
                stored_at: SIGNED_IN,
            };
            let policy = SessionPolicy {
                aal2_inactivity_minutes: case.aal2_inactivity_minutes,
                ..SessionPolicy::default()
            };
            let now = SIGNED_IN + case.now;
            let got = match check(&facts, &policy, UNIX_EPOCH + Duration::from_secs(now)) {
                Verdict::Active {
                    ends_at,
                    idle_ends_at,
                } => Expect::Active {
                    ends_in: ends_at - now,
                    idle_ends_in: idle_ends_at - now,
                },
                Verdict::Ended(EndReason::Inactivity) => Expect::Inactive,
                Verdict::Ended(EndReason::AbsoluteLimit) => Expect::Absolute,
                Verdict::Ended(other) => panic!("{}: not a limit: {other:?}", case.name),
            };
            assert_eq!(got, case.expect, "{}", case.name);
        }
    }

    #[test]
    fn inactivity_and_absolute_limits() {
        use Expect::*;
        let case = |name, last_activity, now, expect| Case {
            name,
            assurance_level: Some(3),
            aal2_inactivity_minutes: None,
            last_activity,
            now,
            expect,
        };
        check_table(&[
            case(
                "just signed in",
                0,
                0,
                Active {
                    ends_in: 12 * HOUR,
                    idle_ends_in: 15 * MIN,
                },
            ),
            case(
                "one second before the inactivity limit",
                0,
                15 * MIN - 1,
                Active {
                    ends_in: 12 * HOUR - 15 * MIN + 1,
                    idle_ends_in: 1,
                },
            ),
            case("at the inactivity limit", 0, 15 * MIN, Inactive),
            case("past the inactivity limit", 0, 40 * MIN, Inactive),
            case(
                "activity moves the inactivity limit on",
                2 * HOUR,
                2 * HOUR + 10 * MIN,
                Active {
                    ends_in: 10 * HOUR - 10 * MIN,
                    idle_ends_in: 5 * MIN,
                },
            ),
            case(
                "one second before the absolute limit",
                12 * HOUR - 5 * MIN,
                12 * HOUR - 1,
                Active {
                    ends_in: 1,
                    idle_ends_in: 10 * MIN + 1,
                },
            ),
            case(
                "at the absolute limit, however active",
                12 * HOUR - MIN,
                12 * HOUR,
                Absolute,
            ),
            case(
                "both passed: inactivity was reached first",
                HOUR,
                3 * 24 * HOUR,
                Inactive,
            ),
            case(
                "both passed: the absolute limit was reached first",
                12 * HOUR - MIN,
                3 * 24 * HOUR,
                Absolute,
            ),
        ]);
    }

    #[test]
    fn aal2_gets_the_longer_inactivity_only_when_the_profile_sets_it() {
        use Expect::*;
        let case = |name, assurance_level, aal2_inactivity_minutes, now, expect| Case {
            name,
            assurance_level,
            aal2_inactivity_minutes,
            last_activity: 0,
            now,
            expect,
        };
        check_table(&[
            case(
                "AAL2 with the profile's 30 minutes, idle 20",
                Some(2),
                Some(30),
                20 * MIN,
                Active {
                    ends_in: 12 * HOUR - 20 * MIN,
                    idle_ends_in: 10 * MIN,
                },
            ),
            case(
                "AAL2 with the profile's 30 minutes, idle 30",
                Some(2),
                Some(30),
                30 * MIN,
                Inactive,
            ),
            case(
                "AAL2 without a profile setting keeps 15",
                Some(2),
                None,
                20 * MIN,
                Inactive,
            ),
            case(
                "AAL3 ignores the AAL2 setting",
                Some(3),
                Some(30),
                20 * MIN,
                Inactive,
            ),
            case(
                "unknown level ignores the AAL2 setting",
                None,
                Some(30),
                20 * MIN,
                Inactive,
            ),
        ]);
    }

    #[test]
    fn a_clock_that_went_backwards_never_extends_a_session() {
        let facts = SessionFacts {
            profile: "mock".into(),
            sub: "555000000001".into(),
            name: None,
            auth_time: SIGNED_IN,
            // Recorded an hour after sign-in; the clock then went back to 10 minutes after.
            last_activity: SIGNED_IN + HOUR,
            selected_role_id: None,
            role: None,
            sid: None,
            assurance_level: Some(3),
            stored_at: SIGNED_IN,
        };
        let policy = SessionPolicy::default();
        let now = SIGNED_IN + 10 * MIN;
        assert_eq!(
            check(&facts, &policy, UNIX_EPOCH + Duration::from_secs(now)),
            Verdict::Active {
                ends_at: SIGNED_IN + 12 * HOUR,
                idle_ends_at: now + 15 * MIN,
            },
            "activity in the future counts as now, not as an hour from now"
        );

        // Signed in "in the future" by the local clock: the absolute limit runs from now.
        let early = SIGNED_IN - HOUR;
        let facts = SessionFacts {
            last_activity: SIGNED_IN,
            ..facts
        };
        assert_eq!(
            check(&facts, &policy, UNIX_EPOCH + Duration::from_secs(early)),
            Verdict::Active {
                ends_at: early + 12 * HOUR,
                idle_ends_at: early + 15 * MIN,
            }
        );
    }

    /// Times read back from a state file that no clock out of step explains end the session;
    /// none of them is a panic or a session that never ends.
    #[test]
    fn impossible_times_in_a_state_file_end_the_session() {
        let policy = SessionPolicy::default();
        let now = SIGNED_IN + HOUR;
        let cases: &[(&str, u64, u64, &str)] = &[
            ("ordinary", SIGNED_IN, now, "session_active"),
            ("signed in an hour ahead", now + HOUR, now, "session_active"),
            (
                "signed in 12 h ahead",
                now + 12 * HOUR,
                now,
                "session_active",
            ),
            (
                "signed in 13 h ahead",
                now + 13 * HOUR,
                now,
                "absolute_limit",
            ),
            (
                "activity 13 h ahead",
                SIGNED_IN,
                now + 13 * HOUR,
                "absolute_limit",
            ),
            ("auth_time 2^64 - 1", u64::MAX, now, "absolute_limit"),
            (
                "last_activity 2^64 - 1",
                SIGNED_IN,
                u64::MAX,
                "absolute_limit",
            ),
            ("both 2^64 - 1", u64::MAX, u64::MAX, "absolute_limit"),
            ("both zero", 0, 0, "inactivity"),
        ];
        for (name, auth_time, last_activity, expect) in cases {
            let facts = SessionFacts {
                profile: "mock".into(),
                sub: "1".into(),
                name: None,
                auth_time: *auth_time,
                last_activity: *last_activity,
                selected_role_id: None,
                role: None,
                sid: None,
                assurance_level: Some(3),
                stored_at: SIGNED_IN,
            };
            let verdict = check(&facts, &policy, UNIX_EPOCH + Duration::from_secs(now));
            assert_eq!(verdict.code(), *expect, "{name}: {verdict:?}");
        }
        // At the end of the clock's range, no overflow either.
        let facts = SessionFacts {
            profile: "mock".into(),
            sub: "1".into(),
            name: None,
            auth_time: u64::MAX,
            last_activity: u64::MAX,
            selected_role_id: None,
            role: None,
            sid: None,
            assurance_level: None,
            stored_at: u64::MAX,
        };
        let late = UNIX_EPOCH + Duration::from_secs(i64::MAX as u64);
        assert_eq!(
            check(&facts, &policy, late),
            Verdict::Ended(EndReason::AbsoluteLimit)
        );
    }

    #[test]
    fn a_clock_before_the_epoch_is_not_a_panic() {
        let facts = SessionFacts {
            profile: "mock".into(),
            sub: "1".into(),
            name: None,
            auth_time: 0,
            last_activity: 0,
            selected_role_id: None,
            role: None,
            sid: None,
            assurance_level: None,
            stored_at: 0,
        };
        let before_epoch = UNIX_EPOCH - Duration::from_secs(10);
        assert!(matches!(
            check(&facts, &SessionPolicy::default(), before_epoch),
            Verdict::Active { .. }
        ));
    }
}
