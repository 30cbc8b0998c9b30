//! The backtest: recorded days fed through the same trading core `condor run` drives (the
//! strategies' [`StrategyDesk`] and the [`OrderDesk`]: risk gate, order rate, price bands,
//! order state machine, kill switch), on the tape's clock, single-threaded and
//! deterministic, with a fill model (`fills`) in the exchange's place and the same
//! [`Ledger`](crate::ledger::Ledger) and [`FeeSchedule`] for the books.
//!
//! Per day, in the tape's order: each trade first fills what it reaches of the orders
//! working in the model (handed to the order desk as SC1 events after the strategies have
//! seen the trade, as live fills arrive after their print); the strategies' intents go to
//! the order desk, whose commands this module carries out as the OrderManager does live:
//! a price band from the day's previous close, a send answered by the exchange's cash check
//! and worked by the model from the intent's time plus the latency, a cancel, a wake-up at
//! a later tape time. Condition events and timer firings are the tape's own, with their
//! recorded market times (a tape without a start record, e.g. imported from CSV, gets a
//! timer at each new second of trade time instead). At the day's end what still works is
//! cancelled, as the exchange does at the close. A ticker's trades reach the strategies
//! only while it is watched, as live only a subscribed StockFeed brings them: from its
//! entry until it has left the condition and is flat (the fill model sees every trade).
//!
//! With `FillSource::Recorded` no order is worked: the fills and order ends the live run
//! received are delivered where the tape has them, so a live-recorded day books exactly
//! the live P&L. What the model does not capture is in `fills`'s docs and the README.
//!
//! Must never read a clock, do I/O or draw randomness of its own: the same tapes and
//! settings give the same report on any machine.

pub mod charts;
pub mod fills;
pub mod report;
pub mod sweep;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::clock::{kst_time_of_day, TradingDay};
use crate::kill_switch::TripCause;
use crate::ledger::FeeSchedule;
use crate::market::{DailyLimits, Price, Side, Ticker, TimeOfDay};
use crate::messages::ConditionId;
use crate::messages::{
    AccountEvent, ClientOrderId, ExecNo, Fill, OrderDone, OrderIntent, OrderNo, OrderType,
};
use crate::risk::RiskLimits;
use crate::strategy::StrategyFactory;
use crate::tape::{TapeEvent, TapeRecord};
use crate::trading::orders::{
    Band, CancelReply, Command, OrderDesk, OrderReply, RateExcess, Stamp, Timer,
};
use crate::trading::replay::IntentRow;
use crate::trading::StrategyDesk;
use fills::{FillModel, Latency, ModelFill};
use report::{Books, Counted, EquityPoint, FillRow, Report};

/// Where fills come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillSource {
    /// The fill model over the tape's later trades.
    Model,
    /// The fills the live run received, where the tape has them.
    Recorded,
}

/// How the backtest trades.
#[derive(Clone, Debug)]
pub struct Settings {
    pub risk: RiskLimits,
    pub fees: FeeSchedule,
    /// Opening cash in won.
    pub cash: i64,
    pub fills: FillSource,
    /// Days carry cash and positions over; otherwise each starts afresh from `cash`.
    pub carry: bool,
    /// The order rate the order desk keeps (`CONDOR_ORDERS_PER_SEC`); intents over it wait.
    pub orders_per_sec: u32,
    /// Keep every intent for [`Outcome::intents`]. Off, memory does not grow with them: a
    /// strategy whose entries the gate keeps refusing asks again on every trade.
    pub keep_intents: bool,
}

/// Everything a backtest produced.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub fills: Vec<FillRow>,
    pub curve: Vec<EquityPoint>,
    /// Every intent the strategies produced, in order, by day (with
    /// [`Settings::keep_intents`]).
    pub intents: Vec<(String, IntentRow)>,
}

/// The exchange's view of one order the model works: what a buy set aside.
#[derive(Clone, Copy, Debug)]
struct Working {
    reserved: i64,
}

