//! Engine benchmark: the actor engine against the simulator's firehose over loopback,
//! next to a bare tokio-tungstenite client that only reads and parses the same stream.
//! Prints one figure a line: `name value unit [ratio]`. A measurement, not a test.
//!
//! `cargo bench --bench engine`

#[path = "../tests/common/tick.rs"]
mod tick;
// The tests' wait: a bench that never gets its feeds stops with a reason, not a hang.
#[allow(dead_code)]
#[path = "../tests/common/wait.rs"]
mod wait;

use std::alloc::{GlobalAlloc, Layout, System as SystemHeap};
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use condor::sim::exchange::Scenario;
use condor::sim::{Protocol, SimConfig, SimHandle};
use condor_actors::broker::Broker;
use condor_actors::broker_session::{BrokerSession, SessionConfig, Shutdown};
use condor_actors::clock::SystemClock;
use condor_actors::kill_switch::TripCause;
use condor_actors::kiwoom_rest::KiwoomRest;
use condor_actors::ls_rest::LsRest;
use condor_actors::market::{Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::OrderType;
use condor_actors::messages::{
    ConditionEnter, ConditionId, Flush, GetSessionStats, Tick, TripKillSwitch,
};
use condor_actors::messages::{Deliver, Fill};
use condor_actors::order_manager::OrderManager;
use condor_actors::processor::{Processor, SetTape};
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::{
    strategy_by_name, MomentumParams, MomentumStrategy, Signal, Strategy, StrategyFactory,
    VwapBandFactory, VwapBandParams,
};
use condor_actors::supervisor::{GetSupervisorStats, StopAllFeeds, Supervisor};
use condor_actors::tape::Tape;
use condor_actors::telemetry::Meters;
use condor_actors::tick_backlog::{self, TickBacklog};
use condor_actors::tick_hand_off::DEFAULT_LIMIT_PER_MS;
use condor_actors::wire::realtime::{
    decode_incoming, decode_server_frame, encode_registration, Incoming, ServerFrame, TrType,
};
use futures_util::{SinkExt, StreamExt};
use tick::tick;
use tokio_tungstenite::tungstenite::Message;
use wait::until;

const MEASURE: Duration = Duration::from_secs(3);

/// Heap bytes live per thread: the engine's actors all run on the bench's main thread,
/// the in-process simulator on its own, so the memory phase can tell the engine's growth
/// per feed from the simulator's, which RSS cannot.
struct ThreadHeap;

thread_local! {
    static HEAP_LIVE: Cell<i64> = const { Cell::new(0) };
}

fn heap_add(bytes: i64) {
    let _ = HEAP_LIVE.try_with(|c| c.set(c.get() + bytes));
}

/// Net heap bytes this thread allocated (and did not free) so far.
fn thread_heap_bytes() -> i64 {
    HEAP_LIVE.with(Cell::get)
}

// SAFETY: every call goes to the system allocator unchanged; only a thread-local counter
// (const-initialised, no destructor, never allocating) is updated beside it.
unsafe impl GlobalAlloc for ThreadHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = SystemHeap.alloc(layout);
        if !p.is_null() {
            heap_add(layout.size() as i64);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = SystemHeap.alloc_zeroed(layout);
        if !p.is_null() {
            heap_add(layout.size() as i64);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        SystemHeap.dealloc(ptr, layout);
        heap_add(-(layout.size() as i64));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = SystemHeap.realloc(ptr, layout, new_size);
        if !p.is_null() {
            heap_add(new_size as i64 - layout.size() as i64);
        }
        p
    }
}

#[global_allocator]
static HEAP: ThreadHeap = ThreadHeap;

fn figure(name: &str, value: f64, unit: &str, ratio: Option<f64>) {
    match ratio {
        Some(r) => println!("{name} {value:.0} {unit} {r:.2}x"),
        None => println!("{name} {value:.0} {unit}"),
    }
}

/// A latency in µs with one decimal (the targets are a few µs).
/// The middle value (the upper middle of an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn figure_us(name: &str, us: f64) {
    println!("{name} {us:.1} us");
}

fn codes(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("99{i:04}")).collect()
}

/// The broker wire the engine phases run over: `CONDOR_BENCH_BROKER=kiwoom` runs them
/// against the simulator speaking Kiwoom's (LOGIN, REG 0B, REAL 0B through the session's
/// Kiwoom decoder), for its figures beside LS's. The bare readers are LS's only (they
/// use LS's trade scanner), so in Kiwoom mode the throughput phase prints the engine's
/// ticks/s without a ratio.
fn broker() -> Protocol {
    match std::env::var("CONDOR_BENCH_BROKER").as_deref() {
        Ok("kiwoom") => Protocol::Kiwoom,
        Ok("ls") | Err(_) => Protocol::Ls,
        Ok(other) => panic!("CONDOR_BENCH_BROKER={other:?}: ls or kiwoom"),
    }
}

fn sim(n: usize, firehose: bool, scenario: &str) -> SimHandle {
    let mut cfg = SimConfig {
        protocol: broker(),
        rate_limits: false,
        firehose,
        ..SimConfig::default()
    };
    cfg.exchange.synthetic_listings = n.max(1);
    cfg.exchange.trades_per_sec = 0.0;
    cfg.exchange.scenario = Some(Scenario::parse(scenario).expect("scenario"));
    SimHandle::start(cfg).expect("simulator starts")
}

fn enter_all(n: usize) -> String {
    let mut s = String::from("condition B001 bench\n");
    for c in codes(n) {
        s.push_str(&format!("at 0ms B001 enter {c}\n"));
    }
    s
}

/// How the bare reader parses each frame.
#[derive(Clone, Copy)]
enum Parse {
    /// The engine's own decoder (the hot-path scanner): the ratio is the engine's cost.
    Engine,
    /// serde into the full 27-field body, as a client with no scanner would.
    Serde,
}

