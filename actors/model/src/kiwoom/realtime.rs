//! Kiwoom's websocket (reference §5): one text-frame JSON socket per login at
//! `/api/dostk/websocket`, every frame keyed by `trnm`. Client → server: `LOGIN`, `PING`
//! (the server's, echoed unchanged), `REG`/`REMOVE`, `CNSRLST`, `CNSRREQ`, `CNSRCLR`.
//! Server → client: their replies, `PING`, `SYSTEM` and `REAL` pushes — `0B` trades, `00`
//! order events, `04` balance, `02` condition enter/exit — with an encoder and a decoder
//! for each side, and the parse of REAL entries into the domain ([`Tick`],
//! [`AccountEvent`], [`ConditionPush`], [`Holding`]) shaped like LS's
//! `ServerFrame::account_event` and `TradeFields::to_tick`.
//!
//! Owns the envelope and the dispatch on `trnm` and on a REAL entry's `type`. Must never
//! byte-compare frames (clients differ in spacing and key order) except a PING, which is
//! echoed as it came; never reject a frame for an unknown key or an unknown REAL type
//! (kept raw); never panic: every refusal is a [`WireError`] naming the frame, the field
//! path (`data[0].values.10`) and the value.
//!
//! Order of events (§5.6, REST-side details UNCONFIRMED): a new order gets `913 접수`;
//! each execution `913 체결` (`914`/`915` this execution, `902` what remains); a cancel or
//! modify is its own order (new `9203`, `904` the original) and gets `접수` then `확인`,
//! which condor treats as final for the original; a refusal is `거부` with the reason in
//! `919`. Orders are keyed by `9203`.

use std::borrow::Cow;
use std::fmt;
use std::time::Instant;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

use super::account::Holding;
use super::num::{
    field_cum_volume, field_marked, field_price, field_price_or_zero, field_qty, field_qty_or_zero,
    field_signed, field_time, format_marked, format_padded, format_price_vs, format_rate,
    format_signed, is_blank, qty_in_range, rate_bp, Mark,
};
use super::order::{
    format_order_no, kind_label, order_no_field, parse_kind_label, OrderKind, OrderStatus,
    TradeType,
};
use super::rest::{return_code, Continuation, Refusal};
use super::{product_code, stock_code, ticker_field};
use crate::domain::{
    AccountEvent, ConditionEnter, ConditionExit, ConditionId, ExecNo, OrderNo, Tick,
};
use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};
use crate::secret::Secret;
use crate::wire::{to_json, Sign, WireError};

pub const TRNM_LOGIN: &str = "LOGIN";
pub const TRNM_PING: &str = "PING";
pub const TRNM_REG: &str = "REG";
pub const TRNM_REMOVE: &str = "REMOVE";
pub const TRNM_REAL: &str = "REAL";
pub const TRNM_CNSRLST: &str = "CNSRLST";
pub const TRNM_CNSRREQ: &str = "CNSRREQ";
pub const TRNM_CNSRCLR: &str = "CNSRCLR";
pub const TRNM_SYSTEM: &str = "SYSTEM";

/// REAL type: 주식체결 (trades).
pub const TYPE_TRADE: &str = "0B";
/// REAL type: 주문체결 (order events).
pub const TYPE_ORDER: &str = "00";
/// REAL type: 잔고 (balance after a fill).
pub const TYPE_BALANCE: &str = "04";
/// REAL type: 조건검색 (condition enter/exit).
pub const TYPE_CONDITION: &str = "02";

/// `name` of each REAL type's entries.
pub const NAME_TRADE: &str = "주식체결";
pub const NAME_ORDER: &str = "주문체결";
pub const NAME_BALANCE: &str = "현물잔고";
pub const NAME_CONDITION: &str = "조건검색";

/// `stex_tp` of a condition search: `K` (KRX), the only value documented.
pub const STEX_KRX: &str = "K";
/// `search_type` `0`: one-shot search with paging (ka10172).
pub const SEARCH_ONCE: &str = "0";
/// `search_type` `1`: snapshot plus realtime `02` pushes (ka10173).
pub const SEARCH_REALTIME: &str = "1";
/// Realtime conditions per login (the terms of use as quoted by third parties; UNCONFIRMED).
pub const MAX_REALTIME_CONDITIONS: usize = 10;
/// What the simulator answers (`return_code 1`) to a CNSRREQ before CNSRLST on a
/// connection. Kiwoom's answer is undocumented (UNCONFIRMED); this text is condor's.
pub const MSG_LIST_FIRST: &str = "조건검색 목록조회(CNSRLST)를 먼저 요청해야 합니다";
/// What the real server sends (then closes) when no LOGIN came (3P capture).
pub const SYSTEM_NO_LOGIN: &str = "R10004";

/// Text or a JSON number, `null`/absent → `None`.
fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Opt;
    impl<'de> Visitor<'de> for Opt {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("text, a number or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<String>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<String>, D::Error> {
            crate::wire::num::text::deserialize(d).map(Some)
        }
    }
    d.deserialize_option(Opt)
}

/// Decodes `text` as `T`; on failure, names the field path under `prefix` (the frame's
/// `data`, an entry's `values`), so an error reads `data[0].values.10: …`.
fn decode_at<'de, T: Deserialize<'de>>(
    what: &str,
    prefix: &str,
    text: &'de str,
) -> Result<T, WireError> {
    // The fast, untracked read first; a failure is read again to say where.
    if let Ok(v) = serde_json::from_str::<T>(text) {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    let result = T::deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .and_then(|v| de.end().map(|()| v));
    result.map_err(|e| {
        let path = track.path().to_string();
        let at = match path.as_str() {
            "" | "." => prefix.to_owned(),
            p if p.starts_with('[') || prefix.is_empty() => format!("{prefix}{p}"),
            p => format!("{prefix}.{p}"),
        };
        WireError::Malformed {
            what: what.to_owned(),
            detail: if at.is_empty() {
                e.to_string()
            } else {
                format!("{at}: {e}")
            },
        }
    })
}

// =======================================================================================
// Client → server

/// `LOGIN`: the first frame after connecting, `{"trnm":"LOGIN","token":"<token>"}` (the
/// bare token, no `Bearer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    pub token: Secret,
}

/// One `data` member of a REG/REMOVE: every item × every type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegItem {
    /// Codes (`"005930"`, `"005930_AL"`), or `[""]` for the account feeds `00`/`04`.
    pub item: Vec<String>,
    #[serde(rename = "type")]
    pub types: Vec<String>,
}

/// `REG` / `REMOVE`: `{"trnm":"REG","grp_no":"1","refresh":"1","data":[{"item":["005930"],
/// "type":["0B"]}]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// Caller-chosen group id (≤ 4 characters).
    #[serde(with = "crate::wire::num::text")]
    pub grp_no: String,
    /// `"1"` keep what the group has (the default), `"0"` replace it; not sent on REMOVE.
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh: Option<String>,
    pub data: Vec<RegItem>,
}

impl Registration {
    /// REG `0B` trades of `tickers` in group `grp_no`, keeping what the group has.
    pub fn trades(grp_no: &str, tickers: &[Ticker]) -> Registration {
        Registration {
            grp_no: grp_no.to_owned(),
            refresh: Some("1".to_owned()),
            data: vec![RegItem {
                item: tickers.iter().map(|t| stock_code(*t)).collect(),
                types: vec![TYPE_TRADE.to_owned()],
            }],
        }
    }

    /// REMOVE `0B` trades of `tickers` from group `grp_no`.
    pub fn remove_trades(grp_no: &str, tickers: &[Ticker]) -> Registration {
        Registration {
            refresh: None,
            ..Registration::trades(grp_no, tickers)
        }
    }

    /// REG the account feeds `00` and `04` (item `""`) in group `grp_no`.
    pub fn account(grp_no: &str) -> Registration {
        Registration {
            grp_no: grp_no.to_owned(),
            refresh: Some("1".to_owned()),
            data: vec![RegItem {
                item: vec![String::new()],
                types: vec![TYPE_ORDER.to_owned(), TYPE_BALANCE.to_owned()],
            }],
        }
    }

