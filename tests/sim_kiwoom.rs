//! The embedded exchange in Kiwoom mode (`condor sim --protocol kiwoom`), over real
//! sockets, as a Kiwoom REST client talks to it: literal JSON requests with the `api-id`
//! header, replies read with the Kiwoom wire crate where a client would.

mod common;

use std::time::Duration;

use common::{start, until, PATIENCE};
use condor::sim::exchange::Scenario;
use condor::sim::{Protocol, SimConfig, SimHandle};
use condor_actors::domain::OrderNo;
use condor_model::kiwoom::market_data::Ka10001;
use condor_model::kiwoom::realtime::{decode_server_frame, ServerFrame};
use condor_model::kiwoom::rest::{check_reply, ErrorClass, Retry};
use condor_model::kiwoom::KiwoomError;
use futures_util::{SinkExt, StreamExt};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const STKINFO: &str = "/api/dostk/stkinfo";
const ORDR: &str = "/api/dostk/ordr";
const ACNT: &str = "/api/dostk/acnt";

fn kiwoom(mut cfg: SimConfig) -> SimConfig {
    cfg.protocol = Protocol::Kiwoom;
    cfg
}

/// A busy market, no rate limits: fills and trades come quickly.
fn busy() -> SimConfig {
    let mut cfg = kiwoom(SimConfig::default());
    cfg.exchange.trades_per_sec = 50.0;
    cfg.rate_limits = false;
    cfg
}

/// A quiet market, no rate limits.
fn quiet() -> SimConfig {
    let mut cfg = kiwoom(SimConfig::default());
    cfg.exchange.trades_per_sec = 0.2;
    cfg.rate_limits = false;
    cfg
}

struct Reply {
    status: u16,
    headers: HeaderMap,
    text: String,
    json: Value,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("header {name} present: {:?}", self.headers))
            .to_str()
            .unwrap()
    }
}

async fn post(
    http: &reqwest::Client,
    url: String,
    headers: &[(&str, String)],
    body: Value,
) -> Reply {
    let mut req = http
        .post(url)
        .header("content-type", "application/json;charset=UTF-8");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let r = req.body(body.to_string()).send().await.expect("REST call");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("JSON ({e}): {text}"));
    Reply {
        status,
        headers,
        text,
        json,
    }
}

struct Client {
    http: reqwest::Client,
    rest: String,
    ws_url: String,
    token: String,
}

async fn issue(sim: &SimHandle, key: &str, secret: &str) -> Reply {
    post(
        &reqwest::Client::new(),
        format!("{}/oauth2/token", sim.rest_url()),
        &[],
        json!({"grant_type": "client_credentials", "appkey": key, "secretkey": secret}),
    )
    .await
}

impl Client {
    async fn connect(sim: &SimHandle) -> Client {
        let r = issue(sim, sim.appkey().expose(), sim.appsecret().expose()).await;
        assert_eq!(r.json["return_code"], 0, "{}", r.text);
        Client {
            http: reqwest::Client::new(),
            rest: sim.rest_url().to_owned(),
            ws_url: sim.ws_url().to_owned(),
            token: r.json["token"].as_str().unwrap().to_owned(),
        }
    }

    async fn call_with(
        &self,
        path: &str,
        api_id: &str,
        body: Value,
        extra: &[(&str, String)],
    ) -> Reply {
        let mut headers = vec![
            ("api-id", api_id.to_owned()),
            ("authorization", format!("Bearer {}", self.token)),
        ];
        headers.extend(extra.iter().cloned());
        let r = post(&self.http, format!("{}{path}", self.rest), &headers, body).await;
        assert_eq!(r.header("api-id"), api_id, "every reply names its api-id");
        assert!(r.headers.contains_key("cont-yn") && r.headers.contains_key("next-key"));
        r
    }

    async fn call(&self, path: &str, api_id: &str, body: Value) -> Reply {
        self.call_with(path, api_id, body, &[]).await
    }

    /// A successful call's body.
    async fn ok(&self, path: &str, api_id: &str, body: Value) -> Value {
        let r = self.call(path, api_id, body).await;
        assert_eq!(
            (r.status, &r.json["return_code"]),
            (200, &json!(0)),
            "{api_id}: {}",
            r.text
        );
        r.json
    }

    async fn order(&self, api_id: &str, code: &str, qty: u64, price: Option<i64>) -> Reply {
        let (uv, tp) = match price {
            Some(p) => (p.to_string(), "0"),
            None => (String::new(), "3"),
        };
        self.call(
            ORDR,
            api_id,
            json!({"dmst_stex_tp": "KRX", "stk_cd": code, "ord_qty": qty.to_string(), "ord_uv": uv, "trde_tp": tp, "cond_uv": ""}),
        )
        .await
    }

    async fn lower_limit(&self, code: &str) -> i64 {
        let q = self.ok(STKINFO, "ka10001", json!({"stk_cd": code})).await;
        int(&q["lst_pric"]).abs()
    }

