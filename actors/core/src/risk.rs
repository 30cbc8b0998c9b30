//! The pre-trade risk gate: may this intent become an order?
//!
//! Owns the pre-trade rules, checked in this order (the first that fails is the answer):
//!
//! 1. kill switch: while it is on, no buy passes;
//! 2. quantity: at least one share, at most `max_order_qty`;
//! 3. no duplicate of an order still working (same ticker, side, quantity and price);
//! 4. a limit price on the tick grid, inside the day's band, and within `price_collar_bp`
//!    of the last trade;
//! 5. buys only: `max_orders_per_day`, `max_open_positions`, `max_order_notional`,
//!    `max_position_notional`;
//! 6. sells only: no naked sells (never more than held minus what is already being sold).
//!
//! The entry limits (the kill switch, the day's order count, open positions, notional) apply
//! to buys only: an exit must never be trapped by a limit meant for entries. A sell only
//! reduces exposure and, by the naked-sell rule, never exceeds what is held.
//!
//! A pure function over plain state: no actix, no clock, no I/O. When the kill switch trips
//! is `kill_switch.rs`'s business and the order rate `throttle.rs`'s; the gate only reads
//! whether the switch is on. Must never panic and never change anything; it only answers
//! yes, or no with a [`RiskRefusal`] that names the rule and the numbers, so a refusal in the
//! log says exactly what to change.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::domain::{ClientOrderId, OrderIntent, OrderType};
use crate::ledger::Ledger;
use crate::market::{
    check_grid, check_order_price, notional, DailyLimits, MarketError, Price, Qty, Side, Ticker,
    MAX_QTY,
};
use crate::order::OrderBook;

/// The pre-trade limits. Every won figure is integer won.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskLimits {
    /// Most shares in one order (both sides): a fat-finger guard.
    pub max_order_qty: Qty,
    /// Most won one buy order may commit.
    pub max_order_notional: i64,
    /// Most won one ticker may hold: held + working buys + this buy, at the buy's price.
    pub max_position_notional: i64,
    /// Most tickers held or being bought at once; adding to one of them is always allowed.
    pub max_open_positions: u32,
    /// Farthest a limit price may be from the last trade, in basis points of the last trade.
    pub price_collar_bp: u32,
    /// Most orders (both sides, counted) sent in a day before buys stop.
    pub max_orders_per_day: u32,
    /// The day's loss, in won, at which the kill switch trips (positive: 1,000,000 means a
    /// loss of one million won).
    pub daily_loss_limit: i64,
}

impl Default for RiskLimits {
    /// Sized for the default momentum budget (1,000,000 won an entry) with room to spare;
    /// each is a guard against a runaway, not a strategy setting.
    fn default() -> Self {
        RiskLimits {
            max_order_qty: Qty::lit(10_000),
            max_order_notional: 10_000_000,
            // Two full-size orders: averaging into a position is possible, doubling down
            // without end is not.
            max_position_notional: 20_000_000,
            max_open_positions: 10,
            // 10%: wide enough for a stale last price on a fast-moving condition stock, far
            // inside the ±30% band, so a price typed a digit off is still caught.
            price_collar_bp: 1_000,
            // A busy condition day is a few hundred orders; a loop resending orders reaches
            // this in under a minute at 10 orders a second.
            max_orders_per_day: 500,
            // A tenth of one full-size order. The switch only stops buys, so a low default
            // costs missed entries, never a trapped position.
            daily_loss_limit: 1_000_000,
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
    #[error("max_position_notional must be positive, got {0} won")]
    NonPositiveMaxPositionNotional(i64),
    #[error("max_open_positions must be at least 1")]
    ZeroMaxOpenPositions,
    #[error(
        "price_collar_bp must be at least 1 bp (0 refuses every limit order off the last trade)"
    )]
    ZeroPriceCollar,
    #[error("max_orders_per_day must be at least 1")]
    ZeroMaxOrdersPerDay,
    #[error("daily_loss_limit must be positive (a loss in won), got {0} won")]
    NonPositiveDailyLossLimit(i64),
}

impl RiskLimits {
    /// Refuses limits under which no buy could ever pass, or the kill switch would trip
    /// before the first trade.
    pub fn validate(&self) -> Result<(), RiskConfigError> {
        if self.max_order_qty.shares() == 0 {
            return Err(RiskConfigError::ZeroMaxOrderQty);
        }
        if self.max_order_notional <= 0 {
            return Err(RiskConfigError::NonPositiveMaxOrderNotional(
                self.max_order_notional,
            ));
        }
        if self.max_position_notional <= 0 {
            return Err(RiskConfigError::NonPositiveMaxPositionNotional(
                self.max_position_notional,
            ));
        }
        if self.max_open_positions == 0 {
            return Err(RiskConfigError::ZeroMaxOpenPositions);
        }
        if self.price_collar_bp == 0 {
            return Err(RiskConfigError::ZeroPriceCollar);
        }
        if self.max_orders_per_day == 0 {
            return Err(RiskConfigError::ZeroMaxOrdersPerDay);
        }
        if self.daily_loss_limit <= 0 {
            return Err(RiskConfigError::NonPositiveDailyLossLimit(
                self.daily_loss_limit,
            ));
        }
        Ok(())
    }
}

/// What the gate looks at besides the intent: the ticker's prices, what is held and
/// working, the day's order count and the kill switch.
#[derive(Clone, Copy, Debug)]
pub struct GateView<'a> {
    /// The ticker's last trade, if any: the collar's reference, and the bound of a market
    /// buy when `band` is unknown.
    pub last_price: Option<Price>,
    /// The day's ±30% band, if known. Without it a limit price is checked against the grid
    /// only (the broker will still refuse a price beyond the band).
    pub band: Option<&'a DailyLimits>,
    /// What is held: the naked-sell rule, open positions and position notional.
    pub ledger: &'a Ledger,
    /// What is working: the same three rules, and duplicates.
    pub book: &'a OrderBook,
    /// Orders sent today, both sides, including those sent before a restart.
    pub orders_today: u32,
    /// Whether the kill switch is on today.
    pub kill_switch_on: bool,
}

