//! Market-data TRs (reference §4.8, §4.9): t1102 current price on `/stock/market-data`
//! and t8436 stock master on `/stock/etc`.
//!
//! Owns these blocks with the reference's field names. The fields condor uses are typed
//! (integers as JSON numbers, decimals as fixed-point text); the long tail of t1102 is
//! kept as text so a field LS retypes never fails a quote. Must never hold a price as a
//! float.

use serde::{Deserialize, Serialize};

use super::num;
use super::rest::{Tr, PATH_ETC, PATH_MARKET_DATA};
use super::{Sign, WireError};
use crate::market::{DailyLimits, Market, Price, Ticker};

fn ticker_of(what: &str, field: &'static str, value: &str) -> Result<Ticker, WireError> {
    Ticker::parse_isu_no(value.trim_ascii()).map_err(|_| {
        WireError::bad_value(
            what,
            field,
            value,
            "a six-digit code, optionally A-prefixed",
        )
    })
}

/// t1102InBlock.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T1102InBlock {
    pub shcode: String,
    /// `K` KRX, `N` NXT, `U` unified; anything else means KRX. Some clients omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchgubun: Option<String>,
}

impl T1102InBlock {
    /// A KRX quote for `ticker` (no `exchgubun`, which means KRX).
    pub fn new(ticker: Ticker) -> T1102InBlock {
        T1102InBlock {
            shcode: ticker.as_str().to_owned(),
            exchgubun: None,
        }
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_of("t1102InBlock", "shcode", &self.shcode)
    }
}

