//! Hostile values (issue 17): `condor run` against a standalone `condor sim` whose
//! `--absurd-share` fault sends some trade frames well-formed but holding numbers no
//! exchange prints (a price of i64::MAX won or one past KRX's highest, a negative volume, a
//! trade of u64::MAX shares). Each must be refused at the wire and counted as malformed
//! (in /status, /metrics and the shutdown summary), logged once per ticker, never turned
//! into a tick; and condor must trade on unharmed.

mod common;

use std::collections::HashMap;

use common::lives::{self, spawn_condor, start_sim_with, Condor, RunSettings, Work, BUSY};
use serde_json::Value;

const TICKERS: &[&str] = &[
    "005930", "000660", "005380", "000270", "035420", "035720", "105560", "055550",
];

async fn get_json(url: &str) -> Value {
    reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// The address of condor's HTTP server, from the `dashboard:` line it prints at start.
async fn dashboard(condor: &mut Condor) -> String {
    let stdout = condor.stdout.clone();
    condor
        .until("condor prints its dashboard address", || {
            let text = std::fs::read_to_string(&stdout).unwrap_or_default();
            let url = text
                .lines()
                .find_map(|l| l.strip_prefix("dashboard: "))
                .map(|u| u.trim_end_matches('/').to_owned());
            async move { url }
        })
        .await
}

fn metric(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
}

#[tokio::test]
async fn absurd_numbers_in_trade_frames_are_counted_and_condor_trades_on() {
    let work = Work::new("hostile-values", 17);
    let scenario = lives::busy_scenario("condition S001 hostile values\n", TICKERS, 600);
    let sim = start_sim_with(&work, 17, "20", &scenario, &["--absurd-share", "0.2"]);
    let mut settings = RunSettings::new(&sim, &work.path("data"), BUSY);
    settings.set("CONDOR_HTTP_ADDR", "127.0.0.1:0");
    let mut condor = spawn_condor(&work, &settings, 1);
    let http = dashboard(&mut condor).await;
    let status = format!("{http}/status");
    let sim_stats = format!("{}/sim/stats", sim.rest);

    // Absurd frames have gone out; every one the simulator had sent by then is counted.
    let sent = condor
        .until("the simulator sends absurd frames", || async {
            let n = get_json(&sim_stats).await["absurd_frames"]
                .as_u64()
                .unwrap();
            (n >= 20).then_some(n)
        })
        .await;
    let (malformed, fills) = condor
        .until("condor counts every absurd frame sent", || async {
            let s = get_json(&status).await;
            let malformed = s["connection"]["malformed"].as_u64().unwrap();
            let fills = s["counters"]["fills"].as_u64().unwrap();
            (malformed >= sent).then_some((malformed, fills))
        })
        .await;
    // Nothing but the absurd frames is malformed: never more than were sent.
    let sent_since = get_json(&sim_stats).await["absurd_frames"]
        .as_u64()
        .unwrap();
    assert!(malformed <= sent_since, "{malformed} > {sent_since} sent");

    // It trades on: orders are sent and filled after the absurd frames arrived, and more
    // of them keep arriving meanwhile.
    let (orders, fills_after) = condor
        .until("fills after the absurd frames", || async {
            let s = get_json(&status).await;
            let now = s["counters"]["fills"].as_u64().unwrap();
            let more = s["connection"]["malformed"].as_u64().unwrap() > malformed;
            (more && now >= fills + 2).then(|| (s["counters"]["orders"].as_u64().unwrap(), now))
        })
        .await;
    assert!(orders > 0 && fills_after > fills);
    let metrics = reqwest::get(format!("{http}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let counted = metric(&metrics, "condor_malformed_frames_total")
        .unwrap_or_else(|| panic!("no malformed_frames counter:\n{metrics}"));
    assert!(counted > malformed, "{counted} ≤ {malformed}");

    let (exit, stdout, stderr) = condor.terminate().await;
    assert!(exit.success(), "exit 0 on SIGTERM: {exit:?}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let summary = stdout
        .lines()
        .find(|l| l.contains("malformed frames"))
        .unwrap_or_else(|| panic!("no summary line:\n{stdout}"));
    let in_summary: u64 = summary
        .split(", ")
        .find_map(|part| part.strip_suffix(" malformed frames"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{summary}"));
    assert!(in_summary >= counted, "{summary} (metric said {counted})");

    // Logged once per ticker, naming the field it broke, however many were counted.
    let logged: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("malformed frame #"))
        .collect();
    let mut per_ticker: HashMap<&str, usize> = HashMap::new();
    for line in &logged {
        let ticker = line
            .split("further ones for ")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .unwrap_or_else(|| panic!("a malformed trade names its ticker: {line}"));
        *per_ticker.entry(ticker).or_default() += 1;
        assert!(
            ["`price`", "`cvolume`"].iter().any(|f| line.contains(f)),
            "{line}"
        );
    }
    assert!(
        per_ticker.values().all(|&n| n == 1),
        "one line per ticker: {per_ticker:?}"
    );
    assert!(
        (logged.len() as u64) < in_summary,
        "{} lines for {in_summary} frames",
        logged.len()
    );
}
