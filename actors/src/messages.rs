//! The engine's vocabulary: the plain data that flows between actors (ticks, condition
//! changes, order intents, order events, fills) and the actix messages that carry it.
//!
//! Owns no behaviour. Must never hold anything but data: pure logic (strategy, risk,
//! order state, the portfolio ledger) takes these types by reference and stays testable
//! without actix.

use actix::Message;

use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};

pub use crate::domain::{
    AccountEvent, CashCorrection, ClientOrderId, ConditionEnter, ConditionExit, ConditionId,
    ExecNo, FeedId, Fill, OrderDone, OrderIntent, OrderNo, OrderType, Tick,
};
pub use crate::trading::orders::{LatencyUs, OrderStats};
pub use crate::trading::strategies::TickerSeen;

/// Carries a domain event ([`Tick`], [`Fill`], [`OrderIntent`], [`AccountEvent`], a
/// condition's enter or exit) to an actor. The domain model knows nothing of actix, so the
/// actors wrap it here: `feed.do_send(Deliver(tick))`, `impl Handler<Deliver<Tick>>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deliver<T>(pub T);

impl<T: 'static> Message for Deliver<T> {
    type Result = ();
}

/// An AFR frame as the broker sent it: the code is raw (it may be invalid) and the job
/// flag says enter (N), re-enter (R) or exit (O).
#[derive(Clone, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct ConditionAlert {
    /// The registration it came for (t1860 `sAlertNum`): which condition.
    pub alert_num: String,
    pub code: String,
    pub job: crate::wire::realtime::JobFlag,
}

/// The strategies' desk gave `ticker` to `condition`: its fills are that condition's from
/// now on (the Portfolio's per-condition books).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct TickerOwner {
    pub ticker: Ticker,
    pub condition: ConditionId,
}

/// Ask the Portfolio for the day's books per condition, with the account's they add up to
/// (one answer, so no fill falls between the two).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "crate::condition_books::BooksAnswer")]
pub struct GetConditionBooks;

/// Ticks in the order the session read them: one at a time while the market is calm, a
/// read's worth under a firehose (one mailbox message for many ticks).
#[derive(Clone, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct Ticks(pub Vec<Tick>);

/// Start delivering `ticker`'s trades to `to` (BrokerSession registers S3_/K3_): a
/// StockFeed subscribes for the Processor, so ticks go beside the feed, not through it.
/// A later subscription for the same ticker takes the route over (no second
/// registration): the feed it replaces may still be stopping.
#[derive(Message)]
#[rtype(result = "()")]
pub struct SubscribeTrades {
    pub ticker: Ticker,
    pub market: crate::market::Market,
    pub to: actix::Recipient<Ticks>,
    /// Which feed this is ([`FeedId`]), so that its unsubscribe removes
    /// its own route and never a successor's.
    pub feed_id: FeedId,
}

/// Stop delivering `ticker`'s trades (BrokerSession unregisters with tr_type 4).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct UnsubscribeTrades {
    pub ticker: Ticker,
    /// The feed that subscribed. When the ticker's route already belongs to a newer
    /// feed (a fast exit and re-enter), the route and the registration stay.
    pub feed_id: FeedId,
}

/// Deliver the AFR frames of a registered realtime condition (`sAlertNum`) to `to`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WatchCondition {
    pub alert_num: String,
    pub to: actix::Recipient<ConditionAlert>,
}

/// One of the broker's saved conditions (Kiwoom's CNSRLST row: seq and name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedCondition {
    /// What [`StartCondition`] and the alerts name it by (Kiwoom's `seq`).
    pub key: String,
    pub name: String,
}

/// The saved conditions, listed over the websocket (Kiwoom CNSRLST). Asked while the link
/// is down, it is sent once the session is logged in again.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "Result<Vec<SavedCondition>, SessionRefusal>")]
pub struct ListConditions;

/// Start condition `key` in realtime (Kiwoom CNSRREQ search_type 1): answers the codes
/// that match now, as six-digit stock codes (`A005930` answers `005930`; a code that is
/// not a stock's, e.g. an ETN's `0004V0`, is counted as malformed and left out, as the
/// Supervisor would refuse it); later enters and exits (REAL 02, 843 I/D) reach `to` as
/// `ConditionAlert { alert_num: key, code, job: Enter|Exit }`. The session starts it again
/// after every reconnect, and what entered or left meanwhile reaches `to` the same way.
/// Asked again for a started key, it answers the members known and sends to the new `to`.
#[derive(Message)]
#[rtype(result = "Result<Vec<String>, SessionRefusal>")]
pub struct StartCondition {
    pub key: String,
    pub to: actix::Recipient<ConditionAlert>,
}

