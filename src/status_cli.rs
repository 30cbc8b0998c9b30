//! `condor status`: what a running condor is doing, in the terminal — read from its HTTP
//! server's `/status` (with the bearer token from `CONDOR_HTTP_TOKEN` when set), printed as
//! a summary or, with `--json`, as the document itself.
//!
//! Owns the request and the terminal layout. Must never print the token, and never change
//! anything in the running condor (it only reads).

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;

use crate::cli::StatusArgs;
use crate::http::status::{Leg, Status};

/// The `/status` URL for `addr` (`host:port` as in `CONDOR_HTTP_ADDR`, or an `http://` URL).
/// An unspecified address (`0.0.0.0`, `[::]`) means this machine.
pub fn status_url(addr: &str) -> anyhow::Result<String> {
    let addr = addr.trim();
    if addr.eq_ignore_ascii_case("off") {
        anyhow::bail!("CONDOR_HTTP_ADDR is off: that condor runs no HTTP server (give --addr the address of one that does)");
    }
    if let Some(rest) = addr.strip_prefix("http://") {
        return Ok(format!("http://{}/status", rest.trim_end_matches('/')));
    }
    if addr.starts_with("https://") {
        anyhow::bail!("condor's HTTP server speaks plain http; for https, ask the proxy in front of it with curl");
    }
    let host = addr.replace("localhost:", "127.0.0.1:");
    let mut sock: SocketAddr = host.parse().map_err(|_| {
        anyhow::anyhow!(
            "--addr {addr:?} is neither host:port (e.g. 127.0.0.1:8686) nor an http:// URL"
        )
    })?;
    if sock.ip().is_unspecified() {
        sock.set_ip(if sock.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    Ok(format!("http://{sock}/status"))
}

pub fn print_status(args: &StatusArgs) -> anyhow::Result<()> {
    let url = status_url(&args.addr)?;
    let token = args
        .token
        .as_ref()
        .filter(|t| !t.is_empty())
        .map(|t| t.expose().to_owned());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let body = rt.block_on(fetch(&url, token))?;
    if args.json {
        let v: serde_json::Value = serde_json::from_str(&body).context("the answer is not JSON")?;
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let s: Status = serde_json::from_str(&body)
            .context("the answer is not a condor status (a different version of condor?)")?;
        print!("{}", render(&s));
    }
    Ok(())
}

async fn fetch(url: &str, token: Option<String>) -> anyhow::Result<String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut req = http.get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.map_err(|e| {
        let why = if e.is_connect() {
            "nothing is listening there"
        } else if e.is_timeout() {
            "it did not answer within 10 s"
        } else {
            "the request failed"
        };
        anyhow::anyhow!(
            "cannot read {url}: {why}. Is `condor run` running, with its HTTP server at that address (CONDOR_HTTP_ADDR, or --addr)?"
        )
    })?;
    let code = r.status();
    let body = r.text().await.context("reading the answer")?;
    match code.as_u16() {
        200 => Ok(body),
        401 => anyhow::bail!(
            "{url} wants a bearer token: set CONDOR_HTTP_TOKEN (or --token) to the running condor's"
        ),
        403 => anyhow::bail!("{url} refused: {}", body.trim()),
        _ => anyhow::bail!("{url} answered HTTP {code}: {}", body.trim()),
    }
}

/// "12,345,678".
pub fn won(v: i64) -> String {
    let digits = v.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// "+12,345" / "-3,000" / "0".
fn signed(v: i64) -> String {
    if v > 0 {
        format!("+{}", won(v))
    } else {
        won(v)
    }
}

/// HH:MM:SS in KST (UTC+9, no daylight saving).
pub fn kst(unix_ms: i64) -> String {
    let s = (unix_ms.div_euclid(1000) + 9 * 3600).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Terminal columns `s` takes: Hangul and other wide characters take two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match u32::from(c) {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

/// A table: columns padded to their widest cell; numbers (`right[i]`) to the right.
fn table(out: &mut String, head: &[&str], right: &[bool], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = head.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(width(c));
        }
    }
    let line = |cells: Vec<&str>| {
        let mut l = String::from("  ");
        for (i, c) in cells.iter().enumerate() {
            let pad = " ".repeat(w[i] - width(c));
            if right[i] {
                l.push_str(&pad);
                l.push_str(c);
            } else {
                l.push_str(c);
                l.push_str(&pad);
            }
            l.push_str("  ");
        }
        l.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(head.to_vec()));
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
}

fn opt(v: Option<i64>) -> String {
    v.map_or_else(|| "-".to_owned(), won)
}

/// "452 µs", "16.4 ms", "1.20 s".
pub fn duration_us(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.1} ms", us / 1_000.0)
    } else {
        format!("{:.2} s", us / 1_000_000.0)
    }
}

