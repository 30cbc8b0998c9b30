//! Portfolio: the engine's cash, positions, average prices and P&L — one [`Ledger`], of
//! which this actor is the only owner and the only writer.
//!
//! Books every [`Fill`] the OrderManager forwards (our own orders' executions, each once),
//! marks held tickers from [`Tick`]s if it is sent them, answers [`IsFlat`] (by position)
//! and [`GetPortfolio`] (a snapshot), and tells a registered recipient (the Supervisor)
//! when a ticker it held becomes flat, so a feed kept open for a held ticker that left the
//! condition can stop. Watches the day's loss (realized after fees + unrealized) and
//! trips the kill switch at the OrderManager when it reaches the limit. Tells the Notifier
//! of each fill it booked, with the position and P&L after it, if it is given one. Keeps
//! the last [`RECENT_FILLS`] fills it booked for `/status` ([`GetRecentFills`]). Checks
//! the broker's position after each of its fills, where the broker tells it (Kiwoom's
//! REAL 04, forwarded by the OrderManager after the fill), against the ledger's: a
//! difference is logged and counted, not applied (reconciliation settles it).
//!
//! Must never: be written by anyone else (the state lives here; updates are messages);
//! use floats for money (integer won, exact cost basis, see `ledger.rs`); panic or
//! half-apply a fill (a refused fill is logged and counted and changes nothing); block its
//! mailbox (every handler is synchronous and short, so fills apply in arrival order).

use std::collections::VecDeque;

use actix::prelude::*;

use crate::condition_books::{BooksAnswer, ConditionBooks};
use crate::journal::event::JournalEvent;
use crate::journal::Journal;
use crate::kill_switch::loss_breach;
use crate::ledger::{FeeSchedule, Ledger, LedgerError, LedgerSnapshot};
use crate::ls_rest::{LsError, LsRest};
use crate::market::{Qty, Side};
use crate::messages::{
    Alert, CorrectCash, Deliver, Fill, FillAlert, GetCash, GetConditionBooks, GetPortfolio, IsFlat,
    NotifyFlat, Tick, TickerFlat, TickerOwner, TripKillSwitch,
};
use crate::reconcile::BrokerHolding;
use crate::wire::account::{Cspaq12200, Cspaq12200InBlock1};
use crate::wire::rest::Tr;

const LOG: &str = "condor::portfolio";

/// Why the opening balance could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PortfolioError {
    #[error(transparent)]
    Broker(#[from] LsError),
    #[error("CSPAQ12200 refused: [{code}] {msg}")]
    BalanceRefused { code: String, msg: String },
    #[error("CSPAQ12200 reply carries no balance block (CSPAQ12200OutBlock2)")]
    NoBalance,
}

/// Counters of the Portfolio.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortfolioStats {
    pub fills: u64,
    /// Fills the ledger refused (logged); nothing changed for them.
    pub refused_fills: u64,
    pub flat_reports: u64,
    /// The broker's positions after its fills (Kiwoom's REAL 04) that were checked.
    pub broker_positions_checked: u64,
    /// ... and those that disagreed with the ledger (each logged at warn).
    pub broker_positions_differing: u64,
}

/// Ask the Portfolio for its counters.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "PortfolioStats")]
pub struct GetPortfolioStats;

/// How many booked fills the Portfolio keeps for [`GetRecentFills`].
pub const RECENT_FILLS: usize = 100;

/// Ask the Portfolio for the fills it booked most recently, newest first (at most `limit`).
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "Vec<FillAlert>")]
pub struct GetRecentFills {
    pub limit: usize,
}

/// See the module docs.
pub struct Portfolio {
    ledger: Ledger,
    /// What each fill costs beyond its value (commission, the sell tax).
    fees: FeeSchedule,
    flat_to: Option<Recipient<TickerFlat>>,
    /// The day's loss limit in won and who trips the kill switch; told once.
    loss_limit: Option<(i64, Recipient<TripKillSwitch>)>,
    loss_tripped: bool,
    notifier: Option<Recipient<Alert>>,
    stats: PortfolioStats,
    /// Newest at the back.
    recent: VecDeque<FillAlert>,
    /// The same fills, per condition.
    by_condition: ConditionBooks,
    /// Where a ticker's new owner is recorded, so a restart books the day as it was.
    journal: Option<Journal>,
}

