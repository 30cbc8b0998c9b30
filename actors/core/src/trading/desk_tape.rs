//! The order desk on the tape: its inputs as data ([`DeskInput`]), how it was set up
//! ([`DeskConfig`]) and what it decided, one line per command ([`command_line`]), so that
//! `condor replay` can feed a recorded day's inputs to a fresh [`OrderDesk`] and compare
//! every decision with the live one ([`DeskReplay`]).
//!
//! The live driver (the OrderManager) turns each thing that reaches it into a [`DeskInput`],
//! records it with the stamp it gives the desk and the command lines the desk answered,
//! then carries the commands out. Replay rebuilds the stamp from the record (the receive
//! time gives the monotonic instant, so every interval the desk measures — the order rate,
//! the send pacer, the age of a parked event — is the live one to the nanosecond), feeds the
//! same input, and compares lines. A difference is reported against the input that caused
//! it, so one changed decision is reported once.
//!
//! Inputs and lines are JSON and text: the desk sees hundreds of inputs a day, not the
//! millions of trades the tape's compact encoding is for, and a record a person can read in
//! `condor tape dump` is worth the bytes. A command line names decisions only: the time an
//! intent waited (measured from the tick's receive instant, which the desk does not use) is
//! left out.
//!
//! Must never: read a clock (the replay's instants are built from the records), or let a
//! damaged or foreign record panic (it is reported as a difference and the replay goes on).

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::clock::TradingDay;
use crate::domain::{AccountEvent, ClientOrderId, OrderIntent, OrderType};
use crate::journal::event::JournalEvent;
use crate::journal::recovery::rebuild;
use crate::kill_switch::TripCause;
use crate::ledger::FeeSchedule;
use crate::market::{Qty, Side, Ticker, TimeOfDay};
use crate::reconcile::BrokerOrder;
use crate::risk::RiskLimits;
use crate::trading::orders::{
    Band, CancelReply, Command, OrderDesk, OrderReply, RateExcess, RecoveredOrders, Stamp, Timer,
};
use crate::wire::order::Cspat00601InBlock1;

/// One thing that reached the desk, as data: the live driver and the replay both hand it
/// to [`OrderDesk::apply`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeskInput {
    /// The driver started ([`OrderDesk::start`]).
    Start,
    Intent {
        #[serde(with = "intent_record")]
        intent: OrderIntent,
    },
    Band {
        ticker: Ticker,
        band: Option<Band>,
    },
    OrderReply {
        id: ClientOrderId,
        reply: OrderReply,
    },
    CancelReply {
        id: ClientOrderId,
        reply: CancelReply,
    },
    Account {
        event: AccountEvent,
    },
    Timer {
        timer: Timer,
    },
    JournalDurable {
        ticket: u64,
    },
    JournalFailed {
        why: String,
    },
    /// The data directory's disk is below `CONDOR_DISK_LOW` (`low`), or back above it
    /// with the margin: new entries stop or resume.
    DiskSpace {
        low: bool,
        free_bytes: u64,
    },
    AccountFeedUp,
    BrokerOrders {
        orders: Result<Vec<BrokerOrder>, String>,
    },
    Cash {
        ours: i64,
        broker: i64,
    },
    Trip {
        cause: TripCause,
    },
    Stop,
    CancelAllWorking,
}

impl OrderDesk {
    /// Feeds one input. Returns what [`OrderDesk::stop`] and
    /// [`OrderDesk::cancel_all_working`] return (how many were refused or cancelled), 0 for
    /// every other input.
    pub fn apply(&mut self, input: DeskInput, now: Stamp, out: &mut Vec<Command>) -> usize {
        match input {
            DeskInput::Start => self.start(out),
            DeskInput::Intent { intent } => self.intent(intent, now, out),
            DeskInput::Band { ticker, band } => self.band(ticker, band, now, out),
            DeskInput::OrderReply { id, reply } => self.order_reply(id, reply, now, out),
            DeskInput::CancelReply { id, reply } => self.cancel_reply(id, reply),
            DeskInput::Account { event } => self.account_event(event, now, out),
            DeskInput::Timer { timer } => self.timer(timer, now, out),
            DeskInput::JournalDurable { ticket } => self.journal_durable(ticket, now, out),
            DeskInput::JournalFailed { why } => self.journal_failed(why, now, out),
            DeskInput::DiskSpace { low, free_bytes } => self.disk_space(low, free_bytes),
            DeskInput::AccountFeedUp => self.account_feed_up(out),
            DeskInput::BrokerOrders { orders } => self.broker_orders(orders, now, out),
            DeskInput::Cash { ours, broker } => self.cash(ours, broker, now, out),
            DeskInput::Trip { cause } => self.trip(cause, now, out),
            DeskInput::Stop => return self.stop(now, out),
            DeskInput::CancelAllWorking => return self.cancel_all_working(now, out),
        }
        0
    }
}

