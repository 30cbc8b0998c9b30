//! The embedded exchange's pure core: a deterministic, synchronous, single-owner
//! [`Exchange`] — the seeded market, the matching engine, the account, the condition
//! screener — that the simulator's network layer owns in one task and calls.
//!
//! Owns all simulated market and account state. Must never do I/O, spawn, lock, sleep or
//! read a wall clock: time comes in as `now_ms` (milliseconds since the simulation
//! started), and the same seed with the same calls yields the same events, byte for byte.
//! Must never panic on client input: every refusal is a [`Reject`].
//!
//! Files: `universe` (listings), `walk` (prices, quotes, arrivals), `orders` (requests,
//! order rows, matching), `account` (cash, holdings), `condition` (momentum + scripted
//! conditions, alerts), `scenario` (script parser), `rate_limit` (LS per-TR limits),
//! `events` (what comes out), `reject` (the code table), `tape_market` (a recorded day in
//! place of the walk).
//!
//! Time: the simulated clock reads `start_time + now_ms / 1000` and stops at 23:59:59 (one
//! trading day; it never wraps into a second morning). Trades print only in the regular
//! session, 09:00 ≤ t < 15:30, for both [`Exchange::advance`] and [`Exchange::burst`].
//! With [`ExchangeConfig::first_day`] (a scaled clock, `CONDOR_CLOCK`) the clock runs on
//! past midnight into the following days: trades print, and orders are taken, only in the
//! calendar's session of the day ([`ExchangeConfig::calendar`]: none on weekends, holidays
//! and configured closures), and the first print
//! of a new day rolls every quote over (yesterday's last price is today's previous close).
//! Orders are day orders: what is still working at the session's close expires there, and
//! each new day's order list (t0425) starts empty (`orders::Exchange::settle_day`).
//!
//! Tape mode ([`ExchangeConfig::tape`]): no walk, no momentum, no scripted conditions;
//! `now_ms` is the tape's time (milliseconds from its first playable record), the clock
//! starts at the tape's `start_time`, [`Exchange::advance`] plays the recorded trades and
//! condition events due by `now_ms` and [`Exchange::play_tape`] plays them at full speed.
//! Recorded trades print whatever the clock says (they happened); orders still need the
//! regular session.

pub mod account;
pub mod condition;
pub mod events;
pub mod orders;
pub mod rate_limit;
pub mod reject;
pub mod scenario;
pub mod tape_market;
pub mod universe;
pub mod walk;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;

use condor_model::calendar::Calendar;
use condor_model::clock::TradingDay;
use condor_model::market::{
    is_regular_session, Price, Qty, Side, Ticker, TimeOfDay, MAX_PRICE, MAX_QTY, REGULAR_CLOSE,
    REGULAR_OPEN,
};

/// One of the exchange's own won amounts (an average, a VWAP, a row's price) as a
/// [`Price`]. Its books hold only what its order checks let in (grid prices inside the
/// band, quantities ≤ `MAX_QTY`), so in a run this never clamps; a scenario or tape that
/// pushes past is held at the bound rather than panic the exchange.
pub(crate) fn price_of(won: i64) -> Price {
    Price::new_or_zero(won.max(0)).unwrap_or(MAX_PRICE)
}

/// One of the exchange's own share counts as a [`Qty`]; see [`price_of`].
pub(crate) fn qty_of(shares: u64) -> Qty {
    Qty::new(shares).unwrap_or(MAX_QTY)
}

pub use account::{AccountView, HoldingView};
pub use condition::{
    ConditionInfo, MomentumParams, MOMENTUM_GROUP, MOMENTUM_NAME, MOMENTUM_QUERY_INDEX,
    SCENARIO_GROUP,
};
pub use events::{
    chg_rate_bp, sign_code, AlertEvent, AlertJob, CancelOrder, Event, FillEvent, ModifyOrder,
    NewOrder, OrderAck, OrderSnapshot, RejectEvent, RejectedRequest, TradeEvent,
};
pub use orders::{OrderKind, OrderRecord, OrderStatus, PriceType, FIRST_ORD_NO, MAX_ORDER_QTY};
pub use rate_limit::{
    RateLimited, RateLimiter, DEFAULT_LIMIT, LS_LIMITS, RATE_LIMIT_CODE, RATE_LIMIT_MESSAGE,
    TOKEN_TR,
};
pub use reject::{Reject, RejectCode, RejectReason, REJECT_CODES};
pub use scenario::{
    Scenario, ScenarioError, ScenarioHolding, ScriptAction, ScriptedCondition, ScriptedEvent,
};
pub use tape_market::{
    TapeDay, TapeDayBuilder, TapeDayError, TapeItem, TapeProgress, TapeStep, TAPE_GROUP,
    TAPE_QUERY_INDEX, UNPRICED_PREV_CLOSE,
};
pub use universe::{isin_check_digit, stock_isin, Listing};
pub use walk::Quote;