impl Portfolio {
    /// A flat portfolio with `opening_cash` won (from [`Portfolio::opening_cash`] when
    /// trading against the broker).
    pub fn new(opening_cash: i64) -> Portfolio {
        Portfolio::from_ledger(Ledger::new(opening_cash))
    }

    /// Carries on from `ledger` (rebuilt from the journal and reconciled with the broker).
    pub fn from_ledger(ledger: Ledger) -> Portfolio {
        Portfolio {
            ledger,
            fees: FeeSchedule::default(),
            flat_to: None,
            loss_limit: None,
            loss_tripped: false,
            notifier: None,
            stats: PortfolioStats::default(),
            recent: VecDeque::new(),
            by_condition: ConditionBooks::default(),
            journal: None,
        }
    }

    /// Carries on from the books per condition rebuilt from the journal, and records each
    /// new owner of a ticker in `journal`.
    pub fn with_condition_books(mut self, books: ConditionBooks, journal: Journal) -> Portfolio {
        self.by_condition = books;
        self.journal = Some(journal);
        self
    }

    /// Books each fill's fee from `fees`: it leaves cash and counts against the day's loss.
    pub fn with_fees(mut self, fees: FeeSchedule) -> Portfolio {
        self.fees = fees;
        self
    }

    /// Trips the kill switch through `to` when the day's loss reaches `limit` won.
    pub fn with_loss_limit(mut self, limit: i64, to: Recipient<TripKillSwitch>) -> Portfolio {
        self.loss_limit = Some((limit, to));
        self
    }

    /// Tells `notifier` of every fill booked (the trader's Discord and Telegram).
    pub fn with_notifier(mut self, notifier: Option<Recipient<Alert>>) -> Portfolio {
        self.notifier = notifier;
        self
    }

    fn check_loss(&mut self) {
        let Some((limit, to)) = &self.loss_limit else {
            return;
        };
        if self.loss_tripped {
            return;
        }
        let unrealized = match self.ledger.unrealized_pnl() {
            Ok(u) => u,
            Err(e) => {
                log::warn!(target: LOG, "cannot value the positions for the loss limit: {e}");
                return;
            }
        };
        let realized = self
            .ledger
            .realized_pnl()
            .saturating_sub(self.ledger.fees());
        if let Some(cause) = loss_breach(realized, unrealized, *limit) {
            self.loss_tripped = true;
            log::error!(target: LOG, "the day's loss reached the limit (realized {realized:+}, unrealized {unrealized:+} won): tripping the kill switch");
            to.do_send(TripKillSwitch { cause });
        }
    }

    /// The account's cash deposit (예수금, CSPAQ12200 `Dps`) in won: the opening cash.
    pub async fn opening_cash(rest: &LsRest) -> Result<i64, PortfolioError> {
        let reply = rest.call::<Cspaq12200>(&Cspaq12200InBlock1::new()).await?;
        if !Cspaq12200::succeeded(&reply) {
            return Err(PortfolioError::BalanceRefused {
                code: reply.rsp_cd,
                msg: reply.rsp_msg,
            });
        }
        reply
            .blocks
            .out_block2
            .map(|b| b.dps)
            .ok_or(PortfolioError::NoBalance)
    }
}

impl Actor for Portfolio {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(1 << 16);
        log::info!(target: LOG, "portfolio started with {} won", self.ledger.cash());
    }
}

