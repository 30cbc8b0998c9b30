//! The REST envelope (reference §3, §4.0, §6): header names, the path of each TR, the
//! `{"<TR>InBlock…": {…}}` request body, the flat `{rsp_cd, rsp_msg, <out-blocks>…}` reply
//! body, success and gateway codes, continuation headers, and the [`Tr`] trait that ties
//! one TR's code, path, in-block and out-blocks together.
//!
//! Owns the shapes shared by every TR. Must never know about HTTP clients or servers,
//! and never reject a reply for an extra field, a missing optional block or field order.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{decode_tracked, to_json, WireError};

/// Request/reply header: the TR code.
pub const HEADER_TR_CD: &str = "tr_cd";
/// Request/reply header: `Y` continuation (more data) / `N` first page (no more).
pub const HEADER_TR_CONT: &str = "tr_cont";
/// Request/reply header: the continuation key.
pub const HEADER_TR_CONT_KEY: &str = "tr_cont_key";
/// Request header: `Bearer <access_token>` (LS lists it lower-case).
pub const HEADER_AUTHORIZATION: &str = "authorization";
/// Request header: 12 characters, required only for corporate accounts.
pub const HEADER_MAC_ADDRESS: &str = "mac_address";
pub const HEADER_CONTENT_TYPE: &str = "content-type";
/// Content type of every TR request and reply.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

pub const PATH_ORDER: &str = "/stock/order";
pub const PATH_ACCNO: &str = "/stock/accno";
pub const PATH_MARKET_DATA: &str = "/stock/market-data";
pub const PATH_ITEM_SEARCH: &str = "/stock/item-search";
pub const PATH_ETC: &str = "/stock/etc";
pub const PATH_CHART: &str = "/stock/chart";
pub const PATH_EXCHANGE: &str = "/stock/exchange";
/// The websocket path (not a REST path; clients list it in the same table).
pub const PATH_WEBSOCKET: &str = "/websocket";

/// Most t-TRs: done.
pub const RSP_OK: &str = "00000";
/// CSPAT00601: buy order accepted.
pub const RSP_BUY_ACCEPTED: &str = "00040";
/// CSPAT00601: sell order accepted.
pub const RSP_SELL_ACCEPTED: &str = "00039";
/// CSPAT00801: cancel accepted.
pub const RSP_CANCEL_ACCEPTED: &str = "00156";
/// CSPAQ12200 (and account queries): done.
pub const RSP_BALANCE_OK: &str = "00136";
/// FOCCQ33600: done, more data follows.
pub const RSP_CONTINUES: &str = "00133";
/// Business error: price below the lower limit (seen on CSPAT00701).
pub const RSP_BELOW_LOWER_LIMIT: &str = "03181";
/// Business error: not enough sellable quantity.
pub const RSP_SELLABLE_QTY_SHORT: &str = "01478";
/// `rsp_msg` of a query with nothing to return (code `00000`).
pub const MSG_NO_DATA: &str = "해당자료가 없습니다.";

/// Gateway: too many calls (HTTP 500).
pub const IGW_RATE_LIMIT: &str = "IGW00201";
/// Gateway: invalid or expired token (UNCONFIRMED: third-party lore; 401 or 500).
pub const IGW_BAD_TOKEN: &str = "IGW00121";
/// Gateway: a token error code seen in third-party code, paired there with "기간이 만료된
/// token 입니다." (an expired token); the simulator answers it for expiry (UNCONFIRMED).
pub const IGW_BAD_TOKEN_2: &str = "IGW00123";

