//! The simulator's TR handlers: one function per LS TR, each turning a decoded in-block
//! into a call on the `Exchange` and its answer into LS's out-blocks, plus the SC0–SC4
//! and AFR frames for the exchange's events.
//!
//! Owns no state (it borrows the engine's). Must never answer without `rsp_cd`/`rsp_msg`,
//! and never invent a success: every refusal carries the exchange's reject code.

use condor_model::market::{Side, Ticker};
use condor_model::wire::account::{
    Cspaq12200, Cspaq12200Out, Cspaq12200OutBlock1, Cspaq12200OutBlock2, Foccq33600, Foccq33600Out,
    Foccq33600OutBlock1, Foccq33600OutBlock2, T0424Out, T0424OutBlock, T0424OutBlock1, T0425Out,
    T0425OutBlock, T0425OutBlock1, T0424, T0425,
};
use condor_model::wire::market_data::{
    T1102Out, T1102OutBlock, T8436Out, T8436OutBlock, T1102, T8436,
};
use condor_model::wire::num::{format_fixed, format_fixed_padded, format_int_fixed};
use condor_model::wire::order::{
    Cspat00601, Cspat00601Out, Cspat00601OutBlock1, Cspat00601OutBlock2, Cspat00701, Cspat00701Out,
    Cspat00701OutBlock1, Cspat00701OutBlock2, Cspat00801, Cspat00801Out, Cspat00801OutBlock1,
    Cspat00801OutBlock2,
};
use condor_model::wire::realtime::{
    self as rt, ConditionAlertBody, OrderAcceptedBody, OrderEventBody,
};
use condor_model::wire::rest::{decode_request, encode_reply, path_for_tr, Tr};
use condor_model::wire::search::{
    T1859Out, T1859OutBlock, T1859OutBlock1, T1860Out, T1860OutBlock, T1866Out, T1866OutBlock,
    T1866OutBlock1, T1859, T1860, T1866,
};
use serde_json::json;

use super::engine::SimState;
use super::exchange::{
    chg_rate_bp, fmt_hhmmsscc, fmt_hhmmssmmm, sign_code, AlertEvent, CancelOrder, Event, Exchange,
    ModifyOrder, NewOrder, OrderKind,
};
use super::http::{HttpReply, RestCall};

const PASSWORD_MASK: &str = "********";

fn error(status: u16, tr_cd: &str, code: &str, msg: &str) -> HttpReply {
    HttpReply::tr(
        status,
        tr_cd,
        json!({"rsp_cd": code, "rsp_msg": msg}).to_string(),
    )
}

/// Orders per t0425 page; more continue with `cts_ordno` and `tr_cont: Y`, as at LS.
pub const T0425_PAGE: usize = 20;

fn ok<T: Tr>(code: &str, msg: &str, out: &T::Out) -> HttpReply {
    HttpReply::tr(200, T::TR_CD, encode_reply::<T>(code, msg, out))
}

/// One REST TR call: token, path, rate limit, then the TR itself.
pub(crate) fn handle(state: &mut SimState, call: RestCall) -> HttpReply {
    let tr_cd = call.tr_cd.clone().unwrap_or_default();
    let now = state.tokens.now();
    let check = state
        .tokens
        .check_bearer(call.authorization.as_deref(), now);
    if let Some((code, msg)) = check.refusal() {
        if check == super::auth::TokenCheck::Expired {
            state.expired_rest_refusals += 1;
        }
        // UNCONFIRMED: LS's status for a bad token; third-party clients handle 500 with
        // IGW00121/IGW00123, which matches the gateway's other errors. The call never
        // reaches the TR (an order is not placed). Which code for what: `auth.rs`.
        return error(500, &tr_cd, code, msg);
    }
    if tr_cd.is_empty() {
        return error(500, &tr_cd, "IGW00002", "tr_cd 헤더가 없습니다.");
    }
    match path_for_tr(&tr_cd) {
        None => return error(500, &tr_cd, "IGW00003", "지원하지 않는 TR입니다."),
        Some(p) if p != call.path => {
            return error(
                500,
                &tr_cd,
                "IGW00004",
                &format!("{tr_cd}은(는) {p} 경로로 호출해야 합니다."),
            )
        }
        Some(_) => {}
    }
    let now = state.now_ms();
    if state.limiter.check(&tr_cd, now).is_err() {
        return error(500, &tr_cd, "IGW00201", "호출 거래건수를 초과하였습니다.");
    }
    let Ok(body) = std::str::from_utf8(&call.body) else {
        return error(400, &tr_cd, "IGW00005", "요청 본문이 UTF-8이 아닙니다.");
    };
    // The exchange's clock: the tape's time in tape mode, else the same as `now`.
    let market = state.market_ms();
    // Orders left at a close expire there, and a new day lists none of yesterday's, before
    // the call sees them (the engine's step may not have come round since).
    state.exchange.settle_day(market, &mut state.events);
    let reply = match tr_cd.as_str() {
        "CSPAT00601" => new_order(state, body, market),
        "CSPAT00701" => modify_order(state, body, market),
        "CSPAT00801" => cancel_order(state, body, market),
        "CSPAQ12200" => balance(state, body),
        "t0424" => holdings(state, body),
        "t0425" => orders_of_day(state, body),
        "FOCCQ33600" => period_return(state, body),
        "t1102" => current_price(state, body),
        "t8436" => stock_list(state, body),
        "t1866" => condition_list(state, body),
        "t1860" => condition_realtime(state, body, market),
        "t1859" => condition_members(state, body),
        _ => Err(error(
            500,
            &tr_cd,
            "IGW00003",
            "시뮬레이터가 지원하지 않는 TR입니다.",
        )),
    };
    reply.unwrap_or_else(|e| e)
}