/// Deliver the broker's position after each fill (Kiwoom REAL 04) to `to`. The account
/// feed is registered by [`WatchAccount`]; LS sends no such event, so on LS nothing comes.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WatchHoldings {
    pub to: actix::Recipient<Deliver<crate::reconcile::BrokerHolding>>,
}

/// Why the broker session did not do what a [`ListConditions`] or [`StartCondition`] asked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SessionRefusal {
    /// The broker answered no (Kiwoom's `return_code` and `return_msg`, classified).
    #[error("the broker refused {request}: {refusal}")]
    Broker {
        request: String,
        refusal: condor_model::kiwoom::rest::Refusal,
    },
    /// The session was shut down (or stopped) before an answer came.
    #[error("the broker session shut down before {request} was answered")]
    ShutDown { request: String },
    /// This broker does not run conditions over its websocket.
    #[error("{0}")]
    NotOnThisWire(&'static str),
}

/// Stop an actor on purpose, saying why (logged by the actor).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct Stop {
    pub reason: &'static str,
}

/// Does the engine hold a position or a working order in `ticker`?
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "bool")]
pub struct IsFlat {
    pub ticker: Ticker,
}

/// A ticker the engine held is flat again (sent by the Processor to the Supervisor).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct TickerFlat {
    pub ticker: Ticker,
}

/// Answer once every message sent before this one has been handled (mailbox order).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "ProcessorStats")]
pub struct Flush;

/// What the Processor has seen.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessorStats {
    /// Ticks run through the strategy (the tick path's one count: `TickBacklog`).
    pub ticks: u64,
    /// Per ticker: ticks seen and the last one's sequence number, price and time.
    pub per_ticker: rustc_hash::FxHashMap<Ticker, TickerSeen>,
    /// Smallest and largest sequence numbers seen (0 when none).
    pub min_seq: u64,
    pub max_seq: u64,
    /// Ticks whose sequence number was not above the ticker's previous one.
    pub out_of_order: u64,
    pub intents: u64,
    /// Compute jobs sent to the pool and answered.
    pub jobs_sent: u64,
    pub jobs_done: u64,
    /// Answers that came after their ticker left the condition, not delivered.
    pub jobs_dropped: u64,
    /// Ticks the Processor handled while its jobs ran (summed over jobs): the proof that
    /// CPU-heavy work does not stall the loop.
    pub ticks_during_jobs: u64,
    /// Tick → Processor latency (socket read to strategy): each tick while they come one
    /// at a time, the first (oldest) of each firehose read.
    pub tick_latency: Percentiles,
    /// Tick → OrderIntent latency (socket read to the intent leaving the Processor).
    pub intent_latency: Percentiles,
    /// The same, in the Prometheus histogram's buckets.
    pub intent_buckets: crate::telemetry::LatencyBuckets,
}

/// A latency distribution in nanoseconds (µs targets need sub-µs resolution).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Percentiles {
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub samples: u64,
}

impl Percentiles {
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Percentiles {
        Percentiles {
            p50_ns: h.value_at_quantile(0.5),
            p99_ns: h.value_at_quantile(0.99),
            p999_ns: h.value_at_quantile(0.999),
            samples: h.len(),
        }
    }
}

/// Counters of the broker session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SessionStats {
    pub frames: u64,
    pub ticks: u64,
    pub malformed: u64,
    pub unrouted: u64,
    pub reconnects: u64,
    pub connected: bool,
    /// Times the session stopped reading because the Processor was `limit` ticks behind
    /// (see `tick_backlog`), and the most ticks that were ever in flight.
    pub read_pauses: u64,
    pub max_in_flight: u64,
    /// Socket read → the tick routed (decode and routing): the session's share of
    /// tick-to-strategy latency; the rest is the hop to the Processor. Each tick while
    /// they come one at a time, the first of each firehose read.
    pub decode_latency: Percentiles,
}

/// Ask the broker session for its counters.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "SessionStats")]
pub struct GetSessionStats;

/// Deliver SC0–SC4 to `to` (BrokerSession registers the account feed, tr_type 1), and tell
/// `on_reconnect` each time the broker acknowledges that registration (the first one and
/// every one after a reconnect): events from before it are never delivered, so the
/// broker's order list must be asked.
#[derive(Message)]
#[rtype(result = "()")]
pub struct WatchAccount {
    pub to: actix::Recipient<Deliver<AccountEvent>>,
    pub on_reconnect: Option<actix::Recipient<ReconcileOrders>>,
}

/// Tell `to` whenever a ticker the engine held becomes flat (Portfolio, Processor).
/// A message rather than a constructor argument because the wiring is a cycle: the
/// Supervisor needs the Processor, and the flat reports go back to the Supervisor.
#[derive(Message)]
#[rtype(result = "()")]
pub struct NotifyFlat {
    pub to: actix::Recipient<TickerFlat>,
}

