//! The one simulated account: cash, cash reserved by working buys, holdings with their
//! exact total cost, shares reserved by working sells, realized P&L, commission and tax.
//!
//! Owns every won and share of the account. Must never use floats, never let orderable
//! cash or sellable shares go negative (the reserve rules below guarantee it), and never
//! round a cost away: a holding keeps its total cost exactly and derives the average by
//! integer division (`avg = cost / qty`, rounded down), so selling part of a position
//! removes `cost × sold / held` (rounded down) and selling the rest removes what is left.
//!
//! Conventions (documented for the README):
//! - Commission = value × `commission_ppm` / 1,000,000 rounded down, on buys and sells;
//!   sell tax likewise with `sell_tax_ppm`, on sells only.
//! - A buy pays value + commission out of cash. The holding's cost is the traded value
//!   only (fees are reported separately), so the average price is the plain fill average.
//! - Realized P&L on a sell = sell value − cost removed, before fees and tax (which are
//!   reported as their own totals; `realized_pnl_net` subtracts all of them).
//! - A working buy reserves remaining × price + its commission (market buys: × upper limit);
//!   orderable cash = cash − reserved. Because fills happen at or below the reserve price
//!   and rounding is downward, a fill never needs more than it released.

use condor_model::market::{Market, Price, Ticker};

/// Shares and cost of one stock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Position {
    pub qty: u64,
    /// Exact total cost in won of the shares held.
    pub cost: i64,
    /// Shares promised to working sell orders.
    pub working_sell: u64,
}

impl Position {
    pub fn sellable(&self) -> u64 {
        self.qty.saturating_sub(self.working_sell)
    }

    pub fn avg_price(&self) -> Price {
        if self.qty == 0 {
            Price::lit(0)
        } else {
            super::price_of(self.cost / self.qty as i64)
        }
    }
}

#[derive(Clone, Debug)]
pub(super) struct Account {
    pub cash: i64,
    pub reserved: i64,
    /// Indexed like the universe.
    pub positions: Vec<Position>,
    pub realized_pnl: i64,
    pub commission: i64,
    pub tax: i64,
    pub commission_ppm: i64,
    pub sell_tax_ppm: i64,
}

/// `value × ppm / 1e6`, rounded down; 0 for non-positive inputs.
pub(super) fn ppm_of(value: i64, ppm: i64) -> i64 {
    if value <= 0 || ppm <= 0 {
        return 0;
    }
    i64::try_from(i128::from(value) * i128::from(ppm) / 1_000_000).unwrap_or(i64::MAX)
}

impl Account {
    pub fn new(cash: i64, n_tickers: usize, commission_ppm: i64, sell_tax_ppm: i64) -> Account {
        Account {
            cash,
            reserved: 0,
            positions: vec![Position::default(); n_tickers],
            realized_pnl: 0,
            commission: 0,
            tax: 0,
            commission_ppm: commission_ppm.max(0),
            sell_tax_ppm: sell_tax_ppm.max(0),
        }
    }

    pub fn orderable(&self) -> i64 {
        self.cash - self.reserved
    }

    /// Cash a buy of `qty` at `price` must reserve: notional + its commission. `None` if
    /// it overflows (treated as "not enough cash").
    pub fn buy_reserve(&self, qty: u64, price: Price) -> Option<i64> {
        let notional = i64::try_from(qty).ok()?.checked_mul(price.won())?;
        notional.checked_add(ppm_of(notional, self.commission_ppm))
    }

    /// Books a buy fill; returns the commission charged.
    pub fn buy_fill(&mut self, idx: usize, qty: u64, price: Price) -> i64 {
        let value = price.won().saturating_mul(qty as i64);
        let fee = ppm_of(value, self.commission_ppm);
        self.cash -= value + fee;
        self.commission += fee;
        if let Some(p) = self.positions.get_mut(idx) {
            p.qty += qty;
            p.cost += value;
        }
        fee
    }

    /// Books a sell fill of shares already counted in `working_sell`; returns
    /// (commission, tax).
    pub fn sell_fill(&mut self, idx: usize, qty: u64, price: Price) -> (i64, i64) {
        let value = price.won().saturating_mul(qty as i64);
        let fee = ppm_of(value, self.commission_ppm);
        let tax = ppm_of(value, self.sell_tax_ppm);
        self.cash += value - fee - tax;
        self.commission += fee;
        self.tax += tax;
        if let Some(p) = self.positions.get_mut(idx) {
            let qty = qty.min(p.qty);
            let removed = if qty == p.qty {
                p.cost
            } else {
                (i128::from(p.cost) * i128::from(qty) / i128::from(p.qty)) as i64
            };
            p.qty -= qty;
            p.cost -= removed;
            p.working_sell = p.working_sell.saturating_sub(qty);
            self.realized_pnl += value - removed;
        }
        (fee, tax)
    }
}

