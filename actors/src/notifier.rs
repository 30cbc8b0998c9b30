//! Notifier: tells the trader on Discord and on Telegram what the engine does — each fill,
//! each reject and why, a kill switch trip, a broker outage longer than a threshold and its
//! end, engine start and clean stop, and the day's summary after the close with its equity
//! chart.
//!
//! Owns the destinations' secrets (the Discord webhook URL holds its token; the Telegram
//! bot token and chat id) and one HTTP client, a send queue per destination (bounded; a
//! burst is coalesced into as few messages as that destination's limits and pace allow),
//! the day's tally for the summary, and the broker link's outage clock. Every notice goes
//! to every destination, each with its own queue, retries and pauses, so one failing never
//! holds the other back. The rules are pure functions in `notify/`; this is the shell with
//! the timers and the I/O. Without a destination it logs what it would send (target
//! `condor::notifier`) and nothing else.
//!
//! Must never: slow a trading actor (they only `do_send` here, nothing here waits on them,
//! and `condor run` gives this actor a thread of its own); drop a notice silently (a full
//! queue folds notices into a count that is sent, a message given up is logged line by
//! line, and so is what is left at shutdown); retry in a tight loop (capped backoff, a long
//! pause after the configured attempts, a floor under every 429 wait); put a webhook URL,
//! a bot token or a chat id in a log line or an error (errors are described without the
//! URL, and scrubbed of every secret).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::clock::{Clock, SystemClock};
use crate::market::TimeOfDay;
use crate::messages::{
    Alert, DrainAlerts, EngineStop, GetConditionBooks, GetNotifierStats, GetOrderStats,
    GetPortfolio, NotifierStats, SendDailySummary, StockNames, Stop, WatchDay,
};
use crate::notify::discord::{bucket_wait, error_text, retry_after, WebhookUrl};
use crate::notify::link::LinkWatch;
use crate::notify::outbox::{Entry, Outbox};
use crate::notify::render::{self, CHART_FILE};
use crate::notify::summary::{summarize, DayBook};
use crate::notify::telegram::{self, TelegramBot};
use crate::notify::{chart, retry_delay, Names, Notice, Queued};

const LOG: &str = "condor::notifier";

/// The shortest wait after a 429, whatever `retry_after` says (0 must not mean "at once").
const MIN_RATE_LIMIT_WAIT: Duration = Duration::from_millis(20);
/// The wait after a 429 that says nothing readable about how long.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// 429s in a row past which a destination counts as failing (a misbehaving proxy).
const RATE_LIMITS_IN_A_ROW_MAX: u32 = 20;

/// How the Notifier sends. [`NotifierConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct NotifierConfig {
    /// `None` (and no `telegram`): log only.
    pub webhook: Option<WebhookUrl>,
    /// A Telegram bot and its chat; alongside the webhook or alone.
    pub telegram: Option<TelegramBot>,
    /// The gap kept between two messages to the Telegram chat; `None`: Telegram's own pace
    /// for the chat's kind ([`TelegramBot::min_gap`]).
    pub telegram_gap: Option<Duration>,
    /// A broker outage is told once it lasts this long (and then its end).
    pub link_alert_after: Duration,
    /// When the day's summary goes (KST), after the close.
    pub summary_at: TimeOfDay,
    /// Queue entries (per destination) before notices are folded into counts.
    pub queue_cap: usize,
    /// How long the first notice of a quiet spell waits for company.
    pub batch_window: Duration,
    /// Attempts of one message on 5xx or a connection error before it is given up and the
    /// destination pauses for `long_pause`.
    pub max_attempts: u32,
    /// Backoff between those attempts: `first_retry`, doubling, at most `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// Ends at the first look at the clock after it (`clock_check_every`).
    pub long_pause: Duration,
    pub request_timeout: Duration,
    /// How often the Portfolio's equity is sampled for the curve.
    pub equity_every: Duration,
    /// How often the clocks are looked at: the summary time, a long pause's end.
    pub clock_check_every: Duration,
    /// The traded conditions' names, condor.toml's order, for the summary's lines.
    pub condition_names: Vec<String>,
}

