//! OrderManager: turns the Processor's [`OrderIntent`]s into broker orders and follows each
//! one to its end.
//!
//! Owns the day's [`OrderBook`] (client ids, the order state machine, the order-number
//! index), a [`Ledger`] view of what our own fills bought and sold (for the naked-sell rule),
//! each ticker's price band (t1102, fetched once per ticker, lazily, for the first buy), the
//! account events still waiting for the REST reply that names their order, the order
//! counters and the latency histograms. A thin shell: the rules live in `risk.rs`, the state
//! machine in `order.rs`, the wire formats in `wire/`.
//!
//! The path of one intent: risk gate (`risk::check`) → a refusal is logged, counted and
//! reported back as a done-and-rejected order, never sent; a pass opens an `Order`, sends
//! CSPAT00601 from a spawned future (the actor never blocks on I/O), and the REST reply acks
//! or rejects it. SC0–SC4 from the account feed move it on; each new fill is forwarded to the
//! Portfolio and to the Processor, and a final state is reported to the Processor as
//! [`OrderDone`] (after the order's fills: same sender, same mailbox, so order is kept).
//!
//! Must never: send an intent the gate refused; send an order twice; panic in a handler
//! (every refused event is logged and counted, and leaves the order as it was); forward a
//! fill twice (duplicates are recognised by exec number in `order.rs`); book a fill for an
//! order number that is not ours (logged at warn and counted; reconciliation with the
//! broker is a later issue); hold a lock or share state: everything here is this actor's.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use hdrhistogram::Histogram;

use crate::clock::Clock;
use crate::ledger::Ledger;
use crate::ls_rest::{LsError, LsRest};
use crate::market::{DailyLimits, Price, Qty, Side, Ticker};
use crate::messages::{
    AccountEvent, CancelAllWorking, ClientOrderId, Fill, GetOrder, GetOrderStats, LatencyUs,
    OrderDone, OrderIntent, OrderStats, OrderType, WatchAccount,
};
use crate::order::{BookError, Order, OrderBook, OrderState, Transition};
use crate::risk::{self, RiskLimits};
use crate::wire::market_data::{T1102InBlock, T1102};
use crate::wire::order::{
    Cspat00601, Cspat00601InBlock1, Cspat00601Out, Cspat00801, Cspat00801InBlock1,
};
use crate::wire::rest::{Reply, Tr};

const LOG: &str = "condor::orders";

/// The reject code of an order whose REST call failed before the broker answered (a
/// transport error, a timeout, an undecodable reply). Gateway refusals keep their `IGW…`.
pub const LOCAL_SEND_FAILED: &str = "LOCAL";

/// How long an account event for an order number we do not know yet waits for the REST
/// reply that may name it. Longer than `LsRest`'s 10 s request timeout, so a slow reply
/// still finds its early SC0/SC1.
const PARK_TTL: Duration = Duration::from_secs(15);
/// How often parked events are checked for expiry.
const PARK_SWEEP: Duration = Duration::from_secs(1);
/// Latencies above an hour are recorded as an hour: no order path takes that long, and the
/// bound keeps the histogram small.
const MAX_LATENCY_US: u64 = 3_600_000_000;

/// A latency histogram in µs. Wraps `Option` so that a construction error (impossible with
/// the constant bounds, but a `Result` all the same) can never become a panic.
struct LatencyHist(Option<Histogram<u64>>);

impl LatencyHist {
    fn new() -> LatencyHist {
        LatencyHist(Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).ok())
    }

    fn record(&mut self, d: Duration) {
        if let Some(h) = &mut self.0 {
            let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
            // 0 µs is below the histogram's lowest bound; a sub-µs leg counts as 1 µs.
            h.saturating_record(us.max(1));
        }
    }

    fn summary(&self) -> LatencyUs {
        match &self.0 {
            Some(h) if !h.is_empty() => LatencyUs {
                count: h.len(),
                p50: h.value_at_quantile(0.5),
                p99: h.value_at_quantile(0.99),
                max: h.max(),
            },
            _ => LatencyUs::default(),
        }
    }
}

