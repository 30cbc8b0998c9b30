//! What one ticker's strategy holds and which of its orders work ([`Holding`]), the exits
//! every built-in strategy shares ([`ExitRules`]: take-profit, stop-loss, time stop,
//! flatten) and the entry order a budget buys ([`entry_order`]).
//!
//! Owns the position's arithmetic from the strategy's own fills. Must never hold actix
//! types, a clock or I/O: times come from the fills and ticks it is given.

use crate::domain::{Fill, OrderType, Tick};
use crate::market::{self, DailyLimits, Price, Qty, Rounding, Side, Ticker, TimeOfDay};

use super::params::{ParamSpec, Params};
use super::Signal;

const LOG: &str = "condor::strategy";

pub const REASON_TAKE_PROFIT: &str = "take-profit";
pub const REASON_STOP_LOSS: &str = "stop-loss";
pub const REASON_TIME_STOP: &str = "time stop";
pub const REASON_FLATTEN: &str = "flatten before close";

/// The most entry slippage a strategy's `entry_slippage_ticks` takes, in grid ticks.
pub const MAX_ENTRY_SLIPPAGE_TICKS: u32 = 20;

/// The entry's price, shared by the built-ins: [`entry_order`]'s slippage.
pub const ENTRY_SLIPPAGE_SPEC: ParamSpec = ParamSpec::int_or(
    "entry_slippage_ticks",
    0,
    MAX_ENTRY_SLIPPAGE_TICKS as i64,
    "market",
    Some(1),
    "entry as a limit this many grid ticks above the last trade, or market",
);

/// The exits' parameters, shared by the built-ins: [`ExitRules`] but for `flatten_at`,
/// which every strategy has.
pub const EXIT_SPECS: [ParamSpec; 3] = [
    ParamSpec::int(
        "take_profit_bp",
        1,
        100_000,
        150,
        "sell all once the last trade is this far above the average entry price, in bp",
    ),
    ParamSpec::int(
        "stop_loss_bp",
        1,
        9_999,
        100,
        "sell all once the last trade is this far below the average entry price, in bp",
    ),
    ParamSpec::int(
        "max_hold_secs",
        1,
        86_400,
        600,
        "time stop: sell all this long (exchange time) after the position's first fill",
    ),
];

/// [`ENTRY_SLIPPAGE_SPEC`]'s value: `None` for a market order.
pub fn entry_slippage(p: &Params) -> Option<u32> {
    p.int_or_none("entry_slippage_ticks")
        .map(|n| u32::try_from(n).unwrap_or(MAX_ENTRY_SLIPPAGE_TICKS))
}

/// When a position goes, whole, at market. Changes in basis points of the average price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitRules {
    pub take_profit_bp: i64,
    pub stop_loss_bp: i64,
    pub max_hold_secs: u32,
    pub flatten_at: TimeOfDay,
}

impl ExitRules {
    /// From [`EXIT_SPECS`]' values and the common `flatten_at`.
    pub fn from_params(p: &Params) -> ExitRules {
        ExitRules {
            take_profit_bp: p.int("take_profit_bp"),
            stop_loss_bp: p.int("stop_loss_bp"),
            max_hold_secs: p.uint("max_hold_secs"),
            flatten_at: p.time("flatten_at"),
        }
    }
}

/// See the module docs.
#[derive(Clone, Copy, Debug, Default)]
pub struct Holding {
    pub ticker: Option<Ticker>,
    /// Shares held according to the fills seen.
    pub position: Qty,
    /// Cost of the shares held, in won, at their average price.
    cost_won: i128,
    /// Exchange time of the position's first fill, for the time stop.
    first_fill: Option<TimeOfDay>,
    pub entry_working: bool,
    pub exit_working: bool,
}

/// What an order's end meant for the holding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderEnd {
    /// An entry that bought nothing: it did not happen.
    EntryCameToNothing,
    /// Anything else.
    Done,
}

impl Holding {
    pub fn new(ticker: Ticker) -> Holding {
        Holding {
            ticker: Some(ticker),
            ..Holding::default()
        }
    }

    /// Average price of the shares held (truncated to the won), or `None` when flat.
    pub fn avg_price(&self) -> Option<Price> {
        if self.position.is_zero() {
            return None;
        }
        i64::try_from(self.cost_won / i128::from(self.position.shares()))
            .ok()
            .and_then(|won| Price::new_or_zero(won).ok())
    }

    pub fn has_working_order(&self) -> bool {
        self.entry_working || self.exit_working
    }

    /// May a new entry go now: flat, nothing working, before the cutoff and the flatten.
    pub fn may_enter(&self, now: TimeOfDay, entry_cutoff: TimeOfDay, rules: &ExitRules) -> bool {
        self.position.is_zero()
            && !self.entry_working
            && !self.exit_working
            && now < entry_cutoff
            && now < rules.flatten_at
    }

