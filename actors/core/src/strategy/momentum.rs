//! The built-in momentum strategy (조건검색 편입 → 체결 강세 확인 → 매수, 익절/손절/시간청산/
//! 장마감 청산) and its parameters.
//!
//! Owns momentum's entry and exit decisions. Must never hold actix types, a clock or I/O
//! (see the module above).

use std::collections::VecDeque;

use super::holding::{
    self, entry_order, entry_slippage, ExitRules, Holding, OrderEnd, ENTRY_SLIPPAGE_SPEC,
    EXIT_SPECS,
};
use super::params::{InvalidParam, ParamSpec, Params};
use super::{Signal, Strategy, StrategyFactory};
use crate::domain::{Fill, Tick};
use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};

const LOG: &str = "condor::strategy";

/// The momentum strategy's knobs. Money in won, changes in basis points (100 bp = 1%).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MomentumParams {
    /// Won to spend per entry; qty = budget / order price, whole shares.
    pub budget_won: i64,
    /// Trades that must each be at or above the one before (and buy volume ≥ sell volume
    /// over them) to confirm momentum.
    pub confirm_ticks: u32,
    /// The last trade must be at least this far above the previous close.
    pub min_change_bp: i64,
    /// Entry as a limit this many grid ticks above the last trade; `None` = market order.
    pub entry_slippage_ticks: Option<u32>,
    /// No new entry at or after this exchange time.
    pub entry_cutoff: TimeOfDay,
    /// Sell everything once the last trade is this far above the average entry price.
    pub take_profit_bp: i64,
    /// Sell everything once the last trade is this far below the average entry price.
    pub stop_loss_bp: i64,
    /// Sell everything this long (exchange time) after the position's first fill.
    pub max_hold_secs: u32,
    /// Sell everything at or after this time, before the closing auction.
    pub flatten_at: TimeOfDay,
}

/// The longest confirmation window momentum accepts.
pub const MAX_CONFIRM_TICKS: u32 = 100;
pub use super::holding::MAX_ENTRY_SLIPPAGE_TICKS;

impl Default for MomentumParams {
    fn default() -> Self {
        MomentumParams::from_params(&Params::new(MomentumParams::SPECS))
            .expect("momentum's defaults pass its checks")
    }
}

impl MomentumParams {
    /// Momentum's own parameters, after [`COMMON`](super::COMMON)'s.
    pub const SPECS: &'static [ParamSpec] = &[
        ParamSpec::int(
            "confirm_ticks",
            1,
            MAX_CONFIRM_TICKS as i64,
            3,
            "trades that must rise in a row (buy volume >= sell volume over them) to enter",
        ),
        // The daily band is ±30%, so a threshold outside ±3,000 bp can never (or always) hold.
        ParamSpec::int(
            "min_change_bp",
            -3_000,
            3_000,
            100,
            "least rise from the previous close to enter, in bp (100 = 1%)",
        ),
        ENTRY_SLIPPAGE_SPEC,
        EXIT_SPECS[0],
        EXIT_SPECS[1],
        EXIT_SPECS[2],
    ];

    /// Momentum's typed view of validated parameters: [`COMMON`](super::COMMON)'s and [`Self::SPECS`],
    /// with the checks across them.
    pub fn from_params(p: &Params) -> Result<MomentumParams, InvalidParam> {
        p.check_common()?;
        Ok(MomentumParams {
            budget_won: p.int("budget_won"),
            confirm_ticks: p.uint("confirm_ticks"),
            min_change_bp: p.int("min_change_bp"),
            entry_slippage_ticks: entry_slippage(p),
            entry_cutoff: p.time("entry_cutoff"),
            take_profit_bp: p.int("take_profit_bp"),
            stop_loss_bp: p.int("stop_loss_bp"),
            max_hold_secs: p.uint("max_hold_secs"),
            flatten_at: p.time("flatten_at"),
        })
    }

    /// These values as [`Params`], each checked against its range as it is set.
    pub fn to_params(&self) -> Result<Params, InvalidParam> {
        let mut p = Params::new(MomentumParams::SPECS);
        let slippage = self
            .entry_slippage_ticks
            .map_or_else(|| "market".to_owned(), |n| n.to_string());
        for (name, value) in [
            ("budget_won", self.budget_won.to_string()),
            ("confirm_ticks", self.confirm_ticks.to_string()),
            ("min_change_bp", self.min_change_bp.to_string()),
            ("entry_slippage_ticks", slippage),
            ("entry_cutoff", self.entry_cutoff.hhmmss()),
            ("take_profit_bp", self.take_profit_bp.to_string()),
            ("stop_loss_bp", self.stop_loss_bp.to_string()),
            ("max_hold_secs", self.max_hold_secs.to_string()),
            ("flatten_at", self.flatten_at.hhmmss()),
        ] {
            p.set(name, &value)?;
        }
        Ok(p)
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), InvalidParam> {
        MomentumParams::from_params(&self.to_params()?).map(|_| ())
    }
}

