//! The trading core fed arbitrary but decodable inputs, shared by the fuzz harness's
//! `core` target (`examples/fuzz_decoders.rs`) and its quick run in the tests
//! (`tests/core_inputs.rs`).
//!
//! A day is one fresh core, wired as `condor run` wires it: the strategies' desk (two
//! conditions, momentum and vwap_band, parameters drawn within their ranges), the order
//! desk (risk gate, order rate, kill switch, order state machine, journaled) and the
//! Portfolio's ledger with fees, with this driver in the broker's, the journal's and the
//! clock's place. Every input is something a decoder can hand the engine: a trade of
//! any price and quantity that `TradeFields::to_tick` takes (the hot path's own
//! conversion; one it refuses is counted, not fed), account events with any order
//! number, price and quantity the SC0–SC4 decoders read (known order numbers most of
//! the time, duplicates, out of order), condition enters and exits, timers, the
//! broker's replies to what the desk asked (late, out of order, repeated, lost), bands,
//! order lists, cash, the journal's confirmations, and the operator's trips.
//!
//! A day's inputs depend only on its seed, so a panic replays with the harness's flags.
//! Built with overflow checks (debug tests, or the harness with
//! `CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true`), an overflow anywhere is a panic here.

// Each includer uses its own part of this file (the test sums its seeds' tallies, the
// harness prints them per seed).
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use condor_actors::clock::TradingDay;
use condor_actors::domain::{
    AccountEvent, ClientOrderId, ConditionId, ExecNo, OrderIntent, OrderNo, OrderType,
};
use condor_actors::kill_switch::TripCause;
use condor_actors::ledger::{FeeSchedule, Ledger};
use condor_actors::market::{DailyLimits, Price, Qty, Side, Ticker, TimeOfDay, MAX_PRICE, MAX_QTY};
use condor_actors::reconcile::BrokerOrder;
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::{
    ComputeJob, MomentumFactory, MomentumParams, VwapBandFactory, VwapBandParams,
};
use condor_actors::trading::orders::{
    Band, CancelReply, Command, OrderReply, RateExcess, Stamp, Timer,
};
use condor_actors::trading::strategies::{DeskCondition, JobTicket};
use condor_actors::trading::{OrderDesk, StrategyDesk};
use condor_actors::wire::realtime::TradeFields;

/// What the days fed and what the core did with it.
#[derive(Clone, Copy, Debug, Default)]
pub struct CoreTally {
    /// Inputs offered, each one event (a trade, an account event, a reply, a timer…).
    pub inputs: u64,
    /// Trades `to_tick` refused (a previous close past i64): never reach the core.
    pub refused: u64,
    pub days: u64,
    pub intents: u64,
    pub sends: u64,
    pub fills: u64,
    pub refusals: u64,
    pub trips: u64,
}

impl CoreTally {
    pub fn add(&mut self, o: &CoreTally) {
        self.inputs += o.inputs;
        self.refused += o.refused;
        self.days += o.days;
        self.intents += o.intents;
        self.sends += o.sends;
        self.fills += o.fills;
        self.refusals += o.refusals;
        self.trips += o.trips;
    }
}

/// Inputs in a day, most: long enough to hold positions across many events, short
/// enough that a panic's day replays quickly.
pub const MAX_DAY_INPUTS: u64 = 4_000;

/// The seed of day `n` of a run seeded `seed`.
pub fn day_seed(seed: u64, n: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ n.wrapping_mul(0xD1B5_4A32_D192_ED03)
}

/// Runs one day of at most `inputs` inputs from `seed`, adding to `tally` as it goes
/// (so a panic's tally counts the inputs before it). Returns the inputs it fed.
pub fn run_day(seed: u64, inputs: u64, tally: &mut CoreTally) -> u64 {
    let mut day = Day::new(seed);
    tally.days += 1;
    let n = inputs.min(MAX_DAY_INPUTS);
    for _ in 0..n {
        tally.inputs += 1;
        day.input(tally);
    }
    // The close: what still works is cancelled, as at the end of a live day.
    let now = day.stamp();
    day.orders.cancel_all_working(now, &mut day.commands);
    day.carry_out(tally);
    n
}

