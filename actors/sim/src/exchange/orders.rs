//! Orders: validation of raw CSPAT00601/00701/00801 requests, the order records t0425
//! lists, the per-ticker queue of working orders, and matching against the tape.
//!
//! Owns every order of the day and the working queues. Must never change state on a
//! refused request (every check runs before the first write), never fill an order at a
//! price other than a printed trade's, and never fill more in total than a print's
//! quantity. Our orders do not move the simulated price: the market is much larger than
//! the account, so it is the tape that fills us, not the other way round.
//!
//! Matching rule: on each print of a ticker its working orders are visited in time
//! priority (order-number order; a modify re-queues at the back, as a price change
//! loses priority on KRX). A market order takes from any print; a buy limit from a print
//! at or below its price; a sell limit from a print at or above it. Each fill is at the
//! print's price, and the print's quantity is shared out in that order, so a large order
//! fills partially across several prints.
//!
//! Modify (CSPAT00701) gets a new order number carrying min(requested, remaining) shares
//! (0 = all) at the new price; the original keeps whatever was not moved, so a full
//! modify closes it (as LS does) and a partial one leaves the rest working at the old
//! price (KRX 일부정정). Cancel (CSPAT00801) gets its own order number and cancels
//! min(requested, remaining) (0 = all) from the original.

use condor_model::market::{check_grid, DailyLimits, MarketError, Price, Side, Ticker, TimeOfDay};

use super::events::{
    CancelOrder, Event, FillEvent, ModifyOrder, NewOrder, OrderAck, OrderSnapshot, RejectEvent,
    RejectedRequest, TradeEvent,
};
use super::reject::{Reject, RejectReason};
use super::{fmt_hhmmsscc, Exchange};

/// The first order number of the day.
pub const FIRST_ORD_NO: i64 = 10_001;
/// Largest quantity one order may carry; keeps every notional far inside `i64`.
pub const MAX_ORDER_QTY: i64 = 100_000_000;

/// Which request created an order row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderKind {
    New,
    Modify,
    Cancel,
}

impl OrderKind {
    /// SC0 `trcode`.
    pub fn trcode(self) -> &'static str {
        match self {
            OrderKind::New => "SONAT000",
            OrderKind::Modify => "SONAT001",
            OrderKind::Cancel => "SONAT002",
        }
    }
}

/// `OrdprcPtnCode` the simulator supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PriceType {
    /// `00` 지정가.
    Limit,
    /// `03` 시장가.
    Market,
}

impl PriceType {
    pub fn code(self) -> &'static str {
        match self {
            PriceType::Limit => "00",
            PriceType::Market => "03",
        }
    }

    pub fn parse(code: &str) -> Option<PriceType> {
        match code {
            "00" => Some(PriceType::Limit),
            "03" => Some(PriceType::Market),
            _ => None,
        }
    }
}

/// An order row's state, with the t0425 `status` text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderStatus {
    /// A new order with shares working (partially filled or not).
    Accepted,
    /// A modify row with shares working.
    ModifyConfirmed,
    /// A cancel row (never works).
    CancelConfirmed,
    /// Fully filled.
    Filled,
    /// Nothing left working because the remainder was modified away or cancelled.
    Closed,
    /// A new order refused, kept under its number (Kiwoom's order system only, see
    /// [`Exchange::submit_numbering_refusals`]).
    Rejected,
}

impl OrderStatus {
    /// t0425 `status`. UNCONFIRMED for the last two: the reference lists "접수",
    /// "정정확인", "취소확인", "완료"; a partially filled working order stays "접수" (its
    /// `cheqty` shows the progress) and an order closed by a modify or cancel is "완료",
    /// so clients that only know those four labels map every row.
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Accepted => "접수",
            OrderStatus::ModifyConfirmed => "정정확인",
            OrderStatus::CancelConfirmed => "취소확인",
            OrderStatus::Filled | OrderStatus::Closed => "완료",
            OrderStatus::Rejected => "거부",
        }
    }
}

