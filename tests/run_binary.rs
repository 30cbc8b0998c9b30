//! `condor run` as a user runs it, against a standalone `condor sim`: configuration from
//! the environment, trading until SIGTERM, then a clean exit with the summary and no
//! subscription left at the simulator.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use common::binary::{summary_ticks, until_subscribed, until_ticking, Proc};
use common::lives::{start_sim_args, Sim, Work};
use common::PATIENCE;

/// `condor` with a clean environment, its HTTP server on any free port: the default (8686)
/// may be taken by a condor already running here.
fn condor() -> Command {
    let mut c = common::binary::condor(&std::env::temp_dir());
    c.env("CONDOR_HTTP_ADDR", "127.0.0.1:0");
    c
}

/// A standalone `condor sim` speaking `protocol`'s wire (`ls` or `kiwoom`), trading 20 a
/// second, playing `scenario`; its log in the returned [`Work`] directory.
fn standalone_sim(name: &str, protocol: &str, scenario: &std::path::Path) -> (Work, Sim) {
    let work = Work::new(name, 1);
    let scenario = scenario.to_str().expect("a UTF-8 temp path");
    let args = [
        "--protocol",
        protocol,
        "--trades-per-sec",
        "20",
        "--scenario",
        scenario,
    ];
    let sim = start_sim_args(&work, "warn", &args);
    (work, sim)
}

/// `RUST_LOG` at its most detailed, with the modules that print websocket frames and
/// connection bytes named as a user chasing a protocol problem would name them.
const TRACE_EVERYTHING: &str =
    "trace,tungstenite::protocol=trace,tungstenite::protocol::frame=trace,reqwest::connect=trace";

/// `text`'s bytes in lowercase hex, as tungstenite prints a frame's payload at trace.
fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

