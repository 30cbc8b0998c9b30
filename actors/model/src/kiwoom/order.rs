//! Kiwoom's cash-order TRs on `/api/dostk/ordr` (reference §4.3–§4.5): kt10000 buy and
//! kt10001 sell (one request shape; the side is the api-id), kt10002 modify and kt10003
//! cancel (each answered with a **new** order number and `base_orig_ord_no`).
//!
//! Owns the exact field names, the `trde_tp` codes and the order-number format (7 digits,
//! zero-padded). Must never decide whether an order is wise (the risk gate does) and never
//! lose a fraction or a sign: prices are whole won, quantities whole shares. A reply only
//! means **accepted**; fills arrive as REAL `00` events ([`super::realtime`]).

use serde::{Deserialize, Serialize};

use super::num::{field_price, field_qty, field_uint, format_padded, is_blank};
use super::rest::{Tr, PATH_ORDR};
use super::{stock_code, ticker_field};
use crate::domain::OrderType;
use crate::market::{Price, Qty, Side, Ticker};
use crate::wire::WireError;

/// Width of an order number (`"0000138"`). The kt10000 buy example shows `"00024"` (5);
/// every other source shows 7, which condor writes (and reads either).
pub const ORDER_NO_WIDTH: usize = 7;
/// Width of kt10002's `mdfy_qty` and kt10003's `cncl_qty` in replies.
pub const REPLY_QTY_WIDTH: usize = 12;

/// An order number as Kiwoom writes it: `138` → `"0000138"`.
pub fn format_order_no(order_no: i64) -> String {
    format_padded(order_no, ORDER_NO_WIDTH)
}

/// `dmst_stex_tp`: where an order is routed.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Exchange {
    /// `KRX`, the only value the paper server takes.
    #[default]
    Krx,
    /// `NXT` (Nextrade).
    Nxt,
    /// `SOR` (smart order routing).
    Sor,
}

impl Exchange {
    pub fn code(self) -> &'static str {
        match self {
            Exchange::Krx => "KRX",
            Exchange::Nxt => "NXT",
            Exchange::Sor => "SOR",
        }
    }

    pub fn from_code(code: &str) -> Option<Exchange> {
        match code.trim_ascii() {
            "KRX" => Some(Exchange::Krx),
            "NXT" => Some(Exchange::Nxt),
            "SOR" => Some(Exchange::Sor),
            _ => None,
        }
    }
}

/// `trde_tp` (매매구분): the order type, replacing LS's `OrdprcPtnCode` + `OrdCndiTpCode`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum TradeType {
    /// `0` 보통 (limit).
    Limit,
    /// `3` 시장가 (market).
    Market,
    /// `5` 조건부지정가.
    ConditionalLimit,
    /// `6` 최유리지정가.
    Best,
    /// `7` 최우선지정가.
    TopPriority,
    /// `10` 보통(IOC).
    LimitIoc,
    /// `13` 시장가(IOC).
    MarketIoc,
    /// `16` 최유리(IOC).
    BestIoc,
    /// `20` 보통(FOK).
    LimitFok,
    /// `23` 시장가(FOK).
    MarketFok,
    /// `26` 최유리(FOK).
    BestFok,
    /// `28` 스톱지정가 (trigger in `cond_uv`).
    StopLimit,
    /// `29` 중간가.
    Mid,
    /// `30` 중간가(IOC).
    MidIoc,
    /// `31` 중간가(FOK).
    MidFok,
    /// `61` 장시작전시간외.
    PreOpenAfterHours,
    /// `62` 시간외단일가.
    AfterHoursSingle,
    /// `81` 장마감후시간외.
    PostCloseAfterHours,
}

impl TradeType {
    pub const ALL: [TradeType; 18] = [
        TradeType::Limit,
        TradeType::Market,
        TradeType::ConditionalLimit,
        TradeType::Best,
        TradeType::TopPriority,
        TradeType::LimitIoc,
        TradeType::MarketIoc,
        TradeType::BestIoc,
        TradeType::LimitFok,
        TradeType::MarketFok,
        TradeType::BestFok,
        TradeType::StopLimit,
        TradeType::Mid,
        TradeType::MidIoc,
        TradeType::MidFok,
        TradeType::PreOpenAfterHours,
        TradeType::AfterHoursSingle,
        TradeType::PostCloseAfterHours,
    ];

