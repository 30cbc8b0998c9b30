//! `condor replay`: proves what the engine did on a recorded day. Feeds the day's tape
//! through the trading core (`condor_actors::trading::replay`) with the strategy and
//! settings each start recorded (or those `--set` replaces), and compares the intents with
//! the ones the live run produced, recorded on the same tape. Prints the counts and every
//! difference; exits 1 on any difference, 2 when the tape cannot be read.
//!
//! Reads tapes only; writes nothing. The tape is streamed (one block in memory, plus the
//! intents compared), so a long day costs no more memory than a short one. A damaged tape
//! replays its good prefix and says where it stopped.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _};
use clap::Args;
use condor_actors::clock::{Clock, SystemClock, TradingDay};
use condor_actors::journal::{self, event::JournalEvent, store};
use condor_actors::market::{Price, Side};
use condor_actors::messages::OrderType;
use condor_actors::order_manager::REASON_KILL_SWITCH_FLATTEN;
use condor_actors::strategy::{StrategyFactory, StrategyRegistry};
use condor_actors::tape::{self, TapeReader};
use condor_actors::trading::desk_tape::{recovered_from_journal, CarriedOver, DeskReplay};
use condor_actors::trading::orders::RecoveredOrders;
use condor_actors::trading::replay::{replay_with, ReplayOutcome, StartedWith};
use serde::Serialize;
use serde_json::json;

/// Where the tapes live under the data directory.
pub fn tape_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tape")
}

fn parse_day(s: &str) -> Result<TradingDay, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_set(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, got {s:?}"))?;
    if k.trim().is_empty() {
        return Err(format!("expected NAME=VALUE, got {s:?}"));
    }
    Ok((k.trim().to_owned(), v.trim().to_owned()))
}

#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// The trading day to replay (YYYY-MM-DD, KST); today by default.
    #[arg(long, value_parser = parse_day)]
    pub day: Option<TradingDay>,
    /// A tape file to replay instead of the day's under the data directory.
    #[arg(long, conflicts_with = "day")]
    pub tape: Option<PathBuf>,
    /// Where condor keeps its tapes (one file per trading day under `tape/`).
    #[arg(long, env = "CONDOR_DATA_DIR", default_value = "condor-data")]
    pub data_dir: PathBuf,
    /// Replace a recorded strategy parameter for the replay, e.g. `--set take_profit_bp=200`
    /// (repeatable): what would the engine have done with it?
    #[arg(long = "set", value_parser = parse_set, value_name = "NAME=VALUE")]
    pub set: Vec<(String, String)>,
    /// Replay with this strategy instead of the recorded one.
    #[arg(long)]
    pub strategy: Option<String>,
    /// One JSON document (`intents`, `differences`, counts) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// What `condor replay` found, for its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Identical,
    Differs,
}

/// Runs `condor replay` with the built-in strategies.
pub fn run(args: &ReplayArgs) -> anyhow::Result<Verdict> {
    run_with(args, &StrategyRegistry::new())
}

/// Runs `condor replay` with the strategies `registry` knows (a user's program passes its
/// own, so its strategies replay too).
pub fn run_with(args: &ReplayArgs, registry: &StrategyRegistry) -> anyhow::Result<Verdict> {
    let (label, path, day) = match (&args.tape, args.day) {
        (Some(p), _) => (p.display().to_string(), p.clone(), None),
        (None, day) => {
            let day = day.unwrap_or_else(|| SystemClock.today());
            (
                day.to_string(),
                tape::day_path(&tape_dir(&args.data_dir), day),
                Some(day),
            )
        }
    };
    if !path.exists() {
        return Err(anyhow!(
            "no tape for {label}: {} does not exist (condor run records one per day unless CONDOR_TAPE=off)",
            path.display()
        ));
    }
    let Replayed {
        outcome,
        writer,
        stopped,
    } = replay_tape(&path, registry, args)?;
    // The journal of the same day says which intents became orders: each must be on the
    // tape, which a crash must never lose once the order is sent.
    let journal = match day {
        Some(day) => journal_check(&args.data_dir, day, &outcome)?,
        None => None,
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = json!({
            "tape": path.display().to_string(),
            "writer": writer,
            "starts": outcome.starts,
            "records": outcome.records,
            "trades": outcome.trades,
            "live_intents": outcome.live.len(),
            "replayed_intents": outcome.replayed.len(),
            "intents": outcome.replayed.iter().map(|(_, i)| i).collect::<Vec<_>>(),
            "differences": outcome.differences,
            "orders": outcome.orders,
            "stopped": stopped,
            "journal": journal,
        });
        writeln!(out, "{doc}")?;
    } else {
        print_text(&mut out, &path, &outcome, stopped.as_deref())?;
        if let Some(j) = &journal {
            writeln!(
                out,
                "journal: {} orders sent and {} intents refused by the risk gate, {} of them not on the tape",
                j.orders_sent,
                j.refused,
                j.not_on_tape.len()
            )?;
            for o in &j.not_on_tape {
                writeln!(out, "  not on the tape: {o}")?;
            }
        }
    }
    out.flush()?;
    let complete = journal.as_ref().is_none_or(|j| j.not_on_tape.is_empty());
    Ok(
        if outcome.differences.is_empty() && outcome.orders.differences.is_empty() && complete {
            Verdict::Identical
        } else {
            Verdict::Differs
        },
    )
}