use account::Account;
use condition::{Conditions, TapeCondition};
use tape_market::TapePlay;
use walk::Walk;

/// How the exchange starts.
#[derive(Clone, Debug, PartialEq)]
pub struct ExchangeConfig {
    pub seed: u64,
    /// Mean trade arrival rate PER TICKER (Poisson), trades per second.
    pub trades_per_sec: f64,
    /// The simulated clock at `now_ms = 0`.
    pub start_time: TimeOfDay,
    /// Initial cash in won (a scenario's `cash` line overrides it).
    pub cash: i64,
    /// 11 digits.
    pub account_no: String,
    pub account_name: String,
    /// Commission per million of traded value, buys and sells.
    pub commission_ppm: i64,
    /// Sell tax per million of sold value.
    pub sell_tax_ppm: i64,
    pub momentum: MomentumParams,
    pub scenario: Option<Scenario>,
    /// Made-up listings (`99NNNN`) added after the real ones, for load tests that need
    /// more tickers (at most `universe::MAX_SYNTHETIC`).
    pub synthetic_listings: usize,
    /// Play this recorded day instead of the walk (see the module docs): `start_time`,
    /// `trades_per_sec`, `momentum`, `gap_ups` and the scenario's conditions are then unused.
    pub tape: Option<Arc<TapeDay>>,
    /// How many listings, chosen by the seed, gap up 3–9% at the open (their first print
    /// of the day), so the momentum condition has members within the first second, as on
    /// a real morning (see `walk`). 0 = every ticker opens at its previous close.
    pub gap_ups: usize,
    /// The KST day `now_ms = 0` falls on: the exchange then trades that day's session and
    /// every following trading day's, by `calendar`, as `now_ms` runs on (a scaled
    /// clock). `None`: one day, which ends at 23:59:59.
    pub first_day: Option<TradingDay>,
    /// Day after day: which days trade and when (KRX's, with the operator's closures and
    /// late opens, `CONDOR_CLOSED_DAYS` and `CONDOR_LATE_OPEN`, as condor reads them).
    pub calendar: Calendar,
}

/// Gap ups of a default morning: enough that a client sees the condition fill at once,
/// few enough that most of the market opens flat.
pub const DEFAULT_GAP_UPS: usize = 4;

impl Default for ExchangeConfig {
    fn default() -> Self {
        ExchangeConfig {
            seed: 42,
            trades_per_sec: 2.0,
            start_time: REGULAR_OPEN,
            cash: 100_000_000,
            account_no: "55501234501".to_owned(),
            account_name: "condor 모의계좌".to_owned(),
            commission_ppm: 0,
            sell_tax_ppm: 0,
            momentum: MomentumParams::default(),
            scenario: None,
            synthetic_listings: 0,
            tape: None,
            gap_ups: DEFAULT_GAP_UPS,
            first_day: None,
            calendar: Calendar::krx(),
        }
    }
}