/// An access token from the simulator at `rest`, asked for with the key pair condor got.
async fn ls_token(rest: &str, appkey: &str, appsecret: &str) -> String {
    let reply: serde_json::Value = reqwest::Client::new()
        .post(format!("{rest}/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("appkey", appkey),
            ("appsecretkey", appsecret),
            ("scope", "oob"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no token: {reply}"))
        .to_owned()
}

/// `cmd` started with its stdout and stderr drained as it writes (at trace a full pipe
/// would stop it mid-line, not fail); `terminate` gives both texts once it has exited.
struct Drained {
    proc: Proc,
    out: std::thread::JoinHandle<String>,
    err: std::thread::JoinHandle<String>,
    /// The `dashboard:` address, once printed.
    http: mpsc::Receiver<String>,
}

impl Drained {
    fn spawn(cmd: &mut Command) -> Drained {
        let mut proc = Proc(
            cmd.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("condor run starts"),
        );
        let drain = |mut pipe: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = pipe.read_to_string(&mut text);
                text
            })
        };
        let (tx, http) = mpsc::channel();
        let stdout = proc.0.stdout.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                let line = String::from_utf8_lossy(&line);
                if let Some(url) = line.strip_prefix("dashboard: ") {
                    let _ = tx.send(url.trim_end_matches('/').to_owned());
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let err = drain(Box::new(proc.0.stderr.take().unwrap()));
        Drained {
            proc,
            out,
            err,
            http,
        }
    }

    /// Waits until its `/status` counts a processed tick.
    async fn until_ticking(&self) {
        let http = self
            .http
            .recv_timeout(PATIENCE)
            .expect("condor run prints its dashboard address");
        until_ticking(&http).await;
    }

    /// SIGTERM, as a service manager stops it; its exit and (stdout, stderr).
    fn terminate(mut self) -> (std::process::ExitStatus, String, String) {
        let kill = Command::new("kill")
            .args(["-TERM", &self.proc.0.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = self.proc.0.wait().unwrap();
        (status, self.out.join().unwrap(), self.err.join().unwrap())
    }
}

#[tokio::test]
async fn sigterm_mid_trading_exits_0_with_a_summary_and_no_live_subscription() {
    let dir = std::env::temp_dir().join(format!("condor-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("run.scn");
    std::fs::write(
        &scenario,
        "condition S001 종료 테스트\nat 0ms S001 enter 005930\nat 0ms S001 enter 247540\n",
    )
    .unwrap();
    let (_work, sim) = standalone_sim("run-sigterm", "ls", &scenario);
    let rest = sim.rest.clone();

    // A webhook and a Telegram Bot API nobody answers (their token, and the chat id, must
    // reach neither a log nor the journal).
    let webhook_token = "wh-token-e3b0c44298fc1c149afbf4c8996fb924";
    let telegram_token = "6093512874:AAE-tgTokenE3b0c44298fc1c149afbf4c89";
    let telegram_key = telegram_token.split_once(':').unwrap().1;
    let telegram_chat = "-1002468013579";
    let data_dir = dir.join("data");
    // Every level of every crate, as a user debugging would ask, and the modules that
    // print frames and bytes named outright (a precise directive outranks a crate's): a
    // dependency's trace lines print websocket frames, and LS's registration frames carry
    // the access token.
    let run = Drained::spawn(
        condor()
            .args(["run", "--condition", "S001"])
            .env("RUST_LOG", TRACE_EVERYTHING)
            .env("CONDOR_BROKER_REST_URL", &rest)
            .env("CONDOR_BROKER_WS_URL", &sim.ws)
            .env("CONDOR_APPKEY", &sim.appkey)
            .env("CONDOR_APPSECRET", &sim.appsecret)
            .env(
                "CONDOR_DISCORD_WEBHOOK",
                format!("http://127.0.0.1:9/api/webhooks/1/{webhook_token}"),
            )
            .env("CONDOR_TELEGRAM_BOT_TOKEN", telegram_token)
            .env("CONDOR_TELEGRAM_CHAT_ID", telegram_chat)
            .env("CONDOR_TELEGRAM_API_URL", "http://127.0.0.1:9")
            .env("CONDOR_DATA_DIR", &data_dir),
    );
    until_subscribed(&rest, &["005930", "247540"]).await;
    // Let it trade until ticks have flowed, then stop it the way a service manager would.
    run.until_ticking().await;
    let (status, stdout, stderr) = run.terminate();
    assert!(status.success(), "exit 0 on SIGTERM: {status:?}\n{stderr}");
    assert!(
        stdout.contains("condor summary") && stdout.contains("ticks in flight to the Processor"),
        "{stdout}"
    );
    let (received, processed) = summary_ticks(&stdout);
    assert!(
        received > 0 && processed > 0,
        "the summary counts the ticks that flowed: {stdout}"
    );
    assert!(
        stderr.contains("condor::feed") && stderr.contains("feed stopped"),
        "feeds log their stop: {stderr}"
    );
    // Every access token the simulator issues is a JWT with this header (and a random
    // signature, so no two are alike): one asked for with the same keys shows it, so the
    // scan below finds any token this simulator gave condor, not one it might have.
    let jwt_header = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9";
    let token = ls_token(&rest, &sim.appkey, &sim.appsecret).await;
    assert!(token.starts_with(&format!("{jwt_header}.")), "{token}");
    let secrets = [
        sim.appsecret.as_str(),
        sim.appkey.as_str(),
        webhook_token,
        telegram_key,
        &telegram_chat[1..],
        jwt_header,
    ];
    for secret in secrets {
        // As text, and as tungstenite prints a frame's payload (hex).
        for form in [secret.to_owned(), hex(secret)] {
            assert!(
                !stderr.contains(&form) && !stdout.contains(&form),
                "no secret in the output ({} bytes of it at RUST_LOG={TRACE_EVERYTHING})",
                stderr.len()
            );
        }
    }
    // The log was live at every level: condor's own detail, and the dependencies' debug
    // lines (tungstenite's handshake); only the dependencies' trace lines, those that
    // print frames, are held back.
    assert!(
        stderr.contains(" DEBUG condor::feed") && stderr.contains("Client handshake done"),
        "{stderr}"
    );
    for frame_line in [
        "Sending frame",
        "writing frame",
        "received frame",
        "Received message",
    ] {
        assert!(!stderr.contains(frame_line), "{frame_line}: {stderr}");
    }
    // Even where a failed request is explained (the URL holds the bot token).
    assert!(
        stderr.contains("Telegram bot failed") && stderr.contains("cannot connect"),
        "{stderr}"
    );
    // Nor in anything condor wrote: the journal (with the settings it journals at start).
    let mut files = 0;
    for day in std::fs::read_dir(data_dir.join("journal")).expect("a journal was written") {
        let text = std::fs::read_to_string(day.unwrap().path()).unwrap();
        assert!(text.contains("started"), "the start is journaled: {text}");
        for secret in secrets {
            assert!(!text.contains(secret), "no secret in the journal");
        }
        files += 1;
    }
    assert_eq!(files, 1, "one journal for the day");
    assert!(
        common::binary::subscribed(&rest).await.is_empty(),
        "no live subscription left at the simulator"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a newcomer's `cargo run --release` does: `condor run` with nothing configured
/// trades its embedded exchange, whose morning opens with a few gap ups. Counted in the
/// market's own terms, never in wall-clock time: the first order is on a gapped stock, on
/// one of the first trades condor receives, and that trade printed in the session's first
/// minute (the flat open of before took over a minute to its first order with this seed).
#[test]
fn a_bare_condor_run_buys_one_of_the_morning_gap_ups_on_its_first_trades() {
    let dir = std::env::temp_dir().join(format!("condor-morning-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut run = Proc(
        condor()
            .args(["run", "--rest-port", "0", "--ws-port", "0"])
            // Every tick a feed receives, with its exchange time.
            .env("RUST_LOG", "info,condor::feed=debug")
            .env("CONDOR_HTTP_ADDR", "off")
            .env("CONDOR_DATA_DIR", dir.join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("condor run starts"),
    );
    let stderr = run.0.stderr.take().unwrap();
    // Read on a thread, so a condor that never orders cannot hang the test.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    // A hang guard only: the order normally comes a few seconds in.
    let deadline = std::time::Instant::now() + PATIENCE * 3;
    let mut seen = Vec::new();
    let mut gapped: Vec<String> = Vec::new();
    let mut first_feed = None;
    let mut tick_time = std::collections::HashMap::new();
    let mut order: Option<(String, u64)> = None;
    loop {
        if let Some((_, n)) = &order {
            if tick_time.contains_key(n) {
                break;
            }
        }
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            panic!(
                "no order on a logged tick before the hang guard:\n{}",
                seen.join("\n")
            );
        };
        if let Some(list) = line.split("gap ups at the open: ").nth(1) {
            gapped = list
                .split(", ")
                .map(|g| g.split(' ').next().unwrap().to_owned())
                .collect();
        }
        if let Some(rest) = line.split("condor::feed] ").nth(1) {
            let w: Vec<&str> = rest.split(' ').collect();
            if w.get(1) == Some(&"feed") && w.get(2) == Some(&"started") && first_feed.is_none() {
                first_feed = Some(w[0].to_owned());
            }
            // `TICKER #SEQ PRICE x QTY at HH:MM:SS`
            if let (Some(seq), Some(&"at"), Some(t)) = (
                w.get(1).and_then(|s| s.strip_prefix('#')),
                w.get(5),
                w.get(6),
            ) {
                tick_time.insert(seq.parse::<u64>().unwrap(), t.to_string());
            }
        }
        if order.is_none() && line.contains("condor::orders]") && line.contains(" sent (") {
            let rest = line.split("condor::orders] ").nth(1).unwrap();
            let ticker = rest.split(' ').nth(1).unwrap().to_owned();
            let n = rest
                .rsplit("tick #")
                .next()
                .and_then(|x| x.trim_end_matches(')').parse().ok())
                .expect("the order names its tick");
            order = Some((ticker, n));
        }
        if !line.contains("DEBUG") {
            seen.push(line);
        }
    }
    let (ticker, n) = order.unwrap();
    let log = seen.join("\n");
    assert_eq!(
        gapped.len(),
        4,
        "the default morning has four gap ups:\n{log}"
    );
    let first_feed = first_feed.expect("a feed started before the order");
    assert!(
        gapped.contains(&first_feed),
        "first feed {first_feed} is a gap up:\n{log}"
    );
    assert!(
        gapped.contains(&ticker),
        "first order {ticker} is a gap up:\n{log}"
    );
    assert!(
        n <= 100,
        "first order on trade #{n} condor received:\n{log}"
    );
    let at = &tick_time[&n];
    assert!(
        at.as_str() < "09:01:00",
        "first order on a trade printed at {at}:\n{log}"
    );
    let kill = Command::new("kill")
        .args(["-TERM", &run.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let _ = run.0.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_telegram_token_without_its_chat_is_refused_at_start_without_showing_it() {
    let token = "6093512874:AAE-tgTokenE3b0c44298fc1c149afbf4c89";
    let out = condor()
        .args(["run"])
        .env("CONDOR_TELEGRAM_BOT_TOKEN", token)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CONDOR_TELEGRAM_CHAT_ID"), "{err}");
    assert!(
        !err.contains("AAE-tgToken"),
        "the token is not shown: {err}"
    );
}

#[test]
fn a_half_configured_broker_is_refused_naming_what_is_missing() {
    let out = condor()
        .args(["run"])
        .env("CONDOR_BROKER_REST_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for name in ["CONDOR_BROKER_WS_URL", "CONDOR_APPKEY", "CONDOR_APPSECRET"] {
        assert!(err.contains(name), "{name} named in: {err}");
    }
}

#[test]
fn a_bad_strategy_setting_is_refused_naming_it() {
    let out = condor()
        .args(["run", "--rest-port", "0", "--ws-port", "0"])
        .env("CONDOR_STRATEGY", "martingale")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CONDOR_STRATEGY") && err.contains("momentum"),
        "{err}"
    );
}

#[test]
fn a_bad_conditions_file_is_refused_naming_the_file_the_table_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("condor.toml");
    std::fs::write(
        &file,
        "[[conditions]]\nname = \"급등 모멘텀\"\n\n[[conditions]]\nname = \"0001\"\nstrategy = \"vwap-band\"\n[conditions.params]\nband_bp = 0\n",
    )
    .unwrap();
    let out = condor()
        .args(["run", "--rest-port", "0", "--ws-port", "0"])
        .env("CONDOR_CONFIG", &file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}: conditions[2] (\"0001\"): key params.band_bp: must be 1..=3000, got 0",
            file.display()
        )),
        "{err}"
    );
    // A parameter for no condition in particular is refused while the file lists them.
    std::fs::write(&file, "[[conditions]]\nname = \"급등 모멘텀\"\n").unwrap();
    let out = condor()
        .args(["run", "--rest-port", "0", "--ws-port", "0"])
        .env("CONDOR_CONFIG", &file)
        .env("CONDOR_PARAM_CONFIRM_TICKS", "2")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("CONDOR_PARAM_CONFIRM_TICKS is set, but")
            && err.contains("[conditions.params]"),
        "{err}"
    );
}

/// `condor service unit` run in `dir` with `args`; its stdout.
fn service_unit(dir: &std::path::Path, args: &[&str]) -> String {
    let out = condor()
        .args(["service", "unit"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    stdout
}

/// The value of the unit's one `key=` line.
fn unit_value(unit: &str, key: &str) -> String {
    let found: Vec<&str> = unit
        .lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect();
    assert_eq!(found.len(), 1, "{key} once in:\n{unit}");
    found[0].to_owned()
}

#[test]
fn condor_service_unit_runs_this_binary_here_with_this_env_file() {
    let dir = tempfile::tempdir().unwrap();
    let here = dir.path().canonicalize().unwrap();
    std::fs::write(here.join(".env"), "CONDOR_TAPE_KEEP_DAYS=30\n").unwrap();
    let inner = here.join("inner");
    std::fs::create_dir(&inner).unwrap();

    // From a subdirectory: the .env is the one condor itself would read, a parent's.
    let unit = service_unit(&inner, &[]);
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_condor"))
        .canonicalize()
        .unwrap();
    assert_eq!(
        unit_value(&unit, "ExecStart"),
        format!("{} run", binary.display())
    );
    assert_eq!(
        unit_value(&unit, "WorkingDirectory"),
        inner.display().to_string()
    );
    assert_eq!(
        unit_value(&unit, "EnvironmentFile"),
        here.join(".env").display().to_string()
    );
    assert!(!unit_value(&unit, "User").is_empty(), "{unit}");
    assert_eq!(unit_value(&unit, "Restart"), "on-failure");
    assert_eq!(unit_value(&unit, "KillSignal"), "SIGTERM");
    assert_eq!(unit_value(&unit, "WantedBy"), "multi-user.target");

    // Every default overridden; an env file not written yet is optional.
    let unit = service_unit(
        &here,
        &[
            "--user",
            "trader",
            "--env-file",
            "/etc/condor/condor.env",
            "--working-dir",
            "inner",
        ],
    );
    assert_eq!(unit_value(&unit, "User"), "trader");
    assert_eq!(
        unit_value(&unit, "WorkingDirectory"),
        inner.display().to_string()
    );
    assert_eq!(
        unit_value(&unit, "EnvironmentFile"),
        "-/etc/condor/condor.env"
    );

    let out = condor()
        .args(["service", "unit", "--user", "a b"])
        .current_dir(&here)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--user"));
}

/// What `systemd-analyze verify` says about `unit` (saved as `condor.service` in `dir`):
/// its complaints (any line naming the file; it exits 0 on some, like a bad value it
/// ignores), and whether it exited 0. `None` when the command is not on this machine.
fn verify(dir: &std::path::Path, unit: &str) -> Option<(Vec<String>, bool)> {
    let path = dir.join("condor.service");
    std::fs::write(&path, unit).unwrap();
    let out = match Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("systemd-analyze: {e}"),
    };
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let complaints = said
        .lines()
        .filter(|l| l.contains("condor.service"))
        .map(str::to_owned)
        .collect();
    Some((complaints, out.status.success()))
}

#[test]
fn the_printed_unit_passes_systemd_analyze_verify_and_a_broken_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let unit = service_unit(dir.path(), &[]);
    let Some((complaints, ok)) = verify(dir.path(), &unit) else {
        eprintln!("systemd-analyze is not on this machine: the unit's text is checked, not verified by systemd");
        assert!(unit.contains("\n[Service]\n") && unit.contains("\nExecStart=/"));
        return;
    };
    assert!(ok && complaints.is_empty(), "{complaints:?}\n{unit}");

    // The check has teeth: each of these breaks the unit, and verify says so.
    for (from, to) in [
        ("Restart=on-failure", "Restart=sometimes"),
        ("ExecStart=/", "ExecStart=/nonexistent/"),
        ("[Service]", "[Servic]"),
        ("KillSignal=SIGTERM", "KillSignal=SIGNOPE"),
    ] {
        assert!(unit.contains(from), "{from}");
        let broken = unit.replacen(from, to, 1);
        let (complaints, ok) = verify(dir.path(), &broken).unwrap();
        assert!(
            !ok || !complaints.is_empty(),
            "{to}: verify found nothing wrong"
        );
    }
}

#[test]
fn the_kill_switch_and_the_journal_name_the_day_of_condor_clock() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The day condor run trades on this clock: Tuesday 2024-06-04, whatever the host's.
    let on_clock = |args: &[&str]| {
        let out = condor()
            .args(args)
            .env("CONDOR_DATA_DIR", &data)
            .env("CONDOR_CLOCK", "2024-06-04T10:00:00x1")
            .output()
            .expect("condor runs");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text
    };
    let tripped = on_clock(&["kill-switch", "trip", "--note", "the clock's day"]);
    assert!(tripped.starts_with("2024-06-04 record "), "{tripped}");
    assert!(
        condor_actors::journal::day_path(&data.join("journal"), "2024-06-04".parse().unwrap())
            .exists()
    );
    let status = on_clock(&["kill-switch", "status"]);
    assert!(
        status.starts_with("kill switch ON for 2024-06-04") && status.contains("the clock's day"),
        "{status}"
    );
    let journal = on_clock(&["journal"]);
    assert!(journal.contains("the clock's day"), "{journal}");
    // On the system's clock it is another day, whose switch is off.
    let out = condor()
        .args(["kill-switch", "status"])
        .env("CONDOR_DATA_DIR", &data)
        .output()
        .unwrap();
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(status.starts_with("kill switch off for "), "{status}");
    assert!(!status.contains("2024-06-04"), "{status}");
    // A bad clock names itself.
    let out = condor()
        .args(["kill-switch", "status"])
        .env("CONDOR_DATA_DIR", &data)
        .env("CONDOR_CLOCK", "2024-06-04x1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CONDOR_CLOCK"));
}

/// Whether Kiwoom's simulator at `rest` takes `token` as a bearer (ka10001 answered 0).
async fn kiwoom_accepts(http: &reqwest::Client, rest: &str, token: &str) -> bool {
    let Ok(reply) = http
        .post(format!("{rest}/api/dostk/stkinfo"))
        .header("content-type", "application/json;charset=UTF-8")
        .header("api-id", "ka10001")
        .header("authorization", format!("Bearer {token}"))
        .body(r#"{"stk_cd":"005930"}"#)
        .send()
        .await
    else {
        return false;
    };
    let v: serde_json::Value = reply.json().await.unwrap_or_default();
    v["return_code"].as_i64() == Some(0)
}

/// Every run of 20 or more token characters in `text`, and the text of every run of hex
/// digits (tungstenite prints a frame's payload in hex at trace), for the token search.
fn token_candidates(text: &str) -> std::collections::BTreeSet<String> {
    let runs = |t: &str, keep: fn(char) -> bool| -> Vec<String> {
        t.split(|c: char| !keep(c))
            .filter(|r| r.len() >= 20)
            .map(str::to_owned)
            .collect()
    };
    let mut out: std::collections::BTreeSet<String> = runs(text, |c| {
        c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '/' | '=')
    })
    .into_iter()
    .collect();
    for h in runs(text, |c| c.is_ascii_hexdigit()) {
        let bytes: Vec<u8> = (0..h.len() / 2)
            .filter_map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).ok())
            .collect();
        out.extend(runs(&String::from_utf8_lossy(&bytes), |c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '/' | '=')
        }));
    }
    out
}