    /// Every (item, type) pair the frame names.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.data.iter().flat_map(|d| {
            d.item
                .iter()
                .flat_map(move |i| d.types.iter().map(move |t| (i.as_str(), t.as_str())))
        })
    }

    /// True when `refresh` is `"0"`: the group's registrations are replaced.
    pub fn replaces(&self) -> bool {
        self.refresh.as_deref().map(str::trim) == Some("0")
    }
}

/// `CNSRREQ`: run condition `seq`. `search_type "1"` (realtime) sends no paging fields;
/// `"0"` (one-shot) pages through the body's `cont_yn`/`next_key`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionRequest {
    #[serde(with = "crate::wire::num::text")]
    pub seq: String,
    #[serde(with = "crate::wire::num::text")]
    pub search_type: String,
    #[serde(default, with = "crate::wire::num::text")]
    pub stex_tp: String,
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub cont_yn: Option<String>,
    #[serde(
        default,
        deserialize_with = "opt_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub next_key: Option<String>,
}

impl ConditionRequest {
    /// Snapshot plus realtime pushes of condition `seq` (ka10173).
    pub fn realtime(seq: &str) -> ConditionRequest {
        ConditionRequest {
            seq: seq.to_owned(),
            search_type: SEARCH_REALTIME.to_owned(),
            stex_tp: STEX_KRX.to_owned(),
            cont_yn: None,
            next_key: None,
        }
    }

    /// One page of a one-shot run of condition `seq` (ka10172): the first page with
    /// [`Continuation::first`], the next with the previous reply's continuation.
    pub fn once(seq: &str, page: &Continuation) -> ConditionRequest {
        ConditionRequest {
            seq: seq.to_owned(),
            search_type: SEARCH_ONCE.to_owned(),
            stex_tp: STEX_KRX.to_owned(),
            cont_yn: Some(page.cont_yn().to_owned()),
            next_key: Some(page.key.clone()),
        }
    }

    pub fn is_realtime(&self) -> bool {
        self.search_type.trim() == SEARCH_REALTIME
    }

    /// The continuation this request asks for (none on a first page or realtime).
    pub fn continuation(&self) -> Continuation {
        Continuation::from_headers(self.cont_yn.as_deref(), self.next_key.as_deref())
    }
}

/// A frame a client sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientFrame {
    Login(Login),
    /// The server's PING, echoed: kept verbatim, as the server wants it back unchanged.
    Ping(String),
    Reg(Registration),
    Remove(Registration),
    /// `{"trnm":"CNSRLST"}`: must precede any CNSRREQ on the connection.
    ConditionList,
    ConditionSearch(ConditionRequest),
    /// `{"trnm":"CNSRCLR","seq":"4"}`: stop a realtime condition.
    ConditionClear {
        seq: String,
    },
}

impl ClientFrame {
    pub fn login(token: &str) -> ClientFrame {
        ClientFrame::Login(Login {
            token: Secret::new(token),
        })
    }

    /// The echo of a server PING: the same text.
    pub fn echo(ping: &str) -> ClientFrame {
        ClientFrame::Ping(ping.to_owned())
    }

    pub fn trnm(&self) -> &'static str {
        match self {
            ClientFrame::Login(_) => TRNM_LOGIN,
            ClientFrame::Ping(_) => TRNM_PING,
            ClientFrame::Reg(_) => TRNM_REG,
            ClientFrame::Remove(_) => TRNM_REMOVE,
            ClientFrame::ConditionList => TRNM_CNSRLST,
            ClientFrame::ConditionSearch(_) => TRNM_CNSRREQ,
            ClientFrame::ConditionClear { .. } => TRNM_CNSRCLR,
        }
    }

    /// The frame's text, keys in the reference's order.
    pub fn encode(&self) -> String {
        #[derive(Serialize)]
        struct Tagged<'a, B: Serialize> {
            trnm: &'a str,
            #[serde(flatten)]
            body: &'a B,
        }
        #[derive(Serialize)]
        struct Token<'a> {
            token: &'a str,
        }
        #[derive(Serialize)]
        struct Seq<'a> {
            seq: &'a str,
        }
        #[derive(Serialize)]
        struct Nothing {}
        let trnm = self.trnm();
        match self {
            ClientFrame::Login(l) => to_json(&Tagged {
                trnm,
                body: &Token {
                    token: l.token.expose(),
                },
            }),
            ClientFrame::Ping(raw) => raw.clone(),
            ClientFrame::Reg(r) | ClientFrame::Remove(r) => to_json(&Tagged { trnm, body: r }),
            ClientFrame::ConditionList => to_json(&Tagged {
                trnm,
                body: &Nothing {},
            }),
            ClientFrame::ConditionSearch(c) => to_json(&Tagged { trnm, body: c }),
            ClientFrame::ConditionClear { seq } => to_json(&Tagged {
                trnm,
                body: &Seq { seq },
            }),
        }
    }
}

#[derive(Deserialize)]
struct TrnmProbe<'a> {
    #[serde(borrow)]
    trnm: Cow<'a, str>,
}

/// Decodes a frame a client sent (the simulator's side). `trnm` picks the shape; an
/// unknown one is [`WireError::UnknownTr`]; a missing field is named.
pub fn decode_client_frame(text: &str) -> Result<ClientFrame, WireError> {
    const WHAT: &str = "Kiwoom client frame";
    super::require_object(WHAT, text)?;
    let probe: TrnmProbe<'_> = crate::wire::decode_tracked(WHAT, text)?;
    let what = format!("{} frame", probe.trnm);
    Ok(match probe.trnm.as_ref() {
        TRNM_LOGIN => {
            #[derive(Deserialize)]
            struct L {
                #[serde(with = "crate::wire::num::text")]
                token: String,
            }
            let l: L = crate::wire::decode_tracked(&what, text)?;
            ClientFrame::Login(Login {
                token: Secret::new(l.token),
            })
        }
        TRNM_PING => ClientFrame::Ping(text.to_owned()),
        TRNM_REG => ClientFrame::Reg(crate::wire::decode_tracked(&what, text)?),
        TRNM_REMOVE => ClientFrame::Remove(crate::wire::decode_tracked(&what, text)?),
        TRNM_CNSRLST => ClientFrame::ConditionList,
        TRNM_CNSRREQ => ClientFrame::ConditionSearch(crate::wire::decode_tracked(&what, text)?),
        TRNM_CNSRCLR => {
            #[derive(Deserialize)]
            struct C {
                #[serde(with = "crate::wire::num::text")]
                seq: String,
            }
            let c: C = crate::wire::decode_tracked(&what, text)?;
            ClientFrame::ConditionClear { seq: c.seq }
        }
        other => {
            return Err(WireError::UnknownTr {
                what: WHAT.to_owned(),
                tr_cd: other.to_owned(),
            })
        }
    })
}

// =======================================================================================
// Server → client: replies

/// A reply's verdict: `return_code` (a number in captures, text in the spec's tables;
/// both read) and `return_msg`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub return_code: i64,
    pub return_msg: String,
}

impl Status {
    pub fn ok() -> Status {
        Status::default()
    }