/// Builds [`MomentumStrategy`] instances.
#[derive(Clone, Copy, Debug)]
pub struct MomentumFactory {
    pub params: MomentumParams,
}

impl StrategyFactory for MomentumFactory {
    fn name(&self) -> &'static str {
        MomentumStrategy::NAME
    }

    fn build(&self, ticker: Ticker) -> Box<dyn Strategy> {
        Box::new(MomentumStrategy::new(ticker, self.params))
    }
}

/// One trade in the confirmation window.
#[derive(Clone, Copy, Debug)]
struct Recent {
    price: Price,
    qty: Qty,
    aggressor: Side,
}

/// Condition-search momentum: after 편입, buy once when the last `confirm_ticks` trades
/// rise (never fall), buyers outtrade sellers and the day's change is at least
/// `min_change_bp`; then sell the whole position at market on take-profit, stop-loss,
/// time stop or the pre-close flatten, whichever comes first.
///
/// One entry per condition entry: after a flat exit only a new 편입 arms it again; an entry
/// that bought nothing (rejected or cancelled) re-arms it while still in the condition.
/// 이탈 never sells by itself; it drops a pending entry.
#[derive(Debug)]
pub struct MomentumStrategy {
    ticker: Ticker,
    params: MomentumParams,
    exits: ExitRules,
    in_condition: bool,
    /// May enter on the next confirmation (set by 편입, spent by an entry).
    armed: bool,
    window: VecDeque<Recent>,
    holding: Holding,
}

impl MomentumStrategy {
    pub const NAME: &'static str = "momentum";
    pub const REASON_ENTRY: &'static str = "entry: momentum";
    pub const REASON_TAKE_PROFIT: &'static str = holding::REASON_TAKE_PROFIT;
    pub const REASON_STOP_LOSS: &'static str = holding::REASON_STOP_LOSS;
    pub const REASON_TIME_STOP: &'static str = holding::REASON_TIME_STOP;
    pub const REASON_FLATTEN: &'static str = holding::REASON_FLATTEN;

    /// A strategy for `ticker`. Params are expected to have passed
    /// [`MomentumParams::validate`]; out-of-range values never panic here.
    pub fn new(ticker: Ticker, params: MomentumParams) -> MomentumStrategy {
        MomentumStrategy {
            ticker,
            params,
            exits: ExitRules {
                take_profit_bp: params.take_profit_bp,
                stop_loss_bp: params.stop_loss_bp,
                max_hold_secs: params.max_hold_secs,
                flatten_at: params.flatten_at,
            },
            in_condition: false,
            armed: false,
            window: VecDeque::with_capacity(
                params.confirm_ticks.clamp(1, MAX_CONFIRM_TICKS) as usize
            ),
            holding: Holding::new(ticker),
        }
    }

    pub fn ticker(&self) -> Ticker {
        self.ticker
    }

    pub fn params(&self) -> &MomentumParams {
        &self.params
    }

    /// Average price of the shares held (truncated to the won), or `None` when flat.
    pub fn avg_price(&self) -> Option<Price> {
        self.holding.avg_price()
    }

    fn confirm_ticks(&self) -> usize {
        self.params.confirm_ticks.max(1) as usize
    }

    fn may_enter(&self, now: TimeOfDay) -> bool {
        self.in_condition
            && self.armed
            && self
                .holding
                .may_enter(now, self.params.entry_cutoff, &self.exits)
    }

    /// The window is full, never falls, and buyers traded at least as much as sellers.
    fn momentum_confirmed(&self) -> bool {
        if self.window.len() < self.confirm_ticks() {
            return false;
        }
        let rising = self
            .window
            .iter()
            .zip(self.window.iter().skip(1))
            .all(|(a, b)| b.price >= a.price);
        let (mut bought, mut sold) = (0u64, 0u64);
        for r in &self.window {
            match r.aggressor {
                Side::Buy => bought = bought.saturating_add(r.qty.shares()),
                Side::Sell => sold = sold.saturating_add(r.qty.shares()),
            }
        }
        rising && bought >= sold
    }
}

impl Strategy for MomentumStrategy {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn on_condition_enter(&mut self, now: TimeOfDay) {
        log::debug!(target: LOG, "{} condition enter at {now}", self.ticker);
        self.in_condition = true;
        self.armed = true;
        self.window.clear();
    }

