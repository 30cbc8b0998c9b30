//! LS OPEN API behind the broker boundary: a [`NewOrder`] goes out as CSPAT00601, a modify
//! as CSPAT00701, a cancel as CSPAT00801, a band is read from t1102, and each reply comes back as the order desk's
//! input. The mapping from a reply to an answer is a plain function, unit-tested here.
//!
//! Must never retry an order: a reply that does not say what happened is
//! [`OrderReply::Lost`], and the desk asks the broker's order list rather than send twice.

use condor_core::trading::orders::{Band, CancelReply, OrderReply};

use super::Listing;
use crate::broker_account::AccountReadError;
use crate::domain::{NewOrder, OrderNo};
use crate::ls_rest::{LsError, LsRest};
use crate::market::{Price, Qty, Ticker};
use crate::wire::market_data::{T1102InBlock, T1102Out, T8436InBlock, T8436Out, T1102, T8436};
use crate::wire::order::{
    Cspat00601, Cspat00601InBlock1, Cspat00601Out, Cspat00701, Cspat00701InBlock1, Cspat00701Out,
    Cspat00801, Cspat00801InBlock1, Cspat00801Out,
};
use crate::wire::rest::{Reply, Tr};

const LOG: &str = "condor::orders";

pub async fn place(rest: &LsRest, order: &NewOrder) -> OrderReply {
    let block = Cspat00601InBlock1::for_order(order);
    order_reply(rest.call::<Cspat00601>(&block).await)
}

pub async fn modify(
    rest: &LsRest,
    order_no: OrderNo,
    ticker: Ticker,
    qty: Qty,
    price: Price,
) -> OrderReply {
    let block = Cspat00701InBlock1::limit(order_no.0, ticker, qty, price);
    modify_reply(rest.call::<Cspat00701>(&block).await)
}

pub async fn cancel(rest: &LsRest, order_no: OrderNo, ticker: Ticker, qty: Qty) -> CancelReply {
    let block = Cspat00801InBlock1::new(order_no.0, ticker, qty);
    cancel_reply(rest.call::<Cspat00801>(&block).await)
}

pub async fn band(rest: &LsRest, ticker: Ticker) -> Option<Band> {
    band_of(ticker, rest.call::<T1102>(&T1102InBlock::new(ticker)).await)
}

pub async fn stock_master(rest: &LsRest) -> Result<Vec<Listing>, AccountReadError> {
    let reply = rest.call::<T8436>(&T8436InBlock::all()).await?;
    if !T8436::succeeded(&reply) {
        return Err(AccountReadError::Refused {
            tr: "t8436",
            code: reply.rsp_cd,
            msg: reply.rsp_msg,
        });
    }
    Ok(listings_of(&reply.blocks))
}

/// t8436's rows as listings; a row that is not a KOSPI or KOSDAQ stock code is logged and
/// left out.
pub fn listings_of(out: &T8436Out) -> Vec<Listing> {
    out.out_block
        .iter()
        .filter_map(|s| match (s.ticker(), s.market()) {
            (Ok(ticker), Ok(market)) => Some(Listing {
                ticker,
                market,
                name: s.hname.clone(),
            }),
            (Err(e), _) | (_, Err(e)) => {
                log::debug!(target: LOG, "t8436 row {:?} left out: {e}", s.shcode);
                None
            }
        })
        .collect()
}

/// CSPAT00601's answer as the desk reads it.
pub fn order_reply(reply: Result<Reply<Cspat00601Out>, LsError>) -> OrderReply {
    match reply {
        Ok(r) if Cspat00601::succeeded(&r) => match r.blocks.ord_no() {
            Some(order_no) => OrderReply::Acked {
                order_no: OrderNo(order_no),
                code: r.rsp_cd,
            },
            None => OrderReply::AckedWithoutNumber {
                code: r.rsp_cd,
                message: r.rsp_msg,
            },
        },
        Ok(r) => OrderReply::Rejected {
            code: r.rsp_cd,
            message: r.rsp_msg,
        },
        Err(e) => unanswered(e),
    }
}

