//! The Notifier's send queue, bounded, and the packing of what waits into Discord messages
//! (Telegram's packing is in `telegram.rs`; the queue is the same, one per destination).
//!
//! The queue is the truth: a message is built from its front when it is time to send, and
//! its notices leave the queue only once Discord accepted it (or it was given up). So a
//! message refused with 429 is built again when the wait is over, and whatever arrived
//! meanwhile joins it if there is room: a burst during a rate limit goes out coalesced.
//!
//! Packing keeps order and takes as many notices as fit. When everything waiting fits as
//! one embed each (at most 10, 6000 characters), each gets its rich embed; when more waits,
//! they go as one line each in a few digest embeds, as many as the limits allow. A daily
//! summary travels alone, with its chart attached.
//!
//! Bounded: past `cap` entries, a fill, a reject or a link notice is folded into a count
//! (a [`Digest`] entry, one per run of overflow) instead of being queued whole; the count is
//! sent like anything else. Start, stop, kill switch and summary are never folded: each
//! comes at most a few times a day.

use std::collections::VecDeque;

use crate::kill_switch::TripCause;
use crate::market::Side;
use crate::notify::discord::{
    text_len, truncate, Attachment, Embed, WebhookMessage, CONTENT_MAX, DESCRIPTION_MAX,
    EMBEDS_MAX, EMBEDS_TOTAL_MAX, TITLE_MAX,
};
use crate::notify::render::{
    self, kst_hms, kst_iso, signed_won, CHART_FILE, COLOR_DIGEST, COLOR_KILL, COLOR_LINK_DOWN,
    COLOR_REJECT,
};
use crate::notify::{Names, Notice, Queued};

/// Room kept in the 6000 for each digest embed's title.
const DIGEST_TITLE_ROOM: usize = 64;

/// Notices folded into counts because the queue was full.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Digest {
    pub first_unix_ms: i64,
    pub last_unix_ms: i64,
    pub buys: u64,
    pub sells: u64,
    /// Realized P&L of the folded fills, before fees.
    pub realized_pnl: i64,
    pub rejects: u64,
    pub link_downs: u64,
    pub link_restores: u64,
    /// A notice that is never folded, if one ever were (kept for completeness of the count).
    pub other: u64,
    pub last_kill_switch: Option<TripCause>,
}

impl Digest {
    pub fn count(&self) -> u64 {
        self.buys + self.sells + self.rejects + self.link_downs + self.link_restores + self.other
    }

    fn absorb(&mut self, q: &Queued) {
        if self.count() == 0 {
            self.first_unix_ms = q.at_unix_ms;
        }
        self.last_unix_ms = q.at_unix_ms;
        match &q.notice {
            Notice::Fill(f) => {
                match f.side {
                    Side::Buy => self.buys += 1,
                    Side::Sell => self.sells += 1,
                }
                self.realized_pnl = self.realized_pnl.saturating_add(f.realized_pnl);
            }
            Notice::Reject(_) => self.rejects += 1,
            Notice::LinkDown { .. } => self.link_downs += 1,
            Notice::LinkRestored { .. } => self.link_restores += 1,
            Notice::KillSwitch(c) => {
                self.other += 1;
                self.last_kill_switch = Some(c.clone());
            }
            _ => self.other += 1,
        }
    }

    fn text(&self) -> String {
        let mut parts = Vec::new();
        if self.buys + self.sells > 0 {
            parts.push(format!(
                "{} fills ({} buys, {} sells; realized {} won)",
                self.buys + self.sells,
                self.buys,
                self.sells,
                signed_won(self.realized_pnl)
            ));
        }
        if self.rejects > 0 {
            parts.push(format!("{} rejects", self.rejects));
        }
        if self.link_downs + self.link_restores > 0 {
            parts.push(format!(
                "{} broker link outages, {} recoveries",
                self.link_downs, self.link_restores
            ));
        }
        if self.other > 0 {
            parts.push(format!("{} other notices", self.other));
        }
        format!(
            "{}–{} {} notices summarised (the queue was full; each is in condor's log): {}",
            kst_hms(self.first_unix_ms),
            kst_hms(self.last_unix_ms),
            self.count(),
            parts.join(", ")
        )
    }
}

/// One place in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    One(Queued),
    Digest(Digest),
}

impl Entry {
    /// Notices this entry stands for.
    pub fn notices(&self) -> u64 {
        match self {
            Entry::One(_) => 1,
            Entry::Digest(d) => d.count(),
        }
    }

    pub fn is_summary(&self) -> bool {
        matches!(
            self,
            Entry::One(Queued {
                notice: Notice::Summary(..),
                ..
            })
        )
    }

