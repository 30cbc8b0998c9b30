//! The `condor` command line: subcommands and their flags, each documented for `--help`,
//! every value validated with a message naming the flag (and its environment variable).
//!
//! Owns parsing only. Must never print a secret in an error or in `--help` defaults.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use condor_actors::calendar::Calendar;
use condor_actors::clock::{Clock, ClockSpec, ScaledClock, SystemClock};
use condor_actors::ledger::FeeSchedule;
use condor_actors::market::{Qty, TimeOfDay};
use condor_actors::notifier::NotifierConfig;
use condor_actors::notify::discord::WebhookUrl;
use condor_actors::notify::telegram::{self, ApiUrl, BotToken, ChatId, TelegramBot};
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::{Params, StrategyRegistry};

use crate::http::HttpConfig;
use crate::secret::Secret;
use crate::sim::exchange::{ExchangeConfig, Scenario};
use crate::sim::{Faults, SimConfig, DEFAULT_APPKEY, DEFAULT_APPSECRET};

#[derive(Parser, Debug)]
#[command(
    name = "condor",
    version,
    about = "Actor-based automated trading engine for condition-search strategies on KRX (LS Securities OPEN API)",
    long_about = None
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the engine (the default): watch the condition's stocks and trade them. With no
    /// broker configured it starts the embedded exchange on loopback, speaking the wire of
    /// CONDOR_BROKER (LS by default).
    Run(Box<RunArgs>),
    /// Run the embedded exchange standalone (REST + websocket on loopback; LS's wire, or
    /// Kiwoom's with --protocol kiwoom).
    Sim(Box<SimArgs>),
    /// Print what happened on a trading day, from its journal (text, or --json).
    Journal(crate::journal_cli::JournalArgs),
    /// Show, trip or reset today's kill switch (condor must be stopped to change it).
    KillSwitch(crate::journal_cli::KillSwitchArgs),
    /// Print what a running condor is doing (feeds, positions, orders, fills, latency),
    /// read from its HTTP server's /status.
    Status(StatusArgs),
    /// List, dump or import the recorded days (tapes) under the data directory.
    Tape(crate::tape_cli::TapeArgs),
    /// Feed a recorded day through the trading core and compare its intents with the
    /// ones the live run produced; exits non-zero on any difference.
    Replay(crate::replay_cli::ReplayArgs),
    /// Backtest a strategy over recorded days (a fill model over the tape's trades): a
    /// report, or a parameter sweep on all cores; `merge` joins the shards of a sweep.
    Backtest(Box<crate::backtest_cli::BacktestArgs>),
    /// List every strategy condor knows, with its parameters, defaults and ranges.
    Strategies(crate::strategies_cli::StrategiesArgs),
    /// Run condor as a systemd service: `unit` prints the unit file for this user,
    /// directory, `.env` and binary.
    Service(crate::service::ServiceArgs),
}

/// Where `condor run`'s HTTP server listens: an address, or nowhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpAddr {
    Off,
    At(SocketAddr),
}

/// `host:port` (an IP address, or `localhost`), or `off`.
fn parse_http_addr(s: &str) -> Result<HttpAddr, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("off") {
        return Ok(HttpAddr::Off);
    }
    if let Some(port) = s.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{port:?} is not a port number"))?;
        return Ok(HttpAddr::At(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            port,
        )));
    }
    s.parse().map(HttpAddr::At).map_err(|_| {
        format!(
            "{s:?} is neither host:port (an IP address and a port, e.g. 127.0.0.1:8686) nor off"
        )
    })
}

#[derive(Args, Debug, Clone)]
pub struct StatusArgs {
    /// The running condor's HTTP server: host:port as in CONDOR_HTTP_ADDR (an unspecified
    /// 0.0.0.0 means this machine), or an http:// URL.
    #[arg(long, env = "CONDOR_HTTP_ADDR", default_value = "127.0.0.1:8686")]
    pub addr: String,
    /// Print the /status document as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Bearer token to present (needed when condor is not on this machine).
    #[arg(long, env = "CONDOR_HTTP_TOKEN", hide_env_values = true)]
    pub token: Option<Secret>,
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" => Ok(true),
        "off" | "false" | "0" => Ok(false),
        _ => Err(format!("expected on or off, got {s:?}")),
    }
}

/// See `RunArgs::hours`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hours {
    Calendar,
    Always,
}

fn parse_hours(s: &str) -> Result<Hours, String> {
    match s {
        "calendar" => Ok(Hours::Calendar),
        "always" => Ok(Hours::Always),
        other => Err(format!("{other:?} is neither calendar nor always")),
    }
}

fn parse_on_shutdown(s: &str) -> Result<OnShutdown, String> {
    match s {
        "cancel" => Ok(OnShutdown::Cancel),
        "leave" => Ok(OnShutdown::Leave),
        other => Err(format!("{other:?} is neither cancel nor leave")),
    }
}

fn parse_rate_excess(s: &str) -> Result<RateExcess, String> {
    match s {
        "queue" => Ok(RateExcess::Queue),
        "refuse" => Ok(RateExcess::Refuse),
        other => Err(format!("{other:?} is neither queue nor refuse")),
    }
}

pub use condor_actors::order_manager::RateExcess;