/// Decodes the in-block or answers with an error naming what was wrong.
fn decode<T: Tr>(body: &str) -> Result<T::In, HttpReply> {
    decode_request::<T>(body).map_err(|e| error(400, T::TR_CD, "IGW00006", &e.to_string()))
}

fn paper_msg(state: &SimState, msg: &str) -> String {
    if state.paper {
        format!("모의투자 {msg}")
    } else {
        msg.to_owned()
    }
}

fn isin(exchange: &Exchange, t: Ticker) -> String {
    exchange
        .listing(t)
        .map(|l| l.isin.clone())
        .unwrap_or_default()
}

/// `01` sell, `02` buy (OrdPtnCode, ordgb, ordptncode).
fn ord_ptn_code(side: Side) -> &'static str {
    match side {
        Side::Sell => "01",
        Side::Buy => "02",
    }
}

fn new_order(state: &mut SimState, body: &str, now: u64) -> Result<HttpReply, HttpReply> {
    let req = decode::<Cspat00601>(body)?;
    let side = req
        .side()
        .map_err(|e| error(200, "CSPAT00601", "02705", &e.to_string()));
    let echo = Cspat00601OutBlock1 {
        rec_cnt: 1,
        acnt_no: state.exchange.account_no().to_owned(),
        inpt_pwd: PASSWORD_MASK.into(),
        isu_no: req.isu_no.clone(),
        ord_qty: req.ord_qty as i64,
        ord_prc: format_int_fixed(req.ord_prc, 2),
        bns_tp_code: req.bns_tp_code.clone(),
        ordprc_ptn_code: req.ordprc_ptn_code.clone(),
        mgntrn_code: req.mgntrn_code.clone(),
        loan_dt: req.loan_dt.clone(),
        mbr_no: req.mbr_no.clone(),
        ord_cndi_tp_code: req.ord_cndi_tp_code.clone(),
        commda_code: "40".into(),
        ..Default::default()
    };
    let side = side?;
    let order = NewOrder {
        isu_no: req.isu_no.clone(),
        qty: i64::try_from(req.ord_qty).unwrap_or(i64::MAX),
        price: req.ord_prc,
        side,
        price_type: req.ordprc_ptn_code.clone(),
        condition: req.ord_cndi_tp_code.clone(),
    };
    match state.exchange.submit(order, now, &mut state.events) {
        Ok(ack) => {
            let out = Cspat00601Out {
                out_block1: Some(echo),
                out_block2: Some(Cspat00601OutBlock2 {
                    rec_cnt: 1,
                    ord_no: ack.ord_no,
                    ord_time: fmt_hhmmssmmm(ack.time, ack.ms),
                    ord_mkt_code: ack.market.order_market_code().into(),
                    ord_ptn_code: ord_ptn_code(ack.side).into(),
                    shtn_isu_no: ack.ticker.shtn_isu_no(),
                    ord_amt: ack.ord_amt,
                    spot_ord_qty: ack.qty as i64,
                    mny_ord_amt: ack.ord_amt,
                    acnt_nm: state.exchange.account_name().to_owned(),
                    isu_nm: ack.name.to_owned(),
                    ..Default::default()
                }),
            };
            let (code, msg) = match ack.side {
                Side::Buy => ("00040", "매수주문이 완료되었습니다."),
                Side::Sell => ("00039", "매도주문이 완료되었습니다."),
            };
            Ok(ok::<Cspat00601>(code, &paper_msg(state, msg), &out))
        }
        Err(reject) => {
            log::info!(target: "condor::sim", "order refused: {reject}");
            let out = Cspat00601Out {
                out_block1: Some(echo),
                out_block2: Some(Cspat00601OutBlock2::default()),
            };
            Ok(ok::<Cspat00601>(reject.code, &reject.message, &out))
        }
    }
}

