//! Cash-order TRs on `/stock/order` (reference §4.5–§4.7): CSPAT00601 new order,
//! CSPAT00701 modify, CSPAT00801 cancel — in-blocks, out-blocks and typed accessors.
//!
//! Owns the exact field names and the number leniency clients need (`OrdQty` as `5`,
//! `"5"` or `5.0`; `OrdPrc` as `60000`, `"60000"`, `60000.0` or `"60000.00"`). Must never
//! decide whether an order is wise (that is the risk gate's job) and never lose a
//! fraction: a price with non-zero decimals is refused, not rounded.

use serde::{Deserialize, Serialize};

use super::num;
use super::rest::{
    Reply, Tr, PATH_ORDER, RSP_BUY_ACCEPTED, RSP_CANCEL_ACCEPTED, RSP_SELL_ACCEPTED,
};
use super::WireError;
use crate::domain::{NewOrder, OrderType};
use crate::market::{Price, Qty, Side, Ticker};

/// `MgntrnCode` of a cash order.
pub const CASH_MGNTRN_CODE: &str = "000";

/// `OrdprcPtnCode` (호가유형코드).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PriceType {
    /// `00` 지정가.
    Limit,
    /// `03` 시장가.
    Market,
    /// `05` 조건부지정가.
    ConditionalLimit,
    /// `06` 최유리지정가.
    Best,
    /// `07` 최우선지정가.
    TopPriority,
    /// `12` 중간가.
    MidPrice,
    /// `61` 장개시전시간외종가.
    PreOpenAfterHoursClose,
    /// `81` 시간외종가.
    AfterHoursClose,
    /// `82` 시간외단일가.
    AfterHoursSingle,
}

impl PriceType {
    pub fn code(self) -> &'static str {
        match self {
            PriceType::Limit => "00",
            PriceType::Market => "03",
            PriceType::ConditionalLimit => "05",
            PriceType::Best => "06",
            PriceType::TopPriority => "07",
            PriceType::MidPrice => "12",
            PriceType::PreOpenAfterHoursClose => "61",
            PriceType::AfterHoursClose => "81",
            PriceType::AfterHoursSingle => "82",
        }
    }

    pub fn from_code(code: &str) -> Option<PriceType> {
        Some(match code.trim_ascii() {
            "00" => PriceType::Limit,
            "03" => PriceType::Market,
            "05" => PriceType::ConditionalLimit,
            "06" => PriceType::Best,
            "07" => PriceType::TopPriority,
            "12" => PriceType::MidPrice,
            "61" => PriceType::PreOpenAfterHoursClose,
            "81" => PriceType::AfterHoursClose,
            "82" => PriceType::AfterHoursSingle,
            _ => return None,
        })
    }
}

/// `OrdCndiTpCode` (주문조건).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OrderCondition {
    /// `0`.
    None,
    /// `1` immediate-or-cancel.
    Ioc,
    /// `2` fill-or-kill.
    Fok,
}

impl OrderCondition {
    pub fn code(self) -> &'static str {
        match self {
            OrderCondition::None => "0",
            OrderCondition::Ioc => "1",
            OrderCondition::Fok => "2",
        }
    }

    /// Blank reads as `0` (none): clients that omit the field mean no condition.
    pub fn from_code(code: &str) -> Option<OrderCondition> {
        match code.trim_ascii() {
            "" | "0" => Some(OrderCondition::None),
            "1" => Some(OrderCondition::Ioc),
            "2" => Some(OrderCondition::Fok),
            _ => None,
        }
    }
}

/// `IsuNo` for a stock: `A` + code, which both servers accept (paper requires it).
pub fn isu_no(ticker: Ticker) -> String {
    ticker.shtn_isu_no()
}

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

fn price_type_of(what: &str, value: &str) -> Result<PriceType, WireError> {
    PriceType::from_code(value).ok_or_else(|| {
        WireError::bad_value(
            what,
            "OrdprcPtnCode",
            value,
            "00, 03, 05, 06, 07, 12, 61, 81 or 82",
        )
    })
}

fn condition_of(what: &str, value: &str) -> Result<OrderCondition, WireError> {
    OrderCondition::from_code(value)
        .ok_or_else(|| WireError::bad_value(what, "OrdCndiTpCode", value, "0, 1 or 2"))
}

fn price_text(what: &str, field: &'static str, value: &str) -> Result<Price, WireError> {
    num::field_price_or_zero(what, field, value)
}

/// An in-block's `OrdQty` as a [`Qty`] (the block is the client's: any number can come).
fn ord_qty(what: &str, value: u64) -> Result<Qty, WireError> {
    Qty::new(value)
        .map_err(|_| WireError::bad_value(what, "OrdQty", &value.to_string(), num::EXPECT_QTY))
}

/// An in-block's `OrdPrc` as a [`Price`] (0 for a market order).
fn ord_prc(what: &str, value: i64) -> Result<Price, WireError> {
    num::price_of(what, "OrdPrc", value)
}

