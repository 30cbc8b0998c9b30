//! Kiwoom's REST TRs over the exchange: ka10001 (quote), ka10099 (code list), ka10100
//! (one code), kt10000/kt10001 (buy/sell), kt10002 (modify), kt10003 (cancel), kt00001
//! (cash), kt00018 (holdings), ka10075 (open orders), ka10076 (filled orders), kt00007
//! (every order of the day), ka00001 (account number).
//!
//! Each call is checked in Kiwoom's order: token (`3`/`[8005]`, or `[8031]` posing as the
//! other server), api-id present
//! (`[1501]`), known (`[1505]`) and on its path (`[1504]`), rate limit (HTTP 429,
//! `5`/`[1700]`), body (`2`/`[1511]` or `[1517]`), then the TR. An order the exchange
//! refuses is `20`/`[2000](<code>:<text>)` with the exchange's reject code.
//!
//! Owns no state. Must never invent a success, and never answer without a
//! `return_code`.

use crate::exchange::qty_of;
use condor_model::kiwoom::account::{
    EmptyRequest, Holding, Ka00001, Ka00001Reply, Ka10075, Ka10075Reply, Ka10075Row, Ka10076,
    Ka10076Reply, Ka10076Row, Kt00001, Kt00001Reply, Kt00007, Kt00007Reply, Kt00007Row, Kt00018,
    Kt00018Reply, Kt00018Row, TodayOrder, MSG_PAPER_NO_DATA,
};
use condor_model::kiwoom::market_data::{
    Ka10001, Ka10001Reply, Ka10099, Ka10099Reply, Ka10100, Quote, StockInfo,
};
use condor_model::kiwoom::order::{
    format_order_no, CancelReply, Kt10000, Kt10001, Kt10002, Kt10003, ModifyReply, OrderKind,
    OrderReply, OrderStatus, TradeType, MSG_BUY_CANCEL_DONE, MSG_BUY_DONE, MSG_BUY_MODIFY_DONE,
    MSG_SELL_CANCEL_DONE, MSG_SELL_DONE, MSG_SELL_MODIFY_DONE,
};
use condor_model::kiwoom::rest::{
    business_message, decode_request, encode_refusal, path_for_api_id, Continuation, Reply,
    MSG_AUTH_FAILED, MSG_OK, MSG_SERVICE_ERROR, RC_AUTH, RC_BUSINESS, RC_INPUT, RC_SERVICE,
    TEXT_TOKEN_INVALID, TEXT_TOKEN_WRONG_SERVER,
};
use condor_model::kiwoom::{parse_code, Tr, PAPER_MARKER};
use condor_model::market::{Price, Side, Ticker};
use serde::Serialize;

use super::auth::rate_limited;
use super::http::KiwoomReply;
use super::refusal;
use crate::engine::SimState;
use crate::exchange::{
    CancelOrder, ModifyOrder, NewOrder, OrderKind as ExKind, OrderRecord, OrderStatus as ExStatus,
    PriceType, Reject, RejectReason,
};
use crate::http::RestCall;

/// Rows per page of ka10075, ka10076 and kt00007; more continue with `cont-yn: Y` and
/// `next-key` (the last row's order number; rows come newest first).
pub const PAGE_ROWS: usize = 20;

/// Rows per page of ka10099 (UNCONFIRMED, see `stock_list`).
pub const STOCK_LIST_PAGE_ROWS: usize = 500;

/// Every api-id this front end serves, each limited to 5 calls a second when rate
/// limits are on (the terms of use's 5/s for queries and for orders, applied per api-id;
/// UNCONFIRMED, §7).
pub const SERVED: &[&str] = &[
    "ka10001", "ka10099", "ka10100", "kt10000", "kt10001", "kt10002", "kt10003", "kt00001",
    "kt00018", "ka10075", "ka10076", "kt00007", "ka00001",
];
/// Calls a second per api-id (and for token issues).
pub const LIMIT_PER_SEC: u32 = 5;

