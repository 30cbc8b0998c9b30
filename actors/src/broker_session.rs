//! BrokerSession: the one websocket to the broker. Registers and unregisters realtime
//! feeds, routes S3_/K3_ trades to the StockFeed that asked for the ticker and AFR
//! alerts to whoever watches the condition, stamps every trade with a per-session
//! sequence number, pings, and reconnects with capped, jittered backoff, registering
//! every live subscription again.
//!
//! Every frame carries the token current when it is sent (a renewed one from its
//! `TokenSource`); before each connection an expired token is renewed first, and a
//! registration refused for its token is made once more with a new one.
//!
//! Owns the socket, the routing tables and which registrations were refused for their
//! token. Must never block: frames leave through a writer task, and a bad frame is
//! counted and logged, never a reason to stop.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use futures_util::{SinkExt, StreamExt};
use rustc_hash::FxHashMap;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message as WsMessage};

use crate::ls_rest::TokenSource;
use crate::market::{Market, Ticker};
use crate::messages::FeedId;
use crate::messages::{
    AccountEvent, ConditionAlert, Deliver, GetSessionStats, Percentiles, ReconcileOrders,
    SessionStats, SubscribeTrades, Tick, UnsubscribeTrades, WatchAccount, WatchCondition,
};
use crate::processor::{latency_histogram, nanos_since};
use crate::telemetry::Meters;
use crate::tick_backlog::TickBacklog;
use crate::tick_hand_off::TickHandOff;
use crate::wire::realtime::{
    decode_incoming, encode_registration, is_account_feed, Ack, Incoming, ServerFrame, TrType,
    TradeFields,
};
use crate::wire::rest::is_token_refusal;

/// Bytes the websocket reader asks the socket for at a time. tungstenite zero-fills that
/// much buffer before every read, including the read that finds the socket empty: at its
/// 128 KiB default, 8% of the engine thread's samples in a perf profile at 200 ticks/s,
/// CPU spent for nothing (the latency figures did not move measurably). 8 KiB still
/// takes a dozen LS trade frames per read syscall in a burst.
const READ_BUFFER_BYTES: usize = 8 * 1024;

/// How long the session waits for the Processor before it reads on regardless.
const BACKLOG_STALL: Duration = Duration::from_secs(1);

const LOG: &str = "condor::session";

/// Reconnect and liveness settings.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    pub ws_url: String,
    /// Where the token in every registration frame comes from: `LsRest::token_source()`
    /// (renewed), or a fixed token.
    pub token: TokenSource,
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
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(10),
            ping_every: Duration::from_secs(10),
            stale_after: Duration::from_secs(60),
            hand_off_below_per_ms: crate::tick_hand_off::DEFAULT_LIMIT_PER_MS,
        }
    }
}

/// Where one ticker's trades go, and how many went there (for the ticks a stopping feed
/// never handled: see `UnsubscribeTrades`).
struct Route {
    market: Market,
    feed: Recipient<Deliver<Tick>>,
    feed_id: FeedId,
    routed: u64,
}

