//! `condor run`: wires the actors together against the configured broker (or the
//! embedded exchange), runs until Ctrl-C or SIGTERM, then shuts down in order — no new
//! order leaves, feeds stop and unsubscribe, the Processor drains its mailbox, every order
//! sent is answered (and with `cancel` every working order ends) while the socket still
//! brings their events into the journal, then the socket closes cleanly — and prints the
//! day's summary. The Notifier (Discord, Telegram) runs on a thread of its own from before the
//! engine starts until the stop alert and the day's summary have gone out. The HTTP
//! server (status, metrics, dashboard) binds before trading starts and serves from a
//! thread of its own until the summary is printed.
//!
//! Owns the startup and shutdown order only. Must never print or log a secret.

use std::time::{Duration, Instant};

use crate::secret::Secret;
use actix::prelude::*;
use anyhow::Context as _;
use condor_actors::access_token::TokenPolicy;
use condor_actors::broker_session::Shutdown;
use condor_actors::calendar::{self, Calendar};
use condor_actors::clock::{Clock, TradingDay};
use condor_actors::day_plan::{reached, DayPlan};
use condor_actors::kiwoom_rest::{KiwoomRates, KiwoomRest};
use condor_actors::ledger::FeeSchedule;
use condor_actors::ls_rest::LsRest;
use condor_actors::market::TimeOfDay;
use condor_actors::messages::{
    Alert, CancelAllWorking, CloseOfDay, Deliver, DrainAlerts, EngineStart, EngineStop, Flush,
    GetOrderStats, GetPortfolio, GetSessionStats, Retire, Stop, StopOrders, Tick, WatchDay,
};
use condor_actors::notifier::Notifier;
use condor_actors::order_manager::OrderManager;
use condor_actors::supervisor::{GetSupervisorStats, StopAllFeeds};
use condor_actors::telemetry::Meters;

use crate::cli::{BrokerTarget, Hours, OnShutdown, RunArgs};
use crate::engine::{self, BrokerLink, ConditionPlan, Engine, EngineSettings};
use crate::extend::Extensions;
use crate::http::{DayEngine, HttpServer, Sources};
use crate::sim::{Protocol, SimHandle};

const LOG: &str = "condor::run";

pub fn run(args: &RunArgs) -> anyhow::Result<()> {
    run_with(args, |_| {})
}

