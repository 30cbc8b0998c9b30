//! condor-actors: the market types, the LS OPEN API wire formats, the engine's messages
//! and pure trading logic, and (as they land) the actors of the condor trading engine.

pub mod access_token;
pub mod backtest;
pub mod broker;
pub mod broker_account;
pub mod broker_session;
pub mod compute;
pub mod condition_search;
pub mod disk_watch;
pub mod kiwoom_rest;
pub mod ls_rest;
pub mod messages;
pub mod notifier;
pub mod notify;
pub mod order_manager;
pub mod portfolio;
pub mod processor;
pub mod stock_feed;
pub mod supervisor;
pub mod telemetry;
pub mod tick_backlog;
pub mod tick_hand_off;
pub mod token_keeper;

// The leaf crate's modules under their old paths, so `crate::market::Price` and
// `condor_actors::wire::…` name the one definition.
pub use condor_model::{calendar, clock, domain, market, wire};
// The trading core's modules, likewise.
pub use condor_core::{
    condition_books, day_plan, disk_space, durable_file, journal, kill_switch, ledger, order,
    reconcile, refusal_digest, retention, risk, strategy, tape, throttle, trading,
};
