//! The embedded LS-compatible exchange: a real server on loopback that speaks LS OPEN
//! API's REST (one port) and websocket (another port, path `/websocket`), backed by a
//! seeded simulated market, a matching engine, one account and a condition screener.
//!
//! With a tape ([`exchange::ExchangeConfig::tape`], `condor sim --tape FILE`) the market is
//! a recorded day played back over the same wire (`playback` loads it, the exchange plays
//! it, the engine paces it: [`SimConfig::tape_speed`]).
//!
//! Owns its own thread and tokio runtime so it never competes with the engine's event
//! loop. Must never share state with its clients except through its sockets: condor
//! and every test talk to it exactly as they would to LS.

pub mod exchange;

mod auth;
mod engine;
mod http;
mod kiwoom;
pub mod playback;
mod render;
mod tr;
mod ws;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::thread::JoinHandle;
use std::time::Duration;

use std::sync::Arc;

use condor_model::clock::ClockSpec;
use tokio::sync::{mpsc, oneshot, Notify};

pub use auth::TOKEN_LIFETIME_SECS;
use condor_model::secret::Secret;
use engine::Command;
pub use engine::{SimStats, SubscriptionReport};
pub use exchange::ExchangeConfig;
pub use playback::{load_day, TapeArgs, TapeLoadError, TapeSpeed};

/// The simulator's default app key: 36 characters, like LS's.
pub const DEFAULT_APPKEY: &str = "condor-sim-appkey-000000000000000001";
/// The simulator's default app secret: 36 characters, like LS's.
pub const DEFAULT_APPSECRET: &str = "condor-sim-appsecret-000000000000001";

/// Which broker's wire the simulator speaks. The exchange behind it (market, matching,
/// account, conditions, scenarios, tapes, rate limits, faults) is the same either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// LS OPEN API: REST on `/oauth2/token` and `/stock/<group>`, websocket at `/websocket`.
    #[default]
    Ls,
    /// Kiwoom REST: REST on `/oauth2/token` and `/api/dostk/<group>` (header `api-id`),
    /// websocket at `/api/dostk/websocket` (LOGIN, PING, REG/REMOVE, REAL, CNSR*).
    Kiwoom,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ls => "LS",
            Protocol::Kiwoom => "Kiwoom",
        }
    }
}

/// Faults to inject on every websocket connection, for tests.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Drop each connection (no close frame) this long after it opened.
    pub drop_after: Option<Duration>,
    /// Drop each connection after sending this many frames.
    pub drop_after_frames: Option<u64>,
    /// Hold every outgoing frame this long before sending it (order is kept).
    pub frame_delay: Option<Duration>,
    /// Share of S3_/K3_ trade frames (0.0–1.0) sent cut in half, so they are not JSON.
    pub malformed_share: f64,
    /// Share of trade frames (0.0–1.0) sent well-formed but holding a number no exchange
    /// prints: a price of `i64::MAX` won or just past KRX's highest, a negative volume, a
    /// quantity of `u64::MAX` (LS S3_/K3_ and Kiwoom 0B alike). Counted in `/sim/stats`
    /// as `absurd_frames`.
    pub absurd_share: f64,
    /// Hold every TR answer this long after the exchange handled the request: a slow
    /// gateway, where an order already rests at the exchange while its reply is on its way.
    pub rest_reply_delay: Option<Duration>,
}

