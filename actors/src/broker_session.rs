//! BrokerSession: the one websocket to the broker. Registers and unregisters realtime
//! feeds, routes S3_/K3_ trades for the tickers StockFeeds subscribed to the Processor
//! (beside the feeds: see README "How a tick travels") and AFR alerts to whoever watches
//! the condition, stamps every trade with a per-session
//! sequence number, pings, and reconnects with capped, jittered backoff, registering
//! every live subscription again.
//!
//! Every frame carries the token current when it is sent (a renewed one from its
//! `TokenSource`); before each connection an expired token is renewed first, and a
//! registration refused for its token is made once more with a new one.
//!
//! It speaks the realtime wire its [`SessionConfig`] names ([`RealtimeWire`]): LS's
//! (above), or Kiwoom's ([`kiwoom`]: LOGIN with the token first, REG/REMOVE `0B` per
//! ticker and `00`/`04` for the account, server PINGs echoed, conditions listed and
//! started over the socket and started again after a reconnect, the gap's enters and
//! exits told). The messages are the same either way; a broker's wire is a module of
//! plain logic the actor drives, and the routing of ticks is shared.
//!
//! Owns the socket, the routing tables and which registrations were refused for their
//! token. Must never block: frames leave through a writer task, and a bad frame is
//! counted and logged, never a reason to stop. Leaves nothing registered when it shuts
//! down or stops.

mod kiwoom;
mod tick_routes;

use tick_routes::{SinkId, Subscribed, TickRoutes};

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use crate::access_token::TokenSource;
use crate::market::{Market, Ticker};
use crate::messages::{
    AccountEvent, ConditionAlert, Deliver, GetSessionStats, ListConditions, Percentiles,
    ReconcileOrders, SavedCondition, SessionRefusal, SessionStats, StartCondition, SubscribeTrades,
    Tick, Ticks, UnsubscribeTrades, WatchAccount, WatchCondition, WatchHoldings,
};
use crate::processor::{latency_histogram, nanos_since};
use crate::reconcile::BrokerHolding;
use crate::telemetry::Meters;
use crate::tick_backlog::{self, TickBacklog};
use crate::tick_hand_off::TickHandOff;
use crate::wire::realtime::{
    decode_incoming, encode_registration, is_account_feed, Ack, Incoming, ServerFrame, TrType,
    TradeFields,
};
use crate::wire::rest::is_token_refusal;

/// Bytes the websocket reader asks its stream for at a time. tungstenite zero-fills that
/// much buffer before every read, including the read that finds the socket empty: at its
/// 128 KiB default, 8% of the engine thread's samples in a perf profile at 200 ticks/s,
/// CPU spent for nothing. 8 KiB holds a dozen LS trade frames.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// Bytes asked of the kernel per read, beneath the websocket reader (a buffer filled
/// without zeroing, which tungstenite's 8 KiB reads are served from). One `recv` per
/// 8 KiB was 18% of the engine thread's samples under a firehose at 1,000 feeds (perf:
/// the syscalls, and each read's window update pushing the simulator's next segments
/// in this thread), against 9% for the bare reader reading 128 KiB at a time.
const SOCKET_READ_BYTES: usize = 64 * 1024;

/// The socket under the websocket: TCP with reads buffered ([`SOCKET_READ_BYTES`]).
type Socket = tokio::io::BufReader<tokio::net::TcpStream>;
type Websocket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<Socket>>;

/// Opens the websocket at `url` (TLS for `wss://`) over a [`Socket`], Nagle off: what
/// `tokio_tungstenite::connect_async_with_config` does, with the read buffer beneath.
async fn connect_websocket(url: &str) -> Result<Websocket, WsError> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::error::UrlError;
    let request = url.into_client_request()?;
    let uri = request.uri();
    // An IPv6 host comes bracketed; the socket address wants it bare.
    let host = uri
        .host()
        .ok_or(WsError::Url(UrlError::NoHostName))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = uri
        .port_u16()
        .or_else(|| match uri.scheme_str() {
            Some("wss") => Some(443),
            Some("ws") => Some(80),
            _ => None,
        })
        .ok_or(WsError::Url(UrlError::UnsupportedUrlScheme))?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
    tcp.set_nodelay(true)?;
    let socket = tokio::io::BufReader::with_capacity(SOCKET_READ_BYTES, tcp);
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
    let (ws, _) =
        tokio_tungstenite::client_async_tls_with_config(request, socket, Some(config), None)
            .await?;
    Ok(ws)
}

/// How long the session waits for the Processor before it reads on regardless.
const BACKLOG_STALL: Duration = Duration::from_secs(1);

const LOG: &str = "condor::session";

/// Which broker's realtime wire the session speaks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RealtimeWire {
    /// LS OPEN API: the token in every registration frame; conditions are registered
    /// over REST (t1860) and arrive as AFR frames ([`WatchCondition`]).
    #[default]
    Ls,
    /// Kiwoom: LOGIN with the token first; conditions listed and started over the
    /// socket ([`ListConditions`], [`StartCondition`]); REAL 04 positions
    /// ([`WatchHoldings`]).
    Kiwoom,
}

/// Reconnect and liveness settings.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub ws_url: String,
    /// Where the token comes from: `LsRest::token_source()` / `KiwoomRest::token_source()`
    /// (renewed), or a fixed token.
    pub token: TokenSource,
    /// The wire to speak.
    pub wire: RealtimeWire,
    /// First reconnect delay; doubles per failed attempt up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
    /// Our own websocket ping.
    pub ping_every: Duration,
    /// No frame at all for this long while subscribed: the link is dead, reconnect.
    pub stale_after: Duration,
    /// Below this many frames a millisecond each routed tick runs through its feed and
    /// the Processor before the next frame is read; above it, frames are batched (see
    /// [`TickHandOff`]). 0 always batches.
    pub hand_off_below_per_ms: u32,
}

