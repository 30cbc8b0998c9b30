//! `Broker::modify` at both brokers over real sockets, against the embedded exchange in each
//! mode: LS's CSPAT00701 and Kiwoom's kt10002 move a working order to a new price under a
//! number of their own, which today's orders then list with the original ended; a modify
//! of an order the exchange does not know is refused with the broker's code.
//!
//! Nothing is asserted on durations.

mod common;

use common::start;
use condor::sim::{Protocol, SimConfig};
use condor_actors::broker::Broker;
use condor_actors::domain::{NewOrder, OrderNo, OrderType};
use condor_actors::market::{tick_up, Qty, Side, Ticker};
use condor_actors::trading::orders::OrderReply;

fn samsung() -> Ticker {
    Ticker::parse("005930").unwrap()
}

/// A quiet market (no fill reaches the lower limit), no rate limits.
fn quiet(protocol: Protocol) -> SimConfig {
    let mut cfg = SimConfig {
        protocol,
        rate_limits: false,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = 0.2;
    cfg
}

/// A limit buy of 3 at the lower limit, moved one tick up: the modify is acked under a new
/// number; today's orders list it (3 working at the new price, `org_order_no` the
/// original) and the original ended. A modify of an unknown order is refused.
async fn a_working_order_is_moved_under_a_new_number(broker: &Broker) {
    let low = broker
        .band(samsung())
        .await
        .expect("the day's band")
        .limits
        .lower;
    let placed = broker
        .place(&NewOrder {
            ticker: samsung(),
            side: Side::Buy,
            qty: Qty::lit(3),
            order_type: OrderType::Limit(low),
        })
        .await;
    let OrderReply::Acked {
        order_no: original, ..
    } = placed
    else {
        panic!("placed: {placed:?}")
    };
    let higher = tick_up(low).unwrap();
    let moved = broker
        .modify(original, samsung(), Qty::lit(3), higher)
        .await;
    let OrderReply::Acked {
        order_no: modify, ..
    } = moved
    else {
        panic!("modified: {moved:?}")
    };
    assert_ne!(modify, original, "a modify has its own number");
    let orders = broker.orders_of_day().await.expect("today's orders");
    let row = orders
        .iter()
        .find(|o| o.order_no == modify)
        .unwrap_or_else(|| panic!("the modify is listed: {orders:?}"));
    assert_eq!(
        (row.org_order_no, row.price, row.remaining, row.filled),
        (original, higher, Qty::lit(3), Qty::lit(0))
    );
    let was = orders.iter().find(|o| o.order_no == original).unwrap();
    assert_eq!(
        (was.remaining, was.filled),
        (Qty::lit(0), Qty::lit(0)),
        "{was:?}"
    );

    let unknown = broker
        .modify(OrderNo(modify.0 + 1_000), samsung(), Qty::lit(1), higher)
        .await;
    assert!(
        matches!(&unknown, OrderReply::Rejected { code, .. } if !code.is_empty()),
        "no such order: {unknown:?}"
    );
}

#[actix_rt::test]
async fn ls_cspat00701_moves_a_working_order() {
    let sim = start(quiet(Protocol::Ls));
    let rest = common::ls_rest(&sim).await;
    a_working_order_is_moved_under_a_new_number(&Broker::from(rest)).await;
}

#[actix_rt::test]
async fn kiwoom_kt10002_moves_a_working_order() {
    let sim = start(quiet(Protocol::Kiwoom));
    let rest = common::kiwoom_rest(&sim).await;
    a_working_order_is_moved_under_a_new_number(&Broker::from(rest)).await;
}
