//! An accelerated market clock, so a test can live a close, a night and the next open in
//! seconds: [`ClockSpec`] says where the market's clock starts and how fast it runs, and
//! [`ScaledClock`] reads it.
//!
//! Market time is a pure function of the spec, the calendar and the real time since its
//! epoch: while the market's time is inside a session (the calendar's, from `lead` before
//! its open to its close) it runs at the session speed, otherwise at the idle speed. condor
//! and the simulator, given the same spec and the same calendar, compute the same market
//! time without talking. The calendar is KRX's with the operator's closures and delayed
//! opens (`CONDOR_CLOSED_DAYS`, `CONDOR_LATE_OPEN`), which `condor run` and `condor sim`
//! both read: a configured closure is idle, a late open starts its lead later.
//!
//! Integer nanoseconds throughout (i128: years of real time at any speed fit); the clock
//! stops at 9999-01-01 00:00 KST, the end of the days [`TradingDay`] can name.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{kst_time_of_day, Clock, TradingDay, NANOS_PER_SEC};
use crate::calendar::Calendar;
use crate::market::TimeOfDay;

const NS_PER_MS: i128 = 1_000_000;
/// Fastest speed a spec may ask: a night in under a second, nothing that overflows.
pub const MAX_SPEED: u64 = 1_000_000;
/// Longest lead before the open: the pre-open work of a morning, not a day.
pub const MAX_LEAD_MINS: u32 = 8 * 60;
/// Lead before the open when the spec gives none: pre-open work (token, reconcile,
/// condition registration) runs at session speed.
pub const DEFAULT_LEAD_MINS: u32 = 30;

/// How the market's clock runs: `start` (KST) at real Unix time `epoch_ms`, then
/// `session_speed`× inside sessions (from `lead_mins` before the open) and `idle_speed`×
/// outside them.
///
/// Text form (`CONDOR_CLOCK`): `YYYY-MM-DDTHH:MM:SS[@EPOCH_MS]xSESSION[/IDLE][,lead=MIN]`,
/// e.g. `2026-12-03T15:25:00@1764740700000x10/3600,lead=0`. Without `@EPOCH_MS` the start
/// applies when the setting is read; without `/IDLE` the idle speed is the session speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSpec {
    pub start_day: TradingDay,
    pub start_time: TimeOfDay,
    /// Real Unix milliseconds at which the market's clock shows the start.
    pub epoch_ms: i64,
    pub session_speed: u64,
    pub idle_speed: u64,
    /// Minutes before each open that already run at session speed.
    pub lead_mins: u32,
}

/// A clock spec that does not parse: what is wrong. The caller names the setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} {why}; the form is YYYY-MM-DDTHH:MM:SS[@EPOCH_MS]xSESSION[/IDLE][,lead=MIN], e.g. 2026-12-03T15:25:00x10/3600")]
pub struct BadClockSpec {
    pub value: String,
    pub why: String,
}

/// Where the mapping stands: real nanoseconds since the epoch and the market's Unix
/// nanoseconds at that moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Point {
    real: i128,
    market: i128,
}

