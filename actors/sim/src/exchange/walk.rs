//! The price process: per-ticker running state ([`Quote`]) and a seeded random walk on
//! the KRX tick grid that never leaves the day's limits, plus the Poisson arrival clock.
//!
//! Owns how prices and sizes are drawn. Must never produce an off-grid price or one
//! outside the band (every step goes through `tick_up`/`tick_down` and the band clamp),
//! never allocate per trade, and never read a clock: time is always handed in.
//!
//! Shape of a day: each ticker follows an "anchor" that moves linearly over segments of
//! 240–480 trades (2–4 minutes at 2 trades/s). The first segment carries the ticker's
//! day drift, drawn from the seed: about 40% of tickers are "movers" with ±2.5–6%, so a
//! few minutes in, several tickers are ±2% and the momentum condition has something to
//! find. Later segments wander ±2% with a pull back toward the previous close beyond
//! ±15%. The price is pulled toward the anchor (about 2% of the gap, in ticks, per trade)
//! and otherwise moves 0 (55%), 1 (35%) or 2 (10%) ticks per trade. Trade sizes are
//! skewed small (half are 1–10 shares) and grow up to 3× during a trending segment, so
//! volume rises while a stock runs, as it does on a real tape.
//!
//! A morning ([`open_gaps`]): a few tickers, chosen by the seed, gap up overnight. Their
//! first print of the day is the opening auction, 3–9% above the previous close and
//! 500–2,500 shares; from there the first segment drifts anywhere from half the gap back
//! (a fade) to half the gap further (gap and go), with sizes growing as in any trending
//! segment, and later segments wander like everyone else's. The gaps draw from their own
//! RNG stream, so the rest of the market opens exactly as it would without them (until a
//! gapped ticker's first segment ends, minutes in, and the shared stream moves on apart).

use condor_model::market::{
    round_to_grid, tick_down, tick_size, tick_up, DailyLimits, Market, Price, Qty, Rounding, Side,
    TimeOfDay,
};

use super::events::{chg_rate_bp, sign_code, TradeEvent};
use super::universe::Listing;

/// The running state of one ticker (t1102's dynamic fields). Before the first trade,
/// `price` is the previous close and open/high/low are 0, as t1102 shows before the open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub ticker: condor_model::market::Ticker,
    pub market: Market,
    pub prev_close: Price,
    pub limits: DailyLimits,
    pub prev_day_volume: u64,
    pub price: Price,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub open_time: TimeOfDay,
    pub high_time: TimeOfDay,
    pub low_time: TimeOfDay,
    pub volume: u64,
    /// Cumulative traded value in won.
    pub value: i64,
    pub sell_volume: u64,
    pub sell_count: u64,
    pub buy_volume: u64,
    pub buy_count: u64,
    /// value / volume (integer won); the previous close before the first trade.
    pub vwap: Price,
    pub best_ask: Price,
    pub best_bid: Price,
    pub last_qty: Qty,
    pub last_aggressor: Side,
    pub last_time: TimeOfDay,
    pub last_ms: u16,
    /// Trades printed today.
    pub trades: u64,
}

impl Quote {
    pub fn new(l: &Listing) -> Quote {
        let p = l.prev_close;
        Quote {
            ticker: l.ticker,
            market: l.market,
            prev_close: p,
            limits: l.limits,
            prev_day_volume: l.prev_day_volume,
            price: p,
            open: Price::lit(0),
            high: Price::lit(0),
            low: Price::lit(0),
            open_time: TimeOfDay::default(),
            high_time: TimeOfDay::default(),
            low_time: TimeOfDay::default(),
            volume: 0,
            value: 0,
            sell_volume: 0,
            sell_count: 0,
            buy_volume: 0,
            buy_count: 0,
            vwap: p,
            best_ask: ask_of(p, &l.limits),
            best_bid: bid_of(p, &l.limits),
            last_qty: Qty::lit(0),
            last_aggressor: Side::Buy,
            last_time: TimeOfDay::default(),
            last_ms: 0,
            trades: 0,
        }
    }

