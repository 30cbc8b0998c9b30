//! The Kiwoom session logic without a socket: frames out as JSON, frames in as the
//! reference writes them, alerts to a plain label.

use std::time::Instant;

use serde_json::{json, Value};
use tokio::sync::oneshot;

use super::*;
use crate::domain::OrderNo;
use crate::market::{Price, Qty, Side};

type Steps = Vec<Step<&'static str>>;

fn t(code: &str) -> Ticker {
    Ticker::parse(code).unwrap()
}

fn js(frame: &str) -> Value {
    serde_json::from_str(frame).unwrap_or_else(|e| panic!("{e}: {frame}"))
}

fn sent(steps: &Steps) -> Vec<Value> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Send(f) => Some(js(f)),
            _ => None,
        })
        .collect()
}

fn frames(frames: &[String]) -> Vec<Value> {
    frames.iter().map(|f| js(f)).collect()
}

fn alerts(steps: &Steps) -> Vec<(&'static str, String, String, JobFlag)> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Alert(to, a) => Some((*to, a.alert_num.clone(), a.code.clone(), a.job)),
            _ => None,
        })
        .collect()
}

const LOGIN_OK: &str = r#"{"trnm":"LOGIN","return_code":0,"return_msg":""}"#;
const REG_OK: &str = r#"{"trnm":"REG","return_code":0,"return_msg":""}"#;
const CNSRLST_OK: &str =
    r#"{"trnm":"CNSRLST","return_code":0,"return_msg":"","data":[["0","조건1"],["4","조건5"]]}"#;

fn snapshot(seq: &str, codes: &[&str]) -> String {
    let rows: Vec<Value> = codes.iter().map(|c| json!({"jmcode": c})).collect();
    json!({"trnm":"CNSRREQ","seq":seq,"return_code":0,"return_msg":"","data":rows}).to_string()
}

fn push(seq: &str, code: &str, change: &str) -> String {
    json!({"trnm":"REAL","data":[{"type":"02","name":"조건검색","item":code,
        "values":{"841":seq,"9001":code,"843":change,"20":"152028","907":"2"}}]})
    .to_string()
}

fn logged_in() -> Link<&'static str> {
    let mut link = Link::new();
    link.connected("T");
    link.on_text(LOGIN_OK, Instant::now());
    link
}

/// Starts condition `seq` on a logged-in link and answers its CNSRLST and CNSRREQ.
fn started(
    link: &mut Link<&'static str>,
    seq: &str,
    to: &'static str,
    members: &[&str],
) -> Vec<String> {
    let (answer, mut answered) = oneshot::channel();
    let out = frames(&link.start(seq, to, answer));
    if out.first().is_some_and(|f| f["trnm"] == "CNSRLST") {
        link.on_text(CNSRLST_OK, Instant::now());
    }
    link.on_text(&snapshot(seq, members), Instant::now());
    answered.try_recv().unwrap().unwrap()
}

#[test]
fn nothing_but_login_goes_before_the_login_is_answered() {
    let mut link: Link<&'static str> = Link::new();
    // Asked before any connection: remembered, nothing sent.
    assert!(link.subscribe(t("005930")).is_empty());
    assert!(link.watch_account().is_empty());
    let out = frames(&link.connected("eyJTOKEN"));
    assert_eq!(out, [json!({"trnm": "LOGIN", "token": "eyJTOKEN"})]);
    // Still not answered: a new ticker waits too.
    assert!(link.subscribe(t("000660")).is_empty());
    let steps = link.on_text(LOGIN_OK, Instant::now());
    assert!(matches!(steps[0], Step::LoggedIn));
    assert_eq!(
        sent(&steps),
        [
            json!({"trnm":"REG","grp_no":"1","refresh":"1","data":[{"item":["000660"],"type":["0B"]}]}),
            json!({"trnm":"REG","grp_no":"1","refresh":"1","data":[{"item":["005930"],"type":["0B"]}]}),
            json!({"trnm":"REG","grp_no":"2","refresh":"1","data":[{"item":[""],"type":["00","04"]}]}),
        ]
    );
}

