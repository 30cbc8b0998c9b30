//! The daily loss kill switch: once the day's loss reaches the limit (or an operator says
//! so), no new buys until the trading day changes or an operator resets it.
//!
//! Owns the switch's state — whether it tripped, on which KST trading day, why and when —
//! and the loss test that trips it. Plain data, serializable, so the journal can record
//! every trip and a restart comes back with the switch as it was: it stays on after a
//! restart until the day changes or an operator resets it.
//!
//! Must never read a clock (the caller passes the day and the time), never decide what is
//! refused (the risk gate reads [`KillSwitch::is_on`] and refuses buys only, so exits stay
//! possible), and never panic on any P&L: the loss test is overflow-safe.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::clock::TradingDay;

/// Why the switch tripped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TripCause {
    /// The day's P&L (realized + unrealized, won) reached minus the daily loss limit.
    LossLimit { pnl: i64, limit: i64 },
    /// An operator tripped it by hand (`condor kill-switch`, the dashboard), saying why.
    Operator { note: String },
}

impl fmt::Display for TripCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TripCause::LossLimit { pnl, limit } => write!(
                f,
                "the day's P&L {pnl} won reached the daily_loss_limit of {limit} won"
            ),
            TripCause::Operator { note } => write!(f, "operator: {note}"),
        }
    }
}

/// One trip: the trading day it holds for, why, and when (ms since the Unix epoch).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trip {
    pub day: TradingDay,
    pub cause: TripCause,
    pub at_unix_ms: i64,
}

impl fmt::Display for Trip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "kill switch tripped on {} at {} ms: {}",
            self.day, self.at_unix_ms, self.cause
        )
    }
}

/// The switch. `Default` is off (never tripped).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KillSwitch {
    trip: Option<Trip>,
}

/// The cause to trip for, when `realized + unrealized ≤ −limit`: a loss of exactly the
/// limit trips, one won less does not. Summed in `i128`, so no P&L can overflow; the
/// reported `pnl` saturates at the ends of `i64`.
///
/// Whether `realized` is net of fees is the caller's choice; net is the prudent one, since
/// fees are lost money too. A `limit` of zero or less would trip at a flat P&L: refuse it
/// in configuration (`RiskLimits::validate` does).
pub fn loss_breach(realized: i64, unrealized: i64, limit: i64) -> Option<TripCause> {
    let pnl = i128::from(realized) + i128::from(unrealized);
    if pnl > -i128::from(limit) {
        return None;
    }
    let pnl = i64::try_from(pnl).unwrap_or(if pnl < 0 { i64::MIN } else { i64::MAX });
    Some(TripCause::LossLimit { pnl, limit })
}

impl KillSwitch {
    /// An untripped switch.
    pub fn new() -> KillSwitch {
        KillSwitch::default()
    }

    /// Trips the switch for `day`. True only when this call turned it on; a second trip on
    /// a day it is already on for keeps the first cause and time (the first is the one that
    /// mattered). A trip left over from an earlier day is replaced.
    pub fn trip(&mut self, day: TradingDay, cause: TripCause, at_unix_ms: i64) -> bool {
        if self.is_on(day) {
            return false;
        }
        self.trip = Some(Trip {
            day,
            cause,
            at_unix_ms,
        });
        true
    }

    /// Whether buys are stopped on `today`. A trip from an earlier day is off. A trip dated
    /// after `today` (a clock that stepped back) stays on: a wrong clock must never lift it.
    pub fn is_on(&self, today: TradingDay) -> bool {
        self.trip.as_ref().is_some_and(|t| t.day >= today)
    }

    /// An operator's reset: off now, whatever the day.
    pub fn reset(&mut self) {
        self.trip = None;
    }

    /// The last trip, if any, even one from an earlier day (for the status page and the
    /// journal); whether it is still in force is [`KillSwitch::is_on`].
    pub fn trip_info(&self) -> Option<&Trip> {
        self.trip.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u8) -> TradingDay {
        TradingDay::new(2026, 1, d).unwrap()
    }

    fn loss(pnl: i64) -> TripCause {
        TripCause::LossLimit {
            pnl,
            limit: 1_000_000,
        }
    }

    #[test]
    fn a_loss_of_exactly_the_limit_trips_one_won_less_does_not() {
        assert_eq!(
            loss_breach(-1_000_000, 0, 1_000_000),
            Some(loss(-1_000_000))
        );
        assert_eq!(loss_breach(-999_999, 0, 1_000_000), None);
        // Realized and unrealized add up, either way round.
        assert_eq!(
            loss_breach(-600_000, -400_000, 1_000_000),
            Some(loss(-1_000_000))
        );
        assert_eq!(loss_breach(-600_000, -399_999, 1_000_000), None);
        assert_eq!(
            loss_breach(200_000, -1_200_001, 1_000_000),
            Some(loss(-1_000_001))
        );
        // A gain never trips.
        assert_eq!(loss_breach(5_000_000, 0, 1_000_000), None);
        assert_eq!(loss_breach(0, 0, 1_000_000), None);
    }