    fn on_condition_exit(&mut self, now: TimeOfDay) {
        log::debug!(
            target: LOG,
            "{} condition exit at {now} (position {})",
            self.ticker,
            self.holding.position
        );
        self.in_condition = false;
        self.armed = false;
        self.window.clear();
    }

    fn on_tick(&mut self, tick: &Tick, out: &mut Vec<Signal>) {
        if tick.ticker != self.ticker {
            log::warn!(target: LOG, "{} strategy got a tick for {}", self.ticker, tick.ticker);
            return;
        }
        if tick.price.won() <= 0 {
            return;
        }
        let now = tick.exchange_time;
        if let Some(reason) = self.holding.exit_reason(now, Some(tick.price), &self.exits) {
            self.holding.exit(reason, out);
            return;
        }
        if !self.in_condition {
            return;
        }
        if self.window.len() == self.confirm_ticks() {
            self.window.pop_front();
        }
        self.window.push_back(Recent {
            price: tick.price,
            qty: tick.qty,
            aggressor: tick.aggressor,
        });
        if !self.may_enter(now)
            || tick.change_bp() < self.params.min_change_bp
            || !self.momentum_confirmed()
        {
            return;
        }
        let entry = entry_order(
            tick,
            self.params.budget_won,
            self.params.entry_slippage_ticks,
        );
        if let Some((qty, order_type)) = entry {
            log::info!(
                target: LOG,
                "{} {}: buy {qty} {order_type:?} at tick {} ({} bp, seq {})",
                self.ticker,
                Self::REASON_ENTRY,
                tick.price,
                tick.change_bp(),
                tick.seq
            );
            self.armed = false;
            self.holding.entering();
            // A retry after a failed entry needs a fresh confirmation.
            self.window.clear();
            out.push(Signal::Buy {
                qty,
                order_type,
                reason: Self::REASON_ENTRY,
            });
        }
    }

    fn on_timer(&mut self, now: TimeOfDay, out: &mut Vec<Signal>) {
        if let Some(reason) = self.holding.exit_reason(now, None, &self.exits) {
            self.holding.exit(reason, out);
        }
    }

    fn on_fill(&mut self, fill: &Fill) {
        if fill.ticker != self.ticker {
            log::warn!(target: LOG, "{} strategy got a fill for {}", self.ticker, fill.ticker);
            return;
        }
        if self.holding.on_fill(fill) {
            // Re-entry only after a new condition enter.
            self.armed = false;
            self.window.clear();
        }
    }

    fn on_order_done(&mut self, side: Side, filled: Qty, rejected: bool) {
        if self.holding.on_order_done(side, filled, rejected) == OrderEnd::EntryCameToNothing {
            // Nothing bought: the entry did not happen; try again on a new confirmation.
            self.armed = self.in_condition;
        }
    }

    fn position(&self) -> Qty {
        self.holding.position
    }