/// A tape replayed: what the replay found, who wrote the tape, and where reading stopped
/// early if it did.
struct Replayed {
    outcome: ReplayOutcome,
    writer: String,
    stopped: Option<String>,
}

/// Streams the tape at `path` through the replay. Damage is only known once the stream
/// ends there, so it is reported after the replay, with the counts of the good prefix.
fn replay_tape(
    path: &Path,
    registry: &StrategyRegistry,
    args: &ReplayArgs,
) -> anyhow::Result<Replayed> {
    let context = || format!("cannot read the tape {}", path.display());
    let mut reader = TapeReader::open(path).with_context(context)?;
    let records = std::iter::from_fn(|| reader.next_record().with_context(context).transpose());
    let orders = DeskReplay::new().with_journal(Box::new(journal_state(&args.data_dir)));
    let outcome = replay_with(records, |started| build(registry, args, started), orders)?;
    let stopped = reader.damage().map(|d| {
        format!(
            "the tape is damaged at byte {} after record #{} ({}; {} bytes not read): replayed the good part before it",
            d.offset, d.after_seq, d.reason, d.bytes_left
        )
    });
    Ok(Replayed {
        outcome,
        writer: reader.writer().to_owned(),
        stopped,
    })
}

/// Rebuilds the state a desk took over at a restart from that day's journal under
/// `data_dir`, as the restart did (each day's journal read once).
fn journal_state(data_dir: &Path) -> impl FnMut(&CarriedOver) -> Result<RecoveredOrders, String> {
    let dir = data_dir.join("journal");
    let mut days: HashMap<TradingDay, Vec<store::Record<JournalEvent>>> = HashMap::new();
    move |c| {
        let records = match days.entry(c.day) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let path = journal::day_path(&dir, c.day);
                if !path.exists() {
                    return Err(format!("no journal for {} at {}", c.day, path.display()));
                }
                let read = store::read::<JournalEvent>(&path).map_err(|e| e.to_string())?;
                e.insert(read.records)
            }
        };
        Ok(recovered_from_journal(
            c.day,
            records.iter().map(|r| (r.seq, &r.event)),
            c.journal_seq,
        ))
    }
}

fn print_text(
    out: &mut impl Write,
    path: &Path,
    o: &ReplayOutcome,
    stopped: Option<&str>,
) -> std::io::Result<()> {
    writeln!(
        out,
        "replay of {}: {} start(s), {} records, {} trades",
        path.display(),
        o.starts,
        o.records,
        o.trades
    )?;
    if let Some(s) = stopped {
        writeln!(out, "warning: {s}")?;
    }
    writeln!(
        out,
        "intents: {} live, {} replayed, {} difference(s)",
        o.live.len(),
        o.replayed.len(),
        o.differences.len()
    )?;
    for d in &o.differences {
        let show = |i: &Option<condor_actors::trading::replay::IntentRow>| {
            i.as_ref()
                .map_or_else(|| "none".to_owned(), |i| i.to_string())
        };
        writeln!(
            out,
            "  after record #{}: live {}; replayed {}",
            d.after_record,
            show(&d.live),
            show(&d.replayed)
        )?;
    }
    print_orders(out, o)
}

