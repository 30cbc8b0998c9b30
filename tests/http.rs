//! condor run's HTTP server, over real sockets: `/status` agrees with the simulator's own
//! account, `/metrics` is valid Prometheus text with the engine's figures, the bearer token
//! guards requests that do not come from this machine and never reaches the log, bad
//! settings stop condor before it trades, and `condor status` reads it all.

mod common;
#[path = "support/exposition.rs"]
mod exposition;

use std::collections::BTreeMap;

use common::binary::{self as condor_run, condor, exited, subscribed, until_ticking};
use common::until;
use condor::http::status::Status;
use condor_actors::broker_account;
use condor_actors::calendar::{self, Calendar};
use condor_actors::clock::{Clock, SystemClock, TradingDay};
use condor_actors::domain::OrderNo;
use condor_actors::market::TimeOfDay;
use exposition::Kind;

/// Enter on the first trade and then hold: take-profit and stop-loss too far to reach and
/// a time stop of an hour, so the positions stand still while they are compared. Three
/// orders a day at most.
const HOLD: [(&str, &str); 6] = [
    ("CONDOR_MIN_CHANGE_BP", "-3000"),
    ("CONDOR_CONFIRM_TICKS", "1"),
    ("CONDOR_TAKE_PROFIT_BP", "9000"),
    ("CONDOR_STOP_LOSS_BP", "9000"),
    ("CONDOR_MAX_HOLD_SECS", "3600"),
    ("CONDOR_MAX_ORDERS_PER_DAY", "3"),
];

/// Three tickers and cash for two entries of 1,000,000 won: the third entry is rejected by
/// the broker (90009, insufficient cash) and its retries by the risk gate (three orders a
/// day).
const THREE: &str = "cash 2000000
condition S001 상태 시험
at 0ms S001 enter 005930
at 0ms S001 enter 247540
at 0ms S001 enter 000660
";

async fn status(http: &str) -> Status {
    reqwest::get(format!("{http}/status"))
        .await
        .expect("GET /status")
        .json()
        .await
        .expect("/status is a Status")
}