/// An order call (new or modify) that got no answer from the order system.
fn unanswered(e: LsError) -> OrderReply {
    match e {
        // A gateway refusal (rate limit, token, a token refused again after a new one was
        // issued) is the gateway's answer: the order never reached the order system.
        LsError::Gateway { code, msg, .. } | LsError::TokenRefusedAgain { code, msg, .. } => {
            OrderReply::GatewayRefused { code, message: msg }
        }
        // Lost in transit, timed out, or an unreadable answer: it may be working.
        e => OrderReply::Lost {
            error: e.to_string(),
        },
    }
}

/// CSPAT00701's answer as the desk reads it: accepted under the modify's own number
/// (OutBlock2 `OrdNo`), or refused with LS's code. Its success code is UNCONFIRMED
/// (ls-openapi.md §4): a `00…` code with a positive `OrdNo` is success, as clients judge
/// it; a `00…` code without a number may be working; any other code is a refusal (its
/// blocks are zeros).
pub fn modify_reply(reply: Result<Reply<Cspat00701Out>, LsError>) -> OrderReply {
    match reply {
        Ok(r) => match r.blocks.ord_no() {
            Some(order_no) if Cspat00701::succeeded(&r) => OrderReply::Acked {
                order_no: OrderNo(order_no),
                code: r.rsp_cd,
            },
            None if r.rsp_cd.starts_with("00") => OrderReply::AckedWithoutNumber {
                code: r.rsp_cd,
                message: r.rsp_msg,
            },
            _ => OrderReply::Rejected {
                code: r.rsp_cd,
                message: r.rsp_msg,
            },
        },
        Err(e) => unanswered(e),
    }
}

/// CSPAT00801's answer as the desk reads it.
pub fn cancel_reply(reply: Result<Reply<Cspat00801Out>, LsError>) -> CancelReply {
    match reply {
        Ok(r) if Cspat00801::succeeded(&r) => CancelReply::Accepted {
            order_no: r.blocks.ord_no().map_or(OrderNo::NONE, OrderNo),
        },
        Ok(r) => CancelReply::Refused {
            code: r.rsp_cd,
            message: r.rsp_msg,
        },
        Err(e) => CancelReply::Failed {
            error: e.to_string(),
        },
    }
}

