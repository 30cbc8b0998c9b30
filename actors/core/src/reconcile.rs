//! Reconciliation: what the broker says against what the journal says. The broker is the
//! truth; every difference becomes a journal event (so the engine's state moves to the
//! broker's through the same path as any other change) and a [`Difference`] with both
//! values, which the caller logs at warn and counts.
//!
//! Pure functions over plain data: the caller fetches t0425 (today's orders), t0424
//! (holdings) and CSPAQ12200 (cash), converts them to [`BrokerOrder`]s and
//! [`BrokerHolding`]s, applies the events this module returns, and journals them. Must
//! never invent a fill the broker did not report, never resend an order, and never match
//! one broker order to two of ours.
//!
//! Known inexactness: t0425 reports an order's fills as a total and an average price
//! rounded down, so a fill learned here is priced at what the broker's total implies;
//! `reconcile_account` then sets cash to the broker's figure, so cash ends exact.

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use crate::domain::{ClientOrderId, ExecNo, OrderNo, OrderType};
use crate::journal::event::{FillSource, JournalEvent};
use crate::ledger::Ledger;
use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};
use crate::order::{Order, OrderBook, OrderState};

/// One order as the broker lists it (t0425 row).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerOrder {
    pub order_no: OrderNo,
    /// [`OrderNo::NONE`] for an original order; the original's number for a modify/cancel request.
    pub org_order_no: OrderNo,
    pub ticker: Ticker,
    pub side: Side,
    pub qty: Qty,
    /// The limit price; 0 for a market order.
    pub price: Price,
    pub filled: Qty,
    /// Average fill price, rounded down by the broker.
    pub avg_fill_price: Price,
    /// Shares still working.
    pub remaining: Qty,
}

/// One holding as the broker lists it (t0424 row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BrokerHolding {
    pub ticker: Ticker,
    pub qty: Qty,
    pub avg_price: Price,
}

/// What differed, for the log (at warn) and the counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    /// An order whose send was in doubt was found at the broker.
    InDoubtFound { id: u64, order_no: OrderNo },
    /// An order whose send was in doubt is not at the broker: it never arrived.
    InDoubtMissing { id: u64 },
    /// The broker filled more of an order than the journal knew.
    MissedFill {
        id: u64,
        order_no: OrderNo,
        journal: Qty,
        broker: Qty,
    },
    /// The broker ended an order (cancelled the rest) that the journal thought working.
    MissedCancel {
        id: u64,
        order_no: OrderNo,
        qty: Qty,
    },
    /// The journal knows more fills than the broker reports: cannot be undone, only shown.
    BrokerFilledLess {
        id: u64,
        order_no: OrderNo,
        journal: Qty,
        broker: Qty,
    },
    /// One of our numbered orders is not in the broker's list.
    UnknownToBroker { id: u64, order_no: OrderNo },
    /// An order at the broker that the engine did not place (placed by hand, in HTS).
    NotOurs { order_no: OrderNo, ticker: Ticker },
    /// Held quantity differs; the broker's position is adopted.
    Position {
        ticker: Ticker,
        journal: Qty,
        broker: Qty,
    },
    /// Cash differs; the broker's figure is taken.
    Cash { journal: i64, broker: i64 },
}

impl Difference {
    /// A stable name, for counting by kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Difference::InDoubtFound { .. } => "in_doubt_found",
            Difference::InDoubtMissing { .. } => "in_doubt_missing",
            Difference::MissedFill { .. } => "missed_fill",
            Difference::MissedCancel { .. } => "missed_cancel",
            Difference::BrokerFilledLess { .. } => "broker_filled_less",
            Difference::UnknownToBroker { .. } => "unknown_to_broker",
            Difference::NotOurs { .. } => "not_ours",
            Difference::Position { .. } => "position",
            Difference::Cash { .. } => "cash",
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Difference::InDoubtFound { id, order_no } => {
                write!(f, "C{id}: the send was in doubt; the broker has it as #{order_no}")
            }
            Difference::InDoubtMissing { id } => write!(
                f,
                "C{id}: the send was in doubt; the broker has no such order, so it never arrived"
            ),
            Difference::MissedFill {
                id,
                order_no,
                journal,
                broker,
            } => write!(
                f,
                "C{id} #{order_no}: filled {journal} by the journal, {broker} by the broker"
            ),
            Difference::MissedCancel { id, order_no, qty } => write!(
                f,
                "C{id} #{order_no}: working by the journal, done at the broker with {qty} cancelled"
            ),
            Difference::BrokerFilledLess {
                id,
                order_no,
                journal,
                broker,
            } => write!(
                f,
                "C{id} #{order_no}: filled {journal} by the journal but only {broker} by the broker"
            ),
            Difference::UnknownToBroker { id, order_no } => {
                write!(f, "C{id} #{order_no}: not in the broker's orders of the day")
            }
            Difference::NotOurs { order_no, ticker } => write!(
                f,
                "#{order_no} {ticker}: an order at the broker the engine did not place"
            ),
            Difference::Position {
                ticker,
                journal,
                broker,
            } => write!(
                f,
                "{ticker}: the journal holds {journal}, the broker {broker}; the broker's is adopted"
            ),
            Difference::Cash { journal, broker } => write!(
                f,
                "cash: the journal has {journal} won, the broker {broker} won; the broker's is taken"
            ),
        }
    }
}

