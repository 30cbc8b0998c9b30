//! The LS OPEN API REST client: an access token, kept fresh, then typed TR calls (`POST`
//! to the TR's group path with the `tr_cd` header) decoded through `wire`.
//!
//! The token is renewed in the background once 90% of its `expires_in` has passed (the
//! calls meanwhile go on with the old one, still valid), issued first by a call that finds
//! it expired by our clock, and re-issued when the gateway refuses it (IGW00121/IGW00123),
//! the refused call then made once more. One issue at a time, never two within a second:
//! calls refused together wait for the same new token. Its times are read on the engine's
//! clock ([`LsRest::connect_with`]): on an accelerated one (`CONDOR_CLOCK`) a token lives
//! its `expires_in` in market time, as the simulator on the same clock counts it.
//!
//! Owns the HTTP connection pool, the key pair and the token. Must never log or return in
//! an error the app key, the app secret or the token, and never call a TR a second time
//! unless the gateway refused its token (an order whose fate is unknown is never resent).

use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

/// Where it always was; it lives in `access_token` now, live from a `KiwoomRest` too.
pub use crate::access_token::TokenSource;
use crate::access_token::{AfterRefusal, Freshness, HeldToken, TokenLifetime, TokenPolicy};
use crate::clock::{Clock, SystemClock};
use crate::wire::rest::{
    decode_reply, encode_request, is_gateway_code, is_token_refusal, Reply, Tr,
};
use crate::wire::token::{decode_token_reply, TokenReply, TokenRequest};

const LOG: &str = "condor::rest";

/// How long the token endpoint's rate limit (IGW00201) is waited out, once, before an
/// issue gives up: LS counts calls in one-second windows.
const TOKEN_RATE_WAIT: Duration = Duration::from_secs(1);

/// The renewer sleeps at most this long (real time) before looking at the clock again, so
/// a wall clock stepped forward (NTP, a suspended laptop) cannot make it sleep past expiry.
const RENEWER_RECHECK: Duration = Duration::from_secs(60);

/// Why a REST call failed before a business answer came back.
#[derive(Debug, thiserror::Error)]
pub enum LsError {
    #[error("cannot reach {url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("token refused (HTTP {status}): {code} {description}")]
    TokenRefused {
        status: u16,
        code: String,
        description: String,
    },
    #[error("{tr_cd}: gateway error {code} (HTTP {status}): {msg}")]
    Gateway {
        tr_cd: &'static str,
        status: u16,
        code: String,
        msg: String,
    },
    /// The gateway refused the token, a new one was issued, and it refused the call again:
    /// not retried further (something other than expiry is wrong, e.g. the key's rights).
    #[error("{tr_cd}: the gateway refused the token ({code} {msg}, HTTP {status}) again after a new one was issued; not retried")]
    TokenRefusedAgain {
        tr_cd: &'static str,
        status: u16,
        code: String,
        msg: String,
    },
    #[error("{tr_cd}: HTTP {status} with an undecodable body: {reason}")]
    Decode {
        tr_cd: &'static str,
        status: u16,
        reason: String,
    },
}

impl LsError {
    /// True for `IGW00201`: the call (or the token issue) was refused for a rate limit.
    pub fn is_rate_limited(&self) -> bool {
        match self {
            LsError::Gateway { code, .. } | LsError::TokenRefused { code, .. } => {
                code == "IGW00201"
            }
            _ => false,
        }
    }

    /// The gateway answered and refused the call: it never reached the TR, so an order
    /// refused this way was not placed. (A transport or decode failure may have.)
    pub fn is_gateway_refusal(&self) -> bool {
        matches!(
            self,
            LsError::Gateway { .. } | LsError::TokenRefusedAgain { .. }
        )
    }
}

/// A REST session: cheap to clone (the pool and token are shared).
#[derive(Clone)]
pub struct LsRest {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: String,
    appkey: String,
    appsecret: String,
    policy: TokenPolicy,
    held: RwLock<HeldToken>,
    /// One issue at a time; holds when the last one was asked for (Unix ms on `clock`).
    issuing: tokio::sync::Mutex<Option<i64>>,
    /// The engine's clock: tokens' lifetimes and the gap between issues are measured on it.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for LsRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LsRest")
            .field("base", &self.inner.base)
            .finish_non_exhaustive()
    }
}

fn transport(url: &str, e: reqwest::Error) -> LsError {
    // reqwest's Display may carry the URL but never a header or body, so no secret.
    LsError::Transport {
        url: url.to_owned(),
        reason: e.to_string(),
    }
}

