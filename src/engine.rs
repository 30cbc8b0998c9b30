//! Starting the actor engine: the day's journal opened and replayed, the state reconciled
//! with the broker, then one BrokerSession, the Processor with its Compute pool, the
//! OrderManager, the Portfolio and the Supervisor, wired to each other and carrying on
//! from that state. `condor run` and the engine tests start it the same way.
//!
//! Owns the start-up order only: journal → rebuild (no broker call) → reconcile (the
//! broker is the truth; every difference journaled, logged at warn and counted) → actors.
//! Must never start an actor twice or leave one unwired, and never start trading on a
//! journal it could not read (a damaged one stops start with the file and record named).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;

use actix::prelude::*;
use anyhow::Context as _;
use condor_actors::broker::Broker;
use condor_actors::broker_session::{BrokerSession, SessionConfig};
use condor_actors::clock::Clock;
use condor_actors::compute;
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::recovery::{rebuild, Recovered};
use condor_actors::journal::Journal;
use condor_actors::kiwoom_rest::KiwoomRest;
use condor_actors::ledger::{FeeSchedule, Ledger};
use condor_actors::ls_rest::LsRest;
use condor_actors::market::{Side, Ticker};
use condor_actors::messages::{
    Alert, Deliver, Fill, NotifyFlat, OrderDone, OrderNo, Tick, TickerFlat, TickerOwner,
    WatchHoldings,
};
use condor_actors::notifier::Notifier;
use condor_actors::order_manager::{OrderManager, RateExcess, RecoveredOrders};
use condor_actors::portfolio::Portfolio;
use condor_actors::processor::Processor;
use condor_actors::reconcile::{reconcile_account, reconcile_orders, Outcome};
use condor_actors::risk::RiskLimits;
use condor_actors::strategy::StrategyFactory;
use condor_actors::supervisor::Supervisor;
use condor_actors::tape::{self, Tape, TapeEvent, TapeStarted};
use condor_actors::telemetry::Meters;
use condor_actors::tick_backlog::{self, TickBacklog};
use condor_actors::trading::strategies::{DeskCondition, StrategyDesk};

const LOG: &str = "condor::engine";

/// One condition to trade: registered by `name` (t1866 name or query_index), traded with
/// `strategy`, with at most `max_positions` tickers held or being bought at once.
pub struct ConditionPlan {
    pub name: String,
    pub strategy: Box<dyn StrategyFactory>,
    pub max_positions: Option<usize>,
}

impl ConditionPlan {
    /// The one-condition case: `name` traded with `strategy`, no limit of its own.
    pub fn one(name: impl Into<String>, strategy: Box<dyn StrategyFactory>) -> Vec<ConditionPlan> {
        vec![ConditionPlan {
            name: name.into(),
            strategy,
            max_positions: None,
        }]
    }
}

pub struct EngineSettings {
    /// At least one; a ticker in several is watched once (see `trading::strategies`).
    pub conditions: Vec<ConditionPlan>,
    pub max_feeds: usize,
    pub risk: RiskLimits,
    /// What each fill costs beyond its value, booked by the Portfolio and on replay.
    pub fees: FeeSchedule,
    pub compute_threads: usize,
    /// The journals live in `data_dir/journal/`.
    pub data_dir: PathBuf,
    pub orders_per_sec: u32,
    pub rate_excess: RateExcess,
    pub kill_switch_flatten: bool,
    /// The settings in force, journaled at start (never secrets).
    pub journaled_settings: BTreeMap<String, String>,
    /// Told of fills, rejects, the kill switch, broker outages and the stock names.
    pub notifier: Option<Addr<Notifier>>,
    /// A user's actors that watch every tick the Processor handles (after the strategy).
    pub tick_watchers: Vec<Recipient<Deliver<Tick>>>,
    /// The metrics every actor counts into (`None`: metrics off).
    pub meters: Option<Arc<Meters>>,
    /// Record the day's tape under `data_dir/tape/` (`condor replay` reads it).
    pub tape: bool,
    /// The engine's time: the system's, or a test's accelerated one.
    pub clock: Arc<dyn Clock>,
    /// Disk space (issue 15): the free-space watch and the reserve; `None`: neither.
    pub disk: Option<crate::disk_space::DiskSettings>,
}

