//! Kiwoom's websocket (reference §5) as the BrokerSession speaks it, as plain logic the
//! actor drives: which frame a subscribe, an unsubscribe, an account watch, a condition
//! list or start asks for and when it may go, what an incoming frame means for the
//! session ([`Step`]), and the condition membership the session last knew, diffed against
//! the snapshot a reconnect brings so that a gap loses no enter or exit.
//!
//! Order of play per connection: LOGIN first; REG, CNSRLST and CNSRREQ only once it is
//! answered; CNSRREQ only once the connection's CNSRLST is answered (the reference: the
//! list must be requested first; whether sending both at once would do is UNCONFIRMED, so
//! the answer is awaited). A server PING is echoed as it came. Trades are REG'd one
//! ticker a frame in group [`TRADE_GROUP`] with `refresh "1"` (registrations add up), the
//! account's `00`/`04` in [`ACCOUNT_GROUP`].
//!
//! Owns what this login has asked of Kiwoom: the tickers and account to keep registered,
//! the started conditions and their members, the requests waiting for an answer, and what
//! is unanswered on the current connection. Must never do I/O (it returns frames and
//! deliveries; the actor carries them out) and never carry an answer over from one
//! connection to the next: what was unanswered when a connection ended is asked again on
//! the next.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Instant;

use condor_model::kiwoom::realtime::{
    decode_server_frame, ClientFrame, ConditionChange, ConditionRequest, ConditionSearch,
    RealEntry, RealValues, Registration, ServerFrame, Status,
};
use condor_model::kiwoom::rest::{Refusal, Retry, RC_WS_LOGIN};
use tokio::sync::oneshot;

use crate::market::Ticker;
use crate::messages::{AccountEvent, ConditionAlert, SavedCondition, SessionRefusal, Tick};
use crate::reconcile::BrokerHolding;
use crate::wire::realtime::JobFlag;
use crate::wire::WireError;

/// REG group of the trade feeds (the reference's sample uses `"1"`).
pub(crate) const TRADE_GROUP: &str = "1";
/// REG group of the account feeds `00`/`04` (the reference's sample uses `"2"`).
pub(crate) const ACCOUNT_GROUP: &str = "2";

/// Where a [`crate::messages::ListConditions`] is answered.
pub(crate) type ListAnswer = oneshot::Sender<Result<Vec<SavedCondition>, SessionRefusal>>;
/// Where a [`crate::messages::StartCondition`] is answered.
pub(crate) type StartAnswer = oneshot::Sender<Result<Vec<String>, SessionRefusal>>;

/// What the actor does with a frame or a request. `To` is where a condition's alerts go.
pub(crate) enum Step<To> {
    /// Send this text frame.
    Send(String),
    /// Route a trade as the LS path routes its trades.
    Tick(Tick),
    /// To the account watcher.
    Account(AccountEvent),
    /// To the holdings watcher.
    Holding(BrokerHolding),
    /// A condition's enter or exit, to its watcher.
    Alert(To, ConditionAlert),
    /// The account feed's REG was acknowledged: the feed is live from here, what came
    /// before (a gap) must be asked of the broker.
    AccountLive,
    /// The LOGIN was accepted; the registrations follow in the same steps.
    LoggedIn,
    /// The LOGIN was refused; `for_token` when a new token may help. The server closes.
    LoginRefused { refusal: Refusal, for_token: bool },
    /// The broker refused `what` (for the log).
    Refused { what: String, refusal: Refusal },
    /// A frame, or one entry of it, that could not be read.
    Malformed(WireError),
    /// A 0B trade that could not be read, and its ticker when the item names one (a bad
    /// feed is logged once per ticker, then counted, as on LS's wire).
    MalformedTrade(Option<Ticker>, WireError),
    /// A push for a condition this session has not started.
    Unrouted,
    /// A SYSTEM frame (the server closes after it).
    Notice(String),
    /// Every REMOVE and CNSRCLR of the shutdown is answered: the socket may close (closed
    /// earlier, the unread answers would reset the connection and could take the last
    /// frames with them).
    Closed,
}

/// A LOGIN refusal a new token may cure: Kiwoom's token code 8005 (`[CODE=8005, …]`), or
/// the LOGIN failure code 805004 whatever its inner code (captures show it only for bad
/// tokens; UNCONFIRMED, so the one renewal is spent on it rather than not at all).
pub(crate) fn is_token_refusal(status: &Status) -> bool {
    status.return_code == RC_WS_LOGIN
        || status
            .refusal()
            .is_some_and(|r| r.retry() == Retry::NewToken)
}

