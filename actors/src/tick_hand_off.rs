//! When the BrokerSession should let a tick it just routed run through its StockFeed and
//! the Processor before it reads the next frame.
//!
//! All the engine's actors share one thread, so the order in which they run decides a
//! tick's latency. Read on (batching) and a tick that came in a burst waits for every
//! frame after it in the burst to be decoded first (up to 16 before actix yields); hand
//! each tick on (depth-first) and it waits for at most one. Measured by the engine bench
//! at 20,000 ticks/s: tick→intent p50 77 µs batching, 5.0 µs handing on. Handing on costs
//! each frame its own task polls, which under a firehose cut throughput by a third, so
//! above `limit` frames a millisecond the session batches again.
//!
//! Owns only a frame count per millisecond. Must never read a clock itself: the caller
//! passes each frame's receive instant, so tests drive it with made-up instants.

use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_millis(1);

/// Frames a millisecond below which each tick is handed on (100,000 frames/s: busier than
/// the whole KRX tape for the tickers one condition watches, far below a firehose).
pub const DEFAULT_LIMIT_PER_MS: u32 = 100;

#[derive(Clone, Copy, Debug)]
pub struct TickHandOff {
    limit: u32,
    window_start: Option<Instant>,
    this_window: u32,
    last_window: u32,
}

impl TickHandOff {
    /// Hands ticks on while at most `limit` frames come a millisecond; 0 never does.
    pub fn new(limit: u32) -> TickHandOff {
        TickHandOff {
            limit,
            window_start: None,
            this_window: 0,
            last_window: 0,
        }
    }

    /// A frame was received at `at`: true when the session should yield after it.
    pub fn after_frame(&mut self, at: Instant) -> bool {
        let start = *self.window_start.get_or_insert(at);
        let since = at.saturating_duration_since(start);
        if since >= WINDOW {
            // A gap of a whole window or more means the last one was quiet.
            self.last_window = if since < 2 * WINDOW {
                self.this_window
            } else {
                0
            };
            self.this_window = 0;
            self.window_start = Some(at);
        }
        self.this_window = self.this_window.saturating_add(1);
        self.this_window.max(self.last_window) <= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    #[test]
    fn a_burst_below_the_limit_is_handed_on_tick_by_tick() {
        let t0 = Instant::now();
        let mut h = TickHandOff::new(50);
        // 20 frames in one read, then the same a millisecond later: 20,000 frames/s.
        for ms in 0..5 {
            for i in 0..20 {
                assert!(h.after_frame(t0 + us(ms * 1000 + i)), "ms {ms} frame {i}");
            }
        }
    }

    #[test]
    fn a_firehose_is_batched_and_a_quiet_spell_hands_on_again() {
        let t0 = Instant::now();
        let mut h = TickHandOff::new(50);
        // 200 frames a millisecond: from the 51st in the first window, batch.
        let verdicts: Vec<bool> = (0..200).map(|i| h.after_frame(t0 + us(i * 5))).collect();
        assert!(verdicts[..50].iter().all(|&v| v));
        assert!(verdicts[50..].iter().all(|&v| !v));
        // The next window starts batching at once: the last one was busy.
        assert!(!h.after_frame(t0 + us(1_000)));
        // After a quiet spell (no frame for over a window) it hands on again.
        assert!(h.after_frame(t0 + us(3_500)));
        assert!(h.after_frame(t0 + us(3_600)));
    }

    #[test]
    fn a_busy_window_then_a_slow_one_batches_until_the_slow_one_is_the_last() {
        let t0 = Instant::now();
        let mut h = TickHandOff::new(10);
        for i in 0..30 {
            h.after_frame(t0 + us(i * 10));
        }
        // Next window: 1 frame so far, but the last window had 30.
        assert!(!h.after_frame(t0 + us(1_100)));
        // The window after: the last one had 1 frame.
        assert!(h.after_frame(t0 + us(2_200)));
    }

    #[test]
    fn limit_zero_never_hands_on() {
        let mut h = TickHandOff::new(0);
        assert!(!h.after_frame(Instant::now()));
    }
}