    pub fn code(self) -> &'static str {
        match self {
            TradeType::Limit => "0",
            TradeType::Market => "3",
            TradeType::ConditionalLimit => "5",
            TradeType::Best => "6",
            TradeType::TopPriority => "7",
            TradeType::LimitIoc => "10",
            TradeType::MarketIoc => "13",
            TradeType::BestIoc => "16",
            TradeType::LimitFok => "20",
            TradeType::MarketFok => "23",
            TradeType::BestFok => "26",
            TradeType::StopLimit => "28",
            TradeType::Mid => "29",
            TradeType::MidIoc => "30",
            TradeType::MidFok => "31",
            TradeType::PreOpenAfterHours => "61",
            TradeType::AfterHoursSingle => "62",
            TradeType::PostCloseAfterHours => "81",
        }
    }

    pub fn from_code(code: &str) -> Option<TradeType> {
        let code = code.trim_ascii();
        TradeType::ALL.into_iter().find(|t| t.code() == code)
    }

    /// The type of a domain order: market → `3`, limit → `0`.
    pub fn of(order_type: OrderType) -> TradeType {
        match order_type {
            OrderType::Market => TradeType::Market,
            OrderType::Limit(_) => TradeType::Limit,
        }
    }

    /// True when the order carries a limit price in `ord_uv` (the others send `""`):
    /// market-priced types (3, 6, 7 and their IOC/FOK forms, the mid-price ones and
    /// pre-open after-hours, which trades at the prior close) do not.
    pub fn takes_price(self) -> bool {
        matches!(
            self,
            TradeType::Limit
                | TradeType::ConditionalLimit
                | TradeType::LimitIoc
                | TradeType::LimitFok
                | TradeType::StopLimit
                | TradeType::AfterHoursSingle
        )
    }
}

impl TradeType {
    /// The Korean label replies and events use for the type (ka10075's `trde_tp`, REAL
    /// 00's `906`): `0` → `보통`, `3` → `시장가`, …
    pub fn label(self) -> &'static str {
        match self {
            TradeType::Limit => "보통",
            TradeType::Market => "시장가",
            TradeType::ConditionalLimit => "조건부지정가",
            TradeType::Best => "최유리지정가",
            TradeType::TopPriority => "최우선지정가",
            TradeType::LimitIoc => "보통(IOC)",
            TradeType::MarketIoc => "시장가(IOC)",
            TradeType::BestIoc => "최유리(IOC)",
            TradeType::LimitFok => "보통(FOK)",
            TradeType::MarketFok => "시장가(FOK)",
            TradeType::BestFok => "최유리(FOK)",
            TradeType::StopLimit => "스톱지정가",
            TradeType::Mid => "중간가",
            TradeType::MidIoc => "중간가(IOC)",
            TradeType::MidFok => "중간가(FOK)",
            TradeType::PreOpenAfterHours => "장시작전시간외",
            TradeType::AfterHoursSingle => "시간외단일가",
            TradeType::PostCloseAfterHours => "장마감후시간외",
        }
    }

    pub fn from_label(label: &str) -> Option<TradeType> {
        let label = label.trim();
        TradeType::ALL.into_iter().find(|t| t.label() == label)
    }
}

/// Whether an order number is a new order, or a modify or cancel of another.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OrderKind {
    New,
    Modify,
    Cancel,
}

/// The order-kind text of REAL 00's `905` and the account TRs' `io_tp_nm`: `+매수`,
/// `-매도`, `+매수정정`, `-매도정정`, `매수취소`, `매도취소` (the sign is the HTS's colour;
/// 00's table writes the modify kinds unsigned, ka10075's example signed — condor writes
/// them signed and reads both). kt00007 writes `현금매수`/`현금매도`, also read.
pub fn kind_label(side: Side, kind: OrderKind) -> &'static str {
    match (kind, side) {
        (OrderKind::New, Side::Buy) => "+매수",
        (OrderKind::New, Side::Sell) => "-매도",
        (OrderKind::Modify, Side::Buy) => "+매수정정",
        (OrderKind::Modify, Side::Sell) => "-매도정정",
        (OrderKind::Cancel, Side::Buy) => "매수취소",
        (OrderKind::Cancel, Side::Sell) => "매도취소",
    }
}

/// Reads an order-kind text into side and kind; `None` when it names neither 매수 nor
/// 매도 (or both).
pub fn parse_kind_label(text: &str) -> Option<(Side, OrderKind)> {
    let side = match (text.contains("매수"), text.contains("매도")) {
        (true, false) => Side::Buy,
        (false, true) => Side::Sell,
        _ => return None,
    };
    let kind = if text.contains("취소") {
        OrderKind::Cancel
    } else if text.contains("정정") {
        OrderKind::Modify
    } else {
        OrderKind::New
    };
    Some((side, kind))
}

/// An order's state as REAL 00's `913` and the account TRs' `ord_stt`/`acpt_tp` say it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OrderStatus {
    /// `접수`: accepted.
    Accepted,
    /// `체결`: (partly) filled.
    Filled,
    /// `확인`: a modify or cancel is done.
    Confirmed,
    /// `취소`: cancelled (what Kiwoom sends it for is UNCONFIRMED, §9.5).
    Cancelled,
    /// `거부`: rejected.
    Rejected,
}

