//! Kiwoom's REST envelope (reference §3, §4.0, §6, §7): the headers (`api-id`, `cont-yn`,
//! `next-key`, `authorization`), the path of each TR, flat JSON bodies, the reply's
//! `return_code`/`return_msg` beside the TR's fields, paging by headers, and the
//! classification of a refusal — its outer class, the inner code inside `return_msg`
//! (`[8005:...]`, `[2000](855056:...)`, `[CODE=8005, ...]`) — into a clear message.
//!
//! Owns the shapes shared by every TR and what a refusal means. Must never know about
//! HTTP clients or servers (a status code is passed in when there is one), never reject a
//! reply for an extra field or field order, and never decide policy beyond naming what a
//! refusal allows ([`Retry`]); the caller retries, backs off or gives up.

use std::fmt;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::KiwoomError;
use crate::wire::{decode_tracked, to_json, WireError};

/// Request/reply header: the TR (`ka10001`, `kt10000`, …).
pub const HEADER_API_ID: &str = "api-id";
/// Request/reply header: `Y` when more data follows (reply) / this call continues (request).
pub const HEADER_CONT_YN: &str = "cont-yn";
/// Request/reply header: the continuation key (≤ 50 characters).
pub const HEADER_NEXT_KEY: &str = "next-key";
/// Request header: `Bearer <token>` (lower-case in the spec; HTTP is case-insensitive).
pub const HEADER_AUTHORIZATION: &str = "authorization";
pub const HEADER_CONTENT_TYPE: &str = "content-type";
/// Content type of every request and reply.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

pub const PATH_TOKEN: &str = "/oauth2/token";
pub const PATH_REVOKE: &str = "/oauth2/revoke";
pub const PATH_STKINFO: &str = "/api/dostk/stkinfo";
pub const PATH_MRKCOND: &str = "/api/dostk/mrkcond";
pub const PATH_CHART: &str = "/api/dostk/chart";
pub const PATH_ORDR: &str = "/api/dostk/ordr";
pub const PATH_CRDORDR: &str = "/api/dostk/crdordr";
pub const PATH_ACNT: &str = "/api/dostk/acnt";

/// `return_code` of success (also "no data", e.g. `"모의투자 해당조회내역이 없습니다."`).
pub const RC_OK: i64 = 0;
/// Websocket REG/REMOVE/CNSR* failure (spec: `0` ok, `1` error).
pub const RC_WS_ERROR: i64 = 1;
/// Input error (UNCONFIRMED: one third-party table; condor uses it for `1511`/`1517`).
pub const RC_INPUT: i64 = 2;
/// Authentication failure (`[8001]`, `[8005]`, `[8030]`, `[8031]` inside).
pub const RC_AUTH: i64 = 3;
/// Rate limit (HTTP 429, inner `1700`) — and, with HTTP 200, inner `1634`.
pub const RC_RATE_LIMIT: i64 = 5;
/// Service error (UNCONFIRMED: third-party captures), e.g. `[1903:종목 정보가 없습니다]`.
pub const RC_SERVICE: i64 = 7;
/// Order/business rejection: `return_msg` `"[2000](<code>:<text>)"`.
pub const RC_BUSINESS: i64 = 20;
/// Websocket LOGIN token failure (UNCONFIRMED: two third-party captures).
pub const RC_WS_LOGIN: i64 = 805_004;

/// Success text of most TRs.
pub const MSG_OK: &str = "정상적으로 처리되었습니다";
/// Wrapper of authentication failures: `인증에 실패했습니다[<code>:<text>]`.
pub const MSG_AUTH_FAILED: &str = "인증에 실패했습니다";
/// Wrapper of rate-limit refusals.
pub const MSG_RATE_LIMITED: &str = "허용된 요청 개수를 초과하였습니다";
/// Wrapper of service errors.
pub const MSG_SERVICE_ERROR: &str = "서비스를 처리하는 중에 오류가 발생했습니다";
/// `[8005:...]`'s text (measured on api.kiwoom.com).
pub const TEXT_TOKEN_INVALID: &str = "Token이 유효하지 않습니다";
/// `[8001:...]`'s text (captured).
pub const TEXT_BAD_KEYS: &str = "App Key와 Secret Key 검증에 실패했습니다";
/// `[8030:...]`'s text (error table).
pub const TEXT_KEY_WRONG_SERVER: &str = "투자구분(실전/모의)이 달라서 Appkey를 사용할수가 없습니다";
/// `[8031:...]`'s text: UNCONFIRMED, the error table's meaning in 8030's words.
pub const TEXT_TOKEN_WRONG_SERVER: &str =
    "투자구분(실전/모의)이 달라서 Token을 사용할수가 없습니다";

/// The functional path a TR is posted to (§4.0); `None` for one outside the map.
pub fn path_for_api_id(api_id: &str) -> Option<&'static str> {
    Some(match api_id {
        "au10001" => PATH_TOKEN,
        "au10002" => PATH_REVOKE,
        "ka10001" | "ka10099" | "ka10100" => PATH_STKINFO,
        "ka10004" => PATH_MRKCOND,
        "ka10079" | "ka10080" | "ka10081" => PATH_CHART,
        "kt10000" | "kt10001" | "kt10002" | "kt10003" => PATH_ORDR,
        "kt10006" | "kt10007" | "kt10008" | "kt10009" => PATH_CRDORDR,
        "ka00001" | "ka10075" | "ka10076" | "ka10170" | "kt00001" | "kt00004" | "kt00005"
        | "kt00007" | "kt00009" | "kt00018" => PATH_ACNT,
        _ => return None,
    })
}

/// `Bearer <token>`, the `authorization` header value.
pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// `return_msg` of an inner-coded refusal as Kiwoom writes it: `(MSG_AUTH_FAILED, 8005,
/// TEXT_TOKEN_INVALID)` → `"인증에 실패했습니다[8005:Token이 유효하지 않습니다]"`.
pub fn inner_message(wrapper: &str, code: u32, text: &str) -> String {
    format!("{wrapper}[{code}:{text}]")
}

