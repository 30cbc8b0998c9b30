//! What goes into the exchange (raw order requests, exactly as a client sent them) and
//! what comes out (acks and the causal event stream the network layer renders as
//! S3_/K3_, SC0–SC4 and AFR frames).
//!
//! Owns plain data only. Must never reach back into the exchange: every event is a
//! self-contained snapshot taken at the moment it happened, so rendering it later (or on
//! another task) cannot observe a newer state.

use condor_model::market::{Market, Price, Qty, Side, Ticker, TimeOfDay};

use super::orders::{OrderKind, PriceType};
use super::reject::Reject;

/// CSPAT00601 in-block fields that matter, as the client sent them (raw).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOrder {
    /// `IsuNo`: `005930` or `A005930`.
    pub isu_no: String,
    pub qty: i64,
    /// Ignored for market orders.
    pub price: i64,
    pub side: Side,
    /// `OrdprcPtnCode`: `00` limit, `03` market; anything else is refused.
    pub price_type: String,
    /// `OrdCndiTpCode`: `0` (or empty) none; `1` IOC / `2` FOK are refused.
    pub condition: String,
}

/// CSPAT00701 in-block (modify).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModifyOrder {
    pub org_ord_no: i64,
    pub isu_no: String,
    /// 0 (or more than the remainder) = the whole remainder.
    pub qty: i64,
    pub price_type: String,
    pub price: i64,
}

/// CSPAT00801 in-block (cancel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelOrder {
    pub org_ord_no: i64,
    pub isu_no: String,
    /// 0 (or more than the remainder) = the whole remainder.
    pub qty: i64,
}

/// The synchronous answer to an accepted submit / modify / cancel (REST OutBlock2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderAck {
    /// `OrdNo`: the new order number (for modify and cancel too).
    pub ord_no: i64,
    /// `PrntOrdNo` / original order number; 0 for a new order.
    pub org_ord_no: i64,
    pub kind: OrderKind,
    pub ticker: Ticker,
    pub market: Market,
    pub name: &'static str,
    pub side: Side,
    /// New order: ordered qty; modify: qty moved to the new order; cancel: qty cancelled.
    pub qty: u64,
    /// 0 for market orders and cancels.
    pub price: Price,
    pub price_type: PriceType,
    /// `OrdAmt`: qty × price (0 for market orders and cancels).
    pub ord_amt: i64,
    /// Simulated clock at acceptance (`OrdTime` = `hhmmss` + `ms`).
    pub time: TimeOfDay,
    pub ms: u16,
}

/// Everything the exchange reports, in causal order.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// A print on the tape (S3_ / K3_).
    Trade(TradeEvent),
    /// A new / modify / cancel request accepted (SC0); `kind` says which.
    OrderAccepted(OrderSnapshot),
    /// One fill of one order (SC1), pushed right after the Trade that caused it.
    OrderFilled(FillEvent),
    /// Modify confirmed (SC2): the new order number carries the moved qty at the new price.
    OrderModified(OrderSnapshot),
    /// Cancel confirmed (SC3).
    OrderCancelled(OrderSnapshot),
    /// A refused submit / modify / cancel (SC4).
    OrderRejected(RejectEvent),
    /// A realtime condition-search change for one registered alert (AFR).
    ConditionAlert(AlertEvent),
}

