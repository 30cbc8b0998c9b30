//! The trading day's life, as a plan: when `condor run` starts a day's engine (a lead
//! before the open, for the token, reconciliation, the conditions and the feeds of held
//! tickers), and when it closes the day (after the close, once working orders had time to
//! end and the day's summary went out). Between the two the engine trades; outside them
//! condor idles with its websocket closed, serving `/status` and the metrics.
//!
//! Pure: the calendar and a moment in, a plan out. Must never read a clock.

use crate::calendar::Calendar;
use crate::clock::TradingDay;
use crate::market::TimeOfDay;

/// When, around the session, the day's engine runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayHours {
    /// How long before the open the day's engine starts.
    pub lead_secs: u32,
    /// How long after the close it keeps running: working orders end (or are cancelled)
    /// and the last events reach the journal.
    pub after_close_secs: u32,
    /// The day's summary goes out at this time; the day does not close before it, so the
    /// summary is the running engine's.
    pub summary_at: TimeOfDay,
}

impl Default for DayHours {
    fn default() -> Self {
        DayHours {
            // 08:40 for a 09:00 open: time to log in, reconcile and register.
            lead_secs: 20 * 60,
            after_close_secs: 10 * 60,
            summary_at: TimeOfDay::hms(15, 40, 0),
        }
    }
}

/// What to do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DayPlan {
    /// Trade `day`, closing it at `close_at` (KST, that day).
    Trade {
        day: TradingDay,
        close_at: TimeOfDay,
    },
    /// Idle until `day` at `start_at` (its open less the lead), then trade it.
    Wait {
        day: TradingDay,
        start_at: TimeOfDay,
    },
}

impl DayHours {
    /// When `day`'s engine starts and closes, if `day` has a session.
    pub fn window(&self, calendar: &Calendar, day: TradingDay) -> Option<(TimeOfDay, TimeOfDay)> {
        let s = calendar.session(day)?;
        let start = TimeOfDay::from_secs(s.open.secs().saturating_sub(self.lead_secs));
        // A day that closes late (the exam day's 16:30) closes its engine later too.
        let close = s
            .close
            .secs()
            .saturating_add(self.after_close_secs)
            .max(self.summary_at.secs().saturating_add(60))
            .min(86_399);
        Some((start, TimeOfDay::from_secs(close)))
    }

    /// The plan at `now` on `day`: trade if inside today's window, else wait for the next.
    pub fn plan(&self, calendar: &Calendar, day: TradingDay, now: TimeOfDay) -> DayPlan {
        if let Some((start, close)) = self.window(calendar, day) {
            if now < start {
                return DayPlan::Wait {
                    day,
                    start_at: start,
                };
            }
            if now < close {
                return DayPlan::Trade {
                    day,
                    close_at: close,
                };
            }
        }
        // After today's window, or no session today: the next day with one.
        let (next, _) = calendar.next_session_after(day, TimeOfDay::hms(23, 59, 59));
        let (start, _) = self
            .window(calendar, next)
            .unwrap_or((TimeOfDay::hms(8, 40, 0), TimeOfDay::hms(15, 50, 0)));
        DayPlan::Wait {
            day: next,
            start_at: start,
        }
    }
}

/// Whether the moment `(day, time)` has reached `(until_day, until)`.
pub fn reached(day: TradingDay, time: TimeOfDay, until_day: TradingDay, until: TimeOfDay) -> bool {
    (day, time) >= (until_day, until)
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
    fn a_trading_day_starts_at_the_lead_and_closes_after_the_summary() {
        let c = Calendar::krx();
        let h = DayHours::default();
        // Friday 2026-12-04.
        assert_eq!(
            h.plan(&c, d("2026-12-04"), t(7, 0)),
            DayPlan::Wait {
                day: d("2026-12-04"),
                start_at: t(8, 40)
            }
        );
        assert_eq!(
            h.plan(&c, d("2026-12-04"), t(8, 40)),
            DayPlan::Trade {
                day: d("2026-12-04"),
                close_at: t(15, 41)
            }
        );
        assert_eq!(
            h.plan(&c, d("2026-12-04"), t(15, 25)),
            DayPlan::Trade {
                day: d("2026-12-04"),
                close_at: t(15, 41)
            }
        );
        // After the close: the weekend is skipped, Monday's lead is next.
        assert_eq!(
            h.plan(&c, d("2026-12-04"), t(15, 41)),
            DayPlan::Wait {
                day: d("2026-12-07"),
                start_at: t(8, 40)
            }
        );
        assert_eq!(
            h.plan(&c, d("2026-12-05"), t(12, 0)),
            DayPlan::Wait {
                day: d("2026-12-07"),
                start_at: t(8, 40)
            }
        );
    }

    #[test]
    fn holidays_closures_and_late_opens_move_the_window() {
        let c = Calendar::krx()
            .with_closures("2026-12-08")
            .unwrap()
            .with_late_opens("2026-12-09@10:00-16:30")
            .unwrap();
        let h = DayHours::default();
        // Christmas (Fri 2026-12-25) and the weekend: Monday the 28th.
        assert_eq!(
            h.plan(&c, d("2026-12-24"), t(16, 0)),
            DayPlan::Wait {
                day: d("2026-12-28"),
                start_at: t(8, 40)
            }
        );
        // The configured closure on the 8th: the 9th, which opens at 10:00 and closes at
        // 16:30, so its engine runs 09:40–16:40.
        assert_eq!(
            h.plan(&c, d("2026-12-07"), t(18, 0)),
            DayPlan::Wait {
                day: d("2026-12-09"),
                start_at: t(9, 40)
            }
        );
        assert_eq!(
            h.plan(&c, d("2026-12-09"), t(16, 35)),
            DayPlan::Trade {
                day: d("2026-12-09"),
                close_at: t(16, 40)
            }
        );
        // The year's end: the 31st is closed, 2027-01-01 too; the first trading day of
        // 2027 opens at 10:00.
        match h.plan(&c, d("2026-12-30"), t(16, 0)) {
            DayPlan::Wait { day, start_at } => {
                assert!(day > d("2027-01-01"), "{day}");
                assert_eq!(start_at, t(9, 40));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn moments_compare_by_day_then_time() {
        assert!(reached(
            d("2026-12-07"),
            t(8, 40),
            d("2026-12-07"),
            t(8, 40)
        ));
        assert!(!reached(
            d("2026-12-07"),
            t(8, 39),
            d("2026-12-07"),
            t(8, 40)
        ));
        assert!(reached(d("2026-12-08"), t(0, 0), d("2026-12-07"), t(8, 40)));
        assert!(!reached(
            d("2026-12-06"),
            t(23, 0),
            d("2026-12-07"),
            t(8, 40)
        ));
    }
}