/// What happens to working orders when condor stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnShutdown {
    Cancel,
    Leave,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// The broker: `ls` (LS Securities OPEN API) or `kiwoom` (Kiwoom REST). With no
    /// broker URLs and keys set, the embedded exchange speaks this broker's wire.
    #[arg(
        long = "broker",
        env = "CONDOR_BROKER",
        value_enum,
        default_value = "ls",
        help_heading = "Broker"
    )]
    pub broker_kind: crate::sim::Protocol,
    /// The broker's REST base URL: LS https://openapi.ls-sec.co.kr:8080; Kiwoom
    /// https://api.kiwoom.com, or https://mockapi.kiwoom.com for paper trading (a paper key
    /// pair works only there, a real one only on the real host). With the websocket URL,
    /// app key and secret set, condor trades there; with none set, the embedded exchange.
    #[arg(long, env = "CONDOR_BROKER_REST_URL", help_heading = "Broker")]
    pub broker_rest_url: Option<String>,
    /// The broker's websocket URL: LS wss://openapi.ls-sec.co.kr:9443/websocket (real) or
    /// :29443 (paper); Kiwoom wss://api.kiwoom.com:10000/api/dostk/websocket, or the same
    /// on mockapi.kiwoom.com for paper.
    #[arg(long, env = "CONDOR_BROKER_WS_URL", help_heading = "Broker")]
    pub broker_ws_url: Option<String>,
    /// The app key (Kiwoom's `appkey`; a secret: never logged).
    #[arg(
        long,
        env = "CONDOR_APPKEY",
        hide_env_values = true,
        help_heading = "Broker"
    )]
    pub broker_appkey: Option<Secret>,
    /// The app secret (Kiwoom's `secretkey`; a secret: never logged).
    #[arg(
        long,
        env = "CONDOR_APPSECRET",
        hide_env_values = true,
        help_heading = "Broker"
    )]
    pub broker_appsecret: Option<Secret>,

    /// The condition to trade: its name, or its key as the broker lists it (LS t1866's
    /// query_index, Kiwoom CNSRLST's seq).
    #[arg(
        long,
        env = "CONDOR_CONDITION",
        default_value = "급등 모멘텀",
        help_heading = "Trading"
    )]
    pub condition: String,
    /// The conditions file (see `condor.toml` in the README): the conditions to trade,
    /// each with its strategy, parameters, budget and most open positions. Unset: a
    /// `condor.toml` in the working directory if there is one, else the one condition of
    /// CONDOR_CONDITION and CONDOR_STRATEGY.
    #[arg(long, env = "CONDOR_CONFIG", help_heading = "Trading")]
    pub config: Option<PathBuf>,
    /// Strategy by name (built in: momentum, vwap-band; `condor strategies` lists all).
    #[arg(
        long,
        env = "CONDOR_STRATEGY",
        default_value = "momentum",
        help_heading = "Trading"
    )]
    pub strategy: String,
    /// Most tickers watched at once; enters beyond it are logged and counted.
    #[arg(
        long,
        env = "CONDOR_MAX_FEEDS",
        default_value_t = 100,
        help_heading = "Trading"
    )]
    pub max_feeds: usize,
    /// Working orders at shutdown: cancel or leave.
    #[arg(long, env = "CONDOR_ON_SHUTDOWN", default_value = "cancel", value_parser = parse_on_shutdown, help_heading = "Trading")]
    pub on_shutdown: OnShutdown,

    /// Won to spend per entry (shares = budget / order price). Every strategy has it; the
    /// parameter `budget_won` (default 1000000).
    #[arg(
        long,
        env = "CONDOR_BUDGET_WON",
        help_heading = "Strategy (see `condor strategies`)"
    )]
    pub budget_won: Option<String>,
    /// No new entries from this time (HHMMSS, KST). The parameter `entry_cutoff` (default
    /// 150000).
    #[arg(
        long,
        env = "CONDOR_ENTRY_CUTOFF",
        help_heading = "Strategy (see `condor strategies`)"
    )]
    pub entry_cutoff: Option<String>,
    /// Flatten everything from this time (HHMMSS, KST), before the closing auction. The
    /// parameter `flatten_at` (default 151500).
    #[arg(
        long,
        env = "CONDOR_FLATTEN_AT",
        help_heading = "Strategy (see `condor strategies`)"
    )]
    pub flatten_at: Option<String>,
    /// A strategy parameter, NAME=VALUE (repeatable); `condor strategies` lists each
    /// strategy's. In the environment or `.env`: CONDOR_PARAM_<NAME>=VALUE. A flag wins
    /// over the environment.
    #[arg(
        long = "param",
        value_name = "NAME=VALUE",
        value_parser = parse_param,
        help_heading = "Strategy (see `condor strategies`)"
    )]
    pub params: Vec<(String, String)>,

    /// Most shares in one order.
    #[arg(
        long,
        env = "CONDOR_MAX_ORDER_QTY",
        default_value_t = 10_000,
        help_heading = "Risk"
    )]
    pub max_order_qty: u64,
    /// Most won one buy order may commit.
    #[arg(
        long,
        env = "CONDOR_MAX_ORDER_NOTIONAL",
        default_value_t = 10_000_000,
        help_heading = "Risk"
    )]
    pub max_order_notional: i64,
    /// Most won one ticker may hold: (held + working buys + this buy) × the buy's price.
    #[arg(
        long,
        env = "CONDOR_MAX_POSITION_NOTIONAL",
        default_value_t = 20_000_000,
        help_heading = "Risk"
    )]
    pub max_position_notional: i64,
    /// Most tickers held or being bought at once; a buy of a new ticker at the cap is refused.
    #[arg(
        long,
        env = "CONDOR_MAX_OPEN_POSITIONS",
        default_value_t = 10,
        help_heading = "Risk"
    )]
    pub max_open_positions: u32,
    /// Farthest a limit price may be from the last trade, in basis points (1000 = 10%).
    #[arg(
        long,
        env = "CONDOR_PRICE_COLLAR_BP",
        default_value_t = 1_000,
        help_heading = "Risk"
    )]
    pub price_collar_bp: u32,
    /// Orders sent today (restarts included) at which new buys stop; sells still pass.
    #[arg(
        long,
        env = "CONDOR_MAX_ORDERS_PER_DAY",
        default_value_t = 500,
        help_heading = "Risk"
    )]
    pub max_orders_per_day: u32,
    /// The day's loss in won (realized + unrealized) that trips the kill switch: working
    /// orders cancelled, no new entries until the next day or `condor kill-switch reset`.
    #[arg(
        long,
        env = "CONDOR_DAILY_LOSS_LIMIT",
        default_value_t = 1_000_000,
        help_heading = "Risk"
    )]
    pub daily_loss_limit: i64,
    /// When the kill switch trips, also sell every position at market.
    #[arg(
        long,
        env = "CONDOR_KILL_SWITCH_FLATTEN",
        default_value_t = false,
        action = clap::ArgAction::Set,
        help_heading = "Risk"
    )]
    pub kill_switch_flatten: bool,
    /// Broker commission per execution, in parts per million of its value (150 = 0.015%;
    /// see your account's schedule). Booked against cash and the day's loss. Unset: the
    /// embedded exchange's rate, or 0 with a warning against a real broker.
    #[arg(
        long,
        value_name = "PPM",
        env = "CONDOR_COMMISSION_PPM",
        value_parser = clap::value_parser!(i64).range(0..=FeeSchedule::MAX_PPM),
        help_heading = "Risk"
    )]
    pub fee_commission_ppm: Option<i64>,
    /// Securities transaction tax on sells, in parts per million of the sold value
    /// (2000 = 0.20%; it changes with the law). Unset: as for the commission.
    #[arg(
        long,
        value_name = "PPM",
        env = "CONDOR_SELL_TAX_PPM",
        value_parser = clap::value_parser!(i64).range(0..=FeeSchedule::MAX_PPM),
        help_heading = "Risk"
    )]
    pub fee_sell_tax_ppm: Option<i64>,
    /// Orders per second sent to the broker (CSPAT00601's limit at LS is 10); an intent
    /// over it waits (queue) or is refused (refuse), never sent to be rejected.
    #[arg(
        long,
        env = "CONDOR_ORDERS_PER_SEC",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..=1000),
        help_heading = "Risk"
    )]
    pub orders_per_sec: u32,
    /// What an intent over the order rate does: queue or refuse.
    #[arg(long, env = "CONDOR_ORDER_RATE_EXCESS", default_value = "queue", value_parser = parse_rate_excess, help_heading = "Risk")]
    pub order_rate_excess: RateExcess,

    /// Where condor keeps its state: the journal (one file per trading day under
    /// `journal/`). Created if missing.
    #[arg(
        long,
        env = "CONDOR_DATA_DIR",
        default_value = "condor-data",
        help_heading = "Trading"
    )]
    pub data_dir: PathBuf,

    /// Record everything that reaches the trading core (condition events, every trade of
    /// every watched ticker, fills, order ends, timers) and the intents it produced, one
    /// tape per day under `<data-dir>/tape/`, for `condor replay` and `condor tape`: `on`
    /// or `off`.
    #[arg(
        long,
        env = "CONDOR_TAPE",
        default_value = "on",
        value_parser = parse_on_off,
        help_heading = "Trading"
    )]
    pub tape: bool,

    /// Whether condor keeps KRX's hours: `calendar` starts a day's engine a lead before
    /// each session's open and closes it after the close, idling in between (weekends,
    /// holidays, nights) with the websocket closed; `always` trades from start to stop.
    /// Default: `calendar` against a broker, `always` against the embedded exchange (which
    /// trades around the clock).
    #[arg(long, env = "CONDOR_HOURS", value_parser = parse_hours, help_heading = "Trading")]
    pub hours: Option<Hours>,

    /// Minutes before the open a day's engine starts (log in, reconcile, register the
    /// conditions, feeds for held tickers), under `--hours calendar`.
    #[arg(
        long,
        env = "CONDOR_DAY_LEAD_MINS",
        default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(1..=180),
        help_heading = "Trading"
    )]
    pub day_lead_mins: u32,

    /// Minutes after the close a day's engine keeps running (working orders end, their
    /// last events are journaled) before the day closes, under `--hours calendar`; never
    /// before the day's summary time.
    #[arg(
        long,
        env = "CONDOR_AFTER_CLOSE_MINS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u32).range(1..=240),
        help_heading = "Trading"
    )]
    pub after_close_mins: u32,

    /// Discord webhook URL for alerts: fills, rejects, the kill switch, broker outages,
    /// start and stop, and the daily summary with its equity chart. A secret (it holds the
    /// webhook's token): never logged. https:// only (http:// to a loopback address, for
    /// tests). Unset or empty: alerts are only logged (target condor::notifier).
    #[arg(
        long,
        env = "CONDOR_DISCORD_WEBHOOK",
        hide_env_values = true,
        help_heading = "Alerts (Discord)"
    )]
    pub discord_webhook: Option<Secret>,
    /// Telegram bot token for alerts (from @BotFather): every alert Discord gets goes to
    /// the chat too, with the same limits and coalescing. A secret (the bot's password):
    /// never logged. Needs CONDOR_TELEGRAM_CHAT_ID. Unset or empty: no Telegram.
    #[arg(
        long,
        env = "CONDOR_TELEGRAM_BOT_TOKEN",
        hide_env_values = true,
        help_heading = "Alerts (Telegram)"
    )]
    pub telegram_bot_token: Option<Secret>,
    /// The chat the bot writes to: a number (your own chat with the bot, or -100… for a
    /// group or channel) or a public channel's @username. Never logged. Needs
    /// CONDOR_TELEGRAM_BOT_TOKEN.
    #[arg(
        long,
        env = "CONDOR_TELEGRAM_CHAT_ID",
        hide_env_values = true,
        // A group's id starts with '-': a value, not a flag.
        allow_hyphen_values = true,
        help_heading = "Alerts (Telegram)"
    )]
    pub telegram_chat_id: Option<Secret>,
    /// The Bot API's address: https:// only (http:// to a loopback address, for a local
    /// Bot API server or tests).
    #[arg(long, env = "CONDOR_TELEGRAM_API_URL", default_value = telegram::DEFAULT_API, help_heading = "Alerts (Telegram)")]
    pub telegram_api_url: String,
    /// A broker disconnect is told once it lasts this many seconds (and then its recovery).
    #[arg(
        long,
        env = "CONDOR_DISCORD_DISCONNECT_SECS",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        help_heading = "Alerts (Discord)"
    )]
    pub discord_disconnect_secs: u64,
    /// When the day's summary is sent (HHMMSS, KST), after the close.
    #[arg(long, env = "CONDOR_DISCORD_SUMMARY_AT", default_value = "154000", value_parser = parse_hhmmss, help_heading = "Alerts (Discord)")]
    pub discord_summary_at: TimeOfDay,

    /// Where the HTTP server listens: /metrics (Prometheus), /status (JSON) and / (the live
    /// dashboard). host:port, or `off` for no server. Loopback by default; any other
    /// address needs CONDOR_HTTP_TOKEN. Port 0 picks a free port (printed at start).
    #[arg(long, env = "CONDOR_HTTP_ADDR", default_value = "127.0.0.1:8686", value_parser = parse_http_addr, help_heading = "Status, metrics and dashboard (HTTP)")]
    pub http_addr: HttpAddr,
    /// Bearer token every client not on this machine must present (a secret: never
    /// logged): at least 16 characters, each a letter, a digit or one of - . _ ~ + / =.
    /// A browser can open the dashboard once with ?token=…; it keeps it in a cookie.
    #[arg(
        long,
        env = "CONDOR_HTTP_TOKEN",
        hide_env_values = true,
        help_heading = "Status, metrics and dashboard (HTTP)"
    )]
    pub http_token: Option<Secret>,

    /// How long tapes and journals are kept (pruned at each start).
    #[command(flatten)]
    pub retention: crate::retention::RetentionArgs,

    /// When entries stop for want of disk space, and the reserve kept for the journal.
    #[command(flatten)]
    pub disk: crate::disk_space::DiskArgs,

    #[command(
        flatten,
        next_help_heading = "Embedded exchange (when no broker is configured)"
    )]
    pub sim: SimArgs,
}

