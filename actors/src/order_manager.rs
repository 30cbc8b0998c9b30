//! OrderManager: the live driver of the order engine. The decisions are the trading
//! core's [`OrderDesk`] (`trading/orders.rs`): which intent is refused, which waits, when an
//! order goes, what a reply or an account event does to it, what the kill switch cancels,
//! what reconciliation books. This actor is the shell around it: it stamps every input with
//! the engine's clock, feeds it to the desk, and carries out the [`Command`]s that come
//! back, in order.
//!
//! Inputs: the Processor's [`OrderIntent`]s, SC0–SC4 from the account feed, the answers of
//! the calls it made for the desk (CSPAT00601, CSPAT00801, t1102, t0425, and CSPAQ12200 with
//! the Portfolio's cash), the journal's durability notices ([`JournalDurable`]), the timers
//! the desk asked for and a park sweep every second, [`TripKillSwitch`], [`StopOrders`],
//! [`CancelAllWorking`] and the account feed's (re)registration ([`ReconcileOrders`]).
//!
//! Commands carried out: REST calls, each from a spawned future (the actor never blocks
//! on I/O); journal appends, under the ticket the desk gave them, whose durability is
//! reported back (the desk holds sends, fills and dones until then); fills to the Portfolio
//! and the Processor and dones to the Processor (same sender, same mailbox: fills before
//! done, as the desk orders them); alerts to the Notifier with `do_send` (nothing here waits
//! for Discord or Telegram); timers; the counters and latency histograms (intent → send → ack → fill);
//! the log lines of refusals, final orders and a trip. Refusals are told per rule through a
//! [`RefusalDigest`]: the first at once, then one line and one alert a minute with the count
//! (a failed journal refuses every intent, thousands a minute), every one still counted.
//!
//! Must never: decide what the desk decides (a rule here would not replay); read the
//! clock anywhere but when stamping an input; hold a lock or share state (everything here
//! is this actor's); panic in a handler.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use hdrhistogram::Histogram;

use crate::broker::Broker;
use crate::clock::Clock;
use crate::journal::Journal;
use crate::market::Ticker;
use crate::messages::{
    AccountEvent, Alert, CancelAllWorking, CorrectCash, Deliver, DiskSpace, Fill, GetCash,
    GetOrder, GetOrderStats, JournalDurable, LatencyUs, OrderDone, OrderIntent, OrderStats,
    ReconcileOrders, RejectAlert, RejectCause, StopOrders, TripKillSwitch, WatchAccount,
};
use crate::order::Order;
use crate::reconcile::BrokerHolding;
use crate::refusal_digest::{thousands, RefusalDigest, Tell};
use crate::risk::RiskLimits;
use crate::tape::{TapeDesk, TapeEvent, TapeRecorder, TapeTime};
use crate::telemetry::Meters;
use crate::trading::desk_tape::{command_line, worth_recording, DeskInput};
use crate::trading::orders::{
    order_type_text, side_word, Command, OrderDesk, Refusal, Stamp, Timer,
};

pub use crate::trading::orders::{
    RateExcess, RecoveredOrders, LOCAL_SEND_FAILED, REASON_KILL_SWITCH_FLATTEN,
};

const LOG: &str = "condor::orders";

/// How often the desk is asked to release account events parked too long.
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

/// See the module docs.
pub struct OrderManager {
    desk: OrderDesk,
    broker: Broker,
    clock: Arc<dyn Clock>,
    journal: Option<Journal>,
    account_feed: Option<Recipient<WatchAccount>>,
    portfolio: Option<Recipient<Deliver<Fill>>>,
    /// Where the broker's positions after its fills go (Kiwoom's REAL 04), once the fills
    /// before them have gone: the Portfolio checks its own against them.
    holdings_to: Option<Recipient<Deliver<BrokerHolding>>>,
    /// Positions that came while the desk held fills back (for the journal, or parked
    /// until the reply naming their order); at most one per ticker, the latest.
    holdings: Vec<BrokerHolding>,
    cash_to: Option<(Recipient<GetCash>, Recipient<CorrectCash>)>,
    strategy_fills: Option<Recipient<Deliver<Fill>>>,
    strategy_done: Option<Recipient<Deliver<OrderDone>>>,
    notifier: Option<Recipient<Alert>>,
    intent_to_ack: LatencyHist,
    /// Intent → the REST call issued (after the gate, the rate and the journal's sync).
    intent_to_send: LatencyHist,
    ack_to_fill: LatencyHist,
    meters: Option<Arc<Meters>>,
    /// Where every input of the desk and its commands are recorded, when the tape is on.
    tape: Option<(TapeRecorder, TapeTime)>,
    /// Which refusals are told one by one and which are counted into a line a minute.
    refusals: RefusalDigest,
    /// The instant of the input being carried out (the refusals' clock).
    stamped_at: Instant,
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
    pub fn new(broker: impl Into<Broker>, risk: RiskLimits, clock: Arc<dyn Clock>) -> OrderManager {
        let clock_now = clock.now();
        OrderManager {
            desk: OrderDesk::new(risk),
            broker: broker.into(),
            clock,
            journal: None,
            account_feed: None,
            portfolio: None,
            holdings_to: None,
            holdings: Vec::new(),
            cash_to: None,
            strategy_fills: None,
            strategy_done: None,
            notifier: None,
            intent_to_ack: LatencyHist::new(),
            intent_to_send: LatencyHist::new(),
            ack_to_fill: LatencyHist::new(),
            meters: None,
            tape: None,
            refusals: RefusalDigest::default(),
            stamped_at: clock_now,
        }
    }