/// Whether `input` must be on the tape for a replay to reach the same decisions: all but
/// the driver's once-a-second park sweep while nothing is parked, which changes nothing
/// (and would be most of a quiet day's records).
pub fn worth_recording(desk: &OrderDesk, input: &DeskInput) -> bool {
    !matches!(
        input,
        DeskInput::Timer {
            timer: Timer::ParkSweep
        }
    ) || desk.parked() > 0
}

/// How a desk was set up, recorded once when its driver starts so a replay builds the same
/// desk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskConfig {
    pub risk: RiskLimits,
    pub journaled: bool,
    pub first_client_id: u64,
    pub orders_per_sec: u32,
    pub excess: RateExcess,
    pub kill_switch_flatten: bool,
    /// What the desk took over from the journal at its start; `None` when it started
    /// empty. That state is the journal's, not the tape's: a replay rebuilds it from the
    /// day's journal (see [`DeskReplay::with_journal`]).
    pub carried_over: Option<CarriedOver>,
}

/// What a desk took over from the journal at its start: the orders, positions, the day's
/// order count and a tripped kill switch, as the records up to `journal_seq` left them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarriedOver {
    /// In words: "8 order(s), 1 position(s), 8 order(s) sent today".
    pub what: String,
    pub journal_seq: u64,
    /// The stamp it was taken over at (a kill switch the journal had on is on as of it).
    pub day: TradingDay,
    pub unix_ms: i64,
}

