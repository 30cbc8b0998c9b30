//! The broker's realtime condition search behind the broker boundary: the configured
//! conditions found by name (or by the broker's own key), started for realtime alerts, and
//! their members right now. LS does it over REST: t1866 lists the saved conditions, t1860
//! registers one (its `sAlertNum` keys the AFR frames the BrokerSession routes), t1859
//! lists its members. Kiwoom does it over its websocket, through the BrokerSession:
//! CNSRLST lists the saved conditions ([`ListConditions`]), CNSRREQ starts one and answers
//! its members ([`StartCondition`]), REAL 02 brings the changes keyed by its `seq`. The
//! Supervisor starts conditions only through [`start_conditions`].
//!
//! Owns no state: what was started is the caller's. Must never start a condition twice,
//! and never treat a failed members list as an empty condition (the alerts still bring
//! every later change; the failure is logged).

use actix::prelude::*;

use crate::broker::Broker;
use crate::broker_account::AccountReadError;
use crate::broker_session::BrokerSession;
use crate::ls_rest::{LsError, LsRest};
use crate::messages::{
    ConditionAlert, ListConditions, SavedCondition, SessionRefusal, StartCondition, WatchCondition,
};
use crate::wire::rest::Tr;
use crate::wire::search::{T1859InBlock, T1860InBlock, T1866InBlock, T1859, T1860, T1866};

const LOG: &str = "condor::supervisor";

/// One configured condition, started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartedCondition {
    /// The name or key it was configured by.
    pub configured: String,
    /// The broker's key for the saved condition (`query_index`, `seq`).
    pub key: String,
    /// What its realtime alerts carry as [`ConditionAlert::alert_num`].
    pub alert_key: String,
    /// The codes that match now, as the broker wrote them; `None` when they could not
    /// be listed.
    pub members: Option<Vec<String>>,
}

/// Why the conditions could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ConditionSearchError {
    #[error(transparent)]
    Broker(#[from] AccountReadError),
    #[error("no condition named {name:?} (the broker lists: {known})")]
    UnknownCondition { name: String, known: String },
    #[error(transparent)]
    Session(#[from] SessionRefusal),
    #[error("the broker session is gone: {0}")]
    SessionGone(#[from] MailboxError),
    #[error("the broker refused to start condition {key}: [{code}] {msg}")]
    StartRefused {
        key: String,
        code: String,
        msg: String,
    },
}

impl From<LsError> for ConditionSearchError {
    fn from(e: LsError) -> ConditionSearchError {
        ConditionSearchError::Broker(e.into())
    }
}

/// The saved condition `wanted` names, by name or by key (surrounding blanks ignored).
pub fn find<'a>(saved: &'a [SavedCondition], wanted: &str) -> Option<&'a SavedCondition> {
    let wanted = wanted.trim();
    saved
        .iter()
        .find(|c| c.name.trim() == wanted)
        .or_else(|| saved.iter().find(|c| c.key.trim() == wanted))
}

