//! The BrokerSession speaking Kiwoom's websocket (`SessionConfig::kiwoom`) over real
//! sockets against the embedded exchange in Kiwoom mode, driven the way the engine drives
//! it, with a small actor standing in for the feeds, the order manager and the condition
//! watcher. A relay between the two records every frame each way, can cut the link (both
//! sides dropped, new connections refused until it is restored), and keeps the
//! simulator's side of a connection open when the session closes it, so the simulator's
//! own view of that connection can be read after a Shutdown.
//!
//! LOGIN before any REG; ticks of a subscribed ticker as `Tick`s until unsubscribed, one
//! registration per ticker; an order's `00` events and its `04` at the account watcher;
//! conditions listed, started, pushed; PINGs echoed past three intervals; a dropped
//! connection registered again; a cut link's enters and exits told from the snapshot
//! diff; a LOGIN refused for its token logged in again with a new one; nothing left
//! registered after Shutdown. Nothing is asserted on durations: every wait is for a
//! condition, with a deadline.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use common::{kiwoom_rest, start, until};
use condor::sim::exchange::Scenario;
use condor::sim::{Protocol, SimConfig, SimHandle};
use condor_actors::broker::Broker;
use condor_actors::broker_session::{BrokerSession, SessionConfig, Shutdown};
use condor_actors::domain::{NewOrder, OrderType};
use condor_actors::kiwoom_rest::KiwoomRest;
use condor_actors::market::{Market, Qty, Side, Ticker};
use condor_actors::messages::{
    AccountEvent, ConditionAlert, Deliver, FeedId, GetSessionStats, ListConditions,
    ReconcileOrders, Retire, SavedCondition, StartCondition, SubscribeTrades, Tick, Ticks,
    UnsubscribeTrades, WatchAccount, WatchHoldings,
};
use condor_actors::reconcile::BrokerHolding;
use condor_actors::trading::orders::OrderReply;
use condor_actors::wire::realtime::JobFlag;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

fn t(code: &str) -> Ticker {
    Ticker::parse(code).unwrap()
}

