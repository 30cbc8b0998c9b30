//! The engine as `condor run` wires it (`engine::start` with the broker's `BrokerLink`)
//! against the simulator speaking each broker's wire over real sockets: LS's (REST TRs,
//! S3_/K3_, SC0–SC4, AFR) and Kiwoom's (api-id TRs, LOGIN, REG 0B/00/04, CNSRLST/CNSRREQ,
//! REAL 02). Every test runs once per broker with the same body: what a broker must do for
//! the engine is the same whichever broker it is.
//!
//! One subscription per ticker however often it enters; an exit stops the feed and the
//! subscription; an invalid code and the feed cap are counted, not fatal; a dropped link
//! comes back with every registration, the condition's included; the order path (a fill,
//! a cancel, a reject keeping the broker's code) agrees with the broker; and a shutdown
//! leaves nothing registered.

#[macro_use]
mod common;

use std::collections::BTreeSet;

use common::{until, until_subscribed};
use condor::engine::{self, ConditionPlan, Engine, EngineSettings};
use condor::sim::exchange::Scenario;
use condor::sim::{Protocol, SimConfig, SimHandle};
use condor_actors::broker_session::Shutdown;
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::store;
use condor_actors::market::{Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::{
    CancelAllWorking, Deliver, Fill, Flush, GetOrderStats, GetPortfolio, GetSessionStats,
    OrderIntent, OrderType, Tick,
};
use condor_actors::portfolio::GetPortfolioStats;
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::{Signal, Strategy, StrategyFactory};
use condor_actors::supervisor::GetSupervisorStats;

/// Watches and never trades: the feeds' lives are the condition's alone.
struct Watch;

impl Strategy for Watch {
    fn name(&self) -> &'static str {
        "watch"
    }
    fn on_condition_enter(&mut self, _: TimeOfDay) {}
    fn on_condition_exit(&mut self, _: TimeOfDay) {}
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

impl StrategyFactory for Watch {
    fn name(&self) -> &'static str {
        "watch"
    }
    fn build(&self, _: Ticker) -> Box<dyn Strategy> {
        Box::new(Watch)
    }
}

