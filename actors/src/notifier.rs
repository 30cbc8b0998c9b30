//! Notifier: tells the trader on Discord what the engine does — each fill, each reject and
//! why, a kill switch trip, a broker outage longer than a threshold and its end, engine
//! start and clean stop, and the day's summary after the close with its equity chart.
//!
//! Owns the webhook URL (a secret: it holds the token) and its HTTP client, the send queue
//! (bounded; a burst is coalesced into as few messages as Discord's limits allow), the
//! day's tally for the summary, and the broker link's outage clock. The rules are pure
//! functions in `notify/`; this is the shell with the timers and the I/O. Without a
//! webhook it logs what it would send (target `condor::notifier`) and nothing else.
//!
//! Must never: slow a trading actor (they only `do_send` here, nothing here waits on them,
//! and `condor run` gives this actor a thread of its own); drop a notice silently (a full
//! queue folds notices into a count that is sent, a message given up is logged line by
//! line, and so is what is left at shutdown); retry in a tight loop (capped backoff, a long
//! pause after the configured attempts, a floor under every 429 wait); put the webhook URL
//! in a log line or an error (errors are described without it, and scrubbed of it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use tokio::sync::oneshot;

use crate::clock::Clock;
use crate::market::TimeOfDay;
use crate::messages::{
    Alert, DrainAlerts, EngineStop, GetNotifierStats, GetOrderStats, GetPortfolio, NotifierStats,
    SendDailySummary, StockNames, Stop, WatchDay,
};
use crate::notify::discord::{bucket_wait, error_text, retry_after, WebhookUrl};
use crate::notify::link::LinkWatch;
use crate::notify::outbox::{Entry, Outbox};
use crate::notify::render::{self, CHART_FILE};
use crate::notify::summary::{summarize, DayBook};
use crate::notify::{chart, retry_delay, Names, Notice, Queued};

const LOG: &str = "condor::notifier";

/// The shortest wait after a 429, whatever `retry_after` says (0 must not mean "at once").
const MIN_RATE_LIMIT_WAIT: Duration = Duration::from_millis(20);
/// The wait after a 429 that says nothing readable about how long.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);
/// 429s in a row past which the webhook counts as failing (a misbehaving proxy).
const RATE_LIMITS_IN_A_ROW_MAX: u32 = 20;

/// How the Notifier sends. [`NotifierConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct NotifierConfig {
    /// `None`: log only.
    pub webhook: Option<WebhookUrl>,
    /// A broker outage is told once it lasts this long (and then its end).
    pub link_alert_after: Duration,
    /// When the day's summary goes (KST), after the close.
    pub summary_at: TimeOfDay,
    /// Queue entries before notices are folded into counts.
    pub queue_cap: usize,
    /// How long the first notice of a quiet spell waits for company.
    pub batch_window: Duration,
    /// Attempts of one message on 5xx or a connection error before it is given up and the
    /// Notifier pauses for `long_pause`.
    pub max_attempts: u32,
    /// Backoff between those attempts: `first_retry`, doubling, at most `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
    pub long_pause: Duration,
    pub request_timeout: Duration,
    /// How often the Portfolio's equity is sampled for the curve.
    pub equity_every: Duration,
    /// How often the clock is looked at for the summary time.
    pub clock_check_every: Duration,
}

impl NotifierConfig {
    pub fn new(webhook: Option<WebhookUrl>) -> NotifierConfig {
        NotifierConfig {
            webhook,
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
        }
    }
}

/// What one request came to.
enum Outcome {
    /// 2xx; `wait` when the rate-limit headers say the bucket is empty.
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

/// See the module docs.
pub struct Notifier {
    cfg: NotifierConfig,
    clock: Arc<dyn Clock>,
    http: Option<reqwest::Client>,
    outbox: Outbox,
    names: Names,
    link: LinkWatch,
    book: DayBook,
    sources: Option<WatchDay>,
    /// A timer will pump the queue (batch window, backoff, rate limit, pause).
    waiting: bool,
    /// Failed requests in a row.
    failures: u32,
    rate_limited_in_a_row: u32,
    /// Summaries whose figures are being asked for.
    gathering: u32,
    last_clock_check: TimeOfDay,
    drain_waiters: Vec<oneshot::Sender<()>>,
    stats: NotifierStats,
}

impl Notifier {
    pub fn new(cfg: NotifierConfig, clock: Arc<dyn Clock>) -> Notifier {
        let http = cfg.webhook.as_ref().and_then(|_| {
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
        });
        Notifier {
            outbox: Outbox::new(cfg.queue_cap),
            book: DayBook::new(clock.today()),
            last_clock_check: clock.time_of_day(),
            cfg,
            clock,
            http,
            names: Names::new(),
            link: LinkWatch::default(),
            sources: None,
            waiting: false,
            failures: 0,
            rate_limited_in_a_row: 0,
            gathering: 0,
            drain_waiters: Vec::new(),
            stats: NotifierStats::default(),
        }
    }

