//! Condition-search TRs on `/stock/item-search` (reference §4.9): t1866 lists the
//! user's saved conditions, t1860 registers (or stops) one as a realtime AFR feed, t1859
//! runs one once.
//!
//! Owns these blocks with the reference's field names (`sAlertNum`, `Msg`, …). Must never
//! decide which conditions to run: it only carries them. Note there is no `sAlertNum` in
//! t1866: t1866 gives `query_index`, t1860 turns it into the `sAlertNum` AFR is keyed by.

use serde::{Deserialize, Serialize};

use super::num;
use super::rest::{Tr, PATH_ITEM_SEARCH};
use super::{Sign, WireError};
use crate::market::{Price, Ticker};

/// t1866InBlock: list saved conditions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T1866InBlock {
    /// HTS login id.
    pub user_id: String,
    /// `0` groups and conditions, `1` groups, `2` conditions of `group_name`.
    pub gb: String,
    pub group_name: String,
    /// Continuation flag and key from the previous reply.
    pub cont: String,
    pub cont_key: String,
}

impl T1866InBlock {
    /// Every group and condition of `user_id`.
    pub fn all(user_id: &str) -> T1866InBlock {
        T1866InBlock {
            user_id: user_id.to_owned(),
            gb: "0".to_owned(),
            ..T1866InBlock::default()
        }
    }
}

/// t1866OutBlock: count and continuation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T1866OutBlock {
    #[serde(with = "num::int_or_zero")]
    pub result_count: i64,
    pub cont: String,
    /// The doc table says `cont_key`, its example `contkey` (UNCONFIRMED which LS sends):
    /// both are read, `cont_key` is written.
    #[serde(alias = "contkey")]
    pub cont_key: String,
}

/// t1866OutBlock1: one saved condition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T1866OutBlock1 {
    /// e.g. `testID0000`: the key t1859/t1860 take.
    pub query_index: String,
    pub group_name: String,
    pub query_name: String,
}

/// t1866 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T1866Out {
    #[serde(
        rename = "t1866OutBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block: Option<T1866OutBlock>,
    #[serde(rename = "t1866OutBlock1", default)]
    pub out_block1: Vec<T1866OutBlock1>,
}

/// t1866: saved condition list. Success `00000` ("조회성공").
pub struct T1866;

impl Tr for T1866 {
    const TR_CD: &'static str = "t1866";
    const PATH: &'static str = PATH_ITEM_SEARCH;
    const IN_BLOCK: &'static str = "t1866InBlock";
    type In = T1866InBlock;
    type Out = T1866Out;
}

/// t1860 `sFlag`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AlertFlag {
    /// `E`: register the condition as a realtime feed.
    Register,
    /// `D`: stop it.
    Stop,
}

impl AlertFlag {
    pub fn code(self) -> &'static str {
        match self {
            AlertFlag::Register => "E",
            AlertFlag::Stop => "D",
        }
    }

    pub fn from_code(code: &str) -> Option<AlertFlag> {
        match code.trim_ascii() {
            "E" => Some(AlertFlag::Register),
            "D" => Some(AlertFlag::Stop),
            _ => None,
        }
    }
}

/// t1860InBlock: register or stop a realtime condition search.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T1860InBlock {
    /// `U`.
    #[serde(rename = "sSysUserFlag")]
    pub s_sys_user_flag: String,
    /// `E` register, `D` stop.
    #[serde(rename = "sFlag")]
    pub s_flag: String,
    /// Blank to register; the key to stop.
    #[serde(rename = "sAlertNum")]
    pub s_alert_num: String,
    pub query_index: String,
}

impl T1860InBlock {
    /// Registers saved condition `query_index`.
    pub fn register(query_index: &str) -> T1860InBlock {
        T1860InBlock {
            s_sys_user_flag: "U".to_owned(),
            s_flag: AlertFlag::Register.code().to_owned(),
            s_alert_num: String::new(),
            query_index: query_index.to_owned(),
        }
    }

    /// Stops the feed `alert_num` of condition `query_index`.
    pub fn stop(alert_num: &str, query_index: &str) -> T1860InBlock {
        T1860InBlock {
            s_flag: AlertFlag::Stop.code().to_owned(),
            s_alert_num: alert_num.to_owned(),
            ..T1860InBlock::register(query_index)
        }
    }

    pub fn flag(&self) -> Result<AlertFlag, WireError> {
        AlertFlag::from_code(&self.s_flag)
            .ok_or_else(|| WireError::bad_value("t1860InBlock", "sFlag", &self.s_flag, "E or D"))
    }
}

