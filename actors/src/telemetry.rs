//! Telemetry: the engine's Prometheus metrics. The actors hold an `Option<Arc<Meters>>` and
//! bump a handle where a thing happens (one relaxed atomic add for a counter or a gauge);
//! the HTTP server reads the same handles for `/status` and encodes the registry for
//! `/metrics`. One `Meters` per engine, so two engines in one process never mix figures.
//!
//! Owns the metric handles and their registry, nothing else. Must never hold actor state,
//! take a lock on the tick path (counters and gauges are single atomics; histograms, which
//! take a short lock, are observed only per intent, ack and fill), nor be required: an actor
//! given no meters (`None`, "metrics off") does no metric work at all.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// The `Content-Type` of [`Meters::encode`]'s output: Prometheus text, version 0.0.4.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

type Label = [(&'static str, &'static str); 1];
type OwnedLabel = [(&'static str, String); 1];

/// The mailbox links whose lag is exported, as `link` label values.
pub const LINKS: [&str; 3] = [
    "session_to_feeds",
    "feeds_to_processor",
    "processor_to_orders",
];

/// Every handle the actors bump, and the gauges the HTTP server sets from the actors'
/// stats when it is scraped. See [`Meters::new`] for names and meanings.
#[derive(Debug)]
pub struct Meters {
    registry: Registry,
    // ---- the tick path: one atomic add each ----
    /// Trades decoded off the websocket into a tick.
    pub session_ticks_received: Counter,
    /// Ticks the session handed to a feed (sent into the feeds' mailboxes).
    pub session_ticks_routed: Counter,
    /// Ticks a feed's mailbox delivered to it (all feeds together).
    pub feed_ticks_received: Counter,
    /// Ticks feeds handed to the Processor.
    pub feed_ticks_forwarded: Counter,
    /// Ticks the Processor's mailbox delivered to it.
    pub processor_ticks_received: Counter,
    /// Ticks the Processor ran through their strategy.
    pub processor_ticks_processed: Counter,
    /// Ticks sent to a feed that stopped before handling them (counted by the session).
    pub feed_ticks_dropped: Counter,
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
    pub tick_to_intent: Histogram,
    pub intent_to_ack: Histogram,
    pub ack_to_fill: Histogram,
    // ---- set at scrape time ----
    mailbox_lag: Family<Label, Gauge>,
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
const LATENCY_BUCKETS: [f64; 22] = [
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
        let ticks_received = Family::<Label, Counter>::default();
        r.register(
            "ticks_received",
            "Ticks that reached an actor: session = trades decoded off the websocket, feed and processor = ticks their mailboxes delivered",
            ticks_received.clone(),
        );
        let ticks_processed = Family::<Label, Counter>::default();
        r.register(
            "ticks_processed",
            "Ticks an actor finished with: session = handed to a feed, feed = handed to the Processor, processor = run through the strategy",
            ticks_processed.clone(),
        );
        let dropped = Family::<Label, Counter>::default();
        r.register(
            "mailbox_dropped",
            "Messages sent into a mailbox that closed before they were handled (a feed stopping with ticks on the way)",
            dropped.clone(),
        );
        let intents = Family::<Label, Counter>::default();
        r.register(
            "intents",
            "Order intents: sent by the Processor, received by the OrderManager",
            intents.clone(),
        );
        let mailbox_lag = Family::<Label, Gauge>::default();
        r.register_with_unit(
            "mailbox_lag",
            "Messages sent into a mailbox and not handled yet (sent - handled - dropped), per link",
            Unit::Other("messages".into()),
            mailbox_lag.clone(),
        );
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
        let tick_to_intent = Histogram::new(latency_buckets());
        r.register_with_unit(
            "tick_to_intent",
            "Socket read of a trade to the order intent it caused leaving the Processor",
            Unit::Seconds,
            tick_to_intent.clone(),
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
        for link in LINKS {
            drop(mailbox_lag.get_or_create(&[("link", link)]));
        }
        for state in ["working", "filled", "cancelled", "rejected"] {
            drop(orders.get_or_create(&[("state", state)]));
        }
        for kind in ["realized", "unrealized", "fees"] {
            drop(pnl.get_or_create(&[("kind", kind)]));
        }
        Meters {
            session_ticks_received: labelled(&ticks_received, "actor", "session"),
            session_ticks_routed: labelled(&ticks_processed, "actor", "session"),
            feed_ticks_received: labelled(&ticks_received, "actor", "feed"),
            feed_ticks_forwarded: labelled(&ticks_processed, "actor", "feed"),
            processor_ticks_received: labelled(&ticks_received, "actor", "processor"),
            processor_ticks_processed: labelled(&ticks_processed, "actor", "processor"),
            feed_ticks_dropped: labelled(&dropped, "link", "session_to_feeds"),
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
            tick_to_intent,
            intent_to_ack,
            ack_to_fill,
            mailbox_lag,
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

    /// Messages in flight on each of [`LINKS`] now: sent − handled − dropped, never below 0.
    /// The handled side is read first, so a message handled between the two reads cannot
    /// make the figure negative.
    pub fn mailbox_lags(&self) -> [(&'static str, i64); 3] {
        let feeds_handled = self.feed_ticks_received.get();
        let dropped = self.feed_ticks_dropped.get();
        let processor_handled = self.processor_ticks_received.get();
        let orders_handled = self.intents_received.get();
        let lag =
            |sent: u64, gone: u64| i64::try_from(sent.saturating_sub(gone)).unwrap_or(i64::MAX);
        [
            (
                LINKS[0],
                lag(
                    self.session_ticks_routed.get(),
                    feeds_handled.saturating_add(dropped),
                ),
            ),
            (
                LINKS[1],
                lag(self.feed_ticks_forwarded.get(), processor_handled),
            ),
            (LINKS[2], lag(self.intents_sent.get(), orders_handled)),
        ]
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

    /// The registry in Prometheus text format (0.0.4), the lag gauges brought up to date
    /// first.
    pub fn encode(&self) -> String {
        for (link, lag) in self.mailbox_lags() {
            self.mailbox_lag.get_or_create(&[("link", link)]).set(lag);
        }
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_sent_minus_handled_minus_dropped_per_link() {
        let m = Meters::new();
        m.session_ticks_routed.inc_by(10);
        m.feed_ticks_received.inc_by(6);
        m.feed_ticks_dropped.inc_by(1);
        m.feed_ticks_forwarded.inc_by(6);
        m.processor_ticks_received.inc_by(2);
        m.intents_sent.inc_by(3);
        m.intents_received.inc_by(3);
        assert_eq!(
            m.mailbox_lags(),
            [
                ("session_to_feeds", 3),
                ("feeds_to_processor", 4),
                ("processor_to_orders", 0)
            ]
        );
        // Never negative, whatever order the counters were read in.
        m.feed_ticks_received.inc_by(100);
        assert_eq!(m.mailbox_lags()[0].1, 0);
    }

    #[test]
    fn names_carry_the_prefix_and_units() {
        let m = Meters::new();
        m.reject("01478");
        m.refusal("max_order_qty");
        Meters::observe(&m.tick_to_intent, Duration::from_micros(20));
        let text = m.encode();
        for name in [
            "condor_ticks_received_total{actor=\"feed\"} 0",
            "condor_mailbox_lag_messages{link=\"feeds_to_processor\"} 0",
            "condor_rejects_total{code=\"01478\"} 1",
            "condor_risk_refusals_total{rule=\"max_order_qty\"} 1",
            "condor_tick_to_intent_seconds_count 1",
            "condor_pnl_won{kind=\"fees\"} 0",
            "condor_journal_appends_total 0",
        ] {
            assert!(text.contains(name), "{name} in:\n{text}");
        }
    }
}
