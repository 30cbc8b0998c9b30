//! The LS OPEN API REST client: an access token, kept fresh, then typed TR calls (`POST`
//! to the TR's group path with the `tr_cd` header) decoded through `wire`.
//!
//! The token is renewed in the background once 90% of its `expires_in` has passed (the
//! calls meanwhile go on with the old one, still valid), issued first by a call that finds
//! it expired by our clock, and re-issued when the gateway refuses it (IGW00121/IGW00123),
//! the refused call then made once more. One issue at a time, never two within a second:
//! calls refused together wait for the same new token. Its times are read on the engine's
//! clock ([`LsRest::connect_with`]): on an accelerated one (`CONDOR_CLOCK`) a token lives
//! its `expires_in` in market time, as the simulator on the same clock counts it. That
//! keeping and the retry are [`crate::token_keeper`]'s, shared with Kiwoom's client; what is
//! LS's own is how a token is issued and which gateway codes refuse one.
//!
//! Owns the HTTP connection pool, the key pair and the token. Must never log or return in
//! an error the app key, the app secret or the token, and never call a TR a second time
//! unless the gateway refused its token (an order whose fate is unknown is never resent).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Where it always was; it lives in `access_token` now, live from a `KiwoomRest` too.
pub use crate::access_token::TokenSource;
use crate::access_token::{TokenLifetime, TokenPolicy};
use crate::clock::{Clock, SystemClock};
use crate::token_keeper::{TokenIssuer, TokenKeeper};
use crate::wire::rest::{
    decode_reply, encode_request, is_gateway_code, is_token_refusal, Reply, Tr,
};
use crate::wire::token::{decode_token_reply, TokenReply, TokenRequest};

const LOG: &str = "condor::rest";

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
    inner: Arc<TokenKeeper<Gateway>>,
}

/// LS's side of the session: the connection pool, the address and the key pair.
struct Gateway {
    http: reqwest::Client,
    base: String,
    appkey: String,
    appsecret: String,
}

impl TokenIssuer for Gateway {
    type Error = LsError;
    const LOG: &'static str = LOG;
    const REFUSER: &'static str = "the gateway";

    fn issue(&self) -> impl Future<Output = Result<(String, TokenLifetime), LsError>> + Send {
        request_token(&self.http, &self.base, &self.appkey, &self.appsecret)
    }

    fn is_rate_limited(e: &LsError) -> bool {
        e.is_rate_limited()
    }

    fn is_token_refusal(e: &LsError) -> bool {
        matches!(e, LsError::Gateway { code, .. } if is_token_refusal(code))
    }

    fn refused_again(refusal: LsError) -> LsError {
        match refusal {
            LsError::Gateway {
                tr_cd,
                status,
                code,
                msg,
            } => LsError::TokenRefusedAgain {
                tr_cd,
                status,
                code,
                msg,
            },
            other => other,
        }
    }

    fn no_new_token(mut refusal: LsError, cause: LsError) -> LsError {
        if let LsError::Gateway { msg, .. } = &mut refusal {
            *msg = format!("{} (and no new token could be issued: {cause})", msg.trim());
        }
        refusal
    }
}

impl std::fmt::Debug for LsRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LsRest")
            .field("base", &self.inner.issuer().base)
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
        let gateway = Gateway {
            http,
            base,
            appkey: appkey.to_owned(),
            appsecret: appsecret.to_owned(),
        };
        let inner = TokenKeeper::start(gateway, policy, clock).await?;
        Ok(LsRest { inner })
    }

    /// The current access token, for websocket registration frames. A session that lives
    /// longer than a token takes [`LsRest::token_source`] instead.
    pub fn token(&self) -> String {
        self.inner.held().expose().to_owned()
    }

    /// The token as it is renewed: what a websocket session registers with.
    pub fn token_source(&self) -> TokenSource {
        TokenSource::live(self.inner.clone())
    }

    /// Tokens this client has been granted, the first included.
    pub fn tokens_issued(&self) -> u64 {
        self.inner.held().generation()
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
        self.inner
            .call(|token| async move { self.send::<T>(token.expose(), input, cont_key).await })
            .await
    }

    /// One HTTP call of TR `T` with `token`.
    async fn send<T: Tr>(
        &self,
        token: &str,
        input: &T::In,
        cont_key: Option<&str>,
    ) -> Result<(Reply<T::Out>, Option<String>), LsError> {
        let gateway = self.inner.issuer();
        let url = format!("{}{}", gateway.base, T::PATH);
        let resp = gateway
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
