//! OAuth2 on LS's gateway (reference §2): the token request and its reply, the token
//! error body, and revocation. Requests are `application/x-www-form-urlencoded`; replies
//! are JSON.
//!
//! Owns these shapes and their form encoding. Must never let a secret (app secret, access
//! token) reach a `Debug` print, and never decide policy (expiry, retries): callers do.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{decode_tracked, num, to_json, WireError};

/// `POST` path that issues a token.
pub const TOKEN_PATH: &str = "/oauth2/token";
/// `POST` path that revokes a token.
pub const REVOKE_PATH: &str = "/oauth2/revoke";
/// Content type of both requests.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The only grant LS offers.
pub const GRANT_TYPE: &str = "client_credentials";
/// The only scope LS offers.
pub const SCOPE: &str = "oob";
/// `token_type` of a granted token; clients build `authorization` from it.
pub const TOKEN_TYPE: &str = "Bearer";
/// `token_type_hint` values for revocation.
pub const HINT_ACCESS_TOKEN: &str = "access_token";
pub const HINT_REFRESH_TOKEN: &str = "refresh_token";

/// Token error code: unknown or expired app key (HTTP 403, observed).
pub const IGW_BAD_APPKEY: &str = "IGW00103";
/// Token error code: bad app secret (UNCONFIRMED: third-party code; status assumed 403).
pub const IGW_BAD_APPSECRET: &str = "IGW00105";

const PRINTED_SECRET: &str = "***";

/// `POST /oauth2/token` form: `grant_type`, `appkey`, `appsecretkey`, `scope`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    pub grant_type: String,
    pub appkey: String,
    pub appsecretkey: String,
    pub scope: String,
}

impl TokenRequest {
    /// The request every client sends: client credentials, scope `oob`.
    pub fn new(appkey: &str, appsecretkey: &str) -> TokenRequest {
        TokenRequest {
            grant_type: GRANT_TYPE.to_owned(),
            appkey: appkey.to_owned(),
            appsecretkey: appsecretkey.to_owned(),
            scope: SCOPE.to_owned(),
        }
    }

    /// The form body in the order clients send it:
    /// `grant_type=client_credentials&appkey=…&appsecretkey=…&scope=oob`.
    pub fn to_form(&self) -> String {
        encode_form(&[
            ("grant_type", &self.grant_type),
            ("appkey", &self.appkey),
            ("appsecretkey", &self.appsecretkey),
            ("scope", &self.scope),
        ])
    }

    /// Parses a form body; every field is required, unknown fields are ignored.
    pub fn from_form(body: &str) -> Result<TokenRequest, WireError> {
        const WHAT: &str = "token request";
        let form = decode_form(WHAT, body)?;
        Ok(TokenRequest {
            grant_type: form_field(WHAT, &form, "grant_type")?,
            appkey: form_field(WHAT, &form, "appkey")?,
            appsecretkey: form_field(WHAT, &form, "appsecretkey")?,
            scope: form_field(WHAT, &form, "scope")?,
        })
    }
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("appkey", &self.appkey)
            .field("appsecretkey", &PRINTED_SECRET)
            .field("scope", &self.scope)
            .finish()
    }
}

/// A granted token: `{"access_token":"<JWT>","scope":"oob","token_type":"Bearer",
/// "expires_in":86400}`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// A JWT; opaque to clients.
    pub access_token: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub token_type: String,
    /// Seconds. A JSON number on the wire; the doc table's `expire_in` (text) is read too.
    #[serde(alias = "expire_in", with = "num::int")]
    pub expires_in: i64,
}

impl TokenResponse {
    /// The REST `authorization` header value: `Bearer <token>` (LS issues only bearer
    /// tokens, so a blank `token_type` still means bearer).
    pub fn authorization(&self) -> String {
        let scheme = if self.token_type.is_empty() {
            TOKEN_TYPE
        } else {
            self.token_type.as_str()
        };
        format!("{scheme} {}", self.access_token)
    }
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &PRINTED_SECRET)
            .field("scope", &self.scope)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// A refused token request, e.g. HTTP 403
/// `{"error_code":"IGW00103","error_description":"유효하지 않은 AppKey입니다."}`. Note the
/// field names: not `rsp_cd`/`rsp_msg`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenError {
    pub error_code: String,
    #[serde(default)]
    pub error_description: String,
}

/// What the token endpoint answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenReply {
    Granted(TokenResponse),
    Refused(TokenError),
}

/// Decodes a token endpoint reply by its shape (an `error_code` means refused), so the
/// verdict does not hang on the HTTP status, which LS documents only for one error.
pub fn decode_token_reply(body: &str) -> Result<TokenReply, WireError> {
    const WHAT: &str = "token reply";
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        error_code: Option<serde::de::IgnoredAny>,
    }
    let probe: Probe = decode_tracked(WHAT, body)?;
    if probe.error_code.is_some() {
        decode_tracked(WHAT, body).map(TokenReply::Refused)
    } else {
        decode_tracked(WHAT, body).map(TokenReply::Granted)
    }
}

