//! The test kit, one for every integration test (`mod common;`): waiting for a condition
//! ([`wait`]), clients of the embedded exchange ([`clients`]), a trade to hand the engine
//! ([`tick`]), randomness a failure replays from ([`rng`]), and the `condor` binary as a
//! child process: `condor run` against a simulator in the test ([`binary`]), or a
//! standalone `condor sim` and the lives of `condor run` against it ([`lives`]).
#![allow(dead_code, unused_imports)]

/// Runs `$body(protocol)` as one test per broker, `$ls` and `$kiwoom` (a file that uses it
/// declares the kit with `#[macro_use] mod common;`).
#[allow(unused_macros)]
macro_rules! per_broker {
    ($body:ident: $ls:ident, $kiwoom:ident) => {
        #[actix_rt::test]
        async fn $ls() {
            $body(condor::sim::Protocol::Ls).await
        }
        #[actix_rt::test]
        async fn $kiwoom() {
            $body(condor::sim::Protocol::Kiwoom).await
        }
    };
}

pub mod binary;
pub mod clients;
pub mod lives;
pub mod rng;
pub mod tick;
pub mod wait;

pub use clients::*;
pub use tick::tick;
pub use wait::{until, until_blocking, until_within, Poll, PATIENCE};