impl Handler<Deliver<Fill>> for Portfolio {
    type Result = ();
    fn handle(&mut self, Deliver(fill): Deliver<Fill>, _: &mut Context<Self>) {
        let ticker = fill.ticker;
        let was_held = !self.ledger.is_flat(ticker);
        // SC1 carries no fee: it is worked out from the configured schedule.
        match self.ledger.apply_fill(&fill, self.fees.fee(&fill)) {
            Ok(e) => {
                self.stats.fills += 1;
                self.by_condition.book(&e);
                let side = match e.side {
                    Side::Buy => "bought",
                    Side::Sell => "sold",
                };
                log::info!(
                    target: LOG,
                    "{ticker} {side} {} @ {} (order #{}): holding {} avg {}, realized {:+} won, cash {} won",
                    e.qty,
                    e.price,
                    fill.order_no,
                    e.position_qty,
                    e.avg_price.map_or_else(|| "-".to_owned(), |p| p.to_string()),
                    e.realized_pnl,
                    e.cash
                );
                let booked = FillAlert {
                    ticker,
                    side: e.side,
                    qty: e.qty,
                    price: e.price,
                    order_no: fill.order_no,
                    time: fill.time,
                    fee: e.fee,
                    position_after: e.position_qty,
                    avg_price: e.avg_price,
                    realized_pnl: e.realized_pnl,
                    ticker_realized_pnl: self.ledger.position(ticker).map_or(0, |p| p.realized_pnl),
                    // Only with a notifier: a snapshot per fill is cheap, but not free.
                    equity: self
                        .notifier
                        .as_ref()
                        .and_then(|_| self.ledger.snapshot().ok().map(|s| s.equity)),
                };
                if self.recent.len() == RECENT_FILLS {
                    self.recent.pop_front();
                }
                self.recent.push_back(booked);
                if let Some(n) = &self.notifier {
                    n.do_send(Alert::Filled(booked));
                }
                if was_held && e.position_qty.shares() == 0 {
                    self.stats.flat_reports += 1;
                    log::info!(target: LOG, "{ticker} flat (realized today {:+} won)", self.ledger.position(ticker).map_or(0, |p| p.realized_pnl));
                    if let Some(to) = &self.flat_to {
                        to.do_send(TickerFlat { ticker });
                    }
                }
            }
            Err(err) => {
                self.stats.refused_fills += 1;
                log::error!(target: LOG, "{ticker} fill of order #{} not booked: {err} (refused fill #{})", fill.order_no, self.stats.refused_fills);
            }
        }
        self.check_loss();
    }
}

/// What the broker says is held after one of its fills, against the ledger's position:
/// `None` when they agree, else the line to log.
pub fn position_difference(ledger: &Ledger, broker: &BrokerHolding) -> Option<String> {
    let ours = ledger
        .position(broker.ticker)
        .map_or(Qty::lit(0), |p| p.qty);
    (ours != broker.qty).then(|| {
        format!(
            "{} the broker holds {} shares after its fill, the ledger {}: the next reconciliation settles it",
            broker.ticker, broker.qty, ours
        )
    })
}

impl Handler<Deliver<BrokerHolding>> for Portfolio {
    type Result = ();
    fn handle(&mut self, Deliver(h): Deliver<BrokerHolding>, _: &mut Context<Self>) {
        self.stats.broker_positions_checked += 1;
        if let Some(line) = position_difference(&self.ledger, &h) {
            self.stats.broker_positions_differing += 1;
            log::warn!(target: LOG, "{line} (difference #{})", self.stats.broker_positions_differing);
        }
    }
}

impl Handler<Deliver<Tick>> for Portfolio {
    type Result = ();
    fn handle(&mut self, Deliver(tick): Deliver<Tick>, _: &mut Context<Self>) {
        // Only held (or traded) tickers are valued; the ledger ignores the rest.
        if let Err(e) = self.ledger.mark(tick.ticker, tick.price) {
            log::debug!(target: LOG, "{} mark refused: {e}", tick.ticker);
        }
        self.check_loss();
    }
}

impl Handler<TickerOwner> for Portfolio {
    type Result = ();
    fn handle(&mut self, msg: TickerOwner, _: &mut Context<Self>) {
        if self.by_condition.is_owner(msg.ticker, msg.condition) {
            return; // a restart's desk given back what the journal said
        }
        self.by_condition.set_owner(msg.ticker, msg.condition);
        if let Some(j) = &self.journal {
            j.record(JournalEvent::TickerOwner {
                ticker: msg.ticker,
                condition: msg.condition.0,
            });
        }
    }
}