/// The price a buy's notional was computed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
    #[error("kill switch on: no new buys today (sells still pass)")]
    KillSwitchOn,
    #[error("qty 0: an order needs at least one share")]
    ZeroQty,
    #[error("qty {qty} above max_order_qty {max}")]
    QtyAboveMax { qty: Qty, max: Qty },
    #[error(
        "same ticker, side, qty {qty} and {} as working order {id}: a duplicate",
        order_type_text(*.order_type)
    )]
    DuplicateOrder {
        id: ClientOrderId,
        qty: Qty,
        order_type: OrderType,
    },
    #[error("limit price refused: {0}")]
    BadPrice(#[from] MarketError),
    #[error("limit price {price} is {distance_bp} bp from the last trade {last}, beyond price_collar_bp {max_bp}")]
    PriceCollar {
        price: Price,
        last: Price,
        /// Rounded up, so a refused price never shows as exactly at the collar.
        distance_bp: u64,
        max_bp: u32,
    },
    #[error("limit price {price} with no last trade to check price_collar_bp against")]
    NoCollarReference { price: Price },
    #[error("{orders_today} orders sent today, at max_orders_per_day {max}: no more buys today")]
    OrdersPerDayAtMax { orders_today: u32, max: u32 },
    #[error("{ticker} would be a new position: {open} tickers already held or being bought, at max_open_positions {max}")]
    OpenPositionsAtMax { ticker: Ticker, open: u32, max: u32 },
    #[error(
        "market buy of {qty} with no price to bound its notional (no upper limit, no last price)"
    )]
    NoReferencePrice { qty: Qty },
    #[error("notional {notional} won ({qty} × {basis}) above max_order_notional {max}")]
    NotionalAboveMax {
        notional: i64,
        qty: Qty,
        basis: PriceBasis,
        max: i64,
    },
    #[error("position notional {notional} won ((held {held} + working buys {working} + {qty}) × {basis}) above max_position_notional {max}")]
    PositionNotionalAboveMax {
        notional: i64,
        held: Qty,
        working: Qty,
        qty: Qty,
        basis: PriceBasis,
        max: i64,
    },
    #[error("sell qty {qty} above sellable {sellable} (held {held}, already working on the sell side {working}): no naked sells")]
    NakedSell {
        qty: Qty,
        held: Qty,
        working: Qty,
        sellable: Qty,
    },
}

impl RiskRefusal {
    /// Every name [`RiskRefusal::rule`] can return, for counters that start at zero.
    pub const RULES: &'static [&'static str] = &[
        "kill_switch",
        "zero_qty",
        "max_order_qty",
        "duplicate_order",
        "tick_grid",
        "daily_limit",
        "bad_price",
        "price_collar",
        "price_collar_no_reference",
        "max_orders_per_day",
        "max_open_positions",
        "no_reference_price",
        "max_order_notional",
        "max_position_notional",
        "naked_sell",
    ];

    /// The rule that refused, as a stable snake_case name for counting and journaling.
    /// Names are never renamed: a journal written today must count the same tomorrow.
    pub fn rule(&self) -> &'static str {
        match self {
            RiskRefusal::KillSwitchOn => "kill_switch",
            RiskRefusal::ZeroQty => "zero_qty",
            RiskRefusal::QtyAboveMax { .. } => "max_order_qty",
            RiskRefusal::DuplicateOrder { .. } => "duplicate_order",
            RiskRefusal::BadPrice(e) => match e {
                MarketError::NonPositivePrice { .. } | MarketError::OffGrid { .. } => "tick_grid",
                MarketError::AboveUpperLimit { .. } | MarketError::BelowLowerLimit { .. } => {
                    "daily_limit"
                }
                // A price past what KRX can print, and (never returned by the price checks,
                // named all the same, never a panic) the rest.
                MarketError::PriceTooHigh { .. }
                | MarketError::BadTicker { .. }
                | MarketError::ZeroQty
                | MarketError::QtyTooLarge { .. }
                | MarketError::VolumeTooLarge { .. }
                | MarketError::BadTime { .. } => "bad_price",
            },
            RiskRefusal::PriceCollar { .. } => "price_collar",
            RiskRefusal::NoCollarReference { .. } => "price_collar_no_reference",
            RiskRefusal::OrdersPerDayAtMax { .. } => "max_orders_per_day",
            RiskRefusal::OpenPositionsAtMax { .. } => "max_open_positions",
            RiskRefusal::NoReferencePrice { .. } => "no_reference_price",
            RiskRefusal::NotionalAboveMax { .. } => "max_order_notional",
            RiskRefusal::PositionNotionalAboveMax { .. } => "max_position_notional",
            RiskRefusal::NakedSell { .. } => "naked_sell",
        }
    }
}

fn order_type_text(order_type: OrderType) -> String {
    match order_type {
        OrderType::Market => "market price".to_owned(),
        OrderType::Limit(p) => format!("limit price {p}"),
    }
}

