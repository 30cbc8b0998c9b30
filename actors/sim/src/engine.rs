//! The simulator's single owner of state: the `Exchange`, issued tokens, rate limits and
//! every websocket session's registrations. REST calls, websocket frames and the market
//! clock all arrive here as commands, one at a time, so replies and pushed frames leave
//! in a consistent order (an unregister's ack is the last frame of that subscription).
//!
//! Must never block or await a client: frames go out through each session's bounded
//! queue, and a session that cannot keep up is dropped, not waited for (except in
//! firehose mode and a tape at `max`, whose point is to go exactly as fast as the clients).
//!
//! A tape (see `SimConfig::tape_*`) starts when the first client registers AFR or S3_/K3_
//! (plus a short delay). At speed N the clock tick plays what is due by `elapsed × N`; at
//! `max` it plays in bursts whenever every session has fewer than `FIREHOSE_INFLIGHT`
//! batches in flight (so none is ever dropped), and holds a trade of a ticker that just
//! entered the condition until a session registers that ticker (or the grace passes). The
//! exchange gets the tape's time as `now_ms` (frozen at the last record once played);
//! tokens and rate limits keep real time.
//!
//! With a clock spec (`SimConfig::clock`, `CONDOR_CLOCK`) the exchange's `now_ms`, the
//! rate limits and the tokens' lifetimes all read the scaled market clock, the same one
//! condor computes from the same spec: `now_ms` is market milliseconds since the spec's
//! start.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use condor_model::clock::{Clock, ScaledClock};
use condor_model::market::Ticker;
use condor_model::wire::realtime::{self as rt, TrType};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::{Bytes, Message, Utf8Bytes};

use super::auth::Tokens;
use super::exchange::rate_limit::RateLimiter;
use super::exchange::{Event, Exchange, TapeItem};
use super::http::{HttpReply, RestCall};
use super::kiwoom::http::KiwoomReply;
use super::{kiwoom, render, tr, Protocol, SimConfig, TapeSpeed};

/// Batches a session may have queued before the engine stops feeding it.
pub(crate) const SESSION_QUEUE: usize = 1024;
/// AFR frames kept per alert while nobody listens.
const UNHEARD_ALERT_FRAMES: usize = 10_000;
/// Firehose: trades generated per burst, and batches in flight per session.
const FIREHOSE_BURST: usize = 1024;
const FIREHOSE_INFLIGHT: usize = 4;

/// What the engine sends a websocket writer.
pub(crate) enum Outgoing {
    Frames(Vec<Message>),
    /// Close the connection abruptly (no close frame): a network fault.
    Drop,
}

pub(crate) enum Command {
    Token {
        form: Vec<(String, String)>,
        reply: oneshot::Sender<HttpReply>,
    },
    Revoke {
        form: Vec<(String, String)>,
        reply: oneshot::Sender<HttpReply>,
    },
    Tr {
        call: RestCall,
        reply: oneshot::Sender<HttpReply>,
    },
    /// Kiwoom `/oauth2/token` (or `/oauth2/revoke`), a JSON body.
    KiwoomToken {
        body: axum::body::Bytes,
        revoke: bool,
        reply: oneshot::Sender<KiwoomReply>,
    },
    /// A Kiwoom TR (`api-id` in `call.tr_cd`).
    KiwoomTr {
        call: RestCall,
        reply: oneshot::Sender<KiwoomReply>,
    },
    WsOpen {
        id: u64,
        out: mpsc::Sender<Outgoing>,
        inflight: Arc<AtomicUsize>,
    },
    WsText {
        id: u64,
        text: Utf8Bytes,
    },
    WsClosed {
        id: u64,
    },
    DropConnections,
    Subscriptions {
        reply: oneshot::Sender<SubscriptionReport>,
    },
    Stats {
        reply: oneshot::Sender<SimStats>,
    },
    /// A websocket sent a trade frame with an absurd number (the `absurd_share` fault).
    AbsurdFrameSent,
}