/// One row of the day's orders (t0425 `OutBlock1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderRecord {
    pub ord_no: i64,
    /// 0 for a new order; the original for modify and cancel rows.
    pub org_ord_no: i64,
    pub kind: OrderKind,
    pub ticker: Ticker,
    pub market: condor_model::market::Market,
    pub name: &'static str,
    pub side: Side,
    pub price_type: PriceType,
    /// Order qty of this row (cancel rows: the qty cancelled).
    pub qty: u64,
    /// 0 for market orders and cancel rows.
    pub price: Price,
    /// `cheqty`.
    pub filled_qty: u64,
    /// Sum of fill price × qty (exact).
    pub filled_value: i64,
    /// `cheprice`: filled_value / filled_qty, rounded down.
    pub avg_fill_price: Price,
    /// `ordrem`: shares still working.
    pub remaining: u64,
    /// `cfmqty`: confirmed qty of a modify/cancel row (0 for new orders).
    pub confirmed_qty: u64,
    pub status: OrderStatus,
    pub time: TimeOfDay,
    pub ms: u16,
    /// Cash this row holds back right now (working buys only).
    pub reserved: i64,
}

impl OrderRecord {
    pub fn is_working(&self) -> bool {
        self.remaining > 0
    }

    /// t0425 `ordtime`: `HHMMSSss` (hundredths).
    pub fn ordtime(&self) -> String {
        fmt_hhmmsscc(self.time, self.ms)
    }

    /// The price a buy's reserve is computed at: its limit, or the upper limit for a
    /// market order (the most it can pay).
    fn reserve_price(&self, limits: &DailyLimits) -> Price {
        reserve_price(self.price_type, self.price, limits)
    }
}

fn reserve_price(pt: PriceType, price: Price, limits: &DailyLimits) -> Price {
    match pt {
        PriceType::Limit => price,
        PriceType::Market => limits.upper,
    }
}

/// Parses `IsuNo` into the universe index.
fn resolve_ticker(ex: &Exchange, isu_no: &str) -> Result<(Ticker, usize), Reject> {
    let t = Ticker::parse_isu_no(isu_no.trim()).map_err(|e| {
        Reject::new(
            RejectReason::BadTickerFormat,
            format!("IsuNo {isu_no:?}: {e}"),
        )
    })?;
    let idx = ex.index_of(t).ok_or_else(|| {
        Reject::new(
            RejectReason::UnknownTicker,
            format!("{t} is not listed on the simulator"),
        )
    })?;
    Ok((t, idx))
}

fn check_qty(qty: i64) -> Result<u64, Reject> {
    if qty <= 0 || qty > MAX_ORDER_QTY {
        return Err(Reject::new(
            RejectReason::BadQty,
            format!("qty {qty} must be 1..={MAX_ORDER_QTY}"),
        ));
    }
    Ok(qty as u64)
}

fn parse_price_type(code: &str) -> Result<PriceType, Reject> {
    PriceType::parse(code.trim()).ok_or_else(|| {
        Reject::new(
            RejectReason::UnsupportedPriceType,
            format!("OrdprcPtnCode {code:?}: only 00 (limit) and 03 (market) are simulated"),
        )
    })
}

/// A limit price must be positive, on the grid and inside the band; a market order's
/// price is ignored (0).
fn check_price(pt: PriceType, price: i64, limits: &DailyLimits) -> Result<Price, Reject> {
    if pt == PriceType::Market {
        return Ok(Price::lit(0));
    }
    let detail = |e: MarketError| e.to_string();
    let p = Price::new(price).map_err(|e| Reject::new(RejectReason::BadPrice, detail(e)))?;
    match check_grid(p) {
        Err(e @ MarketError::NonPositivePrice { .. }) => {
            return Err(Reject::new(RejectReason::BadPrice, detail(e)))
        }
        Err(e) => return Err(Reject::new(RejectReason::OffGrid, detail(e))),
        Ok(()) => {}
    }
    match limits.check(p) {
        Err(e @ MarketError::AboveUpperLimit { .. }) => {
            Err(Reject::new(RejectReason::AboveUpperLimit, detail(e)))
        }
        Err(e) => Err(Reject::new(RejectReason::BelowLowerLimit, detail(e))),
        Ok(()) => Ok(p),
    }
}

