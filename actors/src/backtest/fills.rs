//! The backtest's fill model: orders filled by the tape's later trades, by the same rules
//! the embedded exchange matches with (`actors/sim/src/exchange/orders.rs`), so a backtest and
//! `condor run` against `condor sim --tape` fill alike.
//!
//! An order becomes active `latency` after the intent that caused it (the time it takes to
//! reach the exchange). From then on each trade of its ticker is shared out over the
//! active orders in time priority: a market order takes from any trade, a buy limit from a
//! trade at or below its price, a sell limit from one at or above it; each fill is at the
//! trade's price and never more than the trade's quantity in all. What it does not model:
//! queue position (an order is first in line at its price the moment it is active),
//! market impact (our orders never move the price), and the book between trades.
//!
//! Must never read a clock or a random source of its own: latency draws come from a
//! seeded generator handed in, so a backtest is deterministic.

use crate::market::{Price, Qty, Side, Ticker};
use crate::messages::OrderType;
use crate::tape::TapeTrade;

/// How long an order takes to become active at the exchange, in ns of tape time.
#[derive(Clone, Debug)]
pub enum Latency {
    Fixed(u64),
    /// Drawn (seeded) from these samples, e.g. a recorded day's intent→fill times.
    Sampled {
        samples: Vec<u64>,
        rng: fastrand::Rng,
    },
}

impl Latency {
    /// The next order's latency.
    pub fn draw(&mut self) -> u64 {
        match self {
            Latency::Fixed(ns) => *ns,
            Latency::Sampled { samples, rng } if !samples.is_empty() => {
                samples[rng.usize(..samples.len())]
            }
            Latency::Sampled { .. } => 0,
        }
    }
}

/// One order the model works.
#[derive(Clone, Debug)]
struct Working {
    id: u64,
    ticker: Ticker,
    side: Side,
    order_type: OrderType,
    remaining: Qty,
    active_from_ns: i64,
}

/// One execution the model made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelFill {
    pub id: u64,
    pub ticker: Ticker,
    pub side: Side,
    pub price: Price,
    pub qty: Qty,
    /// Shares still working after this fill.
    pub remaining: Qty,
}

/// See the module docs.
#[derive(Debug)]
pub struct FillModel {
    latency: Latency,
    /// In time priority (submission order).
    working: Vec<Working>,
}

impl FillModel {
    pub fn new(latency: Latency) -> FillModel {
        FillModel {
            latency,
            working: Vec::new(),
        }
    }

    /// Works order `id` from `now_ns` plus the model's latency.
    pub fn submit(
        &mut self,
        id: u64,
        ticker: Ticker,
        side: Side,
        qty: Qty,
        order_type: OrderType,
        now_ns: i64,
    ) {
        let delay = i64::try_from(self.latency.draw()).unwrap_or(i64::MAX);
        self.working.push(Working {
            id,
            ticker,
            side,
            order_type,
            remaining: qty,
            active_from_ns: now_ns.saturating_add(delay),
        });
    }

    /// Stops working order `id`; returns the shares it still had.
    pub fn cancel(&mut self, id: u64) -> Option<Qty> {
        let at = self.working.iter().position(|w| w.id == id)?;
        Some(self.working.remove(at).remaining)
    }

    /// Orders still working.
    pub fn working(&self) -> usize {
        self.working.len()
    }