#[tokio::test]
async fn status_and_metrics_agree_with_the_simulator() {
    let sim = condor_run::sim(THREE);
    let dir = tempfile::tempdir().unwrap();
    let mut run = condor_run::start(&sim, dir.path(), "S001", &HOLD);
    let http = &run.http;

    // Two bought, one rejected and then refused, nothing working, every feed ticking.
    let s = until(
        "two held, one rejected and refused, three feeds ticking",
        || async move {
            let s = status(http).await;
            let held = s.positions.iter().filter(|p| p.qty > 0).count();
            let ticking = s
                .feeds
                .iter()
                .filter(|f| f.ticks > 0 && f.last_price.is_some())
                .count();
            let c = &s.counters;
            let settled = c.working == 0 && c.rejected == 1 && c.refused_by_risk > 0;
            // The Portfolio books a fill after the OrderManager has counted it: the snapshot
            // is whole once every position holds what its orders filled.
            let booked = s.positions.iter().all(|p| {
                let filled: u64 = s
                    .orders
                    .iter()
                    .filter(|o| o.ticker == p.ticker && o.side == "buy")
                    .map(|o| o.filled)
                    .sum();
                p.qty == filled
            });
            (held == 2 && settled && booked && ticking == 3).then_some(s)
        },
    )
    .await;

    // The simulator's side of it: subscriptions, holdings, today's orders, cash.
    let rest = common::ls_rest(&sim).await;
    let subs = subscribed(sim.rest_url()).await;
    let feeds: Vec<&str> = s.feeds.iter().map(|f| f.ticker.as_str()).collect();
    assert_eq!(subs, ["000660", "005930", "247540"]);
    assert_eq!(feeds, subs, "feeds = the simulator's subscriptions");
    let names: Vec<&str> = s.feeds.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["SK하이닉스", "삼성전자", "에코프로비엠"]);

    let holdings = broker_account::holdings(&rest).await.unwrap();
    let ours: BTreeMap<String, (u64, i64)> = s
        .positions
        .iter()
        .filter(|p| p.qty > 0)
        .map(|p| (p.ticker.clone(), (p.qty, p.avg_price.unwrap())))
        .collect();
    let theirs: BTreeMap<String, (u64, i64)> = holdings
        .iter()
        .map(|h| (h.ticker.to_string(), (h.qty.shares(), h.avg_price.won())))
        .collect();
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>()
    );
    for (t, (qty, avg)) in &ours {
        let (bq, bavg) = theirs[t];
        assert_eq!(*qty, bq, "{t} quantity");
        // The broker rounds its average down to the won.
        assert!((avg - bavg).abs() <= 1, "{t} average {avg} vs {bavg}");
    }
    let broker_orders = broker_account::orders_of_day(&rest).await.unwrap();
    let rejected: Vec<_> = s.orders.iter().filter(|o| o.state == "rejected").collect();
    assert_eq!(rejected.len(), 1, "{:?}", s.orders);
    assert!(
        rejected[0]
            .reject
            .as_deref()
            .is_some_and(|r| r.starts_with("[90009]")),
        "{:?}",
        rejected[0]
    );
    let ours: BTreeMap<OrderNo, (String, u64, u64)> = s
        .orders
        .iter()
        .filter(|o| o.state != "rejected")
        .map(|o| {
            (
                o.order_no.expect("an order number"),
                (o.ticker.clone(), o.qty, o.filled),
            )
        })
        .collect();
    let theirs: BTreeMap<OrderNo, (String, u64, u64)> = broker_orders
        .iter()
        .map(|o| {
            (
                o.order_no,
                (o.ticker.to_string(), o.qty.shares(), o.filled.shares()),
            )
        })
        .collect();
    assert_eq!(ours, theirs, "orders = the broker's orders of the day");
    let account = s.account.as_ref().expect("the account");
    assert_eq!(account.cash, broker_account::cash(&rest).await.unwrap());
    let bought: u64 = s
        .fills
        .iter()
        .filter(|f| f.side == "buy")
        .map(|f| f.qty)
        .sum();
    assert_eq!(bought, holdings.iter().map(|h| h.qty.shares()).sum::<u64>());
    assert!(s.connection.connected && !s.kill_switch_on);
    assert_eq!(s.counters.orders, 3);
    assert!(s.latency.intent_to_ack.count >= 2);

    // /metrics: Prometheus text, parsed strictly, with the engine's figures.
    let r = reqwest::get(format!("{}/metrics", run.http)).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = r.text().await.unwrap();
    let m = exposition::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for (family, kind) in [
        ("condor_ticks_total", Kind::Counter),
        ("condor_mailbox_lag_messages", Kind::Gauge),
        ("condor_live_feeds", Kind::Gauge),
        ("condor_feed_events_total", Kind::Counter),
        ("condor_orders", Kind::Gauge),
        ("condor_rejects_total", Kind::Counter),
        ("condor_risk_refusals_total", Kind::Counter),
        ("condor_broker_reconnects_total", Kind::Counter),
        ("condor_journal_appends_total", Kind::Counter),
        ("condor_tick_to_intent_seconds", Kind::Histogram),
        ("condor_intent_to_ack_seconds", Kind::Histogram),
        ("condor_ack_to_fill_seconds", Kind::Histogram),
    ] {
        let f = m
            .family(family)
            .unwrap_or_else(|| panic!("{family} in\n{text}"));
        assert_eq!(f.kind, kind, "{family}");
        assert!(
            f.help.as_deref().is_some_and(|h| !h.is_empty()),
            "{family} HELP"
        );
    }
    // Each tick counted once per stage, from the one count the stats read too.
    let stage = |s: &str| m.value("condor_ticks_total", &[("stage", s)]);
    let (decoded, routed, handled) = (stage("decoded"), stage("routed"), stage("handled"));
    assert!(handled > 0.0, "ticks handled");
    assert!(
        decoded >= routed && routed >= handled,
        "decoded {decoded} >= routed {routed} >= handled {handled}"
    );
    assert_eq!(stage("lost"), 0.0);
    for link in ["session_to_processor", "processor_to_orders"] {
        let lag = m.value("condor_mailbox_lag_messages", &[("link", link)]);
        assert!(lag >= 0.0, "{link} lag {lag}");
    }
    assert_eq!(m.value("condor_live_feeds", &[]), subs.len() as f64);
    assert_eq!(
        m.value("condor_feed_events_total", &[("event", "spawned")]),
        3.0
    );
    assert_eq!(m.value("condor_orders", &[("state", "filled")]), 2.0);
    assert_eq!(m.value("condor_orders", &[("state", "rejected")]), 1.0);
    assert_eq!(m.value("condor_orders", &[("state", "working")]), 0.0);
    assert_eq!(m.value("condor_rejects_total", &[("code", "90009")]), 1.0);
    assert!(
        m.value(
            "condor_risk_refusals_total",
            &[("rule", "max_orders_per_day")]
        ) >= 1.0
    );
    for actor in ["processor", "order_manager"] {
        assert!(m.value("condor_intents_total", &[("actor", actor)]) >= 4.0);
    }
    assert!(m.value("condor_fills_total", &[]) >= 2.0);
    assert_eq!(m.value("condor_open_positions", &[]), 2.0);
    assert_eq!(m.value("condor_broker_connected", &[]), 1.0);
    assert_eq!(m.value("condor_kill_switch_on", &[]), 0.0);
    assert_eq!(m.value("condor_cash_won", &[]), account.cash as f64);
    assert!(m.value("condor_journal_appends_total", &[]) > 0.0);
    for leg in ["tick_to_intent", "intent_to_ack", "ack_to_fill"] {
        let count = m.value(&format!("condor_{leg}_seconds_count"), &[]);
        assert!(count >= 2.0, "{leg}: {count} samples");
        assert!(m.value(&format!("condor_{leg}_seconds_sum"), &[]) > 0.0);
    }

    // condor status reads the same, for a person and as JSON.
    let out = condor(dir.path())
        .args(["status", "--addr", run.http.trim_start_matches("http://")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "live feeds (3)",
        "000660  SK하이닉스",
        "005930  삼성전자",
        "247540  에코프로비엠",
        "positions (2 held)",
        "broker connected",
        "kill switch off",
        "mailbox lag: session to processor",
    ] {
        assert!(text.contains(want), "{want:?} in:\n{text}");
    }
    let out = condor(dir.path())
        .args(["status", "--json", "--addr", &run.http])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Status = serde_json::from_slice(&out.stdout).expect("--json prints a Status");
    assert_eq!(doc.feeds.len(), 3);
    let held = |ps: &[condor::http::status::Position]| -> Vec<(String, u64, Option<i64>)> {
        ps.iter()
            .map(|p| (p.ticker.clone(), p.qty, p.avg_price))
            .collect()
    };
    assert_eq!(held(&doc.positions), held(&s.positions));

    assert!(run.stop(), "exit 0:\n{}", run.log_text());
}

