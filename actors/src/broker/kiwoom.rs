//! Kiwoom REST behind the broker boundary: a [`NewOrder`] goes out as kt10000 (buy) or
//! kt10001 (sell) with its `trde_tp` (`0` limit, `3` market), a modify as kt10002, a cancel
//! as kt10003, a band is read from ka10001, the stock master from ka10099, today's orders
//! from kt00007 (every order of the day, cancelled and refused ones too), the
//! holdings from kt00018 and the cash from kt00001; each answer comes back in the order
//! desk's words. The mappings from a reply to an answer are plain functions, unit-tested
//! here on the reference's samples.
//!
//! Must never retry an order: an answer that does not say what happened is
//! [`OrderReply::Lost`], and the desk asks the broker's order list rather than send twice.

use condor_core::reconcile::{BrokerHolding, BrokerOrder};
use condor_core::trading::orders::{Band, CancelReply, OrderReply};
use condor_model::kiwoom::account::{
    Kt00001, Kt00001Reply, Kt00001Request, Kt00007, Kt00007Reply, Kt00007Request, Kt00018,
    Kt00018Reply, Kt00018Request, TodayOrder,
};
use condor_model::kiwoom::market_data::{
    Ka10001, Ka10001Reply, Ka10099, Ka10099Reply, Ka10099Request, StockCodeRequest,
};
use condor_model::kiwoom::order::{
    self as kw, CancelRequest, Kt10000, Kt10001, Kt10002, Kt10003, ModifyRequest, OrderRequest,
};
use condor_model::kiwoom::rest::{ErrorClass, Refusal};

use super::Listing;
use crate::broker_account::AccountReadError;
use crate::domain::{NewOrder, OrderNo};
use crate::kiwoom_rest::{KiwoomRest, KiwoomRestError};
use crate::market::{Market, Price, Qty, Side, Ticker};

const LOG: &str = "condor::orders";

pub async fn place(rest: &KiwoomRest, order: &NewOrder) -> OrderReply {
    let req = OrderRequest::new(order.ticker, order.qty, order.order_type);
    let reply = match order.side {
        Side::Buy => rest.call::<Kt10000>(&req).await,
        Side::Sell => rest.call::<Kt10001>(&req).await,
    };
    order_reply(reply)
}

pub async fn modify(
    rest: &KiwoomRest,
    order_no: OrderNo,
    ticker: Ticker,
    qty: Qty,
    price: Price,
) -> OrderReply {
    let req = ModifyRequest::new(order_no.0, ticker, qty, price);
    modify_reply(rest.call::<Kt10002>(&req).await)
}

pub async fn cancel(rest: &KiwoomRest, order_no: OrderNo, ticker: Ticker, qty: Qty) -> CancelReply {
    let req = CancelRequest::new(order_no.0, ticker, qty);
    cancel_reply(rest.call::<Kt10003>(&req).await)
}

pub async fn band(rest: &KiwoomRest, ticker: Ticker) -> Option<Band> {
    band_of(
        ticker,
        rest.call::<Ka10001>(&StockCodeRequest::new(ticker)).await,
    )
}

/// A refusal that leaves an order in doubt: a bare HTTP error status (a proxy's 5xx, not
/// Kiwoom's JSON) or Kiwoom's "unexpected error" (`1999`). Every other readable refusal
/// is Kiwoom saying no. UNCONFIRMED: whether a 1999 can follow an order that was placed;
/// condor assumes it can and asks the order list (never resends).
fn leaves_order_in_doubt(r: &Refusal) -> bool {
    r.return_code == -1 || r.inner_code() == Some(1999)
}

/// kt10000/kt10001's answer as the desk reads it.
pub fn order_reply(reply: Result<kw::OrderReply, KiwoomRestError>) -> OrderReply {
    match reply {
        Ok(r) => accepted(r.order_no()),
        Err(e) => refusal_reply(e),
    }
}

/// kt10002's answer as the desk reads it: a modify is an order of its own, accepted under
/// its new number (§4.4), or refused as a new order is.
pub fn modify_reply(reply: Result<kw::ModifyReply, KiwoomRestError>) -> OrderReply {
    match reply {
        Ok(r) => accepted(r.order_no()),
        Err(e) => refusal_reply(e),
    }
}

