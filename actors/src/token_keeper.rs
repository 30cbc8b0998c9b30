//! One request path for every broker's REST client: the access token issued, kept fresh
//! and re-issued when the broker refuses it, the refused call then made once more.
//!
//! A [`TokenKeeper`] holds the token ([`HeldToken`]) and issues it through its broker's
//! [`TokenIssuer`] (LS's `/oauth2/token` form, Kiwoom's au10001 JSON): first at
//! [`TokenKeeper::start`], then in the background once the [`TokenPolicy`]'s share of its
//! life has passed (calls meanwhile go on with the old one, still valid), first by a call
//! that finds it expired by our clock, and after the broker refuses it. One issue at a
//! time, never two closer than the policy's gap: calls refused together wait for the same
//! new token. A rate-limited issue is waited out once. Times are on the engine's clock.
//!
//! Owns the token and its issuing turn. Must never log the token, and never make a call a
//! second time unless the broker refused its token (an order whose fate is unknown is
//! never resent): [`TokenKeeper::call`] is the only retry here.

use std::future::Future;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use crate::access_token::{AfterRefusal, Freshness, HeldToken, TokenLifetime, TokenPolicy};
use crate::clock::Clock;

/// How long the token endpoint's rate limit is waited out, once, before an issue gives up:
/// both brokers count calls in one-second windows.
const TOKEN_RATE_WAIT: Duration = Duration::from_secs(1);

/// The renewer sleeps at most this long (real time) before looking at the clock again, so
/// a wall clock stepped forward (NTP, a suspended laptop) cannot make it sleep past expiry.
const RENEWER_RECHECK: Duration = Duration::from_secs(60);

/// What differs between brokers: how a token is issued, and how the broker's answers say
/// it refused a token or the rate.
pub trait TokenIssuer: Send + Sync + 'static {
    /// A call's (and an issue's) failure, as the client returns it.
    type Error: std::fmt::Display + Send + 'static;
    /// The log target.
    const LOG: &'static str;
    /// Who refuses a token, as the log says it ("the gateway", "Kiwoom").
    const REFUSER: &'static str;

    /// Asks the broker for a token: its value and how long it lives.
    fn issue(&self) -> impl Future<Output = Result<(String, TokenLifetime), Self::Error>> + Send;
    /// The broker refused for its rate limit (the call, or the issue, was not made).
    fn is_rate_limited(e: &Self::Error) -> bool;
    /// The broker refused the call for its token: a new one may make it.
    fn is_token_refusal(e: &Self::Error) -> bool;
    /// The call refused for its token again, with a newly issued one: final.
    fn refused_again(refusal: Self::Error) -> Self::Error;
    /// The call refused for its token, and `cause` why no new one could be issued.
    fn no_new_token(refusal: Self::Error, cause: Self::Error) -> Self::Error;
}

/// A broker's token and the turn to issue the next one; see the module's comment.
pub struct TokenKeeper<B: TokenIssuer> {
    issuer: B,
    policy: TokenPolicy,
    held: RwLock<HeldToken>,
    /// One issue at a time; holds when the last one was asked for (Unix ms on `clock`).
    issuing: tokio::sync::Mutex<Option<i64>>,
    /// The engine's clock: tokens' lifetimes and the gap between issues are measured on it.
    clock: Arc<dyn Clock>,
}

/// Sleeps until `clock` shows `at_ms` (Unix ms), however fast it runs.
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