    /// Records the desk's settings, then every input it is given with the commands it
    /// answered, on `recorder` (`condor replay` feeds them to a fresh desk).
    pub fn with_tape(mut self, recorder: Option<TapeRecorder>) -> OrderManager {
        self.tape = recorder.map(|r| (r, TapeTime::new(self.clock.as_ref())));
        self
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

    /// Forwards the broker's position after each of its fills (Kiwoom's REAL 04, through
    /// the session's [`crate::messages::WatchHoldings`]) to `to`, after the fills before it.
    pub fn with_holdings_check(mut self, to: Recipient<Deliver<BrokerHolding>>) -> OrderManager {
        self.holdings_to = Some(to);
        self
    }

    /// Forwards every new fill of our orders to `portfolio`.
    pub fn with_portfolio(mut self, portfolio: Recipient<Deliver<Fill>>) -> OrderManager {
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
        fills: Recipient<Deliver<Fill>>,
        done: Recipient<Deliver<OrderDone>>,
    ) -> OrderManager {
        self.strategy_fills = Some(fills);
        self.strategy_done = Some(done);
        self
    }

    /// Tells `notifier` of every reject and of a kill switch trip (the trader's Discord and Telegram).
    pub fn with_notifier(mut self, notifier: Option<Recipient<Alert>>) -> OrderManager {
        self.notifier = notifier;
        self
    }

    /// Starts client order ids at `first_id` (after a restart: past the journal's highest).
    pub fn with_first_client_id(mut self, first_id: u64) -> OrderManager {
        self.desk = self.desk.with_first_client_id(first_id);
        self
    }

    /// Journals every change, and holds every send and every message out until the journal
    /// has the event behind it.
    pub fn with_journal(mut self, journal: Journal) -> OrderManager {
        self.journal = Some(journal);
        self.desk = self.desk.with_journal();
        self
    }

    /// Carries on from the state rebuilt from the journal (and reconciled with the broker).
    pub fn with_recovered(mut self, r: RecoveredOrders) -> OrderManager {
        let now = stamp(&*self.clock);
        self.desk = self.desk.with_recovered(r, now);
        self
    }

    /// Sends at most `per_sec` orders in any second (with a margin against jitter);
    /// what is over it waits or is refused as `excess` says.
    pub fn with_order_rate(mut self, per_sec: u32, excess: RateExcess) -> OrderManager {
        self.desk = self.desk.with_order_rate(per_sec, excess);
        self
    }

    /// Also sells every position at market when the kill switch trips.
    pub fn with_kill_switch_flatten(mut self, flatten: bool) -> OrderManager {
        self.desk = self.desk.with_kill_switch_flatten(flatten);
        self
    }

    // ---- feeding the desk ----

    /// Gives the desk one input, stamped now, records both on the tape, and carries out
    /// what it says, in order. Returns what [`OrderDesk::apply`] returns.
    fn drive(&mut self, ctx: &mut Context<Self>, input: DeskInput) -> usize {
        let now = stamp(&*self.clock);
        self.stamped_at = now.at;
        let mut out = Vec::new();
        let recorded = match &self.tape {
            Some(_) if worth_recording(&self.desk, &input) => Some(
                serde_json::to_string(&input)
                    .unwrap_or_else(|e| format!("(unserializable input: {e})")),
            ),
            _ => None,
        };
        let r = self.desk.apply(input, now, &mut out);
        if let (Some(input), Some((recorder, time))) = (recorded, &mut self.tape) {
            recorder.record(
                time.unix_ns(now.at),
                TapeEvent::Desk(Box::new(TapeDesk {
                    day: now.day,
                    time: now.time,
                    unix_ms: now.unix_ms,
                    input,
                    commands: out.iter().map(command_line).collect(),
                })),
            );
            // Before any command is carried out: the journal's group commit syncs the
            // tape, so a journaled decision's input is on disk with it.
            recorder.flush();
        }
        for command in out {
            self.carry_out(command, ctx);
        }
        self.forward_holdings();
        r
    }

    /// The positions the broker reported, once no fill is held back: a position must not
    /// reach the Portfolio before the fill it follows.
    fn forward_holdings(&mut self) {
        if self.holdings.is_empty() || self.desk.holds_effects() {
            return;
        }
        for h in self.holdings.drain(..) {
            if let Some(to) = &self.holdings_to {
                to.do_send(Deliver(h));
            }
        }
    }

    fn carry_out(&mut self, command: Command, ctx: &mut Context<Self>) {
        match command {
            Command::Journal { ticket, event } => {
                if let Some(journal) = &self.journal {
                    let me = ctx.address();
                    journal.record_then(event, move |result| {
                        me.do_send(JournalDurable { ticket, result })
                    });
                }
            }
            Command::Send { id, order, waited } => {
                if let Some(waited) = waited {
                    self.intent_to_send.record(waited);
                }
                let broker = self.broker.clone();
                ctx.spawn(
                    async move { broker.place(&order).await }
                        .into_actor(self)
                        .map(move |reply, act, ctx| {
                            act.drive(ctx, DeskInput::OrderReply { id, reply });
                        }),
                );
            }
            Command::Cancel {
                id,
                order_no,
                ticker,
                qty,
            } => {
                let broker = self.broker.clone();
                ctx.spawn(
                    async move { broker.cancel(order_no, ticker, qty).await }
                        .into_actor(self)
                        .map(move |reply, act, ctx| {
                            act.drive(ctx, DeskInput::CancelReply { id, reply });
                        }),
                );
            }
            Command::FetchBand(ticker) => self.fetch_band(ticker, ctx),
            Command::FetchOrders => {
                let broker = self.broker.clone();
                ctx.spawn(
                    async move { broker.orders_of_day().await }
                        .into_actor(self)
                        .map(|orders, act, ctx| {
                            let orders = orders.map_err(|e| e.to_string());
                            act.drive(ctx, DeskInput::BrokerOrders { orders });
                        }),
                );
            }
            Command::CheckCash => self.check_cash(ctx),
            Command::Wake { timer, after } => {
                ctx.run_later(after, move |act, ctx| {
                    act.drive(ctx, DeskInput::Timer { timer });
                });
            }
            Command::Fill(fill) => {
                if let Some(m) = &self.meters {
                    m.fills.inc();
                }
                if let Some(p) = &self.portfolio {
                    p.do_send(Deliver(fill));
                }
                if let Some(s) = &self.strategy_fills {
                    s.do_send(Deliver(fill));
                }
            }
            Command::Done(done) => {
                if let Some(to) = &self.strategy_done {
                    to.do_send(Deliver(done));
                }
            }
            Command::CorrectCash(c) => {
                if let Some((_, to)) = &self.cash_to {
                    to.do_send(CorrectCash(c));
                }
            }
            Command::Refused(refusal) => self.refused(refusal),
            Command::Finished(order) => self.finished(&order),
            Command::Tripped(cause) => {
                log::error!(target: LOG, "KILL SWITCH ON: {cause}; cancelling working orders, no new entries until the next day or `condor kill-switch reset`");
                if let Some(to) = &self.notifier {
                    to.do_send(Alert::KillSwitch { cause });
                }
            }
        }
    }

    // ---- the calls made for the desk ----

    /// Fetches `ticker`'s band (t1102) and gives it to the desk, which places the buys that
    /// waited for it.
    fn fetch_band(&mut self, ticker: Ticker, ctx: &mut Context<Self>) {
        let broker = self.broker.clone();
        ctx.spawn(
            async move { broker.band(ticker).await }
                .into_actor(self)
                .map(move |band, act, ctx| {
                    act.drive(ctx, DeskInput::Band { ticker, band });
                }),
        );
    }

    /// Reads the broker's cash, then the Portfolio's (behind every fill already sent to
    /// it), and gives both to the desk, which decides whether to take the broker's.
    fn check_cash(&mut self, ctx: &mut Context<Self>) {
        let Some((get, _)) = self.cash_to.clone() else {
            return;
        };
        let broker = self.broker.clone();
        ctx.spawn(
            async move {
                let broker = broker
                    .cash()
                    .await
                    .map_err(|e| e.to_string())?;
                let ours = get.send(GetCash).await.map_err(|e| e.to_string())?;
                Ok::<_, String>((ours, broker))
            }
            .into_actor(self)
            .map(|read, act, ctx| match read {
                Ok((ours, broker)) => {
                    act.drive(ctx, DeskInput::Cash { ours, broker });
                }
                Err(e) => {
                    log::warn!(target: LOG, "cannot compare cash with the broker's (CSPAQ12200): {e}; the next start will")
                }
            }),
        );
    }

    // ---- outcomes ----

    /// The refusals counted over the windows that ended: one line and one alert per rule.
    fn tell_counted_refusals(&mut self) {
        for d in self.refusals.due(self.stamped_at) {
            log::warn!(
                target: LOG,
                "{}: {} more intent(s) refused in the last {} s (refusals are told once a minute while they go on; last: {})",
                d.rule,
                thousands(d.count),
                d.over.as_secs(),
                d.last_detail
            );
            if let Some(to) = &self.notifier {
                to.do_send(Alert::RefusedInBulk(crate::messages::RefusalCount {
                    rule: d.rule.to_owned(),
                    count: d.count,
                    over_secs: d.over.as_secs(),
                    last_detail: d.last_detail,
                }));
            }
        }
    }

    /// An intent the desk refused: counted, and logged and told to the Notifier (the first
    /// of a rule's minute whole, the rest in its count).
    fn refused(&mut self, refusal: Refusal) {
        let Refusal {
            intent,
            rule,
            detail,
            count,
        } = refusal;
        let ticker = intent.ticker;
        if let Some(m) = &self.meters {
            m.refusal(rule);
        }
        self.tell_counted_refusals();
        if self.refusals.refused(rule, &detail, self.stamped_at) == Tell::Counted {
            log::debug!(target: LOG, "{ticker} {} {} refused by {rule}: {detail} (refusal #{count}; counted into the minute's line)", side_word(intent.side), intent.qty);
            return;
        }
        log::warn!(
            target: LOG,
            "{ticker} {} {} {} refused by {rule}: {detail} ({}; refusal #{} of this rule)",
            side_word(intent.side),
            intent.qty,
            order_type_text(intent.order_type),
            intent.reason,
            count
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
                    detail,
                },
            }));
        }
    }

    /// An order reached a final state: latency, a log line, and a reject told.
    fn finished(&mut self, o: &Order) {
        let id = o.id();
        let ack = o.intent_to_ack();
        let fill = o.ack_to_first_fill();
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
    }

    fn stats(&self) -> OrderStats {
        OrderStats {
            intent_to_ack: self.intent_to_ack.summary(),
            intent_to_send: self.intent_to_send.summary(),
            ack_to_fill: self.ack_to_fill.summary(),
            ..self.desk.stats(self.clock.today())
        }
    }
}

