//! The embedded exchange's REST side, over real sockets, with literal LS-shaped JSON:
//! auth, the envelope every client depends on, queries, orders and each reject.

mod common;

use std::time::Duration;

use common::*;
use condor_actors::market::{is_on_grid, Price};
use serde_json::json;

fn fast_config() -> condor::sim::SimConfig {
    let mut cfg = condor::sim::SimConfig::default();
    cfg.exchange.trades_per_sec = 40.0;
    cfg.rate_limits = false;
    cfg
}

#[tokio::test]
async fn token_is_issued_for_the_configured_key_pair() {
    let sim = start(quiet_config());
    let r = reqwest::Client::new()
        .post(format!("{}/oauth2/token", sim.rest_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&appkey={}&appsecretkey={}&scope=oob",
            sim.appkey().expose(),
            sim.appsecret().expose()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    assert_eq!(v["scope"], "oob");
    assert_eq!(v["expires_in"], 86400, "expires_in is a JSON number");
    assert_eq!(
        v["access_token"].as_str().unwrap().split('.').count(),
        3,
        "JWT-shaped"
    );
}

#[tokio::test]
async fn a_wrong_key_pair_gets_ls_error_shape() {
    let sim = start(quiet_config());
    let http = reqwest::Client::new();
    let (status, body) = token(&http, sim.rest_url(), "wrong-key", sim.appsecret().expose())
        .await
        .unwrap_err();
    assert_eq!(status, 403);
    assert_eq!(body["error_code"], "IGW00103");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("AppKey"));
    let (status, body) = token(&http, sim.rest_url(), sim.appkey().expose(), "wrong-secret")
        .await
        .unwrap_err();
    assert_eq!(status, 403);
    assert_eq!(body["error_code"], "IGW00105");
}

#[tokio::test]
async fn a_call_without_a_valid_token_is_refused() {
    let sim = start(quiet_config());
    let mut c = Client::connect(&sim).await;
    c.token = "not-a-token".into();
    let (status, headers, v) = c
        .tr(
            "/stock/market-data",
            "t1102",
            json!({"t1102InBlock": {"shcode": "005930"}}),
        )
        .await;
    assert_eq!(status, 500);
    assert_eq!(v["rsp_cd"], "IGW00121");
    assert!(headers.contains_key("tr_cont") && headers.contains_key("tr_cont_key"));
}

#[tokio::test]
async fn every_reply_carries_the_tr_headers() {
    let sim = start(quiet_config());
    let c = Client::connect(&sim).await;
    for (path, tr, body) in [
        (
            "/stock/market-data",
            "t1102",
            json!({"t1102InBlock": {"shcode": "005930"}}),
        ),
        (
            "/stock/market-data",
            "t1102",
            json!({"t1102InBlock": {"shcode": "999999"}}),
        ),
        (
            "/stock/accno",
            "CSPAQ12200",
            json!({"CSPAQ12200InBlock1": {"BalCreTp": "0"}}),
        ),
        ("/stock/accno", "NOSUCHTR", json!({})),
        (
            "/stock/order",
            "t1102",
            json!({"t1102InBlock": {"shcode": "005930"}}),
        ),
    ] {
        let (_, h, v) = c.tr(path, tr, body).await;
        for name in ["tr_cd", "tr_cont", "tr_cont_key"] {
            assert!(
                h.contains_key(name),
                "{tr} at {path}: header {name} missing; body {v}"
            );
        }
        assert!(v["rsp_cd"].is_string() && v["rsp_msg"].is_string(), "{v}");
    }
}

#[tokio::test]
async fn unknown_tr_and_wrong_path_are_errors_not_crashes() {
    let sim = start(quiet_config());
    let c = Client::connect(&sim).await;
    let (_, _, v) = c.tr("/stock/accno", "NOSUCHTR", json!({})).await;
    assert_ne!(v["rsp_cd"], "00000");
    let (_, _, v) = c
        .tr(
            "/stock/order",
            "t1102",
            json!({"t1102InBlock": {"shcode": "005930"}}),
        )
        .await;
    assert_ne!(v["rsp_cd"], "00000", "t1102 lives at /stock/market-data");
    let (_, _, v) = c
        .tr("/stock/market-data", "t1102", json!({"wrong": 1}))
        .await;
    assert!(
        v["rsp_msg"].as_str().unwrap().contains("t1102InBlock"),
        "names the missing block: {v}"
    );
    // Still serving.
    let p = c.current_price("005930").await;
    assert!(num(&p["price"]) > 0);
}

#[tokio::test]
async fn foccq33600_says_paper() {
    let sim = start(quiet_config());
    let c = Client::connect(&sim).await;
    let (status, h, v) = c
        .tr(
            "/stock/accno",
            "FOCCQ33600",
            json!({"FOCCQ33600InBlock1": {}}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(v["rsp_msg"].as_str().unwrap().contains("모의투자"), "{v}");
    assert!(v["rsp_cd"].as_str().unwrap().parse::<i64>().is_ok());
    assert_eq!(h["tr_cd"], "FOCCQ33600");
}

#[tokio::test]
async fn stock_list_has_both_markets_with_string_gubun() {
    let sim = start(fast_config());
    let c = Client::connect(&sim).await;
    let (_, _, v) = c
        .tr(
            "/stock/etc",
            "t8436",
            json!({"t8436InBlock": {"gubun": "0"}}),
        )
        .await;
    let list = v["t8436OutBlock"].as_array().expect("t8436OutBlock array");
    assert!(list.len() >= 30, "{} listings", list.len());
    assert!(list.iter().any(|s| s["gubun"] == "1") && list.iter().any(|s| s["gubun"] == "2"));
    for s in list {
        assert_eq!(s["shcode"].as_str().unwrap().len(), 6);
        assert!(!s["hname"].as_str().unwrap().is_empty());
        assert!(is_on_grid(Price::lit(num(&s["jnilclose"]))));
    }
    let (_, _, v) = c
        .tr(
            "/stock/etc",
            "t8436",
            json!({"t8436InBlock": {"gubun": "2"}}),
        )
        .await;
    assert!(v["t8436OutBlock"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["gubun"] == "2"));
}

#[tokio::test]
async fn current_price_is_on_the_grid_and_inside_the_limits() {
    let sim = start(fast_config());
    let c = Client::connect(&sim).await;
    for _ in 0..20 {
        for code in ["005930", "000660", "247540", "035720"] {
            let p = c.current_price(code).await;
            let price = num(&p["price"]);
            assert!(is_on_grid(Price::lit(price)), "{code} {price}");
            assert!(
                num(&p["dnlmtprice"]) <= price && price <= num(&p["uplmtprice"]),
                "{p}"
            );
            assert!(num(&p["low"]) <= price && price <= num(&p["high"]) || num(&p["volume"]) == 0);
            assert_eq!(p["shcode"], code);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_for_holding(c: &Client, code: &str, qty: i64) -> serde_json::Value {
    Poll::every(Duration::from_millis(50))
        .until(format!("holding of {qty} {code} never appeared"), async || {
            let (_, _, v) = c
                .tr("/stock/accno", "t0424", json!({"t0424InBlock": {"prcgb": "1", "chegb": "2", "dangb": "0", "charge": "1", "cts_expcode": ""}}))
                .await;
            v["t0424OutBlock1"]
                .as_array()
                .and_then(|a| a.iter().find(|h| h["expcode"] == code))
                .filter(|h| num(&h["janqty"]) == qty)
                .cloned()
                .ok_or_else(|| v.to_string())
        })
        .await
}

async fn balance(c: &Client) -> serde_json::Value {
    let (_, _, v) = c
        .tr(
            "/stock/accno",
            "CSPAQ12200",
            json!({"CSPAQ12200InBlock1": {"BalCreTp": "0"}}),
        )
        .await;
    assert_eq!(v["rsp_cd"], "00136", "{v}");
    v
}

#[tokio::test]
async fn a_market_buy_fills_and_shows_in_the_balance() {
    let sim = start(fast_config());
    let c = Client::connect(&sim).await;
    let before = balance(&c).await;
    let cash_before = num(&before["CSPAQ12200OutBlock2"]["Dps"]);
    let v = c.order("A005930", 10, 0, "2", "03").await;
    assert_eq!(v["rsp_cd"], "00040", "{v}");
    let ord_no = num(&v["CSPAT00601OutBlock2"]["OrdNo"]);
    assert!(ord_no > 0);
    let h = wait_for_holding(&c, "005930", 10).await;
    let cost = num(&h["mamt"]);
    assert_eq!(
        num(&h["pamt"]) * 10,
        cost - cost % 10,
        "average price is cost / qty"
    );
    let after = balance(&c).await;
    assert_eq!(
        num(&after["CSPAQ12200OutBlock2"]["Dps"]),
        cash_before - cost,
        "cash paid exactly the cost"
    );
    let (_, _, o) = c
        .tr("/stock/accno", "t0425", json!({"t0425InBlock": {"expcode": "", "chegb": "0", "medosu": "0", "sortgb": "1", "cts_ordno": ""}}))
        .await;
    let rec = o["t0425OutBlock1"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| num(&r["ordno"]) == ord_no)
        .expect("order in t0425")
        .clone();
    assert!(rec["ordno"].is_number(), "ordno is a JSON number");
    assert_eq!(num(&rec["cheqty"]), 10);
    assert_eq!(num(&rec["ordrem"]), 0);
    assert_eq!(rec["medosu"], "매수");
}

#[tokio::test]
async fn a_limit_order_rests_then_is_cancelled() {
    let sim = start(fast_config());
    let c = Client::connect(&sim).await;
    let p = c.current_price("000660").await;
    let lower = num(&p["dnlmtprice"]);
    // At the lower limit a buy rests: the walk does not get there in a test's time.
    let v = c.order("000660", 3, lower, "2", "00").await;
    assert_eq!(v["rsp_cd"], "00040", "{v}");
    let ord_no = num(&v["CSPAT00601OutBlock2"]["OrdNo"]);
    let t0425 = json!({"t0425InBlock": {"expcode": "000660", "chegb": "2", "medosu": "0", "sortgb": "1", "cts_ordno": ""}});
    let (_, _, o) = c.tr("/stock/accno", "t0425", t0425.clone()).await;
    let rec = &o["t0425OutBlock1"].as_array().unwrap()[0];
    assert_eq!(num(&rec["ordno"]), ord_no);
    assert_eq!(num(&rec["ordrem"]), 3, "{rec}");
    let bal = balance(&c).await;
    let orderable = num(&bal["CSPAQ12200OutBlock2"]["MnyOrdAbleAmt"]);
    assert_eq!(
        orderable,
        num(&bal["CSPAQ12200OutBlock2"]["Dps"]) - 3 * lower,
        "cash reserved for the working buy"
    );

    let (_, _, v) = c
        .tr(
            "/stock/order",
            "CSPAT00801",
            json!({"CSPAT00801InBlock1": {"OrgOrdNo": ord_no, "IsuNo": "A000660", "OrdQty": 3}}),
        )
        .await;
    assert_eq!(v["rsp_cd"], "00156", "{v}");
    assert_eq!(num(&v["CSPAT00801OutBlock2"]["PrntOrdNo"]), ord_no);
    let (_, _, o) = c.tr("/stock/accno", "t0425", t0425).await;
    assert!(
        o["t0425OutBlock1"].as_array().is_none_or(|a| a.is_empty()),
        "nothing unfilled left: {o}"
    );
    let bal = balance(&c).await;
    assert_eq!(
        num(&bal["CSPAQ12200OutBlock2"]["MnyOrdAbleAmt"]),
        num(&bal["CSPAQ12200OutBlock2"]["Dps"]),
        "reserve released"
    );
}

#[tokio::test]
async fn a_marketable_limit_order_fills_at_or_better_than_its_price() {
    let sim = start(fast_config());
    let c = Client::connect(&sim).await;
    let p = c.current_price("035720").await;
    let upper = num(&p["uplmtprice"]);
    let v = c.order("035720", 5, upper, "2", "00").await;
    assert_eq!(v["rsp_cd"], "00040", "{v}");
    let h = wait_for_holding(&c, "035720", 5).await;
    assert!(num(&h["pamt"]) <= upper);
    // Sell them back with a limit at the lower limit: fills at the trade price.
    let lower = num(&p["dnlmtprice"]);
    let v = c.order("035720", 5, lower, "1", "00").await;
    assert_eq!(v["rsp_cd"], "00039", "{v}");
    Poll::every(Duration::from_millis(50))
        .until("sell never filled", async || {
            let (_, _, v) = c.tr("/stock/accno", "t0424", json!({"t0424InBlock": {"prcgb": "1", "chegb": "2", "dangb": "0", "charge": "1", "cts_expcode": ""}})).await;
            let held: i64 = v["t0424OutBlock1"].as_array().map_or(0, |a| {
                a.iter()
                    .filter(|h| h["expcode"] == "035720")
                    .map(|h| num(&h["janqty"]))
                    .sum()
            });
            held == 0
        })
        .await;
}

#[tokio::test]
async fn each_reject_answers_with_a_code_and_a_reason() {
    let sim = start(fast_config());
    let c = Client::connect(&sim).await;
    let p = c.current_price("005930").await;
    let (upper, lower, price) = (
        num(&p["uplmtprice"]),
        num(&p["dnlmtprice"]),
        num(&p["price"]),
    );
    let cases = [
        (
            "bad ticker format",
            c.order("12345", 1, price, "2", "00").await,
        ),
        (
            "unknown ticker",
            c.order("999999", 1, price, "2", "00").await,
        ),
        (
            "zero quantity",
            c.order("005930", 0, price, "2", "00").await,
        ),
        (
            "off-grid price",
            c.order("005930", 1, price + 1, "2", "00").await,
        ),
        (
            "above the upper limit",
            c.order(
                "005930",
                1,
                condor_actors::market::tick_up(Price::lit(upper))
                    .unwrap()
                    .won(),
                "2",
                "00",
            )
            .await,
        ),
        (
            "below the lower limit",
            c.order(
                "005930",
                1,
                condor_actors::market::tick_down(Price::lit(lower)).won(),
                "2",
                "00",
            )
            .await,
        ),
        (
            "no cash",
            c.order("005930", 1_000_000, price, "2", "00").await,
        ),
        (
            "selling what is not held",
            c.order("005930", 1, price, "1", "00").await,
        ),
    ];
    let mut codes = std::collections::BTreeSet::new();
    for (what, v) in &cases {
        let code = v["rsp_cd"].as_str().unwrap();
        assert!(
            !["00040", "00039", "00000"].contains(&code),
            "{what} accepted: {v}"
        );
        assert!(!v["rsp_msg"].as_str().unwrap().is_empty(), "{what}: {v}");
        assert_eq!(
            num(&v["CSPAT00601OutBlock2"]["OrdNo"]),
            0,
            "{what}: no order number"
        );
        codes.insert(code.to_owned());
    }
    assert_eq!(
        cases[5].1["rsp_cd"], "03181",
        "LS's own below-lower-limit code"
    );
    assert_eq!(
        cases[7].1["rsp_cd"], "01478",
        "LS's own sellable-quantity code"
    );
    assert!(
        cases[6].1["rsp_msg"].as_str().unwrap().contains("부족"),
        "clients look for 부족"
    );
    assert!(
        codes.len() >= 6,
        "distinct reasons get distinct codes: {codes:?}"
    );
    // Nothing was taken from the account.
    let bal = balance(&c).await;
    assert_eq!(
        num(&bal["CSPAQ12200OutBlock2"]["MnyOrdAbleAmt"]),
        num(&bal["CSPAQ12200OutBlock2"]["Dps"])
    );
}

#[tokio::test]
async fn isu_no_with_or_without_the_a_prefix() {
    let sim = start(fast_config());
    let c = Client::connect(&sim).await;
    let lower = num(&c.current_price("005930").await["dnlmtprice"]);
    for isu in ["005930", "A005930"] {
        let v = c.order(isu, 1, lower, "2", "00").await;
        assert_eq!(v["rsp_cd"], "00040", "{isu}: {v}");
        assert_eq!(v["CSPAT00601OutBlock1"]["IsuNo"], isu, "echoed as sent");
        assert_eq!(v["CSPAT00601OutBlock2"]["ShtnIsuNo"], "A005930");
    }
}

#[tokio::test]
async fn rate_limits_answer_igw00201_with_http_500() {
    let sim = start(quiet_config());
    let c = Client::connect(&sim).await;
    let mut refused = 0;
    let mut ok = 0;
    for _ in 0..25 {
        let (status, _, v) = c
            .tr(
                "/stock/market-data",
                "t1102",
                json!({"t1102InBlock": {"shcode": "005930"}}),
            )
            .await;
        if status == 500 {
            assert_eq!(v["rsp_cd"], "IGW00201", "{v}");
            refused += 1;
        } else {
            ok += 1;
        }
    }
    assert!(refused > 0, "25 t1102 calls in a burst exceed LS's 10/s");
    assert!(ok >= 10, "the first ten in a second pass");
}
