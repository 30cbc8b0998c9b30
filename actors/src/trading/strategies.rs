//! The strategies' part of the trading core: one strategy state per ticker, built on the
//! ticker's first event, fed every event the Processor receives, in order, and turning
//! their signals into [`OrderIntent`]s.
//!
//! The Processor actor (live) and [`super::replay`] (a recorded day) both drive this, so
//! the same inputs give the same intents. Must never read a clock, do I/O or depend on
//! hash-map order: on a timer the strategies are woken in ticker order.

use rustc_hash::FxHashMap;

use crate::market::{Ticker, TimeOfDay};
use crate::messages::{Fill, OrderDone, OrderIntent, Tick};
use crate::strategy::{Signal, Strategy, StrategyFactory};

/// See the module docs.
pub struct StrategyDesk {
    factory: Box<dyn StrategyFactory>,
    strategies: FxHashMap<Ticker, Box<dyn Strategy>>,
    /// Reused between calls: a tick usually signals nothing, and this saves an allocation.
    signals: Vec<Signal>,
    /// Tickers in order, for the timer (rebuilt only when a strategy is added).
    order: Vec<Ticker>,
}

impl StrategyDesk {
    pub fn new(factory: Box<dyn StrategyFactory>) -> StrategyDesk {
        StrategyDesk {
            factory,
            strategies: FxHashMap::default(),
            signals: Vec::new(),
            order: Vec::new(),
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
        out.extend(signals.drain(..).map(|s| s.into_intent(tick)));
        self.signals = signals;
        held
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
    use crate::strategy::{strategy_by_name, MomentumParams, MomentumStrategy};

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