fn unknown(name: &str, saved: &[SavedCondition]) -> ConditionSearchError {
    ConditionSearchError::UnknownCondition {
        name: name.to_owned(),
        known: saved
            .iter()
            .map(|c| format!("{} {:?}", c.key, c.name))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Starts each of `names`, in order, with its alerts sent to `to`. All or nothing: the
/// first that cannot be found or started stops the start with why.
pub async fn start_conditions(
    broker: &Broker,
    session: &Addr<BrokerSession>,
    names: &[String],
    to: Recipient<ConditionAlert>,
) -> Result<Vec<StartedCondition>, ConditionSearchError> {
    match broker {
        Broker::Ls(rest) => ls_start(rest, session, names, to).await,
        Broker::Kiwoom(_) => websocket_start(session, names, to).await,
    }
}

/// Kiwoom: CNSRLST first (the reference requires it before any CNSRREQ), then each
/// condition started with its members now.
async fn websocket_start(
    session: &Addr<BrokerSession>,
    names: &[String],
    to: Recipient<ConditionAlert>,
) -> Result<Vec<StartedCondition>, ConditionSearchError> {
    let saved = session.send(ListConditions).await??;
    let mut started = Vec::new();
    for name in names {
        let cond = find(&saved, name).ok_or_else(|| unknown(name, &saved))?;
        let members = session
            .send(StartCondition {
                key: cond.key.clone(),
                to: to.clone(),
            })
            .await??;
        started.push(StartedCondition {
            configured: name.clone(),
            key: cond.key.clone(),
            alert_key: cond.key.clone(),
            members: Some(members),
        });
    }
    Ok(started)
}

async fn ls_start(
    rest: &LsRest,
    session: &Addr<BrokerSession>,
    names: &[String],
    to: Recipient<ConditionAlert>,
) -> Result<Vec<StartedCondition>, ConditionSearchError> {
    let list = rest
        .call::<T1866>(&T1866InBlock {
            gb: "0".into(),
            ..Default::default()
        })
        .await?;
    let saved: Vec<SavedCondition> = list
        .blocks
        .out_block1
        .iter()
        .map(|c| SavedCondition {
            key: c.query_index.trim().to_owned(),
            name: c.query_name.trim().to_owned(),
        })
        .collect();
    let mut started = Vec::new();
    for name in names {
        let cond = find(&saved, name).ok_or_else(|| unknown(name, &saved))?;
        let reg = rest
            .call::<T1860>(&T1860InBlock {
                s_sys_user_flag: "U".into(),
                s_flag: "E".into(),
                s_alert_num: String::new(),
                query_index: cond.key.clone(),
            })
            .await?;
        let out = reg.blocks.out_block.unwrap_or_default();
        if out.s_result_flag != "S" || out.s_alert_num.trim().is_empty() {
            return Err(ConditionSearchError::StartRefused {
                key: cond.key.clone(),
                code: reg.rsp_cd,
                msg: reg.rsp_msg,
            });
        }
        let alert_key = out.s_alert_num.trim().to_owned();
        // Watched before the members are listed: a change between the two is not lost.
        session.do_send(WatchCondition {
            alert_num: alert_key.clone(),
            to: to.clone(),
        });
        started.push(StartedCondition {
            configured: name.clone(),
            key: cond.key.clone(),
            alert_key,
            members: ls_members(rest, &cond.key).await,
        });
    }
    Ok(started)
}

/// t1859: the alerts (AFR) report only changes, so a start (or a restart) learns who is
/// already in from this.
async fn ls_members(rest: &LsRest, query_index: &str) -> Option<Vec<String>> {
    let reply = rest
        .call::<T1859>(&T1859InBlock {
            query_index: query_index.to_owned(),
        })
        .await;
    match reply {
        Ok(r) if T1859::succeeded(&r) => Some(
            r.blocks
                .out_block1
                .iter()
                .map(|row| row.shcode.trim().to_owned())
                .collect(),
        ),
        Ok(r) => {
            log::warn!(target: LOG, "t1859 refused [{}] {}; only later changes will be watched", r.rsp_cd, r.rsp_msg.trim());
            None
        }
        Err(e) => {
            log::warn!(target: LOG, "cannot list the condition's members (t1859): {e}; only later changes will be watched");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved() -> Vec<SavedCondition> {
        vec![
            SavedCondition {
                key: "0".into(),
                name: "급등주".into(),
            },
            SavedCondition {
                key: "1".into(),
                name: "0".into(),
            },
        ]
    }

    #[test]
    fn a_condition_is_found_by_name_before_key() {
        let saved = saved();
        assert_eq!(find(&saved, " 급등주 ").unwrap().key, "0");
        // "0" is condition 1's name and condition 0's key: the name wins.
        assert_eq!(find(&saved, "0").unwrap().key, "1");
        assert_eq!(find(&saved, "1").unwrap().key, "1");
        assert!(find(&saved, "없는조건").is_none());
    }

    #[test]
    fn an_unknown_condition_names_what_the_broker_lists() {
        let e = unknown("없는조건", &saved()).to_string();
        assert_eq!(
            e,
            "no condition named \"없는조건\" (the broker lists: 0 \"급등주\", 1 \"0\")"
        );
    }
}