/// What the gate knows about a ticker's price.
#[derive(Clone, Copy, Debug, Default)]
struct Reference {
    /// The day's ±30% band (t1102), which bounds a market buy and checks a limit price.
    limits: Option<DailyLimits>,
    /// The last price seen (t1102 or one of our fills).
    last: Option<Price>,
}

/// Account events for an order number we do not know yet, in arrival order.
struct Parked {
    since: Instant,
    events: Vec<AccountEvent>,
}

/// See the module docs.
pub struct OrderManager {
    rest: LsRest,
    risk: RiskLimits,
    clock: Arc<dyn Clock>,
    book: OrderBook,
    /// What our own fills hold, for the naked-sell rule. Opening cash is irrelevant to the
    /// gate, so it starts at 0 (the ledger allows negative cash: it records, it does not
    /// judge). Positions held before the engine started are not here until the start-up
    /// reconciliation (a later issue) seeds them; until then such shares cannot be sold.
    ledger: Ledger,
    refs: HashMap<Ticker, Reference>,
    /// Buy intents waiting for their ticker's t1102 band, with when each arrived.
    awaiting_band: HashMap<Ticker, Vec<(OrderIntent, Instant)>>,
    /// Early events keyed by the order number they are for.
    parked: HashMap<i64, Parked>,
    account_feed: Option<Recipient<WatchAccount>>,
    portfolio: Option<Recipient<Fill>>,
    strategy_fills: Option<Recipient<Fill>>,
    strategy_done: Option<Recipient<OrderDone>>,
    refused_by_risk: u64,
    unknown_fills: u64,
    unknown_events: u64,
    bad_events: u64,
    early_events: u64,
    intent_to_ack: LatencyHist,
    ack_to_fill: LatencyHist,
}

impl OrderManager {
    /// An order manager that places orders through `rest` under `risk`, timing them by
    /// `clock`. Add the account feed, the Portfolio and the Processor with the `with_…`
    /// methods before starting it.
    ///
    /// The Processor needs this actor's address and this actor needs the Processor's, so
    /// wire the two through an unstarted context:
    ///
    /// ```text
    /// let om_ctx = actix::Context::<OrderManager>::new();
    /// let processor = Processor::new(factory, Some(om_ctx.address().recipient()), clock.clone()).start();
    /// let om = om_ctx.run(
    ///     OrderManager::new(rest, risk, clock)
    ///         .with_account_feed(session.recipient())
    ///         .with_portfolio(portfolio.recipient())
    ///         .with_strategy(processor.clone().recipient(), processor.recipient()),
    /// );
    /// ```
    pub fn new(rest: LsRest, risk: RiskLimits, clock: Arc<dyn Clock>) -> OrderManager {
        OrderManager {
            rest,
            risk,
            clock,
            book: OrderBook::default(),
            ledger: Ledger::new(0),
            refs: HashMap::new(),
            awaiting_band: HashMap::new(),
            parked: HashMap::new(),
            account_feed: None,
            portfolio: None,
            strategy_fills: None,
            strategy_done: None,
            refused_by_risk: 0,
            unknown_fills: 0,
            unknown_events: 0,
            bad_events: 0,
            early_events: 0,
            intent_to_ack: LatencyHist::new(),
            ack_to_fill: LatencyHist::new(),
        }
    }

    /// Registers for SC0–SC4 with `feed` (the BrokerSession) when the actor starts.
    pub fn with_account_feed(mut self, feed: Recipient<WatchAccount>) -> OrderManager {
        self.account_feed = Some(feed);
        self
    }

    /// Forwards every new fill of our orders to `portfolio`.
    pub fn with_portfolio(mut self, portfolio: Recipient<Fill>) -> OrderManager {
        self.portfolio = Some(portfolio);
        self
    }

    /// Forwards every new fill and every final order to the strategy side (the Processor).
    pub fn with_strategy(
        mut self,
        fills: Recipient<Fill>,
        done: Recipient<OrderDone>,
    ) -> OrderManager {
        self.strategy_fills = Some(fills);
        self.strategy_done = Some(done);
        self
    }

    /// Starts client order ids at `first_id` (after a restart: past the journal's highest).
    pub fn with_first_client_id(mut self, first_id: u64) -> OrderManager {
        self.book = OrderBook::starting_at(first_id);
        self
    }

