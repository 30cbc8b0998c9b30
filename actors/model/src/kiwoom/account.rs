//! Kiwoom's account TRs on `/api/dostk/acnt` (reference §4.6–§4.9): kt00001 cash, kt00018
//! holdings, the day's orders and fills for reconciliation (ka10075 open orders, ka10076
//! filled orders, kt00007 every order of a date) and ka00001 the account number. Lists
//! page by the `cont-yn`/`next-key` headers ([`super::rest::Paging`]); ka10076 also takes
//! a body `ord_no` cursor.
//!
//! Owns these shapes and their reading into [`Holding`] and [`TodayOrder`], the summaries
//! reconciliation compares with the engine's book. Must never compute positions or P&L
//! (the Portfolio does) and never reject a reply over a blank or extra field. No account
//! number goes in a request: the token implies it.

use serde::{Deserialize, Serialize};

use super::num::{
    field_price_or_zero, field_qty, field_qty_or_zero, field_rate_bp, field_signed, field_time,
    format_padded, format_padded_rate, is_blank,
};
use super::order::{
    format_order_no, kind_label, order_no_field, parse_kind_label, Exchange, OrderKind,
    OrderStatus, TradeType,
};
use super::rest::{Tr, PATH_ACNT};
use super::{product_code, stock_code, ticker_field};
use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};
use crate::wire::WireError;

/// Width of kt00001's amounts and kt00018's amounts and quantities.
pub const AMOUNT_WIDTH: usize = 15;
/// Width of kt00018's `pred_close_pric` and `cur_prc`.
pub const PRICE_WIDTH: usize = 12;
/// Width of kt00007's quantities.
pub const KT00007_QTY_WIDTH: usize = 10;
/// Width of the paper server's padded rates in kt00018 (`"000000002.98"`).
pub const PAPER_RATE_WIDTH: usize = 12;
/// `return_msg` of an empty paper account (kt00018, code 0).
pub const MSG_PAPER_NO_DATA: &str = "모의투자 해당조회내역이 없습니다.";

fn qty_text(q: Qty, width: usize) -> String {
    format_padded(i64::try_from(q.shares()).unwrap_or(i64::MAX), width)
}

/// One position: what the broker holds and what of it can be sold, and its average
/// price. From a kt00018 row or a REAL `04` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holding {
    pub ticker: Ticker,
    /// Shares held (today's fills included).
    pub qty: Qty,
    /// Shares that can be sold now.
    pub sellable: Qty,
    /// Average purchase price in won.
    pub avg_price: Price,
}

/// One of today's orders as the broker lists it, for reconciliation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TodayOrder {
    pub order_no: i64,
    /// The order a modify or cancel applies to; 0 for a new order.
    pub orig_order_no: i64,
    pub ticker: Ticker,
    pub side: Side,
    pub kind: OrderKind,
    pub qty: Qty,
    /// The order's price; 0 for a market order.
    pub price: Price,
    /// Shares filled so far.
    pub filled: Qty,
    /// The fill price (the TR's aggregate or last; 0 when nothing filled).
    pub fill_price: Price,
    /// Shares still working.
    pub remaining: Qty,
    /// `ord_stt`/`acpt_tp` when it is one of the known words.
    pub status: Option<OrderStatus>,
    /// Order time, when the TR gives one.
    pub time: Option<TimeOfDay>,
}

fn side_kind(what: &str, value: &str) -> Result<(Side, OrderKind), WireError> {
    parse_kind_label(value).ok_or_else(|| {
        WireError::bad_value(what, "io_tp_nm", value, "an order kind naming 매수 or 매도")
    })
}

fn opt_time(what: &str, field: &'static str, value: &str) -> Result<Option<TimeOfDay>, WireError> {
    if is_blank(value) {
        return Ok(None);
    }
    field_time(what, field, value).map(Some)
}

fn orig_no(what: &str, field: &'static str, value: &str) -> Result<i64, WireError> {
    if is_blank(value) {
        return Ok(0);
    }
    order_no_field(what, field, value)
}

// ---------------------------------------------------------------------------------------
// kt00001

/// kt00001 request: `{"qry_tp":"3"}` (`3` estimated, `2` normal).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kt00001Request {
    #[serde(with = "crate::wire::num::text")]
    pub qry_tp: String,
}

impl Kt00001Request {
    /// `qry_tp "3"`: estimated.
    pub fn estimated() -> Kt00001Request {
        Kt00001Request {
            qry_tp: "3".to_owned(),
        }
    }
}

text_struct! {
    /// kt00001 reply fields condor reads (of ~70; the rest are ignored): 15-digit padded
    /// signed amounts (`"000000010000000"`, `"-00000000004900"`) and the FX cash list.
    pub struct Kt00001Reply {
        entr, profa_ch, ord_alow_amt, pymn_alow_amt,
        #[serde(rename = "100stk_ord_alow_amt")]
        stk100_ord_alow_amt,
        #[serde(rename = "20stk_ord_alow_amt")]
        stk20_ord_alow_amt,
        #[serde(rename = "30stk_ord_alow_amt")]
        stk30_ord_alow_amt,
        #[serde(rename = "40stk_ord_alow_amt")]
        stk40_ord_alow_amt,
        #[serde(rename = "50stk_ord_alow_amt")]
        stk50_ord_alow_amt,
        #[serde(rename = "60stk_ord_alow_amt")]
        stk60_ord_alow_amt,
        d1_entra, d2_entra, d2_slby_exct_amt;
        /// FX cash; empty for most accounts (its members are not documented: kept as JSON).
        #[serde(default, deserialize_with = "super::list_or_null")]
        stk_entr_prst: Vec<serde_json::Value>,
    }
}

impl Kt00001Reply {
    const WHAT: &'static str = "kt00001 reply";

    /// A reply with `deposit` on hand, `orderable` of it free and `d2` the T+2 estimate.
    pub fn new(deposit: i64, orderable: i64, d2: i64) -> Kt00001Reply {
        let amt = |v: i64| format_padded(v, AMOUNT_WIDTH);
        Kt00001Reply {
            entr: amt(deposit),
            profa_ch: amt(0),
            ord_alow_amt: amt(orderable),
            pymn_alow_amt: amt(orderable),
            stk100_ord_alow_amt: amt(orderable),
            d1_entra: amt(deposit),
            d2_entra: amt(d2),
            d2_slby_exct_amt: amt(d2 - deposit),
            ..Kt00001Reply::default()
        }
    }

