//! The dashboard in a real headless browser: `condor run` (the binary) trades a simulator
//! over real sockets, Chromium opens `/`, and the page's script fills in the live feeds and
//! the fills from the event stream, then keeps them current without a reload.

#[path = "support/browser.rs"]
mod browser;
mod common;

use browser::Browser;
use common::binary::{self as condor_run, subscribed};
use common::until;

use serde_json::Value;

const SCENARIO: &str = "condition S001 대시보드 시험
condition S002 두 번째 조건
at 0ms S001 enter 005930
at 0ms S001 enter 000660
at 0ms S002 enter 035420
at 0ms S002 enter 247540
";

/// Two conditions, each entering on the first trade and selling two seconds later: fills
/// of both sides soon, in both.
const CONDITIONS: &str = r#"
[[conditions]]
name = "S001"
[conditions.params]
min_change_bp = -3000
confirm_ticks = 1
max_hold_secs = 2

[[conditions]]
name = "S002"
budget_won = 500_000
[conditions.params]
min_change_bp = -3000
confirm_ticks = 1
max_hold_secs = 2
"#;

/// What the page shows, read from its DOM.
const SNAPSHOT: &str = r#"JSON.stringify({
  state: document.body.dataset.state,
  feeds: [...document.querySelectorAll('#feeds-body tr[data-ticker]')].map(r => r.dataset.ticker).sort(),
  feedText: document.getElementById('feeds-body').innerText,
  fills: [...document.querySelectorAll('#fills-body tr.fill')].map(r => r.innerText),
  updated: document.getElementById('updated').textContent,
  conditionsShown: !document.getElementById('conditions').hidden,
  conditions: [...document.querySelectorAll('#conditions-body tr')].map(r => r.innerText),
  market: document.getElementById('market-pill').textContent,
  marker: window.__loadedOnce === true,
})"#;

fn snapshot(v: Value) -> Value {
    serde_json::from_str(v.as_str().expect("a JSON string")).expect("snapshot JSON")
}

#[tokio::test]
async fn the_dashboard_shows_the_live_feeds_and_fills_from_its_stream_in_a_real_browser() {
    let sim = condor_run::sim(SCENARIO);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("condor.toml");
    std::fs::write(&config, CONDITIONS).unwrap();
    let mut run = condor_run::start(
        &sim,
        dir.path(),
        "S001",
        &[("CONDOR_CONFIG", config.to_str().unwrap())],
    );

    // The page as served carries no data: whatever the browser shows, its script put there.
    let raw = reqwest::get(format!("{}/", run.http))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for absent in ["005930", "000660", "삼성전자", "data-ticker=\""] {
        assert!(!raw.contains(absent), "{absent} is not in the served page");
    }
    assert!(raw.contains("new EventSource(\"events\")"));

    let mut b = Browser::launch(1400, 900).await;
    b.goto(&format!("{}/", run.http)).await;
    // A mark on this page's window: gone if the page were ever reloaded.
    b.eval("window.__loadedOnce = true").await;

    let shown = until(
        || {
            format!(
                "the page never showed the simulator's subscriptions and a fill\n{}",
                run.log_text()
            )
        },
        async || {
            let page = snapshot(b.eval(SNAPSHOT).await);
            let subs = subscribed(sim.rest_url()).await;
            let feeds: Vec<String> = serde_json::from_value(page["feeds"].clone()).unwrap();
            if page["state"] == "live"
                && subs.len() == 4
                && feeds == subs
                && page["fills"].as_array().is_some_and(|f| !f.is_empty())
            {
                Ok(page)
            } else {
                Err(format!("{subs:?}: {page}"))
            }
        },
    )
    .await;
    let text = shown["feedText"].as_str().unwrap();
    for name in ["삼성전자", "SK하이닉스", "NAVER", "에코프로비엠"] {
        assert!(text.contains(name), "{name} rendered: {text}");
    }
    // Both conditions, each with its row, under one set of feeds.
    assert_eq!(shown["conditionsShown"], true, "{shown}");
    let rows: Vec<String> = serde_json::from_value(shown["conditions"].clone()).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].contains("S001") && rows[1].contains("S002"),
        "{rows:?}"
    );
    // KRX's session by the calendar, whatever the host's time: open until, or closed until.
    let market = shown["market"].as_str().unwrap();
    assert!(
        market.starts_with("market open until ")
            || (market.starts_with("market closed (") && market.contains("next session")),
        "{market}"
    );
    let first_fill = shown["fills"][0].as_str().unwrap();
    assert!(
        ["005930", "000660", "035420", "247540"]
            .iter()
            .any(|t| first_fill.contains(t)),
        "a fill row names its ticker: {first_fill}"
    );

    // It keeps up without a reload: a sell (two seconds after a buy) and a newer update time
    // arrive on the same page.
    let before = shown["updated"].as_str().unwrap().to_owned();
    let later = until("no sell or no newer update on the page", async || {
        let page = snapshot(b.eval(SNAPSHOT).await);
        let sold = page["fills"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().is_some_and(|t| t.contains("sell")));
        if sold && page["updated"].as_str() != Some(before.as_str()) {
            Ok(page)
        } else {
            Err(page.to_string())
        }
    })
    .await;
    assert_eq!(later["marker"], true, "the page was never reloaded");
    assert_eq!(later["state"], "live");

    // A picture of it, for people: a 1400x900 PNG that is not blank.
    let png = b.screenshot().await;
    let path = std::env::temp_dir().join("condor-dashboard.png");
    std::fs::write(&path, &png).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&png));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    assert_eq!((info.width, info.height), (1400, 900));
    let colours: std::collections::HashSet<&[u8]> = pixels
        .chunks(info.color_type.samples())
        .take(info.buffer_size() / info.color_type.samples())
        .collect();
    assert!(colours.len() > 20, "{} colours: blank?", colours.len());
    eprintln!("dashboard screenshot: {}", path.display());

    drop(b);
    assert!(run.stop(), "condor run exits 0:\n{}", run.log_text());
}