    /// A new day: the last price becomes the previous close (and sets the day's limits),
    /// the day's volume the previous day's, and the day's figures start again.
    pub(super) fn roll_day(&mut self) {
        let close = self.price;
        let limits = DailyLimits::from_base(close);
        *self = Quote {
            prev_close: close,
            limits,
            prev_day_volume: self.volume,
            price: close,
            open: Price::lit(0),
            high: Price::lit(0),
            low: Price::lit(0),
            open_time: TimeOfDay::default(),
            high_time: TimeOfDay::default(),
            low_time: TimeOfDay::default(),
            volume: 0,
            value: 0,
            sell_volume: 0,
            sell_count: 0,
            buy_volume: 0,
            buy_count: 0,
            vwap: close,
            best_ask: ask_of(close, &limits),
            best_bid: bid_of(close, &limits),
            last_qty: Qty::lit(0),
            last_aggressor: Side::Buy,
            last_time: TimeOfDay::default(),
            last_ms: 0,
            trades: 0,
            ..*self
        };
    }

    /// Signed change from the previous close.
    pub fn change(&self) -> i64 {
        self.price.won() - self.prev_close.won()
    }

    /// LS `sign` (1 upper limit, 2 up, 3 flat, 4 lower limit, 5 down).
    pub fn sign(&self) -> &'static str {
        sign_code(
            self.price,
            self.prev_close,
            self.limits.upper,
            self.limits.lower,
        )
    }

    pub fn chg_rate_bp(&self) -> i64 {
        chg_rate_bp(self.price, self.prev_close)
    }

    /// Applies one print and returns its snapshot. Hot path: no allocation, one division
    /// (the VWAP).
    #[inline]
    pub(super) fn record(
        &mut self,
        seq: u64,
        price: Price,
        qty: u64,
        aggressor: Side,
        time: TimeOfDay,
        ms: u16,
    ) -> TradeEvent {
        if self.trades == 0 {
            self.open = price;
            self.high = price;
            self.low = price;
            self.open_time = time;
            self.high_time = time;
            self.low_time = time;
        } else if price > self.high {
            self.high = price;
            self.high_time = time;
        } else if price < self.low {
            self.low = price;
            self.low_time = time;
        }
        self.trades += 1;
        self.price = price;
        self.volume = self.volume.saturating_add(qty);
        self.value = self
            .value
            .saturating_add(price.won().saturating_mul(qty as i64));
        match aggressor {
            Side::Buy => {
                self.buy_volume = self.buy_volume.saturating_add(qty);
                self.buy_count += 1;
            }
            Side::Sell => {
                self.sell_volume = self.sell_volume.saturating_add(qty);
                self.sell_count += 1;
            }
        }
        if self.volume > 0 {
            self.vwap = super::price_of(self.value / self.volume as i64);
        }
        self.best_ask = ask_of(price, &self.limits);
        self.best_bid = bid_of(price, &self.limits);
        self.last_qty = super::qty_of(qty);
        self.last_aggressor = aggressor;
        self.last_time = time;
        self.last_ms = ms;
        TradeEvent {
            seq,
            ticker: self.ticker,
            market: self.market,
            time,
            ms,
            price,
            qty: self.last_qty,
            aggressor,
            prev_close: self.prev_close,
            upper_limit: self.limits.upper,
            lower_limit: self.limits.lower,
            open: self.open,
            high: self.high,
            low: self.low,
            open_time: self.open_time,
            high_time: self.high_time,
            low_time: self.low_time,
            volume: self.volume,
            value: self.value,
            sell_volume: self.sell_volume,
            sell_count: self.sell_count,
            buy_volume: self.buy_volume,
            buy_count: self.buy_count,
            vwap: self.vwap,
            best_ask: self.best_ask,
            best_bid: self.best_bid,
            prev_day_volume: self.prev_day_volume,
        }
    }
}

/// A tick above, or 0 when that is beyond the upper limit (no offers above the band).
fn ask_of(p: Price, l: &DailyLimits) -> Price {
    match tick_up(p) {
        Some(a) if a <= l.upper => a,
        _ => Price::ZERO,
    }
}

/// A tick below, or 0 when that is beyond the lower limit.
fn bid_of(p: Price, l: &DailyLimits) -> Price {
    let b = tick_down(p);
    if b < l.lower || b == p {
        Price::lit(0)
    } else {
        b
    }
}

/// One ticker's walk state. The per-trade path is division-free: the anchor and the
/// size ramp advance by fixed-point reciprocals computed once per segment.
#[derive(Clone, Debug)]
pub(super) struct Walk {
    prev_close: i64,
    anchor_from: i64,
    anchor_to: i64,
    seg_len: u32,
    seg_pos: u32,
    /// 2^32 / seg_len.
    inv_len_q32: i64,
    /// Sizes grow during a segment that moves the anchor ≥ 2%.
    trending: bool,
    /// The opening auction's price for a gapped ticker, until its first print; 0 = none.
    opening: i64,
}