impl ClockSpec {
    /// Parses the text form; `now_ms` (real Unix ms) is the epoch when the text has none.
    pub fn parse(text: &str, now_ms: i64) -> Result<ClockSpec, BadClockSpec> {
        let bad = |why: &str| BadClockSpec {
            value: text.to_owned(),
            why: why.to_owned(),
        };
        let s = text.trim();
        let (main, lead) = match s.split_once(',') {
            Some((main, opt)) => {
                let mins = opt
                    .trim()
                    .strip_prefix("lead=")
                    .ok_or_else(|| bad("has an option other than lead=MIN"))?;
                let mins: u32 =
                    digits(mins).ok_or_else(|| bad("has a lead that is not whole minutes"))?;
                if mins > MAX_LEAD_MINS {
                    return Err(bad("has a lead over 480 minutes"));
                }
                (main, mins)
            }
            None => (s, DEFAULT_LEAD_MINS),
        };
        let (when, speeds) = main
            .rsplit_once('x')
            .ok_or_else(|| bad("has no speed (xSESSION[/IDLE])"))?;
        let (session, idle) = match speeds.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (speeds, None),
        };
        let speed = |t: &str| {
            digits::<u64>(t)
                .filter(|v| (1..=MAX_SPEED).contains(v))
                .ok_or_else(|| bad("has a speed that is not a whole number from 1 to 1000000"))
        };
        let session_speed = speed(session)?;
        let idle_speed = idle.map_or(Ok(session_speed), speed)?;
        let (start, epoch_ms) = match when.split_once('@') {
            Some((start, epoch)) => (
                start,
                digits::<i64>(epoch)
                    .ok_or_else(|| bad("has an epoch that is not Unix milliseconds"))?,
            ),
            None => (when, now_ms),
        };
        let (date, time) = start
            .split_once('T')
            .ok_or_else(|| bad("has no start YYYY-MM-DDTHH:MM:SS"))?;
        let start_day: TradingDay = date
            .parse()
            .map_err(|_| bad("has a start date that is not YYYY-MM-DD"))?;
        let start_time =
            hh_mm_ss(time).ok_or_else(|| bad("has a start time that is not HH:MM:SS"))?;
        if start_day.year() >= 9999 {
            return Err(bad("starts after the last day the clock can show"));
        }
        Ok(ClockSpec {
            start_day,
            start_time,
            epoch_ms,
            session_speed,
            idle_speed,
            lead_mins: lead,
        })
    }

    /// The market's Unix milliseconds at the epoch.
    pub fn start_unix_ms(&self) -> i64 {
        self.start_day.midnight_unix_ms() + i64::from(self.start_time.secs()) * 1000
    }

    fn start(&self) -> Point {
        Point {
            real: 0,
            market: i128::from(self.start_unix_ms()) * NS_PER_MS,
        }
    }

    /// The market's Unix milliseconds `real_ms` real milliseconds after the epoch (before
    /// it, the market stands at the start).
    pub fn market_unix_ms(&self, calendar: &Calendar, real_ms: i64) -> i64 {
        let p = self
            .walk(calendar, self.start(), i128::from(real_ms) * NS_PER_MS)
            .0;
        ns_to_ms(p.market)
    }

    /// The real milliseconds after the epoch at which the market's clock first shows
    /// `market_unix_ms` or later: 0 for a time at or before the start, `None` for one the
    /// clock never reaches (9999 and after).
    pub fn real_ms_at(&self, calendar: &Calendar, market_unix_ms: i64) -> Option<i64> {
        let real = self.real_at(
            calendar,
            self.start(),
            i128::from(market_unix_ms) * NS_PER_MS,
        )?;
        // Rounded up: at the answer, the market has reached the time.
        Some(i64::try_from((real + NS_PER_MS - 1) / NS_PER_MS).unwrap_or(i64::MAX))
    }

    /// The speed at market time `m` (Unix ns) and when it next changes.
    fn window(&self, calendar: &Calendar, m: i128) -> (u64, i128) {
        let ms = ns_to_ms(m);
        let day = TradingDay::from_unix_ms(ms);
        let midnight = i128::from(day.midnight_unix_ms()) * NS_PER_MS;
        let lead = i128::from(self.lead_mins) * 60 * i128::from(NANOS_PER_SEC);
        let fast_from =
            |midnight: i128, open: TimeOfDay| (midnight + secs_ns(open) - lead).max(midnight);
        if let Some(s) = calendar.session(day) {
            let from = fast_from(midnight, s.open);
            let close = midnight + secs_ns(s.close);
            if m < from {
                return (self.idle_speed, from);
            }
            if m < close {
                return (self.session_speed, close);
            }
        }
        let (next_day, next) = calendar.next_session_after(day, TimeOfDay::hms(23, 59, 59));
        let next_midnight = i128::from(next_day.midnight_unix_ms()) * NS_PER_MS;
        (self.idle_speed, fast_from(next_midnight, next.open))
    }

    /// From `p`, on to real time `real`: the point reached and the last speed change
    /// passed (or `p`), which a caller may keep to start its next walk from.
    fn walk(&self, calendar: &Calendar, mut p: Point, real: i128) -> (Point, Point) {
        let end = end_ns();
        if real <= p.real {
            return (p, p);
        }
        loop {
            if p.market >= end {
                return (p, p);
            }
            let (speed, change) = self.window(calendar, p.market);
            let change = change.min(end);
            let speed = i128::from(speed);
            // Real time to the change, rounded up so the change is reached, not passed by.
            let to_change = (change - p.market + speed - 1) / speed;
            if real - p.real >= to_change {
                p = Point {
                    real: p.real + to_change,
                    market: change,
                };
            } else {
                let at = Point {
                    real,
                    market: p.market + (real - p.real) * speed,
                };
                return (at, p);
            }
        }
    }

    /// From `p` (whose market time is at or before `market`): the real time at which the
    /// market first shows `market`.
    fn real_at(&self, calendar: &Calendar, mut p: Point, market: i128) -> Option<i128> {
        if market >= end_ns() {
            return None;
        }
        loop {
            if market <= p.market {
                return Some(p.real);
            }
            let (speed, change) = self.window(calendar, p.market);
            let speed = i128::from(speed);
            let target = market.min(change);
            let real = p.real + (target - p.market + speed - 1) / speed;
            if market <= change {
                return Some(real);
            }
            p = Point {
                real,
                market: change,
            };
        }
    }
}

