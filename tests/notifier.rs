//! The Notifier over real sockets, against a local server that answers like Discord's
//! execute-webhook endpoint, scripted request by request: 204, 429 with `retry_after` (and
//! `Retry-After`), 5xx, 404; and against a dead endpoint (a closed port). The same against
//! a local server that answers like Telegram's Bot API (`sendMessage`, `sendPhoto`), and
//! both at once. Then the wiring: a real BrokerSession's outage, and `condor run` telling
//! its start, fills, summary and stop to both. No assertion on how long anything took but
//! the waits the Notifier must keep (a lower bound): attempts are counted, not timed.

mod common;

use std::collections::VecDeque;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use actix::prelude::*;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use common::until;
use condor_actors::broker_session::{BrokerSession, SessionConfig};
use condor_actors::clock::{Clock, ManualClock, SystemClock};
use condor_actors::domain::OrderNo;
use condor_actors::kill_switch::TripCause;
use condor_actors::ledger::{LedgerError, LedgerSnapshot};
use condor_actors::market::{Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::{
    Alert, DrainAlerts, FillAlert, GetNotifierStats, GetOrderStats, GetPortfolio, LatencyUs,
    NotifierStats, OrderStats, StockNames, Stop, WatchDay,
};
use condor_actors::notifier::{Notifier, NotifierConfig};
use condor_actors::notify::discord::WebhookUrl;
use condor_actors::notify::telegram::{ApiUrl, BotToken, ChatId, TelegramBot};
use serde_json::Value;

/// The webhook token every test uses: it must never reach a log line.
const TOKEN: &str = "Zq7TokenOfTheTestWebhook_never-logged-xY9kLmN0pQrStUvW";
/// The Telegram bot's token and chat: neither may reach a log line.
const TG_TOKEN: &str = "7391846205:AAFtestTokenOfTheBot_never-logged-Qx81";
const TG_CHAT: i64 = -1_009_876_543_210;

// ---- a log that the tests can read ----

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {} {}", record.level(), record.target(), record.args());
        LINES.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

/// Every log line of the process, every level and every crate (reqwest and hyper too).
fn capture_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        log::set_logger(&Capture).expect("the only logger");
        log::set_max_level(log::LevelFilter::Trace);
    });
}

fn logged(containing: &str) -> Vec<String> {
    LINES
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains(containing))
        .cloned()
        .collect()
}

fn assert_token_never_logged() {
    let leaks = logged(TOKEN);
    assert!(
        leaks.is_empty(),
        "the webhook token reached the log: {leaks:?}"
    );
    let leaks = logged("1234567890123");
    assert!(
        leaks.is_empty(),
        "the webhook id reached the log: {leaks:?}"
    );
}

fn assert_telegram_secrets_never_logged() {
    let key = TG_TOKEN.split_once(':').unwrap().1;
    for secret in [TG_TOKEN, key, &TG_CHAT.to_string()[1..]] {
        let leaks = logged(secret);
        assert!(
            leaks.is_empty(),
            "a Telegram secret reached the log: {leaks:?}"
        );
    }
}

// ---- a Discord-like webhook endpoint ----

#[derive(Clone)]
enum Reply {
    /// 204 No Content, as Discord answers `?wait=false`.
    Ok,
    /// 429 with `retry_after` in the body (seconds) and `Retry-After` in the headers.
    RateLimited(f64),
    /// Any other status, with Discord's error body.
    Status(u16),
    /// Waits until the test opens the gate, then replies.
    Held(Arc<tokio::sync::Notify>, Box<Reply>),
}

/// One request as it arrived, and the status it was answered with.
#[derive(Clone, Debug)]
struct Received {
    content_type: String,
    /// The JSON message (the body, or the `payload_json` part).
    payload: Value,
    /// `(field name, file name, content type, bytes)` of each multipart part but the payload.
    files: Vec<(String, String, String, Vec<u8>)>,
    status: u16,
}

/// Serves `app` on a loopback port from a thread of its own; the address it listens on.
fn serve_on_loopback(app: axum::Router) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

#[derive(Default)]
struct HookState {
    script: Mutex<VecDeque<Reply>>,
    /// What is answered once the script is used up.
    otherwise: Mutex<Option<Reply>>,
    received: Mutex<Vec<Received>>,
}

struct Hook {
    state: Arc<HookState>,
    url: String,
}