/// t1102OutBlock: the core fields of §4.8, typed, then the rest as text. Required:
/// `price`, `shcode`. There is no `jnilclose` here: the prior close is `recprice`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T1102OutBlock {
    /// 종목명
    #[serde(default)]
    pub hname: String,
    /// 현재가
    #[serde(with = "num::price")]
    pub price: i64,
    /// 전일대비구분: 1 upper-limit, 2 up, 3 flat, 4 lower-limit, 5 down
    #[serde(default)]
    pub sign: String,
    /// 전일대비 (unsigned)
    #[serde(default, with = "num::int_or_zero")]
    pub change: i64,
    /// 등락율 N6.2, e.g. "000.22"
    #[serde(default, with = "num::text")]
    pub diff: String,
    /// 누적거래량
    #[serde(default, with = "num::cum_volume")]
    pub volume: i64,
    /// 기준가: the base price (prior close on normal days)
    #[serde(default, with = "num::price")]
    pub recprice: i64,
    /// 가중평균
    #[serde(default, with = "num::int_or_zero")]
    pub avg: i64,
    /// 상한가
    #[serde(default, with = "num::price")]
    pub uplmtprice: i64,
    /// 하한가
    #[serde(default, with = "num::price")]
    pub dnlmtprice: i64,
    /// 전일거래량
    #[serde(default, with = "num::int_or_zero")]
    pub jnilvolume: i64,
    /// 거래량차
    #[serde(default, with = "num::int_or_zero")]
    pub volumediff: i64,
    /// 시가
    #[serde(default, with = "num::int_or_zero")]
    pub open: i64,
    /// 시가시간 HHMMSS
    #[serde(default)]
    pub opentime: String,
    /// 고가
    #[serde(default, with = "num::int_or_zero")]
    pub high: i64,
    /// 고가시간
    #[serde(default)]
    pub hightime: String,
    /// 저가
    #[serde(default, with = "num::int_or_zero")]
    pub low: i64,
    /// 저가시간
    #[serde(default)]
    pub lowtime: String,
    /// 52주최고가
    #[serde(default, with = "num::int_or_zero")]
    pub high52w: i64,
    /// 52주최고가일
    #[serde(default)]
    pub high52wdate: String,
    /// 52주최저가
    #[serde(default, with = "num::int_or_zero")]
    pub low52w: i64,
    /// 52주최저가일
    #[serde(default)]
    pub low52wdate: String,
    /// 소진율
    #[serde(default, with = "num::text")]
    pub exhratio: String,
    /// PER, e.g. "011.14"
    #[serde(default, with = "num::text")]
    pub per: String,
    /// PBRX
    #[serde(default, with = "num::text")]
    pub pbrx: String,
    /// 상장주식수 (thousand shares)
    #[serde(default, with = "num::int_or_zero")]
    pub listing: i64,
    /// 증거금율
    #[serde(default, with = "num::text")]
    pub jkrate: String,
    /// 매매단위, e.g. "00001"
    #[serde(default)]
    pub memedan: String,
    /// 회전율
    #[serde(default, with = "num::text")]
    pub vol: String,
    /// 단축코드
    pub shcode: String,
    /// 누적거래대금 (millions of won in the example)
    #[serde(default, with = "num::int_or_zero")]
    pub value: i64,
    /// 전일동시간거래량
    #[serde(default, with = "num::int_or_zero")]
    pub jvolume: i64,
    /// 연중최고가
    #[serde(default, with = "num::int_or_zero")]
    pub highyear: i64,
    /// 연중최고일자
    #[serde(default)]
    pub highyeardate: String,
    /// 연중최저가
    #[serde(default, with = "num::int_or_zero")]
    pub lowyear: i64,
    /// 연중최저일자
    #[serde(default)]
    pub lowyeardate: String,
    /// 액면가
    #[serde(default, with = "num::int_or_zero")]
    pub parprice: i64,
    /// 시가총액
    #[serde(default, with = "num::int_or_zero")]
    pub total: i64,
    /// 상장일
    #[serde(default)]
    pub listdate: String,
    /// 장구분, e.g. "KOSDAQ"
    #[serde(default)]
    pub janginfo: String,
    /// 통화, "KRW"
    #[serde(default)]
    pub tonghwa: String,
    /// 정적VI상한가
    #[serde(default, with = "num::int_or_zero")]
    pub svi_uplmtprice: i64,
    /// 정적VI하한가
    #[serde(default, with = "num::int_or_zero")]
    pub svi_dnlmtprice: i64,
    /// 거래소별단축코드
    #[serde(default)]
    pub ex_shcode: String,
    // The rest of §4.8, kept as text (read from text or a number): broker
    // rankings, foreign brokers, financials and flags. Nothing in condor trades on
    // them, so their exact typing must never fail a quote.
    #[serde(default, with = "num::text")]
    pub offernocd1: String,
    #[serde(default, with = "num::text")]
    pub offernocd2: String,
    #[serde(default, with = "num::text")]
    pub offernocd3: String,
    #[serde(default, with = "num::text")]
    pub offernocd4: String,
    #[serde(default, with = "num::text")]
    pub offernocd5: String,
    #[serde(default, with = "num::text")]
    pub bidnocd1: String,
    #[serde(default, with = "num::text")]
    pub bidnocd2: String,
    #[serde(default, with = "num::text")]
    pub bidnocd3: String,
    #[serde(default, with = "num::text")]
    pub bidnocd4: String,
    #[serde(default, with = "num::text")]
    pub bidnocd5: String,
    #[serde(default, with = "num::text")]
    pub offerno1: String,
    #[serde(default, with = "num::text")]
    pub offerno2: String,
    #[serde(default, with = "num::text")]
    pub offerno3: String,
    #[serde(default, with = "num::text")]
    pub offerno4: String,
    #[serde(default, with = "num::text")]
    pub offerno5: String,
    #[serde(default, with = "num::text")]
    pub bidno1: String,
    #[serde(default, with = "num::text")]
    pub bidno2: String,
    #[serde(default, with = "num::text")]
    pub bidno3: String,
    #[serde(default, with = "num::text")]
    pub bidno4: String,
    #[serde(default, with = "num::text")]
    pub bidno5: String,
    #[serde(default, with = "num::text")]
    pub dvol1: String,
    #[serde(default, with = "num::text")]
    pub dvol2: String,
    #[serde(default, with = "num::text")]
    pub dvol3: String,
    #[serde(default, with = "num::text")]
    pub dvol4: String,
    #[serde(default, with = "num::text")]
    pub dvol5: String,
    #[serde(default, with = "num::text")]
    pub svol1: String,
    #[serde(default, with = "num::text")]
    pub svol2: String,
    #[serde(default, with = "num::text")]
    pub svol3: String,
    #[serde(default, with = "num::text")]
    pub svol4: String,
    #[serde(default, with = "num::text")]
    pub svol5: String,
    #[serde(default, with = "num::text")]
    pub dcha1: String,
    #[serde(default, with = "num::text")]
    pub dcha2: String,
    #[serde(default, with = "num::text")]
    pub dcha3: String,
    #[serde(default, with = "num::text")]
    pub dcha4: String,
    #[serde(default, with = "num::text")]
    pub dcha5: String,
    #[serde(default, with = "num::text")]
    pub scha1: String,
    #[serde(default, with = "num::text")]
    pub scha2: String,
    #[serde(default, with = "num::text")]
    pub scha3: String,
    #[serde(default, with = "num::text")]
    pub scha4: String,
    #[serde(default, with = "num::text")]
    pub scha5: String,
    #[serde(default, with = "num::text")]
    pub ddiff1: String,
    #[serde(default, with = "num::text")]
    pub ddiff2: String,
    #[serde(default, with = "num::text")]
    pub ddiff3: String,
    #[serde(default, with = "num::text")]
    pub ddiff4: String,
    #[serde(default, with = "num::text")]
    pub ddiff5: String,
    #[serde(default, with = "num::text")]
    pub sdiff1: String,
    #[serde(default, with = "num::text")]
    pub sdiff2: String,
    #[serde(default, with = "num::text")]
    pub sdiff3: String,
    #[serde(default, with = "num::text")]
    pub sdiff4: String,
    #[serde(default, with = "num::text")]
    pub sdiff5: String,
    #[serde(default, with = "num::text")]
    pub dval1: String,
    #[serde(default, with = "num::text")]
    pub dval2: String,
    #[serde(default, with = "num::text")]
    pub dval3: String,
    #[serde(default, with = "num::text")]
    pub dval4: String,
    #[serde(default, with = "num::text")]
    pub dval5: String,
    #[serde(default, with = "num::text")]
    pub sval1: String,
    #[serde(default, with = "num::text")]
    pub sval2: String,
    #[serde(default, with = "num::text")]
    pub sval3: String,
    #[serde(default, with = "num::text")]
    pub sval4: String,
    #[serde(default, with = "num::text")]
    pub sval5: String,
    #[serde(default, with = "num::text")]
    pub davg1: String,
    #[serde(default, with = "num::text")]
    pub davg2: String,
    #[serde(default, with = "num::text")]
    pub davg3: String,
    #[serde(default, with = "num::text")]
    pub davg4: String,
    #[serde(default, with = "num::text")]
    pub davg5: String,
    #[serde(default, with = "num::text")]
    pub savg1: String,
    #[serde(default, with = "num::text")]
    pub savg2: String,
    #[serde(default, with = "num::text")]
    pub savg3: String,
    #[serde(default, with = "num::text")]
    pub savg4: String,
    #[serde(default, with = "num::text")]
    pub savg5: String,
    #[serde(default, with = "num::text")]
    pub fwdvl: String,
    #[serde(default, with = "num::text")]
    pub ftradmdcha: String,
    #[serde(default, with = "num::text")]
    pub ftradmddiff: String,
    #[serde(default, with = "num::text")]
    pub fwsvl: String,
    #[serde(default, with = "num::text")]
    pub ftradmscha: String,
    #[serde(default, with = "num::text")]
    pub ftradmsdiff: String,
    #[serde(default, with = "num::text")]
    pub ftradmdval: String,
    #[serde(default, with = "num::text")]
    pub ftradmsval: String,
    #[serde(default, with = "num::text")]
    pub ftradmdvag: String,
    #[serde(default, with = "num::text")]
    pub ftradmsvag: String,
    #[serde(default, with = "num::text")]
    pub name: String,
    #[serde(default, with = "num::text")]
    pub bfsales: String,
    #[serde(default, with = "num::text")]
    pub bfoperatingincome: String,
    #[serde(default, with = "num::text")]
    pub bfordinaryincome: String,
    #[serde(default, with = "num::text")]
    pub bfnetincome: String,
    #[serde(default, with = "num::text")]
    pub bfeps: String,
    #[serde(default, with = "num::text")]
    pub name2: String,
    #[serde(default, with = "num::text")]
    pub bfsales2: String,
    #[serde(default, with = "num::text")]
    pub bfoperatingincome2: String,
    #[serde(default, with = "num::text")]
    pub bfordinaryincome2: String,
    #[serde(default, with = "num::text")]
    pub bfnetincome2: String,
    #[serde(default, with = "num::text")]
    pub bfeps2: String,
    #[serde(default, with = "num::text")]
    pub salert: String,
    #[serde(default, with = "num::text")]
    pub opert: String,
    #[serde(default, with = "num::text")]
    pub ordrt: String,
    #[serde(default, with = "num::text")]
    pub netrt: String,
    #[serde(default, with = "num::text")]
    pub epsrt: String,
    #[serde(default, with = "num::text")]
    pub info1: String,
    #[serde(default, with = "num::text")]
    pub info2: String,
    #[serde(default, with = "num::text")]
    pub info3: String,
    #[serde(default, with = "num::text")]
    pub info4: String,
    #[serde(default, with = "num::text")]
    pub info5: String,
    #[serde(default, with = "num::text")]
    pub spac_gubun: String,
    #[serde(default, with = "num::text")]
    pub issueprice: String,
    #[serde(default, with = "num::text")]
    pub alloc_gubun: String,
    #[serde(default, with = "num::text")]
    pub alloc_text: String,
    #[serde(default, with = "num::text")]
    pub shterm_text: String,
    #[serde(default, with = "num::text")]
    pub low_lqdt_gu: String,
    #[serde(default, with = "num::text")]
    pub abnormal_rise_gu: String,
    #[serde(default, with = "num::text")]
    pub lend_text: String,
    #[serde(default, with = "num::text")]
    pub ty_text: String,
    #[serde(default, with = "num::text")]
    pub nxt_janginfo: String,
    #[serde(default, with = "num::text")]
    pub nxt_shterm_text: String,
    #[serde(default, with = "num::text")]
    pub nxt_svi_uplmtprice: String,
    #[serde(default, with = "num::text")]
    pub nxt_svi_dnlmtprice: String,
    #[serde(default, with = "num::text")]
    pub t_per: String,
    #[serde(default, with = "num::text")]
    pub target: String,
    #[serde(default, with = "num::text")]
    pub capital: String,
    #[serde(default, with = "num::text")]
    pub abscnt: String,
    #[serde(default, with = "num::text")]
    pub gsmm: String,
    #[serde(default, with = "num::text")]
    pub subprice: String,
    /// KRX regular-session close. UNCONFIRMED: some clients read it, the doc scrape lacks
    /// it; kept optional and left out of the output when absent.
    #[serde(
        default,
        with = "num::opt_int",
        skip_serializing_if = "Option::is_none"
    )]
    pub krx_mcls_price: Option<i64>,
}

