//! Rebuilding the engine's state from the journal alone: the order book (every order with
//! its state, fills and order number), the ledger (cash and positions), the tickers in the
//! condition, the kill switch, and what is in doubt.
//!
//! Pure: records in, state out, through the same state machine (`OrderBook`) and the same
//! ledger the live engine uses, so a replay cannot disagree with the run that wrote it.
//! Must never call the broker (reconciliation comes after, and is the broker's word) and
//! never panic on a journal it does not like: an event that does not apply is reported as
//! an anomaly with its record number and skipped, the way the live engine refuses it.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::clock::TradingDay;
use crate::condition_books::ConditionBooks;
use crate::domain::{ClientOrderId, ConditionId, Fill, OrderIntent};
use crate::kill_switch::TripCause;
use crate::ledger::{FeeSchedule, Ledger};
use crate::market::Ticker;
use crate::order::{OrderBook, OrderState, Transition};

use super::event::JournalEvent;

/// What an order rebuilt from the journal gives as its reason in log lines.
pub const RESTORED_REASON: &str = "restored from the journal";

/// The first client order id of `day`: `YYYYMMDD` followed by six digits, so ids never
/// repeat across days or restarts and a person can read the day off one.
pub fn first_client_id(day: TradingDay) -> u64 {
    let ymd = u64::from(day.year()) * 10_000 + u64::from(day.month()) * 100 + u64::from(day.day());
    ymd * 1_000_000 + 1
}

/// The engine's state as the journal left it.
#[derive(Debug)]
pub struct Recovered {
    pub book: OrderBook,
    pub ledger: Ledger,
    /// The schedule each fill's fee is booked by, here and in later [`Recovered::apply`].
    pub fees: FeeSchedule,
    /// The broker's cash when the day's journal began; `None` in a journal that never
    /// recorded it (a fresh day: ask the broker).
    pub opening_cash: Option<i64>,
    /// Every fill in journal order, for the strategy and the Portfolio to replay.
    pub fills: Vec<Fill>,
    /// The same fills per condition, by the owners the journal recorded.
    pub by_condition: ConditionBooks,
    /// Tickers in the condition when the journal ends.
    pub watched: BTreeSet<Ticker>,
    /// Why the kill switch is on today, if it is.
    pub kill_switch: Option<TripCause>,
    /// Orders sent whose broker number the journal never learned: they may be working.
    pub in_doubt: Vec<ClientOrderId>,
    /// Orders sent today (passed the gate), for the per-day cap.
    pub orders_sent: u64,
    pub refusals: u64,
    /// Times the engine started on this journal.
    pub starts: u64,
    pub events: u64,
    /// The journal record the state runs to (0 before any): a replay rebuilds the same
    /// state from the records up to it.
    pub journal_seq: u64,
    /// Events that did not apply, with their record number: logged at warn by the caller.
    pub anomalies: Vec<String>,
}

/// Replays `records` (record number, event), in order, for `day`.
pub fn rebuild<'a>(
    day: TradingDay,
    records: impl IntoIterator<Item = (u64, &'a JournalEvent)> + Clone,
    fees: FeeSchedule,
    now: Instant,
) -> Recovered {
    let opening_cash = records.clone().into_iter().find_map(|(_, e)| match e {
        JournalEvent::OpeningCash { cash } => Some(*cash),
        _ => None,
    });
    let mut r = Recovered {
        book: OrderBook::starting_at(first_client_id(day)),
        ledger: Ledger::new(opening_cash.unwrap_or(0)),
        fees,
        opening_cash,
        fills: Vec::new(),
        by_condition: ConditionBooks::default(),
        watched: BTreeSet::new(),
        kill_switch: None,
        in_doubt: Vec::new(),
        orders_sent: 0,
        refusals: 0,
        starts: 0,
        events: 0,
        journal_seq: 0,
        anomalies: Vec::new(),
    };
    for (seq, event) in records {
        r.events += 1;
        r.journal_seq = r.journal_seq.max(seq);
        if let Err(why) = apply(&mut r, event, now) {
            r.anomalies.push(format!("record {seq} ({event}): {why}"));
        }
    }
    r.in_doubt = r
        .book
        .working()
        .filter(|o| o.state() == OrderState::Sent)
        .map(|o| o.id())
        .collect();
    r.in_doubt.sort();
    r
}

/// What one order event did to the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookChange {
    pub id: ClientOrderId,
    pub transition: Transition,
    /// A fill new to the book (not a duplicate), to book into a ledger.
    pub fill: Option<Fill>,
}

