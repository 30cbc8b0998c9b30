//! The portfolio's arithmetic: cash, positions, cost basis, realized and unrealized P&L,
//! fees. The Portfolio actor owns one [`Ledger`] and is its only writer.
//!
//! Integer won and whole shares only. The cost basis is kept as the exact total won paid
//! for the shares still held, not as an average price: a partial sell removes
//! `cost × sold / held` (truncated) and the remainder stays with the shares still held, so a
//! position sold out returns to a cost of exactly 0 and realized P&L sums exactly. The
//! invariant, after every fill:
//!
//! `cash + Σ cost = opening cash + realized P&L − fees`
//!
//! Must never panic and never half-apply a fill: every sum is checked, and a refused fill
//! (overflow, selling more than held, a bad price) returns a [`LedgerError`] and changes
//! nothing. The ledger records facts (fills the broker reported); it does not refuse a buy
//! for lack of cash — cash may go negative — since refusing is the risk gate's job, before
//! the order.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::domain::Fill;
use crate::market::{notional, Price, Qty, Side, Ticker};

/// Why a fill or mark was refused. Nothing changed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("{ticker}: fill of zero shares")]
    ZeroQty { ticker: Ticker },
    #[error("{ticker}: non-positive price {price}")]
    NonPositivePrice { ticker: Ticker, price: Price },
    #[error("{ticker}: negative fee {fee} won")]
    NegativeFee { ticker: Ticker, fee: i64 },
    #[error("{ticker}: sell of {qty} shares but only {held} held")]
    SellMoreThanHeld { ticker: Ticker, qty: Qty, held: Qty },
    #[error("{ticker}: {what} overflows")]
    Overflow { ticker: Ticker, what: &'static str },
    #[error("total {what} overflows")]
    TotalOverflow { what: &'static str },
}

/// What the ledger holds for one ticker. A sold-out ticker keeps its entry (quantity 0) for
/// the day's realized P&L.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Position {
    pub qty: Qty,
    /// Total won paid for the shares held (fees excluded); 0 when flat.
    pub cost: i64,
    /// Realized P&L of this ticker today, fees excluded.
    pub realized_pnl: i64,
    /// The last price seen (a mark or a fill), to value the position.
    pub last_price: Option<Price>,
}

impl Position {
    /// Average price paid, truncated; `None` when flat.
    pub fn avg_price(&self) -> Option<Price> {
        let qty = i64::try_from(self.qty.shares()).ok()?;
        if qty == 0 {
            return None;
        }
        Price::new_or_zero(self.cost / qty).ok()
    }

    pub fn is_flat(&self) -> bool {
        self.qty.shares() == 0
    }

    /// Held shares at the last price; at cost when no price is known yet.
    fn market_value(&self) -> i64 {
        match self.last_price {
            Some(p) if !self.is_flat() => notional(p, self.qty),
            _ => self.cost,
        }
    }
}

/// What one fill did, for the journal, the notifier and the caller's log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FillEffect {
    pub ticker: Ticker,
    pub side: Side,
    pub qty: Qty,
    pub price: Price,
    pub fee: i64,
    /// Realized by this fill (0 for a buy), fees excluded.
    pub realized_pnl: i64,
    /// The position after the fill.
    pub position_qty: Qty,
    pub avg_price: Option<Price>,
    pub cash: i64,
}

/// One position in a [`LedgerSnapshot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PositionSnapshot {
    pub ticker: Ticker,
    pub qty: Qty,
    pub avg_price: Option<Price>,
    pub cost: i64,
    pub last_price: Option<Price>,
    pub market_value: i64,
    pub unrealized_pnl: i64,
    pub realized_pnl: i64,
}

/// The ledger as plain data for `/status` and the daily summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerSnapshot {
    pub opening_cash: i64,
    pub cash: i64,
    /// Every ticker traded today, by code; sold-out ones with quantity 0.
    pub positions: Vec<PositionSnapshot>,
    pub realized_pnl: i64,
    pub unrealized_pnl: i64,
    pub fees: i64,
    /// Cash + market value of what is held.
    pub equity: i64,
}

