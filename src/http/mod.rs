//! The HTTP server inside `condor run`: `/metrics` (Prometheus text), `/status` (JSON),
//! `/events` (the same JSON as a server-sent event stream, once a second) and `/` (the live
//! dashboard, a page embedded in the binary). Loopback by default; any other client must
//! present `CONDOR_HTTP_TOKEN` (see `auth.rs`).
//!
//! Runs on a thread and tokio runtime of its own, so rendering a page or a scrape never
//! takes time from the trading actors; it learns what they do only by sending them
//! messages and by reading the metric handles they bump.
//!
//! Owns the listener, the routes and the status stream. Must never change engine state,
//! hold an actor's state behind a lock, or log a token (nor a query string, which may
//! carry one).

pub mod auth;
pub mod status;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use tokio::sync::{oneshot, watch};

use crate::secret::Secret;
use auth::{Access, Refusal, MIN_TOKEN_LEN};
pub use status::{DayEngine, Sources, Status};

const LOG: &str = "condor::http";

/// Where `condor run` listens unless told otherwise.
pub const DEFAULT_ADDR: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8686);

/// How often the status stream sends a new document.
const STREAM_EVERY: Duration = Duration::from_secs(1);

/// The page, embedded: no build step, no file to deploy.
const DASHBOARD: &str = include_str!("dashboard.html");

/// Where the server listens and who else may read it. Only [`HttpConfig::new`] makes one,
/// so a non-loopback address always has a token.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    addr: SocketAddr,
    token: Option<Secret>,
}

/// A setting the server refuses to start with. Never quotes the token.
#[derive(Debug, thiserror::Error)]
pub enum HttpConfigError {
    #[error(
        "CONDOR_HTTP_ADDR {0} is not a loopback address, and CONDOR_HTTP_TOKEN is not set: \
         set CONDOR_HTTP_TOKEN so that other machines must present it, or listen on 127.0.0.1"
    )]
    NoToken(SocketAddr),
    #[error(
        "CONDOR_HTTP_TOKEN must be at least {MIN_TOKEN_LEN} characters, each a letter, a digit \
         or one of - . _ ~ + / = (it has {len}{odd})"
    )]
    BadToken { len: usize, odd: &'static str },
}

impl HttpConfig {
    /// Checks the token (an empty one is none) and that a non-loopback address has one.
    pub fn new(addr: SocketAddr, token: Option<Secret>) -> Result<HttpConfig, HttpConfigError> {
        let token = token.filter(|t| !t.expose().is_empty());
        if let Some(t) = &token {
            let v = t.expose();
            let odd = v.chars().any(|c| !auth::token_char(c));
            if odd || v.len() < MIN_TOKEN_LEN {
                return Err(HttpConfigError::BadToken {
                    len: v.chars().count(),
                    odd: if odd {
                        ", some of them not allowed"
                    } else {
                        ""
                    },
                });
            }
        }
        if !auth::is_loopback(addr.ip()) && token.is_none() {
            return Err(HttpConfigError::NoToken(addr));
        }
        Ok(HttpConfig { addr, token })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Binds the address now (before trading starts, so a port in use is a start error).
    pub fn bind(&self) -> std::io::Result<std::net::TcpListener> {
        let listener = std::net::TcpListener::bind(self.addr)?;
        listener.set_nonblocking(true)?;
        Ok(listener)
    }
}

struct AppState {
    sources: Sources,
    token: Option<Secret>,
    /// The latest status document, for the `/events` streams.
    live: watch::Sender<Arc<str>>,
}

/// The running server. Dropping it stops it.
pub struct HttpServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    /// Serves `listener` (from [`HttpConfig::bind`]) on a thread of its own.
    pub fn start(
        listener: std::net::TcpListener,
        cfg: &HttpConfig,
        sources: Sources,
    ) -> std::io::Result<HttpServer> {
        let addr = listener.local_addr()?;
        let state = Arc::new(AppState {
            sources,
            token: cfg.token.clone(),
            live: watch::Sender::new(Arc::from("{}")),
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("condor-http".to_owned())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            log::error!(target: LOG, "cannot serve on {addr}: {e}");
                            return;
                        }
                    };
                    let app =
                        router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
                    tokio::select! {
                        r = axum::serve(listener, app) => {
                            if let Err(e) = r {
                                log::error!(target: LOG, "the HTTP server stopped: {e}");
                            }
                        }
                        () = stream_status(state) => {}
                        _ = stopped => {}
                    }
                });
                // Dropping the runtime ends every open connection (the event streams too).
                drop(rt);
            })?;
        Ok(HttpServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on (the port chosen, when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(dashboard))
        .route("/status", get(status_json))
        .route("/events", get(events))
        .route("/metrics", get(metrics))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
        .layer(axum::middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Lets in loopback clients and holders of the token (see `auth.rs`).
async fn guard(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    match auth::check(
        peer.ip(),
        req.headers(),
        req.uri().query(),
        state.token.as_ref(),
    ) {
        Ok(Access::Loopback | Access::Token) => next.run(req).await,
        Ok(Access::TokenInQuery) => {
            // Keep the token in a cookie (the dashboard's event stream sends it) and take it
            // out of the address bar.
            let rest = auth::query_without_token(req.uri().query().unwrap_or_default());
            let to = if rest.is_empty() {
                req.uri().path().to_owned()
            } else {
                format!("{}?{rest}", req.uri().path())
            };
            let cookie = state.token.as_ref().map_or_else(String::new, |t| {
                format!(
                    "{}={}; Path=/; HttpOnly; SameSite=Strict",
                    auth::COOKIE,
                    t.expose()
                )
            });
            let mut r = StatusCode::SEE_OTHER.into_response();
            if let (Ok(loc), Ok(c)) = (HeaderValue::from_str(&to), HeaderValue::from_str(&cookie)) {
                r.headers_mut().insert(header::LOCATION, loc);
                r.headers_mut().insert(header::SET_COOKIE, c);
            }
            r
        }
        Err(refusal) => {
            // The path only: the query string may carry a (wrong) token.
            log::warn!(target: LOG, "refused {} {} from {peer}: {}", req.method(), req.uri().path(), refusal.message());
            let code = match refusal {
                Refusal::NoTokenConfigured => StatusCode::FORBIDDEN,
                Refusal::BadToken => StatusCode::UNAUTHORIZED,
            };
            let mut r = (code, format!("{}\n", refusal.message())).into_response();
            if refusal == Refusal::BadToken {
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"condor\""),
                );
            }
            r
        }
    }
}

