//! The Kiwoom REST client: an access token (au10001) kept fresh, then typed TR calls
//! (`POST` to the TR's group path with the `api-id` header, reference §3) encoded and
//! decoded by the Kiwoom wire crate (`condor_model::kiwoom`), every page of a list.
//!
//! Kiwoom answers most errors with HTTP 200 and a non-zero `return_code`; the codec's
//! [`Refusal`] classifies them and says what a caller may do ([`Retry`]). This client acts
//! on that: `8005` (or HTTP 401) gets one new token and the call once more, orders
//! included (the gateway refused the call before the order system saw it); a second
//! refusal of the token is [`KiwoomRestError::TokenRefusedAgain`]. A rate-limit refusal
//! (HTTP 429 / `1700`, not executed) of a query is waited out a few times; of an order it
//! is returned (the desk paces orders itself). Nothing else is retried: a timeout or a
//! lost connection may have placed an order, which is never sent twice.
//!
//! The token lives until Kiwoom's `expires_dt` (KST, absolute): it is renewed in the
//! background once 90% of its life has passed ([`TokenPolicy`]; the same keeper and retry
//! as LS's, [`crate::token_keeper`]), issued first by a call that finds it expired by our clock,
//! and one issue at a time, so calls refused together wait for the same new token. Its
//! times are read on the engine's clock ([`KiwoomRest::connect_with`]).
//!
//! Calls are paced on our side under Kiwoom's terms of use (reference §7, UNCONFIRMED):
//! at most 5 queries and 5 orders in any second (plus a margin), configurable
//! ([`KiwoomRates`]).
//!
//! Owns the HTTP connection pool, the key pair, the token and the pacers. Must never log
//! or return in an error the app key, the secret key or the token.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use condor_model::kiwoom::rest::{
    bearer, check_reply, Continuation, Paging, PagingError, Refusal, Retry, Tr, HEADER_API_ID,
    HEADER_AUTHORIZATION, HEADER_CONTENT_TYPE, HEADER_CONT_YN, HEADER_NEXT_KEY, JSON_CONTENT_TYPE,
};
use condor_model::kiwoom::token::{Au10001, TokenRequest};
use condor_model::kiwoom::KiwoomError;
use condor_model::secret::Secret;
use condor_model::wire::WireError;

use crate::access_token::{TokenLifetime, TokenPolicy};
use crate::clock::{Clock, SystemClock};
use crate::ls_rest::install_tls_provider;
use crate::throttle::{Throttle, DEFAULT_MARGIN};
use crate::token_keeper::{TokenIssuer, TokenKeeper};

const LOG: &str = "condor::kiwoom";

/// A query refused for the rate limit is sent again after this (§7: "back off ~1 s").
const RATE_WAIT: Duration = Duration::from_secs(1);
/// How many times one query is sent again after a rate-limit refusal.
const RATE_RETRIES: u32 = 5;
/// More pages than any day of orders needs; a server still saying `cont-yn: Y` is broken.
const MAX_PAGES: u32 = 1_000;
/// Per HTTP call: a reply slower than this is a transport error (for an order: lost).
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The cash-order TRs: an order whose fate is unknown is never sent again, and they are
/// paced as orders.
pub fn is_order_tr(api_id: &str) -> bool {
    matches!(api_id, "kt10000" | "kt10001" | "kt10002" | "kt10003")
}