fn protocol_name(p: crate::sim::Protocol) -> &'static str {
    match p {
        crate::sim::Protocol::Ls => "ls",
        crate::sim::Protocol::Kiwoom => "kiwoom",
    }
}

/// Where condor trades.
#[derive(Clone, Debug)]
pub enum BrokerTarget {
    /// The embedded exchange, started in-process.
    Embedded,
    Remote {
        rest_url: String,
        ws_url: String,
        appkey: Secret,
        appsecret: Secret,
    },
}

impl RunArgs {
    /// The engine's clock: scaled by `CONDOR_CLOCK` on the configured calendar (the same
    /// settings, read once, that the embedded exchange gets through `sim.to_config()`), else
    /// the system's.
    pub fn clock(&self) -> anyhow::Result<std::sync::Arc<dyn Clock>> {
        self.sim.clock()
    }

    /// All four broker settings, or none (the embedded exchange); anything between is an
    /// error naming what is missing.
    pub fn broker(&self) -> anyhow::Result<BrokerTarget> {
        let named = [
            ("CONDOR_BROKER_REST_URL", self.broker_rest_url.is_some()),
            ("CONDOR_BROKER_WS_URL", self.broker_ws_url.is_some()),
            ("CONDOR_APPKEY", self.broker_appkey.is_some()),
            ("CONDOR_APPSECRET", self.broker_appsecret.is_some()),
        ];
        let missing: Vec<&str> = named
            .iter()
            .filter(|(_, set)| !set)
            .map(|(n, _)| *n)
            .collect();
        match (&self.broker_rest_url, &self.broker_ws_url, &self.broker_appkey, &self.broker_appsecret) {
            (Some(rest), Some(ws), Some(key), Some(secret)) => {
                for (name, url, schemes) in [
                    ("CONDOR_BROKER_REST_URL", rest, ["http://", "https://"]),
                    ("CONDOR_BROKER_WS_URL", ws, ["ws://", "wss://"]),
                ] {
                    if !schemes.iter().any(|s| url.starts_with(s)) {
                        anyhow::bail!("{name} must start with {} or {}, got {url:?}", schemes[0], schemes[1]);
                    }
                }
                if key.is_empty() || secret.is_empty() {
                    anyhow::bail!("CONDOR_APPKEY and CONDOR_APPSECRET must not be empty");
                }
                Ok(BrokerTarget::Remote {
                    rest_url: rest.clone(),
                    ws_url: ws.clone(),
                    appkey: key.clone(),
                    appsecret: secret.clone(),
                })
            }
            (None, None, None, None) => {
                if self.sim.protocol != crate::sim::Protocol::Ls
                    && self.sim.protocol != self.broker_kind
                {
                    anyhow::bail!(
                        "CONDOR_SIM_PROTOCOL={0} but CONDOR_BROKER={1}: the embedded exchange speaks the broker's wire; set CONDOR_BROKER={0}",
                        protocol_name(self.sim.protocol),
                        protocol_name(self.broker_kind)
                    );
                }
                Ok(BrokerTarget::Embedded)
            }
            _ => anyhow::bail!(
                "a broker needs all of CONDOR_BROKER_REST_URL, CONDOR_BROKER_WS_URL, CONDOR_APPKEY and CONDOR_APPSECRET; missing: {}",
                missing.join(", ")
            ),
        }
    }

    /// The Notifier's settings; a webhook that is not an https URL (or http to loopback)
    /// stops condor with a message that names the variable but never quotes the value.
    pub fn notifier(&self) -> anyhow::Result<NotifierConfig> {
        let webhook = match &self.discord_webhook {
            Some(w) if !w.expose().trim().is_empty() => Some(
                WebhookUrl::parse(w.expose())
                    .map_err(|e| anyhow::anyhow!("CONDOR_DISCORD_WEBHOOK {e}"))?,
            ),
            _ => None,
        };
        let mut cfg = NotifierConfig::new(webhook);
        cfg.telegram = self.telegram()?;
        cfg.link_alert_after = Duration::from_secs(self.discord_disconnect_secs);
        cfg.summary_at = self.discord_summary_at;
        Ok(cfg)
    }

    /// The Telegram bot, when both its token and its chat id are set; one without the other
    /// is an error. Errors name the variable and never quote a token or a chat id.
    fn telegram(&self) -> anyhow::Result<Option<TelegramBot>> {
        let api = ApiUrl::parse(&self.telegram_api_url)
            .map_err(|e| anyhow::anyhow!("CONDOR_TELEGRAM_API_URL {e}"))?;
        let set = |s: &Option<Secret>| {
            s.as_ref()
                .filter(|v| !v.expose().trim().is_empty())
                .cloned()
        };
        match (set(&self.telegram_bot_token), set(&self.telegram_chat_id)) {
            (Some(token), Some(chat)) => {
                let token = BotToken::parse(token.expose())
                    .map_err(|e| anyhow::anyhow!("CONDOR_TELEGRAM_BOT_TOKEN {e}"))?;
                let chat = ChatId::parse(chat.expose())
                    .map_err(|e| anyhow::anyhow!("CONDOR_TELEGRAM_CHAT_ID {e}"))?;
                Ok(Some(TelegramBot::new(api, token, chat)))
            }
            (None, None) => Ok(None),
            (Some(_), None) => anyhow::bail!(
                "CONDOR_TELEGRAM_BOT_TOKEN is set but CONDOR_TELEGRAM_CHAT_ID is not: Telegram alerts need both"
            ),
            (None, Some(_)) => anyhow::bail!(
                "CONDOR_TELEGRAM_CHAT_ID is set but CONDOR_TELEGRAM_BOT_TOKEN is not: Telegram alerts need both"
            ),
        }
    }

    /// The HTTP server's settings (`None`: off). A non-loopback address without a token, or
    /// a token too short, stops condor with a message naming the variable (never the token).
    pub fn http(&self) -> anyhow::Result<Option<HttpConfig>> {
        match self.http_addr {
            HttpAddr::Off => Ok(None),
            HttpAddr::At(addr) => Ok(Some(HttpConfig::new(addr, self.http_token.clone())?)),
        }
    }

    /// The strategy's parameters from the process environment (and `.env`, read into it
    /// at start) and the flags; [`Self::strategy_params_from`].
    pub fn strategy_params(&self, registry: &StrategyRegistry) -> anyhow::Result<Params> {
        self.strategy_params_from(registry, std::env::vars())
    }

