//! KRX's session calendar: which KST days the market trades, and when it opens and closes
//! on each. Pure: no clock, no I/O; the caller says which day and time it is.
//!
//! Owns, in one place, the table of KRX market holidays (휴장일) for the years KRX has
//! published, the weekend, the regular session (09:00–15:30 KST), the days KRX moves the
//! session every year (the year's first trading day opens at 10:00 for the opening
//! ceremony; the college entrance exam, 수능, shifts the day to 10:00–16:30), and the
//! operator's own additions: unscheduled closures and delayed opens. Must never guess a
//! lunar holiday, a substitute holiday or an election day for a year outside the table: it
//! says once, with a warning, that it does not know them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::clock::TradingDay;
use crate::market::{TimeOfDay, REGULAR_CLOSE, REGULAR_OPEN};

const LOG: &str = "condor::calendar";

/// The years [`HOLIDAYS`] covers: KRX publishes the next year's closures each December.
pub const KNOWN_YEARS: std::ops::RangeInclusive<u16> = 2024..=2026;

/// KRX market holidays on weekdays, 2024–2026, sorted: (year, month, day, what).
/// From KRX's published 휴장일 lists; the temporary holidays (임시공휴일) and election days
/// are the ones the government declared. Weekend holidays are left out (the weekend closes
/// the market anyway); their substitute days (대체공휴일) are in.
const HOLIDAYS: &[(u16, u8, u8, &str)] = &[
    // 2024
    (2024, 1, 1, "신정"),
    (2024, 2, 9, "설날 연휴"),
    (2024, 2, 12, "설날 대체공휴일"), // Seollal's 11th fell on a Sunday
    (2024, 3, 1, "삼일절"),
    (2024, 4, 10, "제22대 국회의원 선거"),
    (2024, 5, 1, "근로자의 날"),
    (2024, 5, 6, "어린이날 대체공휴일"), // the 5th was a Sunday
    (2024, 5, 15, "부처님오신날"),
    (2024, 6, 6, "현충일"),
    (2024, 8, 15, "광복절"),
    (2024, 9, 16, "추석 연휴"),
    (2024, 9, 17, "추석"),
    (2024, 9, 18, "추석 연휴"),
    (2024, 10, 1, "국군의 날 임시공휴일"),
    (2024, 10, 3, "개천절"),
    (2024, 10, 9, "한글날"),
    (2024, 12, 25, "성탄절"),
    (2024, 12, 31, "연말 휴장"),
    // 2025
    (2025, 1, 1, "신정"),
    (2025, 1, 27, "임시공휴일"),
    (2025, 1, 28, "설날 연휴"),
    (2025, 1, 29, "설날"),
    (2025, 1, 30, "설날 연휴"),
    (2025, 3, 3, "삼일절 대체공휴일"), // the 1st was a Saturday
    (2025, 5, 1, "근로자의 날"),
    (2025, 5, 5, "어린이날, 부처님오신날"),
    (2025, 5, 6, "대체공휴일"), // two holidays on the 5th
    (2025, 6, 3, "제21대 대통령 선거"),
    (2025, 6, 6, "현충일"),
    (2025, 8, 15, "광복절"),
    (2025, 10, 3, "개천절"),
    (2025, 10, 6, "추석"),
    (2025, 10, 7, "추석 연휴"),
    (2025, 10, 8, "추석 대체공휴일"), // the 5th, in the holiday, was a Sunday
    (2025, 10, 9, "한글날"),
    (2025, 12, 25, "성탄절"),
    (2025, 12, 31, "연말 휴장"),
    // 2026. Not in the table, as not declared when it was written: 제헌절 (07-17), which a
    // bill would make a public holiday again; add it with CONDOR_CLOSED_DAYS if it is.
    (2026, 1, 1, "신정"),
    (2026, 2, 16, "설날 연휴"),
    (2026, 2, 17, "설날"),
    (2026, 2, 18, "설날 연휴"),
    (2026, 3, 2, "삼일절 대체공휴일"), // the 1st is a Sunday
    (2026, 5, 1, "근로자의 날"),
    (2026, 5, 5, "어린이날"),
    (2026, 5, 25, "부처님오신날 대체공휴일"), // the 24th is a Sunday
    (2026, 6, 3, "제9회 전국동시지방선거"),
    (2026, 8, 17, "광복절 대체공휴일"), // the 15th is a Saturday
    (2026, 9, 24, "추석 연휴"),
    (2026, 9, 25, "추석"), // the 26th is a Saturday: no substitute for it
    (2026, 10, 5, "개천절 대체공휴일"), // the 3rd is a Saturday
    (2026, 10, 9, "한글날"),
    (2026, 12, 25, "성탄절"),
    (2026, 12, 31, "연말 휴장"),
];

