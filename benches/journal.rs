//! Journal benchmark: what durability costs on this disk. The raw `fdatasync` latency of a
//! plain file, then the journal store with each append waiting for its own sync (single),
//! then many producers whose appends share syncs (grouped), as a ratio to single: first
//! producers that keep appends in flight, then producers that each wait for every append.
//! Prints one figure a line: `name value unit [ratio]`. A measurement, not a test.
//!
//! Last, the order path that durability sits on: intent → REST call issued at the embedded
//! exchange, p50/p99, with the journal off and on in the same run (the OrderManager sends
//! only once `OrderSent` is durable), next to the disk's own fsync.
//!
//! `cargo bench --bench journal`. Files go under Cargo's target tmp dir and are removed.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use condor_actors::journal::store::{self, JournalFailure, JournalWriter};
use serde::{Deserialize, Serialize};

const RAW_SYNCS: usize = 1_000;
/// Single appends run for this long (each one waits for its own fdatasync).
const SINGLE_FOR: Duration = Duration::from_secs(3);
const GROUPED_EVENTS: u64 = 200_000;
const PRODUCERS: u64 = 8;
/// Appends a producer has queued but not yet seen acknowledged, at most.
const IN_FLIGHT: u64 = 256;

fn figure(name: &str, value: f64, unit: &str, ratio: Option<f64>) {
    match ratio {
        Some(r) => println!("{name} {value:.0} {unit} {r:.2}x"),
        None => println!("{name} {value:.0} {unit}"),
    }
}

/// A fill as the engine would journal it: about 200 bytes of JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
enum BenchEvent {
    Fill {
        client_order_id: u64,
        broker_order_no: u64,
        ticker: String,
        side: String,
        price: i64,
        qty: u64,
        cum_qty: u64,
        leaves_qty: u64,
        fee: i64,
        exec_time: String,
        source: String,
    },
}