    /// Why the position should go now, if it should; `last` is the last trade's price
    /// (none on a timer).
    pub fn exit_reason(
        &self,
        now: TimeOfDay,
        last: Option<Price>,
        rules: &ExitRules,
    ) -> Option<&'static str> {
        if self.position.is_zero() || self.exit_working {
            return None;
        }
        if let (Some(price), Some(avg)) = (last, self.avg_price()) {
            if avg.won() > 0 {
                let bp = (i128::from(price.won()) - i128::from(avg.won())) * 10_000
                    / i128::from(avg.won());
                if bp <= -i128::from(rules.stop_loss_bp) {
                    return Some(REASON_STOP_LOSS);
                }
                if bp >= i128::from(rules.take_profit_bp) {
                    return Some(REASON_TAKE_PROFIT);
                }
            }
        }
        if now >= rules.flatten_at {
            return Some(REASON_FLATTEN);
        }
        if let Some(first) = self.first_fill {
            if now.secs().saturating_sub(first.secs()) >= rules.max_hold_secs {
                return Some(REASON_TIME_STOP);
            }
        }
        None
    }

    /// Sells everything at market for `reason`.
    pub fn exit(&mut self, reason: &'static str, out: &mut Vec<Signal>) {
        log::info!(
            target: LOG,
            "{} {}: sell {} at market (avg {:?})",
            self.label(),
            reason,
            self.position,
            self.avg_price()
        );
        self.exit_working = true;
        out.push(Signal::Sell {
            qty: self.position,
            order_type: OrderType::Market,
            reason,
        });
    }

    /// An entry of `signal` goes out.
    pub fn entering(&mut self) {
        self.entry_working = true;
    }

    fn label(&self) -> String {
        self.ticker.map_or_else(String::new, |t| t.to_string())
    }

    /// One of our fills. Returns true when it made the position flat.
    pub fn on_fill(&mut self, fill: &Fill) -> bool {
        let qty = fill.qty.shares();
        match fill.side {
            Side::Buy => {
                if self.position.is_zero() {
                    self.first_fill = Some(fill.time);
                }
                self.position = match self.position.checked_add(fill.qty) {
                    Some(after) => after,
                    None => {
                        // No account holds this much of one stock: a broken feed. Held at
                        // the bound so the exit still sells what an order can carry.
                        log::error!(
                            target: LOG,
                            "{} buy fill of {qty} on {} passes {} shares; position held there",
                            self.label(),
                            self.position,
                            market::MAX_QTY
                        );
                        market::MAX_QTY
                    }
                };
                // One i64 × u64 always fits an i128; their sum is saturated, so fills no
                // wire would pass cannot panic the strategy or wrap its average price.
                self.cost_won = self
                    .cost_won
                    .saturating_add(i128::from(fill.price.won()) * i128::from(qty));
                false
            }
            Side::Sell => {
                let before = self.position;
                if before.is_zero() {
                    log::warn!(target: LOG, "{} sell fill of {qty} while flat", self.label());
                    return false;
                }
                self.position = before.saturating_sub(fill.qty);
                // The shares left keep their average price.
                self.cost_won = kept_cost(self.cost_won, self.position.shares(), before.shares());
                if self.position.is_zero() {
                    log::info!(target: LOG, "{} flat", self.label());
                    self.cost_won = 0;
                    self.first_fill = None;
                    return true;
                }
                false
            }
        }
    }

    /// One of our orders ended with `filled` shares executed in all.
    pub fn on_order_done(&mut self, side: Side, filled: Qty, rejected: bool) -> OrderEnd {
        let how = if rejected { "rejected" } else { "cancelled" };
        match side {
            Side::Buy => {
                self.entry_working = false;
                if filled.is_zero() && self.position.is_zero() {
                    log::info!(target: LOG, "{} entry {how} with nothing filled", self.label());
                    return OrderEnd::EntryCameToNothing;
                }
            }
            Side::Sell => {
                self.exit_working = false;
                if !self.position.is_zero() {
                    log::warn!(
                        target: LOG,
                        "{} exit {} with {} still held; exits re-check on the next tick",
                        self.label(),
                        if rejected { "rejected" } else { "ended" },
                        self.position
                    );
                }
            }
        }
        OrderEnd::Done
    }
}

/// The cost of `kept` of `before` shares that cost `cost` in all (`kept` ≤ `before`):
/// exact wherever `cost × kept` fits an `i128` (any cost KRX's prices can add up to), and
/// within a won a share beyond, never overflowing.
fn kept_cost(cost: i128, kept: u64, before: u64) -> i128 {
    let (kept, before) = (i128::from(kept), i128::from(before.max(1)));
    match cost.checked_mul(kept) {
        Some(v) => v / before,
        None => cost / before * kept,
    }
}

