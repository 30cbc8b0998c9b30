//! The engine's Kiwoom REST adapter (`KiwoomRest` behind `Broker::Kiwoom`) over real
//! sockets against the embedded exchange in Kiwoom mode: a token, a market buy that
//! fills, a working limit order cancelled, the band, today's orders, the holdings and the
//! cash agreeing with the fill; a refusal keeping Kiwoom's code; orders cancelled or
//! refused before any fill in today's orders, ended; a revoked token
//! re-issued once with the order placed once; today's orders read across pages under the
//! simulator's rate limits; a short-lived token renewed before its `expires_dt`; and, on
//! a scripted gateway that drops every call unanswered, an order left in doubt and sent
//! exactly once, with no secret in what the client prints.
//!
//! Nothing is asserted on durations: every wait is for a condition, with a deadline.

mod common;

use std::time::Duration;

use common::{kiwoom_rest, start, Poll};
use condor::sim::{Protocol, SimConfig};
use condor_actors::broker::Broker;
use condor_actors::clock::Clock as _;
use condor_actors::domain::{NewOrder, OrderNo, OrderType};
use condor_actors::kiwoom_rest::{KiwoomRest, KiwoomRestError};
use condor_actors::market::{Price, Qty, Side, Ticker};
use condor_actors::reconcile::BrokerOrder;
use condor_actors::trading::orders::{CancelReply, OrderReply};

/// The simulator's starting cash (won).
const START_CASH: i64 = 100_000_000;

fn samsung() -> Ticker {
    Ticker::parse("005930").unwrap()
}

fn kiwoom(trades_per_sec: f64, rate_limits: bool) -> SimConfig {
    let mut cfg = SimConfig {
        protocol: Protocol::Kiwoom,
        rate_limits,
        ..SimConfig::default()
    };
    cfg.exchange.trades_per_sec = trades_per_sec;
    cfg
}

fn order(side: Side, qty: u64, order_type: OrderType) -> NewOrder {
    NewOrder {
        ticker: samsung(),
        side,
        qty: Qty::lit(qty),
        order_type,
    }
}

fn acked(reply: OrderReply) -> OrderNo {
    match reply {
        OrderReply::Acked { order_no, .. } => order_no,
        other => panic!("expected an ack: {other:?}"),
    }
}

/// Reads today's orders until `done` holds for them (or panics at the deadline).
async fn orders_until(
    broker: &Broker,
    what: &str,
    done: impl Fn(&[BrokerOrder]) -> bool,
) -> Vec<BrokerOrder> {
    Poll::every(Duration::from_millis(100))
        .until(what, async || {
            let orders = broker.orders_of_day().await.expect("today's orders");
            if done(&orders) {
                Ok(orders)
            } else {
                Err(format!("{orders:?}"))
            }
        })
        .await
}

#[actix_rt::test]
async fn a_buy_fills_a_working_order_is_cancelled_and_the_account_agrees() {
    let sim = start(kiwoom(50.0, false));
    let broker = Broker::from(kiwoom_rest(&sim).await);

    let band = broker.band(samsung()).await.expect("ka10001 gives a band");
    assert!(
        band.limits.lower.won() > 0
            && band.limits.lower < band.limits.base
            && band.limits.base < band.limits.upper,
        "{band:?}"
    );
    assert!(band.last.is_some_and(|p| p.won() > 0), "{band:?}");

    // A market buy of 3 fills.
    let bought = acked(broker.place(&order(Side::Buy, 3, OrderType::Market)).await);
    let orders = orders_until(&broker, "the market buy fills", |o| {
        o.iter()
            .any(|o| o.order_no == bought && o.filled == Qty::lit(3))
    })
    .await;
    let fill = orders.iter().find(|o| o.order_no == bought).unwrap();
    assert_eq!(
        (
            fill.ticker,
            fill.side,
            fill.qty,
            fill.remaining,
            fill.org_order_no
        ),
        (
            samsung(),
            Side::Buy,
            Qty::lit(3),
            Qty::lit(0),
            OrderNo::NONE
        )
    );
    assert!(fill.avg_fill_price.won() > 0, "{fill:?}");

    // A limit buy at the lower limit works until cancelled.
    let low = band.limits.lower;
    let working = acked(
        broker
            .place(&order(Side::Buy, 2, OrderType::Limit(low)))
            .await,
    );
    assert_ne!(working, bought);
    let orders = orders_until(&broker, "the limit buy is listed as working", |o| {
        o.iter().any(|o| o.order_no == working)
    })
    .await;
    let w = orders.iter().find(|o| o.order_no == working).unwrap();
    assert_eq!(
        (w.qty, w.price, w.filled, w.remaining),
        (Qty::lit(2), low, Qty::lit(0), Qty::lit(2))
    );
    let cancel = broker.cancel(working, samsung(), Qty::lit(2)).await;
    let CancelReply::Accepted { order_no } = cancel else {
        panic!("cancel accepted: {cancel:?}")
    };
    assert!(
        order_no != working && order_no != bought,
        "a cancel has its own number"
    );
    // Cancelled unfilled, today's orders (kt00007) hold it ended.
    orders_until(&broker, "the cancelled order stops working", |o| {
        !o.iter()
            .any(|o| o.order_no == working && o.remaining.shares() > 0)
    })
    .await;

    // Holdings and cash agree with the fill.
    let snap = broker.snapshot().await.expect("snapshot");
    assert!(snap.unsettled.is_empty(), "{snap:?}");
    assert_eq!(snap.holdings.len(), 1, "{snap:?}");
    let h = snap.holdings[0];
    assert_eq!((h.ticker, h.qty), (samsung(), Qty::lit(3)));
    let spent = START_CASH - snap.cash;
    assert!(spent > 0, "{snap:?}");
    assert_eq!(h.avg_price, Price::lit(spent / 3), "{snap:?}");
    assert_eq!(broker.cash().await.unwrap(), snap.cash);
    assert!(
        snap.orders
            .iter()
            .any(|o| o.order_no == bought && o.filled == Qty::lit(3)),
        "{snap:?}"
    );
}

