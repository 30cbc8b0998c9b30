//! Where the engine gets the time: the KST time of day and a monotonic `Instant`.
//!
//! Owns the two clocks: [`SystemClock`] for live trading and [`ManualClock`] for tests,
//! backtests and replays, which only moves when told to. Every actor is given an
//! `Arc<dyn Clock>`, so a replay sees exactly the times it was fed. Must never hold a
//! lock across a call: the manual clock is a few atomics behind an `Arc`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::market::TimeOfDay;

/// KST is UTC+9 all year (no daylight saving).
const KST_OFFSET_SECS: u64 = 9 * 3600;
const DAY_SECS: u64 = 86_400;
const NANOS_PER_SEC: u64 = 1_000_000_000;
const DAY_NANOS: u64 = DAY_SECS * NANOS_PER_SEC;

/// The engine's source of time.
pub trait Clock: Send + Sync {
    /// The time of day in KST, to the second.
    fn time_of_day(&self) -> TimeOfDay;
    /// A monotonic instant, for latencies and timeouts.
    fn now(&self) -> Instant;
}

/// The real clock: KST from the system's wall clock, `Instant::now()` for monotonic time.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn time_of_day(&self) -> TimeOfDay {
        // A wall clock before 1970 is a broken host; midnight is as good an answer as any.
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(kst_time_of_day)
            .unwrap_or_default()
    }

    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// The KST time of day `since_unix_epoch` after 1970-01-01 00:00:00 UTC.
pub fn kst_time_of_day(since_unix_epoch: Duration) -> TimeOfDay {
    let secs = (since_unix_epoch.as_secs() % DAY_SECS + KST_OFFSET_SECS) % DAY_SECS;
    // < 86,400, so it fits a u32.
    TimeOfDay::from_secs(secs as u32)
}

/// A clock that moves only when told to. Clones share the same time, so a test keeps one
/// handle and gives another (as `Arc<dyn Clock>`) to the engine.
///
/// `advance` moves both the monotonic instant and the time of day; `set_time_of_day`
/// jumps the time of day only (the monotonic clock never goes back).
#[derive(Clone, Debug)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    /// The monotonic instant when the clock was made; `now()` = origin + elapsed.
    origin: Instant,
    elapsed_nanos: AtomicU64,
    /// Time of day (in nanos since midnight) at elapsed = 0, in `0..DAY_NANOS`.
    tod_origin_nanos: AtomicU64,
}

impl ManualClock {
    /// A clock standing at `at` (KST).
    pub fn new(at: TimeOfDay) -> ManualClock {
        ManualClock {
            inner: Arc::new(ManualInner {
                origin: Instant::now(),
                elapsed_nanos: AtomicU64::new(0),
                tod_origin_nanos: AtomicU64::new(u64::from(at.secs()) * NANOS_PER_SEC),
            }),
        }
    }

    /// Moves time forward by `by`: the instant and the time of day (wrapping at midnight).
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.inner.elapsed_nanos.fetch_add(nanos, Ordering::SeqCst);
    }

    /// Moves time forward by whole seconds.
    pub fn advance_secs(&self, secs: u64) {
        self.advance(Duration::from_secs(secs));
    }

    /// Sets the time of day to exactly `at`; the monotonic instant does not move.
    pub fn set_time_of_day(&self, at: TimeOfDay) {
        let elapsed = self.inner.elapsed_nanos.load(Ordering::SeqCst) % DAY_NANOS;
        let target = u64::from(at.secs()) * NANOS_PER_SEC;
        let origin = (target + DAY_NANOS - elapsed) % DAY_NANOS;
        self.inner.tod_origin_nanos.store(origin, Ordering::SeqCst);
    }

    /// Time advanced since the clock was made.
    pub fn elapsed(&self) -> Duration {
        Duration::from_nanos(self.inner.elapsed_nanos.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn time_of_day(&self) -> TimeOfDay {
        let elapsed = self.inner.elapsed_nanos.load(Ordering::SeqCst) % DAY_NANOS;
        let origin = self.inner.tod_origin_nanos.load(Ordering::SeqCst);
        let secs = (origin + elapsed) % DAY_NANOS / NANOS_PER_SEC;
        TimeOfDay::from_secs(secs as u32)
    }

    fn now(&self) -> Instant {
        self.inner.origin + self.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kst_is_utc_plus_nine() {
        assert_eq!(kst_time_of_day(Duration::ZERO), TimeOfDay::hms(9, 0, 0));
        // 2024-01-02 00:30:00 UTC = 09:30:00 KST.
        assert_eq!(
            kst_time_of_day(Duration::from_secs(1_704_155_400)),
            TimeOfDay::hms(9, 30, 0)
        );
        // 15:00:00 UTC wraps to 00:00:00 KST the next day.
        assert_eq!(
            kst_time_of_day(Duration::from_secs(15 * 3600)),
            TimeOfDay::hms(0, 0, 0)
        );
        assert_eq!(
            kst_time_of_day(Duration::from_millis(14 * 3_600_000 + 59 * 60_000 + 59_999)),
            TimeOfDay::hms(23, 59, 59)
        );
    }

    #[test]
    fn system_clock_is_monotonic() {
        let c = SystemClock;
        let a = c.now();
        assert!(c.now() >= a);
        assert!(c.time_of_day().secs() < 86_400);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(TimeOfDay::hms(9, 0, 0));
        let t0 = c.now();
        assert_eq!(c.time_of_day(), TimeOfDay::hms(9, 0, 0));
        assert_eq!(c.now(), t0);

        c.advance(Duration::from_millis(500));
        assert_eq!(c.time_of_day(), TimeOfDay::hms(9, 0, 0), "to the second");
        c.advance(Duration::from_millis(500));
        assert_eq!(c.time_of_day(), TimeOfDay::hms(9, 0, 1));
        assert_eq!(c.now() - t0, Duration::from_secs(1));

        c.advance_secs(600);
        assert_eq!(c.time_of_day(), TimeOfDay::hms(9, 10, 1));
        assert_eq!(c.elapsed(), Duration::from_secs(601));
    }

    #[test]
    fn manual_clock_set_jumps_the_time_of_day_not_the_instant() {
        let c = ManualClock::new(TimeOfDay::hms(9, 0, 0));
        c.advance(Duration::from_millis(1_700));
        let before = c.now();
        c.set_time_of_day(TimeOfDay::hms(15, 14, 59));
        assert_eq!(c.time_of_day(), TimeOfDay::hms(15, 14, 59));
        assert_eq!(c.now(), before);
        c.advance_secs(1);
        assert_eq!(c.time_of_day(), TimeOfDay::hms(15, 15, 0));
        // Backwards is allowed for the time of day (a new replay day).
        c.set_time_of_day(TimeOfDay::hms(8, 0, 0));
        assert_eq!(c.time_of_day(), TimeOfDay::hms(8, 0, 0));
    }

    #[test]
    fn manual_clock_wraps_at_midnight() {
        let c = ManualClock::new(TimeOfDay::hms(23, 59, 59));
        c.advance_secs(2);
        assert_eq!(c.time_of_day(), TimeOfDay::hms(0, 0, 1));
    }

    #[test]
    fn manual_clock_clones_share_time_across_threads() {
        let c = ManualClock::new(TimeOfDay::hms(10, 0, 0));
        let engine: Arc<dyn Clock> = Arc::new(c.clone());
        std::thread::spawn({
            let c = c.clone();
            move || c.advance_secs(30)
        })
        .join()
        .unwrap();
        assert_eq!(engine.time_of_day(), TimeOfDay::hms(10, 0, 30));
        assert_eq!(engine.now(), c.now());
    }
}