/// The state a desk took over at its start, rebuilt as `condor run`'s start rebuilt it:
/// the day's journal records up to `through` (the same [`rebuild`]; fees do not matter to
/// the desk, which books its fills at no fee).
pub fn recovered_from_journal<'a, I>(day: TradingDay, records: I, through: u64) -> RecoveredOrders
where
    I: IntoIterator<Item = (u64, &'a JournalEvent)>,
    I::IntoIter: Clone,
{
    let upto = records.into_iter().filter(move |(seq, _)| *seq <= through);
    let state = rebuild(day, upto, FeeSchedule::default(), Instant::now());
    RecoveredOrders {
        book: state.book,
        ledger: state.ledger,
        orders_today: state.orders_sent,
        kill_switch: state.kill_switch,
        journal_seq: state.journal_seq,
    }
}

/// Gives the state a desk took over (see [`CarriedOver`]), or why it cannot.
pub type Recover<'a> = dyn FnMut(&CarriedOver) -> Result<RecoveredOrders, String> + 'a;

impl DeskConfig {
    /// The settings of [`OrderDesk::new`].
    pub fn new(risk: RiskLimits) -> DeskConfig {
        DeskConfig {
            risk,
            journaled: false,
            first_client_id: 1,
            orders_per_sec: 10,
            excess: RateExcess::Queue,
            kill_switch_flatten: false,
            carried_over: None,
        }
    }

    /// The desk these settings describe, or why it cannot be rebuilt. A desk that took
    /// over the journal's state takes it from `recover`, and cannot be rebuilt without one.
    pub fn build(&self, recover: Option<&mut Recover<'_>>) -> Result<OrderDesk, String> {
        let mut desk = OrderDesk::new(self.risk)
            .with_first_client_id(self.first_client_id)
            .with_order_rate(self.orders_per_sec, self.excess)
            .with_kill_switch_flatten(self.kill_switch_flatten);
        if let Some(c) = &self.carried_over {
            let Some(recover) = recover else {
                return Err(format!(
                    "it started with state from the journal ({}), and there is no journal to rebuild it from",
                    c.what
                ));
            };
            let r = recover(c)
                .map_err(|e| format!("it started with state from the journal ({}): {e}", c.what))?;
            let now = Stamp {
                at: Instant::now(),
                day: c.day,
                time: TimeOfDay::default(),
                unix_ms: c.unix_ms,
            };
            desk = desk.with_recovered(r, now);
            if desk.config().carried_over.as_ref() != Some(c) {
                return Err(format!(
                    "it started with state from the journal ({}), but the journal gives {}",
                    c.what,
                    desk.config()
                        .carried_over
                        .as_ref()
                        .map_or("nothing", |d| d.what.as_str())
                ));
            }
        }
        Ok(if self.journaled {
            desk.with_journal()
        } else {
            desk
        })
    }
}

/// One command as a line of text, for the tape and the replay's comparison. Every command
/// is a decision and has a line; only the measured wait of a send is left out.
pub fn command_line(c: &Command) -> String {
    let side = |s: Side| match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    };
    match c {
        Command::Journal { ticket, event } => format!(
            "journal #{ticket} {}",
            serde_json::to_string(event).unwrap_or_else(|e| format!("(unserializable: {e})"))
        ),
        Command::Send { id, order, .. } => format!(
            "send {id} {}",
            serde_json::to_string(order).unwrap_or_else(|e| format!("(unserializable: {e})"))
        ),
        Command::Cancel {
            id,
            order_no,
            ticker,
            qty,
        } => format!("cancel {id} order {order_no} {ticker} {}", qty.shares()),
        Command::FetchBand(t) => format!("fetch band {t}"),
        Command::FetchOrders => "fetch orders".to_owned(),
        Command::CheckCash => "check cash".to_owned(),
        Command::Wake { timer, after } => format!("wake {timer:?} after {}ns", after.as_nanos()),
        Command::Fill(f) => format!(
            "fill {} {} {}@{} order {} at {}",
            f.ticker,
            side(f.side),
            f.qty.shares(),
            f.price.won(),
            f.order_no,
            f.time
        ),
        Command::Done(d) => format!(
            "done {} {} {} filled {}{}",
            d.id.map_or_else(|| "-".to_owned(), |id| id.to_string()),
            d.ticker,
            side(d.side),
            d.filled.shares(),
            if d.rejected { " rejected" } else { "" }
        ),
        Command::CorrectCash(c) => {
            format!(
                "correct cash {} won to the broker's {}",
                c.expected, c.broker
            )
        }
        Command::Refused(r) => format!(
            "refused {} {} {} {} by {}: {} (#{})",
            r.intent.ticker,
            side(r.intent.side),
            r.intent.qty.shares(),
            order_type_word(r.intent.order_type),
            r.rule,
            r.detail,
            r.count
        ),
        Command::Finished(o) => format!(
            "finished {} {:?} filled {} of {} cancelled {}",
            o.id(),
            o.state(),
            o.filled_qty().shares(),
            o.qty().shares(),
            o.cancelled_qty().shares()
        ),
        Command::Tripped(cause) => format!("tripped: {cause}"),
    }
}

fn order_type_word(t: OrderType) -> String {
    match t {
        OrderType::Market => "market".to_owned(),
        OrderType::Limit(p) => format!("limit {}", p.won()),
    }
}

/// A desk record's stamp, less its monotonic instant (the record's receive time stands for
/// it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StampRecord {
    pub day: TradingDay,
    pub time: TimeOfDay,
    pub unix_ms: i64,
}

impl From<Stamp> for StampRecord {
    fn from(s: Stamp) -> StampRecord {
        StampRecord {
            day: s.day,
            time: s.time,
            unix_ms: s.unix_ms,
        }
    }
}

/// One decision the live desk and the replayed one disagree on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeskDifference {
    /// The tape record (seq) of the input.
    pub record: u64,
    /// The input, as recorded.
    pub input: String,
    pub live: Vec<String>,
    pub replayed: Vec<String>,
}

