//! Processor: the mailbox queue every Tick goes through, in order, none lost. Runs one
//! strategy per ticker (plain structs behind the `Strategy` trait) and turns its
//! signals into OrderIntents for the OrderManager; then hands the tick on to the actors a
//! user's program added to watch every tick.
//!
//! Owns the strategies and the tick counters. Must never block its mailbox: handlers are
//! synchronous and short, and anything slow goes to the Compute pool.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use rustc_hash::FxHashMap;

use crate::clock::{Clock, MarketClock};
use crate::compute::{Compute, Job, JobDone};
use crate::market::{Ticker, TimeOfDay};
use crate::messages::{
    ConditionEnter, ConditionExit, Fill, Flush, IsFlat, NotifyFlat, OrderDone, OrderIntent,
    Percentiles, ProcessorStats, Tick, TickerFlat,
};
use crate::strategy::{Signal, Strategy, StrategyFactory};
use crate::telemetry::Meters;
use crate::tick_backlog::TickBacklog;

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

pub struct Processor {
    factory: Box<dyn StrategyFactory>,
    strategies: FxHashMap<Ticker, Box<dyn Strategy>>,
    orders: Option<Recipient<OrderIntent>>,
    /// Told when an order that filled nothing leaves its ticker flat (see `OrderDone`).
    flat_to: Option<Recipient<TickerFlat>>,
    /// Gets the ticks of held tickers, to value positions (the Portfolio, for the day's
    /// loss limit). Only held ones: the rest would double the tick traffic for nothing.
    marks: Option<Recipient<Tick>>,
    /// A user's actors that watch every tick (see `with_tick_watchers`).
    tick_watchers: Vec<Recipient<Tick>>,
    clock: Arc<dyn Clock>,
    /// The exchange's time, from the trades' own timestamps (see [`MarketClock`]).
    market: MarketClock,
    /// How often strategies get `on_timer`, for exits no tick brings (a held ticker that
    /// stops trading must still meet its time stop and the pre-close flatten).
    timer_every: Duration,
    stats: ProcessorStats,
    signals: Vec<Signal>,
    compute: Option<Addr<Compute>>,
    /// Ticks handled when each outstanding job was sent, by the job's tick seq.
    jobs: HashMap<u64, u64>,
    /// Socket read → strategy, in ns.
    latency: hdrhistogram::Histogram<u64>,
    /// Socket read → OrderIntent, in ns.
    intent_latency: hdrhistogram::Histogram<u64>,
    meters: Option<Arc<Meters>>,
    backlog: Option<Arc<TickBacklog>>,
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
        orders: Option<Recipient<OrderIntent>>,
        clock: Arc<dyn Clock>,
    ) -> Processor {
        Processor {
            factory,
            strategies: FxHashMap::default(),
            orders,
            flat_to: None,
            marks: None,
            tick_watchers: Vec::new(),
            clock,
            market: MarketClock::default(),
            timer_every: Duration::from_secs(1),
            stats: ProcessorStats::default(),
            signals: Vec::new(),
            compute: None,
            jobs: HashMap::new(),
            latency: latency_histogram(),
            intent_latency: latency_histogram(),
            meters: None,
            backlog: None,
            since_yield: 0,
        }
    }

    /// Counts ticks and intents, and times tick → intent, into `meters`.
    pub fn with_meters(mut self, meters: Option<Arc<Meters>>) -> Processor {
        self.meters = meters;
        self
    }

    /// Counts each tick taken off `backlog`, the session's bound on ticks in flight.
    pub fn with_backlog(mut self, backlog: Arc<TickBacklog>) -> Processor {
        self.backlog = Some(backlog);
        self
    }

    /// Sends CPU-heavy work to this pool instead of running it on the loop.
    pub fn with_compute(mut self, pool: Addr<Compute>) -> Processor {
        self.compute = Some(pool);
        self
    }

    /// Sends the ticks of held tickers to `to` (the Portfolio), to mark positions.
    pub fn with_marks(mut self, to: Recipient<Tick>) -> Processor {
        self.marks = Some(to);
        self
    }

    /// Sends every tick, after the strategy has seen it and its intents have gone, to each
    /// of `watchers` (`do_send`: a watcher never slows the Processor, and one whose actor
    /// has stopped misses the rest silently). None: nothing is sent.
    pub fn with_tick_watchers(mut self, watchers: Vec<Recipient<Tick>>) -> Processor {
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
        let Some(now) = self.market.time_at(self.clock.now()) else {
            return;
        };
        let mut signals = std::mem::take(&mut self.signals);
        let mut intents = Vec::new();
        for (ticker, strategy) in &mut self.strategies {
            strategy.on_timer(now, &mut signals);
            intents.extend(signals.drain(..).map(|s| s.into_timer_intent(*ticker)));
        }
        self.signals = signals;
        for intent in intents {
            log::debug!(target: LOG, "{} timer at market time {now}", intent.ticker);
            self.send_intent(intent);
        }
    }

    fn send_intent(&mut self, intent: OrderIntent) {
        self.stats.intents += 1;
        log::info!(target: LOG, "{} intent: {:?} {} {:?} ({})", intent.ticker, intent.side, intent.qty, intent.order_type, intent.reason);
        match &self.orders {
            Some(orders) => {
                orders.do_send(intent);
                if let Some(m) = &self.meters {
                    m.intents_sent.inc();
                }
            }
            None => {
                log::warn!(target: LOG, "{} no order manager: intent dropped", intent.ticker)
            }
        }
    }

    fn strategy(&mut self, ticker: Ticker) -> &mut Box<dyn Strategy> {
        let factory = &self.factory;
        self.strategies
            .entry(ticker)
            .or_insert_with(|| factory.build(ticker))
    }
}

