//! `/status`: what a running condor is doing, gathered by asking the actors (their stats
//! and snapshot messages, each with a timeout) and read from the shared metric handles.
//! The same JSON feeds the dashboard's live stream and `condor status`.
//!
//! Owns the status document and how it is gathered. Must never reach into an actor's state
//! (everything comes by message), wait on an actor for long (a busy one is named in
//! `unavailable` and its part left empty), or carry a secret.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actix::prelude::*;
use condor_actors::broker_session::BrokerSession;
use condor_actors::calendar::{self, Calendar, Closed, DayOff, MarketNow};
use condor_actors::clock::{kst_time_of_day, Clock, TradingDay};
use condor_actors::market::{Side, Ticker};
use condor_actors::messages::{
    Flush, GetConditionBooks, GetOrderStats, GetPortfolio, GetSessionStats, OrderNo, OrderStats,
    OrderType, SessionStats, TickerSeen,
};
use condor_actors::order::Order;
use condor_actors::order_manager::{GetOrderList, OrderManager};
use condor_actors::portfolio::{GetRecentFills, Portfolio};
use condor_actors::processor::Processor;
use condor_actors::supervisor::{GetLiveFeeds, GetSupervisorStats, Supervisor};
use condor_actors::telemetry::Meters;
use serde::{Deserialize, Serialize};

/// How long one actor may take to answer before its part is left out.
const ASK_WITHIN: Duration = Duration::from_secs(2);
/// Final orders and fills listed.
const RECENT: usize = 30;

/// One trading day's engine: the actors to ask. A new day starts a new engine.
#[derive(Clone)]
pub struct DayEngine {
    pub session: Addr<BrokerSession>,
    pub processor: Addr<Processor>,
    pub orders: Addr<OrderManager>,
    pub portfolio: Addr<Portfolio>,
    pub supervisor: Addr<Supervisor>,
}

/// What the HTTP server reads: the day's engine while one runs (none overnight and on days
/// without a session), and what lives as long as the process.
#[derive(Clone)]
pub struct Sources {
    /// The day's engine, or `None` while condor idles between sessions.
    pub engine: tokio::sync::watch::Receiver<Option<DayEngine>>,
    pub meters: Arc<Meters>,
    /// "embedded exchange" or the broker's REST URL (never a key).
    pub broker: String,
    pub condition: String,
    pub strategy: String,
    /// Each condition traded, in condor.toml's order: its name and strategy.
    pub conditions: Vec<(String, String)>,
    pub started: SystemTime,
    /// KRX's trading calendar, with the configured closures and delayed opens.
    pub calendar: Calendar,
    /// The KST day and time the market's state is judged at.
    pub clock: Arc<dyn Clock>,
}

/// The document `/status` answers (all money in integer won).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub broker: String,
    pub condition: String,
    pub strategy: String,
    pub at_unix_ms: i64,
    pub started_unix_ms: i64,
    pub connection: Connection,
    pub kill_switch_on: bool,
    pub feeds: Vec<Feed>,
    pub account: Option<Account>,
    /// Every ticker traded or held today; flat ones have qty 0.
    pub positions: Vec<Position>,
    /// Working orders first, then the most recent final ones; newest first within each.
    pub orders: Vec<OrderRow>,
    /// The most recent fills, newest first.
    pub fills: Vec<FillRow>,
    pub counters: Counters,
    pub latency: Latency,
    /// Messages sent and not yet handled, per mailbox link.
    pub mailbox_lag: BTreeMap<String, i64>,
    /// Actors that did not answer in time; their parts are empty.
    pub unavailable: Vec<String>,
    /// The day per condition (one row when one condition is traded); they add up to
    /// `account`.
    #[serde(default)]
    pub conditions: Vec<ConditionRow>,
    /// KRX's session now, by its calendar and this host's KST clock.
    #[serde(default)]
    pub market: Market,
    /// Whether a day's engine runs now; `false` while condor idles between sessions
    /// (the engine's parts are then empty).
    #[serde(default)]
    pub trading: bool,
    /// The data directory's disk: free space, whether entries are stopped for want of it,
    /// the reserve kept for the journal.
    #[serde(default)]
    pub disk: Disk,
}