fn modify_order(state: &mut SimState, body: &str, now: u64) -> Result<HttpReply, HttpReply> {
    let req = decode::<Cspat00701>(body)?;
    let echo = Cspat00701OutBlock1 {
        rec_cnt: 1,
        org_ord_no: req.org_ord_no,
        acnt_no: state.exchange.account_no().to_owned(),
        inpt_pwd: PASSWORD_MASK.into(),
        isu_no: req.isu_no.clone(),
        ord_qty: req.ord_qty as i64,
        ordprc_ptn_code: req.ordprc_ptn_code.clone(),
        ord_cndi_tp_code: req.ord_cndi_tp_code.clone(),
        ord_prc: format_int_fixed(req.ord_prc, 2),
        commda_code: "40".into(),
        ..Default::default()
    };
    let order = ModifyOrder {
        org_ord_no: req.org_ord_no,
        isu_no: req.isu_no.clone(),
        qty: i64::try_from(req.ord_qty).unwrap_or(i64::MAX),
        price_type: req.ordprc_ptn_code.clone(),
        price: req.ord_prc,
    };
    match state.exchange.modify(order, now, &mut state.events) {
        Ok(ack) => {
            let out = Cspat00701Out {
                out_block1: Some(echo),
                out_block2: Some(Cspat00701OutBlock2 {
                    rec_cnt: 1,
                    ord_no: ack.ord_no,
                    prnt_ord_no: ack.org_ord_no,
                    ord_time: fmt_hhmmssmmm(ack.time, ack.ms),
                    ord_mkt_code: ack.market.order_market_code().into(),
                    ord_ptn_code: ord_ptn_code(ack.side).into(),
                    shtn_isu_no: ack.ticker.shtn_isu_no(),
                    mgntrn_code: "000".into(),
                    ord_amt: ack.ord_amt,
                    bns_tp_code: ack.side.ls_code().into(),
                    mny_ord_amt: ack.ord_amt,
                    acnt_nm: state.exchange.account_name().to_owned(),
                    isu_nm: ack.name.to_owned(),
                    ..Default::default()
                }),
            };
            // UNCONFIRMED: LS's modify success code; clients key on a positive OrdNo.
            Ok(ok::<Cspat00701>(
                "00000",
                &paper_msg(state, "정정주문이 완료 되었습니다."),
                &out,
            ))
        }
        Err(reject) => {
            log::info!(target: "condor::sim", "modify refused: {reject}");
            let out = Cspat00701Out {
                out_block1: Some(echo),
                out_block2: Some(Cspat00701OutBlock2::default()),
            };
            Ok(ok::<Cspat00701>(reject.code, &reject.message, &out))
        }
    }
}

fn cancel_order(state: &mut SimState, body: &str, now: u64) -> Result<HttpReply, HttpReply> {
    let req = decode::<Cspat00801>(body)?;
    let echo = Cspat00801OutBlock1 {
        rec_cnt: 1,
        org_ord_no: req.org_ord_no,
        acnt_no: state.exchange.account_no().to_owned(),
        inpt_pwd: PASSWORD_MASK.into(),
        isu_no: req.isu_no.clone(),
        ord_qty: req.ord_qty as i64,
        commda_code: "40".into(),
        ..Default::default()
    };
    let order = CancelOrder {
        org_ord_no: req.org_ord_no,
        isu_no: req.isu_no.clone(),
        qty: i64::try_from(req.ord_qty).unwrap_or(i64::MAX),
    };
    match state.exchange.cancel(order, now, &mut state.events) {
        Ok(ack) => {
            let out = Cspat00801Out {
                out_block1: Some(echo),
                out_block2: Some(Cspat00801OutBlock2 {
                    rec_cnt: 1,
                    ord_no: ack.ord_no,
                    prnt_ord_no: ack.org_ord_no,
                    ord_time: fmt_hhmmssmmm(ack.time, ack.ms),
                    ord_mkt_code: ack.market.order_market_code().into(),
                    ord_ptn_code: ord_ptn_code(ack.side).into(),
                    shtn_isu_no: ack.ticker.shtn_isu_no(),
                    mgntrn_code: "000".into(),
                    loan_dt: "00000000".into(),
                    bns_tp_code: ack.side.ls_code().into(),
                    acnt_nm: state.exchange.account_name().to_owned(),
                    isu_nm: ack.name.to_owned(),
                    ..Default::default()
                }),
            };
            Ok(ok::<Cspat00801>(
                "00156",
                &paper_msg(state, "취소주문이 완료되었습니다."),
                &out,
            ))
        }
        Err(reject) => {
            log::info!(target: "condor::sim", "cancel refused: {reject}");
            let out = Cspat00801Out {
                out_block1: Some(echo),
                out_block2: Some(Cspat00801OutBlock2::default()),
            };
            Ok(ok::<Cspat00801>(reject.code, &reject.message, &out))
        }
    }
}