#[test]
fn a_ticker_is_registered_once_and_removed_once() {
    let mut link = logged_in();
    assert_eq!(
        frames(&link.subscribe(t("005930"))),
        [
            json!({"trnm":"REG","grp_no":"1","refresh":"1","data":[{"item":["005930"],"type":["0B"]}]})
        ]
    );
    assert!(link.subscribe(t("005930")).is_empty(), "one subscription");
    assert_eq!(
        frames(&link.unsubscribe(t("005930"))),
        [json!({"trnm":"REMOVE","grp_no":"1","data":[{"item":["005930"],"type":["0B"]}]})]
    );
    assert!(link.unsubscribe(t("005930")).is_empty());
    assert!(link.watch_account().len() == 1 && link.watch_account().is_empty());
}

#[test]
fn a_ping_is_echoed_unchanged_even_before_the_login_answer() {
    let mut link: Link<&'static str> = Link::new();
    link.connected("T");
    let ping = r#"{ "trnm" : "PING", "time":"20250101" }"#;
    match link.on_text(ping, Instant::now()).as_slice() {
        [Step::Send(echo)] => assert_eq!(echo, ping),
        _ => panic!("one echo"),
    }
}

#[test]
fn a_login_refused_for_its_token_says_so() {
    let mut link: Link<&'static str> = Link::new();
    link.subscribe(t("005930"));
    link.connected("OLD");
    let refused = r#"{"trnm":"LOGIN","return_code":805004,"return_msg":"토큰 인증에 실패했습니다. 접속을 종료합니다 [CODE=8005, MESSAGE=Token이 유효하지 않습니다]"}"#;
    match link.on_text(refused, Instant::now()).as_slice() {
        [Step::LoginRefused { for_token, refusal }] => {
            assert!(*for_token);
            assert_eq!(refusal.inner_code(), Some(8005));
        }
        _ => panic!("a refusal"),
    }
    // A refusal for another reason (one third-party's "3" with no inner code) is not.
    link.connected("OLD");
    let other = r#"{"trnm":"LOGIN","return_code":"3","return_msg":"인증에 실패했습니다"}"#;
    assert!(matches!(
        link.on_text(other, Instant::now()).as_slice(),
        [Step::LoginRefused {
            for_token: false,
            ..
        }]
    ));
    // Nothing is registered on a refused login; the next one registers.
    assert!(link.subscribe(t("000660")).is_empty());
    link.connected("NEW");
    assert_eq!(sent(&link.on_text(LOGIN_OK, Instant::now())).len(), 2);
}

#[test]
fn reg_answers_are_read_in_order_and_the_accounts_says_the_feed_is_live() {
    let mut link = logged_in();
    link.subscribe(t("005930"));
    link.watch_account();
    link.subscribe(t("000660"));
    let refused = r#"{"trnm":"REG","return_code":1,"return_msg":"등록 종목수 초과"}"#;
    assert!(link.on_text(REG_OK, Instant::now()).is_empty());
    assert!(matches!(
        link.on_text(REG_OK, Instant::now()).as_slice(),
        [Step::AccountLive]
    ));
    match link.on_text(refused, Instant::now()).as_slice() {
        [Step::Refused { what, refusal }] => {
            assert_eq!(what, "REG 0B 000660");
            assert_eq!(refusal.return_msg, "등록 종목수 초과");
        }
        _ => panic!("a refusal"),
    }
}

