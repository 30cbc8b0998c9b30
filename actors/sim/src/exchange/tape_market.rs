//! Tape mode: a recorded day ([`condor_core::tape`]) played in place of the random walk.
//! [`TapeDay`] is the day made ready to play (its trades and condition events with their
//! offsets, the clock at its start, the tickers it needs listed); the `impl Exchange` here
//! prints its trades through the ordinary matching engine and sends its condition events
//! as alerts of one condition named after the tape.
//!
//! Owns the conversion from records to playable items and the play cursor. Must never do
//! I/O or read a clock (the caller says how far to play: up to a tape time, or a count at
//! full speed), never change a recorded trade's fields on their way to the frame, never
//! reorder or skip a playable record, and never match orders by any rule but
//! `orders::match_trade`'s.
//!
//! Time: an item's offset is its receive time (`recv_ns`) less the first playable record's,
//! in milliseconds, never less than the item before it (so a clock step back in the
//! recording cannot reorder anything). The exchange's clock at offset 0 (`start_time`) is
//! the first trade's exchange time less that trade's offset in whole seconds (so the clock
//! reads each trade's own exchange time when it prints), or, with no trade at all, the first
//! condition event's market time less its offset.
//!
//! Listings: every ticker the tape trades or names in a condition event is listed: one the
//! universe has keeps its name and market but takes the tape's previous close (the first
//! trade's `prev_close`, or its price when that is 0) and the ±30% band from it; one the
//! universe lacks is added as KOSPI, named by its code, priced the same way (or at
//! [`UNPRICED_PREV_CLOSE`] if the tape never trades it).

use std::collections::HashMap;

use condor_core::tape::{TapeEvent, TapeRecord, TapeTrade};
use condor_model::domain::ConditionId;
use condor_model::market::{DailyLimits, Market, Price, Ticker, TimeOfDay};

use super::condition::TAPE_COND;
use super::events::Event;
use super::universe::{stock_isin, Listing};
use super::walk::Quote;
use super::Exchange;

/// query_index of the tape's condition (t1866, t1860, t1859).
pub const TAPE_QUERY_INDEX: &str = "T001";
/// t1866 `group_name` of the tape's condition.
pub const TAPE_GROUP: &str = "tape";
/// Previous close of a ticker the tape names in a condition event but never trades and the
/// universe does not list.
pub const UNPRICED_PREV_CLOSE: Price = Price::lit(1_000);

/// One thing the tape market plays, at its offset from the first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapeItem {
    Trade { at_ms: u64, trade: TapeTrade },
    Enter { at_ms: u64, ticker: Ticker },
    Exit { at_ms: u64, ticker: Ticker },
}

impl TapeItem {
    /// Milliseconds from the tape's first playable record.
    pub fn at_ms(&self) -> u64 {
        match *self {
            TapeItem::Trade { at_ms, .. }
            | TapeItem::Enter { at_ms, .. }
            | TapeItem::Exit { at_ms, .. } => at_ms,
        }
    }

    pub fn ticker(&self) -> Ticker {
        match *self {
            TapeItem::Trade { trade, .. } => trade.ticker,
            TapeItem::Enter { ticker, .. } | TapeItem::Exit { ticker, .. } => ticker,
        }
    }
}

/// A recorded day, ready to play. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeDay {
    name: String,
    items: Vec<TapeItem>,
    start_time: TimeOfDay,
    /// Every ticker the tape names, in order of first appearance, with the previous close
    /// its first trade gives (`None`: never traded).
    tickers: Vec<(Ticker, Option<Price>)>,
    trades: u64,
    condition_events: u64,
    skipped: u64,
}

/// Why a tape cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TapeDayError {
    #[error("it holds no trades and no condition events to play")]
    Empty,
}

impl TapeDay {
    /// The day of `records` (in file order). The condition is named after the first
    /// `Started` record's condition, else `fallback_name` (the file's stem).
    pub fn from_records(
        records: impl IntoIterator<Item = TapeRecord>,
        fallback_name: &str,
    ) -> Result<TapeDay, TapeDayError> {
        let mut b = TapeDayBuilder::new(fallback_name);
        for r in records {
            b.push(&r);
        }
        b.finish()
    }

    /// The condition's name (t1866 `query_name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn items(&self) -> &[TapeItem] {
        &self.items
    }

    /// The exchange clock at offset 0.
    pub fn start_time(&self) -> TimeOfDay {
        self.start_time
    }

    /// Every ticker the tape names, in order of first appearance, with the previous
    /// close its first trade gives.
    pub fn tickers(&self) -> &[(Ticker, Option<Price>)] {
        &self.tickers
    }

    pub fn trades(&self) -> u64 {
        self.trades
    }

    pub fn condition_events(&self) -> u64 {
        self.condition_events
    }

    /// Trade records not played: a price of 0. (A tape's prices and quantities are held
    /// to what KRX prints when it is read, which keeps every notional inside `i64`.)
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The last item's offset.
    pub fn end_ms(&self) -> u64 {
        self.items.last().map_or(0, TapeItem::at_ms)
    }
}