impl Hook {
    /// A server on loopback answering `script` in order, then `otherwise` (204 if `None`).
    fn start(script: Vec<Reply>, otherwise: Option<Reply>) -> Hook {
        let state = Arc::new(HookState::default());
        *state.script.lock().unwrap() = script.into();
        *state.otherwise.lock().unwrap() = otherwise;
        let app = axum::Router::new()
            .route("/api/webhooks/{id}/{token}", axum::routing::post(webhook))
            .with_state(state.clone());
        let addr = serve_on_loopback(app);
        Hook {
            state,
            url: format!("http://{addr}/api/webhooks/1234567890123456789/{TOKEN}"),
        }
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    async fn until_received(&self, n: usize) -> Vec<Received> {
        until(&format!("{n} request(s) at the webhook"), || async {
            self.received().len() >= n
        })
        .await;
        self.received()
    }
}

async fn webhook(State(state): State<Arc<HookState>>, headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (payload, files) = if content_type.starts_with("multipart/form-data") {
        let mut payload = Value::Null;
        let mut files = Vec::new();
        for (name, filename, ctype, data) in multipart_parts(&content_type, &body) {
            if name == "payload_json" {
                payload = serde_json::from_slice(&data).unwrap_or(Value::Null);
            } else {
                files.push((name, filename, ctype, data));
            }
        }
        (payload, files)
    } else {
        (
            serde_json::from_slice(&body).unwrap_or(Value::Null),
            Vec::new(),
        )
    };
    let mut reply = {
        let next = state.script.lock().unwrap().pop_front();
        next.or_else(|| state.otherwise.lock().unwrap().clone())
            .unwrap_or(Reply::Ok)
    };
    let index = {
        let mut r = state.received.lock().unwrap();
        r.push(Received {
            content_type,
            payload,
            files,
            status: 0,
        });
        r.len() - 1
    };
    if let Reply::Held(gate, then) = reply {
        gate.notified().await;
        reply = *then;
    }
    let (status, response) = match reply {
        Reply::Ok | Reply::Held(..) => (204, StatusCode::NO_CONTENT.into_response()),
        Reply::RateLimited(secs) => (
            429,
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", format!("{}", secs.ceil() as u64))],
                axum::Json(serde_json::json!({
                    "message": "You are being rate limited.",
                    "retry_after": secs,
                    "global": false
                })),
            )
                .into_response(),
        ),
        Reply::Status(code) => (
            code,
            (
                StatusCode::from_u16(code).unwrap(),
                axum::Json(serde_json::json!({"message": "Unknown Webhook", "code": 10015})),
            )
                .into_response(),
        ),
    };
    state.received.lock().unwrap()[index].status = status;
    response
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// `(name, filename, content type, data)` of each part of a multipart/form-data body.
fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<(String, String, String, Vec<u8>)> {
    let boundary = content_type
        .split("boundary=")
        .nth(1)
        .expect("a boundary")
        .trim_matches('"');
    let delim = format!("--{boundary}").into_bytes();
    let mut out = Vec::new();
    let Some(mut pos) = find(body, &delim, 0).map(|p| p + delim.len()) else {
        return out;
    };
    while !body[pos..].starts_with(b"--") {
        pos += 2; // CRLF after the boundary
        let Some(next) = find(body, &delim, pos) else {
            break;
        };
        let part = &body[pos..next - 2]; // CRLF before the next boundary
        let split = find(part, b"\r\n\r\n", 0).expect("part headers end");
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let header = |name: &str| {
            headers
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.trim()
                        .eq_ignore_ascii_case(name)
                        .then(|| v.trim().to_owned())
                })
                .unwrap_or_default()
        };
        let disposition = header("content-disposition");
        let attr = |key: &str| {
            disposition
                .split(';')
                .map(str::trim)
                .find_map(|kv| kv.strip_prefix(&format!("{key}=\"")))
                .map(|v| v.trim_end_matches('"').to_owned())
                .unwrap_or_default()
        };
        let ctype = header("content-type");
        out.push((
            attr("name"),
            attr("filename"),
            ctype,
            part[split + 4..].to_vec(),
        ));
        pos = next + delim.len();
    }
    out
}

// ---- a Telegram-like Bot API ----

/// One Bot API call as it arrived, when, and how it was answered.
#[derive(Clone, Debug)]
struct Call {
    /// `sendMessage`, `sendPhoto`.
    method: String,
    content_type: String,
    /// The JSON body, or the multipart's text parts as a JSON object of strings.
    payload: Value,
    /// `(field name, file name, content type, bytes)` of each file part.
    files: Vec<(String, String, String, Vec<u8>)>,
    status: u16,
    arrived: std::time::Instant,
    answered: Option<std::time::Instant>,
}

#[derive(Default)]
struct BotState {
    script: Mutex<VecDeque<Reply>>,
    otherwise: Mutex<Option<Reply>>,
    calls: Mutex<Vec<Call>>,
}

struct BotApi {
    state: Arc<BotState>,
    /// The base URL, as CONDOR_TELEGRAM_API_URL takes it.
    url: String,
}

impl BotApi {
    /// A server on loopback answering `script` in order, then `otherwise` (200 if `None`).
    fn start(script: Vec<Reply>, otherwise: Option<Reply>) -> BotApi {
        let state = Arc::new(BotState::default());
        *state.script.lock().unwrap() = script.into();
        *state.otherwise.lock().unwrap() = otherwise;
        let app = axum::Router::new()
            .route("/{bot}/{method}", axum::routing::post(bot_api))
            .with_state(state.clone());
        BotApi {
            state,
            url: format!("http://{}", serve_on_loopback(app)),
        }
    }

    fn calls(&self) -> Vec<Call> {
        self.state.calls.lock().unwrap().clone()
    }

    async fn until_called(&self, n: usize) -> Vec<Call> {
        until(&format!("{n} call(s) at the Bot API"), || async {
            self.calls().len() >= n
        })
        .await;
        self.calls()
    }
}

async fn bot_api(
    State(state): State<Arc<BotState>>,
    axum::extract::Path((bot, method)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let arrived = std::time::Instant::now();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let (payload, files) = if content_type.starts_with("multipart/form-data") {
        let mut fields = serde_json::Map::new();
        let mut files = Vec::new();
        for (name, filename, ctype, data) in multipart_parts(&content_type, &body) {
            if filename.is_empty() {
                fields.insert(name, Value::String(String::from_utf8_lossy(&data).into()));
            } else {
                files.push((name, filename, ctype, data));
            }
        }
        (Value::Object(fields), files)
    } else {
        (
            serde_json::from_slice(&body).unwrap_or(Value::Null),
            Vec::new(),
        )
    };
    // Telegram answers a wrong token with 401 whatever the script says.
    let mut reply = if bot == format!("bot{TG_TOKEN}") {
        let next = state.script.lock().unwrap().pop_front();
        next.or_else(|| state.otherwise.lock().unwrap().clone())
            .unwrap_or(Reply::Ok)
    } else {
        Reply::Status(401)
    };
    let index = {
        let mut c = state.calls.lock().unwrap();
        c.push(Call {
            method,
            content_type,
            payload,
            files,
            status: 0,
            arrived,
            answered: None,
        });
        c.len() - 1
    };
    if let Reply::Held(gate, then) = reply {
        gate.notified().await;
        reply = *then;
    }
    let error = |code: u16, description: &str| {
        (
            StatusCode::from_u16(code).unwrap(),
            axum::Json(serde_json::json!({
                "ok": false, "error_code": code, "description": description
            })),
        )
            .into_response()
    };
    let (status, response) = match reply {
        Reply::Ok | Reply::Held(..) => (
            200,
            axum::Json(serde_json::json!({"ok": true, "result": {"message_id": index + 1}}))
                .into_response(),
        ),
        Reply::RateLimited(secs) => {
            let secs = secs.ceil() as u64;
            (
                429,
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    axum::Json(serde_json::json!({
                        "ok": false,
                        "error_code": 429,
                        "description": format!("Too Many Requests: retry after {secs}"),
                        "parameters": {"retry_after": secs}
                    })),
                )
                    .into_response(),
            )
        }
        Reply::Status(401) => (401, error(401, "Unauthorized")),
        Reply::Status(code) if code >= 500 => (code, error(code, "Internal Server Error")),
        Reply::Status(code) => (code, error(code, "Bad Request: chat not found")),
    };
    let mut calls = state.calls.lock().unwrap();
    calls[index].status = status;
    calls[index].answered = Some(std::time::Instant::now());
    response
}