/// `return_msg` of a business (order) rejection: `("855056", "매수증거금이 부족합니다.")` →
/// `"[2000](855056:매수증거금이 부족합니다.)"`.
pub fn business_message(code: &str, text: &str) -> String {
    format!("[2000]({code}:{text})")
}

// ---------------------------------------------------------------------------------------
// return_code

/// `return_code`: a JSON number on every reply seen; some clients and one fake send text
/// (`"0"`, `"3"`, `"1700"`), which is read too. Written as a number.
pub(crate) mod return_code {
    use super::*;

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(*v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(CodeVisitor)
    }

    /// Absent or `null` → `None`.
    pub fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        struct Opt;
        impl<'de> Visitor<'de> for Opt {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(EXPECT)
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
                deserialize(d).map(Some)
            }
        }
        d.deserialize_option(Opt)
    }

    const EXPECT: &str = "a whole number (JSON number or numeric text)";

    struct CodeVisitor;

    impl Visitor<'_> for CodeVisitor {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(EXPECT)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &EXPECT))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // Only a whole number an f64 holds exactly.
            if v.is_finite() && v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
                Ok(v as i64)
            } else {
                Err(E::invalid_value(de::Unexpected::Float(v), &EXPECT))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            crate::wire::num::parse_int(v)
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &EXPECT))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Continuation

/// The `cont-yn` / `next-key` header pair (§3.3). On a reply, `more` says another page
/// exists; on a request, that this call fetches it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Continuation {
    pub more: bool,
    pub key: String,
}

impl Continuation {
    /// A first call: no continuation.
    pub fn first() -> Continuation {
        Continuation::default()
    }

    /// Reads the headers (either side); absent means no continuation, anything but `Y`
    /// (any case, spaces trimmed) is `N`.
    pub fn from_headers(cont_yn: Option<&str>, next_key: Option<&str>) -> Continuation {
        Continuation {
            more: cont_yn.is_some_and(|v| v.trim().eq_ignore_ascii_case("Y")),
            key: next_key.unwrap_or("").trim().to_owned(),
        }
    }

    /// `Y` or `N`.
    pub fn cont_yn(&self) -> &'static str {
        if self.more {
            "Y"
        } else {
            "N"
        }
    }

    /// The headers a request carries: both on a continuation, none on a first call
    /// (Kiwoom's own client omits them; `[KC]`'s `N`/`""` is accepted by servers too).
    pub fn request_headers(&self) -> Vec<(&'static str, &str)> {
        if self.more {
            vec![(HEADER_CONT_YN, "Y"), (HEADER_NEXT_KEY, self.key.as_str())]
        } else {
            Vec::new()
        }
    }

    /// The headers every reply carries (the simulator's side): `api-id`, `cont-yn`
    /// (`N` when no more) and `next-key` (empty when no more), always all three.
    pub fn reply_headers<'a>(&'a self, api_id: &'a str) -> [(&'static str, &'a str); 3] {
        [
            (HEADER_API_ID, api_id),
            (HEADER_CONT_YN, self.cont_yn()),
            (
                HEADER_NEXT_KEY,
                if self.more { self.key.as_str() } else { "" },
            ),
        ]
    }
}

/// Why paging stopped before the server said "no more".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagingError {
    #[error("{api_id}: more than {max} pages; stopped (cont-yn still Y, next-key {key:?})")]
    TooManyPages {
        api_id: String,
        max: u32,
        key: String,
    },
    #[error("{api_id}: the server sent next-key {key:?} twice; stopped rather than loop")]
    RepeatedKey { api_id: String, key: String },
    #[error("{api_id}: cont-yn Y with an empty next-key; stopped rather than refetch page 1")]
    EmptyKey { api_id: String },
}

/// Walks a TR's pages (§3.3): give it each reply's headers, it says what the next request
/// carries, or that the walk is over. Pure; guards a caller against a server that never
/// says `N` (a page cap, a repeated or empty key).
#[derive(Clone, Debug)]
pub struct Paging {
    api_id: String,
    max_pages: u32,
    pages: u32,
    seen: Vec<String>,
}

impl Paging {
    /// At most `max_pages` replies (≥ 1).
    pub fn new(api_id: &str, max_pages: u32) -> Paging {
        Paging {
            api_id: api_id.to_owned(),
            max_pages: max_pages.max(1),
            pages: 0,
            seen: Vec::new(),
        }
    }

    /// Replies taken so far.
    pub fn pages(&self) -> u32 {
        self.pages
    }

    /// Takes one reply's continuation: `Ok(Some(c))` to request the next page with `c`'s
    /// [`Continuation::request_headers`], `Ok(None)` when done.
    pub fn next(&mut self, reply: &Continuation) -> Result<Option<Continuation>, PagingError> {
        self.pages += 1;
        if !reply.more {
            return Ok(None);
        }
        if reply.key.is_empty() {
            return Err(PagingError::EmptyKey {
                api_id: self.api_id.clone(),
            });
        }
        if self.seen.contains(&reply.key) {
            return Err(PagingError::RepeatedKey {
                api_id: self.api_id.clone(),
                key: reply.key.clone(),
            });
        }
        if self.pages >= self.max_pages {
            return Err(PagingError::TooManyPages {
                api_id: self.api_id.clone(),
                max: self.max_pages,
                key: reply.key.clone(),
            });
        }
        self.seen.push(reply.key.clone());
        Ok(Some(reply.clone()))
    }
}

// ---------------------------------------------------------------------------------------
// Tr, requests and replies

/// One REST TR: its `api-id`, path and body types. Implemented by a unit marker per TR
/// (`order::Kt10000`, `account::Kt00018`, …). Replies' fields all default, so a refusal
/// (which carries only `return_code`/`return_msg`) decodes as the same type.
pub trait Tr {
    /// The `api-id` header.
    const API_ID: &'static str;
    /// The path (agrees with [`path_for_api_id`]).
    const PATH: &'static str;
    type Req: Serialize + DeserializeOwned;
    type Resp: Serialize + DeserializeOwned;
}