/// t1102's answer as a band, or `None` (logged) when it carried none: the risk gate then
/// decides without it.
pub fn band_of(ticker: Ticker, reply: Result<Reply<T1102Out>, LsError>) -> Option<Band> {
    match reply {
        Ok(r) if T1102::succeeded(&r) => match r.blocks.out_block {
            Some(b) if b.uplmtprice > 0 && b.dnlmtprice > 0 => {
                log::debug!(target: LOG, "{ticker} band {}–{}, last {}", b.dnlmtprice, b.uplmtprice, b.price);
                match (b.limits(), b.price()) {
                    (Ok(limits), Ok(last)) => Some(Band {
                        limits,
                        last: (last.won() > 0).then_some(last),
                    }),
                    (Err(e), _) | (_, Err(e)) => {
                        log::warn!(target: LOG, "{ticker} t1102 band unreadable: {e}; the risk gate decides without it");
                        None
                    }
                }
            }
            _ => {
                log::warn!(target: LOG, "{ticker} t1102 carried no price band; the risk gate decides without it");
                None
            }
        },
        Ok(r) => {
            log::warn!(target: LOG, "{ticker} t1102 refused [{}] {}; the risk gate decides without a band", r.rsp_cd, r.rsp_msg);
            None
        }
        Err(e) => {
            log::warn!(target: LOG, "{ticker} cannot read the day's band (t1102): {e}; the risk gate decides without it");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::Market;
    use crate::wire::market_data::T8436OutBlock;
    use crate::wire::rest::decode_reply;

    #[test]
    fn the_stock_master_keeps_kospi_and_kosdaq_stocks_and_leaves_out_bad_rows() {
        let row = |shcode: &str, gubun: &str, hname: &str| T8436OutBlock {
            shcode: shcode.into(),
            gubun: gubun.into(),
            hname: hname.into(),
            ..T8436OutBlock::default()
        };
        let out = T8436Out {
            out_block: vec![
                row("005930", "1", "삼성전자"),
                row("035720", "2", "카카오"),
                row("Q50001", "1", "an ETN code"),
                row("000660", "9", "an unknown market"),
            ],
        };
        assert_eq!(
            listings_of(&out),
            vec![
                Listing {
                    ticker: Ticker::parse("005930").unwrap(),
                    market: Market::Kospi,
                    name: "삼성전자".into(),
                },
                Listing {
                    ticker: Ticker::parse("035720").unwrap(),
                    market: Market::Kosdaq,
                    name: "카카오".into(),
                },
            ]
        );
    }

    /// ls-openapi.md §3.2's CSPAT00701 business error (blocks present, zero-filled) is a
    /// refusal with LS's code; the simulator's paper success, a modify under its own
    /// number; a gateway refusal or a lost answer as for a new order.
    #[test]
    fn a_modify_is_acked_under_its_own_number_or_refused_with_ls_code() {
        let refused = decode_reply::<Cspat00701>(
            r#"{"rsp_cd":"03181","rsp_msg":"주문가격이 하한가 미달입니다.",
               "CSPAT00701OutBlock1":{"RecCnt":1,"OrgOrdNo":32004,"AcntNo":"55501234567","InptPwd":"********",
                 "IsuNo":"A005930","OrdQty":1,"OrdprcPtnCode":"00","OrdCndiTpCode":"0","OrdPrc":"1000.00"},
               "CSPAT00701OutBlock2":{"RecCnt":0,"OrdNo":0,"PrntOrdNo":0,"OrdTime":"","OrdAmt":0}}"#,
        )
        .unwrap();
        assert_eq!(
            modify_reply(Ok(refused)),
            OrderReply::Rejected {
                code: "03181".into(),
                message: "주문가격이 하한가 미달입니다.".into()
            }
        );
        let accepted = decode_reply::<Cspat00701>(
            r#"{"rsp_cd":"00000","rsp_msg":"모의투자 정정주문이 완료 되었습니다.",
               "CSPAT00701OutBlock1":{"RecCnt":1,"OrgOrdNo":32004,"IsuNo":"A005930","OrdQty":1,"OrdPrc":"35000.00"},
               "CSPAT00701OutBlock2":{"RecCnt":1,"OrdNo":32005,"PrntOrdNo":32004,"OrdTime":"153257702","BnsTpCode":"2"}}"#,
        )
        .unwrap();
        assert_eq!(
            modify_reply(Ok(accepted)),
            OrderReply::Acked {
                order_no: OrderNo(32005),
                code: "00000".into()
            }
        );
        let unnumbered = decode_reply::<Cspat00701>(
            r#"{"rsp_cd":"00000","rsp_msg":"정정주문이 완료 되었습니다.","CSPAT00701OutBlock2":{"OrdNo":0}}"#,
        )
        .unwrap();
        assert!(matches!(
            modify_reply(Ok(unnumbered)),
            OrderReply::AckedWithoutNumber { .. }
        ));
        let limited = modify_reply(Err(LsError::Gateway {
            tr_cd: "CSPAT00701",
            status: 500,
            code: "IGW00201".into(),
            msg: "호출 거래건수를 초과하였습니다.".into(),
        }));
        assert!(
            matches!(&limited, OrderReply::GatewayRefused { code, .. } if code == "IGW00201"),
            "{limited:?}"
        );
        let lost = modify_reply(Err(LsError::Transport {
            url: "http://127.0.0.1:1/stock/order".into(),
            reason: "timed out".into(),
        }));
        assert!(matches!(lost, OrderReply::Lost { .. }), "{lost:?}");
    }

    /// A token refused twice is still the gateway's refusal (the order was not placed, so
    /// it is rejected); only a lost answer leaves the order in doubt.
    #[test]
    fn a_token_refused_again_rejects_the_order_and_a_lost_answer_leaves_it_in_doubt() {
        let again = order_reply(Err(LsError::TokenRefusedAgain {
            tr_cd: "CSPAT00601",
            status: 500,
            code: "IGW00123".into(),
            msg: "기간이 만료된 token 입니다.".into(),
        }));
        assert_eq!(
            again,
            OrderReply::GatewayRefused {
                code: "IGW00123".into(),
                message: "기간이 만료된 token 입니다.".into()
            }
        );
        let lost = order_reply(Err(LsError::Transport {
            url: "http://127.0.0.1:1/stock/order".into(),
            reason: "timed out".into(),
        }));
        assert!(matches!(lost, OrderReply::Lost { .. }), "{lost:?}");
    }
}
