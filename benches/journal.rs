//! Journal benchmark: what durability costs on this disk. The raw `fdatasync` latency of a
//! plain file, then the journal store with each append waiting for its own sync (single),
//! then many producers whose appends share syncs (grouped), as a ratio to single: first
//! producers that keep appends in flight, then producers that each wait for every append.
//! Prints one figure a line: `name value unit [ratio]`. A measurement, not a test.
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

    let read_start = Instant::now();
    let replay = store::read::<BenchEvent>(&store::day_file(&dir.0, "2024-01-03")).expect("read");
    let rate = replay.records.len() as f64 / read_start.elapsed().as_secs_f64();
    figure("journal_replay", rate, "records/s", None);
}
