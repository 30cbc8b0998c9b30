//! A disk that fills while condor trades: `condor run` with its data directory on a small
//! tmpfs (a mount namespace of its own, `unshare -Urm`), trading a standalone `condor sim`
//! with positions coming and going. The test fills the tmpfs in two steps, through the
//! process's own view of it (`/proc/<pid>/root`): first under `CONDOR_DISK_LOW` (new
//! entries must stop, said once), then to the last byte (the journal's next write finds the
//! disk full, frees the reserve and goes on). Then: the positions held are exited, the
//! journal reads whole, every order the simulator has is one the journal sent before it
//! went, and no buy was sent once entries stopped.
//!
//! Needs user and mount namespaces (`unshare -Urm`), as a tmpfs cannot be mounted
//! otherwise without root; where they are not allowed the test says so and checks nothing.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::lives::{self, start_sim, tail, Proc, RunSettings, Sim, Work, BUSY};
use common::{until, until_within, PATIENCE};
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::store;
use condor_actors::market::Side;
use serde_json::{json, Value};

const TICKERS: &[&str] = &[
    "005930", "000660", "005380", "000270", "035420", "035720", "105560", "055550",
];

/// Mounts a tmpfs of `$1` bytes on `$2` (the data directory), runs condor on it, and once
/// it exits copies what it left to `$3` (the host can no longer see the tmpfs then).
const SCRIPT: &str = r#"
set -u
mount -t tmpfs -o size="$1" condor-test "$2" || exit 97
"$4" run > "$3/run.out" 2> "$3/run.log" &
echo $! > "$3/pid.tmp" && mv "$3/pid.tmp" "$3/pid"
wait $!
echo $? > "$3/rc"
rm -f "$2"/filler-*
mkdir -p "$3/after" && cp -a "$2/." "$3/after/"
touch "$3/done"
"#;

/// SIGKILLs condor (inside the namespace) if the test ends before it stopped.
struct KillOnDrop(u32);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