/// An order Kiwoom accepted, under the number its reply gave.
fn accepted(order_no: Result<i64, condor_model::wire::WireError>) -> OrderReply {
    match order_no {
        Ok(order_no) => OrderReply::Acked {
            order_no: OrderNo(order_no),
            code: "0".to_owned(),
        },
        // Accepted, but the number is missing or unreadable: it may be working.
        Err(e) => OrderReply::AckedWithoutNumber {
            code: "0".to_owned(),
            message: e.to_string(),
        },
    }
}

/// An order call (new or modify) that Kiwoom refused, or that got no answer.
fn refusal_reply(e: KiwoomRestError) -> OrderReply {
    match e {
        KiwoomRestError::Refused { refusal, .. } if refusal.is_business() => {
            // `[2000](855056:…)`: the order system said no; Kiwoom's own code is kept.
            OrderReply::Rejected {
                code: refusal.code(),
                message: refusal.kiwoom_text().to_owned(),
            }
        }
        KiwoomRestError::Refused { refusal, .. } if leaves_order_in_doubt(&refusal) => {
            OrderReply::Lost {
                error: refusal.to_string(),
            }
        }
        // Refused at the gateway (token, rate limit, input, service, the other server's
        // key): the order never reached the order system. Likewise a token refused again
        // after a new one was issued, or no new token to be had.
        KiwoomRestError::Refused { refusal, .. }
        | KiwoomRestError::WrongServer { refusal, .. }
        | KiwoomRestError::TokenRefusedAgain { refusal, .. }
        | KiwoomRestError::NoNewToken { refusal, .. } => OrderReply::GatewayRefused {
            code: refusal.code(),
            message: refusal.to_string(),
        },
        // Lost in transit, timed out, or an unreadable answer: it may be working.
        e => OrderReply::Lost {
            error: e.to_string(),
        },
    }
}

/// kt10003's answer as the desk reads it.
pub fn cancel_reply(reply: Result<kw::CancelReply, KiwoomRestError>) -> CancelReply {
    match reply {
        Ok(r) => CancelReply::Accepted {
            order_no: r.order_no().map_or(OrderNo::NONE, OrderNo),
        },
        Err(e) => match e.refusal() {
            Some(refusal) if !leaves_order_in_doubt(refusal) => CancelReply::Refused {
                code: refusal.code(),
                message: if refusal.class() == ErrorClass::Business {
                    refusal.kiwoom_text().to_owned()
                } else {
                    refusal.to_string()
                },
            },
            _ => CancelReply::Failed {
                error: e.to_string(),
            },
        },
    }
}

/// ka10001's answer as a band (its `upl_pric`/`lst_pric`/`base_pric` and `cur_prc`), or
/// `None` (logged) when it carried none: the risk gate then decides without it.
pub fn band_of(ticker: Ticker, reply: Result<Ka10001Reply, KiwoomRestError>) -> Option<Band> {
    match reply {
        Ok(r) => match r.limits() {
            Ok(limits) if limits.upper.won() > 0 && limits.lower.won() > 0 => {
                let last = r.price().ok().filter(|p| p.won() > 0);
                log::debug!(target: LOG, "{ticker} band {}–{}, last {last:?}", limits.lower.won(), limits.upper.won());
                Some(Band { limits, last })
            }
            Ok(_) => {
                log::warn!(target: LOG, "{ticker} ka10001 carried no price band; the risk gate decides without it");
                None
            }
            Err(e) => {
                log::warn!(target: LOG, "{ticker} ka10001's price band cannot be read ({e}); the risk gate decides without it");
                None
            }
        },
        Err(e) => {
            log::warn!(target: LOG, "{ticker} cannot read the day's band (ka10001): {e}; the risk gate decides without it");
            None
        }
    }
}

/// One of today's orders as reconciliation compares it.
pub fn broker_order(o: &TodayOrder) -> BrokerOrder {
    BrokerOrder {
        order_no: OrderNo(o.order_no),
        org_order_no: OrderNo(o.orig_order_no),
        ticker: o.ticker,
        side: o.side,
        qty: o.qty,
        price: o.price,
        filled: o.filled,
        avg_fill_price: o.fill_price,
        remaining: o.remaining,
    }
}

