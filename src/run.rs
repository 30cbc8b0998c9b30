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

use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use anyhow::Context as _;
use condor_actors::broker_session::Shutdown;
use condor_actors::calendar::{self, Calendar};
use condor_actors::clock::{Clock, SystemClock};
use condor_actors::ledger::FeeSchedule;
use condor_actors::ls_rest::LsRest;
use condor_actors::messages::{
    Alert, CancelAllWorking, DrainAlerts, EngineStart, EngineStop, Flush, GetOrderStats,
    GetPortfolio, GetSessionStats, Stop, StopOrders, WatchDay,
};
use condor_actors::notifier::Notifier;
use condor_actors::order_manager::OrderManager;
use condor_actors::supervisor::{GetSupervisorStats, StopAllFeeds};
use condor_actors::telemetry::Meters;

use crate::cli::{BrokerTarget, OnShutdown, RunArgs};
use crate::engine::{self, ConditionPlan, Engine, EngineSettings};
use crate::extend::Extensions;
use crate::http::{HttpServer, Sources};
use crate::sim::SimHandle;

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
    log_the_day(&calendar, args);
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
    crate::retention::prune_at_start(&args.data_dir, SystemClock.today(), retention);

    // The embedded exchange lives as long as this function; it runs on its own thread.
    let (sim, rest_url, ws_url, appkey, appsecret, broker_label, charged) = match broker {
        BrokerTarget::Embedded => {
            log::info!(target: LOG, "no broker configured (CONDOR_BROKER_*): starting the embedded LS-compatible exchange on loopback");
            let cfg = args.sim.to_config()?;
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
    let mut journaled_settings = args.journaled_settings(&rest_url, &conditions);
    journaled_settings.insert("commission_ppm".into(), fees.commission_ppm.to_string());
    journaled_settings.insert("sell_tax_ppm".into(), fees.sell_tax_ppm.to_string());
    let mut settings = EngineSettings {
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
        notifier: None,
        tick_watchers: Vec::new(),
        meters: meters.clone(),
        tape: args.tape,
        disk: Some(args.disk.settings()?), // disk space (issue 15)
    };
    let started = Instant::now();
    let system = System::new();
    let result = system.block_on(async move {
        // Listening from the very start: a SIGTERM during start-up stops condor cleanly
        // once it has started, instead of killing it with the default action.
        let stop = StopSignal::listen()?;
        // A thread of its own: a chart being drawn or a slow webhook never delays a tick.
        let alerts_thread = Arbiter::new();
        let notifier = Notifier::start_in_arbiter(&alerts_thread.handle(), move |_| {
            Notifier::new(alerts_cfg, Arc::new(SystemClock))
        });
        settings.notifier = Some(notifier.clone());
        settings.tick_watchers = extensions.start_tick_watchers();
        let rest = LsRest::connect(&rest_url, appkey.expose(), appsecret.expose())
            .await
            .context("cannot log in to the broker")?;
        let Engine {
            session,
            processor,
            orders,
            portfolio,
            supervisor,
            opening_cash,
            journal,
            tape,
            report,
        } = engine::start(rest, &ws_url, settings).await?;
        let server = match (http, meters) {
            (Some((cfg, listener)), Some(meters)) => {
                let sources = Sources {
                    session: session.clone(),
                    processor: processor.clone(),
                    orders: orders.clone(),
                    portfolio: portfolio.clone(),
                    supervisor: supervisor.clone(),
                    meters,
                    broker: broker_label.clone(),
                    condition: condition.clone(),
                    strategy: strategy.clone(),
                    conditions: condition_rows.clone(),
                    started: std::time::SystemTime::now(),
                    calendar: calendar.clone(),
                    clock: Arc::new(SystemClock),
                };
                let server = HttpServer::start(listener, &cfg, sources)
                    .context("cannot start the HTTP server")?;
                log::info!(target: LOG, "dashboard at http://{0}/, metrics at http://{0}/metrics, status at http://{0}/status", server.local_addr());
                println!("dashboard: http://{}/", server.local_addr());
                Some(server)
            }
            _ => None,
        };
        log::info!(
            target: LOG,
            "trading; opening cash {opening_cash} won; journal {}{}",
            report.journal.display(),
            if report.kill_switch_on { "; KILL SWITCH ON: no new entries today" } else { "" }
        );
        notifier.do_send(WatchDay {
            orders: orders.clone().recipient(),
            portfolio: portfolio.clone().recipient(),
            books: Some(portfolio.clone().recipient()),
        });
        notifier.do_send(Alert::EngineStarted(EngineStart {
            broker: broker_label,
            condition,
            strategy,
            opening_cash,
            kill_switch_on: report.kill_switch_on,
        }));

        stop.wait().await?;
        log::info!(target: LOG, "stopping: new orders first, then the feeds, the processor's queue, the working orders, then the socket");

        // No order leaves from here on: intents still coming (the Processor's queue, a
        // ticker entering the condition) are refused, not sent to be forgotten.
        orders.send(StopOrders).await.unwrap_or(0);
        let feeds = supervisor.send(GetSupervisorStats).await.unwrap_or_default();
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
        let taped = close_tape(tape).await;

        println!("condor summary");
        println!("  ran for            {:.1} s", started.elapsed().as_secs_f64());
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
            let held = b.positions.iter().filter(|p| p.qty.0 > 0).count();
            println!(
                "  P&L                realized {} won, unrealized {} won, fees {} won; cash {} won, equity {} won, {} position(s) open",
                b.realized_pnl, b.unrealized_pnl, b.fees, b.cash, b.equity, held
            );
        }
        // Joins its thread; its last streams end here.
        drop(server);

        // The stop (and, on a day that traded, the summary first) goes out before the
        // process ends; a dead webhook holds the exit for ten seconds at most.
        notifier.do_send(Alert::EngineStopped(EngineStop {
            ran_for_secs: started.elapsed().as_secs(),
            orders: order_stats.orders,
            fills: order_stats.fills,
            working: order_stats.working,
            open_positions: book.as_ref().map_or(0, |b| {
                b.positions.iter().filter(|p| p.qty.0 > 0).count() as u64
            }),
            realized_pnl: book.as_ref().map_or(0, |b| b.realized_pnl),
            unrealized_pnl: book.as_ref().map_or(0, |b| b.unrealized_pnl),
        }));
        let drained = notifier
            .send(DrainAlerts {
                within: ALERTS_DRAIN,
            })
            .await
            .unwrap_or(false);
        if !drained {
            log::warn!(target: LOG, "alerts still waiting for Discord or Telegram at exit: each is logged (condor::notifier)");
        }
        // Logs whatever is left, then stops; its thread goes with it.
        let _ = notifier.send(Stop { reason: "condor stopping" }).await;
        alerts_thread.stop();
        Ok::<(), anyhow::Error>(())
    });
    drop(sim);
    result
}

/// Says at start what KRX's calendar makes of today, and warns when today's session is
/// not the regular one: the entry cutoff, the flatten and the summary stay as set.
fn log_the_day(calendar: &Calendar, args: &RunArgs) {
    let clock = SystemClock;
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
async fn close_tape(tape: Option<condor_actors::tape::Tape>) -> Option<String> {
    let tape = tape?;
    let mut stop = tape.recorder();
    stop.record(
        SystemClock.unix_ms().saturating_mul(1_000_000),
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

    /// Waits for Ctrl-C or SIGTERM.
    #[cfg_attr(not(unix), allow(unused_mut))]
    async fn wait(mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        // A moment for in-flight frames to land before the shutdown order starts.
        tokio::time::sleep(Duration::from_millis(10)).await;
        Ok(())
    }
}
