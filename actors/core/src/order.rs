//! The life of one of our orders, and the book of our working orders.
//!
//! Owns the order state machine (new → sent → accepted → partially filled → filled |
//! cancelled | rejected), the order's fill arithmetic (filled quantity and value, so the
//! average fill price is exact), its latency (intent → ack → fill), duplicate detection for
//! broker events, and [`OrderBook`]: client order id allocation, the broker order number
//! index, and what is still working per ticker.
//!
//! Pure logic, no actix, no I/O and no clock of its own: every event takes `now` from the
//! caller's `Clock`, so a replay gives the same states and latencies. Must never panic and
//! never half-apply an event: an impossible event returns an [`OrderError`] naming the
//! order, its state and the event, and leaves the order exactly as it was.
//!
//! Not an exchange book: there is no matching here, only our own orders.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use crate::domain::{ClientOrderId, ExecNo, OrderIntent, OrderNo, OrderType};
use crate::market::{notional, Price, Qty, Side, Ticker};

/// Where an order stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// The intent passed the risk gate; nothing has been sent to the broker yet.
    New,
    /// The REST order request is in flight; the broker has not given an order number yet.
    Sent,
    /// The broker gave an order number (REST reply or SC0); nothing filled yet.
    Accepted,
    /// Some shares filled, the rest still working.
    PartiallyFilled,
    /// Every share filled.
    Filled,
    /// Nothing left working and not every share filled: the remainder was cancelled (SC3).
    Cancelled,
    /// The broker refused the order (REST business error or SC4); nothing more will fill.
    Rejected,
}

impl OrderState {
    /// True when no further fill can come: filled, cancelled or rejected.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            OrderState::Filled | OrderState::Cancelled | OrderState::Rejected
        )
    }

    /// The trader's word for the state, for logs and the status page.
    pub fn name(self) -> &'static str {
        match self {
            OrderState::New => "new",
            OrderState::Sent => "sent",
            OrderState::Accepted => "accepted",
            OrderState::PartiallyFilled => "partially filled",
            OrderState::Filled => "filled",
            OrderState::Cancelled => "cancelled",
            OrderState::Rejected => "rejected",
        }
    }
}

impl fmt::Display for OrderState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which event was applied to an order; named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderEventKind {
    /// We sent the REST request.
    Sent,
    /// The REST reply carried an order number.
    Acked,
    /// SC0: the broker accepted the order.
    Accepted,
    /// SC1: an execution.
    Filled,
    /// SC3: (part of) the remainder was cancelled.
    Cancelled,
    /// REST business error or SC4.
    Rejected,
}

impl fmt::Display for OrderEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OrderEventKind::Sent => "send",
            OrderEventKind::Acked => "REST ack",
            OrderEventKind::Accepted => "SC0 accepted",
            OrderEventKind::Filled => "SC1 fill",
            OrderEventKind::Cancelled => "SC3 cancel",
            OrderEventKind::Rejected => "reject",
        })
    }
}

/// Names an order in an error: id, ticker, side and the state it was in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrderRef {
    pub id: ClientOrderId,
    pub ticker: Ticker,
    pub side: Side,
    pub state: OrderState,
}

impl fmt::Display for OrderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        write!(
            f,
            "order {} {side} {} ({})",
            self.id, self.ticker, self.state
        )
    }
}

/// An event that cannot apply to the order as it stands. The order is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("{order}: {event} is impossible in this state")]
    NotAllowed {
        order: OrderRef,
        event: OrderEventKind,
    },
    #[error("{order}: {event} is for order number {got}, this order is number {ours}")]
    OrderNoMismatch {
        order: OrderRef,
        event: OrderEventKind,
        ours: OrderNo,
        got: OrderNo,
    },
    #[error("{order}: {event} of {qty} shares exceeds the remaining {remaining}")]
    ExceedsRemaining {
        order: OrderRef,
        event: OrderEventKind,
        qty: Qty,
        remaining: Qty,
    },
    #[error("{order}: {event} with zero quantity")]
    ZeroQty {
        order: OrderRef,
        event: OrderEventKind,
    },
    #[error("{order}: {event} at non-positive price {price}")]
    NonPositivePrice {
        order: OrderRef,
        event: OrderEventKind,
        price: Price,
    },
    #[error("{order}: {event} overflows the filled value")]
    Overflow {
        order: OrderRef,
        event: OrderEventKind,
    },
}

/// What an accepted event did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The event was applied. `from == to` when it changed quantities but not the state
    /// (a second partial fill, a partial cancel).
    Applied { from: OrderState, to: OrderState },
    /// The order already knew this (the same exec number again after a reconnect, SC0 after
    /// the REST ack, a late REST ack after the fill): nothing changed; do not forward it.
    Duplicate,
}

impl Transition {
    /// True when the event changed the order (so it should be journaled and forwarded).
    pub fn is_applied(self) -> bool {
        matches!(self, Transition::Applied { .. })
    }
}

/// The broker's refusal, as it gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    pub code: String,
    pub message: String,
}

/// One of our orders. Fields are private so that only the transitions below change them;
/// read them through the accessors.
#[derive(Clone, Debug)]
pub struct Order {
    id: ClientOrderId,
    ticker: Ticker,
    side: Side,
    qty: Qty,
    order_type: OrderType,
    reason: &'static str,
    tick_seq: u64,
    order_no: Option<OrderNo>,
    filled_qty: Qty,
    /// Σ price × qty over fills, in won: the average fill price is this over `filled_qty`.
    filled_value: i64,
    cancelled_qty: Qty,
    reject: Option<Reject>,
    state: OrderState,
    /// Exec numbers (SC1 `execno`) already applied, to drop a fill delivered twice.
    exec_nos: HashSet<ExecNo>,
    /// Cancel order numbers (SC3 `ordno`) already applied, to drop a cancel delivered twice.
    cancel_nos: HashSet<OrderNo>,
    tick_received_at: Option<Instant>,
    intent_at: Instant,
    sent_at: Option<Instant>,
    ack_at: Option<Instant>,
    first_fill_at: Option<Instant>,
    last_fill_at: Option<Instant>,
    closed_at: Option<Instant>,
}

