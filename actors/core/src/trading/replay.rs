//! Replay: a recorded day's tape fed through the strategies' part of the core
//! ([`StrategyDesk`]) in the order the Processor received it, and the intents that come
//! out compared with the intents the live run recorded.
//!
//! Each `Started` record (one per start of condor that day) begins a fresh desk built from
//! the strategy and settings it names, as the live start did; the recovered holdings that
//! start fed the strategies are on the tape as fills after it. Intents are compared by the
//! input they followed (the trade, timer, fill, … whose handling produced them), so one
//! difference is reported once and does not shift every later intent.
//!
//! The order engine's records (the OrderManager's inputs and decisions) are replayed
//! alongside through [`DeskReplay`]: a fresh [`crate::trading::OrderDesk`] per recorded
//! start, each input fed at its recorded stamp, each decision compared.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::Serialize;

use crate::domain::{ClientOrderId, OrderDone, OrderIntent, OrderType};
use crate::market::{Side, Ticker};
use crate::strategy::{JobOutput, StrategyFactory};
use crate::tape::{TapeEvent, TapeIntent, TapeRecord};
use crate::trading::desk_tape::{DeskOutcome, DeskReplay, StampRecord};
use crate::trading::strategies::{DeskCondition, JobTicket};
use crate::trading::StrategyDesk;

/// One intent as `condor replay` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IntentRow {
    pub ticker: String,
    pub side: &'static str,
    pub qty: u64,
    /// `market` or `limit`.
    pub order_type: &'static str,
    /// The limit price in won; `None` for a market order.
    pub price: Option<i64>,
    pub reason: String,
    /// The trade that caused it; 0 for one a timer caused.
    pub tick_seq: u64,
}

impl IntentRow {
    pub fn new(i: &TapeIntent) -> IntentRow {
        let (order_type, price) = match i.order_type {
            OrderType::Market => ("market", None),
            OrderType::Limit(p) => ("limit", Some(p.won())),
        };
        IntentRow {
            ticker: i.ticker.as_str().to_owned(),
            side: match i.side {
                Side::Buy => "buy",
                Side::Sell => "sell",
            },
            qty: i.qty.shares(),
            order_type,
            price,
            reason: i.reason.clone(),
            tick_seq: i.tick_seq,
        }
    }

    pub fn of(i: &OrderIntent) -> IntentRow {
        IntentRow::new(&TapeIntent {
            ticker: i.ticker,
            side: i.side,
            qty: i.qty,
            order_type: i.order_type,
            reason: i.reason.to_owned(),
            tick_seq: i.tick_seq,
        })
    }
}

impl std::fmt::Display for IntentRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.ticker, self.side, self.qty, self.order_type
        )?;
        if let Some(p) = self.price {
            write!(f, " {p}")?;
        }
        write!(f, " ({}) after tick #{}", self.reason, self.tick_seq)
    }
}

/// An intent live and replay disagree on: one side missing, or both there but different.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The tape record (seq) whose handling produced the intent(s).
    pub after_record: u64,
    pub live: Option<IntentRow>,
    pub replayed: Option<IntentRow>,
}

/// What a replay found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReplayOutcome {
    /// Starts of condor on the tape (each a fresh desk).
    pub starts: u64,
    /// Records read, and of them trades.
    pub records: u64,
    pub trades: u64,
    /// Intents the live run recorded, with the record each followed.
    pub live: Vec<(u64, IntentRow)>,
    /// Intents the replay produced, with the record each followed.
    pub replayed: Vec<(u64, IntentRow)>,
    pub differences: Vec<Difference>,
    /// Compute jobs' answers delivered at their recorded places.
    pub jobs: u64,
    /// The order engine's replay: its recorded inputs fed to a fresh desk, its decisions
    /// compared line by line.
    pub orders: DeskOutcome,
}

/// The strategy to replay with: its name and settings as a `Started` record gave them
/// (`None` for a tape with no start record, e.g. one imported from CSV).
pub struct StartedWith<'a> {
    pub strategy: Option<&'a str>,
    pub settings: Option<&'a BTreeMap<String, String>>,
}