/// The validated content of a new order.
struct ValidNew {
    idx: usize,
    qty: u64,
    price: Price,
    pt: PriceType,
    reserve: i64,
}

/// The validated content of a modify: how many shares move and at what price.
struct ValidModify {
    oi: usize,
    moved: u64,
    price: Price,
    pt: PriceType,
    /// Reserve of the new row (buys).
    new_reserve: i64,
    /// Reserve the original keeps for what is left (buys).
    org_reserve_after: i64,
}

impl Exchange {
    /// Every order row of the day, in order-number order (t0425).
    pub fn orders(&self) -> &[OrderRecord] {
        &self.orders
    }

    /// The row of `ord_no`, if the exchange issued it.
    pub fn order(&self, ord_no: i64) -> Option<&OrderRecord> {
        self.order_index(ord_no).map(|i| &self.orders[i])
    }

    fn order_index(&self, ord_no: i64) -> Option<usize> {
        let i = usize::try_from(ord_no.checked_sub(self.first_ord_no)?).ok()?;
        (i < self.orders.len()).then_some(i)
    }

    /// The number the next order row gets.
    fn next_ord_no(&self) -> i64 {
        self.first_ord_no + self.orders.len() as i64
    }

    /// The close (`now_ms`) of the session open at `now_ms`: the calendar's for the day
    /// (day after day), else the regular close of the one day.
    fn session_close_ms(&self, now_ms: u64) -> Option<u64> {
        match (&self.days, self.day_at(now_ms)) {
            (Some(d), Some(day)) => {
                let close = d.calendar.session(day)?.close;
                let ms = day.midnight_unix_ms() + i64::from(close.secs()) * 1000 - d.zero_unix_ms;
                u64::try_from(ms).ok()
            }
            _ => Some(self.close_us / 1000),
        }
    }

    /// The day's end for orders, as of `now_ms` (called before the market moves and
    /// before each order call, so it is exact whatever the caller's step): orders still
    /// working at the close of the session they were taken in expire at that close, and
    /// on a later day (day after day) the order list starts empty, its numbers going on
    /// from yesterday's so that no number is ever given twice.
    ///
    /// What LS sends for an expiring order is not in the reference (ls-openapi.md says
    /// nothing of the close; KRX ends every regular-session day order there). Chosen: one
    /// SC3 per order, a cancel confirmed by the exchange for the whole remainder, on a
    /// cancel row of its own number (`orgordno` the expired order), at the close's time;
    /// no SC0, as no cancel was asked for. A client that follows SC3 closes the order,
    /// and t0425 shows the rows (취소확인, the original 완료) until the day ends.
    /// Not in tape mode, whose one recorded day has its own times.
    pub fn settle_day(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        if self.tape.is_some() {
            return;
        }
        if let Some(close) = self.orders_expire_ms.filter(|&c| now_ms >= c) {
            self.orders_expire_ms = None;
            self.expire_working(close, out);
        }
        let Some(today) = self.day_at(now_ms) else {
            return;
        };
        if let Some(listed) = self.orders_day.filter(|&d| d < today) {
            debug_assert!(self.orders.iter().all(|o| o.remaining == 0));
            log::info!(target: "condor::sim", "{today}: a new order list ({} rows of {listed} closed)", self.orders.len());
            self.orders_day = None;
            self.first_ord_no = self.next_ord_no();
            self.orders.clear();
            for book in &mut self.books {
                book.clear();
            }
        }
    }

    /// Every working order's remainder cancelled by the exchange at `at_ms` (the close).
    fn expire_working(&mut self, at_ms: u64, out: &mut Vec<Event>) {
        let working: Vec<usize> = (0..self.orders.len())
            .filter(|&i| self.orders[i].remaining > 0)
            .collect();
        if !working.is_empty() {
            log::info!(target: "condor::sim", "the close: {} working order(s) expire", working.len());
        }
        for oi in working {
            let c = self.orders[oi].remaining;
            let (ni, before, after) = self.cancel_row(oi, c, at_ms);
            out.push(Event::OrderCancelled(self.snapshot(ni, before, after)));
        }
    }