impl SessionConfig {
    pub fn new(ws_url: impl Into<String>, token: impl Into<TokenSource>) -> SessionConfig {
        SessionConfig {
            ws_url: ws_url.into(),
            token: token.into(),
            wire: RealtimeWire::Ls,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            ping_every: Duration::from_secs(10),
            stale_after: Duration::from_secs(60),
            hand_off_below_per_ms: crate::tick_hand_off::DEFAULT_LIMIT_PER_MS,
        }
    }

    /// Kiwoom's websocket (`wss://api.kiwoom.com:10000/api/dostk/websocket`, or the
    /// simulator's), logging in with `token` (`KiwoomRest::token_source()`).
    pub fn kiwoom(ws_url: impl Into<String>, token: impl Into<TokenSource>) -> SessionConfig {
        SessionConfig {
            wire: RealtimeWire::Kiwoom,
            ..SessionConfig::new(ws_url, token)
        }
    }
}

/// The state of the wire spoken beyond the shared routing tables (LS needs none).
enum Wire {
    Ls,
    Kiwoom(Box<kiwoom::Link<Recipient<ConditionAlert>>>),
}

type KiwoomStep = kiwoom::Step<Recipient<ConditionAlert>>;

/// Ticks read under a firehose wait here, at most this many, until the socket has no
/// more to give: then they go to the Processor as one message instead of one each.
const BATCH_TICKS: usize = 64;

pub struct BrokerSession {
    cfg: SessionConfig,
    out: Option<mpsc::UnboundedSender<WsMessage>>,
    /// Bumped per connection, so a stale stream's end does not tear down a new one.
    generation: u64,
    trades: TickRoutes<Recipient<Ticks>>,
    /// Ticks routed and not yet sent (a firehose's read; see [`BATCH_TICKS`]), and where
    /// they go.
    pending: Vec<Tick>,
    pending_to: Option<SinkId>,
    /// Trades decoded since the backlog was last told (it is told a message at a time).
    decoded_untold: u64,
    /// Ticks that may be routed before the backlog is full, as of the last look: a bound
    /// from below (the Processor only drains it), so `pending` is checked against it
    /// and the shared counters are read again only when it is reached.
    room: u64,
    alerts: HashMap<String, Recipient<ConditionAlert>>,
    account: Option<Recipient<Deliver<AccountEvent>>>,
    /// Told after a reconnect: account events of the gap are lost.
    account_reconnect: Option<Recipient<ReconcileOrders>>,
    /// Kiwoom REAL 04: the position after each fill.
    holdings: Option<Recipient<Deliver<BrokerHolding>>>,
    wire: Wire,
    /// Kiwoom: the LOGIN with this token generation was refused for its token; the next
    /// connection renews it first.
    renew_before_connect: Option<u64>,
    /// Kiwoom: a token was renewed for a refused LOGIN since the last accepted one (a
    /// second refusal is not renewed again; the renewer and the backoff go on).
    login_renewed: bool,
    /// Kiwoom, shutting down: told when the unregistrations are answered.
    closing: Option<tokio::sync::oneshot::Sender<()>>,
    /// Told when the link drops and when it is back (the Notifier times the outage).
    notifier: Option<Recipient<crate::messages::Alert>>,
    /// Marks each reconnect on the tape, so a replayed day shows where the link broke.
    tape: Option<crate::tape::TapeRecorder>,
    writer: Option<tokio::task::JoinHandle<()>>,
    shutting_down: bool,
    seq: u64,
    stats: SessionStats,
    attempts: u32,
    last_frame: Instant,
    rng: u64,
    /// Socket read → tick routed, ns.
    decode_latency: hdrhistogram::Histogram<u64>,
    meters: Option<Arc<Meters>>,
    hand_off: TickHandOff,
    /// The tick path's counts, and the ticks in flight to the Processor: the session stops
    /// reading at its limit.
    backlog: Arc<TickBacklog>,
    /// The tick just routed filled the backlog: wait before reading on.
    backlog_full: bool,
    /// Generation of the token in the frames sent last.
    token_generation: u64,
    /// `(tr_cd, tr_key)` registrations refused for their token and made again with a new
    /// one: a second refusal is not retried (until the next connection).
    token_retried: HashSet<(String, String)>,
    /// Tickers whose trade frames were refused at least once: each is logged the first
    /// time only, then counted, so a feed gone bad cannot flood the log.
    malformed_tickers: HashSet<Ticker>,
}

impl BrokerSession {
    pub fn new(cfg: SessionConfig) -> BrokerSession {
        let wire = match cfg.wire {
            RealtimeWire::Ls => Wire::Ls,
            RealtimeWire::Kiwoom => Wire::Kiwoom(Box::default()),
        };
        BrokerSession {
            wire,
            hand_off: TickHandOff::new(cfg.hand_off_below_per_ms),
            backlog: TickBacklog::new(tick_backlog::DEFAULT_LIMIT),
            backlog_full: false,
            cfg,
            out: None,
            generation: 0,
            trades: TickRoutes::default(),
            pending: Vec::new(),
            pending_to: None,
            decoded_untold: 0,
            room: 0,
            alerts: HashMap::new(),
            account: None,
            account_reconnect: None,
            holdings: None,
            renew_before_connect: None,
            login_renewed: false,
            closing: None,
            notifier: None,
            tape: None,
            writer: None,
            shutting_down: false,
            seq: 0,
            stats: SessionStats::default(),
            attempts: 0,
            last_frame: Instant::now(),
            rng: 0x9E37_79B9_7F4A_7C15,
            decode_latency: latency_histogram(),
            meters: None,
            token_generation: 0,
            token_retried: HashSet::new(),
            malformed_tickers: HashSet::new(),
        }
    }

