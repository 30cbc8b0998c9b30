//! Processor: the mailbox queue every Tick goes through, in order, none lost. The live
//! driver of the trading core's [`StrategyDesk`] (one strategy per ticker): it stamps each
//! event with the market's time, records it on the tape in the order it arrived, feeds it
//! to the desk and sends the OrderIntents that come out to the OrderManager; then hands the
//! tick on to the actors a user's program added to watch every tick.
//!
//! Owns the desk, the tick counters and its tape recorder. Decides nothing itself: every
//! decision is the desk's, so `condor replay` reproduces it from the tape. Must never
//! block its mailbox (handlers are synchronous and short, anything slow goes to the
//! Compute pool), and never let an intent leave before the inputs that caused it are
//! handed to the tape's writer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::clock::{Clock, MarketClock};
use crate::compute::{Compute, Job, JobDone};
use crate::market::{Ticker, TimeOfDay};
use crate::messages::{
    ConditionEnter, ConditionExit, Deliver, Fill, Flush, IsFlat, NotifyFlat, OrderDone,
    OrderIntent, Percentiles, ProcessorStats, Tick, TickerFlat, TickerOwner, Ticks,
};
use crate::strategy::StrategyFactory;
use crate::tape::{
    TapeEvent, TapeIntent, TapeJobDone, TapeRecorder, TapeTime, TapeTrade, BATCH_RECORDS,
};
use crate::telemetry::{LatencyBuckets, Meters};
use crate::tick_backlog::{self, TickBacklog};
use crate::trading::StrategyDesk;

const LOG: &str = "condor::processor";

/// 1 ns to 60 s at 3 significant digits (the 0.1% resolution costs ~40 KiB once).
pub(crate) fn latency_histogram() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::new_with_bounds(1, 60_000_000_000, 3)
        .expect("static histogram bounds are valid")
}

