//! One Kiwoom websocket connection as the engine keeps it, and its client frames: LOGIN
//! first (anything else first is answered `SYSTEM R10004` and the connection closed, as
//! the real server does), PING echoes, REG/REMOVE of `0B` per item and `00`/`04` for the
//! account, CNSRLST before CNSRREQ (refused with `return_code 1` otherwise), CNSRREQ
//! realtime (snapshot with `A`-prefixed `jmcode`s, then `02` pushes) or one-shot,
//! CNSRCLR. The server sends `PING` every `SimConfig::kiwoom_ping_interval` after LOGIN
//! and drops a connection after `KIWOOM_PING_MISSES` unanswered ones in a row.
//!
//! Owns each connection's Kiwoom state. Must never register anything for a connection
//! that has not logged in, and never let a realtime condition outlive its connection.

use std::time::Instant;

use condor_model::kiwoom::parse_code;
use condor_model::kiwoom::realtime::{
    decode_client_frame, ClientFrame, Condition, ConditionList, ConditionRequest, ConditionSearch,
    Registration, SearchRow, ServerFrame, Status, SystemNotice, MAX_REALTIME_CONDITIONS,
    MSG_LIST_FIRST, SYSTEM_NO_LOGIN, TYPE_BALANCE, TYPE_ORDER, TYPE_TRADE,
};
use condor_model::kiwoom::rest::{
    RC_WS_ERROR, RC_WS_LOGIN, TEXT_TOKEN_INVALID, TEXT_TOKEN_WRONG_SERVER,
};
use condor_model::market::Ticker;
use tokio_tungstenite::tungstenite::Message;

use crate::engine::{Outgoing, SimState};
use crate::KIWOOM_PING_MISSES;

/// What the registry keys a `0B` registration by (the LS front end uses `S3_`/`K3_`).
const TRADE_KEY: &str = "0B";

/// A Kiwoom connection's state.
#[derive(Debug)]
pub(crate) struct KiwoomSession {
    pub(crate) logged_in: bool,
    /// CNSRLST was asked on this connection (CNSRREQ needs it first).
    pub(crate) listed: bool,
    /// REG `00` / `04`.
    pub(crate) orders: bool,
    pub(crate) balance: bool,
    /// Realtime conditions: (`seq`, the exchange's alert number).
    pub(crate) conditions: Vec<(String, String)>,
    next_ping: Instant,
    unanswered: u32,
}

impl KiwoomSession {
    pub(crate) fn new(now: Instant) -> KiwoomSession {
        KiwoomSession {
            logged_in: false,
            listed: false,
            orders: false,
            balance: false,
            conditions: Vec::new(),
            next_ping: now,
            unanswered: 0,
        }
    }

    /// The `seq` a pushed alert belongs to on this connection.
    pub(crate) fn seq_of(&self, alert: &str) -> Option<&str> {
        self.conditions
            .iter()
            .find(|(_, a)| a == alert)
            .map(|(s, _)| s.as_str())
    }

    pub(crate) fn condition_seqs(&self) -> Vec<String> {
        self.conditions.iter().map(|(s, _)| s.clone()).collect()
    }
}

fn send(state: &mut SimState, id: u64, frame: ServerFrame) {
    if let Some(s) = state.sessions.get_mut(&id) {
        s.pending.push(Message::Text(frame.encode().into()));
    }
}

/// Sends what is pending, then closes the connection (no close frame).
fn close(state: &mut SimState, id: u64) {
    state.flush();
    if let Some(s) = state.sessions.get(&id) {
        let _ = s.out.try_send(Outgoing::Drop);
    }
}