    pub fn error(return_code: i64, return_msg: &str) -> Status {
        Status {
            return_code,
            return_msg: return_msg.to_owned(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.return_code == 0
    }

    /// The refusal, classified (§6: `1` REG/CNSR failure, `805004` LOGIN failure with
    /// `[CODE=8005, …]`, `3` as text in one third-party test).
    pub fn refusal(&self) -> Option<Refusal> {
        (!self.is_ok()).then(|| Refusal::new(self.return_code, &self.return_msg))
    }

    pub fn result(&self) -> Result<(), Refusal> {
        self.refusal().map_or(Ok(()), Err)
    }
}

/// One saved condition: `seq` (what CNSRREQ and `841` name it by) and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub seq: String,
    pub name: String,
}

/// CNSRLST's `data` members are two-element arrays `["0","조건1"]` in the spec's example
/// and most code, objects `{"seq","name"}` in its table and some code: both are read,
/// arrays written.
impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Condition, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Condition;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("[seq, name] or {\"seq\": …, \"name\": …}")
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Condition, A::Error> {
                #[derive(Deserialize)]
                struct T(#[serde(with = "crate::wire::num::text")] String);
                let s: T = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let n: T = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                // Tolerate (and drop) extra members.
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Condition {
                    seq: s.0,
                    name: n.0,
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Condition, A::Error> {
                #[derive(Deserialize)]
                struct O {
                    #[serde(with = "crate::wire::num::text")]
                    seq: String,
                    #[serde(default, with = "crate::wire::num::text")]
                    name: String,
                }
                let o = O::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Condition {
                    seq: o.seq,
                    name: o.name,
                })
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.seq, &self.name).serialize(s)
    }
}

/// CNSRLST's reply: `{"trnm":"CNSRLST","return_code":0,"return_msg":"",
/// "data":[["0","조건1"],["1","조건2"]]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionList {
    pub status: Status,
    pub conditions: Vec<Condition>,
}

impl ConditionList {
    /// The condition a configuration names, by `seq` first, then by name (trimmed).
    pub fn find(&self, seq_or_name: &str) -> Option<&Condition> {
        let key = seq_or_name.trim();
        self.conditions
            .iter()
            .find(|c| c.seq.trim() == key)
            .or_else(|| self.conditions.iter().find(|c| c.name.trim() == key))
    }
}

text_struct! {
    /// One CNSRREQ result row. A realtime snapshot has codes only (`{"jmcode":"A005930"}`);
    /// a one-shot search row has `9001` and 9-character padded numbers (`"10":"000021850"`,
    /// `"12":"000001500"` a rate). Blank members are not written.
    pub struct SearchRow {
        #[serde(skip_serializing_if = "String::is_empty")]
        jmcode,
        /// Code (`A005930`).
        #[serde(rename = "9001", skip_serializing_if = "String::is_empty")]
        code,
        #[serde(rename = "302", skip_serializing_if = "String::is_empty")]
        name,
        #[serde(rename = "10", skip_serializing_if = "String::is_empty")]
        price,
        #[serde(rename = "25", skip_serializing_if = "String::is_empty")]
        sign,
        #[serde(rename = "11", skip_serializing_if = "String::is_empty")]
        change,
        #[serde(rename = "12", skip_serializing_if = "String::is_empty")]
        change_rate,
        #[serde(rename = "13", skip_serializing_if = "String::is_empty")]
        volume,
        #[serde(rename = "16", skip_serializing_if = "String::is_empty")]
        open,
        #[serde(rename = "17", skip_serializing_if = "String::is_empty")]
        high,
        #[serde(rename = "18", skip_serializing_if = "String::is_empty")]
        low,
    }
}

/// Width of a one-shot search row's numbers.
pub const SEARCH_NUMBER_WIDTH: usize = 9;

impl SearchRow {
    const WHAT: &'static str = "CNSRREQ row";

    /// A realtime snapshot row: `{"jmcode":"A005930"}`.
    pub fn snapshot(ticker: Ticker) -> SearchRow {
        SearchRow {
            jmcode: product_code(ticker),
            ..SearchRow::default()
        }
    }

    /// A one-shot search row, numbers 9 characters wide.
    pub fn result(
        ticker: Ticker,
        name: &str,
        price: Price,
        prev_close: Price,
        volume: u64,
    ) -> SearchRow {
        let w = SEARCH_NUMBER_WIDTH;
        let change = price.won() - prev_close.won();
        // `12` is a rate with three implied decimals: "000001500" = 1.50 % (UNCONFIRMED:
        // the reference calls it "×100" and gives that example; the example is followed).
        let rate = if prev_close.won() > 0 {
            change.saturating_mul(100_000) / prev_close.won()
        } else {
            0
        };
        let sign = Sign::of_change(change, false);
        SearchRow {
            code: product_code(ticker),
            name: name.to_owned(),
            price: format_padded(price.won(), w),
            sign: sign.code().to_owned(),
            change: format_padded(change, w),
            change_rate: format_padded(rate, w),
            volume: format_padded(i64::try_from(volume).unwrap_or(i64::MAX), w),
            ..SearchRow::default()
        }
    }

    /// `jmcode`, else `9001`.
    pub fn ticker(&self) -> Result<Ticker, WireError> {
        if is_blank(&self.jmcode) {
            ticker_field(Self::WHAT, "9001", &self.code)
        } else {
            ticker_field(Self::WHAT, "jmcode", &self.jmcode)
        }
    }

    /// `10`: the current price (its sign, when written, is a direction).
    pub fn current_price(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "10", &self.price)
    }

    /// `13`: volume.
    pub fn current_volume(&self) -> Result<u64, WireError> {
        field_cum_volume(Self::WHAT, "13", &self.volume)
    }

    /// `12` in thousandths of a percent (`"000001500"` → 1500 = 1.50 %; see
    /// [`SearchRow::result`]).
    pub fn change_rate_millipct(&self) -> Result<i64, WireError> {
        field_signed(Self::WHAT, "12", &self.change_rate)
    }
}

/// CNSRREQ's reply: the snapshot (realtime) or one page of results (one-shot), paging
/// in the body (`cont_yn`/`next_key`, one-shot only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionSearch {
    pub seq: String,
    pub status: Status,
    pub cont_yn: Option<String>,
    pub next_key: Option<String>,
    /// `data`; an empty snapshot may come as `null` (3P), read as empty.
    pub rows: Vec<SearchRow>,
}

impl ConditionSearch {
    /// The realtime snapshot as the simulator sends it.
    pub fn snapshot(seq: &str, tickers: &[Ticker]) -> ConditionSearch {
        ConditionSearch {
            seq: seq.to_owned(),
            status: Status::ok(),
            cont_yn: None,
            next_key: None,
            rows: tickers.iter().map(|t| SearchRow::snapshot(*t)).collect(),
        }
    }

    /// Each row's ticker: a bad row is its own error (an alphanumeric code need not cost
    /// the snapshot's other tickers).
    pub fn tickers(&self) -> impl Iterator<Item = Result<Ticker, WireError>> + '_ {
        self.rows.iter().map(SearchRow::ticker)
    }

    /// The body's continuation (one-shot search).
    pub fn continuation(&self) -> Continuation {
        Continuation::from_headers(self.cont_yn.as_deref(), self.next_key.as_deref())
    }
}

/// A `SYSTEM` frame: `{"trnm":"SYSTEM","code":"R10004","message":"접속허용요청(토큰)이
/// 들어오지 않았습니다"}`; the server closes after it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemNotice {
    pub code: String,
    pub message: String,
}

// =======================================================================================
// Server → client: REAL values

text_struct! {
    /// `0B` 주식체결 values (§5.8's table). Prices are direction-marked against the prior
    /// close; `15` is the trade's quantity marked by its aggressor (`+` buyer-initiated).
    pub struct TradeValues {
        /// 체결시간 HHmmss
        #[serde(rename = "20")] time,
        /// 현재가 (signed)
        #[serde(rename = "10")] price,
        /// 전일대비 (signed)
        #[serde(rename = "11")] change,
        /// 등락율 (signed, 2 dp)
        #[serde(rename = "12")] change_rate,
        /// 최우선 매도호가 (signed)
        #[serde(rename = "27")] ask,
        /// 최우선 매수호가 (signed)
        #[serde(rename = "28")] bid,
        /// 거래량 (this trade; + buy, - sell initiated)
        #[serde(rename = "15")] qty,
        /// 누적거래량
        #[serde(rename = "13")] cum_volume,
        /// 누적거래대금 (million KRW)
        #[serde(rename = "14")] cum_value,
        /// 시가 (signed)
        #[serde(rename = "16")] open,
        /// 고가 (signed)
        #[serde(rename = "17")] high,
        /// 저가 (signed)
        #[serde(rename = "18")] low,
        /// 전일대비기호 (1–5 as pre_sig)
        #[serde(rename = "25")] sign,
        /// 전일거래량대비 (signed)
        #[serde(rename = "26")] volume_vs_prev,
        /// 거래대금증감 (signed)
        #[serde(rename = "29")] value_change,
        /// 전일거래량대비 비율 %
        #[serde(rename = "30")] volume_ratio,
        /// 거래회전율 %
        #[serde(rename = "31")] turnover,
        /// 거래비용
        #[serde(rename = "32")] cost,
        /// 체결강도
        #[serde(rename = "228")] strength,
        /// 시가총액 (억원)
        #[serde(rename = "311")] market_cap,
        /// 장구분: 1 pre-market, 2 regular, 3 after-hours
        #[serde(rename = "290")] session,
        /// 거래소구분: 1 KRX, 2 NXT (UNCONFIRMED)
        #[serde(rename = "9081")] exchange,
    }
}

