//! The built-in `vwap-band` strategy: after 편입, a candidate entry (the day's change at
//! least `min_change_bp`) is scored over every trade of the ticker condor has seen this
//! session — the volume-weighted average price and a least-squares trend over the last
//! `trend_trades` — in the Compute pool, and bought when the latest trade sits in a band
//! just above that VWAP while the trend rises. Exits as momentum's (take-profit,
//! stop-loss, time stop, flatten).
//!
//! Why the pool: the score reads the whole session, thousands to millions of trades, and
//! is asked again every `rescore_trades` trades while the answer is no; on the event loop
//! it would hold up every other ticker's ticks.
//!
//! Owns one ticker's session of trades and its entry decision. Must never hold actix
//! types, a clock or I/O; the job gets a snapshot of the trades (shared frozen chunks and a
//! copy of the short tail), never the live state.

use std::sync::Arc;

use super::holding::{
    entry_order, entry_slippage, ExitRules, Holding, OrderEnd, ENTRY_SLIPPAGE_SPEC, EXIT_SPECS,
};
use super::params::{InvalidParam, ParamSpec, Params};
use super::{ComputeJob, JobAnswer, Signal, Strategy, StrategyFactory};
use crate::domain::{Fill, Tick};
use crate::market::{Qty, Side, Ticker, TimeOfDay};

const LOG: &str = "condor::strategy";

/// Trades per frozen chunk of the session: a job's snapshot copies at most this many.
const CHUNK: usize = 4_096;

/// One trade of the session, as the score reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTrade {
    pub price: i64,
    pub qty: u64,
}

/// The score of a session: what the job answers, as `[vwap, slope, trades]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionScore {
    /// Volume-weighted average price, in won (truncated).
    pub vwap: i64,
    /// Least-squares slope of price over the last trades, in won per 1,000 trades.
    pub slope_per_1000: i64,
    /// Trades scored.
    pub trades: i64,
}

impl SessionScore {
    /// Scores `trades` (in order): the VWAP over all, the trend over the last
    /// `trend_trades`. Integer arithmetic (i128), so a replay's answer is the live one.
    pub fn of<'a>(
        trades: impl Iterator<Item = &'a SessionTrade> + Clone,
        total: usize,
        trend_trades: usize,
    ) -> SessionScore {
        // Saturating: one trade's i64 × u64 fits an i128, but a day of trades at prices no
        // wire would pass could sum past it; a saturated score is refused by the band
        // check, a wrapped one would not be.
        let (mut value, mut volume) = (0i128, 0i128);
        for t in trades.clone() {
            value = value.saturating_add(i128::from(t.price) * i128::from(t.qty));
            volume = volume.saturating_add(i128::from(t.qty));
        }
        let vwap = if volume > 0 { value / volume } else { 0 };
        let n = trend_trades.min(total);
        let (mut sx, mut sy, mut sxy, mut sxx) = (0i128, 0i128, 0i128, 0i128);
        for (x, t) in trades.skip(total - n).enumerate() {
            let (x, y) = (x as i128, i128::from(t.price));
            sx = sx.saturating_add(x);
            sy = sy.saturating_add(y);
            sxy = sxy.saturating_add(x.saturating_mul(y));
            sxx = sxx.saturating_add(x.saturating_mul(x));
        }
        let n = n as i128;
        let denominator = n.saturating_mul(sxx).saturating_sub(sx.saturating_mul(sx));
        let slope = if denominator > 0 {
            n.saturating_mul(sxy)
                .saturating_sub(sx.saturating_mul(sy))
                .saturating_mul(1_000)
                / denominator
        } else {
            0
        };
        SessionScore {
            vwap: i64::try_from(vwap).unwrap_or(i64::MAX),
            slope_per_1000: i64::try_from(slope).unwrap_or(if slope > 0 {
                i64::MAX
            } else {
                i64::MIN
            }),
            trades: total as i64,
        }
    }

    pub fn to_output(self) -> Vec<i64> {
        vec![self.vwap, self.slope_per_1000, self.trades]
    }

    pub fn from_output(v: &[i64]) -> Option<SessionScore> {
        match *v {
            [vwap, slope_per_1000, trades] => Some(SessionScore {
                vwap,
                slope_per_1000,
                trades,
            }),
            _ => None,
        }
    }
}