/// Cash and positions. Fields are private: only [`Ledger::apply_fill`] and
/// [`Ledger::mark`] change them, so the invariant above cannot be broken from outside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ledger {
    opening_cash: i64,
    cash: i64,
    positions: BTreeMap<Ticker, Position>,
    realized_pnl: i64,
    fees: i64,
}

impl Ledger {
    /// An empty ledger with `cash` won.
    pub fn new(cash: i64) -> Ledger {
        Ledger {
            opening_cash: cash,
            cash,
            positions: BTreeMap::new(),
            realized_pnl: 0,
            fees: 0,
        }
    }

    pub fn cash(&self) -> i64 {
        self.cash
    }
    pub fn opening_cash(&self) -> i64 {
        self.opening_cash
    }
    /// Total realized P&L, fees excluded.
    pub fn realized_pnl(&self) -> i64 {
        self.realized_pnl
    }
    /// Total fees and taxes paid.
    pub fn fees(&self) -> i64 {
        self.fees
    }
    pub fn position(&self, ticker: Ticker) -> Option<&Position> {
        self.positions.get(&ticker)
    }
    /// Every ticker traded, by code, sold-out ones included.
    pub fn positions(&self) -> impl Iterator<Item = (Ticker, &Position)> {
        self.positions.iter().map(|(t, p)| (*t, p))
    }
    /// Shares held of `ticker` (0 when none).
    pub fn held_qty(&self, ticker: Ticker) -> Qty {
        self.positions.get(&ticker).map_or(Qty::lit(0), |p| p.qty)
    }
    pub fn is_flat(&self, ticker: Ticker) -> bool {
        self.held_qty(ticker).shares() == 0
    }

    /// Takes on a position the engine did not build (held before the day's journal began, or
    /// found at the broker by reconciliation): `qty` at `avg_price`, replacing what the ledger
    /// had for `ticker`. Cash does not move: the broker's cash already paid for it.
    pub fn adopt(&mut self, ticker: Ticker, qty: Qty, avg_price: Price) -> Result<(), LedgerError> {
        let cost = notional(avg_price, qty);
        let pos = self.positions.entry(ticker).or_default();
        pos.qty = qty;
        pos.cost = cost;
        Ok(())
    }

    /// Sets cash to the broker's figure (reconciliation: the broker is the truth).
    pub fn correct_cash(&mut self, cash: i64) {
        self.cash = cash;
    }

    /// Books one execution. `fee_won` is everything the broker charged for it (commission,
    /// and on a sell the transaction tax); it leaves cash but not the cost basis, so
    /// realized P&L is before fees and `fees()` is the other half.
    pub fn apply_fill(&mut self, fill: &Fill, fee_won: i64) -> Result<FillEffect, LedgerError> {
        let ticker = fill.ticker;
        let overflow = |what| LedgerError::Overflow { ticker, what };
        if fill.qty.shares() == 0 {
            return Err(LedgerError::ZeroQty { ticker });
        }
        if fill.price.won() <= 0 {
            return Err(LedgerError::NonPositivePrice {
                ticker,
                price: fill.price,
            });
        }
        if fee_won < 0 {
            return Err(LedgerError::NegativeFee {
                ticker,
                fee: fee_won,
            });
        }
        let value = notional(fill.price, fill.qty);
        let old = self.positions.get(&ticker).copied().unwrap_or_default();
        let fees = self.fees.checked_add(fee_won).ok_or(overflow("fees"))?;

        // Work out the whole new state first, then commit it in one go.
        let (pos, cash, realized_pnl, pnl) = match fill.side {
            Side::Buy => {
                let cash = self
                    .cash
                    .checked_sub(value)
                    .and_then(|c| c.checked_sub(fee_won))
                    .ok_or(overflow("cash"))?;
                let pos = Position {
                    // Past MAX_QTY: refused like any overflow, the fill not booked.
                    qty: old.qty.checked_add(fill.qty).ok_or(overflow("qty"))?,
                    cost: old.cost.checked_add(value).ok_or(overflow("cost"))?,
                    realized_pnl: old.realized_pnl,
                    last_price: Some(fill.price),
                };
                (pos, cash, self.realized_pnl, 0)
            }
            Side::Sell => {
                if fill.qty > old.qty {
                    return Err(LedgerError::SellMoreThanHeld {
                        ticker,
                        qty: fill.qty,
                        held: old.qty,
                    });
                }
                // cost × sold / held in i128: the product can pass i64, the quotient cannot
                // (it is at most `cost`). Truncation leaves the odd won with the shares still
                // held; selling the last share removes exactly what is left.
                let removed = i128::from(old.cost) * i128::from(fill.qty.shares())
                    / i128::from(old.qty.shares());
                let removed = i64::try_from(removed).map_err(|_| overflow("cost"))?;
                let pnl = value.checked_sub(removed).ok_or(overflow("realized P&L"))?;
                let cash = self
                    .cash
                    .checked_add(value)
                    .and_then(|c| c.checked_sub(fee_won))
                    .ok_or(overflow("cash"))?;
                let pos = Position {
                    qty: old.qty.saturating_sub(fill.qty), // fill.qty ≤ old.qty: checked above
                    cost: old.cost - removed,              // 0 ≤ removed ≤ cost
                    realized_pnl: old
                        .realized_pnl
                        .checked_add(pnl)
                        .ok_or(overflow("realized P&L"))?,
                    last_price: Some(fill.price),
                };
                let realized = self
                    .realized_pnl
                    .checked_add(pnl)
                    .ok_or(overflow("realized P&L"))?;
                (pos, cash, realized, pnl)
            }
        };

        self.positions.insert(ticker, pos);
        self.cash = cash;
        self.realized_pnl = realized_pnl;
        self.fees = fees;
        Ok(FillEffect {
            ticker,
            side: fill.side,
            qty: fill.qty,
            price: fill.price,
            fee: fee_won,
            realized_pnl: pnl,
            position_qty: pos.qty,
            avg_price: pos.avg_price(),
            cash,
        })
    }