/// The order engine's part: its inputs fed to a fresh desk, its decisions compared.
fn print_orders(out: &mut impl Write, o: &ReplayOutcome) -> std::io::Result<()> {
    let d = &o.orders;
    if d.desks == 0 {
        return writeln!(
            out,
            "orders: the order engine is not on this tape (recorded before tape version 3, or imported)"
        );
    }
    writeln!(
        out,
        "orders: {} of {} desk(s) replayed, {} inputs, {} decisions ({} orders sent, {} refusals), {} difference(s)",
        d.replayed,
        d.desks,
        d.inputs,
        d.commands,
        d.orders_sent,
        d.refusals,
        d.differences.len()
    )?;
    for why in &d.not_replayed {
        writeln!(out, "  not replayed: {why}")?;
    }
    if d.replayed == d.desks && d.intents_received != o.live.len() as u64 {
        // Between the strategies and the order engine: a crash in between, or a loss.
        writeln!(
            out,
            "  the strategies recorded {} intent(s), the order engine received {}",
            o.live.len(),
            d.intents_received
        )?;
    }
    for diff in &d.differences {
        writeln!(out, "  at record #{}: {}", diff.record, diff.input)?;
        for l in &diff.live {
            writeln!(out, "    live:     {l}")?;
        }
        for r in &diff.replayed {
            writeln!(out, "    replayed: {r}")?;
        }
    }
    Ok(())
}

/// What the day's journal says of the live intents.
#[derive(Debug, Serialize)]
struct JournalCheck {
    orders_sent: usize,
    refused: usize,
    /// Journaled orders and refusals no live intent on the tape accounts for.
    not_on_tape: Vec<String>,
}

/// Matches each order the journal sent (and each intent the risk gate refused) with a
/// live intent on the tape. The kill switch's own flatten sells are no strategy's and are
/// left out. `None` when the day has no journal.
fn journal_check(
    data_dir: &Path,
    day: TradingDay,
    outcome: &ReplayOutcome,
) -> anyhow::Result<Option<JournalCheck>> {
    let path = journal::day_path(&data_dir.join("journal"), day);
    if !path.exists() {
        return Ok(None);
    }
    let records = store::read::<JournalEvent>(&path)
        .with_context(|| format!("cannot read the journal {}", path.display()))?
        .records;
    let key = |ticker: &str, side: Side, qty: u64, ot: OrderType, reason: &str| {
        let (kind, price) = match ot {
            OrderType::Market => ("market", None),
            OrderType::Limit(p) => ("limit", Some(p.won())),
        };
        let side = match side {
            Side::Buy => "buy",
            Side::Sell => "sell",
        };
        format!("{ticker} {side} {qty} {kind} {price:?} ({reason})")
    };
    let mut on_tape: HashMap<String, usize> = HashMap::new();
    for (_, i) in &outcome.live {
        let ot = match i.price {
            Some(p) => OrderType::Limit(Price::new_or_zero(p)?),
            None => OrderType::Market,
        };
        let side = if i.side == "buy" {
            Side::Buy
        } else {
            Side::Sell
        };
        *on_tape
            .entry(key(&i.ticker, side, i.qty, ot, &i.reason))
            .or_default() += 1;
    }
    let mut check = JournalCheck {
        orders_sent: 0,
        refused: 0,
        not_on_tape: Vec::new(),
    };
    for r in &records {
        let k = match &r.event {
            JournalEvent::OrderSent {
                ticker,
                side,
                qty,
                order_type,
                reason,
                ..
            } if reason != REASON_KILL_SWITCH_FLATTEN => {
                check.orders_sent += 1;
                key(ticker.as_str(), *side, qty.shares(), *order_type, reason)
            }
            JournalEvent::Refused {
                ticker,
                side,
                qty,
                order_type,
                reason,
                ..
            } if reason != REASON_KILL_SWITCH_FLATTEN => {
                check.refused += 1;
                key(ticker.as_str(), *side, qty.shares(), *order_type, reason)
            }
            _ => continue,
        };
        match on_tape.get_mut(&k) {
            Some(n) if *n > 0 => *n -= 1,
            _ => check
                .not_on_tape
                .push(format!("journal record #{}: {k}", r.seq)),
        }
    }
    Ok(Some(check))
}

