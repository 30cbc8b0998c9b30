//! The backtest's books and report: every fill booked through the same [`Ledger`] and
//! [`FeeSchedule`] `condor run` books with, the equity marked on every trade of a held
//! ticker, and from that the figures a trader reads: net P&L, fees and tax, round trips,
//! win rate, average win and loss, profit factor, maximum drawdown, exposure, and tables
//! per ticker and per day.
//!
//! Money is integer won throughout; only ratios (win rate, profit factor, exposure) are
//! floating point, computed once at the end from integers, so the same fills give the
//! same report byte for byte on any machine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ledger::{FeeSchedule, Ledger};
use crate::market::{notional, Price, Qty, Side, Ticker};
use crate::messages::Fill;

/// One execution, as `--trades FILE.csv` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillRow {
    pub day: String,
    /// Exchange time, HHMMSS.
    pub time: String,
    pub ticker: String,
    pub side: String,
    pub qty: u64,
    pub price: i64,
    pub commission: i64,
    pub tax: i64,
    /// Realized by this fill, fees excluded (0 for a buy).
    pub realized_pnl: i64,
    pub position_after: u64,
    pub cash_after: i64,
}

/// One ticker's figures, or one day's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// Round trips closed (flat → held → flat).
    pub trades: u64,
    pub wins: u64,
    pub fills: u64,
    /// Realized less fees and tax (a position still held is in the report's unrealized).
    pub net_pnl: i64,
    pub fees: i64,
    pub tax: i64,
}

/// A point of the equity curve: the day, the time (Unix ns, the tape's), the equity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EquityPoint {
    pub day: String,
    pub at_ns: i64,
    pub equity: i64,
}

/// The whole report; `--json` prints it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub opening_cash: i64,
    pub closing_equity: i64,
    /// Closing equity less opening cash: realized and unrealized, fees and tax paid.
    pub net_pnl: i64,
    pub realized_pnl: i64,
    pub unrealized_pnl: i64,
    pub commission: i64,
    pub tax: i64,
    pub fills: u64,
    pub orders: u64,
    pub refused: u64,
    pub rejected: u64,
    pub cancelled: u64,
    /// Round trips closed, and of them those that made money (net of fees).
    pub trades: u64,
    pub wins: u64,
    /// Σ of the winning round trips, and of the losing ones (≤ 0), net of fees.
    pub gross_wins: i64,
    pub gross_losses: i64,
    pub win_rate: f64,
    pub avg_win: i64,
    pub avg_loss: i64,
    /// Gross wins over gross losses (round trips, net of fees); 0 without a loss.
    pub profit_factor: f64,
    /// The deepest fall of equity from its running peak, in won, and as a share of it.
    pub max_drawdown: i64,
    pub max_drawdown_share: f64,
    /// Share of the session's time (first to last event of each day) with a position held.
    pub exposure: f64,
    pub per_ticker: BTreeMap<String, Line>,
    pub per_day: BTreeMap<String, Line>,
    /// Held and session time behind `exposure`, to combine days.
    #[serde(skip)]
    held_ns: i128,
    #[serde(skip)]
    session_ns: i128,
}

