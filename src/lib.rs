//! The condor service: command line, configuration, wiring, and the embedded
//! LS-compatible exchange that condor trades against when no broker is configured.

pub mod backtest_cli;
pub mod backtest_report;
pub mod cli;
pub mod conditions;
pub mod disk_space;
pub mod engine;
pub mod extend;
pub mod http;
pub mod journal_cli;
pub mod logging;
pub mod replay_cli;
pub mod retention;
pub mod run;
pub mod service;
pub mod status_cli;
pub mod strategies_cli;
pub mod tape_cli;

// The embedded exchange and the secret type live in crates of their own (actors/sim,
// actors/model); these keep `condor::sim::…` and `condor::secret::…` naming them.
pub use condor_model::secret;
pub use condor_sim as sim;
