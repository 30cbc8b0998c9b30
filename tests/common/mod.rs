//! The test kit, one for every integration test (`mod common;`): waiting for a condition
//! ([`wait`]), clients of the embedded exchange ([`clients`]), a trade to hand the engine
//! ([`tick`]), randomness a failure replays from ([`rng`]), and the `condor` binary as a
//! child process: `condor run` against a simulator in the test ([`binary`]), or a
//! standalone `condor sim` and the lives of `condor run` against it ([`lives`]).
#![allow(dead_code, unused_imports)]

pub mod binary;
pub mod clients;
pub mod lives;
pub mod rng;
pub mod tick;
pub mod wait;

pub use clients::*;
pub use tick::tick;
pub use wait::{until, until_blocking, until_within, Poll, PATIENCE};
