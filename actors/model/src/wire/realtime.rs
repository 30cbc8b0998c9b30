//! LS's websocket frames (reference §5): the registration a client sends, the
//! acknowledgement the server answers with, and the data frames it pushes, with a decoder
//! and an encoder for each side. The bodies and their accessors ([`TradeBody`], …) live
//! in `realtime/bodies.rs` and are re-exported here.
//!
//! Owns the envelope `{"header":{…},"body":…}` and the dispatch on `header.tr_cd`. Must
//! never allocate a `serde_json::Value` on the trade path, never byte-compare frames
//! (clients differ in spacing and order) and never panic: every refusal is a
//! [`WireError`] naming the frame, the field and the value.

mod bodies;
mod trade_scan;

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

pub use bodies::{
    parse_time_ms, AcceptedKind, ConditionAlertBody, JobFlag, OrderAcceptedBody, OrderEventBody,
    OrderEventKind, TradeBody, TradeFields,
};

use super::{decode_tracked, to_json, WireError};
use crate::domain::{AccountEvent, ExecNo, OrderNo};
use crate::market::Market;

/// KOSPI trades.
pub const TR_KOSPI_TRADE: &str = "S3_";
/// KOSDAQ trades.
pub const TR_KOSDAQ_TRADE: &str = "K3_";
/// Condition-search alerts; `tr_key` is t1860's `sAlertNum`.
pub const TR_CONDITION_ALERT: &str = "AFR";
pub const TR_ORDER_ACCEPTED: &str = "SC0";
pub const TR_ORDER_FILLED: &str = "SC1";
pub const TR_ORDER_MODIFIED: &str = "SC2";
pub const TR_ORDER_CANCELLED: &str = "SC3";
pub const TR_ORDER_REJECTED: &str = "SC4";
/// The account feeds, registered with `tr_type` 1/2 and an empty `tr_key`.
pub const ACCOUNT_FEEDS: [&str; 5] = [
    TR_ORDER_ACCEPTED,
    TR_ORDER_FILLED,
    TR_ORDER_MODIFIED,
    TR_ORDER_CANCELLED,
    TR_ORDER_REJECTED,
];
/// `rsp_cd` of a successful registration.
pub const ACK_OK: &str = "00000";
/// `rsp_msg` of a successful registration (UNCONFIRMED: programgarden's mock text, the
/// recommended one).
pub const ACK_OK_MSG: &str = "정상처리되었습니다";

/// True for SC0..SC4.
pub fn is_account_feed(tr_cd: &str) -> bool {
    ACCOUNT_FEEDS.contains(&tr_cd)
}

/// The market of a trade TR: `S3_` KOSPI, `K3_` KOSDAQ.
pub fn trade_market(tr_cd: &str) -> Option<Market> {
    match tr_cd {
        TR_KOSPI_TRADE => Some(Market::Kospi),
        TR_KOSDAQ_TRADE => Some(Market::Kosdaq),
        _ => None,
    }
}

/// `header.tr_type` of a registration: a string `"1"`..`"4"` on the wire.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TrType {
    /// `"1"`: register an account feed (SC0..SC4).
    RegisterAccount,
    /// `"2"`: unregister an account feed.
    UnregisterAccount,
    /// `"3"`: register market data (S3_, K3_, …) or AFR.
    RegisterMarket,
    /// `"4"`: unregister market data or AFR.
    UnregisterMarket,
}

impl TrType {
    pub fn code(self) -> &'static str {
        match self {
            TrType::RegisterAccount => "1",
            TrType::UnregisterAccount => "2",
            TrType::RegisterMarket => "3",
            TrType::UnregisterMarket => "4",
        }
    }

    pub fn from_code(code: &str) -> Option<TrType> {
        match code {
            "1" => Some(TrType::RegisterAccount),
            "2" => Some(TrType::UnregisterAccount),
            "3" => Some(TrType::RegisterMarket),
            "4" => Some(TrType::UnregisterMarket),
            _ => None,
        }
    }

    pub fn is_register(self) -> bool {
        matches!(self, TrType::RegisterAccount | TrType::RegisterMarket)
    }

    /// The type that registers `tr_cd`: 1 for account feeds, 3 for the rest (AFR too).
    pub fn register_for(tr_cd: &str) -> TrType {
        if is_account_feed(tr_cd) {
            TrType::RegisterAccount
        } else {
            TrType::RegisterMarket
        }
    }

    /// The type that unregisters `tr_cd`: 2 for account feeds, 4 for the rest.
    pub fn unregister_for(tr_cd: &str) -> TrType {
        if is_account_feed(tr_cd) {
            TrType::UnregisterAccount
        } else {
            TrType::UnregisterMarket
        }
    }
}

impl Serialize for TrType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for TrType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TrType, D::Error> {
        let code = Cow::<'de, str>::deserialize(d)?;
        TrType::from_code(&code).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Str(&code), &"\"1\", \"2\", \"3\" or \"4\"")
        })
    }
}

/// A registration or unregistration (client → server):
/// `{"header":{"token":"…","tr_type":"3"},"body":{"tr_cd":"S3_","tr_key":"005930"}}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Registration {
    pub token: String,
    pub tr_type: TrType,
    pub tr_cd: String,
    /// Ticker(s) for market data (several six-digit codes may be concatenated), the
    /// `sAlertNum` for AFR, `""` for account feeds.
    pub tr_key: String,
}

impl Registration {
    /// Registers `tr_cd` with the type it needs (1 for account feeds, else 3).
    pub fn register(token: &str, tr_cd: &str, tr_key: &str) -> Registration {
        Registration {
            token: token.to_owned(),
            tr_type: TrType::register_for(tr_cd),
            tr_cd: tr_cd.to_owned(),
            tr_key: tr_key.to_owned(),
        }
    }

    /// Unregisters `tr_cd` (2 for account feeds, else 4).
    pub fn unregister(token: &str, tr_cd: &str, tr_key: &str) -> Registration {
        Registration {
            tr_type: TrType::unregister_for(tr_cd),
            ..Registration::register(token, tr_cd, tr_key)
        }
    }

    pub fn encode(&self) -> String {
        encode_registration(&self.token, self.tr_type, &self.tr_cd, &self.tr_key)
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("token", &"***")
            .field("tr_type", &self.tr_type)
            .field("tr_cd", &self.tr_cd)
            .field("tr_key", &self.tr_key)
            .finish()
    }
}

/// The registration frame, compact, keys in the order of the reference.
pub fn encode_registration(token: &str, tr_type: TrType, tr_cd: &str, tr_key: &str) -> String {
    #[derive(Serialize)]
    struct Frame<'a> {
        header: Header<'a>,
        body: Body<'a>,
    }
    #[derive(Serialize)]
    struct Header<'a> {
        token: &'a str,
        tr_type: TrType,
    }
    #[derive(Serialize)]
    struct Body<'a> {
        tr_cd: &'a str,
        tr_key: &'a str,
    }
    to_json(&Frame {
        header: Header { token, tr_type },
        body: Body { tr_cd, tr_key },
    })
}

/// Decodes a client's registration frame (the simulator's side). Spacing and key order
/// do not matter; a missing `body.tr_key` reads as `""` (account feeds). Errors name what
/// is wrong: not JSON, a missing `header.token`, a bad `header.tr_type`, a missing
/// `body.tr_cd`, …
pub fn decode_client_frame(text: &str) -> Result<Registration, WireError> {
    const WHAT: &str = "registration frame";
    #[derive(Deserialize)]
    struct Frame {
        #[serde(default)]
        header: Option<Header>,
        #[serde(default)]
        body: Option<Body>,
    }
    #[derive(Deserialize)]
    struct Header {
        #[serde(default)]
        token: Option<String>,
        // Kept raw so a number or a bad code gets a message naming it.
        #[serde(default)]
        tr_type: Option<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        tr_cd: Option<String>,
        #[serde(default)]
        tr_key: Option<String>,
    }
    const TR_TYPE_EXPECTED: &str = "a string \"1\", \"2\", \"3\" or \"4\"";

    let frame: Frame = decode_tracked(WHAT, text)?;
    let header = frame
        .header
        .ok_or_else(|| WireError::missing(WHAT, "header"))?;
    let token = header
        .token
        .ok_or_else(|| WireError::missing(WHAT, "header.token"))?;
    let tr_type = match header.tr_type {
        None | Some(serde_json::Value::Null) => {
            return Err(WireError::missing(WHAT, "header.tr_type"))
        }
        // The reference says string, not number; a number is refused rather than
        // guessed, so a client bug shows here before it meets the real server.
        Some(serde_json::Value::String(code)) => TrType::from_code(&code)
            .ok_or_else(|| WireError::bad_value(WHAT, "header.tr_type", &code, TR_TYPE_EXPECTED))?,
        Some(other) => {
            return Err(WireError::bad_value(
                WHAT,
                "header.tr_type",
                &other.to_string(),
                TR_TYPE_EXPECTED,
            ))
        }
    };
    let body = frame.body.ok_or_else(|| WireError::missing(WHAT, "body"))?;
    let tr_cd = body
        .tr_cd
        .ok_or_else(|| WireError::missing(WHAT, "body.tr_cd"))?;
    Ok(Registration {
        token,
        tr_type,
        tr_cd,
        tr_key: body.tr_key.unwrap_or_default(),
    })
}

/// The server's answer to a registration:
/// `{"header":{"tr_cd":"S3_","tr_key":"005930","tr_type":"3","rsp_cd":"00000",
/// "rsp_msg":"정상처리되었습니다"},"body":null}`. Error acks have the same shape with another
/// `rsp_cd` (UNCONFIRMED: codes unknown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    pub tr_cd: String,
    pub tr_key: Option<String>,
    /// Kept as text: an ack is read even if its `tr_type` is odd.
    pub tr_type: Option<String>,
    pub rsp_cd: String,
    pub rsp_msg: String,
}

