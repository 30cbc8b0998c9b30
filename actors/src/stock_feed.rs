//! StockFeed: one per watched ticker. Registers the ticker's realtime trades with the
//! BrokerSession when it starts, unregisters when it stops, keeps the last price and
//! forwards every Tick to the Processor. Answers [`GetFeedStatus`] (last price, ticks).
//!
//! Owns its ticker's subscription and last trade. Must never outlive its subscription:
//! it is stopped only by an explicit `Stop` (an actor with a live stream would survive
//! the loss of every address), and its `stopping()` always unsubscribes.

use std::sync::Arc;

use actix::prelude::*;

use crate::broker_session::BrokerSession;
use crate::market::{Market, Price, Ticker, TimeOfDay};
use crate::messages::{Deliver, FeedId, Stop, SubscribeTrades, Tick, UnsubscribeTrades};
use crate::telemetry::Meters;

const LOG: &str = "condor::feed";

pub struct StockFeed {
    id: FeedId,
    ticker: Ticker,
    market: Market,
    session: Addr<BrokerSession>,
    processor: Recipient<Deliver<Tick>>,
    last_price: Option<Price>,
    last_time: Option<TimeOfDay>,
    ticks: u64,
    stop_reason: &'static str,
    meters: Option<Arc<Meters>>,
}

/// What one feed has seen, for `/status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedStatus {
    pub ticker: Ticker,
    /// The last trade's price and exchange time (KST), if any trade came yet.
    pub last_price: Option<Price>,
    pub last_time: Option<TimeOfDay>,
    pub ticks: u64,
}

/// Ask a feed for its [`FeedStatus`].
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "FeedStatus")]
pub struct GetFeedStatus;

impl StockFeed {
    pub fn new(
        ticker: Ticker,
        market: Market,
        session: Addr<BrokerSession>,
        processor: Recipient<Deliver<Tick>>,
    ) -> StockFeed {
        StockFeed {
            id: FeedId::next(),
            ticker,
            market,
            session,
            processor,
            last_price: None,
            last_time: None,
            ticks: 0,
            stop_reason: "shutdown",
            meters: None,
        }
    }

    /// Counts the ticks it receives and forwards into `meters`.
    pub fn with_meters(mut self, meters: Option<Arc<Meters>>) -> StockFeed {
        self.meters = meters;
        self
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
            feed_id: self.id,
        });
    }

    fn stopping(&mut self, _: &mut Context<Self>) -> Running {
        self.session.do_send(UnsubscribeTrades {
            ticker: self.ticker,
            feed_id: self.id,
            handled: self.ticks,
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

impl Handler<Deliver<Tick>> for StockFeed {
    type Result = ();
    fn handle(&mut self, Deliver(tick): Deliver<Tick>, _: &mut Context<Self>) {
        self.ticks += 1;
        self.last_price = Some(tick.price);
        self.last_time = Some(tick.exchange_time);
        log::debug!(target: LOG, "{} #{} {} x {} at {}", tick.ticker, tick.seq, tick.price, tick.qty, tick.exchange_time);
        if let Some(m) = &self.meters {
            m.feed_ticks_received.inc();
        }
        self.processor.do_send(Deliver(tick));
        if let Some(m) = &self.meters {
            m.feed_ticks_forwarded.inc();
        }
    }
}

impl Handler<GetFeedStatus> for StockFeed {
    type Result = MessageResult<GetFeedStatus>;
    fn handle(&mut self, _: GetFeedStatus, _: &mut Context<Self>) -> Self::Result {
        MessageResult(FeedStatus {
            ticker: self.ticker,
            last_price: self.last_price,
            last_time: self.last_time,
            ticks: self.ticks,
        })
    }
}

impl Handler<Stop> for StockFeed {
    type Result = ();
    fn handle(&mut self, msg: Stop, ctx: &mut Context<Self>) {
        self.stop_reason = msg.reason;
        ctx.stop();
    }
}