/// CSPAT00601InBlock1: a new cash order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cspat00601InBlock1 {
    /// `005930` or `A005930` (paper requires the `A`).
    pub isu_no: String,
    #[serde(with = "num::uint")]
    pub ord_qty: u64,
    /// Whole won; 0 for a market order. N13.2 on the doc, sent as a JSON number.
    #[serde(with = "num::int")]
    pub ord_prc: i64,
    /// `1` sell, `2` buy.
    pub bns_tp_code: String,
    pub ordprc_ptn_code: String,
    #[serde(default)]
    pub mgntrn_code: String,
    #[serde(default)]
    pub loan_dt: String,
    #[serde(default)]
    pub ord_cndi_tp_code: String,
    /// `KRX` or `NXT`; blank or anything else means KRX. Newer, so omitted when blank.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mbr_no: String,
}

impl Cspat00601InBlock1 {
    const WHAT: &'static str = "CSPAT00601InBlock1";

    /// A cash order on KRX.
    pub fn new(
        ticker: Ticker,
        side: Side,
        qty: Qty,
        price_type: PriceType,
        price: Price,
        condition: OrderCondition,
    ) -> Cspat00601InBlock1 {
        Cspat00601InBlock1 {
            isu_no: isu_no(ticker),
            ord_qty: qty.shares(),
            ord_prc: price.won(),
            bns_tp_code: side.ls_code().to_owned(),
            ordprc_ptn_code: price_type.code().to_owned(),
            mgntrn_code: CASH_MGNTRN_CODE.to_owned(),
            loan_dt: String::new(),
            ord_cndi_tp_code: condition.code().to_owned(),
            mbr_no: String::new(),
        }
    }

    /// A plain limit order.
    pub fn limit(ticker: Ticker, side: Side, qty: Qty, price: Price) -> Cspat00601InBlock1 {
        Self::new(
            ticker,
            side,
            qty,
            PriceType::Limit,
            price,
            OrderCondition::None,
        )
    }

    /// A market order (price 0).
    pub fn market(ticker: Ticker, side: Side, qty: Qty) -> Cspat00601InBlock1 {
        Self::new(
            ticker,
            side,
            qty,
            PriceType::Market,
            Price::lit(0),
            OrderCondition::None,
        )
    }

    /// LS's request for a domain order.
    pub fn for_order(order: &NewOrder) -> Cspat00601InBlock1 {
        match order.order_type {
            OrderType::Market => Self::market(order.ticker, order.side, order.qty),
            OrderType::Limit(p) => Self::limit(order.ticker, order.side, order.qty, p),
        }
    }

    /// The domain order this request asks for. Only limit and market orders are ones the
    /// engine sends; any other price type is an error naming it.
    pub fn new_order(&self) -> Result<NewOrder, WireError> {
        let order_type = match self.price_type()? {
            PriceType::Market => OrderType::Market,
            PriceType::Limit => OrderType::Limit(self.price()?),
            _ => {
                return Err(WireError::bad_value(
                    Self::WHAT,
                    "OrdprcPtnCode",
                    &self.ordprc_ptn_code,
                    "00 (limit) or 03 (market)",
                ))
            }
        };
        Ok(NewOrder {
            ticker: self.ticker()?,
            side: self.side()?,
            qty: self.qty()?,
            order_type,
        })
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_of(Self::WHAT, "IsuNo", &self.isu_no)
    }

    pub fn side(&self) -> Result<Side, WireError> {
        Side::from_ls_code(self.bns_tp_code.trim_ascii()).ok_or_else(|| {
            WireError::bad_value(Self::WHAT, "BnsTpCode", &self.bns_tp_code, "1 or 2")
        })
    }

    pub fn qty(&self) -> Result<Qty, WireError> {
        ord_qty(Self::WHAT, self.ord_qty)
    }

    pub fn price(&self) -> Result<Price, WireError> {
        ord_prc(Self::WHAT, self.ord_prc)
    }

    pub fn price_type(&self) -> Result<PriceType, WireError> {
        price_type_of(Self::WHAT, &self.ordprc_ptn_code)
    }

    pub fn condition(&self) -> Result<OrderCondition, WireError> {
        condition_of(Self::WHAT, &self.ord_cndi_tp_code)
    }
}

/// CSPAT00601OutBlock1: the order echoed back. `OrdPrc` is fixed-decimal text
/// (`"35000.00"`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspat00601OutBlock1 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    pub acnt_no: String,
    /// `********`.
    pub inpt_pwd: String,
    pub isu_no: String,
    #[serde(with = "num::int_or_zero")]
    pub ord_qty: i64,
    #[serde(with = "num::text")]
    pub ord_prc: String,
    pub bns_tp_code: String,
    pub ordprc_ptn_code: String,
    pub prgm_ordprc_ptn_code: String,
    pub stsl_able_yn: String,
    pub stsl_ordprc_tp_code: String,
    pub commda_code: String,
    pub mgntrn_code: String,
    pub loan_dt: String,
    pub mbr_no: String,
    pub ord_cndi_tp_code: String,
    pub strtg_code: String,
    pub grp_id: String,
    #[serde(with = "num::int_or_zero")]
    pub ord_seq_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub ptfl_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub bsk_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub trch_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub item_no: i64,
    pub op_drtn_no: String,
    pub lp_yn: String,
    pub cvrg_tp_code: String,
}