/// The data directory's disk, as the DiskWatch last read it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disk {
    /// Bytes free at the last reading; `None` before the first (or with no watch).
    pub free_bytes: Option<u64>,
    /// True while free space is under `CONDOR_DISK_LOW`: buys are refused (`disk_space`),
    /// sells and cancels still go.
    pub entries_stopped: bool,
    /// Bytes held in the reserve file; 0 once the journal needed it (or with none).
    pub reserve_bytes: u64,
}

/// Whether KRX trades now: open until its close, or closed until the next session. The
/// calendar's, against the host's clock: the embedded exchange trades its own day anyway.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Market {
    pub open: bool,
    /// What a person reads: "market open until 15:30 KST", "market closed (weekend), next
    /// session Mon 2026-01-05 09:00 KST".
    pub text: String,
    /// The KST day and time judged at, `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
    /// When open: today's close, HH:MM KST.
    pub closes_at: Option<String>,
    /// When closed: why (`weekend`, `holiday`, `closure`, `before_open`, `after_close`), the
    /// holiday's name, and the next session's open, `YYYY-MM-DD HH:MM` KST.
    pub closed_for: Option<String>,
    pub holiday: Option<String>,
    pub next_session: Option<String>,
    /// Set when the day is outside the years the holiday table covers.
    pub calendar_note: Option<String>,
}