impl Actor for Processor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        // Plenty of room: ticks are never dropped, only queued (do_send ignores the cap).
        ctx.set_mailbox_capacity(1 << 16);
        ctx.run_interval(self.timer_every, |act, _| act.on_timer());
        log::info!(target: LOG, "processor started with strategy {}", self.factory.name());
    }
}

impl Handler<Tick> for Processor {
    type Result = ();
    fn handle(&mut self, tick: Tick, ctx: &mut Context<Self>) {
        self.since_yield += 1;
        if self.since_yield >= TICKS_PER_TURN {
            // A backlog of ticks must not hold up control messages to other actors.
            self.since_yield = 0;
            ctx.wait(tokio::task::yield_now().into_actor(self));
        }
        if let Some(m) = &self.meters {
            m.processor_ticks_received.inc();
        }
        if let Some(b) = &self.backlog {
            b.handled();
        }
        let _ = self.latency.record(nanos_since(tick.received_at));
        let clock = &self.clock;
        self.market.observe_with(tick.exchange_time, || clock.now());
        let s = &mut self.stats;
        s.ticks += 1;
        if s.min_seq == 0 || tick.seq < s.min_seq {
            s.min_seq = tick.seq;
        }
        s.max_seq = s.max_seq.max(tick.seq);
        let entry = s.per_ticker.entry(tick.ticker).or_default();
        if entry.0 > 0 && tick.seq <= entry.1 {
            s.out_of_order += 1;
            log::warn!(target: LOG, "{} tick #{} after #{}: out of order", tick.ticker, tick.seq, entry.1);
        }
        *entry = (entry.0 + 1, tick.seq);

        let mut signals = std::mem::take(&mut self.signals);
        let strategy = self.strategy(tick.ticker);
        strategy.on_tick(&tick, &mut signals);
        let held = strategy.position().0 > 0;
        if let Some(marks) = self.marks.as_ref().filter(|_| held) {
            marks.do_send(tick);
        }
        for signal in signals.drain(..) {
            let intent = signal.into_intent(&tick);
            let _ = self.intent_latency.record(nanos_since(tick.received_at));
            if let Some(m) = &self.meters {
                Meters::observe(&m.tick_to_intent, tick.received_at.elapsed());
            }
            self.send_intent(intent);
        }
        self.signals = signals;
        for watcher in &self.tick_watchers {
            watcher.do_send(tick);
        }
        if let Some(m) = &self.meters {
            m.processor_ticks_processed.inc();
        }
    }
}

impl Handler<ConditionEnter> for Processor {
    type Result = ();
    fn handle(&mut self, msg: ConditionEnter, _: &mut Context<Self>) {
        let now = self.market_time();
        self.strategy(msg.ticker).on_condition_enter(now);
    }
}

impl Handler<ConditionExit> for Processor {
    type Result = ();
    fn handle(&mut self, msg: ConditionExit, _: &mut Context<Self>) {
        let now = self.market_time();
        if let Some(s) = self.strategies.get_mut(&msg.ticker) {
            s.on_condition_exit(now);
        }
    }
}

impl Handler<IsFlat> for Processor {
    type Result = bool;
    fn handle(&mut self, msg: IsFlat, _: &mut Context<Self>) -> bool {
        self.strategies
            .get(&msg.ticker)
            .is_none_or(|s| s.position().0 == 0 && !s.has_working_order())
    }
}

impl Handler<Flush> for Processor {
    type Result = MessageResult<Flush>;
    fn handle(&mut self, _: Flush, _: &mut Context<Self>) -> Self::Result {
        let mut stats = self.stats.clone();
        stats.tick_latency = Percentiles::of(&self.latency);
        stats.intent_latency = Percentiles::of(&self.intent_latency);
        MessageResult(stats)
    }
}

/// Run `work` for `ticker` in the Compute pool; the result comes back as `JobDone`.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Offload {
    pub ticker: Ticker,
    /// The tick that asked, to match the result (workers finish out of order).
    pub seq: u64,
    pub work: Box<dyn FnOnce() -> i64 + Send>,
}

impl Handler<Offload> for Processor {
    type Result = ();
    fn handle(&mut self, msg: Offload, ctx: &mut Context<Self>) {
        let Some(pool) = &self.compute else {
            log::warn!(target: LOG, "{} job #{} dropped: no compute pool", msg.ticker, msg.seq);
            return;
        };
        self.jobs.insert(msg.seq, self.stats.ticks);
        self.stats.jobs_sent += 1;
        pool.do_send(Job {
            ticker: msg.ticker,
            seq: msg.seq,
            work: msg.work,
            reply_to: ctx.address().recipient(),
        });
    }
}

