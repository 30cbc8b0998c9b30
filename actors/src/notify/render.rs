//! Notices in words: a rich embed for each (when a message has room), a one-line text for
//! each (when a burst is coalesced, and for the log), and the figures formatted as a
//! Korean trader reads them: won with thousands separators, P&L signed, times in KST.

use std::time::Duration;

use crate::clock::{kst_time_of_day, TradingDay};
use crate::market::{Side, Ticker};
use crate::messages::{DiskAlert, FillAlert, LatencyUs, OrderType, RejectCause};
use crate::notify::discord::{truncate, Embed, Field, Image};
use crate::notify::summary::DailySummary;
use crate::notify::{Names, Notice, Queued};
use crate::refusal_digest::thousands;
use crate::retention::ByteSize;

/// The chart's file name in the multipart request and in the embed.
pub const CHART_FILE: &str = "equity.png";

/// A coalesced line never takes more than this, whatever a broker message says.
pub const LINE_MAX: usize = 400;

/// Korean convention: buying in red, selling in blue.
pub const COLOR_BUY: u32 = 0xE7_4C_3C;
pub const COLOR_SELL: u32 = 0x34_98_DB;
pub const COLOR_REJECT: u32 = 0xE6_7E_22;
pub const COLOR_KILL: u32 = 0x99_2D_22;
pub const COLOR_LINK_DOWN: u32 = 0xF1_C4_0F;
pub const COLOR_OK: u32 = 0x2E_CC_71;
pub const COLOR_STOPPED: u32 = 0x95_A5_A6;
pub const COLOR_SUMMARY: u32 = 0x9B_59_B6;
pub const COLOR_DIGEST: u32 = 0x58_65_F2;

/// `1234567` → `1,234,567`.
pub fn won(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// P&L with its sign: `+1,200`, `-300`, `0`.
pub fn signed_won(n: i64) -> String {
    if n > 0 {
        format!("+{}", won(n))
    } else {
        won(n)
    }
}

/// Basis points as a percentage with two decimals: `2500` → `25.00%`.
pub fn percent(bp: i64) -> String {
    let sign = if bp < 0 { "-" } else { "" };
    let a = bp.unsigned_abs();
    format!("{sign}{}.{:02}%", a / 100, a % 100)
}

/// `3725` s → `1h 02m 05s`; under a minute, `42 s`.
pub fn span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s} s"),
        60..=3599 => format!("{}m {:02}s", s / 60, s % 60),
        _ => format!("{}h {:02}m {:02}s", s / 3600, s / 60 % 60, s % 60),
    }
}

/// ISO 8601 in KST, as Discord's `timestamp` takes it: `2026-01-05T09:30:00+09:00`.
pub fn kst_iso(unix_ms: i64) -> String {
    let day = TradingDay::from_unix_ms(unix_ms);
    let t = kst_time_of_day(Duration::from_millis(unix_ms.max(0) as u64));
    format!("{day}T{t}+09:00")
}

