//! `condor backtest`, the binary, on recorded days: a report a person reads and the same
//! as JSON, byte for byte on every run; the fills as CSV; a self-contained HTML report that
//! a real headless Chromium renders with its charts; a parameter sweep whose three shards
//! merge into exactly the table one run gives; and every bad input refused with a message
//! naming the argument or file, exit code 2, nothing written.

#[path = "support/browser.rs"]
mod browser;
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{lives, until, Poll, PATIENCE};
use condor_actors::domain::OrderNo;
use condor_actors::market::{self, Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::tape::{self, TapeEvent, TapeTrade};
use serde_json::Value;

/// 09:00 KST on 2026-12-04, in Unix ns.
const OPEN_NS: i64 = 1_764_806_400_000_000_000;

const TICKERS: &[&str] = &["005930", "000660", "035420", "035720", "051910", "068270"];

/// A recorded-looking day: each ticker trades about once a second for an hour on a seeded
/// walk over the tick grid, drifting up or down by ticker, and enters the condition, then
/// leaves and enters again. A ticker is quiet for three seconds after it enters: live, its
/// feed subscribes only once the screener's word has arrived, and a trade printed in that
/// moment never reaches condor (the parity test plays this at 10x).
fn day(seed: u64) -> Vec<(i64, TapeEvent)> {
    day_of(seed, 3_600)
}

/// [`day`], `secs` seconds long.
fn day_of(seed: u64, secs: i64) -> Vec<(i64, TapeEvent)> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut events = Vec::new();
    let mut prices: Vec<Price> = TICKERS
        .iter()
        .map(|_| market::round_to_grid(Price::lit(rng.i64(5_000..200_000)), market::Rounding::Down))
        .collect();
    let closes = prices.clone();
    let mut volume = vec![0u64; TICKERS.len()];
    let mut seq = 0;
    for s in 0..secs {
        let at = OPEN_NS + s * 1_000_000_000;
        let time = TimeOfDay::from_secs(9 * 3600 + s as u32);
        for (i, code) in TICKERS.iter().enumerate() {
            let ticker = Ticker::parse(code).unwrap();
            let enters = [5 + i as i64 * 30, 1_800 + i as i64 * 20];
            if enters.contains(&s) {
                events.push((
                    at,
                    TapeEvent::ConditionEnter {
                        ticker,
                        market_time: time,
                        condition: condor_actors::messages::ConditionId::FIRST,
                    },
                ));
            }
            if s == 1_200 + i as i64 * 40 {
                events.push((
                    at,
                    TapeEvent::ConditionExit {
                        ticker,
                        market_time: time,
                        condition: condor_actors::messages::ConditionId::FIRST,
                    },
                ));
            }
            if enters.iter().any(|e| (*e..*e + 3).contains(&s)) {
                continue;
            }
            let drift = if i % 2 == 0 { 6 } else { 4 };
            let up = rng.u32(0..10) < drift;
            let limits = market::DailyLimits::from_base(closes[i]);
            prices[i] = limits.clamp(if up {
                market::tick_up(prices[i]).unwrap_or(limits.upper)
            } else {
                market::tick_down(prices[i])
            });
            let qty = 1 + rng.u64(0..300);
            volume[i] += qty;
            seq += 1;
            events.push((
                at + i as i64 * 1_000_000,
                TapeEvent::Trade(TapeTrade {
                    ticker,
                    price: prices[i],
                    qty: Qty::lit(qty),
                    cum_volume: volume[i],
                    prev_close: closes[i],
                    aggressor: if up { Side::Buy } else { Side::Sell },
                    exchange_time: time,
                    seq,
                }),
            ));
        }
    }
    events
}

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Dir {
        let d = Dir(tempfile::tempdir().unwrap());
        for (n, name) in ["2026-12-03", "2026-12-04"].iter().enumerate() {
            let path = d.tapes().join(format!("{name}.tape"));
            std::fs::create_dir_all(d.tapes()).unwrap();
            tape::write_day(&path, "test", &day(n as u64 + 1)).unwrap();
        }
        d
    }

    fn tapes(&self) -> PathBuf {
        self.0.path().join("tape")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.path().join(name)
    }
}

fn condor(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_condor"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CONDOR_DATA_DIR", dir)
        // Momentum tuned to trade these walks: enter on any rise, out on 0.5% or 60 s.
        .env("CONDOR_MIN_CHANGE_BP", "-3000")
        .env("CONDOR_CONFIRM_TICKS", "2")
        .env("CONDOR_TAKE_PROFIT_BP", "50")
        .env("CONDOR_STOP_LOSS_BP", "50")
        .env("CONDOR_MAX_HOLD_SECS", "60")
        .env("CONDOR_COMMISSION_PPM", "150")
        .env("CONDOR_SELL_TAX_PPM", "2000")
        .current_dir(dir)
        .arg("backtest")
        .args(args)
        .output()
        .expect("condor backtest runs")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[tokio::test]
