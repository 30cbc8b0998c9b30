//! The access token over real sockets: `LsRest` against the embedded exchange with a
//! revoked token (one new token, the call made once more, an order placed once), many
//! calls refused together (one new token for all), a scripted gateway that refuses every
//! token (a clear error after one retry, no loop) or drops an order's connection (never
//! resent), one-second tokens renewed in the background on the system clock; and
//! `condor run` trading a standalone `condor sim` through an hour of session on the
//! accelerated clock (`CONDOR_CLOCK`, read by both) with tokens that live 30 simulated
//! seconds: renewed every 27 s of market time, every order answered, none lost, none sent
//! twice, every call refused for an expired token made again.
//!
//! Nothing is asserted on durations: every wait is for a condition, with a deadline.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{lives, until, until_within, PATIENCE};
use condor::sim::{SimConfig, SimHandle};
use condor_actors::access_token::TokenPolicy;
use condor_actors::broker_account;
use condor_actors::broker_session::{BrokerSession, SessionConfig};
use condor_actors::clock::{Clock, ClockSpec, ScaledClock, SystemClock};
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::store;
use condor_actors::ls_rest::{LsError, LsRest};
use condor_actors::market::Market;
use condor_actors::market::{Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::FeedId;
use condor_actors::messages::{GetSessionStats, SubscribeTrades, Ticks};
use condor_actors::wire::market_data::{T1102InBlock, T1102};
use condor_actors::wire::order::{Cspat00601, Cspat00601InBlock1};
use condor_actors::wire::rest::Tr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn samsung() -> Ticker {
    Ticker::parse("005930").unwrap()
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
    let rest = common::ls_rest(&sim).await;
    assert_eq!(sim.stats().await.tokens_issued, 1);
    let first = rest.token();
    revoke(&sim, &first).await;

    let reply = rest
        .call::<Cspat00601>(&Cspat00601InBlock1::market(
            samsung(),
            Side::Buy,
            Qty::lit(1),
        ))
        .await
        .expect("the order is answered after one new token");
    assert!(Cspat00601::succeeded(&reply), "{reply:?}");
    let order_no = reply.blocks.ord_no().expect("an order number");

    assert_eq!(sim.stats().await.tokens_issued, 2, "exactly one new token");
    assert_eq!(rest.tokens_issued(), 2);
    assert_ne!(rest.token(), first);
    let orders = broker_account::orders_of_day(&rest).await.expect("t0425");
    let numbers: Vec<i64> = orders.iter().map(|o| o.order_no.0).collect();
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
    let rest = common::ls_rest(&sim).await;
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
impl actix::Handler<Ticks> for Feed {
    type Result = ();
    fn handle(&mut self, _: Ticks, _: &mut actix::Context<Self>) {}
}

#[actix_rt::test]
async fn a_registration_refused_for_its_token_is_made_again_with_a_new_one() {
    use actix::Actor;
    let sim = common::start(common::quiet_config());
    let rest = common::ls_rest(&sim).await;
    let session = BrokerSession::new(SessionConfig::new(sim.ws_url(), rest.token_source())).start();
    until("the session is connected", || {
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
        to: Feed.start().recipient(),
        feed_id: FeedId::next(),
    });
    until("005930 registered with a new token", || {
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
        .call::<Cspat00601>(&Cspat00601InBlock1::market(
            samsung(),
            Side::Buy,
            Qty::lit(1),
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, LsError::Transport { .. }), "{e:?}");
    assert!(!e.is_gateway_refusal(), "its fate is unknown");
    assert_eq!(count(&seen, "/stock/order"), 1, "sent once, never again");
    assert_eq!(count(&seen, "/oauth2/token"), 1);
}

// ---------------------------------------------------------------------------------------
// Renewal in the background, on the system clock

#[actix_rt::test]
async fn one_second_tokens_are_renewed_in_the_background_before_they_expire() {
    let sim = common::start(SimConfig {
        token_ttl: Duration::from_secs(1),
        ..common::quiet_config()
    });
    let rest = common::ls_rest(&sim).await;
    // No call is made: the renewer alone issues each token at 90% of the last one's life.
    until("three tokens renewed", || {
        let sim = &sim;
        async move { (sim.stats().await.tokens_issued >= 4).then_some(()) }
    })
    .await;
    let reply = rest
        .call::<T1102>(&T1102InBlock::new(samsung()))
        .await
        .expect("answered with the current token");
    assert!(T1102::succeeded(&reply), "{reply:?}");
    let stats = sim.stats().await;
    assert_eq!(
        stats.expired_token_refusals, 0,
        "no call met an expired token"
    );
    assert!(rest.tokens_issued() >= 4);
    sim.stop();
}

// ---------------------------------------------------------------------------------------
// condor run through an hour of session with 30-second (simulated) tokens

/// Monday 2026-12-07 from 10:00 KST at 100x: the hour to 11:00 is 36 s of real time.
const SPEED: u64 = 100;
/// The simulator's token lifetime, in market seconds; condor renews at 90%: every 27 s.
const TTL_SECS: u64 = 30;
/// Tickers the scenario moves in and out of condition S001.
const HOUR_TICKERS: &[&str] = &["005930", "000660", "005380", "000270"];

/// Every ticker enters S001 once a minute (staggered 15 s apart) and leaves 20 s later,
/// for two hours of market time from the registration: an entry every 15 s.
fn hourly_scenario() -> String {
    let mut s = String::from("condition S001 token hour\n");
    for (i, code) in HOUR_TICKERS.iter().enumerate() {
        let mut t = i as u64 * 15;
        while t < 7_200 {
            s.push_str(&format!(
                "at {t}s S001 enter {code}\nat {}s S001 exit {code}\n",
                t + 20
            ));
            t += 60;
        }
    }
    s
}

fn journal_events(data: &Path) -> Vec<JournalEvent> {
    let days = store::list_days(&data.join("journal")).unwrap_or_default();
    let Some((_, path)) = days.first() else {
        return Vec::new();
    };
    assert_eq!(days.len(), 1, "one journal day: {days:?}");
    store::read::<JournalEvent>(path)
        .unwrap_or_else(|e| panic!("{e}"))
        .records
        .into_iter()
        .map(|r| r.event)
        .collect()
}

async fn sim_stats(sim: &lives::Sim) -> serde_json::Value {
    reqwest::get(format!("{}/sim/stats", sim.rest))
        .await
        .expect("/sim/stats")
        .json()
        .await
        .expect("/sim/stats JSON")
}

fn stat(v: &serde_json::Value, key: &str) -> u64 {
    v[key].as_u64().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[tokio::test]
async fn an_hour_of_trading_with_30_second_tokens_loses_and_doubles_no_order() {
    let work = lives::Work::new("token-hour", 7);
    let epoch = SystemClock.unix_ms();
    let clock_text = format!("2026-12-07T10:00:00@{epoch}x{SPEED},lead=0");
    let spec = ClockSpec::parse(&clock_text, 0).unwrap();
    // The test's own copy of the clock both processes run on.
    let market = ScaledClock::new(spec);
    let at = |h: u32, m: u32| {
        spec.start_day.midnight_unix_ms() + i64::from(TimeOfDay::hms(h, m, 0).secs()) * 1000
    };
    std::fs::write(work.path("scenario.scn"), hourly_scenario()).unwrap();
    let scenario = work.path("scenario.scn").display().to_string();
    let ttl = TTL_SECS.to_string();
    // LS's per-TR limits are on, the token endpoint's 10/s among them (in market time).
    let sim = lives::start_sim_env(
        &work,
        "info",
        &[
            "--seed",
            "7",
            "--trades-per-sec",
            "0.3",
            "--scenario",
            &scenario,
            "--token-ttl-secs",
            &ttl,
        ],
        &[("CONDOR_CLOCK", &clock_text)],
    );
    let data = work.path("state");
    let mut env: Vec<(&str, &str)> = lives::BUSY.to_vec();
    env.extend([
        ("CONDOR_CLOCK", clock_text.as_str()),
        ("CONDOR_MAX_HOLD_SECS", "10"),
        ("RUST_LOG", "info,condor::session=debug"),
    ]);
    let settings = lives::RunSettings::new(&sim, &data, &env);
    let condor = lives::spawn_condor(&work, &settings, 1);
    let log_path = lives::life_log(&work, 1);
    let log = || std::fs::read_to_string(&log_path).unwrap_or_default();

    // Until the market's clock shows 11:00, with orders sent on the way.
    let started_at = until_within(
        PATIENCE * 5,
        || format!("no first token:\n{}", log()),
        async || {
            log()
                .contains("access token #1 issued")
                .then(|| market.unix_ms())
        },
    )
    .await;
    common::Poll::every(Duration::from_millis(200))
        .within(PATIENCE * 5)
        .until("the market never reached 11:00", async || {
            market.unix_ms() >= at(11, 0)
        })
        .await;
    let (exit, _, log) = condor.terminate().await;
    let stopped_at = market.unix_ms();
    assert!(
        exit.success(),
        "condor exits 0: {exit:?}\n{}",
        lives::tail(&log_path, 40)
    );
    let stats = sim_stats(&sim).await;
    let issued = stat(&stats, "tokens_issued");

    // Every order the journal sent was answered with its number, once.
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
                assert!(acked.insert(*id, order_no.0).is_none(), "C{id} acked twice");
            }
            JournalEvent::Rejected { id, code, message } => {
                panic!("C{id} rejected [{code}] {message}: every order must be answered and placed")
            }
            JournalEvent::SendUnknown { id, .. } => panic!("C{id}'s send went unanswered"),
            _ => {}
        }
    }
    assert_eq!(
        acked.keys().copied().collect::<BTreeSet<_>>(),
        sent,
        "every order sent was answered with its number"
    );
    assert!(
        sent.len() >= 100,
        "only {} orders in the hour:\n{}",
        sent.len(),
        lives::tail(&log_path, 40)
    );
    // The simulator's orders of the day are the journal's, each once: none lost, none
    // placed twice. Read on the same clock, so the reader's 30 s tokens are renewed too.
    let reader = LsRest::connect_with(
        &sim.rest,
        &sim.appkey,
        &sim.appsecret,
        TokenPolicy::default(),
        Arc::new(ScaledClock::new(spec)),
    )
    .await
    .expect("token");
    let at_exchange: Vec<i64> = broker_account::orders_of_day(&reader)
        .await
        .expect("t0425")
        .iter()
        // Cancels (the shutdown's, of working orders) are orders of their own at LS.
        .filter(|o| o.org_order_no.0 == 0)
        .map(|o| o.order_no.0)
        .collect();
    let mut journaled: Vec<i64> = acked.values().copied().collect();
    journaled.sort_unstable();
    assert_eq!(
        at_exchange, journaled,
        "the exchange's orders are the journal's, each once"
    );

    // Tokens: one every 27 s of market time condor lived, renewed before they expired;
    // every one the simulator issued (before the reader's) went to condor.
    let alive_secs = (stopped_at - started_at) / 1000;
    let due = alive_secs as u64 * 10 / (TTL_SECS * 9);
    let renewals = log.matches("(renewal before expiry)").count() as u64;
    // The newest "access token #N issued" line.
    let last = log
        .match_indices("access token #")
        .filter_map(|(i, _)| {
            let rest = &log[i + "access token #".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            rest[digits.len()..]
                .starts_with(" issued")
                .then(|| digits.parse::<u64>().ok())?
        })
        .max()
        .expect("a token logged");
    // Stopped while a renewal was on the wire, condor exits before it logs the token
    // the simulator just issued (CI saw 133 logged of 134): one unlogged is that, two
    // would be tokens condor asked for and lost track of.
    assert!(
        issued == last || issued == last + 1,
        "condor's tokens are the simulator's: {last} logged, {issued} issued"
    );
    assert!(
        renewals + 2 >= due * 9 / 10 && issued <= due + due / 10 + 5,
        "{issued} tokens issued, {renewals} renewals before expiry, {due} due over {alive_secs} s of market time"
    );
    // Every REST call refused for an expired token was made again with a new one (condor
    // logs each refusal before it issues and calls once more), and none was refused twice.
    let rest_refusals = stat(&stats, "expired_rest_refusals");
    let retried = log.matches("the gateway refused access token #").count() as u64;
    assert_eq!(
        retried, rest_refusals,
        "a refused call went unretried:\n{log}"
    );
    for never in [
        "not retried",
        "cannot issue a new access token",
        "cannot renew the access token",
        "IGW00121",
        "IGW00201",
        "registration refused for its token and no new one",
    ] {
        assert!(!log.contains(never), "{never:?} in condor's log:\n{log}");
    }
    // The websocket registered with the tokens of the moment: trade registrations were
    // acknowledged long after the first tokens expired.
    let late = log
        .find("access token #100 issued")
        .expect("a hundredth token");
    assert!(
        log[late..].contains("S3_(3) "),
        "no trade registration acknowledged after token #100:\n{}",
        lives::tail(&log_path, 40)
    );
    assert!(!log.contains("eyJ0eXAiOiJKV1Qi"), "a token in the log");
    println!(
        "{} orders over {} tokens ({renewals} renewals before expiry, {due} due in {alive_secs} s of market time), {rest_refusals} REST calls and {} registrations refused for an expired token, each made again",
        sent.len(),
        issued,
        stat(&stats, "expired_token_refusals") - rest_refusals
    );
}