    fn has_working_order(&self) -> bool {
        self.holding.has_working_order()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::domain::{OrderIntent, OrderNo, OrderType};
    use crate::market;
    use crate::strategy::{apply_event, replay, strategy_by_name, StrategyEvent};

    const M: &str = MomentumStrategy::REASON_ENTRY;

    fn t(h: u32, m: u32, s: u32) -> TimeOfDay {
        TimeOfDay::hms(h, m, s)
    }

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    /// Drives one strategy with literal trades: a replay harness with a tape clock.
    struct Harness {
        s: MomentumStrategy,
        prev_close: Price,
        now: TimeOfDay,
        seq: u64,
        base: Instant,
        events: Vec<StrategyEvent>,
    }

    impl Harness {
        fn new(params: MomentumParams, prev_close: i64) -> Harness {
            params.validate().unwrap();
            Harness {
                s: MomentumStrategy::new(samsung(), params),
                prev_close: Price::lit(prev_close),
                now: t(10, 0, 0),
                seq: 0,
                base: Instant::now(),
                events: Vec::new(),
            }
        }

        fn default(prev_close: i64) -> Harness {
            Harness::new(MomentumParams::default(), prev_close)
        }

        fn at(&mut self, now: TimeOfDay) -> &mut Self {
            self.now = now;
            self
        }

        fn feed(&mut self, event: StrategyEvent) -> Vec<OrderIntent> {
            let mut out = Vec::new();
            apply_event(&mut self.s, samsung(), &event, &mut out);
            self.events.push(event);
            out
        }

        fn enter(&mut self) {
            self.feed(StrategyEvent::ConditionEnter(self.now));
        }

        fn leave(&mut self) {
            self.feed(StrategyEvent::ConditionExit(self.now));
        }

        fn tick(&mut self, price: i64, qty: u64, aggressor: Side) -> Tick {
            self.seq += 1;
            Tick {
                ticker: samsung(),
                price: Price::lit(price),
                qty: Qty::lit(qty),
                cum_volume: self.seq * 100,
                prev_close: self.prev_close,
                aggressor,
                exchange_time: self.now,
                received_at: self.base + Duration::from_millis(self.seq),
                seq: self.seq,
            }
        }

        /// A buy-initiated trade of 10 shares; returns the signals it caused.
        fn trade(&mut self, price: i64) -> Vec<Signal> {
            self.trade_with(price, 10, Side::Buy)
        }

        fn trade_with(&mut self, price: i64, qty: u64, aggressor: Side) -> Vec<Signal> {
            let tick = self.tick(price, qty, aggressor);
            let mut out = Vec::new();
            self.s.on_tick(&tick, &mut out);
            self.events.push(StrategyEvent::Tick(tick));
            out
        }

        /// Trades each price in turn; all signals.
        fn trades(&mut self, prices: &[i64]) -> Vec<Signal> {
            prices.iter().flat_map(|&p| self.trade(p)).collect()
        }

        fn timer(&mut self) -> Vec<OrderIntent> {
            self.feed(StrategyEvent::Timer(self.now))
        }

        fn fill(&mut self, side: Side, price: i64, qty: u64) {
            self.feed(StrategyEvent::Fill(Fill {
                ticker: samsung(),
                side,
                price: Price::lit(price),
                qty: Qty::lit(qty),
                order_no: OrderNo(1),
                time: self.now,
            }));
        }

        fn done(&mut self, side: Side, filled: u64, rejected: bool) {
            self.feed(StrategyEvent::OrderDone {
                side,
                filled: Qty::lit(filled),
                rejected,
            });
        }

        /// Enter the condition, confirm at 9,980 → 9,990 → 10,000 (prev close 9,800), and
        /// get the whole entry filled at 10,000. Returns the shares held.
        fn hold_at_10_000(&mut self) -> u64 {
            self.enter();
            let s = self.trades(&[9_980, 9_990, 10_000]);
            assert_eq!(s.len(), 1, "{s:?}");
            let qty = s[0].qty().shares();
            self.fill(Side::Buy, 10_000, qty);
            self.done(Side::Buy, qty, false);
            assert_eq!(self.s.position(), Qty::lit(qty));
            assert_eq!(self.s.avg_price(), Some(Price::lit(10_000)));
            qty
        }
    }

    fn sell_all(qty: u64, reason: &'static str) -> Signal {
        Signal::Sell {
            qty: Qty::lit(qty),
            order_type: OrderType::Market,
            reason,
        }
    }

    #[test]
    fn entry_fires_exactly_once_when_momentum_confirms() {
        let mut h = Harness::default(10_000);
        h.enter();
        assert!(h.trade(10_080).is_empty());
        assert!(h.trade(10_090).is_empty(), "two trades are not three");
        let s = h.trade(10_100);
        // 10,100 is +100 bp; limit one tick up = 10,110; 1,000,000 / 10,110 = 98.
        assert_eq!(
            s,
            vec![Signal::Buy {
                qty: Qty::lit(98),
                order_type: OrderType::Limit(Price::lit(10_110)),
                reason: M
            }]
        );
        assert!(h.s.has_working_order());
        assert!(h.trades(&[10_110, 10_120, 10_130, 10_140]).is_empty());
    }

    #[test]
    fn entry_needs_the_min_change_from_the_previous_close() {
        let mut h = Harness::default(10_000);
        h.enter();
        // +90 bp: one tick short of the threshold.
        assert!(h.trades(&[10_070, 10_080, 10_090]).is_empty());
        assert_eq!(h.trade(10_100).len(), 1, "+100 bp confirms");
    }

    #[test]
    fn a_dip_or_sellers_outtrading_buyers_block_the_entry() {
        let mut h = Harness::default(10_000);
        h.enter();
        assert!(h.trades(&[10_200, 10_190, 10_200]).is_empty(), "dip inside");
        // The window rolls: 10,190 → 10,200 → 10,210 rises again.
        assert_eq!(h.trade(10_210).len(), 1);
        let mut h = Harness::default(10_000);
        h.enter();
        h.trade_with(10_200, 10, Side::Buy);
        h.trade_with(10_200, 25, Side::Sell);
        assert!(
            h.trade_with(10_210, 14, Side::Buy).is_empty(),
            "24 bought < 25 sold"
        );
        let mut h = Harness::default(10_000);
        h.enter();
        h.trade_with(10_200, 10, Side::Buy);
        h.trade_with(10_200, 25, Side::Sell);
        assert_eq!(
            h.trade_with(10_210, 15, Side::Buy).len(),
            1,
            "25 = 25 is enough"
        );
    }

    #[test]
    fn no_entry_before_condition_enter() {
        let mut h = Harness::default(10_000);
        assert!(h.trades(&[10_100, 10_200, 10_300, 10_400]).is_empty());
        h.enter();
        // Trades before the enter do not count towards the confirmation.
        assert!(h.trades(&[10_400, 10_400]).is_empty());
        assert_eq!(h.trade(10_400).len(), 1);
    }

    #[test]
    fn condition_exit_cancels_a_pending_entry() {
        let mut h = Harness::default(10_000);
        h.enter();
        h.trades(&[10_100, 10_110]);
        h.leave();
        assert!(h.trades(&[10_120, 10_130, 10_140, 10_150]).is_empty());
        assert!(!h.s.has_working_order());
    }

    #[test]
    fn no_entry_at_or_after_the_cutoff() {
        let mut h = Harness::default(10_000);
        h.at(t(14, 59, 0)).enter();
        h.trades(&[10_100, 10_110]);
        assert_eq!(h.at(t(14, 59, 59)).trade(10_120).len(), 1);

        let mut h = Harness::default(10_000);
        h.at(t(14, 59, 0)).enter();
        h.trades(&[10_100, 10_110]);
        assert!(h.at(t(15, 0, 0)).trade(10_120).is_empty());
        assert!(h.trades(&[10_130, 10_140, 10_150]).is_empty());
    }

    #[test]
    fn no_entry_when_the_budget_buys_no_share() {
        let params = MomentumParams {
            budget_won: 10_100,
            ..MomentumParams::default()
        };
        // Limit 10,110 > budget 10,100 ≥ last price: the order price decides.
        let mut h = Harness::new(params, 10_000);
        h.enter();
        assert!(h.trades(&[10_100, 10_100, 10_100]).is_empty());
        assert!(!h.s.has_working_order());
        // Just enough for one share at the limit.
        let params = MomentumParams {
            budget_won: 10_110,
            ..MomentumParams::default()
        };
        let mut h = Harness::new(params, 10_000);
        h.enter();
        assert_eq!(h.trades(&[10_100, 10_100, 10_100])[0].qty(), Qty::lit(1));
    }

    #[test]
    fn qty_is_budget_over_price_in_whole_shares() {
        let market = MomentumParams {
            entry_slippage_ticks: None,
            budget_won: 1_000_000,
            ..MomentumParams::default()
        };
        let mut h = Harness::new(market, 10_000);
        h.enter();
        let s = h.trades(&[10_300, 10_300, 10_300]);
        // 1,000,000 / 10,300 = 97.08 → 97, at market.
        assert_eq!(
            s,
            vec![Signal::Buy {
                qty: Qty::lit(97),
                order_type: OrderType::Market,
                reason: M
            }]
        );
    }

    #[test]
    fn limit_price_is_one_grid_tick_up_across_a_band_edge() {
        let mut h = Harness::default(49_000);
        h.enter();
        let s = h.trades(&[49_850, 49_900, 49_950]);
        // 49,950 + one tick crosses into the 100-won band: 50,000; 1,000,000 / 50,000 = 20.
        assert_eq!(
            s,
            vec![Signal::Buy {
                qty: Qty::lit(20),
                order_type: OrderType::Limit(Price::lit(50_000)),
                reason: M
            }]
        );
        let two = MomentumParams {
            entry_slippage_ticks: Some(2),
            ..MomentumParams::default()
        };
        let mut h = Harness::new(two, 49_000);
        h.enter();
        let s = h.trades(&[49_850, 49_900, 49_950]);
        assert_eq!(s[0].order_type(), OrderType::Limit(Price::lit(50_100)));
    }

    #[test]
    fn limit_price_never_exceeds_the_upper_limit() {
        // Previous close 10,000: 상한가 13,000.
        let mut h = Harness::default(10_000);
        h.enter();
        let s = h.trades(&[12_980, 12_990, 13_000]);
        assert_eq!(s[0].order_type(), OrderType::Limit(Price::lit(13_000)));
        assert!(market::is_on_grid(Price::lit(13_000)));
    }

    #[test]
    fn no_second_entry_while_the_order_works_or_while_holding() {
        let mut h = Harness::default(10_000);
        h.enter();
        let s = h.trades(&[10_100, 10_110, 10_120]);
        let qty = s[0].qty().shares();
        assert!(
            h.trades(&[10_130, 10_140, 10_150]).is_empty(),
            "order working"
        );
        h.fill(Side::Buy, 10_130, qty);
        h.done(Side::Buy, qty, false);
        assert!(!h.s.has_working_order());
        // Holding and rising (below take-profit at 10,280): nothing.
        assert!(h.trades(&[10_160, 10_170, 10_180, 10_190]).is_empty());
        // A condition re-enter while holding does not add to the position either.
        h.enter();
        assert!(h.trades(&[10_200, 10_210, 10_220]).is_empty());
        assert_eq!(h.s.position(), Qty::lit(qty));
    }

    #[test]
    fn take_profit_at_the_boundary_not_one_tick_inside() {
        let mut h = Harness::default(9_800);
        let qty = h.hold_at_10_000();
        assert!(h.trade(10_140).is_empty(), "+140 bp");
        assert_eq!(
            h.trade(10_150),
            vec![sell_all(qty, MomentumStrategy::REASON_TAKE_PROFIT)]
        );
    }

    #[test]
    fn stop_loss_at_the_boundary_not_one_tick_inside() {
        let mut h = Harness::default(9_800);
        let qty = h.hold_at_10_000();
        assert!(h.trade(9_910).is_empty(), "-90 bp");
        assert_eq!(
            h.trade(9_900),
            vec![sell_all(qty, MomentumStrategy::REASON_STOP_LOSS)]
        );
    }

    #[test]
    fn time_stop_at_max_hold_not_one_second_before() {
        let mut h = Harness::default(9_800);
        let qty = h.at(t(10, 0, 0)).hold_at_10_000();
        assert!(h.at(t(10, 9, 59)).trade(10_000).is_empty());
        assert!(h.timer().is_empty());
        assert_eq!(
            h.at(t(10, 10, 0)).trade(10_000),
            vec![sell_all(qty, MomentumStrategy::REASON_TIME_STOP)]
        );
    }

    #[test]
    fn time_stop_from_the_timer_when_the_ticker_goes_quiet() {
        let mut h = Harness::default(9_800);
        let qty = h.at(t(10, 0, 0)).hold_at_10_000();
        h.at(t(10, 9, 59));
        assert!(h.timer().is_empty());
        let intents = h.at(t(10, 10, 0)).timer();
        assert_eq!(
            intents,
            vec![OrderIntent {
                ticker: samsung(),
                side: Side::Sell,
                qty: Qty::lit(qty),
                order_type: OrderType::Market,
                reason: MomentumStrategy::REASON_TIME_STOP,
                tick_seq: 0,
                tick_received_at: None,
            }]
        );
        assert!(h.timer().is_empty(), "exit already working");
    }

    #[test]
    fn flatten_at_the_boundary_not_one_second_before() {
        let params = MomentumParams {
            max_hold_secs: 3_600,
            ..MomentumParams::default()
        };
        let mut h = Harness::new(params, 9_800);
        let qty = h.at(t(14, 50, 0)).hold_at_10_000();
        assert!(h.at(t(15, 14, 59)).trade(10_000).is_empty());
        assert_eq!(
            h.at(t(15, 15, 0)).trade(10_000),
            vec![sell_all(qty, MomentumStrategy::REASON_FLATTEN)]
        );
        // And by timer alone.
        let mut h = Harness::new(params, 9_800);
        h.at(t(14, 50, 0)).hold_at_10_000();
        h.at(t(15, 14, 59));
        assert!(h.timer().is_empty());
        h.at(t(15, 15, 0));
        assert_eq!(h.timer().len(), 1);
    }

    #[test]
    fn no_second_exit_while_one_works_then_the_rest_goes() {
        let mut h = Harness::default(9_800);
        let qty = h.hold_at_10_000();
        assert_eq!(h.trade(9_900).len(), 1);
        assert!(h.trades(&[9_850, 9_800, 9_700]).is_empty(), "exit working");
        assert!(h.at(t(15, 20, 0)).timer().is_empty(), "exit working");
        // Partly filled, then the rest cancelled: the remainder goes on the next tick.
        h.fill(Side::Sell, 9_700, 40);
        h.done(Side::Sell, 40, false);
        assert_eq!(h.s.position(), Qty::lit(qty - 40));
        assert_eq!(
            h.s.avg_price(),
            Some(Price::lit(10_000)),
            "avg unchanged by a sell"
        );
        assert_eq!(
            h.trade(9_700),
            vec![sell_all(qty - 40, MomentumStrategy::REASON_STOP_LOSS)]
        );
    }

    #[test]
    fn a_rejected_entry_can_enter_again_on_the_next_confirmation() {
        let mut h = Harness::default(10_000);
        h.enter();
        assert_eq!(h.trades(&[10_100, 10_110, 10_120]).len(), 1);
        h.done(Side::Buy, 0, true);
        assert!(!h.s.has_working_order());
        assert_eq!(h.s.position(), Qty::lit(0));
        assert!(h.trades(&[10_130, 10_140]).is_empty());
        assert_eq!(h.trade(10_150).len(), 1);
    }

    #[test]
    fn a_cancelled_unfilled_entry_after_condition_exit_stays_out() {
        let mut h = Harness::default(10_000);
        h.enter();
        assert_eq!(h.trades(&[10_100, 10_110, 10_120]).len(), 1);
        h.leave();
        h.done(Side::Buy, 0, false);
        assert!(h.trades(&[10_130, 10_140, 10_150, 10_160]).is_empty());
    }

    #[test]
    fn a_partly_filled_entry_is_the_position_and_the_exit_sells_it_all() {
        let mut h = Harness::default(9_800);
        h.enter();
        let s = h.trades(&[9_980, 9_990, 10_000]);
        assert_eq!(s[0].qty(), Qty::lit(99));
        h.fill(Side::Buy, 10_000, 30);
        h.fill(Side::Buy, 10_100, 10);
        h.done(Side::Buy, 40, false);
        // (30 × 10,000 + 10 × 10,100) / 40 = 10,025.
        assert_eq!(h.s.avg_price(), Some(Price::lit(10_025)));
        assert!(h.trades(&[10_100, 10_110, 10_120]).is_empty(), "no top-up");
        // 10,025 × 1.015 = 10,175.4: 10,170 is 144 bp, 10,180 is 154 bp.
        assert!(h.trade(10_170).is_empty());
        assert_eq!(
            h.trade(10_180),
            vec![sell_all(40, MomentumStrategy::REASON_TAKE_PROFIT)]
        );
    }

    #[test]
    fn condition_exit_does_not_sell() {
        let mut h = Harness::default(9_800);
        let qty = h.hold_at_10_000();
        h.leave();
        assert!(h.trades(&[10_000, 10_050, 10_100]).is_empty());
        assert_eq!(
            h.trade(10_150),
            vec![sell_all(qty, MomentumStrategy::REASON_TAKE_PROFIT)]
        );
    }

    #[test]
    fn re_entry_after_a_flat_exit_needs_a_new_condition_enter() {
        let mut h = Harness::default(9_800);
        let qty = h.hold_at_10_000();
        assert_eq!(h.trade(10_150).len(), 1);
        h.fill(Side::Sell, 10_150, qty);
        h.done(Side::Sell, qty, false);
        assert_eq!(h.s.position(), Qty::lit(0));
        assert_eq!(h.s.avg_price(), None);
        assert!(!h.s.has_working_order());
        // Still in the condition, momentum again: no re-entry.
        assert!(h.trades(&[10_160, 10_170, 10_180, 10_190]).is_empty());
        h.leave();
        h.enter();
        assert!(h.trades(&[10_200, 10_210]).is_empty());
        assert_eq!(h.trade(10_220).len(), 1);
    }

    #[test]
    fn replay_is_deterministic() {
        let mut h = Harness::default(9_800);
        let qty = h.at(t(10, 0, 0)).hold_at_10_000();
        h.at(t(10, 5, 0)).trade(10_050);
        h.at(t(10, 10, 0)).timer();
        h.fill(Side::Sell, 10_000, qty);
        h.done(Side::Sell, qty, false);
        let events = h.events.clone();

        let run = || {
            let factory =
                strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap())
                    .unwrap();
            let mut s = factory.build(samsung());
            let intents = replay(s.as_mut(), samsung(), &events);
            (intents, s.position())
        };
        let (first, pos) = run();
        assert_eq!(pos, Qty::lit(0));
        let sides: Vec<_> = first.iter().map(|i| (i.side, i.reason)).collect();
        assert_eq!(
            sides,
            vec![
                (Side::Buy, M),
                (Side::Sell, MomentumStrategy::REASON_TIME_STOP)
            ]
        );
        assert_eq!(first[0].tick_seq, 3);
        assert_eq!(first[1].tick_seq, 0, "from the timer");
        assert_eq!(run().0, first);
    }