impl<B: TokenIssuer> TokenKeeper<B> {
    /// Issues the first token and keeps it fresh for as long as the keeper lives.
    pub async fn start(
        issuer: B,
        policy: TokenPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Arc<TokenKeeper<B>>, B::Error> {
        let asked_at = clock.unix_ms();
        let (token, lifetime) = issuer.issue().await?;
        let held = HeldToken::granted(None, token, asked_at, lifetime, &policy);
        log::info!(target: B::LOG, "access token #1 issued: {}", lifetime_words(&held, asked_at));
        let keeper = Arc::new(TokenKeeper {
            issuer,
            policy,
            held: RwLock::new(held),
            issuing: tokio::sync::Mutex::new(Some(asked_at)),
            clock,
        });
        spawn_renewer(Arc::downgrade(&keeper));
        Ok(keeper)
    }

    /// The broker's own side of the client (its connection pool, keys, pacers).
    pub fn issuer(&self) -> &B {
        &self.issuer
    }

    /// The token held now.
    pub fn held(&self) -> HeldToken {
        self.held.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// A new token, unless one newer than generation `seen` is already held (another
    /// caller renewed meanwhile). Callers queue for the one issue in flight.
    pub async fn renew(&self, seen: u64, why: &str) -> Result<(), B::Error> {
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
            match self.issuer.issue().await {
                Ok((token, lifetime)) => {
                    let mut held = self.held.write().unwrap_or_else(|e| e.into_inner());
                    *held =
                        HeldToken::granted(Some(&held), token, asked_at, lifetime, &self.policy);
                    log::info!(target: B::LOG, "access token #{} issued ({why}): {}", held.generation(), lifetime_words(&held, asked_at));
                    return Ok(());
                }
                Err(e) if B::is_rate_limited(&e) && !waited_out_rate_limit => {
                    log::warn!(target: B::LOG, "the token endpoint is rate limited ({e}); asking again in {TOKEN_RATE_WAIT:?}");
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

    /// The token to call with now: renewed first when our own clock says it has expired
    /// (a call with it would only be refused).
    pub async fn usable_token(&self) -> HeldToken {
        let held = self.held();
        if held.freshness(self.clock.unix_ms()) != Freshness::Expired {
            return held;
        }
        if let Err(e) = self
            .renew(held.generation(), "the token expired unrenewed")
            .await
        {
            // The call goes out with the old token; the broker's refusal then says it was
            // not made, which an order's caller needs to know (an error here would not).
            log::warn!(target: B::LOG, "cannot issue a new access token: {e}");
        }
        self.held()
    }

    /// Makes a call with the usable token (`send` puts it on the wire). Refused for its
    /// token, the call gets a new token and is made once more, orders included: the
    /// broker refused it before its order system saw it. Refused again, it is
    /// [`TokenIssuer::refused_again`]. Nothing else is sent twice.
    pub async fn call<T, F, Fut>(&self, mut send: F) -> Result<T, B::Error>
    where
        F: FnMut(HeldToken) -> Fut,
        Fut: Future<Output = Result<T, B::Error>>,
    {
        let held = self.usable_token().await;
        let generation = held.generation();
        let refusal = match send(held).await {
            Err(e) if B::is_token_refusal(&e) => e,
            other => return other,
        };
        log::info!(target: B::LOG, "{refusal}; {} refused access token #{generation}: issuing a new one and calling once more", B::REFUSER);
        let why = format!("{} refused the last one", B::REFUSER);
        if let Err(cause) = self.renew(generation, &why).await {
            return Err(B::no_new_token(refusal, cause));
        }
        match send(self.held()).await {
            Err(e) if B::is_token_refusal(&e) => Err(B::refused_again(e)),
            other => other,
        }
    }
}

/// Renews the token at its renewal time, for as long as the keeper lives; a failed
/// renewal is tried again with backoff while the old token still works.
fn spawn_renewer<B: TokenIssuer>(keeper: Weak<TokenKeeper<B>>) {
    tokio::spawn(async move {
        let mut failures = 0u32;
        // After a failure: when to try again (kept, so a recheck does not push it on).
        let mut retry_at: Option<i64> = None;
        loop {
            let (wake, generation, clock) = {
                let Some(keeper) = keeper.upgrade() else {
                    return;
                };
                let held = keeper.held();
                let wake = match retry_at {
                    Some(at) => at,
                    None => held.next_renewal(0, keeper.clock.unix_ms(), &keeper.policy),
                };
                (wake, held.generation(), keeper.clock.clone())
            };
            // Not holding the keeper while asleep: a dropped client ends the renewer.
            sleep_until_clock(clock.as_ref(), wake).await;
            let Some(keeper) = keeper.upgrade() else {
                return;
            };
            match keeper.renew(generation, "renewal before expiry").await {
                Ok(()) => {
                    failures = 0;
                    retry_at = None;
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let now = keeper.clock.unix_ms();
                    retry_at = Some(keeper.held().next_renewal(failures, now, &keeper.policy));
                    let left = keeper.held().expires_at().saturating_sub(now).max(0);
                    log::warn!(target: B::LOG, "cannot renew the access token ({e}); the current one has {:.1} s left; trying again in {:?}", left as f64 / 1000.0, keeper.policy.retry_wait(failures));
                }
            }
        }
    });
}

impl<B: TokenIssuer> std::fmt::Debug for TokenKeeper<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeeper")
            .field("token", &self.held())
            .finish_non_exhaustive()
    }
}

/// Whatever the broker, its websocket session draws the token from the same keeper its
/// REST client calls with (`TokenSource::live`).
impl<B: TokenIssuer> crate::access_token::LiveToken for TokenKeeper<B> {
    fn held(&self) -> HeldToken {
        TokenKeeper::held(self)
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
            self.renew(refused, "the websocket refused it")
                .await
                .map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A broker whose token endpoint counts its issues and answers "T1", "T2", ...; from
    /// issue `down_from` on it is unreachable.
    struct Fake {
        issued: AtomicU64,
        down_from: u64,
    }

    #[derive(Debug, PartialEq, Eq)]
    enum FakeError {
        /// The call was refused for token generation N.
        Refused(u64),
        Again(u64),
        NoNewToken(u64),
        Down,
    }

    impl std::fmt::Display for FakeError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl TokenIssuer for Fake {
        type Error = FakeError;
        const LOG: &'static str = "condor::test";
        const REFUSER: &'static str = "the fake";

        fn issue(&self) -> impl Future<Output = Result<(String, TokenLifetime), FakeError>> + Send {
            let n = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
            let life = TokenLifetime::ExpiresIn(Duration::from_secs(3_600));
            async move {
                if n >= self.down_from {
                    Err(FakeError::Down)
                } else {
                    Ok((format!("T{n}"), life))
                }
            }
        }

        fn is_rate_limited(_: &FakeError) -> bool {
            false
        }

        fn is_token_refusal(e: &FakeError) -> bool {
            matches!(e, FakeError::Refused(_))
        }

        fn refused_again(refusal: FakeError) -> FakeError {
            match refusal {
                FakeError::Refused(g) => FakeError::Again(g),
                other => other,
            }
        }

        fn no_new_token(refusal: FakeError, _cause: FakeError) -> FakeError {
            match refusal {
                FakeError::Refused(g) => FakeError::NoNewToken(g),
                other => other,
            }
        }
    }

    async fn keeper(down_from: u64) -> Arc<TokenKeeper<Fake>> {
        let fake = Fake {
            issued: AtomicU64::new(0),
            down_from,
        };
        let policy = TokenPolicy {
            min_issue_gap: Duration::ZERO,
            ..TokenPolicy::default()
        };
        TokenKeeper::start(fake, policy, Arc::new(SystemClock))
            .await
            .expect("the first token")
    }

    /// The broker refuses every token up to generation `accepts_from`.
    async fn call(k: &TokenKeeper<Fake>, accepts_from: u64) -> Result<String, FakeError> {
        k.call(|held| async move {
            if held.generation() < accepts_from {
                Err(FakeError::Refused(held.generation()))
            } else {
                Ok(held.expose().to_owned())
            }
        })
        .await
    }

    #[tokio::test]
    async fn a_refused_token_is_renewed_once_and_the_call_made_once_more() {
        let k = keeper(u64::MAX).await;
        assert_eq!(call(&k, 1).await, Ok("T1".into()), "accepted: no issue");
        assert_eq!(call(&k, 2).await, Ok("T2".into()));
        assert_eq!(k.issuer().issued.load(Ordering::SeqCst), 2);
        // Refused with the new one too: final, after exactly one more issue.
        assert_eq!(call(&k, 9).await, Err(FakeError::Again(3)));
        assert_eq!(k.issuer().issued.load(Ordering::SeqCst), 3);
        // Any other failure is returned as it is, nothing issued, nothing resent.
        let mut sent = 0;
        let down = k
            .call(|_| {
                sent += 1;
                async { Err::<(), _>(FakeError::Down) }
            })
            .await;
        assert_eq!((down, sent), (Err(FakeError::Down), 1));
        assert_eq!(k.issuer().issued.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn calls_refused_together_share_one_new_token() {
        let k = keeper(u64::MAX).await;
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let k = k.clone();
                tokio::spawn(async move { call(&k, 2).await })
            })
            .collect();
        for c in calls {
            assert_eq!(c.await.unwrap(), Ok("T2".into()));
        }
        assert_eq!(k.issuer().issued.load(Ordering::SeqCst), 2, "one issue");
    }

    #[tokio::test]
    async fn no_new_token_says_so_and_keeps_the_old_one() {
        let k = keeper(2).await;
        assert_eq!(call(&k, 2).await, Err(FakeError::NoNewToken(1)));
        assert_eq!(k.held().generation(), 1);
        assert!(!format!("{k:?}").contains("T1"), "{k:?}");
    }
}
