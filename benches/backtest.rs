//! Backtest speed and memory (figures, not pass/fail): a synthetic day of trades over 200
//! tickers with condition churn and the momentum strategy trading, written as a real tape.
//!
//! - `backtest_end_to_end`: events/s on one core, tape read → core → fills → ledger;
//! - `backtest_core_only`: the same with the records already in memory (what reading costs
//!   is the difference);
//! - `sweep_scaling`: a 4-combination grid on all cores against one core;
//! - `peak_rss_*`: the peak RSS of a process that only backtests 1 M, then 10 M trades
//!   (streamed: it must not grow with the tape's length); each in a child process of its
//!   own, so what writing the tapes left in the allocator does not count.
//!
//! `CONDOR_BACKTEST_TRADES=2000000` sets the long run's size (default 10 M).

use std::path::Path;
use std::time::Instant;

use condor_actors::backtest::fills::Latency;
use condor_actors::backtest::{self as bt, FillSource, Settings};
use condor_actors::ledger::FeeSchedule;
use condor_actors::market::{self, Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::{strategy_by_name, MomentumParams};
use condor_actors::tape::{
    Tape, TapeError, TapeEvent, TapeReader, TapeRecord, TapeStarted, TapeTrade,
};
use rayon::prelude::*;

const TICKERS: usize = 200;
/// 09:00 KST on 2026-12-04, in Unix ns.
const OPEN_NS: i64 = 1_764_806_400_000_000_000;
const SESSION_NS: i64 = 23_400 * 1_000_000_000;

fn figure(name: &str, value: f64, unit: &str) {
    println!("{name} {value:.0} {unit}");
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Writes a synthetic day of `trades` trades to `path`, streaming (memory stays flat):
/// seeded walks on the tick grid, every ticker entering and leaving the condition every
/// few minutes, a timer record a second as `condor run` records them.
fn write_day(path: &Path, trades: usize) -> u64 {
    let tape = Tape::open(path, "bench").unwrap();
    let mut rec = tape.recorder();
    let mut rng = fastrand::Rng::with_seed(20_261_204);
    let tickers: Vec<Ticker> = (0..TICKERS)
        .map(|i| Ticker::parse(&format!("{:06}", 100_000 + i * 10)).unwrap())
        .collect();
    let closes: Vec<Price> = (0..TICKERS)
        .map(|_| market::round_to_grid(Price::lit(rng.i64(2_000..300_000)), market::Rounding::Down))
        .collect();
    let mut prices = closes.clone();
    let mut volume = vec![0u64; TICKERS];
    let mut inside = [false; TICKERS];
    let gap = SESSION_NS / trades as i64;
    let mut second = 0;
    let mut records = 0u64;
    rec.record(
        OPEN_NS,
        TapeEvent::Started(Box::new(TapeStarted {
            writer: "bench".into(),
            condition: "B001".into(),
            strategy: "momentum".into(),
            settings: Default::default(),
        })),
    );
    for n in 0..trades {
        let at = OPEN_NS + n as i64 * gap;
        let secs = (n as i64 * gap / 1_000_000_000) as u32;
        let time = TimeOfDay::from_secs(9 * 3600 + secs);
        if secs != second {
            second = secs;
            rec.record(at, TapeEvent::Timer { market_time: time });
            records += 1;
        }
        let i = rng.usize(..TICKERS);
        // Condition churn: a ticker flips in or out now and then.
        if rng.u32(0..200) == 0 {
            inside[i] = !inside[i];
            let ticker = tickers[i];
            rec.record(
                at,
                if inside[i] {
                    TapeEvent::ConditionEnter {
                        ticker,
                        market_time: time,
                        condition: condor_actors::messages::ConditionId::FIRST,
                    }
                } else {
                    TapeEvent::ConditionExit {
                        ticker,
                        market_time: time,
                        condition: condor_actors::messages::ConditionId::FIRST,
                    }
                },
            );
            records += 1;
        }
        let up = rng.u32(0..100) < 52;
        let limits = market::DailyLimits::from_base(closes[i]);
        prices[i] = limits.clamp(if up {
            market::tick_up(prices[i]).unwrap_or(limits.upper)
        } else {
            market::tick_down(prices[i])
        });
        let qty = 1 + rng.u64(0..200);
        volume[i] += qty;
        rec.record(
            at,
            TapeEvent::Trade(TapeTrade {
                ticker: tickers[i],
                price: prices[i],
                qty: Qty::lit(qty),
                cum_volume: volume[i],
                prev_close: closes[i],
                aggressor: if up { Side::Buy } else { Side::Sell },
                exchange_time: time,
                seq: n as u64 + 1,
            }),
        );
        records += 1;
    }
    drop(rec);
    tape.sync().unwrap();
    records + 1
}

fn settings() -> Settings {
    // `CONDOR_BACKTEST_MAX_ORDERS` caps the day's orders (the child's memory runs).
    let max_orders = std::env::var("CONDOR_BACKTEST_MAX_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    Settings {
        risk: RiskLimits {
            max_open_positions: 50,
            max_orders_per_day: max_orders,
            daily_loss_limit: i64::MAX / 4,
            ..RiskLimits::default()
        },
        fees: FeeSchedule {
            commission_ppm: 150,
            sell_tax_ppm: 2_000,
        },
        cash: 1_000_000_000,
        fills: FillSource::Model,
        carry: false,
        orders_per_sec: 10,
        keep_intents: false,
    }
}

fn params(take_profit_bp: i64) -> MomentumParams {
    MomentumParams {
        confirm_ticks: 2,
        min_change_bp: -3000,
        take_profit_bp,
        stop_loss_bp: 50,
        max_hold_secs: 120,
        ..MomentumParams::default()
    }
}

type Days<'a> = Vec<(
    String,
    Box<dyn Iterator<Item = Result<TapeRecord, TapeError>> + 'a>,
)>;

fn streamed(path: &Path) -> Days<'static> {
    let mut reader = TapeReader::open(path).unwrap();
    let it = std::iter::from_fn(move || reader.next_record().transpose());
    vec![("2026-12-04".to_owned(), Box::new(it))]
}

