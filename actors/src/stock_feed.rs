//! StockFeed: one per watched ticker. Registers the ticker's realtime trades with the
//! BrokerSession when it starts, unregisters when it stops, keeps the last price and
//! forwards every Tick to the Processor.
//!
//! Owns its ticker's subscription and last trade. Must never outlive its subscription:
//! it is stopped only by an explicit `Stop` (an actor with a live stream would survive
//! the loss of every address), and its `stopping()` always unsubscribes.

use actix::prelude::*;

use crate::broker_session::BrokerSession;
use crate::market::{Market, Price, Ticker};
use crate::messages::{Stop, SubscribeTrades, Tick, UnsubscribeTrades};

const LOG: &str = "condor::feed";

pub struct StockFeed {
    ticker: Ticker,
    market: Market,
    session: Addr<BrokerSession>,
    processor: Recipient<Tick>,
    last_price: Option<Price>,
    ticks: u64,
    stop_reason: &'static str,
}

impl StockFeed {
    pub fn new(
        ticker: Ticker,
        market: Market,
        session: Addr<BrokerSession>,
        processor: Recipient<Tick>,
    ) -> StockFeed {
        StockFeed {
            ticker,
            market,
            session,
            processor,
            last_price: None,
            ticks: 0,
            stop_reason: "shutdown",
        }
    }
}

impl Actor for StockFeed {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        log::info!(target: LOG, "{} feed started ({})", self.ticker, self.market.trade_tr());
        self.session.do_send(SubscribeTrades {
            ticker: self.ticker,
            market: self.market,
            feed: ctx.address().recipient(),
        });
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> Running {
        self.session.do_send(UnsubscribeTrades {
            ticker: self.ticker,
        });
        log::info!(
            target: LOG,
            "{} feed stopped ({}) after {} ticks, last price {}",
            self.ticker,
            self.stop_reason,
            self.ticks,
            self.last_price.map_or_else(|| "-".to_owned(), |p| p.to_string())
        );
        Running::Stop
    }
}

impl Handler<Tick> for StockFeed {
    type Result = ();
    fn handle(&mut self, tick: Tick, _: &mut Context<Self>) {
        self.ticks += 1;
        self.last_price = Some(tick.price);
        log::debug!(target: LOG, "{} #{} {} x {} at {}", tick.ticker, tick.seq, tick.price, tick.qty, tick.exchange_time);
        self.processor.do_send(tick);
    }
}

impl Handler<Stop> for StockFeed {
    type Result = ();
    fn handle(&mut self, msg: Stop, ctx: &mut Context<Self>) {
        self.stop_reason = msg.reason;
        ctx.stop();
    }
}