/// What a `0B` push needs (the simulator's side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradePrint {
    pub price: Price,
    pub prev_close: Price,
    pub qty: Qty,
    pub aggressor: Side,
    pub cum_volume: u64,
    /// Cumulative traded value in millions of won.
    pub cum_value_millions: i64,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub ask: Price,
    pub bid: Price,
    pub time: TimeOfDay,
}

const TRADE_WHAT: &str = "REAL 0B values";

impl TradeValues {
    const WHAT: &'static str = TRADE_WHAT;

    /// The values of one trade, written as Kiwoom writes them.
    pub fn from_print(p: &TradePrint) -> TradeValues {
        let base = p.prev_close.won();
        let change = p.price.won() - base;
        let mark = match p.aggressor {
            Side::Buy => Mark::Plus,
            Side::Sell => Mark::Minus,
        };
        let limits = crate::market::DailyLimits::from_base(p.prev_close);
        let at_limit = p.price == limits.upper || p.price == limits.lower;
        TradeValues {
            time: p.time.hhmmss(),
            price: format_price_vs(p.price.won(), base),
            change: format_signed(change),
            change_rate: format_rate(rate_bp(change, base)),
            ask: format_price_vs(p.ask.won(), base),
            bid: format_price_vs(p.bid.won(), base),
            qty: format_marked(p.qty.shares(), mark),
            cum_volume: p.cum_volume.to_string(),
            cum_value: p.cum_value_millions.to_string(),
            open: format_price_vs(p.open.won(), base),
            high: format_price_vs(p.high.won(), base),
            low: format_price_vs(p.low.won(), base),
            sign: Sign::of_change(change, at_limit).code().to_owned(),
            session: "2".to_owned(),
            exchange: "1".to_owned(),
            ..TradeValues::default()
        }
    }

    /// `10`: the trade price (the magnitude; its sign is the direction).
    pub fn trade_price(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "10", &self.price)
    }

    /// `15`: shares in this trade.
    pub fn trade_qty(&self) -> Result<Qty, WireError> {
        let m = field_marked(Self::WHAT, "15", &self.qty)?;
        qty_in_range(Self::WHAT, "15", &self.qty, m.magnitude)
    }

    /// `15`'s sign: `+` buyer-initiated, `-` seller-initiated.
    pub fn aggressor(&self) -> Result<Side, WireError> {
        match field_marked(Self::WHAT, "15", &self.qty)?.mark {
            Mark::Plus => Ok(Side::Buy),
            Mark::Minus => Ok(Side::Sell),
            Mark::None => Err(WireError::bad_value(
                Self::WHAT,
                "15",
                &self.qty,
                "a signed quantity: + buyer-initiated, - seller-initiated",
            )),
        }
    }

    /// `13`: the day's cumulative volume.
    pub fn total_volume(&self) -> Result<u64, WireError> {
        field_cum_volume(Self::WHAT, "13", &self.cum_volume)
    }

    /// `20`: the exchange time.
    pub fn trade_time(&self) -> Result<TimeOfDay, WireError> {
        field_time(Self::WHAT, "20", &self.time)
    }

    /// `11`: the change against the prior close, signed.
    pub fn signed_change(&self) -> Result<i64, WireError> {
        if is_blank(&self.change) {
            return Err(WireError::missing(
                "REAL 0B values (prev close is price 10 less change 11)",
                "11",
            ));
        }
        field_signed(Self::WHAT, "11", &self.change)
    }

    /// The previous close: `|10|` less the signed `11`, refused when that does not fit or
    /// is not a price; `11` missing is named as what the previous close needs.
    pub fn prev_close(&self) -> Result<Price, WireError> {
        self.prev_close_from(self.trade_price()?)
    }

    fn prev_close_from(&self, price: Price) -> Result<Price, WireError> {
        let change = self.signed_change()?;
        match price.won().checked_sub(change).map(Price::new) {
            Some(Ok(p)) => Ok(p),
            _ => Err(WireError::bad_value(
                Self::WHAT,
                "11",
                &self.change,
                "a change that leaves a previous close KRX can print",
            )),
        }
    }

    /// `25`.
    pub fn sign_code(&self) -> Result<Sign, WireError> {
        Sign::parse_field(Self::WHAT, "25", &self.sign)
    }

    /// `27` / `28`: best ask and bid (0 when blank or none).
    pub fn best_ask(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "27", &self.ask)
    }

    pub fn best_bid(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "28", &self.bid)
    }

    /// The trade as the engine's [`Tick`] for the entry's `item`, read from the socket
    /// at `received_at`. Its `seq` is 0: the session numbers the ticks it routes.
    pub fn to_tick(&self, item: &str, received_at: Instant) -> Result<Tick, WireError> {
        let ticker = ticker_field("REAL 0B entry", "item", item)?;
        let price = self.trade_price()?;
        Ok(Tick {
            ticker,
            price,
            qty: self.trade_qty()?,
            cum_volume: self.total_volume()?,
            prev_close: self.prev_close_from(price)?,
            aggressor: self.aggressor()?,
            exchange_time: self.trade_time()?,
            received_at,
            seq: 0,
        })
    }
}

text_struct! {
    /// `00` 주문체결 values (§5.6's table, every id of the spec's example).
    pub struct OrderValues {
        /// 계좌번호 (10 digits)
        #[serde(rename = "9201")] account,
        /// 주문번호 (7 digits; a modify or cancel has its own)
        #[serde(rename = "9203")] order_no,
        /// 관리자사번
        #[serde(rename = "9205")] manager,
        /// 종목코드 (`005930` in the spec, `A005930` in captures)
        #[serde(rename = "9001")] code,
        /// 주문업무분류 (`JJ` stock)
        #[serde(rename = "912")] business,
        /// 주문상태: 접수, 체결, 확인, 취소, 거부
        #[serde(rename = "913")] status,
        /// 종목명
        #[serde(rename = "302")] name,
        /// 주문수량
        #[serde(rename = "900")] order_qty,
        /// 주문가격 (`0` market)
        #[serde(rename = "901")] order_price,
        /// 미체결수량
        #[serde(rename = "902")] unfilled_qty,
        /// 체결누계금액
        #[serde(rename = "903")] filled_amount,
        /// 원주문번호 (`0000000` when none)
        #[serde(rename = "904")] orig_order_no,
        /// 주문구분: +매수, -매도, 매수정정, 매도정정, 매수취소, 매도취소
        #[serde(rename = "905")] kind,
        /// 매매구분: 보통, 시장가, …
        #[serde(rename = "906")] trade_type,
        /// 매도수구분: 1 sell, 2 buy
        #[serde(rename = "907")] side,
        /// 주문/체결시간 HHmmss
        #[serde(rename = "908")] time,
        /// 체결번호
        #[serde(rename = "909")] fill_no,
        /// 체결가 (cumulative-so-far per 3P; UNCONFIRMED)
        #[serde(rename = "910")] fill_price,
        /// 체결량 (cumulative-so-far per 3P; UNCONFIRMED)
        #[serde(rename = "911")] fill_qty,
        /// 현재가
        #[serde(rename = "10")] last,
        /// 최우선 매도호가
        #[serde(rename = "27")] ask,
        /// 최우선 매수호가
        #[serde(rename = "28")] bid,
        /// 단위체결가 (this execution)
        #[serde(rename = "914")] unit_fill_price,
        /// 단위체결량 (this execution)
        #[serde(rename = "915")] unit_fill_qty,
        /// 당일매매수수료
        #[serde(rename = "938")] commission,
        /// 당일매매세금
        #[serde(rename = "939")] tax,
        /// 거부사유 (`0` or text)
        #[serde(rename = "919")] reject_reason,
        /// 화면번호
        #[serde(rename = "920")] screen_no,
        /// 터미널번호
        #[serde(rename = "921")] terminal_no,
        /// 신용구분 (`00`)
        #[serde(rename = "922")] credit_type,
        /// 대출일
        #[serde(rename = "923")] loan_date,
        /// 시간외단일가
        #[serde(rename = "10010")] after_hours_price,
        /// 거래소구분: 1 KRX, 2 NXT, 0 unified (captures also `KRX`)
        #[serde(rename = "2134")] exchange,
        /// 거래소구분명
        #[serde(rename = "2135")] exchange_name,
        /// SOR여부 Y/N
        #[serde(rename = "2136")] sor,
    }
}

