//! The strategies' part of the trading core: one strategy state per ticker, built on the
//! ticker's first event, fed every event the Processor receives, in order, and turning
//! their signals into [`OrderIntent`]s.
//!
//! The Processor actor (live) and [`super::replay`] (a recorded day) both drive this, so
//! the same inputs give the same intents. Must never read a clock, do I/O or depend on
//! hash-map order: on a timer the strategies are woken in ticker order.

use std::time::Instant;

use rustc_hash::FxHashMap;

use crate::market::{Ticker, TimeOfDay};
use crate::messages::{Fill, OrderDone, OrderIntent, Tick};
use crate::strategy::{ComputeJob, JobAnswer, JobOutput, Signal, Strategy, StrategyFactory};

/// Which job an answer belongs to: the ticker, the tick that asked, and the ticker's stay
/// in the condition it was asked in (an answer from an earlier stay is dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobTicket {
    pub ticker: Ticker,
    /// The sequence number of the tick that asked.
    pub asked_on: u64,
    /// That tick's receive time (live only), for the tick → intent latency.
    pub received_at: Option<Instant>,
    stay: u32,
}

impl JobTicket {
    /// A ticket of the ticker's first stay (tests and tools; the desk makes the real ones).
    pub fn new(ticker: Ticker, asked_on: u64, received_at: Option<Instant>) -> JobTicket {
        JobTicket {
            ticker,
            asked_on,
            received_at,
            stay: 0,
        }
    }
}

/// See the module docs.
pub struct StrategyDesk {
    factory: Box<dyn StrategyFactory>,
    strategies: FxHashMap<Ticker, Box<dyn Strategy>>,
    /// Reused between calls: a tick usually signals nothing, and this saves an allocation.
    signals: Vec<Signal>,
    /// Tickers in order, for the timer (rebuilt only when a strategy is added).
    order: Vec<Ticker>,
    /// Per ticker, its condition exits so far: a job's answer goes only to the stay it was
    /// asked in.
    stays: FxHashMap<Ticker, u32>,
    /// Jobs asked for since the driver last took them.
    asked: Vec<(JobTicket, ComputeJob)>,
}

impl StrategyDesk {
    pub fn new(factory: Box<dyn StrategyFactory>) -> StrategyDesk {
        StrategyDesk {
            factory,
            strategies: FxHashMap::default(),
            signals: Vec::new(),
            order: Vec::new(),
            stays: FxHashMap::default(),
            asked: Vec::new(),
        }
    }