impl OrderStatus {
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Accepted => "접수",
            OrderStatus::Filled => "체결",
            OrderStatus::Confirmed => "확인",
            OrderStatus::Cancelled => "취소",
            OrderStatus::Rejected => "거부",
        }
    }

    pub fn from_label(label: &str) -> Option<OrderStatus> {
        Some(match label.trim() {
            "접수" => OrderStatus::Accepted,
            "체결" => OrderStatus::Filled,
            "확인" => OrderStatus::Confirmed,
            "취소" => OrderStatus::Cancelled,
            "거부" => OrderStatus::Rejected,
            _ => return None,
        })
    }
}

fn trade_type_of(what: &str, value: &str) -> Result<TradeType, WireError> {
    TradeType::from_code(value).ok_or_else(|| {
        WireError::bad_value(
            what,
            "trde_tp",
            value,
            "a trde_tp code (0, 3, 5, 6, 7, 10, 13, 16, 20, 23, 26, 28, 29, 30, 31, 61, 62, 81)",
        )
    })
}

fn exchange_of(what: &str, value: &str) -> Result<Exchange, WireError> {
    Exchange::from_code(value)
        .ok_or_else(|| WireError::bad_value(what, "dmst_stex_tp", value, "KRX, NXT or SOR"))
}

/// Reads an order-number field (`"0000138"`, `"00024"`), naming the field.
pub(crate) fn order_no_field(
    what: &str,
    field: &'static str,
    value: &str,
) -> Result<i64, WireError> {
    let n = field_uint(what, field, value)?;
    i64::try_from(n)
        .map_err(|_| WireError::bad_value(what, field, value, "an order number within range"))
}

// ---------------------------------------------------------------------------------------
// kt10000 / kt10001

/// kt10000/kt10001 request: `{"dmst_stex_tp":"KRX","stk_cd":"005930","ord_qty":"1",
/// "ord_uv":"","trde_tp":"3","cond_uv":""}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRequest {
    #[serde(default, with = "crate::wire::num::text")]
    pub dmst_stex_tp: String,
    #[serde(with = "crate::wire::num::text")]
    pub stk_cd: String,
    #[serde(with = "crate::wire::num::text")]
    pub ord_qty: String,
    /// Limit price; `""` for market-type orders.
    #[serde(default, with = "crate::wire::num::text")]
    pub ord_uv: String,
    #[serde(with = "crate::wire::num::text")]
    pub trde_tp: String,
    /// Stop-limit (`28`) trigger, else `""`.
    #[serde(default, with = "crate::wire::num::text")]
    pub cond_uv: String,
}

impl OrderRequest {
    const WHAT: &'static str = "kt10000/kt10001 request";

    /// A KRX order of `qty` shares of `ticker` priced as `order_type`.
    pub fn new(ticker: Ticker, qty: Qty, order_type: OrderType) -> OrderRequest {
        let ord_uv = match order_type {
            OrderType::Market => String::new(),
            OrderType::Limit(p) => p.won().to_string(),
        };
        OrderRequest {
            dmst_stex_tp: Exchange::Krx.code().to_owned(),
            stk_cd: stock_code(ticker),
            ord_qty: qty.shares().to_string(),
            ord_uv,
            trde_tp: TradeType::of(order_type).code().to_owned(),
            cond_uv: String::new(),
        }
    }

    /// The api-id that sends this order for `side`: kt10000 buys, kt10001 sells.
    pub fn api_id(side: Side) -> &'static str {
        match side {
            Side::Buy => Kt10000::API_ID,
            Side::Sell => Kt10001::API_ID,
        }
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "stk_cd", &self.stk_cd)
    }

    pub fn qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "ord_qty", &self.ord_qty)
    }

    pub fn trade_type(&self) -> Result<TradeType, WireError> {
        trade_type_of(Self::WHAT, &self.trde_tp)
    }

    /// `dmst_stex_tp`; blank reads as KRX (UNCONFIRMED what Kiwoom does with it blank:
    /// the spec marks it required; condor always sends it).
    pub fn exchange(&self) -> Result<Exchange, WireError> {
        if is_blank(&self.dmst_stex_tp) {
            return Ok(Exchange::Krx);
        }
        exchange_of(Self::WHAT, &self.dmst_stex_tp)
    }

    /// The domain's order type: `3` market (any `ord_uv` but a price ignored), `0` limit
    /// at `ord_uv`. Other `trde_tp`s condor does not send are named in the error.
    pub fn order_type(&self) -> Result<OrderType, WireError> {
        match self.trade_type()? {
            TradeType::Market => Ok(OrderType::Market),
            TradeType::Limit => Ok(OrderType::Limit(field_price(
                Self::WHAT,
                "ord_uv",
                &self.ord_uv,
            )?)),
            _ => Err(WireError::bad_value(
                Self::WHAT,
                "trde_tp",
                &self.trde_tp,
                "0 (limit) or 3 (market), the types condor trades",
            )),
        }
    }

    /// The limit price of a priced type, `None` for the others (whose `ord_uv` must be
    /// blank or `0`).
    pub fn price(&self) -> Result<Option<Price>, WireError> {
        if self.trade_type()?.takes_price() {
            return field_price(Self::WHAT, "ord_uv", &self.ord_uv).map(Some);
        }
        match self.ord_uv.trim_ascii() {
            "" | "0" => Ok(None),
            _ => Err(WireError::bad_value(
                Self::WHAT,
                "ord_uv",
                &self.ord_uv,
                "\"\" for a market-priced trde_tp",
            )),
        }
    }
}