/// `POST /oauth2/revoke` form: `appkey`, `appsecretkey`, `token_type_hint`, `token`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeRequest {
    pub appkey: String,
    pub appsecretkey: String,
    /// [`HINT_ACCESS_TOKEN`] or [`HINT_REFRESH_TOKEN`].
    pub token_type_hint: String,
    pub token: String,
}

impl RevokeRequest {
    /// Revokes an access token.
    pub fn access_token(appkey: &str, appsecretkey: &str, token: &str) -> RevokeRequest {
        RevokeRequest {
            appkey: appkey.to_owned(),
            appsecretkey: appsecretkey.to_owned(),
            token_type_hint: HINT_ACCESS_TOKEN.to_owned(),
            token: token.to_owned(),
        }
    }

    pub fn to_form(&self) -> String {
        encode_form(&[
            ("appkey", &self.appkey),
            ("appsecretkey", &self.appsecretkey),
            ("token_type_hint", &self.token_type_hint),
            ("token", &self.token),
        ])
    }

    /// Parses a form body; every field is required, unknown fields are ignored.
    pub fn from_form(body: &str) -> Result<RevokeRequest, WireError> {
        const WHAT: &str = "revoke request";
        let form = decode_form(WHAT, body)?;
        Ok(RevokeRequest {
            appkey: form_field(WHAT, &form, "appkey")?,
            appsecretkey: form_field(WHAT, &form, "appsecretkey")?,
            token_type_hint: form_field(WHAT, &form, "token_type_hint")?,
            token: form_field(WHAT, &form, "token")?,
        })
    }
}

impl fmt::Debug for RevokeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokeRequest")
            .field("appkey", &self.appkey)
            .field("appsecretkey", &PRINTED_SECRET)
            .field("token_type_hint", &self.token_type_hint)
            .field("token", &PRINTED_SECRET)
            .finish()
    }
}

/// `{"code":200,"message":"접근토큰 폐기에 성공하였습니다."}`. The doc table types `code` as
/// text, its example as a number: read either, write a number like the example.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeResponse {
    #[serde(with = "num::int")]
    pub code: i64,
    #[serde(default)]
    pub message: String,
}

impl RevokeResponse {
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

/// `application/x-www-form-urlencoded`: unreserved bytes as is, space as `+`, the rest
/// percent-encoded (app keys are alphanumeric, but secrets and JWTs may hold `+/=`).
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        percent_encode(k, &mut out);
        out.push('=');
        percent_encode(v, &mut out);
    }
    out
}

fn percent_encode(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0x0f)]));
            }
        }
    }
}

/// Splits a form body into decoded `(name, value)` pairs, in order.
pub fn decode_form(what: &str, body: &str) -> Result<Vec<(String, String)>, WireError> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(what, k)?, percent_decode(what, v)?))
        })
        .collect()
}

fn percent_decode(what: &str, s: &str) -> Result<String, WireError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    // Checked first: from_str_radix alone takes a sign (`%+1`).
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| {
                        WireError::bad_value(what, "form", s, "%XX escapes with two hex digits")
                    })?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map_err(|_| WireError::bad_value(what, "form", s, "UTF-8 text after %-decoding"))
}