/// One day's run: the strategies' desk and the order desk of the trading core, the fill
/// model in the exchange's place, and the timers the order desk asked for.
struct DayRun<'a> {
    settings: &'a Settings,
    desk: StrategyDesk,
    orders: OrderDesk,
    model: FillModel,
    /// Orders the model works, by client id, and the cash they set aside.
    working: HashMap<u64, Working>,
    reserved: i64,
    refs: HashMap<Ticker, (Price, DailyLimits)>,
    /// The order desk's wake-ups, by tape time.
    timers: BTreeMap<i64, Vec<Timer>>,
    /// Per ticker, the recorded conditions listing it now (the backtest trades one
    /// strategy: a ticker is in "the condition" while any recorded condition lists it),
    /// and the tickers whose trades the strategies get: live, a ticker is watched (its
    /// StockFeed subscribed) from its entry until it has left every condition and holds
    /// nothing and has no order working.
    listed: HashMap<Ticker, BTreeSet<ConditionId>>,
    watched: HashSet<Ticker>,
    base: Instant,
    base_ns: Option<i64>,
    exec_no: i64,
    cancel_no: i64,
    tripped: bool,
    opening_equity: i64,
    intents: Vec<OrderIntent>,
    commands: Vec<Command>,
    model_fills: Vec<ModelFill>,
    out_intents: Vec<(String, IntentRow)>,
    day: String,
}