/// kt10000/kt10001 reply fields: `{"ord_no":"0000138","dmst_stex_tp":"KRX"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderReply {
    #[serde(with = "crate::wire::num::text")]
    pub ord_no: String,
    #[serde(with = "crate::wire::num::text")]
    pub dmst_stex_tp: String,
}

impl OrderReply {
    const WHAT: &'static str = "kt10000/kt10001 reply";

    /// The simulator's reply for order `order_no`.
    pub fn new(order_no: i64) -> OrderReply {
        OrderReply {
            ord_no: format_order_no(order_no),
            dmst_stex_tp: Exchange::Krx.code().to_owned(),
        }
    }

    /// `ord_no`: the broker's number for the new order.
    pub fn order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "ord_no", &self.ord_no)
    }
}

/// kt10000: buy.
pub struct Kt10000;

impl Tr for Kt10000 {
    const API_ID: &'static str = "kt10000";
    const PATH: &'static str = PATH_ORDR;
    type Req = OrderRequest;
    type Resp = OrderReply;
}

/// kt10001: sell.
pub struct Kt10001;

impl Tr for Kt10001 {
    const API_ID: &'static str = "kt10001";
    const PATH: &'static str = PATH_ORDR;
    type Req = OrderRequest;
    type Resp = OrderReply;
}

/// Success texts (paper server adds "모의투자" in front of some; UNCONFIRMED which).
pub const MSG_BUY_DONE: &str = "매수주문이 완료되었습니다.";
pub const MSG_SELL_DONE: &str = "매도주문이 완료되었습니다.";
pub const MSG_BUY_MODIFY_DONE: &str = "매수정정 주문입력이 완료되었습니다";
pub const MSG_SELL_MODIFY_DONE: &str = "매도정정 주문입력이 완료되었습니다";
pub const MSG_BUY_CANCEL_DONE: &str = "매수취소 주문입력이 완료되었습니다";
pub const MSG_SELL_CANCEL_DONE: &str = "매도취소 주문입력이 완료되었습니다";

// ---------------------------------------------------------------------------------------
// kt10002

/// kt10002 request: `{"dmst_stex_tp":"KRX","orig_ord_no":"0000139","stk_cd":"005930",
/// "mdfy_qty":"1","mdfy_uv":"199700","mdfy_cond_uv":""}`. No `trde_tp`: the order type
/// cannot change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModifyRequest {
    #[serde(default, with = "crate::wire::num::text")]
    pub dmst_stex_tp: String,
    #[serde(with = "crate::wire::num::text")]
    pub orig_ord_no: String,
    #[serde(with = "crate::wire::num::text")]
    pub stk_cd: String,
    /// `"0"`: the whole remaining quantity (per `[KRT]`'s description).
    #[serde(with = "crate::wire::num::text")]
    pub mdfy_qty: String,
    #[serde(with = "crate::wire::num::text")]
    pub mdfy_uv: String,
    #[serde(default, with = "crate::wire::num::text")]
    pub mdfy_cond_uv: String,
}

impl ModifyRequest {
    const WHAT: &'static str = "kt10002 request";

    /// Moves `qty` (0: all that remains) of `orig_order_no` to `price`.
    pub fn new(orig_order_no: i64, ticker: Ticker, qty: Qty, price: Price) -> ModifyRequest {
        ModifyRequest {
            dmst_stex_tp: Exchange::Krx.code().to_owned(),
            orig_ord_no: format_order_no(orig_order_no),
            stk_cd: stock_code(ticker),
            mdfy_qty: qty.shares().to_string(),
            mdfy_uv: price.won().to_string(),
            mdfy_cond_uv: String::new(),
        }
    }

    pub fn orig_order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "orig_ord_no", &self.orig_ord_no)
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "stk_cd", &self.stk_cd)
    }

    /// `mdfy_qty`; 0 means all that remains.
    pub fn qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "mdfy_qty", &self.mdfy_qty)
    }

    pub fn price(&self) -> Result<Price, WireError> {
        field_price(Self::WHAT, "mdfy_uv", &self.mdfy_uv)
    }
}

