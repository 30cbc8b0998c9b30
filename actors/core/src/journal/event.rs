//! What the journal records: one [`JournalEvent`] per change of account or order state,
//! in the order the engine decided it.
//!
//! Owns the event vocabulary and its JSON shape (the text a person reads with `less` or
//! `condor journal`). Must never carry a secret (app key, secret, token, webhook URL): the
//! settings recorded at start are the non-secret ones, chosen by the caller from its typed
//! config, never a dump of the environment.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{ExecNo, OrderNo, OrderType};
use crate::kill_switch::TripCause;
use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};

/// Where a fill was learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FillSource {
    /// The realtime order event (SC1).
    Sc1,
    /// The broker's order list (t0425) at reconciliation: a fill the engine missed.
    Reconcile,
}

/// One journaled change. The serialized tag is `event`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum JournalEvent {
    /// The engine started with these settings in force (never secrets).
    Started {
        version: String,
        settings: BTreeMap<String, String>,
    },
    /// The account's cash at the broker when the day's journal began (CSPAQ12200).
    OpeningCash {
        cash: i64,
    },
    /// A position held at the start of the day's journal (carried over, or found at the
    /// broker and adopted by reconciliation).
    PositionAdopted {
        ticker: Ticker,
        qty: Qty,
        avg_price: Price,
    },
    /// The broker's cash differs from the journal's: the broker is the truth.
    CashCorrected {
        journal: i64,
        broker: i64,
    },
    ConditionEnter {
        ticker: Ticker,
    },
    ConditionExit {
        ticker: Ticker,
    },
    /// The strategies' desk gave `ticker` to condition `condition` (0-based, condor.toml's
    /// order): its fills from here on are that condition's (the books per condition).
    TickerOwner {
        ticker: Ticker,
        condition: u8,
    },
    /// An intent the risk gate refused: it never became an order.
    Refused {
        ticker: Ticker,
        side: Side,
        qty: Qty,
        order_type: OrderType,
        rule: String,
        detail: String,
        reason: String,
    },
    /// An order about to be sent: durable before the request leaves.
    OrderSent {
        id: u64,
        ticker: Ticker,
        side: Side,
        qty: Qty,
        order_type: OrderType,
        reason: String,
        tick_seq: u64,
    },
    /// The broker accepted the order and named it.
    Acked {
        id: u64,
        order_no: OrderNo,
    },
    /// The broker (or the engine, before sending) refused the order.
    Rejected {
        id: u64,
        code: String,
        message: String,
    },
    /// The send's outcome is unknown (transport error, timeout, an answer without an order
    /// number): the order may be working. Resolved by asking the broker, never by resending.
    SendUnknown {
        id: u64,
        error: String,
    },
    /// The broker's order list names the order a `SendUnknown` (or a crash) left in doubt.
    Resolved {
        id: u64,
        order_no: OrderNo,
    },
    /// One execution of one of our orders.
    Filled {
        id: u64,
        order_no: OrderNo,
        exec_no: ExecNo,
        ticker: Ticker,
        side: Side,
        qty: Qty,
        price: Price,
        time: TimeOfDay,
        source: FillSource,
    },
    /// `qty` of the order was cancelled (by us, or by the broker at the close).
    Cancelled {
        id: u64,
        order_no: OrderNo,
        qty: Qty,
    },
    /// The day's loss limit (or an operator) stopped new entries.
    KillSwitchTripped {
        cause: TripCause,
    },
    /// An operator turned the kill switch off (`condor kill-switch reset`).
    KillSwitchReset {
        note: String,
    },
}

impl JournalEvent {
    /// The client order id this event concerns, if any.
    pub fn order_id(&self) -> Option<u64> {
        match self {
            JournalEvent::OrderSent { id, .. }
            | JournalEvent::Acked { id, .. }
            | JournalEvent::Rejected { id, .. }
            | JournalEvent::SendUnknown { id, .. }
            | JournalEvent::Resolved { id, .. }
            | JournalEvent::Filled { id, .. }
            | JournalEvent::Cancelled { id, .. } => Some(*id),
            _ => None,
        }
    }

