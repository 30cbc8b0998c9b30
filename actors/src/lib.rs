//! condor-actors: the market types, the LS OPEN API wire formats, the engine's messages
//! and pure trading logic, and (as they land) the actors of the condor trading engine.

pub mod access_token;
pub mod backtest;
pub mod broker_account;
pub mod broker_session;
pub mod compute;
pub mod condition_books;
pub mod day_plan;
pub mod disk_space;
pub mod disk_watch;
pub mod durable_file;
pub mod journal;
pub mod kill_switch;
pub mod ledger;
pub mod ls_rest;
pub mod messages;
pub mod notifier;
pub mod notify;
pub mod order;
pub mod order_manager;
pub mod portfolio;
pub mod processor;
pub mod reconcile;
pub mod refusal_digest;
pub mod retention;
pub mod risk;
pub mod stock_feed;
pub mod strategy;
pub mod supervisor;
pub mod tape;
pub mod telemetry;
pub mod throttle;
pub mod tick_backlog;
pub mod tick_hand_off;
pub mod trading;

// The leaf crate's modules under their old paths, so `crate::market::Price` and
// `condor_actors::wire::…` name the one definition.
pub use condor_model::{calendar, clock, domain, market, wire};
