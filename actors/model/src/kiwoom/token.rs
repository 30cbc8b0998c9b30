//! Kiwoom's token (reference §2): `au10001` issues one (`POST /oauth2/token`, a JSON body
//! `grant_type`/`appkey`/`secretkey`; the reply's `token` and `expires_dt`, a
//! `yyyyMMddHHmmss` KST time), `au10002` revokes one. Both are [`Tr`]s, so a refusal
//! (HTTP 200, `return_code 3`, `인증에 실패했습니다[8001:…]`) is read like any TR's.
//!
//! Owns these shapes and [`KstDateTime`], the expiry as a value a token renewer can compare
//! with a clock. Must never let a secret (app key, secret key, token) reach a `Debug`
//! print (they are [`Secret`]s, so a derived `Debug` shows `***`), and
//! never decide when to renew: the caller does, from [`TokenGrant::expires_at`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::rest::{Reply, Tr, PATH_REVOKE, PATH_TOKEN};
use super::KiwoomError;
use crate::clock::TradingDay;
use crate::market::TimeOfDay;
use crate::secret::Secret;
use crate::wire::WireError;

/// The only grant Kiwoom offers.
pub const GRANT_TYPE: &str = "client_credentials";
/// `token_type` of a granted token in the spec; clients send `Bearer` whatever it says.
pub const TOKEN_TYPE: &str = "bearer";

/// A `yyyyMMddHHmmss` time in KST (UTC+9, no daylight saving), as `expires_dt` writes
/// it. Ordered by time.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct KstDateTime {
    pub day: TradingDay,
    pub time: TimeOfDay,
}

impl KstDateTime {
    /// Parses `"20241107083713"`: fourteen digits, a real date (1970–9999), a real time.
    pub fn parse(text: &str) -> Option<KstDateTime> {
        let t = text.trim_ascii();
        if t.len() != 14 || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let year = t[0..4].parse().ok()?;
        let month = t[4..6].parse().ok()?;
        let day = t[6..8].parse().ok()?;
        Some(KstDateTime {
            day: TradingDay::new(year, month, day)?,
            time: TimeOfDay::parse_hhmmss(&t[8..14]).ok()?,
        })
    }

    /// The moment in milliseconds since the Unix epoch, to compare with
    /// [`crate::clock::Clock::unix_ms`].
    pub fn unix_ms(self) -> i64 {
        self.day.midnight_unix_ms() + i64::from(self.time.secs()) * 1000
    }

    /// The KST date and time at `ms` after the Unix epoch (the simulator stamps
    /// `expires_dt` with it), to the second.
    pub fn from_unix_ms(ms: i64) -> KstDateTime {
        let day = TradingDay::from_unix_ms(ms);
        let secs = (ms.max(0) - day.midnight_unix_ms()).div_euclid(1000);
        KstDateTime {
            day,
            time: TimeOfDay::from_secs(u32::try_from(secs).unwrap_or(0)),
        }
    }

    /// `yyyyMMddHHmmss`.
    pub fn format(self) -> String {
        format!(
            "{:04}{:02}{:02}{}",
            self.day.year(),
            self.day.month(),
            self.day.day(),
            self.time.hhmmss()
        )
    }
}

impl fmt::Display for KstDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} KST", self.day, self.time)
    }
}

/// `au10001` request: `{"grant_type":"client_credentials","appkey":…,"secretkey":…}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub grant_type: String,
    #[serde(with = "crate::secret::wire_text")]
    pub appkey: Secret,
    #[serde(with = "crate::secret::wire_text")]
    pub secretkey: Secret,
}

impl TokenRequest {
    pub fn new(appkey: &str, secretkey: &str) -> TokenRequest {
        TokenRequest {
            grant_type: GRANT_TYPE.to_owned(),
            appkey: Secret::new(appkey),
            secretkey: Secret::new(secretkey),
        }
    }
}

