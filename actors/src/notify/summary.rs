//! The day's arithmetic for the summary after the close: round trips and the win rate, the
//! equity curve and its maximum drawdown, and the figures the OrderManager and the
//! Portfolio report. Integer won and basis points; nothing here reads a clock.

use std::collections::HashMap;

use crate::clock::TradingDay;
use crate::condition_books::ConditionSummary;
use crate::ledger::LedgerSnapshot;
use crate::market::{Side, Ticker};
use crate::messages::{FillAlert, LatencyUs, OrderStats};

/// Most points an equity curve keeps for its chart; past it, every other point is dropped
/// and only every other new one is kept. The drawdown is computed over every sample.
pub const CURVE_POINTS_MAX: usize = 2048;

/// The largest fall from a running peak: in won and in basis points of that peak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drawdown {
    pub won: i64,
    pub bp: i64,
}

/// The maximum drawdown of an equity series, in order (0 for a series that never falls).
pub fn max_drawdown(equity: impl IntoIterator<Item = i64>) -> Drawdown {
    let mut peak: Option<i64> = None;
    let mut worst = Drawdown::default();
    for e in equity {
        let p = *peak.insert(peak.map_or(e, |p| p.max(e)));
        let dd = drawdown(p, e);
        if dd.won > worst.won {
            worst = dd;
        }
    }
    worst
}

/// The fall from `peak` to `now`, in won and in basis points of the peak (0 bp when the
/// peak is not positive: a ratio to nothing says nothing). Computed in i128: no overflow.
fn drawdown(peak: i64, now: i64) -> Drawdown {
    let won = i128::from(peak) - i128::from(now);
    let bp = if peak > 0 {
        won * 10_000 / i128::from(peak)
    } else {
        0
    };
    let clamp = |v: i128| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX });
    Drawdown {
        won: clamp(won),
        bp: clamp(bp),
    }
}

/// The day's equity samples (Unix ms, won): every sample counts for the drawdown; the chart
/// keeps at most [`CURVE_POINTS_MAX`] of them, evenly thinned, and always the last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EquityCurve {
    points: Vec<(i64, i64)>,
    stride: u64,
    seen: u64,
    peak: Option<i64>,
    worst: Drawdown,
    first: Option<i64>,
    last: Option<(i64, i64)>,
}

impl EquityCurve {
    pub fn push(&mut self, at_unix_ms: i64, equity: i64) {
        let peak = *self
            .peak
            .insert(self.peak.map_or(equity, |p| p.max(equity)));
        let dd = drawdown(peak, equity);
        if dd.won > self.worst.won {
            self.worst = dd;
        }
        self.first.get_or_insert(equity);
        self.last = Some((at_unix_ms, equity));
        let stride = self.stride.max(1);
        if self.seen % stride == 0 {
            self.points.push((at_unix_ms, equity));
            if self.points.len() > CURVE_POINTS_MAX {
                self.points = self.points.iter().copied().step_by(2).collect();
                self.stride = stride * 2;
            }
        }
        self.seen += 1;
    }

    pub fn max_drawdown(&self) -> Drawdown {
        self.worst
    }

    pub fn first(&self) -> Option<i64> {
        self.first
    }

    pub fn last(&self) -> Option<i64> {
        self.last.map(|(_, e)| e)
    }

    /// Samples seen (not only those kept).
    pub fn samples(&self) -> u64 {
        self.seen
    }

    /// The points to draw, in time order, the last sample included.
    pub fn chart_points(&self) -> Vec<(i64, i64)> {
        let mut pts = self.points.clone();
        if let Some(last) = self.last {
            if pts.last() != Some(&last) {
                pts.push(last);
            }
        }
        pts
    }
}

/// What the Notifier tallies from the alerts of one trading day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayBook {
    pub day: TradingDay,
    pub fills: u64,
    pub rejects: u64,
    /// Sums over the fills seen (used when the Portfolio cannot be asked).
    pub realized_pnl: i64,
    pub fees: i64,
    /// Realized P&L of each ticker's open round trip (from flat to flat).
    open_trips: HashMap<Ticker, i64>,
    pub round_trips: u64,
    pub wins: u64,
    pub curve: EquityCurve,
    /// The summary of this day went out.
    pub summary_sent: bool,
}

impl DayBook {
    pub fn new(day: TradingDay) -> DayBook {
        DayBook {
            day,
            fills: 0,
            rejects: 0,
            realized_pnl: 0,
            fees: 0,
            open_trips: HashMap::new(),
            round_trips: 0,
            wins: 0,
            curve: EquityCurve::default(),
            summary_sent: false,
        }
    }

    /// Anything happened worth a summary.
    pub fn had_activity(&self) -> bool {
        self.fills > 0 || self.rejects > 0
    }