fn kiwoom(trades_per_sec: f64, scenario: Option<&str>) -> SimConfig {
    let mut cfg = SimConfig {
        protocol: Protocol::Kiwoom,
        rate_limits: false,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = trades_per_sec;
    cfg.exchange.scenario = scenario.map(|s| Scenario::parse(s).expect("scenario parses"));
    cfg
}

/// Waits until the simulator's view of its connections satisfies `done`.
async fn until_sim(
    sim: &SimHandle,
    what: &str,
    done: impl Fn(&condor::sim::SubscriptionReport) -> bool,
) {
    until(what, async || {
        let report = sim.subscriptions().await;
        if done(&report) {
            Ok(())
        } else {
            Err(format!("{report:?}"))
        }
    })
    .await
}

/// Some session at the simulator registered for exactly these trades, the account
/// (or not) and these conditions.
fn registered(
    report: &condor::sim::SubscriptionReport,
    tickers: &[&str],
    account: bool,
    conditions: &[&str],
) -> bool {
    report.sessions.iter().any(|s| {
        let mut market: Vec<&str> = s.market.iter().map(|(_, k)| k.as_str()).collect();
        market.sort_unstable();
        let mut want = tickers.to_vec();
        want.sort_unstable();
        market == want && s.account == account && s.alerts == conditions
    })
}

// ---- the stand-in for the engine's actors ----

#[derive(Default)]
struct Seen {
    ticks: Vec<Tick>,
    account: Vec<AccountEvent>,
    holdings: Vec<BrokerHolding>,
    alerts: Vec<(String, String, JobFlag)>,
    reconciles: u64,
}

/// The feeds, the order manager and the condition watcher at once: records what it is sent.
struct Sink(Arc<Mutex<Seen>>);

impl Actor for Sink {
    type Context = Context<Self>;
}

impl Handler<Ticks> for Sink {
    type Result = ();
    fn handle(&mut self, Ticks(ticks): Ticks, _: &mut Context<Self>) {
        self.0.lock().unwrap().ticks.extend(ticks);
    }
}

impl Handler<Deliver<AccountEvent>> for Sink {
    type Result = ();
    fn handle(&mut self, Deliver(e): Deliver<AccountEvent>, _: &mut Context<Self>) {
        self.0.lock().unwrap().account.push(e);
    }
}

impl Handler<Deliver<BrokerHolding>> for Sink {
    type Result = ();
    fn handle(&mut self, Deliver(h): Deliver<BrokerHolding>, _: &mut Context<Self>) {
        self.0.lock().unwrap().holdings.push(h);
    }
}

impl Handler<ConditionAlert> for Sink {
    type Result = ();
    fn handle(&mut self, a: ConditionAlert, _: &mut Context<Self>) {
        self.0
            .lock()
            .unwrap()
            .alerts
            .push((a.alert_num, a.code, a.job));
    }
}

impl Handler<ReconcileOrders> for Sink {
    type Result = ();
    fn handle(&mut self, _: ReconcileOrders, _: &mut Context<Self>) {
        self.0.lock().unwrap().reconciles += 1;
    }
}

struct Engine {
    rest: KiwoomRest,
    session: Addr<BrokerSession>,
    sink: Addr<Sink>,
    seen: Arc<Mutex<Seen>>,
}

impl Engine {
    /// A KiwoomRest for the simulator, and a session logging in with its token at `ws_url`
    /// (the simulator's, or a relay's).
    async fn start(sim: &SimHandle, ws_url: &str) -> Engine {
        let rest = kiwoom_rest(sim).await;
        let mut cfg = SessionConfig::kiwoom(ws_url, rest.token_source());
        cfg.min_backoff = Duration::from_millis(50);
        cfg.max_backoff = Duration::from_millis(400);
        let session = BrokerSession::new(cfg).start();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sink = Sink(seen.clone()).start();
        Engine {
            rest,
            session,
            sink,
            seen,
        }
    }

    fn subscribe(&self, code: &str, feed_id: FeedId) {
        self.session.do_send(SubscribeTrades {
            ticker: t(code),
            market: Market::Kospi,
            to: self.sink.clone().recipient(),
            feed_id,
        });
    }

    fn watch_account(&self) {
        self.session.do_send(WatchAccount {
            to: self.sink.clone().recipient(),
            on_reconnect: Some(self.sink.clone().recipient()),
        });
        self.session.do_send(WatchHoldings {
            to: self.sink.clone().recipient(),
        });
    }

    async fn start_condition(&self, key: &str) -> Vec<String> {
        self.session
            .send(StartCondition {
                key: key.into(),
                to: self.sink.clone().recipient(),
            })
            .await
            .expect("the session answers")
            .expect("the condition starts")
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap()
    }

    fn ticks_of(&self, code: &str) -> usize {
        self.seen()
            .ticks
            .iter()
            .filter(|x| x.ticker == t(code))
            .count()
    }

    fn alerts(&self) -> Vec<(String, String, JobFlag)> {
        self.seen().alerts.clone()
    }
}

fn alert(key: &str, code: &str, job: JobFlag) -> (String, String, JobFlag) {
    (key.to_owned(), code.to_owned(), job)
}

// ---- the relay ----

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    /// Session → simulator.
    Up,
    /// Simulator → session.
    Down,
}

#[derive(Default)]
struct RelayLog {
    frames: Vec<(u64, Dir, Value)>,
    cut: bool,
    connections: u64,
}

