//! Crash anywhere: the `condor` binary trading a standalone `condor sim`, SIGKILLed at
//! random moments (during start-up and reconciliation, right after an order is journaled,
//! acknowledged or filled, or at any time), restarted on the same data directory each
//! time, then stopped cleanly. Afterwards the journal must agree with the simulator
//! exactly: cash, positions, every order's fills and what is still working, and no order
//! sent twice (each simulator order maps to exactly one journaled `OrderSent`).
//!
//! And fills while down: an order acknowledged, condor killed before its fill, the
//! simulator filling it while condor is dead, and the restart booking that fill from the
//! broker's order list (t0425; ka10075/ka10076) against the journaled order.
//!
//! Each test runs against both brokers: the simulator speaking LS's wire, and Kiwoom's
//! (`condor sim --protocol kiwoom`, `CONDOR_BROKER=kiwoom`), with the same body.
//!
//! The kill schedule is seeded: the seed is printed, and `CONDOR_TEST_SEED=<seed>` replays
//! it. `CONDOR_CRASH_KILLS=<n>` sets the number of kills (the soak; see README). Every wait
//! is for a condition with a generous deadline; nothing is asserted on durations.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::lives::{
    self, life_log, spawn_condor, start_sim_with, tail, Condor, Protocol, RunSettings, Sim, Work,
    BUSY,
};
use common::{rng, Poll, PATIENCE};
use condor_actors::journal::event::{FillSource, JournalEvent};
use condor_actors::journal::recovery::{rebuild, Recovered};
use condor_actors::journal::store;
use condor_actors::market::Side;
use condor_actors::messages::OrderType;
use condor_actors::order::OrderState;
use serde_json::{json, Value};
use tokio::time::sleep;

/// Kills in the default run: enough moments to hit every window, short enough for CI.
const DEFAULT_KILLS: usize = 24;
/// Kills in the default Kiwoom run: the same windows, fewer times, to keep the suite short.
const DEFAULT_KILLS_KIWOOM: usize = 8;

/// Tickers the scripted condition cycles through (all listed at the simulator).
const TICKERS: &[&str] = &[
    "005930", "000660", "005380", "000270", "035420", "035720", "105560", "055550", "066570",
    "003550", "017670", "030200", "096770", "015760", "032830", "009150", "011200", "086790",
    "033780", "247540", "086520", "028300", "293490", "263750", "035900", "041510", "214150",
    "240810", "036930", "078150",
];

// ---------------------------------------------------------------------------------------
// The simulator's account, read as any client of its broker reads it (literal JSON over
// REST): LS's t0425, t0424 and CSPAQ12200, or Kiwoom's kt00007, kt00018 and kt00001

/// One order of the day (a t0425 or kt00007 row).
#[derive(Clone, Debug)]
struct SimOrder {
    ordno: i64,
    /// The order a cancel or modify is of; 0 for an order of its own.
    orgordno: i64,
    ticker: String,
    side: Side,
    qty: u64,
    price: i64,
    filled: u64,
    remaining: u64,
}

/// The simulator's account through the wire it speaks.
enum Broker {
    Ls(LsAccount),
    Kiwoom(KiwoomAccount),
}

impl Broker {
    async fn connect(sim: &Sim) -> Broker {
        match sim.protocol {
            Protocol::Ls => Broker::Ls(LsAccount::connect(sim).await),
            Protocol::Kiwoom => Broker::Kiwoom(KiwoomAccount::connect(sim).await),
        }
    }

    /// Every order of the day, every page, oldest first; no order number twice.
    async fn orders(&self) -> Vec<SimOrder> {
        let mut out = match self {
            Broker::Ls(b) => b.orders().await,
            Broker::Kiwoom(b) => b.orders().await,
        };
        out.sort_by_key(|o| o.ordno);
        let n = out.len();
        out.dedup_by_key(|o| o.ordno);
        assert_eq!(n, out.len(), "the order list's pages repeat an order");
        out
    }

    /// The newest order number at the simulator (0 before the first).
    async fn last_order_no(&self) -> i64 {
        match self {
            Broker::Ls(b) => b.last_order_no().await,
            Broker::Kiwoom(b) => b.last_order_no().await,
        }
    }

    /// The deposit, the cash condor's ledger counts.
    async fn cash(&self) -> i64 {
        match self {
            Broker::Ls(b) => b.cash().await,
            Broker::Kiwoom(b) => b.cash().await,
        }
    }

    /// Shares held by ticker, every page.
    async fn holdings(&self) -> BTreeMap<String, u64> {
        match self {
            Broker::Ls(b) => b.holdings().await,
            Broker::Kiwoom(b) => b.holdings().await,
        }
    }

    /// Cancels what remains of order `ordno`, as a trader would by hand; false when the
    /// broker refuses (nothing left to cancel).
    async fn cancel(&self, o: &SimOrder) -> bool {
        match self {
            Broker::Ls(b) => b.cancel(o).await,
            Broker::Kiwoom(b) => b.cancel(o).await,
        }
    }
}

/// LS: `tr_cd` headers, `tr_cont`/`tr_cont_key` paging.
struct LsAccount {
    http: reqwest::Client,
    rest: String,
    token: String,
}

impl LsAccount {
    async fn connect(sim: &Sim) -> LsAccount {
        let http = reqwest::Client::new();
        let token = common::token(&http, &sim.rest, &sim.appkey, &sim.appsecret)
            .await
            .expect("token issued");
        LsAccount {
            http,
            rest: sim.rest.clone(),
            token,
        }
    }

    /// One TR call; returns the reply's `tr_cont`/`tr_cont_key` and body. Any refusal fails.
    async fn tr(
        &self,
        path: &str,
        tr_cd: &str,
        cont: Option<&str>,
        body: Value,
    ) -> (bool, String, Value) {
        let (ok, more, key, v) = self.send(path, tr_cd, cont, body).await;
        assert!(ok, "{tr_cd} refused: {v}");
        (more, key, v)
    }