/// What the replay of the desks on a tape found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DeskOutcome {
    /// Desks started on the tape, and of them those replayed (the rest began with the
    /// journal's state, see [`DeskConfig::carried_over`]).
    pub desks: u64,
    pub replayed: u64,
    /// Why each desk not replayed was not.
    pub not_replayed: Vec<String>,
    /// Inputs fed and command lines compared.
    pub inputs: u64,
    pub commands: u64,
    pub orders_sent: u64,
    pub refusals: u64,
    /// Intents the desk received, and intents the strategies recorded: equal unless an
    /// intent was lost between them.
    pub intents_received: u64,
    pub differences: Vec<DeskDifference>,
}

/// Replays the desk records of one tape, in order. [`DeskReplay::opened`] at each desk
/// record, [`DeskReplay::input`] at each input.
pub struct DeskReplay<'a> {
    /// Rebuilds the state a desk took over from the journal, when the journal is at hand.
    recover: Option<Box<Recover<'a>>>,
    desk: Option<OrderDesk>,
    /// The receive time (Unix ns) and replay instant of the current desk's first input.
    origin: Option<(i64, Instant)>,
    out: DeskOutcome,
    commands: Vec<Command>,
}

impl Default for DeskReplay<'_> {
    fn default() -> Self {
        DeskReplay::new()
    }
}

impl<'a> DeskReplay<'a> {
    /// A replay without the day's journal: a desk that took over the journal's state is
    /// named, not replayed.
    pub fn new() -> DeskReplay<'a> {
        DeskReplay {
            recover: None,
            desk: None,
            origin: None,
            out: DeskOutcome::default(),
            commands: Vec::new(),
        }
    }

    /// Rebuilds the state a desk took over at a restart with `recover` (usually
    /// [`recovered_from_journal`] over the day's journal).
    pub fn with_journal(mut self, recover: Box<Recover<'a>>) -> DeskReplay<'a> {
        self.recover = Some(recover);
        self
    }

    /// A driver started a desk set up as `config` (JSON of [`DeskConfig`]).
    pub fn opened(&mut self, config: &str) {
        self.out.desks += 1;
        self.origin = None;
        let recover = self.recover.as_deref_mut();
        let built = serde_json::from_str::<DeskConfig>(config)
            .map_err(|e| format!("its settings are unreadable: {e}"))
            .and_then(|c| c.build(recover));
        match built {
            Ok(desk) => {
                self.out.replayed += 1;
                self.desk = Some(desk);
            }
            Err(why) => {
                self.out
                    .not_replayed
                    .push(format!("desk {}: {why}", self.out.desks));
                self.desk = None;
            }
        }
    }

    /// Input `input` (JSON of [`DeskInput`]) reached the live desk at `recv_ns` with
    /// `stamp`, and the desk answered `live` (command lines). `seq` names the record.
    pub fn input(
        &mut self,
        seq: u64,
        recv_ns: i64,
        stamp: StampRecord,
        input: &str,
        live: &[String],
    ) {
        let Some(desk) = &mut self.desk else {
            return;
        };
        self.out.inputs += 1;
        let (origin_ns, origin) = *self.origin.get_or_insert((recv_ns, Instant::now()));
        // Receive times within one run only move forward; a record that goes back (a
        // hand-made tape) is taken as simultaneous rather than failing.
        let since = u64::try_from(recv_ns.saturating_sub(origin_ns)).unwrap_or(0);
        let now = Stamp {
            at: origin + Duration::from_nanos(since),
            day: stamp.day,
            time: stamp.time,
            unix_ms: stamp.unix_ms,
        };
        let replayed: Vec<String> = match serde_json::from_str::<DeskInput>(input) {
            Ok(parsed) => {
                if matches!(parsed, DeskInput::Intent { .. }) {
                    self.out.intents_received += 1;
                }
                desk.apply(parsed, now, &mut self.commands);
                self.commands
                    .drain(..)
                    .inspect(|c| match c {
                        Command::Send { .. } => self.out.orders_sent += 1,
                        Command::Refused(_) => self.out.refusals += 1,
                        _ => {}
                    })
                    .map(|c| command_line(&c))
                    .collect()
            }
            Err(e) => vec![format!("(unreadable input: {e})")],
        };
        self.out.commands += live.len() as u64;
        let live: Vec<Cow<'_, str>> = live.iter().map(|l| send_as_order(l)).collect();
        if replayed
            .iter()
            .map(String::as_str)
            .ne(live.iter().map(|l| l.as_ref()))
        {
            self.out.differences.push(DeskDifference {
                record: seq,
                input: input.to_owned(),
                live: live.into_iter().map(Cow::into_owned).collect(),
                replayed,
            });
        }
    }

    pub fn finish(self) -> DeskOutcome {
        self.out
    }
}

