//! Reading the broker's account for reconciliation, against the embedded exchange over real
//! sockets: every page of t0425, holdings (t0424) and cash (CSPAQ12200) as the reconciler
//! sees them.

mod common;

use condor::sim::{SimConfig, SimHandle};
use condor_actors::broker_account;
use condor_actors::ls_rest::LsRest;
use condor_actors::market::{Qty, Side, Ticker};
use condor_actors::wire::order::{Cspat00601, Cspat00601InBlock1};
use condor_actors::wire::rest::Tr;

fn samsung() -> Ticker {
    Ticker::parse("005930").unwrap()
}

fn sim(rate_limits: bool) -> SimHandle {
    let mut cfg = SimConfig {
        rate_limits,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = 0.2;
    common::start(cfg)
}

/// Places `n` market buys of one share each; returns their order numbers.
async fn buy(rest: &LsRest, n: usize) -> Vec<i64> {
    let mut numbers = Vec::new();
    for _ in 0..n {
        let reply = rest
            .call::<Cspat00601>(&Cspat00601InBlock1::market(
                samsung(),
                Side::Buy,
                Qty::lit(1),
            ))
            .await
            .expect("order");
        assert!(Cspat00601::succeeded(&reply), "{reply:?}");
        numbers.push(reply.blocks.ord_no().expect("order number"));
    }
    numbers
}

#[actix_rt::test]
async fn every_page_of_the_days_orders_is_read() {
    let sim = sim(false);
    let rest = common::ls_rest(&sim).await;
    // More than two pages of 20.
    let placed = buy(&rest, 45).await;
    let orders = broker_account::orders_of_day(&rest).await.expect("t0425");
    let read: Vec<i64> = orders.iter().map(|o| o.order_no.0).collect();
    assert_eq!(read, placed, "all 45, once each, oldest first");
    assert!(orders
        .iter()
        .all(|o| o.ticker == samsung() && o.side == Side::Buy));
    let filled: u64 = orders.iter().map(|o| o.filled.shares()).sum();
    let holdings = broker_account::holdings(&rest).await.expect("t0424");
    assert_eq!(
        holdings
            .iter()
            .find(|h| h.ticker == samsung())
            .map(|h| h.qty),
        (filled > 0).then_some(Qty::lit(filled))
    );
    assert!(broker_account::cash(&rest).await.expect("CSPAQ12200") > 0);
    sim.stop();
}

#[actix_rt::test]
async fn paging_under_the_brokers_rate_limit_waits_instead_of_failing() {
    // t0425 is limited to 2 calls a second: a third read in the same second hits it, and
    // the reader waits and retries rather than failing the reconciliation.
    let sim = sim(true);
    let rest = common::ls_rest(&sim).await;
    let placed = buy(&rest, 9).await; // under CSPAT00601's 10 a second
    for _ in 0..4 {
        let orders = broker_account::orders_of_day(&rest).await.expect("t0425");
        assert_eq!(orders.len(), placed.len());
    }
    sim.stop();
}