type Answer = Result<KiwoomReply, KiwoomReply>;

/// One REST TR call.
pub(crate) fn handle(state: &mut SimState, call: RestCall) -> KiwoomReply {
    let api_id = call.tr_cd.clone().unwrap_or_default().trim().to_owned();
    let now = state.tokens.now();
    let check = state
        .tokens
        .check_bearer(call.authorization.as_deref(), now);
    if check != crate::auth::TokenCheck::Valid {
        if check == crate::auth::TokenCheck::Expired {
            state.expired_rest_refusals += 1;
        }
        // Posing as the other server, a token from elsewhere is the other server's
        // (8031: a new one here would not help). A missing header is answered as an
        // invalid token too (the reference lists 1513 for it, with the outer code unknown;
        // 8005 is what clients renew on).
        let (code, text) = if state.other_host && call.authorization.is_some() {
            (8031, TEXT_TOKEN_WRONG_SERVER)
        } else {
            (8005, TEXT_TOKEN_INVALID)
        };
        return KiwoomReply::ok(&api_id, refusal(RC_AUTH, MSG_AUTH_FAILED, code, text));
    }
    let input = |code: u32, text: &str| {
        KiwoomReply::ok(&api_id, refusal(RC_INPUT, MSG_SERVICE_ERROR, code, text))
    };
    if api_id.is_empty() {
        return input(1501, "API ID가 없습니다");
    }
    match path_for_api_id(&api_id) {
        Some(p) if p != call.path => {
            return input(
                1504,
                &format!("해당 URI({})에서는 지원하지 않는 API ID입니다", call.path),
            )
        }
        Some(_) if SERVED.contains(&api_id.as_str()) => {}
        _ => return input(1505, "API ID가 존재하지 않습니다"),
    }
    let now = state.now_ms();
    if state.limiter.check(&api_id, now).is_err() {
        return rate_limited(&api_id);
    }
    let Ok(body) = std::str::from_utf8(&call.body) else {
        return input(1517, "요청 본문이 UTF-8이 아닙니다");
    };
    let body = if body.trim().is_empty() { "{}" } else { body };
    let market = state.market_ms();
    state.exchange.settle_day(market, &mut state.events);
    let page = Continuation::from_headers(call.cont_yn.as_deref(), call.next_key.as_deref());
    let reply = match api_id.as_str() {
        "ka10001" => quote(state, body),
        "ka10099" => stock_list(state, body, &page),
        "ka10100" => stock_info(state, body),
        "kt10000" => new_order::<Kt10000>(state, body, Side::Buy, market),
        "kt10001" => new_order::<Kt10001>(state, body, Side::Sell, market),
        "kt10002" => modify(state, body, market),
        "kt10003" => cancel(state, body, market),
        "kt00001" => cash(state, body),
        "kt00018" => holdings(state, body),
        "ka10075" => open_orders(state, body, &page),
        "ka10076" => filled_orders(state, body, &page),
        "kt00007" => all_orders(state, body, &page),
        "ka00001" => account(state, body),
        _ => Err(input(1505, "API ID가 존재하지 않습니다")),
    };
    reply.unwrap_or_else(|e| e)
}

fn decode<T: Tr>(body: &str) -> Result<T::Req, KiwoomReply> {
    decode_request::<T>(body).map_err(|e| {
        KiwoomReply::ok(
            T::API_ID,
            refusal(RC_INPUT, MSG_SERVICE_ERROR, 1511, &e.to_string()),
        )
    })
}

fn ok<T: Tr>(body: T::Resp, msg: &str) -> KiwoomReply
where
    T::Resp: Serialize,
{
    let reply = Reply {
        body,
        return_code: 0,
        return_msg: msg.to_owned(),
    };
    KiwoomReply::ok(T::API_ID, reply.to_json())
}