impl Report {
    /// The ratios and averages, from the integer figures.
    fn finalize(&mut self) {
        let losses = self.trades - self.wins;
        self.win_rate = ratio(self.wins as f64, self.trades as f64);
        self.avg_win = if self.wins > 0 {
            self.gross_wins / self.wins as i64
        } else {
            0
        };
        self.avg_loss = if losses > 0 {
            self.gross_losses / losses as i64
        } else {
            0
        };
        self.profit_factor = ratio(self.gross_wins as f64, -self.gross_losses as f64);
        self.exposure = ratio(self.held_ns as f64, self.session_ns as f64);
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// Days run each from the same opening cash (no carry), as one report: money and counts
/// added up, the deepest drawdown of any day, the ratios over all round trips.
pub fn combine(
    parts: Vec<(Report, Vec<FillRow>, Vec<EquityPoint>)>,
) -> (Report, Vec<FillRow>, Vec<EquityPoint>) {
    let mut out = Report::default();
    let (mut fills, mut curve) = (Vec::new(), Vec::new());
    for (i, (r, f, c)) in parts.into_iter().enumerate() {
        if i == 0 {
            out.opening_cash = r.opening_cash;
        }
        out.net_pnl += r.net_pnl;
        out.realized_pnl += r.realized_pnl;
        out.unrealized_pnl += r.unrealized_pnl;
        out.commission += r.commission;
        out.tax += r.tax;
        out.fills += r.fills;
        out.orders += r.orders;
        out.refused += r.refused;
        out.rejected += r.rejected;
        out.cancelled += r.cancelled;
        out.trades += r.trades;
        out.wins += r.wins;
        out.gross_wins += r.gross_wins;
        out.gross_losses += r.gross_losses;
        if r.max_drawdown > out.max_drawdown {
            out.max_drawdown = r.max_drawdown;
            out.max_drawdown_share = r.max_drawdown_share;
        }
        out.held_ns += r.held_ns;
        out.session_ns += r.session_ns;
        for (k, l) in r.per_ticker {
            out.per_ticker.entry(k).or_default().add(&l);
        }
        for (k, l) in r.per_day {
            out.per_day.entry(k).or_default().add(&l);
        }
        fills.extend(f);
        curve.extend(c);
    }
    out.closing_equity = out.opening_cash + out.net_pnl;
    out.finalize();
    (out, fills, curve)
}

impl Line {
    fn add(&mut self, o: &Line) {
        self.trades += o.trades;
        self.wins += o.wins;
        self.fills += o.fills;
        self.net_pnl += o.net_pnl;
        self.fees += o.fees;
        self.tax += o.tax;
    }
}

/// An open round trip of one ticker.
#[derive(Clone, Copy, Debug, Default)]
struct Round {
    net: i64,
}

/// See the module docs.
#[derive(Debug)]
pub struct Books {
    ledger: Ledger,
    fees: FeeSchedule,
    /// Held tickers: shares and last price, for the equity.
    held: BTreeMap<Ticker, (Qty, Price)>,
    /// Σ shares × last over `held`.
    value: i64,
    peak: i64,
    max_dd: i64,
    max_dd_share: f64,
    rounds: BTreeMap<Ticker, Round>,
    closed: Vec<i64>,
    report: Report,
    fill_rows: Vec<FillRow>,
    curve: Vec<EquityPoint>,
    day: String,
    day_start_ns: Option<i64>,
    last_ns: i64,
    /// Since when something has been held (this day), and the held time so far.
    held_since: Option<i64>,
    held_ns: i128,
    session_ns: i128,
    last_point_ns: i64,
}

/// The equity curve keeps a point a minute at most, and one per fill.
const CURVE_EVERY_NS: i64 = 60_000_000_000;

impl Books {
    pub fn new(opening_cash: i64, fees: FeeSchedule) -> Books {
        Books {
            ledger: Ledger::new(opening_cash),
            fees,
            held: BTreeMap::new(),
            value: 0,
            peak: opening_cash,
            max_dd: 0,
            max_dd_share: 0.0,
            rounds: BTreeMap::new(),
            closed: Vec::new(),
            report: Report {
                opening_cash,
                ..Report::default()
            },
            fill_rows: Vec::new(),
            curve: Vec::new(),
            day: String::new(),
            day_start_ns: None,
            last_ns: 0,
            held_since: None,
            held_ns: 0,
            session_ns: 0,
            last_point_ns: i64::MIN,
        }
    }

    /// The latest event time booked.
    pub fn last_ns(&self) -> i64 {
        self.last_ns
    }

    /// The ledger: what the risk gate sees.
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    pub fn cash(&self) -> i64 {
        self.ledger.cash()
    }

    /// Cash and what is held at its last prices.
    pub fn equity(&self) -> i64 {
        self.ledger.cash().saturating_add(self.value)
    }

    /// A new day begins (its events come next). Positions carried over stay held.
    pub fn start_day(&mut self, day: &str) {
        self.end_day();
        self.day = day.to_owned();
        self.day_start_ns = None;
    }

    fn end_day(&mut self) {
        if let Some(start) = self.day_start_ns {
            self.session_ns += i128::from(self.last_ns.saturating_sub(start));
            if let Some(since) = self.held_since.take() {
                self.held_ns += i128::from(self.last_ns.saturating_sub(since));
            }
        }
    }

    /// Time moves on to `ns` (an event of the day).
    pub fn at(&mut self, ns: i64) {
        if self.day_start_ns.is_none() {
            self.day_start_ns = Some(ns);
            if !self.held.is_empty() {
                self.held_since = Some(ns);
            }
        }
        self.last_ns = self.last_ns.max(ns);
    }

    /// A trade of `ticker` at `price`: marks a held position.
    pub fn mark(&mut self, ticker: Ticker, price: Price, ns: i64) {
        self.at(ns);
        let Some((qty, last)) = self.held.get_mut(&ticker) else {
            return;
        };
        let now = notional(price, *qty);
        let before = notional(*last, *qty);
        *last = price;
        self.value = self.value.saturating_add(now.saturating_sub(before));
        let _ = self.ledger.mark(ticker, price);
        self.track(ns);
    }

    fn track(&mut self, ns: i64) {
        let equity = self.equity();
        if equity > self.peak {
            self.peak = equity;
        }
        let dd = self.peak.saturating_sub(equity);
        if dd > self.max_dd {
            self.max_dd = dd;
            self.max_dd_share = if self.peak > 0 {
                dd as f64 / self.peak as f64
            } else {
                0.0
            };
        }
        if ns.saturating_sub(self.last_point_ns) >= CURVE_EVERY_NS {
            self.point(ns);
        }
    }

    fn point(&mut self, ns: i64) {
        self.last_point_ns = ns;
        self.curve.push(EquityPoint {
            day: self.day.clone(),
            at_ns: ns,
            equity: self.equity(),
        });
    }

    /// Books one execution at `ns`.
    pub fn fill(&mut self, fill: &Fill, ns: i64) {
        self.at(ns);
        let fee = self.fees.fee(fill);
        let commission = self
            .fees
            .fee(&Fill {
                side: Side::Buy,
                ..*fill
            })
            .min(fee);
        let tax = fee - commission;
        let Ok(effect) = self.ledger.apply_fill(fill, fee) else {
            return;
        };
        let r = &mut self.report;
        r.fills += 1;
        r.commission += commission;
        r.tax += tax;
        let net = effect.realized_pnl - fee;
        for line in [
            r.per_ticker
                .entry(fill.ticker.as_str().to_owned())
                .or_default(),
            r.per_day.entry(self.day.clone()).or_default(),
        ] {
            line.fills += 1;
            line.fees += commission;
            line.tax += tax;
            line.net_pnl += net;
        }
        let round = self.rounds.entry(fill.ticker).or_default();
        round.net += net;
        // The held value follows the position, at the fill's price.
        let old = self.held.remove(&fill.ticker);
        if let Some((q, last)) = old {
            self.value -= notional(last, q);
        }
        let qty = effect.position_qty;
        if !qty.is_zero() {
            self.held.insert(fill.ticker, (qty, fill.price));
            self.value += notional(fill.price, effect.position_qty);
        } else if let Some(done) = self.rounds.remove(&fill.ticker) {
            self.closed.push(done.net);
            let win = done.net > 0;
            for line in [
                r.per_ticker
                    .entry(fill.ticker.as_str().to_owned())
                    .or_default(),
                r.per_day.entry(self.day.clone()).or_default(),
            ] {
                line.trades += 1;
                line.wins += u64::from(win);
            }
        }
        match (self.held.is_empty(), self.held_since) {
            (false, None) => self.held_since = Some(ns),
            (true, Some(since)) => {
                self.held_ns += i128::from(ns.saturating_sub(since));
                self.held_since = None;
            }
            _ => {}
        }
        self.fill_rows.push(FillRow {
            day: self.day.clone(),
            time: fill.time.hhmmss(),
            ticker: fill.ticker.as_str().to_owned(),
            side: match fill.side {
                Side::Buy => "buy",
                Side::Sell => "sell",
            }
            .to_owned(),
            qty: fill.qty.shares(),
            price: fill.price.won(),
            commission,
            tax,
            realized_pnl: effect.realized_pnl,
            position_after: qty.shares(),
            cash_after: effect.cash,
        });
        self.track(ns);
        self.point(ns);
    }

    /// Counts an order sent, refused by the gate, rejected by the exchange, cancelled.
    pub fn count(&mut self, what: Counted) {
        let r = &mut self.report;
        match what {
            Counted::Order => r.orders += 1,
            Counted::Refused => r.refused += 1,
            Counted::Rejected => r.rejected += 1,
            Counted::Cancelled => r.cancelled += 1,
        }
    }

    /// The report, the fills and the equity curve.
    pub fn finish(mut self) -> (Report, Vec<FillRow>, Vec<EquityPoint>) {
        self.end_day();
        let equity = self.equity();
        let mut r = self.report;
        r.closing_equity = equity;
        r.net_pnl = equity - r.opening_cash;
        r.realized_pnl = self.ledger.realized_pnl();
        r.unrealized_pnl = self.value - self.ledger.positions().map(|(_, p)| p.cost).sum::<i64>();
        r.trades = self.closed.len() as u64;
        r.wins = self.closed.iter().filter(|n| **n > 0).count() as u64;
        r.gross_wins = self.closed.iter().filter(|n| **n > 0).sum();
        r.gross_losses = self.closed.iter().filter(|n| **n <= 0).sum();
        r.max_drawdown = self.max_dd;
        r.max_drawdown_share = self.max_dd_share;
        r.held_ns = self.held_ns;
        r.session_ns = self.session_ns;
        r.finalize();
        let mut curve = self.curve;
        if let Some(last) = curve.last_mut() {
            last.equity = equity;
        }
        (r, self.fill_rows, curve)
    }
}

/// What [`Books::count`] counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    Order,
    Refused,
    Rejected,
    Cancelled,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderNo;
    use crate::market::{Qty, TimeOfDay};

    fn t(code: &str) -> Ticker {
        Ticker::parse(code).unwrap()
    }

    fn fill(code: &str, side: Side, qty: u64, price: i64) -> Fill {
        Fill {
            ticker: t(code),
            side,
            price: Price::lit(price),
            qty: Qty::lit(qty),
            order_no: OrderNo(1),
            time: TimeOfDay::hms(9, 0, 0),
        }
    }

    const S: i64 = 1_000_000_000;

    #[test]
    fn a_win_and_a_loss_give_the_figures_a_trader_reads() {
        let fees = FeeSchedule {
            commission_ppm: 1_000,
            sell_tax_ppm: 2_000,
        };
        let mut b = Books::new(10_000_000, fees);
        b.start_day("2026-12-04");
        b.at(0);
        // Win: 10 × 10,000 → 10 × 10,500.
        b.fill(&fill("005930", Side::Buy, 10, 10_000), S);
        b.mark(t("005930"), Price::lit(9_800), 2 * S);
        b.fill(&fill("005930", Side::Sell, 10, 10_500), 3 * S);
        // Loss: 5 × 20,000 → 5 × 19,000.
        b.fill(&fill("000660", Side::Buy, 5, 20_000), 4 * S);
        b.fill(&fill("000660", Side::Sell, 5, 19_000), 5 * S);
        b.at(10 * S);
        let (r, rows, curve) = b.finish();
        // Commission 0.1% both ways, tax 0.2% on sells, each rounded down per fill.
        assert_eq!(r.commission, 100 + 105 + 100 + 95);
        assert_eq!(r.tax, 210 + 190);
        assert_eq!(r.realized_pnl, 5_000 - 5_000);
        assert_eq!(r.net_pnl, -(400 + 400));
        assert_eq!(r.closing_equity, 10_000_000 - 800);
        assert_eq!(r.trades, 2);
        assert_eq!(r.win_rate, 0.5);
        assert_eq!(r.avg_win, 5_000 - 100 - 105 - 210);
        assert_eq!(r.avg_loss, -(5_000 + 100 + 95 + 190));
        let (won, lost) = (4_585.0, 5_385.0);
        assert_eq!(r.profit_factor, won / lost);
        // The deepest fall: from the peak after the win (10,004,585) to the end; the mark
        // at 9,800 fell only 2,100 from the opening cash.
        assert_eq!(r.max_drawdown, 5_385);
        // Held from 1 s to 3 s and 4 s to 5 s, of a 10 s session.
        assert_eq!(r.exposure, 0.3);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[1].realized_pnl, 5_000);
        assert_eq!(r.per_ticker["005930"].wins, 1);
        assert_eq!(r.per_day["2026-12-04"].trades, 2);
        assert_eq!(r.per_day["2026-12-04"].net_pnl, r.net_pnl);
        assert_eq!(curve.last().unwrap().equity, r.closing_equity);
    }

    #[test]
    fn a_position_held_at_the_end_is_unrealized_at_its_last_trade() {
        let mut b = Books::new(1_000_000, FeeSchedule::default());
        b.start_day("2026-12-04");
        b.fill(&fill("005930", Side::Buy, 10, 10_000), S);
        b.mark(t("005930"), Price::lit(10_300), 2 * S);
        let (r, _, _) = b.finish();
        assert_eq!(r.unrealized_pnl, 3_000);
        assert_eq!(r.net_pnl, 3_000);
        assert_eq!(r.trades, 0);
        assert_eq!(r.win_rate, 0.0);
    }
}
