//! `condor sim` and `condor run` as separate processes, as a user starts them: a
//! standalone simulator, the lives of `condor run` against it (each with its own log),
//! SIGKILL and SIGTERM. Shared by the crash, replay, disk, backtest and binary tests.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

pub use super::binary::Proc;
use super::wait::{until, Outcome, Poll, What};

/// A scenario (after `head`, its conditions and cash) in which every one of `tickers`
/// enters condition S001 and, four seconds later, leaves it, every five seconds (staggered
/// by `stagger_ms` a ticker), for an hour: each entry arms the strategy for one more
/// trade. Every registration (every life of condor) replays it from the start.
pub fn busy_scenario(head: &str, tickers: &[&str], stagger_ms: u64) -> String {
    let mut s = String::from(head);
    for (i, code) in tickers.iter().enumerate() {
        let mut t = (i as u64 * stagger_ms) % 5_000;
        while t < 3_600_000 {
            s.push_str(&format!(
                "at {t}ms S001 enter {code}\nat {}ms S001 exit {code}\n",
                t + 4_000
            ));
            t += 5_000;
        }
    }
    s
}

/// The momentum strategy tuned to trade all the time on S001: enter on any trade, leave on
/// a 0.2% move or after two seconds, 300,000 won an entry, no limit that would stop it.
pub const BUSY: &[(&str, &str)] = &[
    ("CONDOR_CONDITION", "S001"),
    ("CONDOR_CONFIRM_TICKS", "1"),
    ("CONDOR_MIN_CHANGE_BP", "-3000"),
    ("CONDOR_TAKE_PROFIT_BP", "20"),
    ("CONDOR_STOP_LOSS_BP", "20"),
    ("CONDOR_MAX_HOLD_SECS", "2"),
    ("CONDOR_BUDGET_WON", "300000"),
    ("CONDOR_MAX_OPEN_POSITIONS", "50"),
    ("CONDOR_MAX_ORDERS_PER_DAY", "1000000"),
    ("CONDOR_DAILY_LOSS_LIMIT", "1000000000"),
];

pub fn condor_cmd(dir: &Path) -> Command {
    let mut c = super::binary::condor(dir);
    // No HTTP server: the two tests' lives run side by side and would share its port. The
    // log level is each life's own.
    c.env("CONDOR_HTTP_ADDR", "off").env_remove("RUST_LOG");
    c
}

/// A working directory for one test: kept (and named) when the test fails, so the logs of
/// every life can be read; removed when it passes.
pub struct Work(pub PathBuf);

impl Work {
    pub fn new(name: &str, seed: u64) -> Work {
        let dir =
            std::env::temp_dir().join(format!("condor-crash-{name}-{}-{seed}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Work(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("logs and data kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The broker wire a standalone simulator speaks, and so the broker `condor run` trades.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// LS Securities OPEN API (the simulator's default).
    Ls,
    /// Kiwoom REST (`condor sim --protocol kiwoom`, `CONDOR_BROKER=kiwoom`).
    Kiwoom,
}

impl Protocol {
    /// As `CONDOR_BROKER` and `--protocol` spell it.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ls => "ls",
            Protocol::Kiwoom => "kiwoom",
        }
    }

    /// The `condor sim` flags that select this wire.
    pub fn sim_args(self) -> &'static [&'static str] {
        match self {
            Protocol::Ls => &[],
            Protocol::Kiwoom => &["--protocol", "kiwoom"],
        }
    }

    /// The wire `condor sim ARGS` with the environment `env` speaks: `--protocol` (either
    /// spelling) wins over `CONDOR_SIM_PROTOCOL`, as in the CLI.
    fn of(args: &[&str], env: &[(&str, &str)]) -> Protocol {
        let flag = args
            .iter()
            .enumerate()
            .find_map(|(i, a)| match a.strip_prefix("--protocol") {
                Some("") => args.get(i + 1).copied(),
                Some(v) => v.strip_prefix('='),
                None => None,
            });
        let env = env
            .iter()
            .find(|(k, _)| *k == "CONDOR_SIM_PROTOCOL")
            .map(|(_, v)| *v);
        match flag.or(env) {
            Some("kiwoom") => Protocol::Kiwoom,
            _ => Protocol::Ls,
        }
    }
}

/// A standalone `condor sim`, as a user starts one.
pub struct Sim {
    pub proc: Proc,
    pub protocol: Protocol,
    pub rest: String,
    pub ws: String,
    pub appkey: String,
    pub appsecret: String,
}

pub fn start_sim(work: &Work, seed: u64, trades_per_sec: &str, scenario: &str) -> Sim {
    start_sim_with(work, seed, trades_per_sec, scenario, &[])
}

/// [`start_sim`] with more `condor sim` flags (faults, cash, `--protocol`).
pub fn start_sim_with(
    work: &Work,
    seed: u64,
    trades_per_sec: &str,
    scenario: &str,
    extra: &[&str],
) -> Sim {
    let path = work.path("scenario.scn");
    std::fs::write(&path, scenario).unwrap();
    let seed = seed.to_string();
    let mut args = vec![
        "--trades-per-sec",
        trades_per_sec,
        "--seed",
        &seed,
        "--scenario",
    ];
    let path = path.to_str().expect("a UTF-8 temp path");
    args.push(path);
    args.extend(extra);
    start_sim_args(work, "warn", &args)
}

/// `condor sim --rest-port 0 --ws-port 0 --no-rate-limit ARGS`, its log (at `log_level`) in
/// `sim.log`; waits for the four lines it prints (REST and websocket URLs, key pair).
pub fn start_sim_args(work: &Work, log_level: &str, args: &[&str]) -> Sim {
    let mut all = vec!["--no-rate-limit"];
    all.extend(args);
    start_sim_env(work, log_level, &all, &[])
}