/// A message as the paper server writes it ("모의투자 …").
fn paper(state: &SimState, msg: &str) -> String {
    if state.paper {
        format!("{PAPER_MARKER} {msg}")
    } else {
        msg.to_owned()
    }
}

/// `7` / `[1902:…]`: a code the exchange does not list.
fn unknown_code(api_id: &str, code: &str) -> KiwoomReply {
    KiwoomReply::ok(
        api_id,
        refusal(
            RC_SERVICE,
            MSG_SERVICE_ERROR,
            1902,
            &format!("종목코드({code})가 존재하지 않습니다"),
        ),
    )
}

fn listed(state: &SimState, api_id: &str, code: &str) -> Result<Ticker, KiwoomReply> {
    parse_code(code)
        .filter(|t| state.exchange.listing(*t).is_some())
        .ok_or_else(|| unknown_code(api_id, code))
}

fn quote(state: &mut SimState, body: &str) -> Answer {
    let req = decode::<Ka10001>(body)?;
    let t = listed(state, Ka10001::API_ID, &req.stk_cd)?;
    let (Some(l), Some(q)) = (state.exchange.listing(t), state.exchange.quote(t)) else {
        return Err(unknown_code(Ka10001::API_ID, &req.stk_cd));
    };
    // Before the first print the day's open/high/low are the base (as Kiwoom shows them).
    let or_base = |p: Price| if p.won() > 0 { p } else { l.prev_close };
    let out = Ka10001Reply::from_quote(
        l.name,
        &Quote {
            ticker: t,
            price: or_base(q.price),
            base: l.prev_close,
            open: or_base(q.open),
            high: or_base(q.high),
            low: or_base(q.low),
            volume: q.volume,
        },
    );
    Ok(ok::<Ka10001>(out, MSG_OK))
}

fn stock_row(state: &SimState, t: Ticker) -> Option<StockInfo> {
    let l = state.exchange.listing(t)?;
    // Listed shares are not simulated: listCount is 0.
    Some(StockInfo::new(t, l.name, l.market, l.prev_close, 0))
}

/// ka10099: the market's listings, [`STOCK_LIST_PAGE_ROWS`] a page; more continue with
/// `cont-yn: Y` and `next-key` the page's last code. UNCONFIRMED (§3.3, §9.9): whether
/// and how Kiwoom pages ka10099; chosen so a long listing pages as the account lists do.
fn stock_list(state: &mut SimState, body: &str, page: &Continuation) -> Answer {
    let req = decode::<Ka10099>(body)?;
    // A market the exchange does not list (K-OTC, ETF, …) is an empty list.
    let market = req.market();
    let listed: Vec<Ticker> = state
        .exchange
        .listings()
        .iter()
        .filter(|l| Some(l.market) == market)
        .map(|l| l.ticker)
        .collect();
    let start = if page.more {
        let after = listed
            .iter()
            .position(|t| t.as_str() == page.key.trim())
            .ok_or_else(|| {
                KiwoomReply::ok(
                    Ka10099::API_ID,
                    refusal(
                        RC_INPUT,
                        MSG_SERVICE_ERROR,
                        1517,
                        &format!("next-key({})가 올바르지 않습니다", page.key),
                    ),
                )
            })?;
        after + 1
    } else {
        0
    };
    let rest = listed.get(start..).unwrap_or_default();
    let this_page = &rest[..rest.len().min(STOCK_LIST_PAGE_ROWS)];
    let cont = match this_page.last() {
        Some(last) if rest.len() > this_page.len() => Continuation {
            more: true,
            key: last.as_str().to_owned(),
        },
        _ => Continuation::first(),
    };
    let list = this_page
        .iter()
        .filter_map(|t| stock_row(state, *t))
        .collect();
    Ok(with_cont(
        ok::<Ka10099>(Ka10099Reply { list }, MSG_OK),
        cont,
    ))
}

