//! The LS OPEN API REST client: one access token, then typed TR calls (`POST` to the
//! TR's group path with the `tr_cd` header) decoded through `wire`.
//!
//! Owns the HTTP connection pool and the token. Must never log or return in an error the
//! app key, the app secret or the token.

use std::time::Duration;

use crate::wire::rest::{decode_reply, encode_request, is_gateway_code, Reply, Tr};
use crate::wire::token::{decode_token_reply, TokenReply, TokenRequest};

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
    #[error("{tr_cd}: HTTP {status} with an undecodable body: {reason}")]
    Decode {
        tr_cd: &'static str,
        status: u16,
        reason: String,
    },
}

impl LsError {
    /// True for `IGW00201`: the call was refused for the TR's rate limit.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self, LsError::Gateway { code, .. } if code == "IGW00201")
    }
}

/// A REST session: cheap to clone (the pool and token are shared).
#[derive(Clone)]
pub struct LsRest {
    http: reqwest::Client,
    base: String,
    bearer: String,
}

impl std::fmt::Debug for LsRest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LsRest")
            .field("base", &self.base)
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

impl LsRest {
    /// Gets a token for the key pair from `{base}/oauth2/token`.
    pub async fn connect(base: &str, appkey: &str, appsecret: &str) -> Result<LsRest, LsError> {
        install_tls_provider();
        let base = base.trim_end_matches('/').to_owned();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| transport(&base, e))?;
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
            Ok(TokenReply::Granted(t)) => Ok(LsRest {
                http,
                base,
                bearer: format!("Bearer {}", t.access_token),
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

    /// The access token, for websocket registration frames.
    pub fn token(&self) -> &str {
        self.bearer.trim_start_matches("Bearer ")
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
    pub async fn call_page<T: Tr>(
        &self,
        input: &T::In,
        cont_key: Option<&str>,
    ) -> Result<(Reply<T::Out>, Option<String>), LsError> {
        let url = format!("{}{}", self.base, T::PATH);
        let resp = self
            .http
            .post(&url)
            .header("content-type", "application/json; charset=utf-8")
            .header("authorization", &self.bearer)
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