/// A bot for the Bot API at `api`; `telegram_gap` short, so tests are quick.
fn telegram_config(api: &str) -> NotifierConfig {
    let mut c = config_without_webhook();
    c.telegram = Some(TelegramBot::new(
        ApiUrl::parse(api).expect("a loopback URL"),
        BotToken::parse(TG_TOKEN).unwrap(),
        ChatId::parse(&TG_CHAT.to_string()).unwrap(),
    ));
    c.telegram_gap = Some(Duration::from_millis(10));
    c
}

/// The text of a `sendMessage` call.
fn message_text(c: &Call) -> String {
    assert_eq!(c.method, "sendMessage");
    c.payload["text"].as_str().unwrap_or_default().to_owned()
}

// ---- helpers ----

/// Settings for a test: quick retries, a long pause, three attempts.
fn config(url: &str) -> NotifierConfig {
    let mut c = config_without_webhook();
    c.webhook = Some(WebhookUrl::parse(url).expect("a loopback URL"));
    c
}

fn config_without_webhook() -> NotifierConfig {
    let mut c = NotifierConfig::new(None);
    c.batch_window = Duration::from_millis(10);
    c.first_retry = Duration::from_millis(10);
    c.max_retry = Duration::from_millis(40);
    c.max_attempts = 3;
    c.long_pause = Duration::from_secs(3_600);
    c
}

fn start(cfg: NotifierConfig) -> Addr<Notifier> {
    capture_logs();
    Notifier::new(cfg, Arc::new(SystemClock)).start()
}

/// A Notifier whose long pauses (an hour, [`config`]) run on `wall`, a manual clock the
/// test moves, looking at it every 10 ms.
fn start_on(mut cfg: NotifierConfig, wall: &ManualClock) -> Addr<Notifier> {
    capture_logs();
    cfg.clock_check_every = Duration::from_millis(10);
    Notifier::new(cfg, Arc::new(SystemClock))
        .with_wall_clock(Arc::new(wall.clone()))
        .start()
}

/// Waits until the Notifier has looked at its clocks since this call: whatever the clock
/// now says has been seen.
async fn until_clock_seen(n: &Addr<Notifier>) {
    let seen = stats(n).await.clock_checks;
    until_stats(n, "a look at the clock", |s| s.clock_checks > seen).await;
}

/// The long pause runs its whole length and no longer: nothing is sent a second before
/// its end; then the message waiting gets one more round of the configured attempts, and
/// (failing again) the destination pauses again.
async fn assert_paused_for_exactly_the_long_pause(n: &Addr<Notifier>, wall: &ManualClock) {
    let pause = config_without_webhook().long_pause;
    wall.advance(pause - Duration::from_secs(1));
    until_clock_seen(n).await;
    let s = stats(n).await;
    assert_eq!(s.attempts, 3, "no retry during the pause: {s:?}");
    wall.advance(Duration::from_secs(1));
    until_stats(n, "paused again after the pause's attempts", |s| {
        s.long_pauses == 2
    })
    .await;
    let s = stats(n).await;
    assert_eq!(
        (s.attempts, s.failed, s.given_up),
        (6, 6, 2),
        "one round of attempts after the pause: {s:?}"
    );
    until_clock_seen(n).await;
    assert_eq!(stats(n).await.attempts, 6, "none during the next pause");
}

async fn stats(n: &Addr<Notifier>) -> NotifierStats {
    n.send(GetNotifierStats).await.unwrap()
}

async fn until_stats(n: &Addr<Notifier>, what: &str, test: impl Fn(&NotifierStats) -> bool) {
    until(what, || async { test(&stats(n).await) }).await;
}

fn fill(order_no: i64) -> FillAlert {
    FillAlert {
        ticker: Ticker::parse("005930").unwrap(),
        side: Side::Buy,
        qty: Qty::lit(10),
        price: Price::lit(55_500),
        order_no: OrderNo(order_no),
        time: TimeOfDay::hms(9, 30, 0),
        fee: 0,
        position_after: Qty::lit(10),
        avg_price: Some(Price::lit(55_500)),
        realized_pnl: 0,
        ticker_realized_pnl: 0,
        equity: Some(100_000_000),
    }
}

/// The order numbers (`#N`) a message mentions, in order.
fn order_numbers(payload: &Value) -> Vec<i64> {
    let text = payload.to_string();
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find('#') {
        rest = &rest[i + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            out.push(n);
        }
    }
    out
}

fn texts(payload: &Value) -> String {
    payload.to_string()
}

// ---- the tests ----