/// What the engine's clock says now, for one input to the desk.
fn stamp(clock: &dyn Clock) -> Stamp {
    Stamp {
        at: clock.now(),
        day: clock.today(),
        time: clock.time_of_day(),
        unix_ms: clock.unix_ms(),
    }
}

/// The broker's answer to CSPAT00601, as the desk reads it.
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
        ctx.run_interval(PARK_SWEEP, |act, ctx| {
            act.drive(
                ctx,
                DeskInput::Timer {
                    timer: Timer::ParkSweep,
                },
            );
            act.tell_counted_refusals();
        });
        let r = self.desk.risk();
        let (per_window, excess) = self.desk.order_rate();
        log::info!(
            target: LOG,
            "order manager started: max_order_qty {}, max_order_notional {}, max_position_notional {}, max_open_positions {}, price_collar_bp {}, max_orders_per_day {} ({} sent today), daily_loss_limit {} won, {} orders/s ({:?} over it){}",
            r.max_order_qty,
            r.max_order_notional,
            r.max_position_notional,
            r.max_open_positions,
            r.price_collar_bp,
            r.max_orders_per_day,
            self.desk.orders_today(),
            r.daily_loss_limit,
            per_window,
            excess,
            if self.journal.is_some() { "" } else { "; NO JOURNAL: nothing survives a crash" }
        );
        let today = self.clock.today();
        if let Some(trip) = self
            .desk
            .kill_switch()
            .trip_info()
            .filter(|_| self.desk.kill_switch().is_on(today))
        {
            log::error!(target: LOG, "KILL SWITCH ON from the journal: {}; no new entries until the next day or `condor kill-switch reset`", trip.cause);
        }
        if let Some((recorder, time)) = &mut self.tape {
            let config = serde_json::to_string(self.desk.config())
                .unwrap_or_else(|e| format!("(unserializable settings: {e})"));
            recorder.record(
                time.unix_ns(self.clock.now()),
                TapeEvent::DeskOpened(Box::new(config)),
            );
        }
        // Orders the journal left in doubt are asked about at once.
        self.drive(ctx, DeskInput::Start);
    }
}