    /// One TR call: whether it succeeded (HTTP 200, `rsp_cd` `00…`), the reply's
    /// `tr_cont`/`tr_cont_key` and body.
    async fn send(
        &self,
        path: &str,
        tr_cd: &str,
        cont: Option<&str>,
        body: Value,
    ) -> (bool, bool, String, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.rest))
            .header("content-type", "application/json; charset=utf-8")
            .header("authorization", format!("Bearer {}", self.token))
            .header("tr_cd", tr_cd)
            .header("tr_cont", if cont.is_some() { "Y" } else { "N" })
            .header("tr_cont_key", cont.unwrap_or(""))
            .body(body.to_string())
            .send()
            .await
            .expect("REST call");
        let status = r.status().as_u16();
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let (more, key) = (header("tr_cont") == "Y", header("tr_cont_key"));
        let v: Value = r.json().await.expect("JSON reply");
        let ok = status == 200 && v["rsp_cd"].as_str().unwrap_or_default().starts_with("00");
        (ok, more, key, v)
    }

    /// CSPAT00801 for all that remains.
    async fn cancel(&self, o: &SimOrder) -> bool {
        let body = json!({"CSPAT00801InBlock1": {
            "OrgOrdNo": o.ordno, "IsuNo": format!("A{}", o.ticker), "OrdQty": o.remaining
        }});
        self.send("/stock/order", "CSPAT00801", None, body).await.0
    }

    /// Every order of the day (t0425, newest first, every page).
    async fn orders(&self) -> Vec<SimOrder> {
        let mut out: Vec<SimOrder> = Vec::new();
        let mut key: Option<String> = None;
        for _ in 0..100_000 {
            let body = json!({"t0425InBlock": {
                "expcode": "", "chegb": "0", "medosu": "0", "sortgb": "1",
                "cts_ordno": key.clone().unwrap_or_default()
            }});
            let (more, next, v) = self.tr("/stock/accno", "t0425", key.as_deref(), body).await;
            for row in v["t0425OutBlock1"].as_array().expect("t0425OutBlock1") {
                let medosu = row["medosu"].as_str().unwrap();
                out.push(SimOrder {
                    ordno: common::num(&row["ordno"]),
                    orgordno: common::num(&row["orgordno"]),
                    ticker: row["expcode"].as_str().unwrap().to_owned(),
                    side: match medosu {
                        "매수" => Side::Buy,
                        "매도" => Side::Sell,
                        other => panic!("t0425 medosu {other:?}"),
                    },
                    qty: common::num(&row["qty"]) as u64,
                    price: common::num(&row["price"]),
                    filled: common::num(&row["cheqty"]) as u64,
                    remaining: common::num(&row["ordrem"]) as u64,
                });
            }
            if !more {
                return out;
            }
            assert_ne!(key.as_deref(), Some(next.as_str()), "t0425 repeats its key");
            key = Some(next);
        }
        panic!("t0425 never stops paging");
    }

    /// One page of t0425, newest first.
    async fn last_order_no(&self) -> i64 {
        let body = json!({"t0425InBlock": {
            "expcode": "", "chegb": "0", "medosu": "0", "sortgb": "1", "cts_ordno": ""
        }});
        let (_, _, v) = self.tr("/stock/accno", "t0425", None, body).await;
        v["t0425OutBlock1"]
            .as_array()
            .and_then(|rows| rows.first())
            .map_or(0, |row| common::num(&row["ordno"]))
    }

    /// CSPAQ12200 `Dps`.
    async fn cash(&self) -> i64 {
        let body = json!({"CSPAQ12200InBlock1": {"RecCnt": 1, "BalCreTp": "0"}});
        let (_, _, v) = self.tr("/stock/accno", "CSPAQ12200", None, body).await;
        common::num(&v["CSPAQ12200OutBlock2"]["Dps"])
    }

    /// t0424, every page.
    async fn holdings(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        let mut key: Option<String> = None;
        loop {
            let body = json!({"t0424InBlock": {
                "prcgb": "1", "chegb": "2", "dangb": "0", "charge": "1",
                "cts_expcode": key.clone().unwrap_or_default()
            }});
            let (more, next, v) = self.tr("/stock/accno", "t0424", key.as_deref(), body).await;
            for row in v["t0424OutBlock1"].as_array().expect("t0424OutBlock1") {
                let qty = common::num(&row["janqty"]) as u64;
                if qty > 0 {
                    out.insert(row["expcode"].as_str().unwrap().to_owned(), qty);
                }
            }
            if !more {
                return out;
            }
            key = Some(next);
        }
    }
}

/// Kiwoom: a JSON token request (au10001), the TR in the `api-id` header, `cont-yn`/
/// `next-key` paging in the headers, every value a (padded) string, account codes with
/// their product letter (`A005930`).
struct KiwoomAccount {
    http: reqwest::Client,
    rest: String,
    token: String,
}

/// The account TRs' path.
const KIWOOM_ACNT: &str = "/api/dostk/acnt";

impl KiwoomAccount {
    async fn connect(sim: &Sim) -> KiwoomAccount {
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{}/oauth2/token", sim.rest))
            .header("content-type", "application/json;charset=UTF-8")
            .header("api-id", "au10001")
            .body(
                json!({
                    "grant_type": "client_credentials",
                    "appkey": sim.appkey,
                    "secretkey": sim.appsecret,
                })
                .to_string(),
            )
            .send()
            .await
            .expect("au10001 call");
        let v: Value = r.json().await.expect("au10001 reply is JSON");
        assert_eq!(v["return_code"], 0, "au10001 refused: {}", v["return_msg"]);
        KiwoomAccount {
            http,
            rest: sim.rest.clone(),
            token: v["token"].as_str().expect("token").to_owned(),
        }
    }

    /// One account TR call; returns the reply's `cont-yn`/`next-key` headers and body. Any
    /// refusal (HTTP status or `return_code`) fails.
    async fn tr(&self, api_id: &str, cont: Option<&str>, body: Value) -> (bool, String, Value) {
        let (ok, more, key, v) = self.send(KIWOOM_ACNT, api_id, cont, body).await;
        assert!(ok, "{api_id} refused: {v}");
        (more, key, v)
    }