/// Trip the kill switch: cancel working orders and refuse new entries for the rest of the
/// day (the Portfolio at the loss limit, or an operator). Goes straight to the
/// OrderManager, never behind market data.
#[derive(Clone, Debug, Message)]
#[rtype(result = "()")]
pub struct TripKillSwitch {
    pub cause: crate::kill_switch::TripCause,
}

/// Ask the broker (t0425) about today's orders and bring ours in line: after a reconnect
/// (fills may have happened during the gap) or an order in doubt.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct ReconcileOrders;

/// The journal's answer for one append of an actor (its `ticket`, counted by the actor):
/// durable, or failed. Sent by the journal's writer thread, in append order.
#[derive(Clone, Debug, Message)]
#[rtype(result = "()")]
pub struct JournalDurable {
    pub ticket: u64,
    pub result: Result<u64, crate::journal::store::JournalFailure>,
}

/// Ask the OrderManager for its [`OrderStats`].
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "OrderStats")]
pub struct GetOrderStats;

/// Shutdown: send a cancel (CSPAT00801) for every working order that has a broker order
/// number and no cancel already on its way; answers how many cancels were queued. Sent
/// again, it retries the cancels the broker refused and covers orders numbered since.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "usize")]
pub struct CancelAllWorking;

/// Shutdown: the OrderManager sends no new order from now on. Every intent after this (and
/// every one still waiting for the order rate or a price band) is refused by the rule
/// `shutdown`, journaled like any refusal; orders already sent carry on to their end.
/// Answers how many waiting intents were refused.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "usize")]
pub struct StopOrders;

/// The trading day is over and its shutdown done: stop, dropping what the actor holds
/// (the journal's handle, the tape's recorder, the other actors' addresses, which would
/// otherwise keep a day's engine alive in a process that runs for weeks).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct Retire;

/// Ask the Portfolio for cash, positions and P&L. An `Err` only on an arithmetic overflow
/// while valuing the positions.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "Result<crate::ledger::LedgerSnapshot, crate::ledger::LedgerError>")]
pub struct GetPortfolio;

/// Ask the Portfolio for its cash in won (reconciliation compares it with the broker's).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "i64")]
pub struct GetCash;

/// Take the broker's cash (the broker is the truth), if the Portfolio's is still
/// `expected`: a fill booked since the comparison makes it stale, and it is skipped.
/// Answers whether it was applied.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "bool")]
pub struct CorrectCash(pub CashCorrection);

/// Ask the OrderManager for one order as it stands (working or final); `None` if unknown.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "Option<crate::order::Order>")]
pub struct GetOrder {
    pub id: ClientOrderId,
}

// ---- the Notifier (Discord, Telegram) ----

/// Something the trader is told on Discord and Telegram. Trading actors `do_send` it to the
/// Notifier and carry on: it has no answer, so nothing on the trading path ever waits for
/// a destination.
#[derive(Clone, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub enum Alert {
    /// One execution of our order, as the Portfolio booked it.
    Filled(FillAlert),
    /// An order the broker refused, or an intent the risk gate refused before it became an
    /// order.
    Rejected(RejectAlert),
    /// The kill switch turned on (it was off).
    KillSwitch {
        cause: crate::kill_switch::TripCause,
    },
    /// The broker's websocket dropped (`up: false`) or is back (`up: true`). The Notifier
    /// speaks only of an outage longer than its threshold, and then of its end.
    BrokerLink { up: bool },
    /// `condor run` is trading.
    EngineStarted(EngineStart),
    /// `condor run` stopped cleanly (Ctrl-C or SIGTERM, everything drained).
    EngineStopped(EngineStop),
    /// The data directory's disk: entries stopped or resumed, the reserve freed.
    Disk(DiskAlert),
    /// Intents one rule refused over the last minute, counted instead of told one by one
    /// (the first of them was told as a [`Alert::Rejected`]).
    RefusedInBulk(RefusalCount),
}

/// What the disk watch tells the trader, once each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiskAlert {
    /// Free space fell under `low`: no new entries; exits and cancels still go.
    Low { free_bytes: u64, low: u64 },
    /// Free space is back at `resume_at` or more: entries resume.
    Back { free_bytes: u64, resume_at: u64 },
    /// The journal found the disk full and the reserve was freed so that it goes on.
    ReserveFreed { bytes: u64 },
}

/// Intents refused by `rule`, `count` of them over `over_secs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusalCount {
    pub rule: String,
    pub count: u64,
    pub over_secs: u64,
    /// Why the last one was refused.
    pub last_detail: String,
}

/// The data directory's disk is low (no new entries) or back: an input of the order desk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct DiskSpace {
    pub low: bool,
    pub free_bytes: u64,
}