/// The college entrance exam (대학수학능력시험) days in [`KNOWN_YEARS`]: KRX opens an
/// hour late and closes an hour late, so that traffic stays clear of the exam. 2026's is
/// the Ministry of Education's announced date for the 2027학년도 exam.
const EXAM_DAYS: &[(u16, u8, u8)] = &[(2024, 11, 14), (2025, 11, 13), (2026, 11, 19)];

/// The 수능 day's session.
pub const EXAM_DAY_SESSION: Session = Session {
    open: TimeOfDay::hms(10, 0, 0),
    close: TimeOfDay::hms(16, 30, 0),
};

/// The year's first trading day opens an hour late (the opening ceremony, 개장식) and
/// closes as usual.
pub const FIRST_DAY_OPEN: TimeOfDay = TimeOfDay::hms(10, 0, 0);

/// Holidays fixed by date, every year: what the calendar still knows for a year outside
/// the table (KRX's year-end closure and Labor Day included). The lunar holidays (설날,
/// 추석, 부처님오신날), substitute days and election days move, and are not guessed.
const EVERY_YEAR: &[(u8, u8, &str)] = &[
    (1, 1, "신정"),
    (3, 1, "삼일절"),
    (5, 1, "근로자의 날"),
    (5, 5, "어린이날"),
    (6, 6, "현충일"),
    (8, 15, "광복절"),
    (10, 3, "개천절"),
    (10, 9, "한글날"),
    (12, 25, "성탄절"),
    (12, 31, "연말 휴장"),
];

/// The regular session (정규장), 09:00–15:30 KST.
pub const REGULAR: Session = Session {
    open: REGULAR_OPEN,
    close: REGULAR_CLOSE,
};

/// One day's regular session, in KST: trades from `open`, none from `close`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    pub open: TimeOfDay,
    pub close: TimeOfDay,
}

impl Session {
    /// `open ≤ at < close`.
    pub fn contains(self, at: TimeOfDay) -> bool {
        self.open <= at && at < self.close
    }
}

/// Why the market does not trade on a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayOff {
    Weekend,
    /// A KRX holiday, by its name.
    Holiday(&'static str),
    /// Closed by the operator's setting (an unscheduled closure).
    Closure,
}

/// The market at a moment: open until its close, or closed until the next session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarketNow {
    Open {
        session: Session,
    },
    Closed {
        why: Closed,
        next_day: TradingDay,
        next: Session,
    },
}

/// Why the market is closed at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// Not a trading day.
    DayOff(DayOff),
    /// A trading day, before its open.
    BeforeOpen,
    /// A trading day, from its close.
    AfterClose,
}

/// A setting the calendar refuses: the value and what is wrong with it. The caller
/// prefixes the setting's name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} {why}")]
pub struct BadCalendarSetting {
    pub value: String,
    pub why: String,
}

/// KRX's calendar with the operator's additions. Clones share the record of which
/// unknown years were already warned about.
#[derive(Clone, Debug, Default)]
pub struct Calendar {
    closures: BTreeSet<TradingDay>,
    /// A delayed open, and the close when it moves too (else the day's usual close).
    late_opens: BTreeMap<TradingDay, (TimeOfDay, Option<TimeOfDay>)>,
    warned: Arc<Mutex<BTreeSet<u16>>>,
}