/// Nanoseconds since `t`, at least 1 (the histogram's lowest value).
pub(crate) fn nanos_since(t: std::time::Instant) -> u64 {
    u64::try_from(t.elapsed().as_nanos())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The tape a Processor records on, with its time base.
struct Recording {
    recorder: TapeRecorder,
    time: TapeTime,
}

/// Room kept in a batch for the intents one input may cause, so an input and its intents
/// go to the writer in one batch (one block on disk): a crash can then never keep the
/// input and lose the intents, which replay would report as a difference.
const INTENT_ROOM: usize = 16;

impl Recording {
    fn record_input(&mut self, ns: i64, event: TapeEvent) {
        self.room_for_intents();
        self.recorder.record(ns, event);
    }

    /// [`Recording::record_input`] of a tick (nearly every input), encoded straight from it.
    #[inline]
    fn record_tick(&mut self, tick: &Tick) {
        self.room_for_intents();
        let ns = self.time.unix_ns(tick.received_at);
        self.recorder.record_trade(ns, &TapeTrade::from_tick(tick));
    }

    #[inline]
    fn room_for_intents(&mut self) {
        if self.recorder.buffered() + INTENT_ROOM >= BATCH_RECORDS {
            self.recorder.flush();
        }
    }
}

pub struct Processor {
    desk: StrategyDesk,
    /// Where what reached the desk is recorded, when the tape is on.
    tape: Option<Recording>,
    orders: Option<Recipient<Deliver<OrderIntent>>>,
    /// Told when an order that filled nothing leaves its ticker flat (see `OrderDone`).
    flat_to: Option<Recipient<TickerFlat>>,
    /// Gets the ticks of held tickers, to value positions (the Portfolio, for the day's
    /// loss limit). Only held ones: the rest would double the tick traffic for nothing.
    marks: Option<Recipient<Deliver<Tick>>>,
    /// Told which condition each ticker belongs to (the Portfolio's per-condition books).
    owners_to: Option<Recipient<TickerOwner>>,
    /// A user's actors that watch every tick (see `with_tick_watchers`).
    tick_watchers: Vec<Recipient<Deliver<Tick>>>,
    clock: Arc<dyn Clock>,
    /// The exchange's time, from the trades' own timestamps (see [`MarketClock`]).
    market: MarketClock,
    /// How often strategies get `on_timer`, for exits no tick brings (a held ticker that
    /// stops trading must still meet its time stop and the pre-close flatten).
    timer_every: Duration,
    stats: ProcessorStats,
    /// Reused for the desk's intents.
    intents: Vec<OrderIntent>,
    compute: Option<Addr<Compute>>,
    /// Ticks handled when each outstanding job was sent, by its ticker and asking tick.
    jobs: HashMap<(Ticker, u64), u64>,
    /// Socket read → strategy, in ns.
    latency: hdrhistogram::Histogram<u64>,
    /// Socket read → OrderIntent, in ns: the one record of it (`/status`, the bench and
    /// the Prometheus histogram all read this one).
    intent_latency: hdrhistogram::Histogram<u64>,
    meters: Option<Arc<Meters>>,
    /// Counts each tick handled: the tick path's one count (see `tick_backlog`).
    backlog: Arc<TickBacklog>,
    /// Ticks handled since the Processor last let the other actors run.
    since_yield: u32,
}

/// Ticks the Processor handles in a row before it lets the thread's other actors run.
/// actix drains a whole mailbox in one poll: with 100,000 ticks queued, a kill switch
/// trip at the OrderManager waited 27.7 ms for them all (engine bench, kill_switch).
const TICKS_PER_TURN: u32 = 64;

impl Processor {
    pub fn new(
        factory: Box<dyn StrategyFactory>,
        orders: Option<Recipient<Deliver<OrderIntent>>>,
        clock: Arc<dyn Clock>,
    ) -> Processor {
        Processor::trading(StrategyDesk::new(factory), orders, clock)
    }

    /// A Processor driving `desk` (several conditions, each with its strategy).
    pub fn trading(
        desk: StrategyDesk,
        orders: Option<Recipient<Deliver<OrderIntent>>>,
        clock: Arc<dyn Clock>,
    ) -> Processor {
        Processor {
            desk,
            tape: None,
            orders,
            flat_to: None,
            owners_to: None,
            marks: None,
            tick_watchers: Vec::new(),
            clock,
            market: MarketClock::default(),
            timer_every: Duration::from_secs(1),
            stats: ProcessorStats::default(),
            intents: Vec::new(),
            compute: None,
            jobs: HashMap::new(),
            latency: latency_histogram(),
            intent_latency: latency_histogram(),
            meters: None,
            backlog: TickBacklog::new(tick_backlog::DEFAULT_LIMIT),
            since_yield: 0,
        }
    }

    /// Records every event the desk receives, and every intent it produces, on `recorder`.
    pub fn with_tape(mut self, recorder: TapeRecorder) -> Processor {
        self.tape = Some(Recording {
            recorder,
            time: TapeTime::new(self.clock.as_ref()),
        });
        self
    }

    /// Counts the intents sent into `meters` (ticks are counted by the backlog).
    pub fn with_meters(mut self, meters: Option<Arc<Meters>>) -> Processor {
        self.meters = meters;
        self
    }

    /// Counts each tick taken off `backlog`, the session's bound on ticks in flight.
    pub fn with_backlog(mut self, backlog: Arc<TickBacklog>) -> Processor {
        self.backlog = backlog;
        self
    }

    /// Ticks run through the strategy so far.
    fn ticks(&self) -> u64 {
        self.backlog.counts().handled
    }

    /// Sends CPU-heavy work to this pool instead of running it on the loop.
    pub fn with_compute(mut self, pool: Addr<Compute>) -> Processor {
        self.compute = Some(pool);
        self
    }

    /// Tells `to` (the Portfolio) each ticker's condition as the desk gives it out.
    pub fn with_owners_to(mut self, to: Recipient<TickerOwner>) -> Processor {
        self.owners_to = Some(to);
        self
    }

    /// Passes the desk's new ticker owners on; cheap when there are none.
    fn tell_owners(&mut self) {
        if !self.desk.owners_changed() {
            return;
        }
        let changes = self.desk.take_owner_changes();
        if let Some(to) = &self.owners_to {
            for (ticker, condition) in changes {
                to.do_send(TickerOwner { ticker, condition });
            }
        }
    }

    /// Sends the ticks of held tickers to `to` (the Portfolio), to mark positions.
    pub fn with_marks(mut self, to: Recipient<Deliver<Tick>>) -> Processor {
        self.marks = Some(to);
        self
    }

    /// Sends every tick, after the strategy has seen it and its intents have gone, to each
    /// of `watchers` (`do_send`: a watcher never slows the Processor, and one whose actor
    /// has stopped misses the rest silently). None: nothing is sent.
    pub fn with_tick_watchers(mut self, watchers: Vec<Recipient<Deliver<Tick>>>) -> Processor {
        self.tick_watchers = watchers;
        self
    }

    /// Wakes the strategies every `every` instead of every second.
    pub fn with_timer_every(mut self, every: Duration) -> Processor {
        self.timer_every = every;
        self
    }

    /// The market's time now: the tape's, or the engine clock's before the first trade.
    fn market_time(&self) -> TimeOfDay {
        self.market
            .time_at(self.clock.now())
            .unwrap_or_else(|| self.clock.time_of_day())
    }

    /// Gives every strategy the market's time, and sends what it decides (time stop,
    /// flatten). Not before the run's first trade: the host's clock may be far from the
    /// market's (a simulator's day, a restart after hours), and a time rule run on it could
    /// flatten every recovered position at once.
    fn on_timer(&mut self) {
        let at = self.clock.now();
        let Some(now) = self.market.time_at(at) else {
            return;
        };
        // Every strategy may act on a timer: its intents start a batch of their own.
        if let Some(t) = &mut self.tape {
            t.recorder.flush();
        }
        self.record(at, TapeEvent::Timer { market_time: now });
        let mut intents = std::mem::take(&mut self.intents);
        self.desk.on_timer(now, &mut intents);
        for intent in intents.drain(..) {
            log::debug!(target: LOG, "{} timer at market time {now}", intent.ticker);
            self.send_intent(intent);
        }
        self.intents = intents;
        // At most a second of inputs waits in the recorder's buffer.
        if let Some(t) = &mut self.tape {
            t.recorder.flush();
        }
    }

    /// Records the input `event`, received at `at`, when the tape is on.
    fn record(&mut self, at: std::time::Instant, event: TapeEvent) {
        if let Some(t) = &mut self.tape {
            let ns = t.time.unix_ns(at);
            t.record_input(ns, event);
        }
    }

    /// Sends the jobs the strategies asked for to the pool; without one, runs them here.
    fn send_jobs(&mut self, ctx: &mut Context<Self>) {
        for (ticket, job) in self.desk.take_jobs() {
            self.stats.jobs_sent += 1;
            self.jobs
                .insert((ticket.ticker, ticket.asked_on), self.ticks());
            match &self.compute {
                Some(pool) => pool.do_send(Job {
                    ticket,
                    job,
                    reply_to: ctx.address().recipient(),
                }),
                None => {
                    let output = job.run();
                    self.job_done(JobDone { ticket, output });
                }
            }
        }
    }

    /// A job's answer: to its strategy (or dropped when its ticker left since), and the
    /// intents it causes out.
    fn job_done(&mut self, done: JobDone) {
        self.stats.jobs_done += 1;
        let ticket = done.ticket;
        if let Some(at) = self.jobs.remove(&(ticket.ticker, ticket.asked_on)) {
            self.stats.ticks_during_jobs += self.ticks() - at;
        }
        if let Err(e) = &done.output {
            log::warn!(target: LOG, "{} job of tick #{} failed: {e}", ticket.ticker, ticket.asked_on);
        }
        // Where the answer arrived among the ticks is an input too: a replay delivers the
        // recomputed answer at this place.
        self.record(
            self.clock.now(),
            TapeEvent::JobDone(Box::new(TapeJobDone {
                ticker: ticket.ticker,
                asked_on: ticket.asked_on,
                output: done.output.clone(),
            })),
        );
        let mut intents = std::mem::take(&mut self.intents);
        if !self.desk.on_job_done(&ticket, done.output, &mut intents) {
            self.stats.jobs_dropped += 1;
            log::debug!(target: LOG, "{} job of tick #{} answered after the ticker left: dropped", ticket.ticker, ticket.asked_on);
        }
        for intent in intents.drain(..) {
            if let Some(at) = intent.tick_received_at {
                let _ = self.intent_latency.record(nanos_since(at));
            }
            self.send_intent(intent);
        }
        self.intents = intents;
    }

    fn send_intent(&mut self, intent: OrderIntent) {
        self.stats.intents += 1;
        if let Some(t) = &mut self.tape {
            let ns = t
                .time
                .unix_ns(intent.tick_received_at.unwrap_or_else(|| self.clock.now()));
            t.recorder.record(
                ns,
                TapeEvent::Intent(Box::new(TapeIntent {
                    ticker: intent.ticker,
                    side: intent.side,
                    qty: intent.qty,
                    order_type: intent.order_type,
                    reason: intent.reason.to_owned(),
                    tick_seq: intent.tick_seq,
                })),
            );
            // The inputs that caused it reach the writer before the order can be
            // journaled, and the journal's group commit syncs the tape first.
            t.recorder.flush();
        }
        log::info!(target: LOG, "{} intent: {:?} {} {:?} ({})", intent.ticker, intent.side, intent.qty, intent.order_type, intent.reason);
        match &self.orders {
            Some(orders) => {
                orders.do_send(Deliver(intent));
                if let Some(m) = &self.meters {
                    m.intents_sent.inc();
                }
            }
            None => {
                log::warn!(target: LOG, "{} no order manager: intent dropped", intent.ticker)
            }
        }
    }
}

impl Actor for Processor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Plenty of room: ticks are never dropped, only queued (do_send ignores the cap).
        ctx.set_mailbox_capacity(1 << 16);
        ctx.run_interval(self.timer_every, |act, _| act.on_timer());
        log::info!(target: LOG, "processor started with strategy {}", self.desk.strategy_name());
    }
}