    #[test]
    fn signal_becomes_an_intent_with_the_ticks_identity() {
        let mut h = Harness::default(10_000);
        let tick = h.tick(10_100, 5, Side::Buy);
        let sig = Signal::Buy {
            qty: Qty::lit(7),
            order_type: OrderType::Limit(Price::lit(10_110)),
            reason: M,
        };
        assert_eq!(
            sig.into_intent(&tick),
            OrderIntent {
                ticker: samsung(),
                side: Side::Buy,
                qty: Qty::lit(7),
                order_type: OrderType::Limit(Price::lit(10_110)),
                reason: M,
                tick_seq: tick.seq,
                tick_received_at: Some(tick.received_at),
            }
        );
    }

    // PARAMS TESTS
    #[test]
    fn default_params_are_valid_and_as_documented() {
        let p = MomentumParams::default();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(
            (p.confirm_ticks, p.min_change_bp, p.entry_slippage_ticks),
            (3, 100, Some(1))
        );
        assert_eq!(
            (p.take_profit_bp, p.stop_loss_bp, p.max_hold_secs),
            (150, 100, 600)
        );
        assert_eq!((p.entry_cutoff, p.flatten_at), (t(15, 0, 0), t(15, 15, 0)));
        assert!(p.flatten_at < market::CLOSING_AUCTION);
    }