#[test]
fn real_frames_become_ticks_account_events_and_holdings() {
    let mut link = logged_in();
    let at = Instant::now();
    let trade = r#"{"trnm":"REAL","data":[{"type":"0B","name":"주식체결","item":"005930","values":{"20":"165208","10":"-20800","11":"-50","12":"-0.24","27":"-20800","28":"-20700","15":"+82","13":"30379732","14":"632640","16":"20850","17":"+21150","18":"-20450","25":"5","228":"98.92","311":"17230","290":"2","9081":"1"}},{"type":"0D","name":"호가","item":"005930","values":{"41":"1"}}]}"#;
    match link.on_text(trade, at).as_slice() {
        [Step::Tick(tick)] => {
            assert_eq!(
                (tick.ticker, tick.price, tick.qty, tick.prev_close),
                (
                    t("005930"),
                    Price::lit(20_800),
                    Qty::lit(82),
                    Price::lit(20_850)
                )
            );
            assert_eq!(
                (tick.aggressor, tick.seq, tick.received_at),
                (Side::Buy, 0, at)
            );
        }
        _ => panic!("one tick; the 0D entry is not ours"),
    }
    let order = r#"{"trnm":"REAL","data":[{"type":"00","name":"주문체결","item":"005930","values":{"9201":"1111111111","9203":"0000018","9001":"005930","913":"접수","900":"1","901":"0","902":"1","904":"0000000","905":"+매수","906":"시장가","907":"2","908":"094022"}}]}"#;
    assert!(matches!(
        link.on_text(order, at).as_slice(),
        [Step::Account(AccountEvent::Accepted {
            order_no: OrderNo(18),
            ..
        })]
    ));
    let balance = r#"{"trnm":"REAL","data":[{"type":"04","name":"현물잔고","item":"005930","values":{"9201":"1111111111","9001":"005930","930":"102","931":"154116","933":"102"}}]}"#;
    match link.on_text(balance, at).as_slice() {
        [Step::Holding(h)] => assert_eq!(
            *h,
            BrokerHolding {
                ticker: t("005930"),
                qty: Qty::lit(102),
                avg_price: Price::lit(154_116)
            }
        ),
        _ => panic!("one holding"),
    }
    let bad = trade.replace(r#""15":"+82""#, r#""15":"82""#);
    assert!(matches!(
        link.on_text(&bad, at).as_slice(),
        [Step::MalformedTrade(Some(_), _), ..]
    ));
    assert!(matches!(
        link.on_text("{not json", at).as_slice(),
        [Step::Malformed(_)]
    ));
}

#[test]
fn conditions_are_listed_before_any_start_and_the_snapshot_answers_it() {
    let mut link: Link<&'static str> = Link::new();
    let (list, mut listed) = oneshot::channel();
    let (start, mut snap) = oneshot::channel();
    // Asked before the login: sent once it is answered, CNSRLST first.
    assert!(link.list(list).is_empty());
    assert!(link.start("4", "watcher", start).is_empty());
    link.connected("T");
    assert_eq!(
        sent(&link.on_text(LOGIN_OK, Instant::now())),
        [json!({"trnm": "CNSRLST"})]
    );
    // No CNSRREQ until the list is answered.
    assert_eq!(
        sent(&link.on_text(CNSRLST_OK, Instant::now())),
        [json!({"trnm":"CNSRREQ","seq":"4","search_type":"1","stex_tp":"K"})]
    );
    assert_eq!(
        listed.try_recv().unwrap().unwrap(),
        [
            SavedCondition {
                key: "0".into(),
                name: "조건1".into()
            },
            SavedCondition {
                key: "4".into(),
                name: "조건5".into()
            }
        ]
    );
    assert!(snap.try_recv().is_err(), "not answered yet");
    let steps = link.on_text(&snapshot("4", &["A005930", "A000660"]), Instant::now());
    assert!(alerts(&steps).is_empty(), "the snapshot is the answer");
    assert_eq!(snap.try_recv().unwrap().unwrap(), ["000660", "005930"]);
    // Pushes reach the watcher.
    let steps = link.on_text(&push("4", "035720", "I"), Instant::now());
    assert_eq!(
        alerts(&steps),
        [("watcher", "4".into(), "035720".into(), JobFlag::Enter)]
    );
    let steps = link.on_text(&push("4", "A005930", "D"), Instant::now());
    assert_eq!(
        alerts(&steps),
        [("watcher", "4".into(), "005930".into(), JobFlag::Exit)]
    );
    // A push for a condition not started is not routed.
    assert!(matches!(
        link.on_text(&push("9", "005930", "I"), Instant::now())
            .as_slice(),
        [Step::Unrouted]
    ));
    // Asked again: the members known now, at once, and the new watcher hears the rest.
    let (again, mut answered) = oneshot::channel();
    assert!(link.start("4", "other", again).is_empty());
    assert_eq!(answered.try_recv().unwrap().unwrap(), ["000660", "035720"]);
    let steps = link.on_text(&push("4", "000660", "D"), Instant::now());
    assert_eq!(alerts(&steps)[0].0, "other");
}

#[test]
fn a_refused_start_is_answered_with_kiwooms_words() {
    let mut link = logged_in();
    let (start, mut answered) = oneshot::channel();
    link.start("7", "w", start);
    link.on_text(CNSRLST_OK, Instant::now());
    let refused = r#"{"trnm":"CNSRREQ","seq":"7","return_code":1,"return_msg":"조건검색식(7)이 존재하지 않습니다"}"#;
    assert!(link.on_text(refused, Instant::now()).is_empty());
    let e = answered.try_recv().unwrap().unwrap_err();
    assert!(
        e.to_string().contains("CNSRREQ 7") && e.to_string().contains("존재하지 않습니다"),
        "{e}"
    );
    assert!(!link.has_conditions());
}

#[test]
fn after_a_reconnect_the_snapshot_is_diffed_against_what_was_known() {
    let mut link = logged_in();
    started(&mut link, "4", "w", &["A005930", "A000660"]);
    link.on_text(&push("4", "035420", "I"), Instant::now());
    // Known: 005930, 000660, 035420. The link drops; meanwhile 005930 and 035420 leave,
    // 051910 and 068270 enter.
    link.disconnected();
    link.connected("T");
    let steps = link.on_text(LOGIN_OK, Instant::now());
    assert_eq!(
        sent(&steps),
        [json!({"trnm": "CNSRLST"})],
        "listed again first"
    );
    assert_eq!(
        sent(&link.on_text(CNSRLST_OK, Instant::now())),
        [json!({"trnm":"CNSRREQ","seq":"4","search_type":"1","stex_tp":"K"})]
    );
    let steps = link.on_text(
        &snapshot("4", &["A000660", "A068270", "A051910"]),
        Instant::now(),
    );
    assert_eq!(
        alerts(&steps),
        [
            ("w", "4".into(), "005930".into(), JobFlag::Exit),
            ("w", "4".into(), "035420".into(), JobFlag::Exit),
            ("w", "4".into(), "051910".into(), JobFlag::Enter),
            ("w", "4".into(), "068270".into(), JobFlag::Enter),
        ]
    );
    // The same snapshot again says nothing new.
    link.disconnected();
    link.connected("T");
    link.on_text(LOGIN_OK, Instant::now());
    link.on_text(CNSRLST_OK, Instant::now());
    let steps = link.on_text(
        &snapshot("4", &["A000660", "A051910", "A068270"]),
        Instant::now(),
    );
    assert!(alerts(&steps).is_empty());
}

#[test]
fn an_answer_to_a_request_of_an_older_connection_is_not_taken_for_a_newer_ones() {
    let mut link = logged_in();
    let (start, mut answered) = oneshot::channel();
    link.start("4", "w", start);
    link.on_text(CNSRLST_OK, Instant::now());
    // The link drops with the CNSRREQ unanswered; a new connection is not yet listed.
    link.disconnected();
    link.connected("T");
    // The old connection's answers, were they to arrive now, are not this connection's.
    assert!(link.on_text(CNSRLST_OK, Instant::now()).is_empty());
    assert!(link
        .on_text(&snapshot("4", &["A005930"]), Instant::now())
        .is_empty());
    assert!(answered.try_recv().is_err(), "still waiting");
    // The new login lists and asks again; its answer is the one taken.
    assert_eq!(
        sent(&link.on_text(LOGIN_OK, Instant::now())),
        [json!({"trnm": "CNSRLST"})]
    );
    link.on_text(CNSRLST_OK, Instant::now());
    link.on_text(&snapshot("4", &["A000660"]), Instant::now());
    assert_eq!(answered.try_recv().unwrap().unwrap(), ["000660"]);
}

#[test]
fn shutdown_removes_every_registration_and_clears_every_condition() {
    let mut link = logged_in();
    link.subscribe(t("005930"));
    link.subscribe(t("000660"));
    link.watch_account();
    started(&mut link, "4", "w", &[]);
    // A start in flight may be running at the server: it is cleared too.
    let (start, mut pending) = oneshot::channel();
    link.start("0", "w", start);
    let (list, mut listed) = oneshot::channel();
    link.list(list);
    assert_eq!(
        frames(&link.shutdown()),
        [
            json!({"trnm":"REMOVE","grp_no":"1","data":[{"item":["000660","005930"],"type":["0B"]}]}),
            json!({"trnm":"REMOVE","grp_no":"2","data":[{"item":[""],"type":["00","04"]}]}),
            json!({"trnm":"CNSRCLR","seq":"0"}),
            json!({"trnm":"CNSRCLR","seq":"4"}),
        ]
    );
    assert!(matches!(
        pending.try_recv().unwrap(),
        Err(SessionRefusal::ShutDown { .. })
    ));
    assert!(matches!(
        listed.try_recv().unwrap(),
        Err(SessionRefusal::ShutDown { .. })
    ));
    // Closed once all four are answered, refused or not.
    let remove_ok = r#"{"trnm":"REMOVE","return_code":0,"return_msg":""}"#;
    let clr = |seq: &str, code: i64| {
        json!({"trnm":"CNSRCLR","seq":seq,"return_code":code,"return_msg":""}).to_string()
    };
    assert!(link.on_text(remove_ok, Instant::now()).is_empty());
    assert!(link.on_text(remove_ok, Instant::now()).is_empty());
    assert!(matches!(
        link.on_text(&clr("0", 1), Instant::now()).as_slice(),
        [Step::Refused { .. }]
    ));
    assert!(matches!(
        link.on_text(&clr("4", 0), Instant::now()).as_slice(),
        [Step::Closed]
    ));
    assert!(link.on_text(remove_ok, Instant::now()).is_empty(), "once");
    assert!(link.shutdown().is_empty(), "nothing left");
    // Not logged in: nothing is registered, nothing is sent.
    let mut down: Link<&'static str> = Link::new();
    down.subscribe(t("005930"));
    assert!(down.shutdown().is_empty());
}

#[test]
fn membership_changes_are_exits_then_enters() {
    let set = |c: &[&str]| c.iter().map(|c| t(c)).collect::<BTreeSet<_>>();
    assert_eq!(
        membership_changes(&set(&["000660", "005930"]), &set(&["005930", "035720"])),
        [(t("000660"), JobFlag::Exit), (t("035720"), JobFlag::Enter)]
    );
    assert!(membership_changes(&set(&["005930"]), &set(&["005930"])).is_empty());
}

#[test]
fn a_snapshot_code_that_is_not_a_stocks_is_malformed_and_left_out() {
    let mut link = logged_in();
    let (start, mut answered) = oneshot::channel();
    link.start("4", "w", start);
    link.on_text(CNSRLST_OK, Instant::now());
    let steps = link.on_text(&snapshot("4", &["A005930", "0004V0"]), Instant::now());
    assert!(matches!(steps.as_slice(), [Step::Malformed(_)]));
    assert_eq!(answered.try_recv().unwrap().unwrap(), ["005930"]);
    // The `_AL` form of a push reads as the stock.
    let steps = link.on_text(&push("4", "000660_AL", "I"), Instant::now());
    assert_eq!(
        alerts(&steps),
        [("w", "4".into(), "000660".into(), JobFlag::Enter)]
    );
}

#[test]
fn a_trade_that_cannot_be_read_names_its_ticker_so_it_is_logged_once() {
    let mut link = logged_in();
    // A price past KRX's highest: well-formed, refused at the wire.
    let bad = r#"{"trnm":"REAL","data":[{"type":"0B","name":"주식체결","item":"A005930","values":{"20":"165208","10":"+9223372036854775807","11":"0","15":"+82","13":"30379732"}}]}"#;
    match link.on_text(bad, Instant::now()).as_slice() {
        [Step::MalformedTrade(Some(ticker), _)] => assert_eq!(*ticker, t("005930")),
        other => panic!("a malformed trade of 005930, not {} steps", other.len()),
    }
    // An item that names no ticker still counts, without one.
    let nameless = r#"{"trnm":"REAL","data":[{"type":"0B","name":"주식체결","item":"?","values":{"20":"165208","10":"+70000","15":"+1","13":"1"}}]}"#;
    assert!(matches!(
        link.on_text(nameless, Instant::now()).as_slice(),
        [Step::MalformedTrade(None, _)]
    ));
}
