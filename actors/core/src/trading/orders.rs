//! The order engine of the trading core: intents and broker events in, commands out.
//!
//! [`OrderDesk`] decides everything about our orders: which intent is refused and by which
//! rule (shutdown, a failed journal, a low disk, the risk gate, the order rate, the book), which waits
//! (for the order rate, for its ticker's price band, for the journal to make its
//! `OrderSent` durable, for the send pacer), when an order goes on the wire, what a REST
//! reply or an SC0–SC4 event does to it (the state machine is [`OrderBook`]'s), which
//! early events are parked until the reply names their order and which belong to a
//! stranger, what a kill switch trip cancels, withdraws and sells, which cancels go and
//! when, and what reconciliation with the broker's order list books. It composes the pure
//! pieces that already exist: [`risk::check`], [`OrderBook`], [`Ledger`], [`Throttle`],
//! [`KillSwitch`] and [`reconcile_orders_while_sending`].
//!
//! What it decides comes out as [`Command`]s for its driver to carry out, in order: journal
//! this event, send this order, cancel that one, fetch a band or the broker's order list,
//! wake me after this long, forward this fill, this order is done, this intent was refused.
//! The OrderManager actor is the live driver: it owns the REST client, the journal, the
//! recipients and the timers, and feeds the answers back as inputs.
//!
//! Durability is the desk's too: a command that lets something leave (a send, a fill or a
//! done forwarded, a cash correction) is held until every journal append before it is
//! durable ([`OrderDesk::journal_durable`]), and released in order. The driver keeps no
//! books of its own: it appends each [`Command::Journal`] under the ticket the desk gave
//! it and reports that ticket back once the journal has it. So "nothing is sent before its
//! `OrderSent` is durable" and "an order's fills leave before its done" are the desk's
//! rules, tested here without a journal or an actor, and a driver without a journal (a
//! backtest) simply never waits.
//!
//! Time is what the inputs carry ([`Stamp`]): the moment an input reached the driver on
//! its clock, the trading day (for the kill switch), the time of day (for fills learned
//! from the broker's order list) and the wall time in ms (for a trip's record). A parked
//! event's age runs from its own stamp to the park sweep's ([`Timer::ParkSweep`]). Nothing
//! depends on hash-map order: cancels are queued in client id order, a flatten's sells in
//! ticker order, expired parked events in order-number order.
//!
//! Must never: read a clock or do I/O (it logs through `log`, as the strategies do: a log
//! line is not an input and changes no decision); send an intent the gate refused; send an
//! order twice (an order in doubt is asked about, never resent); let a send, a fill or a
//! done out before the journal has what led to it; forward a fill twice; book a fill for an
//! order number that is not ours; panic on any input (a refused event is logged, counted
//! and leaves the order as it was).

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::clock::TradingDay;
use crate::domain::{
    AccountEvent, CashCorrection, ClientOrderId, Fill, NewOrder, OrderDone, OrderIntent, OrderNo,
    OrderType,
};
use crate::journal::event::{FillSource, JournalEvent};
use crate::journal::recovery::{apply_to_book, BookChange};
use crate::kill_switch::{KillSwitch, TripCause};
use crate::ledger::Ledger;
use crate::market::{DailyLimits, Price, Qty, Side, Ticker, TimeOfDay};
use crate::order::{BookError, Order, OrderBook, OrderState, Transition};
use crate::reconcile::{reconcile_orders_while_sending, BrokerOrder};
use crate::retention::ByteSize;
use crate::risk::{self, RiskLimits};
use crate::throttle::{Throttle, DEFAULT_MARGIN};
use crate::trading::desk_tape::{CarriedOver, DeskConfig};

const LOG: &str = "condor::orders";

/// Latency percentiles of one leg of the order path, in microseconds (0 when `count` is 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LatencyUs {
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

/// What the OrderManager has done today, for the shutdown summary and `/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderStats {
    /// Intents that passed the risk gate and became orders.
    pub orders: u64,
    /// Orders not yet final.
    pub working: u64,
    /// Fill events applied (duplicates not counted).
    pub fills: u64,
    /// Orders that ended filled / cancelled / rejected (by the broker or a failed send).
    pub filled: u64,
    pub cancelled: u64,
    pub rejected: u64,
    /// Intents the risk gate refused; none of them reached the broker.
    pub refused_by_risk: u64,
    /// SC1 fills for order numbers that are not ours.
    pub unknown_fills: u64,
    /// Other SC0/SC3/SC4 events for order numbers that are not ours.
    pub unknown_events: u64,
    /// Broker events our order state machine refused (logged with the order and event).
    pub bad_events: u64,
    /// SC0–SC4 events that arrived before the REST reply naming their order, waited, and
    /// were applied once it came (the websocket beating the REST reply is normal).
    pub early_events: u64,
    /// Intent → the broker's first sign of acceptance.
    pub intent_to_ack: LatencyUs,
    /// Intent → the order's REST call issued: the gate, the order rate and the wait for
    /// the journal to make `OrderSent` durable.
    pub intent_to_send: LatencyUs,
    /// Acceptance → first fill.
    pub ack_to_fill: LatencyUs,
    /// Intents that waited for the order rate (`CONDOR_ORDERS_PER_SEC`) before going on.
    pub rate_waited: u64,
    /// Whether today's kill switch is on.
    pub kill_switch_on: bool,
    /// Differences with the broker found by reconciliation while running (after a
    /// reconnect or an order in doubt); each was logged at warn.
    pub reconcile_differences: u64,
    /// Orders sent whose fate is not known yet (a send that failed in transit): they are
    /// asked about at the broker, never sent again.
    pub in_doubt: u64,
    /// Events this actor journaled.
    pub journaled: u64,
}

/// The reject code of an order whose REST call failed before the broker answered (a
/// transport error, a timeout, an undecodable reply), or that was never sent (the journal
/// failed, the kill switch withdrew it). Gateway refusals keep their `IGW…`.
pub const LOCAL_SEND_FAILED: &str = "LOCAL";

/// The reason of the sells the kill switch sends itself (`CONDOR_KILL_SWITCH_FLATTEN`):
/// the one kind of order no strategy asked for.
pub const REASON_KILL_SWITCH_FLATTEN: &str = "kill switch: flatten";

/// How long an account event for an order number we do not know yet waits for the REST
/// reply that may name it. Longer than `LsRest`'s 10 s request timeout, so a slow reply
/// still finds its early SC0/SC1.
pub const PARK_TTL: Duration = Duration::from_secs(15);
/// How soon an order left in doubt (its REST reply lost) is asked about at the broker.
pub const IN_DOUBT_ASK_AFTER: Duration = Duration::from_secs(1);
/// How soon a reconciliation that could not reach the broker is tried again.
pub const RECONCILE_RETRY: Duration = Duration::from_secs(5);
/// LS's limit on CSPAT00801 (cancel), per second.
pub const CANCELS_PER_SEC: u32 = 3;

/// When an input reached the driver, as its clock said. The desk reads no clock: every
/// input carries one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Monotonic: latencies, the order rate, the cancel rate, parked events' age.
    pub at: Instant,
    /// The KST trading day: which day's kill switch is in force.
    pub day: TradingDay,
    /// The KST time of day: stamps fills learned from the broker's order list.
    pub time: TimeOfDay,
    /// Milliseconds since the Unix epoch: when a kill switch trip happened.
    pub unix_ms: i64,
}

/// What an intent over the order rate does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RateExcess {
    /// Waits, in arrival order, until the rate allows it.
    Queue,
    /// Is refused (journaled and counted like a risk refusal).
    Refuse,
}

/// What the journal and the broker said while the engine was down, for
/// [`OrderDesk::with_recovered`].
pub struct RecoveredOrders {
    pub book: OrderBook,
    /// What our fills (and adopted positions) hold, for the naked-sell rule.
    pub ledger: Ledger,
    /// Orders sent today, restarts included.
    pub orders_today: u64,
    pub kill_switch: Option<TripCause>,
    /// The journal record this state runs to (what `condor replay` rebuilds it from).
    pub journal_seq: u64,
}

/// The timers the desk asks for ([`Command::Wake`]), and the periodic park sweep the
/// driver runs on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The order rate may grant again: intents that waited for it go on.
    OrderRate,
    /// The send pacer may grant again: durable orders that waited for it are sent.
    SendPace,
    /// The cancel rate may grant again: queued cancels are sent.
    Cancels,
    /// Ask the broker's order list (an order in doubt, a failed read to retry).
    Reconcile,
    /// Release events parked longer than [`PARK_TTL`] (the driver's interval).
    ParkSweep,
}

/// The broker's answer to a new order (CSPAT00601), as the driver read it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum OrderReply {
    /// Accepted, under `order_no`.
    Acked { order_no: OrderNo, code: String },
    /// Accepted, but the reply names no order number: the order may be working.
    AckedWithoutNumber { code: String, message: String },
    /// Refused by the broker's order system.
    Rejected { code: String, message: String },
    /// Refused by the gateway (rate limit, token): it never reached the order system.
    GatewayRefused { code: String, message: String },
    /// Lost in transit, timed out, or unreadable: the order may be working.
    Lost { error: String },
}

/// The broker's answer to a cancel (CSPAT00801).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CancelReply {
    /// Accepted as the cancel's own order number (0 when the reply gave none).
    Accepted { order_no: OrderNo },
    /// Refused (often: the order filled first).
    Refused { code: String, message: String },
    /// Lost in transit or unreadable.
    Failed { error: String },
}

/// A ticker's price band (t1102): the day's limits, and its last price if the answer had one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub limits: DailyLimits,
    pub last: Option<Price>,
}

/// An intent the desk refused: it never became an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub intent: OrderIntent,
    /// The rule's stable name (`risk::RiskRefusal::rule`, or `shutdown`, `journal`,
    /// `disk_space`, `order_rate`, `order_book`).
    pub rule: &'static str,
    pub detail: String,
    /// Refusals by this rule so far, this one included.
    pub count: u64,
}