    /// Records the last traded price of a held ticker, for unrealized P&L. A ticker with no
    /// entry is ignored: there is nothing to value.
    pub fn mark(&mut self, ticker: Ticker, price: Price) -> Result<(), LedgerError> {
        if price.won() <= 0 {
            return Err(LedgerError::NonPositivePrice { ticker, price });
        }
        if let Some(p) = self.positions.get_mut(&ticker) {
            p.last_price = Some(price);
        }
        Ok(())
    }

    /// Σ (last price × qty − cost) over held positions; a position never priced counts 0.
    pub fn unrealized_pnl(&self) -> Result<i64, LedgerError> {
        Ok(self.snapshot()?.unrealized_pnl)
    }

    /// Everything as plain data.
    pub fn snapshot(&self) -> Result<LedgerSnapshot, LedgerError> {
        let mut positions = Vec::with_capacity(self.positions.len());
        let (mut unrealized, mut value) = (0i64, 0i64);
        for (&ticker, p) in &self.positions {
            let overflow = |what| LedgerError::Overflow { ticker, what };
            let market_value = p.market_value();
            let pnl = market_value
                .checked_sub(p.cost)
                .ok_or(overflow("unrealized P&L"))?;
            unrealized = unrealized
                .checked_add(pnl)
                .ok_or(LedgerError::TotalOverflow {
                    what: "unrealized P&L",
                })?;
            value = value
                .checked_add(market_value)
                .ok_or(LedgerError::TotalOverflow {
                    what: "market value",
                })?;
            positions.push(PositionSnapshot {
                ticker,
                qty: p.qty,
                avg_price: p.avg_price(),
                cost: p.cost,
                last_price: p.last_price,
                market_value,
                unrealized_pnl: pnl,
                realized_pnl: p.realized_pnl,
            });
        }
        let equity = self
            .cash
            .checked_add(value)
            .ok_or(LedgerError::TotalOverflow { what: "equity" })?;
        Ok(LedgerSnapshot {
            opening_cash: self.opening_cash,
            cash: self.cash,
            positions,
            realized_pnl: self.realized_pnl,
            unrealized_pnl: unrealized,
            fees: self.fees,
            equity,
        })
    }
}

/// What the broker charges for one execution, in parts per million of its value, each
/// part rounded down per execution (as the embedded exchange charges): commission on
/// both sides, the securities transaction tax on sells. LS rounds its own way over a day's
/// executions, so against LS this is an estimate within a few won per fill; the cash
/// check after fills takes the broker's figure when they differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FeeSchedule {
    pub commission_ppm: i64,
    pub sell_tax_ppm: i64,
}