/// Two calendars are equal when they close and delay the same days (which unknown years
/// each has warned about is not the calendar).
impl PartialEq for Calendar {
    fn eq(&self, other: &Calendar) -> bool {
        self.closures == other.closures && self.late_opens == other.late_opens
    }
}

impl Calendar {
    /// KRX's calendar alone.
    pub fn krx() -> Calendar {
        Calendar::default()
    }

    /// Adds unscheduled closures: dates `YYYY-MM-DD`, separated by commas (an empty text
    /// adds none).
    pub fn with_closures(mut self, list: &str) -> Result<Calendar, BadCalendarSetting> {
        for item in items(list) {
            let day: TradingDay = item.parse().map_err(|_| BadCalendarSetting {
                value: item.to_owned(),
                why: "is not a date (YYYY-MM-DD); list dates separated by commas, e.g. 2026-12-24,2027-01-04".into(),
            })?;
            self.closures.insert(day);
        }
        Ok(self)
    }

    /// Adds delayed opens: `YYYY-MM-DD@HH:MM` (the close as usual) or
    /// `YYYY-MM-DD@HH:MM-HH:MM` (the close moved too), separated by commas. Apply closures
    /// first: a delayed open on a day the market does not trade is refused.
    pub fn with_late_opens(mut self, list: &str) -> Result<Calendar, BadCalendarSetting> {
        for item in items(list) {
            let bad = |why: String| BadCalendarSetting {
                value: item.to_owned(),
                why,
            };
            let shape = || {
                bad("is not DATE@HH:MM or DATE@HH:MM-HH:MM (KST), e.g. 2026-11-19@10:00 or 2026-11-19@10:00-16:30".into())
            };
            let (date, times) = item.split_once('@').ok_or_else(shape)?;
            let day: TradingDay = date.trim().parse().map_err(|_| shape())?;
            let (open, close) = match times.split_once('-') {
                Some((o, c)) => (
                    hh_mm(o).ok_or_else(shape)?,
                    Some(hh_mm(c).ok_or_else(shape)?),
                ),
                None => (hh_mm(times).ok_or_else(shape)?, None),
            };
            if let Some(off) = self.day_off(day) {
                return Err(bad(format!("is not a trading day ({})", off_words(off))));
            }
            if self.late_opens.contains_key(&day) {
                return Err(bad(format!("gives {day} a second delayed open")));
            }
            let usual_close = self.usual_session(day).close;
            let closes = close.unwrap_or(usual_close);
            if open >= closes {
                return Err(bad(format!(
                    "opens at {} but closes at {}",
                    hm(open),
                    hm(closes)
                )));
            }
            self.late_opens.insert(day, (open, close));
        }
        Ok(self)
    }

    /// Whether `day` is in the years the holiday table covers.
    pub fn knows(day: TradingDay) -> bool {
        KNOWN_YEARS.contains(&day.year())
    }

    /// Why the market does not trade on `day`, or `None` on a trading day.
    pub fn day_off(&self, day: TradingDay) -> Option<DayOff> {
        if weekday(day) >= 5 {
            return Some(DayOff::Weekend);
        }
        if self.closures.contains(&day) {
            return Some(DayOff::Closure);
        }
        let (y, m, d) = (day.year(), day.month(), day.day());
        if Calendar::knows(day) {
            HOLIDAYS
                .binary_search_by_key(&(y, m, d), |&(y, m, d, _)| (y, m, d))
                .ok()
                .map(|i| DayOff::Holiday(HOLIDAYS[i].3))
        } else {
            EVERY_YEAR
                .iter()
                .find(|&&(hm, hd, _)| (hm, hd) == (m, d))
                .map(|&(_, _, name)| DayOff::Holiday(name))
        }
    }

    pub fn is_trading_day(&self, day: TradingDay) -> bool {
        self.day_off(day).is_none()
    }