/// Everything the simulator is started with.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The wire it speaks: LS's (default) or Kiwoom's.
    pub protocol: Protocol,
    pub bind: IpAddr,
    /// REST port; 0 picks a free one.
    pub rest_port: u16,
    /// Websocket port; 0 picks a free one.
    pub ws_port: u16,
    pub appkey: Secret,
    pub appsecret: Secret,
    /// Paper (모의투자) server: FOCCQ33600 and balance messages say so, as LS's do.
    pub paper: bool,
    /// Enforce LS's per-TR rate limits (IGW00201, HTTP 500 when exceeded).
    pub rate_limits: bool,
    /// How often the market advances in normal mode.
    pub step: Duration,
    /// Push trades of the watched tickers as fast as clients take them, on top of the
    /// configured rate.
    pub firehose: bool,
    /// Stop the firehose after this many trades (a counted burst).
    pub firehose_trades: Option<u64>,
    pub faults: Faults,
    pub exchange: ExchangeConfig,
    /// With a tape (`exchange.tape`): how fast it plays.
    pub tape_speed: TapeSpeed,
    /// With a tape: it starts playing this long after the first client registers its
    /// condition's alerts (AFR) or a ticker's trades (S3_/K3_), so a client that goes on
    /// to ask t1859 and register the rest misses nothing. Until then the clock stands at
    /// the tape's start.
    pub tape_start_delay: Duration,
    /// With a tape at `max`: after a ticker's entry reaches a client listening to the
    /// condition, its next trade waits this long at most for a session to register the
    /// ticker's trades (the recorded day had the client's reaction time; full speed has
    /// none). The tape plays on up to that trade, then waits.
    pub tape_subscribe_grace: Duration,
    /// How long an access token lives (`expires_in`, whole seconds, at least one): LS's
    /// 86,400 s by default; a few seconds lets a test see tokens expire and be renewed.
    pub token_ttl: Duration,
    /// The market's clock, scaled (`CONDOR_CLOCK`): the exchange trades the KRX calendar's
    /// sessions from the spec's start, day after day, and stamps trades, orders and tokens
    /// by it. `None`: one day from `exchange.start_time` on the real clock.
    pub clock: Option<ClockSpec>,
    /// Kiwoom mode: how often a logged-in websocket is sent a `PING` it must echo; after
    /// [`KIWOOM_PING_MISSES`] unanswered ones in a row the connection is dropped.
    pub kiwoom_ping_interval: Duration,
    /// Kiwoom mode: pose as the other server than the one the key pair and the tokens
    /// presented belong to (a paper key at api.kiwoom.com, or a real one at mockapi): the
    /// key pair's au10001 is refused `[8030]`, and a call or LOGIN with a token this
    /// simulator did not issue `[8031]` rather than `[8005]` (kiwoom-rest.md §1, §6.2).
    pub kiwoom_other_host: bool,
}

/// Kiwoom mode: unanswered PINGs in a row after which a connection is dropped.
pub const KIWOOM_PING_MISSES: u32 = 3;

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            protocol: Protocol::Ls,
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rest_port: 0,
            ws_port: 0,
            appkey: Secret::new(DEFAULT_APPKEY),
            appsecret: Secret::new(DEFAULT_APPSECRET),
            paper: true,
            rate_limits: true,
            step: Duration::from_millis(5),
            firehose: false,
            firehose_trades: None,
            faults: Faults::default(),
            exchange: ExchangeConfig::default(),
            tape_speed: TapeSpeed::default(),
            tape_start_delay: Duration::from_secs(1),
            tape_subscribe_grace: Duration::from_secs(2),
            token_ttl: Duration::from_secs(TOKEN_LIFETIME_SECS),
            clock: None,
            kiwoom_ping_interval: Duration::from_secs(20),
            kiwoom_other_host: false,
        }
    }
}

