//! A real headless Chromium, driven over the Chrome DevTools Protocol (a websocket): open a
//! page, evaluate JavaScript in it, take a PNG screenshot. CDP rather than `--dump-dom`,
//! because a page that keeps an event stream open never lets `--virtual-time-budget`
//! expire, and a test should wait for what the page shows, not for a fixed time.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::common::binary::Proc;
use crate::common::{until, PATIENCE};

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const INSTALL: &str = "the dashboard test needs a real headless browser and found no `chromium` \
    on PATH. Install Debian's: `apt-get update && apt-get install -y --no-install-recommends chromium` \
    (.ci/run does this before the tests)";

/// `chromium` (Debian) or `chromium-browser` (Ubuntu), from PATH.
fn find_chromium() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| ["chromium", "chromium-browser"].map(|n| dir.join(n)))
        .find(|p| p.is_file())
}

pub struct Browser {
    ws: Ws,
    next_id: u64,
    _proc: Proc,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts headless Chromium with a fresh profile and a `width`×`height` viewport.
    /// Fails (never skips) when Chromium is not installed, saying how to install it.
    pub async fn launch(width: u32, height: u32) -> Browser {
        let bin = find_chromium().unwrap_or_else(|| panic!("{INSTALL}"));
        let profile = tempfile::tempdir().expect("profile dir");
        let mut child = Command::new(&bin)
            .args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--hide-scrollbars",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                &format!("--window-size={width},{height}"),
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{} does not start: {e}", bin.display()));
        let stderr = child.stderr.take().expect("stderr");
        let proc = Proc(child);
        // It names its DevTools websocket on stderr; the rest of stderr is drained and dropped.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if let Some(i) = line.find("ws://") {
                    let _ = tx.send(line[i..].trim().to_owned());
                }
            }
        });
        let browser_ws = rx
            .recv_timeout(PATIENCE)
            .expect("chromium names its DevTools websocket");
        let http = browser_ws
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .expect("host:port")
            .to_owned();
        let targets: Value = reqwest::get(format!("http://{http}/json/list"))
            .await
            .expect("DevTools target list")
            .json()
            .await
            .expect("DevTools target list is JSON");
        let page = targets
            .as_array()
            .and_then(|t| t.iter().find(|t| t["type"] == "page"))
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_owned();
        let (ws, _) = tokio_tungstenite::connect_async(&page)
            .await
            .expect("DevTools page websocket");
        let mut b = Browser {
            ws,
            next_id: 0,
            _proc: proc,
            _profile: profile,
        };
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
        b
    }

    /// Sends one DevTools command and returns its result (events in between are skipped).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let msg = json!({"id": id, "method": method, "params": params});
        self.ws
            .send(Message::Text(msg.to_string().into()))
            .await
            .expect("DevTools send");
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.ws.next())
                .await
                .unwrap_or_else(|_| panic!("{method}: no answer from chromium"))
                .expect("DevTools connection open")
                .expect("DevTools frame");
            let Message::Text(text) = frame else { continue };
            let v: Value = serde_json::from_str(text.as_str()).expect("DevTools JSON");
            if v["id"] == id {
                assert!(v.get("error").is_none(), "{method}: {}", v["error"]);
                return v["result"].clone();
            }
        }
    }

    /// Navigates to `url` and waits until the new document has loaded (navigate answers
    /// before the page is there: an eval right after it may still see about:blank).
    pub async fn goto(&mut self, url: &str) {
        let r = self.call("Page.navigate", json!({"url": url})).await;
        assert!(r.get("errorText").is_none(), "navigate to {url}: {r}");
        until(format!("{url} did not load"), async || {
            let state = self
                .eval("location.href === 'about:blank' ? 'blank' : document.readyState")
                .await;
            if state == "complete" {
                Ok(())
            } else {
                Err(state.to_string())
            }
        })
        .await
    }

    /// Evaluates `expression` in the page and returns its value (as JSON).
    pub async fn eval(&mut self, expression: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expression}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// The viewport as a PNG.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        let r = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(r["data"].as_str().expect("screenshot data"))
            .expect("screenshot is base64")
    }
}
