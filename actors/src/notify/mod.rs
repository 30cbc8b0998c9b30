//! What the Notifier tells the trader, as pure logic: Discord's webhook format and limits
//! (`discord`), Telegram's Bot API and its limits (`telegram`), notices turned into embeds
//! and one-line texts (`render`), the bounded queue that coalesces a burst into as few
//! messages as fit (`outbox`, one per destination), the day's
//! arithmetic for the summary (`summary`), the equity chart (`chart`) and the broker
//! link's outage clock (`link`).
//!
//! No actix and no I/O here: the Notifier actor (`notifier.rs`) owns the HTTP client and
//! the timers, and calls into these with plain data, so every rule is unit-tested.

pub mod chart;
pub mod discord;
pub mod link;
pub mod outbox;
pub mod render;
pub mod summary;
pub mod telegram;

use std::collections::HashMap;
use std::time::Duration;

use crate::kill_switch::TripCause;
use crate::market::Ticker;
use crate::messages::{DiskAlert, EngineStart, EngineStop, FillAlert, RefusalCount, RejectAlert};

/// Stock names by code (t8436), for "005930 삼성전자".
pub type Names = HashMap<Ticker, String>;

/// One thing to tell the trader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    Fill(FillAlert),
    Reject(RejectAlert),
    KillSwitch(TripCause),
    /// The broker link has been down this long (past the threshold) and is still down.
    LinkDown {
        down_for: Duration,
    },
    /// The broker link is back after an outage that was told.
    LinkRestored {
        down_for: Duration,
    },
    Started(EngineStart),
    Stopped(EngineStop),
    Disk(DiskAlert),
    Refusals(RefusalCount),
    /// The day's summary, with its equity chart (a PNG) when one could be drawn.
    Summary(Box<summary::DailySummary>, Option<Vec<u8>>),
}

impl Notice {
    /// Worth a push notification: said in the message's `content` too, not only in an embed.
    pub fn is_urgent(&self) -> bool {
        matches!(
            self,
            Notice::KillSwitch(_)
                | Notice::LinkDown { .. }
                | Notice::Disk(DiskAlert::Low { .. } | DiskAlert::ReserveFreed { .. })
        )
    }

    /// A fill, a reject or a link notice may be folded into a count when the queue is full;
    /// the rest (start, stop, kill switch, summary) come at most a few times a day and are
    /// always kept whole.
    pub fn may_be_summarised(&self) -> bool {
        matches!(
            self,
            Notice::Fill(_)
                | Notice::Reject(_)
                | Notice::LinkDown { .. }
                | Notice::LinkRestored { .. }
        )
    }
}

/// A notice and when it happened (ms since the Unix epoch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Queued {
    pub at_unix_ms: i64,
    pub notice: Notice,
}

/// Why an alert endpoint's URL was refused. Never quotes the URL: it may hold a token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("is not a URL")]
    NotAUrl,
    #[error("must be an https:// URL (http:// only to a loopback address)")]
    Insecure,
}

/// `s` as a URL if it is `https://`, or `http://` to a loopback address (a test server on
/// this host): a token must never cross a network in the clear.
pub fn https_or_loopback(s: &str) -> Result<reqwest::Url, UrlError> {
    let url = reqwest::Url::parse(s.trim()).map_err(|_| UrlError::NotAUrl)?;
    let host = url.host_str().ok_or(UrlError::NotAUrl)?;
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(UrlError::Insecure),
    }
}

/// The wait before retrying after `failures` failures in a row (1 = the first):
/// `first`, doubling each time, never more than `max`.
pub fn retry_delay(failures: u32, first: Duration, max: Duration) -> Duration {
    let doublings = failures.saturating_sub(1).min(20);
    first.saturating_mul(1u32 << doublings).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_up_to_its_cap() {
        let (first, max) = (Duration::from_millis(500), Duration::from_secs(30));
        let waits: Vec<u64> = (1..=9)
            .map(|n| retry_delay(n, first, max).as_millis() as u64)
            .collect();
        assert_eq!(
            waits,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(retry_delay(u32::MAX, first, max), max);
        assert_eq!(retry_delay(0, first, max), first);
    }
}