    /// One TR call: whether it succeeded (HTTP 200, `return_code` 0), the reply's
    /// `cont-yn`/`next-key` headers and body.
    async fn send(
        &self,
        path: &str,
        api_id: &str,
        cont: Option<&str>,
        body: Value,
    ) -> (bool, bool, String, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.rest))
            .header("content-type", "application/json;charset=UTF-8")
            .header("authorization", format!("Bearer {}", self.token))
            .header("api-id", api_id);
        // The first page goes without the continuation headers, as Kiwoom's own client.
        if let Some(key) = cont {
            req = req.header("cont-yn", "Y").header("next-key", key);
        }
        let r = req.body(body.to_string()).send().await.expect("REST call");
        let status = r.status().as_u16();
        let header = |name: &str| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let (more, key) = (header("cont-yn") == "Y", header("next-key"));
        let v: Value = r.json().await.expect("JSON reply");
        let ok = status == 200 && v["return_code"] == 0;
        (ok, more, key, v)
    }

    /// kt10003 with `cncl_qty` `0`: all that remains.
    async fn cancel(&self, o: &SimOrder) -> bool {
        let body = json!({
            "dmst_stex_tp": "KRX", "orig_ord_no": format!("{:07}", o.ordno),
            "stk_cd": o.ticker, "cncl_qty": "0"
        });
        self.send("/api/dostk/ordr", "kt10003", None, body).await.0
    }

    /// Every page of a listing TR: the rows under `list` of each.
    async fn pages(&self, api_id: &str, list: &str, body: Value) -> Vec<Value> {
        let mut rows = Vec::new();
        let mut key: Option<String> = None;
        for _ in 0..100_000 {
            let (more, next, v) = self.tr(api_id, key.as_deref(), body.clone()).await;
            rows.extend(
                v[list]
                    .as_array()
                    .unwrap_or_else(|| panic!("{api_id} without {list}: {v}"))
                    .iter()
                    .cloned(),
            );
            if !more {
                return rows;
            }
            assert_ne!(
                key.as_deref(),
                Some(next.as_str()),
                "{api_id} repeats its key"
            );
            key = Some(next);
        }
        panic!("{api_id} never stops paging");
    }

    /// kt00007 for today (`ord_dt` blank), `qry_tp` `1` ascending or `2` descending.
    fn kt00007(order: &str) -> Value {
        json!({
            "ord_dt": "", "qry_tp": order, "stk_bond_tp": "0", "sell_tp": "0",
            "stk_cd": "", "fr_ord_no": "", "dmst_stex_tp": "%"
        })
    }

    /// A code as the account TRs write it (`A005930`), bare.
    fn ticker(code: &Value) -> String {
        let code = code.as_str().expect("a stock code");
        code.strip_prefix(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(code)
            .to_owned()
    }

    /// Every order of the day (kt00007, cancelled ones too, with the original's number).
    async fn orders(&self) -> Vec<SimOrder> {
        let rows = self
            .pages("kt00007", "acnt_ord_cntr_prps_dtl", Self::kt00007("1"))
            .await;
        rows.iter()
            .map(|row| {
                let kind = row["io_tp_nm"].as_str().expect("io_tp_nm");
                SimOrder {
                    ordno: common::num(&row["ord_no"]),
                    orgordno: common::num(&row["ori_ord"]),
                    ticker: Self::ticker(&row["stk_cd"]),
                    side: match (kind.contains("매수"), kind.contains("매도")) {
                        (true, false) => Side::Buy,
                        (false, true) => Side::Sell,
                        _ => panic!("kt00007 io_tp_nm {kind:?}"),
                    },
                    qty: common::num(&row["ord_qty"]) as u64,
                    price: common::num(&row["ord_uv"]),
                    filled: common::num(&row["cntr_qty"]) as u64,
                    remaining: common::num(&row["ord_remnq"]) as u64,
                }
            })
            .collect()
    }

    /// One page of kt00007, newest first.
    async fn last_order_no(&self) -> i64 {
        let (_, _, v) = self.tr("kt00007", None, Self::kt00007("2")).await;
        v["acnt_ord_cntr_prps_dtl"]
            .as_array()
            .expect("acnt_ord_cntr_prps_dtl")
            .iter()
            .map(|row| common::num(&row["ord_no"]))
            .max()
            .unwrap_or(0)
    }

    /// kt00001 `entr`.
    async fn cash(&self) -> i64 {
        let (_, _, v) = self.tr("kt00001", None, json!({"qry_tp": "3"})).await;
        common::num(&v["entr"])
    }

    /// kt00018 (aggregated, KRX), every page.
    async fn holdings(&self) -> BTreeMap<String, u64> {
        let body = json!({"qry_tp": "1", "dmst_stex_tp": "KRX"});
        self.pages("kt00018", "acnt_evlt_remn_indv_tot", body)
            .await
            .iter()
            .map(|row| {
                (
                    Self::ticker(&row["stk_cd"]),
                    common::num(&row["rmnd_qty"]) as u64,
                )
            })
            .filter(|(_, qty)| *qty > 0)
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The journal

fn journal_path(data: &Path) -> Option<PathBuf> {
    let days = store::list_days(&data.join("journal")).unwrap();
    assert!(
        days.len() <= 1,
        "more than one journal day ({days:?}): the run crossed midnight KST; run it again"
    );
    days.into_iter().next().map(|(_, p)| p)
}

/// The intact records of the journal as it is now (a torn tail, mid-write, is left out).
fn journal_events(data: &Path) -> Vec<(u64, JournalEvent)> {
    match journal_path(data) {
        Some(p) => store::read::<JournalEvent>(&p)
            .unwrap_or_else(|e| panic!("{e}"))
            .records
            .into_iter()
            .map(|r| (r.seq, r.event))
            .collect(),
        None => Vec::new(),
    }
}

/// How many events of each kind the journal holds, by their serialized tag: starts, orders
/// sent, acknowledged by the REST reply or SC0, and filled by SC1 (live trading; what
/// reconciliation learns at a start is not counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    started: usize,
    sent: usize,
    acked: usize,
    filled: usize,
}

/// Counts the journal's events as condor appends them: reads only what is new since the
/// last look (it looks every few milliseconds), complete lines only, by a cheap text match.
struct Watch {
    data: PathBuf,
    offset: u64,
    counts: Counts,
}

impl Watch {
    fn new(data: &Path) -> Watch {
        Watch {
            data: data.to_owned(),
            offset: 0,
            counts: Counts::default(),
        }
    }

    fn counts(&mut self) -> Counts {
        use std::io::{Read, Seek, SeekFrom};
        let Some(path) = journal_path(&self.data) else {
            return self.counts;
        };
        let Ok(mut file) = std::fs::File::open(&path) else {
            return self.counts;
        };
        if file.metadata().map_or(0, |m| m.len()) < self.offset {
            // A torn tail was cut off at a start: count again from the top.
            (self.offset, self.counts) = (0, Counts::default());
        }
        let mut new = Vec::new();
        file.seek(SeekFrom::Start(self.offset)).unwrap();
        file.read_to_end(&mut new).unwrap();
        let complete = new.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let c = &mut self.counts;
        for line in new[..complete].split(|&b| b == b'\n') {
            let has = |tag: &[u8]| line.windows(tag.len()).any(|w| w == tag);
            if has(b"{\"event\":\"started\"") {
                c.started += 1;
            } else if has(b"{\"event\":\"order_sent\"") {
                c.sent += 1;
            } else if has(b"{\"event\":\"acked\"") {
                c.acked += 1;
            } else if has(b"{\"event\":\"filled\"") && has(b"\"source\":\"sc1\"") {
                c.filled += 1;
            }
        }
        self.offset += complete as u64;
        self.counts
    }
}

fn state_of(events: &[(u64, JournalEvent)]) -> Recovered {
    rebuild(
        condor_actors::clock::Clock::today(&condor_actors::clock::SystemClock),
        events.iter().map(|(seq, e)| (*seq, e)),
        condor_actors::ledger::FeeSchedule::default(),
        std::time::Instant::now(),
    )
}

// ---------------------------------------------------------------------------------------
// The check: condor's journal against the simulator's account

/// What the check found, for the report line.
#[derive(Debug)]
struct Agreement {
    orders: usize,
    fills: usize,
    positions: usize,
    cash: i64,
}

/// The journal and the simulator agree exactly, and no order was sent twice.
/// What the order list's rounded average prices (t0425, ka10076) may leave the journal's
/// cash off by: a fill learned from it is priced at the broker's average rounded down (less
/// than a won a share off), and only a start that read the account while it stood still
/// sets the cash to the broker's. Twice the shares of each order with such a fill since the last correction.
fn rounding_bound(events: &[(u64, JournalEvent)]) -> i64 {
    let from = events
        .iter()
        .rposition(|(_, e)| matches!(e, JournalEvent::CashCorrected { .. }))
        .map_or(0, |i| i + 1);
    let qty_of: HashMap<u64, u64> = events
        .iter()
        .filter_map(|(_, e)| match e {
            JournalEvent::OrderSent { id, qty, .. } => Some((*id, qty.shares())),
            _ => None,
        })
        .collect();
    let learned: BTreeSet<u64> = events[from..]
        .iter()
        .filter_map(|(_, e)| match e {
            JournalEvent::Filled {
                id,
                source: FillSource::Reconcile,
                ..
            } => Some(*id),
            _ => None,
        })
        .collect();
    learned.iter().map(|id| 2 * qty_of[id] as i64).sum()
}

/// How exactly the journal's cash must equal the simulator's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CashCheck {
    /// To the won.
    Exact,
    /// Within [`rounding_bound`]: the order list's rounding, not yet corrected by a settled
    /// start.
    WithinRounding,
}