/// Rate with six decimals from a ratio in basis points.
fn rate6(bp: i64) -> String {
    format_fixed(bp * 100, 6)
}

fn balance(state: &mut SimState, body: &str) -> Result<HttpReply, HttpReply> {
    let req = decode::<Cspaq12200>(body)?;
    let a = state.exchange.account();
    let pnl_bp = if a.cost_total > 0 {
        a.unrealized_pnl * 10_000 / a.cost_total
    } else {
        0
    };
    // Settlement (D+2) is not simulated: cash is the same on D, D+1 and D+2.
    let out = Cspaq12200Out {
        out_block1: Some(Cspaq12200OutBlock1 {
            rec_cnt: 1,
            mgmt_brn_no: req.mgmt_brn_no.clone(),
            acnt_no: a.account_no.clone(),
            pwd: PASSWORD_MASK.into(),
            bal_cre_tp: req.bal_cre_tp.clone(),
        }),
        out_block2: Some(Cspaq12200OutBlock2 {
            rec_cnt: 1,
            brn_nm: "condor".into(),
            acnt_nm: a.account_name.clone(),
            mny_ord_able_amt: a.orderable,
            mnyout_able_amt: a.orderable,
            se_ord_able_amt: a.orderable,
            kdq_ord_able_amt: a.orderable,
            bal_eval_amt: a.eval_total,
            dpsast_totamt: a.total_assets,
            pnl_rat: rate6(pnl_bp),
            invst_org_amt: a.cost_total,
            invst_pl_amt: a.unrealized_pnl,
            dps: a.cash,
            d1_dps: a.cash,
            d2_dps: a.cash,
            d1_ord_able_amt: a.orderable,
            chg_af_pldg_rat: "0.000".into(),
            ..Default::default()
        }),
    };
    Ok(ok::<Cspaq12200>(
        "00136",
        &paper_msg(state, "조회가 완료되었습니다."),
        &out,
    ))
}

fn holdings(state: &mut SimState, body: &str) -> Result<HttpReply, HttpReply> {
    decode::<T0424>(body)?;
    let a = state.exchange.account();
    let rows: Vec<T0424OutBlock1> = a
        .holdings
        .iter()
        .filter(|h| h.qty > 0)
        .map(|h| T0424OutBlock1 {
            expcode: h.ticker.to_string(),
            jangb: "K".into(),
            janqty: h.qty as i64,
            mdposqt: h.sellable as i64,
            pamt: h.avg_price.won(),
            mamt: h.cost,
            hname: h.name.into(),
            marketgb: h.market.gubun().into(),
            jonggb: h.market.gubun().into(),
            janrt: format_fixed(
                if a.eval_total > 0 {
                    h.eval * 10_000 / a.eval_total
                } else {
                    0
                },
                2,
            ),
            price: h.last_price.won(),
            appamt: h.eval,
            dtsunik: h.unrealized_pnl,
            sunikrt: format_fixed(h.pnl_rate_bp, 2),
            loandt: String::new(),
            ..Default::default()
        })
        .collect();
    let out = T0424Out {
        out_block: Some(T0424OutBlock {
            sunamt: a.total_assets,
            dtsunik: a.unrealized_pnl,
            mamt: a.cost_total,
            sunamt1: a.cash,
            cts_expcode: String::new(),
            tappamt: a.eval_total,
            tdtsunik: a.unrealized_pnl,
        }),
        out_block1: rows,
    };
    Ok(ok::<T0424>("00000", "조회가 완료되었습니다.", &out))
}