    // ---- intents ----

    /// Runs the gate on `intent` (which arrived at `received`) and sends it if it passes.
    fn place(&mut self, intent: OrderIntent, received: Instant, ctx: &mut Context<Self>) {
        let ticker = intent.ticker;
        let reference = self.refs.get(&ticker).copied().unwrap_or_default();
        let view = risk::GateView {
            last_price: reference.last,
            band: reference.limits.as_ref(),
            ledger: &self.ledger,
            book: &self.book,
            orders_today: u32::try_from(self.book.summary().orders).unwrap_or(u32::MAX),
            kill_switch_on: false,
        };
        if let Err(refusal) = risk::check(&intent, &view, &self.risk) {
            self.refused_by_risk += 1;
            log::warn!(
                target: LOG,
                "{ticker} {} {} {} refused by the risk gate: {refusal} ({}; refusal #{})",
                side_word(intent.side),
                intent.qty,
                order_type_text(intent.order_type),
                intent.reason,
                self.refused_by_risk
            );
            self.tell_done(OrderDone {
                id: None,
                ticker,
                side: intent.side,
                filled: Qty(0),
                rejected: true,
            });
            return;
        }
        let id = match self.book.open(&intent, received) {
            Ok(id) => id,
            Err(e) => {
                log::error!(target: LOG, "{ticker} intent not placed: {e}");
                self.tell_done(OrderDone {
                    id: None,
                    ticker,
                    side: intent.side,
                    filled: Qty(0),
                    rejected: true,
                });
                return;
            }
        };
        let block = match intent.order_type {
            OrderType::Market => Cspat00601InBlock1::market(ticker, intent.side, intent.qty),
            OrderType::Limit(p) => Cspat00601InBlock1::limit(ticker, intent.side, intent.qty, p),
        };
        // A New order always accepts `sent`; an error here would be a bug in the book.
        if let Err(e) = self.book.sent(id, self.clock.now()) {
            log::error!(target: LOG, "{id} {ticker} not sent: {e}");
            return;
        }
        log::info!(
            target: LOG,
            "{id} {ticker} {} {} {} sent ({}, tick #{})",
            side_word(intent.side),
            intent.qty,
            order_type_text(intent.order_type),
            intent.reason,
            intent.tick_seq
        );
        let rest = self.rest.clone();
        ctx.spawn(
            async move { rest.call::<Cspat00601>(&block).await }
                .into_actor(self)
                .map(move |reply, act, _| act.on_order_reply(id, reply)),
        );
    }

    /// Fetches `ticker`'s band (t1102), then places the buys that waited for it.
    fn fetch_band(&mut self, ticker: Ticker, ctx: &mut Context<Self>) {
        let rest = self.rest.clone();
        ctx.spawn(
            async move { rest.call::<T1102>(&T1102InBlock::new(ticker)).await }
                .into_actor(self)
                .map(move |reply, act, ctx| {
                    match reply {
                        Ok(r) if T1102::succeeded(&r) => match r.blocks.out_block {
                            Some(b) if b.uplmtprice > 0 && b.dnlmtprice > 0 => {
                                let entry = act.refs.entry(ticker).or_default();
                                entry.limits = Some(b.limits());
                                if b.price > 0 {
                                    entry.last = Some(b.price());
                                }
                                log::debug!(target: LOG, "{ticker} band {}–{}, last {}", b.dnlmtprice, b.uplmtprice, b.price);
                            }
                            _ => log::warn!(target: LOG, "{ticker} t1102 carried no price band; the risk gate decides without it"),
                        },
                        Ok(r) => log::warn!(target: LOG, "{ticker} t1102 refused [{}] {}; the risk gate decides without a band", r.rsp_cd, r.rsp_msg),
                        Err(e) => log::warn!(target: LOG, "{ticker} cannot read the day's band (t1102): {e}; the risk gate decides without it"),
                    }
                    // Without a band the gate still runs: a limit is checked against the grid,
                    // a market buy against the last price or refused for want of one.
                    for (intent, received) in act.awaiting_band.remove(&ticker).unwrap_or_default() {
                        act.place(intent, received, ctx);
                    }
                }),
        );
    }