/// What start-up found, for the log and the summary.
#[derive(Clone, Debug, Default)]
pub struct StartReport {
    pub journal: PathBuf,
    /// Records the journal held at start.
    pub records: u64,
    /// Earlier starts on today's journal (0 on a fresh day).
    pub earlier_starts: u64,
    /// Differences with the broker, by kind.
    pub differences: BTreeMap<&'static str, u64>,
    pub kill_switch_on: bool,
}

/// The running actors.
pub struct Engine {
    pub session: Addr<BrokerSession>,
    pub processor: Addr<Processor>,
    pub orders: Addr<OrderManager>,
    pub portfolio: Addr<Portfolio>,
    pub supervisor: Addr<Supervisor>,
    pub opening_cash: i64,
    pub journal: Journal,
    /// Today's tape, when recording.
    pub tape: Option<Tape>,
    pub report: StartReport,
}

/// Journals `event` (blocking on the fsync off the event loop) and applies it to `state`.
async fn journal_and_apply(
    journal: &Journal,
    state: &mut Recovered,
    event: JournalEvent,
) -> anyhow::Result<()> {
    let j = journal.clone();
    let e = event.clone();
    let seq = actix_rt::task::spawn_blocking(move || j.record_wait(e))
        .await
        .context("the journal's writer task failed")??;
    state.apply(seq, &event, std::time::Instant::now());
    Ok(())
}

/// Journals and applies reconciliation's events; logs and counts its differences.
async fn settle(
    journal: &Journal,
    state: &mut Recovered,
    outcome: Outcome,
    report: &mut StartReport,
) -> anyhow::Result<()> {
    for d in &outcome.differences {
        *report.differences.entry(d.kind()).or_default() += 1;
        if d.kind() == "not_ours" {
            log::info!(target: LOG, "reconciliation: {d}");
        } else {
            log::warn!(target: LOG, "reconciliation: {d}");
        }
    }
    for event in outcome.events {
        journal_and_apply(journal, state, event).await?;
    }
    Ok(())
}

/// A broker as the engine reaches it: its REST client behind the boundary, and how to
/// open its realtime session (with the REST client's renewed token).
#[derive(Clone, Debug)]
pub struct BrokerLink {
    pub broker: Broker,
    pub realtime: SessionConfig,
}

impl BrokerLink {
    /// LS: `rest`, and its websocket at `ws_url`.
    pub fn ls(rest: LsRest, ws_url: &str) -> BrokerLink {
        BrokerLink {
            realtime: SessionConfig::new(ws_url, rest.token_source()),
            broker: Broker::Ls(rest),
        }
    }

    /// Kiwoom: `rest`, and its websocket at `ws_url` (LOGIN with the REST client's token).
    pub fn kiwoom(rest: KiwoomRest, ws_url: &str) -> BrokerLink {
        BrokerLink {
            realtime: SessionConfig::kiwoom(ws_url, rest.token_source()),
            broker: Broker::Kiwoom(rest),
        }
    }
}

/// Starts every actor against the broker `link` reaches. Must run inside an actix system.
pub async fn start(link: BrokerLink, settings: EngineSettings) -> anyhow::Result<Engine> {
    Ok(start_wired(link, settings, None).await?.0)
}

/// [`start`], with a copy of what the actors tell each other on the order path sent to
/// `tap` (see [`Tapped`]): the same wiring, one forwarding actor more.
pub async fn start_tapped(
    link: BrokerLink,
    settings: EngineSettings,
    tap: Recipient<Tapped>,
) -> anyhow::Result<(Engine, EngineTap)> {
    let (engine, tee) = start_wired(link, settings, Some(tap)).await?;
    let tee = tee.expect("a tapped start wires a tee");
    Ok((engine, EngineTap(tee)))
}

