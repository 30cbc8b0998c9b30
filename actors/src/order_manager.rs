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
//! The path of one intent: the order rate (a sliding-window throttle under the broker's
//! per-TR limit: the intent waits or is refused, as configured) → the risk gate
//! (`risk::check`, with today's order count and the kill switch) → a refusal is journaled,
//! logged, counted and reported back as a done-and-rejected order, never sent; a pass opens
//! an `Order` and journals `OrderSent`, and only once that is durable is CSPAT00601 sent
//! from a spawned future (the actor never blocks on I/O). The REST reply acks or rejects
//! it; a reply lost in transit leaves it in doubt, and the broker's order list (t0425) is
//! asked. SC0–SC4 from the account feed move it on; each change is journaled, and what
//! leaves this actor (a fill to the Portfolio and the Processor, [`OrderDone`]) leaves only
//! once the journal has it, in order (same sender, same mailbox: fills before done).
//! Rejects (the gate's and the broker's) and a kill switch trip are told to the Notifier,
//! if it is given one, with `do_send`: nothing here waits for Discord.
//!
//! Must never: send an intent the gate refused; send an order twice (an order in doubt is
//! asked about, never resent); send before its `OrderSent` is durable; panic in a handler
//! (every refused event is logged and counted, and leaves the order as it was); forward a
//! fill twice (duplicates are recognised by exec number in `order.rs`); book a fill for an
//! order number that is not ours (logged at warn and counted); hold a lock or share state:
//! everything here is this actor's.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use hdrhistogram::Histogram;

use crate::broker_account;
use crate::clock::Clock;
use crate::journal::event::{FillSource, JournalEvent};
use crate::journal::recovery::{apply_to_book, BookChange};
use crate::journal::Journal;
use crate::kill_switch::{KillSwitch, TripCause};
use crate::ledger::Ledger;
use crate::ls_rest::{LsError, LsRest};
use crate::market::{DailyLimits, Price, Qty, Side, Ticker};
use crate::messages::{
    AccountEvent, Alert, CancelAllWorking, ClientOrderId, CorrectCash, Fill, GetCash, GetOrder,
    GetOrderStats, JournalDurable, LatencyUs, OrderDone, OrderIntent, OrderStats, OrderType,
    ReconcileOrders, RejectAlert, RejectCause, StopOrders, TripKillSwitch, WatchAccount,
};
use crate::order::{BookError, Order, OrderBook, OrderState, Transition};
use crate::reconcile::reconcile_orders_while_sending;
use crate::risk::{self, RiskLimits};
use crate::telemetry::Meters;
use crate::throttle::{Throttle, DEFAULT_MARGIN};
use crate::wire::market_data::{T1102InBlock, T1102};
use crate::wire::order::{
    Cspat00601, Cspat00601InBlock1, Cspat00601Out, Cspat00801, Cspat00801InBlock1,
};
use crate::wire::rest::{Reply, Tr};

const LOG: &str = "condor::orders";

/// The reject code of an order whose REST call failed before the broker answered (a
/// transport error, a timeout, an undecodable reply). Gateway refusals keep their `IGW…`.
pub const LOCAL_SEND_FAILED: &str = "LOCAL";

/// The reason of the sells the kill switch sends itself (`CONDOR_KILL_SWITCH_FLATTEN`):
/// the one kind of order no strategy asked for.
pub const REASON_KILL_SWITCH_FLATTEN: &str = "kill switch: flatten";

/// How long an account event for an order number we do not know yet waits for the REST
/// reply that may name it. Longer than `LsRest`'s 10 s request timeout, so a slow reply
/// still finds its early SC0/SC1.
const PARK_TTL: Duration = Duration::from_secs(15);
/// How often parked events are checked for expiry.
const PARK_SWEEP: Duration = Duration::from_secs(1);
/// How soon an order left in doubt (its REST reply lost) is asked about at the broker.
const IN_DOUBT_ASK_AFTER: Duration = Duration::from_secs(1);
/// How soon a reconciliation that could not reach the broker is tried again.
const RECONCILE_RETRY: Duration = Duration::from_secs(5);
/// LS's limit on CSPAT00801 (cancel), per second.
const CANCELS_PER_SEC: u32 = 3;
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

/// What an intent over the order rate does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateExcess {
    /// Waits, in arrival order, until the rate allows it.
    Queue,
    /// Is refused (journaled and counted like a risk refusal).
    Refuse,
}

/// Something that leaves this actor, held until the journal has the event behind it.
enum Effect {
    Send {
        id: ClientOrderId,
        block: Cspat00601InBlock1,
    },
    Fill(Fill),
    Done(OrderDone),
    /// Compare cash with the broker's once the fills before it reached the Portfolio.
    CheckCash,
    CorrectCash(CorrectCash),
}

/// What the journal and the broker said while the engine was down, for `with_recovered`.
pub struct RecoveredOrders {
    pub book: OrderBook,
    /// What our fills (and adopted positions) hold, for the naked-sell rule.
    pub ledger: Ledger,
    /// Orders sent today, restarts included.
    pub orders_today: u64,
    pub kill_switch: Option<TripCause>,
}