/// Cumulative 16-bit thresholds for a step of 0 / 1 tick (else 2).
const STEP0: u64 = 36_045; // 55%
const STEP1: u64 = 58_982; // 90%
/// Pull toward the anchor: up-probability shift per tick of gap, in 1/65536.
const PULL_PER_TICK: i64 = 1_200;
const MAX_TILT: i64 = 20_000;

/// 2^32 / tick for the band of `price` (approximate for ticks that do not divide 2^32;
/// it only scales the pull, never a price).
#[inline]
fn inv_tick_q32(price: Price) -> i64 {
    match tick_size(price) {
        1 => 1 << 32,
        5 => 858_993_459,
        10 => 429_496_729,
        50 => 85_899_345,
        100 => 42_949_672,
        500 => 8_589_934,
        _ => 4_294_967,
    }
}

impl Walk {
    /// Draws the ticker's day drift from the seeded RNG.
    pub(super) fn new(rng: &mut fastrand::Rng, prev_close: Price) -> Walk {
        let drift_bp = if rng.u32(0..100) < 40 {
            let m = rng.i64(250..=600);
            if rng.bool() {
                m
            } else {
                -m
            }
        } else {
            rng.i64(-120..=120)
        };
        let mut w = Walk {
            prev_close: prev_close.won().max(1),
            anchor_from: prev_close.won(),
            anchor_to: prev_close.won(),
            seg_len: 1,
            seg_pos: 0,
            inv_len_q32: 1 << 32,
            trending: false,
            opening: 0,
        };
        w.start_segment(rng, prev_close.won(), drift_bp);
        w
    }

    /// Turns this ticker's day into a gap up of `gap_bp`: the first print is the opening
    /// auction at the gap price (on the grid, inside the band) and the first segment starts
    /// there, drifting up to half the gap either way. Draws only from `rng` (the gaps'
    /// own stream). Returns the opening price.
    pub(super) fn gap_up(
        &mut self,
        rng: &mut fastrand::Rng,
        gap_bp: i64,
        limits: &DailyLimits,
    ) -> Price {
        let raw = i128::from(self.prev_close) * i128::from(10_000 + gap_bp) / 10_000;
        let open = limits.clamp(round_to_grid(super::price_of(raw as i64), Rounding::Down));
        let half = gap_bp / 2;
        let drift_bp = rng.i64(-half..=half);
        self.start_segment(rng, open.won(), drift_bp);
        // Opening-minute volume builds whatever the direction.
        self.trending = true;
        self.opening = open.won();
        open
    }

    fn start_segment(&mut self, rng: &mut fastrand::Rng, from: i64, d_bp: i64) {
        let lo = self.prev_close * 78 / 100;
        let hi = self.prev_close * 122 / 100;
        self.anchor_from = from;
        self.anchor_to = (i128::from(from) * i128::from(10_000 + d_bp) / 10_000) as i64;
        self.anchor_to = self.anchor_to.clamp(lo.max(1), hi.max(1));
        self.set_len(rng.u32(240..=480));
        self.trending = d_bp.abs() >= 200;
    }

    fn set_len(&mut self, len: u32) {
        self.seg_len = len.max(1);
        self.seg_pos = 0;
        self.inv_len_q32 = (1i64 << 32) / i64::from(self.seg_len);
    }

    fn next_segment(&mut self, rng: &mut fastrand::Rng) {
        let from = self.anchor_to;
        let away_bp = (from - self.prev_close) * 10_000 / self.prev_close;
        let mut d_bp = rng.i64(-200..=200);
        if away_bp.abs() > 1_500 {
            d_bp -= away_bp / 3;
        }
        self.start_segment(rng, from, d_bp);
    }

    /// Progress through the segment, 0..2^16.
    #[inline]
    fn progress_q16(&self) -> i64 {
        (i64::from(self.seg_pos) * self.inv_len_q32) >> 16
    }

    /// The anchor at the current position in the segment (linear, fixed point).
    #[inline]
    fn anchor(&self) -> i64 {
        let span = self.anchor_to - self.anchor_from;
        // |span| < 2^22 won and progress < 2^16: the product fits easily.
        self.anchor_from + ((span * self.progress_q16()) >> 16)
    }

