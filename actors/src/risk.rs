//! The pre-trade risk gate: may this intent become an order?
//!
//! Owns the per-order rules: a quantity of at least one share and at most
//! `max_order_qty`, a buy's notional at most `max_order_notional`, no naked sells (never sell
//! more than is held minus what is already working on the sell side), and a limit price on
//! the tick grid inside the day's limits. Later rules (max position, daily loss kill switch,
//! order rate) join here.
//!
//! A pure function over plain state: no actix, no clock, no I/O. Must never panic and never
//! change anything; it only answers yes, or no with a [`RiskRefusal`] that names the rule and
//! the numbers, so a refusal in the log says exactly what to change.

use std::fmt;

use crate::ledger::Ledger;
use crate::market::{
    check_grid, check_order_price, notional, DailyLimits, MarketError, Price, Qty, Side,
};
use crate::messages::{OrderIntent, OrderType};
use crate::order::OrderBook;

/// The per-order limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiskLimits {
    /// Most shares in one order (both sides): a fat-finger guard.
    pub max_order_qty: Qty,
    /// Most won one buy order may commit.
    pub max_order_notional: i64,
}

impl Default for RiskLimits {
    fn default() -> Self {
        RiskLimits {
            max_order_qty: Qty(10_000),
            max_order_notional: 10_000_000,
        }
    }
}

/// A limit that makes no sense, named by its field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RiskConfigError {
    #[error("max_order_qty must be at least 1 share")]
    ZeroMaxOrderQty,
    #[error("max_order_notional must be positive, got {0} won")]
    NonPositiveMaxOrderNotional(i64),
}

impl RiskLimits {
    /// Refuses limits under which no order could ever pass.
    pub fn validate(&self) -> Result<(), RiskConfigError> {
        if self.max_order_qty.0 == 0 {
            return Err(RiskConfigError::ZeroMaxOrderQty);
        }
        if self.max_order_notional <= 0 {
            return Err(RiskConfigError::NonPositiveMaxOrderNotional(
                self.max_order_notional,
            ));
        }
        Ok(())
    }
}

/// The price a buy's notional was computed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceBasis {
    /// The order's own limit price.
    Limit(Price),
    /// A market buy at the day's upper limit: the most it can pay.
    UpperLimit(Price),
    /// A market buy at the last traded price, when the day's limits are not known.
    LastPrice(Price),
}

impl PriceBasis {
    pub fn price(self) -> Price {
        match self {
            PriceBasis::Limit(p) | PriceBasis::UpperLimit(p) | PriceBasis::LastPrice(p) => p,
        }
    }
}

impl fmt::Display for PriceBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PriceBasis::Limit(p) => write!(f, "limit price {p}"),
            PriceBasis::UpperLimit(p) => write!(f, "upper limit {p}"),
            PriceBasis::LastPrice(p) => write!(f, "last price {p}"),
        }
    }
}

/// Why the gate said no.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RiskRefusal {
    #[error("qty 0: an order needs at least one share")]
    ZeroQty,
    #[error("qty {qty} above max_order_qty {max}")]
    QtyAboveMax { qty: Qty, max: Qty },
    #[error("notional {notional} won ({qty} × {basis}) above max_order_notional {max}")]
    NotionalAboveMax {
        notional: i64,
        qty: Qty,
        basis: PriceBasis,
        max: i64,
    },
    #[error("notional of {qty} × {basis} overflows, above max_order_notional {max}")]
    NotionalOverflow {
        qty: Qty,
        basis: PriceBasis,
        max: i64,
    },
    #[error(
        "market buy of {qty} with no price to bound its notional (no upper limit, no last price)"
    )]
    NoReferencePrice { qty: Qty },
    #[error("sell qty {qty} above sellable {sellable} (held {held}, already working on the sell side {working}): no naked sells")]
    NakedSell {
        qty: Qty,
        held: Qty,
        working: Qty,
        sellable: Qty,
    },
    #[error("limit price refused: {0}")]
    BadPrice(#[from] MarketError),
}

