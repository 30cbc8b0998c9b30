//! How far the BrokerSession may read ahead of the Processor: the ticks in flight
//! between them (routed to a StockFeed, not yet handled by the Processor).
//!
//! Ticks are never dropped, so a session that reads faster than the strategy runs would
//! queue them in actor mailboxes without bound. Measured with one feed under the
//! simulator's firehose: 4.2 million ticks queued after a 4 s bench run, and throughput
//! fell to a third or less as the queue left the caches. Past `limit` ticks in flight
//! the session stops reading the socket until the Processor is down to half of it; TCP's
//! own flow control then holds the sender back, and nothing is lost.
//!
//! Owns two counters and a wake-up. Must never block a thread: the session awaits
//! [`TickBacklog::drained`], which lets the feeds and the Processor run meanwhile.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

/// Ticks in flight past which the session stops reading: about 7 ms of work at the
/// engine's firehose rate, well inside the caches.
pub const DEFAULT_LIMIT: u64 = 2_048;

#[derive(Debug)]
pub struct TickBacklog {
    limit: u64,
    routed: AtomicU64,
    handled: AtomicU64,
    /// The most ticks ever in flight (for tests and the bench).
    high_water: AtomicU64,
    /// The session waits for the Processor to catch up.
    waiting: AtomicBool,
    drained: Notify,
}

impl TickBacklog {
    /// A bound of `limit` ticks in flight (at least 2).
    pub fn new(limit: u64) -> Arc<TickBacklog> {
        Arc::new(TickBacklog {
            limit: limit.max(2),
            routed: AtomicU64::new(0),
            handled: AtomicU64::new(0),
            high_water: AtomicU64::new(0),
            waiting: AtomicBool::new(false),
            drained: Notify::new(),
        })
    }

    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Ticks routed and neither handled nor given up for lost.
    pub fn in_flight(&self) -> u64 {
        let handled = self.handled.load(Ordering::SeqCst);
        self.routed.load(Ordering::SeqCst).saturating_sub(handled)
    }

    /// The most ticks that were ever in flight at once.
    pub fn high_water(&self) -> u64 {
        self.high_water.load(Ordering::Relaxed)
    }

    /// The session routed one tick; true when it must now wait ([`Self::drained`]).
    pub fn routed(&self) -> bool {
        self.routed.fetch_add(1, Ordering::SeqCst);
        let now = self.in_flight();
        // One session writes it: a plain compare, no locked instruction per tick.
        if now > self.high_water.load(Ordering::Relaxed) {
            self.high_water.store(now, Ordering::Relaxed);
        }
        now >= self.limit
    }

    /// The Processor handled one tick.
    pub fn handled(&self) {
        self.settled(1);
    }

    /// `n` routed ticks will never be handled (they reached a feed that had stopped).
    pub fn forgive(&self, n: u64) {
        if n > 0 {
            self.settled(n);
        }
    }

    fn settled(&self, n: u64) {
        self.handled.fetch_add(n, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst)
            && self.in_flight() <= self.limit / 2
            && self.waiting.swap(false, Ordering::SeqCst)
        {
            // Kept as a permit if the session has not started awaiting yet.
            self.drained.notify_one();
        }
    }

    /// Resolves once at most half the limit is in flight.
    pub async fn drained(&self) {
        loop {
            // Flag first, then check: a `settled` between the two sees the flag and
            // leaves a permit, so the wake-up is never missed.
            self.waiting.store(true, Ordering::SeqCst);
            if self.in_flight() <= self.limit / 2 {
                self.waiting.store(false, Ordering::SeqCst);
                return;
            }
            self.drained.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_session_is_told_to_wait_at_the_limit() {
        let b = TickBacklog::new(4);
        assert!(!b.routed());
        assert!(!b.routed());
        assert!(!b.routed());
        assert!(b.routed(), "4 in flight");
        assert_eq!((b.in_flight(), b.high_water()), (4, 4));
        b.handled();
        assert_eq!(b.in_flight(), 3);
        assert!(b.routed(), "back at 4");
        // Ticks lost to a stopped feed count as settled.
        b.forgive(4);
        assert_eq!(b.in_flight(), 0);
        assert_eq!(b.high_water(), 4);
    }

    #[actix_rt::test]
    async fn drained_waits_until_the_processor_is_down_to_half() {
        let b = TickBacklog::new(4);
        for _ in 0..4 {
            b.routed();
        }
        let waiter = {
            let b = b.clone();
            actix_rt::spawn(async move { b.drained().await })
        };
        actix_rt::task::yield_now().await;
        b.handled(); // 3 in flight: still over half
        actix_rt::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished(), "resumed with 3 of 4 in flight");
        b.handled(); // 2: half
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken at half")
            .unwrap();
    }

    #[actix_rt::test]
    async fn drained_returns_at_once_when_already_below_half() {
        let b = TickBacklog::new(8);
        b.routed();
        tokio::time::timeout(Duration::from_secs(5), b.drained())
            .await
            .expect("nothing to wait for");
    }
}