/// What the market has printed so far, for tests that count what they received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimStats {
    pub trades: u64,
    /// Trades printed per ticker, for every ticker that traded.
    pub trades_by_ticker: Vec<(Ticker, u64)>,
    /// Access tokens issued at `/oauth2/token` since the start.
    pub tokens_issued: u64,
    /// REST calls and websocket registrations refused because their token had expired.
    pub expired_token_refusals: u64,
    /// The REST calls among them (each never reached its TR).
    pub expired_rest_refusals: u64,
    /// Trade frames sent with an absurd number (the `absurd_share` fault).
    pub absurd_frames: u64,
}

impl SimStats {
    /// `/sim/stats`: the counts as JSON, trades per ticker by code.
    pub fn to_json(&self) -> serde_json::Value {
        let by_ticker: serde_json::Map<String, serde_json::Value> = self
            .trades_by_ticker
            .iter()
            .map(|(t, n)| (t.to_string(), (*n).into()))
            .collect();
        serde_json::json!({
            "trades": self.trades,
            "trades_by_ticker": by_ticker,
            "tokens_issued": self.tokens_issued,
            "expired_token_refusals": self.expired_token_refusals,
            "expired_rest_refusals": self.expired_rest_refusals,
            "absurd_frames": self.absurd_frames,
        })
    }
}

/// What one websocket session is registered for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionSubscriptions {
    pub session: u64,
    /// `(tr_cd, tr_key)` of market-data registrations, e.g. `("S3_", "005930")`.
    pub market: Vec<(String, String)>,
    /// Registered for the account feed (SC0–SC4).
    pub account: bool,
    /// `sAlertNum`s of AFR registrations.
    pub alerts: Vec<String>,
}

/// Every live session's registrations, for tests and `/sim/subscriptions`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SubscriptionReport {
    pub sessions: Vec<SessionSubscriptions>,
}

impl serde::Serialize for SessionSubscriptions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("SessionSubscriptions", 4)?;
        st.serialize_field("session", &self.session)?;
        st.serialize_field("market", &self.market)?;
        st.serialize_field("account", &self.account)?;
        st.serialize_field("alerts", &self.alerts)?;
        st.end()
    }
}

impl SubscriptionReport {
    /// How many sessions are registered for this ticker's trades (S3_ or K3_).
    pub fn trade_subscribers(&self, ticker: &str) -> usize {
        self.sessions
            .iter()
            .map(|s| s.market.iter().filter(|(_, k)| k == ticker).count())
            .sum()
    }