async fn assert_agree(broker: &Broker, data: &Path, summary: &str, check: CashCheck) -> Agreement {
    let path = journal_path(data).expect("a journal");
    let replay = store::read::<JournalEvent>(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        replay.torn.is_none(),
        "a clean stop leaves no torn tail: {:?}",
        replay.torn
    );
    let events: Vec<(u64, JournalEvent)> = replay
        .records
        .into_iter()
        .map(|r| (r.seq, r.event))
        .collect();
    let sim_orders = broker.orders().await;

    // Each client order id is journaled as sent once, and ids only grow.
    let mut sent: BTreeMap<u64, &JournalEvent> = BTreeMap::new();
    let mut last_id = 0;
    for (seq, e) in &events {
        if let JournalEvent::OrderSent { id, .. } = e {
            assert!(
                sent.insert(*id, e).is_none(),
                "C{id} sent twice (record {seq})"
            );
            assert!(*id > last_id, "C{id} after C{last_id} (record {seq})");
            last_id = *id;
        }
    }
    // The broker number each order was given: one per order, one order per number.
    let mut number_of: BTreeMap<u64, i64> = BTreeMap::new();
    let mut id_of: BTreeMap<i64, u64> = BTreeMap::new();
    for (seq, e) in &events {
        let (id, n) = match e {
            JournalEvent::Acked { id, order_no } | JournalEvent::Resolved { id, order_no } => {
                (*id, order_no.0)
            }
            JournalEvent::Filled { id, order_no, .. } if order_no.0 > 0 => (*id, order_no.0),
            _ => continue,
        };
        assert!(
            sent.contains_key(&id),
            "record {seq} names C{id}, never sent: {e}"
        );
        if let Some(prev) = number_of.insert(id, n) {
            assert_eq!(prev, n, "C{id} has two order numbers (record {seq})");
        }
        if let Some(prev) = id_of.insert(n, id) {
            assert_eq!(
                prev, id,
                "#{n} is two orders, C{prev} and C{id} (record {seq})"
            );
        }
    }

    let state = state_of(&events);
    assert!(
        state.anomalies.is_empty(),
        "journal anomalies: {:#?}",
        state.anomalies
    );
    assert!(
        state.in_doubt.is_empty(),
        "orders left in doubt: {:?}",
        state.in_doubt
    );

    // Every order the simulator received is exactly one journaled order, the same order.
    let originals: Vec<&SimOrder> = sim_orders.iter().filter(|o| o.orgordno == 0).collect();
    for o in &originals {
        let id = *id_of.get(&o.ordno).unwrap_or_else(|| {
            panic!(
                "simulator order #{} ({} {:?} {} @ {}) is no journaled order: sent twice or never journaled",
                o.ordno, o.ticker, o.side, o.qty, o.price
            )
        });
        let JournalEvent::OrderSent {
            ticker,
            side,
            qty,
            order_type,
            ..
        } = sent[&id]
        else {
            unreachable!()
        };
        assert_eq!(
            (ticker.as_str(), *side, qty.shares()),
            (o.ticker.as_str(), o.side, o.qty),
            "C{id} is not #{}",
            o.ordno
        );
        if let OrderType::Limit(p) = order_type {
            assert_eq!(p.won(), o.price, "C{id} #{} price", o.ordno);
        }
        let mine = state
            .book
            .get(condor_actors::messages::ClientOrderId(id))
            .expect("in the book");
        assert_eq!(
            (mine.filled_qty().shares(), mine.remaining().shares()),
            (o.filled, o.remaining),
            "C{id} #{} (filled, working) by the journal vs the simulator; journal state {}",
            o.ordno,
            mine.state()
        );
    }
    assert_eq!(
        id_of.len(),
        originals.len(),
        "journaled order numbers not at the simulator: {:?}",
        id_of
            .keys()
            .filter(|n| !originals.iter().any(|o| o.ordno == **n))
            .collect::<Vec<_>>()
    );
    // Orders that never got a number never reached the simulator: they are closed.
    for id in sent.keys().filter(|id| !number_of.contains_key(id)) {
        let o = state
            .book
            .get(condor_actors::messages::ClientOrderId(*id))
            .unwrap();
        assert_eq!(
            o.state(),
            OrderState::Rejected,
            "C{id} has no number but is {}",
            o.state()
        );
    }
    // Cancels are of our orders.
    for c in sim_orders.iter().filter(|o| o.orgordno != 0) {
        assert!(
            id_of.contains_key(&c.orgordno),
            "cancel #{} of a stranger #{}",
            c.ordno,
            c.orgordno
        );
    }
    // What is working, by number and shares.
    let working_journal: BTreeMap<i64, u64> = state
        .book
        .working()
        .map(|o| (o.order_no().map_or(0, |n| n.0), o.remaining().shares()))
        .collect();
    let working_sim: BTreeMap<i64, u64> = originals
        .iter()
        .filter(|o| o.remaining > 0)
        .map(|o| (o.ordno, o.remaining))
        .collect();
    assert_eq!(
        working_journal, working_sim,
        "working orders (number → shares)"
    );

    // Cash and positions.
    let cash = broker.cash().await;
    match check {
        CashCheck::Exact => assert_eq!(state.ledger.cash(), cash, "cash: journal vs simulator"),
        CashCheck::WithinRounding => {
            let bound = rounding_bound(&events);
            assert!(
                (state.ledger.cash() - cash).abs() <= bound,
                "cash: journal {} vs simulator {cash}, more than the order list's rounding ({bound} won) apart",
                state.ledger.cash()
            );
        }
    }
    let held_journal: BTreeMap<String, u64> = state
        .ledger
        .positions()
        .filter(|(_, p)| !p.is_flat())
        .map(|(t, p)| (t.as_str().to_owned(), p.qty.shares()))
        .collect();
    let held_sim = broker.holdings().await;
    assert_eq!(held_journal, held_sim, "positions: journal vs simulator");

    // The summary condor printed at its clean stop (the Portfolio's view) says the same as
    // its journal.
    let pnl = summary
        .lines()
        .find(|l| l.trim_start().starts_with("P&L"))
        .unwrap_or_else(|| panic!("no P&L line in the summary:\n{summary}"));
    assert!(
        pnl.contains(&format!("cash {} won", state.ledger.cash())),
        "summary cash vs the journal's {}: {pnl}",
        state.ledger.cash()
    );
    assert!(
        pnl.contains(&format!("{} position(s) open", held_sim.len())),
        "summary positions vs the simulator's {}: {pnl}",
        held_sim.len()
    );
    Agreement {
        orders: originals.len(),
        fills: state.fills.len(),
        positions: held_sim.len(),
        cash,
    }
}

