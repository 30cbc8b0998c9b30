//! Condition search (조건검색): the continuous momentum condition evaluated on every
//! trade, the scripted conditions of a scenario, membership per condition, and the
//! registered realtime alerts (t1860 `sAlertNum`, AFR frames).
//!
//! Owns membership and alert state. Must never allocate on the per-trade path unless
//! membership actually changes, and never emit an alert for an unregistered alert.
//!
//! Momentum ("0000", 급등 모멘텀): a ticker ENTERS when it is up ≥ `enter_bp` from the
//! previous close AND its volume over the last `window_secs` simulated seconds is greater
//! than over the `window_secs` before; it EXITS when it falls below `exit_bp` (hysteresis:
//! between the two it stays as it was). Its membership is global (t1859 returns it).
//!
//! Scripted conditions replay per registered alert: each registration gets the whole
//! script from its own registration time, so two registrations see two independent
//! replays. A scripted condition's t1859 members are the union of its live alerts'
//! current members.
//!
//! Tape mode (`tape_market`): the momentum and scripted conditions are off and the only
//! condition is the tape's (`T001`, named after the tape), whose membership is global like
//! momentum's and changes only when the tape plays a recorded enter or exit.
//!
//! Job flags per alert: the first entry of a code under that alert is `N`, an entry
//! after that is `R`, an exit is `O`. Registering a momentum alert counts the current
//! members as already entered (a client learns them from t1859), so their next entry is `R`.

use std::collections::BTreeSet;

use condor_model::market::{Price, Ticker};

use super::events::{AlertEvent, AlertJob, Event};
use super::reject::{Reject, RejectReason};
use super::scenario::{ScriptAction, ScriptedCondition};
use super::Exchange;

/// query_index of the built-in momentum condition.
pub const MOMENTUM_QUERY_INDEX: &str = "0000";
/// t1866 `group_name` of the built-in condition.
pub const MOMENTUM_GROUP: &str = "condor";
/// t1866 `query_name` of the built-in condition.
pub const MOMENTUM_NAME: &str = "급등 모멘텀";
/// t1866 `group_name` of scenario conditions.
pub const SCENARIO_GROUP: &str = "시나리오";

/// `Alert::cond` of the tape's condition.
pub(super) const TAPE_COND: usize = usize::MAX;

/// The tape's condition: its t1866 row and its members by listing index.
#[derive(Clone, Debug)]
pub(super) struct TapeCondition {
    pub info: ConditionInfo,
    pub member: Vec<bool>,
}

/// Thresholds of the momentum condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MomentumParams {
    /// Enter at ≥ this change from the previous close, in basis points (200 = 2.00%).
    pub enter_bp: i64,
    /// Exit below this (clamped to at most `enter_bp`, so there is no flapping).
    pub exit_bp: i64,
    /// Volume window in simulated seconds (1..=600).
    pub window_secs: u32,
}

impl Default for MomentumParams {
    fn default() -> Self {
        MomentumParams {
            enter_bp: 200,
            exit_bp: 100,
            window_secs: 60,
        }
    }
}

/// One row of t1866.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionInfo {
    pub query_index: String,
    pub group_name: String,
    pub query_name: String,
}

/// Per-ticker momentum state: membership and a ring of per-second volume buckets
/// covering two windows.
#[derive(Clone, Debug)]
pub(super) struct Momentum {
    enter_bp: i64,
    exit_bp: i64,
    window: u32,
    pub member: Vec<bool>,
    /// Buckets per ticker: 2·window rounded up to a power of two, so the per-trade index
    /// is a mask, not a division.
    ring: usize,
    /// `n_tickers × ring` per-second volumes, tagged with the second (+1) each holds
    /// (0 = empty), so stale buckets are recognised without clearing.
    vol: Vec<u64>,
    tag: Vec<u32>,
}

impl Momentum {
    pub fn new(p: MomentumParams, n: usize) -> Momentum {
        let window = p.window_secs.clamp(1, 600);
        let ring = (2 * window as usize).next_power_of_two();
        Momentum {
            enter_bp: p.enter_bp,
            exit_bp: p.exit_bp.min(p.enter_bp),
            window,
            member: vec![false; n],
            ring,
            vol: vec![0; n * ring],
            tag: vec![0; n * ring],
        }
    }