/// What the desk wants done, in the order it must be done.
#[derive(Clone, Debug)]
pub enum Command {
    /// Append `event` to the journal and report [`OrderDesk::journal_durable`]`(ticket)`
    /// (or [`OrderDesk::journal_failed`]) when it is durable. Tickets count from 1; a desk
    /// without a journal ([`OrderDesk::with_journal`] not called) gives 0 and waits for
    /// nothing.
    Journal { ticket: u64, event: JournalEvent },
    /// Send `order` to the broker as `id` now (LS: CSPAT00601); answer with
    /// [`OrderDesk::order_reply`]. `waited` is intent → this call.
    Send {
        id: ClientOrderId,
        order: NewOrder,
        waited: Option<Duration>,
    },
    /// Cancel the remaining `qty` of broker order `order_no` (CSPAT00801) now; answer with
    /// [`OrderDesk::cancel_reply`].
    Cancel {
        id: ClientOrderId,
        order_no: OrderNo,
        ticker: Ticker,
        qty: Qty,
    },
    /// Read `ticker`'s band (t1102); answer with [`OrderDesk::band`].
    FetchBand(Ticker),
    /// Read the broker's orders of the day (t0425); answer with [`OrderDesk::broker_orders`].
    FetchOrders,
    /// Read the broker's cash and the Portfolio's (behind every fill already forwarded);
    /// answer with [`OrderDesk::cash`].
    CheckCash,
    /// Call [`OrderDesk::timer`]`(timer)` after `after`.
    Wake { timer: Timer, after: Duration },
    /// A new fill of ours, durable: to the Portfolio and the strategies.
    Fill(Fill),
    /// An order (or a refused intent) is done, durable: to the strategies.
    Done(OrderDone),
    /// The Portfolio should take the broker's cash.
    CorrectCash(CashCorrection),
    /// An intent was refused (to log, count and alert).
    Refused(Refusal),
    /// An order reached its final state, as it ended (to log, time, count and alert).
    Finished(Box<Order>),
    /// The kill switch turned on (to log and alert).
    Tripped(TripCause),
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

/// Something that leaves the desk, held until the journal has the event behind it.
enum Held {
    Send {
        id: ClientOrderId,
        order: NewOrder,
    },
    Fill(Fill),
    Done(OrderDone),
    /// Compare cash with the broker's once the fills before it reached the Portfolio.
    CheckCash,
    CorrectCash(CashCorrection),
}

/// The desk's tallies, for [`OrderDesk::stats`].
#[derive(Default)]
struct Tally {
    refused_by_rule: BTreeMap<&'static str, u64>,
    refused_by_risk: u64,
    rate_waited: u64,
    reconcile_differences: u64,
    unknown_fills: u64,
    unknown_events: u64,
    bad_events: u64,
    early_events: u64,
}

/// See the module docs.
pub struct OrderDesk {
    /// How it was set up, for the tape (a replay builds the same desk from it).
    config: DeskConfig,
    risk: RiskLimits,
    /// Whether the driver journals: without a journal every event counts as durable.
    journaled: bool,
    /// Tickets given (appends asked for) and the highest the journal confirmed durable.
    appended: u64,
    durable: u64,
    /// What waits for its ticket to be durable, in order.
    pending: VecDeque<(u64, Held)>,
    /// Set when the journal failed: nothing more is sent.
    journal_failed: Option<String>,
    /// Set (to the free bytes) while the data directory's disk is low: no new entries.
    disk_low: Option<u64>,
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
    paced: VecDeque<(ClientOrderId, NewOrder)>,
    pacer_armed: bool,
    cancel_throttle: Throttle,
    cancels: VecDeque<(ClientOrderId, OrderNo, Ticker, Qty)>,
    cancels_armed: bool,
    /// Orders with a cancel queued or on its way: never asked twice at once.
    cancelling: HashSet<ClientOrderId>,
    /// Orders asked to cancel before the broker named them (a trip or shutdown while the
    /// REST reply was on its way): cancelled as soon as a reply, SC0 or reconciliation
    /// gives their number.
    cancel_when_named: HashSet<ClientOrderId>,
    /// Set at shutdown: no new order is sent.
    stopping: bool,
    /// Orders on their way: `OrderSent` journaled, the request waiting for it to be durable
    /// or for its reply. Not in doubt: reconciliation leaves them to their reply.
    sending: HashSet<ClientOrderId>,
    reconciling: bool,
    reconcile_again: bool,
    book: OrderBook,
    /// What our own fills hold, for the naked-sell rule. Opening cash is irrelevant to the
    /// gate, so it starts at 0 (the ledger allows negative cash: it records, it does not
    /// judge); positions held before the start come with [`RecoveredOrders`].
    ledger: Ledger,
    refs: HashMap<Ticker, Reference>,
    /// Buy intents waiting for their ticker's t1102 band, with when each arrived.
    awaiting_band: HashMap<Ticker, Vec<(OrderIntent, Instant)>>,
    /// Early events keyed by the order number they are for (ordered, so releasing them
    /// does not depend on hashing).
    parked: BTreeMap<OrderNo, Parked>,
    tally: Tally,
}

impl OrderDesk {
    /// A desk that places orders under `risk`, at LS's CSPAT00601 rate (10 a second,
    /// excess waits), without a journal, starting at client id 1.
    pub fn new(risk: RiskLimits) -> OrderDesk {
        OrderDesk {
            config: DeskConfig::new(risk),
            risk,
            journaled: false,
            appended: 0,
            durable: 0,
            pending: VecDeque::new(),
            journal_failed: None,
            disk_low: None,
            kill_switch: KillSwitch::default(),
            kill_switch_flatten: false,
            orders_today: 0,
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
            book: OrderBook::default(),
            ledger: Ledger::new(0),
            refs: HashMap::new(),
            awaiting_band: HashMap::new(),
            parked: BTreeMap::new(),
            tally: Tally::default(),
        }
    }

    /// Every event is journaled: what leaves waits for [`OrderDesk::journal_durable`].
    pub fn with_journal(mut self) -> OrderDesk {
        self.journaled = true;
        self.config.journaled = true;
        self
    }

    /// Starts client order ids at `first_id` (after a restart: past the journal's highest).
    pub fn with_first_client_id(mut self, first_id: u64) -> OrderDesk {
        self.book = OrderBook::starting_at(first_id);
        self.config.first_client_id = first_id;
        self
    }

    /// Carries on from the state rebuilt from the journal (and reconciled with the broker);
    /// a kill switch the journal had on is on again, as of `now`.
    pub fn with_recovered(mut self, r: RecoveredOrders, now: Stamp) -> OrderDesk {
        let orders = r.book.summary().orders;
        let positions = r.ledger.positions().filter(|(_, p)| !p.is_flat()).count();
        let mut carried = Vec::new();
        if orders > 0 {
            carried.push(format!("{orders} order(s)"));
        }
        if positions > 0 {
            carried.push(format!("{positions} position(s)"));
        }
        if r.orders_today > 0 {
            carried.push(format!("{} order(s) sent today", r.orders_today));
        }
        if r.kill_switch.is_some() {
            carried.push("the kill switch on".to_owned());
        }
        self.config.carried_over = (!carried.is_empty()).then(|| CarriedOver {
            what: carried.join(", "),
            journal_seq: r.journal_seq,
            day: now.day,
            unix_ms: now.unix_ms,
        });
        self.config.first_client_id = r.book.next_client_id().0;
        self.book = r.book;
        self.ledger = r.ledger;
        self.orders_today = r.orders_today;
        if let Some(cause) = r.kill_switch {
            self.kill_switch.trip(now.day, cause, now.unix_ms);
        }
        self
    }

    /// Sends at most `per_sec` orders in any second (with a margin against jitter);
    /// what is over it waits or is refused as `excess` says.
    pub fn with_order_rate(mut self, per_sec: u32, excess: RateExcess) -> OrderDesk {
        self.throttle = broker_throttle(per_sec);
        self.send_pacer = broker_throttle(per_sec);
        self.excess = excess;
        self.config.orders_per_sec = per_sec;
        self.config.excess = excess;
        self
    }

    /// Also sells every position at market when the kill switch trips.
    pub fn with_kill_switch_flatten(mut self, flatten: bool) -> OrderDesk {
        self.kill_switch_flatten = flatten;
        self.config.kill_switch_flatten = flatten;
        self
    }

    // ---- what the driver may read ----

    /// How it was set up (for the tape).
    pub fn config(&self) -> &DeskConfig {
        &self.config
    }

    /// Effects (fills, order ends) held until what was journaled before them is durable,
    /// or account events parked until the reply that names their order: anything the
    /// broker says after those must wait for them too.
    pub fn holds_effects(&self) -> bool {
        !self.pending.is_empty() || !self.parked.is_empty()
    }

    /// Order numbers with account events parked, waiting for the reply that names them.
    pub fn parked(&self) -> usize {
        self.parked.len()
    }

    /// The day's orders, working and final.
    pub fn book(&self) -> &OrderBook {
        &self.book
    }

    pub fn risk(&self) -> &RiskLimits {
        &self.risk
    }

    pub fn kill_switch(&self) -> &KillSwitch {
        &self.kill_switch
    }

    /// Orders sent today, restarts included.
    pub fn orders_today(&self) -> u64 {
        self.orders_today
    }

    /// Orders per window and what an intent over it does.
    pub fn order_rate(&self) -> (u32, RateExcess) {
        (self.throttle.per_window(), self.excess)
    }

    /// Journal appends asked for so far.
    pub fn journaled(&self) -> u64 {
        self.appended
    }

    /// Intents refused by `rule` so far.
    pub fn refused_by(&self, rule: &str) -> u64 {
        self.tally.refused_by_rule.get(rule).copied().unwrap_or(0)
    }

    /// The day's figures as of `day` (for the kill switch). The latency fields are the
    /// driver's to fill: it times the commands it carries out.
    pub fn stats(&self, day: TradingDay) -> OrderStats {
        let s = self.book.summary();
        let t = &self.tally;
        OrderStats {
            orders: s.orders,
            working: s.working,
            fills: s.fills,
            filled: s.filled,
            cancelled: s.cancelled,
            rejected: s.rejected,
            refused_by_risk: t.refused_by_risk,
            unknown_fills: t.unknown_fills,
            unknown_events: t.unknown_events,
            bad_events: t.bad_events,
            early_events: t.early_events,
            rate_waited: t.rate_waited,
            kill_switch_on: self.kill_switch.is_on(day),
            reconcile_differences: t.reconcile_differences,
            in_doubt: self
                .book
                .working()
                .filter(|o| o.state() == OrderState::Sent)
                .count() as u64,
            journaled: self.appended,
            ..OrderStats::default()
        }
    }

    // ---- inputs ----

    /// The driver started: orders the journal left in doubt are asked about at once.
    pub fn start(&mut self, out: &mut Vec<Command>) {
        if self.in_flight() {
            self.start_reconcile(out);
        }
    }

