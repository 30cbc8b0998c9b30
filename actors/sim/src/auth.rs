//! OAuth2 client-credentials tokens as LS issues them: `/oauth2/token` checks the key
//! pair and hands out a JWT-shaped bearer token valid for the configured lifetime (LS's
//! 86,400 s unless `--token-ttl-secs` says otherwise); `/oauth2/revoke` withdraws one.
//!
//! Owns the issued tokens and their counts. Must never log a key, a secret or a token.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use condor_model::clock::{Clock, SystemClock};
use condor_model::wire::token::{RevokeResponse, TokenError, TokenResponse};

use super::exchange::rate_limit::RateLimiter;
use super::http::HttpReply;
use condor_model::secret::Secret;

/// Token lifetime in seconds, as LS's example (`exp - iat`).
pub const TOKEN_LIFETIME_SECS: u64 = 86_400;

/// Gateway code for a token the gateway never issued or that was revoked: the code the
/// third-party clients handle as "invalid token" (reference §6; UNCONFIRMED).
pub(crate) const CODE_INVALID_TOKEN: &str = "IGW00121";
pub(crate) const MSG_INVALID_TOKEN: &str = "유효하지 않은 토큰입니다.";
/// Gateway code for a token past its lifetime. The reference lists IGW00121 and IGW00123
/// for "invalid/expired" without telling them apart; IGW00123 is the one third-party code
/// pairs with "기간이 만료된 token 입니다." (an expired token) on the same gateway family,
/// so the simulator answers it for expiry and keeps IGW00121 for a token it never issued.
/// Clients must treat both alike (UNCONFIRMED which LS sends).
pub(crate) const CODE_EXPIRED_TOKEN: &str = "IGW00123";
pub(crate) const MSG_EXPIRED_TOKEN: &str = "기간이 만료된 token 입니다.";

/// What a presented token is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenCheck {
    Valid,
    /// Issued here, but its lifetime is over.
    Expired,
    /// Never issued here, revoked, forgotten, or not a bearer header at all.
    Invalid,
}

impl TokenCheck {
    /// The gateway's answer to a call carrying this token, `None` when it may pass.
    pub(crate) fn refusal(self) -> Option<(&'static str, &'static str)> {
        match self {
            TokenCheck::Valid => None,
            TokenCheck::Expired => Some((CODE_EXPIRED_TOKEN, MSG_EXPIRED_TOKEN)),
            TokenCheck::Invalid => Some((CODE_INVALID_TOKEN, MSG_INVALID_TOKEN)),
        }
    }
}

pub(crate) struct Tokens {
    appkey: Secret,
    appsecret: Secret,
    lifetime: Duration,
    issued: HashMap<String, Instant>,
    rng: fastrand::Rng,
    serial: u64,
    /// Calls (REST or websocket registrations) refused for an expired token.
    expired_refusals: u64,
    /// The market's clock: a token lives its lifetime in market time, so on a scaled clock
    /// it expires overnight as at LS.
    clock: Arc<dyn Clock>,
}

fn form_value<'a>(form: &'a [(String, String)], key: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

impl Tokens {
    /// `lifetime` is whole seconds (it goes out as `expires_in`), at least one.
    pub(crate) fn new(appkey: Secret, appsecret: Secret, lifetime: Duration) -> Tokens {
        Tokens {
            appkey,
            appsecret,
            lifetime: Duration::from_secs(lifetime.as_secs().max(1)),
            issued: HashMap::new(),
            // Tokens need not repeat across runs; seed from the clock.
            rng: fastrand::Rng::new(),
            serial: 0,
            expired_refusals: 0,
            clock: Arc::new(SystemClock),
        }
    }

    /// The same, its lifetimes and `iat`/`exp` read on `clock`.
    pub(crate) fn with_clock(mut self, clock: Arc<dyn Clock>) -> Tokens {
        self.clock = clock;
        self
    }

    /// The monotonic time token lifetimes are measured in.
    pub(crate) fn now(&self) -> Instant {
        self.clock.now()
    }

    /// Tokens issued since the start.
    pub(crate) fn issued_count(&self) -> u64 {
        self.serial
    }

    /// Calls refused because their token had expired.
    pub(crate) fn expired_refusals(&self) -> u64 {
        self.expired_refusals
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
        self.serial += 1;
        let token = self.jwt();
        self.remember(token.clone());
        let body = TokenResponse {
            access_token: token,
            scope: "oob".into(),
            token_type: "Bearer".into(),
            expires_in: self.lifetime.as_secs() as i64,
        };
        HttpReply::json(200, serde_json::to_string(&body).unwrap_or_default())
    }

    /// Keeps `token` as issued now. An expired token is remembered for another lifetime,
    /// so it is answered as expired rather than unknown; after that it is forgotten
    /// (memory stays bounded).
    fn remember(&mut self, token: String) {
        let forget_after = self.lifetime.saturating_mul(2);
        let now = self.clock.now();
        self.issued
            .retain(|_, at| now.saturating_duration_since(*at) < forget_after);
        self.issued.insert(token, now);
    }

    /// Whether an app key and secret are the simulator's (Kiwoom's `appkey`/`secretkey`).
    pub(crate) fn keys_match(&self, appkey: &str, secret: &str) -> bool {
        appkey == self.appkey.expose() && secret == self.appsecret.expose()
    }

