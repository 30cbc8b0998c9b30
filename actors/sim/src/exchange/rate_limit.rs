//! LS's per-TR call limits ("초당 전송 수"), enforced as a sliding one-second window: at
//! most N accepted calls of a TR in any 1,000 ms. Strict on purpose, so a client that
//! passes the simulator passes LS.
//!
//! Owns the call history per TR. Must never read a clock (the caller passes `now_ms`) and
//! never count a refused call (LS's counting of refused calls is unknown; not counting
//! them is the usual limiter behaviour and still caps the accepted rate at N/s).
//!
//! Limits come from reference §7 (programgarden's per-TR defaults, themselves UNCONFIRMED
//! against LS). TRs it does not list get [`DEFAULT_LIMIT`]; t8436 (stock master) gets 1/s,
//! the stricter of the plausible values — UNCONFIRMED.

use std::collections::{HashMap, VecDeque};
use std::fmt;

/// `rsp_cd` of a rate-limit refusal (HTTP 500 on LS).
pub const RATE_LIMIT_CODE: &str = "IGW00201";
/// Its `rsp_msg`.
pub const RATE_LIMIT_MESSAGE: &str = "호출 거래건수를 초과하였습니다.";
/// Limit for TRs not in [`LS_LIMITS`].
pub const DEFAULT_LIMIT: u32 = 2;
/// The key the token endpoint (`/oauth2/token`) is counted under.
pub const TOKEN_TR: &str = "token";

/// Calls per second per TR.
pub const LS_LIMITS: &[(&str, u32)] = &[
    ("CSPAT00601", 10),
    ("CSPAT00701", 3),
    ("CSPAT00801", 3),
    ("t1101", 10),
    ("t1102", 10),
    ("CSPAQ12200", 1),
    ("FOCCQ33600", 1),
    ("t0424", 2),
    ("t0425", 2),
    ("t8407", 1),
    ("t8451", 3),
    ("t8452", 1),
    ("t8436", 1),
    ("t1866", 2),
    ("t1860", 2),
    ("t1859", 2),
    (TOKEN_TR, 10),
];

/// A refused call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimited {
    pub tr_cd: String,
    /// The per-second limit that was hit.
    pub limit: u32,
    /// When the oldest counted call leaves the window.
    pub retry_after_ms: u64,
}

impl RateLimited {
    pub fn code(&self) -> &'static str {
        RATE_LIMIT_CODE
    }

    pub fn message(&self) -> &'static str {
        RATE_LIMIT_MESSAGE
    }
}

impl fmt::Display for RateLimited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{RATE_LIMIT_CODE}] {RATE_LIMIT_MESSAGE} ({} is limited to {}/s; retry in {} ms)",
            self.tr_cd, self.limit, self.retry_after_ms
        )
    }
}

impl std::error::Error for RateLimited {}

/// Sliding-window limiter over every TR.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    enabled: bool,
    limits: HashMap<String, u32>,
    /// Times of the accepted calls still inside the window, oldest first.
    calls: HashMap<String, VecDeque<u64>>,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new()
    }
}

impl RateLimiter {
    /// LS's limits, enabled.
    pub fn new() -> RateLimiter {
        RateLimiter {
            enabled: true,
            limits: LS_LIMITS
                .iter()
                .map(|&(tr, n)| (tr.to_owned(), n))
                .collect(),
            calls: HashMap::new(),
        }
    }

    /// Same as [`RateLimiter::new`]: LS's limits, enabled.
    pub fn ls_defaults() -> RateLimiter {
        RateLimiter::new()
    }

    /// A limiter that accepts everything (for load tests).
    pub fn disabled() -> RateLimiter {
        RateLimiter {
            enabled: false,
            ..RateLimiter::new()
        }
    }

