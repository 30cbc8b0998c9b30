//! Account TRs on `/stock/accno` (reference §4.1–§4.4): CSPAQ12200 balance, t0424
//! holdings, t0425 the day's orders and fills, FOCCQ33600 period return (also the
//! paper/real probe some clients run at login).
//!
//! Owns these blocks with the reference's field names: amounts as JSON numbers (read
//! leniently), rates as fixed-decimal text. Must never compute positions or P&L (the
//! Portfolio does) and never reject a reply over a blank or extra field.

use serde::{Deserialize, Serialize};

use super::num;
use super::rest::{Tr, PATH_ACCNO, RSP_BALANCE_OK, RSP_CONTINUES, RSP_OK};
use super::WireError;
use crate::market::{Price, Qty, Side, Ticker};

/// Paper-server messages start with this (e.g. "모의투자 조회가 완료되었습니다.").
pub const PAPER_MARKER: &str = "모의투자";

/// True when an `rsp_msg` comes from the paper (모의투자) server: what clients check on the
/// FOCCQ33600 probe to pick websocket port 29443 over 9443.
pub fn is_paper_message(rsp_msg: &str) -> bool {
    rsp_msg.contains(PAPER_MARKER)
}

fn is_zero(v: &i64) -> bool {
    *v == 0
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

// ---------------------------------------------------------------------------------------
// CSPAQ12200

/// CSPAQ12200InBlock1. `BalCreTp` `"0"`; the doc example also sends `RecCnt`/`MgmtBrnNo`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspaq12200InBlock1 {
    #[serde(with = "num::int_or_zero", skip_serializing_if = "is_zero")]
    pub rec_cnt: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub mgmt_brn_no: String,
    pub bal_cre_tp: String,
}

impl Cspaq12200InBlock1 {
    /// What clients send: `{"RecCnt":1,"BalCreTp":"0"}`.
    pub fn new() -> Cspaq12200InBlock1 {
        Cspaq12200InBlock1 {
            rec_cnt: 1,
            mgmt_brn_no: String::new(),
            bal_cre_tp: "0".to_owned(),
        }
    }
}

/// CSPAQ12200OutBlock1: the request echoed with the account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspaq12200OutBlock1 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    pub mgmt_brn_no: String,
    /// 11 digits in examples; some clients split off the last two as the sub-account.
    pub acnt_no: String,
    pub pwd: String,
    pub bal_cre_tp: String,
}

/// CSPAQ12200OutBlock2: cash, orderable amounts and valuation, every field of the
/// reference. Amounts are whole won (N16); `PnlRat` (N18.6) and `ChgAfPldgRat` (N9.3) are
/// fixed-decimal text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Cspaq12200OutBlock2 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    pub brn_nm: String,
    pub acnt_nm: String,
    #[serde(with = "num::int_or_zero")]
    pub mny_ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mnyout_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub se_ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub kdq_ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub bal_eval_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub rcvbl_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub dpsast_totamt: i64,
    #[serde(with = "num::text")]
    pub pnl_rat: String,
    #[serde(with = "num::int_or_zero")]
    pub invst_org_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub invst_pl_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub crdt_pldg_ord_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub dps: i64,
    #[serde(with = "num::int_or_zero")]
    pub subst_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub d1_dps: i64,
    #[serde(with = "num::int_or_zero")]
    pub d2_dps: i64,
    #[serde(with = "num::int_or_zero")]
    pub mnyrcl_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mgn_mny: i64,
    #[serde(with = "num::int_or_zero")]
    pub mgn_subst: i64,
    #[serde(with = "num::int_or_zero")]
    pub chck_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub subst_ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mgn_rat100pct_ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mgn_rat35ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mgn_rat50ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub prday_sell_adjst_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub prday_buy_adjst_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub crday_sell_adjst_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub crday_buy_adjst_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub d1ovd_repay_rqrd_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub d2ovd_repay_rqrd_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub d1_prsmpt_wthdw_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub d2_prsmpt_wthdw_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub dpspdg_loan_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub imreq: i64,
    #[serde(with = "num::int_or_zero")]
    pub mloan_amt: i64,
    #[serde(with = "num::text")]
    pub chg_af_pldg_rat: String,
    #[serde(with = "num::int_or_zero")]
    pub org_pldg_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub sub_pldg_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub rqrd_pldg_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub org_pdlck_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub pdlck_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub add_pldg_mny: i64,
    #[serde(with = "num::int_or_zero")]
    pub d1_ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub crdt_intdlt_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub etclnd_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub ntday_prsmpt_cvrg_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub org_pldg_sum_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub crdt_ord_able_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub sub_pldg_sum_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub crdt_pldg_amt_mny: i64,
    #[serde(with = "num::int_or_zero")]
    pub crdt_pldg_subst_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub add_crdt_pldg_mny: i64,
    #[serde(with = "num::int_or_zero")]
    pub crdt_pldg_ruse_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub add_crdt_pldg_subst: i64,
    #[serde(with = "num::int_or_zero")]
    pub csl_loan_amtdt1: i64,
    #[serde(with = "num::int_or_zero")]
    pub dpsl_restrc_amt: i64,
}