struct Relay {
    url: String,
    log: Arc<Mutex<RelayLog>>,
    cuts: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    async fn start(upstream: &str) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "ws://{}/api/dostk/websocket",
            listener.local_addr().unwrap()
        );
        let log = Arc::new(Mutex::new(RelayLog::default()));
        let (cuts, _) = tokio::sync::watch::channel(0u64);
        let (upstream, log2, cuts2) = (upstream.to_owned(), log.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let id = {
                    let mut l = log2.lock().unwrap();
                    if l.cut {
                        continue; // dropped: the link is down
                    }
                    l.connections += 1;
                    l.connections
                };
                tokio::spawn(relay(
                    tcp,
                    upstream.clone(),
                    id,
                    log2.clone(),
                    cuts2.subscribe(),
                ));
            }
        });
        Relay { url, log, cuts }
    }

    /// Drops every connection both ways and refuses new ones until [`Relay::restore`].
    fn cut(&self) {
        self.log.lock().unwrap().cut = true;
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.log.lock().unwrap().cut = false;
    }

    /// The frames of `dir` whose `trnm` is `trnm`, with their connection.
    fn frames(&self, dir: Dir, trnm: &str) -> Vec<(u64, Value)> {
        self.log
            .lock()
            .unwrap()
            .frames
            .iter()
            .filter(|(_, d, v)| *d == dir && v["trnm"] == trnm)
            .map(|(c, _, v)| (*c, v.clone()))
            .collect()
    }

    /// Every frame's connection, direction and `trnm`, for a failure's message.
    fn summary(&self) -> Vec<(u64, Dir, String)> {
        let l = self.log.lock().unwrap();
        l.frames
            .iter()
            .map(|(c, d, v)| (*c, *d, v["trnm"].as_str().unwrap_or("?").to_owned()))
            .collect()
    }

    fn first_up(&self) -> Option<Value> {
        let l = self.log.lock().unwrap();
        l.frames
            .iter()
            .find(|(_, d, _)| *d == Dir::Up)
            .map(|(_, _, v)| v.clone())
    }
}

