//! Where the engine gets the time: the KST trading day, the KST time of day, the wall clock
//! (for journal timestamps) and a monotonic `Instant`.
//!
//! Owns [`TradingDay`] and the clocks: [`SystemClock`] for live trading, [`ManualClock`] for tests,
//! backtests and replays, which only moves when told to, and [`ScaledClock`] (`scaled`), the
//! market's time run faster than real time from a [`ClockSpec`], for testing days in seconds. Every actor is given an
//! `Arc<dyn Clock>`, so a replay sees exactly the times it was fed. Must never hold a
//! lock across a call: the manual clock is a few atomics behind an `Arc`.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::market::TimeOfDay;

mod scaled;
pub use scaled::{
    BadClockSpec, ClockSpec, ScaledClock, DEFAULT_LEAD_MINS, MAX_LEAD_MINS, MAX_SPEED,
};

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
    /// Milliseconds since 1970-01-01 00:00:00 UTC: when an event happened, for the journal.
    fn unix_ms(&self) -> i64;
    /// The KST calendar day: which day's journal, limits and kill switch are in force.
    fn today(&self) -> TradingDay {
        TradingDay::from_unix_ms(self.unix_ms())
    }
    /// Real time from now until this clock shows `market_unix_ms` (zero if it already
    /// does; `None` if it never will): how long a loop sleeps for a market time. One to one
    /// unless the clock is scaled; a [`ManualClock`] moves only when told, so for it this
    /// is the time it would take at 1x.
    fn real_duration_until(&self, market_unix_ms: i64) -> Option<Duration> {
        let ms = market_unix_ms.saturating_sub(self.unix_ms()).max(0);
        Some(Duration::from_millis(ms as u64))
    }
}

/// A KST calendar day. One trading day's journal is one file; a kill switch tripped on one
/// day is off the next. Ordered by date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TradingDay {
    year: u16,
    month: u8,
    day: u8,
}

/// A day that is not a `YYYY-MM-DD` calendar date.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date (YYYY-MM-DD)")]
pub struct BadTradingDay(pub String);

impl TradingDay {
    /// `year-month-day`, if that date exists (years 1970..=9999).
    pub fn new(year: u16, month: u8, day: u8) -> Option<TradingDay> {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1970..=9999).contains(&year) && day >= 1 && day <= days_in_month).then_some(TradingDay {
            year,
            month,
            day,
        })
    }

    /// The KST date at `ms` after the Unix epoch (times before 1970 read as 1970-01-01).
    pub fn from_unix_ms(ms: i64) -> TradingDay {
        let kst_secs = ms.max(0) / 1000 + KST_OFFSET_SECS as i64;
        let days = kst_secs / DAY_SECS as i64;
        // Howard Hinnant's civil-from-days, for days since 1970-01-01.
        let z = days + 719_468;
        let era = z / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)).min(9999) as u16;
        TradingDay { year, month, day }
    }

    /// Milliseconds since the Unix epoch at 00:00:00 KST of this day.
    pub fn midnight_unix_ms(self) -> i64 {
        // Hinnant's days-from-civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y / 400;
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        (days * DAY_SECS as i64 - KST_OFFSET_SECS as i64) * 1000
    }

    pub fn year(self) -> u16 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }
}

impl fmt::Display for TradingDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for TradingDay {
    type Err = BadTradingDay;
    fn from_str(s: &str) -> Result<TradingDay, BadTradingDay> {
        let bad = || BadTradingDay(s.to_owned());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16, BadTradingDay> {
            let part = &s[r];
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        TradingDay::new(y, m as u8, d as u8).ok_or_else(bad)
    }
}

// As `"YYYY-MM-DD"`, the same text as `Display`: a journaled day reads as a date in
// `sqlite3`, and a bad date is refused on the way in, not found later.
impl Serialize for TradingDay {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TradingDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
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