async fn dashboard() -> Response {
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
            ),
        ],
        Html(DASHBOARD),
    )
        .into_response()
}

async fn status_json(State(state): State<Arc<AppState>>) -> Response {
    let s = status::gather(&state.sources).await;
    ([(header::CACHE_CONTROL, "no-store")], Json(s)).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    status::refresh_gauges(&state.sources).await;
    let text = state.sources.meters.encode();
    (
        [
            (header::CONTENT_TYPE, condor_actors::telemetry::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

fn status_event(json: &str) -> Event {
    Event::default().event("status").data(json)
}

/// A status document at once, then one per [`STREAM_EVERY`] for as long as the client stays.
async fn events(State(state): State<Arc<AppState>>) -> Response {
    let rx = state.live.subscribe();
    let first = serde_json::to_string(&status::gather(&state.sources).await).unwrap_or_default();
    let head = futures_util::stream::once(async move {
        Ok::<_, Infallible>(status_event(&first).retry(Duration::from_secs(2)))
    });
    let tail = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let json = rx.borrow_and_update().clone();
        Some((Ok(status_event(&json)), rx))
    });
    (
        [(header::CACHE_CONTROL, "no-store")],
        Sse::new(head.chain(tail)).keep_alive(KeepAlive::default()),
    )
        .into_response()
}

/// Gathers the status once a second while anyone is watching the stream.
async fn stream_status(state: Arc<AppState>) {
    let mut every = tokio::time::interval(STREAM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if state.live.receiver_count() == 0 {
            continue;
        }
        let s = status::gather(&state.sources).await;
        match serde_json::to_string(&s) {
            Ok(json) => {
                state.live.send_replace(Arc::from(json));
            }
            Err(e) => log::warn!(target: LOG, "status not encoded: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_non_loopback_address_needs_a_token_and_the_error_never_shows_it() {
        let any: SocketAddr = "0.0.0.0:8686".parse().unwrap();
        let e = HttpConfig::new(any, None).unwrap_err().to_string();
        assert!(
            e.contains("CONDOR_HTTP_TOKEN") && e.contains("0.0.0.0:8686"),
            "{e}"
        );
        let e = HttpConfig::new(any, Some(Secret::new("")))
            .unwrap_err()
            .to_string();
        assert!(e.contains("CONDOR_HTTP_TOKEN"), "{e}");
        let short = "abc123";
        let e = HttpConfig::new(any, Some(Secret::new(short)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("at least 16") && !e.contains(short), "{e}");
        let odd = "0123456789abcdef ghij";
        let e = HttpConfig::new(DEFAULT_ADDR, Some(Secret::new(odd)))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not allowed") && !e.contains(odd), "{e}");
        let ok = HttpConfig::new(any, Some(Secret::new("0123456789abcdef-XYZ"))).unwrap();
        assert!(!format!("{ok:?}").contains("0123456789abcdef"));
        assert!(HttpConfig::new(DEFAULT_ADDR, None).is_ok());
        assert!(HttpConfig::new("[::1]:0".parse().unwrap(), None).is_ok());
    }
}
