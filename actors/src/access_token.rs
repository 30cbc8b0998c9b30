//! The broker's access token as condor holds it, and the decisions around it: when it
//! expires (LS's `expires_in` seconds from the request, or Kiwoom's absolute `expires_dt`),
//! when to renew it (before it expires, so no call meets an expired one), whether a caller
//! the gateway refused must have a new one issued or can use one already issued since (so
//! many calls refused together cause one issue), and how close two issues may be.
//!
//! Times are the engine clock's Unix milliseconds (`Clock::unix_ms`): on the real clock the
//! wall clock, on an accelerated one (`CONDOR_CLOCK`) market time, which the simulator also
//! measures its tokens' lifetimes in, so both agree when a token expires. Owns the token's
//! value and its times, as plain data: no clock, no I/O (`LsRest` and `KiwoomRest` do the
//! issuing and pass `now`). [`TokenSource`] is what a websocket session draws its token
//! from: a fixed one, or a REST client's as it renews it ([`LiveToken`]). Must never print
//! the token: `Debug` shows `***`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// How long a granted token lives, as the broker says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenLifetime {
    /// LS: `expires_in`, seconds from the request.
    ExpiresIn(Duration),
    /// Kiwoom: `expires_dt`, an absolute moment (Unix ms); see [`TokenLifetime::from_expires_dt`].
    ExpiresAt(i64),
}

/// An `expires_dt` that is not `YYYYMMDDHHMMSS` (KST): the text, for the error message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("expires_dt {0:?} is not a KST time YYYYMMDDHHMMSS")]
pub struct BadExpiresDt(pub String);

impl TokenLifetime {
    /// Kiwoom's `expires_dt`, `yyyyMMddHHmmss` in KST (the official client parses it as
    /// Asia/Seoul; KST has no daylight saving), e.g. `"20241107083713"`.
    pub fn from_expires_dt(text: &str) -> Result<TokenLifetime, BadExpiresDt> {
        condor_model::kiwoom::token::KstDateTime::parse(text)
            .map(|at| TokenLifetime::ExpiresAt(at.unix_ms()))
            .ok_or_else(|| BadExpiresDt(text.to_owned()))
    }

    /// When a token asked for at `asked_at_ms` expires.
    pub fn expires_at(&self, asked_at_ms: i64) -> i64 {
        match *self {
            TokenLifetime::ExpiresIn(d) => {
                let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
                asked_at_ms.saturating_add(ms)
            }
            TokenLifetime::ExpiresAt(at) => at,
        }
    }
}

/// How condor renews its token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenPolicy {
    /// Renew once this share (percent, 1..=99) of the token's life has passed: 90 renews a
    /// 24-hour token 2.4 hours before it expires, a 30-second one 3 s before.
    pub renew_at_percent: u32,
    /// Two issues are never closer than this (on the engine's clock). LS allows the token
    /// endpoint 10 calls a second (reference §7); one a second leaves room for another
    /// client on the same key, and a token is wanted once a day.
    pub min_issue_gap: Duration,
    /// A failed renewal is tried again after this, doubling per failure up to
    /// `max_retry_wait` (the old token still works meanwhile).
    pub first_retry_wait: Duration,
    pub max_retry_wait: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy {
            renew_at_percent: 90,
            min_issue_gap: Duration::from_secs(1),
            first_retry_wait: Duration::from_secs(1),
            max_retry_wait: Duration::from_secs(60),
        }
    }
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl TokenPolicy {
    /// When a token asked for at `asked_at` (Unix ms) and expiring at `expires_at` is
    /// renewed. Timed from the request, not the answer: the gateway's clock started no
    /// earlier. A token already expired when asked for is due at once.
    pub fn renew_at(&self, asked_at: i64, expires_at: i64) -> i64 {
        let percent = i128::from(self.renew_at_percent.clamp(1, 99));
        let life = i128::from(expires_at.saturating_sub(asked_at).max(0));
        let share = i64::try_from(life * percent / 100).unwrap_or(i64::MAX);
        asked_at.saturating_add(share)
    }

    /// How long to wait before trying a renewal again after `failures` failed in a row.
    pub fn retry_wait(&self, failures: u32) -> Duration {
        let doubling = 1u32 << failures.saturating_sub(1).min(16);
        self.first_retry_wait
            .saturating_mul(doubling)
            .min(self.max_retry_wait)
    }

    /// The earliest time (Unix ms) the next issue may go out, given the last one.
    pub fn next_issue_at(&self, last_issue: Option<i64>, now: i64) -> i64 {
        match last_issue {
            Some(last) => last.saturating_add(ms(self.min_issue_gap)).max(now),
            None => now,
        }
    }
}