/// `condor run` with what `extend` adds (actors that watch every tick, strategies that
/// `CONDOR_STRATEGY` can name); see [`crate::extend`].
pub fn run_with(args: &RunArgs, extend: impl FnOnce(&mut Extensions)) -> anyhow::Result<()> {
    let mut extensions = Extensions::new();
    extend(&mut extensions);
    let broker = args.broker()?;
    let risk = args.risk()?;
    let on_shutdown = args.on_shutdown;
    let alerts_cfg = args.notifier()?;
    let retention = args.retention.policy()?;
    let conditions = extensions.conditions(args)?;
    let calendar = args.calendar()?;
    let disk = args.disk.settings()?;
    // The system's, or a test's accelerated one (CONDOR_CLOCK), read by everything below.
    let clock = args.clock()?;
    log_the_day(&calendar, args, clock.as_ref());
    // Bound now, so a port in use stops condor before it trades.
    let http = match args.http()? {
        Some(cfg) => {
            let listener = cfg.bind().with_context(|| {
                format!(
                    "cannot listen on {} for the HTTP server (CONDOR_HTTP_ADDR; `off` runs none)",
                    cfg.addr()
                )
            })?;
            Some((cfg, listener))
        }
        None => None,
    };
    let meters = http.as_ref().map(|_| Meters::shared());
    // Every start, before today's files open: weeks of tapes would fill the disk.
    crate::retention::prune_at_start(&args.data_dir, clock.today(), retention);

    // The embedded exchange lives as long as this function; it runs on its own thread.
    let (sim, rest_url, ws_url, appkey, appsecret, broker_label, charged) = match broker {
        BrokerTarget::Embedded => {
            log::info!(target: LOG, "no broker configured (CONDOR_BROKER_*): starting the embedded exchange on loopback, speaking {}'s wire", broker_name(args.broker_kind));
            let mut cfg = args.sim.to_config()?;
            cfg.protocol = args.broker_kind;
            let sim = SimHandle::start(cfg.clone()).with_context(|| {
                format!(
                    "cannot start the embedded exchange on {} ports {} and {} (use --rest-port 0 --ws-port 0 for any free ports)",
                    cfg.bind, cfg.rest_port, cfg.ws_port
                )
            })?;
            log::info!(
                target: LOG,
                "trading the embedded exchange at {} and {}",
                sim.rest_url(),
                sim.ws_url()
            );
            println!("rest: {}", sim.rest_url());
            println!("websocket: {}", sim.ws_url());
            let (rest, ws) = (sim.rest_url().to_owned(), sim.ws_url().to_owned());
            let (key, secret) = (sim.appkey().clone(), sim.appsecret().clone());
            let charged = FeeSchedule {
                commission_ppm: cfg.exchange.commission_ppm,
                sell_tax_ppm: cfg.exchange.sell_tax_ppm,
            };
            (
                Some(sim),
                rest,
                ws,
                key,
                secret,
                "embedded exchange".to_owned(),
                Some(charged),
            )
        }
        BrokerTarget::Remote {
            rest_url,
            ws_url,
            appkey,
            appsecret,
        } => {
            log::info!(target: LOG, "trading the broker at {rest_url} and {ws_url}");
            let label = rest_url.clone();
            (None, rest_url, ws_url, appkey, appsecret, label, None)
        }
    };

    let mut alerts_cfg = alerts_cfg;
    alerts_cfg.condition_names = conditions.iter().map(|(c, _)| c.name.clone()).collect();
    let condition_rows: Vec<(String, String)> = conditions
        .iter()
        .map(|(c, _)| (c.name.clone(), c.strategy.clone()))
        .collect();
    let condition = conditions
        .iter()
        .map(|(c, _)| c.name.as_str())
        .collect::<Vec<_>>()
        .join(" + ");
    let strategy = conditions
        .iter()
        .map(|(c, _)| c.strategy.as_str())
        .collect::<Vec<_>>()
        .join(" + ");
    let (fees, fee_warning) = args.fee_schedule(charged);
    if let Some(w) = fee_warning {
        log::warn!(target: LOG, "{w}");
    }
    let hours = args.hours.unwrap_or_else(|| {
        if args.sim.clock.is_some() {
            // An accelerated clock is for living through days: KRX's hours.
            Hours::Calendar
        } else {
            default_hours(&rest_url)
        }
    });
    let day_hours = args.day_hours();
    let started = Instant::now();
    let system = System::new();
    let result = system.block_on(async {
        // Listening from the very start: a SIGTERM during start-up stops condor cleanly
        // once it has started, instead of killing it with the default action.
        let mut stop = StopSignal::listen()?;
        // A thread of its own: a chart being drawn or a slow webhook never delays a tick.
        let alerts_thread = Arbiter::new();
        let notifier_clock = clock.clone();
        let notifier = Notifier::start_in_arbiter(&alerts_thread.handle(), move |_| {
            Notifier::new(alerts_cfg, notifier_clock)
        });
        let tick_watchers = extensions.start_tick_watchers();
        // Each day's engine gets fresh strategies (the first day the ones checked above).
        let mut first_conditions = Some(conditions);
        let mut day_settings = |tick_watchers: Vec<Recipient<Deliver<Tick>>>,
                                notifier: Addr<Notifier>|
         -> anyhow::Result<EngineSettings> {
            let conditions = match first_conditions.take() {
                Some(c) => c,
                None => extensions.conditions(args)?,
            };
            let mut journaled_settings = args.journaled_settings(&rest_url, &conditions);
            journaled_settings.insert("commission_ppm".into(), fees.commission_ppm.to_string());
            journaled_settings.insert("sell_tax_ppm".into(), fees.sell_tax_ppm.to_string());
            Ok(EngineSettings {
                conditions: conditions
                    .into_iter()
                    .map(|(c, factory)| ConditionPlan {
                        name: c.name,
                        strategy: factory,
                        max_positions: c.max_positions,
                    })
                    .collect(),
                max_feeds: args.max_feeds,
                risk,
                fees,
                compute_threads: 1,
                data_dir: args.data_dir.clone(),
                orders_per_sec: args.orders_per_sec,
                rate_excess: args.order_rate_excess,
                kill_switch_flatten: args.kill_switch_flatten,
                journaled_settings,
                notifier: Some(notifier),
                tick_watchers,
                meters: meters.clone(),
                tape: args.tape,
                clock: clock.clone(),
                // Disk space (issue 15): each day's engine watches it and keeps its reserve.
                disk: Some(disk),
            })
        };
        // Tokens live their `expires_in` on the engine's clock: in market time under
        // CONDOR_CLOCK, as the simulator on the same clock counts it.
        let link = connect(args.broker_kind, &rest_url, &ws_url, &appkey, &appsecret, clock.clone())
            .await
            .context("cannot log in to the broker")?;
        // The HTTP server lives as long as the process; each day's engine is handed to it
        // when it starts and taken back when the day closes.
        let (engine_tx, engine_rx) = tokio::sync::watch::channel(None);
        let mut http = http;
        let mut engine_rx = Some(engine_rx);
        let mut serve = || -> anyhow::Result<Option<HttpServer>> {
            let (Some((cfg, listener)), Some(meters), Some(engine)) =
                (http.take(), meters.clone(), engine_rx.take())
            else {
                return Ok(None);
            };
            let sources = Sources {
                engine,
                meters,
                broker: broker_label.clone(),
                condition: condition.clone(),
                strategy: strategy.clone(),
                conditions: condition_rows.clone(),
                started: std::time::SystemTime::now(),
                calendar: calendar.clone(),
                clock: clock.clone(),
            };
            let server = HttpServer::start(listener, &cfg, sources)
                .context("cannot start the HTTP server")?;
            log::info!(target: LOG, "dashboard at http://{0}/, metrics at http://{0}/metrics, status at http://{0}/status", server.local_addr());
            println!("dashboard: http://{}/", server.local_addr());
            Ok(Some(server))
        };
        // Under KRX's hours it serves from the start (condor may idle first); trading
        // from start to stop, once the engine trades, so the address printed means the
        // engine is up.
        let mut server = match hours {
            Hours::Calendar => serve()?,
            Hours::Always => None,
        };
        let mut last_day: Option<EngineStop> = None;
        let mut last_actors: Option<DayActors> = None;
        loop {
            let (day, close_at) = match hours {
                Hours::Always => (clock.today(), None),
                Hours::Calendar => {
                    match day_hours.plan(&calendar, clock.today(), clock.time_of_day()) {
                        DayPlan::Trade { day, close_at } => (day, Some(close_at)),
                        DayPlan::Wait { day, start_at } => {
                            log::info!(
                                target: LOG,
                                "{}; the day's engine starts {day} at {start_at} KST",
                                calendar.market_at(clock.today(), clock.time_of_day())
                            );
                            if until(clock.as_ref(), day, start_at, &mut stop).await? {
                                break;
                            }
                            continue;
                        }
                    }
                }
            };
            // Yesterday's actors answered its summary; they go before today's start.
            if let Some(actors) = last_actors.take() {
                actors.retire().await;
                // A process that runs for weeks prunes at each day's start, as a start does.
                let data_dir = args.data_dir.clone();
                let today = clock.today();
                let _ = actix_rt::task::spawn_blocking(move || {
                    crate::retention::prune_at_start(&data_dir, today, retention)
                })
                .await;
            }
            let settings = day_settings(tick_watchers.clone(), notifier.clone())?;
            let engine = engine::start(link.clone(), settings).await?;
            engine_tx.send_replace(Some(DayEngine {
                session: engine.session.clone(),
                processor: engine.processor.clone(),
                orders: engine.orders.clone(),
                portfolio: engine.portfolio.clone(),
                supervisor: engine.supervisor.clone(),
            }));
            if server.is_none() {
                server = serve()?;
            }
            log::info!(
                target: LOG,
                "trading; opening cash {} won; journal {}; the day {day}{}{}",
                engine.opening_cash,
                engine.report.journal.display(),
                close_at.map_or_else(String::new, |c| format!(" closes at {c} KST")),
                if engine.report.kill_switch_on { "; KILL SWITCH ON: no new entries today" } else { "" }
            );
            notifier.do_send(WatchDay {
                orders: engine.orders.clone().recipient(),
                portfolio: engine.portfolio.clone().recipient(),
                books: Some(engine.portfolio.clone().recipient()),
            });
            notifier.do_send(Alert::EngineStarted(EngineStart {
                broker: broker_label.clone(),
                condition: condition.clone(),
                strategy: strategy.clone(),
                opening_cash: engine.opening_cash,
                kill_switch_on: engine.report.kill_switch_on,
            }));
            let stopped = match close_at {
                Some(at) => until(clock.as_ref(), day, at, &mut stop).await?,
                None => {
                    stop.recv().await?;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    true
                }
            };
            if stopped {
                log::info!(target: LOG, "stopping: new orders first, then the feeds, the processor's queue, the working orders, then the socket");
            } else {
                log::info!(target: LOG, "closing the day {day}: new orders first, then the feeds, the processor's queue, the working orders, then the socket");
            }
            let (closed, actors) = close_day(engine, on_shutdown, started, clock.as_ref()).await;
            engine_tx.send_replace(None);
            last_day = Some(closed);
            // Kept until the next day starts (or the stop's alert has gone): the day's
            // summary asks them for its figures.
            last_actors = Some(actors);
            if stopped {
                break;
            }
            notifier.do_send(CloseOfDay);
            log::info!(target: LOG, "the day {day} is closed; its journal and tape are synced");
        }
        // Joins its thread; its last streams end here.
        drop(server);

        // The stop (and, on a day that traded, the summary first) goes out before the
        // process ends; a dead webhook holds the exit for ten seconds at most.
        notifier.do_send(Alert::EngineStopped(last_day.unwrap_or(EngineStop {
            ran_for_secs: started.elapsed().as_secs(),
            ..EngineStop::default()
        })));
        let drained = notifier
            .send(DrainAlerts {
                within: ALERTS_DRAIN,
            })
            .await
            .unwrap_or(false);
        if !drained {
            log::warn!(target: LOG, "alerts still waiting for Discord or Telegram at exit: each is logged (condor::notifier)");
        }
        if let Some(actors) = last_actors {
            actors.retire().await;
        }
        // Logs whatever is left, then stops; its thread goes with it.
        let _ = notifier.send(Stop { reason: "condor stopping" }).await;
        alerts_thread.stop();
        Ok::<(), anyhow::Error>(())
    });
    drop(sim);
    result
}