impl DayRun<'_> {
    /// Tape time `ns` as the engine's monotonic clock.
    fn instant(&mut self, ns: i64) -> Instant {
        let base_ns = *self.base_ns.get_or_insert(ns);
        self.base + Duration::from_nanos(u64::try_from(ns.saturating_sub(base_ns)).unwrap_or(0))
    }

    /// The order desk's view of tape time `ns`.
    fn stamp(&mut self, ns: i64) -> Stamp {
        let base_ns = *self.base_ns.get_or_insert(ns);
        let since = u64::try_from(ns.saturating_sub(base_ns)).unwrap_or(0);
        let unix_ms = ns.div_euclid(1_000_000);
        Stamp {
            at: self.base + Duration::from_nanos(since),
            day: TradingDay::from_unix_ms(unix_ms),
            time: kst_time_of_day(Duration::from_millis(u64::try_from(unix_ms).unwrap_or(0))),
            unix_ms,
        }
    }

    /// Fires the order desk's wake-ups due by `ns`, in time order.
    fn fire_timers(&mut self, books: &mut Books, ns: i64) {
        while let Some((&due, _)) = self.timers.iter().next().filter(|(d, _)| **d <= ns) {
            let list = self.timers.remove(&due).unwrap_or_default();
            for timer in list {
                let now = self.stamp(due);
                self.orders.timer(timer, now, &mut self.commands);
                self.carry_out(books, due);
            }
        }
    }

    /// Hands the strategies' intents to the order desk.
    fn place_intents(&mut self, books: &mut Books, ns: i64) {
        let intents = std::mem::take(&mut self.intents);
        for intent in &intents {
            if self.settings.keep_intents {
                self.out_intents
                    .push((self.day.clone(), IntentRow::of(intent)));
            }
            if self.settings.fills == FillSource::Recorded {
                continue;
            }
            let now = self.stamp(ns);
            self.orders.intent(intent.clone(), now, &mut self.commands);
            self.carry_out(books, ns);
        }
        self.intents = intents;
        self.intents.clear();
    }

    /// Carries out what the order desk decided, as the OrderManager does live, with the
    /// fill model and the exchange's cash check in the broker's place.
    fn carry_out(&mut self, books: &mut Books, ns: i64) {
        while !self.commands.is_empty() {
            let commands = std::mem::take(&mut self.commands);
            for command in commands {
                let now = self.stamp(ns);
                match command {
                    Command::FetchBand(ticker) => {
                        let band = self.refs.get(&ticker).map(|(last, limits)| Band {
                            limits: *limits,
                            last: Some(*last),
                        });
                        self.orders.band(ticker, band, now, &mut self.commands);
                    }
                    Command::Send { id, .. } => self.send(id, books, ns),
                    Command::Cancel { id, order_no, .. } => {
                        if let Some(left) = self.model.cancel(id.0) {
                            if let Some(w) = self.working.remove(&id.0) {
                                self.reserved -= w.reserved;
                            }
                            self.cancel_no += 1;
                            let cancel_no = OrderNo(1_000_000_000 + self.cancel_no);
                            self.orders.cancel_reply(
                                id,
                                CancelReply::Accepted {
                                    order_no: cancel_no,
                                },
                            );
                            books.count(Counted::Cancelled);
                            self.orders.account_event(
                                AccountEvent::Cancelled {
                                    order_no: cancel_no,
                                    org_order_no: order_no,
                                    qty: left,
                                },
                                now,
                                &mut self.commands,
                            );
                        }
                    }
                    Command::Wake { timer, after } => {
                        let due =
                            ns.saturating_add(i64::try_from(after.as_nanos()).unwrap_or(i64::MAX));
                        self.timers.entry(due).or_default().push(timer);
                    }
                    Command::Fill(fill) => {
                        books.fill(&fill, ns);
                        self.desk.on_fill(&fill);
                        self.unwatch_if_done(fill.ticker);
                        self.after_money_moved(books, ns);
                    }
                    Command::Done(done) => {
                        let _ = self.desk.on_order_done(&done);
                        self.unwatch_if_done(done.ticker);
                    }
                    Command::Refused(_) => books.count(Counted::Refused),
                    // No journal, no broker list, no account to reconcile: the model is
                    // the exchange and knows every order.
                    Command::Journal { .. }
                    | Command::FetchOrders
                    | Command::CheckCash
                    | Command::CorrectCash(_)
                    | Command::Finished(_)
                    | Command::Tripped(_) => {}
                }
            }
        }
    }

    /// Stops feeding `ticker`'s trades to the strategies once it has left the condition
    /// and is flat, as the Supervisor stops its feed live.
    fn unwatch_if_done(&mut self, ticker: Ticker) {
        if !self.listed.contains_key(&ticker) && self.desk.is_flat(ticker) {
            self.watched.remove(&ticker);
        }
    }

    /// The exchange's answer to a new order: refused for cash (a buy sets aside its limit,
    /// or the upper limit for a market buy, and the commission) or for shares, else
    /// accepted and worked by the model.
    fn send(&mut self, id: ClientOrderId, books: &mut Books, ns: i64) {
        let now = self.stamp(ns);
        let Some(order) = self.orders.book().get(id) else {
            return;
        };
        let (ticker, side, qty, order_type) = (
            order.ticker(),
            order.side(),
            order.qty(),
            order.order_type(),
        );
        books.count(Counted::Order);
        let reference = self.refs.get(&ticker).copied();
        let reserved = if side == Side::Buy {
            let price = match order_type {
                OrderType::Limit(p) => p,
                OrderType::Market => reference.map_or(Price::lit(0), |r| r.1.upper),
            };
            let value = crate::market::notional(price, qty);
            value.saturating_add(self.settings.fees.fee(&Fill {
                ticker,
                side: Side::Buy,
                price,
                qty,
                order_no: OrderNo::NONE,
                time: now.time,
            }))
        } else {
            0
        };
        let held = books.ledger().held_qty(ticker).shares();
        let selling: u64 = self
            .orders
            .book()
            .working()
            .filter(|o| o.ticker() == ticker && o.side() == Side::Sell && o.id() != id)
            .map(|o| o.remaining().shares())
            .sum();
        let short = side == Side::Sell && qty.shares() > held.saturating_sub(selling);
        let reply = if reserved > books.cash().saturating_sub(self.reserved) || short {
            books.count(Counted::Rejected);
            OrderReply::Rejected {
                code: "MODEL".to_owned(),
                message: if short {
                    "not enough shares to sell".to_owned()
                } else {
                    "not enough cash".to_owned()
                },
            }
        } else {
            self.reserved = self.reserved.saturating_add(reserved);
            self.working.insert(id.0, Working { reserved });
            self.model.submit(id.0, ticker, side, qty, order_type, ns);
            OrderReply::Acked {
                order_no: OrderNo(i64::try_from(id.0).unwrap_or(i64::MAX)),
                code: "MODEL".to_owned(),
            }
        };
        self.orders.order_reply(id, reply, now, &mut self.commands);
    }

    /// Hands the fills the model made on the last trade to the order desk, as SC1 events.
    fn deliver_fills(&mut self, books: &mut Books, ns: i64, time: TimeOfDay) {
        let fills = std::mem::take(&mut self.model_fills);
        for f in &fills {
            self.exec_no += 1;
            if let Some(w) = self.working.get_mut(&f.id) {
                if f.side == Side::Buy {
                    // The reserve shrinks with what the fill used (never below zero).
                    let used = crate::market::notional(f.price, f.qty).min(w.reserved);
                    w.reserved -= used;
                    self.reserved -= used;
                }
                if f.remaining.shares() == 0 {
                    self.reserved -= w.reserved;
                    self.working.remove(&f.id);
                }
            }
            let now = self.stamp(ns);
            self.orders.account_event(
                AccountEvent::Filled {
                    order_no: OrderNo(i64::try_from(f.id).unwrap_or(i64::MAX)),
                    exec_no: ExecNo(self.exec_no),
                    ticker: f.ticker,
                    side: f.side,
                    qty: f.qty,
                    price: f.price,
                    remaining: f.remaining,
                    time,
                },
                now,
                &mut self.commands,
            );
            self.carry_out(books, ns);
        }
        self.model_fills = fills;
        self.model_fills.clear();
    }

    /// The day's loss limit, as the Portfolio trips it live: the order desk's kill switch.
    fn after_money_moved(&mut self, books: &Books, ns: i64) {
        if self.tripped {
            return;
        }
        let pnl = books.equity().saturating_sub(self.opening_equity);
        let limit = self.settings.risk.daily_loss_limit;
        if pnl <= -limit {
            self.tripped = true;
            let now = self.stamp(ns);
            self.orders
                .trip(TripCause::LossLimit { pnl, limit }, now, &mut self.commands);
        }
    }
}