/// A day's wiring and what the driver still owes the desk (replies, confirmations).
struct Day {
    rng: fastrand::Rng,
    desk: StrategyDesk,
    orders: OrderDesk,
    ledger: Ledger,
    fees: FeeSchedule,
    loss_limit: i64,
    tripped: bool,
    base: Instant,
    /// Monotonic nanoseconds since `base`.
    ns: u64,
    day: TradingDay,
    /// Market seconds of the day.
    secs: u32,
    tickers: [Ticker; 4],
    /// Per ticker: the last trade price and the previous close the trades carry.
    last: [i64; 4],
    close: [i64; 4],
    volume: [u64; 4],
    seq: u64,
    /// Orders the broker numbered: number, ticker, side, quantity.
    numbered: Vec<(i64, Ticker, Side, Qty)>,
    next_order_no: i64,
    exec_no: i64,
    /// Sends waiting for their reply, with what they asked.
    sends: Vec<(ClientOrderId, Ticker, Side, Qty)>,
    cancels: Vec<(ClientOrderId, i64)>,
    bands: Vec<Ticker>,
    tickets: VecDeque<u64>,
    wakes: Vec<Timer>,
    jobs: Vec<(JobTicket, ComputeJob)>,
    last_event: Option<AccountEvent>,
    intents: Vec<OrderIntent>,
    commands: Vec<Command>,
}

impl Day {
    fn new(seed: u64) -> Day {
        let mut rng = fastrand::Rng::with_seed(seed);
        let tickers = ["005930", "000660", "035720", "247540"].map(|c| Ticker::parse(c).unwrap());
        let desk = StrategyDesk::with_conditions(vec![
            DeskCondition {
                factory: Box::new(MomentumFactory {
                    params: momentum(&mut rng),
                }),
                max_positions: pick(&mut rng, &[None, Some(1), Some(2)]),
            },
            DeskCondition {
                factory: Box::new(VwapBandFactory {
                    params: VwapBandParams::default(),
                }),
                max_positions: None,
            },
        ]);
        let risk = RiskLimits {
            max_order_qty: Qty::lit(pick(&mut rng, &[10_000, 1, MAX_QTY.shares()])),
            max_order_notional: pick(&mut rng, &[10_000_000, 1, i64::MAX]),
            max_position_notional: pick(&mut rng, &[20_000_000, 0, i64::MAX]),
            max_open_positions: pick(&mut rng, &[10, 1, u32::MAX]),
            price_collar_bp: pick(&mut rng, &[1_000, 0, u32::MAX]),
            max_orders_per_day: pick(&mut rng, &[500, 1, u32::MAX]),
            daily_loss_limit: pick(&mut rng, &[1_000_000, 1, i64::MAX]),
        };
        let orders = OrderDesk::new(risk)
            .with_journal()
            .with_order_rate(
                pick(&mut rng, &[10, 1, 1_000]),
                pick(&mut rng, &[RateExcess::Queue, RateExcess::Refuse]),
            )
            .with_kill_switch_flatten(rng.bool());
        let cash = pick(&mut rng, &[100_000_000, 0, i64::MAX, -1]);
        let mut day = Day {
            desk,
            orders,
            ledger: Ledger::new(cash),
            fees: FeeSchedule {
                commission_ppm: pick(&mut rng, &[150, 0, FeeSchedule::MAX_PPM]),
                sell_tax_ppm: pick(&mut rng, &[1_800, 0, FeeSchedule::MAX_PPM]),
            },
            loss_limit: risk.daily_loss_limit,
            tripped: false,
            base: Instant::now(),
            ns: 0,
            day: TradingDay::new(2026, 12, 7).expect("a date"),
            secs: TimeOfDay::hms(8, 59, 0).secs(),
            tickers,
            last: [0; 4],
            close: [0; 4],
            volume: [0; 4],
            seq: 0,
            numbered: Vec::new(),
            next_order_no: 1,
            exec_no: 0,
            sends: Vec::new(),
            cancels: Vec::new(),
            bands: Vec::new(),
            tickets: VecDeque::new(),
            wakes: Vec::new(),
            jobs: Vec::new(),
            last_event: None,
            intents: Vec::new(),
            commands: Vec::new(),
            rng,
        };
        for i in 0..4 {
            let base = pick(&mut day.rng, &[55_000, 1_000, 500_000, 1]);
            let close = day.price_near(base);
            day.close[i] = close;
            day.last[i] = close;
        }
        day.orders.start(&mut day.commands);
        day
    }