impl Order {
    /// A new order for an intent that passed the risk gate at `now`.
    pub fn new(id: ClientOrderId, intent: &OrderIntent, now: Instant) -> Order {
        Order {
            id,
            ticker: intent.ticker,
            side: intent.side,
            qty: intent.qty,
            order_type: intent.order_type,
            reason: intent.reason,
            tick_seq: intent.tick_seq,
            order_no: None,
            filled_qty: Qty::lit(0),
            filled_value: 0,
            cancelled_qty: Qty::lit(0),
            reject: None,
            state: OrderState::New,
            exec_nos: HashSet::new(),
            cancel_nos: HashSet::new(),
            tick_received_at: intent.tick_received_at,
            intent_at: now,
            sent_at: None,
            ack_at: None,
            first_fill_at: None,
            last_fill_at: None,
            closed_at: None,
        }
    }

    pub fn id(&self) -> ClientOrderId {
        self.id
    }
    pub fn ticker(&self) -> Ticker {
        self.ticker
    }
    pub fn side(&self) -> Side {
        self.side
    }
    /// Shares ordered.
    pub fn qty(&self) -> Qty {
        self.qty
    }
    pub fn order_type(&self) -> OrderType {
        self.order_type
    }
    pub fn reason(&self) -> &'static str {
        self.reason
    }
    /// The tick that caused the intent (0 when none).
    pub fn tick_seq(&self) -> u64 {
        self.tick_seq
    }
    /// The broker's order number, once known.
    pub fn order_no(&self) -> Option<OrderNo> {
        self.order_no
    }
    pub fn state(&self) -> OrderState {
        self.state
    }
    pub fn filled_qty(&self) -> Qty {
        self.filled_qty
    }
    /// Σ price × qty over fills, in won.
    pub fn filled_value(&self) -> i64 {
        self.filled_value
    }
    pub fn cancelled_qty(&self) -> Qty {
        self.cancelled_qty
    }
    pub fn reject(&self) -> Option<&Reject> {
        self.reject.as_ref()
    }
    pub fn intent_at(&self) -> Instant {
        self.intent_at
    }
    pub fn sent_at(&self) -> Option<Instant> {
        self.sent_at
    }
    pub fn ack_at(&self) -> Option<Instant> {
        self.ack_at
    }
    pub fn first_fill_at(&self) -> Option<Instant> {
        self.first_fill_at
    }
    pub fn last_fill_at(&self) -> Option<Instant> {
        self.last_fill_at
    }
    /// When the order became final.
    pub fn closed_at(&self) -> Option<Instant> {
        self.closed_at
    }
    pub fn tick_received_at(&self) -> Option<Instant> {
        self.tick_received_at
    }

    /// Shares still working: ordered − filled − cancelled (0 once final).
    pub fn remaining(&self) -> Qty {
        if self.state.is_final() {
            return Qty::lit(0);
        }
        self.qty
            .saturating_sub(self.filled_qty)
            .saturating_sub(self.cancelled_qty)
    }

    /// Average fill price in won, truncated; `None` before the first fill.
    pub fn avg_fill_price(&self) -> Option<Price> {
        let filled = i64::try_from(self.filled_qty.shares()).ok()?;
        if filled == 0 {
            return None;
        }
        Price::new_or_zero(self.filled_value / filled).ok()
    }

    /// Names this order in errors and log lines.
    pub fn order_ref(&self) -> OrderRef {
        OrderRef {
            id: self.id,
            ticker: self.ticker,
            side: self.side,
            state: self.state,
        }
    }

    // ---- latency ----

    /// Intent → the broker's first sign of acceptance (REST ack, SC0, or a fill that beat both).
    pub fn intent_to_ack(&self) -> Option<Duration> {
        self.ack_at?.checked_duration_since(self.intent_at)
    }

    /// Acceptance → first fill (zero when the fill was the first news of the order).
    pub fn ack_to_first_fill(&self) -> Option<Duration> {
        self.first_fill_at?.checked_duration_since(self.ack_at?)
    }

    /// Intent → first fill.
    pub fn intent_to_fill(&self) -> Option<Duration> {
        self.first_fill_at?.checked_duration_since(self.intent_at)
    }

    /// The originating tick read from the socket → intent: the strategy's reaction time.
    pub fn tick_to_intent(&self) -> Option<Duration> {
        self.intent_at
            .checked_duration_since(self.tick_received_at?)
    }

    // ---- transitions ----

    fn not_allowed(&self, event: OrderEventKind) -> OrderError {
        OrderError::NotAllowed {
            order: self.order_ref(),
            event,
        }
    }

    /// Refuses an event carrying a different order number than the one we hold.
    fn check_order_no(&self, event: OrderEventKind, got: OrderNo) -> Result<(), OrderError> {
        match self.order_no {
            Some(ours) if ours != got => Err(OrderError::OrderNoMismatch {
                order: self.order_ref(),
                event,
                ours,
                got,
            }),
            _ => Ok(()),
        }
    }

    /// Moves to `to`, stamping `closed_at` when `to` is final.
    fn move_to(&mut self, to: OrderState, now: Instant) -> Transition {
        let from = self.state;
        self.state = to;
        if to.is_final() && self.closed_at.is_none() {
            self.closed_at = Some(now);
        }
        Transition::Applied { from, to }
    }

    /// The state once quantities changed: nothing left ⇒ Filled if every share filled,
    /// else Cancelled; something left ⇒ PartiallyFilled after any fill, else Accepted.
    fn settled_state(&self) -> OrderState {
        let left = self
            .qty
            .shares()
            .saturating_sub(self.filled_qty.shares())
            .saturating_sub(self.cancelled_qty.shares());
        if left == 0 {
            if self.filled_qty >= self.qty {
                OrderState::Filled
            } else {
                OrderState::Cancelled
            }
        } else if self.filled_qty.shares() > 0 {
            OrderState::PartiallyFilled
        } else {
            OrderState::Accepted
        }
    }

    /// We are about to send the REST request. Only a New order may be sent, and only once:
    /// sending twice is how an order gets doubled.
    pub fn sent(&mut self, now: Instant) -> Result<Transition, OrderError> {
        if self.state != OrderState::New {
            return Err(self.not_allowed(OrderEventKind::Sent));
        }
        self.sent_at = Some(now);
        Ok(self.move_to(OrderState::Sent, now))
    }

    /// The REST reply gave the broker's order number.
    ///
    /// Idempotent with [`Order::accepted_event`]: whichever arrives second is a
    /// [`Transition::Duplicate`]. A late ack for an order that already filled or was
    /// cancelled (the websocket beat the REST reply) is a duplicate too, if the number
    /// matches; for a rejected or never-sent order it is an error.
    pub fn acked(&mut self, order_no: OrderNo, now: Instant) -> Result<Transition, OrderError> {
        self.ack(OrderEventKind::Acked, order_no, now)
    }

    /// SC0: the broker accepted the order. Idempotent with [`Order::acked`].
    ///
    /// Takes the SC0 `ordno` so the order learns its number even when SC0 beats the REST
    /// reply (the caller matched the event to this order by other means), and so a
    /// mismatching number is caught rather than silently adopted.
    pub fn accepted_event(
        &mut self,
        order_no: OrderNo,
        now: Instant,
    ) -> Result<Transition, OrderError> {
        self.ack(OrderEventKind::Accepted, order_no, now)
    }

    fn ack(
        &mut self,
        event: OrderEventKind,
        order_no: OrderNo,
        now: Instant,
    ) -> Result<Transition, OrderError> {
        match self.state {
            OrderState::New | OrderState::Rejected => Err(self.not_allowed(event)),
            OrderState::Sent => {
                self.check_order_no(event, order_no)?;
                self.order_no = Some(order_no);
                self.ack_at = Some(now);
                Ok(self.move_to(OrderState::Accepted, now))
            }
            OrderState::Accepted
            | OrderState::PartiallyFilled
            | OrderState::Filled
            | OrderState::Cancelled => {
                self.check_order_no(event, order_no)?;
                // A cancel can reach a Sent order before any ack; the ack then only fills in
                // what we did not know, which is not news worth forwarding.
                self.order_no.get_or_insert(order_no);
                self.ack_at.get_or_insert(now);
                Ok(Transition::Duplicate)
            }
        }
    }

    /// The broker refused the order: a REST business error (`rsp_cd`/`rsp_msg`) or SC4.
    ///
    /// Allowed from New (a local refusal before sending, e.g. the rate limiter), Sent,
    /// Accepted, and PartiallyFilled (the remainder is dead; the fills stay counted). A
    /// second reject (REST error then SC4) is a duplicate.
    pub fn rejected(
        &mut self,
        code: &str,
        message: &str,
        now: Instant,
    ) -> Result<Transition, OrderError> {
        match self.state {
            OrderState::Rejected => Ok(Transition::Duplicate),
            OrderState::Filled | OrderState::Cancelled => {
                Err(self.not_allowed(OrderEventKind::Rejected))
            }
            OrderState::New
            | OrderState::Sent
            | OrderState::Accepted
            | OrderState::PartiallyFilled => {
                self.reject = Some(Reject {
                    code: code.to_owned(),
                    message: message.to_owned(),
                });
                Ok(self.move_to(OrderState::Rejected, now))
            }
        }
    }

    /// SC1: `qty` shares of order `order_no` executed at `price` (exec number `exec_no`).
    ///
    /// **Duplicates are detected here, by exec number** (SC1 `execno`): a fill whose exec
    /// number this order already applied returns [`Transition::Duplicate`] and changes
    /// nothing, so the caller may forward every SC1 it receives, including replays after a
    /// reconnect.
    ///
    /// A fill may beat SC0 and even the REST reply. It is accepted from Sent, Accepted or
    /// PartiallyFilled when the order number matches ours; if we do not know our number yet
    /// (Sent), the caller has matched the fill to this order and the order adopts the
    /// number (a later ack must agree). The fill also counts as the ack for latency: the
    /// broker can only fill an order it accepted.
    pub fn filled(
        &mut self,
        order_no: OrderNo,
        exec_no: ExecNo,
        qty: Qty,
        price: Price,
        now: Instant,
    ) -> Result<Transition, OrderError> {
        let event = OrderEventKind::Filled;
        self.check_order_no(event, order_no)?;
        if self.exec_nos.contains(&exec_no) {
            return Ok(Transition::Duplicate);
        }
        match self.state {
            OrderState::Sent | OrderState::Accepted | OrderState::PartiallyFilled => {}
            _ => return Err(self.not_allowed(event)),
        }
        if qty.shares() == 0 {
            return Err(OrderError::ZeroQty {
                order: self.order_ref(),
                event,
            });
        }
        if price.won() <= 0 {
            return Err(OrderError::NonPositivePrice {
                order: self.order_ref(),
                event,
                price,
            });
        }
        let remaining = self.remaining();
        if qty > remaining {
            return Err(OrderError::ExceedsRemaining {
                order: self.order_ref(),
                event,
                qty,
                remaining,
            });
        }
        let overflow = || OrderError::Overflow {
            order: self.order_ref(),
            event,
        };
        let value = self
            .filled_value
            .checked_add(notional(price, qty))
            .ok_or_else(overflow)?;
        let filled_qty = self.filled_qty.checked_add(qty).ok_or_else(overflow)?;
        // Every check passed: apply all of it.
        self.filled_value = value;
        self.filled_qty = filled_qty;
        self.exec_nos.insert(exec_no);
        self.order_no = Some(order_no);
        self.ack_at.get_or_insert(now);
        self.first_fill_at.get_or_insert(now);
        self.last_fill_at = Some(now);
        let to = self.settled_state();
        Ok(self.move_to(to, now))
    }

    /// SC3: `qty` shares of the remainder were cancelled by cancel order `cancel_no` (SC3
    /// `ordno`; the original order number is in `orgordno`, which the caller routed by).
    ///
    /// Duplicates are detected by `cancel_no`, like fills by exec number. Nothing left ⇒
    /// Cancelled (a fully filled order has no remainder to cancel, so that cancel is an
    /// error); something left ⇒ the state stays (Sent becomes Accepted: the broker holds it).
    pub fn cancelled(
        &mut self,
        cancel_no: OrderNo,
        qty: Qty,
        now: Instant,
    ) -> Result<Transition, OrderError> {
        let event = OrderEventKind::Cancelled;
        if self.cancel_nos.contains(&cancel_no) {
            return Ok(Transition::Duplicate);
        }
        match self.state {
            OrderState::Sent | OrderState::Accepted | OrderState::PartiallyFilled => {}
            _ => return Err(self.not_allowed(event)),
        }
        if qty.shares() == 0 {
            return Err(OrderError::ZeroQty {
                order: self.order_ref(),
                event,
            });
        }
        let remaining = self.remaining();
        if qty > remaining {
            return Err(OrderError::ExceedsRemaining {
                order: self.order_ref(),
                event,
                qty,
                remaining,
            });
        }
        // ≤ self.qty (checked above), so never None; refused like any overflow if it were.
        self.cancelled_qty = self
            .cancelled_qty
            .checked_add(qty)
            .ok_or(OrderError::Overflow {
                order: self.order_ref(),
                event,
            })?;
        self.cancel_nos.insert(cancel_no);
        // The broker cancels only what it holds: a cancel is news of acceptance too.
        self.ack_at.get_or_insert(now);
        let to = self.settled_state();
        Ok(self.move_to(to, now))
    }
}