impl Processor {
    /// One tick, in the order the session read it: timed (when `timed`), recorded, run
    /// through its ticker's strategy, and the intents out. Its handler counts it.
    fn on_tick(&mut self, tick: Tick, timed: bool, ctx: &mut Context<Self>) {
        self.since_yield += 1;
        if self.since_yield >= TICKS_PER_TURN {
            // A backlog of ticks must not hold up control messages to other actors.
            self.since_yield = 0;
            ctx.wait(tokio::task::yield_now().into_actor(self));
        }
        if timed {
            let _ = self.latency.record(nanos_since(tick.received_at));
        }
        let clock = &self.clock;
        self.market.observe_with(tick.exchange_time, || clock.now());
        let s = &mut self.stats;
        if s.min_seq == 0 || tick.seq < s.min_seq {
            s.min_seq = tick.seq;
        }
        s.max_seq = s.max_seq.max(tick.seq);

        if let Some(t) = &mut self.tape {
            t.record_tick(&tick);
        }
        let mut intents = std::mem::take(&mut self.intents);
        let held = self.desk.on_tick(&tick, &mut intents);
        self.tell_owners();
        if let Some(marks) = self.marks.as_ref().filter(|_| held) {
            marks.do_send(Deliver(tick));
        }
        for intent in intents.drain(..) {
            let _ = self.intent_latency.record(nanos_since(tick.received_at));
            self.send_intent(intent);
        }
        self.intents = intents;
        if self.desk.has_jobs() {
            self.send_jobs(ctx);
        }
        for watcher in &self.tick_watchers {
            watcher.do_send(Deliver(tick));
        }
    }
}