impl Handler<Deliver<BrokerHolding>> for OrderManager {
    type Result = ();
    fn handle(&mut self, Deliver(h): Deliver<BrokerHolding>, _: &mut Context<Self>) {
        self.holdings.retain(|old| old.ticker != h.ticker);
        self.holdings.push(h);
        self.forward_holdings();
    }
}

impl Handler<Deliver<OrderIntent>> for OrderManager {
    type Result = ();
    fn handle(&mut self, Deliver(intent): Deliver<OrderIntent>, ctx: &mut Context<Self>) {
        if let Some(m) = &self.meters {
            m.intents_received.inc();
        }
        self.drive(ctx, DeskInput::Intent { intent });
    }
}

impl Handler<DiskSpace> for OrderManager {
    type Result = ();
    fn handle(&mut self, msg: DiskSpace, ctx: &mut Context<Self>) {
        self.drive(
            ctx,
            DeskInput::DiskSpace {
                low: msg.low,
                free_bytes: msg.free_bytes,
            },
        );
    }
}

impl Handler<Deliver<AccountEvent>> for OrderManager {
    type Result = ();
    fn handle(&mut self, Deliver(event): Deliver<AccountEvent>, ctx: &mut Context<Self>) {
        // A position waiting to be checked is superseded by a later fill of its ticker:
        // compared after that fill, it would differ for no fault of either side.
        if let AccountEvent::Filled { ticker, .. } = &event {
            self.holdings.retain(|h| h.ticker != *ticker);
        }
        self.drive(ctx, DeskInput::Account { event });
    }
}

