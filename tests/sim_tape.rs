//! The embedded exchange playing a recorded day (`condor sim --tape FILE --speed N|max`),
//! over real sockets. A day is written with the tape API: four tickers (one KOSDAQ, one the
//! universe lacks), about 2,000 trades, three tickers entering the condition and two leaving.
//!
//! - In process at `max`: an LS client with literal JSON (token, t8436, t1102, t1866, t1860,
//!   AFR and S3_/K3_ registration) gets every condition event and every trade of the day, in
//!   the tape's order, each decoding to the recorded trade; t1859 answers from the tape's
//!   state; after the end the market is open and prints nothing more.
//! - In process at speed 4: the trades come spread over the recorded span divided by 4.
//! - End to end: `condor sim --tape FILE --speed max` as a process and `condor run` against
//!   it; the tape condor itself records holds the source's condition events and, per ticker
//!   it watched, the source's trades while the ticker was in the condition.
//!
//! Every wait is for a condition with a generous deadline.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::lives::{self, spawn_condor, tail, RunSettings, Sim, Work};
use common::{next_json, num, rng, Client, Poll, Ws, PATIENCE};
use condor::sim::exchange::TAPE_QUERY_INDEX;
use condor::sim::{load_day, SimConfig, SimHandle, TapeSpeed};
use condor_actors::market::{tick_down, tick_up, Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::tape::{self, TapeEvent, TapeStarted, TapeTrade};
use condor_actors::wire::realtime::{decode_server_frame, ServerFrame};
use futures_util::StreamExt;
use serde_json::{json, Value};
use tokio::time::sleep;
use tokio_tungstenite::MaybeTlsStream;

/// In the condition from the start, leaves at 3 s; KOSPI, in the universe.
const A: &str = "005930";
/// Trades from the start, enters at 1 s and stays; KOSDAQ (K3_).
const B: &str = "247540";
/// Not in the universe: listed from the tape as KOSPI. Trades from 1.5 s, enters at 2 s,
/// leaves at 3.5 s.
const C: &str = "123450";
/// Trades all day, never in the condition.
const D: &str = "000660";
/// 2024-01-02 10:00:00 KST in Unix ns.
const T0: i64 = 1_704_157_200_000_000_000;
const CONDITION_NAME: &str = "테이프 돌파";

fn tk(code: &str) -> Ticker {
    Ticker::parse(code).unwrap()
}

/// One thing of the day, as a client sees it: an AFR (code, flag) or a trade.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Alert(String, String),
    Trade(TapeTrade),
}