/// kt10002 reply fields: `{"ord_no":"0000140","base_orig_ord_no":"0000139",
/// "mdfy_qty":"000000000001","dmst_stex_tp":"KRX"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModifyReply {
    #[serde(with = "crate::wire::num::text")]
    pub ord_no: String,
    #[serde(with = "crate::wire::num::text")]
    pub base_orig_ord_no: String,
    #[serde(with = "crate::wire::num::text")]
    pub mdfy_qty: String,
    #[serde(with = "crate::wire::num::text")]
    pub dmst_stex_tp: String,
}

impl ModifyReply {
    const WHAT: &'static str = "kt10002 reply";

    pub fn new(order_no: i64, base_orig_order_no: i64, qty: Qty) -> ModifyReply {
        ModifyReply {
            ord_no: format_order_no(order_no),
            base_orig_ord_no: format_order_no(base_orig_order_no),
            mdfy_qty: format_padded(
                i64::try_from(qty.shares()).unwrap_or(i64::MAX),
                REPLY_QTY_WIDTH,
            ),
            dmst_stex_tp: Exchange::Krx.code().to_owned(),
        }
    }

    /// The modify's own (new) order number.
    pub fn order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "ord_no", &self.ord_no)
    }

    /// The first order of the chain this modify belongs to.
    pub fn base_orig_order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "base_orig_ord_no", &self.base_orig_ord_no)
    }

    pub fn qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "mdfy_qty", &self.mdfy_qty)
    }
}

/// kt10002: modify.
pub struct Kt10002;

impl Tr for Kt10002 {
    const API_ID: &'static str = "kt10002";
    const PATH: &'static str = PATH_ORDR;
    type Req = ModifyRequest;
    type Resp = ModifyReply;
}

// ---------------------------------------------------------------------------------------
// kt10003

/// kt10003 request: `{"dmst_stex_tp":"KRX","orig_ord_no":"0000140","stk_cd":"005930",
/// "cncl_qty":"1"}`; `cncl_qty "0"` cancels all that remains. Cancelling with another
/// `dmst_stex_tp` than the original's is refused (`571412`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CancelRequest {
    #[serde(default, with = "crate::wire::num::text")]
    pub dmst_stex_tp: String,
    #[serde(with = "crate::wire::num::text")]
    pub orig_ord_no: String,
    #[serde(with = "crate::wire::num::text")]
    pub stk_cd: String,
    #[serde(with = "crate::wire::num::text")]
    pub cncl_qty: String,
}

impl CancelRequest {
    const WHAT: &'static str = "kt10003 request";

    /// Cancels `qty` of `orig_order_no` (`Qty::lit(0)`: all that remains).
    pub fn new(orig_order_no: i64, ticker: Ticker, qty: Qty) -> CancelRequest {
        CancelRequest {
            dmst_stex_tp: Exchange::Krx.code().to_owned(),
            orig_ord_no: format_order_no(orig_order_no),
            stk_cd: stock_code(ticker),
            cncl_qty: qty.shares().to_string(),
        }
    }

    /// Cancels all that remains of `orig_order_no`.
    pub fn all(orig_order_no: i64, ticker: Ticker) -> CancelRequest {
        CancelRequest::new(orig_order_no, ticker, Qty::lit(0))
    }

    pub fn orig_order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "orig_ord_no", &self.orig_ord_no)
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "stk_cd", &self.stk_cd)
    }

    /// `cncl_qty`; 0 means all that remains.
    pub fn qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "cncl_qty", &self.cncl_qty)
    }
}

/// kt10003 reply fields: `{"ord_no":"0000141","base_orig_ord_no":"0000139",
/// "cncl_qty":"000000000001"}` (some third-party code also sees `dmst_stex_tp`; it is
/// read, and written only when set).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CancelReply {
    #[serde(with = "crate::wire::num::text")]
    pub ord_no: String,
    #[serde(with = "crate::wire::num::text")]
    pub base_orig_ord_no: String,
    #[serde(with = "crate::wire::num::text")]
    pub cncl_qty: String,
    #[serde(
        with = "crate::wire::num::text",
        skip_serializing_if = "String::is_empty"
    )]
    pub dmst_stex_tp: String,
}

impl CancelReply {
    const WHAT: &'static str = "kt10003 reply";

    pub fn new(order_no: i64, base_orig_order_no: i64, qty: Qty) -> CancelReply {
        CancelReply {
            ord_no: format_order_no(order_no),
            base_orig_ord_no: format_order_no(base_orig_order_no),
            cncl_qty: format_padded(
                i64::try_from(qty.shares()).unwrap_or(i64::MAX),
                REPLY_QTY_WIDTH,
            ),
            dmst_stex_tp: String::new(),
        }
    }