    /// The parameters of the strategy `CONDOR_STRATEGY` names: its defaults, then
    /// `CONDOR_BUDGET_WON`, `CONDOR_ENTRY_CUTOFF`, `CONDOR_FLATTEN_AT`, then momentum's
    /// older names (`CONDOR_CONFIRM_TICKS`, …: still read, where the strategy has that
    /// parameter), then each `CONDOR_PARAM_<NAME>` in `env`, then `--param`; the checks
    /// across them last. Every error names the variable or flag it came from; a
    /// `CONDOR_PARAM_` the strategy does not declare is an error listing the ones it does.
    pub fn strategy_params_from(
        &self,
        registry: &StrategyRegistry,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Params> {
        let strategy = self.strategy.trim();
        let mut params = registry
            .params(strategy)
            .map_err(|e| anyhow::anyhow!("CONDOR_STRATEGY: {e}"))?;
        let unknown = |source: &str, name: &str, params: &Params| {
            anyhow::anyhow!(
                "{source}: strategy {strategy} has no parameter {name:?}; its parameters: {}",
                params.names().join(", ")
            )
        };
        for (source, name, value) in [
            ("CONDOR_BUDGET_WON", "budget_won", &self.budget_won),
            ("CONDOR_ENTRY_CUTOFF", "entry_cutoff", &self.entry_cutoff),
            ("CONDOR_FLATTEN_AT", "flatten_at", &self.flatten_at),
        ] {
            if let Some(v) = value {
                params
                    .set(name, v)
                    .map_err(|e| anyhow::anyhow!("{source}: {e}"))?;
            }
        }
        let mut env: Vec<(String, String)> = env.into_iter().collect();
        env.sort();
        for (var, name) in LEGACY_PARAM_VARS {
            if let Some((_, v)) = env.iter().find(|(k, _)| k == var) {
                if params.get(name).is_some() {
                    params
                        .set(name, v)
                        .map_err(|e| anyhow::anyhow!("{var}: {e}"))?;
                }
            }
        }
        for (var, v) in &env {
            let Some(name) = var.strip_prefix(PARAM_VAR_PREFIX) else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            if !params
                .set(&name, v)
                .map_err(|e| anyhow::anyhow!("{var}: {e}"))?
            {
                return Err(unknown(var, &name, &params));
            }
        }
        for (name, v) in &self.params {
            if !params
                .set(name, v)
                .map_err(|e| anyhow::anyhow!("--param {e}"))?
            {
                return Err(unknown("--param", name, &params));
            }
        }
        registry
            .build(strategy, &params)
            .map_err(|e| anyhow::anyhow!("strategy settings: {e}"))?;
        Ok(params)
    }

    /// The conditions to trade: `condor.toml`'s (CONDOR_CONFIG, else the working
    /// directory's), or else the one condition of CONDOR_CONDITION, CONDOR_STRATEGY and
    /// the strategy's parameters ([`Self::strategy_params`]). With a file, a
    /// `CONDOR_PARAM_*` or `--param` is an error: which condition would it be for?
    pub fn conditions(
        &self,
        registry: &StrategyRegistry,
    ) -> anyhow::Result<Vec<crate::conditions::ConditionConfig>> {
        let file = match &self.config {
            Some(path) => Some(path.clone()),
            None => Some(PathBuf::from("condor.toml")).filter(|p| p.is_file()),
        };
        let Some(file) = file else {
            return Ok(vec![crate::conditions::ConditionConfig {
                name: self.condition.clone(),
                strategy: self.strategy.trim().to_owned(),
                params: self.strategy_params(registry)?,
                max_positions: None,
            }]);
        };
        let stray = std::env::vars()
            .map(|(k, _)| k)
            .find(|k| {
                k.starts_with(PARAM_VAR_PREFIX) || LEGACY_PARAM_VARS.iter().any(|(v, _)| v == k)
            })
            .or_else(|| self.params.first().map(|_| "--param".to_owned()));
        if let Some(stray) = stray {
            anyhow::bail!(
                "{stray} is set, but {} lists the conditions: put a parameter in its condition's [conditions.params]",
                file.display()
            );
        }
        crate::conditions::load(&file, registry)
    }

    /// The settings journaled at start: what was in force, never a secret.
    /// The first condition's name, strategy and parameters under their own names (what a
    /// replay rebuilds the strategy from); each further condition's under `c<N>.` (`c2.name`,
    /// `c2.strategy`, `c2.max_positions`, `c2.confirm_ticks`, …).
    pub fn journaled_settings<F>(
        &self,
        rest_url: &str,
        conditions: &[(crate::conditions::ConditionConfig, F)],
    ) -> std::collections::BTreeMap<String, String> {
        let r = self.risk().unwrap_or_default();
        let mut per_condition: Vec<(String, String)> = Vec::new();
        for (i, (c, _)) in conditions.iter().enumerate() {
            let prefix = if i == 0 {
                String::new()
            } else {
                format!("c{}.", i + 1)
            };
            per_condition.push((format!("{prefix}condition"), c.name.clone()));
            per_condition.push((format!("{prefix}strategy"), c.strategy.clone()));
            if let Some(n) = c.max_positions {
                per_condition.push((format!("{prefix}max_positions"), n.to_string()));
            }
            for (k, v) in c.params.settings() {
                per_condition.push((format!("{prefix}{k}"), v));
            }
        }
        [
            ("broker_rest_url", rest_url.to_owned()),
            ("max_feeds", self.max_feeds.to_string()),
            ("max_order_qty", r.max_order_qty.to_string()),
            ("max_order_notional", r.max_order_notional.to_string()),
            ("max_position_notional", r.max_position_notional.to_string()),
            ("max_open_positions", r.max_open_positions.to_string()),
            ("price_collar_bp", r.price_collar_bp.to_string()),
            ("max_orders_per_day", r.max_orders_per_day.to_string()),
            ("daily_loss_limit", r.daily_loss_limit.to_string()),
            ("kill_switch_flatten", self.kill_switch_flatten.to_string()),
            ("orders_per_sec", self.orders_per_sec.to_string()),
            (
                "order_rate_excess",
                format!("{:?}", self.order_rate_excess).to_lowercase(),
            ),
            (
                "on_shutdown",
                format!("{:?}", self.on_shutdown).to_lowercase(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(per_condition)
        .collect()
    }

    /// The fee schedule the engine books: each rate as configured, else the embedded
    /// exchange's (`exchange`), else 0; and a warning to log when the books will not match
    /// what the broker charges.
    pub fn fee_schedule(&self, exchange: Option<FeeSchedule>) -> (FeeSchedule, Option<String>) {
        let base = exchange.unwrap_or_default();
        let fees = FeeSchedule {
            commission_ppm: self.fee_commission_ppm.unwrap_or(base.commission_ppm),
            sell_tax_ppm: self.fee_sell_tax_ppm.unwrap_or(base.sell_tax_ppm),
        };
        let warning = match exchange {
            Some(charged) if charged != fees => Some(format!(
                "fees booked at {} ppm commission and {} ppm sell tax, but the embedded exchange charges {} and {}: cash will be corrected from the exchange's",
                fees.commission_ppm, fees.sell_tax_ppm, charged.commission_ppm, charged.sell_tax_ppm
            )),
            Some(_) => None,
            None if self.fee_commission_ppm.is_none() || self.fee_sell_tax_ppm.is_none() => {
                Some(format!(
                    "CONDOR_COMMISSION_PPM or CONDOR_SELL_TAX_PPM is unset: P&L and the day's loss limit count {} ppm commission and {} ppm sell tax; set your account's rates",
                    fees.commission_ppm, fees.sell_tax_ppm
                ))
            }
            None => None,
        };
        (fees, warning)
    }

    /// KRX's calendar with the configured closures and delayed opens (the same settings
    /// the embedded exchange trades by); a bad value names its variable and the value.
    pub fn calendar(&self) -> anyhow::Result<Calendar> {
        self.sim.calendar.calendar()
    }

    /// When a day's engine starts and closes around the session (`--hours calendar`).
    pub fn day_hours(&self) -> condor_actors::day_plan::DayHours {
        condor_actors::day_plan::DayHours {
            lead_secs: self.day_lead_mins * 60,
            after_close_secs: self.after_close_mins * 60,
            summary_at: self.discord_summary_at,
        }
    }

    pub fn risk(&self) -> anyhow::Result<RiskLimits> {
        let r = RiskLimits {
            // No order can carry more than KRX's quantity bound: a higher cap means nothing.
            max_order_qty: Qty::new(self.max_order_qty)
                .map_err(|e| anyhow::anyhow!("CONDOR_MAX_ORDER_QTY: {e}"))?,
            max_order_notional: self.max_order_notional,
            max_position_notional: self.max_position_notional,
            max_open_positions: self.max_open_positions,
            price_collar_bp: self.price_collar_bp,
            max_orders_per_day: self.max_orders_per_day,
            daily_loss_limit: self.daily_loss_limit,
        };
        // Each message starts with the field's name; the variable is that name in capitals.
        r.validate().map_err(|e| {
            let text = e.to_string();
            let field = text.split_whitespace().next().unwrap_or_default();
            anyhow::anyhow!("CONDOR_{}: {text}", field.to_uppercase())
        })?;
        Ok(r)
    }
}

/// `CONDOR_PARAM_CONFIRM_TICKS=5` sets the strategy parameter `confirm_ticks`.
pub const PARAM_VAR_PREFIX: &str = "CONDOR_PARAM_";

/// Momentum's parameters by the names they had before strategies declared their own; still
/// read so a `.env` written then keeps working. `CONDOR_PARAM_*` wins over them.
const LEGACY_PARAM_VARS: [(&str, &str); 5] = [
    ("CONDOR_CONFIRM_TICKS", "confirm_ticks"),
    ("CONDOR_MIN_CHANGE_BP", "min_change_bp"),
    ("CONDOR_TAKE_PROFIT_BP", "take_profit_bp"),
    ("CONDOR_STOP_LOSS_BP", "stop_loss_bp"),
    ("CONDOR_MAX_HOLD_SECS", "max_hold_secs"),
];

/// `NAME=VALUE`, for `--param`.
fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        }
        _ => Err(format!("{s:?} is not NAME=VALUE")),
    }
}

fn parse_hhmmss(s: &str) -> Result<TimeOfDay, String> {
    TimeOfDay::parse_hhmmss(s).map_err(|e| e.to_string())
}

fn parse_share(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if v.is_finite() && v > 0.0 && v <= 100_000.0 {
        Ok(v)
    } else {
        Err(format!(
            "{v} must be above 0 and at most 100000 trades per second"
        ))
    }
}

/// The trading calendar's additions, read by `condor run` (its days, `/status`, the
/// accelerated clock) and `condor sim` (the days it trades and its clock) alike: given the
/// same values (and `CONDOR_CLOCK`), both agree which days trade.
#[derive(Args, Debug, Clone, Default)]
pub struct CalendarArgs {
    /// Days KRX does not trade beyond its published holidays (an unscheduled closure), as
    /// YYYY-MM-DD separated by commas, e.g. 2026-12-24,2027-01-04. `condor status` and the
    /// dashboard show the market closed on them.
    #[arg(
        long,
        env = "CONDOR_CLOSED_DAYS",
        value_name = "DATES",
        help_heading = "Trading calendar"
    )]
    pub closed_days: Option<String>,
    /// Days KRX opens late, as DATE@HH:MM (KST; the close as usual) or DATE@HH:MM-HH:MM
    /// (the close moved too), separated by commas, e.g. 2026-03-03@10:00. The exam day
    /// (수능) and the year's first trading day are already known.
    #[arg(
        long,
        env = "CONDOR_LATE_OPEN",
        value_name = "DAYS",
        help_heading = "Trading calendar"
    )]
    pub late_open: Option<String>,
}