fn orders_of_day(state: &mut SimState, body: &str) -> Result<HttpReply, HttpReply> {
    let req = decode::<T0425>(body)?;
    let code = req.expcode.trim().trim_start_matches('A');
    let a = state.exchange.account();
    let mut rows: Vec<T0425OutBlock1> = Vec::new();
    let mut summary = T0425OutBlock {
        cmss: a.commission,
        tax: a.tax,
        ..Default::default()
    };
    for o in state.exchange.orders() {
        if !code.is_empty() && o.ticker.as_str() != code {
            continue;
        }
        match req.chegb.trim() {
            "1" if o.filled_qty == 0 => continue,
            "2" if o.remaining == 0 => continue,
            _ => {}
        }
        match (req.medosu.trim(), o.side) {
            ("1", Side::Buy) | ("2", Side::Sell) => continue,
            _ => {}
        }
        summary.tqty += o.qty as i64;
        summary.tcheqty += o.filled_qty as i64;
        summary.tordrem += o.remaining as i64;
        summary.tamt += o.filled_value;
        match o.side {
            Side::Sell => summary.tmdamt += o.filled_value,
            Side::Buy => summary.tmsamt += o.filled_value,
        }
        rows.push(T0425OutBlock1 {
            ordno: o.ord_no,
            expcode: o.ticker.to_string(),
            medosu: o.side.ls_label().into(),
            qty: o.qty as i64,
            price: o.price.won(),
            cheqty: o.filled_qty as i64,
            cheprice: o.avg_fill_price.won(),
            ordrem: o.remaining as i64,
            cfmqty: o.confirmed_qty as i64,
            status: o.status.label().into(),
            orgordno: o.org_ord_no,
            ordgb: "보통".into(),
            ordtime: fmt_hhmmsscc(o.time, o.ms),
            ordermtd: "OPEN API".into(),
            hogagb: o.price_type.code().into(),
            price1: state
                .exchange
                .quote(o.ticker)
                .map(|q| q.price.won())
                .unwrap_or_default(),
            exchname: "KRX".into(),
            ..Default::default()
        });
    }
    // sortgb 1: newest first (LS's default); 2: oldest first.
    let newest_first = req.sortgb.trim() != "2";
    if newest_first {
        rows.reverse();
    }
    // A continuation starts after the previous page's last order number.
    if let Ok(after) = req.cts_ordno.trim().parse::<i64>() {
        rows.retain(|r| {
            if newest_first {
                r.ordno < after
            } else {
                r.ordno > after
            }
        });
    }
    let more = rows.len() > T0425_PAGE;
    rows.truncate(T0425_PAGE);
    let next = match rows.last() {
        Some(last) if more => last.ordno.to_string(),
        _ => String::new(),
    };
    summary.cts_ordno = next.clone();
    let out = T0425Out {
        out_block: Some(summary),
        out_block1: rows,
    };
    let mut reply = ok::<T0425>("00000", "조회가 완료되었습니다.", &out);
    if let Some(tr) = reply.tr.as_mut().filter(|_| more) {
        tr.tr_cont = "Y".into();
        tr.tr_cont_key = next;
    }
    Ok(reply)
}

fn period_return(state: &mut SimState, body: &str) -> Result<HttpReply, HttpReply> {
    let req = decode::<Foccq33600>(body)?;
    let a = state.exchange.account();
    let out = Foccq33600Out {
        out_block1: Some(Foccq33600OutBlock1 {
            rec_cnt: 1,
            acnt_no: a.account_no.clone(),
            pwd: PASSWORD_MASK.into(),
            qry_srt_dt: req.qry_srt_dt.clone(),
            qry_end_dt: req.qry_end_dt.clone(),
            term_tp: req.term_tp.clone(),
        }),
        out_block2: Some(Foccq33600OutBlock2 {
            rec_cnt: 1,
            acnt_nm: a.account_name.clone(),
            invst_pl_amt: a.realized_pnl + a.unrealized_pnl,
            invst_ernrat: "0.00".into(),
            ..Default::default()
        }),
        out_block3: Vec::new(),
    };
    // Some clients tell paper from real by 모의투자 in this message alone.
    Ok(ok::<Foccq33600>(
        "00136",
        &paper_msg(state, "조회가 완료되었습니다."),
        &out,
    ))
}

fn current_price(state: &mut SimState, body: &str) -> Result<HttpReply, HttpReply> {
    let req = decode::<T1102>(body)?;
    let no_data = || error(200, "t1102", "00000", condor_model::wire::rest::MSG_NO_DATA);
    let Ok(ticker) = Ticker::parse_isu_no(req.shcode.trim()) else {
        return Err(no_data());
    };
    let (Some(l), Some(q)) = (state.exchange.listing(ticker), state.exchange.quote(ticker)) else {
        return Err(no_data());
    };
    let change = q.price.won() - l.prev_close.won();
    let out = T1102Out {
        out_block: Some(T1102OutBlock {
            hname: l.name.into(),
            price: q.price.won(),
            sign: sign_code(q.price, l.prev_close, l.limits.upper, l.limits.lower).into(),
            change: change.abs(),
            diff: format_fixed_padded(chg_rate_bp(q.price, l.prev_close), 2, 6),
            volume: q.volume as i64,
            recprice: l.prev_close.won(),
            avg: q.vwap.won(),
            uplmtprice: l.limits.upper.won(),
            dnlmtprice: l.limits.lower.won(),
            jnilvolume: l.prev_day_volume as i64,
            volumediff: q.volume as i64 - l.prev_day_volume as i64,
            open: q.open.won(),
            opentime: q.open_time.hhmmss(),
            high: q.high.won(),
            hightime: q.high_time.hhmmss(),
            low: q.low.won(),
            lowtime: q.low_time.hhmmss(),
            memedan: "00001".into(),
            shcode: ticker.to_string(),
            // UNCONFIRMED unit: LS's samples look like millions of won.
            value: q.value / 1_000_000,
            janginfo: l.market.name().into(),
            tonghwa: "KRW".into(),
            svi_uplmtprice: l.limits.upper.won(),
            svi_dnlmtprice: l.limits.lower.won(),
            ex_shcode: ticker.to_string(),
            ..Default::default()
        }),
    };
    Ok(ok::<T1102>(
        "00000",
        "정상적으로 조회가 완료되었습니다.",
        &out,
    ))
}

