//! The whole engine (session, supervisor, feeds, processor with its compute pool, order
//! manager, portfolio) trading the embedded exchange over real sockets.

mod common;

use std::time::Duration;

use common::PATIENCE;
use condor::engine::{self, Engine, EngineSettings};
use condor::sim::exchange::Scenario;
use condor::sim::{SimConfig, SimHandle};
use condor_actors::broker_account;
use condor_actors::ledger::FeeSchedule;
use condor_actors::ls_rest::LsRest;
use condor_actors::market::Ticker;
use condor_actors::messages::{Flush, GetPortfolio};
use condor_actors::order_manager::RateExcess;
use condor_actors::processor::Offload;
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::{MomentumFactory, MomentumParams};
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

async fn rest_client(sim: &SimHandle) -> LsRest {
    LsRest::connect(
        sim.rest_url(),
        sim.appkey().expose(),
        sim.appsecret().expose(),
    )
    .await
    .expect("token")
}

async fn start(sim: &SimHandle, params: MomentumParams, data: &tempfile::TempDir) -> Engine {
    start_booking(sim, params, data, FeeSchedule::default()).await
}

async fn start_booking(
    sim: &SimHandle,
    params: MomentumParams,
    data: &tempfile::TempDir,
    fees: FeeSchedule,
) -> Engine {
    let rest = rest_client(sim).await;
    engine::start(
        rest,
        sim.ws_url(),
        EngineSettings {
            condition: "S001".into(),
            max_feeds: 100,
            risk: RiskLimits::default(),
            fees,
            strategy: Box::new(MomentumFactory { params }),
            compute_threads: 2,
            data_dir: data.path().to_owned(),
            orders_per_sec: 10,
            rate_excess: RateExcess::Queue,
            kill_switch_flatten: false,
            journaled_settings: Default::default(),
            notifier: None,
            tick_watchers: Vec::new(),
            meters: None,
            tape: true,
        },
    )
    .await
    .expect("engine starts")
}

async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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
    eventually("the exit is seen while holding", || async {
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
        held.positions.iter().any(|p| p.ticker == t && p.qty.0 > 0),
        "a position is open: {held:?}"
    );
    assert_eq!(
        sim.subscriptions().await.trade_subscribers("005930"),
        1,
        "the feed stays while holding"
    );
    // The time stop sells; once flat the feed stops and the subscription goes.
    eventually("flat and unsubscribed", || async {
        sim.subscriptions().await.trade_subscribers("005930") == 0
    })
    .await;
    let book = e.portfolio.send(GetPortfolio).await.unwrap().unwrap();
    assert!(book.positions.iter().all(|p| p.qty.0 == 0), "{book:?}");
    assert!(book.fees > 0, "a buy and a sell pay commission and tax");
    assert_eq!(
        book.cash,
        e.opening_cash + book.realized_pnl - book.fees,
        "cash moved by exactly the realized P&L less the fees"
    );
    let rest = rest_client(&sim).await;
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

#[actix_rt::test]
async fn slow_work_in_the_compute_pool_does_not_stall_the_ticks() {
    let sim = sim_with("condition S001 계산\nat 0ms S001 enter 005930\nat 0ms S001 enter 000660\n");
    // A strategy that never trades: entries need +30%.
    let params = MomentumParams {
        min_change_bp: 3000,
        ..MomentumParams::default()
    };
    let data = tempfile::tempdir().expect("a data directory");
    let e = start(&sim, params, &data).await;
    eventually("ticks flow", || async {
        e.processor.send(Flush).await.unwrap().ticks >= 5
    })
    .await;
    // Hundreds of milliseconds of pure CPU in the pool.
    let t = Ticker::parse("005930").unwrap();
    e.processor.do_send(Offload {
        ticker: t,
        seq: 42,
        work: Box::new(|| {
            let mut x: u64 = 1;
            for i in 0..300_000_000u64 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(i);
            }
            std::hint::black_box(x) as i64
        }),
    });
    eventually("the job finishes", || async {
        e.processor.send(Flush).await.unwrap().jobs_done == 1
    })
    .await;
    let stats = e.processor.send(Flush).await.unwrap();
    assert_eq!(stats.jobs_sent, 1);
    assert!(
        stats.ticks_during_jobs > 0,
        "ticks were handled while the job ran: {stats:?}"
    );
    assert_eq!(stats.out_of_order, 0);
}