// ---------------------------------------------------------------------------------------
// Test 1: crash anywhere

/// A new schedule each run unless `CONDOR_TEST_SEED` replays one: the soak explores.
fn seed(test: &str) -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    rng::seed(test, now)
}

fn kills(default: usize) -> usize {
    match std::env::var("CONDOR_CRASH_KILLS") {
        Ok(s) => s.parse().expect("CONDOR_CRASH_KILLS is a number"),
        Err(_) => default,
    }
}

fn busy_scenario() -> String {
    lives::busy_scenario(
        "condition S001 crash test\ncondition S009 nothing\n",
        TICKERS,
        137,
    )
}

/// When a life is killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Moment {
    /// This long after the process starts: during start-up (token, journal, reconciliation)
    /// or early trading.
    Early(u64),
    /// Right after the journal holds one more `Started`: the broker is being read and the
    /// differences journaled.
    AfterStart(u64),
    /// Right after the journal holds one more `OrderSent` (durable, the request leaving).
    AfterSent(u64),
    /// Right after one more acknowledgement (the fill not yet in).
    AfterAck(u64),
    /// Right after one more fill.
    AfterFill(u64),
    /// At any time this long after start.
    Anytime(u64),
}

fn pick(rng: &mut fastrand::Rng) -> Moment {
    // A few milliseconds of jitter after the event, sometimes none.
    let jitter = if rng.bool() { 0 } else { rng.u64(0..8) };
    match rng.u32(0..10) {
        0 => Moment::Early(rng.u64(0..400)),
        1 => Moment::AfterStart(jitter),
        2 | 3 => Moment::AfterSent(jitter),
        4 | 5 => Moment::AfterAck(jitter),
        6 | 7 => Moment::AfterFill(jitter),
        _ => Moment::Anytime(rng.u64(400..3_000)),
    }
}

/// Waits until `f` says yes about the journal, while the life is alive; panics after the
/// patience.
async fn wait_journal(c: &mut Condor, watch: &mut Watch, what: &str, f: impl Fn(Counts) -> bool) {
    let (life, log) = (c.life, c.stderr.clone());
    Poll::every(Duration::from_millis(2))
        .until(
            || format!("life {life}: {what}\n{}", tail(&log, 30)),
            async || {
                let counts = watch.counts();
                if f(counts) {
                    return Ok(());
                }
                c.assert_alive();
                Err(format!("journal {counts:?}"))
            },
        )
        .await
}

/// Waits until this life's log holds `text`.
async fn wait_log(c: &mut Condor, text: &str) {
    let (life, log) = (c.life, c.stderr.clone());
    Poll::every(Duration::from_millis(10))
        .until(
            || format!("life {life}: no {text:?} in the log:\n{}", tail(&log, 30)),
            async || {
                let found = std::fs::read_to_string(&c.stderr)
                    .unwrap_or_default()
                    .contains(text);
                if !found {
                    c.assert_alive();
                }
                found
            },
        )
        .await
}

#[tokio::test]
async fn sigkill_at_random_moments_never_sends_an_order_twice_and_ends_agreeing_with_the_broker() {
    crash_anywhere(Protocol::Ls, DEFAULT_KILLS).await;
}