fn stock_list(state: &mut SimState, body: &str) -> Result<HttpReply, HttpReply> {
    let req = decode::<T8436>(body)?;
    let gubun = req.gubun.trim();
    let rows = state
        .exchange
        .listings()
        .iter()
        .filter(|l| gubun.is_empty() || gubun == "0" || l.market.gubun() == gubun)
        .map(|l| T8436OutBlock {
            hname: l.name.into(),
            shcode: l.ticker.to_string(),
            expcode: l.isin.clone(),
            etfgubun: "0".into(),
            uplmtprice: l.limits.upper.won(),
            dnlmtprice: l.limits.lower.won(),
            jnilclose: l.prev_close.won(),
            memedan: "00001".into(),
            recprice: l.prev_close.won(),
            gubun: l.market.gubun().into(),
            bu12gubun: "01".into(),
            spac_gubun: "N".into(),
            filler: String::new(),
        })
        .collect();
    Ok(ok::<T8436>(
        "00000",
        "조회가 완료되었습니다.",
        &T8436Out { out_block: rows },
    ))
}

fn condition_list(state: &mut SimState, body: &str) -> Result<HttpReply, HttpReply> {
    let req = decode::<T1866>(body)?;
    let rows: Vec<T1866OutBlock1> = state
        .exchange
        .conditions()
        .into_iter()
        .filter(|c| req.gb.trim() != "2" || c.group_name == req.group_name.trim())
        .map(|c| T1866OutBlock1 {
            query_index: c.query_index,
            group_name: c.group_name,
            query_name: c.query_name,
        })
        .collect();
    let out = T1866Out {
        out_block: Some(T1866OutBlock {
            result_count: rows.len() as i64,
            cont: "N".into(),
            cont_key: String::new(),
        }),
        out_block1: rows,
    };
    Ok(ok::<T1866>("00000", "조회성공", &out))
}

fn condition_realtime(state: &mut SimState, body: &str, now: u64) -> Result<HttpReply, HttpReply> {
    let req = decode::<T1860>(body)?;
    let time = state.exchange.clock(now).hhmmss();
    let result = match req.s_flag.trim() {
        "E" => state
            .exchange
            .register_alert(req.query_index.trim(), now)
            .map(|num| (num, "실시간 조건검색이 등록되었습니다.")),
        "D" => {
            let num = req.s_alert_num.trim();
            let stopped = state.exchange.unregister_alert(num);
            if stopped.is_ok() {
                state.forget_alert(num);
            }
            stopped.map(|()| (num.to_owned(), "실시간 조건검색이 중지되었습니다."))
        }
        other => {
            return Err(error(
                200,
                "t1860",
                "IGW00006",
                &format!("sFlag {other:?}: E(등록) 또는 D(중지)여야 합니다."),
            ))
        }
    };
    let (code, msg, block) = match result {
        Ok((num, msg)) => (
            "00000",
            "조회가 완료되었습니다.".to_owned(),
            T1860OutBlock {
                s_sys_user_flag: req.s_sys_user_flag.clone(),
                s_flag: req.s_flag.clone(),
                s_result_flag: "S".into(),
                s_time: time,
                s_alert_num: num,
                msg: msg.into(),
            },
        ),
        Err(reject) => (
            reject.code,
            reject.message.clone(),
            T1860OutBlock {
                s_sys_user_flag: req.s_sys_user_flag.clone(),
                s_flag: req.s_flag.clone(),
                s_result_flag: "F".into(),
                s_time: time,
                s_alert_num: req.s_alert_num.clone(),
                msg: reject.message,
            },
        ),
    };
    Ok(ok::<T1860>(
        code,
        &msg,
        &T1860Out {
            out_block: Some(block),
        },
    ))
}

fn condition_members(state: &mut SimState, body: &str) -> Result<HttpReply, HttpReply> {
    let req = decode::<T1859>(body)?;
    let Some(members) = state.exchange.condition_members(req.query_index.trim()) else {
        return Err(error(
            200,
            "t1859",
            "00000",
            condor_model::wire::rest::MSG_NO_DATA,
        ));
    };
    let rows: Vec<T1859OutBlock1> = members
        .into_iter()
        .filter_map(|t| {
            let l = state.exchange.listing(t)?;
            let q = state.exchange.quote(t)?;
            Some(T1859OutBlock1 {
                shcode: t.to_string(),
                hname: l.name.into(),
                price: q.price.won(),
                sign: sign_code(q.price, l.prev_close, l.limits.upper, l.limits.lower).into(),
                change: (q.price.won() - l.prev_close.won()).abs(),
                diff: format_fixed(chg_rate_bp(q.price, l.prev_close), 2),
                volume: q.volume as i64,
            })
        })
        .collect();
    let out = T1859Out {
        out_block: Some(T1859OutBlock {
            result_count: rows.len() as i64,
            result_time: String::new(),
            text: String::new(),
        }),
        out_block1: rows,
    };
    Ok(ok::<T1859>("00000", "조회가 완료되었습니다.", &out))
}

