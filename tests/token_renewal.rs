//! The access token over real sockets: `LsRest` against the embedded exchange with a
//! revoked token (one new token, the call made once more, an order placed once), many
//! calls refused together (one new token for all), a scripted gateway that refuses every
//! token (a clear error after one retry, no loop) or drops an order's connection (never
//! resent); and `condor run` trading the exchange with 3-second tokens for long enough
//! that they expire several times: every order answered, none lost, none sent twice.
//!
//! Nothing is asserted on durations: every wait is for a condition, with a deadline.

mod common;
#[path = "support/condor_run.rs"]
mod condor_run;
#[path = "support/lives.rs"]
mod lives;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use condor::sim::exchange::Scenario;
use condor::sim::{SimConfig, SimHandle};
use condor_actors::broker_account;
use condor_actors::broker_session::{BrokerSession, SessionConfig};
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::store;
use condor_actors::ls_rest::{LsError, LsRest};
use condor_actors::market::Market;
use condor_actors::market::{Qty, Side, Ticker};
use condor_actors::messages::FeedId;
use condor_actors::messages::{Deliver, GetSessionStats, SubscribeTrades, Tick};
use condor_actors::wire::market_data::{T1102InBlock, T1102};
use condor_actors::wire::order::{Cspat00601, Cspat00601InBlock1};
use condor_actors::wire::rest::Tr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn samsung() -> Ticker {
    Ticker::parse("005930").unwrap()
}

async fn connect(sim: &SimHandle) -> LsRest {
    LsRest::connect(
        sim.rest_url(),
        sim.appkey().expose(),
        sim.appsecret().expose(),
    )
    .await
    .expect("token")
}

/// Withdraws `token` at the simulator (`/oauth2/revoke`), so the next call with it is
/// refused IGW00121 as an unknown token.
async fn revoke(sim: &SimHandle, token: &str) {
    let form = condor_actors::wire::token::RevokeRequest::access_token(
        sim.appkey().expose(),
        sim.appsecret().expose(),
        token,
    )
    .to_form();
    let status = reqwest::Client::new()
        .post(format!("{}/oauth2/revoke", sim.rest_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("revoke")
        .status();
    assert_eq!(status, 200);
}

#[actix_rt::test]
async fn an_order_refused_for_its_token_gets_a_new_token_and_is_placed_once() {
    let sim = common::start(common::quiet_config());
    let rest = connect(&sim).await;
    assert_eq!(sim.stats().await.tokens_issued, 1);
    let first = rest.token();
    revoke(&sim, &first).await;

    let reply = rest
        .call::<Cspat00601>(&Cspat00601InBlock1::market(samsung(), Side::Buy, Qty(1)))
        .await
        .expect("the order is answered after one new token");
    assert!(Cspat00601::succeeded(&reply), "{reply:?}");
    let order_no = reply.blocks.ord_no().expect("an order number");

    assert_eq!(sim.stats().await.tokens_issued, 2, "exactly one new token");
    assert_eq!(rest.tokens_issued(), 2);
    assert_ne!(rest.token(), first);
    let orders = broker_account::orders_of_day(&rest).await.expect("t0425");
    let numbers: Vec<i64> = orders.iter().map(|o| o.order_no).collect();
    assert_eq!(
        numbers,
        [order_no],
        "the refused call placed nothing; the retry one order"
    );
    assert_eq!(
        sim.stats().await.tokens_issued,
        2,
        "the new token serves on"
    );
    sim.stop();
}

#[actix_rt::test]
async fn calls_refused_together_share_one_new_token() {
    let sim = common::start(SimConfig {
        // Twelve calls and their retries inside a second: t1102's 10/s is not the point.
        rate_limits: false,
        ..common::quiet_config()
    });
    let rest = connect(&sim).await;
    revoke(&sim, &rest.token()).await;
    let calls = (0..12).map(|_| {
        let rest = rest.clone();
        async move { rest.call::<T1102>(&T1102InBlock::new(samsung())).await }
    });
    let replies = futures_util::future::join_all(calls).await;
    for r in replies {
        let r = r.expect("every call answered");
        assert!(T1102::succeeded(&r), "{r:?}");
    }
    assert_eq!(
        sim.stats().await.tokens_issued,
        2,
        "one new token for the twelve refused calls, not one each"
    );
    sim.stop();
}

/// Counts nothing; a feed's address for the session to route to.
struct Feed;
impl actix::Actor for Feed {
    type Context = actix::Context<Self>;
}
impl actix::Handler<Deliver<Tick>> for Feed {
    type Result = ();
    fn handle(&mut self, Deliver(_): Deliver<Tick>, _: &mut actix::Context<Self>) {}
}

#[actix_rt::test]
async fn a_registration_refused_for_its_token_is_made_again_with_a_new_one() {
    use actix::Actor;
    let sim = common::start(common::quiet_config());
    let rest = connect(&sim).await;
    let session = BrokerSession::new(SessionConfig::new(sim.ws_url(), rest.token_source())).start();
    condor_run::eventually("the session is connected", || {
        let session = session.clone();
        async move {
            let stats = session.send(GetSessionStats).await.ok()?;
            stats.connected.then_some(())
        }
    })
    .await;
    revoke(&sim, &rest.token()).await;
    session.do_send(SubscribeTrades {
        ticker: samsung(),
        market: Market::Kospi,
        feed: Feed.start().recipient(),
        feed_id: FeedId::next(),
    });
    condor_run::eventually("005930 registered with a new token", || {
        let sim = &sim;
        async move {
            let report = sim.subscriptions().await;
            (report.trade_subscribers("005930") == 1).then_some(())
        }
    })
    .await;
    assert_eq!(sim.stats().await.tokens_issued, 2, "one new token");
    sim.stop();
}

/// What the scripted gateway does with one request.
enum Answer {
    Json(u16, String),
    /// Close the connection without answering: the request's fate is unknown.
    Hang,
}

/// A loopback HTTP/1.1 server that answers each request (one a connection) as `script`
/// says for its path and how many requests that path had before; records every path.
async fn scripted_gateway(
    script: impl Fn(&str, usize) -> Answer + Send + Sync + 'static,
) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let script = Arc::new(script);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let log = log.clone();
            let script = script.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let head_end = loop {
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                while buf.len() < head_end + length {
                    match socket.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let path = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let before = {
                    let mut log = log.lock().unwrap();
                    let n = log.iter().filter(|p| **p == path).count();
                    log.push(path.clone());
                    n
                };
                match script(&path, before) {
                    Answer::Json(status, body) => {
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: application/json; charset=utf-8\r\ntr_cont: N\r\ntr_cont_key: \r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(reply.as_bytes()).await;
                        let _ = socket.shutdown().await;
                    }
                    Answer::Hang => drop(socket),
                }
            });
        }
    });
    (url, seen)
}

