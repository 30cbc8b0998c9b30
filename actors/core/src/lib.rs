//! condor's trading core: one synchronous core that takes events and returns decisions,
//! with no actix, no clock read of its own and no socket. The strategies and their desk
//! ([`strategy`], [`trading::strategies`]), the risk gate ([`risk`]), the order engine
//! ([`order`], [`trading::orders`], [`throttle`], [`kill_switch`], [`reconcile`]), the
//! ledger ([`ledger`], [`condition_books`]), and what makes it durable and replayable: the
//! journal ([`journal`]) and the tape ([`tape`], [`trading::replay`]).
//!
//! `condor run` drives it from the broker through the actors; `condor replay` and the
//! backtest drive it from a tape. Must never depend on actix or read a clock: time comes
//! in with the events, so a replay takes the same branches as live.

pub mod condition_books;
pub mod day_plan;
pub mod disk_space;
pub mod durable_file;
pub mod journal;
pub mod kill_switch;
pub mod ledger;
pub mod order;
pub mod reconcile;
pub mod refusal_digest;
pub mod retention;
pub mod risk;
pub mod strategy;
pub mod tape;
pub mod throttle;
pub mod trading;

// The leaf crate's modules under the paths the core has always used.
pub use condor_model::{calendar, clock, domain, market, wire};