/// CSPAQ12200 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cspaq12200Out {
    #[serde(
        rename = "CSPAQ12200OutBlock1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block1: Option<Cspaq12200OutBlock1>,
    #[serde(
        rename = "CSPAQ12200OutBlock2",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block2: Option<Cspaq12200OutBlock2>,
}

/// CSPAQ12200: balance. Success: `00136`.
pub struct Cspaq12200;

impl Tr for Cspaq12200 {
    const TR_CD: &'static str = "CSPAQ12200";
    const PATH: &'static str = PATH_ACCNO;
    const IN_BLOCK: &'static str = "CSPAQ12200InBlock1";
    const SUCCESS_CODES: &'static [&'static str] = &[RSP_BALANCE_OK];
    type In = Cspaq12200InBlock1;
    type Out = Cspaq12200Out;
}

// ---------------------------------------------------------------------------------------
// t0424

/// t0424InBlock: holdings query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T0424InBlock {
    /// `1` average price, `2` break-even price.
    pub prcgb: String,
    /// `0` settlement basis, `2` execution basis.
    pub chegb: String,
    /// `0` regular, `1` after-hours single price.
    pub dangb: String,
    /// `0`/`1`: include costs.
    pub charge: String,
    /// Continuation key from the previous `t0424OutBlock`.
    pub cts_expcode: String,
}

impl T0424InBlock {
    /// Average price, execution basis, regular session, costs included.
    pub fn new() -> T0424InBlock {
        T0424InBlock {
            prcgb: "1".to_owned(),
            chegb: "2".to_owned(),
            dangb: "0".to_owned(),
            charge: "1".to_owned(),
            cts_expcode: String::new(),
        }
    }
}

/// t0424OutBlock: totals and the continuation key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T0424OutBlock {
    #[serde(with = "num::int_or_zero")]
    pub sunamt: i64,
    #[serde(with = "num::int_or_zero")]
    pub dtsunik: i64,
    #[serde(with = "num::int_or_zero")]
    pub mamt: i64,
    #[serde(with = "num::int_or_zero")]
    pub sunamt1: i64,
    pub cts_expcode: String,
    #[serde(with = "num::int_or_zero")]
    pub tappamt: i64,
    #[serde(with = "num::int_or_zero")]
    pub tdtsunik: i64,
}