/// Why a Kiwoom REST call failed before a TR's answer came back.
#[derive(Debug, thiserror::Error)]
pub enum KiwoomRestError {
    /// No answer: refused connection, reset, timeout. An order may have been placed.
    #[error("{api_id}: cannot reach {url}: {reason}")]
    Transport {
        api_id: &'static str,
        url: String,
        reason: String,
    },
    /// Kiwoom answered no (a non-zero `return_code`, or an HTTP status that says so);
    /// the refusal's `Display` names the class, the code and its meaning.
    #[error("{api_id}: {refusal}")]
    Refused {
        api_id: &'static str,
        refusal: Refusal,
    },
    /// The host belongs to the other investment type than the key pair (8030) or the
    /// token (8031): a real key or token at mockapi.kiwoom.com, or a paper one at
    /// api.kiwoom.com. Not retried: a new token on the wrong host fails the same way.
    #[error("{api_id}: {refusal}; {}", mismatch_advice(.refusal, base))]
    WrongServer {
        api_id: &'static str,
        /// The host called, as configured.
        base: String,
        refusal: Refusal,
    },
    /// The token was refused (8005), a new one was issued, and Kiwoom refused the call
    /// again for its token: not retried further (something else is wrong: the key's
    /// rights, the IP, the host).
    #[error("{api_id}: Kiwoom refused the token again after a new one was issued; not retried: {refusal}")]
    TokenRefusedAgain {
        api_id: &'static str,
        refusal: Refusal,
    },
    /// The token was refused (8005) and no new one could be issued.
    #[error("{api_id}: {refusal}; and no new token could be issued: {cause}")]
    NoNewToken {
        api_id: &'static str,
        refusal: Refusal,
        cause: String,
    },
    /// An answer that could not be read: for an order, it may have been placed.
    #[error("{api_id}: HTTP {status} with a reply that cannot be read: {error}")]
    Decode {
        api_id: &'static str,
        status: u16,
        error: WireError,
    },
    #[error(transparent)]
    Paging(#[from] PagingError),
}

impl KiwoomRestError {
    /// The refusal Kiwoom answered with, if it answered.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            KiwoomRestError::Refused { refusal, .. }
            | KiwoomRestError::WrongServer { refusal, .. }
            | KiwoomRestError::TokenRefusedAgain { refusal, .. }
            | KiwoomRestError::NoNewToken { refusal, .. } => Some(refusal),
            _ => None,
        }
    }

    /// Refused for the rate limit (HTTP 429 / 1700): not executed.
    pub fn is_rate_limited(&self) -> bool {
        self.refusal().is_some_and(Refusal::is_rate_limited)
    }
}

/// How fast this client calls Kiwoom (reference §7: 5 queries and 5 orders a second, per
/// the terms of use; UNCONFIRMED, and measured lower per api-id on the real server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KiwoomRates {
    pub queries_per_sec: u32,
    pub orders_per_sec: u32,
}

impl Default for KiwoomRates {
    fn default() -> Self {
        KiwoomRates {
            queries_per_sec: 5,
            orders_per_sec: 5,
        }
    }
}

/// At most N calls in any second (plus [`DEFAULT_MARGIN`]); callers queue in turn.
struct Pacer(tokio::sync::Mutex<Throttle>);

impl Pacer {
    fn new(per_sec: u32) -> Pacer {
        let throttle = Throttle::for_broker_limit(per_sec.max(1), DEFAULT_MARGIN)
            .or_else(|_| Throttle::for_broker_limit(1, DEFAULT_MARGIN))
            .expect("one call a second is a valid throttle");
        Pacer(tokio::sync::Mutex::new(throttle))
    }

    /// Waits (holding the queue) until a call may go out, and counts it.
    async fn wait_turn(&self) {
        let mut throttle = self.0.lock().await;
        while let Err(wait) = throttle.try_acquire(Instant::now()) {
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }
}

/// A Kiwoom REST session: cheap to clone (the pool, the token and the pacers are shared).
#[derive(Clone)]
pub struct KiwoomRest {
    inner: Arc<TokenKeeper<Session>>,
}

/// Kiwoom's side of the session: the connection pool, the host, the key pair, the pacers.
struct Session {
    http: reqwest::Client,
    base: String,
    appkey: Secret,
    secretkey: Secret,
    queries: Pacer,
    orders: Pacer,
}

impl TokenIssuer for Session {
    type Error = KiwoomRestError;
    const LOG: &'static str = LOG;
    const REFUSER: &'static str = "Kiwoom";

    fn issue(
        &self,
    ) -> impl Future<Output = Result<(String, TokenLifetime), KiwoomRestError>> + Send {
        request_token(&self.http, &self.base, &self.appkey, &self.secretkey)
    }

    fn is_rate_limited(e: &KiwoomRestError) -> bool {
        e.is_rate_limited()
    }

    fn is_token_refusal(e: &KiwoomRestError) -> bool {
        matches!(e, KiwoomRestError::Refused { refusal, .. } if refusal.retry() == Retry::NewToken)
    }

    fn refused_again(refusal: KiwoomRestError) -> KiwoomRestError {
        match refusal {
            KiwoomRestError::Refused { api_id, refusal } => {
                KiwoomRestError::TokenRefusedAgain { api_id, refusal }
            }
            other => other,
        }
    }

    fn no_new_token(refusal: KiwoomRestError, cause: KiwoomRestError) -> KiwoomRestError {
        match refusal {
            KiwoomRestError::Refused { api_id, refusal } => KiwoomRestError::NoNewToken {
                api_id,
                refusal,
                cause: cause.to_string(),
            },
            other => other,
        }
    }
}

impl std::fmt::Debug for KiwoomRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KiwoomRest")
            .field("base", &self.inner.issuer().base)
            .field("token", &self.inner.held())
            .finish_non_exhaustive()
    }
}

