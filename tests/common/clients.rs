//! Clients of the embedded exchange: the engine's own REST clients, logged in, and a
//! literal LS OPEN API client that speaks JSON over real sockets.

use condor::engine::BrokerLink;
use condor::sim::{Protocol, SimConfig, SimHandle, SubscriptionReport};
use condor_actors::kiwoom_rest::KiwoomRest;
use condor_actors::ls_rest::LsRest;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::wait::{until, PATIENCE};

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub fn start(cfg: SimConfig) -> SimHandle {
    SimHandle::start(cfg).expect("simulator starts")
}

/// The engine's LS client for `sim`, holding a token.
pub async fn ls_rest(sim: &SimHandle) -> LsRest {
    LsRest::connect(
        sim.rest_url(),
        sim.appkey().expose(),
        sim.appsecret().expose(),
    )
    .await
    .expect("LS grants a token")
}

/// The engine's Kiwoom client for `sim`, holding a token.
pub async fn kiwoom_rest(sim: &SimHandle) -> KiwoomRest {
    KiwoomRest::connect(sim.rest_url(), sim.appkey(), sim.appsecret())
        .await
        .expect("au10001 grants a token")
}

/// Logged in to `sim` as `condor run` does for its protocol.
pub async fn broker_link(sim: &SimHandle) -> BrokerLink {
    match sim.protocol() {
        Protocol::Ls => BrokerLink::ls(ls_rest(sim).await, sim.ws_url()),
        Protocol::Kiwoom => BrokerLink::kiwoom(kiwoom_rest(sim).await, sim.ws_url()),
    }
}

/// Waits until the simulator's live trade subscriptions are exactly `want`.
pub async fn until_subscribed(sim: &SimHandle, want: &[&str]) -> SubscriptionReport {
    let want: std::collections::BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    until(format!("subscriptions {want:?}"), async || {
        let report = sim.subscriptions().await;
        let got: std::collections::BTreeSet<String> =
            report.subscribed_tickers().into_iter().collect();
        if got == want {
            Ok(report)
        } else {
            Err(format!("subscribed {got:?}"))
        }
    })
    .await
}

/// A simulator whose market is quiet unless a test asks (slow trades).
pub fn quiet_config() -> SimConfig {
    let mut cfg = SimConfig::default();
    cfg.exchange.trades_per_sec = 0.2;
    cfg
}

pub struct Client {
    pub http: reqwest::Client,
    pub rest: String,
    pub ws_url: String,
    pub token: String,
}

impl Client {
    pub async fn connect(sim: &SimHandle) -> Client {
        let http = reqwest::Client::new();
        let token = token(
            &http,
            sim.rest_url(),
            sim.appkey().expose(),
            sim.appsecret().expose(),
        )
        .await
        .expect("token issued");
        Client {
            http,
            rest: sim.rest_url().to_owned(),
            ws_url: sim.ws_url().to_owned(),
            token,
        }
    }

