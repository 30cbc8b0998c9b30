//! The order path against the embedded exchange over real sockets: OrderManager (risk
//! gate, CSPAT00601, SC0–SC4), Portfolio (the ledger) and the Processor's strategy hooks,
//! checked against the simulator's own account (CSPAQ12200, t0424, t0425).
//!
//! The engine is started as `condor run` starts it, with a tap: a copy of every `Fill` and
//! `OrderDone` the OrderManager tells the strategies and of every `TickerFlat` report, so
//! the tests know the fills independently of the Portfolio. Intents are sent straight to
//! the OrderManager, as the Processor would. Nothing here asserts a duration.

mod common;

use actix::prelude::*;
use common::until;
use condor::engine::{self, BrokerLink, ConditionPlan, EngineSettings, EngineTap, Tapped};
use condor::sim::exchange::Scenario;
use condor::sim::{SimConfig, SimHandle};
use condor_actors::broker_session::BrokerSession;
use condor_actors::clock::SystemClock;
use condor_actors::ledger::LedgerSnapshot;
use condor_actors::ls_rest::LsRest;
use condor_actors::market::{Price, Qty, Side, Ticker};
use condor_actors::messages::{
    CancelAllWorking, Deliver, Fill, Flush, GetOrder, GetOrderStats, GetPortfolio, IsFlat,
    OrderDone, OrderIntent, OrderStats, OrderType,
};
use condor_actors::order::OrderState;
use condor_actors::order_manager::OrderManager;
use condor_actors::portfolio::Portfolio;
use condor_actors::processor::Processor;
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::{strategy_by_name, MomentumParams};
use condor_actors::wire::account::{
    Cspaq12200, Cspaq12200InBlock1, T0424InBlock, T0424OutBlock1, T0425InBlock, T0425OutBlock1,
    T0424, T0425,
};
use condor_actors::wire::market_data::{T1102InBlock, T1102};
use condor_actors::wire::order::{Cspat00601, Cspat00601InBlock1};

const SAMSUNG: &str = "005930";

fn samsung() -> Ticker {
    Ticker::parse(SAMSUNG).unwrap()
}

/// Records what the engine's tap copies to it.
#[derive(Default)]
struct Recorder {
    fills: Vec<Fill>,
    done: Vec<OrderDone>,
    flat: Vec<Ticker>,
}

impl Actor for Recorder {
    type Context = Context<Self>;
}

impl Handler<Tapped> for Recorder {
    type Result = ();
    fn handle(&mut self, tapped: Tapped, _: &mut Context<Self>) {
        match tapped {
            Tapped::Fill(fill) => self.fills.push(fill),
            Tapped::OrderDone(done) => self.done.push(done),
            Tapped::Flat(ticker) => self.flat.push(ticker),
        }
    }
}

#[derive(Message)]
#[rtype(result = "Vec<Ticker>")]
struct FlatReports;

impl Handler<FlatReports> for Recorder {
    type Result = MessageResult<FlatReports>;
    fn handle(&mut self, _: FlatReports, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.flat.clone())
    }
}

#[derive(Message)]
#[rtype(result = "(Vec<Fill>, Vec<OrderDone>)")]
struct Seen;

impl Handler<Seen> for Recorder {
    type Result = MessageResult<Seen>;
    fn handle(&mut self, _: Seen, _: &mut Context<Self>) -> Self::Result {
        MessageResult((self.fills.clone(), self.done.clone()))
    }
}

struct Rig {
    rest: LsRest,
    orders: Addr<OrderManager>,
    portfolio: Addr<Portfolio>,
    processor: Addr<Processor>,
    recorder: Addr<Recorder>,
    tap: EngineTap,
    opening_cash: i64,
    _session: Addr<BrokerSession>,
    _data: tempfile::TempDir,
}

/// A simulator with rate limits off and `trades_per_sec` prints per ticker.
fn sim(trades_per_sec: f64) -> SimHandle {
    let mut cfg = SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = trades_per_sec;
    start_sim(cfg)
}