    /// The strategy's configuration name.
    pub fn strategy_name(&self) -> &'static str {
        self.factory.name()
    }

    fn strategy(&mut self, ticker: Ticker) -> &mut Box<dyn Strategy> {
        if !self.strategies.contains_key(&ticker) {
            let at = self.order.binary_search(&ticker).unwrap_or_else(|i| i);
            self.order.insert(at, ticker);
        }
        let factory = &self.factory;
        self.strategies
            .entry(ticker)
            .or_insert_with(|| factory.build(ticker))
    }

    /// A trade of `tick.ticker`: its intents are pushed to `out`. Returns whether the
    /// ticker is held after it (the driver marks held positions).
    pub fn on_tick(&mut self, tick: &Tick, out: &mut Vec<OrderIntent>) -> bool {
        let mut signals = std::mem::take(&mut self.signals);
        let strategy = self.strategy(tick.ticker);
        strategy.on_tick(tick, &mut signals);
        let held = strategy.position().0 > 0;
        if let Some(job) = strategy.take_job() {
            let ticket = JobTicket {
                ticker: tick.ticker,
                asked_on: tick.seq,
                received_at: Some(tick.received_at),
                stay: self.stays.get(&tick.ticker).copied().unwrap_or(0),
            };
            self.asked.push((ticket, job));
        }
        out.extend(signals.drain(..).map(|s| s.into_intent(tick)));
        self.signals = signals;
        held
    }

    /// True when a strategy asked for a job since [`Self::take_jobs`] was last called.
    pub fn has_jobs(&self) -> bool {
        !self.asked.is_empty()
    }

    /// The jobs asked for, in the order asked, for the driver to run.
    pub fn take_jobs(&mut self) -> Vec<(JobTicket, ComputeJob)> {
        std::mem::take(&mut self.asked)
    }

    /// Runs every job asked for here and now and delivers each answer at once, in the
    /// order asked: the backtest's way (no compute latency).
    pub fn run_jobs_inline(&mut self, out: &mut Vec<OrderIntent>) {
        for (ticket, job) in self.take_jobs() {
            let output = job.run();
            self.on_job_done(&ticket, output, out);
        }
    }

    /// A job's answer: to its strategy, whose intents are pushed to `out`, when the ticker
    /// is still in the stay it asked in; otherwise dropped (returns false).
    pub fn on_job_done(
        &mut self,
        ticket: &JobTicket,
        output: JobOutput,
        out: &mut Vec<OrderIntent>,
    ) -> bool {
        if self.stays.get(&ticket.ticker).copied().unwrap_or(0) != ticket.stay {
            return false;
        }
        let Some(strategy) = self.strategies.get_mut(&ticket.ticker) else {
            return false;
        };
        let mut signals = std::mem::take(&mut self.signals);
        let answer = JobAnswer {
            asked_on: ticket.asked_on,
            output,
        };
        strategy.on_job_done(&answer, &mut signals);
        out.extend(
            signals
                .drain(..)
                .map(|s| s.into_job_intent(ticket.ticker, ticket.asked_on, ticket.received_at)),
        );
        self.signals = signals;
        true
    }

    /// The periodic wake-up at market time `now`: every strategy, in ticker order, for
    /// exits no tick brings (time stop, pre-close flatten).
    pub fn on_timer(&mut self, now: TimeOfDay, out: &mut Vec<OrderIntent>) {
        let mut signals = std::mem::take(&mut self.signals);
        for ticker in &self.order {
            if let Some(strategy) = self.strategies.get_mut(ticker) {
                strategy.on_timer(now, &mut signals);
                out.extend(signals.drain(..).map(|s| s.into_timer_intent(*ticker)));
            }
        }
        self.signals = signals;
    }

    /// The screener says `ticker` matches, at market time `now`.
    pub fn on_condition_enter(&mut self, ticker: Ticker, now: TimeOfDay) {
        self.strategy(ticker).on_condition_enter(now);
    }

    /// The screener says `ticker` no longer matches. A ticker never seen has nothing to
    /// stop.
    pub fn on_condition_exit(&mut self, ticker: Ticker, now: TimeOfDay) {
        if let Some(s) = self.strategies.get_mut(&ticker) {
            s.on_condition_exit(now);
            *self.stays.entry(ticker).or_insert(0) += 1;
        }
    }

    /// An execution of one of our orders. A ticker with no strategy yet gets one: the
    /// shares are real and the strategy must know it holds them (a restart's recovered
    /// holdings come this way).
    pub fn on_fill(&mut self, fill: &Fill) {
        self.strategy(fill.ticker).on_fill(fill);
    }

    /// One of our orders is done. Returns true when the ticker is flat because of an
    /// order that filled nothing (an entry cancelled or refused): a position that closed
    /// on a fill is the Portfolio's to report, so one event is never reported twice.
    pub fn on_order_done(&mut self, done: &OrderDone) -> bool {
        let s = self.strategy(done.ticker);
        s.on_order_done(done.side, done.filled, done.rejected);
        done.filled.0 == 0 && s.position().0 == 0 && !s.has_working_order()
    }

    /// True when `ticker` holds nothing and has no order working (or was never seen).
    pub fn is_flat(&self, ticker: Ticker) -> bool {
        self.strategies
            .get(&ticker)
            .is_none_or(|s| s.position().0 == 0 && !s.has_working_order())
    }

    /// Tickers that have a strategy.
    pub fn tickers(&self) -> usize {
        self.strategies.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::market::{Price, Qty, Side};
    use crate::strategy::{
        strategy_by_name, MomentumParams, MomentumStrategy, VwapBandFactory, VwapBandParams,
        VwapBandStrategy,
    };

    fn t(code: &str) -> Ticker {
        Ticker::parse(code).unwrap()
    }

    fn tick(ticker: Ticker, seq: u64, price: i64, at: TimeOfDay) -> Tick {
        Tick {
            ticker,
            price: Price(price),
            qty: Qty(10),
            cum_volume: seq * 10,
            prev_close: Price(10_000),
            aggressor: Side::Buy,
            exchange_time: at,
            received_at: Instant::now(),
            seq,
        }
    }

    fn eager() -> StrategyDesk {
        let params = MomentumParams {
            min_change_bp: -3000,
            confirm_ticks: 1,
            max_hold_secs: 30,
            ..MomentumParams::default()
        };
        StrategyDesk::new(strategy_by_name("momentum", &params.to_params().unwrap()).unwrap())
    }

    fn scoring() -> StrategyDesk {
        let params = VwapBandParams {
            min_trades: 10,
            trend_trades: 10,
            min_change_bp: 0,
            ..VwapBandParams::default()
        };
        StrategyDesk::new(Box::new(VwapBandFactory { params }))
    }

    /// Rising trades of `a` from seq `first`; the jobs asked on the way.
    fn rising(
        desk: &mut StrategyDesk,
        a: Ticker,
        first: u64,
        n: u64,
    ) -> Vec<(JobTicket, ComputeJob)> {
        let mut out = Vec::new();
        let mut jobs = Vec::new();
        for seq in first..first + n {
            desk.on_tick(
                &tick(a, seq, 10_000 + seq as i64, TimeOfDay::hms(9, 0, 1)),
                &mut out,
            );
            jobs.extend(desk.take_jobs());
        }
        assert!(out.is_empty());
        jobs
    }

    #[test]
    fn a_jobs_answer_reaches_its_stay_and_one_from_an_earlier_stay_is_dropped() {
        let mut desk = scoring();
        let a = t("005930");
        let mut out = Vec::new();
        desk.on_condition_enter(a, TimeOfDay::hms(9, 0, 0));
        let mut jobs = rising(&mut desk, a, 1, 10);
        assert_eq!(jobs.len(), 1, "the tenth trade asks");
        let (old, old_job) = jobs.remove(0);
        assert_eq!(old.asked_on, 10);
        // The ticker leaves and comes back before the answer: the answer is the old stay's.
        desk.on_condition_exit(a, TimeOfDay::hms(9, 0, 2));
        desk.on_condition_enter(a, TimeOfDay::hms(9, 0, 3));
        assert!(!desk.on_job_done(&old, old_job.run(), &mut out));
        assert!(out.is_empty());
        // The new stay asks again and its answer buys, caused by the tick that asked.
        let (new, job) = rising(&mut desk, a, 11, 1).remove(0);
        assert_eq!(new.asked_on, 11);
        assert!(desk.on_job_done(&new, job.run(), &mut out));
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].side, out[0].tick_seq), (Side::Buy, 11));
        assert_eq!(out[0].reason, VwapBandStrategy::REASON_ENTRY);
        assert_eq!(out[0].tick_received_at, new.received_at);
    }

    #[test]
    fn inline_jobs_answer_right_after_the_tick_that_asked() {
        let mut desk = scoring();
        let a = t("005930");
        desk.on_condition_enter(a, TimeOfDay::hms(9, 0, 0));
        let mut out = Vec::new();
        for seq in 1..=10 {
            desk.on_tick(
                &tick(a, seq, 10_000 + seq as i64, TimeOfDay::hms(9, 0, 1)),
                &mut out,
            );
            desk.run_jobs_inline(&mut out);
        }
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].tick_seq, 10);
        assert!(!desk.has_jobs());
    }

    #[test]
    fn a_tick_after_the_condition_enters_gives_an_entry_intent_tagged_with_the_tick() {
        let mut desk = eager();
        let mut out = Vec::new();
        let a = t("005930");
        assert!(!desk.on_tick(&tick(a, 1, 10_100, TimeOfDay::hms(9, 0, 1)), &mut out));
        assert!(out.is_empty(), "no entry before the condition: {out:?}");
        desk.on_condition_enter(a, TimeOfDay::hms(9, 0, 1));
        desk.on_tick(&tick(a, 2, 10_100, TimeOfDay::hms(9, 0, 2)), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].side, Side::Buy);
        assert_eq!(out[0].tick_seq, 2);
        assert_eq!(out[0].reason, MomentumStrategy::REASON_ENTRY);
        assert!(!desk.is_flat(a), "the entry is working");
    }

    #[test]
    fn an_entry_refused_reports_the_ticker_flat_but_a_closing_fill_does_not() {
        let mut desk = eager();
        let a = t("005930");
        let mut out = Vec::new();
        desk.on_condition_enter(a, TimeOfDay::hms(9, 0, 1));
        desk.on_tick(&tick(a, 1, 10_100, TimeOfDay::hms(9, 0, 1)), &mut out);
        let done = OrderDone {
            id: None,
            ticker: a,
            side: Side::Buy,
            filled: Qty(0),
            rejected: true,
        };
        assert!(desk.on_order_done(&done), "refused entry: flat, report it");
        assert!(desk.is_flat(a));
        // A held position closed by a fill is the Portfolio's to report.
        desk.on_fill(&Fill {
            ticker: a,
            side: Side::Buy,
            price: Price(10_100),
            qty: Qty(5),
            order_no: 1,
            time: TimeOfDay::hms(9, 0, 2),
        });
        desk.on_fill(&Fill {
            ticker: a,
            side: Side::Sell,
            price: Price(10_200),
            qty: Qty(5),
            order_no: 2,
            time: TimeOfDay::hms(9, 0, 3),
        });
        let sold = OrderDone {
            id: None,
            ticker: a,
            side: Side::Sell,
            filled: Qty(5),
            rejected: false,
        };
        assert!(!desk.on_order_done(&sold));
    }

    /// The timer wakes strategies in ticker order whatever order they were created in,
    /// so a replay's intents come in the live order.
    #[test]
    fn timer_intents_come_in_ticker_order() {
        let mut desk = eager();
        let codes = ["035720", "000660", "005930", "068270"];
        for (i, code) in codes.iter().enumerate() {
            desk.on_fill(&Fill {
                ticker: t(code),
                side: Side::Buy,
                price: Price(10_000),
                qty: Qty(1),
                order_no: i as i64 + 1,
                time: TimeOfDay::hms(9, 0, 0),
            });
            let mut out = Vec::new();
            desk.on_tick(
                &tick(t(code), i as u64 + 1, 10_000, TimeOfDay::hms(9, 0, 0)),
                &mut out,
            );
        }
        let mut out = Vec::new();
        desk.on_timer(TimeOfDay::hms(9, 0, 29), &mut out);
        assert!(out.is_empty(), "{out:?}");
        desk.on_timer(TimeOfDay::hms(9, 0, 30), &mut out);
        let got: Vec<&str> = out.iter().map(|i| i.ticker.as_str()).collect();
        assert_eq!(got, ["000660", "005930", "035720", "068270"]);
        assert!(out.iter().all(|i| i.side == Side::Sell && i.tick_seq == 0));
        assert_eq!(desk.tickers(), 4);
    }
}
