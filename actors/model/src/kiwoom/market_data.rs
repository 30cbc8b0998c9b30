//! Kiwoom's quote and master TRs on `/api/dostk/stkinfo` (reference §4.1, §4.2): ka10001
//! basic info and current price, ka10099 the codes and names of a market, ka10100 one
//! code's master row.
//!
//! Owns these shapes with the reference's field names (`250hgst` and friends need
//! renames; ka10099 alone is camelCase) and accessors that read Kiwoom's direction-marked
//! prices as positive won. Must never trust the official ka10001 example's values (they
//! are shifted by several fields): the field table's types are what is read.

use serde::{Deserialize, Serialize};

use super::num::{
    field_cum_volume, field_int, field_opt_int, field_price, field_price_or_zero, field_rate_bp,
    field_signed, field_uint, format_padded, format_price_vs, format_rate, format_signed, rate_bp,
};
use super::rest::{Tr, PATH_STKINFO};
use super::{stock_code, ticker_field};
use crate::market::{DailyLimits, Market, Price, Ticker};
use crate::wire::{Sign, WireError};

// ---------------------------------------------------------------------------------------
// ka10001

/// ka10001 request: `{"stk_cd":"005930"}` (`_NX`/`_AL` for NXT/SOR on the real server).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockCodeRequest {
    #[serde(with = "crate::wire::num::text")]
    pub stk_cd: String,
}

impl StockCodeRequest {
    pub fn new(ticker: Ticker) -> StockCodeRequest {
        StockCodeRequest {
            stk_cd: stock_code(ticker),
        }
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field("stk_cd request", "stk_cd", &self.stk_cd)
    }
}

text_struct! {
    /// ka10001 reply fields (§4.1's list, all text). Prices but `base_pric` are signed by
    /// their direction against the prior close; `flo_stk` is in thousands of shares, `mac`
    /// in 억원.
    pub struct Ka10001Reply {
        stk_cd, stk_nm, setl_mm, fav, cap, flo_stk, crd_rt, oyr_hgst, oyr_lwst, mac,
        mac_wght, for_exh_rt, repl_pric, per, eps, roe, pbr, ev, bps, sale_amt, bus_pro,
        cup_nga,
        #[serde(rename = "250hgst")]
        hgst_250,
        #[serde(rename = "250lwst")]
        lwst_250,
        high_pric, open_pric, low_pric, upl_pric, lst_pric, base_pric, exp_cntr_pric,
        exp_cntr_qty,
        #[serde(rename = "250hgst_pric_dt")]
        hgst_pric_dt_250,
        #[serde(rename = "250hgst_pric_pre_rt")]
        hgst_pric_pre_rt_250,
        #[serde(rename = "250lwst_pric_dt")]
        lwst_pric_dt_250,
        #[serde(rename = "250lwst_pric_pre_rt")]
        lwst_pric_pre_rt_250,
        cur_prc, pre_sig, pred_pre, flu_rt, trde_qty, trde_pre, fav_unit, dstr_stk, dstr_rt,
    }
}

/// What a quote needs to be written the way ka10001 writes it (the simulator's side).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quote {
    pub ticker: Ticker,
    /// Current price.
    pub price: Price,
    /// Base price (기준가), normally the prior close.
    pub base: Price,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    /// The day's volume (not a `Qty`: it can pass `MAX_QTY`).
    pub volume: u64,
}

impl Ka10001Reply {
    const WHAT: &'static str = "ka10001 reply";

