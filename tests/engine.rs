//! The engine as `condor run` starts it (`engine::start`) against the embedded exchange
//! over real sockets, driven by scripted conditions, at the limits of the tick path through
//! BrokerSession, StockFeed and Processor (a counted burst, a slow strategy, malformed
//! frames, a feed replaced while its predecessor unsubscribes). What every broker must do
//! for the engine (feeds following the condition, reconnects, the order path, shutdown) is
//! in `broker_engine.rs`, run against each broker's wire.

#[macro_use]
mod common;

use std::time::Duration;

use actix::prelude::*;
use common::{broker_link, until, until_subscribed, until_within, PATIENCE};
use condor::engine::{self, ConditionPlan, Engine, EngineSettings};
use condor::sim::exchange::Scenario;
use condor::sim::{Protocol, SimConfig, SimHandle};
use condor_actors::broker_session::SessionConfig;
use condor_actors::market::{Qty, Side, TimeOfDay};
use condor_actors::messages::{Fill, Tick};
use condor_actors::messages::{Flush, GetSessionStats};
use condor_actors::strategy::{
    strategy_by_name, MomentumParams, Signal, Strategy, StrategyFactory,
};
use condor_actors::tick_backlog;

fn momentum() -> Box<dyn StrategyFactory> {
    strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap()).unwrap()
}

/// The engine as `condor run` starts it, at `sim` over its broker's wire, trading `condition` with
/// `strategy`; `tune` sets the realtime session up (the link is the caller's to make).
async fn engine(
    sim: &SimHandle,
    data: &tempfile::TempDir,
    condition: &str,
    max_feeds: usize,
    strategy: Box<dyn StrategyFactory>,
    tune: impl FnOnce(&mut SessionConfig),
) -> Engine {
    let mut link = broker_link(sim).await;
    tune(&mut link.realtime);
    engine::start(
        link,
        EngineSettings {
            max_feeds,
            ..common::engine_settings(data.path(), ConditionPlan::one(condition, strategy))
        },
    )
    .await
    .expect("engine starts")
}

