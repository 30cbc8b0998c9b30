//! No Kiwoom credential in the log at `RUST_LOG=trace`: the engine's Kiwoom pieces (the
//! REST client `KiwoomRest`, a websocket LOGIN with its token, a registration) against
//! the embedded exchange in Kiwoom mode, every line of every crate logged through condor's
//! own logger (`condor::logging::Capped`), then searched for the app key, the secret key
//! and the access token the client was granted.
//!
//! `condor run` cannot trade Kiwoom yet, so this covers the library pieces it will use.
//! Alongside, the same records go to an uncapped logger: the token must show there (a
//! dependency's trace lines print the LOGIN frame), so the search is shown to find a
//! leak where there is one.
//!
//! One test: the logger is the process's.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{start, PATIENCE};
use condor::logging::Capped;
use condor::sim::{Protocol, SimConfig};
use condor_actors::broker::Broker;
use condor_actors::market::Ticker;
use condor_model::kiwoom::realtime::ClientFrame;
use futures_util::{SinkExt, StreamExt};
use log::{LevelFilter, Log, Metadata, Record};
use tokio_tungstenite::tungstenite::Message;

/// Text a logger wrote.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl Written {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Written {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every record to both loggers.
struct Both(Capped<env_logger::Logger>, env_logger::Logger);

impl Log for Both {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.0.enabled(metadata) || self.1.enabled(metadata)
    }
    fn log(&self, record: &Record<'_>) {
        self.0.log(record);
        self.1.log(record);
    }
    fn flush(&self) {
        self.0.flush();
        self.1.flush();
    }
}

/// A logger as `RUST_LOG=<spec>` makes it, writing to `out`.
fn env_logger_to(spec: &str, out: &Written) -> env_logger::Logger {
    env_logger::Builder::new()
        .parse_filters(spec)
        .target(env_logger::Target::Pipe(Box::new(out.clone())))
        .build()
}

/// `text`'s bytes in lowercase hex, as tungstenite prints a frame's payload at trace.
fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[actix_rt::test]
async fn kiwoom_rest_and_a_websocket_login_log_no_credential_at_trace() {
    // As a user chasing a protocol problem would ask: everything, and the modules that
    // print frames named outright.
    let spec = "trace,tungstenite::protocol=trace,tungstenite::protocol::frame=trace";
    let (capped, uncapped) = (Written::default(), Written::default());
    log::set_boxed_logger(Box::new(Both(
        Capped::new(env_logger_to(spec, &capped)),
        env_logger_to(spec, &uncapped),
    )))
    .expect("the only logger of this test process");
    log::set_max_level(LevelFilter::Trace);

    let sim = start(SimConfig {
        protocol: Protocol::Kiwoom,
        rate_limits: false,
        ..SimConfig::default()
    });
    let rest = common::kiwoom_rest(&sim).await;
    let token = rest.token().expose().to_owned();
    let (appkey, secretkey) = (
        sim.appkey().expose().to_owned(),
        sim.appsecret().expose().to_owned(),
    );
    let broker = Broker::from(rest);
    broker
        .band(Ticker::parse("005930").unwrap())
        .await
        .expect("ka10001 answers with the token");
    broker.cash().await.expect("the account answers");

    // The websocket: LOGIN carries the token; then a registration and its answer.
    let (mut ws, _) = tokio_tungstenite::connect_async(sim.ws_url())
        .await
        .expect("the websocket connects");
    ws.send(Message::Text(ClientFrame::login(&token).encode().into()))
        .await
        .unwrap();
    let reg =
        r#"{"trnm":"REG","grp_no":"1","refresh":"1","data":[{"item":["005930"],"type":["0B"]}]}"#;
    let mut logged_in = false;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, ws.next()).await {
        let Message::Text(text) = message else {
            continue;
        };
        if text.contains(r#""trnm":"PING""#) {
            ws.send(Message::Text(text)).await.unwrap();
        } else if text.contains(r#""trnm":"LOGIN""#) {
            assert!(text.contains(r#""return_code":0"#), "{text}");
            logged_in = true;
            ws.send(Message::Text(reg.into())).await.unwrap();
        } else if text.contains(r#""trnm":"REG""#) {
            break;
        }
    }
    assert!(logged_in, "the LOGIN was answered");
    let _ = ws.close(None).await;
    drop(sim);
    log::logger().flush();

    let (capped, uncapped) = (capped.text(), uncapped.text());
    // Uncapped, a dependency prints the LOGIN frame, token and all: the search below finds
    // a token where there is one.
    assert!(
        uncapped.contains(&token) || uncapped.contains(&hex(&token)),
        "the uncapped log shows the token ({} bytes)",
        uncapped.len()
    );
    for secret in [&appkey, &secretkey, &token] {
        // As text, and as tungstenite prints a frame's payload (hex).
        for form in [secret.clone(), hex(secret)] {
            assert!(
                !capped.contains(&form),
                "a credential in the log at RUST_LOG={spec} ({} bytes of it)",
                capped.len()
            );
        }
    }
    // The log was live: the dependencies' debug lines pass, only their trace lines (the
    // ones that print frames) are held back.
    assert!(capped.contains("Client handshake done"), "{capped}");
    for frame_line in [
        "Sending frame",
        "writing frame",
        "received frame",
        "Received message",
    ] {
        assert!(!capped.contains(frame_line), "{frame_line}: {capped}");
        assert!(uncapped.contains(frame_line), "{frame_line} uncapped");
    }
}
