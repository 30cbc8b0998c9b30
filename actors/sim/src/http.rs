//! The simulator's REST port: LS's paths (`/oauth2/token`, `/oauth2/revoke`,
//! `/stock/<group>`) plus `/sim/subscriptions` and `/sim/stats` for tests. Every request is forwarded to
//! the engine as a command and answered with what it replies.
//!
//! Owns no state. Must never answer a TR without the `tr_cd`, `tr_cont` and
//! `tr_cont_key` headers: some LS clients index them unconditionally.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

use super::engine::Command;

const JSON: &str = "application/json; charset=utf-8";

/// One TR call as the engine sees it.
pub(crate) struct RestCall {
    pub path: String,
    /// LS: the `tr_cd` header; Kiwoom: `api-id`.
    pub tr_cd: Option<String>,
    pub authorization: Option<String>,
    /// Kiwoom's continuation request headers `cont-yn` / `next-key` (LS: unused).
    pub cont_yn: Option<String>,
    pub next_key: Option<String>,
    pub body: Bytes,
}

/// What the engine answers: status, JSON body, and for TRs the continuation headers.
pub(crate) struct HttpReply {
    pub status: u16,
    pub tr: Option<TrHeaders>,
    pub body: String,
}

pub(crate) struct TrHeaders {
    pub tr_cd: String,
    pub tr_cont: String,
    pub tr_cont_key: String,
}

impl HttpReply {
    pub(crate) fn json(status: u16, body: String) -> HttpReply {
        HttpReply {
            status,
            tr: None,
            body,
        }
    }

    pub(crate) fn tr(status: u16, tr_cd: &str, body: String) -> HttpReply {
        HttpReply {
            status,
            tr: Some(TrHeaders {
                tr_cd: tr_cd.to_owned(),
                tr_cont: "N".into(),
                tr_cont_key: String::new(),
            }),
            body,
        }
    }
}

impl IntoResponse for HttpReply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static(JSON));
        if let Some(tr) = self.tr {
            for (name, value) in [
                ("tr_cd", tr.tr_cd),
                ("tr_cont", tr.tr_cont),
                ("tr_cont_key", tr.tr_cont_key),
            ] {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    headers.insert(HeaderName::from_static(name), v);
                }
            }
        }
        (status, headers, self.body).into_response()
    }
}

pub(crate) type Engine = mpsc::UnboundedSender<Command>;

/// What the TR handler needs: the exchange, and how long to hold each answer (a fault).
#[derive(Clone)]
struct TrRoute {
    engine: Engine,
    reply_delay: Option<Duration>,
}

pub(crate) async fn serve(listener: TcpListener, engine: Engine, reply_delay: Option<Duration>) {
    let tr = Router::new()
        .route("/stock/{group}", post(tr_call))
        .with_state(TrRoute {
            engine: engine.clone(),
            reply_delay,
        });
    let app = Router::new()
        .route("/oauth2/token", post(token))
        .route("/oauth2/revoke", post(revoke))
        .route("/sim/subscriptions", get(subscriptions))
        .route("/sim/stats", get(stats))
        .with_state(engine)
        .merge(tr)
        .fallback(not_found);
    if let Err(e) = axum::serve(listener, app).await {
        log::error!(target: "condor::sim", "REST server stopped: {e}");
    }
}

fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn ask(
    engine: &Engine,
    make: impl FnOnce(oneshot::Sender<HttpReply>) -> Command,
) -> HttpReply {
    let (tx, rx) = oneshot::channel();
    if engine.send(make(tx)).is_err() {
        return unavailable();
    }
    rx.await.unwrap_or_else(|_| unavailable())
}

fn unavailable() -> HttpReply {
    HttpReply::json(
        503,
        r#"{"rsp_cd":"IGW00500","rsp_msg":"시뮬레이터가 종료 중입니다."}"#.into(),
    )
}

async fn token(State(engine): State<Engine>, body: Bytes) -> HttpReply {
    let form = parse_form(&body);
    ask(&engine, |reply| Command::Token { form, reply }).await
}

async fn revoke(State(engine): State<Engine>, body: Bytes) -> HttpReply {
    let form = parse_form(&body);
    ask(&engine, |reply| Command::Revoke { form, reply }).await
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

async fn tr_call(
    State(route): State<TrRoute>,
    Path(group): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> HttpReply {
    let call = RestCall {
        path: format!("/stock/{group}"),
        tr_cd: header(&headers, "tr_cd"),
        authorization: header(&headers, "authorization"),
        cont_yn: None,
        next_key: None,
        body,
    };
    let reply = ask(&route.engine, |reply| Command::Tr { call, reply }).await;
    if let Some(delay) = route.reply_delay {
        tokio::time::sleep(delay).await;
    }
    reply
}

/// `GET /sim/stats`: trades printed, tokens issued, calls refused for an expired token
/// ([`super::SimStats`]), for tests of a standalone `condor sim`.
pub(crate) async fn stats(State(engine): State<Engine>) -> HttpReply {
    let (reply, rx) = oneshot::channel();
    if engine.send(Command::Stats { reply }).is_err() {
        return unavailable();
    }
    match rx.await {
        Ok(stats) => HttpReply::json(200, stats.to_json().to_string()),
        Err(_) => unavailable(),
    }
}

pub(crate) async fn subscriptions(State(engine): State<Engine>) -> HttpReply {
    let (reply, rx) = oneshot::channel();
    if engine.send(Command::Subscriptions { reply }).is_err() {
        return unavailable();
    }
    match rx.await {
        Ok(report) => HttpReply::json(200, serde_json::to_string(&report).unwrap_or_default()),
        Err(_) => unavailable(),
    }
}

async fn not_found() -> HttpReply {
    HttpReply::json(
        404,
        r#"{"rsp_cd":"IGW00404","rsp_msg":"존재하지 않는 경로입니다."}"#.into(),
    )
}