fn namespaces_allowed() -> bool {
    Command::new("unshare")
        .args(["-Urm", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Writes zeros into `path` until the disk is full or `bytes` are written; returns how many.
fn fill(path: &Path, bytes: u64) -> u64 {
    let mut f = std::fs::File::create(path).expect("the filler opens");
    let chunk = vec![0u8; 4096];
    let mut written = 0;
    while written < bytes {
        let n = (bytes - written).min(chunk.len() as u64) as usize;
        match f.write(&chunk[..n]) {
            Ok(0) => break,
            Ok(k) => written += k as u64,
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filler {}: {e}", path.display()),
        }
    }
    let _ = f.sync_all();
    written
}

/// The simulator's new orders (t0425, every page): (order number, ticker, side, qty).
async fn sim_orders(sim: &Sim) -> Vec<(i64, String, Side, u64)> {
    let http = reqwest::Client::new();
    let token = common::token(&http, &sim.rest, &sim.appkey, &sim.appsecret)
        .await
        .expect("token issued");
    let mut out = Vec::new();
    let mut key = String::new();
    loop {
        let body = json!({"t0425InBlock": {
            "expcode": "", "chegb": "0", "medosu": "0", "sortgb": "1", "cts_ordno": key
        }});
        let r = http
            .post(format!("{}/stock/accno", sim.rest))
            .header("content-type", "application/json; charset=utf-8")
            .header("authorization", format!("Bearer {token}"))
            .header("tr_cd", "t0425")
            .header("tr_cont", if key.is_empty() { "N" } else { "Y" })
            .header("tr_cont_key", key.clone())
            .body(body.to_string())
            .send()
            .await
            .expect("t0425");
        let more = r.headers().get("tr_cont").is_some_and(|v| v == "Y");
        let next = r
            .headers()
            .get("tr_cont_key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let v: Value = r.json().await.expect("t0425 JSON");
        for row in v["t0425OutBlock1"].as_array().expect("t0425OutBlock1") {
            if common::num(&row["orgordno"]) != 0 {
                continue; // a cancel, not an order
            }
            let side = match row["medosu"].as_str().unwrap() {
                "매수" => Side::Buy,
                _ => Side::Sell,
            };
            out.push((
                common::num(&row["ordno"]),
                row["expcode"].as_str().unwrap().to_owned(),
                side,
                common::num(&row["qty"]) as u64,
            ));
        }
        if !more {
            return out;
        }
        key = next;
    }
}

/// Shares held by ticker, by the journal's fills.
fn held(records: &[store::Record<JournalEvent>]) -> std::collections::BTreeMap<String, i64> {
    let mut held = std::collections::BTreeMap::<String, i64>::new();
    for r in records {
        if let JournalEvent::Filled {
            ticker, side, qty, ..
        } = &r.event
        {
            let q = held.entry(ticker.to_string()).or_default();
            *q += if *side == Side::Buy {
                qty.shares() as i64
            } else {
                -(qty.shares() as i64)
            };
        }
    }
    held.retain(|_, q| *q != 0);
    held
}

fn journal_file(data: &Path) -> PathBuf {
    let dir = data.join("journal");
    let mut days = store::list_days(&dir).expect("the journal directory lists");
    assert_eq!(days.len(), 1, "one day's journal in {}", dir.display());
    days.remove(0).1
}

async fn wait_for(what: &str, log: &Path, f: impl Fn(&str) -> bool) {
    until_within(
        PATIENCE * 3,
        || format!("{what}:\n{}", tail(log, 40)),
        async || std::fs::read_to_string(log).is_ok_and(|text| f(&text)),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_entries_frees_the_reserve_and_still_exits_with_everything_journaled() {
    if !namespaces_allowed() {
        eprintln!("SKIPPED: `unshare -Urm` is not allowed here, so no tmpfs can be mounted for condor's data directory");
        return;
    }
    let work = Work::new("diskfull", 1);
    let scenario = lives::busy_scenario("condition S001 disk test\n", TICKERS, 211);
    let sim = start_sim(&work, 7, "20", &scenario);
    let data = work.path("data");
    let host = work.path("host");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::create_dir_all(&host).unwrap();

    const TMPFS: u64 = 4 << 20;
    const LOW: u64 = 1 << 20;
    let mut settings = RunSettings::new(&sim, &data, BUSY);
    settings.set("CONDOR_HTTP_ADDR", "off");
    settings.set("CONDOR_DISK_LOW", "1MiB");
    settings.set("CONDOR_DISK_RESUME_MARGIN", "256KiB");
    settings.set("CONDOR_DISK_RESERVE", "512KiB");
    settings.set("CONDOR_DISK_CHECK_SECS", "1");
    // Positions held ten seconds: open when the disk fills, exited after.
    settings.set("CONDOR_MAX_HOLD_SECS", "10");
    settings.set("CONDOR_TAKE_PROFIT_BP", "3000");
    settings.set("CONDOR_STOP_LOSS_BP", "3000");
    let mut cmd = Command::new("unshare");
    cmd.args(["-Urm", "sh", "-c", SCRIPT, "sh"])
        .arg(TMPFS.to_string())
        .arg(&data)
        .arg(&host)
        .arg(env!("CARGO_BIN_EXE_condor"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(&work.0)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(work.path("unshare.log")).unwrap());
    for (k, v) in &settings.env {
        cmd.env(k, v);
    }
    let _ns = Proc(cmd.spawn().expect("unshare starts"));
    let log = host.join("run.log");
    wait_for("condor's pid", &host.join("pid"), |t| t.ends_with('\n')).await;
    let pid: u32 = std::fs::read_to_string(host.join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let _condor = KillOnDrop(pid);
    // The tmpfs as condor sees it.
    let seen = PathBuf::from(format!("/proc/{pid}/root")).join(data.strip_prefix("/").unwrap());

    // Trading, with positions: a few fills in.
    wait_for("fills", &log, |t| t.matches(" filled, avg").count() >= 4).await;
    assert!(
        seen.join("reserve").exists(),
        "no reserve in {}",
        seen.display()
    );

    // 1. Under CONDOR_DISK_LOW: entries stop, said once.
    let free = condor_actors::disk_space::free_bytes(&seen).unwrap();
    fill(&seen.join("filler-1"), free - (LOW - 200 * 1024));
    wait_for("entries stopped", &log, |t| t.contains("disk space low")).await;

    // 2. To the last byte, with positions open: the journal's next write finds the disk
    //    full.
    let replay = store::read::<JournalEvent>(&journal_file(&seen)).unwrap();
    let records_when_full = replay.records.len() as u64;
    let open = held(&replay.records);
    assert!(!open.is_empty(), "no position open to exit");
    fill(&seen.join("filler-2"), TMPFS);
    assert_eq!(condor_actors::disk_space::free_bytes(&seen).unwrap(), 0);
    wait_for("the reserve freed", &log, |t| {
        t.contains("writing again with the reserve's space")
    })
    .await;
    // Every position is exited (BUSY holds at most two seconds) and its sell journaled.
    until(
        || format!("every position exited:\n{}", tail(&log, 40)),
        async || {
            let replay = store::read::<JournalEvent>(&journal_file(&seen)).unwrap();
            let still = held(&replay.records);
            let sells_after_full = replay
                .records
                .iter()
                .filter(|r| r.seq > records_when_full)
                .filter(|r| {
                    matches!(
                        r.event,
                        JournalEvent::OrderSent {
                            side: Side::Sell,
                            ..
                        }
                    )
                })
                .count();
            if still.is_empty() && sells_after_full >= open.len() {
                Ok(())
            } else {
                Err(format!("positions still held {still:?} of {open:?}, {sells_after_full} sells after the disk filled"))
            }
        },
    )
    .await;

    // The shutdown, journaled too.
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
    wait_for("condor to stop", &host.join("done"), |_| true).await;
    assert_eq!(
        std::fs::read_to_string(host.join("rc")).unwrap().trim(),
        "0",
        "condor run failed:\n{}",
        tail(&log, 40)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    // Said once in the log and once to the trader (the Notifier logs what it would send).
    assert_eq!(text.matches("condor::disk] disk space low:").count(), 1);
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("condor::notifier") && l.contains("disk space low:"))
            .count(),
        1
    );
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("condor::notifier")
                && l.contains("disk full: the journal's reserve"))
            .count(),
        1
    );
    assert!(
        !text.contains("the journal has stopped"),
        "the journal failed:\n{}",
        tail(&log, 40)
    );

    // The journal reads whole, and holds the shutdown.
    let after = host.join("after");
    assert!(!after.join("reserve").exists(), "the reserve was freed");
    let replay = store::read::<JournalEvent>(&journal_file(&after)).expect("the journal reads");
    assert!(replay.torn.is_none(), "{:?}", replay.torn);
    let events: Vec<&JournalEvent> = replay.records.iter().map(|r| &r.event).collect();
    // No buy sent once entries stopped.
    let stopped_at = events
        .iter()
        .position(|e| matches!(e, JournalEvent::Refused { rule, .. } if rule == "disk_space"))
        .expect("an entry refused by disk_space");
    assert!(
        !events[stopped_at..].iter().any(|e| matches!(
            e,
            JournalEvent::OrderSent {
                side: Side::Buy,
                ..
            }
        )),
        "a buy was sent after entries stopped"
    );
    // Every order at the simulator is one the journal sent first and named.
    let sent: Vec<(u64, String, Side, u64)> = events
        .iter()
        .filter_map(|e| match e {
            JournalEvent::OrderSent {
                id,
                ticker,
                side,
                qty,
                ..
            } => Some((*id, ticker.to_string(), *side, qty.shares())),
            _ => None,
        })
        .collect();
    let named: std::collections::BTreeMap<i64, u64> = events
        .iter()
        .filter_map(|e| match e {
            JournalEvent::Acked { id, order_no } | JournalEvent::Resolved { id, order_no } => {
                Some((order_no.0, *id))
            }
            _ => None,
        })
        .collect();
    let at_sim = sim_orders(&sim).await;
    assert!(!at_sim.is_empty());
    let mut seen_ids = BTreeSet::new();
    for (order_no, ticker, side, qty) in &at_sim {
        let id = named.get(order_no).unwrap_or_else(|| {
            panic!(
                "order {order_no} ({ticker} {side:?} {qty}) at the simulator is not in the journal"
            )
        });
        assert!(seen_ids.insert(*id), "journal order {id} named twice");
        let s = sent.iter().find(|s| s.0 == *id).expect("its OrderSent");
        assert_eq!((&s.1, s.2, s.3), (ticker, *side, *qty), "order {order_no}");
    }
    println!(
        "disk full: {} orders at the simulator, {} journaled, {} records ({} when the disk filled)",
        at_sim.len(),
        sent.len(),
        replay.records.len(),
        records_when_full
    );
}