fn broker_name(kind: Protocol) -> &'static str {
    match kind {
        Protocol::Ls => "LS",
        Protocol::Kiwoom => "Kiwoom",
    }
}

/// Logs in to the broker `kind` names: its REST client (the token issued once per key pair
/// and renewed before it expires, on the engine's clock: in market time under
/// CONDOR_CLOCK, as the simulator on the same clock counts it) and its websocket's address.
async fn connect(
    kind: Protocol,
    rest_url: &str,
    ws_url: &str,
    appkey: &Secret,
    appsecret: &Secret,
    clock: std::sync::Arc<dyn Clock>,
) -> anyhow::Result<BrokerLink> {
    Ok(match kind {
        Protocol::Ls => {
            let rest = LsRest::connect_with(
                rest_url,
                appkey.expose(),
                appsecret.expose(),
                TokenPolicy::default(),
                clock,
            )
            .await?;
            BrokerLink::ls(rest, ws_url)
        }
        Protocol::Kiwoom => {
            let rest = KiwoomRest::connect_with(
                rest_url,
                appkey,
                appsecret,
                TokenPolicy::default(),
                KiwoomRates::default(),
                clock,
            )
            .await?;
            BrokerLink::kiwoom(rest, ws_url)
        }
    })
}

/// KRX's hours against a broker; around the clock against a simulator on this machine
/// (the embedded exchange or a standalone `condor sim` on loopback), which trades whenever
/// it runs.
fn default_hours(rest_url: &str) -> Hours {
    let url = reqwest::Url::parse(rest_url).ok();
    // IPv6 hosts come bracketed, as in the URL.
    let host = url
        .as_ref()
        .and_then(reqwest::Url::host_str)
        .unwrap_or_default();
    let ip = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || ip
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Hours::Always
    } else {
        Hours::Calendar
    }
}