/// A granted token and its times (Unix ms on the engine's clock). Each new token gets the
/// next `generation`.
#[derive(Clone)]
pub struct HeldToken {
    token: String,
    generation: u64,
    expires_at: i64,
    renew_at: i64,
}

/// Where a token stands at some instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Before its renewal time.
    Fresh,
    /// Past its renewal time, still valid: calls use it while a new one is issued.
    Renewable,
    /// Past its expiry by our clock: a call with it would be refused, so a new one is
    /// issued first.
    Expired,
}

/// What a caller whose call was refused for its token does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterRefusal {
    /// A token newer than the refused one is already held: call again with it.
    UseCurrent,
    /// The refused token is still the current one: issue a new one (one caller does; the
    /// others wait for it and then find `UseCurrent`).
    Issue,
}

impl HeldToken {
    /// The first token, or the one after `previous`, asked for at `asked_at` (Unix ms).
    pub fn granted(
        previous: Option<&HeldToken>,
        token: String,
        asked_at: i64,
        lifetime: TokenLifetime,
        policy: &TokenPolicy,
    ) -> HeldToken {
        let expires_at = lifetime.expires_at(asked_at);
        HeldToken {
            token,
            generation: previous.map_or(1, |p| p.generation + 1),
            expires_at,
            renew_at: policy.renew_at(asked_at, expires_at),
        }
    }

    /// The token itself: only for the wire (a header, a registration frame).
    pub fn expose(&self) -> &str {
        &self.token
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// When it is renewed (Unix ms).
    pub fn renew_at(&self) -> i64 {
        self.renew_at
    }

    /// When it expires (Unix ms).
    pub fn expires_at(&self) -> i64 {
        self.expires_at
    }

    pub fn freshness(&self, now: i64) -> Freshness {
        if now >= self.expires_at {
            Freshness::Expired
        } else if now >= self.renew_at {
            Freshness::Renewable
        } else {
            Freshness::Fresh
        }
    }

    /// A call made with generation `refused` was refused for its token.
    pub fn after_refusal(&self, refused: u64) -> AfterRefusal {
        if self.generation > refused {
            AfterRefusal::UseCurrent
        } else {
            AfterRefusal::Issue
        }
    }

    /// When the renewer wakes next: at the renewal time, or after a failed renewal the
    /// policy's wait from `now` (the caller keeps that time; asked again later it moves on).
    pub fn next_renewal(&self, failures: u32, now: i64, policy: &TokenPolicy) -> i64 {
        if failures == 0 {
            self.renew_at
        } else {
            now.saturating_add(ms(policy.retry_wait(failures)))
        }
    }
}

impl fmt::Debug for HeldToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldToken")
            .field("token", &"***")
            .field("generation", &self.generation)
            .field("expires_at", &self.expires_at)
            .field("renew_at", &self.renew_at)
            .finish()
    }
}

/// What a [`LiveToken`] hands back to await.
pub(crate) type TokenFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A REST client that keeps a token fresh (`LsRest`, `KiwoomRest`): what a websocket
/// session's [`TokenSource`] draws on. A broker's client implements it to give its
/// session a renewed token.
pub(crate) trait LiveToken: Send + Sync {
    /// The token held now.
    fn held(&self) -> HeldToken;
    /// Renews the token first if our clock says it has expired.
    fn refresh_if_expired(&self) -> TokenFuture<'_, ()>;
    /// A frame with generation `refused` was refused for its token: a new one, unless one
    /// was issued since. `Err` says why there is none.
    fn renew_after_refusal(&self, refused: u64) -> TokenFuture<'_, Result<(), String>>;
}

/// The token a websocket session sends (LS: in every registration frame; Kiwoom: in its
/// LOGIN): fixed (a test's, a short session's), or a REST client's as it is renewed
/// (`LsRest::token_source`, `KiwoomRest::token_source`).
#[derive(Clone)]
pub struct TokenSource(Source);

#[derive(Clone)]
enum Source {
    Fixed(Arc<str>),
    Live(Arc<dyn LiveToken>),
}

impl TokenSource {
    /// The token of a REST client that renews it.
    pub(crate) fn live(client: Arc<dyn LiveToken>) -> TokenSource {
        TokenSource(Source::Live(client))
    }

    /// The token to put in a frame now, and its generation (0 for a fixed token).
    pub fn current(&self) -> (String, u64) {
        match &self.0 {
            Source::Fixed(t) => (t.to_string(), 0),
            Source::Live(client) => {
                let held = client.held();
                (held.expose().to_owned(), held.generation())
            }
        }
    }