/// Decides whether `intent` may become an order.
///
/// - `last_price`: the ticker's last trade, if any; bounds a market buy when `limits` is
///   unknown.
/// - `limits`: the day's ±30% band, if known. Without it a limit price is checked against
///   the grid only (the broker will still refuse a price beyond the band).
/// - `ledger`, `book`: what is held, and what is working, for the naked-sell rule.
///
/// The notional cap applies to buys only: a sell can only reduce exposure and, by the
/// naked-sell rule, never exceeds what is held, so capping it would only ever block an
/// exit of a position built by several buys.
pub fn check(
    intent: &OrderIntent,
    last_price: Option<Price>,
    limits: Option<&DailyLimits>,
    ledger: &Ledger,
    book: &OrderBook,
    risk: &RiskLimits,
) -> Result<(), RiskRefusal> {
    let qty = intent.qty;
    if qty.0 == 0 {
        return Err(RiskRefusal::ZeroQty);
    }
    if qty > risk.max_order_qty {
        return Err(RiskRefusal::QtyAboveMax {
            qty,
            max: risk.max_order_qty,
        });
    }
    if let OrderType::Limit(price) = intent.order_type {
        match limits {
            Some(l) => check_order_price(price, l)?,
            None => check_grid(price)?,
        }
    }
    match intent.side {
        Side::Buy => check_buy_notional(intent, last_price, limits, risk),
        Side::Sell => check_sellable(intent, ledger, book),
    }
}

fn check_buy_notional(
    intent: &OrderIntent,
    last_price: Option<Price>,
    limits: Option<&DailyLimits>,
    risk: &RiskLimits,
) -> Result<(), RiskRefusal> {
    let qty = intent.qty;
    let basis = match intent.order_type {
        OrderType::Limit(p) => PriceBasis::Limit(p),
        // A market buy can fill anywhere up to the upper limit: bound it there when we know
        // the band, else by the last trade (a weaker bound, said so in the refusal).
        OrderType::Market => match (limits, last_price) {
            (Some(l), _) => PriceBasis::UpperLimit(l.upper),
            (None, Some(p)) if p.0 > 0 => PriceBasis::LastPrice(p),
            _ => return Err(RiskRefusal::NoReferencePrice { qty }),
        },
    };
    let max = risk.max_order_notional;
    match notional(basis.price(), qty) {
        None => Err(RiskRefusal::NotionalOverflow { qty, basis, max }),
        Some(n) if n > max => Err(RiskRefusal::NotionalAboveMax {
            notional: n,
            qty,
            basis,
            max,
        }),
        Some(_) => Ok(()),
    }
}

