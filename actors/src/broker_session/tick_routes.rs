//! Where the session sends each watched ticker's trades: the ticker's market (to register
//! it again after a reconnect), the feed that subscribed it, and the sink its ticks go to.
//!
//! Sinks are kept once each and named by index, so the hot path asks "same sink as the
//! ticks already waiting?" with an integer compare. Comparing two actix `Recipient`s is a
//! dynamic call on each side: 2.3% of the engine thread at 1,000 feeds (perf, engine
//! bench), for a question whose answer is almost always "yes".
//!
//! Owns the routes and the sinks. Must never send anything: the session does.

use rustc_hash::FxHashMap;

use condor_model::market::{Market, Ticker};

use crate::messages::FeedId;

/// A sink's index among the table's sinks; valid while a route names it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SinkId(usize);

#[derive(Debug)]
struct Route {
    market: Market,
    sink: SinkId,
    feed_id: FeedId,
}

/// What a subscription did.
#[derive(PartialEq, Eq, Debug)]
pub enum Subscribed {
    /// A ticker not watched before: it must be registered at the broker.
    New,
    /// Already registered; `from`'s route is now this feed's (its unsubscribe, still on
    /// its way, must not remove the route).
    TakenOver { from: FeedId },
    /// The same feed again.
    Again,
}

/// The routes, generic over the sink so the table is tested without actors.
#[derive(Debug)]
pub struct TickRoutes<S> {
    routes: FxHashMap<Ticker, Route>,
    /// Each distinct sink once, with how many routes name it; `None` once none does.
    sinks: Vec<Option<(S, usize)>>,
}

impl<S> Default for TickRoutes<S> {
    fn default() -> Self {
        TickRoutes {
            routes: FxHashMap::default(),
            sinks: Vec::new(),
        }
    }
}

impl<S: PartialEq> TickRoutes<S> {
    /// The sink for `ticker`'s trades, when it is watched.
    #[inline]
    pub fn sink_of(&self, ticker: &Ticker) -> Option<SinkId> {
        self.routes.get(ticker).map(|r| r.sink)
    }

    pub fn sink(&self, id: SinkId) -> Option<&S> {
        self.sinks.get(id.0)?.as_ref().map(|(s, _)| s)
    }