    /// Draws the next print: price on the grid inside `limits`, size ≥ 1, aggressor.
    /// `r` supplies all the randomness of an ordinary step (one RNG call per trade);
    /// `rng` is only touched at a segment boundary.
    #[inline]
    pub(super) fn step(
        &mut self,
        rng: &mut fastrand::Rng,
        r: u64,
        price: Price,
        limits: &DailyLimits,
    ) -> (Price, u64, Side) {
        if self.opening != 0 {
            // The opening auction: one large print at the gap price, bought (the gap is
            // overnight demand). `r` is still the only draw, as for any print.
            let p = super::price_of(self.opening);
            self.opening = 0;
            return (p, 500 + ((((r >> 48) & 0x7FFF) * 2_001) >> 15), Side::Buy);
        }
        // Gap to the anchor in ticks (≈, via the reciprocal), then the up-probability tilt.
        let gap_ticks = ((self.anchor() - price.won()) * inv_tick_q32(price)) >> 32;
        let tilt = (gap_ticks * PULL_PER_TICK).clamp(-MAX_TILT, MAX_TILT);
        let mag = match r & 0xFFFF {
            x if x < STEP0 => 0,
            x if x < STEP1 => 1,
            _ => 2,
        };
        let up = (((r >> 16) & 0xFFFF) as i64) < 32_768 + tilt;
        let mut p = price;
        for _ in 0..mag {
            // No step above the highest price: the band's upper limit holds it.
            let next = if up {
                tick_up(p).unwrap_or(limits.upper)
            } else {
                tick_down(p)
            };
            // The band edges are on the grid, so clamping keeps p on the grid.
            p = limits.clamp(next);
        }
        let aggressor = if mag > 0 {
            if up {
                Side::Buy
            } else {
                Side::Sell
            }
        } else if r >> 63 == 1 {
            Side::Buy
        } else {
            Side::Sell
        };
        let (lo, span) = match (r >> 32) & 0xFFFF {
            x if x < 32_768 => (1, 10),
            x if x < 52_429 => (11, 40),
            x if x < 62_259 => (51, 150),
            _ => (201, 300),
        };
        // Uniform in lo ..= lo + span − 1 by multiply-shift (no modulo).
        let base = lo + ((((r >> 48) & 0x7FFF) * span) >> 15);
        let qty = if self.trending {
            // Up to 3× by the end of the segment.
            base + ((base * 2 * self.progress_q16() as u64) >> 16)
        } else {
            base
        };
        self.seg_pos += 1;
        if self.seg_pos >= self.seg_len {
            self.next_segment(rng);
        }
        (p, qty.max(1), aggressor)
    }
}

/// Salt of the gaps' RNG stream (any constant would do; "gapups" in ASCII).
const GAP_SALT: u64 = 0x6761_7075_7073;

/// The morning's gap ups: `count` distinct tickers (at most every listing) drawn from
/// the seed, each gapping 300–900 bp (see the module docs). Returns (listing index,
/// opening price) in listing order.
pub(super) fn open_gaps(
    seed: u64,
    count: usize,
    walks: &mut [Walk],
    listings: &[Listing],
) -> Vec<(usize, Price)> {
    let mut rng = fastrand::Rng::with_seed(seed ^ GAP_SALT);
    let n = walks.len().min(listings.len());
    let mut picked = rng.choose_multiple(0..n, count.min(n));
    picked.sort_unstable();
    picked
        .into_iter()
        .map(|i| {
            let bp = rng.i64(300..=900);
            (i, walks[i].gap_up(&mut rng, bp, &listings[i].limits))
        })
        .collect()
}

