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
pub mod secret;
pub mod service;
pub mod sim;
pub mod status_cli;
pub mod strategies_cli;
pub mod tape_cli;