impl NotifierConfig {
    pub fn new(webhook: Option<WebhookUrl>) -> NotifierConfig {
        NotifierConfig {
            webhook,
            telegram: None,
            telegram_gap: None,
            link_alert_after: Duration::from_secs(10),
            summary_at: TimeOfDay::hms(15, 40, 0),
            queue_cap: 1_000,
            batch_window: Duration::from_millis(250),
            max_attempts: 5,
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(30),
            long_pause: Duration::from_secs(600),
            request_timeout: Duration::from_secs(10),
            equity_every: Duration::from_secs(60),
            clock_check_every: Duration::from_secs(5),
            condition_names: Vec::new(),
        }
    }
}

/// What one request came to.
enum Outcome {
    /// 2xx; `wait` when the destination says to hold the next one back.
    Delivered {
        wait: Option<Duration>,
    },
    RateLimited {
        wait: Option<Duration>,
    },
    /// 5xx or no answer: the same message may pass later.
    Retryable(String),
    /// Another 4xx: this message will never pass.
    Refused(String),
}

/// Where notices go.
enum Dest {
    Discord(WebhookUrl),
    Telegram(TelegramBot),
}

impl Dest {
    /// For "not delivered to …".
    fn name(&self) -> &'static str {
        match self {
            Dest::Discord(_) => "Discord",
            Dest::Telegram(_) => "Telegram",
        }
    }

    /// For "… failed".
    fn endpoint(&self) -> &'static str {
        match self {
            Dest::Discord(_) => "Discord webhook",
            Dest::Telegram(_) => "Telegram bot",
        }
    }

    fn redact(&self, text: &str) -> String {
        match self {
            Dest::Discord(w) => w.redact(text),
            Dest::Telegram(b) => b.redact(text),
        }
    }
}

/// A request ready to go to one destination.
enum Request {
    Discord {
        url: WebhookUrl,
        body: String,
        chart: Option<Vec<u8>>,
    },
    Telegram {
        bot: TelegramBot,
        request: telegram::Request,
    },
}

/// One destination: its queue and its own retry state, so one never waits on the other.
struct Sink {
    dest: Dest,
    outbox: Outbox,
    /// Kept after every delivered message (Telegram's pace; Discord says it per response).
    gap: Duration,
    /// A timer (batch window, pace, backoff, rate limit) or the long pause will pump the
    /// queue.
    waiting: bool,
    /// The end of the long pause, on the wall clock.
    paused_until: Option<Instant>,
    /// Failed requests in a row.
    failures: u32,
    rate_limited_in_a_row: u32,
}

/// See the module docs.
pub struct Notifier {
    cfg: NotifierConfig,
    clock: Arc<dyn Clock>,
    /// Real time, for a long pause and a broker outage: live waits, not history, so not
    /// the engine's (perhaps accelerated) clock. A test's manual clock moves it.
    wall: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    /// Discord first, then Telegram; fixed once built (timers name a sink by its index).
    sinks: Vec<Sink>,
    names: Names,
    link: LinkWatch,
    book: DayBook,
    sources: Option<WatchDay>,
    /// Summaries whose figures are being asked for.
    gathering: u32,
    last_clock_check: TimeOfDay,
    drain_waiters: Vec<oneshot::Sender<()>>,
    stats: NotifierStats,
}