    /// A strategy's intent, arrived at `now`.
    pub fn intent(&mut self, intent: OrderIntent, now: Stamp, out: &mut Vec<Command>) {
        let ticker = intent.ticker;
        // A buy needs the day's band: it bounds a market buy's notional and checks a limit
        // price. Fetched once per ticker; buys queue behind the fetch in arrival order.
        // Sells never wait: an exit must not be delayed by a price query.
        let needs_band =
            intent.side == Side::Buy && self.refs.get(&ticker).is_none_or(|r| r.limits.is_none());
        if !needs_band {
            self.submit(intent, now.at, now, out);
            return;
        }
        match self.awaiting_band.get_mut(&ticker) {
            Some(queue) => queue.push((intent, now.at)),
            None => {
                self.awaiting_band.insert(ticker, vec![(intent, now.at)]);
                out.push(Command::FetchBand(ticker));
            }
        }
    }

    /// `ticker`'s band, or `None` when it could not be had (the driver logged why): the
    /// buys that waited for it go on either way. Without a band the gate still runs: a
    /// limit is checked against the grid, a market buy against the last price or refused
    /// for want of one.
    pub fn band(&mut self, ticker: Ticker, band: Option<Band>, now: Stamp, out: &mut Vec<Command>) {
        if let Some(b) = band {
            let entry = self.refs.entry(ticker).or_default();
            entry.limits = Some(b.limits);
            if b.last.is_some() {
                entry.last = b.last;
            }
        }
        for (intent, received) in self.awaiting_band.remove(&ticker).unwrap_or_default() {
            self.submit(intent, received, now, out);
        }
    }

    /// The broker's answer to order `id`'s CSPAT00601.
    pub fn order_reply(
        &mut self,
        id: ClientOrderId,
        reply: OrderReply,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        self.sending.remove(&id);
        match reply {
            OrderReply::Acked { order_no, code } => {
                log::debug!(target: LOG, "{id} acked as #{order_no} [{code}]");
                let result = self.book.acked(id, order_no, now.at);
                if matches!(result, Ok(Transition::Applied { .. })) {
                    self.journal(JournalEvent::Acked { id: id.0, order_no }, out);
                }
                self.after(id, "REST ack", result, now, out);
                // SC0/SC1 that beat this reply were parked under this number.
                self.unpark(order_no, now, out);
            }
            OrderReply::AckedWithoutNumber { code, message } => {
                // The broker said yes without a number to follow the order by: it may be
                // working. In doubt: the broker's order list will name it.
                log::warn!(target: LOG, "{id} accepted [{code}] {} but the reply has no order number: in doubt, asking the broker", message.trim());
                self.in_doubt(id, "accepted without an order number".to_owned(), out);
            }
            OrderReply::Rejected { code, message } => {
                log::warn!(target: LOG, "{id} {} rejected by the broker: [{code}] {}", self.describe(id), message.trim());
                self.reject(id, &code, message.trim(), "REST reject", now, out);
            }
            // A gateway refusal (rate limit, token) is the gateway's answer: the order never
            // reached the order system.
            OrderReply::GatewayRefused { code, message } => {
                log::warn!(target: LOG, "{id} {} refused by the gateway: [{code}] {message}", self.describe(id));
                self.reject(id, &code, message.trim(), "gateway refusal", now, out);
            }
            // Lost in transit, timed out, or an unreadable answer: the request may have
            // reached the broker and be working. Never resent: asked about.
            OrderReply::Lost { error } => {
                log::warn!(target: LOG, "{id} {} send failed: {error}; in doubt, asking the broker", self.describe(id));
                self.in_doubt(id, error, out);
            }
        }
        self.release_strangers_if_idle();
    }

    /// The broker's answer to the cancel of order `id`.
    pub fn cancel_reply(&mut self, id: ClientOrderId, reply: CancelReply) {
        match reply {
            CancelReply::Accepted { order_no } => {
                log::info!(target: LOG, "{id} cancel accepted as #{order_no}")
            }
            // Refused (often: it filled first) or lost: the order may be asked to cancel
            // again; its own events say how it ended.
            CancelReply::Refused { code, message } => {
                self.cancelling.remove(&id);
                log::warn!(target: LOG, "{id} cancel refused: [{code}] {}", message.trim())
            }
            CancelReply::Failed { error } => {
                self.cancelling.remove(&id);
                log::warn!(target: LOG, "{id} cancel failed: {error}")
            }
        }
    }

    /// One SC0–SC4 event from the account feed.
    pub fn account_event(&mut self, event: AccountEvent, now: Stamp, out: &mut Vec<Command>) {
        self.route(event, true, now, out);
    }

    /// A timer the desk asked for (or the driver's park sweep) went off.
    pub fn timer(&mut self, timer: Timer, now: Stamp, out: &mut Vec<Command>) {
        match timer {
            Timer::OrderRate => {
                self.throttle_armed = false;
                self.drain_throttled(now, out);
            }
            Timer::SendPace => {
                self.pacer_armed = false;
                self.drain_paced(now, out);
            }
            Timer::Cancels => {
                self.cancels_armed = false;
                self.drain_cancels(now, out);
            }
            Timer::Reconcile => self.start_reconcile(out),
            Timer::ParkSweep => self.sweep_parked(now),
        }
    }

    /// The journal has everything up to `ticket`: what waited for it goes, in order.
    pub fn journal_durable(&mut self, ticket: u64, now: Stamp, out: &mut Vec<Command>) {
        self.durable = self.durable.max(ticket);
        self.release_durable(now, out);
    }

    /// The journal failed (`why`): nothing is sent from now on, and nothing more will be
    /// confirmed, so what waited is released (its sends refused).
    pub fn journal_failed(&mut self, why: String, now: Stamp, out: &mut Vec<Command>) {
        if self.journal_failed.is_none() {
            log::error!(target: LOG, "{why}: no order is sent from now on; fills still reach the Portfolio");
            self.journal_failed = Some(why);
        }
        self.durable = self.appended;
        self.release_durable(now, out);
    }

    /// The data directory's disk is low (`free_bytes` under `CONDOR_DISK_LOW`): buys are
    /// refused by `disk_space` until it is back. Sells and cancels still go: an exit must
    /// never wait for disk space, and the journal's reserve is there for them.
    pub fn disk_space(&mut self, low: bool, free_bytes: u64) {
        match (low, self.disk_low.is_some()) {
            (true, false) => {
                log::warn!(target: LOG, "disk space low ({free_bytes} bytes free): no new entries; exits and cancels still go")
            }
            (false, true) => {
                log::info!(target: LOG, "disk space back ({free_bytes} bytes free): entries resume")
            }
            _ => {}
        }
        self.disk_low = low.then_some(free_bytes);
    }

    /// Whether new entries are stopped for want of disk space.
    pub fn disk_low(&self) -> bool {
        self.disk_low.is_some()
    }

    /// The broker's account feed is (re)registered: with anything working, events may have
    /// been missed, so the broker's order list is asked.
    pub fn account_feed_up(&mut self, out: &mut Vec<Command>) {
        // With nothing working, nothing of ours can have changed at the broker.
        if self.book.working().next().is_some() {
            self.start_reconcile(out);
        }
    }

    /// The broker's orders of the day (t0425), or why they could not be read.
    pub fn broker_orders(
        &mut self,
        orders: Result<Vec<BrokerOrder>, String>,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        self.reconciling = false;
        match orders {
            Ok(orders) => self.reconcile_with(&orders, now, out),
            Err(e) => {
                log::warn!(target: LOG, "cannot read the broker's orders (t0425): {e}; trying again in {}s", RECONCILE_RETRY.as_secs());
                out.push(Command::Wake {
                    timer: Timer::Reconcile,
                    after: RECONCILE_RETRY,
                });
                return;
            }
        }
        if std::mem::take(&mut self.reconcile_again) {
            self.start_reconcile(out);
        }
    }

    /// The Portfolio's cash (`ours`, behind every fill forwarded before the check) and the
    /// broker's: the broker's is taken when they differ and no order is working (a working
    /// order's fills may be counted on one side and not yet on the other).
    pub fn cash(&mut self, ours: i64, broker: i64, now: Stamp, out: &mut Vec<Command>) {
        if ours == broker || self.book.working().next().is_some() {
            return;
        }
        self.tally.reconcile_differences += 1;
        log::warn!(target: LOG, "reconciliation: cash {ours} won here, {broker} won at the broker: taking the broker's");
        self.journal(
            JournalEvent::CashCorrected {
                journal: ours,
                broker,
            },
            out,
        );
        self.effect(
            Held::CorrectCash(CashCorrection {
                expected: ours,
                broker,
            }),
            now,
            out,
        );
    }