#[actix_rt::test]
async fn every_fill_arrives_in_order_and_a_burst_during_a_429_is_coalesced() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let hook = Hook::start(
        vec![
            Reply::Ok,
            Reply::Held(gate.clone(), Box::new(Reply::RateLimited(0.05))),
        ],
        None,
    );
    let n = start(config(&hook.url));
    n.do_send(StockNames {
        names: [(Ticker::parse("005930").unwrap(), "삼성전자".to_owned())].into(),
    });
    n.do_send(Alert::Filled(fill(1)));
    hook.until_received(1).await;
    until_stats(&n, "the first message delivered", |s| s.sent == 1).await;

    // The second message is held at the server; a burst arrives meanwhile; then 429.
    n.do_send(Alert::Filled(fill(2)));
    hook.until_received(2).await;
    for order_no in 3..=40 {
        n.do_send(Alert::Filled(fill(order_no)));
    }
    until_stats(&n, "the burst queued", |s| s.alerts == 40).await;
    gate.notify_one();
    until_stats(&n, "everything delivered", |s| s.queued == 0 && s.sent >= 2).await;

    let got = hook.received();
    let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [204, 429, 204], "one resend, carrying the burst");
    assert_eq!(order_numbers(&got[0].payload), [1]);
    assert_eq!(order_numbers(&got[1].payload), [2]);
    assert_eq!(
        order_numbers(&got[2].payload),
        (2..=40).collect::<Vec<_>>(),
        "the message refused with 429 went again with the burst, coalesced"
    );
    // Nothing lost, nothing twice, in order, across what Discord accepted.
    let delivered: Vec<i64> = got
        .iter()
        .filter(|r| r.status == 204)
        .flat_map(|r| order_numbers(&r.payload))
        .collect();
    assert_eq!(delivered, (1..=40).collect::<Vec<_>>());
    for r in &got {
        assert_eq!(r.content_type, "application/json");
        assert_eq!(
            r.payload["allowed_mentions"]["parse"],
            serde_json::json!([])
        );
        assert!(r.payload["embeds"].as_array().unwrap().len() <= 10);
    }
    assert!(
        texts(&got[0].payload).contains("005930 삼성전자"),
        "names are used"
    );
    let s = stats(&n).await;
    assert_eq!(
        (
            s.sent,
            s.notices_sent,
            s.retried_after_429,
            s.coalesced,
            s.failed
        ),
        (2, 40, 1, 39, 0),
        "{s:?}"
    );
    assert_token_never_logged();
}

#[actix_rt::test]
async fn server_errors_are_retried_until_one_gets_through() {
    let hook = Hook::start(vec![Reply::Status(500), Reply::Status(502)], None);
    let n = start(config(&hook.url));
    n.do_send(Alert::KillSwitch {
        cause: TripCause::LossLimit {
            pnl: -1_000_000,
            limit: 1_000_000,
        },
    });
    until_stats(&n, "delivered", |s| s.sent == 1).await;
    let got = hook.received();
    assert_eq!(
        got.iter().map(|r| r.status).collect::<Vec<_>>(),
        [500, 502, 204]
    );
    assert!(
        got.windows(2).all(|w| w[0].payload == w[1].payload),
        "the same message each time"
    );
    assert_eq!(got[2].payload["content"], "🚨 condor: KILL SWITCH ON");
    assert!(texts(&got[2].payload).contains("daily_loss_limit of 1000000 won"));
    let s = stats(&n).await;
    assert_eq!(
        (s.attempts, s.failed, s.given_up, s.long_pauses),
        (3, 2, 0, 0)
    );
    assert_token_never_logged();
}

#[actix_rt::test]
async fn a_webhook_that_keeps_failing_is_given_up_after_the_attempts_and_not_hammered() {
    let hook = Hook::start(Vec::new(), Some(Reply::Status(503)));
    let wall = ManualClock::new(TimeOfDay::hms(10, 0, 0));
    let n = start_on(config(&hook.url), &wall);
    n.do_send(Alert::Filled(fill(7_001)));
    until_stats(&n, "given up", |s| s.given_up == 1).await;
    assert_eq!(hook.received().len(), 3, "exactly the configured attempts");
    let s = stats(&n).await;
    assert_eq!((s.attempts, s.failed, s.long_pauses, s.sent), (3, 3, 1, 0));

    // Paused: a new alert waits until the pause is over.
    n.do_send(Alert::Filled(fill(7_002)));
    until_stats(&n, "queued", |s| s.queued == 1).await;
    assert_paused_for_exactly_the_long_pause(&n, &wall).await;
    assert_eq!(hook.received().len(), 6);
    assert_eq!(order_numbers(&hook.received()[5].payload), [7_002]);
    // Shutdown does not wait forever for a paused webhook, and logs what is left.
    n.do_send(Alert::Filled(fill(7_003)));
    until_stats(&n, "queued", |s| s.queued == 1).await;
    let drained = n
        .send(DrainAlerts {
            within: Duration::from_millis(50),
        })
        .await
        .unwrap();
    assert!(!drained);
    n.send(Stop { reason: "test" }).await.unwrap();
    let lost = logged("not delivered to Discord");
    assert!(
        ["#7001", "#7002", "#7003"]
            .iter()
            .all(|n| lost.iter().any(|l| l.contains(n))),
        "each notice that did not go is in the log: {lost:?}"
    );
    assert!(logged("condor::notifier Discord webhook failed")
        .iter()
        .any(|l| l.contains("HTTP 503")));
    assert_token_never_logged();
}

#[actix_rt::test]
async fn a_dead_endpoint_is_given_up_after_the_attempts_without_a_tight_loop() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/api/webhooks/1234567890123456789/{TOKEN}");
    let wall = ManualClock::new(TimeOfDay::hms(10, 0, 0));
    let n = start_on(config(&url), &wall);
    n.do_send(Alert::Filled(fill(8_001)));
    until_stats(&n, "given up", |s| s.given_up == 1).await;
    let s = stats(&n).await;
    assert_eq!(
        (s.attempts, s.failed, s.long_pauses, s.sent),
        (3, 3, 1, 0),
        "{s:?}"
    );
    n.do_send(Alert::Filled(fill(8_002)));
    until_stats(&n, "queued", |s| s.queued == 1).await;
    assert_paused_for_exactly_the_long_pause(&n, &wall).await;
    let failures = logged("condor::notifier Discord webhook failed");
    assert!(
        failures.iter().any(|l| l.contains("cannot connect")),
        "the failure is explained: {failures:?}"
    );
    assert!(logged("not delivered to Discord")
        .iter()
        .any(|l| l.contains("#8001")));
    assert_token_never_logged();
}

#[actix_rt::test]
async fn a_refused_message_is_not_resent_and_the_next_one_goes() {
    let hook = Hook::start(vec![Reply::Status(404)], None);
    let n = start(config(&hook.url));
    n.do_send(Alert::Filled(fill(9_001)));
    until_stats(&n, "given up", |s| s.given_up == 1).await;
    n.do_send(Alert::Filled(fill(9_002)));
    until_stats(&n, "the next delivered", |s| s.sent == 1).await;
    let got = hook.received();
    assert_eq!(got.iter().map(|r| r.status).collect::<Vec<_>>(), [404, 204]);
    assert_eq!(order_numbers(&got[1].payload), [9_002]);
    assert!(logged("Discord refused the message")
        .iter()
        .any(|l| l.contains("HTTP 404: Unknown Webhook (code 10015)")));
    assert_token_never_logged();
}