    /// Counts reconnects and malformed frames into `meters` (ticks are counted by the
    /// backlog, which the meters read).
    pub fn with_meters(mut self, meters: Option<Arc<Meters>>) -> BrokerSession {
        self.meters = meters;
        self
    }

    /// Records a marker on the tape at each reconnect.
    pub fn with_tape(mut self, recorder: Option<crate::tape::TapeRecorder>) -> BrokerSession {
        self.tape = recorder;
        self
    }

    /// Counts ticks into `backlog`, and stops reading while its limit of ticks is in
    /// flight to the Processor (which must be given the same backlog).
    pub fn with_backlog(mut self, backlog: Arc<TickBacklog>) -> BrokerSession {
        self.backlog = backlog;
        self
    }

    /// Tells `notifier` when the link drops and when it is back.
    pub fn with_notifier(
        mut self,
        notifier: Option<Recipient<crate::messages::Alert>>,
    ) -> BrokerSession {
        self.notifier = notifier;
        self
    }

    fn send(&self, frame: String) {
        if let Some(out) = &self.out {
            let _ = out.send(WsMessage::Text(frame.into()));
        }
    }

    /// A registration frame with the current token.
    fn send_registration(&mut self, tr_type: TrType, tr_cd: &str, tr_key: &str) {
        let (token, generation) = self.cfg.token.current();
        self.token_generation = generation;
        self.send(encode_registration(&token, tr_type, tr_cd, tr_key));
    }

    fn register_trades(&mut self, ticker: Ticker, market: Market, tr_type: TrType) {
        if let Wire::Kiwoom(link) = &mut self.wire {
            let frames = match tr_type {
                TrType::RegisterMarket => link.subscribe(ticker),
                _ => link.unsubscribe(ticker),
            };
            return self.send_all(frames);
        }
        self.send_registration(tr_type, market.trade_tr(), ticker.as_str());
    }

    fn send_all(&self, frames: Vec<String>) {
        for f in frames {
            self.send(f);
        }
    }