    /// Fills what `trade`, received at `recv_ns`, reaches; pushes each fill to `out`.
    pub fn on_trade(&mut self, trade: &TapeTrade, recv_ns: i64, out: &mut Vec<ModelFill>) {
        let mut left = trade.qty;
        let mut any_done = false;
        for w in &mut self.working {
            if left.is_zero() {
                break;
            }
            if w.ticker != trade.ticker || w.active_from_ns > recv_ns {
                continue;
            }
            let eligible = match (w.order_type, w.side) {
                (OrderType::Market, _) => true,
                (OrderType::Limit(p), Side::Buy) => trade.price <= p,
                (OrderType::Limit(p), Side::Sell) => trade.price >= p,
            };
            if !eligible {
                continue;
            }
            let f = w.remaining.min(left);
            left = left.saturating_sub(f);
            w.remaining = w.remaining.saturating_sub(f);
            any_done |= w.remaining.is_zero();
            out.push(ModelFill {
                id: w.id,
                ticker: w.ticker,
                side: w.side,
                price: trade.price,
                qty: f,
                remaining: w.remaining,
            });
        }
        if any_done {
            self.working.retain(|w| !w.remaining.is_zero());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::TimeOfDay;

    fn t() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn trade(price: i64, qty: u64) -> TapeTrade {
        TapeTrade {
            ticker: t(),
            price: Price::lit(price),
            qty: Qty::lit(qty),
            cum_volume: 0,
            prev_close: Price::lit(10_000),
            aggressor: Side::Buy,
            exchange_time: TimeOfDay::hms(9, 0, 0),
            seq: 1,
        }
    }

    #[test]
    fn a_market_order_waits_for_its_latency_then_fills_partially_by_each_trade() {
        let mut m = FillModel::new(Latency::Fixed(1_000));
        m.submit(1, t(), Side::Buy, Qty::lit(15), OrderType::Market, 0);
        let mut out = Vec::new();
        m.on_trade(&trade(10_000, 10), 999, &mut out);
        assert!(out.is_empty(), "before its latency: {out:?}");
        m.on_trade(&trade(10_050, 10), 1_000, &mut out);
        m.on_trade(&trade(10_100, 10), 2_000, &mut out);
        let got: Vec<(i64, u64, u64)> = out
            .iter()
            .map(|f| (f.price.won(), f.qty.shares(), f.remaining.shares()))
            .collect();
        assert_eq!(got, [(10_050, 10, 5), (10_100, 5, 0)]);
        assert_eq!(m.working(), 0);
    }

    #[test]
    fn limits_fill_at_or_through_their_price_and_share_a_trade_in_time_priority() {
        let mut m = FillModel::new(Latency::Fixed(0));
        m.submit(
            1,
            t(),
            Side::Buy,
            Qty::lit(8),
            OrderType::Limit(Price::lit(9_990)),
            0,
        );
        m.submit(
            2,
            t(),
            Side::Buy,
            Qty::lit(8),
            OrderType::Limit(Price::lit(9_990)),
            0,
        );
        m.submit(
            3,
            t(),
            Side::Sell,
            Qty::lit(5),
            OrderType::Limit(Price::lit(10_050)),
            0,
        );
        let mut out = Vec::new();
        m.on_trade(&trade(10_000, 100), 1, &mut out);
        assert!(out.is_empty(), "above the buys, below the sell: {out:?}");
        m.on_trade(&trade(9_990, 10), 2, &mut out);
        // Never more than printed: 10 shares shared, first come first.
        let got: Vec<(u64, u64)> = out.iter().map(|f| (f.id, f.qty.shares())).collect();
        assert_eq!(got, [(1, 8), (2, 2)]);
        out.clear();
        m.on_trade(&trade(10_060, 3), 3, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].id, out[0].price, out[0].qty),
            (3, Price::lit(10_060), Qty::lit(3))
        );
        assert_eq!(m.cancel(2), Some(Qty::lit(6)));
        assert_eq!(m.cancel(2), None);
    }

    #[test]
    fn another_tickers_trade_fills_nothing() {
        let mut m = FillModel::new(Latency::Fixed(0));
        m.submit(1, t(), Side::Buy, Qty::lit(1), OrderType::Market, 0);
        let mut other = trade(10_000, 10);
        other.ticker = Ticker::parse("000660").unwrap();
        let mut out = Vec::new();
        m.on_trade(&other, 5, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn sampled_latency_is_seeded() {
        let draws = |seed| {
            let mut l = Latency::Sampled {
                samples: vec![1, 2, 3, 4, 5, 6, 7, 8],
                rng: fastrand::Rng::with_seed(seed),
            };
            (0..20).map(|_| l.draw()).collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
    }
}
