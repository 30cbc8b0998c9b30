//! The simulator's websocket port: accepts upgrades at `/websocket` (with or without
//! auth headers, as LS does), then runs one reader and one writer per connection.
//! The reader forwards client frames to the engine; the writer sends the engine's
//! batches with one flush per batch, and applies the fault knobs (drop after N seconds
//! or N frames, delay, malformed frames).
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
            let frame = if self.faults.malformed_share > 0.0
                && is_trade(&frame)
                && self.rng.f64() < self.faults.malformed_share
            {
                malformed(frame)
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