impl FeeSchedule {
    /// The most either rate may be: all of the value.
    pub const MAX_PPM: i64 = 1_000_000;

    /// The fee, in won, of `fill`.
    pub fn fee(&self, fill: &Fill) -> i64 {
        let value = i128::from(fill.price.won()) * i128::from(fill.qty.shares());
        let part = |ppm: i64| -> i128 {
            if value <= 0 || ppm <= 0 {
                0
            } else {
                // Saturating: a value past any printable price × quantity gives the
                // largest fee, which the ledger then refuses as an overflow.
                value.saturating_mul(i128::from(ppm)) / 1_000_000
            }
        };
        let tax = match fill.side {
            Side::Buy => 0,
            Side::Sell => part(self.sell_tax_ppm),
        };
        i64::try_from(part(self.commission_ppm).saturating_add(tax)).unwrap_or(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderNo;
    use crate::market::TimeOfDay;

    fn tk(s: &str) -> Ticker {
        Ticker::parse(s).unwrap()
    }

    fn fill(ticker: Ticker, side: Side, qty: u64, price: i64) -> Fill {
        Fill {
            ticker,
            side,
            price: Price::lit(price),
            qty: Qty::lit(qty),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 30, 0),
        }
    }

    fn buy(t: Ticker, qty: u64, price: i64) -> Fill {
        fill(t, Side::Buy, qty, price)
    }

    fn sell(t: Ticker, qty: u64, price: i64) -> Fill {
        fill(t, Side::Sell, qty, price)
    }

    /// cash + Σ cost = opening + realized − fees; Σ per-ticker realized = realized.
    fn assert_consistent(l: &Ledger) {
        let cost: i128 = l.positions().map(|(_, p)| i128::from(p.cost)).sum();
        assert_eq!(
            i128::from(l.cash()) + cost,
            i128::from(l.opening_cash()) + i128::from(l.realized_pnl()) - i128::from(l.fees()),
            "{l:?}"
        );
        let realized: i64 = l.positions().map(|(_, p)| p.realized_pnl).sum();
        assert_eq!(realized, l.realized_pnl());
        for (t, p) in l.positions() {
            // Every share cost at least 1 won, and the truncation keeps that true.
            assert!(p.cost >= p.qty.shares() as i64, "{t}: {p:?}");
            if p.is_flat() {
                assert_eq!(p.cost, 0, "{t}: a sold-out position has no cost left");
            }
        }
    }

    #[test]
    fn buy_then_sell_realizes_against_average_cost() {
        let s = tk("005930");
        let mut l = Ledger::new(10_000_000);
        let e = l.apply_fill(&buy(s, 10, 60_000), 90).unwrap();
        assert_eq!(e.cash, 10_000_000 - 600_000 - 90);
        assert_eq!(
            (e.position_qty, e.avg_price),
            (Qty::lit(10), Some(Price::lit(60_000)))
        );
        l.apply_fill(&buy(s, 5, 60_100), 45).unwrap();
        let p = *l.position(s).unwrap();
        assert_eq!((p.qty, p.cost), (Qty::lit(15), 900_500));
        assert_eq!(p.avg_price(), Some(Price::lit(60_033))); // 900,500 / 15 = 60,033.3
        let e = l.apply_fill(&sell(s, 5, 61_000), 500).unwrap();
        // Removes 900,500 × 5 / 15 = 300,166 (truncated); the odd won stays with the rest.
        assert_eq!(e.realized_pnl, 305_000 - 300_166);
        assert_eq!(l.position(s).unwrap().cost, 600_334);
        let e = l.apply_fill(&sell(s, 10, 59_000), 900).unwrap();
        assert_eq!(e.realized_pnl, 590_000 - 600_334);
        assert_eq!(e.position_qty, Qty::lit(0));
        assert_eq!(e.avg_price, None);
        assert!(l.is_flat(s));
        assert_eq!(l.position(s).unwrap().cost, 0);
        assert_eq!(l.realized_pnl(), 4_834 - 10_334);
        assert_eq!(l.fees(), 90 + 45 + 500 + 900);
        assert_eq!(l.cash(), 10_000_000 + l.realized_pnl() - l.fees());
        assert_consistent(&l);
    }

    #[test]
    fn refused_fills_change_nothing() {
        let s = tk("005930");
        let mut l = Ledger::new(1_000_000);
        l.apply_fill(&buy(s, 3, 10_000), 10).unwrap();
        let before = l.clone();
        assert_eq!(
            l.apply_fill(&sell(s, 4, 10_000), 0),
            Err(LedgerError::SellMoreThanHeld {
                ticker: s,
                qty: Qty::lit(4),
                held: Qty::lit(3)
            })
        );
        assert!(matches!(
            l.apply_fill(&sell(tk("000660"), 1, 10_000), 0),
            Err(LedgerError::SellMoreThanHeld { .. })
        ));
        assert!(matches!(
            l.apply_fill(&buy(s, 0, 10_000), 0),
            Err(LedgerError::ZeroQty { .. })
        ));
        assert!(matches!(
            l.apply_fill(&buy(s, 1, 0), 0),
            Err(LedgerError::NonPositivePrice { .. })
        ));
        assert!(matches!(
            l.apply_fill(&buy(s, 1, 10_000), -1),
            Err(LedgerError::NegativeFee { .. })
        ));
        // A position past MAX_QTY is refused, the fill not booked.
        assert!(matches!(
            l.apply_fill(&buy(s, crate::market::MAX_QTY.shares(), 1), 0),
            Err(LedgerError::Overflow { what: "qty", .. })
        ));
        assert!(matches!(
            l.apply_fill(&buy(s, 1, 10_000), i64::MAX),
            Err(LedgerError::Overflow { .. })
        ));
        assert_eq!(l, before);
        let msg = l
            .apply_fill(&sell(s, 4, 10_000), 0)
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "005930: sell of 4 shares but only 3 held");
    }

