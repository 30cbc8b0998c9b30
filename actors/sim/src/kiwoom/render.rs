//! The exchange's events as Kiwoom REAL frames: `0B` per trade of a registered item,
//! `00` per order event (접수 when a new order, modify or cancel is accepted, 체결 per
//! fill with `902` the remainder, 확인 when a modify or cancel is done), `04` after each
//! fill, `02` per condition entry (`I`) or exit (`D`) to the connection that asked for it.
//!
//! Owns no state but the engine's running fill amounts. Must never send `00`/`04` to a
//! connection that did not REG them, nor `02` for a condition another connection runs.
//!
//! A refused request is a `00` with `913` 거부 (reference §5.6), besides the REST `20`:
//! `9203` the refused order's own number (0 for a modify or cancel, or a code not listed),
//! `904` the original of a modify or cancel, `902` 0, and `919` the refusal's code, the
//! one the REST `[2000](code:text)` carries. UNCONFIRMED: that Kiwoom pushes 거부 for an
//! order refused at entry, and that `919` holds a code rather than a sentence; chosen so a
//! client reads it as LS's SC4 (`msgcode`).

use crate::exchange::{price_of, qty_of};
use condor_model::kiwoom::account::Holding;
use condor_model::kiwoom::order::{OrderKind, TradeType};
use condor_model::kiwoom::parse_code;
use condor_model::kiwoom::realtime::{
    side_code, BalanceValues, ConditionChange, ConditionValues, Execution, OrderInfo, OrderValues,
    RealEntry, ServerFrame, TradePrint, TradeValues,
};
use condor_model::market::Price;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::engine::SimState;
use crate::exchange::{
    AlertJob, Event, Exchange, OrderKind as ExKind, OrderSnapshot, PriceType, RejectEvent,
    RejectedRequest, TradeEvent,
};

/// One `0B` frame.
pub(crate) fn trade_frame(t: &TradeEvent) -> String {
    let values = TradeValues::from_print(&TradePrint {
        price: t.price,
        prev_close: t.prev_close,
        qty: t.qty,
        aggressor: t.aggressor,
        cum_volume: t.volume,
        cum_value_millions: t.value / 1_000_000,
        open: t.open,
        high: t.high,
        low: t.low,
        ask: t.best_ask,
        bid: t.best_bid,
        time: t.time,
    });
    ServerFrame::Real(vec![RealEntry::trade(t.ticker, values)]).encode()
}

fn kind(k: ExKind) -> OrderKind {
    match k {
        ExKind::New => OrderKind::New,
        ExKind::Modify => OrderKind::Modify,
        ExKind::Cancel => OrderKind::Cancel,
    }
}

fn trade_type(p: PriceType) -> TradeType {
    match p {
        PriceType::Limit => TradeType::Limit,
        PriceType::Market => TradeType::Market,
    }
}

fn snapshot_info(exchange: &Exchange, s: &OrderSnapshot) -> OrderInfo {
    OrderInfo {
        account: super::account_no(exchange),
        order_no: s.ord_no,
        orig_order_no: s.org_ord_no,
        ticker: s.ticker,
        name: s.name.to_owned(),
        side: s.side,
        kind: kind(s.kind),
        trade_type: trade_type(s.price_type),
        qty: qty_of(s.qty),
        price: s.price,
        time: s.time,
    }
}

/// A refused request as its `00` 거부 tells it; `None` when its code is not a code, or a
/// modify or cancel names no order of the day (no side to tell).
fn rejected_info(exchange: &Exchange, r: &RejectEvent) -> Option<OrderInfo> {
    let f = r.request.fields();
    let kind = match r.request {
        RejectedRequest::New(_) => OrderKind::New,
        RejectedRequest::Modify(_) => OrderKind::Modify,
        RejectedRequest::Cancel(_) => OrderKind::Cancel,
    };
    let ticker = parse_code(f.isu_no)?;
    let original = exchange.order(f.org_ord_no);
    Some(OrderInfo {
        account: super::account_no(exchange),
        order_no: r.ord_no,
        orig_order_no: f.org_ord_no,
        ticker,
        name: exchange.listing(ticker).map_or("", |l| l.name).to_owned(),
        side: f.side.or(original.map(|o| o.side))?,
        kind,
        trade_type: trade_type(
            PriceType::parse(f.price_type)
                .or(original.map(|o| o.price_type))
                .unwrap_or(PriceType::Limit),
        ),
        qty: qty_of(u64::try_from(f.qty).unwrap_or(0)),
        price: price_of(f.price),
        time: r.time,
    })
}

fn real(entry: RealEntry) -> Utf8Bytes {
    ServerFrame::Real(vec![entry]).encode().into()
}