    /// The broker's answer to CSPAT00601 for order `id`.
    fn on_order_reply(&mut self, id: ClientOrderId, reply: Result<Reply<Cspat00601Out>, LsError>) {
        let now = self.clock.now();
        match reply {
            Ok(r) if Cspat00601::succeeded(&r) => match r.blocks.ord_no() {
                Some(order_no) => {
                    log::debug!(target: LOG, "{id} acked as #{order_no} [{}]", r.rsp_cd);
                    let result = self.book.acked(id, order_no, now);
                    self.after(id, "REST ack", result);
                    // SC0/SC1 that beat this reply were parked under this number.
                    self.unpark(order_no);
                }
                None => {
                    // The broker said yes without a number to follow the order by. It may be
                    // working; we cannot tell. Marked rejected locally, like a failed send (see
                    // below), until asking the broker is implemented.
                    log::error!(target: LOG, "{id} accepted [{}] {} but the reply has no order number; marked rejected locally", r.rsp_cd, r.rsp_msg);
                    let result = self.book.rejected(
                        id,
                        LOCAL_SEND_FAILED,
                        "accepted without an order number",
                        now,
                    );
                    self.after(id, "REST ack", result);
                }
            },
            Ok(r) => {
                log::warn!(target: LOG, "{id} {} rejected by the broker: [{}] {}", self.describe(id), r.rsp_cd, r.rsp_msg.trim());
                let result = self.book.rejected(id, &r.rsp_cd, r.rsp_msg.trim(), now);
                self.after(id, "REST reject", result);
            }
            Err(e) => {
                // TODO(later issue): a transport error, timeout or undecodable reply leaves the
                // order's fate UNKNOWN: the request may have reached the broker and be working.
                // The fix is to ask the broker (t0425) about it rather than assume it died.
                // Until then it is marked rejected locally with the error, and any SC0/SC1 for
                // it arrives under an unknown order number (logged and counted as unknown).
                let code = match &e {
                    LsError::Gateway { code, .. } => code.clone(),
                    _ => LOCAL_SEND_FAILED.to_owned(),
                };
                log::warn!(target: LOG, "{id} {} send failed: {e}; marked rejected locally [{code}]", self.describe(id));
                let result = self.book.rejected(id, &code, &e.to_string(), now);
                self.after(id, "send failure", result);
            }
        }
        self.release_strangers_if_idle();
    }

    // ---- account events ----

    /// True while any order awaits its REST reply: an unknown order number may be its.
    fn in_flight(&self) -> bool {
        self.book.working().any(|o| o.state() == OrderState::Sent)
    }

    /// Routes one SC0–SC4 event to its order; parks it if its order may not have its number
    /// yet (`may_park`), else it is a stranger's.
    fn on_account_event(&mut self, event: AccountEvent, may_park: bool) {
        let key = match &event {
            AccountEvent::Accepted {
                org_order_no,
                order_no,
                ..
            } => {
                if *org_order_no > 0 {
                    // SC0 of a modify or cancel request: its SC2/SC3 carries the change.
                    log::debug!(target: LOG, "SC0 for request #{order_no} on #{org_order_no}");
                    return;
                }
                *order_no
            }
            AccountEvent::Filled { order_no, .. } => *order_no,
            AccountEvent::Modified { org_order_no, .. } => *org_order_no,
            AccountEvent::Cancelled { org_order_no, .. } => *org_order_no,
            AccountEvent::Rejected {
                order_no,
                org_order_no,
                code,
                ..
            } => {
                if *org_order_no > 0 {
                    // A refused modify/cancel: the original order is unchanged.
                    log::warn!(target: LOG, "SC4: request #{order_no} on #{org_order_no} refused [{code}]");
                    return;
                }
                if *order_no <= 0 {
                    // A new order refused before it got a number: its REST reply says so.
                    log::debug!(target: LOG, "SC4 without an order number [{code}]");
                    return;
                }
                *order_no
            }
        };
        match self.book.id_by_order_no(key) {
            Some(id) => self.apply_event(id, event),
            None if may_park && self.in_flight() => {
                log::debug!(target: LOG, "event for #{key} before its REST reply: parked");
                // Wall time, not the engine clock: this is a timeout on a live socket, not
                // part of the order's history (a replay never parks).
                self.parked
                    .entry(key)
                    .or_insert_with(|| Parked {
                        since: Instant::now(),
                        events: Vec::new(),
                    })
                    .events
                    .push(event);
            }
            None => self.stranger(key, &event),
        }
    }