    #[test]
    fn overflow_in_cash_is_an_error_not_a_panic() {
        let s = tk("005930");
        let mut l = Ledger::new(i64::MIN + 10);
        assert!(matches!(
            l.apply_fill(&buy(s, 1, 11), 0),
            Err(LedgerError::Overflow { what: "cash", .. })
        ));
        let mut l = Ledger::new(i64::MAX - 5);
        // Buying 1 at 5 leaves room; selling it back for 10 would pass i64::MAX.
        l.apply_fill(&buy(s, 1, 5), 0).unwrap();
        assert!(matches!(
            l.apply_fill(&sell(s, 1, 20), 0),
            Err(LedgerError::Overflow { what: "cash", .. })
        ));
        assert_eq!(l.held_qty(s), Qty::lit(1));
    }

    #[test]
    fn marks_unrealized_and_snapshot() {
        let s = tk("005930");
        let h = tk("000660");
        let mut l = Ledger::new(5_000_000);
        l.apply_fill(&buy(s, 10, 60_000), 0).unwrap();
        l.apply_fill(&buy(h, 2, 200_000), 0).unwrap();
        assert_eq!(l.unrealized_pnl(), Ok(0), "last price = fill price");
        l.mark(s, Price::lit(61_000)).unwrap();
        l.mark(h, Price::lit(199_500)).unwrap();
        l.mark(tk("035720"), Price::lit(50_000)).unwrap(); // not held: ignored
        assert!(l.position(tk("035720")).is_none());
        assert_eq!(l.unrealized_pnl(), Ok(10_000 - 1_000));
        let snap = l.snapshot().unwrap();
        assert_eq!(snap.cash, 5_000_000 - 600_000 - 400_000);
        assert_eq!(snap.equity, snap.cash + 610_000 + 399_000);
        assert_eq!(snap.positions.len(), 2);
        assert_eq!(snap.positions[0].ticker, h, "ordered by code");
        assert_eq!(snap.positions[1].avg_price, Some(Price::lit(60_000)));
        assert_eq!(snap.positions[1].unrealized_pnl, 10_000);
        // Sold out: stays in the snapshot with its realized P&L and no market value.
        l.apply_fill(&sell(h, 2, 201_000), 0).unwrap();
        let snap = l.snapshot().unwrap();
        let hp = snap.positions[0];
        assert_eq!((hp.qty, hp.cost, hp.market_value), (Qty::lit(0), 0, 0));
        assert_eq!(hp.realized_pnl, 2_000);
        assert_eq!(snap.unrealized_pnl, 10_000);
        assert!(serde_json::to_string(&snap).unwrap().contains("\"000660\""));
    }

