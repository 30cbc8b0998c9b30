//! The decoder table and corpus shared by `tests/hostile_input.rs` (property tests) and
//! `examples/fuzz_decoders.rs` (the fuzz harness): one [`Target`] per public decoder of
//! `condor_actors::wire`, each with valid samples, and the [`Mutation`]s both apply to
//! them.
//!
//! A target's `check` runs the decoder; on success it also calls every accessor of the
//! decoded value and encodes it again with the crate's own encoder, which must decode to
//! the same value. A broken round trip panics, so the tests and the harness count it with
//! the decoder's own panics.

// Each includer uses its own part of this file (the tests the required-field lists, the
// harness the donor splicing and so on).
#![allow(dead_code)]

use std::borrow::Cow;
use std::fmt::Debug;
use std::ops::Range;

use condor_actors::market::{Price, Qty, Side, Ticker};
use condor_actors::wire::account::{
    Cspaq12200, Cspaq12200InBlock1, Cspaq12200Out, Foccq33600, Foccq33600InBlock1, Foccq33600Out,
    T0424InBlock, T0424Out, T0425InBlock, T0425Out, T0424, T0425,
};
use condor_actors::wire::market_data::{
    T1102InBlock, T1102Out, T8436InBlock, T8436Out, T1102, T8436,
};
use condor_actors::wire::order::{
    Cspat00601, Cspat00601InBlock1, Cspat00601Out, Cspat00701, Cspat00701InBlock1, Cspat00701Out,
    Cspat00801, Cspat00801InBlock1, Cspat00801Out, OrderCondition, PriceType,
};
use condor_actors::wire::realtime::{
    decode_client_frame, decode_incoming, decode_server_frame, encode_ack, is_account_feed,
    trade_market, ConditionAlertBody, Incoming, OrderAcceptedBody, OrderEventBody, Registration,
    ServerFrame, TrType, TradeBody,
};
use condor_actors::wire::rest::{decode_reply, decode_request, encode_request, Tr};
use condor_actors::wire::search::{
    T1859InBlock, T1859Out, T1860InBlock, T1860Out, T1866InBlock, T1866Out, T1859, T1860, T1866,
};
use condor_actors::wire::token::{
    decode_form, decode_token_reply, encode_form, RevokeRequest, TokenReply, TokenRequest,
};
use condor_actors::wire::{
    field_fixed, field_i64, field_u64, format_fixed, parse_fixed, parse_int, parse_uint, WireError,
};

/// Runs one decoder on one input (see the module doc).
pub type Check = fn(&str) -> Result<(), WireError>;

/// A valid input of a target.
pub struct Sample {
    pub text: String,
    /// Written by the crate's own encoder, so every key in it is one the decoder reads
    /// (literal samples may carry keys it ignores).
    pub canonical: bool,
    /// Keys whose removal the decoder must refuse, naming the key.
    pub required: Vec<&'static str>,
}

/// One decoder under test.
pub struct Target {
    pub name: String,
    /// JSON input: text that is not JSON, and any proper prefix of a sample, must be
    /// refused.
    pub json: bool,
    pub samples: Vec<Sample>,
    pub check: Check,
}

