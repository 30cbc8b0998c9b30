//! Supervisor: turns the realtime condition feed into StockFeeds. Reads the broker's
//! stock master, starts the configured conditions at the broker (by name or key, through
//! [`crate::condition_search`]), takes their members now as enters and their alerts as
//! enters and exits, spawns one StockFeed per entering ticker (never two), and stops it
//! when the ticker leaves the condition and the engine holds nothing in it. Enforces the cap on
//! live feeds and replaces a feed that died.
//!
//! Answers [`GetLiveFeeds`] (each live feed with its name and start time) for `/status`.
//!
//! Owns the ticker → feed map and the stock master. Must never stop a feed whose ticker
//! still has a position or a working order, and never drop an enter silently: every
//! refused or invalid one is logged and counted.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use actix::prelude::*;

use crate::broker::{Broker, Listing};
use crate::broker_session::BrokerSession;
use crate::condition_search::{start_conditions, ConditionSearchError, StartedCondition};
use crate::journal::event::JournalEvent;
use crate::journal::Journal;
use crate::market::{Market, Ticker};
use crate::messages::{
    ConditionAlert, ConditionEnter, ConditionExit, ConditionId, Deliver, IsFlat, StockNames, Stop,
    TickerFlat,
};
use crate::processor::Processor;
use crate::stock_feed::StockFeed;
use crate::telemetry::Meters;
use crate::wire::realtime::JobFlag;

const LOG: &str = "condor::supervisor";

/// Counters a person (and the shutdown summary) reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SupervisorStats {
    pub live_feeds: usize,
    pub spawned: u64,
    pub stopped: u64,
    pub restarted: u64,
    pub refused_over_cap: u64,
    pub invalid_codes: u64,
    pub kept_while_holding: u64,
}

#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "SupervisorStats")]
pub struct GetSupervisorStats;

/// The live feeds, each with its name and when it started, and the names of `names_of`
/// (tickers held or traded without a feed), for `/status`.
#[derive(Clone, Debug, Default, Message)]
#[rtype(result = "LiveFeeds")]
pub struct GetLiveFeeds {
    pub names_of: Vec<Ticker>,
}

/// One live feed.
#[derive(Clone, Debug)]
pub struct LiveFeed {
    pub ticker: Ticker,
    /// The stock master's name (LS t8436 `hname`, Kiwoom ka10099 `name`).
    pub name: String,
    pub since: SystemTime,
    /// Ask it for its last price and tick count.
    pub feed: Addr<StockFeed>,
}

/// The answer to [`GetLiveFeeds`].
#[derive(Clone, Debug, Default, MessageResponse)]
pub struct LiveFeeds {
    /// By ticker.
    pub feeds: Vec<LiveFeed>,
    /// The names the stock master has for the tickers asked about.
    pub names: HashMap<Ticker, String>,
}

/// Stop every feed (shutdown): each unsubscribes in its `stopping()`.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "usize")]
pub struct StopAllFeeds;

