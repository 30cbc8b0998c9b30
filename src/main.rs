//! `condor`: the binary's edge. Loads `.env`, sets up logging, parses the command line
//! and runs the chosen subcommand.

use std::io::Write;

use anyhow::Context;
use clap::Parser;
use condor::cli::{Cli, Command, SimArgs};
use condor::sim::SimHandle;

fn main() -> std::process::ExitCode {
    // A missing .env is normal; a malformed one is an error the user must see.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("error: .env: {e}");
            return std::process::ExitCode::from(2);
        }
    }
    let cli = Cli::parse();
    // The offline tools speak through their output; the core's per-order lines (a backtest
    // refuses and rejects by the thousand) would bury it. RUST_LOG still chooses.
    let default = match cli.command {
        Some(Command::Backtest(_)) => "error",
        Some(Command::Replay(_) | Command::Tape(_) | Command::Service(_)) => "warn",
        _ => "info",
    };
    condor::logging::init(default);
    // `condor` alone is `condor run`, with its settings from the environment and .env.
    let command = cli.command.unwrap_or_else(|| {
        Cli::parse_from(["condor", "run"])
            .command
            .expect("`condor run` parses")
    });
    let result = match command {
        Command::Run(args) => condor::run::run(&args),
        Command::Sim(args) => run_sim(&args),
        Command::Journal(args) => condor::journal_cli::print_journal(&args),
        Command::KillSwitch(args) => condor::journal_cli::kill_switch(&args),
        Command::Status(args) => condor::status_cli::print_status(&args),
        Command::Tape(args) => condor::tape_cli::run(&args),
        Command::Service(args) => condor::service::run(&args),
        Command::Strategies(args) => {
            condor::strategies_cli::run(&args, &condor_actors::strategy::StrategyRegistry::new())
        }
        Command::Backtest(args) => {
            return match condor::backtest_cli::run(&args) {
                Ok(()) => std::process::ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::ExitCode::from(2)
                }
            };
        }
        Command::Replay(args) => {
            return match condor::replay_cli::run(&args) {
                Ok(condor::replay_cli::Verdict::Identical) => std::process::ExitCode::SUCCESS,
                Ok(condor::replay_cli::Verdict::Differs) => std::process::ExitCode::from(1),
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::ExitCode::from(2)
                }
            };
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_sim(args: &SimArgs) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    let sim = SimHandle::start(cfg.clone()).with_context(|| {
        format!(
            "cannot listen on {} ports {} (REST) and {} (websocket)",
            cfg.bind, cfg.rest_port, cfg.ws_port
        )
    })?;
    let mut out = std::io::stdout().lock();
    // These are the simulator's own credentials, printed so a client can be pointed at it.
    writeln!(out, "rest: {}", sim.rest_url())?;
    writeln!(out, "websocket: {}", sim.ws_url())?;
    writeln!(out, "appkey: {}", sim.appkey().expose())?;
    writeln!(out, "appsecret: {}", sim.appsecret().expose())?;
    out.flush()?;
    drop(out);
    log::info!(target: "condor::sim", "embedded {}-compatible exchange running (seed {}); Ctrl-C stops it", cfg.protocol.name(), cfg.exchange.seed);
    wait_for_stop_signal()?;
    log::info!(target: "condor::sim", "stopping");
    sim.stop();
    Ok(())
}

/// Blocks until Ctrl-C or SIGTERM.
fn wait_for_stop_signal() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        #[cfg(unix)]
        {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                r = tokio::signal::ctrl_c() => r,
                _ = term.recv() => Ok(()),
            }
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await
    })?;
    Ok(())
}