    fn stamp(&self) -> Stamp {
        Stamp {
            at: self.base + Duration::from_nanos(self.ns),
            day: self.day,
            time: TimeOfDay::from_secs(self.secs),
            unix_ms: 1_796_000_000_000 + i64::from(self.secs) * 1_000,
        }
    }

    /// One input, chosen at random, then whatever the desk asked for carried out.
    fn input(&mut self, tally: &mut CoreTally) {
        // Time moves on, mostly a little.
        self.ns += match self.rng.u8(0..100) {
            0 => self.rng.u64(0..3_600_000_000_000),
            1..=9 => self.rng.u64(0..20_000_000_000),
            _ => self.rng.u64(0..200_000_000),
        };
        if self.rng.u8(0..8) == 0 {
            self.secs = (self.secs + self.rng.u32(0..60)).min(86_399);
        }
        let now = self.stamp();
        match self.rng.u8(0..100) {
            0..=34 => self.trade(tally),
            35..=39 => {
                let (c, t, at) = (self.condition(), self.ticker(), self.market_time());
                self.desk.on_condition_enter(c, t, at);
            }
            40..=42 => {
                let (c, t, at) = (self.condition(), self.ticker(), self.market_time());
                self.desk.on_condition_exit(c, t, at);
            }
            43..=45 => {
                let at = self.market_time();
                self.desk.on_timer(at, &mut self.intents);
            }
            46..=48 => self.job_done(),
            49..=56 => self.order_reply(now),
            57..=59 => self.cancel_reply(now),
            60..=62 => {
                if !self.bands.is_empty() || self.rng.bool() {
                    let ticker = match self.bands.is_empty() {
                        true => self.ticker(),
                        false => self.bands.swap_remove(self.rng.usize(..self.bands.len())),
                    };
                    let band = self.band(ticker);
                    self.orders.band(ticker, band, now, &mut self.commands);
                }
            }
            63..=67 => self.confirm_journal(now),
            68..=79 => {
                let event = self.account_event();
                self.last_event = Some(event.clone());
                self.orders.account_event(event, now, &mut self.commands);
            }
            80..=81 => {
                if let Some(event) = self.last_event.clone() {
                    self.orders.account_event(event, now, &mut self.commands);
                }
            }
            82..=86 => {
                let timer = match self.wakes.is_empty() || self.rng.u8(0..4) == 0 {
                    true => pick(
                        &mut self.rng,
                        &[
                            Timer::OrderRate,
                            Timer::SendPace,
                            Timer::Cancels,
                            Timer::Reconcile,
                            Timer::ParkSweep,
                        ],
                    ),
                    false => self.wakes.swap_remove(self.rng.usize(..self.wakes.len())),
                };
                self.orders.timer(timer, now, &mut self.commands);
            }
            87..=88 => {
                let listed = self.broker_orders();
                self.orders.broker_orders(listed, now, &mut self.commands);
            }
            89 => {
                let ours = self.ledger.cash();
                let broker = match self.rng.u8(0..4) {
                    0 => self.rng.i64(..),
                    1 => ours.saturating_add(self.rng.i64(-10_000..10_000)),
                    _ => ours,
                };
                self.orders.cash(ours, broker, now, &mut self.commands);
            }
            90..=93 => {
                let intent = self.arbitrary_intent();
                tally.intents += 1;
                self.orders.intent(intent, now, &mut self.commands);
            }
            // The disk watch: now and then low (entries stop), mostly fine again.
            94 => {
                let (low, free) = (self.rng.u8(0..8) == 0, self.rng.u64(..));
                self.orders.disk_space(low, free);
            }
            95 => self.orders.account_feed_up(&mut self.commands),
            96 => {
                self.orders.cancel_all_working(now, &mut self.commands);
            }
            // Rare, since each ends the day's trading: the operator's trip, a shutdown, a
            // journal that fails (about one day in six meets one of them).
            97 => match self.rng.u8(0..200) {
                0 => {
                    let cause = TripCause::Operator {
                        note: "fuzz".into(),
                    };
                    self.orders.trip(cause, now, &mut self.commands);
                }
                1 => {
                    self.orders.stop(now, &mut self.commands);
                }
                2 => self
                    .orders
                    .journal_failed("disk full".into(), now, &mut self.commands),
                _ => {}
            },
            // A held position marked at any price (the Portfolio's mark from a trade).
            _ => {
                let held = self.ledger.positions().next().map(|(t, _)| t);
                if let Some(t) = held {
                    let price = self.arbitrary_price();
                    let _ = self.ledger.mark(t, price);
                    self.after_money_moved();
                }
            }
        }
        self.place_intents(tally);
        self.carry_out(tally);
    }