/// Builds a [`TapeDay`] one record at a time (a streaming reader feeds it).
#[derive(Debug)]
pub struct TapeDayBuilder {
    fallback_name: String,
    started_name: Option<String>,
    first_ns: Option<i64>,
    last_ms: u64,
    items: Vec<TapeItem>,
    tickers: Vec<(Ticker, Option<Price>)>,
    seen: HashMap<Ticker, usize>,
    first_trade_clock: Option<(TimeOfDay, u64)>,
    first_condition_clock: Option<(TimeOfDay, u64)>,
    trades: u64,
    condition_events: u64,
    skipped: u64,
    /// Per ticker, the recorded conditions listing it: the tape's one condition lists a
    /// ticker while any of them does.
    listing: HashMap<Ticker, Vec<ConditionId>>,
}

impl TapeDayBuilder {
    pub fn new(fallback_name: &str) -> TapeDayBuilder {
        TapeDayBuilder {
            fallback_name: fallback_name.to_owned(),
            started_name: None,
            first_ns: None,
            last_ms: 0,
            items: Vec::new(),
            tickers: Vec::new(),
            seen: HashMap::new(),
            first_trade_clock: None,
            first_condition_clock: None,
            trades: 0,
            condition_events: 0,
            skipped: 0,
            listing: HashMap::new(),
        }
    }

    /// Takes the next record of the file. Records the simulator does not play (fills,
    /// order ends, timers, intents, markers) only count for the condition's name.
    pub fn push(&mut self, r: &TapeRecord) {
        let (ticker, prev_close) = match &r.event {
            TapeEvent::Started(s) => {
                if self.started_name.is_none() && !s.condition.trim().is_empty() {
                    self.started_name = Some(s.condition.trim().to_owned());
                }
                return;
            }
            TapeEvent::Trade(t) => {
                if t.price == Price::ZERO {
                    self.skipped += 1;
                    return;
                }
                let base = if t.prev_close.won() > 0 {
                    t.prev_close
                } else {
                    t.price
                };
                (t.ticker, Some(base))
            }
            TapeEvent::ConditionEnter {
                ticker, condition, ..
            } => {
                let listing = self.listing.entry(*ticker).or_default();
                let first = listing.is_empty();
                if !listing.contains(condition) {
                    listing.push(*condition);
                }
                if !first {
                    return; // another recorded condition already lists it
                }
                (*ticker, None)
            }
            TapeEvent::ConditionExit {
                ticker, condition, ..
            } => {
                if let Some(listing) = self.listing.get_mut(ticker) {
                    listing.retain(|c| c != condition);
                    if !listing.is_empty() {
                        return; // still listed by another recorded condition
                    }
                }
                (*ticker, None)
            }
            _ => return,
        };
        let first_ns = *self.first_ns.get_or_insert(r.recv_ns);
        let raw_ms = u64::try_from(r.recv_ns.saturating_sub(first_ns) / 1_000_000).unwrap_or(0);
        let at_ms = raw_ms.max(self.last_ms);
        self.last_ms = at_ms;
        match self.seen.get(&ticker) {
            Some(&i) => {
                if self.tickers[i].1.is_none() {
                    self.tickers[i].1 = prev_close;
                }
            }
            None => {
                self.seen.insert(ticker, self.tickers.len());
                self.tickers.push((ticker, prev_close));
            }
        }
        let item = match &r.event {
            TapeEvent::Trade(trade) => {
                self.trades += 1;
                self.first_trade_clock
                    .get_or_insert((trade.exchange_time, at_ms));
                TapeItem::Trade {
                    at_ms,
                    trade: *trade,
                }
            }
            TapeEvent::ConditionEnter { market_time, .. } => {
                self.condition_events += 1;
                self.first_condition_clock
                    .get_or_insert((*market_time, at_ms));
                TapeItem::Enter { at_ms, ticker }
            }
            TapeEvent::ConditionExit { market_time, .. } => {
                self.condition_events += 1;
                self.first_condition_clock
                    .get_or_insert((*market_time, at_ms));
                TapeItem::Exit { at_ms, ticker }
            }
            _ => return,
        };
        self.items.push(item);
    }

    pub fn finish(self) -> Result<TapeDay, TapeDayError> {
        let Some((time, at_ms)) = self.first_trade_clock.or(self.first_condition_clock) else {
            return Err(TapeDayError::Empty);
        };
        let secs = u64::from(time.secs()).saturating_sub(at_ms / 1000);
        Ok(TapeDay {
            name: self.started_name.unwrap_or(self.fallback_name),
            items: self.items,
            start_time: TimeOfDay::from_secs(secs as u32),
            tickers: self.tickers,
            trades: self.trades,
            condition_events: self.condition_events,
            skipped: self.skipped,
        })
    }
}