/// t0424OutBlock1: one holding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T0424OutBlock1 {
    /// Six-digit code (no `A` in the example).
    pub expcode: String,
    pub jangb: String,
    /// Shares held.
    #[serde(with = "num::qty")]
    pub janqty: i64,
    /// Shares sellable.
    #[serde(with = "num::int_or_zero")]
    pub mdposqt: i64,
    /// Average price.
    #[serde(with = "num::price")]
    pub pamt: i64,
    /// Purchase amount.
    #[serde(with = "num::int_or_zero")]
    pub mamt: i64,
    #[serde(with = "num::int_or_zero")]
    pub sinamt: i64,
    pub lastdt: String,
    #[serde(with = "num::int_or_zero")]
    pub msat: i64,
    #[serde(with = "num::int_or_zero")]
    pub mpms: i64,
    #[serde(with = "num::int_or_zero")]
    pub mdat: i64,
    #[serde(with = "num::int_or_zero")]
    pub mpmd: i64,
    #[serde(with = "num::int_or_zero")]
    pub jsat: i64,
    #[serde(with = "num::int_or_zero")]
    pub jpms: i64,
    #[serde(with = "num::int_or_zero")]
    pub jdat: i64,
    #[serde(with = "num::int_or_zero")]
    pub jpmd: i64,
    #[serde(with = "num::int_or_zero")]
    pub sysprocseq: i64,
    pub loandt: String,
    pub hname: String,
    pub marketgb: String,
    pub jonggb: String,
    /// Holding weight, N10.2 text.
    #[serde(with = "num::text")]
    pub janrt: String,
    /// Current price.
    #[serde(with = "num::price")]
    pub price: i64,
    /// Valuation.
    #[serde(with = "num::int_or_zero")]
    pub appamt: i64,
    #[serde(with = "num::int_or_zero")]
    pub dtsunik: i64,
    /// Return, N10.2 text.
    #[serde(with = "num::text")]
    pub sunikrt: String,
    #[serde(with = "num::int_or_zero")]
    pub fee: i64,
    #[serde(with = "num::int_or_zero")]
    pub tax: i64,
    #[serde(with = "num::int_or_zero")]
    pub sininter: i64,
}

impl T0424OutBlock1 {
    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_of("t0424OutBlock1", "expcode", &self.expcode)
    }

    /// `janqty`.
    pub fn qty(&self) -> Result<Qty, WireError> {
        num::qty_of("t0424OutBlock1", "janqty", self.janqty)
    }

    /// `pamt`: average price.
    pub fn avg_price(&self) -> Result<Price, WireError> {
        num::price_of("t0424OutBlock1", "pamt", self.pamt)
    }
}

/// t0424 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T0424Out {
    #[serde(
        rename = "t0424OutBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block: Option<T0424OutBlock>,
    #[serde(rename = "t0424OutBlock1", default)]
    pub out_block1: Vec<T0424OutBlock1>,
}

/// t0424: holdings.
pub struct T0424;

impl Tr for T0424 {
    const TR_CD: &'static str = "t0424";
    const PATH: &'static str = PATH_ACCNO;
    const IN_BLOCK: &'static str = "t0424InBlock";
    type In = T0424InBlock;
    type Out = T0424Out;
}

// ---------------------------------------------------------------------------------------
// t0425

/// t0425InBlock: the day's orders and fills.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T0425InBlock {
    /// `""` = all stocks.
    pub expcode: String,
    /// `0` all, `1` filled, `2` unfilled.
    pub chegb: String,
    /// `0` all, `1` sell, `2` buy.
    pub medosu: String,
    /// `1` order number descending, `2` ascending.
    pub sortgb: String,
    /// Continuation key from the previous `t0425OutBlock`.
    pub cts_ordno: String,
}

impl T0425InBlock {
    /// Every order of the day, oldest first.
    pub fn all() -> T0425InBlock {
        T0425InBlock {
            expcode: String::new(),
            chegb: "0".to_owned(),
            medosu: "0".to_owned(),
            sortgb: "2".to_owned(),
            cts_ordno: String::new(),
        }
    }
}

/// t0425OutBlock: totals and the continuation key.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T0425OutBlock {
    #[serde(with = "num::int_or_zero")]
    pub tqty: i64,
    #[serde(with = "num::int_or_zero")]
    pub tcheqty: i64,
    #[serde(with = "num::int_or_zero")]
    pub tordrem: i64,
    #[serde(with = "num::int_or_zero")]
    pub cmss: i64,
    #[serde(with = "num::int_or_zero")]
    pub tamt: i64,
    #[serde(with = "num::int_or_zero")]
    pub tmdamt: i64,
    #[serde(with = "num::int_or_zero")]
    pub tmsamt: i64,
    #[serde(with = "num::int_or_zero")]
    pub tax: i64,
    pub cts_ordno: String,
}

/// t0425 `status` text.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum OrderStatus {
    /// 접수.
    Accepted,
    /// 정정확인.
    ModifyConfirmed,
    /// 취소확인.
    CancelConfirmed,
    /// 완료.
    Complete,
}