    fn market_time(&mut self) -> TimeOfDay {
        // Now and then an event from earlier in the day (out of order).
        match self.rng.u8(0..16) {
            0 => TimeOfDay::from_secs(self.rng.u32(0..86_400)),
            _ => TimeOfDay::from_secs(self.secs),
        }
    }

    fn ticker(&mut self) -> Ticker {
        self.tickers[self.rng.usize(..4)]
    }

    fn condition(&mut self) -> ConditionId {
        ConditionId(pick(&mut self.rng, &[0, 0, 1, 1, 2, u8::MAX]))
    }

    /// A price near `p`: a step of up to ±3%, mostly.
    fn price_near(&mut self, p: i64) -> i64 {
        let step = (p / 33).max(1);
        p.saturating_add(self.rng.i64(-step..=step)).max(1)
    }

    /// Any price a decoder lets through: the ends of the range, anywhere in it, mostly
    /// near the books'. (Past the range is the decoders' to refuse: a `Price` cannot hold it.)
    fn arbitrary_price(&mut self) -> Price {
        let top = MAX_PRICE.won();
        Price::lit(match self.rng.u8(0..8) {
            0 => pick(&mut self.rng, &[0, 1, top, top / 2, top / 10_000]),
            1 => self.rng.i64(0..=top),
            _ => self.rng.i64(1..1_000_000),
        })
    }

    /// Any quantity a decoder lets through.
    fn arbitrary_qty(&mut self) -> Qty {
        let most = MAX_QTY.shares();
        Qty::lit(match self.rng.u8(0..8) {
            0 => pick(&mut self.rng, &[0, 1, most, most / 2]),
            1 => self.rng.u64(0..=most),
            _ => self.rng.u64(1..1_000),
        })
    }

    /// A trade, as `TradeFields` from a frame: the strategies see it if `to_tick` takes
    /// it, the ledger marks the price.
    fn trade(&mut self, tally: &mut CoreTally) {
        let i = self.rng.usize(..4);
        let price = match self.rng.u8(0..40) {
            0 => pick(
                &mut self.rng,
                &[
                    1,
                    2,
                    i64::MAX,
                    i64::MAX / 2,
                    i64::MAX / 10_000,
                    1_000_000_000_000_000,
                ],
            ),
            1 => self.rng.i64(1..),
            2..=4 => self.rng.i64(1..10_000_000),
            _ => self.price_near(self.last[i]),
        };
        let qty = match self.rng.u8(0..20) {
            0 => self.arbitrary_qty().shares(),
            _ => self.rng.u64(1..500),
        };
        self.volume[i] = match self.rng.u8(0..50) {
            0 => self.rng.u64(..),
            _ => self.volume[i].saturating_add(qty),
        };
        // The change as LS sends it: a magnitude, its direction in `sign`.
        let change = match self.rng.u8(0..30) {
            0 => self.rng.i64(..),
            1 => pick(&mut self.rng, &[i64::MAX, i64::MIN, 0]),
            _ => price.saturating_sub(self.close[i]),
        };
        let sign = match change {
            0 => "3",
            c if c > 0 => pick(&mut self.rng, &["2", "1"]),
            _ => pick(&mut self.rng, &["5", "4"]),
        };
        let time = self.market_time();
        let fields = TradeFields {
            shcode: Cow::Owned(self.tickers[i].as_str().to_owned()),
            price: Cow::Owned(price.to_string()),
            chetime: Cow::Owned(time.hhmmss()),
            sign: Cow::Borrowed(sign),
            change: Cow::Owned(change.unsigned_abs().to_string()),
            cgubun: Cow::Borrowed(pick(&mut self.rng, &["+", "-", "+", "-", ""])),
            cvolume: Cow::Owned(qty.to_string()),
            volume: Cow::Owned(self.volume[i].to_string()),
        };
        let received = self.base + Duration::from_nanos(self.ns);
        let Ok(mut tick) = fields.to_tick(received) else {
            tally.refused += 1;
            return;
        };
        self.seq += 1;
        tick.seq = self.seq;
        self.last[i] = price;
        let _ = self.ledger.mark(tick.ticker, tick.price);
        self.after_money_moved();
        self.desk.on_tick(&tick, &mut self.intents);
        let jobs = self.desk.take_jobs();
        // Most answers come at once, some later (out of order, or after the stay ended).
        for job in jobs {
            if self.rng.u8(0..3) == 0 {
                self.jobs.push(job);
            } else {
                let (ticket, job) = job;
                let output = job.run();
                self.desk.on_job_done(&ticket, output, &mut self.intents);
            }
        }
    }