/// `condor sim --rest-port 0 --ws-port 0 ARGS` with LS's rate limits and the environment
/// `env` (e.g. `CONDOR_CLOCK`), as [`start_sim_args`] otherwise.
pub fn start_sim_env(work: &Work, log_level: &str, args: &[&str], env: &[(&str, &str)]) -> Sim {
    let log = std::fs::File::create(work.path("sim.log")).unwrap();
    let mut child = condor_cmd(&work.0)
        .env("RUST_LOG", log_level)
        .envs(env.iter().copied())
        .args(["sim", "--rest-port", "0", "--ws-port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("condor sim starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let proc = Proc(child);
    let mut lines = HashMap::new();
    for _ in 0..4 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let (k, v) = line.trim().split_once(": ").unwrap_or_else(|| {
            panic!(
                "condor sim printed {line:?}, not key: value; {}",
                tail(&work.path("sim.log"), 20)
            )
        });
        lines.insert(k.to_owned(), v.to_owned());
    }
    Sim {
        proc,
        protocol: Protocol::of(args, env),
        rest: lines["rest"].clone(),
        ws: lines["websocket"].clone(),
        appkey: lines["appkey"].clone(),
        appsecret: lines["appsecret"].clone(),
    }
}

/// One life of `condor run`: its stdout and stderr go to files named after the life.
pub struct Condor {
    pub proc: Proc,
    pub life: usize,
    pub stdout: PathBuf,
    pub stderr: PathBuf,
}

/// What every life of `condor run` shares: the broker, the data directory, the strategy.
pub struct RunSettings {
    pub env: Vec<(&'static str, String)>,
}

impl RunSettings {
    /// Trades `sim` with the broker its wire is (`CONDOR_BROKER=kiwoom` for a Kiwoom sim).
    pub fn new(sim: &Sim, data: &Path, extra: &[(&'static str, &str)]) -> RunSettings {
        let mut env = vec![
            ("RUST_LOG", "info".to_owned()),
            ("CONDOR_BROKER", sim.protocol.name().to_owned()),
            ("CONDOR_BROKER_REST_URL", sim.rest.clone()),
            ("CONDOR_BROKER_WS_URL", sim.ws.clone()),
            ("CONDOR_APPKEY", sim.appkey.clone()),
            ("CONDOR_APPSECRET", sim.appsecret.clone()),
            ("CONDOR_DATA_DIR", data.display().to_string()),
        ];
        env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
        RunSettings { env }
    }

    pub fn set(&mut self, key: &'static str, value: &str) {
        self.env.retain(|(k, _)| *k != key);
        self.env.push((key, value.to_owned()));
    }
}

pub fn spawn_condor(work: &Work, settings: &RunSettings, life: usize) -> Condor {
    let stdout = work.path(&format!("run-{life:03}.out"));
    let stderr = life_log(work, life);
    let mut cmd = condor_cmd(&work.0);
    cmd.arg("run")
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap());
    for (k, v) in &settings.env {
        cmd.env(k, v);
    }
    Condor {
        proc: Proc(cmd.spawn().expect("condor run starts")),
        life,
        stdout,
        stderr,
    }
}

/// The last `n` lines of a file, for a failure message.
pub fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Condor {
    /// Waits as `poll` says until `check` is ready while this life lives; on giving up, or
    /// if the life ends, the failure shows its log.
    pub async fn until_with<O: Outcome>(
        &mut self,
        poll: Poll,
        what: impl What,
        mut check: impl AsyncFnMut() -> O,
    ) -> O::Ready {
        let (life, log) = (self.life, self.stderr.clone());
        poll.until(
            || format!("life {life}: {}\n{}", what.describe(), tail(&log, 30)),
            async || {
                let seen = check().await.ready();
                if seen.is_err() {
                    self.assert_alive();
                }
                seen
            },
        )
        .await
    }

    /// [`Condor::until_with`] the default [`Poll`].
    pub async fn until<O: Outcome>(
        &mut self,
        what: impl What,
        check: impl AsyncFnMut() -> O,
    ) -> O::Ready {
        self.until_with(Poll::default(), what, check).await
    }

    /// Panics (with its log) if this life ended by itself.
    pub fn assert_alive(&mut self) {
        if let Some(status) = self.proc.0.try_wait().unwrap() {
            panic!(
                "condor life {} exited by itself ({status}):\n{}\n{}",
                self.life,
                tail(&self.stdout, 20),
                tail(&self.stderr, 40)
            );
        }
    }

    /// SIGKILL: no destructor, no flush, no goodbye.
    pub fn kill9(mut self) {
        self.assert_alive();
        self.proc.0.kill().unwrap();
        self.proc.0.wait().unwrap();
    }

    /// SIGTERM, as a service manager stops it; waits for the exit.
    pub async fn terminate(mut self) -> (ExitStatus, String, String) {
        self.assert_alive();
        let ok = Command::new("kill")
            .args(["-TERM", &self.proc.0.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
        let life = self.life;
        let stderr = self.stderr.clone();
        let status = until(
            || {
                format!(
                    "condor life {life} did not stop after SIGTERM:\n{}",
                    tail(&stderr, 40)
                )
            },
            async || self.proc.0.try_wait().unwrap(),
        )
        .await;
        (
            status,
            std::fs::read_to_string(&self.stdout).unwrap(),
            std::fs::read_to_string(&self.stderr).unwrap(),
        )
    }
}

/// The log of one life of `condor run`.
pub fn life_log(work: &Work, life: usize) -> PathBuf {
    work.path(&format!("run-{life:03}.err"))
}