fn sim(protocol: Protocol, scenario: &str, tune: impl FnOnce(&mut SimConfig)) -> SimHandle {
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

/// The engine trading `condition` at `sim` with the [`Watch`] strategy.
async fn start(
    sim: &SimHandle,
    data: &tempfile::TempDir,
    condition: &str,
    max_feeds: usize,
    risk: RiskLimits,
) -> Engine {
    engine::start(
        common::broker_link(sim).await,
        EngineSettings {
            max_feeds,
            risk,
            ..common::engine_settings(data.path(), ConditionPlan::one(condition, Box::new(Watch)))
        },
    )
    .await
    .expect("engine starts")
}

async fn until_ticks(e: &Engine, more_than: u64) -> u64 {
    until("ticks reach the processor", || async {
        let ticks = e.processor.send(Flush).await.unwrap().ticks;
        (ticks > more_than).then_some(ticks)
    })
    .await
}

async fn one_feed_per_ticker_however_often_it_enters(protocol: Protocol) {
    let sim = sim(
        protocol,
        "condition S001 엔진 테스트\n\
         at 0ms S001 enter 005930\n\
         at 0ms S001 enter 005930\n\
         at 5ms S001 enter 005930\n\
         at 10ms S001 enter 000660\n\
         at 10ms S001 enter 035720\n\
         at 20ms S001 enter 000660\n\
         at 30ms S001 enter 005930\n",
        |_| {},
    );
    let data = tempfile::tempdir().unwrap();
    let e = start(&sim, &data, "엔진 테스트", 100, RiskLimits::default()).await;
    let report = until_subscribed(&sim, &["000660", "005930", "035720"]).await;
    for t in report.subscribed_tickers() {
        assert_eq!(report.trade_subscribers(&t), 1, "{t}: one subscription");
    }
    until_ticks(&e, 0).await;
    let stats = e.supervisor.send(GetSupervisorStats).await.unwrap();
    assert_eq!((stats.live_feeds, stats.spawned), (3, 3), "{stats:?}");
}
per_broker!(one_feed_per_ticker_however_often_it_enters:
    ls_one_feed_per_ticker_however_often_it_enters,
    kiwoom_one_feed_per_ticker_however_often_it_enters);

async fn an_exit_stops_the_feed_and_the_subscription(protocol: Protocol) {
    let sim = sim(
        protocol,
        "condition S001 출구 테스트\n\
         at 0ms S001 enter 005930\n\
         at 0ms S001 enter 000660\n\
         at 1500ms S001 exit 005930\n",
        |_| {},
    );
    let data = tempfile::tempdir().unwrap();
    let e = start(&sim, &data, "S001", 100, RiskLimits::default()).await;
    until_subscribed(&sim, &["000660"]).await;
    // However late the engine started, 005930 was either watched and stopped, or never
    // watched (it had left before the start's members were listed).
    let s = e.supervisor.send(GetSupervisorStats).await.unwrap();
    assert_eq!(s.live_feeds, 1, "{s:?}");
    assert_eq!(s.spawned - s.stopped, 1, "{s:?}");
}
per_broker!(an_exit_stops_the_feed_and_the_subscription:
    ls_an_exit_stops_the_feed_and_the_subscription,
    kiwoom_an_exit_stops_the_feed_and_the_subscription);

async fn an_invalid_code_and_the_feed_cap_are_counted_not_fatal(protocol: Protocol) {
    let sim = sim(
        protocol,
        "condition S001 잘못된 코드\n\
         at 0ms S001 enter 12345X\n\
         at 0ms S001 enter 005930\n\
         at 0ms S001 enter 000660\n\
         at 0ms S001 enter 035720\n\
         at 0ms S001 enter 035720\n",
        |_| {},
    );
    let data = tempfile::tempdir().unwrap();
    let e = start(&sim, &data, "S001", 2, RiskLimits::default()).await;
    // The Kiwoom simulator cannot push a code that is not six digits (its REAL 02 carries
    // a stock code), so only LS's AFR brings the invalid one.
    let invalid = match protocol {
        Protocol::Ls => 1,
        Protocol::Kiwoom => 0,
    };
    let s = until("the invalid codes and one refusal over the cap", || async {
        let s = e.supervisor.send(GetSupervisorStats).await.unwrap();
        (s.invalid_codes == invalid && s.refused_over_cap == 1 && s.live_feeds == 2).then_some(s)
    })
    .await;
    assert_eq!(s.spawned, 2, "{s:?}");
    until_ticks(&e, 0).await;
}
per_broker!(an_invalid_code_and_the_feed_cap_are_counted_not_fatal:
    ls_an_invalid_code_and_the_feed_cap_are_counted_not_fatal,
    kiwoom_an_invalid_code_and_the_feed_cap_are_counted_not_fatal);

async fn a_dropped_link_comes_back_with_every_registration(protocol: Protocol) {
    let sim = sim(
        protocol,
        "condition S001 재접속\n\
         at 0ms S001 enter 005930\n\
         at 0ms S001 enter 000660\n\
         at 0ms S001 enter 247540\n",
        |_| {},
    );
    let data = tempfile::tempdir().unwrap();
    let e = start(&sim, &data, "S001", 100, RiskLimits::default()).await;
    let before = until_subscribed(&sim, &["000660", "005930", "247540"]).await;
    let before_ids: BTreeSet<u64> = before.sessions.iter().map(|s| s.session).collect();
    sim.drop_connections();
    // A new session registers the three trade feeds, the account and the condition again.
    let after = until("everything registered again on a new session", || async {
        let now = sim.subscriptions().await;
        let fresh = !now.sessions.is_empty()
            && now
                .sessions
                .iter()
                .all(|s| !before_ids.contains(&s.session));
        let whole = now.subscribed_tickers() == before.subscribed_tickers()
            && now.sessions.iter().any(|s| s.account)
            && now.sessions.iter().any(|s| !s.alerts.is_empty());
        (fresh && whole).then_some(now)
    })
    .await;
    for t in after.subscribed_tickers() {
        assert_eq!(after.trade_subscribers(&t), 1, "{t}: one subscription");
    }
    let session = e.session.send(GetSessionStats).await.unwrap();
    assert!(session.reconnects >= 1 && session.connected, "{session:?}");
    let feeds = e.supervisor.send(GetSupervisorStats).await.unwrap();
    assert_eq!(
        (feeds.spawned, feeds.live_feeds, feeds.restarted),
        (3, 3, 0),
        "feeds keep their identity"
    );
    let ticks = e.processor.send(Flush).await.unwrap().ticks;
    until_ticks(&e, ticks).await;
}
per_broker!(a_dropped_link_comes_back_with_every_registration:
    ls_a_dropped_link_comes_back_with_every_registration,
    kiwoom_a_dropped_link_comes_back_with_every_registration);

fn samsung() -> Ticker {
    Ticker::parse("005930").unwrap()
}

fn intent(side: Side, qty: u64, order_type: OrderType) -> OrderIntent {
    OrderIntent {
        ticker: samsung(),
        side,
        qty: Qty::lit(qty),
        order_type,
        reason: "test",
        tick_seq: 0,
        tick_received_at: None,
    }
}

/// The journal's events so far.
fn journal(e: &Engine) -> Vec<JournalEvent> {
    store::read::<JournalEvent>(e.journal.path())
        .expect("the journal reads")
        .records
        .into_iter()
        .map(|r| r.event)
        .collect()
}

async fn the_order_path_fills_cancels_and_rejects_with_the_brokers_code(protocol: Protocol) {
    let sim = sim(protocol, "condition S001 주문\n", |cfg| {
        cfg.exchange.trades_per_sec = 20.0;
    });
    let data = tempfile::tempdir().unwrap();
    // The day's lower limit is ~30% below the last trade: beyond the default collar. The
    // caps are wide so that the broker, not the gate, refuses the oversized buy.
    let risk = RiskLimits {
        price_collar_bp: 5_000,
        max_order_qty: Qty::lit(10_000_000),
        max_order_notional: i64::MAX / 4,
        max_position_notional: i64::MAX / 4,
        ..RiskLimits::default()
    };
    let e = start(&sim, &data, "S001", 100, risk).await;
    until("the account feed registered", || async {
        sim.subscriptions()
            .await
            .sessions
            .iter()
            .any(|s| s.account)
            .then_some(())
    })
    .await;
    let broker = common::broker_link(&sim).await.broker;
    let band = broker.band(samsung()).await.expect("the band");

    // A market buy fills.
    e.orders
        .do_send(Deliver(intent(Side::Buy, 3, OrderType::Market)));
    until("the buy filled", || async {
        let s = e.orders.send(GetOrderStats).await.unwrap();
        (s.filled == 1).then_some(())
    })
    .await;

    // A buy at the lower limit rests and is cancelled.
    e.orders.do_send(Deliver(intent(
        Side::Buy,
        2,
        OrderType::Limit(band.limits.lower),
    )));
    // Until its reply names it there is nothing to cancel it by: asked until it is.
    until("the resting buy cancelled", || async {
        e.orders.send(CancelAllWorking).await.unwrap();
        let s = e.orders.send(GetOrderStats).await.unwrap();
        (s.cancelled == 1 && s.working == 0).then_some(())
    })
    .await;

    // A buy beyond the cash is the broker's to refuse, with its own code.
    let last = band.last.expect("a last price");
    let cash = broker.cash().await.expect("cash");
    let qty = (cash / last.won()) as u64 + 1_000;
    e.orders
        .do_send(Deliver(intent(Side::Buy, qty, OrderType::Limit(last))));
    until("the oversized buy rejected", || async {
        let s = e.orders.send(GetOrderStats).await.unwrap();
        (s.rejected == 1).then_some(())
    })
    .await;
    let code = until("the reject journaled", || async {
        journal(&e).into_iter().find_map(|ev| match ev {
            JournalEvent::Rejected { code, message, .. } => Some((code, message)),
            _ => None,
        })
    })
    .await;
    let want = match protocol {
        Protocol::Ls => "90009",
        Protocol::Kiwoom => "855056",
    };
    assert_eq!(code.0, want, "{code:?}");
    assert!(code.1.contains("부족"), "{code:?}");

    let s = e.orders.send(GetOrderStats).await.unwrap();
    assert_eq!(
        (s.orders, s.filled, s.cancelled, s.rejected, s.working),
        (3, 1, 1, 1, 0),
        "{s:?}"
    );
    // The engine's cash and holdings are the broker's.
    let snapshot = until("the ledger settles on the broker's cash", || async {
        let mine = e.portfolio.send(GetPortfolio).await.unwrap().ok()?;
        let theirs = broker.cash().await.ok()?;
        (mine.cash == theirs).then_some(mine)
    })
    .await;
    let held = broker.snapshot().await.expect("the account");
    let theirs: Vec<(Ticker, u64)> = held
        .holdings
        .iter()
        .map(|h| (h.ticker, h.qty.shares()))
        .collect();
    assert_eq!(theirs, vec![(samsung(), 3)], "{held:?}");
    assert_eq!(snapshot.positions.len(), 1, "{snapshot:?}");
    // Kiwoom tells its position after each fill (REAL 04): each was checked and agreed.
    let p = e.portfolio.send(GetPortfolioStats).await.unwrap();
    match protocol {
        Protocol::Ls => assert_eq!(p.broker_positions_checked, 0, "{p:?}"),
        Protocol::Kiwoom => assert!(p.broker_positions_checked >= 1, "{p:?}"),
    }
    assert_eq!(p.broker_positions_differing, 0, "{p:?}");
}
per_broker!(the_order_path_fills_cancels_and_rejects_with_the_brokers_code:
    ls_the_order_path_fills_cancels_and_rejects_with_the_brokers_code,
    kiwoom_the_order_path_fills_cancels_and_rejects_with_the_brokers_code);

async fn a_shutdown_leaves_nothing_registered(protocol: Protocol) {
    let sim = sim(
        protocol,
        "condition S001 종료\n\
         at 0ms S001 enter 005930\n\
         at 0ms S001 enter 000660\n",
        |_| {},
    );
    let data = tempfile::tempdir().unwrap();
    let e = start(&sim, &data, "S001", 100, RiskLimits::default()).await;
    until_subscribed(&sim, &["000660", "005930"]).await;
    e.session.send(Shutdown).await.unwrap();
    let report = until("nothing registered at the simulator", || async {
        let r = sim.subscriptions().await;
        r.sessions
            .iter()
            .all(|s| s.market.is_empty() && !s.account && s.alerts.is_empty())
            .then_some(r)
    })
    .await;
    assert!(report.subscribed_tickers().is_empty(), "{report:?}");
}
per_broker!(a_shutdown_leaves_nothing_registered:
    ls_a_shutdown_leaves_nothing_registered,
    kiwoom_a_shutdown_leaves_nothing_registered);