/// Decides whether `intent` may become an order, given what `view` shows and the limits
/// in `risk`. See the module docs for the rules and their order.
pub fn check(
    intent: &OrderIntent,
    view: &GateView<'_>,
    risk: &RiskLimits,
) -> Result<(), RiskRefusal> {
    if intent.side == Side::Buy && view.kill_switch_on {
        return Err(RiskRefusal::KillSwitchOn);
    }
    let qty = intent.qty;
    if qty.shares() == 0 {
        return Err(RiskRefusal::ZeroQty);
    }
    // However loose the configured cap, never more than one KRX order can carry.
    let max_qty = risk.max_order_qty.min(MAX_QTY);
    if qty > max_qty {
        return Err(RiskRefusal::QtyAboveMax { qty, max: max_qty });
    }
    check_not_duplicate(intent, view.book)?;
    if let OrderType::Limit(price) = intent.order_type {
        match view.band {
            Some(b) => check_order_price(price, b)?,
            None => check_grid(price)?,
        }
        check_collar(price, view.last_price, risk.price_collar_bp)?;
    }
    match intent.side {
        Side::Buy => check_buy(intent, view, risk),
        Side::Sell => check_sellable(intent, view.ledger, view.book),
    }
}

/// Refuses an intent identical to a working order: a strategy that sends the same order
/// twice (a repeated signal, a retry) would otherwise double its position.
fn check_not_duplicate(intent: &OrderIntent, book: &OrderBook) -> Result<(), RiskRefusal> {
    let twin = book
        .working()
        .filter(|o| {
            o.ticker() == intent.ticker
                && o.side() == intent.side
                && o.qty() == intent.qty
                && o.order_type() == intent.order_type
        })
        // The oldest, so the same book always names the same order.
        .min_by_key(|o| o.id());
    match twin {
        Some(o) => Err(RiskRefusal::DuplicateOrder {
            id: o.id(),
            qty: intent.qty,
            order_type: intent.order_type,
        }),
        None => Ok(()),
    }
}

/// Refuses a limit price farther than `max_bp` basis points from the last trade. In `i128`,
/// so no price or collar can overflow: `|price − last| × 10,000 > max_bp × last`.
fn check_collar(price: Price, last: Option<Price>, max_bp: u32) -> Result<(), RiskRefusal> {
    let last = match last {
        Some(l) if l.won() > 0 => l,
        _ => return Err(RiskRefusal::NoCollarReference { price }),
    };
    let distance = (i128::from(price.won()) - i128::from(last.won())).abs() * 10_000;
    let reference = i128::from(last.won());
    if distance > i128::from(max_bp) * reference {
        // Rounded up: 100.5 bp shows as 101, never as the collar itself.
        let bp = (distance + reference - 1) / reference;
        return Err(RiskRefusal::PriceCollar {
            price,
            last,
            distance_bp: u64::try_from(bp).unwrap_or(u64::MAX),
            max_bp,
        });
    }
    Ok(())
}

/// The entry limits, in order: the day's order count, open positions, then the order's and
/// the position's notional.
fn check_buy(
    intent: &OrderIntent,
    view: &GateView<'_>,
    risk: &RiskLimits,
) -> Result<(), RiskRefusal> {
    if view.orders_today >= risk.max_orders_per_day {
        return Err(RiskRefusal::OrdersPerDayAtMax {
            orders_today: view.orders_today,
            max: risk.max_orders_per_day,
        });
    }
    check_open_positions(intent.ticker, view, risk.max_open_positions)?;
    let basis = buy_basis(intent, view)?;
    check_order_notional(intent.qty, basis, risk.max_order_notional)?;
    check_position_notional(intent, basis, view, risk.max_position_notional)
}

/// Tickers held or being bought. A buy for one of them adds to a position, never opens one.
fn check_open_positions(ticker: Ticker, view: &GateView<'_>, max: u32) -> Result<(), RiskRefusal> {
    let open: BTreeSet<Ticker> = view
        .ledger
        .positions()
        .filter(|(_, p)| !p.is_flat())
        .map(|(t, _)| t)
        .chain(
            view.book
                .working()
                .filter(|o| o.side() == Side::Buy)
                .map(|o| o.ticker()),
        )
        .collect();
    if open.contains(&ticker) {
        return Ok(());
    }
    let count = u32::try_from(open.len()).unwrap_or(u32::MAX);
    if count >= max {
        return Err(RiskRefusal::OpenPositionsAtMax {
            ticker,
            open: count,
            max,
        });
    }
    Ok(())
}

/// The price a buy commits won at: its limit, else the most a market buy can pay.
fn buy_basis(intent: &OrderIntent, view: &GateView<'_>) -> Result<PriceBasis, RiskRefusal> {
    match intent.order_type {
        OrderType::Limit(p) => Ok(PriceBasis::Limit(p)),
        // A market buy can fill anywhere up to the upper limit: bound it there when we know
        // the band, else by the last trade (a weaker bound, said so in the refusal).
        OrderType::Market => match (view.band, view.last_price) {
            (Some(b), _) => Ok(PriceBasis::UpperLimit(b.upper)),
            (None, Some(p)) if p.won() > 0 => Ok(PriceBasis::LastPrice(p)),
            _ => Err(RiskRefusal::NoReferencePrice { qty: intent.qty }),
        },
    }
}

fn check_order_notional(qty: Qty, basis: PriceBasis, max: i64) -> Result<(), RiskRefusal> {
    let n = notional(basis.price(), qty);
    if n > max {
        return Err(RiskRefusal::NotionalAboveMax {
            notional: n,
            qty,
            basis,
            max,
        });
    }
    Ok(())
}

/// Held + still-working buys (their unfilled remainder: the filled part is already held) +
/// this buy, all at this buy's price basis.
fn check_position_notional(
    intent: &OrderIntent,
    basis: PriceBasis,
    view: &GateView<'_>,
    max: i64,
) -> Result<(), RiskRefusal> {
    let qty = intent.qty;
    let held = view.ledger.held_qty(intent.ticker);
    let working = view.book.working_qty(intent.ticker, Side::Buy);
    // Three notionals of at most ~10^16 each: the sum fits an i64 (not a `Qty`: three
    // quantities can pass MAX_QTY together).
    let n = notional(basis.price(), held)
        + notional(basis.price(), working)
        + notional(basis.price(), qty);
    if n > max {
        return Err(RiskRefusal::PositionNotionalAboveMax {
            notional: n,
            held,
            working,
            qty,
            basis,
            max,
        });
    }
    Ok(())
}