/// One AFR frame.
pub(crate) fn alert_frame(a: &AlertEvent) -> String {
    let body = ConditionAlertBody {
        gs_code: a.code.clone(),
        gshname: a.name.into(),
        gs_price: a.price.won().to_string(),
        gs_sign: a.sign.into(),
        gs_change: a.change.abs().to_string(),
        gs_chg_rate: format_fixed(a.chg_rate_bp, 2),
        gs_volume: a.volume.to_string(),
        gs_job_flag: a.job.flag().into(),
    };
    rt::encode_data_frame("AFR", Some(&a.alert_num), &body)
}

/// SC0 for an accepted order, SC1–SC4 for a fill, modify, cancel or reject.
pub(crate) fn account_frame(ev: &Event, exchange: &Exchange) -> Option<String> {
    let acc = exchange.account_no().to_owned();
    match ev {
        Event::OrderAccepted(s) => {
            let ordchegb = match s.kind {
                OrderKind::New => "01",
                OrderKind::Modify => "02",
                OrderKind::Cancel => "03",
            };
            let body = OrderAcceptedBody {
                trcode: s.kind.trcode().into(),
                ordchegb: ordchegb.into(),
                marketgb: s.market.order_market_code().into(),
                ordgb: ord_ptn_code(s.side).into(),
                orgordno: s.org_ord_no.to_string(),
                accno: acc.clone(),
                accno1: acc,
                passwd: PASSWORD_MASK.into(),
                expcode: isin(exchange, s.ticker),
                shtcode: s.ticker.shtn_isu_no(),
                hname: s.name.into(),
                ordqty: s.qty.to_string(),
                ordprice: s.price.won().to_string(),
                hogagb: "0".into(),
                etfhogagb: s.price_type.code().into(),
                singb: "000".into(),
                loandt: "00000000".into(),
                ordno: s.ord_no.to_string(),
                ordtm: fmt_hhmmssmmm(s.time, s.ms),
                prntordno: if s.org_ord_no > 0 {
                    s.org_ord_no
                } else {
                    s.ord_no
                }
                .to_string(),
                proctm: fmt_hhmmssmmm(s.time, s.ms),
                ordamt: s.ord_amt.to_string(),
                mnyordamt: s.ord_amt.to_string(),
                bnstp: s.side.ls_code().into(),
                deposit: s.cash_after.to_string(),
                ordablemny: s.orderable_after.to_string(),
                avrpchsprc: ".00".into(),
                ..Default::default()
            };
            Some(rt::encode_data_frame("SC0", None, &body))
        }
        Event::OrderFilled(f) => {
            let body = OrderEventBody {
                trcode: "SONAS100".into(),
                ordxctptncode: "11".into(),
                ordno: f.ord_no.to_string(),
                orgordno: f.org_ord_no.to_string(),
                execno: f.exec_no.to_string(),
                execprc: f.fill_price.won().to_string(),
                execqty: f.fill_qty.to_string(),
                unercqty: f.remaining.to_string(),
                ordqty: f.order_qty.to_string(),
                ordprc: f.order_price.won().to_string(),
                ordavrexecprc: f.avg_fill_price.won().to_string(),
                exectime: fmt_hhmmssmmm(f.time, f.ms),
                rcptexectime: fmt_hhmmssmmm(f.time, f.ms),
                proctm: fmt_hhmmssmmm(f.time, f.ms),
                mnyexecamt: (f.fill_price.won() * f.fill_qty as i64).to_string(),
                flctqty: f.fill_qty.to_string(),
                deposit: f.cash_after.to_string(),
                ordablemny: f.orderable_after.to_string(),
                ..event_common(
                    exchange,
                    f.ticker,
                    f.name,
                    f.side,
                    f.price_type.code(),
                    f.market,
                )
            };
            Some(rt::encode_data_frame("SC1", None, &body))
        }
        Event::OrderModified(s) => {
            let body = OrderEventBody {
                trcode: "SONAT001".into(),
                ordxctptncode: "12".into(),
                ordno: s.ord_no.to_string(),
                orgordno: s.org_ord_no.to_string(),
                mdfycnfqty: s.qty.to_string(),
                mdfycnfprc: s.price.won().to_string(),
                orgordmdfyqty: s.qty.to_string(),
                orgordunercqty: s.org_remaining_before.to_string(),
                unercqty: s.qty.to_string(),
                ordqty: s.qty.to_string(),
                ordprc: s.price.won().to_string(),
                execprc: "0".into(),
                execqty: "0".into(),
                ordtrxptncode: "6".into(),
                proctm: fmt_hhmmssmmm(s.time, s.ms),
                exectime: fmt_hhmmssmmm(s.time, s.ms),
                deposit: s.cash_after.to_string(),
                ordablemny: s.orderable_after.to_string(),
                ..event_common(
                    exchange,
                    s.ticker,
                    s.name,
                    s.side,
                    s.price_type.code(),
                    s.market,
                )
            };
            Some(rt::encode_data_frame("SC2", None, &body))
        }
        Event::OrderCancelled(s) => {
            let body = OrderEventBody {
                trcode: "SONAT002".into(),
                ordxctptncode: "13".into(),
                ordno: s.ord_no.to_string(),
                orgordno: s.org_ord_no.to_string(),
                canccnfqty: s.qty.to_string(),
                orgordcancqty: s.qty.to_string(),
                orgordunercqty: s.org_remaining_before.to_string(),
                unercqty: "0".into(),
                ordqty: s.qty.to_string(),
                ordprc: "0".into(),
                execprc: "0".into(),
                execqty: "0".into(),
                proctm: fmt_hhmmssmmm(s.time, s.ms),
                exectime: fmt_hhmmssmmm(s.time, s.ms),
                deposit: s.cash_after.to_string(),
                ordablemny: s.orderable_after.to_string(),
                ..event_common(
                    exchange,
                    s.ticker,
                    s.name,
                    s.side,
                    s.price_type.code(),
                    s.market,
                )
            };
            Some(rt::encode_data_frame("SC3", None, &body))
        }
        Event::OrderRejected(r) => {
            let f = r.request.fields();
            let (isu_no, qty, price, side, org, price_type) =
                (f.isu_no, f.qty, f.price, f.side, f.org_ord_no, f.price_type);
            let code = isu_no.trim().trim_start_matches('A');
            let ticker = Ticker::parse(code).ok();
            let listing = ticker.and_then(|t| exchange.listing(t));
            // UNCONFIRMED: SC4's layout; the SC1 field set with ordxctptncode 14.
            let body = OrderEventBody {
                trcode: "SONAT000".into(),
                ordxctptncode: "14".into(),
                ordno: "0".into(),
                orgordno: org.to_string(),
                rjtqty: qty.max(0).to_string(),
                ordqty: qty.max(0).to_string(),
                ordprc: price.to_string(),
                unercqty: "0".into(),
                execqty: "0".into(),
                execprc: "0".into(),
                msgcode: r.reject.code.into(),
                proctm: fmt_hhmmssmmm(r.time, r.ms),
                exectime: fmt_hhmmssmmm(r.time, r.ms),
                shtn_isuno: format!("A{code}"),
                isuno: listing.map(|l| l.isin.clone()).unwrap_or_default(),
                isunm: listing.map(|l| l.name.to_owned()).unwrap_or_default(),
                bnstp: side.map(|s| s.ls_code().to_owned()).unwrap_or_default(),
                ordptncode: side.map(|s| ord_ptn_code(s).to_owned()).unwrap_or_default(),
                ordprcptncode: price_type.into(),
                accno: acc.clone(),
                accno1: acc.clone(),
                ordacntno: acc,
                acntnm: exchange.account_name().into(),
                ..Default::default()
            };
            Some(rt::encode_data_frame("SC4", None, &body))
        }
        Event::Trade(_) | Event::ConditionAlert(_) => None,
    }
}

