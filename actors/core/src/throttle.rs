//! The order-rate throttle: at most N orders in any window of the broker's length, so the
//! broker never refuses an order for its rate.
//!
//! LS (and the embedded exchange, `actors/sim/src/exchange/rate_limit.rs`) count calls of a TR in a
//! sliding one-second window: at most N accepted calls in any 1,000 ms. A token bucket of N
//! refilled at N per second would let almost 2N through in one sliding second (a full bucket,
//! then the refill), so this keeps the instants of the last N grants and grants again only
//! once the oldest of them is a whole window old. The window is the broker's second plus a
//! margin, against jitter between our clock and the broker's.
//!
//! Owns only those instants. Must never read a clock (the caller passes `now`), never count
//! a refused attempt (the broker counts accepted calls; refusals here never reach it), and
//! never panic: instant arithmetic is checked.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The broker's window: one second.
pub const BROKER_WINDOW: Duration = Duration::from_secs(1);
/// The default margin added to the broker's window: generous against network jitter, and
/// costing only 5% of the rate.
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(50);
/// The longest window accepted: a rate limit is about seconds, and the bound keeps every
/// instant sum far from overflow.
pub const MAX_WINDOW: Duration = Duration::from_secs(3_600);

/// A throttle that could never grant, or a window that is not a rate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ThrottleConfigError {
    #[error("orders per window must be at least 1")]
    ZeroPerWindow,
    #[error("the throttle window must be longer than zero")]
    ZeroWindow,
    #[error("the throttle window {0:?} is longer than the most accepted, {MAX_WINDOW:?}")]
    WindowTooLong(Duration),
}

/// At most `per_window` grants in any `window` (see the module docs).
#[derive(Clone, Debug)]
pub struct Throttle {
    per_window: u32,
    window: Duration,
    /// The instants of the last `per_window` grants, oldest first.
    grants: VecDeque<Instant>,
}

impl Throttle {
    /// At most `per_window` grants in any window of length `window`.
    pub fn new(per_window: u32, window: Duration) -> Result<Throttle, ThrottleConfigError> {
        if per_window == 0 {
            return Err(ThrottleConfigError::ZeroPerWindow);
        }
        if window.is_zero() {
            return Err(ThrottleConfigError::ZeroWindow);
        }
        if window > MAX_WINDOW {
            return Err(ThrottleConfigError::WindowTooLong(window));
        }
        Ok(Throttle {
            per_window,
            window,
            grants: VecDeque::with_capacity(per_window.min(1_024) as usize),
        })
    }

    /// Under a broker limit of `per_sec` calls a second, with `margin` added to the
    /// broker's second ([`DEFAULT_MARGIN`] is the usual choice).
    pub fn for_broker_limit(
        per_sec: u32,
        margin: Duration,
    ) -> Result<Throttle, ThrottleConfigError> {
        let window = BROKER_WINDOW
            .checked_add(margin)
            .ok_or(ThrottleConfigError::WindowTooLong(Duration::MAX))?;
        Throttle::new(per_sec, window)
    }