    fn apply_event(&mut self, id: ClientOrderId, event: AccountEvent) {
        let now = self.clock.now();
        match event {
            AccountEvent::Accepted { order_no, .. } => {
                let result = self.book.accepted_event(id, order_no, now);
                self.after(id, "SC0 accepted", result);
            }
            AccountEvent::Filled {
                order_no,
                exec_no,
                ticker,
                side,
                qty,
                price,
                time,
                ..
            } => {
                let result = self.book.filled(id, order_no, exec_no, qty, price, now);
                if let Ok(Transition::Applied { .. }) = result {
                    self.forward_fill(Fill {
                        ticker,
                        side,
                        price,
                        qty,
                        order_no,
                        time,
                    });
                } else if let Ok(Transition::Duplicate) = result {
                    log::debug!(target: LOG, "{id} exec #{exec_no} again (duplicate): ignored");
                }
                self.after(id, "SC1 fill", result);
            }
            AccountEvent::Modified {
                order_no,
                org_order_no,
                ..
            } => {
                // The engine never modifies; someone else changed our order at the broker.
                self.bad_events += 1;
                log::warn!(target: LOG, "{id} #{org_order_no} was modified outside the engine (now #{order_no}); not followed");
            }
            AccountEvent::Cancelled { order_no, qty, .. } => {
                let result = self.book.cancelled(id, order_no, qty, now);
                self.after(id, "SC3 cancel", result);
            }
            AccountEvent::Rejected { code, .. } => {
                let result = self
                    .book
                    .rejected(id, &code, "refused by the broker (SC4)", now);
                self.after(id, "SC4 reject", result);
            }
        }
    }

    /// Books a new fill of ours into the gate's view and forwards it.
    fn forward_fill(&mut self, fill: Fill) {
        // Fee 0: the gate only needs quantities from this ledger.
        if let Err(e) = self.ledger.apply_fill(&fill, 0) {
            log::warn!(target: LOG, "{} fill of order #{} not in the risk view: {e}", fill.ticker, fill.order_no);
        }
        self.refs.entry(fill.ticker).or_default().last = Some(fill.price);
        if let Some(p) = &self.portfolio {
            p.do_send(fill);
        }
        if let Some(s) = &self.strategy_fills {
            s.do_send(fill);
        }
    }

    /// An event for an order number that is not ours (or whose REST reply never named it).
    fn stranger(&mut self, key: i64, event: &AccountEvent) {
        if let AccountEvent::Filled {
            exec_no,
            ticker,
            side,
            qty,
            price,
            ..
        } = event
        {
            self.unknown_fills += 1;
            log::warn!(
                target: LOG,
                "SC1 fill for unknown order #{key}: {ticker} {} {qty} @ {price} (exec #{exec_no}); not placed by this engine, not booked (unknown fill #{})",
                side_word(*side),
                self.unknown_fills
            );
        } else {
            self.unknown_events += 1;
            log::info!(target: LOG, "account event for unknown order #{key} ignored: {event:?}");
        }
    }

    /// Re-applies the events that waited for `order_no`, in arrival order.
    fn unpark(&mut self, order_no: i64) {
        if let Some(p) = self.parked.remove(&order_no) {
            self.early_events += p.events.len() as u64;
            for event in p.events {
                self.on_account_event(event, false);
            }
        }
    }

    /// With no order awaiting its number, no parked event can become ours.
    fn release_strangers_if_idle(&mut self) {
        if self.parked.is_empty() || self.in_flight() {
            return;
        }
        for (key, p) in std::mem::take(&mut self.parked) {
            for event in &p.events {
                self.stranger(key, event);
            }
        }
    }