async fn start_wired(
    link: BrokerLink,
    settings: EngineSettings,
    tap: Option<Recipient<Tapped>>,
) -> anyhow::Result<(Engine, Option<Addr<Tee>>)> {
    let BrokerLink { broker, realtime } = link;
    let clock = settings.clock.clone();
    let day = clock.today();
    let dir = settings.data_dir.join("journal");
    let (journal, replay) = Journal::open(&dir, day, clock.clone())
        .with_context(|| format!("cannot open today's journal in {}", dir.display()))?;
    let journal =
        journal.counting_appends(settings.meters.as_ref().map(|m| m.journal_appends.clone()));
    let mut report = StartReport {
        journal: journal.path().to_owned(),
        records: replay.records.len() as u64,
        ..StartReport::default()
    };

    // 1. The journal alone.
    let mut state = rebuild(
        day,
        replay.records.iter().map(|r| (r.seq, &r.event)),
        settings.fees,
        clock.now(),
    );
    report.earlier_starts = state.starts;
    for a in &state.anomalies {
        log::warn!(target: LOG, "journal {}: {a}", journal.path().display());
    }
    log::info!(
        target: LOG,
        "journal {}: {} records; {} orders sent today ({} working, {} in doubt), {} fills, {} earlier start(s)",
        journal.path().display(),
        report.records,
        state.orders_sent,
        state.book.working().count(),
        state.in_doubt.len(),
        state.fills.len(),
        state.starts
    );
    journal_and_apply(
        &journal,
        &mut state,
        JournalEvent::Started {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            settings: settings.journaled_settings.clone(),
        },
    )
    .await?;

    // 2. The broker: opening cash on a fresh day, then today's orders, holdings and cash.
    if state.opening_cash.is_none() {
        let cash = broker
            .cash()
            .await
            .context("cannot read the account's cash")?;
        journal_and_apply(&journal, &mut state, JournalEvent::OpeningCash { cash }).await?;
        if state.fills.is_empty() {
            state.ledger = Ledger::new(cash);
        }
        state.opening_cash = Some(cash);
    }
    // One consistent picture: a fill landing between the reads must not be counted both
    // in the holdings and as a fill learned from the order list.
    let account = broker
        .snapshot()
        .await
        .context("cannot read the account at the broker")?;
    let cash = account.cash;
    let outcome = reconcile_orders(&state.book, &account.orders, clock.time_of_day());
    settle(&journal, &mut state, outcome, &mut report).await?;
    if !account.unsettled.is_empty() {
        log::warn!(
            target: LOG,
            "orders of {:?} kept changing while the account was read: their holdings and the cash are taken from the fills, not adopted",
            account.unsettled.iter().map(|t| t.as_str()).collect::<Vec<_>>()
        );
    }
    let outcome = reconcile_account(&state.ledger, &account.holdings, cash, &account.unsettled);
    settle(&journal, &mut state, outcome, &mut report).await?;
    let differences: u64 = report.differences.values().sum();
    if differences > 0 {
        log::warn!(target: LOG, "reconciled with the broker: {differences} difference(s) {:?}", report.differences);
    } else {
        log::info!(target: LOG, "reconciled with the broker: no differences");
    }
    report.kill_switch_on = state.kill_switch.is_some();

    // 3. The tape: a start record first, then whatever reaches the strategies.
    let tape = if settings.tape {
        Some(open_tape(&settings, &journal, day, clock.as_ref())?)
    } else {
        None
    };

    // 4. The actors, carrying on from that state.
    let opening_cash = state.opening_cash.unwrap_or(cash);
    let held: Vec<(
        condor_actors::market::Ticker,
        condor_actors::ledger::Position,
    )> = state
        .ledger
        .positions()
        .filter(|(_, p)| !p.is_flat())
        .map(|(t, p)| (t, *p))
        .collect();
    let mut watch: BTreeSet<_> = held.iter().map(|(t, _)| *t).collect();
    watch.extend(state.book.working().map(|o| o.ticker()));

    let alerts = settings
        .notifier
        .as_ref()
        .map(|n| n.clone().recipient::<Alert>());
    // Bounds the ticks between the socket and the strategy (under a burst the session
    // stops reading rather than queue without limit), and counts them: the one count the
    // stats, `/status` and `/metrics` read.
    let backlog = TickBacklog::new(tick_backlog::DEFAULT_LIMIT);
    if let Some(m) = &settings.meters {
        m.count_ticks_of(backlog.clone());
    }
    let session = BrokerSession::new(realtime)
        .with_notifier(alerts.clone())
        .with_meters(settings.meters.clone())
        .with_backlog(backlog.clone())
        .with_tape(tape.as_ref().map(Tape::recorder))
        .start();
    let om_ctx = Context::<OrderManager>::new();
    let portfolio = Portfolio::from_ledger(state.ledger.clone())
        .with_condition_books(state.by_condition.clone(), journal.clone())
        .with_fees(settings.fees)
        .with_loss_limit(settings.risk.daily_loss_limit, om_ctx.address().recipient())
        .with_notifier(alerts.clone())
        .start();
    // The Processor and the OrderManager each need the other's address.
    let tee = tap.map(|to| (Context::<Tee>::new(), to));
    let tee_addr = tee.as_ref().map(|(ctx, _)| ctx.address());
    let names: Vec<String> = settings.conditions.iter().map(|c| c.name.clone()).collect();
    let desk = StrategyDesk::with_conditions(
        settings
            .conditions
            .into_iter()
            .map(|c| DeskCondition {
                factory: c.strategy,
                max_positions: c.max_positions,
            })
            .collect(),
    );
    let processor = Processor::trading(desk, Some(om_ctx.address().recipient()), clock.clone())
        .with_compute(compute::start_pool(settings.compute_threads))
        .with_marks(portfolio.clone().recipient())
        .with_owners_to(portfolio.clone().recipient())
        .with_tick_watchers(settings.tick_watchers)
        .with_meters(settings.meters.clone())
        .with_backlog(backlog);
    let processor = match &tape {
        Some(t) => processor.with_tape(t.recorder()),
        None => processor,
    }
    .start();
    // Each ticker's condition as the journal last had it, before anything reaches its
    // strategy; then the strategies learn what is held before any tick: one fill at the
    // average price.
    for (ticker, condition) in state.by_condition.owners() {
        processor.do_send(TickerOwner { ticker, condition });
    }
    for (ticker, p) in &held {
        processor.do_send(Deliver(Fill {
            ticker: *ticker,
            side: Side::Buy,
            price: p.avg_price().unwrap_or_default(),
            qty: p.qty,
            order_no: OrderNo::NONE,
            time: clock.time_of_day(),
        }));
    }
    // Tapped, the tee stands where the Processor is on the order path.
    let (fills_to, done_to): (Recipient<Deliver<Fill>>, Recipient<Deliver<OrderDone>>) =
        match &tee_addr {
            Some(tee) => (tee.clone().recipient(), tee.clone().recipient()),
            None => (processor.clone().recipient(), processor.clone().recipient()),
        };
    let orders = om_ctx.run(
        OrderManager::new(broker.clone(), settings.risk, clock)
            .with_recovered(RecoveredOrders {
                book: state.book,
                ledger: state.ledger,
                orders_today: state.orders_sent,
                kill_switch: state.kill_switch,
                journal_seq: state.journal_seq,
            })
            .with_journal(journal.clone())
            .with_order_rate(settings.orders_per_sec, settings.rate_excess)
            .with_kill_switch_flatten(settings.kill_switch_flatten)
            .with_tape(tape.as_ref().map(Tape::recorder))
            .with_notifier(alerts)
            .with_meters(settings.meters.clone())
            .with_account_feed(session.clone().recipient())
            .with_portfolio(portfolio.clone().recipient())
            .with_holdings_check(portfolio.clone().recipient())
            .with_cash_reconcile(portfolio.clone().recipient(), portfolio.clone().recipient())
            .with_strategy(fills_to, done_to),
    );
    // The broker's position after each of its fills (Kiwoom's REAL 04; LS sends none),
    // through the OrderManager so that it follows the fill it comes after.
    session.do_send(WatchHoldings {
        to: orders.clone().recipient(),
    });
    // Disk space (issue 15): the reserve, the free-space watch, the journal's last resort.
    crate::disk_space::start(
        settings.disk.as_ref(),
        &settings.data_dir,
        &journal,
        &orders,
        settings.notifier.as_ref(),
        settings.meters.clone(),
    )
    .await;
    let supervisor = Supervisor::new(
        broker,
        session.clone(),
        processor.clone(),
        names,
        settings.max_feeds,
    )
    .with_restored(watch)
    .with_journal(journal.clone())
    .with_names_to(settings.notifier.map(|n| n.recipient()))
    .with_meters(settings.meters)
    .start();
    let flat_to = tee_addr
        .clone()
        .map_or_else(|| supervisor.clone().recipient(), Addr::recipient);
    portfolio.do_send(NotifyFlat {
        to: flat_to.clone(),
    });
    processor.do_send(NotifyFlat { to: flat_to });
    if let Some((ctx, to)) = tee {
        ctx.run(Tee {
            to,
            processor: processor.clone(),
            supervisor: supervisor.clone(),
        });
    }
    let engine = Engine {
        session,
        processor,
        orders,
        portfolio,
        supervisor,
        opening_cash,
        journal,
        tape,
        report,
    };
    Ok((engine, tee_addr))
}