/// A rate, and what each unit cost the thread that did the work.
#[derive(Clone, Copy)]
struct Throughput {
    per_sec: f64,
    /// CPU time of the bench's main thread (where the bare reader, or every engine actor
    /// but the compute pool, runs) per tick, ns: unlike the rate, it does not move when
    /// another process takes a core away, so the ratio of two stays fair on a busy machine.
    thread_cpu_ns: f64,
    /// Ticks per message into the Processor (the engine's only): 1 while the session
    /// hands each tick on, up to 64 (a socket read) under a firehose.
    ticks_per_message: f64,
}

/// CPU time this thread has run so far, ns (`/proc/thread-self/schedstat`).
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Frames per second a bare client reads and parses into the engine's `Tick`.
async fn bare_reader(sim: &SimHandle, n: usize, parse: Parse) -> Throughput {
    let rest = LsRest::connect(
        sim.rest_url(),
        sim.appkey().expose(),
        sim.appsecret().expose(),
    )
    .await
    .unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(sim.ws_url())
        .await
        .unwrap();
    for (i, c) in codes(n).iter().enumerate() {
        let tr = if i % 2 == 0 { "S3_" } else { "K3_" };
        ws.send(Message::Text(
            encode_registration(&rest.token(), TrType::RegisterMarket, tr, c).into(),
        ))
        .await
        .unwrap();
    }
    let warm = Instant::now();
    let mut start: Option<(Instant, u64)> = None;
    let mut parsed = 0u64;
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(t) = msg else { continue };
        let ok = match parse {
            Parse::Engine => match decode_incoming(t.as_str()) {
                // The same Tick the session builds, from the same decoder.
                Ok(Incoming::Trade { fields, .. }) => fields.to_tick(Instant::now()).is_ok(),
                _ => continue,
            },
            Parse::Serde => match decode_server_frame(t.as_str()) {
                Ok(ServerFrame::Trade { body, .. }) => {
                    body.fields().to_tick(Instant::now()).is_ok()
                }
                _ => continue,
            },
        };
        match start {
            None if warm.elapsed() > Duration::from_millis(500) => {
                start = Some((Instant::now(), thread_cpu_ns()))
            }
            None => {}
            Some((s, cpu)) => {
                parsed += u64::from(ok);
                if parsed % 1024 == 0 && s.elapsed() >= MEASURE {
                    return Throughput {
                        per_sec: parsed as f64 / s.elapsed().as_secs_f64(),
                        thread_cpu_ns: (thread_cpu_ns() - cpu) as f64 / parsed as f64,
                        ticks_per_message: 0.0,
                    };
                }
            }
        }
    }
    Throughput {
        per_sec: 0.0,
        thread_cpu_ns: 0.0,
        ticks_per_message: 0.0,
    }
}

struct Engine {
    session: Addr<BrokerSession>,
    processor: Addr<Processor>,
    supervisor: Addr<Supervisor>,
}

async fn engine(sim: &SimHandle, max_feeds: usize) -> Engine {
    let momentum =
        strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap()).unwrap();
    engine_with(sim, max_feeds, momentum, DEFAULT_LIMIT_PER_MS, None).await
}

/// The momentum strategy (its full work on every tick) plus a buy signal on every
/// `every`th tick of a ticker, so tick->intent has samples all through a run: momentum
/// alone enters once per ticker, in the first rush of subscriptions.
struct Sampled {
    inner: Box<dyn Strategy>,
    ticks: u64,
    every: u64,
}

impl Strategy for Sampled {
    fn name(&self) -> &'static str {
        "sampled"
    }
    fn on_condition_enter(&mut self, now: TimeOfDay) {
        self.inner.on_condition_enter(now)
    }
    fn on_condition_exit(&mut self, now: TimeOfDay) {
        self.inner.on_condition_exit(now)
    }
    fn on_tick(&mut self, tick: &Tick, out: &mut Vec<Signal>) {
        self.inner.on_tick(tick, out);
        self.ticks += 1;
        if self.ticks % self.every == 0 {
            out.push(Signal::Buy {
                qty: Qty::lit(1),
                order_type: OrderType::Market,
                reason: "bench sample",
            });
        }
    }
    fn on_fill(&mut self, fill: &Fill) {
        self.inner.on_fill(fill)
    }
    fn on_order_done(&mut self, side: Side, filled: Qty, rejected: bool) {
        self.inner.on_order_done(side, filled, rejected)
    }
    fn position(&self) -> Qty {
        self.inner.position()
    }
    fn has_working_order(&self) -> bool {
        self.inner.has_working_order()
    }
}

struct SampledFactory(Box<dyn StrategyFactory>, u64);

impl StrategyFactory for SampledFactory {
    fn name(&self) -> &'static str {
        "sampled"
    }
    fn build(&self, ticker: Ticker) -> Box<dyn Strategy> {
        Box::new(Sampled {
            inner: self.0.build(ticker),
            ticks: 0,
            every: self.1,
        })
    }
}