impl Notifier {
    pub fn new(cfg: NotifierConfig, clock: Arc<dyn Clock>) -> Notifier {
        let mut dests = Vec::new();
        if let Some(w) = &cfg.webhook {
            dests.push((Dest::Discord(w.clone()), Duration::ZERO));
        }
        if let Some(b) = &cfg.telegram {
            let gap = cfg.telegram_gap.unwrap_or_else(|| b.min_gap());
            dests.push((Dest::Telegram(b.clone()), gap));
        }
        let http = (!dests.is_empty())
            .then(|| {
                crate::ls_rest::install_tls_provider();
                match reqwest::Client::builder()
                    .timeout(cfg.request_timeout)
                    .build()
                {
                    Ok(c) => Some(c),
                    Err(e) => {
                        log::error!(target: LOG, "cannot build the HTTP client ({}): alerts are only logged", e.without_url());
                        None
                    }
                }
            })
            .flatten();
        let sinks = match http {
            Some(_) => dests
                .into_iter()
                .map(|(dest, gap)| Sink {
                    dest,
                    outbox: Outbox::new(cfg.queue_cap),
                    gap,
                    waiting: false,
                    paused_until: None,
                    failures: 0,
                    rate_limited_in_a_row: 0,
                })
                .collect(),
            None => Vec::new(),
        };
        Notifier {
            book: DayBook::new(clock.today()),
            last_clock_check: clock.time_of_day(),
            cfg,
            clock,
            wall: Arc::new(SystemClock),
            http,
            sinks,
            names: Names::new(),
            link: LinkWatch::default(),
            sources: None,
            gathering: 0,
            drain_waiters: Vec::new(),
            stats: NotifierStats::default(),
        }
    }

    /// This Notifier timing its long pauses and outages on `wall` instead of the system's
    /// clock.
    pub fn with_wall_clock(mut self, wall: Arc<dyn Clock>) -> Notifier {
        self.wall = wall;
        self
    }

    /// A new KST day starts a new tally.
    fn roll_day(&mut self) {
        let today = self.clock.today();
        if self.book.day != today {
            self.book = DayBook::new(today);
        }
    }

    /// Queues `notice` for every destination.
    fn enqueue(&mut self, notice: Notice, ctx: &mut Context<Self>) {
        let q = Queued {
            at_unix_ms: self.clock.unix_ms(),
            notice,
        };
        if self.sinks.is_empty() {
            self.stats.logged_only += 1;
            log::info!(target: LOG, "would send (no CONDOR_DISCORD_WEBHOOK or CONDOR_TELEGRAM_BOT_TOKEN): {}", render::line(&q, &self.names));
            return;
        }
        for i in 0..self.sinks.len() {
            let sink = &mut self.sinks[i];
            if !sink.outbox.push(q.clone()) {
                self.stats.summarised += 1;
                if self.stats.summarised == 1 || self.stats.summarised % 1_000 == 0 {
                    log::warn!(target: LOG, "{} queue full: {} notice(s) folded into counts so far", sink.dest.name(), self.stats.summarised);
                }
            }
            if !sink.waiting && !sink.outbox.in_flight() {
                self.wait(i, self.cfg.batch_window, ctx);
            }
        }
    }

    fn wait(&mut self, i: usize, d: Duration, ctx: &mut Context<Self>) {
        self.sinks[i].waiting = true;
        ctx.run_later(d, move |act, ctx| {
            act.sinks[i].waiting = false;
            act.pump(i, ctx);
        });
    }

