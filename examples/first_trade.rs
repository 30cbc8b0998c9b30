//! FirstTrade: a user's own strategy with its own parameter, the worked example of adding
//! a strategy to condor. It buys a budget's worth at market on the first trade after 편입
//! that is at least `min_rise_bp` above the previous close, and then holds (the flatten
//! before the close sells it). Everything else is `condor run` unchanged:
//!
//! ```sh
//! cargo run --release --example first_trade -- strategies          # its parameters
//! CONDOR_STRATEGY=first-trade CONDOR_PARAM_MIN_RISE_BP=200 \
//!     cargo run --release --example first_trade                    # trade it
//! ```
//!
//! Owns one ticker's entry and what it holds. Must never hold actix types, a clock or I/O.

use std::process::ExitCode;

use condor_actors::market::{Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::{Fill, OrderType, Tick};
use condor_actors::strategy::{InvalidParam, ParamSpec, Params, Signal, Strategy, StrategyFactory};

fn main() -> ExitCode {
    condor::extend::main_with(|ext| {
        ext.add_strategy(
            FirstTrade::NAME,
            "buy on the first trade after 편입 that is up enough, then hold",
            FirstTrade::PARAMS,
            FirstTradeFactory::build_from,
        );
    })
}

/// One ticker's state.
pub struct FirstTrade {
    rule: FirstTradeFactory,
    armed: bool,
    working: bool,
    held: u64,
}

impl FirstTrade {
    pub const NAME: &'static str = "first-trade";
    /// Its own parameters; `budget_won`, `entry_cutoff` and `flatten_at` come with every
    /// strategy.
    pub const PARAMS: &'static [ParamSpec] = &[ParamSpec::int(
        "min_rise_bp",
        -3_000,
        3_000,
        0,
        "least rise from the previous close, in bp, for the first trade to be bought",
    )];
}

impl Strategy for FirstTrade {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn on_condition_enter(&mut self, _: TimeOfDay) {
        self.armed = self.held == 0 && !self.working;
    }
    fn on_condition_exit(&mut self, _: TimeOfDay) {
        self.armed = false;
    }
    fn on_tick(&mut self, tick: &Tick, out: &mut Vec<Signal>) {
        let up_enough = tick.change_bp() >= self.rule.min_rise_bp;
        let qty = self.rule.budget_won / tick.price.won().max(1);
        if self.armed && up_enough && tick.exchange_time < self.rule.entry_cutoff && qty > 0 {
            (self.armed, self.working) = (false, true);
            out.push(Signal::Buy {
                qty: Qty::lit(qty.unsigned_abs()),
                order_type: OrderType::Market,
                reason: "entry: first trade",
            });
        }
    }
    fn on_timer(&mut self, now: TimeOfDay, out: &mut Vec<Signal>) {
        if now >= self.rule.flatten_at && self.held > 0 && !self.working {
            self.working = true;
            out.push(Signal::Sell {
                qty: Qty::lit(self.held),
                order_type: OrderType::Market,
                reason: "flatten before close",
            });
        }
    }
    fn on_fill(&mut self, fill: &Fill) {
        match fill.side {
            Side::Buy => self.held += fill.qty.shares(),
            Side::Sell => self.held = self.held.saturating_sub(fill.qty.shares()),
        }
    }
    fn on_order_done(&mut self, _: Side, _: Qty, _: bool) {
        self.working = false;
    }
    fn position(&self) -> Qty {
        Qty::lit(self.held)
    }
    fn has_working_order(&self) -> bool {
        self.working
    }
}

/// The parameters, read once; every ticker's strategy is built from them.
#[derive(Clone, Copy, Debug)]
pub struct FirstTradeFactory {
    budget_won: i64,
    entry_cutoff: TimeOfDay,
    flatten_at: TimeOfDay,
    min_rise_bp: i64,
}

impl FirstTradeFactory {
    /// Ranges were checked as each value was set; nothing across them to check here.
    pub fn build_from(p: &Params) -> Result<Box<dyn StrategyFactory>, InvalidParam> {
        Ok(Box::new(FirstTradeFactory {
            budget_won: p.int("budget_won"),
            entry_cutoff: p.time("entry_cutoff"),
            flatten_at: p.time("flatten_at"),
            min_rise_bp: p.int("min_rise_bp"),
        }))
    }
}

impl StrategyFactory for FirstTradeFactory {
    fn name(&self) -> &'static str {
        FirstTrade::NAME
    }
    fn build(&self, _: Ticker) -> Box<dyn Strategy> {
        Box::new(FirstTrade {
            rule: *self,
            armed: false,
            working: false,
            held: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use condor_actors::market::Price;
    use condor_actors::strategy::StrategyRegistry;

    use super::*;

    fn registry() -> StrategyRegistry {
        let mut r = StrategyRegistry::new();
        r.register(
            FirstTrade::NAME,
            "",
            FirstTrade::PARAMS,
            FirstTradeFactory::build_from,
        );
        r
    }

    fn tick(price: i64, at: TimeOfDay) -> Tick {
        Tick {
            ticker: Ticker::parse("005930").unwrap(),
            price: Price::lit(price),
            qty: Qty::lit(1),
            cum_volume: 1,
            prev_close: Price::lit(10_000),
            aggressor: Side::Buy,
            exchange_time: at,
            received_at: Instant::now(),
            seq: 1,
        }
    }

    #[test]
    fn buys_the_first_trade_up_enough_with_the_configured_parameters() {
        let r = registry();
        let mut p = r.params("first-trade").unwrap();
        p.set("min_rise_bp", "200").unwrap();
        p.set("budget_won", "100000").unwrap();
        let mut s = r
            .build("first-trade", &p)
            .unwrap()
            .build(Ticker::parse("005930").unwrap());
        s.on_condition_enter(TimeOfDay::hms(9, 0, 0));
        let mut out = Vec::new();
        s.on_tick(&tick(10_100, TimeOfDay::hms(9, 0, 1)), &mut out);
        assert!(out.is_empty(), "up 1% only");
        s.on_tick(&tick(10_200, TimeOfDay::hms(9, 0, 2)), &mut out);
        assert_eq!(
            out,
            [Signal::Buy {
                qty: Qty::lit(9),
                order_type: OrderType::Market,
                reason: "entry: first trade"
            }]
        );
    }

    #[test]
    fn its_parameter_is_range_checked_by_name() {
        let mut p = registry().params("first-trade").unwrap();
        let e = p.set("min_rise_bp", "5000").unwrap_err();
        assert_eq!(
            e.to_string(),
            "strategy parameter min_rise_bp: must be -3000..=3000, got 5000"
        );
    }
}