/// The events that bring the journal's orders to the broker's, and the differences.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub events: Vec<JournalEvent>,
    pub differences: Vec<Difference>,
}

/// Could broker order `b` be our order `o` whose number we never learned?
fn same_order(o: &Order, b: &BrokerOrder) -> bool {
    b.org_order_no == OrderNo::NONE
        && b.ticker == o.ticker()
        && b.side == o.side()
        && b.qty == o.qty()
        && match o.order_type() {
            OrderType::Limit(p) => b.price == p,
            OrderType::Market => true,
        }
}

/// Orders: names the in-doubt ones, and brings each of ours to the broker's fills and end.
/// `now` stamps fills learned here (t0425 has no execution time).
pub fn reconcile_orders(book: &OrderBook, broker: &[BrokerOrder], now: TimeOfDay) -> Outcome {
    reconcile_orders_while_sending(book, broker, now, &HashSet::new())
}

/// As [`reconcile_orders`], while the orders in `sending` are on their way (the request
/// not yet sent, or its reply not yet in): they are not in doubt, so neither named from
/// the broker's list nor closed for being absent from it; their reply names them.
pub fn reconcile_orders_while_sending(
    book: &OrderBook,
    broker: &[BrokerOrder],
    now: TimeOfDay,
    sending: &HashSet<ClientOrderId>,
) -> Outcome {
    let mut out = Outcome::default();
    let originals: Vec<&BrokerOrder> = broker
        .iter()
        .filter(|b| b.org_order_no == OrderNo::NONE)
        .collect();
    let mut claimed: HashSet<OrderNo> = originals
        .iter()
        .filter(|b| book.id_by_order_no(b.order_no).is_some())
        .map(|b| b.order_no)
        .collect();

    // In doubt, oldest first: each takes the oldest unclaimed broker order that matches.
    let mut in_doubt: Vec<&Order> = book
        .working()
        .filter(|o| o.state() == OrderState::Sent && !sending.contains(&o.id()))
        .collect();
    in_doubt.sort_by_key(|o| o.id());
    let mut numbered: Vec<(u64, &BrokerOrder)> = Vec::new();
    for o in in_doubt {
        let mut candidates: Vec<&&BrokerOrder> = originals
            .iter()
            .filter(|b| !claimed.contains(&b.order_no) && same_order(o, b))
            .collect();
        candidates.sort_by_key(|b| b.order_no);
        match candidates.first() {
            Some(b) => {
                claimed.insert(b.order_no);
                out.events.push(JournalEvent::Resolved {
                    id: o.id().0,
                    order_no: b.order_no,
                });
                out.differences.push(Difference::InDoubtFound {
                    id: o.id().0,
                    order_no: b.order_no,
                });
                numbered.push((o.id().0, b));
            }
            None => {
                out.events.push(JournalEvent::Rejected {
                    id: o.id().0,
                    code: crate::trading::orders::LOCAL_SEND_FAILED.to_owned(),
                    message: "not at the broker after the send was in doubt".to_owned(),
                });
                out.differences
                    .push(Difference::InDoubtMissing { id: o.id().0 });
            }
        }
    }

    // Our numbered working orders, against the broker's row for them.
    for o in book.working() {
        let Some(order_no) = o.order_no() else {
            continue;
        };
        match originals.iter().find(|b| b.order_no == order_no) {
            Some(b) => numbered.push((o.id().0, b)),
            None => out.differences.push(Difference::UnknownToBroker {
                id: o.id().0,
                order_no,
            }),
        }
    }
    numbered.sort_by_key(|(id, _)| *id);
    for (id, b) in numbered {
        let (filled, filled_value, qty, cancelled) =
            match book.get(crate::domain::ClientOrderId(id)) {
                Some(o) => (o.filled_qty(), o.filled_value(), o.qty(), o.cancelled_qty()),
                None => continue,
            };
        if b.filled > filled {
            let missing = b.filled.saturating_sub(filled);
            // The broker's total value is avg × filled (avg rounded down): what is missing
            // is that minus what we booked, spread over the missing shares.
            let broker_value = i128::from(b.avg_fill_price.won()) * i128::from(b.filled.shares());
            let missing_value = broker_value - i128::from(filled_value);
            let price = (missing_value / i128::from(missing.shares())).max(1);
            // A spread past what KRX prints (a broker total that does not add up) books
            // the fill at the broker's average instead.
            let price = i64::try_from(price)
                .ok()
                .and_then(|p| Price::new(p).ok())
                .unwrap_or(b.avg_fill_price);
            out.differences.push(Difference::MissedFill {
                id,
                order_no: b.order_no,
                journal: filled,
                broker: b.filled,
            });
            out.events.push(JournalEvent::Filled {
                id,
                order_no: b.order_no,
                // No execution number in t0425: a negative one, unique per (order, total
                // filled), so running reconciliation twice books the fill once.
                exec_no: ExecNo(-i64::try_from(b.filled.shares()).unwrap_or(i64::MAX)),
                ticker: b.ticker,
                side: b.side,
                qty: missing,
                price,
                time: now,
                source: FillSource::Reconcile,
            });
        } else if b.filled < filled {
            out.differences.push(Difference::BrokerFilledLess {
                id,
                order_no: b.order_no,
                journal: filled,
                broker: b.filled,
            });
        }
        let done_at_broker = b.remaining.shares() == 0;
        let ours_left = qty
            .saturating_sub(filled.max(b.filled))
            .saturating_sub(cancelled);
        if done_at_broker && !ours_left.is_zero() {
            out.differences.push(Difference::MissedCancel {
                id,
                order_no: b.order_no,
                qty: ours_left,
            });
            out.events.push(JournalEvent::Cancelled {
                id,
                // The cancel's own number is unknown; the original's, negated, marks it
                // (held at i64::MIN, still negative: t0425 may number an order i64::MIN,
                // whose negation overflows; found by the fuzz harness's core target).
                order_no: OrderNo(b.order_no.0.checked_neg().unwrap_or(i64::MIN)),
                qty: ours_left,
            });
        }
    }

    for b in &originals {
        if !claimed.contains(&b.order_no) && book.id_by_order_no(b.order_no).is_none() {
            out.differences.push(Difference::NotOurs {
                order_no: b.order_no,
                ticker: b.ticker,
            });
        }
    }
    out
}