/// A decoded reply: the TR's fields and the verdict. Serializes flat, as Kiwoom sends it:
/// `{<fields>…, "return_code": 0, "return_msg": "…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reply<B> {
    #[serde(flatten)]
    pub body: B,
    #[serde(with = "return_code")]
    pub return_code: i64,
    pub return_msg: String,
}

impl<B> Reply<B> {
    /// A success reply with Kiwoom's usual message.
    pub fn ok(body: B) -> Reply<B> {
        Reply {
            body,
            return_code: RC_OK,
            return_msg: MSG_OK.to_owned(),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.return_code == RC_OK
    }

    /// The refusal, if the reply is one.
    pub fn refusal(&self) -> Option<Refusal> {
        (!self.is_ok()).then(|| Refusal::new(self.return_code, &self.return_msg))
    }

    /// The body when the reply is a success, else the refusal.
    pub fn into_result(self) -> Result<B, Refusal> {
        match self.refusal() {
            None => Ok(self.body),
            Some(r) => Err(r),
        }
    }
}

impl<B: Serialize> Reply<B> {
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// A refusal reply body with no TR fields (the simulator's side):
/// `{"return_code":3,"return_msg":"인증에 실패했습니다[8005:Token이 유효하지 않습니다]"}`.
pub fn encode_refusal(return_code: i64, return_msg: &str) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(with = "return_code")]
        return_code: i64,
        return_msg: &'a str,
    }
    to_json(&Body {
        return_code,
        return_msg,
    })
}

/// The request body (flat JSON, every value a string).
pub fn encode_request<T: Tr>(req: &T::Req) -> String {
    to_json(req)
}

/// Decodes a request body (the simulator's side), naming the TR and the field.
pub fn decode_request<T: Tr>(body: &str) -> Result<T::Req, WireError> {
    let what = format!("{} request", T::API_ID);
    super::require_object(&what, body)?;
    decode_tracked(&what, body)
}

/// A reply body (the simulator's side).
pub fn encode_reply<T: Tr>(reply: &Reply<T::Resp>) -> String {
    reply.to_json()
}

/// Decodes a reply body of TR `T`. `return_code` is required; the TR's fields that are
/// present must be well formed (errors name the TR and the field path).
pub fn decode_reply<T: Tr>(body: &str) -> Result<Reply<T::Resp>, WireError> {
    decode_reply_as(T::API_ID, body)
}

/// [`decode_reply`] for any body type, naming `api_id` in errors.
pub fn decode_reply_as<B: DeserializeOwned>(
    api_id: &str,
    body: &str,
) -> Result<Reply<B>, WireError> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(with = "return_code")]
        return_code: i64,
        #[serde(default, with = "crate::wire::num::text")]
        return_msg: String,
    }
    let what = format!("{api_id} reply");
    super::require_object(&what, body)?;
    // Two passes over a small body so each error keeps its field path (a flattened single
    // pass would lose it) and the TR's type need not know about return_code.
    let head: Head = decode_tracked(&what, body)?;
    let body: B = decode_tracked(&what, body)?;
    Ok(Reply {
        body,
        return_code: head.return_code,
        return_msg: head.return_msg,
    })
}

/// A reply as a client takes it: the HTTP status (429 is a rate limit whatever the body
/// says; another non-2xx status with a body that is not a Kiwoom reply is a refusal by
/// status alone) and the body, to the TR's fields on success or why not.
pub fn check_reply<T: Tr>(http_status: u16, body: &str) -> Result<T::Resp, KiwoomError> {
    match decode_reply::<T>(body) {
        Ok(reply) if reply.is_ok() && (200..300).contains(&http_status) => Ok(reply.body),
        Ok(reply) => Err(Refusal::new(reply.return_code, &reply.return_msg)
            .with_http_status(http_status)
            .into()),
        Err(_) if !(200..300).contains(&http_status) => {
            Err(Refusal::http(http_status, body).into())
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------
// Refusals

/// The outer class of a refusal: `return_code` (§6.1), or for a code outside the table,
/// the class its inner code belongs to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ErrorClass {
    /// `2`: a missing or invalid input (UNCONFIRMED class number).
    Input,
    /// `3`: authentication.
    Auth,
    /// `5` (HTTP 429): too many requests.
    RateLimit,
    /// `7`: the service failed (UNCONFIRMED class number).
    Service,
    /// `20`: an order or business rule refused the request.
    Business,
    /// `1` on the websocket: REG/REMOVE/CNSR* refused.
    WsRequest,
    /// `805004` on the websocket: LOGIN refused (UNCONFIRMED number).
    WsLogin,
    /// Anything else non-zero.
    Other,
}

impl ErrorClass {
    /// The class of an outer `return_code` alone; `None` outside §6.1's table.
    pub fn of_return_code(code: i64) -> Option<ErrorClass> {
        Some(match code {
            RC_WS_ERROR => ErrorClass::WsRequest,
            RC_INPUT => ErrorClass::Input,
            RC_AUTH => ErrorClass::Auth,
            RC_RATE_LIMIT => ErrorClass::RateLimit,
            RC_SERVICE => ErrorClass::Service,
            RC_BUSINESS => ErrorClass::Business,
            RC_WS_LOGIN => ErrorClass::WsLogin,
            _ => return None,
        })
    }

    /// The class an inner code belongs to (§6.2's grouping).
    pub fn of_inner(code: u32) -> ErrorClass {
        match code {
            1700 | 1634 => ErrorClass::RateLimit,
            1500..=1599 | 1687 => ErrorClass::Input,
            1900..=1999 => ErrorClass::Service,
            2000 => ErrorClass::Business,
            8000..=8999 => ErrorClass::Auth,
            _ => ErrorClass::Other,
        }
    }

    /// A short label for messages.
    pub fn label(self) -> &'static str {
        match self {
            ErrorClass::Input => "input error",
            ErrorClass::Auth => "authentication failed",
            ErrorClass::RateLimit => "rate limited",
            ErrorClass::Service => "service error",
            ErrorClass::Business => "refused the order (business rule)",
            ErrorClass::WsRequest => "websocket request refused",
            ErrorClass::WsLogin => "websocket login refused",
            ErrorClass::Other => "refused",
        }
    }
}

/// What a refusal allows the caller to do.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Retry {
    /// Issue a new token (au10001) and resend: the token expired, was revoked or replaced
    /// (`8005`; HTTP 401). Only 8005: a fresh token on the wrong server (8031) or from an
    /// unregistered IP (8010) fails again.
    NewToken,
    /// Wait and resend: the call was not executed (HTTP 429 / `1700`), so resending an
    /// order cannot fill twice.
    Backoff,
    /// Resending the same request will not help.
    No,
}