/// Opens today's tape (a restart appends to it), records this start with the strategy and
/// settings in force, and has every journal group wait for the tape's sync: an order's
/// `OrderSent` is durable, and the order sent, only once the inputs that caused it are.
fn open_tape(
    settings: &EngineSettings,
    journal: &Journal,
    day: condor_actors::clock::TradingDay,
    clock: &dyn Clock,
) -> anyhow::Result<Tape> {
    let dir = settings.data_dir.join("tape");
    let path = tape::day_path(&dir, day);
    let writer = format!("condor {}", env!("CARGO_PKG_VERSION"));
    let tape = Tape::open(&path, &writer)
        .with_context(|| format!("cannot open today's tape {}", path.display()))?;
    let mut start = tape.recorder();
    start.record(
        clock.unix_ms().saturating_mul(1_000_000),
        TapeEvent::Started(Box::new(TapeStarted {
            writer,
            condition: settings.conditions[0].name.clone(),
            strategy: settings.conditions[0].strategy.name().to_owned(),
            settings: settings.journaled_settings.clone(),
        })),
    );
    start.flush();
    let synced = tape.clone();
    journal.before_commit(Box::new(move || {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        // A failure is the tape's to log (once); the journal carries on without it.
        synced.sync_then(move |_| {
            let _ = tx.send(());
        });
        Box::new(move || {
            let _ = rx.recv();
        })
    }));
    log::info!(target: LOG, "recording the tape {}", path.display());
    Ok(tape)
}