/// t1860OutBlock: the verdict and, on registration, the AFR key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T1860OutBlock {
    #[serde(rename = "sSysUserFlag")]
    pub s_sys_user_flag: String,
    #[serde(rename = "sFlag")]
    pub s_flag: String,
    /// `S` success, anything else failure.
    #[serde(rename = "sResultFlag")]
    pub s_result_flag: String,
    /// HHMMSS.
    #[serde(rename = "sTime")]
    pub s_time: String,
    /// e.g. `1722490200A`: the `tr_key` of the AFR feed.
    #[serde(rename = "sAlertNum")]
    pub s_alert_num: String,
    #[serde(rename = "Msg")]
    pub msg: String,
}

impl T1860OutBlock {
    pub fn is_ok(&self) -> bool {
        self.s_result_flag.trim() == "S"
    }

    /// `sAlertNum`, trimmed.
    pub fn alert_num(&self) -> &str {
        self.s_alert_num.trim()
    }
}

/// t1860 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T1860Out {
    #[serde(
        rename = "t1860OutBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block: Option<T1860OutBlock>,
}

/// t1860: register/stop a realtime condition. Works only on the real server, per a
/// published client sample.
pub struct T1860;

impl Tr for T1860 {
    const TR_CD: &'static str = "t1860";
    const PATH: &'static str = PATH_ITEM_SEARCH;
    const IN_BLOCK: &'static str = "t1860InBlock";
    type In = T1860InBlock;
    type Out = T1860Out;

    /// `00000` and `sResultFlag` `S`.
    fn succeeded(reply: &super::rest::Reply<T1860Out>) -> bool {
        Self::SUCCESS_CODES.contains(&reply.rsp_cd.as_str())
            && reply
                .blocks
                .out_block
                .as_ref()
                .is_some_and(T1860OutBlock::is_ok)
    }
}

/// t1859InBlock: run saved condition `query_index` once.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T1859InBlock {
    pub query_index: String,
}

/// t1859OutBlock: summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T1859OutBlock {
    #[serde(with = "num::int_or_zero")]
    pub result_count: i64,
    /// HHMMSS.
    pub result_time: String,
    pub text: String,
}

/// t1859OutBlock1: one matching stock.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T1859OutBlock1 {
    /// S7 on the doc: a six-digit code, possibly `A`-prefixed or padded.
    pub shcode: String,
    pub hname: String,
    #[serde(with = "num::price")]
    pub price: i64,
    pub sign: String,
    #[serde(with = "num::int_or_zero")]
    pub change: i64,
    /// N6.2 text, not padded here (`"1.79"`).
    #[serde(with = "num::text")]
    pub diff: String,
    #[serde(with = "num::cum_volume")]
    pub volume: i64,
}

impl T1859OutBlock1 {
    const WHAT: &'static str = "t1859OutBlock1";

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        Ticker::parse_isu_no(self.shcode.trim_ascii()).map_err(|_| {
            WireError::bad_value(
                Self::WHAT,
                "shcode",
                &self.shcode,
                "a six-digit code, optionally A-prefixed",
            )
        })
    }

    pub fn price(&self) -> Result<Price, WireError> {
        num::price_of(Self::WHAT, "price", self.price)
    }

    pub fn sign(&self) -> Result<Sign, WireError> {
        Sign::parse_field(Self::WHAT, "sign", &self.sign)
    }

    /// `diff` in basis points.
    pub fn diff_bp(&self) -> Result<i64, WireError> {
        num::field_fixed(Self::WHAT, "diff", &self.diff, 2)
    }

    /// The day's cumulative volume (not a `Qty`: it can pass `MAX_QTY`).
    pub fn volume(&self) -> Result<u64, WireError> {
        u64::try_from(self.volume).map_err(|_| {
            WireError::bad_value(
                Self::WHAT,
                "volume",
                &self.volume.to_string(),
                "a non-negative volume",
            )
        })
    }
}

/// t1859 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T1859Out {
    #[serde(
        rename = "t1859OutBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block: Option<T1859OutBlock>,
    #[serde(rename = "t1859OutBlock1", default)]
    pub out_block1: Vec<T1859OutBlock1>,
}

/// t1859: run a saved condition once.
pub struct T1859;

impl Tr for T1859 {
    const TR_CD: &'static str = "t1859";
    const PATH: &'static str = PATH_ITEM_SEARCH;
    const IN_BLOCK: &'static str = "t1859InBlock";
    type In = T1859InBlock;
    type Out = T1859Out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::rest::{decode_reply, decode_request, encode_request, path_for_tr};

