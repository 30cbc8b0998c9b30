//! The journal: the engine's memory. Every change of account or order state is appended
//! to a per-day file and made durable before anything acts on it; on start the engine
//! rebuilds its orders and positions from it alone, then reconciles with the broker.
//!
//! `event` is the vocabulary, `store` the durable file with group commit, `recovery` the
//! pure rebuild of state from records.

pub mod event;
pub mod recovery;
pub mod store;
