//! A trade for a test or a bench to hand the engine, without writing out every field.
//! Benches include this file alone (`#[path = "../tests/common/tick.rs"]`).
#![allow(dead_code)]

use std::time::Instant;

use condor_actors::market::{Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::messages::Tick;

/// A buy-initiated trade of one share of `ticker` at `price`, at 10:00:00, with the
/// previous close at the same price, received now, the session's first: change what the
/// test is about.
pub fn tick(ticker: Ticker, price: i64) -> TickBuilder {
    TickBuilder(Tick {
        ticker,
        price: Price::lit(price),
        qty: Qty::lit(1),
        cum_volume: 1,
        prev_close: Price::lit(price),
        aggressor: Side::Buy,
        exchange_time: TimeOfDay::hms(10, 0, 0),
        received_at: Instant::now(),
        seq: 1,
    })
}

#[derive(Clone, Copy, Debug)]
pub struct TickBuilder(Tick);

impl TickBuilder {
    pub fn qty(mut self, shares: u64) -> Self {
        self.0.qty = Qty::lit(shares);
        self
    }

    pub fn cum_volume(mut self, shares: u64) -> Self {
        self.0.cum_volume = shares;
        self
    }

    pub fn prev_close(mut self, won: i64) -> Self {
        self.0.prev_close = Price::lit(won);
        self
    }

    pub fn aggressor(mut self, side: Side) -> Self {
        self.0.aggressor = side;
        self
    }

    pub fn at(mut self, exchange_time: TimeOfDay) -> Self {
        self.0.exchange_time = exchange_time;
        self
    }

    pub fn received_at(mut self, at: Instant) -> Self {
        self.0.received_at = at;
        self
    }

    pub fn seq(mut self, seq: u64) -> Self {
        self.0.seq = seq;
        self
    }

    pub fn build(self) -> Tick {
        self.0
    }
}

impl From<TickBuilder> for Tick {
    fn from(b: TickBuilder) -> Tick {
        b.0
    }
}