    /// Records a print and returns `Some(true)` on entry, `Some(false)` on exit.
    #[inline]
    pub fn on_trade(
        &mut self,
        idx: usize,
        price: Price,
        prev_close: Price,
        qty: u64,
        sec: u32,
    ) -> Option<bool> {
        let b = idx * self.ring + (sec as usize & (self.ring - 1));
        if self.tag[b] != sec + 1 {
            self.tag[b] = sec + 1;
            self.vol[b] = 0;
        }
        self.vol[b] += qty;
        // Compare scaled integers instead of dividing on every trade.
        let moved = i128::from(price.won() - prev_close.won()) * 10_000;
        let base = i128::from(prev_close.won());
        if !self.member[idx] {
            if moved >= i128::from(self.enter_bp) * base && self.volume_rising(idx, sec) {
                self.member[idx] = true;
                return Some(true);
            }
        } else if moved < i128::from(self.exit_bp) * base {
            self.member[idx] = false;
            return Some(false);
        }
        None
    }

    /// Volume of the last `window` seconds (ending at `sec`) > the `window` before it.
    fn volume_rising(&self, idx: usize, sec: u32) -> bool {
        let (mut recent, mut before) = (0u64, 0u64);
        for back in 0..2 * self.window {
            let Some(s) = sec.checked_sub(back) else {
                break;
            };
            let b = idx * self.ring + (s as usize & (self.ring - 1));
            if self.tag[b] == s + 1 {
                if back < self.window {
                    recent += self.vol[b];
                } else {
                    before += self.vol[b];
                }
            }
        }
        recent > before
    }
}

/// One registered realtime alert.
#[derive(Clone, Debug)]
pub(super) struct Alert {
    pub num: String,
    /// 0 = momentum, k ≥ 1 = scripted condition k − 1, [`TAPE_COND`] = the tape's.
    pub cond: usize,
    pub registered_ms: u64,
    /// Next script event to fire (scripted conditions only).
    pub cursor: usize,
    /// Codes that have entered under this alert (N vs R).
    pub ever: BTreeSet<String>,
    /// Current members under this alert (scripted conditions only).
    pub members: BTreeSet<String>,
}

#[derive(Clone, Debug)]
pub(super) struct Conditions {
    pub momentum: Momentum,
    pub scripted: Vec<ScriptedCondition>,
    pub alerts: Vec<Alert>,
    pub next_alert_seq: u64,
    /// Earliest due time (ms) of any pending script event; `u64::MAX` if none.
    pub next_script_due: u64,
    /// Tape mode: the only condition there is.
    pub tape: Option<TapeCondition>,
}

impl Conditions {
    pub fn new(p: MomentumParams, n: usize, scripted: Vec<ScriptedCondition>) -> Conditions {
        Conditions {
            momentum: Momentum::new(p, n),
            scripted,
            alerts: Vec::new(),
            next_alert_seq: 1,
            next_script_due: u64::MAX,
            tape: None,
        }
    }

    fn find(&self, query_index: &str) -> Option<usize> {
        if let Some(tc) = &self.tape {
            return (tc.info.query_index == query_index).then_some(TAPE_COND);
        }
        if query_index == MOMENTUM_QUERY_INDEX {
            return Some(0);
        }
        self.scripted
            .iter()
            .position(|c| c.query_index == query_index)
            .map(|i| i + 1)
    }

    fn query_index(&self, cond: usize) -> &str {
        match cond {
            0 => MOMENTUM_QUERY_INDEX,
            TAPE_COND => self
                .tape
                .as_ref()
                .map_or("", |tc| tc.info.query_index.as_str()),
            k => self
                .scripted
                .get(k - 1)
                .map_or("", |c| c.query_index.as_str()),
        }
    }

    /// Due time of alert `a`'s next script event.
    fn due_of(&self, a: &Alert) -> Option<u64> {
        let c = self.scripted.get(a.cond.checked_sub(1)?)?;
        let e = c.events.get(a.cursor)?;
        Some(a.registered_ms.saturating_add(e.offset_ms))
    }

    pub fn recompute_due(&mut self) {
        self.next_script_due = self
            .alerts
            .iter()
            .filter_map(|a| self.due_of(a))
            .min()
            .unwrap_or(u64::MAX);
    }
}

impl Exchange {
    /// t1866: every condition, the built-in momentum first, then the scenario's; in tape
    /// mode the tape's alone.
    pub fn conditions(&self) -> Vec<ConditionInfo> {
        if let Some(tc) = &self.cond.tape {
            return vec![tc.info.clone()];
        }
        let mut v = vec![ConditionInfo {
            query_index: MOMENTUM_QUERY_INDEX.to_owned(),
            group_name: MOMENTUM_GROUP.to_owned(),
            query_name: MOMENTUM_NAME.to_owned(),
        }];
        v.extend(self.cond.scripted.iter().map(|c| ConditionInfo {
            query_index: c.query_index.clone(),
            group_name: SCENARIO_GROUP.to_owned(),
            query_name: c.name.clone(),
        }));
        v
    }