    fn unix_ms(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// The market's time of day as the exchange prints it: the latest trade time seen, moved
/// on by the monotonic time since. Strategy time rules (time stop, flatten before the
/// close) read this, not the host's wall clock, so they agree with the trades' own times
/// whether the exchange is LS or a simulator whose day started when it did.
///
/// Trade times are whole seconds (truncated), so this may lag the exchange by under a
/// second; it never goes back. Before the first trade it is `None`: the caller decides
/// what to fall back on.
#[derive(Clone, Copy, Debug, Default)]
pub struct MarketClock {
    anchor: Option<(TimeOfDay, Instant)>,
    /// The latest printed time [`Self::observe_with`] has looked at: anything no later
    /// cannot move the clock, as it did not then and the projection only grows.
    looked_at: Option<TimeOfDay>,
}

impl MarketClock {
    /// A trade printed at `exchange_time` was received at `at`.
    pub fn observe(&mut self, exchange_time: TimeOfDay, at: Instant) {
        let ahead = self
            .time_at(at)
            .is_none_or(|projected| exchange_time > projected);
        if ahead {
            self.anchor = Some((exchange_time, at));
        }
    }

    /// As [`Self::observe`] at `now`, reading the time only for a printed second not
    /// looked at before: a trade printed no later than one already looked at cannot move
    /// the clock (the projection it lost to has only grown since), so most ticks, which
    /// share a printed second, cost no clock read. `now` must not go back.
    pub fn observe_with(&mut self, exchange_time: TimeOfDay, now: impl FnOnce() -> Instant) {
        if self.looked_at.is_some_and(|seen| exchange_time <= seen) {
            return;
        }
        self.looked_at = Some(exchange_time);
        self.observe(exchange_time, now());
    }

    /// The market's time at `at`, once a trade has been seen; stops at 23:59:59.
    pub fn time_at(&self, at: Instant) -> Option<TimeOfDay> {
        let (time, seen) = self.anchor?;
        let since = at.saturating_duration_since(seen).as_secs();
        let secs = u64::from(time.secs())
            .saturating_add(since)
            .min(DAY_SECS - 1);
        // < 86,400, so it fits a u32.
        Some(TimeOfDay::from_secs(secs as u32))
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
    /// The calendar day's midnight (KST) in Unix ms; moves only by `set_day`.
    day_midnight_ms: AtomicI64,
}

/// The day a [`ManualClock`] starts on: a Monday.
pub const MANUAL_CLOCK_DAY: TradingDay = TradingDay {
    year: 2026,
    month: 1,
    day: 5,
};

impl ManualClock {
    /// A clock standing at `at` (KST).
    pub fn new(at: TimeOfDay) -> ManualClock {
        ManualClock {
            inner: Arc::new(ManualInner {
                origin: Instant::now(),
                elapsed_nanos: AtomicU64::new(0),
                tod_origin_nanos: AtomicU64::new(u64::from(at.secs()) * NANOS_PER_SEC),
                day_midnight_ms: AtomicI64::new(MANUAL_CLOCK_DAY.midnight_unix_ms()),
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

    /// Sets the calendar day (the time of day and the instant do not move): a new day for
    /// the journal and the kill switch. The day does not roll over at midnight by itself.
    pub fn set_day(&self, day: TradingDay) {
        self.inner
            .day_midnight_ms
            .store(day.midnight_unix_ms(), Ordering::SeqCst);
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

    fn unix_ms(&self) -> i64 {
        let tod_ms = i64::from(self.time_of_day().secs()) * 1000;
        self.inner.day_midnight_ms.load(Ordering::SeqCst) + tod_ms
    }

    fn today(&self) -> TradingDay {
        TradingDay::from_unix_ms(self.inner.day_midnight_ms.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_market_clock_follows_the_tape_and_never_goes_back() {
        let t0 = Instant::now();
        let mut c = MarketClock::default();
        assert_eq!(c.time_at(t0), None, "no trade seen yet");
        c.observe(TimeOfDay::hms(9, 0, 5), t0);
        assert_eq!(c.time_at(t0), Some(TimeOfDay::hms(9, 0, 5)));
        // Moves on with the monotonic clock while no trade comes.
        let later = t0 + Duration::from_millis(2_500);
        assert_eq!(c.time_at(later), Some(TimeOfDay::hms(9, 0, 7)));
        // An older print (a late frame of another ticker) does not take it back.
        c.observe(TimeOfDay::hms(9, 0, 6), later);
        assert_eq!(c.time_at(later), Some(TimeOfDay::hms(9, 0, 7)));
        // A print ahead of the projection re-anchors it.
        c.observe(TimeOfDay::hms(9, 30, 0), later);
        assert_eq!(c.time_at(later), Some(TimeOfDay::hms(9, 30, 0)));
        // An instant before the anchor reads as the anchor.
        assert_eq!(c.time_at(t0), Some(TimeOfDay::hms(9, 30, 0)));
        // The day ends at 23:59:59.
        c.observe(TimeOfDay::hms(23, 59, 58), later);
        let next_day = later + Duration::from_secs(10);
        assert_eq!(c.time_at(next_day), Some(TimeOfDay::hms(23, 59, 59)));
    }

    #[test]
    fn observe_with_reads_the_time_only_for_a_later_printed_second() {
        let t0 = Instant::now();
        let mut c = MarketClock::default();
        let mut reads = 0;
        c.observe_with(TimeOfDay::hms(9, 0, 5), || {
            reads += 1;
            t0
        });
        c.observe_with(TimeOfDay::hms(9, 0, 5), || {
            reads += 1;
            t0
        });
        c.observe_with(TimeOfDay::hms(9, 0, 4), || {
            reads += 1;
            t0
        });
        assert_eq!(reads, 1, "the same or an earlier second moves nothing");
        c.observe_with(TimeOfDay::hms(9, 0, 6), || {
            reads += 1;
            t0
        });
        assert_eq!(reads, 2);
        assert_eq!(c.time_at(t0), Some(TimeOfDay::hms(9, 0, 6)));
    }

    /// A trade behind the projection (the clock ran on from an earlier one) leaves the
    /// clock, and one printed in the same second again needs no clock read.
    #[test]
    fn observe_with_reads_the_time_once_for_a_second_behind_the_projection() {
        let t0 = Instant::now();
        let mut c = MarketClock::default();
        let mut reads = 0;
        c.observe_with(TimeOfDay::hms(9, 0, 0), || {
            reads += 1;
            t0
        });
        let later = t0 + Duration::from_secs(5);
        for _ in 0..3 {
            c.observe_with(TimeOfDay::hms(9, 0, 3), || {
                reads += 1;
                later
            });
        }
        assert_eq!(reads, 2, "9:00:03 looked at once");
        assert_eq!(c.time_at(later), Some(TimeOfDay::hms(9, 0, 5)), "not moved");
        c.observe_with(TimeOfDay::hms(9, 0, 7), || {
            reads += 1;
            later
        });
        assert_eq!(
            (reads, c.time_at(later)),
            (3, Some(TimeOfDay::hms(9, 0, 7)))
        );
    }

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
    fn trading_days_follow_the_kst_calendar() {
        assert_eq!(TradingDay::from_unix_ms(0).to_string(), "1970-01-01");
        // 2024-01-02 14:59:59.999 UTC is 23:59:59 KST on the 2nd; a ms later it is the 3rd.
        assert_eq!(
            TradingDay::from_unix_ms(1_704_207_599_999).to_string(),
            "2024-01-02"
        );
        assert_eq!(
            TradingDay::from_unix_ms(1_704_207_600_000).to_string(),
            "2024-01-03"
        );
        assert_eq!(
            TradingDay::from_unix_ms(1_709_164_800_000).to_string(),
            "2024-02-29"
        );
        // Every day of 1970..2100 survives a round trip through its midnight and its text.
        let mut day = TradingDay::from_unix_ms(0);
        for _ in 0..47_482 {
            let midnight = day.midnight_unix_ms();
            assert_eq!(TradingDay::from_unix_ms(midnight), day);
            assert_eq!(day.to_string().parse::<TradingDay>(), Ok(day));
            let next = TradingDay::from_unix_ms(midnight + DAY_SECS as i64 * 1000);
            assert!(next > day, "{next} after {day}");
            day = next;
        }
        assert_eq!(day.to_string(), "2100-01-01");
    }

    #[test]
    fn trading_day_text_is_strict() {
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-1-05",
            "20260105",
            "2026-01-0x",
            "",
        ] {
            assert!(bad.parse::<TradingDay>().is_err(), "{bad}");
        }
        assert_eq!(
            "2028-02-29".parse::<TradingDay>(),
            Ok(TradingDay::new(2028, 2, 29).unwrap())
        );
    }

    #[test]
    fn trading_day_serializes_as_its_date_text() {
        let day = TradingDay::new(2026, 1, 5).unwrap();
        let json = serde_json::to_string(&day).unwrap();
        assert_eq!(json, r#""2026-01-05""#);
        assert_eq!(serde_json::from_str::<TradingDay>(&json).unwrap(), day);
        let e = serde_json::from_str::<TradingDay>(r#""2026-02-30""#).unwrap_err();
        assert!(e.to_string().contains("not a date"), "{e}");
        assert!(serde_json::from_str::<TradingDay>("20260105").is_err());
    }

    #[test]
    fn manual_clock_has_a_day_that_moves_only_when_set() {
        let c = ManualClock::new(TimeOfDay::hms(23, 59, 59));
        assert_eq!(c.today(), MANUAL_CLOCK_DAY);
        c.advance_secs(5);
        assert_eq!(c.today(), MANUAL_CLOCK_DAY);
        let next = TradingDay::new(2026, 1, 6).unwrap();
        c.set_day(next);
        assert_eq!(c.today(), next);
        assert_eq!(c.unix_ms(), next.midnight_unix_ms() + 4_000);
    }

    #[test]
    fn the_real_clock_waits_one_to_one_for_a_market_time() {
        let c = SystemClock;
        let in_a_minute = c.unix_ms() + 60_000;
        let wait = c.real_duration_until(in_a_minute).unwrap();
        assert!(
            wait <= Duration::from_secs(60) && wait > Duration::from_secs(50),
            "{wait:?}"
        );
        assert_eq!(c.real_duration_until(0), Some(Duration::ZERO));
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