fn token_reply(n: usize) -> Answer {
    Answer::Json(
        200,
        format!(
            r#"{{"access_token":"eyJSCRIPTED.TOKEN{n}.sig","scope":"oob","token_type":"Bearer","expires_in":86400}}"#
        ),
    )
}

fn count(seen: &Mutex<Vec<String>>, path: &str) -> usize {
    seen.lock().unwrap().iter().filter(|p| *p == path).count()
}

#[actix_rt::test]
async fn a_token_refused_again_after_a_new_one_is_a_clear_error_not_a_loop() {
    let (url, seen) = scripted_gateway(|path, n| match path {
        "/oauth2/token" => token_reply(n),
        _ => Answer::Json(
            500,
            r#"{"rsp_cd":"IGW00123","rsp_msg":"기간이 만료된 token 입니다."}"#.into(),
        ),
    })
    .await;
    let rest = LsRest::connect(&url, "KEY", "SECRET").await.expect("token");
    let e = rest
        .call::<T1102>(&T1102InBlock::new(samsung()))
        .await
        .unwrap_err();
    assert!(matches!(e, LsError::TokenRefusedAgain { .. }), "{e:?}");
    let shown = format!("{e} {e:?} {rest:?}");
    assert!(
        shown.contains("IGW00123") && shown.contains("again") && shown.contains("t1102"),
        "{shown}"
    );
    assert!(
        !shown.contains("eyJSCRIPTED"),
        "no token in errors: {shown}"
    );
    assert_eq!(
        count(&seen, "/stock/market-data"),
        2,
        "the call and one retry"
    );
    assert_eq!(
        count(&seen, "/oauth2/token"),
        2,
        "the first token and one new one"
    );
}

#[actix_rt::test]
async fn an_order_whose_connection_drops_is_not_resent() {
    let (url, seen) = scripted_gateway(|path, n| match path {
        "/oauth2/token" => token_reply(n),
        _ => Answer::Hang,
    })
    .await;
    let rest = LsRest::connect(&url, "KEY", "SECRET").await.expect("token");
    let e = rest
        .call::<Cspat00601>(&Cspat00601InBlock1::market(samsung(), Side::Buy, Qty(1)))
        .await
        .unwrap_err();
    assert!(matches!(e, LsError::Transport { .. }), "{e:?}");
    assert!(!e.is_gateway_refusal(), "its fate is unknown");
    assert_eq!(count(&seen, "/stock/order"), 1, "sent once, never again");
    assert_eq!(count(&seen, "/oauth2/token"), 1);
}

// ---------------------------------------------------------------------------------------
// condor run with 3-second tokens

const TICKERS: &[&str] = &["005930", "000660", "005380", "000270", "035420", "035720"];

