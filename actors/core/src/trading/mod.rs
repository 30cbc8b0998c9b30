//! The one trading core: the decisions, as plain synchronous code that takes events and
//! returns what to do, with no actix, no clock read and no I/O. The actors are the live
//! driver (they own the sockets, the mailboxes and the time stamps, and carry out what the
//! core decides); `condor replay` drives the same code from a recorded tape, so a replay
//! cannot drift from what ran live.
//!
//! Time inside the core is what the events carry: a trade's exchange time, and the market
//! time the driver stamped on a timer firing or a condition event (recorded on the tape
//! with it), so a replay on the tape's clock takes the same branches as live.
//!
//! Landed so far: the strategies' part ([`StrategyDesk`]: one strategy per ticker, ticks,
//! fills, timers and condition events in, order intents out) and its replay
//! ([`replay`]); the order engine ([`OrderDesk`]: intents, REST replies, SC0–SC4, price
//! bands, timers, the kill switch and the broker's order list in; journal appends, sends,
//! cancels, fetches, timers, fills and dones out), which the OrderManager actor drives, and
//! its record on the tape and replay ([`desk_tape`]).

pub mod desk_tape;
pub mod orders;
pub mod replay;
pub mod strategies;

pub use orders::OrderDesk;
pub use strategies::StrategyDesk;