/// The functional path a TR is posted to, for the stock TRs of the reference's path map
/// (§4.0); `None` for a TR outside it.
pub fn path_for_tr(tr_cd: &str) -> Option<&'static str> {
    Some(match tr_cd {
        "CSPAT00601" | "CSPAT00701" | "CSPAT00801" => PATH_ORDER,
        "CDPCQ04700" | "CSPAQ00600" | "CSPAQ12200" | "CSPAQ12300" | "CSPAQ13700" | "CSPAQ22200"
        | "CSPBQ00200" | "FOCCQ33600" | "t0150" | "t0151" | "t0424" | "t0425" => PATH_ACCNO,
        "t1101" | "t1102" | "t1104" | "t1105" | "t1109" | "t1301" | "t1302" | "t1305" | "t1308"
        | "t1310" | "t1404" | "t1405" | "t1410" | "t1422" | "t1427" | "t1442" | "t1449"
        | "t1471" | "t1475" | "t1486" | "t1488" | "t8407" | "t8450" | "t8454" | "t9945" => {
            PATH_MARKET_DATA
        }
        "t1809" | "t1825" | "t1826" | "t1852" | "t1856" | "t1859" | "t1860" | "t1866" => {
            PATH_ITEM_SEARCH
        }
        "CLNAQ00100" | "t1403" | "t1411" | "t1638" | "t1921" | "t1926" | "t1927" | "t1941"
        | "t8430" | "t8436" => PATH_ETC,
        "t1665" | "t8410" | "t8411" | "t8412" | "t8451" | "t8452" | "t8453" => PATH_CHART,
        "t1752" | "t1764" | "t1771" => PATH_EXCHANGE,
        _ => return None,
    })
}

/// True for a gateway code (`IGW…`): rate limit, token, malformed call. Such replies carry
/// no out-blocks.
pub fn is_gateway_code(rsp_cd: &str) -> bool {
    rsp_cd.starts_with("IGW")
}

/// True for the gateway's refusals of the access token (invalid or expired): a new token
/// may get the call through, and the call never reached the TR.
pub fn is_token_refusal(rsp_cd: &str) -> bool {
    rsp_cd == IGW_BAD_TOKEN || rsp_cd == IGW_BAD_TOKEN_2
}

/// `Bearer <token>`, the `authorization` header value.
pub fn bearer(access_token: &str) -> String {
    format!("Bearer {access_token}")
}

/// The `tr_cont` / `tr_cont_key` header pair. On a reply, `more` says another page
/// exists; on a request, that this call fetches it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Continuation {
    pub more: bool,
    pub key: String,
}

impl Continuation {
    /// A first call: `tr_cont: N`, `tr_cont_key: ""`.
    pub fn first() -> Continuation {
        Continuation::default()
    }

    /// Reads the headers; absent headers mean no continuation. Anything but `Y` is `N`.
    pub fn from_headers(tr_cont: Option<&str>, tr_cont_key: Option<&str>) -> Continuation {
        Continuation {
            more: tr_cont.is_some_and(|v| v.trim().eq_ignore_ascii_case("Y")),
            key: tr_cont_key.unwrap_or("").trim().to_owned(),
        }
    }

    /// The `tr_cont` header value.
    pub fn tr_cont(&self) -> &'static str {
        if self.more {
            "Y"
        } else {
            "N"
        }
    }

    /// Both headers; replies must always carry them (some clients index them blindly).
    pub fn headers(&self) -> [(&'static str, &str); 2] {
        [
            (HEADER_TR_CONT, self.tr_cont()),
            (HEADER_TR_CONT_KEY, self.key.as_str()),
        ]
    }
}

/// A gateway error body: `{"rsp_cd":"IGW00201","rsp_msg":"호출 거래건수를 초과하였습니다."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayError {
    pub rsp_cd: String,
    #[serde(default)]
    pub rsp_msg: String,
}

impl GatewayError {
    pub fn is_rate_limit(&self) -> bool {
        self.rsp_cd == IGW_RATE_LIMIT
    }
}