impl T1102OutBlock {
    const WHAT: &'static str = "t1102OutBlock";

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_of(Self::WHAT, "shcode", &self.shcode)
    }

    pub fn price(&self) -> Result<Price, WireError> {
        num::price_of(Self::WHAT, "price", self.price)
    }

    pub fn sign(&self) -> Result<Sign, WireError> {
        Sign::parse_field(Self::WHAT, "sign", &self.sign)
    }

    /// `change` with the direction of `sign`.
    pub fn signed_change(&self) -> Result<i64, WireError> {
        self.sign()?.apply_field(Self::WHAT, "change", self.change)
    }

    /// `diff` in basis points (`"000.22"` → 22), unsigned as LS sends it.
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

    /// The day's band as LS states it: `recprice`, `uplmtprice`, `dnlmtprice`.
    pub fn limits(&self) -> Result<DailyLimits, WireError> {
        Ok(DailyLimits {
            base: num::price_of(Self::WHAT, "recprice", self.recprice)?,
            upper: num::price_of(Self::WHAT, "uplmtprice", self.uplmtprice)?,
            lower: num::price_of(Self::WHAT, "dnlmtprice", self.dnlmtprice)?,
        })
    }

    /// `janginfo`: `KOSPI` / `KOSDAQ`; `None` for anything else (KONEX, …).
    pub fn market(&self) -> Option<Market> {
        match self.janginfo.trim() {
            "KOSPI" => Some(Market::Kospi),
            "KOSDAQ" => Some(Market::Kosdaq),
            _ => None,
        }
    }
}