/// Microseconds to the next arrival of a Poisson process of `rate` per second;
/// `u64::MAX` (never) for a non-positive or non-finite rate.
pub(super) fn exp_interarrival_us(rng: &mut fastrand::Rng, rate: f64) -> u64 {
    if !(rate.is_finite() && rate > 0.0) {
        return u64::MAX;
    }
    // 1 − u is in (0, 1], so the log is finite and ≤ 0.
    let u = rng.f64();
    let dt = -(1.0 - u).ln() / rate * 1e6;
    // `as` saturates; at least 1 µs so time always moves forward.
    (dt as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use condor_model::market::{is_on_grid, Ticker};

    fn listing(close: i64) -> Listing {
        let p = Price::lit(close);
        Listing {
            ticker: Ticker::parse("005930").unwrap(),
            name: "test",
            market: Market::Kospi,
            prev_close: p,
            limits: DailyLimits::from_base(p),
            isin: String::new(),
            prev_day_volume: 1,
        }
    }

    #[test]
    fn walk_stays_on_grid_and_inside_the_band_even_when_pushed_past_it() {
        // 2,390 has a lower limit below the 2,000 band edge; 199,900 straddles 200,000.
        for close in [2_390, 4_990, 19_990, 199_900, 1_012_000] {
            let l = listing(close);
            let mut rng = fastrand::Rng::with_seed(7);
            let mut w = Walk::new(&mut rng, l.prev_close);
            let mut q = Quote::new(&l);
            let (mut saw_upper, mut saw_lower) = (false, false);
            for i in 0..100_000u64 {
                // Force the anchor far beyond each edge in turn so the clamp is exercised.
                if i % 20_000 == 0 {
                    let far = if (i / 20_000) % 2 == 0 { close * 3 } else { 1 };
                    w.anchor_from = far;
                    w.anchor_to = far;
                    w.set_len(20_000);
                }
                let r = rng.u64(..);
                let (p, qty, side) = w.step(&mut rng, r, q.price, &l.limits);
                assert!(is_on_grid(p), "{close}: {p} off grid");
                assert!(l.limits.contains(p), "{close}: {p} outside {:?}", l.limits);
                assert!(qty >= 1);
                saw_upper |= p == l.limits.upper;
                saw_lower |= p == l.limits.lower;
                q.record(i + 1, p, qty, side, TimeOfDay::hms(9, 0, 0), 0);
            }
            assert!(saw_upper && saw_lower, "{close}: both limits reached");
            assert!(q.low >= l.limits.lower && q.high <= l.limits.upper);
        }
    }

    #[test]
    fn quote_tracks_ohlc_volume_value_and_vwap() {
        let l = listing(10_000);
        let mut q = Quote::new(&l);
        assert_eq!(
            (q.price, q.open, q.volume),
            (Price::lit(10_000), Price::lit(0), 0)
        );
        let t = |s| TimeOfDay::hms(9, 0, s);
        q.record(1, Price::lit(10_050), 10, Side::Buy, t(1), 0);
        q.record(2, Price::lit(9_990), 30, Side::Sell, t(2), 0);
        let e = q.record(3, Price::lit(10_010), 20, Side::Buy, t(3), 500);
        assert_eq!(
            (e.open, e.high, e.low),
            (Price::lit(10_050), Price::lit(10_050), Price::lit(9_990))
        );
        assert_eq!((e.open_time, e.high_time, e.low_time), (t(1), t(1), t(2)));
        assert_eq!(e.volume, 60);
        assert_eq!(e.value, 10_050 * 10 + 9_990 * 30 + 10_010 * 20);
        assert_eq!(e.vwap, Price::lit(e.value / 60));
        assert_eq!(
            (e.buy_volume, e.buy_count, e.sell_volume, e.sell_count),
            (30, 2, 30, 1)
        );
        assert_eq!(
            (e.best_ask, e.best_bid),
            (Price::lit(10_020), Price::lit(10_000))
        );
        assert_eq!((e.change(), e.sign(), e.chg_rate_bp()), (10, "2", 10));
        assert_eq!(e.cpower_x100(), 10_000);
    }

    #[test]
    fn sizes_cover_1_to_500_skewed_small() {
        let l = listing(10_000);
        let mut rng = fastrand::Rng::with_seed(3);
        let mut w = Walk::new(&mut rng, l.prev_close);
        w.set_len(1_000_000);
        w.trending = false;
        let mut sizes = Vec::new();
        for _ in 0..200_000 {
            let r = rng.u64(..);
            sizes.push(w.step(&mut rng, r, l.prev_close, &l.limits).1);
        }
        assert_eq!(sizes.iter().min(), Some(&1));
        assert_eq!(sizes.iter().max(), Some(&500));
        let small = sizes.iter().filter(|&&q| q <= 10).count();
        assert!(
            small * 100 / sizes.len() >= 45,
            "half the prints are 1-10 shares"
        );
    }

    #[test]
    fn reciprocal_ticks_match_the_tick_table() {
        for p in [1, 2_000, 5_000, 20_000, 50_000, 200_000, 500_000] {
            let t = tick_size(Price::lit(p));
            let approx = (t * 1_000 * inv_tick_q32(Price::lit(p))) >> 32;
            assert!((999..=1_000).contains(&approx), "{p}: {approx}");
        }
    }

    #[test]
    fn interarrival_is_positive_and_never_for_a_zero_rate() {
        let mut rng = fastrand::Rng::with_seed(1);
        assert_eq!(exp_interarrival_us(&mut rng, 0.0), u64::MAX);
        assert_eq!(exp_interarrival_us(&mut rng, f64::NAN), u64::MAX);
        let n = 20_000;
        let total: u64 = (0..n).map(|_| exp_interarrival_us(&mut rng, 2.0)).sum();
        let mean_ms = total / n / 1000;
        assert!((450..=550).contains(&mean_ms), "mean {mean_ms} ms at 2/s");
    }
}