/// A recorded send as the order it asked for. Tapes written before the order desk asked
/// for a domain order recorded LS's CSPAT00601 block on the send's line
/// (`send C1 {"IsuNo":"A005930",…}`); read as the order it stands for, they replay
/// without a difference. Any other line is itself.
fn send_as_order(line: &str) -> Cow<'_, str> {
    let read_old = || {
        let (id, json) = line.strip_prefix("send ")?.split_once(' ')?;
        let block: Cspat00601InBlock1 = serde_json::from_str(json).ok()?;
        let order = block.new_order().ok()?;
        Some(format!("send {id} {}", serde_json::to_string(&order).ok()?))
    };
    match read_old() {
        Some(line) => Cow::Owned(line),
        None => Cow::Borrowed(line),
    }
}

/// An intent as the tape holds it: its reason as text, its tick's receive instant left out
/// (it times latency, which no decision reads).
mod intent_record {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Record<'a> {
        ticker: Ticker,
        side: Side,
        qty: Qty,
        order_type: OrderType,
        #[serde(borrow)]
        reason: Cow<'a, str>,
        tick_seq: u64,
    }

    pub fn serialize<S: serde::Serializer>(i: &OrderIntent, s: S) -> Result<S::Ok, S::Error> {
        Record {
            ticker: i.ticker,
            side: i.side,
            qty: i.qty,
            order_type: i.order_type,
            reason: Cow::Borrowed(i.reason),
            tick_seq: i.tick_seq,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<OrderIntent, D::Error> {
        let r = Record::deserialize(d)?;
        Ok(OrderIntent {
            ticker: r.ticker,
            side: r.side,
            qty: r.qty,
            order_type: r.order_type,
            reason: static_reason(&r.reason),
            tick_seq: r.tick_seq,
            tick_received_at: None,
        })
    }
}

/// Most distinct reasons a replay keeps: a strategy has a handful; a tape with more is
/// hand-made or damaged, and its further reasons read as one word rather than grow memory.
const MAX_REASONS: usize = 4096;

/// An intent's reason is `&'static str` (strategies name theirs in code); a replayed one is
/// read from the tape, so each distinct text is kept once for the life of the process.
fn static_reason(text: &str) -> &'static str {
    static REASONS: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut known = REASONS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(r) = known.get(text) {
        return r;
    }
    if known.len() >= MAX_REASONS {
        return "(reason not kept)";
    }
    let r: &'static str = Box::leak(text.to_owned().into_boxed_str());
    known.insert(r);
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ExecNo, NewOrder, OrderNo};
    use crate::market::{DailyLimits, Price};

    fn t(code: &str) -> Ticker {
        Ticker::parse(code).unwrap()
    }

    fn buy(code: &str, qty: u64, price: i64) -> OrderIntent {
        OrderIntent {
            ticker: t(code),
            side: Side::Buy,
            qty: Qty::lit(qty),
            order_type: OrderType::Limit(Price::lit(price)),
            reason: "entry: test",
            tick_seq: 41,
            tick_received_at: None,
        }
    }

    /// What the OrderManager writes for one input: its receive time, stamp, input and
    /// command lines.
    struct Recorded {
        recv_ns: i64,
        stamp: StampRecord,
        input: String,
        commands: Vec<String>,
    }

    /// Drives `desk` as the live driver does, `ms` after an origin, and records each input
    /// as the OrderManager would (the park sweep only when worth it).
    struct LiveDriver {
        desk: OrderDesk,
        origin: Instant,
        tape: Vec<Recorded>,
        /// Every command, for the script to answer (sends, journal tickets).
        seen: Vec<Command>,
    }

    impl LiveDriver {
        fn feed(&mut self, ms: u64, input: DeskInput) {
            let now = Stamp {
                at: self.origin + Duration::from_millis(ms),
                day: TradingDay::new(2026, 12, 4).unwrap(),
                time: TimeOfDay::hms(9, 30, (ms / 1000) as u32 % 60),
                unix_ms: 1_764_808_200_000 + ms as i64,
            };
            let worth = worth_recording(&self.desk, &input);
            let json = serde_json::to_string(&input).unwrap();
            let mut out = Vec::new();
            self.desk.apply(input, now, &mut out);
            if worth {
                self.tape.push(Recorded {
                    recv_ns: 1_764_808_200_000_000_000 + ms as i64 * 1_000_000,
                    stamp: now.into(),
                    input: json,
                    commands: out.iter().map(command_line).collect(),
                });
            }
            self.seen.extend(out);
        }

        /// Reports every journal ticket given so far as durable.
        fn sync(&mut self, ms: u64) {
            let top = self
                .seen
                .iter()
                .filter_map(|c| match c {
                    Command::Journal { ticket, .. } => Some(*ticket),
                    _ => None,
                })
                .max();
            if let Some(ticket) = top {
                self.feed(ms, DeskInput::JournalDurable { ticket });
            }
        }

        fn sent(&self) -> Vec<ClientOrderId> {
            self.seen
                .iter()
                .filter_map(|c| match c {
                    Command::Send { id, .. } => Some(*id),
                    _ => None,
                })
                .collect()
        }
    }

    /// A morning: a buy that waits for its band, is journaled, sent, acked and filled in
    /// two parts (the first SC1 before the reply names the order: parked), a second buy
    /// refused by the gate, a sell, a rate burst that waits for the order rate, a cancel,
    /// a park sweep, the broker's order list, and the stop.
    fn a_morning() -> (DeskConfig, Vec<Recorded>) {
        let desk = OrderDesk::new(RiskLimits {
            max_order_qty: Qty::lit(1_000),
            ..RiskLimits::default()
        })
        .with_journal()
        .with_order_rate(2, RateExcess::Queue);
        let config = desk.config().clone();
        let mut live = LiveDriver {
            desk,
            origin: Instant::now(),
            tape: Vec::new(),
            seen: Vec::new(),
        };
        let a = "005930";
        live.feed(0, DeskInput::Start);
        live.feed(
            1,
            DeskInput::Intent {
                intent: buy(a, 10, 70_000),
            },
        );
        let band = Band {
            limits: DailyLimits::from_base(Price::lit(70_000)),
            last: Some(Price::lit(70_000)),
        };
        live.feed(
            3,
            DeskInput::Band {
                ticker: t(a),
                band: Some(band),
            },
        );
        live.sync(5);
        let first = live.sent()[0];
        // The first execution arrives before the reply: parked until the reply names it.
        live.feed(
            6,
            DeskInput::Account {
                event: AccountEvent::Filled {
                    order_no: OrderNo(5001),
                    exec_no: ExecNo(1),
                    ticker: t(a),
                    side: Side::Buy,
                    qty: Qty::lit(4),
                    price: Price::lit(70_000),
                    remaining: Qty::lit(6),
                    time: TimeOfDay::hms(9, 30, 0),
                },
            },
        );
        live.feed(
            7,
            DeskInput::Timer {
                timer: Timer::ParkSweep,
            },
        );
        live.feed(
            8,
            DeskInput::OrderReply {
                id: first,
                reply: OrderReply::Acked {
                    order_no: OrderNo(5001),
                    code: "00040".into(),
                },
            },
        );
        live.sync(9);
        live.feed(
            10,
            DeskInput::Account {
                event: AccountEvent::Filled {
                    order_no: OrderNo(5001),
                    exec_no: ExecNo(2),
                    ticker: t(a),
                    side: Side::Buy,
                    qty: Qty::lit(6),
                    price: Price::lit(70_100),
                    remaining: Qty::lit(0),
                    time: TimeOfDay::hms(9, 30, 0),
                },
            },
        );
        live.sync(11);
        // Over the fat-finger limit: refused by the gate.
        live.feed(
            12,
            DeskInput::Intent {
                intent: buy(a, 5_000, 70_000),
            },
        );
        live.sync(13);
        // Three buys at once at 2 a second: the third waits for the order rate.
        for (i, ms) in [(0, 20), (1, 21), (2, 22)] {
            let mut intent = buy(a, 1 + i, 70_000);
            intent.tick_seq = 50 + i;
            live.feed(ms, DeskInput::Intent { intent });
        }
        live.sync(23);
        live.feed(
            1_100,
            DeskInput::Timer {
                timer: Timer::OrderRate,
            },
        );
        live.sync(1_101);
        let sent = live.sent();
        let last = *sent.last().unwrap();
        live.feed(
            1_150,
            DeskInput::OrderReply {
                id: last,
                reply: OrderReply::Acked {
                    order_no: OrderNo(5009),
                    code: "00040".into(),
                },
            },
        );
        live.sync(1_151);
        live.feed(1_200, DeskInput::CancelAllWorking);
        live.feed(
            1_300,
            DeskInput::Timer {
                timer: Timer::ParkSweep,
            },
        );
        live.feed(
            1_400,
            DeskInput::BrokerOrders {
                orders: Err("t0425: timed out".into()),
            },
        );
        live.feed(1_500, DeskInput::Stop);
        (config, live.tape)
    }

    fn replay(config: &DeskConfig, tape: &[Recorded]) -> DeskOutcome {
        let mut r = DeskReplay::new();
        r.opened(&serde_json::to_string(config).unwrap());
        for (seq, rec) in tape.iter().enumerate() {
            r.input(
                seq as u64 + 2,
                rec.recv_ns,
                rec.stamp,
                &rec.input,
                &rec.commands,
            );
        }
        r.finish()
    }

    #[test]
    fn a_recorded_morning_replays_to_the_same_decisions() {
        let (config, tape) = a_morning();
        let out = replay(&config, &tape);
        assert_eq!(out.differences, vec![], "{:#?}", out.differences);
        assert_eq!((out.desks, out.replayed), (1, 1));
        assert_eq!(out.inputs as usize, tape.len());
        // The first buy, then two of the burst at once; its third waited for the rate.
        assert_eq!(out.orders_sent, 4, "{out:?}");
        assert!(tape
            .iter()
            .any(|r| r.commands.iter().any(|c| c.starts_with("wake OrderRate"))));
        assert_eq!(out.refusals, 1);
        assert_eq!(out.intents_received, 5);
        assert!(out.commands > 20, "{out:?}");
        // The sweep with something parked is on the tape; the one with nothing is not.
        let sweeps = tape
            .iter()
            .filter(|r| r.input.contains("park_sweep"))
            .count();
        assert_eq!(sweeps, 1);
    }

    #[test]
    fn a_changed_decision_is_one_difference_at_its_input() {
        let (config, mut tape) = a_morning();
        let at = tape
            .iter()
            .position(|r| r.commands.iter().any(|c| c.starts_with("refused")))
            .unwrap();
        tape[at].commands[0] = tape[at].commands[0].replace("max_order_qty", "max_order_notional");
        let out = replay(&config, &tape);
        assert_eq!(out.differences.len(), 1, "{:#?}", out.differences);
        assert_eq!(out.differences[0].record, at as u64 + 2);
        assert!(out.differences[0].input.contains("\"qty\":5000"));
    }

    #[test]
    fn a_desk_built_otherwise_differs_and_says_where() {
        // The same inputs through a desk with a lower order rate: the burst's first buy
        // now waits for the rate, and that is the first difference reported.
        let (mut config, tape) = a_morning();
        config.orders_per_sec = 1;
        let out = replay(&config, &tape);
        let first = &out.differences[0];
        assert!(first.input.contains("\"tick_seq\":50"), "{first:#?}");
        assert!(first.live[0].contains("order_sent"), "{first:#?}");
        assert!(
            first.replayed[0].starts_with("wake OrderRate"),
            "{first:#?}"
        );
    }

    #[test]
    fn a_desk_that_began_with_the_journals_state_is_named_not_replayed() {
        let (mut config, tape) = a_morning();
        config.carried_over = Some(CarriedOver {
            what: "2 order(s)".into(),
            journal_seq: 14,
            day: TradingDay::new(2026, 12, 4).unwrap(),
            unix_ms: 0,
        });
        let out = replay(&config, &tape);
        assert_eq!((out.desks, out.replayed, out.inputs), (1, 0, 0));
        assert!(out.not_replayed[0].contains("2 order(s)"), "{out:?}");
    }

    #[test]
    fn unreadable_settings_or_input_are_reported_not_fatal() {
        let mut r = DeskReplay::new();
        r.opened("{not json");
        assert!(r.finish().not_replayed[0].contains("unreadable"));
        let (config, tape) = a_morning();
        let mut r = DeskReplay::new();
        r.opened(&serde_json::to_string(&config).unwrap());
        r.input(
            9,
            tape[0].recv_ns,
            tape[0].stamp,
            "{\"input\":\"nonsense\"}",
            &[],
        );
        let out = r.finish();
        assert_eq!(out.differences.len(), 1);
        assert!(out.differences[0].replayed[0].contains("unreadable input"));
    }

    #[test]
    fn every_input_reads_back_as_written() {
        let inputs = vec![
            DeskInput::Start,
            DeskInput::Intent {
                intent: buy("005930", 3, 70_000),
            },
            DeskInput::Band {
                ticker: t("000660"),
                band: None,
            },
            DeskInput::OrderReply {
                id: ClientOrderId(3),
                reply: OrderReply::Lost {
                    error: "timed out".into(),
                },
            },
            DeskInput::CancelReply {
                id: ClientOrderId(3),
                reply: CancelReply::Refused {
                    code: "02714".into(),
                    message: "filled".into(),
                },
            },
            DeskInput::Account {
                event: AccountEvent::Rejected {
                    order_no: OrderNo::NONE,
                    org_order_no: OrderNo::NONE,
                    code: "1234".into(),
                    qty: Qty::lit(3),
                },
            },
            DeskInput::Timer {
                timer: Timer::SendPace,
            },
            DeskInput::JournalDurable { ticket: 9 },
            DeskInput::JournalFailed {
                why: "disk full".into(),
            },
            DeskInput::AccountFeedUp,
            DeskInput::BrokerOrders { orders: Ok(vec![]) },
            DeskInput::Cash {
                ours: 1_000,
                broker: 990,
            },
            DeskInput::Trip {
                cause: TripCause::Operator {
                    note: "lunch".into(),
                },
            },
            DeskInput::Stop,
            DeskInput::CancelAllWorking,
        ];
        for input in inputs {
            let text = serde_json::to_string(&input).unwrap();
            let back: DeskInput = serde_json::from_str(&text).unwrap();
            assert_eq!(back, input, "{text}");
        }
        // The reason comes back as the same static text, kept once.
        let a = static_reason("entry: test");
        assert!(std::ptr::eq(a, static_reason("entry: test")));
    }

    #[test]
    fn a_send_recorded_as_an_ls_block_reads_as_the_order_it_asked_for() {
        let order = NewOrder {
            ticker: t("005930"),
            side: Side::Buy,
            qty: Qty::lit(10),
            order_type: OrderType::Limit(Price::lit(70_100)),
        };
        let block = serde_json::to_string(&Cspat00601InBlock1::for_order(&order)).unwrap();
        let now = command_line(&Command::Send {
            id: ClientOrderId(7),
            order,
            waited: None,
        });
        assert_eq!(send_as_order(&format!("send C7 {block}")), now.as_str());
        assert_eq!(send_as_order(&now), now.as_str());
        for other in [
            "fetch orders",
            "send C7 {not json",
            "cancel C7 order 5 005930 1",
        ] {
            assert_eq!(send_as_order(other), other);
        }
    }
}