/// kt00007's rows as reconciliation compares them: every order of the day with its
/// state, the modify and cancel orders under their own numbers (`org_order_no` their
/// original). An order cancelled or refused before any fill has nothing filled and
/// nothing working: it is ended, which ka10075 (open) and ka10076 (filled) could not show
/// (it is in neither).
pub fn orders_of(reply: &Kt00007Reply) -> Result<Vec<BrokerOrder>, AccountReadError> {
    reply
        .acnt_ord_cntr_prps_dtl
        .iter()
        .map(|row| Ok(broker_order(&row.to_order()?)))
        .collect()
}

/// Every order of the day (kt00007, oldest first, all pages), by order number.
pub async fn orders_of_day(rest: &KiwoomRest) -> Result<Vec<BrokerOrder>, AccountReadError> {
    let mut out = Vec::new();
    for page in rest.call_all::<Kt00007>(&Kt00007Request::today()).await? {
        out.extend(orders_of(&page)?);
    }
    // One row per number, whatever the pages' order (a page may follow a new order).
    out.sort_by_key(|o| o.order_no);
    out.dedup_by_key(|o| o.order_no);
    Ok(out)
}

/// ka10099 for KOSPI then KOSDAQ, every page.
pub async fn stock_master(rest: &KiwoomRest) -> Result<Vec<Listing>, AccountReadError> {
    let mut listings = Vec::new();
    for market in [Market::Kospi, Market::Kosdaq] {
        let pages = rest
            .call_all::<Ka10099>(&Ka10099Request::new(market))
            .await?;
        listings.extend(pages.iter().flat_map(|p| listings_of(market, p)));
    }
    Ok(listings)
}

/// One ka10099 page's rows as listings of `market` (the market asked for: a row's own
/// `marketCode`, when it names another, wins); a row without a stock code is logged and
/// left out.
pub fn listings_of(market: Market, page: &Ka10099Reply) -> Vec<Listing> {
    page.list
        .iter()
        .filter_map(|row| match row.ticker() {
            Ok(ticker) => Some(Listing {
                ticker,
                market: row.market().unwrap_or(market),
                name: row.name.trim().to_owned(),
            }),
            Err(e) => {
                log::debug!(target: LOG, "ka10099 row {:?} left out: {e}", row.code);
                None
            }
        })
        .collect()
}

/// kt00001's deposit (`entr`), as LS's `Dps` is read: the cash the engine's ledger counts.
pub fn cash_of(reply: &Kt00001Reply) -> Result<i64, AccountReadError> {
    Ok(reply.deposit()?)
}

/// The account's cash (kt00001, estimated).
pub async fn cash(rest: &KiwoomRest) -> Result<i64, AccountReadError> {
    cash_of(&rest.call::<Kt00001>(&Kt00001Request::estimated()).await?)
}

/// kt00018's cash holdings with shares.
pub fn holdings_of(reply: &Kt00018Reply) -> Result<Vec<BrokerHolding>, AccountReadError> {
    Ok(reply
        .holdings()?
        .into_iter()
        .map(|h| BrokerHolding {
            ticker: h.ticker,
            qty: h.qty,
            avg_price: h.avg_price,
        })
        .collect())
}