    fn check_open(&self, now_ms: u64) -> Result<(), Reject> {
        let t = self.clock(now_ms);
        if self.is_open(now_ms) {
            Ok(())
        } else if let Some(day) = self.day_at(now_ms) {
            Err(Reject::new(
                RejectReason::MarketClosed,
                format!("simulated clock {day} {t} is outside the day's session"),
            ))
        } else {
            Err(Reject::new(
                RejectReason::MarketClosed,
                format!("simulated clock {t} is outside 09:00-15:30"),
            ))
        }
    }

    /// `ord_no`: the refused order's own number, 0 when it got none.
    fn reject(
        &self,
        rej: Reject,
        request: RejectedRequest,
        ord_no: i64,
        now_ms: u64,
        out: &mut Vec<Event>,
    ) -> Reject {
        let (time, ms) = self.stamp(now_ms);
        log::debug!(target: "condor::sim", "reject {}: {:?}", rej, request);
        out.push(Event::OrderRejected(RejectEvent {
            reject: rej.clone(),
            request,
            ord_no,
            time,
            ms,
        }));
        rej
    }

    /// CSPAT00601: a new cash order. On success: the ack and an `OrderAccepted` event;
    /// on refusal: the reject, an `OrderRejected` event and no other change.
    pub fn submit(
        &mut self,
        req: NewOrder,
        now_ms: u64,
        out: &mut Vec<Event>,
    ) -> Result<OrderAck, Reject> {
        self.submit_as(req, now_ms, false, out)
    }

    /// As [`Exchange::submit`], for an order system that numbers every order it receives
    /// (Kiwoom's): a refused order of a listed code is kept in the day's list under a
    /// number of its own, nothing working (`Rejected`, 거부), and its `OrderRejected`
    /// event carries that number. UNCONFIRMED (kiwoom-rest.md §4.8, §5.6): that Kiwoom
    /// numbers a refused order and lists it in kt00007; chosen so the day's list is
    /// complete, as the reference says kt00007 is.
    pub fn submit_numbering_refusals(
        &mut self,
        req: NewOrder,
        now_ms: u64,
        out: &mut Vec<Event>,
    ) -> Result<OrderAck, Reject> {
        self.submit_as(req, now_ms, true, out)
    }

    fn submit_as(
        &mut self,
        req: NewOrder,
        now_ms: u64,
        number_refusals: bool,
        out: &mut Vec<Event>,
    ) -> Result<OrderAck, Reject> {
        match self.validate_new(&req, now_ms) {
            Ok(v) => Ok(self.apply_new(&req, v, now_ms, out)),
            Err(rej) => {
                let ord_no = if number_refusals {
                    self.record_refused(&req, now_ms)
                } else {
                    0
                };
                Err(self.reject(rej, RejectedRequest::New(req), ord_no, now_ms, out))
            }
        }
    }

    /// A refused new order's row, when its code is listed: its number, else 0.
    fn record_refused(&mut self, req: &NewOrder, now_ms: u64) -> i64 {
        let Ok((ticker, idx)) = resolve_ticker(self, &req.isu_no) else {
            return 0;
        };
        let (time, ms) = self.stamp(now_ms);
        self.orders_day = self.day_at(now_ms);
        let ord_no = self.next_ord_no();
        let l = &self.listings[idx];
        let price_type = parse_price_type(&req.price_type).unwrap_or(PriceType::Limit);
        self.orders.push(OrderRecord {
            ord_no,
            org_ord_no: 0,
            kind: OrderKind::New,
            ticker,
            market: l.market,
            name: l.name,
            side: req.side,
            price_type,
            qty: u64::try_from(req.qty).unwrap_or(0),
            price: match price_type {
                PriceType::Limit => super::price_of(req.price),
                PriceType::Market => Price::lit(0),
            },
            filled_qty: 0,
            filled_value: 0,
            avg_fill_price: Price::lit(0),
            remaining: 0,
            confirmed_qty: 0,
            status: OrderStatus::Rejected,
            time,
            ms,
            reserved: 0,
        });
        ord_no
    }