impl Handler<JobDone> for Processor {
    type Result = ();
    fn handle(&mut self, done: JobDone, _: &mut Context<Self>) {
        self.stats.jobs_done += 1;
        if let Some(at) = self.jobs.remove(&done.seq) {
            self.stats.ticks_during_jobs += self.stats.ticks - at;
        }
        match done.output {
            Ok(v) => log::debug!(target: LOG, "{} job #{} done: {v}", done.ticker, done.seq),
            Err(e) => log::warn!(target: LOG, "{} job #{} failed: {e}", done.ticker, done.seq),
        }
    }
}

impl Handler<Fill> for Processor {
    type Result = ();
    fn handle(&mut self, fill: Fill, _: &mut Context<Self>) {
        // A fill for a ticker with no strategy yet still creates one: the shares are real
        // and the strategy must know it holds them.
        self.strategy(fill.ticker).on_fill(&fill);
    }
}

impl Handler<OrderDone> for Processor {
    type Result = ();
    fn handle(&mut self, done: OrderDone, _: &mut Context<Self>) {
        let s = self.strategy(done.ticker);
        s.on_order_done(done.side, done.filled, done.rejected);
        // The Portfolio reports held → flat on the fill that closes a position. An order
        // that filled nothing moved no position, so the Portfolio cannot see this case (an
        // entry cancelled or refused, the ticker never held): report it here, and only
        // here, so one event is never reported twice.
        if done.filled.0 == 0 && s.position().0 == 0 && !s.has_working_order() {
            if let Some(to) = &self.flat_to {
                to.do_send(TickerFlat {
                    ticker: done.ticker,
                });
            }
        }
    }
}

impl Handler<NotifyFlat> for Processor {
    type Result = ();
    fn handle(&mut self, msg: NotifyFlat, _: &mut Context<Self>) {
        self.flat_to = Some(msg.to);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::clock::ManualClock;
    use crate::market::{Price, Qty, Side};
    use crate::strategy::{strategy_by_name, MomentumParams, MomentumStrategy};

    /// Keeps the intents it is sent.
    #[derive(Default)]
    struct Intents(Vec<OrderIntent>);
    impl Actor for Intents {
        type Context = Context<Self>;
    }
    impl Handler<OrderIntent> for Intents {
        type Result = ();
        fn handle(&mut self, i: OrderIntent, _: &mut Context<Self>) {
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
            price: Price(70_000),
            qty: Qty(10),
            cum_volume: seq * 10,
            prev_close: Price(69_000),
            aggressor: Side::Buy,
            exchange_time: at,
            received_at: Instant::now(),
            seq,
        }
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

    /// After a restart, positions come back before any trade does. With a wall clock past
    /// the close and no trade yet, the timer must not flatten them on the host's time.
    #[actix_rt::test]
    async fn no_time_rule_runs_before_the_first_trade() {
        let clock = ManualClock::new(TimeOfDay::hms(21, 0, 0));
        let intents = Intents::default().start();
        let processor = Processor::new(
            strategy_by_name("momentum", &MomentumParams::default()).unwrap(),
            Some(intents.clone().recipient()),
            Arc::new(clock.clone()),
        )
        .with_timer_every(Duration::from_millis(5))
        .start();
        // The recovered holding, as the journal replays it.
        processor.do_send(Fill {
            ticker: ticker(),
            side: Side::Buy,
            price: Price(70_000),
            qty: Qty(10),
            order_no: 1,
            time: TimeOfDay::hms(9, 0, 5),
        });
        actix_rt::time::sleep(Duration::from_millis(50)).await;
        let none = intents.send(Taken).await.unwrap();
        assert!(none.is_empty(), "flattened on the host's clock: {none:?}");
        // The first trade gives the market's time (09:00:10): still nothing to do.
        processor.do_send(tick(1, TimeOfDay::hms(9, 0, 10)));
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
            strategy_by_name("momentum", &params).unwrap(),
            Some(intents.clone().recipient()),
            Arc::new(clock.clone()),
        )
        .with_timer_every(Duration::from_millis(5))
        .start();
        processor.do_send(ConditionEnter { ticker: ticker() });
        processor.do_send(tick(1, TimeOfDay::hms(9, 0, 10)));
        let entry = intents_after(&intents, 1).await;
        assert_eq!(entry.len(), 1);
        assert_eq!(entry[0].reason, MomentumStrategy::REASON_ENTRY);
        processor.do_send(Fill {
            ticker: ticker(),
            side: Side::Buy,
            price: Price(70_000),
            qty: entry[0].qty,
            order_no: 1,
            time: TimeOfDay::hms(9, 0, 10),
        });
        processor.do_send(OrderDone {
            id: None,
            ticker: ticker(),
            side: Side::Buy,
            filled: entry[0].qty,
            rejected: false,
        });
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
