//! Supervisor: turns the realtime condition feed into StockFeeds. Finds the configured
//! condition by name (t1866), registers it (t1860 → `sAlertNum`), watches its AFR
//! frames, spawns one StockFeed per entering ticker (never two), and stops it when the
//! ticker leaves the condition and the engine holds nothing in it. Enforces the cap on
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

use crate::broker_session::BrokerSession;
use crate::journal::event::JournalEvent;
use crate::journal::Journal;
use crate::ls_rest::{LsError, LsRest};
use crate::market::{Market, Ticker};
use crate::messages::{
    ConditionAlert, ConditionEnter, ConditionExit, ConditionId, Deliver, IsFlat, StockNames, Stop,
    TickerFlat, WatchCondition,
};
use crate::processor::Processor;
use crate::stock_feed::StockFeed;
use crate::telemetry::Meters;
use crate::wire::market_data::{T8436InBlock, T8436};
use crate::wire::realtime::JobFlag;
use crate::wire::rest::Tr;
use crate::wire::search::{T1859InBlock, T1860InBlock, T1866InBlock, T1859, T1860, T1866};

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
    /// The stock master's name (t8436 `hname`).
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

/// Why starting the condition failed.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    #[error(transparent)]
    Broker(#[from] LsError),
    #[error("no condition named {name:?} (t1866 lists: {known})")]
    UnknownCondition { name: String, known: String },
    #[error("t1860 refused to register condition {query_index}: [{code}] {msg}")]
    RegisterRefused {
        query_index: String,
        code: String,
        msg: String,
    },
}

pub struct Supervisor {
    rest: LsRest,
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
        rest: LsRest,
        session: Addr<BrokerSession>,
        processor: Addr<Processor>,
        condition_names: Vec<String>,
        max_feeds: usize,
    ) -> Supervisor {
        Supervisor {
            rest,
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

    /// The condition's members right now (t1859): the realtime alerts (AFR) report only
    /// changes, so a start (or a restart) learns who is already in from this. A failure is
    /// logged, not fatal: the alerts still bring every later change.
    fn load_members(&mut self, c: ConditionId, query_index: String, ctx: &mut Context<Self>) {
        let rest = self.rest.clone();
        ctx.spawn(
            async move {
                rest.call::<T1859>(&T1859InBlock {
                    query_index: query_index.clone(),
                })
                .await
            }
            .into_actor(self)
            .map(move |reply, act, _| match reply {
                Ok(r) if T1859::succeeded(&r) => {
                    let mut entered = 0;
                    for row in &r.blocks.out_block1 {
                        match row.ticker() {
                            Ok(t) => {
                                entered += 1;
                                act.on_enter(c, t);
                            }
                            Err(e) => {
                                act.stats.invalid_codes += 1;
                                log::warn!(target: LOG, "t1859 listed an invalid code: {e}");
                            }
                        }
                    }
                    log::info!(target: LOG, "{entered} stocks in condition #{} at start (t1859)", c.0);
                }
                Ok(r) => log::warn!(target: LOG, "t1859 refused [{}] {}; only later changes will be watched", r.rsp_cd, r.rsp_msg.trim()),
                Err(e) => log::warn!(target: LOG, "cannot list the condition's members (t1859): {e}; only later changes will be watched"),
            }),
        );
    }

    /// Stock master (t8436) and each condition's registration (t1866, t1860): per
    /// condition, its query_index and alert number, in the order named.
    async fn register_conditions(
        rest: LsRest,
        names: Vec<String>,
    ) -> Result<(HashMap<Ticker, (Market, String)>, Vec<(String, String)>), SupervisorError> {
        let list = rest
            .call::<T8436>(&T8436InBlock { gubun: "0".into() })
            .await?;
        let mut master = HashMap::new();
        for s in &list.blocks.out_block {
            let market = if s.gubun == "2" {
                Market::Kosdaq
            } else {
                Market::Kospi
            };
            if let Ok(t) = Ticker::parse(&s.shcode) {
                master.insert(t, (market, s.hname.clone()));
            }
        }
        let conds = rest
            .call::<T1866>(&T1866InBlock {
                gb: "0".into(),
                ..Default::default()
            })
            .await?;
        let mut registered = Vec::new();
        for name in names {
            let Some(cond) = conds.blocks.out_block1.iter().find(|c| {
                c.query_name.trim() == name.trim() || c.query_index.trim() == name.trim()
            }) else {
                let known: Vec<String> = conds
                    .blocks
                    .out_block1
                    .iter()
                    .map(|c| format!("{} {:?}", c.query_index, c.query_name))
                    .collect();
                return Err(SupervisorError::UnknownCondition {
                    name,
                    known: known.join(", "),
                });
            };
            let reg = rest
                .call::<T1860>(&T1860InBlock {
                    s_sys_user_flag: "U".into(),
                    s_flag: "E".into(),
                    s_alert_num: String::new(),
                    query_index: cond.query_index.clone(),
                })
                .await?;
            let out = reg.blocks.out_block.unwrap_or_default();
            if out.s_result_flag != "S" || out.s_alert_num.trim().is_empty() {
                return Err(SupervisorError::RegisterRefused {
                    query_index: cond.query_index.clone(),
                    code: reg.rsp_cd,
                    msg: reg.rsp_msg,
                });
            }
            registered.push((cond.query_index.clone(), out.s_alert_num.trim().to_owned()));
        }
        Ok((master, registered))
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
        .with_meters(self.meters.clone())
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
        let rest = self.rest.clone();
        let names = self.condition_names.clone();
        Self::register_conditions(rest, names)
            .into_actor(self)
            .map(|res, act, ctx| match res {
                Ok((master, registered)) => {
                    if let Some(to) = &act.names_to {
                        let names = master.iter().map(|(t, (_, n))| (*t, n.clone())).collect();
                        to.do_send(StockNames { names });
                    }
                    act.master = master;
                    act.restore_feeds();
                    for (i, (query_index, alert_num)) in registered.into_iter().enumerate() {
                        let c = ConditionId(u8::try_from(i).unwrap_or(u8::MAX));
                        log::info!(
                            target: LOG,
                            "condition #{i} {:?} ({query_index}) registered as {alert_num}; {} stocks in the master",
                            act.condition_names[i],
                            act.master.len()
                        );
                        act.alerts.insert(alert_num.clone(), c);
                        act.session.do_send(WatchCondition {
                            alert_num,
                            to: ctx.address().recipient(),
                        });
                        act.load_members(c, query_index, ctx);
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
