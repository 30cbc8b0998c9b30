//! Starting the actor engine: one BrokerSession, the Processor with its Compute pool,
//! the OrderManager, the Portfolio and the Supervisor, wired to each other. `condor run`
//! and the engine tests start it the same way.
//!
//! Owns the wiring only. Must never start an actor twice or leave one unwired.

use std::sync::Arc;

use actix::prelude::*;
use anyhow::Context as _;
use condor_actors::broker_session::{BrokerSession, SessionConfig};
use condor_actors::clock::{Clock, SystemClock};
use condor_actors::compute;
use condor_actors::ls_rest::LsRest;
use condor_actors::messages::NotifyFlat;
use condor_actors::order_manager::OrderManager;
use condor_actors::portfolio::Portfolio;
use condor_actors::processor::Processor;
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::StrategyFactory;
use condor_actors::supervisor::Supervisor;

pub struct EngineSettings {
    pub condition: String,
    pub max_feeds: usize,
    pub risk: RiskLimits,
    pub strategy: Box<dyn StrategyFactory>,
    pub compute_threads: usize,
}

/// The running actors.
pub struct Engine {
    pub session: Addr<BrokerSession>,
    pub processor: Addr<Processor>,
    pub orders: Addr<OrderManager>,
    pub portfolio: Addr<Portfolio>,
    pub supervisor: Addr<Supervisor>,
    pub opening_cash: i64,
}

/// Starts every actor against the broker behind `rest` and `ws_url`. Must run inside an
/// actix system.
pub async fn start(rest: LsRest, ws_url: &str, settings: EngineSettings) -> anyhow::Result<Engine> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let opening_cash = Portfolio::opening_cash(&rest)
        .await
        .context("cannot read the account's cash (CSPAQ12200)")?;
    let session = BrokerSession::new(SessionConfig::new(ws_url, rest.token())).start();
    let portfolio = Portfolio::new(opening_cash).start();
    // The Processor and the OrderManager each need the other's address.
    let om_ctx = Context::<OrderManager>::new();
    let processor = Processor::new(
        settings.strategy,
        Some(om_ctx.address().recipient()),
        clock.clone(),
    )
    .with_compute(compute::start_pool(settings.compute_threads))
    .start();
    let orders = om_ctx.run(
        OrderManager::new(rest.clone(), settings.risk, clock)
            .with_account_feed(session.clone().recipient())
            .with_portfolio(portfolio.clone().recipient())
            .with_strategy(processor.clone().recipient(), processor.clone().recipient()),
    );
    let supervisor = Supervisor::new(
        rest,
        session.clone(),
        processor.clone(),
        settings.condition,
        settings.max_feeds,
    )
    .start();
    portfolio.do_send(NotifyFlat {
        to: supervisor.clone().recipient(),
    });
    processor.do_send(NotifyFlat {
        to: supervisor.clone().recipient(),
    });
    Ok(Engine {
        session,
        processor,
        orders,
        portfolio,
        supervisor,
        opening_cash,
    })
}