fn stock_info(state: &mut SimState, body: &str) -> Answer {
    let req = decode::<Ka10100>(body)?;
    let t = listed(state, Ka10100::API_ID, &req.stk_cd)?;
    let row = stock_row(state, t).ok_or_else(|| unknown_code(Ka10100::API_ID, &req.stk_cd))?;
    Ok(ok::<Ka10100>(row, MSG_OK))
}

/// `20` / `[2000](<code>:<text>)`. Kiwoom's own code where one is known (855056, short
/// of cash, captured); otherwise the exchange's reject code and text (the LS front end's
/// table), which a client keeps as the reject code.
fn business(api_id: &str, r: &Reject) -> KiwoomReply {
    log::info!(target: "condor::sim", "{api_id} refused: {r}");
    let (code, text) = reject_code(r);
    KiwoomReply::ok(
        api_id,
        encode_refusal(RC_BUSINESS, &business_message(code, text)),
    )
}

/// A refusal's code and text as Kiwoom words it: its own code where one is known, else
/// the exchange's (the REST `[2000](code:text)` and the `00` 거부's `919` alike).
pub(crate) fn reject_code(r: &Reject) -> (&str, &str) {
    match r.reason {
        RejectReason::InsufficientCash => ("855056", "매수증거금이 부족합니다."),
        _ => (r.code, r.message.as_str()),
    }
}

/// `trde_tp` to the exchange's price type: `0` limit → `00`, `3` market → `03`; any
/// other code goes through as written and the exchange refuses it (unsupported type).
fn price_type_code(trde_tp: &str) -> String {
    match trde_tp.trim() {
        "0" => "00".to_owned(),
        "3" => "03".to_owned(),
        other => format!("K{other}"),
    }
}

/// A number field as an integer: blank is 0; not a number is a `[1517]` refusal.
fn int_field(api_id: &str, field: &str, text: &str) -> Result<i64, KiwoomReply> {
    if text.trim().is_empty() {
        return Ok(0);
    }
    condor_model::kiwoom::num::parse_int(text).map_err(|_| {
        KiwoomReply::ok(
            api_id,
            refusal(
                RC_INPUT,
                MSG_SERVICE_ERROR,
                1517,
                &format!("{field} 입력값({text})이 올바르지 않습니다"),
            ),
        )
    })
}

fn new_order<T: Tr<Req = condor_model::kiwoom::order::OrderRequest, Resp = OrderReply>>(
    state: &mut SimState,
    body: &str,
    side: Side,
    now: u64,
) -> Answer {
    let req = decode::<T>(body)?;
    let order = NewOrder {
        isu_no: req.stk_cd.clone(),
        qty: int_field(T::API_ID, "ord_qty", &req.ord_qty)?,
        price: int_field(T::API_ID, "ord_uv", &req.ord_uv)?,
        side,
        price_type: price_type_code(&req.trde_tp),
        condition: "0".into(),
    };
    // Kiwoom's order system numbers a refused order too: 거부 on the websocket and in
    // kt00007 under that number, while the REST answer is the captured `20`/`[2000]`
    // form, which carries none (UNCONFIRMED, see `submit_numbering_refusals`).
    match state
        .exchange
        .submit_numbering_refusals(order, now, &mut state.events)
    {
        Ok(ack) => {
            let msg = match side {
                Side::Buy => MSG_BUY_DONE,
                Side::Sell => MSG_SELL_DONE,
            };
            Ok(ok::<T>(OrderReply::new(ack.ord_no), &paper(state, msg)))
        }
        Err(r) => Err(business(T::API_ID, &r)),
    }
}

/// The first order of `ord_no`'s modify chain (`base_orig_ord_no`): the spec's example
/// answers a cancel of a modify with the modify's original.
fn chain_root(state: &SimState, mut ord_no: i64) -> i64 {
    for _ in 0..1_000 {
        match state.exchange.order(ord_no) {
            Some(o) if o.org_ord_no > 0 => ord_no = o.org_ord_no,
            _ => break,
        }
    }
    ord_no
}