    /// `entr`: the deposit.
    pub fn deposit(&self) -> Result<i64, WireError> {
        field_signed(Self::WHAT, "entr", &self.entr)
    }

    /// `ord_alow_amt`: cash an order can use now.
    pub fn orderable(&self) -> Result<i64, WireError> {
        field_signed(Self::WHAT, "ord_alow_amt", &self.ord_alow_amt)
    }

    /// `100stk_ord_alow_amt`: orderable for 100 %-margin names (what a cash account can
    /// buy of any name).
    pub fn orderable_full_margin(&self) -> Result<i64, WireError> {
        field_signed(Self::WHAT, "100stk_ord_alow_amt", &self.stk100_ord_alow_amt)
    }

    /// `d2_entra`: the T+2 estimated deposit.
    pub fn d2_deposit(&self) -> Result<i64, WireError> {
        field_signed(Self::WHAT, "d2_entra", &self.d2_entra)
    }

    /// `d2_slby_exct_amt`: the T+2 net settlement (may be negative).
    pub fn d2_settlement(&self) -> Result<i64, WireError> {
        field_signed(Self::WHAT, "d2_slby_exct_amt", &self.d2_slby_exct_amt)
    }
}

/// kt00001: cash.
pub struct Kt00001;

impl Tr for Kt00001 {
    const API_ID: &'static str = "kt00001";
    const PATH: &'static str = PATH_ACNT;
    type Req = Kt00001Request;
    type Resp = Kt00001Reply;
}

// ---------------------------------------------------------------------------------------
// kt00018

/// kt00018 request: `{"qry_tp":"1","dmst_stex_tp":"KRX"}` (`1` aggregated, `2` per lot).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kt00018Request {
    #[serde(with = "crate::wire::num::text")]
    pub qry_tp: String,
    #[serde(default, with = "crate::wire::num::text")]
    pub dmst_stex_tp: String,
}

impl Kt00018Request {
    /// Aggregated holdings on KRX.
    pub fn aggregated() -> Kt00018Request {
        Kt00018Request {
            qry_tp: "1".to_owned(),
            dmst_stex_tp: Exchange::Krx.code().to_owned(),
        }
    }
}

text_struct! {
    /// One kt00018 holding (`acnt_evlt_remn_indv_tot[]`): `stk_cd` is `A`-prefixed;
    /// amounts and quantities 15 digits, `pred_close_pric`/`cur_prc` 12; rates plain
    /// (`"2.98"`) in the spec, padded (`"000000002.98"`) on the paper server.
    pub struct Kt00018Row {
        stk_cd, stk_nm, evltv_prft, prft_rt, pur_pric, pred_close_pric, rmnd_qty,
        trde_able_qty, cur_prc, pred_buyq, pred_sellq, tdy_buyq, tdy_sellq, pur_amt,
        pur_cmsn, evlt_amt, sell_cmsn, tax, sum_cmsn, poss_rt, crd_tp, crd_tp_nm,
        crd_loan_dt,
    }
}

impl Kt00018Row {
    const WHAT: &'static str = "kt00018 row";

    /// A row as the paper server writes it (rates padded), from a holding and prices.
    pub fn new(name: &str, h: &Holding, cur_price: Price, prev_close: Price) -> Kt00018Row {
        let qty = i64::try_from(h.qty.shares()).unwrap_or(i64::MAX);
        let pur_amt = h.avg_price.won().saturating_mul(qty);
        let evlt_amt = cur_price.won().saturating_mul(qty);
        let pl = evlt_amt - pur_amt;
        let rate_bp = if pur_amt > 0 {
            pl.saturating_mul(10_000) / pur_amt
        } else {
            0
        };
        let amt = |v: i64| format_padded(v, AMOUNT_WIDTH);
        Kt00018Row {
            stk_cd: product_code(h.ticker),
            stk_nm: name.to_owned(),
            evltv_prft: amt(pl),
            prft_rt: format_padded_rate(rate_bp, PAPER_RATE_WIDTH),
            pur_pric: amt(h.avg_price.won()),
            pred_close_pric: format_padded(prev_close.won(), PRICE_WIDTH),
            rmnd_qty: qty_text(h.qty, AMOUNT_WIDTH),
            trde_able_qty: qty_text(h.sellable, AMOUNT_WIDTH),
            cur_prc: format_padded(cur_price.won(), PRICE_WIDTH),
            pur_amt: amt(pur_amt),
            evlt_amt: amt(evlt_amt),
            crd_tp: "00".to_owned(),
            ..Kt00018Row::default()
        }
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "stk_cd", &self.stk_cd)
    }

    /// `rmnd_qty`: shares held (today's fills included).
    pub fn qty(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "rmnd_qty", &self.rmnd_qty)
    }

    /// `trde_able_qty`: shares that can be sold.
    pub fn sellable(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "trde_able_qty", &self.trde_able_qty)
    }

    /// `pur_pric`: the average purchase price.
    pub fn avg_price(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "pur_pric", &self.pur_pric)
    }

    /// `cur_prc`.
    pub fn price(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "cur_prc", &self.cur_prc)
    }

    /// `prft_rt` in basis points, padded or not.
    pub fn profit_rate_bp(&self) -> Result<i64, WireError> {
        field_rate_bp(Self::WHAT, "prft_rt", &self.prft_rt)
    }

    /// `crd_tp` `"00"` (or blank): a cash holding, not a credit one.
    pub fn is_cash(&self) -> bool {
        matches!(self.crd_tp.trim_ascii(), "" | "00")
    }

    pub fn holding(&self) -> Result<Holding, WireError> {
        Ok(Holding {
            ticker: self.ticker()?,
            qty: self.qty()?,
            sellable: self.sellable()?,
            avg_price: self.avg_price()?,
        })
    }
}

text_struct! {
    /// kt00018 reply fields: totals (15 digits) and the holdings.
    pub struct Kt00018Reply {
        tot_pur_amt, tot_evlt_amt, tot_evlt_pl, tot_prft_rt, prsm_dpst_aset_amt,
        tot_loan_amt, tot_crd_loan_amt, tot_crd_ls_amt;
        #[serde(default, deserialize_with = "super::list_or_null")]
        acnt_evlt_remn_indv_tot: Vec<Kt00018Row>,
    }
}

impl Kt00018Reply {
    const WHAT: &'static str = "kt00018 reply";