impl OrderStatus {
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Accepted => "접수",
            OrderStatus::ModifyConfirmed => "정정확인",
            OrderStatus::CancelConfirmed => "취소확인",
            OrderStatus::Complete => "완료",
        }
    }

    /// The four statuses clients map; LS has more, which read as `None`.
    pub fn from_label(label: &str) -> Option<OrderStatus> {
        match label.trim() {
            "접수" => Some(OrderStatus::Accepted),
            "정정확인" => Some(OrderStatus::ModifyConfirmed),
            "취소확인" => Some(OrderStatus::CancelConfirmed),
            "완료" => Some(OrderStatus::Complete),
            _ => None,
        }
    }
}

/// t0425OutBlock1: one order. `ordno` is a JSON number (clients compare it with an
/// integer); `medosu` and `status` are Korean text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct T0425OutBlock1 {
    #[serde(with = "num::int_or_zero")]
    pub ordno: i64,
    pub expcode: String,
    /// `매수` / `매도`.
    pub medosu: String,
    #[serde(with = "num::qty")]
    pub qty: i64,
    #[serde(with = "num::price")]
    pub price: i64,
    #[serde(with = "num::qty")]
    pub cheqty: i64,
    #[serde(with = "num::price")]
    pub cheprice: i64,
    #[serde(with = "num::qty")]
    pub ordrem: i64,
    #[serde(with = "num::int_or_zero")]
    pub cfmqty: i64,
    /// `접수`, `정정확인`, `취소확인`, `완료`, …
    pub status: String,
    #[serde(with = "num::int_or_zero")]
    pub orgordno: i64,
    /// e.g. `보통`.
    pub ordgb: String,
    /// HHMMSSss, e.g. `08410730`.
    pub ordtime: String,
    /// e.g. `씽(Xing)-F`.
    pub ordermtd: String,
    #[serde(with = "num::int_or_zero")]
    pub sysprocseq: i64,
    /// `00` / `03`.
    pub hogagb: String,
    /// Current price.
    #[serde(with = "num::price")]
    pub price1: i64,
    pub orggb: String,
    pub singb: String,
    pub loandt: String,
    pub exchname: String,
}

impl T0425OutBlock1 {
    const WHAT: &'static str = "t0425OutBlock1";

    pub fn ticker(&self) -> Result<Ticker, WireError> {
        ticker_of(Self::WHAT, "expcode", &self.expcode)
    }

    /// `medosu`: `매수` buy, `매도` sell (the codes `2`/`1` are read too).
    pub fn side(&self) -> Result<Side, WireError> {
        let m = self.medosu.trim();
        [Side::Buy, Side::Sell]
            .into_iter()
            .find(|s| m == s.ls_label())
            .or_else(|| Side::from_ls_code(m))
            .ok_or_else(|| WireError::bad_value(Self::WHAT, "medosu", &self.medosu, "매수 or 매도"))
    }

    /// `status`, if it is one of the four clients map.
    pub fn status(&self) -> Option<OrderStatus> {
        OrderStatus::from_label(&self.status)
    }

    pub fn qty(&self) -> Result<Qty, WireError> {
        num::qty_of(Self::WHAT, "qty", self.qty)
    }

    /// `cheqty`: shares filled.
    pub fn filled_qty(&self) -> Result<Qty, WireError> {
        num::qty_of(Self::WHAT, "cheqty", self.cheqty)
    }

    /// `ordrem`: shares still working.
    pub fn remaining_qty(&self) -> Result<Qty, WireError> {
        num::qty_of(Self::WHAT, "ordrem", self.ordrem)
    }

    /// `price`: the order's price (0 for a market order).
    pub fn price(&self) -> Result<Price, WireError> {
        num::price_of(Self::WHAT, "price", self.price)
    }

    /// `cheprice`: the average fill price (0 before a fill).
    pub fn avg_fill_price(&self) -> Result<Price, WireError> {
        num::price_of(Self::WHAT, "cheprice", self.cheprice)
    }
}

/// t0425 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct T0425Out {
    #[serde(
        rename = "t0425OutBlock",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block: Option<T0425OutBlock>,
    #[serde(rename = "t0425OutBlock1", default)]
    pub out_block1: Vec<T0425OutBlock1>,
}

/// t0425: the day's orders and fills.
pub struct T0425;