fn leg(name: &str, l: &Leg) -> String {
    if l.count == 0 {
        format!("{name} -")
    } else {
        format!(
            "{name} p50 {}, p99 {} ({})",
            duration_us(l.p50_us),
            duration_us(l.p99_us),
            l.count
        )
    }
}

/// The summary `condor status` prints.
pub fn render(s: &Status) -> String {
    let mut o = String::new();
    let up = (s.at_unix_ms - s.started_unix_ms).max(0) / 1000;
    let _ = writeln!(
        o,
        "condor {} at {} KST: {}, condition {}, strategy {}; up {}h {:02}m",
        s.version,
        kst(s.at_unix_ms),
        s.broker,
        s.condition,
        s.strategy,
        up / 3600,
        up / 60 % 60
    );
    // An older condor's document has no market part.
    if !s.market.text.is_empty() {
        let _ = writeln!(o, "{}", s.market.text);
        if let Some(note) = &s.market.calendar_note {
            let _ = writeln!(o, "  ({note})");
        }
    }
    let _ = writeln!(
        o,
        "broker {} ({} reconnects, {} frames, {} malformed); kill switch {}",
        if s.connection.connected {
            "connected"
        } else {
            "DISCONNECTED"
        },
        s.connection.reconnects,
        s.connection.frames,
        s.connection.malformed,
        if s.kill_switch_on {
            "ON: no new entries"
        } else {
            "off"
        }
    );
    if s.disk.entries_stopped {
        let _ = writeln!(
            o,
            "DISK SPACE LOW: {} free in the data directory; no new entries (exits and cancels still go); reserve {}",
            condor_actors::retention::ByteSize(s.disk.free_bytes.unwrap_or(0)),
            if s.disk.reserve_bytes > 0 { "held" } else { "freed or none" }
        );
    }
    if let Some(a) = &s.account {
        let _ = writeln!(
            o,
            "account: equity {} won, cash {}, realized {}, unrealized {}, fees {}",
            won(a.equity),
            won(a.cash),
            signed(a.realized_pnl),
            signed(a.unrealized_pnl),
            won(a.fees)
        );
    }
    // With several conditions, each one's part of the day (they add up to the account).
    if s.conditions.len() > 1 {
        for c in &s.conditions {
            let _ = writeln!(
                o,
                "condition #{} {} ({}): {} held, {} fills, P&L {} (realized {}, unrealized {}, fees {})",
                c.number,
                c.name,
                c.strategy,
                c.positions,
                c.fills,
                signed(c.pnl),
                signed(c.realized_pnl),
                signed(c.unrealized_pnl),
                won(c.fees)
            );
        }
    }
    if !s.unavailable.is_empty() {
        let _ = writeln!(o, "did not answer in time: {}", s.unavailable.join(", "));
    }

    let _ = writeln!(o, "\nlive feeds ({})", s.feeds.len());
    let rows: Vec<Vec<String>> = s
        .feeds
        .iter()
        .map(|f| {
            vec![
                f.ticker.clone(),
                f.name.clone(),
                kst(f.since_unix_ms),
                opt(f.last_price),
                f.last_trade_time.clone().unwrap_or_else(|| "-".into()),
                f.ticks.to_string(),
            ]
        })
        .collect();
    table(
        &mut o,
        &["ticker", "name", "since", "last", "at", "ticks"],
        &[false, false, false, true, false, true],
        &rows,
    );

    let held: Vec<_> = s.positions.iter().filter(|p| p.qty > 0).collect();
    let _ = writeln!(o, "\npositions ({} held)", held.len());
    let rows: Vec<Vec<String>> = s
        .positions
        .iter()
        .map(|p| {
            vec![
                p.ticker.clone(),
                p.name.clone(),
                p.qty.to_string(),
                opt(p.avg_price),
                opt(p.last_price),
                signed(p.unrealized_pnl),
                signed(p.realized_pnl),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            "ticker",
            "name",
            "qty",
            "avg",
            "last",
            "unrealized",
            "realized",
        ],
        &[false, false, true, true, true, true, true],
        &rows,
    );

    let working = s.orders.iter().filter(|r| r.working).count();
    let _ = writeln!(
        o,
        "\norders ({working} working, {} recent shown)",
        s.orders.len() - working
    );
    let rows: Vec<Vec<String>> = s
        .orders
        .iter()
        .map(|r| {
            vec![
                r.id.clone(),
                kst(r.placed_unix_ms),
                r.ticker.clone(),
                r.name.clone(),
                r.side.clone(),
                format!("{}/{}", r.filled, r.qty),
                r.limit_price.map_or_else(|| "market".into(), won),
                opt(r.avg_fill_price),
                r.state.clone(),
                r.reject.clone().unwrap_or_else(|| r.reason.clone()),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            "id", "placed", "ticker", "name", "side", "filled", "price", "avg", "state", "why",
        ],
        &[
            false, false, false, false, false, true, true, true, false, false,
        ],
        &rows,
    );

    let _ = writeln!(o, "\nrecent fills ({})", s.fills.len());
    let rows: Vec<Vec<String>> = s
        .fills
        .iter()
        .map(|f| {
            vec![
                f.time.clone(),
                f.ticker.clone(),
                f.name.clone(),
                f.side.clone(),
                f.qty.to_string(),
                won(f.price),
                f.position_after.to_string(),
                signed(f.realized_pnl),
            ]
        })
        .collect();
    table(
        &mut o,
        &[
            "time", "ticker", "name", "side", "qty", "price", "holding", "realized",
        ],
        &[false, false, false, false, true, true, true, true],
        &rows,
    );

    let l = &s.latency;
    let _ = writeln!(
        o,
        "\nlatency: {}; {}; {}",
        leg("tick->intent", &l.tick_to_intent),
        leg("intent->ack", &l.intent_to_ack),
        leg("ack->fill", &l.ack_to_fill)
    );
    let c = &s.counters;
    let _ = writeln!(
        o,
        "ticks {} received, {} processed; intents {}; feeds {} spawned, {} stopped, {} refused over the cap",
        c.ticks_received, c.ticks_processed, c.intents, c.feeds_spawned, c.feeds_stopped, c.feeds_refused_over_cap
    );
    let _ = writeln!(
        o,
        "orders {} ({} working, {} filled, {} cancelled, {} rejected), {} refused by risk, {} fills; {} journal appends",
        c.orders, c.working, c.filled, c.cancelled, c.rejected, c.refused_by_risk, c.fills, c.journal_appends
    );
    // In the order ticks travel.
    let lag: Vec<String> = condor_actors::telemetry::LINKS
        .iter()
        .filter_map(|link| {
            let n = s.mailbox_lag.get(*link)?;
            Some(format!("{} {n}", link.replace('_', " ")))
        })
        .collect();
    let _ = writeln!(o, "mailbox lag: {}", lag.join(", "));
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::status::{Feed, FillRow};

    #[test]
    fn addresses_become_status_urls() {
        assert_eq!(
            status_url("127.0.0.1:8686").unwrap(),
            "http://127.0.0.1:8686/status"
        );
        assert_eq!(
            status_url("0.0.0.0:9000").unwrap(),
            "http://127.0.0.1:9000/status"
        );
        assert_eq!(status_url("[::]:9000").unwrap(), "http://[::1]:9000/status");
        assert_eq!(
            status_url("localhost:1").unwrap(),
            "http://127.0.0.1:1/status"
        );
        assert_eq!(
            status_url("http://box.lan:8686/").unwrap(),
            "http://box.lan:8686/status"
        );
        assert!(status_url("off").unwrap_err().to_string().contains("off"));
        assert!(status_url("nonsense").is_err());
    }

    #[test]
    fn money_and_times_read_like_a_trader_expects() {
        assert_eq!(won(0), "0");
        assert_eq!(won(999), "999");
        assert_eq!(won(1_000), "1,000");
        assert_eq!(won(-1_234_567), "-1,234,567");
        assert_eq!(signed(5_000), "+5,000");
        assert_eq!(duration_us(452.1), "452 µs");
        assert_eq!(duration_us(16_399.0), "16.4 ms");
        assert_eq!(duration_us(1_200_000.0), "1.20 s");
        // 2024-01-02 00:00:00 UTC is 09:00:00 KST.
        assert_eq!(kst(1_704_153_600_000), "09:00:00");
        assert_eq!(width("005930"), 6);
        assert_eq!(width("삼성전자"), 8);
    }

    #[test]
    fn several_conditions_each_get_a_line_one_gets_none() {
        let row = |number, name: &str, pnl| crate::http::status::ConditionRow {
            number,
            name: name.into(),
            strategy: "momentum".into(),
            positions: 1,
            fills: 3,
            realized_pnl: pnl,
            pnl,
            ..Default::default()
        };
        let mut s = Status {
            conditions: vec![row(1, "급등 모멘텀", 5_000)],
            ..Status::default()
        };
        assert!(!render(&s).contains("condition #1"));
        s.conditions.push(row(2, "0001", -1_500));
        let text = render(&s);
        assert!(
            text.contains("condition #1 급등 모멘텀 (momentum): 1 held, 3 fills, P&L +5,000"),
            "{text}"
        );
        assert!(
            text.contains("condition #2 0001 (momentum): 1 held, 3 fills, P&L -1,500"),
            "{text}"
        );
    }

    #[test]
    fn the_market_line_follows_the_first_one() {
        let mut s = Status {
            market: crate::http::status::Market {
                text: "market closed (weekend), next session Mon 2026-01-05 09:00 KST".into(),
                ..Default::default()
            },
            ..Status::default()
        };
        let text = render(&s);
        assert_eq!(
            text.lines().nth(1),
            Some("market closed (weekend), next session Mon 2026-01-05 09:00 KST"),
            "{text}"
        );
        s.market.calendar_note = Some("KRX's holidays for 2027 are not in condor's table".into());
        assert!(render(&s).contains("\n  (KRX's holidays for 2027 are not in condor's table)\n"));
        // A document without it (an older condor) prints no empty line.
        let old = render(&Status::default());
        assert!(
            old.lines().nth(1).is_some_and(|l| l.starts_with("broker ")),
            "{old}"
        );
    }

    #[test]
    fn the_summary_lines_up_korean_names() {
        let s = Status {
            feeds: vec![
                Feed {
                    ticker: "005930".into(),
                    name: "삼성전자".into(),
                    last_price: Some(55_400),
                    ticks: 12,
                    ..Feed::default()
                },
                Feed {
                    ticker: "247540".into(),
                    name: "에코프로비엠".into(),
                    ticks: 3,
                    ..Feed::default()
                },
            ],
            fills: vec![FillRow {
                time: "09:01:02".into(),
                ticker: "005930".into(),
                name: "삼성전자".into(),
                side: "buy".into(),
                qty: 18,
                price: 55_400,
                ..FillRow::default()
            }],
            ..Status::default()
        };
        let text = render(&s);
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("005930") || l.contains("247540"))
            .collect();
        assert_eq!(rows.len(), 3, "{text}");
        // The ticks column ends in the same terminal column on both feed rows.
        assert_eq!(width(rows[0]), width(rows[1]), "{text}");
        assert!(
            text.contains("55,400") && text.contains("live feeds (2)"),
            "{text}"
        );
    }
}