    /// Releases events parked longer than [`PARK_TTL`] (a busy engine always has something
    /// in flight, so the idle rule alone would keep them forever).
    fn sweep_parked(&mut self) {
        let now = Instant::now();
        let old: Vec<i64> = self
            .parked
            .iter()
            .filter(|(_, p)| now.duration_since(p.since) >= PARK_TTL)
            .map(|(k, _)| *k)
            .collect();
        for key in old {
            if let Some(p) = self.parked.remove(&key) {
                for event in &p.events {
                    self.stranger(key, event);
                }
            }
        }
    }

    // ---- outcomes ----

    /// Logs what an event did; a final state ends the order.
    fn after(
        &mut self,
        id: ClientOrderId,
        event: &'static str,
        result: Result<Transition, BookError>,
    ) {
        match result {
            Ok(Transition::Applied { from, to }) => {
                log::debug!(target: LOG, "{id} {event}: {from} → {to}");
                if to.is_final() && !from.is_final() {
                    self.finish(id);
                }
            }
            Ok(Transition::Duplicate) => {
                log::debug!(target: LOG, "{id} {event}: already known");
            }
            Err(e) => {
                self.bad_events += 1;
                log::warn!(target: LOG, "{event} refused by the order state machine: {e} (bad event #{})", self.bad_events);
            }
        }
    }

    /// The order reached a final state: latency, a log line, and the strategy told.
    fn finish(&mut self, id: ClientOrderId) {
        let Some(o) = self.book.get(id) else {
            return;
        };
        let ack = o.intent_to_ack();
        let fill = o.ack_to_first_fill();
        let done = OrderDone {
            id: Some(id),
            ticker: o.ticker(),
            side: o.side(),
            filled: o.filled_qty(),
            rejected: o.state() == OrderState::Rejected,
        };
        let line = format!(
            "{id} {} {} {}/{} {} {}",
            o.ticker(),
            side_word(o.side()),
            o.filled_qty(),
            o.qty(),
            order_type_text(o.order_type()),
            o.state(),
        );
        match o.reject() {
            Some(r) => log::info!(
                target: LOG,
                "{line}: [{}] {}; intent→ack {} ({})",
                r.code,
                r.message,
                micros(ack),
                o.reason()
            ),
            None => log::info!(
                target: LOG,
                "{line}, avg {}; intent→ack {}, ack→fill {} ({})",
                o.avg_fill_price().map_or_else(|| "-".to_owned(), |p| p.to_string()),
                micros(ack),
                micros(fill),
                o.reason()
            ),
        }
        if let Some(d) = ack {
            self.intent_to_ack.record(d);
        }
        if let Some(d) = fill {
            self.ack_to_fill.record(d);
        }
        self.tell_done(done);
    }

    fn tell_done(&self, done: OrderDone) {
        if let Some(to) = &self.strategy_done {
            to.do_send(done);
        }
    }

    /// "buy 10 005930" for log lines about `id`.
    fn describe(&self, id: ClientOrderId) -> String {
        self.book.get(id).map_or_else(String::new, |o| {
            format!("{} {} {}", o.ticker(), side_word(o.side()), o.qty())
        })
    }

    fn stats(&self) -> OrderStats {
        let s = self.book.summary();
        OrderStats {
            orders: s.orders,
            working: s.working,
            fills: s.fills,
            filled: s.filled,
            cancelled: s.cancelled,
            rejected: s.rejected,
            refused_by_risk: self.refused_by_risk,
            unknown_fills: self.unknown_fills,
            unknown_events: self.unknown_events,
            bad_events: self.bad_events,
            early_events: self.early_events,
            intent_to_ack: self.intent_to_ack.summary(),
            ack_to_fill: self.ack_to_fill.summary(),
        }
    }
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn order_type_text(t: OrderType) -> String {
    match t {
        OrderType::Market => "at market".to_owned(),
        OrderType::Limit(p) => format!("limit {p}"),
    }
}

fn micros(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), |d| format!("{}µs", d.as_micros()))
}

impl Actor for OrderManager {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // `send` (queries) waits for room; `do_send` ignores the cap. Intents and account
        // events are never dropped either way.
        ctx.set_mailbox_capacity(1 << 16);
        match &self.account_feed {
            Some(feed) => feed.do_send(WatchAccount {
                to: ctx.address().recipient(),
            }),
            None => log::warn!(target: LOG, "no account feed: orders will never see SC0–SC4"),
        }
        ctx.run_interval(PARK_SWEEP, |act, _| act.sweep_parked());
        log::info!(
            target: LOG,
            "order manager started (max_order_qty {}, max_order_notional {} won)",
            self.risk.max_order_qty,
            self.risk.max_order_notional
        );
    }
}