    /// The broker order number this event names, if any.
    pub fn order_no(&self) -> Option<OrderNo> {
        match self {
            JournalEvent::Acked { order_no, .. }
            | JournalEvent::Resolved { order_no, .. }
            | JournalEvent::Filled { order_no, .. }
            | JournalEvent::Cancelled { order_no, .. } => Some(*order_no),
            _ => None,
        }
    }

    /// The ticker this event concerns, if it names one.
    pub fn ticker(&self) -> Option<Ticker> {
        match self {
            JournalEvent::PositionAdopted { ticker, .. }
            | JournalEvent::ConditionEnter { ticker }
            | JournalEvent::ConditionExit { ticker }
            | JournalEvent::TickerOwner { ticker, .. }
            | JournalEvent::Refused { ticker, .. }
            | JournalEvent::OrderSent { ticker, .. }
            | JournalEvent::Filled { ticker, .. } => Some(*ticker),
            _ => None,
        }
    }
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn priced(t: &OrderType) -> String {
    match t {
        OrderType::Market => "at market".to_owned(),
        OrderType::Limit(p) => format!("limit {p}"),
    }
}

/// One line a person reads (`condor journal`). Order-scoped events lead with the client id
/// as the engine's logs print it (`C…`).
impl fmt::Display for JournalEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalEvent::Started { version, settings } => {
                write!(f, "started condor {version}")?;
                for (k, v) in settings {
                    write!(f, " {k}={v}")?;
                }
                Ok(())
            }
            JournalEvent::OpeningCash { cash } => write!(f, "opening cash {cash} won"),
            JournalEvent::PositionAdopted {
                ticker,
                qty,
                avg_price,
            } => write!(f, "{ticker} position adopted: {qty} @ avg {avg_price}"),
            JournalEvent::CashCorrected { journal, broker } => {
                write!(f, "cash corrected to the broker's {broker} won (journal had {journal})")
            }
            JournalEvent::ConditionEnter { ticker } => write!(f, "{ticker} entered the condition"),
            JournalEvent::ConditionExit { ticker } => write!(f, "{ticker} left the condition"),
            JournalEvent::TickerOwner { ticker, condition } => {
                write!(f, "{ticker} traded by condition #{}", u16::from(*condition) + 1)
            }
            JournalEvent::Refused {
                ticker,
                side,
                qty,
                order_type,
                rule,
                detail,
                reason,
            } => write!(
                f,
                "{ticker} {} {qty} {} refused by {rule}: {detail} ({reason})",
                side_word(*side),
                priced(order_type)
            ),
            JournalEvent::OrderSent {
                id,
                ticker,
                side,
                qty,
                order_type,
                reason,
                tick_seq,
            } => write!(
                f,
                "C{id} {ticker} {} {qty} {} sent ({reason}, tick #{tick_seq})",
                side_word(*side),
                priced(order_type)
            ),
            JournalEvent::Acked { id, order_no } => write!(f, "C{id} accepted as #{order_no}"),
            JournalEvent::Rejected { id, code, message } => {
                write!(f, "C{id} rejected [{code}] {message}")
            }
            JournalEvent::SendUnknown { id, error } => {
                write!(f, "C{id} fate unknown after the send: {error}")
            }
            JournalEvent::Resolved { id, order_no } => {
                write!(f, "C{id} found at the broker as #{order_no}")
            }
            JournalEvent::Filled {
                id,
                order_no,
                exec_no,
                ticker,
                side,
                qty,
                price,
                time,
                source,
            } => write!(
                f,
                "C{id} #{order_no} {ticker} {} {qty} @ {price} filled at {time} (exec #{exec_no}{})",
                side_word(*side),
                match source {
                    FillSource::Sc1 => "",
                    FillSource::Reconcile => ", learned at reconciliation",
                }
            ),
            JournalEvent::Cancelled { id, order_no, qty } => {
                write!(f, "C{id} #{order_no} {qty} cancelled")
            }
            JournalEvent::KillSwitchTripped { cause } => write!(f, "KILL SWITCH ON: {cause}"),
            JournalEvent::KillSwitchReset { note } => write!(f, "kill switch reset: {note}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tk() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    #[test]
    fn events_round_trip_through_json_with_a_readable_tag() {
        let events = vec![
            JournalEvent::Started {
                version: "0.1.0".into(),
                settings: BTreeMap::from([("max_order_qty".into(), "100".into())]),
            },
            JournalEvent::OrderSent {
                id: 20260105000001,
                ticker: tk(),
                side: Side::Buy,
                qty: Qty::lit(10),
                order_type: OrderType::Limit(Price::lit(70_000)),
                reason: "entry: momentum".into(),
                tick_seq: 42,
            },
            JournalEvent::Filled {
                id: 20260105000001,
                order_no: OrderNo(7),
                exec_no: ExecNo(3),
                ticker: tk(),
                side: Side::Buy,
                qty: Qty::lit(10),
                price: Price::lit(70_000),
                time: TimeOfDay::hms(9, 30, 1),
                source: FillSource::Sc1,
            },
            JournalEvent::Refused {
                ticker: tk(),
                side: Side::Buy,
                qty: Qty::lit(1),
                order_type: OrderType::Market,
                rule: "kill_switch".into(),
                detail: "kill switch on".into(),
                reason: "entry".into(),
            },
        ];
        for e in events {
            let json = serde_json::to_string(&e).unwrap();
            assert!(json.starts_with("{\"event\":"), "{json}");
            assert!(!json.contains('\n'));
            assert_eq!(serde_json::from_str::<JournalEvent>(&json).unwrap(), e);
        }
        let sent = r#"{"event":"order_sent","id":5,"ticker":"005930","side":"Buy","qty":3,"order_type":"market","reason":"x","tick_seq":0}"#;
        let e: JournalEvent = serde_json::from_str(sent).unwrap();
        assert_eq!(e.to_string(), "C5 005930 buy 3 at market sent (x, tick #0)");
        assert_eq!(e.order_id(), Some(5));
        assert_eq!(e.ticker(), Some(tk()));
    }

    /// A journal written while order numbers were plain integers reads the same, and is
    /// written back byte for byte: the number is bare on disk.
    #[test]
    fn an_order_number_is_a_bare_integer_on_disk() {
        let line = r#"{"event":"acked","id":5,"order_no":86382}"#;
        let e: JournalEvent = serde_json::from_str(line).unwrap();
        assert_eq!(
            e,
            JournalEvent::Acked {
                id: 5,
                order_no: OrderNo(86_382)
            }
        );
        assert_eq!(serde_json::to_string(&e).unwrap(), line);
        assert_eq!(e.to_string(), "C5 accepted as #86382");
    }

    /// Prices and quantities read through their constructors: a line written before the
    /// fields went private reads and writes back byte for byte, a market order's 0 reads,
    /// and a number KRX cannot print is an error naming the bound, not a loaded value.
    #[test]
    fn a_price_or_quantity_out_of_range_in_a_journal_is_a_clear_error() {
        let line = serde_json::to_string(&JournalEvent::Filled {
            id: 5,
            order_no: OrderNo(7),
            exec_no: ExecNo(3),
            ticker: tk(),
            side: Side::Buy,
            qty: Qty::lit(10),
            price: Price::lit(70_000),
            time: TimeOfDay::hms(9, 30, 1),
            source: FillSource::Sc1,
        })
        .unwrap();
        let with = |from: &str, to: &str| {
            assert!(line.contains(from), "{line}");
            line.replace(from, to)
        };
        let top = with("\"price\":70000", "\"price\":99999000");
        let e: JournalEvent = serde_json::from_str(&top).unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), top);
        let zero = with("\"price\":70000", "\"price\":0");
        assert!(matches!(
            serde_json::from_str(&zero).unwrap(),
            JournalEvent::Filled {
                price: Price::ZERO,
                ..
            }
        ));
        let err =
            serde_json::from_str::<JournalEvent>(&with("\"price\":70000", "\"price\":99999001"))
                .unwrap_err()
                .to_string();
        assert!(err.contains("price 99999001 is above 99999000"), "{err}");
        let err = serde_json::from_str::<JournalEvent>(&with("\"qty\":10", "\"qty\":100000000"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("quantity 100000000 is above 99999999"),
            "{err}"
        );
    }
}
