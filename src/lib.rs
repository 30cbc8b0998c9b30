//! The condor service: CLI, configuration, wiring and the embedded LS-compatible exchange.

pub mod sim;