impl Cspat00601OutBlock1 {
    /// `OrdPrc` in whole won.
    pub fn price(&self) -> Result<Price, WireError> {
        price_text("CSPAT00601OutBlock1", "OrdPrc", &self.ord_prc)
    }
}

/// CSPAT00601OutBlock2: the result. `OrdNo` is a JSON number; 0 on a rejection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspat00601OutBlock2 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    #[serde(with = "num::int_or_zero")]
    pub ord_no: i64,
    /// HHMMSSmmm.
    pub ord_time: String,
    /// `10` KOSPI, `20` KOSDAQ.
    pub ord_mkt_code: String,
    /// `01` sell, `02` buy.
    pub ord_ptn_code: String,
    /// `A` + code.
    pub shtn_isu_no: String,
    pub mgemp_no: String,
    #[serde(with = "num::int_or_zero")]
    pub ord_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub spare_ord_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub cvrg_seqno: i64,
    #[serde(with = "num::int_or_zero")]
    pub rsv_ord_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub spot_ord_qty: i64,
    #[serde(with = "num::int_or_zero")]
    pub ruse_ord_qty: i64,
    #[serde(with = "num::int_or_zero")]
    pub mny_ord_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub subst_ord_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub ruse_ord_amt: i64,
    pub acnt_nm: String,
    pub isu_nm: String,
}

/// CSPAT00601 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cspat00601Out {
    #[serde(
        rename = "CSPAT00601OutBlock1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block1: Option<Cspat00601OutBlock1>,
    #[serde(
        rename = "CSPAT00601OutBlock2",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block2: Option<Cspat00601OutBlock2>,
}

impl Cspat00601Out {
    /// The new order's number, if the broker gave one (positive `OrdNo`).
    pub fn ord_no(&self) -> Option<i64> {
        self.out_block2
            .as_ref()
            .map(|b| b.ord_no)
            .filter(|&n| n > 0)
    }
}

/// CSPAT00601: new cash order. Success: `00040` buy, `00039` sell.
pub struct Cspat00601;

impl Tr for Cspat00601 {
    const TR_CD: &'static str = "CSPAT00601";
    const PATH: &'static str = PATH_ORDER;
    const IN_BLOCK: &'static str = "CSPAT00601InBlock1";
    const SUCCESS_CODES: &'static [&'static str] = &[RSP_BUY_ACCEPTED, RSP_SELL_ACCEPTED];
    type In = Cspat00601InBlock1;
    type Out = Cspat00601Out;
}

/// CSPAT00701InBlock1: modify an order's price (and quantity).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cspat00701InBlock1 {
    /// Some clients send it as text.
    #[serde(with = "num::int")]
    pub org_ord_no: i64,
    pub isu_no: String,
    #[serde(with = "num::uint")]
    pub ord_qty: u64,
    pub ordprc_ptn_code: String,
    #[serde(default)]
    pub ord_cndi_tp_code: String,
    #[serde(with = "num::int")]
    pub ord_prc: i64,
}

impl Cspat00701InBlock1 {
    const WHAT: &'static str = "CSPAT00701InBlock1";

    /// Moves `qty` shares of order `org_ord_no` to a new limit price.
    pub fn limit(org_ord_no: i64, ticker: Ticker, qty: Qty, price: Price) -> Cspat00701InBlock1 {
        Cspat00701InBlock1 {
            org_ord_no,
            isu_no: isu_no(ticker),
            ord_qty: qty.shares(),
            ordprc_ptn_code: PriceType::Limit.code().to_owned(),
            ord_cndi_tp_code: OrderCondition::None.code().to_owned(),
            ord_prc: price.won(),
        }
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_of(Self::WHAT, "IsuNo", &self.isu_no)
    }

    pub fn qty(&self) -> Result<Qty, WireError> {
        ord_qty(Self::WHAT, self.ord_qty)
    }

    pub fn price(&self) -> Result<Price, WireError> {
        ord_prc(Self::WHAT, self.ord_prc)
    }

    pub fn price_type(&self) -> Result<PriceType, WireError> {
        price_type_of(Self::WHAT, &self.ordprc_ptn_code)
    }

    pub fn condition(&self) -> Result<OrderCondition, WireError> {
        condition_of(Self::WHAT, &self.ord_cndi_tp_code)
    }
}

/// CSPAT00701OutBlock1: the modify request echoed back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspat00701OutBlock1 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    #[serde(with = "num::int_or_zero")]
    pub org_ord_no: i64,
    pub acnt_no: String,
    pub inpt_pwd: String,
    pub isu_no: String,
    #[serde(with = "num::int_or_zero")]
    pub ord_qty: i64,
    pub ordprc_ptn_code: String,
    pub ord_cndi_tp_code: String,
    #[serde(with = "num::text")]
    pub ord_prc: String,
    pub commda_code: String,
    pub strtg_code: String,
    pub grp_id: String,
    #[serde(with = "num::int_or_zero")]
    pub ord_seq_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub ptfl_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub bsk_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub trch_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub item_no: i64,
}

impl Cspat00701OutBlock1 {
    /// `OrdPrc` in whole won.
    pub fn price(&self) -> Result<Price, WireError> {
        price_text("CSPAT00701OutBlock1", "OrdPrc", &self.ord_prc)
    }
}