/// See the module docs.
pub struct OrderManager {
    rest: LsRest,
    risk: RiskLimits,
    clock: Arc<dyn Clock>,
    journal: Option<Journal>,
    /// Appends made (each one's ticket) and the highest the journal confirmed durable.
    appended: u64,
    durable: u64,
    /// Effects waiting for their ticket to be durable, in order.
    pending: VecDeque<(u64, Effect)>,
    /// Set when the journal failed: nothing more is sent.
    journal_failed: Option<String>,
    kill_switch: KillSwitch,
    kill_switch_flatten: bool,
    orders_today: u64,
    throttle: Throttle,
    excess: RateExcess,
    /// Intents waiting for the order rate, with when each arrived.
    throttled: VecDeque<(OrderIntent, Instant)>,
    throttle_armed: bool,
    /// The same rate at the moment of the REST call: orders granted while the journal
    /// was slow to sync would otherwise leave together once it syncs, over the broker's
    /// limit. Orders wait here in order; none is refused.
    send_pacer: Throttle,
    paced: VecDeque<(ClientOrderId, Cspat00601InBlock1)>,
    pacer_armed: bool,
    cancel_throttle: Throttle,
    cancels: VecDeque<(ClientOrderId, i64, Ticker, Qty)>,
    cancels_armed: bool,
    /// Orders with a cancel queued or on its way: never asked twice at once.
    cancelling: HashSet<ClientOrderId>,
    /// Orders asked to cancel before the broker named them (a trip or shutdown while the
    /// REST reply was on its way): cancelled as soon as a reply, SC0 or reconciliation
    /// gives their number.
    cancel_when_named: HashSet<ClientOrderId>,
    /// Set at shutdown ([`StopOrders`]): no new order is sent.
    stopping: bool,
    /// Orders on their way: `OrderSent` journaled, the request waiting for it to be durable
    /// or for its reply. Not in doubt: reconciliation leaves them to their reply.
    sending: HashSet<ClientOrderId>,
    reconciling: bool,
    reconcile_again: bool,
    refused_by_rule: BTreeMap<&'static str, u64>,
    rate_waited: u64,
    reconcile_differences: u64,
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
    cash_to: Option<(Recipient<GetCash>, Recipient<CorrectCash>)>,
    strategy_fills: Option<Recipient<Fill>>,
    strategy_done: Option<Recipient<OrderDone>>,
    notifier: Option<Recipient<Alert>>,
    refused_by_risk: u64,
    unknown_fills: u64,
    unknown_events: u64,
    bad_events: u64,
    early_events: u64,
    intent_to_ack: LatencyHist,
    /// Intent → the REST call issued (after the gate, the rate and the journal's sync).
    intent_to_send: LatencyHist,
    ack_to_fill: LatencyHist,
    meters: Option<Arc<Meters>>,
}

