//! The broker link's outage clock: a drop is worth telling only once it has lasted longer
//! than a threshold (a reconnect within a second is routine), and then its end is told too.
//! The caller arms a timer for the threshold and asks [`LinkWatch::overdue`] when it fires.

use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct LinkWatch {
    down_since: Option<Instant>,
    /// Numbers each outage, so a timer armed for an earlier one finds nothing to tell.
    outage: u64,
    told: bool,
}

/// An outage that ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restored {
    pub down_for: Duration,
    /// Its start was told (it outlasted the threshold), so its end is told too.
    pub told: bool,
}

impl LinkWatch {
    /// The link dropped at `now`: the new outage's number, or `None` if it was already down.
    pub fn down(&mut self, now: Instant) -> Option<u64> {
        if self.down_since.is_some() {
            return None;
        }
        self.down_since = Some(now);
        self.outage += 1;
        self.told = false;
        Some(self.outage)
    }

    /// Outage `outage` is still going at `now` after at least `threshold`, and not told yet:
    /// how long it has lasted (and it counts as told from here on).
    pub fn overdue(&mut self, outage: u64, now: Instant, threshold: Duration) -> Option<Duration> {
        let since = self.down_since?;
        let down_for = now.saturating_duration_since(since);
        if outage != self.outage || self.told || down_for < threshold {
            return None;
        }
        self.told = true;
        Some(down_for)
    }

    /// The link is back at `now`; `None` if it was not down.
    pub fn up(&mut self, now: Instant) -> Option<Restored> {
        let since = self.down_since.take()?;
        Some(Restored {
            down_for: now.saturating_duration_since(since),
            told: std::mem::take(&mut self.told),
        })
    }

    pub fn is_down(&self) -> bool {
        self.down_since.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn a_short_outage_is_not_told() {
        let t0 = Instant::now();
        let mut w = LinkWatch::default();
        let id = w.down(t0).unwrap();
        assert_eq!(w.down(t0 + Duration::from_secs(1)), None, "already down");
        let r = w.up(t0 + Duration::from_secs(3)).unwrap();
        assert_eq!(
            r,
            Restored {
                down_for: Duration::from_secs(3),
                told: false
            }
        );
        // The timer armed for it fires later: nothing to tell.
        assert_eq!(w.overdue(id, t0 + T, T), None);
        assert_eq!(w.up(t0 + T), None, "not down");
    }

    #[test]
    fn a_long_outage_is_told_once_and_then_its_end() {
        let t0 = Instant::now();
        let mut w = LinkWatch::default();
        let id = w.down(t0).unwrap();
        assert_eq!(
            w.overdue(id, t0 + Duration::from_secs(9), T),
            None,
            "too soon"
        );
        assert_eq!(w.overdue(id, t0 + T, T), Some(T));
        assert_eq!(w.overdue(id, t0 + T * 2, T), None, "told once");
        let r = w.up(t0 + Duration::from_secs(34)).unwrap();
        assert_eq!(r.down_for, Duration::from_secs(34));
        assert!(r.told);
    }

    #[test]
    fn a_timer_of_an_earlier_outage_says_nothing_of_the_next() {
        let t0 = Instant::now();
        let mut w = LinkWatch::default();
        let first = w.down(t0).unwrap();
        w.up(t0 + Duration::from_secs(1));
        let second = w.down(t0 + Duration::from_secs(5)).unwrap();
        assert_ne!(first, second);
        assert_eq!(w.overdue(first, t0 + T, T), None);
        assert_eq!(w.overdue(second, t0 + Duration::from_secs(15), T), Some(T));
    }
}