impl fmt::Display for ClockSpec {
    /// The full text form, epoch included: what a second process needs to agree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.start_time.secs();
        write!(
            f,
            "{}T{:02}:{:02}:{:02}@{}x{}/{},lead={}",
            self.start_day,
            t / 3600,
            t / 60 % 60,
            t % 60,
            self.epoch_ms,
            self.session_speed,
            self.idle_speed,
            self.lead_mins
        )
    }
}

/// The market's clock run by a [`ClockSpec`] from the host's real clock. `now()` is an
/// `Instant` that moves with market time, so timers and rates the engine measures with it
/// are in market time. Never goes back, even if the host's clock does.
#[derive(Debug)]
pub struct ScaledClock {
    spec: ClockSpec,
    calendar: Calendar,
    /// Latest real ns since the epoch seen: a host clock stepping back does not take the
    /// market back.
    latest_real: AtomicI64,
    /// The last speed change walked past: each read walks on from here, not from the epoch.
    checkpoint: Mutex<Point>,
    /// `now()` = `base` + market time since `base_market` (Unix ns).
    base: Instant,
    base_market: i128,
}

impl ScaledClock {
    /// On KRX's published calendar alone.
    pub fn new(spec: ClockSpec) -> ScaledClock {
        ScaledClock::with_calendar(spec, Calendar::krx())
    }

    /// On `calendar`: its closures idle, its sessions (late opens included) at session
    /// speed. Another process agrees only if it has the same calendar.
    pub fn with_calendar(spec: ClockSpec, calendar: Calendar) -> ScaledClock {
        let start = spec.start();
        let mut clock = ScaledClock {
            spec,
            calendar,
            latest_real: AtomicI64::new(i64::MIN),
            checkpoint: Mutex::new(start),
            base: Instant::now(),
            base_market: start.market,
        };
        clock.base_market = clock.market_ns();
        clock
    }

    pub fn spec(&self) -> &ClockSpec {
        &self.spec
    }

    fn real_wait_until(&self, market_unix_ms: i64) -> Option<Duration> {
        let real = self.real_ns();
        let target = i128::from(market_unix_ms) * NS_PER_MS;
        let from = self.checkpoint_before(real);
        let from = if from.market <= target {
            from
        } else {
            self.spec.start()
        };
        let at = self.spec.real_at(&self.calendar, from, target)?;
        let wait = (at - i128::from(real)).max(0);
        Some(Duration::from_nanos(
            u64::try_from(wait).unwrap_or(u64::MAX),
        ))
    }

