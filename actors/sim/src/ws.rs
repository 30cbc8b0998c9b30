//! The simulator's websocket port: accepts upgrades at `/websocket` (with or without
//! auth headers, as LS does), then runs one reader and one writer per connection.
//! The reader forwards client frames to the engine; the writer sends the engine's
//! batches with one flush per batch, and applies the fault knobs (drop after N seconds
//! or N frames, delay, malformed frames, absurd numbers in well-formed frames).
//!
//! Owns the sockets only. Must never decide anything about registrations: that is the
//! engine's, so acks and data frames keep one order.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

use super::engine::{Command, Outgoing, SESSION_QUEUE};
use super::Faults;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

pub(crate) async fn serve(
    listener: TcpListener,
    path: &'static str,
    engine: mpsc::UnboundedSender<Command>,
    faults: Faults,
    seed: u64,
    drained: Arc<Notify>,
) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                log::warn!(target: "condor::sim", "websocket accept failed: {e}");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let engine = engine.clone();
        let faults = faults.clone();
        let drained = drained.clone();
        tokio::spawn(async move {
            if let Err(e) = session(stream, path, engine, faults, seed, drained).await {
                log::debug!(target: "condor::sim", "websocket from {peer} ended: {e}");
            }
        });
    }
}

#[allow(clippy::result_large_err)]
fn check_path(
    path: &'static str,
) -> impl FnOnce(&Request, Response) -> Result<Response, ErrorResponse> {
    move |req, resp| {
        if req.uri().path() == path {
            Ok(resp)
        } else {
            let mut err = ErrorResponse::new(Some(format!("websocket lives at {path}")));
            *err.status_mut() = StatusCode::NOT_FOUND;
            Err(err)
        }
    }
}

async fn session(
    stream: TcpStream,
    path: &'static str,
    engine: mpsc::UnboundedSender<Command>,
    faults: Faults,
    seed: u64,
    drained: Arc<Notify>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let ws = tokio_tungstenite::accept_hdr_async(stream, check_path(path)).await?;
    let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    let (out_tx, out_rx) = mpsc::channel(SESSION_QUEUE);
    let inflight = Arc::new(AtomicUsize::new(0));
    let _ = engine.send(Command::WsOpen {
        id,
        out: out_tx,
        inflight: inflight.clone(),
    });
    let mut conn = Connection {
        ws,
        engine: engine.clone(),
        faults,
        rng: fastrand::Rng::with_seed(seed ^ id),
        sent: 0,
        inflight,
        drained,
    };
    let result = conn.run(id, &engine, out_rx).await;
    let _ = engine.send(Command::WsClosed { id });
    result
}

/// One connection, read and written by one task: no lock between a reader and a writer
/// half, and the writer's batches go out with one flush each.
struct Connection {
    ws: tokio_tungstenite::WebSocketStream<TcpStream>,
    /// Told of each absurd frame sent, for `/sim/stats`.
    engine: mpsc::UnboundedSender<Command>,
    faults: Faults,
    rng: fastrand::Rng,
    sent: u64,
    inflight: Arc<AtomicUsize>,
    drained: Arc<Notify>,
}

/// What a connection's loop should do next.
enum Step {
    Go,
    /// Close the socket without a close frame (a fault, or the engine's request).
    Drop,
}