#[actix_rt::test]
async fn a_refused_order_is_rejected_with_kiwooms_code() {
    let sim = start(kiwoom(0.2, false));
    let broker = Broker::from(kiwoom_rest(&sim).await);
    let band = broker.band(samsung()).await.unwrap();
    let above = Price::lit(band.limits.upper.won() + 1_000);
    let r = broker
        .place(&order(Side::Buy, 1, OrderType::Limit(above)))
        .await;
    assert!(
        matches!(&r, OrderReply::Rejected { code, .. } if code == "03180"),
        "above the upper limit: {r:?}"
    );
    let r = broker
        .place(&order(Side::Buy, 10_000, OrderType::Market))
        .await;
    assert!(
        matches!(&r, OrderReply::Rejected { code, .. } if code == "855056"),
        "short of cash: {r:?}"
    );
    // Both are in the day's list (kt00007), refused: nothing filled, nothing working.
    let orders = broker.orders_of_day().await.unwrap();
    assert_eq!(
        orders
            .iter()
            .map(|o| (o.qty, o.filled, o.remaining))
            .collect::<Vec<_>>(),
        [
            (Qty::lit(1), Qty::lit(0), Qty::lit(0)),
            (Qty::lit(10_000), Qty::lit(0), Qty::lit(0))
        ],
        "{orders:?}"
    );
}

/// An order cancelled before any fill and one refused are in neither ka10075 (open) nor
/// ka10076 (filled); kt00007 lists both, ended, with the cancel as an order of its own,
/// so reconciliation sees them end rather than miss them.
#[actix_rt::test]
async fn orders_cancelled_or_refused_before_any_fill_are_in_todays_orders() {
    let sim = start(kiwoom(0.2, false));
    let broker = Broker::from(kiwoom_rest(&sim).await);
    let band = broker.band(samsung()).await.unwrap();
    let low = band.limits.lower;
    let cancelled = acked(
        broker
            .place(&order(Side::Buy, 2, OrderType::Limit(low)))
            .await,
    );
    let CancelReply::Accepted { order_no: cancel } =
        broker.cancel(cancelled, samsung(), Qty::lit(2)).await
    else {
        panic!("cancel accepted")
    };
    let refused = broker
        .place(&order(Side::Sell, 5, OrderType::Limit(low)))
        .await;
    assert!(
        matches!(&refused, OrderReply::Rejected { .. }),
        "nothing to sell: {refused:?}"
    );
    let orders = broker.orders_of_day().await.unwrap();
    let shape = |o: &BrokerOrder| {
        (
            o.org_order_no,
            o.side,
            o.qty,
            o.price,
            o.filled,
            o.remaining,
        )
    };
    assert_eq!(orders.len(), 3, "{orders:?}");
    let original = orders.iter().find(|o| o.order_no == cancelled).unwrap();
    assert_eq!(
        shape(original),
        (
            OrderNo::NONE,
            Side::Buy,
            Qty::lit(2),
            low,
            Qty::lit(0),
            Qty::lit(0)
        ),
        "cancelled before any fill: ended, nothing filled"
    );
    let cancel_row = orders.iter().find(|o| o.order_no == cancel).unwrap();
    assert_eq!(
        (cancel_row.org_order_no, cancel_row.remaining),
        (cancelled, Qty::lit(0))
    );
    let refused_row = orders
        .iter()
        .find(|o| o.order_no != cancelled && o.order_no != cancel)
        .unwrap();
    assert!(refused_row.order_no > cancel, "numbered when refused");
    assert_eq!(
        shape(refused_row),
        (
            OrderNo::NONE,
            Side::Sell,
            Qty::lit(5),
            low,
            Qty::lit(0),
            Qty::lit(0)
        ),
        "refused: ended, nothing filled"
    );
}