/// `cfg` with a condition that never has a member: the engine watches no ticker, and
/// trades only what a test sends the OrderManager.
fn start_sim(mut cfg: SimConfig) -> SimHandle {
    cfg.exchange.scenario =
        Some(Scenario::parse("condition S001 주문\n").expect("scenario parses"));
    SimHandle::start(cfg).expect("simulator starts")
}

/// The engine as `condor run` starts it, tapped; returns once the simulator has the
/// account feed registered (so no SC0/SC1 can be missed).
async fn rig(sim: &SimHandle, risk: RiskLimits) -> Rig {
    let rest = LsRest::connect(
        sim.rest_url(),
        sim.appkey().expose(),
        sim.appsecret().expose(),
    )
    .await
    .expect("token");
    let data = tempfile::tempdir().unwrap();
    let recorder = Recorder::default().start();
    // Momentum: a strategy that keeps its position from the fills (no tick reaches it).
    let factory =
        strategy_by_name("momentum", &MomentumParams::default().to_params().unwrap()).unwrap();
    let (e, tap) = engine::start_tapped(
        BrokerLink::ls(rest.clone(), sim.ws_url()),
        EngineSettings {
            risk,
            ..common::engine_settings(data.path(), ConditionPlan::one("S001", factory))
        },
        recorder.clone().recipient(),
    )
    .await
    .expect("engine starts");
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
        orders: e.orders,
        portfolio: e.portfolio,
        processor: e.processor,
        recorder,
        tap,
        opening_cash: e.opening_cash,
        _session: e.session,
        _data: data,
    }
}

impl Rig {
    async fn seen(&self) -> (Vec<Fill>, Vec<OrderDone>) {
        self.recorder.send(Seen).await.unwrap()
    }

    /// Waits until `n` orders are done (or refused) and returns them in order.
    async fn done(&self, n: usize) -> Vec<OrderDone> {
        until(&format!("{n} orders done"), || async {
            let (_, done) = self.seen().await;
            (done.len() >= n).then_some(done)
        })
        .await
    }

    /// The `TickerFlat` reports so far, once the Portfolio and the Processor have handled
    /// everything sent to them before this call and the tap has passed their reports on
    /// (mailbox order).
    async fn flat_reports(&self) -> Vec<Ticker> {
        self.portfolio.send(GetPortfolio).await.unwrap().unwrap();
        self.processor.send(Flush).await.unwrap();
        self.tap.drained().await;
        self.recorder.send(FlatReports).await.unwrap()
    }

    /// The strategy's view (position 0 and nothing working).
    async fn strategy_flat(&self) -> bool {
        self.processor
            .send(IsFlat { ticker: samsung() })
            .await
            .unwrap()
    }

    async fn portfolio_flat(&self) -> bool {
        self.portfolio
            .send(IsFlat { ticker: samsung() })
            .await
            .unwrap()
    }

    async fn stats(&self) -> OrderStats {
        self.orders.send(GetOrderStats).await.unwrap()
    }

    async fn snapshot(&self) -> LedgerSnapshot {
        self.portfolio
            .send(GetPortfolio)
            .await
            .unwrap()
            .expect("snapshot")
    }

    /// CSPAQ12200 `Dps`.
    async fn broker_cash(&self) -> i64 {
        let r = self
            .rest
            .call::<Cspaq12200>(&Cspaq12200InBlock1::new())
            .await
            .expect("CSPAQ12200");
        r.blocks.out_block2.expect("OutBlock2").dps
    }

    /// t0424's row for `ticker`, if held.
    async fn broker_holding(&self, ticker: Ticker) -> Option<T0424OutBlock1> {
        let r = self
            .rest
            .call::<T0424>(&T0424InBlock::new())
            .await
            .expect("t0424");
        r.blocks
            .out_block1
            .into_iter()
            .find(|h| h.ticker().ok() == Some(ticker) && h.janqty > 0)
    }

    /// t0425: every order of the day at the broker.
    async fn broker_orders(&self) -> Vec<T0425OutBlock1> {
        let r = self
            .rest
            .call::<T0425>(&T0425InBlock::all())
            .await
            .expect("t0425");
        r.blocks.out_block1
    }

