//! The domain model: what the engine trades on, whichever broker it came from. A trade of
//! a watched ticker ([`Tick`]), a condition's enter and exit, what a strategy wants done
//! ([`OrderIntent`]), what the broker says happened to an order ([`AccountEvent`]), one
//! execution ([`Fill`]), and the ids that name them.
//!
//! Owns plain data and nothing else. Must never depend on actix or on a wire format: a
//! broker adapter turns its frames into these types, the actors carry them in messages of
//! their own, and the trading core takes them by reference.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};

/// One trade of a watched ticker, as the engine received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tick {
    pub ticker: Ticker,
    pub price: Price,
    /// Shares in this trade.
    pub qty: Qty,
    /// The day's cumulative volume after this trade.
    pub cum_volume: u64,
    /// Previous close (기준가), so strategies can compute the day's change.
    pub prev_close: Price,
    /// Buy-initiated (`+`) or sell-initiated (`-`).
    pub aggressor: Side,
    /// Exchange time of the trade (KST).
    pub exchange_time: TimeOfDay,
    /// When the frame was read from the socket (monotonic), for tick-to-intent latency.
    pub received_at: Instant,
    /// Per broker session, from 1, one per trade frame: a gap means a lost frame.
    pub seq: u64,
}

impl Tick {
    /// Change from the previous close in basis points (truncated toward zero). In `i128`
    /// and saturated: the wire bounds prices, but a `Tick` built elsewhere must still
    /// never panic a strategy or hand it a wrapped (sign-flipped) signal.
    pub fn change_bp(&self) -> i64 {
        crate::market::change_bp(self.price, self.prev_close)
    }
}

/// A client-side order id, unique for the life of the engine's journal.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ClientOrderId(pub u64);

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "C{}", self.0)
    }
}

/// A broker's order number: what LS (`OrdNo`) and Kiwoom (`ord_no`) call an order once
/// they have it. A newtype, so a number of ours ([`ClientOrderId`]), a quantity or an
/// execution number cannot be passed for it by mistake. The field is public, as
/// [`Price`]'s and [`Qty`]'s are: any number the wire carries is kept as it is, and tests
/// match on it in patterns.
///
/// Brokers number from 1, so [`OrderNo::NONE`] (0) is the number of an order that never
/// got one: an SC4 refusal before the broker numbered it, or the `org_order_no` of a new
/// order (not a modify or cancel). Kept as 0 rather than `Option` because the wire, the
/// journal and the tape all carry it as a plain integer, and `serde(transparent)` keeps
/// those formats byte-identical. A negative number is the engine's own mark for one the
/// broker never told (reconciliation's cancel of a remainder, `-original`).
///
/// Displays as the bare number: logs and alerts put their own `#` before it.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(transparent)]
pub struct OrderNo(pub i64);

impl OrderNo {
    /// No number: the broker never gave one (see the type's doc).
    pub const NONE: OrderNo = OrderNo(0);

    /// Not a number the broker gave: [`OrderNo::NONE`], or a negative one (a garbled
    /// field, or the engine's own mark).
    pub const fn is_none(self) -> bool {
        self.0 <= 0
    }

    pub const fn is_some(self) -> bool {
        !self.is_none()
    }
}

impl fmt::Display for OrderNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A broker's execution number (LS SC1 `execno`, Kiwoom `909`): one fill of one order, so
/// a fill delivered twice (a replay after a reconnect) is recognised. Its own type, so it
/// cannot be swapped with the [`OrderNo`] it travels beside. A negative one is the
/// engine's own, for a fill reconciliation learned from the broker's order list (which
/// has no execution number). Bare on disk and in logs, like [`OrderNo`].
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ExecNo(pub i64);

impl fmt::Display for ExecNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// How an order is priced. Journaled as `"market"` or `{"limit": price}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    Market,
    Limit(Price),
}

/// A new order as the engine asks a broker for it, whichever broker: the adapter turns it
/// into its own request (LS's CSPAT00601, Kiwoom's kt10000/kt10001). A plain cash order on
/// KRX, for the day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrder {
    pub ticker: Ticker,
    pub side: Side,
    pub qty: Qty,
    pub order_type: OrderType,
}

/// What a strategy wants done; the OrderManager decides whether and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderIntent {
    pub ticker: Ticker,
    pub side: Side,
    pub qty: Qty,
    pub order_type: OrderType,
    /// Why, in a trader's words ("entry: momentum", "take-profit"), for logs and alerts.
    pub reason: &'static str,
    /// The tick that caused it (0 when not caused by a tick, e.g. a flatten at shutdown).
    pub tick_seq: u64,
    /// When the tick that caused it was read from the socket.
    pub tick_received_at: Option<Instant>,
}

/// One execution of one of our orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fill {
    pub ticker: Ticker,
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    /// Broker order number.
    pub order_no: OrderNo,
    pub time: TimeOfDay,
}

/// One of the conditions condor trades, by its place in the configuration (`condor.toml`'s
/// order; the one-condition case is [`ConditionId::FIRST`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ConditionId(pub u8);

