//! The whole engine (session, supervisor, feeds, processor with its compute pool, order
//! manager, portfolio) trading the embedded exchange over real sockets.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use common::{until, until_blocking};
use condor::engine::{self, BrokerLink, ConditionPlan, Engine, EngineSettings};
use condor::sim::exchange::Scenario;
use condor::sim::{SimConfig, SimHandle};
use condor_actors::broker_account;
use condor_actors::ledger::FeeSchedule;
use condor_actors::market::{Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::{Fill, Flush, GetConditionBooks, GetPortfolio, Tick};
use condor_actors::strategy::{
    ComputeJob, JobAnswer, JobOutput, MomentumFactory, MomentumParams, Signal, Strategy,
    StrategyFactory,
};
use condor_actors::supervisor::GetSupervisorStats;

/// The exchange's fees in the fee test: 0.015% commission, 0.20% sell tax.
const FEES: FeeSchedule = FeeSchedule {
    commission_ppm: 150,
    sell_tax_ppm: 2_000,
};

fn sim_with(scenario: &str) -> SimHandle {
    sim_charging(scenario, FeeSchedule::default())
}

fn sim_charging(scenario: &str, fees: FeeSchedule) -> SimHandle {
    let mut cfg = SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    };
    cfg.exchange.commission_ppm = fees.commission_ppm;
    cfg.exchange.sell_tax_ppm = fees.sell_tax_ppm;
    cfg.exchange.trades_per_sec = 40.0;
    cfg.exchange.scenario = Some(Scenario::parse(scenario).expect("scenario parses"));
    SimHandle::start(cfg).expect("simulator starts")
}

async fn start_booking(
    sim: &SimHandle,
    params: MomentumParams,
    data: &tempfile::TempDir,
    fees: FeeSchedule,
) -> Engine {
    start_with(sim, Box::new(MomentumFactory { params }), data, fees).await
}

async fn start_with(
    sim: &SimHandle,
    strategy: Box<dyn StrategyFactory>,
    data: &tempfile::TempDir,
    fees: FeeSchedule,
) -> Engine {
    start_conditions(sim, ConditionPlan::one("S001", strategy), data, fees).await
}

async fn start_conditions(
    sim: &SimHandle,
    conditions: Vec<ConditionPlan>,
    data: &tempfile::TempDir,
    fees: FeeSchedule,
) -> Engine {
    let rest = common::ls_rest(sim).await;
    engine::start(
        BrokerLink::ls(rest, sim.ws_url()),
        EngineSettings {
            fees,
            compute_threads: 2,
            tape: true,
            ..common::engine_settings(data.path(), conditions)
        },
    )
    .await
    .expect("engine starts")
}

#[actix_rt::test]
async fn an_exit_while_holding_keeps_the_feed_until_the_position_is_closed() {
    // The exchange charges commission and the sell tax; the engine books the same.
    let sim = sim_charging(
        "condition S001 보유 중 이탈\n\
         at 0ms S001 enter 005930\n\
         at 1000ms S001 exit 005930\n",
        FEES,
    );
    // Enter on the first tick; hold until a 3-second time stop.
    let params = MomentumParams {
        min_change_bp: -3000,
        confirm_ticks: 1,
        take_profit_bp: 3000,
        stop_loss_bp: 3000,
        max_hold_secs: 3,
        ..MomentumParams::default()
    };
    let data = tempfile::tempdir().expect("a data directory");
    let e = start_booking(&sim, params, &data, FEES).await;
    let t = Ticker::parse("005930").unwrap();
    // The exit arrives while the position is held: the feed stays.
    until("the exit is seen while holding", || async {
        e.supervisor
            .send(GetSupervisorStats)
            .await
            .unwrap()
            .kept_while_holding
            == 1
    })
    .await;
    let held = e.portfolio.send(GetPortfolio).await.unwrap().unwrap();
    assert!(
        held.positions
            .iter()
            .any(|p| p.ticker == t && p.qty.shares() > 0),
        "a position is open: {held:?}"
    );
    assert_eq!(
        sim.subscriptions().await.trade_subscribers("005930"),
        1,
        "the feed stays while holding"
    );
    // The time stop sells; once flat the feed stops and the subscription goes.
    until("flat and unsubscribed", || async {
        sim.subscriptions().await.trade_subscribers("005930") == 0
    })
    .await;
    let book = e.portfolio.send(GetPortfolio).await.unwrap().unwrap();
    assert!(
        book.positions.iter().all(|p| p.qty.shares() == 0),
        "{book:?}"
    );
    assert!(book.fees > 0, "a buy and a sell pay commission and tax");
    assert_eq!(
        book.cash,
        e.opening_cash + book.realized_pnl - book.fees,
        "cash moved by exactly the realized P&L less the fees"
    );
    let rest = common::ls_rest(&sim).await;
    assert_eq!(
        book.cash,
        broker_account::cash(&rest)
            .await
            .expect("the exchange's cash"),
        "the books' cash is the exchange's, to the won"
    );
    let s = e.supervisor.send(GetSupervisorStats).await.unwrap();
    assert_eq!((s.live_feeds, s.stopped), (0, 1), "{s:?}");
}