    /// Sends the next message to sink `i` if nothing is out there and no timer holds it.
    fn pump(&mut self, i: usize, ctx: &mut Context<Self>) {
        let Some(http) = self.http.clone() else {
            return;
        };
        let names = &self.names;
        let sink = &mut self.sinks[i];
        if sink.waiting || sink.outbox.in_flight() {
            return;
        }
        let (request, notices, what) = match &sink.dest {
            Dest::Discord(url) => {
                let Some(packed) = sink.outbox.begin(names) else {
                    self.check_drained();
                    return;
                };
                let what = format!(
                    "in {} embed(s){}",
                    packed.message.embeds.len(),
                    if packed.chart.is_some() {
                        " with the chart"
                    } else {
                        ""
                    }
                );
                let body = match serde_json::to_string(&packed.message) {
                    Ok(b) => b,
                    Err(e) => {
                        // Plain structs of strings and numbers: this cannot fail, but if it
                        // did the message would fail forever, so it is given up (and logged)
                        // at once.
                        self.failed(i, format!("cannot encode the message: {e}"), false, ctx);
                        return;
                    }
                };
                let request = Request::Discord {
                    url: url.clone(),
                    body,
                    chart: packed.chart,
                };
                (request, packed.notices, what)
            }
            Dest::Telegram(bot) => {
                let Some(packed) = sink.outbox.begin_with(|e| telegram::pack(e, names)) else {
                    self.check_drained();
                    return;
                };
                let what = format!("with {}", packed.request.method());
                let request = Request::Telegram {
                    bot: bot.clone(),
                    request: packed.request,
                };
                (request, packed.notices, what)
            }
        };
        self.stats.attempts += 1;
        log::debug!(target: LOG, "sending {notices} notice(s) to {} {what} (attempt #{})", self.sinks[i].dest.name(), self.stats.attempts);
        let send = async move {
            match request {
                Request::Discord { url, body, chart } => deliver(http, url, body, chart).await,
                Request::Telegram { bot, request } => deliver_telegram(http, bot, request).await,
            }
        };
        ctx.spawn(
            send.into_actor(self)
                .map(move |outcome, act, ctx| act.on_outcome(i, outcome, ctx)),
        );
    }

    fn on_outcome(&mut self, i: usize, outcome: Outcome, ctx: &mut Context<Self>) {
        match outcome {
            Outcome::Delivered { wait } => {
                let sink = &mut self.sinks[i];
                let n = sink.outbox.delivered();
                self.stats.sent += 1;
                self.stats.notices_sent += n;
                if n > 1 {
                    self.stats.coalesced += n;
                }
                sink.failures = 0;
                sink.rate_limited_in_a_row = 0;
                let wait = wait.unwrap_or_default().max(sink.gap);
                if wait.is_zero() {
                    self.pump(i, ctx);
                } else {
                    self.wait(i, wait, ctx);
                }
            }
            Outcome::RateLimited { wait } => {
                self.stats.retried_after_429 += 1;
                let sink = &mut self.sinks[i];
                sink.rate_limited_in_a_row += 1;
                if sink.rate_limited_in_a_row > RATE_LIMITS_IN_A_ROW_MAX {
                    sink.rate_limited_in_a_row = 0;
                    let why = format!("HTTP 429 {} times in a row", RATE_LIMITS_IN_A_ROW_MAX + 1);
                    self.failed(i, why, true, ctx);
                } else {
                    sink.outbox.retry();
                    let wait = wait
                        .unwrap_or(DEFAULT_RATE_LIMIT_WAIT)
                        .max(MIN_RATE_LIMIT_WAIT);
                    log::info!(target: LOG, "{} rate limit (429): sending again in {} ms; the {} notice(s) waiting go together", sink.dest.name(), wait.as_millis(), sink.outbox.notices());
                    self.wait(i, wait, ctx);
                }
            }
            Outcome::Retryable(why) => self.failed(i, why, true, ctx),
            Outcome::Refused(why) => self.failed(i, why, false, ctx),
        }
        self.check_drained();
    }