impl ConditionId {
    pub const FIRST: ConditionId = ConditionId(0);
}

/// Condition `condition`'s screener says `ticker` matches now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConditionEnter {
    pub ticker: Ticker,
    pub condition: ConditionId,
}

/// Condition `condition`'s screener says `ticker` no longer matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConditionExit {
    pub ticker: Ticker,
    pub condition: ConditionId,
}

/// An SC0–SC4 account event, decoded: what the broker says happened to one of our orders.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AccountEvent {
    /// SC0: the broker accepted a new order (or a modify/cancel request, `org_order_no` set).
    Accepted {
        order_no: OrderNo,
        org_order_no: OrderNo,
        ticker: Ticker,
        side: Side,
        qty: Qty,
        price: Price,
    },
    /// SC1: one execution. `exec_no` identifies it, so a replay after a reconnect is
    /// recognised; `remaining` is the order's unfilled quantity after it.
    Filled {
        order_no: OrderNo,
        exec_no: ExecNo,
        ticker: Ticker,
        side: Side,
        qty: Qty,
        price: Price,
        remaining: Qty,
        time: TimeOfDay,
    },
    /// SC2: `org_order_no`'s remainder (or part) now works as `order_no` at `price`.
    Modified {
        order_no: OrderNo,
        org_order_no: OrderNo,
        qty: Qty,
        price: Price,
    },
    /// SC3: `qty` of `org_order_no` was cancelled; `order_no` is the cancel's own number.
    Cancelled {
        order_no: OrderNo,
        org_order_no: OrderNo,
        qty: Qty,
    },
    /// SC4: the broker refused an order (`order_no` is [`OrderNo::NONE`] when it never got one).
    Rejected {
        order_no: OrderNo,
        org_order_no: OrderNo,
        code: String,
        qty: Qty,
    },
}

/// One of our orders reached a final state, or an intent was refused before it became an
/// order (OrderManager → Processor, which runs the strategy's `on_order_done`). Sent after
/// every `Fill` of the order, from the same actor, so mailbox order keeps the strategy's
/// contract (fills before done).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderDone {
    /// `None` when the risk gate refused the intent: it never became an order.
    pub id: Option<ClientOrderId>,
    pub ticker: Ticker,
    pub side: Side,
    /// Shares filled in total.
    pub filled: Qty,
    /// Refused (by the risk gate, the broker, or locally after a failed send).
    pub rejected: bool,
}

/// The broker's cash, to be taken if ours is still `expected` (the broker is the truth): a
/// fill booked since the two were compared makes the correction stale, and it is skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CashCorrection {
    pub expected: i64,
    pub broker: i64,
}

/// One feed's identity for the life of the process: a ticker that leaves and comes back
/// gets a new feed, and the broker session must tell the two apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeedId(pub u64);

impl FeedId {
    /// A process-wide fresh id.
    pub fn next() -> FeedId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        FeedId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(price: i64, prev_close: i64) -> Tick {
        Tick {
            ticker: Ticker::parse("005930").unwrap(),
            price: Price::lit(price),
            qty: Qty::lit(1),
            cum_volume: 1,
            prev_close: Price::lit(prev_close),
            aggressor: Side::Buy,
            exchange_time: TimeOfDay::hms(9, 0, 0),
            received_at: Instant::now(),
            seq: 1,
        }
    }

    /// Found by the fuzz harness's core target: a decoded price far above its previous
    /// close overflowed the multiplication. A `Price` holds at most `MAX_PRICE` now.
    #[test]
    fn change_bp_holds_any_price() {
        assert_eq!(tick(56_100, 55_000).change_bp(), 200);
        assert_eq!(tick(53_901, 55_000).change_bp(), -199);
        assert_eq!(tick(99_999_000, 1).change_bp(), 999_989_990_000);
        assert_eq!(tick(99_999_000, 49_999_500).change_bp(), 10_000);
        assert_eq!(tick(1, 99_999_000).change_bp(), -9_999);
        assert_eq!(tick(1, 0).change_bp(), 0);
    }

    /// Journals and recorded tapes written before the newtype carry the bare number: they
    /// must still read, and new ones must stay the same.
    #[test]
    fn order_and_exec_numbers_are_bare_on_disk_and_in_logs() {
        let n = OrderNo(12_345);
        assert_eq!(serde_json::to_string(&n).unwrap(), "12345");
        assert_eq!(serde_json::from_str::<OrderNo>("12345").unwrap(), n);
        assert_eq!(format!("#{n}"), "#12345");
        assert_eq!(serde_json::to_string(&ExecNo(-7)).unwrap(), "-7");
        assert_eq!(format!("exec #{}", ExecNo(7)), "exec #7");
    }

    #[test]
    fn order_no_none_is_any_number_a_broker_never_gives() {
        assert!(OrderNo::NONE.is_none());
        assert_eq!(OrderNo::default(), OrderNo::NONE);
        assert!(OrderNo(-3).is_none());
        assert!(OrderNo(1).is_some());
    }
}