/// Renders `state.events` into each session's pending frames (the engine flushes).
pub(crate) fn dispatch(state: &mut SimState) {
    let mut events = std::mem::take(&mut state.events);
    for ev in events.drain(..) {
        let (orders, balance) = match &ev {
            Event::Trade(t) => {
                let Some(entries) = state.by_ticker.get(&t.ticker) else {
                    continue;
                };
                let frame: Utf8Bytes = trade_frame(t).into();
                for (id, _) in entries {
                    if let Some(s) = state.sessions.get_mut(id) {
                        s.pending.push(Message::Text(frame.clone()));
                    }
                }
                continue;
            }
            Event::ConditionAlert(a) => {
                let Some(ids) = state.by_alert.get(&a.alert_num) else {
                    continue;
                };
                let Some(ticker) = parse_code(&a.code) else {
                    log::debug!(target: "condor::sim", "condition {}: code {:?} is not six digits; no 02 push", a.query_index, a.code);
                    continue;
                };
                let change = match a.job {
                    AlertJob::Enter | AlertJob::Reenter => ConditionChange::Enter,
                    AlertJob::Exit => ConditionChange::Exit,
                };
                for id in ids {
                    let Some(s) = state.sessions.get_mut(id) else {
                        continue;
                    };
                    let Some(seq) = s.kiwoom.seq_of(&a.alert_num) else {
                        continue;
                    };
                    let values = ConditionValues::new(seq, ticker, change, a.time);
                    s.pending
                        .push(Message::Text(real(RealEntry::condition(ticker, values))));
                }
                continue;
            }
            Event::OrderAccepted(s) => {
                let info = snapshot_info(&state.exchange, s);
                (
                    Some(real(RealEntry::order(
                        s.ticker,
                        OrderValues::accepted(&info),
                    ))),
                    None,
                )
            }
            Event::OrderModified(s) | Event::OrderCancelled(s) => {
                let info = snapshot_info(&state.exchange, s);
                (
                    Some(real(RealEntry::order(
                        s.ticker,
                        OrderValues::confirmed(&info),
                    ))),
                    None,
                )
            }
            Event::OrderFilled(f) => {
                let (order_kind, price_type) = state
                    .exchange
                    .order(f.ord_no)
                    .map_or((ExKind::New, f.price_type), |o| (o.kind, o.price_type));
                let info = OrderInfo {
                    account: super::account_no(&state.exchange),
                    order_no: f.ord_no,
                    orig_order_no: f.org_ord_no,
                    ticker: f.ticker,
                    name: f.name.to_owned(),
                    side: f.side,
                    kind: kind(order_kind),
                    trade_type: trade_type(price_type),
                    qty: qty_of(f.order_qty),
                    price: f.order_price,
                    time: f.time,
                };
                let amount = state.filled_amount.entry(f.ord_no).or_insert(0);
                *amount += f.fill_price.won() * f.fill_qty as i64;
                let exec = Execution {
                    exec_no: f.exec_no,
                    price: f.fill_price,
                    qty: qty_of(f.fill_qty),
                    cum_qty: qty_of(f.filled_qty),
                    cum_amount: *amount,
                    remaining: qty_of(f.remaining),
                };
                let order = OrderValues {
                    time: f.time.hhmmss(),
                    ..OrderValues::filled(&info, &exec)
                };
                let prev = state
                    .exchange
                    .listing(f.ticker)
                    .map_or(Price::lit(0), |l| l.prev_close);
                let holding = Holding {
                    ticker: f.ticker,
                    qty: qty_of(f.holding_qty_after),
                    sellable: qty_of(f.sellable_after),
                    avg_price: f.holding_avg_price_after,
                };
                let bal = BalanceValues {
                    side: side_code(f.side).to_owned(),
                    ..BalanceValues::new(&info.account, f.name, &holding, f.fill_price, prev)
                };
                (
                    Some(real(RealEntry::order(f.ticker, order))),
                    Some(real(RealEntry::balance(f.ticker, bal))),
                )
            }
            Event::OrderRejected(r) => {
                let Some(info) = rejected_info(&state.exchange, r) else {
                    continue;
                };
                let (code, _) = super::tr::reject_code(&r.reject);
                (
                    Some(real(RealEntry::order(
                        info.ticker,
                        OrderValues::rejected(&info, code),
                    ))),
                    None,
                )
            }
        };
        for s in state.sessions.values_mut() {
            if let Some(f) = orders.as_ref().filter(|_| s.kiwoom.orders) {
                s.pending.push(Message::Text(f.clone()));
            }
            if let Some(f) = balance.as_ref().filter(|_| s.kiwoom.balance) {
                s.pending.push(Message::Text(f.clone()));
            }
        }
    }
    state.events = events;
}

#[cfg(test)]
mod tests {
    use super::*;
    use condor_model::kiwoom::realtime::{decode_server_frame, RealValues};
    use condor_model::market::{Market, Qty, Side, Ticker, TimeOfDay};

