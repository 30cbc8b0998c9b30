//! The strategies' part of the trading core: one strategy state per ticker, built when a
//! condition hands the ticker over (or on its first event), fed every event the Processor
//! receives, in order, and turning their signals into [`OrderIntent`]s.
//!
//! Several conditions, one strategy per ticker: each condition has its strategy factory
//! and its most open positions. A ticker belongs to the condition that entered it first,
//! and stays its until the ticker is flat (nothing held, nothing working) and out of that
//! condition; then the earliest-entered condition still listing it takes it over with a
//! fresh strategy of its own. Another condition's enter or exit while the ticker is owned
//! is remembered, not delivered. A ticker seen first through a fill or a tick (holdings
//! recovered at start) belongs to the first condition. An enter a condition repeats
//! without an exit between (its member list at start, then its alert) is delivered once.
//!
//! The Processor actor (live), [`super::replay`] (a recorded day) and the backtest all
//! drive this, so the same inputs give the same intents. Must never read a clock, do I/O or
//! depend on hash-map order: on a timer the strategies are woken in ticker order.

use std::time::Instant;

use rustc_hash::FxHashMap;

use crate::domain::{ConditionId, Fill, OrderDone, OrderIntent, Tick};
use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};
use crate::strategy::{ComputeJob, JobAnswer, JobOutput, Signal, Strategy, StrategyFactory};

const LOG: &str = "condor::processor";

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

/// One condition as the desk trades it.
pub struct DeskCondition {
    pub factory: Box<dyn StrategyFactory>,
    /// Most tickers this condition may hold or be buying at once; an entry over it is
    /// refused here, before the risk gate, and its strategy told so.
    pub max_positions: Option<usize>,
}

/// A ticker's strategy, the condition it belongs to, and its trades so far.
struct Owned {
    condition: ConditionId,
    strategy: Box<dyn Strategy>,
    /// Kept here, beside the strategy the tick reaches anyway: a map of its own was one
    /// more cache miss a tick at 1,000 tickers (perf, engine bench).
    seen: TickerSeen,
}

/// One ticker's trades as the desk saw them: how many, and the last one's sequence
/// number, price and time (for `/status` and the order checks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickerSeen {
    pub ticks: u64,
    pub last_seq: u64,
    pub last_price: Price,
    pub last_time: TimeOfDay,
}

/// What the desk counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeskStats {
    /// Entries refused for their condition's most open positions.
    pub refused_max_positions: u64,
    /// Tickers handed from one condition to another.
    pub handovers: u64,
    /// Ticks whose sequence number was not above their ticker's previous one.
    pub out_of_order: u64,
}

/// See the module docs.
pub struct StrategyDesk {
    conditions: Vec<DeskCondition>,
    strategies: FxHashMap<Ticker, Owned>,
    /// Per ticker, the conditions listing it now, in the order they entered it.
    listed: FxHashMap<Ticker, Vec<ConditionId>>,
    /// Reused between calls: a tick usually signals nothing, and this saves an allocation.
    signals: Vec<Signal>,
    /// Tickers in order, for the timer (rebuilt only when a strategy is added).
    order: Vec<Ticker>,
    /// Per ticker, the stays it has ended (condition exits of its owner, handovers): a
    /// job's answer goes only to the stay it was asked in.
    stays: FxHashMap<Ticker, u32>,
    /// Jobs asked for since the driver last took them.
    asked: Vec<(JobTicket, ComputeJob)>,
    /// The latest market time seen, for a handover that no event with a time brings.
    now: TimeOfDay,
    stats: DeskStats,
    /// Tickers given to a condition since the driver last took them (for the books).
    owner_changes: Vec<(Ticker, ConditionId)>,
}

impl StrategyDesk {
    /// One condition trading `factory`'s strategy, with no limit of its own.
    pub fn new(factory: Box<dyn StrategyFactory>) -> StrategyDesk {
        StrategyDesk::with_conditions(vec![DeskCondition {
            factory,
            max_positions: None,
        }])
    }

