//! Extending condor through `condor::extend::Extensions`, the hook `condor::run::run_with`
//! and `main_with` hand a user's program: an actor added in one line sees every tick the
//! Processor handles, and a strategy added in one line is picked by name from
//! configuration and is what trades. The engine runs against the embedded exchange over
//! real sockets.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix::prelude::*;
use clap::Parser;
use common::until;
use condor::cli::{Cli, Command, RunArgs};
use condor::engine::{self, BrokerLink, ConditionPlan, Engine, EngineSettings};
use condor::extend::Extensions;
use condor::sim::exchange::Scenario;
use condor::sim::{SimConfig, SimHandle};
use condor_actors::market::{Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::{Deliver, Fill, Flush, GetPortfolio, OrderType, Tick};
use condor_actors::strategy::{
    MomentumFactory, MomentumParams, ParamSpec, Signal, Strategy, StrategyFactory,
};

fn sim_with(scenario: &str) -> SimHandle {
    let mut cfg = SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = 40.0;
    cfg.exchange.scenario = Some(Scenario::parse(scenario).expect("scenario parses"));
    SimHandle::start(cfg).expect("simulator starts")
}

/// `condor run` with these flags (and the environment), as the binary parses them.
fn run_args(flags: &[&str]) -> RunArgs {
    let argv = ["condor", "run"].iter().chain(flags).copied();
    match Cli::try_parse_from(argv).expect("flags parse").command {
        Some(Command::Run(args)) => *args,
        _ => panic!("run expected"),
    }
}

/// Starts the engine the way `run_with` does: the strategy and the tick watchers from
/// `ext`.
async fn start(
    sim: &SimHandle,
    strategy: Box<dyn StrategyFactory>,
    ext: &mut Extensions,
    data: &tempfile::TempDir,
) -> Engine {
    let rest = common::ls_rest(sim).await;
    engine::start(
        BrokerLink::ls(rest, sim.ws_url()),
        EngineSettings {
            tick_watchers: ext.start_tick_watchers(),
            tape: true,
            ..common::engine_settings(data.path(), ConditionPlan::one("S001", strategy))
        },
    )
    .await
    .expect("engine starts")
}

/// Each ticker's tick sequence numbers in the order they reached the watcher.
type Seen = Arc<Mutex<HashMap<Ticker, Vec<u64>>>>;

/// A user's actor that watches every tick: it writes down what it is sent.
struct Tally {
    seen: Seen,
}

impl Actor for Tally {
    type Context = Context<Self>;
}

impl Handler<Deliver<Tick>> for Tally {
    type Result = ();
    fn handle(&mut self, Deliver(tick): Deliver<Tick>, _: &mut Context<Self>) {
        let mut seen = self.seen.lock().unwrap();
        seen.entry(tick.ticker).or_default().push(tick.seq);
    }
}

#[actix_rt::test]
async fn an_actor_added_in_one_line_sees_every_tick_the_processor_handles() {
    let sim = sim_with(
        "condition S001 지켜보기\n\
         at 0ms S001 enter 005930\n\
         at 0ms S001 enter 000660\n\
         at 0ms S001 enter 035420\n",
    );
    let seen = Seen::default();
    let mut ext = Extensions::new();
    ext.watch_ticks(Tally { seen: seen.clone() });
    // A strategy that never trades (entries need +30%): the ticks are all there is.
    let quiet = MomentumParams {
        min_change_bp: 3000,
        ..MomentumParams::default()
    };
    let data = tempfile::tempdir().expect("a data directory");
    let e = start(
        &sim,
        Box::new(MomentumFactory { params: quiet }),
        &mut ext,
        &data,
    )
    .await;
    assert!(ext.start_tick_watchers().is_empty(), "started once");
    until("ticks of three tickers", || async {
        let s = e.processor.send(Flush).await.unwrap();
        s.ticks >= 60 && s.per_ticker.len() == 3
    })
    .await;

    // The Processor keeps handling ticks; what it had handled when it answered must have
    // reached the watcher, each ticker's ticks in order, none twice, none missing.
    let handled = e.processor.send(Flush).await.unwrap();
    assert_eq!(handled.out_of_order, 0);
    until("the watcher has caught up with the Processor", || async {
        let seen = seen.lock().unwrap();
        handled
            .per_ticker
            .iter()
            .all(|(t, s)| seen.get(t).map_or(0, Vec::len) as u64 >= s.ticks)
    })
    .await;
    let seen = seen.lock().unwrap().clone();
    let mut total = 0;
    for (ticker, s) in &handled.per_ticker {
        let (n, last_seq) = (&s.ticks, &s.last_seq);
        let seqs = &seen[ticker];
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{ticker}: each tick once, in order: {seqs:?}"
        );
        // The watcher's n-th tick of this ticker is the Processor's last: the same n ticks.
        assert_eq!(
            seqs[*n as usize - 1],
            *last_seq,
            "{ticker}: {n} ticks handled, the watcher's {n}th differs: {seqs:?}"
        );
        total += n;
    }
    assert_eq!(total, handled.ticks, "every tick the Processor handled");
}