    /// xorshift64*: deterministic, no extra crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    #[test]
    fn random_fills_keep_the_books_exact() {
        let tickers = [tk("005930"), tk("000660"), tk("035720"), tk("247540")];
        for seed in 1..=20u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
            let opening = 50_000_000;
            let mut l = Ledger::new(opening);
            for _ in 0..2_000 {
                let t = tickers[rng.below(tickers.len() as u64) as usize];
                let price = 1 + rng.below(300_000) as i64;
                let fee = rng.below(1_000) as i64;
                let held = l.held_qty(t).shares();
                match rng.below(5) {
                    // Buys a little more often than sells, so positions build up.
                    0..=1 => {
                        l.apply_fill(&buy(t, 1 + rng.below(500), price), fee)
                            .unwrap();
                    }
                    2..=3 if held > 0 => {
                        l.apply_fill(&sell(t, 1 + rng.below(held), price), fee)
                            .unwrap();
                    }
                    _ => {
                        // Selling more than held is refused and changes nothing.
                        let before = l.clone();
                        assert!(l
                            .apply_fill(&sell(t, held + 1 + rng.below(10), price), fee)
                            .is_err());
                        assert_eq!(l, before);
                    }
                }
                assert_consistent(&l);
                let snap = l.snapshot().unwrap();
                let cost: i64 = snap.positions.iter().map(|p| p.cost).sum();
                assert_eq!(snap.unrealized_pnl + cost + snap.cash, snap.equity);
            }
            // Flatten everything, in random prices.
            for t in tickers {
                let held = l.held_qty(t).shares();
                if held > 0 {
                    let price = 1 + rng.below(300_000) as i64;
                    l.apply_fill(&sell(t, held, price), rng.below(1_000) as i64)
                        .unwrap();
                }
                assert!(l.is_flat(t));
            }
            assert_consistent(&l);
            assert_eq!(
                l.cash(),
                opening + l.realized_pnl() - l.fees(),
                "seed {seed}"
            );
            let snap = l.snapshot().unwrap();
            assert_eq!((snap.unrealized_pnl, snap.equity), (0, l.cash()));
        }
    }

    #[test]
    fn fees_are_charged_per_execution_and_rounded_down_like_the_exchange() {
        let fees = FeeSchedule {
            commission_ppm: 150,
            sell_tax_ppm: 2_000,
        };
        let fill = |side, price, qty| Fill {
            ticker: Ticker::parse("005930").unwrap(),
            side,
            price: Price::lit(price),
            qty: Qty::lit(qty),
            order_no: OrderNo(1),
            time: crate::market::TimeOfDay::hms(9, 0, 0),
        };
        // 70,100 × 7 = 490,700: commission 73.605 → 73; no tax on a buy.
        assert_eq!(fees.fee(&fill(Side::Buy, 70_100, 7)), 73);
        // A sell adds the tax: 981.4 → 981, plus 73.
        assert_eq!(fees.fee(&fill(Side::Sell, 70_100, 7)), 73 + 981);
        assert_eq!(FeeSchedule::default().fee(&fill(Side::Sell, 70_100, 7)), 0);
        // At the largest fill the fee neither panics nor wraps (negative).
        let all = FeeSchedule {
            commission_ppm: FeeSchedule::MAX_PPM,
            sell_tax_ppm: FeeSchedule::MAX_PPM,
        };
        let (top, most) = (
            crate::market::MAX_PRICE.won(),
            crate::market::MAX_QTY.shares(),
        );
        let buy_fee = all.fee(&fill(Side::Buy, top, most));
        assert!(buy_fee > 0 && all.fee(&fill(Side::Sell, top, most)) > buy_fee);
        assert_eq!(all.fee(&fill(Side::Sell, 0, most)), 0);
        // Booked, the fee leaves cash and not the cost basis.
        let mut l = Ledger::new(1_000_000);
        let buy = fill(Side::Buy, 70_100, 7);
        l.apply_fill(&buy, fees.fee(&buy)).unwrap();
        assert_eq!(l.cash(), 1_000_000 - 490_700 - 73);
        assert_eq!(l.fees(), 73);
    }
}