fn modify(state: &mut SimState, body: &str, now: u64) -> Answer {
    let req = decode::<Kt10002>(body)?;
    let orig = int_field(Kt10002::API_ID, "orig_ord_no", &req.orig_ord_no)?;
    // Kiwoom cannot change the order type: the original's goes on.
    let price_type = state
        .exchange
        .order(orig)
        .map_or(PriceType::Limit, |o| o.price_type)
        .code()
        .to_owned();
    let order = ModifyOrder {
        org_ord_no: orig,
        isu_no: req.stk_cd.clone(),
        qty: int_field(Kt10002::API_ID, "mdfy_qty", &req.mdfy_qty)?,
        price_type,
        price: int_field(Kt10002::API_ID, "mdfy_uv", &req.mdfy_uv)?,
    };
    match state.exchange.modify(order, now, &mut state.events) {
        Ok(ack) => {
            let root = chain_root(state, orig);
            let msg = match ack.side {
                Side::Buy => MSG_BUY_MODIFY_DONE,
                Side::Sell => MSG_SELL_MODIFY_DONE,
            };
            let out = ModifyReply::new(ack.ord_no, root, qty_of(ack.qty));
            Ok(ok::<Kt10002>(out, &paper(state, msg)))
        }
        Err(r) => Err(business(Kt10002::API_ID, &r)),
    }
}

fn cancel(state: &mut SimState, body: &str, now: u64) -> Answer {
    let req = decode::<Kt10003>(body)?;
    let orig = int_field(Kt10003::API_ID, "orig_ord_no", &req.orig_ord_no)?;
    let order = CancelOrder {
        org_ord_no: orig,
        isu_no: req.stk_cd.clone(),
        qty: int_field(Kt10003::API_ID, "cncl_qty", &req.cncl_qty)?,
    };
    match state.exchange.cancel(order, now, &mut state.events) {
        Ok(ack) => {
            let root = chain_root(state, orig);
            let msg = match ack.side {
                Side::Buy => MSG_BUY_CANCEL_DONE,
                Side::Sell => MSG_SELL_CANCEL_DONE,
            };
            let out = CancelReply::new(ack.ord_no, root, qty_of(ack.qty));
            Ok(ok::<Kt10003>(out, &paper(state, msg)))
        }
        Err(r) => Err(business(Kt10003::API_ID, &r)),
    }
}

fn cash(state: &mut SimState, body: &str) -> Answer {
    decode::<Kt00001>(body)?;
    let a = state.exchange.account();
    // Settlement (T+2) is not simulated: the deposit is the same on D, D+1 and D+2.
    let out = Kt00001Reply::new(a.cash, a.orderable, a.cash);
    Ok(ok::<Kt00001>(out, &paper(state, "조회완료")))
}

fn holdings(state: &mut SimState, body: &str) -> Answer {
    decode::<Kt00018>(body)?;
    let a = state.exchange.account();
    let rows: Vec<Kt00018Row> = a
        .holdings
        .iter()
        .filter(|h| h.qty > 0)
        .map(|h| {
            let prev = state
                .exchange
                .listing(h.ticker)
                .map_or(h.last_price, |l| l.prev_close);
            Kt00018Row::new(
                h.name,
                &Holding {
                    ticker: h.ticker,
                    qty: qty_of(h.qty),
                    sellable: qty_of(h.sellable),
                    avg_price: h.avg_price,
                },
                h.last_price,
                prev,
            )
        })
        .collect();
    let msg = if rows.is_empty() && state.paper {
        MSG_PAPER_NO_DATA.to_owned()
    } else {
        "조회가 완료되었습니다".to_owned()
    };
    Ok(ok::<Kt00018>(Kt00018Reply::new(rows, a.cash), &msg))
}