/// A snapshot of a ticker at the moment of one trade: everything an S3_/K3_ frame needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TradeEvent {
    /// Exchange-wide trade sequence number, from 1.
    pub seq: u64,
    pub ticker: Ticker,
    pub market: Market,
    /// `chetime`.
    pub time: TimeOfDay,
    pub ms: u16,
    pub price: Price,
    /// `cvolume`.
    pub qty: Qty,
    /// `cgubun`: Buy = '+' (buy-initiated), Sell = '-'.
    pub aggressor: Side,
    pub prev_close: Price,
    pub upper_limit: Price,
    pub lower_limit: Price,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub open_time: TimeOfDay,
    pub high_time: TimeOfDay,
    pub low_time: TimeOfDay,
    /// Cumulative shares.
    pub volume: u64,
    /// Cumulative traded value in won (S3_ `value` is in millions: divide when rendering).
    pub value: i64,
    pub sell_volume: u64,
    pub sell_count: u64,
    pub buy_volume: u64,
    pub buy_count: u64,
    /// `w_avrg`: value / volume, integer won (not necessarily on the grid).
    pub vwap: Price,
    /// `offerho` / `bidho`: a tick above / below the print, 0 beyond the band.
    pub best_ask: Price,
    pub best_bid: Price,
    /// `jnilvolume`.
    pub prev_day_volume: u64,
}

impl TradeEvent {
    /// Signed change from the previous close (`change` on the wire is its absolute value).
    pub fn change(&self) -> i64 {
        self.price.won() - self.prev_close.won()
    }

    /// LS `sign`: 1 upper limit, 2 up, 3 flat, 4 lower limit, 5 down.
    pub fn sign(&self) -> &'static str {
        sign_code(
            self.price,
            self.prev_close,
            self.upper_limit,
            self.lower_limit,
        )
    }

    /// Change in basis points of the previous close, truncated toward zero (`drate` = /100).
    pub fn chg_rate_bp(&self) -> i64 {
        chg_rate_bp(self.price, self.prev_close)
    }

    /// `cpower` (체결강도) ×100: buy volume / sell volume in percent, to two decimals as an
    /// integer (33256 = "332.56"); 0 when nothing was sell-initiated yet.
    pub fn cpower_x100(&self) -> u64 {
        if self.sell_volume == 0 {
            0
        } else {
            (u128::from(self.buy_volume) * 10_000 / u128::from(self.sell_volume)) as u64
        }
    }
}

/// LS `sign` for `price` against the previous close and the day's band.
pub fn sign_code(price: Price, prev_close: Price, upper: Price, lower: Price) -> &'static str {
    if price.won() > 0 && price >= upper {
        "1"
    } else if price.won() > 0 && price <= lower {
        "4"
    } else if price > prev_close {
        "2"
    } else if price < prev_close {
        "5"
    } else {
        "3"
    }
}

/// (price − prev) / prev in basis points, truncated toward zero; 0 for a zero base.
pub fn chg_rate_bp(price: Price, prev_close: Price) -> i64 {
    if prev_close.won() == 0 {
        0
    } else {
        (i128::from(price.won() - prev_close.won()) * 10_000 / i128::from(prev_close.won())) as i64
    }
}

/// One order row as it stands right after an accept / modify / cancel (SC0, SC2, SC3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderSnapshot {
    pub kind: OrderKind,
    /// The order number of this row (the new number for modify and cancel).
    pub ord_no: i64,
    /// The original order number (0 for a new order).
    pub org_ord_no: i64,
    pub ticker: Ticker,
    pub market: Market,
    pub name: &'static str,
    pub side: Side,
    pub price_type: PriceType,
    /// New: ordered qty. Modify: qty moved to the new order (`mdfycnfqty`). Cancel: qty
    /// cancelled (`canccnfqty`).
    pub qty: u64,
    /// New/modify: the order price (0 for market). Cancel: 0.
    pub price: Price,
    /// The original's unfilled qty before this modify/cancel (0 for a new order).
    pub org_remaining_before: u64,
    /// The original's unfilled qty after it (0 for a new order).
    pub org_remaining_after: u64,
    /// `ordamt`: qty × price.
    pub ord_amt: i64,
    pub time: TimeOfDay,
    pub ms: u16,
    /// Account after the operation (`deposit`, `ordablemny` in SC0).
    pub cash_after: i64,
    pub orderable_after: i64,
}