/// A running simulator. Dropping it stops the server and joins its thread.
pub struct SimHandle {
    protocol: Protocol,
    rest_url: String,
    ws_url: String,
    appkey: Secret,
    appsecret: Secret,
    control: mpsc::UnboundedSender<Command>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SimHandle {
    /// Binds both ports, starts the server on its own thread and returns once both
    /// listeners accept connections.
    pub fn start(cfg: SimConfig) -> io::Result<SimHandle> {
        let rest_listener = TcpListener::bind(SocketAddr::new(cfg.bind, cfg.rest_port))?;
        let ws_listener = TcpListener::bind(SocketAddr::new(cfg.bind, cfg.ws_port))?;
        rest_listener.set_nonblocking(true)?;
        ws_listener.set_nonblocking(true)?;
        let rest_addr = rest_listener.local_addr()?;
        let ws_addr = ws_listener.local_addr()?;

        let (control, commands) = mpsc::unbounded_channel();
        let (shutdown, shutdown_rx) = oneshot::channel();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();
        let appkey = cfg.appkey.clone();
        let appsecret = cfg.appsecret.clone();
        let protocol = cfg.protocol;
        let engine_tx = control.clone();

        let thread = std::thread::Builder::new()
            .name("condor-sim".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("condor-sim-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let rest = match tokio::net::TcpListener::from_std(rest_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let ws = match tokio::net::TcpListener::from_std(ws_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let faults = cfg.faults.clone();
                    let cfg_reply_delay = cfg.faults.rest_reply_delay;
                    let seed = cfg.exchange.seed;
                    let protocol = cfg.protocol;
                    // Writers signal after each batch so a waiting firehose can go on.
                    let drained = Arc::new(Notify::new());
                    let engine = tokio::spawn(engine::run(cfg, commands, drained.clone()));
                    let http = match protocol {
                        Protocol::Ls => {
                            tokio::spawn(http::serve(rest, engine_tx.clone(), cfg_reply_delay))
                        }
                        Protocol::Kiwoom => tokio::spawn(kiwoom::http::serve(
                            rest,
                            engine_tx.clone(),
                            cfg_reply_delay,
                        )),
                    };
                    let ws_path = match protocol {
                        Protocol::Ls => "/websocket",
                        Protocol::Kiwoom => condor_model::kiwoom::WS_PATH,
                    };
                    let ws = tokio::spawn(ws::serve(ws, ws_path, engine_tx, faults, seed, drained));
                    let _ = ready_tx.send(Ok(()));
                    let _ = shutdown_rx.await;
                    http.abort();
                    ws.abort();
                    engine.abort();
                });
                rt.shutdown_timeout(Duration::from_secs(1));
            })?;
        ready_rx
            .recv()
            .map_err(|_| io::Error::other("simulator thread died while starting"))??;
        let ws_path = match protocol {
            Protocol::Ls => "/websocket",
            Protocol::Kiwoom => condor_model::kiwoom::WS_PATH,
        };
        log::info!(target: "condor::sim", "{} protocol; rest: http://{rest_addr}  websocket: ws://{ws_addr}{ws_path}", protocol.name());
        Ok(SimHandle {
            protocol,
            rest_url: format!("http://{rest_addr}"),
            ws_url: format!("ws://{ws_addr}{ws_path}"),
            appkey,
            appsecret,
            control,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The wire it speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// `http://127.0.0.1:PORT`
    pub fn rest_url(&self) -> &str {
        &self.rest_url
    }

    /// `ws://127.0.0.1:PORT/websocket` (LS), `ws://127.0.0.1:PORT/api/dostk/websocket`
    /// (Kiwoom).
    pub fn ws_url(&self) -> &str {
        &self.ws_url
    }

    pub fn appkey(&self) -> &Secret {
        &self.appkey
    }

    pub fn appsecret(&self) -> &Secret {
        &self.appsecret
    }

    /// Drops every websocket connection now, without a close frame (a network fault).
    pub fn drop_connections(&self) {
        let _ = self.control.send(Command::DropConnections);
    }

    /// What every connected websocket session is registered for right now.
    pub async fn subscriptions(&self) -> SubscriptionReport {
        let (reply, rx) = oneshot::channel();
        if self.control.send(Command::Subscriptions { reply }).is_err() {
            return SubscriptionReport::default();
        }
        rx.await.unwrap_or_default()
    }

    /// How many trades the market has printed, in all and per ticker.
    pub async fn stats(&self) -> SimStats {
        let (reply, rx) = oneshot::channel();
        if self.control.send(Command::Stats { reply }).is_err() {
            return SimStats::default();
        }
        rx.await.unwrap_or_default()
    }

    /// Stops the server and waits for its thread.
    pub fn stop(mut self) {
        self.stop_inner();
    }

    fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.stop_inner();
    }
}