/// The OrderManager's and the Portfolio's answers, fixed.
struct FakeDay {
    orders: OrderStats,
    ledger: LedgerSnapshot,
}

impl Actor for FakeDay {
    type Context = Context<Self>;
}

impl Handler<GetOrderStats> for FakeDay {
    type Result = MessageResult<GetOrderStats>;
    fn handle(&mut self, _: GetOrderStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.orders)
    }
}

impl Handler<GetPortfolio> for FakeDay {
    type Result = Result<LedgerSnapshot, LedgerError>;
    fn handle(&mut self, _: GetPortfolio, _: &mut Context<Self>) -> Self::Result {
        Ok(self.ledger.clone())
    }
}

/// `png_bytes` is a PNG of plausible size with something drawn on it.
fn assert_is_a_chart(png_bytes: &[u8]) {
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let (w, h) = (reader.info().width, reader.info().height);
    assert!(
        (400..=2000).contains(&w) && (200..=1200).contains(&h),
        "{w}×{h}"
    );
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut pixels).expect("the image decodes");
    assert!(pixels.iter().any(|&b| b != 255), "something is drawn");
}

/// Tells `n` a day of two round trips (+50,000 won, a win; -20,000, a loss) and gives it a
/// fake OrderManager and Portfolio that report that day.
fn a_day_of_two_round_trips(n: &Addr<Notifier>) {
    // Two round trips: +50,000 (a win) and -20,000 (a loss).
    let t = |c: &str| Ticker::parse(c).unwrap();
    let f = |ticker, side, after, realized, equity| FillAlert {
        ticker,
        side,
        position_after: Qty::lit(after),
        realized_pnl: realized,
        equity: Some(equity),
        ..fill(1)
    };
    for a in [
        f(t("005930"), Side::Buy, 10, 0, 100_000_000),
        f(t("005930"), Side::Sell, 0, 50_000, 100_050_000),
        f(t("000660"), Side::Buy, 5, 0, 100_050_000),
        f(t("000660"), Side::Sell, 0, -20_000, 100_030_000),
    ] {
        n.do_send(Alert::Filled(a));
    }
    let day = FakeDay {
        orders: OrderStats {
            orders: 4,
            fills: 4,
            filled: 4,
            refused_by_risk: 1,
            intent_to_ack: LatencyUs {
                count: 4,
                p50: 900,
                p99: 4_000,
                max: 4_000,
            },
            ..OrderStats::default()
        },
        ledger: LedgerSnapshot {
            opening_cash: 100_000_000,
            cash: 100_028_500,
            positions: Vec::new(),
            realized_pnl: 30_000,
            unrealized_pnl: 0,
            fees: 1_500,
            equity: 100_028_500,
        },
    }
    .start();
    n.do_send(WatchDay {
        orders: day.clone().recipient(),
        portfolio: day.recipient(),
        books: None,
    });
}