impl Ack {
    pub fn is_ok(&self) -> bool {
        self.rsp_cd == ACK_OK
    }

    pub fn tr_type(&self) -> Option<TrType> {
        self.tr_type.as_deref().and_then(TrType::from_code)
    }

    pub fn encode(&self) -> String {
        encode_ack_parts(
            &self.tr_cd,
            self.tr_key.as_deref(),
            self.tr_type.as_deref(),
            &self.rsp_cd,
            &self.rsp_msg,
        )
    }
}

/// An acknowledgement frame. `body` is always present and `null`: some clients read
/// `body` before looking at `rsp_cd` and die without it.
pub fn encode_ack(
    tr_cd: &str,
    tr_key: Option<&str>,
    tr_type: &str,
    rsp_cd: &str,
    rsp_msg: &str,
) -> String {
    encode_ack_parts(tr_cd, tr_key, Some(tr_type), rsp_cd, rsp_msg)
}

fn encode_ack_parts(
    tr_cd: &str,
    tr_key: Option<&str>,
    tr_type: Option<&str>,
    rsp_cd: &str,
    rsp_msg: &str,
) -> String {
    #[derive(Serialize)]
    struct Frame<'a> {
        header: Header<'a>,
        body: (),
    }
    #[derive(Serialize)]
    struct Header<'a> {
        tr_cd: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        tr_key: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tr_type: Option<&'a str>,
        rsp_cd: &'a str,
        rsp_msg: &'a str,
    }
    to_json(&Frame {
        header: Header {
            tr_cd,
            tr_key,
            tr_type,
            rsp_cd,
            rsp_msg,
        },
        body: (),
    })
}

/// A data frame: `{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{…}}`. Account
/// frames (SC0..SC4) pass `tr_key: None`: LS sends only `header.tr_cd` for them. `body`
/// is one of this module's body types (all strings), whose encoding cannot fail.
pub fn encode_data_frame<B: Serialize + ?Sized>(
    tr_cd: &str,
    tr_key: Option<&str>,
    body: &B,
) -> String {
    #[derive(Serialize)]
    struct Frame<'a, B: ?Sized> {
        header: Header<'a>,
        body: &'a B,
    }
    #[derive(Serialize)]
    struct Header<'a> {
        tr_cd: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        tr_key: Option<&'a str>,
    }
    to_json(&Frame {
        header: Header { tr_cd, tr_key },
        body,
    })
}

/// A decoded server → client frame.
///
/// Trades, the bulk of the traffic, are held inline: boxing them would cost an allocation
/// per frame to save moving ~650 bytes; the rare, large SC bodies are boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerFrame {
    /// A registration's acknowledgement (header with `rsp_cd`, `body` null).
    Ack(Ack),
    /// S3_ (KOSPI) or K3_ (KOSDAQ).
    Trade { market: Market, body: TradeBody },
    /// AFR; `alert_num` is `header.tr_key`, t1860's `sAlertNum` (`""` if absent).
    ConditionAlert {
        alert_num: String,
        body: ConditionAlertBody,
    },
    /// SC0.
    OrderAccepted(Box<OrderAcceptedBody>),
    /// SC1.
    OrderFilled(Box<OrderEventBody>),
    /// SC2.
    OrderModified(Box<OrderEventBody>),
    /// SC3.
    OrderCancelled(Box<OrderEventBody>),
    /// SC4.
    OrderRejected(Box<OrderEventBody>),
}

impl ServerFrame {
    /// The frame's `header.tr_cd`.
    pub fn tr_cd(&self) -> &str {
        match self {
            ServerFrame::Ack(a) => &a.tr_cd,
            ServerFrame::Trade { market, .. } => market.trade_tr(),
            ServerFrame::ConditionAlert { .. } => TR_CONDITION_ALERT,
            ServerFrame::OrderAccepted(_) => TR_ORDER_ACCEPTED,
            ServerFrame::OrderFilled(_) => TR_ORDER_FILLED,
            ServerFrame::OrderModified(_) => TR_ORDER_MODIFIED,
            ServerFrame::OrderCancelled(_) => TR_ORDER_CANCELLED,
            ServerFrame::OrderRejected(_) => TR_ORDER_REJECTED,
        }
    }

    /// SC0–SC4 in the domain's words: what the broker says happened to one of our orders
    /// (`None` for any other frame). A missing or bad field is an error naming it; a
    /// rejection keeps whatever it can, since LS may refuse an order it never numbered.
    pub fn account_event(&self) -> Option<Result<AccountEvent, WireError>> {
        let event = match self {
            ServerFrame::OrderAccepted(b) => (|| {
                Ok(AccountEvent::Accepted {
                    order_no: OrderNo(b.order_no()?),
                    org_order_no: OrderNo(b.org_order_no()?),
                    ticker: b.ticker()?,
                    side: b.side()?,
                    qty: b.qty()?,
                    price: b.price()?,
                })
            })(),
            ServerFrame::OrderFilled(b) => (|| {
                Ok(AccountEvent::Filled {
                    order_no: OrderNo(b.order_no()?),
                    exec_no: ExecNo(b.exec_no()?),
                    ticker: b.ticker()?,
                    side: b.side()?,
                    qty: b.exec_qty()?,
                    price: b.exec_price()?,
                    remaining: b.unfilled_qty()?,
                    time: b.exec_time()?,
                })
            })(),
            ServerFrame::OrderModified(b) => (|| {
                Ok(AccountEvent::Modified {
                    order_no: OrderNo(b.order_no()?),
                    org_order_no: OrderNo(b.org_order_no()?),
                    qty: b.modified_qty()?,
                    price: b.modified_price()?,
                })
            })(),
            ServerFrame::OrderCancelled(b) => (|| {
                Ok(AccountEvent::Cancelled {
                    order_no: OrderNo(b.order_no()?),
                    org_order_no: OrderNo(b.org_order_no()?),
                    qty: b.cancelled_qty()?,
                })
            })(),
            ServerFrame::OrderRejected(b) => Ok(AccountEvent::Rejected {
                order_no: b.order_no().map_or(OrderNo::NONE, OrderNo),
                org_order_no: b.org_order_no().map_or(OrderNo::NONE, OrderNo),
                code: b.msgcode.clone(),
                qty: b.rejected_qty().unwrap_or_default(),
            }),
            _ => return None,
        };
        Some(event)
    }

    /// The frame as LS sends it (trades keyed by `shcode`, alerts by `alert_num`).
    pub fn encode(&self) -> String {
        let tr_cd = self.tr_cd();
        match self {
            ServerFrame::Ack(a) => a.encode(),
            ServerFrame::Trade { body, .. } => encode_data_frame(tr_cd, Some(&body.shcode), body),
            ServerFrame::ConditionAlert { alert_num, body } => {
                encode_data_frame(tr_cd, Some(alert_num), body)
            }
            ServerFrame::OrderAccepted(body) => encode_data_frame(tr_cd, None, body),
            ServerFrame::OrderFilled(body)
            | ServerFrame::OrderModified(body)
            | ServerFrame::OrderCancelled(body)
            | ServerFrame::OrderRejected(body) => encode_data_frame(tr_cd, None, body),
        }
    }
}

/// Decodes a server frame. In the usual key order (header first) the envelope and the
/// typed body are read in one pass with no intermediate value; a body that comes first is
/// borrowed raw and decoded once the header is known. A header with `rsp_cd` and a null
/// (or absent) body is an [`Ack`]; otherwise `header.tr_cd` picks the body type, and an
/// unknown `tr_cd` is an error naming it.
///
/// A lone surrogate escape is read as U+FFFD, as [`decode_incoming`] reads it (see
/// [`lone_surrogates_replaced`]).
pub fn decode_server_frame(text: &str) -> Result<ServerFrame, WireError> {
    let decoded = match decode::<TradeBody>(text) {
        Err(e) => match lone_surrogates_replaced(text) {
            Some(readable) => decode::<TradeBody>(&readable),
            None => Err(e),
        },
        decoded => decoded,
    };
    Ok(match decoded? {
        Decoded::Trade { market, body } => ServerFrame::Trade { market, body },
        Decoded::Other(frame) => *frame,
    })
}

/// A server frame as the engine's hot path reads it: a trade as borrowed [`TradeFields`]
/// (no allocation for a body without escapes), anything else fully decoded (and boxed:
/// those are rare, and a trade should not move a full frame's bytes).
#[derive(Debug)]
pub enum Incoming<'a> {
    Trade {
        market: Market,
        fields: TradeFields<'a>,
    },
    Other(Box<ServerFrame>),
}

/// [`decode_server_frame`] for a client: the same rules and errors, but a trade keeps only
/// the fields that make a tick, borrowed from `text`. The body's other fields are skipped
/// unread, so a malformed one the engine never uses does not cost it a tick.
///
/// LS's usual trade frame is read by a one-pass scanner; every other shape by serde.
pub fn decode_incoming(text: &str) -> Result<Incoming<'_>, WireError> {
    if let Some((market, fields)) = trade_scan::scan_trade(text) {
        return Ok(Incoming::Trade { market, fields });
    }
    match decode::<TradeFields<'_>>(text) {
        Ok(decoded) => Ok(Incoming::from(decoded)),
        Err(e) => match lone_surrogates_replaced(text) {
            Some(readable) => decode::<TradeFields<'_>>(&readable)
                .map(|decoded| Incoming::from(decoded).into_owned()),
            None => Err(e),
        },
    }
}

impl<'a> From<Decoded<TradeFields<'a>>> for Incoming<'a> {
    fn from(decoded: Decoded<TradeFields<'a>>) -> Incoming<'a> {
        match decoded {
            Decoded::Trade { market, body } => Incoming::Trade {
                market,
                fields: body,
            },
            Decoded::Other(frame) => Incoming::Other(frame),
        }
    }
}