/// One fill with what it did to the position (the Portfolio's [`crate::ledger::FillEffect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillAlert {
    pub ticker: Ticker,
    pub side: Side,
    pub qty: Qty,
    pub price: Price,
    /// Broker order number.
    pub order_no: OrderNo,
    pub time: TimeOfDay,
    /// Fees and tax charged for this fill, in won.
    pub fee: i64,
    /// Shares held after the fill and their average price (`None` when flat).
    pub position_after: Qty,
    pub avg_price: Option<Price>,
    /// Realized by this fill (0 for a buy), before fees.
    pub realized_pnl: i64,
    /// The ticker's realized P&L today, after this fill.
    pub ticker_realized_pnl: i64,
    /// Cash + market value after the fill (`None` if the ledger could not value it): a
    /// point of the day's equity curve.
    pub equity: Option<i64>,
}

/// Why an order or an intent was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectCause {
    /// The broker (or its gateway) said no: its code and message. `LOCAL` when the send
    /// failed before the broker answered.
    Broker { code: String, message: String },
    /// The pre-trade risk gate said no: the rule and its numbers.
    Risk { rule: String, detail: String },
}

/// An order or intent that will not trade.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectAlert {
    /// `None` when the risk gate refused the intent: it never became an order.
    pub id: Option<ClientOrderId>,
    pub ticker: Ticker,
    pub side: Side,
    pub qty: Qty,
    pub order_type: OrderType,
    /// Why the strategy wanted it ("entry: momentum").
    pub reason: String,
    pub cause: RejectCause,
}

/// What `condor run` started with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineStart {
    /// "embedded exchange" or the broker's REST host (never a key or a token).
    pub broker: String,
    pub condition: String,
    pub strategy: String,
    pub opening_cash: i64,
    pub kill_switch_on: bool,
}

/// How `condor run` ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStop {
    pub ran_for_secs: u64,
    pub orders: u64,
    pub fills: u64,
    /// Orders still working at the broker (left there by `CONDOR_ON_SHUTDOWN=leave`, or
    /// whose cancel was not confirmed yet).
    pub working: u64,
    pub open_positions: u64,
    pub realized_pnl: i64,
    pub unrealized_pnl: i64,
}

/// The stock master's names (t8436 `hname`), so alerts say "005930 삼성전자".
#[derive(Clone, Debug, Default, Message)]
#[rtype(result = "()")]
pub struct StockNames {
    pub names: std::collections::HashMap<Ticker, String>,
}

/// Where the Notifier reads the day's figures for its summary and equity curve (sent once
/// the OrderManager and the Portfolio are up: they are started after the Notifier).
#[derive(Message)]
#[rtype(result = "()")]
pub struct WatchDay {
    pub orders: actix::Recipient<GetOrderStats>,
    pub portfolio: actix::Recipient<GetPortfolio>,
    /// The books per condition for the summary (the Portfolio); `None`: the total only.
    pub books: Option<actix::Recipient<GetConditionBooks>>,
}

/// Send the day's summary now (it also goes by itself after the close).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct SendDailySummary;

/// The day's engine closed: a day that traded gets its summary now if its time has not
/// come (or was skipped over by an accelerated clock); never a second one.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct CloseOfDay;

/// Answer `true` once every alert received so far has been delivered (or given up and
/// logged), `false` if that has not happened `within` (shutdown waits, but not forever).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "bool")]
pub struct DrainAlerts {
    pub within: std::time::Duration,
}

/// Counters of the Notifier. A "notice" is one thing to tell (a fill, a reject, an outage,
/// a summary…); one message carries one or many. With two destinations the counts are
/// their sum (a notice delivered to both counts twice in `notices_sent`); `alerts` counts
/// each alert once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NotifierStats {
    pub alerts: u64,
    /// Messages a destination accepted, and the notices they carried.
    pub sent: u64,
    pub notices_sent: u64,
    /// Notices delivered in a message together with others.
    pub coalesced: u64,
    /// Notices folded into a count because the queue was full (never dropped: the count
    /// is sent).
    pub summarised: u64,
    /// HTTP requests made, and those that failed (5xx, 4xx other than 429, no connection).
    pub attempts: u64,
    pub failed: u64,
    /// Requests answered 429 and sent again after `retry_after`.
    pub retried_after_429: u64,
    /// Notices abandoned after the configured attempts (each one logged at error).
    pub given_up: u64,
    /// Long pauses taken after a destination kept failing.
    pub long_pauses: u64,
    /// Looks at the clocks (the summary's time, a long pause's end): a test moving a
    /// manual clock waits for the next one.
    pub clock_checks: u64,
    /// Notices only logged, because no destination is configured.
    pub logged_only: u64,
    /// Broker outages shorter than the threshold: not worth a message.
    pub short_outages: u64,
    /// Notices waiting now.
    pub queued: u64,
}

/// Ask the Notifier for its [`NotifierStats`].
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "NotifierStats")]
pub struct GetNotifierStats;