    /// A reply for `quote`, numbers as Kiwoom writes them: prices marked against the
    /// base, the limits from KRX's ±30 % band, the change and its rate signed.
    pub fn from_quote(name: &str, q: &Quote) -> Ka10001Reply {
        let base = q.base.won();
        let limits = DailyLimits::from_base(q.base);
        let change = q.price.won() - base;
        let sign = Sign::of_change(change, q.price == limits.upper || q.price == limits.lower);
        Ka10001Reply {
            stk_cd: stock_code(q.ticker),
            stk_nm: name.to_owned(),
            base_pric: base.to_string(),
            upl_pric: format_price_vs(limits.upper.won(), base),
            lst_pric: format_price_vs(limits.lower.won(), base),
            open_pric: format_price_vs(q.open.won(), base),
            high_pric: format_price_vs(q.high.won(), base),
            low_pric: format_price_vs(q.low.won(), base),
            cur_prc: format_price_vs(q.price.won(), base),
            pre_sig: sign.code().to_owned(),
            pred_pre: format_signed(change),
            flu_rt: format_rate(rate_bp(change, base)),
            trde_qty: q.volume.to_string(),
            ..Ka10001Reply::default()
        }
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "stk_cd", &self.stk_cd)
    }

    /// `cur_prc`: the current price (its sign is a direction, not part of the price).
    pub fn price(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "cur_prc", &self.cur_prc)
    }

    /// `base_pric`: the base price, normally the prior close.
    pub fn base_price(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "base_pric", &self.base_pric)
    }

    /// `pre_sig`: 1 upper limit, 2 up, 3 flat, 4 lower limit, 5 down (LS's codes).
    pub fn sign(&self) -> Result<Sign, WireError> {
        Sign::parse_field(Self::WHAT, "pre_sig", &self.pre_sig)
    }

    /// `pred_pre`: the change against the prior close, signed.
    pub fn change(&self) -> Result<i64, WireError> {
        field_signed(Self::WHAT, "pred_pre", &self.pred_pre)
    }

    /// `flu_rt` in basis points (`"+0.71"` → 71).
    pub fn change_rate_bp(&self) -> Result<i64, WireError> {
        field_rate_bp(Self::WHAT, "flu_rt", &self.flu_rt)
    }

    /// `trde_qty`: the day's volume.
    pub fn volume(&self) -> Result<u64, WireError> {
        field_cum_volume(Self::WHAT, "trde_qty", &self.trde_qty)
    }

    pub fn open(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "open_pric", &self.open_pric)
    }

    pub fn high(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "high_pric", &self.high_pric)
    }

    pub fn low(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "low_pric", &self.low_pric)
    }

    /// `base_pric`, `upl_pric` / `lst_pric`: the day's price band as Kiwoom states it.
    pub fn limits(&self) -> Result<DailyLimits, WireError> {
        Ok(DailyLimits {
            base: self.base_price()?,
            upper: field_price(Self::WHAT, "upl_pric", &self.upl_pric)?,
            lower: field_price(Self::WHAT, "lst_pric", &self.lst_pric)?,
        })
    }

    /// `flo_stk`: listed shares in thousands.
    pub fn listed_thousands(&self) -> Result<u64, WireError> {
        field_uint(Self::WHAT, "flo_stk", &self.flo_stk)
    }

    /// `per`, blank when there is none (it is a decimal; `None` if blank).
    pub fn per_bp(&self) -> Result<Option<i64>, WireError> {
        if super::num::is_blank(&self.per) {
            return Ok(None);
        }
        field_rate_bp(Self::WHAT, "per", &self.per).map(Some)
    }

    /// `mac`: market cap in 억원, blank → `None`.
    pub fn market_cap_eok(&self) -> Result<Option<i64>, WireError> {
        field_opt_int(Self::WHAT, "mac", &self.mac)
    }
}

/// ka10001: basic info and current price.
pub struct Ka10001;

impl Tr for Ka10001 {
    const API_ID: &'static str = "ka10001";
    const PATH: &'static str = PATH_STKINFO;
    type Req = StockCodeRequest;
    type Resp = Ka10001Reply;
}

// ---------------------------------------------------------------------------------------
// ka10099 / ka10100

/// ka10099 `mrkt_tp`: `0` KOSPI, `10` KOSDAQ (others: `30` K-OTC, `50` KONEX, `60` ETN,
/// `8` ETF, … — see §4.2).
pub fn market_type(market: Market) -> &'static str {
    match market {
        Market::Kospi => "0",
        Market::Kosdaq => "10",
    }
}

/// ka10099 request: `{"mrkt_tp":"0"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ka10099Request {
    #[serde(with = "crate::wire::num::text")]
    pub mrkt_tp: String,
}

impl Ka10099Request {
    pub fn new(market: Market) -> Ka10099Request {
        Ka10099Request {
            mrkt_tp: market_type(market).to_owned(),
        }
    }

    /// The market asked for, `None` for a `mrkt_tp` outside KOSPI/KOSDAQ.
    pub fn market(&self) -> Option<Market> {
        match self.mrkt_tp.trim_ascii() {
            "0" => Some(Market::Kospi),
            "10" => Some(Market::Kosdaq),
            _ => None,
        }
    }
}

/// Width of ka10099's `listCount`.
pub const LIST_COUNT_WIDTH: usize = 16;
/// Width of ka10099's `lastPrice`.
pub const LAST_PRICE_WIDTH: usize = 8;

text_struct! {
    /// One ka10099 row (camelCase, unique to this TR): `{"code":"005930","name":"삼성전자",
    /// "listCount":"0000005969782550","lastPrice":"00070000","marketCode":"0",…}`.
    #[serde(rename_all = "camelCase")]
    pub struct StockInfo {
        code, name, list_count, audit_info, reg_day, last_price, state, market_code,
        market_name, up_name, up_size_name, company_class_name, order_warning, nxt_enable,
    }
}

