//! The backtest: recorded days fed through the same trading core `condor run` drives
//! (the strategies' [`StrategyDesk`], the risk gate [`risk::check`], the order book's
//! state machine, the [`Ledger`] and [`FeeSchedule`]), on the tape's clock, single-threaded
//! and deterministic, with a fill model (`fills`) in place of the exchange.
//!
//! Per day, in the tape's order: each trade first fills what it reaches of the orders
//! working in the model (delivered to the strategy after the trade, as live fills arrive
//! after their print), then goes to the strategies; their intents pass the gate and the
//! exchange's cash check and are worked by the model from the intent's time plus the
//! latency. Condition events and timer firings are the tape's own, with their recorded
//! market times (a tape without a start record, e.g. imported from CSV, gets a timer at
//! each new second of trade time instead). At the day's end what still works is cancelled,
//! as the exchange does at the close.
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

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use crate::ledger::FeeSchedule;
use crate::market::{DailyLimits, Price, Qty, Side, Ticker, TimeOfDay};
use crate::messages::{ClientOrderId, Fill, OrderDone, OrderIntent, OrderType};
use crate::order::OrderBook;
use crate::risk::{self, RiskLimits};
use crate::strategy::StrategyFactory;
use crate::tape::{TapeEvent, TapeRecord};
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
}

/// Everything a backtest produced.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub fills: Vec<FillRow>,
    pub curve: Vec<EquityPoint>,
    /// Every intent the strategies produced, in order, by day.
    pub intents: Vec<(String, IntentRow)>,
}

/// One order the backtest works.
#[derive(Clone, Copy, Debug)]
struct Working {
    ticker: Ticker,
    side: Side,
    filled: u64,
    /// Won set aside for a buy (the exchange's cash check).
    reserved: i64,
}

/// One day's run: the desk, the gate's view and the model.
struct DayRun<'a> {
    settings: &'a Settings,
    desk: StrategyDesk,
    model: FillModel,
    book: OrderBook,
    working: HashMap<u64, Working>,
    reserved: i64,
    refs: HashMap<Ticker, (Price, DailyLimits)>,
    base: Instant,
    base_ns: Option<i64>,
    orders_today: u32,
    exec_no: i64,
    kill_switch: bool,
    opening_equity: i64,
    intents: Vec<OrderIntent>,
    model_fills: Vec<ModelFill>,
    out_intents: Vec<(String, IntentRow)>,
    day: String,
}