    /// A round trip runs from a buy out of flat to the sell that makes the ticker flat
    /// again; it is won when its realized P&L, net of its fees, is above zero. A position
    /// held from before the day counts from its first sell.
    pub fn on_fill(&mut self, f: &FillAlert, at_unix_ms: i64) {
        self.fills += 1;
        self.realized_pnl = self.realized_pnl.saturating_add(f.realized_pnl);
        self.fees = self.fees.saturating_add(f.fee);
        let trip = self.open_trips.entry(f.ticker).or_default();
        *trip = trip.saturating_add(f.realized_pnl).saturating_sub(f.fee);
        if f.side == Side::Sell && f.position_after.shares() == 0 {
            let pnl = self.open_trips.remove(&f.ticker).unwrap_or_default();
            self.round_trips += 1;
            if pnl > 0 {
                self.wins += 1;
            }
        }
        if let Some(e) = f.equity {
            self.curve.push(at_unix_ms, e);
        }
    }

    pub fn on_reject(&mut self) {
        self.rejects += 1;
    }

    /// Refusals counted together ([`crate::messages::Alert::RefusedInBulk`]).
    pub fn on_rejects(&mut self, n: u64) {
        self.rejects = self.rejects.saturating_add(n);
    }
}

/// The summary after the close.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DailySummary {
    pub day: TradingDay,
    /// Orders sent to the broker, and how they ended.
    pub orders: u64,
    pub filled: u64,
    pub cancelled: u64,
    pub rejected: u64,
    pub refused_by_risk: u64,
    pub fills: u64,
    pub round_trips: u64,
    pub wins: u64,
    pub realized_pnl: i64,
    pub unrealized_pnl: i64,
    /// Commission and tax together, as the ledger has them.
    pub fees: i64,
    pub opening_equity: Option<i64>,
    pub closing_equity: Option<i64>,
    pub max_drawdown: Drawdown,
    pub intent_to_ack: LatencyUs,
    pub ack_to_fill: LatencyUs,
    /// The equity samples to draw.
    pub curve: Vec<(i64, i64)>,
    /// Each condition's part, with its label (`#2 0001`), when several are traded.
    pub conditions: Vec<(String, ConditionSummary)>,
}

impl DailySummary {
    /// Round trips won, in basis points of those closed; `None` before the first closes.
    pub fn win_rate_bp(&self) -> Option<u64> {
        (self.round_trips > 0).then(|| self.wins * 10_000 / self.round_trips)
    }

    /// Realized P&L after fees and tax.
    pub fn net_pnl(&self) -> i64 {
        self.realized_pnl.saturating_sub(self.fees)
    }
}