    /// Totals computed from the rows (the simulator's side).
    pub fn new(rows: Vec<Kt00018Row>, deposit: i64) -> Kt00018Reply {
        let sum = |f: fn(&Kt00018Row) -> &str| -> i64 {
            rows.iter()
                .filter_map(|r| super::num::parse_int(f(r)).ok())
                .fold(0i64, i64::saturating_add)
        };
        let pur = sum(|r| &r.pur_amt);
        let evlt = sum(|r| &r.evlt_amt);
        let pl = evlt - pur;
        let rate_bp = if pur > 0 {
            pl.saturating_mul(10_000) / pur
        } else {
            0
        };
        let amt = |v: i64| format_padded(v, AMOUNT_WIDTH);
        Kt00018Reply {
            tot_pur_amt: amt(pur),
            tot_evlt_amt: amt(evlt),
            tot_evlt_pl: amt(pl),
            tot_prft_rt: format_padded_rate(rate_bp, PAPER_RATE_WIDTH),
            prsm_dpst_aset_amt: amt(deposit.saturating_add(pl)),
            tot_loan_amt: amt(0),
            tot_crd_loan_amt: amt(0),
            tot_crd_ls_amt: amt(0),
            acnt_evlt_remn_indv_tot: rows,
        }
    }

    /// Every cash holding with shares, read; the first bad row is an error naming its
    /// field (and the row's index in `what`).
    pub fn holdings(&self) -> Result<Vec<Holding>, WireError> {
        self.acnt_evlt_remn_indv_tot
            .iter()
            .filter(|r| r.is_cash())
            .map(Kt00018Row::holding)
            .filter(|h| !matches!(h, Ok(h) if h.qty.shares() == 0))
            .collect()
    }

    /// `tot_evlt_amt`.
    pub fn total_value(&self) -> Result<i64, WireError> {
        field_signed(Self::WHAT, "tot_evlt_amt", &self.tot_evlt_amt)
    }
}

/// kt00018: holdings (the reference's recommendation over kt00004/kt00005). Whether it
/// pages in practice is UNCONFIRMED; clients loop on `cont-yn`.
pub struct Kt00018;

impl Tr for Kt00018 {
    const API_ID: &'static str = "kt00018";
    const PATH: &'static str = PATH_ACNT;
    type Req = Kt00018Request;
    type Resp = Kt00018Reply;
}

// ---------------------------------------------------------------------------------------
// ka10075

/// ka10075 request: `{"all_stk_tp":"0","trde_tp":"0","stk_cd":"","stex_tp":"0"}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ka10075Request {
    /// `0` all codes, `1` one code (`stk_cd`).
    #[serde(with = "crate::wire::num::text")]
    pub all_stk_tp: String,
    /// `0` all, `1` sell, `2` buy.
    #[serde(with = "crate::wire::num::text")]
    pub trde_tp: String,
    #[serde(with = "crate::wire::num::text")]
    pub stk_cd: String,
    /// `0` unified, `1` KRX, `2` NXT.
    #[serde(with = "crate::wire::num::text")]
    pub stex_tp: String,
}

impl Ka10075Request {
    /// Every open order.
    pub fn all() -> Ka10075Request {
        Ka10075Request {
            all_stk_tp: "0".to_owned(),
            trde_tp: "0".to_owned(),
            stk_cd: String::new(),
            stex_tp: "0".to_owned(),
        }
    }
}

text_struct! {
    /// One ka10075 open order (`oso[]`), unpadded numbers: `{"ord_no":"0000069",
    /// "stk_cd":"005930","ord_stt":"접수","ord_qty":"1","oso_qty":"1","io_tp_nm":"+매수",
    /// "trde_tp":"시장가","tm":"154113",…}`.
    pub struct Ka10075Row {
        acnt_no, ord_no, mang_empno, stk_cd, tsk_tp, ord_stt, stk_nm, ord_qty, ord_pric,
        oso_qty, cntr_tot_amt, orig_ord_no, io_tp_nm, trde_tp, tm, cntr_no, cntr_pric,
        cntr_qty, cur_prc, sel_bid, buy_bid, unit_cntr_pric, unit_cntr_qty, tdy_trde_cmsn,
        tdy_trde_tax, ind_invsr, stex_tp, stex_tp_txt, sor_yn, stop_pric,
    }
}

impl Ka10075Row {
    const WHAT: &'static str = "ka10075 row";

    /// A row for an open order (the simulator's side); `account` is the 10-digit number.
    pub fn from_order(
        o: &TodayOrder,
        trade_type: TradeType,
        account: &str,
        name: &str,
    ) -> Ka10075Row {
        Ka10075Row {
            acnt_no: account.to_owned(),
            ord_no: format_order_no(o.order_no),
            stk_cd: stock_code(o.ticker),
            ord_stt: o.status.unwrap_or(OrderStatus::Accepted).label().to_owned(),
            stk_nm: name.to_owned(),
            ord_qty: o.qty.shares().to_string(),
            ord_pric: o.price.won().to_string(),
            oso_qty: o.remaining.shares().to_string(),
            cntr_tot_amt: o
                .fill_price
                .won()
                .saturating_mul(i64::try_from(o.filled.shares()).unwrap_or(0))
                .to_string(),
            orig_ord_no: format_order_no(o.orig_order_no),
            io_tp_nm: kind_label(o.side, o.kind).to_owned(),
            trde_tp: trade_type.label().to_owned(),
            tm: o.time.map(TimeOfDay::hhmmss).unwrap_or_default(),
            cntr_pric: o.fill_price.won().to_string(),
            cntr_qty: o.filled.shares().to_string(),
            stex_tp: "1".to_owned(),
            stex_tp_txt: "KRX".to_owned(),
            sor_yn: "N".to_owned(),
            ..Ka10075Row::default()
        }
    }