pub struct BrokerSession {
    cfg: SessionConfig,
    out: Option<mpsc::UnboundedSender<WsMessage>>,
    /// Bumped per connection, so a stale stream's end does not tear down a new one.
    generation: u64,
    trades: FxHashMap<Ticker, Route>,
    /// Ticks routed to feeds whose route a newer feed took over before they unsubscribed
    /// (a fast exit and re-enter), kept until their unsubscribe counts the dropped ones.
    replaced: HashMap<FeedId, u64>,
    alerts: HashMap<String, Recipient<ConditionAlert>>,
    account: Option<Recipient<Deliver<AccountEvent>>>,
    /// Told after a reconnect: account events of the gap are lost.
    account_reconnect: Option<Recipient<ReconcileOrders>>,
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
    /// Socket read → tick handed to its feed, ns.
    decode_latency: hdrhistogram::Histogram<u64>,
    meters: Option<Arc<Meters>>,
    hand_off: TickHandOff,
    /// Ticks in flight to the Processor; the session stops reading at its limit.
    backlog: Option<Arc<TickBacklog>>,
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
        BrokerSession {
            hand_off: TickHandOff::new(cfg.hand_off_below_per_ms),
            backlog: None,
            backlog_full: false,
            cfg,
            out: None,
            generation: 0,
            trades: FxHashMap::default(),
            replaced: HashMap::new(),
            alerts: HashMap::new(),
            account: None,
            account_reconnect: None,
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

    /// Counts ticks, drops, reconnects and malformed frames into `meters`.
    pub fn with_meters(mut self, meters: Option<Arc<Meters>>) -> BrokerSession {
        self.meters = meters;
        self
    }

    /// Stops reading the socket while `backlog`'s limit of ticks is in flight to the
    /// Processor (which must be given the same backlog).
    /// Records a marker on the tape at each reconnect.
    pub fn with_tape(mut self, recorder: Option<crate::tape::TapeRecorder>) -> BrokerSession {
        self.tape = recorder;
        self
    }

    pub fn with_backlog(mut self, backlog: Arc<TickBacklog>) -> BrokerSession {
        self.backlog = Some(backlog);
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
        self.send_registration(tr_type, market.trade_tr(), ticker.as_str());
    }

    fn register_alert(&mut self, alert_num: &str, tr_type: TrType) {
        self.send_registration(tr_type, "AFR", alert_num);
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        crate::ls_rest::install_tls_provider();
        let url = self.cfg.ws_url.clone();
        let token = self.cfg.token.clone();
        ctx.spawn(
            async move {
                // The registrations right after connecting need a valid token.
                token.refresh_if_expired().await;
                let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER_BYTES);
                tokio_tungstenite::connect_async_with_config(url, Some(config), true).await
            }
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok((ws, _)) => act.on_connected(ws, ctx),
                Err(e) => {
                    log::warn!(target: LOG, "websocket connect to {} failed: {e}", act.cfg.ws_url);
                    act.reconnect_later(ctx);
                }
            }),
        );
    }

    fn on_connected(
        &mut self,
        ws: tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        ctx: &mut Context<Self>,
    ) {
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
        // Each item carries its connection's generation; `None` marks the stream's end.
        ctx.add_stream(stream.map(move |m| (generation, Some(m))).chain(
            futures_util::stream::once(async move { (generation, None) }),
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
        self.token_retried.clear();
        let trades: Vec<(Ticker, Market)> =
            self.trades.iter().map(|(t, r)| (*t, r.market)).collect();
        for (t, market) in trades {
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

    /// One SC registration turns on all five account feeds (SC0–SC4).
    fn register_account(&mut self) {
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
            if let Some(market) = self.trades.get(&ticker).map(|r| r.market) {
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
        if self.shutting_down {
            return;
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
        let tick = body.to_tick(received_at);
        match tick {
            Ok(mut tick) => {
                if let Some(m) = &self.meters {
                    m.session_ticks_received.inc();
                }
                match self.trades.get_mut(&tick.ticker) {
                    Some(route) => {
                        self.seq += 1;
                        self.stats.ticks += 1;
                        tick.seq = self.seq;
                        route.routed += 1;
                        route.feed.do_send(Deliver(tick));
                        if let Some(b) = &self.backlog {
                            self.backlog_full |= b.routed();
                        }
                        if let Some(m) = &self.meters {
                            m.session_ticks_routed.inc();
                        }
                        let _ = self.decode_latency.record(nanos_since(received_at));
                    }
                    None => self.stats.unrouted += 1,
                }
            }
            Err(e) => match body.ticker() {
                Ok(ticker) if !self.malformed_tickers.insert(ticker) => self.count_malformed(),
                Ok(ticker) => {
                    let why = format!("{e}; further ones for {ticker} are counted, not logged");
                    self.malformed(&why, text);
                }
                Err(_) => self.malformed(&e.to_string(), text),
            },
        }
    }

    /// Reads nothing more until the Processor is down to half the backlog's limit; the
    /// feeds and the Processor run meanwhile, and TCP holds the sender back.
    fn wait_for_processor(&mut self, ctx: &mut Context<Self>) {
        let Some(backlog) = self.backlog.clone() else {
            return;
        };
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
                    // No tick taken in all that time: a count went astray (a tick lost
                    // without being forgiven). Reading must not stop for good over it.
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

    fn started(&mut self, ctx: &mut Context<Self>) {
        self.connect(ctx);
        ctx.run_interval(self.cfg.ping_every, |act, _| {
            if let Some(out) = &act.out {
                let _ = out.send(WsMessage::Ping(Vec::new().into()));
            }
        });
        let check = (self.cfg.stale_after / 4).max(Duration::from_millis(50));
        ctx.run_interval(check, |act, ctx| {
            let watching = !act.trades.is_empty() || !act.alerts.is_empty();
            if act.out.is_some() && watching && act.last_frame.elapsed() > act.cfg.stale_after {
                log::warn!(target: LOG, "no frame for {:?}: treating the link as dead", act.last_frame.elapsed());
                act.generation += 1; // the old stream's end is now ignored
                act.stats.reconnects += 1;
                if let Some(m) = &act.meters {
                    m.reconnects.inc();
                }
                act.reconnect_later(ctx);
            }
        });
    }
}

type Frame = (u64, Option<Result<WsMessage, WsError>>);

impl StreamHandler<Frame> for BrokerSession {
    fn handle(&mut self, (generation, msg): Frame, ctx: &mut Context<Self>) {
        if generation != self.generation {
            return; // a replaced connection
        }
        let received_at = Instant::now();
        match msg {
            Some(Ok(WsMessage::Text(text))) => {
                self.last_frame = received_at;
                self.stats.frames += 1;
                let routed = self.seq;
                self.on_text(text.as_str(), received_at, ctx);
                let hand_off = self.hand_off.after_frame(received_at);
                if std::mem::take(&mut self.backlog_full) {
                    self.wait_for_processor(ctx);
                } else if hand_off && self.seq != routed {
                    // The feed and the Processor take this tick before the next frame.
                    ctx.wait(tokio::task::yield_now().into_actor(self));
                }
            }
            Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => {
                log::warn!(
                    target: LOG,
                    "websocket dropped; {} trade feed(s) and {} condition(s) will be registered again",
                    self.trades.len(),
                    self.alerts.len()
                );
                self.generation += 1;
                self.stats.reconnects += 1;
                if let Some(m) = &self.meters {
                    m.reconnects.inc();
                }
                self.reconnect_later(ctx);
            }
            Some(Ok(_)) => self.last_frame = received_at,
        }
    }

    /// A stream ended; `handle` already saw its end marker. The actor lives on.
    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<SubscribeTrades> for BrokerSession {
    type Result = ();
    fn handle(&mut self, msg: SubscribeTrades, _: &mut Context<Self>) {
        let route = Route {
            market: msg.market,
            feed: msg.feed,
            feed_id: msg.feed_id,
            routed: 0,
        };
        match self.trades.insert(msg.ticker, route) {
            None => self.register_trades(msg.ticker, msg.market, TrType::RegisterMarket),
            // Already registered: the new feed takes the route over; the old one's
            // unsubscribe, still on its way, must not remove it.
            Some(old) if old.feed_id != msg.feed_id => {
                log::debug!(target: LOG, "{} feed {:?} takes over from {:?}", msg.ticker, msg.feed_id, old.feed_id);
                self.replaced.insert(old.feed_id, old.routed);
            }
            Some(_) => {}
        }
    }
}

impl Handler<UnsubscribeTrades> for BrokerSession {
    type Result = ();
    fn handle(&mut self, msg: UnsubscribeTrades, _: &mut Context<Self>) {
        let routed = match self.trades.get(&msg.ticker) {
            Some(route) if route.feed_id == msg.feed_id => {
                let route = self.trades.remove(&msg.ticker).expect("just seen");
                self.register_trades(msg.ticker, route.market, TrType::UnregisterMarket);
                route.routed
            }
            // A newer feed owns the route now: only the count is settled.
            _ => match self.replaced.remove(&msg.feed_id) {
                Some(routed) => routed,
                None => return,
            },
        };
        // Ticks sent after the feed stopped were never handled: the mailbox had closed.
        let dropped = routed.saturating_sub(msg.handled);
        if let Some(b) = &self.backlog {
            b.forgive(dropped);
        }
        if let Some(m) = self.meters.as_ref().filter(|_| dropped > 0) {
            m.feed_ticks_dropped.inc_by(dropped);
        }
        if dropped > 0 {
            log::debug!(target: LOG, "{} {dropped} tick(s) arrived after its feed stopped", msg.ticker);
        }
    }
}

impl Handler<WatchCondition> for BrokerSession {
    type Result = ();
    fn handle(&mut self, msg: WatchCondition, _: &mut Context<Self>) {
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

/// Unregister everything still registered, close the socket cleanly and answer once the
/// last frame is written. Feeds stopping later find nothing left to unregister.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct Shutdown;

/// The longest [`Shutdown`] waits for the websocket's writer to send what is queued and
/// close.
pub const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

impl Handler<Shutdown> for BrokerSession {
    type Result = ResponseFuture<()>;
    fn handle(&mut self, _: Shutdown, ctx: &mut Context<Self>) -> Self::Result {
        self.shutting_down = true;
        for (t, route) in std::mem::take(&mut self.trades) {
            self.register_trades(t, route.market, TrType::UnregisterMarket);
        }
        self.replaced.clear();
        for a in std::mem::take(&mut self.alerts).into_keys() {
            self.register_alert(&a, TrType::UnregisterMarket);
        }
        if self.account.take().is_some() {
            self.send_registration(TrType::UnregisterAccount, "SC0", "");
        }
        log::info!(target: LOG, "unregistered every feed; closing the websocket");
        // Dropping the sender ends the writer after it has sent what is queued.
        self.out = None;
        self.stats.connected = false;
        let writer = self.writer.take();
        ctx.stop();
        Box::pin(async move {
            if let Some(w) = writer {
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, w).await;
            }
        })
    }
}

impl Handler<GetSessionStats> for BrokerSession {
    type Result = MessageResult<GetSessionStats>;
    fn handle(&mut self, _: GetSessionStats, _: &mut Context<Self>) -> Self::Result {
        let mut stats = self.stats;
        stats.decode_latency = Percentiles::of(&self.decode_latency);
        stats.max_in_flight = self.backlog.as_ref().map_or(0, |b| b.high_water());
        MessageResult(stats)
    }
}

impl Handler<crate::messages::Retire> for BrokerSession {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Retire, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
