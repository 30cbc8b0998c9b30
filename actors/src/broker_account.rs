//! The broker's view of the account, read over REST for reconciliation: cash
//! (CSPAQ12200), holdings (t0424) and today's orders with their fills (t0425), every page.
//!
//! I/O and decoding only: no decisions (those are in `reconcile.rs`). Must never loop
//! forever on a broker that keeps saying "more" (pages are capped and a repeated key is an
//! error), and never exceed a TR's rate limit for long: a rate-limit refusal waits and
//! retries a bounded number of times.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::domain::OrderNo;
use crate::ls_rest::{LsError, LsRest};
use crate::market::Ticker;
use crate::reconcile::{BrokerHolding, BrokerOrder};
use crate::wire::account::{
    Cspaq12200, Cspaq12200InBlock1, T0424InBlock, T0425InBlock, T0424, T0425,
};
use crate::wire::rest::{Reply, Tr};
use crate::wire::WireError;

/// More pages than any day of orders needs; a broker still saying "more" is broken.
const MAX_PAGES: usize = 1_000;
/// Retries of one call refused for the TR's rate limit.
const RATE_RETRIES: u32 = 20;
/// The wait before such a retry: LS's limits are per second.
const RATE_WAIT: Duration = Duration::from_millis(250);

/// Why the broker's account could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AccountReadError {
    #[error(transparent)]
    Broker(#[from] LsError),
    /// Boxed: a Kiwoom refusal is large, and this error is returned on every read.
    #[error(transparent)]
    Kiwoom(Box<crate::kiwoom_rest::KiwoomRestError>),
    #[error("{tr}: refused [{code}] {msg}")]
    Refused {
        tr: &'static str,
        code: String,
        msg: String,
    },
    #[error("{tr}: the reply has no {block}")]
    Missing {
        tr: &'static str,
        block: &'static str,
    },
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("{tr}: the broker repeated continuation key {key:?}; stopped paging")]
    RepeatedKey { tr: &'static str, key: String },
    #[error("{tr}: more than {MAX_PAGES} pages; stopped paging")]
    TooManyPages { tr: &'static str },
}

impl From<crate::kiwoom_rest::KiwoomRestError> for AccountReadError {
    fn from(e: crate::kiwoom_rest::KiwoomRestError) -> AccountReadError {
        AccountReadError::Kiwoom(Box::new(e))
    }
}

/// One page of `T`, retried while the TR's rate limit refuses it.
async fn page<T: Tr>(
    rest: &LsRest,
    input: &T::In,
    key: Option<&str>,
) -> Result<(Reply<T::Out>, Option<String>), AccountReadError> {
    let mut tries = 0;
    loop {
        match rest.call_page::<T>(input, key).await {
            Err(e) if e.is_rate_limited() && tries < RATE_RETRIES => {
                tries += 1;
                actix_rt::time::sleep(RATE_WAIT).await;
            }
            Err(e) => return Err(e.into()),
            Ok((reply, next)) if T::succeeded(&reply) => return Ok((reply, next)),
            Ok((reply, _)) => {
                return Err(AccountReadError::Refused {
                    tr: T::TR_CD,
                    code: reply.rsp_cd,
                    msg: reply.rsp_msg,
                })
            }
        }
    }
}

/// Cash the account can order with (`Dps`, the deposit), as the engine's ledger counts it.
pub async fn cash(rest: &LsRest) -> Result<i64, AccountReadError> {
    let (reply, _) = page::<Cspaq12200>(rest, &Cspaq12200InBlock1::new(), None).await?;
    reply
        .blocks
        .out_block2
        .map(|b| b.dps)
        .ok_or(AccountReadError::Missing {
            tr: "CSPAQ12200",
            block: "CSPAQ12200OutBlock2",
        })
}

/// Every holding with shares (t0424, all pages).
pub async fn holdings(rest: &LsRest) -> Result<Vec<BrokerHolding>, AccountReadError> {
    let mut input = T0424InBlock::new();
    let mut key: Option<String> = None;
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let (reply, next) = page::<T0424>(rest, &input, key.as_deref()).await?;
        for row in &reply.blocks.out_block1 {
            let qty = row.qty()?;
            if qty.shares() > 0 {
                out.push(BrokerHolding {
                    ticker: row.ticker()?,
                    qty,
                    avg_price: row.avg_price()?,
                });
            }
        }
        let Some(next) = next else { return Ok(out) };
        if key.as_deref() == Some(next.as_str()) {
            return Err(AccountReadError::RepeatedKey {
                tr: "t0424",
                key: next,
            });
        }
        input.cts_expcode = reply
            .blocks
            .out_block
            .map(|b| b.cts_expcode)
            .unwrap_or_else(|| next.clone());
        key = Some(next);
    }
    Err(AccountReadError::TooManyPages { tr: "t0424" })
}

/// Every order of the day, oldest first (t0425, all pages).
pub async fn orders_of_day(rest: &LsRest) -> Result<Vec<BrokerOrder>, AccountReadError> {
    let mut input = T0425InBlock::all();
    let mut key: Option<String> = None;
    let mut out = Vec::new();
    for _ in 0..MAX_PAGES {
        let (reply, next) = page::<T0425>(rest, &input, key.as_deref()).await?;
        for row in &reply.blocks.out_block1 {
            out.push(BrokerOrder {
                order_no: OrderNo(row.ordno),
                org_order_no: OrderNo(row.orgordno),
                ticker: row.ticker()?,
                side: row.side()?,
                qty: row.qty()?,
                price: row.price()?,
                filled: row.filled_qty()?,
                avg_fill_price: row.avg_fill_price()?,
                remaining: row.remaining_qty()?,
            });
        }
        let Some(next) = next else {
            out.sort_by_key(|o| o.order_no);
            return Ok(out);
        };
        if key.as_deref() == Some(next.as_str()) {
            return Err(AccountReadError::RepeatedKey {
                tr: "t0425",
                key: next,
            });
        }
        input.cts_ordno = reply
            .blocks
            .out_block
            .map(|b| b.cts_ordno)
            .unwrap_or_else(|| next.clone());
        key = Some(next);
    }
    Err(AccountReadError::TooManyPages { tr: "t0425" })
}

/// The account as one picture: today's orders, the holdings and the cash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountSnapshot {
    /// Today's orders as read after the holdings and the cash.
    pub orders: Vec<BrokerOrder>,
    pub holdings: Vec<BrokerHolding>,
    pub cash: i64,
    /// Tickers whose orders still changed while the holdings and cash were read (empty
    /// when the picture is consistent); see [`crate::reconcile::unsettled`].
    pub unsettled: BTreeSet<Ticker>,
}
