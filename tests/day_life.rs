//! One `condor run` living through a close, a night and the next open, on the accelerated
//! clock (`CONDOR_CLOCK`) that it and its embedded exchange share: Thursday from 15:17 at
//! 40x through the 15:30 close, the night at 7200x, Friday's open at 40x. The day's life
//! (`CONDOR_HOURS=calendar`, the default under that clock): two journal days, the book
//! flattened before the close, one daily summary, `/status` saying the market is closed
//! overnight with no engine, the condition registered again on Friday, and trading on day
//! two. A second run over Christmas and a weekend, with Thursday's kill switch tripped and
//! a SIGKILL in the night, shows the holiday and the weekend idle, the kill switch left
//! behind with its day, and the restart changing nothing. A third starts on a weekday
//! closed by `CONDOR_CLOSED_DAYS` (condor, its clock and the embedded exchange all read
//! it): no engine that day, Thursday trades. Nothing here times the wall clock: each
//! phase is waited for by what it shows.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

use common::binary::{summary_ticks, Proc};
use common::{until_within, PATIENCE};
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::store::JournalWriter;
use condor_actors::kill_switch::TripCause;

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

/// A running `condor run` with its dashboard address and its output being read.
struct Running {
    proc: Proc,
    addr: String,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
}

/// Starts `condor run` against its embedded exchange on `clock`, with the strategy set to
/// enter nearly anything at once and hold briefly (so a few minutes trade), flattening at
/// the latest it allows (the closing auction), and `extra` settings.
fn start_condor(dir: &Path, clock: &str, extra: &[(&str, &str)]) -> Running {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_condor"));
    cmd.args(["run", "--rest-port", "0", "--ws-port", "0"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("CONDOR_HTTP_ADDR", "127.0.0.1:0")
        .env("CONDOR_DATA_DIR", dir.join("data"))
        .env("CONDOR_CLOCK", clock)
        .env("CONDOR_DAY_LEAD_MINS", "1")
        .env("CONDOR_AFTER_CLOSE_MINS", "1")
        .env("CONDOR_DISCORD_SUMMARY_AT", "153030")
        .env("CONDOR_PARAM_MIN_CHANGE_BP", "-3000")
        .env("CONDOR_PARAM_CONFIRM_TICKS", "1")
        .env("CONDOR_PARAM_MAX_HOLD_SECS", "20")
        .env("CONDOR_PARAM_ENTRY_CUTOFF", "151900")
        .env("CONDOR_PARAM_FLATTEN_AT", "152000")
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("condor run starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let err = child.stderr.take().unwrap();
    let proc = Proc(child);
    let stderr = std::thread::spawn(move || {
        let mut text = String::new();
        let mut err = err;
        let _ = err.read_to_string(&mut text);
        text
    });
    let mut addr = String::new();
    let mut head = String::new();
    while addr.is_empty() {
        let mut line = String::new();
        assert!(
            out.read_line(&mut line).unwrap() > 0,
            "condor ended before its dashboard line: {head}"
        );
        head.push_str(&line);
        if let Some(a) = line.trim().strip_prefix("dashboard: http://") {
            addr = a.trim_end_matches('/').to_owned();
        }
    }
    let stdout = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = out.read_to_string(&mut rest);
        head + &rest
    });
    Running {
        proc,
        addr,
        stdout,
        stderr,
    }
}

impl Running {
    /// Waits until `/status` says condor idles with the market closed; returns it.
    async fn idle(&self) -> serde_json::Value {
        until_within(
            PATIENCE * 4,
            "never idle with the market closed",
            async || {
                // Not the moment before a day's engine is up: the market is open then.
                status(&self.addr)
                    .await
                    .filter(|s| s["trading"] == false && s["market"]["open"] == false)
            },
        )
        .await
    }

    /// SIGTERM, then its exit status, stdout and stderr.
    fn terminate(mut self) -> (std::process::ExitStatus, String, String) {
        let kill = Command::new("kill")
            .args(["-TERM", &self.proc.0.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let exit = self.proc.0.wait().unwrap();
        (
            exit,
            self.stdout.join().unwrap(),
            self.stderr.join().unwrap(),
        )
    }

    /// SIGKILL: nothing of the shutdown runs.
    fn kill9(mut self) -> String {
        let _ = self.proc.0.kill();
        let _ = self.proc.0.wait();
        self.stderr.join().unwrap()
    }
}

/// Waits until the journal has `days` days and the last one an order.
async fn wait_for_orders_on(data: &Path, days: usize) -> Vec<(String, usize)> {
    until_within(
        PATIENCE * 4,
        format!("no order on day {days}"),
        async || {
            let found = journal_days(data);
            if found.len() == days && found[days - 1].1 >= 1 {
                Ok(found)
            } else {
                Err(format!("{found:?}"))
            }
        },
    )
    .await
}

#[tokio::test]
async fn condor_closes_thursday_idles_overnight_and_trades_friday() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Thursday 2026-12-03, 15:17:00 KST; sessions at 40x, the rest at 7200x; the clock's
    // own lead (session speed before the open) and the engine's lead both one minute.
    let run = start_condor(dir.path(), "2026-12-03T15:17:00x40/7200,lead=1", &[]);

    // Overnight: no engine, the market closed, the next session named.
    let night = run.idle().await;
    assert!(
        night["market"]["text"]
            .as_str()
            .unwrap()
            .contains("next session Fri 2026-12-04 09:00"),
        "{night}"
    );

    // Friday: a second journal day with an order in it.
    wait_for_orders_on(&data, 2).await;
    let friday = status(&run.addr).await.expect("/status answers on Friday");
    assert_eq!(friday["trading"], true, "{friday}");

    let (exit, stdout, stderr) = run.terminate();
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
    for summary in &summaries {
        let (received, _) = summary_ticks(summary);
        assert!(received > 0, "each day ticked: {summary}");
    }
    // One daily summary for Thursday (Friday was stopped before its time, and the stop
    // sends Friday's): never a second one for the same day.
    let thursday = stderr.matches("Daily summary 2026-12-03").count();
    assert_eq!(thursday, 1, "{stderr}");
    // The condition registered on each day's start, and the day rolled in the log.
    assert_eq!(
        stderr.matches("stocks in condition #0 at start").count(),
        2,
        "{stderr}"
    );
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

#[tokio::test]
async fn a_holiday_a_weekend_and_yesterdays_kill_switch_stay_behind_and_a_kill_overnight_changes_nothing(
) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Thursday 2026-12-24 15:17:00 KST at 40x, the rest at 36000x: Christmas (Friday) and
    // the weekend are idle, Monday the 28th trades. The epoch is fixed here so the
    // restarted condor continues the same market time. (A closure set by
    // CONDOR_CLOSED_DAYS: the third test.)
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let clock = format!("2026-12-24T15:17:00@{epoch}x40/36000,lead=1");
    // Thursday's kill switch is on before condor starts (tripped by hand, say): Thursday
    // sends nothing, and Monday, a new day, has a kill switch of its own, off.
    let thursday_path =
        condor_actors::journal::day_path(&data.join("journal"), "2026-12-24".parse().unwrap());
    std::fs::create_dir_all(data.join("journal")).unwrap();
    let (writer, _) = JournalWriter::<JournalEvent>::open(&thursday_path).unwrap();
    writer
        .append_wait(
            0,
            JournalEvent::KillSwitchTripped {
                cause: TripCause::Operator {
                    note: "tripped before the start".into(),
                },
            },
        )
        .unwrap();
    writer.close().unwrap();
    let run = start_condor(dir.path(), &clock, &[]);
    let night = run.idle().await;
    assert!(
        night["market"]["text"]
            .as_str()
            .unwrap()
            .contains("next session Mon 2026-12-28 09:00"),
        "{night}"
    );
    let thursday_at_kill = std::fs::read(&thursday_path).unwrap();
    // SIGKILL in the night, and a restart: it idles, trades nothing, and Thursday's
    // journal is as the day's close left it.
    let _ = run.kill9();
    let run = start_condor(dir.path(), &clock, &[]);
    let again = run.idle().await;
    assert_eq!(again["trading"], false, "{again}");
    let days = wait_for_orders_on(&data, 2).await;
    let (exit, stdout, stderr) = run.terminate();
    assert!(exit.success(), "exit 0 on SIGTERM: {exit:?}\n{stderr}");
    assert_eq!(
        days.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        ["2026-12-24", "2026-12-28"],
        "Christmas and the weekend have no journal: {days:?}"
    );
    assert_eq!(
        std::fs::read(&thursday_path).unwrap(),
        thursday_at_kill,
        "the restart in the night changed Thursday's journal"
    );
    assert_eq!(
        days[0].1, 0,
        "Thursday's kill switch let an order out: {days:?}"
    );
    let monday = std::fs::read_to_string(condor_actors::journal::day_path(
        &data.join("journal"),
        "2026-12-28".parse().unwrap(),
    ))
    .unwrap();
    let first_order = monday.find("\"event\":\"order_sent\"").unwrap();
    assert!(
        monday
            .find("kill_switch_tripped")
            .is_none_or(|trip| trip > first_order),
        "Monday's kill switch was on before its first order: {monday}"
    );
    // The restarted condor closed one day (Monday), after idling through the holiday.
    assert_eq!(stdout.matches("condor summary").count(), 1, "{stdout}");
    assert!(
        stderr.contains("next session Mon 2026-12-28 09:00"),
        "{stderr}"
    );
    println!(
        "journal days and orders sent: {days:?}; overnight: {}",
        night["market"]["text"]
    );
}

#[tokio::test]
async fn a_configured_closure_on_a_weekday_is_idle_and_the_next_day_trades() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // Wednesday 2026-12-02, a weekday KRX trades, closed by CONDOR_CLOSED_DAYS; read by
    // condor (its days), by its clock (Wednesday runs at the idle 36000x: were its session
    // run at 40x, Thursday would be ten minutes of real time away) and by the embedded
    // exchange (no session that day). Started at noon on the closed day.
    let run = start_condor(
        dir.path(),
        "2026-12-02T12:00:00x40/36000,lead=1",
        &[("CONDOR_CLOSED_DAYS", "2026-12-02")],
    );
    let days = wait_for_orders_on(&data, 1).await;
    let (exit, stdout, stderr) = run.terminate();
    assert!(exit.success(), "exit 0 on SIGTERM: {exit:?}\n{stderr}");
    // No engine on the closed day: condor said why it waited, and its first (and only)
    // day is Thursday's, with the condition registered once and orders sent.
    assert!(
        stderr.contains(
            "market closed (closed by CONDOR_CLOSED_DAYS), next session Thu 2026-12-03 09:00 KST"
        ),
        "{stderr}"
    );
    assert_eq!(
        days.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        ["2026-12-03"],
        "the closed Wednesday has no journal: {days:?}"
    );
    assert_eq!(
        stderr.matches("stocks in condition #0 at start").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("the day's engine starts 2026-12-03 at 08:59"),
        "{stderr}"
    );
    assert_eq!(stdout.matches("condor summary").count(), 1, "{stdout}");
    println!("journal days and orders sent: {days:?}");
}
