//! What keeps condor from losing money by mistake, against the embedded exchange over real
//! sockets: the kill switch (tripped by the day's loss, cancels what works, refuses new
//! entries, and is still on after a restart), the order rate (the simulator enforces LS's
//! per-TR limits and never has to refuse one of ours), an order in flight across a
//! websocket drop (learned from t0425 after the reconnect), and control before data (a
//! kill switch tripped behind 100,000 queued ticks stops orders at once), and a shutdown
//! that sends nothing new and cancels each working order once.
//!
//! Everything is asserted on what the simulator and the journal hold, never on durations.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use common::{tick, until};
use condor::sim::{SimConfig, SimHandle};
use condor_actors::broker_account;
use condor_actors::broker_session::{BrokerSession, SessionConfig};
use condor_actors::clock::{Clock, SystemClock};
use condor_actors::domain::OrderNo;
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::recovery::rebuild;
use condor_actors::journal::{store, Journal};
use condor_actors::kill_switch::TripCause;
use condor_actors::ledger::Ledger;
use condor_actors::ls_rest::LsRest;
use condor_actors::market::{Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::{
    CancelAllWorking, Deliver, Fill, Flush, GetOrderStats, GetPortfolio, OrderIntent, OrderStats,
    OrderType, StopOrders, Tick, TripKillSwitch,
};
use condor_actors::order_manager::{OrderManager, RateExcess, RecoveredOrders};
use condor_actors::portfolio::Portfolio;
use condor_actors::processor::Processor;
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::{Signal, Strategy, StrategyFactory};

fn samsung() -> Ticker {
    Ticker::parse("005930").unwrap()
}

/// Limits loose enough that only the rule a test is about can refuse.
fn loose() -> RiskLimits {
    RiskLimits {
        max_order_qty: Qty::lit(1_000),
        max_order_notional: 1_000_000_000,
        max_position_notional: 10_000_000_000,
        max_open_positions: 100,
        price_collar_bp: 5_000,
        max_orders_per_day: 10_000,
        daily_loss_limit: 1_000_000_000,
    }
}

fn start_sim(cfg: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut c = SimConfig::default();
    c.exchange.trades_per_sec = 2.0;
    cfg(&mut c);
    common::start(c)
}

/// The day's lower price limit of 삼성전자 (t1102): a buy there rests and never fills.
async fn samsung_lower_limit(rest: &LsRest) -> Price {
    rest.call::<condor_actors::wire::market_data::T1102>(
        &condor_actors::wire::market_data::T1102InBlock::new(samsung()),
    )
    .await
    .expect("t1102")
    .blocks
    .out_block
    .expect("t1102 out block")
    .limits()
    .unwrap()
    .lower
}

/// OrderManager + Portfolio + BrokerSession with a journal in `dir`, as `condor run` wires
/// them (no strategy side unless `processor` is given).
struct Rig {
    rest: LsRest,
    orders: Addr<OrderManager>,
    portfolio: Addr<Portfolio>,
    journal: Journal,
    _session: Addr<BrokerSession>,
}

/// The day's loss limit of the kill-switch test; the other tests' random-walk positions
/// must never trip it.
const KILL_SWITCH_LOSS: i64 = 50_000;
const NO_LOSS_LIMIT: i64 = i64::MAX / 4;

async fn start_rig(
    sim: &SimHandle,
    dir: &std::path::Path,
    setup: impl FnOnce(OrderManager) -> OrderManager,
    recovered: Option<RecoveredOrders>,
    loss_limit: i64,
) -> Rig {
    let rest = common::ls_rest(sim).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (journal, _) = Journal::open(dir, clock.today(), clock.clone()).expect("journal");
    let session = BrokerSession::new(SessionConfig::new(sim.ws_url(), rest.token())).start();
    let cash = broker_account::cash(&rest).await.expect("cash");
    let om_ctx = Context::<OrderManager>::new();
    let ledger = recovered
        .as_ref()
        .map_or_else(|| Ledger::new(cash), |r| r.ledger.clone());
    let portfolio = Portfolio::from_ledger(ledger)
        .with_loss_limit(loss_limit, om_ctx.address().recipient())
        .start();
    let mut om = OrderManager::new(rest.clone(), loose(), clock)
        .with_journal(journal.clone())
        .with_account_feed(session.clone().recipient())
        .with_portfolio(portfolio.clone().recipient())
        .with_cash_reconcile(portfolio.clone().recipient(), portfolio.clone().recipient());
    if let Some(r) = recovered {
        om = om.with_recovered(r);
    }
    let orders = om_ctx.run(setup(om));
    until("the account feed registered at the simulator", || async {
        sim.subscriptions()
            .await
            .sessions
            .iter()
            .any(|s| s.account)
            .then_some(())
    })
    .await;
    Rig {
        rest,
        orders,
        portfolio,
        journal,
        _session: session,
    }
}

impl Rig {
    async fn stats(&self) -> OrderStats {
        self.orders.send(GetOrderStats).await.unwrap()
    }
}

fn buy(qty: u64, order_type: OrderType) -> OrderIntent {
    OrderIntent {
        ticker: samsung(),
        side: Side::Buy,
        qty: Qty::lit(qty),
        order_type,
        reason: "test",
        tick_seq: 0,
        tick_received_at: None,
    }
}

fn journal_events(dir: &std::path::Path) -> Vec<JournalEvent> {
    let day = SystemClock.today();
    store::read::<JournalEvent>(&condor_actors::journal::day_path(dir, day))
        .expect("journal reads")
        .records
        .into_iter()
        .map(|r| r.event)
        .collect()
}

#[actix_rt::test]
async fn the_order_rate_never_lets_the_simulator_refuse_an_order() {
    // The simulator enforces CSPAT00601's 10 a second over a sliding window and answers
    // IGW00201 past it. 40 intents at once: all must reach it, none refused for the rate.
    let sim = start_sim(|c| c.exchange.trades_per_sec = 20.0);
    let dir = tempfile::tempdir().unwrap();
    let rig = start_rig(
        &sim,
        dir.path(),
        |om| om.with_order_rate(10, RateExcess::Queue),
        None,
        NO_LOSS_LIMIT,
    )
    .await;
    for i in 0..40 {
        // Distinct quantities: identical working orders would be refused as duplicates.
        rig.orders.do_send(Deliver(buy(1 + i, OrderType::Market)));
    }
    let stats = until("40 orders done", || async {
        let s = rig.stats().await;
        (s.orders == 40 && s.working == 0).then_some(s)
    })
    .await;
    assert_eq!(stats.rejected, 0, "{stats:?}");
    assert!(stats.rate_waited > 0, "the burst had to wait: {stats:?}");
    let at_sim = broker_account::orders_of_day(&rig.rest).await.unwrap();
    assert_eq!(at_sim.len(), 40, "every order reached the simulator");

    sim.stop();

    // Refuse mode: what is over the rate is refused here, journaled, and never sent. A
    // fresh simulator: the first burst's calls still count in its one-second window.
    // A busy market, so the market orders that pass fill soon.
    let sim = start_sim(|c| c.exchange.trades_per_sec = 50.0);
    let dir = tempfile::tempdir().unwrap();
    let rig = rig_refusing(&sim, dir.path()).await;
    for i in 0..25 {
        rig.orders.do_send(Deliver(buy(100 + i, OrderType::Market)));
    }
    let stats = until("25 intents settled", || async {
        let s = rig.stats().await;
        (s.orders + s.refused_by_risk == 25 && s.working == 0).then_some(s)
    })
    .await;
    assert_eq!(stats.rejected, 0, "{stats:?}");
    assert!(
        stats.refused_by_risk >= 15,
        "at most 10 pass in a second: {stats:?}"
    );
    rig.journal.sync().unwrap();
    let refused = journal_events(dir.path())
        .into_iter()
        .filter(|e| matches!(e, JournalEvent::Refused { rule, .. } if rule == "order_rate"))
        .count() as u64;
    assert_eq!(refused, stats.refused_by_risk);
    sim.stop();
}

async fn rig_refusing(sim: &SimHandle, dir: &std::path::Path) -> Rig {
    start_rig(
        sim,
        dir,
        |om| om.with_order_rate(10, RateExcess::Refuse),
        None,
        NO_LOSS_LIMIT,
    )
    .await
}

#[actix_rt::test]
async fn the_kill_switch_trips_on_the_loss_limit_cancels_working_orders_and_survives_a_restart() {
    let sim = start_sim(|_| {});
    let dir = tempfile::tempdir().unwrap();
    let rig = start_rig(&sim, dir.path(), |om| om, None, KILL_SWITCH_LOSS).await;
    // A resting buy far below the market (it will be cancelled by the trip) and a position.
    let last = broker_account::orders_of_day(&rig.rest).await.unwrap();
    assert!(last.is_empty());
    let lower = samsung_lower_limit(&rig.rest).await;
    rig.orders.do_send(Deliver(buy(3, OrderType::Limit(lower))));
    rig.orders.do_send(Deliver(buy(10, OrderType::Market)));
    let held = until("10 shares held", || async {
        let p = rig.portfolio.send(GetPortfolio).await.unwrap().unwrap();
        let q = p.positions.iter().find(|p| p.ticker == samsung())?.qty;
        (q == Qty::lit(10)).then_some(p)
    })
    .await;
    let avg = held.positions[0].avg_price.unwrap();
    until("the resting buy is working", || async {
        (rig.stats().await.working == 1).then_some(())
    })
    .await;

    // A tick 10% under the average marks 10 shares down by far more than the 50,000 won
    // limit: the Portfolio trips the kill switch at the OrderManager.
    rig.portfolio.do_send(Deliver(
        tick(samsung(), avg.won() * 9 / 10)
            .prev_close(avg.won())
            .aggressor(Side::Sell)
            .build(),
    ));
    until("the kill switch is on", || async {
        rig.stats().await.kill_switch_on.then_some(())
    })
    .await;
    until("the resting buy is cancelled at the simulator", || async {
        let orders = broker_account::orders_of_day(&rig.rest).await.ok()?;
        orders
            .iter()
            .all(|o| o.remaining.shares() == 0)
            .then_some(())
    })
    .await;
    // New entries are refused (and journaled); an exit still goes.
    rig.orders.do_send(Deliver(buy(1, OrderType::Market)));
    rig.orders.do_send(Deliver(OrderIntent {
        side: Side::Sell,
        ..buy(10, OrderType::Market)
    }));
    let stats = until("the buy refused and the sell filled", || async {
        let s = rig.stats().await;
        (s.refused_by_risk == 1 && s.filled == 2 && s.working == 0).then_some(s)
    })
    .await;
    assert_eq!(stats.cancelled, 1, "{stats:?}");
    rig.journal.sync().unwrap();
    let events = journal_events(dir.path());
    assert!(events.iter().any(|e| matches!(
        e,
        JournalEvent::KillSwitchTripped {
            cause: TripCause::LossLimit {
                limit: KILL_SWITCH_LOSS,
                ..
            }
        }
    )));
    assert!(events
        .iter()
        .any(|e| matches!(e, JournalEvent::Refused { rule, .. } if rule == "kill_switch")));
    drop(rig);

    // A restart rebuilds from the journal: the switch is still on, entries still refused.
    let records = store::read::<JournalEvent>(&condor_actors::journal::day_path(
        dir.path(),
        SystemClock.today(),
    ))
    .unwrap()
    .records;
    let state = rebuild(
        SystemClock.today(),
        records.iter().map(|r| (r.seq, &r.event)),
        condor_actors::ledger::FeeSchedule::default(),
        Instant::now(),
    );
    assert!(state.kill_switch.is_some());
    let recovered = RecoveredOrders {
        book: state.book,
        ledger: state.ledger,
        orders_today: state.orders_sent,
        kill_switch: state.kill_switch,
        journal_seq: state.journal_seq,
    };
    // The first engine's actors still hold the journal (and its lock): the restart reads a
    // copy of the file, as a new process would read the file the dead one left.
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::copy(
        condor_actors::journal::day_path(dir.path(), SystemClock.today()),
        condor_actors::journal::day_path(dir2.path(), SystemClock.today()),
    )
    .unwrap();
    let again = start_rig(
        &sim,
        dir2.path(),
        |om| om,
        Some(recovered),
        KILL_SWITCH_LOSS,
    )
    .await;
    assert!(
        again.stats().await.kill_switch_on,
        "still on after the restart"
    );
    again.orders.do_send(Deliver(buy(2, OrderType::Market)));
    until("the buy is refused after the restart", || async {
        (again.stats().await.refused_by_risk == 1).then_some(())
    })
    .await;
    // t0425 lists the cancel as a row of its own (원주문번호 = the cancelled order): the
    // three new orders are the resting buy, the entry and the exit; none after the restart.
    let at_sim = broker_account::orders_of_day(&again.rest).await.unwrap();
    let new_orders = at_sim
        .iter()
        .filter(|o| o.org_order_no == OrderNo::NONE)
        .count();
    assert_eq!(new_orders, 3, "{at_sim:#?}");
    sim.stop();
}

#[actix_rt::test]
async fn an_order_filled_while_the_websocket_was_down_is_learned_after_the_reconnect() {
    // Every websocket connection drops after its first frame (the account registration's
    // answer): the order's SC0 and SC1 are lost with it. The order fills at the simulator
    // during the gap; after the reconnect the OrderManager asks t0425 and books the fill.
    let sim = start_sim(|c| {
        c.faults.drop_after_frames = Some(1);
        c.exchange.trades_per_sec = 20.0;
    });
    let dir = tempfile::tempdir().unwrap();
    let rig = start_rig(&sim, dir.path(), |om| om, None, NO_LOSS_LIMIT).await;
    let cash_before = broker_account::cash(&rig.rest).await.unwrap();
    rig.orders.do_send(Deliver(buy(7, OrderType::Market)));
    let stats = until("the order is filled from the broker's list", || async {
        let s = rig.stats().await;
        (s.filled == 1 && s.working == 0).then_some(s)
    })
    .await;
    assert!(stats.reconcile_differences >= 1, "{stats:?}");
    let broker_cash = broker_account::cash(&rig.rest).await.unwrap();
    let holdings = broker_account::holdings(&rig.rest).await.unwrap();
    assert_eq!(holdings.len(), 1);
    assert_eq!(holdings[0].qty, Qty::lit(7));
    // t0425 gives the fills' average price rounded to the won, so cash booked from it can
    // be a few won off until it is compared with the broker's (CSPAQ12200) and corrected.
    let p = until(
        "the Portfolio holds the 7 shares and the broker's cash",
        || async {
            let p = rig.portfolio.send(GetPortfolio).await.ok()?.ok()?;
            let held = p
                .positions
                .iter()
                .any(|p| p.ticker == samsung() && p.qty == Qty::lit(7));
            (held && p.cash == broker_cash).then_some(p)
        },
    )
    .await;
    assert!(broker_cash < cash_before);
    assert_eq!(p.cash, broker_cash, "cash as the broker says");
    rig.journal.sync().unwrap();
    assert!(journal_events(dir.path()).iter().any(|e| matches!(
        e,
        JournalEvent::Filled {
            source: condor_actors::journal::event::FillSource::Reconcile,
            ..
        }
    )));
    sim.stop();
}

/// Buys one share at market on every 1,000th tick: a steady stream of entries.
struct EveryThousandth;

struct EveryThousandthState {
    ticks: u64,
}

impl StrategyFactory for EveryThousandth {
    fn name(&self) -> &'static str {
        "every-1000th"
    }
    fn build(&self, _: Ticker) -> Box<dyn Strategy> {
        Box::new(EveryThousandthState { ticks: 0 })
    }
}