    #[test]
    fn loss_breach_never_overflows() {
        assert_eq!(
            loss_breach(i64::MIN, i64::MIN, 1),
            Some(TripCause::LossLimit {
                pnl: i64::MIN,
                limit: 1
            })
        );
        assert_eq!(loss_breach(i64::MAX, i64::MAX, 1), None);
        assert_eq!(
            loss_breach(i64::MIN, i64::MAX, 1),
            Some(TripCause::LossLimit { pnl: -1, limit: 1 })
        );
        assert_eq!(
            loss_breach(i64::MIN + 1, 0, i64::MAX),
            Some(TripCause::LossLimit {
                pnl: i64::MIN + 1,
                limit: i64::MAX
            })
        );
        assert_eq!(loss_breach(i64::MIN + 2, 0, i64::MAX), None);
        // A nonsense limit still answers, without a panic.
        assert!(loss_breach(0, 0, i64::MIN).is_some());
    }

    #[test]
    fn off_by_default_on_once_tripped_and_the_first_cause_stays() {
        let mut k = KillSwitch::default();
        assert!(!k.is_on(day(5)));
        assert_eq!(k.trip_info(), None);
        assert!(k.trip(day(5), loss(-1_000_000), 1_000));
        assert!(k.is_on(day(5)));
        // A second trip the same day changes nothing.
        assert!(!k.trip(
            day(5),
            TripCause::Operator {
                note: "again".into()
            },
            2_000
        ));
        let t = k.trip_info().unwrap();
        assert_eq!(
            (t.day, &t.cause, t.at_unix_ms),
            (day(5), &loss(-1_000_000), 1_000)
        );
        assert_eq!(
            t.to_string(),
            "kill switch tripped on 2026-01-05 at 1000 ms: the day's P&L -1000000 won reached the daily_loss_limit of 1000000 won"
        );
    }

    #[test]
    fn a_new_day_turns_it_off_and_can_trip_it_again() {
        let mut k = KillSwitch::new();
        k.trip(day(5), loss(-1_000_000), 1_000);
        assert!(!k.is_on(day(6)), "yesterday's trip is off today");
        // Still there to report, though no longer in force.
        assert_eq!(k.trip_info().map(|t| t.day), Some(day(5)));
        let cause = TripCause::Operator {
            note: "broker outage".into(),
        };
        assert!(k.trip(day(6), cause.clone(), 90_000));
        assert!(k.is_on(day(6)));
        assert_eq!(k.trip_info().map(|t| &t.cause), Some(&cause));
        // A clock that steps back a day does not lift today's trip.
        assert!(k.is_on(day(5)));
        assert!(!k.trip(day(5), loss(-2_000_000), 1));
        assert_eq!(k.trip_info().map(|t| t.day), Some(day(6)));
    }

    #[test]
    fn an_operator_reset_turns_it_off_the_same_day() {
        let mut k = KillSwitch::new();
        k.trip(day(5), loss(-1_000_000), 1_000);
        k.reset();
        assert!(!k.is_on(day(5)));
        assert_eq!(k.trip_info(), None);
        // And it can trip again after the reset.
        assert!(k.trip(day(5), loss(-1_500_000), 2_000));
        assert!(k.is_on(day(5)));
    }

    #[test]
    fn it_survives_a_restart_through_json() {
        let mut k = KillSwitch::new();
        assert_eq!(serde_json::to_string(&k).unwrap(), r#"{"trip":null}"#);
        k.trip(
            day(5),
            TripCause::Operator {
                note: "manual stop".into(),
            },
            1_767_571_200_000,
        );
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(
            json,
            r#"{"trip":{"day":"2026-01-05","cause":{"kind":"operator","note":"manual stop"},"at_unix_ms":1767571200000}}"#
        );
        let back: KillSwitch = serde_json::from_str(&json).unwrap();
        assert_eq!(back, k);
        assert!(back.is_on(day(5)));
        assert!(!back.is_on(day(6)));
        let loss_json = serde_json::to_string(&loss(-1_000_000)).unwrap();
        assert_eq!(
            loss_json,
            r#"{"kind":"loss_limit","pnl":-1000000,"limit":1000000}"#
        );
        assert_eq!(
            serde_json::from_str::<TripCause>(&loss_json).unwrap(),
            loss(-1_000_000)
        );
    }
}
