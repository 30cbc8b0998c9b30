//! Firehose benchmark: how many realtime frames per second ONE client receives from the
//! embedded exchange when it pushes trades as fast as the client takes them.
//!
//! `cargo bench --bench firehose` prints the figure; it is a measurement, not a test.
//! Target on a 2-core machine: at least 1,000,000 frames/s.

use std::time::{Duration, Instant};

use condor::sim::{SimConfig, SimHandle};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const WARMUP: Duration = Duration::from_millis(500);
const MEASURE: Duration = Duration::from_secs(3);

fn main() {
    let cfg = SimConfig {
        firehose: true,
        rate_limits: false,
        ..SimConfig::default()
    };
    let sim = SimHandle::start(cfg).expect("simulator starts");
    // The client gets its own runtime thread, like any separate consumer.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (frames, bytes, elapsed, tickers) = rt.block_on(client(&sim));
    let fps = frames as f64 / elapsed.as_secs_f64();
    println!(
        "firehose: {frames} frames ({:.1} MB) in {:.2} s over {tickers} tickers to one client = {:.0} frames/s ({:.2} M/s)",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        fps,
        fps / 1e6
    );
}

async fn client(sim: &SimHandle) -> (u64, u64, Duration, usize) {
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/oauth2/token", sim.rest_url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&appkey={}&appsecretkey={}&scope=oob",
            sim.appkey().expose(),
            sim.appsecret().expose()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap().to_owned();
    let list: Value = http
        .post(format!("{}/stock/etc", sim.rest_url()))
        .header("authorization", format!("Bearer {token}"))
        .header("tr_cd", "t8436")
        .body(json!({"t8436InBlock": {"gubun": "0"}}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = list["t8436OutBlock"].as_array().unwrap().clone();
    let (mut ws, _) = tokio_tungstenite::connect_async(sim.ws_url())
        .await
        .unwrap();
    for s in &list {
        let tr = if s["gubun"] == "1" { "S3_" } else { "K3_" };
        let frame = json!({"header": {"token": token, "tr_type": "3"}, "body": {"tr_cd": tr, "tr_key": s["shcode"]}});
        ws.send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }
    let start = Instant::now();
    let mut measuring: Option<Instant> = None;
    let (mut frames, mut bytes) = (0u64, 0u64);
    while let Some(msg) = ws.next().await {
        let Ok(Message::Text(t)) = msg else { continue };
        match measuring {
            None if start.elapsed() >= WARMUP => {
                // Sanity: what we count are real trade frames.
                let v: Value = serde_json::from_str(t.as_str()).expect("frame is JSON");
                assert!(v["body"]["price"].is_string(), "{v}");
                measuring = Some(Instant::now());
            }
            None => {}
            Some(m) => {
                frames += 1;
                bytes += t.len() as u64;
                if frames % 4096 == 0 && m.elapsed() >= MEASURE {
                    return (frames, bytes, m.elapsed(), list.len());
                }
            }
        }
    }
    panic!("the simulator closed the connection");
}