/// A decoded reply body: the verdict and the TR's out-blocks (`B`, whose single blocks are
/// `Option`s and arrays default to empty, so business and gateway errors decode too).
/// Serializes flat, as LS sends it: `{"rsp_cd":…,"rsp_msg":…,"<TR>OutBlock…":…}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reply<B> {
    pub rsp_cd: String,
    pub rsp_msg: String,
    #[serde(flatten)]
    pub blocks: B,
}

impl<B> Reply<B> {
    /// A gateway error (`IGW…`): the call never reached the TR.
    pub fn gateway_error(&self) -> Option<GatewayError> {
        is_gateway_code(&self.rsp_cd).then(|| GatewayError {
            rsp_cd: self.rsp_cd.clone(),
            rsp_msg: self.rsp_msg.clone(),
        })
    }

    pub fn is_rate_limited(&self) -> bool {
        self.rsp_cd == IGW_RATE_LIMIT
    }

    /// `00000` with "해당자료가 없습니다.": the query found nothing.
    pub fn is_no_data(&self) -> bool {
        self.rsp_cd == RSP_OK && self.rsp_msg.trim() == MSG_NO_DATA
    }
}

impl<B: Serialize> Reply<B> {
    /// The reply body as LS sends it.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// One REST TR: its code, path, in-block name and types. Implemented by a unit marker per
/// TR (`order::Cspat00601`, `market_data::T1102`, …).
pub trait Tr {
    /// `tr_cd` header value.
    const TR_CD: &'static str;
    /// Functional path (agrees with [`path_for_tr`]).
    const PATH: &'static str;
    /// The request body's single key: `<TR>InBlock` (t-TRs) or `<TR>InBlock1` (C*/F*).
    const IN_BLOCK: &'static str;
    /// `rsp_cd` values that mean the TR did what was asked; the first is the usual one.
    const SUCCESS_CODES: &'static [&'static str] = &[RSP_OK];
    type In: Serialize + DeserializeOwned;
    type Out: Serialize + DeserializeOwned;

    /// The verdict of a decoded reply. Overridden where the code alone is not enough.
    fn succeeded(reply: &Reply<Self::Out>) -> bool {
        Self::SUCCESS_CODES.contains(&reply.rsp_cd.as_str())
    }
}

/// The request body: `{"<IN_BLOCK>": <in>}`.
pub fn encode_request<T: Tr>(input: &T::In) -> String {
    to_json(&SingleKey {
        key: T::IN_BLOCK,
        value: input,
    })
}

/// Decodes a request body (the simulator's side): the in-block is required, other keys
/// are ignored, and the error names the TR and the failing field.
pub fn decode_request<T: Tr>(body: &str) -> Result<T::In, WireError> {
    let what = format!("{} request", T::TR_CD);
    let mut de = serde_json::Deserializer::from_str(body);
    let mut track = serde_path_to_error::Track::new();
    let seed = InBlockSeed::<T::In> {
        key: T::IN_BLOCK,
        marker: PhantomData,
    };
    let result = seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track));
    let value = result.map_err(|e| {
        WireError::from_tracked(
            &what,
            body,
            &serde_path_to_error::Error::new(track.path(), e),
        )
    })?;
    de.end().map_err(|e| WireError::from_json(&what, &e))?;
    Ok(value)
}

/// Decodes a reply body of TR `T`. Out-blocks that are present must be well formed
/// (errors name the TR and field path); absent ones are `None`/empty.
pub fn decode_reply<T: Tr>(body: &str) -> Result<Reply<T::Out>, WireError> {
    decode_reply_as(T::TR_CD, body)
}

/// [`decode_reply`] for any out-block type `B`, naming `tr_cd` in errors.
pub fn decode_reply_as<B: DeserializeOwned>(
    tr_cd: &str,
    body: &str,
) -> Result<Reply<B>, WireError> {
    #[derive(Deserialize)]
    struct Head {
        rsp_cd: String,
        #[serde(default)]
        rsp_msg: String,
    }
    let what = format!("{tr_cd} reply");
    // Two passes over a small body, so each error carries its field path (a flattened
    // single pass would lose it) and B need not know about rsp_cd.
    let head: Head = decode_tracked(&what, body)?;
    let blocks: B = decode_tracked(&what, body)?;
    Ok(Reply {
        rsp_cd: head.rsp_cd,
        rsp_msg: head.rsp_msg,
        blocks,
    })
}