/// `au10001` reply fields: `{"expires_dt":"20241107083713","token_type":"bearer",
/// "token":"WQJCwyqInphKnR3bSRtB9NE1lv..."}` beside `return_code`/`return_msg`. All default,
/// so a refusal (no token) decodes too; [`TokenGrant::check`] says whether it is usable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenGrant {
    pub expires_dt: String,
    pub token_type: String,
    /// `token` in the spec; `access_token` is read too, as `[KC]` does.
    #[serde(alias = "access_token", with = "crate::secret::wire_text")]
    pub token: Secret,
}

impl TokenGrant {
    const WHAT: &'static str = "au10001 reply";

    /// A grant as the simulator answers it.
    pub fn new(token: &str, expires: KstDateTime) -> TokenGrant {
        TokenGrant {
            expires_dt: expires.format(),
            token_type: TOKEN_TYPE.to_owned(),
            token: Secret::new(token),
        }
    }

    /// `expires_dt` read as KST. A reply without it is refused here rather than given a
    /// guessed lifetime (`[KRT]`'s rule; `[KC]`'s `expires_in` fallback is not taken:
    /// the reference has no such field).
    pub fn expires_at(&self) -> Result<KstDateTime, WireError> {
        if self.expires_dt.trim_ascii().is_empty() {
            return Err(WireError::missing(Self::WHAT, "expires_dt"));
        }
        KstDateTime::parse(&self.expires_dt).ok_or_else(|| {
            WireError::bad_value(
                Self::WHAT,
                "expires_dt",
                &self.expires_dt,
                "yyyyMMddHHmmss (KST)",
            )
        })
    }

    /// The usable token: present and with a readable expiry.
    pub fn check(&self) -> Result<(&str, KstDateTime), WireError> {
        if self.token.expose().trim_ascii().is_empty() {
            return Err(WireError::missing(Self::WHAT, "token"));
        }
        Ok((self.token.expose(), self.expires_at()?))
    }

    /// The REST `authorization` value: `Bearer <token>` (whatever `token_type` says).
    pub fn authorization(&self) -> String {
        super::rest::bearer(self.token.expose())
    }
}

/// A granted token from a whole `au10001` reply: the token and its expiry, or why not
/// (Kiwoom's refusal, or a success reply missing them).
pub fn granted(reply: Reply<TokenGrant>) -> Result<(String, KstDateTime), KiwoomError> {
    let grant = reply.into_result()?;
    let (token, expires) = grant.check()?;
    Ok((token.to_owned(), expires))
}

/// `au10002` request: `{"appkey":…,"secretkey":…,"token":…}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeRequest {
    #[serde(with = "crate::secret::wire_text")]
    pub appkey: Secret,
    #[serde(with = "crate::secret::wire_text")]
    pub secretkey: Secret,
    #[serde(with = "crate::secret::wire_text")]
    pub token: Secret,
}

impl RevokeRequest {
    pub fn new(appkey: &str, secretkey: &str, token: &str) -> RevokeRequest {
        RevokeRequest {
            appkey: Secret::new(appkey),
            secretkey: Secret::new(secretkey),
            token: Secret::new(token),
        }
    }
}

/// `au10002` reply: nothing beside `return_code`/`return_msg`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeReply {}

/// au10001: issue a token. Kiwoom's own client sends no `api-id` header here (`[KRT]`
/// does); the simulator must accept both.
pub struct Au10001;

impl Tr for Au10001 {
    const API_ID: &'static str = "au10001";
    const PATH: &'static str = PATH_TOKEN;
    type Req = TokenRequest;
    type Resp = TokenGrant;
}

/// au10002: revoke a token.
pub struct Au10002;

impl Tr for Au10002 {
    const API_ID: &'static str = "au10002";
    const PATH: &'static str = PATH_REVOKE;
    type Req = RevokeRequest;
    type Resp = RevokeReply;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kiwoom::rest::{decode_reply, decode_request, encode_request, ErrorClass, Retry};
    use crate::kiwoom::testing::{assert_covers, Rng};

