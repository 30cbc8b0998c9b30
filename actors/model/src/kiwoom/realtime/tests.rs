//! The websocket samples of the reference (§5), verbatim, each decoded, re-encoded and
//! decoded again; the parse of REAL entries into the domain; errors that name the field;
//! and seeded noise that must not panic a decoder.

use std::time::Instant;

use super::*;
use crate::kiwoom::rest::{ErrorClass, Retry};
use crate::kiwoom::testing::{assert_covers, Rng};

const LOGIN: &str = r#"{"trnm":"LOGIN","token":"<token>"}"#;
const LOGIN_OK: &str = r#"{"trnm":"LOGIN","return_code":0,"return_msg":""}"#;
const LOGIN_REFUSED: &str = r#"{"trnm":"LOGIN","return_code":805004,"return_msg":"토큰 인증에 실패했습니다. 접속을 종료합니다 [CODE=8005, MESSAGE=Token이 유효하지 않습니다]"}"#;
const LOGIN_REFUSED_TEXT_CODE: &str =
    r#"{"trnm":"LOGIN","return_code":"3","return_msg":"인증에 실패했습니다"}"#;
const SYSTEM: &str =
    r#"{"trnm":"SYSTEM","code":"R10004","message":"접속허용요청(토큰)이 들어오지 않았습니다"}"#;
const PING: &str = r#"{"trnm":"PING"}"#;
const PING_WITH_EXTRAS: &str = r#"{ "trnm" : "PING", "time":"20250101", "data":{"x":[1,2]} }"#;
const REG_TRADES: &str = r#"{"trnm":"REG","grp_no":"1","refresh":"1","data":[{"item":["005930","000660"],"type":["0B"]}]}"#;
const REG_ACCOUNT: &str =
    r#"{"trnm":"REG","grp_no":"2","refresh":"1","data":[{"item":[""],"type":["00","04"]}]}"#;
const REMOVE: &str = r#"{"trnm":"REMOVE","grp_no":"1","data":[{"item":["005930"],"type":["0B"]}]}"#;
const REG_OK: &str = r#"{"trnm":"REG","return_code":0,"return_msg":""}"#;
const REG_REFUSED: &str = r#"{"trnm":"REG","return_code":1,"return_msg":"등록 종목수 초과"}"#;
const REMOVE_OK: &str = r#"{"trnm":"REMOVE","return_code":0,"return_msg":""}"#;
const REAL_0B: &str = r#"{"trnm":"REAL","data":[{"type":"0B","name":"주식체결","item":"005930","values":{"20":"165208","10":"-20800","11":"-50","12":"-0.24","27":"-20800","28":"-20700","15":"+82","13":"30379732","14":"632640","16":"20850","17":"+21150","18":"-20450","25":"5","228":"98.92","311":"17230","290":"2","9081":"1"}}]}"#;
const REAL_00: &str = r#"{"trnm":"REAL","data":[{"type":"00","name":"주문체결","item":"005930","values":{"9201":"1111111111",
 "9203":"0000018","9205":"","9001":"005930","912":"JJ","913":"접수","302":"삼성전자","900":"1","901":"0",
 "902":"1","903":"0","904":"0000000","905":"+매수","906":"시장가","907":"2","908":"094022","909":"",
 "910":"","911":"","10":"+60700","27":"+60700","28":"-60000","914":"","915":"","938":"0","939":"0",
 "919":"0","920":"","921":"0701002","922":"00","923":"00000000","10010":"","2134":"1","2135":"KRX","2136":"Y"}}]}"#;
const REAL_04: &str = r#"{"trnm":"REAL","data":[{"type":"04","name":"현물잔고","item":"005930","values":{"9201":"1111111111","9001":"005930","917":"00","916":"00000000","302":"삼성전자","10":"-60150","930":"102","931":"154116","932":"15719834","933":"102","945":"4","946":"2","950":"0","27":"-60200","28":"-60100","307":"60300","8019":"0.00"}}]}"#;
const REAL_02: &str = r#"{"trnm":"REAL","data":[{"type":"02","name":"조건검색","item":"005930",
  "values":{"841":"4","9001":"005930","843":"I","20":"152028","907":"2"}}]}"#;
/// A capture's shape: only 841/843/9001, an `A` code, an `_AL` item.
const REAL_02_CAPTURE: &str = r#"{"trnm":"REAL","data":[{"type":"02","name":"조건검색","item":"000660_AL","values":{"841":"1","843":"D","9001":"A000660"}}]}"#;
const CNSRLST: &str = r#"{"trnm":"CNSRLST"}"#;
const CNSRLST_REPLY: &str = r#"{"trnm":"CNSRLST","return_code":0,"return_msg":"","data":[["0","조건1"],["1","조건2"],["4","조건5"]]}"#;
const CNSRLST_REPLY_OBJECTS: &str = r#"{"trnm":"CNSRLST","return_code":0,"return_msg":"","data":[{"seq":"0","name":"조건1"},{"seq":4,"name":"조건5","x":1}]}"#;
const CNSRREQ_ONCE: &str =
    r#"{"trnm":"CNSRREQ","seq":"4","search_type":"0","stex_tp":"K","cont_yn":"N","next_key":""}"#;