/// t1102 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T1102Out {
    #[serde(
        rename = "t1102OutBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block: Option<T1102OutBlock>,
}

/// t1102: current price. Success: `00000`.
pub struct T1102;

impl Tr for T1102 {
    const TR_CD: &'static str = "t1102";
    const PATH: &'static str = PATH_MARKET_DATA;
    const IN_BLOCK: &'static str = "t1102InBlock";
    type In = T1102InBlock;
    type Out = T1102Out;
}

/// t8436InBlock `gubun`: `0` all, `1` KOSPI, `2` KOSDAQ.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T8436InBlock {
    pub gubun: String,
}

impl T8436InBlock {
    /// Every listed stock.
    pub fn all() -> T8436InBlock {
        T8436InBlock {
            gubun: "0".to_owned(),
        }
    }

    /// One market's stocks.
    pub fn market(market: Market) -> T8436InBlock {
        T8436InBlock {
            gubun: market.gubun().to_owned(),
        }
    }
}

/// t8436OutBlock: one stock of the master list. `gubun` is always written as text
/// (`"1"` KOSPI, `"2"` KOSDAQ): clients compare it as a string to pick S3_ or K3_.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T8436OutBlock {
    pub hname: String,
    pub shcode: String,
    /// 12-character ISIN.
    pub expcode: String,
    pub etfgubun: String,
    #[serde(with = "num::price")]
    pub uplmtprice: i64,
    #[serde(with = "num::price")]
    pub dnlmtprice: i64,
    #[serde(with = "num::price")]
    pub jnilclose: i64,
    pub memedan: String,
    #[serde(with = "num::price")]
    pub recprice: i64,
    /// Read from text or a number, written as text.
    #[serde(with = "num::text")]
    pub gubun: String,
    pub bu12gubun: String,
    pub spac_gubun: String,
    pub filler: String,
}