impl BookChange {
    /// True when the event moved the order into a final state.
    pub fn finished(&self) -> bool {
        matches!(self.transition, Transition::Applied { from, to } if to.is_final() && !from.is_final())
    }
}

/// Applies one order event to `book` through the order state machine, as the live engine
/// does; `Ok(None)` for an event about no order. `OrderSent` opens the order under its
/// journaled id (ids only grow).
pub fn apply_to_book(
    book: &mut OrderBook,
    event: &JournalEvent,
    now: Instant,
) -> Result<Option<BookChange>, String> {
    let change = |id: u64, t: Result<Transition, crate::order::BookError>, fill| {
        t.map(|transition| {
            Some(BookChange {
                id: ClientOrderId(id),
                transition,
                fill: if transition.is_applied() { fill } else { None },
            })
        })
        .map_err(|e| e.to_string())
    };
    match event {
        JournalEvent::OrderSent {
            id,
            ticker,
            side,
            qty,
            order_type,
            tick_seq,
            ..
        } => {
            book.reserve_ids_below(*id);
            if book.next_client_id() != ClientOrderId(*id) {
                return Err(format!(
                    "id C{id} is below the next free id {}: ids must only grow",
                    book.next_client_id()
                ));
            }
            let intent = OrderIntent {
                ticker: *ticker,
                side: *side,
                qty: *qty,
                order_type: *order_type,
                reason: RESTORED_REASON,
                tick_seq: *tick_seq,
                tick_received_at: None,
            };
            let opened = book.open(&intent, now).map_err(|e| e.to_string())?;
            change(*id, book.sent(opened, now), None)
        }
        JournalEvent::Acked { id, order_no } | JournalEvent::Resolved { id, order_no } => {
            change(*id, book.acked(ClientOrderId(*id), *order_no, now), None)
        }
        JournalEvent::Rejected { id, code, message } => change(
            *id,
            book.rejected(ClientOrderId(*id), code, message, now),
            None,
        ),
        JournalEvent::Filled {
            id,
            order_no,
            exec_no,
            ticker,
            side,
            qty,
            price,
            time,
            ..
        } => {
            let fill = Fill {
                ticker: *ticker,
                side: *side,
                price: *price,
                qty: *qty,
                order_no: *order_no,
                time: *time,
            };
            change(
                *id,
                book.filled(ClientOrderId(*id), *order_no, *exec_no, *qty, *price, now),
                Some(fill),
            )
        }
        JournalEvent::Cancelled { id, order_no, qty } => change(
            *id,
            book.cancelled(ClientOrderId(*id), *order_no, *qty, now),
            None,
        ),
        _ => Ok(None),
    }
}

fn apply(r: &mut Recovered, event: &JournalEvent, now: Instant) -> Result<(), String> {
    if let Some(change) = apply_to_book(&mut r.book, event, now)? {
        if matches!(event, JournalEvent::OrderSent { .. }) {
            r.orders_sent += 1;
        }
        if let Some(fill) = change.fill {
            let effect = r
                .ledger
                .apply_fill(&fill, r.fees.fee(&fill))
                .map_err(|e| e.to_string())?;
            r.by_condition.book(&effect);
            r.fills.push(fill);
        }
        return Ok(());
    }
    match event {
        JournalEvent::Started { .. } => r.starts += 1,
        JournalEvent::PositionAdopted {
            ticker,
            qty,
            avg_price,
        } => r
            .ledger
            .adopt(*ticker, *qty, *avg_price)
            .map_err(|e| e.to_string())?,
        JournalEvent::CashCorrected { broker, .. } => r.ledger.correct_cash(*broker),
        JournalEvent::ConditionEnter { ticker } => {
            r.watched.insert(*ticker);
        }
        JournalEvent::ConditionExit { ticker } => {
            r.watched.remove(ticker);
        }
        JournalEvent::TickerOwner { ticker, condition } => {
            r.by_condition.set_owner(*ticker, ConditionId(*condition))
        }
        JournalEvent::Refused { .. } => r.refusals += 1,
        JournalEvent::KillSwitchTripped { cause } => r.kill_switch = Some(cause.clone()),
        JournalEvent::KillSwitchReset { .. } => r.kill_switch = None,
        // Order events were applied above; the rest change nothing here.
        _ => {}
    }
    Ok(())
}