    /// Issues an opaque token as Kiwoom's look (86 base64url characters; clients treat it
    /// as opaque) and returns it with its expiry in Unix ms on the market's clock. The
    /// key pair and the rate limit are the caller's to check.
    pub(crate) fn issue_opaque(&mut self) -> (String, i64) {
        self.serial += 1;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let bytes: Vec<u8> = (0..64).map(|_| self.rng.u8(..)).collect();
        let token = b64.encode(bytes);
        self.remember(token.clone());
        let expires = self.clock.unix_ms() + self.lifetime.as_millis() as i64;
        (token, expires)
    }

    /// Forgets `token` (a revoke); true when it was known.
    pub(crate) fn forget(&mut self, token: &str) -> bool {
        self.issued.remove(token).is_some()
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

    /// Whether `token` may be used at `now`; an expired one is counted.
    pub(crate) fn check(&mut self, token: &str, now: Instant) -> TokenCheck {
        let verdict = match self.issued.get(token) {
            None => TokenCheck::Invalid,
            Some(at) if now.saturating_duration_since(*at) < self.lifetime => TokenCheck::Valid,
            Some(_) => TokenCheck::Expired,
        };
        if verdict == TokenCheck::Expired {
            self.expired_refusals += 1;
        }
        verdict
    }

    /// Checks an `authorization: Bearer <token>` header value.
    pub(crate) fn check_bearer(&mut self, header: Option<&str>, now: Instant) -> TokenCheck {
        let token = header.and_then(|h| {
            let (scheme, token) = h.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        });
        match token {
            Some(t) => self.check(t, now),
            None => TokenCheck::Invalid,
        }
    }

    /// A token shaped like LS's HS512 JWT; clients treat it as opaque.
    fn jwt(&mut self) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let now = u64::try_from(self.clock.unix_ms() / 1000).unwrap_or(0);
        let header = b64.encode(r#"{"typ":"JWT","alg":"HS512"}"#);
        let payload = b64.encode(format!(
            r#"{{"sub":"token","aud":"condor-sim","grant_type":"Client","iss":"unogw","exp":{},"iat":{now},"jti":"{}"}}"#,
            now + self.lifetime.as_secs(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use condor_model::wire::token::{decode_token_reply, TokenReply};

    fn form() -> Vec<(String, String)> {
        [
            ("grant_type", "client_credentials"),
            ("appkey", "KEY"),
            ("appsecretkey", "SECRET"),
            ("scope", "oob"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn issue(tokens: &mut Tokens, limiter: &mut RateLimiter, now_ms: u64) -> (String, i64) {
        let reply = tokens.issue(&form(), limiter, now_ms);
        assert_eq!(reply.status, 200, "{}", reply.body);
        match decode_token_reply(&reply.body).unwrap() {
            TokenReply::Granted(t) => (t.access_token, t.expires_in),
            TokenReply::Refused(e) => panic!("refused: {e:?}"),
        }
    }

    #[test]
    fn a_token_lives_its_lifetime_then_answers_expired_not_invalid() {
        let mut tokens = Tokens::new(
            Secret::new("KEY"),
            Secret::new("SECRET"),
            Duration::from_secs(3),
        );
        let mut limiter = RateLimiter::ls_defaults();
        let (token, expires_in) = issue(&mut tokens, &mut limiter, 0);
        assert_eq!(expires_in, 3, "expires_in is the configured lifetime");
        let t0 = Instant::now();
        assert_eq!(tokens.check(&token, t0), TokenCheck::Valid);
        let bearer = format!("Bearer {token}");
        assert_eq!(tokens.check_bearer(Some(&bearer), t0), TokenCheck::Valid);
        let later = t0 + Duration::from_secs(3);
        assert_eq!(tokens.check(&token, later), TokenCheck::Expired);
        assert_eq!(
            tokens.check_bearer(Some(&bearer), later),
            TokenCheck::Expired
        );
        assert_eq!(tokens.expired_refusals(), 2);
        assert_eq!(tokens.check("never-issued", t0), TokenCheck::Invalid);
        assert_eq!(
            tokens.check_bearer(Some(&token), t0),
            TokenCheck::Invalid,
            "no scheme"
        );
        assert_eq!(tokens.check_bearer(None, t0), TokenCheck::Invalid);
        assert_eq!(tokens.expired_refusals(), 2, "only expiries are counted");
        assert_eq!(
            TokenCheck::Expired.refusal(),
            Some((CODE_EXPIRED_TOKEN, MSG_EXPIRED_TOKEN))
        );
        assert_eq!(
            TokenCheck::Invalid.refusal().map(|r| r.0),
            Some(CODE_INVALID_TOKEN)
        );
        assert_eq!(TokenCheck::Valid.refusal(), None);
        let (second, _) = issue(&mut tokens, &mut limiter, 1);
        assert_ne!(second, token, "every issue is a new token");
        assert_eq!(tokens.issued_count(), 2);
    }

    #[test]
    fn the_default_lifetime_is_lss_and_issuing_keeps_to_ten_a_second() {
        let mut tokens = Tokens::new(
            Secret::new("KEY"),
            Secret::new("SECRET"),
            Duration::from_secs(TOKEN_LIFETIME_SECS),
        );
        let mut limiter = RateLimiter::ls_defaults();
        for i in 0..10 {
            let (_, expires_in) = issue(&mut tokens, &mut limiter, i);
            assert_eq!(expires_in, 86_400);
        }
        let refused = tokens.issue(&form(), &mut limiter, 500);
        assert_eq!(refused.status, 500);
        assert!(refused.body.contains("IGW00201"), "{}", refused.body);
        assert_eq!(tokens.issued_count(), 10, "a refused issue is no token");
        issue(&mut tokens, &mut limiter, 1_000);
    }
}