/// Installs rustls' aws-lc-rs provider as the process default (once; later calls are
/// no-ops), so wss (tokio-tungstenite) to LS's real endpoint works; reqwest brings its own.
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// Asks `{base}/oauth2/token` for a token: its value and lifetime (`expires_in`).
async fn request_token(
    http: &reqwest::Client,
    base: &str,
    appkey: &str,
    appsecret: &str,
) -> Result<(String, TokenLifetime), LsError> {
    let url = format!("{base}/oauth2/token");
    let resp = http
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(TokenRequest::new(appkey, appsecret).to_form())
        .send()
        .await
        .map_err(|e| transport(&url, e))?;
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| transport(&url, e))?;
    match decode_token_reply(&body) {
        Ok(TokenReply::Granted(t)) if t.expires_in > 0 => Ok((
            t.access_token,
            TokenLifetime::ExpiresIn(Duration::from_secs(t.expires_in.unsigned_abs())),
        )),
        Ok(TokenReply::Granted(t)) => Err(LsError::TokenRefused {
            status,
            code: String::new(),
            description: format!(
                "granted a token with expires_in {}: it must be a positive number of seconds",
                t.expires_in
            ),
        }),
        Ok(TokenReply::Refused(e)) => Err(LsError::TokenRefused {
            status,
            code: e.error_code,
            description: e.error_description,
        }),
        Err(e) => Err(LsError::TokenRefused {
            status,
            code: String::new(),
            description: e.to_string(),
        }),
    }
}

/// Sleeps until `clock` shows `at_ms` (Unix ms), however fast it runs (Kiwoom's client
/// waits the same way).
pub(crate) async fn sleep_until_clock(clock: &dyn Clock, at_ms: i64) {
    loop {
        let wait = clock
            .real_duration_until(at_ms)
            .unwrap_or(RENEWER_RECHECK)
            .min(RENEWER_RECHECK);
        if wait.is_zero() && clock.unix_ms() >= at_ms {
            return;
        }
        // At least a millisecond: a scaled clock's wait rounds down to the instant before.
        tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        if clock.unix_ms() >= at_ms {
            return;
        }
    }
}

/// "valid 30 s, renewed after 27.0 s": a token's life and renewal, from `asked_at`.
fn lifetime_words(held: &HeldToken, asked_at: i64) -> String {
    format!(
        "valid {} s, renewed after {:.1} s",
        held.expires_at().saturating_sub(asked_at) / 1000,
        held.renew_at().saturating_sub(asked_at) as f64 / 1000.0
    )
}