/// The conditions a start traded, from its recorded settings: the first under plain names
/// (with the start's strategy), each further one under `c<N>.` (see `condor run`'s
/// journaled settings). Each: its strategy, its settings with the prefix taken off, its
/// most open positions.
fn conditions_of(
    strategy: &str,
    settings: &BTreeMap<String, String>,
) -> Vec<(String, BTreeMap<String, String>, Option<usize>)> {
    let max = |s: &BTreeMap<String, String>| s.get("max_positions").and_then(|v| v.parse().ok());
    let mut out = vec![(strategy.to_owned(), settings.clone(), max(settings))];
    for n in 2.. {
        let prefix = format!("c{n}.");
        let own: BTreeMap<String, String> = settings
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_owned(), v.clone())))
            .collect();
        let Some(strategy) = own.get("strategy").cloned() else {
            break;
        };
        let max_positions = max(&own);
        out.push((strategy, own, max_positions));
    }
    out
}

/// Feeds `records` (one day's tape, in order) through a [`StrategyDesk`] built by `build`
/// at each start (once per condition the start traded), and compares the intents with the
/// recorded ones. A strategy's Compute job runs inline when asked; its answer is delivered
/// where the tape says the live answer arrived (`JobDone`), so the interleaving of ticks
/// and answers is the live one.
///
/// The records are taken one at a time (a streaming reader holds one block, not the day);
/// only the intents are kept. The first `Err` among them ends the replay with it.
pub fn replay<E>(
    records: impl IntoIterator<Item = Result<TapeRecord, E>>,
    build: impl FnMut(StartedWith<'_>) -> Result<Box<dyn StrategyFactory>, E>,
) -> Result<ReplayOutcome, E> {
    replay_with(records, build, DeskReplay::new())
}

/// [`replay`], with the order engine's records replayed by `orders` (one that can rebuild
/// the state a desk took over from the day's journal, [`DeskReplay::with_journal`]).
pub fn replay_with<E>(
    records: impl IntoIterator<Item = Result<TapeRecord, E>>,
    mut build: impl FnMut(StartedWith<'_>) -> Result<Box<dyn StrategyFactory>, E>,
    mut orders: DeskReplay<'_>,
) -> Result<ReplayOutcome, E> {
    let mut out = ReplayOutcome::default();
    let mut desk: Option<StrategyDesk> = None;
    let mut intents = Vec::new();
    let mut last_input = 0;
    // Jobs asked and run, by (ticker, asking tick), waiting for their place on the tape.
    let mut answers: HashMap<(Ticker, u64), (JobTicket, JobOutput)> = HashMap::new();
    // A replayed tick's receive instant only times latency, which a replay does not
    // measure: one for all, not a clock read per trade.
    let received_at = Instant::now();
    for r in records {
        let r = r?;
        out.records += 1;
        // The order engine's records are its own stream (the OrderManager's): replayed
        // against a desk of their own, never an input to the strategies.
        match &r.event {
            TapeEvent::DeskOpened(config) => {
                orders.opened(config);
                continue;
            }
            TapeEvent::Desk(d) => {
                let stamp = StampRecord {
                    day: d.day,
                    time: d.time,
                    unix_ms: d.unix_ms,
                };
                orders.input(r.seq, r.recv_ns, stamp, &d.input, &d.commands);
                continue;
            }
            _ => {}
        }
        if let TapeEvent::Started(s) = &r.event {
            out.starts += 1;
            answers.clear();
            let mut conditions = Vec::new();
            for (strategy, settings, max_positions) in conditions_of(&s.strategy, &s.settings) {
                conditions.push(DeskCondition {
                    factory: build(StartedWith {
                        strategy: Some(&strategy),
                        settings: Some(&settings),
                    })?,
                    max_positions,
                });
            }
            desk = Some(StrategyDesk::with_conditions(conditions));
            continue;
        }
        if let TapeEvent::Intent(i) = &r.event {
            out.live.push((last_input, IntentRow::new(i)));
            continue;
        }
        if matches!(r.event, TapeEvent::Stopped | TapeEvent::Reconnected) {
            continue;
        }
        let d = match &mut desk {
            Some(d) => d,
            None => desk.insert(StrategyDesk::new(build(StartedWith {
                strategy: None,
                settings: None,
            })?)),
        };
        last_input = r.seq;
        match &r.event {
            TapeEvent::Trade(t) => {
                out.trades += 1;
                d.on_tick(&t.to_tick(received_at), &mut intents);
                for (ticket, job) in d.take_jobs() {
                    answers.insert((ticket.ticker, ticket.asked_on), (ticket, job.run()));
                }
            }
            TapeEvent::JobDone(j) => {
                // Not asked in this replay (other parameters): nothing to deliver.
                if let Some((ticket, output)) = answers.remove(&(j.ticker, j.asked_on)) {
                    out.jobs += 1;
                    d.on_job_done(&ticket, output, &mut intents);
                }
            }
            TapeEvent::Timer { market_time } => d.on_timer(*market_time, &mut intents),
            TapeEvent::ConditionEnter {
                ticker,
                market_time,
                condition,
            } => d.on_condition_enter(*condition, *ticker, *market_time),
            TapeEvent::ConditionExit {
                ticker,
                market_time,
                condition,
            } => d.on_condition_exit(*condition, *ticker, *market_time),
            TapeEvent::Fill(f) => d.on_fill(f),
            TapeEvent::OrderDone {
                id,
                ticker,
                side,
                filled,
                rejected,
            } => {
                d.on_order_done(&OrderDone {
                    id: id.map(ClientOrderId),
                    ticker: *ticker,
                    side: *side,
                    filled: *filled,
                    rejected: *rejected,
                });
            }
            TapeEvent::Started(_)
            | TapeEvent::Intent(_)
            | TapeEvent::Stopped
            | TapeEvent::Reconnected
            | TapeEvent::DeskOpened(_)
            | TapeEvent::Desk(_) => {}
        }
        out.replayed
            .extend(intents.drain(..).map(|i| (r.seq, IntentRow::of(&i))));
    }
    out.differences = compare(&out.live, &out.replayed);
    out.orders = orders.finish();
    Ok(out)
}

/// Pairs the intents that followed the same record, in order; whatever does not pair up
/// or differs is a difference.
fn compare(live: &[(u64, IntentRow)], replayed: &[(u64, IntentRow)]) -> Vec<Difference> {
    let mut diffs = Vec::new();
    let (mut a, mut b) = (0, 0);
    while a < live.len() || b < replayed.len() {
        let key = match (live.get(a), replayed.get(b)) {
            (Some(l), Some(r)) => l.0.min(r.0),
            (Some(l), None) => l.0,
            (None, Some(r)) => r.0,
            (None, None) => break,
        };
        let l_end = a + live[a..].iter().take_while(|(k, _)| *k == key).count();
        let r_end = b + replayed[b..].iter().take_while(|(k, _)| *k == key).count();
        let (ls, rs) = (&live[a..l_end], &replayed[b..r_end]);
        for i in 0..ls.len().max(rs.len()) {
            let l = ls.get(i).map(|x| x.1.clone());
            let r = rs.get(i).map(|x| x.1.clone());
            if l != r {
                diffs.push(Difference {
                    after_record: key,
                    live: l,
                    replayed: r,
                });
            }
        }
        (a, b) = (l_end, r_end);
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Fill;
    use crate::domain::{ConditionId, OrderNo};
    use crate::market::{Price, Qty, Ticker, TimeOfDay};
    use crate::strategy::{
        strategy_by_name, MomentumParams, MomentumStrategy, StrategyRegistry, VwapBandStrategy,
    };
    use crate::tape::{TapeJobDone, TapeStarted, TapeTrade};

    fn t() -> Ticker {
        Ticker::parse("005930").unwrap()
    }

    fn params() -> MomentumParams {
        MomentumParams {
            min_change_bp: -3000,
            confirm_ticks: 1,
            max_hold_secs: 30,
            ..MomentumParams::default()
        }
    }

    fn settings(p: &MomentumParams) -> BTreeMap<String, String> {
        p.to_params()
            .unwrap()
            .settings()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect()
    }

    fn build(s: StartedWith<'_>) -> Result<Box<dyn StrategyFactory>, String> {
        let settings = s.settings.into_iter().flatten();
        StrategyRegistry::new()
            .build_from_settings(
                s.strategy.unwrap_or("momentum"),
                settings.map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .map_err(|e| e.to_string())
    }

    fn trade(seq: u64, price: i64, at: TimeOfDay) -> TapeEvent {
        TapeEvent::Trade(TapeTrade {
            ticker: t(),
            price: Price::lit(price),
            qty: Qty::lit(10),
            cum_volume: seq * 10,
            prev_close: Price::lit(10_000),
            aggressor: Side::Buy,
            exchange_time: at,
            seq,
        })
    }

    /// A day as the live Processor would record it with `p`: its inputs, and the intents
    /// a desk with `p` produced after each.
    fn live_day(p: &MomentumParams, inputs: Vec<TapeEvent>) -> Vec<TapeRecord> {
        let mut desk =
            StrategyDesk::new(strategy_by_name("momentum", &p.to_params().unwrap()).unwrap());
        let mut events = vec![TapeEvent::Started(Box::new(TapeStarted {
            writer: "condor test".into(),
            condition: "0000".into(),
            strategy: "momentum".into(),
            settings: settings(p),
        }))];
        for e in inputs {
            let mut intents = Vec::new();
            match &e {
                TapeEvent::Trade(tr) => {
                    desk.on_tick(&tr.to_tick(Instant::now()), &mut intents);
                }
                TapeEvent::ConditionEnter {
                    ticker,
                    market_time,
                    condition,
                } => desk.on_condition_enter(*condition, *ticker, *market_time),
                TapeEvent::Fill(f) => desk.on_fill(f),
                TapeEvent::Timer { market_time } => desk.on_timer(*market_time, &mut intents),
                _ => {}
            }
            events.push(e);
            events.extend(intents.iter().map(|i| {
                TapeEvent::Intent(Box::new(TapeIntent {
                    ticker: i.ticker,
                    side: i.side,
                    qty: i.qty,
                    order_type: i.order_type,
                    reason: i.reason.to_owned(),
                    tick_seq: i.tick_seq,
                }))
            }));
        }
        events
            .into_iter()
            .enumerate()
            .map(|(i, event)| TapeRecord {
                seq: i as u64 + 1,
                recv_ns: i as i64 * 1_000,
                event,
            })
            .collect()
    }

    fn inputs() -> Vec<TapeEvent> {
        vec![
            TapeEvent::ConditionEnter {
                ticker: t(),
                market_time: TimeOfDay::hms(9, 0, 0),
                condition: ConditionId::FIRST,
            },
            trade(1, 10_100, TimeOfDay::hms(9, 0, 1)),
            TapeEvent::Fill(Fill {
                ticker: t(),
                side: Side::Buy,
                price: Price::lit(10_100),
                qty: Qty::lit(99),
                order_no: OrderNo(1),
                time: TimeOfDay::hms(9, 0, 1),
            }),
            trade(2, 10_100, TimeOfDay::hms(9, 0, 2)),
            TapeEvent::Timer {
                market_time: TimeOfDay::hms(9, 0, 31),
            },
        ]
    }

    #[test]
    fn a_day_replayed_with_its_own_settings_gives_the_same_intents() {
        let day = live_day(&params(), inputs());
        let out = replay(day.iter().cloned().map(Ok), build).unwrap();
        assert_eq!(out.starts, 1);
        assert_eq!(out.trades, 2);
        // An entry on the first trade and a time stop from the timer.
        assert_eq!(out.live.len(), 2, "{:?}", out.live);
        assert_eq!(out.live[0].1.reason, MomentumStrategy::REASON_ENTRY);
        assert_eq!(out.live[1].1.reason, MomentumStrategy::REASON_TIME_STOP);
        assert_eq!(out.replayed, out.live);
        assert!(out.differences.is_empty(), "{:?}", out.differences);
    }

    #[test]
    fn an_error_reading_the_records_ends_the_replay_with_it() {
        let day = live_day(&params(), inputs());
        let mut built = 0;
        let records = day
            .iter()
            .cloned()
            .map(Ok)
            .take(3)
            .chain([Err("the disk went away".to_owned())])
            .chain(day.iter().cloned().map(Ok));
        let out = replay(records, |s| {
            built += 1;
            build(s)
        });
        assert_eq!(out, Err("the disk went away".to_owned()));
        // Nothing after the error was read: the second copy's start built no desk.
        assert_eq!(built, 1);
    }

    #[test]
    fn a_changed_parameter_is_a_difference_naming_the_record_it_followed() {
        let day = live_day(&params(), inputs());
        let out = replay(day.iter().cloned().map(Ok), |s| {
            let mut p = params().to_params().unwrap();
            for (k, v) in s.settings.into_iter().flatten() {
                p.set(k, v).unwrap();
            }
            p.set("max_hold_secs", "60").unwrap();
            strategy_by_name("momentum", &p)
        })
        .unwrap();
        // The entry still happens; the time stop at 30 s does not.
        assert_eq!(out.differences.len(), 1, "{:?}", out.differences);
        let d = &out.differences[0];
        assert_eq!(d.replayed, None);
        assert_eq!(
            d.live.as_ref().unwrap().reason,
            MomentumStrategy::REASON_TIME_STOP
        );
        let timer_seq = day
            .iter()
            .find(|r| matches!(r.event, TapeEvent::Timer { .. }))
            .unwrap()
            .seq;
        assert_eq!(d.after_record, timer_seq);
    }

    #[test]
    fn a_missing_intent_in_the_middle_does_not_shift_the_later_ones() {
        let mut day = live_day(&params(), inputs());
        // Drop the live entry intent: the replay has one more, and only that differs.
        let at = day
            .iter()
            .position(|r| matches!(r.event, TapeEvent::Intent(_)))
            .unwrap();
        day.remove(at);
        let out = replay(day.iter().cloned().map(Ok), build).unwrap();
        assert_eq!(out.differences.len(), 1, "{:?}", out.differences);
        assert!(out.differences[0].live.is_none());
        assert_eq!(
            out.differences[0].replayed.as_ref().unwrap().reason,
            MomentumStrategy::REASON_ENTRY
        );
    }

    #[test]
    fn each_start_begins_a_fresh_desk() {
        let p = params();
        let mut day = live_day(&p, inputs());
        // A second start later that day: the recovered holding arrives as a fill, then
        // the timer's time stop comes from the new desk (first fill 09:00:40).
        let next = day.len() as u64;
        let again = live_day(
            &p,
            vec![
                TapeEvent::Fill(Fill {
                    ticker: t(),
                    side: Side::Buy,
                    price: Price::lit(10_100),
                    qty: Qty::lit(5),
                    order_no: OrderNo::NONE,
                    time: TimeOfDay::hms(9, 0, 40),
                }),
                trade(3, 10_100, TimeOfDay::hms(9, 0, 41)),
                TapeEvent::Timer {
                    market_time: TimeOfDay::hms(9, 1, 10),
                },
            ],
        );
        day.extend(again.into_iter().map(|mut r| {
            r.seq += next;
            r
        }));
        let out = replay(day.iter().cloned().map(Ok), build).unwrap();
        assert_eq!(out.starts, 2);
        assert_eq!(out.live.len(), 3, "{:?}", out.live);
        assert!(out.differences.is_empty(), "{:?}", out.differences);
    }

    #[test]
    fn a_day_with_compute_jobs_and_two_conditions_replays_identically() {
        let a = t();
        let b = Ticker::parse("000660").unwrap();
        let c2 = ConditionId(1);
        let mut settings = settings(&params());
        for (k, v) in [
            ("c2.condition", "0001"),
            ("c2.strategy", "vwap-band"),
            ("c2.max_positions", "1"),
            ("c2.min_trades", "10"),
            ("c2.trend_trades", "10"),
            ("c2.min_change_bp", "0"),
        ] {
            settings.insert(k.to_owned(), v.to_owned());
        }
        let registry = StrategyRegistry::new();
        let build = |s: StartedWith<'_>| {
            let settings = s.settings.into_iter().flatten();
            registry.build_from_settings(
                s.strategy.unwrap_or("momentum"),
                settings.map(|(k, v)| (k.as_str(), v.as_str())),
            )
        };
        // The live desk, built as the replay will build it.
        let mut conditions = Vec::new();
        for (strategy, own, max_positions) in conditions_of("momentum", &settings) {
            conditions.push(DeskCondition {
                factory: build(StartedWith {
                    strategy: Some(&strategy),
                    settings: Some(&own),
                })
                .unwrap(),
                max_positions,
            });
        }
        let mut desk = StrategyDesk::with_conditions(conditions);
        let mut events = vec![TapeEvent::Started(Box::new(TapeStarted {
            writer: "condor test".into(),
            condition: "0000".into(),
            strategy: "momentum".into(),
            settings,
        }))];
        let mut inputs = vec![
            TapeEvent::ConditionEnter {
                ticker: b,
                market_time: TimeOfDay::hms(9, 0, 0),
                condition: c2,
            },
            TapeEvent::ConditionEnter {
                ticker: a,
                market_time: TimeOfDay::hms(9, 0, 0),
                condition: ConditionId::FIRST,
            },
        ];
        for seq in 1..=30u64 {
            let mut tr = match trade(seq, 10_000 + seq as i64 * 10, TimeOfDay::hms(9, 0, 1)) {
                TapeEvent::Trade(tr) => tr,
                _ => unreachable!(),
            };
            tr.ticker = if seq % 2 == 0 { a } else { b };
            if tr.ticker == b {
                // b's own rising session: ten trades before it is scored.
                tr.price = Price::lit(10_000 + seq as i64);
            }
            inputs.push(TapeEvent::Trade(tr));
        }
        // Live: an answer reaches the desk three inputs after the tick that asked.
        let mut late: Vec<(usize, JobTicket, JobOutput)> = Vec::new();
        let mut pending = std::collections::VecDeque::from(inputs);
        let mut step = 0;
        while let Some(e) = pending.pop_front() {
            step += 1;
            let mut intents = Vec::new();
            match &e {
                TapeEvent::Trade(tr) => {
                    desk.on_tick(&tr.to_tick(Instant::now()), &mut intents);
                    for (ticket, job) in desk.take_jobs() {
                        late.push((step + 3, ticket, job.run()));
                    }
                }
                TapeEvent::ConditionEnter {
                    ticker,
                    market_time,
                    condition,
                } => desk.on_condition_enter(*condition, *ticker, *market_time),
                TapeEvent::JobDone(j) => {
                    let at = late
                        .iter()
                        .position(|(_, t, _)| t.ticker == j.ticker && t.asked_on == j.asked_on)
                        .unwrap();
                    let (_, ticket, output) = late.remove(at);
                    desk.on_job_done(&ticket, output, &mut intents);
                }
                _ => {}
            }
            events.push(e);
            events.extend(intents.iter().map(|i| {
                TapeEvent::Intent(Box::new(TapeIntent {
                    ticker: i.ticker,
                    side: i.side,
                    qty: i.qty,
                    order_type: i.order_type,
                    reason: i.reason.to_owned(),
                    tick_seq: i.tick_seq,
                }))
            }));
            if let Some((_, t, o)) = late.iter().find(|(due, _, _)| *due == step) {
                pending.push_front(TapeEvent::JobDone(Box::new(TapeJobDone {
                    ticker: t.ticker,
                    asked_on: t.asked_on,
                    output: o.clone(),
                })));
            }
        }
        let day: Vec<TapeRecord> = events
            .into_iter()
            .enumerate()
            .map(|(i, event)| TapeRecord {
                seq: i as u64 + 1,
                recv_ns: i as i64 * 1_000,
                event,
            })
            .collect();
        let out = replay(day.iter().cloned().map(Ok), build).unwrap();
        let reasons: Vec<&str> = out.live.iter().map(|(_, i)| i.reason.as_str()).collect();
        assert!(
            reasons.contains(&VwapBandStrategy::REASON_ENTRY)
                && reasons.contains(&MomentumStrategy::REASON_ENTRY),
            "both conditions traded: {reasons:?}"
        );
        assert_eq!(out.jobs, 1);
        assert_eq!(out.replayed, out.live);
        assert!(out.differences.is_empty(), "{:?}", out.differences);
        // The vwap entry followed the answer's record, not the tick that asked.
        let (after, row) = out
            .live
            .iter()
            .find(|(_, i)| i.reason == VwapBandStrategy::REASON_ENTRY)
            .unwrap();
        assert!(matches!(
            day[*after as usize - 1].event,
            TapeEvent::JobDone(_)
        ));
        assert_eq!(row.ticker, "000660");
    }
}