/// The tickers whose orders at the broker changed between two reads of its order list
/// (`before`, `after`): a fill, a cancel or a new order. Holdings and cash read between the
/// two may or may not include that change, so they cannot be taken as they are for those
/// tickers (nor the cash at all): a fill landing between the reads would be counted twice,
/// once in the holding adopted and once as the fill learned from the order list.
pub fn unsettled(before: &[BrokerOrder], after: &[BrokerOrder]) -> BTreeSet<Ticker> {
    let mut out = BTreeSet::new();
    for a in after {
        let same = before.iter().any(|b| {
            b.order_no == a.order_no && b.filled == a.filled && b.remaining == a.remaining
        });
        if !same {
            out.insert(a.ticker);
        }
    }
    for b in before {
        if !after.iter().any(|a| a.order_no == b.order_no) {
            out.insert(b.ticker);
        }
    }
    out
}

/// Positions and cash: adopts the broker's holdings where they differ and takes its cash.
/// Run after the order events have been applied to `ledger`. The holdings of `unsettled`
/// tickers are left alone, and so is the cash if any ticker is unsettled (see
/// [`unsettled`]): the order list's fills, already applied, are the better word for them.
pub fn reconcile_account(
    ledger: &Ledger,
    holdings: &[BrokerHolding],
    cash: i64,
    unsettled: &BTreeSet<Ticker>,
) -> Outcome {
    let mut out = Outcome::default();
    let mut tickers: Vec<Ticker> = ledger
        .positions()
        .filter(|(_, p)| !p.is_flat())
        .map(|(t, _)| t)
        .chain(holdings.iter().map(|h| h.ticker))
        .collect();
    tickers.sort();
    tickers.dedup();
    for ticker in tickers.into_iter().filter(|t| !unsettled.contains(t)) {
        let journal = ledger.held_qty(ticker);
        let held = holdings.iter().find(|h| h.ticker == ticker);
        let broker = held.map_or(Qty::lit(0), |h| h.qty);
        if journal != broker {
            out.differences.push(Difference::Position {
                ticker,
                journal,
                broker,
            });
            out.events.push(JournalEvent::PositionAdopted {
                ticker,
                qty: broker,
                avg_price: held.map_or(Price::lit(0), |h| h.avg_price),
            });
        }
    }
    if ledger.cash() != cash && unsettled.is_empty() {
        out.differences.push(Difference::Cash {
            journal: ledger.cash(),
            broker: cash,
        });
        out.events.push(JournalEvent::CashCorrected {
            journal: ledger.cash(),
            broker: cash,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TradingDay;
    use crate::journal::recovery::{first_client_id, rebuild};

    fn tk(s: &str) -> Ticker {
        Ticker::parse(s).unwrap()
    }

    fn day() -> TradingDay {
        TradingDay::new(2026, 11, 25).unwrap()
    }

    fn sent(id: u64, qty: u64, order_type: OrderType) -> JournalEvent {
        JournalEvent::OrderSent {
            id,
            ticker: tk("005930"),
            side: Side::Buy,
            qty: Qty::lit(qty),
            order_type,
            reason: "entry".into(),
            tick_seq: 0,
        }
    }

    fn row(
        order_no: i64,
        qty: u64,
        price: i64,
        filled: u64,
        avg: i64,
        remaining: u64,
    ) -> BrokerOrder {
        BrokerOrder {
            order_no: OrderNo(order_no),
            org_order_no: OrderNo::NONE,
            ticker: tk("005930"),
            side: Side::Buy,
            qty: Qty::lit(qty),
            price: Price::lit(price),
            filled: Qty::lit(filled),
            avg_fill_price: Price::lit(avg),
            remaining: Qty::lit(remaining),
        }
    }

    fn state(events: &[JournalEvent]) -> crate::journal::recovery::Recovered {
        rebuild(
            day(),
            events.iter().enumerate().map(|(i, e)| (i as u64 + 1, e)),
            crate::ledger::FeeSchedule::default(),
            std::time::Instant::now(),
        )
    }

    #[test]
    fn an_order_in_doubt_is_found_and_its_fills_booked() {
        let a = first_client_id(day());
        let journal = vec![
            JournalEvent::OpeningCash { cash: 1_000_000 },
            sent(a, 10, OrderType::Limit(Price::lit(50_000))),
            JournalEvent::SendUnknown {
                id: a,
                error: "timeout".into(),
            },
        ];
        let r = state(&journal);
        assert_eq!(r.in_doubt.len(), 1);
        // The broker has it (and a stranger's order of the same shape placed later).
        let broker = [
            row(77, 10, 50_000, 10, 50_000, 0),
            row(78, 10, 50_000, 0, 0, 10),
        ];
        let out = reconcile_orders(&r.book, &broker, TimeOfDay::hms(10, 0, 0));
        assert_eq!(
            out.events[0],
            JournalEvent::Resolved {
                id: a,
                order_no: OrderNo(77)
            }
        );
        assert!(matches!(
            out.events[1],
            JournalEvent::Filled { qty, price, .. }
                if (qty, price) == (Qty::lit(10), Price::lit(50_000))
        ));
        assert_eq!(out.events.len(), 2, "{:?}", out.events);
        let kinds: Vec<_> = out.differences.iter().map(|d| d.kind()).collect();
        assert_eq!(kinds, ["in_doubt_found", "missed_fill", "not_ours"]);

        // Applied and reconciled again: nothing more to do (idempotent).
        let mut all = journal.clone();
        all.extend(out.events);
        let r = state(&all);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.ledger.held_qty(tk("005930")), Qty::lit(10));
        assert_eq!(r.ledger.cash(), 500_000);
        let again = reconcile_orders(&r.book, &broker, TimeOfDay::hms(10, 0, 1));
        assert!(again.events.is_empty(), "{:?}", again.events);
    }

    #[test]
    fn an_order_in_doubt_that_never_arrived_is_closed_not_resent() {
        let a = first_client_id(day());
        let r = state(&[sent(a, 5, OrderType::Market)]);
        let out = reconcile_orders(&r.book, &[], TimeOfDay::hms(10, 0, 0));
        assert!(matches!(&out.events[..], [JournalEvent::Rejected { id, .. }] if *id == a));
        assert_eq!(out.differences, vec![Difference::InDoubtMissing { id: a }]);
        assert!(!out
            .events
            .iter()
            .any(|e| matches!(e, JournalEvent::OrderSent { .. })));
    }

    /// The fuzz harness's core target: an order the broker numbered i64::MIN, cancelled
    /// there while condor was down, is a missed cancel marked with a negative number.
    #[test]
    fn a_missed_cancel_of_an_order_numbered_i64_min() {
        let a = first_client_id(day());
        let journal = vec![
            JournalEvent::OpeningCash { cash: 1_000_000 },
            sent(a, 10, OrderType::Limit(Price::lit(1_000))),
            JournalEvent::Acked {
                id: a,
                order_no: OrderNo(i64::MIN),
            },
        ];
        let r = state(&journal);
        let broker = [row(i64::MIN, 10, 1_000, 0, 0, 0)];
        let out = reconcile_orders(&r.book, &broker, TimeOfDay::hms(10, 0, 0));
        assert!(
            matches!(
                out.events[..],
                [JournalEvent::Cancelled {
                    order_no: OrderNo(i64::MIN),
                    qty,
                    ..
                }] if qty == Qty::lit(10)
            ),
            "{:?}",
            out.events
        );
    }

    #[test]
    fn a_partial_fill_and_a_broker_cancel_missed_while_down() {
        let a = first_client_id(day());
        let journal = vec![
            JournalEvent::OpeningCash { cash: 1_000_000 },
            sent(a, 10, OrderType::Limit(Price::lit(1_000))),
            JournalEvent::Acked {
                id: a,
                order_no: OrderNo(5),
            },
            JournalEvent::Filled {
                id: a,
                order_no: OrderNo(5),
                exec_no: ExecNo(1),
                ticker: tk("005930"),
                side: Side::Buy,
                qty: Qty::lit(2),
                price: Price::lit(1_000),
                time: TimeOfDay::hms(9, 0, 0),
                source: FillSource::Sc1,
            },
        ];
        let r = state(&journal);
        // The broker filled 6 at an average of 995 (2 @ 1000 + 4 @ 992.5 → rounded down),
        // then cancelled the other 4.
        let broker = [row(5, 10, 1_000, 6, 995, 0)];
        let out = reconcile_orders(&r.book, &broker, TimeOfDay::hms(10, 0, 0));
        let kinds: Vec<_> = out.differences.iter().map(|d| d.kind()).collect();
        assert_eq!(kinds, ["missed_fill", "missed_cancel"]);
        match &out.events[0] {
            JournalEvent::Filled { qty, price, .. } => {
                assert_eq!(*qty, Qty::lit(4));
                assert_eq!(*price, Price::lit((995 * 6 - 2_000) / 4));
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            out.events[1],
            JournalEvent::Cancelled { qty, .. } if qty == Qty::lit(4)
        ));
        let mut all = journal;
        all.extend(out.events);
        let r = state(&all);
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(
            r.book.get(crate::domain::ClientOrderId(a)).unwrap().state(),
            OrderState::Cancelled
        );
        assert_eq!(r.ledger.held_qty(tk("005930")), Qty::lit(6));
    }

    #[test]
    fn positions_and_cash_follow_the_broker() {
        let mut ledger = Ledger::new(1_000);
        ledger
            .adopt(tk("005930"), Qty::lit(3), Price::lit(100))
            .unwrap();
        let holdings = [BrokerHolding {
            ticker: tk("000660"),
            qty: Qty::lit(2),
            avg_price: Price::lit(50),
        }];
        let out = reconcile_account(&ledger, &holdings, 900, &BTreeSet::new());
        assert_eq!(
            out.differences,
            vec![
                Difference::Position {
                    ticker: tk("000660"),
                    journal: Qty::lit(0),
                    broker: Qty::lit(2)
                },
                Difference::Position {
                    ticker: tk("005930"),
                    journal: Qty::lit(3),
                    broker: Qty::lit(0)
                },
                Difference::Cash {
                    journal: 1_000,
                    broker: 900
                },
            ]
        );
        assert_eq!(out.events.len(), 3);
        assert!(reconcile_account(&Ledger::new(5), &[], 5, &BTreeSet::new())
            .events
            .is_empty());
    }

    #[test]
    fn an_order_whose_send_is_on_its_way_is_not_in_doubt() {
        // One order sent with its reply lost (in doubt) and one just sent, its reply not in
        // yet; the broker has neither.
        let a = first_client_id(day());
        let r = state(&[
            sent(a, 5, OrderType::Market),
            JournalEvent::SendUnknown {
                id: a,
                error: "timeout".into(),
            },
            sent(a + 1, 7, OrderType::Market),
        ]);
        let sending = HashSet::from([ClientOrderId(a + 1)]);
        let out = reconcile_orders_while_sending(&r.book, &[], TimeOfDay::hms(10, 0, 0), &sending);
        // Only the one in doubt is closed; the other's reply will say what became of it.
        assert_eq!(out.differences, vec![Difference::InDoubtMissing { id: a }]);
        assert!(matches!(&out.events[..], [JournalEvent::Rejected { id, .. }] if *id == a));
        // Without knowing it is on its way, it would be closed as never arrived, and its
        // reply (or fills) then refused by the order state machine.
        let out = reconcile_orders(&r.book, &[], TimeOfDay::hms(10, 0, 0));
        assert_eq!(out.differences.len(), 2);
    }

    #[test]
    fn a_fill_between_the_reads_is_counted_once() {
        // The journal's buy of 10 is working. The broker fills it between the first read of
        // its order list and the read of its holdings and cash: the holdings already hold
        // the 10 shares and the cash paid for them, and the second read of the order list
        // shows the fill.
        let a = first_client_id(day());
        let journal = vec![
            JournalEvent::OpeningCash { cash: 1_000_000 },
            sent(a, 10, OrderType::Limit(Price::lit(50_000))),
            JournalEvent::Acked {
                id: a,
                order_no: OrderNo(7),
            },
        ];
        let mut r = state(&journal);
        let before = [row(7, 10, 50_000, 0, 0, 10)];
        let after = [row(7, 10, 50_000, 10, 50_000, 0)];
        let holdings = [BrokerHolding {
            ticker: tk("005930"),
            qty: Qty::lit(10),
            avg_price: Price::lit(50_000),
        }];
        let open = unsettled(&before, &after);
        assert_eq!(open, BTreeSet::from([tk("005930")]));
        assert!(unsettled(&after, &after).is_empty());

        // The fill is learned from the second read, and the holdings are not adopted on
        // top of it: 10 shares, not 20, and the cash paid once.
        let out = reconcile_orders(&r.book, &after, TimeOfDay::hms(10, 0, 0));
        for (i, e) in out.events.iter().enumerate() {
            r.apply(100 + i as u64, e, std::time::Instant::now());
        }
        let account = reconcile_account(&r.ledger, &holdings, 500_000, &open);
        assert!(account.events.is_empty(), "{:?}", account.events);
        for (i, e) in account.events.iter().enumerate() {
            r.apply(200 + i as u64, e, std::time::Instant::now());
        }
        assert!(r.anomalies.is_empty(), "{:?}", r.anomalies);
        assert_eq!(r.ledger.held_qty(tk("005930")), Qty::lit(10));
        assert_eq!(r.ledger.cash(), 500_000);

        // Reconciling it again (the next start) changes nothing.
        let again = reconcile_orders(&r.book, &after, TimeOfDay::hms(10, 0, 1));
        assert!(again.events.is_empty(), "{:?}", again.events);
        let account = reconcile_account(&r.ledger, &holdings, 500_000, &BTreeSet::new());
        assert!(account.events.is_empty(), "{:?}", account.events);

        // Without the second read, the same holdings on top of the late fill hold 20.
        let mut naive = state(&journal);
        let stale = reconcile_orders(&naive.book, &before, TimeOfDay::hms(10, 0, 0));
        assert!(stale.events.is_empty());
        for (i, e) in reconcile_account(&naive.ledger, &holdings, 500_000, &BTreeSet::new())
            .events
            .iter()
            .enumerate()
        {
            naive.apply(100 + i as u64, e, std::time::Instant::now());
        }
        for (i, e) in reconcile_orders(&naive.book, &after, TimeOfDay::hms(10, 0, 1))
            .events
            .iter()
            .enumerate()
        {
            naive.apply(200 + i as u64, e, std::time::Instant::now());
        }
        assert_eq!(naive.ledger.held_qty(tk("005930")), Qty::lit(20));
    }
}