fn transport(api_id: &'static str, url: &str, e: reqwest::Error) -> KiwoomRestError {
    // reqwest's Display may carry the URL but never a header or body, so no secret.
    KiwoomRestError::Transport {
        api_id,
        url: url.to_owned(),
        reason: e.to_string(),
    }
}

/// Kiwoom's real REST host (reference §1).
const REAL_HOST: &str = "api.kiwoom.com";
/// Kiwoom's paper (모의투자) REST host.
const PAPER_HOST: &str = "mockapi.kiwoom.com";

/// What a user changes after an 8030/8031 at `base`: the key pair or the host, named.
fn mismatch_advice(refusal: &Refusal, base: &str) -> String {
    let what = if refusal.inner_code() == Some(8030) {
        "the app key"
    } else {
        "the token (issued with the key pair)"
    };
    let host = base
        .split("://")
        .last()
        .unwrap_or(base)
        .split(['/', ':'])
        .next()
        .unwrap_or(base);
    let called = if host == PAPER_HOST {
        format!("{base} is Kiwoom's paper (모의투자) server, so {what} is a real-trading one: use the paper key pair from Kiwoom's portal, or call https://{REAL_HOST}")
    } else if host == REAL_HOST {
        format!("{base} is Kiwoom's real server, so {what} is a paper (모의투자) one: use the real-trading key pair, or call https://{PAPER_HOST}")
    } else {
        format!("{what} belongs to the other server than {base}: paper key pairs work only at https://{PAPER_HOST}, real ones only at https://{REAL_HOST}; match the key pair and the host")
    };
    format!("{called} (the REST host and the key pair are set together)")
}

/// A reply's failure as this client names it: a real/paper mismatch with the host called.
fn classify(api_id: &'static str, base: &str, status: u16, e: KiwoomError) -> KiwoomRestError {
    match e {
        KiwoomError::Refused(refusal) if refusal.is_server_mismatch() => {
            KiwoomRestError::WrongServer {
                api_id,
                base: base.to_owned(),
                refusal,
            }
        }
        KiwoomError::Refused(refusal) => KiwoomRestError::Refused { api_id, refusal },
        KiwoomError::Wire(error) => KiwoomRestError::Decode {
            api_id,
            status,
            error,
        },
    }
}

/// Asks `{base}/oauth2/token` (au10001) for a token: its value and its `expires_dt`.
async fn request_token(
    http: &reqwest::Client,
    base: &str,
    appkey: &Secret,
    secretkey: &Secret,
) -> Result<(String, TokenLifetime), KiwoomRestError> {
    let url = format!("{base}{}", Au10001::PATH);
    let body = condor_model::kiwoom::rest::encode_request::<Au10001>(&TokenRequest::new(
        appkey.expose(),
        secretkey.expose(),
    ));
    let resp = http
        .post(&url)
        .header(HEADER_CONTENT_TYPE, JSON_CONTENT_TYPE)
        .header(HEADER_API_ID, Au10001::API_ID)
        .body(body)
        .send()
        .await
        .map_err(|e| transport(Au10001::API_ID, &url, e))?;
    let status = resp.status().as_u16();
    let text = resp
        .text()
        .await
        .map_err(|e| transport(Au10001::API_ID, &url, e))?;
    let grant = check_reply::<Au10001>(status, &text)
        .map_err(|e| classify(Au10001::API_ID, base, status, e))?;
    let (token, expires) = grant.check().map_err(|error| KiwoomRestError::Decode {
        api_id: Au10001::API_ID,
        status,
        error,
    })?;
    Ok((
        token.to_owned(),
        TokenLifetime::ExpiresAt(expires.unix_ms()),
    ))
}

impl KiwoomRest {
    /// Gets a token for the key pair from `{base}/oauth2/token` (au10001) and keeps it
    /// fresh on the system clock, calling at the default rates.
    pub async fn connect(
        base: &str,
        appkey: &Secret,
        secretkey: &Secret,
    ) -> Result<KiwoomRest, KiwoomRestError> {
        KiwoomRest::connect_with(
            base,
            appkey,
            secretkey,
            TokenPolicy::default(),
            KiwoomRates::default(),
            Arc::new(SystemClock),
        )
        .await
    }

