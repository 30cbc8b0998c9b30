//! The `condor` binary as a child process: with a clean environment, killed when the test
//! ends; `condor run` trading a simulator started in the test process, over real sockets,
//! its HTTP server on a free loopback port read from the `dashboard:` line it prints at
//! start; what its `/status` and its shutdown summary count.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

use condor::sim::exchange::Scenario;
use condor::sim::{SimConfig, SimHandle};

use super::wait::{until, until_blocking, PATIENCE};

/// A child process killed (SIGKILL) and reaped when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What a child that should stop by itself (a refused setting) printed, once it has; if it
/// does not within the patience, the test fails with `what` and the child is killed.
pub fn exited(child: Child, what: &str) -> Output {
    let mut proc = Proc(child);
    let status = until_blocking(what, || proc.0.try_wait().unwrap());
    let read = |pipe: Option<&mut dyn Read>| {
        let mut bytes = Vec::new();
        if let Some(p) = pipe {
            p.read_to_end(&mut bytes).expect("the pipe reads");
        }
        bytes
    };
    Output {
        status,
        stdout: read(proc.0.stdout.as_mut().map(|p| p as &mut dyn Read)),
        stderr: read(proc.0.stderr.as_mut().map(|p| p as &mut dyn Read)),
    }
}

/// A simulator with `scenario`, 20 trades a second per ticker, no rate limits.
pub fn sim(scenario: &str) -> SimHandle {
    let mut cfg = SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = 20.0;
    cfg.exchange.scenario = Some(Scenario::parse(scenario).expect("scenario parses"));
    SimHandle::start(cfg).expect("simulator starts")
}

/// `condor` with a clean environment: a developer's `.env` and `CONDOR_*` stay out.
pub fn condor(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_condor"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .current_dir(dir);
    c
}

pub struct Running {
    pub proc: Proc,
    /// `http://127.0.0.1:PORT`.
    pub http: String,
    /// condor's stderr (its log), in a file: a pipe nobody reads could stall it.
    pub log: PathBuf,
}

impl Running {
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits for the exit; returns whether it exited 0.
    pub fn stop(&mut self) -> bool {
        let pid = self.proc.0.id().to_string();
        let killed = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(killed.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        self.proc.0.wait().is_ok_and(|s| s.success())
    }
}

/// Starts `condor run` trading `condition` at `sim`, its state and log in `dir`, with the
/// extra environment `env`, and waits for its HTTP server's address.
pub fn start(sim: &SimHandle, dir: &Path, condition: &str, env: &[(&str, &str)]) -> Running {
    let log = dir.join("condor.log");
    let mut cmd = condor(dir);
    cmd.args(["run", "--condition", condition])
        .env("CONDOR_BROKER_REST_URL", sim.rest_url())
        .env("CONDOR_BROKER_WS_URL", sim.ws_url())
        .env("CONDOR_APPKEY", sim.appkey().expose())
        .env("CONDOR_APPSECRET", sim.appsecret().expose())
        .env("CONDOR_DATA_DIR", dir.join("state"))
        .env("CONDOR_HTTP_ADDR", "127.0.0.1:0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("condor run starts");
    let stdout = child.stdout.take().expect("stdout");
    let proc = Proc(child);
    // Read on a thread, so a condor that never prints cannot hang the test.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Some(url) = line.strip_prefix("dashboard: ") {
                let _ = tx.send(url.trim_end_matches('/').to_owned());
            }
        }
    });
    let http = rx.recv_timeout(PATIENCE).unwrap_or_else(|_| {
        panic!(
            "condor run printed no dashboard address:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        )
    });
    Running { proc, http, log }
}

/// The tickers the simulator has trade subscriptions for, sorted.
pub async fn subscribed(rest: &str) -> Vec<String> {
    let v: serde_json::Value = reqwest::get(format!("{rest}/sim/subscriptions"))
        .await
        .expect("subscriptions")
        .json()
        .await
        .expect("subscriptions JSON");
    let mut out: Vec<String> = v["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .flat_map(|s| {
            s["market"]
                .as_array()
                .expect("market")
                .iter()
                .map(|m| m[1].as_str().expect("code").to_owned())
        })
        .collect();
    out.sort();
    out
}

/// Waits until the simulator at `rest` has exactly `want` subscribed.
pub async fn until_subscribed(rest: &str, want: &[&str]) {
    until(
        format!("the engine never subscribed {want:?}"),
        async || {
            let got = subscribed(rest).await;
            if got == want {
                Ok(())
            } else {
                Err(format!("subscribed {got:?}"))
            }
        },
    )
    .await
}

/// Waits until `condor run`'s `/status` at `http` counts a processed tick; returns the
/// count. Before its HTTP server answers, it has not ticked.
pub async fn until_ticking(http: &str) -> u64 {
    until("a tick processed", async || {
        let s: serde_json::Value = reqwest::get(format!("{http}/status"))
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        s["counters"]["ticks_processed"].as_u64().filter(|&n| n > 0)
    })
    .await
}

/// The ticks `condor run`'s shutdown summary counts: (received, processed), from its line
/// `  ticks              R received, P processed, ...`.
pub fn summary_ticks(stdout: &str) -> (u64, u64) {
    let line = stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("ticks "))
        .unwrap_or_else(|| panic!("no ticks line in the summary:\n{stdout}"));
    let count = |word: &str| -> u64 {
        let (before, _) = line
            .split_once(&format!(" {word}"))
            .unwrap_or_else(|| panic!("no {word:?} count in {line:?}"));
        let n = before.rsplit([' ', ',']).next().unwrap_or_default();
        n.parse()
            .unwrap_or_else(|_| panic!("{n:?}, the {word:?} count, is not a number in {line:?}"))
    };
    (count("received"), count("processed"))
}
