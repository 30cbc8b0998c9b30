//! The engine's vocabulary: the plain data that flows between actors (ticks, condition
//! changes, order intents, order events, fills) and the actix messages that carry it.
//!
//! Owns no behaviour. Must never hold anything but data: pure logic (strategy, risk,
//! order state, the portfolio ledger) takes these types by reference and stays testable
//! without actix.

use std::fmt;
use std::time::Instant;

use actix::Message;

use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};

/// One trade of a watched ticker, as the engine received it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
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
    /// Change from the previous close in basis points (truncated toward zero).
    pub fn change_bp(&self) -> i64 {
        if self.prev_close.0 <= 0 {
            return 0;
        }
        (self.price.0 - self.prev_close.0) * 10_000 / self.prev_close.0
    }
}

/// A client-side order id, unique for the life of the engine's journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientOrderId(pub u64);

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "C{}", self.0)
    }
}

/// How an order is priced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderType {
    Market,
    Limit(Price),
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
    pub order_no: i64,
    pub time: TimeOfDay,
}