impl Handler<GetConditionBooks> for Portfolio {
    type Result = BooksAnswer;
    fn handle(&mut self, _: GetConditionBooks, _: &mut Context<Self>) -> Self::Result {
        let account = self.ledger.snapshot()?;
        Ok((self.by_condition.summarize(&account), account))
    }
}

impl Handler<IsFlat> for Portfolio {
    type Result = bool;
    /// By position only: working orders are the OrderManager's to know.
    fn handle(&mut self, msg: IsFlat, _: &mut Context<Self>) -> bool {
        self.ledger.is_flat(msg.ticker)
    }
}

impl Handler<GetPortfolio> for Portfolio {
    type Result = Result<LedgerSnapshot, LedgerError>;
    fn handle(&mut self, _: GetPortfolio, _: &mut Context<Self>) -> Self::Result {
        self.ledger.snapshot()
    }
}

impl Handler<GetCash> for Portfolio {
    type Result = i64;
    fn handle(&mut self, _: GetCash, _: &mut Context<Self>) -> i64 {
        self.ledger.cash()
    }
}

impl Handler<CorrectCash> for Portfolio {
    type Result = bool;
    fn handle(&mut self, CorrectCash(msg): CorrectCash, _: &mut Context<Self>) -> bool {
        if self.ledger.cash() != msg.expected {
            log::info!(target: LOG, "cash correction to {} won skipped: cash moved since it was compared ({} won now)", msg.broker, self.ledger.cash());
            return false;
        }
        log::warn!(target: LOG, "cash corrected to the broker's {} won (was {})", msg.broker, msg.expected);
        self.ledger.correct_cash(msg.broker);
        true
    }
}

impl Handler<NotifyFlat> for Portfolio {
    type Result = ();
    fn handle(&mut self, msg: NotifyFlat, _: &mut Context<Self>) {
        self.flat_to = Some(msg.to);
    }
}

impl Handler<GetRecentFills> for Portfolio {
    type Result = Vec<FillAlert>;
    fn handle(&mut self, msg: GetRecentFills, _: &mut Context<Self>) -> Vec<FillAlert> {
        self.recent.iter().rev().take(msg.limit).copied().collect()
    }
}

impl Handler<GetPortfolioStats> for Portfolio {
    type Result = MessageResult<GetPortfolioStats>;
    fn handle(&mut self, _: GetPortfolioStats, _: &mut Context<Self>) -> Self::Result {
        MessageResult(self.stats)
    }
}

impl Handler<crate::messages::Retire> for Portfolio {
    type Result = ();
    fn handle(&mut self, _: crate::messages::Retire, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderNo;
    use crate::market::{Price, Ticker, TimeOfDay};
    use crate::messages::Fill;

    #[test]
    fn the_brokers_position_after_a_fill_is_checked_against_the_ledgers() {
        let samsung = Ticker::parse("005930").unwrap();
        let mut ledger = Ledger::new(10_000_000);
        ledger
            .apply_fill(
                &Fill {
                    ticker: samsung,
                    side: Side::Buy,
                    price: Price::lit(70_000),
                    qty: Qty::lit(3),
                    order_no: OrderNo(1),
                    time: TimeOfDay::hms(9, 0, 1),
                },
                0,
            )
            .unwrap();
        let broker = |qty| BrokerHolding {
            ticker: samsung,
            qty: Qty::lit(qty),
            avg_price: Price::lit(70_000),
        };
        assert_eq!(position_difference(&ledger, &broker(3)), None);
        let line = position_difference(&ledger, &broker(5)).expect("a difference");
        assert!(
            line.contains("holds 5 shares") && line.contains("the ledger 3"),
            "{line}"
        );
        // A ticker the ledger never traded holds nothing.
        let other = BrokerHolding {
            ticker: Ticker::parse("000660").unwrap(),
            ..broker(1)
        };
        assert!(position_difference(&ledger, &other).is_some());
    }
}