impl Recovered {
    /// Applies one more event (reconciliation's, after it is journaled), as the rebuild did.
    pub fn apply(&mut self, seq: u64, event: &JournalEvent, now: Instant) {
        self.events += 1;
        self.journal_seq = self.journal_seq.max(seq);
        if let Err(why) = apply(self, event, now) {
            self.anomalies
                .push(format!("record {seq} ({event}): {why}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderType;
    use crate::domain::{ExecNo, OrderNo};
    use crate::journal::event::FillSource;
    use crate::market::{Price, Qty, Side, TimeOfDay};

    fn tk(s: &str) -> Ticker {
        Ticker::parse(s).unwrap()
    }

    fn day() -> TradingDay {
        TradingDay::new(2026, 11, 25).unwrap()
    }

    fn sent(id: u64, ticker: &str, side: Side, qty: u64) -> JournalEvent {
        JournalEvent::OrderSent {
            id,
            ticker: tk(ticker),
            side,
            qty: Qty::lit(qty),
            order_type: OrderType::Market,
            reason: "entry".into(),
            tick_seq: 1,
        }
    }

    fn fill(
        id: u64,
        order_no: i64,
        exec_no: i64,
        side: Side,
        qty: u64,
        price: i64,
    ) -> JournalEvent {
        JournalEvent::Filled {
            id,
            order_no: OrderNo(order_no),
            exec_no: ExecNo(exec_no),
            ticker: tk("005930"),
            side,
            qty: Qty::lit(qty),
            price: Price::lit(price),
            time: TimeOfDay::hms(9, 1, 0),
            source: FillSource::Sc1,
        }
    }

    fn replay(events: &[JournalEvent]) -> Recovered {
        rebuild(
            day(),
            events.iter().enumerate().map(|(i, e)| (i as u64 + 1, e)),
            FeeSchedule::default(),
            Instant::now(),
        )
    }

    #[test]
    fn the_books_per_condition_come_back_with_their_owners() {
        let a = first_client_id(day());
        let events = vec![
            JournalEvent::OpeningCash { cash: 10_000_000 },
            JournalEvent::TickerOwner {
                ticker: tk("005930"),
                condition: 1,
            },
            sent(a, "005930", Side::Buy, 10),
            JournalEvent::Acked {
                id: a,
                order_no: OrderNo(100),
            },
            fill(a, 100, 1, Side::Buy, 10, 70_000),
            sent(a + 1, "005930", Side::Sell, 10),
            JournalEvent::Acked {
                id: a + 1,
                order_no: OrderNo(101),
            },
            fill(a + 1, 101, 2, Side::Sell, 10, 71_000),
        ];
        let r = replay(&events);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.by_condition.owners(), [(tk("005930"), ConditionId(1))]);
        let s = r.by_condition.summarize(&r.ledger.snapshot().unwrap());
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].condition, s[0].fills, s[0].realized_pnl),
            (2, 2, 10_000)
        );
    }

    #[test]
    fn client_ids_carry_the_day() {
        assert_eq!(first_client_id(day()), 20261125000001);
    }

