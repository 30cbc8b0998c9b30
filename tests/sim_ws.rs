//! The embedded exchange's websocket side, over real sockets, with literal LS frames:
//! registration acks, who receives what, unregistration, scripted conditions, account
//! events, malformed input and the fault knobs.

mod common;

use std::time::Duration;

use common::*;
use condor::sim::exchange::Scenario;
use condor::sim::{Faults, SimConfig};
use condor_actors::market::{is_on_grid, Price};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

fn busy_config() -> SimConfig {
    let mut cfg = SimConfig::default();
    cfg.exchange.trades_per_sec = 50.0;
    cfg.rate_limits = false;
    cfg
}

#[tokio::test]
async fn registration_is_acknowledged_in_ls_shape() {
    let sim = start(quiet_config());
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    let ack = c.register(&mut ws, "3", "S3_", "005930").await;
    assert_eq!(ack["header"]["tr_cd"], "S3_");
    assert_eq!(ack["header"]["tr_key"], "005930");
    assert_eq!(ack["header"]["tr_type"], "3");
    assert_eq!(ack["header"]["rsp_cd"], "00000");
    assert!(!ack["header"]["rsp_msg"].as_str().unwrap().is_empty());
    assert!(
        ack.as_object().unwrap().contains_key("body") && ack["body"].is_null(),
        "body: null present: {ack}"
    );
}

#[tokio::test]
async fn trades_arrive_as_strings_on_the_grid_inside_the_limits() {
    let sim = start(busy_config());
    let c = Client::connect(&sim).await;
    let kospi = c.current_price("005930").await;
    let kosdaq = c.current_price("247540").await;
    let mut ws = c.ws().await;
    c.register(&mut ws, "3", "S3_", "005930").await;
    c.register(&mut ws, "3", "K3_", "247540").await;
    let (mut s3, mut k3) = (0, 0);
    while s3 < 30 || k3 < 30 {
        let f = next_json(&mut ws).await;
        let (tr, key) = (
            f["header"]["tr_cd"].as_str().unwrap(),
            f["header"]["tr_key"].as_str().unwrap(),
        );
        let limits = match (tr, key) {
            ("S3_", "005930") => {
                s3 += 1;
                &kospi
            }
            ("K3_", "247540") => {
                k3 += 1;
                &kosdaq
            }
            other => panic!("unexpected frame {other:?}: {f}"),
        };
        let body = f["body"].as_object().unwrap();
        assert!(
            body.values().all(Value::is_string),
            "every realtime value is a string: {f}"
        );
        assert!(body.len() >= 27, "full S3_ field set: {}", body.len());
        let price = num(&f["body"]["price"]);
        assert!(is_on_grid(Price::lit(price)), "{price}");
        assert!(num(&limits["dnlmtprice"]) <= price && price <= num(&limits["uplmtprice"]));
        assert_eq!(f["body"]["shcode"], key);
    }
}

#[tokio::test]
async fn frames_go_only_to_the_sessions_registered_for_them() {
    let sim = start(busy_config());
    let c = Client::connect(&sim).await;
    let mut a = c.ws().await;
    let mut b = c.ws().await;
    c.register(&mut a, "3", "S3_", "005930").await;
    c.register(&mut b, "3", "S3_", "000660").await;
    for _ in 0..40 {
        assert_eq!(next_of(&mut a, "S3_").await["header"]["tr_key"], "005930");
        assert_eq!(next_of(&mut b, "S3_").await["header"]["tr_key"], "000660");
    }
}