/// An order row as the account TRs list it.
fn today_order(o: &OrderRecord) -> TodayOrder {
    let kind = match o.kind {
        ExKind::New => OrderKind::New,
        ExKind::Modify => OrderKind::Modify,
        ExKind::Cancel => OrderKind::Cancel,
    };
    let status = if o.status == ExStatus::Rejected {
        OrderStatus::Rejected
    } else if o.kind != ExKind::New && o.remaining == 0 {
        OrderStatus::Confirmed
    } else if o.filled_qty > 0 {
        OrderStatus::Filled
    } else {
        OrderStatus::Accepted
    };
    TodayOrder {
        order_no: o.ord_no,
        orig_order_no: o.org_ord_no,
        ticker: o.ticker,
        side: o.side,
        kind,
        qty: qty_of(o.qty),
        price: o.price,
        filled: qty_of(o.filled_qty),
        fill_price: o.avg_fill_price,
        remaining: qty_of(o.remaining),
        status: Some(status),
        time: Some(o.time),
    }
}

fn trade_type(o: &OrderRecord) -> TradeType {
    match o.price_type {
        PriceType::Limit => TradeType::Limit,
        PriceType::Market => TradeType::Market,
    }
}

/// Which way a list runs: kt00007 asks (`qry_tp` 1 oldest first, 2 newest first); ka10075
/// and ka10076 run newest first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    OldestFirst,
    NewestFirst,
}

/// The day's orders that pass `keep`, in `order`, from the page `page` asks for: a
/// continuation (`cont-yn: Y`) starts after its `next-key`, the last row's number. Returns
/// the page and the reply's continuation.
fn paged<'a>(
    state: &'a SimState,
    page: &Continuation,
    order: Order,
    keep: impl Fn(&OrderRecord) -> bool,
) -> (Vec<&'a OrderRecord>, Continuation) {
    let after = if page.more {
        page.key.trim().parse::<i64>().ok()
    } else {
        None
    };
    let past = |o: &OrderRecord| match (after, order) {
        (None, _) => true,
        (Some(k), Order::OldestFirst) => o.ord_no > k,
        (Some(k), Order::NewestFirst) => o.ord_no < k,
    };
    let all = state.exchange.orders();
    let in_order: Box<dyn Iterator<Item = &OrderRecord>> = match order {
        Order::OldestFirst => Box::new(all.iter()),
        Order::NewestFirst => Box::new(all.iter().rev()),
    };
    let mut rows: Vec<&OrderRecord> = in_order.filter(|o| past(o) && keep(o)).collect();
    let more = rows.len() > PAGE_ROWS;
    rows.truncate(PAGE_ROWS);
    let cont = match rows.last() {
        Some(last) if more => Continuation {
            more: true,
            key: format_order_no(last.ord_no),
        },
        _ => Continuation::first(),
    };
    (rows, cont)
}

fn code_filter(code: &str) -> Option<Ticker> {
    if code.trim().is_empty() {
        None
    } else {
        parse_code(code)
    }
}

/// `trde_tp`/`sell_tp`: `1` sells, `2` buys, else both.
fn side_filter(code: &str, side: Side) -> bool {
    match code.trim() {
        "1" => side == Side::Sell,
        "2" => side == Side::Buy,
        _ => true,
    }
}

fn list_msg(state: &SimState, empty: bool) -> String {
    if empty && state.paper {
        MSG_PAPER_NO_DATA.to_owned()
    } else {
        "조회가 완료되었습니다".to_owned()
    }
}

fn with_cont(mut r: KiwoomReply, cont: Continuation) -> KiwoomReply {
    r.cont = cont;
    r
}

fn open_orders(state: &mut SimState, body: &str, page: &Continuation) -> Answer {
    let req = decode::<Ka10075>(body)?;
    let code = if req.all_stk_tp.trim() == "1" {
        code_filter(&req.stk_cd)
    } else {
        None
    };
    let acct = super::account_no(&state.exchange);
    let (rows, cont) = paged(state, page, Order::NewestFirst, |o| {
        o.remaining > 0 && code.is_none_or(|t| o.ticker == t) && side_filter(&req.trde_tp, o.side)
    });
    let oso: Vec<Ka10075Row> = rows
        .iter()
        .map(|o| Ka10075Row::from_order(&today_order(o), trade_type(o), &acct, o.name))
        .collect();
    let msg = list_msg(state, oso.is_empty());
    Ok(with_cont(ok::<Ka10075>(Ka10075Reply { oso }, &msg), cont))
}