    fn register_alert(&mut self, alert_num: &str, tr_type: TrType) {
        self.send_registration(tr_type, "AFR", alert_num);
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        crate::ls_rest::install_tls_provider();
        let url = self.cfg.ws_url.clone();
        let token = self.cfg.token.clone();
        let renew = self.renew_before_connect.take();
        ctx.spawn(
            async move {
                match renew {
                    // Kiwoom refused the last LOGIN's token: this one logs in with a new one.
                    Some(refused) => {
                        if let Err(e) = token.renew_after_refusal(refused).await {
                            log::error!(target: LOG, "the LOGIN was refused for its token and no new one could be issued: {e}");
                        }
                    }
                    // The registrations (LS) or the LOGIN (Kiwoom) right after connecting
                    // need a valid token.
                    None => token.refresh_if_expired().await,
                }
                connect_websocket(&url).await
            }
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok(ws) => act.on_connected(ws, ctx),
                Err(e) => {
                    log::warn!(target: LOG, "websocket connect to {} failed: {e}", act.cfg.ws_url);
                    act.reconnect_later(ctx);
                }
            }),
        );
    }

    fn on_connected(&mut self, ws: Websocket, ctx: &mut Context<Self>) {
        self.generation += 1;
        let generation = self.generation;
        let (mut sink, stream) = ws.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<WsMessage>();
        // Writer: feed whatever is queued, flush once (registration bursts are one write).
        self.writer = Some(actix::spawn(async move {
            while let Some(first) = rx.recv().await {
                if sink.feed(first).await.is_err() {
                    return;
                }
                while let Ok(more) = rx.try_recv() {
                    if sink.feed(more).await.is_err() {
                        return;
                    }
                }
                if sink.flush().await.is_err() {
                    return;
                }
            }
            let _ = sink.close().await;
        }));
        self.out = Some(tx);
        // Each item carries its connection's generation; `End` marks the stream's end.
        ctx.add_stream(until_idle(stream).map(move |r| (generation, r)).chain(
            futures_util::stream::once(async move { (generation, Read::End) }),
        ));
        let reconnected = self.attempts > 0 || self.stats.reconnects > 0;
        if reconnected {
            log::warn!(
                target: LOG,
                "reconnected after a gap of {} ms without frames; registering {} trade feed(s) and {} condition(s) again",
                self.last_frame.elapsed().as_millis(),
                self.trades.len(),
                self.alerts.len()
            );
            if let Some(n) = &self.notifier {
                n.do_send(crate::messages::Alert::BrokerLink { up: true });
            }
            if let Some(t) = &mut self.tape {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
                t.record(now, crate::tape::TapeEvent::Reconnected);
                t.flush();
            }
        } else {
            log::info!(target: LOG, "connected to {}", self.cfg.ws_url);
        }
        self.attempts = 0;
        self.stats.connected = true;
        self.last_frame = Instant::now();
        if let Wire::Kiwoom(link) = &mut self.wire {
            // Everything else waits for the LOGIN's answer.
            let (token, generation) = self.cfg.token.current();
            self.token_generation = generation;
            let login = link.connected(&token);
            return self.send_all(login);
        }
        self.token_retried.clear();
        for (t, market) in self.trades.markets() {
            self.register_trades(t, market, TrType::RegisterMarket);
        }
        let alerts: Vec<String> = self.alerts.keys().cloned().collect();
        for a in alerts {
            self.register_alert(&a, TrType::RegisterMarket);
        }
        if self.account.is_some() {
            self.register_account();
        }
    }

    /// One SC registration turns on all five account feeds (SC0–SC4); Kiwoom's REG
    /// `00`/`04` both of its.
    fn register_account(&mut self) {
        if let Wire::Kiwoom(link) = &mut self.wire {
            let frames = link.watch_account();
            return self.send_all(frames);
        }
        self.send_registration(TrType::RegisterAccount, "SC0", "");
    }

    /// A registration refused for its token: a new token (unless one came since the
    /// frame left), then the registration once more if it is still wanted. Once per
    /// registration and connection, so a token the gateway keeps refusing is no loop.
    fn on_token_refused(&mut self, ack: &Ack, ctx: &mut Context<Self>) {
        let registering = matches!(
            ack.tr_type(),
            Some(TrType::RegisterMarket | TrType::RegisterAccount)
        );
        if !registering {
            return;
        }
        let key = (ack.tr_cd.clone(), ack.tr_key.clone().unwrap_or_default());
        if !self.token_retried.insert(key.clone()) {
            log::error!(target: LOG, "{} {}: registration refused for its token [{}] again, with a new token; not retried until the next connection", key.0, key.1, ack.rsp_cd);
            return;
        }
        let source = self.cfg.token.clone();
        let refused = self.token_generation;
        ctx.spawn(
            async move { source.renew_after_refusal(refused).await }
                .into_actor(self)
                .map(move |renewed, act, _| {
                    if let Err(e) = renewed {
                        log::error!(target: LOG, "{} {}: registration refused for its token and no new one: {e}", key.0, key.1);
                        return;
                    }
                    act.register_again(&key.0, &key.1);
                }),
        );
    }

    /// Registers `(tr_cd, tr_key)` again if a route still wants it.
    fn register_again(&mut self, tr_cd: &str, tr_key: &str) {
        if is_account_feed(tr_cd) {
            if self.account.is_some() {
                self.register_account();
            }
        } else if tr_cd == "AFR" {
            if self.alerts.contains_key(tr_key) {
                self.register_alert(tr_key, TrType::RegisterMarket);
            }
        } else if let Ok(ticker) = Ticker::parse(tr_key) {
            if let Some(market) = self.trades.market_of(&ticker) {
                self.register_trades(ticker, market, TrType::RegisterMarket);
            }
        }
    }

    fn on_account(&mut self, frame: ServerFrame, text: &str) {
        let Some(to) = &self.account else {
            self.stats.unrouted += 1;
            return;
        };
        let Some(event) = frame.account_event() else {
            return;
        };
        match event {
            Ok(e) => to.do_send(Deliver(e)),
            Err(e) => self.malformed(&e.to_string(), text),
        }
    }

    fn reconnect_later(&mut self, ctx: &mut Context<Self>) {
        if let Some(n) = self.notifier.as_ref().filter(|_| self.stats.connected) {
            n.do_send(crate::messages::Alert::BrokerLink { up: false });
        }
        self.stats.connected = false;
        if let Wire::Kiwoom(link) = &mut self.wire {
            link.disconnected();
        }
        if self.shutting_down {
            // Gone while closing: no answer can come now.
            return self.answered_closing();
        }
        self.out = None;
        self.attempts = self.attempts.saturating_add(1);
        let exp = self
            .cfg
            .min_backoff
            .saturating_mul(1u32 << self.attempts.min(16).saturating_sub(1));
        let capped = exp.min(self.cfg.max_backoff);
        // Full jitter over the upper half, so many clients do not reconnect in step.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        let half = capped / 2;
        let jitter = Duration::from_nanos(self.rng % (half.as_nanos().max(1) as u64));
        let delay = half + jitter;
        log::info!(target: LOG, "reconnecting in {delay:?} (attempt {})", self.attempts);
        ctx.run_later(delay, |act, ctx| act.connect(ctx));
    }

    fn on_text(&mut self, text: &str, received_at: Instant, ctx: &mut Context<Self>) {
        if let Wire::Kiwoom(link) = &mut self.wire {
            let steps = link.on_text(text, received_at);
            return self.on_kiwoom(steps, text, received_at, ctx);
        }
        let frame = match decode_incoming(text) {
            Ok(Incoming::Trade { fields, .. }) => return self.on_trade(&fields, text, received_at),
            Ok(Incoming::Other(frame)) => Ok(*frame),
            Err(e) => Err(e),
        };
        match frame {
            // decode_incoming returns trades as fields; an owned one is read the same way.
            Ok(ServerFrame::Trade { body, .. }) => self.on_trade(&body.fields(), text, received_at),
            Ok(ServerFrame::ConditionAlert { alert_num, body }) => {
                match (self.alerts.get(&alert_num), body.job()) {
                    (Some(to), Ok(job)) => to.do_send(ConditionAlert {
                        alert_num: alert_num.clone(),
                        code: body.gs_code.clone(),
                        job,
                    }),
                    (None, _) => self.stats.unrouted += 1,
                    (_, Err(e)) => self.malformed(&e.to_string(), text),
                }
            }
            Ok(ServerFrame::Ack(ack)) => {
                if ack.is_ok() {
                    log::debug!(target: LOG, "{}({}) {}: {}", ack.tr_cd, ack.tr_type.as_deref().unwrap_or(""), ack.tr_key.as_deref().unwrap_or(""), ack.rsp_msg);
                    // The account feed is live only from here: what our orders did before
                    // (since the start read the order list, or during a gap) is asked of it.
                    if is_account_feed(&ack.tr_cd) && ack.tr_type() == Some(TrType::RegisterAccount)
                    {
                        if let Some(to) = &self.account_reconnect {
                            to.do_send(ReconcileOrders);
                        }
                    }
                    let key = (ack.tr_cd.clone(), ack.tr_key.clone().unwrap_or_default());
                    self.token_retried.remove(&key);
                } else {
                    log::warn!(target: LOG, "registration refused: {} {} {}: [{}] {}", ack.tr_cd, ack.tr_type.as_deref().unwrap_or(""), ack.tr_key.as_deref().unwrap_or(""), ack.rsp_cd, ack.rsp_msg);
                    if is_token_refusal(&ack.rsp_cd) {
                        self.on_token_refused(&ack, ctx);
                    }
                }
            }
            Ok(
                frame @ (ServerFrame::OrderAccepted(_)
                | ServerFrame::OrderFilled(_)
                | ServerFrame::OrderModified(_)
                | ServerFrame::OrderCancelled(_)
                | ServerFrame::OrderRejected(_)),
            ) => self.on_account(frame, text),
            Err(e) => self.malformed(&e.to_string(), text),
        }
    }

    /// A trade becomes a Tick for the feed that registered its ticker. The fields are
    /// borrowed from the frame: nothing is allocated on this path.
    fn on_trade(&mut self, body: &TradeFields<'_>, text: &str, received_at: Instant) {
        match body.to_tick(received_at) {
            Ok(tick) => self.route_tick(tick, received_at),
            Err(e) => self.malformed_trade(body.ticker().ok(), &e.to_string(), text),
        }
    }

    /// A trade that could not be read, on either wire: logged the first time for its
    /// ticker, then only counted, so a feed gone bad cannot flood the log.
    fn malformed_trade(&mut self, ticker: Option<Ticker>, error: &str, text: &str) {
        match ticker {
            Some(ticker) if !self.malformed_tickers.insert(ticker) => self.count_malformed(),
            Some(ticker) => {
                let why = format!("{error}; further ones for {ticker} are counted, not logged");
                self.malformed(&why, text);
            }
            None => self.malformed(error, text),
        }
    }

    /// Whatever the wire, a decoded trade for a subscribed ticker is numbered, counted
    /// against the backlog, timed and queued for the Processor ([`Self::send_ticks`]).
    #[inline]
    fn route_tick(&mut self, mut tick: Tick, received_at: Instant) {
        self.decoded_untold += 1;
        let Some(sink) = self.trades.sink_of(&tick.ticker) else {
            self.stats.unrouted += 1;
            return;
        };
        if self.pending_to != Some(sink) {
            self.send_ticks();
            self.pending_to = Some(sink);
        }
        self.seq += 1;
        tick.seq = self.seq;
        // Under the feeds' target: `RUST_LOG=condor::feed=debug` shows each feed's ticks,
        // though they no longer pass through the feed.
        log::debug!(target: crate::stock_feed::LOG, "{} #{} {} x {} at {}", tick.ticker, tick.seq, tick.price, tick.qty, tick.exchange_time);
        // Timed once a message: every tick while they go one at a time, a firehose's
        // read by its first tick (a clock read is 5% of the engine thread per tick).
        if self.pending.is_empty() {
            let _ = self.decode_latency.record(nanos_since(received_at));
        }
        self.pending.push(tick);
        if self.pending.len() as u64 >= self.room {
            self.room = self.backlog.room();
            self.backlog_full |= self.pending.len() as u64 >= self.room;
        }
    }

    /// Sends the ticks routed so far, in one message, and counts them (and the trades
    /// decoded) in the backlog: one add a message, not one a tick.
    fn send_ticks(&mut self) {
        if self.decoded_untold > 0 {
            self.backlog
                .decoded(std::mem::take(&mut self.decoded_untold));
        }
        if self.pending.is_empty() {
            return;
        }
        let ticks = std::mem::replace(&mut self.pending, Vec::with_capacity(BATCH_TICKS));
        let to = self.pending_to.and_then(|sink| self.trades.sink(sink));
        // A route is only let go after its ticks were sent (see `SubscribeTrades`), so
        // pending ticks always have their sink.
        if let Some(to) = to {
            self.backlog_full |= self.backlog.routed(ticks.len() as u64);
            self.room = self.backlog.room();
            to.do_send(Ticks(ticks));
        }
    }

    /// Carries out what a Kiwoom frame asked for.
    fn on_kiwoom(
        &mut self,
        steps: Vec<KiwoomStep>,
        text: &str,
        received_at: Instant,
        ctx: &mut Context<Self>,
    ) {
        for step in steps {
            match step {
                kiwoom::Step::Send(frame) => self.send(frame),
                kiwoom::Step::Tick(tick) => self.route_tick(tick, received_at),
                kiwoom::Step::Account(e) => match &self.account {
                    Some(to) => to.do_send(Deliver(e)),
                    None => self.stats.unrouted += 1,
                },
                kiwoom::Step::Holding(h) => match &self.holdings {
                    Some(to) => to.do_send(Deliver(h)),
                    None => self.stats.unrouted += 1,
                },
                kiwoom::Step::Alert(to, alert) => to.do_send(alert),
                kiwoom::Step::AccountLive => {
                    if let Some(to) = &self.account_reconnect {
                        to.do_send(ReconcileOrders);
                    }
                }
                kiwoom::Step::LoggedIn => {
                    self.login_renewed = false;
                    log::info!(target: LOG, "logged in; registering {} trade feed(s){}", self.trades.len(), if self.account.is_some() { " and the account" } else { "" });
                }
                kiwoom::Step::LoginRefused { refusal, for_token } => {
                    self.on_login_refused(&refusal, for_token, ctx)
                }
                kiwoom::Step::Refused { what, refusal } => {
                    log::warn!(target: LOG, "{what} refused: {refusal}")
                }
                kiwoom::Step::Malformed(e) => self.malformed(&e.to_string(), text),
                kiwoom::Step::MalformedTrade(ticker, e) => {
                    self.malformed_trade(ticker, &e.to_string(), text)
                }
                kiwoom::Step::Unrouted => self.stats.unrouted += 1,
                kiwoom::Step::Notice(n) => log::warn!(target: LOG, "the server says {n}"),
                kiwoom::Step::Closed => self.answered_closing(),
            }
        }
    }

    /// Kiwoom closes a connection whose LOGIN it refused: this one is given up at once and
    /// the next made after the backoff, with a new token first if the refusal was for the
    /// token and none was renewed for a refusal since the last good LOGIN.
    fn on_login_refused(
        &mut self,
        refusal: &impl std::fmt::Display,
        for_token: bool,
        ctx: &mut Context<Self>,
    ) {
        let renew = for_token && !self.login_renewed;
        if renew {
            self.login_renewed = true;
            self.renew_before_connect = Some(self.token_generation);
            log::warn!(target: LOG, "LOGIN refused for its token ({refusal}); logging in again with a new one");
        } else {
            log::error!(target: LOG, "LOGIN refused ({refusal}); trying again after the backoff{}", if for_token { " (a new token was refused too; the token keeper renews on its own schedule)" } else { "" });
        }
        self.drop_link(ctx);
    }

    /// The shutdown's unregistrations are answered (or can no longer be): close.
    fn answered_closing(&mut self) {
        if let Some(answered) = self.closing.take() {
            let _ = answered.send(());
        }
    }

    /// Gives the current connection up (its stream's end is ignored) and reconnects
    /// after the backoff.
    fn drop_link(&mut self, ctx: &mut Context<Self>) {
        self.generation += 1;
        self.stats.reconnects += 1;
        if let Some(m) = &self.meters {
            m.reconnects.inc();
        }
        self.reconnect_later(ctx);
    }

    /// Reads nothing more until the Processor is down to half the backlog's limit; the
    /// feeds and the Processor run meanwhile, and TCP holds the sender back.
    fn wait_for_processor(&mut self, ctx: &mut Context<Self>) {
        // What is queued here must reach the Processor, or it could never catch up.
        self.send_ticks();
        let backlog = self.backlog.clone();
        self.stats.read_pauses += 1;
        let before = backlog.in_flight();
        log::trace!(target: LOG, "{before} ticks in flight: reading paused until the Processor catches up");
        ctx.wait(
            async move {
                let stalled = tokio::time::timeout(BACKLOG_STALL, backlog.drained())
                    .await
                    .is_err();
                (stalled, backlog)
            }
            .into_actor(self)
            .map(move |(stalled, backlog), _, _| {
                if !stalled {
                    return;
                }
                let now = backlog.in_flight();
                if now < before {
                    log::warn!(target: LOG, "the Processor is slow: {now} ticks still in flight after {BACKLOG_STALL:?}; reading on");
                } else {
                    // No tick taken in all that time: a count went astray, or the
                    // Processor is gone. Reading must not stop for good over it.
                    log::error!(target: LOG, "no tick taken by the Processor in {BACKLOG_STALL:?} with {now} in flight; counting them as lost and reading on");
                    backlog.forgive(now);
                }
            }),
        );
    }

    fn count_malformed(&mut self) {
        self.stats.malformed += 1;
        if let Some(m) = &self.meters {
            m.malformed_frames.inc();
        }
    }

    fn malformed(&mut self, error: &str, text: &str) {
        self.count_malformed();
        let mut cut = text.len().min(160);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        log::warn!(target: LOG, "malformed frame #{} ({error}): {}", self.stats.malformed, &text[..cut]);
    }
}