/// Why starting the condition search failed.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error("cannot read the stock master: {0}")]
    StockMaster(#[from] crate::broker_account::AccountReadError),
    #[error(transparent)]
    Conditions(#[from] ConditionSearchError),
}

pub struct Supervisor {
    broker: Broker,
    session: Addr<BrokerSession>,
    processor: Addr<Processor>,
    /// The conditions to register, by name or query_index, [`ConditionId`] `i` being the
    /// `i`th.
    condition_names: Vec<String>,
    /// Each registration's alert number and its condition.
    alerts: HashMap<String, ConditionId>,
    max_feeds: usize,
    master: HashMap<Ticker, (Market, String)>,
    /// Each live feed and when it started.
    feeds: HashMap<Ticker, (Addr<StockFeed>, SystemTime)>,
    /// Tickers some condition lists now, with the conditions listing each. A ticker keeps
    /// one feed however many list it.
    in_condition: HashMap<Ticker, Vec<ConditionId>>,
    /// Tickers refused for the cap, in the order they entered: each gets a feed when one
    /// is freed, if it is still in the condition by then.
    waiting: VecDeque<Ticker>,
    /// Tickers held or with a working order at start (from the journal and the broker):
    /// watched as soon as the stock master is in, whatever the condition says, so their
    /// exits still happen.
    restore: Vec<Ticker>,
    /// Condition enters and exits are journaled (for the record and `condor journal`;
    /// nothing waits on them: watching a stock changes no account state).
    journal: Option<Journal>,
    /// Given the stock master's names once they are in (the Notifier's alerts use them).
    names_to: Option<Recipient<StockNames>>,
    stats: SupervisorStats,
    /// Set by [`StopAllFeeds`]: no feed starts after it, whatever the condition says.
    stopped: bool,
    meters: Option<Arc<Meters>>,
}

impl Supervisor {
    pub fn new(
        broker: impl Into<Broker>,
        session: Addr<BrokerSession>,
        processor: Addr<Processor>,
        condition_names: Vec<String>,
        max_feeds: usize,
    ) -> Supervisor {
        Supervisor {
            broker: broker.into(),
            session,
            processor,
            condition_names,
            alerts: HashMap::new(),
            max_feeds,
            master: HashMap::new(),
            feeds: HashMap::new(),
            in_condition: HashMap::new(),
            waiting: VecDeque::new(),
            restore: Vec::new(),
            journal: None,
            names_to: None,
            stats: SupervisorStats::default(),
            stopped: false,
            meters: None,
        }
    }

    /// Counts feed spawns, stops and refusals into `meters`, and hands them to each feed.
    pub fn with_meters(mut self, meters: Option<Arc<Meters>>) -> Supervisor {
        self.meters = meters;
        self
    }

    /// Watches `tickers` from the start (positions and working orders found at start):
    /// each gets its feed even if the condition no longer lists it, over the cap if need
    /// be, and keeps it until it is flat and out of the condition.
    pub fn with_restored(mut self, tickers: impl IntoIterator<Item = Ticker>) -> Supervisor {
        self.restore = tickers.into_iter().collect();
        self
    }

    /// Journals each condition enter and exit.
    pub fn with_journal(mut self, journal: Journal) -> Supervisor {
        self.journal = Some(journal);
        self
    }

    /// Sends the stock master's names to `to` once they are read (t8436).
    pub fn with_names_to(mut self, to: Option<Recipient<StockNames>>) -> Supervisor {
        self.names_to = to;
        self
    }

    fn restore_feeds(&mut self) {
        for ticker in std::mem::take(&mut self.restore) {
            if self.feeds.contains_key(&ticker) {
                continue;
            }
            match self.master.get(&ticker).cloned() {
                Some((market, name)) => {
                    log::info!(target: LOG, "{ticker} {name} held or working at start: watching until flat");
                    self.stats.kept_while_holding += 1;
                    self.spawn_feed(ticker, market);
                }
                None => log::error!(
                    target: LOG,
                    "{ticker} is held or working at start but not in the stock master: it cannot be watched, so its exits will not run"
                ),
            }
        }
    }

    /// The stock master, then each condition started at the broker, in the order named.
    async fn start_search(
        broker: Broker,
        session: Addr<BrokerSession>,
        names: Vec<String>,
        to: Recipient<ConditionAlert>,
    ) -> Result<(HashMap<Ticker, (Market, String)>, Vec<StartedCondition>), SupervisorError> {
        let master = broker
            .stock_master()
            .await?
            .into_iter()
            .map(
                |Listing {
                     ticker,
                     market,
                     name,
                 }| (ticker, (market, name)),
            )
            .collect();
        let started = start_conditions(&broker, &session, &names, to).await?;
        Ok((master, started))
    }

    fn spawn_feed(&mut self, ticker: Ticker, market: Market) {
        if self.stopped {
            log::debug!(target: LOG, "{ticker} not watched: shutting down");
            return;
        }
        let feed = StockFeed::new(
            ticker,
            market,
            self.session.clone(),
            self.processor.clone().recipient(),
        )
        .start();
        self.feeds.insert(ticker, (feed, SystemTime::now()));
        self.stats.spawned += 1;
        if let Some(m) = &self.meters {
            m.feed_spawns.inc();
            m.live_feeds.set(self.feeds.len() as i64);
        }
    }

    fn stop_feed(&mut self, ticker: Ticker, reason: &'static str) {
        if let Some((feed, _)) = self.feeds.remove(&ticker) {
            feed.do_send(Stop { reason });
            self.stats.stopped += 1;
            if let Some(m) = &self.meters {
                m.feed_stops.inc();
                m.live_feeds.set(self.feeds.len() as i64);
            }
        }
        if reason != "shutdown" {
            self.admit_waiting();
        }
    }

    /// Gives freed feed slots to the tickers refused for the cap that are still in the
    /// condition, first come first served.
    fn admit_waiting(&mut self) {
        while self.feeds.len() < self.max_feeds {
            let Some(ticker) = self.waiting.pop_front() else {
                return;
            };
            if !self.is_listed(ticker) || self.feeds.contains_key(&ticker) {
                continue;
            }
            if let Some((market, name)) = self.master.get(&ticker).cloned() {
                log::info!(target: LOG, "{ticker} {name} waited for a free feed: watching");
                self.spawn_feed(ticker, market);
            }
        }
    }

    /// A condition's members at its start, each as an enter.
    fn enter_members(&mut self, c: ConditionId, codes: &[String]) {
        let mut entered = 0;
        for code in codes {
            match Ticker::parse_isu_no(code.trim()) {
                Ok(t) => {
                    entered += 1;
                    self.on_enter(c, t);
                }
                Err(e) => {
                    self.stats.invalid_codes += 1;
                    log::warn!(target: LOG, "condition #{} listed an invalid code {code:?}: {e}", c.0);
                }
            }
        }
        log::info!(target: LOG, "{entered} stocks in condition #{} at start", c.0);
    }

    /// Some condition lists `ticker` now.
    fn is_listed(&self, ticker: Ticker) -> bool {
        self.in_condition
            .get(&ticker)
            .is_some_and(|c| !c.is_empty())
    }

    fn on_enter(&mut self, c: ConditionId, ticker: Ticker) {
        let listing = self.in_condition.entry(ticker).or_default();
        // The ticker was listed by no condition: a feed refused for the cap waits once.
        let newly = listing.is_empty();
        if !listing.contains(&c) {
            listing.push(c);
            if let Some(j) = &self.journal {
                j.record(JournalEvent::ConditionEnter { ticker });
            }
        }
        self.processor.do_send(Deliver(ConditionEnter {
            ticker,
            condition: c,
        }));
        if self.feeds.contains_key(&ticker) {
            return; // N after R, or a repeat: one feed per ticker
        }
        let Some((market, name)) = self.master.get(&ticker).cloned() else {
            self.stats.invalid_codes += 1;
            log::warn!(target: LOG, "{ticker} entered the condition but is not in the stock master; ignored");
            return;
        };
        if self.feeds.len() >= self.max_feeds {
            if !newly {
                return; // a repeat of an enter already refused and waiting
            }
            self.stats.refused_over_cap += 1;
            if let Some(m) = &self.meters {
                m.feed_refusals.inc();
            }
            self.waiting.push_back(ticker);
            log::warn!(
                target: LOG,
                "{ticker} {name} entered but {} feeds are live (cap {}); not watched until a feed is freed (refused #{})",
                self.feeds.len(),
                self.max_feeds,
                self.stats.refused_over_cap
            );
            return;
        }
        if self.stopped {
            return;
        }
        log::info!(target: LOG, "{ticker} {name} entered the condition: watching");
        self.spawn_feed(ticker, market);
    }

    fn on_exit(&mut self, c: ConditionId, ticker: Ticker, ctx: &mut Context<Self>) {
        if let Some(listing) = self.in_condition.get_mut(&ticker) {
            if let Some(at) = listing.iter().position(|x| *x == c) {
                listing.remove(at);
                if let Some(j) = &self.journal {
                    j.record(JournalEvent::ConditionExit { ticker });
                }
            }
            if listing.is_empty() {
                self.in_condition.remove(&ticker);
            }
        }
        self.processor.do_send(Deliver(ConditionExit {
            ticker,
            condition: c,
        }));
        if !self.feeds.contains_key(&ticker) || self.is_listed(ticker) {
            return; // another condition still lists it: the feed stays
        }
        // Ask whoever knows the position; the feed stays until the answer says flat. The
        // mailbox goes on meanwhile (a re-enter is seen by the answer's in_condition check).
        let ask = self
            .processor
            .send(IsFlat { ticker })
            .into_actor(self)
            .map(move |flat, act, _| match flat {
                Ok(true) if !act.is_listed(ticker) => {
                    log::info!(target: LOG, "{ticker} left the condition: feed stopped");
                    act.stop_feed(ticker, "left the condition");
                }
                Ok(true) => {} // entered again meanwhile
                Ok(false) | Err(_) => {
                    act.stats.kept_while_holding += 1;
                    log::info!(target: LOG, "{ticker} left the condition while held: feed kept until flat");
                }
            });
        ctx.spawn(ask);
    }
}

impl Actor for Supervisor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let names = self.condition_names.clone();
        let to = ctx.address().recipient();
        Self::start_search(self.broker.clone(), self.session.clone(), names, to)
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok((master, started)) => {
                    if let Some(to) = &act.names_to {
                        let names = master.iter().map(|(t, (_, n))| (*t, n.clone())).collect();
                        to.do_send(StockNames { names });
                    }
                    act.master = master;
                    act.restore_feeds();
                    for (i, cond) in started.into_iter().enumerate() {
                        let c = ConditionId(u8::try_from(i).unwrap_or(u8::MAX));
                        log::info!(
                            target: LOG,
                            "condition #{i} {:?} ({}) started, its alerts keyed {}; {} stocks in the master",
                            cond.configured,
                            cond.key,
                            cond.alert_key,
                            act.master.len()
                        );
                        act.alerts.insert(cond.alert_key, c);
                        if let Some(codes) = cond.members {
                            act.enter_members(c, &codes);
                        }
                    }
                }
                Err(e) => {
                    log::error!(target: LOG, "cannot start condition search: {e}");
                    ctx.stop();
                }
            })
            .wait(ctx);
        // A feed that died (a panic in a handler) is replaced.
        ctx.run_interval(Duration::from_secs(1), |act, _| {
            let dead: Vec<Ticker> = act
                .feeds
                .iter()
                .filter(|(_, (a, _))| !a.connected())
                .map(|(t, _)| *t)
                .collect();
            for t in dead {
                if let Some((market, _)) = act.master.get(&t).cloned() {
                    log::warn!(target: LOG, "{t} feed died: restarting it");
                    act.stats.restarted += 1;
                    act.spawn_feed(t, market);
                }
            }
        });
    }
}