/// The English meaning of each inner code of §6.2 (the list is UNCONFIRMED complete),
/// plus `1634` (§6.1), `1903` (captured) and `105110` (condition search, UNCONFIRMED).
pub fn inner_code_meaning(code: u32) -> Option<&'static str> {
    Some(match code {
        1501 => "the api-id header is missing",
        1504 => "this api-id is not served at this URL path",
        1505 => "unknown api-id",
        1511 => "a required input is missing",
        1512 => "an HTTP header could not be read",
        1513 => "the authorization header is missing",
        1514 => "the authorization header is malformed",
        1515 => "the authorization header has the wrong grant type",
        1516 => "the authorization header carries no token",
        1517 => "an input has an invalid format",
        1634 => "too many codes in one request (not retryable)",
        1687 => "recursive call blocked",
        1700 => "request rate exceeded; the request was not executed",
        1901 => "unknown market code",
        1902 => "unknown stock code",
        1903 => "no information for this stock",
        1999 => "unexpected error at Kiwoom",
        2000 => "business rule refusal",
        8001 | 8002 => "app key and secret key failed verification",
        8003 => "token lookup failed",
        8005 => "the token is not valid (expired, revoked, or replaced by a newer issue)",
        8006 => "token creation failed",
        8009 => "token issue failed",
        8010 => "the token was used from a different IP than it was issued to (register the IP in Kiwoom's portal)",
        8011 => "grant_type is missing",
        8012 => "grant_type is wrong (must be client_credentials)",
        8015 => "token revoke failed",
        8016 => "no token given to revoke",
        8020 => "appkey or secretkey is missing",
        8030 => "real/paper mismatch: this app key belongs to the other server (paper keys work only on mockapi.kiwoom.com, real keys only on api.kiwoom.com)",
        8031 => "real/paper mismatch: this token cannot be used on this server (issued by the other one, or paper trading not applied for) — a new token here fails the same way: check the host and key pair",
        8040 => "device authentication failed",
        8050 => "designated-device authentication failed",
        8103 => "token or device authentication failed",
        105_110 => "too many condition-search requests",
        _ => return None,
    })
}

/// Where the inner code sat in `return_msg`.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    /// The bracketed code: `8005`, `1700`, `2000`.
    code: u32,
    /// `[2000](<code>:…)`'s code: `855056`, `RC4058` (not stable across real/paper).
    business_code: Option<String>,
    /// The text after the code.
    text: String,
}

/// Finds the inner code in a `return_msg`: `…[2000](855056:text)`, `…[8005:text]`, or the
/// websocket's `[CODE=8005, MESSAGE=text]`.
fn parse_inner(msg: &str) -> Option<Inner> {
    let mut rest = msg;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        if let Some(inner) = parse_bracket(after) {
            return Some(inner);
        }
        rest = after;
    }
    None
}

fn parse_bracket(after: &str) -> Option<Inner> {
    // [CODE=8005, MESSAGE=...]
    if let Some(tail) = after.strip_prefix("CODE=") {
        let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
        let code = digits.parse().ok()?;
        let text = tail
            .split_once("MESSAGE=")
            .map(|(_, t)| t.split(']').next().unwrap_or("").trim().to_owned())
            .unwrap_or_default();
        return Some(Inner {
            code,
            business_code: None,
            text,
        });
    }
    let digits_len = after.bytes().take_while(u8::is_ascii_digit).count();
    if digits_len == 0 {
        return None;
    }
    let code: u32 = after[..digits_len].parse().ok()?;
    let tail = &after[digits_len..];
    // [2000](855056:text)
    if let Some(paren) = tail.strip_prefix("](") {
        let (biz, text) = paren.split_once(':')?;
        let biz = biz.trim();
        if biz.is_empty() || !biz.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        // The text ends at the last `)` (it may hold parentheses of its own).
        let text = text.rfind(')').map_or(text, |end| &text[..end]);
        return Some(Inner {
            code,
            business_code: Some(biz.to_owned()),
            text: text.trim().to_owned(),
        });
    }
    // [8005:text]
    let text = tail.strip_prefix(':')?;
    let text = text.split(']').next().unwrap_or("");
    Some(Inner {
        code,
        business_code: None,
        text: text.trim().to_owned(),
    })
}