/// Lists every ticker of `day` in `listings` (see the module docs). Names of added
/// tickers are leaked once per exchange: a listing's name is `&'static str` everywhere it
/// is copied (orders, fills, alerts), and a tape names a bounded set of tickers.
pub(super) fn list_tape_tickers(listings: &mut Vec<Listing>, day: &TapeDay) {
    let index: HashMap<Ticker, usize> = listings
        .iter()
        .enumerate()
        .map(|(i, l)| (l.ticker, i))
        .collect();
    for &(ticker, prev_close) in &day.tickers {
        match index.get(&ticker) {
            Some(&i) => {
                if let Some(pc) = prev_close {
                    let l = &mut listings[i];
                    l.prev_close = pc;
                    l.limits = DailyLimits::from_base(pc);
                }
            }
            None => {
                let pc = prev_close.unwrap_or(UNPRICED_PREV_CLOSE);
                let name: &'static str = Box::leak(ticker.as_str().to_owned().into_boxed_str());
                listings.push(Listing {
                    ticker,
                    name,
                    market: Market::Kospi,
                    prev_close: pc,
                    limits: DailyLimits::from_base(pc),
                    isin: stock_isin(ticker),
                    prev_day_volume: 0,
                });
            }
        }
    }
}

/// Where the play is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeProgress {
    /// The condition's query_index and name.
    pub query_index: &'static str,
    pub name: String,
    pub trades: u64,
    pub condition_events: u64,
    pub played_trades: u64,
    pub played_condition_events: u64,
    /// Offset of the last item played (0 before the first).
    pub position_ms: u64,
    /// Offset of the tape's last item.
    pub end_ms: u64,
    /// Every item has been played.
    pub finished: bool,
}

/// What one call of [`Exchange::play_tape`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapeStep {
    pub played: usize,
    /// The step ended right after this ticker entered the condition.
    pub entered: Option<Ticker>,
    /// The step ended before a trade of a blocked ticker.
    pub blocked: bool,
    /// Every item has been played.
    pub finished: bool,
}

/// The play state inside an [`Exchange`].
#[derive(Clone, Debug)]
pub(super) struct TapePlay {
    pub day: std::sync::Arc<TapeDay>,
    pub cursor: usize,
    pub played_trades: u64,
    pub played_conditions: u64,
    pub position_ms: u64,
}

impl TapePlay {
    pub fn new(day: std::sync::Arc<TapeDay>) -> TapePlay {
        TapePlay {
            day,
            cursor: 0,
            played_trades: 0,
            played_conditions: 0,
            position_ms: 0,
        }
    }
}

/// The frame of one recorded trade: every field the tape has goes out as recorded
/// (price, qty, cumulative volume, previous close with the sign and change from it,
/// aggressor, exchange time); the rest (open/high/low, buy/sell volumes, value, VWAP,
/// quotes) is the quote's running state over the trades played.
fn record_trade(q: &mut Quote, seq: u64, t: &TapeTrade) -> super::events::TradeEvent {
    let mut ev = q.record(
        seq,
        t.price,
        t.qty.shares(),
        t.aggressor,
        t.exchange_time,
        0,
    );
    let played = q.buy_volume.saturating_add(q.sell_volume);
    if played > 0 {
        q.vwap = super::price_of(q.value / i64::try_from(played).unwrap_or(i64::MAX));
    }
    q.volume = t.cum_volume;
    ev.volume = t.cum_volume;
    ev.vwap = q.vwap;
    if t.prev_close != ev.prev_close {
        // The sign must agree with the change from this trade's own previous close, or a
        // client would decode a different one.
        let l = DailyLimits::from_base(t.prev_close);
        ev.prev_close = t.prev_close;
        ev.upper_limit = l.upper;
        ev.lower_limit = l.lower;
    }
    ev
}

impl Exchange {
    /// True when this exchange plays a tape.
    pub fn is_tape(&self) -> bool {
        self.tape.is_some()
    }

    /// Where the play is; `None` unless this exchange plays a tape.
    pub fn tape_progress(&self) -> Option<TapeProgress> {
        let p = self.tape.as_ref()?;
        Some(TapeProgress {
            query_index: TAPE_QUERY_INDEX,
            name: p.day.name.clone(),
            trades: p.day.trades,
            condition_events: p.day.condition_events,
            played_trades: p.played_trades,
            played_condition_events: p.played_conditions,
            position_ms: p.position_ms,
            end_ms: p.day.end_ms(),
            finished: p.cursor >= p.day.items.len(),
        })
    }

    /// Offset of the last item played (0 before the first, and without a tape).
    pub fn tape_position_ms(&self) -> u64 {
        self.tape.as_ref().map_or(0, |p| p.position_ms)
    }