impl Actor for BrokerSession {
    type Context = Context<Self>;

    /// Stopped without a [`Shutdown`] (a `Retire`, the system ending): the unregister
    /// frames are still queued, and the writer sends them before it closes.
    fn stopping(&mut self, ctx: &mut Context<Self>) -> Running {
        if self.shutting_down {
            return Running::Stop;
        }
        match self.unregister_everything() {
            // Kiwoom: running on until the unregistrations are answered.
            Some(answered) => {
                self.close_when_answered(answered, ctx);
                Running::Continue
            }
            None => {
                self.out = None;
                Running::Stop
            }
        }
    }

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.connect(ctx);
        // Kiwoom's server PINGs and wants them echoed; its official client sends no
        // websocket-level pings, nor does condor on that wire.
        if matches!(self.wire, Wire::Ls) {
            ctx.run_interval(self.cfg.ping_every, |act, _| {
                if let Some(out) = &act.out {
                    let _ = out.send(WsMessage::Ping(Vec::new().into()));
                }
            });
        }
        let check = (self.cfg.stale_after / 4).max(Duration::from_millis(50));
        ctx.run_interval(check, |act, ctx| {
            let conditions = match &act.wire {
                Wire::Ls => !act.alerts.is_empty(),
                Wire::Kiwoom(link) => link.has_conditions(),
            };
            let watching = !act.trades.is_empty() || conditions;
            if act.out.is_some() && watching && act.last_frame.elapsed() > act.cfg.stale_after {
                log::warn!(target: LOG, "no frame for {:?}: treating the link as dead", act.last_frame.elapsed());
                act.drop_link(ctx); // the old stream's end is now ignored
            }
        });
    }
}