impl Handler<ConditionAlert> for Supervisor {
    type Result = ();
    fn handle(&mut self, msg: ConditionAlert, ctx: &mut Context<Self>) {
        let Ok(ticker) = Ticker::parse_isu_no(msg.code.trim()) else {
            self.stats.invalid_codes += 1;
            log::warn!(target: LOG, "condition alert for an invalid code {:?} ignored (#{})", msg.code, self.stats.invalid_codes);
            return;
        };
        let Some(&c) = self.alerts.get(&msg.alert_num) else {
            log::warn!(target: LOG, "condition alert for an unknown registration {:?} ignored", msg.alert_num);
            return;
        };
        match msg.job {
            JobFlag::Enter | JobFlag::Reenter => self.on_enter(c, ticker),
            JobFlag::Exit => self.on_exit(c, ticker, ctx),
        }
    }
}

impl Handler<TickerFlat> for Supervisor {
    type Result = ();
    fn handle(&mut self, msg: TickerFlat, _: &mut Context<Self>) {
        if !self.is_listed(msg.ticker) {
            log::info!(target: LOG, "{} is flat and out of every condition: feed stopped", msg.ticker);
            self.stop_feed(msg.ticker, "flat after leaving the condition");
        }
    }
}

impl Handler<GetSupervisorStats> for Supervisor {
    type Result = MessageResult<GetSupervisorStats>;
    fn handle(&mut self, _: GetSupervisorStats, _: &mut Context<Self>) -> Self::Result {
        let mut s = self.stats;
        s.live_feeds = self.feeds.len();
        MessageResult(s)
    }
}