/// The day: `(recv_ns, event)` in order. A trade every 2 ms for 4 s on the tickers that
/// trade at that moment; condition events at fixed times; records the simulator ignores in
/// between. No ticker trades after it leaves the condition.
fn source_day() -> Vec<(i64, TapeEvent)> {
    let mut rng = fastrand::Rng::with_seed(rng::seed("the source day", 20_240_102));
    let closes = [(A, 70_000), (B, 104_300), (C, 10_000), (D, 178_000)];
    let mut price: BTreeMap<&str, Price> =
        closes.iter().map(|&(c, p)| (c, Price::lit(p))).collect();
    let mut cum: BTreeMap<&str, u64> = closes.iter().map(|&(c, _)| (c, 1_000_000)).collect();
    let mut v = vec![(
        T0 - 3_000_000_000,
        TapeEvent::Started(Box::new(TapeStarted {
            writer: "condor 0.1.0".into(),
            condition: CONDITION_NAME.into(),
            strategy: "momentum".into(),
            settings: BTreeMap::new(),
        })),
    )];
    let cond = |ms: i64| -> Option<TapeEvent> {
        let at = TimeOfDay::from_secs(10 * 3600 + (ms / 1000) as u32);
        let enter = |c: &str| TapeEvent::ConditionEnter {
            ticker: tk(c),
            market_time: at,
            condition: condor_actors::messages::ConditionId::FIRST,
        };
        let exit = |c: &str| TapeEvent::ConditionExit {
            ticker: tk(c),
            market_time: at,
            condition: condor_actors::messages::ConditionId::FIRST,
        };
        match ms {
            0 => Some(enter(A)),
            1_000 => Some(enter(B)),
            2_000 => Some(enter(C)),
            3_000 => Some(exit(A)),
            3_500 => Some(exit(C)),
            _ => None,
        }
    };
    for ms in 0..4_000i64 {
        let ns = T0 + ms * 1_000_000;
        if let Some(e) = cond(ms) {
            v.push((ns, e));
            continue;
        }
        if ms % 500 == 250 {
            v.push((
                ns,
                TapeEvent::Timer {
                    market_time: TimeOfDay::from_secs(10 * 3600 + (ms / 1000) as u32),
                },
            ));
        }
        if ms % 2 == 1 {
            continue;
        }
        let mut live = vec![B, D];
        if ms < 3_000 {
            live.push(A);
        }
        if (1_500..3_500).contains(&ms) {
            live.push(C);
        }
        let code = live[rng.usize(..live.len())];
        let prev_close = closes.iter().find(|(c, _)| *c == code).unwrap().1;
        let p = price[code];
        let next = match rng.u8(0..3) {
            0 => tick_up(p).unwrap(),
            1 => tick_down(p),
            _ => p,
        };
        price.insert(code, next);
        let qty = rng.u64(1..200);
        *cum.get_mut(code).unwrap() += qty;
        v.push((
            ns + 300_000, // mid-millisecond
            TapeEvent::Trade(TapeTrade {
                ticker: tk(code),
                price: next,
                qty: Qty::lit(qty),
                cum_volume: cum[code],
                prev_close: Price::lit(prev_close),
                aggressor: if rng.bool() { Side::Buy } else { Side::Sell },
                exchange_time: TimeOfDay::from_secs(10 * 3600 + (ms / 1000) as u32),
                seq: (ms / 2 + 1) as u64,
            }),
        ));
    }
    v.push((T0 + 4_100_000_000, TapeEvent::Stopped));
    v
}

/// What a client listening to everything sees: every condition event (N on a first entry,
/// R on a later one, O on an exit) and every trade, in the tape's order.
fn expected_frames(day: &[(i64, TapeEvent)]) -> Vec<Seen> {
    let mut ever = std::collections::BTreeSet::new();
    day.iter()
        .filter_map(|(_, e)| match e {
            TapeEvent::ConditionEnter { ticker, .. } => {
                let flag = if ever.insert(*ticker) { "N" } else { "R" };
                Some(Seen::Alert(ticker.to_string(), flag.into()))
            }
            TapeEvent::ConditionExit { ticker, .. } => {
                Some(Seen::Alert(ticker.to_string(), "O".into()))
            }
            TapeEvent::Trade(t) => Some(Seen::Trade(TapeTrade { seq: 0, ..*t })),
            _ => None,
        })
        .collect()
}

fn write_source(dir: &Path) -> (PathBuf, Vec<(i64, TapeEvent)>) {
    let day = source_day();
    let path = dir.join("2024-01-02.tape");
    tape::write_day(&path, "condor-test", &day).expect("the source tape is written");
    (path, day)
}

fn tape_config(path: &Path, speed: TapeSpeed) -> SimConfig {
    let mut cfg = SimConfig::default();
    cfg.exchange.tape = Some(Arc::new(load_day(path).expect("the tape loads")));
    cfg.tape_speed = speed;
    cfg
}

/// A frame as [`Seen`], or `None` for acks and other frames.
fn seen(v: &Value) -> Option<Seen> {
    let tr = v["header"]["tr_cd"].as_str()?;
    if !v["body"].is_object() {
        return None;
    }
    match tr {
        "AFR" => Some(Seen::Alert(
            v["body"]["gsCode"].as_str()?.to_owned(),
            v["body"]["gsJobFlag"].as_str()?.to_owned(),
        )),
        "S3_" | "K3_" => {
            let text = v.to_string();
            let ServerFrame::Trade { body, .. } =
                decode_server_frame(&text).expect("a trade frame decodes")
            else {
                panic!("not a trade frame: {text}")
            };
            let tick = body
                .fields()
                .to_tick(std::time::Instant::now())
                .unwrap_or_else(|e| panic!("{e}: {text}"));
            Some(Seen::Trade(TapeTrade::from_tick(&tick)))
        }
        _ => None,
    }
}