fn sample(text: impl Into<String>, canonical: bool, required: &[&'static str]) -> Sample {
    Sample {
        text: text.into(),
        canonical,
        required: required.to_vec(),
    }
}

/// True when `text` is one JSON document (the decoders' own lexer decides).
pub fn is_json(text: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok()
}

/// Every target, samples checked: a sample that does not decode is a broken corpus, so
/// building the table panics naming it.
pub fn targets() -> Vec<Target> {
    let mut all = vec![
        server_frame_target(),
        client_frame_target(),
        token_reply_target(),
        form_target(),
        num_target(),
        time_target(),
    ];
    all.extend(rest_targets::<Cspat00601>(
        vec![
            Cspat00601InBlock1::limit(ticker("005930"), Side::Buy, Qty::lit(2), Price::lit(60_000)),
            Cspat00601InBlock1::new(
                ticker("000660"),
                Side::Sell,
                Qty::lit(10),
                PriceType::Best,
                Price::lit(0),
                OrderCondition::Ioc,
            ),
            Cspat00601InBlock1 {
                mbr_no: "NXT".into(),
                ..Cspat00601InBlock1::market(ticker("035720"), Side::Sell, Qty::lit(3))
            },
        ],
        &[CSPAT00601_LENIENT_REQUEST],
        &["IsuNo", "OrdQty", "OrdPrc", "BnsTpCode", "OrdprcPtnCode"],
        &[CSPAT00601_REPLY],
    ));
    all.extend(rest_targets::<Cspat00701>(
        vec![Cspat00701InBlock1::limit(
            32004,
            ticker("005930"),
            Qty::lit(1),
            Price::lit(61_000),
        )],
        &[CSPAT00701_LENIENT_REQUEST],
        &["OrgOrdNo", "IsuNo", "OrdQty", "OrdprcPtnCode", "OrdPrc"],
        &[CSPAT00701_REPLY],
    ));
    all.extend(rest_targets::<Cspat00801>(
        vec![Cspat00801InBlock1::new(
            32004,
            ticker("005930"),
            Qty::lit(1),
        )],
        &[CSPAT00801_LENIENT_REQUEST],
        &["OrgOrdNo", "IsuNo", "OrdQty"],
        &[CSPAT00801_REPLY],
    ));
    all.extend(rest_targets::<Cspaq12200>(
        vec![Cspaq12200InBlock1::new()],
        &[],
        &[],
        &[CSPAQ12200_REPLY],
    ));
    all.extend(rest_targets::<T0424>(
        vec![T0424InBlock::new()],
        &[],
        &[],
        &[T0424_REPLY],
    ));
    all.extend(rest_targets::<T0425>(
        vec![T0425InBlock::all()],
        &[],
        &[],
        &[T0425_REPLY],
    ));
    all.extend(rest_targets::<Foccq33600>(
        vec![
            Foccq33600InBlock1::default(),
            Foccq33600InBlock1 {
                rec_cnt: 1,
                qry_srt_dt: "20250101".into(),
                qry_end_dt: "20250131".into(),
                term_tp: "1".into(),
            },
        ],
        &[],
        &[],
        &[FOCCQ33600_REPLY],
    ));
    all.extend(rest_targets::<T1102>(
        vec![
            T1102InBlock::new(ticker("005930")),
            T1102InBlock {
                exchgubun: Some("K".into()),
                ..T1102InBlock::new(ticker("078150"))
            },
        ],
        &[],
        &["shcode"],
        &[T1102_REPLY],
    ));
    all.extend(rest_targets::<T8436>(
        vec![T8436InBlock::all()],
        &[],
        &["gubun"],
        &[T8436_REPLY],
    ));
    all.extend(rest_targets::<T1866>(
        vec![T1866InBlock::all("user01")],
        &[],
        &[],
        &[T1866_REPLY],
    ));
    all.extend(rest_targets::<T1860>(
        vec![
            T1860InBlock::register("testID0000"),
            T1860InBlock::stop("1722490200A", "testID0000"),
        ],
        &[],
        &[],
        &[T1860_REPLY],
    ));
    all.extend(rest_targets::<T1859>(
        vec![T1859InBlock {
            query_index: "testID0000".into(),
        }],
        &[],
        &["query_index"],
        &[T1859_REPLY],
    ));
    for t in &all {
        for s in &t.samples {
            if let Err(e) = (t.check)(&s.text) {
                panic!("{}: sample does not decode: {e}\n{}", t.name, s.text);
            }
        }
    }
    all
}

fn ticker(code: &str) -> Ticker {
    Ticker::parse(code).expect("a six-digit sample code")
}

// ---------------------------------------------------------------------------------------
// Realtime frames

const FRAME_REQUIRED: &[&str] = &["header", "body", "tr_cd"];

fn server_frame_target() -> Target {
    let trade = &["shcode", "price", "chetime", "cvolume", "volume", "sign"];
    let event = &[
        "ordno",
        "shtnIsuno",
        "execqty",
        "execprc",
        "ordxctptncode",
        "unercqty",
    ];
    let k3 = S3_FRAME
        .replace("\"S3_\"", "\"K3_\"")
        .replace(r#""sign":"2""#, r#""sign":"5""#)
        .replace(r#""drate":"1.93""#, r#""drate":"-0.37""#)
        .replace(r#""cgubun":"+""#, r#""cgubun":"-""#);
    let sc4 = SC1_FRAME.replace("\"SC1\"", "\"SC4\"").replace(
        r#""ordxctptncode":"11""#,
        r#""ordxctptncode":"14","rjtqty":"2""#,
    );
    let literal: Vec<(String, Vec<&'static str>)> = vec![
        (S3_FRAME.into(), [FRAME_REQUIRED, trade].concat()),
        (k3, [FRAME_REQUIRED, trade].concat()),
        (
            AFR_FRAME.into(),
            [FRAME_REQUIRED, &["gsCode", "gsJobFlag"]].concat(),
        ),
        (
            SC0_FRAME.into(),
            [
                FRAME_REQUIRED,
                &["ordno", "shtcode", "ordqty", "ordprice", "ordgb", "trcode"],
            ]
            .concat(),
        ),
        (SC1_FRAME.into(), [FRAME_REQUIRED, event].concat()),
        (SC2_FRAME.into(), [FRAME_REQUIRED, event].concat()),
        (SC3_FRAME.into(), [FRAME_REQUIRED, event].concat()),
        (sc4, [FRAME_REQUIRED, event].concat()),
        (ACK_FRAME.into(), vec!["header", "tr_cd"]),
        (
            encode_ack(
                "S3_",
                Some("999999"),
                "3",
                "IGW00002",
                "종목코드가 올바르지 않습니다.",
            ),
            vec!["header", "tr_cd"],
        ),
        // The simulator's answer to a frame it could not read.
        (
            encode_ack("", None, "", "IGW00001", "x"),
            vec!["header", "tr_cd"],
        ),
    ];
    let mut samples = Vec::new();
    for (text, required) in literal {
        let frame = decode_server_frame(&text)
            .unwrap_or_else(|e| panic!("server frame sample: {e}\n{text}"));
        // Body first: the decoder's other path (the body is held raw until the header).
        if let Some(flipped) = body_first(&text) {
            samples.push(sample(flipped, false, &required));
        }
        samples.push(sample(frame.encode(), true, &required));
        samples.push(sample(text, false, &required));
    }
    Target {
        name: "server_frame".into(),
        json: true,
        samples,
        check: check_server_frame,
    }
}

/// `{"body":…,"header":…}` from a `{"header":…,"body":…}` frame; `None` for an ack.
fn body_first(frame: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(frame).ok()?;
    if v["body"].is_null() {
        return None;
    }
    Some(format!(
        r#"{{"body":{},"header":{}}}"#,
        v["body"], v["header"]
    ))
}

fn check_server_frame(text: &str) -> Result<(), WireError> {
    check_incoming(text);
    let frame = decode_server_frame(text)?;
    let _ = frame.tr_cd();
    match &frame {
        ServerFrame::Ack(ack) => {
            let _ = (ack.is_ok(), ack.tr_type());
        }
        ServerFrame::Trade { body, .. } => touch_trade(body),
        ServerFrame::ConditionAlert { body, .. } => touch_alert(body),
        ServerFrame::OrderAccepted(body) => touch_accepted(body),
        ServerFrame::OrderFilled(body)
        | ServerFrame::OrderModified(body)
        | ServerFrame::OrderCancelled(body)
        | ServerFrame::OrderRejected(body) => touch_event(body),
    }
    let encoded = frame.encode();
    match decode_server_frame(&encoded) {
        Ok(again) if again == frame => Ok(()),
        other => panic!("server frame does not survive encode/decode: {frame:?}\nencoded {encoded}\ncame back as {other:?}"),
    }
}

/// The fields the hot path reads from a trade body (its `TradeFields`).
const HOT_FIELDS: &[&str] = &[
    "shcode", "price", "chetime", "sign", "change", "cgubun", "cvolume", "volume",
];

/// The engine's hot path (`decode_incoming`) must agree with the full decoder:
///
/// - Both call a text not JSON exactly when it is not JSON by RFC 8259's grammar
///   ([`rfc8259_json`], written here apart from serde): `NotJson` on either side is about
///   the text, so the two cannot disagree on it.
/// - What both accept they read the same (the same trade fields, the same other frames).
/// - The hot path may keep a trade the full decoder refuses only for a body field it
///   skips unread (`Malformed` at `body…`, naming none of its fields): a wrongly typed
///   `drate` or a `1e400` in `cpower` is JSON the full decoder cannot hold, and must not
///   cost the engine a tick (`decode_incoming`'s promise).
/// - A lone surrogate escape is never a refusal: both read it as U+FFFD, so each answers
///   for the text what it answers for the text with `\ufffd` in its place
///   ([`lone_surrogates_as_replacement`], written apart from the decoder's own).
/// - Whatever else the full decoder refuses, the hot path refuses too.
fn check_incoming(text: &str) {
    let json = rfc8259_json(text);
    // serde's skipper is what the decoders call "JSON": it must be the grammar.
    assert_eq!(is_json(text), json, "serde and RFC 8259 disagree on {text}");
    let (hot, full) = (decode_incoming(text), decode_server_frame(text));
    let not_json = |r: Option<&WireError>| matches!(r, Some(WireError::NotJson { .. }));
    assert_eq!(
        not_json(hot.as_ref().err()),
        !json,
        "hot path {hot:?} for {text}"
    );
    assert_eq!(
        not_json(full.as_ref().err()),
        !json,
        "full decoder {full:?} for {text}"
    );
    if let Some(readable) = lone_surrogates_as_replacement(text).filter(|_| json) {
        assert_eq!(
            full,
            decode_server_frame(&readable),
            "full decoder on {text}\nand on {readable}"
        );
        assert_eq!(
            hot_view(&hot),
            hot_view(&decode_incoming(&readable)),
            "hot path on {text}\nand on {readable}"
        );
    }
    match (hot, full) {
        (Ok(Incoming::Trade { market, fields }), Ok(ServerFrame::Trade { market: m, body })) => {
            assert_eq!((market, &fields), (m, &body.fields()), "{text}");
            let _ = (fields.prev_close(), fields.aggressor(), fields.time());
        }
        (Ok(Incoming::Trade { fields, .. }), Err(WireError::Malformed { detail, .. }))
            if detail.starts_with("body")
                && !names_a_hot_field(&detail)
                && !detail.contains("surrogate") =>
        {
            let _ = (fields.prev_close(), fields.aggressor(), fields.time());
        }
        (Ok(Incoming::Other(hot)), Ok(full)) => assert_eq!(*hot, full, "{text}"),
        (Err(_), Err(_)) => {}
        (hot, full) => panic!("hot path {hot:?} but full decoder {full:?} for {text}"),
    }
}

/// What the hot path answered, in comparable terms.
fn hot_view(
    r: &Result<Incoming<'_>, WireError>,
) -> Result<Result<(String, String), ServerFrame>, WireError> {
    match r {
        Ok(Incoming::Trade { market, fields }) => {
            Ok(Ok((format!("{market:?}"), format!("{fields:?}"))))
        }
        Ok(Incoming::Other(frame)) => Ok(Err((**frame).clone())),
        Err(e) => Err(e.clone()),
    }
}

/// `text` (JSON) with every lone surrogate escape in its strings made `\ufffd`, read
/// string by string apart from the decoder's scan; `None` when it has none.
pub fn lone_surrogates_as_replacement(text: &str) -> Option<String> {
    let b = text.as_bytes();
    // Every `\uXXXX` inside a string: where it starts, its code unit.
    let mut units: Vec<(usize, u32)> = Vec::new();
    let (mut i, mut in_string) = (0, false);
    while i < b.len() {
        match (in_string, b[i]) {
            (_, b'"') => {
                in_string = !in_string;
                i += 1;
            }
            (true, b'\\') => {
                let hex =
                    std::str::from_utf8(b.get(i + 2..i + 6).unwrap_or_default()).unwrap_or("");
                match (b.get(i + 1), u32::from_str_radix(hex, 16)) {
                    (Some(b'u'), Ok(unit)) if hex.len() == 4 => {
                        units.push((i, unit));
                        i += 6;
                    }
                    _ => i += 2,
                }
            }
            _ => i += 1,
        }
    }
    let leading = |u: u32| (0xD800..0xDC00).contains(&u);
    let trailing = |u: u32| (0xDC00..0xE000).contains(&u);
    let mut lone = Vec::new();
    let mut k = 0;
    while k < units.len() {
        let (at, unit) = units[k];
        let paired = units
            .get(k + 1)
            .is_some_and(|&(next, u)| leading(unit) && next == at + 6 && trailing(u));
        if paired {
            k += 2;
            continue;
        }
        if leading(unit) || trailing(unit) {
            lone.push(at);
        }
        k += 1;
    }
    if lone.is_empty() {
        return None;
    }
    let mut out = b.to_vec();
    for at in lone {
        out[at + 2..at + 6].copy_from_slice(b"fffd");
    }
    Some(String::from_utf8(out).expect("hex digits for hex digits"))
}

/// Whether a `body…` error names a field the hot path reads (`body.price: …`, `body:
/// price: …` for a body that came first, or "missing field `price`").
fn names_a_hot_field(detail: &str) -> bool {
    let path = detail
        .trim_start_matches("body")
        .trim_start_matches(['.', ':', ' ']);
    HOT_FIELDS.iter().any(|f| {
        path.strip_prefix(f)
            .is_some_and(|rest| rest.starts_with(':'))
            || detail.contains(&format!("`{f}`"))
    })
}

/// RFC 8259's grammar (§2–§7), written apart from serde_json as the oracle for what is
/// JSON: one value between optional whitespace; strings of any character but `"`, `\`
/// and U+0000–U+001F, with the escapes `\" \\ \/ \b \f \n \r \t \uXXXX` (any four
/// hex digits: a lone surrogate is grammatical, §8.2); numbers
/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` of any size; any depth (an explicit
/// stack, so a deep input cannot overflow a test thread's stack).
pub fn rfc8259_json(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    // The open containers, innermost last: `{` or `[`.
    let mut open: Vec<u8> = Vec::new();
    'value: loop {
        json_ws(b, &mut i);
        match b.get(i) {
            Some(&c @ (b'{' | b'[')) => {
                i += 1;
                json_ws(b, &mut i);
                let close = if c == b'{' { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    i += 1;
                } else {
                    open.push(c);
                    if c == b'{' && !json_key(b, &mut i) {
                        return false;
                    }
                    continue 'value;
                }
            }
            Some(b'"') => {
                if !json_string(b, &mut i) {
                    return false;
                }
            }
            Some(b't') | Some(b'f') | Some(b'n') => {
                let Some(word) = [&b"true"[..], b"false", b"null"]
                    .into_iter()
                    .find(|w| b[i..].starts_with(w))
                else {
                    return false;
                };
                i += word.len();
            }
            Some(b'-' | b'0'..=b'9') => {
                if !json_number(b, &mut i) {
                    return false;
                }
            }
            _ => return false,
        }
        // After a value: close containers, or a comma and the next member or element.
        loop {
            json_ws(b, &mut i);
            let Some(&inner) = open.last() else {
                return i == b.len();
            };
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    if inner == b'{' && !json_key(b, &mut i) {
                        return false;
                    }
                    continue 'value;
                }
                Some(b'}') if inner == b'{' => {
                    i += 1;
                    open.pop();
                }
                Some(b']') if inner == b'[' => {
                    i += 1;
                    open.pop();
                }
                _ => return false,
            }
        }
    }
}

fn json_ws(b: &[u8], i: &mut usize) {
    while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *i += 1;
    }
}

/// A member's key and its colon.
fn json_key(b: &[u8], i: &mut usize) -> bool {
    json_ws(b, i);
    if b.get(*i) != Some(&b'"') || !json_string(b, i) {
        return false;
    }
    json_ws(b, i);
    if b.get(*i) != Some(&b':') {
        return false;
    }
    *i += 1;
    true
}

/// A string from its opening quote (the text is a `str`, so UTF-8 is already valid).
fn json_string(b: &[u8], i: &mut usize) -> bool {
    *i += 1;
    loop {
        match b.get(*i) {
            None | Some(0..=0x1f) => return false,
            Some(b'"') => {
                *i += 1;
                return true;
            }
            Some(b'\\') => match b.get(*i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 2,
                Some(b'u') => {
                    let hex = b.get(*i + 2..*i + 6);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        return false;
                    }
                    *i += 6;
                }
                _ => return false,
            },
            Some(_) => *i += 1,
        }
    }
}

fn json_number(b: &[u8], i: &mut usize) -> bool {
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if b.get(*i) == Some(&b'-') {
        *i += 1;
    }
    match b.get(*i) {
        Some(b'0') => *i += 1,
        Some(b'1'..=b'9') => {
            digits(i);
        }
        _ => return false,
    }
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        if !digits(i) {
            return false;
        }
    }
    if matches!(b.get(*i), Some(b'e' | b'E')) {
        *i += 1;
        if matches!(b.get(*i), Some(b'+' | b'-')) {
            *i += 1;
        }
        if !digits(i) {
            return false;
        }
    }
    true
}

/// A server frame a seed once found, or an edge of the same kind, checked on every run
/// whatever the seeds (`tests/hostile_input.rs`, and the harness before its seeds).
pub struct Regression {
    pub input: &'static str,
    /// Whether the engine's hot path (`decode_incoming`) reads it as a trade.
    pub trade: bool,
    pub why: &'static str,
}

/// The edges of JSON strings and numbers in a trade frame, read and skipped fields
/// alike: lone surrogate escapes (seed 20261206 found the first, 81 times in 200,000
/// inputs, when the full decoder refused them; both read them as U+FFFD now), invalid
/// escapes, raw control characters, what a lossy read of bad UTF-8
/// leaves, numbers no `f64` holds. Each must pass [`check_incoming`].
pub const REGRESSIONS: &[Regression] = &[
    Regression {
        input: r#"{"body":{"bidho":"55500","cgubun":"-","change":"1050","chetime":"090851","cpower":"332.56","cvolume":"1","drate":"-0.37","exchname":"KRX","ame":"KRX","high":"55800","hightime":"090504","jnilvolume":"2508350","low":"55500","lowtime":"090030","mdchecnt":"23","mdvolume":"946","mschecnt":"96","msvolume":"3146","offerho":"240000","open":"55600","opentime":"090030","price":"55550","shcode":"005930","sign":"5","status":"00","value":"604","volume":"10887","w_avrg":"55448\ud800"},"header":{"tr_cd":"K3_","tr_key":"005930"}}"#,
        trade: true,
        why: "seed 20261206 input 518: K3_, body first, a lone surrogate in a skipped field",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{"mdchecnt":"23","sign":"2","mschecnt":"96","mdvolume":"946","w_avrg":"55448","cpower":"\ud800","offerho":"55600","cvolume":"1","high":"55800","bidho":"55500","low":"55500","price":"55550","cgubun":"+","value":"604","change":"1050","shcode":"005930","chetime":"090851","opentime":"090030","lowtime":"090030","volume":"10887","drate":"1.93","hightime":"090504","jnilvolume":"2508350","msvolume":"3146","exchname":"KRX","open":"55600","status":"00"}}"#,
        trade: true,
        why: "seed 20261206 input 6992: the first failure in the header-first order (cpower)",
    },
    Regression {
        input: r#"{"body":{"bidho":"55500","cgubun":"+","change":"1050","chetime":"090851","cpower":"332.56","cvolume":"1","drate":"1.93","exchname":"KRX","high":"55800","hightime":"090504","jnilvolume":"2508350","low":"\ud800","lowtime":"090030","mdchecnt":"23","mdvolume":"946","mschecnt":"96","msvolume":"3146","offerho":"55600","open":"55600","opentime":"090030","price":"55550","shcode":"005930","sign":"2","status":"00","value":"604","volume":"10887","w_avrg":"55448"},"header":{"tr_cd":"S3_","tr_key":"005930"}}"#,
        trade: true,
        why: "seed 20261206 input 8581: body first, a lone surrogate in low",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{"chetime":"090851","sign":"2","change":"1050","price":"55550","cpower":"\ud800","cgubun":"+","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "a lone leading surrogate in a skipped field: JSON, a trade to both decoders",
    },
    Regression {
        input: r#"{"body":{"chetime":"090851","sign":"2","price":"55550","cpower":"\ud800","cvolume":"1","volume":"10887","shcode":"005930"},"header":{"tr_cd":"S3_","tr_key":"005930"}}"#,
        trade: true,
        why: "the same with the body first (read raw, then typed)",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"K3_"},"body":{"chetime":"090851","sign":"2","price":"55550","cpower":"\udc00","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "a lone trailing surrogate in a skipped field",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","hname":"\ud800\u0041","exchname":"\ud800\ud800","w_avrg":"\ud800x","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "a leading surrogate followed by a non-trailing escape, another leading one, a plain character",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","cpower":"\ud83d\ude00\u0033\/\b\f\n\r\t\"\\","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "a surrogate pair and every other escape: text both read",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"\ud800","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "a lone surrogate in a field the tick needs: U+FFFD to both, the price refused when the tick is built",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","\ud800":"1","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "a lone surrogate in a key: U+FFFD makes it a key neither knows, skipped",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_","tr_key":"\udfff"},"body":{"chetime":"090851","sign":"2","price":"55550","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "a lone surrogate in the header's tr_key, which both read as U+FFFD",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"extra":"\ud800","body":{"chetime":"090851","sign":"2","price":"55550","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "a lone surrogate in a member beside header and body, which both skip",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_","tr_key":"005930","tr_type":"3","rsp_cd":"00000","rsp_msg":"\ud800"},"body":null}"#,
        trade: false,
        why: "a lone surrogate in an ack's message",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","cpower":"\x","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: false,
        why: "an invalid escape in a skipped field: not JSON",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","cpower":"\u12","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: false,
        why: "a \\u escape cut short in a skipped field: not JSON",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","cpower":"\u12G4","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: false,
        why: "a \\u escape with a non-hex digit in a skipped field: not JSON",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","cpower":"\ud800\","cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: false,
        why: "a lone surrogate then a backslash that escapes the closing quote: not JSON",
    },
    Regression {
        input: "{\"header\":{\"tr_cd\":\"S3_\"},\"body\":{\"chetime\":\"090851\",\"sign\":\"2\",\"price\":\"55550\",\"cpower\":\"a\u{1}b\",\"cvolume\":\"1\",\"volume\":\"10887\",\"shcode\":\"005930\"}}",
        trade: false,
        why: "a raw control character in a skipped field: not JSON",
    },
    Regression {
        input: "{\"header\":{\"tr_cd\":\"S3_\"},\"body\":{\"chetime\":\"090851\",\"sign\":\"2\",\"price\":\"55550\",\"cpower\":\"a\u{7f}\u{FFFD}\u{FFFD}b\",\"cvolume\":\"1\",\"volume\":\"10887\",\"shcode\":\"005930\"}}",
        trade: true,
        why: "DEL (not a control character to JSON) and what a lossy read leaves of bad UTF-8",
    },
    Regression {
        input: "{\"header\":{\"tr_cd\":\"S3_\"},\"body\":{\"chetime\":\"090851\",\"sign\":\"2\",\"price\":\"55550\u{FFFD}\",\"cvolume\":\"1\",\"volume\":\"10887\",\"shcode\":\"005930\"}}",
        trade: true,
        why: "bad UTF-8 (read lossily) in the price: a trade both read alike, its price refused when the tick is built",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","opentime":1e400,"drate":-1e400,"cvolume":"1","volume":"10887","shcode":"005930"}}"#,
        trade: true,
        why: "numbers no f64 holds in skipped fields",
    },
    Regression {
        input: r#"{"header":{"tr_cd":"S3_"},"body":{"chetime":"090851","sign":"2","price":"55550","opentime":1e400,"cvolume":1e400,"volume":"10887","shcode":"005930"}}"#,
        trade: false,
        why: "a number no f64 holds where the tick needs text",
    },
];

fn touch_trade(b: &TradeBody) {
    let _ = (
        b.ticker(),
        b.price(),
        b.cvolume(),
        b.volume(),
        b.time(),
        b.sign(),
    );
    let _ = (b.signed_change(), b.drate_bp(), b.open(), b.high(), b.low());
    let _ = (b.ask(), b.bid(), b.value(), b.aggressor());
}

fn touch_alert(b: &ConditionAlertBody) {
    let _ = (b.ticker(), b.job(), b.name(), b.price(), b.sign());
    let _ = (b.signed_change(), b.chg_rate_bp(), b.volume());
}

fn touch_accepted(b: &OrderAcceptedBody) {
    let _ = (
        b.kind(),
        b.order_no(),
        b.org_order_no(),
        b.ticker(),
        b.side(),
    );
    let _ = (b.qty(), b.price(), b.time());
}

fn touch_event(b: &OrderEventBody) {
    let _ = (
        b.kind(),
        b.order_no(),
        b.org_order_no(),
        b.ticker(),
        b.side(),
    );
    let _ = (
        b.exec_qty(),
        b.exec_price(),
        b.unfilled_qty(),
        b.order_qty(),
    );
    let _ = (
        b.order_price(),
        b.avg_exec_price(),
        b.exec_no(),
        b.modified_qty(),
    );
    let _ = (b.modified_price(), b.cancelled_qty(), b.rejected_qty());
    let _ = (b.exec_time(), b.exec_time_ms());
}

fn client_frame_target() -> Target {
    let required = &["header", "body", "token", "tr_type", "tr_cd"];
    let mut samples = vec![
        sample(REG_FRAME, true, required),
        sample(REG_FRAME_SPACED, false, required),
        // An account feed's frame may leave tr_key out.
        sample(
            r#"{"header":{"token":"T","tr_type":"1"},"body":{"tr_cd":"SC1"}}"#,
            false,
            required,
        ),
    ];
    for reg in [
        Registration::register("T", "SC1", ""),
        Registration::unregister("TOKEN", "AFR", "1722490200A"),
        Registration::unregister("TOKEN", "K3_", "091990"),
    ] {
        samples.push(sample(reg.encode(), true, required));
    }
    Target {
        name: "client_frame".into(),
        json: true,
        samples,
        check: check_client_frame,
    }
}

fn check_client_frame(text: &str) -> Result<(), WireError> {
    let reg = decode_client_frame(text)?;
    let _ = (
        reg.tr_type.is_register(),
        TrType::register_for(&reg.tr_cd),
        is_account_feed(&reg.tr_cd),
        trade_market(&reg.tr_cd),
    );
    let encoded = reg.encode();
    match decode_client_frame(&encoded) {
        Ok(again) if again == reg => Ok(()),
        other => panic!("registration does not survive encode/decode: {reg:?}\nencoded {encoded}\ncame back as {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// OAuth2

fn token_reply_target() -> Target {
    let granted = &["access_token", "expires_in"];
    let mut samples = vec![
        sample(TOKEN_REPLY, true, granted),
        sample(TOKEN_403, true, &[]),
        // The doc table's spelling, with the number as text.
        sample(
            r#"{"access_token":"x","expire_in":"86400"}"#,
            false,
            &["access_token"],
        ),
    ];
    let canonical = token_reply_json(
        &decode_token_reply(r#"{"access_token":"a.b.c","expires_in":3600,"extra":[1]}"#)
            .expect("token reply sample"),
    );
    samples.push(sample(canonical, true, granted));
    Target {
        name: "token_reply".into(),
        json: true,
        samples,
        check: check_token_reply,
    }
}

fn token_reply_json(reply: &TokenReply) -> String {
    match reply {
        TokenReply::Granted(t) => serde_json::to_string(t),
        TokenReply::Refused(e) => serde_json::to_string(e),
    }
    .expect("token types serialize")
}

fn check_token_reply(text: &str) -> Result<(), WireError> {
    let reply = decode_token_reply(text)?;
    if let TokenReply::Granted(t) = &reply {
        let _ = t.authorization();
    }
    let encoded = token_reply_json(&reply);
    match decode_token_reply(&encoded) {
        Ok(again) if again == reply => Ok(()),
        other => panic!("token reply does not survive encode/decode: {reply:?}\nencoded {encoded}\ncame back as {other:?}"),
    }
}

fn form_target() -> Target {
    let samples = vec![
        sample(
            TokenRequest::new("PSaBcDeFgHiJkLmNoPqRsTuVwXyZ0123", "s3cr3t+/=").to_form(),
            false,
            &[],
        ),
        sample(
            TokenRequest::new("k e+y", "s/e=c%r&t한").to_form(),
            false,
            &[],
        ),
        sample(
            RevokeRequest::access_token("KEY", "SECRET", "eyJ0.eyJz.c2ln+/=").to_form(),
            false,
            &[],
        ),
        sample(
            "scope=oob&extra=1&appsecretkey=SECRET&appkey=KEY&grant_type=client_credentials",
            false,
            &[],
        ),
    ];
    Target {
        name: "form".into(),
        json: false,
        samples,
        check: check_form,
    }
}

fn check_form(text: &str) -> Result<(), WireError> {
    let pairs = decode_form("form", text)?;
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (&k[..], &v[..])).collect();
    let encoded = encode_form(&refs);
    match decode_form("form", &encoded) {
        Ok(again) if again == pairs => {}
        other => panic!("form does not survive encode/decode: {pairs:?}\nencoded {encoded}\ncame back as {other:?}"),
    }
    if let Ok(t) = TokenRequest::from_form(text) {
        assert_eq!(TokenRequest::from_form(&t.to_form()), Ok(t));
    }
    if let Ok(r) = RevokeRequest::from_form(text) {
        assert_eq!(RevokeRequest::from_form(&r.to_form()), Ok(r));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Numbers and times

fn num_target() -> Target {
    // Each parses as a fixed decimal of scale 2, the target's verdict.
    let samples = [
        "55550",
        "035000",
        ".00",
        "-0.37",
        "1.93",
        "35000.00",
        " 42 ",
        "+7",
        "0.000000",
        "92233720368547758.07",
        "-92233720368547758.07",
    ]
    .into_iter()
    .map(|s| sample(s, false, &[]))
    .collect();
    Target {
        name: "num".into(),
        json: false,
        samples,
        check: check_num,
    }
}

/// Every parser of `num.rs` on the text, checked against each other; the verdict is
/// `field_fixed` at scale 2 (rates in basis points).
fn check_num(text: &str) -> Result<(), WireError> {
    let int = parse_int(text);
    let uint = parse_uint(text);
    if let Ok(n) = int {
        assert_eq!(parse_fixed(text, 0), Ok(n), "parse_int and scale 0 agree");
        assert_eq!(parse_int(&n.to_string()), Ok(n));
        if let Ok(u) = u64::try_from(n) {
            assert_eq!(uint, Ok(u), "parse_int and parse_uint agree");
        }
    }
    if let Ok(u) = uint {
        if let Ok(n) = i64::try_from(u) {
            assert_eq!(int, Ok(n), "parse_uint and parse_int agree");
        }
    }
    for scale in [0, 1, 2, 3, 6, 7, 18, 19, 20, 40, u32::MAX] {
        let Ok(v) = parse_fixed(text, scale) else {
            continue;
        };
        // format_fixed pads to `scale` digits: only sane scales are written back.
        if scale <= 40 {
            assert_eq!(
                parse_fixed(&format_fixed(v, scale), scale),
                Ok(v),
                "{v} at scale {scale}"
            );
        }
    }
    let _ = (
        field_i64("num", "value", text),
        field_u64("num", "value", text),
    );
    field_fixed("num", "value", text, 2).map(|_| ())
}

fn time_target() -> Target {
    let samples = ["095636020", "95636020", "095636", "235959999", "000000"]
        .into_iter()
        .map(|s| sample(s, false, &[]))
        .collect();
    Target {
        name: "time".into(),
        json: false,
        samples,
        check: check_time,
    }
}

/// `parse_time_ms` through an accessor that names the field.
fn check_time(text: &str) -> Result<(), WireError> {
    let body = OrderEventBody {
        exectime: text.to_owned(),
        ..OrderEventBody::default()
    };
    let ms = body.exec_time_ms()?;
    assert!(ms < 86_400_000, "{ms} ms is past midnight");
    body.exec_time().map(|_| ())
}

// ---------------------------------------------------------------------------------------
// REST

/// Calls every accessor of a decoded block, for the panics it might hide.
pub trait Touch {
    fn touch(&self);
}

macro_rules! touch_nothing {
    ($($t:ty),*) => { $(impl Touch for $t { fn touch(&self) {} })* };
}

// Blocks with no accessors: decoding them is the whole test.
touch_nothing!(
    Cspaq12200InBlock1,
    Cspaq12200Out,
    T0424InBlock,
    T0425InBlock,
    Foccq33600InBlock1,
    Foccq33600Out,
    T8436InBlock,
    T1866InBlock,
    T1866Out,
    T1859InBlock
);

impl Touch for Cspat00601InBlock1 {
    fn touch(&self) {
        let _ = (self.ticker(), self.side(), self.qty(), self.price());
        let _ = (self.price_type(), self.condition());
    }
}

impl Touch for Cspat00701InBlock1 {
    fn touch(&self) {
        let _ = (self.ticker(), self.qty(), self.price());
        let _ = (self.price_type(), self.condition());
    }
}

impl Touch for Cspat00801InBlock1 {
    fn touch(&self) {
        let _ = (self.ticker(), self.qty());
    }
}

impl Touch for Cspat00601Out {
    fn touch(&self) {
        let _ = (self.ord_no(), self.out_block1.as_ref().map(|b| b.price()));
    }
}

impl Touch for Cspat00701Out {
    fn touch(&self) {
        let _ = (self.ord_no(), self.out_block1.as_ref().map(|b| b.price()));
    }
}

impl Touch for Cspat00801Out {
    fn touch(&self) {
        let _ = self.ord_no();
    }
}

impl Touch for T0424Out {
    fn touch(&self) {
        for row in &self.out_block1 {
            let _ = (row.ticker(), row.qty(), row.avg_price());
        }
    }
}

impl Touch for T0425Out {
    fn touch(&self) {
        for row in &self.out_block1 {
            let _ = (row.ticker(), row.side(), row.status(), row.qty());
            let _ = (row.filled_qty(), row.remaining_qty());
        }
    }
}

impl Touch for T1102InBlock {
    fn touch(&self) {
        let _ = self.ticker();
    }
}

impl Touch for T1102Out {
    fn touch(&self) {
        if let Some(q) = &self.out_block {
            let _ = (q.ticker(), q.price(), q.sign(), q.signed_change());
            let _ = (q.diff_bp(), q.volume(), q.limits(), q.market());
        }
    }
}

impl Touch for T8436Out {
    fn touch(&self) {
        for row in &self.out_block {
            let _ = (row.ticker(), row.market(), row.limits());
        }
    }
}

impl Touch for T1860InBlock {
    fn touch(&self) {
        let _ = self.flag();
    }
}

impl Touch for T1860Out {
    fn touch(&self) {
        if let Some(b) = &self.out_block {
            let _ = (b.is_ok(), b.alert_num());
        }
    }
}

impl Touch for T1859Out {
    fn touch(&self) {
        for row in &self.out_block1 {
            let _ = (row.ticker(), row.price(), row.sign(), row.diff_bp());
            let _ = row.volume();
        }
    }
}

/// `rest_request_<tr>` and `rest_reply_<tr>`. Request samples: `inputs` as clients encode
/// them plus `lenient` literal bodies; reply samples: each literal, its re-encoding, a
/// gateway error and an empty answer.
fn rest_targets<T: Tr>(
    inputs: Vec<T::In>,
    lenient: &[&str],
    required_in: &[&'static str],
    replies: &[&str],
) -> [Target; 2]
where
    T::In: Touch + PartialEq + Debug,
    T::Out: Touch + PartialEq + Debug,
{
    let required: Vec<&'static str> = [&[T::IN_BLOCK][..], required_in].concat();
    let mut requests: Vec<Sample> = inputs
        .iter()
        .map(|i| sample(encode_request::<T>(i), true, &required))
        .collect();
    requests.extend(lenient.iter().map(|t| sample(*t, false, &required)));

    let mut reply_samples = Vec::new();
    for text in replies {
        let reply = decode_reply::<T>(text)
            .unwrap_or_else(|e| panic!("{} reply sample: {e}\n{text}", T::TR_CD));
        reply_samples.push(sample(reply.to_json(), true, &["rsp_cd"]));
        reply_samples.push(sample(*text, false, &["rsp_cd"]));
    }
    reply_samples.push(sample(GATEWAY_REPLY, true, &["rsp_cd"]));
    reply_samples.push(sample(NO_DATA_REPLY, true, &["rsp_cd"]));

    let tr = T::TR_CD.to_ascii_lowercase();
    [
        Target {
            name: format!("rest_request_{tr}"),
            json: true,
            samples: requests,
            check: check_request::<T>,
        },
        Target {
            name: format!("rest_reply_{tr}"),
            json: true,
            samples: reply_samples,
            check: check_reply::<T>,
        },
    ]
}

fn check_request<T: Tr>(text: &str) -> Result<(), WireError>
where
    T::In: Touch + PartialEq + Debug,
{
    let input = decode_request::<T>(text)?;
    input.touch();
    let encoded = encode_request::<T>(&input);
    match decode_request::<T>(&encoded) {
        Ok(again) if again == input => Ok(()),
        other => panic!(
            "{} request does not survive encode/decode: {input:?}\nencoded {encoded}\ncame back as {other:?}",
            T::TR_CD
        ),
    }
}

fn check_reply<T: Tr>(text: &str) -> Result<(), WireError>
where
    T::Out: Touch + PartialEq + Debug,
{
    let reply = decode_reply::<T>(text)?;
    reply.blocks.touch();
    let _ = (
        T::succeeded(&reply),
        reply.gateway_error(),
        reply.is_rate_limited(),
        reply.is_no_data(),
    );
    let encoded = reply.to_json();
    match decode_reply::<T>(&encoded) {
        Ok(again) if again == reply => Ok(()),
        other => panic!(
            "{} reply does not survive encode/decode: {reply:?}\nencoded {encoded}\ncame back as {other:?}",
            T::TR_CD
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Mutations

/// Raw fragments inserted by [`Mutation::Insert`]: edge values LS fields meet, JSON
/// punctuation, and byte runs that are not UTF-8 (a cut multibyte character, a UTF-8
/// encoded surrogate, a stray continuation byte).
pub const TOKENS: &[&[u8]] = &[
    b"-",
    b"",
    b"9999999999999999999",
    b"-9223372036854775808",
    b"18446744073709551616",
    b"\0",
    "\u{0}".as_bytes(),
    "한".as_bytes(),
    "\u{FFFD}".as_bytes(),
    "１２".as_bytes(),
    b"\xED\xA0\x80",
    b"\xC3",
    b"\x80",
    b"\xFF",
    b"\"",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"null",
    b"1e400",
    b".",
    b" ",
    b"%",
    b"%+1",
    b"&",
    b"=",
];

/// JSON values that [`Mutation::ReplaceValue`] puts in a field: wrong types, numbers out
/// of range, empty and odd text, codes of other frames, nested containers.
pub const VALUES: &[&str] = &[
    r#""""#,
    r#""-""#,
    r#"" ""#,
    r#""9999999999999999999""#,
    "9999999999999999999",
    "-9223372036854775808",
    r#""-9223372036854775808""#,
    "18446744073709551616",
    "-1",
    r#""-1""#,
    "-0",
    "0.5",
    "60000.0",
    "1e400",
    "1e5",
    "null",
    "true",
    "{}",
    "[]",
    r#"{"nested":[1,{"a":null}]}"#,
    r#"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"#,
    r#""\u0000""#,
    r#""\ud800""#,
    r#""한글""#,
    r#""１２３""#,
    r#""A""#,
    r#""+""#,
    r#"".""#,
    r#""1.005""#,
    r#""0x10""#,
    r#""A005930""#,
    r#""005930""#,
    r#""J12345""#,
    r#""S3_""#,
    r#""K3_""#,
    r#""AFR""#,
    r#""SC0""#,
    r#""SC1""#,
    r#""SC4""#,
    r#""H1_""#,
    r#""00000""#,
    r#""IGW00201""#,
    r#""9""#,
    r#""5""#,
    r#""240000""#,
    r#""235959999""#,
    r#""95636020""#,
];

/// One edit of an input. Positions and indexes wrap around whatever they index, so any
/// value is meaningful on any input.
#[derive(Clone, Debug)]
pub enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    SetByte {
        at: usize,
        byte: u8,
    },
    /// Inserts a [`TOKENS`] entry.
    Insert {
        at: usize,
        token: usize,
    },
    /// Deletes 1..=16 bytes.
    Delete {
        at: usize,
        len: usize,
    },
    Truncate {
        at: usize,
    },
    /// Repeats 1..=32 bytes in place.
    Duplicate {
        at: usize,
        len: usize,
    },
    /// The input up to `at`, then another sample of the target from `from`.
    Splice {
        donor: usize,
        at: usize,
        from: usize,
    },
    /// Replaces a member's value with a [`VALUES`] entry.
    ReplaceValue {
        member: usize,
        value: usize,
    },
    RemoveMember {
        member: usize,
    },
    /// Repeats a member right after itself, with its own value or a [`VALUES`] entry.
    DuplicateMember {
        member: usize,
        value: Option<usize>,
    },
    /// Changes a key's spelling (case of its first letter, or a suffix).
    RenameKey {
        member: usize,
    },
    /// Inserts an unknown member holding `depth` nested arrays before a member.
    Nest {
        member: usize,
        depth: usize,
    },
}

// ---------------------------------------------------------------------------------------
// Inputs by seed

/// The generator of `target`'s inputs under `seed`. Each target has its own stream, so
/// `--target X` replays what `--target all` fed X, and the harness and the tests make
/// the same inputs from the same seed: a seed either prints can be replayed by the other.
pub fn input_rng(seed: u64, target: &Target) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed ^ fnv1a(target.name.as_bytes()))
}

/// A stable hash of the target's name.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// One input: mostly 1–4 mutations of a sample, sometimes random bytes or random text
/// over JSON's and forms' alphabet (which gets further into a parser than noise does).
pub fn generate(rng: &mut fastrand::Rng, target: &Target) -> Vec<u8> {
    match rng.u8(0..16) {
        0 => (0..rng.usize(0..=256)).map(|_| rng.u8(..)).collect(),
        1 => {
            const ALPHABET: &[u8] = b"{}[]:,\"\\ 0123456789-+.eEtrufalsn_SCK3AFR%&=";
            (0..rng.usize(0..=128))
                .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
                .collect()
        }
        _ => {
            let sample = &target.samples[rng.usize(..target.samples.len())];
            let mut bytes = sample.text.as_bytes().to_vec();
            // 1 edit half the time, 2 a quarter, 3–4 the rest: each more edit breaks
            // more inputs before they reach the deeper checks.
            let edits = 1 + (rng.u32(..).trailing_ones() as usize).min(3);
            for _ in 0..edits {
                bytes = random_mutation(rng).apply(&bytes, &target.samples);
            }
            bytes
        }
    }
}

fn random_mutation(rng: &mut fastrand::Rng) -> Mutation {
    let at = rng.usize(..);
    let member = rng.usize(..);
    match rng.u8(0..12) {
        0 => Mutation::FlipBit {
            at,
            bit: rng.u8(..),
        },
        1 => Mutation::SetByte {
            at,
            byte: rng.u8(..),
        },
        2 => Mutation::Insert {
            at,
            token: rng.usize(..TOKENS.len()),
        },
        3 => Mutation::Delete {
            at,
            len: rng.usize(..),
        },
        4 => Mutation::Truncate { at },
        5 => Mutation::Duplicate {
            at,
            len: rng.usize(..),
        },
        6 => Mutation::Splice {
            donor: rng.usize(..),
            at,
            from: rng.usize(..),
        },
        7 | 8 => Mutation::ReplaceValue {
            member,
            value: rng.usize(..VALUES.len()),
        },
        9 => Mutation::RemoveMember { member },
        10 => match rng.u8(0..3) {
            0 => Mutation::RenameKey { member },
            1 => Mutation::Nest {
                member,
                depth: rng.usize(..),
            },
            _ => Mutation::DuplicateMember {
                member,
                value: rng.bool().then(|| rng.usize(..VALUES.len())),
            },
        },
        _ => Mutation::DuplicateMember {
            member,
            value: None,
        },
    }
}

/// A `"key": value` pair found in JSON text (byte ranges; the key with its quotes).
#[derive(Clone, Debug)]
pub struct Member {
    pub key: Range<usize>,
    pub value: Range<usize>,
    /// The value is not an object or an array.
    pub scalar: bool,
}

impl Member {
    /// The key without its quotes, as written (escapes left as they are).
    pub fn name<'a>(&self, text: &'a str) -> &'a str {
        &text[self.key.start + 1..self.key.end - 1]
    }
}

/// The members of a JSON document, innermost first; `None` if it is not JSON this
/// scanner follows. A lexer, not a validator: it only needs to find members in samples.
pub fn members(text: &[u8]) -> Option<Vec<Member>> {
    let mut s = Scan {
        b: text,
        i: 0,
        out: Vec::new(),
    };
    s.ws();
    s.value(0)?;
    s.ws();
    (s.i == text.len()).then_some(s.out)
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    out: Vec<Member>,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > 64 {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string(),
            _ => {
                let start = self.i;
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }

    fn string(&mut self) -> Option<()> {
        self.eat(b'"')?;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => {
                    self.i += 1;
                    return Some(());
                }
                _ => self.i += 1,
            }
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.eat(b'{')?;
        self.ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            let key_start = self.i;
            self.string()?;
            let key = key_start..self.i;
            self.ws();
            self.eat(b':')?;
            self.ws();
            let value_start = self.i;
            let scalar = !matches!(self.peek()?, b'{' | b'[');
            self.value(depth + 1)?;
            self.out.push(Member {
                key,
                value: value_start..self.i,
                scalar,
            });
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        self.eat(b'[')?;
        self.ws();
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.ws();
            self.value(depth + 1)?;
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }
}

fn splice(text: &[u8], range: Range<usize>, with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + with.len());
    out.extend_from_slice(&text[..range.start]);
    out.extend_from_slice(with);
    out.extend_from_slice(&text[range.end..]);
    out
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Mutation {
    /// The edited input. `donors` are the target's samples (for [`Mutation::Splice`]).
    pub fn apply(&self, text: &[u8], donors: &[Sample]) -> Vec<u8> {
        let n = text.len();
        match *self {
            Mutation::FlipBit { at, bit } if n > 0 => {
                let mut out = text.to_vec();
                out[at % n] ^= 1 << (bit % 8);
                out
            }
            Mutation::SetByte { at, byte } if n > 0 => {
                let mut out = text.to_vec();
                out[at % n] = byte;
                out
            }
            Mutation::FlipBit { .. } | Mutation::SetByte { .. } => text.to_vec(),
            Mutation::Insert { at, token } => {
                let at = at % (n + 1);
                splice(text, at..at, TOKENS[token % TOKENS.len()])
            }
            Mutation::Delete { at, len } => {
                let start = at % (n + 1);
                let end = (start + len % 16 + 1).min(n);
                splice(text, start..end, b"")
            }
            Mutation::Truncate { at } => text[..at % (n + 1)].to_vec(),
            Mutation::Duplicate { at, len } => {
                let start = at % (n + 1);
                let end = (start + len % 32 + 1).min(n);
                splice(text, end..end, &text[start..end])
            }
            Mutation::Splice { donor, at, from } => {
                let donor = match donors {
                    [] => &[][..],
                    _ => donors[donor % donors.len()].text.as_bytes(),
                };
                let mut out = text[..at % (n + 1)].to_vec();
                out.extend_from_slice(&donor[from % (donor.len() + 1)..]);
                out
            }
            Mutation::ReplaceValue { member, value } => {
                let with = VALUES[value % VALUES.len()].as_bytes();
                match pick(text, member) {
                    Some(m) => splice(text, m.value, with),
                    None => splice(text, member % (n + 1)..member % (n + 1), with),
                }
            }
            Mutation::RemoveMember { member } => match pick(text, member) {
                Some(m) => remove_member(text, &m),
                None => text.to_vec(),
            },
            Mutation::DuplicateMember { member, value } => match pick(text, member) {
                Some(m) => {
                    let mut copy = b",".to_vec();
                    copy.extend_from_slice(&text[m.key.clone()]);
                    copy.push(b':');
                    match value {
                        Some(v) => copy.extend_from_slice(VALUES[v % VALUES.len()].as_bytes()),
                        None => copy.extend_from_slice(&text[m.value.clone()]),
                    }
                    splice(text, m.value.end..m.value.end, &copy)
                }
                None => text.to_vec(),
            },
            Mutation::RenameKey { member } => match pick(text, member) {
                Some(m) => {
                    let first = m.key.start + 1;
                    match text.get(first) {
                        Some(c) if c.is_ascii_alphabetic() => {
                            let mut out = text.to_vec();
                            out[first] ^= 0x20;
                            out
                        }
                        _ => splice(text, m.key.end - 1..m.key.end - 1, b"_x"),
                    }
                }
                None => text.to_vec(),
            },
            Mutation::Nest { member, depth } => {
                let depth = depth % 400 + 1;
                let mut nested = b"\"deep\":".to_vec();
                nested.resize(nested.len() + depth, b'[');
                nested.resize(nested.len() + depth, b']');
                nested.push(b',');
                match pick(text, member) {
                    Some(m) => splice(text, m.key.start..m.key.start, &nested),
                    None => text.to_vec(),
                }
            }
        }
    }
}

/// The `index`-th member (wrapping), if the text has any.
fn pick(text: &[u8], index: usize) -> Option<Member> {
    let all = members(text)?;
    (!all.is_empty()).then(|| all[index % all.len()].clone())
}

/// The text without `m` and one comma next to it.
pub fn remove_member(text: &[u8], m: &Member) -> Vec<u8> {
    let mut start = m.key.start;
    let mut end = m.value.end;
    let mut after = end;
    while after < text.len() && is_ws(text[after]) {
        after += 1;
    }
    if text.get(after) == Some(&b',') {
        end = after + 1;
    } else {
        let mut before = start;
        while before > 0 && is_ws(text[before - 1]) {
            before -= 1;
        }
        if before > 0 && text[before - 1] == b',' {
            start = before - 1;
        }
    }
    splice(text, start..end, b"")
}

/// What the decoders receive for bytes that are not UTF-8: `from_utf8_lossy`, as
/// reqwest's `text()` gives the REST client (the websocket and the simulator's REST
/// server refuse such bytes before any decoder).
pub fn as_text(bytes: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}

/// Writes bytes as a Rust byte-string literal body, for pasting into a regression test.
pub fn escaped(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Samples. Literal ones are the reference's (and the unit tests') real or doc-style
// bodies; the targets add their re-encodings, which carry every field of each type.

pub const GATEWAY_REPLY: &str =
    r#"{"rsp_cd":"IGW00201","rsp_msg":"호출 거래건수를 초과하였습니다."}"#;
pub const NO_DATA_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"해당자료가 없습니다."}"#;
pub const REG_FRAME: &str =
    r#"{"header":{"token":"TOKEN","tr_type":"3"},"body":{"tr_cd":"S3_","tr_key":"005930"}}"#;
pub const REG_FRAME_SPACED: &str = r#"{"body": {"tr_key": "005930", "tr_cd": "S3_", "x": 1}, "header": {"tr_type": "3", "token": "TOKEN", "content-type": "utf-8"}}"#;
pub const TOKEN_403: &str =
    r#"{"error_code":"IGW00103","error_description":"유효하지 않은 AppKey입니다."}"#;
pub const CSPAT00601_LENIENT_REQUEST: &str = r#"{"CSPAT00601InBlock1":{"IsuNo":"A005930","OrdQty":"005","OrdPrc":"60000.00","BnsTpCode":"2","OrdprcPtnCode":"00","MgntrnCode":"000","LoanDt":"","OrdCndiTpCode":"0"}}"#;
pub const CSPAT00701_LENIENT_REQUEST: &str = r#"{"CSPAT00701InBlock1":{"OrdPrc":"61000","OrdCndiTpCode":"0","OrdprcPtnCode":"00","OrdQty":"1","IsuNo":"A005930","OrgOrdNo":"32004"}}"#;
pub const CSPAT00801_LENIENT_REQUEST: &str =
    r#"{"CSPAT00801InBlock1":{"OrgOrdNo":32004.0,"IsuNo":"005930","OrdQty":1}}"#;
pub const CSPAQ12200_REPLY: &str = r#"{"rsp_cd":"00136","rsp_msg":"모의투자 조회가 완료되었습니다.","CSPAQ12200OutBlock1":{"RecCnt":1,"MgmtBrnNo":"","AcntNo":"20011132702","Pwd":"********","BalCreTp":"0"},"CSPAQ12200OutBlock2":{"RecCnt":1,"BrnNm":"","AcntNm":"우우돌","MnyOrdAbleAmt":79459964,"MnyoutAbleAmt":79459964,"Dps":79759964,"D1Dps":79759964,"D2Dps":79639964,"PnlRat":"0.000000","ChgAfPldgRat":"0.000","BalEvalAmt":120000,"DpsastTotamt":"79879964"}}"#;
pub const T0424_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"조회가 완료되었습니다.","t0424OutBlock":{"sunamt":79879964,"dtsunik":0,"mamt":120000,"sunamt1":79759964,"cts_expcode":"","tappamt":120000,"tdtsunik":0},"t0424OutBlock1":[{"expcode":"005930","jangb":"","janqty":2,"mdposqt":2,"pamt":60000,"mamt":120000,"sinamt":0,"lastdt":"","msat":2,"mpms":60000,"mdat":0,"mpmd":0,"jsat":0,"jpms":0,"jdat":0,"jpmd":0,"sysprocseq":0,"loandt":"","hname":"삼성전자","marketgb":"","jonggb":"3","janrt":"100.00","price":60000,"appamt":120000,"dtsunik":0,"sunikrt":"0.00","fee":0,"tax":0,"sininter":0}]}"#;
pub const T0425_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"조회가 완료되었습니다.","t0425OutBlock":{"tqty":2,"tcheqty":1,"tordrem":1,"cmss":0,"tamt":60000,"tmdamt":0,"tmsamt":60000,"tax":0,"cts_ordno":""},"t0425OutBlock1":[{"ordno":86382,"expcode":"005930","medosu":"매수","qty":2,"price":60000,"cheqty":1,"cheprice":60000,"ordrem":1,"cfmqty":0,"status":"접수","orgordno":0,"ordgb":"보통","ordtime":"09563602","ordermtd":"씽(Xing)-F","sysprocseq":0,"hogagb":"00","price1":60100,"orggb":"","singb":"","loandt":"","exchname":"KRX"}]}"#;
pub const FOCCQ33600_REPLY: &str = r#"{"rsp_cd":"00133","rsp_msg":"모의투자 조회가 계속 됩니다.","FOCCQ33600OutBlock1":{"RecCnt":1,"AcntNo":"20011132702","Pwd":"********","QrySrtDt":"20250101","QryEndDt":"20250131","TermTp":"1"},"FOCCQ33600OutBlock2":{"RecCnt":1,"AcntNm":"우우돌","BnsctrAmt":0,"MnyinAmt":0,"MnyoutAmt":0,"InvstAvrbalPramt":0,"InvstPlAmt":0,"InvstErnrat":"0.00"},"FOCCQ33600OutBlock3":[{"BaseDt":"20250102","FdEvalAmt":80000000,"EotEvalAmt":80000000,"InvstAvrbalPramt":0,"BnsctrAmt":0,"MnyinSecinAmt":0,"MnyoutSecoutAmt":0,"EvalPnlAmt":0,"TermErnrat":"0.000","Idx":"2500.12"}]}"#;
pub const T1102_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"정상적으로 조회가 완료되었습니다.","t1102OutBlock":{"hname":"테스트종목","price":4535,"sign":"2","change":10,"diff":"000.22","volume":120345,"recprice":4525,"avg":4530,"uplmtprice":5880,"dnlmtprice":3170,"jnilvolume":98000,"volumediff":22345,"open":4525,"opentime":"090030","high":4560,"hightime":"091500","low":4500,"lowtime":"090210","high52w":6200,"high52wdate":"20250312","low52w":3800,"low52wdate":"20241105","exhratio":"1.25","per":"011.14","pbrx":"0.85","listing":25000,"jkrate":"40","memedan":"00001","vol":"0.48","shcode":"078150","value":545,"jvolume":87000,"highyear":6200,"highyeardate":"20250312","lowyear":3900,"lowyeardate":"20250102","parprice":500,"total":1133,"listdate":"20100215","janginfo":"KOSDAQ","tonghwa":"KRW","svi_uplmtprice":4980,"svi_dnlmtprice":4080,"ex_shcode":"078150","offerno1":"키움증권","dvol1":1200,"ddiff1":"12.50","fwdvl":300,"bfsales":12345,"salert":"3.21","info1":"","nxt_janginfo":"","t_per":"9.80","subprice":3600,"brand_new_field":{"x":1}}}"#;
pub const T8436_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"조회완료","t8436OutBlock":[{"hname":"삼성전자","shcode":"005930","expcode":"KR7005930003","etfgubun":"0","uplmtprice":72100,"dnlmtprice":38850,"jnilclose":55500,"memedan":"00001","recprice":55500,"gubun":"1","bu12gubun":"01","spac_gubun":"N","filler":""},{"hname":"HB테크놀러지","shcode":"078150","expcode":"KR7078150004","etfgubun":"0","uplmtprice":5880,"dnlmtprice":3170,"jnilclose":4525,"memedan":"00001","recprice":4525,"gubun":2,"bu12gubun":"01","spac_gubun":"N","filler":""}]}"#;
pub const CSPAT00601_REPLY: &str = r#"{"rsp_cd":"00040","rsp_msg":"매수 주문이 완료되었습니다.","CSPAT00601OutBlock1":{"RecCnt":1,"AcntNo":"20011132702","InptPwd":"********","IsuNo":"A272210","OrdQty":1,"OrdPrc":"35000.00","BnsTpCode":"2","OrdprcPtnCode":"00","PrgmOrdprcPtnCode":"00","StslAbleYn":"0","StslOrdprcTpCode":"0","CommdaCode":"40","MgntrnCode":"000","LoanDt":"","MbrNo":"KRX","OrdCndiTpCode":"0","StrtgCode":" ","GrpId":"","OrdSeqNo":0,"PtflNo":0,"BskNo":0,"TrchNo":0,"ItemNo":0,"OpDrtnNo":"0","LpYn":"0","CvrgTpCode":"0"},"CSPAT00601OutBlock2":{"RecCnt":1,"OrdNo":32004,"OrdTime":"153257702","OrdMktCode":"10","OrdPtnCode":"02","ShtnIsuNo":"A272210","MgempNo":"","OrdAmt":35000,"SpareOrdNo":0,"CvrgSeqno":0,"RsvOrdNo":0,"SpotOrdQty":1,"RuseOrdQty":0,"MnyOrdAmt":35000,"SubstOrdAmt":0,"RuseOrdAmt":0,"AcntNm":"우우돌","IsuNm":"한화시스템"}}"#;
pub const CSPAT00701_REPLY: &str = r#"{"rsp_cd":"03181","rsp_msg":"주문가격이 하한가 미달입니다.","CSPAT00701OutBlock2":{"RecCnt":0,"OrdNo":0,"PrntOrdNo":0,"OrdTime":"","OrdMktCode":"","OrdPtnCode":"","ShtnIsuNo":"","PrgmOrdprcPtnCode":"","StslOrdprcTpCode":"","StslAbleYn":"","MgntrnCode":"","LoanDt":"","CvrgOrdTp":"","LpYn":"","MgempNo":"","OrdAmt":0,"BnsTpCode":"","SpareOrdNo":0,"CvrgSeqno":0,"RsvOrdNo":0,"MnyOrdAmt":0,"SubstOrdAmt":0,"RuseOrdAmt":0,"AcntNm":"","IsuNm":""},"CSPAT00701OutBlock1":{"RecCnt":1,"OrgOrdNo":32004,"AcntNo":"20011132702","InptPwd":"********","IsuNo":"A272210","OrdQty":1,"OrdprcPtnCode":"00","OrdCndiTpCode":"0","OrdPrc":"100.00","CommdaCode":"40","StrtgCode":"","GrpId":"","OrdSeqNo":0,"PtflNo":0,"BskNo":0,"TrchNo":0,"ItemNo":0}}"#;
pub const CSPAT00801_REPLY: &str = r#"{"rsp_cd":"00156","rsp_msg":"취소주문이 완료되었습니다.","CSPAT00801OutBlock1":{"RecCnt":1,"OrgOrdNo":32004,"AcntNo":"20011132702","InptPwd":"********","IsuNo":"A272210","OrdQty":1,"CommdaCode":"40","GrpId":"","StrtgCode":"","OrdSeqNo":0,"PtflNo":0,"BskNo":0,"TrchNo":0,"ItemNo":0},"CSPAT00801OutBlock2":{"RecCnt":1,"OrdNo":32005,"PrntOrdNo":32004,"OrdTime":"153300120","OrdMktCode":"10","OrdPtnCode":"02","ShtnIsuNo":"A272210","PrgmOrdprcPtnCode":"00","StslOrdprcTpCode":"0","StslAbleYn":"0","MgntrnCode":"000","LoanDt":"00000000","CvrgOrdTp":"0","LpYn":"0","MgempNo":"","BnsTpCode":"2","SpareOrdNo":0,"CvrgSeqno":0,"RsvOrdNo":0,"AcntNm":"우우돌","IsuNm":"한화시스템"}}"#;
pub const S3_FRAME: &str = r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{"mdchecnt":"23","sign":"2","mschecnt":"96","mdvolume":"946","w_avrg":"55448","cpower":"332.56","offerho":"55600","cvolume":"1","high":"55800","bidho":"55500","low":"55500","price":"55550","cgubun":"+","value":"604","change":"1050","shcode":"005930","chetime":"090851","opentime":"090030","lowtime":"090030","volume":"10887","drate":"1.93","hightime":"090504","jnilvolume":"2508350","msvolume":"3146","exchname":"KRX","open":"55600","status":"00"}}"#;
pub const AFR_FRAME: &str = r#"{"header":{"tr_cd":"AFR","tr_key":"1722490200A"},"body":{"gsJobFlag":"O","gsVolume":"3432360","gsPrice":"2435","gsSign":"2","gshname":"HB테크놀러지","gsChange":"45","gsChgRate":"1.88","gsCode":"078150"}}"#;
pub const SC0_FRAME: &str = r#"{"header":{"tr_cd":"SC0"},"body":{"trcode":"SONAT000","ordchegb":"01","ordgb":"02","bnstp":"2","shtcode":"A005930","expcode":"KR7005930003","hname":"삼성전자","ordqty":"2","ordprice":"60000","ordno":"86382","orgordno":"0","prntordno":"86382","ordtm":"095636020","proctm":"95636020","msgcode":"0040","marketgb":"10","etfhogagb":"00","hogagb":"0","singb":"000","loandt":"00000000","accno":"20011132702","accno1":"20011132702","passwd":"********","ordamt":"120000","mnyordamt":"120000","deposit":"79759964","ordablemny":"79459964","avrpchsprc":".00","len":"1053","gubun":"B","offset":"212","media":"HT","lang":"K","funckey":"C","reqcnt":" ","cont":"N","contkey":"0","trsrc":"L","tongsingb":"40","mbrno":"63","comid":"063","bpno":"106","admbrchno":"106","futaccno":"00000000000000000000"}}"#;
pub const SC1_FRAME: &str = r#"{"header":{"tr_cd":"SC1"},"body":{"trcode":"SONAS100","ordxctptncode":"11","ordno":"86382","orgordno":"0","execno":"1","execprc":"60000","execqty":"1","unercqty":"1","ordqty":"2","ordprc":"60000","ordavrexecprc":"60000","exectime":"095636107","rcptexectime":"095636098","proctm":"95636107","shtnIsuno":"A005930","Isuno":"KR7005930003","stdIsuno":"KR7005930003","bfstdIsuno":"KR7005930003","Isunm":"삼성전자","bnstp":"2","ordptncode":"02","ordprcptncode":"00","ordtrdptncode":"00","ordmktcode":"10","regmktcode":"10","mgntrncode":"000","ordcndi":"0","mnyexecamt":"60000","ordamt":"120000","flctqty":"1","msgcode":"9999","len":"1294","mnymgnrat":"1.000","substmgnrat":".0000000","acntnm":"우우돌","accno":"20011132702","accno1":"20011132702","ordacntno":"20011132702","grpId":"A1100000000000000000","Loandt":"00000000","commdacode":"40","adduptp":"40","trtzxLevytp":"1","ordtrxptncode":"0"}}"#;
pub const SC2_FRAME: &str = r#"{"header":{"tr_cd":"SC2"},"body":{"ordxctptncode":"12","ordno":"86383","orgordno":"86382","mdfycnfqty":"1","mdfycnfprc":"70000","orgordmdfyqty":"1","execprc":"0","execqty":"0","ordprc":"70000","ordtrxptncode":"6","outgu":"1","shtnIsuno":"A005930","unercqty":"1"}}"#;
pub const SC3_FRAME: &str = r#"{"header":{"tr_cd":"SC3"},"body":{"ordxctptncode":"13","ordno":"88343","orgordno":"88342","canccnfqty":"1","orgordcancqty":"1","orgordunercqty":"5","unercqty":"0","ordprc":"0","ordqty":"1","shtnIsuno":"A005930","execqty":"0","execprc":"0"}}"#;
pub const ACK_FRAME: &str = r#"{"header":{"tr_cd":"S3_","tr_key":"005930","tr_type":"3","rsp_cd":"00000","rsp_msg":"정상처리되었습니다"},"body":null}"#;
pub const T1866_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"조회성공","t1866OutBlock":{"result_count":2,"cont":"N","cont_key":""},"t1866OutBlock1":[{"query_index":"testID0000","group_name":"기본","query_name":"거래량급증"},{"query_index":"testID0001","group_name":"기본","query_name":"신고가"}]}"#;
pub const T1860_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"정상처리되었습니다.","t1860OutBlock":{"sSysUserFlag":"U","sFlag":"E","sResultFlag":"S","sTime":"090000","sAlertNum":"1722490200A","Msg":"등록되었습니다."}}"#;
pub const T1859_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"조회성공","t1859OutBlock":{"result_count":1,"result_time":"093000","text":""},"t1859OutBlock1":[{"shcode":"078150","hname":"HB테크놀러지","price":2435,"sign":"2","change":45,"diff":"1.79","volume":3432360}]}"#;
pub const TOKEN_REPLY: &str = r#"{"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJ0b2tlbiJ9.c2ln","scope":"oob","token_type":"Bearer","expires_in":86400}"#;