    /// The kill switch trips for `cause`: no new buys today; buys waiting are refused or
    /// withdrawn, working orders cancelled, and with flatten on, every position sold.
    pub fn trip(&mut self, cause: TripCause, now: Stamp, out: &mut Vec<Command>) {
        if !self.kill_switch.trip(now.day, cause.clone(), now.unix_ms) {
            return;
        }
        out.push(Command::Tripped(cause.clone()));
        self.journal(JournalEvent::KillSwitchTripped { cause }, out);
        // Buys waiting for the rate are refused now (the gate says why); sells keep their
        // place in the queue.
        let waiting: Vec<(OrderIntent, Instant)> = self.throttled.drain(..).collect();
        for (intent, received) in waiting {
            match intent.side {
                Side::Buy => self.place(intent, received, now, out),
                Side::Sell => self.throttled.push_back((intent, received)),
            }
        }
        // Buys already granted but waiting for the send rate are withdrawn now; those
        // waiting for the journal are withdrawn when it syncs.
        let paced: Vec<(ClientOrderId, NewOrder)> = self.paced.drain(..).collect();
        for (id, order) in paced {
            if !self.withdrawn_by_kill_switch(id, now, out) {
                self.paced.push_back((id, order));
            }
        }
        self.cancel_all_working(now, out);
        if self.kill_switch_flatten {
            let mut held: Vec<(Ticker, Qty)> = self
                .ledger
                .positions()
                .filter(|(_, p)| !p.is_flat())
                .map(|(t, p)| (t, p.qty))
                .collect();
            held.sort_unstable_by_key(|(t, _)| *t);
            for (ticker, qty) in held {
                let selling = self.book.working_qty(ticker, Side::Sell);
                let qty = qty.saturating_sub(selling);
                if qty.is_zero() {
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
                self.submit(intent, now.at, now, out);
            }
        }
    }

    /// Shutdown: no new order from now on. Intents waiting for the order rate are refused
    /// now; those waiting for a price band are refused when it arrives. Returns how many
    /// were refused now.
    pub fn stop(&mut self, now: Stamp, out: &mut Vec<Command>) -> usize {
        self.stopping = true;
        let waiting: Vec<(OrderIntent, Instant)> = self.throttled.drain(..).collect();
        let n = waiting.len();
        for (intent, received) in waiting {
            self.place(intent, received, now, out);
        }
        log::info!(target: LOG, "no new orders from now on ({n} waiting intent(s) refused); {} order(s) working", self.book.working().count());
        n
    }

    /// Queues a cancel of the remainder of every working order that has a number (in
    /// client id order); one without a number yet is cancelled once the broker names it.
    /// Returns how many cancels were queued.
    pub fn cancel_all_working(&mut self, now: Stamp, out: &mut Vec<Command>) -> usize {
        let mut targets = Vec::new();
        let mut unnamed = Vec::new();
        for o in self.book.working() {
            if self.cancelling.contains(&o.id()) {
                continue; // its cancel is queued or on its way
            }
            match o.order_no() {
                Some(n) if o.remaining().shares() > 0 => {
                    targets.push((o.id(), n, o.ticker(), o.remaining()))
                }
                Some(_) => {}
                None => unnamed.push((o.id(), o.ticker())),
            }
        }
        targets.sort_unstable_by_key(|t| t.0);
        unnamed.sort_unstable_by_key(|u| u.0);
        for (id, ticker) in unnamed {
            if self.cancel_when_named.insert(id) {
                log::info!(target: LOG, "{id} {ticker} has no order number yet: cancelled once the broker names it");
            }
        }
        let n = targets.len();
        self.cancelling.extend(targets.iter().map(|t| t.0));
        self.cancels.extend(targets);
        self.drain_cancels(now, out);
        n
    }

    // ---- the journal ----

    /// Journals `event` under the next ticket.
    fn journal(&mut self, event: JournalEvent, out: &mut Vec<Command>) {
        let ticket = if self.journaled {
            self.appended += 1;
            self.appended
        } else {
            0
        };
        out.push(Command::Journal { ticket, event });
    }

    /// Lets `held` out once everything journaled so far is durable, after earlier ones.
    fn effect(&mut self, held: Held, now: Stamp, out: &mut Vec<Command>) {
        if self.pending.is_empty() && self.durable >= self.appended {
            self.release(held, now, out);
        } else {
            self.pending.push_back((self.appended, held));
        }
    }

    fn release_durable(&mut self, now: Stamp, out: &mut Vec<Command>) {
        while self
            .pending
            .front()
            .is_some_and(|(t, _)| *t <= self.durable)
        {
            if let Some((_, held)) = self.pending.pop_front() {
                self.release(held, now, out);
            }
        }
    }

    fn release(&mut self, held: Held, now: Stamp, out: &mut Vec<Command>) {
        match held {
            Held::Send { id, order } => self.send_durable(id, order, now, out),
            Held::Fill(fill) => out.push(Command::Fill(fill)),
            Held::Done(done) => out.push(Command::Done(done)),
            Held::CheckCash => out.push(Command::CheckCash),
            Held::CorrectCash(c) => out.push(Command::CorrectCash(c)),
        }
    }

    // ---- intents ----

    /// An intent that arrived at `received`: in arrival order behind any that wait for the
    /// order rate, then the gate, then the rate.
    fn submit(
        &mut self,
        intent: OrderIntent,
        received: Instant,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        if !self.throttled.is_empty() {
            self.throttled.push_back((intent, received));
            return;
        }
        self.place(intent, received, now, out);
    }

    /// Refuses `intent` by `rule`: told, journaled, counted, and the strategy told it is
    /// done.
    fn refuse(
        &mut self,
        intent: &OrderIntent,
        rule: &'static str,
        detail: String,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        let n = self.tally.refused_by_rule.entry(rule).or_default();
        *n += 1;
        let count = *n;
        self.tally.refused_by_risk += 1;
        out.push(Command::Refused(Refusal {
            intent: intent.clone(),
            rule,
            detail: detail.clone(),
            count,
        }));
        self.journal(
            JournalEvent::Refused {
                ticker: intent.ticker,
                side: intent.side,
                qty: intent.qty,
                order_type: intent.order_type,
                rule: rule.to_owned(),
                detail,
                reason: intent.reason.to_owned(),
            },
            out,
        );
        self.effect(
            Held::Done(OrderDone {
                id: None,
                ticker: intent.ticker,
                side: intent.side,
                filled: Qty::lit(0),
                rejected: true,
            }),
            now,
            out,
        );
    }

    /// Runs the gate and the order rate on `intent`, and opens and sends it if both pass.
    fn place(
        &mut self,
        intent: OrderIntent,
        received: Instant,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        let ticker = intent.ticker;
        if self.stopping {
            let detail = "condor is stopping: no new order is sent".to_owned();
            self.refuse(&intent, "shutdown", detail, now, out);
            return;
        }
        if let Some(why) = &self.journal_failed {
            let detail =
                format!("the journal failed ({why}): nothing is sent until condor restarts");
            self.refuse(&intent, "journal", detail, now, out);
            return;
        }
        if let (Some(free), Side::Buy) = (self.disk_low, intent.side) {
            let detail = format!(
                "the data directory's disk has {} free, under CONDOR_DISK_LOW: no new entries until space is back",
                ByteSize(free)
            );
            self.refuse(&intent, "disk_space", detail, now, out);
            return;
        }
        let reference = self.refs.get(&ticker).copied().unwrap_or_default();
        let view = risk::GateView {
            last_price: reference.last,
            band: reference.limits.as_ref(),
            ledger: &self.ledger,
            book: &self.book,
            orders_today: u32::try_from(self.orders_today).unwrap_or(u32::MAX),
            kill_switch_on: self.kill_switch.is_on(now.day),
        };
        if let Err(refusal) = risk::check(&intent, &view, &self.risk) {
            self.refuse(&intent, refusal.rule(), refusal.to_string(), now, out);
            return;
        }
        if let Err(wait) = self.throttle.try_acquire(now.at) {
            match self.excess {
                RateExcess::Refuse => {
                    let detail = format!(
                        "{} orders already sent in the last {} ms (CONDOR_ORDERS_PER_SEC)",
                        self.throttle.per_window(),
                        self.throttle.window().as_millis()
                    );
                    self.refuse(&intent, "order_rate", detail, now, out);
                }
                RateExcess::Queue => {
                    self.tally.rate_waited += 1;
                    log::debug!(target: LOG, "{ticker} intent waits {}µs for the order rate", wait.as_micros());
                    self.throttled.push_front((intent, received));
                    if !self.throttle_armed {
                        self.throttle_armed = true;
                        out.push(Command::Wake {
                            timer: Timer::OrderRate,
                            after: wait,
                        });
                    }
                }
            }
            return;
        }
        let id = match self.book.open(&intent, received) {
            Ok(id) => id,
            Err(e) => {
                self.refuse(&intent, "order_book", e.to_string(), now, out);
                return;
            }
        };
        let order = NewOrder {
            ticker,
            side: intent.side,
            qty: intent.qty,
            order_type: intent.order_type,
        };
        // A New order always accepts `sent`; an error here would be a bug in the book.
        if let Err(e) = self.book.sent(id, now.at) {
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
            out,
        );
        self.effect(Held::Send { id, order }, now, out);
    }

    /// Order `id`'s `OrderSent` is durable: it goes now if the journal is sound, the kill
    /// switch lets it and the send pacer allows; else it waits for the pacer, in order.
    fn send_durable(
        &mut self,
        id: ClientOrderId,
        order: NewOrder,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        if let Some(why) = &self.journal_failed {
            log::error!(target: LOG, "{id} not sent: the journal failed ({why})");
            self.sending.remove(&id);
            let result = self.book.rejected(
                id,
                LOCAL_SEND_FAILED,
                "not sent: the journal failed",
                now.at,
            );
            self.after(id, "journal failure", result, now, out);
            return;
        }
        if self.withdrawn_by_kill_switch(id, now, out) {
            return;
        }
        if self.paced.is_empty() && self.send_pacer.try_acquire(now.at).is_ok() {
            self.send_order(id, order, now, out);
        } else {
            self.paced.push_back((id, order));
            self.drain_paced(now, out);
        }
    }

    /// The REST call of a new order.
    fn send_order(
        &mut self,
        id: ClientOrderId,
        order: NewOrder,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        let waited = self
            .book
            .get(id)
            .map(|o| now.at.saturating_duration_since(o.intent_at()));
        out.push(Command::Send { id, order, waited });
    }

    /// A buy not yet on the wire when the kill switch is on is never sent: it ends
    /// `rejected` here, journaled, with the reason. Sells still go (they reduce exposure).
    fn withdrawn_by_kill_switch(
        &mut self,
        id: ClientOrderId,
        now: Stamp,
        out: &mut Vec<Command>,
    ) -> bool {
        if !self.kill_switch.is_on(now.day)
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
            now,
            out,
        );
        true
    }

    /// Sends paced orders while the rate allows, in order; wakes when it next will.
    fn drain_paced(&mut self, now: Stamp, out: &mut Vec<Command>) {
        while !self.paced.is_empty() {
            match self.send_pacer.try_acquire(now.at) {
                Ok(()) => {
                    if let Some((id, order)) = self.paced.pop_front() {
                        if !self.withdrawn_by_kill_switch(id, now, out) {
                            self.send_order(id, order, now, out);
                        }
                    }
                }
                Err(wait) => {
                    if !self.pacer_armed {
                        self.pacer_armed = true;
                        out.push(Command::Wake {
                            timer: Timer::SendPace,
                            after: wait,
                        });
                    }
                    return;
                }
            }
        }
    }

    /// Places waiting intents while the rate allows, in arrival order.
    fn drain_throttled(&mut self, now: Stamp, out: &mut Vec<Command>) {
        while let Some((intent, received)) = self.throttled.pop_front() {
            let before = self.throttled.len();
            self.place(intent, received, now, out);
            if self.throttled.len() > before {
                return; // it went back to the front: the rate is full again, timer armed
            }
        }
    }

    fn reject(
        &mut self,
        id: ClientOrderId,
        code: &str,
        message: &str,
        event: &'static str,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        let result = self.book.rejected(id, code, message, now.at);
        if matches!(result, Ok(Transition::Applied { .. })) {
            self.journal(
                JournalEvent::Rejected {
                    id: id.0,
                    code: code.to_owned(),
                    message: message.to_owned(),
                },
                out,
            );
        }
        self.after(id, event, result, now, out);
    }