    async fn ws(&self) -> Ws {
        tokio_tungstenite::connect_async(&self.ws_url)
            .await
            .expect("websocket connects")
            .0
    }

    async fn login(&self) -> Ws {
        let mut ws = self.ws().await;
        send(&mut ws, json!({"trnm": "LOGIN", "token": self.token})).await;
        let r = next_trnm(&mut ws, "LOGIN").await;
        assert_eq!(r["return_code"], 0, "{r}");
        ws
    }
}

fn int(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("text: {v}"));
    s.trim()
        .parse::<i64>()
        .unwrap_or_else(|_| panic!("number: {s:?}"))
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// The next frame; `None` when the connection closed.
async fn frame(ws: &mut Ws) -> Option<String> {
    loop {
        match tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("a frame within the patience window")
        {
            Some(Ok(Message::Text(t))) => return Some(t.to_string()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

/// The next frame, PINGs echoed on the way, as a client must.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let t = frame(ws).await.expect("connection open");
        let v: Value = serde_json::from_str(&t).unwrap_or_else(|e| panic!("JSON ({e}): {t}"));
        // Every server frame reads with the wire crate.
        decode_server_frame(&t).unwrap_or_else(|e| panic!("{e}: {t}"));
        if v["trnm"] == "PING" {
            ws.send(Message::Text(t.into())).await.unwrap();
            continue;
        }
        return v;
    }
}

async fn next_trnm(ws: &mut Ws, trnm: &str) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["trnm"] == trnm {
            return v;
        }
    }
}

/// The next REAL entry of `kind`.
async fn next_real(ws: &mut Ws, kind: &str) -> Value {
    loop {
        let v = next_trnm(ws, "REAL").await;
        if let Some(e) = v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["type"] == kind)
        {
            return e.clone();
        }
    }
}

// ---------------------------------------------------------------------------------------
// REST

#[tokio::test]
async fn a_token_is_issued_for_the_key_pair_and_refused_with_8001_otherwise() {
    let sim = start(quiet());
    assert!(
        sim.ws_url().ends_with("/api/dostk/websocket"),
        "{}",
        sim.ws_url()
    );
    let r = issue(&sim, sim.appkey().expose(), sim.appsecret().expose()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["return_code"], 0, "a JSON number: {}", r.text);
    assert_eq!(r.json["token_type"], "bearer");
    assert!(r.json["token"].as_str().unwrap().len() >= 40);
    let expires = r.json["expires_dt"].as_str().unwrap();
    assert!(
        expires.len() == 14 && expires.bytes().all(|b| b.is_ascii_digit()),
        "{expires}"
    );
    assert!(
        condor_model::kiwoom::token::KstDateTime::parse(expires).is_some(),
        "{expires}"
    );
    let bad = issue(&sim, sim.appkey().expose(), "not-the-secret").await;
    assert_eq!(bad.status, 200, "auth errors ride HTTP 200");
    assert_eq!(bad.json["return_code"], 3);
    assert_eq!(
        bad.json["return_msg"],
        "인증에 실패했습니다[8001:App Key와 Secret Key 검증에 실패했습니다]"
    );
    assert!(bad.json.get("token").is_none(), "{}", bad.text);
}

#[tokio::test]
async fn a_call_without_or_with_a_bad_token_is_refused_with_8005() {
    let sim = start(quiet());
    let c = Client::connect(&sim).await;
    for auth in [None, Some("Bearer not-a-token".to_owned())] {
        let mut headers = vec![("api-id", "ka10001".to_owned())];
        if let Some(a) = &auth {
            headers.push(("authorization", a.clone()));
        }
        let r = post(
            &c.http,
            format!("{}{STKINFO}", c.rest),
            &headers,
            json!({"stk_cd": "005930"}),
        )
        .await;
        assert_eq!(r.status, 200, "{auth:?}");
        assert_eq!(r.header("api-id"), "ka10001");
        assert_eq!(r.header("cont-yn"), "N");
        assert_eq!(r.json["return_code"], 3);
        assert_eq!(
            r.json["return_msg"],
            "인증에 실패했습니다[8005:Token이 유효하지 않습니다]"
        );
        let Err(KiwoomError::Refused(refusal)) = check_reply::<Ka10001>(r.status, &r.text) else {
            panic!("refused: {}", r.text)
        };
        assert_eq!(refusal.retry(), Retry::NewToken, "a client renews on it");
    }
    // The api-id must belong to the path; an unknown one is named.
    let r = c.call(ORDR, "ka10001", json!({"stk_cd": "005930"})).await;
    assert!(r.text.contains("[1504:"), "{}", r.text);
    let r = c.call(STKINFO, "ka99999", json!({})).await;
    assert!(r.text.contains("[1505:"), "{}", r.text);
    let r = c.call(STKINFO, "ka10001", json!({"nothing": "1"})).await;
    assert_eq!(r.json["return_code"], 2, "{}", r.text);
    assert!(r.text.contains("[1511:"), "{}", r.text);
}