/// Today and tomorrow (KST) closed by the setting: whenever the test runs, even across
/// midnight, the running condor's day is closed and its next session is the first trading
/// day after tomorrow, which KRX's calendar with the same closures names.
#[tokio::test]
async fn status_says_the_market_is_closed_and_when_the_next_session_opens() {
    let today = SystemClock.today();
    let tomorrow = TradingDay::from_unix_ms(today.midnight_unix_ms() + 86_400_000);
    let closed = format!("{today},{tomorrow}");
    let calendar = Calendar::krx().with_closures(&closed).unwrap();
    let (next_day, next) = calendar.next_session_after(tomorrow, TimeOfDay::hms(0, 0, 0));
    let next_session = format!("{next_day} {}", calendar::hm(next.open));

    let sim = condor_run::sim("condition S001 휴장\nat 0ms S001 enter 005930\n");
    let dir = tempfile::tempdir().unwrap();
    let mut run = condor_run::start(
        &sim,
        dir.path(),
        "S001",
        &[("CONDOR_CLOSED_DAYS", closed.as_str())],
    );
    let s = status(&run.http).await;
    let m = &s.market;
    assert!(!m.open, "{m:?}");
    assert_eq!(
        m.next_session.as_deref(),
        Some(next_session.as_str()),
        "{m:?}"
    );
    assert_eq!(m.closes_at, None);
    // The reason is the closure, or the weekend or a holiday that closes the day anyway.
    let why = m.closed_for.as_deref().unwrap_or_default();
    assert!(["closure", "weekend", "holiday"].contains(&why), "{m:?}");
    assert!(
        m.text.starts_with("market closed (")
            && m.text.ends_with(&format!(
                "next session {} {next_session} KST",
                calendar::weekday_name(next_day)
            )),
        "{m:?}"
    );

    let out = condor(dir.path())
        .args(["status", "--addr", &run.http])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("market closed (")
                && l.contains(&format!(
                    "next session {} {next_session} KST",
                    calendar::weekday_name(next_day)
                ))),
        "{text}"
    );
    assert!(run.stop(), "exit 0:\n{}", run.log_text());
    assert!(
        run.log_text().contains("is no trading day"),
        "the start says so:\n{}",
        run.log_text()
    );
}