    /// `id` was sent but its fate is unknown: journaled as such, then asked about.
    fn in_doubt(&mut self, id: ClientOrderId, error: String, out: &mut Vec<Command>) {
        self.journal(JournalEvent::SendUnknown { id: id.0, error }, out);
        out.push(Command::Wake {
            timer: Timer::Reconcile,
            after: IN_DOUBT_ASK_AFTER,
        });
    }

    // ---- reconciliation while running ----

    fn start_reconcile(&mut self, out: &mut Vec<Command>) {
        if self.reconciling {
            self.reconcile_again = true;
            return;
        }
        self.reconciling = true;
        out.push(Command::FetchOrders);
    }

    /// Brings our orders to the broker's list: names the ones in doubt, books fills and
    /// cancels missed during a gap. Each difference is logged at warn and counted.
    fn reconcile_with(&mut self, orders: &[BrokerOrder], now: Stamp, out: &mut Vec<Command>) {
        let outcome = reconcile_orders_while_sending(&self.book, orders, now.time, &self.sending);
        for d in &outcome.differences {
            // A stranger's order is not ours to reconcile; it is only noted.
            if d.kind() == "not_ours" {
                log::debug!(target: LOG, "reconciliation: {d}");
                continue;
            }
            self.tally.reconcile_differences += 1;
            log::warn!(target: LOG, "reconciliation: {d}");
        }
        let mut fills_learned = false;
        for event in outcome.events {
            let order_no = event.order_no();
            match apply_to_book(&mut self.book, &event, now.at) {
                Ok(Some(change)) => {
                    fills_learned |= matches!(event, JournalEvent::Filled { .. });
                    self.journal(event, out);
                    self.changed(change, now, out);
                    if let Some(n) = order_no.filter(|n| n.is_some()) {
                        self.unpark(n, now, out);
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.tally.bad_events += 1;
                    log::warn!(target: LOG, "reconciliation event refused by the order state machine: {e} ({event})");
                }
            }
        }
        if fills_learned {
            self.effect(Held::CheckCash, now, out);
        }
        if self
            .book
            .working()
            .any(|o| o.state() == OrderState::Sent && !self.sending.contains(&o.id()))
        {
            // Still in doubt (the broker may not list it yet): ask again later.
            out.push(Command::Wake {
                timer: Timer::Reconcile,
                after: RECONCILE_RETRY,
            });
        }
        self.release_strangers_if_idle();
    }

    /// Follows up a change the book accepted: a new fill is booked and forwarded, a final
    /// state ends the order.
    fn changed(&mut self, change: BookChange, now: Stamp, out: &mut Vec<Command>) {
        if let Some(fill) = change.fill {
            self.forward_fill(fill, now, out);
        }
        if change.finished() {
            self.finish(change.id, now, out);
        } else if self.cancel_when_named.contains(&change.id) {
            self.cancel_named(change.id, now, out);
        }
    }

    // ---- account events ----

    /// True while any order awaits its REST reply: an unknown order number may be its.
    fn in_flight(&self) -> bool {
        self.book.working().any(|o| o.state() == OrderState::Sent)
    }

    /// Routes one SC0–SC4 event to its order; parks it if its order may not have its number
    /// yet (`may_park`), else it is a stranger's.
    fn route(&mut self, event: AccountEvent, may_park: bool, now: Stamp, out: &mut Vec<Command>) {
        let key = match &event {
            AccountEvent::Accepted {
                org_order_no,
                order_no,
                ..
            } => {
                if org_order_no.is_some() {
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
                if org_order_no.is_some() {
                    // A refused modify/cancel: the original order is unchanged.
                    log::warn!(target: LOG, "SC4: request #{order_no} on #{org_order_no} refused [{code}]");
                    return;
                }
                if order_no.is_none() {
                    // A new order refused before it got a number: its REST reply says so.
                    log::debug!(target: LOG, "SC4 without an order number [{code}]");
                    return;
                }
                *order_no
            }
        };
        match self.book.id_by_order_no(key) {
            Some(id) => self.apply_event(id, event, now, out),
            None if may_park && self.in_flight() => {
                log::debug!(target: LOG, "event for #{key} before its REST reply: parked");
                self.parked
                    .entry(key)
                    .or_insert_with(|| Parked {
                        since: now.at,
                        events: Vec::new(),
                    })
                    .events
                    .push(event);
            }
            None => self.stranger(key, &event),
        }
    }

    fn apply_event(
        &mut self,
        id: ClientOrderId,
        event: AccountEvent,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
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
                self.tally.bad_events += 1;
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
        match apply_to_book(&mut self.book, &journaled, now.at) {
            Ok(Some(change)) => match change.transition {
                Transition::Applied { from, to } => {
                    log::debug!(target: LOG, "{id} {what}: {from} → {to}");
                    self.journal(journaled, out);
                    self.changed(change, now, out);
                }
                Transition::Duplicate => {
                    log::debug!(target: LOG, "{id} {what}: already known");
                }
            },
            Ok(None) => {}
            Err(e) => {
                self.tally.bad_events += 1;
                log::warn!(target: LOG, "{what} refused by the order state machine: {e} (bad event #{})", self.tally.bad_events);
            }
        }
    }

    /// Books a new fill of ours into the gate's view and forwards it once journaled.
    fn forward_fill(&mut self, fill: Fill, now: Stamp, out: &mut Vec<Command>) {
        // Fee 0: the gate only needs quantities from this ledger.
        if let Err(e) = self.ledger.apply_fill(&fill, 0) {
            log::warn!(target: LOG, "{} fill of order #{} not in the risk view: {e}", fill.ticker, fill.order_no);
        }
        self.refs.entry(fill.ticker).or_default().last = Some(fill.price);
        self.effect(Held::Fill(fill), now, out);
    }

    /// An event for an order number that is not ours (or whose REST reply never named it).
    fn stranger(&mut self, key: OrderNo, event: &AccountEvent) {
        if let AccountEvent::Filled {
            exec_no,
            ticker,
            side,
            qty,
            price,
            ..
        } = event
        {
            self.tally.unknown_fills += 1;
            log::warn!(
                target: LOG,
                "SC1 fill for unknown order #{key}: {ticker} {} {qty} @ {price} (exec #{exec_no}); not placed by this engine, not booked (unknown fill #{})",
                side_word(*side),
                self.tally.unknown_fills
            );
        } else {
            self.tally.unknown_events += 1;
            log::info!(target: LOG, "account event for unknown order #{key} ignored: {event:?}");
        }
    }

    /// Re-applies the events that waited for `order_no`, in arrival order.
    fn unpark(&mut self, order_no: OrderNo, now: Stamp, out: &mut Vec<Command>) {
        if let Some(p) = self.parked.remove(&order_no) {
            self.tally.early_events += p.events.len() as u64;
            for event in p.events {
                self.route(event, false, now, out);
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
    fn sweep_parked(&mut self, now: Stamp) {
        let old: Vec<OrderNo> = self
            .parked
            .iter()
            .filter(|(_, p)| now.at.saturating_duration_since(p.since) >= PARK_TTL)
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

    // ---- cancels ----

    /// Cancels `id`, which waited for its number, once it has one.
    fn cancel_named(&mut self, id: ClientOrderId, now: Stamp, out: &mut Vec<Command>) {
        let Some(o) = self.book.get(id) else {
            return;
        };
        let (Some(order_no), remaining, ticker) = (o.order_no(), o.remaining(), o.ticker()) else {
            return;
        };
        self.cancel_when_named.remove(&id);
        if remaining.shares() == 0 || !self.cancelling.insert(id) {
            return;
        }
        log::info!(target: LOG, "{id} {ticker} named #{order_no}: sending the cancel it waited for");
        self.cancels.push_back((id, order_no, ticker, remaining));
        self.drain_cancels(now, out);
    }

    /// Sends queued cancels as fast as CSPAT00801's limit allows.
    fn drain_cancels(&mut self, now: Stamp, out: &mut Vec<Command>) {
        while let Some(&(id, order_no, ticker, qty)) = self.cancels.front() {
            if let Err(wait) = self.cancel_throttle.try_acquire(now.at) {
                if !self.cancels_armed {
                    self.cancels_armed = true;
                    out.push(Command::Wake {
                        timer: Timer::Cancels,
                        after: wait,
                    });
                }
                return;
            }
            self.cancels.pop_front();
            if self.book.get(id).is_none_or(|o| o.state().is_final()) {
                continue; // it ended while its cancel waited
            }
            log::info!(target: LOG, "{id} {ticker} #{order_no}: cancelling the remaining {qty}");
            out.push(Command::Cancel {
                id,
                order_no,
                ticker,
                qty,
            });
        }
    }

    // ---- outcomes ----

    /// Logs what an event did; a final state ends the order.
    fn after(
        &mut self,
        id: ClientOrderId,
        event: &'static str,
        result: Result<Transition, BookError>,
        now: Stamp,
        out: &mut Vec<Command>,
    ) {
        match result {
            Ok(Transition::Applied { from, to }) => {
                log::debug!(target: LOG, "{id} {event}: {from} → {to}");
                if to.is_final() && !from.is_final() {
                    self.finish(id, now, out);
                } else if self.cancel_when_named.contains(&id) {
                    self.cancel_named(id, now, out);
                }
            }
            Ok(Transition::Duplicate) => {
                log::debug!(target: LOG, "{id} {event}: already known");
            }
            Err(e) => {
                self.tally.bad_events += 1;
                log::warn!(target: LOG, "{event} refused by the order state machine: {e} (bad event #{})", self.tally.bad_events);
            }
        }
    }

    /// The order reached a final state: told as it ended, and to the strategy once durable.
    fn finish(&mut self, id: ClientOrderId, now: Stamp, out: &mut Vec<Command>) {
        self.cancelling.remove(&id);
        self.cancel_when_named.remove(&id);
        let Some(o) = self.book.get(id) else {
            return;
        };
        let done = OrderDone {
            id: Some(id),
            ticker: o.ticker(),
            side: o.side(),
            filled: o.filled_qty(),
            rejected: o.state() == OrderState::Rejected,
        };
        out.push(Command::Finished(Box::new(o.clone())));
        self.effect(Held::Done(done), now, out);
    }

    /// "buy 10 005930" for log lines about `id`.
    fn describe(&self, id: ClientOrderId) -> String {
        self.book.get(id).map_or_else(String::new, |o| {
            format!("{} {} {}", o.ticker(), side_word(o.side()), o.qty())
        })
    }
}

/// True when an SC1 of `fill` shares, after which the broker has `left` of the order unfilled,
/// is already in our `filled` of `qty`: booking it would leave fewer unfilled than the
/// broker says. A fill learned from t0425 (which has no execution numbers) and then
/// reported by its SC1 is counted once.
fn already_counted(qty: Qty, filled: Qty, fill: Qty, left: Qty) -> bool {
    let unfilled = qty.shares().saturating_sub(filled.shares());
    unfilled < fill.shares().saturating_add(left.shares())
}

/// A throttle for a broker limit of `per_sec` (at least 1) with the default margin.
fn broker_throttle(per_sec: u32) -> Throttle {
    Throttle::for_broker_limit(per_sec.max(1), DEFAULT_MARGIN)
        .or_else(|_| Throttle::for_broker_limit(1, DEFAULT_MARGIN))
        .expect("a limit of one call a second with the default margin is valid")
}

/// "buy" or "sell", for log lines.
pub fn side_word(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// "at market" or "limit 10000", for log lines.
pub fn order_type_text(t: OrderType) -> String {
    match t {
        OrderType::Market => "at market".to_owned(),
        OrderType::Limit(p) => format!("limit {p}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ExecNo;

    const A: &str = "005930";
    const B: &str = "000660";

    fn t(code: &str) -> Ticker {
        Ticker::parse(code).unwrap()
    }

    /// Stamps `ms` after a fixed origin, on one trading day.
    struct Times(Instant);

    impl Times {
        fn new() -> Times {
            Times(Instant::now())
        }

        fn at(&self, ms: u64) -> Stamp {
            Stamp {
                at: self.0 + Duration::from_millis(ms),
                day: TradingDay::new(2026, 1, 5).unwrap(),
                time: TimeOfDay::hms(9, 30, 0),
                unix_ms: 1_767_571_200_000 + ms as i64,
            }
        }
    }

    fn buy(ticker: &str, qty: u64) -> OrderIntent {
        OrderIntent {
            ticker: t(ticker),
            side: Side::Buy,
            qty: Qty::lit(qty),
            order_type: OrderType::Limit(Price::lit(10_000)),
            reason: "entry: test",
            tick_seq: 7,
            tick_received_at: None,
        }
    }

    /// A desk that knows both tickers' band (base 10,000), so buys need no fetch.
    fn banded(desk: OrderDesk, times: &Times) -> OrderDesk {
        let mut desk = desk;
        let mut out = Vec::new();
        for code in [A, B] {
            let band = Band {
                limits: DailyLimits::from_base(Price::lit(10_000)),
                last: Some(Price::lit(10_000)),
            };
            desk.band(t(code), Some(band), times.at(0), &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
        desk
    }

    fn run(f: impl FnOnce(&mut Vec<Command>)) -> Vec<Command> {
        let mut out = Vec::new();
        f(&mut out);
        out
    }

    fn sends(out: &[Command]) -> Vec<ClientOrderId> {
        out.iter()
            .filter_map(|c| match c {
                Command::Send { id, .. } => Some(*id),
                _ => None,
            })
            .collect()
    }

    fn refusals(out: &[Command]) -> Vec<&'static str> {
        out.iter()
            .filter_map(|c| match c {
                Command::Refused(r) => Some(r.rule),
                _ => None,
            })
            .collect()
    }

    fn journaled(out: &[Command]) -> Vec<&JournalEvent> {
        out.iter()
            .filter_map(|c| match c {
                Command::Journal { event, .. } => Some(event),
                _ => None,
            })
            .collect()
    }

    fn fills(out: &[Command]) -> Vec<Fill> {
        out.iter()
            .filter_map(|c| match c {
                Command::Fill(f) => Some(*f),
                _ => None,
            })
            .collect()
    }

    fn dones(out: &[Command]) -> Vec<OrderDone> {
        out.iter()
            .filter_map(|c| match c {
                Command::Done(d) => Some(*d),
                _ => None,
            })
            .collect()
    }

    fn position(out: &[Command], what: impl Fn(&Command) -> bool) -> usize {
        out.iter()
            .position(what)
            .unwrap_or_else(|| panic!("not in {out:?}"))
    }

    fn sc1(order_no: i64, exec_no: i64, qty: u64, remaining: u64) -> AccountEvent {
        AccountEvent::Filled {
            order_no: OrderNo(order_no),
            exec_no: ExecNo(exec_no),
            ticker: t(A),
            side: Side::Buy,
            qty: Qty::lit(qty),
            price: Price::lit(10_000),
            remaining: Qty::lit(remaining),
            time: TimeOfDay::hms(9, 30, 1),
        }
    }

    fn acked(order_no: i64) -> OrderReply {
        OrderReply::Acked {
            order_no: OrderNo(order_no),
            code: "00040".to_owned(),
        }
    }

    /// A refusal is told with its rule, journaled, and reported done-and-rejected, never
    /// opened as an order.
    fn assert_refused(out: &[Command], rule: &str) {
        assert_eq!(refusals(out), [rule], "{out:?}");
        assert!(
            matches!(journaled(out)[..], [JournalEvent::Refused { rule: r, .. }] if r == rule),
            "{out:?}"
        );
        let done = dones(out);
        assert_eq!(done.len(), 1, "{out:?}");
        assert!(done[0].rejected && done[0].id.is_none() && done[0].filled == Qty::lit(0));
        assert!(sends(out).is_empty(), "{out:?}");
    }

    #[test]
    fn a_low_disk_refuses_buys_only_until_space_is_back() {
        use crate::trading::desk_tape::DeskInput;
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()).with_journal(), &times);
        // A position to exit.
        let out = run(|o| desk.intent(buy(A, 10), times.at(1), o));
        let ticket = journaled_tickets(&out);
        let out = run(|o| desk.journal_durable(ticket, times.at(2), o));
        let id = sends(&out)[0];
        let out = run(|o| desk.order_reply(id, acked(1), times.at(3), o));
        let t = journaled_tickets(&out);
        run(|o| desk.journal_durable(t, times.at(3), o));
        let out = run(|o| desk.account_event(sc1(1, 1, 10, 0), times.at(4), o));
        let t = journaled_tickets(&out);
        run(|o| desk.journal_durable(t, times.at(4), o));

        let out = run(|o| {
            desk.apply(
                DeskInput::DiskSpace {
                    low: true,
                    free_bytes: 1_000,
                },
                times.at(5),
                o,
            );
        });
        assert!(out.is_empty(), "{out:?}");
        assert!(desk.disk_low());
        let out = run(|o| desk.intent(buy(B, 10), times.at(6), o));
        // Journaled and told (its done waits for the journal, as every refusal's does).
        assert_eq!(refusals(&out), ["disk_space"], "{out:?}");
        assert!(
            matches!(journaled(&out)[..], [JournalEvent::Refused { rule, .. }] if rule == "disk_space"),
            "{out:?}"
        );
        assert!(sends(&out).is_empty(), "{out:?}");
        assert_eq!(desk.refused_by("disk_space"), 1);
        let t = journaled_tickets(&out);
        let out = run(|o| desk.journal_durable(t, times.at(6), o));
        assert!(
            dones(&out).iter().any(|d| d.rejected && d.id.is_none()),
            "{out:?}"
        );
        // The exit still goes once its OrderSent is durable.
        let mut sell = buy(A, 10);
        sell.side = Side::Sell;
        let out = run(|o| desk.intent(sell, times.at(7), o));
        assert!(refusals(&out).is_empty(), "{out:?}");
        assert!(
            sends(&out).is_empty(),
            "sent before it was journaled: {out:?}"
        );
        let t = journaled_tickets(&out);
        let out = run(|o| desk.journal_durable(t, times.at(8), o));
        assert_eq!(sends(&out).len(), 1, "{out:?}");

        // Back: entries go again.
        run(|o| {
            desk.apply(
                DeskInput::DiskSpace {
                    low: false,
                    free_bytes: 9_000,
                },
                times.at(9),
                o,
            );
        });
        assert!(!desk.disk_low());
        let out = run(|o| desk.intent(buy(B, 10), times.at(10), o));
        assert!(refusals(&out).is_empty(), "{out:?}");
        assert_eq!(desk.refused_by("disk_space"), 1);
    }

    /// The highest ticket `out` asked the journal for.
    fn journaled_tickets(out: &[Command]) -> u64 {
        out.iter()
            .filter_map(|c| match c {
                Command::Journal { ticket, .. } => Some(*ticket),
                _ => None,
            })
            .max()
            .unwrap_or_else(|| panic!("nothing journaled in {out:?}"))
    }

    #[test]
    fn each_refusal_names_its_rule_and_is_reported_done() {
        let times = Times::new();

        // The risk gate.
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        let out = run(|o| desk.intent(buy(A, 20_000), times.at(1), o));
        assert_refused(&out, "max_order_qty");
        assert_eq!(desk.refused_by("max_order_qty"), 1);
        assert_eq!(desk.book().summary().orders, 0);

        // The order rate, when its excess is refused.
        let mut desk = banded(
            OrderDesk::new(RiskLimits::default()).with_order_rate(1, RateExcess::Refuse),
            &times,
        );
        let out = run(|o| desk.intent(buy(A, 10), times.at(1), o));
        assert_eq!(sends(&out).len(), 1, "{out:?}");
        let out = run(|o| desk.intent(buy(B, 10), times.at(2), o));
        assert_refused(&out, "order_rate");

        // The kill switch (through the gate: buys only).
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        let cause = TripCause::Operator {
            note: "test".to_owned(),
        };
        let out = run(|o| desk.trip(cause, times.at(1), o));
        assert!(matches!(out[0], Command::Tripped(_)), "{out:?}");
        let out = run(|o| desk.intent(buy(A, 10), times.at(2), o));
        assert_refused(&out, "kill_switch");

        // A failed journal.
        let mut desk = banded(OrderDesk::new(RiskLimits::default()).with_journal(), &times);
        let out = run(|o| desk.journal_failed("disk full".to_owned(), times.at(1), o));
        assert!(out.is_empty(), "{out:?}");
        let out = run(|o| desk.intent(buy(A, 10), times.at(2), o));
        assert_eq!(refusals(&out), ["journal"], "{out:?}");
        assert!(sends(&out).is_empty());

        // Shutdown.
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        assert_eq!(run(|o| assert_eq!(desk.stop(times.at(1), o), 0)).len(), 0);
        let out = run(|o| desk.intent(buy(A, 10), times.at(2), o));
        assert_refused(&out, "shutdown");
        assert_eq!(desk.stats(times.at(2).day).refused_by_risk, 1);
    }

    #[test]
    fn an_intent_over_the_order_rate_waits_for_its_timer_then_goes() {
        let times = Times::new();
        let mut desk = banded(
            OrderDesk::new(RiskLimits::default()).with_order_rate(1, RateExcess::Queue),
            &times,
        );
        let first = run(|o| desk.intent(buy(A, 10), times.at(0), o));
        assert_eq!(sends(&first), [ClientOrderId(1)]);

        let second = run(|o| desk.intent(buy(B, 10), times.at(1), o));
        assert!(
            sends(&second).is_empty() && refusals(&second).is_empty(),
            "{second:?}"
        );
        let wait = match second[..] {
            [Command::Wake {
                timer: Timer::OrderRate,
                after,
            }] => after,
            _ => panic!("one wake for the order rate: {second:?}"),
        };
        // One window (1 s + the margin) after the first grant.
        assert_eq!(wait, Duration::from_millis(1_049));

        // A third waits behind it without a second timer.
        let third = run(|o| desk.intent(buy(A, 20), times.at(2), o));
        assert!(third.is_empty(), "{third:?}");

        // Too early: nothing goes, and the timer is asked again.
        let early = run(|o| desk.timer(Timer::OrderRate, times.at(500), o));
        assert!(sends(&early).is_empty(), "{early:?}");
        assert!(matches!(
            early[..],
            [Command::Wake {
                timer: Timer::OrderRate,
                ..
            }]
        ));

        let woke = run(|o| desk.timer(Timer::OrderRate, times.at(1_050), o));
        assert_eq!(sends(&woke), [ClientOrderId(2)], "{woke:?}");
        assert!(
            matches!(journaled(&woke)[..], [JournalEvent::OrderSent { id: 2, ticker, .. }] if *ticker == t(B)),
            "{woke:?}"
        );
        // The third is next, a window later.
        assert!(matches!(
            woke.last(),
            Some(Command::Wake {
                timer: Timer::OrderRate,
                ..
            })
        ));
        let last = run(|o| desk.timer(Timer::OrderRate, times.at(2_100), o));
        assert_eq!(sends(&last), [ClientOrderId(3)], "{last:?}");
        assert_eq!(desk.stats(times.at(0).day).rate_waited, 3);
    }

    #[test]
    fn an_order_opens_with_its_order_sent_and_goes_only_once_durable() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()).with_journal(), &times);
        let out = run(|o| desk.intent(buy(A, 10), times.at(3), o));
        match &out[..] {
            [Command::Journal {
                ticket: 1,
                event:
                    JournalEvent::OrderSent {
                        id: 1,
                        ticker,
                        side: Side::Buy,
                        qty,
                        order_type,
                        tick_seq: 7,
                        ..
                    },
            }] if (*qty, *order_type) == (Qty::lit(10), OrderType::Limit(Price::lit(10_000))) => {
                assert_eq!(*ticker, t(A))
            }
            _ => panic!("OrderSent journaled, nothing sent yet: {out:?}"),
        }
        assert_eq!(
            desk.book().get(ClientOrderId(1)).unwrap().state(),
            OrderState::Sent
        );
        assert_eq!(desk.orders_today(), 1);

        let out = run(|o| desk.journal_durable(1, times.at(5), o));
        match &out[..] {
            [Command::Send { id, order, waited }] => {
                assert_eq!(*id, ClientOrderId(1));
                assert_eq!(
                    order,
                    &NewOrder {
                        ticker: t(A),
                        side: Side::Buy,
                        qty: Qty::lit(10),
                        order_type: OrderType::Limit(Price::lit(10_000)),
                    }
                );
                assert_eq!(*waited, Some(Duration::from_millis(2)));
            }
            _ => panic!("the send, once durable: {out:?}"),
        }
        // Reported twice, sent once.
        assert!(run(|o| desk.journal_durable(1, times.at(6), o)).is_empty());
    }

    #[test]
    fn an_ack_then_a_fill_forwards_the_fill_then_the_done_once_durable() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()).with_journal(), &times);
        run(|o| desk.intent(buy(A, 10), times.at(0), o));
        run(|o| desk.journal_durable(1, times.at(1), o));

        let out = run(|o| desk.order_reply(ClientOrderId(1), acked(501), times.at(10), o));
        assert!(
            matches!(
                out[..],
                [Command::Journal {
                    ticket: 2,
                    event: JournalEvent::Acked {
                        id: 1,
                        order_no: OrderNo(501)
                    }
                }]
            ),
            "{out:?}"
        );
        let out = run(|o| desk.account_event(sc1(501, 1, 10, 0), times.at(20), o));
        // Journaled and finished, but nothing leaves before the journal has the fill.
        assert!(fills(&out).is_empty() && dones(&out).is_empty(), "{out:?}");
        assert!(matches!(
            journaled(&out)[..],
            [JournalEvent::Filled {
                id: 1,
                exec_no: ExecNo(1),
                ..
            }]
        ));
        assert!(out
            .iter()
            .any(|c| matches!(c, Command::Finished(o) if o.state() == OrderState::Filled)));

        let out = run(|o| desk.journal_durable(3, times.at(21), o));
        let fill = position(&out, |c| matches!(c, Command::Fill(_)));
        let done = position(&out, |c| matches!(c, Command::Done(_)));
        assert!(fill < done, "fills before done: {out:?}");
        assert_eq!(fills(&out)[0].qty, Qty::lit(10));
        assert_eq!(fills(&out)[0].order_no, OrderNo(501));
        assert_eq!(
            dones(&out),
            [OrderDone {
                id: Some(ClientOrderId(1)),
                ticker: t(A),
                side: Side::Buy,
                filled: Qty::lit(10),
                rejected: false,
            }]
        );
        assert_eq!(desk.stats(times.at(0).day).filled, 1);
    }

    #[test]
    fn an_early_fill_is_parked_and_delivered_when_the_reply_names_its_order() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        run(|o| desk.intent(buy(A, 10), times.at(0), o));

        // The websocket beat the REST reply.
        let out = run(|o| desk.account_event(sc1(777, 1, 10, 0), times.at(5), o));
        assert!(out.is_empty(), "parked, not a stranger's: {out:?}");
        assert_eq!(desk.stats(times.at(0).day).unknown_fills, 0);

        let out = run(|o| desk.order_reply(ClientOrderId(1), acked(777), times.at(9), o));
        let events = journaled(&out);
        assert!(
            matches!(
                events[..],
                [
                    JournalEvent::Acked {
                        id: 1,
                        order_no: OrderNo(777)
                    },
                    JournalEvent::Filled {
                        id: 1,
                        order_no: OrderNo(777),
                        ..
                    }
                ]
            ),
            "{out:?}"
        );
        assert_eq!(fills(&out).len(), 1, "{out:?}");
        assert_eq!(dones(&out).len(), 1, "{out:?}");
        let s = desk.stats(times.at(0).day);
        assert_eq!((s.early_events, s.unknown_fills, s.filled), (1, 0, 1));

        // With nothing in flight, a fill for an unknown number is a stranger's at once.
        let out = run(|o| desk.account_event(sc1(999, 1, 3, 0), times.at(20), o));
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(desk.stats(times.at(0).day).unknown_fills, 1);
    }

    #[test]
    fn a_parked_event_whose_reply_never_names_it_expires_as_a_strangers() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        run(|o| desk.intent(buy(A, 10), times.at(0), o));
        run(|o| desk.account_event(sc1(4242, 1, 10, 0), times.at(100), o));
        run(|o| desk.timer(Timer::ParkSweep, times.at(14_000), o));
        assert_eq!(desk.stats(times.at(0).day).unknown_fills, 0, "still young");
        let ttl_ms = PARK_TTL.as_millis() as u64;
        let out = run(|o| desk.timer(Timer::ParkSweep, times.at(100 + ttl_ms), o));
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(desk.stats(times.at(0).day).unknown_fills, 1);
        // Its order's reply, late, names another number: nothing of the stranger's is booked.
        let out = run(|o| desk.order_reply(ClientOrderId(1), acked(5), times.at(20_000), o));
        assert!(fills(&out).is_empty(), "{out:?}");
    }