#[actix_rt::test]
async fn the_daily_summary_goes_after_the_close_with_its_chart_as_a_png_attachment() {
    let hook = Hook::start(Vec::new(), None);
    let clock = ManualClock::new(TimeOfDay::hms(15, 39, 0));
    let mut cfg = config(&hook.url);
    cfg.summary_at = TimeOfDay::hms(15, 40, 0);
    cfg.clock_check_every = Duration::from_millis(10);
    capture_logs();
    let n = Notifier::new(cfg, Arc::new(clock.clone())).start();

    a_day_of_two_round_trips(&n);
    until_stats(&n, "the fills told", |s| s.notices_sent == 4).await;
    let before = hook.received().len();

    clock.set_time_of_day(TimeOfDay::hms(15, 40, 0));
    let got = hook.until_received(before + 1).await;
    let summary = &got[before];
    assert!(
        summary.content_type.starts_with("multipart/form-data"),
        "{}",
        summary.content_type
    );
    let p = &summary.payload;
    assert_eq!(
        p["attachments"],
        serde_json::json!([{"id": 0, "filename": "equity.png"}])
    );
    let embed = &p["embeds"][0];
    assert_eq!(embed["title"], "Daily summary 2026-01-05");
    assert_eq!(embed["image"]["url"], "attachment://equity.png");
    assert_eq!(embed["description"], "Net P&L +28,500 won");
    let field = |name: &str| {
        embed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("field {name}"))["value"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(field("Win rate"), "50.00% (1 of 2 round trips)");
    assert_eq!(field("Realized P&L"), "+30,000 won");
    assert_eq!(field("Fees and tax"), "1,500 won");
    // Peak 100,050,000, then 100,028,500 at the close: 21,500 won, 2 bp.
    assert_eq!(field("Max drawdown"), "21,500 won (0.02%)");
    assert_eq!(
        field("Orders"),
        "4 sent: 4 filled, 0 cancelled, 0 rejected; 1 refused by risk"
    );
    assert_eq!(
        field("Intent → ack"),
        "p50 900 µs · p99 4,000 µs (4 orders)"
    );

    // The chart: files[0], a PNG of plausible size.
    assert_eq!(summary.files.len(), 1);
    let (name, filename, ctype, png_bytes) = &summary.files[0];
    assert_eq!(
        (name.as_str(), filename.as_str(), ctype.as_str()),
        ("files[0]", "equity.png", "image/png")
    );
    assert_is_a_chart(png_bytes);

    // Once a day: the stop that follows brings no second summary.
    n.do_send(Alert::EngineStopped(Default::default()));
    let got = hook.until_received(before + 2).await;
    assert!(texts(&got[before + 1].payload).contains("condor stopped"));
    assert_eq!(
        got.iter()
            .filter(|r| r.content_type.starts_with("multipart"))
            .count(),
        1
    );
    assert_eq!(clock.today().to_string(), "2026-01-05");
    assert_token_never_logged();
}

#[actix_rt::test]
async fn a_short_broker_outage_is_not_told() {
    let hook = Hook::start(Vec::new(), None);
    let mut cfg = config(&hook.url);
    cfg.link_alert_after = Duration::from_secs(5);
    let n = start(cfg);
    n.do_send(Alert::BrokerLink { up: false });
    n.do_send(Alert::BrokerLink { up: true });
    n.do_send(Alert::Filled(fill(1)));
    until_stats(&n, "the fill told", |s| s.sent == 1).await;
    let s = stats(&n).await;
    assert_eq!(s.short_outages, 1);
    assert_eq!(hook.received().len(), 1, "only the fill");
}

#[actix_rt::test]
async fn a_broker_session_outage_longer_than_the_threshold_is_told_then_its_recovery() {
    let hook = Hook::start(Vec::new(), None);
    let mut cfg = config(&hook.url);
    cfg.link_alert_after = Duration::from_millis(100);
    let n = start(cfg);
    let sim = common::start(common::quiet_config());
    let rest = common::ls_rest(&sim).await;
    // Reconnects wait at least a second: the outage outlasts the 100 ms threshold.
    let mut session_cfg = SessionConfig::new(sim.ws_url(), rest.token());
    session_cfg.min_backoff = Duration::from_secs(2);
    session_cfg.max_backoff = Duration::from_secs(2);
    let session = BrokerSession::new(session_cfg)
        .with_notifier(Some(n.clone().recipient()))
        .start();
    until("connected", || async {
        session
            .send(condor_actors::messages::GetSessionStats)
            .await
            .unwrap()
            .connected
    })
    .await;
    sim.drop_connections();
    let got = hook.until_received(2).await;
    let down = &got[0].payload;
    assert!(
        down["content"]
            .as_str()
            .unwrap()
            .starts_with("⚠️ condor: broker link down for"),
        "{down}"
    );
    assert!(texts(&got[1].payload).contains("Broker link restored after"));
    assert_eq!(stats(&n).await.short_outages, 0);
}

#[actix_rt::test]
async fn telegram_a_fill_arrives_as_send_message_to_the_chat() {
    let api = BotApi::start(Vec::new(), None);
    let n = start(telegram_config(&api.url));
    n.do_send(StockNames {
        names: [(Ticker::parse("005930").unwrap(), "삼성전자".to_owned())].into(),
    });
    n.do_send(Alert::Filled(fill(1)));
    until_stats(&n, "delivered", |s| s.sent == 1).await;
    let got = api.calls();
    assert_eq!(got.len(), 1);
    let c = &got[0];
    assert_eq!((c.method.as_str(), c.status), ("sendMessage", 200));
    assert_eq!(c.content_type, "application/json");
    assert_eq!(c.payload["chat_id"], serde_json::json!(TG_CHAT));
    assert_eq!(c.payload["parse_mode"], "HTML");
    let text = message_text(c);
    assert!(
        text.starts_with("🔴 <b>BUY 10 005930 삼성전자 @ 55,500</b>\nQty: 10 sh\n"),
        "{text}"
    );
    assert!(text.contains("Order: #1 at 09:30:00"), "{text}");
    let s = stats(&n).await;
    assert_eq!((s.sent, s.notices_sent, s.failed), (1, 1, 0), "{s:?}");
    assert_telegram_secrets_never_logged();
}

#[actix_rt::test]
async fn telegram_a_429_is_waited_out_for_its_retry_after_and_nothing_is_lost() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let api = BotApi::start(
        vec![
            Reply::Ok,
            Reply::Held(gate.clone(), Box::new(Reply::RateLimited(1.0))),
        ],
        None,
    );
    let n = start(telegram_config(&api.url));
    n.do_send(Alert::Filled(fill(1)));
    api.until_called(1).await;
    until_stats(&n, "the first message delivered", |s| s.sent == 1).await;

    // The second message is held at the server; a burst arrives meanwhile; then 429.
    n.do_send(Alert::Filled(fill(2)));
    api.until_called(2).await;
    for order_no in 3..=40 {
        n.do_send(Alert::Filled(fill(order_no)));
    }
    until_stats(&n, "the burst queued", |s| s.alerts == 40).await;
    gate.notify_one();
    until_stats(&n, "everything delivered", |s| s.queued == 0 && s.sent >= 2).await;

    let got = api.calls();
    let statuses: Vec<u16> = got.iter().map(|c| c.status).collect();
    assert_eq!(statuses, [200, 429, 200], "one resend, carrying the burst");
    assert_eq!(order_numbers(&got[0].payload), [1]);
    assert_eq!(order_numbers(&got[1].payload), [2]);
    assert_eq!(
        order_numbers(&got[2].payload),
        (2..=40).collect::<Vec<_>>(),
        "the message refused with 429 went again with the burst, coalesced"
    );
    assert!(message_text(&got[2]).starts_with("📋 <b>39 fills</b>\n"));
    // retry_after is 1 s: the resend waited at least that long after the 429.
    let waited = got[2].arrived - got[1].answered.unwrap();
    assert!(
        waited >= Duration::from_millis(990),
        "resent after {waited:?}"
    );
    let s = stats(&n).await;
    assert_eq!(
        (s.sent, s.notices_sent, s.retried_after_429, s.failed),
        (2, 40, 1, 0),
        "{s:?}"
    );
    assert_telegram_secrets_never_logged();
}

#[actix_rt::test]
async fn telegram_server_errors_are_retried_until_one_gets_through() {
    let api = BotApi::start(vec![Reply::Status(500), Reply::Status(502)], None);
    let n = start(telegram_config(&api.url));
    n.do_send(Alert::KillSwitch {
        cause: TripCause::LossLimit {
            pnl: -1_000_000,
            limit: 1_000_000,
        },
    });
    until_stats(&n, "delivered", |s| s.sent == 1).await;
    let got = api.calls();
    assert_eq!(
        got.iter().map(|c| c.status).collect::<Vec<_>>(),
        [500, 502, 200]
    );
    assert!(
        got.windows(2).all(|w| w[0].payload == w[1].payload),
        "the same message each time"
    );
    let text = message_text(&got[2]);
    assert!(text.starts_with("🚨 <b>KILL SWITCH ON</b>\n"), "{text}");
    assert!(text.contains("daily_loss_limit of 1000000 won"), "{text}");
    let s = stats(&n).await;
    assert_eq!(
        (s.attempts, s.failed, s.given_up, s.long_pauses),
        (3, 2, 0, 0)
    );
    assert!(logged("condor::notifier Telegram bot failed")
        .iter()
        .any(|l| l.contains("HTTP 500: Internal Server Error")));
    assert_telegram_secrets_never_logged();
}