/// The market at the clock's moment (the day and the time from one reading of it).
pub fn market_now(calendar: &Calendar, clock: &dyn Clock) -> Market {
    let ms = clock.unix_ms();
    let day = TradingDay::from_unix_ms(ms);
    let time = kst_time_of_day(Duration::from_millis(u64::try_from(ms).unwrap_or(0)));
    let now = calendar.market_at(day, time);
    let mut m = Market {
        open: matches!(now, MarketNow::Open { .. }),
        text: now.to_string(),
        at: format!("{day} {time}"),
        calendar_note: calendar.unknown_year_note(day),
        ..Market::default()
    };
    match now {
        MarketNow::Open { session } => m.closes_at = Some(calendar::hm(session.close)),
        MarketNow::Closed {
            why,
            next_day,
            next,
        } => {
            let (word, holiday) = match why {
                Closed::DayOff(DayOff::Weekend) => ("weekend", None),
                Closed::DayOff(DayOff::Holiday(name)) => ("holiday", Some(name.to_owned())),
                Closed::DayOff(DayOff::Closure) => ("closure", None),
                Closed::BeforeOpen => ("before_open", None),
                Closed::AfterClose => ("after_close", None),
            };
            m.closed_for = Some(word.to_owned());
            m.holiday = holiday;
            m.next_session = Some(format!("{next_day} {}", calendar::hm(next.open)));
            // The next session may fall in a year the table does not cover (late December).
            if m.calendar_note.is_none() {
                m.calendar_note = calendar.unknown_year_note(next_day);
            }
        }
    }
    m
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionRow {
    /// 1-based, condor.toml's order.
    pub number: u16,
    pub name: String,
    pub strategy: String,
    /// Tickers it holds now, and fills booked to it today.
    pub positions: u64,
    pub fills: u64,
    pub realized_pnl: i64,
    pub unrealized_pnl: i64,
    pub fees: i64,
    /// Realized + unrealized − fees.
    pub pnl: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub connected: bool,
    pub reconnects: u64,
    pub frames: u64,
    pub malformed: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feed {
    pub ticker: String,
    pub name: String,
    pub since_unix_ms: i64,
    pub last_price: Option<i64>,
    /// The last trade's exchange time, HH:MM:SS KST.
    pub last_trade_time: Option<String>,
    pub ticks: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub opening_cash: i64,
    pub cash: i64,
    pub realized_pnl: i64,
    pub unrealized_pnl: i64,
    pub fees: i64,
    pub equity: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub ticker: String,
    pub name: String,
    pub qty: u64,
    pub avg_price: Option<i64>,
    pub last_price: Option<i64>,
    pub market_value: i64,
    pub unrealized_pnl: i64,
    pub realized_pnl: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    /// The client order id, `C17`.
    pub id: String,
    pub order_no: Option<OrderNo>,
    pub ticker: String,
    pub name: String,
    /// `buy` or `sell`.
    pub side: String,
    pub qty: u64,
    pub filled: u64,
    /// `None` for a market order.
    pub limit_price: Option<i64>,
    pub avg_fill_price: Option<i64>,
    /// new, sent, accepted, partially_filled, filled, cancelled, rejected.
    pub state: String,
    pub working: bool,
    pub reason: String,
    /// The broker's code and message for a rejected order.
    pub reject: Option<String>,
    pub placed_unix_ms: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FillRow {
    /// Exchange time, HH:MM:SS KST.
    pub time: String,
    pub ticker: String,
    pub name: String,
    pub side: String,
    pub qty: u64,
    pub price: i64,
    pub order_no: OrderNo,
    pub position_after: u64,
    /// Realized by this fill (0 for a buy), before fees.
    pub realized_pnl: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Trades decoded off the websocket.
    pub ticks_received: u64,
    /// Ticks run through the strategy.
    pub ticks_processed: u64,
    pub intents: u64,
    pub feeds_spawned: u64,
    pub feeds_stopped: u64,
    pub feeds_restarted: u64,
    pub feeds_refused_over_cap: u64,
    pub orders: u64,
    pub working: u64,
    pub filled: u64,
    pub cancelled: u64,
    pub rejected: u64,
    pub refused_by_risk: u64,
    pub fills: u64,
    pub journal_appends: u64,
}

/// Latency of one leg, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Leg {
    pub count: u64,
    pub p50_us: f64,
    pub p99_us: f64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    pub tick_to_intent: Leg,
    pub intent_to_ack: Leg,
    pub ack_to_fill: Leg,
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The wall time of a monotonic instant in this process.
fn unix_ms_of(at: Instant, now: Instant, wall_now: SystemTime) -> i64 {
    unix_ms(wall_now - now.saturating_duration_since(at))
}

fn side_word(side: Side) -> String {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
    .to_owned()
}

/// Sends `msg` to `to`; `None` if it does not answer within [`ASK_WITHIN`].
async fn ask<A, M>(to: &Addr<A>, msg: M) -> Option<M::Result>
where
    A: Actor + Handler<M>,
    A::Context: actix::dev::ToEnvelope<A, M>,
    M: Message + Send + 'static,
    M::Result: Send,
{
    tokio::time::timeout(ASK_WITHIN, to.send(msg))
        .await
        .ok()
        .and_then(Result::ok)
}

/// Asks every actor of the day's engine at once and puts the answers together; between
/// sessions, what lives without one (the market, the counters, the conditions).
pub async fn gather(src: &Sources) -> Status {
    let engine = src.engine.borrow().clone();
    match engine {
        Some(e) => gather_day(src, &e).await,
        None => between_sessions(src),
    }
}

/// The status while no engine runs.
fn between_sessions(src: &Sources) -> Status {
    let m = &src.meters;
    Status {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        broker: src.broker.clone(),
        condition: src.condition.clone(),
        strategy: src.strategy.clone(),
        at_unix_ms: unix_ms(SystemTime::now()),
        started_unix_ms: unix_ms(src.started),
        counters: Counters {
            ticks_received: m.ticks().decoded,
            ticks_processed: m.ticks().handled,
            intents: m.intents_sent.get(),
            journal_appends: m.journal_appends.get(),
            ..Counters::default()
        },
        conditions: src
            .conditions
            .iter()
            .enumerate()
            .map(|(i, (name, strategy))| ConditionRow {
                number: u16::try_from(i + 1).unwrap_or(u16::MAX),
                name: name.clone(),
                strategy: strategy.clone(),
                ..ConditionRow::default()
            })
            .collect(),
        market: market_now(&src.calendar, src.clock.as_ref()),
        trading: false,
        ..Status::default()
    }
}

async fn gather_day(src: &Sources, e: &DayEngine) -> Status {
    let ((session, processor, order_stats, order_list), (book, fills, sup_stats, by_condition)) =
        futures_util::future::join(
            futures_util::future::join4(
                ask(&e.session, GetSessionStats),
                ask(&e.processor, Flush),
                ask(&e.orders, GetOrderStats),
                ask(&e.orders, GetOrderList { recent: RECENT }),
            ),
            futures_util::future::join4(
                ask(&e.portfolio, GetPortfolio),
                ask(&e.portfolio, GetRecentFills { limit: RECENT }),
                ask(&e.supervisor, GetSupervisorStats),
                ask(&e.portfolio, GetConditionBooks),
            ),
        )
        .await;
    let by_condition = by_condition
        .and_then(Result::ok)
        .map(|(books, _)| books)
        .unwrap_or_default();
    // Every configured condition has a row, with or without a fill yet.
    let conditions: Vec<ConditionRow> = src
        .conditions
        .iter()
        .enumerate()
        .map(|(i, (name, strategy))| {
            let number = u16::try_from(i + 1).unwrap_or(u16::MAX);
            let b = by_condition
                .iter()
                .find(|b| b.condition == number)
                .cloned()
                .unwrap_or_default();
            ConditionRow {
                number,
                name: name.clone(),
                strategy: strategy.clone(),
                positions: b.positions,
                fills: b.fills,
                realized_pnl: b.realized_pnl,
                unrealized_pnl: b.unrealized_pnl,
                fees: b.fees,
                pnl: b.pnl,
            }
        })
        .collect();
    let mut unavailable = Vec::new();
    for (who, answered) in [
        ("broker session", session.is_some()),
        ("processor", processor.is_some()),
        (
            "order manager",
            order_stats.is_some() && order_list.is_some(),
        ),
        ("portfolio", book.is_some() && fills.is_some()),
    ] {
        if !answered {
            unavailable.push(who.to_owned());
        }
    }
    let book = book.and_then(Result::ok);
    let order_list = order_list.unwrap_or_default();
    let fills = fills.unwrap_or_default();

    // Names for whatever is held, traded or ordered without a live feed.
    let mut tickers: HashSet<Ticker> = HashSet::new();
    tickers.extend(
        book.iter()
            .flat_map(|b| b.positions.iter().map(|p| p.ticker)),
    );
    tickers.extend(order_list.iter().map(Order::ticker));
    tickers.extend(fills.iter().map(|f| f.ticker));
    let live = ask(
        &e.supervisor,
        GetLiveFeeds {
            names_of: tickers.into_iter().collect(),
        },
    )
    .await;
    if sup_stats.is_none() || live.is_none() {
        unavailable.push("supervisor".to_owned());
    }
    let live = live.unwrap_or_default();
    // Each feed's ticker's trades as the Processor saw them (ticks go beside the feeds).
    let seen = processor.as_ref().map(|p| &p.per_ticker);
    let feed_status: Vec<Option<TickerSeen>> = live
        .feeds
        .iter()
        .map(|f| seen.and_then(|s| s.get(&f.ticker)).copied())
        .collect();
    let mut names: HashMap<Ticker, String> = live.names;
    for f in &live.feeds {
        names.insert(f.ticker, f.name.clone());
    }
    let name = |t: Ticker| names.get(&t).cloned().unwrap_or_default();

    let (now, wall_now) = (Instant::now(), SystemTime::now());
    let feeds = live
        .feeds
        .iter()
        .zip(feed_status)
        .map(|(f, st)| Feed {
            ticker: f.ticker.to_string(),
            name: f.name.clone(),
            since_unix_ms: unix_ms(f.since),
            last_price: st.map(|s| s.last_price.won()),
            last_trade_time: st.map(|s| s.last_time.to_string()),
            ticks: st.map_or(0, |s| s.ticks),
        })
        .collect();
    let positions = book
        .iter()
        .flat_map(|b| b.positions.iter())
        .map(|p| Position {
            ticker: p.ticker.to_string(),
            name: name(p.ticker),
            qty: p.qty.shares(),
            avg_price: p.avg_price.map(|p| p.won()),
            last_price: p.last_price.map(|p| p.won()),
            market_value: p.market_value,
            unrealized_pnl: p.unrealized_pnl,
            realized_pnl: p.realized_pnl,
        })
        .collect();
    let orders = order_list
        .iter()
        .map(|o| OrderRow {
            id: o.id().to_string(),
            order_no: o.order_no(),
            ticker: o.ticker().to_string(),
            name: name(o.ticker()),
            side: side_word(o.side()),
            qty: o.qty().shares(),
            filled: o.filled_qty().shares(),
            limit_price: match o.order_type() {
                OrderType::Market => None,
                OrderType::Limit(p) => Some(p.won()),
            },
            avg_fill_price: o.avg_fill_price().map(|p| p.won()),
            state: o.state().name().to_owned(),
            working: !o.state().is_final(),
            reason: o.reason().to_owned(),
            reject: o.reject().map(|r| format!("[{}] {}", r.code, r.message)),
            placed_unix_ms: unix_ms_of(o.intent_at(), now, wall_now),
        })
        .collect();
    let fills = fills
        .iter()
        .map(|f| FillRow {
            time: f.time.to_string(),
            ticker: f.ticker.to_string(),
            name: name(f.ticker),
            side: side_word(f.side),
            qty: f.qty.shares(),
            price: f.price.won(),
            order_no: f.order_no,
            position_after: f.position_after.shares(),
            realized_pnl: f.realized_pnl,
        })
        .collect();

    let os: OrderStats = order_stats.unwrap_or_default();
    let ss: SessionStats = session.unwrap_or_default();
    let sup = sup_stats.unwrap_or_default();
    let m = &src.meters;
    let us = |ns: u64| ns as f64 / 1_000.0;
    let leg = |l: condor_actors::messages::LatencyUs| Leg {
        count: l.count,
        p50_us: l.p50 as f64,
        p99_us: l.p99 as f64,
    };
    let tick_to_intent = processor.as_ref().map_or_else(Leg::default, |p| Leg {
        count: p.intent_latency.samples,
        p50_us: us(p.intent_latency.p50_ns),
        p99_us: us(p.intent_latency.p99_ns),
    });
    Status {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        broker: src.broker.clone(),
        condition: src.condition.clone(),
        strategy: src.strategy.clone(),
        at_unix_ms: unix_ms(wall_now),
        started_unix_ms: unix_ms(src.started),
        connection: Connection {
            connected: ss.connected,
            reconnects: ss.reconnects,
            frames: ss.frames,
            malformed: ss.malformed,
        },
        kill_switch_on: os.kill_switch_on,
        feeds,
        account: book.as_ref().map(|b| Account {
            opening_cash: b.opening_cash,
            cash: b.cash,
            realized_pnl: b.realized_pnl,
            unrealized_pnl: b.unrealized_pnl,
            fees: b.fees,
            equity: b.equity,
        }),
        positions,
        orders,
        fills,
        counters: Counters {
            ticks_received: m.ticks().decoded,
            ticks_processed: m.ticks().handled,
            intents: m.intents_sent.get(),
            feeds_spawned: sup.spawned,
            feeds_stopped: sup.stopped,
            feeds_restarted: sup.restarted,
            feeds_refused_over_cap: sup.refused_over_cap,
            orders: os.orders,
            working: os.working,
            filled: os.filled,
            cancelled: os.cancelled,
            rejected: os.rejected,
            refused_by_risk: os.refused_by_risk,
            fills: os.fills,
            journal_appends: m.journal_appends.get(),
        },
        latency: Latency {
            tick_to_intent,
            intent_to_ack: leg(os.intent_to_ack),
            ack_to_fill: leg(os.ack_to_fill),
        },
        mailbox_lag: m
            .mailbox_lags()
            .iter()
            .map(|(link, lag)| ((*link).to_owned(), *lag))
            .collect(),
        unavailable,
        conditions,
        market: market_now(&src.calendar, src.clock.as_ref()),
        trading: true,
        disk: Disk {
            free_bytes: u64::try_from(m.disk_free_bytes.get()).ok(),
            entries_stopped: m.disk_low.get() == 1,
            reserve_bytes: u64::try_from(m.disk_reserve_bytes.get()).unwrap_or(0),
        },
    }
}

/// Brings the gauges that mirror actor state (orders by state, the connection, the kill
/// switch, P&L) up to date for a scrape. Asks only the actors that answer fast; the
/// Processor, which may be behind a tick backlog, is never waited on here.
pub async fn refresh_gauges(src: &Sources) {
    let engine = src.engine.borrow().clone();
    let Some(e) = engine else {
        // Between sessions: no connection, nothing working; the rest keeps its last value.
        src.meters.broker_connected.set(0);
        return;
    };
    let (orders, session, book, processor) = futures_util::future::join4(
        ask(&e.orders, GetOrderStats),
        ask(&e.session, GetSessionStats),
        ask(&e.portfolio, GetPortfolio),
        ask(&e.processor, Flush),
    )
    .await;
    let m = &src.meters;
    if let Some(p) = processor {
        m.set_tick_to_intent(p.intent_buckets);
    }
    if let Some(o) = orders {
        m.set_orders(o.working, o.filled, o.cancelled, o.rejected);
        m.kill_switch_on.set(i64::from(o.kill_switch_on));
    }
    if let Some(s) = session {
        m.broker_connected.set(i64::from(s.connected));
    }
    if let Some(Ok(b)) = book {
        m.set_pnl(b.realized_pnl, b.unrealized_pnl, b.fees);
        m.equity.set(b.equity);
        m.cash.set(b.cash);
        m.open_positions
            .set(b.positions.iter().filter(|p| p.qty.shares() > 0).count() as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use condor_actors::clock::ManualClock;
    use condor_actors::market::TimeOfDay;

    fn at(day: &str, h: u32, m: u32) -> ManualClock {
        let clock = ManualClock::new(TimeOfDay::hms(h, m, 0));
        clock.set_day(day.parse().unwrap());
        clock
    }

    #[test]
    fn the_market_part_says_open_until_the_close_or_closed_until_the_next_session() {
        let cal = Calendar::krx();
        let m = market_now(&cal, &at("2026-01-05", 10, 0));
        assert_eq!(
            m,
            Market {
                open: true,
                text: "market open until 15:30 KST".into(),
                at: "2026-01-05 10:00:00".into(),
                closes_at: Some("15:30".into()),
                ..Market::default()
            }
        );
        let m = market_now(&cal, &at("2026-09-24", 10, 0));
        assert!(!m.open);
        assert_eq!(m.closed_for.as_deref(), Some("holiday"));
        assert_eq!(m.holiday.as_deref(), Some("추석 연휴"));
        assert_eq!(m.next_session.as_deref(), Some("2026-09-28 09:00"));
        assert_eq!(
            m.text,
            "market closed (holiday: 추석 연휴), next session Mon 2026-09-28 09:00 KST"
        );
        assert_eq!(m.calendar_note, None);
        let m = market_now(&cal, &at("2026-01-05", 15, 30));
        assert_eq!(m.closed_for.as_deref(), Some("after_close"));
        assert_eq!(m.next_session.as_deref(), Some("2026-01-06 09:00"));
    }

    #[test]
    fn the_clock_moving_past_the_close_and_over_a_closure_changes_the_answer() {
        let cal = Calendar::krx()
            .with_closures("2026-01-06")
            .unwrap()
            .with_late_opens("2026-01-07@10:30")
            .unwrap();
        let clock = at("2026-01-05", 15, 29);
        assert!(market_now(&cal, &clock).open);
        clock.advance_secs(60);
        let m = market_now(&cal, &clock);
        assert_eq!(
            m.text,
            "market closed (after the close), next session Wed 2026-01-07 10:30 KST"
        );
        clock.set_day("2026-01-06".parse().unwrap());
        let m = market_now(&cal, &clock);
        assert_eq!(m.closed_for.as_deref(), Some("closure"));
        assert_eq!(m.next_session.as_deref(), Some("2026-01-07 10:30"));
    }

    #[test]
    fn a_year_the_table_does_not_cover_is_noted() {
        let cal = Calendar::krx();
        let m = market_now(&cal, &at("2028-03-02", 11, 0));
        assert!(m.open, "a weekday outside the table trades");
        assert!(m.calendar_note.is_some_and(|n| n.contains("2028")));
        // 2026's last day: the next session is in 2027, which the table does not cover.
        let m = market_now(&cal, &at("2026-12-31", 11, 0));
        assert!(m.calendar_note.is_some_and(|n| n.contains("2027")));
    }
}