#[tokio::test]
async fn frames_stop_after_unregistration() {
    let sim = start(busy_config());
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    c.register(&mut ws, "3", "S3_", "005930").await;
    c.register(&mut ws, "3", "S3_", "000660").await;
    // Both flow.
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 2 {
        seen.insert(
            next_of(&mut ws, "S3_").await["header"]["tr_key"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    send_registration(&mut ws, &c.token, "4", "S3_", "005930").await;
    // Frames of 005930 may precede the ack; none may follow it.
    let ack = next_ack(&mut ws).await;
    assert_eq!(ack["header"]["rsp_cd"], "00000");
    assert_eq!(ack["header"]["tr_type"], "4");
    for _ in 0..60 {
        let f = next_of(&mut ws, "S3_").await;
        assert_eq!(
            f["header"]["tr_key"], "000660",
            "no 005930 frame after its unregistration"
        );
    }
    let report = sim.subscriptions().await;
    assert_eq!(report.trade_subscribers("005930"), 0);
    assert_eq!(report.trade_subscribers("000660"), 1);
}

#[tokio::test]
async fn registering_twice_is_one_subscription() {
    let sim = start(quiet_config());
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    for _ in 0..3 {
        assert_eq!(
            c.register(&mut ws, "3", "S3_", "005930").await["header"]["rsp_cd"],
            "00000"
        );
    }
    assert_eq!(sim.subscriptions().await.trade_subscribers("005930"), 1);
    drop(ws);
    until("a closed session's subscriptions are removed", async || {
        sim.subscriptions().await.sessions.is_empty()
    })
    .await;
}

#[tokio::test]
async fn a_bad_token_or_code_is_refused_and_the_connection_lives_on() {
    let sim = start(quiet_config());
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    send_registration(&mut ws, "bogus-token", "3", "S3_", "005930").await;
    let ack = next_ack(&mut ws).await;
    assert_ne!(ack["header"]["rsp_cd"], "00000", "{ack}");
    assert!(ack.as_object().unwrap().contains_key("body"));
    let ack = c.register(&mut ws, "3", "S3_", "99999").await;
    assert_ne!(ack["header"]["rsp_cd"], "00000", "{ack}");
    let ack = c.register(&mut ws, "3", "S3_", "005930").await;
    assert_eq!(ack["header"]["rsp_cd"], "00000", "{ack}");
    assert_eq!(sim.subscriptions().await.trade_subscribers("005930"), 1);
}

#[tokio::test]
async fn a_malformed_client_frame_is_answered_and_the_connection_lives_on() {
    let sim = start(quiet_config());
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    for bad in [
        "this is not json",
        r#"{"header":{"tr_type":"3"},"body":{"tr_cd":"S3_","tr_key":"005930"}}"#,
        r#"{"header":{"token":"x","tr_type":"9"},"body":{"tr_cd":"S3_","tr_key":"005930"}}"#,
        r#"{"header":{"token":"x","tr_type":"3"}}"#,
    ] {
        ws.send(Message::Text(bad.into())).await.unwrap();
        let ack = next_ack(&mut ws).await;
        assert_ne!(ack["header"]["rsp_cd"], "00000", "{bad} -> {ack}");
        assert!(!ack["header"]["rsp_msg"].as_str().unwrap().is_empty());
    }
    let ack = c.register(&mut ws, "3", "S3_", "005930").await;
    assert_eq!(ack["header"]["rsp_cd"], "00000");
}

#[tokio::test]
async fn the_websocket_lives_at_slash_websocket() {
    let sim = start(quiet_config());
    let wrong = sim.ws_url().replace("/websocket", "/other");
    assert!(tokio_tungstenite::connect_async(wrong).await.is_err());
}

const SCENARIO: &str = "\
# a scripted condition for tests
condition S001 스크립트 테스트
at 0ms S001 enter 005930
at 10ms S001 enter 000660
at 20ms S001 exit 005930
at 30ms S001 enter 005930
at 40ms S001 exit 000660
";

#[tokio::test]
async fn a_scripted_condition_arrives_in_order_as_ls_sends_it() {
    let mut cfg = quiet_config();
    cfg.exchange.scenario = Some(Scenario::parse(SCENARIO).unwrap());
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    let (_, _, list) = c
        .tr("/stock/item-search", "t1866", json!({"t1866InBlock": {"user_id": "", "gb": "0", "group_name": "", "cont": "", "cont_key": ""}}))
        .await;
    let conds = list["t1866OutBlock1"].as_array().unwrap();
    assert!(
        conds
            .iter()
            .any(|c| c["query_index"] == "S001" && c["query_name"] == "스크립트 테스트"),
        "{list}"
    );
    assert!(
        conds.len() >= 2,
        "a continuous condition is listed too: {list}"
    );
    let (_, _, reg) = c
        .tr("/stock/item-search", "t1860", json!({"t1860InBlock": {"sSysUserFlag": "U", "sFlag": "E", "sAlertNum": "", "query_index": "S001"}}))
        .await;
    assert_eq!(reg["t1860OutBlock"]["sResultFlag"], "S", "{reg}");
    let alert = reg["t1860OutBlock"]["sAlertNum"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(alert.len(), 11);
    let mut ws = c.ws().await;
    assert_eq!(
        c.register(&mut ws, "3", "AFR", &alert).await["header"]["rsp_cd"],
        "00000"
    );
    let mut got = Vec::new();
    while got.len() < 5 {
        let f = next_of(&mut ws, "AFR").await;
        assert_eq!(f["header"]["tr_key"], alert.as_str());
        got.push((
            f["body"]["gsCode"].as_str().unwrap().to_owned(),
            f["body"]["gsJobFlag"].as_str().unwrap().to_owned(),
        ));
    }
    let want: Vec<(String, String)> = [
        ("005930", "N"),
        ("000660", "N"),
        ("005930", "O"),
        ("005930", "R"),
        ("000660", "O"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(got, want);
    // D stops it.
    let (_, _, stop) = c
        .tr("/stock/item-search", "t1860", json!({"t1860InBlock": {"sSysUserFlag": "U", "sFlag": "D", "sAlertNum": alert, "query_index": "S001"}}))
        .await;
    assert_eq!(stop["t1860OutBlock"]["sResultFlag"], "S", "{stop}");
}

#[tokio::test]
async fn account_events_follow_an_order_and_a_reject() {
    let mut cfg = busy_config();
    cfg.exchange.trades_per_sec = 40.0;
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    let ack = c.register(&mut ws, "1", "SC1", "").await;
    assert_eq!(ack["header"]["rsp_cd"], "00000");
    let v = c.order("A005930", 2, 0, "2", "03").await;
    let ord_no = num(&v["CSPAT00601OutBlock2"]["OrdNo"]).to_string();
    let sc0 = next_of(&mut ws, "SC0").await;
    assert_eq!(sc0["body"]["ordno"], ord_no.as_str());
    assert_eq!(sc0["body"]["shtcode"], "A005930");
    assert_eq!(sc0["body"]["trcode"], "SONAT000");
    let mut filled = 0;
    while filled < 2 {
        let sc1 = next_of(&mut ws, "SC1").await;
        assert_eq!(sc1["body"]["ordno"], ord_no.as_str());
        assert_eq!(sc1["body"]["ordxctptncode"], "11");
        assert!(sc1["body"]
            .as_object()
            .unwrap()
            .values()
            .all(Value::is_string));
        filled += num(&sc1["body"]["execqty"]);
        assert_eq!(num(&sc1["body"]["unercqty"]), 2 - filled);
    }
    let v = c.order("005930", 1, 1, "1", "00").await;
    assert_ne!(v["rsp_cd"], "00039");
    let sc4 = next_of(&mut ws, "SC4").await;
    assert_eq!(sc4["body"]["ordxctptncode"], "14");
    assert_eq!(sc4["body"]["shtnIsuno"], "A005930");
}

#[tokio::test]
async fn fault_drop_after_n_frames_closes_without_a_close_frame() {
    let mut cfg = busy_config();
    cfg.faults = Faults {
        drop_after_frames: Some(25),
        ..Faults::default()
    };
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    c.register(&mut ws, "3", "S3_", "005930").await;
    let mut frames = 1;
    loop {
        match tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("closes in time")
        {
            Some(Ok(Message::Text(_))) => frames += 1,
            Some(Ok(Message::Close(_))) => panic!("a dropped connection sends no close frame"),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    assert_eq!(frames, 25, "the ack and 24 trades, then the drop");
}

#[tokio::test]
async fn fault_malformed_frames_are_not_json() {
    let mut cfg = busy_config();
    cfg.faults = Faults {
        malformed_share: 1.0,
        ..Faults::default()
    };
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    // Acks stay whole: the fault is in the market data.
    assert_eq!(
        c.register(&mut ws, "3", "S3_", "005930").await["header"]["rsp_cd"],
        "00000"
    );
    for _ in 0..5 {
        let msg = tokio::time::timeout(PATIENCE, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let text = msg.into_text().unwrap();
        assert!(
            serde_json::from_str::<Value>(text.as_str()).is_err(),
            "{text}"
        );
    }
}

#[tokio::test]
async fn drop_connections_on_request() {
    let sim = start(busy_config());
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    c.register(&mut ws, "3", "S3_", "005930").await;
    next_of(&mut ws, "S3_").await;
    sim.drop_connections();
    loop {
        match tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("drops in time")
        {
            Some(Ok(Message::Close(_))) => panic!("no close frame on a drop"),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
}

#[tokio::test]
async fn a_modify_moves_the_order_and_reports_sc0_then_sc2() {
    let sim = start(busy_config());
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    c.register(&mut ws, "1", "SC0", "").await;
    let p = c.current_price("000660").await;
    let lower = num(&p["dnlmtprice"]);
    let v = c.order("A000660", 4, lower, "2", "00").await;
    let org = num(&v["CSPAT00601OutBlock2"]["OrdNo"]);
    let new_price = condor_actors::market::tick_up(Price::lit(lower))
        .unwrap()
        .won();
    let (_, _, m) = c
        .tr(
            "/stock/order",
            "CSPAT00701",
            json!({"CSPAT00701InBlock1": {"OrgOrdNo": org, "IsuNo": "A000660", "OrdQty": 4, "OrdprcPtnCode": "00", "OrdCndiTpCode": "0", "OrdPrc": new_price}}),
        )
        .await;
    let new_no = num(&m["CSPAT00701OutBlock2"]["OrdNo"]);
    assert!(new_no > org, "a modify gets a new order number: {m}");
    assert_eq!(num(&m["CSPAT00701OutBlock2"]["PrntOrdNo"]), org);
    // SC0 for the new order, SC0 for the modify, then SC2.
    assert_eq!(next_of(&mut ws, "SC0").await["body"]["trcode"], "SONAT000");
    let accepted = next_of(&mut ws, "SC0").await;
    assert_eq!(accepted["body"]["trcode"], "SONAT001");
    let sc2 = next_of(&mut ws, "SC2").await;
    assert_eq!(sc2["body"]["ordxctptncode"], "12");
    assert_eq!(num(&sc2["body"]["ordno"]), new_no);
    assert_eq!(num(&sc2["body"]["orgordno"]), org);
    assert_eq!(num(&sc2["body"]["mdfycnfprc"]), new_price);
    let (_, _, o) = c
        .tr("/stock/accno", "t0425", json!({"t0425InBlock": {"expcode": "000660", "chegb": "2", "medosu": "0", "sortgb": "1", "cts_ordno": ""}}))
        .await;
    let working: Vec<i64> = o["t0425OutBlock1"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| num(&r["ordno"]))
        .collect();
    assert_eq!(working, vec![new_no], "only the modified order works: {o}");
}

#[tokio::test]
async fn fault_drop_after_seconds_closes_the_connection() {
    let mut cfg = busy_config();
    cfg.faults = Faults {
        drop_after: Some(Duration::from_millis(300)),
        ..Faults::default()
    };
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    c.register(&mut ws, "3", "S3_", "005930").await;
    loop {
        match tokio::time::timeout(PATIENCE, ws.next())
            .await
            .expect("the fault drops it")
        {
            Some(Ok(Message::Close(_))) => panic!("no close frame on a drop"),
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
        }
    }
    // A new connection works again (and is dropped again later).
    let mut ws = c.ws().await;
    assert_eq!(
        c.register(&mut ws, "3", "S3_", "005930").await["header"]["rsp_cd"],
        "00000"
    );
}

#[tokio::test]
async fn fault_frame_delay_keeps_every_frame_in_order() {
    let mut cfg = busy_config();
    cfg.faults = Faults {
        frame_delay: Some(Duration::from_millis(20)),
        ..Faults::default()
    };
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    let mut ws = c.ws().await;
    c.register(&mut ws, "3", "S3_", "005930").await;
    let mut last_volume = 0;
    for _ in 0..30 {
        let f = next_of(&mut ws, "S3_").await;
        let volume = num(&f["body"]["volume"]);
        assert!(
            volume > last_volume,
            "cumulative volume only grows: {last_volume} then {volume}"
        );
        last_volume = volume;
    }
}

#[tokio::test]
async fn a_counted_firehose_delivers_every_trade_over_synthetic_listings() {
    let mut cfg = SimConfig {
        rate_limits: false,
        firehose: true,
        firehose_trades: Some(20_000),
        ..SimConfig::default()
    };
    cfg.exchange.synthetic_listings = 200;
    cfg.exchange.trades_per_sec = 0.0; // only the counted burst prints
    let sim = start(cfg);
    let c = Client::connect(&sim).await;
    let (_, _, list) = c
        .tr(
            "/stock/etc",
            "t8436",
            json!({"t8436InBlock": {"gubun": "0"}}),
        )
        .await;
    let synthetic: Vec<(String, String)> = list["t8436OutBlock"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["shcode"].as_str().unwrap().starts_with("99"))
        .map(|s| {
            let tr = if s["gubun"] == "1" { "S3_" } else { "K3_" };
            (tr.to_owned(), s["shcode"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(synthetic.len(), 200);
    let mut ws = c.ws().await;
    // Register everything first: trades start flowing after the first ack, so acks and
    // data frames interleave from there on.
    for (tr, code) in &synthetic {
        send_registration(&mut ws, &c.token, "3", tr, code).await;
    }
    let mut volume: std::collections::HashMap<String, (u64, i64)> = Default::default();
    let (mut received, mut acks) = (0u64, 0);
    while received < 20_000 || acks < 200 {
        let f = next_json(&mut ws).await;
        if !f["body"].is_object() {
            assert_eq!(f["header"]["rsp_cd"], "00000", "{f}");
            acks += 1;
            continue;
        }
        received += 1;
        let entry = volume
            .entry(f["header"]["tr_key"].as_str().unwrap().to_owned())
            .or_default();
        let v = num(&f["body"]["volume"]);
        assert!(
            v > entry.1,
            "per-ticker order: volume {v} after {}",
            entry.1
        );
        *entry = (entry.0 + 1, v);
    }
    // Read on until the market has printed nothing new for a moment, then compare
    // per ticker: every trade of a watched ticker arrived.
    let stats = sim.stats().await;
    let mut printed = 0;
    for (ticker, n) in stats
        .trades_by_ticker
        .iter()
        .filter(|(t, _)| t.as_str().starts_with("99"))
    {
        while volume.get(ticker.as_str()).map_or(0, |e| e.0) < *n {
            let f = next_json(&mut ws).await;
            let entry = volume
                .entry(f["header"]["tr_key"].as_str().unwrap().to_owned())
                .or_default();
            *entry = (entry.0 + 1, num(&f["body"]["volume"]));
        }
        assert_eq!(
            volume[ticker.as_str()].0,
            *n,
            "{ticker}: every printed trade arrived, once"
        );
        printed += n;
    }
    assert!(
        printed >= 20_000,
        "the counted burst was printed: {printed}"
    );
}