#[actix_rt::test]
async fn an_order_refused_for_its_token_gets_a_new_token_and_is_placed_once() {
    let sim = start(kiwoom(0.2, false));
    let rest = kiwoom_rest(&sim).await;
    assert_eq!(rest.tokens_issued(), 1);
    common::kiwoom_revoke(&sim, rest.token().expose()).await;
    let broker = Broker::from(rest.clone());
    let low = broker
        .band(samsung())
        .await
        .expect("band after a new token")
        .limits
        .lower;
    assert_eq!(
        rest.tokens_issued(),
        2,
        "one new token for the refused call"
    );
    common::kiwoom_revoke(&sim, rest.token().expose()).await;
    let placed = acked(
        broker
            .place(&order(Side::Buy, 1, OrderType::Limit(low)))
            .await,
    );
    assert_eq!(rest.tokens_issued(), 3);
    let orders = broker.orders_of_day().await.unwrap();
    assert_eq!(
        orders.iter().map(|o| o.order_no).collect::<Vec<_>>(),
        [placed],
        "placed once"
    );
}

#[actix_rt::test]
async fn todays_orders_are_read_across_pages_within_the_rate_limits() {
    // Rate limits on (5 calls a second per api-id): the client's pacing keeps every call
    // under them, so no order is refused for its rate.
    let sim = start(kiwoom(0.2, true));
    let broker = Broker::from(kiwoom_rest(&sim).await);
    let low = broker.band(samsung()).await.unwrap().limits.lower;
    let mut placed = Vec::new();
    for _ in 0..23 {
        placed.push(acked(
            broker
                .place(&order(Side::Buy, 1, OrderType::Limit(low)))
                .await,
        ));
    }
    let orders = broker.orders_of_day().await.unwrap();
    let listed: Vec<OrderNo> = orders.iter().map(|o| o.order_no).collect();
    placed.sort_unstable();
    assert_eq!(listed, placed, "every page (20 rows a page), oldest first");
    assert!(orders.iter().all(|o| o.remaining == Qty::lit(1)));
}

/// A universe of 3,000 made-up listings (and the real ones) arrives whole through
/// `KiwoomRest`, ka10099 paging by `cont-yn`/`next-key`: every code once, none lost at a
/// page's edge.
#[actix_rt::test]
async fn a_3000_listing_universe_arrives_whole_across_ka10099_pages() {
    use condor_actors::market::Market;
    use condor_model::kiwoom::market_data::{Ka10099, Ka10099Request};
    let mut cfg = kiwoom(0.001, false);
    cfg.exchange.synthetic_listings = 3_000;
    let sim = start(cfg);
    let rest = kiwoom_rest(&sim).await;
    let mut codes = Vec::new();
    for market in [Market::Kospi, Market::Kosdaq] {
        let pages = rest
            .call_all::<Ka10099>(&Ka10099Request::new(market))
            .await
            .expect("every page of ka10099");
        assert!(pages.len() >= 3, "{market:?}: {} pages", pages.len());
        assert!(pages.iter().all(|p| !p.list.is_empty()));
        codes.extend(
            pages
                .iter()
                .flat_map(|p| p.list.iter().map(|r| r.code.clone())),
        );
    }
    let made_up: std::collections::BTreeSet<&str> = codes
        .iter()
        .map(String::as_str)
        .filter(|c| c.starts_with("99"))
        .collect();
    assert_eq!(made_up.len(), 3_000);
    assert_eq!(
        (made_up.first().copied(), made_up.last().copied()),
        (Some("990000"), Some("992999"))
    );
    let unique: std::collections::HashSet<&String> = codes.iter().collect();
    assert_eq!(unique.len(), codes.len(), "no code twice");
    assert!(codes.len() > 3_000, "the real listings too");
}