    #[test]
    fn params_validate_names_the_bad_field() {
        let d = MomentumParams::default();
        let cases: [(&str, MomentumParams); 12] = [
            ("budget_won", MomentumParams { budget_won: 0, ..d }),
            (
                "confirm_ticks",
                MomentumParams {
                    confirm_ticks: 0,
                    ..d
                },
            ),
            (
                "confirm_ticks",
                MomentumParams {
                    confirm_ticks: 101,
                    ..d
                },
            ),
            (
                "min_change_bp",
                MomentumParams {
                    min_change_bp: 3_001,
                    ..d
                },
            ),
            (
                "entry_slippage_ticks",
                MomentumParams {
                    entry_slippage_ticks: Some(21),
                    ..d
                },
            ),
            (
                "take_profit_bp",
                MomentumParams {
                    take_profit_bp: 0,
                    ..d
                },
            ),
            (
                "stop_loss_bp",
                MomentumParams {
                    stop_loss_bp: 0,
                    ..d
                },
            ),
            (
                "stop_loss_bp",
                MomentumParams {
                    stop_loss_bp: 10_000,
                    ..d
                },
            ),
            (
                "max_hold_secs",
                MomentumParams {
                    max_hold_secs: 0,
                    ..d
                },
            ),
            (
                "flatten_at",
                MomentumParams {
                    flatten_at: t(15, 20, 1),
                    ..d
                },
            ),
            (
                "entry_cutoff",
                MomentumParams {
                    entry_cutoff: t(15, 15, 0),
                    ..d
                },
            ),
            (
                "entry_cutoff",
                MomentumParams {
                    entry_cutoff: t(15, 30, 0),
                    flatten_at: t(15, 20, 0),
                    ..d
                },
            ),
        ];
        for (field, p) in cases {
            let e = p.validate().unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(e.to_string().contains(field), "{e}");
        }
        let market = MomentumParams {
            entry_slippage_ticks: None,
            min_change_bp: -3_000,
            ..d
        };
        assert_eq!(market.validate(), Ok(()));
    }