/// The strategy for one start: the recorded name and parameters, then the overrides.
fn build(
    registry: &StrategyRegistry,
    args: &ReplayArgs,
    started: StartedWith<'_>,
) -> anyhow::Result<Box<dyn StrategyFactory>> {
    let name = args
        .strategy
        .as_deref()
        .or(started.strategy)
        .unwrap_or("momentum");
    let mut params = registry.params(name).map_err(|e| anyhow!("{e}"))?;
    for (k, v) in started.settings.into_iter().flatten() {
        // The settings hold the risk and broker settings too; only the strategy's apply.
        params
            .set(k, v)
            .map_err(|e| anyhow!("the tape's recorded settings: {e}"))?;
    }
    for (k, v) in &args.set {
        if !params.set(k, v).map_err(|e| anyhow!("--set: {e}"))? {
            return Err(anyhow!(
                "--set {k}: not a parameter of {name}; known: {}",
                params.names().join(", ")
            ));
        }
    }
    registry.build(name, &params).map_err(|e| anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use condor_actors::market::{Qty, Ticker, TimeOfDay};
    use condor_actors::strategy::MomentumParams;
    use condor_actors::tape::{Tape, TapeEvent, TapeStarted, TapeTrade};

    fn args(tape: &Path) -> ReplayArgs {
        ReplayArgs {
            day: None,
            tape: Some(tape.to_path_buf()),
            data_dir: PathBuf::from("unused"),
            set: Vec::new(),
            strategy: None,
            json: false,
        }
    }

    /// A start and 200 trades, in two blocks of about 100.
    fn write_day(path: &Path) {
        let tape = Tape::open(path, "condor test").unwrap();
        let mut rec = tape.recorder();
        let settings = MomentumParams::default()
            .to_params()
            .unwrap()
            .settings()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        rec.record(
            0,
            TapeEvent::Started(Box::new(TapeStarted {
                writer: "condor test".into(),
                condition: "0000".into(),
                strategy: "momentum".into(),
                settings,
            })),
        );
        for seq in 1..=200u64 {
            rec.record(
                seq as i64,
                TapeEvent::Trade(TapeTrade {
                    ticker: Ticker::parse("005930").unwrap(),
                    price: Price::lit(10_000 + (seq % 5) as i64 * 10),
                    qty: Qty::lit(1),
                    cum_volume: seq,
                    prev_close: Price::lit(10_000),
                    aggressor: Side::Buy,
                    exchange_time: TimeOfDay::hms(9, 0, 1),
                    seq,
                }),
            );
            if seq == 100 {
                rec.flush();
                tape.sync().unwrap();
            }
        }
        rec.flush();
        assert_eq!(tape.sync().unwrap(), 201);
    }

    #[test]
    fn a_whole_tape_streams_through_the_replay() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("day.tape");
        write_day(&path);
        let r = replay_tape(&path, &StrategyRegistry::new(), &args(&path)).unwrap();
        assert_eq!(r.writer, "condor test");
        assert_eq!(r.stopped, None);
        assert_eq!(
            (r.outcome.starts, r.outcome.records, r.outcome.trades),
            (1, 201, 200)
        );
        assert!(r.outcome.differences.is_empty());
    }

    #[test]
    fn a_torn_tape_replays_its_good_prefix_and_says_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("day.tape");
        write_day(&path);
        let bytes = std::fs::read(&path).unwrap();
        let torn = dir.path().join("torn.tape");
        std::fs::write(&torn, &bytes[..bytes.len() - 7]).unwrap();
        let r = replay_tape(&torn, &StrategyRegistry::new(), &args(&torn)).unwrap();
        // The first block (the start and 100 trades) is whole; the second is cut.
        assert_eq!((r.outcome.records, r.outcome.trades), (101, 100));
        let stopped = r.stopped.expect("says where it stopped");
        assert!(
            stopped.contains("after record #101") && stopped.contains("torn tail"),
            "{stopped}"
        );
    }

    #[test]
    fn a_file_that_is_not_a_tape_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("day.tape");
        std::fs::write(&path, b"not a tape at all, just some text").unwrap();
        let e = replay_tape(&path, &StrategyRegistry::new(), &args(&path))
            .err()
            .expect("an error");
        assert!(e.to_string().contains("cannot read the tape"), "{e:#}");
    }
}