impl DayRun<'_> {
    fn instant(&mut self, ns: i64) -> Instant {
        let base_ns = *self.base_ns.get_or_insert(ns);
        self.base + Duration::from_nanos(u64::try_from(ns.saturating_sub(base_ns)).unwrap_or(0))
    }

    /// Gate, cash check and model for each intent the desk just produced.
    fn place_intents(&mut self, books: &mut Books, ns: i64, time: TimeOfDay) {
        let intents = std::mem::take(&mut self.intents);
        for intent in &intents {
            self.out_intents
                .push((self.day.clone(), IntentRow::of(intent)));
            if self.settings.fills == FillSource::Recorded {
                continue;
            }
            self.place(intent, books, ns, time);
        }
        self.intents = intents;
        self.intents.clear();
    }

    fn place(&mut self, intent: &OrderIntent, books: &mut Books, ns: i64, time: TimeOfDay) {
        let now = self.instant(ns);
        let reference = self.refs.get(&intent.ticker).copied();
        let view = risk::GateView {
            last_price: reference.map(|r| r.0),
            band: reference.as_ref().map(|r| &r.1),
            ledger: books.ledger(),
            book: &self.book,
            orders_today: self.orders_today,
            kill_switch_on: self.kill_switch,
        };
        let refused = risk::check(intent, &view, &self.settings.risk).is_err();
        let opened = if refused {
            None
        } else {
            self.book.open(intent, now).ok()
        };
        let Some(id) = opened else {
            books.count(Counted::Refused);
            self.done(intent.ticker, intent.side, None, 0, true);
            return;
        };
        let _ = self.book.sent(id, now);
        self.orders_today = self.orders_today.saturating_add(1);
        books.count(Counted::Order);
        // The exchange's cash check: a buy reserves its limit (or the upper limit for a
        // market buy) and the commission on it.
        let reserved = if intent.side == Side::Buy {
            let price = match intent.order_type {
                OrderType::Limit(p) => p,
                OrderType::Market => reference.map_or(Price(0), |r| r.1.upper),
            };
            let value = crate::market::notional(price, intent.qty).unwrap_or(i64::MAX);
            value.saturating_add(self.settings.fees.fee(&Fill {
                ticker: intent.ticker,
                side: Side::Buy,
                price,
                qty: intent.qty,
                order_no: 0,
                time,
            }))
        } else {
            0
        };
        let held = books.ledger().held_qty(intent.ticker).0;
        let selling = self
            .working
            .values()
            .filter(|w| w.ticker == intent.ticker && w.side == Side::Sell)
            .map(|w| w.filled)
            .sum::<u64>();
        let short = intent.side == Side::Sell && intent.qty.0 > held.saturating_sub(selling);
        if reserved > books.cash().saturating_sub(self.reserved) || short {
            let _ = self
                .book
                .rejected(id, "MODEL", "refused by the exchange", now);
            books.count(Counted::Rejected);
            self.done(intent.ticker, intent.side, Some(id), 0, true);
            return;
        }
        let _ = self
            .book
            .acked(id, i64::try_from(id.0).unwrap_or(i64::MAX), now);
        self.reserved = self.reserved.saturating_add(reserved);
        self.working.insert(
            id.0,
            Working {
                ticker: intent.ticker,
                side: intent.side,
                filled: 0,
                reserved,
            },
        );
        self.model.submit(
            id.0,
            intent.ticker,
            intent.side,
            intent.qty,
            intent.order_type,
            ns,
        );
    }

    fn done(
        &mut self,
        ticker: Ticker,
        side: Side,
        id: Option<ClientOrderId>,
        filled: u64,
        rejected: bool,
    ) {
        // Whether the ticker went flat matters to the Supervisor live, not here.
        let _ = self.desk.on_order_done(&OrderDone {
            id,
            ticker,
            side,
            filled: Qty(filled),
            rejected,
        });
    }

    /// Books and delivers the fills the model made on the last trade.
    fn deliver_fills(&mut self, books: &mut Books, ns: i64, time: TimeOfDay) {
        let fills = std::mem::take(&mut self.model_fills);
        for f in &fills {
            let now = self.instant(ns);
            self.exec_no += 1;
            let order_no = i64::try_from(f.id).unwrap_or(i64::MAX);
            let _ = self.book.filled(
                ClientOrderId(f.id),
                order_no,
                self.exec_no,
                f.qty,
                f.price,
                now,
            );
            let fill = Fill {
                ticker: f.ticker,
                side: f.side,
                price: f.price,
                qty: f.qty,
                order_no,
                time,
            };
            books.fill(&fill, ns);
            self.desk.on_fill(&fill);
            self.after_money_moved(books);
            let Some(w) = self.working.get_mut(&f.id) else {
                continue;
            };
            w.filled += f.qty.0;
            if f.side == Side::Buy {
                // The reserve shrinks with what the fill used (at most what was reserved).
                let used = crate::market::notional(f.price, f.qty)
                    .unwrap_or(0)
                    .min(w.reserved);
                w.reserved -= used;
                self.reserved -= used;
            }
            if f.remaining.0 == 0 {
                let w = self.working.remove(&f.id).unwrap_or(Working {
                    ticker: f.ticker,
                    side: f.side,
                    filled: 0,
                    reserved: 0,
                });
                self.reserved -= w.reserved;
                self.done(f.ticker, f.side, Some(ClientOrderId(f.id)), w.filled, false);
            }
        }
        self.model_fills = fills;
        self.model_fills.clear();
    }

    /// The day's loss limit, as the Portfolio trips it live: new buys stop.
    fn after_money_moved(&mut self, books: &Books) {
        let loss = self
            .opening_equity
            .saturating_sub(books.cash().saturating_add(books_value(books)));
        if loss >= self.settings.risk.daily_loss_limit {
            self.kill_switch = true;
        }
    }
}