    /// `day`'s session, or `None` when the market does not trade that day.
    pub fn session(&self, day: TradingDay) -> Option<Session> {
        if !self.is_trading_day(day) {
            return None;
        }
        let usual = self.usual_session(day);
        Some(match self.late_opens.get(&day) {
            Some(&(open, close)) => Session {
                open,
                close: close.unwrap_or(usual.close),
            },
            None => usual,
        })
    }

    /// A trading day's session before the operator's delayed opens: the 수능 day's, the
    /// year's first trading day's, or the regular one.
    fn usual_session(&self, day: TradingDay) -> Session {
        let (y, m, d) = (day.year(), day.month(), day.day());
        if EXAM_DAYS.contains(&(y, m, d)) {
            EXAM_DAY_SESSION
        } else if self.first_trading_day(y) == Some(day) {
            Session {
                open: FIRST_DAY_OPEN,
                close: REGULAR_CLOSE,
            }
        } else {
            REGULAR
        }
    }

    /// The year's first trading day (within its first month: closures cannot fill it).
    fn first_trading_day(&self, year: u16) -> Option<TradingDay> {
        (1..=31)
            .filter_map(|d| TradingDay::new(year, 1, d))
            .find(|&d| self.is_trading_day(d))
    }

    /// The first session that opens after `at` on `day`: `day`'s own before its open,
    /// else the next trading day's.
    pub fn next_session_after(&self, day: TradingDay, at: TimeOfDay) -> (TradingDay, Session) {
        if let Some(s) = self.session(day).filter(|s| at < s.open) {
            return (day, s);
        }
        // Ends: every week has weekdays, and the table and closures are finite.
        let mut d = next_day(day);
        loop {
            if let Some(s) = self.session(d) {
                return (d, s);
            }
            d = next_day(d);
        }
    }

    /// The market at `at` on `day` (KST).
    pub fn market_at(&self, day: TradingDay, at: TimeOfDay) -> MarketNow {
        let why = match self.session(day) {
            Some(s) if s.contains(at) => return MarketNow::Open { session: s },
            Some(s) if at < s.open => Closed::BeforeOpen,
            Some(_) => Closed::AfterClose,
            None => Closed::DayOff(self.day_off(day).unwrap_or(DayOff::Closure)),
        };
        let (next_day, next) = self.next_session_after(day, at);
        MarketNow::Closed {
            why,
            next_day,
            next,
        }
    }

    /// For a day outside the holiday table: what the calendar does not know, to show
    /// beside the market's state. Logged as a warning the first time for each year.
    pub fn unknown_year_note(&self, day: TradingDay) -> Option<String> {
        if Calendar::knows(day) {
            return None;
        }
        let year = day.year();
        let note = format!(
            "KRX's holidays for {year} are not in condor's table (it knows {}–{}): only weekends and the fixed-date holidays close the market; set CONDOR_CLOSED_DAYS for 설날, 추석, 부처님오신날, substitute and election days",
            KNOWN_YEARS.start(),
            KNOWN_YEARS.end()
        );
        if self.first_warning(year) {
            log::warn!(target: LOG, "{note}");
        }
        Some(note)
    }

    /// True the first time it is asked about `year`, on this calendar and its clones.
    fn first_warning(&self, year: u16) -> bool {
        // A poisoned lock only means another thread panicked mid-insert: warn again.
        self.warned
            .lock()
            .map_or(true, |mut warned| warned.insert(year))
    }
}

impl fmt::Display for MarketNow {
    /// "market open until 15:30 KST", "market closed (추석), next session Mon 2026-09-28
    /// 09:00 KST".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            MarketNow::Open { session } => {
                write!(f, "market open until {} KST", hm(session.close))
            }
            MarketNow::Closed {
                why,
                next_day,
                next,
            } => {
                let why = match why {
                    Closed::DayOff(off) => off_words(off),
                    Closed::BeforeOpen => "before the open".to_owned(),
                    Closed::AfterClose => "after the close".to_owned(),
                };
                write!(
                    f,
                    "market closed ({why}), next session {} {next_day} {} KST",
                    weekday_name(next_day),
                    hm(next.open)
                )
            }
        }
    }
}