impl StockInfo {
    const WHAT: &'static str = "ka10099 row";

    /// A row as the simulator writes it.
    pub fn new(
        ticker: Ticker,
        name: &str,
        market: Market,
        last_price: Price,
        listed: u64,
    ) -> StockInfo {
        StockInfo {
            code: stock_code(ticker),
            name: name.to_owned(),
            list_count: format_padded(i64::try_from(listed).unwrap_or(i64::MAX), LIST_COUNT_WIDTH),
            audit_info: "정상".to_owned(),
            last_price: format_padded(last_price.won(), LAST_PRICE_WIDTH),
            market_code: market_type(market).to_owned(),
            market_name: match market {
                Market::Kospi => "거래소",
                Market::Kosdaq => "코스닥",
            }
            .to_owned(),
            order_warning: "0".to_owned(),
            ..StockInfo::default()
        }
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "code", &self.code)
    }

    /// `lastPrice`: the prior close.
    pub fn last_price(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "lastPrice", &self.last_price)
    }

    /// `listCount`: listed shares.
    pub fn listed_shares(&self) -> Result<u64, WireError> {
        field_uint(Self::WHAT, "listCount", &self.list_count)
    }

    /// `marketCode` `0` KOSPI, `10` KOSDAQ; `None` for another market.
    pub fn market(&self) -> Option<Market> {
        match self.market_code.trim_ascii() {
            "0" => Some(Market::Kospi),
            "10" => Some(Market::Kosdaq),
            _ => None,
        }
    }

    /// `orderWarning`: `0` none, `1` ETF caution, `2` 정리매매, `3` 단기과열, `4` 투자위험,
    /// `5` 투자경고.
    pub fn order_warning(&self) -> Result<i64, WireError> {
        if super::num::is_blank(&self.order_warning) {
            return Ok(0);
        }
        field_int(Self::WHAT, "orderWarning", &self.order_warning)
    }

    /// `nxtEnable` is `Y`.
    pub fn nxt_enabled(&self) -> bool {
        self.nxt_enable.trim_ascii().eq_ignore_ascii_case("Y")
    }
}

/// ka10099 reply fields: the rows under `list`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ka10099Reply {
    #[serde(default, deserialize_with = "super::list_or_null")]
    pub list: Vec<StockInfo>,
}

/// ka10099: the codes and names of a market. Whether it pages in practice (~2,500 KOSPI
/// names) is UNCONFIRMED; clients loop on `cont-yn` ([`super::rest::Paging`]).
pub struct Ka10099;

impl Tr for Ka10099 {
    const API_ID: &'static str = "ka10099";
    const PATH: &'static str = PATH_STKINFO;
    type Req = Ka10099Request;
    type Resp = Ka10099Reply;
}

/// ka10100: one code's master row, with ka10099's members at the top level (§4.2;
/// UNCONFIRMED beyond that sentence).
pub struct Ka10100;

impl Tr for Ka10100 {
    const API_ID: &'static str = "ka10100";
    const PATH: &'static str = PATH_STKINFO;
    type Req = StockCodeRequest;
    type Resp = StockInfo;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiwoom::rest::{decode_reply, decode_request, encode_request, path_for_api_id};
    use crate::kiwoom::testing::{assert_covers, Rng};