    pub fn order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "ord_no", &self.ord_no)
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "stk_cd", &self.stk_cd)
    }

    /// `io_tp_nm`: side and kind.
    pub fn side_kind(&self) -> Result<(Side, OrderKind), WireError> {
        side_kind(Self::WHAT, &self.io_tp_nm)
    }

    /// `oso_qty`: shares still working.
    pub fn remaining(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "oso_qty", &self.oso_qty)
    }

    /// The row as reconciliation compares it.
    pub fn to_order(&self) -> Result<TodayOrder, WireError> {
        let (side, kind) = self.side_kind()?;
        Ok(TodayOrder {
            order_no: self.order_no()?,
            orig_order_no: orig_no(Self::WHAT, "orig_ord_no", &self.orig_ord_no)?,
            ticker: self.ticker()?,
            side,
            kind,
            qty: field_qty(Self::WHAT, "ord_qty", &self.ord_qty)?,
            price: field_price_or_zero(Self::WHAT, "ord_pric", &self.ord_pric)?,
            filled: field_qty_or_zero(Self::WHAT, "cntr_qty", &self.cntr_qty)?,
            fill_price: field_price_or_zero(Self::WHAT, "cntr_pric", &self.cntr_pric)?,
            remaining: self.remaining()?,
            status: OrderStatus::from_label(&self.ord_stt),
            time: opt_time(Self::WHAT, "tm", &self.tm)?,
        })
    }
}

/// ka10075 reply fields: the open orders under `oso`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ka10075Reply {
    #[serde(default, deserialize_with = "super::list_or_null")]
    pub oso: Vec<Ka10075Row>,
}

/// ka10075: open (미체결) orders.
pub struct Ka10075;

impl Tr for Ka10075 {
    const API_ID: &'static str = "ka10075";
    const PATH: &'static str = PATH_ACNT;
    type Req = Ka10075Request;
    type Resp = Ka10075Reply;
}

// ---------------------------------------------------------------------------------------
// ka10076

/// ka10076 request: `{"stk_cd":"","qry_tp":"0","sell_tp":"0","ord_no":"","stex_tp":"0"}`;
/// `ord_no` asks only for orders older than that number (a body cursor beside the header
/// paging).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ka10076Request {
    #[serde(with = "crate::wire::num::text")]
    pub stk_cd: String,
    /// `0` all, `1` one code.
    #[serde(with = "crate::wire::num::text")]
    pub qry_tp: String,
    /// `0` all, `1` sell, `2` buy.
    #[serde(with = "crate::wire::num::text")]
    pub sell_tp: String,
    #[serde(with = "crate::wire::num::text")]
    pub ord_no: String,
    #[serde(with = "crate::wire::num::text")]
    pub stex_tp: String,
}

impl Ka10076Request {
    /// Every filled order of the day.
    pub fn all() -> Ka10076Request {
        Ka10076Request {
            stk_cd: String::new(),
            qry_tp: "0".to_owned(),
            sell_tp: "0".to_owned(),
            ord_no: String::new(),
            stex_tp: "0".to_owned(),
        }
    }

    /// The same query for orders older than `order_no` (the smallest seen so far).
    pub fn older_than(&self, order_no: i64) -> Ka10076Request {
        Ka10076Request {
            ord_no: format_order_no(order_no),
            ..self.clone()
        }
    }
}

text_struct! {
    /// One ka10076 filled order (`cntr[]`): one row per order with aggregate
    /// `cntr_qty`/`cntr_pric`, not one per execution (UNCONFIRMED).
    pub struct Ka10076Row {
        ord_no, stk_nm, io_tp_nm, ord_pric, ord_qty, cntr_pric, cntr_qty, oso_qty,
        tdy_trde_cmsn, tdy_trde_tax, ord_stt, trde_tp, orig_ord_no, ord_tm, stk_cd, stex_tp,
        stex_tp_txt, sor_yn, stop_pric,
    }
}

impl Ka10076Row {
    const WHAT: &'static str = "ka10076 row";

    /// A row for a (partly) filled order (the simulator's side).
    pub fn from_order(o: &TodayOrder, trade_type: TradeType, name: &str) -> Ka10076Row {
        Ka10076Row {
            ord_no: format_order_no(o.order_no),
            stk_nm: name.to_owned(),
            io_tp_nm: kind_label(o.side, o.kind).to_owned(),
            ord_pric: o.price.won().to_string(),
            ord_qty: o.qty.shares().to_string(),
            cntr_pric: o.fill_price.won().to_string(),
            cntr_qty: o.filled.shares().to_string(),
            oso_qty: o.remaining.shares().to_string(),
            ord_stt: o.status.unwrap_or(OrderStatus::Filled).label().to_owned(),
            trde_tp: trade_type.label().to_owned(),
            orig_ord_no: format_order_no(o.orig_order_no),
            ord_tm: o.time.map(TimeOfDay::hhmmss).unwrap_or_default(),
            stk_cd: stock_code(o.ticker),
            stex_tp: "1".to_owned(),
            stex_tp_txt: "KRX".to_owned(),
            sor_yn: "N".to_owned(),
            ..Ka10076Row::default()
        }
    }

    pub fn order_no(&self) -> Result<i64, WireError> {
        order_no_field(Self::WHAT, "ord_no", &self.ord_no)
    }

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_field(Self::WHAT, "stk_cd", &self.stk_cd)
    }

    /// `cntr_qty`: shares filled.
    pub fn filled(&self) -> Result<Qty, WireError> {
        field_qty(Self::WHAT, "cntr_qty", &self.cntr_qty)
    }

    /// `cntr_pric`: the (aggregate) fill price.
    pub fn fill_price(&self) -> Result<Price, WireError> {
        field_price_or_zero(Self::WHAT, "cntr_pric", &self.cntr_pric)
    }

    pub fn to_order(&self) -> Result<TodayOrder, WireError> {
        let (side, kind) = side_kind(Self::WHAT, &self.io_tp_nm)?;
        Ok(TodayOrder {
            order_no: self.order_no()?,
            orig_order_no: orig_no(Self::WHAT, "orig_ord_no", &self.orig_ord_no)?,
            ticker: self.ticker()?,
            side,
            kind,
            qty: field_qty(Self::WHAT, "ord_qty", &self.ord_qty)?,
            price: field_price_or_zero(Self::WHAT, "ord_pric", &self.ord_pric)?,
            filled: self.filled()?,
            fill_price: self.fill_price()?,
            remaining: field_qty_or_zero(Self::WHAT, "oso_qty", &self.oso_qty)?,
            status: OrderStatus::from_label(&self.ord_stt),
            time: opt_time(Self::WHAT, "ord_tm", &self.ord_tm)?,
        })
    }
}

/// ka10076 reply fields: the filled orders under `cntr`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ka10076Reply {
    #[serde(default, deserialize_with = "super::list_or_null")]
    pub cntr: Vec<Ka10076Row>,
}

impl Ka10076Reply {
    /// The smallest order number of this page, for [`Ka10076Request::older_than`].
    pub fn oldest_order_no(&self) -> Option<i64> {
        self.cntr.iter().filter_map(|r| r.order_no().ok()).min()
    }
}