impl Strategy for EveryThousandthState {
    fn name(&self) -> &'static str {
        "every-1000th"
    }
    fn on_condition_enter(&mut self, _: TimeOfDay) {}
    fn on_condition_exit(&mut self, _: TimeOfDay) {}
    fn on_tick(&mut self, _: &Tick, out: &mut Vec<Signal>) {
        self.ticks += 1;
        if self.ticks % 1_000 == 0 {
            out.push(Signal::Buy {
                qty: Qty::lit(1 + self.ticks / 1_000),
                order_type: OrderType::Market,
                reason: "every 1000th tick",
            });
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

#[actix_rt::test]
async fn a_kill_switch_tripped_behind_100k_queued_ticks_stops_orders_at_once() {
    let sim = start_sim(|c| c.rate_limits = false);
    let dir = tempfile::tempdir().unwrap();
    let rest = common::ls_rest(&sim).await;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let (journal, _) = Journal::open(dir.path(), clock.today(), clock.clone()).unwrap();
    let session = BrokerSession::new(SessionConfig::new(sim.ws_url(), rest.token())).start();
    let om_ctx = Context::<OrderManager>::new();
    let ticks = condor_actors::tick_backlog::TickBacklog::new(1 << 20);
    let processor = Processor::new(
        Box::new(EveryThousandth),
        Some(om_ctx.address().recipient()),
        clock.clone(),
    )
    .with_backlog(ticks.clone())
    .start();
    let orders = om_ctx.run(
        OrderManager::new(rest.clone(), loose(), clock)
            .with_journal(journal.clone())
            .with_order_rate(1_000, RateExcess::Queue)
            .with_account_feed(session.clone().recipient()),
    );
    // 100,000 ticks queued behind the Processor (do_send never waits), then the trip.
    let prev = Price::lit(70_000);
    for seq in 1..=100_000u64 {
        processor.do_send(Deliver(
            tick(samsung(), prev.won()).cum_volume(seq).seq(seq).build(),
        ));
    }
    orders
        .send(TripKillSwitch {
            cause: TripCause::Operator {
                note: "test".into(),
            },
        })
        .await
        .unwrap();
    // The trip did not wait for the queue: the Processor takes turns with the other
    // actors on its thread instead of draining its whole mailbox in one go.
    let handled_at_trip = ticks.counts().handled;
    assert!(
        handled_at_trip < 10_000,
        "the trip waited for {handled_at_trip} queued ticks"
    );
    // Everything the OrderManager let through was let through before the trip.
    let at_trip = orders.send(GetOrderStats).await.unwrap();
    let drained = processor.send(Flush).await.unwrap();
    assert_eq!(drained.ticks, 100_000);
    assert_eq!(drained.intents, 100, "the strategy kept asking");
    // The intents reach the OrderManager after the drain; each is refused there.
    let after = until("every intent after the trip refused", || async {
        let s = orders.send(GetOrderStats).await.ok()?;
        (s.refused_by_risk == 100 - at_trip.orders).then_some(s)
    })
    .await;
    assert_eq!(
        after.orders, at_trip.orders,
        "no order passed after the trip"
    );
    assert!(after.refused_by_risk > 0, "{after:?}");
    // And the simulator received those, less any buy still waiting for the journal or
    // the send rate at the trip: that one was withdrawn (rejected locally), never sent.
    let settled = until("every order granted before the trip ended", || async {
        let s = orders.send(GetOrderStats).await.ok()?;
        (s.working == 0).then_some(s)
    })
    .await;
    let reached_sim = at_trip.orders - settled.rejected;
    until(
        "the orders sent before the trip reach the simulator",
        || async {
            let n = broker_account::orders_of_day(&rest).await.ok()?.len() as u64;
            (n == reached_sim).then_some(())
        },
    )
    .await;
    orders.send(GetOrderStats).await.unwrap();
    assert_eq!(
        broker_account::orders_of_day(&rest).await.unwrap().len() as u64,
        reached_sim
    );
    drop(session);
    sim.stop();
}

#[actix_rt::test]
async fn a_buy_granted_before_a_trip_but_not_yet_sent_is_withdrawn_not_sent() {
    let sim = start_sim(|c| c.rate_limits = false);
    let dir = tempfile::tempdir().unwrap();
    let rig = start_rig(&sim, dir.path(), |om| om, None, NO_LOSS_LIMIT).await;
    // One filled buy first, so the day's band is known and later buys pass the gate at once.
    rig.orders.do_send(Deliver(buy(1, OrderType::Market)));
    until("the first buy filled", || async {
        (rig.stats().await.filled == 1).then_some(())
    })
    .await;
    // Three buys (not alike: twins are refused), then the trip, in one mailbox: each buy
    // passes the gate and waits for its `OrderSent` to be durable; the journal's answer
    // queues behind the trip.
    for qty in 1..=3 {
        rig.orders.do_send(Deliver(buy(qty, OrderType::Market)));
    }
    rig.orders.do_send(TripKillSwitch {
        cause: TripCause::Operator {
            note: "test".into(),
        },
    });
    let stats = until("the three buys ended", || async {
        let s = rig.stats().await;
        (s.orders == 4 && s.working == 0).then_some(s)
    })
    .await;
    assert_eq!((stats.filled, stats.rejected), (1, 3), "{stats:?}");
    assert_eq!(
        broker_account::orders_of_day(&rig.rest)
            .await
            .unwrap()
            .len(),
        1,
        "only the buy before the trip reached the broker"
    );
    // Journaled as rejected after `OrderSent`: a restart does not take them for in doubt.
    rig.journal.sync().unwrap();
    let withdrawn = journal_events(dir.path())
        .into_iter()
        .filter(|e| {
            matches!(e, JournalEvent::Rejected { code, message, .. }
                if code == "LOCAL" && message.contains("kill switch"))
        })
        .count();
    assert_eq!(withdrawn, 3);
    sim.stop();
}

#[actix_rt::test]
async fn a_trip_while_an_order_awaits_its_number_cancels_it_once_the_broker_names_it() {
    // Every TR answer takes 400 ms: the order rests at the exchange while its reply travels.
    let sim = start_sim(|c| {
        c.rate_limits = false;
        c.faults.rest_reply_delay = Some(Duration::from_millis(400));
    });
    let dir = tempfile::tempdir().unwrap();
    let rig = start_rig(&sim, dir.path(), |om| om, None, NO_LOSS_LIMIT).await;
    let lower = samsung_lower_limit(&rig.rest).await;
    rig.orders.do_send(Deliver(buy(3, OrderType::Limit(lower))));
    until("the buy's REST call is on its way", || async {
        (rig.stats().await.intent_to_send.count == 1).then_some(())
    })
    .await;
    rig.orders
        .send(TripKillSwitch {
            cause: TripCause::Operator {
                note: "test".into(),
            },
        })
        .await
        .unwrap();
    let at_trip = rig.stats().await;
    assert_eq!(
        (at_trip.working, at_trip.cancelled),
        (1, 0),
        "still unnamed at the trip: {at_trip:?}"
    );
    let stats = until("the buy cancelled once named", || async {
        let s = rig.stats().await;
        (s.working == 0).then_some(s)
    })
    .await;
    assert_eq!(stats.cancelled, 1, "{stats:?}");
    let at_sim = broker_account::orders_of_day(&rig.rest).await.unwrap();
    assert!(
        at_sim.iter().all(|o| o.remaining.shares() == 0),
        "{at_sim:#?}"
    );
    sim.stop();
}

#[actix_rt::test]
async fn a_stopping_order_manager_sends_nothing_new_and_cancels_each_working_order_once() {
    let sim = start_sim(|c| c.rate_limits = false);
    let dir = tempfile::tempdir().unwrap();
    let rig = start_rig(&sim, dir.path(), |om| om, None, NO_LOSS_LIMIT).await;
    // Two buys resting at the day's lower limit: they never fill.
    let lower = samsung_lower_limit(&rig.rest).await;
    rig.orders.do_send(Deliver(buy(3, OrderType::Limit(lower))));
    rig.orders.do_send(Deliver(buy(4, OrderType::Limit(lower))));
    until("both buys working at the broker", || async {
        let s = rig.stats().await;
        (s.working == 2 && s.in_doubt == 0).then_some(())
    })
    .await;

    // Shutdown: an intent after StopOrders is refused, never sent.
    rig.orders.send(StopOrders).await.unwrap();
    rig.orders.do_send(Deliver(buy(5, OrderType::Market)));
    until("the buy after the stop refused", || async {
        (rig.stats().await.refused_by_risk == 1).then_some(())
    })
    .await;
    // Cancel asked twice (shutdown asks until everything ended): one cancel per order.
    let first = rig.orders.send(CancelAllWorking).await.unwrap();
    let again = rig.orders.send(CancelAllWorking).await.unwrap();
    assert_eq!((first, again), (2, 0), "each working order cancelled once");
    let stats = until("both buys cancelled", || async {
        let s = rig.stats().await;
        (s.working == 0).then_some(s)
    })
    .await;
    assert_eq!((stats.orders, stats.cancelled), (2, 2), "{stats:?}");
    let at_sim = broker_account::orders_of_day(&rig.rest).await.unwrap();
    let (new, cancels): (Vec<&_>, Vec<&_>) =
        at_sim.iter().partition(|o| o.org_order_no == OrderNo::NONE);
    assert_eq!((new.len(), cancels.len()), (2, 2), "{at_sim:#?}");
    rig.journal.sync().unwrap();
    assert!(journal_events(dir.path())
        .iter()
        .any(|e| matches!(e, JournalEvent::Refused { rule, .. } if rule == "shutdown")));
    sim.stop();
}