    #[test]
    fn condition_list_round_trips() {
        let text = r#"{"rsp_cd":"00000","rsp_msg":"조회성공","t1866OutBlock":{"result_count":2,"cont":"N","cont_key":""},"t1866OutBlock1":[{"query_index":"testID0000","group_name":"기본","query_name":"거래량급증"},{"query_index":"testID0001","group_name":"기본","query_name":"신고가"}]}"#;
        let r = decode_reply::<T1866>(text).unwrap();
        assert!(T1866::succeeded(&r));
        assert_eq!(r.blocks.out_block1[1].query_index, "testID0001");
        assert_eq!(r.to_json(), text);
        // The doc example's spelling `contkey`.
        let alt = text.replace(r#""cont_key":"""#, r#""contkey":"K1""#);
        let r2 = decode_reply::<T1866>(&alt).unwrap();
        assert_eq!(r2.blocks.out_block.unwrap().cont_key, "K1");
        let req = T1866InBlock::all("user01");
        assert_eq!(
            encode_request::<T1866>(&req),
            r#"{"t1866InBlock":{"user_id":"user01","gb":"0","group_name":"","cont":"","cont_key":""}}"#
        );
        assert_eq!(
            decode_request::<T1866>(&encode_request::<T1866>(&req)).unwrap(),
            req
        );
    }

    #[test]
    fn realtime_condition_registration_round_trips() {
        let req = T1860InBlock::register("testID0000");
        let body = encode_request::<T1860>(&req);
        assert_eq!(
            body,
            r#"{"t1860InBlock":{"sSysUserFlag":"U","sFlag":"E","sAlertNum":"","query_index":"testID0000"}}"#
        );
        assert_eq!(
            decode_request::<T1860>(&body).unwrap().flag().unwrap(),
            AlertFlag::Register
        );
        let stop = T1860InBlock::stop("1722490200A", "testID0000");
        assert_eq!(
            (stop.flag().unwrap(), stop.s_alert_num.as_str()),
            (AlertFlag::Stop, "1722490200A")
        );

        let text = r#"{"rsp_cd":"00000","rsp_msg":"정상처리되었습니다.","t1860OutBlock":{"sSysUserFlag":"U","sFlag":"E","sResultFlag":"S","sTime":"090000","sAlertNum":"1722490200A","Msg":"등록되었습니다."}}"#;
        let r = decode_reply::<T1860>(text).unwrap();
        assert!(T1860::succeeded(&r));
        assert_eq!(
            r.blocks.out_block.as_ref().unwrap().alert_num(),
            "1722490200A"
        );
        assert_eq!(r.to_json(), text);
        let failed =
            decode_reply::<T1860>(&text.replace(r#""sResultFlag":"S""#, r#""sResultFlag":"F""#))
                .unwrap();
        assert!(!T1860::succeeded(&failed));
        let bad = T1860InBlock {
            s_flag: "X".into(),
            ..req
        };
        assert!(bad.flag().unwrap_err().to_string().contains("sFlag"));
    }

    #[test]
    fn condition_run_round_trips() {
        let text = r#"{"rsp_cd":"00000","rsp_msg":"조회성공","t1859OutBlock":{"result_count":1,"result_time":"093000","text":""},"t1859OutBlock1":[{"shcode":"078150","hname":"HB테크놀러지","price":2435,"sign":"2","change":45,"diff":"1.79","volume":3432360}]}"#;
        let r = decode_reply::<T1859>(text).unwrap();
        let row = &r.blocks.out_block1[0];
        assert_eq!(row.ticker().unwrap(), Ticker::parse("078150").unwrap());
        assert_eq!(
            (
                row.price().unwrap(),
                row.sign().unwrap(),
                row.diff_bp().unwrap()
            ),
            (Price::lit(2435), Sign::Up, 179)
        );
        assert_eq!(row.volume().unwrap(), 3_432_360);
        assert_eq!(r.to_json(), text);
        let padded = T1859OutBlock1 {
            shcode: "A078150".into(),
            ..row.clone()
        };
        assert_eq!(padded.ticker().unwrap(), row.ticker().unwrap());
        assert_eq!(
            encode_request::<T1859>(&T1859InBlock {
                query_index: "testID0000".into()
            }),
            r#"{"t1859InBlock":{"query_index":"testID0000"}}"#
        );
        for tr in [T1866::TR_CD, T1860::TR_CD, T1859::TR_CD] {
            assert_eq!(path_for_tr(tr), Some(PATH_ITEM_SEARCH));
        }
    }
}