impl Incoming<'_> {
    /// The same frame holding its own text (a trade read from a repaired copy).
    fn into_owned(self) -> Incoming<'static> {
        let own = |c: Cow<'_, str>| Cow::Owned(c.into_owned());
        match self {
            Incoming::Trade { market, fields } => Incoming::Trade {
                market,
                fields: TradeFields {
                    shcode: own(fields.shcode),
                    price: own(fields.price),
                    chetime: own(fields.chetime),
                    sign: own(fields.sign),
                    change: own(fields.change),
                    cgubun: own(fields.cgubun),
                    cvolume: own(fields.cvolume),
                    volume: own(fields.volume),
                },
            },
            Incoming::Other(frame) => Incoming::Other(frame),
        }
    }
}

/// `text` with every lone surrogate escape (`\ud800` not followed by a trailing one,
/// `\udc00` not preceded by a leading one) made `\ufffd`; `None` when it has none.
///
/// Why U+FFFD, and not a refusal of the frame: RFC 8259's grammar allows the escape
/// (§8.2 leaves what a reader makes of it open), and it says nothing about the rest of
/// the frame: a broker encoder that splits one astral character of a name would
/// otherwise cost every trade and fill of that stock, whose prices and quantities are
/// fine. The hot path skips a field it does not use unread (serde's skipper takes the
/// escape), and now the full decoder holds what the hot path would have read, the
/// replacement character, as a lossy UTF-8 read does, and as Go's `encoding/json` does
/// with the same escape. A field that needs a number or a code then refuses the
/// character by name, as it refuses any other text.
///
/// Only called after serde refused the text: what serde takes held no lone surrogate
/// in anything it kept, so the repaired copy would read the same. The escape and its
/// replacement are both six bytes of the same classes, so the copy is JSON exactly when
/// `text` is, and an error's column is the same in both.
fn lone_surrogates_replaced(text: &str) -> Option<String> {
    let b = text.as_bytes();
    // A `\uXXXX` escape's code unit, if `b[at..]` starts with one.
    let unit = |at: usize| -> Option<u16> {
        let hex = b.get(at..at + 6)?;
        if hex[0] != b'\\' || hex[1] != b'u' || !hex[2..].iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        u16::from_str_radix(std::str::from_utf8(&hex[2..]).ok()?, 16).ok()
    };
    let mut lone = Vec::new();
    let mut at = 0;
    while let Some(found) = b[at..].iter().position(|&c| c == b'\\') {
        at += found;
        match unit(at) {
            Some(0xD800..=0xDBFF) if matches!(unit(at + 6), Some(0xDC00..=0xDFFF)) => at += 12,
            Some(0xD800..=0xDFFF) => {
                lone.push(at);
                at += 6;
            }
            Some(_) => at += 6,
            // `\\`, `\"`, …: the escaped character is never the start of an escape.
            None => at += 2,
        }
        if at >= b.len() {
            break;
        }
    }
    if lone.is_empty() {
        return None;
    }
    let mut readable = text.to_owned();
    for at in lone {
        readable.replace_range(at + 2..at + 6, "fffd");
    }
    Some(readable)
}

/// A decoded frame whose trade body is `T` (owned [`TradeBody`] or borrowed
/// [`TradeFields`]).
enum Decoded<T> {
    Trade { market: Market, body: T },
    Other(Box<ServerFrame>),
}

fn decode<'de, T: Deserialize<'de>>(text: &'de str) -> Result<Decoded<T>, WireError> {
    match serde_json::from_str::<Parsed<'de, T>>(text) {
        Ok(parsed) => finish(parsed),
        Err(e) => Err(explain::<T>(text, &e)),
    }
}

const SERVER_FRAME: &str = "server frame";

fn frame_what(tr_cd: &str) -> String {
    format!("{tr_cd} frame")
}

/// Builds the typed frame from a parsed envelope.
fn finish<'de, T: Deserialize<'de>>(parsed: Parsed<'de, T>) -> Result<Decoded<T>, WireError> {
    let header = parsed
        .header
        .ok_or_else(|| WireError::missing(SERVER_FRAME, "header"))?;
    let body = match parsed.body {
        BodySlot::Absent | BodySlot::Raw(None) => Body::Null,
        BodySlot::Typed(body) => body,
        BodySlot::Raw(Some(raw)) => decode_raw_body(&header.tr_cd, raw.get())?,
    };
    let tr_cd = header.tr_cd.as_ref();
    Ok(Decoded::Other(Box::new(match body {
        Body::Null => {
            let Some(rsp_cd) = header.rsp_cd else {
                // Neither a data frame nor an ack.
                return Err(WireError::missing(&frame_what(tr_cd), "body"));
            };
            ServerFrame::Ack(Ack {
                tr_cd: tr_cd.to_owned(),
                tr_key: header.tr_key.map(Cow::into_owned),
                tr_type: header.tr_type,
                rsp_cd,
                rsp_msg: header.rsp_msg.unwrap_or_default(),
            })
        }
        Body::Trade(body) => match trade_market(tr_cd) {
            Some(market) => return Ok(Decoded::Trade { market, body }),
            None => return Err(unknown_tr(tr_cd)),
        },
        Body::Alert(body) => ServerFrame::ConditionAlert {
            alert_num: header.tr_key.map(Cow::into_owned).unwrap_or_default(),
            body,
        },
        Body::Accepted(body) => ServerFrame::OrderAccepted(body),
        Body::Event(body) => match tr_cd {
            TR_ORDER_FILLED => ServerFrame::OrderFilled(body),
            TR_ORDER_MODIFIED => ServerFrame::OrderModified(body),
            TR_ORDER_CANCELLED => ServerFrame::OrderCancelled(body),
            TR_ORDER_REJECTED => ServerFrame::OrderRejected(body),
            _ => return Err(unknown_tr(tr_cd)),
        },
        Body::Unknown => return Err(unknown_tr(tr_cd)),
    })))
}

fn unknown_tr(tr_cd: &str) -> WireError {
    WireError::UnknownTr {
        what: SERVER_FRAME.to_owned(),
        tr_cd: tr_cd.to_owned(),
    }
}

/// Decodes a body captured raw (it came before the header); rare, so tracked.
fn decode_raw_body<'de, T: Deserialize<'de>>(
    tr_cd: &str,
    raw: &'de str,
) -> Result<Body<T>, WireError> {
    let what = frame_what(tr_cd);
    let mut de = serde_json::Deserializer::from_str(raw);
    let mut track = serde_path_to_error::Track::new();
    let seed = BodySeed::<T>::new(tr_cd);
    seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
        .map_err(|e| {
            let inner = WireError::from_tracked(
                &what,
                raw,
                &serde_path_to_error::Error::new(track.path(), e),
            );
            // The path is relative to the body; say so.
            match inner {
                WireError::Malformed { what, detail } => WireError::Malformed {
                    what,
                    detail: format!("body: {detail}"),
                },
                other => other,
            }
        })
}

/// Turns a failed fast decode into an error naming the frame and the field path, by
/// decoding again with path tracking (error path only).
///
/// `NotJson` exactly when the text is not JSON, whatever the typed read met first; a
/// "syntax" error in text that is JSON (`1e400`) is a value condor cannot hold,
/// `Malformed` at its field like a wrongly typed one. So `decode_incoming` and
/// `decode_server_frame` call the same texts not JSON, and where the hot path keeps a
/// trade the full decoder refuses, it is for a body field the hot path skips unread (a
/// bad `cpower` costs no tick, as `decode_incoming` promises). A lone surrogate escape
/// never gets here: both read it as U+FFFD ([`lone_surrogates_replaced`]).
fn explain<'de, T: Deserialize<'de>>(text: &'de str, err: &serde_json::Error) -> WireError {
    if let Some(not_json) = WireError::not_json(SERVER_FRAME, text) {
        return not_json;
    }
    #[derive(Deserialize)]
    struct Probe {
        header: ProbeHeader,
    }
    #[derive(Deserialize)]
    struct ProbeHeader {
        tr_cd: String,
    }
    let what = serde_json::from_str::<Probe>(text)
        .map(|p| frame_what(&p.header.tr_cd))
        .unwrap_or_else(|_| SERVER_FRAME.to_owned());
    let mut de = serde_json::Deserializer::from_str(text);
    let mut track = serde_path_to_error::Track::new();
    match Parsed::<T>::deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track)) {
        Err(e) => WireError::from_tracked(
            &what,
            text,
            &serde_path_to_error::Error::new(track.path(), e),
        ),
        // The same decode cannot succeed tracked; should it, the first error stands.
        Ok(_) => WireError::Malformed {
            what,
            detail: err.to_string(),
        },
    }
}

/// The envelope's header; borrowed so a data frame's header costs no allocation.
#[derive(Deserialize)]
struct WireHeader<'a> {
    #[serde(borrow)]
    tr_cd: Cow<'a, str>,
    #[serde(borrow, default)]
    tr_key: Option<Cow<'a, str>>,
    // Ack-only fields (and programgarden's mock adds rsp_cd to data frames); text or
    // number accepted so an odd ack still decodes.
    #[serde(default, deserialize_with = "loose_text")]
    tr_type: Option<String>,
    #[serde(default, deserialize_with = "loose_text")]
    rsp_cd: Option<String>,
    #[serde(default, deserialize_with = "loose_text")]
    rsp_msg: Option<String>,
}

fn loose_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("text, a number or null")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// A typed body, or null. Trades (`T`) inline, as in [`ServerFrame`].
#[allow(clippy::large_enum_variant)]
enum Body<T> {
    Null,
    Trade(T),
    Alert(ConditionAlertBody),
    Accepted(Box<OrderAcceptedBody>),
    Event(Box<OrderEventBody>),
    /// A body under a `tr_cd` this module does not know (skipped, then refused).
    Unknown,
}