/// Why the book refused an operation. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookError {
    #[error("unknown order {0}")]
    UnknownOrder(ClientOrderId),
    #[error("order number {order_no} belongs to order {held_by}, not {wanted_by}")]
    OrderNoTaken {
        order_no: OrderNo,
        held_by: ClientOrderId,
        wanted_by: ClientOrderId,
    },
    #[error("client order ids exhausted at {0}")]
    IdsExhausted(u64),
    #[error(transparent)]
    Order(#[from] OrderError),
}

/// The day's order counts for the summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BookSummary {
    /// Orders opened.
    pub orders: u64,
    /// Still working.
    pub working: u64,
    /// Fill events applied (duplicates not counted).
    pub fills: u64,
    /// Orders that ended filled.
    pub filled: u64,
    /// Orders that ended cancelled (possibly after partial fills).
    pub cancelled: u64,
    /// Orders that ended rejected.
    pub rejected: u64,
}

/// Our orders: the working ones, and the day's final ones kept for the summary and so that a
/// late duplicate event still finds its order (and is recognised as a duplicate) rather than
/// looking like a stranger's.
///
/// All events go through the book, by client id, so the order number index and the
/// working/finished split stay right. Route broker events by number with
/// [`OrderBook::id_by_order_no`] first.
#[derive(Clone, Debug)]
pub struct OrderBook {
    working: HashMap<ClientOrderId, Order>,
    finished: HashMap<ClientOrderId, Order>,
    by_order_no: HashMap<OrderNo, ClientOrderId>,
    next_client_id: u64,
    opened: u64,
    fills: u64,
}