    pub fn is_urgent(&self) -> bool {
        match self {
            Entry::One(q) => q.notice.is_urgent(),
            Entry::Digest(_) => false,
        }
    }

    /// The one-line form (also what the log gets for a notice that is given up).
    pub fn line(&self, names: &Names) -> String {
        match self {
            Entry::One(q) => render::line(q, names),
            Entry::Digest(d) => d.text(),
        }
    }

    /// The rich form (Telegram renders its text from it too, so both say the same).
    pub fn embed(&self, names: &Names) -> Embed {
        match self {
            Entry::One(q) => render::embed(q, names),
            Entry::Digest(d) => Embed {
                title: format!("{} notices summarised", d.count()),
                description: Some(d.text()),
                color: COLOR_DIGEST,
                timestamp: Some(kst_iso(d.last_unix_ms)),
                ..Embed::default()
            }
            .clamped(),
        }
    }

    fn at_unix_ms(&self) -> i64 {
        match self {
            Entry::One(q) => q.at_unix_ms,
            Entry::Digest(d) => d.last_unix_ms,
        }
    }

    fn color(&self) -> u32 {
        match self {
            Entry::One(q) => match q.notice {
                Notice::KillSwitch(_) => COLOR_KILL,
                Notice::LinkDown { .. } => COLOR_LINK_DOWN,
                Notice::Reject(_) => COLOR_REJECT,
                _ => COLOR_DIGEST,
            },
            Entry::Digest(_) => COLOR_DIGEST,
        }
    }
}

/// A message built from the queue's front, by whichever destination's packing.
pub trait Carries {
    /// Queue entries the message carries (at least 1).
    fn entries(&self) -> usize;
}

impl Carries for Packed {
    fn entries(&self) -> usize {
        self.entries
    }
}

/// One message built from the front of the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packed {
    pub message: WebhookMessage,
    /// The chart to attach as `files[0]` (a daily summary's).
    pub chart: Option<Vec<u8>>,
    /// Queue entries this message carries, and the notices they stand for.
    pub entries: usize,
    pub notices: u64,
}

/// Builds the next message from `entries` (the queue's front first); `None` when empty.
pub fn pack(entries: &[Entry], names: &Names) -> Option<Packed> {
    let first = entries.first()?;
    if let Entry::One(Queued {
        notice: Notice::Summary(_, chart),
        ..
    }) = first
    {
        let mut message = with_content(vec![first.embed(names)], &entries[..1]);
        if chart.is_some() {
            message.attachments = vec![Attachment {
                id: 0,
                filename: CHART_FILE.to_owned(),
            }];
        }
        return Some(Packed {
            message,
            chart: chart.clone(),
            entries: 1,
            notices: 1,
        });
    }
    // A summary further on waits for its own message.
    let limit = entries
        .iter()
        .position(Entry::is_summary)
        .unwrap_or(entries.len());
    let window = &entries[..limit];

    let mut rich = Vec::new();
    let mut total = 0;
    for e in window {
        let embed = e.embed(names);
        if rich.len() == EMBEDS_MAX || total + embed.len() > EMBEDS_TOTAL_MAX {
            break;
        }
        total += embed.len();
        rich.push(embed);
    }
    let compact = digest_embeds(window, names);
    let compact_taken = compact.iter().map(|(_, n)| n).sum::<usize>();
    let (embeds, taken) = if rich.len() >= compact_taken {
        let n = rich.len();
        (rich, n)
    } else {
        (compact.into_iter().map(|(e, _)| e).collect(), compact_taken)
    };
    let carried = &window[..taken];
    Some(Packed {
        message: with_content(embeds, carried),
        chart: None,
        entries: taken,
        notices: carried.iter().map(Entry::notices).sum(),
    })
}

/// The message with `content` set to the headlines of its urgent notices (a push
/// notification shows content, not embeds).
fn with_content(embeds: Vec<Embed>, carried: &[Entry]) -> WebhookMessage {
    let headlines: Vec<String> = carried
        .iter()
        .filter_map(|e| match e {
            Entry::One(q) => render::headline(&q.notice),
            Entry::Digest(_) => None,
        })
        .collect();
    WebhookMessage {
        content: (!headlines.is_empty()).then(|| truncate(&headlines.join("\n"), CONTENT_MAX)),
        embeds,
        ..WebhookMessage::default()
    }
}