/// The order an `00` event is about (the simulator's side).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderInfo {
    /// The 10-digit account number.
    pub account: String,
    /// This order's number (a modify's or cancel's own).
    pub order_no: i64,
    /// The original of a modify or cancel; 0 for a new order.
    pub orig_order_no: i64,
    pub ticker: Ticker,
    pub name: String,
    pub side: Side,
    pub kind: OrderKind,
    pub trade_type: TradeType,
    pub qty: Qty,
    /// 0 for a market order.
    pub price: Price,
    pub time: TimeOfDay,
}

/// One execution of an order (the simulator's side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    pub exec_no: i64,
    pub price: Price,
    pub qty: Qty,
    /// Shares filled so far, this execution included.
    pub cum_qty: Qty,
    /// Won filled so far, this execution included.
    pub cum_amount: i64,
    /// Shares still working after it.
    pub remaining: Qty,
}

const ORDER_WHAT: &str = "REAL 00 values";

impl OrderValues {
    const WHAT: &'static str = ORDER_WHAT;

    fn base(o: &OrderInfo, status: OrderStatus) -> OrderValues {
        OrderValues {
            account: o.account.clone(),
            order_no: format_order_no(o.order_no),
            code: stock_code(o.ticker),
            business: "JJ".to_owned(),
            status: status.label().to_owned(),
            name: o.name.clone(),
            order_qty: o.qty.shares().to_string(),
            order_price: o.price.won().to_string(),
            unfilled_qty: o.qty.shares().to_string(),
            filled_amount: "0".to_owned(),
            orig_order_no: format_order_no(o.orig_order_no),
            kind: kind_label(o.side, o.kind).to_owned(),
            trade_type: o.trade_type.label().to_owned(),
            side: side_code(o.side).to_owned(),
            time: o.time.hhmmss(),
            commission: "0".to_owned(),
            tax: "0".to_owned(),
            reject_reason: "0".to_owned(),
            credit_type: "00".to_owned(),
            loan_date: "00000000".to_owned(),
            exchange: "1".to_owned(),
            exchange_name: "KRX".to_owned(),
            sor: "N".to_owned(),
            ..OrderValues::default()
        }
    }

    /// `접수`: the order (or a modify/cancel of another) was accepted.
    pub fn accepted(o: &OrderInfo) -> OrderValues {
        OrderValues::base(o, OrderStatus::Accepted)
    }

    /// `체결`: one execution; `910`/`911` are written cumulative, `914`/`915` this one.
    pub fn filled(o: &OrderInfo, e: &Execution) -> OrderValues {
        let cum_qty = i64::try_from(e.cum_qty.shares()).unwrap_or(i64::MAX);
        let avg = if cum_qty > 0 {
            e.cum_amount / cum_qty
        } else {
            0
        };
        OrderValues {
            unfilled_qty: e.remaining.shares().to_string(),
            filled_amount: e.cum_amount.to_string(),
            fill_no: e.exec_no.to_string(),
            fill_price: avg.to_string(),
            fill_qty: e.cum_qty.shares().to_string(),
            unit_fill_price: e.price.won().to_string(),
            unit_fill_qty: e.qty.shares().to_string(),
            ..OrderValues::base(o, OrderStatus::Filled)
        }
    }

    /// `확인`: a modify or cancel (`o` is the modify/cancel order) is done; `902` is 0.
    pub fn confirmed(o: &OrderInfo) -> OrderValues {
        OrderValues {
            unfilled_qty: "0".to_owned(),
            ..OrderValues::base(o, OrderStatus::Confirmed)
        }
    }

    /// `취소` on an order itself (e.g. an IOC remainder the exchange cancelled): `902`
    /// carries the cancelled quantity (condor's reading, UNCONFIRMED).
    pub fn cancelled(o: &OrderInfo, cancelled: Qty) -> OrderValues {
        OrderValues {
            unfilled_qty: cancelled.shares().to_string(),
            ..OrderValues::base(o, OrderStatus::Cancelled)
        }
    }

    /// `거부`, the reason in `919` (UNCONFIRMED where Kiwoom puts it); `902` is 0, nothing
    /// of a refused order works.
    pub fn rejected(o: &OrderInfo, reason: &str) -> OrderValues {
        OrderValues {
            reject_reason: reason.to_owned(),
            unfilled_qty: "0".to_owned(),
            ..OrderValues::base(o, OrderStatus::Rejected)
        }
    }

    /// `913`.
    pub fn order_status(&self) -> Result<OrderStatus, WireError> {
        if is_blank(&self.status) {
            return Err(WireError::missing(Self::WHAT, "913"));
        }
        OrderStatus::from_label(&self.status).ok_or_else(|| {
            WireError::bad_value(
                Self::WHAT,
                "913",
                &self.status,
                "접수, 체결, 확인, 취소 or 거부",
            )
        })
    }