/// The summary from the day's tally, the OrderManager's counters and the Portfolio's book
/// (`None` when it could not be asked: the tally's own sums stand in).
pub fn summarize(
    book: &DayBook,
    orders: Option<&OrderStats>,
    ledger: Option<&LedgerSnapshot>,
) -> DailySummary {
    let o = orders.copied().unwrap_or_default();
    let mut curve = book.curve.clone();
    // The closing figure is a point of the curve too: the drawdown must see it.
    if let Some(l) = ledger {
        if curve.last() != Some(l.equity) {
            let at = curve.last.map_or(0, |(t, _)| t);
            curve.push(at, l.equity);
        }
    }
    DailySummary {
        day: book.day,
        orders: o.orders,
        filled: o.filled,
        cancelled: o.cancelled,
        rejected: o.rejected,
        refused_by_risk: o.refused_by_risk,
        fills: if orders.is_some() {
            o.fills
        } else {
            book.fills
        },
        round_trips: book.round_trips,
        wins: book.wins,
        realized_pnl: ledger.map_or(book.realized_pnl, |l| l.realized_pnl),
        unrealized_pnl: ledger.map_or(0, |l| l.unrealized_pnl),
        fees: ledger.map_or(book.fees, |l| l.fees),
        opening_equity: curve.first(),
        closing_equity: ledger.map(|l| l.equity).or(curve.last()),
        max_drawdown: curve.max_drawdown(),
        intent_to_ack: o.intent_to_ack,
        ack_to_fill: o.ack_to_fill,
        curve: curve.chart_points(),
        conditions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderNo;
    use crate::market::{Price, Qty, TimeOfDay};

    fn day() -> TradingDay {
        TradingDay::new(2026, 1, 5).unwrap()
    }

    fn fill(t: &str, side: Side, qty: u64, after: u64, realized: i64, equity: i64) -> FillAlert {
        FillAlert {
            ticker: Ticker::parse(t).unwrap(),
            side,
            qty: Qty::lit(qty),
            price: Price::lit(10_000),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 30, 0),
            fee: 0,
            position_after: Qty::lit(after),
            avg_price: None,
            realized_pnl: realized,
            ticker_realized_pnl: 0,
            equity: Some(equity),
        }
    }

    #[test]
    fn max_drawdown_is_the_largest_fall_from_a_running_peak() {
        assert_eq!(max_drawdown([]), Drawdown::default());
        assert_eq!(max_drawdown([100, 110, 120]), Drawdown::default());
        // Peak 120 → 90 is 30 (2500 bp); the later 130 → 110 is only 20.
        assert_eq!(
            max_drawdown([100, 120, 90, 130, 110]),
            Drawdown { won: 30, bp: 2500 }
        );
        // From the start: 1,000,000 → 990,000 is 100 bp.
        assert_eq!(
            max_drawdown([1_000_000, 995_000, 990_000, 1_000_500]),
            Drawdown {
                won: 10_000,
                bp: 100
            }
        );
        // No overflow at the ends of i64.
        assert_eq!(max_drawdown([i64::MAX, i64::MIN]).won, i64::MAX);
    }

    #[test]
    fn the_curve_thins_its_points_but_not_its_drawdown() {
        let mut c = EquityCurve::default();
        let series: Vec<i64> = (0..10_000i64)
            .map(|i| 1_000_000 + (i % 700) * 10 - if i == 7_777 { 50_000 } else { 0 })
            .collect();
        for (i, e) in series.iter().enumerate() {
            c.push(i as i64 * 1000, *e);
        }
        assert_eq!(c.max_drawdown(), max_drawdown(series.iter().copied()));
        assert_eq!(c.samples(), 10_000);
        let pts = c.chart_points();
        assert!(pts.len() <= CURVE_POINTS_MAX + 1, "{}", pts.len());
        assert!(pts.len() > CURVE_POINTS_MAX / 2, "{}", pts.len());
        assert_eq!(pts.first(), Some(&(0, 1_000_000)));
        assert_eq!(pts.last(), Some(&(9_999_000, *series.last().unwrap())));
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
    }

    #[test]
    fn round_trips_from_flat_to_flat_make_the_win_rate() {
        let mut b = DayBook::new(day());
        // 005930: bought in two fills, sold in two, +3,000 in all: a win.
        b.on_fill(&fill("005930", Side::Buy, 10, 10, 0, 1_000_000), 1);
        b.on_fill(&fill("005930", Side::Buy, 10, 20, 0, 1_000_000), 2);
        b.on_fill(&fill("005930", Side::Sell, 10, 10, 5_000, 1_005_000), 3);
        assert_eq!(b.round_trips, 0, "not flat yet");
        b.on_fill(&fill("005930", Side::Sell, 10, 0, -2_000, 1_003_000), 4);
        // 000660: a loss.
        b.on_fill(&fill("000660", Side::Buy, 5, 5, 0, 1_003_000), 5);
        b.on_fill(&fill("000660", Side::Sell, 5, 0, -4_000, 999_000), 6);
        // 035720: break-even is not a win.
        b.on_fill(&fill("035720", Side::Buy, 1, 1, 0, 999_000), 7);
        b.on_fill(&fill("035720", Side::Sell, 1, 0, 0, 999_000), 8);
        // 247540: a profit eaten by fees is not a win either.
        let mut f = fill("247540", Side::Sell, 1, 0, 100, 999_000);
        f.fee = 150;
        b.on_fill(&fill("247540", Side::Buy, 1, 1, 0, 999_000), 9);
        b.on_fill(&f, 10);
        assert_eq!((b.round_trips, b.wins), (4, 1));
        let s = summarize(&b, None, None);
        assert_eq!(s.win_rate_bp(), Some(2_500));
        assert_eq!(s.realized_pnl, 5_000 - 2_000 - 4_000 + 100);
        assert_eq!(s.fees, 150);
        assert_eq!(s.net_pnl(), -1_050);
        assert_eq!(s.fills, 10);
        assert_eq!(s.max_drawdown.won, 1_005_000 - 999_000);
        assert_eq!(s.opening_equity, Some(1_000_000));
        assert_eq!(s.closing_equity, Some(999_000));
        assert_eq!(
            summarize(&DayBook::new(day()), None, None).win_rate_bp(),
            None
        );
    }

    #[test]
    fn the_portfolio_and_the_order_manager_have_the_last_word() {
        let mut b = DayBook::new(day());
        b.on_fill(&fill("005930", Side::Buy, 10, 10, 0, 1_000_000), 1);
        let orders = OrderStats {
            orders: 7,
            fills: 9,
            filled: 5,
            cancelled: 1,
            rejected: 1,
            refused_by_risk: 2,
            intent_to_ack: LatencyUs {
                count: 7,
                p50: 800,
                p99: 2_500,
                max: 3_000,
            },
            ..OrderStats::default()
        };
        let ledger = LedgerSnapshot {
            opening_cash: 1_000_000,
            cash: 900_000,
            positions: Vec::new(),
            realized_pnl: 12_000,
            unrealized_pnl: -3_000,
            fees: 700,
            equity: 980_000,
        };
        let s = summarize(&b, Some(&orders), Some(&ledger));
        assert_eq!(
            (s.orders, s.fills, s.refused_by_risk, s.intent_to_ack.p99),
            (7, 9, 2, 2_500)
        );
        assert_eq!(
            (s.realized_pnl, s.unrealized_pnl, s.fees),
            (12_000, -3_000, 700)
        );
        assert_eq!(s.closing_equity, Some(980_000));
        // The closing equity joined the curve: 1,000,000 → 980,000 is 200 bp.
        assert_eq!(
            s.max_drawdown,
            Drawdown {
                won: 20_000,
                bp: 200
            }
        );
        assert_eq!(s.curve.last(), Some(&(1, 980_000)));
    }
}