fn off_words(off: DayOff) -> String {
    match off {
        DayOff::Weekend => "weekend".to_owned(),
        DayOff::Holiday(name) => format!("holiday: {name}"),
        DayOff::Closure => "closed by CONDOR_CLOSED_DAYS".to_owned(),
    }
}

/// `HH:MM`.
pub fn hm(t: TimeOfDay) -> String {
    let s = t.secs();
    format!("{:02}:{:02}", s / 3600, s / 60 % 60)
}

/// `HH:MM` (24-hour) as a time of day.
fn hh_mm(s: &str) -> Option<TimeOfDay> {
    let (h, m) = s.trim().split_once(':')?;
    let ok = |p: &str| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit());
    if !ok(h) || !ok(m) {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 23 && m <= 59).then(|| TimeOfDay::hms(h, m, 0))
}

fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// 0 = Monday … 6 = Sunday.
pub fn weekday(day: TradingDay) -> u8 {
    // Days since 1970-01-01, a Thursday; midnight KST is 15:00 UTC the day before.
    let days = (day.midnight_unix_ms() / 1000 + 9 * 3600).div_euclid(86_400);
    ((days + 3).rem_euclid(7)) as u8
}

pub fn weekday_name(day: TradingDay) -> &'static str {
    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::from(weekday(day))]
}