    /// `9203`.
    pub fn order_number(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "9203", &self.order_no)
    }

    /// `904`: 0 when none (`"0000000"` or blank).
    pub fn orig_order_number(&self) -> Result<i64, WireError> {
        if is_blank(&self.orig_order_no) {
            return Ok(0);
        }
        order_no_field(Self::WHAT, "904", &self.orig_order_no)
    }

    /// `9001`, else the entry's `item`.
    pub fn ticker(&self, item: &str) -> Result<Ticker, WireError> {
        if is_blank(&self.code) {
            ticker_field("REAL 00 entry", "item", item)
        } else {
            ticker_field(Self::WHAT, "9001", &self.code)
        }
    }

    /// `907` (1 sell, 2 buy), else `905`'s words.
    pub fn order_side(&self) -> Result<Side, WireError> {
        match self.side.trim() {
            "1" => Ok(Side::Sell),
            "2" => Ok(Side::Buy),
            _ => parse_kind_label(&self.kind).map(|(s, _)| s).ok_or_else(|| {
                WireError::bad_value(Self::WHAT, "907", &self.side, "1 (sell) or 2 (buy)")
            }),
        }
    }

    /// `905`: new, modify or cancel.
    pub fn order_kind(&self) -> Result<OrderKind, WireError> {
        parse_kind_label(&self.kind).map(|(_, k)| k).ok_or_else(|| {
            WireError::bad_value(
                Self::WHAT,
                "905",
                &self.kind,
                "an order kind (+매수, -매도, 매수정정, 매도정정, 매수취소, 매도취소)",
            )
        })
    }

    /// The event in the domain's words, `item` the entry's (for the code when `9001` is
    /// blank). A missing or bad field is an error naming it; a rejection keeps whatever
    /// it can, as LS's SC4 does (Kiwoom may refuse an order it never numbered).
    pub fn account_event(&self, item: &str) -> Result<AccountEvent, WireError> {
        let w = Self::WHAT;
        Ok(match self.order_status()? {
            OrderStatus::Accepted => AccountEvent::Accepted {
                order_no: OrderNo(self.order_number()?),
                org_order_no: OrderNo(self.orig_order_number()?),
                ticker: self.ticker(item)?,
                side: self.order_side()?,
                qty: field_qty(w, "900", &self.order_qty)?,
                price: field_price_or_zero(w, "901", &self.order_price)?,
            },
            // One execution: 914/915 (단위체결가/량) are this execution's price and
            // quantity. 910/911 may be cumulative (3P; UNCONFIRMED), so they are not
            // used in their place: blank 914/915 on a fill is an error naming them.
            OrderStatus::Filled => AccountEvent::Filled {
                order_no: OrderNo(self.order_number()?),
                exec_no: ExecNo(order_no_field(w, "909", &self.fill_no)?),
                ticker: self.ticker(item)?,
                side: self.order_side()?,
                qty: field_qty(w, "915", &self.unit_fill_qty)?,
                price: field_price(w, "914", &self.unit_fill_price)?,
                remaining: field_qty(w, "902", &self.unfilled_qty)?,
                time: field_time(w, "908", &self.time)?,
            },
            // A modify or cancel order is done; it is final for the original (904).
            // The quantity is the modify/cancel order's own (900) (UNCONFIRMED: the
            // reference gives no confirm sample beyond 902 "0").
            OrderStatus::Confirmed => match self.order_kind()? {
                OrderKind::Cancel => AccountEvent::Cancelled {
                    order_no: OrderNo(self.order_number()?),
                    org_order_no: OrderNo(self.orig_order_number()?),
                    qty: field_qty(w, "900", &self.order_qty)?,
                },
                OrderKind::Modify => AccountEvent::Modified {
                    order_no: OrderNo(self.order_number()?),
                    org_order_no: OrderNo(self.orig_order_number()?),
                    qty: field_qty(w, "900", &self.order_qty)?,
                    price: field_price_or_zero(w, "901", &self.order_price)?,
                },
                OrderKind::New => {
                    return Err(WireError::bad_value(
                        w,
                        "905",
                        &self.kind,
                        "a modify or cancel kind for 913 확인",
                    ))
                }
            },
            // What 913 취소 is for is UNCONFIRMED (§9.5). On a cancel order it is read as
            // 확인; on an order itself (an IOC remainder the exchange cancelled) as that
            // order cancelled by its own number, 902 the quantity cancelled.
            OrderStatus::Cancelled => match self.order_kind()? {
                OrderKind::Cancel => AccountEvent::Cancelled {
                    order_no: OrderNo(self.order_number()?),
                    org_order_no: OrderNo(self.orig_order_number()?),
                    qty: field_qty(w, "900", &self.order_qty)?,
                },
                OrderKind::New | OrderKind::Modify => {
                    let order_no = OrderNo(self.order_number()?);
                    AccountEvent::Cancelled {
                        order_no,
                        org_order_no: order_no,
                        qty: field_qty(w, "902", &self.unfilled_qty)?,
                    }
                }
            },
            OrderStatus::Rejected => AccountEvent::Rejected {
                order_no: self.order_number().map_or(OrderNo::NONE, OrderNo),
                org_order_no: self.orig_order_number().map_or(OrderNo::NONE, OrderNo),
                code: match self.reject_reason.trim() {
                    "" | "0" => OrderStatus::Rejected.label().to_owned(),
                    reason => reason.to_owned(),
                },
                qty: field_qty_or_zero(w, "900", &self.order_qty).unwrap_or_default(),
            },
        })
    }
}

/// `907`'s code for a side: `1` sell, `2` buy.
pub fn side_code(side: Side) -> &'static str {
    match side {
        Side::Sell => "1",
        Side::Buy => "2",
    }
}

text_struct! {
    /// `04` 잔고 values (§5.7): the position after a fill.
    pub struct BalanceValues {
        /// 계좌번호
        #[serde(rename = "9201")] account,
        /// 종목코드
        #[serde(rename = "9001")] code,
        /// 신용구분
        #[serde(rename = "917")] credit_type,
        /// 대출일
        #[serde(rename = "916")] loan_date,
        /// 종목명
        #[serde(rename = "302")] name,
        /// 현재가 (signed)
        #[serde(rename = "10")] last,
        /// 보유수량
        #[serde(rename = "930")] qty,
        /// 매입단가
        #[serde(rename = "931")] avg_price,
        /// 총매입가 (today cumulative)
        #[serde(rename = "932")] total_cost,
        /// 주문가능수량 (sellable)
        #[serde(rename = "933")] sellable,
        /// 당일순매수량
        #[serde(rename = "945")] net_buy_today,
        /// 매도/매수구분 1/2
        #[serde(rename = "946")] side,
        /// 당일 총 매도 손익
        #[serde(rename = "950")] realised_today,
        /// 최우선 매도호가
        #[serde(rename = "27")] ask,
        /// 최우선 매수호가
        #[serde(rename = "28")] bid,
        /// 기준가
        #[serde(rename = "307")] base_price,
        /// 손익율
        #[serde(rename = "8019")] pl_rate,
        /// 신용금액
        #[serde(rename = "957")] credit_amount,
        /// 신용이자
        #[serde(rename = "958")] credit_interest,
        /// 만기일
        #[serde(rename = "918")] maturity,
        /// 당일실현손익(유가)
        #[serde(rename = "990")] realised_pl,
        /// 당일실현손익률(유가)
        #[serde(rename = "991")] realised_rate,
        /// 당일실현손익(신용)
        #[serde(rename = "992")] realised_pl_credit,
        /// 당일실현손익률(신용)
        #[serde(rename = "993")] realised_rate_credit,
        /// 담보대출수량
        #[serde(rename = "959")] pledged_qty,
        /// 924
        #[serde(rename = "924")] f924,
    }
}

impl BalanceValues {
    const WHAT: &'static str = "REAL 04 values";

    /// The values for a holding after a fill (the simulator's side).
    pub fn new(account: &str, name: &str, h: &Holding, last: Price, base: Price) -> BalanceValues {
        let qty = i64::try_from(h.qty.shares()).unwrap_or(i64::MAX);
        BalanceValues {
            account: account.to_owned(),
            code: stock_code(h.ticker),
            credit_type: "00".to_owned(),
            loan_date: "00000000".to_owned(),
            name: name.to_owned(),
            last: format_price_vs(last.won(), base.won()),
            qty: h.qty.shares().to_string(),
            avg_price: h.avg_price.won().to_string(),
            total_cost: h.avg_price.won().saturating_mul(qty).to_string(),
            sellable: h.sellable.shares().to_string(),
            base_price: base.won().to_string(),
            pl_rate: "0.00".to_owned(),
            ..BalanceValues::default()
        }
    }

    /// The position: `9001` (else `item`), `930` held, `933` sellable, `931` average price.
    pub fn holding(&self, item: &str) -> Result<Holding, WireError> {
        let w = Self::WHAT;
        let ticker = if is_blank(&self.code) {
            ticker_field("REAL 04 entry", "item", item)?
        } else {
            ticker_field(w, "9001", &self.code)?
        };
        Ok(Holding {
            ticker,
            qty: field_qty(w, "930", &self.qty)?,
            sellable: field_qty_or_zero(w, "933", &self.sellable)?,
            avg_price: field_price_or_zero(w, "931", &self.avg_price)?,
        })
    }
}

text_struct! {
    /// `02` 조건검색 values (§5.9). Captures show pushes with only `841`/`843`/`9001`.
    pub struct ConditionValues {
        /// 조건 seq
        #[serde(rename = "841")] seq,
        /// 종목코드 (`005930` in the spec, `A005930` in captures)
        #[serde(rename = "9001")] code,
        /// I entered / D left
        #[serde(rename = "843")] change,
        /// HHmmss
        #[serde(rename = "20")] time,
        /// 1/2 (meaning for conditions UNCONFIRMED)
        #[serde(rename = "907")] side,
    }
}

/// Whether a stock entered or left a condition.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ConditionChange {
    /// `843 I`.
    Enter,
    /// `843 D`.
    Exit,
}

impl ConditionChange {
    pub fn code(self) -> &'static str {
        match self {
            ConditionChange::Enter => "I",
            ConditionChange::Exit => "D",
        }
    }
}