impl Inner {
    fn held(&self) -> HeldToken {
        self.held.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A new token, unless one newer than generation `seen` is already held (another
    /// caller renewed meanwhile). Callers queue for the one issue in flight.
    async fn renew(&self, seen: u64, why: &str) -> Result<(), LsError> {
        let mut last_issue = self.issuing.lock().await;
        if self.held().after_refusal(seen) == AfterRefusal::UseCurrent {
            return Ok(());
        }
        let mut waited_out_rate_limit = false;
        loop {
            let at = self.policy.next_issue_at(*last_issue, self.clock.unix_ms());
            sleep_until_clock(self.clock.as_ref(), at).await;
            let asked_at = self.clock.unix_ms();
            *last_issue = Some(asked_at);
            match request_token(&self.http, &self.base, &self.appkey, &self.appsecret).await {
                Ok((token, lifetime)) => {
                    let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
                    *held =
                        HeldToken::granted(Some(&held), token, asked_at, lifetime, &self.policy);
                    log::info!(target: LOG, "access token #{} issued ({why}): {}", held.generation(), lifetime_words(&held, asked_at));
                    return Ok(());
                }
                Err(e) if e.is_rate_limited() && !waited_out_rate_limit => {
                    log::warn!(target: LOG, "the token endpoint is rate limited ({e}); asking again in {TOKEN_RATE_WAIT:?}");
                    waited_out_rate_limit = true;
                    let again = self
                        .clock
                        .unix_ms()
                        .saturating_add(TOKEN_RATE_WAIT.as_millis() as i64);
                    sleep_until_clock(self.clock.as_ref(), again).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Renews the token at its renewal time, for as long as an `LsRest` lives; a failed
/// renewal is tried again with backoff while the old token still works.
fn spawn_renewer(inner: Weak<Inner>) {
    tokio::spawn(async move {
        let mut failures = 0u32;
        // After a failure: when to try again (kept, so a recheck does not push it on).
        let mut retry_at: Option<i64> = None;
        loop {
            let (wake, generation, clock) = {
                let Some(inner) = inner.upgrade() else { return };
                let held = inner.held();
                let wake = match retry_at {
                    Some(at) => at,
                    None => held.next_renewal(0, inner.clock.unix_ms(), &inner.policy),
                };
                (wake, held.generation(), inner.clock.clone())
            };
            // Not holding `inner` while asleep: a dropped LsRest ends the renewer.
            sleep_until_clock(clock.as_ref(), wake).await;
            let Some(inner) = inner.upgrade() else { return };
            match inner.renew(generation, "renewal before expiry").await {
                Ok(()) => {
                    failures = 0;
                    retry_at = None;
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let now = inner.clock.unix_ms();
                    retry_at = Some(inner.held().next_renewal(failures, now, &inner.policy));
                    let left = inner.held().expires_at().saturating_sub(now).max(0);
                    log::warn!(target: LOG, "cannot renew the access token ({e}); the current one has {:.1} s left; trying again in {:?}", left as f64 / 1000.0, inner.policy.retry_wait(failures));
                }
            }
        }
    });
}

impl LsRest {
    /// Gets a token for the key pair from `{base}/oauth2/token`, and keeps it fresh on the
    /// system clock.
    pub async fn connect(base: &str, appkey: &str, appsecret: &str) -> Result<LsRest, LsError> {
        LsRest::connect_with(
            base,
            appkey,
            appsecret,
            TokenPolicy::default(),
            Arc::new(SystemClock),
        )
        .await
    }

    /// [`LsRest::connect`] with another renewal policy, its times on `clock` (the engine's:
    /// an accelerated one runs tokens' lives in market time).
    pub async fn connect_with(
        base: &str,
        appkey: &str,
        appsecret: &str,
        policy: TokenPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<LsRest, LsError> {
        install_tls_provider();
        let base = base.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| transport(&base, e))?;
        let asked_at = clock.unix_ms();
        let (token, lifetime) = request_token(&http, &base, appkey, appsecret).await?;
        let held = HeldToken::granted(None, token, asked_at, lifetime, &policy);
        log::info!(target: LOG, "access token #1 issued: {}", lifetime_words(&held, asked_at));
        let inner = Arc::new(Inner {
            http,
            base,
            appkey: appkey.to_owned(),
            appsecret: appsecret.to_owned(),
            policy,
            held: RwLock::new(held),
            issuing: tokio::sync::Mutex::new(Some(asked_at)),
            clock,
        });
        spawn_renewer(Arc::downgrade(&inner));
        Ok(LsRest { inner })
    }

    /// The current access token, for websocket registration frames. A session that lives
    /// longer than a token takes [`LsRest::token_source`] instead.
    pub fn token(&self) -> String {
        self.inner.held().expose().to_owned()
    }

    /// The token as it is renewed: what a websocket session registers with.
    pub fn token_source(&self) -> TokenSource {
        TokenSource::live(self.clone())
    }

    /// Tokens this client has been granted, the first included.
    pub fn tokens_issued(&self) -> u64 {
        self.inner.held().generation()
    }

    /// The token to call with now and its generation: renewed first when our own clock
    /// says it has expired (a call with it would only be refused).
    async fn usable_token(&self) -> HeldToken {
        let held = self.inner.held();
        if held.freshness(self.inner.clock.unix_ms()) != Freshness::Expired {
            return held;
        }
        if let Err(e) = self
            .inner
            .renew(held.generation(), "the token expired unrenewed")
            .await
        {
            // The call goes out with the old token; the gateway's refusal says it was not
            // made, which an order's caller needs to know (an error here would not).
            log::warn!(target: LOG, "cannot issue a new access token: {e}");
        }
        self.inner.held()
    }

    /// Calls TR `T`. A business refusal (e.g. an order reject) is an `Ok` reply whose
    /// `rsp_cd` says so; gateway errors (rate limit, token) are `Err`.
    pub async fn call<T: Tr>(&self, input: &T::In) -> Result<Reply<T::Out>, LsError> {
        self.call_page::<T>(input, None)
            .await
            .map(|(reply, _)| reply)
    }

    /// Calls TR `T` for one page: the first when `cont_key` is `None`, else the page after
    /// the reply that gave the key. Returns the reply and, when the broker says more data
    /// follows (`tr_cont: Y`), the key for the next page. For t-TRs the caller also copies
    /// the out-block's `cts_*` field into the next in-block.
    ///
    /// A refusal of the token (IGW00121/IGW00123) gets a new token and the call once more,
    /// orders included: the gateway refused the call before the order system saw it. A
    /// second refusal is [`LsError::TokenRefusedAgain`]. Nothing else is retried here: a
    /// timeout or a lost connection may have placed an order.
    pub async fn call_page<T: Tr>(
        &self,
        input: &T::In,
        cont_key: Option<&str>,
    ) -> Result<(Reply<T::Out>, Option<String>), LsError> {
        let held = self.usable_token().await;
        let (status, code, msg) = match self.send::<T>(held.expose(), input, cont_key).await {
            Err(LsError::Gateway {
                status, code, msg, ..
            }) if is_token_refusal(&code) => (status, code, msg),
            other => return other,
        };
        log::info!(target: LOG, "{}: the gateway refused access token #{} [{code}] {}; issuing a new one and calling once more", T::TR_CD, held.generation(), msg.trim());
        if let Err(e) = self
            .inner
            .renew(held.generation(), "the gateway refused the last one")
            .await
        {
            return Err(LsError::Gateway {
                tr_cd: T::TR_CD,
                status,
                code,
                msg: format!("{} (and no new token could be issued: {e})", msg.trim()),
            });
        }
        let held = self.inner.held();
        match self.send::<T>(held.expose(), input, cont_key).await {
            Err(LsError::Gateway {
                tr_cd,
                status,
                code,
                msg,
            }) if is_token_refusal(&code) => Err(LsError::TokenRefusedAgain {
                tr_cd,
                status,
                code,
                msg,
            }),
            other => other,
        }
    }

    /// One HTTP call of TR `T` with `token`.
    async fn send<T: Tr>(
        &self,
        token: &str,
        input: &T::In,
        cont_key: Option<&str>,
    ) -> Result<(Reply<T::Out>, Option<String>), LsError> {
        let url = format!("{}{}", self.inner.base, T::PATH);
        let resp = self
            .inner
            .http
            .post(&url)
            .header("content-type", "application/json; charset=utf-8")
            .header("authorization", crate::wire::rest::bearer(token))
            .header("tr_cd", T::TR_CD)
            .header("tr_cont", if cont_key.is_some() { "Y" } else { "N" })
            .header("tr_cont_key", cont_key.unwrap_or(""))
            .body(encode_request::<T>(input))
            .send()
            .await
            .map_err(|e| transport(&url, e))?;
        let status = resp.status().as_u16();
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = match (header("tr_cont").as_deref(), header("tr_cont_key")) {
            (Some("Y"), Some(key)) => Some(key),
            _ => None,
        };
        let body = resp.text().await.map_err(|e| transport(&url, e))?;
        let reply = Self::read_reply::<T>(status, &body)?;
        Ok((reply, next))
    }

    fn read_reply<T: Tr>(status: u16, body: &str) -> Result<Reply<T::Out>, LsError> {
        match decode_reply::<T>(body) {
            Ok(reply) if is_gateway_code(&reply.rsp_cd) || status >= 500 => Err(LsError::Gateway {
                tr_cd: T::TR_CD,
                status,
                code: reply.rsp_cd,
                msg: reply.rsp_msg,
            }),
            Ok(reply) => Ok(reply),
            Err(e) => {
                // A gateway error carries no out-blocks; read just its code.
                let head: Result<serde_json::Value, _> = serde_json::from_str(body);
                match head {
                    Ok(v) if v.get("rsp_cd").is_some() => Err(LsError::Gateway {
                        tr_cd: T::TR_CD,
                        status,
                        code: v["rsp_cd"].as_str().unwrap_or_default().to_owned(),
                        msg: v["rsp_msg"].as_str().unwrap_or_default().to_owned(),
                    }),
                    _ => Err(LsError::Decode {
                        tr_cd: T::TR_CD,
                        status,
                        reason: e.to_string(),
                    }),
                }
            }
        }
    }
}

impl crate::access_token::LiveToken for LsRest {
    fn held(&self) -> HeldToken {
        self.inner.held()
    }

    fn refresh_if_expired(&self) -> crate::access_token::TokenFuture<'_, ()> {
        Box::pin(async move {
            self.usable_token().await;
        })
    }

    fn renew_after_refusal(
        &self,
        refused: u64,
    ) -> crate::access_token::TokenFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.inner
                .renew(refused, "a websocket registration was refused")
                .await
                .map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gateway_answers_say_an_order_was_not_placed() {
        let gateway = LsError::Gateway {
            tr_cd: "CSPAT00601",
            status: 500,
            code: "IGW00121".into(),
            msg: String::new(),
        };
        let again = LsError::TokenRefusedAgain {
            tr_cd: "CSPAT00601",
            status: 500,
            code: "IGW00123".into(),
            msg: "기간이 만료된 token 입니다.".into(),
        };
        let lost = LsError::Transport {
            url: "http://127.0.0.1:1/stock/order".into(),
            reason: "timed out".into(),
        };
        assert!(gateway.is_gateway_refusal() && again.is_gateway_refusal());
        assert!(!lost.is_gateway_refusal());
        assert!(
            again
                .to_string()
                .contains("again after a new one was issued"),
            "{again}"
        );
        let token_rate = LsError::TokenRefused {
            status: 500,
            code: "IGW00201".into(),
            description: String::new(),
        };
        assert!(token_rate.is_rate_limited());
    }
}