fn next_day(day: TradingDay) -> TradingDay {
    TradingDay::from_unix_ms(day.midnight_unix_ms() + 86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> TradingDay {
        s.parse().unwrap()
    }
    fn t(h: u32, m: u32) -> TimeOfDay {
        TimeOfDay::hms(h, m, 0)
    }

    #[test]
    fn the_table_is_sorted_in_its_years_and_lists_only_weekdays() {
        for w in HOLIDAYS.windows(2) {
            let key = |e: &(u16, u8, u8, &str)| (e.0, e.1, e.2);
            assert!(key(&w[0]) < key(&w[1]), "{:?} before {:?}", w[0], w[1]);
        }
        for &(y, m, dd, name) in HOLIDAYS.iter() {
            let day = TradingDay::new(y, m, dd).expect("a date");
            assert!(KNOWN_YEARS.contains(&y), "{day} {name}");
            // A weekend entry would be a typo: the weekend closes the market anyway.
            assert!(weekday(day) < 5, "{day} {name} is a {}", weekday_name(day));
        }
        for &(y, m, dd) in EXAM_DAYS {
            let day = TradingDay::new(y, m, dd).unwrap();
            assert_eq!(weekday_name(day), "Thu", "수능 is on a Thursday: {day}");
        }
        // Every fixed-date holiday on a weekday of a known year is in the table.
        for y in KNOWN_YEARS {
            for &(m, dd, name) in EVERY_YEAR {
                let day = TradingDay::new(y, m, dd).unwrap();
                if weekday(day) < 5 {
                    assert!(
                        HOLIDAYS.iter().any(|h| (h.0, h.1, h.2) == (y, m, dd)),
                        "{day} {name} missing"
                    );
                }
            }
        }
    }

    #[test]
    fn weekdays_are_right() {
        assert_eq!(weekday_name(d("1970-01-01")), "Thu");
        assert_eq!(weekday_name(d("2026-01-05")), "Mon");
        assert_eq!(weekday_name(d("2024-02-29")), "Thu");
        assert_eq!(weekday_name(d("2027-01-03")), "Sun");
    }

    #[test]
    fn holidays_and_weekends_do_not_trade() {
        let c = Calendar::krx();
        assert_eq!(c.day_off(d("2025-10-06")), Some(DayOff::Holiday("추석")));
        assert_eq!(
            c.day_off(d("2024-10-01")),
            Some(DayOff::Holiday("국군의 날 임시공휴일"))
        );
        assert_eq!(
            c.day_off(d("2026-05-01")),
            Some(DayOff::Holiday("근로자의 날")),
            "KRX closes on Labor Day"
        );
        assert_eq!(c.day_off(d("2026-01-10")), Some(DayOff::Weekend));
        assert_eq!(c.day_off(d("2026-01-11")), Some(DayOff::Weekend));
        assert_eq!(c.session(d("2026-02-17")), None);
        assert!(c.is_trading_day(d("2026-02-19")));
        assert_eq!(c.session(d("2026-02-19")), Some(REGULAR));
        // The day after 추석 2025 (and 한글날) trades.
        assert!(c.is_trading_day(d("2025-10-10")));
    }

    #[test]
    fn the_years_last_day_is_closed_and_the_next_year_opens_late_on_its_first_trading_day() {
        let c = Calendar::krx();
        assert_eq!(
            c.day_off(d("2026-12-31")),
            Some(DayOff::Holiday("연말 휴장"))
        );
        // 2027-01-01 is a Friday (신정), then the weekend: Monday the 4th, at 10:00.
        let (day, s) = c.next_session_after(d("2026-12-30"), t(15, 30));
        assert_eq!(
            (day, s.open, s.close),
            (d("2027-01-04"), t(10, 0), t(15, 30))
        );
        assert_eq!(
            c.market_at(d("2026-12-31"), t(11, 0)).to_string(),
            "market closed (holiday: 연말 휴장), next session Mon 2027-01-04 10:00 KST"
        );
        // In a known year too.
        assert_eq!(c.session(d("2026-01-02")).unwrap().open, t(10, 0));
        assert_eq!(c.session(d("2026-01-05")), Some(REGULAR));
    }

    #[test]
    fn the_exam_day_opens_and_closes_an_hour_late() {
        let c = Calendar::krx();
        assert_eq!(c.session(d("2026-11-19")), Some(EXAM_DAY_SESSION));
        assert_eq!(
            c.market_at(d("2026-11-19"), t(9, 30)).to_string(),
            "market closed (before the open), next session Thu 2026-11-19 10:00 KST"
        );
        assert_eq!(
            c.market_at(d("2026-11-19"), t(16, 0)).to_string(),
            "market open until 16:30 KST"
        );
        assert_eq!(c.session(d("2026-11-20")), Some(REGULAR));
    }

    #[test]
    fn configured_closures_and_delayed_opens_are_honoured() {
        let c = Calendar::krx()
            .with_closures(" 2026-12-24, 2027-01-04 ")
            .unwrap()
            .with_late_opens("2026-03-03@09:30,2026-03-04@11:00-16:00")
            .unwrap();
        assert_eq!(c.day_off(d("2026-12-24")), Some(DayOff::Closure));
        assert_eq!(
            c.market_at(d("2026-12-24"), t(10, 0)).to_string(),
            "market closed (closed by CONDOR_CLOSED_DAYS), next session Mon 2026-12-28 09:00 KST"
        );
        // The year's first trading day moves with a closure, and still opens at 10:00.
        let (day, s) = c.next_session_after(d("2026-12-31"), t(0, 0));
        assert_eq!((day, s.open), (d("2027-01-05"), t(10, 0)));
        assert_eq!(
            c.session(d("2026-03-03")),
            Some(Session {
                open: t(9, 30),
                close: t(15, 30)
            })
        );
        assert_eq!(
            c.session(d("2026-03-04")),
            Some(Session {
                open: t(11, 0),
                close: t(16, 0)
            })
        );
        assert!(matches!(
            c.market_at(d("2026-03-03"), t(9, 15)),
            MarketNow::Closed {
                why: Closed::BeforeOpen,
                ..
            }
        ));
        assert_eq!(
            c.market_at(d("2026-03-03"), t(9, 30)).to_string(),
            "market open until 15:30 KST"
        );
    }

    #[test]
    fn bad_settings_say_what_is_wrong_with_which_value() {
        let e = Calendar::krx()
            .with_closures("2026-12-24,2026-13-01")
            .unwrap_err();
        assert_eq!(e.value, "2026-13-01");
        assert!(
            e.to_string().starts_with("\"2026-13-01\" is not a date"),
            "{e}"
        );
        for (bad, says) in [
            ("2026-11-19", "is not DATE@HH:MM"),
            ("2026-11-19@10", "is not DATE@HH:MM"),
            ("2026-11-19@25:00", "is not DATE@HH:MM"),
            ("2026-11-19@10:00-", "is not DATE@HH:MM"),
            ("2026-11-31@10:00", "is not DATE@HH:MM"),
            ("2026-11-21@10:00", "is not a trading day (weekend)"),
            ("2026-09-25@10:00", "is not a trading day (holiday: 추석)"),
            ("2026-11-18@16:00", "opens at 16:00 but closes at 15:30"),
            (
                "2026-11-18@10:00-09:00",
                "opens at 10:00 but closes at 09:00",
            ),
        ] {
            let e = Calendar::krx().with_late_opens(bad).unwrap_err();
            assert_eq!(e.value, bad);
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
        let e = Calendar::krx()
            .with_late_opens("2026-11-18@10:00,2026-11-18@11:00")
            .unwrap_err();
        assert!(e.to_string().contains("second delayed open"), "{e}");
        let e = Calendar::krx()
            .with_closures("2026-11-18")
            .unwrap()
            .with_late_opens("2026-11-18@10:00")
            .unwrap_err();
        assert!(
            e.to_string().contains("closed by CONDOR_CLOSED_DAYS"),
            "{e}"
        );
        assert!(Calendar::krx().with_closures("").is_ok());
    }

    #[test]
    fn the_market_is_open_from_the_open_until_the_close() {
        let c = Calendar::krx();
        let day = d("2026-01-05");
        assert_eq!(
            c.market_at(day, t(8, 59)).to_string(),
            "market closed (before the open), next session Mon 2026-01-05 09:00 KST"
        );
        assert_eq!(
            c.market_at(day, t(9, 0)),
            MarketNow::Open { session: REGULAR }
        );
        assert_eq!(
            c.market_at(day, TimeOfDay::hms(15, 29, 59)).to_string(),
            "market open until 15:30 KST"
        );
        assert_eq!(
            c.market_at(day, t(15, 30)).to_string(),
            "market closed (after the close), next session Tue 2026-01-06 09:00 KST"
        );
        // Friday evening to Monday; and over 설날 2026 (Mon–Wed) to Thursday.
        assert_eq!(
            c.market_at(d("2026-01-09"), t(20, 0)).to_string(),
            "market closed (after the close), next session Mon 2026-01-12 09:00 KST"
        );
        assert_eq!(
            c.market_at(d("2026-02-14"), t(12, 0)).to_string(),
            "market closed (weekend), next session Thu 2026-02-19 09:00 KST"
        );
    }

    #[test]
    fn a_year_outside_the_table_knows_only_weekends_and_fixed_dates_and_says_so_once() {
        let c = Calendar::krx();
        // 2028-01-26, a Wednesday (설날 that year, which the calendar does not guess).
        let day = d("2028-01-26");
        assert!(!Calendar::knows(day));
        assert!(c.is_trading_day(day));
        assert_eq!(c.day_off(d("2028-12-25")), Some(DayOff::Holiday("성탄절")));
        assert_eq!(
            c.day_off(d("2028-05-01")),
            Some(DayOff::Holiday("근로자의 날"))
        );
        let note = c.unknown_year_note(day).expect("a note");
        assert!(
            note.contains("2028") && note.contains("CONDOR_CLOSED_DAYS"),
            "{note}"
        );
        assert!(c.unknown_year_note(d("2026-06-01")).is_none());
        // The warning is logged the first time only, clones included.
        let fresh = Calendar::krx();
        assert!(fresh.first_warning(2029));
        assert!(!fresh.clone().first_warning(2029));
        assert!(fresh.first_warning(2030));
    }
}
