//! StockFeed: one per watched ticker. Registers the ticker's realtime trades with the
//! BrokerSession when it starts, for the Processor, and unregisters them when it stops.
//! The ticks themselves go from the session to the Processor beside the feed, not through
//! its mailbox (README "How a tick travels": a hop fewer, and a firehose's read travels as
//! one message); the Processor keeps each ticker's last trade.
//!
//! Owns its ticker's subscription. Must never outlive its subscription: it is stopped
//! only by an explicit `Stop` (an actor with a live stream would survive the loss of every
//! address), and its `stopping()` always unsubscribes.

use actix::prelude::*;

use crate::broker_session::BrokerSession;
use crate::market::{Market, Ticker};
use crate::messages::{FeedId, Stop, SubscribeTrades, Ticks, UnsubscribeTrades};

pub(crate) const LOG: &str = "condor::feed";

pub struct StockFeed {
    id: FeedId,
    ticker: Ticker,
    market: Market,
    session: Addr<BrokerSession>,
    processor: Recipient<Ticks>,
    stop_reason: &'static str,
}

impl StockFeed {
    pub fn new(
        ticker: Ticker,
        market: Market,
        session: Addr<BrokerSession>,
        processor: Recipient<Ticks>,
    ) -> StockFeed {
        StockFeed {
            id: FeedId::next(),
            ticker,
            market,
            session,
            processor,
            stop_reason: "shutdown",
        }
    }
}

impl Actor for StockFeed {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Context<Self>) {
        log::info!(target: LOG, "{} feed started ({})", self.ticker, self.market.name());
        self.session.do_send(SubscribeTrades {
            ticker: self.ticker,
            market: self.market,
            to: self.processor.clone(),
            feed_id: self.id,
        });
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> Running {
        self.session.do_send(UnsubscribeTrades {
            ticker: self.ticker,
            feed_id: self.id,
        });
        log::info!(target: LOG, "{} feed stopped ({})", self.ticker, self.stop_reason);
        Running::Stop
    }
}

impl Handler<Stop> for StockFeed {
    type Result = ();
    fn handle(&mut self, msg: Stop, ctx: &mut Context<Self>) {
        self.stop_reason = msg.reason;
        ctx.stop();
    }
}