    /// Real ns since the epoch, never less than a previous read.
    fn real_ns(&self) -> i64 {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        let real = now.saturating_sub(self.spec.epoch_ms.saturating_mul(1_000_000));
        let before = self.latest_real.fetch_max(real, Ordering::AcqRel);
        real.max(before)
    }

    fn checkpoint_before(&self, real: i64) -> Point {
        // A poisoned lock held only a Point: start over from the epoch.
        let cp = self.checkpoint.lock().map_or(self.spec.start(), |g| *g);
        if cp.real <= i128::from(real) {
            cp
        } else {
            self.spec.start()
        }
    }

    /// The market's Unix ns now.
    fn market_ns(&self) -> i128 {
        let real = self.real_ns();
        let from = self.checkpoint_before(real);
        let (at, passed) = self.spec.walk(&self.calendar, from, i128::from(real));
        if passed != from {
            if let Ok(mut cp) = self.checkpoint.lock() {
                if passed.real > cp.real {
                    *cp = passed;
                }
            }
        }
        at.market
    }
}

impl Clock for ScaledClock {
    fn time_of_day(&self) -> TimeOfDay {
        let ms = ns_to_ms(self.market_ns()).max(0);
        kst_time_of_day(Duration::from_millis(ms as u64))
    }

    fn now(&self) -> Instant {
        let since = (self.market_ns() - self.base_market).max(0);
        self.base + Duration::from_nanos(u64::try_from(since).unwrap_or(u64::MAX))
    }

    fn unix_ms(&self) -> i64 {
        ns_to_ms(self.market_ns())
    }

    /// Walks the spec's speeds to the target: a night at 3600x is its length / 3600.
    fn real_duration_until(&self, market_unix_ms: i64) -> Option<Duration> {
        self.real_wait_until(market_unix_ms)
    }
}

/// 9999-01-01 00:00 KST in Unix ns: the clock stands there.
fn end_ns() -> i128 {
    let day = TradingDay::new(9999, 1, 1).map_or(0, TradingDay::midnight_unix_ms);
    i128::from(day) * NS_PER_MS
}

fn ns_to_ms(ns: i128) -> i64 {
    i64::try_from(ns.div_euclid(NS_PER_MS)).unwrap_or(i64::MAX)
}

