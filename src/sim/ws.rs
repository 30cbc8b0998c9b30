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
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::Message;

use super::engine::{Command, Outgoing, SESSION_QUEUE};
use super::Faults;

static NEXT_SESSION: AtomicU64 = AtomicU64::new(1);

pub(crate) async fn serve(
    listener: TcpListener,
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
            if let Err(e) = session(stream, engine, faults, seed, drained).await {
                log::debug!(target: "condor::sim", "websocket from {peer} ended: {e}");
            }
        });
    }
}

#[allow(clippy::result_large_err)]
fn check_path(req: &Request, resp: Response) -> Result<Response, ErrorResponse> {
    if req.uri().path() == "/websocket" {
        Ok(resp)
    } else {
        let mut err = ErrorResponse::new(Some("websocket lives at /websocket".into()));
        *err.status_mut() = StatusCode::NOT_FOUND;
        Err(err)
    }
}

async fn session(
    stream: TcpStream,
    engine: mpsc::UnboundedSender<Command>,
    faults: Faults,
    seed: u64,
    drained: Arc<Notify>,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let ws = tokio_tungstenite::accept_hdr_async(stream, check_path).await?;
    let id = NEXT_SESSION.fetch_add(1, Ordering::Relaxed);
    let (out_tx, out_rx) = mpsc::channel(SESSION_QUEUE);
    let inflight = Arc::new(AtomicUsize::new(0));
    let _ = engine.send(Command::WsOpen {
        id,
        out: out_tx,
        inflight: inflight.clone(),
    });
    let (sink, mut stream) = ws.split();
    let (dropped_tx, mut dropped_rx) = oneshot::channel::<()>();
    let writer = tokio::spawn(write_loop(
        sink,
        out_rx,
        inflight,
        faults,
        seed ^ id,
        drained,
        dropped_tx,
    ));
    loop {
        tokio::select! {
            msg = stream.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let _ = engine.send(Command::WsText { id, text });
                }
                Some(Ok(Message::Binary(_))) => {
                    // LS speaks JSON text frames only; answer like any malformed frame.
                    let _ = engine.send(Command::WsText { id, text: "<binary frame>".into() });
                }
                Some(Ok(_)) => {} // ping/pong are answered by tungstenite; close ends below
                Some(Err(_)) | None => break,
            },
            _ = &mut dropped_rx => break,
        }
    }
    let _ = engine.send(Command::WsClosed { id });
    writer.abort();
    Ok(())
}

/// Sends the engine's batches: every frame fed, one flush per batch.
async fn write_loop(
    mut sink: futures_util::stream::SplitSink<
        tokio_tungstenite::WebSocketStream<TcpStream>,
        Message,
    >,
    mut batches: mpsc::Receiver<Outgoing>,
    inflight: Arc<AtomicUsize>,
    faults: Faults,
    seed: u64,
    drained: Arc<Notify>,
    dropped: oneshot::Sender<()>,
) {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut sent: u64 = 0;
    let deadline = faults.drop_after.map(|d| tokio::time::Instant::now() + d);
    let drop_sleep = async {
        match deadline {
            Some(d) => tokio::time::sleep_until(d).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(drop_sleep);
    loop {
        let batch = tokio::select! {
            b = batches.recv() => b,
            _ = &mut drop_sleep => {
                log::info!(target: "condor::sim", "fault: dropping a websocket after {:?}", faults.drop_after.unwrap_or_default());
                break;
            }
        };
        let frames = match batch {
            Some(Outgoing::Frames(f)) => f,
            Some(Outgoing::Drop) | None => break,
        };
        if let Some(delay) = faults.frame_delay {
            tokio::time::sleep(delay).await;
        }
        let mut ok = true;
        let mut limit_hit = false;
        for frame in frames {
            if let Some(max) = faults.drop_after_frames {
                if sent >= max {
                    limit_hit = true;
                    break;
                }
            }
            let frame = if faults.malformed_share > 0.0
                && !is_ack(&frame)
                && rng.f64() < faults.malformed_share
            {
                malformed(frame)
            } else {
                frame
            };
            if sink.feed(frame).await.is_err() {
                ok = false;
                break;
            }
            sent += 1;
        }
        if ok && sink.flush().await.is_err() {
            ok = false;
        }
        inflight.fetch_sub(1, Ordering::AcqRel);
        drained.notify_one();
        if !ok {
            break;
        }
        if limit_hit {
            log::info!(target: "condor::sim", "fault: dropping a websocket after {sent} frames");
            break;
        }
    }
    // Tell the reader to let go of its half too, so the socket closes without a close frame.
    let _ = dropped.send(());
}

/// Acknowledgements carry `rsp_cd` in their header; data frames do not.
fn is_ack(frame: &Message) -> bool {
    matches!(frame, Message::Text(t) if t.as_str().contains("\"rsp_cd\""))
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
