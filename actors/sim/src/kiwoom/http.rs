//! The Kiwoom REST port: `POST /oauth2/token` and `/oauth2/revoke` (JSON bodies), `POST
//! /api/dostk/<group>` with the TR in the `api-id` header, plus `GET /sim/subscriptions`
//! and `/sim/stats` for tests. Every request is forwarded to the engine as a command.
//!
//! Owns no state. Must never answer without the `api-id`, `cont-yn` and `next-key`
//! headers (§3.2: clients read paging from the headers), and never use an HTTP error
//! status but 429 (rate limit): Kiwoom answers business and auth errors inside HTTP 200.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use condor_model::kiwoom::rest::{
    Continuation, HEADER_API_ID, HEADER_CONT_YN, HEADER_NEXT_KEY, JSON_CONTENT_TYPE, RC_INPUT,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::engine::Command;
use crate::http::{header, Engine, RestCall};

/// One Kiwoom REST answer: status (200, or 429 for a rate limit), `api-id`, the
/// continuation headers and the JSON body.
pub(crate) struct KiwoomReply {
    pub status: u16,
    pub api_id: String,
    pub cont: Continuation,
    pub body: String,
}

impl KiwoomReply {
    /// HTTP 200, no further page.
    pub(crate) fn ok(api_id: &str, body: String) -> KiwoomReply {
        KiwoomReply {
            status: 200,
            api_id: api_id.to_owned(),
            cont: Continuation::first(),
            body,
        }
    }
}

impl IntoResponse for KiwoomReply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static(JSON_CONTENT_TYPE));
        for (name, value) in self.cont.reply_headers(&self.api_id) {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        (status, headers, self.body).into_response()
    }
}

#[derive(Clone)]
struct Route {
    engine: Engine,
    reply_delay: Option<Duration>,
}

pub(crate) async fn serve(listener: TcpListener, engine: Engine, reply_delay: Option<Duration>) {
    let kiwoom = Router::new()
        .route("/oauth2/token", post(token))
        .route("/oauth2/revoke", post(revoke))
        .route("/api/dostk/{group}", post(tr_call))
        .with_state(Route {
            engine: engine.clone(),
            reply_delay,
        });
    let app = Router::new()
        .route("/sim/subscriptions", get(crate::http::subscriptions))
        .route("/sim/stats", get(crate::http::stats))
        .with_state(engine)
        .merge(kiwoom)
        .fallback(not_found);
    if let Err(e) = axum::serve(listener, app).await {
        log::error!(target: "condor::sim", "Kiwoom REST server stopped: {e}");
    }
}

async fn ask(
    engine: &Engine,
    api_id: &str,
    make: impl FnOnce(oneshot::Sender<KiwoomReply>) -> Command,
) -> KiwoomReply {
    let (tx, rx) = oneshot::channel();
    if engine.send(make(tx)).is_err() {
        return unavailable(api_id);
    }
    rx.await.unwrap_or_else(|_| unavailable(api_id))
}

fn unavailable(api_id: &str) -> KiwoomReply {
    let mut r = KiwoomReply::ok(
        api_id,
        super::refusal(
            condor_model::kiwoom::rest::RC_SERVICE,
            condor_model::kiwoom::rest::MSG_SERVICE_ERROR,
            1999,
            "시뮬레이터가 종료 중입니다",
        ),
    );
    r.status = 503;
    r
}

async fn token(State(route): State<Route>, body: Bytes) -> KiwoomReply {
    ask(&route.engine, "au10001", |reply| Command::KiwoomToken {
        body,
        revoke: false,
        reply,
    })
    .await
}

async fn revoke(State(route): State<Route>, body: Bytes) -> KiwoomReply {
    ask(&route.engine, "au10002", |reply| Command::KiwoomToken {
        body,
        revoke: true,
        reply,
    })
    .await
}

async fn tr_call(
    State(route): State<Route>,
    Path(group): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> KiwoomReply {
    let call = RestCall {
        path: format!("/api/dostk/{group}"),
        tr_cd: header(&headers, HEADER_API_ID),
        authorization: header(&headers, "authorization"),
        cont_yn: header(&headers, HEADER_CONT_YN),
        next_key: header(&headers, HEADER_NEXT_KEY),
        body,
    };
    let api_id = call.tr_cd.clone().unwrap_or_default();
    let reply = ask(&route.engine, &api_id, |reply| Command::KiwoomTr {
        call,
        reply,
    })
    .await;
    if let Some(delay) = route.reply_delay {
        tokio::time::sleep(delay).await;
    }
    reply
}

/// A path Kiwoom does not serve: `[1504]` inside HTTP 200, as for an api-id on the
/// wrong path (UNCONFIRMED what Kiwoom's gateway answers for an unknown path).
async fn not_found(headers: HeaderMap) -> KiwoomReply {
    let api_id = header(&headers, HEADER_API_ID).unwrap_or_default();
    KiwoomReply::ok(
        &api_id,
        super::refusal(
            RC_INPUT,
            condor_model::kiwoom::rest::MSG_SERVICE_ERROR,
            1504,
            "해당 URI에서는 지원하지 않는 API ID입니다",
        ),
    )
}