/// Runs a backtest over `days` (day name and its records, in date order) with a fresh
/// strategy factory from `factory` for each day and the latency from `latency`.
pub fn run<'a, E>(
    days: impl IntoIterator<Item = (String, Box<dyn Iterator<Item = Result<TapeRecord, E>> + 'a>)>,
    settings: &Settings,
    mut factory: impl FnMut() -> Box<dyn StrategyFactory>,
    mut latency: impl FnMut(&str) -> Latency,
) -> Result<Outcome, E> {
    let mut all: Vec<(Report, Vec<FillRow>, Vec<EquityPoint>)> = Vec::new();
    let mut intents = Vec::new();
    let mut carried: Option<Books> = None;
    for (day, records) in days {
        let mut books = match carried.take() {
            Some(b) => b,
            None => Books::new(settings.cash, settings.fees),
        };
        books.start_day(&day);
        let mut run = DayRun {
            settings,
            desk: StrategyDesk::new(factory()),
            orders: OrderDesk::new(settings.risk)
                .with_order_rate(settings.orders_per_sec, RateExcess::Queue),
            model: FillModel::new(latency(&day)),
            working: HashMap::new(),
            reserved: 0,
            refs: HashMap::new(),
            timers: BTreeMap::new(),
            listed: HashMap::new(),
            watched: HashSet::new(),
            base: Instant::now(),
            base_ns: None,
            exec_no: 0,
            cancel_no: 0,
            tripped: false,
            opening_equity: books.equity(),
            intents: Vec::new(),
            commands: Vec::new(),
            model_fills: Vec::new(),
            out_intents: Vec::new(),
            day: day.clone(),
        };
        // Carried positions: the strategies learn them as a live start tells them.
        for (ticker, p) in books.ledger().positions() {
            if !p.is_flat() {
                run.desk.on_fill(&Fill {
                    ticker,
                    side: Side::Buy,
                    price: p.avg_price().unwrap_or_default(),
                    qty: p.qty,
                    order_no: OrderNo::NONE,
                    time: TimeOfDay::hms(9, 0, 0),
                });
                run.watched.insert(ticker);
            }
        }
        let mut synthetic_timers = true;
        let mut market_second: Option<TimeOfDay> = None;
        for record in records {
            let r = record?;
            let ns = r.recv_ns;
            books.at(ns);
            run.fire_timers(&mut books, ns);
            match &r.event {
                TapeEvent::Started { .. } => synthetic_timers = false,
                TapeEvent::Trade(t) => {
                    if synthetic_timers && market_second.is_some_and(|s| t.exchange_time > s) {
                        run.desk.on_timer(t.exchange_time, &mut run.intents);
                        run.place_intents(&mut books, ns);
                    }
                    if market_second.is_none_or(|s| t.exchange_time > s) {
                        market_second = Some(t.exchange_time);
                    }
                    run.refs
                        .entry(t.ticker)
                        .or_insert_with(|| (t.price, DailyLimits::from_base(t.prev_close)))
                        .0 = t.price;
                    if settings.fills == FillSource::Model {
                        run.model.on_trade(t, ns, &mut run.model_fills);
                    }
                    books.mark(t.ticker, t.price, ns);
                    run.after_money_moved(&books, ns);
                    run.carry_out(&mut books, ns);
                    if run.watched.contains(&t.ticker) {
                        let tick = t.to_tick(run.instant(ns));
                        run.desk.on_tick(&tick, &mut run.intents);
                        if run.desk.has_jobs() {
                            run.desk.run_jobs_inline(&mut run.intents);
                        }
                        run.place_intents(&mut books, ns);
                    }
                    run.deliver_fills(&mut books, ns, t.exchange_time);
                }
                TapeEvent::ConditionEnter {
                    ticker,
                    market_time,
                    condition,
                } => {
                    let listing = run.listed.entry(*ticker).or_default();
                    let first = listing.is_empty();
                    listing.insert(*condition);
                    run.watched.insert(*ticker);
                    if first {
                        run.desk
                            .on_condition_enter(ConditionId::FIRST, *ticker, *market_time);
                    }
                }
                TapeEvent::ConditionExit {
                    ticker,
                    market_time,
                    condition,
                } => {
                    let Some(listing) = run.listed.get_mut(ticker) else {
                        continue;
                    };
                    listing.remove(condition);
                    if listing.is_empty() {
                        run.listed.remove(ticker);
                        run.desk
                            .on_condition_exit(ConditionId::FIRST, *ticker, *market_time);
                        run.unwatch_if_done(*ticker);
                    }
                }
                TapeEvent::Timer { market_time } => {
                    run.desk.on_timer(*market_time, &mut run.intents);
                    run.place_intents(&mut books, ns);
                }
                TapeEvent::Fill(f) if settings.fills == FillSource::Recorded => {
                    // A fill with no order number is a restart telling the strategies
                    // what is held, not an execution.
                    if f.order_no != OrderNo::NONE {
                        books.fill(f, ns);
                    }
                    run.desk.on_fill(f);
                    run.watched.insert(f.ticker);
                    run.unwatch_if_done(f.ticker);
                }
                TapeEvent::OrderDone {
                    id,
                    ticker,
                    side,
                    filled,
                    rejected,
                } if settings.fills == FillSource::Recorded => {
                    run.desk.on_order_done(&OrderDone {
                        id: id.map(ClientOrderId),
                        ticker: *ticker,
                        side: *side,
                        filled: *filled,
                        rejected: *rejected,
                    });
                    run.unwatch_if_done(*ticker);
                }
                _ => {}
            }
        }
        // The close: the exchange cancels what still works.
        let close = books.last_ns();
        run.fire_timers(&mut books, close);
        let now = run.stamp(close);
        run.orders.cancel_all_working(now, &mut run.commands);
        run.carry_out(&mut books, close);
        intents.append(&mut run.out_intents);
        if settings.carry {
            carried = Some(books);
        } else {
            all.push(books.finish());
        }
    }
    if let Some(books) = carried {
        all.push(books.finish());
    }
    let (report, fills, curve) = report::combine(all);
    Ok(Outcome {
        report,
        fills,
        curve,
        intents,
    })
}

/// Intent→fill latencies a live-recorded day shows: for each live intent, the time to the
/// first fill of its ticker and side after it. Empty for a tape with no live trading.
/// Takes the records one at a time, so a day can be streamed through it.
pub fn recorded_latencies<R: std::borrow::Borrow<TapeRecord>>(
    records: impl IntoIterator<Item = R>,
) -> Vec<u64> {
    let mut waiting: BTreeMap<(Ticker, bool), Vec<i64>> = BTreeMap::new();
    let mut out = Vec::new();
    for r in records {
        let r = r.borrow();
        match &r.event {
            TapeEvent::Intent(i) => waiting
                .entry((i.ticker, i.side == Side::Buy))
                .or_default()
                .push(r.recv_ns),
            TapeEvent::Fill(f) if f.order_no != OrderNo::NONE => {
                if let Some(list) = waiting.get_mut(&(f.ticker, f.side == Side::Buy)) {
                    if !list.is_empty() {
                        let at = list.remove(0);
                        out.push(u64::try_from(r.recv_ns.saturating_sub(at)).unwrap_or(0));
                    }
                }
            }
            _ => {}
        }
    }
    out
}