    const KA10001_REPLY: &str = r#"{"stk_cd":"005930","stk_nm":"삼성전자","setl_mm":"12","fav":"100","cap":"8975","flo_stk":"5969783",
 "oyr_hgst":"+88800","oyr_lwst":"-49900","base_pric":"70000","upl_pric":"+91000","lst_pric":"-49000",
 "open_pric":"+70100","high_pric":"+70800","low_pric":"-69800","cur_prc":"+70500","pre_sig":"2",
 "pred_pre":"+500","flu_rt":"+0.71","trde_qty":"9263135","trde_pre":"+12.34","250hgst":"+88800",
 "250lwst":"-49900","per":"","eps":"","roe":"","pbr":"","return_code":0,"return_msg":"정상적으로 처리되었습니다"}"#;
    const KA10099_REPLY: &str = r#"{"return_code":0,"return_msg":"정상적으로 처리되었습니다","list":[{"code":"005930","name":"삼성전자",
 "listCount":"0000005969782550","auditInfo":"정상","regDay":"19750611","lastPrice":"00070000",
 "state":"증거금20%","marketCode":"0","marketName":"거래소","upName":"전기전자","upSizeName":"대형주",
 "companyClassName":"","orderWarning":"0","nxtEnable":"Y"}]}"#;

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    #[test]
    fn ka10001_round_trips_and_reads_prices_as_won() {
        let req = decode_request::<Ka10001>(r#"{"stk_cd": "005930"}"#).unwrap();
        assert_eq!(req, StockCodeRequest::new(samsung()));
        assert_eq!(encode_request::<Ka10001>(&req), r#"{"stk_cd":"005930"}"#);
        assert_eq!(req.ticker().unwrap(), samsung());

        let r = decode_reply::<Ka10001>(KA10001_REPLY).unwrap();
        let text = r.to_json();
        assert_covers(&text, KA10001_REPLY);
        assert_eq!(decode_reply::<Ka10001>(&text).unwrap(), r);
        let b = &r.body;
        assert_eq!(b.ticker().unwrap(), samsung());
        assert_eq!(b.price().unwrap(), Price::lit(70_500));
        assert_eq!(b.base_price().unwrap(), Price::lit(70_000));
        assert_eq!(b.sign().unwrap(), Sign::Up);
        assert_eq!(b.change().unwrap(), 500);
        assert_eq!(b.change_rate_bp().unwrap(), 71);
        assert_eq!(b.volume().unwrap(), 9_263_135);
        assert_eq!(
            (b.open().unwrap(), b.high().unwrap(), b.low().unwrap()),
            (Price::lit(70_100), Price::lit(70_800), Price::lit(69_800))
        );
        assert_eq!(
            b.limits().unwrap(),
            DailyLimits {
                base: Price::lit(70_000),
                upper: Price::lit(91_000),
                lower: Price::lit(49_000)
            }
        );
        assert_eq!(b.hgst_250, "+88800");
        assert_eq!(b.per_bp().unwrap(), None);
        assert_eq!(b.market_cap_eok().unwrap(), None);
        assert_eq!(b.listed_thousands().unwrap(), 5_969_783);
    }

    #[test]
    fn ka10001_is_written_as_kiwoom_writes_it() {
        let q = Quote {
            ticker: samsung(),
            price: Price::lit(70_500),
            base: Price::lit(70_000),
            open: Price::lit(70_100),
            high: Price::lit(70_800),
            low: Price::lit(69_800),
            volume: 9_263_135,
        };
        let b = Ka10001Reply::from_quote("삼성전자", &q);
        let text = crate::kiwoom::rest::Reply::ok(b.clone()).to_json();
        for (k, v) in [
            ("cur_prc", "+70500"),
            ("base_pric", "70000"),
            ("upl_pric", "+91000"),
            ("lst_pric", "-49000"),
            ("low_pric", "-69800"),
            ("pre_sig", "2"),
            ("pred_pre", "+500"),
            ("flu_rt", "+0.71"),
        ] {
            assert!(text.contains(&format!(r#""{k}":"{v}""#)), "{k}: {text}");
        }
        assert_eq!(b.price().unwrap(), q.price);
        assert_eq!(b.limits().unwrap(), DailyLimits::from_base(q.base));
        let down = Ka10001Reply::from_quote(
            "x",
            &Quote {
                price: Price::lit(49_000),
                ..q
            },
        );
        assert_eq!(
            (down.sign().unwrap(), down.cur_prc.as_str()),
            (Sign::LowerLimit, "-49000")
        );
        let flat = Ka10001Reply::from_quote(
            "x",
            &Quote {
                price: Price::lit(70_000),
                ..q
            },
        );
        assert_eq!(
            (
                flat.pre_sig.as_str(),
                flat.pred_pre.as_str(),
                flat.flu_rt.as_str()
            ),
            ("3", "0", "0.00")
        );
    }

    #[test]
    fn ka10001_bad_fields_are_named() {
        let r = decode_reply::<Ka10001>(KA10001_REPLY).unwrap().body;
        let cases: Vec<(Ka10001Reply, &str)> = vec![
            (
                Ka10001Reply {
                    cur_prc: "+70,5OO".into(),
                    ..r.clone()
                },
                "cur_prc",
            ),
            (
                Ka10001Reply {
                    cur_prc: "-0".into(),
                    ..r.clone()
                },
                "cur_prc",
            ),
            (
                Ka10001Reply {
                    pre_sig: "9".into(),
                    ..r.clone()
                },
                "pre_sig",
            ),
            (
                Ka10001Reply {
                    flu_rt: "+0.715".into(),
                    ..r.clone()
                },
                "flu_rt",
            ),
            (
                Ka10001Reply {
                    trde_qty: "-5".into(),
                    ..r.clone()
                },
                "trde_qty",
            ),
            (
                Ka10001Reply {
                    upl_pric: "".into(),
                    ..r.clone()
                },
                "upl_pric",
            ),
        ];
        for (b, field) in cases {
            let errors = [
                b.price().err(),
                b.sign().err(),
                b.change_rate_bp().err(),
                b.volume().err(),
                b.limits().err(),
            ];
            let e = errors.into_iter().flatten().next().expect("an error");
            let msg = e.to_string();
            assert!(
                msg.contains("ka10001 reply") && msg.contains(&format!("`{field}`")),
                "{msg}"
            );
        }
        // The official example's shifted values are caught, not misread.
        let shifted = KA10001_REPLY
            .replace(r#""upl_pric":"+91000""#, r#""upl_pric":"20241016""#)
            .replace(r#""lst_pric":"-49000""#, r#""lst_pric":"-47.41""#);
        let b = decode_reply::<Ka10001>(&shifted).unwrap().body;
        assert!(b.limits().unwrap_err().to_string().contains("lst_pric"));
    }

    #[test]
    fn ka10099_round_trips() {
        let req = decode_request::<Ka10099>(r#"{"mrkt_tp": "0"}"#).unwrap();
        assert_eq!(req, Ka10099Request::new(Market::Kospi));
        assert_eq!(req.market(), Some(Market::Kospi));
        assert_eq!(Ka10099Request::new(Market::Kosdaq).mrkt_tp, "10");
        assert_eq!(encode_request::<Ka10099>(&req), r#"{"mrkt_tp":"0"}"#);

        let r = decode_reply::<Ka10099>(KA10099_REPLY).unwrap();
        let text = r.to_json();
        assert_covers(&text, KA10099_REPLY);
        assert_eq!(decode_reply::<Ka10099>(&text).unwrap(), r);
        let row = &r.body.list[0];
        assert_eq!(row.ticker().unwrap(), samsung());
        assert_eq!(row.last_price().unwrap(), Price::lit(70_000));
        assert_eq!(row.listed_shares().unwrap(), 5_969_782_550);
        assert_eq!(row.market(), Some(Market::Kospi));
        assert_eq!(row.order_warning().unwrap(), 0);
        assert!(row.nxt_enabled());
        let built = StockInfo::new(
            samsung(),
            "삼성전자",
            Market::Kospi,
            Price::lit(70_000),
            5_969_782_550,
        );
        assert_eq!(
            (built.list_count.as_str(), built.last_price.as_str()),
            ("0000005969782550", "00070000")
        );
        assert_eq!(built.market(), Some(Market::Kospi));
        // An empty market: list [] or null.
        let r =
            decode_reply::<Ka10099>(r#"{"return_code":0,"return_msg":"","list":null}"#).unwrap();
        assert!(r.body.list.is_empty());
        let e =
            decode_reply::<Ka10099>(r#"{"return_code":0,"list":[{"code":5930,"lastPrice":{}}]}"#)
                .unwrap_err();
        assert!(e.to_string().contains("list[0].lastPrice"), "{e}");
    }

    #[test]
    fn ka10100_reads_one_row() {
        let one = r#"{"code":"000660","name":"SK하이닉스","lastPrice":"00180000","marketCode":"0","return_code":0,"return_msg":""}"#;
        let r = decode_reply::<Ka10100>(one).unwrap();
        assert_eq!(r.body.ticker().unwrap(), Ticker::parse("000660").unwrap());
        assert_eq!(r.body.last_price().unwrap(), Price::lit(180_000));
        assert_covers(&r.to_json(), one);
        for (id, path) in [
            (Ka10001::API_ID, Ka10001::PATH),
            (Ka10099::API_ID, Ka10099::PATH),
            (Ka10100::API_ID, Ka10100::PATH),
        ] {
            assert_eq!(path_for_api_id(id), Some(path));
        }
    }

    #[test]
    fn random_replies_never_panic() {
        let mut rng = Rng::new(0x3a1e_0001);
        for sample in [KA10001_REPLY, KA10099_REPLY] {
            for _ in 0..2000 {
                let t = rng.mutate(sample);
                if let Ok(r) = decode_reply::<Ka10001>(&t) {
                    let b = r.body;
                    let _ = (b.ticker(), b.price(), b.base_price(), b.sign(), b.change());
                    let _ = (
                        b.change_rate_bp(),
                        b.volume(),
                        b.limits(),
                        b.open(),
                        b.per_bp(),
                    );
                }
                if let Ok(r) = decode_reply::<Ka10099>(&t) {
                    for row in &r.body.list {
                        let _ = (
                            row.ticker(),
                            row.last_price(),
                            row.listed_shares(),
                            row.order_warning(),
                        );
                    }
                }
            }
        }
    }
}