/// What the job test's strategies saw, in the order they saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    Tick(Ticker, u64),
    Answer(Ticker, u64, JobOutput),
}

/// A strategy that never trades: on 005930's first trade it asks for one job that does not
/// finish until `OTHER_TICKS` more trades of 000660 have reached the strategies, so it can
/// finish only if the loop keeps handing out ticks while it runs.
struct WaitsForTicks {
    ticker: Ticker,
    log: Arc<Mutex<Vec<Seen>>>,
    other: Arc<AtomicU64>,
    job: Option<ComputeJob>,
    asked: bool,
}

const OTHER_TICKS: u64 = 5;

impl Strategy for WaitsForTicks {
    fn name(&self) -> &'static str {
        "waits-for-ticks"
    }
    fn on_condition_enter(&mut self, _: TimeOfDay) {}
    fn on_condition_exit(&mut self, _: TimeOfDay) {}
    fn on_tick(&mut self, tick: &Tick, _: &mut Vec<Signal>) {
        self.log
            .lock()
            .unwrap()
            .push(Seen::Tick(tick.ticker, tick.seq));
        if tick.ticker.as_str() == "000660" {
            self.other.fetch_add(1, Ordering::SeqCst);
        }
        if tick.ticker.as_str() == "005930" && !self.asked {
            self.asked = true;
            let other = self.other.clone();
            let from = other.load(Ordering::SeqCst);
            self.job = Some(ComputeJob::new(move || {
                until_blocking("the ticks stalled", || {
                    other.load(Ordering::SeqCst) >= from + OTHER_TICKS
                });
                vec![(other.load(Ordering::SeqCst) - from) as i64]
            }));
        }
    }
    fn take_job(&mut self) -> Option<ComputeJob> {
        self.job.take()
    }
    fn on_job_done(&mut self, answer: &JobAnswer, _: &mut Vec<Signal>) {
        self.log.lock().unwrap().push(Seen::Answer(
            self.ticker,
            answer.asked_on,
            answer.output.clone(),
        ));
    }
    fn on_fill(&mut self, _: &Fill) {}
    fn on_order_done(&mut self, _: Side, _: Qty, _: bool) {}
    fn position(&self) -> Qty {
        Qty::lit(0)
    }
    fn has_working_order(&self) -> bool {
        false
    }
}

struct WaitsForTicksFactory {
    log: Arc<Mutex<Vec<Seen>>>,
    other: Arc<AtomicU64>,
}

impl StrategyFactory for WaitsForTicksFactory {
    fn name(&self) -> &'static str {
        "waits-for-ticks"
    }
    fn build(&self, ticker: Ticker) -> Box<dyn Strategy> {
        Box::new(WaitsForTicks {
            ticker,
            log: self.log.clone(),
            other: self.other.clone(),
            job: None,
            asked: false,
        })
    }
}