    /// A request to sink `i` failed. A retryable failure is retried with backoff until the
    /// configured attempts; then (or at once when resending cannot help) the message is
    /// given up, every notice in it logged. After `max_attempts` failures in a row, a long
    /// pause for that sink alone.
    fn failed(&mut self, i: usize, why: String, retryable: bool, ctx: &mut Context<Self>) {
        let sink = &mut self.sinks[i];
        let why = sink.dest.redact(&why);
        let (name, endpoint) = (sink.dest.name(), sink.dest.endpoint());
        self.stats.failed += 1;
        sink.failures = sink.failures.saturating_add(1);
        let n = sink.failures;
        let exhausted = n >= self.cfg.max_attempts;
        let backoff = retry_delay(n, self.cfg.first_retry, self.cfg.max_retry);
        if retryable && !exhausted {
            sink.outbox.retry();
            log::warn!(target: LOG, "{endpoint} failed: {why}; attempt {n} of {}, again in {} ms", self.cfg.max_attempts, backoff.as_millis());
            self.wait(i, backoff, ctx);
            return;
        }
        let lost = sink.outbox.give_up();
        let count: u64 = lost.iter().map(Entry::notices).sum();
        self.stats.given_up += count;
        if retryable {
            log::error!(target: LOG, "{endpoint} failed {n} times in a row ({why}): giving up on {count} notice(s); each follows");
        } else {
            log::error!(target: LOG, "{name} refused the message ({why}); resending cannot help: giving up on {count} notice(s); each follows");
        }
        for e in &lost {
            log::error!(target: LOG, "not delivered to {name}: {}", e.line(&self.names));
        }
        if exhausted {
            sink.failures = 0;
            self.stats.long_pauses += 1;
            log::error!(target: LOG, "{endpoint} keeps failing: pausing it for {} s ({} notice(s) wait)", self.cfg.long_pause.as_secs(), sink.outbox.notices());
            sink.waiting = true;
            sink.paused_until = Some(self.wall.now() + self.cfg.long_pause);
        } else {
            self.wait(i, backoff, ctx);
        }
    }

    fn is_drained(&self) -> bool {
        self.sinks.iter().all(|s| s.outbox.is_empty()) && self.gathering == 0
    }

    fn check_drained(&mut self) {
        if self.is_drained() {
            for w in self.drain_waiters.drain(..) {
                let _ = w.send(());
            }
        }
    }

    fn on_link(&mut self, up: bool, ctx: &mut Context<Self>) {
        let now = self.wall.now();
        if !up {
            if let Some(outage) = self.link.down(now) {
                let threshold = self.cfg.link_alert_after;
                ctx.run_later(threshold, move |act, ctx| {
                    if let Some(down_for) = act.link.overdue(outage, act.wall.now(), threshold) {
                        act.enqueue(Notice::LinkDown { down_for }, ctx);
                    }
                });
            }
            return;
        }
        match self.link.up(now) {
            Some(r) if r.told => self.enqueue(
                Notice::LinkRestored {
                    down_for: r.down_for,
                },
                ctx,
            ),
            Some(r) => {
                self.stats.short_outages += 1;
                log::info!(target: LOG, "broker link back after {} ms, under the {} s threshold: not told", r.down_for.as_millis(), self.cfg.link_alert_after.as_secs());
            }
            None => {}
        }
    }

    /// Asks the OrderManager and the Portfolio for the day's figures, then queues the
    /// summary (and `then`, the stop, right after it).
    fn send_summary(&mut self, then: Option<EngineStop>, ctx: &mut Context<Self>) {
        self.roll_day();
        self.book.summary_sent = true;
        self.gathering += 1;
        let sources = self
            .sources
            .as_ref()
            .map(|s| (s.orders.clone(), s.portfolio.clone(), s.books.clone()));
        let ask = async move {
            let Some((orders, portfolio, books)) = sources else {
                return (None, None);
            };
            let orders = orders.send(GetOrderStats).await.ok();
            let books = match books {
                Some(books) => books
                    .send(GetConditionBooks)
                    .await
                    .ok()
                    .and_then(Result::ok),
                None => portfolio
                    .send(GetPortfolio)
                    .await
                    .ok()
                    .and_then(Result::ok)
                    .map(|ledger| (Vec::new(), ledger)),
            };
            (orders, books)
        };
        ctx.spawn(ask.into_actor(self).map(move |(orders, books), act, ctx| {
            act.gathering -= 1;
            let (by_condition, ledger) = match books {
                Some((by_condition, ledger)) => (by_condition, Some(ledger)),
                None => (Vec::new(), None),
            };
            let mut summary = summarize(&act.book, orders.as_ref(), ledger.as_ref());
            summary.conditions = by_condition
                .into_iter()
                .map(|c| {
                    let i = usize::from(c.condition).saturating_sub(1);
                    let label = match act.cfg.condition_names.get(i) {
                        Some(name) => format!("#{} {name}", c.condition),
                        None => format!("#{}", c.condition),
                    };
                    (label, c)
                })
                .collect();
            let chart = if !act.sinks.is_empty() {
                let caption = format!("equity {} (won, KST)", summary.day);
                match chart::equity_png(&summary.curve, &caption) {
                    Ok(png) => Some(png),
                    Err(chart::ChartError::NoPoints) => None,
                    Err(e) => {
                        log::warn!(target: LOG, "daily summary without its chart: {e}");
                        None
                    }
                }
            } else {
                None
            };
            act.enqueue(Notice::Summary(Box::new(summary), chart), ctx);
            if let Some(stop) = then {
                act.enqueue(Notice::Stopped(stop), ctx);
            }
            act.check_drained();
        }));
    }