#[allow(clippy::large_enum_variant)]
enum BodySlot<'de, T> {
    Absent,
    Typed(Body<T>),
    Raw(Option<&'de RawValue>),
}

struct Parsed<'de, T> {
    header: Option<WireHeader<'de>>,
    body: BodySlot<'de, T>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum FrameKey {
    Header,
    Body,
    #[serde(other)]
    Other,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Parsed<'de, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Parsed<'de, T>, D::Error> {
        d.deserialize_map(FrameVisitor(PhantomData))
    }
}

struct FrameVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for FrameVisitor<T> {
    type Value = Parsed<'de, T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a frame object {\"header\":{…},\"body\":…}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed<'de, T>, A::Error> {
        let mut header: Option<WireHeader<'de>> = None;
        let mut body = BodySlot::Absent;
        while let Some(key) = map.next_key::<FrameKey>()? {
            match key {
                // A second header or body is refused, as serde refuses any repeated
                // field: the body is typed by the header it follows, so a later header
                // would re-label it.
                FrameKey::Header if header.is_some() => {
                    return Err(de::Error::duplicate_field("header"))
                }
                FrameKey::Body if !matches!(body, BodySlot::Absent) => {
                    return Err(de::Error::duplicate_field("body"))
                }
                FrameKey::Header => header = Some(map.next_value()?),
                FrameKey::Body => {
                    body = match &header {
                        Some(h) => BodySlot::Typed(
                            map.next_value_seed(BodySeed::<T>::new(h.tr_cd.as_ref()))?,
                        ),
                        None => BodySlot::Raw(map.next_value()?),
                    }
                }
                FrameKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Parsed { header, body })
    }
}

/// Decodes a body straight into the type `tr_cd` calls for (`T` for a trade).
struct BodySeed<'h, T> {
    tr_cd: &'h str,
    trade: PhantomData<T>,
}