impl Default for OrderBook {
    fn default() -> Self {
        OrderBook::starting_at(1)
    }
}

impl OrderBook {
    /// An empty book whose first client id is `first_id`. After a restart, seed it past the
    /// highest id in the journal so ids stay unique for the journal's life.
    pub fn starting_at(first_id: u64) -> OrderBook {
        OrderBook {
            working: HashMap::new(),
            finished: HashMap::new(),
            by_order_no: HashMap::new(),
            next_client_id: first_id,
            opened: 0,
            fills: 0,
        }
    }

    /// The id the next order will get.
    pub fn next_client_id(&self) -> ClientOrderId {
        ClientOrderId(self.next_client_id)
    }

    /// Makes sure the next id is at least `at_least`; never moves ids backwards.
    pub fn reserve_ids_below(&mut self, at_least: u64) {
        self.next_client_id = self.next_client_id.max(at_least);
    }

    /// Opens a New order for an intent that passed the risk gate, allocating its client id.
    pub fn open(&mut self, intent: &OrderIntent, now: Instant) -> Result<ClientOrderId, BookError> {
        let id = ClientOrderId(self.next_client_id);
        // Checked: an id must never be reused, so running out is an error, not a wrap.
        self.next_client_id = self
            .next_client_id
            .checked_add(1)
            .ok_or(BookError::IdsExhausted(self.next_client_id))?;
        self.working.insert(id, Order::new(id, intent, now));
        self.opened += 1;
        Ok(id)
    }

    pub fn get(&self, id: ClientOrderId) -> Option<&Order> {
        self.working.get(&id).or_else(|| self.finished.get(&id))
    }

    /// The client id of the order with broker order number `order_no`, working or final.
    pub fn id_by_order_no(&self, order_no: OrderNo) -> Option<ClientOrderId> {
        self.by_order_no.get(&order_no).copied()
    }

    /// The order with broker order number `order_no`, working or final.
    pub fn by_order_no(&self, order_no: OrderNo) -> Option<&Order> {
        self.get(self.id_by_order_no(order_no)?)
    }

