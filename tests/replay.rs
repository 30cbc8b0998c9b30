//! Replay proves what condor did. `condor run`, the binary, trades a scripted condition at
//! a standalone `condor sim` whose websocket drops every few seconds and whose account
//! runs out of cash (so the exchange rejects buys), through a SIGKILL and SIGTERM restarts
//! (a SIGTERM with an order working cancels it), until it has sent at least 20 orders with
//! fills, a cancel and a reject. Then `condor replay` of that day must report every
//! intent identical, in order, and every order the journal sent must be on the tape;
//! replayed with another strategy parameter it must report differences and exit 1; a torn
//! or corrupted copy of the tape replays its good prefix and says where it stopped.
//!
//! The day is recorded twice: against the simulator speaking LS's wire, and Kiwoom's
//! (`condor sim --protocol kiwoom`, `CONDOR_BROKER=kiwoom`), with the same body.
//!
//! Every wait is for a condition with a generous deadline; nothing is asserted on time.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::lives::{
    self, spawn_condor, start_sim_with, Condor, Protocol, RunSettings, Work, BUSY,
};
use common::{Poll, PATIENCE};
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::store;
use serde_json::Value;

const TICKERS: &[&str] = &[
    "005930", "000660", "005380", "000270", "035420", "035720", "105560", "055550", "066570",
    "003550", "017670", "030200",
];

/// Every ticker in and out of the condition every five seconds; the account holds cash
/// for two entries at a time, so the exchange refuses the buys of the others.
fn scenario() -> String {
    lives::busy_scenario("cash 700000\ncondition S001 replay test\n", TICKERS, 397)
}

/// What the day's journal holds so far.
#[derive(Clone, Copy, Debug, Default)]
struct Day {
    starts: usize,
    sent: usize,
    filled: usize,
    cancelled: usize,
    /// Refused by the exchange (not the engine's own `LOCAL`).
    rejected: usize,
}

fn journal_day(data: &Path) -> Day {
    let mut day = Day::default();
    let Ok(days) = store::list_days(&data.join("journal")) else {
        return day;
    };
    let Some((_, path)) = days.into_iter().last() else {
        return day;
    };
    let Ok(journal) = store::read::<JournalEvent>(&path) else {
        return day;
    };
    for r in journal.records {
        match r.event {
            JournalEvent::Started { .. } => day.starts += 1,
            JournalEvent::OrderSent { .. } => day.sent += 1,
            JournalEvent::Filled { .. } => day.filled += 1,
            JournalEvent::Cancelled { .. } => day.cancelled += 1,
            JournalEvent::Rejected { code, .. } if code != "LOCAL" => day.rejected += 1,
            _ => {}
        }
    }
    day
}

/// Waits until the journal satisfies `f`, while this life is alive.
async fn wait_for(c: &mut Condor, data: &Path, what: &str, f: impl Fn(Day) -> bool) -> Day {
    let poll = Poll::every(Duration::from_millis(5)).within(PATIENCE * 3);
    c.until_with(poll, what, async || {
        let day = journal_day(data);
        if f(day) {
            Ok(day)
        } else {
            Err(format!("journal {day:?}"))
        }
    })
    .await
}

async fn stop(c: Condor) {
    let life = c.life;
    let (status, _, stderr) = c.terminate().await;
    assert!(
        status.success(),
        "life {life} on SIGTERM: {status:?}\n{stderr}"
    );
}

fn replay(work: &Work, args: &[&str]) -> (Output, Value) {
    let out = lives::condor_cmd(&work.0)
        .env("RUST_LOG", "warn")
        .arg("replay")
        .args(args)
        .arg("--json")
        .output()
        .expect("condor replay runs");
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "condor replay printed no JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, doc)
}

fn data_args(data: &Path) -> Vec<String> {
    vec!["--data-dir".into(), data.display().to_string()]
}

#[tokio::test]
async fn a_recorded_day_through_crashes_and_reconnects_replays_to_the_same_intents() {
    recorded_day_replays(Protocol::Ls).await;
}

#[tokio::test]
async fn a_recorded_day_through_crashes_and_reconnects_replays_to_the_same_intents_on_kiwoom() {
    recorded_day_replays(Protocol::Kiwoom).await;
}