const CNSRREQ_ONCE_REPLY: &str = r#"{"trnm":"CNSRREQ","seq":"4","cont_yn":"N","next_key":"","return_code":0,"return_msg":"",
 "data":[{"9001":"A005930","302":"삼성전자","10":"000021850","25":"3","11":"000000000","12":"000000000",
          "13":"000000000","16":"000000000","17":"000000000","18":"000000000"}]}"#;
const CNSRREQ_REALTIME: &str = r#"{"trnm":"CNSRREQ","seq":"4","search_type":"1","stex_tp":"K"}"#;
const CNSRREQ_SNAPSHOT: &str = r#"{"trnm":"CNSRREQ","seq":"4","return_code":0,"return_msg":"","data":[{"jmcode":"A005930"},{"jmcode":"A000660"}]}"#;
const CNSRREQ_EMPTY_NULL: &str =
    r#"{"trnm":"CNSRREQ","seq":"4","return_code":0,"return_msg":"","data":null}"#;
const CNSRCLR: &str = r#"{"trnm":"CNSRCLR","seq":"4"}"#;
const CNSRCLR_REPLY: &str = r#"{"trnm":"CNSRCLR","seq":"4","return_code":0,"return_msg":""}"#;

const CLIENT_SAMPLES: [&str; 9] = [
    LOGIN,
    PING,
    REG_TRADES,
    REG_ACCOUNT,
    REMOVE,
    CNSRLST,
    CNSRREQ_ONCE,
    CNSRREQ_REALTIME,
    CNSRCLR,
];

const SERVER_SAMPLES: [&str; 20] = [
    LOGIN_OK,
    LOGIN_REFUSED,
    LOGIN_REFUSED_TEXT_CODE,
    SYSTEM,
    PING,
    PING_WITH_EXTRAS,
    REG_OK,
    REG_REFUSED,
    REMOVE_OK,
    REAL_0B,
    REAL_00,
    REAL_04,
    REAL_02,
    REAL_02_CAPTURE,
    CNSRLST_REPLY,
    CNSRLST_REPLY_OBJECTS,
    CNSRREQ_ONCE_REPLY,
    CNSRREQ_SNAPSHOT,
    CNSRREQ_EMPTY_NULL,
    CNSRCLR_REPLY,
];

fn t(code: &str) -> Ticker {
    Ticker::parse(code).unwrap()
}