impl Handler<OrderIntent> for OrderManager {
    type Result = ();
    fn handle(&mut self, intent: OrderIntent, ctx: &mut Context<Self>) {
        let received = self.clock.now();
        let ticker = intent.ticker;
        // A buy needs the day's band: it bounds a market buy's notional and checks a limit
        // price. Fetched once per ticker; buys queue behind the fetch in arrival order.
        // Sells never wait: an exit must not be delayed by a price query.
        let needs_band =
            intent.side == Side::Buy && self.refs.get(&ticker).is_none_or(|r| r.limits.is_none());
        if !needs_band {
            self.place(intent, received, ctx);
            return;
        }
        match self.awaiting_band.get_mut(&ticker) {
            Some(queue) => queue.push((intent, received)),
            None => {
                self.awaiting_band.insert(ticker, vec![(intent, received)]);
                self.fetch_band(ticker, ctx);
            }
        }
    }
}

impl Handler<AccountEvent> for OrderManager {
    type Result = ();
    fn handle(&mut self, event: AccountEvent, _: &mut Context<Self>) {
        self.on_account_event(event, true);
    }
}

impl Handler<CancelAllWorking> for OrderManager {
    type Result = usize;
    fn handle(&mut self, _: CancelAllWorking, ctx: &mut Context<Self>) -> usize {
        let mut targets = Vec::new();
        for o in self.book.working() {
            match o.order_no() {
                Some(n) if o.remaining().0 > 0 => {
                    targets.push((o.id(), n, o.ticker(), o.remaining()))
                }
                Some(_) => {}
                // Still awaiting its REST reply: nothing to cancel by yet.
                None => {
                    log::warn!(target: LOG, "{} {} has no order number yet: cannot cancel it", o.id(), o.ticker())
                }
            }
        }
        for &(id, order_no, ticker, qty) in &targets {
            log::info!(target: LOG, "{id} {ticker} #{order_no}: cancelling the remaining {qty}");
            let rest = self.rest.clone();
            let block = Cspat00801InBlock1::new(order_no, ticker, qty);
            ctx.spawn(
                async move { rest.call::<Cspat00801>(&block).await }
                    .into_actor(self)
                    .map(move |reply, _, _| match reply {
                        Ok(r) if Cspat00801::succeeded(&r) => log::info!(
                            target: LOG,
                            "{id} cancel accepted as #{}",
                            r.blocks.ord_no().unwrap_or(0)
                        ),
                        Ok(r) => log::warn!(target: LOG, "{id} cancel refused: [{}] {}", r.rsp_cd, r.rsp_msg.trim()),
                        Err(e) => log::warn!(target: LOG, "{id} cancel failed: {e}"),
                    }),
            );
        }
        targets.len()
    }
}

impl Handler<GetOrderStats> for OrderManager {
    type Result = MessageResult<GetOrderStats>;
    fn handle(&mut self, _: GetOrderStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.stats())
    }
}

impl Handler<GetOrder> for OrderManager {
    type Result = Option<Order>;
    fn handle(&mut self, msg: GetOrder, _: &mut Context<Self>) -> Option<Order> {
        self.book.get(msg.id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_histogram_reports_percentiles_in_micros() {
        let mut h = LatencyHist::new();
        assert_eq!(h.summary(), LatencyUs::default());
        for us in 1..=100u64 {
            h.record(Duration::from_micros(us));
        }
        h.record(Duration::ZERO); // counted as 1 µs, not dropped
        h.record(Duration::from_secs(10_000)); // saturates at the bound, no panic
        let s = h.summary();
        assert_eq!(s.count, 102);
        assert!((49..=52).contains(&s.p50), "{s:?}");
        assert!((98..=101).contains(&s.p99), "{s:?}");
        assert!(s.max >= MAX_LATENCY_US * 999 / 1000, "{s:?}");
    }
}