    /// Orders not yet final (New ones included: they are about to go out).
    pub fn working(&self) -> impl Iterator<Item = &Order> {
        self.working.values()
    }

    /// The day's final orders.
    pub fn finished(&self) -> impl Iterator<Item = &Order> {
        self.finished.values()
    }

    /// True when any order for `ticker` is not final (the feed must not stop).
    pub fn has_working(&self, ticker: Ticker) -> bool {
        self.working.values().any(|o| o.ticker == ticker)
    }

    /// Shares still working for `ticker` on `side`, New orders included: they are committed.
    pub fn working_qty(&self, ticker: Ticker, side: Side) -> Qty {
        // Held at MAX_QTY: more than an order can carry is already more than any check allows.
        self.working
            .values()
            .filter(|o| o.ticker == ticker && o.side == side)
            .fold(Qty::ZERO, |sum, o| sum.saturating_add(o.remaining()))
    }

    pub fn summary(&self) -> BookSummary {
        let mut s = BookSummary {
            orders: self.opened,
            working: self.working.len() as u64,
            fills: self.fills,
            ..BookSummary::default()
        };
        for o in self.finished.values() {
            match o.state {
                OrderState::Filled => s.filled += 1,
                OrderState::Cancelled => s.cancelled += 1,
                OrderState::Rejected => s.rejected += 1,
                _ => {}
            }
        }
        s
    }

    /// Applies one event to order `id`. `order_no` is the number the event carries, if it
    /// names this order by number: it is checked against the index before anything changes.
    fn apply(
        &mut self,
        id: ClientOrderId,
        order_no: Option<OrderNo>,
        event: impl FnOnce(&mut Order) -> Result<Transition, OrderError>,
    ) -> Result<Transition, BookError> {
        if let Some(n) = order_no {
            if let Some(&held_by) = self.by_order_no.get(&n) {
                if held_by != id {
                    return Err(BookError::OrderNoTaken {
                        order_no: n,
                        held_by,
                        wanted_by: id,
                    });
                }
            }
        }
        let was_working = self.working.contains_key(&id);
        let order = match self.working.get_mut(&id) {
            Some(o) => o,
            None => self
                .finished
                .get_mut(&id)
                .ok_or(BookError::UnknownOrder(id))?,
        };
        let transition = event(order)?;
        let (number, now_final) = (order.order_no, order.state.is_final());
        if let Some(n) = number {
            self.by_order_no.insert(n, id);
        }
        // Final orders leave the working set; they stay findable for late duplicates.
        if was_working && now_final {
            if let Some(o) = self.working.remove(&id) {
                self.finished.insert(id, o);
            }
        }
        Ok(transition)
    }

    /// See [`Order::sent`].
    pub fn sent(&mut self, id: ClientOrderId, now: Instant) -> Result<Transition, BookError> {
        self.apply(id, None, |o| o.sent(now))
    }

    /// See [`Order::acked`].
    pub fn acked(
        &mut self,
        id: ClientOrderId,
        order_no: OrderNo,
        now: Instant,
    ) -> Result<Transition, BookError> {
        self.apply(id, Some(order_no), |o| o.acked(order_no, now))
    }

    /// See [`Order::accepted_event`].
    pub fn accepted_event(
        &mut self,
        id: ClientOrderId,
        order_no: OrderNo,
        now: Instant,
    ) -> Result<Transition, BookError> {
        self.apply(id, Some(order_no), |o| o.accepted_event(order_no, now))
    }

    /// See [`Order::rejected`].
    pub fn rejected(
        &mut self,
        id: ClientOrderId,
        code: &str,
        message: &str,
        now: Instant,
    ) -> Result<Transition, BookError> {
        self.apply(id, None, |o| o.rejected(code, message, now))
    }

    /// See [`Order::filled`]; duplicates (same exec number) are detected and not counted.
    pub fn filled(
        &mut self,
        id: ClientOrderId,
        order_no: OrderNo,
        exec_no: ExecNo,
        qty: Qty,
        price: Price,
        now: Instant,
    ) -> Result<Transition, BookError> {
        let t = self.apply(id, Some(order_no), |o| {
            o.filled(order_no, exec_no, qty, price, now)
        })?;
        if t.is_applied() {
            self.fills += 1;
        }
        Ok(t)
    }