    async fn last_price(&self, ticker: Ticker) -> Price {
        let r = self
            .rest
            .call::<T1102>(&T1102InBlock::new(ticker))
            .await
            .expect("t1102");
        r.blocks.out_block.expect("t1102OutBlock").price().unwrap()
    }
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

/// Σ price × qty over `fills` on `side`, and Σ qty.
fn sums(fills: &[Fill], side: Side) -> (i64, u64) {
    fills
        .iter()
        .filter(|f| f.side == side)
        .fold((0, 0), |(v, q), f| {
            (
                v + f.price.won() * f.qty.shares() as i64,
                q + f.qty.shares(),
            )
        })
}

#[actix_rt::test]
async fn an_intent_becomes_an_order_fills_and_a_sell_closes_it() {
    let sim = sim(20.0);
    let r = rig(&sim, RiskLimits::default()).await;
    assert_eq!(r.snapshot().await.cash, r.opening_cash);

    // Buy: CSPAT00601, then SC0 and SC1 move it to filled.
    r.orders
        .do_send(Deliver(intent(Side::Buy, 10, OrderType::Market)));
    let buy = r.done(1).await[0];
    assert_eq!(
        (buy.side, buy.filled, buy.rejected),
        (Side::Buy, Qty::lit(10), false)
    );
    let order = r
        .orders
        .send(GetOrder {
            id: buy.id.expect("a placed order has an id"),
        })
        .await
        .unwrap()
        .expect("the order is in the book");
    assert_eq!(order.state(), OrderState::Filled);
    assert!(order.intent_to_ack().is_some() && order.ack_to_first_fill().is_some());
    let order_no = order.order_no().expect("the broker's number");

    // The broker has exactly that order, filled.
    let rows = r.broker_orders().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row.ordno, order_no.0);
    assert_eq!(row.side().unwrap(), Side::Buy);
    assert_eq!((row.qty, row.cheqty, row.ordrem), (10, 10, 0));

    // The Portfolio holds what the fills bought, as the broker's account does.
    let (fills, _) = r.seen().await;
    let (bought, qty) = sums(&fills, Side::Buy);
    assert_eq!(qty, 10);
    let snap = r.snapshot().await;
    let pos = snap
        .positions
        .iter()
        .find(|p| p.ticker == samsung())
        .unwrap();
    assert_eq!((pos.qty, pos.cost), (Qty::lit(10), bought));
    assert_eq!(snap.cash, r.opening_cash - bought);
    let held = r.broker_holding(samsung()).await.expect("t0424 row");
    assert_eq!(held.janqty, 10);
    assert_eq!(pos.avg_price, Some(Price::lit(held.pamt)));
    assert_eq!(pos.cost, held.mamt);
    assert_eq!(snap.cash, r.broker_cash().await);
    // The strategy saw the fills: it holds the shares.
    assert!(!r.strategy_flat().await);
    assert!(!r.portfolio_flat().await);
    assert!(r.flat_reports().await.is_empty(), "held, not flat");

    // Sell it all: flat, realized P&L is exactly what the fills say.
    r.orders
        .do_send(Deliver(intent(Side::Sell, 10, OrderType::Market)));
    let sell = r.done(2).await[1];
    assert_eq!(
        (sell.side, sell.filled, sell.rejected),
        (Side::Sell, Qty::lit(10), false)
    );
    let (fills, _) = r.seen().await;
    let (sold, sold_qty) = sums(&fills, Side::Sell);
    assert_eq!(sold_qty, 10);
    let snap = r.snapshot().await;
    assert_eq!(snap.realized_pnl, sold - bought);
    assert_eq!(snap.cash, r.opening_cash + sold - bought);
    assert_eq!(snap.cash, r.broker_cash().await);
    let pos = snap
        .positions
        .iter()
        .find(|p| p.ticker == samsung())
        .unwrap();
    assert_eq!(
        (pos.qty, pos.cost, pos.realized_pnl),
        (Qty::lit(0), 0, sold - bought)
    );
    assert!(r.broker_holding(samsung()).await.is_none());
    assert!(r.portfolio_flat().await);
    assert!(r.strategy_flat().await);
    // Held → flat is reported once, by the Portfolio (the Processor stays quiet about an
    // order that filled something).
    assert_eq!(r.flat_reports().await, vec![samsung()]);

