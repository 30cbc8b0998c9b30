//! VolumeSpikes: an actor that watches every tick and logs (target `condor::volume_spikes`)
//! each trade whose size is a spike against its ticker's recent average; the worked
//! example of adding an actor to condor. Everything else is `condor run` unchanged:
//!
//! ```sh
//! cargo run --release --example volume_spikes                      # the embedded exchange
//! cargo run --release --example volume_spikes -- --trades-per-sec 20   # a busier market
//! ```
//!
//! Owns the recent trade sizes of each ticker it has seen. Must never trade, block or
//! slow the engine: it only watches and logs (the Processor hands it ticks with `do_send`).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::process::ExitCode;

use actix::prelude::*;
use condor_actors::market::{Price, Qty, Ticker, TimeOfDay};
use condor_actors::messages::{Deliver, Tick};

const LOG: &str = "condor::volume_spikes";

fn main() -> ExitCode {
    condor::extend::main_with(|ext| {
        ext.watch_ticks(VolumeSpikes::default());
    })
}

/// What counts as a spike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpikeRule {
    /// The average is over this many of the ticker's most recent trades.
    pub window: usize,
    /// No spike is called before the ticker has traded this often: the average means
    /// little over a handful of trades.
    pub min_trades: usize,
    /// A trade at least this many times the average size is a spike.
    pub times: u64,
}

impl Default for SpikeRule {
    fn default() -> Self {
        SpikeRule {
            window: 50,
            min_trades: 20,
            times: 8,
        }
    }
}

/// One trade that was a spike, with what it was measured against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spike {
    pub ticker: Ticker,
    pub qty: Qty,
    pub price: Price,
    pub time: TimeOfDay,
    /// Trades the average was over.
    pub trades: usize,
    /// Their total size in shares.
    pub shares: u64,
}

impl Spike {
    /// The trade's size over the average, in tenths (83 = 8.3×), rounded down.
    pub fn times_tenths(&self) -> u64 {
        let t = u128::from(self.qty.shares()) * 10 * self.trades as u128
            / u128::from(self.shares.max(1));
        u64::try_from(t).unwrap_or(u64::MAX)
    }

    /// The average trade size, in tenths of a share, rounded down.
    pub fn average_tenths(&self) -> u64 {
        let t = u128::from(self.shares) * 10 / self.trades.max(1) as u128;
        u64::try_from(t).unwrap_or(u64::MAX)
    }
}

impl fmt::Display for Spike {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (x, avg) = (self.times_tenths(), self.average_tenths());
        write!(
            f,
            "{} volume spike at {}: {} shares at {} won, {}.{}x the average {}.{} of its last {} trades",
            self.ticker,
            self.time,
            self.qty,
            self.price,
            x / 10,
            x % 10,
            avg / 10,
            avg % 10,
            self.trades
        )
    }
}

/// The recent trade sizes of one ticker.
#[derive(Debug, Default)]
struct Recent {
    sizes: VecDeque<u64>,
    /// The sum of `sizes`.
    shares: u64,
}

/// Decides, trade by trade, which are spikes: a trade is measured against the ticker's
/// previous trades (itself excluded), then joins them.
#[derive(Debug, Default)]
pub struct SpikeDetector {
    rule: SpikeRule,
    recent: HashMap<Ticker, Recent>,
}

impl SpikeDetector {
    pub fn new(rule: SpikeRule) -> SpikeDetector {
        SpikeDetector {
            rule,
            recent: HashMap::new(),
        }
    }

    /// The trade, if it is a spike.
    pub fn on_trade(&mut self, tick: &Tick) -> Option<Spike> {
        let rule = self.rule;
        let r = self.recent.entry(tick.ticker).or_default();
        let trades = r.sizes.len();
        // qty ≥ times × (shares / trades), without division; a history of zero-size trades
        // has no average to be a multiple of.
        let spike = trades >= rule.min_trades.max(1)
            && r.shares > 0
            && u128::from(tick.qty.shares()) * trades as u128
                >= u128::from(rule.times) * u128::from(r.shares);
        let found = spike.then_some(Spike {
            ticker: tick.ticker,
            qty: tick.qty,
            price: tick.price,
            time: tick.exchange_time,
            trades,
            shares: r.shares,
        });
        r.sizes.push_back(tick.qty.shares());
        r.shares = r.shares.saturating_add(tick.qty.shares());
        while r.sizes.len() > rule.window.max(1) {
            let old = r.sizes.pop_front().unwrap_or(0);
            r.shares -= old;
        }
        found
    }
}

/// The actor: the detector behind a mailbox, logging what it finds.
#[derive(Default)]
pub struct VolumeSpikes {
    detector: SpikeDetector,
    spikes: u64,
}