#[tokio::test]
async fn sigkill_at_random_moments_never_sends_an_order_twice_and_ends_agreeing_with_kiwoom() {
    crash_anywhere(Protocol::Kiwoom, DEFAULT_KILLS_KIWOOM).await;
}

/// Test 1 against a simulator speaking `protocol`, `default_kills` kills unless
/// `CONDOR_CRASH_KILLS` says otherwise.
async fn crash_anywhere(protocol: Protocol, default_kills: usize) {
    let name = protocol.name();
    let seed = seed(&format!("crash test ({name})"));
    let kills = kills(default_kills);
    println!("crash test ({name}): {kills} kills");
    let mut rng = fastrand::Rng::with_seed(seed);
    let work = Work::new(&format!("anywhere-{name}"), seed);
    let sim = start_sim_with(
        &work,
        seed % 1_000_000,
        "5",
        &busy_scenario(),
        protocol.sim_args(),
    );
    let broker = Broker::connect(&sim).await;
    let data = work.path("data");
    let mut settings = RunSettings::new(&sim, &data, BUSY);
    let mut watch = Watch::new(&data);

    let mut moments: Vec<Moment> = (0..kills).map(|_| pick(&mut rng)).collect();
    // The first life always dies during start-up, before its first order.
    moments[0] = if rng.bool() {
        Moment::Early(rng.u64(0..200))
    } else {
        Moment::AfterStart(0)
    };
    let mut lives_sending = 0;
    let mut last_no = broker.last_order_no().await;
    for (life, moment) in moments.iter().enumerate() {
        let before = watch.counts();
        let mut c = spawn_condor(&work, &settings, life);
        match *moment {
            Moment::Early(ms) | Moment::Anytime(ms) => sleep(Duration::from_millis(ms)).await,
            Moment::AfterStart(jitter)
            | Moment::AfterSent(jitter)
            | Moment::AfterAck(jitter)
            | Moment::AfterFill(jitter) => {
                let (what, f): (&str, fn(Counts, Counts) -> bool) = match moment {
                    Moment::AfterStart(_) => ("the start", |b, n| n.started > b.started),
                    Moment::AfterSent(_) => ("an order sent", |b, n| n.sent > b.sent),
                    Moment::AfterAck(_) => ("an order acknowledged", |b, n| n.acked > b.acked),
                    _ => ("a fill", |b, n| n.filled > b.filled),
                };
                wait_journal(&mut c, &mut watch, what, |n| f(before, n)).await;
                if jitter > 0 {
                    sleep(Duration::from_millis(jitter)).await;
                }
            }
        }
        c.kill9();
        let after = watch.counts();
        let no = broker.last_order_no().await;
        if after.sent > before.sent {
            lives_sending += 1;
        }
        println!(
            "life {life:3}: killed {moment:?}; journal +{} sent +{} acked +{} filled; simulator orders #{last_no} → #{no}",
            after.sent - before.sent,
            after.acked - before.acked,
            after.filled - before.filled,
        );
        last_no = no;
    }

    // The last life trades a little, then stops cleanly.
    let before = watch.counts();
    let mut c = spawn_condor(&work, &settings, kills);
    wait_journal(&mut c, &mut watch, "an order after the last restart", |n| {
        n.sent > before.sent
    })
    .await;
    let (status, stdout, stderr) = c.terminate().await;
    assert!(
        status.success(),
        "exit 0 on SIGTERM: {status:?}\n{}",
        tail(&life_log(&work, kills), 40)
    );
    assert!(
        !stderr.contains("still open after"),
        "the clean stop left orders open:\n{}",
        tail(&life_log(&work, kills), 40)
    );
    assert!(!stderr.contains(&sim.appsecret) && !stderr.contains(&sim.appkey));

    // Trading went on between the kills: every life killed after an acknowledgement or a
    // fill left its order at the simulator, and so did the last life.
    let total = broker.orders().await.len();
    let acknowledged = moments
        .iter()
        .filter(|m| matches!(m, Moment::AfterAck(_) | Moment::AfterFill(_)))
        .count();
    assert!(
        total > acknowledged,
        "only {total} orders at the simulator for {acknowledged} lives killed after an acknowledgement or a fill, and the last"
    );
    // At LS, starting takes a fraction of a second, and a life killed at a random moment
    // has mostly traded: most lives sent orders, the simulator got more orders than there
    // were lives. Kiwoom's start reads the account at 5 queries a second (its terms of
    // use), about a second, so a random kill often lands in it: these are not Kiwoom's.
    if protocol == Protocol::Ls {
        assert!(
            total > kills,
            "only {total} orders at the simulator over {} lives",
            kills + 1
        );
        assert!(
            lives_sending * 2 >= kills,
            "only {lives_sending} of {kills} killed lives sent an order"
        );
    }
    // The clean stop: every order, fill, position and working order as at the simulator;
    // the cash too, but for the order list's rounding if the last start could not correct it.
    assert_agree(&broker, &data, &stdout, CashCheck::WithinRounding).await;

    // A final reconciliation: one more start, on a condition with no members, reads the
    // account while it stands still (nothing works at the broker after the clean stop),
    // finds the positions already right, sets the cash, and stops cleanly again.
    settings.set("CONDOR_CONDITION", "S009");
    let before = watch.counts();
    let mut c = spawn_condor(&work, &settings, kills + 1);
    wait_journal(&mut c, &mut watch, "the final start", |n| {
        n.started > before.started
    })
    .await;
    wait_log(&mut c, "] trading; opening cash").await;
    let (status, stdout, stderr) = c.terminate().await;
    assert!(status.success(), "{status:?}\n{stderr}");
    assert!(
        !stderr.contains("the broker's is adopted") && !stderr.contains("kept changing"),
        "the final start found positions to adopt:\n{stderr}"
    );
    let agreed = assert_agree(&broker, &data, &stdout, CashCheck::Exact).await;
    // No life took a fill of its own orders for a stranger's.
    for life in 0..=kills + 1 {
        let log = std::fs::read_to_string(life_log(&work, life)).unwrap();
        assert!(
            !log.contains("fill for unknown order"),
            "life {life} did not know one of its fills:\n{}",
            tail(&life_log(&work, life), 40)
        );
    }
    let events = journal_events(&data);
    let starts = events
        .iter()
        .filter(|(_, e)| matches!(e, JournalEvent::Started { .. }))
        .count();
    // Every life that traded started on the journal (the early ones may not have got so far).
    let traded = moments
        .iter()
        .filter(|m| {
            matches!(
                m,
                Moment::AfterStart(_)
                    | Moment::AfterSent(_)
                    | Moment::AfterAck(_)
                    | Moment::AfterFill(_)
            )
        })
        .count();
    assert!(
        starts > traded + 1 && starts <= kills + 2,
        "{starts} starts journaled for {} lives, {traded} of them trading before the kill",
        kills + 2
    );
    // The tape through every kill: the replay gives every live intent again, in order,
    // and no order the journal sent lacks its intent on the tape.
    let out = lives::condor_cmd(&work.0)
        .env("RUST_LOG", "warn")
        .args(["replay", "--json", "--data-dir"])
        .arg(&data)
        .output()
        .expect("condor replay runs");
    let replay: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("replay: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        out.status.success(),
        "replay after {kills} kills: {}",
        serde_json::to_string_pretty(&replay).unwrap()
    );
    assert!(
        replay["journal"]["not_on_tape"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{replay}"
    );
    println!(
        "crash test ({name}): seed {seed}: {kills} kills ({lives_sending} lives sending orders), {} orders at the simulator (none twice), {} fills, {} positions, cash {} won: journal and simulator agree; replay of the tape: {} intents identical over {} starts",
        agreed.orders, agreed.fills, agreed.positions, agreed.cash, replay["live_intents"], replay["starts"]
    );
}

// ---------------------------------------------------------------------------------------
// Test 2: fills while down

#[tokio::test]
async fn a_fill_made_while_condor_is_dead_is_booked_against_its_order_at_restart() {
    fill_while_down(Protocol::Ls).await;
}

#[tokio::test]
async fn a_fill_made_while_condor_is_dead_is_booked_against_its_order_at_restart_on_kiwoom() {
    fill_while_down(Protocol::Kiwoom).await;
}

/// One ticker, slow trades: an acknowledged order waits for the next print, so condor can
/// be killed between the two. S009 has no members: a start on it only reconciles.
const ONE_TICKER: &str =
    "condition S002 one ticker\ncondition S009 nothing\nat 0ms S002 enter 005930\n";

/// The momentum strategy on S002, in and out within a second or two.
const QUICK: &[(&str, &str)] = &[
    ("CONDOR_CONDITION", "S002"),
    ("CONDOR_CONFIRM_TICKS", "1"),
    ("CONDOR_MIN_CHANGE_BP", "-3000"),
    ("CONDOR_TAKE_PROFIT_BP", "1"),
    ("CONDOR_STOP_LOSS_BP", "1"),
    ("CONDOR_MAX_HOLD_SECS", "1"),
    ("CONDOR_BUDGET_WON", "300000"),
];

/// Waits until this life has an order acknowledged and not yet done (a sell, if `sells`)
/// among the journal's records after `from`; returns its id, number and shares.
async fn acked_and_working(c: &mut Condor, data: &Path, from: u64, sells: bool) -> (u64, i64, u64) {
    let (life, log) = (c.life, c.stderr.clone());
    let what = if sells { "sell" } else { "order" };
    Poll::every(Duration::from_millis(2))
        .within(PATIENCE * 3)
        .until(
            || format!("no {what} acknowledged in life {life}:\n{}", tail(&log, 30)),
            async || {
                let events: Vec<(u64, JournalEvent)> = journal_events(data)
                    .into_iter()
                    .filter(|(seq, _)| *seq > from)
                    .collect();
                let done: BTreeSet<u64> = events
                    .iter()
                    .filter_map(|(_, e)| match e {
                        JournalEvent::Filled { id, .. }
                        | JournalEvent::Rejected { id, .. }
                        | JournalEvent::Cancelled { id, .. } => Some(*id),
                        _ => None,
                    })
                    .collect();
                let sent: BTreeMap<u64, u64> = events
                    .iter()
                    .filter_map(|(_, e)| match e {
                        JournalEvent::OrderSent { id, side, qty, .. }
                            if !sells || *side == Side::Sell =>
                        {
                            Some((*id, qty.shares()))
                        }
                        _ => None,
                    })
                    .collect();
                let acked = events.iter().find_map(|(_, e)| match e {
                    JournalEvent::Acked { id, order_no }
                        if sent.contains_key(id) && !done.contains(id) =>
                    {
                        Some((*id, order_no.0, sent[id]))
                    }
                    _ => None,
                });
                if acked.is_none() {
                    c.assert_alive();
                }
                acked
            },
        )
        .await
}

/// Test 2 against a simulator speaking `protocol`.
async fn fill_while_down(protocol: Protocol) {
    let name = protocol.name();
    let seed = seed(&format!("fills-while-down test ({name})"));
    let work = Work::new(&format!("down-{name}"), seed);
    let sim = start_sim_with(
        &work,
        seed % 1_000_000,
        "1",
        ONE_TICKER,
        protocol.sim_args(),
    );
    let broker = Broker::connect(&sim).await;
    let data = work.path("data");
    let mut watch = Watch::new(&data);
    let mut settings = RunSettings::new(&sim, &data, QUICK);

    // Kill right after a market sell is acknowledged, before its fill reaches condor; a
    // print that beats the kill spoils the attempt, and another life tries again.
    let mut life = 0;
    let (id, order_no, qty) = loop {
        assert!(
            life < 10,
            "no attempt killed condor between an ack and its fill"
        );
        // Only this life's orders: an earlier life's may still wait for this one's
        // reconciliation.
        let from = journal_events(&data).last().map_or(0, |(seq, _)| *seq);
        let mut c = spawn_condor(&work, &settings, life);
        life += 1;
        let target = acked_and_working(&mut c, &data, from, true).await;
        c.kill9();
        let (id, order_no, _) = target;
        let at_sim = broker.orders().await;
        let row = at_sim
            .iter()
            .find(|o| o.ordno == order_no)
            .expect("the sell is at the simulator");
        let filled_in_journal = journal_events(&data)
            .iter()
            .any(|(_, e)| matches!(e, JournalEvent::Filled { id: f, .. } if *f == id));
        if row.filled == 0 && !filled_in_journal {
            println!(
                "life {}: killed after C{id} #{order_no} was acknowledged, before any fill",
                life - 1
            );
            break target;
        }
        println!(
            "life {}: C{id} #{order_no} filled before the kill; again",
            life - 1
        );
    };

    // condor is dead; the simulator fills the market sell on its next prints.
    Poll::every(Duration::from_millis(50))
        .until(
            format!("the simulator never filled #{order_no}"),
            async || {
                let at_sim = broker.orders().await;
                let row = at_sim.iter().find(|o| o.ordno == order_no).unwrap();
                if row.filled == qty {
                    Ok(())
                } else {
                    Err(format!("{row:?}"))
                }
            },
        )
        .await;

    // Restart on a condition with no members: nothing new is traded, only what the
    // journal and the broker say is learned.
    settings.set("CONDOR_CONDITION", "S009");
    let before = watch.counts();
    let mut c = spawn_condor(&work, &settings, life);
    let log = c.stderr.clone();
    let fill = Poll::every(Duration::from_millis(10))
        .until(
            || format!("the restart never booked C{id}'s fill:\n{}", tail(&log, 30)),
            async || {
                let found = journal_events(&data)
                    .into_iter()
                    .find_map(|(_, e)| match e {
                        JournalEvent::Filled { id: f, .. } if f == id => Some(e),
                        _ => None,
                    });
                if found.is_none() {
                    c.assert_alive();
                }
                found
            },
        )
        .await;
    match &fill {
        JournalEvent::Filled {
            order_no: n,
            qty: q,
            side: Side::Sell,
            source: FillSource::Reconcile,
            ..
        } => {
            assert_eq!((n.0, q.shares()), (order_no, qty), "{fill}");
        }
        other => panic!("C{id}'s fill is not a reconciliation fill of the sell: {other}"),
    }
    // Wait until it is trading (the start-up reconciliation is over), then stop it.
    wait_journal(&mut c, &mut watch, "the restart", |n| {
        n.started > before.started
    })
    .await;
    wait_log(&mut c, "] trading; opening cash").await;
    let (status, stdout, stderr) = c.terminate().await;
    assert!(status.success(), "{status:?}\n{stderr}");
    assert!(
        !stderr.contains("fill for unknown order") && !stderr.contains("not_ours"),
        "the fill was matched to its order, not taken for a stranger's:\n{stderr}"
    );
    let events = journal_events(&data);
    let state = state_of(&events);
    let order = state
        .book
        .get(condor_actors::messages::ClientOrderId(id))
        .unwrap();
    assert_eq!(order.state(), OrderState::Filled, "C{id}");
    assert_eq!(order.filled_qty().shares(), qty);
    let agreed = assert_agree(&broker, &data, &stdout, CashCheck::Exact).await;
    println!("fills-while-down test ({name}): C{id} #{order_no} sold {qty} while condor was dead, booked at restart: {agreed:?}");
}

// ---------------------------------------------------------------------------------------
// Test 3: a cancel while down

#[tokio::test]
async fn an_order_cancelled_at_the_broker_while_condor_is_dead_is_closed_at_restart() {
    cancel_while_down(Protocol::Ls).await;
}

#[tokio::test]
async fn an_order_cancelled_at_the_broker_while_condor_is_dead_is_closed_at_restart_on_kiwoom() {
    cancel_while_down(Protocol::Kiwoom).await;
}

/// An order acknowledged, condor killed, the order cancelled by hand at the broker with
/// nothing filled, and the restart closing it: not working for good, which would keep
/// its ticker's exit refused as a duplicate. Against a simulator speaking `protocol`.
async fn cancel_while_down(protocol: Protocol) {
    let name = protocol.name();
    let seed = seed(&format!("cancelled-while-down test ({name})"));
    let work = Work::new(&format!("cancelled-{name}"), seed);
    let sim = start_sim_with(
        &work,
        seed % 1_000_000,
        "1",
        ONE_TICKER,
        protocol.sim_args(),
    );
    let broker = Broker::connect(&sim).await;
    let data = work.path("data");
    let mut watch = Watch::new(&data);
    let mut settings = RunSettings::new(&sim, &data, QUICK);

    // Kill right after an order is acknowledged and cancel it before a print fills it; a
    // print that beats the cancel spoils the attempt, and another life tries again.
    let mut life = 0;
    let (id, order_no) = loop {
        assert!(
            life < 10,
            "no attempt cancelled an order with nothing filled while condor was dead"
        );
        let from = journal_events(&data).last().map_or(0, |(seq, _)| *seq);
        let mut c = spawn_condor(&work, &settings, life);
        life += 1;
        let (id, order_no, _) = acked_and_working(&mut c, &data, from, false).await;
        c.kill9();
        let row = |orders: Vec<SimOrder>| {
            orders
                .into_iter()
                .find(|o| o.ordno == order_no)
                .expect("the order is at the simulator")
        };
        let before = row(broker.orders().await);
        if before.filled == 0 && broker.cancel(&before).await {
            let after = row(broker.orders().await);
            if after.filled == 0 && after.remaining == 0 {
                println!(
                    "life {}: killed after C{id} #{order_no} was acknowledged; cancelled at the broker with nothing filled",
                    life - 1
                );
                break (id, order_no);
            }
        }
        println!(
            "life {}: C{id} #{order_no} filled before the cancel; again",
            life - 1
        );
    };

    settings.set("CONDOR_CONDITION", "S009");
    let before = watch.counts();
    let mut c = spawn_condor(&work, &settings, life);
    wait_journal(&mut c, &mut watch, "the restart", |n| {
        n.started > before.started
    })
    .await;
    wait_log(&mut c, "] trading; opening cash").await;
    let (status, stdout, stderr) = c.terminate().await;
    assert!(status.success(), "{status:?}\n{stderr}");
    let state = state_of(&journal_events(&data));
    let order = state
        .book
        .get(condor_actors::messages::ClientOrderId(id))
        .unwrap();
    assert_eq!(
        (
            order.state(),
            order.filled_qty().shares(),
            order.remaining().shares()
        ),
        (OrderState::Cancelled, 0, 0),
        "C{id} #{order_no} after the restart:\n{}",
        tail(&life_log(&work, life), 30)
    );
    let agreed = assert_agree(&broker, &data, &stdout, CashCheck::Exact).await;
    println!("cancelled-while-down test ({name}): C{id} #{order_no} cancelled while condor was dead, closed at restart: {agreed:?}");
}