impl Handler<Ticks> for Processor {
    type Result = ();
    fn handle(&mut self, Ticks(ticks): Ticks, ctx: &mut Context<Self>) {
        // Tick → strategy is timed once a message, by its first tick: each tick while they
        // come one at a time; under a firehose the read's first, its oldest
        // (a clock read per tick was 5% of the engine thread).
        let n = ticks.len() as u64;
        for (i, tick) in ticks.into_iter().enumerate() {
            self.on_tick(tick, i == 0, ctx);
        }
        // Counted a message at a time, as the session counts them.
        self.backlog.handled(n);
    }
}

/// One tick from a driver other than the session (a test, the bench).
impl Handler<Deliver<Tick>> for Processor {
    type Result = ();
    fn handle(&mut self, Deliver(tick): Deliver<Tick>, ctx: &mut Context<Self>) {
        self.on_tick(tick, true, ctx);
        self.backlog.handled(1);
    }
}

impl Handler<Deliver<ConditionEnter>> for Processor {
    type Result = ();
    fn handle(&mut self, Deliver(msg): Deliver<ConditionEnter>, _: &mut Context<Self>) {
        let now = self.market_time();
        self.record(
            self.clock.now(),
            TapeEvent::ConditionEnter {
                ticker: msg.ticker,
                market_time: now,
                condition: msg.condition,
            },
        );
        self.desk.on_condition_enter(msg.condition, msg.ticker, now);
        self.tell_owners();
    }
}