/// `vwap-band`'s parameters; see [`VwapBandParams::SPECS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VwapBandParams {
    pub budget_won: i64,
    pub entry_cutoff: TimeOfDay,
    pub min_change_bp: i64,
    pub min_trades: u32,
    pub band_bp: i64,
    pub trend_trades: u32,
    pub rescore_trades: u32,
    pub entry_slippage_ticks: Option<u32>,
    pub exits: ExitRules,
}

impl VwapBandParams {
    pub const SPECS: &'static [ParamSpec] = &[
        ParamSpec::int(
            "min_change_bp",
            -3_000,
            3_000,
            100,
            "least rise from the previous close for a trade to be a candidate entry, in bp",
        ),
        ParamSpec::int(
            "min_trades",
            10,
            10_000_000,
            300,
            "session trades seen before a candidate is scored",
        ),
        ParamSpec::int(
            "band_bp",
            1,
            3_000,
            150,
            "buy only at or above the session VWAP and at most this far above it, in bp",
        ),
        ParamSpec::int(
            "trend_trades",
            10,
            10_000_000,
            1_000,
            "last trades the trend is fitted over (least squares); it must rise",
        ),
        ParamSpec::int(
            "rescore_trades",
            1,
            1_000_000,
            50,
            "after a score says no, trades to wait before scoring again",
        ),
        ENTRY_SLIPPAGE_SPEC,
        EXIT_SPECS[0],
        EXIT_SPECS[1],
        EXIT_SPECS[2],
    ];

    pub fn from_params(p: &Params) -> Result<VwapBandParams, InvalidParam> {
        p.check_common()?;
        Ok(VwapBandParams {
            budget_won: p.int("budget_won"),
            entry_cutoff: p.time("entry_cutoff"),
            min_change_bp: p.int("min_change_bp"),
            min_trades: p.uint("min_trades"),
            band_bp: p.int("band_bp"),
            trend_trades: p.uint("trend_trades"),
            rescore_trades: p.uint("rescore_trades"),
            entry_slippage_ticks: entry_slippage(p),
            exits: ExitRules::from_params(p),
        })
    }
}

impl Default for VwapBandParams {
    fn default() -> Self {
        VwapBandParams::from_params(&Params::new(VwapBandParams::SPECS))
            .expect("vwap-band's defaults pass its checks")
    }
}

/// Builds [`VwapBandStrategy`] instances.
#[derive(Clone, Copy, Debug)]
pub struct VwapBandFactory {
    pub params: VwapBandParams,
}