fn sim_with(protocol: Protocol, scenario: &str, tune: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut cfg = SimConfig {
        protocol,
        rate_limits: false,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = 5.0;
    cfg.exchange.scenario = Some(Scenario::parse(scenario).expect("scenario parses"));
    tune(&mut cfg);
    SimHandle::start(cfg).expect("simulator starts")
}

async fn nothing_lost_a_counted_burst_reaches_the_processor_in_order(protocol: Protocol) {
    const TRADES: u64 = 100_000;
    let mut scenario = String::from("condition S001 폭주\n");
    for i in 0..200 {
        scenario.push_str(&format!("at 0ms S001 enter 99{i:04}\n"));
    }
    let sim = sim_with(protocol, &scenario, |cfg| {
        cfg.firehose = true;
        cfg.firehose_trades = Some(TRADES);
        cfg.exchange.synthetic_listings = 200;
        cfg.exchange.trades_per_sec = 0.0;
    });
    let data = tempfile::tempdir().unwrap();
    let e = engine(&sim, &data, "S001", 1000, momentum(), |_| {}).await;
    let (printed, seen) = until_within(PATIENCE * 3, "every printed trade processed", async || {
        let printed = sim.stats().await;
        let seen = e.processor.send(Flush).await.unwrap();
        if printed.trades >= TRADES && seen.ticks == printed.trades {
            Ok((printed, seen))
        } else {
            Err(format!(
                "printed {} trades, processor saw {}",
                printed.trades, seen.ticks
            ))
        }
    })
    .await;
    assert_eq!(seen.out_of_order, 0, "per-ticker order");
    assert_eq!(
        seen.max_seq - seen.min_seq + 1,
        seen.ticks,
        "no gap in the sequence numbers"
    );
    for (ticker, n) in &printed.trades_by_ticker {
        assert_eq!(
            seen.per_ticker.get(ticker).map(|e| e.ticks),
            Some(*n),
            "{ticker}"
        );
    }
    let session = e.session.send(GetSessionStats).await.unwrap();
    assert_eq!(session.malformed, 0);
}
per_broker!(nothing_lost_a_counted_burst_reaches_the_processor_in_order:
    ls_nothing_lost_a_counted_burst_reaches_the_processor_in_order,
    kiwoom_nothing_lost_a_counted_burst_reaches_the_processor_in_order);

/// A strategy slower than any socket read: 200 µs of work a tick.
struct Slow;

impl Strategy for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    fn on_condition_enter(&mut self, _: TimeOfDay) {}
    fn on_condition_exit(&mut self, _: TimeOfDay) {}
    fn on_tick(&mut self, _: &Tick, _: &mut Vec<Signal>) {
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_micros(200) {
            std::hint::spin_loop();
        }
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

impl StrategyFactory for Slow {
    fn name(&self) -> &'static str {
        "slow"
    }
    fn build(&self, _: condor_actors::market::Ticker) -> Box<dyn Strategy> {
        Box::new(Slow)
    }
}

/// A burst faster than the strategy: the session stops reading at the backlog's limit
/// (TCP holds the simulator back) instead of queueing every tick in memory, and still
/// every tick arrives, in order. The session batches frames here, as it does above 100
/// frames/ms; handing each tick on, it never gets more than one ahead. The limit is
/// `condor run`'s own: several times it in trades, so that the session must pause.
async fn a_slow_strategy_holds_the_socket_back_and_loses_nothing(protocol: Protocol) {
    const LIMIT: u64 = tick_backlog::DEFAULT_LIMIT;
    const TRADES: u64 = 4 * LIMIT;
    let sim = sim_with(
        protocol,
        "condition S001 폭주\nat 0ms S001 enter 005930\n",
        |cfg| {
            cfg.firehose = true;
            cfg.firehose_trades = Some(TRADES);
            cfg.exchange.trades_per_sec = 0.0;
        },
    );
    let batching = |c: &mut SessionConfig| c.hand_off_below_per_ms = 0;
    let data = tempfile::tempdir().unwrap();
    let e = engine(&sim, &data, "S001", 10, Box::new(Slow), batching).await;
    let seen = until_within(PATIENCE * 3, "every printed trade processed", async || {
        let printed = sim.stats().await.trades;
        let seen = e.processor.send(Flush).await.unwrap();
        if printed >= TRADES && seen.ticks == printed {
            Ok(seen)
        } else {
            Err(format!(
                "printed {printed} trades, processor saw {}",
                seen.ticks
            ))
        }
    })
    .await;
    assert_eq!(seen.out_of_order, 0, "per-ticker order");
    assert_eq!(seen.max_seq - seen.min_seq + 1, seen.ticks, "no gap");
    let session = e.session.send(GetSessionStats).await.unwrap();
    assert!(session.read_pauses > 0, "{session:?}");
    assert!(
        session.max_in_flight <= LIMIT,
        "{} ticks in flight, limit {LIMIT}",
        session.max_in_flight
    );
}
per_broker!(a_slow_strategy_holds_the_socket_back_and_loses_nothing:
    ls_a_slow_strategy_holds_the_socket_back_and_loses_nothing,
    kiwoom_a_slow_strategy_holds_the_socket_back_and_loses_nothing);

async fn malformed_frames_are_counted_and_the_engine_carries_on(protocol: Protocol) {
    let sim = sim_with(
        protocol,
        "condition S001 깨진 프레임\nat 0ms S001 enter 005930\n",
        |cfg| {
            cfg.exchange.trades_per_sec = 50.0;
            cfg.faults.malformed_share = 0.3;
        },
    );
    let data = tempfile::tempdir().unwrap();
    let e = engine(&sim, &data, "S001", 100, momentum(), |_| {}).await;
    let s = until("5 malformed frames counted and 5 ticks handled", || async {
        let s = e.session.send(GetSessionStats).await.unwrap();
        let ticks = e.processor.send(Flush).await.unwrap().ticks;
        (s.malformed >= 5 && ticks >= 5).then_some(s)
    })
    .await;
    assert!(s.connected, "{s:?}");
}
per_broker!(malformed_frames_are_counted_and_the_engine_carries_on:
    ls_malformed_frames_are_counted_and_the_engine_carries_on,
    kiwoom_malformed_frames_are_counted_and_the_engine_carries_on);

/// Counts the ticks it is sent.
#[derive(Default)]
struct TickCount(u64);
impl Actor for TickCount {
    type Context = Context<Self>;
}
impl Handler<condor_actors::messages::Ticks> for TickCount {
    type Result = ();
    fn handle(&mut self, ticks: condor_actors::messages::Ticks, _: &mut Context<Self>) {
        self.0 += ticks.0.len() as u64;
    }
}
#[derive(Message)]
#[rtype(result = "u64")]
struct Count;
impl Handler<Count> for TickCount {
    type Result = u64;
    fn handle(&mut self, _: Count, _: &mut Context<Self>) -> u64 {
        self.0
    }
}

/// A ticker that leaves and comes back at once gets a new feed while the old one is
/// still stopping: the new feed's subscribe can reach the session before the old feed's
/// unsubscribe. That late unsubscribe must not take the new feed's route and
/// registration with it.
async fn a_late_unsubscribe_of_a_replaced_feed_leaves_the_new_feed_subscribed(protocol: Protocol) {
    use condor_actors::market::{Market, Ticker};
    use condor_actors::messages::{FeedId, SubscribeTrades, UnsubscribeTrades};

    let sim = sim_with(protocol, "condition B001 late\n", |c| {
        c.exchange.trades_per_sec = 50.0
    });
    // A condition with no members: the only trade feeds are the test's own.
    let data = tempfile::tempdir().unwrap();
    let e = engine(&sim, &data, "B001", 100, momentum(), |_| {}).await;
    let session = &e.session;
    let ticker = Ticker::parse("005930").unwrap();
    let (old, new) = (TickCount::default().start(), TickCount::default().start());
    let (old_id, new_id) = (FeedId::next(), FeedId::next());
    session.do_send(SubscribeTrades {
        ticker,
        market: Market::Kospi,
        to: old.clone().recipient(),
        feed_id: old_id,
    });
    until_subscribed(&sim, &["005930"]).await;
    // The successor subscribes first, then the old feed's unsubscribe arrives.
    session.do_send(SubscribeTrades {
        ticker,
        market: Market::Kospi,
        to: new.clone().recipient(),
        feed_id: new_id,
    });
    session.do_send(UnsubscribeTrades {
        ticker,
        feed_id: old_id,
    });
    // Still subscribed at the exchange, and the ticks now reach the new feed.
    let before = new.send(Count).await.unwrap();
    until("5 more ticks reach the new feed", || async {
        (new.send(Count).await.unwrap() >= before + 5).then_some(())
    })
    .await;
    let report = until_subscribed(&sim, &["005930"]).await;
    assert_eq!(report.trade_subscribers("005930"), 1);
    // The new feed's own unsubscribe does end it.
    session.do_send(UnsubscribeTrades {
        ticker,
        feed_id: new_id,
    });
    until_subscribed(&sim, &[]).await;
}
per_broker!(a_late_unsubscribe_of_a_replaced_feed_leaves_the_new_feed_subscribed:
    ls_a_late_unsubscribe_of_a_replaced_feed_leaves_the_new_feed_subscribed,
    kiwoom_a_late_unsubscribe_of_a_replaced_feed_leaves_the_new_feed_subscribed);