    /// Sends the summary when the clock passes `summary_at` (once a day, only while running).
    fn check_clock(&mut self, ctx: &mut Context<Self>) {
        self.stats.clock_checks += 1;
        self.end_pauses(ctx);
        self.roll_day();
        let now = self.clock.time_of_day();
        let at = self.cfg.summary_at;
        let crossed = self.last_clock_check < at && now >= at;
        self.last_clock_check = now;
        if crossed && !self.book.summary_sent {
            self.send_summary(None, ctx);
        }
    }

    /// Every destination whose long pause is over sends again.
    fn end_pauses(&mut self, ctx: &mut Context<Self>) {
        let now = self.wall.now();
        for i in 0..self.sinks.len() {
            let sink = &mut self.sinks[i];
            if sink.paused_until.is_some_and(|end| end <= now) {
                sink.paused_until = None;
                sink.waiting = false;
                log::info!(target: LOG, "{} pause over: sending again ({} notice(s) wait)", sink.dest.endpoint(), sink.outbox.notices());
                self.pump(i, ctx);
            }
        }
    }

    fn sample_equity(&mut self, ctx: &mut Context<Self>) {
        let Some(s) = &self.sources else {
            return;
        };
        let ask = s.portfolio.send(GetPortfolio);
        ctx.spawn(ask.into_actor(self).map(|reply, act, _| {
            if let Ok(Ok(book)) = reply {
                act.roll_day();
                let at = act.clock.unix_ms();
                act.book.curve.push(at, book.equity);
            }
        }));
    }
}

/// One request to the webhook: JSON, or multipart with `payload_json` and `files[0]` when
/// a chart goes with it. Every error text is made without the URL and scrubbed of it.
async fn deliver(
    http: reqwest::Client,
    url: WebhookUrl,
    body: String,
    chart: Option<Vec<u8>>,
) -> Outcome {
    let req = http.post(url.expose());
    let req = match chart {
        None => req
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body),
        Some(png) => {
            use reqwest::multipart::{Form, Part};
            let payload = Part::text(body).mime_str("application/json");
            let file = Part::bytes(png).file_name(CHART_FILE).mime_str("image/png");
            match (payload, file) {
                (Ok(payload), Ok(file)) => req.multipart(
                    Form::new()
                        .part("payload_json", payload)
                        .part("files[0]", file),
                ),
                _ => return Outcome::Refused("cannot build the multipart body".to_owned()),
            }
        }
    };
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Retryable(describe(e, |t| url.redact(t))),
    };
    let status = resp.status();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    if status.is_success() {
        let wait = bucket_wait(
            header("x-ratelimit-remaining").as_deref(),
            header("x-ratelimit-reset-after").as_deref(),
        );
        return Outcome::Delivered { wait };
    }
    let retry_header = header("retry-after");
    let body = resp.bytes().await.unwrap_or_default();
    let why = url.redact(&format!("HTTP {}: {}", status.as_u16(), error_text(&body)));
    if status.as_u16() == 429 {
        Outcome::RateLimited {
            wait: retry_after(retry_header.as_deref(), &body),
        }
    } else if status.is_server_error() {
        Outcome::Retryable(why)
    } else {
        Outcome::Refused(why)
    }
}