/// The simulated exchange. See the module docs.
pub struct Exchange {
    start: TimeOfDay,
    /// Arrival rate of the whole market: per-ticker rate × tickers. The superposition of
    /// independent per-ticker Poisson processes is one Poisson process whose arrivals
    /// belong to a uniformly drawn ticker, so one clock serves them all.
    market_rate: f64,
    rng: fastrand::Rng,
    account_no: String,
    account_name: String,
    listings: Vec<Listing>,
    index: HashMap<Ticker, usize>,
    quotes: Vec<Quote>,
    walks: Vec<Walk>,
    /// Session close in µs since `now_ms = 0` (no arrival is scheduled at or after it).
    close_us: u64,
    /// The next scheduled arrival, µs since `now_ms = 0`; `u64::MAX` when none is due today.
    next_arrival_us: u64,
    trade_seq: u64,
    /// The day's order rows; `orders[i]` has number `first_ord_no + i`.
    orders: Vec<OrderRecord>,
    /// The number of the day's first order row: a new day's list starts empty, its numbers
    /// where yesterday's stopped (see `orders::Exchange::settle_day`).
    first_ord_no: i64,
    /// The close (`now_ms`) of the session the working orders were taken in: they expire
    /// there. `None` while no order was taken since the last expiry.
    orders_expire_ms: Option<u64>,
    /// Day after day: the day the listed orders were taken on.
    orders_day: Option<TradingDay>,
    /// Per ticker: indexes into `orders` of the working orders, in time priority.
    books: Vec<Vec<u32>>,
    next_exec_no: i64,
    account: Account,
    cond: Conditions,
    /// Scratch for `burst_over`, kept to avoid an allocation per burst.
    burst_idx: Vec<usize>,
    /// Tape mode: the day and how far it has played.
    tape: Option<TapePlay>,
    /// The morning's gap ups: ticker and opening price, in listing order.
    gap_ups: Vec<(Ticker, Price)>,
    /// Day after day by the calendar ([`ExchangeConfig::first_day`]).
    days: Option<Days>,
}

/// The exchange's days when its clock runs past one day.
struct Days {
    calendar: Calendar,
    /// Unix ms at `now_ms = 0`.
    zero_unix_ms: i64,
    /// The day of the latest print: a print on a later day rolls the quotes over.
    current: TradingDay,
    /// The session the arrivals are being scheduled in, µs since `now_ms = 0`.
    session_us: (u64, u64),
}

/// `HHMMSSmmm` (OrdTime, exectime).
pub fn fmt_hhmmssmmm(t: TimeOfDay, ms: u16) -> String {
    format!("{}{:03}", t.hhmmss(), ms)
}

/// `HHMMSSss`, hundredths (t0425 `ordtime`).
pub fn fmt_hhmmsscc(t: TimeOfDay, ms: u16) -> String {
    format!("{}{:02}", t.hhmmss(), ms / 10)
}

