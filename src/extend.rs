//! Extending condor: a program of the user's own runs condor's main job (`condor run`) with
//! its own actors and strategies added, one line each, e.g. (the whole of
//! `examples/volume_spikes.rs`'s wiring):
//!
//! ```text
//! condor::extend::main_with(|ext| {
//!     ext.watch_ticks(VolumeSpikes::default());
//! })
//! ```
//!
//! Owns what a program adds and when it takes effect: strategies are known before anything
//! starts (so an unknown `CONDOR_STRATEGY` stops condor at once, listing every registered
//! name); added actors start inside condor's actix system just before the engine, so they
//! see its first tick. Must never change what `condor run` does when nothing is added.

use std::process::ExitCode;

use actix::prelude::*;
use clap::Parser;
use condor_actors::messages::{Deliver, Tick};
use condor_actors::strategy::{InvalidParam, ParamSpec, Params, StrategyFactory, StrategyRegistry};

use crate::cli::RunArgs;

const LOG: &str = "condor::run";

/// Starts one added actor (inside the actix system) and gives its address.
type StartWatcher = Box<dyn FnOnce() -> Recipient<Deliver<Tick>>>;

/// What a program adds to `condor run`. [`crate::run::run_with`] and [`main_with`] hand one
/// to the program, then use it: the strategies when configuration is read, the actors
/// when the engine starts.
pub struct Extensions {
    strategies: StrategyRegistry,
    /// With each actor's type name, for the log.
    tick_watchers: Vec<(&'static str, StartWatcher)>,
}

impl Default for Extensions {
    fn default() -> Self {
        Extensions::new()
    }
}

impl Extensions {
    /// Nothing added: the built-in strategies, no actors.
    pub fn new() -> Extensions {
        Extensions {
            strategies: StrategyRegistry::new(),
            tick_watchers: Vec::new(),
        }
    }

    /// Starts `actor` with the engine (on its arbiter, before the first tick) and sends it
    /// every tick the Processor handles, after the strategy has seen it. The Processor
    /// never waits for it: a slow watcher only grows its own mailbox.
    pub fn watch_ticks<A>(&mut self, actor: A) -> &mut Extensions
    where
        A: Actor<Context = Context<A>> + Handler<Deliver<Tick>>,
    {
        self.tick_watchers.push((
            std::any::type_name::<A>(),
            Box::new(move || actor.start().recipient()),
        ));
        self
    }

    /// Makes `CONDOR_STRATEGY=name` pick the strategy `build` makes, exactly as `momentum`
    /// picks the built-in one. `params` are the parameters it declares (set by
    /// `CONDOR_PARAM_<NAME>`, `--param`, `condor backtest --set`, listed by
    /// `strategies`); `build` gets them checked, with the ones every strategy has
    /// (`budget_won`, `entry_cutoff`, `flatten_at`).
    pub fn add_strategy(
        &mut self,
        name: impl Into<String>,
        about: impl Into<String>,
        params: &[ParamSpec],
        build: impl Fn(&Params) -> Result<Box<dyn StrategyFactory>, InvalidParam>
            + Send
            + Sync
            + 'static,
    ) -> &mut Extensions {
        self.strategies.register(name, about, params, build);
        self
    }

    /// Every strategy configuration may name: the built-ins and those added.
    pub fn strategies(&self) -> &StrategyRegistry {
        &self.strategies
    }

    /// The strategy `args` names (`CONDOR_STRATEGY`), built with its parameters, and the
    /// parameters (to journal); an unknown name is an error naming the variable and
    /// listing every registered name.
    pub fn strategy(&self, args: &RunArgs) -> anyhow::Result<(Box<dyn StrategyFactory>, Params)> {
        let params = args.strategy_params(&self.strategies)?;
        let factory = self
            .strategies
            .build(&args.strategy, &params)
            .map_err(|e| anyhow::anyhow!("CONDOR_STRATEGY: {e}"))?;
        Ok((factory, params))
    }

    /// The conditions `args` configures (`condor.toml`, or the one condition of
    /// `CONDOR_CONDITION` and `CONDOR_STRATEGY`), each with its strategy built.
    pub fn conditions(
        &self,
        args: &RunArgs,
    ) -> anyhow::Result<Vec<(crate::conditions::ConditionConfig, Box<dyn StrategyFactory>)>> {
        args.conditions(&self.strategies)?
            .into_iter()
            .map(|c| {
                let factory = self
                    .strategies
                    .build(&c.strategy, &c.params)
                    .map_err(|e| anyhow::anyhow!("condition {:?}: {e}", c.name))?;
                Ok((c, factory))
            })
            .collect()
    }

