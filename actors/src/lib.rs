//! condor-actors: the market types, the LS OPEN API wire formats, the engine's messages
//! and pure trading logic, and (as they land) the actors of the condor trading engine.

pub mod market;
pub mod messages;
pub mod wire;