impl Exchange {
    pub fn new(cfg: ExchangeConfig) -> Exchange {
        let mut rng = fastrand::Rng::with_seed(cfg.seed);
        let mut listings = universe::build(cfg.synthetic_listings);
        if let Some(day) = &cfg.tape {
            tape_market::list_tape_tickers(&mut listings, day);
        }
        let n = listings.len();
        let index: HashMap<Ticker, usize> = listings
            .iter()
            .enumerate()
            .map(|(i, l)| (l.ticker, i))
            .collect();
        let quotes = listings.iter().map(Quote::new).collect();
        let mut walks: Vec<Walk> = listings
            .iter()
            .map(|l| Walk::new(&mut rng, l.prev_close))
            .collect();
        let mut gap_ups = Vec::new();
        if cfg.tape.is_none() && cfg.gap_ups > 0 {
            let gaps = walk::open_gaps(cfg.seed, cfg.gap_ups, &mut walks, &listings);
            let list: Vec<String> = gaps
                .iter()
                .map(|&(i, open)| {
                    let l = &listings[i];
                    let bp = chg_rate_bp(open, l.prev_close);
                    format!("{} {} +{}.{:02}%", l.ticker, l.name, bp / 100, bp % 100)
                })
                .collect();
            log::info!(target: "condor::sim", "gap ups at the open: {}", list.join(", "));
            gap_ups = gaps
                .into_iter()
                .map(|(i, open)| (listings[i].ticker, open))
                .collect();
        }
        let scenario = cfg.scenario.unwrap_or_default();
        let cash = scenario.cash.unwrap_or(cfg.cash);
        let mut account = Account::new(cash, n, cfg.commission_ppm, cfg.sell_tax_ppm);
        for h in &scenario.holdings {
            match index.get(&h.ticker) {
                Some(&i) => {
                    let p = &mut account.positions[i];
                    p.qty = p.qty.saturating_add(h.qty);
                    p.cost = p
                        .cost
                        .saturating_add(h.avg_price.won().saturating_mul(h.qty as i64));
                }
                None => {
                    log::warn!(target: "condor::sim", "scenario holding {} is not listed; ignored", h.ticker)
                }
            }
        }
        let mut scripted = Vec::new();
        if cfg.tape.is_some() && !scenario.conditions.is_empty() {
            log::warn!(target: "condor::sim", "tape mode: the scenario's {} scripted condition(s) are off; only its cash and holdings apply", scenario.conditions.len());
        }
        let conditions = if cfg.tape.is_some() {
            Vec::new()
        } else {
            scenario.conditions
        };
        for c in conditions {
            let clash = c.query_index == MOMENTUM_QUERY_INDEX
                || scripted
                    .iter()
                    .any(|s: &ScriptedCondition| s.query_index == c.query_index);
            if clash {
                log::warn!(target: "condor::sim", "scenario condition {} duplicates another; ignored", c.query_index);
            } else {
                scripted.push(c);
            }
        }
        let start = cfg
            .tape
            .as_ref()
            .map_or(cfg.start_time, |day| day.start_time());
        let secs_until = |t: TimeOfDay| u64::from(t.secs().saturating_sub(start.secs()));
        let open_us = secs_until(REGULAR_OPEN) * 1_000_000;
        let close_us = secs_until(REGULAR_CLOSE) * 1_000_000;
        let market_rate = if cfg.tape.is_some() {
            0.0
        } else if cfg.trades_per_sec.is_finite() && cfg.trades_per_sec > 0.0 {
            cfg.trades_per_sec * n as f64
        } else {
            0.0
        };
        let days = cfg
            .first_day
            .filter(|_| cfg.tape.is_none())
            .map(|day| Days {
                calendar: cfg.calendar.clone(),
                zero_unix_ms: day.midnight_unix_ms() + i64::from(start.secs()) * 1000,
                current: day,
                session_us: (0, 0),
            });
        let mut ex = Exchange {
            days,
            start,
            market_rate,
            rng,
            account_no: cfg.account_no,
            account_name: cfg.account_name,
            listings,
            index,
            quotes,
            walks,
            close_us,
            next_arrival_us: u64::MAX,
            trade_seq: 0,
            orders: Vec::new(),
            first_ord_no: FIRST_ORD_NO,
            orders_expire_ms: None,
            orders_day: None,
            books: vec![Vec::new(); n],
            next_exec_no: 0,
            account,
            cond: Conditions::new(cfg.momentum, n, scripted),
            burst_idx: Vec::new(),
            tape: cfg.tape.map(TapePlay::new),
            gap_ups,
        };
        if let Some(play) = &ex.tape {
            ex.cond.tape = Some(TapeCondition {
                info: ConditionInfo {
                    query_index: TAPE_QUERY_INDEX.to_owned(),
                    group_name: TAPE_GROUP.to_owned(),
                    query_name: play.day.name().to_owned(),
                },
                member: vec![false; n],
            });
        }
        ex.next_arrival_us = ex.schedule_after(open_us);
        ex
    }

    /// The arrival after `from_us`, or never if it falls at or after the close (day after
    /// day: in the session it falls in, or the next session's).
    fn schedule_after(&mut self, from_us: u64) -> u64 {
        if self.days.is_some() {
            return self.schedule_in_sessions(from_us);
        }
        if self.listings.is_empty() || from_us >= self.close_us {
            return u64::MAX;
        }
        let dt = walk::exp_interarrival_us(&mut self.rng, self.market_rate);
        match from_us.checked_add(dt) {
            Some(t) if t < self.close_us => t,
            _ => u64::MAX,
        }
    }

    /// Day after day: the next arrival at or after `from_us` inside a session. Arrivals
    /// are memoryless, so one that falls past a close is drawn again from the next open.
    fn schedule_in_sessions(&mut self, from_us: u64) -> u64 {
        if self.listings.is_empty() {
            return u64::MAX;
        }
        let mut from = from_us;
        // Bounded: a rate so low that no arrival falls in a thousand sessions is none.
        for _ in 0..1000 {
            let Some((open, close)) = self.session_us(from) else {
                return u64::MAX;
            };
            let dt = walk::exp_interarrival_us(&mut self.rng, self.market_rate);
            match from.max(open).checked_add(dt) {
                Some(t) if t < close => return t,
                Some(_) => from = close,
                None => return u64::MAX,
            }
        }
        u64::MAX
    }

