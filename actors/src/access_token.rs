//! The broker's access token as condor holds it, and the decisions around it: when to
//! renew it (before it expires, so no call meets an expired one), whether a caller the
//! gateway refused must have a new one issued or can use one already issued since
//! (so many calls refused together cause one issue), and how close two issues may be.
//!
//! Owns the token's value and its times, as plain data: no clock, no I/O (`LsRest` does
//! the issuing and passes `now`). Must never print the token: `Debug` shows `***`.

use std::fmt;
use std::time::{Duration, Instant};

/// How condor renews its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Renew once this share (percent, 1..=99) of `expires_in` has passed: 90 renews a
    /// 24-hour token 2.4 hours before it expires, a 3-second one 0.3 s before.
    pub renew_at_percent: u32,
    /// Two issues are never closer than this. LS allows the token endpoint 10 calls a
    /// second (reference §7); one a second leaves room for another client on the same key,
    /// and a token is wanted once a day.
    pub min_issue_gap: Duration,
    /// A failed renewal is tried again after this, doubling per failure up to
    /// `max_retry_wait` (the old token still works meanwhile).
    pub first_retry_wait: Duration,
    pub max_retry_wait: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy {
            renew_at_percent: 90,
            min_issue_gap: Duration::from_secs(1),
            first_retry_wait: Duration::from_secs(1),
            max_retry_wait: Duration::from_secs(60),
        }
    }
}

impl TokenPolicy {
    /// When a token asked for at `asked_at` and granted for `expires_in` is renewed. Timed
    /// from the request, not the answer: the gateway's clock started no earlier.
    pub fn renew_at(&self, asked_at: Instant, expires_in: Duration) -> Instant {
        let percent = self.renew_at_percent.clamp(1, 99);
        asked_at + expires_in.saturating_mul(percent) / 100
    }

    /// How long to wait before trying a renewal again after `failures` failed in a row.
    pub fn retry_wait(&self, failures: u32) -> Duration {
        let doubling = 1u32 << failures.saturating_sub(1).min(16);
        self.first_retry_wait
            .saturating_mul(doubling)
            .min(self.max_retry_wait)
    }

    /// The earliest instant the next issue may go out, given the last one.
    pub fn next_issue_at(&self, last_issue: Option<Instant>, now: Instant) -> Instant {
        match last_issue {
            Some(last) => (last + self.min_issue_gap).max(now),
            None => now,
        }
    }
}

/// A granted token and its times. Each new token gets the next `generation`.
#[derive(Clone)]
pub struct HeldToken {
    token: String,
    generation: u64,
    expires_at: Instant,
    renew_at: Instant,
}

/// Where a token stands at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Before its renewal time.
    Fresh,
    /// Past its renewal time, still valid: calls use it while a new one is issued.
    Renewable,
    /// Past `expires_in` by our clock: a call with it would be refused, so a new one is
    /// issued first.
    Expired,
}

/// What a caller whose call was refused for its token does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterRefusal {
    /// A token newer than the refused one is already held: call again with it.
    UseCurrent,
    /// The refused token is still the current one: issue a new one (one caller does; the
    /// others wait for it and then find `UseCurrent`).
    Issue,
}

impl HeldToken {
    /// The first token, or the one after `previous`.
    pub fn granted(
        previous: Option<&HeldToken>,
        token: String,
        asked_at: Instant,
        expires_in: Duration,
        policy: &TokenPolicy,
    ) -> HeldToken {
        HeldToken {
            token,
            generation: previous.map_or(1, |p| p.generation + 1),
            expires_at: asked_at + expires_in,
            renew_at: policy.renew_at(asked_at, expires_in),
        }
    }

    /// The token itself: only for the wire (a header, a registration frame).
    pub fn expose(&self) -> &str {
        &self.token
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn renew_at(&self) -> Instant {
        self.renew_at
    }

    pub fn expires_at(&self) -> Instant {
        self.expires_at
    }

    pub fn freshness(&self, now: Instant) -> Freshness {
        if now >= self.expires_at {
            Freshness::Expired
        } else if now >= self.renew_at {
            Freshness::Renewable
        } else {
            Freshness::Fresh
        }
    }

    /// A call made with generation `refused` was refused for its token.
    pub fn after_refusal(&self, refused: u64) -> AfterRefusal {
        if self.generation > refused {
            AfterRefusal::UseCurrent
        } else {
            AfterRefusal::Issue
        }
    }

    /// When the renewer wakes next: at the renewal time, or after a failed renewal the
    /// policy's wait from `now`.
    pub fn next_renewal(&self, failures: u32, now: Instant, policy: &TokenPolicy) -> Instant {
        if failures == 0 {
            self.renew_at
        } else {
            now + policy.retry_wait(failures)
        }
    }
}

impl fmt::Debug for HeldToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldToken")
            .field("token", &"***")
            .field("generation", &self.generation)
            .field("expires_at", &self.expires_at)
            .field("renew_at", &self.renew_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_millis((s * 1000.0).round() as u64)
    }

