//! The tick path's one count, and how far the BrokerSession may read ahead of the
//! Processor: the ticks in flight between them (routed, not yet run through the strategy).
//!
//! Each tick is counted here once at each end: the session counts it decoded and routed,
//! the Processor handled, each a message at a time (a firehose read's ticks are one add,
//! not 64). The session's and the Processor's stats, the Prometheus counters and the
//! mailbox lag all read these counters; none keeps a copy.
//!
//! Ticks are never dropped, so a session that reads faster than the strategy runs would
//! queue them in actor mailboxes without bound. Measured with one feed under the
//! simulator's firehose: 4.2 million ticks queued after a 4 s bench run, and throughput
//! fell to a third or less as the queue left the caches. Past `limit` ticks in flight
//! the session stops reading the socket until the Processor is down to half of it; TCP's
//! own flow control then holds the sender back, and nothing is lost.
//!
//! Owns the counters and a wake-up. Must never block a thread: the session awaits
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
    /// Trades decoded off the socket (routed or not: a ticker nobody watches is counted
    /// here only). Written by the session alone.
    decoded: AtomicU64,
    /// Ticks the session sent towards the Processor. Written by the session alone.
    routed: AtomicU64,
    /// Ticks the Processor ran through the strategy.
    handled: AtomicU64,
    /// Ticks given up for lost (see [`TickBacklog::forgive`]).
    forgiven: AtomicU64,
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
            decoded: AtomicU64::new(0),
            routed: AtomicU64::new(0),
            handled: AtomicU64::new(0),
            forgiven: AtomicU64::new(0),
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
        // Settled first: a tick settled between the two reads cannot make it negative.
        let settled = self.handled.load(Ordering::SeqCst) + self.forgiven.load(Ordering::SeqCst);
        self.routed.load(Ordering::SeqCst).saturating_sub(settled)
    }

    /// What the tick path counted so far.
    pub fn counts(&self) -> TickCounts {
        let handled = self.handled.load(Ordering::SeqCst);
        let forgiven = self.forgiven.load(Ordering::SeqCst);
        TickCounts {
            decoded: self.decoded.load(Ordering::Relaxed),
            routed: self.routed.load(Ordering::SeqCst),
            handled,
            lost: forgiven,
        }
    }

    /// The session decoded `n` trades. One writer: a plain add, no locked instruction.
    #[inline]
    pub fn decoded(&self, n: u64) {
        let before = self.decoded.load(Ordering::Relaxed);
        self.decoded.store(before + n, Ordering::Relaxed);
    }

    /// Ticks the session may still route before it must wait.
    pub fn room(&self) -> u64 {
        self.limit.saturating_sub(self.in_flight())
    }

    /// The most ticks that were ever in flight at once.
    pub fn high_water(&self) -> u64 {
        self.high_water.load(Ordering::Relaxed)
    }

    /// The session sent `n` ticks on; true when it must now wait ([`Self::drained`]).
    #[inline]
    pub fn routed(&self, n: u64) -> bool {
        // One writer (the session): a plain store. The Processor reading a stale figure
        // only wakes the session early, and `drained` checks again.
        let before = self.routed.load(Ordering::Relaxed);
        self.routed.store(before + n, Ordering::SeqCst);
        let now = self.in_flight();
        // One session writes it: a plain compare, no locked instruction per tick.
        if now > self.high_water.load(Ordering::Relaxed) {
            self.high_water.store(now, Ordering::Relaxed);
        }
        now >= self.limit
    }

    /// The Processor ran `n` ticks through the strategy.
    #[inline]
    pub fn handled(&self, n: u64) {
        self.settled(&self.handled, n);
    }

    /// `n` routed ticks will never be handled: the session gave up waiting for them (a
    /// count gone astray must not stop reading for good).
    pub fn forgive(&self, n: u64) {
        if n > 0 {
            self.settled(&self.forgiven, n);
        }
    }

    fn settled(&self, counter: &AtomicU64, n: u64) {
        // SeqCst against the session's `waiting` flag: either it sees this tick settled,
        // or this sees it waiting and wakes it.
        counter.fetch_add(n, Ordering::SeqCst);
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

/// The tick path's counts at one moment (see [`TickBacklog::counts`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickCounts {
    /// Trades decoded off the socket.
    pub decoded: u64,
    /// Ticks sent towards the Processor (decoded for a watched ticker).
    pub routed: u64,
    /// Ticks run through the strategy.
    pub handled: u64,
    /// Ticks given up for lost after the Processor took none for a long time.
    pub lost: u64,
}

impl TickCounts {
    /// Routed and neither handled nor lost: in the Processor's mailbox or on the way.
    pub fn in_flight(&self) -> u64 {
        self.routed.saturating_sub(self.handled + self.lost)
    }

    /// These counts added to `other`'s (a new day's engine counts on from the last).
    pub fn plus(self, other: TickCounts) -> TickCounts {
        TickCounts {
            decoded: self.decoded + other.decoded,
            routed: self.routed + other.routed,
            handled: self.handled + other.handled,
            lost: self.lost + other.lost,
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
        assert!(!b.routed(1));
        assert!(!b.routed(1));
        assert!(!b.routed(1));
        assert!(b.routed(1), "4 in flight");
        assert_eq!((b.in_flight(), b.high_water()), (4, 4));
        assert_eq!(b.room(), 0);
        b.handled(1);
        assert_eq!((b.in_flight(), b.room()), (3, 1));
        assert!(b.routed(1), "back at 4");
        // Ticks given up for lost count as settled, not as handled.
        b.forgive(4);
        assert_eq!(b.in_flight(), 0);
        assert_eq!(b.high_water(), 4);
        b.decoded(1);
        assert_eq!(
            b.counts(),
            TickCounts {
                decoded: 1,
                routed: 5,
                handled: 1,
                lost: 4
            }
        );
    }

    #[actix_rt::test]
    async fn drained_waits_until_the_processor_is_down_to_half() {
        let b = TickBacklog::new(4);
        for _ in 0..4 {
            b.routed(1);
        }
        let waiter = {
            let b = b.clone();
            actix_rt::spawn(async move { b.drained().await })
        };
        actix_rt::task::yield_now().await;
        b.handled(1); // 3 in flight: still over half
        actix_rt::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished(), "resumed with 3 of 4 in flight");
        b.handled(1); // 2: half
        tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("woken at half")
            .unwrap();
    }

    #[actix_rt::test]
    async fn drained_returns_at_once_when_already_below_half() {
        let b = TickBacklog::new(8);
        b.routed(1);
        tokio::time::timeout(Duration::from_secs(5), b.drained())
            .await
            .expect("nothing to wait for");
    }
}