/// The entries of `window` as lines, grouped into as few embeds as the limits allow, with
/// how many entries each carries. Stops at the first line that does not fit.
fn digest_embeds(window: &[Entry], names: &Names) -> Vec<(Embed, usize)> {
    let mut groups: Vec<Vec<(String, &Entry)>> = Vec::new();
    let mut desc_len = 0;
    let mut total = 0;
    for e in window {
        let line = e.line(names);
        let cost = text_len(&line) + 1; // and its newline
        let fits_this = groups
            .last()
            .is_some_and(|_| desc_len + cost <= DESCRIPTION_MAX);
        if fits_this {
            if total + cost > EMBEDS_TOTAL_MAX {
                break;
            }
        } else {
            if groups.len() == EMBEDS_MAX || total + DIGEST_TITLE_ROOM + cost > EMBEDS_TOTAL_MAX {
                break;
            }
            groups.push(Vec::new());
            desc_len = 0;
            total += DIGEST_TITLE_ROOM;
        }
        desc_len += cost;
        total += cost;
        if let Some(g) = groups.last_mut() {
            g.push((line, e));
        }
    }
    groups
        .into_iter()
        .map(|g| {
            let notices: u64 = g.iter().map(|(_, e)| e.notices()).sum();
            let fills = g
                .iter()
                .filter(|(_, e)| {
                    matches!(
                        e,
                        Entry::One(Queued {
                            notice: Notice::Fill(_),
                            ..
                        })
                    )
                })
                .count();
            let title = if fills == g.len() {
                format!("{fills} fills")
            } else {
                format!("{notices} notices")
            };
            let urgent = g
                .iter()
                .find(|(_, e)| e.is_urgent())
                .map(|(_, e)| e.color());
            let color = urgent
                .or_else(|| {
                    g.iter()
                        .map(|(_, e)| e.color())
                        .find(|c| *c == COLOR_REJECT)
                })
                .unwrap_or(COLOR_DIGEST);
            let at = g.last().map_or(0, |(_, e)| e.at_unix_ms());
            let description: Vec<&str> = g.iter().map(|(l, _)| l.as_str()).collect();
            let embed = Embed {
                title: truncate(&title, TITLE_MAX.min(DIGEST_TITLE_ROOM)),
                description: Some(description.join("\n")),
                color,
                timestamp: Some(kst_iso(at)),
                ..Embed::default()
            };
            (embed, g.len())
        })
        .collect()
}

/// The bounded queue. See the module docs.
#[derive(Debug)]
pub struct Outbox {
    queue: VecDeque<Entry>,
    cap: usize,
    /// Entries at the front carried by the message being sent.
    in_flight: usize,
}

impl Outbox {
    /// A queue of at most `cap` entries (at least 1) before notices are folded into counts.
    pub fn new(cap: usize) -> Outbox {
        Outbox {
            queue: VecDeque::new(),
            cap: cap.max(1),
            in_flight: 0,
        }
    }

    /// Queues `q`; `false` when it was folded into a count instead (the queue is full).
    pub fn push(&mut self, q: Queued) -> bool {
        if self.queue.len() < self.cap || !q.notice.may_be_summarised() {
            self.queue.push_back(Entry::One(q));
            return true;
        }
        // A digest already in a message being sent is closed: a new one opens.
        let open = self.queue.len() > self.in_flight
            && matches!(self.queue.back(), Some(Entry::Digest(_)));
        if !open {
            self.queue.push_back(Entry::Digest(Digest::default()));
        }
        if let Some(Entry::Digest(d)) = self.queue.back_mut() {
            d.absorb(&q);
        }
        false
    }

    /// The next message, from the front; its entries stay queued until [`Outbox::delivered`]
    /// or [`Outbox::give_up`]. `None` when nothing waits or a message is already out.
    pub fn begin(&mut self, names: &Names) -> Option<Packed> {
        self.begin_with(|entries| pack(entries, names))
    }

    /// [`Outbox::begin`] with another destination's packing (`telegram::pack`).
    pub fn begin_with<P: Carries>(
        &mut self,
        pack: impl FnOnce(&[Entry]) -> Option<P>,
    ) -> Option<P> {
        if self.in_flight > 0 {
            return None;
        }
        let packed = pack(self.queue.make_contiguous())?;
        self.in_flight = packed.entries().clamp(1, self.queue.len());
        Some(packed)
    }

    /// Discord took the message: its entries leave; the notices they stood for.
    pub fn delivered(&mut self) -> u64 {
        let n = std::mem::take(&mut self.in_flight);
        self.queue.drain(..n).map(|e| e.notices()).sum()
    }

    /// The message will be built again (after a 429 or a retryable failure).
    pub fn retry(&mut self) {
        self.in_flight = 0;
    }