impl Handler<GetLiveFeeds> for Supervisor {
    type Result = LiveFeeds;
    fn handle(&mut self, msg: GetLiveFeeds, _: &mut Context<Self>) -> LiveFeeds {
        let name = |t: &Ticker| self.master.get(t).map(|(_, n)| n.clone());
        let mut feeds: Vec<LiveFeed> = self
            .feeds
            .iter()
            .map(|(t, (feed, since))| LiveFeed {
                ticker: *t,
                name: name(t).unwrap_or_default(),
                since: *since,
                feed: feed.clone(),
            })
            .collect();
        feeds.sort_by_key(|f| f.ticker);
        let names = msg
            .names_of
            .iter()
            .filter_map(|t| Some((*t, name(t)?)))
            .collect();
        LiveFeeds { feeds, names }
    }
}

impl Handler<StopAllFeeds> for Supervisor {
    type Result = usize;
    fn handle(&mut self, _: StopAllFeeds, _: &mut Context<Self>) -> usize {
        self.stopped = true;
        let tickers: Vec<Ticker> = self.feeds.keys().copied().collect();
        for t in &tickers {
            self.stop_feed(*t, "shutdown");
        }
        tickers.len()
    }
}

impl Handler<crate::messages::Retire> for Supervisor {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Retire, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