    pub fn set_enabled(&mut self, on: bool) {
        self.enabled = on;
        self.calls.clear();
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Overrides one TR's limit (0 refuses every call).
    pub fn set_limit(&mut self, tr_cd: &str, per_sec: u32) {
        self.limits.insert(tr_cd.to_owned(), per_sec);
    }

    pub fn limit_for(&self, tr_cd: &str) -> u32 {
        self.limits.get(tr_cd).copied().unwrap_or(DEFAULT_LIMIT)
    }

    /// Counts a call of `tr_cd` at `now_ms`, or refuses it if N calls were already
    /// accepted in the last 1,000 ms (a call exactly 1,000 ms later is in a new window).
    pub fn check(&mut self, tr_cd: &str, now_ms: u64) -> Result<(), RateLimited> {
        if !self.enabled {
            return Ok(());
        }
        let limit = self.limit_for(tr_cd);
        let q = match self.calls.get_mut(tr_cd) {
            Some(q) => q,
            None => self.calls.entry(tr_cd.to_owned()).or_default(),
        };
        // A clock that steps back keeps old calls in the window (saturating), never frees them early.
        while q
            .front()
            .is_some_and(|&t| now_ms.saturating_sub(t) >= 1_000)
        {
            q.pop_front();
        }
        if (q.len() as u64) < u64::from(limit) {
            q.push_back(now_ms);
            Ok(())
        } else {
            let oldest = q.front().copied().unwrap_or(now_ms);
            Err(RateLimited {
                tr_cd: tr_cd.to_owned(),
                limit,
                retry_after_ms: (oldest + 1_000).saturating_sub(now_ms).max(1),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn n_allowed_then_refused_then_allowed_after_the_window() {
        let mut rl = RateLimiter::new();
        for (tr, n) in [
            ("CSPAT00601", 10),
            ("CSPAT00701", 3),
            ("CSPAQ12200", 1),
            ("t9999", 2),
        ] {
            for i in 0..n {
                assert!(rl.check(tr, 5_000 + i).is_ok(), "{tr} call {i}");
            }
            let e = rl.check(tr, 5_999).unwrap_err();
            assert_eq!(
                (e.limit, e.retry_after_ms, e.code()),
                (n as u32, 1, "IGW00201")
            );
            // The first call left the window at exactly 6,000 ms: one more is allowed.
            assert!(rl.check(tr, 6_000).is_ok(), "{tr}");
            if n > 1 {
                assert!(rl.check(tr, 6_000).is_err(), "{tr}: only the first left");
            }
        }
    }

    #[test]
    fn sliding_not_fixed_window() {
        let mut rl = RateLimiter::new();
        // 3/s: calls at 900, 950, 999 fill the window; at 1,100 (a new "second" for a
        // fixed-window limiter) the window 101..=1100 still holds all three.
        for t in [900, 950, 999] {
            assert!(rl.check("CSPAT00801", t).is_ok());
        }
        assert!(rl.check("CSPAT00801", 1_100).is_err());
        assert!(rl.check("CSPAT00801", 1_900).is_ok());
    }

    #[test]
    fn refused_calls_do_not_count_and_disabling_works() {
        let mut rl = RateLimiter::new();
        assert!(rl.check("t0424", 0).is_ok());
        assert!(rl.check("t0424", 1).is_ok());
        for t in 2..999 {
            assert!(rl.check("t0424", t).is_err());
        }
        assert!(rl.check("t0424", 1_000).is_ok());
        rl.set_enabled(false);
        for _ in 0..100 {
            assert!(rl.check("t0424", 1_000).is_ok());
        }
        let mut off = RateLimiter::disabled();
        assert!(!off.is_enabled());
        assert!((0..1_000).all(|_| off.check("token", 0).is_ok()));
        rl.set_enabled(true);
        rl.set_limit("t0424", 0);
        assert!(rl.check("t0424", 5_000).is_err());
        assert_eq!(RateLimiter::new().limit_for("t8436"), 1);
        assert_eq!(RateLimiter::new().limit_for("token"), 10);
    }
}