    /// The cancel's own order number.
    pub fn order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "ord_no", &self.ord_no)
    }

    /// The first order of the chain. Note the spec's example answers a cancel of
    /// `0000140` (itself a modify of `0000139`) with `0000139`: the chain's root, not the
    /// order named in the request.
    pub fn base_orig_order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "base_orig_ord_no", &self.base_orig_ord_no)
    }

    pub fn qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "cncl_qty", &self.cncl_qty)
    }
}

/// kt10003: cancel.
pub struct Kt10003;

impl Tr for Kt10003 {
    const API_ID: &'static str = "kt10003";
    const PATH: &'static str = PATH_ORDR;
    type Req = CancelRequest;
    type Resp = CancelReply;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiwoom::rest::{
        decode_reply, decode_request, encode_request, path_for_api_id, ErrorClass, Reply,
    };
    use crate::kiwoom::testing::{assert_covers, Rng};

    const NEW_REQUEST: &str = r#"{"dmst_stex_tp":"KRX","stk_cd":"005930","ord_qty":"1","ord_uv":"","trde_tp":"3","cond_uv":""}"#;
    const NEW_REPLY: &str = r#"{"ord_no":"0000138","dmst_stex_tp":"KRX","return_code":0,"return_msg":"매도주문이 완료되었습니다."}"#;
    /// The buy example's 5-digit number (§4.3), with its missing comma restored.
    const NEW_REPLY_SHORT: &str = r#"{"ord_no":"00024","dmst_stex_tp":"KRX","return_code":0,"return_msg":"매수주문이 완료되었습니다."}"#;
    const MODIFY_REQUEST: &str = r#"{"dmst_stex_tp":"KRX","orig_ord_no":"0000139","stk_cd":"005930","mdfy_qty":"1","mdfy_uv":"199700","mdfy_cond_uv":""}"#;
    const MODIFY_REPLY: &str = r#"{"ord_no":"0000140","base_orig_ord_no":"0000139","mdfy_qty":"000000000001","dmst_stex_tp":"KRX","return_code":0,"return_msg":"매수정정 주문입력이 완료되었습니다"}"#;
    const CANCEL_REQUEST: &str =
        r#"{"dmst_stex_tp":"KRX","orig_ord_no":"0000140","stk_cd":"005930","cncl_qty":"1"}"#;
    const CANCEL_REPLY: &str = r#"{"ord_no":"0000141","base_orig_ord_no":"0000139","cncl_qty":"000000000001","return_code":0,"return_msg":"매수취소 주문입력이 완료되었습니다"}"#;
    const REJECTIONS: [&str; 5] = [
        r#"{"return_code":20,"return_msg":"[2000](855056:매수증거금이 부족합니다. 2주 매수가능)"}"#,
        r#"{"return_code":20,"return_msg":"[2000](RC4058:모의투자 장종료)"}"#,
        r#"{"return_code":20,"return_msg":"[2000](571489:장이 열리지 않는 날입니다.)"}"#,
        r#"{"return_code":20,"return_msg":"[2000](521790:주문 불가능합니다.)"}"#,
        r#"{"return_code":20,"return_msg":"[2000](571412:SOR정정 및 취소주문은 원주문이 SOR주문인 경우 가능합니다.)"}"#,
    ];

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn round_trip_request<T: Tr>(sample: &str) -> T::Req
    where
        T::Req: PartialEq + std::fmt::Debug,
    {
        let req = decode_request::<T>(sample).unwrap();
        let text = encode_request::<T>(&req);
        assert_covers(&text, sample);
        assert_eq!(decode_request::<T>(&text).unwrap(), req);
        req
    }

    fn round_trip_reply<T: Tr>(sample: &str) -> Reply<T::Resp>
    where
        T::Resp: PartialEq + std::fmt::Debug,
    {
        let r = decode_reply::<T>(sample).unwrap();
        let text = r.to_json();
        assert_covers(&text, sample);
        assert_eq!(decode_reply::<T>(&text).unwrap(), r);
        r
    }

    #[test]
    fn new_orders_round_trip() {
        let req = round_trip_request::<Kt10000>(NEW_REQUEST);
        assert_eq!(
            req,
            OrderRequest::new(samsung(), Qty::lit(1), OrderType::Market)
        );
        assert_eq!(encode_request::<Kt10000>(&req), NEW_REQUEST);
        assert_eq!(req.ticker().unwrap(), samsung());
        assert_eq!(req.qty().unwrap(), Qty::lit(1));
        assert_eq!(req.trade_type().unwrap(), TradeType::Market);
        assert_eq!(req.order_type().unwrap(), OrderType::Market);
        assert_eq!(req.price().unwrap(), None);
        assert_eq!(req.exchange().unwrap(), Exchange::Krx);
        let r = round_trip_reply::<Kt10001>(NEW_REPLY);
        assert_eq!(r.body.order_no().unwrap(), 138);
        assert_eq!(r.body, OrderReply::new(138));
        let r = round_trip_reply::<Kt10000>(NEW_REPLY_SHORT);
        assert_eq!(r.body.order_no().unwrap(), 24);
        assert_eq!(OrderRequest::api_id(Side::Buy), "kt10000");
        assert_eq!(OrderRequest::api_id(Side::Sell), "kt10001");
    }