impl T8436OutBlock {
    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_of("t8436OutBlock", "shcode", &self.shcode)
    }

    /// `gubun`: `1` KOSPI, `2` KOSDAQ.
    pub fn market(&self) -> Result<Market, WireError> {
        match self.gubun.trim() {
            "1" => Ok(Market::Kospi),
            "2" => Ok(Market::Kosdaq),
            _ => Err(WireError::bad_value(
                "t8436OutBlock",
                "gubun",
                &self.gubun,
                "\"1\" or \"2\"",
            )),
        }
    }

    /// The day's band: `recprice`, `uplmtprice`, `dnlmtprice`.
    pub fn limits(&self) -> Result<DailyLimits, WireError> {
        Ok(DailyLimits {
            base: num::price_of("t8436OutBlock", "recprice", self.recprice)?,
            upper: num::price_of("t8436OutBlock", "uplmtprice", self.uplmtprice)?,
            lower: num::price_of("t8436OutBlock", "dnlmtprice", self.dnlmtprice)?,
        })
    }
}

/// t8436 reply: the list is the array `t8436OutBlock`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T8436Out {
    #[serde(rename = "t8436OutBlock", default)]
    pub out_block: Vec<T8436OutBlock>,
}

/// t8436: stock master list.
pub struct T8436;

