//! Tape benchmark: what recording a day of inputs costs. A synthetic day (over 2 M trades
//! over 200 tickers, condition events, a timer a second, intents, fills and order-done
//! events) is encoded and decoded in memory, then written through the public API (one
//! recorder → the writer thread → the file, final sync included) and read back, streaming
//! (as every tool reads) and whole (as only tests do). Then the day is replayed as `condor
//! replay` does (`trading::replay::replay`, default momentum, as the synthetic day has no
//! start record): in memory alone, and in a child process of its own each (so its peak RSS
//! is its own) streaming from the file and read whole first. Prints one figure a line: `name value unit`. A measurement, not a
//! test (though it checks that what it reads back is what it wrote).
//!
//! `cargo bench --bench tape`. The file goes under Cargo's target tmp dir and is removed;
//! `TAPE_BENCH_KEEP=/some/file.tape` copies it there first (to try compressors on it).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use condor_actors::domain::OrderNo;
use condor_actors::market::{self, Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::{Fill, OrderType};
use condor_actors::strategy::{strategy_by_name, MomentumParams};
use condor_actors::tape::format::{self, BlockDecoder, BlockHeader, BLOCK_HEADER_LEN};
use condor_actors::tape::{
    self, Tape, TapeError, TapeEvent, TapeIntent, TapeReader, TapeRecord, TapeTrade, BATCH_RECORDS,
};
use condor_actors::trading::replay::{replay, ReplayOutcome, StartedWith};

const TRADES: usize = 2_000_000;
const TICKERS: usize = 200;
const CONDITION_EVENTS: usize = 1_200;
const ORDERS: usize = 200;
/// What reading a day should reach on one core (records/s), as every tool reads it:
/// streaming, `TapeReader`.
const READ_TARGET: f64 = 20e6;
/// 2024-01-02 09:00:00 KST in Unix ns, and the regular session's length.
const OPEN_NS: i64 = 1_704_153_600 * 1_000_000_000;
const SESSION_NS: i64 = 23_400 * 1_000_000_000;

fn figure(name: &str, value: f64, unit: &str) {
    if value < 100.0 {
        println!("{name} {value:.1} {unit}");
    } else {
        println!("{name} {value:.0} {unit}");
    }
}

struct Stock {
    ticker: Ticker,
    prev_close: Price,
    price: Price,
    cum_volume: u64,
}

fn kst_secs(ns: i64) -> u32 {
    ((ns.div_euclid(1_000_000_000) + 9 * 3600).rem_euclid(86_400)) as u32
}

/// A day as the engine would record it, in arrival order; and how many of it are trades.
fn synthetic_day() -> (Vec<(i64, TapeEvent)>, usize) {
    let mut rng = fastrand::Rng::with_seed(0x7a9e_0001);
    let mut codes = std::collections::BTreeSet::new();
    while codes.len() < TICKERS {
        // Most KRX codes end in 0.
        codes.insert(rng.u32(0..40_000) * 10);
    }
    let mut stocks: Vec<Stock> = codes
        .into_iter()
        .map(|code| {
            // Log-uniform from 1,000 to 500,000 won, on the grid.
            let base = (1_000f64 * 500f64.powf(rng.f64())) as i64;
            let prev_close = market::round_to_grid(Price::lit(base), market::Rounding::Nearest);
            Stock {
                ticker: Ticker::parse(&format!("{code:06}")).expect("six digits"),
                prev_close,
                price: prev_close,
                cum_volume: rng.u64(0..50_000),
            }
        })
        .collect();
    // Zipf-like activity: a few names trade most.
    let mut cumulative = Vec::with_capacity(TICKERS);
    let mut total = 0.0;
    for i in 0..TICKERS {
        total += 1.0 / ((i + 1) as f64).powf(0.9);
        cumulative.push(total);
    }
    // Arrival times: exponential gaps, busier at the open and the close, scaled to the day.
    let mut gaps = Vec::with_capacity(TRADES);
    let mut t = 0.0f64;
    for _ in 0..TRADES {
        let x = t / SESSION_NS as f64;
        let busy = 1.0 + 4.0 * ((x - 0.5) * 2.0).powi(4);
        let gap = -(1.0 - rng.f64()).ln() / busy;
        gaps.push(gap);
        t += gap * SESSION_NS as f64 / TRADES as f64;
    }
    let scale = (SESSION_NS - 1_000_000_000) as f64 / gaps.iter().sum::<f64>();
    let mut events = Vec::with_capacity(TRADES + 30_000);
    let mut at = 0.0f64;
    for (n, gap) in gaps.into_iter().enumerate() {
        at += gap * scale;
        let recv_ns = OPEN_NS + at as i64;
        let pick = rng.f64() * total;
        let s = &mut stocks[cumulative.partition_point(|&c| c < pick).min(TICKERS - 1)];
        let limits = market::DailyLimits::from_base(s.prev_close);
        let r = rng.u32(0..10);
        let aggressor = if r < 2 {
            s.price = limits.clamp(market::tick_up(s.price).unwrap_or(limits.upper));
            Side::Buy
        } else if r < 4 {
            s.price = limits.clamp(market::tick_down(s.price));
            Side::Sell
        } else if rng.bool() {
            Side::Buy
        } else {
            Side::Sell
        };
        // Mostly small lots, now and then a block.
        let qty = if rng.u32(0..50) == 0 {
            rng.u64(100..5_000)
        } else {
            1 + (-(1.0 - rng.f64()).ln() * 20.0) as u64
        };
        s.cum_volume += qty;
        // The exchange stamped it a few ms before it arrived.
        let exchange_ns = recv_ns - rng.i64(1_000_000..20_000_000);
        events.push((
            recv_ns,
            TapeEvent::Trade(TapeTrade {
                ticker: s.ticker,
                price: s.price,
                qty: Qty::lit(qty),
                cum_volume: s.cum_volume,
                prev_close: s.prev_close,
                aggressor,
                exchange_time: TimeOfDay::from_secs(kst_secs(exchange_ns)),
                seq: n as u64 + 1,
            }),
        ));
    }
    let trades = events.len();
    let ticker_at = |rng: &mut fastrand::Rng| stocks[rng.usize(..TICKERS)].ticker;
    for i in 0..CONDITION_EVENTS {
        let recv_ns = OPEN_NS + rng.i64(0..SESSION_NS);
        let ticker = ticker_at(&mut rng);
        let market_time = TimeOfDay::from_secs(kst_secs(recv_ns));
        events.push((
            recv_ns,
            if i % 2 == 0 {
                TapeEvent::ConditionEnter {
                    ticker,
                    market_time,
                    condition: condor_actors::messages::ConditionId::FIRST,
                }
            } else {
                TapeEvent::ConditionExit {
                    ticker,
                    market_time,
                    condition: condor_actors::messages::ConditionId::FIRST,
                }
            },
        ));
    }
    for s in 0..SESSION_NS / 1_000_000_000 {
        let recv_ns = OPEN_NS + s * 1_000_000_000 + rng.i64(0..200_000);
        events.push((
            recv_ns,
            TapeEvent::Timer {
                market_time: TimeOfDay::from_secs(kst_secs(recv_ns)),
            },
        ));
    }
    for i in 0..ORDERS {
        let recv_ns = OPEN_NS + rng.i64(0..SESSION_NS - 10_000_000_000);
        let ticker = ticker_at(&mut rng);
        let side = if i % 2 == 0 { Side::Buy } else { Side::Sell };
        let price = Price::lit(50_000 + 100 * rng.i64(0..100));
        let qty = Qty::lit(rng.u64(1..100));
        events.push((
            recv_ns,
            TapeEvent::Intent(Box::new(TapeIntent {
                ticker,
                side,
                qty,
                order_type: OrderType::Limit(price),
                reason: "entry: momentum".to_owned(),
                tick_seq: rng.u64(1..TRADES as u64),
            })),
        ));
        let filled_ns = recv_ns + rng.i64(1_000_000..5_000_000_000);
        events.push((
            filled_ns,
            TapeEvent::Fill(Fill {
                ticker,
                side,
                price,
                qty,
                order_no: OrderNo(10_000 + i as i64),
                time: TimeOfDay::from_secs(kst_secs(filled_ns)),
            }),
        ));
        events.push((
            filled_ns + 50_000,
            TapeEvent::OrderDone {
                id: Some(20_240_102_000_000 + i as u64),
                ticker,
                side,
                filled: qty,
                rejected: false,
            },
        ));
    }
    events.sort_by_key(|e| e.0);
    (events, trades)
}

/// Every block of `bytes` (no file header) decoded with its checksum checked; returns the
/// records decoded.
fn decode_blocks(bytes: &[u8]) -> usize {
    let mut decoded = 0usize;
    let mut records = Vec::with_capacity(BATCH_RECORDS);
    let mut decoder = BlockDecoder::new();
    let mut at = 0;
    while at < bytes.len() {
        let mut hdr = [0u8; BLOCK_HEADER_LEN];
        hdr.copy_from_slice(&bytes[at..at + BLOCK_HEADER_LEN]);
        let h = BlockHeader::parse(&hdr);
        let payload = &bytes[at + BLOCK_HEADER_LEN..at + BLOCK_HEADER_LEN + h.payload_len as usize];
        assert!(h.crc_matches(&hdr, payload), "checksum");
        records.clear();
        decoder
            .decode(&h, payload, |r| records.push(r))
            .expect("decodes");
        decoded += records.len();
        at += BLOCK_HEADER_LEN + payload.len();
    }
    decoded
}

fn peak_rss_kib() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Replays `records` with default momentum for every start.
fn replay_records(
    records: impl IntoIterator<Item = Result<TapeRecord, TapeError>>,
) -> ReplayOutcome {
    let params = MomentumParams::default().to_params().expect("params");
    replay(records, |_: StartedWith<'_>| {
        Ok(strategy_by_name("momentum", &params).expect("momentum"))
    })
    .expect("replays")
}