    /// Starts the added actors and gives their addresses, for
    /// [`crate::engine::EngineSettings::tick_watchers`]. Must run inside an actix system;
    /// each actor starts once (a second call gives none).
    pub fn start_tick_watchers(&mut self) -> Vec<Recipient<Deliver<Tick>>> {
        std::mem::take(&mut self.tick_watchers)
            .into_iter()
            .map(|(name, start)| {
                log::info!(target: LOG, "added by this program: {name} watches every tick");
                start()
            })
            .collect()
    }
}

/// `condor run`'s settings alone, from the command line, the environment and `.env`.
#[derive(Parser, Debug)]
#[command(
    version,
    about = "condor run, with this program's own actors and strategies added",
    long_about = None
)]
struct RunCommand {
    #[command(subcommand)]
    list: Option<ListCommand>,
    #[command(flatten)]
    run: RunArgs,
}

/// What a program answers besides running.
#[derive(clap::Subcommand, Debug)]
enum ListCommand {
    /// List every strategy this program knows (condor's and its own), with parameters.
    Strategies(crate::strategies_cli::StrategiesArgs),
}

/// A program's whole `main`: does what the `condor` binary does for `condor run` (reads
/// `.env`, sets up logging from `RUST_LOG`, takes the same flags and `CONDOR_*` settings)
/// and runs it with what `extend` adds.
pub fn main_with(extend: impl FnOnce(&mut Extensions)) -> ExitCode {
    // A missing .env is normal; a malformed one is an error the user must see.
    if let Err(e) = dotenvy::dotenv() {
        if !e.not_found() {
            eprintln!("error: .env: {e}");
            return ExitCode::from(2);
        }
    }
    crate::logging::init("info");
    let command = RunCommand::parse();
    if let Some(ListCommand::Strategies(args)) = &command.list {
        let mut ext = Extensions::new();
        extend(&mut ext);
        return match crate::strategies_cli::run(args, ext.strategies()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    match crate::run::run_with(&command.run, extend) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;
    use condor_actors::strategy::{MomentumFactory, MomentumParams};

    use super::*;

    #[test]
    fn the_run_command_is_well_formed() {
        RunCommand::command().debug_assert();
    }

    fn run_args(args: &[&str]) -> RunArgs {
        let argv = ["example"].iter().chain(args).copied();
        RunCommand::try_parse_from(argv).unwrap().run
    }

    #[test]
    fn an_unknown_strategy_names_the_setting_and_every_registered_name() {
        let mut ext = Extensions::new();
        ext.add_strategy("breakout", "a test's", &[], |p| {
            Ok(Box::new(MomentumFactory {
                params: MomentumParams::from_params(&momentum(p))?,
            }))
        });
        let e = ext
            .strategy(&run_args(&["--strategy", "macd"]))
            .err()
            .unwrap()
            .to_string();
        assert!(e.starts_with("CONDOR_STRATEGY: "), "{e}");
        assert!(
            e.contains("\"macd\"") && e.contains("momentum, vwap-band, breakout"),
            "{e}"
        );
        // Nothing added: the built-in is the default and the only name.
        let plain = Extensions::new();
        assert_eq!(plain.strategy(&run_args(&[])).unwrap().0.name(), "momentum");
        let e = plain
            .strategy(&run_args(&["--strategy", "breakout"]))
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .ends_with("known strategies: momentum, vwap-band"),
            "{e}"
        );
    }

    /// Momentum's parameters at their defaults but for the common ones in `p`.
    fn momentum(p: &Params) -> Params {
        let mut m = Params::new(MomentumParams::SPECS);
        for (k, v) in p.settings() {
            m.set(k, &v).unwrap();
        }
        m
    }

    #[test]
    fn bad_strategy_settings_name_the_flag() {
        let e = Extensions::new()
            .strategy(&run_args(&["--param", "confirm_ticks=0"]))
            .err()
            .unwrap();
        assert!(
            e.to_string()
                .contains("--param strategy parameter confirm_ticks: must be 1..=100, got 0"),
            "{e}"
        );
    }
}