/// Renewals the run must see: the first token and this many more, each one 2.7 s after
/// the last (90% of 3 s), so about 11 s of trading.
const RENEWALS: u64 = 4;

fn journal_events(data: &Path) -> Vec<JournalEvent> {
    let days = store::list_days(&data.join("journal")).unwrap();
    assert_eq!(
        days.len(),
        1,
        "one journal day (a run across midnight KST: run again)"
    );
    store::read::<JournalEvent>(&days[0].1)
        .unwrap_or_else(|e| panic!("{e}"))
        .records
        .into_iter()
        .map(|r| r.event)
        .collect()
}

#[actix_rt::test]
async fn condor_trades_through_expiring_tokens_losing_and_doubling_no_order() {
    let mut cfg = SimConfig {
        token_ttl: Duration::from_secs(3),
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = 20.0;
    let scenario = lives::busy_scenario("condition S001 token test\n", TICKERS, 137);
    cfg.exchange.scenario = Some(Scenario::parse(&scenario).expect("scenario parses"));
    let sim = common::start(cfg);
    let dir = tempfile::tempdir().unwrap();
    let mut env: Vec<(&str, &str)> = lives::BUSY.to_vec();
    // LS's per-TR limits are on (the token endpoint's 10/s among them): cancels are
    // allowed 3/s, so orders are paced under that.
    env.extend([
        ("CONDOR_ORDERS_PER_SEC", "3"),
        ("RUST_LOG", "info,condor::rest=trace,condor::session=debug"),
    ]);
    let mut condor = condor_run::start(&sim, dir.path(), "S001", &env);

    let data = dir.path().join("state");
    condor_run::eventually("tokens renewed and orders sent meanwhile", || {
        let sim = &sim;
        let data = &data;
        async move {
            let issued = sim.stats().await.tokens_issued;
            let sent = journal_events(data)
                .iter()
                .filter(|e| matches!(e, JournalEvent::OrderSent { .. }))
                .count();
            (issued > RENEWALS && sent >= 10).then_some(())
        }
    })
    .await;
    assert!(condor.stop(), "condor exits 0:\n{}", condor.log_text());
    let log = condor.log_text();
    let stats = sim.stats().await;

    // Every order the journal sent is at the exchange once, and the exchange has no other.
    let events = journal_events(&data);
    let sent: BTreeSet<u64> = events
        .iter()
        .filter_map(|e| match e {
            JournalEvent::OrderSent { id, .. } => Some(*id),
            _ => None,
        })
        .collect();
    let mut acked: BTreeMap<u64, i64> = BTreeMap::new();
    for e in &events {
        match e {
            JournalEvent::Acked { id, order_no } => {
                assert!(acked.insert(*id, *order_no).is_none(), "C{id} acked twice");
            }
            JournalEvent::Rejected { id, code, message } => {
                panic!("C{id} rejected [{code}] {message}: every order must be answered and placed")
            }
            JournalEvent::SendUnknown { id, .. } => {
                panic!("C{id}'s send went unanswered")
            }
            _ => {}
        }
    }
    assert_eq!(
        acked.keys().copied().collect::<BTreeSet<_>>(),
        sent,
        "every order sent was answered with its number"
    );
    let reader = connect(&sim).await;
    let at_exchange: Vec<i64> = broker_account::orders_of_day(&reader)
        .await
        .expect("t0425")
        .iter()
        // Cancels (the shutdown's, of working orders) are orders of their own at LS.
        .filter(|o| o.org_order_no == 0)
        .map(|o| o.order_no)
        .collect();
    let mut journaled: Vec<i64> = acked.values().copied().collect();
    journaled.sort_unstable();
    assert_eq!(
        at_exchange, journaled,
        "the exchange's orders are the journal's, each once"
    );

    // The renewals happened, in the background, and no token reached the log.
    let renewals = log.matches("(renewal before expiry)").count();
    assert!(
        renewals as u64 >= RENEWALS,
        "{renewals} renewals logged, {} tokens issued:\n{log}",
        stats.tokens_issued
    );
    assert!(!log.contains("not retried"), "{log}");
    // Registrations made once the first token had expired (it did before the third was
    // issued) were acknowledged: the session registers with the token of the moment.
    let third = log.find("access token #3 issued").expect("a third token");
    assert!(
        log[third..].contains("S3_(3) "),
        "no trade registration acknowledged after the first token expired:\n{log}"
    );
    // Every token the simulator issues opens with the same JWT header.
    assert!(!log.contains("eyJ0eXAiOiJKV1Qi"), "a token in the log");
    println!(
        "{} orders over {} tokens ({renewals} renewals logged), {} calls refused for an expired token",
        sent.len(),
        stats.tokens_issued,
        stats.expired_token_refusals
    );
    sim.stop();
}