/// CSPAT00701OutBlock2: the result; `OrdNo` is the modify order's new number, 0 on a
/// rejection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspat00701OutBlock2 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    #[serde(with = "num::int_or_zero")]
    pub ord_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub prnt_ord_no: i64,
    pub ord_time: String,
    pub ord_mkt_code: String,
    pub ord_ptn_code: String,
    pub shtn_isu_no: String,
    pub prgm_ordprc_ptn_code: String,
    pub stsl_ordprc_tp_code: String,
    pub stsl_able_yn: String,
    pub mgntrn_code: String,
    pub loan_dt: String,
    pub cvrg_ord_tp: String,
    pub lp_yn: String,
    pub mgemp_no: String,
    #[serde(with = "num::int_or_zero")]
    pub ord_amt: i64,
    /// `1` sell, `2` buy.
    pub bns_tp_code: String,
    #[serde(with = "num::int_or_zero")]
    pub spare_ord_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub cvrg_seqno: i64,
    #[serde(with = "num::int_or_zero")]
    pub rsv_ord_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub mny_ord_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub subst_ord_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub ruse_ord_amt: i64,
    pub acnt_nm: String,
    pub isu_nm: String,
}

/// CSPAT00701 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cspat00701Out {
    #[serde(
        rename = "CSPAT00701OutBlock1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block1: Option<Cspat00701OutBlock1>,
    #[serde(
        rename = "CSPAT00701OutBlock2",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block2: Option<Cspat00701OutBlock2>,
}

impl Cspat00701Out {
    /// The modify order's number, if the broker gave one (positive `OrdNo`).
    pub fn ord_no(&self) -> Option<i64> {
        self.out_block2
            .as_ref()
            .map(|b| b.ord_no)
            .filter(|&n| n > 0)
    }
}

/// CSPAT00701: modify.
pub struct Cspat00701;

impl Tr for Cspat00701 {
    const TR_CD: &'static str = "CSPAT00701";
    const PATH: &'static str = PATH_ORDER;
    const IN_BLOCK: &'static str = "CSPAT00701InBlock1";
    // UNCONFIRMED: LS's success code for a modify is unknown; success is judged as the
    // clients do (positive OrdNo) on a non-error code, see `succeeded`.
    const SUCCESS_CODES: &'static [&'static str] = &[];
    type In = Cspat00701InBlock1;
    type Out = Cspat00701Out;

    /// A positive `OrdNo` under a `00…` code (business errors are `01478`, `03181`, …;
    /// gateway errors `IGW…`).
    fn succeeded(reply: &Reply<Cspat00701Out>) -> bool {
        reply.rsp_cd.starts_with("00") && reply.blocks.ord_no().is_some()
    }
}

/// CSPAT00801InBlock1: cancel `OrdQty` shares of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Cspat00801InBlock1 {
    #[serde(with = "num::int")]
    pub org_ord_no: i64,
    pub isu_no: String,
    #[serde(with = "num::uint")]
    pub ord_qty: u64,
}

impl Cspat00801InBlock1 {
    const WHAT: &'static str = "CSPAT00801InBlock1";

    pub fn new(org_ord_no: i64, ticker: Ticker, qty: Qty) -> Cspat00801InBlock1 {
        Cspat00801InBlock1 {
            org_ord_no,
            isu_no: isu_no(ticker),
            ord_qty: qty.shares(),
        }
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_of(Self::WHAT, "IsuNo", &self.isu_no)
    }

    pub fn qty(&self) -> Result<Qty, WireError> {
        ord_qty(Self::WHAT, self.ord_qty)
    }
}

/// CSPAT00801OutBlock1: the cancel request echoed back.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspat00801OutBlock1 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    #[serde(with = "num::int_or_zero")]
    pub org_ord_no: i64,
    pub acnt_no: String,
    pub inpt_pwd: String,
    pub isu_no: String,
    #[serde(with = "num::int_or_zero")]
    pub ord_qty: i64,
    pub commda_code: String,
    pub grp_id: String,
    pub strtg_code: String,
    #[serde(with = "num::int_or_zero")]
    pub ord_seq_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub ptfl_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub bsk_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub trch_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub item_no: i64,
}

/// CSPAT00801OutBlock2: `OrdNo` is the cancel order's number, `PrntOrdNo` the original.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspat00801OutBlock2 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    #[serde(with = "num::int_or_zero")]
    pub ord_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub prnt_ord_no: i64,
    pub ord_time: String,
    pub ord_mkt_code: String,
    pub ord_ptn_code: String,
    pub shtn_isu_no: String,
    pub prgm_ordprc_ptn_code: String,
    pub stsl_ordprc_tp_code: String,
    pub stsl_able_yn: String,
    pub mgntrn_code: String,
    /// `00000000` on a cash order.
    pub loan_dt: String,
    pub cvrg_ord_tp: String,
    pub lp_yn: String,
    pub mgemp_no: String,
    pub bns_tp_code: String,
    #[serde(with = "num::int_or_zero")]
    pub spare_ord_no: i64,
    #[serde(with = "num::int_or_zero")]
    pub cvrg_seqno: i64,
    #[serde(with = "num::int_or_zero")]
    pub rsv_ord_no: i64,
    pub acnt_nm: String,
    pub isu_nm: String,
}