/// Waits until the clock reaches `day` at `at` (false) or a stop signal comes (true).
async fn until(
    clock: &dyn Clock,
    day: TradingDay,
    at: TimeOfDay,
    stop: &mut StopSignal,
) -> anyhow::Result<bool> {
    loop {
        if reached(clock.today(), clock.time_of_day(), day, at) {
            return Ok(false);
        }
        // Read often enough for an accelerated test clock; a wait of hours costs nothing.
        tokio::select! {
            r = stop.recv() => {
                r?;
                // A moment for in-flight frames to land before the shutdown starts.
                tokio::time::sleep(Duration::from_millis(10)).await;
                return Ok(true);
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}

/// Shuts a day's engine down in order, prints the day's summary, and returns the figures
/// the stop alert carries, with the day's actors to retire once it has gone out.
async fn close_day(
    engine: Engine,
    on_shutdown: OnShutdown,
    started: Instant,
    clock: &dyn Clock,
) -> (EngineStop, DayActors) {
    let Engine {
        session,
        processor,
        orders,
        portfolio,
        supervisor,
        opening_cash: _,
        journal,
        tape,
        report,
    } = engine;
    // No order leaves from here on: intents still coming (the Processor's queue, a
    // ticker entering the condition) are refused, not sent to be forgotten.
    orders.send(StopOrders).await.unwrap_or(0);
    let feeds = supervisor
        .send(GetSupervisorStats)
        .await
        .unwrap_or_default();
    let stopped = supervisor.send(StopAllFeeds).await.unwrap_or(0);
    // Mailbox order: every tick queued before this is processed when it answers.
    let processed = processor.send(Flush).await.unwrap_or_default();
    // Orders sent carry on to an answer (and, with `cancel`, to their end) while the
    // socket is still open to bring their events into the journal.
    settle_orders(&orders, on_shutdown).await;
    // Everything journaled so far reaches the disk, and what waited for it (fills for
    // the Portfolio) is delivered before anyone is asked for figures.
    sync_journal(&journal).await;
    let order_stats = orders.send(GetOrderStats).await.unwrap_or_default();
    let book = portfolio.send(GetPortfolio).await.ok().and_then(Result::ok);
    let session_stats = session.send(GetSessionStats).await.unwrap_or_default();
    let _ = session.send(Shutdown).await;
    sync_journal(&journal).await;
    // The order ends that settling brought reached the strategies after the first
    // flush: a second one hands them to the tape before it closes.
    let _ = processor.send(Flush).await;
    let taped = close_tape(tape, clock).await;
    println!("condor summary");
    println!(
        "  ran for            {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  feeds              {} spawned, {} stopped during the day, {} stopped at shutdown, {} refused over the cap, {} invalid codes",
        feeds.spawned, feeds.stopped, stopped, feeds.refused_over_cap, feeds.invalid_codes
    );
    println!(
        "  ticks              {} received, {} processed, {} malformed frames, {} reconnects",
        session_stats.ticks, processed.ticks, session_stats.malformed, session_stats.reconnects
    );
    println!(
        "  backlog            at most {} ticks in flight to the Processor, reading paused {} times for it",
        session_stats.max_in_flight, session_stats.read_pauses
    );
    println!(
        "  orders             {} intents, {} sent, {} filled, {} cancelled, {} rejected, {} refused by risk, {} still working",
        processed.intents,
        order_stats.orders,
        order_stats.filled,
        order_stats.cancelled,
        order_stats.rejected,
        order_stats.refused_by_risk,
        order_stats.working
    );
    println!("  fills              {}", order_stats.fills);
    if let Some(t) = &taped {
        println!("  tape               {t}");
    }
    println!(
        "  journal            {} ({} records at start, {} start(s) before this one today); {} difference(s) with the broker at start, {} while running; kill switch {}",
        report.journal.display(),
        report.records,
        report.earlier_starts,
        report.differences.values().sum::<u64>(),
        order_stats.reconcile_differences,
        if order_stats.kill_switch_on { "ON" } else { "off" }
    );
    println!(
        "  latency            intent->ack p50 {} us p99 {} us ({} orders); ack->fill p50 {} us p99 {} us",
        order_stats.intent_to_ack.p50,
        order_stats.intent_to_ack.p99,
        order_stats.intent_to_ack.count,
        order_stats.ack_to_fill.p50,
        order_stats.ack_to_fill.p99
    );
    if let Some(b) = &book {
        let held = b.positions.iter().filter(|p| p.qty.shares() > 0).count();
        println!(
            "  P&L                realized {} won, unrealized {} won, fees {} won; cash {} won, equity {} won, {} position(s) open",
            b.realized_pnl, b.unrealized_pnl, b.fees, b.cash, b.equity, held
        );
    }
    let stop = EngineStop {
        ran_for_secs: started.elapsed().as_secs(),
        orders: order_stats.orders,
        fills: order_stats.fills,
        working: order_stats.working,
        open_positions: book.as_ref().map_or(0, |b| {
            b.positions.iter().filter(|p| p.qty.shares() > 0).count() as u64
        }),
        realized_pnl: book.as_ref().map_or(0, |b| b.realized_pnl),
        unrealized_pnl: book.as_ref().map_or(0, |b| b.unrealized_pnl),
    };
    let actors = DayActors {
        session,
        processor,
        orders,
        portfolio,
        supervisor,
    };
    (stop, actors)
}

/// A closed day's actors, kept until the day's summary (or the stop's) has its figures.
struct DayActors {
    session: Addr<condor_actors::broker_session::BrokerSession>,
    processor: Addr<condor_actors::processor::Processor>,
    orders: Addr<OrderManager>,
    portfolio: Addr<condor_actors::portfolio::Portfolio>,
    supervisor: Addr<condor_actors::supervisor::Supervisor>,
}

impl DayActors {
    /// Stops them: what they hold (the journal, the tape, each other's addresses) goes
    /// with them, so days do not pile up in a process that runs for weeks.
    async fn retire(self) {
        let _ = tokio::join!(
            self.processor.send(Retire),
            self.orders.send(Retire),
            self.portfolio.send(Retire),
            self.supervisor.send(Retire),
            self.session.send(Retire),
        );
    }
}

/// Says at start what KRX's calendar makes of today, and warns when today's session is
/// not the regular one: the entry cutoff, the flatten and the summary stay as set.
fn log_the_day(calendar: &Calendar, args: &RunArgs, clock: &dyn Clock) {
    let day = clock.today();
    let now = calendar.market_at(day, clock.time_of_day());
    match calendar.session(day) {
        Some(s) => log::info!(
            target: LOG,
            "calendar: {day} trades {}–{} KST; {now}",
            calendar::hm(s.open),
            calendar::hm(s.close)
        ),
        None => log::info!(target: LOG, "calendar: {day} is no trading day; {now}"),
    }
    if let Some(s) = calendar.session(day).filter(|s| *s != calendar::REGULAR) {
        log::warn!(
            target: LOG,
            "today's session is {}–{} KST, not 09:00–15:30: each strategy's entry_cutoff and flatten_at, and the day's summary at {}, stay as set",
            calendar::hm(s.open),
            calendar::hm(s.close),
            args.discord_summary_at
        );
    }
    // Says so once if the year is outside the holiday table.
    let _ = calendar.unknown_year_note(day);
}

/// How long shutdown waits for the orders it sent (and, with `cancel`, their cancels) to
/// be answered; what is still open then is left to the next start's reconciliation.
/// (`condor service unit`'s stop timeout is chosen from it.)
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the last alerts (the stop, the day's summary) may take to reach Discord and
/// Telegram at the stop.
pub const ALERTS_DRAIN: Duration = Duration::from_secs(10);

/// Waits until no order is awaiting its send's answer and, with `cancel`, until every
/// working order has ended (cancelled, or filled first), asking again for the cancels the
/// broker refused and for orders numbered since. Gives up after [`SETTLE_TIMEOUT`].
async fn settle_orders(orders: &Addr<OrderManager>, on_shutdown: OnShutdown) {
    let cancel = on_shutdown == OnShutdown::Cancel;
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    let mut cancels = 0;
    loop {
        let Ok(s) = orders.send(GetOrderStats).await else {
            return;
        };
        let open = if cancel { s.working } else { s.in_doubt };
        if open == 0 {
            if cancels > 0 {
                log::info!(target: LOG, "every working order ended ({cancels} cancel(s) sent)");
            }
            return;
        }
        if Instant::now() >= deadline {
            log::warn!(
                target: LOG,
                "{open} order(s) still open after {} s ({} awaiting an answer); the next start reconciles them with the broker",
                SETTLE_TIMEOUT.as_secs(),
                s.in_doubt
            );
            return;
        }
        if cancel {
            let n = orders.send(CancelAllWorking).await.unwrap_or(0);
            if n > 0 && cancels == 0 {
                log::info!(target: LOG, "cancelling {n} working order(s)");
            }
            cancels += n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Records the clean stop and waits until the tape is on disk; what to print of it.
async fn close_tape(tape: Option<condor_actors::tape::Tape>, clock: &dyn Clock) -> Option<String> {
    let tape = tape?;
    let mut stop = tape.recorder();
    stop.record(
        clock.unix_ms().saturating_mul(1_000_000),
        condor_actors::tape::TapeEvent::Stopped,
    );
    stop.flush();
    let t = tape.clone();
    let synced = actix_rt::task::spawn_blocking(move || t.sync()).await;
    let stats = tape.stats();
    let line = format!(
        "{} ({} records, {} bytes written this run)",
        tape.path().display(),
        stats.records,
        stats.bytes
    );
    match synced {
        Ok(Ok(_)) => Some(line),
        Ok(Err(e)) => {
            log::error!(target: LOG, "the tape: {e}");
            Some(format!("{line}; NOT SYNCED: {e}"))
        }
        Err(e) => {
            log::error!(target: LOG, "tape sync task failed: {e}");
            Some(line)
        }
    }
}

async fn sync_journal(journal: &condor_actors::journal::Journal) {
    let j = journal.clone();
    match actix_rt::task::spawn_blocking(move || j.sync()).await {
        Ok(Ok(seq)) => log::info!(target: LOG, "journal synced ({seq} records)"),
        Ok(Err(e)) => log::error!(target: LOG, "{e}"),
        Err(e) => log::error!(target: LOG, "journal sync task failed: {e}"),
    }
}

/// Ctrl-C or SIGTERM, listened for from `listen` on: a signal that arrives before `wait` is
/// kept, not lost.
struct StopSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn listen() -> anyhow::Result<StopSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignal {
                term: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    /// Waits for Ctrl-C or SIGTERM, then a moment for in-flight frames to land before the
    /// shutdown order starts. Cancel-safe up to the signal: a `select!` that drops it
    /// before then loses nothing.
    async fn recv(&mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_simulator_on_this_machine_trades_around_the_clock_a_broker_keeps_krx_hours() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:3000/oauth2/token",
            "http://[::1]:9000",
            "http://127.0.0.1",
        ] {
            assert_eq!(default_hours(url), Hours::Always, "{url}");
        }
        for url in [
            "https://openapi.ls-sec.co.kr:8080",
            "https://api.kiwoom.com",
            "http://10.0.0.5:8080",
        ] {
            assert_eq!(default_hours(url), Hours::Calendar, "{url}");
        }
    }
}