/// One frame from connection `id`.
pub(crate) fn client_frame(state: &mut SimState, id: u64, text: &str) {
    let Some(logged_in) = state.sessions.get(&id).map(|s| s.kiwoom.logged_in) else {
        return;
    };
    let frame = match decode_client_frame(text) {
        Ok(f) => f,
        Err(e) => {
            log::warn!(target: "condor::sim", "Kiwoom session {id}: unreadable frame: {e}");
            if !logged_in {
                no_login(state, id);
            }
            return;
        }
    };
    match frame {
        ClientFrame::Ping(_) => {
            if let Some(s) = state.sessions.get_mut(&id) {
                s.kiwoom.unanswered = 0;
            }
        }
        ClientFrame::Login(l) => login(state, id, l.token.expose()),
        _ if !logged_in => no_login(state, id),
        ClientFrame::Reg(r) => {
            let status = register(state, id, &r, true);
            send(state, id, ServerFrame::Reg(status));
        }
        ClientFrame::Remove(r) => {
            let status = register(state, id, &r, false);
            send(state, id, ServerFrame::Remove(status));
        }
        ClientFrame::ConditionList => {
            let conditions = state
                .exchange
                .conditions()
                .into_iter()
                .map(|c| Condition {
                    seq: c.query_index,
                    name: c.query_name,
                })
                .collect();
            if let Some(s) = state.sessions.get_mut(&id) {
                s.kiwoom.listed = true;
            }
            send(
                state,
                id,
                ServerFrame::ConditionList(ConditionList {
                    status: Status::ok(),
                    conditions,
                }),
            );
        }
        ClientFrame::ConditionSearch(req) => {
            let reply = search(state, id, &req);
            send(state, id, ServerFrame::ConditionSearch(reply));
        }
        ClientFrame::ConditionClear { seq } => {
            let status = clear(state, id, &seq);
            send(state, id, ServerFrame::ConditionClear { seq, status });
        }
    }
}

fn no_login(state: &mut SimState, id: u64) {
    send(
        state,
        id,
        ServerFrame::System(SystemNotice {
            code: SYSTEM_NO_LOGIN.to_owned(),
            message: "접속허용요청(토큰)이 들어오지 않았습니다".to_owned(),
        }),
    );
    close(state, id);
}

fn login(state: &mut SimState, id: u64, token: &str) {
    let now = state.tokens.now();
    if state.tokens.check(token.trim(), now) != crate::auth::TokenCheck::Valid {
        // UNCONFIRMED (two third-party captures): 805004 with the inner code as CODE=;
        // posing as the other server, 8031 in the same words.
        let (code, text) = if state.other_host {
            (8031, TEXT_TOKEN_WRONG_SERVER)
        } else {
            (8005, TEXT_TOKEN_INVALID)
        };
        send(
            state,
            id,
            ServerFrame::Login(Status::error(
                RC_WS_LOGIN,
                &format!(
                    "토큰 인증에 실패했습니다. 접속을 종료합니다 [CODE={code}, MESSAGE={text}]"
                ),
            )),
        );
        close(state, id);
        return;
    }
    let interval = state.ping_interval;
    if let Some(s) = state.sessions.get_mut(&id) {
        s.kiwoom.logged_in = true;
        s.kiwoom.next_ping = Instant::now() + interval;
        s.kiwoom.unanswered = 0;
    }
    send(state, id, ServerFrame::Login(Status::ok()));
}

/// What one REG/REMOVE asks, checked whole before anything changes.
enum Feed {
    Trades(Ticker),
    Orders,
    Balance,
}

/// REG (`add`) or REMOVE. Every (item, type) pair is checked first; one bad pair refuses
/// the frame (`return_code 1`) and changes nothing. `refresh "0"` is read as `"1"`
/// (groups are not kept apart).
fn register(state: &mut SimState, id: u64, r: &Registration, add: bool) -> Status {
    let mut feeds = Vec::new();
    for (item, kind) in r.pairs() {
        match kind.trim() {
            TYPE_TRADE => match parse_code(item).filter(|t| state.exchange.listing(*t).is_some()) {
                Some(t) => feeds.push(Feed::Trades(t)),
                None => {
                    return Status::error(
                        RC_WS_ERROR,
                        &format!("종목코드({item})가 올바르지 않습니다"),
                    )
                }
            },
            TYPE_ORDER => feeds.push(Feed::Orders),
            TYPE_BALANCE => feeds.push(Feed::Balance),
            other => {
                return Status::error(
                    RC_WS_ERROR,
                    &format!("지원하지 않는 실시간 항목입니다({other})"),
                )
            }
        }
    }
    let Some(s) = state.sessions.get_mut(&id) else {
        return Status::error(RC_WS_ERROR, "세션이 없습니다");
    };
    let mut trades = false;
    for feed in feeds {
        match feed {
            Feed::Orders => s.kiwoom.orders = add,
            Feed::Balance => s.kiwoom.balance = add,
            Feed::Trades(t) => {
                trades = true;
                let listed = s.market.iter().any(|(_, x)| *x == t);
                if add && !listed {
                    s.market.push((TRADE_KEY, t));
                    state.by_ticker.entry(t).or_default().push((id, TRADE_KEY));
                } else if !add && listed {
                    s.market.retain(|(_, x)| *x != t);
                    if let Some(v) = state.by_ticker.get_mut(&t) {
                        v.retain(|(x, _)| *x != id);
                        if v.is_empty() {
                            state.by_ticker.remove(&t);
                        }
                    }
                }
            }
        }
    }
    if add && trades {
        state.tape_trigger();
    }
    Status::ok()
}