/// `hand_off`: the session's [`SessionConfig::hand_off_below_per_ms`] (0: always batch).
async fn engine_with(
    sim: &SimHandle,
    max_feeds: usize,
    factory: Box<dyn StrategyFactory>,
    hand_off: u32,
    tape: Option<&Tape>,
) -> Engine {
    let (broker, mut cfg): (Broker, SessionConfig) = match sim.protocol() {
        Protocol::Ls => {
            let rest = LsRest::connect(
                sim.rest_url(),
                sim.appkey().expose(),
                sim.appsecret().expose(),
            )
            .await
            .unwrap();
            let cfg = SessionConfig::new(sim.ws_url(), rest.token());
            (rest.into(), cfg)
        }
        Protocol::Kiwoom => {
            let rest = KiwoomRest::connect(sim.rest_url(), sim.appkey(), sim.appsecret())
                .await
                .unwrap();
            let cfg = SessionConfig::kiwoom(sim.ws_url(), rest.token_source());
            (rest.into(), cfg)
        }
    };
    cfg.hand_off_below_per_ms = hand_off;
    // `CONDOR_BACKLOG=512` tries another bound on ticks in flight.
    let limit = std::env::var("CONDOR_BACKLOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(tick_backlog::DEFAULT_LIMIT);
    let backlog = TickBacklog::new(limit);
    let session = BrokerSession::new(cfg)
        .with_backlog(backlog.clone())
        .start();
    let processor = Processor::new(factory, None, Arc::new(SystemClock)).with_backlog(backlog);
    let processor = match tape {
        Some(t) => processor.with_tape(t.recorder()),
        None => processor,
    }
    .start();
    let supervisor = Supervisor::new(
        broker,
        session.clone(),
        processor.clone(),
        vec!["B001".to_owned()],
        max_feeds,
    )
    .start();
    Engine {
        session,
        processor,
        supervisor,
    }
}

async fn until_feeds(e: &Engine, n: usize) {
    until(format!("{n} live feeds"), async || {
        let live = e
            .supervisor
            .send(GetSupervisorStats)
            .await
            .unwrap()
            .live_feeds;
        live >= n
    })
    .await
}

/// Ticks per second through to the Processor with `n` live feeds.
async fn engine_throughput(sim: &SimHandle, n: usize) -> Throughput {
    engine_throughput_taped(sim, n, None).await
}

/// CPU time (ns) this process's live threads have run so far (each thread's
/// `/proc/self/task/*/schedstat`): the engine, the in-process simulator, the tape's writer.
fn process_cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// [`engine_throughput`], the Processor recording on `tape` when given.
async fn engine_throughput_taped(sim: &SimHandle, n: usize, tape: Option<&Tape>) -> Throughput {
    let momentum =
        strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap()).unwrap();
    let e = engine_with(sim, n.max(1), momentum, DEFAULT_LIMIT_PER_MS, tape).await;
    until_feeds(&e, n).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = e.processor.send(Flush).await.unwrap();
    let (s, cpu) = (Instant::now(), thread_cpu_ns());
    tokio::time::sleep(MEASURE).await;
    let after = e.processor.send(Flush).await.unwrap();
    let (t0, t1) = (before.ticks, after.ticks);
    // One tick of each message is timed (the Processor's tick latency).
    let messages = after.tick_latency.samples - before.tick_latency.samples;
    let rate = Throughput {
        per_sec: (t1 - t0) as f64 / s.elapsed().as_secs_f64(),
        thread_cpu_ns: (thread_cpu_ns() - cpu) as f64 / (t1 - t0).max(1) as f64,
        ticks_per_message: (t1 - t0) as f64 / messages.max(1) as f64,
    };
    e.supervisor.send(StopAllFeeds).await.unwrap();
    let _ = e.session.send(Shutdown).await;
    rate
}

/// `n` ticks over 100 tickers, flat around the previous close: the strategy runs on each
/// and never signals, so what is timed is the mailbox, the counters and the strategy.
fn flat_ticks(n: usize) -> Vec<Tick> {
    let tickers: Vec<Ticker> = codes(100)
        .iter()
        .map(|c| Ticker::parse(c).unwrap())
        .collect();
    let at = Instant::now();
    (0..n)
        .map(|i| {
            tick(
                tickers[i % tickers.len()],
                10_000 + 10 * (i as i64 / 100 % 2),
            )
            .cum_volume(i as u64)
            .prev_close(10_000)
            .at(TimeOfDay::hms(9, 30, 0))
            .received_at(at)
            .seq(i as u64 + 1)
            .build()
        })
        .collect()
}

/// Nanoseconds per tick to push `ticks` into a fresh Processor's mailbox and have them
/// handled, with `meters` (`None`: metrics off).
async fn through_processor(ticks: &[Tick], meters: Option<Arc<Meters>>) -> f64 {
    through_processor_taped(ticks, meters, None).await
}

/// [`through_processor`], the Processor recording on `tape` when given.
async fn through_processor_taped(
    ticks: &[Tick],
    meters: Option<Arc<Meters>>,
    tape: Option<&Tape>,
) -> f64 {
    through_processor_cpu(ticks, meters, tape).await.0
}

/// [`through_processor_taped`], and the CPU time per tick of the whole process until the
/// ticks are handled and, with a tape, written (the writer thread's share included).
async fn through_processor_cpu(
    ticks: &[Tick],
    meters: Option<Arc<Meters>>,
    tape: Option<&Tape>,
) -> (f64, f64) {
    let factory =
        strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap()).unwrap();
    let p = Processor::new(factory, None, Arc::new(SystemClock)).with_meters(meters);
    let p = match tape {
        Some(t) => p.with_tape(t.recorder()),
        None => p,
    }
    .start();
    // Every ticker's strategy exists before the clock starts.
    for t in &ticks[..100] {
        p.do_send(Deliver(*t));
    }
    p.send(Flush).await.unwrap();
    if let Some(t) = tape {
        t.sync().unwrap();
    }
    let cpu0 = process_cpu_ns();
    let start = Instant::now();
    for t in ticks {
        p.do_send(Deliver(*t));
    }
    let seen = p.send(Flush).await.unwrap().ticks;
    let ns = start.elapsed().as_nanos() as f64 / ticks.len() as f64;
    assert_eq!(seen as usize, ticks.len() + 100);
    // What the recorder still holds goes with the actor; what the writer has queued is
    // written by the sync.
    drop(p);
    if let Some(t) = tape {
        t.sync().unwrap();
    }
    let cpu = process_cpu_ns().saturating_sub(cpu0) as f64 / ticks.len() as f64;
    (ns, cpu)
}