    fn validate_new(&self, req: &NewOrder, now_ms: u64) -> Result<ValidNew, Reject> {
        let (ticker, idx) = resolve_ticker(self, &req.isu_no)?;
        let qty = check_qty(req.qty)?;
        let pt = parse_price_type(&req.price_type)?;
        match req.condition.trim() {
            "" | "0" => {}
            c => {
                return Err(Reject::new(
                    RejectReason::UnsupportedCondition,
                    format!("OrdCndiTpCode {c:?}: IOC (1) and FOK (2) are not simulated; send 0"),
                ))
            }
        }
        let limits = self.listings[idx].limits;
        let price = check_price(pt, req.price, &limits)?;
        self.check_open(now_ms)?;
        let mut reserve = 0;
        match req.side {
            Side::Buy => {
                let at = reserve_price(pt, price, &limits);
                let orderable = self.account.orderable();
                reserve = match self.account.buy_reserve(qty, at) {
                    Some(r) if r <= orderable => r,
                    r => {
                        return Err(Reject::new(
                            RejectReason::InsufficientCash,
                            format!(
                                "buy {qty} {ticker} at {at} needs {} won, orderable {orderable}",
                                r.map_or_else(|| "too many".to_owned(), |r| r.to_string())
                            ),
                        ))
                    }
                };
            }
            Side::Sell => {
                let sellable = self.account.positions[idx].sellable();
                if qty > sellable {
                    return Err(Reject::new(
                        RejectReason::InsufficientSellable,
                        format!("sell {qty} {ticker}: sellable {sellable}"),
                    ));
                }
            }
        }
        Ok(ValidNew {
            idx,
            qty,
            price,
            pt,
            reserve,
        })
    }

    fn apply_new(
        &mut self,
        req: &NewOrder,
        v: ValidNew,
        now_ms: u64,
        out: &mut Vec<Event>,
    ) -> OrderAck {
        let (time, ms) = self.stamp(now_ms);
        if self.orders_expire_ms.is_none() {
            self.orders_expire_ms = self.session_close_ms(now_ms);
        }
        self.orders_day = self.day_at(now_ms);
        let ord_no = self.next_ord_no();
        let l = &self.listings[v.idx];
        match req.side {
            Side::Buy => self.account.reserved += v.reserve,
            Side::Sell => self.account.positions[v.idx].working_sell += v.qty,
        }
        self.orders.push(OrderRecord {
            ord_no,
            org_ord_no: 0,
            kind: OrderKind::New,
            ticker: l.ticker,
            market: l.market,
            name: l.name,
            side: req.side,
            price_type: v.pt,
            qty: v.qty,
            price: v.price,
            filled_qty: 0,
            filled_value: 0,
            avg_fill_price: Price::lit(0),
            remaining: v.qty,
            confirmed_qty: 0,
            status: OrderStatus::Accepted,
            time,
            ms,
            reserved: v.reserve,
        });
        self.books[v.idx].push((self.orders.len() - 1) as u32);
        log::debug!(target: "condor::sim", "order {ord_no} accepted: {:?} {} {} @ {} ({})",
            req.side, v.qty, l.ticker, v.price, v.pt.code());
        let snap = self.snapshot(self.orders.len() - 1, 0, 0);
        out.push(Event::OrderAccepted(snap));
        self.ack(self.orders.len() - 1)
    }

    fn ack(&self, oi: usize) -> OrderAck {
        let o = &self.orders[oi];
        OrderAck {
            ord_no: o.ord_no,
            org_ord_no: o.org_ord_no,
            kind: o.kind,
            ticker: o.ticker,
            market: o.market,
            name: o.name,
            side: o.side,
            qty: o.qty,
            price: o.price,
            price_type: o.price_type,
            ord_amt: o.price.won().saturating_mul(o.qty as i64),
            time: o.time,
            ms: o.ms,
        }
    }