    /// See [`Order::cancelled`].
    pub fn cancelled(
        &mut self,
        id: ClientOrderId,
        cancel_no: OrderNo,
        qty: Qty,
        now: Instant,
    ) -> Result<Transition, BookError> {
        self.apply(id, None, |o| o.cancelled(cancel_no, qty, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Instant {
        Instant::now()
    }

    fn ms(base: Instant, n: u64) -> Instant {
        base + Duration::from_millis(n)
    }

    fn tk(s: &str) -> Ticker {
        Ticker::parse(s).unwrap()
    }

    fn intent(side: Side, qty: u64) -> OrderIntent {
        OrderIntent {
            ticker: tk("005930"),
            side,
            qty: Qty::lit(qty),
            order_type: OrderType::Limit(Price::lit(60_000)),
            reason: "entry: test",
            tick_seq: 7,
            tick_received_at: None,
        }
    }

    fn order(qty: u64, at: Instant) -> Order {
        Order::new(ClientOrderId(1), &intent(Side::Buy, qty), at)
    }

    /// An order already sent and acked as number 100.
    fn accepted(qty: u64, at: Instant) -> Order {
        let mut o = order(qty, at);
        o.sent(at).unwrap();
        o.acked(OrderNo(100), at).unwrap();
        o
    }

    fn applied(from: OrderState, to: OrderState) -> Result<Transition, OrderError> {
        Ok(Transition::Applied { from, to })
    }

    #[test]
    fn happy_path_with_latency() {
        let t = t0();
        let mut o = order(10, t);
        assert_eq!(o.state(), OrderState::New);
        assert_eq!(o.sent(ms(t, 1)), applied(OrderState::New, OrderState::Sent));
        assert_eq!(
            o.acked(OrderNo(100), ms(t, 5)),
            applied(OrderState::Sent, OrderState::Accepted)
        );
        assert_eq!(
            o.accepted_event(OrderNo(100), ms(t, 6)),
            Ok(Transition::Duplicate)
        );
        assert_eq!(
            o.filled(
                OrderNo(100),
                ExecNo(1),
                Qty::lit(4),
                Price::lit(60_000),
                ms(t, 20)
            ),
            applied(OrderState::Accepted, OrderState::PartiallyFilled)
        );
        assert_eq!(
            o.filled(
                OrderNo(100),
                ExecNo(2),
                Qty::lit(6),
                Price::lit(60_100),
                ms(t, 30)
            ),
            applied(OrderState::PartiallyFilled, OrderState::Filled)
        );
        assert!(o.state().is_final());
        assert_eq!(o.filled_qty(), Qty::lit(10));
        assert_eq!(o.filled_value(), 4 * 60_000 + 6 * 60_100);
        assert_eq!(o.avg_fill_price(), Some(Price::lit(60_060)));
        assert_eq!(o.remaining(), Qty::lit(0));
        assert_eq!(o.intent_to_ack(), Some(Duration::from_millis(5)));
        assert_eq!(o.ack_to_first_fill(), Some(Duration::from_millis(15)));
        assert_eq!(o.intent_to_fill(), Some(Duration::from_millis(20)));
        assert_eq!(o.last_fill_at(), Some(ms(t, 30)));
        assert_eq!(o.closed_at(), Some(ms(t, 30)));
    }

    #[test]
    fn sc0_before_rest_reply_is_idempotent() {
        let t = t0();
        let mut o = order(10, t);
        o.sent(t).unwrap();
        assert_eq!(
            o.accepted_event(OrderNo(100), ms(t, 3)),
            applied(OrderState::Sent, OrderState::Accepted)
        );
        assert_eq!(o.acked(OrderNo(100), ms(t, 4)), Ok(Transition::Duplicate));
        assert_eq!(o.intent_to_ack(), Some(Duration::from_millis(3)));
        let before = format!("{o:?}");
        assert!(matches!(
            o.acked(OrderNo(101), ms(t, 5)),
            Err(OrderError::OrderNoMismatch {
                ours: OrderNo(100),
                got: OrderNo(101),
                ..
            })
        ));
        assert_eq!(format!("{o:?}"), before, "a refused event changes nothing");
    }

    #[test]
    fn fill_before_any_ack_moves_straight_to_filled() {
        let t = t0();
        let mut o = order(5, t);
        o.sent(ms(t, 1)).unwrap();
        assert_eq!(
            o.filled(
                OrderNo(100),
                ExecNo(9),
                Qty::lit(5),
                Price::lit(60_000),
                ms(t, 8)
            ),
            applied(OrderState::Sent, OrderState::Filled)
        );
        assert_eq!(o.order_no(), Some(OrderNo(100)));
        // The late REST reply and SC0 are duplicates, not errors.
        assert_eq!(o.acked(OrderNo(100), ms(t, 9)), Ok(Transition::Duplicate));
        assert_eq!(
            o.accepted_event(OrderNo(100), ms(t, 10)),
            Ok(Transition::Duplicate)
        );
        // ... but not with someone else's number.
        assert!(o.acked(OrderNo(200), ms(t, 10)).is_err());
        // The fill counted as the ack.
        assert_eq!(o.intent_to_ack(), Some(Duration::from_millis(8)));
        assert_eq!(o.ack_to_first_fill(), Some(Duration::ZERO));
    }

    #[test]
    fn partial_fill_before_ack_then_ack() {
        let t = t0();
        let mut o = order(5, t);
        o.sent(t).unwrap();
        assert_eq!(
            o.filled(OrderNo(100), ExecNo(1), Qty::lit(2), Price::lit(60_000), t),
            applied(OrderState::Sent, OrderState::PartiallyFilled)
        );
        assert_eq!(o.acked(OrderNo(100), t), Ok(Transition::Duplicate));
        assert_eq!(o.state(), OrderState::PartiallyFilled);
        assert_eq!(o.remaining(), Qty::lit(3));
    }

    #[test]
    fn duplicate_fill_is_detected_by_exec_number() {
        let t = t0();
        let mut o = accepted(10, t);
        o.filled(OrderNo(100), ExecNo(1), Qty::lit(4), Price::lit(60_000), t)
            .unwrap();
        assert_eq!(
            o.filled(OrderNo(100), ExecNo(1), Qty::lit(4), Price::lit(60_000), t),
            Ok(Transition::Duplicate)
        );
        assert_eq!(o.filled_qty(), Qty::lit(4));
        o.filled(OrderNo(100), ExecNo(2), Qty::lit(6), Price::lit(60_000), t)
            .unwrap();
        // A replay of the final fill after the order is done is still just a duplicate.
        assert_eq!(
            o.filled(OrderNo(100), ExecNo(2), Qty::lit(6), Price::lit(60_000), t),
            Ok(Transition::Duplicate)
        );
        assert_eq!(o.state(), OrderState::Filled);
    }

    #[test]
    fn impossible_fills_are_errors_that_change_nothing() {
        let t = t0();
        let mut o = accepted(10, t);
        o.filled(OrderNo(100), ExecNo(1), Qty::lit(4), Price::lit(60_000), t)
            .unwrap();
        let before = format!("{o:?}");
        let e = o
            .filled(OrderNo(100), ExecNo(2), Qty::lit(7), Price::lit(60_000), t)
            .unwrap_err();
        assert!(matches!(
            e,
            OrderError::ExceedsRemaining {
                qty,
                remaining,
                ..
            } if (qty, remaining) == (Qty::lit(7), Qty::lit(6))
        ));
        let msg = e.to_string();
        assert!(
            msg.contains("C1") && msg.contains("005930") && msg.contains("partially filled"),
            "{msg}"
        );
        assert!(
            msg.contains("SC1 fill") && msg.contains('7') && msg.contains('6'),
            "{msg}"
        );
        assert!(matches!(
            o.filled(OrderNo(100), ExecNo(3), Qty::lit(0), Price::lit(60_000), t),
            Err(OrderError::ZeroQty { .. })
        ));
        assert!(matches!(
            o.filled(OrderNo(100), ExecNo(4), Qty::lit(1), Price::lit(0), t),
            Err(OrderError::NonPositivePrice { .. })
        ));
        assert!(matches!(
            o.filled(OrderNo(101), ExecNo(5), Qty::lit(1), Price::lit(60_000), t),
            Err(OrderError::OrderNoMismatch { .. })
        ));
        assert_eq!(format!("{o:?}"), before);
        // A refused fill did not burn its exec number: a correct retry still applies.
        assert!(o
            .filled(OrderNo(100), ExecNo(2), Qty::lit(6), Price::lit(60_000), t)
            .unwrap()
            .is_applied());
    }

    #[test]
    fn fill_on_new_or_final_orders_is_refused() {
        let t = t0();
        let mut o = order(10, t);
        assert!(matches!(
            o.filled(OrderNo(100), ExecNo(1), Qty::lit(1), Price::lit(60_000), t),
            Err(OrderError::NotAllowed {
                event: OrderEventKind::Filled,
                ..
            })
        ));
        let mut o = accepted(10, t);
        o.cancelled(OrderNo(900), Qty::lit(10), t).unwrap();
        let e = o
            .filled(OrderNo(100), ExecNo(1), Qty::lit(1), Price::lit(60_000), t)
            .unwrap_err();
        assert!(e.to_string().contains("cancelled"), "{e}");
        let mut o = accepted(10, t);
        o.rejected("01478", "sellable qty insufficient", t).unwrap();
        assert!(o
            .filled(OrderNo(100), ExecNo(1), Qty::lit(1), Price::lit(60_000), t)
            .is_err());
    }

    #[test]
    fn cancels_partial_full_and_after_fills() {
        let t = t0();
        let mut o = accepted(10, t);
        assert_eq!(
            o.cancelled(OrderNo(900), Qty::lit(3), t),
            applied(OrderState::Accepted, OrderState::Accepted)
        );
        assert_eq!(o.remaining(), Qty::lit(7));
        assert_eq!(
            o.cancelled(OrderNo(900), Qty::lit(3), t),
            Ok(Transition::Duplicate)
        );
        assert_eq!(o.remaining(), Qty::lit(7));
        assert!(matches!(
            o.cancelled(OrderNo(901), Qty::lit(8), t),
            Err(OrderError::ExceedsRemaining { .. })
        ));
        assert!(matches!(
            o.cancelled(OrderNo(901), Qty::lit(0), t),
            Err(OrderError::ZeroQty { .. })
        ));
        o.filled(OrderNo(100), ExecNo(1), Qty::lit(2), Price::lit(60_000), t)
            .unwrap();
        assert_eq!(
            o.cancelled(OrderNo(902), Qty::lit(5), t),
            applied(OrderState::PartiallyFilled, OrderState::Cancelled)
        );
        assert_eq!(o.filled_qty(), Qty::lit(2));
        assert_eq!(o.cancelled_qty(), Qty::lit(8));
        assert!(o.cancelled(OrderNo(903), Qty::lit(1), t).is_err());

        // Cancel some, fill the rest: nothing left and not all filled ⇒ Cancelled.
        let mut o = accepted(10, t);
        o.cancelled(OrderNo(900), Qty::lit(4), t).unwrap();
        assert_eq!(
            o.filled(OrderNo(100), ExecNo(1), Qty::lit(6), Price::lit(60_000), t),
            applied(OrderState::Accepted, OrderState::Cancelled)
        );
    }

    #[test]
    fn rejects() {
        let t = t0();
        let mut o = order(10, t);
        o.sent(t).unwrap();
        assert_eq!(
            o.rejected("03181", "주문가격이 하한가 미달입니다.", ms(t, 2)),
            applied(OrderState::Sent, OrderState::Rejected)
        );
        assert_eq!(o.reject().unwrap().code, "03181");
        assert_eq!(
            o.rejected("03181", "again (SC4)", t),
            Ok(Transition::Duplicate)
        );
        assert_eq!(o.reject().unwrap().message, "주문가격이 하한가 미달입니다.");
        assert!(
            o.acked(OrderNo(100), t).is_err(),
            "an ack for a rejected order"
        );
        assert!(o.cancelled(OrderNo(1), Qty::lit(1), t).is_err());
        assert_eq!(o.intent_to_ack(), None);

        // The remainder of a partially filled order can be rejected; its fills stay.
        let mut o = accepted(10, t);
        o.filled(OrderNo(100), ExecNo(1), Qty::lit(3), Price::lit(60_000), t)
            .unwrap();
        assert!(o.rejected("X", "remainder refused", t).is_ok());
        assert_eq!((o.filled_qty(), o.remaining()), (Qty::lit(3), Qty::lit(0)));

        let mut o = accepted(10, t);
        o.filled(OrderNo(100), ExecNo(1), Qty::lit(10), Price::lit(60_000), t)
            .unwrap();
        assert!(o.rejected("X", "too late", t).is_err());
    }

    #[test]
    fn send_only_once_and_acks_need_a_send() {
        let t = t0();
        let mut o = order(1, t);
        assert!(matches!(
            o.acked(OrderNo(1), t),
            Err(OrderError::NotAllowed {
                event: OrderEventKind::Acked,
                ..
            })
        ));
        assert!(o.accepted_event(OrderNo(1), t).is_err());
        assert!(o.cancelled(OrderNo(1), Qty::lit(1), t).is_err());
        o.sent(t).unwrap();
        let e = o.sent(t).unwrap_err();
        assert_eq!(
            e.to_string(),
            "order C1 buy 005930 (sent): send is impossible in this state"
        );
    }

    #[test]
    fn tick_to_intent_latency() {
        let t = t0();
        let mut i = intent(Side::Buy, 1);
        i.tick_received_at = Some(t);
        let o = Order::new(ClientOrderId(3), &i, ms(t, 2));
        assert_eq!(o.tick_to_intent(), Some(Duration::from_millis(2)));
        assert_eq!(o.tick_seq(), 7);
        assert_eq!(order(1, t).tick_to_intent(), None);
        assert_eq!(order(1, t).avg_fill_price(), None);
    }

    #[test]
    fn book_allocates_monotonic_seedable_ids() {
        let t = t0();
        let mut b = OrderBook::starting_at(500);
        assert_eq!(b.next_client_id(), ClientOrderId(500));
        let a = b.open(&intent(Side::Buy, 1), t).unwrap();
        let c = b.open(&intent(Side::Buy, 1), t).unwrap();
        assert_eq!((a, c), (ClientOrderId(500), ClientOrderId(501)));
        b.reserve_ids_below(10);
        assert_eq!(b.next_client_id(), ClientOrderId(502), "never backwards");
        b.reserve_ids_below(1_000);
        assert_eq!(
            b.open(&intent(Side::Buy, 1), t).unwrap(),
            ClientOrderId(1_000)
        );

        let mut b = OrderBook::starting_at(u64::MAX);
        assert_eq!(
            b.open(&intent(Side::Buy, 1), t),
            Err(BookError::IdsExhausted(u64::MAX))
        );
        assert_eq!(b.summary().orders, 0);
    }

    #[test]
    fn book_tracks_working_orders_and_order_numbers() {
        let t = t0();
        let mut b = OrderBook::default();
        let samsung = tk("005930");
        let hynix = tk("000660");
        let buy = b.open(&intent(Side::Buy, 10), t).unwrap();
        let sell = b.open(&intent(Side::Sell, 4), t).unwrap();
        assert!(b.has_working(samsung) && !b.has_working(hynix));
        assert_eq!(b.working_qty(samsung, Side::Buy), Qty::lit(10));
        assert_eq!(
            b.working_qty(samsung, Side::Sell),
            Qty::lit(4),
            "New orders count"
        );

        b.sent(buy, t).unwrap();
        b.acked(buy, OrderNo(100), t).unwrap();
        assert_eq!(b.id_by_order_no(OrderNo(100)), Some(buy));
        assert_eq!(b.by_order_no(OrderNo(100)).unwrap().id(), buy);
        assert_eq!(
            b.filled(
                buy,
                OrderNo(100),
                ExecNo(1),
                Qty::lit(3),
                Price::lit(60_000),
                t
            )
            .unwrap(),
            Transition::Applied {
                from: OrderState::Accepted,
                to: OrderState::PartiallyFilled
            }
        );
        assert_eq!(b.working_qty(samsung, Side::Buy), Qty::lit(7));

        // Another order may not claim number 100.
        b.sent(sell, t).unwrap();
        assert_eq!(
            b.acked(sell, OrderNo(100), t),
            Err(BookError::OrderNoTaken {
                order_no: OrderNo(100),
                held_by: buy,
                wanted_by: sell
            })
        );
        assert_eq!(b.get(sell).unwrap().state(), OrderState::Sent);

        b.filled(
            buy,
            OrderNo(100),
            ExecNo(2),
            Qty::lit(7),
            Price::lit(60_000),
            t,
        )
        .unwrap();
        // Duplicate after the order moved out of the working set: found, not counted.
        assert_eq!(
            b.filled(
                buy,
                OrderNo(100),
                ExecNo(2),
                Qty::lit(7),
                Price::lit(60_000),
                t
            ),
            Ok(Transition::Duplicate)
        );
        assert_eq!(b.working_qty(samsung, Side::Buy), Qty::lit(0));
        assert_eq!(b.finished().count(), 1);
        assert_eq!(
            b.by_order_no(OrderNo(100)).unwrap().state(),
            OrderState::Filled
        );

        b.rejected(sell, "01478", "매도가능수량 부족", t).unwrap();
        assert!(!b.has_working(samsung));
        assert_eq!(b.working().count(), 0);
        assert_eq!(
            b.summary(),
            BookSummary {
                orders: 2,
                working: 0,
                fills: 2,
                filled: 1,
                cancelled: 0,
                rejected: 1
            }
        );
        assert_eq!(
            b.sent(ClientOrderId(99), t),
            Err(BookError::UnknownOrder(ClientOrderId(99)))
        );
    }

    #[test]
    fn book_cancel_and_error_passthrough() {
        let t = t0();
        let mut b = OrderBook::default();
        let id = b.open(&intent(Side::Sell, 5), t).unwrap();
        b.sent(id, t).unwrap();
        b.accepted_event(id, OrderNo(7), t).unwrap();
        b.cancelled(id, OrderNo(8), Qty::lit(2), t).unwrap();
        assert_eq!(b.working_qty(tk("005930"), Side::Sell), Qty::lit(3));
        let e = b.cancelled(id, OrderNo(9), Qty::lit(4), t).unwrap_err();
        assert!(matches!(
            e,
            BookError::Order(OrderError::ExceedsRemaining { .. })
        ));
        b.cancelled(id, OrderNo(9), Qty::lit(3), t).unwrap();
        assert_eq!(b.summary().cancelled, 1);
        assert!(!b.has_working(tk("005930")));
    }
}