/// A reply body of TR `T` (the simulator's side).
pub fn encode_reply<T: Tr>(rsp_cd: &str, rsp_msg: &str, out: &T::Out) -> String {
    to_json(&ReplyRef {
        rsp_cd,
        rsp_msg,
        blocks: out,
    })
}

/// [`Reply`] by reference, for encoding without copies.
#[derive(Serialize)]
struct ReplyRef<'a, B> {
    rsp_cd: &'a str,
    rsp_msg: &'a str,
    #[serde(flatten)]
    blocks: &'a B,
}

/// `{"<key>": value}` without a map allocation.
struct SingleKey<'a, V: ?Sized> {
    key: &'static str,
    value: &'a V,
}

impl<V: Serialize + ?Sized> Serialize for SingleKey<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(self.key, self.value)?;
        map.end()
    }
}

/// Finds the in-block under its (runtime) key in a request body.
struct InBlockSeed<T> {
    key: &'static str,
    marker: PhantomData<T>,
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for InBlockSeed<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for InBlockSeed<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with key {:?}", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut found = None;
        while let Some(k) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if k == self.key {
                // Two in-blocks: whichever one a reader takes, another reader (a proxy,
                // the broker) may take the other. Refused like a repeated field.
                if found.is_some() {
                    return Err(de::Error::duplicate_field(self.key));
                }
                found = Some(map.next_value::<T>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        found.ok_or_else(|| de::Error::missing_field(self.key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_token_codes_and_only_they_are_token_refusals() {
        assert!(is_token_refusal(IGW_BAD_TOKEN) && is_token_refusal(IGW_BAD_TOKEN_2));
        for other in [IGW_RATE_LIMIT, "IGW00103", RSP_OK, "", "igw00121"] {
            assert!(!is_token_refusal(other), "{other}");
        }
    }

    #[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
    struct In {
        shcode: String,
    }

    #[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
    struct Out {
        #[serde(
            rename = "tXOutBlock",
            default,
            skip_serializing_if = "Option::is_none"
        )]
        out_block: Option<In>,
    }

    struct Tx;
    impl Tr for Tx {
        const TR_CD: &'static str = "tX";
        const PATH: &'static str = PATH_MARKET_DATA;
        const IN_BLOCK: &'static str = "tXInBlock";
        type In = In;
        type Out = Out;
    }

    #[test]
    fn paths_cover_the_reference_map() {
        let cases = [
            ("CSPAT00601", PATH_ORDER),
            ("CSPAT00701", PATH_ORDER),
            ("CSPAT00801", PATH_ORDER),
            ("CSPAQ12200", PATH_ACCNO),
            ("FOCCQ33600", PATH_ACCNO),
            ("t0424", PATH_ACCNO),
            ("t0425", PATH_ACCNO),
            ("t1102", PATH_MARKET_DATA),
            ("t1101", PATH_MARKET_DATA),
            ("t1866", PATH_ITEM_SEARCH),
            ("t1860", PATH_ITEM_SEARCH),
            ("t1859", PATH_ITEM_SEARCH),
            ("t8436", PATH_ETC),
            ("t8412", PATH_CHART),
            ("t1764", PATH_EXCHANGE),
        ];
        for (tr, path) in cases {
            assert_eq!(path_for_tr(tr), Some(path), "{tr}");
        }
        assert_eq!(path_for_tr("S3_"), None);
        assert_eq!(path_for_tr("T1102"), None, "TR codes are case-sensitive");
    }

    #[test]
    fn request_body_is_keyed_by_the_in_block() {
        let body = encode_request::<Tx>(&In {
            shcode: "005930".into(),
        });
        assert_eq!(body, r#"{"tXInBlock":{"shcode":"005930"}}"#);
        let back = decode_request::<Tx>(&body).unwrap();
        assert_eq!(back.shcode, "005930");
        // Extra top-level keys and in-block fields are ignored.
        let back =
            decode_request::<Tx>(r#"{"x":[1],"tXInBlock":{"y":1,"shcode":"000660"}}"#).unwrap();
        assert_eq!(back.shcode, "000660");
        let e = decode_request::<Tx>(r#"{"tXInBlock1":{}}"#).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("tX request") && msg.contains("tXInBlock"),
            "{msg}"
        );
        let e = decode_request::<Tx>(r#"{"tXInBlock":{"shcode":5}}"#).unwrap_err();
        assert!(e.to_string().contains("tXInBlock.shcode"), "{e}");
        let e = decode_request::<Tx>("not json").unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
    }

    /// Found by tests/hostile_input.rs: a body with the in-block twice decoded as the
    /// last one, though a field repeated inside a block was refused.
    #[test]
    fn a_repeated_in_block_is_refused() {
        let e = decode_request::<Tx>(
            r#"{"tXInBlock":{"shcode":"005930"},"tXInBlock":{"shcode":"000660"}}"#,
        )
        .unwrap_err();
        assert!(matches!(e, WireError::Malformed { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.contains("tX request") && msg.contains("duplicate field `tXInBlock`"),
            "{msg}"
        );
    }

    #[test]
    fn reply_decodes_any_order_and_gateway_errors() {
        let r = decode_reply::<Tx>(
            r#"{"tXOutBlock":{"shcode":"005930","new":1},"extra":{},"rsp_msg":"ok","rsp_cd":"00000"}"#,
        )
        .unwrap();
        assert!(Tx::succeeded(&r));
        assert_eq!(r.blocks.out_block.as_ref().unwrap().shcode, "005930");
        let text = r.to_json();
        assert_eq!(
            text,
            r#"{"rsp_cd":"00000","rsp_msg":"ok","tXOutBlock":{"shcode":"005930"}}"#
        );
        assert_eq!(decode_reply::<Tx>(&text).unwrap(), r);

        let g = decode_reply::<Tx>(
            r#"{"rsp_cd":"IGW00201","rsp_msg":"호출 거래건수를 초과하였습니다."}"#,
        )
        .unwrap();
        assert!(g.is_rate_limited() && !Tx::succeeded(&g));
        assert!(g.gateway_error().is_some_and(|e| e.is_rate_limit()));
        assert_eq!(g.blocks, Out::default());

        let e = decode_reply::<Tx>(r#"{"rsp_msg":"x"}"#).unwrap_err();
        assert!(
            e.to_string().contains("tX reply") && e.to_string().contains("rsp_cd"),
            "{e}"
        );
        let e = decode_reply::<Tx>(r#"{"rsp_cd":"00000","tXOutBlock":{"shcode":[]}}"#).unwrap_err();
        assert!(e.to_string().contains("tXOutBlock.shcode"), "{e}");
        let no_data: Reply<Out> =
            decode_reply::<Tx>(r#"{"rsp_cd":"00000","rsp_msg":"해당자료가 없습니다."}"#).unwrap();
        assert!(no_data.is_no_data());
    }

    #[test]
    fn continuation_headers() {
        let c = Continuation::from_headers(Some("Y"), Some("20240101123"));
        assert!(c.more);
        assert_eq!(
            c.headers(),
            [("tr_cont", "Y"), ("tr_cont_key", "20240101123")]
        );
        let c = Continuation::from_headers(None, None);
        assert_eq!(c, Continuation::first());
        assert_eq!(c.headers(), [("tr_cont", "N"), ("tr_cont_key", "")]);
        assert_eq!(bearer("abc"), "Bearer abc");
    }
}