async fn a_backtest_reports_the_same_every_time_with_its_fills_and_a_page() {
    let d = Dir::new();
    let root = d.0.path();
    let tapes = d.tapes();
    let tapes = tapes.to_str().unwrap();
    let a = condor(root, &["--tape", tapes, "--json"]);
    let b = condor(root, &["--tape", "2026-12-04", "2026-12-03", "--json"]);
    assert_eq!(
        a.stdout, b.stdout,
        "a directory and its days, in any order, are one run"
    );
    let r = json(&a);
    let again = condor(root, &["--tape", tapes, "--json"]);
    assert_eq!(a.stdout, again.stdout, "byte-identical on every run");
    assert!(r["orders"].as_u64().unwrap() >= 10, "{r}");
    assert!(r["trades"].as_u64().unwrap() >= 5, "{r}");
    assert!(
        r["commission"].as_i64().unwrap() > 0 && r["tax"].as_i64().unwrap() > 0,
        "{r}"
    );
    assert_eq!(
        r["net_pnl"].as_i64().unwrap(),
        r["closing_equity"].as_i64().unwrap() - r["opening_cash"].as_i64().unwrap()
    );
    assert_eq!(r["per_day"].as_object().unwrap().len(), 2, "{r}");
    let per_day: i64 = r["per_day"]
        .as_object()
        .unwrap()
        .values()
        .map(|l| l["net_pnl"].as_i64().unwrap())
        .sum();
    // Flat at each day's end: the days' realized, net of fees, are the whole.
    assert_eq!(r["unrealized_pnl"].as_i64().unwrap(), 0, "{r}");
    assert_eq!(per_day, r["net_pnl"].as_i64().unwrap());

    // Carrying cash and positions over: the same days as one account.
    let carried = json(&condor(root, &["--tape", tapes, "--carry", "--json"]));
    assert_eq!(
        carried["per_day"].as_object().unwrap().len(),
        2,
        "{carried}"
    );
    assert_eq!(
        carried["closing_equity"].as_i64().unwrap(),
        carried["opening_cash"].as_i64().unwrap() + carried["net_pnl"].as_i64().unwrap()
    );
    assert_eq!(
        carried["fills"], r["fills"],
        "flat at each day's end: the same trading"
    );

    // The text a person reads, the fills as CSV and the page.
    let csv = d.path("fills.csv");
    let html = d.path("report.html");
    let text = condor(
        root,
        &[
            "--tape",
            tapes,
            "--trades",
            csv.to_str().unwrap(),
            "--report",
            html.to_str().unwrap(),
        ],
    );
    assert!(
        text.status.success(),
        "{}",
        String::from_utf8_lossy(&text.stderr)
    );
    let text = String::from_utf8_lossy(&text.stdout);
    for want in [
        "net P&L",
        "win rate",
        "profit factor",
        "max drawdown",
        "exposure",
        "2026-12-04",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        rows.lines().count() as u64,
        r["fills"].as_u64().unwrap() + 1
    );
    assert!(rows.starts_with("day,time,ticker,side,qty,price,commission,tax"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains("http://") && !page.contains("https://"),
        "self-contained"
    );
    let mut b = browser::Browser::launch(1200, 900).await;
    b.goto(&format!("file://{}", html.display())).await;
    let shown = until("the report has loaded", async || {
        let shown = b
            .eval("({ready: document.readyState, images: [...document.images].map(i => i.complete ? i.naturalWidth : 0), fills: document.querySelectorAll('#fills tr').length - 1})")
            .await;
        if shown["ready"] == "complete" {
            Ok(shown)
        } else {
            Err(shown.to_string())
        }
    })
    .await;
    // Three charts drawn in Rust, each decoded by the browser at its full width.
    assert_eq!(
        shown["images"],
        serde_json::json!([800, 800, 800]),
        "{shown}"
    );
    assert_eq!(shown["fills"].as_u64(), r["fills"].as_u64(), "{shown}");
}

#[test]
fn a_sweep_in_three_shards_merges_into_the_table_of_one_run() {
    let d = Dir::new();
    let root = d.0.path();
    let tapes = d.tapes();
    let grid = [
        "--set",
        "take_profit_bp=30,50,80",
        "--set",
        "stop_loss_bp=30,60",
    ];
    let mut args = vec!["--tape", tapes.to_str().unwrap(), "--json"];
    args.extend(grid);
    let whole = condor(root, &args);
    let table = json(&whole);
    assert_eq!(table["rows"].as_array().unwrap().len(), 6, "{table}");
    let nets: Vec<i64> = table["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["net_pnl"].as_i64().unwrap())
        .collect();
    assert!(
        nets.windows(2).all(|w| w[0] >= w[1]),
        "best first: {nets:?}"
    );
    let mut shards = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let mut a = args.clone();
        a.extend(["--shard", &shard]);
        let out = condor(root, &a);
        let file = d.path(&format!("shard{i}.json"));
        std::fs::write(&file, json(&out).to_string()).unwrap();
        shards.push(file);
    }
    let mut merge = vec!["merge", "--json"];
    merge.extend(shards.iter().map(|p| p.to_str().unwrap()));
    let merged = condor(root, &merge);
    assert_eq!(
        json(&merged),
        table,
        "the shards merged are the whole table"
    );
    // The text table, best first.
    let mut text_args: Vec<&str> = vec!["--tape", tapes.to_str().unwrap()];
    text_args.extend(grid);
    let text = condor(root, &text_args);
    assert!(String::from_utf8_lossy(&text.stdout).contains("take_profit_bp="));
}

#[test]
fn bad_input_is_an_error_naming_it_and_writes_nothing() {
    let d = Dir::new();
    let root = d.0.path();
    let tapes = d.tapes();
    let t = tapes.to_str().unwrap();
    let corrupt = d.path("2026-12-05.tape");
    let mut bytes = std::fs::read(tapes.join("2026-12-04.tape")).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&corrupt, bytes).unwrap();
    let html = d.path("never.html");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--tape", t, "--set", "take_profit_bq=10"],
            "--set take_profit_bq: not a parameter",
        ),
        (vec!["--tape", t, "--set", "stop_loss_bp=0"], "stop_loss_bp"),
        (
            vec!["--tape", t, "--set", "take_profit_bp=10,,20"],
            "--set take_profit_bp: an empty value",
        ),
        (
            vec!["--tape", "2020-01-02"],
            "--tape 2020-01-02: no tape for that day",
        ),
        (vec!["--tape", "nowhere.tape"], "--tape nowhere.tape"),
        (
            vec![
                "--tape",
                corrupt.to_str().unwrap(),
                "--report",
                html.to_str().unwrap(),
            ],
            "2026-12-05.tape",
        ),
        (vec!["--tape", t, "--shard", "4/3"], "--shard"),
    ];
    for (args, want) in cases {
        let out = condor(root, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {want:?} not in {err}");
    }
    assert!(!html.exists(), "nothing written half-way");
    // Shards of different grids are refused, naming the file.
    let a = condor(
        root,
        &[
            "--tape",
            t,
            "--set",
            "take_profit_bp=30,50",
            "--shard",
            "1/2",
            "--json",
        ],
    );
    let b = condor(
        root,
        &[
            "--tape",
            t,
            "--set",
            "take_profit_bp=30,60",
            "--shard",
            "2/2",
            "--json",
        ],
    );
    let (fa, fb) = (d.path("a.json"), d.path("b.json"));
    std::fs::write(&fa, &a.stdout).unwrap();
    std::fs::write(&fb, &b.stdout).unwrap();
    let out = condor(root, &["merge", fa.to_str().unwrap(), fb.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("b.json: a shard of another grid"), "{err}");
}

/// A live day recorded by `condor run` (one life against a standalone `condor sim` that
/// charges commission and tax), then backtested with the fills it received
/// (`--fills recorded`): the realized P&L and the fees are the live run's to the won, as
/// its own summary printed them at the stop.
#[tokio::test]
async fn recorded_fills_reproduce_the_live_days_pnl_to_the_won() {
    let work = lives::Work::new("backtest-recorded", 3);
    let scenario = lives::busy_scenario("condition S001 backtest\n", TICKERS, 300);
    let sim = lives::start_sim_with(
        &work,
        3,
        "5",
        &scenario,
        &["--commission-ppm", "150", "--sell-tax-ppm", "2000"],
    );
    let data = work.path("data");
    let mut settings = lives::RunSettings::new(&sim, &data, lives::BUSY);
    settings.set("CONDOR_COMMISSION_PPM", "150");
    settings.set("CONDOR_SELL_TAX_PPM", "2000");
    let mut c = lives::spawn_condor(&work, &settings, 0);
    // Trade until a dozen fills are journaled.
    let journal = data.join("journal");
    c.until_with(
        Poll::default().within(PATIENCE * 3),
        "a dozen fills journaled",
        async || {
            let fills = condor_actors::journal::store::list_days(&journal)
                .ok()
                .and_then(|d| d.into_iter().last())
                .and_then(|(_, p)| std::fs::read_to_string(p).ok())
                .map_or(0, |t| t.matches("\"event\":\"filled\"").count());
            if fills >= 12 {
                Ok(())
            } else {
                Err(format!("only {fills} fills"))
            }
        },
    )
    .await;
    let (status, stdout, stderr) = c.terminate().await;
    assert!(status.success(), "{stderr}");
    // "P&L  realized R won, unrealized U won, fees F won; …"
    let line = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("P&L"))
        .unwrap_or_else(|| panic!("no P&L line in the summary:\n{stdout}"));
    let figure = |after: &str| -> i64 {
        let rest = &line[line.find(after).unwrap() + after.len()..];
        rest.split_whitespace()
            .next()
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap()
    };
    let (realized, fees) = (figure("realized "), figure("fees "));

    let tape_dir = data.join("tape");
    let out = condor(
        &work.0,
        &[
            "--tape",
            tape_dir.to_str().unwrap(),
            "--fills",
            "recorded",
            "--json",
        ],
    );
    let r = json(&out);
    assert!(r["fills"].as_u64().unwrap() >= 12, "{r}");
    assert_eq!(
        r["realized_pnl"].as_i64().unwrap(),
        realized,
        "realized P&L, live: {line}"
    );
    assert_eq!(
        r["commission"].as_i64().unwrap() + r["tax"].as_i64().unwrap(),
        fees,
        "fees and tax, live: {line}"
    );
    println!(
        "live and --fills recorded agree: realized {realized} won, fees {fees} won over {} fills",
        r["fills"]
    );

    // The model with latencies drawn from this day's own intent→fill times: seeded, so
    // the same seed gives the same report.
    let args = [
        "--tape",
        tape_dir.to_str().unwrap(),
        "--latency-ms",
        "recorded",
        "--seed",
        "7",
        "--json",
    ];
    let (a, b) = (condor(&work.0, &args), condor(&work.0, &args));
    let drawn = json(&a);
    assert_eq!(a.stdout, b.stdout, "the same seed, the same report");
    assert!(drawn["orders"].as_u64().unwrap() > 0, "{drawn}");
}