/// One backtest over `days`; returns the orders it sent (so the work is not optimised out).
fn backtest(days: Days<'_>, take_profit_bp: i64) -> u64 {
    let p = params(take_profit_bp);
    let out = bt::run(
        days,
        &settings(),
        || strategy_by_name("momentum", &p.to_params().unwrap()).unwrap(),
        |_| Latency::Fixed(1_000_000),
    )
    .unwrap();
    out.report.orders
}

/// Backtests the tape `path` in a process of its own: its events/s and its peak RSS.
fn in_child(path: &Path, records: u64, max_orders: u32) -> (f64, u64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env("CONDOR_BACKTEST_CHILD", path)
        .env("CONDOR_BACKTEST_MAX_ORDERS", max_orders.to_string())
        .env("CONDOR_BACKTEST_RECORDS", records.to_string())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let rate = it.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let rss = it.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    (rate, rss)
}

fn main() {
    if let Ok(path) = std::env::var("CONDOR_BACKTEST_CHILD") {
        let records: f64 = std::env::var("CONDOR_BACKTEST_RECORDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        let start = Instant::now();
        backtest(streamed(Path::new(&path)), 100);
        let rate = records / start.elapsed().as_secs_f64();
        println!("{rate:.0} {}", peak_rss_kib());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let long: usize = std::env::var("CONDOR_BACKTEST_TRADES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);

    // 1 M trades: end to end, core only, sweep scaling.
    let small = dir.path().join("small.tape");
    let records = write_day(&small, 1_000_000);
    let start = Instant::now();
    let orders = backtest(streamed(&small), 100);
    let secs = start.elapsed().as_secs_f64();
    figure("backtest_end_to_end", records as f64 / secs, "events/s");
    println!("backtest_orders {orders}");
    let (_, rss) = in_child(&small, records, 1_000_000);
    println!("peak_rss_1M_trades {rss} KiB");
    let (_, rss) = in_child(&small, records, 500);
    println!("peak_rss_1M_trades_500_orders {rss} KiB");
    let in_memory: Vec<TapeRecord> = condor_actors::tape::read(&small).unwrap().records;
    let start = Instant::now();
    let it = in_memory.iter().cloned().map(Ok::<_, TapeError>);
    let days: Days<'_> = vec![("2026-12-04".to_owned(), Box::new(it))];
    backtest(days, 100);
    let secs = start.elapsed().as_secs_f64();
    figure("backtest_core_only", records as f64 / secs, "events/s");
    drop(in_memory);
    let grid = [50, 100, 150, 200];
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let start = Instant::now();
    one.install(|| {
        grid.par_iter().for_each(|&tp| {
            backtest(streamed(&small), tp);
        })
    });
    let serial = start.elapsed().as_secs_f64();
    let start = Instant::now();
    grid.par_iter().for_each(|&tp| {
        backtest(streamed(&small), tp);
    });
    let parallel = start.elapsed().as_secs_f64();
    println!(
        "sweep_scaling {:.2} x ({} threads, 4 combinations: {serial:.2} s on one, {parallel:.2} s on all)",
        serial / parallel,
        rayon::current_num_threads()
    );

    // The long day, streamed: the peak must not grow with it.
    let big = dir.path().join("big.tape");
    let records = write_day(&big, long);
    let (rate, rss) = in_child(&big, records, 1_000_000);
    let millions = long / 1_000_000;
    figure(
        &format!("backtest_end_to_end_{millions}M"),
        rate,
        "events/s",
    );
    println!("peak_rss_{millions}M_trades {rss} KiB");
    // Memory grows with the orders a day holds (its book, fills and intents are the
    // report's), not with its trades: capped at the default 500 orders a day, a ten
    // times longer tape needs no more.
    let (_, rss) = in_child(&big, records, 500);
    println!("peak_rss_{millions}M_trades_500_orders {rss} KiB");
}