#[actix_rt::test]
async fn a_strategys_job_runs_in_the_pool_while_other_tickers_ticks_keep_flowing_in_order() {
    let sim = sim_with("condition S001 계산\nat 0ms S001 enter 005930\nat 0ms S001 enter 000660\n");
    let log = Arc::new(Mutex::new(Vec::new()));
    let factory = WaitsForTicksFactory {
        log: log.clone(),
        other: Arc::new(AtomicU64::new(0)),
    };
    let data = tempfile::tempdir().expect("a data directory");
    let e = start_with(&sim, Box::new(factory), &data, FeeSchedule::default()).await;
    until("the job is answered", || async {
        e.processor.send(Flush).await.unwrap().jobs_done == 1
    })
    .await;
    let stats = e.processor.send(Flush).await.unwrap();
    assert_eq!((stats.jobs_sent, stats.jobs_dropped), (1, 0), "{stats:?}");
    assert!(stats.ticks_during_jobs >= OTHER_TICKS, "{stats:?}");
    assert_eq!(stats.out_of_order, 0);

    let log = log.lock().unwrap().clone();
    let samsung = Ticker::parse("005930").unwrap();
    let hynix = Ticker::parse("000660").unwrap();
    let asked = log
        .iter()
        .position(|s| matches!(s, Seen::Tick(t, _) if *t == samsung))
        .expect("005930 traded");
    let Seen::Tick(_, asked_on) = log[asked] else {
        unreachable!()
    };
    let answered = log
        .iter()
        .position(|s| matches!(s, Seen::Answer(..)))
        .expect("answered");
    // The answer is 005930's, tagged with the tick that asked, and came after it.
    assert!(answered > asked);
    let Seen::Answer(who, tagged, output) = &log[answered] else {
        unreachable!()
    };
    assert_eq!((*who, *tagged), (samsung, asked_on));
    let waited = output.as_ref().expect("the job finished")[0];
    assert!(waited >= OTHER_TICKS as i64, "{output:?}");
    // While it ran, 000660's trades kept reaching its strategy, in order, none twice.
    let during: Vec<u64> = log[asked..answered]
        .iter()
        .filter_map(|s| match s {
            Seen::Tick(t, seq) if *t == hynix => Some(*seq),
            _ => None,
        })
        .collect();
    assert!(during.len() as u64 >= OTHER_TICKS, "{during:?}");
    assert!(during.windows(2).all(|w| w[0] < w[1]), "{during:?}");
}

/// (condition tag, "enter" or "exit", ticker), in the order the strategies were handed them.
type ConditionLog = Arc<Mutex<Vec<(&'static str, &'static str, Ticker)>>>;

/// A strategy that never trades and logs the condition events it is handed, tagged with
/// its condition.
struct Listens {
    tag: &'static str,
    ticker: Ticker,
    log: ConditionLog,
}

impl Strategy for Listens {
    fn name(&self) -> &'static str {
        "listens"
    }
    fn on_condition_enter(&mut self, _: TimeOfDay) {
        self.log
            .lock()
            .unwrap()
            .push((self.tag, "enter", self.ticker));
    }
    fn on_condition_exit(&mut self, _: TimeOfDay) {
        self.log
            .lock()
            .unwrap()
            .push((self.tag, "exit", self.ticker));
    }
    fn on_tick(&mut self, _: &Tick, _: &mut Vec<Signal>) {}
    fn on_fill(&mut self, _: &Fill) {}
    fn on_order_done(&mut self, _: Side, _: Qty, _: bool) {}
    fn position(&self) -> Qty {
        Qty::lit(0)
    }
    fn has_working_order(&self) -> bool {
        false
    }
}

struct ListensFactory {
    tag: &'static str,
    log: ConditionLog,
}

impl StrategyFactory for ListensFactory {
    fn name(&self) -> &'static str {
        "listens"
    }
    fn build(&self, ticker: Ticker) -> Box<dyn Strategy> {
        Box::new(Listens {
            tag: self.tag,
            ticker,
            log: self.log.clone(),
        })
    }
}