#[test]
fn a_bad_calendar_setting_stops_condor_naming_the_variable_and_the_value() {
    let dir = tempfile::tempdir().unwrap();
    for (var, value, says) in [
        (
            "CONDOR_CLOSED_DAYS",
            "2026-12-24,2026-12-32",
            "is not a date",
        ),
        ("CONDOR_LATE_OPEN", "2026-11-18@9:30", "is not DATE@HH:MM"),
        (
            "CONDOR_LATE_OPEN",
            "2026-11-21@10:00",
            "is not a trading day (weekend)",
        ),
    ] {
        let child = condor(dir.path())
            .args([
                "run",
                "--rest-port",
                "0",
                "--ws-port",
                "0",
                "--http-addr",
                "off",
            ])
            .env(var, value)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A condor that started anyway would trade until killed: give it a bound.
        let out = exited(
            child,
            &format!("condor run with {var}={value} did not stop"),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}={value} refused");
        let bad = value.rsplit(',').next().unwrap();
        assert!(
            err.contains(&format!("{var} (--")) && err.contains(&format!("{bad:?} {says}")),
            "{var}={value}: {err}"
        );
    }
}

const TOKEN: &str = "Tk-0123456789abcdef-ZYXW";

#[tokio::test]
async fn a_forwarded_request_needs_the_token_and_the_token_never_reaches_the_log() {
    let sim = condor_run::sim("condition S001 토큰\nat 0ms S001 enter 005930\n");
    let dir = tempfile::tempdir().unwrap();
    let mut run = condor_run::start(
        &sim,
        dir.path(),
        "S001",
        &[("CONDOR_HTTP_TOKEN", TOKEN), ("RUST_LOG", "debug")],
    );
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let mut r = http.get(format!("{}{path}", run.http));
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.send()
    };
    let proxied = ("x-forwarded-for", "203.0.113.7");

    // From this machine, no token needed.
    assert_eq!(get("/status", &[]).await.unwrap().status(), 200);
    // Through a proxy: refused without the token, or with a wrong one.
    for path in ["/status", "/metrics", "/events", "/"] {
        let r = get(path, &[proxied]).await.unwrap();
        assert_eq!(r.status(), 401, "{path}");
        assert!(r.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer"));
    }
    let wrong = format!("Bearer {}", TOKEN.to_lowercase());
    let r = get("/status", &[proxied, ("authorization", &wrong)])
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        get("/metrics", &[("forwarded", "for=203.0.113.7")])
            .await
            .unwrap()
            .status(),
        401
    );
    // With it: served.
    let bearer = format!("Bearer {TOKEN}");
    let r = get("/status", &[proxied, ("authorization", &bearer)])
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Status>().await.expect("a status");
    // A browser: ?token= once, then the cookie it is given.
    let r = get(&format!("/?token={TOKEN}"), &[proxied]).await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let pair = cookie.split(';').next().unwrap().to_owned();
    let r = get("/", &[proxied, ("cookie", &pair)]).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("EventSource"));

    // Let it trade a moment (debug logging on), then stop it and read the whole log.
    until_ticking(&run.http).await;
    assert!(run.stop(), "exit 0:\n{}", run.log_text());
    let log = run.log_text();
    assert!(
        log.contains("refused GET /status from"),
        "refusals are logged"
    );
    assert!(!log.contains(TOKEN), "the token is not in the log");
    assert!(!log.contains(&TOKEN.to_lowercase()), "nor a wrong one");
}