impl<T> BodySeed<'_, T> {
    fn new(tr_cd: &str) -> BodySeed<'_, T> {
        BodySeed {
            tr_cd,
            trade: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for BodySeed<'_, T> {
    type Value = Body<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Body<T>, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for BodySeed<'_, T> {
    type Value = Body<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a {} body object or null", self.tr_cd)
    }

    fn visit_none<E: de::Error>(self) -> Result<Body<T>, E> {
        Ok(Body::Null)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Body<T>, E> {
        Ok(Body::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Body<T>, D::Error> {
        Ok(match self.tr_cd {
            TR_KOSPI_TRADE | TR_KOSDAQ_TRADE => Body::Trade(T::deserialize(d)?),
            TR_CONDITION_ALERT => Body::Alert(ConditionAlertBody::deserialize(d)?),
            TR_ORDER_ACCEPTED => Body::Accepted(Box::new(OrderAcceptedBody::deserialize(d)?)),
            TR_ORDER_FILLED | TR_ORDER_MODIFIED | TR_ORDER_CANCELLED | TR_ORDER_REJECTED => {
                Body::Event(Box::new(OrderEventBody::deserialize(d)?))
            }
            _ => {
                IgnoredAny::deserialize(d)?;
                Body::Unknown
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};
    use crate::wire::Sign;
    use serde_json::Value;

    /// §5.5 sample body, in the reference's key order.
    const S3_FRAME: &str = r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{"mdchecnt":"23","sign":"2","mschecnt":"96","mdvolume":"946","w_avrg":"55448","cpower":"332.56","offerho":"55600","cvolume":"1","high":"55800","bidho":"55500","low":"55500","price":"55550","cgubun":"+","value":"604","change":"1050","shcode":"005930","chetime":"090851","opentime":"090030","lowtime":"090030","volume":"10887","drate":"1.93","hightime":"090504","jnilvolume":"2508350","msvolume":"3146","exchname":"KRX","open":"55600","status":"00"}}"#;

    /// §5.7 sample; the tr_key is t1860's example `sAlertNum`.
    const AFR_FRAME: &str = r#"{"header":{"tr_cd":"AFR","tr_key":"1722490200A"},"body":{"gsJobFlag":"O","gsVolume":"3432360","gsPrice":"2435","gsSign":"2","gshname":"HB테크놀러지","gsChange":"45","gsChgRate":"1.88","gsCode":"078150"}}"#;

    /// §5.8 real sample (new buy, 2 @ 60000): the listed keys; LS sends the rest as "0"/"".
    const SC0_FRAME: &str = r#"{"header":{"tr_cd":"SC0"},"body":{"trcode":"SONAT000","ordchegb":"01","ordgb":"02","bnstp":"2","shtcode":"A005930","expcode":"KR7005930003","hname":"삼성전자","ordqty":"2","ordprice":"60000","ordno":"86382","orgordno":"0","prntordno":"86382","ordtm":"095636020","proctm":"95636020","msgcode":"0040","marketgb":"10","etfhogagb":"00","hogagb":"0","singb":"000","loandt":"00000000","accno":"20011132702","accno1":"20011132702","passwd":"********","ordamt":"120000","mnyordamt":"120000","deposit":"79759964","ordablemny":"79459964","avrpchsprc":".00","len":"1053","gubun":"B","offset":"212","media":"HT","lang":"K","funckey":"C","reqcnt":" ","cont":"N","contkey":"0","trsrc":"L","tongsingb":"40","mbrno":"63","comid":"063","bpno":"106","admbrchno":"106","futaccno":"00000000000000000000"}}"#;

    /// §5.9 real SC1 sample (1 of 2 filled at 60000).
    const SC1_FRAME: &str = r#"{"header":{"tr_cd":"SC1"},"body":{"trcode":"SONAS100","ordxctptncode":"11","ordno":"86382","orgordno":"0","execno":"1","execprc":"60000","execqty":"1","unercqty":"1","ordqty":"2","ordprc":"60000","ordavrexecprc":"60000","exectime":"095636107","rcptexectime":"095636098","proctm":"95636107","shtnIsuno":"A005930","Isuno":"KR7005930003","stdIsuno":"KR7005930003","bfstdIsuno":"KR7005930003","Isunm":"삼성전자","bnstp":"2","ordptncode":"02","ordprcptncode":"00","ordtrdptncode":"00","ordmktcode":"10","regmktcode":"10","mgntrncode":"000","ordcndi":"0","mnyexecamt":"60000","ordamt":"120000","flctqty":"1","msgcode":"9999","len":"1294","mnymgnrat":"1.000","substmgnrat":".0000000","acntnm":"우우돌","accno":"20011132702","accno1":"20011132702","ordacntno":"20011132702","grpId":"A1100000000000000000","Loandt":"00000000","commdacode":"40","adduptp":"40","trtzxLevytp":"1","ordtrxptncode":"0"}}"#;

    /// §5.9 real SC2 sample (modify 86382 → 86383 at 70000): the listed keys, plus the
    /// required `shtnIsuno`/`unercqty` the reference leaves out (same order as SC1's).
    const SC2_FRAME: &str = r#"{"header":{"tr_cd":"SC2"},"body":{"ordxctptncode":"12","ordno":"86383","orgordno":"86382","mdfycnfqty":"1","mdfycnfprc":"70000","orgordmdfyqty":"1","execprc":"0","execqty":"0","ordprc":"70000","ordtrxptncode":"6","outgu":"1","shtnIsuno":"A005930","unercqty":"1"}}"#;

    /// §5.9 real SC3 sample (cancel 88342 via 88343): the listed keys, plus the required
    /// `shtnIsuno`/`execqty`/`execprc` the reference leaves out.
    const SC3_FRAME: &str = r#"{"header":{"tr_cd":"SC3"},"body":{"ordxctptncode":"13","ordno":"88343","orgordno":"88342","canccnfqty":"1","orgordcancqty":"1","orgordunercqty":"5","unercqty":"0","ordprc":"0","ordqty":"1","shtnIsuno":"A005930","execqty":"0","execprc":"0"}}"#;

    /// §5.3 recommended acknowledgement.
    const ACK_FRAME: &str = r#"{"header":{"tr_cd":"S3_","tr_key":"005930","tr_type":"3","rsp_cd":"00000","rsp_msg":"정상처리되었습니다"},"body":null}"#;

    /// §5.2 registration, compact.
    const REG_FRAME: &str =
        r#"{"header":{"token":"TOKEN","tr_type":"3"},"body":{"tr_cd":"S3_","tr_key":"005930"}}"#;

    /// decode → encode → decode gives the same frame; returns it.
    fn round_trip(text: &str) -> ServerFrame {
        let frame = decode_server_frame(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let encoded = frame.encode();
        let again = decode_server_frame(&encoded).unwrap_or_else(|e| panic!("{e}\n{encoded}"));
        assert_eq!(again, frame, "round trip of {text}");
        frame
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    /// The sample with one body key removed.
    fn without(text: &str, key: &str) -> String {
        let mut v = json(text);
        let removed = v["body"].as_object_mut().and_then(|b| b.remove(key));
        assert!(removed.is_some(), "sample has {key}");
        v.to_string()
    }

    /// The sample with the body first and every key order reversed, plus unknown keys at
    /// every level.
    fn shuffled_with_extras(text: &str) -> String {
        let v = json(text);
        let body_text = match v["body"].as_object() {
            None => v["body"].to_string(),
            Some(object) => {
                let mut body: Vec<(String, Value)> =
                    object.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                body.reverse();
                let at = body.len().min(3);
                body.insert(at, ("new_field_2030".into(), Value::String("x".into())));
                format!(
                    "{{{}}}",
                    body.iter()
                        .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), v))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        };
        let mut header: Vec<String> = v["header"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), v))
            .collect();
        header.reverse();
        header.push(r#""tr_id": {"nested": [1, 2]}"#.into());
        format!(
            r#"{{ "seq": 7, "body": {body_text}, "header": {{{}}}, "trailer": null }}"#,
            header.join(", ")
        )
    }

    #[test]
    fn s3_sample_round_trips_and_reads_as_domain_types() {
        let ServerFrame::Trade { market, body } = round_trip(S3_FRAME) else {
            panic!("trade")
        };
        assert_eq!(market, Market::Kospi);
        assert_eq!(body.ticker().unwrap(), Ticker::parse("005930").unwrap());
        assert_eq!(body.price().unwrap(), Price::lit(55_550));
        assert_eq!(body.cvolume().unwrap(), Qty::lit(1));
        assert_eq!(body.volume().unwrap(), 10_887);
        assert_eq!(body.time().unwrap(), TimeOfDay::hms(9, 8, 51));
        assert_eq!(body.sign().unwrap(), Sign::Up);
        assert_eq!(body.signed_change().unwrap(), 1050);
        assert_eq!(body.drate_bp().unwrap(), 193);
        assert_eq!(
            (body.open(), body.high(), body.low()),
            (
                Ok(Price::lit(55_600)),
                Ok(Price::lit(55_800)),
                Ok(Price::lit(55_500))
            )
        );
        assert_eq!(
            (body.ask(), body.bid()),
            (Ok(Price::lit(55_600)), Ok(Price::lit(55_500)))
        );
        assert_eq!(body.aggressor().unwrap(), Side::Buy);
        assert_eq!(body.value().unwrap(), 604);
        assert_eq!(body.cpower, "332.56");
        // The encoder keeps the envelope's shape: tr_key is the ticker.
        let v = json(&ServerFrame::Trade { market, body }.encode());
        assert_eq!(v["header"], json(r#"{"tr_cd":"S3_","tr_key":"005930"}"#));
        assert_eq!(v["body"], json(S3_FRAME)["body"]);
    }

    #[test]
    fn k3_uses_the_same_body_and_a_falling_trade_reads_signed() {
        let text = S3_FRAME
            .replace("\"S3_\"", "\"K3_\"")
            .replace(r#""sign":"2""#, r#""sign":"5""#)
            .replace(r#""drate":"1.93""#, r#""drate":"-0.37""#)
            .replace(r#""cgubun":"+""#, r#""cgubun":"-""#);
        let ServerFrame::Trade { market, body } = round_trip(&text) else {
            panic!("trade")
        };
        assert_eq!(market, Market::Kosdaq);
        assert_eq!(body.signed_change().unwrap(), -1050);
        assert_eq!(body.drate_bp().unwrap(), -37);
        assert_eq!(body.aggressor().unwrap(), Side::Sell);
    }

    #[test]
    fn afr_sample_round_trips() {
        let ServerFrame::ConditionAlert { alert_num, body } = round_trip(AFR_FRAME) else {
            panic!("alert")
        };
        assert_eq!(alert_num, "1722490200A");
        assert_eq!(body.ticker().unwrap(), Ticker::parse("078150").unwrap());
        assert_eq!(body.job().unwrap(), JobFlag::Exit);
        assert_eq!(body.name(), "HB테크놀러지");
        assert_eq!(body.price().unwrap(), Price::lit(2435));
        assert_eq!(body.signed_change().unwrap(), 45);
        assert_eq!(body.chg_rate_bp().unwrap(), 188);
        assert_eq!(body.volume().unwrap(), 3_432_360);
        for (code, flag) in [
            ("N", JobFlag::Enter),
            ("R", JobFlag::Reenter),
            ("O", JobFlag::Exit),
        ] {
            assert_eq!(JobFlag::from_code(code), Some(flag));
            assert_eq!(flag.code(), code);
        }
        let bad = ConditionAlertBody {
            gs_job_flag: "X".into(),
            ..body
        };
        let msg = bad.job().unwrap_err().to_string();
        assert!(msg.contains("gsJobFlag") && msg.contains("\"X\""), "{msg}");
    }

    #[test]
    fn sc0_real_sample_round_trips() {
        let ServerFrame::OrderAccepted(body) = round_trip(SC0_FRAME) else {
            panic!("SC0")
        };
        assert_eq!(body.kind().unwrap(), AcceptedKind::New);
        assert_eq!(body.order_no().unwrap(), 86_382);
        assert_eq!(body.org_order_no().unwrap(), 0);
        assert_eq!(body.ticker().unwrap(), Ticker::parse("005930").unwrap());
        assert_eq!(body.side().unwrap(), Side::Buy);
        assert_eq!(body.qty().unwrap(), Qty::lit(2));
        assert_eq!(body.price().unwrap(), Price::lit(60_000));
        assert_eq!(body.time().unwrap(), TimeOfDay::hms(9, 56, 36));
        assert_eq!(body.comid, "063");
        assert_eq!(body.reqcnt, " ");
        // Account frames carry no tr_key.
        let v = json(&ServerFrame::OrderAccepted(body.clone()).encode());
        assert_eq!(v["header"], json(r#"{"tr_cd":"SC0"}"#));
        // Side falls back to ordgb when bnstp is blank.
        let mut b = (*body).clone();
        b.bnstp.clear();
        b.ordgb = "01".into();
        assert_eq!(b.side().unwrap(), Side::Sell);
        b.ordgb = "99".into();
        assert!(b.side().unwrap_err().to_string().contains("ordgb"));
    }

    #[test]
    fn sc1_real_sample_round_trips() {
        let ServerFrame::OrderFilled(body) = round_trip(SC1_FRAME) else {
            panic!("SC1")
        };
        assert_eq!(body.kind().unwrap(), OrderEventKind::Fill);
        assert_eq!(body.order_no().unwrap(), 86_382);
        assert_eq!(body.ticker().unwrap(), Ticker::parse("005930").unwrap());
        assert_eq!(body.side().unwrap(), Side::Buy);
        assert_eq!(body.exec_qty().unwrap(), Qty::lit(1));
        assert_eq!(body.exec_price().unwrap(), Price::lit(60_000));
        assert_eq!(body.unfilled_qty().unwrap(), Qty::lit(1));
        assert_eq!(body.order_qty().unwrap(), Qty::lit(2));
        assert_eq!(body.avg_exec_price().unwrap(), Price::lit(60_000));
        assert_eq!(body.exec_no().unwrap(), 1);
        assert_eq!(body.exec_time().unwrap(), TimeOfDay::hms(9, 56, 36));
        assert_eq!(
            body.exec_time_ms().unwrap(),
            TimeOfDay::hms(9, 56, 36).secs() * 1000 + 107
        );
        // The mixed-case keys land in their fields.
        assert_eq!(body.isunm, "삼성전자");
        assert_eq!(body.isuno, "KR7005930003");
        assert_eq!(body.std_isuno, "KR7005930003");
        assert_eq!(body.bfstd_isuno, "KR7005930003");
        assert_eq!(body.grp_id, "A1100000000000000000");
        assert_eq!(body.loandt, "00000000");
        assert_eq!(body.trtzx_levytp, "1");
        assert_eq!(body.substmgnrat, ".0000000");
    }

    #[test]
    fn sc2_and_sc3_real_samples_round_trip() {
        let ServerFrame::OrderModified(m) = round_trip(SC2_FRAME) else {
            panic!("SC2")
        };
        assert_eq!(m.kind().unwrap(), OrderEventKind::ModifyConfirmed);
        assert_eq!(
            (m.order_no().unwrap(), m.org_order_no().unwrap()),
            (86_383, 86_382)
        );
        assert_eq!(m.modified_qty().unwrap(), Qty::lit(1));
        assert_eq!(m.modified_price().unwrap(), Price::lit(70_000));
        assert_eq!(m.exec_qty().unwrap(), Qty::lit(0));
        assert_eq!(m.cancelled_qty().unwrap(), Qty::lit(0), "absent reads as 0");

        let ServerFrame::OrderCancelled(c) = round_trip(SC3_FRAME) else {
            panic!("SC3")
        };
        assert_eq!(c.kind().unwrap(), OrderEventKind::CancelConfirmed);
        assert_eq!(
            (c.order_no().unwrap(), c.org_order_no().unwrap()),
            (88_343, 88_342)
        );
        assert_eq!(c.cancelled_qty().unwrap(), Qty::lit(1));
        assert_eq!(c.unfilled_qty().unwrap(), Qty::lit(0));
        assert_eq!(c.orgordunercqty, "5");
        assert_eq!(c.order_price().unwrap(), Price::lit(0));
    }

    #[test]
    fn sc4_reads_with_the_sc1_layout() {
        let text = SC1_FRAME.replace("\"SC1\"", "\"SC4\"").replace(
            r#""ordxctptncode":"11""#,
            r#""ordxctptncode":"14","rjtqty":"2""#,
        );
        let ServerFrame::OrderRejected(r) = round_trip(&text) else {
            panic!("SC4")
        };
        assert_eq!(r.kind().unwrap(), OrderEventKind::Rejected);
        assert_eq!(r.rejected_qty().unwrap(), Qty::lit(2));
    }

    #[test]
    fn account_frames_become_the_domain_events_they_report() {
        use crate::market::{Price, Side, Ticker, TimeOfDay};
        let event = |text: &str| {
            decode_server_frame(text)
                .unwrap()
                .account_event()
                .expect("an account frame")
                .unwrap()
        };
        let ticker = Ticker::parse("005930").unwrap();
        assert_eq!(
            event(SC0_FRAME),
            AccountEvent::Accepted {
                order_no: OrderNo(86382),
                org_order_no: OrderNo::NONE,
                ticker,
                side: Side::Buy,
                qty: Qty::lit(2),
                price: Price::lit(60_000),
            }
        );
        assert_eq!(
            event(SC1_FRAME),
            AccountEvent::Filled {
                order_no: OrderNo(86382),
                exec_no: ExecNo(1),
                ticker,
                side: Side::Buy,
                qty: Qty::lit(1),
                price: Price::lit(60_000),
                remaining: Qty::lit(1),
                time: TimeOfDay::hms(9, 56, 36),
            }
        );
        assert_eq!(
            event(SC2_FRAME),
            AccountEvent::Modified {
                order_no: OrderNo(86383),
                org_order_no: OrderNo(86382),
                qty: Qty::lit(1),
                price: Price::lit(70_000),
            }
        );
        assert_eq!(
            event(SC3_FRAME),
            AccountEvent::Cancelled {
                order_no: OrderNo(88343),
                org_order_no: OrderNo(88342),
                qty: Qty::lit(1),
            }
        );
        let sc4 = SC1_FRAME.replace("\"SC1\"", "\"SC4\"").replace(
            r#""ordxctptncode":"11""#,
            r#""ordxctptncode":"14","rjtqty":"2""#,
        );
        assert_eq!(
            event(&sc4),
            AccountEvent::Rejected {
                order_no: OrderNo(86382),
                org_order_no: OrderNo::NONE,
                code: "9999".into(),
                qty: Qty::lit(2),
            }
        );
        // A fill whose quantity is not a number is an error naming the field, not an event.
        let bad = SC1_FRAME.replace(r#""execqty":"1""#, r#""execqty":"x""#);
        let e = decode_server_frame(&bad)
            .unwrap()
            .account_event()
            .unwrap()
            .unwrap_err();
        assert!(e.to_string().contains("execqty"), "{e}");
        assert!(decode_server_frame(ACK_FRAME)
            .unwrap()
            .account_event()
            .is_none());
    }

    #[test]
    fn ack_has_the_recommended_bytes_and_a_null_body() {
        let built = encode_ack("S3_", Some("005930"), "3", ACK_OK, ACK_OK_MSG);
        assert_eq!(built, ACK_FRAME);
        let ServerFrame::Ack(ack) = round_trip(ACK_FRAME) else {
            panic!("ack")
        };
        assert!(ack.is_ok());
        assert_eq!(ack.tr_type(), Some(TrType::RegisterMarket));
        assert_eq!(ack.tr_key.as_deref(), Some("005930"));
        assert_eq!(ack.encode(), ACK_FRAME);
        let v = json(&ack.encode());
        assert!(v.as_object().unwrap().contains_key("body") && v["body"].is_null());
    }

    #[test]
    fn error_acks_decode_with_their_code() {
        let nack = encode_ack(
            "S3_",
            Some("999999"),
            "3",
            "IGW00002",
            "종목코드가 올바르지 않습니다.",
        );
        let ServerFrame::Ack(ack) = round_trip(&nack) else {
            panic!("ack")
        };
        assert!(!ack.is_ok());
        assert_eq!(ack.rsp_cd, "IGW00002");
        // The simulator's answer to a malformed frame: no tr_cd, no tr_key, no tr_type.
        let ServerFrame::Ack(ack) = round_trip(&encode_ack("", None, "", "IGW00001", "x")) else {
            panic!("ack")
        };
        assert_eq!((ack.tr_cd.as_str(), ack.tr_key.as_ref()), ("", None));
        assert_eq!(ack.tr_type(), None);
        // An ack whose body key is missing altogether, and one with odd typing.
        let ServerFrame::Ack(ack) =
            decode_server_frame(r#"{"header":{"tr_cd":"SC0","rsp_cd":"00000","tr_type":1}}"#)
                .unwrap()
        else {
            panic!("ack")
        };
        assert_eq!(ack.tr_type(), Some(TrType::RegisterAccount));
        assert_eq!(ack.rsp_msg, "");
    }

    #[test]
    fn data_frames_with_an_rsp_cd_in_the_header_are_still_data() {
        // programgarden's mock adds rsp_cd to data frames.
        let text = S3_FRAME.replace(
            r#""tr_key":"005930"}"#,
            r#""tr_key":"005930","rsp_cd":"00000","rsp_msg":""}"#,
        );
        assert!(matches!(
            decode_server_frame(&text).unwrap(),
            ServerFrame::Trade { .. }
        ));
    }

    #[test]
    fn every_sample_decodes_with_extra_fields_and_any_order() {
        for sample in [
            S3_FRAME, AFR_FRAME, SC0_FRAME, SC1_FRAME, SC2_FRAME, SC3_FRAME, ACK_FRAME,
        ] {
            let messy = shuffled_with_extras(sample);
            let a = decode_server_frame(sample).unwrap();
            let b = decode_server_frame(&messy).unwrap_or_else(|e| panic!("{e}\n{messy}"));
            assert_eq!(a, b, "{messy}");
        }
        // Header first but reordered and with extras: the one-pass path.
        let text = r#"{"header":{"x":1,"tr_key":"005930","tr_cd":"S3_"},"body":{"status":"00","shcode":"005930","volume":"1","cvolume":"1","sign":"3","chetime":"090000","price":"100","later":{"a":[]}}}"#;
        assert!(matches!(
            decode_server_frame(text).unwrap(),
            ServerFrame::Trade { .. }
        ));
    }

    #[test]
    fn the_hot_path_reads_the_same_trade_and_borrows_it() {
        let ServerFrame::Trade { market, body } = decode_server_frame(S3_FRAME).unwrap() else {
            panic!("a trade")
        };
        let Incoming::Trade { market: m, fields } = decode_incoming(S3_FRAME).unwrap() else {
            panic!("a trade")
        };
        assert_eq!((m, &fields), (market, &body.fields()));
        assert!(matches!(fields.price, Cow::Borrowed(_)), "no allocation");
        // Body before header, extras, reordering: the same fields.
        let messy = shuffled_with_extras(S3_FRAME);
        let Incoming::Trade { fields: f2, .. } = decode_incoming(&messy).unwrap() else {
            panic!("a trade: {messy}")
        };
        assert_eq!(f2, fields);
        // An escaped string cannot be borrowed; it is still read.
        let escaped = S3_FRAME.replace(r#""cgubun":"+""#, r#""cgubun":"\u002b""#);
        let Incoming::Trade { fields: f3, .. } = decode_incoming(&escaped).unwrap() else {
            panic!("a trade")
        };
        assert_eq!(f3.aggressor().unwrap(), Side::Buy);
        // Every other frame decodes exactly as decode_server_frame has it.
        for sample in [
            AFR_FRAME, SC0_FRAME, SC1_FRAME, SC2_FRAME, SC3_FRAME, ACK_FRAME,
        ] {
            match decode_incoming(sample).unwrap() {
                Incoming::Other(f) => assert_eq!(*f, decode_server_frame(sample).unwrap()),
                Incoming::Trade { .. } => panic!("not a trade: {sample}"),
            }
        }
    }

    #[test]
    fn the_hot_path_refuses_what_the_full_decoder_refuses_with_the_same_words() {
        for key in ["shcode", "price", "chetime", "cvolume", "volume", "sign"] {
            for text in [
                without(S3_FRAME, key),
                shuffled_with_extras(&without(S3_FRAME, key)),
            ] {
                let full = decode_server_frame(&text).unwrap_err().to_string();
                let hot = decode_incoming(&text).unwrap_err().to_string();
                assert_eq!(hot, full, "{key}");
            }
        }
        let typed = S3_FRAME.replace(r#""price":"55550""#, r#""price":55550"#);
        assert_eq!(
            decode_incoming(&typed).unwrap_err().to_string(),
            decode_server_frame(&typed).unwrap_err().to_string()
        );
        for bad in ["not json", "", r#"{"header":{"tr_cd":"ZZZ"},"body":{}}"#] {
            assert_eq!(
                decode_incoming(bad).unwrap_err().to_string(),
                decode_server_frame(bad).unwrap_err().to_string()
            );
        }
    }

    #[test]
    fn a_missing_required_field_is_named() {
        let cases: [(&str, &[&str]); 5] = [
            (
                S3_FRAME,
                &["shcode", "price", "chetime", "cvolume", "volume", "sign"],
            ),
            (AFR_FRAME, &["gsCode", "gsJobFlag"]),
            (
                SC0_FRAME,
                &["ordno", "shtcode", "ordqty", "ordprice", "ordgb", "trcode"],
            ),
            (
                SC1_FRAME,
                &[
                    "ordno",
                    "shtnIsuno",
                    "execqty",
                    "execprc",
                    "ordxctptncode",
                    "unercqty",
                ],
            ),
            (SC3_FRAME, &["shtnIsuno", "unercqty"]),
        ];
        for (sample, required) in cases {
            for key in required {
                let tr_cd = json(sample)["header"]["tr_cd"].as_str().unwrap().to_owned();
                for text in [
                    without(sample, key),
                    shuffled_with_extras(&without(sample, key)),
                ] {
                    let e = decode_server_frame(&text).unwrap_err();
                    let msg = e.to_string();
                    assert!(
                        msg.contains(&format!("`{key}`")) && msg.contains(&tr_cd),
                        "{key}: {msg}"
                    );
                    assert!(matches!(e, WireError::Malformed { .. }), "{e:?}");
                }
            }
        }
        // Non-essential fields may go missing.
        for key in ["cpower", "exchname", "status", "w_avrg"] {
            decode_server_frame(&without(S3_FRAME, key)).unwrap();
        }
        decode_server_frame(&without(SC1_FRAME, "Isunm")).unwrap();
    }

    #[test]
    fn a_wrongly_typed_field_is_named_with_its_path() {
        let text = S3_FRAME.replace(r#""price":"55550""#, r#""price":55550"#);
        let msg = decode_server_frame(&text).unwrap_err().to_string();
        assert!(
            msg.contains("S3_ frame") && msg.contains("body.price"),
            "{msg}"
        );
        let msg = decode_server_frame(&shuffled_with_extras(&text))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("S3_ frame") && msg.contains("price"), "{msg}");
        let msg = decode_server_frame(r#"{"header":{"tr_cd":7},"body":{}}"#)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("header.tr_cd"), "{msg}");
    }

    /// `NotJson` is for text that is not JSON. JSON holding a value condor cannot hold (a
    /// number past f64) is `Malformed` at its field on both decoders, and costs the hot
    /// path no tick when the field is one it skips.
    #[test]
    fn json_condor_cannot_hold_is_malformed_at_its_field() {
        let text = S3_FRAME.replace(r#""cpower":"332.56""#, r#""cpower":1e400"#);
        let e = decode_server_frame(&text).unwrap_err();
        assert!(
            matches!(&e, WireError::Malformed { detail, .. } if detail.starts_with("body.cpower: ")),
            "{e:?}"
        );
        assert!(matches!(decode_incoming(&text), Ok(Incoming::Trade { .. })));
        let text = S3_FRAME.replace(r#""price":"55550""#, r#""price":1e400"#);
        let (hot, full) = (decode_incoming(&text), decode_server_frame(&text));
        for e in [hot.unwrap_err(), full.unwrap_err()] {
            assert!(matches!(e, WireError::Malformed { .. }), "{e:?}");
            assert!(e.to_string().contains("body.price"), "{e}");
        }
        // A typed error before the text breaks: still not JSON, on both paths.
        let text = format!(
            "{}x",
            S3_FRAME.replace(r#""price":"55550""#, r#""price":1"#)
        );
        for e in [
            decode_incoming(&text).unwrap_err(),
            decode_server_frame(&text).unwrap_err(),
        ] {
            assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        }
    }

    /// A lone surrogate escape (RFC 8259's grammar allows it) reads as U+FFFD on both
    /// decoders, wherever it is: in a field the hot path skips it costs no tick and the
    /// full decoder holds the character; in a field the tick needs, the field refuses
    /// the character by name when the tick is built, on both.
    #[test]
    fn a_lone_surrogate_escape_reads_as_the_replacement_character() {
        let cases = [
            (r#""\ud800""#, "\u{FFFD}"),
            (r#""\udc00""#, "\u{FFFD}"),
            (r#""\ud800\ud800""#, "\u{FFFD}\u{FFFD}"),
            (r#""\ud800\u0041""#, "\u{FFFD}A"),
            (r#""a\ud83d\ude00\udc00b""#, "a\u{1F600}\u{FFFD}b"),
            // An escaped backslash, then text: no escape at all.
            (r#""\\ud800""#, "\\ud800"),
        ];
        for (value, held) in cases {
            let text = S3_FRAME.replace(r#""cpower":"332.56""#, &format!(r#""cpower":{value}"#));
            let Ok(ServerFrame::Trade { body, .. }) = decode_server_frame(&text) else {
                panic!("no trade from {text}");
            };
            assert_eq!(body.cpower, held, "{text}");
            let Ok(Incoming::Trade { fields, .. }) = decode_incoming(&text) else {
                panic!("no trade on the hot path from {text}");
            };
            assert_eq!(fields, body.fields(), "{text}");
            // Body first: the raw body is decoded once the header is known.
            let flipped = format!(
                r#"{{"body":{},"header":{{"tr_cd":"S3_"}}}}"#,
                &text[text.find(r#"{"mdchecnt"#).unwrap()..text.len() - 1]
            );
            assert_eq!(
                decode_server_frame(&flipped).unwrap(),
                ServerFrame::Trade {
                    market: Market::Kospi,
                    body: body.clone()
                }
            );
        }
        let text = S3_FRAME.replace(r#""price":"55550""#, r#""price":"\ud800""#);
        let Ok(ServerFrame::Trade { body, .. }) = decode_server_frame(&text) else {
            panic!("no frame from {text}");
        };
        let Ok(Incoming::Trade { fields, .. }) = decode_incoming(&text) else {
            panic!("no frame on the hot path from {text}");
        };
        assert_eq!(fields, body.fields());
        for e in [
            body.price().unwrap_err(),
            fields.to_tick(std::time::Instant::now()).unwrap_err(),
        ] {
            assert!(e.to_string().contains("price"), "{e}");
        }
        // A lone surrogate in a key makes an unknown key; in a required one, that key is
        // missing, on both.
        let text = S3_FRAME.replace(r#""price":"55550""#, r#""pr\ud800ice":"55550""#);
        for e in [
            decode_server_frame(&text).unwrap_err(),
            decode_incoming(&text).unwrap_err(),
        ] {
            assert!(e.to_string().contains("`price`"), "{e}");
        }
        // Still not JSON when it was not.
        let text = format!("{}x", S3_FRAME.replace("332.56", "\\ud800"));
        for e in [
            decode_server_frame(&text).unwrap_err(),
            decode_incoming(&text).unwrap_err(),
        ] {
            assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        }
    }

    #[test]
    fn only_lone_surrogate_escapes_are_replaced() {
        for untouched in [
            "",
            r#"{"a":"b"}"#,
            r#""\ud83d\ude00""#,
            r#""\\ud800""#,
            r#""\\\\ud800""#,
            r#""\u00e9\"\\""#,
            r#""\ud8""#,
            r#""\u+800""#,
        ] {
            assert_eq!(lone_surrogates_replaced(untouched), None, "{untouched}");
        }
        for (lone, readable) in [
            (r#""\ud800""#, r#""\ufffd""#),
            (r#""\uDBFF\uDBFF\uDC00""#, r#""\ufffd\uDBFF\uDC00""#),
            (r#""\udfff\ud800""#, r#""\ufffd\ufffd""#),
            (r#""\\\ud800x""#, r#""\\\ufffdx""#),
            (r#""\ud800\u0041""#, r#""\ufffd\u0041""#),
            ("\\ud800", "\\ufffd"),
        ] {
            assert_eq!(
                lone_surrogates_replaced(lone).as_deref(),
                Some(readable),
                "{lone}"
            );
        }
    }

    #[test]
    fn bad_frames_are_named() {
        let e = decode_server_frame("not json").unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        let half = &S3_FRAME[..S3_FRAME.len() / 2];
        let e = decode_server_frame(half).unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        let e = decode_server_frame(&format!("{S3_FRAME}}}")).unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");

        let text = S3_FRAME.replace("\"S3_\"", "\"H1_\"");
        let e = decode_server_frame(&text).unwrap_err();
        assert_eq!(
            e,
            WireError::UnknownTr {
                what: "server frame".into(),
                tr_cd: "H1_".into()
            }
        );
        assert!(e.to_string().contains("\"H1_\""), "{e}");
        let e = decode_server_frame(&shuffled_with_extras(&text)).unwrap_err();
        assert!(matches!(e, WireError::UnknownTr { .. }), "{e:?}");

        let e = decode_server_frame(r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":null}"#)
            .unwrap_err();
        assert!(e.to_string().contains("S3_ frame") && e.to_string().contains("`body`"));
        let e = decode_server_frame(r#"{"body":{}}"#).unwrap_err();
        assert!(e.to_string().contains("`header`"), "{e}");
        let e = decode_server_frame("[1,2]").unwrap_err();
        assert!(matches!(e, WireError::Malformed { .. }), "{e:?}");
        let e = decode_server_frame(r#"{"header":{"tr_cd":"S3_"},"body":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("S3_ frame"), "{e}");
    }

    /// Found by tests/hostile_input.rs: a second header re-labelled a frame whose body
    /// had been typed by the first (an AFR body came out keyed by the S3_ header's
    /// tr_key), and a second body replaced the first.
    #[test]
    fn a_repeated_header_or_body_is_refused() {
        let cases = [
            (
                r#"{"header":{"tr_cd":"AFR","tr_key":"1"},"body":{"gsCode":"005930","gsJobFlag":"N"},"header":{"tr_cd":"S3_","tr_key":"005930"}}"#,
                "header",
            ),
            (
                r#"{"header":{"tr_cd":"S3_","tr_key":"1"},"body":null,"header":{"tr_cd":"S3_","rsp_cd":"00000"}}"#,
                "header",
            ),
            (
                r#"{"body":{"gsCode":"005930","gsJobFlag":"N"},"header":{"tr_cd":"AFR"},"body":{"gsCode":"000660","gsJobFlag":"O"}}"#,
                "body",
            ),
        ];
        for (text, key) in cases {
            let e = decode_server_frame(text).unwrap_err();
            assert!(
                matches!(e, WireError::Malformed { .. })
                    && e.to_string().contains(&format!("duplicate field `{key}`")),
                "{text}: {e:?}"
            );
        }
        let doubled = format!("{},{}", &S3_FRAME[..S3_FRAME.len() - 1], &S3_FRAME[1..]);
        assert!(decode_server_frame(&doubled).is_err(), "{doubled}");
    }

    #[test]
    fn a_previous_close_that_overflows_is_refused_not_wrapped() {
        let fields_of = |text: &str| {
            let Incoming::Trade { fields, .. } = decode_incoming(text).unwrap() else {
                panic!("a trade")
            };
            (
                fields.prev_close(),
                fields.to_tick(std::time::Instant::now()),
            )
        };
        let down = |change: &str| {
            S3_FRAME
                .replace(r#""sign":"2""#, r#""sign":"5""#)
                .replace(r#""change":"1050""#, &format!(r#""change":"{change}""#))
        };
        // Past i64, and past the highest price KRX prints: both named as the change.
        for change in ["9223372036854775000", "99990000"] {
            let (prev, tick) = fields_of(&down(change));
            let msg = prev.unwrap_err().to_string();
            assert!(msg.contains("change") && msg.contains(change), "{msg}");
            assert!(tick.is_err());
        }
        // Up by more than the price: a negative previous close is no price either.
        let up = S3_FRAME.replace(r#""change":"1050""#, r#""change":"60000""#);
        let msg = fields_of(&up).0.unwrap_err().to_string();
        assert!(msg.contains("change") && msg.contains("60000"), "{msg}");
        // A price past the bound is refused before any arithmetic on it.
        let text = S3_FRAME.replace(r#""price":"55550""#, r#""price":"9000000000000000000""#);
        let msg = fields_of(&text).0.unwrap_err().to_string();
        assert!(
            msg.contains("`price`") && msg.contains("99,999,000"),
            "{msg}"
        );
        assert_eq!(fields_of(S3_FRAME).0.unwrap(), Price::lit(55_550 - 1_050));
    }

    /// Every number a tick is made of is held to what KRX can print; a frame that
    /// breaks one is refused whole, by the scanner's path and serde's alike.
    #[test]
    fn a_trade_with_a_number_krx_cannot_print_is_refused() {
        let cases = [
            (
                r#""price":"55550""#,
                r#""price":"9223372036854775807""#,
                "price",
            ),
            (r#""price":"55550""#, r#""price":"99999001""#, "price"),
            (r#""cvolume":"1""#, r#""cvolume":"-5""#, "cvolume"),
            (
                r#""cvolume":"1""#,
                r#""cvolume":"18446744073709551615""#,
                "cvolume",
            ),
            (r#""cvolume":"1""#, r#""cvolume":"100000000""#, "cvolume"),
            (r#""volume":"10887""#, r#""volume":"-10887""#, "volume"),
            (
                r#""volume":"10887""#,
                r#""volume":"1000000000000""#,
                "volume",
            ),
        ];
        for (from, to, field) in cases {
            let text = S3_FRAME.replace(from, to);
            assert_ne!(text, S3_FRAME, "{from}");
            // The plain shape (the scanner) and a body first (serde) answer alike.
            let body_first = text.replacen(
                r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":"#,
                r#"{"body":"#,
                1,
            );
            let body_first = format!(
                r#"{},"header":{{"tr_cd":"S3_","tr_key":"005930"}}}}"#,
                &body_first[..body_first.len() - 1]
            );
            for t in [&text, &body_first] {
                let Incoming::Trade { fields, .. } = decode_incoming(t).unwrap() else {
                    panic!("a trade: {t}")
                };
                let e = fields.to_tick(std::time::Instant::now()).unwrap_err();
                assert!(e.to_string().contains(&format!("`{field}`")), "{e}");
            }
            let ServerFrame::Trade { body, .. } = decode_server_frame(&text).unwrap() else {
                panic!("a trade")
            };
            assert!(body.fields().to_tick(std::time::Instant::now()).is_err());
        }
    }

    #[test]
    fn accessors_name_the_field_and_value() {
        let ServerFrame::Trade { body, .. } = decode_server_frame(S3_FRAME).unwrap() else {
            panic!("trade")
        };
        let cases: Vec<(TradeBody, &str, &str)> = vec![
            (
                TradeBody {
                    price: "55a50".into(),
                    ..body.clone()
                },
                "price",
                "55a50",
            ),
            (
                TradeBody {
                    price: "0".into(),
                    ..body.clone()
                },
                "price",
                "0",
            ),
            (
                TradeBody {
                    shcode: "05930".into(),
                    ..body.clone()
                },
                "shcode",
                "05930",
            ),
            (
                TradeBody {
                    cvolume: "-1".into(),
                    ..body.clone()
                },
                "cvolume",
                "-1",
            ),
            (
                TradeBody {
                    chetime: "256000".into(),
                    ..body.clone()
                },
                "chetime",
                "256000",
            ),
            (
                TradeBody {
                    sign: "".into(),
                    ..body.clone()
                },
                "sign",
                "",
            ),
        ];
        for (b, field, value) in cases {
            let errors = [
                b.price().err(),
                b.ticker().err(),
                b.cvolume().err(),
                b.time().err(),
                b.sign().err(),
            ];
            let e = errors
                .into_iter()
                .flatten()
                .next()
                .expect("one accessor fails");
            assert_eq!(
                e,
                match &e {
                    WireError::BadValue { expected, .. } => WireError::BadValue {
                        what: "S3_/K3_ body".into(),
                        field: match field {
                            "price" => "price",
                            "shcode" => "shcode",
                            "cvolume" => "cvolume",
                            "chetime" => "chetime",
                            _ => "sign",
                        },
                        value: value.into(),
                        expected,
                    },
                    other => panic!("{other:?}"),
                }
            );
            let msg = e.to_string();
            assert!(
                msg.contains(field) && msg.contains(&format!("{value:?}")),
                "{msg}"
            );
        }
        let b = TradeBody {
            drate: "1.935".into(),
            ..body
        };
        assert!(b.drate_bp().unwrap_err().to_string().contains("drate"));
    }

    #[test]
    fn registration_frames() {
        let reg = Registration::register("TOKEN", "S3_", "005930");
        assert_eq!(reg.tr_type, TrType::RegisterMarket);
        assert_eq!(reg.encode(), REG_FRAME);
        assert_eq!(decode_client_frame(REG_FRAME).unwrap(), reg);
        // Spaced, reordered, with extras.
        let spaced = r#"{"body": {"tr_key": "005930", "tr_cd": "S3_", "x": 1}, "header": {"tr_type": "3", "token": "TOKEN", "content-type": "utf-8"}}"#;
        assert_eq!(decode_client_frame(spaced).unwrap(), reg);
        // Account feeds: tr_type 1/2, empty tr_key, which may be absent.
        let acc = Registration::register("T", "SC1", "");
        assert_eq!(acc.tr_type, TrType::RegisterAccount);
        assert_eq!(
            Registration::unregister("T", "SC1", "").tr_type,
            TrType::UnregisterAccount
        );
        let no_key = r#"{"header":{"token":"T","tr_type":"1"},"body":{"tr_cd":"SC1"}}"#;
        assert_eq!(decode_client_frame(no_key).unwrap(), acc);
        assert_eq!(
            Registration::unregister("T", "AFR", "1722490200A").tr_type,
            TrType::UnregisterMarket
        );
        assert!(!format!("{reg:?}").contains("TOKEN"), "token redacted");
    }

    #[test]
    fn malformed_registrations_are_named() {
        let cases = [
            ("{\"header\":", "not JSON"),
            (r#"{"body":{"tr_cd":"S3_","tr_key":"005930"}}"#, "`header`"),
            (
                r#"{"header":{"tr_type":"3"},"body":{"tr_cd":"S3_"}}"#,
                "`header.token`",
            ),
            (
                r#"{"header":{"token":"T"},"body":{"tr_cd":"S3_"}}"#,
                "`header.tr_type`",
            ),
            (
                r#"{"header":{"token":"T","tr_type":"7"},"body":{"tr_cd":"S3_"}}"#,
                "`header.tr_type` has bad value \"7\"",
            ),
            (
                r#"{"header":{"token":"T","tr_type":3},"body":{"tr_cd":"S3_"}}"#,
                "`header.tr_type` has bad value \"3\": expected a string",
            ),
            (r#"{"header":{"token":"T","tr_type":"3"}}"#, "`body`"),
            (
                r#"{"header":{"token":"T","tr_type":"3"},"body":{"tr_key":"005930"}}"#,
                "`body.tr_cd`",
            ),
            (
                r#"{"header":{"token":5,"tr_type":"3"},"body":{"tr_cd":"S3_"}}"#,
                "header.token",
            ),
        ];
        for (text, needle) in cases {
            let msg = decode_client_frame(text).unwrap_err().to_string();
            assert!(
                msg.starts_with("registration frame") && msg.contains(needle),
                "{text} -> {msg}"
            );
        }
    }

    #[test]
    fn tr_type_codes() {
        for t in [
            TrType::RegisterAccount,
            TrType::UnregisterAccount,
            TrType::RegisterMarket,
            TrType::UnregisterMarket,
        ] {
            assert_eq!(TrType::from_code(t.code()), Some(t));
            let s = serde_json::to_string(&t).unwrap();
            assert_eq!(s, format!("\"{}\"", t.code()));
            assert_eq!(serde_json::from_str::<TrType>(&s).unwrap(), t);
        }
        assert!(serde_json::from_str::<TrType>("\"5\"").is_err());
        assert!(serde_json::from_str::<TrType>("3").is_err());
        assert!(TrType::RegisterAccount.is_register() && !TrType::UnregisterMarket.is_register());
        assert_eq!(TrType::register_for("AFR"), TrType::RegisterMarket);
        assert!(ACCOUNT_FEEDS.iter().all(|t| is_account_feed(t)));
        assert_eq!(trade_market("K3_"), Some(Market::Kosdaq));
        assert_eq!(trade_market("SC0"), None);
    }

    #[test]
    fn times_with_and_without_the_leading_zero() {
        let nine = TimeOfDay::hms(9, 56, 36).secs() * 1000;
        assert_eq!(parse_time_ms("095636020"), Some(nine + 20));
        assert_eq!(parse_time_ms("95636020"), Some(nine + 20));
        assert_eq!(parse_time_ms("095636"), Some(nine));
        assert_eq!(parse_time_ms("235959999"), Some(86_399_999));
        for bad in [
            "",
            "0956",
            "0956361",
            "240000",
            "096036",
            "09:56:36",
            "0956360201",
        ] {
            assert_eq!(parse_time_ms(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn encode_data_frame_shapes() {
        let body = ConditionAlertBody {
            gs_code: "005930".into(),
            gs_job_flag: "N".into(),
            ..ConditionAlertBody::default()
        };
        let text = encode_data_frame("AFR", Some("1722490200A"), &body);
        assert!(text.starts_with(
            r#"{"header":{"tr_cd":"AFR","tr_key":"1722490200A"},"body":{"gsCode":"005930","#
        ));
        let text = encode_data_frame("SC1", None, &OrderEventBody::default());
        assert!(
            text.starts_with(r#"{"header":{"tr_cd":"SC1"},"body":{"#),
            "{text}"
        );
    }
}