/// A well-formed "no" from Kiwoom: a non-zero `return_code` (REST or websocket), or an
/// HTTP status that says so. Classified on construction; its `Display` is the clear
/// message (class, code, meaning and Kiwoom's own words).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub return_code: i64,
    pub return_msg: String,
    /// The HTTP status, when the refusal came over REST and it was known.
    pub http_status: Option<u16>,
    inner: Option<Inner>,
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// Classifies `return_code` and `return_msg`.
    pub fn new(return_code: i64, return_msg: &str) -> Refusal {
        let mut inner = parse_inner(return_msg);
        // [OFF] expects the inner code as the outer one (8005, 8031, 8103); read it so.
        if inner.is_none() && ErrorClass::of_return_code(return_code).is_none() {
            if let Ok(code @ 1000..=9999) = u32::try_from(return_code) {
                inner = Some(Inner {
                    code,
                    business_code: None,
                    text: return_msg.trim().to_owned(),
                });
            }
        }
        Refusal {
            return_code,
            return_msg: return_msg.to_owned(),
            http_status: None,
            inner,
        }
    }

    /// A refusal known only by its HTTP status (a 401, 429 or 5xx without a Kiwoom body).
    /// The outer code is the class the status implies (429 → 5, 401/403 → 3, else -1).
    pub fn http(status: u16, body: &str) -> Refusal {
        let return_code = match status {
            429 => RC_RATE_LIMIT,
            401 | 403 => RC_AUTH,
            _ => -1,
        };
        let snippet: String = body.chars().take(200).collect();
        let mut r = Refusal::new(return_code, &format!("HTTP {status}: {snippet}"));
        r.http_status = Some(status);
        r
    }

    pub fn with_http_status(mut self, status: u16) -> Refusal {
        self.http_status = Some(status);
        self
    }

    /// The class: by `return_code` (§6.1), HTTP 429 always a rate limit, otherwise by the
    /// inner code.
    pub fn class(&self) -> ErrorClass {
        if self.http_status == Some(429) {
            return ErrorClass::RateLimit;
        }
        // Text return codes like "1700" are read as numbers; the inner code decides then.
        ErrorClass::of_return_code(self.return_code)
            .or_else(|| self.inner.as_ref().map(|i| ErrorClass::of_inner(i.code)))
            .unwrap_or(ErrorClass::Other)
    }

    /// The bracketed inner code (`8005`, `1700`, `2000`), if `return_msg` carries one.
    pub fn inner_code(&self) -> Option<u32> {
        self.inner.as_ref().map(|i| i.code)
    }

    /// A business rejection's own code (`855056`, `RC4058`): what an order refusal
    /// keeps as its reject code.
    pub fn business_code(&self) -> Option<&str> {
        self.inner.as_ref()?.business_code.as_deref()
    }

    /// The most specific code there is, as text: the business code, else the inner code,
    /// else the outer `return_code`.
    pub fn code(&self) -> String {
        match (&self.inner, self.business_code()) {
            (_, Some(b)) => b.to_owned(),
            (Some(i), None) => i.code.to_string(),
            (None, None) => self.return_code.to_string(),
        }
    }

    /// Kiwoom's text for the inner code (after `NNNN:`), or the whole `return_msg`.
    pub fn kiwoom_text(&self) -> &str {
        match &self.inner {
            Some(i) if !i.text.is_empty() => &i.text,
            _ => self.return_msg.trim(),
        }
    }

    /// The English meaning, when the code is one §6 lists.
    pub fn meaning(&self) -> Option<&'static str> {
        if self.business_code() == Some("RC9000") {
            return Some("the paper server does not offer this function");
        }
        if self.business_code().is_some() {
            // The business code is Kiwoom's own; its text is the meaning.
            return None;
        }
        self.inner_code().and_then(inner_code_meaning)
    }

    /// 8030 or 8031: a real key or token on the paper server, or the other way round.
    pub fn is_server_mismatch(&self) -> bool {
        matches!(self.inner_code(), Some(8030 | 8031))
    }

    /// An order (or other business) rule refused the request; [`Refusal::code`] keeps
    /// Kiwoom's code.
    pub fn is_business(&self) -> bool {
        self.class() == ErrorClass::Business
    }

    pub fn is_rate_limited(&self) -> bool {
        self.retry() == Retry::Backoff
    }

    /// What the caller may do about it (§2.3, §6, §7).
    pub fn retry(&self) -> Retry {
        match (self.inner_code(), self.http_status) {
            (Some(8005), _) => Retry::NewToken,
            (None, Some(401)) => Retry::NewToken,
            (Some(1634), _) => Retry::No,
            (_, Some(429)) | (Some(1700), _) => Retry::Backoff,
            _ => Retry::No,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kiwoom {} [{}]", self.class().label(), self.code())?;
        if let Some(m) = self.meaning() {
            write!(f, ": {m}")?;
        }
        write!(f, " (return_code {}", self.return_code)?;
        if let Some(s) = self.http_status {
            write!(f, ", HTTP {s}")?;
        }
        write!(f, "): {:?}", self.return_msg.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
    struct Req {
        stk_cd: String,
    }

    #[derive(Serialize, Deserialize, Debug, Default, Clone, PartialEq)]
    #[serde(default)]
    struct Resp {
        ord_no: String,
    }

    struct Tx;
    impl Tr for Tx {
        const API_ID: &'static str = "kt10000";
        const PATH: &'static str = PATH_ORDR;
        type Req = Req;
        type Resp = Resp;
    }

    #[test]
    fn paths_cover_the_reference_map() {
        for (id, path) in [
            ("au10001", PATH_TOKEN),
            ("au10002", PATH_REVOKE),
            ("ka10001", PATH_STKINFO),
            ("ka10099", PATH_STKINFO),
            ("ka10100", PATH_STKINFO),
            ("ka10004", PATH_MRKCOND),
            ("ka10081", PATH_CHART),
            ("kt10000", PATH_ORDR),
            ("kt10003", PATH_ORDR),
            ("kt10008", PATH_CRDORDR),
            ("ka00001", PATH_ACNT),
            ("ka10075", PATH_ACNT),
            ("ka10076", PATH_ACNT),
            ("kt00001", PATH_ACNT),
            ("kt00007", PATH_ACNT),
            ("kt00018", PATH_ACNT),
        ] {
            assert_eq!(path_for_api_id(id), Some(path), "{id}");
        }
        assert_eq!(path_for_api_id("KA10001"), None);
        assert_eq!(path_for_api_id("t1102"), None);
        assert_eq!(bearer("abc"), "Bearer abc");
    }

    #[test]
    fn replies_decode_in_any_order_with_extras() {
        let r = decode_reply::<Tx>(
            r#"{"return_msg":"매도주문이 완료되었습니다.","x":{"y":[1]},"ord_no":"0000138","return_code":0}"#,
        )
        .unwrap();
        assert!(r.is_ok());
        assert_eq!(r.body.ord_no, "0000138");
        let text = r.to_json();
        assert_eq!(
            text,
            r#"{"ord_no":"0000138","return_code":0,"return_msg":"매도주문이 완료되었습니다."}"#
        );
        assert_eq!(decode_reply::<Tx>(&text).unwrap(), r);
        // Text return codes read as numbers.
        let r = decode_reply::<Tx>(r#"{"return_code":"0","return_msg":""}"#).unwrap();
        assert!(r.is_ok() && r.body == Resp::default());
        let r = decode_reply::<Tx>(r#"{"return_code":" 3 ","return_msg":"x"}"#).unwrap();
        assert_eq!(r.return_code, 3);
    }

    #[test]
    fn bad_replies_name_the_field() {
        let e = decode_reply::<Tx>(r#"{"ord_no":"1"}"#).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("kt10000 reply") && msg.contains("return_code"),
            "{msg}"
        );
        let e = decode_reply::<Tx>(r#"{"return_code":"E1","return_msg":""}"#).unwrap_err();
        assert!(e.to_string().contains("return_code"), "{e}");
        let e = decode_reply::<Tx>(r#"{"return_code":0.5}"#).unwrap_err();
        assert!(e.to_string().contains("return_code"), "{e}");
        let e = decode_reply::<Tx>(r#"{"return_code":0,"ord_no":{}}"#).unwrap_err();
        assert!(e.to_string().contains("ord_no"), "{e}");
        let e = decode_reply::<Tx>(r#"{"return_code":0"#).unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        // An array is not read by position.
        let e = decode_reply::<Tx>(r#"[0, "ok", "0000138"]"#).unwrap_err();
        assert!(e.to_string().contains("expected a JSON object"), "{e}");
        let e = decode_request::<Tx>(r#" ["005930"]"#).unwrap_err();
        assert!(e.to_string().contains("expected a JSON object"), "{e}");
        let e = decode_reply::<Tx>("[0,").unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        let e = decode_request::<Tx>(r#"{"stk_cd":5}"#).unwrap_err();
        assert!(e.to_string().contains("kt10000 request") && e.to_string().contains("stk_cd"));
    }

    /// Every outer class of §6.1 maps to a message naming its class and code.
    #[test]
    fn every_error_class_maps_to_a_message() {
        let cases: &[(i64, &str, ErrorClass, &str, &str)] = &[
            (
                2,
                "[1511:필수입력 값에 값이 존재하지 않습니다. stk_cd]",
                ErrorClass::Input,
                "1511",
                "a required input is missing",
            ),
            (
                3,
                "인증에 실패했습니다[8005:Token이 유효하지 않습니다]",
                ErrorClass::Auth,
                "8005",
                "the token is not valid",
            ),
            (
                5,
                "허용된 요청 개수를 초과하였습니다[1700:허용된 요청 개수를 초과하였습니다. API ID=ka10081]",
                ErrorClass::RateLimit,
                "1700",
                "request rate exceeded",
            ),
            (
                7,
                "서비스를 처리하는 중에 오류가 발생했습니다[1903:종목 정보가 없습니다...]",
                ErrorClass::Service,
                "1903",
                "no information",
            ),
            (
                20,
                "[2000](855056:매수증거금이 부족합니다. 2주 매수가능)",
                ErrorClass::Business,
                "855056",
                "매수증거금이 부족합니다. 2주 매수가능",
            ),
            (
                1,
                "등록 종목수 초과",
                ErrorClass::WsRequest,
                "1",
                "등록 종목수 초과",
            ),
            (
                805_004,
                "토큰 인증에 실패했습니다. 접속을 종료합니다 [CODE=8005, MESSAGE=Token이 유효하지 않습니다]",
                ErrorClass::WsLogin,
                "8005",
                "the token is not valid",
            ),
            (99, "뭔가 잘못되었습니다", ErrorClass::Other, "99", "뭔가"),
        ];
        let mut seen = std::collections::HashSet::new();
        for &(rc, msg, class, code, words) in cases {
            let r = Refusal::new(rc, msg);
            assert_eq!(r.class(), class, "{msg}");
            assert_eq!(r.code(), code, "{msg}");
            let text = r.to_string();
            assert!(
                text.contains(class.label())
                    && text.contains(&format!("[{code}]"))
                    && text.contains(words),
                "{text}"
            );
            assert!(seen.insert(class.label()), "labels are distinct");
        }
    }

    /// Every inner code of §6.2 has a meaning, and a refusal carrying it says so.
    #[test]
    fn every_inner_code_maps_to_a_message() {
        let codes = [
            1501, 1504, 1505, 1511, 1512, 1513, 1514, 1515, 1516, 1517, 1634, 1687, 1700, 1901,
            1902, 1903, 1999, 8001, 8002, 8003, 8005, 8006, 8009, 8010, 8011, 8012, 8015, 8016,
            8020, 8030, 8031, 8040, 8050, 8103, 105_110,
        ];
        for code in codes {
            let meaning = inner_code_meaning(code).unwrap_or_else(|| panic!("{code}"));
            let r = Refusal::new(3, &format!("인증에 실패했습니다[{code}:무엇]"));
            assert_eq!(r.inner_code(), Some(code));
            let text = r.to_string();
            assert!(
                text.contains(meaning)
                    && text.contains(&format!("[{code}]"))
                    && text.contains("무엇"),
                "{text}"
            );
        }
        assert_eq!(inner_code_meaning(1234), None);
        assert_eq!(ErrorClass::of_inner(1501), ErrorClass::Input);
        assert_eq!(ErrorClass::of_inner(8010), ErrorClass::Auth);
        assert_eq!(ErrorClass::of_inner(1902), ErrorClass::Service);
        assert_eq!(ErrorClass::of_inner(1700), ErrorClass::RateLimit);
        assert_eq!(ErrorClass::of_inner(42), ErrorClass::Other);
    }

    /// The real/paper mismatch is named for what it is, and a new token is not offered as
    /// the cure.
    #[test]
    fn the_8030_8031_mismatch_is_named() {
        // UNCONFIRMED wording: the 8030 line combines the captured 8001 wrapper with the
        // error table's text (§2.1).
        let r = Refusal::new(
            3,
            &inner_message(MSG_AUTH_FAILED, 8030, TEXT_KEY_WRONG_SERVER),
        );
        assert!(r.is_server_mismatch());
        assert_eq!(r.retry(), Retry::No);
        let text = r.to_string();
        assert!(
            text.contains("real/paper mismatch")
                && text.contains("mockapi.kiwoom.com")
                && text.contains("api.kiwoom.com")
                && text.contains("[8030]"),
            "{text}"
        );
        let r = Refusal::new(3, "인증에 실패했습니다[8031:모의투자 미신청]");
        assert!(r.is_server_mismatch() && r.retry() == Retry::No);
        let text = r.to_string();
        assert!(
            text.contains("real/paper mismatch") && text.contains("[8031]"),
            "{text}"
        );
        // [OFF]'s form: the inner code as the outer one.
        let r = Refusal::new(8031, "모의투자 미신청");
        assert!(r.is_server_mismatch(), "{r}");
        assert_eq!(r.class(), ErrorClass::Auth);
        assert!(!Refusal::new(3, "인증에 실패했습니다[8005:x]").is_server_mismatch());
    }

    #[test]
    fn order_refusals_keep_kiwoom_codes() {
        for (msg, code, text) in [
            (
                "[2000](855056:매수증거금이 부족합니다. 2주 매수가능)",
                "855056",
                "매수증거금이 부족합니다. 2주 매수가능",
            ),
            (
                "[2000](RC4058:모의투자 장종료)",
                "RC4058",
                "모의투자 장종료",
            ),
            (
                "[2000](571489:장이 열리지 않는 날입니다.)",
                "571489",
                "장이 열리지 않는 날입니다.",
            ),
            (
                "[2000](521790:주문 불가능합니다.)",
                "521790",
                "주문 불가능합니다.",
            ),
            (
                "[2000](571412:SOR정정 및 취소주문은 원주문이 SOR주문인 경우 가능합니다.)",
                "571412",
                "SOR정정 및 취소주문은 원주문이 SOR주문인 경우 가능합니다.",
            ),
        ] {
            let r = Refusal::new(20, msg);
            assert!(r.is_business());
            assert_eq!(r.business_code(), Some(code));
            assert_eq!(r.code(), code);
            assert_eq!(r.kiwoom_text(), text);
            assert_eq!(r.inner_code(), Some(2000));
            assert_eq!(r.retry(), Retry::No);
            assert_eq!(business_message(code, text), msg);
        }
        let r = Refusal::new(
            20,
            "[2000](RC9000:모의투자에서는 해당업무가 제공되지 않습니다.)",
        );
        assert!(r.to_string().contains("paper server does not offer"), "{r}");
    }

    /// §6.1's and §1's refusal bodies, whole: each round-trips and is classified.
    #[test]
    fn refusal_samples_round_trip() {
        let cases: &[(&str, ErrorClass, &str, Retry)] = &[
            (
                r#"{"return_code": 5, "return_msg": "허용된 요청 개수를 초과하였습니다[1700:허용된 요청 개수를 초과하였습니다. API ID=ka10081]"}"#,
                ErrorClass::RateLimit,
                "1700",
                Retry::Backoff,
            ),
            (
                r#"{"return_code": 5, "return_msg": "허용된 요청 개수를 초과하였습니다[1634:허용된 요청 개수를 초과하였습니다]"}"#,
                ErrorClass::RateLimit,
                "1634",
                Retry::No,
            ),
            (
                r#"{"return_code": 7, "return_msg": "서비스를 처리하는 중에 오류가 발생했습니다[1903:종목 정보가 없습니다...]"}"#,
                ErrorClass::Service,
                "1903",
                Retry::No,
            ),
            (
                r#"{"return_code": 20, "return_msg": "[2000](RC9000:모의투자에서는 해당업무가 제공되지 않습니다.)"}"#,
                ErrorClass::Business,
                "RC9000",
                Retry::No,
            ),
            (
                r#"{"return_code": 3, "return_msg": "인증에 실패했습니다[8005:Token이 유효하지 않습니다]"}"#,
                ErrorClass::Auth,
                "8005",
                Retry::NewToken,
            ),
            (
                r#"{"return_code": 0, "return_msg": "모의투자 해당조회내역이 없습니다."}"#,
                ErrorClass::Other,
                "",
                Retry::No,
            ),
        ];
        for &(sample, class, code, retry) in cases {
            let r = decode_reply::<Tx>(sample).unwrap();
            let text = r.to_json();
            crate::kiwoom::testing::assert_covers(&text, sample);
            assert_eq!(decode_reply::<Tx>(&text).unwrap(), r);
            match r.refusal() {
                None => assert!(code.is_empty() && r.is_ok(), "{sample}"),
                Some(refusal) => {
                    assert_eq!(
                        (refusal.class(), refusal.code(), refusal.retry()),
                        (class, code.to_owned(), retry)
                    );
                }
            }
        }
    }

    #[test]
    fn retry_advice_follows_the_reference() {
        assert_eq!(
            Refusal::new(3, "인증에 실패했습니다[8005:x]").retry(),
            Retry::NewToken
        );
        assert_eq!(Refusal::new(8005, "x").retry(), Retry::NewToken);
        assert_eq!(Refusal::new(3, "[8103:x]").retry(), Retry::No);
        assert_eq!(Refusal::new(3, "[8010:x]").retry(), Retry::No);
        let r = Refusal::new(5, "허용된 요청 개수를 초과하였습니다[1700:x]").with_http_status(429);
        assert_eq!(r.retry(), Retry::Backoff);
        assert!(r.is_rate_limited());
        assert!(r.to_string().contains("HTTP 429"));
        // Same words, inner 1634, HTTP 200: not retryable.
        let r = Refusal::new(5, "허용된 요청 개수를 초과하였습니다[1634:x]").with_http_status(200);
        assert_eq!((r.class(), r.retry()), (ErrorClass::RateLimit, Retry::No));
        // Text outer code "1700", as some clients saw it.
        let r = Refusal::new(1700, "허용된 요청 개수를 초과하였습니다");
        assert_eq!(
            (r.class(), r.retry()),
            (ErrorClass::RateLimit, Retry::Backoff)
        );
        assert_eq!(Refusal::http(401, "").retry(), Retry::NewToken);
        assert_eq!(Refusal::http(429, "busy").class(), ErrorClass::RateLimit);
        assert_eq!(Refusal::http(500, "<html>").class(), ErrorClass::Other);
    }

    #[test]
    fn check_reply_takes_the_status_into_account() {
        assert_eq!(
            check_reply::<Tx>(
                200,
                r#"{"ord_no":"0000138","return_code":0,"return_msg":""}"#
            )
            .unwrap()
            .ord_no,
            "0000138"
        );
        let e = check_reply::<Tx>(
            200,
            r#"{"return_code":20,"return_msg":"[2000](RC4058:모의투자 장종료)"}"#,
        )
        .unwrap_err();
        assert!(
            matches!(&e, KiwoomError::Refused(r) if r.code() == "RC4058"),
            "{e:?}"
        );
        let e = check_reply::<Tx>(429, r#"{"return_code":5,"return_msg":"[1700:x]"}"#).unwrap_err();
        assert!(
            matches!(&e, KiwoomError::Refused(r) if r.retry() == Retry::Backoff),
            "{e:?}"
        );
        let e = check_reply::<Tx>(429, "Too Many Requests").unwrap_err();
        assert!(
            matches!(&e, KiwoomError::Refused(r) if r.is_rate_limited()),
            "{e:?}"
        );
        let e = check_reply::<Tx>(502, "<html>bad gateway</html>").unwrap_err();
        assert!(e.to_string().contains("HTTP 502"), "{e}");
        let e = check_reply::<Tx>(200, "<html>").unwrap_err();
        assert!(
            matches!(e, KiwoomError::Wire(WireError::NotJson { .. })),
            "{e:?}"
        );
        // A 200 status with return_code 0 is the only success.
        let e = check_reply::<Tx>(500, r#"{"return_code":0,"return_msg":""}"#).unwrap_err();
        assert!(matches!(e, KiwoomError::Refused(_)), "{e:?}");
    }

    #[test]
    fn refusal_bodies_round_trip() {
        let text = encode_refusal(3, &inner_message(MSG_AUTH_FAILED, 8005, TEXT_TOKEN_INVALID));
        assert_eq!(
            text,
            r#"{"return_code":3,"return_msg":"인증에 실패했습니다[8005:Token이 유효하지 않습니다]"}"#
        );
        let r = decode_reply::<Tx>(&text).unwrap();
        let refusal = r.clone().into_result().unwrap_err();
        assert_eq!(refusal.inner_code(), Some(8005));
        assert_eq!(
            r.to_json(),
            r#"{"ord_no":"","return_code":3,"return_msg":"인증에 실패했습니다[8005:Token이 유효하지 않습니다]"}"#
        );
    }

    #[test]
    fn inner_codes_are_found_wherever_kiwoom_puts_them() {
        let r = Refusal::new(
            3,
            "x [not a code] y [8001:App Key와 Secret Key 검증에 실패했습니다]",
        );
        assert_eq!(r.inner_code(), Some(8001));
        assert_eq!(r.kiwoom_text(), TEXT_BAD_KEYS);
        let r = Refusal::new(
            20,
            "[2000](RC9000:모의투자에서는 해당업무가 제공되지 않습니다.)",
        );
        assert_eq!(r.business_code(), Some("RC9000"));
        for odd in [
            "[",
            "[]",
            "[2000](",
            "[2000](:x)",
            "[CODE=]",
            "[12",
            "[12:",
            "]][",
        ] {
            let r = Refusal::new(3, odd);
            let _ = (r.to_string(), r.code(), r.kiwoom_text());
        }
        assert_eq!(Refusal::new(3, "[12:").inner_code(), Some(12));
    }

    #[test]
    fn continuation_headers_and_paging() {
        let c = Continuation::from_headers(Some("Y"), Some("KEY1"));
        assert!(c.more);
        assert_eq!(
            c.request_headers(),
            vec![("cont-yn", "Y"), ("next-key", "KEY1")]
        );
        assert_eq!(
            c.reply_headers("ka10075"),
            [
                ("api-id", "ka10075"),
                ("cont-yn", "Y"),
                ("next-key", "KEY1")
            ]
        );
        let first = Continuation::first();
        assert!(first.request_headers().is_empty());
        assert_eq!(
            first.reply_headers("kt00018"),
            [("api-id", "kt00018"), ("cont-yn", "N"), ("next-key", "")]
        );
        assert_eq!(Continuation::from_headers(Some(" y "), None).cont_yn(), "Y");
        assert!(!Continuation::from_headers(Some("N"), Some("k")).more);
        assert!(!Continuation::from_headers(None, None).more);

        let mut p = Paging::new("ka10075", 3);
        let page = |k: &str| Continuation::from_headers(Some("Y"), Some(k));
        assert_eq!(p.next(&page("a")).unwrap(), Some(page("a")));
        assert_eq!(p.next(&page("b")).unwrap(), Some(page("b")));
        assert!(matches!(
            p.next(&page("c")),
            Err(PagingError::TooManyPages { .. })
        ));
        let mut p = Paging::new("ka10075", 10);
        p.next(&page("a")).unwrap();
        let e = p.next(&page("a")).unwrap_err();
        assert!(e.to_string().contains("twice"), "{e}");
        let mut p = Paging::new("ka10075", 10);
        assert!(matches!(
            p.next(&page("")),
            Err(PagingError::EmptyKey { .. })
        ));
        let mut p = Paging::new("ka10075", 10);
        assert_eq!(p.next(&Continuation::first()).unwrap(), None);
        assert_eq!(p.pages(), 1);
    }
}