fn form_field(
    what: &str,
    form: &[(String, String)],
    name: &'static str,
) -> Result<String, WireError> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| WireError::missing(what, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN_REPLY: &str = r#"{"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJ0b2tlbiJ9.c2ln","scope":"oob","token_type":"Bearer","expires_in":86400}"#;
    const TOKEN_403: &str =
        r#"{"error_code":"IGW00103","error_description":"유효하지 않은 AppKey입니다."}"#;

    #[test]
    fn token_reply_round_trips() {
        let TokenReply::Granted(t) = decode_token_reply(TOKEN_REPLY).unwrap() else {
            panic!("granted")
        };
        assert_eq!(t.expires_in, 86400);
        assert_eq!(t.token_type, "Bearer");
        assert!(t.authorization().starts_with("Bearer eyJ0"));
        let again = serde_json::to_string(&t).unwrap();
        assert_eq!(again, TOKEN_REPLY, "same bytes, numeric expires_in");
        assert_eq!(
            decode_token_reply(&again).unwrap(),
            TokenReply::Granted(t.clone())
        );
        // Text expires_in and the doc table's spelling are read too.
        let t2: TokenResponse =
            serde_json::from_str(r#"{"access_token":"x","expire_in":"86400"}"#).unwrap();
        assert_eq!(t2.expires_in, 86400);
        assert_eq!(t2.authorization(), "Bearer x");
    }

    #[test]
    fn token_error_403_round_trips() {
        let TokenReply::Refused(e) = decode_token_reply(TOKEN_403).unwrap() else {
            panic!("refused")
        };
        assert_eq!(e.error_code, IGW_BAD_APPKEY);
        assert_eq!(e.error_description, "유효하지 않은 AppKey입니다.");
        let again = serde_json::to_string(&e).unwrap();
        assert_eq!(again, TOKEN_403);
        assert_eq!(decode_token_reply(&again).unwrap(), TokenReply::Refused(e));
    }

    #[test]
    fn token_reply_errors_name_the_problem() {
        let e = decode_token_reply("<html>502</html>").unwrap_err();
        assert!(matches!(e, WireError::NotJson { .. }), "{e:?}");
        assert!(e.to_string().contains("token reply"), "{e}");
        let e = decode_token_reply(r#"{"scope":"oob","expires_in":1}"#).unwrap_err();
        assert!(e.to_string().contains("access_token"), "{e}");
        let e = decode_token_reply(r#"{"access_token":"x","expires_in":"soon"}"#).unwrap_err();
        assert!(
            e.to_string().contains("expires_in") && e.to_string().contains("soon"),
            "{e}"
        );
    }

    #[test]
    fn token_request_form_matches_what_clients_send() {
        let r = TokenRequest::new("KEY", "SECRET");
        assert_eq!(
            r.to_form(),
            "grant_type=client_credentials&appkey=KEY&appsecretkey=SECRET&scope=oob"
        );
        assert_eq!(TokenRequest::from_form(&r.to_form()).unwrap(), r);
        let odd = TokenRequest::new("k e+y", "s/e=c%r&t한");
        assert_eq!(TokenRequest::from_form(&odd.to_form()).unwrap(), odd);
        // Any order, extra fields ignored.
        let r2 = TokenRequest::from_form(
            "scope=oob&extra=1&appsecretkey=SECRET&appkey=KEY&grant_type=client_credentials",
        )
        .unwrap();
        assert_eq!(r2, r);
        let e = TokenRequest::from_form("grant_type=client_credentials&appkey=KEY&scope=oob")
            .unwrap_err();
        assert!(e.to_string().contains("appsecretkey"), "{e}");
        let e = TokenRequest::from_form("appkey=%ZZ").unwrap_err();
        assert!(e.to_string().contains("%ZZ"), "{e}");
    }

    /// Found by tests/hostile_input.rs: `%+1` decoded as byte 0x01, because
    /// `u8::from_str_radix` accepts a leading `+`.
    #[test]
    fn a_percent_escape_needs_two_hex_digits() {
        for bad in ["%+1", "%+f", "%-1", "% 1", "%1", "%", "%G0", "%1한"] {
            let body = format!("appkey={bad}");
            let e = decode_form("token request", &body).unwrap_err();
            assert!(
                e.to_string().contains("%XX escapes") && e.to_string().contains(bad),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            decode_form("token request", "a=%2B%2b%41").unwrap(),
            [("a".to_owned(), "++A".to_owned())]
        );
    }

    #[test]
    fn secrets_never_reach_debug() {
        let r = TokenRequest::new("KEY", "TOPSECRET");
        assert!(!format!("{r:?}").contains("TOPSECRET"));
        let t = TokenResponse {
            access_token: "JWTVALUE".into(),
            scope: SCOPE.into(),
            token_type: TOKEN_TYPE.into(),
            expires_in: 86400,
        };
        assert!(!format!("{t:?}").contains("JWTVALUE"));
        let v = RevokeRequest::access_token("KEY", "TOPSECRET", "JWTVALUE");
        let d = format!("{v:?}");
        assert!(!d.contains("TOPSECRET") && !d.contains("JWTVALUE"), "{d}");
    }

    #[test]
    fn revoke_round_trips() {
        let body = r#"{"code":200,"message":"접근토큰 폐기에 성공하였습니다."}"#;
        let r: RevokeResponse = serde_json::from_str(body).unwrap();
        assert_eq!(r.code, 200);
        assert_eq!(r.to_json(), body);
        let r2: RevokeResponse = serde_json::from_str(r#"{"code":"200","message":""}"#).unwrap();
        assert_eq!(r2.code, 200);
        let q = RevokeRequest::access_token("KEY", "SECRET", "a.b+c/d=");
        assert_eq!(q.token_type_hint, "access_token");
        assert_eq!(RevokeRequest::from_form(&q.to_form()).unwrap(), q);
        let e = RevokeRequest::from_form("appkey=KEY").unwrap_err();
        assert!(e.to_string().contains("appsecretkey"), "{e}");
    }
}