    #[test]
    fn a_trade_renders_as_a_0b_the_wire_crate_reads_back() {
        let t = TradeEvent {
            seq: 7,
            ticker: Ticker::parse("005930").unwrap(),
            market: Market::Kospi,
            time: TimeOfDay::hms(9, 8, 51),
            ms: 5,
            price: Price::lit(55_500),
            qty: Qty::lit(12),
            aggressor: Side::Sell,
            prev_close: Price::lit(56_000),
            upper_limit: Price::lit(72_800),
            lower_limit: Price::lit(39_200),
            open: Price::lit(55_600),
            high: Price::lit(56_100),
            low: Price::lit(55_500),
            open_time: TimeOfDay::hms(9, 0, 30),
            high_time: TimeOfDay::hms(9, 5, 4),
            low_time: TimeOfDay::hms(9, 8, 51),
            volume: 10_887,
            value: 604_123_456,
            sell_volume: 946,
            sell_count: 23,
            buy_volume: 3_146,
            buy_count: 96,
            vwap: Price::lit(55_448),
            best_ask: Price::lit(55_600),
            best_bid: Price::lit(55_500),
            prev_day_volume: 2_508_350,
        };
        let text = trade_frame(&t);
        assert!(
            text.starts_with(r#"{"trnm":"REAL","data":[{"type":"0B""#),
            "the malformed-frame fault recognises it: {text}"
        );
        let ServerFrame::Real(entries) = decode_server_frame(&text).unwrap() else {
            panic!("{text}")
        };
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].item, "005930");
        let RealValues::Trade(v) = &entries[0].values else {
            panic!("{text}")
        };
        assert_eq!(v.price, "-55500", "below the prior close");
        assert_eq!(v.qty, "-12", "seller-initiated");
        assert_eq!(v.change, "-500");
        assert_eq!(v.high, "+56100");
        assert_eq!(v.cum_value, "604", "millions of won");
        assert_eq!(v.time, "090851");
        let tick = v
            .to_tick(&entries[0].item, std::time::Instant::now())
            .unwrap();
        assert_eq!(tick.price, Price::lit(55_500));
        assert_eq!(tick.prev_close, Price::lit(56_000));
        assert_eq!(tick.aggressor, Side::Sell);
        assert_eq!(tick.cum_volume, 10_887);
    }

    /// A buy of a billion shares: refused on REST, kept in the day's list under a number
    /// of its own, and told as a `00` 거부 that the wire crate reads as a reject of that
    /// number with the REST refusal's code.
    #[test]
    fn a_refused_order_is_told_as_a_00_rejection_under_its_own_number() {
        use crate::exchange::{ExchangeConfig, NewOrder, OrderStatus as ExStatus};
        use condor_model::domain::{AccountEvent, OrderNo};
        let buy = |isu_no: String, qty: i64, price: i64| NewOrder {
            isu_no,
            qty,
            price,
            side: Side::Buy,
            price_type: "00".into(),
            condition: "0".into(),
        };
        let mut ex = Exchange::new(ExchangeConfig::default());
        let l = ex.listings()[0].clone();
        let mut out = Vec::new();
        let refused = ex
            .submit_numbering_refusals(
                buy(l.ticker.to_string(), 99_999_999, l.prev_close.won()),
                1_000,
                &mut out,
            )
            .unwrap_err();
        let row = ex.orders().last().expect("the refused order's row");
        assert_eq!(
            (row.status, row.remaining, row.filled_qty, row.qty),
            (ExStatus::Rejected, 0, 0, 99_999_999)
        );
        let Some(Event::OrderRejected(r)) = out.last() else {
            panic!("{out:?}")
        };
        assert_eq!(r.ord_no, row.ord_no);
        let info = rejected_info(&ex, r).expect("a listed code");
        let (code, _) = crate::kiwoom::tr::reject_code(&refused);
        let text = ServerFrame::Real(vec![RealEntry::order(
            info.ticker,
            OrderValues::rejected(&info, code),
        )])
        .encode();
        assert!(text.contains(r#""913":"거부""#), "{text}");
        let ServerFrame::Real(entries) = decode_server_frame(&text).unwrap() else {
            panic!("{text}")
        };
        let RealValues::Order(v) = &entries[0].values else {
            panic!("{text}")
        };
        assert_eq!(v.unfilled_qty, "0");
        assert_eq!(
            v.account_event(&entries[0].item).unwrap(),
            AccountEvent::Rejected {
                order_no: OrderNo(row.ord_no),
                org_order_no: OrderNo::NONE,
                code: code.to_owned(),
                qty: Qty::lit(99_999_999),
            }
        );
        // An unlisted code gets no number and no row.
        let before = ex.orders().len();
        let mut out = Vec::new();
        ex.submit_numbering_refusals(buy("999999".into(), 1, 1_000), 1_000, &mut out)
            .unwrap_err();
        assert_eq!(ex.orders().len(), before);
        assert!(matches!(out.last(), Some(Event::OrderRejected(r)) if r.ord_no == 0));
    }
}