/// What the websocket gave: a message, the sign that it has nothing more for now (after
/// giving something), or its end.
enum Read {
    Message(Result<WsMessage, WsError>),
    Idle,
    End,
}

/// The socket's messages, each burst followed by one [`Read::Idle`] when the socket has
/// no more for now: the session sends the burst's ticks then, as one message.
fn until_idle(
    mut stream: impl futures_util::Stream<Item = Result<WsMessage, WsError>> + Unpin,
) -> impl futures_util::Stream<Item = Read> {
    use std::task::Poll;
    let mut gave = false;
    futures_util::stream::poll_fn(move |cx| match stream.poll_next_unpin(cx) {
        Poll::Ready(Some(m)) => {
            gave = true;
            Poll::Ready(Some(Read::Message(m)))
        }
        Poll::Ready(None) => Poll::Ready(None),
        // The stream has registered the wake-up for its next message.
        Poll::Pending if std::mem::take(&mut gave) => Poll::Ready(Some(Read::Idle)),
        Poll::Pending => Poll::Pending,
    })
}

type Frame = (u64, Read);

impl StreamHandler<Frame> for BrokerSession {
    fn handle(&mut self, (generation, read): Frame, ctx: &mut Context<Self>) {
        if generation != self.generation {
            return; // a replaced connection
        }
        let received_at = Instant::now();
        match read {
            Read::Message(Ok(WsMessage::Text(text))) => {
                self.last_frame = received_at;
                self.stats.frames += 1;
                let routed = self.seq;
                self.on_text(text.as_str(), received_at, ctx);
                let hand_on = self.hand_off.after_frame(received_at) && self.seq != routed;
                if hand_on || self.pending.len() >= BATCH_TICKS {
                    self.send_ticks();
                }
                if std::mem::take(&mut self.backlog_full) {
                    self.wait_for_processor(ctx);
                } else if hand_on {
                    // The Processor takes this tick before the next frame is read.
                    ctx.wait(tokio::task::yield_now().into_actor(self));
                }
            }
            Read::Idle => {
                self.send_ticks();
                if std::mem::take(&mut self.backlog_full) {
                    self.wait_for_processor(ctx);
                }
            }
            Read::Message(Ok(WsMessage::Close(_))) | Read::Message(Err(_)) | Read::End => {
                self.send_ticks();
                log::warn!(
                    target: LOG,
                    "websocket dropped; {} trade feed(s) and {} condition(s) will be registered again",
                    self.trades.len(),
                    self.alerts.len()
                );
                self.drop_link(ctx);
            }
            Read::Message(Ok(_)) => self.last_frame = received_at,
        }
    }

