//! How refusals are told without flooding the log and the alerts: per rule, the first
//! refusal is told at once; those that follow within a minute are counted and told as one
//! line ("journal: 3,815 intents refused in the last minute"), once a minute while they
//! go on. A quiet minute closes the rule's window, and the next refusal is told at once
//! again. Pure: the caller gives the instants (the OrderManager, the stamps of its inputs).
//!
//! Must never: drop a refusal from the count (every one is told or counted into a digest),
//! or hold a count longer than a window past its first refusal.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One window per rule: a minute.
pub const WINDOW: Duration = Duration::from_secs(60);

/// What to do with one refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tell {
    /// Log it and alert it, whole.
    Now,
    /// Counted: it comes in the rule's next [`Digest`].
    Counted,
}

/// Refusals by one rule that were counted, not told, over `over`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    pub rule: &'static str,
    pub count: u64,
    /// The last one's detail (why it was refused).
    pub last_detail: String,
    pub over: Duration,
}

#[derive(Clone, Debug)]
struct Window {
    opened: Instant,
    counted: u64,
    last_detail: String,
}

#[derive(Clone, Debug)]
pub struct RefusalDigest {
    window: Duration,
    rules: BTreeMap<&'static str, Window>,
}

impl Default for RefusalDigest {
    fn default() -> RefusalDigest {
        RefusalDigest::new(WINDOW)
    }
}

impl RefusalDigest {
    pub fn new(window: Duration) -> RefusalDigest {
        RefusalDigest {
            window,
            rules: BTreeMap::new(),
        }
    }

    /// A refusal by `rule` at `now`. Call [`RefusalDigest::due`] first with the same `now`
    /// so that a window that ended is told before a new one opens.
    pub fn refused(&mut self, rule: &'static str, detail: &str, now: Instant) -> Tell {
        match self.rules.get_mut(rule) {
            Some(w) if now.saturating_duration_since(w.opened) < self.window => {
                w.counted += 1;
                if w.last_detail != detail {
                    w.last_detail.clear();
                    w.last_detail.push_str(detail);
                }
                Tell::Counted
            }
            _ => {
                self.rules.insert(
                    rule,
                    Window {
                        opened: now,
                        counted: 0,
                        last_detail: String::new(),
                    },
                );
                Tell::Now
            }
        }
    }

    /// The digests of the windows that ended by `now`, by rule name. A window that counted
    /// something opens the next one at once (a flood is told once a window); one that
    /// counted nothing closes.
    pub fn due(&mut self, now: Instant) -> Vec<Digest> {
        let mut out = Vec::new();
        let window = self.window;
        self.rules.retain(|rule, w| {
            let over = now.saturating_duration_since(w.opened);
            if over < window {
                return true;
            }
            if w.counted == 0 {
                return false;
            }
            out.push(Digest {
                rule,
                count: w.counted,
                last_detail: std::mem::take(&mut w.last_detail),
                over,
            });
            w.opened = now;
            w.counted = 0;
            true
        });
        out
    }
}

/// `3815` as `3,815`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, ms: u64) -> Instant {
        t0 + Duration::from_millis(ms)
    }

    #[test]
    fn a_flood_is_told_once_then_once_a_minute_with_its_count() {
        let t0 = Instant::now();
        let mut d = RefusalDigest::default();
        assert_eq!(d.refused("journal", "the journal failed", t0), Tell::Now);
        // 3,815 more in the minute: counted, none told.
        for i in 1..=3_815u64 {
            assert!(d.due(at(t0, i * 15)).is_empty());
            assert_eq!(
                d.refused("journal", "the journal failed", at(t0, i * 15)),
                Tell::Counted
            );
        }
        let due = d.due(at(t0, 60_000));
        assert_eq!(
            due,
            [Digest {
                rule: "journal",
                count: 3_815,
                last_detail: "the journal failed".to_owned(),
                over: Duration::from_secs(60),
            }]
        );
        // Still refusing: counted into the next minute, not told one by one.
        assert_eq!(d.refused("journal", "x", at(t0, 60_001)), Tell::Counted);
        assert!(d.due(at(t0, 119_999)).is_empty());
        let due = d.due(at(t0, 120_000));
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].count, 1);
        assert_eq!(due[0].last_detail, "x");
        // A quiet minute closes the window: the next one is told at once.
        assert!(d.due(at(t0, 180_000)).is_empty());
        assert_eq!(d.refused("journal", "y", at(t0, 180_001)), Tell::Now);
    }

    #[test]
    fn each_rule_has_its_own_window() {
        let t0 = Instant::now();
        let mut d = RefusalDigest::new(Duration::from_secs(60));
        assert_eq!(d.refused("journal", "a", t0), Tell::Now);
        assert_eq!(d.refused("disk_space", "b", at(t0, 10)), Tell::Now);
        assert_eq!(d.refused("journal", "a", at(t0, 20)), Tell::Counted);
        assert_eq!(d.refused("disk_space", "b", at(t0, 30)), Tell::Counted);
        assert_eq!(d.refused("disk_space", "b", at(t0, 40)), Tell::Counted);
        // The journal's window ends first.
        let due = d.due(at(t0, 60_000));
        assert_eq!(due.len(), 1);
        assert_eq!((due[0].rule, due[0].count), ("journal", 1));
        let due = d.due(at(t0, 60_010));
        assert_eq!((due[0].rule, due[0].count), ("disk_space", 2));
    }

    #[test]
    fn a_lone_refusal_is_told_and_never_digested() {
        let t0 = Instant::now();
        let mut d = RefusalDigest::default();
        assert_eq!(d.refused("max_order_qty", "too many", t0), Tell::Now);
        assert!(d.due(at(t0, 61_000)).is_empty());
        assert_eq!(
            d.refused("max_order_qty", "too many", at(t0, 61_001)),
            Tell::Now
        );
    }

    #[test]
    fn counts_read_with_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(3_815), "3,815");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