#[actix_rt::test]
async fn two_conditions_sharing_a_ticker_watch_it_once_and_each_strategy_sees_its_own_events() {
    // S002 lists 005930 half a second after S001: two conditions' alerts of one instant
    // reach the desk in either order, and the first to list a ticker owns it.
    let sim = sim_with(
        "condition S001 갭상승\n\
         condition S002 거래량 급증\n\
         at 0ms S001 enter 005930\n\
         at 0ms S002 enter 000660\n\
         at 500ms S002 enter 005930\n\
         at 1500ms S002 exit 005930\n\
         at 3000ms S001 exit 005930\n",
    );
    let log = Arc::new(Mutex::new(Vec::new()));
    let plan = |name: &str, tag| ConditionPlan {
        name: name.into(),
        strategy: Box::new(ListensFactory {
            tag,
            log: log.clone(),
        }),
        max_positions: None,
    };
    let data = tempfile::tempdir().expect("a data directory");
    let e = start_conditions(
        &sim,
        vec![plan("S001", "S001"), plan("S002", "S002")],
        &data,
        FeeSchedule::default(),
    )
    .await;
    let (samsung, hynix) = (
        Ticker::parse("005930").unwrap(),
        Ticker::parse("000660").unwrap(),
    );
    until("both tickers are watched", || async {
        let subs = sim.subscriptions().await;
        subs.trade_subscribers("005930") == 1 && subs.trade_subscribers("000660") == 1
    })
    .await;
    // S002 drops 005930 while S001 still lists it: the feed stays, still one subscription.
    until("S002's exit has reached the strategies' desk", || async {
        e.processor.send(Flush).await.unwrap();
        sim.subscriptions().await.trade_subscribers("005930") == 1 && log.lock().unwrap().len() >= 2
    })
    .await;
    // Out of both, and flat: the feed stops; 000660 keeps its one.
    until("005930's feed stops once no condition lists it", || async {
        sim.subscriptions().await.trade_subscribers("005930") == 0
    })
    .await;
    let subs = sim.subscriptions().await;
    assert_eq!(subs.trade_subscribers("000660"), 1);
    let s = e.supervisor.send(GetSupervisorStats).await.unwrap();
    assert_eq!((s.spawned, s.stopped), (2, 1), "one feed per ticker: {s:?}");
    // 005930 is S001's (it entered first): only S001's strategy saw its enter and exit;
    // S002's enter and exit of it were remembered, not delivered. 000660 is S002's.
    e.processor.send(Flush).await.unwrap();
    let mut seen = log.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("S001", "enter", samsung),
            ("S001", "exit", samsung),
            ("S002", "enter", hynix),
        ]
    );
}

#[actix_rt::test]
async fn each_conditions_fills_are_its_own_and_the_conditions_add_up_to_the_account() {
    let sim = sim_charging(
        "condition S001 갭상승\n\
         condition S002 거래량 급증\n\
         at 0ms S001 enter 005930\n\
         at 0ms S002 enter 000660\n",
        FEES,
    );
    // Buys on the first trade, sells at a 1 bp move either way: round trips, fast.
    let eager = |budget_won| ConditionPlan {
        name: String::new(),
        strategy: Box::new(MomentumFactory {
            params: MomentumParams {
                min_change_bp: -3000,
                confirm_ticks: 1,
                take_profit_bp: 1,
                stop_loss_bp: 1,
                budget_won,
                ..MomentumParams::default()
            },
        }),
        max_positions: None,
    };
    let plans = vec![
        ConditionPlan {
            name: "S001".into(),
            ..eager(1_000_000)
        },
        ConditionPlan {
            name: "S002".into(),
            ..eager(2_000_000)
        },
    ];
    let data = tempfile::tempdir().expect("a data directory");
    let e = start_conditions(&sim, plans, &data, FEES).await;
    until("each condition has a round trip booked", || async {
        let (books, _) = e.portfolio.send(GetConditionBooks).await.unwrap().unwrap();
        books.len() == 2 && books.iter().all(|b| b.fills >= 2 && b.realized_pnl != 0)
    })
    .await;
    let (books, account) = e.portfolio.send(GetConditionBooks).await.unwrap().unwrap();
    assert_eq!((books[0].condition, books[1].condition), (1, 2));
    // Different budgets: the second condition's orders are about twice the first's.
    let sum = |f: fn(&condor_actors::condition_books::ConditionSummary) -> i64| {
        books.iter().map(f).sum::<i64>()
    };
    assert_eq!(
        sum(|b| b.realized_pnl),
        account.realized_pnl,
        "{books:?} {account:?}"
    );
    assert_eq!(sum(|b| b.fees), account.fees, "{books:?} {account:?}");
    assert_eq!(sum(|b| b.unrealized_pnl), account.unrealized_pnl);
    assert!(books.iter().all(|b| b.fees > 0), "{books:?}");
}