/// Posing as the other server (a paper key pair at the real host, or the reverse): the
/// key pair's au10001 is `3`/`[8030]`, and a token from the other server (here: another
/// simulator's) is `[8031]` on REST and on LOGIN, where an unknown one would be 8005.
#[tokio::test]
async fn posing_as_the_other_server_refuses_its_key_8030_and_its_tokens_8031() {
    let paper = start(quiet());
    let token_elsewhere = Client::connect(&paper).await;
    let mut cfg = quiet();
    cfg.kiwoom_other_host = true;
    let other = start(cfg);
    let r = issue(&other, other.appkey().expose(), other.appsecret().expose()).await;
    assert_eq!(
        (r.status, &r.json["return_code"]),
        (200, &json!(3)),
        "{}",
        r.text
    );
    assert!(r.text.contains("[8030:"), "{}", r.text);
    let c = Client {
        rest: other.rest_url().to_owned(),
        ws_url: other.ws_url().to_owned(),
        ..token_elsewhere
    };
    let r = c
        .call(STKINFO, "ka10001", json!({"stk_cd": "005930"}))
        .await;
    assert_eq!(
        (r.status, &r.json["return_code"]),
        (200, &json!(3)),
        "{}",
        r.text
    );
    let Err(KiwoomError::Refused(refusal)) = check_reply::<Ka10001>(r.status, &r.text) else {
        panic!("refused: {}", r.text)
    };
    assert_eq!(refusal.inner_code(), Some(8031), "{}", r.text);
    assert!(refusal.is_server_mismatch());
    assert_eq!(
        refusal.retry(),
        Retry::No,
        "a new token here would not help"
    );
    let mut ws = c.ws().await;
    send(&mut ws, json!({"trnm": "LOGIN", "token": c.token})).await;
    let login = next_trnm(&mut ws, "LOGIN").await;
    assert_ne!(login["return_code"], 0, "{login}");
    assert!(
        login["return_msg"].as_str().unwrap().contains("CODE=8031"),
        "{login}"
    );
}

#[tokio::test]
async fn ka10099_lists_the_market_and_ka10001_quotes_as_kiwoom_writes_numbers() {
    let sim = start(busy());
    let c = Client::connect(&sim).await;
    let kospi = c.ok(STKINFO, "ka10099", json!({"mrkt_tp": "0"})).await;
    let list = kospi["list"].as_array().unwrap();
    assert!(list.len() >= 10, "{kospi}");
    assert!(list.iter().all(|r| r["marketCode"] == "0"));
    let samsung = list.iter().find(|r| r["code"] == "005930").expect("005930");
    assert_eq!(samsung["name"], "삼성전자");
    assert_eq!(
        samsung["lastPrice"], "00055500",
        "8-digit padded prior close"
    );
    let kosdaq = c.ok(STKINFO, "ka10099", json!({"mrkt_tp": "10"})).await;
    let kosdaq = kosdaq["list"].as_array().unwrap();
    assert!(!kosdaq.is_empty() && kosdaq.iter().all(|r| r["marketCode"] == "10"));
    assert!(kosdaq.iter().all(|r| r["code"] != "005930"));

    // Let the market print, then quote.
    until("the market prints", async || sim.stats().await.trades > 0).await;
    let r = c
        .call(STKINFO, "ka10001", json!({"stk_cd": "005930"}))
        .await;
    let q = check_reply::<Ka10001>(r.status, &r.text).expect("a quote");
    assert_eq!(q.stk_cd, "005930");
    assert_eq!(q.base_pric, "55500");
    let price = q.price().unwrap().won();
    let sign = match price.cmp(&55_500) {
        std::cmp::Ordering::Greater => "+",
        std::cmp::Ordering::Less => "-",
        std::cmp::Ordering::Equal => "",
    };
    assert_eq!(q.cur_prc, format!("{sign}{price}"), "signed by direction");
    assert_eq!(q.upl_pric, "+72100");
    assert_eq!(q.lst_pric, "-38850");
    let unknown = c
        .call(STKINFO, "ka10001", json!({"stk_cd": "999999"}))
        .await;
    assert_eq!(unknown.json["return_code"], 7, "{}", unknown.text);
    assert!(unknown.text.contains("[1902:"), "{}", unknown.text);
}

#[tokio::test]
async fn the_rate_limit_is_answered_429_with_1700() {
    let mut cfg = quiet();
    cfg.rate_limits = true;
    let sim = start(cfg);
    let c = std::sync::Arc::new(Client::connect(&sim).await);
    let calls = (0..15).map(|_| {
        let c = c.clone();
        tokio::spawn(async move {
            c.call(STKINFO, "ka10001", json!({"stk_cd": "005930"}))
                .await
        })
    });
    let mut limited = 0;
    for call in calls {
        let r = call.await.unwrap();
        if r.status == 429 {
            limited += 1;
            assert_eq!(r.json["return_code"], 5);
            assert!(
                r.text.contains("[1700:") && r.text.contains("API ID=ka10001"),
                "{}",
                r.text
            );
            let Err(KiwoomError::Refused(refusal)) = check_reply::<Ka10001>(r.status, &r.text)
            else {
                panic!("{}", r.text)
            };
            assert_eq!(refusal.class(), ErrorClass::RateLimit);
            assert_eq!(refusal.retry(), Retry::Backoff);
        } else {
            assert_eq!(r.json["return_code"], 0, "{}", r.text);
        }
    }
    assert!(limited >= 1, "15 calls at once exceed 5 a second");
}