    /// t1859: the current members of a condition, in universe order (scripted: the
    /// listed codes among its live alerts' members; the tape's: as its play has left them).
    /// `None` for an unknown query_index.
    pub fn condition_members(&self, query_index: &str) -> Option<Vec<Ticker>> {
        match self.cond.find(query_index)? {
            TAPE_COND => Some(
                self.listings
                    .iter()
                    .zip(self.cond.tape.as_ref().map_or(&[][..], |tc| &tc.member[..]))
                    .filter(|(_, &m)| m)
                    .map(|(l, _)| l.ticker)
                    .collect(),
            ),
            0 => Some(
                self.listings
                    .iter()
                    .zip(&self.cond.momentum.member)
                    .filter(|(_, &m)| m)
                    .map(|(l, _)| l.ticker)
                    .collect(),
            ),
            _ => {
                let codes = self.condition_member_codes(query_index)?;
                Some(
                    self.listings
                        .iter()
                        .filter(|l| codes.iter().any(|c| c == l.ticker.as_str()))
                        .map(|l| l.ticker)
                        .collect(),
                )
            }
        }
    }

    /// Like [`Exchange::condition_members`] but raw codes, including a scenario's invalid
    /// ones (sorted).
    pub fn condition_member_codes(&self, query_index: &str) -> Option<Vec<String>> {
        let k = self.cond.find(query_index)?;
        if k == 0 || k == TAPE_COND {
            return self
                .condition_members(query_index)
                .map(|v| v.iter().map(|t| t.as_str().to_owned()).collect());
        }
        let set: BTreeSet<&String> = self
            .cond
            .alerts
            .iter()
            .filter(|a| a.cond == k)
            .flat_map(|a| a.members.iter())
            .collect();
        Some(set.into_iter().cloned().collect())
    }

    /// t1860 register: a fresh 11-char `sAlertNum` (`NNNNNNNNNNA`, sequential). Changes
    /// after `now_ms` produce `ConditionAlert` events; a scripted condition's script
    /// starts at `now_ms` (its `at 0ms` events fire on the next `advance`).
    pub fn register_alert(&mut self, query_index: &str, now_ms: u64) -> Result<String, Reject> {
        let cond = self.cond.find(query_index.trim()).ok_or_else(|| {
            Reject::new(
                RejectReason::UnknownCondition,
                format!("no condition with query_index {query_index:?}"),
            )
        })?;
        let num = format!("{:010}A", self.cond.next_alert_seq % 10_000_000_000);
        self.cond.next_alert_seq += 1;
        let members = match cond {
            0 => Some(&self.cond.momentum.member[..]),
            TAPE_COND => self.cond.tape.as_ref().map(|tc| &tc.member[..]),
            _ => None,
        };
        let ever = match members {
            Some(members) => self
                .listings
                .iter()
                .zip(members)
                .filter(|(_, &m)| m)
                .map(|(l, _)| l.ticker.as_str().to_owned())
                .collect(),
            None => BTreeSet::new(),
        };
        self.cond.alerts.push(Alert {
            num: num.clone(),
            cond,
            registered_ms: now_ms,
            cursor: 0,
            ever,
            members: BTreeSet::new(),
        });
        self.cond.recompute_due();
        log::debug!(target: "condor::sim", "alert {num} registered for {query_index}");
        Ok(num)
    }

    /// True when `alert_num` is a registered alert (the AFR `tr_key` check).
    pub fn is_alert(&self, alert_num: &str) -> bool {
        self.cond.alerts.iter().any(|a| a.num == alert_num)
    }

    /// t1860 stop: no more events for `alert_num`.
    pub fn unregister_alert(&mut self, alert_num: &str) -> Result<(), Reject> {
        let i = self
            .cond
            .alerts
            .iter()
            .position(|a| a.num == alert_num.trim())
            .ok_or_else(|| {
                Reject::new(
                    RejectReason::UnknownAlert,
                    format!("sAlertNum {alert_num:?} is not registered"),
                )
            })?;
        self.cond.alerts.remove(i);
        self.cond.recompute_due();
        Ok(())
    }

    /// Alert event for `code` with the code's market snapshot (zeros if unlisted).
    fn alert_event(&self, a: &Alert, code: &str, job: AlertJob, at_ms: u64) -> AlertEvent {
        let (time, ms) = self.stamp(at_ms);
        let listed = Ticker::parse(code)
            .ok()
            .and_then(|t| self.index_of(t))
            .map(|i| (&self.listings[i], &self.quotes[i]));
        let (name, price, change, sign, rate, volume) = match listed {
            Some((l, q)) => (
                l.name,
                q.price,
                q.change(),
                q.sign(),
                q.chg_rate_bp(),
                q.volume,
            ),
            None => ("", Price::lit(0), 0, "3", 0, 0),
        };
        AlertEvent {
            alert_num: a.num.clone(),
            query_index: self.cond.query_index(a.cond).to_owned(),
            code: code.to_owned(),
            name,
            job,
            price,
            change,
            sign,
            chg_rate_bp: rate,
            volume,
            time,
            ms,
        }
    }