/// Nanoseconds per tick through a Processor running vwap-band with `params` on every one of
/// the ticks' tickers (all in the condition) and a Compute pool of one thread, and the
/// jobs the pool answered meanwhile.
async fn through_processor_scoring(ticks: &[Tick], params: VwapBandParams) -> (f64, u64) {
    let p = Processor::new(
        Box::new(VwapBandFactory { params }),
        None,
        Arc::new(SystemClock),
    )
    .with_compute(condor_actors::compute::start_pool(1))
    .start();
    for t in &ticks[..100] {
        p.do_send(Deliver(ConditionEnter {
            ticker: t.ticker,
            condition: ConditionId::FIRST,
        }));
        p.do_send(Deliver(*t));
    }
    let before = p.send(Flush).await.unwrap();
    let start = Instant::now();
    // In chunks, as a feed delivers them: answers queue behind whatever is in the mailbox,
    // and a whole day queued at once would hold every answer back until its end.
    for chunk in ticks.chunks(1_000) {
        for t in chunk {
            p.do_send(Deliver(*t));
        }
        p.send(Flush).await.unwrap();
    }
    let after = p.send(Flush).await.unwrap();
    let ns = start.elapsed().as_nanos() as f64 / ticks.len() as f64;
    assert_eq!(after.ticks as usize, ticks.len() + 100);
    (ns, after.jobs_done - before.jobs_done)
}

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

/// `CONDOR_BENCH=churn,latency` runs only those phases (memory, throughput, latency,
/// kill_switch, decode, churn, metrics, tape); unset runs all. Useful under a profiler
/// (`tape_profile_on` and `tape_profile_off` run only when named).
fn phase(name: &str) -> bool {
    std::env::var("CONDOR_BENCH").map_or(true, |v| v.split(',').any(|p| p.trim() == name))
}

/// A phase for profiling, run only when `CONDOR_BENCH` names it.
fn only_if_named(name: &str) -> bool {
    std::env::var("CONDOR_BENCH").is_ok_and(|v| v.split(',').any(|p| p.trim() == name))
}