impl Tr for T0425 {
    const TR_CD: &'static str = "t0425";
    const PATH: &'static str = PATH_ACCNO;
    const IN_BLOCK: &'static str = "t0425InBlock";
    type In = T0425InBlock;
    type Out = T0425Out;
}

// ---------------------------------------------------------------------------------------
// FOCCQ33600

/// FOCCQ33600InBlock1. Blank fields are left out, so `default()` encodes as the empty
/// in-block `{}` that clients send as their login probe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Foccq33600InBlock1 {
    #[serde(with = "num::int_or_zero", skip_serializing_if = "is_zero")]
    pub rec_cnt: i64,
    /// YYYYMMDD.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub qry_srt_dt: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub qry_end_dt: String,
    /// `1` day, `2` week, `3` month.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub term_tp: String,
}

/// FOCCQ33600OutBlock1: the request echoed with the account.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Foccq33600OutBlock1 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    pub acnt_no: String,
    pub pwd: String,
    pub qry_srt_dt: String,
    pub qry_end_dt: String,
    pub term_tp: String,
}

/// FOCCQ33600OutBlock2: period summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Foccq33600OutBlock2 {
    #[serde(with = "num::int_or_zero")]
    pub rec_cnt: i64,
    pub acnt_nm: String,
    #[serde(with = "num::int_or_zero")]
    pub bnsctr_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mnyin_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mnyout_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub invst_avrbal_pramt: i64,
    #[serde(with = "num::int_or_zero")]
    pub invst_pl_amt: i64,
    /// N9.2 text.
    #[serde(with = "num::text")]
    pub invst_ernrat: String,
}

/// FOCCQ33600OutBlock3: one period row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct Foccq33600OutBlock3 {
    pub base_dt: String,
    #[serde(with = "num::int_or_zero")]
    pub fd_eval_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub eot_eval_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub invst_avrbal_pramt: i64,
    #[serde(with = "num::int_or_zero")]
    pub bnsctr_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mnyin_secin_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub mnyout_secout_amt: i64,
    #[serde(with = "num::int_or_zero")]
    pub eval_pnl_amt: i64,
    /// N11.3 text.
    #[serde(with = "num::text")]
    pub term_ernrat: String,
    /// N13.2 text.
    #[serde(with = "num::text")]
    pub idx: String,
}

/// FOCCQ33600 reply blocks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Foccq33600Out {
    #[serde(
        rename = "FOCCQ33600OutBlock1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block1: Option<Foccq33600OutBlock1>,
    #[serde(
        rename = "FOCCQ33600OutBlock2",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub out_block2: Option<Foccq33600OutBlock2>,
    #[serde(rename = "FOCCQ33600OutBlock3", default)]
    pub out_block3: Vec<Foccq33600OutBlock3>,
}

/// FOCCQ33600: period return.
pub struct Foccq33600;