    #[test]
    fn a_trip_cancels_working_orders_and_withdraws_an_unsent_buy() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()).with_journal(), &times);
        // A: sent and acked as #10, so working with a number.
        run(|o| desk.intent(buy(A, 10), times.at(0), o));
        run(|o| desk.journal_durable(1, times.at(1), o));
        run(|o| desk.order_reply(ClientOrderId(1), acked(10), times.at(2), o));
        run(|o| desk.journal_durable(2, times.at(3), o));
        // B: opened, its OrderSent not yet durable: not on the wire.
        let out = run(|o| desk.intent(buy(B, 5), times.at(4), o));
        assert!(sends(&out).is_empty(), "{out:?}");

        let cause = TripCause::LossLimit {
            pnl: -1_000_000,
            limit: 1_000_000,
        };
        let out = run(|o| desk.trip(cause.clone(), times.at(5), o));
        assert!(
            matches!(&out[0], Command::Tripped(c) if *c == cause),
            "{out:?}"
        );
        assert!(matches!(
            journaled(&out)[..],
            [JournalEvent::KillSwitchTripped { .. }]
        ));
        let cancels: Vec<_> = out
            .iter()
            .filter_map(|c| match c {
                Command::Cancel {
                    id, order_no, qty, ..
                } => Some((*id, *order_no, *qty)),
                _ => None,
            })
            .collect();
        assert_eq!(
            cancels,
            [(ClientOrderId(1), OrderNo(10), Qty::lit(10))],
            "{out:?}"
        );
        // A second trip the same day changes nothing.
        assert!(run(|o| desk.trip(cause.clone(), times.at(6), o)).is_empty());

        // B's OrderSent becomes durable after the trip: withdrawn, never sent.
        let out = run(|o| desk.journal_durable(4, times.at(7), o));
        assert!(sends(&out).is_empty(), "{out:?}");
        assert!(
            matches!(journaled(&out)[..], [JournalEvent::Rejected { id: 2, code, message }]
                if code == LOCAL_SEND_FAILED && message.contains("kill switch")),
            "{out:?}"
        );
        let out = run(|o| desk.journal_durable(5, times.at(8), o));
        assert_eq!(
            dones(&out),
            [OrderDone {
                id: Some(ClientOrderId(2)),
                ticker: t(B),
                side: Side::Buy,
                filled: Qty::lit(0),
                rejected: true,
            }]
        );
        // A's cancel, confirmed by SC3, ends it.
        let sc3 = AccountEvent::Cancelled {
            order_no: OrderNo(11),
            org_order_no: OrderNo(10),
            qty: Qty::lit(10),
        };
        let out = run(|o| desk.account_event(sc3, times.at(9), o));
        assert!(out
            .iter()
            .any(|c| matches!(c, Command::Finished(o) if o.state() == OrderState::Cancelled)));
        assert!(desk.stats(times.at(9).day).kill_switch_on);
        assert_eq!(desk.book().working().count(), 0);
    }

    #[test]
    fn a_duplicate_fill_is_forwarded_once() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        run(|o| desk.intent(buy(A, 10), times.at(0), o));
        run(|o| desk.order_reply(ClientOrderId(1), acked(501), times.at(1), o));
        let out = run(|o| desk.account_event(sc1(501, 1, 4, 6), times.at(2), o));
        assert_eq!(fills(&out).len(), 1, "{out:?}");
        // The same execution again (a reconnect replays it): nothing.
        let out = run(|o| desk.account_event(sc1(501, 1, 4, 6), times.at(3), o));
        assert!(out.is_empty(), "{out:?}");
        let o = desk.book().get(ClientOrderId(1)).unwrap();
        assert_eq!(
            (o.filled_qty(), o.state()),
            (Qty::lit(4), OrderState::PartiallyFilled)
        );
        assert_eq!(desk.stats(times.at(0).day).fills, 1);
    }

    #[test]
    fn a_fill_learned_from_the_order_list_is_not_booked_again_by_its_sc1() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        run(|o| desk.intent(buy(A, 10), times.at(0), o));
        run(|o| desk.order_reply(ClientOrderId(1), acked(501), times.at(1), o));
        // A reconnect: the order list shows 4 filled, 6 working.
        let out = run(|o| desk.account_feed_up(o));
        assert!(matches!(out[..], [Command::FetchOrders]), "{out:?}");
        let row = BrokerOrder {
            order_no: OrderNo(501),
            org_order_no: OrderNo::NONE,
            ticker: t(A),
            side: Side::Buy,
            qty: Qty::lit(10),
            price: Price::lit(10_000),
            filled: Qty::lit(4),
            avg_fill_price: Price::lit(10_000),
            remaining: Qty::lit(6),
        };
        let out = run(|o| desk.broker_orders(Ok(vec![row]), times.at(2), o));
        assert!(
            matches!(
                journaled(&out)[..],
                [JournalEvent::Filled {
                    source: FillSource::Reconcile,
                    ..
                }]
            ),
            "{out:?}"
        );
        assert_eq!(fills(&out).len(), 1);
        assert!(matches!(out.last(), Some(Command::CheckCash)), "{out:?}");
        assert_eq!(desk.stats(times.at(0).day).reconcile_differences, 1);
        // Then its SC1 comes: already counted.
        let out = run(|o| desk.account_event(sc1(501, 1, 4, 6), times.at(3), o));
        assert!(out.is_empty(), "{out:?}");
        // The next execution is new.
        let out = run(|o| desk.account_event(sc1(501, 2, 6, 0), times.at(4), o));
        assert_eq!(fills(&out).len(), 1, "{out:?}");
        assert_eq!(dones(&out)[0].filled, Qty::lit(10));
    }

    #[test]
    fn an_order_in_doubt_is_asked_about_never_resent() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        run(|o| desk.intent(buy(A, 10), times.at(0), o));
        let lost = OrderReply::Lost {
            error: "timed out".to_owned(),
        };
        let out = run(|o| desk.order_reply(ClientOrderId(1), lost, times.at(10), o));
        assert!(matches!(
            journaled(&out)[..],
            [JournalEvent::SendUnknown { id: 1, .. }]
        ));
        assert!(
            matches!(out.last(), Some(Command::Wake { timer: Timer::Reconcile, after }) if *after == IN_DOUBT_ASK_AFTER)
        );
        assert_eq!(desk.stats(times.at(0).day).in_doubt, 1);

        // A failed read is tried again later.
        let out = run(|o| desk.timer(Timer::Reconcile, times.at(1_010), o));
        assert!(matches!(out[..], [Command::FetchOrders]), "{out:?}");
        // Asked again while the first read is out: one read at a time, then one more.
        assert!(run(|o| desk.account_feed_up(o)).is_empty());
        let out = run(|o| desk.broker_orders(Err("down".to_owned()), times.at(1_020), o));
        assert!(
            matches!(out[..], [Command::Wake { timer: Timer::Reconcile, after }] if after == RECONCILE_RETRY)
        );

        let out = run(|o| desk.timer(Timer::Reconcile, times.at(6_020), o));
        assert!(matches!(out[..], [Command::FetchOrders]), "{out:?}");
        let row = BrokerOrder {
            order_no: OrderNo(900),
            org_order_no: OrderNo::NONE,
            ticker: t(A),
            side: Side::Buy,
            qty: Qty::lit(10),
            price: Price::lit(10_000),
            filled: Qty::lit(10),
            avg_fill_price: Price::lit(10_000),
            remaining: Qty::lit(0),
        };
        let out = run(|o| desk.broker_orders(Ok(vec![row]), times.at(6_030), o));
        assert!(sends(&out).is_empty(), "never resent: {out:?}");
        assert!(
            matches!(
                journaled(&out)[..],
                [
                    JournalEvent::Resolved {
                        id: 1,
                        order_no: OrderNo(900)
                    },
                    JournalEvent::Filled { id: 1, .. }
                ]
            ),
            "{out:?}"
        );
        assert_eq!(fills(&out).len(), 1);
        assert_eq!(dones(&out).len(), 1);
        assert_eq!(desk.stats(times.at(0).day).in_doubt, 0);
    }

    #[test]
    fn buys_wait_for_their_tickers_band_fetched_once() {
        let times = Times::new();
        let mut desk = OrderDesk::new(RiskLimits::default());
        let out = run(|o| desk.intent(buy(A, 10), times.at(0), o));
        assert!(
            matches!(out[..], [Command::FetchBand(x)] if x == t(A)),
            "{out:?}"
        );
        let out = run(|o| desk.intent(buy(A, 20), times.at(1), o));
        assert!(out.is_empty(), "one fetch per ticker: {out:?}");
        let band = Band {
            limits: DailyLimits::from_base(Price::lit(10_000)),
            last: Some(Price::lit(10_000)),
        };
        let out = run(|o| desk.band(t(A), Some(band), times.at(2), o));
        assert_eq!(sends(&out), [ClientOrderId(1), ClientOrderId(2)], "{out:?}");
        // Without a band, a limit buy with no last trade is refused by the collar's rule.
        let out = run(|o| desk.intent(buy(B, 10), times.at(3), o));
        assert!(matches!(out[..], [Command::FetchBand(_)]));
        let out = run(|o| desk.band(t(B), None, times.at(4), o));
        assert_eq!(refusals(&out), ["price_collar_no_reference"], "{out:?}");
    }

    #[test]
    fn a_cancel_asked_before_the_broker_names_the_order_goes_when_it_does() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        run(|o| desk.intent(buy(A, 10), times.at(0), o));
        let out = run(|o| assert_eq!(desk.cancel_all_working(times.at(1), o), 0));
        assert!(out.is_empty(), "{out:?}");
        let out = run(|o| desk.order_reply(ClientOrderId(1), acked(55), times.at(2), o));
        assert!(
            out.iter().any(|c| matches!(
                c,
                Command::Cancel {
                    id: ClientOrderId(1),
                    order_no: OrderNo(55),
                    qty,
                    ..
                } if *qty == Qty::lit(10)
            )),
            "{out:?}"
        );
        // Asked again while it is on its way: not twice.
        assert!(run(|o| assert_eq!(desk.cancel_all_working(times.at(3), o), 0)).is_empty());
        // Refused (it filled first): it may be asked again.
        desk.cancel_reply(
            ClientOrderId(1),
            CancelReply::Refused {
                code: "01234".to_owned(),
                message: "filled".to_owned(),
            },
        );
        let out = run(|o| assert_eq!(desk.cancel_all_working(times.at(4), o), 1));
        assert_eq!(out.len(), 1, "{out:?}");
    }

    #[test]
    fn cancels_go_at_the_cancel_rate() {
        let times = Times::new();
        let mut desk = banded(OrderDesk::new(RiskLimits::default()), &times);
        for (i, qty) in [1u64, 2, 3, 4].into_iter().enumerate() {
            run(|o| desk.intent(buy(A, qty), times.at(0), o));
            let id = ClientOrderId(i as u64 + 1);
            run(|o| desk.order_reply(id, acked(100 + i as i64), times.at(1), o));
        }
        let out = run(|o| assert_eq!(desk.cancel_all_working(times.at(2), o), 4));
        let ids: Vec<u64> = out
            .iter()
            .filter_map(|c| match c {
                Command::Cancel { id, .. } => Some(id.0),
                _ => None,
            })
            .collect();
        assert_eq!(ids, [1, 2, 3], "three a second, in id order: {out:?}");
        assert!(matches!(
            out.last(),
            Some(Command::Wake {
                timer: Timer::Cancels,
                ..
            })
        ));
        let out = run(|o| desk.timer(Timer::Cancels, times.at(1_100), o));
        assert!(
            matches!(
                out[..],
                [Command::Cancel {
                    id: ClientOrderId(4),
                    ..
                }]
            ),
            "{out:?}"
        );
    }

    #[test]
    fn shutdown_refuses_what_waits_for_the_order_rate() {
        let times = Times::new();
        let mut desk = banded(
            OrderDesk::new(RiskLimits::default()).with_order_rate(1, RateExcess::Queue),
            &times,
        );
        run(|o| desk.intent(buy(A, 10), times.at(0), o));
        run(|o| desk.intent(buy(B, 10), times.at(1), o));
        let out = run(|o| assert_eq!(desk.stop(times.at(2), o), 1));
        assert_eq!(refusals(&out), ["shutdown"], "{out:?}");
        assert!(run(|o| desk.timer(Timer::OrderRate, times.at(1_100), o)).is_empty());
    }

    #[test]
    fn an_sc1_already_learned_from_the_order_list_is_counted_once() {
        // An order of 10: SC1s of 2 (8 left) and then 3 (5 left).
        let q = Qty::lit;
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
}