fn check_sellable(
    intent: &OrderIntent,
    ledger: &Ledger,
    book: &OrderBook,
) -> Result<(), RiskRefusal> {
    let held = ledger.held_qty(intent.ticker);
    let working = book.working_qty(intent.ticker, Side::Sell);
    let sellable = held.saturating_sub(working);
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
    use crate::domain::{Fill, OrderNo};
    use crate::market::TimeOfDay;

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn ticker(code: &str) -> Ticker {
        Ticker::parse(code).unwrap()
    }

    fn intent_for(ticker: Ticker, side: Side, qty: u64, order_type: OrderType) -> OrderIntent {
        OrderIntent {
            ticker,
            side,
            qty: Qty::lit(qty),
            order_type,
            reason: "test",
            tick_seq: 0,
            tick_received_at: None,
        }
    }

    fn intent(side: Side, qty: u64, order_type: OrderType) -> OrderIntent {
        intent_for(samsung(), side, qty, order_type)
    }

    fn limit_buy(qty: u64, price: i64) -> OrderIntent {
        intent(Side::Buy, qty, OrderType::Limit(Price::lit(price)))
    }

    fn fill_of(ticker: Ticker, side: Side, qty: u64, price: i64) -> Fill {
        Fill {
            ticker,
            side,
            price: Price::lit(price),
            qty: Qty::lit(qty),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(10, 0, 0),
        }
    }

    fn fill(side: Side, qty: u64, price: i64) -> Fill {
        fill_of(samsung(), side, qty, price)
    }

    /// Every limit as wide as it goes, so a test can tighten just the rule it is about.
    fn loose() -> RiskLimits {
        RiskLimits {
            max_order_qty: MAX_QTY,
            max_order_notional: i64::MAX,
            max_position_notional: i64::MAX,
            max_open_positions: u32::MAX,
            price_collar_bp: u32::MAX,
            max_orders_per_day: u32::MAX,
            daily_loss_limit: i64::MAX,
        }
    }

    /// The gate's inputs, owned, with the kill switch off and no orders today.
    struct Desk {
        last: Option<Price>,
        band: Option<DailyLimits>,
        ledger: Ledger,
        book: OrderBook,
        orders_today: u32,
        kill_switch_on: bool,
    }

    impl Desk {
        fn new() -> Desk {
            Desk {
                last: None,
                band: None,
                ledger: Ledger::new(i64::MAX / 2),
                book: OrderBook::default(),
                orders_today: 0,
                kill_switch_on: false,
            }
        }

        fn last(mut self, p: i64) -> Desk {
            self.last = Some(Price::lit(p));
            self
        }

        fn band(mut self, base: i64) -> Desk {
            self.band = Some(DailyLimits::from_base(Price::lit(base)));
            self
        }

        /// Books a fill of `qty` of `t` at `price` as held.
        fn holding(mut self, t: Ticker, qty: u64, price: i64) -> Desk {
            self.ledger
                .apply_fill(&fill_of(t, Side::Buy, qty, price), 0)
                .unwrap();
            self
        }

        /// Opens `i` in the book as a working order.
        fn working(mut self, i: &OrderIntent) -> Desk {
            self.book.open(i, Instant::now()).unwrap();
            self
        }

        fn check(&self, i: &OrderIntent, r: &RiskLimits) -> Result<(), RiskRefusal> {
            let view = GateView {
                last_price: self.last,
                band: self.band.as_ref(),
                ledger: &self.ledger,
                book: &self.book,
                orders_today: self.orders_today,
                kill_switch_on: self.kill_switch_on,
            };
            check(i, &view, r)
        }
    }

    /// Runs the gate with no position, no working orders and no band, and the last trade at
    /// the intent's own limit price (none for a market order), so the collar never decides.
    fn gate(i: &OrderIntent, risk: &RiskLimits) -> Result<(), RiskRefusal> {
        let mut desk = Desk::new();
        if let OrderType::Limit(p) = i.order_type {
            desk.last = Some(p);
        }
        desk.check(i, risk)
    }

    #[test]
    fn default_limits_are_valid_and_validation_names_each_field() {
        assert_eq!(RiskLimits::default().validate(), Ok(()));
        assert_eq!(loose().validate(), Ok(()));
        let d = RiskLimits::default();
        let cases = [
            (
                RiskLimits {
                    max_order_qty: Qty::lit(0),
                    ..d
                },
                "max_order_qty",
            ),
            (
                RiskLimits {
                    max_order_notional: 0,
                    ..d
                },
                "max_order_notional",
            ),
            (
                RiskLimits {
                    max_position_notional: -1,
                    ..d
                },
                "max_position_notional",
            ),
            (
                RiskLimits {
                    max_open_positions: 0,
                    ..d
                },
                "max_open_positions",
            ),
            (
                RiskLimits {
                    price_collar_bp: 0,
                    ..d
                },
                "price_collar_bp",
            ),
            (
                RiskLimits {
                    max_orders_per_day: 0,
                    ..d
                },
                "max_orders_per_day",
            ),
            (
                RiskLimits {
                    daily_loss_limit: 0,
                    ..d
                },
                "daily_loss_limit",
            ),
            (
                RiskLimits {
                    daily_loss_limit: -1_000_000,
                    ..d
                },
                "daily_loss_limit",
            ),
        ];
        for (limits, field) in cases {
            let e = limits.validate().unwrap_err().to_string();
            assert!(e.starts_with(field), "{field}: {e}");
        }
        // One won or one of each is enough.
        let least = RiskLimits {
            max_order_qty: Qty::lit(1),
            max_order_notional: 1,
            max_position_notional: 1,
            max_open_positions: 1,
            price_collar_bp: 1,
            max_orders_per_day: 1,
            daily_loss_limit: 1,
        };
        assert_eq!(least.validate(), Ok(()));
    }

    #[test]
    fn limits_round_trip_through_json_and_refuse_unknown_fields() {
        let d = RiskLimits::default();
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains(r#""price_collar_bp":1000"#), "{json}");
        assert_eq!(serde_json::from_str::<RiskLimits>(&json).unwrap(), d);
        let typo = json.replace("max_open_positions", "max_open_position");
        assert!(serde_json::from_str::<RiskLimits>(&typo).is_err());
    }

    #[test]
    fn every_refusal_has_a_listed_snake_case_rule() {
        let b = PriceBasis::Limit(Price::lit(1));
        let every = [
            RiskRefusal::KillSwitchOn,
            RiskRefusal::ZeroQty,
            RiskRefusal::QtyAboveMax {
                qty: Qty::lit(2),
                max: Qty::lit(1),
            },
            RiskRefusal::DuplicateOrder {
                id: ClientOrderId(1),
                qty: Qty::lit(1),
                order_type: OrderType::Market,
            },
            RiskRefusal::BadPrice(MarketError::OffGrid { price: 1, tick: 1 }),
            RiskRefusal::BadPrice(MarketError::AboveUpperLimit { price: 2, upper: 1 }),
            RiskRefusal::BadPrice(MarketError::ZeroQty),
            RiskRefusal::PriceCollar {
                price: Price::lit(2),
                last: Price::lit(1),
                distance_bp: 10_000,
                max_bp: 1,
            },
            RiskRefusal::NoCollarReference {
                price: Price::lit(1),
            },
            RiskRefusal::OrdersPerDayAtMax {
                orders_today: 1,
                max: 1,
            },
            RiskRefusal::OpenPositionsAtMax {
                ticker: samsung(),
                open: 1,
                max: 1,
            },
            RiskRefusal::NoReferencePrice { qty: Qty::lit(1) },
            RiskRefusal::NotionalAboveMax {
                notional: 2,
                qty: Qty::lit(2),
                basis: b,
                max: 1,
            },
            RiskRefusal::PositionNotionalAboveMax {
                notional: 2,
                held: Qty::lit(1),
                working: Qty::lit(0),
                qty: Qty::lit(1),
                basis: b,
                max: 1,
            },
            RiskRefusal::NakedSell {
                qty: Qty::lit(1),
                held: Qty::lit(0),
                working: Qty::lit(0),
                sellable: Qty::lit(0),
            },
        ];
        let mut seen = BTreeSet::new();
        for r in &every {
            let rule = r.rule();
            assert!(RiskRefusal::RULES.contains(&rule), "{rule} not in RULES");
            assert!(
                rule.bytes().all(|c| c.is_ascii_lowercase() || c == b'_'),
                "{rule}"
            );
            seen.insert(rule);
        }
        assert_eq!(
            seen.len(),
            RiskRefusal::RULES.len(),
            "a listed rule no refusal returns"
        );
        assert_eq!(
            RiskRefusal::BadPrice(MarketError::NonPositivePrice { price: 0 }).rule(),
            "tick_grid"
        );
        assert_eq!(
            RiskRefusal::BadPrice(MarketError::BelowLowerLimit { price: 1, lower: 2 }).rule(),
            "daily_limit"
        );
    }

    #[test]
    fn kill_switch_refuses_every_buy_but_passes_a_valid_sell() {
        let r = RiskLimits::default();
        let mut desk = Desk::new().last(10_000).holding(samsung(), 10, 10_000);
        desk.kill_switch_on = true;
        let e = desk.check(&limit_buy(1, 10_000), &r).unwrap_err();
        assert_eq!(e, RiskRefusal::KillSwitchOn);
        assert_eq!(e.rule(), "kill_switch");
        assert!(e.to_string().contains("kill switch on"), "{e}");
        // Market buys too, and before any other rule (a zero-qty buy names the switch).
        assert_eq!(
            desk.check(&intent(Side::Buy, 1, OrderType::Market), &r),
            Err(RiskRefusal::KillSwitchOn)
        );
        assert_eq!(
            desk.check(&limit_buy(0, 10_000), &r),
            Err(RiskRefusal::KillSwitchOn)
        );
        // An exit passes, market or limit; a naked sell is still refused as naked.
        assert_eq!(
            desk.check(&intent(Side::Sell, 10, OrderType::Market), &r),
            Ok(())
        );
        assert_eq!(
            desk.check(
                &intent(Side::Sell, 10, OrderType::Limit(Price::lit(9_990))),
                &r
            ),
            Ok(())
        );
        assert!(matches!(
            desk.check(&intent(Side::Sell, 11, OrderType::Market), &r),
            Err(RiskRefusal::NakedSell { .. })
        ));
        desk.kill_switch_on = false;
        assert_eq!(desk.check(&limit_buy(1, 10_000), &r), Ok(()));
    }

    #[test]
    fn zero_qty_is_refused_one_share_passes() {
        let r = RiskLimits::default();
        let e = gate(&limit_buy(0, 1_000), &r).unwrap_err();
        assert_eq!((e.clone(), e.rule()), (RiskRefusal::ZeroQty, "zero_qty"));
        assert_eq!(gate(&limit_buy(1, 1_000), &r), Ok(()));
    }

    #[test]
    fn max_order_qty_boundary() {
        let r = RiskLimits {
            max_order_qty: Qty::lit(10_000),
            ..loose()
        };
        assert_eq!(gate(&limit_buy(10_000, 1_000), &r), Ok(()));
        let e = gate(&limit_buy(10_001, 1_000), &r).unwrap_err();
        assert_eq!(e.to_string(), "qty 10001 above max_order_qty 10000");
        assert_eq!(e.rule(), "max_order_qty");
        // Sells too.
        let desk = Desk::new().holding(samsung(), 20_000, 1_000);
        let sell = |q| intent(Side::Sell, q, OrderType::Market);
        assert_eq!(desk.check(&sell(10_000), &r), Ok(()));
        assert!(matches!(
            desk.check(&sell(10_001), &r),
            Err(RiskRefusal::QtyAboveMax { .. })
        ));
    }

    #[test]
    fn a_duplicate_of_a_working_order_is_refused_naming_it() {
        let r = RiskLimits::default();
        let working = limit_buy(10, 10_000);
        let mut desk = Desk::new()
            .last(10_000)
            .holding(samsung(), 5, 10_000)
            .working(&working);
        let e = desk.check(&working, &r).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::DuplicateOrder {
                id: ClientOrderId(1),
                qty: Qty::lit(10),
                order_type: OrderType::Limit(Price::lit(10_000)),
            }
        );
        assert_eq!(e.rule(), "duplicate_order");
        assert_eq!(
            e.to_string(),
            "same ticker, side, qty 10 and limit price 10000 as working order C1: a duplicate"
        );
        // Any difference is a different order.
        assert_eq!(desk.check(&limit_buy(11, 10_000), &r), Ok(()));
        assert_eq!(desk.check(&limit_buy(10, 10_010), &r), Ok(()));
        assert_eq!(
            desk.check(&intent(Side::Buy, 10, OrderType::Market), &r),
            Ok(())
        );
        let other = intent_for(
            ticker("000660"),
            Side::Buy,
            10,
            OrderType::Limit(Price::lit(10_000)),
        );
        desk.last = Some(Price::lit(10_000));
        assert_eq!(desk.check(&other, &r), Ok(()));
        // Sells too; the older twin is named when there are two.
        let sell = intent(Side::Sell, 2, OrderType::Market);
        desk.book.open(&sell, Instant::now()).unwrap();
        let e = desk.check(&sell, &r).unwrap_err();
        assert!(
            e.to_string().contains("market price as working order C2"),
            "{e}"
        );
        // Once the order is final it no longer blocks its twin.
        let now = Instant::now();
        desk.book.sent(ClientOrderId(1), now).unwrap();
        desk.book
            .rejected(ClientOrderId(1), "01234", "test", now)
            .unwrap();
        assert_eq!(desk.check(&working, &r), Ok(()));
    }

    #[test]
    fn limit_buy_notional_boundary() {
        // 1,001 won is on the grid (tick 1 below 2,000), so the notional can sit at max + 1.
        let at = |max| RiskLimits {
            max_order_notional: max,
            ..loose()
        };
        let i = limit_buy(1, 1_001);
        assert_eq!(gate(&i, &at(1_001)), Ok(()));
        let e = gate(&i, &at(1_000)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "notional 1001 won (1 × limit price 1001) above max_order_notional 1000"
        );
        assert_eq!(e.rule(), "max_order_notional");
        // The defaults: 10,000,000 won.
        let r = RiskLimits::default();
        assert_eq!(gate(&limit_buy(200, 50_000), &r), Ok(()));
        assert!(gate(&limit_buy(201, 50_000), &r).is_err());
    }

    #[test]
    fn market_buy_is_bounded_by_the_upper_limit_else_the_last_price() {
        let r = RiskLimits {
            max_order_notional: 130_000,
            ..loose()
        };
        let mkt = |q| intent(Side::Buy, q, OrderType::Market);
        // With the band known the upper limit counts, even though the last price is lower.
        let banded = Desk::new().last(10_000).band(10_000); // upper 13,000
        assert_eq!(banded.check(&mkt(10), &r), Ok(()));
        let e = banded.check(&mkt(11), &r).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::NotionalAboveMax {
                notional: 143_000,
                qty: Qty::lit(11),
                basis: PriceBasis::UpperLimit(Price::lit(13_000)),
                max: 130_000
            }
        );
        assert!(e.to_string().contains("upper limit 13000"), "{e}");
        // Without the band the last price bounds it, and the refusal says so.
        let unbanded = Desk::new().last(10_000);
        assert_eq!(unbanded.check(&mkt(13), &r), Ok(()));
        let e = unbanded.check(&mkt(14), &r).unwrap_err();
        assert!(e.to_string().contains("last price 10000"), "{e}");
        // Neither (or a nonsense last price): refuse, there is nothing to bound it with.
        let e = Desk::new().check(&mkt(1), &r).unwrap_err();
        assert_eq!(e, RiskRefusal::NoReferencePrice { qty: Qty::lit(1) });
        assert_eq!(e.rule(), "no_reference_price");
        assert_eq!(
            Desk::new().last(0).check(&mkt(1), &r),
            Err(RiskRefusal::NoReferencePrice { qty: Qty::lit(1) })
        );
        // The most an order carries at the highest price: no overflow, it passes.
        assert_eq!(
            Desk::new()
                .last(99_999_000)
                .check(&mkt(MAX_QTY.shares()), &loose()),
            Ok(())
        );
    }

    #[test]
    fn limit_price_must_be_on_the_grid_and_inside_the_band() {
        let r = RiskLimits {
            price_collar_bp: u32::MAX,
            ..RiskLimits::default()
        };
        let desk = Desk::new().last(10_000).band(10_000); // 7,000 – 13,000, tick 10
        let at = |p| desk.check(&limit_buy(1, p), &r);
        assert_eq!(at(13_000), Ok(()));
        let e = at(13_010).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::BadPrice(MarketError::AboveUpperLimit {
                price: 13_010,
                upper: 13_000
            })
        );
        assert_eq!(e.rule(), "daily_limit");
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
        assert_eq!(e.rule(), "tick_grid");
        // Without the band only the grid is checked.
        assert_eq!(gate(&limit_buy(1, 20_050), &r), Ok(()));
        assert!(gate(&limit_buy(1, 20_010), &r).is_err());
        assert!(gate(&limit_buy(1, 0), &r).is_err());
        // Limit sells are checked too.
        let holder = Desk::new()
            .last(10_000)
            .band(10_000)
            .holding(samsung(), 5, 10_000);
        let sell = intent(Side::Sell, 1, OrderType::Limit(Price::lit(13_010)));
        assert!(matches!(
            holder.check(&sell, &r),
            Err(RiskRefusal::BadPrice(_))
        ));
    }

    #[test]
    fn price_collar_boundary_both_sides_of_the_last_trade() {
        let r = RiskLimits {
            price_collar_bp: 100,
            ..loose()
        };
        // Last 10,000, tick 10: 100 bp is exactly 100 won.
        let desk = Desk::new().last(10_000).holding(samsung(), 10, 10_000);
        let buy = |p| desk.check(&limit_buy(1, p), &r);
        assert_eq!(buy(10_100), Ok(()));
        assert_eq!(buy(9_900), Ok(()));
        let e = buy(10_110).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::PriceCollar {
                price: Price::lit(10_110),
                last: Price::lit(10_000),
                distance_bp: 110,
                max_bp: 100,
            }
        );
        assert_eq!(e.rule(), "price_collar");
        assert_eq!(
            e.to_string(),
            "limit price 10110 is 110 bp from the last trade 10000, beyond price_collar_bp 100"
        );
        assert!(matches!(buy(9_890), Err(RiskRefusal::PriceCollar { .. })));
        // Sells are collared too.
        let sell = |p| desk.check(&intent(Side::Sell, 1, OrderType::Limit(Price::lit(p))), &r);
        assert_eq!(sell(9_900), Ok(()));
        assert!(matches!(sell(9_890), Err(RiskRefusal::PriceCollar { .. })));
        // A collar that is not a whole number of won: 100 bp of 10,050 is 100.5 won. 10,150
        // is 99.5 bp away and passes; 10,160 is 109.45 bp away, shown rounded up.
        let odd = Desk::new().last(10_050);
        assert_eq!(odd.check(&limit_buy(1, 10_150), &r), Ok(()));
        assert!(matches!(
            odd.check(&limit_buy(1, 10_160), &r),
            Err(RiskRefusal::PriceCollar {
                distance_bp: 110,
                ..
            })
        ));
        // Market orders are not collared.
        assert_eq!(
            desk.check(&intent(Side::Buy, 1, OrderType::Market), &r),
            Ok(())
        );
    }

    #[test]
    fn a_limit_order_with_no_last_trade_has_no_collar_reference() {
        let r = RiskLimits::default();
        let e = Desk::new().check(&limit_buy(1, 10_000), &r).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::NoCollarReference {
                price: Price::lit(10_000)
            }
        );
        assert_eq!(e.rule(), "price_collar_no_reference");
        assert!(e.to_string().contains("no last trade"), "{e}");
        // A non-positive last price is no reference either.
        assert!(matches!(
            Desk::new().last(0).check(&limit_buy(1, 10_000), &r),
            Err(RiskRefusal::NoCollarReference { .. })
        ));
        // The widest collar at the largest prices: no overflow, it passes.
        let huge = Desk::new().last(99_999_000);
        assert_eq!(
            huge.check(&limit_buy(1, 1_000), &loose()),
            Ok(()),
            "the widest distance"
        );
        let tight = RiskLimits {
            price_collar_bp: 1,
            ..loose()
        };
        assert!(matches!(
            huge.check(&limit_buy(1, 1_000), &tight),
            Err(RiskRefusal::PriceCollar { max_bp: 1, .. })
        ));
    }

    #[test]
    fn max_orders_per_day_boundary_for_buys_only() {
        let r = RiskLimits {
            max_orders_per_day: 5,
            ..loose()
        };
        let mut desk = Desk::new().last(10_000).holding(samsung(), 10, 10_000);
        desk.orders_today = 4;
        assert_eq!(desk.check(&limit_buy(1, 10_000), &r), Ok(()));
        desk.orders_today = 5;
        let e = desk.check(&limit_buy(1, 10_000), &r).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::OrdersPerDayAtMax {
                orders_today: 5,
                max: 5
            }
        );
        assert_eq!(e.rule(), "max_orders_per_day");
        assert_eq!(
            e.to_string(),
            "5 orders sent today, at max_orders_per_day 5: no more buys today"
        );
        // An exit is never trapped by the count.
        desk.orders_today = u32::MAX;
        assert_eq!(
            desk.check(&intent(Side::Sell, 10, OrderType::Market), &r),
            Ok(())
        );
    }

    #[test]
    fn max_open_positions_refuses_a_new_ticker_not_an_added_one() {
        let r = RiskLimits {
            max_open_positions: 2,
            ..loose()
        };
        let (a, b, c) = (samsung(), ticker("000660"), ticker("035720"));
        let buy = |t, q| intent_for(t, Side::Buy, q, OrderType::Limit(Price::lit(10_000)));
        // One held, one being bought: two open.
        let desk = Desk::new()
            .last(10_000)
            .holding(a, 10, 10_000)
            .working(&buy(b, 3));
        let e = desk.check(&buy(c, 1), &r).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::OpenPositionsAtMax {
                ticker: c,
                open: 2,
                max: 2
            }
        );
        assert_eq!(e.rule(), "max_open_positions");
        assert_eq!(
            e.to_string(),
            "035720 would be a new position: 2 tickers already held or being bought, at max_open_positions 2"
        );
        // Adding to the held one or the one being bought is allowed at the cap.
        assert_eq!(desk.check(&buy(a, 1), &r), Ok(()));
        assert_eq!(desk.check(&buy(b, 1), &r), Ok(()));
        // One below the cap, the new ticker passes.
        let wider = RiskLimits {
            max_open_positions: 3,
            ..r
        };
        assert_eq!(desk.check(&buy(c, 1), &wider), Ok(()));
        // Sells pass at the cap.
        assert_eq!(
            desk.check(&intent_for(a, Side::Sell, 10, OrderType::Market), &r),
            Ok(())
        );
        // A sold-out ticker and a working sell do not count as open.
        let mut closed = Desk::new().last(10_000).holding(a, 10, 10_000);
        closed
            .ledger
            .apply_fill(&fill(Side::Sell, 10, 10_000), 0)
            .unwrap();
        let closed =
            closed
                .holding(b, 5, 10_000)
                .working(&intent_for(b, Side::Sell, 5, OrderType::Market));
        assert_eq!(closed.check(&buy(c, 1), &r), Ok(()));
    }

    #[test]
    fn max_position_notional_counts_held_working_and_this_buy() {
        let r = RiskLimits {
            max_position_notional: 200_000,
            ..loose()
        };
        // Held 10, a working buy of 4: (10 + 4 + q) × 10,000 ≤ 200,000 ⇔ q ≤ 6.
        let desk = Desk::new()
            .last(10_000)
            .holding(samsung(), 10, 10_000)
            .working(&limit_buy(4, 10_000));
        assert_eq!(desk.check(&limit_buy(6, 10_000), &r), Ok(()));
        let e = desk.check(&limit_buy(7, 10_000), &r).unwrap_err();
        assert_eq!(
            e,
            RiskRefusal::PositionNotionalAboveMax {
                notional: 210_000,
                held: Qty::lit(10),
                working: Qty::lit(4),
                qty: Qty::lit(7),
                basis: PriceBasis::Limit(Price::lit(10_000)),
                max: 200_000,
            }
        );
        assert_eq!(e.rule(), "max_position_notional");
        assert_eq!(
            e.to_string(),
            "position notional 210000 won ((held 10 + working buys 4 + 7) × limit price 10000) above max_position_notional 200000"
        );
        // A market buy counts at the upper limit: (10 + 4 + q) × 13,000 ≤ 200,000 ⇔ q ≤ 1.
        let mut banded = desk;
        banded.band = Some(DailyLimits::from_base(Price::lit(10_000)));
        let mkt = |q| intent(Side::Buy, q, OrderType::Market);
        assert_eq!(banded.check(&mkt(1), &r), Ok(()));
        assert!(matches!(
            banded.check(&mkt(2), &r),
            Err(RiskRefusal::PositionNotionalAboveMax { .. })
        ));
        // Other tickers' positions do not count.
        let other = intent_for(
            ticker("000660"),
            Side::Buy,
            20,
            OrderType::Limit(Price::lit(10_000)),
        );
        assert_eq!(banded.check(&other, &r), Ok(()));
        // The largest counts at the highest price still add up inside i64: no overflow.
        let most = MAX_QTY.shares();
        let big = Desk::new()
            .last(99_999_000)
            .holding(samsung(), most, 99_999_000);
        let bigger = big.working(&limit_buy(most, 99_999_000));
        assert_eq!(
            bigger.check(&limit_buy(most - 1, 99_999_000), &loose()),
            Ok(())
        );
        // Sells are not capped by position notional.
        let tight = RiskLimits {
            max_position_notional: 1,
            ..loose()
        };
        assert_eq!(
            banded.check(&intent(Side::Sell, 10, OrderType::Market), &tight),
            Ok(())
        );
    }

    #[test]
    fn no_naked_sells_counting_working_sells() {
        let r = RiskLimits::default();
        let mut desk = Desk::new();
        let sell = |q| intent(Side::Sell, q, OrderType::Market);
        // Nothing held: even one share is naked.
        let e = desk.check(&sell(1), &r).unwrap_err();
        assert!(matches!(e, RiskRefusal::NakedSell { .. }));
        assert_eq!(e.rule(), "naked_sell");
        desk.ledger
            .apply_fill(&fill(Side::Buy, 10, 60_000), 0)
            .unwrap();
        assert_eq!(desk.check(&sell(10), &r), Ok(()));
        assert!(desk.check(&sell(11), &r).is_err());
        // A working sell of 3 leaves 7 sellable.
        let now = Instant::now();
        let id = desk.book.open(&sell(3), now).unwrap();
        assert_eq!(desk.check(&sell(7), &r), Ok(()));
        let e = desk.check(&sell(8), &r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sell qty 8 above sellable 7 (held 10, already working on the sell side 3): no naked sells"
        );
        // Working buys do not count; a finished sell no longer reserves shares.
        desk.book
            .open(&intent(Side::Buy, 5, OrderType::Market), now)
            .unwrap();
        assert_eq!(desk.check(&sell(7), &r), Ok(()));
        desk.book.sent(id, now).unwrap();
        desk.book
            .rejected(id, "01478", "매도가능수량 부족", now)
            .unwrap();
        assert_eq!(desk.check(&sell(10), &r), Ok(()));
        // Sells are not capped by notional: exiting a large position must stay possible.
        let tight = RiskLimits {
            max_order_notional: 1,
            ..RiskLimits::default()
        };
        desk.last = Some(Price::lit(60_000));
        assert_eq!(desk.check(&sell(10), &tight), Ok(()));
    }
}