impl Tr for T8436 {
    const TR_CD: &'static str = "t8436";
    const PATH: &'static str = PATH_ETC;
    const IN_BLOCK: &'static str = "t8436InBlock";
    type In = T8436InBlock;
    type Out = T8436Out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::rest::{
        decode_reply, decode_request, encode_reply, encode_request, path_for_tr,
    };
    use serde_json::Value;

    /// A t1102 reply with the doc's values: price 4535 on base 4525 (limits 5880/3170),
    /// `diff` "000.22", `per` "011.14", `memedan` "00001", KOSDAQ, plus a few extras.
    const QUOTE_REPLY: &str = r#"{"rsp_cd":"00000","rsp_msg":"정상적으로 조회가 완료되었습니다.","t1102OutBlock":{"hname":"테스트종목","price":4535,"sign":"2","change":10,"diff":"000.22","volume":120345,"recprice":4525,"avg":4530,"uplmtprice":5880,"dnlmtprice":3170,"jnilvolume":98000,"volumediff":22345,"open":4525,"opentime":"090030","high":4560,"hightime":"091500","low":4500,"lowtime":"090210","high52w":6200,"high52wdate":"20250312","low52w":3800,"low52wdate":"20241105","exhratio":"1.25","per":"011.14","pbrx":"0.85","listing":25000,"jkrate":"40","memedan":"00001","vol":"0.48","shcode":"078150","value":545,"jvolume":87000,"highyear":6200,"highyeardate":"20250312","lowyear":3900,"lowyeardate":"20250102","parprice":500,"total":1133,"listdate":"20100215","janginfo":"KOSDAQ","tonghwa":"KRW","svi_uplmtprice":4980,"svi_dnlmtprice":4080,"ex_shcode":"078150","offerno1":"키움증권","dvol1":1200,"ddiff1":"12.50","fwdvl":300,"bfsales":12345,"salert":"3.21","info1":"","nxt_janginfo":"","t_per":"9.80","subprice":3600,"brand_new_field":{"x":1}}}"#;

    fn keys<T: Serialize + Default>() -> Vec<String> {
        match serde_json::to_value(T::default()).unwrap() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn quote_reply_round_trips() {
        let r = decode_reply::<T1102>(QUOTE_REPLY).unwrap();
        assert!(T1102::succeeded(&r));
        let q = r.blocks.out_block.as_ref().unwrap();
        assert_eq!(q.ticker().unwrap(), Ticker::parse("078150").unwrap());
        assert_eq!(q.price().unwrap(), Price::lit(4535));
        assert_eq!(q.signed_change().unwrap(), 10);
        assert_eq!(q.diff_bp().unwrap(), 22);
        assert_eq!(q.volume().unwrap(), 120_345);
        assert_eq!(
            q.limits().unwrap(),
            DailyLimits::from_base(Price::lit(4525)),
            "LS's band is KRX's"
        );
        assert_eq!(q.market(), Some(Market::Kosdaq));
        assert_eq!((q.per.as_str(), q.memedan.as_str()), ("011.14", "00001"));
        assert_eq!(
            (q.dvol1.as_str(), q.ddiff1.as_str(), q.offerno1.as_str()),
            ("1200", "12.50", "키움증권")
        );
        assert_eq!(q.krx_mcls_price, None);
        let text = encode_reply::<T1102>(&r.rsp_cd, &r.rsp_msg, &r.blocks);
        assert_eq!(decode_reply::<T1102>(&text).unwrap(), r);
        // Typed fields keep their JSON types on the way out.
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["t1102OutBlock"]["price"], Value::from(4535));
        assert_eq!(v["t1102OutBlock"]["diff"], Value::from("000.22"));
        assert_eq!(v["t1102OutBlock"]["sign"], Value::from("2"));
    }