/// One fill (SC1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FillEvent {
    pub ord_no: i64,
    pub org_ord_no: i64,
    /// `execno`: exchange-wide fill sequence, from 1.
    pub exec_no: i64,
    /// The trade that caused it.
    pub trade_seq: u64,
    pub ticker: Ticker,
    pub market: Market,
    pub name: &'static str,
    pub side: Side,
    pub price_type: PriceType,
    pub fill_price: Price,
    pub fill_qty: u64,
    /// `unercqty`: the order's unfilled qty after this fill.
    pub remaining: u64,
    pub order_qty: u64,
    /// 0 for market orders.
    pub order_price: Price,
    /// `ordavrexecprc`: the order's average fill price so far (integer division).
    pub avg_fill_price: Price,
    /// Cumulative filled qty of the order.
    pub filled_qty: u64,
    pub time: TimeOfDay,
    pub ms: u16,
    /// Commission and tax charged on this fill.
    pub commission: i64,
    pub tax: i64,
    pub cash_after: i64,
    pub orderable_after: i64,
    pub holding_qty_after: u64,
    pub sellable_after: u64,
    pub holding_avg_price_after: Price,
}

/// What was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RejectedRequest {
    New(NewOrder),
    Modify(ModifyOrder),
    Cancel(CancelOrder),
}

/// A refused request's fields as a refusal event tells them, whichever kind it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefusedFields<'a> {
    pub isu_no: &'a str,
    pub qty: i64,
    /// 0 for a cancel.
    pub price: i64,
    /// Only a new order names its side.
    pub side: Option<Side>,
    /// The original of a modify or cancel; 0 for a new order.
    pub org_ord_no: i64,
    /// `""` for a cancel.
    pub price_type: &'a str,
}

impl RejectedRequest {
    pub fn fields(&self) -> RefusedFields<'_> {
        match self {
            RejectedRequest::New(o) => RefusedFields {
                isu_no: &o.isu_no,
                qty: o.qty,
                price: o.price,
                side: Some(o.side),
                org_ord_no: 0,
                price_type: &o.price_type,
            },
            RejectedRequest::Modify(o) => RefusedFields {
                isu_no: &o.isu_no,
                qty: o.qty,
                price: o.price,
                side: None,
                org_ord_no: o.org_ord_no,
                price_type: &o.price_type,
            },
            RejectedRequest::Cancel(o) => RefusedFields {
                isu_no: &o.isu_no,
                qty: o.qty,
                price: 0,
                side: None,
                org_ord_no: o.org_ord_no,
                price_type: "",
            },
        }
    }
}

/// A refused request (SC4); nothing changed (but the refused order's row, where the order
/// system numbers refusals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectEvent {
    pub reject: Reject,
    pub request: RejectedRequest,
    /// The refused order's own number where the order system gave it one, else 0.
    pub ord_no: i64,
    pub time: TimeOfDay,
    pub ms: u16,
}

/// AFR `gsJobFlag`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AlertJob {
    /// `N`: first entry of the code under this alert.
    Enter,
    /// `R`: entry again after an exit.
    Reenter,
    /// `O`: exit.
    Exit,
}

impl AlertJob {
    pub fn flag(self) -> &'static str {
        match self {
            AlertJob::Enter => "N",
            AlertJob::Reenter => "R",
            AlertJob::Exit => "O",
        }
    }
}

/// One AFR frame's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertEvent {
    /// `sAlertNum` (the AFR `tr_key`).
    pub alert_num: String,
    pub query_index: String,
    /// `gsCode`: raw, may be an invalid code from a scenario.
    pub code: String,
    /// `gshname`: "" for codes the exchange does not list.
    pub name: &'static str,
    pub job: AlertJob,
    /// Market snapshot of the code (zeros and sign "3" for unlisted codes).
    pub price: Price,
    /// Signed change from the previous close (`gsChange` is its absolute value).
    pub change: i64,
    pub sign: &'static str,
    /// `gsChgRate` ×100.
    pub chg_rate_bp: i64,
    pub volume: u64,
    pub time: TimeOfDay,
    pub ms: u16,
}