    let s = r.stats().await;
    assert_eq!(
        (s.orders, s.working, s.filled, s.rejected, s.refused_by_risk),
        (2, 0, 2, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.fills as usize, fills.len());
    assert_eq!((s.unknown_fills, s.bad_events), (0, 0), "{s:?}");
    assert_eq!(
        (s.intent_to_ack.count, s.ack_to_fill.count),
        (2, 2),
        "{s:?}"
    );
    assert!(
        s.intent_to_ack.p50 <= s.intent_to_ack.p99 && s.intent_to_ack.p99 <= s.intent_to_ack.max
    );
}

#[actix_rt::test]
async fn a_broker_rejection_ends_rejected_with_its_code_and_changes_nothing() {
    let sim = sim(5.0);
    // The gate lets it through (huge caps); the broker refuses it for want of cash.
    let risk = RiskLimits {
        max_order_qty: Qty::lit(10_000_000),
        max_order_notional: i64::MAX / 4,
        max_position_notional: i64::MAX / 4,
        ..RiskLimits::default()
    };
    let r = rig(&sim, risk).await;
    let before = r.snapshot().await;
    let price = r.last_price(samsung()).await;
    let qty = (r.opening_cash / price.won()) as u64 + 1_000;
    r.orders
        .do_send(Deliver(intent(Side::Buy, qty, OrderType::Limit(price))));
    let done = r.done(1).await[0];
    assert_eq!((done.filled, done.rejected), (Qty::lit(0), true));
    let order = r
        .orders
        .send(GetOrder {
            id: done.id.expect("it reached the broker, so it has an id"),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.state(), OrderState::Rejected);
    let reject = order.reject().expect("the broker's refusal");
    assert_eq!(reject.code, "90009", "{reject:?}");
    assert!(reject.message.contains("부족"), "{reject:?}");

    assert_eq!(r.snapshot().await, before, "a rejection changes no money");
    assert_eq!(r.broker_cash().await, before.cash);
    assert!(
        r.broker_orders().await.is_empty(),
        "the broker opened nothing"
    );
    let s = r.stats().await;
    assert_eq!(
        (s.orders, s.rejected, s.filled, s.refused_by_risk, s.working),
        (1, 1, 0, 0, 0),
        "{s:?}"
    );
    // The strategy was told and waits for nothing.
    assert!(r.strategy_flat().await);
}

#[actix_rt::test]
async fn many_concurrent_fills_for_one_ticker_lose_no_update() {
    const ORDERS: u64 = 30;
    let sim = sim(50.0);
    // 465 shares of one ticker: above the default position cap, on purpose.
    let risk = RiskLimits {
        max_position_notional: 100_000_000,
        ..RiskLimits::default()
    };
    let r = rig(&sim, risk).await;
    let mut want_qty = 0;
    for i in 0..ORDERS {
        // Each quantity different: the gate refuses a twin of a working order.
        let qty = i + 1;
        want_qty += qty;
        r.orders
            .do_send(Deliver(intent(Side::Buy, qty, OrderType::Market)));
    }
    let done = until("every buy done", || async {
        let (_, done) = r.seen().await;
        (done.len() as u64 >= ORDERS).then_some(done)
    })
    .await;
    assert_eq!(done.len() as u64, ORDERS);
    assert!(done.iter().all(|d| !d.rejected), "{done:?}");
    let (fills, _) = r.seen().await;
    let (bought, qty) = sums(&fills, Side::Buy);
    assert_eq!(qty, want_qty);
    assert_eq!(
        done.iter().map(|d| d.filled.shares()).sum::<u64>(),
        want_qty
    );

    let snap = r.snapshot().await;
    let pos = snap
        .positions
        .iter()
        .find(|p| p.ticker == samsung())
        .unwrap();
    assert_eq!((pos.qty, pos.cost), (Qty::lit(want_qty), bought));
    assert_eq!(snap.cash, r.opening_cash - bought);
    // ... and equal to the broker's account.
    assert_eq!(snap.cash, r.broker_cash().await);
    let held = r.broker_holding(samsung()).await.expect("t0424 row");
    assert_eq!((held.janqty as u64, held.mamt), (want_qty, bought));

    let s = r.stats().await;
    assert_eq!(
        (s.orders, s.filled, s.working),
        (ORDERS, ORDERS, 0),
        "{s:?}"
    );
    assert_eq!(s.fills as usize, fills.len());
    assert_eq!((s.unknown_fills, s.bad_events), (0, 0), "{s:?}");
}

#[actix_rt::test]
async fn a_fill_for_an_unknown_order_is_counted_and_the_engine_carries_on() {
    let sim = sim(20.0);
    let r = rig(&sim, RiskLimits::default()).await;
    // Someone else (here: the test, straight over REST) buys in the same account.
    let reply = r
        .rest
        .call::<Cspat00601>(&Cspat00601InBlock1::market(
            samsung(),
            Side::Buy,
            Qty::lit(3),
        ))
        .await
        .expect("direct order");
    let stranger = reply.blocks.ord_no().expect("accepted");
    let s = until("the stranger's fill counted", || async {
        let s = r.stats().await;
        (s.unknown_fills >= 1).then_some(s)
    })
    .await;
    assert!(s.unknown_events >= 1, "its SC0 too: {s:?}");
    assert_eq!((s.orders, s.fills, s.bad_events), (0, 0, 0), "{s:?}");

    // The engine still trades, and books only its own fills.
    r.orders
        .do_send(Deliver(intent(Side::Buy, 2, OrderType::Market)));
    let done = r.done(1).await[0];
    assert_eq!((done.filled, done.rejected), (Qty::lit(2), false));
    let (fills, _) = r.seen().await;
    assert!(fills.iter().all(|f| f.order_no.0 != stranger), "{fills:?}");
    let snap = r.snapshot().await;
    let pos = snap
        .positions
        .iter()
        .find(|p| p.ticker == samsung())
        .unwrap();
    assert_eq!(pos.qty, Qty::lit(2));
    // The broker holds both; reconciling the difference is a later issue.
    let held = until("the stranger filled at the broker", || async {
        r.broker_holding(samsung()).await.filter(|h| h.janqty == 5)
    })
    .await;
    assert_eq!(held.janqty, 5);
    let s = r.stats().await;
    assert_eq!((s.orders, s.filled, s.bad_events), (1, 1, 0), "{s:?}");
}

#[actix_rt::test]
async fn a_risk_refusal_never_reaches_the_broker_and_is_counted() {
    let sim = sim(20.0);
    let risk = RiskLimits {
        max_order_qty: Qty::lit(100),
        ..RiskLimits::default()
    };
    let r = rig(&sim, risk).await;
    r.orders
        .do_send(Deliver(intent(Side::Buy, 101, OrderType::Market)));
    // A naked sell is refused too.
    r.orders
        .do_send(Deliver(intent(Side::Sell, 1, OrderType::Market)));
    let done = r.done(2).await;
    for d in &done {
        assert_eq!(
            (d.id, d.filled, d.rejected),
            (None, Qty::lit(0), true),
            "{d:?}"
        );
    }
    let s = r.stats().await;
    assert_eq!((s.refused_by_risk, s.orders), (2, 0), "{s:?}");
    assert!(
        r.broker_orders().await.is_empty(),
        "nothing reached the broker"
    );
    // Never held, nothing working: the Processor reports the ticker flat (the Portfolio,
    // which saw no fill, cannot), once per refused intent.
    assert_eq!(r.flat_reports().await, vec![samsung(), samsung()]);

    // Within the limit it goes through.
    r.orders
        .do_send(Deliver(intent(Side::Buy, 100, OrderType::Market)));
    let done = r.done(3).await[2];
    assert_eq!((done.filled, done.rejected), (Qty::lit(100), false));
    let rows = r.broker_orders().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].qty, 100);
    let s = r.stats().await;
    assert_eq!((s.refused_by_risk, s.orders, s.filled), (2, 1, 1), "{s:?}");
}