    pub fn per_window(&self) -> u32 {
        self.per_window
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Takes a grant at `now`, or says how long until one is possible: acquiring at
    /// `now + wait` succeeds (if nothing else was granted meanwhile), a nanosecond earlier
    /// does not.
    ///
    /// `now` should not go backwards; if it does, it is taken as the last grant's instant,
    /// so a stepped-back clock can never squeeze in an extra grant.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        let at = match self.grants.back() {
            Some(&last) if last > now => last,
            _ => now,
        };
        if self.grants.len() >= self.per_window as usize {
            match self.next_free() {
                Some(free) if at >= free => {
                    self.grants.pop_front();
                }
                Some(free) => return Err(free.saturating_duration_since(now)),
                // The oldest grant plus the window is beyond what an `Instant` can hold:
                // no grant is possible in any time that matters; wait a whole window.
                None => return Err(self.window),
            }
        }
        self.grants.push_back(at);
        Ok(())
    }

    /// How many grants fall in the window ending at `now` (the last `window`, `now`
    /// included): at most `per_window`.
    pub fn in_window(&self, now: Instant) -> u32 {
        let n = self
            .grants
            .iter()
            .filter(|&&g| now.saturating_duration_since(g) < self.window)
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    }

    /// When the oldest kept grant leaves the window; `None` only on `Instant` overflow.
    fn next_free(&self) -> Option<Instant> {
        self.grants.front()?.checked_add(self.window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);
    const NS: Duration = Duration::from_nanos(1);

    /// A deterministic xorshift64* generator: the same sequence on every run and machine.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn configuration_is_checked() {
        assert_eq!(
            Throttle::new(0, BROKER_WINDOW).unwrap_err(),
            ThrottleConfigError::ZeroPerWindow
        );
        assert_eq!(
            Throttle::new(1, Duration::ZERO).unwrap_err(),
            ThrottleConfigError::ZeroWindow
        );
        assert!(matches!(
            Throttle::new(1, MAX_WINDOW + NS),
            Err(ThrottleConfigError::WindowTooLong(_))
        ));
        assert!(Throttle::new(1, MAX_WINDOW).is_ok());
        assert!(Throttle::for_broker_limit(10, Duration::MAX).is_err());
        let t = Throttle::for_broker_limit(10, DEFAULT_MARGIN).unwrap();
        assert_eq!((t.per_window(), t.window()), (10, 1_050 * MS));
    }

    #[test]
    fn a_burst_gets_n_then_waits_for_the_oldest_to_leave() {
        let t0 = Instant::now();
        let mut t = Throttle::new(10, 1_000 * MS).unwrap();
        for _ in 0..10 {
            assert_eq!(t.try_acquire(t0), Ok(()));
        }
        assert_eq!(t.in_window(t0), 10);
        assert_eq!(t.try_acquire(t0), Err(1_000 * MS));
        assert_eq!(t.try_acquire(t0 + 400 * MS), Err(600 * MS));
        // Refusals are not counted: still exactly a second after the burst.
        assert_eq!(t.try_acquire(t0 + 1_000 * MS - NS), Err(NS));
        assert_eq!(t.in_window(t0 + 1_000 * MS - NS), 10);
        // The whole burst leaves at once: ten more, then none.
        let t1 = t0 + 1_000 * MS;
        assert_eq!(t.in_window(t1), 0);
        for _ in 0..10 {
            assert_eq!(t.try_acquire(t1), Ok(()));
        }
        assert_eq!(t.try_acquire(t1), Err(1_000 * MS));
    }

    #[test]
    fn a_token_bucket_would_double_up_this_does_not() {
        // A bucket of 3 refilled at 3/s, full at 999 ms, lets 3 through then and 3 more by
        // 1,998 ms: 6 in one sliding second. Here, one attempt every millisecond for five
        // seconds: no second ever holds more than 3.
        let t0 = Instant::now();
        let mut t = Throttle::new(3, 1_000 * MS).unwrap();
        let mut grants = Vec::new();
        for ms in 0..5_000u32 {
            let now = t0 + ms * MS;
            if t.try_acquire(now).is_ok() {
                grants.push(now);
            }
        }
        assert_eq!(grants.len(), 15, "3 a second for 5 seconds");
        for w in grants.windows(4) {
            assert!(w[3] - w[0] >= 1_000 * MS, "{:?}", w[3] - w[0]);
        }
    }

    #[test]
    fn one_per_window() {
        let t0 = Instant::now();
        let mut t = Throttle::for_broker_limit(1, DEFAULT_MARGIN).unwrap();
        assert_eq!(t.try_acquire(t0), Ok(()));
        assert_eq!(t.try_acquire(t0), Err(1_050 * MS));
        assert_eq!(t.try_acquire(t0 + 1_000 * MS), Err(50 * MS));
        assert_eq!(t.try_acquire(t0 + 1_050 * MS - NS), Err(NS));
        assert_eq!(t.try_acquire(t0 + 1_050 * MS), Ok(()));
        assert_eq!(t.in_window(t0 + 1_050 * MS), 1);
        assert_eq!(t.try_acquire(t0 + 2_100 * MS), Ok(()));
    }

    #[test]
    fn a_clock_that_steps_back_gets_no_extra_grant() {
        let t0 = Instant::now();
        let later = t0 + 5_000 * MS;
        let mut t = Throttle::new(2, 1_000 * MS).unwrap();
        assert_eq!(t.try_acquire(later), Ok(()));
        // Back to t0: counted as at `later`, so the window still holds both.
        assert_eq!(t.try_acquire(t0), Ok(()));
        assert_eq!(t.try_acquire(t0 + 2_000 * MS), Err(4_000 * MS));
        assert_eq!(t.try_acquire(later + 1_000 * MS), Ok(()));
        assert_eq!(t.in_window(t0), 2, "grants after `now` count as inside");
    }

    /// Random request streams for several limits and windows: in every window of the
    /// configured length at most N grants; every refusal's wait is exact; and the throttle
    /// never refuses when the window had room (it is not over-cautious).
    #[test]
    fn property_at_most_n_in_any_window_and_exact_waits() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let t0 = Instant::now();
        for case in 0..200 {
            let n = [1, 2, 3, 5, 10][case % 5];
            let window = [1_000 * MS, 1_050 * MS, 1_000 * MS + 7 * NS][case % 3];
            let mut t = Throttle::new(n, window).unwrap();
            let mut now = t0;
            let mut grants: Vec<Instant> = Vec::new();
            for _ in 0..400 {
                // Mostly short gaps (bursts), sometimes a pause longer than the window;
                // nanosecond resolution, so edges are hit exactly as well as near misses.
                now += match rng.below(10) {
                    0..=3 => Duration::ZERO,
                    4..=7 => Duration::from_nanos(rng.below(300_000_000)),
                    8 => Duration::from_nanos(rng.below(10)),
                    _ => Duration::from_nanos(rng.below(2_500_000_000)),
                };
                let in_window = grants
                    .iter()
                    .filter(|&&g| now.saturating_duration_since(g) < window)
                    .count();
                assert_eq!(t.in_window(now) as usize, in_window);
                let before = t.clone();
                match t.try_acquire(now) {
                    Ok(()) => grants.push(now),
                    Err(wait) => {
                        assert_eq!(in_window, n as usize, "refused with room in the window");
                        assert!(wait > Duration::ZERO && wait <= window, "{wait:?}");
                        let mut early = before.clone();
                        assert!(early.try_acquire(now + wait - NS).is_err(), "wait too long");
                        let mut exact = before;
                        assert_eq!(exact.try_acquire(now + wait), Ok(()), "wait too short");
                        // Sometimes come back exactly when told to.
                        if rng.below(2) == 0 {
                            now += wait;
                            assert_eq!(t.try_acquire(now), Ok(()));
                            grants.push(now);
                        }
                    }
                }
            }
            // Any N + 1 consecutive grants span at least a whole window, so no window of
            // that length holds more than N.
            let n = n as usize;
            for w in grants.windows(n + 1) {
                assert!(
                    w[n] - w[0] >= window,
                    "case {case}: {n}+1 grants in {:?}",
                    w[n] - w[0]
                );
            }
        }
    }
}
