//! One `condor run` living through a close, a night and the next open, on the accelerated
//! clock (`CONDOR_CLOCK`) that it and its embedded exchange share: Thursday from 15:17 at
//! 40x through the 15:30 close, the night at 7200x, Friday's open at 40x. The day's life
//! (`CONDOR_HOURS=calendar`, the default under that clock): two journal days, the book
//! flattened before the close, one daily summary, `/status` saying the market is closed
//! overnight with no engine, the condition registered again on Friday, and trading on day
//! two. Nothing here times the wall clock: each phase is waited for by what it shows.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Journal files by day, and how many `order_sent` each holds.
fn journal_days(data: &Path) -> Vec<(String, usize)> {
    let Ok(days) = condor_actors::journal::store::list_days(&data.join("journal")) else {
        return Vec::new();
    };
    days.into_iter()
        .map(|(day, path)| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            (
                day.to_string(),
                text.matches("\"event\":\"order_sent\"").count(),
            )
        })
        .collect()
}

async fn status(addr: &str) -> Option<serde_json::Value> {
    let body = reqwest::get(format!("http://{addr}/status"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    serde_json::from_str(&body).ok()
}

#[tokio::test]
async fn condor_closes_thursday_idles_overnight_and_trades_friday() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Thursday 2026-12-03, 15:17:00 KST; sessions at 40x, the rest at 7200x; the clock's
    // own lead (session speed before the open) and the engine's lead both one minute.
    let clock = "2026-12-03T15:17:00x40/7200,lead=1";
    let child = Command::new(env!("CARGO_BIN_EXE_condor"))
        .args(["run", "--rest-port", "0", "--ws-port", "0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("CONDOR_HTTP_ADDR", "127.0.0.1:0")
        .env("CONDOR_DATA_DIR", &data)
        .env("CONDOR_CLOCK", clock)
        .env("CONDOR_DAY_LEAD_MINS", "1")
        .env("CONDOR_AFTER_CLOSE_MINS", "1")
        .env("CONDOR_DISCORD_SUMMARY_AT", "153030")
        // Enter nearly anything at once and hold briefly, so Thursday's last minutes
        // trade; flatten at the latest the strategy allows (the closing auction).
        .env("CONDOR_PARAM_MIN_CHANGE_BP", "-3000")
        .env("CONDOR_PARAM_CONFIRM_TICKS", "1")
        .env("CONDOR_PARAM_MAX_HOLD_SECS", "20")
        .env("CONDOR_PARAM_ENTRY_CUTOFF", "151900")
        .env("CONDOR_PARAM_FLATTEN_AT", "152000")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("condor run starts");
    let mut run = Proc(child);
    let mut out = BufReader::new(run.0.stdout.take().unwrap());
    let err = run.0.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let mut err = err;
        let _ = err.read_to_string(&mut text);
        text
    });
    let mut addr = String::new();
    let mut stdout = String::new();
    while addr.is_empty() {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "condor ended before its dashboard line: {stdout}"
        );
        stdout.push_str(&line);
        if let Some(a) = line.trim().strip_prefix("dashboard: http://") {
            addr = a.trim_end_matches('/').to_owned();
        }
    }
    let out_reader = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = out.read_to_string(&mut rest);
        rest
    });

    // Overnight: no engine, the market closed, the next session named.
    let deadline = Instant::now() + Duration::from_secs(120);
    let night = loop {
        if let Some(s) = status(&addr).await {
            // Not the moment before Thursday's engine is up: the market is open then.
            if s["trading"] == false && s["market"]["open"] == false {
                break s;
            }
        }
        assert!(Instant::now() < deadline, "never idle overnight");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(night["market"]["open"], false, "{night}");
    assert!(
        night["market"]["text"]
            .as_str()
            .unwrap()
            .contains("next session Fri 2026-12-04 09:00"),
        "{night}"
    );

    // Friday: a second journal day with an order in it.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let days = journal_days(&data);
        if days.len() == 2 && days[1].1 >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "no order on day two: {days:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let friday = status(&addr).await.expect("/status answers on Friday");
    assert_eq!(friday["trading"], true, "{friday}");

    let kill = Command::new("kill")
        .args(["-TERM", &run.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let exit = run.0.wait().unwrap();
    let stdout = stdout + &out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    assert!(exit.success(), "exit 0 on SIGTERM: {exit:?}\n{stderr}");

    let days = journal_days(&data);
    assert_eq!(
        days.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        ["2026-12-03", "2026-12-04"],
        "{days:?}"
    );
    assert!(
        days[0].1 >= 1,
        "Thursday traded nothing: {days:?}\n{stderr}"
    );
    println!(
        "journal days and orders sent: {days:?}; overnight: {}",
        night["market"]["text"]
    );
    // Two days closed, each with its summary printed; Thursday's book flat at its close.
    let summaries: Vec<&str> = stdout.split("condor summary").skip(1).collect();
    assert_eq!(summaries.len(), 2, "{stdout}");
    assert!(
        summaries[0].contains(" 0 position(s) open"),
        "{}",
        summaries[0]
    );
    // One daily summary for Thursday (Friday was stopped before its time, and the stop
    // sends Friday's): never a second one for the same day.
    let thursday = stderr.matches("Daily summary 2026-12-03").count();
    assert_eq!(thursday, 1, "{stderr}");
    // The condition registered on each day's start, and the day rolled in the log.
    assert_eq!(stderr.matches("at start (t1859)").count(), 2, "{stderr}");
    assert!(stderr.contains("the day 2026-12-03 is closed"), "{stderr}");
    // Each day had its own kill switch and counters: Friday's journal starts afresh.
    let friday_journal = std::fs::read_to_string(condor_actors::journal::day_path(
        &data.join("journal"),
        "2026-12-04".parse().unwrap(),
    ))
    .unwrap();
    assert!(
        !friday_journal.contains("kill_switch_tripped"),
        "{friday_journal}"
    );
}