/// The working orders and the most recent final ones (by client id, newest first), for
/// `/status`.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "Vec<Order>")]
pub struct GetOrderList {
    /// How many final orders, at most.
    pub recent: usize,
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
            journal: None,
            appended: 0,
            durable: 0,
            pending: VecDeque::new(),
            journal_failed: None,
            kill_switch: KillSwitch::default(),
            kill_switch_flatten: false,
            orders_today: 0,
            // LS's CSPAT00601 limit; `with_order_rate` sets the configured one.
            throttle: broker_throttle(10),
            excess: RateExcess::Queue,
            throttled: VecDeque::new(),
            throttle_armed: false,
            send_pacer: broker_throttle(10),
            paced: VecDeque::new(),
            pacer_armed: false,
            cancel_throttle: broker_throttle(CANCELS_PER_SEC),
            cancels: VecDeque::new(),
            cancels_armed: false,
            cancelling: HashSet::new(),
            cancel_when_named: HashSet::new(),
            stopping: false,
            sending: HashSet::new(),
            reconciling: false,
            reconcile_again: false,
            refused_by_rule: BTreeMap::new(),
            rate_waited: 0,
            reconcile_differences: 0,
            book: OrderBook::default(),
            ledger: Ledger::new(0),
            refs: HashMap::new(),
            awaiting_band: HashMap::new(),
            parked: HashMap::new(),
            account_feed: None,
            portfolio: None,
            cash_to: None,
            strategy_fills: None,
            strategy_done: None,
            notifier: None,
            refused_by_risk: 0,
            unknown_fills: 0,
            unknown_events: 0,
            bad_events: 0,
            early_events: 0,
            intent_to_ack: LatencyHist::new(),
            intent_to_send: LatencyHist::new(),
            ack_to_fill: LatencyHist::new(),
            meters: None,
        }
    }

    /// Counts intents, refusals, rejects and fills, and times intent → ack → fill, into
    /// `meters`.
    pub fn with_meters(mut self, meters: Option<Arc<Meters>>) -> OrderManager {
        self.meters = meters;
        self
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

    /// After fills learned from the broker's order list (t0425 gives a rounded average
    /// price, so their cash can be a few won off), compares the Portfolio's cash with the
    /// broker's (CSPAQ12200) and, when no order is working, takes the broker's.
    pub fn with_cash_reconcile(
        mut self,
        get: Recipient<GetCash>,
        correct: Recipient<CorrectCash>,
    ) -> OrderManager {
        self.cash_to = Some((get, correct));
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

    /// Tells `notifier` of every reject and of a kill switch trip (the trader's Discord).
    pub fn with_notifier(mut self, notifier: Option<Recipient<Alert>>) -> OrderManager {
        self.notifier = notifier;
        self
    }

    /// Starts client order ids at `first_id` (after a restart: past the journal's highest).
    pub fn with_first_client_id(mut self, first_id: u64) -> OrderManager {
        self.book = OrderBook::starting_at(first_id);
        self
    }

    /// Journals every change, and holds every send and every message out until the journal
    /// has the event behind it.
    pub fn with_journal(mut self, journal: Journal) -> OrderManager {
        self.journal = Some(journal);
        self
    }

    /// Carries on from the state rebuilt from the journal (and reconciled with the broker).
    pub fn with_recovered(mut self, r: RecoveredOrders) -> OrderManager {
        self.book = r.book;
        self.ledger = r.ledger;
        self.orders_today = r.orders_today;
        if let Some(cause) = r.kill_switch {
            let (today, now_ms) = (self.clock.today(), self.clock.unix_ms());
            self.kill_switch.trip(today, cause, now_ms);
        }
        self
    }

    /// Sends at most `per_sec` orders in any second (with a margin against jitter);
    /// what is over it waits or is refused as `excess` says.
    pub fn with_order_rate(mut self, per_sec: u32, excess: RateExcess) -> OrderManager {
        self.throttle = broker_throttle(per_sec);
        self.send_pacer = broker_throttle(per_sec);
        self.excess = excess;
        self
    }

    /// Also sells every position at market when the kill switch trips.
    pub fn with_kill_switch_flatten(mut self, flatten: bool) -> OrderManager {
        self.kill_switch_flatten = flatten;
        self
    }

    // ---- the journal ----

    /// Journals `event`; returns its ticket. Without a journal, ticket 0 (always durable).
    fn journal(&mut self, event: JournalEvent, ctx: &mut Context<Self>) -> u64 {
        let Some(journal) = &self.journal else {
            return 0;
        };
        self.appended += 1;
        let ticket = self.appended;
        let me = ctx.address();
        journal.record_then(event, move |result| {
            me.do_send(JournalDurable { ticket, result })
        });
        ticket
    }

    /// Runs `effect` once everything journaled so far is durable, after earlier effects.
    fn effect(&mut self, effect: Effect, ctx: &mut Context<Self>) {
        if self.pending.is_empty() && self.durable >= self.appended {
            self.run(effect, ctx);
        } else {
            self.pending.push_back((self.appended, effect));
        }
    }

    fn run(&mut self, effect: Effect, ctx: &mut Context<Self>) {
        match effect {
            Effect::Send { id, block } => {
                if let Some(why) = self.journal_failed.clone() {
                    log::error!(target: LOG, "{id} not sent: the journal failed ({why})");
                    self.sending.remove(&id);
                    let result = self.book.rejected(
                        id,
                        LOCAL_SEND_FAILED,
                        "not sent: the journal failed",
                        self.clock.now(),
                    );
                    self.after(id, "journal failure", result, ctx);
                    return;
                }
                if self.withdrawn_by_kill_switch(id, ctx) {
                    return;
                }
                if self.paced.is_empty() && self.send_pacer.try_acquire(self.clock.now()).is_ok() {
                    self.send_order(id, block, ctx);
                } else {
                    self.paced.push_back((id, block));
                    self.drain_paced(ctx);
                }
            }
            Effect::Fill(fill) => {
                if let Some(p) = &self.portfolio {
                    p.do_send(fill);
                }
                if let Some(s) = &self.strategy_fills {
                    s.do_send(fill);
                }
            }
            Effect::Done(done) => {
                if let Some(to) = &self.strategy_done {
                    to.do_send(done);
                }
            }
            Effect::CheckCash => self.check_cash(ctx),
            Effect::CorrectCash(c) => {
                if let Some((_, to)) = &self.cash_to {
                    to.do_send(c);
                }
            }
        }
    }

    // ---- intents ----

    /// An intent that arrived at `received`: in arrival order behind any that wait for the
    /// order rate, then the gate, then the rate.
    fn submit(&mut self, intent: OrderIntent, received: Instant, ctx: &mut Context<Self>) {
        if !self.throttled.is_empty() {
            self.throttled.push_back((intent, received));
            return;
        }
        self.place(intent, received, ctx);
    }

    /// Refuses `intent` by `rule`: journaled, logged, counted, and the strategy told.
    fn refuse(
        &mut self,
        intent: &OrderIntent,
        rule: &'static str,
        detail: String,
        ctx: &mut Context<Self>,
    ) {
        let ticker = intent.ticker;
        let n = self.refused_by_rule.entry(rule).or_default();
        *n += 1;
        self.refused_by_risk += 1;
        if let Some(m) = &self.meters {
            m.refusal(rule);
        }
        log::warn!(
            target: LOG,
            "{ticker} {} {} {} refused by {rule}: {detail} ({}; refusal #{} of this rule)",
            side_word(intent.side),
            intent.qty,
            order_type_text(intent.order_type),
            intent.reason,
            n
        );
        if let Some(to) = &self.notifier {
            to.do_send(Alert::Rejected(RejectAlert {
                id: None,
                ticker,
                side: intent.side,
                qty: intent.qty,
                order_type: intent.order_type,
                reason: intent.reason.to_owned(),
                cause: RejectCause::Risk {
                    rule: rule.to_owned(),
                    detail: detail.clone(),
                },
            }));
        }
        self.journal(
            JournalEvent::Refused {
                ticker,
                side: intent.side,
                qty: intent.qty,
                order_type: intent.order_type,
                rule: rule.to_owned(),
                detail,
                reason: intent.reason.to_owned(),
            },
            ctx,
        );
        self.effect(
            Effect::Done(OrderDone {
                id: None,
                ticker,
                side: intent.side,
                filled: Qty(0),
                rejected: true,
            }),
            ctx,
        );
    }

    /// Runs the gate and the order rate on `intent`, and sends it if both pass.
    fn place(&mut self, intent: OrderIntent, received: Instant, ctx: &mut Context<Self>) {
        let ticker = intent.ticker;
        if self.stopping {
            self.refuse(
                &intent,
                "shutdown",
                "condor is stopping: no new order is sent".to_owned(),
                ctx,
            );
            return;
        }
        if let Some(why) = self.journal_failed.clone() {
            self.refuse(
                &intent,
                "journal",
                format!("the journal failed ({why}): nothing is sent until condor restarts"),
                ctx,
            );
            return;
        }
        let reference = self.refs.get(&ticker).copied().unwrap_or_default();
        let view = risk::GateView {
            last_price: reference.last,
            band: reference.limits.as_ref(),
            ledger: &self.ledger,
            book: &self.book,
            orders_today: u32::try_from(self.orders_today).unwrap_or(u32::MAX),
            kill_switch_on: self.kill_switch.is_on(self.clock.today()),
        };
        if let Err(refusal) = risk::check(&intent, &view, &self.risk) {
            self.refuse(&intent, refusal.rule(), refusal.to_string(), ctx);
            return;
        }
        if let Err(wait) = self.throttle.try_acquire(self.clock.now()) {
            match self.excess {
                RateExcess::Refuse => {
                    let detail = format!(
                        "{} orders already sent in the last {} ms (CONDOR_ORDERS_PER_SEC)",
                        self.throttle.per_window(),
                        self.throttle.window().as_millis()
                    );
                    self.refuse(&intent, "order_rate", detail, ctx);
                }
                RateExcess::Queue => {
                    self.rate_waited += 1;
                    log::debug!(target: LOG, "{ticker} intent waits {}µs for the order rate", wait.as_micros());
                    self.throttled.push_front((intent, received));
                    self.arm_throttle(wait, ctx);
                }
            }
            return;
        }
        let id = match self.book.open(&intent, received) {
            Ok(id) => id,
            Err(e) => {
                self.refuse(&intent, "order_book", e.to_string(), ctx);
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
        self.orders_today += 1;
        self.sending.insert(id);
        log::info!(
            target: LOG,
            "{id} {ticker} {} {} {} sent ({}, tick #{})",
            side_word(intent.side),
            intent.qty,
            order_type_text(intent.order_type),
            intent.reason,
            intent.tick_seq
        );
        self.journal(
            JournalEvent::OrderSent {
                id: id.0,
                ticker,
                side: intent.side,
                qty: intent.qty,
                order_type: intent.order_type,
                reason: intent.reason.to_owned(),
                tick_seq: intent.tick_seq,
            },
            ctx,
        );
        self.effect(Effect::Send { id, block }, ctx);
    }

    /// The REST call of a new order.
    fn send_order(
        &mut self,
        id: ClientOrderId,
        block: Cspat00601InBlock1,
        ctx: &mut Context<Self>,
    ) {
        if let Some(o) = self.book.get(id) {
            let waited = self.clock.now().saturating_duration_since(o.intent_at());
            self.intent_to_send.record(waited);
        }
        let rest = self.rest.clone();
        ctx.spawn(
            async move { rest.call::<Cspat00601>(&block).await }
                .into_actor(self)
                .map(move |reply, act, ctx| act.on_order_reply(id, reply, ctx)),
        );
    }

    /// A buy not yet on the wire when the kill switch is on is never sent: it ends
    /// `rejected` here, journaled, with the reason. Sells still go (they reduce exposure).
    fn withdrawn_by_kill_switch(&mut self, id: ClientOrderId, ctx: &mut Context<Self>) -> bool {
        if !self.kill_switch.is_on(self.clock.today())
            || self.book.get(id).is_none_or(|o| o.side() != Side::Buy)
        {
            return false;
        }
        log::warn!(target: LOG, "{id} {} withdrawn before sending: the kill switch is on", self.describe(id));
        self.sending.remove(&id);
        self.reject(
            id,
            LOCAL_SEND_FAILED,
            "not sent: the kill switch tripped first",
            "kill switch",
            ctx,
        );
        true
    }

    /// Sends paced orders while the rate allows, in order; wakes when it next will.
    fn drain_paced(&mut self, ctx: &mut Context<Self>) {
        while !self.paced.is_empty() {
            match self.send_pacer.try_acquire(self.clock.now()) {
                Ok(()) => {
                    if let Some((id, block)) = self.paced.pop_front() {
                        if !self.withdrawn_by_kill_switch(id, ctx) {
                            self.send_order(id, block, ctx);
                        }
                    }
                }
                Err(wait) => {
                    if !self.pacer_armed {
                        self.pacer_armed = true;
                        ctx.run_later(wait, |act, ctx| {
                            act.pacer_armed = false;
                            act.drain_paced(ctx);
                        });
                    }
                    return;
                }
            }
        }
    }

    /// Wakes the rate queue in `wait`.
    fn arm_throttle(&mut self, wait: Duration, ctx: &mut Context<Self>) {
        if self.throttle_armed {
            return;
        }
        self.throttle_armed = true;
        ctx.run_later(wait, |act, ctx| {
            act.throttle_armed = false;
            act.drain_throttled(ctx);
        });
    }

    /// Places waiting intents while the rate allows, in arrival order.
    fn drain_throttled(&mut self, ctx: &mut Context<Self>) {
        while let Some((intent, received)) = self.throttled.pop_front() {
            let before = self.throttled.len();
            self.place(intent, received, ctx);
            if self.throttled.len() > before {
                return; // it went back to the front: the rate is full again, timer armed
            }
        }
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
                        act.submit(intent, received, ctx);
                    }
                }),
        );
    }

    /// The broker's answer to CSPAT00601 for order `id`.
    fn on_order_reply(
        &mut self,
        id: ClientOrderId,
        reply: Result<Reply<Cspat00601Out>, LsError>,
        ctx: &mut Context<Self>,
    ) {
        self.sending.remove(&id);
        let now = self.clock.now();
        match reply {
            Ok(r) if Cspat00601::succeeded(&r) => match r.blocks.ord_no() {
                Some(order_no) => {
                    log::debug!(target: LOG, "{id} acked as #{order_no} [{}]", r.rsp_cd);
                    let result = self.book.acked(id, order_no, now);
                    if matches!(result, Ok(Transition::Applied { .. })) {
                        self.journal(JournalEvent::Acked { id: id.0, order_no }, ctx);
                    }
                    self.after(id, "REST ack", result, ctx);
                    // SC0/SC1 that beat this reply were parked under this number.
                    self.unpark(order_no, ctx);
                }
                None => {
                    // The broker said yes without a number to follow the order by: it may be
                    // working. In doubt: the broker's order list will name it.
                    log::warn!(target: LOG, "{id} accepted [{}] {} but the reply has no order number: in doubt, asking the broker", r.rsp_cd, r.rsp_msg.trim());
                    self.in_doubt(id, "accepted without an order number".to_owned(), ctx);
                }
            },
            Ok(r) => {
                log::warn!(target: LOG, "{id} {} rejected by the broker: [{}] {}", self.describe(id), r.rsp_cd, r.rsp_msg.trim());
                self.reject(id, &r.rsp_cd, r.rsp_msg.trim(), "REST reject", ctx);
            }
            // A gateway refusal (rate limit, token) is the gateway's answer: the order never
            // reached the order system.
            Err(LsError::Gateway { code, msg, .. }) => {
                log::warn!(target: LOG, "{id} {} refused by the gateway: [{code}] {msg}", self.describe(id));
                self.reject(id, &code, msg.trim(), "gateway refusal", ctx);
            }
            // Lost in transit, timed out, or an unreadable answer: the request may have
            // reached the broker and be working. Never resent: asked about.
            Err(e) => {
                log::warn!(target: LOG, "{id} {} send failed: {e}; in doubt, asking the broker", self.describe(id));
                self.in_doubt(id, e.to_string(), ctx);
            }
        }
        self.release_strangers_if_idle();
    }

    fn reject(
        &mut self,
        id: ClientOrderId,
        code: &str,
        message: &str,
        event: &'static str,
        ctx: &mut Context<Self>,
    ) {
        let result = self.book.rejected(id, code, message, self.clock.now());
        if matches!(result, Ok(Transition::Applied { .. })) {
            self.journal(
                JournalEvent::Rejected {
                    id: id.0,
                    code: code.to_owned(),
                    message: message.to_owned(),
                },
                ctx,
            );
        }
        self.after(id, event, result, ctx);
    }

    /// `id` was sent but its fate is unknown: journaled as such, then asked about.
    fn in_doubt(&mut self, id: ClientOrderId, error: String, ctx: &mut Context<Self>) {
        self.journal(JournalEvent::SendUnknown { id: id.0, error }, ctx);
        ctx.run_later(IN_DOUBT_ASK_AFTER, |act, ctx| act.start_reconcile(ctx));
    }

    // ---- reconciliation while running ----

    fn start_reconcile(&mut self, ctx: &mut Context<Self>) {
        if self.reconciling {
            self.reconcile_again = true;
            return;
        }
        self.reconciling = true;
        let rest = self.rest.clone();
        ctx.spawn(
            async move { broker_account::orders_of_day(&rest).await }
                .into_actor(self)
                .map(|orders, act, ctx| {
                    act.reconciling = false;
                    match orders {
                        Ok(orders) => act.reconcile_with(&orders, ctx),
                        Err(e) => {
                            log::warn!(target: LOG, "cannot read the broker's orders (t0425): {e}; trying again in {}s", RECONCILE_RETRY.as_secs());
                            ctx.run_later(RECONCILE_RETRY, |act, ctx| act.start_reconcile(ctx));
                            return;
                        }
                    }
                    if std::mem::take(&mut act.reconcile_again) {
                        act.start_reconcile(ctx);
                    }
                }),
        );
    }

    /// Reads the broker's cash, then the Portfolio's (behind every fill already sent to
    /// it), and takes the broker's when they differ and no order is working (a working
    /// order's fills may be counted on one side and not yet on the other).
    fn check_cash(&mut self, ctx: &mut Context<Self>) {
        let Some((get, _)) = self.cash_to.clone() else {
            return;
        };
        let rest = self.rest.clone();
        ctx.spawn(
            async move {
                let broker = broker_account::cash(&rest)
                    .await
                    .map_err(|e| e.to_string())?;
                let ours = get.send(GetCash).await.map_err(|e| e.to_string())?;
                Ok::<_, String>((ours, broker))
            }
            .into_actor(self)
            .map(|read, act, ctx| match read {
                Ok((ours, broker)) if ours != broker && act.book.working().next().is_none() => {
                    act.reconcile_differences += 1;
                    log::warn!(target: LOG, "reconciliation: cash {ours} won here, {broker} won at the broker: taking the broker's");
                    act.journal(
                        JournalEvent::CashCorrected {
                            journal: ours,
                            broker,
                        },
                        ctx,
                    );
                    act.effect(
                        Effect::CorrectCash(CorrectCash {
                            expected: ours,
                            broker,
                        }),
                        ctx,
                    );
                }
                Ok(_) => {}
                Err(e) => {
                    log::warn!(target: LOG, "cannot compare cash with the broker's (CSPAQ12200): {e}; the next start will")
                }
            }),
        );
    }

    /// Brings our orders to the broker's list: names the ones in doubt, books fills and
    /// cancels missed during a gap. Each difference is logged at warn and counted.
    fn reconcile_with(
        &mut self,
        orders: &[crate::reconcile::BrokerOrder],
        ctx: &mut Context<Self>,
    ) {
        let outcome = reconcile_orders_while_sending(
            &self.book,
            orders,
            self.clock.time_of_day(),
            &self.sending,
        );
        for d in &outcome.differences {
            // A stranger's order is not ours to reconcile; it is only noted.
            if d.kind() == "not_ours" {
                log::debug!(target: LOG, "reconciliation: {d}");
                continue;
            }
            self.reconcile_differences += 1;
            log::warn!(target: LOG, "reconciliation: {d}");
        }
        let mut fills_learned = false;
        for event in outcome.events {
            let order_no = event.order_no();
            match apply_to_book(&mut self.book, &event, self.clock.now()) {
                Ok(Some(change)) => {
                    fills_learned |= matches!(event, JournalEvent::Filled { .. });
                    self.journal(event, ctx);
                    self.changed(change, ctx);
                    if let Some(n) = order_no.filter(|n| *n > 0) {
                        self.unpark(n, ctx);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.bad_events += 1;
                    log::warn!(target: LOG, "reconciliation event refused by the order state machine: {e} ({event})");
                }
            }
        }
        if fills_learned {
            self.effect(Effect::CheckCash, ctx);
        }
        if self
            .book
            .working()
            .any(|o| o.state() == OrderState::Sent && !self.sending.contains(&o.id()))
        {
            // Still in doubt (the broker may not list it yet): ask again later.
            ctx.run_later(RECONCILE_RETRY, |act, ctx| act.start_reconcile(ctx));
        }
        self.release_strangers_if_idle();
    }

    /// Follows up a change the book accepted: a new fill is booked and forwarded, a final
    /// state ends the order.
    fn changed(&mut self, change: BookChange, ctx: &mut Context<Self>) {
        if let Some(fill) = change.fill {
            self.forward_fill(fill, ctx);
        }
        if change.finished() {
            self.finish(change.id, ctx);
        } else if self.cancel_when_named.contains(&change.id) {
            self.cancel_named(change.id, ctx);
        }
    }

    // ---- account events ----

    /// True while any order awaits its REST reply: an unknown order number may be its.
    fn in_flight(&self) -> bool {
        self.book.working().any(|o| o.state() == OrderState::Sent)
    }

    /// Routes one SC0–SC4 event to its order; parks it if its order may not have its number
    /// yet (`may_park`), else it is a stranger's.
    fn on_account_event(&mut self, event: AccountEvent, may_park: bool, ctx: &mut Context<Self>) {
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
            Some(id) => self.apply_event(id, event, ctx),
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

    fn apply_event(&mut self, id: ClientOrderId, event: AccountEvent, ctx: &mut Context<Self>) {
        let now = self.clock.now();
        let journaled = match event {
            AccountEvent::Accepted { order_no, .. } => JournalEvent::Acked { id: id.0, order_no },
            AccountEvent::Filled {
                order_no,
                exec_no,
                qty,
                remaining,
                ..
            } if self
                .book
                .get(id)
                .is_some_and(|o| already_counted(o.qty(), o.filled_qty(), qty, remaining)) =>
            {
                // The broker's order list (t0425) told us of this fill before its SC1 came.
                log::debug!(target: LOG, "{id} SC1 #{order_no} exec #{exec_no} of {qty} ({remaining} left): already learned from the broker's order list");
                return;
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
            } => JournalEvent::Filled {
                id: id.0,
                order_no,
                exec_no,
                ticker,
                side,
                qty,
                price,
                time,
                source: FillSource::Sc1,
            },
            AccountEvent::Modified {
                order_no,
                org_order_no,
                ..
            } => {
                // The engine never modifies; someone else changed our order at the broker.
                self.bad_events += 1;
                log::warn!(target: LOG, "{id} #{org_order_no} was modified outside the engine (now #{order_no}); not followed");
                return;
            }
            AccountEvent::Cancelled { order_no, qty, .. } => JournalEvent::Cancelled {
                id: id.0,
                order_no,
                qty,
            },
            AccountEvent::Rejected { code, .. } => JournalEvent::Rejected {
                id: id.0,
                code,
                message: "refused by the broker (SC4)".to_owned(),
            },
        };
        // SC0 is news only when it moves the order (its REST ack normally came first).
        let what = match &journaled {
            JournalEvent::Acked { .. } => "SC0 accepted",
            JournalEvent::Filled { .. } => "SC1 fill",
            JournalEvent::Cancelled { .. } => "SC3 cancel",
            _ => "SC4 reject",
        };
        match apply_to_book(&mut self.book, &journaled, now) {
            Ok(Some(change)) => match change.transition {
                Transition::Applied { from, to } => {
                    log::debug!(target: LOG, "{id} {what}: {from} → {to}");
                    self.journal(journaled, ctx);
                    self.changed(change, ctx);
                }
                Transition::Duplicate => {
                    log::debug!(target: LOG, "{id} {what}: already known");
                }
            },
            Ok(None) => {}
            Err(e) => {
                self.bad_events += 1;
                log::warn!(target: LOG, "{what} refused by the order state machine: {e} (bad event #{})", self.bad_events);
            }
        }
    }

    /// Books a new fill of ours into the gate's view and forwards it once journaled.
    fn forward_fill(&mut self, fill: Fill, ctx: &mut Context<Self>) {
        // Fee 0: the gate only needs quantities from this ledger.
        if let Err(e) = self.ledger.apply_fill(&fill, 0) {
            log::warn!(target: LOG, "{} fill of order #{} not in the risk view: {e}", fill.ticker, fill.order_no);
        }
        self.refs.entry(fill.ticker).or_default().last = Some(fill.price);
        if let Some(m) = &self.meters {
            m.fills.inc();
        }
        self.effect(Effect::Fill(fill), ctx);
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
    fn unpark(&mut self, order_no: i64, ctx: &mut Context<Self>) {
        if let Some(p) = self.parked.remove(&order_no) {
            self.early_events += p.events.len() as u64;
            for event in p.events {
                self.on_account_event(event, false, ctx);
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

    // ---- the kill switch and cancels ----

    fn trip(&mut self, cause: TripCause, ctx: &mut Context<Self>) {
        let (today, now_ms) = (self.clock.today(), self.clock.unix_ms());
        if !self.kill_switch.trip(today, cause.clone(), now_ms) {
            return;
        }
        log::error!(target: LOG, "KILL SWITCH ON: {cause}; cancelling working orders, no new entries until the next day or `condor kill-switch reset`");
        if let Some(to) = &self.notifier {
            to.do_send(Alert::KillSwitch {
                cause: cause.clone(),
            });
        }
        self.journal(JournalEvent::KillSwitchTripped { cause }, ctx);
        // Buys waiting for the rate are refused now (the gate says why); sells keep their
        // place in the queue.
        let waiting: Vec<(OrderIntent, Instant)> = self.throttled.drain(..).collect();
        for (intent, received) in waiting {
            match intent.side {
                Side::Buy => self.place(intent, received, ctx),
                Side::Sell => self.throttled.push_back((intent, received)),
            }
        }
        // Buys already granted but waiting for the send rate are withdrawn now; those
        // waiting for the journal are withdrawn when it syncs (`run`).
        let paced: Vec<(ClientOrderId, Cspat00601InBlock1)> = self.paced.drain(..).collect();
        for (id, block) in paced {
            if !self.withdrawn_by_kill_switch(id, ctx) {
                self.paced.push_back((id, block));
            }
        }
        self.cancel_all_working(ctx);
        if self.kill_switch_flatten {
            let held: Vec<(Ticker, Qty)> = self
                .ledger
                .positions()
                .filter(|(_, p)| !p.is_flat())
                .map(|(t, p)| (t, p.qty))
                .collect();
            for (ticker, qty) in held {
                let selling = self.book.working_qty(ticker, Side::Sell);
                let qty = Qty(qty.0.saturating_sub(selling.0));
                if qty.0 == 0 {
                    continue;
                }
                let intent = OrderIntent {
                    ticker,
                    side: Side::Sell,
                    qty,
                    order_type: OrderType::Market,
                    reason: REASON_KILL_SWITCH_FLATTEN,
                    tick_seq: 0,
                    tick_received_at: None,
                };
                self.submit(intent, self.clock.now(), ctx);
            }
        }
    }

    /// Queues a cancel of the remainder of every working order that has a number; one
    /// without a number yet is cancelled once the broker names it.
    fn cancel_all_working(&mut self, ctx: &mut Context<Self>) -> usize {
        let mut targets = Vec::new();
        let mut unnamed = Vec::new();
        for o in self.book.working() {
            if self.cancelling.contains(&o.id()) {
                continue; // its cancel is queued or on its way
            }
            match o.order_no() {
                Some(n) if o.remaining().0 > 0 => {
                    targets.push((o.id(), n, o.ticker(), o.remaining()))
                }
                Some(_) => {}
                None => unnamed.push((o.id(), o.ticker())),
            }
        }
        for (id, ticker) in unnamed {
            if self.cancel_when_named.insert(id) {
                log::info!(target: LOG, "{id} {ticker} has no order number yet: cancelled once the broker names it");
            }
        }
        let n = targets.len();
        self.cancelling.extend(targets.iter().map(|t| t.0));
        self.cancels.extend(targets);
        self.drain_cancels(ctx);
        n
    }

    /// Cancels `id`, which waited for its number, once it has one.
    fn cancel_named(&mut self, id: ClientOrderId, ctx: &mut Context<Self>) {
        let Some(o) = self.book.get(id) else {
            return;
        };
        let (Some(order_no), remaining) = (o.order_no(), o.remaining()) else {
            return;
        };
        self.cancel_when_named.remove(&id);
        if remaining.0 == 0 || !self.cancelling.insert(id) {
            return;
        }
        log::info!(target: LOG, "{id} {} named #{order_no}: sending the cancel it waited for", o.ticker());
        self.cancels
            .push_back((id, order_no, o.ticker(), remaining));
        self.drain_cancels(ctx);
    }

    /// Sends queued cancels as fast as CSPAT00801's limit allows.
    fn drain_cancels(&mut self, ctx: &mut Context<Self>) {
        while let Some(&(id, order_no, ticker, qty)) = self.cancels.front() {
            if let Err(wait) = self.cancel_throttle.try_acquire(self.clock.now()) {
                if !self.cancels_armed {
                    self.cancels_armed = true;
                    ctx.run_later(wait, |act, ctx| {
                        act.cancels_armed = false;
                        act.drain_cancels(ctx);
                    });
                }
                return;
            }
            self.cancels.pop_front();
            if self.book.get(id).is_none_or(|o| o.state().is_final()) {
                continue; // it ended while its cancel waited
            }
            log::info!(target: LOG, "{id} {ticker} #{order_no}: cancelling the remaining {qty}");
            let rest = self.rest.clone();
            let block = Cspat00801InBlock1::new(order_no, ticker, qty);
            ctx.spawn(
                async move { rest.call::<Cspat00801>(&block).await }
                    .into_actor(self)
                    .map(move |reply, act, _| match reply {
                        Ok(r) if Cspat00801::succeeded(&r) => log::info!(
                            target: LOG,
                            "{id} cancel accepted as #{}",
                            r.blocks.ord_no().unwrap_or(0)
                        ),
                        // Refused (often: it filled first) or lost: the order may be asked
                        // to cancel again; its own events say how it ended.
                        Ok(r) => {
                            act.cancelling.remove(&id);
                            log::warn!(target: LOG, "{id} cancel refused: [{}] {}", r.rsp_cd, r.rsp_msg.trim())
                        }
                        Err(e) => {
                            act.cancelling.remove(&id);
                            log::warn!(target: LOG, "{id} cancel failed: {e}")
                        }
                    }),
            );
        }
    }

    // ---- outcomes ----

    /// Logs what an event did; a final state ends the order.
    fn after(
        &mut self,
        id: ClientOrderId,
        event: &'static str,
        result: Result<Transition, BookError>,
        ctx: &mut Context<Self>,
    ) {
        match result {
            Ok(Transition::Applied { from, to }) => {
                log::debug!(target: LOG, "{id} {event}: {from} → {to}");
                if to.is_final() && !from.is_final() {
                    self.finish(id, ctx);
                } else if self.cancel_when_named.contains(&id) {
                    self.cancel_named(id, ctx);
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
    fn finish(&mut self, id: ClientOrderId, ctx: &mut Context<Self>) {
        self.cancelling.remove(&id);
        self.cancel_when_named.remove(&id);
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
        if let (Some(m), Some(r)) = (&self.meters, o.reject()) {
            m.reject(&r.code);
        }
        match o.reject() {
            Some(r) => {
                log::info!(
                    target: LOG,
                    "{line}: [{}] {}; intent→ack {} ({})",
                    r.code,
                    r.message,
                    micros(ack),
                    o.reason()
                );
                if let Some(to) = &self.notifier {
                    to.do_send(Alert::Rejected(RejectAlert {
                        id: Some(id),
                        ticker: o.ticker(),
                        side: o.side(),
                        qty: o.qty(),
                        order_type: o.order_type(),
                        reason: o.reason().to_owned(),
                        cause: RejectCause::Broker {
                            code: r.code.clone(),
                            message: r.message.clone(),
                        },
                    }));
                }
            }
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
        if let Some(m) = &self.meters {
            ack.inspect(|d| Meters::observe(&m.intent_to_ack, *d));
            fill.inspect(|d| Meters::observe(&m.ack_to_fill, *d));
        }
        self.effect(Effect::Done(done), ctx);
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
            intent_to_send: self.intent_to_send.summary(),
            ack_to_fill: self.ack_to_fill.summary(),
            rate_waited: self.rate_waited,
            kill_switch_on: self.kill_switch.is_on(self.clock.today()),
            reconcile_differences: self.reconcile_differences,
            in_doubt: self
                .book
                .working()
                .filter(|o| o.state() == OrderState::Sent)
                .count() as u64,
            journaled: self.appended,
        }
    }
}

/// True when an SC1 of `fill` shares, after which the broker has `left` of the order unfilled,
/// is already in our `filled` of `qty`: booking it would leave fewer unfilled than the
/// broker says. A fill learned from t0425 (which has no execution numbers) and then
/// reported by its SC1 is counted once.
fn already_counted(qty: Qty, filled: Qty, fill: Qty, left: Qty) -> bool {
    let unfilled = qty.0.saturating_sub(filled.0);
    unfilled < fill.0.saturating_add(left.0)
}

/// A throttle for a broker limit of `per_sec` (at least 1) with the default margin.
fn broker_throttle(per_sec: u32) -> Throttle {
    Throttle::for_broker_limit(per_sec.max(1), DEFAULT_MARGIN)
        .or_else(|_| Throttle::for_broker_limit(1, DEFAULT_MARGIN))
        .expect("a limit of one call a second with the default margin is valid")
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
                on_reconnect: Some(ctx.address().recipient()),
            }),
            None => log::warn!(target: LOG, "no account feed: orders will never see SC0–SC4"),
        }
        ctx.run_interval(PARK_SWEEP, |act, _| act.sweep_parked());
        let r = &self.risk;
        log::info!(
            target: LOG,
            "order manager started: max_order_qty {}, max_order_notional {}, max_position_notional {}, max_open_positions {}, price_collar_bp {}, max_orders_per_day {} ({} sent today), daily_loss_limit {} won, {} orders/s ({:?} over it){}",
            r.max_order_qty,
            r.max_order_notional,
            r.max_position_notional,
            r.max_open_positions,
            r.price_collar_bp,
            r.max_orders_per_day,
            self.orders_today,
            r.daily_loss_limit,
            self.throttle.per_window(),
            self.excess,
            if self.journal.is_some() { "" } else { "; NO JOURNAL: nothing survives a crash" }
        );
        if let Some(trip) = self
            .kill_switch
            .trip_info()
            .filter(|_| self.kill_switch.is_on(self.clock.today()))
        {
            log::error!(target: LOG, "KILL SWITCH ON from the journal: {}; no new entries until the next day or `condor kill-switch reset`", trip.cause);
        }
        // Orders the journal left in doubt are asked about at once.
        if self.in_flight() {
            self.start_reconcile(ctx);
        }
    }
}

impl Handler<OrderIntent> for OrderManager {
    type Result = ();
    fn handle(&mut self, intent: OrderIntent, ctx: &mut Context<Self>) {
        if let Some(m) = &self.meters {
            m.intents_received.inc();
        }
        let received = self.clock.now();
        let ticker = intent.ticker;
        // A buy needs the day's band: it bounds a market buy's notional and checks a limit
        // price. Fetched once per ticker; buys queue behind the fetch in arrival order.
        // Sells never wait: an exit must not be delayed by a price query.
        let needs_band =
            intent.side == Side::Buy && self.refs.get(&ticker).is_none_or(|r| r.limits.is_none());
        if !needs_band {
            self.submit(intent, received, ctx);
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
    fn handle(&mut self, event: AccountEvent, ctx: &mut Context<Self>) {
        self.on_account_event(event, true, ctx);
    }
}

impl Handler<JournalDurable> for OrderManager {
    type Result = ();
    fn handle(&mut self, msg: JournalDurable, ctx: &mut Context<Self>) {
        match msg.result {
            Ok(_) => self.durable = self.durable.max(msg.ticket),
            Err(e) => {
                if self.journal_failed.is_none() {
                    log::error!(target: LOG, "{e}: no order is sent from now on; fills still reach the Portfolio");
                    self.journal_failed = Some(e.to_string());
                }
                // Nothing more will be confirmed: release what waited (sends are refused).
                self.durable = self.appended;
            }
        }
        while self
            .pending
            .front()
            .is_some_and(|(t, _)| *t <= self.durable)
        {
            if let Some((_, effect)) = self.pending.pop_front() {
                self.run(effect, ctx);
            }
        }
    }
}

impl Handler<TripKillSwitch> for OrderManager {
    type Result = ();
    fn handle(&mut self, msg: TripKillSwitch, ctx: &mut Context<Self>) {
        self.trip(msg.cause, ctx);
    }
}

impl Handler<ReconcileOrders> for OrderManager {
    type Result = ();
    fn handle(&mut self, _: ReconcileOrders, ctx: &mut Context<Self>) {
        // With nothing working, nothing of ours can have changed at the broker.
        if self.book.working().next().is_some() {
            self.start_reconcile(ctx);
        }
    }
}

impl Handler<CancelAllWorking> for OrderManager {
    type Result = usize;
    fn handle(&mut self, _: CancelAllWorking, ctx: &mut Context<Self>) -> usize {
        self.cancel_all_working(ctx)
    }
}

impl Handler<StopOrders> for OrderManager {
    type Result = usize;
    fn handle(&mut self, _: StopOrders, ctx: &mut Context<Self>) -> usize {
        self.stopping = true;
        // Intents waiting for the order rate go now, refused; those waiting for a price
        // band are refused when it arrives.
        let waiting: Vec<(OrderIntent, Instant)> = self.throttled.drain(..).collect();
        let n = waiting.len();
        for (intent, received) in waiting {
            self.place(intent, received, ctx);
        }
        log::info!(target: LOG, "no new orders from now on ({n} waiting intent(s) refused); {} order(s) working", self.book.working().count());
        n
    }
}

impl Handler<GetOrderStats> for OrderManager {
    type Result = MessageResult<GetOrderStats>;
    fn handle(&mut self, _: GetOrderStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.stats())
    }
}

impl Handler<GetOrderList> for OrderManager {
    type Result = Vec<Order>;
    fn handle(&mut self, msg: GetOrderList, _: &mut Context<Self>) -> Vec<Order> {
        let mut done: Vec<&Order> = self.book.finished().collect();
        done.sort_unstable_by_key(|o| std::cmp::Reverse(o.id()));
        let mut list: Vec<Order> = self.book.working().cloned().collect();
        list.sort_unstable_by_key(|o| std::cmp::Reverse(o.id()));
        list.extend(done.into_iter().take(msg.recent).cloned());
        list
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
    fn an_sc1_already_learned_from_the_order_list_is_counted_once() {
        // An order of 10: SC1s of 2 (8 left) and then 3 (5 left).
        let q = Qty;
        // Nothing learned before: both are new.
        assert!(!already_counted(q(10), q(0), q(2), q(8)));
        assert!(!already_counted(q(10), q(2), q(3), q(5)));
        // t0425 told of both (5 filled) before either SC1 came: both already counted.
        assert!(already_counted(q(10), q(5), q(2), q(8)));
        assert!(already_counted(q(10), q(5), q(3), q(5)));
        // t0425 told of the first only: the first is counted, the second is new.
        assert!(already_counted(q(10), q(2), q(2), q(8)));
        assert!(!already_counted(q(10), q(2), q(3), q(5)));
        // The last fill of an order.
        assert!(!already_counted(q(10), q(7), q(3), q(0)));
        assert!(already_counted(q(10), q(10), q(3), q(0)));
    }

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