/// A copy of one message on the order path, in the order the engine's actors sent it.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub enum Tapped {
    /// A fill the OrderManager tells the strategies.
    Fill(Fill),
    /// An order done or refused, as the OrderManager tells the strategies.
    OrderDone(OrderDone),
    /// The Portfolio or the Processor reporting a ticker flat to the Supervisor.
    Flat(Ticker),
}

/// The tap of an engine started with [`start_tapped`].
pub struct EngineTap(Addr<Tee>);

impl EngineTap {
    /// Returns once every message the tee was sent before this call is passed on: a copy
    /// of what the Portfolio or the Processor had sent before is then in the tap's mailbox.
    pub async fn drained(&self) {
        // Gone only with the system, when there is nothing left to wait for.
        let _ = self.0.send(Drained).await;
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Drained;

/// Stands where the Processor and the Supervisor are wired on the order path and passes
/// each message on, a copy first to the tap. One mailbox: the order the OrderManager sent
/// a fill and its order's end in is the order the Processor gets them in.
struct Tee {
    to: Recipient<Tapped>,
    processor: Addr<Processor>,
    supervisor: Addr<Supervisor>,
}

impl Actor for Tee {
    type Context = Context<Self>;
}

impl Handler<Deliver<Fill>> for Tee {
    type Result = ();
    fn handle(&mut self, Deliver(fill): Deliver<Fill>, _: &mut Context<Self>) {
        self.to.do_send(Tapped::Fill(fill));
        self.processor.do_send(Deliver(fill));
    }
}

impl Handler<Deliver<OrderDone>> for Tee {
    type Result = ();
    fn handle(&mut self, Deliver(done): Deliver<OrderDone>, _: &mut Context<Self>) {
        self.to.do_send(Tapped::OrderDone(done));
        self.processor.do_send(Deliver(done));
    }
}

impl Handler<TickerFlat> for Tee {
    type Result = ();
    fn handle(&mut self, flat: TickerFlat, _: &mut Context<Self>) {
        self.to.do_send(Tapped::Flat(flat.ticker));
        self.supervisor.do_send(flat);
    }
}

impl Handler<Drained> for Tee {
    type Result = ();
    fn handle(&mut self, _: Drained, _: &mut Context<Self>) {}
}