#[actix_rt::test]
async fn telegram_a_wrong_token_is_refused_not_resent_and_never_logged() {
    let api = BotApi::start(Vec::new(), None);
    let mut cfg = telegram_config(&api.url);
    let wrong = "7391846205:AAFwrongTokenNotTheBots_never-logged-Zz7";
    cfg.telegram = Some(TelegramBot::new(
        ApiUrl::parse(&api.url).unwrap(),
        BotToken::parse(wrong).unwrap(),
        ChatId::parse(&TG_CHAT.to_string()).unwrap(),
    ));
    let n = start(cfg);
    n.do_send(Alert::Filled(fill(6_001)));
    until_stats(&n, "given up", |s| s.given_up == 1).await;
    assert_eq!(
        api.calls().iter().map(|c| c.status).collect::<Vec<_>>(),
        [401],
        "resending cannot help: sent once"
    );
    assert!(logged("Telegram refused the message")
        .iter()
        .any(|l| l.contains("HTTP 401: Unauthorized")));
    assert!(logged("not delivered to Telegram")
        .iter()
        .any(|l| l.contains("#6001")));
    assert!(logged(wrong.split_once(':').unwrap().1).is_empty());
    assert_telegram_secrets_never_logged();
}

#[actix_rt::test]
async fn telegram_messages_to_one_chat_keep_telegrams_pace() {
    let api = BotApi::start(Vec::new(), None);
    let mut cfg = telegram_config(&api.url);
    cfg.telegram_gap = Some(Duration::from_millis(400));
    let n = start(cfg);
    n.do_send(Alert::Filled(fill(1)));
    api.until_called(1).await;
    until_stats(&n, "the first delivered", |s| s.sent == 1).await;
    // Within the gap: these wait for it, then go together.
    for order_no in 2..=5 {
        n.do_send(Alert::Filled(fill(order_no)));
    }
    until_stats(&n, "the rest delivered", |s| s.notices_sent == 5).await;
    let got = api.calls();
    assert_eq!(got.len(), 2, "one message for what waited");
    assert_eq!(order_numbers(&got[1].payload), [2, 3, 4, 5]);
    let gap = got[1].arrived - got[0].answered.unwrap();
    assert!(
        gap >= Duration::from_millis(390),
        "sent again after {gap:?}"
    );
    assert_telegram_secrets_never_logged();
}

#[actix_rt::test]
async fn telegram_the_daily_summary_goes_as_a_photo_of_its_chart() {
    let api = BotApi::start(Vec::new(), None);
    let clock = ManualClock::new(TimeOfDay::hms(15, 39, 0));
    let mut cfg = telegram_config(&api.url);
    cfg.summary_at = TimeOfDay::hms(15, 40, 0);
    cfg.clock_check_every = Duration::from_millis(10);
    capture_logs();
    let n = Notifier::new(cfg, Arc::new(clock.clone())).start();
    a_day_of_two_round_trips(&n);
    until_stats(&n, "the fills told", |s| s.notices_sent == 4).await;
    let before = api.calls().len();

    clock.set_time_of_day(TimeOfDay::hms(15, 40, 0));
    let got = api.until_called(before + 1).await;
    let summary = &got[before];
    assert_eq!(summary.method, "sendPhoto");
    assert!(
        summary.content_type.starts_with("multipart/form-data"),
        "{}",
        summary.content_type
    );
    let p = &summary.payload;
    assert_eq!(p["chat_id"], TG_CHAT.to_string());
    assert_eq!(p["parse_mode"], "HTML");
    let caption = p["caption"].as_str().unwrap();
    assert!(
        caption.starts_with("📊 <b>Daily summary 2026-01-05</b>\nNet P&amp;L +28,500 won\n"),
        "{caption}"
    );
    for line in [
        "Orders: 4 sent: 4 filled, 0 cancelled, 0 rejected; 1 refused by risk",
        "Win rate: 50.00% (1 of 2 round trips)",
        "Realized P&amp;L: +30,000 won",
        "Fees and tax: 1,500 won",
        "Max drawdown: 21,500 won (0.02%)",
        "Intent → ack: p50 900 µs · p99 4,000 µs (4 orders)",
    ] {
        assert!(caption.contains(line), "{line} in {caption}");
    }
    assert_eq!(summary.files.len(), 1);
    let (name, filename, ctype, png_bytes) = &summary.files[0];
    assert_eq!(
        (name.as_str(), filename.as_str(), ctype.as_str()),
        ("photo", "equity.png", "image/png")
    );
    assert_is_a_chart(png_bytes);

    // Once a day: the stop that follows brings no second summary.
    n.do_send(Alert::EngineStopped(Default::default()));
    let got = api.until_called(before + 2).await;
    assert!(message_text(&got[before + 1]).contains("condor stopped"));
    assert_eq!(got.iter().filter(|c| c.method == "sendPhoto").count(), 1);
    assert_telegram_secrets_never_logged();
}