    pub fn market_of(&self, ticker: &Ticker) -> Option<Market> {
        self.routes.get(ticker).map(|r| r.market)
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Every watched ticker and its market.
    pub fn markets(&self) -> Vec<(Ticker, Market)> {
        self.routes.iter().map(|(t, r)| (*t, r.market)).collect()
    }

    /// `feed` now routes `ticker`'s trades to `to`.
    pub fn subscribe(&mut self, ticker: Ticker, market: Market, to: S, feed: FeedId) -> Subscribed {
        let sink = self.hold(to);
        let old = self.routes.insert(
            ticker,
            Route {
                market,
                sink,
                feed_id: feed,
            },
        );
        match old {
            None => Subscribed::New,
            Some(old) => {
                self.release(old.sink);
                if old.feed_id == feed {
                    Subscribed::Again
                } else {
                    Subscribed::TakenOver { from: old.feed_id }
                }
            }
        }
    }

    /// `feed` no longer watches `ticker`: the route is removed and its market returned
    /// (to unregister), unless a newer feed took it over.
    pub fn unsubscribe(&mut self, ticker: &Ticker, feed: FeedId) -> Option<Market> {
        if self.routes.get(ticker)?.feed_id != feed {
            return None;
        }
        let route = self.routes.remove(ticker)?;
        self.release(route.sink);
        Some(route.market)
    }

    /// Every route removed, with its market (to unregister).
    pub fn take_all(&mut self) -> Vec<(Ticker, Market)> {
        self.sinks.clear();
        self.routes.drain().map(|(t, r)| (t, r.market)).collect()
    }

    fn hold(&mut self, to: S) -> SinkId {
        if let Some(i) = self
            .sinks
            .iter()
            .position(|s| s.as_ref().is_some_and(|(held, _)| *held == to))
        {
            if let Some((_, routes)) = &mut self.sinks[i] {
                *routes += 1;
            }
            return SinkId(i);
        }
        let free = self.sinks.iter().position(Option::is_none);
        let i = free.unwrap_or(self.sinks.len());
        if i == self.sinks.len() {
            self.sinks.push(None);
        }
        self.sinks[i] = Some((to, 1));
        SinkId(i)
    }

    fn release(&mut self, id: SinkId) {
        if let Some(slot) = self.sinks.get_mut(id.0) {
            if let Some((_, routes)) = slot {
                *routes -= 1;
                if *routes == 0 {
                    *slot = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(code: &str) -> Ticker {
        Ticker::parse(code).unwrap()
    }

    #[test]
    fn one_sink_is_held_once_for_every_route_to_it() {
        let mut r = TickRoutes::default();
        assert_eq!(
            r.subscribe(t("005930"), Market::Kospi, "processor", FeedId(1)),
            Subscribed::New
        );
        assert_eq!(
            r.subscribe(t("000660"), Market::Kospi, "processor", FeedId(2)),
            Subscribed::New
        );
        let a = r.sink_of(&t("005930")).unwrap();
        assert_eq!(Some(a), r.sink_of(&t("000660")));
        assert_eq!(r.sink(a), Some(&"processor"));
        assert_eq!(r.sinks.len(), 1);
        assert_eq!(r.sink_of(&t("035720")), None, "not watched");
    }

    #[test]
    fn a_sink_no_route_names_is_let_go_and_its_place_reused() {
        let mut r = TickRoutes::default();
        r.subscribe(t("005930"), Market::Kospi, "old", FeedId(1));
        r.subscribe(t("000660"), Market::Kospi, "other", FeedId(2));
        assert_eq!(r.unsubscribe(&t("005930"), FeedId(1)), Some(Market::Kospi));
        assert_eq!(r.sinks[0], None, "no route sends to \"old\"");
        r.subscribe(t("035720"), Market::Kosdaq, "new", FeedId(3));
        let id = r.sink_of(&t("035720")).unwrap();
        assert_eq!((id, r.sink(id)), (SinkId(0), Some(&"new")));
        assert_eq!(r.sink(r.sink_of(&t("000660")).unwrap()), Some(&"other"));
    }

    #[test]
    fn a_feed_that_took_a_route_over_keeps_it_against_the_old_ones_unsubscribe() {
        let mut r = TickRoutes::default();
        r.subscribe(t("005930"), Market::Kospi, "p", FeedId(1));
        assert_eq!(
            r.subscribe(t("005930"), Market::Kospi, "p", FeedId(2)),
            Subscribed::TakenOver { from: FeedId(1) }
        );
        assert_eq!(r.unsubscribe(&t("005930"), FeedId(1)), None);
        assert!(r.sink_of(&t("005930")).is_some());
        assert_eq!(
            r.subscribe(t("005930"), Market::Kospi, "p", FeedId(2)),
            Subscribed::Again
        );
        assert_eq!(r.sinks, vec![Some(("p", 1))], "one route, one hold");
        assert_eq!(r.unsubscribe(&t("005930"), FeedId(2)), Some(Market::Kospi));
        assert!(r.is_empty());
        assert_eq!(r.sinks, vec![None]);
    }

    #[test]
    fn taking_all_returns_every_market_and_lets_every_sink_go() {
        let mut r = TickRoutes::default();
        r.subscribe(t("005930"), Market::Kospi, "p", FeedId(1));
        r.subscribe(t("035720"), Market::Kosdaq, "p", FeedId(2));
        let mut all = r.take_all();
        all.sort_by_key(|(t, _)| t.to_string());
        assert_eq!(
            all,
            vec![(t("005930"), Market::Kospi), (t("035720"), Market::Kosdaq)]
        );
        assert!(r.is_empty() && r.sinks.is_empty());
    }
}