    fn redact(&self, text: &str) -> String {
        match &self.cfg.webhook {
            Some(w) => w.redact(text),
            None => text.to_owned(),
        }
    }

    /// A new KST day starts a new tally.
    fn roll_day(&mut self) {
        let today = self.clock.today();
        if self.book.day != today {
            self.book = DayBook::new(today);
        }
    }

    fn enqueue(&mut self, notice: Notice, ctx: &mut Context<Self>) {
        let q = Queued {
            at_unix_ms: self.clock.unix_ms(),
            notice,
        };
        if self.http.is_none() {
            self.stats.logged_only += 1;
            log::info!(target: LOG, "would send (no CONDOR_DISCORD_WEBHOOK): {}", render::line(&q, &self.names));
            return;
        }
        if !self.outbox.push(q) {
            self.stats.summarised += 1;
            if self.stats.summarised == 1 || self.stats.summarised % 1_000 == 0 {
                log::warn!(target: LOG, "Discord queue full: {} notice(s) folded into counts so far", self.stats.summarised);
            }
        }
        if !self.waiting && !self.outbox.in_flight() {
            self.wait(self.cfg.batch_window, ctx);
        }
    }

    fn wait(&mut self, d: Duration, ctx: &mut Context<Self>) {
        self.waiting = true;
        ctx.run_later(d, |act, ctx| {
            act.waiting = false;
            act.pump(ctx);
        });
    }

    /// Sends the next message if nothing is out and no timer holds the queue.
    fn pump(&mut self, ctx: &mut Context<Self>) {
        if self.waiting || self.outbox.in_flight() {
            return;
        }
        let (Some(http), Some(url)) = (self.http.clone(), self.cfg.webhook.clone()) else {
            return;
        };
        let Some(packed) = self.outbox.begin(&self.names) else {
            self.check_drained();
            return;
        };
        let body = match serde_json::to_string(&packed.message) {
            Ok(b) => b,
            Err(e) => {
                // Plain structs of strings and numbers: this cannot fail, but if it did the
                // message would fail forever, so it is given up (and logged) at once.
                self.failed(format!("cannot encode the message: {e}"), false, ctx);
                return;
            }
        };
        self.stats.attempts += 1;
        log::debug!(target: LOG, "sending {} notice(s) in {} embed(s){} (attempt #{})", packed.notices, packed.message.embeds.len(), if packed.chart.is_some() { " with the chart" } else { "" }, self.stats.attempts);
        ctx.spawn(
            deliver(http, url, body, packed.chart)
                .into_actor(self)
                .map(|outcome, act, ctx| act.on_outcome(outcome, ctx)),
        );
    }

    fn on_outcome(&mut self, outcome: Outcome, ctx: &mut Context<Self>) {
        match outcome {
            Outcome::Delivered { wait } => {
                let n = self.outbox.delivered();
                self.stats.sent += 1;
                self.stats.notices_sent += n;
                if n > 1 {
                    self.stats.coalesced += n;
                }
                self.failures = 0;
                self.rate_limited_in_a_row = 0;
                match wait {
                    Some(w) => self.wait(w, ctx),
                    None => self.pump(ctx),
                }
            }
            Outcome::RateLimited { wait } => {
                self.stats.retried_after_429 += 1;
                self.rate_limited_in_a_row += 1;
                if self.rate_limited_in_a_row > RATE_LIMITS_IN_A_ROW_MAX {
                    self.rate_limited_in_a_row = 0;
                    let why = format!("HTTP 429 {} times in a row", RATE_LIMITS_IN_A_ROW_MAX + 1);
                    self.failed(why, true, ctx);
                } else {
                    self.outbox.retry();
                    let wait = wait
                        .unwrap_or(DEFAULT_RATE_LIMIT_WAIT)
                        .max(MIN_RATE_LIMIT_WAIT);
                    log::info!(target: LOG, "Discord rate limit (429): sending again in {} ms; the {} notice(s) waiting go together", wait.as_millis(), self.outbox.notices());
                    self.wait(wait, ctx);
                }
            }
            Outcome::Retryable(why) => self.failed(why, true, ctx),
            Outcome::Refused(why) => self.failed(why, false, ctx),
        }
        self.check_drained();
    }