impl Actor for VolumeSpikes {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        let r = self.detector.rule;
        log::info!(
            target: LOG,
            "watching every tick: a trade of {}x the average of a ticker's last {} trades is a spike (after {} trades)",
            r.times,
            r.window,
            r.min_trades
        );
    }
}

impl Handler<Deliver<Tick>> for VolumeSpikes {
    type Result = ();

    fn handle(&mut self, Deliver(tick): Deliver<Tick>, _: &mut Context<Self>) {
        if let Some(spike) = self.detector.on_trade(&tick) {
            self.spikes += 1;
            log::info!(target: LOG, "{spike} (spike #{} today)", self.spikes);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use condor_actors::market::Side;

    use super::*;

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn trade(ticker: Ticker, qty: u64) -> Tick {
        Tick {
            ticker,
            price: Price::lit(71_200),
            qty: Qty::lit(qty),
            cum_volume: 0,
            prev_close: Price::lit(70_000),
            aggressor: Side::Buy,
            exchange_time: TimeOfDay::hms(9, 31, 5),
            received_at: Instant::now(),
            seq: 1,
        }
    }

    fn rule(window: usize, min_trades: usize, times: u64) -> SpikeDetector {
        SpikeDetector::new(SpikeRule {
            window,
            min_trades,
            times,
        })
    }

    /// Feeds sizes; the spikes found, as sizes.
    fn feed(d: &mut SpikeDetector, ticker: Ticker, sizes: &[u64]) -> Vec<u64> {
        sizes
            .iter()
            .filter_map(|&q| d.on_trade(&trade(ticker, q)))
            .map(|s| s.qty.shares())
            .collect()
    }

    #[test]
    fn a_spike_is_at_least_times_the_average_not_one_share_less() {
        let mut d = rule(10, 4, 5);
        // Average 10: 49 is not a spike, 50 is (and is itself excluded from its average).
        assert!(feed(&mut d, samsung(), &[10, 10, 10, 10, 49]).is_empty());
        let mut d = rule(10, 4, 5);
        feed(&mut d, samsung(), &[10, 10, 10, 10]);
        let s = d.on_trade(&trade(samsung(), 50)).expect("a spike");
        assert_eq!((s.trades, s.shares, s.qty), (4, 40, Qty::lit(50)));
        assert_eq!((s.times_tenths(), s.average_tenths()), (50, 100));
    }

    #[test]
    fn no_spike_before_enough_trades() {
        let mut d = rule(10, 4, 5);
        assert!(
            feed(&mut d, samsung(), &[1, 1, 1, 1000]).is_empty(),
            "3 trades"
        );
        assert_eq!(feed(&mut d, samsung(), &[5000]), [5000]);
    }

    #[test]
    fn tickers_are_measured_apart() {
        let hynix = Ticker::parse("000660").unwrap();
        let mut d = rule(10, 3, 5);
        feed(&mut d, samsung(), &[100, 100, 100]);
        feed(&mut d, hynix, &[1, 1, 1]);
        assert!(feed(&mut d, samsung(), &[10]).is_empty());
        assert_eq!(feed(&mut d, hynix, &[10]), [10]);
    }

    #[test]
    fn the_average_is_over_the_last_window_of_trades_only() {
        let mut d = rule(3, 3, 2);
        // 100s roll out of the window: 10, 10, 10 then 20 is 2x.
        assert!(feed(&mut d, samsung(), &[100, 100, 100, 10, 10, 10]).is_empty());
        assert_eq!(feed(&mut d, samsung(), &[20]), [20]);
        // The spike joins the window: average (10 + 10 + 20) / 3 = 13.3, so 26 is not 2x.
        assert!(feed(&mut d, samsung(), &[26]).is_empty());
    }

    #[test]
    fn zero_size_trades_give_no_average_to_spike_against() {
        let mut d = rule(5, 2, 5);
        assert!(feed(&mut d, samsung(), &[0, 0, 0, 7]).is_empty());
    }

    #[test]
    fn the_log_line_names_the_ticker_the_trade_and_the_ratio() {
        let mut d = SpikeDetector::default();
        feed(&mut d, samsung(), &[12; 19]);
        feed(&mut d, samsung(), &[13]);
        let s = d.on_trade(&trade(samsung(), 2_000)).expect("a spike");
        // 20 trades of 241 shares: average 12.05, 2,000 is 165.9x it.
        assert_eq!(
            s.to_string(),
            "005930 volume spike at 09:31:05: 2000 shares at 71200 won, 165.9x the average 12.0 of its last 20 trades"
        );
    }
}