/// KRX's tick for a price (the grid the exchange enforces).
fn tick(p: i64) -> i64 {
    [
        (2_000, 1),
        (5_000, 5),
        (20_000, 10),
        (50_000, 50),
        (200_000, 100),
        (500_000, 500),
    ]
    .into_iter()
    .find(|(below, _)| p < *below)
    .map_or(1_000, |(_, t)| t)
}

#[tokio::test]
async fn a_market_buy_fills_with_00_accepted_then_filled_and_04_and_the_account_agrees() {
    let sim = start(busy());
    let c = Client::connect(&sim).await;
    let mut ws = c.login().await;
    send(&mut ws, json!({"trnm": "REG", "grp_no": "1", "refresh": "1", "data": [{"item": [""], "type": ["00", "04"]}]})).await;
    assert_eq!(next_trnm(&mut ws, "REG").await["return_code"], 0);
    let r = c.order("kt10000", "005930", 3, None).await;
    assert_eq!(r.json["return_code"], 0, "{}", r.text);
    let ord_no = r.json["ord_no"].as_str().unwrap().to_owned();
    assert_eq!(ord_no.len(), 7, "7-digit order numbers: {ord_no}");
    assert_eq!(r.json["dmst_stex_tp"], "KRX");

    let accepted = next_real(&mut ws, "00").await;
    let v = &accepted["values"];
    assert_eq!(
        (v["9203"].as_str(), v["913"].as_str()),
        (Some(ord_no.as_str()), Some("접수"))
    );
    assert_eq!(
        (&v["902"], &v["905"], &v["907"]),
        (&json!("3"), &json!("+매수"), &json!("2"))
    );
    let (mut remaining, mut filled, mut value, mut fills, mut balances) = (3, 0, 0, 0, 0);
    let mut held = 0;
    while remaining > 0 || balances < fills {
        let f = next_trnm(&mut ws, "REAL").await;
        for e in f["data"].as_array().unwrap() {
            let v = &e["values"];
            match e["type"].as_str().unwrap() {
                "00" => {
                    assert_eq!(v["9203"], ord_no.as_str());
                    assert_eq!(v["913"], "체결", "{e}");
                    let left = int(&v["902"]);
                    assert!(left < remaining, "902 decrements: {left} after {remaining}");
                    let (p, q) = (int(&v["914"]), int(&v["915"]));
                    assert_eq!(left, remaining - q);
                    remaining = left;
                    filled += q;
                    value += p * q;
                    fills += 1;
                    assert_eq!(int(&v["911"]), filled, "cumulative so far");
                    assert_eq!(int(&v["903"]), value);
                }
                "04" => {
                    balances += 1;
                    assert!(balances <= fills, "04 follows its fill");
                    assert_eq!(v["9001"], "005930");
                    held = int(&v["930"]);
                    assert_eq!(held, filled, "{e}");
                }
                other => panic!("only 00/04 registered, got {other}"),
            }
        }
    }
    assert_eq!((filled, held), (3, 3));
    let h = c
        .ok(
            ACNT,
            "kt00018",
            json!({"qry_tp": "1", "dmst_stex_tp": "KRX"}),
        )
        .await;
    let rows = h["acnt_evlt_remn_indv_tot"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{h}");
    assert_eq!(rows[0]["stk_cd"], "A005930");
    assert_eq!(rows[0]["rmnd_qty"], "000000000000003");
    assert_eq!(int(&rows[0]["pur_pric"]), value / 3);
    let cash = c.ok(ACNT, "kt00001", json!({"qry_tp": "3"})).await;
    assert_eq!(cash["entr"], format!("{:015}", 100_000_000 - value));
    assert!(cash["return_msg"].as_str().unwrap().contains("모의투자"));
    let done = c
        .ok(
            ACNT,
            "ka10076",
            json!({"stk_cd": "", "qry_tp": "0", "sell_tp": "0", "ord_no": "", "stex_tp": "0"}),
        )
        .await;
    let cntr = done["cntr"].as_array().unwrap();
    assert_eq!(cntr.len(), 1, "{done}");
    assert_eq!(
        (&cntr[0]["ord_no"], &cntr[0]["cntr_qty"]),
        (&json!(ord_no), &json!("3"))
    );
}

#[tokio::test]
async fn modify_and_cancel_get_new_numbers_with_base_orig_ord_no() {
    let sim = start(quiet());
    let c = Client::connect(&sim).await;
    let mut ws = c.login().await;
    send(&mut ws, json!({"trnm": "REG", "grp_no": "1", "refresh": "1", "data": [{"item": [""], "type": ["00"]}]})).await;
    next_trnm(&mut ws, "REG").await;
    let low = c.lower_limit("005930").await;
    let r = c.order("kt10000", "005930", 2, Some(low)).await;
    let orig = r.json["ord_no"].as_str().unwrap().to_owned();
    let r = c
        .call(ORDR, "kt10002", json!({"dmst_stex_tp": "KRX", "orig_ord_no": orig, "stk_cd": "005930", "mdfy_qty": "0", "mdfy_uv": (low + tick(low)).to_string(), "mdfy_cond_uv": ""}))
        .await;
    assert_eq!(r.json["return_code"], 0, "{}", r.text);
    let modified = r.json["ord_no"].as_str().unwrap().to_owned();
    assert_ne!(modified, orig, "a modify is a new order");
    assert_eq!(
        (&r.json["base_orig_ord_no"], &r.json["mdfy_qty"]),
        (&json!(orig), &json!("000000000002"))
    );
    let r = c
        .call(ORDR, "kt10003", json!({"dmst_stex_tp": "KRX", "orig_ord_no": modified, "stk_cd": "005930", "cncl_qty": "0"}))
        .await;
    assert_eq!(r.json["return_code"], 0, "{}", r.text);
    let cancel = r.json["ord_no"].as_str().unwrap().to_owned();
    assert!(cancel != modified && cancel != orig);
    assert_eq!(
        r.json["base_orig_ord_no"],
        orig.as_str(),
        "the chain's first order"
    );
    assert_eq!(r.json["cncl_qty"], "000000000002");
    let mut seen = Vec::new();
    while seen.len() < 5 {
        let v = next_real(&mut ws, "00").await["values"].clone();
        seen.push((
            v["9203"].as_str().unwrap().to_owned(),
            v["913"].as_str().unwrap().to_owned(),
            v["904"].as_str().unwrap().to_owned(),
            v["905"].as_str().unwrap().to_owned(),
        ));
    }
    let s = |a: &str, b: &str, c: &str, d: &str| {
        (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned())
    };
    assert_eq!(
        seen,
        vec![
            s(&orig, "접수", "0000000", "+매수"),
            s(&modified, "접수", &orig, "+매수정정"),
            s(&modified, "확인", &orig, "+매수정정"),
            s(&cancel, "접수", &modified, "매수취소"),
            s(&cancel, "확인", &modified, "매수취소"),
        ]
    );
    let open = c
        .ok(
            ACNT,
            "ka10075",
            json!({"all_stk_tp": "0", "trde_tp": "0", "stk_cd": "", "stex_tp": "0"}),
        )
        .await;
    assert!(open["oso"].as_array().unwrap().is_empty(), "{open}");
}

#[tokio::test]
async fn a_refused_order_is_20_with_the_code_inside_2000() {
    let sim = start(quiet());
    let c = Client::connect(&sim).await;
    let q = c.ok(STKINFO, "ka10001", json!({"stk_cd": "005930"})).await;
    let up = int(&q["upl_pric"]).abs();
    let r = c.order("kt10000", "005930", 1, Some(up + tick(up))).await;
    assert_eq!(
        (r.status, &r.json["return_code"]),
        (200, &json!(20)),
        "{}",
        r.text
    );
    assert!(
        r.json["return_msg"]
            .as_str()
            .unwrap()
            .starts_with("[2000](03180:"),
        "{}",
        r.text
    );
    assert!(r.json.get("ord_no").is_none_or(|n| n == ""), "{}", r.text);
    let r = c.order("kt10000", "005930", 10_000, None).await;
    assert_eq!(r.json["return_code"], 20);
    assert!(
        r.text.contains("[2000](855056:"),
        "short of cash: {}",
        r.text
    );
    let Err(KiwoomError::Refused(refusal)) =
        check_reply::<condor_model::kiwoom::order::Kt10000>(r.status, &r.text)
    else {
        panic!("{}", r.text)
    };
    assert!(refusal.is_business());
    assert_eq!(refusal.business_code(), Some("855056"));
    let r = c.order("kt10001", "005930", 1, None).await;
    assert_eq!(r.json["return_code"], 20, "nothing to sell: {}", r.text);
}

#[tokio::test]
async fn todays_open_orders_page_by_cont_yn_and_next_key() {
    let sim = start(quiet());
    let c = Client::connect(&sim).await;
    let low = c.lower_limit("005930").await;
    let mut placed = Vec::new();
    for _ in 0..25 {
        let r = c.order("kt10000", "005930", 1, Some(low)).await;
        placed.push(r.json["ord_no"].as_str().unwrap().to_owned());
    }
    let body = json!({"all_stk_tp": "0", "trde_tp": "0", "stk_cd": "", "stex_tp": "0"});
    let first = c.call(ACNT, "ka10075", body.clone()).await;
    assert_eq!(first.header("cont-yn"), "Y");
    let key = first.header("next-key").to_owned();
    assert!(!key.is_empty());
    let page1: Vec<String> = first.json["oso"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ord_no"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page1.len(), 20);
    let second = c
        .call_with(
            ACNT,
            "ka10075",
            body,
            &[("cont-yn", "Y".into()), ("next-key", key)],
        )
        .await;
    assert_eq!(second.header("cont-yn"), "N");
    assert_eq!(second.header("next-key"), "");
    let page2: Vec<String> = second.json["oso"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ord_no"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(page2.len(), 5);
    let mut all: Vec<String> = page1.into_iter().chain(page2).collect();
    all.sort();
    placed.sort();
    assert_eq!(all, placed, "every open order once");
}

/// kt00007 lists every order of the day, cancelled and refused ones with their state
/// (`acpt_tp`), oldest first for `qry_tp` 1 and newest first for 2, paging by `cont-yn`
/// and `next-key`; `fr_ord_no` starts the list at a number.
#[tokio::test]
async fn kt00007_lists_every_order_cancelled_and_refused_ones_across_pages() {
    let sim = start(quiet());
    let c = Client::connect(&sim).await;
    let low = c.lower_limit("005930").await;
    let mut placed = Vec::new();
    for _ in 0..22 {
        let r = c.order("kt10000", "005930", 1, Some(low)).await;
        placed.push(r.json["ord_no"].as_str().unwrap().to_owned());
    }
    let cancel = c
        .call(
            ORDR,
            "kt10003",
            json!({"dmst_stex_tp": "KRX", "orig_ord_no": placed[0], "stk_cd": "005930", "cncl_qty": "0"}),
        )
        .await;
    assert_eq!(cancel.json["return_code"], 0, "{}", cancel.text);
    let refused = c.order("kt10001", "005930", 7, Some(low)).await;
    assert_eq!(
        refused.json["return_code"], 20,
        "nothing to sell: {}",
        refused.text
    );

    let read = |qry_tp: &'static str, fr_ord_no: String| {
        let c = &c;
        async move {
            let body = json!({"ord_dt": "", "qry_tp": qry_tp, "stk_bond_tp": "0", "sell_tp": "0",
                "stk_cd": "", "fr_ord_no": fr_ord_no, "dmst_stex_tp": "%"});
            let mut rows: Vec<Value> = Vec::new();
            let mut pages = 0;
            let mut next: Option<String> = None;
            loop {
                let extra: Vec<(&str, String)> = match &next {
                    Some(key) => vec![("cont-yn", "Y".into()), ("next-key", key.clone())],
                    None => Vec::new(),
                };
                let r = c.call_with(ACNT, "kt00007", body.clone(), &extra).await;
                assert_eq!(r.json["return_code"], 0, "{}", r.text);
                pages += 1;
                rows.extend(
                    r.json["acnt_ord_cntr_prps_dtl"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .cloned(),
                );
                match r.header("cont-yn") {
                    "Y" => next = Some(r.header("next-key").to_owned()),
                    _ => return (rows, pages),
                }
            }
        }
    };
    let (rows, pages) = read("1", String::new()).await;
    assert_eq!(
        (rows.len(), pages),
        (24, 2),
        "22 orders, a cancel, a refusal; 20 a page"
    );
    let numbers: Vec<&str> = rows.iter().map(|r| r["ord_no"].as_str().unwrap()).collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    assert_eq!(numbers, sorted, "oldest first");
    let first = &rows[0];
    assert_eq!(first["ord_no"], placed[0].as_str());
    assert_eq!(
        (
            first["stk_cd"].as_str(),
            int(&first["ord_remnq"]),
            int(&first["cntr_qty"])
        ),
        (Some("A005930"), 0, 0),
        "cancelled before any fill: {first}"
    );
    assert_eq!(first["ord_qty"], "0000000001", "10-digit quantities");
    let cancel_row = &rows[22];
    assert_eq!(cancel_row["ori_ord"], placed[0].as_str());
    assert_eq!(cancel_row["acpt_tp"], "확인", "{cancel_row}");
    let refused_row = &rows[23];
    assert_eq!(
        (
            refused_row["acpt_tp"].as_str(),
            refused_row["io_tp_nm"].as_str()
        ),
        (Some("거부"), Some("현금매도")),
        "{refused_row}"
    );
    assert_eq!(
        (int(&refused_row["ord_qty"]), int(&refused_row["ord_remnq"])),
        (7, 0)
    );

    let (newest, _) = read("2", String::new()).await;
    let mut reversed = numbers.clone();
    reversed.reverse();
    assert_eq!(
        newest
            .iter()
            .map(|r| r["ord_no"].as_str().unwrap())
            .collect::<Vec<_>>(),
        reversed,
        "newest first"
    );
    let (from, pages) = read("1", placed[20].clone()).await;
    assert_eq!(
        (from.len(), pages, from[0]["ord_no"].as_str()),
        (4, 1, Some(placed[20].as_str())),
        "from fr_ord_no on"
    );
}

// ---------------------------------------------------------------------------------------
// Websocket

#[tokio::test]
async fn login_comes_first_and_pings_must_be_echoed() {
    let mut cfg = quiet();
    cfg.kiwoom_ping_interval = Duration::from_millis(100);
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    // Anything before LOGIN: SYSTEM R10004, then the connection closes.
    let mut ws = c.ws().await;
    send(&mut ws, json!({"trnm": "CNSRLST"})).await;
    let t = frame(&mut ws).await.expect("a SYSTEM frame");
    assert!(
        matches!(decode_server_frame(&t).unwrap(), ServerFrame::System(n) if n.code == "R10004"),
        "{t}"
    );
    assert!(frame(&mut ws).await.is_none(), "closed");
    // A bad token: 805004, then closed.
    let mut ws = c.ws().await;
    send(&mut ws, json!({"trnm": "LOGIN", "token": "nope"})).await;
    let v: Value = serde_json::from_str(&frame(&mut ws).await.unwrap()).unwrap();
    assert_eq!(
        (&v["trnm"], &v["return_code"]),
        (&json!("LOGIN"), &json!(805004)),
        "{v}"
    );
    assert!(v["return_msg"].as_str().unwrap().contains("CODE=8005"));
    assert!(frame(&mut ws).await.is_none(), "closed");
    // Echoed PINGs keep a connection; three unanswered drop it.
    let mut echoing = c.login().await;
    let mut silent = c.login().await;
    let mut echoed = 0;
    while echoed < 6 {
        let t = frame(&mut echoing).await.expect("still open");
        assert_eq!(serde_json::from_str::<Value>(&t).unwrap()["trnm"], "PING");
        echoing.send(Message::Text(t.into())).await.unwrap();
        echoed += 1;
    }
    let mut unanswered = 0;
    while let Some(t) = frame(&mut silent).await {
        assert_eq!(
            serde_json::from_str::<Value>(&t).unwrap()["trnm"],
            "PING",
            "{t}"
        );
        unanswered += 1;
    }
    assert_eq!(unanswered, 3, "dropped after three unanswered PINGs");
}

#[tokio::test]
async fn registered_0b_trades_arrive_and_remove_stops_them() {
    let sim = start(busy());
    let c = Client::connect(&sim).await;
    let mut ws = c.login().await;
    send(&mut ws, json!({"trnm": "REG", "grp_no": "1", "refresh": "1", "data": [{"item": ["005930", "000660"], "type": ["0B"]}]})).await;
    let ack = next_trnm(&mut ws, "REG").await;
    assert_eq!(
        (&ack["return_code"], &ack["return_msg"]),
        (&json!(0), &json!(""))
    );
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 2 {
        let e = next_real(&mut ws, "0B").await;
        assert_eq!(e["name"], "주식체결");
        let item = e["item"].as_str().unwrap().to_owned();
        let v = &e["values"];
        assert!(v.as_object().unwrap().values().all(Value::is_string));
        let qty = v["15"].as_str().unwrap();
        assert!(
            qty.starts_with('+') || qty.starts_with('-'),
            "aggressor-signed: {qty}"
        );
        seen.insert(item);
    }
    let subs = sim.subscriptions().await;
    assert_eq!(subs.subscribed_tickers(), vec!["000660", "005930"]);
    send(
        &mut ws,
        json!({"trnm": "REMOVE", "grp_no": "1", "data": [{"item": ["005930"], "type": ["0B"]}]}),
    )
    .await;
    // Trades of 005930 may precede the ack; none may follow it.
    next_trnm(&mut ws, "REMOVE").await;
    for _ in 0..40 {
        assert_eq!(next_real(&mut ws, "0B").await["item"], "000660");
    }
    send(&mut ws, json!({"trnm": "REG", "grp_no": "1", "refresh": "1", "data": [{"item": ["123"], "type": ["0B"]}]})).await;
    assert_eq!(
        next_trnm(&mut ws, "REG").await["return_code"],
        1,
        "a bad code is refused"
    );
}

const SCENARIO: &str = "\
condition S001 스크립트 테스트
at 0ms S001 enter 005930
at 10ms S001 enter 000660
at 20ms S001 exit 005930
at 30ms S001 enter 005930
at 40ms S001 exit 000660
";

#[tokio::test]
async fn cnsrlst_then_cnsrreq_gives_a_snapshot_then_02_pushes() {
    let mut cfg = quiet();
    cfg.exchange.scenario = Some(Scenario::parse(SCENARIO).unwrap());
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    let mut a = c.login().await;
    send(
        &mut a,
        json!({"trnm": "CNSRREQ", "seq": "S001", "search_type": "1", "stex_tp": "K"}),
    )
    .await;
    let refused = next_trnm(&mut a, "CNSRREQ").await;
    assert_eq!(
        refused["return_code"], 1,
        "CNSRLST must come first: {refused}"
    );
    send(&mut a, json!({"trnm": "CNSRLST"})).await;
    let list = next_trnm(&mut a, "CNSRLST").await;
    assert_eq!(list["return_code"], 0);
    assert!(
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == &json!(["S001", "스크립트 테스트"])),
        "{list}"
    );
    send(
        &mut a,
        json!({"trnm": "CNSRREQ", "seq": "S001", "search_type": "1", "stex_tp": "K"}),
    )
    .await;
    let snap = next_trnm(&mut a, "CNSRREQ").await;
    assert_eq!(
        (&snap["return_code"], &snap["seq"]),
        (&json!(0), &json!("S001"))
    );
    assert_eq!(snap["data"], json!([]), "nothing has entered yet");
    let mut pushes = Vec::new();
    while pushes.len() < 5 {
        let e = next_real(&mut a, "02").await;
        assert_eq!(e["name"], "조건검색");
        let v = &e["values"];
        assert_eq!(v["841"], "S001");
        pushes.push(format!(
            "{} {}",
            v["843"].as_str().unwrap(),
            v["9001"].as_str().unwrap()
        ));
    }
    assert_eq!(
        pushes,
        ["I 005930", "I 000660", "D 005930", "I 005930", "D 000660"]
    );
    // A second connection's snapshot lists what is in now, A-prefixed.
    let mut b = c.login().await;
    send(&mut b, json!({"trnm": "CNSRLST"})).await;
    next_trnm(&mut b, "CNSRLST").await;
    send(
        &mut b,
        json!({"trnm": "CNSRREQ", "seq": "S001", "search_type": "1", "stex_tp": "K"}),
    )
    .await;
    let snap = next_trnm(&mut b, "CNSRREQ").await;
    assert_eq!(snap["data"], json!([{"jmcode": "A005930"}]), "{snap}");
    // CNSRCLR stops it: acknowledged, and the connection runs no condition.
    send(&mut a, json!({"trnm": "CNSRCLR", "seq": "S001"})).await;
    let clr = next_trnm(&mut a, "CNSRCLR").await;
    assert_eq!(
        (&clr["return_code"], &clr["seq"]),
        (&json!(0), &json!("S001"))
    );
    let subs = sim.subscriptions().await;
    assert_eq!(
        subs.sessions
            .iter()
            .filter(|s| !s.alerts.is_empty())
            .count(),
        1,
        "only b's: {subs:?}"
    );
    drop(b);
}

/// A refused order is a `00` with `913` 거부 under the number it was kept under (kt00007),
/// `902` 0 and `919` the code the REST refusal carried; the wire crate reads it as a reject.
#[tokio::test]
async fn a_refused_order_is_told_as_00_rejected() {
    use condor_actors::domain::AccountEvent;
    use condor_model::kiwoom::realtime::RealValues;
    let sim = start(quiet());
    let c = Client::connect(&sim).await;
    let mut ws = c.login().await;
    send(&mut ws, json!({"trnm": "REG", "grp_no": "1", "refresh": "1", "data": [{"item": [""], "type": ["00"]}]})).await;
    assert_eq!(next_trnm(&mut ws, "REG").await["return_code"], 0);
    let r = c.order("kt10000", "005930", 10_000, None).await;
    assert!(
        r.text.contains("[2000](855056:"),
        "short of cash: {}",
        r.text
    );
    let rejected = next_real(&mut ws, "00").await;
    let v = &rejected["values"];
    assert_eq!(
        (
            v["913"].as_str(),
            v["902"].as_str(),
            v["919"].as_str(),
            v["905"].as_str()
        ),
        (Some("거부"), Some("0"), Some("855056"), Some("+매수")),
        "{rejected}"
    );
    let listed = c
        .ok(
            ACNT,
            "kt00007",
            json!({"ord_dt": "", "qry_tp": "1", "stk_bond_tp": "0", "sell_tp": "0",
            "stk_cd": "", "fr_ord_no": "", "dmst_stex_tp": "%"}),
        )
        .await;
    assert_eq!(
        listed["acnt_ord_cntr_prps_dtl"][0]["ord_no"], v["9203"],
        "the number kt00007 lists it under: {listed}"
    );
    let frame = json!({"trnm": "REAL", "data": [rejected]}).to_string();
    let ServerFrame::Real(entries) = decode_server_frame(&frame).unwrap() else {
        panic!("{frame}")
    };
    let RealValues::Order(values) = &entries[0].values else {
        panic!("{frame}")
    };
    let event = values.account_event(&entries[0].item).unwrap();
    assert!(
        matches!(&event, AccountEvent::Rejected { order_no, org_order_no: OrderNo::NONE, code, .. }
            if *order_no == OrderNo(int(&v["9203"])) && code == "855056"),
        "{event:?}"
    );
}