/// One request to the Bot API: `sendMessage` as JSON, or `sendPhoto` as multipart with the
/// chart as `photo`. The URL holds the token: every error text is made without it and
/// scrubbed of the token and the chat id.
async fn deliver_telegram(
    http: reqwest::Client,
    bot: TelegramBot,
    request: telegram::Request,
) -> Outcome {
    let req = http.post(bot.method_url(request.method()));
    let req = match request {
        telegram::Request::Message { text } => {
            let body = telegram::SendMessage {
                chat_id: bot.chat(),
                text: &text,
                parse_mode: telegram::PARSE_MODE,
            };
            match serde_json::to_string(&body) {
                Ok(b) => req
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b),
                Err(_) => return Outcome::Refused("cannot encode the message".to_owned()),
            }
        }
        telegram::Request::Photo { caption, png } => {
            use reqwest::multipart::{Form, Part};
            match Part::bytes(png).file_name(CHART_FILE).mime_str("image/png") {
                Ok(photo) => req.multipart(
                    Form::new()
                        .text("chat_id", bot.chat().expose().to_owned())
                        .text("caption", caption)
                        .text("parse_mode", telegram::PARSE_MODE)
                        .part("photo", photo),
                ),
                Err(_) => return Outcome::Refused("cannot build the multipart body".to_owned()),
            }
        }
    };
    let resp = match req.send().await {
        Ok(r) => r,
        Err(e) => return Outcome::Retryable(describe(e, |t| bot.redact(t))),
    };
    let status = resp.status().as_u16();
    let retry_header = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = resp.bytes().await.unwrap_or_default();
    match telegram::answer(status, retry_header.as_deref(), &body) {
        telegram::Answer::Delivered => Outcome::Delivered { wait: None },
        telegram::Answer::TooManyRequests(wait) => Outcome::RateLimited { wait },
        telegram::Answer::ServerError(why) => Outcome::Retryable(bot.redact(&why)),
        telegram::Answer::Refused(why) => Outcome::Refused(bot.redact(&why)),
    }
}

/// A transport error in words, without the URL (`reqwest::Error`'s Display has it), and
/// put through `redact` for the secrets a cause might still quote.
fn describe(e: reqwest::Error, redact: impl Fn(&str) -> String) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let e = e.without_url();
    let mut text = format!("{kind}: {e}");
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    redact(&text)
}

impl Actor for Notifier {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let to: Vec<String> = self
            .sinks
            .iter()
            .map(|s| match &s.dest {
                Dest::Discord(w) => format!("a Discord webhook on {}", w.host()),
                Dest::Telegram(b) => format!(
                    "a Telegram chat through {} (a message every {} ms at most)",
                    b.host(),
                    s.gap.as_millis()
                ),
            })
            .collect();
        if to.is_empty() {
            log::info!(target: LOG, "no CONDOR_DISCORD_WEBHOOK or CONDOR_TELEGRAM_BOT_TOKEN: alerts are only logged here");
        } else {
            log::info!(
                target: LOG,
                "alerts go to {}; broker outages told after {} s; daily summary at {} KST",
                to.join(" and "),
                self.cfg.link_alert_after.as_secs(),
                self.cfg.summary_at
            );
        }
        ctx.run_interval(self.cfg.clock_check_every, |act, ctx| act.check_clock(ctx));
        ctx.run_interval(self.cfg.equity_every, |act, ctx| act.sample_equity(ctx));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.log_undelivered();
    }
}

impl Notifier {
    /// At the end: whatever a destination did not get goes to the log, so nothing is lost
    /// unseen.
    fn log_undelivered(&mut self) {
        for sink in &mut self.sinks {
            let name = sink.dest.name();
            let left = sink.outbox.take_all();
            if !left.is_empty() {
                log::warn!(target: LOG, "stopping with {} notice(s) not delivered to {name}; each follows", left.iter().map(Entry::notices).sum::<u64>());
            }
            for e in &left {
                log::warn!(target: LOG, "not delivered to {name}: {}", e.line(&self.names));
            }
        }
    }
}