/// The entry a budget buys on `tick`: a limit `slippage_ticks` grid ticks above the last
/// trade (never above the day's upper limit), or market when `None`; `None` when the
/// budget buys no whole share.
pub fn entry_order(
    tick: &Tick,
    budget_won: i64,
    slippage_ticks: Option<u32>,
) -> Option<(Qty, OrderType)> {
    let order_type = match slippage_ticks {
        None => OrderType::Market,
        Some(n) => {
            let mut price = market::round_to_grid(tick.price, Rounding::Up);
            for _ in 0..n {
                // Never a limit KRX cannot print: the steps stop at the highest price.
                let Some(up) = market::tick_up(price) else {
                    break;
                };
                price = up;
            }
            if tick.prev_close.won() > 0 {
                // Never above the day's upper limit (상한가): the exchange would refuse it.
                price = price.min(DailyLimits::from_base(tick.prev_close).upper);
            }
            OrderType::Limit(price)
        }
    };
    let order_price = match order_type {
        OrderType::Limit(p) => p,
        OrderType::Market => tick.price,
    };
    // A market order on a trade at 0 (no wire passes one) has no price to size by.
    if order_price.won() <= 0 {
        return None;
    }
    let qty = budget_won.max(0) / order_price.won();
    if qty == 0 {
        log::debug!(
            target: LOG,
            "{} budget {budget_won} buys no share at {order_price}",
            tick.ticker
        );
        return None;
    }
    // Never more than one order can carry: the budget bounds the spend, not the count.
    let qty = Qty::new(qty.unsigned_abs()).unwrap_or(market::MAX_QTY);
    Some((qty, order_type))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderNo;

    fn fill(side: Side, price: i64, qty: u64) -> Fill {
        Fill {
            ticker: Ticker::parse("005930").unwrap(),
            side,
            price: Price::lit(price),
            qty: Qty::lit(qty),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 0, 0),
        }
    }

    #[test]
    fn fills_past_the_largest_position_hold_it_there() {
        let (top, most) = (market::MAX_PRICE.won(), market::MAX_QTY.shares());
        let mut h = Holding::new(Ticker::parse("005930").unwrap());
        h.on_fill(&fill(Side::Buy, top, most));
        h.on_fill(&fill(Side::Buy, top, most));
        assert_eq!(h.position, market::MAX_QTY);
        // The average stays a positive price, never wrapped negative.
        let avg = h.avg_price();
        assert!(avg.is_none_or(|p| p.won() > 0), "{avg:?}");
        assert!(!h.on_fill(&fill(Side::Sell, top, most / 2)));
        assert!(h.cost_won > 0);
        assert!(h.on_fill(&fill(Side::Sell, 1, most)));
        assert_eq!((h.position, h.cost_won), (Qty::ZERO, 0));
    }

    #[test]
    fn the_cost_kept_is_exact_where_it_fits_and_saturates_beyond() {
        assert_eq!(kept_cost(900, 1, 3), 300);
        assert_eq!(kept_cost(1_000, 2, 3), 666);
        let big = kept_cost(i128::MAX, u64::MAX - 1, u64::MAX);
        assert!(big > 0 && big < i128::MAX, "{big}");
        assert_eq!(kept_cost(i128::MAX, 0, u64::MAX), 0);
    }

    #[test]
    fn an_entry_at_the_highest_price_stays_printable() {
        let tick = |price: i64, prev: i64| Tick {
            ticker: Ticker::parse("005930").unwrap(),
            price: Price::lit(price),
            qty: market::MAX_QTY,
            cum_volume: u64::MAX,
            prev_close: Price::lit(prev),
            aggressor: Side::Buy,
            exchange_time: TimeOfDay::hms(9, 0, 0),
            received_at: std::time::Instant::now(),
            seq: 1,
        };
        // A market order on a trade at 0 has no price to size by.
        assert_eq!(entry_order(&tick(0, 1), 1_000_000, None), None);
        // Steps past the highest price stop there.
        let t = tick(market::MAX_PRICE.won() - 5_000, 90_000_000);
        let (_, order_type) = entry_order(&t, i64::MAX, Some(u32::MAX >> 16)).unwrap();
        assert_eq!(order_type, OrderType::Limit(market::MAX_PRICE));
        // At the highest printable price a big budget buys a sane order: its limit capped
        // at what KRX can print, no more shares than one order can carry.
        let (qty, order_type) = entry_order(
            &tick(market::MAX_PRICE.won(), 90_000_000),
            i64::MAX,
            Some(3),
        )
        .unwrap();
        assert!(qty.shares() > 0 && qty <= market::MAX_QTY);
        assert_eq!(order_type, OrderType::Limit(market::MAX_PRICE));
    }
}