    #[test]
    fn a_day_of_orders_rebuilds_the_book_and_the_ledger() {
        let a = first_client_id(day());
        let events = vec![
            JournalEvent::OpeningCash { cash: 10_000_000 },
            JournalEvent::ConditionEnter {
                ticker: tk("005930"),
            },
            sent(a, "005930", Side::Buy, 10),
            JournalEvent::Acked {
                id: a,
                order_no: OrderNo(100),
            },
            fill(a, 100, 1, Side::Buy, 4, 70_000),
            fill(a, 100, 2, Side::Buy, 6, 70_100),
            fill(a, 100, 2, Side::Buy, 6, 70_100), // a duplicate exec: once only
            sent(a + 1, "005930", Side::Sell, 10),
            JournalEvent::Acked {
                id: a + 1,
                order_no: OrderNo(101),
            },
            fill(a + 1, 101, 3, Side::Sell, 3, 71_000),
            JournalEvent::ConditionExit {
                ticker: tk("005930"),
            },
            JournalEvent::ConditionEnter {
                ticker: tk("000660"),
            },
            sent(a + 2, "000660", Side::Buy, 1),
            JournalEvent::Rejected {
                id: a + 2,
                code: "02705".into(),
                message: "limit".into(),
            },
            sent(a + 3, "000660", Side::Buy, 1),
            JournalEvent::SendUnknown {
                id: a + 3,
                error: "timeout".into(),
            },
        ];
        let r = replay(&events);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.opening_cash, Some(10_000_000));
        assert_eq!(r.ledger.held_qty(tk("005930")), Qty::lit(7));
        let spent = 4 * 70_000 + 6 * 70_100;
        assert_eq!(r.ledger.cash(), 10_000_000 - spent + 3 * 71_000);
        assert_eq!(r.fills.len(), 3);
        assert_eq!(r.orders_sent, 4);
        assert_eq!(r.book.next_client_id(), ClientOrderId(a + 4));
        let buy = r.book.get(ClientOrderId(a)).unwrap();
        assert_eq!(buy.state(), OrderState::Filled);
        let sell = r.book.get(ClientOrderId(a + 1)).unwrap();
        assert_eq!(sell.state(), OrderState::PartiallyFilled);
        assert_eq!(
            r.book.id_by_order_no(OrderNo(101)),
            Some(ClientOrderId(a + 1))
        );
        assert_eq!(
            r.book.get(ClientOrderId(a + 2)).unwrap().state(),
            OrderState::Rejected
        );
        assert_eq!(r.in_doubt, vec![ClientOrderId(a + 3)]);
        assert_eq!(r.watched, BTreeSet::from([tk("000660")]));
    }

    /// A restart books each replayed fill's fee, so the cash it rebuilds is what the
    /// exchange left, and so is a fill reconciliation adds after it.
    #[test]
    fn a_replay_books_the_fees_of_each_fill() {
        let fees = FeeSchedule {
            commission_ppm: 150,
            sell_tax_ppm: 2_000,
        };
        let a = first_client_id(day());
        let events = [
            JournalEvent::OpeningCash { cash: 10_000_000 },
            sent(a, "005930", Side::Buy, 10),
            fill(a, 100, 1, Side::Buy, 10, 70_000),
            sent(a + 1, "005930", Side::Sell, 10),
        ];
        let mut r = rebuild(
            day(),
            events.iter().enumerate().map(|(i, e)| (i as u64 + 1, e)),
            fees,
            Instant::now(),
        );
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        // 700,000 bought: commission 105.
        assert_eq!(r.ledger.cash(), 10_000_000 - 700_000 - 105);
        r.apply(
            9,
            &fill(a + 1, 101, 2, Side::Sell, 10, 71_000),
            Instant::now(),
        );
        // 710,000 sold: commission 106 (106.5 rounded down) and tax 1,420.
        assert_eq!(r.ledger.fees(), 105 + 106 + 1_420);
        assert_eq!(
            r.ledger.cash(),
            10_000_000 - 700_000 - 105 + 710_000 - 106 - 1_420
        );
    }

    #[test]
    fn kill_switch_and_adopted_positions_survive_a_restart() {
        let events = vec![
            JournalEvent::OpeningCash { cash: 1_000 },
            JournalEvent::PositionAdopted {
                ticker: tk("005930"),
                qty: Qty::lit(5),
                avg_price: Price::lit(60_000),
            },
            JournalEvent::CashCorrected {
                journal: 1_000,
                broker: 900,
            },
            JournalEvent::KillSwitchTripped {
                cause: TripCause::LossLimit {
                    pnl: -500,
                    limit: 500,
                },
            },
            JournalEvent::Started {
                version: "0".into(),
                settings: Default::default(),
            },
        ];
        let r = replay(&events);
        assert_eq!(
            r.kill_switch,
            Some(TripCause::LossLimit {
                pnl: -500,
                limit: 500
            })
        );
        assert_eq!(r.ledger.held_qty(tk("005930")), Qty::lit(5));
        assert_eq!(r.ledger.cash(), 900);
        assert_eq!(r.starts, 1);
        let mut reset = events.clone();
        reset.push(JournalEvent::KillSwitchReset {
            note: "operator".into(),
        });
        assert_eq!(replay(&reset).kill_switch, None);
    }

    #[test]
    fn events_that_do_not_apply_are_reported_not_fatal() {
        let a = first_client_id(day());
        let events = vec![
            sent(a + 5, "005930", Side::Buy, 1),
            sent(a, "005930", Side::Buy, 1), // an id going backwards
            JournalEvent::Acked {
                id: a + 99,
                order_no: OrderNo(1),
            }, // an order never sent
            fill(a + 5, 7, 1, Side::Buy, 1, 100),
        ];
        let r = replay(&events);
        assert_eq!(r.anomalies.len(), 2, "{:?}", r.anomalies);
        assert!(
            r.anomalies[0].starts_with("record 2 "),
            "{}",
            r.anomalies[0]
        );
        assert!(
            r.anomalies[1].starts_with("record 3 "),
            "{}",
            r.anomalies[1]
        );
        // The fill still applied: the order got its number from the fill.
        assert_eq!(r.ledger.held_qty(tk("005930")), Qty::lit(1));
    }
}