#[actix_rt::test]
async fn cancel_all_working_cancels_what_the_broker_holds() {
    let sim = sim(20.0);
    // The lower limit is about 30% below the last trade: beyond the default price collar.
    let risk = RiskLimits {
        price_collar_bp: 5_000,
        ..RiskLimits::default()
    };
    let r = rig(&sim, risk).await;
    // A buy at the day's lower limit: it rests, the market is far above it.
    let lower = r
        .rest
        .call::<T1102>(&T1102InBlock::new(samsung()))
        .await
        .expect("t1102")
        .blocks
        .out_block
        .expect("t1102OutBlock")
        .limits()
        .unwrap()
        .lower;
    r.orders
        .do_send(Deliver(intent(Side::Buy, 3, OrderType::Limit(lower))));
    // Until its REST reply names it there is nothing to cancel by (it answers 0).
    until("one cancel sent", || async {
        (r.orders.send(CancelAllWorking).await.unwrap() == 1).then_some(())
    })
    .await;
    let done = r.done(1).await[0];
    assert_eq!((done.filled, done.rejected), (Qty::lit(0), false));
    let order = r
        .orders
        .send(GetOrder {
            id: done.id.unwrap(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.state(), OrderState::Cancelled);
    assert_eq!(order.cancelled_qty(), Qty::lit(3));
    let rows = r.broker_orders().await;
    let original = rows
        .iter()
        .find(|row| Some(row.ordno) == order.order_no().map(|n| n.0))
        .expect("the order at the broker");
    assert_eq!((original.cheqty, original.ordrem), (0, 0), "{rows:?}");
    let s = r.stats().await;
    assert_eq!((s.orders, s.cancelled, s.working), (1, 1, 0), "{s:?}");
    assert_eq!(r.orders.send(CancelAllWorking).await.unwrap(), 0);
    assert_eq!(r.snapshot().await.cash, r.broker_cash().await);
}

#[actix_rt::test]
async fn an_order_working_at_the_close_is_expired_by_the_exchange_and_ends_cancelled() {
    // The simulator on an accelerated clock from Thursday 15:29:00 at 20x: the close is
    // three seconds away. condor's side asks for no cancel.
    let mut cfg = SimConfig {
        rate_limits: false,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = 5.0;
    cfg.clock = Some(
        condor_actors::clock::ClockSpec::parse(
            "2026-12-03T15:29:00x20,lead=0",
            condor_actors::clock::Clock::unix_ms(&SystemClock),
        )
        .unwrap(),
    );
    let sim = start_sim(cfg);
    let risk = RiskLimits {
        price_collar_bp: 5_000,
        ..RiskLimits::default()
    };
    let r = rig(&sim, risk).await;
    // A buy at the day's lower limit: it rests until the close.
    let lower = r
        .rest
        .call::<T1102>(&T1102InBlock::new(samsung()))
        .await
        .expect("t1102")
        .blocks
        .out_block
        .expect("t1102OutBlock")
        .limits()
        .unwrap()
        .lower;
    r.orders
        .do_send(Deliver(intent(Side::Buy, 3, OrderType::Limit(lower))));
    let done = r.done(1).await[0];
    assert_eq!(
        (done.filled, done.rejected),
        (Qty::lit(0), false),
        "placed before the close (a slow start would be refused: 장운영시간)"
    );
    let order = r
        .orders
        .send(GetOrder {
            id: done.id.unwrap(),
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(order.state(), OrderState::Cancelled);
    assert_eq!(order.cancelled_qty(), Qty::lit(3));
    let s = r.stats().await;
    assert_eq!((s.orders, s.cancelled, s.working), (1, 1, 0), "{s:?}");
    // At the exchange: the original closed, the exchange's own cancel row for all three.
    let rows = r.broker_orders().await;
    let no = order.order_no().expect("its number").0;
    let original = rows.iter().find(|row| row.ordno == no).expect("the order");
    assert_eq!((original.cheqty, original.ordrem), (0, 0), "{rows:?}");
    let expiry = rows
        .iter()
        .find(|row| row.orgordno == no)
        .expect("the expiry's row");
    assert_eq!(expiry.status, "취소확인", "{rows:?}");
    assert_eq!(r.snapshot().await.cash, r.broker_cash().await);
}