#[actix_rt::test]
async fn both_destinations_get_each_notice_and_a_failing_one_does_not_hold_the_other_back() {
    let hook = Hook::start(Vec::new(), None);
    let api = BotApi::start(Vec::new(), Some(Reply::Status(503)));
    let mut cfg = telegram_config(&api.url);
    cfg.webhook = Some(WebhookUrl::parse(&hook.url).unwrap());
    let n = start(cfg);
    n.do_send(Alert::Filled(fill(5_001)));
    // Telegram: its three attempts, then given up and paused. Discord: delivered.
    until_stats(&n, "Telegram given up", |s| s.given_up == 1).await;
    until_stats(&n, "Discord delivered", |s| s.sent == 1).await;
    assert_eq!(api.calls().len(), 3);
    assert_eq!(stats(&n).await.long_pauses, 1);

    // Telegram is paused; Discord goes on, each notice still reaching it.
    for order_no in 5_002..=5_004 {
        n.do_send(Alert::Filled(fill(order_no)));
    }
    until_stats(&n, "Discord delivered the rest", |s| s.notices_sent == 4).await;
    let delivered: Vec<i64> = hook
        .received()
        .iter()
        .flat_map(|r| order_numbers(&r.payload))
        .collect();
    assert_eq!(delivered, (5_001..=5_004).collect::<Vec<_>>());
    assert_eq!(api.calls().len(), 3, "no Telegram request during its pause");
    assert_eq!(stats(&n).await.queued, 3, "waiting for Telegram");

    // At the stop, what Telegram did not get is logged, each notice.
    n.send(Stop { reason: "test" }).await.unwrap();
    let lost = logged("not delivered to Telegram");
    for order_no in 5_001..=5_004 {
        let mark = format!("#{order_no}");
        assert!(lost.iter().any(|l| l.contains(&mark)), "{mark}: {lost:?}");
    }
    assert!(!logged("not delivered to Discord")
        .iter()
        .any(|l| l.contains("#500")));
    assert!(logged("condor::notifier Telegram bot failed")
        .iter()
        .any(|l| l.contains("HTTP 503")));
    assert_token_never_logged();
    assert_telegram_secrets_never_logged();
}

// ---- the wiring, end to end ----

struct Proc(std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn condor_run_tells_its_start_fills_summary_and_stop_on_discord_and_telegram() {
    let hook = Hook::start(Vec::new(), None);
    let api = BotApi::start(Vec::new(), None);
    // A private chat: Telegram's pace for it is a message a second.
    let chat = "7123456789";
    let data = tempfile::tempdir().unwrap();
    let scenario = data.path().join("notify.scn");
    std::fs::write(&scenario, "condition S001 알림\nat 0ms S001 enter 005930\n").unwrap();
    // A file, not a pipe: a pipe nobody reads while condor runs could fill and stall it.
    let log_path = data.path().join("condor.log");
    let child = Command::new(env!("CARGO_BIN_EXE_condor"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .current_dir(data.path())
        .args([
            "run",
            "--condition",
            "S001",
            "--rest-port",
            "0",
            "--ws-port",
            "0",
        ])
        .args(["--no-rate-limit", "--trades-per-sec", "20", "--scenario"])
        .arg(&scenario)
        .env("CONDOR_DATA_DIR", data.path().join("state"))
        .env("CONDOR_DISCORD_WEBHOOK", &hook.url)
        .env("CONDOR_TELEGRAM_BOT_TOKEN", TG_TOKEN)
        .env("CONDOR_TELEGRAM_CHAT_ID", chat)
        .env("CONDOR_TELEGRAM_API_URL", &api.url)
        .env("CONDOR_HTTP_ADDR", "off")
        // Enter on the first trade, leave after a second: a round trip soon.
        .env("CONDOR_MIN_CHANGE_BP", "-3000")
        .env("CONDOR_CONFIRM_TICKS", "1")
        .env("CONDOR_MAX_HOLD_SECS", "1")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap())
        .spawn()
        .expect("condor run starts");
    let mut run = Proc(child);
    let all_text = || {
        hook.received()
            .iter()
            .map(|r| texts(&r.payload))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let telegram_text = || {
        api.calls()
            .iter()
            .map(|c| texts(&c.payload))
            .collect::<Vec<_>>()
            .join("\n")
    };
    until("a buy and a sell told, on both", || async {
        let (d, t) = (all_text(), telegram_text());
        d.contains("SELL") && d.contains("BUY") && t.contains("SELL") && t.contains("BUY")
    })
    .await;
    let kill = Command::new("kill")
        .args(["-TERM", &run.0.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = run.0.wait().unwrap();
    let stderr = std::fs::read_to_string(&log_path).unwrap();
    assert!(status.success(), "{status:?}\n{stderr}");

    let got = hook.received();
    let text = all_text();
    assert!(texts(&got[0].payload).contains("condor started"), "{text}");
    assert!(
        text.contains("005930 삼성전자"),
        "names from the stock master: {text}"
    );
    let summary = got
        .iter()
        .position(|r| r.content_type.starts_with("multipart"))
        .expect("the day's summary, with its chart");
    assert!(got[summary].files[0].3.starts_with(b"\x89PNG"));
    let last = got.last().unwrap();
    assert!(
        texts(&last.payload).contains("condor stopped") && summary < got.len() - 1,
        "the stop comes last, after the summary: {text}"
    );
    assert!(got.iter().all(|r| r.status == 204));
    assert!(!stderr.contains(TOKEN), "the token is not in condor's log");
    assert!(stderr.contains("alerts go to a Discord webhook on 127.0.0.1"));

    // Telegram was told the same, in the same order, each message accepted.
    let calls = api.calls();
    let text = telegram_text();
    assert!(message_text(&calls[0]).contains("condor started"), "{text}");
    assert!(text.contains("005930 삼성전자"), "{text}");
    let photo = calls
        .iter()
        .position(|c| c.method == "sendPhoto")
        .expect("the day's summary, as a photo of its chart");
    assert!(calls[photo].files[0].3.starts_with(b"\x89PNG"));
    assert!(
        message_text(calls.last().unwrap()).contains("condor stopped") && photo < calls.len() - 1,
        "the stop comes last, after the summary: {text}"
    );
    assert!(calls.iter().all(|c| c.status == 200));
    assert!(calls
        .iter()
        .all(|c| c.payload["chat_id"].to_string().contains(chat)));
    let key = TG_TOKEN.split_once(':').unwrap().1;
    for secret in [TG_TOKEN, key, chat] {
        assert!(
            !stderr.contains(secret),
            "no Telegram secret in condor's log"
        );
    }
    assert!(
        stderr.contains("a Telegram chat through 127.0.0.1"),
        "{stderr}"
    );
}