/// Every holding with shares (kt00018, aggregated, all pages).
pub async fn holdings(rest: &KiwoomRest) -> Result<Vec<BrokerHolding>, AccountReadError> {
    let mut out = Vec::new();
    for page in rest
        .call_all::<Kt00018>(&Kt00018Request::aggregated())
        .await?
    {
        out.extend(holdings_of(&page)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use condor_model::kiwoom::rest::decode_reply;
    use condor_model::market::Price;

    fn samsung() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn refused(api_id: &'static str, return_code: i64, msg: &str) -> KiwoomRestError {
        KiwoomRestError::Refused {
            api_id,
            refusal: Refusal::new(return_code, msg),
        }
    }

    /// §4.3's sell reply: accepted as order 138.
    #[test]
    fn an_accepted_order_is_acked_with_its_seven_digit_number() {
        let r = decode_reply::<Kt10001>(
            r#"{"ord_no":"0000138","dmst_stex_tp":"KRX","return_code":0,"return_msg":"매도주문이 완료되었습니다."}"#,
        )
        .unwrap();
        assert_eq!(
            order_reply(Ok(r.body)),
            OrderReply::Acked {
                order_no: OrderNo(138),
                code: "0".into()
            }
        );
        // The buy example's five digits read too.
        let r = decode_reply::<Kt10000>(r#"{"ord_no":"00024","return_code":0,"return_msg":""}"#)
            .unwrap();
        assert!(matches!(
            order_reply(Ok(r.body)),
            OrderReply::Acked {
                order_no: OrderNo(24),
                ..
            }
        ));
        // Accepted without a number: in doubt.
        let r = decode_reply::<Kt10000>(
            r#"{"return_code":0,"return_msg":"매수주문이 완료되었습니다."}"#,
        )
        .unwrap();
        assert!(
            matches!(
                order_reply(Ok(r.body)),
                OrderReply::AckedWithoutNumber { .. }
            ),
            "no number"
        );
    }

    /// §4.3's business refusals keep Kiwoom's code (paper's `RCxxxx` too).
    #[test]
    fn a_business_refusal_is_rejected_with_kiwooms_code() {
        let r = order_reply(Err(refused(
            "kt10000",
            20,
            "[2000](855056:매수증거금이 부족합니다. 2주 매수가능)",
        )));
        assert_eq!(
            r,
            OrderReply::Rejected {
                code: "855056".into(),
                message: "매수증거금이 부족합니다. 2주 매수가능".into()
            }
        );
        let r = order_reply(Err(refused(
            "kt10001",
            20,
            "[2000](RC4058:모의투자 장종료)",
        )));
        assert!(
            matches!(&r, OrderReply::Rejected { code, .. } if code == "RC4058"),
            "{r:?}"
        );
    }

    /// 8005 refused again after a new token, a rate limit, a real/paper mismatch: the
    /// gateway's answers (not placed). A lost or unreadable answer leaves it in doubt.
    #[test]
    fn gateway_refusals_are_not_placed_and_lost_answers_are_in_doubt() {
        let again = order_reply(Err(KiwoomRestError::TokenRefusedAgain {
            api_id: "kt10000",
            refusal: Refusal::new(3, "인증에 실패했습니다[8005:Token이 유효하지 않습니다]"),
        }));
        assert!(
            matches!(&again, OrderReply::GatewayRefused { code, message } if code == "8005" && message.contains("token is not valid")),
            "{again:?}"
        );
        let limited = order_reply(Err(KiwoomRestError::Refused {
            api_id: "kt10000",
            refusal: Refusal::new(
                5,
                "허용된 요청 개수를 초과하였습니다[1700:허용된 요청 개수를 초과하였습니다. API ID=kt10000]",
            )
            .with_http_status(429),
        }));
        assert!(
            matches!(&limited, OrderReply::GatewayRefused { code, .. } if code == "1700"),
            "{limited:?}"
        );
        let mismatch = order_reply(Err(refused(
            "kt10000",
            3,
            "인증에 실패했습니다[8031:투자구분(실전/모의)이 달라서 사용할수가 없습니다]",
        )));
        assert!(
            matches!(&mismatch, OrderReply::GatewayRefused { message, .. } if message.contains("real/paper mismatch")),
            "{mismatch:?}"
        );
        let lost = order_reply(Err(KiwoomRestError::Transport {
            api_id: "kt10000",
            url: "http://127.0.0.1:1/api/dostk/ordr".into(),
            reason: "timed out".into(),
        }));
        assert!(matches!(lost, OrderReply::Lost { .. }), "{lost:?}");
        let unreadable = decode_reply::<Kt10000>("<html>502</html>").unwrap_err();
        let garbled = order_reply(Err(KiwoomRestError::Decode {
            api_id: "kt10000",
            status: 200,
            error: unreadable,
        }));
        assert!(matches!(garbled, OrderReply::Lost { .. }), "{garbled:?}");
        let proxy = order_reply(Err(KiwoomRestError::Refused {
            api_id: "kt10000",
            refusal: Refusal::http(502, "Bad Gateway"),
        }));
        assert!(matches!(proxy, OrderReply::Lost { .. }), "{proxy:?}");
        let unexpected = order_reply(Err(refused(
            "kt10000",
            7,
            "서비스를 처리하는 중에 오류가 발생했습니다[1999:예기치 못한 에러]",
        )));
        assert!(
            matches!(unexpected, OrderReply::Lost { .. }),
            "{unexpected:?}"
        );
    }

    /// §4.4's modify reply: accepted under its new number (the spec's 0000140, original
    /// 0000139); a business refusal keeps Kiwoom's code; a rate limit is the gateway's.
    #[test]
    fn a_modify_is_acked_under_its_new_number_or_refused_with_the_code() {
        let r = decode_reply::<Kt10002>(
            r#"{"ord_no":"0000140","base_orig_ord_no":"0000139","mdfy_qty":"000000000001","dmst_stex_tp":"KRX",
                "return_code":0,"return_msg":"매수정정 주문입력이 완료되었습니다"}"#,
        )
        .unwrap();
        assert_eq!(
            modify_reply(Ok(r.body)),
            OrderReply::Acked {
                order_no: OrderNo(140),
                code: "0".into()
            }
        );
        let r = modify_reply(Err(refused(
            "kt10002",
            20,
            "[2000](571412:SOR정정 및 취소주문은 원주문이 SOR주문인 경우 가능합니다.)",
        )));
        assert!(
            matches!(&r, OrderReply::Rejected { code, .. } if code == "571412"),
            "{r:?}"
        );
        let limited = modify_reply(Err(KiwoomRestError::Refused {
            api_id: "kt10002",
            refusal: Refusal::new(
                5,
                "허용된 요청 개수를 초과하였습니다[1700:허용된 요청 개수를 초과하였습니다. API ID=kt10002]",
            )
            .with_http_status(429),
        }));
        assert!(
            matches!(&limited, OrderReply::GatewayRefused { code, .. } if code == "1700"),
            "{limited:?}"
        );
        let r = decode_reply::<Kt10002>(r#"{"return_code":0,"return_msg":""}"#).unwrap();
        assert!(matches!(
            modify_reply(Ok(r.body)),
            OrderReply::AckedWithoutNumber { .. }
        ));
    }

    /// §4.5's cancel reply: accepted under its own number; a refusal keeps the code.
    #[test]
    fn a_cancel_is_accepted_under_its_own_number_or_refused_with_the_code() {
        let r = decode_reply::<Kt10003>(
            r#"{"ord_no":"0000141","base_orig_ord_no":"0000139","cncl_qty":"000000000001","return_code":0,"return_msg":"매수취소 주문입력이 완료되었습니다"}"#,
        )
        .unwrap();
        assert_eq!(
            cancel_reply(Ok(r.body)),
            CancelReply::Accepted {
                order_no: OrderNo(141)
            }
        );
        let refused = cancel_reply(Err(refused(
            "kt10003",
            20,
            "[2000](571412:SOR정정 및 취소주문은 원주문이 SOR주문인 경우 가능합니다.)",
        )));
        assert!(
            matches!(&refused, CancelReply::Refused { code, .. } if code == "571412"),
            "{refused:?}"
        );
        let failed = cancel_reply(Err(KiwoomRestError::Transport {
            api_id: "kt10003",
            url: "x".into(),
            reason: "reset".into(),
        }));
        assert!(matches!(failed, CancelReply::Failed { .. }), "{failed:?}");
    }

    /// §4.1's illustrative quote: the band 49,000–91,000 around 70,000, last 70,500.
    #[test]
    fn ka10001_gives_the_band_and_the_last_price() {
        let r = decode_reply::<Ka10001>(
            r#"{"stk_cd":"005930","stk_nm":"삼성전자","base_pric":"70000","upl_pric":"+91000","lst_pric":"-49000",
                "open_pric":"+70100","high_pric":"+70800","low_pric":"-69800","cur_prc":"+70500","pre_sig":"2",
                "pred_pre":"+500","flu_rt":"+0.71","trde_qty":"9263135","return_code":0,"return_msg":"정상적으로 처리되었습니다"}"#,
        )
        .unwrap();
        let band = band_of(samsung(), Ok(r.body)).unwrap();
        assert_eq!(
            (
                band.limits.base,
                band.limits.upper,
                band.limits.lower,
                band.last
            ),
            (
                Price::lit(70_000),
                Price::lit(91_000),
                Price::lit(49_000),
                Some(Price::lit(70_500))
            )
        );
        assert_eq!(
            band_of(
                samsung(),
                Err(refused(
                    "ka10001",
                    7,
                    "서비스를 처리하는 중에 오류가 발생했습니다[1902:종목코드가 존재하지 않습니다]"
                ))
            ),
            None
        );
        // No limits in the answer: no band.
        let r = decode_reply::<Ka10001>(r#"{"stk_cd":"005930","return_code":0,"return_msg":""}"#)
            .unwrap();
        assert_eq!(band_of(samsung(), Ok(r.body)), None);
    }

    /// §4.8's kt00007 shape (10-digit quantities, `A`-prefixed codes, `"13:05:43"`): a
    /// filled market buy, a limit buy cancelled before any fill with its cancel order, a
    /// sell refused, and a partly filled buy still working.
    #[test]
    fn kt00007_lists_every_order_of_the_day_with_its_state() {
        let reply = decode_reply::<Kt00007>(
            r#"{"acnt_ord_cntr_prps_dtl":[
             {"ord_no":"0000050","stk_cd":"A069500","trde_tp":"시장가","ord_qty":"0000000001","ord_uv":"0000000000",
              "cnfm_qty":"0000000001","acpt_tp":"체결","ord_tm":"13:05:43","ori_ord":"0000000","io_tp_nm":"현금매수",
              "cntr_qty":"0000000001","cntr_uv":"0000035120","ord_remnq":"0000000000","mdfy_cncl":"","cnfm_tm":"","dmst_stex_tp":"KRX"},
             {"ord_no":"0000051","stk_cd":"A005930","trde_tp":"보통","ord_qty":"0000000010","ord_uv":"0000070000",
              "cnfm_qty":"0000000010","acpt_tp":"접수","ord_tm":"13:06:00","ori_ord":"0000000","io_tp_nm":"현금매수",
              "cntr_qty":"0000000000","cntr_uv":"0000000000","ord_remnq":"0000000000","dmst_stex_tp":"KRX"},
             {"ord_no":"0000052","stk_cd":"A005930","trde_tp":"보통","ord_qty":"0000000010","ord_uv":"0000000000",
              "cnfm_qty":"0000000010","acpt_tp":"확인","ord_tm":"13:06:30","ori_ord":"0000051","io_tp_nm":"매수취소",
              "cntr_qty":"0000000000","cntr_uv":"0000000000","ord_remnq":"0000000000","dmst_stex_tp":"KRX"},
             {"ord_no":"0000053","stk_cd":"A000660","trde_tp":"보통","ord_qty":"0000000005","ord_uv":"0000120000",
              "cnfm_qty":"0000000000","acpt_tp":"거부","ord_tm":"13:07:00","ori_ord":"0000000","io_tp_nm":"현금매도",
              "cntr_qty":"0000000000","cntr_uv":"0000000000","ord_remnq":"0000000000","dmst_stex_tp":"KRX"},
             {"ord_no":"0000054","stk_cd":"A000660","trde_tp":"보통","ord_qty":"0000000010","ord_uv":"0000120000",
              "cnfm_qty":"0000000010","acpt_tp":"체결","ord_tm":"13:08:00","ori_ord":"0000000","io_tp_nm":"현금매수",
              "cntr_qty":"0000000006","cntr_uv":"0000119900","ord_remnq":"0000000004","dmst_stex_tp":"KRX"}],
             "return_code":0,"return_msg":"조회가 완료되었습니다."}"#,
        )
        .unwrap()
        .body;
        let orders = orders_of(&reply).unwrap();
        let row = |n: i64| orders.iter().find(|o| o.order_no == OrderNo(n)).unwrap();
        let state = |o: &BrokerOrder| {
            (
                o.side,
                o.qty,
                o.price,
                o.filled,
                o.avg_fill_price,
                o.remaining,
            )
        };
        assert_eq!(orders.len(), 5);
        assert_eq!(
            state(row(50)),
            (
                Side::Buy,
                Qty::lit(1),
                Price::lit(0),
                Qty::lit(1),
                Price::lit(35_120),
                Qty::lit(0)
            ),
            "filled"
        );
        assert_eq!(
            state(row(51)),
            (
                Side::Buy,
                Qty::lit(10),
                Price::lit(70_000),
                Qty::lit(0),
                Price::lit(0),
                Qty::lit(0)
            ),
            "cancelled before any fill: ended, nothing filled"
        );
        assert_eq!(
            (row(52).org_order_no, row(52).ticker, row(52).remaining),
            (OrderNo(51), samsung(), Qty::lit(0)),
            "the cancel, an order of its own"
        );
        assert_eq!(
            state(row(53)),
            (
                Side::Sell,
                Qty::lit(5),
                Price::lit(120_000),
                Qty::lit(0),
                Price::lit(0),
                Qty::lit(0)
            ),
            "refused: ended, nothing filled"
        );
        assert_eq!(
            state(row(54)),
            (
                Side::Buy,
                Qty::lit(10),
                Price::lit(120_000),
                Qty::lit(6),
                Price::lit(119_900),
                Qty::lit(4)
            ),
            "partly filled, still working"
        );
        assert!(orders
            .iter()
            .all(|o| o.org_order_no == OrderNo::NONE || o.order_no == OrderNo(52)));
    }

    /// ka10099's rows: each market's stocks, a row's own market first; a bad code left out.
    #[test]
    fn the_stock_master_reads_each_markets_rows_and_leaves_out_bad_codes() {
        use condor_model::kiwoom::market_data::StockInfo;
        let samsung_row = StockInfo::new(
            samsung(),
            "삼성전자",
            Market::Kospi,
            Price::lit(70_000),
            5_969_782_550,
        );
        let mut kosdaq_row = StockInfo::new(
            Ticker::parse("035720").unwrap(),
            "카카오",
            Market::Kosdaq,
            Price::lit(40_000),
            1,
        );
        kosdaq_row.market_code = String::new(); // no marketCode: the market asked for
        let mut bad = samsung_row.clone();
        bad.code = "12345".into();
        let page = Ka10099Reply {
            list: vec![samsung_row, kosdaq_row, bad],
        };
        let got = listings_of(Market::Kosdaq, &page);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(
            (got[0].ticker, got[0].market, got[0].name.as_str()),
            (samsung(), Market::Kospi, "삼성전자")
        );
        assert_eq!(got[1].market, Market::Kosdaq);
        assert_eq!(got[1].name, "카카오");
    }

    /// §4.6 / §4.7's samples: cash is `entr`, holdings are the cash rows with shares.
    #[test]
    fn cash_and_holdings_read_the_reference_samples() {
        let cash = decode_reply::<Kt00001>(
            r#"{"entr":"000000010000000","profa_ch":"000000000000000","ord_alow_amt":"000000009000000",
             "pymn_alow_amt":"000000010000000","d2_entra":"000000010000000","d2_slby_exct_amt":"-00000000004900",
             "stk_entr_prst":[],"return_code":0,"return_msg":"모의투자 조회완료"}"#,
        )
        .unwrap()
        .body;
        assert_eq!(cash_of(&cash).unwrap(), 10_000_000);
        let held = decode_reply::<Kt00018>(
            r#"{"tot_pur_amt":"000000000250250","tot_evlt_amt":"000000000260000",
             "acnt_evlt_remn_indv_tot":[{"stk_cd":"A005930","stk_nm":"삼성전자","pur_pric":"000000000250250",
              "rmnd_qty":"000000000000001","trde_able_qty":"000000000000001","cur_prc":"000000260000",
              "prft_rt":"000000002.98","crd_tp":"00"},
              {"stk_cd":"A000660","rmnd_qty":"000000000000000","trde_able_qty":"000000000000000","pur_pric":"0","crd_tp":"00"}],
             "return_code":0,"return_msg":"조회가 완료되었습니다"}"#,
        )
        .unwrap()
        .body;
        assert_eq!(
            holdings_of(&held).unwrap(),
            [BrokerHolding {
                ticker: samsung(),
                qty: Qty::lit(1),
                avg_price: Price::lit(250_250)
            }]
        );
        // An empty paper account.
        let empty = decode_reply::<Kt00018>(
            r#"{"acnt_evlt_remn_indv_tot":[],"return_code":0,"return_msg":"모의투자 해당조회내역이 없습니다."}"#,
        )
        .unwrap()
        .body;
        assert!(holdings_of(&empty).unwrap().is_empty());
    }
}