    /// A request failed. A retryable failure is retried with backoff until the configured
    /// attempts; then (or at once when resending cannot help) the message is given up,
    /// every notice in it logged. After `max_attempts` failures in a row, a long pause.
    fn failed(&mut self, why: String, retryable: bool, ctx: &mut Context<Self>) {
        let why = self.redact(&why);
        self.stats.failed += 1;
        self.failures = self.failures.saturating_add(1);
        let n = self.failures;
        let exhausted = n >= self.cfg.max_attempts;
        let backoff = retry_delay(n, self.cfg.first_retry, self.cfg.max_retry);
        if retryable && !exhausted {
            self.outbox.retry();
            log::warn!(target: LOG, "Discord webhook failed: {why}; attempt {n} of {}, again in {} ms", self.cfg.max_attempts, backoff.as_millis());
            self.wait(backoff, ctx);
            return;
        }
        let lost = self.outbox.give_up();
        let count: u64 = lost.iter().map(Entry::notices).sum();
        self.stats.given_up += count;
        if retryable {
            log::error!(target: LOG, "Discord webhook failed {n} times in a row ({why}): giving up on {count} notice(s); each follows");
        } else {
            log::error!(target: LOG, "Discord refused the message ({why}); resending cannot help: giving up on {count} notice(s); each follows");
        }
        for e in &lost {
            log::error!(target: LOG, "not delivered to Discord: {}", e.line(&self.names));
        }
        if exhausted {
            self.failures = 0;
            self.stats.long_pauses += 1;
            log::error!(target: LOG, "Discord webhook keeps failing: pausing for {} s ({} notice(s) wait)", self.cfg.long_pause.as_secs(), self.outbox.notices());
            self.wait(self.cfg.long_pause, ctx);
        } else {
            self.wait(backoff, ctx);
        }
    }

    fn is_drained(&self) -> bool {
        self.outbox.is_empty() && self.gathering == 0
    }

    fn check_drained(&mut self) {
        if self.is_drained() {
            for w in self.drain_waiters.drain(..) {
                let _ = w.send(());
            }
        }
    }

    fn on_link(&mut self, up: bool, ctx: &mut Context<Self>) {
        // Wall time, not the engine clock: this times a live outage, it is not history.
        let now = Instant::now();
        if !up {
            if let Some(outage) = self.link.down(now) {
                let threshold = self.cfg.link_alert_after;
                ctx.run_later(threshold, move |act, ctx| {
                    if let Some(down_for) = act.link.overdue(outage, Instant::now(), threshold) {
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
            .map(|s| (s.orders.clone(), s.portfolio.clone()));
        let ask = async move {
            match sources {
                Some((orders, portfolio)) => (
                    orders.send(GetOrderStats).await.ok(),
                    portfolio.send(GetPortfolio).await.ok().and_then(Result::ok),
                ),
                None => (None, None),
            }
        };
        ctx.spawn(ask.into_actor(self).map(move |(orders, ledger), act, ctx| {
            act.gathering -= 1;
            let summary = summarize(&act.book, orders.as_ref(), ledger.as_ref());
            let chart = if act.http.is_some() {
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
        self.roll_day();
        let now = self.clock.time_of_day();
        let at = self.cfg.summary_at;
        let crossed = self.last_clock_check < at && now >= at;
        self.last_clock_check = now;
        if crossed && !self.book.summary_sent {
            self.send_summary(None, ctx);
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
        Err(e) => return Outcome::Retryable(describe(e, &url)),
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

/// A transport error in words, without the URL (`reqwest::Error`'s Display has it).
fn describe(e: reqwest::Error, url: &WebhookUrl) -> String {
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
    url.redact(&text)
}

impl Actor for Notifier {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        match (&self.http, &self.cfg.webhook) {
            (Some(_), Some(w)) => log::info!(
                target: LOG,
                "alerts go to a Discord webhook on {}; broker outages told after {} s; daily summary at {} KST",
                w.host(),
                self.cfg.link_alert_after.as_secs(),
                self.cfg.summary_at
            ),
            _ => log::info!(target: LOG, "no CONDOR_DISCORD_WEBHOOK: alerts are only logged here"),
        }
        ctx.run_interval(self.cfg.clock_check_every, |act, ctx| act.check_clock(ctx));
        ctx.run_interval(self.cfg.equity_every, |act, ctx| act.sample_equity(ctx));
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        self.log_undelivered();
    }
}

impl Notifier {
    /// At the end: whatever Discord did not get goes to the log, so nothing is lost unseen.
    fn log_undelivered(&mut self) {
        let left = self.outbox.take_all();
        if !left.is_empty() {
            log::warn!(target: LOG, "stopping with {} notice(s) not delivered to Discord; each follows", left.iter().map(Entry::notices).sum::<u64>());
        }
        for e in &left {
            log::warn!(target: LOG, "not delivered to Discord: {}", e.line(&self.names));
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
        s.queued = self.outbox.notices();
        MessageResult(s)
    }
}