/// ka10076: filled (체결) orders.
pub struct Ka10076;

impl Tr for Ka10076 {
    const API_ID: &'static str = "ka10076";
    const PATH: &'static str = PATH_ACNT;
    type Req = Ka10076Request;
    type Resp = Ka10076Reply;
}

// ---------------------------------------------------------------------------------------
// kt00007

/// kt00007 request: every order of a date (cancelled and rejected ones too).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Kt00007Request {
    /// `YYYYMMDD`, or `""` for today.
    #[serde(with = "crate::wire::num::text")]
    pub ord_dt: String,
    /// `1` ascending, `2` descending, `3` open, `4` fills.
    #[serde(with = "crate::wire::num::text")]
    pub qry_tp: String,
    #[serde(with = "crate::wire::num::text")]
    pub stk_bond_tp: String,
    #[serde(with = "crate::wire::num::text")]
    pub sell_tp: String,
    #[serde(with = "crate::wire::num::text")]
    pub stk_cd: String,
    #[serde(with = "crate::wire::num::text")]
    pub fr_ord_no: String,
    /// `%` all, `KRX`, `NXT`, `SOR`.
    #[serde(with = "crate::wire::num::text")]
    pub dmst_stex_tp: String,
}

impl Kt00007Request {
    /// Today's orders, ascending, every exchange.
    pub fn today() -> Kt00007Request {
        Kt00007Request {
            ord_dt: String::new(),
            qry_tp: "1".to_owned(),
            stk_bond_tp: "0".to_owned(),
            sell_tp: "0".to_owned(),
            stk_cd: String::new(),
            fr_ord_no: String::new(),
            dmst_stex_tp: "%".to_owned(),
        }
    }
}

text_struct! {
    /// One kt00007 row (`acnt_ord_cntr_prps_dtl[]`): `stk_cd` `A`-prefixed, quantities
    /// 10-digit padded, `ord_tm` `"13:05:43"`, `io_tp_nm` `"현금매수"`.
    pub struct Kt00007Row {
        ord_no, stk_cd, trde_tp, ord_qty, ord_uv, cnfm_qty, acpt_tp, ord_tm, ori_ord,
        io_tp_nm, cntr_qty, cntr_uv, ord_remnq, mdfy_cncl, cnfm_tm, dmst_stex_tp,
    }
}

impl Kt00007Row {
    const WHAT: &'static str = "kt00007 row";

    /// A row for an order (the simulator's side).
    pub fn from_order(o: &TodayOrder, trade_type: TradeType) -> Kt00007Row {
        let io = match (o.kind, o.side) {
            (OrderKind::New, Side::Buy) => "현금매수".to_owned(),
            (OrderKind::New, Side::Sell) => "현금매도".to_owned(),
            (kind, side) => kind_label(side, kind).to_owned(),
        };
        Kt00007Row {
            ord_no: format_order_no(o.order_no),
            stk_cd: product_code(o.ticker),
            trde_tp: trade_type.label().to_owned(),
            ord_qty: qty_text(o.qty, KT00007_QTY_WIDTH),
            ord_uv: format_padded(o.price.won(), KT00007_QTY_WIDTH),
            cnfm_qty: qty_text(o.qty, KT00007_QTY_WIDTH),
            acpt_tp: o.status.unwrap_or(OrderStatus::Accepted).label().to_owned(),
            ord_tm: o.time.map(|t| t.to_string()).unwrap_or_default(),
            ori_ord: format_order_no(o.orig_order_no),
            io_tp_nm: io,
            cntr_qty: qty_text(o.filled, KT00007_QTY_WIDTH),
            cntr_uv: format_padded(o.fill_price.won(), KT00007_QTY_WIDTH),
            ord_remnq: qty_text(o.remaining, KT00007_QTY_WIDTH),
            dmst_stex_tp: "KRX".to_owned(),
            ..Kt00007Row::default()
        }
    }

    pub fn to_order(&self) -> Result<TodayOrder, WireError> {
        let (side, kind) = side_kind(Self::WHAT, &self.io_tp_nm)?;
        Ok(TodayOrder {
            order_no: order_no_field(Self::WHAT, "ord_no", &self.ord_no)?,
            orig_order_no: orig_no(Self::WHAT, "ori_ord", &self.ori_ord)?,
            ticker: ticker_field(Self::WHAT, "stk_cd", &self.stk_cd)?,
            side,
            kind,
            qty: field_qty(Self::WHAT, "ord_qty", &self.ord_qty)?,
            price: field_price_or_zero(Self::WHAT, "ord_uv", &self.ord_uv)?,
            filled: field_qty_or_zero(Self::WHAT, "cntr_qty", &self.cntr_qty)?,
            fill_price: field_price_or_zero(Self::WHAT, "cntr_uv", &self.cntr_uv)?,
            remaining: field_qty_or_zero(Self::WHAT, "ord_remnq", &self.ord_remnq)?,
            status: OrderStatus::from_label(&self.acpt_tp),
            time: opt_time(Self::WHAT, "ord_tm", &self.ord_tm)?,
        })
    }
}

/// kt00007 reply fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kt00007Reply {
    #[serde(default, deserialize_with = "super::list_or_null")]
    pub acnt_ord_cntr_prps_dtl: Vec<Kt00007Row>,
}

/// kt00007: every order of a date, detailed.
pub struct Kt00007;

impl Tr for Kt00007 {
    const API_ID: &'static str = "kt00007";
    const PATH: &'static str = PATH_ACNT;
    type Req = Kt00007Request;
    type Resp = Kt00007Reply;
}

// ---------------------------------------------------------------------------------------
// ka00001

/// ka00001 request: `{}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyRequest {}

text_struct! {
    /// ka00001 reply fields: `{"acctNo":"0123456789"}` (10 digits; the last 2 are
    /// Kiwoom's product code).
    pub struct Ka00001Reply {
        #[serde(rename = "acctNo")]
        acct_no,
    }
}

impl Ka00001Reply {
    /// The account number, checked to be 10 digits.
    pub fn account(&self) -> Result<&str, WireError> {
        let a = self.acct_no.trim_ascii();
        if a.is_empty() {
            return Err(WireError::missing("ka00001 reply", "acctNo"));
        }
        if a.len() != 10 || !a.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WireError::bad_value(
                "ka00001 reply",
                "acctNo",
                &self.acct_no,
                "ten digits",
            ));
        }
        Ok(a)
    }
}