    /// Offset of the tape's last item (0 without a tape).
    pub fn tape_end_ms(&self) -> u64 {
        self.tape.as_ref().map_or(0, |p| p.day.end_ms())
    }

    /// The next item to play, if any.
    pub fn tape_peek(&self) -> Option<&TapeItem> {
        let p = self.tape.as_ref()?;
        p.day.items.get(p.cursor)
    }

    /// Plays every item whose offset is at or before `now_ms`, in order.
    pub(super) fn play_tape_until(&mut self, now_ms: u64, out: &mut Vec<Event>) {
        while let Some(&item) = self.tape_peek() {
            if item.at_ms() > now_ms {
                break;
            }
            self.play_item(item, out);
        }
    }

    /// Full speed: plays up to `max` items regardless of their offsets. Stops right after a
    /// condition entry (so the caller can let the clients subscribe the ticker) and before a
    /// trade of a ticker `blocked` says to hold back.
    pub fn play_tape(
        &mut self,
        max: usize,
        blocked: impl Fn(Ticker) -> bool,
        out: &mut Vec<Event>,
    ) -> TapeStep {
        let mut step = TapeStep::default();
        while step.played < max {
            let Some(&item) = self.tape_peek() else {
                break;
            };
            if let TapeItem::Trade { trade, .. } = item {
                if blocked(trade.ticker) {
                    step.blocked = true;
                    break;
                }
            }
            self.play_item(item, out);
            step.played += 1;
            if let TapeItem::Enter { ticker, .. } = item {
                step.entered = Some(ticker);
                break;
            }
        }
        step.finished = self.tape_peek().is_none() && self.tape.is_some();
        step
    }