/// A user's strategy: buys `shares` (its own parameter) at market on the first trade
/// after 편입, then holds. Nothing like momentum, which buys a budget's worth after a confirmed rise.
struct FirstTrade {
    ticker: Ticker,
    /// Its own parameter: shares per entry.
    shares: u64,
    armed: bool,
    position: u64,
    working: bool,
}

impl FirstTrade {
    const NAME: &'static str = "first-trade";
    const REASON: &'static str = "entry: first trade";
}

impl Strategy for FirstTrade {
    fn name(&self) -> &'static str {
        Self::NAME
    }
    fn on_condition_enter(&mut self, _: TimeOfDay) {
        self.armed = self.position == 0 && !self.working;
    }
    fn on_condition_exit(&mut self, _: TimeOfDay) {
        self.armed = false;
    }
    fn on_tick(&mut self, tick: &Tick, out: &mut Vec<Signal>) {
        if tick.ticker == self.ticker && self.armed {
            self.armed = false;
            self.working = true;
            out.push(Signal::Buy {
                qty: Qty::lit(self.shares),
                order_type: OrderType::Market,
                reason: Self::REASON,
            });
        }
    }
    fn on_fill(&mut self, fill: &Fill) {
        match fill.side {
            Side::Buy => self.position += fill.qty.shares(),
            Side::Sell => self.position = self.position.saturating_sub(fill.qty.shares()),
        }
    }
    fn on_order_done(&mut self, _: Side, _: Qty, _: bool) {
        self.working = false;
    }
    fn position(&self) -> Qty {
        Qty::lit(self.position)
    }
    fn has_working_order(&self) -> bool {
        self.working
    }
}

struct FirstTradeFactory {
    shares: u64,
}

const FIRST_TRADE_PARAMS: &[ParamSpec] = &[ParamSpec::int(
    "shares",
    1,
    1_000,
    1,
    "shares bought on the first trade",
)];

impl StrategyFactory for FirstTradeFactory {
    fn name(&self) -> &'static str {
        FirstTrade::NAME
    }
    fn build(&self, ticker: Ticker) -> Box<dyn Strategy> {
        Box::new(FirstTrade {
            ticker,
            shares: self.shares,
            armed: false,
            position: 0,
            working: false,
        })
    }
}

#[actix_rt::test]
async fn a_strategy_added_in_one_line_is_picked_by_name_from_configuration_and_trades() {
    let mut ext = Extensions::new();
    ext.add_strategy(
        FirstTrade::NAME,
        "buys on the first trade after 편입",
        FIRST_TRADE_PARAMS,
        |p| {
            Ok(Box::new(FirstTradeFactory {
                shares: p.int("shares").unsigned_abs(),
            }))
        },
    );

    // Unknown names list every registered one, the added one among them.
    let e = ext
        .strategy(&run_args(&["--strategy", "macd"]))
        .err()
        .expect("macd is not registered")
        .to_string();
    assert!(
        e.contains("CONDOR_STRATEGY") && e.contains("\"macd\"") && e.contains("first-trade"),
        "{e}"
    );
    assert!(e.contains("momentum"), "{e}");

    // Its own parameter is checked against the range it declared, and named.
    let e = ext
        .strategy(&run_args(&[
            "--strategy",
            "first-trade",
            "--param",
            "shares=0",
        ]))
        .err()
        .expect("0 shares is out of range")
        .to_string();
    assert!(e.contains("shares: must be 1..=1000, got 0"), "{e}");
    // Momentum's parameters are not its own.
    let e = ext
        .strategy(&run_args(&[
            "--strategy",
            "first-trade",
            "--param",
            "confirm_ticks=2",
        ]))
        .err()
        .expect("not a first-trade parameter")
        .to_string();
    assert!(
        e.contains("its parameters: budget_won, entry_cutoff, flatten_at, shares"),
        "{e}"
    );

    // CONDOR_STRATEGY (here its flag) picks it, case and spaces aside, with its parameter.
    let (strategy, params) = ext
        .strategy(&run_args(&[
            "--strategy",
            " First-Trade ",
            "--param",
            "shares=2",
        ]))
        .expect("first-trade is registered");
    assert_eq!(strategy.name(), "first-trade");
    assert_eq!(params.int("shares"), 2);

    let sim = sim_with("condition S001 첫 체결\nat 0ms S001 enter 005930\n");
    let data = tempfile::tempdir().expect("a data directory");
    let e = start(&sim, strategy, &mut ext, &data).await;
    let samsung = Ticker::parse("005930").unwrap();
    let held = || async {
        let book = e.portfolio.send(GetPortfolio).await.unwrap().unwrap();
        book.positions
            .iter()
            .find(|p| p.ticker == samsung)
            .map_or(Qty::lit(0), |p| p.qty)
    };
    until("the first trade is bought", || async {
        held().await == Qty::lit(2)
    })
    .await;
    // It is the added strategy that traded: its two shares, one intent, on the first trade.
    let s = e.processor.send(Flush).await.unwrap();
    assert_eq!(s.intents, 1, "{s:?}");
    assert_eq!(held().await, Qty::lit(2));
}