impl Tr for Foccq33600 {
    const TR_CD: &'static str = "FOCCQ33600";
    const PATH: &'static str = PATH_ACCNO;
    const IN_BLOCK: &'static str = "FOCCQ33600InBlock1";
    // `00133` means more data follows; the code of a complete answer is UNCONFIRMED, so
    // the account-query `00136` and the generic `00000` are both taken as success.
    const SUCCESS_CODES: &'static [&'static str] = &[RSP_BALANCE_OK, RSP_CONTINUES, RSP_OK];
    type In = Foccq33600InBlock1;
    type Out = Foccq33600Out;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::rest::{decode_reply, decode_request, encode_request, path_for_tr};
    use serde_json::Value;

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

    /// A paper CSPAQ12200 reply in the doc's style (amounts as numbers, rates as text).
    const BALANCE_REPLY: &str = r#"{"rsp_cd":"00136","rsp_msg":"모의투자 조회가 완료되었습니다.","CSPAQ12200OutBlock1":{"RecCnt":1,"MgmtBrnNo":"","AcntNo":"20011132702","Pwd":"********","BalCreTp":"0"},"CSPAQ12200OutBlock2":{"RecCnt":1,"BrnNm":"","AcntNm":"우우돌","MnyOrdAbleAmt":79459964,"MnyoutAbleAmt":79459964,"Dps":79759964,"D1Dps":79759964,"D2Dps":79639964,"PnlRat":"0.000000","ChgAfPldgRat":"0.000","BalEvalAmt":120000,"DpsastTotamt":"79879964"}}"#;

    #[test]
    fn block_field_names_are_the_references() {
        assert_eq!(keys::<Cspaq12200OutBlock2>(), sorted("RecCnt, BrnNm, AcntNm, MnyOrdAbleAmt, MnyoutAbleAmt, SeOrdAbleAmt, KdqOrdAbleAmt, BalEvalAmt, RcvblAmt, DpsastTotamt, PnlRat, InvstOrgAmt, InvstPlAmt, CrdtPldgOrdAmt, Dps, SubstAmt, D1Dps, D2Dps, MnyrclAmt, MgnMny, MgnSubst, ChckAmt, SubstOrdAbleAmt, MgnRat100pctOrdAbleAmt, MgnRat35ordAbleAmt, MgnRat50ordAbleAmt, PrdaySellAdjstAmt, PrdayBuyAdjstAmt, CrdaySellAdjstAmt, CrdayBuyAdjstAmt, D1ovdRepayRqrdAmt, D2ovdRepayRqrdAmt, D1PrsmptWthdwAbleAmt, D2PrsmptWthdwAbleAmt, DpspdgLoanAmt, Imreq, MloanAmt, ChgAfPldgRat, OrgPldgAmt, SubPldgAmt, RqrdPldgAmt, OrgPdlckAmt, PdlckAmt, AddPldgMny, D1OrdAbleAmt, CrdtIntdltAmt, EtclndAmt, NtdayPrsmptCvrgAmt, OrgPldgSumAmt, CrdtOrdAbleAmt, SubPldgSumAmt, CrdtPldgAmtMny, CrdtPldgSubstAmt, AddCrdtPldgMny, CrdtPldgRuseAmt, AddCrdtPldgSubst, CslLoanAmtdt1, DpslRestrcAmt"));
        assert_eq!(
            keys::<Cspaq12200OutBlock1>(),
            sorted("RecCnt, MgmtBrnNo, AcntNo, Pwd, BalCreTp")
        );
        assert_eq!(
            keys::<T0424OutBlock>(),
            sorted("sunamt, dtsunik, mamt, sunamt1, cts_expcode, tappamt, tdtsunik")
        );
        assert_eq!(keys::<T0424OutBlock1>(), sorted("expcode, jangb, janqty, mdposqt, pamt, mamt, sinamt, lastdt, msat, mpms, mdat, mpmd, jsat, jpms, jdat, jpmd, sysprocseq, loandt, hname, marketgb, jonggb, janrt, price, appamt, dtsunik, sunikrt, fee, tax, sininter"));
        assert_eq!(
            keys::<T0424InBlock>(),
            sorted("prcgb, chegb, dangb, charge, cts_expcode")
        );
        assert_eq!(
            keys::<T0425InBlock>(),
            sorted("expcode, chegb, medosu, sortgb, cts_ordno")
        );
        assert_eq!(
            keys::<T0425OutBlock>(),
            sorted("tqty, tcheqty, tordrem, cmss, tamt, tmdamt, tmsamt, tax, cts_ordno")
        );
        assert_eq!(keys::<T0425OutBlock1>(), sorted("ordno, expcode, medosu, qty, price, cheqty, cheprice, ordrem, cfmqty, status, orgordno, ordgb, ordtime, ordermtd, sysprocseq, hogagb, price1, orggb, singb, loandt, exchname"));
        assert_eq!(
            keys::<Foccq33600OutBlock1>(),
            sorted("RecCnt, AcntNo, Pwd, QrySrtDt, QryEndDt, TermTp")
        );
        assert_eq!(keys::<Foccq33600OutBlock2>(), sorted("RecCnt, AcntNm, BnsctrAmt, MnyinAmt, MnyoutAmt, InvstAvrbalPramt, InvstPlAmt, InvstErnrat"));
        assert_eq!(keys::<Foccq33600OutBlock3>(), sorted("BaseDt, FdEvalAmt, EotEvalAmt, InvstAvrbalPramt, BnsctrAmt, MnyinSecinAmt, MnyoutSecoutAmt, EvalPnlAmt, TermErnrat, Idx"));
        for tr in [
            Cspaq12200::TR_CD,
            T0424::TR_CD,
            T0425::TR_CD,
            Foccq33600::TR_CD,
        ] {
            assert_eq!(path_for_tr(tr), Some(PATH_ACCNO), "{tr}");
        }
    }

    #[test]
    fn balance_reply_round_trips() {
        let r = decode_reply::<Cspaq12200>(BALANCE_REPLY).unwrap();
        assert!(Cspaq12200::succeeded(&r));
        assert!(is_paper_message(&r.rsp_msg));
        let b1 = r.blocks.out_block1.as_ref().unwrap();
        assert_eq!(b1.acnt_no, "20011132702");
        let b2 = r.blocks.out_block2.as_ref().unwrap();
        assert_eq!(
            (b2.mny_ord_able_amt, b2.dps, b2.d1_dps, b2.d2_dps),
            (79_459_964, 79_759_964, 79_759_964, 79_639_964)
        );
        assert_eq!(
            b2.dpsast_totamt, 79_879_964,
            "numeric text read as a number"
        );
        assert_eq!(
            (b2.pnl_rat.as_str(), b2.chg_af_pldg_rat.as_str()),
            ("0.000000", "0.000")
        );
        assert_eq!(b2.mgn_rat100pct_ord_able_amt, 0, "absent amounts read as 0");
        let text = r.to_json();
        assert_eq!(decode_reply::<Cspaq12200>(&text).unwrap(), r);
        assert_eq!(
            encode_request::<Cspaq12200>(&Cspaq12200InBlock1::new()),
            r#"{"CSPAQ12200InBlock1":{"RecCnt":1,"BalCreTp":"0"}}"#
        );
        let e = decode_reply::<Cspaq12200>(&BALANCE_REPLY.replace("79459964,", "\"lots\","))
            .unwrap_err();
        assert!(
            e.to_string().contains("CSPAQ12200OutBlock2.MnyOrdAbleAmt"),
            "{e}"
        );
    }

    #[test]
    fn holdings_reply_round_trips() {
        let text = r#"{"rsp_cd":"00000","rsp_msg":"조회가 완료되었습니다.","t0424OutBlock":{"sunamt":79879964,"dtsunik":0,"mamt":120000,"sunamt1":79759964,"cts_expcode":"","tappamt":120000,"tdtsunik":0},"t0424OutBlock1":[{"expcode":"005930","jangb":"","janqty":2,"mdposqt":2,"pamt":60000,"mamt":120000,"sinamt":0,"lastdt":"","msat":2,"mpms":60000,"mdat":0,"mpmd":0,"jsat":0,"jpms":0,"jdat":0,"jpmd":0,"sysprocseq":0,"loandt":"","hname":"삼성전자","marketgb":"","jonggb":"3","janrt":"100.00","price":60000,"appamt":120000,"dtsunik":0,"sunikrt":"0.00","fee":0,"tax":0,"sininter":0}]}"#;
        let r = decode_reply::<T0424>(text).unwrap();
        assert!(T0424::succeeded(&r));
        let h = &r.blocks.out_block1[0];
        assert_eq!(h.ticker().unwrap(), Ticker::parse("005930").unwrap());
        assert_eq!(
            (h.qty().unwrap(), h.avg_price().unwrap()),
            (Qty::lit(2), Price::lit(60_000))
        );
        assert_eq!(h.janrt, "100.00");
        assert_eq!(r.to_json(), text);
        let bad = T0424OutBlock1 {
            janqty: -1,
            ..h.clone()
        };
        assert!(bad.qty().unwrap_err().to_string().contains("janqty"));
        // No holdings: no blocks at all still decodes.
        let empty = decode_reply::<T0424>(r#"{"rsp_cd":"00000","rsp_msg":"해당자료가 없습니다."}"#)
            .unwrap();
        assert!(empty.is_no_data() && empty.blocks.out_block1.is_empty());
        assert_eq!(
            decode_request::<T0424>(&encode_request::<T0424>(&T0424InBlock::new())).unwrap(),
            T0424InBlock::new()
        );
    }

    #[test]
    fn orders_of_the_day_round_trip() {
        let text = r#"{"rsp_cd":"00000","rsp_msg":"조회가 완료되었습니다.","t0425OutBlock":{"tqty":2,"tcheqty":1,"tordrem":1,"cmss":0,"tamt":60000,"tmdamt":0,"tmsamt":60000,"tax":0,"cts_ordno":""},"t0425OutBlock1":[{"ordno":86382,"expcode":"005930","medosu":"매수","qty":2,"price":60000,"cheqty":1,"cheprice":60000,"ordrem":1,"cfmqty":0,"status":"접수","orgordno":0,"ordgb":"보통","ordtime":"09563602","ordermtd":"씽(Xing)-F","sysprocseq":0,"hogagb":"00","price1":60100,"orggb":"","singb":"","loandt":"","exchname":"KRX"}]}"#;
        let r = decode_reply::<T0425>(text).unwrap();
        let o = &r.blocks.out_block1[0];
        assert_eq!(o.ordno, 86_382);
        assert_eq!(o.side().unwrap(), Side::Buy);
        assert_eq!(o.status(), Some(OrderStatus::Accepted));
        assert_eq!(
            (
                o.qty().unwrap(),
                o.filled_qty().unwrap(),
                o.remaining_qty().unwrap()
            ),
            (Qty::lit(2), Qty::lit(1), Qty::lit(1))
        );
        let out = r.to_json();
        assert_eq!(out, text);
        assert!(
            out.contains(r#""ordno":86382"#),
            "ordno stays a JSON number"
        );
        // ordno as text is read too.
        let r2 =
            decode_reply::<T0425>(&text.replace(r#""ordno":86382"#, r#""ordno":"86382""#)).unwrap();
        assert_eq!(r2, r);
        let sell = T0425OutBlock1 {
            medosu: "매도".into(),
            ..o.clone()
        };
        assert_eq!(sell.side().unwrap(), Side::Sell);
        let odd = T0425OutBlock1 {
            medosu: "?".into(),
            status: "거부".into(),
            ..o.clone()
        };
        assert!(odd.side().unwrap_err().to_string().contains("medosu"));
        assert_eq!(odd.status(), None);
        for s in [
            OrderStatus::Accepted,
            OrderStatus::ModifyConfirmed,
            OrderStatus::CancelConfirmed,
            OrderStatus::Complete,
        ] {
            assert_eq!(OrderStatus::from_label(s.label()), Some(s));
        }
    }

    #[test]
    fn foccq33600_probe_and_reply() {
        assert_eq!(
            encode_request::<Foccq33600>(&Foccq33600InBlock1::default()),
            r#"{"FOCCQ33600InBlock1":{}}"#
        );
        assert_eq!(
            decode_request::<Foccq33600>(r#"{"FOCCQ33600InBlock1": {}}"#).unwrap(),
            Foccq33600InBlock1::default()
        );
        let q = decode_request::<Foccq33600>(r#"{"FOCCQ33600InBlock1":{"RecCnt":1,"QrySrtDt":"20250101","QryEndDt":"20250131","TermTp":"1"}}"#).unwrap();
        assert_eq!((q.rec_cnt, q.term_tp.as_str()), (1, "1"));
        let text = r#"{"rsp_cd":"00133","rsp_msg":"모의투자 조회가 계속 됩니다.","FOCCQ33600OutBlock1":{"RecCnt":1,"AcntNo":"20011132702","Pwd":"********","QrySrtDt":"20250101","QryEndDt":"20250131","TermTp":"1"},"FOCCQ33600OutBlock2":{"RecCnt":1,"AcntNm":"우우돌","BnsctrAmt":0,"MnyinAmt":0,"MnyoutAmt":0,"InvstAvrbalPramt":0,"InvstPlAmt":0,"InvstErnrat":"0.00"},"FOCCQ33600OutBlock3":[{"BaseDt":"20250102","FdEvalAmt":80000000,"EotEvalAmt":80000000,"InvstAvrbalPramt":0,"BnsctrAmt":0,"MnyinSecinAmt":0,"MnyoutSecoutAmt":0,"EvalPnlAmt":0,"TermErnrat":"0.000","Idx":"2500.12"}]}"#;
        let r = decode_reply::<Foccq33600>(text).unwrap();
        assert!(Foccq33600::succeeded(&r) && is_paper_message(&r.rsp_msg));
        assert_eq!(r.blocks.out_block3[0].idx, "2500.12");
        assert_eq!(r.to_json(), text);
        assert!(!is_paper_message("조회가 완료되었습니다."));
    }
}