/// What `books` holds at its last prices.
fn books_value(books: &Books) -> i64 {
    books
        .ledger()
        .positions()
        .filter(|(_, p)| !p.is_flat())
        .map(|(_, p)| {
            p.last_price
                .and_then(|price| crate::market::notional(price, p.qty))
                .unwrap_or(p.cost)
        })
        .sum()
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
            model: FillModel::new(latency(&day)),
            book: OrderBook::starting_at(1),
            working: HashMap::new(),
            reserved: 0,
            refs: HashMap::new(),
            base: Instant::now(),
            base_ns: None,
            orders_today: 0,
            exec_no: 0,
            kill_switch: false,
            opening_equity: books.cash().saturating_add(books_value(&books)),
            intents: Vec::new(),
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
                    order_no: 0,
                    time: TimeOfDay::hms(9, 0, 0),
                });
            }
        }
        let mut synthetic_timers = true;
        let mut market_second: Option<TimeOfDay> = None;
        for record in records {
            let r = record?;
            let ns = r.recv_ns;
            books.at(ns);
            match &r.event {
                TapeEvent::Started { .. } => synthetic_timers = false,
                TapeEvent::Trade(t) => {
                    if synthetic_timers && market_second.is_some_and(|s| t.exchange_time > s) {
                        run.desk.on_timer(t.exchange_time, &mut run.intents);
                        run.place_intents(&mut books, ns, t.exchange_time);
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
                    run.after_money_moved(&books);
                    let tick = t.to_tick(run.instant(ns));
                    run.desk.on_tick(&tick, &mut run.intents);
                    run.place_intents(&mut books, ns, t.exchange_time);
                    run.deliver_fills(&mut books, ns, t.exchange_time);
                }
                TapeEvent::ConditionEnter {
                    ticker,
                    market_time,
                } => run.desk.on_condition_enter(*ticker, *market_time),
                TapeEvent::ConditionExit {
                    ticker,
                    market_time,
                } => run.desk.on_condition_exit(*ticker, *market_time),
                TapeEvent::Timer { market_time } => {
                    run.desk.on_timer(*market_time, &mut run.intents);
                    run.place_intents(&mut books, ns, *market_time);
                }
                TapeEvent::Fill(f) if settings.fills == FillSource::Recorded => {
                    // A fill with no order number is a restart telling the strategies
                    // what is held, not an execution.
                    if f.order_no != 0 {
                        books.fill(f, ns);
                    }
                    run.desk.on_fill(f);
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
                }
                _ => {}
            }
        }
        // The close: the exchange cancels what still works.
        let open: Vec<u64> = {
            let mut ids: Vec<u64> = run.working.keys().copied().collect();
            ids.sort_unstable();
            ids
        };
        for id in open {
            if let (Some(w), Some(_)) = (run.working.remove(&id), run.model.cancel(id)) {
                run.reserved -= w.reserved;
                books.count(Counted::Cancelled);
                run.done(w.ticker, w.side, Some(ClientOrderId(id)), w.filled, false);
            }
        }
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
pub fn recorded_latencies(records: &[TapeRecord]) -> Vec<u64> {
    let mut waiting: BTreeMap<(Ticker, bool), Vec<i64>> = BTreeMap::new();
    let mut out = Vec::new();
    for r in records {
        match &r.event {
            TapeEvent::Intent(i) => waiting
                .entry((i.ticker, i.side == Side::Buy))
                .or_default()
                .push(r.recv_ns),
            TapeEvent::Fill(f) if f.order_no != 0 => {
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
