//! condor's leaf crate: what the engine, the trading core, the broker adapters and the
//! embedded exchange all speak. KRX's rules and types ([`market`]), its trading days and
//! the clocks ([`calendar`], [`clock`]), the domain model ([`domain`]) and the brokers'
//! wire formats ([`wire`] for LS, [`kiwoom`] for Kiwoom).
//!
//! Must never depend on actix, a runtime or a socket: everything here is plain data and
//! pure functions, so the simulator and the tools link it without the engine.

pub mod calendar;
pub mod clock;
pub mod domain;
pub mod kiwoom;
pub mod market;
pub mod secret;
pub mod wire;