impl CalendarArgs {
    /// KRX's calendar with the configured closures and delayed opens; a bad value names
    /// its variable and the value.
    pub fn calendar(&self) -> anyhow::Result<Calendar> {
        let closed = self.closed_days.as_deref().unwrap_or_default();
        let late = self.late_open.as_deref().unwrap_or_default();
        Calendar::krx()
            .with_closures(closed)
            .map_err(|e| anyhow::anyhow!("CONDOR_CLOSED_DAYS (--closed-days) {e}"))?
            .with_late_opens(late)
            .map_err(|e| anyhow::anyhow!("CONDOR_LATE_OPEN (--late-open) {e}"))
    }
}

/// The market's clock for the commands that ask what day it is (`condor kill-switch`,
/// `condor journal`): `CONDOR_CLOCK` on the configured calendar, read as `condor run` reads
/// them, so they name the day a `condor run` on the same settings trades. Unset: the
/// system's clock.
#[derive(Args, Debug, Clone, Default)]
pub struct ClockArgs {
    /// The accelerated clock of `condor run` (START[@EPOCH_MS]xSESSION[/IDLE][,lead=MIN]):
    /// give the same value, epoch included, to name the day it is on.
    #[arg(long, env = "CONDOR_CLOCK", value_name = "SPEC", value_parser = parse_clock, global = true, help_heading = "Clock")]
    pub clock: Option<ClockSpec>,
    #[command(flatten)]
    pub calendar: CalendarArgs,
}

impl ClockArgs {
    pub fn clock(&self) -> anyhow::Result<std::sync::Arc<dyn Clock>> {
        clock_of(self.clock, &self.calendar)
    }
}

/// `spec` scaled on the configured calendar, or the system's clock.
fn clock_of(
    spec: Option<ClockSpec>,
    calendar: &CalendarArgs,
) -> anyhow::Result<std::sync::Arc<dyn Clock>> {
    Ok(match spec {
        Some(spec) => std::sync::Arc::new(ScaledClock::with_calendar(spec, calendar.calendar()?)),
        None => std::sync::Arc::new(SystemClock),
    })
}

#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// The broker wire it speaks: `ls` (LS OPEN API) or `kiwoom` (Kiwoom REST: `api-id`
    /// TRs on /api/dostk/*, websocket at /api/dostk/websocket). Same exchange either way.
    #[arg(long, env = "CONDOR_SIM_PROTOCOL", value_enum, default_value = "ls")]
    pub protocol: crate::sim::Protocol,
    /// Address to listen on. Loopback by default; the simulator has no business elsewhere.
    #[arg(long, env = "CONDOR_SIM_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// REST port (LS uses 8080). 0 picks a free port; the chosen URL is printed.
    #[arg(long, env = "CONDOR_SIM_REST_PORT", default_value_t = 18080)]
    pub rest_port: u16,
    /// Websocket port (LS uses 9443 real, 29443 paper). 0 picks a free port.
    #[arg(long, env = "CONDOR_SIM_WS_PORT", default_value_t = 29443)]
    pub ws_port: u16,
    /// App key clients must present at /oauth2/token (36 characters like LS's).
    #[arg(long, env = "CONDOR_SIM_APPKEY", default_value = DEFAULT_APPKEY, hide_default_value = true, hide_env_values = true)]
    pub appkey: Secret,
    /// App secret clients must present at /oauth2/token.
    #[arg(long, env = "CONDOR_SIM_APPSECRET", default_value = DEFAULT_APPSECRET, hide_default_value = true, hide_env_values = true)]
    pub appsecret: Secret,
    /// Seed of the simulated market: same seed, same market.
    #[arg(long, env = "CONDOR_SIM_SEED", default_value_t = 1)]
    pub seed: u64,
    /// Mean trades per second for each ticker.
    #[arg(long, env = "CONDOR_SIM_TRADES_PER_SEC", default_value = "2", value_parser = parse_rate)]
    pub trades_per_sec: f64,
    /// Simulated time of day when the simulator starts (HHMMSS, KST). The regular session
    /// is 090000-153000; outside it there are no trades and orders are refused. Unused with
    /// --clock, which names the start.
    #[arg(long, env = "CONDOR_SIM_START_TIME", default_value = "090000", value_parser = parse_hhmmss)]
    pub start_time: TimeOfDay,
    /// Cash in the simulated account, in won.
    #[arg(long, env = "CONDOR_SIM_CASH", default_value_t = 100_000_000)]
    pub cash: i64,
    /// Commission in parts per million of traded value (150 = 0.015%).
    #[arg(long, env = "CONDOR_SIM_COMMISSION_PPM", default_value_t = 0)]
    pub commission_ppm: i64,
    /// Sell tax in parts per million of sold value (2000 = 0.20%).
    #[arg(long, env = "CONDOR_SIM_SELL_TAX_PPM", default_value_t = 0)]
    pub sell_tax_ppm: i64,
    /// Scenario file: scripted conditions (which ticker enters or leaves when) and the
    /// account's starting cash and holdings. See README.
    #[arg(long, env = "CONDOR_SIM_SCENARIO")]
    pub scenario: Option<PathBuf>,
    /// Answer as LS's real server (FOCCQ33600 without 모의투자) instead of the paper one.
    #[arg(long)]
    pub real: bool,
    /// Do not enforce LS's per-TR rate limits.
    #[arg(long)]
    pub no_rate_limit: bool,
    /// Kiwoom mode: pose as the other server than the key pair's (a paper key at the
    /// real host, or the reverse): its au10001 is refused `[8030]`, a token it did not
    /// issue `[8031]`, so a client's handling of a wrong host can be tried.
    #[arg(long)]
    pub kiwoom_other_host: bool,
    /// Push trades of the watched tickers as fast as clients take them (benchmarks).
    #[arg(long)]
    pub firehose: bool,
    /// With --firehose: stop after this many trades (a counted burst).
    #[arg(long, value_name = "N", requires = "firehose")]
    pub firehose_trades: Option<u64>,
    /// Add this many made-up listings (codes 99NNNN) to the 50 real ones, for load tests.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        env = "CONDOR_SIM_SYNTHETIC_LISTINGS"
    )]
    pub synthetic_listings: usize,
    /// How many stocks, chosen by the seed, gap up 3-9% at the open, so the momentum
    /// condition lists them at once (a real morning); 0 opens every stock at its previous
    /// close, and the first enters only once the random walk has moved it 2%.
    #[arg(long, value_name = "N", env = "CONDOR_SIM_GAP_UPS", default_value_t = crate::sim::exchange::DEFAULT_GAP_UPS)]
    pub gap_ups: usize,
    /// Access token lifetime in seconds (`expires_in`): after it a REST call with the token
    /// is refused with IGW00123 and so is a websocket registration. LS's is 86400; a few
    /// seconds exercises a client's renewal.
    #[arg(
        long,
        value_name = "SECS",
        env = "CONDOR_SIM_TOKEN_TTL_SECS",
        default_value_t = crate::sim::TOKEN_LIFETIME_SECS,
        value_parser = clap::value_parser!(u64).range(1..=31_536_000)
    )]
    pub token_ttl_secs: u64,
    /// Fault: drop every websocket this many seconds after it opens (no close frame).
    #[arg(long, value_name = "SECS")]
    pub drop_after_secs: Option<f64>,
    /// Fault: drop every websocket after it has been sent this many frames.
    #[arg(long, value_name = "N")]
    pub drop_after_frames: Option<u64>,
    /// Fault: hold every outgoing websocket frame this many milliseconds (order kept).
    #[arg(long, value_name = "MS")]
    pub frame_delay_ms: Option<u64>,
    /// Fault: share of S3_/K3_ trade frames (0-1) sent cut in half, so they are not JSON.
    #[arg(long, value_name = "SHARE", default_value = "0", value_parser = parse_share)]
    pub malformed_share: f64,
    /// Fault: share of trade frames (0-1) sent well-formed but with a number no exchange
    /// prints (a price of i64::MAX won or past KRX's highest, a negative volume, a trade of
    /// u64::MAX shares); /sim/stats counts them as absurd_frames.
    #[arg(long, value_name = "SHARE", env = "CONDOR_SIM_ABSURD_SHARE", default_value = "0", value_parser = parse_share)]
    pub absurd_share: f64,
    /// Fault: hold every TR answer this many milliseconds after the exchange handled it
    /// (a slow gateway: an order rests at the exchange before its reply arrives).
    #[arg(long, value_name = "MS")]
    pub rest_reply_delay_ms: Option<u64>,
    /// `CONDOR_CLOSED_DAYS` and `CONDOR_LATE_OPEN`: with `--clock`, the days it trades.
    #[command(flatten)]
    pub calendar: CalendarArgs,
    /// `--tape FILE` (env CONDOR_SIM_TAPE) and `--speed N|max` (default 1): play a recorded
    /// day instead of the random market. Under `condor run`, whose `--tape` is the
    /// recording, they are `--sim-tape` and `--sim-speed`.
    #[command(flatten)]
    pub tape: crate::sim::TapeArgs,
    /// Run the market's clock faster than real time, to test a close, a night and the next
    /// open in seconds: START[@EPOCH_MS]xSESSION[/IDLE][,lead=MIN], e.g.
    /// 2026-12-03T15:25:00x10/3600 (KST; 10x in sessions and in the lead before each open,
    /// 30 minutes unless lead= says, 3600x outside them). Without @EPOCH_MS the start
    /// applies when condor reads the setting; give the same value, epoch included, to
    /// `condor run` and a standalone `condor sim` and they show the same time. Unset: the
    /// real clock. Under `condor run` it sets the embedded exchange's clock (and
    /// `RunArgs::clock`, the engine's).
    #[arg(long, env = "CONDOR_CLOCK", value_name = "SPEC", value_parser = parse_clock, help_heading = "Clock")]
    pub clock: Option<ClockSpec>,
}