/// CSPAT00801 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cspat00801Out {
    #[serde(
        rename = "CSPAT00801OutBlock1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block1: Option<Cspat00801OutBlock1>,
    #[serde(
        rename = "CSPAT00801OutBlock2",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block2: Option<Cspat00801OutBlock2>,
}

impl Cspat00801Out {
    /// The cancel order's number, if the broker gave one.
    pub fn ord_no(&self) -> Option<i64> {
        self.out_block2
            .as_ref()
            .map(|b| b.ord_no)
            .filter(|&n| n > 0)
    }
}

/// CSPAT00801: cancel. Success: `00156`.
pub struct Cspat00801;

impl Tr for Cspat00801 {
    const TR_CD: &'static str = "CSPAT00801";
    const PATH: &'static str = PATH_ORDER;
    const IN_BLOCK: &'static str = "CSPAT00801InBlock1";
    const SUCCESS_CODES: &'static [&'static str] = &[RSP_CANCEL_ACCEPTED];
    type In = Cspat00801InBlock1;
    type Out = Cspat00801Out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::rest::{
        decode_reply, decode_request, encode_reply, encode_request, path_for_tr,
    };
    use serde_json::Value;

    /// A CSPAT00601 buy reply with every §4.5 field, values in the doc's style (OrdNo
    /// 32004, OrdPrc "35000.00", ShtnIsuNo "A272210", OrdTime "153257702").
    const NEW_ORDER_REPLY: &str = r#"{"rsp_cd":"00040","rsp_msg":"매수 주문이 완료되었습니다.","CSPAT00601OutBlock1":{"RecCnt":1,"AcntNo":"20011132702","InptPwd":"********","IsuNo":"A272210","OrdQty":1,"OrdPrc":"35000.00","BnsTpCode":"2","OrdprcPtnCode":"00","PrgmOrdprcPtnCode":"00","StslAbleYn":"0","StslOrdprcTpCode":"0","CommdaCode":"40","MgntrnCode":"000","LoanDt":"","MbrNo":"KRX","OrdCndiTpCode":"0","StrtgCode":" ","GrpId":"","OrdSeqNo":0,"PtflNo":0,"BskNo":0,"TrchNo":0,"ItemNo":0,"OpDrtnNo":"0","LpYn":"0","CvrgTpCode":"0"},"CSPAT00601OutBlock2":{"RecCnt":1,"OrdNo":32004,"OrdTime":"153257702","OrdMktCode":"10","OrdPtnCode":"02","ShtnIsuNo":"A272210","MgempNo":"","OrdAmt":35000,"SpareOrdNo":0,"CvrgSeqno":0,"RsvOrdNo":0,"SpotOrdQty":1,"RuseOrdQty":0,"MnyOrdAmt":35000,"SubstOrdAmt":0,"RuseOrdAmt":0,"AcntNm":"우우돌","IsuNm":"한화시스템"}}"#;

    /// §3.2's CSPAT00701 business error: HTTP 200, blocks zero-filled (OutBlock2 first,
    /// as in the doc), OutBlock1 echoing the request.
    const MODIFY_REJECTED: &str = r#"{"rsp_cd":"03181","rsp_msg":"주문가격이 하한가 미달입니다.","CSPAT00701OutBlock2":{"RecCnt":0,"OrdNo":0,"PrntOrdNo":0,"OrdTime":"","OrdMktCode":"","OrdPtnCode":"","ShtnIsuNo":"","PrgmOrdprcPtnCode":"","StslOrdprcTpCode":"","StslAbleYn":"","MgntrnCode":"","LoanDt":"","CvrgOrdTp":"","LpYn":"","MgempNo":"","OrdAmt":0,"BnsTpCode":"","SpareOrdNo":0,"CvrgSeqno":0,"RsvOrdNo":0,"MnyOrdAmt":0,"SubstOrdAmt":0,"RuseOrdAmt":0,"AcntNm":"","IsuNm":""},"CSPAT00701OutBlock1":{"RecCnt":1,"OrgOrdNo":32004,"AcntNo":"20011132702","InptPwd":"********","IsuNo":"A272210","OrdQty":1,"OrdprcPtnCode":"00","OrdCndiTpCode":"0","OrdPrc":"100.00","CommdaCode":"40","StrtgCode":"","GrpId":"","OrdSeqNo":0,"PtflNo":0,"BskNo":0,"TrchNo":0,"ItemNo":0}}"#;

    const CANCEL_REPLY: &str = r#"{"rsp_cd":"00156","rsp_msg":"취소주문이 완료되었습니다.","CSPAT00801OutBlock1":{"RecCnt":1,"OrgOrdNo":32004,"AcntNo":"20011132702","InptPwd":"********","IsuNo":"A272210","OrdQty":1,"CommdaCode":"40","GrpId":"","StrtgCode":"","OrdSeqNo":0,"PtflNo":0,"BskNo":0,"TrchNo":0,"ItemNo":0},"CSPAT00801OutBlock2":{"RecCnt":1,"OrdNo":32005,"PrntOrdNo":32004,"OrdTime":"153300120","OrdMktCode":"10","OrdPtnCode":"02","ShtnIsuNo":"A272210","PrgmOrdprcPtnCode":"00","StslOrdprcTpCode":"0","StslAbleYn":"0","MgntrnCode":"000","LoanDt":"00000000","CvrgOrdTp":"0","LpYn":"0","MgempNo":"","BnsTpCode":"2","SpareOrdNo":0,"CvrgSeqno":0,"RsvOrdNo":0,"AcntNm":"우우돌","IsuNm":"한화시스템"}}"#;

    fn keys<T: Serialize + Default>() -> Vec<String> {
        match serde_json::to_value(T::default()).unwrap() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => unreachable!(),
        }
    }

    fn sorted(list: &str) -> Vec<String> {
        let mut v: Vec<String> = list.split(", ").map(str::to_owned).collect();
        v.sort();
        v
    }

    #[test]
    fn block_field_names_are_the_references() {
        // Lists copied from §4.5–§4.7.
        assert_eq!(keys::<Cspat00601OutBlock1>(), sorted("RecCnt, AcntNo, InptPwd, IsuNo, OrdQty, OrdPrc, BnsTpCode, OrdprcPtnCode, PrgmOrdprcPtnCode, StslAbleYn, StslOrdprcTpCode, CommdaCode, MgntrnCode, LoanDt, MbrNo, OrdCndiTpCode, StrtgCode, GrpId, OrdSeqNo, PtflNo, BskNo, TrchNo, ItemNo, OpDrtnNo, LpYn, CvrgTpCode"));
        assert_eq!(keys::<Cspat00601OutBlock2>(), sorted("RecCnt, OrdNo, OrdTime, OrdMktCode, OrdPtnCode, ShtnIsuNo, MgempNo, OrdAmt, SpareOrdNo, CvrgSeqno, RsvOrdNo, SpotOrdQty, RuseOrdQty, MnyOrdAmt, SubstOrdAmt, RuseOrdAmt, AcntNm, IsuNm"));
        assert_eq!(keys::<Cspat00701OutBlock1>(), sorted("RecCnt, OrgOrdNo, AcntNo, InptPwd, IsuNo, OrdQty, OrdprcPtnCode, OrdCndiTpCode, OrdPrc, CommdaCode, StrtgCode, GrpId, OrdSeqNo, PtflNo, BskNo, TrchNo, ItemNo"));
        assert_eq!(keys::<Cspat00701OutBlock2>(), sorted("RecCnt, OrdNo, PrntOrdNo, OrdTime, OrdMktCode, OrdPtnCode, ShtnIsuNo, PrgmOrdprcPtnCode, StslOrdprcTpCode, StslAbleYn, MgntrnCode, LoanDt, CvrgOrdTp, LpYn, MgempNo, OrdAmt, BnsTpCode, SpareOrdNo, CvrgSeqno, RsvOrdNo, MnyOrdAmt, SubstOrdAmt, RuseOrdAmt, AcntNm, IsuNm"));
        assert_eq!(keys::<Cspat00801OutBlock1>(), sorted("RecCnt, OrgOrdNo, AcntNo, InptPwd, IsuNo, OrdQty, CommdaCode, GrpId, StrtgCode, OrdSeqNo, PtflNo, BskNo, TrchNo, ItemNo"));
        assert_eq!(keys::<Cspat00801OutBlock2>(), sorted("RecCnt, OrdNo, PrntOrdNo, OrdTime, OrdMktCode, OrdPtnCode, ShtnIsuNo, PrgmOrdprcPtnCode, StslOrdprcTpCode, StslAbleYn, MgntrnCode, LoanDt, CvrgOrdTp, LpYn, MgempNo, BnsTpCode, SpareOrdNo, CvrgSeqno, RsvOrdNo, AcntNm, IsuNm"));
        let t = Ticker::parse("005930").unwrap();
        let v = serde_json::to_value(Cspat00601InBlock1::limit(
            t,
            Side::Buy,
            Qty::lit(1),
            Price::lit(1),
        ))
        .unwrap();
        let mut k: Vec<&String> = v.as_object().unwrap().keys().collect();
        k.sort();
        assert_eq!(
            k,
            [
                "BnsTpCode",
                "IsuNo",
                "LoanDt",
                "MgntrnCode",
                "OrdCndiTpCode",
                "OrdPrc",
                "OrdQty",
                "OrdprcPtnCode"
            ]
        );
    }

    #[test]
    fn paths_agree_with_the_path_map() {
        for (tr, path) in [
            (Cspat00601::TR_CD, Cspat00601::PATH),
            (Cspat00701::TR_CD, Cspat00701::PATH),
            (Cspat00801::TR_CD, Cspat00801::PATH),
        ] {
            assert_eq!(path_for_tr(tr), Some(path));
        }
    }

    #[test]
    fn new_order_reply_round_trips_byte_for_byte() {
        let r = decode_reply::<Cspat00601>(NEW_ORDER_REPLY).unwrap();
        assert!(Cspat00601::succeeded(&r));
        assert_eq!(r.blocks.ord_no(), Some(32004));
        let b1 = r.blocks.out_block1.as_ref().unwrap();
        assert_eq!(b1.price().unwrap(), Price::lit(35_000));
        assert_eq!(b1.ord_prc, "35000.00");
        let b2 = r.blocks.out_block2.as_ref().unwrap();
        assert_eq!(
            (b2.ord_time.as_str(), b2.isu_nm.as_str()),
            ("153257702", "한화시스템")
        );
        let text = encode_reply::<Cspat00601>(&r.rsp_cd, &r.rsp_msg, &r.blocks);
        assert_eq!(text, NEW_ORDER_REPLY);
        assert_eq!(decode_reply::<Cspat00601>(&text).unwrap(), r);
        assert_eq!(r.to_json(), NEW_ORDER_REPLY);
    }

    #[test]
    fn modify_business_error_round_trips() {
        let r = decode_reply::<Cspat00701>(MODIFY_REJECTED).unwrap();
        assert_eq!(r.rsp_cd, "03181");
        assert!(!Cspat00701::succeeded(&r));
        assert_eq!(r.blocks.ord_no(), None);
        assert!(r.gateway_error().is_none());
        let echo = r.blocks.out_block1.as_ref().unwrap();
        assert_eq!(
            (echo.org_ord_no, echo.price()),
            (32004, Ok(Price::lit(100)))
        );
        let text = r.to_json();
        assert_eq!(decode_reply::<Cspat00701>(&text).unwrap(), r);
        // A modify that worked: a positive OrdNo under a 00… code.
        let ok = text
            .replace(r#""rsp_cd":"03181""#, r#""rsp_cd":"00000""#)
            .replace(r#""OrdNo":0"#, r#""OrdNo":32006"#);
        let ok = decode_reply::<Cspat00701>(&ok).unwrap();
        assert!(Cspat00701::succeeded(&ok));
        assert_eq!(ok.blocks.ord_no(), Some(32006));
    }

    #[test]
    fn cancel_reply_round_trips() {
        let r = decode_reply::<Cspat00801>(CANCEL_REPLY).unwrap();
        assert!(Cspat00801::succeeded(&r));
        assert_eq!(r.blocks.ord_no(), Some(32005));
        assert_eq!(r.blocks.out_block2.as_ref().unwrap().prnt_ord_no, 32004);
        assert_eq!(r.to_json(), CANCEL_REPLY);
        // A rate-limited call decodes with no blocks.
        let g = decode_reply::<Cspat00801>(
            r#"{"rsp_cd":"IGW00201","rsp_msg":"호출 거래건수를 초과하였습니다."}"#,
        )
        .unwrap();
        assert!(g.is_rate_limited() && !Cspat00801::succeeded(&g) && g.blocks.ord_no().is_none());
    }

    #[test]
    fn order_numbers_are_read_leniently() {
        let block = |qty: &str, prc: &str| {
            format!(
                r#"{{"CSPAT00601InBlock1":{{"IsuNo":"A005930","OrdQty":{qty},"OrdPrc":{prc},"BnsTpCode":"2","OrdprcPtnCode":"00","MgntrnCode":"000","LoanDt":"","OrdCndiTpCode":"0"}}}}"#
            )
        };
        for qty in ["5", "\"5\"", "5.0", "\"005\"", "\"5.00\""] {
            let b = decode_request::<Cspat00601>(&block(qty, "60000")).unwrap();
            assert_eq!(b.qty().unwrap(), Qty::lit(5), "OrdQty {qty}");
        }
        for prc in ["60000", "\"60000\"", "60000.0", "\"60000.00\""] {
            let b = decode_request::<Cspat00601>(&block("5", prc)).unwrap();
            assert_eq!(b.price().unwrap(), Price::lit(60_000), "OrdPrc {prc}");
        }
        for (qty, prc, field) in [
            ("5.5", "60000", "OrdQty"),
            ("-1", "60000", "OrdQty"),
            ("\"\"", "60000", "OrdQty"),
            ("\"five\"", "60000", "OrdQty"),
            ("5", "60000.5", "OrdPrc"),
            ("5", "\"60000.50\"", "OrdPrc"),
            ("5", "null", "OrdPrc"),
        ] {
            let msg = decode_request::<Cspat00601>(&block(qty, prc))
                .unwrap_err()
                .to_string();
            assert!(
                msg.contains("CSPAT00601 request")
                    && msg.contains(&format!("CSPAT00601InBlock1.{field}")),
                "{qty} {prc}: {msg}"
            );
        }
        // OrgOrdNo as a number or text.
        for org in ["32004", "\"32004\"", "32004.0"] {
            let text = format!(
                r#"{{"CSPAT00801InBlock1":{{"OrgOrdNo":{org},"IsuNo":"005930","OrdQty":1}}}}"#
            );
            let b = decode_request::<Cspat00801>(&text).unwrap();
            assert_eq!(b.org_ord_no, 32004);
            assert_eq!(b.ticker().unwrap(), Ticker::parse("005930").unwrap());
        }
        let text = r#"{"CSPAT00701InBlock1":{"OrdPrc":"61000","OrdCndiTpCode":"0","OrdprcPtnCode":"00","OrdQty":"1","IsuNo":"A005930","OrgOrdNo":"32004"}}"#;
        let b = decode_request::<Cspat00701>(text).unwrap();
        assert_eq!(
            (b.org_ord_no, b.qty().unwrap(), b.price().unwrap()),
            (32004, Qty::lit(1), Price::lit(61_000))
        );
        let e = decode_request::<Cspat00701>(r#"{"CSPAT00701InBlock1":{"IsuNo":"A005930","OrdQty":1,"OrdprcPtnCode":"00","OrdPrc":1}}"#).unwrap_err();
        assert!(e.to_string().contains("OrgOrdNo"), "{e}");
    }

    #[test]
    fn a_domain_order_becomes_cspat00601_and_back() {
        let t = Ticker::parse("005930").unwrap();
        for order in [
            NewOrder {
                ticker: t,
                side: Side::Buy,
                qty: Qty::lit(2),
                order_type: OrderType::Limit(Price::lit(60_000)),
            },
            NewOrder {
                ticker: t,
                side: Side::Sell,
                qty: Qty::lit(3),
                order_type: OrderType::Market,
            },
        ] {
            let block = Cspat00601InBlock1::for_order(&order);
            assert_eq!(block.new_order().unwrap(), order);
        }
        assert_eq!(
            Cspat00601InBlock1::for_order(&NewOrder {
                ticker: t,
                side: Side::Buy,
                qty: Qty::lit(2),
                order_type: OrderType::Limit(Price::lit(60_000)),
            }),
            Cspat00601InBlock1::limit(t, Side::Buy, Qty::lit(2), Price::lit(60_000))
        );
        // A price type the engine never sends is not a domain order.
        let best = Cspat00601InBlock1::new(
            t,
            Side::Buy,
            Qty::lit(1),
            PriceType::Best,
            Price::lit(0),
            OrderCondition::None,
        );
        let e = best.new_order().unwrap_err().to_string();
        assert!(e.contains("OrdprcPtnCode") && e.contains("06"), "{e}");
    }

    #[test]
    fn requests_encode_as_clients_send_them_and_read_back() {
        let t = Ticker::parse("005930").unwrap();
        let new = Cspat00601InBlock1::limit(t, Side::Buy, Qty::lit(2), Price::lit(60_000));
        let body = encode_request::<Cspat00601>(&new);
        assert_eq!(
            body,
            r#"{"CSPAT00601InBlock1":{"IsuNo":"A005930","OrdQty":2,"OrdPrc":60000,"BnsTpCode":"2","OrdprcPtnCode":"00","MgntrnCode":"000","LoanDt":"","OrdCndiTpCode":"0"}}"#
        );
        let back = decode_request::<Cspat00601>(&body).unwrap();
        assert_eq!(back, new);
        assert_eq!(back.ticker().unwrap(), t);
        assert_eq!(back.side().unwrap(), Side::Buy);
        assert_eq!(back.price_type().unwrap(), PriceType::Limit);
        assert_eq!(back.condition().unwrap(), OrderCondition::None);
        // IsuNo with or without the A is the same stock.
        let bare = Cspat00601InBlock1 {
            isu_no: "005930".into(),
            ..new.clone()
        };
        assert_eq!(bare.ticker().unwrap(), t);
        let bad = Cspat00601InBlock1 {
            isu_no: "J12345".into(),
            bns_tp_code: "3".into(),
            ordprc_ptn_code: "99".into(),
            ..new
        };
        assert!(bad.ticker().unwrap_err().to_string().contains("IsuNo"));
        assert!(bad.side().unwrap_err().to_string().contains("BnsTpCode"));
        assert!(bad.price_type().unwrap_err().to_string().contains("\"99\""));

        let mkt = Cspat00601InBlock1::market(t, Side::Sell, Qty::lit(3));
        assert_eq!(
            (mkt.price().unwrap(), mkt.price_type().unwrap()),
            (Price::lit(0), PriceType::Market)
        );
        let with_mbr = Cspat00601InBlock1 {
            mbr_no: "NXT".into(),
            ..mkt
        };
        assert!(encode_request::<Cspat00601>(&with_mbr).contains(r#""MbrNo":"NXT""#));

        let modify = Cspat00701InBlock1::limit(32004, t, Qty::lit(1), Price::lit(61_000));
        assert_eq!(
            decode_request::<Cspat00701>(&encode_request::<Cspat00701>(&modify)).unwrap(),
            modify
        );
        let cancel = Cspat00801InBlock1::new(32004, t, Qty::lit(1));
        assert_eq!(
            encode_request::<Cspat00801>(&cancel),
            r#"{"CSPAT00801InBlock1":{"OrgOrdNo":32004,"IsuNo":"A005930","OrdQty":1}}"#
        );
    }

    #[test]
    fn codes_round_trip() {
        for p in [
            PriceType::Limit,
            PriceType::Market,
            PriceType::ConditionalLimit,
            PriceType::Best,
            PriceType::TopPriority,
            PriceType::MidPrice,
            PriceType::PreOpenAfterHoursClose,
            PriceType::AfterHoursClose,
            PriceType::AfterHoursSingle,
        ] {
            assert_eq!(PriceType::from_code(p.code()), Some(p));
        }
        for c in [
            OrderCondition::None,
            OrderCondition::Ioc,
            OrderCondition::Fok,
        ] {
            assert_eq!(OrderCondition::from_code(c.code()), Some(c));
        }
        assert_eq!(OrderCondition::from_code(""), Some(OrderCondition::None));
    }
}