/// The SC1–SC3 fields every event of one order shares.
fn event_common(
    exchange: &Exchange,
    ticker: Ticker,
    name: &str,
    side: Side,
    price_type: &str,
    market: condor_model::market::Market,
) -> OrderEventBody {
    let acc = exchange.account_no().to_owned();
    let isin = isin(exchange, ticker);
    OrderEventBody {
        shtn_isuno: ticker.shtn_isu_no(),
        isuno: isin.clone(),
        std_isuno: isin.clone(),
        bfstd_isuno: isin,
        isunm: name.into(),
        bnstp: side.ls_code().into(),
        ordptncode: ord_ptn_code(side).into(),
        ordprcptncode: price_type.into(),
        ordtrdptncode: "00".into(),
        ordmktcode: market.order_market_code().into(),
        regmktcode: market.order_market_code().into(),
        mgntrncode: "000".into(),
        ordcndi: "0".into(),
        loandt: "00000000".into(),
        acntnm: exchange.account_name().into(),
        accno: acc.clone(),
        accno1: acc.clone(),
        ordacntno: acc,
        commdacode: "40".into(),
        adduptp: "40".into(),
        trtzx_levytp: "1".into(),
        ordtrxptncode: "0".into(),
        msgcode: "9999".into(),
        mnymgnrat: "1.000".into(),
        substmgnrat: ".0000000".into(),
        ..Default::default()
    }
}