/// The intents of a live run as replay and backtest print them, less the tick's number
/// (each websocket session numbers its trades afresh).
fn intent_key(v: &Value) -> String {
    format!(
        "{} {} {} {} {} ({})",
        v["ticker"].as_str().unwrap(),
        v["side"].as_str().unwrap(),
        v["qty"],
        v["order_type"].as_str().unwrap(),
        v["price"],
        v["reason"].as_str().unwrap()
    )
}

/// Parity with live: a day played by `condor sim --tape` and traded by `condor run`, and the
/// same day through `condor backtest`, make the same intents in the same order. Fills may
/// differ where the exchange and the fill model meet a trade differently (below).
#[tokio::test]
async fn a_backtest_makes_the_intents_condor_run_made_on_the_same_day() {
    let work = lives::Work::new("backtest-parity", 5);
    let source = work.path("2026-12-04.tape");
    tape::write_day(&source, "test", &day_of(5, 240)).unwrap();
    let sim = lives::start_sim_with(
        &work,
        5,
        "1",
        "",
        &["--tape", source.to_str().unwrap(), "--speed", "10"],
    );
    let data = work.path("data");
    // Exits on price only: the time stop and the pre-close flatten run on timers, whose
    // wall-clock cadence a faster-than-life replay would change.
    let strategy: &[(&str, &str)] = &[
        ("CONDOR_CONDITION", "T001"),
        ("CONDOR_MIN_CHANGE_BP", "-3000"),
        ("CONDOR_CONFIRM_TICKS", "2"),
        ("CONDOR_TAKE_PROFIT_BP", "50"),
        ("CONDOR_STOP_LOSS_BP", "50"),
        ("CONDOR_MAX_HOLD_SECS", "86000"),
    ];
    let settings = lives::RunSettings::new(&sim, &data, strategy);
    let mut c = lives::spawn_condor(&work, &settings, 0);
    // The tape plays in 24 s at 10x: wait until condor's own tape has stopped growing.
    let (mut last, mut still) = (0, 0);
    Poll::every(std::time::Duration::from_millis(100))
        .within(PATIENCE * 4)
        .until("condor's tape never settled", async || {
            c.assert_alive();
            let n = std::fs::read_dir(data.join("tape"))
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| e.ok())
                .and_then(|e| tape::read(&e.path()).ok())
                .map_or(0, |f| {
                    f.records
                        .iter()
                        .filter(|r| matches!(r.event, TapeEvent::Trade(_)))
                        .count()
                });
            (still, last) = if n == last && n > 0 {
                (still + 1, n)
            } else {
                (0, n)
            };
            still >= 30
        })
        .await;
    let (status, _, stderr) = c.terminate().await;
    assert!(status.success(), "{stderr}");
    let live_tape = std::fs::read_dir(data.join("tape"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let live: Vec<String> = tape::read(&live_tape)
        .unwrap()
        .records
        .iter()
        .filter_map(|r| match &r.event {
            TapeEvent::Intent(i) => Some(intent_key(
                &serde_json::to_value(condor_actors::trading::replay::IntentRow::new(i)).unwrap(),
            )),
            _ => None,
        })
        .collect();
    let intents = work.path("intents.json");
    let mut env: Vec<(&str, &str)> = strategy.to_vec();
    env.retain(|(k, _)| *k != "CONDOR_CONDITION");
    let fills_csv = work.path("fills.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_condor"))
        .env_clear()
        .envs(env)
        .arg("backtest")
        .args(["--tape", source.to_str().unwrap(), "--json", "--intents"])
        .arg(&intents)
        .arg("--trades")
        .arg(&fills_csv)
        .output()
        .unwrap();
    let r = json(&out);
    let backtested: Vec<String> =
        serde_json::from_str::<Vec<Value>>(&std::fs::read_to_string(&intents).unwrap())
            .unwrap()
            .iter()
            .map(intent_key)
            .collect();
    println!(
        "parity: {} intents live, {} in the backtest; {} fills in the backtest",
        live.len(),
        backtested.len(),
        r["fills"]
    );
    assert!(live.len() >= 6, "too few intents to compare: {live:?}");
    assert_eq!(backtested, live);

    // Fills: the exchange fills an order on the ticker's first trade after the order
    // reaches it, the model on the first trade after the intent (latency 0). At 10x a
    // ticker trades every 100 ms of wall time and an order reaches the exchange in a few
    // ms, so both meet the same trade unless a REST call takes longer than that: then the
    // live fill comes one trade later, at a price at most one tick away on this walk.
    let live_fills: Vec<(String, String, u64, i64)> = tape::read(&live_tape)
        .unwrap()
        .records
        .iter()
        .filter_map(|r| match &r.event {
            TapeEvent::Fill(f) if f.order_no != OrderNo::NONE => Some((
                f.ticker.as_str().to_owned(),
                format!("{:?}", f.side).to_lowercase(),
                f.qty.shares(),
                f.price.won(),
            )),
            _ => None,
        })
        .collect();
    let model_fills: Vec<(String, String, u64, i64)> = std::fs::read_to_string(&fills_csv)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[2].to_owned(),
                c[3].to_owned(),
                c[4].parse().unwrap(),
                c[5].parse().unwrap(),
            )
        })
        .collect();
    // An order the exchange fills across two trades (its REST call outlived the first
    // under load) is one fill in the model: compared per ticker and side, the shares must
    // be the same and the average price within one tick.
    let by_side = |fills: &[(String, String, u64, i64)]| {
        let mut books: std::collections::BTreeMap<(String, String), (u64, i64)> =
            Default::default();
        for (ticker, side, qty, price) in fills {
            let b = books.entry((ticker.clone(), side.clone())).or_default();
            b.0 += qty;
            b.1 += *qty as i64 * price;
        }
        books
    };
    let (live_books, model_books) = (by_side(&live_fills), by_side(&model_fills));
    assert_eq!(
        live_books.keys().collect::<Vec<_>>(),
        model_books.keys().collect::<Vec<_>>(),
        "live {live_fills:?}\nmodel {model_fills:?}"
    );
    let mut moved = 0;
    for ((key, l), m) in live_books.iter().zip(model_books.values()) {
        assert_eq!(
            l.0, m.0,
            "{key:?}: live {live_fills:?}\nmodel {model_fills:?}"
        );
        let (l_avg, m_avg) = (l.1 / l.0 as i64, m.1 / m.0 as i64);
        let tick = market::tick_size(Price::lit(l_avg.min(m_avg)));
        assert!(
            (l_avg - m_avg).abs() <= tick,
            "{key:?}: live average {l_avg}, model {m_avg}: more than a tick apart"
        );
        moved += usize::from(l_avg != m_avg);
    }
    println!(
        "parity: {} fills live, {} in the model; {moved} ticker-side(s) at another average than live (bound: one tick)",
        live_fills.len(),
        model_fills.len()
    );
}