fn server(text: &str) -> ServerFrame {
    decode_server_frame(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn only_entry(text: &str) -> RealEntry {
    let ServerFrame::Real(mut entries) = server(text) else {
        panic!("REAL: {text}")
    };
    assert_eq!(entries.len(), 1);
    entries.remove(0)
}

#[test]
fn every_client_sample_round_trips() {
    for sample in CLIENT_SAMPLES {
        let frame = decode_client_frame(sample).unwrap_or_else(|e| panic!("{e}\n{sample}"));
        let text = frame.encode();
        assert_covers(&text, sample);
        assert_eq!(decode_client_frame(&text).unwrap(), frame, "{sample}");
    }
}

#[test]
fn every_server_sample_round_trips() {
    for sample in SERVER_SAMPLES {
        let frame = server(sample);
        let text = frame.encode();
        if sample == CNSRLST_REPLY_OBJECTS {
            // Objects in, arrays out.
            assert!(text.contains(r#"["4","조건5"]"#), "{text}");
        } else if sample == CNSRREQ_EMPTY_NULL {
            assert!(text.contains(r#""data":[]"#), "{text}");
        } else if sample == LOGIN_REFUSED_TEXT_CODE {
            assert!(text.contains(r#""return_code":3"#), "{text}");
        } else {
            assert_covers(&text, sample);
        }
        assert_eq!(decode_server_frame(&text).unwrap(), frame, "{sample}");
    }
}

#[test]
fn client_frames_are_built_as_the_reference_writes_them() {
    let cases = [
        (ClientFrame::login("<token>"), LOGIN),
        (
            ClientFrame::Reg(Registration::trades("1", &[t("005930"), t("000660")])),
            REG_TRADES,
        ),
        (ClientFrame::Reg(Registration::account("2")), REG_ACCOUNT),
        (
            ClientFrame::Remove(Registration::remove_trades("1", &[t("005930")])),
            REMOVE,
        ),
        (ClientFrame::ConditionList, CNSRLST),
        (
            ClientFrame::ConditionSearch(ConditionRequest::once("4", &Continuation::first())),
            CNSRREQ_ONCE,
        ),
        (
            ClientFrame::ConditionSearch(ConditionRequest::realtime("4")),
            CNSRREQ_REALTIME,
        ),
        (ClientFrame::ConditionClear { seq: "4".into() }, CNSRCLR),
    ];
    for (frame, sample) in cases {
        assert_eq!(frame.encode(), sample);
    }
    assert!(!format!("{:?}", ClientFrame::login("SECRET")).contains("SECRET"));
    let Ok(ClientFrame::Reg(r)) = decode_client_frame(REG_TRADES) else {
        panic!()
    };
    assert_eq!(
        r.pairs().collect::<Vec<_>>(),
        [("005930", "0B"), ("000660", "0B")]
    );
    assert!(!r.replaces());
    let Ok(ClientFrame::ConditionSearch(c)) = decode_client_frame(CNSRREQ_REALTIME) else {
        panic!()
    };
    assert!(c.is_realtime() && !c.continuation().more);
    let next = ConditionRequest::once("4", &Continuation::from_headers(Some("Y"), Some("K2")));
    assert_eq!(
        (next.cont_yn.as_deref(), next.next_key.as_deref()),
        (Some("Y"), Some("K2"))
    );
    assert!(next.continuation().more);
}

#[test]
fn a_ping_is_echoed_unchanged() {
    for sample in [PING, PING_WITH_EXTRAS] {
        let ServerFrame::Ping(raw) = server(sample) else {
            panic!("PING")
        };
        assert_eq!(ClientFrame::echo(&raw).encode(), sample);
        assert_eq!(
            decode_client_frame(sample).unwrap(),
            ClientFrame::echo(sample)
        );
    }
    // A PING with fields of odd types is still a PING.
    let odd = r#"{"trnm":"PING","return_code":"abc","seq":{}}"#;
    assert_eq!(server(odd), ServerFrame::Ping(odd.into()));
    assert_eq!(ServerFrame::ping().encode(), PING);
}

#[test]
fn login_and_registration_verdicts_are_classified() {
    assert_eq!(server(LOGIN_OK), ServerFrame::Login(Status::ok()));
    assert!(server(LOGIN_OK).status().unwrap().result().is_ok());
    let ServerFrame::Login(s) = server(LOGIN_REFUSED) else {
        panic!()
    };
    let r = s.result().unwrap_err();
    assert_eq!(r.class(), ErrorClass::WsLogin);
    assert_eq!(r.inner_code(), Some(8005));
    assert_eq!(r.retry(), Retry::NewToken);
    assert!(r.to_string().contains("websocket login refused"), "{r}");
    let ServerFrame::Login(s) = server(LOGIN_REFUSED_TEXT_CODE) else {
        panic!()
    };
    assert_eq!(s.refusal().unwrap().class(), ErrorClass::Auth);
    let ServerFrame::Reg(s) = server(REG_REFUSED) else {
        panic!()
    };
    let r = s.result().unwrap_err();
    assert_eq!(r.class(), ErrorClass::WsRequest);
    assert!(r.to_string().contains("등록 종목수 초과"), "{r}");
    assert!(matches!(server(REMOVE_OK), ServerFrame::Remove(s) if s.is_ok()));
    let ServerFrame::System(n) = server(SYSTEM) else {
        panic!()
    };
    assert_eq!(n.code, SYSTEM_NO_LOGIN);
}

#[test]
fn a_trade_becomes_a_tick() {
    let entry = only_entry(REAL_0B);
    assert_eq!((entry.kind(), entry.name.as_str()), ("0B", "주식체결"));
    let at = Instant::now();
    let tick = entry.to_tick(at).unwrap().unwrap();
    assert_eq!(tick.ticker, t("005930"));
    assert_eq!(tick.price, Price::lit(20_800));
    assert_eq!(tick.qty, Qty::lit(82));
    assert_eq!(tick.cum_volume, 30_379_732);
    assert_eq!(tick.prev_close, Price::lit(20_850));
    assert_eq!(tick.aggressor, Side::Buy);
    assert_eq!(tick.exchange_time, TimeOfDay::hms(16, 52, 8));
    assert_eq!((tick.received_at, tick.seq), (at, 0));
    assert!(entry.account_event().is_none() && entry.condition_push().is_none());
    let RealValues::Trade(v) = &entry.values else {
        panic!()
    };
    assert_eq!(v.sign_code().unwrap(), Sign::Down);
    assert_eq!(
        (v.best_ask().unwrap(), v.best_bid().unwrap()),
        (Price::lit(20_800), Price::lit(20_700))
    );
    // A seller-initiated trade on an _AL item.
    let sold = REAL_0B
        .replace(r#""15":"+82""#, r#""15":"-7""#)
        .replace(r#""item":"005930""#, r#""item":"005930_AL""#);
    let tick = only_entry(&sold).to_tick(at).unwrap().unwrap();
    assert_eq!(
        (tick.aggressor, tick.qty, tick.ticker),
        (Side::Sell, Qty::lit(7), t("005930"))
    );
}

#[test]
fn trades_are_written_as_kiwoom_writes_them() {
    let print = TradePrint {
        price: Price::lit(20_800),
        prev_close: Price::lit(20_850),
        qty: Qty::lit(82),
        aggressor: Side::Buy,
        cum_volume: 30_379_732,
        cum_value_millions: 632_640,
        open: Price::lit(20_850),
        high: Price::lit(21_150),
        low: Price::lit(20_450),
        ask: Price::lit(20_800),
        bid: Price::lit(20_700),
        time: TimeOfDay::hms(16, 52, 8),
    };
    let values = TradeValues {
        strength: "98.92".into(),
        market_cap: "17230".into(),
        ..TradeValues::from_print(&print)
    };
    let frame = ServerFrame::Real(vec![RealEntry::trade(t("005930"), values)]);
    let text = frame.encode();
    assert_covers(&text, REAL_0B);
    assert_covers(
        REAL_0B,
        &text
            .replace(r#","26":"""#, "")
            .replace(r#","29":"""#, "")
            .replace(r#","30":"""#, "")
            .replace(r#","31":"""#, "")
            .replace(r#","32":"""#, ""),
    );
    let tick = frame.entries()[0].to_tick(Instant::now()).unwrap().unwrap();
    assert_eq!(
        (tick.price, tick.prev_close, tick.qty, tick.aggressor),
        (print.price, print.prev_close, print.qty, print.aggressor)
    );
}

#[test]
fn bad_trade_fields_are_named() {
    let cases = [
        (r#""10":"-20800""#, r#""10":"-2O800""#, "`10`"),
        (r#""10":"-20800""#, r#""10":"0""#, "`10`"),
        (r#""15":"+82""#, r#""15":"82""#, "`15`"),
        (r#""15":"+82""#, r#""15":"+8.2""#, "`15`"),
        (r#""13":"30379732""#, r#""13":"-1""#, "`13`"),
        (r#""20":"165208""#, r#""20":"165278""#, "`20`"),
        (r#""11":"-50""#, r#""11":"+30000""#, "`11`"),
        (r#""item":"005930""#, r#""item":"5930""#, "`item`"),
        (r#""item":"005930""#, r#""item":"""#, "`item`"),
    ];
    for (from, to, field) in cases {
        let text = REAL_0B.replace(from, to);
        let e = only_entry(&text)
            .to_tick(Instant::now())
            .unwrap()
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("REAL 0B") && msg.contains(field),
            "{to}: {msg}"
        );
    }
    // No change field: the previous close cannot be derived, and it is said so.
    let text = REAL_0B.replace(r#""11":"-50","#, "");
    let e = only_entry(&text)
        .to_tick(Instant::now())
        .unwrap()
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("prev close") && msg.contains("`11`"), "{msg}");
}

fn order_info(order_no: i64, orig: i64, kind: OrderKind) -> OrderInfo {
    OrderInfo {
        account: "1111111111".into(),
        order_no,
        orig_order_no: orig,
        ticker: t("005930"),
        name: "삼성전자".into(),
        side: Side::Buy,
        kind,
        trade_type: TradeType::Limit,
        qty: Qty::lit(10),
        price: Price::lit(60_000),
        time: TimeOfDay::hms(9, 40, 22),
    }
}

fn event_of(values: OrderValues) -> AccountEvent {
    let frame = ServerFrame::Real(vec![RealEntry::order(t("005930"), values)]);
    let back = server(&frame.encode());
    assert_eq!(back, frame);
    back.entries()[0].account_event().unwrap().unwrap()
}

#[test]
fn the_spec_order_event_is_an_acceptance() {
    let entry = only_entry(REAL_00);
    let event = entry.account_event().unwrap().unwrap();
    assert_eq!(
        event,
        AccountEvent::Accepted {
            order_no: OrderNo(18),
            org_order_no: OrderNo::NONE,
            ticker: t("005930"),
            side: Side::Buy,
            qty: Qty::lit(1),
            price: Price::lit(0),
        }
    );
    // The simulator's acceptance writes the spec's fields the same way.
    let info = OrderInfo {
        qty: Qty::lit(1),
        price: Price::lit(0),
        trade_type: TradeType::Market,
        order_no: 18,
        ..order_info(18, 0, OrderKind::New)
    };
    let built = serde_json::to_value(OrderValues::accepted(&info)).unwrap();
    let RealValues::Order(sample) = &entry.values else {
        panic!()
    };
    let sample = serde_json::to_value(sample.as_ref()).unwrap();
    for key in [
        "9201", "9203", "9001", "912", "913", "302", "900", "901", "902", "903", "904", "905",
        "906", "907", "908", "909", "910", "911", "914", "915", "938", "939", "919", "922", "923",
        "10010", "2134", "2135",
    ] {
        assert_eq!(built[key], sample[key], "{key}");
    }
}

#[test]
fn the_order_life_cycle_maps_to_account_events() {
    let new = order_info(18, 0, OrderKind::New);
    assert_eq!(
        event_of(OrderValues::accepted(&new)),
        AccountEvent::Accepted {
            order_no: OrderNo(18),
            org_order_no: OrderNo::NONE,
            ticker: t("005930"),
            side: Side::Buy,
            qty: Qty::lit(10),
            price: Price::lit(60_000),
        }
    );
    let fill = Execution {
        exec_no: 501,
        price: Price::lit(59_900),
        qty: Qty::lit(4),
        cum_qty: Qty::lit(4),
        cum_amount: 239_600,
        remaining: Qty::lit(6),
    };
    let values = OrderValues::filled(&new, &fill);
    assert_eq!(
        (values.fill_qty.as_str(), values.unit_fill_qty.as_str()),
        ("4", "4")
    );
    assert_eq!(
        event_of(values),
        AccountEvent::Filled {
            order_no: OrderNo(18),
            exec_no: ExecNo(501),
            ticker: t("005930"),
            side: Side::Buy,
            qty: Qty::lit(4),
            price: Price::lit(59_900),
            remaining: Qty::lit(6),
            time: TimeOfDay::hms(9, 40, 22),
        }
    );
    // A second execution: 911 cumulative, 915 this one — the event takes 915.
    let second = Execution {
        exec_no: 502,
        price: Price::lit(60_000),
        qty: Qty::lit(2),
        cum_qty: Qty::lit(6),
        cum_amount: 359_600,
        remaining: Qty::lit(4),
    };
    let values = OrderValues::filled(&new, &second);
    assert_eq!(
        (values.fill_qty.as_str(), values.unit_fill_qty.as_str()),
        ("6", "2")
    );
    assert!(matches!(
        event_of(values),
        AccountEvent::Filled {
            exec_no: ExecNo(502),
            qty,
            price,
            remaining,
            ..
        } if (qty, price, remaining) == (Qty::lit(2), Price::lit(60_000), Qty::lit(4))
    ));
    // A cancel of the remaining 4: its own number, accepted then confirmed.
    let cancel = OrderInfo {
        qty: Qty::lit(4),
        ..order_info(19, 18, OrderKind::Cancel)
    };
    assert!(matches!(
        event_of(OrderValues::accepted(&cancel)),
        AccountEvent::Accepted {
            order_no,
            org_order_no,
            ..
        } if order_no == OrderNo(19) && org_order_no == OrderNo(18)
    ));
    assert_eq!(
        event_of(OrderValues::confirmed(&cancel)),
        AccountEvent::Cancelled {
            order_no: OrderNo(19),
            org_order_no: OrderNo(18),
            qty: Qty::lit(4),
        }
    );
    // 취소 on a cancel order reads as its 확인.
    assert_eq!(
        event_of(OrderValues::cancelled(&cancel, Qty::lit(0))),
        AccountEvent::Cancelled {
            order_no: OrderNo(19),
            org_order_no: OrderNo(18),
            qty: Qty::lit(4),
        }
    );
    // 취소 on the order itself: an IOC remainder, cancelled by its own number.
    assert_eq!(
        event_of(OrderValues::cancelled(&new, Qty::lit(6))),
        AccountEvent::Cancelled {
            order_no: OrderNo(18),
            org_order_no: OrderNo(18),
            qty: Qty::lit(6),
        }
    );
    let modify = OrderInfo {
        price: Price::lit(59_000),
        qty: Qty::lit(6),
        ..order_info(20, 18, OrderKind::Modify)
    };
    assert_eq!(
        event_of(OrderValues::confirmed(&modify)),
        AccountEvent::Modified {
            order_no: OrderNo(20),
            org_order_no: OrderNo(18),
            qty: Qty::lit(6),
            price: Price::lit(59_000),
        }
    );
    assert_eq!(
        event_of(OrderValues::rejected(&new, "855056")),
        AccountEvent::Rejected {
            order_no: OrderNo(18),
            org_order_no: OrderNo::NONE,
            code: "855056".into(),
            qty: Qty::lit(10),
        }
    );
    // A rejection keeps what it can.
    let bare = OrderValues {
        status: "거부".into(),
        reject_reason: "0".into(),
        ..OrderValues::default()
    };
    assert_eq!(
        bare.account_event("").unwrap(),
        AccountEvent::Rejected {
            order_no: OrderNo::NONE,
            org_order_no: OrderNo::NONE,
            code: "거부".into(),
            qty: Qty::lit(0),
        }
    );
}

#[test]
fn sells_and_code_forms_are_read() {
    let sell = OrderInfo {
        side: Side::Sell,
        ..order_info(30, 0, OrderKind::New)
    };
    let mut values = OrderValues::accepted(&sell);
    assert_eq!((values.kind.as_str(), values.side.as_str()), ("-매도", "1"));
    values.code = "A005930".into();
    values.side = String::new();
    assert!(matches!(
        event_of(values.clone()),
        AccountEvent::Accepted {
            side: Side::Sell,
            ..
        }
    ));
    // 9001 blank: the item names the stock.
    values.code = String::new();
    let e = RealEntry::new("005930_NX".into(), RealValues::Order(Box::new(values)));
    assert!(matches!(
        e.account_event().unwrap().unwrap(),
        AccountEvent::Accepted { ticker, .. } if ticker == t("005930")
    ));
}

#[test]
fn bad_order_events_are_named() {
    let new = order_info(18, 0, OrderKind::New);
    let fill = Execution {
        exec_no: 1,
        price: Price::lit(60_000),
        qty: Qty::lit(1),
        cum_qty: Qty::lit(1),
        cum_amount: 60_000,
        remaining: Qty::lit(9),
    };
    let filled = OrderValues::filled(&new, &fill);
    let cases: Vec<(OrderValues, &str)> = vec![
        (
            OrderValues {
                status: "보류".into(),
                ..filled.clone()
            },
            "`913`",
        ),
        (
            OrderValues {
                status: "".into(),
                ..filled.clone()
            },
            "`913`",
        ),
        (
            OrderValues {
                unit_fill_qty: "".into(),
                ..filled.clone()
            },
            "`915`",
        ),
        (
            OrderValues {
                unit_fill_price: "".into(),
                ..filled.clone()
            },
            "`914`",
        ),
        (
            OrderValues {
                fill_no: "".into(),
                ..filled.clone()
            },
            "`909`",
        ),
        (
            OrderValues {
                unfilled_qty: "-1".into(),
                ..filled.clone()
            },
            "`902`",
        ),
        (
            OrderValues {
                order_no: "x".into(),
                ..filled.clone()
            },
            "`9203`",
        ),
        (
            OrderValues {
                side: "3".into(),
                kind: "?".into(),
                ..filled.clone()
            },
            "`907`",
        ),
        (
            OrderValues {
                time: "9402".into(),
                ..filled.clone()
            },
            "`908`",
        ),
        (
            OrderValues {
                code: "A0059".into(),
                ..filled.clone()
            },
            "`9001`",
        ),
        (
            OrderValues {
                status: "확인".into(),
                kind: "+매수".into(),
                ..filled.clone()
            },
            "`905`",
        ),
        (
            OrderValues {
                status: "확인".into(),
                kind: "?".into(),
                ..filled
            },
            "`905`",
        ),
    ];
    for (values, field) in cases {
        let msg = values.account_event("005930").unwrap_err().to_string();
        assert!(
            msg.contains("REAL 00") && msg.contains(field),
            "{field}: {msg}"
        );
    }
}

#[test]
fn a_balance_event_is_a_holding() {
    let entry = only_entry(REAL_04);
    let h = entry.holding().unwrap().unwrap();
    assert_eq!(
        h,
        Holding {
            ticker: t("005930"),
            qty: Qty::lit(102),
            sellable: Qty::lit(102),
            avg_price: Price::lit(154_116),
        }
    );
    let built = BalanceValues::new(
        "1111111111",
        "삼성전자",
        &h,
        Price::lit(60_150),
        Price::lit(60_300),
    );
    assert_eq!(built.last, "-60150");
    assert_eq!(built.holding("").unwrap(), h);
    let e = BalanceValues {
        qty: "".into(),
        ..built
    }
    .holding("")
    .unwrap_err();
    assert!(
        e.to_string().contains("REAL 04") && e.to_string().contains("`930`"),
        "{e}"
    );
}

#[test]
fn condition_pushes_enter_and_exit() {
    let push = only_entry(REAL_02).condition_push().unwrap().unwrap();
    assert_eq!(
        push,
        ConditionPush {
            seq: "4".into(),
            ticker: t("005930"),
            change: ConditionChange::Enter,
            time: Some(TimeOfDay::hms(15, 20, 28)),
        }
    );
    assert_eq!(
        push.to_domain(ConditionId(2)),
        ConditionEvent::Enter(ConditionEnter {
            ticker: t("005930"),
            condition: ConditionId(2),
        })
    );
    let push = only_entry(REAL_02_CAPTURE)
        .condition_push()
        .unwrap()
        .unwrap();
    assert_eq!(
        (push.seq.as_str(), push.ticker, push.change, push.time),
        ("1", t("000660"), ConditionChange::Exit, None)
    );
    assert_eq!(
        push.to_domain(ConditionId::FIRST),
        ConditionEvent::Exit(ConditionExit {
            ticker: t("000660"),
            condition: ConditionId::FIRST,
        })
    );
    // Built pushes read back.
    let values = ConditionValues::new(
        "4",
        t("005930"),
        ConditionChange::Enter,
        TimeOfDay::hms(15, 20, 28),
    );
    let frame = ServerFrame::Real(vec![RealEntry::condition(t("005930"), values)]);
    let text = frame.encode();
    assert_covers(&text, REAL_02);
    assert_eq!(server(&text), frame);
    // Errors name the field.
    for (from, to, field) in [
        (r#""843":"I""#, r#""843":"X""#, "`843`"),
        (r#""843":"I""#, r#""843":"""#, "`843`"),
        (r#""841":"4""#, r#""841":"""#, "`841`"),
        (r#""9001":"005930""#, r#""9001":"0004V0""#, "`9001`"),
        (r#""20":"152028""#, r#""20":"99""#, "`20`"),
    ] {
        let text = REAL_02.replace(from, to);
        let msg = only_entry(&text)
            .condition_push()
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("REAL 02") && msg.contains(field),
            "{to}: {msg}"
        );
    }
}

#[test]
fn condition_list_and_snapshot_become_tickers() {
    let ServerFrame::ConditionList(list) = server(CNSRLST_REPLY) else {
        panic!()
    };
    assert_eq!(list.conditions.len(), 3);
    assert_eq!(list.find("4").unwrap().name, "조건5");
    assert_eq!(list.find(" 조건2 ").unwrap().seq, "1");
    assert!(list.find("없음").is_none());
    let ServerFrame::ConditionList(objects) = server(CNSRLST_REPLY_OBJECTS) else {
        panic!()
    };
    assert_eq!(objects.find("조건5").unwrap().seq, "4");

    let ServerFrame::ConditionSearch(snap) = server(CNSRREQ_SNAPSHOT) else {
        panic!()
    };
    assert_eq!(snap.seq, "4");
    let tickers: Vec<Ticker> = snap.tickers().collect::<Result<_, _>>().unwrap();
    assert_eq!(tickers, [t("005930"), t("000660")]);
    let built = ServerFrame::ConditionSearch(ConditionSearch::snapshot("4", &tickers));
    assert_eq!(built.encode(), CNSRREQ_SNAPSHOT);
    let ServerFrame::ConditionSearch(empty) = server(CNSRREQ_EMPTY_NULL) else {
        panic!()
    };
    assert_eq!(empty.tickers().count(), 0);
    // One bad code costs only its own row.
    let odd = CNSRREQ_SNAPSHOT.replace("A000660", "0004V0");
    let ServerFrame::ConditionSearch(odd) = server(&odd) else {
        panic!()
    };
    let got: Vec<_> = odd.tickers().collect();
    assert_eq!(got[0], Ok(t("005930")));
    assert!(got[1].as_ref().unwrap_err().to_string().contains("jmcode"));

    let ServerFrame::ConditionSearch(once) = server(CNSRREQ_ONCE_REPLY) else {
        panic!()
    };
    assert!(!once.continuation().more);
    let row = &once.rows[0];
    assert_eq!(row.ticker().unwrap(), t("005930"));
    assert_eq!(row.current_price().unwrap(), Price::lit(21_850));
    assert_eq!(row.current_volume().unwrap(), 0);
    let built = SearchRow::result(
        t("005930"),
        "삼성전자",
        Price::lit(21_850),
        Price::lit(21_850),
        0,
    );
    let want: SearchRow = serde_json::from_str(
        r#"{"9001":"A005930","302":"삼성전자","10":"000021850","25":"3","11":"000000000","12":"000000000","13":"000000000"}"#,
    )
    .unwrap();
    assert_eq!(built, want);
    let up = SearchRow::result(t("005930"), "x", Price::lit(21_850), Price::lit(21_528), 5);
    assert_eq!(up.change_rate, "000001495");
    let down = SearchRow::result(t("005930"), "x", Price::lit(21_528), Price::lit(21_850), 5);
    assert_eq!(down.change_rate_millipct().unwrap(), -1473);

    assert!(matches!(
        server(CNSRCLR_REPLY),
        ServerFrame::ConditionClear { seq, status } if seq == "4" && status.is_ok()
    ));
}

#[test]
fn unknown_fields_and_types_are_tolerated() {
    // Extra keys at every level, keys reordered.
    let text = r#"{"extra":{"a":[1]},"data":[{"values":{"99999":"x","843":"I","9001":"005930","841":"4"},"stexTp":"KRX","item":"005930","name":"조건검색","type":"02"}],"trnm":"REAL"}"#;
    let push = only_entry(text).condition_push().unwrap().unwrap();
    assert_eq!(push.ticker, t("005930"));
    let text = REAL_0B.replace(
        r#""20":"165208""#,
        r#""20":"165208","1030":"100","9999":"?""#,
    );
    assert!(only_entry(&text).to_tick(Instant::now()).unwrap().is_ok());
    // A JSON number where Kiwoom sends text is read as text.
    let text = REAL_0B.replace(r#""13":"30379732""#, r#""13":30379732"#);
    assert_eq!(
        only_entry(&text)
            .to_tick(Instant::now())
            .unwrap()
            .unwrap()
            .cum_volume,
        30_379_732
    );
    // An unregistered-by-condor type is kept raw and re-encoded as it came.
    let book = r#"{"trnm":"REAL","data":[{"type":"0D","name":"주식호가잔량","item":"005930","values":{"21":"090000","41":"+70100"}},{"type":"0B","name":"주식체결","item":"000660","values":{"20":"090001","10":"+180000","11":"+1000","15":"-3","13":"10"}}]}"#;
    let frame = server(book);
    let entries = frame.entries();
    assert_eq!(entries.len(), 2);
    assert!(
        matches!(&entries[0].values, RealValues::Other { kind, values } if kind == "0D" && values.contains("+70100"))
    );
    assert!(entries[0].to_tick(Instant::now()).is_none());
    let tick = entries[1].to_tick(Instant::now()).unwrap().unwrap();
    assert_eq!(
        (tick.ticker, tick.prev_close, tick.aggressor),
        (t("000660"), Price::lit(179_000), Side::Sell)
    );
    assert_covers(&frame.encode(), book);
    assert_eq!(server(&frame.encode()), frame);
}

#[test]
fn malformed_frames_are_named() {
    let cases = [
        ("not json", "not JSON"),
        (r#"{"trnm":"REAL"}"#, "`data`"),
        (r#"{"trnm":"REAL","data":{}}"#, "data"),
        (
            r#"{"trnm":"REAL","data":[{"type":"0B","item":"005930"}]}"#,
            "`values`",
        ),
        (
            r#"{"trnm":"REAL","data":[{"item":"005930","values":{}}]}"#,
            "`type`",
        ),
        (
            r#"{"trnm":"REAL","data":[{"type":"0B","item":"005930","values":{"10":{"x":1}}}]}"#,
            "data[0].values.10",
        ),
        (
            r#"{"trnm":"REAL","data":[{"type":"00","item":"005930","values":["913","접수"]}]}"#,
            "data[0].values",
        ),
        (r#"{"trnm":"LOGIN"}"#, "`return_code`"),
        (r#"{"trnm":"LOGIN","return_code":"ok"}"#, "return_code"),
        (r#"{"trnm":"REG","return_code":[]}"#, "return_code"),
        (
            r#"{"trnm":"CNSRLST","return_code":0,"data":[["0"]]}"#,
            "data[0]",
        ),
        (
            r#"{"trnm":"CNSRLST","return_code":0,"data":[{"name":"x"}]}"#,
            "seq",
        ),
        (
            r#"{"trnm":"CNSRREQ","return_code":0,"data":[{"jmcode":{}}]}"#,
            "data[0].jmcode",
        ),
        (r#"{"return_code":0}"#, "trnm"),
        (r#"{"trnm":7}"#, "trnm"),
        (
            r#"{"trnm":"REAL","trnm":"PING","data":[]}"#,
            "duplicate field `trnm`",
        ),
    ];
    for (text, needle) in cases {
        let e = decode_server_frame(text).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(needle), "{text} -> {msg}");
    }
    let e = decode_server_frame(r#"{"trnm":"XYZ"}"#).unwrap_err();
    assert_eq!(
        e,
        WireError::UnknownTr {
            what: "Kiwoom server frame".into(),
            tr_cd: "XYZ".into()
        }
    );
    let cases = [
        (r#"{"trnm":"LOGIN"}"#, "`token`"),
        (r#"{"trnm":"REG","grp_no":"1"}"#, "`data`"),
        (r#"{"trnm":"REG","data":[]}"#, "`grp_no`"),
        (
            r#"{"trnm":"REG","grp_no":"1","data":[{"item":["005930"]}]}"#,
            "`type`",
        ),
        (
            r#"{"trnm":"REG","grp_no":"1","data":[{"item":"005930","type":["0B"]}]}"#,
            "data[0].item",
        ),
        (r#"{"trnm":"CNSRREQ","seq":"4"}"#, "`search_type`"),
        (r#"{"trnm":"CNSRCLR"}"#, "`seq`"),
        (r#"{"token":"x"}"#, "`trnm`"),
        ("[", "not JSON"),
    ];
    for (text, needle) in cases {
        let msg = decode_client_frame(text).unwrap_err().to_string();
        assert!(msg.contains(needle), "{text} -> {msg}");
    }
    assert!(matches!(
        decode_client_frame(r#"{"trnm":"HELLO"}"#),
        Err(WireError::UnknownTr { .. })
    ));
}

/// Seeded edits of every sample and random text never panic a decoder or an accessor.
#[test]
fn random_frames_never_panic() {
    let mut rng = Rng::new(0x5eed_0002);
    let now = Instant::now();
    let exercise = |text: &str| {
        if let Ok(frame) = decode_server_frame(text) {
            let _ = frame.encode();
            if let Some(s) = frame.status() {
                let _ = s.refusal().map(|r| r.to_string());
            }
            for e in frame.entries() {
                let _ = e.to_tick(now);
                let _ = e.account_event();
                let _ = e.condition_push();
                let _ = e.holding();
            }
            if let ServerFrame::ConditionSearch(c) = &frame {
                let _ = c.tickers().count();
                for r in &c.rows {
                    let _ = (
                        r.current_price(),
                        r.current_volume(),
                        r.change_rate_millipct(),
                    );
                }
            }
        }
        if let Ok(frame) = decode_client_frame(text) {
            let _ = frame.encode();
            if let ClientFrame::Reg(r) = &frame {
                let _ = r.pairs().count();
            }
        }
    };
    for sample in SERVER_SAMPLES.iter().chain(CLIENT_SAMPLES.iter()) {
        for _ in 0..1500 {
            exercise(&rng.mutate(sample));
        }
    }
    for _ in 0..5000 {
        exercise(&rng.text(40));
        // Noise inside a REAL envelope reaches the typed readers.
        let v = format!(
            r#"{{"trnm":"REAL","data":[{{"type":"{}","item":"{}","values":{{"10":"{}","11":"{}","15":"{}","13":"{}","20":"{}","913":"{}","9203":"{}","843":"{}","841":"1"}}}}]}}"#,
            ["0B", "00", "02", "04"][rng.below(4)],
            rng.text(3).replace(['"', '\\'], ""),
            rng.text(3).replace(['"', '\\'], ""),
            rng.text(3).replace(['"', '\\'], ""),
            rng.text(3).replace(['"', '\\'], ""),
            rng.text(3).replace(['"', '\\'], ""),
            rng.text(3).replace(['"', '\\'], ""),
            ["접수", "체결", "확인", "취소", "거부", "x"][rng.below(6)],
            rng.text(2).replace(['"', '\\'], ""),
            ["I", "D", "x"][rng.below(3)],
        );
        exercise(&v);
    }
}