fn main() {
    let system = System::new();
    system.block_on(async {
        // Memory first, before other phases leave freed memory in the allocator.
        if phase("memory") {
            let n = 1000;
            // The feeds enter a second after the condition is registered, so the engine's
            // fixed cost (pools, histograms, sockets) is in the baseline, not per feed.
            let s = sim(n, false, &enter_all(n).replace("at 0ms", "at 1500ms"));
            let e = engine(&s, n).await;
            tokio::time::sleep(Duration::from_millis(700)).await;
            let (before, heap_before) = (rss_bytes(), thread_heap_bytes());
            until_feeds(&e, n).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let (after, heap_after) = (rss_bytes(), thread_heap_bytes());
            let heap_per_feed = (heap_after - heap_before) as f64 / n as f64;
            // Includes the in-process simulator's registration bookkeeping: an upper bound.
            let per_feed = (after.saturating_sub(before)) as f64 / n as f64;
            figure("rss_per_live_feed", per_feed, "bytes", None);
            // Strategy state is created with the feed; reported apart (inline size plus
            // its recent-trade window at capacity).
            let strategy = std::mem::size_of::<MomentumStrategy>()
                + MomentumParams::default().confirm_ticks as usize * 32;
            figure("strategy_state_per_ticker", strategy as f64, "bytes", None);
            figure(
                "rss_per_live_feed_without_strategy",
                per_feed - strategy as f64,
                "bytes",
                None,
            );
            // The engine thread's own heap growth: the feed actors, their mailboxes, the
            // routes and the Supervisor's entries, nothing of the simulator's.
            figure("engine_heap_per_live_feed", heap_per_feed, "bytes", None);
            figure(
                "engine_heap_per_live_feed_without_strategy",
                heap_per_feed - strategy as f64,
                "bytes",
                None,
            );
            e.supervisor.send(StopAllFeeds).await.unwrap();
            let _ = e.session.send(Shutdown).await;
        }

        // Throughput with a firehose. Two baselines: a bare reader parsing with the
        // engine's own decoder (the ratio is what the actors cost) and one parsing with
        // serde into the full body (what a client without the scanner pays).
        // `CONDOR_FEEDS=100` runs one feed count; `CONDOR_BENCH=engine_throughput` (or
        // `bare_throughput`) runs the engine (or its baseline) alone, under a profiler.
        let feed_counts: Vec<usize> = std::env::var("CONDOR_FEEDS")
            .ok()
            .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![1, 100, 1000]);
        for &n in feed_counts.iter().filter(|_| only_if_named("engine_throughput")) {
            let s = sim(n, true, &enter_all(n));
            let rate = engine_throughput(&s, n).await;
            figure(&format!("engine_{n}_feeds"), rate.per_sec, "ticks/s", None);
            println!("engine_{n}_feeds_ticks_per_message {:.1}", rate.ticks_per_message);
        }
        for &n in feed_counts.iter().filter(|_| only_if_named("bare_throughput")) {
            let s = sim(n, true, "condition B001 bench\n");
            let rate = bare_reader(&s, n, Parse::Engine).await;
            figure(&format!("bare_reader_{n}_feeds"), rate.per_sec, "ticks/s", None);
        }
        // The engine and its same-decoder baseline alternate, `ROUNDS` times each: this
        // machine's speed drifts by tens of percent over a minute, so one run of each can
        // put the drift into the ratio. Printed: the medians, and the median of the
        // per-round ratios; then the same for the main thread's CPU time per tick, which
        // another process's load does not move (the rate's ratio is the target; the CPU
        // ratio says whether a miss is the engine's or the machine's).
        const ROUNDS: usize = 3;
        if broker() == Protocol::Kiwoom {
            println!("broker kiwoom: the engine over Kiwoom's wire; no bare reader (LS's scanner)");
        }
        for &n in feed_counts
            .iter()
            .filter(|_| phase("throughput") && broker() == Protocol::Kiwoom)
        {
            let (mut eng, mut cpu) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                let s = sim(n, true, &enter_all(n));
                let t = engine_throughput(&s, n).await;
                eng.push(t.per_sec);
                cpu.push(t.thread_cpu_ns);
            }
            figure(&format!("engine_kiwoom_{n}_feeds"), median(&mut eng), "ticks/s", None);
            figure(&format!("engine_kiwoom_{n}_feeds_cpu"), median(&mut cpu), "ns/tick", None);
        }
        for &n in feed_counts
            .iter()
            .filter(|_| phase("throughput") && broker() == Protocol::Ls)
        {
            let (mut bare, mut eng, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            let (mut bare_cpu, mut eng_cpu, mut cpu_ratios) = (Vec::new(), Vec::new(), Vec::new());
            let mut per_message = Vec::new();
            for _ in 0..ROUNDS {
                let same = {
                    let s = sim(n, true, "condition B001 bench\n");
                    bare_reader(&s, n, Parse::Engine).await
                };
                let rate = {
                    let s = sim(n, true, &enter_all(n));
                    engine_throughput(&s, n).await
                };
                bare.push(same.per_sec);
                eng.push(rate.per_sec);
                ratios.push(rate.per_sec / same.per_sec);
                bare_cpu.push(same.thread_cpu_ns);
                eng_cpu.push(rate.thread_cpu_ns);
                per_message.push(rate.ticks_per_message);
                cpu_ratios.push(same.thread_cpu_ns / rate.thread_cpu_ns);
            }
            let serde = {
                let s = sim(n, true, "condition B001 bench\n");
                bare_reader(&s, n, Parse::Serde).await.per_sec
            };
            let (same, rate) = (median(&mut bare), median(&mut eng));
            figure(&format!("bare_reader_{n}_feeds"), same, "ticks/s", None);
            figure(&format!("bare_reader_serde_{n}_feeds"), serde, "ticks/s", None);
            figure(
                &format!("engine_{n}_feeds"),
                rate,
                "ticks/s",
                Some(median(&mut ratios)),
            );
            figure(
                &format!("engine_{n}_feeds_vs_serde_reader"),
                rate,
                "ticks/s",
                Some(rate / serde),
            );
            figure(
                &format!("bare_reader_{n}_feeds_cpu"),
                median(&mut bare_cpu),
                "ns/tick",
                None,
            );
            figure(
                &format!("engine_{n}_feeds_cpu"),
                median(&mut eng_cpu),
                "ns/tick",
                Some(median(&mut cpu_ratios)),
            );
            println!(
                "engine_{n}_feeds_ticks_per_message {:.1}",
                median(&mut per_message)
            );
        }

        // Latency when not saturated: 100 feeds, the simulator stepping every millisecond,
        // at three offered loads far below the engine's throughput: 200, 2,000 and 20,000
        // trades/s in all. At the lowest, frames arrive one at a time with the engine idle
        // in between, so each one meets cold caches; the higher ones keep the path warm.
        // `CONDOR_LATENCY_LOADS=200` runs only that total load (under a profiler).
        let loads: Vec<f64> = std::env::var("CONDOR_LATENCY_LOADS")
            .ok()
            .map(|v| v.split(',').filter_map(|l| l.trim().parse().ok()).collect())
            .unwrap_or_else(|| vec![200.0, 2_000.0, 20_000.0]);
        let modes = [("", DEFAULT_LIMIT_PER_MS), ("_batching", 0)];
        let runs = loads
            .iter()
            .flat_map(|&l| modes.iter().map(move |&m| (l, m)))
            .filter(|_| phase("latency"));
        for (total, (mode, hand_off)) in runs {
            let n = 100;
            let per_ticker = total / n as f64;
            let mut cfg = SimConfig {
                protocol: broker(),
                rate_limits: false,
                step: Duration::from_millis(1),
                ..SimConfig::default()
            };
            cfg.exchange.synthetic_listings = n;
            cfg.exchange.trades_per_sec = per_ticker;
            cfg.exchange.scenario = Some(Scenario::parse(&enter_all(n)).unwrap());
            let s = SimHandle::start(cfg).unwrap();
            let momentum = strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap()).unwrap();
            // Enough intents for a p99.9: every tick asks for an order up to 2,000 ticks/s
            // (one in ten gave 74 intents a run at 200), one in ten at 20,000.
            let every = ((total / 2_000.0) as u64).max(1);
            let e = engine_with(&s, n, Box::new(SampledFactory(momentum, every)), hand_off, None).await;
            until_feeds(&e, n).await;
            tokio::time::sleep(MEASURE * 2).await;
            let st = e.processor.send(Flush).await.unwrap();
            let session = e.session.send(GetSessionStats).await.unwrap();
            let us = |ns: u64| ns as f64 / 1_000.0;
            let total = (per_ticker * n as f64) as u64;
            let load = format!("{total}{mode}");
            println!("latency_offered_load{mode} {total} ticks/s");
            let d = session.decode_latency;
            figure_us(&format!("tick_decode_and_route_p50@{load}"), us(d.p50_ns));
            figure_us(&format!("tick_decode_and_route_p99@{load}"), us(d.p99_ns));
            let t = st.tick_latency;
            figure_us(&format!("tick_to_strategy_p50@{load}"), us(t.p50_ns));
            figure_us(&format!("tick_to_strategy_p99@{load}"), us(t.p99_ns));
            figure_us(&format!("tick_to_strategy_p99.9@{load}"), us(t.p999_ns));
            figure(
                &format!("tick_to_strategy_samples@{load}"),
                t.samples as f64,
                "ticks",
                None,
            );
            let i = st.intent_latency;
            figure_us(&format!("tick_to_intent_p50@{load}"), us(i.p50_ns));
            figure_us(&format!("tick_to_intent_p99@{load}"), us(i.p99_ns));
            figure_us(&format!("tick_to_intent_p99.9@{load}"), us(i.p999_ns));
            figure(
                &format!("tick_to_intent_samples@{load}"),
                i.samples as f64,
                "intents",
                None,
            );
            e.supervisor.send(StopAllFeeds).await.unwrap();
            let _ = e.session.send(Shutdown).await;
        }

        // Control before data: 100,000 ticks queued behind the Processor (whose strategy
        // keeps asking for orders), then the kill switch tripped at the OrderManager. The
        // trip is in effect when the OrderManager has handled it; the ticks' drain is timed
        // beside it, from the same instant.
        if phase("kill_switch") {
            const QUEUED: u64 = 100_000;
            let mut cfg = SimConfig {
                rate_limits: false,
                ..SimConfig::default()
            };
            cfg.exchange.trades_per_sec = 0.0;
            let s = SimHandle::start(cfg).expect("simulator starts");
            let rest = LsRest::connect(s.rest_url(), s.appkey().expose(), s.appsecret().expose())
                .await
                .unwrap();
            let clock = Arc::new(SystemClock);
            let orders = OrderManager::new(rest, RiskLimits::default(), clock.clone()).start();
            let eager = MomentumParams {
                min_change_bp: -3000,
                confirm_ticks: 1,
                ..MomentumParams::default()
            };
            let processor = Processor::new(
                strategy_by_name("momentum", &eager.to_params().unwrap()).unwrap(),
                Some(orders.clone().recipient()),
                clock,
            )
            .start();
            let prev = Price::lit(70_000);
            for seq in 1..=QUEUED {
                let ticker = Ticker::parse(&format!("99{:04}", seq % 1000)).unwrap();
                processor.do_send(Deliver(
                    tick(ticker, prev.won()).cum_volume(seq).seq(seq).build(),
                ));
            }
            let tripped_at = Instant::now();
            orders
                .send(TripKillSwitch {
                    cause: TripCause::Operator {
                        note: "bench".into(),
                    },
                })
                .await
                .unwrap();
            let trip = tripped_at.elapsed();
            let drained = processor.send(Flush).await.unwrap();
            let drain = tripped_at.elapsed();
            assert_eq!(drained.ticks, QUEUED);
            figure_us("kill_switch_trip_to_effect", trip.as_secs_f64() * 1e6);
            figure_us(
                "kill_switch_queued_ticks_drained",
                drain.as_secs_f64() * 1e6,
            );
            figure("kill_switch_queued_ticks", QUEUED as f64, "ticks", None);
            s.stop();
        }

        // Decoding one S3_ frame into a tick's fields: the full owned body (27 Strings) as
        // the simulator and tools read it, and the engine's borrowed hot path.
        if phase("decode") {
            let frame = r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{"chetime":"090851","sign":"2","change":"1050","drate":"1.93","price":"55550","opentime":"090030","open":"55600","hightime":"090504","high":"55800","lowtime":"090030","low":"55500","cgubun":"+","cvolume":"1","volume":"10887","value":"604","mdvolume":"946","mdchecnt":"23","msvolume":"3146","mschecnt":"96","cpower":"332.56","w_avrg":"55448","offerho":"55600","bidho":"55500","status":"00","jnilvolume":"2508350","shcode":"005930","exchname":"KRX"}}"#;
            const N: u32 = 1_000_000;
            let owned = {
                let start = Instant::now();
                let mut ok = 0u64;
                for _ in 0..N {
                    if let Ok(ServerFrame::Trade { body, .. }) =
                        decode_server_frame(std::hint::black_box(frame))
                    {
                        ok += u64::from(body.price().is_ok() && body.time().is_ok());
                    }
                }
                assert_eq!(ok, u64::from(N));
                start.elapsed().as_nanos() as f64 / f64::from(N)
            };
            let borrowed = {
                let start = Instant::now();
                let mut ok = 0u64;
                for _ in 0..N {
                    if let Ok(Incoming::Trade { fields, .. }) =
                        decode_incoming(std::hint::black_box(frame))
                    {
                        ok += u64::from(fields.price().is_ok() && fields.time().is_ok());
                    }
                }
                assert_eq!(ok, u64::from(N));
                start.elapsed().as_nanos() as f64 / f64::from(N)
            };
            // The same decode once after each 5 ms idle (the gap between frames at 200
            // ticks/s): what a cold cache costs the hot path, with nothing else changed.
            let (warm, cold) = {
                let (mut warm, mut cold) = (Vec::new(), Vec::new());
                for i in 0..1_000 {
                    let idle = i % 2 == 0;
                    if idle {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    let start = Instant::now();
                    let Ok(Incoming::Trade { fields, .. }) =
                        decode_incoming(std::hint::black_box(frame))
                    else {
                        unreachable!("the sample is a trade")
                    };
                    let _ = std::hint::black_box((fields.price(), fields.time(), fields.prev_close()));
                    let ns = start.elapsed().as_nanos() as u64;
                    if idle { &mut cold } else { &mut warm }.push(ns);
                }
                let p50 = |mut v: Vec<u64>| {
                    v.sort_unstable();
                    v[v.len() / 2]
                };
                (p50(warm), p50(cold))
            };
            figure("decode_trade_owned", owned, "ns/frame", None);
            figure(
                "decode_trade_borrowed",
                borrowed,
                "ns/frame",
                Some(borrowed / owned),
            );
            figure("decode_trade_back_to_back_p50", warm as f64, "ns/frame", None);
            figure(
                "decode_trade_after_5ms_idle_p50",
                cold as f64,
                "ns/frame",
                Some(cold as f64 / warm as f64),
            );
        }

        // The cost of metrics on the tick path: the same ticks through a Processor without
        // meters (metrics off: `None`, no metric work) and with them (the counters the
        // Processor bumps per tick). Alternating rounds, the best of each, so a noisy
        // neighbour on the machine hurts both sides alike.
        // Ticks go straight into the Processor's mailbox. Since each tick is counted once
        // (the backlog), the meters cost the tick path nothing: on/off should read ~1.0x.
        // metrics_counter_increment is what the one count costs.
        if phase("metrics") {
            let ticks = flat_ticks(500_000);
            let (mut off, mut on) = (f64::MAX, f64::MAX);
            for round in 0..8 {
                // Each goes first in half the rounds.
                if round % 2 == 0 {
                    off = off.min(through_processor(&ticks, None).await);
                    on = on.min(through_processor(&ticks, Some(Meters::shared())).await);
                } else {
                    on = on.min(through_processor(&ticks, Some(Meters::shared())).await);
                    off = off.min(through_processor(&ticks, None).await);
                }
            }
            figure("processor_tick_metrics_off", off, "ns/tick", None);
            figure("processor_tick_metrics_on", on, "ns/tick", Some(on / off));
            // The tick path's one count on its own: the Processor's add per tick handled.
            let b = TickBacklog::new(tick_backlog::DEFAULT_LIMIT);
            const N: u32 = 100_000_000;
            let start = Instant::now();
            for _ in 0..N {
                std::hint::black_box(&b).handled(1);
            }
            let ns = start.elapsed().as_nanos() as f64 / f64::from(N);
            assert_eq!(b.counts().handled, u64::from(N));
            println!("metrics_counter_increment {ns:.2} ns");
        }

        // Ticks through the Processor while the Compute pool is busy, as a ratio to idle:
        // vwap-band on 100 tickers scoring each ticker's whole session in the pool after
        // every answer (busy) against the same strategy never scoring (idle: the same
        // session kept, no jobs). Best of alternating rounds.
        if phase("compute") {
            let ticks = flat_ticks(500_000);
            // A band of 1 bp the alternating prices never sit in: every score says no and
            // the ticker is scored again on its next trade, all day.
            let busy = VwapBandParams {
                min_trades: 10,
                rescore_trades: 1,
                min_change_bp: -3_000,
                band_bp: 1,
                ..VwapBandParams::default()
            };
            let idle = VwapBandParams {
                min_trades: 10_000_000,
                ..busy
            };
            let (mut idle_ns, mut busy_ns, mut jobs) = (f64::MAX, f64::MAX, 0);
            for round in 0..6 {
                let order = if round % 2 == 0 { [false, true] } else { [true, false] };
                for scoring in order {
                    if scoring {
                        let (ns, done) = through_processor_scoring(&ticks, busy).await;
                        if ns < busy_ns {
                            (busy_ns, jobs) = (ns, done);
                        }
                    } else {
                        idle_ns = idle_ns.min(through_processor_scoring(&ticks, idle).await.0);
                    }
                }
            }
            figure("processor_ticks_pool_idle", 1e9 / idle_ns, "ticks/s", None);
            figure(
                "processor_ticks_pool_busy",
                1e9 / busy_ns,
                "ticks/s",
                Some(idle_ns / busy_ns),
            );
            figure("processor_pool_jobs_during_busy_run", jobs as f64, "jobs", None);
        }

        // What recording the tape costs: one engine under the firehose (100 feeds), its
        // Processor recording every tick on a real file (the writer thread writing it as
        // the engine runs) and not, switched in alternating windows of 250 ms
        // (`CONDOR_TAPE_WINDOW_MS`), in pairs whose order alternates (off-on, on-off, …;
        // `CONDOR_TAPE_PAIRS` pairs, 60 unless set). Each pair printed, then the medians and
        // the median of the pairs' ratios. Beside ticks/s, the CPU time the whole process
        // spent per tick (engine, simulator and writer thread). This 2-core machine is
        // shared with builds that come and go within seconds: a fresh engine per
        // measurement, 4 s apart, put tens of percent of their noise into each ratio; a
        // window apart, both sides see nearly the same machine, and a tick's CPU time
        // hardly depends on what else runs. Then the same ticks straight through a
        // Processor's mailbox, alternating rounds.
        if phase("tape") {
            let dir = std::env::temp_dir().join(format!("condor-bench-tape-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let n = 100;
            let pairs: usize = std::env::var("CONDOR_TAPE_PAIRS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(60);
            let window = Duration::from_millis(
                std::env::var("CONDOR_TAPE_WINDOW_MS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(250),
            );
            let tape = Tape::open(&dir.join("engine.tape"), "bench").unwrap();
            let s = sim(n, true, &enter_all(n));
            let momentum =
                strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap())
                    .unwrap();
            let e = engine_with(&s, n, momentum, DEFAULT_LIMIT_PER_MS, None).await;
            until_feeds(&e, n).await;
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (mut off, mut on, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            let (mut cpu_off, mut cpu_on, mut cpu_ratios) = (Vec::new(), Vec::new(), Vec::new());
            for pair in 0..pairs {
                let order = if pair % 2 == 0 { [false, true] } else { [true, false] };
                let (mut without, mut with) = ((0.0, 0.0), (0.0, 0.0));
                for taped in order {
                    e.processor
                        .send(SetTape(taped.then(|| tape.recorder())))
                        .await
                        .unwrap();
                    let t0 = e.processor.send(Flush).await.unwrap().ticks;
                    let cpu0 = process_cpu_ns();
                    let start = Instant::now();
                    tokio::time::sleep(window).await;
                    let t1 = e.processor.send(Flush).await.unwrap().ticks;
                    let cpu = process_cpu_ns().saturating_sub(cpu0) as f64;
                    let ticks = (t1 - t0).max(1) as f64;
                    let got = (ticks / start.elapsed().as_secs_f64(), cpu / ticks);
                    if taped {
                        with = got;
                    } else {
                        without = got;
                    }
                }
                println!(
                    "engine_100_feeds_tape_pair {pair} off {:.0} on {:.0} ticks/s {:.3}x, cpu off {:.0} on {:.0} ns/tick {:.3}x",
                    without.0,
                    with.0,
                    with.0 / without.0,
                    without.1,
                    with.1,
                    with.1 / without.1
                );
                off.push(without.0);
                on.push(with.0);
                ratios.push(with.0 / without.0);
                cpu_off.push(without.1);
                cpu_on.push(with.1);
                cpu_ratios.push(with.1 / without.1);
            }
            e.processor.send(SetTape(None)).await.unwrap();
            e.supervisor.send(StopAllFeeds).await.unwrap();
            let _ = e.session.send(Shutdown).await;
            let written = tape.sync().unwrap();
            drop(s);
            let (lowest, highest) = ratios
                .iter()
                .fold((f64::MAX, f64::MIN), |(l, h), &r| (l.min(r), h.max(r)));
            let (off, on) = (median(&mut off), median(&mut on));
            figure("engine_100_feeds_tape_off", off, "ticks/s", None);
            figure("engine_100_feeds_tape_on", on, "ticks/s", Some(median(&mut ratios)));
            println!("engine_100_feeds_tape_ratio_range {lowest:.3} {highest:.3} x ({pairs} pairs)");
            let (c_off, c_on) = (median(&mut cpu_off), median(&mut cpu_on));
            figure("engine_100_feeds_tape_off_cpu", c_off, "ns/tick", None);
            figure("engine_100_feeds_tape_on_cpu", c_on, "ns/tick", Some(median(&mut cpu_ratios)));
            figure("engine_100_feeds_tape_records", written as f64, "records", None);
            let ticks = flat_ticks(500_000);
            let (mut off, mut on, mut cpu_off, mut cpu_on) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for round in 0..8 {
                let tape = Tape::open(&dir.join(format!("p{round}.tape")), "bench").unwrap();
                let order = if round % 2 == 0 { [false, true] } else { [true, false] };
                for taped in order {
                    if taped {
                        let (ns, cpu) = through_processor_cpu(&ticks, None, Some(&tape)).await;
                        on.push(ns);
                        cpu_on.push(cpu);
                    } else {
                        let (ns, cpu) = through_processor_cpu(&ticks, None, None).await;
                        off.push(ns);
                        cpu_off.push(cpu);
                    }
                }
            }
            let best = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
            let (best_off, best_on) = (best(&off), best(&on));
            figure("processor_tick_tape_off", best_off, "ns/tick", None);
            figure("processor_tick_tape_on", best_on, "ns/tick", Some(best_on / best_off));
            let (med_off, med_on) = (median(&mut off), median(&mut on));
            figure("processor_tick_tape_off_median", med_off, "ns/tick", None);
            figure("processor_tick_tape_on_median", med_on, "ns/tick", Some(med_on / med_off));
            let (c_off, c_on) = (median(&mut cpu_off), median(&mut cpu_on));
            figure("processor_tick_tape_off_cpu", c_off, "ns/tick", None);
            figure("processor_tick_tape_on_cpu", c_on, "ns/tick", Some(c_on / c_off));
            let _ = std::fs::remove_dir_all(&dir);
        }

        // For a profiler: the engine under the firehose (100 feeds) for 20 s, recording
        // (`tape_profile_on`) or not (`tape_profile_off`); then 20 rounds of 500,000 ticks
        // straight through a Processor's mailbox the same way. Run only when named.
        for taped in [false, true] {
            let name = if taped { "tape_profile_on" } else { "tape_profile_off" };
            if !only_if_named(name) {
                continue;
            }
            let dir = std::env::temp_dir().join(format!("condor-bench-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let tape = Tape::open(&dir.join("e.tape"), "bench").unwrap();
            let tape = taped.then_some(&tape);
            let s = sim(100, true, &enter_all(100));
            let momentum =
                strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap())
                    .unwrap();
            let e = engine_with(&s, 100, momentum, DEFAULT_LIMIT_PER_MS, tape).await;
            until_feeds(&e, 100).await;
            let t0 = e.processor.send(Flush).await.unwrap().ticks;
            let start = Instant::now();
            tokio::time::sleep(Duration::from_secs(20)).await;
            let t1 = e.processor.send(Flush).await.unwrap().ticks;
            figure(
                &format!("{name}_engine"),
                (t1 - t0) as f64 / start.elapsed().as_secs_f64(),
                "ticks/s",
                None,
            );
            e.supervisor.send(StopAllFeeds).await.unwrap();
            let _ = e.session.send(Shutdown).await;
            drop(s);
            let ticks = flat_ticks(500_000);
            let mut ns = Vec::new();
            for _ in 0..20 {
                ns.push(through_processor_taped(&ticks, None, tape).await);
            }
            figure(&format!("{name}_processor"), median(&mut ns), "ns/tick", None);
            let _ = std::fs::remove_dir_all(&dir);
        }

        // Churn: enter then exit, over and over, as fast as the condition says so.
        if phase("churn") {
            let cycles = 5_000;
            let mut scenario = String::from("condition B001 bench\n");
            for i in 0..cycles {
                let c = format!("99{:04}", i % 1000);
                scenario.push_str(&format!(
                    "at {}ms B001 enter {c}\nat {}ms B001 exit {c}\n",
                    i / 100,
                    i / 100
                ));
            }
            let s = sim(1000, false, &scenario);
            let e = engine(&s, 1000).await;
            let start = Instant::now();
            let (mut last, mut last_change) = (0u64, Instant::now());
            loop {
                let st = e.supervisor.send(GetSupervisorStats).await.unwrap();
                if st.stopped != last {
                    (last, last_change) = (st.stopped, Instant::now());
                }
                // Done when every cycle finished, or nothing moved for a second.
                if st.stopped as usize >= cycles || last_change.elapsed() > Duration::from_secs(1) {
                    let secs = last_change.duration_since(start).as_secs_f64().max(1e-6);
                    figure("feed_churn", st.stopped as f64 / secs, "cycles/s", None);
                    figure(
                        "feed_churn_cycles_completed",
                        st.stopped as f64,
                        "cycles",
                        None,
                    );
                    figure("feed_churn_spawned", st.spawned as f64, "feeds", None);
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            e.supervisor.send(StopAllFeeds).await.unwrap();
            let _ = e.session.send(Shutdown).await;
        }
    });
}