    fn job_done(&mut self) {
        if self.jobs.is_empty() {
            return;
        }
        let (ticket, job) = self.jobs.swap_remove(self.rng.usize(..self.jobs.len()));
        let output = job.run();
        self.desk.on_job_done(&ticket, output, &mut self.intents);
    }

    /// The Portfolio's loss check after money moved: the kill switch at the day's limit.
    fn after_money_moved(&mut self) {
        if self.tripped {
            return;
        }
        let pnl = self
            .ledger
            .realized_pnl()
            .saturating_add(self.ledger.unrealized_pnl().unwrap_or(0));
        if pnl <= self.loss_limit.saturating_neg() {
            self.tripped = true;
            let now = self.stamp();
            let cause = TripCause::LossLimit {
                pnl,
                limit: self.loss_limit,
            };
            self.orders.trip(cause, now, &mut self.commands);
        }
    }

    fn arbitrary_intent(&mut self) -> OrderIntent {
        OrderIntent {
            ticker: self.ticker(),
            side: pick(&mut self.rng, &[Side::Buy, Side::Sell]),
            qty: self.arbitrary_qty(),
            order_type: match self.rng.bool() {
                true => OrderType::Market,
                false => OrderType::Limit(self.arbitrary_price()),
            },
            reason: "fuzz",
            tick_seq: self.seq,
            tick_received_at: None,
        }
    }

    /// An order number: mostly one the broker gave, else any.
    fn order_no(&mut self) -> i64 {
        if !self.numbered.is_empty() && self.rng.u8(0..4) != 0 {
            return self.numbered[self.rng.usize(..self.numbered.len())].0;
        }
        match self.rng.u8(0..4) {
            0 => pick(&mut self.rng, &[0, -1, i64::MAX, i64::MIN]),
            1 => self.rng.i64(..),
            _ => self.next_order_no.saturating_add(self.rng.i64(0..3)),
        }
    }

    /// An SC0–SC4 event: about a numbered order and consistent with it half the time,
    /// any values the decoders read otherwise.
    fn account_event(&mut self) -> AccountEvent {
        let known = (!self.numbered.is_empty() && self.rng.bool())
            .then(|| self.numbered[self.rng.usize(..self.numbered.len())]);
        let (order_no, ticker, side, qty) = match known {
            Some((no, t, s, q)) => (no, t, s, Qty::lit(self.rng.u64(0..=q.shares().min(1_000)))),
            None => {
                let t = self.ticker();
                let s = pick(&mut self.rng, &[Side::Buy, Side::Sell]);
                (self.order_no(), t, s, self.arbitrary_qty())
            }
        };
        let i = self.tickers.iter().position(|t| *t == ticker).unwrap_or(0);
        let price = match self.rng.u8(0..4) {
            0 => self.arbitrary_price(),
            _ => Price::lit(self.last[i]),
        };
        let org_order_no = match self.rng.u8(0..3) {
            0 => 0,
            _ => self.order_no(),
        };
        match self.rng.u8(0..10) {
            0 => AccountEvent::Accepted {
                order_no: OrderNo(order_no),
                org_order_no: OrderNo(org_order_no),
                ticker,
                side,
                qty,
                price,
            },
            1..=5 => {
                self.exec_no = match self.rng.u8(0..10) {
                    // A repeated execution number: a replay after a reconnect.
                    0 => self.exec_no,
                    1 => self.rng.i64(..),
                    _ => self.exec_no.saturating_add(1),
                };
                AccountEvent::Filled {
                    order_no: OrderNo(order_no),
                    exec_no: ExecNo(self.exec_no),
                    ticker,
                    side,
                    qty,
                    price,
                    remaining: match self.rng.u8(0..4) {
                        0 => self.arbitrary_qty(),
                        _ => Qty::lit(self.rng.u64(0..3)),
                    },
                    time: self.market_time(),
                }
            }
            6 => AccountEvent::Modified {
                order_no: OrderNo(self.order_no()),
                org_order_no: OrderNo(order_no),
                qty,
                price,
            },
            7 | 8 => AccountEvent::Cancelled {
                order_no: OrderNo(self.order_no()),
                org_order_no: OrderNo(order_no),
                qty,
            },
            _ => AccountEvent::Rejected {
                order_no: OrderNo(order_no),
                org_order_no: OrderNo(org_order_no),
                code: "01234".into(),
                qty,
            },
        }
    }