/// The day recorded against a simulator speaking `protocol`, then replayed.
async fn recorded_day_replays(protocol: Protocol) {
    let work = Work::new(&format!("replay-{}", protocol.name()), 7);
    let mut flags = vec!["--drop-after-secs", "6"];
    flags.extend(protocol.sim_args());
    let sim = start_sim_with(&work, 7, "2", &scenario(), &flags);
    let data = work.path("data");
    let mut settings = RunSettings::new(&sim, &data, BUSY);
    // The clean stops cancel what works (the default, said here because the test needs it).
    settings.set("CONDOR_ON_SHUTDOWN", "cancel");

    // Life 0: trades, then dies without a word.
    let mut c = spawn_condor(&work, &settings, 0);
    wait_for(&mut c, &data, "8 orders and a fill", |d| {
        d.sent >= 8 && d.filled >= 1
    })
    .await;
    c.kill9();

    // Later lives: each stopped by SIGTERM the moment it has sent one more order, which is
    // then usually still working and is cancelled by the clean stop; until a cancel and a
    // reject have happened and at least 20 orders were sent.
    let mut life = 1;
    loop {
        let mut c = spawn_condor(&work, &settings, life);
        let before = journal_day(&data);
        wait_for(&mut c, &data, "its start", |d| d.starts > before.starts).await;
        let at_start = journal_day(&data);
        wait_for(&mut c, &data, "one more order", |d| d.sent > at_start.sent).await;
        stop(c).await;
        let day = journal_day(&data);
        if day.sent >= 20 && day.cancelled >= 1 && day.rejected >= 1 && life >= 2 {
            break;
        }
        life += 1;
        // Sixteen: at Kiwoom a held position's market exit is often a life's only order
        // before the stop, its entries waiting for their price band (ka10001, paced at 5
        // queries a second behind the start's account reads), so a life may add one.
        assert!(
            life < 16,
            "no cancel and reject after {life} lives: {day:?}"
        );
    }
    // One more life, long enough for the exchange to drop the websocket under it.
    let mut c = spawn_condor(&work, &settings, life + 1);
    let before = journal_day(&data);
    wait_for(&mut c, &data, "two more orders", |d| {
        d.sent >= before.sent + 2
    })
    .await;
    let log = c.stderr.clone();
    c.until("no reconnect", async || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("reconnected")
    })
    .await;
    wait_for(&mut c, &data, "an order after the reconnect", |d| {
        d.sent >= before.sent + 3
    })
    .await;
    stop(c).await;
    let day = journal_day(&data);
    println!("the day: {day:?} over {} lives", life + 2);

    // 1. Parity: every intent identical, in order; every journaled order on the tape.
    let (out, doc) = replay(
        &work,
        &data_args(&data)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(
        out.status.success(),
        "replay found differences: {}",
        serde_json::to_string_pretty(&doc).unwrap()
    );
    let live = doc["live_intents"].as_u64().unwrap();
    assert_eq!(doc["replayed_intents"].as_u64().unwrap(), live);
    assert!(doc["differences"].as_array().unwrap().is_empty());
    assert!(live >= 20, "only {live} intents: {doc}");
    assert_eq!(
        doc["starts"].as_u64().unwrap() as usize,
        day.starts,
        "{doc}"
    );
    assert_eq!(
        doc["journal"]["orders_sent"].as_u64().unwrap() as usize,
        day.sent
    );
    assert!(
        doc["journal"]["not_on_tape"].as_array().unwrap().is_empty(),
        "{doc}"
    );
    assert!(doc["stopped"].is_null(), "{doc}");
    let intents = doc["intents"].as_array().unwrap();
    assert_eq!(intents.len() as u64, live);
    for key in [
        "ticker",
        "side",
        "qty",
        "order_type",
        "price",
        "reason",
        "tick_seq",
    ] {
        assert!(
            intents[0].get(key).is_some(),
            "intent without {key}: {}",
            intents[0]
        );
    }
    // The order engine: one desk per start, each replayed decision for decision; the
    // restarts' desks take over the state the journal had at their start, rebuilt from it.
    let orders = &doc["orders"];
    assert_eq!(orders["desks"], doc["starts"], "{orders}");
    assert_eq!(orders["replayed"], orders["desks"], "{orders}");
    assert!(
        orders["differences"].as_array().unwrap().is_empty(),
        "{orders}"
    );
    assert_eq!(
        orders["intents_received"].as_u64().unwrap(),
        live,
        "{orders}"
    );
    // Every journaled order was sent by a replayed desk, but perhaps one: the input that
    // released the first life's last send may be in the batch its SIGKILL took.
    let sent = orders["orders_sent"].as_u64().unwrap() as usize;
    assert!(
        sent + 1 >= day.sent && sent <= day.sent,
        "{orders} vs {day:?}"
    );
    assert!(orders["commands"].as_u64().unwrap() > 100, "{orders}");
    println!(
        "replay: {} records, {} trades, {live} intents identical, {} orders journaled; order engine: {}",
        doc["records"], doc["trades"], day.sent, orders
    );

    // 2. A deliberate change: a longer time stop must show.
    let mut args = data_args(&data);
    args.extend(["--set".into(), "max_hold_secs=30".into()]);
    let (out, doc) = replay(&work, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(out.status.code(), Some(1), "{doc}");
    assert!(!doc["differences"].as_array().unwrap().is_empty(), "{doc}");

    // 3. Torn and corrupted copies: the good prefix replays, the tool says where it stopped.
    let tape = std::fs::read_dir(data.join("tape"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&tape).unwrap();
    let torn = work.path("torn.tape");
    std::fs::write(&torn, &bytes[..bytes.len() - 7]).unwrap();
    let (out, doc) = replay(&work, &["--tape", torn.to_str().unwrap()]);
    assert!(out.status.success(), "{doc}");
    assert!(doc["stopped"].is_string(), "{doc}");
    assert!(doc["differences"].as_array().unwrap().is_empty(), "{doc}");
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x5a;
    let corrupt = work.path("corrupt.tape");
    std::fs::write(&corrupt, &bad).unwrap();
    let (out, doc) = replay(&work, &["--tape", corrupt.to_str().unwrap()]);
    assert!(out.status.success(), "{doc}");
    let stopped = doc["stopped"].as_str().expect("says where it stopped");
    assert!(stopped.contains("at byte"), "{stopped}");
    assert!(
        doc["records"].as_u64().unwrap() > 0,
        "the good prefix replays: {doc}"
    );

    // A day with no tape is a clear error, exit 2.
    let (out, _) = {
        let o = lives::condor_cmd(&work.0)
            .args(["replay", "--day", "2020-01-02"])
            .args(data_args(&data))
            .output()
            .unwrap();
        (o, ())
    };
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no tape for 2020-01-02"), "{err}");
}
