//! Telemetry: the engine's Prometheus metrics. The actors hold an `Option<Arc<Meters>>` and
//! bump a handle where a thing happens (one relaxed atomic add for a counter or a gauge);
//! the HTTP server reads the same handles for `/status` and encodes the registry for
//! `/metrics`. One `Meters` per engine, so two engines in one process never mix figures.
//!
//! The tick path is not metered here: each tick is counted once, in the engine's
//! [`TickBacklog`], and tick → intent is recorded once, in the Processor's histogram. The
//! meters read those when scraped ([`Meters::count_ticks_of`], [`Meters::set_tick_to_intent`]).
//!
//! Owns the metric handles and their registry, nothing else. Must never hold actor state,
//! take a lock on the tick path (counters and gauges are single atomics; histograms, which
//! take a short lock, are observed only per ack and fill, and the tick path's figures are
//! read at scrape time), nor be required: an actor given no meters (`None`, "metrics off")
//! does no metric work at all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{prometheus_text, DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`Meters::encode`]'s output: Prometheus text, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

type Label = [(&'static str, &'static str); 1];
type OwnedLabel = [(&'static str, String); 1];

use crate::tick_backlog::{TickBacklog, TickCounts};

/// The mailbox links whose lag is exported, as `link` label values. Ticks go from the
/// session to the Processor beside the feeds (README "How a tick travels").
pub const LINKS: [&str; 2] = ["session_to_processor", "processor_to_orders"];

/// Every handle the actors bump, and the gauges the HTTP server sets from the actors'
/// stats when it is scraped. See [`Meters::new`] for names and meanings.
#[derive(Debug)]
pub struct Meters {
    registry: Registry,
    /// The tick path's counts and tick → intent, read when scraped.
    tick_path: Arc<TickPath>,
    /// Order intents the Processor sent the OrderManager, and those it handled.
    pub intents_sent: Counter,
    pub intents_received: Counter,
    // ---- the rest of the engine ----
    pub live_feeds: Gauge,
    pub feed_spawns: Counter,
    pub feed_stops: Counter,
    pub feed_refusals: Counter,
    pub fills: Counter,
    rejects: Family<OwnedLabel, Counter>,
    refusals: Family<OwnedLabel, Counter>,
    pub reconnects: Counter,
    pub malformed_frames: Counter,
    pub journal_appends: Counter,
    pub intent_to_ack: Histogram,
    pub ack_to_fill: Histogram,
    // ---- set at scrape time ----
    orders: Family<Label, Gauge>,
    pub broker_connected: Gauge,
    pub kill_switch_on: Gauge,
    /// The data directory's disk (the DiskWatch's): free bytes at the last check, 1 while
    /// entries are stopped for want of space, and the reserve's bytes (0 once freed).
    pub disk_free_bytes: Gauge,
    pub disk_low: Gauge,
    pub disk_reserve_bytes: Gauge,
    pub open_positions: Gauge,
    pnl: Family<Label, Gauge>,
    pub equity: Gauge,
    pub cash: Gauge,
}

/// Latency buckets in seconds, 1 µs to 10 s in 1-2.5-5 steps (written out, so the `le`
/// labels read as typed).
pub const LATENCY_BUCKETS: [f64; 22] = [
    1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2,
    5e-2, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn latency_buckets() -> impl Iterator<Item = f64> {
    LATENCY_BUCKETS.into_iter()
}

fn labelled<M>(family: &Family<Label, M>, key: &'static str, value: &'static str) -> M
where
    M: prometheus_client::metrics::TypedMetric + Default + Clone,
{
    family.get_or_create(&[(key, value)]).clone()
}

impl Default for Meters {
    fn default() -> Self {
        Meters::new()
    }
}

impl Meters {
    /// Every metric registered under the `condor_` prefix, at zero.
    pub fn new() -> Meters {
        let mut r = Registry::with_prefix("condor");
        let intents = Family::<Label, Counter>::default();
        r.register(
            "intents",
            "Order intents: sent by the Processor, received by the OrderManager",
            intents.clone(),
        );
        let tick_path = Arc::new(TickPath {
            intents_sent: labelled(&intents, "actor", "processor"),
            intents_received: labelled(&intents, "actor", "order_manager"),
            ..TickPath::default()
        });
        r.register_collector(Box::new(tick_path.clone()));
        let live_feeds = Gauge::default();
        r.register("live_feeds", "StockFeeds running now", live_feeds.clone());
        let feed_events = Family::<Label, Counter>::default();
        r.register(
            "feed_events",
            "StockFeed lifecycle: spawned, stopped, refused over the CONDOR_MAX_FEEDS cap",
            feed_events.clone(),
        );
        let orders = Family::<Label, Gauge>::default();
        r.register(
            "orders",
            "Today's orders by state now: working, filled, cancelled, rejected",
            orders.clone(),
        );
        let fills = Counter::default();
        r.register("fills", "Executions of our orders booked", fills.clone());
        let rejects = Family::<OwnedLabel, Counter>::default();
        r.register(
            "rejects",
            "Orders the broker refused, by its reject code (LOCAL: the send failed before it answered)",
            rejects.clone(),
        );
        let refusals = Family::<OwnedLabel, Counter>::default();
        r.register(
            "risk_refusals",
            "Intents the pre-trade risk gate refused, by rule; none reached the broker",
            refusals.clone(),
        );
        let reconnects = Counter::default();
        r.register(
            "broker_reconnects",
            "Times the broker websocket dropped or went silent and was reconnected",
            reconnects.clone(),
        );
        let malformed_frames = Counter::default();
        r.register(
            "malformed_frames",
            "Websocket frames that did not decode (counted and logged, never a reason to stop)",
            malformed_frames.clone(),
        );
        let journal_appends = Counter::default();
        r.register(
            "journal_appends",
            "Events appended to today's journal",
            journal_appends.clone(),
        );
        let broker_connected = Gauge::default();
        r.register(
            "broker_connected",
            "1 while the broker websocket is up",
            broker_connected.clone(),
        );
        let kill_switch_on = Gauge::default();
        r.register(
            "kill_switch_on",
            "1 while today's kill switch is on: no new entries",
            kill_switch_on.clone(),
        );
        let disk_free_bytes = Gauge::default();
        // −1 until the first reading (a full disk reads 0).
        disk_free_bytes.set(-1);
        r.register_with_unit(
            "disk_free",
            "Bytes free on the data directory's disk at the last check (-1 before the first)",
            Unit::Bytes,
            disk_free_bytes.clone(),
        );
        let disk_low = Gauge::default();
        r.register(
            "disk_low",
            "1 while free space is under CONDOR_DISK_LOW: no new entries",
            disk_low.clone(),
        );
        let disk_reserve_bytes = Gauge::default();
        r.register_with_unit(
            "disk_reserve",
            "Bytes held in the data directory's reserve file (0 once freed for the journal)",
            Unit::Bytes,
            disk_reserve_bytes.clone(),
        );
        let open_positions = Gauge::default();
        r.register("open_positions", "Tickers held now", open_positions.clone());
        let pnl = Family::<Label, Gauge>::default();
        r.register_with_unit(
            "pnl",
            "Today's P&L in won: realized (before fees), unrealized, fees",
            Unit::Other("won".into()),
            pnl.clone(),
        );
        let equity = Gauge::default();
        r.register_with_unit(
            "equity",
            "Cash plus the market value of what is held, in won",
            Unit::Other("won".into()),
            equity.clone(),
        );
        let cash = Gauge::default();
        r.register_with_unit(
            "cash",
            "Cash in won",
            Unit::Other("won".into()),
            cash.clone(),
        );
        let intent_to_ack = Histogram::new(latency_buckets());
        r.register_with_unit(
            "intent_to_ack",
            "Order intent at the OrderManager to the broker's first sign of acceptance",
            Unit::Seconds,
            intent_to_ack.clone(),
        );
        let ack_to_fill = Histogram::new(latency_buckets());
        r.register_with_unit(
            "ack_to_fill",
            "The broker's acceptance of an order to its first fill",
            Unit::Seconds,
            ack_to_fill.clone(),
        );
        // Every series exists from the start, at 0, so a scrape sees the whole family.
        for state in ["working", "filled", "cancelled", "rejected"] {
            drop(orders.get_or_create(&[("state", state)]));
        }
        for kind in ["realized", "unrealized", "fees"] {
            drop(pnl.get_or_create(&[("kind", kind)]));
        }
        Meters {
            tick_path,
            intents_sent: labelled(&intents, "actor", "processor"),
            intents_received: labelled(&intents, "actor", "order_manager"),
            live_feeds,
            feed_spawns: labelled(&feed_events, "event", "spawned"),
            feed_stops: labelled(&feed_events, "event", "stopped"),
            feed_refusals: labelled(&feed_events, "event", "refused_over_cap"),
            fills,
            rejects,
            refusals,
            reconnects,
            malformed_frames,
            journal_appends,
            intent_to_ack,
            ack_to_fill,
            orders,
            broker_connected,
            kill_switch_on,
            disk_free_bytes,
            disk_low,
            disk_reserve_bytes,
            open_positions,
            pnl,
            equity,
            cash,
            registry: r,
        }
    }

    /// A shared handle, for the actors' `with_meters`.
    pub fn shared() -> Arc<Meters> {
        Arc::new(Meters::new())
    }

    /// Counts an order the broker refused with `code`.
    pub fn reject(&self, code: &str) {
        self.rejects
            .get_or_create(&[("code", code.to_owned())])
            .inc();
    }

    /// Counts an intent the risk gate refused by `rule`.
    pub fn refusal(&self, rule: &str) {
        self.refusals
            .get_or_create(&[("rule", rule.to_owned())])
            .inc();
    }

    /// Records a latency in seconds.
    pub fn observe(histogram: &Histogram, d: Duration) {
        histogram.observe(d.as_secs_f64());
    }

    /// Counts `backlog`'s ticks from now on: the engine's one count of the tick path. A
    /// new day's engine brings a new backlog; the last one's counts are kept, so the
    /// counters never go back.
    pub fn count_ticks_of(&self, backlog: Arc<TickBacklog>) {
        let mut source = self.tick_path.source();
        if let Some(old) = source.current.take() {
            source.before = source.before.plus(old.counts());
        }
        source.current = Some(backlog);
    }

    /// The tick path's counts so far (all days of this process).
    pub fn ticks(&self) -> TickCounts {
        self.tick_path.ticks()
    }

    /// Tick → intent as the Processor recorded it (its histogram, in [`LATENCY_BUCKETS`]),
    /// for the next scrape.
    pub fn set_tick_to_intent(&self, buckets: LatencyBuckets) {
        self.tick_path.source().tick_to_intent = buckets;
    }

    /// Messages in flight on each of [`LINKS`] now: sent − handled − dropped, never below 0.
    pub fn mailbox_lags(&self) -> [(&'static str, i64); 2] {
        self.tick_path.lags()
    }

    /// Sets today's orders by state (from the OrderManager's stats).
    pub fn set_orders(&self, working: u64, filled: u64, cancelled: u64, rejected: u64) {
        for (state, n) in [
            ("working", working),
            ("filled", filled),
            ("cancelled", cancelled),
            ("rejected", rejected),
        ] {
            self.orders
                .get_or_create(&[("state", state)])
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// Sets today's P&L in won (from the Portfolio's snapshot).
    pub fn set_pnl(&self, realized: i64, unrealized: i64, fees: i64) {
        for (kind, v) in [
            ("realized", realized),
            ("unrealized", unrealized),
            ("fees", fees),
        ] {
            self.pnl.get_or_create(&[("kind", kind)]).set(v);
        }
    }

    /// The registry in Prometheus text format (0.0.4).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// A latency histogram in [`LATENCY_BUCKETS`] (seconds), as Prometheus exposes one: the
/// count in each bucket (not cumulative; the last is above the largest bound), the count
/// and the sum.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencyBuckets {
    pub per_bucket: Vec<u64>,
    pub count: u64,
    pub sum_ns: u64,
}

impl LatencyBuckets {
    /// An HDR histogram of nanoseconds, bucketed. The sum is the histogram's mean times its
    /// count: exact to its 3 significant digits.
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> LatencyBuckets {
        let mut per_bucket = Vec::with_capacity(LATENCY_BUCKETS.len() + 1);
        let mut below = 0u64;
        for bound in LATENCY_BUCKETS {
            let le_ns = (bound * 1e9).round() as u64;
            let upto = h.count_between(0, le_ns);
            per_bucket.push(upto.saturating_sub(below));
            below = upto;
        }
        per_bucket.push(h.len().saturating_sub(below));
        LatencyBuckets {
            per_bucket,
            count: h.len(),
            sum_ns: (h.mean() * h.len() as f64) as u64,
        }
    }
}

/// Where the tick path's figures are read from when scraped.
#[derive(Debug, Default)]
struct TickPath {
    source: Mutex<TickSource>,
    intents_sent: Counter,
    intents_received: Counter,
}

#[derive(Debug, Default)]
struct TickSource {
    /// The counts of the engines before the current one.
    before: TickCounts,
    current: Option<Arc<TickBacklog>>,
    tick_to_intent: LatencyBuckets,
}

impl TickPath {
    /// Taken only to scrape or to swap engines, never on the tick path.
    fn source(&self) -> std::sync::MutexGuard<'_, TickSource> {
        self.source.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn ticks(&self) -> TickCounts {
        let source = self.source();
        let now = source
            .current
            .as_ref()
            .map(|b| b.counts())
            .unwrap_or_default();
        source.before.plus(now)
    }

    fn lags(&self) -> [(&'static str, i64); 2] {
        let lag = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        // Handled first: an intent handled between the two reads cannot make it negative.
        let orders_handled = self.intents_received.get();
        [
            (LINKS[0], lag(self.ticks().in_flight())),
            (
                LINKS[1],
                lag(self.intents_sent.get().saturating_sub(orders_handled)),
            ),
        ]
    }
}

impl Collector for TickPath {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let t = self.ticks();
        let mut ticks = encoder.encode_descriptor(
            "ticks",
            "Ticks by stage: decoded off the websocket, routed to the Processor (a watched ticker), handled (run through the strategy), lost (given up after the Processor took none for long)",
            None,
            MetricType::Counter,
        )?;
        for (stage, n) in [
            ("decoded", t.decoded),
            ("routed", t.routed),
            ("handled", t.handled),
            ("lost", t.lost),
        ] {
            ConstCounter::new(n).encode(ticks.encode_family(&[("stage", stage)])?)?;
        }
        let messages = Unit::Other("messages".into());
        let mut lags = encoder.encode_descriptor(
            "mailbox_lag",
            "Messages sent into a mailbox and not handled yet (sent - handled - lost), per link",
            Some(&messages),
            MetricType::Gauge,
        )?;
        for (link, lag) in self.lags() {
            ConstGauge::new(lag).encode(lags.encode_family(&[("link", link)])?)?;
        }
        let b = self.source().tick_to_intent.clone();
        // The bounded buckets only: the encoder adds `+Inf` from the count.
        let per_bucket: Vec<(f64, u64)> = LATENCY_BUCKETS
            .iter()
            .copied()
            .zip(b.per_bucket.iter().copied().chain(std::iter::repeat(0)))
            .collect();
        encoder
            .encode_descriptor(
                "tick_to_intent",
                "Socket read of a trade to the order intent it caused leaving the Processor (the Processor's record, read when scraped)",
                Some(&Unit::Seconds),
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(b.sum_ns as f64 / 1e9, b.count, &per_bucket, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_sent_minus_handled_minus_lost_per_link() {
        let m = Meters::new();
        let b = TickBacklog::new(100);
        m.count_ticks_of(b.clone());
        for _ in 0..10 {
            b.routed(1);
        }
        b.handled(6);
        b.forgive(1);
        m.intents_sent.inc_by(3);
        m.intents_received.inc_by(2);
        assert_eq!(
            m.mailbox_lags(),
            [("session_to_processor", 3), ("processor_to_orders", 1)]
        );
        // A new day's engine: the counts go on from the last one's.
        let next = TickBacklog::new(100);
        m.count_ticks_of(next.clone());
        next.routed(1);
        let t = m.ticks();
        assert_eq!((t.routed, t.handled, t.lost), (11, 6, 1));
        assert_eq!(m.mailbox_lags()[0].1, 4);
    }

    #[test]
    fn tick_to_intent_is_bucketed_from_the_processors_histogram() {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).unwrap();
        h.record(800).unwrap(); // 0.8 µs: the first bucket
        h.record(20_000).unwrap(); // 20 µs: le 25 µs
        h.record(20_000_000_000).unwrap(); // 20 s: above the last bound
        let b = LatencyBuckets::of(&h);
        assert_eq!(b.count, 3);
        assert_eq!(b.per_bucket.len(), LATENCY_BUCKETS.len() + 1);
        assert_eq!(
            (b.per_bucket[0], b.per_bucket[4], b.per_bucket[22]),
            (1, 1, 1)
        );
        assert_eq!(b.per_bucket.iter().sum::<u64>(), 3);
        let m = Meters::new();
        m.set_tick_to_intent(b);
        let text = m.encode();
        for line in [
            "condor_tick_to_intent_seconds_bucket{le=\"1e-06\"} 1",
            "condor_tick_to_intent_seconds_bucket{le=\"2.5e-05\"} 2",
            "condor_tick_to_intent_seconds_bucket{le=\"10\"} 2",
            "condor_tick_to_intent_seconds_bucket{le=\"+Inf\"} 3",
            "condor_tick_to_intent_seconds_count 3",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }

    #[test]
    fn names_carry_the_prefix_and_units() {
        let m = Meters::new();
        m.reject("01478");
        m.refusal("max_order_qty");
        let text = m.encode();
        for name in [
            "condor_ticks_total{stage=\"handled\"} 0",
            "condor_mailbox_lag_messages{link=\"session_to_processor\"} 0",
            "condor_rejects_total{code=\"01478\"} 1",
            "condor_risk_refusals_total{rule=\"max_order_qty\"} 1",
            "condor_tick_to_intent_seconds_count 0",
            "condor_pnl_won{kind=\"fees\"} 0",
            "condor_journal_appends_total 0",
        ] {
            assert!(text.contains(name), "{name} in:\n{text}");
        }
    }
}