/// ka00001: the account number the token implies.
pub struct Ka00001;

impl Tr for Ka00001 {
    const API_ID: &'static str = "ka00001";
    const PATH: &'static str = PATH_ACNT;
    type Req = EmptyRequest;
    type Resp = Ka00001Reply;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiwoom::is_paper_message;
    use crate::kiwoom::rest::{
        decode_reply, decode_request, encode_request, path_for_api_id, Reply,
    };
    use crate::kiwoom::testing::{assert_covers, Rng};

    const KT00001_REPLY: &str = r#"{"entr":"000000010000000","profa_ch":"000000000000000","ord_alow_amt":"000000010000000",
 "pymn_alow_amt":"000000010000000","100stk_ord_alow_amt":"000000010000000","d1_entra":"000000010000000",
 "d2_entra":"000000010000000","d2_slby_exct_amt":"-00000000004900","stk_entr_prst":[],
 "return_code":0,"return_msg":"모의투자 조회완료"}"#;
    const KT00018_REPLY: &str = r#"{"tot_pur_amt":"000000000250250","tot_evlt_amt":"000000000260000","tot_evlt_pl":"000000000007450",
 "tot_prft_rt":"2.98","prsm_dpst_aset_amt":"000000010007450","tot_loan_amt":"000000000000000",
 "tot_crd_loan_amt":"000000000000000","tot_crd_ls_amt":"000000000000000",
 "acnt_evlt_remn_indv_tot":[{"stk_cd":"A005930","stk_nm":"삼성전자","evltv_prft":"000000000007450",
  "prft_rt":"2.98","pur_pric":"000000000250250","pred_close_pric":"000000257000",
  "rmnd_qty":"000000000000001","trde_able_qty":"000000000000001","cur_prc":"000000260000",
  "tdy_buyq":"000000000000001","tdy_sellq":"000000000000000","pur_amt":"000000000250250",
  "evlt_amt":"000000000260000","poss_rt":"89.36","crd_tp":"00","crd_tp_nm":"","crd_loan_dt":""}],
 "return_code":0,"return_msg":"조회가 완료되었습니다"}"#;
    const KT00018_EMPTY_PAPER: &str = r#"{"acnt_evlt_remn_indv_tot":[],"return_code":0,"return_msg":"모의투자 해당조회내역이 없습니다."}"#;
    const KA10075_REQUEST: &str = r#"{"all_stk_tp":"0","trde_tp":"0","stk_cd":"","stex_tp":"0"}"#;
    const KA10075_REPLY: &str = r#"{"oso":[{"acnt_no":"1234567890","ord_no":"0000069","stk_cd":"005930","ord_stt":"접수","stk_nm":"삼성전자",
 "ord_qty":"1","ord_pric":"0","oso_qty":"1","cntr_tot_amt":"0","orig_ord_no":"0000000","io_tp_nm":"+매수",
 "trde_tp":"시장가","tm":"154113","cntr_no":"","cntr_pric":"0","cntr_qty":"0","cur_prc":"+74100",
 "sel_bid":"0","buy_bid":"+74100","stex_tp":"1","stex_tp_txt":"KRX","sor_yn":"N"}],
 "return_code":0,"return_msg":" 조회가 완료되었습니다."}"#;
    const KA10076_REQUEST: &str =
        r#"{"stk_cd":"","qry_tp":"0","sell_tp":"0","ord_no":"","stex_tp":"0"}"#;
    /// Illustrative: the reference lists ka10076's members and sample values, no reply.
    const KA10076_REPLY: &str = r#"{"cntr":[{"ord_no":"0000070","stk_nm":"삼성전자","io_tp_nm":"-매도","ord_pric":"0","ord_qty":"2","cntr_pric":"74100","cntr_qty":"2","oso_qty":"0","tdy_trde_cmsn":"20","tdy_trde_tax":"266","ord_stt":"체결","trde_tp":"보통","orig_ord_no":"0000000","ord_tm":"154200","stk_cd":"005930","stex_tp":"1","stex_tp_txt":"KRX","sor_yn":"N","stop_pric":""}],"return_code":0,"return_msg":"조회가 완료되었습니다."}"#;
    /// Illustrative, from §4.8's member list and example values.
    const KT00007_REPLY: &str = r#"{"acnt_ord_cntr_prps_dtl":[{"ord_no":"0000071","stk_cd":"A069500","trde_tp":"시장가","ord_qty":"0000000001","ord_uv":"0000000000","cnfm_qty":"0000000001","acpt_tp":"접수","ord_tm":"13:05:43","ori_ord":"0000000","io_tp_nm":"현금매수","cntr_qty":"0000000001","cntr_uv":"0000035000","ord_remnq":"0000000000","mdfy_cncl":"","cnfm_tm":"","dmst_stex_tp":"KRX"}],"return_code":0,"return_msg":"조회가 완료되었습니다."}"#;

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn round_trip<T: Tr>(sample: &str) -> Reply<T::Resp>
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
    fn cash_round_trips() {
        let req = decode_request::<Kt00001>(r#"{"qry_tp": "3"}"#).unwrap();
        assert_eq!(req, Kt00001Request::estimated());
        assert_eq!(encode_request::<Kt00001>(&req), r#"{"qry_tp":"3"}"#);
        let r = round_trip::<Kt00001>(KT00001_REPLY);
        assert!(is_paper_message(&r.return_msg));
        let b = &r.body;
        assert_eq!(b.deposit().unwrap(), 10_000_000);
        assert_eq!(b.orderable().unwrap(), 10_000_000);
        assert_eq!(b.orderable_full_margin().unwrap(), 10_000_000);
        assert_eq!(b.d2_deposit().unwrap(), 10_000_000);
        assert_eq!(b.d2_settlement().unwrap(), -4900);
        let built = Kt00001Reply::new(10_000_000, 10_000_000, 9_995_100);
        assert_eq!(built.entr, "000000010000000");
        assert_eq!(built.d2_slby_exct_amt, "-00000000004900");
        let e = Kt00001Reply {
            ord_alow_amt: "00000001O000000".into(),
            ..built
        }
        .orderable()
        .unwrap_err();
        assert!(e.to_string().contains("kt00001 reply") && e.to_string().contains("ord_alow_amt"));
    }

    #[test]
    fn holdings_round_trip_in_both_rate_formats() {
        let req = decode_request::<Kt00018>(r#"{"qry_tp":"1","dmst_stex_tp":"KRX"}"#).unwrap();
        assert_eq!(req, Kt00018Request::aggregated());
        let r = round_trip::<Kt00018>(KT00018_REPLY);
        let holdings = r.body.holdings().unwrap();
        assert_eq!(
            holdings,
            vec![Holding {
                ticker: samsung(),
                qty: Qty::lit(1),
                sellable: Qty::lit(1),
                avg_price: Price::lit(250_250)
            }]
        );
        let row = &r.body.acnt_evlt_remn_indv_tot[0];
        assert_eq!(row.profit_rate_bp().unwrap(), 298);
        assert_eq!(row.price().unwrap(), Price::lit(260_000));
        assert_eq!(r.body.total_value().unwrap(), 260_000);
        // Unknown fields, in the reply and in a row, are passed over.
        let extra = KT00018_REPLY
            .replace(
                r#""crd_loan_dt":"""#,
                r#""crd_loan_dt":"","new_field":{"a":1},"x":"y""#,
            )
            .replace(r#""tot_pur_amt""#, r#""tot_new":[1,2],"tot_pur_amt""#);
        assert_eq!(
            decode_reply::<Kt00018>(&extra)
                .unwrap()
                .body
                .holdings()
                .unwrap(),
            holdings
        );
        // The paper server pads the rates.
        let paper = KT00018_REPLY
            .replace(r#""prft_rt":"2.98""#, r#""prft_rt":"000000002.98""#)
            .replace(r#""poss_rt":"89.36""#, r#""poss_rt":"000000089.36""#);
        let r = round_trip::<Kt00018>(&paper);
        assert_eq!(
            r.body.acnt_evlt_remn_indv_tot[0].profit_rate_bp().unwrap(),
            298
        );
        // Built rows read back as the holding they were built from.
        let h = holdings[0];
        let built = Kt00018Row::new("삼성전자", &h, Price::lit(260_000), Price::lit(257_000));
        assert_eq!(built.holding().unwrap(), h);
        for (got, want) in [
            (&built.stk_cd, "A005930"),
            (&built.rmnd_qty, "000000000000001"),
            (&built.pur_pric, "000000000250250"),
            (&built.cur_prc, "000000260000"),
            (&built.pred_close_pric, "000000257000"),
            (&built.evltv_prft, "000000000009750"),
            (&built.prft_rt, "000000003.89"),
        ] {
            assert_eq!(got, want);
        }
        let reply = Kt00018Reply::new(vec![built], 10_000_000);
        assert_eq!(reply.tot_evlt_amt, "000000000260000");
        assert_eq!(reply.holdings().unwrap(), vec![h]);
    }

    #[test]
    fn an_empty_paper_account_is_no_holdings() {
        let r = round_trip::<Kt00018>(KT00018_EMPTY_PAPER);
        assert!(r.is_ok());
        assert_eq!(r.return_msg, MSG_PAPER_NO_DATA);
        assert!(r.body.holdings().unwrap().is_empty());
        let r = decode_reply::<Kt00018>(
            r#"{"return_code":0,"return_msg":"","acnt_evlt_remn_indv_tot":null}"#,
        )
        .unwrap();
        assert!(r.body.holdings().unwrap().is_empty());
    }

    #[test]
    fn bad_holding_rows_are_named() {
        let r = decode_reply::<Kt00018>(KT00018_REPLY).unwrap();
        let row = r.body.acnt_evlt_remn_indv_tot[0].clone();
        for (bad, field) in [
            (
                Kt00018Row {
                    stk_cd: "A0059".into(),
                    ..row.clone()
                },
                "stk_cd",
            ),
            (
                Kt00018Row {
                    rmnd_qty: "-000000000000001".into(),
                    ..row.clone()
                },
                "rmnd_qty",
            ),
            (
                Kt00018Row {
                    trde_able_qty: "".into(),
                    ..row.clone()
                },
                "trde_able_qty",
            ),
            (
                Kt00018Row {
                    pur_pric: "25O250".into(),
                    ..row.clone()
                },
                "pur_pric",
            ),
        ] {
            let msg = bad.holding().unwrap_err().to_string();
            assert!(
                msg.contains("kt00018 row") && msg.contains(&format!("`{field}`")),
                "{msg}"
            );
        }
        // Credit holdings and empty rows are not cash positions.
        let credit = Kt00018Row {
            crd_tp: "03".into(),
            ..row.clone()
        };
        let zero = Kt00018Row {
            rmnd_qty: "000000000000000".into(),
            ..row
        };
        let reply = Kt00018Reply {
            acnt_evlt_remn_indv_tot: vec![credit, zero],
            ..Kt00018Reply::default()
        };
        assert!(reply.holdings().unwrap().is_empty());
    }

    #[test]
    fn open_orders_round_trip() {
        let req = decode_request::<Ka10075>(KA10075_REQUEST).unwrap();
        assert_eq!(req, Ka10075Request::all());
        assert_eq!(encode_request::<Ka10075>(&req), KA10075_REQUEST);
        let r = round_trip::<Ka10075>(KA10075_REPLY);
        let o = r.body.oso[0].to_order().unwrap();
        let want = TodayOrder {
            order_no: 69,
            orig_order_no: 0,
            ticker: samsung(),
            side: Side::Buy,
            kind: OrderKind::New,
            qty: Qty::lit(1),
            price: Price::lit(0),
            filled: Qty::lit(0),
            fill_price: Price::lit(0),
            remaining: Qty::lit(1),
            status: Some(OrderStatus::Accepted),
            time: Some(TimeOfDay::hms(15, 41, 13)),
        };
        assert_eq!(o, want);
        let built = Ka10075Row::from_order(&want, TradeType::Market, "1234567890", "삼성전자");
        assert_eq!(built.to_order().unwrap(), want);
        let text = Reply::ok(Ka10075Reply { oso: vec![built] }).to_json();
        let sample_row: serde_json::Value = serde_json::from_str(KA10075_REPLY).unwrap();
        let mut expected = sample_row["oso"][0].clone();
        // The simulator leaves the live quote fields blank.
        for k in ["cur_prc", "sel_bid", "buy_bid"] {
            expected.as_object_mut().unwrap().remove(k);
        }
        assert_covers(&text, &format!(r#"{{"oso":[{expected}]}}"#));
    }

    #[test]
    fn filled_orders_round_trip_and_page_by_order_number() {
        let req = decode_request::<Ka10076>(KA10076_REQUEST).unwrap();
        assert_eq!(req, Ka10076Request::all());
        assert_eq!(encode_request::<Ka10076>(&req), KA10076_REQUEST);
        let r = round_trip::<Ka10076>(KA10076_REPLY);
        let o = r.body.cntr[0].to_order().unwrap();
        assert_eq!(
            (
                o.order_no,
                o.side,
                o.filled,
                o.fill_price,
                o.remaining,
                o.status
            ),
            (
                70,
                Side::Sell,
                Qty::lit(2),
                Price::lit(74_100),
                Qty::lit(0),
                Some(OrderStatus::Filled)
            )
        );
        let built = Ka10076Row::from_order(&o, TradeType::Limit, "삼성전자");
        assert_eq!(built.to_order().unwrap(), o);
        assert_eq!(r.body.oldest_order_no(), Some(70));
        assert_eq!(req.older_than(70).ord_no, "0000070");
    }

    #[test]
    fn detailed_orders_round_trip() {
        let req = Kt00007Request::today();
        let text = encode_request::<Kt00007>(&req);
        assert_eq!(
            text,
            r#"{"ord_dt":"","qry_tp":"1","stk_bond_tp":"0","sell_tp":"0","stk_cd":"","fr_ord_no":"","dmst_stex_tp":"%"}"#
        );
        assert_eq!(decode_request::<Kt00007>(&text).unwrap(), req);
        let r = round_trip::<Kt00007>(KT00007_REPLY);
        let o = r.body.acnt_ord_cntr_prps_dtl[0].to_order().unwrap();
        assert_eq!(o.ticker, Ticker::parse("069500").unwrap());
        assert_eq!(
            (o.side, o.kind, o.qty, o.filled),
            (Side::Buy, OrderKind::New, Qty::lit(1), Qty::lit(1))
        );
        assert_eq!(o.time, Some(TimeOfDay::hms(13, 5, 43)));
        let built = Kt00007Row::from_order(&o, TradeType::Market);
        assert_eq!(built.to_order().unwrap(), o);
        assert_eq!(built.ord_qty, "0000000001");
        assert_eq!(built.ord_tm, "13:05:43");
    }

    #[test]
    fn bad_order_rows_are_named() {
        let r = decode_reply::<Ka10075>(KA10075_REPLY).unwrap();
        let row = r.body.oso[0].clone();
        for (bad, field) in [
            (
                Ka10075Row {
                    io_tp_nm: "?".into(),
                    ..row.clone()
                },
                "io_tp_nm",
            ),
            (
                Ka10075Row {
                    ord_no: "".into(),
                    ..row.clone()
                },
                "ord_no",
            ),
            (
                Ka10075Row {
                    ord_no: "00x0069".into(),
                    ..row.clone()
                },
                "ord_no",
            ),
            (
                Ka10075Row {
                    oso_qty: "-1".into(),
                    ..row.clone()
                },
                "oso_qty",
            ),
            (
                Ka10075Row {
                    tm: "256000".into(),
                    ..row.clone()
                },
                "tm",
            ),
            (
                Ka10075Row {
                    orig_ord_no: "x".into(),
                    ..row.clone()
                },
                "orig_ord_no",
            ),
        ] {
            let msg = bad.to_order().unwrap_err().to_string();
            assert!(
                msg.contains("ka10075 row") && msg.contains(&format!("`{field}`")),
                "{msg}"
            );
        }
        let e =
            decode_reply::<Ka10075>(r#"{"return_code":0,"oso":[{"ord_no":["x"]}]}"#).unwrap_err();
        assert!(e.to_string().contains("oso[0].ord_no"), "{e}");
    }

    #[test]
    fn account_number() {
        let r = round_trip::<Ka00001>(
            r#"{"acctNo":"0123456789","return_code":0,"return_msg":"정상적으로 처리되었습니다"}"#,
        );
        assert_eq!(r.body.account().unwrap(), "0123456789");
        assert_eq!(encode_request::<Ka00001>(&EmptyRequest {}), "{}");
        assert!(decode_request::<Ka00001>(r#"{"x":1}"#).is_ok());
        let e = Ka00001Reply {
            acct_no: "01234".into(),
        }
        .account()
        .unwrap_err();
        assert!(e.to_string().contains("acctNo"), "{e}");
        for (id, path) in [
            (Kt00001::API_ID, Kt00001::PATH),
            (Kt00018::API_ID, Kt00018::PATH),
            (Ka10075::API_ID, Ka10075::PATH),
            (Ka10076::API_ID, Ka10076::PATH),
            (Kt00007::API_ID, Kt00007::PATH),
            (Ka00001::API_ID, Ka00001::PATH),
        ] {
            assert_eq!(path_for_api_id(id), Some(path), "{id}");
        }
    }

    #[test]
    fn random_replies_never_panic() {
        let mut rng = Rng::new(0xacc0_0001);
        for sample in [
            KT00001_REPLY,
            KT00018_REPLY,
            KA10075_REPLY,
            KA10076_REPLY,
            KT00007_REPLY,
        ] {
            for _ in 0..1500 {
                let t = rng.mutate(sample);
                if let Ok(r) = decode_reply::<Kt00001>(&t) {
                    let b = r.body;
                    let _ = (
                        b.deposit(),
                        b.orderable(),
                        b.d2_deposit(),
                        b.d2_settlement(),
                    );
                }
                if let Ok(r) = decode_reply::<Kt00018>(&t) {
                    let _ = r.body.holdings();
                    let _ = r
                        .body
                        .acnt_evlt_remn_indv_tot
                        .iter()
                        .map(Kt00018Row::profit_rate_bp)
                        .count();
                }
                if let Ok(r) = decode_reply::<Ka10075>(&t) {
                    let _ = r.body.oso.iter().map(Ka10075Row::to_order).count();
                }
                if let Ok(r) = decode_reply::<Ka10076>(&t) {
                    let _ = r.body.cntr.iter().map(Ka10076Row::to_order).count();
                    let _ = r.body.oldest_order_no();
                }
                if let Ok(r) = decode_reply::<Kt00007>(&t) {
                    let _ = r
                        .body
                        .acnt_ord_cntr_prps_dtl
                        .iter()
                        .map(Kt00007Row::to_order)
                        .count();
                }
            }
        }
    }
}
