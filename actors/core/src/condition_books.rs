//! The day's books per condition: realized P&L, fees and fills of each condition, and its
//! share of what is held, next to the account's total in the [`Ledger`].
//!
//! A fill is booked to the condition that owns its ticker when it is booked. The strategies'
//! desk hands a ticker from one condition to another only when it is flat with nothing
//! working, so a position is one condition's from its first buy to its last sell, and the
//! conditions' books add up to the account's. A ticker no condition has claimed (holdings
//! recovered at start) is the first condition's, as the desk has it.
//!
//! Owns the attribution only. Must never change the ledger, and never lose a won: each fill's
//! realized P&L and fee go to exactly one condition.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::domain::ConditionId;
use crate::ledger::{FillEffect, LedgerError, LedgerSnapshot};
use crate::market::Ticker;

/// The Portfolio's answer to `GetConditionBooks`: each condition's summary and the
/// account's snapshot they add up to.
pub type BooksAnswer = Result<(Vec<ConditionSummary>, LedgerSnapshot), LedgerError>;

/// One condition's day so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConditionBook {
    /// Realized by its sells, fees excluded.
    pub realized_pnl: i64,
    /// Commission and tax on its fills.
    pub fees: i64,
    pub fills: u64,
}

/// A condition's book with its part of the positions, for `/status` and the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ConditionSummary {
    /// 1-based, condor.toml's order.
    pub condition: u16,
    pub realized_pnl: i64,
    pub fees: i64,
    pub fills: u64,
    /// Tickers it holds now.
    pub positions: u64,
    pub market_value: i64,
    pub unrealized_pnl: i64,
    /// Realized + unrealized − fees.
    pub pnl: i64,
}

/// See the module docs.
#[derive(Clone, Debug, Default)]
pub struct ConditionBooks {
    owner: HashMap<Ticker, ConditionId>,
    books: BTreeMap<ConditionId, ConditionBook>,
}

impl ConditionBooks {
    /// The strategies' desk gave `ticker` to `condition`.
    pub fn set_owner(&mut self, ticker: Ticker, condition: ConditionId) {
        self.owner.insert(ticker, condition);
        self.books.entry(condition).or_default();
    }

    /// True when `ticker` is known to be `condition`'s (not merely the first's by default).
    pub fn is_owner(&self, ticker: Ticker, condition: ConditionId) -> bool {
        self.owner.get(&ticker) == Some(&condition)
    }

    /// Every ticker given to a condition, in ticker order (for a restart's desk).
    pub fn owners(&self) -> Vec<(Ticker, ConditionId)> {
        let mut v: Vec<(Ticker, ConditionId)> = self.owner.iter().map(|(t, c)| (*t, *c)).collect();
        v.sort();
        v
    }

    pub fn owner(&self, ticker: Ticker) -> ConditionId {
        self.owner.get(&ticker).copied().unwrap_or_default()
    }

    /// A fill the ledger booked with `effect`.
    pub fn book(&mut self, effect: &FillEffect) {
        let b = self.books.entry(self.owner(effect.ticker)).or_default();
        b.realized_pnl = b.realized_pnl.saturating_add(effect.realized_pnl);
        b.fees = b.fees.saturating_add(effect.fee);
        b.fills += 1;
    }

    /// Each condition that has a ticker or a fill, with its part of `ledger`'s positions.
    pub fn summarize(&self, ledger: &LedgerSnapshot) -> Vec<ConditionSummary> {
        let mut out: BTreeMap<ConditionId, ConditionSummary> = self
            .books
            .iter()
            .map(|(c, b)| {
                (
                    *c,
                    ConditionSummary {
                        condition: u16::from(c.0) + 1,
                        realized_pnl: b.realized_pnl,
                        fees: b.fees,
                        fills: b.fills,
                        ..ConditionSummary::default()
                    },
                )
            })
            .collect();
        for p in ledger.positions.iter().filter(|p| p.qty.shares() > 0) {
            let c = self.owner(p.ticker);
            let s = out.entry(c).or_insert_with(|| ConditionSummary {
                condition: u16::from(c.0) + 1,
                ..ConditionSummary::default()
            });
            s.positions += 1;
            s.market_value = s.market_value.saturating_add(p.market_value);
            s.unrealized_pnl = s.unrealized_pnl.saturating_add(p.unrealized_pnl);
        }
        let mut out: Vec<ConditionSummary> = out.into_values().collect();
        for s in &mut out {
            s.pnl = s
                .realized_pnl
                .saturating_add(s.unrealized_pnl)
                .saturating_sub(s.fees);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Fill, OrderNo};
    use crate::ledger::{FeeSchedule, Ledger};
    use crate::market::{Price, Qty, Side, TimeOfDay};

    fn fill(ticker: Ticker, side: Side, price: i64, qty: u64) -> Fill {
        Fill {
            ticker,
            side,
            price: Price::lit(price),
            qty: Qty::lit(qty),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 30, 0),
        }
    }

    #[test]
    fn each_fill_is_its_tickers_owners_and_the_books_add_up_to_the_ledger() {
        let (a, b, c) = (
            Ticker::parse("005930").unwrap(),
            Ticker::parse("000660").unwrap(),
            Ticker::parse("035720").unwrap(),
        );
        let fees = FeeSchedule {
            commission_ppm: 150,
            sell_tax_ppm: 2_000,
        };
        let mut ledger = Ledger::new(100_000_000);
        let mut books = ConditionBooks::default();
        books.set_owner(a, ConditionId(0));
        books.set_owner(b, ConditionId(1));
        let apply = |ledger: &mut Ledger, books: &mut ConditionBooks, f: Fill| {
            let e = ledger.apply_fill(&f, fees.fee(&f)).unwrap();
            books.book(&e);
        };
        apply(&mut ledger, &mut books, fill(a, Side::Buy, 10_000, 100));
        apply(&mut ledger, &mut books, fill(a, Side::Sell, 10_500, 100));
        apply(&mut ledger, &mut books, fill(b, Side::Buy, 50_000, 10));
        apply(&mut ledger, &mut books, fill(b, Side::Sell, 49_000, 4));
        // Flat, a is handed to the second condition: its next round trip is that one's.
        books.set_owner(a, ConditionId(1));
        apply(&mut ledger, &mut books, fill(a, Side::Buy, 10_000, 10));
        // c was never claimed (held at start): the first condition's.
        apply(&mut ledger, &mut books, fill(c, Side::Buy, 7_000, 3));
        ledger.mark(b, Price::lit(51_000)).unwrap();
        let snap = ledger.snapshot().unwrap();
        let s = books.summarize(&snap);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].condition, s[1].condition), (1, 2));
        assert_eq!(s[0].realized_pnl, 50_000);
        assert_eq!(s[1].realized_pnl, -4_000);
        assert_eq!((s[0].positions, s[1].positions), (1, 2));
        assert_eq!((s[0].fills, s[1].fills), (3, 3));
        let sum = |f: fn(&ConditionSummary) -> i64| s.iter().map(f).sum::<i64>();
        assert_eq!(sum(|x| x.realized_pnl), snap.realized_pnl);
        assert_eq!(sum(|x| x.fees), snap.fees);
        assert_eq!(sum(|x| x.unrealized_pnl), snap.unrealized_pnl);
        assert_eq!(
            sum(|x| x.pnl),
            snap.realized_pnl + snap.unrealized_pnl - snap.fees
        );
    }
}