fn event(n: u64) -> BenchEvent {
    BenchEvent::Fill {
        client_order_id: 1_000_000 + n,
        broker_order_no: 20_240_102_000_000 + n,
        ticker: "005930".to_owned(),
        side: "buy".to_owned(),
        price: 71_200,
        qty: 10 + n % 90,
        cum_qty: 10 + n % 90,
        leaves_qty: 0,
        fee: 107,
        exec_time: "09:31:07.125".to_owned(),
        source: "sc1".to_owned(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The disk's own price: one short line written and fdatasync'ed, `RAW_SYNCS` times.
/// Returns p50, p99 and the calls per second (the mean, comparable to single appends).
fn raw_fsync(dir: &Path) -> (Duration, Duration, f64) {
    let path = dir.join("raw.log");
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("raw file opens");
    let line = serde_json::to_string(&event(0)).expect("event encodes") + "\n";
    let mut took: Vec<Duration> = (0..RAW_SYNCS)
        .map(|_| {
            let start = Instant::now();
            file.write_all(line.as_bytes()).expect("write");
            file.sync_data().expect("fdatasync");
            start.elapsed()
        })
        .collect();
    let per_sec = took.len() as f64 / took.iter().sum::<Duration>().as_secs_f64();
    took.sort();
    (percentile(&took, 0.50), percentile(&took, 0.99), per_sec)
}

/// Appends per second when every append waits for its own fdatasync.
fn single(dir: &Path) -> f64 {
    let path = store::day_file(dir, "2024-01-02");
    let (writer, _) = JournalWriter::<BenchEvent>::open(&path).expect("journal opens");
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < SINGLE_FOR {
        n += 1;
        writer.append_wait(n as i64, event(n)).expect("append");
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    writer.close().expect("close");
    rate
}

/// Appends per second from `PRODUCERS` threads, each keeping up to `IN_FLIGHT` appends
/// unacknowledged, `GROUPED_EVENTS` in all; timed until the last one is durable.
fn grouped(dir: &Path) -> f64 {
    let path = store::day_file(dir, "2024-01-03");
    let (writer, _) = JournalWriter::<BenchEvent>::open(&path).expect("journal opens");
    let writer = Arc::new(writer);
    let per_producer = GROUPED_EVENTS / PRODUCERS;
    let start = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let writer = Arc::clone(&writer);
            thread::spawn(move || {
                let (acked, acks) = mpsc::channel::<Result<u64, JournalFailure>>();
                for i in 0..per_producer {
                    if i >= IN_FLIGHT {
                        acks.recv().expect("ack").expect("append is durable");
                    }
                    let n = p * per_producer + i;
                    let acked = acked.clone();
                    writer.append(n as i64, event(n), move |r| {
                        let _ = acked.send(r);
                    });
                }
                for _ in 0..per_producer.min(IN_FLIGHT) {
                    acks.recv().expect("ack").expect("append is durable");
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    let rate = (per_producer * PRODUCERS) as f64 / start.elapsed().as_secs_f64();
    let last = writer.sync().expect("sync");
    assert_eq!(last, per_producer * PRODUCERS);
    if let Some(writer) = Arc::into_inner(writer) {
        writer.close().expect("close");
    }
    rate
}

/// Appends per second from `PRODUCERS` threads that each wait for every append to be
/// durable before the next: groups are at most `PRODUCERS` events.
fn grouped_waiting(dir: &Path) -> f64 {
    let path = store::day_file(dir, "2024-01-04");
    let (writer, _) = JournalWriter::<BenchEvent>::open(&path).expect("journal opens");
    let writer = Arc::new(writer);
    let start = Instant::now();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let writer = Arc::clone(&writer);
            thread::spawn(move || {
                let mut n = 0u64;
                while start.elapsed() < SINGLE_FOR {
                    writer
                        .append_wait(n as i64, event(p << 32 | n))
                        .expect("append");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = producers
        .into_iter()
        .map(|p| p.join().expect("producer"))
        .sum();
    let rate = total as f64 / start.elapsed().as_secs_f64();
    if let Some(writer) = Arc::into_inner(writer) {
        writer.close().expect("close");
    }
    rate
}

/// A fresh directory under Cargo's target tmp dir, removed on drop.
struct BenchDir(PathBuf);

impl Drop for BenchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn main() {
    let dir = BenchDir(
        Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("journal-bench-{}", std::process::id())),
    );
    fs::create_dir_all(&dir.0).expect("bench dir");

    let json_len = serde_json::to_string(&event(123_456))
        .expect("event encodes")
        .len();
    figure("journal_event_json", json_len as f64, "bytes", None);

    let (p50, p99, per_sec) = raw_fsync(&dir.0);
    figure("disk_fdatasync_p50", p50.as_secs_f64() * 1e6, "us", None);
    figure("disk_fdatasync_p99", p99.as_secs_f64() * 1e6, "us", None);
    figure("disk_fdatasyncs", per_sec, "calls/s", None);

    let single = single(&dir.0);
    figure("journal_single_appends", single, "appends/s", None);

    let grouped = grouped(&dir.0);
    figure(
        "journal_grouped_appends",
        grouped,
        "appends/s",
        Some(grouped / single),
    );

    let waiting = grouped_waiting(&dir.0);
    figure(
        "journal_grouped_appends_waiting_producers",
        waiting,
        "appends/s",
        Some(waiting / single),
    );

    // The same events in SQLite (WAL, synchronous=FULL so a commit is durable, as the
    // journal's appends are): one transaction per event, then groups of 256.
    let sqlite_single = sqlite::single(&dir.0);
    figure(
        "sqlite_single_appends",
        sqlite_single,
        "appends/s",
        Some(sqlite_single / single),
    );
    let sqlite_grouped = sqlite::grouped(&dir.0);
    figure(
        "sqlite_grouped_appends",
        sqlite_grouped,
        "appends/s",
        Some(sqlite_grouped / grouped),
    );

    let read_start = Instant::now();
    let replay = store::read::<BenchEvent>(&store::day_file(&dir.0, "2024-01-03")).expect("read");
    let rate = replay.records.len() as f64 / read_start.elapsed().as_secs_f64();
    figure("journal_replay", rate, "records/s", None);

    let (off, on) = actix::System::new().block_on(order_path::both(&dir.0));
    figure("intent_to_send_p50_journal_off", off.p50 as f64, "us", None);
    figure("intent_to_send_p99_journal_off", off.p99 as f64, "us", None);
    figure(
        "intent_to_send_p50_journal_on",
        on.p50 as f64,
        "us",
        Some(on.p50 as f64 / off.p50.max(1) as f64),
    );
    figure(
        "intent_to_send_p99_journal_on",
        on.p99 as f64,
        "us",
        Some(on.p99 as f64 / off.p99.max(1) as f64),
    );
    // What durability adds, in fsyncs of this disk measured above (target: at most one).
    let fsync_us = (p50.as_secs_f64() * 1e6).max(1.0);
    let added_p50 = on.p50.saturating_sub(off.p50) as f64;
    figure(
        "durability_added_p50",
        added_p50,
        "us",
        Some(added_p50 / fsync_us),
    );
    let fsync99_us = (p99.as_secs_f64() * 1e6).max(1.0);
    let added_p99 = on.p99.saturating_sub(off.p99) as f64;
    figure(
        "durability_added_p99",
        added_p99,
        "us",
        Some(added_p99 / fsync99_us),
    );
}

/// SQLite as the journal's store would use it: WAL, every commit durable, one table of
/// events with their JSON. Ratios are to the file store's figures in the same run.
mod sqlite {
    use std::path::Path;
    use std::time::Instant;

    use super::{event, GROUPED_EVENTS, SINGLE_FOR};

    fn open(path: &Path) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open(path).expect("sqlite opens");
        conn.pragma_update(None, "journal_mode", "WAL")
            .expect("WAL");
        conn.pragma_update(None, "synchronous", "FULL")
            .expect("synchronous");
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, \
             json TEXT NOT NULL)",
        )
        .expect("table");
        conn
    }

    /// One event per transaction, each commit waiting for its sync.
    pub fn single(dir: &Path) -> f64 {
        let conn = open(&dir.join("single.sqlite"));
        let mut insert = conn
            .prepare("INSERT INTO events (at_ms, json) VALUES (?1, ?2)")
            .expect("prepare");
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < SINGLE_FOR {
            n += 1;
            let json = serde_json::to_string(&event(n)).expect("event encodes");
            insert.execute((n as i64, json)).expect("insert");
        }
        n as f64 / start.elapsed().as_secs_f64()
    }

    /// `GROUPED_EVENTS` events in transactions of 256, as a group commit would write them.
    pub fn grouped(dir: &Path) -> f64 {
        let mut conn = open(&dir.join("grouped.sqlite"));
        let start = Instant::now();
        for group in 0..GROUPED_EVENTS / 256 {
            let tx = conn.transaction().expect("begin");
            {
                let mut insert = tx
                    .prepare_cached("INSERT INTO events (at_ms, json) VALUES (?1, ?2)")
                    .expect("prepare");
                for i in 0..256 {
                    let n = group * 256 + i;
                    let json = serde_json::to_string(&event(n)).expect("event encodes");
                    insert.execute((n as i64, json)).expect("insert");
                }
            }
            tx.commit().expect("commit");
        }
        (GROUPED_EVENTS / 256 * 256) as f64 / start.elapsed().as_secs_f64()
    }
}

/// The OrderManager against the embedded exchange, one intent at a time, so each figure is
/// the unloaded path: gate, order rate, journal (when on), then the REST call issued.
mod order_path {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use actix::prelude::*;
    use condor::sim::{SimConfig, SimHandle};
    use condor_actors::clock::{Clock, SystemClock};
    use condor_actors::journal::Journal;
    use condor_actors::ls_rest::LsRest;
    use condor_actors::market::{Qty, Side, Ticker};
    use condor_actors::messages::{Deliver, GetOrderStats, LatencyUs, OrderIntent, OrderType};
    use condor_actors::order_manager::{OrderManager, RateExcess};
    use condor_actors::risk::RiskLimits;
    use condor_actors::wire::market_data::{T1102InBlock, T1102};

    const ORDERS: u64 = 300;

    pub async fn both(dir: &Path) -> (LatencyUs, LatencyUs) {
        let mut cfg = SimConfig {
            rate_limits: false,
            ..SimConfig::default()
        };
        cfg.exchange.trades_per_sec = 0.0;
        let sim = SimHandle::start(cfg).expect("simulator starts");
        let off = run(&sim, None).await;
        let on = run(&sim, Some(dir)).await;
        sim.stop();
        (off, on)
    }

    async fn run(sim: &SimHandle, journal_dir: Option<&Path>) -> LatencyUs {
        let rest = LsRest::connect(
            sim.rest_url(),
            sim.appkey().expose(),
            sim.appsecret().expose(),
        )
        .await
        .expect("token");
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let limits = RiskLimits {
            max_order_qty: Qty::lit(1_000_000),
            max_order_notional: i64::MAX / 4,
            max_position_notional: i64::MAX / 4,
            max_open_positions: 1_000,
            price_collar_bp: 5_000,
            max_orders_per_day: 100_000,
            daily_loss_limit: i64::MAX / 4,
        };
        let mut om = OrderManager::new(rest.clone(), limits, clock.clone())
            .with_order_rate(100_000, RateExcess::Queue);
        if let Some(dir) = journal_dir {
            let (journal, _) =
                Journal::open(&dir.join("order-path"), clock.today(), clock).expect("journal");
            om = om.with_journal(journal);
        }
        let orders = om.start();
        let ticker = Ticker::parse("005930").expect("ticker");
        // Resting buys at the day's lower limit: accepted, never filled, so every order is
        // the same work at the simulator.
        let lower = rest
            .call::<T1102>(&T1102InBlock::new(ticker))
            .await
            .expect("t1102")
            .blocks
            .out_block
            .expect("quote")
            .limits()
            .unwrap()
            .lower;
        for i in 0..ORDERS {
            orders.do_send(Deliver(OrderIntent {
                ticker,
                side: Side::Buy,
                // Distinct sizes: identical working orders are refused as duplicates.
                qty: Qty::lit(1 + i),
                order_type: OrderType::Limit(lower),
                reason: "bench",
                tick_seq: 0,
                tick_received_at: None,
            }));
            loop {
                let s = orders.send(GetOrderStats).await.expect("stats");
                assert_eq!(s.refused_by_risk, 0, "the gate refused a bench order");
                if s.intent_to_send.count > i {
                    break;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
        }
        let stats = orders.send(GetOrderStats).await.expect("stats");
        stats.intent_to_send
    }
}