/// `09:30:00` (KST).
pub fn kst_hms(unix_ms: i64) -> String {
    kst_time_of_day(Duration::from_millis(unix_ms.max(0) as u64)).to_string()
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

/// "005930 삼성전자", or the code alone when the name is not known.
pub fn stock(ticker: Ticker, names: &Names) -> String {
    match names.get(&ticker) {
        Some(n) if !n.trim().is_empty() => format!("{ticker} {}", n.trim()),
        _ => ticker.to_string(),
    }
}

fn order_type(t: OrderType) -> String {
    match t {
        OrderType::Market => "at market".to_owned(),
        OrderType::Limit(p) => format!("limit {}", won(p.won())),
    }
}

fn cause_text(c: &RejectCause) -> String {
    match c {
        RejectCause::Broker { code, message } => format!("broker [{code}] {}", message.trim()),
        RejectCause::Risk { rule, detail } => format!("risk rule {rule}: {detail}"),
    }
}

fn latency(l: &LatencyUs) -> String {
    if l.count == 0 {
        return "-".to_owned();
    }
    format!(
        "p50 {} µs · p99 {} µs ({} orders)",
        won(l.p50 as i64),
        won(l.p99 as i64),
        l.count
    )
}

fn position_text(f: &FillAlert) -> String {
    match f.avg_price {
        Some(avg) if f.position_after.shares() > 0 => {
            format!("{} sh, avg {}", f.position_after, won(avg.won()))
        }
        _ => "flat".to_owned(),
    }
}

/// The headline of an urgent notice, for the message's `content`.
pub fn headline(n: &Notice) -> Option<String> {
    match n {
        Notice::KillSwitch(_) => Some("🚨 condor: KILL SWITCH ON".to_owned()),
        Notice::LinkDown { down_for } => Some(format!(
            "⚠️ condor: broker link down for {}",
            span(*down_for)
        )),
        Notice::Disk(DiskAlert::Low { .. }) => {
            Some("⚠️ condor: disk space low, no new entries".to_owned())
        }
        Notice::Disk(DiskAlert::ReserveFreed { .. }) => {
            Some("🚨 condor: disk full, reserve freed for the journal".to_owned())
        }
        _ => None,
    }
}

/// One line: what happened, when, with the numbers.
pub fn line(q: &Queued, names: &Names) -> String {
    let at = kst_hms(q.at_unix_ms);
    let text = match &q.notice {
        Notice::Fill(f) => format!(
            "{} {} {} {} @ {} → {} · realized {} · #{}",
            f.time,
            side_word(f.side),
            f.qty,
            stock(f.ticker, names),
            won(f.price.won()),
            position_text(f),
            signed_won(f.realized_pnl),
            f.order_no
        ),
        Notice::Reject(r) => format!(
            "{at} REJECTED {} {} {} ({}, {}): {}",
            side_word(r.side),
            r.qty,
            stock(r.ticker, names),
            order_type(r.order_type),
            r.reason,
            cause_text(&r.cause)
        ),
        Notice::KillSwitch(c) => format!("{at} KILL SWITCH ON: {c}"),
        Notice::LinkDown { down_for } => {
            format!("{at} broker link down for {} and still reconnecting", span(*down_for))
        }
        Notice::LinkRestored { down_for } => {
            format!("{at} broker link restored after {}", span(*down_for))
        }
        Notice::Started(s) => format!(
            "{at} condor started: condition {}, strategy {}, opening cash {} won, {}{}",
            s.condition,
            s.strategy,
            won(s.opening_cash),
            s.broker,
            if s.kill_switch_on { ", KILL SWITCH ON" } else { "" }
        ),
        Notice::Stopped(s) => format!(
            "{at} condor stopped after {}: {} orders, {} fills, realized {} won, unrealized {} won, {} position(s) open, {} order(s) working",
            span(Duration::from_secs(s.ran_for_secs)),
            s.orders,
            s.fills,
            signed_won(s.realized_pnl),
            signed_won(s.unrealized_pnl),
            s.open_positions,
            s.working
        ),
        Notice::Summary(s, _) => summary_line(s),
        Notice::Disk(d) => format!("{at} {}", disk_text(d)),
        Notice::Refusals(r) => format!("{at} {}", refusals_text(r)),
    };
    truncate(&text, LINE_MAX)
}

fn summary_line(s: &DailySummary) -> String {
    format!(
        "Daily summary {}: {} orders, {} fills, win rate {} ({}/{}), realized {} won, fees and tax {} won, net {} won, max drawdown {} won ({}), intent→ack {}",
        s.day,
        s.orders,
        s.fills,
        s.win_rate_bp().map_or_else(|| "-".to_owned(), |bp| percent(bp as i64)),
        s.wins,
        s.round_trips,
        signed_won(s.realized_pnl),
        won(s.fees),
        signed_won(s.net_pnl()),
        won(s.max_drawdown.won),
        percent(s.max_drawdown.bp),
        latency(&s.intent_to_ack)
    )
}

/// A disk notice in words.
pub fn disk_text(d: &DiskAlert) -> String {
    match *d {
        DiskAlert::Low { free_bytes, low } => format!(
            "disk space low: {} free in the data directory, under {} (CONDOR_DISK_LOW): no new entries; exits and cancels still go",
            ByteSize(free_bytes),
            ByteSize(low)
        ),
        DiskAlert::Back {
            free_bytes,
            resume_at,
        } => format!(
            "disk space back: {} free (entries resume at {}): new entries allowed again",
            ByteSize(free_bytes),
            ByteSize(resume_at)
        ),
        DiskAlert::ReserveFreed { bytes } => format!(
            "disk full: the journal's reserve ({}) was freed so that exits, cancels and the shutdown are still journaled; free space now, then restart condor",
            ByteSize(bytes)
        ),
    }
}

/// Refusals counted over a window, in words: `journal: 3,815 intents refused in the last
/// minute (last: …)`.
pub fn refusals_text(r: &crate::messages::RefusalCount) -> String {
    let over = if r.over_secs <= 60 {
        "the last minute".to_owned()
    } else {
        format!("the last {}", span(Duration::from_secs(r.over_secs)))
    };
    format!(
        "{}: {} more intent(s) refused in {over} (last: {})",
        r.rule,
        thousands(r.count),
        r.last_detail
    )
}

/// The rich form: one embed, within Discord's limits.
pub fn embed(q: &Queued, names: &Names) -> Embed {
    let mut e = Embed {
        timestamp: Some(kst_iso(q.at_unix_ms)),
        ..Embed::default()
    };
    match &q.notice {
        Notice::Fill(f) => {
            e.title = format!(
                "{} {} {} @ {}",
                side_word(f.side),
                f.qty,
                stock(f.ticker, names),
                won(f.price.won())
            );
            e.color = match f.side {
                Side::Buy => COLOR_BUY,
                Side::Sell => COLOR_SELL,
            };
            e.fields = vec![
                Field::new("Qty", &format!("{} sh", f.qty), true),
                Field::new("Price", &format!("{} won", won(f.price.won())), true),
                Field::new("Position after", &position_text(f), true),
                Field::new(
                    "Realized",
                    &match f.side {
                        Side::Buy => "-".to_owned(),
                        Side::Sell => format!("{} won", signed_won(f.realized_pnl)),
                    },
                    true,
                ),
                Field::new(
                    "Ticker today",
                    &format!("{} won", signed_won(f.ticker_realized_pnl)),
                    true,
                ),
                Field::new("Order", &format!("#{} at {}", f.order_no, f.time), true),
            ];
            if f.fee > 0 {
                e.fields.push(Field::new(
                    "Fees and tax",
                    &format!("{} won", won(f.fee)),
                    true,
                ));
            }
        }
        Notice::Reject(r) => {
            e.title = format!(
                "REJECTED {} {} {}",
                side_word(r.side),
                r.qty,
                stock(r.ticker, names)
            );
            e.color = COLOR_REJECT;
            e.description = Some(cause_text(&r.cause));
            let who = match &r.cause {
                RejectCause::Broker { code, .. } => Field::new("Broker code", code, true),
                RejectCause::Risk { rule, .. } => Field::new("Risk rule", rule, true),
            };
            e.fields = vec![
                who,
                Field::new(
                    "Order",
                    &format!(
                        "{}{}",
                        r.id.map_or_else(String::new, |id| format!("{id} ")),
                        order_type(r.order_type)
                    ),
                    true,
                ),
                Field::new("Why it was sent", &r.reason, true),
            ];
        }
        Notice::Disk(d) => {
            let (title, color) = match d {
                DiskAlert::Low { .. } => ("Disk space low: no new entries", COLOR_LINK_DOWN),
                DiskAlert::Back { .. } => ("Disk space back: entries resume", COLOR_OK),
                DiskAlert::ReserveFreed { .. } => ("Disk full: reserve freed", COLOR_KILL),
            };
            e.title = title.to_owned();
            e.color = color;
            e.description = Some(disk_text(d));
        }
        Notice::Refusals(r) => {
            e.title = format!("{} intents refused by {}", thousands(r.count), r.rule);
            e.color = COLOR_REJECT;
            e.description = Some(refusals_text(r));
        }
        Notice::KillSwitch(c) => {
            e.title = "KILL SWITCH ON".to_owned();
            e.color = COLOR_KILL;
            e.description = Some(format!(
                "{c}.\nWorking orders are being cancelled; no new entries until the next trading day or `condor kill-switch reset`."
            ));
        }
        Notice::LinkDown { down_for } => {
            e.title = format!("Broker link down for {}", span(*down_for));
            e.color = COLOR_LINK_DOWN;
            e.description = Some(
                "The websocket to the broker dropped and is not back yet; condor keeps reconnecting. No ticks or order events arrive meanwhile; fills of the gap are reconciled once it is back."
                    .to_owned(),
            );
        }
        Notice::LinkRestored { down_for } => {
            e.title = format!("Broker link restored after {}", span(*down_for));
            e.color = COLOR_OK;
            e.description = Some(
                "Every feed is registered again and today's orders are reconciled with the broker."
                    .to_owned(),
            );
        }
        Notice::Started(s) => {
            e.title = "condor started".to_owned();
            e.color = if s.kill_switch_on {
                COLOR_KILL
            } else {
                COLOR_OK
            };
            e.fields = vec![
                Field::new("Broker", &s.broker, true),
                Field::new("Condition", &s.condition, true),
                Field::new("Strategy", &s.strategy, true),
                Field::new(
                    "Opening cash",
                    &format!("{} won", won(s.opening_cash)),
                    true,
                ),
                Field::new(
                    "Kill switch",
                    if s.kill_switch_on {
                        "ON: no new entries today"
                    } else {
                        "off"
                    },
                    true,
                ),
            ];
        }
        Notice::Stopped(s) => {
            e.title = "condor stopped".to_owned();
            e.color = COLOR_STOPPED;
            e.fields = vec![
                Field::new("Ran for", &span(Duration::from_secs(s.ran_for_secs)), true),
                Field::new("Orders", &s.orders.to_string(), true),
                Field::new("Fills", &s.fills.to_string(), true),
                Field::new(
                    "Realized",
                    &format!("{} won", signed_won(s.realized_pnl)),
                    true,
                ),
                Field::new(
                    "Unrealized",
                    &format!("{} won", signed_won(s.unrealized_pnl)),
                    true,
                ),
                Field::new(
                    "Left open",
                    &format!(
                        "{} position(s), {} working order(s)",
                        s.open_positions, s.working
                    ),
                    true,
                ),
            ];
        }
        Notice::Summary(s, chart) => {
            e = summary_embed(s, chart.is_some());
            e.timestamp = Some(kst_iso(q.at_unix_ms));
        }
    }
    e.clamped()
}

fn summary_embed(s: &DailySummary, with_chart: bool) -> Embed {
    let equity = match (s.opening_equity, s.closing_equity) {
        (Some(a), Some(b)) => format!("{} → {} won", won(a), won(b)),
        (None, Some(b)) => format!("{} won", won(b)),
        _ => "-".to_owned(),
    };
    Embed {
        title: format!("Daily summary {}", s.day),
        description: Some(format!("Net P&L {} won", signed_won(s.net_pnl()))),
        color: COLOR_SUMMARY,
        fields: vec![
            Field::new(
                "Orders",
                &format!(
                    "{} sent: {} filled, {} cancelled, {} rejected; {} refused by risk",
                    s.orders, s.filled, s.cancelled, s.rejected, s.refused_by_risk
                ),
                false,
            ),
            Field::new("Fills", &s.fills.to_string(), true),
            Field::new(
                "Win rate",
                &match s.win_rate_bp() {
                    Some(bp) => format!(
                        "{} ({} of {} round trips)",
                        percent(bp as i64),
                        s.wins,
                        s.round_trips
                    ),
                    None => "- (no round trip closed)".to_owned(),
                },
                true,
            ),
            Field::new(
                "Realized P&L",
                &format!("{} won", signed_won(s.realized_pnl)),
                true,
            ),
            Field::new("Fees and tax", &format!("{} won", won(s.fees)), true),
            Field::new(
                "Unrealized",
                &format!("{} won", signed_won(s.unrealized_pnl)),
                true,
            ),
            Field::new(
                "Max drawdown",
                &format!(
                    "{} won ({})",
                    won(s.max_drawdown.won),
                    percent(s.max_drawdown.bp)
                ),
                true,
            ),
            Field::new("Equity", &equity, false),
            Field::new("Intent → ack", &latency(&s.intent_to_ack), false),
            Field::new("Ack → fill", &latency(&s.ack_to_fill), false),
        ]
        .into_iter()
        .chain((s.conditions.len() > 1).then(|| {
            let lines: Vec<String> = s
                .conditions
                .iter()
                .map(|(label, c)| {
                    format!(
                        "{label}: {} won ({} fills, {} held)",
                        signed_won(c.pnl),
                        c.fills,
                        c.positions
                    )
                })
                .collect();
            Field::new("By condition", &lines.join("\n"), false)
        }))
        .collect(),
        image: with_chart.then(|| Image {
            url: format!("attachment://{CHART_FILE}"),
        }),
        ..Embed::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TradingDay;
    use crate::condition_books::ConditionSummary;
    use crate::domain::OrderNo;
    use crate::kill_switch::TripCause;
    use crate::market::{Price, Qty, TimeOfDay};
    use crate::messages::{ClientOrderId, RejectAlert};
    use crate::notify::summary::{summarize, DayBook, Drawdown};

    /// 2026-01-05 09:30:00 KST.
    const AT: i64 = 1_767_573_000_000;

    fn names() -> Names {
        [(Ticker::parse("005930").unwrap(), "삼성전자".to_owned())].into()
    }

    fn sell() -> FillAlert {
        FillAlert {
            ticker: Ticker::parse("005930").unwrap(),
            side: Side::Sell,
            qty: Qty::lit(10),
            price: Price::lit(55_500),
            order_no: OrderNo(12_345),
            time: TimeOfDay::hms(9, 31, 2),
            fee: 0,
            position_after: Qty::lit(5),
            avg_price: Some(Price::lit(55_000)),
            realized_pnl: 5_000,
            ticker_realized_pnl: 7_500,
            equity: Some(100_005_000),
        }
    }

    #[test]
    fn money_reads_like_money() {
        assert_eq!(won(0), "0");
        assert_eq!(won(999), "999");
        assert_eq!(won(1_000), "1,000");
        assert_eq!(won(-1_234_567), "-1,234,567");
        assert_eq!(won(i64::MIN), "-9,223,372,036,854,775,808");
        assert_eq!(signed_won(1_200), "+1,200");
        assert_eq!(signed_won(-300), "-300");
        assert_eq!(percent(2_500), "25.00%");
        assert_eq!(percent(-7), "-0.07%");
        assert_eq!(span(Duration::from_secs(42)), "42 s");
        assert_eq!(span(Duration::from_secs(3_725)), "1h 02m 05s");
    }

    #[test]
    fn times_are_kst() {
        assert_eq!(kst_iso(AT), "2026-01-05T09:30:00+09:00");
        assert_eq!(kst_hms(AT), "09:30:00");
        assert_eq!(TradingDay::from_unix_ms(AT).to_string(), "2026-01-05");
    }

    #[test]
    fn a_fill_says_what_the_trader_needs() {
        let q = Queued {
            at_unix_ms: AT,
            notice: Notice::Fill(sell()),
        };
        let e = embed(&q, &names());
        assert_eq!(e.title, "SELL 10 005930 삼성전자 @ 55,500");
        assert_eq!(e.color, COLOR_SELL);
        let field = |n: &str| e.fields.iter().find(|f| f.name == n).unwrap().value.clone();
        assert_eq!(field("Position after"), "5 sh, avg 55,000");
        assert_eq!(field("Realized"), "+5,000 won");
        assert_eq!(field("Order"), "#12345 at 09:31:02");
        assert_eq!(e.timestamp.as_deref(), Some("2026-01-05T09:30:00+09:00"));
        assert_eq!(
            line(&q, &names()),
            "09:31:02 SELL 10 005930 삼성전자 @ 55,500 → 5 sh, avg 55,000 · realized +5,000 · #12345"
        );
        // Unknown name: the code alone.
        assert!(line(&q, &Names::new()).contains("SELL 10 005930 @"));
    }

    #[test]
    fn a_reject_names_its_cause() {
        let r = RejectAlert {
            id: Some(ClientOrderId(7)),
            ticker: Ticker::parse("005930").unwrap(),
            side: Side::Buy,
            qty: Qty::lit(3),
            order_type: OrderType::Limit(Price::lit(40_000)),
            reason: "entry: momentum".into(),
            cause: RejectCause::Broker {
                code: "03181".into(),
                message: "주문가격이 하한가 미달입니다. ".into(),
            },
        };
        let q = Queued {
            at_unix_ms: AT,
            notice: Notice::Reject(r.clone()),
        };
        let e = embed(&q, &names());
        assert_eq!(e.title, "REJECTED BUY 3 005930 삼성전자");
        assert_eq!(
            e.description.as_deref(),
            Some("broker [03181] 주문가격이 하한가 미달입니다.")
        );
        assert_eq!(e.fields[1].value, "C7 limit 40,000");
        let risk = Queued {
            at_unix_ms: AT,
            notice: Notice::Reject(RejectAlert {
                id: None,
                cause: RejectCause::Risk {
                    rule: "max_order_notional".into(),
                    detail: "buy of 12,000,000 won over the limit of 10,000,000".into(),
                },
                ..r
            }),
        };
        assert!(line(&risk, &names()).ends_with(
            "(limit 40,000, entry: momentum): risk rule max_order_notional: buy of 12,000,000 won over the limit of 10,000,000"
        ));
    }

    #[test]
    fn urgent_notices_have_a_headline() {
        let k = Notice::KillSwitch(TripCause::LossLimit {
            pnl: -1_000_000,
            limit: 1_000_000,
        });
        assert!(headline(&k).unwrap().contains("KILL SWITCH"));
        let d = Notice::LinkDown {
            down_for: Duration::from_secs(12),
        };
        assert_eq!(
            headline(&d).as_deref(),
            Some("⚠️ condor: broker link down for 12 s")
        );
        assert_eq!(headline(&Notice::Fill(sell())), None);
    }

    #[test]
    fn the_summary_embed_shows_the_day_and_points_at_its_chart() {
        let s = DailySummary {
            day: TradingDay::new(2026, 1, 5).unwrap(),
            orders: 12,
            filled: 9,
            cancelled: 1,
            rejected: 2,
            refused_by_risk: 3,
            fills: 14,
            round_trips: 5,
            wins: 3,
            realized_pnl: 45_000,
            unrealized_pnl: 0,
            fees: 1_234,
            opening_equity: Some(100_000_000),
            closing_equity: Some(100_043_766),
            max_drawdown: Drawdown { won: 23_000, bp: 2 },
            intent_to_ack: LatencyUs {
                count: 12,
                p50: 1_500,
                p99: 12_000,
                max: 20_000,
            },
            ack_to_fill: LatencyUs::default(),
            curve: Vec::new(),
            conditions: Vec::new(),
        };
        let q = Queued {
            at_unix_ms: AT,
            notice: Notice::Summary(Box::new(s), Some(vec![1, 2, 3])),
        };
        let e = embed(&q, &Names::new());
        let field = |n: &str| e.fields.iter().find(|f| f.name == n).unwrap().value.clone();
        assert_eq!(e.title, "Daily summary 2026-01-05");
        assert_eq!(e.description.as_deref(), Some("Net P&L +43,766 won"));
        assert_eq!(field("Win rate"), "60.00% (3 of 5 round trips)");
        assert_eq!(field("Max drawdown"), "23,000 won (0.02%)");
        assert_eq!(field("Fees and tax"), "1,234 won");
        assert_eq!(
            field("Intent → ack"),
            "p50 1,500 µs · p99 12,000 µs (12 orders)"
        );
        assert_eq!(field("Ack → fill"), "-");
        assert_eq!(
            e.image.as_ref().map(|i| i.url.as_str()),
            Some("attachment://equity.png")
        );
        assert!(e.fields.iter().all(|f| f.name != "By condition"));
    }

    #[test]
    fn with_several_conditions_the_summary_has_each_ones_line() {
        let part = |pnl, fills| ConditionSummary {
            pnl,
            fills,
            positions: 1,
            ..ConditionSummary::default()
        };
        let s = DailySummary {
            conditions: vec![
                ("#1 급등 모멘텀".to_owned(), part(12_000, 4)),
                ("#2 0001".to_owned(), part(-3_500, 2)),
            ],
            ..summarize(
                &DayBook::new(TradingDay::new(2026, 1, 5).unwrap()),
                None,
                None,
            )
        };
        let q = Queued {
            at_unix_ms: AT,
            notice: Notice::Summary(Box::new(s), None),
        };
        let e = embed(&q, &Names::new());
        let f = e.fields.iter().find(|f| f.name == "By condition").unwrap();
        assert_eq!(
            f.value,
            "#1 급등 모멘텀: +12,000 won (4 fills, 1 held)\n#2 0001: -3,500 won (2 fills, 1 held)"
        );
    }
}