/// A simulator posing as the other server than the key pair's: au10001 is refused 8030,
/// and the client's error says it is the real/paper mismatch, the host it called and
/// what to change, without the keys.
#[actix_rt::test]
async fn a_key_of_the_other_server_is_named_as_a_real_paper_mismatch() {
    let mut cfg = kiwoom(0.2, false);
    cfg.kiwoom_other_host = true;
    let sim = start(cfg);
    let e = KiwoomRest::connect(sim.rest_url(), sim.appkey(), sim.appsecret())
        .await
        .expect_err("the other server's key is refused");
    assert!(
        matches!(&e, KiwoomRestError::WrongServer { refusal, .. } if refusal.inner_code() == Some(8030)),
        "{e:?}"
    );
    let shown = e.to_string();
    for words in [
        "real/paper mismatch",
        "the app key belongs to the other server than",
        sim.rest_url().trim_end_matches('/'),
        "match the key pair and the host",
    ] {
        assert!(shown.contains(words), "{words:?} in {shown}");
    }
    for secret in [sim.appkey().expose(), sim.appsecret().expose()] {
        assert!(!shown.contains(secret) && !format!("{e:?}").contains(secret));
    }
}

#[actix_rt::test]
async fn a_short_lived_token_is_renewed_before_its_expires_dt() {
    let mut cfg = kiwoom(0.2, false);
    cfg.token_ttl = Duration::from_secs(3);
    let sim = start(cfg);
    let rest = kiwoom_rest(&sim).await;
    let broker = Broker::from(rest.clone());
    Poll::every(Duration::from_millis(200))
        .until("renewed twice", async || {
            if rest.tokens_issued() >= 3 {
                return true;
            }
            assert!(
                broker.band(samsung()).await.is_some(),
                "calls go on meanwhile"
            );
            false
        })
        .await;
    assert!(broker.cash().await.is_ok());
}

/// A scripted Kiwoom: grants a token (expiring in a day) on `/oauth2/token`, and drops
/// the connection of every other call after reading it. Counts the calls by `api-id`.
async fn dropping_gateway() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = calls.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                // Read the head and the body (every request here is small).
                loop {
                    let Ok(n) = conn.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    got.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&got);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if got.len() >= end + 4 + len {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&got).to_string();
                let api_id = text
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("api-id:")
                            .map(|v| v.trim().to_owned())
                    })
                    .unwrap_or_default();
                seen.lock().unwrap().push(api_id.clone());
                if text.starts_with("POST /oauth2/token") {
                    let expires = condor_model::kiwoom::token::KstDateTime::from_unix_ms(
                        condor_actors::clock::SystemClock.unix_ms() + 86_400_000,
                    );
                    let body = format!(
                        r#"{{"expires_dt":"{}","token_type":"bearer","token":"TOKEN","return_code":0,"return_msg":"정상적으로 처리되었습니다"}}"#,
                        expires.format()
                    );
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = conn.write_all(reply.as_bytes()).await;
                }
                // Anything else: dropped unanswered.
            });
        }
    });
    (base, calls)
}

#[actix_rt::test]
async fn an_order_whose_answer_is_lost_is_in_doubt_and_never_resent() {
    let (base, calls) = dropping_gateway().await;
    let key = condor_model::secret::Secret::new("KEY");
    let secret = condor_model::secret::Secret::new("SECRETKEY");
    let rest = KiwoomRest::connect(&base, &key, &secret).await.unwrap();
    let shown = format!("{rest:?}");
    assert!(
        !shown.contains("TOKEN") && !shown.contains("SECRETKEY"),
        "{shown}"
    );
    let broker = Broker::from(rest);
    let r = broker.place(&order(Side::Buy, 1, OrderType::Market)).await;
    let OrderReply::Lost { error } = &r else {
        panic!("a dropped answer leaves the order in doubt: {r:?}")
    };
    assert!(
        !error.contains("TOKEN") && !error.contains("SECRETKEY"),
        "{error}"
    );
    let r = broker.cancel(OrderNo(7), samsung(), Qty::lit(1)).await;
    assert!(matches!(r, CancelReply::Failed { .. }), "{r:?}");
    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls.iter().filter(|c| *c == "kt10000").count(),
        1,
        "sent once: {calls:?}"
    );
    assert_eq!(
        calls.iter().filter(|c| *c == "kt10003").count(),
        1,
        "{calls:?}"
    );
}