/// Kiwoom's LOGIN frame carries the access token: at `RUST_LOG` trace, with the frame
/// printers named, condor's output holds no key, no secret, and no string the simulator
/// takes as a token (each candidate is tried as a bearer, so a leak of any token it
/// issued is caught, whatever its shape).
#[tokio::test]
async fn a_kiwoom_run_at_trace_prints_no_key_and_no_token() {
    let dir = std::env::temp_dir().join(format!("condor-run-kiwoom-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("run.scn");
    std::fs::write(
        &scenario,
        "condition S001 키움 추적\nat 0ms S001 enter 005930\nat 0ms S001 enter 247540\n",
    )
    .unwrap();
    let (_work, sim) = standalone_sim("run-kiwoom-trace", "kiwoom", &scenario);
    let rest = sim.rest.clone();
    let run = Drained::spawn(
        condor()
            .args(["run", "--condition", "S001"])
            .env("RUST_LOG", TRACE_EVERYTHING)
            .env("CONDOR_BROKER", "kiwoom")
            .env("CONDOR_BROKER_REST_URL", &rest)
            .env("CONDOR_BROKER_WS_URL", &sim.ws)
            .env("CONDOR_APPKEY", &sim.appkey)
            .env("CONDOR_APPSECRET", &sim.appsecret)
            .env("CONDOR_DATA_DIR", dir.join("data")),
    );
    until_subscribed(&rest, &["005930", "247540"]).await;
    // Ticks have flowed: their frames were read (and logged) at trace too.
    run.until_ticking().await;
    let (status, stdout, stderr) = run.terminate();
    assert!(status.success(), "exit 0 on SIGTERM: {status:?}\n{stderr}");
    let (received, _) = summary_ticks(&stdout);
    assert!(received > 0, "{stdout}");
    // Live at every level: condor's detail and the dependencies' debug lines.
    assert!(
        stderr.contains(" DEBUG condor::") && stderr.contains("Client handshake done"),
        "{stderr}"
    );
    for secret in [sim.appkey.as_str(), sim.appsecret.as_str()] {
        for form in [secret.to_owned(), hex(secret)] {
            assert!(
                !stderr.contains(&form) && !stdout.contains(&form),
                "no key in the output"
            );
        }
    }
    let http = reqwest::Client::new();
    // The search works: a token the simulator issued, printed, is found by it.
    let issued: serde_json::Value = http
        .post(format!("{rest}/oauth2/token"))
        .header("content-type", "application/json;charset=UTF-8")
        .header("api-id", "au10001")
        .body(
            serde_json::json!({"grant_type": "client_credentials",
                "appkey": sim.appkey, "secretkey": sim.appsecret})
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let issued = issued["token"].as_str().expect("a token").to_owned();
    let planted = format!("LOGIN {{\"token\":\"{issued}\"}} as {}", hex(&issued));
    let found = token_candidates(&planted);
    assert!(found.contains(&issued), "{found:?}");
    assert!(kiwoom_accepts(&http, &rest, &issued).await);
    let output = format!("{stdout}\n{stderr}");
    let candidates = token_candidates(&output);
    assert!(!candidates.is_empty());
    for c in &candidates {
        assert!(
            !kiwoom_accepts(&http, &rest, c).await,
            "an access token in condor's output ({} candidates tried)",
            candidates.len()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
