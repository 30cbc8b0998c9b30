//! `condor sim` on an accelerated clock (`CONDOR_CLOCK`): from Thursday 15:29:52 at 1x in
//! the session and 7200x outside it, the market trades to 15:30, prints nothing through the
//! night and refuses orders with LS's 장운영시간 answer, and trades again from Friday's
//! 09:00 with Thursday's last prices as the previous closes. The test reads its own clock
//! from the same spec and checks that the simulator never stamps a trade or an order in
//! the test's market future: both compute one market time. Nothing here times the wall
//! clock.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::{next_json, send_registration, Client, PATIENCE};
use condor_actors::clock::{Clock, ClockSpec, ScaledClock, SystemClock};
use condor_actors::market::TimeOfDay;
use serde_json::{json, Value};

struct Running {
    child: Child,
    rest: String,
    ws: String,
    appkey: String,
    appsecret: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_sim(clock: &str) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_condor"))
        .args([
            "sim",
            "--rest-port",
            "0",
            "--ws-port",
            "0",
            "--gap-ups",
            "0",
        ])
        .env("CONDOR_CLOCK", clock)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("condor starts");
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = HashMap::new();
    for _ in 0..4 {
        let mut line = String::new();
        reader.read_line(&mut line).expect("a start line");
        let (k, v) = line
            .trim()
            .split_once(": ")
            .unwrap_or_else(|| panic!("key: value line, got {line:?}"));
        lines.insert(k.to_owned(), v.to_owned());
    }
    Running {
        child,
        rest: lines["rest"].clone(),
        ws: lines["websocket"].clone(),
        appkey: lines["appkey"].clone(),
        appsecret: lines["appsecret"].clone(),
    }
}

fn hhmmss(v: &Value) -> TimeOfDay {
    let s = v.as_str().unwrap_or_else(|| panic!("a time string: {v}"));
    TimeOfDay::parse_hhmmss(&s[..6]).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The previous close a trade frame implies: price minus the signed change.
fn prev_close(body: &Value) -> i64 {
    let price = common::num(&body["price"]);
    let change = common::num(&body["change"]);
    match body["sign"].as_str() {
        Some("1" | "2") => price - change,
        Some("4" | "5") => price + change,
        _ => price,
    }
}

async fn order(client: &Client) -> Value {
    let (_, _, v) = client
        .tr(
            "/stock/order",
            "CSPAT00601",
            json!({"CSPAT00601InBlock1": {
                "IsuNo": "A005930", "OrdQty": 1, "OrdPrc": 0, "BnsTpCode": "2",
                "OrdprcPtnCode": "03", "MgntrnCode": "000", "LoanDt": "", "OrdCndiTpCode": "0"
            }}),
        )
        .await;
    v
}

#[tokio::test]
async fn on_a_scaled_clock_the_market_closes_sleeps_and_opens_the_next_trading_day() {
    // Thursday 2026-12-03; Friday 12-04 trades. No lead: the night runs at 7200x to 09:00.
    // The market stands at the start until the epoch, a second from now: time to start.
    let epoch = SystemClock.unix_ms() + 1_000;
    let text = format!("2026-12-03T15:29:52@{epoch}x1/7200,lead=0");
    let spec = ClockSpec::parse(&text, 0).unwrap();
    let ours = ScaledClock::new(spec);
    let sim = start_sim(&text);

    let http = reqwest::Client::new();
    let token = common::token(&http, &sim.rest, &sim.appkey, &sim.appsecret)
        .await
        .expect("token");
    let client = Client {
        http,
        rest: sim.rest.clone(),
        ws_url: sim.ws.clone(),
        token,
    };
    let mut ws = client.ws().await;
    let tickers = ["005930", "000660", "005380", "000270", "035420", "035720"];
    for t in tickers {
        send_registration(&mut ws, &client.token, "3", "S3_", t).await;
    }

    let close = TimeOfDay::hms(15, 30, 0);
    // Two market minutes after the close, in the night: an order, sent by a task that
    // sleeps the real time the shared clock says it takes to get there.
    let night_order = {
        let ours = ScaledClock::new(spec);
        let client = Client {
            http: client.http.clone(),
            rest: client.rest.clone(),
            ws_url: client.ws_url.clone(),
            token: client.token.clone(),
        };
        let after_close = spec.start_unix_ms() + 8_000 + 120_000;
        tokio::spawn(async move {
            let wait = ours.real_duration_until(after_close).expect("reachable");
            tokio::time::sleep(wait).await;
            let (day, at) = (ours.today().to_string(), ours.time_of_day());
            (order(&client).await, day, at)
        })
    };
    let mut thursday: Vec<(String, TimeOfDay, i64)> = Vec::new();
    let friday_first = loop {
        let v = tokio::time::timeout(PATIENCE, next_json(&mut ws))
            .await
            .expect("a frame");
        let (day, now) = (ours.today().to_string(), ours.time_of_day());
        if v["header"]["tr_cd"] != "S3_" || !v["body"].is_object() {
            continue;
        }
        let body = &v["body"];
        let at = hhmmss(&body["chetime"]);
        let ticker = v["header"]["tr_key"].as_str().unwrap().to_owned();
        if at >= TimeOfDay::hms(15, 0, 0) {
            assert!(at < close, "a trade at or after the close: {v}");
            assert_eq!(
                day, "2026-12-03",
                "Thursday's trade {at} reached us on {day}"
            );
            assert!(at <= now, "stamped {at}, ahead of the shared clock's {now}");
            thursday.push((ticker, at, common::num(&body["price"])));
            continue;
        }
        // The first trade of another day: only once the shared clock is at Friday's open.
        assert!(at >= TimeOfDay::hms(9, 0, 0), "{v}");
        assert_eq!(day, "2026-12-04", "the next trading day");
        assert!(at <= now, "stamped {at}, ahead of the shared clock's {now}");
        break (ticker, at, prev_close(body), hhmmss(&body["opentime"]));
    };
    let last = thursday.iter().map(|(_, at, _)| *at).max();
    assert!(
        last >= Some(TimeOfDay::hms(15, 29, 58)),
        "Thursday traded until its close: {last:?}"
    );

    // Friday's previous close of the ticker is Thursday's last price, if it traded then.
    let (ticker, at, prev, opened) = friday_first;
    if let Some((_, _, last)) = thursday.iter().rev().find(|(t, _, _)| *t == ticker) {
        assert_eq!(prev, *last, "{ticker}: Friday's previous close");
    }
    assert_eq!(opened, at, "{ticker}: Friday's first trade is its open");

    // An order now, in Friday's session, is taken and stamped by the shared clock.
    let v = order(&client).await;
    assert_eq!(v["rsp_cd"], "00040", "{v}");
    let stamped = hhmmss(&v["CSPAT00601OutBlock2"]["OrdTime"]);
    assert!(stamped >= TimeOfDay::hms(9, 0, 0) && stamped <= ours.time_of_day());

    // The night refused an order with LS's 장운영시간 answer.
    let (v, asked_on, asked_at) = night_order.await.unwrap();
    assert_eq!(
        (asked_on.as_str(), asked_at >= close),
        ("2026-12-03", true),
        "asked in Thursday's night"
    );
    assert_eq!(v["rsp_cd"], "90008", "{v}");
    assert_eq!(v["rsp_msg"], "장운영시간이 아닙니다.", "{v}");
}