/// A loopback server that plays a condor needing `TOKEN`, to see what `condor status` sends.
async fn fake_condor() -> String {
    use axum::http::HeaderMap;
    let app = axum::Router::new().route(
        "/status",
        axum::routing::get(|headers: HeaderMap| async move {
            let ok = headers
                .get("authorization")
                .is_some_and(|v| v == format!("Bearer {TOKEN}").as_str());
            if ok {
                let s = Status {
                    broker: "a fake condor".into(),
                    ..Status::default()
                };
                (
                    axum::http::StatusCode::OK,
                    serde_json::to_string(&s).unwrap(),
                )
            } else {
                (axum::http::StatusCode::UNAUTHORIZED, "token\n".to_owned())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr.to_string()
}

// Two threads: the fake condor answers while this one waits on `condor status`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condor_status_sends_the_token_and_says_clearly_what_went_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let addr = fake_condor().await;
    let status = |env: &[(&str, &str)], addr: &str| {
        let mut c = condor(dir.path());
        c.args(["status", "--addr", addr]);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = status(&[("CONDOR_HTTP_TOKEN", TOKEN)], &addr);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("a fake condor"));

    let out = status(&[], &addr);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("set CONDOR_HTTP_TOKEN"), "{err}");

    // Nothing listening: a port just freed.
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let out = status(
        &[("CONDOR_HTTP_TOKEN", TOKEN)],
        &format!("127.0.0.1:{port}"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("nothing is listening") && err.contains("condor run"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
}

#[test]
fn bad_http_settings_stop_condor_before_it_trades() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut c = condor(dir.path());
        c.args(["run", "--rest-port", "0", "--ws-port", "0"])
            .args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        // A condor that started anyway would trade until killed: give it a bound.
        let child = c
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = exited(child, &format!("condor run {args:?} did not stop"));
        assert!(!out.status.success(), "{args:?} refused");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&["--http-addr", "0.0.0.0:0"], &[]);
    assert!(
        err.contains("CONDOR_HTTP_TOKEN") && err.contains("not a loopback address"),
        "{err}"
    );
    let short = "short-token";
    let err = run(
        &[],
        &[
            ("CONDOR_HTTP_ADDR", "0.0.0.0:0"),
            ("CONDOR_HTTP_TOKEN", short),
        ],
    );
    assert!(err.contains("at least 16") && !err.contains(short), "{err}");
    let err = run(&["--http-addr", "8686"], &[]);
    assert!(err.contains("--http-addr"), "{err}");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let err = run(&["--http-addr", &addr], &[]);
    assert!(
        err.contains(&format!("cannot listen on {addr}")) && err.contains("CONDOR_HTTP_ADDR"),
        "{err}"
    );
}

#[test]
fn the_exposition_parser_refuses_what_prometheus_would() {
    let good = "# HELP a_total Things.\n# TYPE a_total counter\na_total{x=\"1\"} 3\n\
                # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1.5\nh_count 2\n";
    let m = exposition::parse(good).unwrap();
    assert_eq!(m.value("a_total", &[("x", "1")]), 3.0);
    assert_eq!(m.family("h").unwrap().kind, Kind::Histogram);
    for (bad, why) in [
        ("a 1", "no final newline"),
        ("9a 1\n", "a bad name"),
        ("a{x=\"1} 1\n", "an unterminated label value"),
        ("a{x=1} 1\n", "an unquoted label value"),
        ("a{x=\"\\q\"} 1\n", "a bad escape"),
        ("a{x=\"1\",x=\"2\"} 1\n", "a label twice"),
        ("a one\n", "a value that is no number"),
        ("a\n", "no value"),
        ("a 1\na 2\n", "a series twice"),
        ("a 1\nb 1\na{x=\"y\"} 1\n", "a family's samples apart"),
        ("a 1\n# TYPE a gauge\n", "TYPE after samples"),
        ("# TYPE a gauge\n# TYPE a gauge\n", "two TYPEs"),
        ("# TYPE a_total counter\na_total -1\n", "a negative counter"),
        ("# TYPE a blob\n", "an unknown type"),
        (
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "buckets not cumulative",
        ),
        (
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
            "+Inf bucket not the count",
        ),
        ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", "no +Inf bucket"),
        ("# TYPE h histogram\nh_bucket 1\n", "a bucket without le"),
    ] {
        assert!(exposition::parse(bad).is_err(), "{why}: {bad:?}");
    }
}