    fn snapshot(&self, oi: usize, org_before: u64, org_after: u64) -> OrderSnapshot {
        let o = &self.orders[oi];
        OrderSnapshot {
            kind: o.kind,
            ord_no: o.ord_no,
            org_ord_no: o.org_ord_no,
            ticker: o.ticker,
            market: o.market,
            name: o.name,
            side: o.side,
            price_type: o.price_type,
            qty: o.qty,
            price: o.price,
            org_remaining_before: org_before,
            org_remaining_after: org_after,
            ord_amt: o.price.won().saturating_mul(o.qty as i64),
            time: o.time,
            ms: o.ms,
            cash_after: self.account.cash,
            orderable_after: self.account.orderable(),
        }
    }

    /// Finds the original of a modify/cancel and checks it can still be changed.
    fn resolve_original(&self, org_ord_no: i64, isu_no: &str) -> Result<usize, Reject> {
        let (ticker, _) = resolve_ticker(self, isu_no)?;
        let oi = self.order_index(org_ord_no).ok_or_else(|| {
            Reject::new(
                RejectReason::UnknownOrder,
                format!("no order {org_ord_no} today"),
            )
        })?;
        let o = &self.orders[oi];
        if o.ticker != ticker {
            return Err(Reject::new(
                RejectReason::TickerMismatch,
                format!("order {org_ord_no} is for {}, not {ticker}", o.ticker),
            ));
        }
        if !o.is_working() {
            return Err(Reject::new(
                RejectReason::OrderNotWorking,
                format!(
                    "order {org_ord_no} has nothing working ({})",
                    o.status.label()
                ),
            ));
        }
        Ok(oi)
    }

    /// How much of `remaining` a modify/cancel of `qty` takes: 0 or more than the
    /// remainder means all of it.
    fn portion(qty: i64, remaining: u64) -> Result<u64, Reject> {
        if !(0..=MAX_ORDER_QTY).contains(&qty) {
            return Err(Reject::new(
                RejectReason::BadQty,
                format!("qty {qty} must be 0 (all) ..={MAX_ORDER_QTY}"),
            ));
        }
        let q = qty as u64;
        Ok(if q == 0 || q >= remaining {
            remaining
        } else {
            q
        })
    }

    /// CSPAT00701: modify. On success: the ack (new order number), `OrderAccepted` and
    /// `OrderModified`; on refusal: the reject and an `OrderRejected` event.
    pub fn modify(
        &mut self,
        req: ModifyOrder,
        now_ms: u64,
        out: &mut Vec<Event>,
    ) -> Result<OrderAck, Reject> {
        match self.validate_modify(&req, now_ms) {
            Ok(v) => Ok(self.apply_modify(v, now_ms, out)),
            Err(rej) => Err(self.reject(rej, RejectedRequest::Modify(req), 0, now_ms, out)),
        }
    }

    fn validate_modify(&self, req: &ModifyOrder, now_ms: u64) -> Result<ValidModify, Reject> {
        let oi = self.resolve_original(req.org_ord_no, &req.isu_no)?;
        let o = &self.orders[oi];
        let idx = self.index_of(o.ticker).unwrap_or(0);
        let moved = Self::portion(req.qty, o.remaining)?;
        let pt = parse_price_type(&req.price_type)?;
        let limits = self.listings[idx].limits;
        let price = check_price(pt, req.price, &limits)?;
        self.check_open(now_ms)?;
        let (mut new_reserve, mut org_reserve_after) = (0, 0);
        if o.side == Side::Buy {
            let left = o.remaining - moved;
            org_reserve_after = self
                .account
                .buy_reserve(left, o.reserve_price(&limits))
                .unwrap_or(o.reserved);
            let released = o.reserved - org_reserve_after;
            let at = reserve_price(pt, price, &limits);
            let available = self.account.orderable() + released;
            new_reserve = match self.account.buy_reserve(moved, at) {
                Some(r) if r <= available => r,
                r => {
                    return Err(Reject::new(
                        RejectReason::InsufficientCash,
                        format!(
                            "modify {} to {moved} at {at} needs {} won, available {available}",
                            o.ord_no,
                            r.map_or_else(|| "too many".to_owned(), |r| r.to_string())
                        ),
                    ))
                }
            };
        }
        Ok(ValidModify {
            oi,
            moved,
            price,
            pt,
            new_reserve,
            org_reserve_after,
        })
    }