/// token → t1866 (the tape's condition) → t1860 → the `sAlertNum`.
async fn register_condition(c: &Client) -> String {
    let (_, _, list) = c
        .tr("/stock/item-search", "t1866", json!({"t1866InBlock": {"user_id": "", "gb": "0", "group_name": "", "cont": "", "cont_key": ""}}))
        .await;
    let conds = list["t1866OutBlock1"].as_array().unwrap();
    assert_eq!(conds.len(), 1, "only the tape's condition: {list}");
    assert_eq!(conds[0]["query_index"], TAPE_QUERY_INDEX, "{list}");
    assert_eq!(
        conds[0]["query_name"], CONDITION_NAME,
        "named by the Started record: {list}"
    );
    let (_, _, reg) = c
        .tr("/stock/item-search", "t1860", json!({"t1860InBlock": {"sSysUserFlag": "U", "sFlag": "E", "sAlertNum": "", "query_index": TAPE_QUERY_INDEX}}))
        .await;
    assert_eq!(reg["t1860OutBlock"]["sResultFlag"], "S", "{reg}");
    reg["t1860OutBlock"]["sAlertNum"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Registers AFR and every ticker's trades (KOSDAQ on K3_), each acknowledged.
async fn register_everything(c: &Client, ws: &mut Ws, alert: &str) {
    for (tr, key) in [
        ("AFR", alert),
        ("S3_", A),
        ("K3_", B),
        ("S3_", C),
        ("S3_", D),
    ] {
        let ack = c.register(ws, "3", tr, key).await;
        assert_eq!(ack["header"]["rsp_cd"], "00000", "{tr} {key}: {ack}");
    }
}

/// Reads frames until `n` of them are alerts or trades.
async fn collect(ws: &mut Ws, n: usize) -> Vec<(Seen, std::time::Instant)> {
    let mut got = Vec::new();
    while got.len() < n {
        let v = next_json(ws).await;
        if let Some(s) = seen(&v) {
            got.push((s, std::time::Instant::now()));
        }
    }
    got
}

async fn t1859_codes(c: &Client) -> Vec<String> {
    let (_, _, v) = c
        .tr(
            "/stock/item-search",
            "t1859",
            json!({"t1859InBlock": {"query_index": TAPE_QUERY_INDEX}}),
        )
        .await;
    v["t1859OutBlock1"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|r| r["shcode"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_max_speed_a_client_gets_the_whole_day_in_order_with_the_recorded_fields() {
    let dir = tempfile::tempdir().unwrap();
    let (path, day) = write_source(dir.path());
    let sim = common::start(tape_config(&path, TapeSpeed::Max));
    let c = Client::connect(&sim).await;

    // The tape's tickers are listed: C, unknown to the universe, as KOSPI under its code,
    // with the tape's previous close and the ±30% band from it.
    let (_, _, master) = c
        .tr(
            "/stock/etc",
            "t8436",
            json!({"t8436InBlock": {"gubun": "0"}}),
        )
        .await;
    let row = |code: &str| {
        master["t8436OutBlock"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["shcode"] == code)
            .unwrap_or_else(|| panic!("{code} listed"))
            .clone()
    };
    assert_eq!(
        (row(C)["gubun"].clone(), row(C)["hname"].clone()),
        (json!("1"), json!(C))
    );
    assert_eq!(row(B)["gubun"], "2");
    assert_eq!(
        num(&row(A)["jnilclose"]),
        70_000,
        "the tape's close, not the universe's"
    );
    let q = c.current_price(C).await;
    assert_eq!(
        (
            num(&q["recprice"]),
            num(&q["uplmtprice"]),
            num(&q["dnlmtprice"]),
            num(&q["price"])
        ),
        (10_000, 13_000, 7_000, 10_000)
    );

    let alert = register_condition(&c).await;
    // Nothing plays until a client registers for frames.
    sleep(Duration::from_millis(300)).await;
    assert_eq!(sim.stats().await.trades, 0, "the tape waits for a client");
    let mut ws = c.ws().await;
    register_everything(&c, &mut ws, &alert).await;

    let want = expected_frames(&day);
    let got: Vec<Seen> = collect(&mut ws, want.len())
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    let trades = want.iter().filter(|s| matches!(s, Seen::Trade(_))).count();
    assert!(trades > 1_900, "{trades} trades");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "frame {i} of {}", want.len());
    }
    assert_eq!(sim.stats().await.trades, trades as u64);

    // After the end: t1859 from the tape's state, the market open, nothing more printed.
    assert_eq!(t1859_codes(&c).await, [B]);
    let v = c.order(A, 10, 70_000, "2", "00").await;
    assert_eq!(v["rsp_cd"], "00040", "the market stays open: {v}");
    let more = tokio::time::timeout(Duration::from_millis(500), async {
        loop {
            match ws.next().await {
                Some(Ok(m)) => {
                    if let Some(s) = m
                        .to_text()
                        .ok()
                        .and_then(|t| serde_json::from_str::<Value>(t).ok())
                        .and_then(|v| seen(&v))
                    {
                        return s;
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        }
    })
    .await;
    assert!(more.is_err(), "nothing after the last record: {more:?}");
    assert_eq!(sim.stats().await.trades, trades as u64);
}

/// A websocket whose socket receive buffer is a few KB, so what the client does not read
/// backs up into the simulator quickly.
async fn small_buffer_ws(url: &str) -> Ws {
    let addr: std::net::SocketAddr = url
        .trim_start_matches("ws://")
        .trim_end_matches("/websocket")
        .parse()
        .unwrap();
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(stream))
        .await
        .expect("websocket connects");
    ws
}

/// A client that does not read for seconds while the tape plays at full speed, through a
/// small socket buffer: thousands of batches (each entry ends one), more than a session's
/// queue and the socket hold. The exchange waits for it rather than dropping it or a frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_max_speed_a_slow_client_is_waited_for_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flapping.tape");
    let mut day = Vec::new();
    for i in 0..4_000i64 {
        let ns = T0 + i * 3_000_000;
        let at = TimeOfDay::from_secs(10 * 3600 + (i * 3 / 1000) as u32);
        day.push((
            ns,
            TapeEvent::ConditionEnter {
                ticker: tk(A),
                market_time: at,
                condition: condor_actors::messages::ConditionId::FIRST,
            },
        ));
        for k in 0..2i64 {
            day.push((
                ns + 1_000_000 + k,
                TapeEvent::Trade(TapeTrade {
                    ticker: tk(A),
                    price: Price::lit(70_000 + 100 * ((i + k) % 7)),
                    qty: Qty::lit(1 + (i + k) as u64 % 13),
                    cum_volume: 1_000 + (2 * i + k) as u64,
                    prev_close: Price::lit(70_000),
                    aggressor: if k == 0 { Side::Buy } else { Side::Sell },
                    exchange_time: at,
                    seq: (2 * i + k) as u64 + 1,
                }),
            ));
        }
        day.push((
            ns + 2_000_000,
            TapeEvent::ConditionExit {
                ticker: tk(A),
                market_time: at,
                condition: condor_actors::messages::ConditionId::FIRST,
            },
        ));
    }
    tape::write_day(&path, "condor-test", &day).unwrap();
    let sim = common::start(tape_config(&path, TapeSpeed::Max));
    let c = Client::connect(&sim).await;
    let (_, _, reg) = c
        .tr("/stock/item-search", "t1860", json!({"t1860InBlock": {"sSysUserFlag": "U", "sFlag": "E", "sAlertNum": "", "query_index": TAPE_QUERY_INDEX}}))
        .await;
    let alert = reg["t1860OutBlock"]["sAlertNum"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ws = small_buffer_ws(sim.ws_url()).await;
    for (tr, key) in [("AFR", alert.as_str()), ("S3_", A)] {
        let ack = c.register(&mut ws, "3", tr, key).await;
        assert_eq!(ack["header"]["rsp_cd"], "00000", "{ack}");
    }
    // The tape starts a second after the registration; read nothing for three.
    sleep(Duration::from_secs(3)).await;
    let want = expected_frames(&day);
    assert_eq!(want.len(), 16_000);
    let got: Vec<Seen> = collect(&mut ws, want.len())
        .await
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "frame {i}");
    }
    assert_eq!(
        sim.subscriptions().await.trade_subscribers(A),
        1,
        "still connected"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_speed_n_the_recorded_gaps_shrink_n_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.tape");
    // Six trades of A, 400 ms apart (2 s in all), and its entry; no Started record, so
    // the condition is named after the file.
    let mut day = vec![(
        T0,
        TapeEvent::ConditionEnter {
            ticker: tk(A),
            market_time: TimeOfDay::hms(10, 0, 0),
            condition: condor_actors::messages::ConditionId::FIRST,
        },
    )];
    for i in 0..6i64 {
        day.push((
            T0 + i * 400_000_000,
            TapeEvent::Trade(TapeTrade {
                ticker: tk(A),
                price: Price::lit(70_000 + 100 * i),
                qty: Qty::lit(10),
                cum_volume: 100 + 10 * i as u64,
                prev_close: Price::lit(70_000),
                aggressor: Side::Buy,
                exchange_time: TimeOfDay::from_secs(10 * 3600 + (i * 400 / 1000) as u32),
                seq: i as u64 + 1,
            }),
        ));
    }
    tape::write_day(&path, "condor-test", &day).unwrap();
    let sim: SimHandle = common::start(tape_config(&path, TapeSpeed::Times(4.0)));
    let c = Client::connect(&sim).await;
    let (_, _, list) = c
        .tr("/stock/item-search", "t1866", json!({"t1866InBlock": {"user_id": "", "gb": "0", "group_name": "", "cont": "", "cont_key": ""}}))
        .await;
    assert_eq!(list["t1866OutBlock1"][0]["query_name"], "short", "{list}");
    let mut ws = c.ws().await;
    let ack = c.register(&mut ws, "3", "S3_", A).await;
    assert_eq!(ack["header"]["rsp_cd"], "00000");
    // The registration started the tape's countdown (1 s) before this ack left.
    let registered = std::time::Instant::now();
    let got = collect(&mut ws, 6).await;
    let prices: Vec<i64> = got
        .iter()
        .map(|(s, _)| match s {
            Seen::Trade(t) => t.price.won(),
            other => panic!("a trade: {other:?}"),
        })
        .collect();
    assert_eq!(prices, [70_000, 70_100, 70_200, 70_300, 70_400, 70_500]);
    // Recorded 400 ms apart, at 4×: trade i is due 1 s + i × 100 ms after the registration.
    // A frame cannot come before it is due (less the ack's own trip); a generous bound on
    // the last tells 4× from 1× (which would take 3 s).
    for (i, (_, at)) in got.iter().enumerate() {
        let after = *at - registered;
        let due = Duration::from_millis(1_000 + 100 * i as u64);
        assert!(
            after + Duration::from_millis(50) >= due,
            "trade {i} after {after:?}, due at {due:?}: too fast for 4x"
        );
    }
    let last = got[5].1 - registered;
    assert!(
        last < Duration::from_millis(2_500),
        "{last:?}: too slow for 4x"
    );
}

/// `condor sim --tape FILE --speed max` as a user starts it, logging at info.
fn start_tape_sim(work: &Work, tape: &Path) -> Sim {
    let tape = tape.to_str().expect("a UTF-8 temp path");
    lives::start_sim_args(work, "info", &["--speed", "max", "--tape", tape])
}

/// What condor's own tape holds: its trades per ticker (seq cleared) and its condition
/// events as (enter?, ticker).
#[derive(Debug, Default)]
struct Recorded {
    trades: BTreeMap<Ticker, Vec<TapeTrade>>,
    conditions: Vec<(bool, Ticker)>,
}

impl Recorded {
    fn trade_count(&self) -> usize {
        self.trades.values().map(Vec::len).sum()
    }
}

fn condor_tape(data: &Path) -> Recorded {
    let mut r = Recorded::default();
    let Ok(days) = tape::list_days(&data.join("tape")) else {
        return r;
    };
    let Some((_, path)) = days.into_iter().last() else {
        return r;
    };
    let Ok(file) = tape::read(&path) else {
        return r;
    };
    for rec in file.records {
        match rec.event {
            TapeEvent::Trade(t) => r
                .trades
                .entry(t.ticker)
                .or_default()
                .push(TapeTrade { seq: 0, ..t }),
            TapeEvent::ConditionEnter { ticker, .. } => r.conditions.push((true, ticker)),
            TapeEvent::ConditionExit { ticker, .. } => r.conditions.push((false, ticker)),
            _ => {}
        }
    }
    r
}

/// The source's view of the same: every trade of a ticker between its entry and its exit,
/// and the condition events.
fn watched_in_source(day: &[(i64, TapeEvent)]) -> Recorded {
    let mut r = Recorded::default();
    let mut inside = std::collections::BTreeSet::new();
    for (_, e) in day {
        match e {
            TapeEvent::ConditionEnter { ticker, .. } => {
                inside.insert(*ticker);
                r.conditions.push((true, *ticker));
            }
            TapeEvent::ConditionExit { ticker, .. } => {
                inside.remove(ticker);
                r.conditions.push((false, *ticker));
            }
            TapeEvent::Trade(t) if inside.contains(&t.ticker) => r
                .trades
                .entry(t.ticker)
                .or_default()
                .push(TapeTrade { seq: 0, ..*t }),
            _ => {}
        }
    }
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condor_run_against_the_tape_records_the_same_day() {
    let work = Work::new("sim-tape", 1);
    let (source, day) = write_source(&work.0);
    let sim = start_tape_sim(&work, &source);
    let data = work.path("data");
    let settings = RunSettings::new(&sim, &data, &[("CONDOR_CONDITION", TAPE_QUERY_INDEX)]);
    let mut condor = spawn_condor(&work, &settings, 1);

    let want = watched_in_source(&day);
    assert_eq!(want.trades.len(), 3, "A, B and C are watched");
    let sim_log = work.path("sim.log");
    let wanted = want.trade_count();
    condor
        .until_with(
            Poll::every(Duration::from_millis(50)).within(PATIENCE * 2),
            || {
                format!(
                    "the day to be played and recorded\nsim:\n{}",
                    tail(&sim_log, 20)
                )
            },
            async || {
                let finished = std::fs::read_to_string(&sim_log)
                    .unwrap_or_default()
                    .contains("tape finished:");
                let recorded = condor_tape(&data).trade_count();
                if finished && recorded >= wanted {
                    Ok(())
                } else {
                    Err(format!(
                        "sim finished: {finished}, condor recorded {recorded} of {wanted} trades"
                    ))
                }
            },
        )
        .await;
    let log = std::fs::read_to_string(work.path("sim.log")).unwrap();
    let played = day
        .iter()
        .filter(|(_, e)| matches!(e, TapeEvent::Trade(_)))
        .count();
    assert!(
        log.contains(&format!(
            "tape finished: {played} trades, 5 condition events"
        )),
        "{}",
        tail(&work.path("sim.log"), 10)
    );
    let (status, _, err) = condor.terminate().await;
    assert!(
        status.success(),
        "condor run stops cleanly on SIGTERM: {status}\n{err}"
    );

    let got = condor_tape(&data);
    assert_eq!(
        got.conditions, want.conditions,
        "the same condition events, in order"
    );
    assert_eq!(
        got.trades.keys().collect::<Vec<_>>(),
        want.trades.keys().collect::<Vec<_>>(),
        "trades of the watched tickers only"
    );
    for (ticker, trades) in &want.trades {
        let mine = &got.trades[ticker];
        assert_eq!(mine.len(), trades.len(), "{ticker}: as many trades");
        for (i, (m, w)) in mine.iter().zip(trades).enumerate() {
            assert_eq!(m, w, "{ticker}: trade {i}");
        }
    }
}
