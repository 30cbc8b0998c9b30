//! The broker boundary: what the engine asks of a broker over REST, in the domain's
//! words. Place a [`NewOrder`], cancel what remains of one, read a ticker's band, the
//! day's orders and the cash, each answered as the order desk's inputs
//! ([`OrderReply`], [`CancelReply`], [`Band`], [`BrokerOrder`]), never as a broker's TR.
//!
//! One variant per broker, chosen by configuration at start: a closed set, so adding a
//! broker is a variant and an adapter module, and the compiler lists every call it must
//! answer. Each adapter keeps its wire (requests, replies, codes) to itself; [`ls`] is
//! LS OPEN API's, [`kiwoom`] Kiwoom REST's. Must never decide anything: what a reply means for an order is the
//! desk's call, and a failed read is reported, not retried here.

use std::time::Duration;

use condor_core::reconcile::{unsettled, BrokerHolding, BrokerOrder};
use condor_core::trading::orders::{Band, CancelReply, OrderReply};

use crate::broker_account::{self, AccountReadError, AccountSnapshot};
use crate::domain::{NewOrder, OrderNo};
use crate::kiwoom_rest::KiwoomRest;
use crate::ls_rest::LsRest;
use crate::market::{Market, Qty, Ticker};

pub mod kiwoom;

/// Reads of the whole account before [`Broker::snapshot`] settles for a partly unsettled
/// one.
const SNAPSHOT_TRIES: u32 = 5;
/// The wait between two such reads.
const SNAPSHOT_WAIT: Duration = Duration::from_millis(200);
pub mod ls;

/// One stock the broker lists: what the Supervisor needs to watch it and name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    pub ticker: Ticker,
    pub market: Market,
    /// The broker's name for it (LS t8436 `hname`, Kiwoom ka10099 `name`).
    pub name: String,
}

/// The broker the engine trades through.
#[derive(Clone, Debug)]
pub enum Broker {
    /// LS Securities OPEN API.
    Ls(LsRest),
    /// Kiwoom Securities REST.
    Kiwoom(KiwoomRest),
}

impl From<LsRest> for Broker {
    fn from(rest: LsRest) -> Broker {
        Broker::Ls(rest)
    }
}

impl From<KiwoomRest> for Broker {
    fn from(rest: KiwoomRest) -> Broker {
        Broker::Kiwoom(rest)
    }
}

impl Broker {
    /// Sends a new order; the reply says whether the broker took it, under which number.
    pub async fn place(&self, order: &NewOrder) -> OrderReply {
        match self {
            Broker::Ls(rest) => ls::place(rest, order).await,
            Broker::Kiwoom(rest) => kiwoom::place(rest, order).await,
        }
    }

    /// Cancels the unfilled `qty` of broker order `order_no` in `ticker`.
    pub async fn cancel(&self, order_no: OrderNo, ticker: Ticker, qty: Qty) -> CancelReply {
        match self {
            Broker::Ls(rest) => ls::cancel(rest, order_no, ticker, qty).await,
            Broker::Kiwoom(rest) => kiwoom::cancel(rest, order_no, ticker, qty).await,
        }
    }

    /// Moves `qty` shares of broker order `order_no` in `ticker` to the limit `price`. A
    /// modify is an order of its own at both brokers: the reply says whether the broker
    /// took it, under the modify's new number, as a new order's does.
    pub async fn modify(
        &self,
        order_no: OrderNo,
        ticker: Ticker,
        qty: Qty,
        price: crate::market::Price,
    ) -> OrderReply {
        match self {
            Broker::Ls(rest) => ls::modify(rest, order_no, ticker, qty, price).await,
            Broker::Kiwoom(rest) => kiwoom::modify(rest, order_no, ticker, qty, price).await,
        }
    }

    /// `ticker`'s price band today, `None` when the broker's answer carried none (the
    /// adapter logs why).
    pub async fn band(&self, ticker: Ticker) -> Option<Band> {
        match self {
            Broker::Ls(rest) => ls::band(rest, ticker).await,
            Broker::Kiwoom(rest) => kiwoom::band(rest, ticker).await,
        }
    }

    /// Today's orders on the account, as reconciliation compares them.
    pub async fn orders_of_day(&self) -> Result<Vec<BrokerOrder>, AccountReadError> {
        match self {
            Broker::Ls(rest) => broker_account::orders_of_day(rest).await,
            Broker::Kiwoom(rest) => kiwoom::orders_of_day(rest).await,
        }
    }

    /// The account's cash (won) as the broker counts it.
    pub async fn cash(&self) -> Result<i64, AccountReadError> {
        match self {
            Broker::Ls(rest) => broker_account::cash(rest).await,
            Broker::Kiwoom(rest) => kiwoom::cash(rest).await,
        }
    }

    /// Every KOSPI and KOSDAQ stock the broker lists (the stock master), read once a day
    /// by the Supervisor; rows it cannot read are logged and left out.
    pub async fn stock_master(&self) -> Result<Vec<Listing>, AccountReadError> {
        match self {
            Broker::Ls(rest) => ls::stock_master(rest).await,
            Broker::Kiwoom(rest) => kiwoom::stock_master(rest).await,
        }
    }

    /// Every holding with shares, as the broker counts it.
    pub async fn holdings(&self) -> Result<Vec<BrokerHolding>, AccountReadError> {
        match self {
            Broker::Ls(rest) => broker_account::holdings(rest).await,
            Broker::Kiwoom(rest) => kiwoom::holdings(rest).await,
        }
    }

    /// Today's orders, the holdings and the cash read as one consistent picture (what a
    /// start reconciles with): the orders, then the holdings and cash, then the orders
    /// again, until no order changed between the two order reads (a few tries, a moment
    /// apart), so the holdings and cash include exactly the fills the orders show. If the
    /// account keeps changing, the last read says which tickers are unsettled.
    pub async fn snapshot(&self) -> Result<AccountSnapshot, AccountReadError> {
        let mut before = self.orders_of_day().await?;
        let mut tries = 0;
        loop {
            tries += 1;
            let holdings = self.holdings().await?;
            let cash = self.cash().await?;
            let after = self.orders_of_day().await?;
            let open = unsettled(&before, &after);
            if open.is_empty() || tries >= SNAPSHOT_TRIES {
                return Ok(AccountSnapshot {
                    orders: after,
                    holdings,
                    cash,
                    unsettled: open,
                });
            }
            log::debug!(target: "condor::reconcile", "orders of {open:?} changed while the account was read; reading it again");
            actix_rt::time::sleep(SNAPSHOT_WAIT).await;
            before = after;
        }
    }
}