    /// Before a (re)connection: renews a live token our clock says has expired, so the
    /// frames that follow carry a valid one.
    pub async fn refresh_if_expired(&self) {
        if let Source::Live(client) = &self.0 {
            client.refresh_if_expired().await;
        }
    }

    /// A frame sent with generation `refused` was refused for its token: a new one unless
    /// one was issued since. `Err` says why it cannot be (a fixed token, or the issue
    /// failed).
    pub async fn renew_after_refusal(&self, refused: u64) -> Result<(), String> {
        match &self.0 {
            Source::Fixed(_) => Err("this session's token is fixed and cannot be renewed".into()),
            Source::Live(client) => client.renew_after_refusal(refused).await,
        }
    }
}

impl From<String> for TokenSource {
    fn from(token: String) -> TokenSource {
        TokenSource(Source::Fixed(token.into()))
    }
}

impl From<&str> for TokenSource {
    fn from(token: &str) -> TokenSource {
        TokenSource(Source::Fixed(token.into()))
    }
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Source::Fixed(_) => f.write_str("TokenSource(fixed ***)"),
            Source::Live(client) => write!(
                f,
                "TokenSource(renewed, #{} ***)",
                client.held().generation()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TradingDay;

    /// Seconds as Unix ms after `T0`.
    fn secs(s: f64) -> i64 {
        (s * 1000.0).round() as i64
    }

    /// Some moment: 2026-12-03 10:00:00 KST.
    const T0: i64 = 1_796_259_600_000;

    fn lasts(s: f64) -> TokenLifetime {
        TokenLifetime::ExpiresIn(Duration::from_millis(secs(s) as u64))
    }

    #[test]
    fn a_token_is_renewed_at_ninety_percent_of_its_life() {
        let p = TokenPolicy::default();
        let t0 = T0;
        assert_eq!(p.renew_at(t0, t0 + secs(86_400.0)), t0 + secs(77_760.0));
        assert_eq!(p.renew_at(t0, t0 + secs(30.0)), t0 + secs(27.0));
        let held = HeldToken::granted(None, "T1".into(), t0, lasts(3.0), &p);
        assert_eq!(held.generation(), 1);
        assert_eq!(held.expires_at(), t0 + secs(3.0));
        assert_eq!(held.freshness(t0), Freshness::Fresh);
        assert_eq!(held.freshness(t0 + secs(2.699)), Freshness::Fresh);
        assert_eq!(held.freshness(t0 + secs(2.7)), Freshness::Renewable);
        assert_eq!(held.freshness(t0 + secs(2.999)), Freshness::Renewable);
        assert_eq!(held.freshness(t0 + secs(3.0)), Freshness::Expired);
        assert_eq!(held.next_renewal(0, t0, &p), t0 + secs(2.7));
    }

    #[test]
    fn the_renewal_share_stays_inside_the_tokens_life() {
        let t0 = T0;
        for (percent, at) in [(0, 0.03), (1, 0.03), (50, 1.5), (99, 2.97), (100, 2.97)] {
            let p = TokenPolicy {
                renew_at_percent: percent,
                ..TokenPolicy::default()
            };
            assert_eq!(p.renew_at(t0, t0 + secs(3.0)), t0 + secs(at), "{percent}%");
        }
        // A token already over when asked for (a host clock far ahead of the broker's):
        // due at once, expired at once.
        let p = TokenPolicy::default();
        assert_eq!(p.renew_at(t0, t0 - secs(5.0)), t0);
        let held = HeldToken::granted(None, "T".into(), t0, TokenLifetime::ExpiresAt(t0 - 1), &p);
        assert_eq!(held.freshness(t0), Freshness::Expired);
        // Lifetimes that would overflow saturate.
        assert_eq!(
            TokenLifetime::ExpiresIn(Duration::MAX).expires_at(t0),
            i64::MAX
        );
        assert!(p.renew_at(t0, i64::MAX) > t0);
    }

    #[test]
    fn kiwoom_expires_dt_is_a_kst_moment() {
        // The reference's example: 2024-11-07 08:37:13 KST = 2024-11-06 23:37:13 UTC.
        let at = TokenLifetime::from_expires_dt("20241107083713").unwrap();
        assert_eq!(at, TokenLifetime::ExpiresAt(1_730_936_233_000));
        let TokenLifetime::ExpiresAt(ms) = at else {
            unreachable!()
        };
        assert_eq!(TradingDay::from_unix_ms(ms).to_string(), "2024-11-07");
        // Absolute: the same whenever it was asked for.
        assert_eq!(at.expires_at(0), ms);
        assert_eq!(at.expires_at(ms - 86_400_000), ms);
        // Midnight and the last second of a leap day.
        assert_eq!(
            TokenLifetime::from_expires_dt("20240229235959"),
            Ok(TokenLifetime::ExpiresAt(
                "2024-02-29"
                    .parse::<TradingDay>()
                    .unwrap()
                    .midnight_unix_ms()
                    + 86_399_000
            ))
        );
        assert_eq!(
            TokenLifetime::from_expires_dt(" 20261204000000 "),
            Ok(TokenLifetime::ExpiresAt(
                "2026-12-04"
                    .parse::<TradingDay>()
                    .unwrap()
                    .midnight_unix_ms()
            ))
        );
        for bad in [
            "",
            "2024110708371",
            "202411070837130",
            "2024-11-07 08:37",
            "20241307083713",
            "20230229083713",
            "20241107243713",
            "20241107086013",
            "20241107083760",
            "+2024110708371",
            "２0241107083713",
        ] {
            let e = TokenLifetime::from_expires_dt(bad).unwrap_err();
            assert_eq!(e.0, bad);
            assert!(e.to_string().contains("YYYYMMDDHHMMSS"), "{e}");
        }
    }

    #[test]
    fn a_kiwoom_token_is_renewed_at_ninety_percent_of_what_was_left() {
        // Asked for at 08:37:13 the day before it expires: 24 h of life, renewed after
        // 21.6 h, at 06:13:13 on the day it expires.
        let p = TokenPolicy::default();
        let TokenLifetime::ExpiresAt(exp) =
            TokenLifetime::from_expires_dt("20241107083713").unwrap()
        else {
            unreachable!()
        };
        let asked = exp - secs(86_400.0);
        let held = HeldToken::granted(
            None,
            "K1".into(),
            asked,
            TokenLifetime::from_expires_dt("20241107083713").unwrap(),
            &p,
        );
        assert_eq!(held.expires_at(), exp);
        assert_eq!(held.renew_at(), asked + secs(77_760.0));
        assert_eq!(held.freshness(exp - secs(8_640.0)), Freshness::Renewable);
        assert_eq!(held.freshness(exp - secs(8_640.001)), Freshness::Fresh);
    }

    #[test]
    fn a_refused_caller_issues_only_when_nobody_has_since() {
        let p = TokenPolicy::default();
        let t0 = T0;
        let first = HeldToken::granted(None, "T1".into(), t0, lasts(3.0), &p);
        // Everyone who called with T1 and was refused, while T1 is still held: issue. The
        // first to get the issuing turn does; the rest find T2 when their turn comes.
        assert_eq!(first.after_refusal(1), AfterRefusal::Issue);
        let second = HeldToken::granted(Some(&first), "T2".into(), t0 + secs(1.0), lasts(3.0), &p);
        assert_eq!(second.generation(), 2);
        assert_eq!(second.after_refusal(1), AfterRefusal::UseCurrent);
        // Refused with the new token too: issue again (the caller stops after that retry).
        assert_eq!(second.after_refusal(2), AfterRefusal::Issue);
    }

    #[test]
    fn issues_keep_their_gap_and_failed_renewals_back_off() {
        let p = TokenPolicy::default();
        let t0 = T0;
        assert_eq!(p.next_issue_at(None, t0), t0);
        assert_eq!(p.next_issue_at(Some(t0), t0 + secs(0.2)), t0 + secs(1.0));
        assert_eq!(p.next_issue_at(Some(t0), t0 + secs(5.0)), t0 + secs(5.0));
        let waits: Vec<f64> = (1..=9).map(|n| p.retry_wait(n).as_secs_f64()).collect();
        assert_eq!(waits, [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]);
        assert_eq!(
            p.retry_wait(u32::MAX),
            Duration::from_secs(60),
            "no overflow"
        );
        let held = HeldToken::granted(None, "T1".into(), t0, lasts(3.0), &p);
        assert_eq!(held.next_renewal(2, t0 + secs(2.7), &p), t0 + secs(4.7));
    }

    #[test]
    fn a_fixed_token_source_hides_its_token_and_cannot_renew() {
        let source = TokenSource::from("eyJSECRET");
        assert_eq!(source.current(), ("eyJSECRET".to_owned(), 0));
        let shown = format!("{source:?}");
        assert!(!shown.contains("eyJSECRET"), "{shown}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let e = rt.block_on(source.renew_after_refusal(0)).unwrap_err();
        assert!(e.contains("fixed"), "{e}");
    }

    #[test]
    fn the_token_never_reaches_debug() {
        let p = TokenPolicy::default();
        let held = HeldToken::granted(None, "eyJSECRETJWT".into(), T0, lasts(3.0), &p);
        let shown = format!("{held:?}");
        assert!(
            !shown.contains("eyJSECRETJWT") && shown.contains("***"),
            "{shown}"
        );
    }
}