/// Replays the tape at `path` in a process of its own, streaming it or reading it whole
/// first: records/s, peak RSS (KiB), records replayed.
fn replay_in_child(path: &Path, whole: bool) -> (f64, u64, u64) {
    let out = std::process::Command::new(std::env::current_exe().expect("own path"))
        .env("TAPE_BENCH_REPLAY", path)
        .env("TAPE_BENCH_REPLAY_WHOLE", whole.to_string())
        .output()
        .expect("child runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let mut next = || it.next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (next(), next() as u64, next() as u64)
}

/// The child's part of [`replay_in_child`].
fn replay_child(path: &Path, whole: bool) {
    let start = Instant::now();
    let out = if whole {
        replay_records(tape::read(path).expect("reads").records.into_iter().map(Ok))
    } else {
        let mut reader = TapeReader::open(path).expect("reader opens");
        replay_records(std::iter::from_fn(|| reader.next_record().transpose()))
    };
    let rate = out.records as f64 / start.elapsed().as_secs_f64();
    println!("{rate:.0} {} {}", peak_rss_kib(), out.records);
}

/// A fresh directory under Cargo's target tmp dir, removed on drop.
struct BenchDir(PathBuf);

impl Drop for BenchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn main() {
    if let Some(path) = std::env::var_os("TAPE_BENCH_REPLAY") {
        let whole = std::env::var("TAPE_BENCH_REPLAY_WHOLE").as_deref() == Ok("true");
        replay_child(Path::new(&path), whole);
        return;
    }
    let dir = BenchDir(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tape-bench-{}", std::process::id())),
    );
    fs::create_dir_all(&dir.0).expect("bench dir");
    let (events, trades) = synthetic_day();
    let n = events.len();
    figure("tape_day_records", n as f64, "records");
    figure("tape_day_trades", trades as f64, "trades");

    // Encode and decode alone, in memory, in recorder-sized blocks.
    let mut encoded = Vec::with_capacity(64 << 20);
    let start = Instant::now();
    let mut seq = 1u64;
    for chunk in events.chunks(BATCH_RECORDS) {
        format::encode_block(seq, chunk, &mut encoded);
        seq += chunk.len() as u64;
    }
    let took = start.elapsed().as_secs_f64();
    figure("tape_encode", n as f64 / took, "records/s");
    let start = Instant::now();
    assert_eq!(decode_blocks(&encoded), n);
    figure(
        "tape_decode",
        n as f64 / start.elapsed().as_secs_f64(),
        "records/s",
    );
    drop(encoded);

    // Through the public API: one recorder, the writer thread, the file, a final sync. The
    // events are cloned from the day as they are recorded (a trade is a plain copy), as the
    // engine builds each from the tick it handles.
    let path = tape::day_path(&dir.0, "2024-01-02".parse().expect("day"));
    let start = Instant::now();
    let tape = Tape::open(&path, "condor bench").expect("tape opens");
    let mut recorder = tape.recorder();
    let produce = Instant::now();
    for (recv_ns, event) in &events {
        recorder.record(*recv_ns, event.clone());
    }
    recorder.flush();
    let produced = produce.elapsed().as_secs_f64();
    let last = tape.sync().expect("sync");
    let took = start.elapsed().as_secs_f64();
    assert_eq!(last, n as u64);
    let stats = tape.stats();
    drop(recorder);
    drop(tape);
    figure("tape_write", n as f64 / took, "records/s");
    figure("tape_record_call", produced * 1e9 / n as f64, "ns/record");
    let size = fs::metadata(&path).expect("file").len();
    assert_eq!(size, stats.bytes);
    figure("tape_file", size as f64 / 1e6, "MB");
    figure(
        "tape_bytes_per_trade",
        size as f64 / trades as f64,
        "bytes/trade",
    );
    figure(
        "tape_bytes_per_record",
        size as f64 / n as f64,
        "bytes/record",
    );
    figure("tape_blocks", stats.batches as f64, "blocks");
    if let Some(keep) = std::env::var_os("TAPE_BENCH_KEEP") {
        fs::copy(&path, keep).expect("copy the tape");
    }

    // Read back (the file is in the page cache: this is the decoder and the copies).
    let start = Instant::now();
    let mut reader = TapeReader::open(&path).expect("reader opens");
    let mut count = 0usize;
    let mut trades_read = 0usize;
    while let Some(r) = reader.next_record().expect("reads") {
        count += 1;
        trades_read += matches!(r.event, TapeEvent::Trade(_)) as usize;
    }
    let streaming = count as f64 / start.elapsed().as_secs_f64();
    figure("tape_read_streaming", streaming, "records/s");
    assert!(reader.damage().is_none());
    assert_eq!((count, trades_read), (n, trades));

    println!(
        "tape_read_streaming_vs_target {:.2} x (of {READ_TARGET:.0} records/s)",
        streaming / READ_TARGET
    );

    // The whole day into one Vec (`tape::read`): no tool reads a tape so (condor replay,
    // backtest, sim --tape and tape dump stream it); tests do. Bound by first touching the
    // ~146 MB of fresh pages its records fill, not by decoding.
    let start = Instant::now();
    let file = tape::read(&path).expect("reads");
    let whole = file.records.len() as f64 / start.elapsed().as_secs_f64();
    figure("tape_read_whole", whole, "records/s");
    println!("tape_read_whole_vs_streaming {:.2} x", whole / streaming);
    println!("tape_read_whole_used_by no tool (tests only; every tool streams)");
    assert!(file.stopped.is_none());
    assert_eq!(file.records.len(), n);
    for (r, (ns, e)) in file.records.iter().zip(&events) {
        assert!(
            r.recv_ns == *ns && r.event == *e,
            "record {} differs",
            r.seq
        );
    }
    drop(events);

    // Replay: the core alone (records cloned from memory), then as `condor replay` reads.
    let start = Instant::now();
    let out = replay_records(file.records.iter().cloned().map(Ok));
    figure(
        "replay_core_only",
        n as f64 / start.elapsed().as_secs_f64(),
        "records/s",
    );
    assert_eq!(out.records, n as u64);
    drop(file);
    for (name, whole) in [("streaming", false), ("whole", true)] {
        let (rate, rss, records) = replay_in_child(&path, whole);
        assert_eq!(records, n as u64, "the {name} replay child");
        figure(&format!("replay_{name}"), rate, "records/s");
        figure(
            &format!("replay_{name}_peak_rss"),
            rss as f64 / 1024.0,
            "MiB",
        );
    }
}
