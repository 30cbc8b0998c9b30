//! `condor backtest --report FILE.html`: one self-contained page (no script, no network:
//! the charts are PNGs drawn in Rust and inlined as data URIs) with the summary, the
//! equity curve, the drawdown, the daily P&L, the per-ticker table and every fill.

use base64::Engine as _;
use condor_actors::backtest::charts::daily_pnl_png;
use condor_actors::backtest::Outcome;
use condor_actors::notify::chart::equity_png;
use condor_actors::notify::render::{signed_won, won};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn img(png: Result<Vec<u8>, impl std::fmt::Display>, alt: &str) -> String {
    match png {
        Ok(bytes) => format!(
            "<img alt=\"{alt}\" src=\"data:image/png;base64,{}\">",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ),
        Err(e) => format!("<p class=\"none\">{alt}: {}</p>", esc(&e.to_string())),
    }
}

/// The page for `out`, titled with `label`.
pub fn html(out: &Outcome, label: &str) -> String {
    let r = &out.report;
    let points = crate::backtest_cli::curve_ms(&out.curve);
    let mut peak = i64::MIN;
    let drawdown: Vec<(i64, i64)> = points
        .iter()
        .map(|&(t, e)| {
            peak = peak.max(e);
            (t, e - peak)
        })
        .collect();
    let daily: Vec<(String, i64)> = r
        .per_day
        .iter()
        .map(|(d, l)| (d.clone(), l.net_pnl))
        .collect();
    let mut page = String::with_capacity(64 * 1024);
    page.push_str(&format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>condor backtest: {title}</title>\n\
<style>body{{font-family:sans-serif;margin:2em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
td,th{{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:right}}th{{background:#f4f4f4}}\
td.l,th.l{{text-align:left}}.up{{color:#d62d2d}}.down{{color:#1e5ed6}}img{{display:block;margin:1em 0}}</style>\n\
</head><body>\n<h1>condor backtest</h1>\n<p id=\"label\">{title}</p>\n",
        title = esc(label)
    ));
    let cls = |n: i64| if n >= 0 { "up" } else { "down" };
    page.push_str("<table id=\"summary\">\n");
    for (name, value, c) in [
        ("net P&L", signed_won(r.net_pnl), cls(r.net_pnl)),
        ("opening cash", won(r.opening_cash), ""),
        ("closing equity", won(r.closing_equity), ""),
        ("realized", signed_won(r.realized_pnl), cls(r.realized_pnl)),
        ("commission", won(r.commission), ""),
        ("tax", won(r.tax), ""),
        ("orders", r.orders.to_string(), ""),
        ("fills", r.fills.to_string(), ""),
        ("round trips", r.trades.to_string(), ""),
        ("win rate", format!("{:.1}%", r.win_rate * 100.0), ""),
        ("average win", signed_won(r.avg_win), "up"),
        ("average loss", signed_won(r.avg_loss), "down"),
        ("profit factor", format!("{:.2}", r.profit_factor), ""),
        (
            "max drawdown",
            format!(
                "{} ({:.2}%)",
                won(r.max_drawdown),
                r.max_drawdown_share * 100.0
            ),
            "",
        ),
        ("exposure", format!("{:.1}%", r.exposure * 100.0), ""),
    ] {
        page.push_str(&format!(
            "<tr><th class=\"l\">{name}</th><td class=\"{c}\">{}</td></tr>\n",
            esc(&value)
        ));
    }
    page.push_str("</table>\n<h2>Equity</h2>\n");
    page.push_str(&img(equity_png(&points, "equity"), "equity curve"));
    page.push_str("<h2>Drawdown</h2>\n");
    page.push_str(&img(
        equity_png(&drawdown, "drawdown from the peak"),
        "drawdown",
    ));
    page.push_str("<h2>Daily P&amp;L (realized, net of fees and tax)</h2>\n");
    page.push_str(&img(daily_pnl_png(&daily), "daily P&L"));
    page.push_str("<table id=\"days\"><tr><th class=\"l\">day</th><th>round trips</th><th>wins</th><th>fills</th><th>net P&amp;L</th></tr>\n");
    for (d, l) in &r.per_day {
        page.push_str(&format!(
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>\n",
            esc(d), l.trades, l.wins, l.fills, cls(l.net_pnl), signed_won(l.net_pnl)
        ));
    }
    page.push_str("</table>\n<h2>Per ticker</h2>\n<table id=\"tickers\"><tr><th class=\"l\">ticker</th><th>round trips</th><th>wins</th><th>fills</th><th>net P&amp;L</th></tr>\n");
    for (t, l) in &r.per_ticker {
        page.push_str(&format!(
            "<tr><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>\n",
            esc(t), l.trades, l.wins, l.fills, cls(l.net_pnl), signed_won(l.net_pnl)
        ));
    }
    page.push_str("</table>\n<h2>Fills</h2>\n<table id=\"fills\"><tr><th class=\"l\">day</th><th>time</th><th class=\"l\">ticker</th><th class=\"l\">side</th><th>qty</th><th>price</th><th>fees</th><th>realized</th><th>position</th></tr>\n");
    for f in &out.fills {
        page.push_str(&format!(
            "<tr><td class=\"l\">{}</td><td>{}</td><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&f.day),
            esc(&f.time),
            esc(&f.ticker),
            esc(&f.side),
            f.qty,
            won(f.price),
            won(f.commission + f.tax),
            signed_won(f.realized_pnl),
            f.position_after
        ));
    }
    page.push_str("</table>\n</body></html>\n");
    page
}