fn search(state: &mut SimState, id: u64, req: &ConditionRequest) -> ConditionSearch {
    let seq = req.seq.trim().to_owned();
    let refuse = |msg: &str| ConditionSearch {
        seq: seq.clone(),
        status: Status::error(RC_WS_ERROR, msg),
        cont_yn: None,
        next_key: None,
        rows: Vec::new(),
    };
    let Some(s) = state.sessions.get(&id) else {
        return refuse("세션이 없습니다");
    };
    if !s.kiwoom.listed {
        return refuse(MSG_LIST_FIRST);
    }
    let Some(members) = state.exchange.condition_members(&seq) else {
        return refuse(&format!("조건검색식({seq})이 존재하지 않습니다"));
    };
    if !req.is_realtime() {
        // One-shot (ka10172): every member in one page.
        let rows = members
            .iter()
            .filter_map(|t| {
                let l = state.exchange.listing(*t)?;
                let q = state.exchange.quote(*t)?;
                let price = if q.price.won() > 0 {
                    q.price
                } else {
                    l.prev_close
                };
                Some(SearchRow::result(*t, l.name, price, l.prev_close, q.volume))
            })
            .collect();
        return ConditionSearch {
            seq,
            status: Status::ok(),
            cont_yn: Some("N".to_owned()),
            next_key: Some(String::new()),
            rows,
        };
    }
    let again = s.kiwoom.conditions.iter().any(|(q, _)| *q == seq);
    if !again && s.kiwoom.conditions.len() >= MAX_REALTIME_CONDITIONS {
        // UNCONFIRMED text (one third-party fake uses 105110 "요청 건수 초과").
        return refuse(&format!(
            "실시간 조건검색 요청 건수 초과(최대 {MAX_REALTIME_CONDITIONS}개)"
        ));
    }
    if again {
        // Asked again: the old subscription makes way for the new one.
        clear(state, id, &seq);
    }
    let alert = match state.kiwoom_alerts.get(&seq) {
        Some(a) => a.clone(),
        None => {
            let now = state.market_ms();
            match state.exchange.register_alert(&seq, now) {
                Ok(a) => {
                    state.kiwoom_alerts.insert(seq.clone(), a.clone());
                    a
                }
                Err(r) => return refuse(&r.message),
            }
        }
    };
    if let Some(s) = state.sessions.get_mut(&id) {
        s.kiwoom.conditions.push((seq.clone(), alert.clone()));
    }
    state.by_alert.entry(alert).or_default().push(id);
    state.tape_trigger();
    ConditionSearch::snapshot(&seq, &members)
}

fn clear(state: &mut SimState, id: u64, seq: &str) -> Status {
    let seq = seq.trim();
    let Some(s) = state.sessions.get_mut(&id) else {
        return Status::error(RC_WS_ERROR, "세션이 없습니다");
    };
    let Some(i) = s.kiwoom.conditions.iter().position(|(q, _)| q == seq) else {
        return Status::error(
            RC_WS_ERROR,
            &format!("실시간 조건검색({seq})이 등록되어 있지 않습니다"),
        );
    };
    let (_, alert) = s.kiwoom.conditions.remove(i);
    // This connection stops hearing it; the condition runs on at the broker.
    if let Some(v) = state.by_alert.get_mut(&alert) {
        v.retain(|x| *x != id);
    }
    Status::ok()
}

/// Sends a PING to every logged-in connection whose turn it is; drops those that left
/// `KIWOOM_PING_MISSES` in a row unanswered.
pub(crate) fn pings(state: &mut SimState) {
    let now = Instant::now();
    let interval = state.ping_interval;
    let mut dead = Vec::new();
    let mut sent = false;
    for (id, s) in state.sessions.iter_mut() {
        let k = &mut s.kiwoom;
        if !k.logged_in || now < k.next_ping {
            continue;
        }
        if k.unanswered >= KIWOOM_PING_MISSES {
            log::info!(target: "condor::sim", "Kiwoom session {id}: {} PINGs unanswered; dropping it", k.unanswered);
            k.logged_in = false;
            dead.push(*id);
            continue;
        }
        k.unanswered += 1;
        k.next_ping = now + interval;
        s.pending
            .push(Message::Text(ServerFrame::ping().encode().into()));
        sent = true;
    }
    if sent {
        state.flush();
    }
    for id in dead {
        close(state, id);
    }
}