    /// Day after day: the session `at_us` falls in, or else the next one, in µs since
    /// `now_ms = 0`.
    fn session_us(&mut self, at_us: u64) -> Option<(u64, u64)> {
        let day = self.day_at(at_us / 1000)?;
        let d = self.days.as_mut()?;
        let (_, close) = d.session_us;
        if at_us < close {
            return Some(d.session_us);
        }
        let zero = d.zero_unix_ms;
        let to_us = |day: TradingDay, t: TimeOfDay| {
            let ms = day.midnight_unix_ms() + i64::from(t.secs()) * 1000 - zero;
            u64::try_from(ms.max(0)).unwrap_or(0).saturating_mul(1000)
        };
        let today = d
            .calendar
            .session(day)
            .map(|s| (to_us(day, s.open), to_us(day, s.close)));
        let bounds = match today {
            Some((open, close)) if at_us < close => (open, close),
            _ => {
                let (next, s) = d
                    .calendar
                    .next_session_after(day, TimeOfDay::hms(23, 59, 59));
                (to_us(next, s.open), to_us(next, s.close))
            }
        };
        d.session_us = bounds;
        Some(bounds)
    }

    /// Day after day: the KST day at `now_ms`; `None` on the one-day clock.
    pub fn day_at(&self, now_ms: u64) -> Option<TradingDay> {
        let d = self.days.as_ref()?;
        let ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        Some(TradingDay::from_unix_ms(d.zero_unix_ms.saturating_add(ms)))
    }

    pub fn listings(&self) -> &[Listing] {
        &self.listings
    }

    pub fn listing(&self, t: Ticker) -> Option<&Listing> {
        self.index_of(t).map(|i| &self.listings[i])
    }

    /// The ticker's running state (t1102's dynamic fields).
    pub fn quote(&self, t: Ticker) -> Option<&Quote> {
        self.index_of(t).map(|i| &self.quotes[i])
    }

    /// The tickers that gap up at today's open and their opening prices, in listing
    /// order ([`ExchangeConfig::gap_ups`]; empty in tape mode).
    pub fn gap_ups(&self) -> &[(Ticker, Price)] {
        &self.gap_ups
    }

    pub fn account_no(&self) -> &str {
        &self.account_no
    }

    pub fn account_name(&self) -> &str {
        &self.account_name
    }

    pub(crate) fn index_of(&self, t: Ticker) -> Option<usize> {
        self.index.get(&t).copied()
    }

    /// The simulated clock at `now_ms`: `start_time + now_ms / 1000`, stopping at 23:59:59.
    pub fn clock(&self, now_ms: u64) -> TimeOfDay {
        self.stamp(now_ms).0
    }

    /// The simulated clock with milliseconds.
    pub fn stamp(&self, now_ms: u64) -> (TimeOfDay, u16) {
        let secs = u64::from(self.start.secs()).saturating_add(now_ms / 1000);
        if self.days.is_some() {
            // Runs on into the next day.
            return (
                TimeOfDay::from_secs((secs % 86_400) as u32),
                (now_ms % 1000) as u16,
            );
        }
        if secs >= 86_400 {
            (TimeOfDay::from_secs(86_399), 999)
        } else {
            (TimeOfDay::from_secs(secs as u32), (now_ms % 1000) as u16)
        }
    }

    /// True when the simulated clock at `now_ms` is inside the regular session (day after
    /// day: the calendar's session of the day).
    pub fn is_open(&self, now_ms: u64) -> bool {
        let t = self.clock(now_ms);
        match (&self.days, self.day_at(now_ms)) {
            (Some(d), Some(day)) => d.calendar.session(day).is_some_and(|s| s.contains(t)),
            _ => is_regular_session(t),
        }
    }

    /// Trades printed so far today.
    pub fn trade_count(&self) -> u64 {
        self.trade_seq
    }

    /// Generates every trade due up to `now_ms` (Poisson arrivals, per ticker on
    /// average `trades_per_sec`), matches working orders on each, evaluates the momentum
    /// condition, and fires the scripted alert events that are due, all pushed in causal
    /// (time) order. A `now_ms` earlier than a previous call does nothing. In tape mode:
    /// plays the recorded trades and condition events due by `now_ms` (tape time).
    pub fn advance(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        if self.tape.is_some() {
            self.play_tape_until(now_ms, out);
            return;
        }
        self.settle_day(now_ms, out);
        let now_us = now_ms.saturating_mul(1000);
        loop {
            // `u64::MAX` means "never" for both clocks, even when `now_ms` is `u64::MAX`.
            let trade_us = self.next_arrival_us;
            let trade_due = trade_us != u64::MAX && trade_us <= now_us;
            let script_ms = self.cond.next_script_due;
            let script_due = script_ms != u64::MAX && script_ms <= now_ms;
            if script_due && (!trade_due || script_ms.saturating_mul(1000) <= trade_us) {
                if !self.fire_next_script(now_ms, out) {
                    break; // cannot happen (the due time names a pending event); never spin
                }
            } else if trade_due {
                let idx = self.rng.usize(..self.listings.len());
                self.print(idx, trade_us / 1000, out);
                self.next_arrival_us = self.schedule_after(trade_us);
            } else {
                break;
            }
        }
    }