    /// Several conditions, [`ConditionId`] `i` being `conditions[i]`. Panics when empty.
    pub fn with_conditions(conditions: Vec<DeskCondition>) -> StrategyDesk {
        assert!(
            !conditions.is_empty(),
            "a desk trades at least one condition"
        );
        StrategyDesk {
            conditions,
            strategies: FxHashMap::default(),
            listed: FxHashMap::default(),
            signals: Vec::new(),
            order: Vec::new(),
            stays: FxHashMap::default(),
            asked: Vec::new(),
            now: TimeOfDay::hms(0, 0, 0),
            stats: DeskStats::default(),
            owner_changes: Vec::new(),
        }
    }

    /// The tickers given to a condition since the last call, in order: the driver tells
    /// the books, which book each fill to its ticker's condition.
    pub fn take_owner_changes(&mut self) -> Vec<(Ticker, ConditionId)> {
        std::mem::take(&mut self.owner_changes)
    }

    /// True when [`Self::take_owner_changes`] has something.
    pub fn owners_changed(&self) -> bool {
        !self.owner_changes.is_empty()
    }

    /// The first condition's strategy name.
    pub fn strategy_name(&self) -> &'static str {
        self.conditions[0].factory.name()
    }

    pub fn stats(&self) -> DeskStats {
        self.stats
    }

    /// Every ticker that has traded, with its trades as seen.
    pub fn seen(&self) -> impl Iterator<Item = (Ticker, TickerSeen)> + '_ {
        self.strategies
            .iter()
            .filter(|(_, o)| o.seen.ticks > 0)
            .map(|(t, o)| (*t, o.seen))
    }

    /// The condition `ticker` belongs to now, if it has a strategy.
    pub fn owner(&self, ticker: Ticker) -> Option<ConditionId> {
        self.strategies.get(&ticker).map(|o| o.condition)
    }

    /// Condition `c`'s factory; a number past the configured ones (a tape whose settings
    /// name fewer conditions than its records) gets the last one's, never a panic.
    fn factory(&self, c: ConditionId) -> &dyn StrategyFactory {
        let i = usize::from(c.0).min(self.conditions.len() - 1);
        self.conditions[i].factory.as_ref()
    }

    /// Gives `ticker` a fresh strategy of condition `c` (replacing any it had).
    fn adopt(&mut self, c: ConditionId, ticker: Ticker) {
        if !self.strategies.contains_key(&ticker) {
            let at = self.order.binary_search(&ticker).unwrap_or_else(|i| i);
            self.order.insert(at, ticker);
        }
        let strategy = self.factory(c).build(ticker);
        self.owner_changes.push((ticker, c));
        // A new owner, the same trades.
        let seen = self
            .strategies
            .get(&ticker)
            .map(|o| o.seen)
            .unwrap_or_default();
        self.strategies.insert(
            ticker,
            Owned {
                condition: c,
                strategy,
                seen,
            },
        );
    }

    fn strategy(&mut self, ticker: Ticker) -> &mut Owned {
        if !self.strategies.contains_key(&ticker) {
            self.adopt(ConditionId::FIRST, ticker);
        }
        self.strategies
            .get_mut(&ticker)
            .expect("adopted just above")
    }

    fn is_free(o: &Owned) -> bool {
        o.strategy.position().shares() == 0 && !o.strategy.has_working_order()
    }

    /// When `ticker` is flat and out of its owner's condition, the earliest-entered
    /// condition still listing it takes it over.
    fn hand_over(&mut self, ticker: Ticker) {
        let Some(owned) = self.strategies.get(&ticker) else {
            return;
        };
        let listed = self.listed.get(&ticker).map(Vec::as_slice).unwrap_or(&[]);
        if !Self::is_free(owned) || listed.contains(&owned.condition) {
            return;
        }
        let Some(&next) = listed.first() else {
            return;
        };
        log::info!(target: LOG, "{ticker} handed from condition #{} to #{}", owned.condition.0, next.0);
        self.stats.handovers += 1;
        *self.stays.entry(ticker).or_insert(0) += 1;
        self.adopt(next, ticker);
        let now = self.now;
        if let Some(o) = self.strategies.get_mut(&ticker) {
            o.strategy.on_condition_enter(now);
        }
    }

    /// A restart: `ticker` was condition `c`'s when condor stopped (the journal says so), so
    /// its strategy is `c`'s, whatever event reaches it first. A ticker that already has a
    /// strategy keeps it.
    pub fn seed_owner(&mut self, c: ConditionId, ticker: Ticker) {
        if !self.strategies.contains_key(&ticker) {
            self.adopt(c, ticker);
        }
    }

    /// Tickers condition `c` holds or is buying, `except` one.
    fn busy(&self, c: ConditionId, except: Ticker) -> usize {
        self.strategies
            .iter()
            .filter(|(t, o)| **t != except && o.condition == c && !Self::is_free(o))
            .count()
    }

    /// Turns `signals` of `ticker`'s strategy into intents with `make`, refusing an entry
    /// over its condition's most open positions (the strategy is told it came to nothing,
    /// so it may try again).
    fn admit(
        &mut self,
        ticker: Ticker,
        signals: &mut Vec<Signal>,
        out: &mut Vec<OrderIntent>,
        make: impl Fn(Signal) -> OrderIntent,
    ) {
        for signal in signals.drain(..) {
            if let Signal::Buy { .. } = signal {
                let Some(owned) = self.strategies.get(&ticker) else {
                    continue;
                };
                let c = owned.condition;
                let entry = owned.strategy.position().shares() == 0;
                let max = self
                    .conditions
                    .get(usize::from(c.0))
                    .and_then(|d| d.max_positions);
                if let Some(max) = max.filter(|_| entry) {
                    if self.busy(c, ticker) >= max {
                        self.stats.refused_max_positions += 1;
                        log::info!(target: LOG, "{ticker} entry refused: condition #{} has {max} open positions (its most)", c.0);
                        if let Some(o) = self.strategies.get_mut(&ticker) {
                            o.strategy.on_order_done(Side::Buy, Qty::lit(0), true);
                        }
                        continue;
                    }
                }
            }
            out.push(make(signal));
        }
    }

    /// A trade of `tick.ticker`: its intents are pushed to `out`. Returns whether the
    /// ticker is held after it (the driver marks held positions).
    pub fn on_tick(&mut self, tick: &Tick, out: &mut Vec<OrderIntent>) -> bool {
        self.now = self.now.max(tick.exchange_time);
        let mut signals = std::mem::take(&mut self.signals);
        let owned = self.strategy(tick.ticker);
        let seen = &mut owned.seen;
        let late = (seen.ticks > 0 && tick.seq <= seen.last_seq).then_some(seen.last_seq);
        *seen = TickerSeen {
            ticks: seen.ticks + 1,
            last_seq: tick.seq,
            last_price: tick.price,
            last_time: tick.exchange_time,
        };
        owned.strategy.on_tick(tick, &mut signals);
        // Read now, while the strategy is at hand (one map lookup a tick fewer): only a
        // fill moves a position, and none comes between here and the return.
        let held = owned.strategy.position().shares() > 0;
        let job = owned.strategy.take_job();
        if let Some(before) = late {
            self.stats.out_of_order += 1;
            log::warn!(target: LOG, "{} tick #{} after #{before}: out of order", tick.ticker, tick.seq);
        }
        if let Some(job) = job {
            let ticket = JobTicket {
                ticker: tick.ticker,
                asked_on: tick.seq,
                received_at: Some(tick.received_at),
                stay: self.stays.get(&tick.ticker).copied().unwrap_or(0),
            };
            self.asked.push((ticket, job));
        }
        if !signals.is_empty() {
            self.admit(tick.ticker, &mut signals, out, |s| s.into_intent(tick));
        }
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
        let Some(owned) = self.strategies.get_mut(&ticket.ticker) else {
            return false;
        };
        let mut signals = std::mem::take(&mut self.signals);
        let answer = JobAnswer {
            asked_on: ticket.asked_on,
            output,
        };
        owned.strategy.on_job_done(&answer, &mut signals);
        let t = *ticket;
        self.admit(ticket.ticker, &mut signals, out, |s| {
            s.into_job_intent(t.ticker, t.asked_on, t.received_at)
        });
        self.signals = signals;
        true
    }

    /// The periodic wake-up at market time `now`: every strategy, in ticker order, for
    /// exits no tick brings (time stop, pre-close flatten).
    pub fn on_timer(&mut self, now: TimeOfDay, out: &mut Vec<OrderIntent>) {
        self.now = self.now.max(now);
        let mut signals = std::mem::take(&mut self.signals);
        for i in 0..self.order.len() {
            let ticker = self.order[i];
            if let Some(owned) = self.strategies.get_mut(&ticker) {
                owned.strategy.on_timer(now, &mut signals);
                if !signals.is_empty() {
                    self.admit(ticker, &mut signals, out, |s| s.into_timer_intent(ticker));
                }
            }
        }
        self.signals = signals;
    }

    /// Condition `c`'s screener says `ticker` matches, at market time `now`.
    pub fn on_condition_enter(&mut self, c: ConditionId, ticker: Ticker, now: TimeOfDay) {
        self.now = self.now.max(now);
        let listed = self.listed.entry(ticker).or_default();
        if listed.contains(&c) {
            return; // a repeat (the start's member list, then the alert): not a new 편입
        }
        listed.push(c);
        match self.strategies.get(&ticker) {
            None => self.adopt(c, ticker),
            Some(o) if o.condition == c => {}
            Some(_) => {
                // Another condition's: taken over only once free and out of its owner's.
                self.hand_over(ticker);
                if self.owner(ticker) != Some(c) {
                    log::debug!(target: LOG, "{ticker} entered condition #{} but belongs to another", c.0);
                }
                return;
            }
        }
        if let Some(o) = self.strategies.get_mut(&ticker) {
            o.strategy.on_condition_enter(now);
        }
    }

    /// Condition `c`'s screener says `ticker` no longer matches. A ticker never seen has
    /// nothing to stop.
    pub fn on_condition_exit(&mut self, c: ConditionId, ticker: Ticker, now: TimeOfDay) {
        self.now = self.now.max(now);
        if let Some(listed) = self.listed.get_mut(&ticker) {
            listed.retain(|x| *x != c);
        }
        if let Some(o) = self.strategies.get_mut(&ticker) {
            if o.condition == c {
                o.strategy.on_condition_exit(now);
                *self.stays.entry(ticker).or_insert(0) += 1;
            }
        }
        self.hand_over(ticker);
    }

    /// An execution of one of our orders. A ticker with no strategy yet gets one: the
    /// shares are real and the strategy must know it holds them (a restart's recovered
    /// holdings come this way).
    pub fn on_fill(&mut self, fill: &Fill) {
        self.strategy(fill.ticker).strategy.on_fill(fill);
        self.hand_over(fill.ticker);
    }

    /// One of our orders is done. Returns true when the ticker is flat because of an
    /// order that filled nothing (an entry cancelled or refused): a position that closed
    /// on a fill is the Portfolio's to report, so one event is never reported twice.
    pub fn on_order_done(&mut self, done: &OrderDone) -> bool {
        let s = &mut self.strategy(done.ticker).strategy;
        s.on_order_done(done.side, done.filled, done.rejected);
        let flat =
            done.filled.shares() == 0 && s.position().shares() == 0 && !s.has_working_order();
        self.hand_over(done.ticker);
        flat
    }

    /// True when `ticker` holds nothing and has no order working (or was never seen).
    pub fn is_flat(&self, ticker: Ticker) -> bool {
        self.strategies.get(&ticker).is_none_or(Self::is_free)
    }

    /// Tickers that have a strategy.
    pub fn tickers(&self) -> usize {
        self.strategies.len()
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::OrderNo;
    use std::collections::BTreeMap;
    use std::time::Instant;

    use super::*;
    use crate::market::{Price, Qty, Side};
    use crate::strategy::{
        strategy_by_name, MomentumFactory, MomentumParams, MomentumStrategy, VwapBandFactory,
        VwapBandParams, VwapBandStrategy,
    };

    const C1: ConditionId = ConditionId::FIRST;

    fn t(code: &str) -> Ticker {
        Ticker::parse(code).unwrap()
    }

    fn tick(ticker: Ticker, seq: u64, price: i64, at: TimeOfDay) -> Tick {
        Tick {
            ticker,
            price: Price::lit(price),
            qty: Qty::lit(10),
            cum_volume: seq * 10,
            prev_close: Price::lit(10_000),
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

    /// Two conditions trading eager momentum: the first with 1,000,000 won an entry, the
    /// second with 100,000 and at most one ticker held or being bought.
    fn two_conditions() -> StrategyDesk {
        let eager = |budget_won| MomentumParams {
            min_change_bp: -3000,
            confirm_ticks: 1,
            budget_won,
            ..MomentumParams::default()
        };
        StrategyDesk::with_conditions(vec![
            DeskCondition {
                factory: Box::new(MomentumFactory {
                    params: eager(1_000_000),
                }),
                max_positions: None,
            },
            DeskCondition {
                factory: Box::new(MomentumFactory {
                    params: eager(100_000),
                }),
                max_positions: Some(1),
            },
        ])
    }

    const C2: ConditionId = ConditionId(1);

    fn fill(ticker: Ticker, side: Side, qty: u64) -> Fill {
        Fill {
            ticker,
            side,
            price: Price::lit(10_000),
            qty: Qty::lit(qty),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 1, 0),
        }
    }

    fn done(ticker: Ticker, side: Side, filled: u64) -> OrderDone {
        OrderDone {
            id: None,
            ticker,
            side,
            filled: Qty::lit(filled),
            rejected: false,
        }
    }

    #[test]
    fn a_ticker_in_two_conditions_is_the_first_enterers_until_flat_and_out_of_it() {
        let mut desk = two_conditions();
        let (a, b) = (t("005930"), t("000660"));
        let at = TimeOfDay::hms(9, 0, 1);
        let mut out = Vec::new();
        desk.on_condition_enter(C1, a, at);
        desk.on_condition_enter(C2, a, at);
        desk.on_condition_enter(C2, b, at);
        assert_eq!((desk.owner(a), desk.owner(b)), (Some(C1), Some(C2)));
        // Each buys with its own condition's budget.
        desk.on_tick(&tick(a, 1, 10_000, at), &mut out);
        desk.on_tick(&tick(b, 2, 10_000, at), &mut out);
        let qty: Vec<(Ticker, u64)> = out.iter().map(|i| (i.ticker, i.qty.shares())).collect();
        assert_eq!(qty, [(a, 1_000_000 / 10_010), (b, 100_000 / 10_010)]);
        out.clear();
        // a is held; the first condition drops it: still its own until flat.
        desk.on_fill(&fill(a, Side::Buy, 99));
        desk.on_order_done(&done(a, Side::Buy, 99));
        desk.on_condition_exit(C1, a, at);
        assert_eq!(desk.owner(a), Some(C1));
        assert_eq!(desk.stats().handovers, 0);
        // Flat: the second condition, which still lists it, takes it over, fresh.
        desk.on_fill(&fill(a, Side::Sell, 99));
        assert_eq!(desk.owner(a), Some(C2));
        assert_eq!(desk.stats().handovers, 1);
        // The second condition's exit of a ticker it does not own changes nothing for the
        // owner's strategy; its enter of one it does not own is not delivered.
        let mut desk = two_conditions();
        desk.on_condition_enter(C1, a, at);
        desk.on_condition_enter(C2, a, at);
        desk.on_condition_exit(C2, a, at);
        desk.on_tick(&tick(a, 3, 10_000, at), &mut out);
        assert_eq!(out.len(), 1, "the first condition still trades it: {out:?}");
        assert_eq!(out[0].qty.shares(), 1_000_000 / 10_010);
    }

    /// Each ticker's trades are counted beside its strategy: the last one's number, price
    /// and time, a number not above the ticker's last counted out of order, and a
    /// handover keeps the count (a new owner, the same trades).
    #[test]
    fn the_desk_keeps_each_tickers_trades_and_counts_one_out_of_order() {
        let mut desk = two_conditions();
        let (a, b) = (t("005930"), t("000660"));
        let (at, later) = (TimeOfDay::hms(9, 0, 1), TimeOfDay::hms(9, 0, 2));
        let mut out = Vec::new();
        desk.on_condition_enter(C1, a, at);
        desk.on_condition_enter(C2, a, at);
        desk.on_tick(&tick(a, 5, 10_000, at), &mut out);
        desk.on_tick(&tick(b, 6, 20_000, at), &mut out);
        desk.on_tick(&tick(a, 4, 10_010, later), &mut out);
        assert_eq!(desk.stats().out_of_order, 1, "#4 after #5");
        let seen: BTreeMap<Ticker, TickerSeen> = desk.seen().collect();
        let a_seen = TickerSeen {
            ticks: 2,
            last_seq: 4,
            last_price: Price::lit(10_010),
            last_time: later,
        };
        assert_eq!(seen[&a], a_seen);
        assert_eq!((seen[&b].ticks, seen[&b].last_seq), (1, 6), "b's own");
        // Held and dropped by its condition, then flat: the second condition takes a over.
        desk.on_fill(&fill(a, Side::Buy, 99));
        desk.on_order_done(&done(a, Side::Buy, 99));
        desk.on_condition_exit(C1, a, at);
        desk.on_fill(&fill(a, Side::Sell, 99));
        assert_eq!(desk.owner(a), Some(C2));
        assert_eq!(
            desk.seen().find(|(t, _)| *t == a).map(|(_, s)| s),
            Some(a_seen)
        );
    }

    #[test]
    fn an_entry_over_its_conditions_most_positions_is_refused_and_may_retry() {
        let mut desk = two_conditions();
        let (b, c) = (t("000660"), t("035720"));
        let at = TimeOfDay::hms(9, 0, 1);
        let mut out = Vec::new();
        desk.on_condition_enter(C2, b, at);
        desk.on_condition_enter(C2, c, at);
        desk.on_tick(&tick(b, 1, 10_000, at), &mut out);
        assert_eq!(
            out.len(),
            1,
            "the first position is inside the limit of one"
        );
        // b's entry works: c's is over the limit, refused, and c may try again.
        desk.on_tick(&tick(c, 2, 10_000, at), &mut out);
        desk.on_tick(&tick(c, 3, 10_000, at), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(desk.stats().refused_max_positions, 2);
        assert!(desk.is_flat(c));
        // b's entry came to nothing: c's next trade enters.
        desk.on_order_done(&done(b, Side::Buy, 0));
        desk.on_tick(&tick(c, 4, 10_000, at), &mut out);
        assert_eq!(out.len(), 2, "{out:?}");
        assert_eq!(out[1].ticker, c);
    }

    #[test]
    fn a_condition_number_past_the_configured_ones_trades_the_last_ones_strategy() {
        let mut desk = eager();
        let a = t("005930");
        let mut out = Vec::new();
        desk.on_condition_enter(ConditionId(7), a, TimeOfDay::hms(9, 0, 1));
        desk.on_tick(&tick(a, 1, 10_100, TimeOfDay::hms(9, 0, 1)), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        desk.on_condition_exit(ConditionId(7), a, TimeOfDay::hms(9, 0, 2));
        assert_eq!(desk.owner(a), Some(ConditionId(7)));
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
        desk.on_condition_enter(C1, a, TimeOfDay::hms(9, 0, 0));
        let mut jobs = rising(&mut desk, a, 1, 10);
        assert_eq!(jobs.len(), 1, "the tenth trade asks");
        let (old, old_job) = jobs.remove(0);
        assert_eq!(old.asked_on, 10);
        // The ticker leaves and comes back before the answer: the answer is the old stay's.
        desk.on_condition_exit(C1, a, TimeOfDay::hms(9, 0, 2));
        desk.on_condition_enter(C1, a, TimeOfDay::hms(9, 0, 3));
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
        desk.on_condition_enter(C1, a, TimeOfDay::hms(9, 0, 0));
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
        desk.on_condition_enter(C1, a, TimeOfDay::hms(9, 0, 1));
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
        desk.on_condition_enter(C1, a, TimeOfDay::hms(9, 0, 1));
        desk.on_tick(&tick(a, 1, 10_100, TimeOfDay::hms(9, 0, 1)), &mut out);
        let done = OrderDone {
            id: None,
            ticker: a,
            side: Side::Buy,
            filled: Qty::lit(0),
            rejected: true,
        };
        assert!(desk.on_order_done(&done), "refused entry: flat, report it");
        assert!(desk.is_flat(a));
        // A held position closed by a fill is the Portfolio's to report.
        desk.on_fill(&Fill {
            ticker: a,
            side: Side::Buy,
            price: Price::lit(10_100),
            qty: Qty::lit(5),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 0, 2),
        });
        desk.on_fill(&Fill {
            ticker: a,
            side: Side::Sell,
            price: Price::lit(10_200),
            qty: Qty::lit(5),
            order_no: OrderNo(2),
            time: TimeOfDay::hms(9, 0, 3),
        });
        let sold = OrderDone {
            id: None,
            ticker: a,
            side: Side::Sell,
            filled: Qty::lit(5),
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
                price: Price::lit(10_000),
                qty: Qty::lit(1),
                order_no: OrderNo(i as i64 + 1),
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