    fn apply_modify(&mut self, v: ValidModify, now_ms: u64, out: &mut Vec<Event>) -> OrderAck {
        let (time, ms) = self.stamp(now_ms);
        let ord_no = self.next_ord_no();
        let o = &mut self.orders[v.oi];
        let before = o.remaining;
        o.remaining -= v.moved;
        let after = o.remaining;
        self.account.reserved += v.org_reserve_after - o.reserved;
        o.reserved = v.org_reserve_after;
        if o.remaining == 0 {
            o.status = OrderStatus::Closed;
        }
        let new = OrderRecord {
            ord_no,
            org_ord_no: o.ord_no,
            kind: OrderKind::Modify,
            ticker: o.ticker,
            market: o.market,
            name: o.name,
            side: o.side,
            price_type: v.pt,
            qty: v.moved,
            price: v.price,
            filled_qty: 0,
            filled_value: 0,
            avg_fill_price: Price::lit(0),
            remaining: v.moved,
            confirmed_qty: v.moved,
            status: OrderStatus::ModifyConfirmed,
            time,
            ms,
            reserved: v.new_reserve,
        };
        self.account.reserved += v.new_reserve;
        let idx = self.index_of(new.ticker).unwrap_or(0);
        let org_oi = v.oi as u32;
        if after == 0 {
            self.books[idx].retain(|&i| i != org_oi);
        }
        log::debug!(target: "condor::sim", "order {} modified by {ord_no}: {} @ {}",
            new.org_ord_no, v.moved, v.price);
        self.orders.push(new);
        let ni = self.orders.len() - 1;
        // A modified order loses time priority: back of the queue.
        self.books[idx].push(ni as u32);
        let snap = self.snapshot(ni, before, after);
        out.push(Event::OrderAccepted(snap.clone()));
        out.push(Event::OrderModified(snap));
        self.ack(ni)
    }

    /// CSPAT00801: cancel. On success: the ack (the cancel's own order number),
    /// `OrderAccepted` and `OrderCancelled`; on refusal: the reject and `OrderRejected`.
    pub fn cancel(
        &mut self,
        req: CancelOrder,
        now_ms: u64,
        out: &mut Vec<Event>,
    ) -> Result<OrderAck, Reject> {
        let checked = self
            .resolve_original(req.org_ord_no, &req.isu_no)
            .and_then(|oi| {
                let c = Self::portion(req.qty, self.orders[oi].remaining)?;
                self.check_open(now_ms)?;
                Ok((oi, c))
            });
        match checked {
            Ok((oi, c)) => Ok(self.apply_cancel(oi, c, now_ms, out)),
            Err(rej) => Err(self.reject(rej, RejectedRequest::Cancel(req), 0, now_ms, out)),
        }
    }

    fn apply_cancel(&mut self, oi: usize, c: u64, now_ms: u64, out: &mut Vec<Event>) -> OrderAck {
        let (ni, before, after) = self.cancel_row(oi, c, now_ms);
        let snap = self.snapshot(ni, before, after);
        out.push(Event::OrderAccepted(snap.clone()));
        out.push(Event::OrderCancelled(snap));
        self.ack(ni)
    }