    /// [`KiwoomRest::connect`] with another renewal policy and rates, its times on
    /// `clock` (the engine's: an accelerated one runs tokens' lives in market time).
    pub async fn connect_with(
        base: &str,
        appkey: &Secret,
        secretkey: &Secret,
        policy: TokenPolicy,
        rates: KiwoomRates,
        clock: Arc<dyn Clock>,
    ) -> Result<KiwoomRest, KiwoomRestError> {
        install_tls_provider();
        let base = base.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| transport(Au10001::API_ID, &base, e))?;
        let session = Session {
            http,
            base,
            appkey: appkey.clone(),
            secretkey: secretkey.clone(),
            queries: Pacer::new(rates.queries_per_sec),
            orders: Pacer::new(rates.orders_per_sec),
        };
        let inner = TokenKeeper::start(session, policy, clock).await?;
        Ok(KiwoomRest { inner })
    }

    /// The current token, for the websocket's LOGIN frame (bare, without `Bearer`).
    pub fn token(&self) -> Secret {
        Secret::new(self.inner.held().expose())
    }

    /// Tokens this client has been granted, the first included.
    pub fn tokens_issued(&self) -> u64 {
        self.inner.held().generation()
    }

    /// The token as it is renewed: what a websocket session logs in with.
    pub fn token_source(&self) -> crate::access_token::TokenSource {
        crate::access_token::TokenSource::live(self.inner.clone())
    }

    /// Calls TR `T` (one page): its fields on success, else why not.
    pub async fn call<T: Tr>(&self, req: &T::Req) -> Result<T::Resp, KiwoomRestError> {
        self.call_page::<T>(req, &Continuation::first())
            .await
            .map(|(resp, _)| resp)
    }

    /// Every page of TR `T`: the same request again with `cont-yn: Y` and the reply's
    /// `next-key` until Kiwoom says `N` (§3.3), guarded against a server that never does.
    pub async fn call_all<T: Tr>(&self, req: &T::Req) -> Result<Vec<T::Resp>, KiwoomRestError> {
        let mut paging = Paging::new(T::API_ID, MAX_PAGES);
        let mut cont = Continuation::first();
        let mut pages = Vec::new();
        loop {
            let (resp, next) = self.call_page::<T>(req, &cont).await?;
            pages.push(resp);
            match paging.next(&next)? {
                Some(c) => cont = c,
                None => return Ok(pages),
            }
        }
    }

    /// Calls TR `T` for one page (`cont` from the previous reply, or
    /// [`Continuation::first`]); returns its fields and the reply's continuation.
    ///
    /// A refusal of the token (8005, HTTP 401) gets a new token and the call once more,
    /// orders included. A query refused for the rate limit waits and goes again (a few
    /// times). Nothing else is sent twice.
    pub async fn call_page<T: Tr>(
        &self,
        req: &T::Req,
        cont: &Continuation,
    ) -> Result<(T::Resp, Continuation), KiwoomRestError> {
        let mut rate_retries = 0;
        loop {
            match self.call_with_token_retry::<T>(req, cont).await {
                Err(e)
                    if e.is_rate_limited()
                        && !is_order_tr(T::API_ID)
                        && rate_retries < RATE_RETRIES =>
                {
                    rate_retries += 1;
                    log::debug!(target: LOG, "{e}; calling again in {RATE_WAIT:?}");
                    tokio::time::sleep(RATE_WAIT).await;
                }
                other => return other,
            }
        }
    }

    /// One page with the token, and once more with a new one if Kiwoom refused it.
    async fn call_with_token_retry<T: Tr>(
        &self,
        req: &T::Req,
        cont: &Continuation,
    ) -> Result<(T::Resp, Continuation), KiwoomRestError> {
        self.inner
            .call(|token| async move { self.send::<T>(token.expose(), req, cont).await })
            .await
    }

    /// One HTTP call of TR `T` with `token`, paced as a query or an order.
    async fn send<T: Tr>(
        &self,
        token: &str,
        req: &T::Req,
        cont: &Continuation,
    ) -> Result<(T::Resp, Continuation), KiwoomRestError> {
        let session = self.inner.issuer();
        if is_order_tr(T::API_ID) {
            session.orders.wait_turn().await;
        } else {
            session.queries.wait_turn().await;
        }
        let url = format!("{}{}", session.base, T::PATH);
        let mut request = session
            .http
            .post(&url)
            .header(HEADER_CONTENT_TYPE, JSON_CONTENT_TYPE)
            .header(HEADER_API_ID, T::API_ID)
            .header(HEADER_AUTHORIZATION, bearer(token));
        for (name, value) in cont.request_headers() {
            request = request.header(name, value);
        }
        let resp = request
            .body(condor_model::kiwoom::rest::encode_request::<T>(req))
            .send()
            .await
            .map_err(|e| transport(T::API_ID, &url, e))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = Continuation::from_headers(
            header(HEADER_CONT_YN).as_deref(),
            header(HEADER_NEXT_KEY).as_deref(),
        );
        let body = resp
            .text()
            .await
            .map_err(|e| transport(T::API_ID, &url, e))?;
        let fields = check_reply::<T>(status, &body)
            .map_err(|e| classify(T::API_ID, &session.base, status, e))?;
        Ok((fields, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cash_order_trs_are_orders() {
        for id in ["kt10000", "kt10001", "kt10002", "kt10003"] {
            assert!(is_order_tr(id), "{id}");
        }
        for id in [
            "ka10001", "kt00001", "kt00018", "ka10075", "ka10076", "au10001",
        ] {
            assert!(!is_order_tr(id), "{id}");
        }
    }

    #[test]
    fn a_refusal_says_whether_it_was_the_rate_limit() {
        let limited = KiwoomRestError::Refused {
            api_id: "ka10001",
            refusal: Refusal::new(
                5,
                "허용된 요청 개수를 초과하였습니다[1700:허용된 요청 개수를 초과하였습니다. API ID=ka10001]",
            )
            .with_http_status(429),
        };
        assert!(limited.is_rate_limited());
        let token = KiwoomRestError::Refused {
            api_id: "ka10001",
            refusal: Refusal::new(3, "인증에 실패했습니다[8005:Token이 유효하지 않습니다]"),
        };
        assert!(!token.is_rate_limited());
        assert_eq!(token.refusal().unwrap().retry(), Retry::NewToken);
        let lost = KiwoomRestError::Transport {
            api_id: "kt10000",
            url: "http://127.0.0.1:1/api/dostk/ordr".into(),
            reason: "timed out".into(),
        };
        assert!(lost.refusal().is_none() && !lost.is_rate_limited());
        let shown = token.to_string();
        assert!(
            shown.contains("ka10001")
                && shown.contains("8005")
                && shown.contains("token is not valid"),
            "{shown}"
        );
    }

    /// An 8030/8031 names the host called and what to change: the key pair, or the host.
    #[test]
    fn a_real_paper_mismatch_says_which_host_was_called_and_what_to_change() {
        let key = Refusal::new(
            3,
            "인증에 실패했습니다[8030:투자구분(실전/모의)이 달라서 Appkey를 사용할수가 없습니다]",
        );
        let token = Refusal::new(3, "인증에 실패했습니다[8031:모의투자 미신청]");
        let at = |base: &str, refusal: &Refusal| {
            classify("au10001", base, 200, KiwoomError::Refused(refusal.clone()))
        };
        let e = at("https://mockapi.kiwoom.com", &key);
        assert!(matches!(e, KiwoomRestError::WrongServer { .. }), "{e:?}");
        assert_eq!(e.refusal().and_then(Refusal::inner_code), Some(8030));
        let shown = e.to_string();
        for words in [
            "[8030]",
            "paper (모의투자) server",
            "the app key is a real-trading one",
            "use the paper key pair",
            "https://api.kiwoom.com",
        ] {
            assert!(shown.contains(words), "{words:?} in {shown}");
        }
        let shown = at("https://api.kiwoom.com:443/", &token).to_string();
        for words in [
            "[8031]",
            "real server",
            "the token (issued with the key pair) is a paper",
            "https://mockapi.kiwoom.com",
        ] {
            assert!(shown.contains(words), "{words:?} in {shown}");
        }
        let shown = at("http://127.0.0.1:8080", &token).to_string();
        assert!(
            shown.contains("other server than http://127.0.0.1:8080")
                && shown.contains("match the key pair and the host"),
            "{shown}"
        );
        // Anything else is a plain refusal.
        let bad_keys = Refusal::new(
            3,
            "인증에 실패했습니다[8001:App Key와 Secret Key 검증에 실패했습니다]",
        );
        assert!(matches!(
            at("https://api.kiwoom.com", &bad_keys),
            KiwoomRestError::Refused { .. }
        ));
    }

    #[test]
    fn the_default_rates_are_five_queries_and_five_orders_a_second() {
        assert_eq!(
            KiwoomRates::default(),
            KiwoomRates {
                queries_per_sec: 5,
                orders_per_sec: 5
            }
        );
    }
}