    /// Every ticker with at least one live trade registration, sorted.
    pub fn subscribed_tickers(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .sessions
            .iter()
            .flat_map(|s| s.market.iter().map(|(_, k)| k.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Tape mode: when the tape runs and, at full speed, what it waits for.
struct Player {
    speed: TapeSpeed,
    start_delay: Duration,
    grace: Duration,
    /// Tape time 0 in real time: `start_delay` after the first registration.
    zero: Option<Instant>,
    /// Full speed: tickers whose entry a listening client was just sent, each with the
    /// instant its next trade stops waiting for a registration.
    awaiting: HashMap<Ticker, Instant>,
    finished: bool,
}

/// What a tape at full speed can do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TapePoll {
    /// Not playing at full speed, not started, finished, or holding for a registration.
    Idle,
    Play,
    /// A session has `FIREHOSE_INFLIGHT` batches in flight: wait for a writer.
    Drain,
}

pub(crate) struct Session {
    pub(crate) out: mpsc::Sender<Outgoing>,
    inflight: Arc<AtomicUsize>,
    pub(crate) pending: Vec<Message>,
    pub(crate) market: Vec<(&'static str, Ticker)>,
    account: bool,
    alerts: Vec<String>,
    /// Kiwoom mode: the connection's login, feeds and conditions.
    pub(crate) kiwoom: kiwoom::session::KiwoomSession,
}

/// The state behind the commands; `tr` handlers borrow it.
pub(crate) struct SimState {
    /// The wire the sessions and REST calls speak.
    pub(crate) protocol: Protocol,
    /// Kiwoom mode: PING interval.
    pub(crate) ping_interval: Duration,
    /// Kiwoom mode: won filled so far per order (REAL 00's `903`), from its fills.
    pub(crate) filled_amount: HashMap<i64, i64>,
    pub(crate) exchange: Exchange,
    pub(crate) tokens: Tokens,
    pub(crate) limiter: RateLimiter,
    pub(crate) paper: bool,
    /// Kiwoom mode: answering as the other server (`SimConfig::kiwoom_other_host`).
    pub(crate) other_host: bool,
    /// REST calls refused for an expired token.
    pub(crate) expired_rest_refusals: u64,
    /// Trade frames the `absurd_share` fault rewrote.
    absurd_frames: u64,
    started: Instant,
    /// A scaled clock and the market's Unix ms at its start (`now_ms = 0`).
    scaled: Option<(Arc<dyn Clock>, i64)>,
    pub(crate) sessions: BTreeMap<u64, Session>,
    /// `(session, tr_cd)` registered for each ticker's trades. A Vec, not a set: an
    /// entry appears at most once because registration is idempotent.
    pub(crate) by_ticker: HashMap<Ticker, Vec<(u64, &'static str)>>,
    /// Trade frames of one dispatch, rendered into one buffer (one allocation per batch).
    render_buf: String,
    frame_ranges: Vec<std::ops::Range<usize>>,
    pub(crate) by_alert: HashMap<String, Vec<u64>>,
    /// Kiwoom: the exchange's alert for each realtime condition (`seq`), registered at its
    /// first CNSRREQ and kept for the sim's life. The screener runs at the broker, not in a
    /// connection: a client that reconnects and asks again joins the same condition (a
    /// scripted one does not start its script over) and its snapshot is what matches now.
    pub(crate) kiwoom_alerts: HashMap<String, String>,
    /// AFR frames of registered alerts that no session listened to yet, delivered to the
    /// first that does: a test (or a slow client) registering AFR right after t1860 misses
    /// nothing. Bounded per alert.
    unheard: HashMap<String, std::collections::VecDeque<Utf8Bytes>>,
    pub(crate) events: Vec<Event>,
    firehose: bool,
    /// Trades the firehose may still send (`None`: no end).
    firehose_left: Option<u64>,
    /// Tape mode.
    player: Option<Player>,
}

pub(crate) async fn run(
    cfg: SimConfig,
    mut commands: mpsc::UnboundedReceiver<Command>,
    drained: Arc<Notify>,
) {
    let mut limiter = RateLimiter::ls_defaults();
    if cfg.protocol == Protocol::Kiwoom {
        for api_id in kiwoom::tr::SERVED.iter().chain(&["au10001"]) {
            limiter.set_limit(api_id, kiwoom::tr::LIMIT_PER_SEC);
        }
    }
    limiter.set_enabled(cfg.rate_limits);
    let player = cfg.exchange.tape.as_ref().map(|day| {
        log::info!(
            target: "condor::sim",
            "tape mode: condition {} {:?}: {} trades of {} tickers and {} condition events over {:.1} s, clock from {}, speed {}; it plays {:.1} s after the first client registers AFR or a ticker's trades",
            super::exchange::TAPE_QUERY_INDEX,
            day.name(),
            day.trades(),
            day.tickers().len(),
            day.condition_events(),
            day.end_ms() as f64 / 1000.0,
            day.start_time(),
            cfg.tape_speed,
            cfg.tape_start_delay.as_secs_f64(),
        );
        Player {
            speed: cfg.tape_speed,
            start_delay: cfg.tape_start_delay,
            grace: cfg.tape_subscribe_grace,
            zero: None,
            awaiting: HashMap::new(),
            finished: false,
        }
    });
    if player.is_some() && cfg.firehose {
        log::warn!(target: "condor::sim", "tape mode: the firehose is off (the tape is the market)");
    }
    let scaled = cfg.clock.filter(|_| player.is_none()).map(|spec| {
        log::info!(target: "condor::sim", "clock: {spec} (CONDOR_CLOCK)");
        // The exchange's calendar: the clock idles through its closures, as condor's does.
        let clock: Arc<dyn Clock> = Arc::new(ScaledClock::with_calendar(
            spec,
            cfg.exchange.calendar.clone(),
        ));
        (clock, spec.start_unix_ms())
    });
    let mut tokens = Tokens::new(cfg.appkey.clone(), cfg.appsecret.clone(), cfg.token_ttl);
    if let Some((clock, _)) = &scaled {
        tokens = tokens.with_clock(clock.clone());
    }
    let mut exchange_cfg = cfg.exchange.clone();
    if let Some(spec) = cfg.clock {
        // The spec names the start; the exchange's day begins there.
        exchange_cfg.start_time = spec.start_time;
        exchange_cfg.first_day = Some(spec.start_day);
    }
    let mut state = SimState {
        protocol: cfg.protocol,
        ping_interval: cfg.kiwoom_ping_interval,
        filled_amount: HashMap::new(),
        exchange: Exchange::new(exchange_cfg),
        tokens,
        scaled,
        limiter,
        paper: cfg.paper,
        other_host: cfg.kiwoom_other_host,
        expired_rest_refusals: 0,
        absurd_frames: 0,
        started: Instant::now(),
        sessions: BTreeMap::new(),
        by_ticker: HashMap::new(),
        render_buf: String::new(),
        frame_ranges: Vec::new(),
        by_alert: HashMap::new(),
        kiwoom_alerts: HashMap::new(),
        unheard: HashMap::new(),
        events: Vec::with_capacity(FIREHOSE_BURST * 2),
        firehose: cfg.firehose && player.is_none(),
        firehose_left: cfg.firehose_trades,
        player,
    };
    let mut clock = tokio::time::interval(cfg.step);
    clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let can_burst = state.firehose && state.firehose_ready();
        let tape = state.tape_poll();
        let play = tape == TapePoll::Play;
        let must_wait = (state.firehose && !can_burst && !state.by_ticker.is_empty())
            || tape == TapePoll::Drain;
        tokio::select! {
            biased;
            cmd = commands.recv() => match cmd {
                Some(cmd) => state.handle(cmd),
                None => return,
            },
            _ = std::future::ready(()), if can_burst => {
                state.burst();
                // Let writers and REST in between bursts.
                tokio::task::yield_now().await;
            }
            _ = std::future::ready(()), if play => {
                state.tape_burst();
                tokio::task::yield_now().await;
            }
            _ = drained.notified(), if must_wait => {}
            // The clock also drives scripted conditions and order matching in firehose mode,
            // a tape at speed N, and a held tape's start and grace at `max`.
            _ = clock.tick(), if !can_burst && !must_wait && !play => state.advance(),
        }
    }
}

impl SimState {
    /// Real milliseconds since the simulator started (tokens, rate limits); on a scaled
    /// clock, market milliseconds since its start.
    pub(crate) fn now_ms(&self) -> u64 {
        match &self.scaled {
            Some((clock, zero)) => u64::try_from(clock.unix_ms() - zero).unwrap_or(0),
            None => self.started.elapsed().as_millis() as u64,
        }
    }

    /// The exchange's `now_ms`: real time, or in tape mode the tape's time (0 before it
    /// starts; `elapsed × N` at speed N, never past the last record; the last record
    /// played at `max`).
    pub(crate) fn market_ms(&self) -> u64 {
        let Some(p) = &self.player else {
            return self.now_ms();
        };
        let Some(elapsed) = p
            .zero
            .and_then(|z| Instant::now().checked_duration_since(z))
        else {
            return 0;
        };
        let position = self.exchange.tape_position_ms();
        match p.speed {
            TapeSpeed::Max => position,
            TapeSpeed::Times(x) => {
                let ms = (elapsed.as_secs_f64() * 1000.0 * x) as u64;
                ms.min(self.exchange.tape_end_ms()).max(position)
            }
        }
    }

    /// The first AFR or S3_/K3_ registration (Kiwoom: REG 0B or CNSRREQ) starts the
    /// tape's countdown.
    pub(crate) fn tape_trigger(&mut self) {
        let Some(p) = self.player.as_mut() else {
            return;
        };
        if p.zero.is_none() {
            p.zero = Some(Instant::now() + p.start_delay);
            log::info!(target: "condor::sim", "tape: a client registered; playing in {:.1} s at speed {}", p.start_delay.as_secs_f64(), p.speed);
        }
    }

    /// Full speed: whether to play now, wait for a writer, or idle until the next command
    /// or clock tick (not started, finished, or a trade held for a registration).
    fn tape_poll(&mut self) -> TapePoll {
        let Some(p) = self.player.as_mut() else {
            return TapePoll::Idle;
        };
        if p.speed != TapeSpeed::Max || p.finished {
            return TapePoll::Idle;
        }
        let now = Instant::now();
        if p.zero.is_none_or(|z| now < z) {
            return TapePoll::Idle;
        }
        let by_ticker = &self.by_ticker;
        p.awaiting
            .retain(|t, until| !by_ticker.contains_key(t) && now < *until);
        match self.exchange.tape_peek() {
            None => return TapePoll::Idle,
            Some(TapeItem::Trade { trade, .. }) if p.awaiting.contains_key(&trade.ticker) => {
                return TapePoll::Idle
            }
            Some(_) => {}
        }
        let room = self
            .sessions
            .values()
            .all(|s| s.inflight.load(Ordering::Acquire) < FIREHOSE_INFLIGHT);
        if room {
            TapePoll::Play
        } else {
            TapePoll::Drain
        }
    }

    /// Full speed: one burst of the tape, sent, then the checks it calls for.
    fn tape_burst(&mut self) {
        let Some(p) = self.player.as_ref() else {
            return;
        };
        let mut events = std::mem::take(&mut self.events);
        let awaiting = &p.awaiting;
        let step =
            self.exchange
                .play_tape(FIREHOSE_BURST, |t| awaiting.contains_key(&t), &mut events);
        self.events = events;
        self.dispatch_events();
        if let Some(ticker) = step.entered {
            let listened = self.by_alert.values().any(|v| !v.is_empty());
            if listened && !self.by_ticker.contains_key(&ticker) {
                if let Some(p) = self.player.as_mut() {
                    p.awaiting.insert(ticker, Instant::now() + p.grace);
                }
            }
        }
        self.tape_finished_check();
    }

    /// Logs the end of the tape, once.
    fn tape_finished_check(&mut self) {
        let Some(p) = self.player.as_mut() else {
            return;
        };
        if p.finished || p.zero.is_none() || self.exchange.tape_peek().is_some() {
            return;
        }
        p.finished = true;
        p.awaiting.clear();
        if let Some(pr) = self.exchange.tape_progress() {
            let clock = self.exchange.clock(pr.position_ms);
            log::info!(
                target: "condor::sim",
                "tape finished: {} trades, {} condition events; the market stays open at {clock} and prints nothing more",
                pr.played_trades,
                pr.played_condition_events
            );
        }
    }

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Token { form, reply } => {
                let now = self.now_ms();
                let r = self.tokens.issue(&form, &mut self.limiter, now);
                let _ = reply.send(r);
            }
            Command::Revoke { form, reply } => {
                let _ = reply.send(self.tokens.revoke(&form));
            }
            Command::Tr { call, reply } => {
                if self
                    .player
                    .as_ref()
                    .is_some_and(|p| matches!(p.speed, TapeSpeed::Times(_)))
                {
                    // The market as of now, before the call sees it.
                    self.advance();
                }
                let r = tr::handle(self, call);
                self.dispatch_events();
                let _ = reply.send(r);
            }
            Command::KiwoomToken {
                body,
                revoke,
                reply,
            } => {
                let _ = reply.send(kiwoom::auth::handle(self, &body, revoke));
            }
            Command::KiwoomTr { call, reply } => {
                if self
                    .player
                    .as_ref()
                    .is_some_and(|p| matches!(p.speed, TapeSpeed::Times(_)))
                {
                    self.advance();
                }
                let r = kiwoom::tr::handle(self, call);
                self.dispatch_events();
                let _ = reply.send(r);
            }
            Command::WsOpen { id, out, inflight } => {
                log::debug!(target: "condor::sim", "websocket session {id} opened");
                self.sessions.insert(
                    id,
                    Session {
                        out,
                        inflight,
                        pending: Vec::new(),
                        market: Vec::new(),
                        account: false,
                        alerts: Vec::new(),
                        kiwoom: kiwoom::session::KiwoomSession::new(Instant::now()),
                    },
                );
            }
            Command::WsText { id, text } => {
                match self.protocol {
                    Protocol::Ls => self.client_frame(id, &text),
                    Protocol::Kiwoom => kiwoom::session::client_frame(self, id, &text),
                }
                self.flush();
            }
            Command::WsClosed { id } => self.remove_session(id),
            Command::DropConnections => {
                log::info!(target: "condor::sim", "dropping {} websocket connection(s) on request", self.sessions.len());
                for s in self.sessions.values() {
                    let _ = s.out.try_send(Outgoing::Drop);
                }
            }
            Command::Subscriptions { reply } => {
                let _ = reply.send(self.report());
            }
            Command::Stats { reply } => {
                let by_ticker = self
                    .exchange
                    .listings()
                    .iter()
                    .filter_map(|l| {
                        let n = self.exchange.quote(l.ticker)?.trades;
                        (n > 0).then_some((l.ticker, n))
                    })
                    .collect();
                let _ = reply.send(SimStats {
                    trades: self.exchange.trade_count(),
                    trades_by_ticker: by_ticker,
                    tokens_issued: self.tokens.issued_count(),
                    expired_token_refusals: self.tokens.expired_refusals(),
                    expired_rest_refusals: self.expired_rest_refusals,
                    absurd_frames: self.absurd_frames,
                });
            }
            Command::AbsurdFrameSent => self.absurd_frames += 1,
        }
    }

    /// t1860 D: the alert is gone, and so are its frames nobody heard.
    pub(crate) fn forget_alert(&mut self, alert_num: &str) {
        self.unheard.remove(alert_num);
    }

    fn report(&self) -> SubscriptionReport {
        SubscriptionReport {
            sessions: self
                .sessions
                .iter()
                .map(|(id, s)| SessionSubscriptions {
                    session: *id,
                    market: s
                        .market
                        .iter()
                        .map(|(tr, t)| (tr.to_string(), t.to_string()))
                        .collect(),
                    account: s.account || s.kiwoom.orders || s.kiwoom.balance,
                    alerts: match self.protocol {
                        Protocol::Ls => s.alerts.clone(),
                        Protocol::Kiwoom => s.kiwoom.condition_seqs(),
                    },
                })
                .collect(),
        }
    }

    fn remove_session(&mut self, id: u64) {
        let Some(s) = self.sessions.remove(&id) else {
            return;
        };
        for (_, t) in &s.market {
            if let Some(v) = self.by_ticker.get_mut(t) {
                v.retain(|(x, _)| *x != id);
                if v.is_empty() {
                    self.by_ticker.remove(t);
                }
            }
        }
        for a in &s.alerts {
            if let Some(v) = self.by_alert.get_mut(a) {
                v.retain(|x| *x != id);
            }
        }
        // Kiwoom: the connection stops hearing its realtime conditions; the conditions
        // themselves run on at the broker (see `kiwoom_alerts`).
        for (_, alert) in &s.kiwoom.conditions {
            if let Some(v) = self.by_alert.get_mut(alert) {
                v.retain(|x| *x != id);
            }
        }
        log::debug!(target: "condor::sim", "websocket session {id} closed");
    }

    /// A registration frame from a client: answer with an ack (or an error ack), in
    /// order with the data frames already queued for that session.
    fn client_frame(&mut self, id: u64, text: &str) {
        let ack = match rt::decode_client_frame(text) {
            Err(e) => {
                log::warn!(target: "condor::sim", "session {id}: malformed client frame: {e}");
                rt::encode_ack("", None, "", "IGW00001", &format!("잘못된 요청입니다: {e}"))
            }
            Ok(reg) => self.register(id, reg),
        };
        if let Some(s) = self.sessions.get_mut(&id) {
            s.pending.push(Message::Text(ack.into()));
            for (alert, frames) in self.unheard.iter_mut() {
                if s.alerts.contains(alert) {
                    s.pending.extend(frames.drain(..).map(Message::Text));
                }
            }
        }
        self.unheard.retain(|_, frames| !frames.is_empty());
    }

    fn register(&mut self, id: u64, reg: rt::Registration) -> String {
        let tr_type = reg.tr_type;
        let tr_cd = reg.tr_cd.clone();
        let key = reg.tr_key.clone();
        let nack =
            |code: &str, msg: &str| rt::encode_ack(&tr_cd, Some(&key), tr_type.code(), code, msg);
        // The reference does not say how LS refuses a registration's token (§5.3: error
        // acks UNCONFIRMED); the REST gateway's codes are the likeliest, so an expired
        // token gets IGW00123 and an unknown one IGW00121, as on REST. Registrations
        // already made stay: LS checks the token in the frame, not on the open socket.
        let now = self.tokens.now();
        if let Some((code, msg)) = self.tokens.check(&reg.token, now).refusal() {
            return nack(code, msg);
        }
        let Some(session) = self.sessions.get_mut(&id) else {
            return nack("IGW00001", "세션이 없습니다.");
        };
        match (tr_type, tr_cd.as_str()) {
            (TrType::RegisterAccount, "SC0" | "SC1" | "SC2" | "SC3" | "SC4") => {
                // One account registration turns on all five SC feeds (as programgarden
                // reports LS does; UNCONFIRMED).
                session.account = true;
            }
            (TrType::UnregisterAccount, _) => session.account = false,
            (TrType::RegisterMarket | TrType::UnregisterMarket, "S3_" | "K3_") => {
                let tr: &'static str = if tr_cd == "S3_" { "S3_" } else { "K3_" };
                // tr_key may concatenate several six-digit codes.
                if key.is_empty() || key.len() % 6 != 0 {
                    return nack("IGW00002", "종목코드가 올바르지 않습니다.");
                }
                let mut tickers = Vec::new();
                for chunk in key.as_bytes().chunks(6) {
                    let code = std::str::from_utf8(chunk).unwrap_or("");
                    match Ticker::parse(code) {
                        Ok(t) if self.exchange.listing(t).is_some() => tickers.push(t),
                        _ => return nack("IGW00002", "종목코드가 올바르지 않습니다."),
                    }
                }
                for t in tickers {
                    let listed = session.market.iter().any(|(x, y)| *x == tr && *y == t);
                    if tr_type == TrType::RegisterMarket && !listed {
                        session.market.push((tr, t));
                        self.by_ticker.entry(t).or_default().push((id, tr));
                    } else if tr_type == TrType::UnregisterMarket && listed {
                        session.market.retain(|(x, y)| !(*x == tr && *y == t));
                        if let Some(v) = self.by_ticker.get_mut(&t) {
                            v.retain(|entry| *entry != (id, tr));
                            if v.is_empty() {
                                self.by_ticker.remove(&t);
                            }
                        }
                    }
                }
            }
            (TrType::RegisterMarket, "AFR") => {
                if !self.exchange.is_alert(&key) {
                    return nack("IGW00002", "등록되지 않은 조건검색입니다.");
                }
                if !session.alerts.contains(&key) {
                    session.alerts.push(key.clone());
                    self.by_alert.entry(key.clone()).or_default().push(id);
                }
            }
            (TrType::UnregisterMarket, "AFR") => {
                session.alerts.retain(|a| *a != key);
                if let Some(v) = self.by_alert.get_mut(&key) {
                    v.retain(|x| *x != id);
                }
            }
            _ => return nack("IGW00003", "지원하지 않는 실시간 TR입니다."),
        }
        if tr_type == TrType::RegisterMarket {
            self.tape_trigger();
        }
        rt::encode_ack(
            &tr_cd,
            Some(&key),
            tr_type.code(),
            "00000",
            "정상처리되었습니다",
        )
    }

    fn advance(&mut self) {
        if let Some(p) = &self.player {
            if p.speed == TapeSpeed::Max || p.zero.is_none_or(|z| Instant::now() < z) {
                return;
            }
        }
        let now = self.market_ms();
        let mut events = std::mem::take(&mut self.events);
        self.exchange.advance(now, &mut events);
        self.events = events;
        self.dispatch_events();
        self.tape_finished_check();
        if self.protocol == Protocol::Kiwoom {
            kiwoom::session::pings(self);
        }
    }

    fn firehose_ready(&self) -> bool {
        !self.by_ticker.is_empty()
            && self.sessions.values().all(|s| {
                s.market.is_empty() || s.inflight.load(Ordering::Acquire) < FIREHOSE_INFLIGHT
            })
    }

    fn burst(&mut self) {
        let now = self.now_ms();
        let n = match self.firehose_left {
            Some(0) => {
                self.firehose = false;
                log::info!(target: "condor::sim", "firehose: counted burst sent ({} trades in all)", self.exchange.trade_count());
                return;
            }
            Some(left) => left.min(FIREHOSE_BURST as u64) as usize,
            None => FIREHOSE_BURST,
        };
        // Only the watched tickers: a trade nobody receives is wasted work.
        let watched: Vec<Ticker> = self.by_ticker.keys().copied().collect();
        let before = self.exchange.trade_count();
        let mut events = std::mem::take(&mut self.events);
        self.exchange.burst_over(&watched, n, now, &mut events);
        if let Some(left) = self.firehose_left.as_mut() {
            *left = left.saturating_sub(self.exchange.trade_count() - before);
        }
        self.events = events;
        self.dispatch_events();
    }

    /// Renders the exchange's events into frames for the sessions registered for them,
    /// then sends each session its batch. Trade frames are rendered first into one
    /// buffer and sliced out of it; every session still gets its frames in event order.
    pub(crate) fn dispatch_events(&mut self) {
        if self.protocol == Protocol::Kiwoom {
            kiwoom::render::dispatch(self);
            self.flush();
            return;
        }
        let mut events = std::mem::take(&mut self.events);
        self.render_buf.clear();
        self.frame_ranges.clear();
        for ev in &events {
            let start = self.render_buf.len();
            if let Event::Trade(t) = ev {
                if self.by_ticker.contains_key(&t.ticker) {
                    render::trade_frame_into(&mut self.render_buf, t);
                }
            }
            self.frame_ranges.push(start..self.render_buf.len());
        }
        let rendered = Bytes::from(std::mem::take(&mut self.render_buf).into_bytes());
        for (ev, range) in events.drain(..).zip(self.frame_ranges.drain(..)) {
            match &ev {
                Event::Trade(t) => {
                    let Some(entries) = self.by_ticker.get(&t.ticker) else {
                        continue;
                    };
                    // Slices of a String at frame boundaries (ASCII) are valid UTF-8.
                    let Ok(frame) = Utf8Bytes::try_from(rendered.slice(range)) else {
                        continue;
                    };
                    let tr = t.market.trade_tr();
                    for (id, _) in entries.iter().filter(|(_, x)| *x == tr) {
                        if let Some(s) = self.sessions.get_mut(id) {
                            s.pending.push(Message::Text(frame.clone()));
                        }
                    }
                }
                Event::ConditionAlert(a) => {
                    let frame: Utf8Bytes = render::alert_frame(a).into();
                    let ids = self.by_alert.get(&a.alert_num).map_or(&[][..], |v| &v[..]);
                    if ids.is_empty() {
                        let q = self.unheard.entry(a.alert_num.clone()).or_default();
                        if q.len() == UNHEARD_ALERT_FRAMES {
                            q.pop_front();
                        }
                        q.push_back(frame);
                        continue;
                    }
                    for id in ids {
                        if let Some(s) = self.sessions.get_mut(id) {
                            s.pending.push(Message::Text(frame.clone()));
                        }
                    }
                }
                other => {
                    let Some(frame) = render::account_frame(other, &self.exchange) else {
                        continue;
                    };
                    let frame: Utf8Bytes = frame.into();
                    for s in self.sessions.values_mut().filter(|s| s.account) {
                        s.pending.push(Message::Text(frame.clone()));
                    }
                }
            }
        }
        self.events = events;
        self.flush();
    }

    /// Sends every session its pending frames as one batch (one flush on the socket).
    pub(crate) fn flush(&mut self) {
        let mut slow = Vec::new();
        for (id, s) in self.sessions.iter_mut() {
            if s.pending.is_empty() {
                continue;
            }
            let batch = std::mem::take(&mut s.pending);
            s.inflight.fetch_add(1, Ordering::AcqRel);
            match s.out.try_send(Outgoing::Frames(batch)) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    s.inflight.fetch_sub(1, Ordering::AcqRel);
                    log::warn!(target: "condor::sim", "websocket session {id} cannot keep up ({SESSION_QUEUE} batches queued): dropping it");
                    slow.push(*id);
                }
                // The connection is gone; its WsClosed is on the way.
                Err(mpsc::error::TrySendError::Closed(_)) => slow.push(*id),
            }
        }
        for id in slow {
            if let Some(s) = self.sessions.get(&id) {
                // The queue is full, so the writer learns of the drop from the closed channel.
                let _ = s.out.try_send(Outgoing::Drop);
            }
            self.remove_session(id);
        }
    }
}