/// One holding as CSPAQ12200 / t0424 report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoldingView {
    pub ticker: Ticker,
    pub name: &'static str,
    pub market: Market,
    /// `janqty`.
    pub qty: u64,
    /// `mdposqt`: held − working sells.
    pub sellable: u64,
    /// `pamt`: cost / qty, rounded down.
    pub avg_price: Price,
    /// `mamt`: exact total cost.
    pub cost: i64,
    /// `price`: last trade (previous close before the first trade).
    pub last_price: Price,
    /// `appamt`: qty × last price.
    pub eval: i64,
    /// `dtsunik`: eval − cost.
    pub unrealized_pnl: i64,
    /// `sunikrt` ×100 (basis points of cost), truncated toward zero.
    pub pnl_rate_bp: i64,
}

/// The account as the account TRs report it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountView {
    pub account_no: String,
    pub account_name: String,
    /// 예수금 (`Dps`): cash after every fill so far.
    pub cash: i64,
    /// Cash held back by working buys.
    pub reserved: i64,
    /// `MnyOrdAbleAmt`: cash − reserved.
    pub orderable: i64,
    /// Holdings with qty > 0, in universe order.
    pub holdings: Vec<HoldingView>,
    /// Sum of `eval` (`BalEvalAmt`).
    pub eval_total: i64,
    /// Sum of `cost` (`InvstOrgAmt`).
    pub cost_total: i64,
    /// eval_total − cost_total.
    pub unrealized_pnl: i64,
    /// Realized on sells, before fees and tax.
    pub realized_pnl: i64,
    /// Commission paid today (buys and sells).
    pub commission: i64,
    /// Sell tax paid today.
    pub tax: i64,
    /// cash + eval_total (`DpsastTotamt`).
    pub total_assets: i64,
}

impl AccountView {
    /// Realized P&L after commission and tax.
    pub fn realized_pnl_net(&self) -> i64 {
        self.realized_pnl - self.commission - self.tax
    }

    pub fn holding(&self, t: Ticker) -> Option<&HoldingView> {
        self.holdings.iter().find(|h| h.ticker == t)
    }
}

impl super::Exchange {
    /// The account right now (CSPAQ12200, t0424, FOCCQ33600 are built from it).
    pub fn account(&self) -> AccountView {
        let a = &self.account;
        let mut holdings = Vec::new();
        for (i, p) in a.positions.iter().enumerate() {
            if p.qty == 0 {
                continue;
            }
            let (Some(l), Some(q)) = (self.listings.get(i), self.quotes.get(i)) else {
                continue;
            };
            let last = q.price;
            let eval = last.won().saturating_mul(p.qty as i64);
            let unrealized = eval - p.cost;
            holdings.push(HoldingView {
                ticker: l.ticker,
                name: l.name,
                market: l.market,
                qty: p.qty,
                sellable: p.sellable(),
                avg_price: p.avg_price(),
                cost: p.cost,
                last_price: last,
                eval,
                unrealized_pnl: unrealized,
                pnl_rate_bp: if p.cost > 0 {
                    (i128::from(unrealized) * 10_000 / i128::from(p.cost)) as i64
                } else {
                    0
                },
            });
        }
        let eval_total: i64 = holdings.iter().map(|h| h.eval).sum();
        let cost_total: i64 = holdings.iter().map(|h| h.cost).sum();
        AccountView {
            account_no: self.account_no.clone(),
            account_name: self.account_name.clone(),
            cash: a.cash,
            reserved: a.reserved,
            orderable: a.orderable(),
            holdings,
            eval_total,
            cost_total,
            unrealized_pnl: eval_total - cost_total,
            realized_pnl: a.realized_pnl,
            commission: a.commission,
            tax: a.tax,
            total_assets: a.cash + eval_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppm_rounds_down_and_ignores_nonsense() {
        assert_eq!(ppm_of(1_000_000, 150), 150);
        assert_eq!(ppm_of(999_999, 150), 149);
        assert_eq!(ppm_of(-5, 150), 0);
        assert_eq!(ppm_of(5, -150), 0);
        assert_eq!(ppm_of(i64::MAX, 1_000_000), i64::MAX);
    }

    #[test]
    fn average_keeps_total_cost_exact() {
        let mut a = Account::new(10_000_000, 1, 0, 0);
        a.buy_fill(0, 2, Price::lit(10_000));
        a.buy_fill(0, 1, Price::lit(10_010));
        let p = a.positions[0];
        assert_eq!(
            (p.qty, p.cost, p.avg_price()),
            (3, 30_010, Price::lit(10_003))
        );
        a.positions[0].working_sell = 3;
        a.sell_fill(0, 1, Price::lit(10_100));
        // 30,010 × 1 / 3 = 10,003 removed; 20,007 left for 2 shares.
        assert_eq!((a.positions[0].qty, a.positions[0].cost), (2, 20_007));
        assert_eq!(a.realized_pnl, 10_100 - 10_003);
        a.sell_fill(0, 2, Price::lit(10_000));
        assert_eq!((a.positions[0].qty, a.positions[0].cost), (0, 0));
        assert_eq!(a.realized_pnl, 97 + 20_000 - 20_007);
        assert_eq!(a.positions[0].working_sell, 0);
    }
}