    #[test]
    fn limit_orders_carry_their_price() {
        let req = OrderRequest::new(samsung(), Qty::lit(3), OrderType::Limit(Price::lit(70100)));
        assert_eq!(
            encode_request::<Kt10000>(&req),
            r#"{"dmst_stex_tp":"KRX","stk_cd":"005930","ord_qty":"3","ord_uv":"70100","trde_tp":"0","cond_uv":""}"#
        );
        assert_eq!(
            req.order_type().unwrap(),
            OrderType::Limit(Price::lit(70100))
        );
        assert_eq!(req.price().unwrap(), Some(Price::lit(70100)));
        // A client that sends numbers as JSON numbers is read leniently.
        let req = decode_request::<Kt10000>(
            r#"{"stk_cd":"005930","ord_qty":3,"ord_uv":70100,"trde_tp":0,"extra":"x"}"#,
        )
        .unwrap();
        assert_eq!(
            req.order_type().unwrap(),
            OrderType::Limit(Price::lit(70100))
        );
        assert_eq!(req.exchange().unwrap(), Exchange::Krx);
    }

    #[test]
    fn bad_order_fields_are_named() {
        let base = OrderRequest::new(samsung(), Qty::lit(1), OrderType::Limit(Price::lit(70000)));
        let cases: Vec<(OrderRequest, &str)> = vec![
            (
                OrderRequest {
                    trde_tp: "4".into(),
                    ..base.clone()
                },
                "trde_tp",
            ),
            (
                OrderRequest {
                    ord_qty: "-1".into(),
                    ..base.clone()
                },
                "ord_qty",
            ),
            (
                OrderRequest {
                    ord_qty: "1.5".into(),
                    ..base.clone()
                },
                "ord_qty",
            ),
            (
                OrderRequest {
                    ord_uv: "".into(),
                    ..base.clone()
                },
                "ord_uv",
            ),
            (
                OrderRequest {
                    ord_uv: "70000.5".into(),
                    ..base.clone()
                },
                "ord_uv",
            ),
            (
                OrderRequest {
                    stk_cd: "5930".into(),
                    ..base.clone()
                },
                "stk_cd",
            ),
            (
                OrderRequest {
                    dmst_stex_tp: "NYSE".into(),
                    ..base.clone()
                },
                "dmst_stex_tp",
            ),
            (
                OrderRequest {
                    trde_tp: "3".into(),
                    ord_uv: "70000".into(),
                    ..base.clone()
                },
                "ord_uv",
            ),
        ];
        for (req, field) in cases {
            let errors = [
                req.ticker().err(),
                req.qty().err(),
                req.order_type().err(),
                req.price().err(),
                req.exchange().err(),
            ];
            let e = errors.into_iter().flatten().next().expect("an error");
            let msg = e.to_string();
            assert!(
                msg.contains("kt10000/kt10001 request") && msg.contains(&format!("`{field}`")),
                "{msg}"
            );
        }
        // A valid trde_tp condor does not trade is named as such.
        let req = OrderRequest {
            trde_tp: "6".into(),
            ord_uv: "".into(),
            ..base
        };
        assert!(req
            .order_type()
            .unwrap_err()
            .to_string()
            .contains("the types condor trades"));
        assert_eq!(req.price().unwrap(), None);
        let e = decode_request::<Kt10000>(r#"{"stk_cd":"005930","trde_tp":"3"}"#).unwrap_err();
        assert!(e.to_string().contains("ord_qty"), "{e}");
    }

    #[test]
    fn trade_types_round_trip() {
        for t in TradeType::ALL {
            assert_eq!(TradeType::from_code(t.code()), Some(t));
            assert_eq!(TradeType::from_label(t.label()), Some(t));
        }
        for side in [Side::Buy, Side::Sell] {
            for kind in [OrderKind::New, OrderKind::Modify, OrderKind::Cancel] {
                assert_eq!(parse_kind_label(kind_label(side, kind)), Some((side, kind)));
            }
        }
        assert_eq!(
            parse_kind_label("매수정정"),
            Some((Side::Buy, OrderKind::Modify))
        );
        assert_eq!(
            parse_kind_label("현금매도"),
            Some((Side::Sell, OrderKind::New))
        );
        assert_eq!(parse_kind_label("정정"), None);
        for s in [
            OrderStatus::Accepted,
            OrderStatus::Filled,
            OrderStatus::Confirmed,
            OrderStatus::Cancelled,
            OrderStatus::Rejected,
        ] {
            assert_eq!(OrderStatus::from_label(s.label()), Some(s));
        }
        assert_eq!(
            TradeType::from_code("00"),
            None,
            "LS's code is not Kiwoom's"
        );
        assert_eq!(TradeType::of(OrderType::Market).code(), "3");
        assert_eq!(TradeType::of(OrderType::Limit(Price::lit(1))).code(), "0");
        assert!(TradeType::Limit.takes_price() && !TradeType::MarketIoc.takes_price());
        for e in [Exchange::Krx, Exchange::Nxt, Exchange::Sor] {
            assert_eq!(Exchange::from_code(e.code()), Some(e));
        }
    }

    #[test]
    fn modify_round_trips_with_a_new_number() {
        let req = round_trip_request::<Kt10002>(MODIFY_REQUEST);
        assert_eq!(
            req,
            ModifyRequest::new(139, samsung(), Qty::lit(1), Price::lit(199_700))
        );
        assert_eq!(encode_request::<Kt10002>(&req), MODIFY_REQUEST);
        assert_eq!(
            (
                req.orig_order_no().unwrap(),
                req.qty().unwrap(),
                req.price().unwrap()
            ),
            (139, Qty::lit(1), Price::lit(199_700))
        );
        let r = round_trip_reply::<Kt10002>(MODIFY_REPLY);
        assert_eq!(r.body, ModifyReply::new(140, 139, Qty::lit(1)));
        assert_eq!(
            (
                r.body.order_no().unwrap(),
                r.body.base_orig_order_no().unwrap(),
                r.body.qty().unwrap()
            ),
            (140, 139, Qty::lit(1))
        );
    }

    #[test]
    fn cancel_round_trips_with_its_own_number() {
        let req = round_trip_request::<Kt10003>(CANCEL_REQUEST);
        assert_eq!(req, CancelRequest::new(140, samsung(), Qty::lit(1)));
        assert_eq!(encode_request::<Kt10003>(&req), CANCEL_REQUEST);
        assert_eq!(CancelRequest::all(140, samsung()).cncl_qty, "0");
        let r = round_trip_reply::<Kt10003>(CANCEL_REPLY);
        assert_eq!(r.body, CancelReply::new(141, 139, Qty::lit(1)));
        assert_eq!(
            (
                r.body.order_no().unwrap(),
                r.body.base_orig_order_no().unwrap()
            ),
            (141, 139)
        );
        // With dmst_stex_tp, as some third-party code sees it.
        let with = CANCEL_REPLY.replace(r#""cncl_qty""#, r#""dmst_stex_tp":"KRX","cncl_qty""#);
        let r = round_trip_reply::<Kt10003>(&with);
        assert_eq!(r.body.dmst_stex_tp, "KRX");
    }

    #[test]
    fn order_refusals_keep_kiwoom_codes() {
        let codes = ["855056", "RC4058", "571489", "521790", "571412"];
        for (sample, code) in REJECTIONS.iter().zip(codes) {
            let r = round_trip_reply::<Kt10000>(sample);
            let refusal = r.into_result().unwrap_err();
            assert_eq!(refusal.class(), ErrorClass::Business);
            assert_eq!(refusal.code(), code);
            assert!(refusal.to_string().contains(code));
        }
    }

    #[test]
    fn paths_agree_with_the_path_map() {
        for (id, path) in [
            (Kt10000::API_ID, Kt10000::PATH),
            (Kt10001::API_ID, Kt10001::PATH),
            (Kt10002::API_ID, Kt10002::PATH),
            (Kt10003::API_ID, Kt10003::PATH),
        ] {
            assert_eq!(path_for_api_id(id), Some(path));
        }
        assert_eq!(format_order_no(138), "0000138");
        assert_eq!(format_order_no(12_345_678), "12345678");
    }

    #[test]
    fn random_bodies_never_panic() {
        let mut rng = Rng::new(0x0bde_0001);
        let samples = [
            NEW_REQUEST,
            NEW_REPLY,
            MODIFY_REQUEST,
            MODIFY_REPLY,
            CANCEL_REQUEST,
            CANCEL_REPLY,
        ];
        for sample in samples.iter().chain(REJECTIONS.iter()) {
            for _ in 0..1000 {
                let t = rng.mutate(sample);
                if let Ok(req) = decode_request::<Kt10000>(&t) {
                    let _ = (
                        req.ticker(),
                        req.qty(),
                        req.order_type(),
                        req.price(),
                        req.exchange(),
                    );
                }
                if let Ok(r) = decode_reply::<Kt10000>(&t) {
                    let _ = r.body.order_no();
                    let _ = r.refusal().map(|x| x.to_string());
                }
                if let Ok(r) = decode_reply::<Kt10002>(&t) {
                    let _ = (r.body.order_no(), r.body.base_orig_order_no(), r.body.qty());
                }
                if let Ok(req) = decode_request::<Kt10003>(&t) {
                    let _ = (req.orig_order_no(), req.ticker(), req.qty());
                }
            }
        }
    }
}
