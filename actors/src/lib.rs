//! condor-actors: the market types, the LS OPEN API wire formats, the engine's messages
//! and pure trading logic, and (as they land) the actors of the condor trading engine.

pub mod clock;
pub mod ledger;
pub mod market;
pub mod messages;
pub mod order;
pub mod risk;
pub mod strategy;
pub mod wire;