impl Handler<Deliver<ConditionExit>> for Processor {
    type Result = ();
    fn handle(&mut self, Deliver(msg): Deliver<ConditionExit>, _: &mut Context<Self>) {
        let now = self.market_time();
        self.record(
            self.clock.now(),
            TapeEvent::ConditionExit {
                ticker: msg.ticker,
                market_time: now,
                condition: msg.condition,
            },
        );
        self.desk.on_condition_exit(msg.condition, msg.ticker, now);
        self.tell_owners();
    }
}

impl Handler<IsFlat> for Processor {
    type Result = bool;
    fn handle(&mut self, msg: IsFlat, _: &mut Context<Self>) -> bool {
        self.desk.is_flat(msg.ticker)
    }
}

impl Handler<Flush> for Processor {
    type Result = MessageResult<Flush>;
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        if let Some(t) = &mut self.tape {
            t.recorder.flush();
        }
        let mut stats = self.stats.clone();
        stats.ticks = self.ticks();
        // The desk keeps each ticker's trades beside its strategy (one lookup a tick).
        stats.per_ticker = self.desk.seen().collect();
        stats.out_of_order = self.desk.stats().out_of_order;
        stats.tick_latency = Percentiles::of(&self.latency);
        stats.intent_latency = Percentiles::of(&self.intent_latency);
        stats.intent_buckets = LatencyBuckets::of(&self.intent_latency);
        MessageResult(stats)
    }
}

/// Starts recording on the given recorder, or stops (`None`), from the next message on;
/// the recorder it replaces hands over what it holds. For the engine bench, which measures
/// one running engine with recording on and off in alternating windows.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SetTape(pub Option<TapeRecorder>);

impl Handler<SetTape> for Processor {
    type Result = ();
    fn handle(&mut self, set: SetTape, _: &mut Context<Self>) {
        self.tape = set.0.map(|recorder| Recording {
            recorder,
            time: TapeTime::new(self.clock.as_ref()),
        });
    }
}

impl Handler<JobDone> for Processor {
    type Result = ();
    fn handle(&mut self, done: JobDone, _: &mut Context<Self>) {
        self.job_done(done);
    }
}

impl Handler<Deliver<Fill>> for Processor {
    type Result = ();
    fn handle(&mut self, Deliver(fill): Deliver<Fill>, _: &mut Context<Self>) {
        self.record(self.clock.now(), TapeEvent::Fill(fill));
        self.desk.on_fill(&fill);
        self.tell_owners();
    }
}

impl Handler<Deliver<OrderDone>> for Processor {
    type Result = ();
    fn handle(&mut self, Deliver(done): Deliver<OrderDone>, _: &mut Context<Self>) {
        self.record(
            self.clock.now(),
            TapeEvent::OrderDone {
                id: done.id.map(|id| id.0),
                ticker: done.ticker,
                side: done.side,
                filled: done.filled,
                rejected: done.rejected,
            },
        );
        // The Portfolio reports held → flat on the fill that closes a position; an order
        // that filled nothing moved no position, so the desk says when to report it.
        let flat = self.desk.on_order_done(&done);
        self.tell_owners();
        if flat {
            if let Some(to) = &self.flat_to {
                to.do_send(TickerFlat {
                    ticker: done.ticker,
                });
            }
        }
    }
}

/// A restart: the journal says `ticker` is `condition`'s; its strategy is built from that
/// condition before the recovered fills reach it.
impl Handler<TickerOwner> for Processor {
    type Result = ();
    fn handle(&mut self, msg: TickerOwner, _: &mut Context<Self>) {
        self.desk.seed_owner(msg.condition, msg.ticker);
        self.tell_owners();
    }
}

impl Handler<NotifyFlat> for Processor {
    type Result = ();
    fn handle(&mut self, msg: NotifyFlat, _: &mut Context<Self>) {
        self.flat_to = Some(msg.to);
    }
}

impl Handler<crate::messages::Retire> for Processor {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Retire, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::OrderNo;
    use std::time::Instant;

    use super::*;
    use crate::clock::ManualClock;
    use crate::market::{Price, Qty, Side};
    use crate::messages::ConditionId;
    use crate::strategy::{strategy_by_name, MomentumParams, MomentumStrategy, StrategyRegistry};
    use crate::tape::TapeStarted;

