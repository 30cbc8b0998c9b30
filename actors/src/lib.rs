//! condor-actors: the market types, the LS OPEN API wire formats and (from the engine
//! issue on) every actor of the condor trading engine.

pub mod market;
pub mod wire;