impl StrategyFactory for VwapBandFactory {
    fn name(&self) -> &'static str {
        VwapBandStrategy::NAME
    }

    fn build(&self, ticker: Ticker) -> Box<dyn Strategy> {
        Box::new(VwapBandStrategy::new(ticker, self.params))
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct VwapBandStrategy {
    ticker: Ticker,
    params: VwapBandParams,
    in_condition: bool,
    /// May enter (set by 편입, spent by an entry, cleared by 이탈 and a flat exit).
    armed: bool,
    /// The session's trades: frozen chunks shared with running jobs, and the tail.
    chunks: Vec<Arc<[SessionTrade]>>,
    tail: Vec<SessionTrade>,
    last: Option<Tick>,
    /// A job asked for and not yet taken by the driver.
    job: Option<ComputeJob>,
    /// A job is out: no second one until it answers.
    scoring: bool,
    /// No new score before the session has this many trades.
    rescore_at: usize,
    holding: Holding,
}

impl VwapBandStrategy {
    pub const NAME: &'static str = "vwap-band";
    pub const REASON_ENTRY: &'static str = "entry: vwap band";

    pub fn new(ticker: Ticker, params: VwapBandParams) -> VwapBandStrategy {
        VwapBandStrategy {
            ticker,
            params,
            in_condition: false,
            armed: false,
            chunks: Vec::new(),
            tail: Vec::with_capacity(CHUNK),
            last: None,
            job: None,
            scoring: false,
            rescore_at: 0,
            holding: Holding::new(ticker),
        }
    }

    /// Trades in the session so far.
    pub fn trades(&self) -> usize {
        self.chunks.len() * CHUNK + self.tail.len()
    }

    fn may_enter(&self, now: TimeOfDay) -> bool {
        self.in_condition
            && self.armed
            && self
                .holding
                .may_enter(now, self.params.entry_cutoff, &self.params.exits)
    }

    /// The scoring job over a snapshot of the session.
    fn score_job(&self) -> ComputeJob {
        let chunks = self.chunks.clone();
        let tail = self.tail.clone();
        let total = self.trades();
        let trend = self.params.trend_trades as usize;
        ComputeJob::new(move || {
            let all = chunks.iter().flat_map(|c| c.iter()).chain(tail.iter());
            SessionScore::of(all, total, trend).to_output()
        })
    }

    fn record(&mut self, tick: &Tick) {
        self.tail.push(SessionTrade {
            price: tick.price.won(),
            qty: tick.qty.shares(),
        });
        if self.tail.len() == CHUNK {
            let full = std::mem::replace(&mut self.tail, Vec::with_capacity(CHUNK));
            self.chunks.push(full.into());
        }
    }
}

impl Strategy for VwapBandStrategy {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn on_condition_enter(&mut self, _: TimeOfDay) {
        self.in_condition = true;
        self.armed = true;
    }

    fn on_condition_exit(&mut self, _: TimeOfDay) {
        self.in_condition = false;
        self.armed = false;
        // An answer still out is dropped by the desk; a new stay scores afresh.
        self.scoring = false;
        self.job = None;
    }

    fn on_tick(&mut self, tick: &Tick, out: &mut Vec<Signal>) {
        if tick.ticker != self.ticker || tick.price.won() <= 0 {
            return;
        }
        self.record(tick);
        self.last = Some(*tick);
        let now = tick.exchange_time;
        if let Some(reason) = self
            .holding
            .exit_reason(now, Some(tick.price), &self.params.exits)
        {
            self.holding.exit(reason, out);
            return;
        }
        let trades = self.trades();
        if self.scoring
            || !self.may_enter(now)
            || trades < self.params.min_trades as usize
            || trades < self.rescore_at
            || tick.change_bp() < self.params.min_change_bp
        {
            return;
        }
        log::debug!(target: LOG, "{} scoring {trades} trades (tick #{})", self.ticker, tick.seq);
        self.scoring = true;
        self.job = Some(self.score_job());
    }

    fn take_job(&mut self) -> Option<ComputeJob> {
        self.job.take()
    }

    fn on_job_done(&mut self, answer: &JobAnswer, out: &mut Vec<Signal>) {
        self.scoring = false;
        self.rescore_at = self.trades() + self.params.rescore_trades as usize;
        let score = match &answer.output {
            Ok(v) => SessionScore::from_output(v),
            Err(e) => {
                log::warn!(target: LOG, "{} score of tick #{} failed: {e}", self.ticker, answer.asked_on);
                return;
            }
        };
        let (Some(score), Some(last)) = (score, self.last) else {
            return;
        };
        if !self.may_enter(last.exchange_time) {
            return;
        }
        // Decided on the latest trade seen, which may be later than the one that asked.
        let price = i128::from(last.price.won());
        let vwap = i128::from(score.vwap);
        let top =
            vwap.saturating_add(vwap.saturating_mul(i128::from(self.params.band_bp)) / 10_000);
        let in_band = vwap > 0 && price >= vwap && price <= top;
        log::debug!(
            target: LOG,
            "{} score of tick #{}: vwap {} slope {}/1000 over {} trades; last {} {}",
            self.ticker,
            answer.asked_on,
            score.vwap,
            score.slope_per_1000,
            score.trades,
            last.price,
            if in_band { "in the band" } else { "outside the band" }
        );
        if !in_band || score.slope_per_1000 <= 0 {
            return;
        }
        let entry = entry_order(
            &last,
            self.params.budget_won,
            self.params.entry_slippage_ticks,
        );
        if let Some((qty, order_type)) = entry {
            log::info!(
                target: LOG,
                "{} {}: buy {qty} {order_type:?} (last {}, vwap {}, slope {}/1000)",
                self.ticker,
                Self::REASON_ENTRY,
                last.price,
                score.vwap,
                score.slope_per_1000
            );
            self.armed = false;
            self.holding.entering();
            out.push(Signal::Buy {
                qty,
                order_type,
                reason: Self::REASON_ENTRY,
            });
        }
    }

    fn on_timer(&mut self, now: TimeOfDay, out: &mut Vec<Signal>) {
        if let Some(reason) = self.holding.exit_reason(now, None, &self.params.exits) {
            self.holding.exit(reason, out);
        }
    }

    fn on_fill(&mut self, fill: &Fill) {
        if fill.ticker == self.ticker && self.holding.on_fill(fill) {
            // Re-entry only after a new condition enter.
            self.armed = false;
        }
    }

    fn on_order_done(&mut self, side: Side, filled: Qty, rejected: bool) {
        if self.holding.on_order_done(side, filled, rejected) == OrderEnd::EntryCameToNothing {
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
    use std::time::Instant;

    use super::*;
    use crate::domain::OrderType;
    use crate::market::Price;

    fn t() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    #[test]
    fn a_score_of_trades_past_any_printable_price_saturates() {
        let huge = vec![
            SessionTrade {
                price: i64::MAX,
                qty: u64::MAX,
            };
            64
        ];
        let s = SessionScore::of(huge.iter(), huge.len(), 64);
        assert!(s.vwap > 0, "{s:?}");
        let mut rising: Vec<SessionTrade> = (0..64)
            .map(|i| SessionTrade {
                price: i64::MAX - 64 + i,
                qty: u64::MAX,
            })
            .collect();
        rising.push(SessionTrade { price: 1, qty: 1 });
        let s = SessionScore::of(rising.iter(), rising.len(), 65);
        assert!(s.vwap > 0 && s.trades == 65, "{s:?}");
    }

    fn params() -> VwapBandParams {
        VwapBandParams {
            min_trades: 20,
            trend_trades: 10,
            rescore_trades: 5,
            min_change_bp: 0,
            ..VwapBandParams::default()
        }
    }

    fn tick(seq: u64, price: i64, qty: u64) -> Tick {
        Tick {
            ticker: t(),
            price: Price::lit(price),
            qty: Qty::lit(qty),
            cum_volume: seq * qty,
            prev_close: Price::lit(10_000),
            aggressor: Side::Buy,
            exchange_time: TimeOfDay::hms(9, 30, 0),
            received_at: Instant::now(),
            seq,
        }
    }

    /// Feeds `prices` (seq from `first`); returns the jobs asked, run inline, with their
    /// asking seq.
    fn feed(s: &mut VwapBandStrategy, first: u64, prices: &[i64]) -> Vec<(u64, ComputeJob)> {
        let mut jobs = Vec::new();
        let mut out = Vec::new();
        for (i, p) in prices.iter().enumerate() {
            let seq = first + i as u64;
            s.on_tick(&tick(seq, *p, 10), &mut out);
            if let Some(j) = s.take_job() {
                jobs.push((seq, j));
            }
        }
        assert!(out.is_empty());
        jobs
    }

    #[test]
    fn the_score_is_the_vwap_and_the_trend_in_integers() {
        let trades: Vec<SessionTrade> = [(10_000, 10), (10_100, 30), (10_200, 10)]
            .iter()
            .map(|&(price, qty)| SessionTrade { price, qty })
            .collect();
        let s = SessionScore::of(trades.iter(), 3, 3);
        assert_eq!(s.vwap, (10_000 * 10 + 10_100 * 30 + 10_200 * 10) / 50);
        assert_eq!(s.slope_per_1000, 100_000, "100 won a trade");
        assert_eq!(s.trades, 3);
        assert_eq!(SessionScore::from_output(&s.to_output()), Some(s));
        // The trend reads only the last trades: falling there is a negative slope.
        let s = SessionScore::of(trades.iter().rev(), 3, 2);
        assert!(s.slope_per_1000 < 0);
        let empty: [SessionTrade; 0] = [];
        assert_eq!(SessionScore::of(empty.iter(), 0, 10).vwap, 0);
    }

    #[test]
    fn a_candidate_is_scored_off_the_loop_and_bought_in_the_band_on_a_rising_trend() {
        let mut s = VwapBandStrategy::new(t(), params());
        s.on_condition_enter(TimeOfDay::hms(9, 0, 0));
        // 19 trades: too few to score.
        let prices: Vec<i64> = (0..19).map(|i| 10_000 + i * 5).collect();
        assert!(feed(&mut s, 1, &prices).is_empty());
        // The 20th asks for one job, and no second while it is out.
        let jobs = feed(&mut s, 20, &[10_100, 10_105, 10_110]);
        assert_eq!(jobs.len(), 1);
        let (asked_on, job) = jobs.into_iter().next().unwrap();
        assert_eq!(asked_on, 20);
        let output = job.run();
        let score = SessionScore::from_output(output.as_ref().unwrap()).unwrap();
        assert_eq!(
            score.trades, 20,
            "the snapshot is the session when it asked"
        );
        assert!(score.slope_per_1000 > 0);
        let mut out = Vec::new();
        s.on_job_done(&JobAnswer { asked_on, output }, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        let Signal::Buy {
            qty,
            order_type,
            reason,
        } = out[0]
        else {
            panic!("{out:?}")
        };
        assert_eq!(reason, VwapBandStrategy::REASON_ENTRY);
        // Decided on the latest trade (10,110), a limit one grid tick above it.
        assert_eq!(order_type, OrderType::Limit(Price::lit(10_120)));
        assert_eq!(qty, Qty::lit(1_000_000 / 10_120));
        assert!(s.has_working_order());
    }

    #[test]
    fn above_the_band_it_waits_and_scores_again_later() {
        let mut s = VwapBandStrategy::new(t(), params());
        s.on_condition_enter(TimeOfDay::hms(9, 0, 0));
        let mut prices: Vec<i64> = vec![10_000; 19];
        prices.push(11_000); // 20th: far above the VWAP
        let jobs = feed(&mut s, 1, &prices);
        let (asked_on, job) = jobs.into_iter().next().unwrap();
        let mut out = Vec::new();
        s.on_job_done(
            &JobAnswer {
                asked_on,
                output: job.run(),
            },
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        // rescore_trades = 5: four more trades ask nothing, the fifth asks again.
        assert!(feed(&mut s, 21, &[11_000; 4]).is_empty());
        assert_eq!(feed(&mut s, 25, &[11_000]).len(), 1);
    }

    #[test]
    fn a_failed_score_or_a_stay_that_ended_buys_nothing() {
        let mut s = VwapBandStrategy::new(t(), params());
        s.on_condition_enter(TimeOfDay::hms(9, 0, 0));
        let prices: Vec<i64> = (0..20).map(|i| 10_000 + i * 5).collect();
        let (asked_on, job) = feed(&mut s, 1, &prices).into_iter().next().unwrap();
        let mut out = Vec::new();
        s.on_job_done(
            &JobAnswer {
                asked_on,
                output: Err("panicked".into()),
            },
            &mut out,
        );
        assert!(out.is_empty());
        // Out of the condition, even a good answer buys nothing.
        s.on_condition_exit(TimeOfDay::hms(9, 1, 0));
        s.on_job_done(
            &JobAnswer {
                asked_on,
                output: job.run(),
            },
            &mut out,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn the_session_is_kept_in_frozen_chunks_and_a_snapshot_sees_them_all() {
        let mut s = VwapBandStrategy::new(
            t(),
            VwapBandParams {
                min_trades: 10_000,
                ..params()
            },
        );
        s.on_condition_enter(TimeOfDay::hms(9, 0, 0));
        let prices: Vec<i64> = (0..10_000).map(|i| 10_000 + (i % 7)).collect();
        let jobs = feed(&mut s, 1, &prices);
        assert_eq!(s.chunks.len(), 10_000 / CHUNK);
        let (_, job) = jobs.into_iter().next().unwrap();
        let score = SessionScore::from_output(&job.run().unwrap()).unwrap();
        assert_eq!(score.trades, 10_000);
        let sum: i64 = prices.iter().sum();
        assert_eq!(score.vwap, sum / 10_000, "equal sizes: the plain mean");
    }
}