    /// Takes `c` shares off order `oi`'s remainder (its reserve released) on a new cancel
    /// row: that row's index and the original's remainder before and after.
    fn cancel_row(&mut self, oi: usize, c: u64, now_ms: u64) -> (usize, u64, u64) {
        let (time, ms) = self.stamp(now_ms);
        let ord_no = self.next_ord_no();
        let idx = self.index_of(self.orders[oi].ticker).unwrap_or(0);
        let limits = self.listings[idx].limits;
        let o = &mut self.orders[oi];
        let before = o.remaining;
        o.remaining -= c;
        let after = o.remaining;
        match o.side {
            Side::Buy => {
                let keep = self
                    .account
                    .buy_reserve(after, o.reserve_price(&limits))
                    .unwrap_or(0)
                    .min(o.reserved);
                self.account.reserved -= o.reserved - keep;
                o.reserved = keep;
            }
            Side::Sell => {
                let p = &mut self.account.positions[idx];
                p.working_sell = p.working_sell.saturating_sub(c);
            }
        }
        if after == 0 {
            o.status = OrderStatus::Closed;
        }
        let row = OrderRecord {
            ord_no,
            org_ord_no: o.ord_no,
            kind: OrderKind::Cancel,
            ticker: o.ticker,
            market: o.market,
            name: o.name,
            side: o.side,
            price_type: o.price_type,
            qty: c,
            price: Price::lit(0),
            filled_qty: 0,
            filled_value: 0,
            avg_fill_price: Price::lit(0),
            remaining: 0,
            confirmed_qty: c,
            status: OrderStatus::CancelConfirmed,
            time,
            ms,
            reserved: 0,
        };
        if after == 0 {
            let org_oi = oi as u32;
            self.books[idx].retain(|&i| i != org_oi);
        }
        log::debug!(target: "condor::sim", "order {} cancelled by {ord_no}: {c}", row.org_ord_no);
        self.orders.push(row);
        (self.orders.len() - 1, before, after)
    }

    /// Fills the working orders of ticker `idx` from one print, pushing one
    /// `OrderFilled` per fill. Called only when the ticker has working orders.
    pub(super) fn match_trade(&mut self, idx: usize, t: &TradeEvent, out: &mut Vec<Event>) {
        let mut book = std::mem::take(&mut self.books[idx]);
        let mut left = t.qty.shares();
        let limits = self.listings[idx].limits;
        let name = self.listings[idx].name;
        let mut any_done = false;
        for &oi in &book {
            if left == 0 {
                break;
            }
            let Some(o) = self.orders.get_mut(oi as usize) else {
                continue;
            };
            let eligible = match (o.price_type, o.side) {
                (PriceType::Market, _) => true,
                (PriceType::Limit, Side::Buy) => t.price <= o.price,
                (PriceType::Limit, Side::Sell) => t.price >= o.price,
            };
            if !eligible || o.remaining == 0 {
                continue;
            }
            let f = o.remaining.min(left);
            left -= f;
            o.remaining -= f;
            o.filled_qty += f;
            o.filled_value += t.price.won() * f as i64;
            o.avg_fill_price = super::price_of(o.filled_value / o.filled_qty as i64);
            let (commission, tax) = match o.side {
                Side::Buy => {
                    let fee = self.account.buy_fill(idx, f, t.price);
                    let keep = self
                        .account
                        .buy_reserve(o.remaining, o.reserve_price(&limits))
                        .unwrap_or(0)
                        .min(o.reserved);
                    self.account.reserved -= o.reserved - keep;
                    o.reserved = keep;
                    (fee, 0)
                }
                Side::Sell => self.account.sell_fill(idx, f, t.price),
            };
            if o.remaining == 0 {
                o.status = OrderStatus::Filled;
                any_done = true;
            }
            self.next_exec_no += 1;
            let pos = self.account.positions[idx];
            out.push(Event::OrderFilled(FillEvent {
                ord_no: o.ord_no,
                org_ord_no: o.org_ord_no,
                exec_no: self.next_exec_no,
                trade_seq: t.seq,
                ticker: o.ticker,
                market: o.market,
                name,
                side: o.side,
                price_type: o.price_type,
                fill_price: t.price,
                fill_qty: f,
                remaining: o.remaining,
                order_qty: o.qty,
                order_price: o.price,
                avg_fill_price: o.avg_fill_price,
                filled_qty: o.filled_qty,
                time: t.time,
                ms: t.ms,
                commission,
                tax,
                cash_after: self.account.cash,
                orderable_after: self.account.orderable(),
                holding_qty_after: pos.qty,
                sellable_after: pos.sellable(),
                holding_avg_price_after: pos.avg_price(),
            }));
        }
        if any_done {
            let orders = &self.orders;
            book.retain(|&oi| orders.get(oi as usize).is_some_and(|o| o.remaining > 0));
        }
        self.books[idx] = book;
    }
}