impl Handler<JournalDurable> for OrderManager {
    type Result = ();
    fn handle(&mut self, msg: JournalDurable, ctx: &mut Context<Self>) {
        let ticket = msg.ticket;
        match msg.result {
            Ok(_) => {
                self.drive(ctx, DeskInput::JournalDurable { ticket });
            }
            Err(e) => {
                let why = e.to_string();
                self.drive(ctx, DeskInput::JournalFailed { why });
            }
        }
    }
}

impl Handler<TripKillSwitch> for OrderManager {
    type Result = ();
    fn handle(&mut self, msg: TripKillSwitch, ctx: &mut Context<Self>) {
        self.drive(ctx, DeskInput::Trip { cause: msg.cause });
    }
}

impl Handler<ReconcileOrders> for OrderManager {
    type Result = ();
    fn handle(&mut self, _: ReconcileOrders, ctx: &mut Context<Self>) {
        self.drive(ctx, DeskInput::AccountFeedUp);
    }
}

impl Handler<CancelAllWorking> for OrderManager {
    type Result = usize;
    fn handle(&mut self, _: CancelAllWorking, ctx: &mut Context<Self>) -> usize {
        self.drive(ctx, DeskInput::CancelAllWorking)
    }
}

impl Handler<StopOrders> for OrderManager {
    type Result = usize;
    fn handle(&mut self, _: StopOrders, ctx: &mut Context<Self>) -> usize {
        self.drive(ctx, DeskInput::Stop)
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
        let book = self.desk.book();
        let mut done: Vec<&Order> = book.finished().collect();
        done.sort_unstable_by_key(|o| std::cmp::Reverse(o.id()));
        let mut list: Vec<Order> = book.working().cloned().collect();
        list.sort_unstable_by_key(|o| std::cmp::Reverse(o.id()));
        list.extend(done.into_iter().take(msg.recent).cloned());
        list
    }
}

impl Handler<GetOrder> for OrderManager {
    type Result = Option<Order>;
    fn handle(&mut self, msg: GetOrder, _: &mut Context<Self>) -> Option<Order> {
        self.desk.book().get(msg.id).cloned()
    }
}

impl Handler<crate::messages::Retire> for OrderManager {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Retire, ctx: &mut Context<Self>) {
        ctx.stop();
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