    #[test]
    fn a_token_is_renewed_at_ninety_percent_of_its_life() {
        let p = TokenPolicy::default();
        let t0 = Instant::now();
        assert_eq!(p.renew_at(t0, secs(86_400.0)), t0 + secs(77_760.0));
        assert_eq!(p.renew_at(t0, secs(3.0)), t0 + secs(2.7));
        let held = HeldToken::granted(None, "T1".into(), t0, secs(3.0), &p);
        assert_eq!(held.generation(), 1);
        assert_eq!(held.expires_at(), t0 + secs(3.0));
        assert_eq!(held.freshness(t0), Freshness::Fresh);
        assert_eq!(held.freshness(t0 + secs(2.69)), Freshness::Fresh);
        assert_eq!(held.freshness(t0 + secs(2.7)), Freshness::Renewable);
        assert_eq!(held.freshness(t0 + secs(2.99)), Freshness::Renewable);
        assert_eq!(held.freshness(t0 + secs(3.0)), Freshness::Expired);
        assert_eq!(held.next_renewal(0, t0, &p), t0 + secs(2.7));
    }

    #[test]
    fn the_renewal_share_stays_inside_the_tokens_life() {
        let t0 = Instant::now();
        for (percent, at) in [(0, 0.03), (1, 0.03), (50, 1.5), (99, 2.97), (100, 2.97)] {
            let p = TokenPolicy {
                renew_at_percent: percent,
                ..TokenPolicy::default()
            };
            assert_eq!(p.renew_at(t0, secs(3.0)), t0 + secs(at), "{percent}%");
        }
    }

    #[test]
    fn a_refused_caller_issues_only_when_nobody_has_since() {
        let p = TokenPolicy::default();
        let t0 = Instant::now();
        let first = HeldToken::granted(None, "T1".into(), t0, secs(3.0), &p);
        // Everyone who called with T1 and was refused, while T1 is still held: issue. The
        // first to get the issuing turn does; the rest find T2 when their turn comes.
        assert_eq!(first.after_refusal(1), AfterRefusal::Issue);
        let second = HeldToken::granted(Some(&first), "T2".into(), t0 + secs(1.0), secs(3.0), &p);
        assert_eq!(second.generation(), 2);
        assert_eq!(second.after_refusal(1), AfterRefusal::UseCurrent);
        // Refused with the new token too: issue again (the caller stops after that retry).
        assert_eq!(second.after_refusal(2), AfterRefusal::Issue);
    }

    #[test]
    fn issues_keep_their_gap_and_failed_renewals_back_off() {
        let p = TokenPolicy::default();
        let t0 = Instant::now();
        assert_eq!(p.next_issue_at(None, t0), t0);
        assert_eq!(p.next_issue_at(Some(t0), t0 + secs(0.2)), t0 + secs(1.0));
        assert_eq!(p.next_issue_at(Some(t0), t0 + secs(5.0)), t0 + secs(5.0));
        let waits: Vec<f64> = (1..=9).map(|n| p.retry_wait(n).as_secs_f64()).collect();
        assert_eq!(waits, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]);
        assert_eq!(p.retry_wait(u32::MAX), secs(60.0), "no overflow");
        let held = HeldToken::granted(None, "T1".into(), t0, secs(3.0), &p);
        assert_eq!(held.next_renewal(2, t0 + secs(2.7), &p), t0 + secs(4.7));
    }

    #[test]
    fn the_token_never_reaches_debug() {
        let p = TokenPolicy::default();
        let held = HeldToken::granted(None, "eyJSECRETJWT".into(), Instant::now(), secs(3.0), &p);
        let shown = format!("{held:?}");
        assert!(
            !shown.contains("eyJSECRETJWT") && shown.contains("***"),
            "{shown}"
        );
    }
}