/// Enters and exits that take `known` to `now`: exits first (a slot freed before one is
/// taken), each in code order.
pub(crate) fn membership_changes(
    known: &BTreeSet<Ticker>,
    now: &BTreeSet<Ticker>,
) -> Vec<(Ticker, JobFlag)> {
    let exits = known.difference(now).map(|t| (*t, JobFlag::Exit));
    let enters = now.difference(known).map(|t| (*t, JobFlag::Enter));
    exits.chain(enters).collect()
}

/// What a REG or REMOVE was for: their answers name nothing, so they are read in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Feed {
    Trades(Ticker),
    Account,
}

impl Feed {
    fn words(self, trnm: &str) -> String {
        match self {
            Feed::Trades(t) => format!("{trnm} 0B {t}"),
            Feed::Account => format!("{trnm} 00/04 (account)"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Login {
    /// No connection.
    Down,
    /// LOGIN sent, not answered.
    Asked,
    /// LOGIN accepted.
    In,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Listing {
    NotAsked,
    Asked,
    Done,
}

/// A condition running in realtime: who hears of it and its members as last known
/// (snapshot plus pushes).
struct Started<To> {
    to: To,
    members: BTreeSet<Ticker>,
}

/// A start asked for and not yet answered.
struct Starting<To> {
    to: To,
    answers: Vec<StartAnswer>,
}

/// One Kiwoom login's state, across its connections.
pub(crate) struct Link<To> {
    login: Login,
    listing: Listing,
    tickers: BTreeSet<Ticker>,
    account: bool,
    /// REG / REMOVE frames sent on this connection and not yet answered, in order.
    regs: VecDeque<Feed>,
    removes: VecDeque<Feed>,
    started: BTreeMap<String, Started<To>>,
    starting: BTreeMap<String, Starting<To>>,
    lists: Vec<ListAnswer>,
    /// Conditions CNSRREQ'd on this connection, and those of them still unanswered.
    requested: BTreeSet<String>,
    searching: BTreeSet<String>,
    /// Answers still due to the shutdown's REMOVEs and CNSRCLRs.
    closing: usize,
}

impl<To: Clone> Default for Link<To> {
    fn default() -> Self {
        Link::new()
    }
}

fn frame(f: ClientFrame) -> String {
    f.encode()
}

impl<To: Clone> Link<To> {
    pub(crate) fn new() -> Link<To> {
        Link {
            login: Login::Down,
            listing: Listing::NotAsked,
            tickers: BTreeSet::new(),
            account: false,
            regs: VecDeque::new(),
            removes: VecDeque::new(),
            started: BTreeMap::new(),
            starting: BTreeMap::new(),
            lists: Vec::new(),
            requested: BTreeSet::new(),
            searching: BTreeSet::new(),
            closing: 0,
        }
    }

    /// Conditions are running: the link should carry frames (their pushes, the PINGs).
    pub(crate) fn has_conditions(&self) -> bool {
        !self.started.is_empty()
    }

    /// A new connection: LOGIN with `token`, nothing else until it is answered.
    pub(crate) fn connected(&mut self, token: &str) -> Vec<String> {
        self.disconnected();
        self.login = Login::Asked;
        vec![frame(ClientFrame::login(token))]
    }

    /// The connection ended: what it left unanswered is asked again on the next one
    /// (its answers can never come now).
    pub(crate) fn disconnected(&mut self) {
        self.login = Login::Down;
        self.listing = Listing::NotAsked;
        self.regs.clear();
        self.removes.clear();
        self.requested.clear();
        self.searching.clear();
    }

    fn reg(&mut self, feed: Feed) -> String {
        self.regs.push_back(feed);
        frame(ClientFrame::Reg(match feed {
            Feed::Trades(t) => Registration::trades(TRADE_GROUP, &[t]),
            Feed::Account => Registration::account(ACCOUNT_GROUP),
        }))
    }

    fn remove(&mut self, feed: Feed) -> String {
        self.removes.push_back(feed);
        frame(ClientFrame::Remove(match feed {
            Feed::Trades(t) => Registration::remove_trades(TRADE_GROUP, &[t]),
            Feed::Account => remove_account(),
        }))
    }

    /// Keep `ticker`'s trades registered (one registration per ticker, however often
    /// asked).
    pub(crate) fn subscribe(&mut self, ticker: Ticker) -> Vec<String> {
        if !self.tickers.insert(ticker) || self.login != Login::In {
            return Vec::new();
        }
        vec![self.reg(Feed::Trades(ticker))]
    }

    pub(crate) fn unsubscribe(&mut self, ticker: Ticker) -> Vec<String> {
        if !self.tickers.remove(&ticker) || self.login != Login::In {
            return Vec::new();
        }
        vec![self.remove(Feed::Trades(ticker))]
    }

    /// Keep the account feeds `00` and `04` registered.
    pub(crate) fn watch_account(&mut self) -> Vec<String> {
        if std::mem::replace(&mut self.account, true) || self.login != Login::In {
            return Vec::new();
        }
        vec![self.reg(Feed::Account)]
    }

    /// List the saved conditions; answered on `answer` once the broker replies.
    pub(crate) fn list(&mut self, answer: ListAnswer) -> Vec<String> {
        self.lists.push(answer);
        if self.login == Login::In && self.listing != Listing::Asked {
            self.listing = Listing::Asked;
            return vec![frame(ClientFrame::ConditionList)];
        }
        Vec::new()
    }

    /// Start condition `key` for `to`; answered on `answer` with its members now.
    pub(crate) fn start(&mut self, key: &str, to: To, answer: StartAnswer) -> Vec<String> {
        let key = key.trim();
        if let Some(s) = self.started.get_mut(key) {
            if !self.searching.contains(key) && !self.starting.contains_key(key) {
                s.to = to;
                let _ = answer.send(Ok(codes(&s.members)));
                return Vec::new();
            }
        }
        let entry = self
            .starting
            .entry(key.to_owned())
            .or_insert_with(|| Starting {
                to: to.clone(),
                answers: Vec::new(),
            });
        entry.to = to;
        entry.answers.push(answer);
        self.searches()
    }

    /// CNSRLST if the connection has not had it, else a CNSRREQ for every condition
    /// wanted and not yet asked on this connection.
    fn searches(&mut self) -> Vec<String> {
        if self.login != Login::In {
            return Vec::new();
        }
        match self.listing {
            Listing::Asked => Vec::new(),
            Listing::NotAsked => {
                self.listing = Listing::Asked;
                vec![frame(ClientFrame::ConditionList)]
            }
            Listing::Done => {
                let wanted: Vec<String> = self
                    .started
                    .keys()
                    .chain(self.starting.keys())
                    .filter(|k| !self.requested.contains(*k))
                    .cloned()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                wanted
                    .into_iter()
                    .map(|key| {
                        let f = frame(ClientFrame::ConditionSearch(ConditionRequest::realtime(
                            &key,
                        )));
                        self.requested.insert(key.clone());
                        self.searching.insert(key);
                        f
                    })
                    .collect()
            }
        }
    }

    /// Unregister everything and answer every waiting request: the session is closing.
    /// Nothing is sent when not logged in (nothing is registered then). Once every frame
    /// sent is answered, [`Step::Closed`] says so.
    pub(crate) fn shutdown(&mut self) -> Vec<String> {
        for a in self.lists.drain(..) {
            let _ = a.send(Err(SessionRefusal::ShutDown {
                request: "CNSRLST".into(),
            }));
        }
        for (key, s) in std::mem::take(&mut self.starting) {
            for a in s.answers {
                let _ = a.send(Err(SessionRefusal::ShutDown {
                    request: format!("CNSRREQ {key}"),
                }));
            }
        }
        let tickers: Vec<Ticker> = std::mem::take(&mut self.tickers).into_iter().collect();
        let account = std::mem::take(&mut self.account);
        let mut running: BTreeSet<String> = std::mem::take(&mut self.started).into_keys().collect();
        // A start asked on this connection may be running at the server already.
        running.extend(std::mem::take(&mut self.requested));
        let logged_in = self.login == Login::In;
        self.disconnected();
        if !logged_in {
            return Vec::new();
        }
        let mut steps = Vec::new();
        if !tickers.is_empty() {
            steps.push(frame(ClientFrame::Remove(Registration::remove_trades(
                TRADE_GROUP,
                &tickers,
            ))));
        }
        if account {
            steps.push(frame(ClientFrame::Remove(remove_account())));
        }
        for seq in running {
            steps.push(frame(ClientFrame::ConditionClear { seq }));
        }
        self.closing = steps.len();
        steps
    }

    /// An answer to a REMOVE or CNSRCLR while closing: [`Step::Closed`] after the last.
    fn close_answered(&mut self, steps: &mut Vec<Step<To>>) {
        if self.closing > 0 {
            self.closing -= 1;
            if self.closing == 0 {
                steps.push(Step::Closed);
            }
        }
    }

    /// What an incoming frame means, read at `received_at`.
    pub(crate) fn on_text(&mut self, text: &str, received_at: Instant) -> Vec<Step<To>> {
        let incoming = match decode_server_frame(text) {
            Ok(f) => f,
            Err(e) => return vec![Step::Malformed(e)],
        };
        match incoming {
            // Echoed as it came, whenever it comes (it may precede the LOGIN answer).
            ServerFrame::Ping(raw) => vec![Step::Send(frame(ClientFrame::echo(&raw)))],
            ServerFrame::Login(status) => self.on_login(&status),
            ServerFrame::Reg(status) => {
                let feed = self.regs.pop_front();
                match (status.refusal(), feed) {
                    (None, Some(Feed::Account)) => vec![Step::AccountLive],
                    (None, _) => Vec::new(),
                    (Some(refusal), feed) => vec![Step::Refused {
                        what: feed.map_or_else(|| "REG".to_owned(), |f| f.words("REG")),
                        refusal,
                    }],
                }
            }
            ServerFrame::Remove(status) => {
                let feed = self.removes.pop_front();
                let mut steps = match status.refusal() {
                    None => Vec::new(),
                    Some(refusal) => vec![Step::Refused {
                        what: feed.map_or_else(|| "REMOVE".to_owned(), |f| f.words("REMOVE")),
                        refusal,
                    }],
                };
                self.close_answered(&mut steps);
                steps
            }
            ServerFrame::Real(entries) => entries
                .iter()
                .filter_map(|e| self.on_entry(e, received_at))
                .collect(),
            ServerFrame::ConditionList(list) => {
                if self.listing != Listing::Asked {
                    return Vec::new(); // not asked on this connection
                }
                match list.status.refusal() {
                    None => {
                        self.listing = Listing::Done;
                        let saved: Vec<SavedCondition> = list
                            .conditions
                            .iter()
                            .map(|c| SavedCondition {
                                key: c.seq.trim().to_owned(),
                                name: c.name.trim().to_owned(),
                            })
                            .collect();
                        for a in self.lists.drain(..) {
                            let _ = a.send(Ok(saved.clone()));
                        }
                        sends(self.searches())
                    }
                    Some(refusal) => self.list_refused(refusal),
                }
            }
            ServerFrame::ConditionSearch(search) => self.on_search(search),
            ServerFrame::ConditionClear { seq, status } => {
                let mut steps = match status.refusal() {
                    None => Vec::new(),
                    Some(refusal) => vec![Step::Refused {
                        what: format!("CNSRCLR {seq}"),
                        refusal,
                    }],
                };
                self.close_answered(&mut steps);
                steps
            }
            ServerFrame::System(n) => vec![Step::Notice(format!("{}: {}", n.code, n.message))],
        }
    }

    fn on_login(&mut self, status: &Status) -> Vec<Step<To>> {
        if self.login != Login::Asked {
            return Vec::new();
        }
        if let Some(refusal) = status.refusal() {
            self.login = Login::Down;
            return vec![Step::LoginRefused {
                for_token: is_token_refusal(status),
                refusal,
            }];
        }
        self.login = Login::In;
        let mut steps = vec![Step::LoggedIn];
        let tickers: Vec<Ticker> = self.tickers.iter().copied().collect();
        for t in tickers {
            steps.push(Step::Send(self.reg(Feed::Trades(t))));
        }
        if self.account {
            steps.push(Step::Send(self.reg(Feed::Account)));
        }
        let conditions = if !self.lists.is_empty() {
            self.listing = Listing::Asked;
            vec![frame(ClientFrame::ConditionList)]
        } else {
            self.searches_if_any()
        };
        steps.extend(sends(conditions));
        steps
    }

    fn searches_if_any(&mut self) -> Vec<String> {
        if self.started.is_empty() && self.starting.is_empty() {
            return Vec::new();
        }
        self.searches()
    }

    /// CNSRLST refused: its askers are told; starts that needed it fail; running
    /// conditions cannot be asked again on this connection (logged; the next tries).
    fn list_refused(&mut self, refusal: Refusal) -> Vec<Step<To>> {
        self.listing = Listing::NotAsked;
        let broker = |request: &str| SessionRefusal::Broker {
            request: request.to_owned(),
            refusal: refusal.clone(),
        };
        for a in self.lists.drain(..) {
            let _ = a.send(Err(broker("CNSRLST")));
        }
        for (_, s) in std::mem::take(&mut self.starting) {
            for a in s.answers {
                let _ = a.send(Err(broker("CNSRLST (needed before CNSRREQ)")));
            }
        }
        vec![Step::Refused {
            what: "CNSRLST".into(),
            refusal,
        }]
    }

    fn on_search(&mut self, search: ConditionSearch) -> Vec<Step<To>> {
        let key = search.seq.trim().to_owned();
        if !self.searching.remove(&key) {
            return Vec::new(); // not asked on this connection (or a one-shot's page)
        }
        let starting = self.starting.remove(&key);
        if let Some(refusal) = search.status.refusal() {
            let mut steps = Vec::new();
            match starting {
                Some(s) => {
                    for a in s.answers {
                        let _ = a.send(Err(SessionRefusal::Broker {
                            request: format!("CNSRREQ {key}"),
                            refusal: refusal.clone(),
                        }));
                    }
                }
                None => steps.push(Step::Refused {
                    what: format!("CNSRREQ {key} (started again after a reconnect)"),
                    refusal,
                }),
            }
            return steps;
        }
        let mut steps = Vec::new();
        let mut now = BTreeSet::new();
        for t in search.tickers() {
            match t {
                Ok(t) => {
                    now.insert(t);
                }
                Err(e) => steps.push(Step::Malformed(e)),
            }
        }
        let to = match &starting {
            Some(s) => s.to.clone(),
            None => match self.started.get(&key) {
                Some(s) => s.to.clone(),
                None => return steps,
            },
        };
        // Started before (a reconnect, or asked again): what changed since is told.
        if let Some(before) = self.started.get(&key) {
            for (ticker, job) in membership_changes(&before.members, &now) {
                steps.push(Step::Alert(to.clone(), alert(&key, ticker, job)));
            }
        }
        if let Some(s) = starting {
            for a in s.answers {
                let _ = a.send(Ok(codes(&now)));
            }
        }
        self.started.insert(key, Started { to, members: now });
        steps
    }

    fn on_entry(&mut self, e: &RealEntry, received_at: Instant) -> Option<Step<To>> {
        Some(match &e.values {
            RealValues::Trade(v) => match v.to_tick(&e.item, received_at) {
                Ok(t) => Step::Tick(t),
                Err(err) => Step::MalformedTrade(condor_model::kiwoom::parse_code(&e.item), err),
            },
            RealValues::Order(v) => match v.account_event(&e.item) {
                Ok(ev) => Step::Account(ev),
                Err(err) => Step::Malformed(err),
            },
            RealValues::Balance(v) => match v.holding(&e.item) {
                Ok(h) => Step::Holding(BrokerHolding {
                    ticker: h.ticker,
                    qty: h.qty,
                    avg_price: h.avg_price,
                }),
                Err(err) => Step::Malformed(err),
            },
            RealValues::Condition(v) => match v.push(&e.item) {
                Ok(push) => match self.started.get_mut(&push.seq) {
                    Some(s) => {
                        let job = match push.change {
                            ConditionChange::Enter => {
                                s.members.insert(push.ticker);
                                JobFlag::Enter
                            }
                            ConditionChange::Exit => {
                                s.members.remove(&push.ticker);
                                JobFlag::Exit
                            }
                        };
                        Step::Alert(s.to.clone(), alert(&push.seq, push.ticker, job))
                    }
                    None => Step::Unrouted,
                },
                Err(err) => Step::Malformed(err),
            },
            // Types never registered (0A, 0D, …): nothing to do.
            RealValues::Other { .. } => return None,
        })
    }
}

/// REMOVE of the account feeds (REG's body without `refresh`).
fn remove_account() -> Registration {
    Registration {
        refresh: None,
        ..Registration::account(ACCOUNT_GROUP)
    }
}

fn sends<To>(frames: Vec<String>) -> Vec<Step<To>> {
    frames.into_iter().map(Step::Send).collect()
}

fn alert(key: &str, ticker: Ticker, job: JobFlag) -> ConditionAlert {
    ConditionAlert {
        alert_num: key.to_owned(),
        code: ticker.as_str().to_owned(),
        job,
    }
}

fn codes(members: &BTreeSet<Ticker>) -> Vec<String> {
    members.iter().map(|t| t.as_str().to_owned()).collect()
}

#[cfg(test)]
mod tests;