fn filled_orders(state: &mut SimState, body: &str, page: &Continuation) -> Answer {
    let req = decode::<Ka10076>(body)?;
    let code = if req.qry_tp.trim() == "1" {
        code_filter(&req.stk_cd)
    } else {
        None
    };
    // The body's `ord_no`: only orders older than it.
    let older_than = req.ord_no.trim().parse::<i64>().ok().filter(|n| *n > 0);
    let (rows, cont) = paged(state, page, Order::NewestFirst, |o| {
        o.filled_qty > 0
            && code.is_none_or(|t| o.ticker == t)
            && side_filter(&req.sell_tp, o.side)
            && older_than.is_none_or(|n| o.ord_no < n)
    });
    let cntr: Vec<Ka10076Row> = rows
        .iter()
        .map(|o| Ka10076Row::from_order(&today_order(o), trade_type(o), o.name))
        .collect();
    let msg = list_msg(state, cntr.is_empty());
    Ok(with_cont(ok::<Ka10076>(Ka10076Reply { cntr }, &msg), cont))
}

/// kt00007: every order of the day, cancelled and refused ones included. `qry_tp` `1`
/// oldest first, `2` newest first, `3` the open ones, `4` the filled ones (both newest
/// first, as ka10075/ka10076); `fr_ord_no` starts the list at that number (UNCONFIRMED:
/// inclusive, in the list's direction); an `ord_dt` other than today's (or blank) is a
/// day the simulator kept no list of: empty. Pages of [`PAGE_ROWS`] by `cont-yn`/`next-key`.
fn all_orders(state: &mut SimState, body: &str, page: &Continuation) -> Answer {
    let req = decode::<Kt00007>(body)?;
    let code = code_filter(&req.stk_cd);
    // The one-day exchange has no date: any `ord_dt` is its day.
    let today = state
        .exchange
        .day_at(state.market_ms())
        .map(|d| d.to_string().replace('-', ""));
    let other_day = match (req.ord_dt.trim(), today) {
        ("", _) | (_, None) => false,
        (asked, Some(today)) => asked != today,
    };
    let order = if req.qry_tp.trim() == "1" {
        Order::OldestFirst
    } else {
        Order::NewestFirst
    };
    let from = int_field(Kt00007::API_ID, "fr_ord_no", &req.fr_ord_no)?;
    let (rows, cont) = paged(state, page, order, |o| {
        !other_day
            && code.is_none_or(|t| o.ticker == t)
            && side_filter(&req.sell_tp, o.side)
            && match (from, order) {
                (0, _) => true,
                (n, Order::OldestFirst) => o.ord_no >= n,
                (n, Order::NewestFirst) => o.ord_no <= n,
            }
            && match req.qry_tp.trim() {
                "3" => o.remaining > 0,
                "4" => o.filled_qty > 0,
                _ => true,
            }
    });
    let list: Vec<Kt00007Row> = rows
        .iter()
        .map(|o| Kt00007Row::from_order(&today_order(o), trade_type(o)))
        .collect();
    let msg = list_msg(state, list.is_empty());
    Ok(with_cont(
        ok::<Kt00007>(
            Kt00007Reply {
                acnt_ord_cntr_prps_dtl: list,
            },
            &msg,
        ),
        cont,
    ))
}

fn account(state: &mut SimState, body: &str) -> Answer {
    let _: EmptyRequest = decode::<Ka00001>(body)?;
    let out = Ka00001Reply {
        acct_no: super::account_no(&state.exchange),
    };
    Ok(ok::<Ka00001>(out, MSG_OK))
}
