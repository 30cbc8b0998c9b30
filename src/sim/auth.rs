//! OAuth2 client-credentials tokens as LS issues them: `/oauth2/token` checks the key
//! pair and hands out a JWT-shaped bearer token valid for 86,400 s; `/oauth2/revoke`
//! withdraws one.
//!
//! Owns the issued tokens. Must never log a key, a secret or a token.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use condor_actors::wire::token::{RevokeResponse, TokenError, TokenResponse};

use super::exchange::rate_limit::RateLimiter;
use super::http::HttpReply;
use crate::secret::Secret;

/// Token lifetime in seconds, as LS's example (`exp - iat`).
pub(crate) const TOKEN_LIFETIME_SECS: u64 = 86_400;

pub(crate) struct Tokens {
    appkey: Secret,
    appsecret: Secret,
    issued: HashMap<String, Instant>,
    rng: fastrand::Rng,
    serial: u64,
}

fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

impl Tokens {
    pub(crate) fn new(appkey: Secret, appsecret: Secret) -> Tokens {
        Tokens {
            appkey,
            appsecret,
            issued: HashMap::new(),
            // Tokens need not repeat across runs; seed from the clock.
            rng: fastrand::Rng::new(),
            serial: 0,
        }
    }

    /// `POST /oauth2/token`.
    pub(crate) fn issue(
        &mut self,
        form: &[(String, String)],
        limiter: &mut RateLimiter,
        now_ms: u64,
    ) -> HttpReply {
        if limiter.check("token", now_ms).is_err() {
            return token_error(500, "IGW00201", "호출 거래건수를 초과하였습니다.");
        }
        if form_value(form, "grant_type") != Some("client_credentials") {
            return token_error(
                400,
                "IGW00102",
                "grant_type은 client_credentials 이어야 합니다.",
            );
        }
        if form_value(form, "scope") != Some("oob") {
            return token_error(400, "IGW00104", "scope는 oob 이어야 합니다.");
        }
        if form_value(form, "appkey") != Some(self.appkey.expose()) {
            return token_error(403, "IGW00103", "유효하지 않은 AppKey입니다.");
        }
        if form_value(form, "appsecretkey") != Some(self.appsecret.expose()) {
            // UNCONFIRMED: third-party code reports IGW00105 for a bad secret; status 403
            // like the bad-key case.
            return token_error(403, "IGW00105", "유효하지 않은 AppSecret입니다.");
        }
        self.issued
            .retain(|_, at| at.elapsed() < Duration::from_secs(TOKEN_LIFETIME_SECS));
        self.serial += 1;
        let token = self.jwt();
        self.issued.insert(token.clone(), Instant::now());
        let body = TokenResponse {
            access_token: token,
            scope: "oob".into(),
            token_type: "Bearer".into(),
            expires_in: TOKEN_LIFETIME_SECS as i64,
        };
        HttpReply::json(200, serde_json::to_string(&body).unwrap_or_default())
    }

    /// `POST /oauth2/revoke`.
    pub(crate) fn revoke(&mut self, form: &[(String, String)]) -> HttpReply {
        if form_value(form, "appkey") != Some(self.appkey.expose())
            || form_value(form, "appsecretkey") != Some(self.appsecret.expose())
        {
            return token_error(403, "IGW00103", "유효하지 않은 AppKey입니다.");
        }
        if let Some(t) = form_value(form, "token") {
            self.issued.remove(t);
        }
        let body = RevokeResponse {
            code: 200,
            message: "접근토큰 폐기에 성공하였습니다.".into(),
        };
        HttpReply::json(200, serde_json::to_string(&body).unwrap_or_default())
    }

    /// True for a token this simulator issued that has not expired or been revoked.
    pub(crate) fn is_valid(&self, token: &str) -> bool {
        self.issued
            .get(token)
            .is_some_and(|at| at.elapsed() < Duration::from_secs(TOKEN_LIFETIME_SECS))
    }

    /// Validates an `authorization: Bearer <token>` header value.
    pub(crate) fn check_bearer(&self, header: Option<&str>) -> bool {
        header
            .and_then(|h| {
                let (scheme, token) = h.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then_some(token.trim())
            })
            .is_some_and(|t| self.is_valid(t))
    }

    /// A token shaped like LS's HS512 JWT; clients treat it as opaque.
    fn jwt(&mut self) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = b64.encode(r#"{"typ":"JWT","alg":"HS512"}"#);
        let payload = b64.encode(format!(
            r#"{{"sub":"token","aud":"condor-sim","grant_type":"Client","iss":"unogw","exp":{},"iat":{now},"jti":"{}"}}"#,
            now + TOKEN_LIFETIME_SECS,
            self.serial
        ));
        let sig: Vec<u8> = (0..64).map(|_| self.rng.u8(..)).collect();
        format!("{header}.{payload}.{}", b64.encode(sig))
    }
}

fn token_error(status: u16, code: &str, description: &str) -> HttpReply {
    let body = TokenError {
        error_code: code.into(),
        error_description: description.into(),
    };
    HttpReply::json(status, serde_json::to_string(&body).unwrap_or_default())
}