async fn relay(
    tcp: tokio::net::TcpStream,
    upstream: String,
    id: u64,
    log: Arc<Mutex<RelayLog>>,
    mut cuts: tokio::sync::watch::Receiver<u64>,
) {
    let Ok(client) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let Ok((server, _)) = tokio_tungstenite::connect_async(&upstream).await else {
        return;
    };
    let (mut c_tx, mut c_rx) = client.split();
    let (mut s_tx, mut s_rx) = server.split();
    let record = |dir: Dir, text: &str| {
        let v = serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()));
        log.lock().unwrap().frames.push((id, dir, v));
    };
    loop {
        tokio::select! {
            // The session's frames first: a close follows its last frames at once, and
            // writing an answer to a closed session must not lose them.
            biased;
            m = c_rx.next() => match m {
                Some(Ok(Message::Text(text))) => {
                    record(Dir::Up, text.as_str());
                    if s_tx.send(Message::Text(text)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                // The session closed: the simulator's side stays open (see the module doc).
                _ => break,
            },
            m = s_rx.next() => match m {
                Some(Ok(Message::Text(text))) => {
                    record(Dir::Down, text.as_str());
                    if c_tx.send(Message::Text(text)).await.is_err() {
                        break; // the session is gone; the simulator's side stays open
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
            _ = cuts.changed() => return,
        }
    }
    loop {
        tokio::select! {
            m = s_rx.next() => match m {
                Some(Ok(Message::Text(text))) => record(Dir::Down, text.as_str()),
                Some(Ok(_)) => {}
                _ => return,
            },
            _ = cuts.changed() => return,
        }
    }
}

// ---- the tests ----

#[actix_rt::test]
async fn login_comes_first_and_ticks_flow_until_unsubscribed_with_one_registration_a_ticker() {
    let sim = start(kiwoom(40.0, None));
    let relay = Relay::start(sim.ws_url()).await;
    let engine = Engine::start(&sim, &relay.url).await;
    let (first, second) = (FeedId::next(), FeedId::next());
    engine.subscribe("005930", first);
    until("ticks of 005930", async || engine.ticks_of("005930") >= 5).await;
    // A second feed for the same ticker takes the route over; no second registration.
    engine.subscribe("005930", second);
    engine.session.do_send(UnsubscribeTrades {
        ticker: t("005930"),
        feed_id: first,
    });
    let before = engine.ticks_of("005930");
    until("more ticks of 005930", async || {
        engine.ticks_of("005930") >= before + 5
    })
    .await;
    let login = relay.first_up().expect("a frame went up");
    assert_eq!(login["trnm"], "LOGIN", "LOGIN first: {login}");
    assert_eq!(login["token"], engine.rest.token().expose());
    let regs = relay.frames(Dir::Up, "REG");
    assert_eq!(
        regs.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
        [
            json!({"trnm":"REG","grp_no":"1","refresh":"1","data":[{"item":["005930"],"type":["0B"]}]})
        ],
        "one registration for the ticker"
    );
    {
        let seen = engine.seen();
        let seqs: Vec<u64> = seen.ticks.iter().map(|x| x.seq).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]) && seqs[0] > 0,
            "stamped in order: {seqs:?}"
        );
        assert!(seen
            .ticks
            .iter()
            .all(|x| x.price.won() > 0 && x.qty.shares() > 0));
    }
    // The route's owner unsubscribes: REMOVE, and the simulator sends no more.
    engine.session.do_send(UnsubscribeTrades {
        ticker: t("005930"),
        feed_id: second,
    });
    until_sim(&sim, "005930 removed", |r| registered(r, &[], false, &[])).await;
    assert_eq!(relay.frames(Dir::Up, "REMOVE").len(), 1);
    let after = engine.ticks_of("005930");
    engine.subscribe("000660", FeedId::next());
    until("ticks of 000660", async || engine.ticks_of("000660") >= 5).await;
    assert_eq!(
        engine.ticks_of("005930"),
        after,
        "no tick after the unsubscribe"
    );
    let stats = engine.session.send(GetSessionStats).await.unwrap();
    assert!(
        stats.connected && stats.reconnects == 0 && stats.malformed == 0,
        "{stats:?}"
    );
}

#[actix_rt::test]
async fn an_orders_00_events_and_its_04_reach_the_account_watcher() {
    let sim = start(kiwoom(50.0, None));
    let engine = Engine::start(&sim, sim.ws_url()).await;
    engine.watch_account();
    until_sim(&sim, "the account registered", |r| {
        registered(r, &[], true, &[])
    })
    .await;
    until("the account feed live", async || {
        engine.seen().reconciles >= 1
    })
    .await;
    let broker = Broker::from(engine.rest.clone());
    let reply = broker
        .place(&NewOrder {
            ticker: t("005930"),
            side: Side::Buy,
            qty: Qty::lit(3),
            order_type: OrderType::Market,
        })
        .await;
    let OrderReply::Acked { order_no, .. } = reply else {
        panic!("expected an ack: {reply:?}");
    };
    until("accepted, filled and the holding", async || {
        let seen = engine.seen();
        let filled: u64 = seen
            .account
            .iter()
            .filter_map(|e| match e {
                AccountEvent::Filled {
                    order_no: n, qty, ..
                } if *n == order_no => Some(qty.shares()),
                _ => None,
            })
            .sum();
        filled == 3 && !seen.holdings.is_empty()
    })
    .await;
    let seen = engine.seen();
    assert!(
        matches!(
            seen.account.first(),
            Some(AccountEvent::Accepted { order_no: n, ticker, side: Side::Buy, qty, .. })
                if *n == order_no && *ticker == t("005930") && *qty == Qty::lit(3)
        ),
        "{:?}",
        seen.account
    );
    let h = seen.holdings.last().unwrap();
    assert_eq!((h.ticker, h.qty), (t("005930"), Qty::lit(3)), "{h:?}");
    assert!(h.avg_price.won() > 0);
}

const SCRIPT: &str = "\
condition S001 스크립트 테스트
at 0ms S001 enter 005930
at 100ms S001 enter 000660
at 200ms S001 exit 005930
";

#[actix_rt::test]
async fn conditions_are_listed_then_started_with_a_snapshot_and_pushes() {
    let sim = start(kiwoom(0.2, Some(SCRIPT)));
    let engine = Engine::start(&sim, sim.ws_url()).await;
    let list = engine
        .session
        .send(ListConditions)
        .await
        .unwrap()
        .expect("CNSRLST answered");
    assert!(
        list.contains(&SavedCondition {
            key: "S001".into(),
            name: "스크립트 테스트".into()
        }),
        "{list:?}"
    );
    let snapshot = engine.start_condition("S001").await;
    assert!(snapshot.is_empty(), "nothing has entered yet: {snapshot:?}");
    until("three pushes", async || engine.alerts().len() >= 3).await;
    assert_eq!(
        engine.alerts(),
        [
            alert("S001", "005930", JobFlag::Enter),
            alert("S001", "000660", JobFlag::Enter),
            alert("S001", "005930", JobFlag::Exit),
        ]
    );
    // A condition the broker does not have is refused in Kiwoom's words.
    let refused = engine
        .session
        .send(StartCondition {
            key: "X999".into(),
            to: engine.sink.clone().recipient(),
        })
        .await
        .unwrap()
        .unwrap_err();
    assert!(refused.to_string().contains("X999"), "{refused}");
    until_sim(&sim, "one condition running", |r| {
        registered(r, &[], false, &["S001"])
    })
    .await;
}

#[actix_rt::test]
async fn pings_are_echoed_and_the_link_outlives_three_ping_intervals() {
    let mut cfg = kiwoom(0.2, None);
    cfg.kiwoom_ping_interval = Duration::from_millis(100);
    let sim = start(cfg);
    let relay = Relay::start(sim.ws_url()).await;
    let engine = Engine::start(&sim, &relay.url).await;
    engine.subscribe("005930", FeedId::next());
    // Twice the misses after which the simulator drops a connection, all on the first.
    until("eight PINGs", async || {
        relay.frames(Dir::Down, "PING").len() >= 8
    })
    .await;
    let pings = relay.frames(Dir::Down, "PING");
    assert!(
        pings.iter().all(|(c, _)| *c == 1),
        "one connection: {pings:?}"
    );
    until("the echoes", async || {
        relay.frames(Dir::Up, "PING").len() >= 8
    })
    .await;
    assert!(relay
        .frames(Dir::Up, "PING")
        .iter()
        .all(|(c, v)| *c == 1 && *v == pings[0].1));
    let stats = engine.session.send(GetSessionStats).await.unwrap();
    assert!(stats.connected && stats.reconnects == 0, "{stats:?}");
    until_sim(&sim, "still registered", |r| {
        registered(r, &["005930"], false, &[])
    })
    .await;
}

#[actix_rt::test]
async fn a_dropped_connection_reconnects_and_registers_everything_again() {
    let sim = start(kiwoom(40.0, Some(SCRIPT)));
    let engine = Engine::start(&sim, sim.ws_url()).await;
    engine.subscribe("005930", FeedId::next());
    engine.watch_account();
    engine.start_condition("S001").await;
    until_sim(&sim, "everything registered", |r| {
        registered(r, &["005930"], true, &["S001"])
    })
    .await;
    until("the account feed live", async || {
        engine.seen().reconciles == 1
    })
    .await;
    sim.drop_connections();
    until_sim(&sim, "the connection gone", |r| r.sessions.is_empty()).await;
    until_sim(&sim, "everything registered again", |r| {
        registered(r, &["005930"], true, &["S001"])
    })
    .await;
    // The account feed is live again: what the gap held is asked of the broker.
    until("the account feed live again", async || {
        engine.seen().reconciles == 2
    })
    .await;
    let before = engine.ticks_of("005930");
    until("ticks again", async || {
        engine.ticks_of("005930") >= before + 5
    })
    .await;
    let stats = engine.session.send(GetSessionStats).await.unwrap();
    assert!(stats.connected && stats.reconnects == 1, "{stats:?}");
}

const GAP: &str = "\
condition G001 gap
at 0ms G001 enter 005930
at 0ms G001 enter 000660
at 3s G001 exit 005930
at 3s G001 enter 035720
";

/// A client of its own that logs in, starts `seq` and collects its pushes
/// (`"I 005930"`), echoing PINGs.
async fn observer(sim: &SimHandle, token: String, seq: &str) -> Arc<Mutex<Vec<String>>> {
    let (mut ws, _) = tokio_tungstenite::connect_async(sim.ws_url())
        .await
        .unwrap();
    let pushes = Arc::new(Mutex::new(Vec::new()));
    let (seq, out) = (seq.to_owned(), pushes.clone());
    tokio::spawn(async move {
        ws.send(Message::Text(
            json!({"trnm": "LOGIN", "token": token}).to_string().into(),
        ))
        .await
        .unwrap();
        while let Some(Ok(m)) = ws.next().await {
            let Message::Text(text) = m else { continue };
            let v: Value = serde_json::from_str(text.as_str()).unwrap();
            let reply = match v["trnm"].as_str() {
                Some("PING") => Some(text.to_string()),
                Some("LOGIN") => Some(json!({"trnm": "CNSRLST"}).to_string()),
                Some("CNSRLST") => Some(
                    json!({"trnm": "CNSRREQ", "seq": seq, "search_type": "1", "stex_tp": "K"})
                        .to_string(),
                ),
                Some("REAL") => {
                    for e in v["data"].as_array().unwrap() {
                        let values = &e["values"];
                        out.lock().unwrap().push(format!(
                            "{} {}",
                            values["843"].as_str().unwrap(),
                            values["9001"].as_str().unwrap()
                        ));
                    }
                    None
                }
                _ => None,
            };
            if let Some(r) = reply {
                if ws.send(Message::Text(r.into())).await.is_err() {
                    return;
                }
            }
        }
    });
    pushes
}

#[actix_rt::test]
async fn the_enters_and_exits_of_a_cut_link_are_told_from_the_new_snapshot() {
    let sim = start(kiwoom(0.2, Some(GAP)));
    let relay = Relay::start(sim.ws_url()).await;
    let engine = Engine::start(&sim, &relay.url).await;
    assert!(engine.start_condition("G001").await.is_empty());
    until("the first enters", async || engine.alerts().len() >= 2).await;
    // Another client joins the running condition: it hears the changes from now on,
    // which tells the test when the gap's exit and enter have happened.
    let seen_by_other = observer(&sim, engine.rest.token().expose().to_owned(), "G001").await;
    relay.cut();
    until("the gap's exit and enter", async || {
        seen_by_other.lock().unwrap().len() >= 2
    })
    .await;
    assert_eq!(
        seen_by_other.lock().unwrap()[..],
        ["D 005930".to_owned(), "I 035720".to_owned()]
    );
    relay.restore();
    until("the gap told", async || engine.alerts().len() >= 4).await;
    let alerts = engine.alerts();
    assert_eq!(
        alerts[..4],
        [
            alert("G001", "005930", JobFlag::Enter),
            alert("G001", "000660", JobFlag::Enter),
            alert("G001", "005930", JobFlag::Exit),
            alert("G001", "035720", JobFlag::Enter),
        ],
        "{alerts:?}"
    );
    // Listed again before the condition was asked again, on the new connection.
    let up: Vec<(u64, String)> = relay
        .log
        .lock()
        .unwrap()
        .frames
        .iter()
        .filter(|(c, d, _)| *c > 1 && *d == Dir::Up)
        .map(|(c, _, v)| (*c, v["trnm"].as_str().unwrap_or("").to_owned()))
        .collect();
    let last = up.last().unwrap().0;
    let trnms: Vec<&str> = up
        .iter()
        .filter(|(c, _)| *c == last)
        .map(|(_, t)| t.as_str())
        .collect();
    assert_eq!(trnms[..3], ["LOGIN", "CNSRLST", "CNSRREQ"], "{up:?}");
}

#[actix_rt::test]
async fn a_login_refused_for_its_token_logs_in_again_with_a_new_one() {
    let sim = start(kiwoom(40.0, None));
    let relay = Relay::start(sim.ws_url()).await;
    let engine = Engine::start(&sim, &relay.url).await;
    engine.subscribe("005930", FeedId::next());
    until_sim(&sim, "registered", |r| {
        registered(r, &["005930"], false, &[])
    })
    .await;
    let old = engine.rest.token().expose().to_owned();
    common::kiwoom_revoke(&sim, &old).await;
    relay.cut();
    relay.restore();
    until("a LOGIN refused", async || {
        relay
            .frames(Dir::Down, "LOGIN")
            .iter()
            .any(|(_, v)| v["return_code"] != 0)
    })
    .await;
    until_sim(&sim, "registered again", |r| {
        registered(r, &["005930"], false, &[])
    })
    .await;
    assert_eq!(engine.rest.tokens_issued(), 2, "one new token");
    let logins = relay.frames(Dir::Up, "LOGIN");
    let tokens: Vec<&str> = logins
        .iter()
        .map(|(_, v)| v["token"].as_str().unwrap())
        .collect();
    assert_eq!(tokens.len(), 3, "{logins:?}");
    assert_eq!(tokens[..2], [old.as_str(), old.as_str()]);
    assert_eq!(tokens[2], engine.rest.token().expose());
    let before = engine.ticks_of("005930");
    until("ticks again", async || {
        engine.ticks_of("005930") >= before + 3
    })
    .await;
}

/// Registers two tickers, the account and a condition through a relay, has `stop` end
/// the session, and checks with the simulator that nothing is left registered.
async fn nothing_left_registered_after(stop: impl AsyncFnOnce(&Addr<BrokerSession>)) {
    let sim = start(kiwoom(20.0, Some(SCRIPT)));
    let relay = Relay::start(sim.ws_url()).await;
    let engine = Engine::start(&sim, &relay.url).await;
    engine.subscribe("005930", FeedId::next());
    engine.subscribe("000660", FeedId::next());
    engine.watch_account();
    engine.start_condition("S001").await;
    until_sim(&sim, "everything registered", |r| {
        registered(r, &["005930", "000660"], true, &["S001"])
    })
    .await;
    stop(&engine.session).await;
    // The relay keeps the simulator's side open: its answers say the frames were read.
    until("REMOVEs and CNSRCLR answered", async || {
        if relay.frames(Dir::Down, "REMOVE").len() == 2
            && relay.frames(Dir::Down, "CNSRCLR").len() == 1
        {
            Ok(())
        } else {
            Err(format!("unanswered: {:?}", relay.summary()))
        }
    })
    .await;
    assert!(relay
        .frames(Dir::Down, "REMOVE")
        .iter()
        .chain(&relay.frames(Dir::Down, "CNSRCLR"))
        .all(|(_, v)| v["return_code"] == 0));
    let report = sim.subscriptions().await;
    assert_eq!(report.sessions.len(), 1, "{report:?}");
    assert!(
        registered(&report, &[], false, &[]),
        "nothing registered: {report:?}"
    );
    until("the session stopped", async || !engine.session.connected()).await;
}

#[actix_rt::test]
async fn shutdown_leaves_nothing_registered_at_the_simulator() {
    nothing_left_registered_after(async |session| session.send(Shutdown).await.unwrap()).await;
}

#[actix_rt::test]
async fn a_session_stopped_without_shutdown_leaves_nothing_registered_either() {
    nothing_left_registered_after(async |session| session.send(Retire).await.unwrap()).await;
}