    fn play_item(&mut self, item: TapeItem, out: &mut Vec<Event>) {
        let Some(play) = self.tape.as_mut() else {
            return;
        };
        play.cursor += 1;
        play.position_ms = item.at_ms();
        match item {
            TapeItem::Trade { .. } => play.played_trades += 1,
            TapeItem::Enter { .. } | TapeItem::Exit { .. } => play.played_conditions += 1,
        }
        let Some(idx) = self.index_of(item.ticker()) else {
            return; // cannot happen: every tape ticker is listed
        };
        match item {
            TapeItem::Trade { trade, .. } => {
                self.trade_seq += 1;
                let ev = record_trade(&mut self.quotes[idx], self.trade_seq, &trade);
                out.push(Event::Trade(ev));
                if !self.books[idx].is_empty() {
                    self.match_trade(idx, &ev, out);
                }
            }
            TapeItem::Enter { at_ms, .. } | TapeItem::Exit { at_ms, .. } => {
                let entered = matches!(item, TapeItem::Enter { .. });
                if let Some(m) = self
                    .cond
                    .tape
                    .as_mut()
                    .and_then(|tc| tc.member.get_mut(idx))
                {
                    *m = entered;
                }
                self.membership_changed(TAPE_COND, idx, entered, at_ms, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Instant;

    use condor_model::market::{Qty, Side};
    use condor_model::wire::realtime::{decode_server_frame, ServerFrame};

    use super::super::{ExchangeConfig, NewOrder, TradeEvent};
    use super::*;
    use condor_core::tape::TapeStarted;

    const SAMSUNG: &str = "005930"; // in the universe (55,500 there; the tape says 70,000)
    const UNKNOWN: &str = "123450"; // not in the universe
    /// 2024-01-02 09:59:59.500 KST in Unix ns: the tape's first record.
    const T0: i64 = 1_704_157_199_500_000_000;

    fn tk(code: &str) -> Ticker {
        Ticker::parse(code).unwrap()
    }

    fn rec(seq: u64, ms: i64, event: TapeEvent) -> TapeRecord {
        TapeRecord {
            seq,
            recv_ns: T0 + ms * 1_000_000,
            event,
        }
    }

    fn trade(
        code: &str,
        price: i64,
        qty: u64,
        cum: u64,
        prev: i64,
        side: Side,
        time: TimeOfDay,
    ) -> TapeTrade {
        TapeTrade {
            ticker: tk(code),
            price: Price::lit(price),
            qty: Qty::lit(qty),
            cum_volume: cum,
            prev_close: Price::lit(prev),
            aggressor: side,
            exchange_time: time,
            seq: 0,
        }
    }

    fn at(h: u32, m: u32, s: u32) -> TimeOfDay {
        TimeOfDay::hms(h, m, s)
    }

    /// A small day: a start record, 005930 enters, trades on two tickers (one unknown to
    /// the universe), records the simulator ignores, 005930 leaves and enters again.
    fn day_records() -> Vec<TapeRecord> {
        let ev = |e: TapeEvent| e;
        let mut v = Vec::new();
        let mut seq = 0;
        let mut push = |ms: i64, e: TapeEvent| {
            seq += 1;
            v.push(rec(seq, ms, e));
        };
        push(
            -5_000,
            ev(TapeEvent::Started(Box::new(TapeStarted {
                writer: "condor 0.1.0".into(),
                condition: "돌파 매매".into(),
                strategy: "momentum".into(),
                settings: BTreeMap::new(),
            }))),
        );
        push(
            0,
            TapeEvent::ConditionEnter {
                ticker: tk(SAMSUNG),
                market_time: at(9, 59, 59),
                condition: ConditionId::FIRST,
            },
        );
        push(
            500,
            TapeEvent::Trade(trade(
                SAMSUNG,
                70_100,
                7,
                1_000_007,
                70_000,
                Side::Buy,
                at(10, 0, 0),
            )),
        );
        push(
            700,
            TapeEvent::Trade(trade(
                UNKNOWN,
                9_990,
                3,
                503,
                10_000,
                Side::Sell,
                at(10, 0, 0),
            )),
        );
        push(
            700,
            TapeEvent::Timer {
                market_time: at(10, 0, 0),
            },
        );
        push(
            1_500,
            TapeEvent::Trade(trade(
                SAMSUNG,
                70_300,
                5,
                1_000_012,
                70_000,
                Side::Buy,
                at(10, 0, 1),
            )),
        );
        push(
            2_500,
            TapeEvent::Trade(trade(
                SAMSUNG,
                70_000,
                10,
                1_000_022,
                70_000,
                Side::Sell,
                at(10, 0, 2),
            )),
        );
        push(2_600, TapeEvent::Reconnected);
        push(
            3_500,
            TapeEvent::Trade(trade(
                SAMSUNG,
                69_900,
                50,
                1_000_072,
                70_000,
                Side::Sell,
                at(10, 0, 3),
            )),
        );
        push(
            4_000,
            TapeEvent::ConditionExit {
                ticker: tk(SAMSUNG),
                market_time: at(10, 0, 3),
                condition: ConditionId::FIRST,
            },
        );
        push(
            4_500,
            TapeEvent::Trade(trade(
                UNKNOWN,
                10_000,
                4,
                507,
                10_000,
                Side::Buy,
                at(10, 0, 4),
            )),
        );
        push(
            5_000,
            TapeEvent::ConditionEnter {
                ticker: tk(SAMSUNG),
                market_time: at(10, 0, 4),
                condition: ConditionId::FIRST,
            },
        );
        push(
            5_500,
            TapeEvent::Trade(trade(
                SAMSUNG,
                70_500,
                2,
                1_000_074,
                70_000,
                Side::Buy,
                at(10, 0, 5),
            )),
        );
        push(6_000, TapeEvent::Stopped);
        v
    }

    fn day() -> Arc<TapeDay> {
        Arc::new(TapeDay::from_records(day_records(), "2024-01-02").unwrap())
    }

    fn exchange() -> Exchange {
        Exchange::new(ExchangeConfig {
            tape: Some(day()),
            ..ExchangeConfig::default()
        })
    }

    fn trades(events: &[Event]) -> Vec<TradeEvent> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Trade(t) => Some(*t),
                _ => None,
            })
            .collect()
    }

    fn alerts(events: &[Event]) -> Vec<(&'static str, String)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::ConditionAlert(a) => Some((a.job.flag(), a.code.clone())),
                _ => None,
            })
            .collect()
    }

    fn recorded_trades() -> Vec<TapeTrade> {
        day_records()
            .into_iter()
            .filter_map(|r| match r.event {
                TapeEvent::Trade(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    /// What a client decoding the frame of `t` gets back, as a tape trade (seq 0).
    fn decoded(t: &TradeEvent) -> TapeTrade {
        let text = crate::render::trade_frame(t);
        let ServerFrame::Trade { body, .. } = decode_server_frame(&text).unwrap() else {
            panic!("a trade frame: {text}")
        };
        TapeTrade::from_tick(&body.fields().to_tick(Instant::now()).unwrap())
    }

    #[test]
    fn the_day_is_its_playable_records_with_offsets_a_name_and_a_clock() {
        let d = day();
        assert_eq!(d.name(), "돌파 매매", "the Started record names it");
        assert_eq!((d.trades(), d.condition_events()), (7, 3));
        let offsets: Vec<u64> = d.items().iter().map(TapeItem::at_ms).collect();
        // From the first playable record (the enter), not the Started record before it.
        assert_eq!(
            offsets,
            [0, 500, 700, 1_500, 2_500, 3_500, 4_000, 4_500, 5_000, 5_500]
        );
        // The first trade, 0.5 s in, printed at 10:00:00: the clock starts at 10:00:00.
        assert_eq!(d.start_time(), at(10, 0, 0));
        assert_eq!(d.end_ms(), 5_500);
        assert_eq!(
            d.tickers(),
            [
                (tk(SAMSUNG), Some(Price::lit(70_000))),
                (tk(UNKNOWN), Some(Price::lit(10_000)))
            ]
        );

        // Without a Started record: the fallback name; a clock going back keeps the order.
        let mut recs: Vec<TapeRecord> = day_records().into_iter().skip(1).collect();
        recs[4].recv_ns = T0 - 60_000_000_000; // the 1,500 ms trade, a minute before the first
        let d = TapeDay::from_records(recs, "2024-01-02").unwrap();
        assert_eq!(d.name(), "2024-01-02");
        let offsets: Vec<u64> = d.items().iter().map(TapeItem::at_ms).collect();
        assert!(offsets.windows(2).all(|w| w[0] <= w[1]), "{offsets:?}");
        assert_eq!(d.items()[3].at_ms(), 700, "held at the one before it");

        // Nothing to play, or only bad prices: refused / skipped.
        let only_markers = vec![
            rec(1, 0, TapeEvent::Stopped),
            rec(2, 1, TapeEvent::Reconnected),
        ];
        assert_eq!(
            TapeDay::from_records(only_markers, "x").unwrap_err(),
            TapeDayError::Empty
        );
        let bad = vec![rec(
            1,
            0,
            TapeEvent::Trade(trade(SAMSUNG, 0, 1, 1, 70_000, Side::Buy, at(10, 0, 0))),
        )];
        assert_eq!(
            TapeDay::from_records(bad.clone(), "x").unwrap_err(),
            TapeDayError::Empty
        );
        let mut b = TapeDayBuilder::new("x");
        for r in &bad {
            b.push(r);
        }
        b.push(&rec(
            4,
            3,
            TapeEvent::ConditionEnter {
                ticker: tk(UNKNOWN),
                market_time: at(9, 30, 0),
                condition: ConditionId::FIRST,
            },
        ));
        let d = b.finish().unwrap();
        assert_eq!((d.skipped(), d.trades(), d.condition_events()), (1, 0, 1));
        // No trade: the clock starts at the first condition event's market time.
        assert_eq!(d.start_time(), at(9, 30, 0));
    }

    #[test]
    fn the_tape_tickers_are_listed_and_only_the_tape_condition_exists() {
        let mut ex = exchange();
        let s = ex.listing(tk(SAMSUNG)).unwrap();
        assert_eq!(
            (s.name, s.market),
            ("삼성전자", Market::Kospi),
            "kept from the universe"
        );
        assert_eq!(
            s.prev_close,
            Price::lit(70_000),
            "the tape's previous close"
        );
        assert_eq!(
            s.limits,
            DailyLimits::from_base(Price::lit(70_000)),
            "±30% from it"
        );
        let u = ex.listing(tk(UNKNOWN)).unwrap();
        assert_eq!(
            (u.name, u.market, u.prev_close),
            (UNKNOWN, Market::Kospi, Price::lit(10_000))
        );
        assert_eq!(u.limits, DailyLimits::from_base(Price::lit(10_000)));
        assert_eq!(ex.quote(tk(UNKNOWN)).unwrap().price, Price::lit(10_000));
        assert_eq!(
            ex.listings().len(),
            51,
            "the universe and the one it lacked"
        );

        let conds = ex.conditions();
        assert_eq!(conds.len(), 1);
        assert_eq!(
            (
                conds[0].query_index.as_str(),
                conds[0].query_name.as_str(),
                conds[0].group_name.as_str()
            ),
            (TAPE_QUERY_INDEX, "돌파 매매", TAPE_GROUP)
        );
        assert!(ex.register_alert("0000", 0).is_err(), "momentum is off");
        assert!(ex.condition_members("0000").is_none());
        assert_eq!(ex.condition_members(TAPE_QUERY_INDEX), Some(vec![]));
        // The clock follows the tape.
        assert_eq!(ex.clock(0), at(10, 0, 0));
        assert_eq!(ex.clock(3_500), at(10, 0, 3));
        assert!(ex.is_open(0));
    }

    #[test]
    fn trades_and_condition_events_play_in_order_at_their_times_with_the_recorded_fields() {
        let mut ex = exchange();
        let alert = ex.register_alert(TAPE_QUERY_INDEX, 0).unwrap();
        let mut out = Vec::new();
        ex.advance(0, &mut out);
        assert_eq!(
            alerts(&out),
            [("N", SAMSUNG.to_owned())],
            "only what is due at 0"
        );
        assert!(trades(&out).is_empty());
        match &out[0] {
            Event::ConditionAlert(a) => assert_eq!(a.alert_num, alert),
            other => panic!("an alert: {other:?}"),
        }
        assert_eq!(
            ex.condition_members(TAPE_QUERY_INDEX),
            Some(vec![tk(SAMSUNG)])
        );
        out.clear();
        ex.advance(499, &mut out);
        assert!(out.is_empty(), "the next trade is due at 500 ms");
        ex.advance(500, &mut out);
        assert_eq!(trades(&out).len(), 1);
        // The rest, a step at a time: each at its own offset.
        let mut seen = trades(&out);
        let mut flags = Vec::new();
        for now in (501..=6_000).step_by(250) {
            out.clear();
            ex.advance(now, &mut out);
            for t in trades(&out) {
                let due = day()
                    .items()
                    .iter()
                    .filter(|i| matches!(i, TapeItem::Trade { .. }))
                    .nth(seen.len())
                    .unwrap()
                    .at_ms();
                assert!(
                    due <= now && now < due + 250,
                    "trade due at {due} printed at {now}"
                );
                seen.push(t);
            }
            flags.extend(alerts(&out));
        }
        assert_eq!(
            flags,
            [("O", SAMSUNG.to_owned()), ("R", SAMSUNG.to_owned())],
            "exit, then entry again (R: entered before under this alert)"
        );
        let recorded = recorded_trades();
        assert_eq!(seen.len(), recorded.len());
        for (t, r) in seen.iter().zip(&recorded) {
            assert_eq!(
                (
                    t.ticker,
                    t.price,
                    t.qty,
                    t.volume,
                    t.prev_close,
                    t.aggressor,
                    t.time
                ),
                (
                    r.ticker,
                    r.price,
                    r.qty,
                    r.cum_volume,
                    r.prev_close,
                    r.aggressor,
                    r.exchange_time
                )
            );
            // What a client decodes from the frame is the recorded trade.
            assert_eq!(decoded(t), *r);
        }
        assert_eq!(
            ex.quote(tk(SAMSUNG)).unwrap().volume,
            1_000_074,
            "t1102 volume"
        );
        assert_eq!(ex.quote(tk(SAMSUNG)).unwrap().price, Price::lit(70_500));
        assert_eq!(
            ex.condition_members(TAPE_QUERY_INDEX),
            Some(vec![tk(SAMSUNG)])
        );
        let p = ex.tape_progress().unwrap();
        assert_eq!(
            (
                p.played_trades,
                p.played_condition_events,
                p.position_ms,
                p.finished
            ),
            (7, 3, 5_500, true)
        );
        // Nothing more, however long the market stays open.
        out.clear();
        ex.advance(u64::MAX, &mut out);
        let step = ex.play_tape(1_000, |_| false, &mut out);
        assert!(out.is_empty());
        assert_eq!((step.played, step.finished), (0, true));
        assert_eq!(ex.trade_count(), 7);
    }

    #[test]
    fn a_trade_with_another_previous_close_keeps_its_own_in_the_frame() {
        let recs = vec![
            rec(
                1,
                0,
                TapeEvent::Trade(trade(
                    SAMSUNG,
                    70_100,
                    1,
                    1,
                    70_000,
                    Side::Buy,
                    at(10, 0, 0),
                )),
            ),
            // At its own upper limit (from 50,000), far below the listing's first close.
            rec(
                2,
                1,
                TapeEvent::Trade(trade(
                    SAMSUNG,
                    65_000,
                    1,
                    2,
                    50_000,
                    Side::Buy,
                    at(10, 0, 0),
                )),
            ),
            rec(
                3,
                2,
                TapeEvent::Trade(trade(
                    SAMSUNG,
                    35_000,
                    1,
                    3,
                    50_000,
                    Side::Sell,
                    at(10, 0, 0),
                )),
            ),
            rec(
                4,
                3,
                TapeEvent::Trade(trade(SAMSUNG, 51_000, 1, 4, 0, Side::Sell, at(10, 0, 0))),
            ),
        ];
        let recorded: Vec<TapeTrade> = recs
            .iter()
            .filter_map(|r| match r.event {
                TapeEvent::Trade(t) => Some(t),
                _ => None,
            })
            .collect();
        let mut ex = Exchange::new(ExchangeConfig {
            tape: Some(Arc::new(TapeDay::from_records(recs, "x").unwrap())),
            ..ExchangeConfig::default()
        });
        let mut out = Vec::new();
        ex.advance(10, &mut out);
        let seen = trades(&out);
        assert_eq!(seen[1].sign(), "1");
        assert_eq!(seen[2].sign(), "4");
        for (t, r) in seen.iter().zip(&recorded) {
            assert_eq!(decoded(t), *r);
        }
    }

    fn limit_buy(code: &str, qty: i64, price: i64) -> NewOrder {
        NewOrder {
            isu_no: code.to_owned(),
            qty,
            price,
            side: Side::Buy,
            price_type: "00".to_owned(),
            condition: "0".to_owned(),
        }
    }

    fn fills(events: &[Event]) -> Vec<(i64, i64, u64, u64)> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::OrderFilled(f) => {
                    Some((f.ord_no, f.fill_price.won(), f.fill_qty, f.remaining))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_limit_buy_fills_against_later_recorded_trades_at_or_through_its_price_by_their_quantity() {
        let mut ex = exchange();
        let mut out = Vec::new();
        ex.advance(500, &mut out); // 70,100 × 7 printed before the order
        out.clear();
        let ack = ex
            .submit(limit_buy(SAMSUNG, 30, 70_000), 600, &mut out)
            .unwrap();
        assert_eq!(
            (ack.time, ack.ms),
            (at(10, 0, 0), 600),
            "stamped by the tape's clock"
        );
        out.clear();
        ex.advance(1_500, &mut out);
        assert!(fills(&out).is_empty(), "70,300 is above the limit");
        out.clear();
        ex.advance(2_500, &mut out);
        assert_eq!(
            fills(&out),
            [(ack.ord_no, 70_000, 10, 20)],
            "at the limit: the print's 10"
        );
        out.clear();
        ex.advance(3_500, &mut out);
        assert_eq!(
            fills(&out),
            [(ack.ord_no, 69_900, 20, 0)],
            "through it: the rest of 50"
        );
        let f = out.iter().find_map(|e| match e {
            Event::OrderFilled(f) => Some(f.clone()),
            _ => None,
        });
        assert_eq!(
            f.unwrap().time,
            at(10, 0, 3),
            "at the print's exchange time"
        );
        let cost = 70_000 * 10 + 69_900 * 20;
        assert_eq!(ex.account().cash, 100_000_000 - cost);

        // A market order fills at the next trade of its ticker, whatever its price.
        out.clear();
        let m = ex
            .submit(
                NewOrder {
                    price_type: "03".into(),
                    price: 0,
                    ..limit_buy(UNKNOWN, 6, 0)
                },
                3_600,
                &mut out,
            )
            .unwrap();
        out.clear();
        ex.advance(4_500, &mut out);
        assert_eq!(
            fills(&out),
            [(m.ord_no, 10_000, 4, 2)],
            "partially: the print had 4"
        );
        out.clear();
        ex.advance(u64::MAX, &mut out);
        assert!(
            fills(&out).is_empty(),
            "no more prints of it: the rest stays working"
        );
        assert_eq!(ex.order(m.ord_no).unwrap().remaining, 2);
    }

    #[test]
    fn full_speed_stops_after_an_entry_and_before_a_held_trade() {
        let mut ex = exchange();
        ex.register_alert(TAPE_QUERY_INDEX, 0).unwrap();
        let mut out = Vec::new();
        let step = ex.play_tape(100, |_| false, &mut out);
        assert_eq!((step.played, step.entered), (1, Some(tk(SAMSUNG))));
        assert_eq!(alerts(&out).len(), 1);
        // 005930 is held back: nothing plays, its trade is next.
        let step = ex.play_tape(100, |t| t == tk(SAMSUNG), &mut out);
        assert_eq!((step.played, step.blocked), (0, true));
        // Released: it plays on to the next entry, then to the end, in order.
        out.clear();
        let step = ex.play_tape(100, |_| false, &mut out);
        assert_eq!(
            (step.played, step.entered, step.finished),
            (8, Some(tk(SAMSUNG)), false)
        );
        assert_eq!(trades(&out).len(), 6);
        let step = ex.play_tape(100, |_| false, &mut out);
        assert_eq!((step.played, step.finished), (1, true));
        let seen = trades(&out);
        assert_eq!(seen.len(), 7);
        for (t, r) in seen.iter().zip(recorded_trades()) {
            assert_eq!(
                (t.ticker, t.price, t.qty, t.volume),
                (r.ticker, r.price, r.qty, r.cum_volume)
            );
        }
        assert_eq!(ex.tape_position_ms(), 5_500);
        // A count limit is kept.
        let mut ex = exchange();
        let step = ex.play_tape(1, |_| false, &mut out);
        assert_eq!(step.played, 1);
    }

    #[test]
    fn scenario_cash_and_holdings_apply_but_its_conditions_do_not() {
        let scenario = super::super::Scenario::parse(
            "cash 5000000\nholding 005930 10 60000\ncondition S001 x\nat 0ms S001 enter 005930\n",
        )
        .unwrap();
        let mut ex = Exchange::new(ExchangeConfig {
            tape: Some(day()),
            scenario: Some(scenario),
            ..ExchangeConfig::default()
        });
        assert_eq!(ex.account().cash, 5_000_000);
        assert_eq!(ex.conditions().len(), 1);
        assert!(ex.register_alert("S001", 0).is_err());
        let mut out = Vec::new();
        ex.advance(100, &mut out);
        assert_eq!(alerts(&out), [], "no alert registered, nothing sent");
    }
}