impl Connection {
    async fn run(
        &mut self,
        id: u64,
        engine: &mpsc::UnboundedSender<Command>,
        mut batches: mpsc::Receiver<Outgoing>,
    ) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        let deadline = self
            .faults
            .drop_after
            .map(|d| tokio::time::Instant::now() + d);
        let drop_sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::pin!(drop_sleep);
        loop {
            // Each branch's future is dropped before its handler runs, so both may use
            // the socket.
            let step = tokio::select! {
                msg = self.ws.next() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        let _ = engine.send(Command::WsText { id, text });
                        Step::Go
                    }
                    Some(Ok(Message::Binary(_))) => {
                        // LS speaks JSON text frames only; answer like any malformed frame.
                        let _ = engine.send(Command::WsText { id, text: "<binary frame>".into() });
                        Step::Go
                    }
                    // Pings are answered by tungstenite on the next write or flush.
                    Some(Ok(_)) => Step::Go,
                    Some(Err(e)) => return Err(e),
                    None => return Ok(()),
                },
                batch = batches.recv() => match batch {
                    Some(Outgoing::Frames(frames)) => self.send_batch(frames).await?,
                    Some(Outgoing::Drop) | None => Step::Drop,
                },
                _ = &mut drop_sleep => {
                    log::info!(target: "condor::sim", "fault: dropping websocket session {id} after {:?}", self.faults.drop_after.unwrap_or_default());
                    Step::Drop
                }
            };
            if let Step::Drop = step {
                // Returning drops the stream: the socket closes with no close frame.
                return Ok(());
            }
        }
    }

    /// Feeds every frame of a batch, then flushes once.
    async fn send_batch(
        &mut self,
        frames: Vec<Message>,
    ) -> Result<Step, tokio_tungstenite::tungstenite::Error> {
        if let Some(delay) = self.faults.frame_delay {
            tokio::time::sleep(delay).await;
        }
        let mut step = Step::Go;
        let mut result = Ok(());
        for frame in frames {
            if self
                .faults
                .drop_after_frames
                .is_some_and(|max| self.sent >= max)
            {
                log::info!(target: "condor::sim", "fault: dropping a websocket after {} frames", self.sent);
                step = Step::Drop;
                break;
            }
            let trade = is_trade(&frame);
            let frame = if self.faults.malformed_share > 0.0
                && trade
                && self.rng.f64() < self.faults.malformed_share
            {
                malformed(frame)
            } else if self.faults.absurd_share > 0.0
                && trade
                && self.rng.f64() < self.faults.absurd_share
            {
                match absurd(&frame, self.rng.usize(..ABSURDITIES)) {
                    Some(text) => {
                        let _ = self.engine.send(Command::AbsurdFrameSent);
                        Message::Text(text.into())
                    }
                    None => frame,
                }
            } else {
                frame
            };
            result = self.ws.feed(frame).await;
            if result.is_err() {
                break;
            }
            self.sent += 1;
        }
        if result.is_ok() {
            result = self.ws.flush().await;
        }
        self.inflight.fetch_sub(1, Ordering::AcqRel);
        self.drained.notify_one();
        result.map(|()| step)
    }
}