/// `CONDOR_CLOCK`: read once, so every clock built from it starts at the same epoch.
fn parse_clock(s: &str) -> Result<ClockSpec, String> {
    let now_ms = SystemClock.unix_ms();
    ClockSpec::parse(s, now_ms).map_err(|e| format!("CONDOR_CLOCK (--clock) {e}"))
}

impl SimArgs {
    /// The market's clock: scaled by `CONDOR_CLOCK` on the configured calendar (its
    /// closures idle), else the system's.
    pub fn clock(&self) -> anyhow::Result<std::sync::Arc<dyn Clock>> {
        clock_of(self.clock, &self.calendar)
    }

    /// The simulator configuration these flags describe.
    pub fn to_config(&self) -> anyhow::Result<SimConfig> {
        let scenario = match &self.scenario {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("--scenario {}: cannot read it: {e}", path.display())
                })?;
                Some(
                    Scenario::parse(&text)
                        .map_err(|e| anyhow::anyhow!("--scenario {}: {e}", path.display()))?,
                )
            }
            None => None,
        };
        if self.kiwoom_other_host && self.protocol != crate::sim::Protocol::Kiwoom {
            anyhow::bail!(
                "--kiwoom-other-host poses as Kiwoom's other server: it needs --protocol kiwoom"
            );
        }
        if self.cash < 0 {
            anyhow::bail!(
                "--cash (CONDOR_SIM_CASH) must not be negative, got {}",
                self.cash
            );
        }
        if !(0..=1_000_000).contains(&self.commission_ppm) {
            anyhow::bail!(
                "--commission-ppm must be 0..=1000000, got {}",
                self.commission_ppm
            );
        }
        if !(0..=1_000_000).contains(&self.sell_tax_ppm) {
            anyhow::bail!(
                "--sell-tax-ppm must be 0..=1000000, got {}",
                self.sell_tax_ppm
            );
        }
        let drop_after = match self.drop_after_secs {
            Some(s) if !(s.is_finite() && s > 0.0) => {
                anyhow::bail!("--drop-after-secs must be a positive number of seconds, got {s}")
            }
            Some(s) => Some(Duration::from_secs_f64(s)),
            None => None,
        };
        if self.synthetic_listings > crate::sim::exchange::universe::MAX_SYNTHETIC {
            anyhow::bail!(
                "--synthetic-listings must be at most {}, got {}",
                crate::sim::exchange::universe::MAX_SYNTHETIC,
                self.synthetic_listings
            );
        }
        if self.drop_after_frames == Some(0) {
            anyhow::bail!("--drop-after-frames must be at least 1");
        }
        if let (Some(spec), Some(_)) = (&self.clock, &self.tape.tape) {
            // A tape carries its own day and pace; two clocks would disagree.
            anyhow::bail!("CONDOR_CLOCK (--clock) {spec} cannot be used with a tape (--tape)");
        }
        let exchange = ExchangeConfig {
            seed: self.seed,
            trades_per_sec: self.trades_per_sec,
            start_time: self.start_time,
            cash: self.cash,
            commission_ppm: self.commission_ppm,
            sell_tax_ppm: self.sell_tax_ppm,
            scenario,
            synthetic_listings: self.synthetic_listings,
            gap_ups: self.gap_ups,
            tape: match &self.tape.tape {
                Some(path) => Some(std::sync::Arc::new(
                    crate::sim::load_day(path).map_err(|e| anyhow::anyhow!("--tape: {e}"))?,
                )),
                None => None,
            },
            calendar: self.calendar.calendar()?,
            ..ExchangeConfig::default()
        };
        Ok(SimConfig {
            protocol: self.protocol,
            bind: self.bind,
            rest_port: self.rest_port,
            ws_port: self.ws_port,
            appkey: self.appkey.clone(),
            appsecret: self.appsecret.clone(),
            paper: !self.real,
            rate_limits: !self.no_rate_limit,
            firehose: self.firehose,
            firehose_trades: self.firehose_trades,
            faults: Faults {
                drop_after,
                drop_after_frames: self.drop_after_frames,
                frame_delay: self.frame_delay_ms.map(Duration::from_millis),
                malformed_share: self.malformed_share,
                absurd_share: self.absurd_share,
                rest_reply_delay: self.rest_reply_delay_ms.map(Duration::from_millis),
            },
            exchange,
            tape_speed: self.tape.speed,
            token_ttl: Duration::from_secs(self.token_ttl_secs),
            clock: self.clock,
            kiwoom_other_host: self.kiwoom_other_host,
            ..SimConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_values_name_the_flag() {
        let e = Cli::try_parse_from(["condor", "sim", "--start-time", "25:00"]).unwrap_err();
        assert!(e.to_string().contains("--start-time"), "{e}");
        let e = Cli::try_parse_from(["condor", "sim", "--malformed-share", "1.5"]).unwrap_err();
        assert!(e.to_string().contains("--malformed-share"), "{e}");
        let e = Cli::try_parse_from(["condor", "sim", "--absurd-share", "1.5"]).unwrap_err();
        assert!(e.to_string().contains("--absurd-share"), "{e}");
        let e = Cli::try_parse_from(["condor", "sim", "--trades-per-sec", "0"]).unwrap_err();
        assert!(e.to_string().contains("--trades-per-sec"), "{e}");
        let e = Cli::try_parse_from(["condor", "sim", "--token-ttl-secs", "0"]).unwrap_err();
        assert!(e.to_string().contains("--token-ttl-secs"), "{e}");
        let Some(Command::Sim(args)) =
            Cli::try_parse_from(["condor", "sim", "--drop-after-secs=-1"])
                .unwrap()
                .command
        else {
            panic!("sim expected")
        };
        assert!(args
            .to_config()
            .unwrap_err()
            .to_string()
            .contains("--drop-after-secs"));
    }

    #[test]
    fn the_clock_setting_reaches_the_engine_and_the_embedded_exchange_alike() {
        let spec = "2026-12-03T15:25:00@1764743100000x10/3600,lead=0";
        let run = run_args(&["--clock", spec]);
        let cfg = run.sim.to_config().unwrap();
        assert_eq!(cfg.clock.map(|c| c.to_string()).as_deref(), Some(spec));
        // One spec, read once: the engine's clock and the exchange's show the same time.
        let engine = run.clock().unwrap();
        let exchange = condor_actors::clock::ScaledClock::new(cfg.clock.unwrap());
        let (a, b) = (engine.unix_ms(), exchange.unix_ms());
        assert!(b >= a && b - a < 60_000, "{a} {b}");
        // Without an epoch, "now" is fixed when the setting is read, for both.
        let run = run_args(&["--clock", "2026-12-03T15:25:00x10"]);
        let cfg = run.sim.to_config().unwrap();
        assert_eq!(cfg.clock, run.sim.clock);
        assert!(run_args(&[]).sim.to_config().unwrap().clock.is_none());
        assert_eq!(run_args(&[]).clock().unwrap().today(), SystemClock.today());

        let e = Cli::try_parse_from(["condor", "sim", "--clock", "2026-12-03T15:25x10"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CONDOR_CLOCK")
                && e.contains("\"2026-12-03T15:25x10\"")
                && e.contains("start time"),
            "{e}"
        );
        let Some(Command::Sim(args)) = Cli::try_parse_from([
            "condor",
            "sim",
            "--clock",
            spec,
            "--tape",
            "/nonexistent.tape",
        ])
        .unwrap()
        .command
        else {
            panic!("sim expected")
        };
        let e = args.to_config().unwrap_err().to_string();
        assert!(e.contains("CONDOR_CLOCK") && e.contains("tape"), "{e}");
    }

    #[test]
    fn posing_as_kiwoom_s_other_server_is_a_flag_of_kiwoom_mode() {
        let args = |argv: &[&str]| match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::Sim(args)) => args,
            _ => panic!("sim expected"),
        };
        let kiwoom = [
            "condor",
            "sim",
            "--protocol",
            "kiwoom",
            "--kiwoom-other-host",
        ];
        assert!(args(&kiwoom).to_config().unwrap().kiwoom_other_host);
        assert!(!args(&kiwoom[..4]).to_config().unwrap().kiwoom_other_host);
        let e = args(&["condor", "sim", "--kiwoom-other-host"])
            .to_config()
            .unwrap_err()
            .to_string();
        assert!(e.contains("--protocol kiwoom"), "{e}");
    }

    #[test]
    fn the_token_lifetime_reaches_the_simulator() {
        let config = |argv: &[&str]| match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::Sim(args)) => args.to_config().unwrap(),
            _ => panic!("sim expected"),
        };
        let default = config(&["condor", "sim"]);
        assert_eq!(default.token_ttl, Duration::from_secs(86_400));
        let short = config(&["condor", "sim", "--token-ttl-secs", "3"]);
        assert_eq!(short.token_ttl, Duration::from_secs(3));
    }

    fn run_args(args: &[&str]) -> RunArgs {
        let argv = ["condor", "run"].iter().chain(args).copied();
        match Cli::try_parse_from(argv).unwrap().command {
            Some(Command::Run(a)) => *a,
            _ => panic!("run expected"),
        }
    }

    #[test]
    fn an_order_quantity_cap_past_what_an_order_can_carry_is_refused() {
        let max = condor_actors::market::MAX_QTY.shares();
        let ok = run_args(&["--max-order-qty", &max.to_string()])
            .risk()
            .unwrap();
        assert_eq!(ok.max_order_qty.shares(), max);
        let e = run_args(&["--max-order-qty", &u64::MAX.to_string()])
            .risk()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("CONDOR_MAX_ORDER_QTY: ") && e.contains("99999999"),
            "{e}"
        );
    }

    fn params_with(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<Params> {
        let env = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned()));
        run_args(args).strategy_params_from(&StrategyRegistry::new(), env)
    }

    #[test]
    fn strategy_parameters_come_from_the_environment_and_flags_in_that_order() {
        let p = params_with(&[], &[]).unwrap();
        assert_eq!(p, StrategyRegistry::new().params("momentum").unwrap());
        let p = params_with(
            &["--budget-won", "500000", "--param", "take_profit_bp=300"],
            &[
                ("CONDOR_PARAM_CONFIRM_TICKS", "5"),
                ("CONDOR_PARAM_TAKE_PROFIT_BP", "200"),
                ("CONDOR_PARAM_ENTRY_SLIPPAGE_TICKS", "market"),
                // The older name, read, but the new one wins where both are set.
                ("CONDOR_STOP_LOSS_BP", "70"),
                ("CONDOR_CONFIRM_TICKS", "9"),
                ("CONDOR_UNRELATED", "x"),
            ],
        )
        .unwrap();
        assert_eq!(p.int("budget_won"), 500_000);
        assert_eq!(p.int("confirm_ticks"), 5);
        assert_eq!(p.int("take_profit_bp"), 300, "the flag wins");
        assert_eq!(p.int("stop_loss_bp"), 70);
        assert_eq!(p.int_or_none("entry_slippage_ticks"), None);
    }

    #[test]
    fn a_bad_strategy_parameter_names_where_it_came_from() {
        let e = params_with(&[], &[("CONDOR_PARAM_CONFIRM_TICKS", "0")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "CONDOR_PARAM_CONFIRM_TICKS: strategy parameter confirm_ticks: must be 1..=100, got 0"
        );
        let e = params_with(&[], &[("CONDOR_PARAM_CONFIRM_TIKS", "3")]).unwrap_err();
        let e = e.to_string();
        assert!(
            e.starts_with("CONDOR_PARAM_CONFIRM_TIKS: strategy momentum has no parameter \"confirm_tiks\"; its parameters: budget_won, ")
                && e.contains("confirm_ticks"),
            "{e}"
        );
        let e = params_with(&["--budget-won", "0"], &[]).unwrap_err();
        assert!(e.to_string().starts_with("CONDOR_BUDGET_WON: "), "{e}");
        let e = params_with(&[], &[("CONDOR_MAX_HOLD_SECS", "forever")]).unwrap_err();
        assert!(e.to_string().starts_with("CONDOR_MAX_HOLD_SECS: "), "{e}");
        let e = params_with(&["--param", "nope=1"], &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("--param: strategy momentum has no parameter"),
            "{e}"
        );
        let e = params_with(&["--entry-cutoff", "151600"], &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains("entry_cutoff: must be before flatten_at"),
            "{e}"
        );
        assert!(Cli::try_parse_from(["condor", "run", "--param", "novalue"]).is_err());
        let e = params_with(&["--strategy", "macd"], &[]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("CONDOR_STRATEGY: unknown strategy"),
            "{e}"
        );
    }

    #[test]
    fn the_journaled_settings_hold_the_strategy_parameters() {
        let args = run_args(&["--param", "confirm_ticks=4"]);
        let p = args
            .strategy_params_from(&StrategyRegistry::new(), std::iter::empty())
            .unwrap();
        let one = crate::conditions::ConditionConfig {
            name: args.condition.clone(),
            strategy: "momentum".into(),
            params: p,
            max_positions: None,
        };
        let s = args.journaled_settings("http://x", &[(one, ())]);
        assert_eq!(s["confirm_ticks"], "4");
        assert_eq!(s["budget_won"], "1000000");
        assert_eq!(s["strategy"], "momentum");
    }

    #[test]
    fn fees_are_the_configured_rates_else_the_embedded_exchanges() {
        let exchange = FeeSchedule {
            commission_ppm: 150,
            sell_tax_ppm: 2_000,
        };
        // Unset against the embedded exchange: its rates, silently.
        assert_eq!(run_args(&[]).fee_schedule(Some(exchange)), (exchange, None));
        // Set: as set, with a warning when the exchange charges otherwise.
        let a = run_args(&["--fee-commission-ppm", "100", "--fee-sell-tax-ppm", "2000"]);
        let (fees, warning) = a.fee_schedule(Some(exchange));
        assert_eq!(fees.commission_ppm, 100);
        assert!(warning.is_some_and(|w| w.contains("corrected")));
        assert_eq!(a.fee_schedule(None).1, None, "a real broker, both set");
        // Unset against a real broker: 0, and a warning naming the variables.
        let (fees, warning) = run_args(&[]).fee_schedule(None);
        assert_eq!(fees, FeeSchedule::default());
        assert!(warning.is_some_and(|w| w.contains("CONDOR_COMMISSION_PPM")));
        // Out of range: refused with the flag named.
        let argv = ["condor", "run", "--fee-sell-tax-ppm", "1000001"];
        let e = Cli::try_parse_from(argv).unwrap_err().to_string();
        assert!(e.contains("--fee-sell-tax-ppm"), "{e}");
    }

    #[test]
    fn the_discord_webhook_is_checked_and_never_shown() {
        let token = "T0kEnT0kEnT0kEnT0kEnT0kEn";
        let a = run_args(&[
            "--discord-webhook",
            &format!("http://discord.com/api/webhooks/1/{token}"),
        ]);
        let e = a.notifier().unwrap_err().to_string();
        assert!(
            e.contains("CONDOR_DISCORD_WEBHOOK") && e.contains("https"),
            "{e}"
        );
        assert!(!e.contains(token), "the token is not quoted: {e}");
        assert!(!format!("{a:?}").contains(token), "Debug hides it");
        let e = run_args(&["--discord-webhook", token])
            .notifier()
            .unwrap_err();
        assert!(!e.to_string().contains(token), "{e}");

        let a = run_args(&[
            "--discord-webhook",
            &format!("https://discord.com/api/webhooks/1/{token}"),
            "--discord-disconnect-secs",
            "30",
            "--discord-summary-at",
            "160000",
        ]);
        let cfg = a.notifier().unwrap();
        assert!(cfg.webhook.is_some());
        assert!(!format!("{cfg:?}").contains(token));
        assert_eq!(cfg.link_alert_after, Duration::from_secs(30));
        assert_eq!(cfg.summary_at, TimeOfDay::hms(16, 0, 0));
        assert!(run_args(&["--discord-webhook", "http://127.0.0.1:9/x"])
            .notifier()
            .unwrap()
            .webhook
            .is_some());
        // Empty (a .env template's `CONDOR_DISCORD_WEBHOOK=`) or unset: log only.
        assert!(run_args(&["--discord-webhook", ""])
            .notifier()
            .unwrap()
            .webhook
            .is_none());
        let cfg = run_args(&[]).notifier().unwrap();
        assert!(cfg.webhook.is_none());
        assert_eq!(cfg.link_alert_after, Duration::from_secs(10));
        assert!(Cli::try_parse_from(["condor", "run", "--discord-disconnect-secs", "0"]).is_err());
    }

    #[test]
    fn the_telegram_bot_is_checked_and_never_shown() {
        let token = "7012345678:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ";
        let chat = "-1001234567890";
        let a = run_args(&["--telegram-bot-token", token, "--telegram-chat-id", chat]);
        let cfg = a.notifier().unwrap();
        let bot = cfg.telegram.as_ref().expect("configured");
        assert_eq!(
            bot.method_url("sendMessage"),
            format!("https://api.telegram.org/bot{token}/sendMessage")
        );
        assert_eq!(bot.min_gap(), telegram::GROUP_CHAT_GAP);
        assert!(cfg.webhook.is_none(), "Telegram alone is enough");
        for shown in [format!("{a:?}"), format!("{cfg:?}")] {
            assert!(
                !shown.contains(token) && !shown.contains("AAHdqTcv") && !shown.contains(chat),
                "Debug hides both: {shown}"
            );
        }
        // One without the other: an error naming what is missing.
        let e = run_args(&["--telegram-bot-token", token])
            .notifier()
            .unwrap_err()
            .to_string();
        assert!(e.contains("CONDOR_TELEGRAM_CHAT_ID"), "{e}");
        assert!(!e.contains(token) && !e.contains("AAHdqTcv"), "{e}");
        let e = run_args(&["--telegram-chat-id", chat])
            .notifier()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("CONDOR_TELEGRAM_BOT_TOKEN") && !e.contains(chat),
            "{e}"
        );
        // Malformed: named, never quoted.
        let bad_token = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ";
        let e = run_args(&[
            "--telegram-bot-token",
            bad_token,
            "--telegram-chat-id",
            chat,
        ])
        .notifier()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("CONDOR_TELEGRAM_BOT_TOKEN") && !e.contains(bad_token),
            "{e}"
        );
        let e = run_args(&[
            "--telegram-bot-token",
            token,
            "--telegram-chat-id",
            "chat-12345",
        ])
        .notifier()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("CONDOR_TELEGRAM_CHAT_ID") && !e.contains("chat-12345"),
            "{e}"
        );
        // The API: https, or http to loopback only.
        let e = run_args(&[
            "--telegram-bot-token",
            token,
            "--telegram-chat-id",
            chat,
            "--telegram-api-url",
            "http://api.telegram.org",
        ])
        .notifier()
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("CONDOR_TELEGRAM_API_URL") && e.contains("https"),
            "{e}"
        );
        let cfg = run_args(&[
            "--telegram-bot-token",
            token,
            "--telegram-chat-id",
            "123456789",
            "--telegram-api-url",
            "http://127.0.0.1:9",
        ])
        .notifier()
        .unwrap();
        let bot = cfg.telegram.unwrap();
        assert_eq!(
            bot.method_url("sendPhoto"),
            format!("http://127.0.0.1:9/bot{token}/sendPhoto")
        );
        assert_eq!(bot.min_gap(), telegram::PRIVATE_CHAT_GAP);
        // Empty (a .env template's `CONDOR_TELEGRAM_BOT_TOKEN=`) or unset: no Telegram.
        let a = run_args(&["--telegram-bot-token", "", "--telegram-chat-id", ""]);
        assert!(a.notifier().unwrap().telegram.is_none());
        assert!(run_args(&[]).notifier().unwrap().telegram.is_none());
    }

    #[test]
    fn the_http_server_is_checked_and_its_token_never_shown() {
        assert_eq!(
            run_args(&[]).http().unwrap().unwrap().addr(),
            crate::http::DEFAULT_ADDR
        );
        assert!(run_args(&["--http-addr", "off"]).http().unwrap().is_none());
        assert_eq!(
            run_args(&["--http-addr", "localhost:0"])
                .http()
                .unwrap()
                .unwrap()
                .addr(),
            "127.0.0.1:0".parse().unwrap()
        );
        let e =
            Cli::try_parse_from(["condor", "run", "--http-addr", "example.com:80"]).unwrap_err();
        assert!(e.to_string().contains("--http-addr"), "{e}");
        let e = run_args(&["--http-addr", "0.0.0.0:8686"])
            .http()
            .unwrap_err()
            .to_string();
        assert!(e.contains("CONDOR_HTTP_TOKEN"), "{e}");
        let token = "Zx9-0123456789abcdefgh";
        let a = run_args(&["--http-addr", "0.0.0.0:8686", "--http-token", token]);
        assert!(a.http().unwrap().is_some());
        assert!(!format!("{a:?}").contains(token), "Debug hides it");
        let e = run_args(&["--http-token", "short"]).http().unwrap_err();
        assert!(!e.to_string().contains("short"), "{e}");
    }

    #[test]
    fn the_calendar_settings_are_checked_naming_the_variable_and_the_value() {
        let day = |s: &str| s.parse().unwrap();
        let c = run_args(&[
            "--closed-days",
            "2026-12-24,2027-01-04",
            "--late-open",
            "2026-03-03@10:00",
        ])
        .calendar()
        .unwrap();
        assert!(!c.is_trading_day(day("2026-12-24")));
        assert_eq!(
            c.session(day("2026-03-03")).map(|s| s.open),
            Some(TimeOfDay::hms(10, 0, 0))
        );
        assert!(run_args(&[])
            .calendar()
            .unwrap()
            .is_trading_day(day("2026-12-24")));
        // The embedded exchange trades by the same calendar, and `condor sim` reads it.
        let run = run_args(&[
            "--closed-days",
            "2026-12-24",
            "--late-open",
            "2026-03-03@10:00",
        ]);
        assert_eq!(
            run.sim.to_config().unwrap().exchange.calendar,
            run.calendar().unwrap()
        );
        let Some(Command::Sim(sim)) = Cli::try_parse_from([
            "condor",
            "sim",
            "--closed-days",
            "2026-12-24",
            "--late-open",
            "2026-03-03@10:00",
        ])
        .unwrap()
        .command
        else {
            panic!("condor sim")
        };
        assert_eq!(
            sim.to_config().unwrap().exchange.calendar,
            run.calendar().unwrap()
        );
        let e = run_args(&["--closed-days", "2026-12-24,24-12-2026"])
            .calendar()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("CONDOR_CLOSED_DAYS (--closed-days) \"24-12-2026\" is not a date"),
            "{e}"
        );
        let e = run_args(&["--late-open", "2026-11-19 10:00"])
            .calendar()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("CONDOR_LATE_OPEN (--late-open) \"2026-11-19 10:00\" is not DATE@HH:MM"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_scenario_file_is_named() {
        let Some(Command::Sim(args)) =
            Cli::try_parse_from(["condor", "sim", "--scenario", "/nonexistent/x.scn"])
                .unwrap()
                .command
        else {
            panic!("sim expected")
        };
        let e = args.to_config().unwrap_err().to_string();
        assert!(e.contains("/nonexistent/x.scn"), "{e}");
    }

    // The simulator's tape flags, as `condor sim` and `condor run` parse them.
    fn sim_args(args: &[&str]) -> Result<SimArgs, clap::Error> {
        use clap::Parser;
        let argv = ["condor", "sim"].iter().chain(args).copied();
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Sim(a)) => Ok(*a),
            _ => panic!("sim expected"),
        }
    }

    #[test]
    fn the_flags_parse_bad_speeds_and_the_firehose_are_refused_naming_the_flag() {
        let a = sim_args(&["--tape", "day.tape", "--speed", "max"]).unwrap();
        assert_eq!(
            a.tape,
            crate::sim::TapeArgs {
                tape: Some(std::path::PathBuf::from("day.tape")),
                speed: crate::sim::TapeSpeed::Max
            }
        );
        assert_eq!(
            sim_args(&[]).unwrap().tape.speed,
            crate::sim::TapeSpeed::Times(1.0)
        );
        for bad in ["0", "-2", "fast", "0x"] {
            let e = sim_args(&["--speed", bad]).unwrap_err().to_string();
            assert!(e.contains("--speed"), "{bad}: {e}");
        }
        let e = sim_args(&["--tape", "day.tape", "--firehose"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("--tape") && e.contains("--firehose"), "{e}");
        // `condor run` keeps `--tape on|off` for its recording; the simulator's are `--sim-*`.
        use clap::Parser;
        let argv = ["condor", "run", "--sim-tape", "d.tape", "--sim-speed", "10"];
        let Some(Command::Run(r)) = Cli::try_parse_from(argv).unwrap().command else {
            panic!("run expected")
        };
        assert!(r.tape, "the recording is on, as by default");
        assert_eq!(r.sim.tape.tape, Some(std::path::PathBuf::from("d.tape")));
        assert_eq!(r.sim.tape.speed, crate::sim::TapeSpeed::Times(10.0));
    }

    #[test]
    fn the_protocol_is_ls_unless_kiwoom_is_asked() {
        assert_eq!(sim_args(&[]).unwrap().protocol, crate::sim::Protocol::Ls);
        let a = sim_args(&["--protocol", "kiwoom"]).unwrap();
        assert_eq!(a.protocol, crate::sim::Protocol::Kiwoom);
        assert_eq!(
            a.to_config().unwrap().protocol,
            crate::sim::Protocol::Kiwoom
        );
        let e = sim_args(&["--protocol", "kis"]).unwrap_err().to_string();
        assert!(e.contains("--protocol") && e.contains("kiwoom"), "{e}");
    }

    #[test]
    fn to_config_loads_the_tape_or_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2024-01-02.tape");
        let trade = condor_actors::tape::TapeTrade {
            ticker: condor_actors::market::Ticker::parse("005930").unwrap(),
            price: condor_actors::market::Price::lit(70_100),
            qty: condor_actors::market::Qty::lit(3),
            cum_volume: 3,
            prev_close: condor_actors::market::Price::lit(70_000),
            aggressor: condor_actors::market::Side::Buy,
            exchange_time: condor_actors::market::TimeOfDay::hms(9, 30, 0),
            seq: 1,
        };
        condor_actors::tape::write_day(
            &path,
            "test",
            &[(1, condor_actors::tape::TapeEvent::Trade(trade))],
        )
        .unwrap();
        let p = path.to_str().unwrap();
        let cfg = sim_args(&["--tape", p, "--speed", "2.5"])
            .unwrap()
            .to_config()
            .unwrap();
        let day = cfg.exchange.tape.expect("the tape is loaded");
        assert_eq!((day.name(), day.trades()), ("2024-01-02", 1));
        assert_eq!(cfg.tape_speed, crate::sim::TapeSpeed::Times(2.5));
        let e = sim_args(&["--tape", "/nonexistent/x.tape"])
            .unwrap()
            .to_config()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--tape") && e.contains("/nonexistent/x.tape"),
            "{e}"
        );
    }
}