    const TOKEN_REQUEST: &str = r#"{"grant_type": "client_credentials", "appkey": "<APP KEY>", "secretkey": "<SECRET KEY>"}"#;
    const TOKEN_REPLY: &str = r#"{"expires_dt": "20241107083713", "token_type": "bearer", "token": "WQJCwyqInphKnR3bSRtB9NE1lv...",
 "return_code": 0, "return_msg": "정상적으로 처리되었습니다"}"#;
    const BAD_KEYS: &str = r#"{"return_code": 3, "return_msg": "인증에 실패했습니다[8001:App Key와 Secret Key 검증에 실패했습니다]"}"#;
    const WRONG_SERVER: &str = r#"{"return_code": 3, "return_msg": "인증에 실패했습니다[8030:투자구분(실전/모의)이 달라서 Appkey를 사용할수가 없습니다]"}"#;
    const TOKEN_INVALID: &str = r#"{"return_code": 3, "return_msg": "인증에 실패했습니다[8005:Token이 유효하지 않습니다]"}"#;
    const REVOKE_REQUEST: &str = r#"{"appkey": "...", "secretkey": "...", "token": "..."}"#;
    const REVOKE_REPLY: &str = r#"{"return_code": 0, "return_msg": "정상적으로 처리되었습니다"}"#;

    #[test]
    fn token_request_round_trips() {
        let req = decode_request::<Au10001>(TOKEN_REQUEST).unwrap();
        assert_eq!(req, TokenRequest::new("<APP KEY>", "<SECRET KEY>"));
        let text = encode_request::<Au10001>(&req);
        assert_covers(&text, TOKEN_REQUEST);
        assert_eq!(decode_request::<Au10001>(&text).unwrap(), req);
        let e = decode_request::<Au10001>(r#"{"grant_type":"client_credentials","appkey":"k"}"#)
            .unwrap_err();
        assert!(e.to_string().contains("au10001 request") && e.to_string().contains("secretkey"));
    }

    #[test]
    fn token_reply_round_trips_and_gives_the_expiry() {
        let r = decode_reply::<Au10001>(TOKEN_REPLY).unwrap();
        assert!(r.is_ok());
        let text = r.to_json();
        assert_covers(&text, TOKEN_REPLY);
        assert_eq!(decode_reply::<Au10001>(&text).unwrap(), r);
        let expires = r.body.expires_at().unwrap();
        assert_eq!(expires.day, TradingDay::new(2024, 11, 7).unwrap());
        assert_eq!(expires.time, TimeOfDay::hms(8, 37, 13));
        // 2024-11-07 08:37:13 KST = 2024-11-06 23:37:13 UTC.
        assert_eq!(expires.unix_ms(), 1_730_936_233_000);
        assert_eq!(KstDateTime::from_unix_ms(expires.unix_ms()), expires);
        assert_eq!(expires.format(), "20241107083713");
        assert_eq!(expires.to_string(), "2024-11-07 08:37:13 KST");
        assert_eq!(
            r.body.authorization(),
            "Bearer WQJCwyqInphKnR3bSRtB9NE1lv..."
        );
        let (token, at) = granted(r).unwrap();
        assert_eq!(
            (token.as_str(), at),
            ("WQJCwyqInphKnR3bSRtB9NE1lv...", expires)
        );
        // access_token is read as token.
        let r = decode_reply::<Au10001>(
            r#"{"access_token":"T","expires_dt":"20241107083713","return_code":0}"#,
        )
        .unwrap();
        assert_eq!(r.body.token.expose(), "T");
    }

    #[test]
    fn token_refusals_are_classified() {
        for (sample, code, mismatch) in [
            (BAD_KEYS, 8001, false),
            (WRONG_SERVER, 8030, true),
            (TOKEN_INVALID, 8005, false),
        ] {
            let r = decode_reply::<Au10001>(sample).unwrap();
            let text = r.to_json();
            assert_covers(&text, sample);
            assert_eq!(decode_reply::<Au10001>(&text).unwrap(), r);
            let e = granted(r).unwrap_err();
            let KiwoomError::Refused(refusal) = &e else {
                panic!("{e:?}")
            };
            assert_eq!(refusal.class(), ErrorClass::Auth);
            assert_eq!(refusal.inner_code(), Some(code));
            assert_eq!(refusal.is_server_mismatch(), mismatch);
            assert_eq!(refusal.retry() == Retry::NewToken, code == 8005);
        }
    }

    #[test]
    fn a_success_without_token_or_expiry_is_named() {
        let r =
            decode_reply::<Au10001>(r#"{"return_code":0,"expires_dt":"20241107083713"}"#).unwrap();
        let e = granted(r).unwrap_err();
        assert!(e.to_string().contains("`token`"), "{e}");
        let r = decode_reply::<Au10001>(r#"{"return_code":0,"token":"T"}"#).unwrap();
        assert!(granted(r).unwrap_err().to_string().contains("`expires_dt`"));
        for bad in [
            "2024110708371",
            "20241307083713",
            "20241107253713",
            "2024-11-07 08:37",
            "19691231235959",
        ] {
            let g = TokenGrant {
                expires_dt: bad.into(),
                token: Secret::new("T"),
                ..TokenGrant::default()
            };
            let e = g.check().unwrap_err();
            assert!(
                e.to_string().contains("expires_dt") && e.to_string().contains(bad),
                "{e}"
            );
        }
    }

    #[test]
    fn revoke_round_trips() {
        let req = decode_request::<Au10002>(REVOKE_REQUEST).unwrap();
        assert_eq!(req, RevokeRequest::new("...", "...", "..."));
        let text = encode_request::<Au10002>(&req);
        assert_covers(&text, REVOKE_REQUEST);
        assert_eq!(decode_request::<Au10002>(&text).unwrap(), req);
        let r = decode_reply::<Au10002>(REVOKE_REPLY).unwrap();
        assert!(r.is_ok());
        assert_covers(&r.to_json(), REVOKE_REPLY);
        let r =
            decode_reply::<Au10002>(r#"{"return_code":3,"return_msg":"[8016:토큰이 없습니다]"}"#)
                .unwrap();
        assert!(r
            .into_result()
            .unwrap_err()
            .to_string()
            .contains("no token given to revoke"));
    }

    /// The keys and the token are `Secret`s: a derived `Debug` shows `***`, while the
    /// wire carries them.
    #[test]
    fn secrets_never_reach_debug() {
        let request = TokenRequest::new("APPKEY", "SECRETKEY");
        let grant = TokenGrant::new("TOKENVALUE", KstDateTime::parse("20241107083713").unwrap());
        let revoke = RevokeRequest::new("APPKEY", "SECRETKEY", "TOKENVALUE");
        let text = format!("{request:?} {grant:?} {revoke:?}");
        for secret in ["APPKEY", "SECRETKEY", "TOKENVALUE"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(
            text.contains("20241107083713") && text.contains("***"),
            "{text}"
        );
        let wire = format!(
            "{} {} {}",
            encode_request::<Au10001>(&request),
            Reply::ok(grant).to_json(),
            encode_request::<Au10002>(&revoke)
        );
        for secret in ["APPKEY", "SECRETKEY", "TOKENVALUE"] {
            assert!(wire.contains(secret), "{secret} on the wire: {wire}");
        }
    }

    #[test]
    fn kst_times_are_days_and_seconds() {
        let a = KstDateTime::parse("20241231235959").unwrap();
        let b = KstDateTime::from_unix_ms(a.unix_ms() + 1000);
        assert_eq!(b.format(), "20250101000000");
        assert!(b > a);
        assert_eq!(KstDateTime::from_unix_ms(-5).format(), "19700101090000");
    }

    #[test]
    fn random_replies_never_panic() {
        let mut rng = Rng::new(0x70ce_0001);
        for sample in [TOKEN_REPLY, BAD_KEYS, TOKEN_REQUEST] {
            for _ in 0..2000 {
                let t = rng.mutate(sample);
                if let Ok(r) = decode_reply::<Au10001>(&t) {
                    let _ = granted(r);
                }
                let _ = decode_request::<Au10001>(&t);
                let _ = KstDateTime::parse(&rng.text(16));
            }
        }
    }
}
