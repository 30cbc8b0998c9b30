//! Who may read condor's HTTP server: a client on this machine always; any other only with
//! the bearer token (`CONDOR_HTTP_TOKEN`). Pure logic, tested without sockets.
//!
//! A request that arrived through a proxy (it carries `Forwarded`, `X-Forwarded-For` or
//! `X-Real-IP`) counts as remote even from 127.0.0.1: a reverse proxy on this machine must
//! not turn the whole network into loopback clients.
//!
//! Owns the decision only. Must never log, return or echo a token, and never compare one in
//! time that depends on where it first differs.

use std::net::IpAddr;

use axum::http::{header, HeaderMap};

use crate::secret::Secret;

/// The cookie the dashboard's browser keeps the token in (an `EventSource` cannot send an
/// `Authorization` header).
pub const COOKIE: &str = "condor_token";

/// Headers a proxy adds: a request that has one did not come from this machine.
const FORWARDING: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// Characters a token may have: fits a header, a cookie and a query string unescaped.
pub fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/=".contains(c)
}

/// Shortest token accepted.
pub const MIN_TOKEN_LEN: usize = 16;

/// How the request was let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A client on this machine, no proxy in between.
    Loopback,
    /// The token, in the `Authorization` header or the cookie.
    Token,
    /// The token in the query string (`?token=`): the answer sets the cookie and sends the
    /// browser to the same path without it, so it leaves the address bar.
    TokenInQuery,
}

/// Why the request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a loopback client and no token is configured: nobody else is served (403).
    NoTokenConfigured,
    /// No token presented, or a wrong one (401).
    BadToken,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::NoTokenConfigured => {
                "only clients on this machine are served; set CONDOR_HTTP_TOKEN to serve others"
            }
            Refusal::BadToken => {
                "a bearer token is required (Authorization: Bearer <CONDOR_HTTP_TOKEN>)"
            }
        }
    }
}

/// True for 127.0.0.0/8, ::1, and ::ffff:127.x.y.z.
pub fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Decides whether a request from `peer` with `headers` and `query` may be served.
pub fn check(
    peer: IpAddr,
    headers: &HeaderMap,
    query: Option<&str>,
    token: Option<&Secret>,
) -> Result<Access, Refusal> {
    let proxied = FORWARDING.iter().any(|h| headers.contains_key(*h));
    if is_loopback(peer) && !proxied {
        return Ok(Access::Loopback);
    }
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(Refusal::NoTokenConfigured);
    };
    let expected = token.expose().as_bytes();
    if bearer(headers).is_some_and(|t| same(t, expected))
        || cookie(headers).is_some_and(|t| same(t, expected))
    {
        return Ok(Access::Token);
    }
    if query_token(query).is_some_and(|t| same(t, expected)) {
        return Ok(Access::TokenInQuery);
    }
    Err(Refusal::BadToken)
}

/// `Authorization: Bearer <token>`.
fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    let v = headers.get(header::AUTHORIZATION)?.as_bytes();
    let (scheme, rest) = v.split_at(v.iter().position(|b| *b == b' ')?);
    scheme
        .eq_ignore_ascii_case(b"bearer")
        .then(|| rest.trim_ascii())
}

/// `Cookie: …; condor_token=<token>; …`.
fn cookie(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
        .find_map(|pair| {
            let pair = pair.trim_ascii();
            pair.strip_prefix(COOKIE.as_bytes())?.strip_prefix(b"=")
        })
}

/// `token=<token>` in the query string (tokens need no percent-decoding: see [`token_char`]).
fn query_token(query: Option<&str>) -> Option<&[u8]> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(str::as_bytes)
}

/// The query string without its `token=` pair, for the redirect that drops it.
pub fn query_without_token(query: &str) -> String {
    query
        .split('&')
        .filter(|pair| !pair.starts_with("token=") && !pair.is_empty())
        .collect::<Vec<_>>()
        .join("&")
}

/// Equal, in time that depends only on the lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const TOKEN: &str = "s3cr3t-T0ken-0123456789";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn loopback_clients_need_no_token() {
        let token = Secret::new(TOKEN);
        for peer in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] {
            assert_eq!(
                check(ip(peer), &HeaderMap::new(), None, Some(&token)),
                Ok(Access::Loopback),
                "{peer}"
            );
            assert_eq!(
                check(ip(peer), &HeaderMap::new(), None, None),
                Ok(Access::Loopback)
            );
        }
    }

    #[test]
    fn a_proxied_or_remote_request_needs_the_token() {
        let token = Secret::new(TOKEN);
        let remote = [
            (ip("192.168.0.7"), HeaderMap::new()),
            (
                ip("127.0.0.1"),
                headers(&[("x-forwarded-for", "203.0.113.9")]),
            ),
            (
                ip("127.0.0.1"),
                headers(&[("forwarded", "for=203.0.113.9")]),
            ),
            (ip("::1"), headers(&[("x-real-ip", "203.0.113.9")])),
        ];
        for (peer, h) in &remote {
            assert_eq!(
                check(*peer, h, None, Some(&token)),
                Err(Refusal::BadToken),
                "{peer} {h:?}"
            );
            assert_eq!(check(*peer, h, None, None), Err(Refusal::NoTokenConfigured));
            let mut with = h.clone();
            with.insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
            assert_eq!(check(*peer, &with, None, Some(&token)), Ok(Access::Token));
            let mut lower = h.clone();
            lower.insert("authorization", format!("bearer  {TOKEN}").parse().unwrap());
            assert_eq!(check(*peer, &lower, None, Some(&token)), Ok(Access::Token));
            let mut cookie = h.clone();
            cookie.insert(
                "cookie",
                format!("a=b; {COOKIE}={TOKEN}; c=d").parse().unwrap(),
            );
            assert_eq!(check(*peer, &cookie, None, Some(&token)), Ok(Access::Token));
            assert_eq!(
                check(*peer, h, Some(&format!("x=1&token={TOKEN}")), Some(&token)),
                Ok(Access::TokenInQuery)
            );
        }
    }

    #[test]
    fn a_wrong_or_partial_token_is_refused() {
        let token = Secret::new(TOKEN);
        let remote = ip("10.1.2.3");
        for presented in [
            "",
            "s3cr3t",
            &TOKEN[..TOKEN.len() - 1],
            &format!("{TOKEN}x"),
            &TOKEN.to_uppercase(),
        ] {
            let h = headers(&[("authorization", &format!("Bearer {presented}"))]);
            assert_eq!(
                check(remote, &h, None, Some(&token)),
                Err(Refusal::BadToken)
            );
            let q = format!("token={presented}");
            assert_eq!(
                check(remote, &HeaderMap::new(), Some(&q), Some(&token)),
                Err(Refusal::BadToken)
            );
        }
        let basic = headers(&[("authorization", &format!("Basic {TOKEN}"))]);
        assert_eq!(
            check(remote, &basic, None, Some(&token)),
            Err(Refusal::BadToken)
        );
        // An empty configured token is no token.
        assert_eq!(
            check(remote, &HeaderMap::new(), None, Some(&Secret::new(""))),
            Err(Refusal::NoTokenConfigured)
        );
    }

    #[test]
    fn the_redirect_drops_only_the_token() {
        assert_eq!(query_without_token(&format!("token={TOKEN}")), "");
        assert_eq!(
            query_without_token(&format!("a=1&token={TOKEN}&b=2")),
            "a=1&b=2"
        );
        assert!(!Refusal::BadToken.message().contains(TOKEN));
    }
}