    /// Ticks and fills at the ends of what a `Price` and a `Qty` hold (once i64/u64's,
    /// which the types no longer allow): no panic in a debug build, no wrapped signal.
    #[test]
    fn prices_and_quantities_at_the_bounds_neither_panic_nor_wrap() {
        let (top, most) = (
            crate::market::MAX_PRICE.won(),
            crate::market::MAX_QTY.shares(),
        );
        let p = MomentumParams {
            confirm_ticks: 1,
            min_change_bp: -3_000,
            budget_won: 1_000_000_000_000,
            ..MomentumParams::default()
        };
        for prev in [1, top, top / 2] {
            let mut h = Harness::new(p, prev);
            h.enter();
            let mut signals = h.trade_with(top, most, Side::Buy);
            signals.extend(h.trade_with(top - 1, most, Side::Sell));
            signals.extend(h.trade_with(1, most, Side::Buy));
            for s in &signals {
                if let Signal::Buy {
                    qty, order_type, ..
                } = s
                {
                    assert!(qty.shares() > 0 && *qty <= crate::market::MAX_QTY, "{s:?}");
                    if let OrderType::Limit(p) = order_type {
                        assert!(p.won() > 0, "{s:?}");
                    }
                }
            }
            h.fill(Side::Buy, top, most);
            h.fill(Side::Buy, top, most);
            assert!(h.s.avg_price().is_none_or(|a| a.won() > 0));
            let exits = h.trade_with(1, 1, Side::Sell);
            assert!(
                exits
                    .iter()
                    .all(|s| matches!(s, Signal::Sell { qty, .. } if qty.shares() == most)),
                "{exits:?}"
            );
            h.fill(Side::Sell, top, most / 3);
            h.fill(Side::Sell, 1, most);
            assert_eq!(h.s.avg_price(), None);
        }
    }
}