    /// The broker's answer to a send, in any order; sometimes one nobody asked for.
    fn order_reply(&mut self, now: Stamp) {
        let (id, ticker, side, qty) = match self.sends.is_empty() || self.rng.u8(0..10) == 0 {
            true => {
                let id = ClientOrderId(self.rng.u64(0..64));
                (id, self.ticker(), Side::Buy, Qty::lit(1))
            }
            false => {
                let at = match self.rng.u8(0..4) {
                    0 => self.rng.usize(..self.sends.len()),
                    _ => 0,
                };
                self.sends.remove(at)
            }
        };
        let code = "00040".to_owned();
        let reply = match self.rng.u8(0..10) {
            0..=5 => {
                let order_no = match self.rng.u8(0..10) {
                    0 => self.order_no(),
                    _ => {
                        self.next_order_no = self.next_order_no.saturating_add(1);
                        self.next_order_no
                    }
                };
                self.numbered.push((order_no, ticker, side, qty));
                OrderReply::Acked {
                    order_no: OrderNo(order_no),
                    code,
                }
            }
            6 => OrderReply::AckedWithoutNumber {
                code,
                message: "?".into(),
            },
            7 => OrderReply::Rejected {
                code: "02714".into(),
                message: "no".into(),
            },
            8 => OrderReply::GatewayRefused {
                code: "IGW00201".into(),
                message: "rate".into(),
            },
            _ => OrderReply::Lost {
                error: "timed out".into(),
            },
        };
        self.orders.order_reply(id, reply, now, &mut self.commands);
    }

    fn cancel_reply(&mut self, now: Stamp) {
        let (id, order_no) = match self.cancels.is_empty() {
            true => (ClientOrderId(self.rng.u64(0..64)), self.order_no()),
            false => self
                .cancels
                .swap_remove(self.rng.usize(..self.cancels.len())),
        };
        let reply = match self.rng.u8(0..4) {
            0 => CancelReply::Refused {
                code: "02715".into(),
                message: "filled first".into(),
            },
            1 => CancelReply::Failed {
                error: "lost".into(),
            },
            _ => {
                self.next_order_no = self.next_order_no.saturating_add(1);
                CancelReply::Accepted {
                    order_no: OrderNo(self.next_order_no),
                }
            }
        };
        self.orders.cancel_reply(id, reply);
        // The SC3 that follows an accepted cancel, now or never.
        if self.rng.bool() {
            let qty = self.arbitrary_qty();
            let event = AccountEvent::Cancelled {
                order_no: OrderNo(self.next_order_no),
                org_order_no: OrderNo(order_no),
                qty,
            };
            self.orders.account_event(event, now, &mut self.commands);
        }
    }

    /// t1102's band for `ticker`, as LS states it (`recprice`, `uplmtprice`,
    /// `dnlmtprice`: any numbers t1102's decoder reads), mostly the ±30% of its previous
    /// close; now and then none.
    fn band(&mut self, ticker: Ticker) -> Option<Band> {
        let i = self.tickers.iter().position(|t| *t == ticker).unwrap_or(0);
        if self.rng.u8(0..8) == 0 {
            return None;
        }
        let limits = match self.rng.u8(0..3) {
            0 => DailyLimits {
                base: self.arbitrary_price(),
                upper: self.arbitrary_price(),
                lower: self.arbitrary_price(),
            },
            _ => DailyLimits::from_base(Price::lit(self.close[i])),
        };
        let last = (self.rng.u8(0..4) != 0).then_some(Price::lit(self.last[i]));
        Some(Band { limits, last })
    }