    /// Firehose: `n` trades at `now_ms`, each on a uniformly drawn ticker, ignoring the
    /// arrival schedule, with the same processing as `advance` (matching, momentum).
    /// Nothing prints outside the regular session, nor in tape mode.
    pub fn burst(&mut self, n: usize, now_ms: u64, out: &mut Vec<Event>) {
        let count = self.listings.len();
        if count == 0 || !self.is_open(now_ms) || self.tape.is_some() {
            return;
        }
        // Bounded so an absurd `n` cannot abort on allocation before a single trade.
        out.reserve(n.min(1 << 20));
        for _ in 0..n {
            let idx = self.rng.usize(..count);
            self.print(idx, now_ms, out);
        }
    }

    /// Firehose over some tickers only (those a client watches): n trades spread over
    /// `tickers`, unlisted ones ignored. Same processing as [`Exchange::burst`].
    pub fn burst_over(&mut self, tickers: &[Ticker], n: usize, now_ms: u64, out: &mut Vec<Event>) {
        if !self.is_open(now_ms) || self.tape.is_some() {
            return;
        }
        self.burst_idx.clear();
        self.burst_idx
            .extend(tickers.iter().filter_map(|t| self.index.get(t).copied()));
        let count = self.burst_idx.len();
        if count == 0 {
            return;
        }
        out.reserve(n.min(1 << 20));
        for _ in 0..n {
            let idx = self.burst_idx[self.rng.usize(..count)];
            self.print(idx, now_ms, out);
        }
    }

    /// One print of ticker `idx` at `at_ms`, drawn from the walk.
    #[inline]
    fn print(&mut self, idx: usize, at_ms: u64, out: &mut Vec<Event>) {
        let r = self.rng.u64(..);
        let q = &self.quotes[idx];
        let (price, qty, aggressor) = self.walks[idx].step(&mut self.rng, r, q.price, &q.limits);
        self.process_print(idx, price, qty, aggressor, at_ms, out);
    }

    /// Everything a print does: quote, Trade event, fills, momentum.
    #[inline]
    fn process_print(
        &mut self,
        idx: usize,
        price: Price,
        qty: u64,
        aggressor: Side,
        at_ms: u64,
        out: &mut Vec<Event>,
    ) {
        let (time, ms) = self.stamp(at_ms);
        self.roll_day_at(at_ms);
        self.trade_seq += 1;
        let q = &mut self.quotes[idx];
        let ev = q.record(self.trade_seq, price, qty, aggressor, time, ms);
        let prev_close = q.prev_close;
        out.push(Event::Trade(ev));
        if !self.books[idx].is_empty() {
            self.match_trade(idx, &ev, out);
        }
        if let Some(entered) = self
            .cond
            .momentum
            .on_trade(idx, price, prev_close, qty, time.secs())
        {
            self.momentum_changed(idx, entered, at_ms, out);
        }
    }

    /// Day after day: the first print of a new day rolls every quote over to it.
    fn roll_day_at(&mut self, at_ms: u64) {
        let Some(day) = self.day_at(at_ms) else {
            return;
        };
        let Some(d) = self.days.as_mut() else {
            return;
        };
        if day <= d.current {
            return;
        }
        d.current = day;
        for q in &mut self.quotes {
            q.roll_day();
        }
        log::info!(target: "condor::sim", "a new trading day: {day}");
    }

    /// Test hook: a print of a chosen price and size, processed like any other.
    #[cfg(test)]
    pub(crate) fn force_print(
        &mut self,
        t: Ticker,
        price: i64,
        qty: u64,
        at_ms: u64,
        out: &mut Vec<Event>,
    ) {
        let idx = self.index_of(t).expect("listed ticker");
        let p = Price::lit(price);
        assert!(condor_model::market::is_on_grid(p) && self.listings[idx].limits.contains(p));
        self.process_print(idx, p, qty, Side::Buy, at_ms, out);
    }
}