    /// A stream ended; `handle` already saw its end marker. The actor lives on.
    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<SubscribeTrades> for BrokerSession {
    type Result = ();
    fn handle(&mut self, msg: SubscribeTrades, _: &mut Context<Self>) {
        // Routed ticks reach their sink before any route changes, so a sink let go
        // (and its place reused) never receives another's ticks.
        self.send_ticks();
        match self
            .trades
            .subscribe(msg.ticker, msg.market, msg.to, msg.feed_id)
        {
            Subscribed::New => self.register_trades(msg.ticker, msg.market, TrType::RegisterMarket),
            // Already registered: the new feed takes the route over; the old one's
            // unsubscribe, still on its way, must not remove it.
            Subscribed::TakenOver { from } => {
                log::debug!(target: LOG, "{} feed {:?} takes over from {:?}", msg.ticker, msg.feed_id, from);
            }
            Subscribed::Again => {}
        }
    }
}

impl Handler<UnsubscribeTrades> for BrokerSession {
    type Result = ();
    fn handle(&mut self, msg: UnsubscribeTrades, _: &mut Context<Self>) {
        // A newer feed that took the route over keeps it. Ticks already routed still
        // reach the Processor: they never went through the feed.
        self.send_ticks();
        if let Some(market) = self.trades.unsubscribe(&msg.ticker, msg.feed_id) {
            self.register_trades(msg.ticker, market, TrType::UnregisterMarket);
        }
    }
}

impl Handler<WatchCondition> for BrokerSession {
    type Result = ();
    fn handle(&mut self, msg: WatchCondition, _: &mut Context<Self>) {
        if matches!(self.wire, Wire::Kiwoom(_)) {
            log::error!(target: LOG, "WatchCondition {} ignored: Kiwoom has no AFR registrations; conditions start with StartCondition", msg.alert_num);
            return;
        }
        let new = !self.alerts.contains_key(&msg.alert_num);
        if new {
            self.register_alert(&msg.alert_num, TrType::RegisterMarket);
        }
        self.alerts.insert(msg.alert_num, msg.to);
    }
}

impl Handler<WatchAccount> for BrokerSession {
    type Result = ();
    fn handle(&mut self, msg: WatchAccount, _: &mut Context<Self>) {
        let new = self.account.is_none();
        self.account = Some(msg.to);
        self.account_reconnect = msg.on_reconnect;
        if new {
            self.register_account();
        }
    }
}

impl BrokerSession {
    /// Unregisters every feed, condition and the account (the frames are queued for the
    /// writer, which sends them before it closes), and answers waiting requests.
    /// Kiwoom: the receiver is told once the broker has answered them all (or the link
    /// is gone); until then the socket is kept open and read, so the answers do not reset
    /// the connection on their way in.
    fn unregister_everything(&mut self) -> Option<tokio::sync::oneshot::Receiver<()>> {
        self.shutting_down = true;
        self.send_ticks();
        self.holdings = None;
        if let Wire::Kiwoom(link) = &mut self.wire {
            self.trades.take_all();
            self.account = None;
            let frames = link.shutdown();
            if frames.is_empty() {
                return None;
            }
            self.send_all(frames);
            let (answered, on_answered) = tokio::sync::oneshot::channel();
            self.closing = Some(answered);
            return Some(on_answered);
        }
        for (t, market) in self.trades.take_all() {
            self.register_trades(t, market, TrType::UnregisterMarket);
        }
        for a in std::mem::take(&mut self.alerts).into_keys() {
            self.register_alert(&a, TrType::UnregisterMarket);
        }
        if self.account.take().is_some() {
            self.send_registration(TrType::UnregisterAccount, "SC0", "");
        }
        None
    }