    /// The broker's order list (t0425): the numbered orders with any progress, or an error.
    fn broker_orders(&mut self) -> Result<Vec<BrokerOrder>, String> {
        if self.rng.u8(0..5) == 0 {
            return Err("t0425 failed".into());
        }
        let mut list = Vec::new();
        for k in 0..self.numbered.len() {
            if self.rng.u8(0..3) == 0 {
                continue;
            }
            let (order_no, ticker, side, qty) = self.numbered[k];
            let filled = Qty::lit(self.rng.u64(0..=qty.shares().min(1_000)));
            let price = self.arbitrary_price();
            list.push(BrokerOrder {
                order_no: OrderNo(order_no),
                org_order_no: OrderNo::NONE,
                ticker,
                side,
                qty,
                price,
                filled,
                avg_fill_price: price,
                remaining: qty.saturating_sub(filled),
            });
        }
        Ok(list)
    }

    /// The journal confirms a ticket it gave: mostly the oldest waiting, sometimes the
    /// newest (a group commit covers all before it).
    fn confirm_journal(&mut self, now: Stamp) {
        let ticket = match self.rng.u8(0..10) {
            0 => match self.tickets.back().copied() {
                Some(t) => {
                    self.tickets.clear();
                    t
                }
                None => return,
            },
            _ => match self.tickets.pop_front() {
                Some(t) => t,
                None => return,
            },
        };
        self.orders.journal_durable(ticket, now, &mut self.commands);
    }

    fn place_intents(&mut self, tally: &mut CoreTally) {
        let intents = std::mem::take(&mut self.intents);
        for intent in intents {
            tally.intents += 1;
            let now = self.stamp();
            self.orders.intent(intent, now, &mut self.commands);
            self.carry_out(tally);
        }
    }

    /// Does what the desk asked, as the OrderManager, the Portfolio and the Processor
    /// do live; the replies come later, as inputs.
    fn carry_out(&mut self, tally: &mut CoreTally) {
        while !self.commands.is_empty() {
            for command in std::mem::take(&mut self.commands) {
                match command {
                    // Mostly durable at once (group commit keeps up), some later, in
                    // any order.
                    Command::Journal { ticket, .. } => {
                        if ticket > 0 && self.rng.u8(0..4) == 0 {
                            self.tickets.push_back(ticket);
                        } else if ticket > 0 {
                            let now = self.stamp();
                            self.orders.journal_durable(ticket, now, &mut self.commands);
                        }
                    }
                    Command::Send { id, order, .. } => {
                        tally.sends += 1;
                        self.sends.push((id, order.ticker, order.side, order.qty));
                    }
                    Command::Cancel { id, order_no, .. } => self.cancels.push((id, order_no.0)),
                    Command::FetchBand(ticker) => self.bands.push(ticker),
                    Command::FetchOrders | Command::CheckCash => {}
                    Command::Wake { timer, .. } => self.wakes.push(timer),
                    Command::Fill(fill) => {
                        tally.fills += 1;
                        let fee = self.fees.fee(&fill);
                        let _ = self.ledger.apply_fill(&fill, fee);
                        self.desk.on_fill(&fill);
                        self.after_money_moved();
                    }
                    Command::Done(done) => {
                        let _ = self.desk.on_order_done(&done);
                    }
                    Command::CorrectCash(c) => {
                        if self.ledger.cash() == c.expected {
                            self.ledger.correct_cash(c.broker);
                        }
                    }
                    Command::Refused(_) => tally.refusals += 1,
                    Command::Tripped(_) => tally.trips += 1,
                    Command::Finished(_) => {}
                }
            }
        }
        // A fill or a done can make the strategies speak.
        if !self.intents.is_empty() {
            self.place_intents(tally);
        }
    }
}

fn pick<T: Copy>(rng: &mut fastrand::Rng, from: &[T]) -> T {
    from[rng.usize(..from.len())]
}

/// Momentum's parameters drawn within their declared ranges, so entries come often.
fn momentum(rng: &mut fastrand::Rng) -> MomentumParams {
    let p = MomentumParams {
        confirm_ticks: rng.u32(1..=4),
        min_change_bp: rng.i64(-3_000..=3_000),
        budget_won: pick(rng, &[1_000_000, 1, 100_000_000_000]),
        entry_slippage_ticks: pick(rng, &[None, Some(0), Some(3)]),
        ..MomentumParams::default()
    };
    match p.validate() {
        Ok(()) => p,
        Err(_) => MomentumParams::default(),
    }
}