    /// Found by tests/hostile_input.rs: `signed_change` on a `change` of i64::MIN (a JSON
    /// number the lenient reader takes) overflowed in `Sign::apply`.
    #[test]
    fn a_change_of_i64_min_is_refused_naming_it() {
        let text = QUOTE_REPLY.replace(r#""change":10"#, r#""change":-9223372036854775808"#);
        let q = decode_reply::<T1102>(&text)
            .unwrap()
            .blocks
            .out_block
            .unwrap();
        let msg = q.signed_change().unwrap_err().to_string();
        assert!(
            msg.contains("t1102OutBlock")
                && msg.contains("`change`")
                && msg.contains("-9223372036854775808"),
            "{msg}"
        );
    }

    #[test]
    fn quote_reply_tolerates_retyping_and_names_bad_core_fields() {
        // Core numbers as text, extras as numbers, the UNCONFIRMED close present.
        let text = QUOTE_REPLY
            .replace(r#""price":4535"#, r#""price":"4535""#)
            .replace(r#""diff":"000.22""#, r#""diff":0.22"#)
            .replace(r#""dvol1":1200"#, r#""dvol1":"1200""#)
            .replace(r#""ddiff1":"12.50""#, r#""ddiff1":12.5"#)
            .replace(
                r#""subprice":3600"#,
                r#""subprice":3600,"krx_mcls_price":4540"#,
            );
        let q = decode_reply::<T1102>(&text)
            .unwrap()
            .blocks
            .out_block
            .unwrap();
        assert_eq!(
            (q.price, q.diff.as_str(), q.ddiff1.as_str()),
            (4535, "0.22", "12.5")
        );
        assert_eq!(q.krx_mcls_price, Some(4540));
        let e =
            decode_reply::<T1102>(&QUOTE_REPLY.replace(r#""price":4535"#, r#""price":"4,535""#))
                .unwrap_err();
        assert!(
            e.to_string().contains("t1102OutBlock.price") && e.to_string().contains("4,535"),
            "{e}"
        );
        let e =
            decode_reply::<T1102>(&QUOTE_REPLY.replace(r#""shcode":"078150","#, "")).unwrap_err();
        assert!(e.to_string().contains("shcode"), "{e}");
    }

    #[test]
    fn t1102_has_every_field_listed() {
        let mut want: Vec<String> = "hname, price, sign, change, diff, volume, recprice, avg, uplmtprice, dnlmtprice, jnilvolume, volumediff, open, opentime, high, hightime, low, lowtime, high52w, high52wdate, low52w, low52wdate, exhratio, per, pbrx, listing, jkrate, memedan, vol, shcode, value, jvolume, highyear, highyeardate, lowyear, lowyeardate, parprice, total, listdate, janginfo, tonghwa, svi_uplmtprice, svi_dnlmtprice, ex_shcode, offernocd1, offernocd2, offernocd3, offernocd4, offernocd5, bidnocd1, bidnocd2, bidnocd3, bidnocd4, bidnocd5, offerno1, offerno2, offerno3, offerno4, offerno5, bidno1, bidno2, bidno3, bidno4, bidno5, dvol1, dvol2, dvol3, dvol4, dvol5, svol1, svol2, svol3, svol4, svol5, dcha1, dcha2, dcha3, dcha4, dcha5, scha1, scha2, scha3, scha4, scha5, ddiff1, ddiff2, ddiff3, ddiff4, ddiff5, sdiff1, sdiff2, sdiff3, sdiff4, sdiff5, dval1, dval2, dval3, dval4, dval5, sval1, sval2, sval3, sval4, sval5, davg1, davg2, davg3, davg4, davg5, savg1, savg2, savg3, savg4, savg5, fwdvl, ftradmdcha, ftradmddiff, fwsvl, ftradmscha, ftradmsdiff, ftradmdval, ftradmsval, ftradmdvag, ftradmsvag, name, bfsales, bfoperatingincome, bfordinaryincome, bfnetincome, bfeps, name2, bfsales2, bfoperatingincome2, bfordinaryincome2, bfnetincome2, bfeps2, salert, opert, ordrt, netrt, epsrt, info1, info2, info3, info4, info5, spac_gubun, issueprice, alloc_gubun, alloc_text, shterm_text, low_lqdt_gu, abnormal_rise_gu, lend_text, ty_text, nxt_janginfo, nxt_shterm_text, nxt_svi_uplmtprice, nxt_svi_dnlmtprice, t_per, target, capital, abscnt, gsmm, subprice".split(", ").map(str::to_owned).collect();
        want.sort();
        assert_eq!(keys::<T1102OutBlock>(), want);
        assert_eq!(path_for_tr(T1102::TR_CD), Some(T1102::PATH));
        assert_eq!(path_for_tr(T8436::TR_CD), Some(T8436::PATH));
    }

    #[test]
    fn t1102_request_with_and_without_exchgubun() {
        let t = Ticker::parse("005930").unwrap();
        let body = encode_request::<T1102>(&T1102InBlock::new(t));
        assert_eq!(body, r#"{"t1102InBlock":{"shcode":"005930"}}"#);
        let with =
            decode_request::<T1102>(r#"{"t1102InBlock":{"exchgubun":"K","shcode":"005930"}}"#)
                .unwrap();
        assert_eq!(with.exchgubun.as_deref(), Some("K"));
        assert_eq!(with.ticker().unwrap(), t);
        assert!(decode_request::<T1102>(r#"{"t1102InBlock":{}}"#)
            .unwrap_err()
            .to_string()
            .contains("shcode"));
    }

    #[test]
    fn stock_master_gubun_is_text() {
        let text = r#"{"rsp_cd":"00000","rsp_msg":"조회완료","t8436OutBlock":[{"hname":"삼성전자","shcode":"005930","expcode":"KR7005930003","etfgubun":"0","uplmtprice":72100,"dnlmtprice":38850,"jnilclose":55500,"memedan":"00001","recprice":55500,"gubun":"1","bu12gubun":"01","spac_gubun":"N","filler":""},{"hname":"HB테크놀러지","shcode":"078150","expcode":"KR7078150004","etfgubun":"0","uplmtprice":5880,"dnlmtprice":3170,"jnilclose":4525,"memedan":"00001","recprice":4525,"gubun":2,"bu12gubun":"01","spac_gubun":"N","filler":""}]}"#;
        let r = decode_reply::<T8436>(text).unwrap();
        let [kospi, kosdaq] = &r.blocks.out_block[..] else {
            panic!("two rows")
        };
        assert_eq!(kospi.market().unwrap(), Market::Kospi);
        assert_eq!(
            kosdaq.market().unwrap(),
            Market::Kosdaq,
            "a numeric gubun is read"
        );
        assert_eq!(
            kospi.limits().unwrap(),
            DailyLimits::from_base(Price::lit(55_500))
        );
        assert_eq!(kosdaq.ticker().unwrap(), Ticker::parse("078150").unwrap());
        let out = r.to_json();
        assert!(
            out.contains(r#""gubun":"2""#),
            "gubun written as text: {out}"
        );
        assert_eq!(decode_reply::<T8436>(&out).unwrap(), r);
        assert_eq!(
            encode_request::<T8436>(&T8436InBlock::market(Market::Kosdaq)),
            r#"{"t8436InBlock":{"gubun":"2"}}"#
        );
        assert_eq!(T8436InBlock::all().gubun, "0");
        let bad = T8436OutBlock {
            gubun: "3".into(),
            ..kospi.clone()
        };
        assert!(bad.market().unwrap_err().to_string().contains("gubun"));
    }
}