fn secs_ns(t: TimeOfDay) -> i128 {
    i128::from(t.secs()) * i128::from(NANOS_PER_SEC)
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    let s = s.trim();
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// `HH:MM:SS`, 24-hour.
fn hh_mm_ss(s: &str) -> Option<TimeOfDay> {
    let mut parts = s.split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || [h, m, sec].iter().any(|p| p.len() != 2) {
        return None;
    }
    let (h, m, sec): (u32, u32, u32) = (digits(h)?, digits(m)?, digits(sec)?);
    (h <= 23 && m <= 59 && sec <= 59).then(|| TimeOfDay::hms(h, m, sec))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const HOUR: i64 = 60 * MIN;

    fn at(date: &str, h: u32, m: u32, s: u32) -> i64 {
        let day: TradingDay = date.parse().unwrap();
        day.midnight_unix_ms() + i64::from(TimeOfDay::hms(h, m, s).secs()) * 1000
    }

    fn spec(text: &str) -> ClockSpec {
        ClockSpec::parse(text, 0).unwrap()
    }

    fn d(date: &str) -> TradingDay {
        date.parse().unwrap()
    }

    #[test]
    fn the_text_form_parses_and_prints_back() {
        let s = spec("2026-12-03T15:25:00@1764740700000x10/3600,lead=0");
        assert_eq!(s.start_day.to_string(), "2026-12-03");
        assert_eq!(s.start_time, TimeOfDay::hms(15, 25, 0));
        assert_eq!(
            (s.epoch_ms, s.session_speed, s.idle_speed, s.lead_mins),
            (1_764_740_700_000, 10, 3600, 0)
        );
        assert_eq!(ClockSpec::parse(&s.to_string(), 0), Ok(s));
        // No epoch: the moment it was read. No idle speed: the session's. No lead: 30.
        let s = ClockSpec::parse("2026-12-03T08:00:00x60", 123).unwrap();
        assert_eq!((s.epoch_ms, s.session_speed, s.idle_speed), (123, 60, 60));
        assert_eq!(s.lead_mins, DEFAULT_LEAD_MINS);
    }

    #[test]
    fn bad_text_says_what_is_wrong() {
        for (bad, says) in [
            ("", "no speed"),
            ("2026-12-03T15:25:00", "no speed"),
            ("2026-12-03T15:25:00x0", "speed"),
            ("2026-12-03T15:25:00x1.5", "speed"),
            ("2026-12-03T15:25:00x10/", "speed"),
            ("2026-12-03T15:25:00x2000000", "speed"),
            ("2026-12-03T15:25x10", "start time"),
            ("2026-12-03T25:00:00x10", "start time"),
            ("2026-02-30T09:00:00x10", "start date"),
            ("2026-12-03 15:25:00x10", "no start"),
            ("2026-12-03T15:25:00@soonx10", "epoch"),
            ("2026-12-03T15:25:00x10,lead=481", "lead over"),
            ("2026-12-03T15:25:00x10,lead=-1", "whole minutes"),
            ("2026-12-03T15:25:00x10,fast", "option"),
        ] {
            let e = ClockSpec::parse(bad, 0).unwrap_err();
            assert_eq!(e.value, bad);
            assert!(e.why.contains(says), "{bad}: {e}");
            assert!(e.to_string().contains("YYYY-MM-DDTHH:MM:SS"), "{e}");
        }
    }

    #[test]
    fn at_one_times_it_is_the_real_clock_shifted() {
        let s = spec("2026-12-02T10:00:00@5000x1");
        let c = Calendar::krx();
        let start = at("2026-12-02", 10, 0, 0);
        assert_eq!(s.market_unix_ms(&c, 0), start);
        assert_eq!(
            s.market_unix_ms(&c, -7_000),
            start,
            "stands before the epoch"
        );
        // Over the close, the night, the weekend: still the identity, shifted.
        for real in [1, 999, 5 * HOUR + 29 * MIN, 6 * HOUR, 20 * HOUR, 100 * HOUR] {
            assert_eq!(s.market_unix_ms(&c, real), start + real, "{real}");
            assert_eq!(s.real_ms_at(&c, start + real), Some(real));
        }
    }

    #[test]
    fn crossing_the_close_switches_speed_exactly() {
        // Thursday 15:29:50 at 10x in the session, 3600x outside.
        let s = spec("2026-12-03T15:29:50@0x10/3600,lead=0");
        let c = Calendar::krx();
        // 10 market seconds to the close: 1 real second.
        assert_eq!(
            s.market_unix_ms(&c, 999),
            at("2026-12-03", 15, 29, 59) + 990
        );
        assert_eq!(s.market_unix_ms(&c, 1_000), at("2026-12-03", 15, 30, 0));
        // Then an hour a second.
        assert_eq!(s.market_unix_ms(&c, 2_000), at("2026-12-03", 16, 30, 0));
        assert_eq!(s.real_ms_at(&c, at("2026-12-03", 15, 30, 0)), Some(1_000));
        assert_eq!(s.real_ms_at(&c, at("2026-12-03", 16, 30, 0)), Some(2_000));
    }

    #[test]
    fn overnight_to_the_next_open_takes_the_computed_real_time() {
        // Thursday's close to Friday's 08:30 (30 min lead) is 17 h: 17 s at 3600x; the
        // half hour before the open then runs at 60x: 30 s.
        let s = spec("2026-12-03T15:30:00@0x60/3600");
        let c = Calendar::krx();
        assert_eq!(s.real_ms_at(&c, at("2026-12-04", 8, 30, 0)), Some(17_000));
        assert_eq!(s.real_ms_at(&c, at("2026-12-04", 9, 0, 0)), Some(47_000));
        assert_eq!(s.market_unix_ms(&c, 17_000), at("2026-12-04", 8, 30, 0));
        assert_eq!(s.market_unix_ms(&c, 17_500), at("2026-12-04", 8, 30, 30));
        assert_eq!(s.market_unix_ms(&c, 47_000), at("2026-12-04", 9, 0, 0));
        // The session runs at 60x until Friday's close: 6.5 h = 390 s.
        assert_eq!(
            s.market_unix_ms(&c, 47_000 + 390_000),
            at("2026-12-04", 15, 30, 0)
        );
    }

    #[test]
    fn weekends_and_holidays_run_at_idle_speed() {
        let c = Calendar::krx();
        // Friday 2026-12-04 15:30 to Monday 12-07 09:00: 65.5 h, all idle without a lead.
        let s = spec("2026-12-04T15:30:00@0x1/3600,lead=0");
        assert_eq!(s.real_ms_at(&c, at("2026-12-07", 9, 0, 0)), Some(65_500));
        // 추석 2026 (Thu 09-24, Fri 09-25) and the weekend: Wednesday's close to Monday's open.
        let s = spec("2026-09-23T15:30:00@0x1/3600,lead=0");
        let monday = at("2026-09-28", 9, 0, 0);
        let hours = (monday - at("2026-09-23", 15, 30, 0)) / HOUR;
        assert_eq!(hours, 113);
        assert_eq!(s.real_ms_at(&c, monday), Some(113 * 1_000 + 500));
        // A start on a holiday's morning is idle until the next day's session.
        let s = spec("2026-09-25T10:00:00@0x1/3600,lead=0");
        assert_eq!(s.market_unix_ms(&c, 1_000), at("2026-09-25", 11, 0, 0));
    }

    #[test]
    fn a_configured_closure_idles_and_a_late_open_moves_the_lead() {
        // Tuesday 2026-12-01's close, Wednesday closed by the operator: idle (3600x) to
        // Thursday's open, 41.5 h in 41.5 s; KRX's calendar alone would run Wednesday's
        // session at 60x.
        let s = spec("2026-12-01T15:30:00@0x60/3600,lead=0");
        let krx = Calendar::krx();
        assert!(krx.session(d("2026-12-02")).is_some());
        assert_eq!(s.real_ms_at(&krx, at("2026-12-02", 9, 0, 0)), Some(17_500));
        let closed = Calendar::krx().with_closures("2026-12-02").unwrap();
        assert_eq!(
            s.real_ms_at(&closed, at("2026-12-03", 9, 0, 0)),
            Some(41_500)
        );
        assert_eq!(
            s.market_unix_ms(&closed, 20_000),
            at("2026-12-02", 11, 30, 0),
            "idle through the closed day"
        );
        // Thursday opening at 10:00 as well: its 30-minute lead starts at 09:30, so the
        // idle runs to 09:30 (42 h: 42 s) and the lead at 60x (30 s).
        let s = spec("2026-12-01T15:30:00@0x60/3600,lead=30");
        let late = Calendar::krx()
            .with_closures("2026-12-02")
            .unwrap()
            .with_late_opens("2026-12-03@10:00")
            .unwrap();
        assert_eq!(
            s.real_ms_at(&late, at("2026-12-03", 9, 30, 0)),
            Some(42_000)
        );
        assert_eq!(
            s.real_ms_at(&late, at("2026-12-03", 10, 0, 0)),
            Some(72_000)
        );
        // The scaled clock reads the calendar it is given.
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        let s =
            ClockSpec::parse(&format!("2026-12-01T15:30:00@{now_ms}x60/3600,lead=0"), 0).unwrap();
        let to_thursday = |c: Calendar| {
            ScaledClock::with_calendar(s, c)
                .real_duration_until(at("2026-12-03", 9, 0, 0))
                .unwrap()
        };
        assert!(to_thursday(closed) > Duration::from_secs(40));
        assert!(to_thursday(Calendar::krx()) > Duration::from_secs(400));
    }

    #[test]
    fn market_time_never_goes_back_and_inverts() {
        let s = spec("2026-12-03T08:59:00@0x7/3599,lead=17");
        let c = Calendar::krx();
        let mut before = s.market_unix_ms(&c, 0);
        let mut real = 0;
        // Steps of odd sizes over a week, boundaries included.
        while real < 200_000 {
            real += 37;
            let m = s.market_unix_ms(&c, real);
            assert!(m >= before, "{real}: {m} < {before}");
            // The inverse finds the first real ms at which the market shows m.
            let r = s.real_ms_at(&c, m).unwrap();
            assert!(r <= real, "{real}: reached at {r}");
            assert!(s.market_unix_ms(&c, r) >= m);
            before = m;
        }
    }

    #[test]
    fn walking_on_from_a_checkpoint_matches_walking_from_the_epoch() {
        let s = spec("2026-12-03T15:00:00@0x13/3600,lead=5");
        let c = Calendar::krx();
        let (mut p, mut cp) = (s.start(), s.start());
        for real_ms in (0..400_000).step_by(997) {
            let real = i128::from(real_ms) * NS_PER_MS;
            let (from_cp, passed) = s.walk(&c, cp, real);
            let (from_start, _) = s.walk(&c, s.start(), real);
            assert_eq!(from_cp, from_start, "{real_ms}");
            assert!(from_cp.market >= p.market);
            p = from_cp;
            cp = passed;
        }
    }

    #[test]
    fn years_at_full_speed_neither_overflow_nor_pass_the_end() {
        let c = Calendar::krx();
        // A real day at a million times from late 9998: past the end, where the clock
        // stands (a real year's i128 nanoseconds times a million fit with room to spare).
        let s = spec("9998-12-01T15:00:00@0x1000000/1000000");
        let m = s.market_unix_ms(&c, 24 * HOUR);
        assert_eq!(m, ns_to_ms(end_ns()));
        assert_eq!(TradingDay::from_unix_ms(m).to_string(), "9999-01-01");
        assert_eq!(s.real_ms_at(&c, m), None);
        // Ten real years at 1x walk every session of them and stay the identity.
        let s = spec("2026-12-03T15:00:00@0x1/1");
        let ten_years = 3_652 * 24 * HOUR;
        assert_eq!(
            s.market_unix_ms(&c, ten_years),
            at("2026-12-03", 15, 0, 0) + ten_years
        );
    }

    #[test]
    fn the_scaled_clock_reads_the_spec_and_its_instant_moves_with_market_time() {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        // Started an hour (real) ago at 1x from a Monday 09:00: 10:00 now, give or take
        // the test's own run time.
        let s = ClockSpec::parse(&format!("2026-12-07T09:00:00@{}x1", now_ms - HOUR), 0).unwrap();
        let clock = ScaledClock::new(s);
        let t = clock.time_of_day();
        assert!(
            (TimeOfDay::hms(10, 0, 0)..TimeOfDay::hms(10, 5, 0)).contains(&t),
            "{t}"
        );
        assert_eq!(clock.today().to_string(), "2026-12-07");
        let a = clock.now();
        assert!(clock.now() >= a);
        // Far in the future (market time), the wait is the real time to it at 1x: about a
        // day; in the past it is zero.
        let tomorrow = at("2026-12-08", 10, 0, 0);
        let wait = clock.real_duration_until(tomorrow).unwrap();
        assert!(
            wait <= Duration::from_secs(86_400) && wait > Duration::from_secs(86_000),
            "{wait:?}"
        );
        assert_eq!(
            clock.real_duration_until(at("2026-12-07", 9, 30, 0)),
            Some(Duration::ZERO)
        );
    }
}