/// A `02` push read: condition `seq` (route it to its subscription by this), the stock,
/// and which way it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionPush {
    pub seq: String,
    pub ticker: Ticker,
    pub change: ConditionChange,
    /// `20`, when sent.
    pub time: Option<TimeOfDay>,
}

/// A condition's enter or exit in the domain's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionEvent {
    Enter(ConditionEnter),
    Exit(ConditionExit),
}

impl ConditionPush {
    /// The domain event for the configured condition this `seq` runs as.
    pub fn to_domain(&self, condition: ConditionId) -> ConditionEvent {
        match self.change {
            ConditionChange::Enter => ConditionEvent::Enter(ConditionEnter {
                ticker: self.ticker,
                condition,
            }),
            ConditionChange::Exit => ConditionEvent::Exit(ConditionExit {
                ticker: self.ticker,
                condition,
            }),
        }
    }
}

impl ConditionValues {
    const WHAT: &'static str = "REAL 02 values";

    /// A push as the simulator sends it (`907` `"2"` as in the spec's sample).
    pub fn new(
        seq: &str,
        ticker: Ticker,
        change: ConditionChange,
        time: TimeOfDay,
    ) -> ConditionValues {
        ConditionValues {
            seq: seq.to_owned(),
            code: stock_code(ticker),
            change: change.code().to_owned(),
            time: time.hhmmss(),
            side: "2".to_owned(),
        }
    }

    /// The push, `item` the entry's (for the code when `9001` is blank).
    pub fn push(&self, item: &str) -> Result<ConditionPush, WireError> {
        let w = Self::WHAT;
        if is_blank(&self.seq) {
            return Err(WireError::missing(w, "841"));
        }
        let ticker = if is_blank(&self.code) {
            ticker_field("REAL 02 entry", "item", item)?
        } else {
            ticker_field(w, "9001", &self.code)?
        };
        let change = match self.change.trim() {
            "I" => ConditionChange::Enter,
            "D" => ConditionChange::Exit,
            "" => return Err(WireError::missing(w, "843")),
            _ => {
                return Err(WireError::bad_value(
                    w,
                    "843",
                    &self.change,
                    "I (entered) or D (left)",
                ))
            }
        };
        let time = if is_blank(&self.time) {
            None
        } else {
            Some(field_time(w, "20", &self.time)?)
        };
        Ok(ConditionPush {
            seq: self.seq.trim().to_owned(),
            ticker,
            change,
            time,
        })
    }
}

// =======================================================================================
// REAL entries and server frames

/// A REAL entry's values, typed by its `type`.
///
/// Trades, the bulk of the traffic, are held inline (boxing would cost an allocation per
/// trade to save moving a few hundred bytes); the rarer, larger order and balance values
/// are boxed, as LS's `ServerFrame` does.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RealValues {
    /// `0B`.
    Trade(TradeValues),
    /// `00`.
    Order(Box<OrderValues>),
    /// `04`.
    Balance(Box<BalanceValues>),
    /// `02`.
    Condition(ConditionValues),
    /// Any other type (`0A`, `0D`, …): its `values` kept as raw JSON, re-encoded as is.
    Other { kind: String, values: String },
}

impl Serialize for RealValues {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RealValues::Trade(v) => v.serialize(s),
            RealValues::Order(v) => v.serialize(s),
            RealValues::Balance(v) => v.serialize(s),
            RealValues::Condition(v) => v.serialize(s),
            RealValues::Other { values, .. } => match RawValue::from_string(values.clone()) {
                Ok(raw) => raw.serialize(s),
                // Only a hand-built Other holds text that is not JSON; write it as text.
                Err(_) => s.serialize_str(values),
            },
        }
    }
}

/// One member of a REAL frame's `data`: `{"type":"0B","name":"주식체결","item":"005930",
/// "values":{…}}`. `item` is as registered (`005930`, `005930_AL`); `name` is a label (for
/// `02` it is `"조건검색"`, not a stock name).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RealEntry {
    #[serde(rename = "type")]
    kind: String,
    pub name: String,
    pub item: String,
    pub values: RealValues,
}

impl RealEntry {
    /// A `0B` entry for `ticker`.
    pub fn trade(ticker: Ticker, values: TradeValues) -> RealEntry {
        RealEntry::new(stock_code(ticker), RealValues::Trade(values))
    }

    /// A `00` entry for `ticker`.
    pub fn order(ticker: Ticker, values: OrderValues) -> RealEntry {
        RealEntry::new(stock_code(ticker), RealValues::Order(Box::new(values)))
    }

    /// A `04` entry for `ticker`.
    pub fn balance(ticker: Ticker, values: BalanceValues) -> RealEntry {
        RealEntry::new(stock_code(ticker), RealValues::Balance(Box::new(values)))
    }

    /// A `02` entry for `ticker`.
    pub fn condition(ticker: Ticker, values: ConditionValues) -> RealEntry {
        RealEntry::new(stock_code(ticker), RealValues::Condition(values))
    }

    /// An entry with the usual `name` for its type.
    pub fn new(item: String, values: RealValues) -> RealEntry {
        let (kind, name) = match &values {
            RealValues::Trade(_) => (TYPE_TRADE, NAME_TRADE),
            RealValues::Order(_) => (TYPE_ORDER, NAME_ORDER),
            RealValues::Balance(_) => (TYPE_BALANCE, NAME_BALANCE),
            RealValues::Condition(_) => (TYPE_CONDITION, NAME_CONDITION),
            RealValues::Other { kind, .. } => (kind.as_str(), ""),
        };
        RealEntry {
            kind: kind.to_owned(),
            name: name.to_owned(),
            item,
            values,
        }
    }

    /// The entry's `type`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// A `0B` entry as the engine's [`Tick`] (`None` for another type).
    pub fn to_tick(&self, received_at: Instant) -> Option<Result<Tick, WireError>> {
        match &self.values {
            RealValues::Trade(v) => Some(v.to_tick(&self.item, received_at)),
            _ => None,
        }
    }

    /// A `00` entry as an [`AccountEvent`] (`None` for another type).
    pub fn account_event(&self) -> Option<Result<AccountEvent, WireError>> {
        match &self.values {
            RealValues::Order(v) => Some(v.account_event(&self.item)),
            _ => None,
        }
    }

    /// A `02` entry as a [`ConditionPush`] (`None` for another type).
    pub fn condition_push(&self) -> Option<Result<ConditionPush, WireError>> {
        match &self.values {
            RealValues::Condition(v) => Some(v.push(&self.item)),
            _ => None,
        }
    }

    /// A `04` entry as a [`Holding`] (`None` for another type).
    pub fn holding(&self) -> Option<Result<Holding, WireError>> {
        match &self.values {
            RealValues::Balance(v) => Some(v.holding(&self.item)),
            _ => None,
        }
    }
}

/// A frame the server sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerFrame {
    /// The LOGIN reply; it must be the first frame (a PING may precede it).
    Login(Status),
    /// A PING, kept verbatim: the client sends the same text back.
    Ping(String),
    Reg(Status),
    /// REMOVE's reply (its shape is UNCONFIRMED; read as REG's).
    Remove(Status),
    Real(Vec<RealEntry>),
    ConditionList(ConditionList),
    ConditionSearch(ConditionSearch),
    /// CNSRCLR's reply (`[KC]` assumes none; the simulator sends one).
    ConditionClear {
        seq: String,
        status: Status,
    },
    System(SystemNotice),
}

impl ServerFrame {
    /// The PING the simulator sends.
    pub fn ping() -> ServerFrame {
        ServerFrame::Ping(r#"{"trnm":"PING"}"#.to_owned())
    }

    pub fn trnm(&self) -> &'static str {
        match self {
            ServerFrame::Login(_) => TRNM_LOGIN,
            ServerFrame::Ping(_) => TRNM_PING,
            ServerFrame::Reg(_) => TRNM_REG,
            ServerFrame::Remove(_) => TRNM_REMOVE,
            ServerFrame::Real(_) => TRNM_REAL,
            ServerFrame::ConditionList(_) => TRNM_CNSRLST,
            ServerFrame::ConditionSearch(_) => TRNM_CNSRREQ,
            ServerFrame::ConditionClear { .. } => TRNM_CNSRCLR,
            ServerFrame::System(_) => TRNM_SYSTEM,
        }
    }