    /// POSTs a TR with LS's headers; returns (HTTP status, headers, JSON body).
    pub async fn tr(
        &self,
        path: &str,
        tr_cd: &str,
        body: Value,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let r = self
            .http
            .post(format!("{}{}", self.rest, path))
            .header("content-type", "application/json; charset=utf-8")
            .header("authorization", format!("Bearer {}", self.token))
            .header("tr_cd", tr_cd)
            .header("tr_cont", "N")
            .header("tr_cont_key", "")
            .body(body.to_string())
            .send()
            .await
            .expect("REST call");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.expect("body");
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("reply is JSON ({e}): {text}"));
        (status, headers, v)
    }

    pub async fn order(&self, isu: &str, qty: i64, price: i64, side: &str, kind: &str) -> Value {
        let (status, _, v) = self
            .tr(
                "/stock/order",
                "CSPAT00601",
                json!({"CSPAT00601InBlock1": {
                    "IsuNo": isu, "OrdQty": qty, "OrdPrc": price, "BnsTpCode": side,
                    "OrdprcPtnCode": kind, "MgntrnCode": "000", "LoanDt": "", "OrdCndiTpCode": "0"
                }}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
        v
    }

    pub async fn current_price(&self, code: &str) -> Value {
        let (_, _, v) = self
            .tr(
                "/stock/market-data",
                "t1102",
                json!({"t1102InBlock": {"shcode": code}}),
            )
            .await;
        v["t1102OutBlock"].clone()
    }

    pub async fn ws(&self) -> Ws {
        let (ws, _) = tokio_tungstenite::connect_async(&self.ws_url)
            .await
            .expect("websocket connects");
        ws
    }

    pub async fn register(&self, ws: &mut Ws, tr_type: &str, tr_cd: &str, tr_key: &str) -> Value {
        send_registration(ws, &self.token, tr_type, tr_cd, tr_key).await;
        next_ack(ws).await
    }
}

pub async fn token(
    http: &reqwest::Client,
    rest: &str,
    key: &str,
    secret: &str,
) -> Result<String, (u16, Value)> {
    let r = http
        .post(format!("{rest}/oauth2/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&appkey={key}&appsecretkey={secret}&scope=oob"
        ))
        .send()
        .await
        .expect("token call");
    let status = r.status().as_u16();
    let v: Value = r.json().await.expect("token reply is JSON");
    if status == 200 {
        Ok(v["access_token"].as_str().expect("access_token").to_owned())
    } else {
        Err((status, v))
    }
}

pub async fn send_registration(ws: &mut Ws, token: &str, tr_type: &str, tr_cd: &str, tr_key: &str) {
    let frame = json!({"header": {"token": token, "tr_type": tr_type}, "body": {"tr_cd": tr_cd, "tr_key": tr_key}});
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .expect("send registration");
}

/// The next text frame, parsed; panics after PATIENCE.
pub async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a frame within the patience window")
            .expect("connection open")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str())
                .unwrap_or_else(|e| panic!("frame is JSON ({e}): {t}"));
        }
    }
}

/// Skips data frames until an acknowledgement (header has rsp_cd) arrives.
pub async fn next_ack(ws: &mut Ws) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["header"].get("rsp_cd").is_some() {
            return v;
        }
    }
}

/// Skips frames until one with this `header.tr_cd` arrives.
pub async fn next_of(ws: &mut Ws, tr_cd: &str) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["header"]["tr_cd"] == tr_cd && v["body"].is_object() {
            return v;
        }
    }
}

pub fn num(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().expect("number") as i64),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .unwrap_or_else(|_| panic!("numeric string: {s:?}")) as i64,
        other => panic!("not a number: {other}"),
    }
}

/// The engine's settings as the tests run it: `conditions` with their strategies, the data
/// under `data`, everything else as `condor run`'s defaults would have it (no tape, no
/// meters, no notifier, 10 orders/s queued). A test changes what it needs with
/// `EngineSettings { tape: true, ..engine_settings(..) }`.
pub fn engine_settings(
    data: &std::path::Path,
    conditions: Vec<condor::engine::ConditionPlan>,
) -> condor::engine::EngineSettings {
    condor::engine::EngineSettings {
        conditions,
        max_feeds: 100,
        risk: condor_actors::risk::RiskLimits::default(),
        fees: Default::default(),
        compute_threads: 1,
        data_dir: data.to_owned(),
        orders_per_sec: 10,
        rate_excess: condor_actors::order_manager::RateExcess::Queue,
        kill_switch_flatten: false,
        journaled_settings: Default::default(),
        notifier: None,
        tick_watchers: Vec::new(),
        meters: None,
        tape: false,
        clock: std::sync::Arc::new(condor_actors::clock::SystemClock),
        disk: None,
    }
}

/// Withdraws `token` at the Kiwoom-mode simulator (au10002, as a Kiwoom client would), so
/// the next call or LOGIN with it is refused 8005.
pub async fn kiwoom_revoke(sim: &SimHandle, token: &str) {
    use condor_model::kiwoom::rest::{decode_reply, encode_request};
    use condor_model::kiwoom::token::{Au10002, RevokeRequest};
    let body = encode_request::<Au10002>(&RevokeRequest::new(
        sim.appkey().expose(),
        sim.appsecret().expose(),
        token,
    ));
    let text = reqwest::Client::new()
        .post(format!("{}/oauth2/revoke", sim.rest_url()))
        .header("content-type", "application/json;charset=UTF-8")
        .header("api-id", "au10002")
        .body(body)
        .send()
        .await
        .expect("revoke")
        .text()
        .await
        .unwrap();
    let reply = decode_reply::<Au10002>(&text).unwrap();
    assert!(reply.is_ok(), "{text}");
}