impl Handler<Stop> for Notifier {
    type Result = ();
    /// Logs what is left before answering (an arbiter stopped right after may never run
    /// `stopped()`), then stops.
    fn handle(&mut self, msg: Stop, ctx: &mut Context<Self>) {
        log::debug!(target: LOG, "stopping: {}", msg.reason);
        self.log_undelivered();
        ctx.stop();
    }
}

impl Handler<Alert> for Notifier {
    type Result = ();
    fn handle(&mut self, alert: Alert, ctx: &mut Context<Self>) {
        self.stats.alerts += 1;
        self.roll_day();
        match alert {
            Alert::Filled(f) => {
                self.book.on_fill(&f, self.clock.unix_ms());
                self.enqueue(Notice::Fill(f), ctx);
            }
            Alert::Rejected(r) => {
                self.book.on_reject();
                self.enqueue(Notice::Reject(r), ctx);
            }
            Alert::KillSwitch { cause } => self.enqueue(Notice::KillSwitch(cause), ctx),
            Alert::Disk(d) => self.enqueue(Notice::Disk(d), ctx),
            Alert::RefusedInBulk(r) => {
                self.book.on_rejects(r.count);
                self.enqueue(Notice::Refusals(r), ctx)
            }
            Alert::BrokerLink { up } => self.on_link(up, ctx),
            Alert::EngineStarted(s) => self.enqueue(Notice::Started(s), ctx),
            Alert::EngineStopped(s) => {
                // A day that traded gets its summary, even when stopped before the time.
                if !self.book.summary_sent && self.book.had_activity() {
                    self.send_summary(Some(s), ctx);
                } else {
                    self.enqueue(Notice::Stopped(s), ctx);
                }
            }
        }
    }
}

impl Handler<StockNames> for Notifier {
    type Result = ();
    fn handle(&mut self, msg: StockNames, _: &mut Context<Self>) {
        log::debug!(target: LOG, "{} stock names", msg.names.len());
        self.names = msg.names;
    }
}

impl Handler<WatchDay> for Notifier {
    type Result = ();
    fn handle(&mut self, msg: WatchDay, ctx: &mut Context<Self>) {
        self.sources = Some(msg);
        // The opening point of the curve.
        self.sample_equity(ctx);
    }
}

impl Handler<crate::messages::CloseOfDay> for Notifier {
    type Result = ();
    fn handle(&mut self, _: crate::messages::CloseOfDay, ctx: &mut Context<Self>) {
        self.roll_day();
        if !self.book.summary_sent && self.book.had_activity() {
            self.send_summary(None, ctx);
        }
    }
}

impl Handler<SendDailySummary> for Notifier {
    type Result = ();
    fn handle(&mut self, _: SendDailySummary, ctx: &mut Context<Self>) {
        self.send_summary(None, ctx);
    }
}

impl Handler<DrainAlerts> for Notifier {
    type Result = ResponseFuture<bool>;
    fn handle(&mut self, msg: DrainAlerts, _: &mut Context<Self>) -> Self::Result {
        if self.is_drained() {
            return Box::pin(async { true });
        }
        let (tx, rx) = oneshot::channel();
        self.drain_waiters.push(tx);
        Box::pin(async move { matches!(tokio::time::timeout(msg.within, rx).await, Ok(Ok(()))) })
    }
}

impl Handler<GetNotifierStats> for Notifier {
    type Result = MessageResult<GetNotifierStats>;
    fn handle(&mut self, _: GetNotifierStats, _: &mut Context<Self>) -> Self::Result {
        let mut s = self.stats;
        s.queued = self.sinks.iter().map(|k| k.outbox.notices()).sum();
        MessageResult(s)
    }
}