    /// The message is abandoned: its entries leave and are returned (to be logged).
    pub fn give_up(&mut self) -> Vec<Entry> {
        let n = std::mem::take(&mut self.in_flight);
        self.queue.drain(..n).collect()
    }

    /// Everything still queued (at shutdown, to be logged).
    pub fn take_all(&mut self) -> Vec<Entry> {
        self.in_flight = 0;
        self.queue.drain(..).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub fn in_flight(&self) -> bool {
        self.in_flight > 0
    }

    /// Entries queued (a digest counts one).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Notices waiting (a digest counts what it folded).
    pub fn notices(&self) -> u64 {
        self.queue.iter().map(Entry::notices).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::TradingDay;
    use crate::domain::OrderNo;
    use crate::market::{Price, Qty, Ticker, TimeOfDay};
    use crate::messages::{EngineStop, FillAlert, OrderType, RejectAlert, RejectCause};
    use crate::notify::summary::{summarize, DayBook};
    use std::time::Duration;

    const AT: i64 = 1_767_573_000_000;

    fn fill(n: i64) -> Queued {
        Queued {
            at_unix_ms: AT + n,
            notice: Notice::Fill(FillAlert {
                ticker: Ticker::parse("005930").unwrap(),
                side: if n % 2 == 0 { Side::Buy } else { Side::Sell },
                qty: Qty::lit(10),
                price: Price::lit(55_000),
                order_no: OrderNo(1_000 + n),
                time: TimeOfDay::hms(9, 30, 0),
                fee: 0,
                position_after: Qty::lit(10),
                avg_price: Some(Price::lit(55_000)),
                realized_pnl: 100,
                ticker_realized_pnl: 100,
                equity: Some(100_000_000),
            }),
        }
    }

    fn reject(msg_len: usize) -> Queued {
        Queued {
            at_unix_ms: AT,
            notice: Notice::Reject(RejectAlert {
                id: None,
                ticker: Ticker::parse("000660").unwrap(),
                side: Side::Buy,
                qty: Qty::lit(1),
                order_type: OrderType::Market,
                reason: "entry: momentum".into(),
                cause: RejectCause::Broker {
                    code: "90009".into(),
                    message: "가".repeat(msg_len),
                },
            }),
        }
    }

    fn summary() -> Queued {
        let s = summarize(
            &DayBook::new(TradingDay::new(2026, 1, 5).unwrap()),
            None,
            None,
        );
        Queued {
            at_unix_ms: AT,
            notice: Notice::Summary(Box::new(s), Some(vec![0x89, b'P', b'N', b'G'])),
        }
    }

    fn ones(qs: impl IntoIterator<Item = Queued>) -> Vec<Entry> {
        qs.into_iter().map(Entry::One).collect()
    }

    /// The order numbers the message's text mentions, in order.
    fn order_numbers(m: &WebhookMessage) -> Vec<i64> {
        let text = serde_json::to_string(m).unwrap();
        let mut out = Vec::new();
        let mut rest = text.as_str();
        while let Some(i) = rest.find('#') {
            rest = &rest[i + 1..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = digits.parse() {
                out.push(n);
            }
        }
        out
    }

    #[test]
    fn a_few_notices_go_as_one_rich_embed_each() {
        let q = ones((0..3).map(fill));
        let p = pack(&q, &Names::new()).unwrap();
        assert_eq!((p.entries, p.notices, p.message.embeds.len()), (3, 3, 3));
        assert!(
            p.message.embeds.iter().all(|e| !e.fields.is_empty()),
            "rich"
        );
        assert_eq!(order_numbers(&p.message), [1000, 1001, 1002]);
        assert_eq!(p.message.check(), Ok(()));
        assert_eq!(p.message.content, None, "nothing urgent");
    }

    #[test]
    fn a_burst_is_coalesced_into_as_few_messages_as_fit_in_order() {
        let mut q = ones((0..500).map(fill));
        let mut messages = 0;
        let mut seen = Vec::new();
        while let Some(p) = pack(&q, &Names::new()) {
            assert_eq!(p.message.check(), Ok(()), "every message within the limits");
            assert!(
                p.entries > 10,
                "more than rich embeds would carry: {}",
                p.entries
            );
            seen.extend(order_numbers(&p.message));
            q.drain(..p.entries);
            messages += 1;
        }
        assert_eq!(
            seen,
            (1000..1500).collect::<Vec<_>>(),
            "every fill, in order"
        );
        // A line is ~85 characters: about 70 fit in 6000.
        assert!(messages <= 8, "{messages} messages for 500 fills");
    }

    #[test]
    fn huge_texts_are_cut_to_fit_and_never_stall_the_queue() {
        let q = ones([reject(10_000), reject(10_000), fill(1)]);
        let p = pack(&q, &Names::new()).unwrap();
        assert_eq!(p.message.check(), Ok(()));
        assert!(p.entries >= 1);
        let mut q = q;
        let mut n = 0;
        while let Some(p) = pack(&q, &Names::new()) {
            assert!(p.entries >= 1, "progress every message");
            assert_eq!(p.message.check(), Ok(()));
            q.drain(..p.entries);
            n += 1;
        }
        assert!(n <= 3);
    }

    #[test]
    fn a_summary_goes_alone_with_its_chart_attached() {
        let q = ones([fill(1), summary(), fill(2)]);
        let p = pack(&q, &Names::new()).unwrap();
        assert_eq!(
            p.entries, 1,
            "the fill before the summary goes first, alone"
        );
        assert_eq!(p.chart, None);
        let p = pack(&q[1..], &Names::new()).unwrap();
        assert_eq!(p.entries, 1);
        assert_eq!(p.chart.as_deref(), Some(&[0x89, b'P', b'N', b'G'][..]));
        assert_eq!(
            p.message.attachments,
            vec![Attachment {
                id: 0,
                filename: "equity.png".into()
            }]
        );
        let e = &p.message.embeds[0];
        assert_eq!(e.image.as_ref().unwrap().url, "attachment://equity.png");
    }

    #[test]
    fn urgent_notices_make_the_content_line() {
        let q = ones([
            fill(1),
            Queued {
                at_unix_ms: AT,
                notice: Notice::LinkDown {
                    down_for: Duration::from_secs(12),
                },
            },
        ]);
        let p = pack(&q, &Names::new()).unwrap();
        assert_eq!(
            p.message.content.as_deref(),
            Some("⚠️ condor: broker link down for 12 s")
        );
    }

    #[test]
    fn the_queue_is_bounded_and_counts_what_it_summarised() {
        let mut o = Outbox::new(5);
        for n in 0..5 {
            assert!(o.push(fill(n)));
        }
        for n in 5..100 {
            assert!(!o.push(fill(n)), "folded");
        }
        assert_eq!(o.len(), 6, "five whole and one digest");
        assert_eq!(o.notices(), 100, "nothing lost: all counted");
        // A stop is never folded.
        assert!(o.push(Queued {
            at_unix_ms: AT,
            notice: Notice::Stopped(EngineStop::default()),
        }));
        assert_eq!(o.len(), 7);
        let p = o.begin(&Names::new()).unwrap();
        assert_eq!(p.notices, 101);
        let text = serde_json::to_string(&p.message).unwrap();
        assert!(text.contains("95 notices summarised"), "{text}");
        assert!(
            text.contains("95 fills (47 buys, 48 sells; realized +9,500 won)"),
            "{text}"
        );
        assert_eq!(o.delivered(), 101);
        assert!(o.is_empty());
    }

    #[test]
    fn a_message_is_built_again_after_a_retry_with_what_came_meanwhile() {
        let mut o = Outbox::new(1_000);
        o.push(fill(0));
        let p = o.begin(&Names::new()).unwrap();
        assert_eq!(p.entries, 1);
        assert!(
            o.begin(&Names::new()).is_none(),
            "one message out at a time"
        );
        for n in 1..40 {
            o.push(fill(n));
        }
        o.retry(); // 429
        let p = o.begin(&Names::new()).unwrap();
        assert_eq!(p.entries, 40, "the burst joined the resent message");
        assert_eq!(order_numbers(&p.message), (1000..1040).collect::<Vec<_>>());
        assert_eq!(o.delivered(), 40);
        assert!(o.is_empty());
    }

    #[test]
    fn a_digest_being_sent_is_closed_to_new_counts() {
        let mut o = Outbox::new(1);
        o.push(fill(0));
        o.push(fill(1)); // folded
        let p = o.begin(&Names::new()).unwrap();
        assert_eq!(p.notices, 2);
        o.push(fill(2)); // over the cap again: a new digest, not the one out
        assert_eq!(o.delivered(), 2);
        assert_eq!(o.notices(), 1);
    }

    #[test]
    fn a_given_up_message_leaves_the_queue_and_comes_back_for_the_log() {
        let mut o = Outbox::new(10);
        o.push(fill(0));
        o.push(fill(1));
        o.begin(&Names::new()).unwrap();
        o.push(fill(2));
        let gone = o.give_up();
        assert_eq!(gone.len(), 2);
        assert!(gone[0].line(&Names::new()).contains("#1000"));
        assert_eq!(o.notices(), 1);
        assert_eq!(o.take_all().len(), 1);
        assert!(o.is_empty());
    }
}