    /// Keeps the intents it is sent.
    #[derive(Default)]
    struct Intents(Vec<OrderIntent>);
    impl Actor for Intents {
        type Context = Context<Self>;
    }
    impl Handler<Deliver<OrderIntent>> for Intents {
        type Result = ();
        fn handle(&mut self, Deliver(i): Deliver<OrderIntent>, _: &mut Context<Self>) {
            self.0.push(i);
        }
    }
    #[derive(Message)]
    #[rtype(result = "Vec<OrderIntent>")]
    struct Taken;
    impl Handler<Taken> for Intents {
        type Result = MessageResult<Taken>;
        fn handle(&mut self, _: Taken, _: &mut Context<Self>) -> Self::Result {
            MessageResult(std::mem::take(&mut self.0))
        }
    }

    fn ticker() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn tick(seq: u64, at: TimeOfDay) -> Tick {
        Tick {
            ticker: ticker(),
            price: Price::lit(70_000),
            qty: Qty::lit(10),
            cum_volume: seq * 10,
            prev_close: Price::lit(69_000),
            aggressor: Side::Buy,
            exchange_time: at,
            received_at: Instant::now(),
            seq,
        }
    }

    /// The broker filled the entry whole at 70,000 won at 09:00:10: its fill, then its end.
    fn entry_filled(processor: &Addr<Processor>, qty: Qty) {
        processor.do_send(Deliver(Fill {
            ticker: ticker(),
            side: Side::Buy,
            price: Price::lit(70_000),
            qty,
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 0, 10),
        }));
        processor.do_send(Deliver(OrderDone {
            id: None,
            ticker: ticker(),
            side: Side::Buy,
            filled: qty,
            rejected: false,
        }));
    }

    /// Waits (a few timer periods at most) for the intents the collector has.
    async fn intents_after(to: &Addr<Intents>, want: usize) -> Vec<OrderIntent> {
        let mut got = Vec::new();
        for _ in 0..200 {
            got.extend(to.send(Taken).await.unwrap());
            if got.len() >= want {
                break;
            }
            actix_rt::time::sleep(Duration::from_millis(10)).await;
        }
        got
    }

    /// What the Processor receives and decides reaches the tape in its order, and the
    /// tape replays to the same intents: the live driver and the replay run one core.
    #[actix_rt::test]
    async fn what_the_processor_records_replays_to_the_same_intents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("day.tape");
        let tape = crate::tape::Tape::open(&path, "condor test").unwrap();
        let clock = ManualClock::new(TimeOfDay::hms(9, 0, 0));
        let params = MomentumParams {
            min_change_bp: -3000,
            confirm_ticks: 1,
            max_hold_secs: 30,
            ..MomentumParams::default()
        };
        let mut start = tape.recorder();
        start.record(
            0,
            TapeEvent::Started(Box::new(TapeStarted {
                writer: "condor test".into(),
                condition: "0000".into(),
                strategy: "momentum".into(),
                settings: params
                    .to_params()
                    .unwrap()
                    .settings()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            })),
        );
        start.flush();
        let intents = Intents::default().start();
        let processor = Processor::new(
            strategy_by_name("momentum", &params.to_params().unwrap()).unwrap(),
            Some(intents.clone().recipient()),
            Arc::new(clock.clone()),
        )
        .with_timer_every(Duration::from_millis(5))
        .with_tape(tape.recorder())
        .start();
        processor.do_send(Deliver(ConditionEnter {
            ticker: ticker(),
            condition: ConditionId::FIRST,
        }));
        processor.do_send(Deliver(tick(1, TimeOfDay::hms(9, 0, 10))));
        let entry = intents_after(&intents, 1).await;
        assert_eq!(entry.len(), 1);
        entry_filled(&processor, entry[0].qty);
        processor.do_send(Deliver(tick(2, TimeOfDay::hms(9, 0, 11))));
        clock.advance_secs(40);
        let exit = intents_after(&intents, 1).await;
        assert_eq!(exit[0].reason, MomentumStrategy::REASON_TIME_STOP);
        processor.send(Flush).await.unwrap();
        tape.sync().unwrap();

        let file = crate::tape::read(&path).unwrap();
        let kinds: Vec<&str> = file
            .records
            .iter()
            .map(|r| r.event.kind_name())
            .filter(|k| *k != "timer")
            .collect();
        assert_eq!(
            kinds,
            ["started", "enter", "trade", "intent", "fill", "done", "trade", "intent"],
        );
        let out = crate::trading::replay::replay(file.records.iter().cloned().map(Ok), |s| {
            let settings = s.settings.into_iter().flatten();
            StrategyRegistry::new()
                .build_from_settings("momentum", settings.map(|(k, v)| (k.as_str(), v.as_str())))
        })
        .unwrap();
        assert_eq!(out.live.len(), 2);
        assert!(out.differences.is_empty(), "{:?}", out.differences);
        // The recorded trade is the tick the Processor got, but for its receive instant.
        let crate::tape::TapeEvent::Trade(t) = &file.records[2].event else {
            panic!("{:?}", file.records[2]);
        };
        let sent = tick(1, TimeOfDay::hms(9, 0, 10));
        assert_eq!(t.to_tick(sent.received_at), sent);
    }

    /// After a restart, positions come back before any trade does. With a wall clock past
    /// the close and no trade yet, the timer must not flatten them on the host's time.
    #[actix_rt::test]
    async fn no_time_rule_runs_before_the_first_trade() {
        let clock = ManualClock::new(TimeOfDay::hms(21, 0, 0));
        let intents = Intents::default().start();
        let processor = Processor::new(
            strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap()).unwrap(),
            Some(intents.clone().recipient()),
            Arc::new(clock.clone()),
        )
        .with_timer_every(Duration::from_millis(5))
        .start();
        // The recovered holding, as the journal replays it.
        processor.do_send(Deliver(Fill {
            ticker: ticker(),
            side: Side::Buy,
            price: Price::lit(70_000),
            qty: Qty::lit(10),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 0, 5),
        }));
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        let none = intents.send(Taken).await.unwrap();
        assert!(none.is_empty(), "flattened on the host's clock: {none:?}");
        // The first trade gives the market's time (09:00:10): still nothing to do.
        processor.do_send(Deliver(tick(1, TimeOfDay::hms(9, 0, 10))));
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        let none = intents.send(Taken).await.unwrap();
        assert!(none.is_empty(), "{none:?}");
    }

    /// A held ticker that stops trading still meets its time stop: the timer runs the
    /// strategy on the market's time (the trades' clock moved on by the engine's), not
    /// on the host's wall clock, which here reads a time of day far from the trades'.
    #[actix_rt::test]
    async fn the_time_stop_fires_on_the_market_clock_when_ticks_stop() {
        let clock = ManualClock::new(TimeOfDay::hms(21, 0, 0));
        let params = MomentumParams {
            min_change_bp: -3000,
            confirm_ticks: 1,
            max_hold_secs: 30,
            ..MomentumParams::default()
        };
        let intents = Intents::default().start();
        let processor = Processor::new(
            strategy_by_name("momentum", &params.to_params().unwrap()).unwrap(),
            Some(intents.clone().recipient()),
            Arc::new(clock.clone()),
        )
        .with_timer_every(Duration::from_millis(5))
        .start();
        processor.do_send(Deliver(ConditionEnter {
            ticker: ticker(),
            condition: ConditionId::FIRST,
        }));
        processor.do_send(Deliver(tick(1, TimeOfDay::hms(9, 0, 10))));
        let entry = intents_after(&intents, 1).await;
        assert_eq!(entry.len(), 1);
        assert_eq!(entry[0].reason, MomentumStrategy::REASON_ENTRY);
        entry_filled(&processor, entry[0].qty);
        // No trade comes. 29 s on, the position is young: nothing (the 21:00 wall clock
        // would have stopped it at once, and flattened it as after the close).
        clock.advance_secs(29);
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        let none = intents.send(Taken).await.unwrap();
        assert!(none.is_empty(), "{none:?}");
        // At 30 s the timer sells it, with no tick to cause it.
        clock.advance_secs(1);
        let exit = intents_after(&intents, 1).await;
        assert_eq!(exit.len(), 1, "{exit:?}");
        assert_eq!(exit[0].side, Side::Sell);
        assert_eq!(exit[0].qty, entry[0].qty);
        assert_eq!(exit[0].reason, MomentumStrategy::REASON_TIME_STOP);
        assert_eq!(exit[0].tick_seq, 0);
        // Sent once, not once per timer.
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        let none = intents.send(Taken).await.unwrap();
        assert!(none.is_empty(), "{none:?}");
    }
}