    /// A momentum membership change of ticker `idx` at `at_ms`: one event per momentum alert.
    pub(super) fn momentum_changed(
        &mut self,
        idx: usize,
        entered: bool,
        at_ms: u64,
        out: &mut Vec<Event>,
    ) {
        self.membership_changed(0, idx, entered, at_ms, out);
    }

    /// A membership change of ticker `idx` in a global condition (momentum or the tape's)
    /// at `at_ms`: one event per alert of that condition.
    pub(super) fn membership_changed(
        &mut self,
        cond: usize,
        idx: usize,
        entered: bool,
        at_ms: u64,
        out: &mut Vec<Event>,
    ) {
        if self.cond.alerts.is_empty() {
            return;
        }
        let code = self.listings[idx].ticker.as_str().to_owned();
        let mut alerts = std::mem::take(&mut self.cond.alerts);
        for a in alerts.iter_mut().filter(|a| a.cond == cond) {
            let job = if !entered {
                AlertJob::Exit
            } else if a.ever.insert(code.clone()) {
                AlertJob::Enter
            } else {
                AlertJob::Reenter
            };
            out.push(Event::ConditionAlert(
                self.alert_event(a, &code, job, at_ms),
            ));
        }
        self.cond.alerts = alerts;
    }

    /// Fires the one script event due earliest (ties: the earlier-registered alert).
    /// Returns false when none is due at or before `up_to_ms`.
    pub(super) fn fire_next_script(&mut self, up_to_ms: u64, out: &mut Vec<Event>) -> bool {
        if self.cond.next_script_due > up_to_ms {
            return false;
        }
        let due = self.cond.next_script_due;
        let Some(ai) = self
            .cond
            .alerts
            .iter()
            .position(|a| self.cond.due_of(a) == Some(due))
        else {
            self.cond.recompute_due();
            return false;
        };
        // In place: an alert's member sets can hold thousands of codes, so no clone.
        let cursor = self.cond.alerts[ai].cursor;
        let cond = self.cond.alerts[ai].cond;
        let Some(ev) = self
            .cond
            .scripted
            .get(cond - 1)
            .and_then(|c| c.events.get(cursor))
            .cloned()
        else {
            self.cond.recompute_due();
            return false;
        };
        let a = &mut self.cond.alerts[ai];
        a.cursor += 1;
        let job = match ev.action {
            ScriptAction::Enter => {
                a.members.insert(ev.code.clone());
                if a.ever.insert(ev.code.clone()) {
                    AlertJob::Enter
                } else {
                    AlertJob::Reenter
                }
            }
            ScriptAction::Exit => {
                a.members.remove(&ev.code);
                AlertJob::Exit
            }
            ScriptAction::Job(j) => {
                if j == AlertJob::Exit {
                    a.members.remove(&ev.code);
                } else {
                    a.members.insert(ev.code.clone());
                    a.ever.insert(ev.code.clone());
                }
                j
            }
        };
        out.push(Event::ConditionAlert(self.alert_event(
            &self.cond.alerts[ai],
            &ev.code,
            job,
            due,
        )));
        self.cond.recompute_due();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn momentum_needs_rising_volume_and_has_hysteresis() {
        let mut m = Momentum::new(MomentumParams::default(), 1);
        let prev = Price::lit(10_000);
        // 10 shares every second, price flat, for seconds 0..=118.
        for s in 0..119 {
            assert_eq!(m.on_trade(0, prev, prev, 10, s), None);
        }
        // Up 2% at second 119: the last 60 s (60..=119) hold 600 shares, the 60 before
        // (0..=59) also 600, so volume is not rising and it does not enter.
        assert_eq!(
            m.on_trade(0, Price::lit(10_200), prev, 10, 119),
            None,
            "flat volume"
        );
        // A big print makes the last 60 s outweigh the 60 before.
        assert_eq!(
            m.on_trade(0, Price::lit(10_200), prev, 1_000, 120),
            Some(true)
        );
        // 1.5% is between exit (1%) and enter (2%): stays in.
        assert_eq!(m.on_trade(0, Price::lit(10_150), prev, 1, 121), None);
        assert_eq!(
            m.on_trade(0, Price::lit(10_100), prev, 1, 122),
            None,
            "exactly 1% stays"
        );
        assert_eq!(m.on_trade(0, Price::lit(10_090), prev, 1, 123), Some(false));
        // Back to 1.5%: not enough to re-enter.
        assert_eq!(m.on_trade(0, Price::lit(10_150), prev, 5_000, 124), None);
    }
}