    /// Closes the socket once `answered` is told or [`CLOSE_TIMEOUT`] passes, then stops.
    fn close_when_answered(
        &mut self,
        answered: tokio::sync::oneshot::Receiver<()>,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(
            async move { tokio::time::timeout(CLOSE_TIMEOUT, answered).await.is_ok() }
                .into_actor(self)
                .map(|answered, act, ctx| {
                    if !answered {
                        log::warn!(target: LOG, "the unregistrations were not all answered in {CLOSE_TIMEOUT:?}; closing anyway");
                    }
                    // Dropping the sender ends the writer after it has sent what is queued.
                    act.out = None;
                    act.stats.connected = false;
                    ctx.stop();
                }),
        );
    }
}

/// Unregister everything still registered, close the socket cleanly and answer once the
/// last frame is written. Feeds stopping later find nothing left to unregister.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// The longest [`Shutdown`] waits for the websocket's writer to send what is queued and
/// close; on Kiwoom, first as long again for the unregistrations' answers.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

impl Handler<Shutdown> for BrokerSession {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) -> Self::Result {
        let answered = self.unregister_everything();
        log::info!(target: LOG, "unregistered every feed; closing the websocket");
        let writer = self.writer.take();
        let mut wait = CLOSE_TIMEOUT;
        match answered {
            // Kiwoom: the socket closes once the broker has answered.
            Some(answered) => {
                wait += CLOSE_TIMEOUT;
                self.close_when_answered(answered, ctx);
            }
            None => {
                // Dropping the sender ends the writer after it has sent what is queued.
                self.out = None;
                self.stats.connected = false;
                ctx.stop();
            }
        }
        Box::pin(async move {
            if let Some(w) = writer {
                let _ = tokio::time::timeout(wait, w).await;
            }
        })
    }
}

impl Handler<WatchHoldings> for BrokerSession {
    type Result = ();
    fn handle(&mut self, msg: WatchHoldings, _: &mut Context<Self>) {
        if matches!(self.wire, Wire::Ls) {
            log::debug!(target: LOG, "LS sends no realtime positions: the holdings watcher will hear nothing");
        }
        self.holdings = Some(msg.to);
    }
}

/// What the LS session answers a condition request: LS runs conditions over REST.
const LS_CONDITIONS: &str = "LS lists and registers conditions over REST (t1866/t1860)";

impl Handler<ListConditions> for BrokerSession {
    type Result = ResponseFuture<Result<Vec<SavedCondition>, SessionRefusal>>;
    fn handle(&mut self, _: ListConditions, _: &mut Context<Self>) -> Self::Result {
        let (answer, answered) = tokio::sync::oneshot::channel();
        match &mut self.wire {
            Wire::Ls => {
                let _ = answer.send(Err(SessionRefusal::NotOnThisWire(LS_CONDITIONS)));
            }
            Wire::Kiwoom(link) => {
                let frames = link.list(answer);
                self.send_all(frames);
            }
        }
        Box::pin(async move {
            answered.await.unwrap_or(Err(SessionRefusal::ShutDown {
                request: "CNSRLST".into(),
            }))
        })
    }
}

impl Handler<StartCondition> for BrokerSession {
    type Result = ResponseFuture<Result<Vec<String>, SessionRefusal>>;
    fn handle(&mut self, msg: StartCondition, _: &mut Context<Self>) -> Self::Result {
        let (answer, answered) = tokio::sync::oneshot::channel();
        match &mut self.wire {
            Wire::Ls => {
                let _ = answer.send(Err(SessionRefusal::NotOnThisWire(LS_CONDITIONS)));
            }
            Wire::Kiwoom(link) => {
                let frames = link.start(&msg.key, msg.to, answer);
                self.send_all(frames);
            }
        }
        let request = format!("CNSRREQ {}", msg.key);
        Box::pin(async move {
            answered
                .await
                .unwrap_or(Err(SessionRefusal::ShutDown { request }))
        })
    }
}

impl Handler<GetSessionStats> for BrokerSession {
    type Result = MessageResult<GetSessionStats>;
    fn handle(&mut self, _: GetSessionStats, _: &mut Context<Self>) -> Self::Result {
        let mut stats = self.stats;
        stats.decode_latency = Percentiles::of(&self.decode_latency);
        stats.ticks = self.backlog.counts().routed;
        stats.max_in_flight = self.backlog.high_water();
        MessageResult(stats)
    }
}

impl Handler<crate::messages::Retire> for BrokerSession {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Retire, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