/// S3_/K3_ trade frames (Kiwoom: REAL 0B), the only ones the malformed-frame fault
/// touches: acks, AFR/02 and account events stay whole so a test's setup is not left to
/// chance.
fn is_trade(frame: &Message) -> bool {
    let Message::Text(t) = frame else {
        return false;
    };
    let t = t.as_str();
    ((t.starts_with(r#"{"header":{"tr_cd":"S3_""#) || t.starts_with(r#"{"header":{"tr_cd":"K3_""#))
        && !t.contains(r#""rsp_cd""#))
        || t.starts_with(r#"{"trnm":"REAL","data":[{"type":"0B""#)
}

/// How many kinds of absurd trade [`absurd`] makes.
const ABSURDITIES: usize = 4;

/// A trade frame still well-formed JSON but holding a number no exchange prints, picked
/// by `which` (below [`ABSURDITIES`]): a price of `i64::MAX` won; a negative volume; a
/// price one step past KRX's highest (100,000,000 won: nine digits where LS has eight); a
/// trade of `u64::MAX` shares. LS's S3_/K3_ and Kiwoom's 0B each get their own fields;
/// `None` if the frame lacks the field.
fn absurd(frame: &Message, which: usize) -> Option<String> {
    let Message::Text(t) = frame else {
        return None;
    };
    let t = t.as_str();
    let kiwoom = t.starts_with(r#"{"trnm":"REAL""#);
    let (key, value) = match (which, kiwoom) {
        (0, false) => ("price", "9223372036854775807"),
        (0, true) => ("10", "+9223372036854775807"),
        (1, false) => ("cvolume", "-5"),
        // 0B's trade quantity carries the aggressor as its sign: the day's volume it is.
        (1, true) => ("13", "-5"),
        (2, false) => ("price", "100000000"),
        (2, true) => ("10", "-100000000"),
        (_, false) => ("cvolume", "18446744073709551615"),
        (_, true) => ("15", "+18446744073709551615"),
    };
    set_value(t, key, value)
}

/// `text` with the string value of the first `"key":"…"` member replaced by `value`.
fn set_value(text: &str, key: &str, value: &str) -> Option<String> {
    let member = format!(r#""{key}":""#);
    let start = text.find(&member)? + member.len();
    let end = start + text[start..].find('"')?;
    Some(format!("{}{value}{}", &text[..start], &text[end..]))
}

/// Half of a text frame: not JSON, as a torn or garbled frame would be.
fn malformed(frame: Message) -> Message {
    match frame {
        Message::Text(t) => {
            let s = t.as_str();
            let mut cut = s.len() / 2;
            while !s.is_char_boundary(cut) {
                cut -= 1;
            }
            Message::Text(s[..cut].to_owned().into())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use condor_model::kiwoom::realtime as kiwoom;
    use condor_model::wire::realtime::{decode_incoming, Incoming};

    const S3: &str = r#"{"header":{"tr_cd":"S3_","tr_key":"005930"},"body":{"chetime":"090851","sign":"2","change":"1050","drate":"1.93","price":"55550","cgubun":"+","cvolume":"1","volume":"10887","shcode":"005930","exchname":"KRX"}}"#;
    const REAL_0B: &str = r#"{"trnm":"REAL","data":[{"type":"0B","name":"주식체결","item":"005930","values":{"20":"165208","10":"-20800","11":"-50","12":"-0.24","27":"-20800","28":"-20700","15":"+82","13":"30379732","14":"632640","16":"20850","25":"5"}}]}"#;

    fn ls_tick(text: &str) -> Result<condor_model::domain::Tick, String> {
        match decode_incoming(text).map_err(|e| e.to_string())? {
            Incoming::Trade { fields, .. } => fields
                .to_tick(std::time::Instant::now())
                .map_err(|e| e.to_string()),
            Incoming::Other(f) => Err(format!("not a trade: {f:?}")),
        }
    }

    fn kiwoom_tick(text: &str) -> Result<condor_model::domain::Tick, String> {
        match kiwoom::decode_server_frame(text).map_err(|e| e.to_string())? {
            kiwoom::ServerFrame::Real(entries) => entries[0]
                .to_tick(std::time::Instant::now())
                .expect("a 0B entry")
                .map_err(|e| e.to_string()),
            other => Err(format!("not REAL: {other:?}")),
        }
    }

    /// Every absurd frame is still JSON the decoders read to the end, and still a trade
    /// frame, but its tick is refused naming the field the fault changed.
    #[test]
    fn each_absurd_frame_is_well_formed_and_refused_as_a_tick() {
        assert!(ls_tick(S3).is_ok() && kiwoom_tick(REAL_0B).is_ok());
        let fields = [
            ("price", "10"),
            ("cvolume", "13"),
            ("price", "10"),
            ("cvolume", "15"),
        ];
        for (which, (ls_field, kiwoom_field)) in fields.into_iter().enumerate() {
            let ls = absurd(&Message::Text(S3.into()), which).expect("S3_ has the field");
            assert!(is_trade(&Message::Text(ls.clone().into())), "{ls}");
            serde_json::from_str::<serde_json::Value>(&ls).expect("JSON");
            let e = ls_tick(&ls).unwrap_err();
            assert!(e.contains(&format!("`{ls_field}`")), "{e}");
            let k = absurd(&Message::Text(REAL_0B.into()), which).expect("0B has the field");
            assert!(is_trade(&Message::Text(k.clone().into())), "{k}");
            serde_json::from_str::<serde_json::Value>(&k).expect("JSON");
            let e = kiwoom_tick(&k).unwrap_err();
            assert!(e.contains(&format!("`{kiwoom_field}`")), "{e}");
        }
        assert_eq!(set_value(S3, "nothing", "1"), None);
    }
}