fn check_sellable(
    intent: &OrderIntent,
    ledger: &Ledger,
    book: &OrderBook,
) -> Result<(), RiskRefusal> {
    let held = ledger.held_qty(intent.ticker);
    let working = book.working_qty(intent.ticker, Side::Sell);
    let sellable = Qty(held.0.saturating_sub(working.0));
    if intent.qty > sellable {
        return Err(RiskRefusal::NakedSell {
            qty: intent.qty,
            held,
            working,
            sellable,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::market::{Ticker, TimeOfDay};
    use crate::messages::Fill;

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn intent(side: Side, qty: u64, order_type: OrderType) -> OrderIntent {
        OrderIntent {
            ticker: samsung(),
            side,
            qty: Qty(qty),
            order_type,
            reason: "test",
            tick_seq: 0,
            tick_received_at: None,
        }
    }

    fn limit_buy(qty: u64, price: i64) -> OrderIntent {
        intent(Side::Buy, qty, OrderType::Limit(Price(price)))
    }

    /// Runs the gate with no position, no working orders and no known price or band.
    fn gate(i: &OrderIntent, risk: &RiskLimits) -> Result<(), RiskRefusal> {
        check(i, None, None, &Ledger::new(0), &OrderBook::default(), risk)
    }

    #[test]
    fn default_limits_are_valid_and_validation_names_the_field() {
        assert_eq!(RiskLimits::default().validate(), Ok(()));
        let zero_qty = RiskLimits {
            max_order_qty: Qty(0),
            ..RiskLimits::default()
        };
        assert!(zero_qty
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_order_qty"));
        let zero_notional = RiskLimits {
            max_order_notional: 0,
            ..RiskLimits::default()
        };
        assert!(zero_notional
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_order_notional"));
    }

    #[test]
    fn zero_qty_is_refused_one_share_passes() {
        let r = RiskLimits::default();
        assert_eq!(gate(&limit_buy(0, 1_000), &r), Err(RiskRefusal::ZeroQty));
        assert_eq!(gate(&limit_buy(1, 1_000), &r), Ok(()));
    }

    #[test]
    fn max_order_qty_boundary() {
        let r = RiskLimits {
            max_order_qty: Qty(10_000),
            max_order_notional: i64::MAX,
        };
        assert_eq!(gate(&limit_buy(10_000, 1_000), &r), Ok(()));
        let e = gate(&limit_buy(10_001, 1_000), &r).unwrap_err();
        assert_eq!(e.to_string(), "qty 10001 above max_order_qty 10000");
        // Sells too.
        let mut ledger = Ledger::new(i64::MAX / 2);
        ledger
            .apply_fill(&fill(Side::Buy, 20_000, 1_000), 0)
            .unwrap();
        let sell = |q| intent(Side::Sell, q, OrderType::Market);
        let book = OrderBook::default();
        assert_eq!(check(&sell(10_000), None, None, &ledger, &book, &r), Ok(()));
        assert!(matches!(
            check(&sell(10_001), None, None, &ledger, &book, &r),
            Err(RiskRefusal::QtyAboveMax { .. })
        ));
    }

    #[test]
    fn limit_buy_notional_boundary() {
        // 1,001 won is on the grid (tick 1 below 2,000), so the notional can sit at max + 1.
        let at = |max| RiskLimits {
            max_order_qty: Qty(10_000),
            max_order_notional: max,
        };
        let i = limit_buy(1, 1_001);
        assert_eq!(gate(&i, &at(1_001)), Ok(()));
        let e = gate(&i, &at(1_000)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "notional 1001 won (1 × limit price 1001) above max_order_notional 1000"
        );
        // The defaults: 10,000,000 won.
        let r = RiskLimits::default();
        assert_eq!(gate(&limit_buy(200, 50_000), &r), Ok(()));
        assert!(gate(&limit_buy(201, 50_000), &r).is_err());
    }

    #[test]
    fn market_buy_is_bounded_by_the_upper_limit_else_the_last_price() {
        let r = RiskLimits {
            max_order_qty: Qty(10_000),
            max_order_notional: 130_000,
        };
        let (ledger, book) = (Ledger::new(0), OrderBook::default());
        let band = DailyLimits::from_base(Price(10_000)); // upper 13,000
        let mkt = |q| intent(Side::Buy, q, OrderType::Market);
        // With the band known the upper limit counts, even though the last price is lower.
        let last = Some(Price(10_000));
        assert_eq!(
            check(&mkt(10), last, Some(&band), &ledger, &book, &r),
            Ok(())
        );
        let e = check(&mkt(11), last, Some(&band), &ledger, &book, &r).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::NotionalAboveMax {
                notional: 143_000,
                qty: Qty(11),
                basis: PriceBasis::UpperLimit(Price(13_000)),
                max: 130_000
            }
        );
        assert!(e.to_string().contains("upper limit 13000"), "{e}");
        // Without the band the last price bounds it, and the refusal says so.
        assert_eq!(check(&mkt(13), last, None, &ledger, &book, &r), Ok(()));
        let e = check(&mkt(14), last, None, &ledger, &book, &r).unwrap_err();
        assert!(e.to_string().contains("last price 10000"), "{e}");
        // Neither: refuse, there is nothing to bound it with.
        assert_eq!(
            check(&mkt(1), None, None, &ledger, &book, &r),
            Err(RiskRefusal::NoReferencePrice { qty: Qty(1) })
        );
        // Overflow is a refusal, not a panic.
        let huge = RiskLimits {
            max_order_qty: Qty(u64::MAX),
            max_order_notional: i64::MAX,
        };
        assert!(matches!(
            check(&mkt(u64::MAX), last, None, &ledger, &book, &huge),
            Err(RiskRefusal::NotionalOverflow { .. })
        ));
    }

    #[test]
    fn limit_price_must_be_on_the_grid_and_inside_the_band() {
        let r = RiskLimits::default();
        let band = DailyLimits::from_base(Price(10_000)); // 7,000 – 13,000, tick 10
        let (ledger, book) = (Ledger::new(0), OrderBook::default());
        let at = |p| check(&limit_buy(1, p), None, Some(&band), &ledger, &book, &r);
        assert_eq!(at(13_000), Ok(()));
        assert_eq!(
            at(13_010),
            Err(RiskRefusal::BadPrice(MarketError::AboveUpperLimit {
                price: 13_010,
                upper: 13_000
            }))
        );
        assert_eq!(at(7_000), Ok(()));
        assert_eq!(
            at(6_990),
            Err(RiskRefusal::BadPrice(MarketError::BelowLowerLimit {
                price: 6_990,
                lower: 7_000
            }))
        );
        assert_eq!(at(10_010), Ok(()));
        let e = at(10_005).unwrap_err();
        assert_eq!(
            e.to_string(),
            "limit price refused: price 10005 is off the tick grid (tick 10 won at that price)"
        );
        // Without the band only the grid is checked.
        assert_eq!(gate(&limit_buy(1, 20_050), &r), Ok(()));
        assert!(gate(&limit_buy(1, 20_010), &r).is_err());
        assert!(gate(&limit_buy(1, 0), &r).is_err());
        // Limit sells are checked too.
        let mut ledger = Ledger::new(1_000_000);
        ledger.apply_fill(&fill(Side::Buy, 5, 10_000), 0).unwrap();
        let sell = intent(Side::Sell, 1, OrderType::Limit(Price(13_010)));
        assert!(matches!(
            check(&sell, None, Some(&band), &ledger, &book, &r),
            Err(RiskRefusal::BadPrice(_))
        ));
    }

    fn fill(side: Side, qty: u64, price: i64) -> Fill {
        Fill {
            ticker: samsung(),
            side,
            price: Price(price),
            qty: Qty(qty),
            order_no: 1,
            time: TimeOfDay::hms(10, 0, 0),
        }
    }

    #[test]
    fn no_naked_sells_counting_working_sells() {
        let r = RiskLimits::default();
        let mut ledger = Ledger::new(10_000_000);
        let mut book = OrderBook::default();
        let sell = |q| intent(Side::Sell, q, OrderType::Market);
        // Nothing held: even one share is naked.
        assert!(matches!(
            check(&sell(1), None, None, &ledger, &book, &r),
            Err(RiskRefusal::NakedSell { .. })
        ));
        ledger.apply_fill(&fill(Side::Buy, 10, 60_000), 0).unwrap();
        assert_eq!(check(&sell(10), None, None, &ledger, &book, &r), Ok(()));
        assert!(check(&sell(11), None, None, &ledger, &book, &r).is_err());
        // A working sell of 3 leaves 7 sellable.
        let now = Instant::now();
        let id = book.open(&sell(3), now).unwrap();
        assert_eq!(check(&sell(7), None, None, &ledger, &book, &r), Ok(()));
        let e = check(&sell(8), None, None, &ledger, &book, &r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sell qty 8 above sellable 7 (held 10, already working on the sell side 3): no naked sells"
        );
        // Working buys do not count; a finished sell no longer reserves shares.
        book.open(&intent(Side::Buy, 5, OrderType::Market), now)
            .unwrap();
        assert_eq!(check(&sell(7), None, None, &ledger, &book, &r), Ok(()));
        book.sent(id, now).unwrap();
        book.rejected(id, "01478", "매도가능수량 부족", now)
            .unwrap();
        assert_eq!(check(&sell(10), None, None, &ledger, &book, &r), Ok(()));
        // Sells are not capped by notional: exiting a large position must stay possible.
        let tight = RiskLimits {
            max_order_qty: Qty(10_000),
            max_order_notional: 1,
        };
        assert_eq!(
            check(&sell(10), Some(Price(60_000)), None, &ledger, &book, &tight),
            Ok(())
        );
    }
}