    /// The REAL entries (empty for any other frame).
    pub fn entries(&self) -> &[RealEntry] {
        match self {
            ServerFrame::Real(e) => e,
            _ => &[],
        }
    }

    /// The verdict of a reply frame (LOGIN, REG, REMOVE, CNSR*); `None` for the rest.
    pub fn status(&self) -> Option<&Status> {
        match self {
            ServerFrame::Login(s) | ServerFrame::Reg(s) | ServerFrame::Remove(s) => Some(s),
            ServerFrame::ConditionList(l) => Some(&l.status),
            ServerFrame::ConditionSearch(c) => Some(&c.status),
            ServerFrame::ConditionClear { status, .. } => Some(status),
            _ => None,
        }
    }

    /// The frame as Kiwoom sends it.
    pub fn encode(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            trnm: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            seq: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            cont_yn: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            next_key: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            message: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none", with = "opt_code")]
            return_code: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            return_msg: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<Data<'a>>,
        }
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Data<'a> {
            Real(&'a [RealEntry]),
            Conditions(&'a [Condition]),
            Rows(&'a [SearchRow]),
        }
        mod opt_code {
            use serde::Serializer;
            pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
                match v {
                    Some(n) => s.serialize_i64(*n),
                    None => s.serialize_none(),
                }
            }
        }
        if let ServerFrame::Ping(raw) = self {
            return raw.clone();
        }
        let mut out = Out {
            trnm: self.trnm(),
            seq: None,
            cont_yn: None,
            next_key: None,
            code: None,
            message: None,
            return_code: None,
            return_msg: None,
            data: None,
        };
        if let Some(s) = self.status() {
            out.return_code = Some(s.return_code);
            out.return_msg = Some(&s.return_msg);
        }
        match self {
            ServerFrame::Real(entries) => out.data = Some(Data::Real(entries)),
            ServerFrame::ConditionList(l) => out.data = Some(Data::Conditions(&l.conditions)),
            ServerFrame::ConditionSearch(c) => {
                out.seq = Some(&c.seq);
                out.cont_yn = c.cont_yn.as_deref();
                out.next_key = c.next_key.as_deref();
                out.data = Some(Data::Rows(&c.rows));
            }
            ServerFrame::ConditionClear { seq, .. } => out.seq = Some(seq),
            ServerFrame::System(n) => {
                out.code = Some(&n.code);
                out.message = Some(&n.message);
            }
            _ => {}
        }
        to_json(&out)
    }
}

/// The server frame's top level, read in one pass: `data` borrowed raw and typed once
/// `trnm` is known.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    trnm: Cow<'a, str>,
    #[serde(default, deserialize_with = "return_code::deserialize_opt")]
    return_code: Option<i64>,
    #[serde(default, deserialize_with = "opt_text")]
    return_msg: Option<String>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default, deserialize_with = "opt_text")]
    seq: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    cont_yn: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    next_key: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    code: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    message: Option<String>,
}

#[derive(Deserialize)]
struct EntryRaw<'a> {
    #[serde(rename = "type", with = "crate::wire::num::text")]
    kind: String,
    #[serde(default, with = "crate::wire::num::text")]
    name: String,
    #[serde(default, with = "crate::wire::num::text")]
    item: String,
    #[serde(borrow)]
    values: &'a RawValue,
}

const SERVER_WHAT: &str = "Kiwoom server frame";

/// Decodes a frame from the server. `trnm` picks the shape; an unknown `trnm` is
/// [`WireError::UnknownTr`] (a client logs and skips it); a REAL entry of an unknown
/// `type` is kept raw ([`RealValues::Other`]). Errors name the frame and the field path.
pub fn decode_server_frame(text: &str) -> Result<ServerFrame, WireError> {
    super::require_object(SERVER_WHAT, text)?;
    let env: Envelope<'_> = match serde_json::from_str(text) {
        Ok(env) => env,
        Err(e) => {
            // A PING is echoed whatever else it holds.
            if let Ok(p) = serde_json::from_str::<TrnmProbe<'_>>(text) {
                if p.trnm == TRNM_PING {
                    return Ok(ServerFrame::Ping(text.to_owned()));
                }
            }
            return Err(explain_envelope(text, &e));
        }
    };
    let what = format!("{} frame", env.trnm);
    let status = || -> Result<Status, WireError> {
        Ok(Status {
            return_code: env
                .return_code
                .ok_or_else(|| WireError::missing(&what, "return_code"))?,
            return_msg: env.return_msg.clone().unwrap_or_default(),
        })
    };
    Ok(match env.trnm.as_ref() {
        TRNM_PING => ServerFrame::Ping(text.to_owned()),
        TRNM_LOGIN => ServerFrame::Login(status()?),
        TRNM_REG => ServerFrame::Reg(status()?),
        TRNM_REMOVE => ServerFrame::Remove(status()?),
        TRNM_REAL => {
            let data = env.data.ok_or_else(|| WireError::missing(&what, "data"))?;
            ServerFrame::Real(decode_entries(data.get())?)
        }
        TRNM_CNSRLST => ServerFrame::ConditionList(ConditionList {
            status: status()?,
            conditions: match env.data {
                None => Vec::new(),
                Some(d) => decode_at(&what, "data", d.get())?,
            },
        }),
        TRNM_CNSRREQ => ServerFrame::ConditionSearch(ConditionSearch {
            seq: env.seq.clone().unwrap_or_default(),
            status: status()?,
            cont_yn: env.cont_yn.clone(),
            next_key: env.next_key.clone(),
            rows: match env.data {
                None => Vec::new(),
                Some(d) => decode_at(&what, "data", d.get())?,
            },
        }),
        TRNM_CNSRCLR => ServerFrame::ConditionClear {
            seq: env.seq.clone().unwrap_or_default(),
            status: status()?,
        },
        TRNM_SYSTEM => ServerFrame::System(SystemNotice {
            code: env.code.clone().unwrap_or_default(),
            message: env.message.clone().unwrap_or_default(),
        }),
        other => {
            return Err(WireError::UnknownTr {
                what: SERVER_WHAT.to_owned(),
                tr_cd: other.to_owned(),
            })
        }
    })
}

fn explain_envelope(text: &str, err: &serde_json::Error) -> WireError {
    if let Some(not_json) = WireError::not_json(SERVER_WHAT, text) {
        return not_json;
    }
    let what = serde_json::from_str::<TrnmProbe<'_>>(text)
        .map(|p| format!("{} frame", p.trnm))
        .unwrap_or_else(|_| SERVER_WHAT.to_owned());
    match decode_at::<Envelope<'_>>(&what, "", text) {
        Err(e) => e,
        Ok(_) => WireError::Malformed {
            what,
            detail: err.to_string(),
        },
    }
}

fn decode_entries(data: &str) -> Result<Vec<RealEntry>, WireError> {
    const WHAT: &str = "REAL frame";
    let raw: Vec<EntryRaw<'_>> = decode_at(WHAT, "data", data)?;
    raw.into_iter()
        .enumerate()
        .map(|(i, e)| {
            let values_text = e.values.get();
            let at = || format!("data[{i}].values");
            let values = match e.kind.as_str() {
                TYPE_TRADE => RealValues::Trade(decode_at("REAL 0B frame", &at(), values_text)?),
                TYPE_ORDER => {
                    RealValues::Order(Box::new(decode_at("REAL 00 frame", &at(), values_text)?))
                }
                TYPE_BALANCE => {
                    RealValues::Balance(Box::new(decode_at("REAL 04 frame", &at(), values_text)?))
                }
                TYPE_CONDITION => {
                    RealValues::Condition(decode_at("REAL 02 frame", &at(), values_text)?)
                }
                _ => RealValues::Other {
                    kind: e.kind.clone(),
                    values: values_text.to_owned(),
                },
            };
            Ok(RealEntry {
                kind: e.kind,
                name: e.name,
                item: e.item,
                values,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
