//! `condor tape`: the recorded days (tapes) from the terminal. `ls` lists them, `dump`
//! prints one (for a person; `--json` for a program; `--csv` its trades in the import
//! layout, so `import` of a dump gives the same trades), `import` makes one from CSV.
//!
//! Reads tapes through `condor_actors::tape` and writes only by `import`, which writes a
//! whole new file atomically (and, with `--force`, refuses while condor is recording that
//! day). A damaged tape dumps its good part, then the command fails naming where it
//! stopped.

use std::collections::HashSet;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Subcommand};
use condor_actors::clock::{Clock, SystemClock, TradingDay};
use condor_actors::market::{Side, Ticker};
use condor_actors::messages::{ConditionId, OrderType};
use condor_actors::retention::ByteSize;
use condor_actors::tape::{
    self, import, TapeError, TapeEvent, TapeReader, TapeRecord, TapeStarted,
};
use serde_json::json;

use crate::retention::{self, Plan, RetentionArgs};

/// Where the tapes live under the data directory.
fn tape_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("tape")
}

fn parse_ticker(s: &str) -> Result<Ticker, String> {
    s.parse().map_err(|e| format!("{e}"))
}

#[derive(Args, Debug)]
pub struct TapeArgs {
    #[command(subcommand)]
    pub command: TapeCommand,
}

#[derive(Subcommand, Debug)]
pub enum TapeCommand {
    /// The recorded days under the data directory (`<data-dir>/tape/`): size, records,
    /// trades and tickers of each.
    Ls {
        /// Where condor keeps its data (tapes under `tape/`).
        #[arg(long, env = "CONDOR_DATA_DIR", default_value = "condor-data")]
        data_dir: PathBuf,
        /// The retention the listing marks (what `condor tape prune` would remove).
        #[command(flatten)]
        retention: RetentionArgs,
    },
    /// Remove the tapes and journals past the retention (CONDOR_TAPE_KEEP_DAYS,
    /// CONDOR_TAPE_KEEP_BYTES, CONDOR_JOURNAL_KEEP_DAYS), as `condor run` does at each
    /// start; never today's, never one a running condor holds. Prints each and the bytes
    /// freed.
    Prune {
        /// Print what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Where condor keeps its data (tapes under `tape/`, journals under `journal/`).
        #[arg(long, env = "CONDOR_DATA_DIR", default_value = "condor-data")]
        data_dir: PathBuf,
        #[command(flatten)]
        retention: RetentionArgs,
    },
    /// Print a tape, one line per record as a person reads it (receive times in KST).
    Dump {
        /// A tape file, or a day (YYYY-MM-DD) under the data directory.
        file: String,
        /// Only the records about this ticker (six digits).
        #[arg(long, value_parser = parse_ticker)]
        ticker: Option<Ticker>,
        /// One JSON object per line instead of text.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Only the trades, as CSV in the import layout (`condor tape import` reads it).
        #[arg(long)]
        csv: bool,
        /// Where condor keeps its data, for a day given instead of a file.
        #[arg(long, env = "CONDOR_DATA_DIR", default_value = "condor-data")]
        data_dir: PathBuf,
    },
    /// Make a day's tape from CSV: trades (`date,time,ticker,price,qty,cum_volume,side`,
    /// optional `prev_close`, `exchange_time`) and optionally condition events
    /// (`date,time,ticker,event` with enter/exit). Writes `<data-dir>/tape/<date>.tape`.
    Import {
        /// The trades CSV (header row required).
        #[arg(long)]
        trades: PathBuf,
        /// The condition events CSV (header row required).
        #[arg(long)]
        conditions: Option<PathBuf>,
        /// Where condor keeps its data (the tape goes under `tape/`).
        #[arg(long, env = "CONDOR_DATA_DIR", default_value = "condor-data")]
        data_dir: PathBuf,
        /// Replace the day's tape if there is one (refused while condor is recording it).
        #[arg(long)]
        force: bool,
        /// The retention: an imported day it would remove is warned about.
        #[command(flatten)]
        retention: RetentionArgs,
    },
}

/// `condor tape`.
pub fn run(args: &TapeArgs) -> anyhow::Result<()> {
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match &args.command {
        TapeCommand::Ls {
            data_dir,
            retention,
        } => retention.policy().and_then(|policy| {
            let plan = Plan::of(data_dir, SystemClock.today(), policy)?;
            ls(&tape_dir(data_dir), &plan, &mut out)
        }),
        TapeCommand::Prune {
            dry_run,
            data_dir,
            retention,
        } => retention
            .policy()
            .and_then(|policy| prune(data_dir, SystemClock.today(), policy, *dry_run, &mut out)),
        TapeCommand::Dump {
            file,
            ticker,
            json,
            csv,
            data_dir,
        } => {
            let path = resolve(file, data_dir)?;
            let format = match (json, csv) {
                (true, _) => DumpFormat::Json,
                (_, true) => DumpFormat::Csv,
                _ => DumpFormat::Text,
            };
            dump(&path, *ticker, format, &mut out)
        }
        TapeCommand::Import {
            trades,
            conditions,
            data_dir,
            force,
            retention,
        } => retention.policy().and_then(|policy| {
            let path = import_day(trades, conditions.as_deref(), data_dir, *force, &mut out)?;
            // A past day imported for a backtest is old by the retention's measure.
            let plan = Plan::of(data_dir, SystemClock.today(), policy)?;
            if let Some(why) = plan.tapes.iter().find_map(|j| match j.verdict {
                retention::Verdict::Remove(why) if j.path == path => Some(why),
                _ => None,
            }) {
                eprintln!(
                    "warning: the next `condor run` or `condor tape prune` removes {} ({why}): raise CONDOR_TAPE_KEEP_DAYS / CONDOR_TAPE_KEEP_BYTES, or import into another --data-dir",
                    path.display()
                );
            }
            Ok(())
        }),
    };
    let result = result.and_then(|()| out.flush().map_err(anyhow::Error::from));
    match result {
        // `condor tape dump … | head`: the reader has all it wanted.
        Err(e) if is_broken_pipe(&e) => Ok(()),
        other => other,
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// A file that exists, else a day's tape under the data directory.
fn resolve(file: &str, data_dir: &Path) -> anyhow::Result<PathBuf> {
    let path = PathBuf::from(file);
    if path.exists() {
        return Ok(path);
    }
    if let Ok(day) = file.parse::<TradingDay>() {
        let dir = tape_dir(data_dir);
        let path = tape::day_path(&dir, day);
        if path.exists() {
            return Ok(path);
        }
        let days = tape::list_days(&dir).unwrap_or_default();
        let known: Vec<&str> = days.iter().map(|(d, _)| d.as_str()).collect();
        bail!(
            "no tape for {day} at {} (tapes: {})",
            path.display(),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    }
    bail!("{file}: no such file (give a tape file or a day YYYY-MM-DD)")
}

/// What one tape holds, for `ls` and `import`.
#[derive(Debug, Default)]
struct Summary {
    records: u64,
    trades: u64,
    tickers: usize,
    conditions: u64,
    intents: u64,
    starts: u64,
    first_ns: Option<i64>,
    last_ns: Option<i64>,
    damage: Option<tape::TapeDamage>,
}

fn summarize(path: &Path) -> Result<Summary, TapeError> {
    let mut reader = TapeReader::open(path)?;
    let mut s = Summary::default();
    let mut tickers = HashSet::new();
    while let Some(r) = reader.next_record()? {
        s.records += 1;
        s.first_ns.get_or_insert(r.recv_ns);
        s.last_ns = Some(r.recv_ns);
        match &r.event {
            TapeEvent::Trade(t) => {
                s.trades += 1;
                tickers.insert(t.ticker);
            }
            TapeEvent::ConditionEnter { .. } | TapeEvent::ConditionExit { .. } => s.conditions += 1,
            TapeEvent::Intent(_) => s.intents += 1,
            TapeEvent::Started(_) => s.starts += 1,
            _ => {}
        }
    }
    s.tickers = tickers.len();
    s.damage = reader.damage().cloned();
    Ok(s)
}

/// The tapes under `dir` with what each holds, the retention's policy and what it keeps
/// first, and a note on each tape it would remove (`plan`: the same directory's).
fn ls(dir: &Path, plan: &Plan, out: &mut impl Write) -> anyhow::Result<()> {
    let kept = plan.tape_tally();
    writeln!(
        out,
        "# keeping tapes {}; {}, {} kept{}",
        plan.policy.tapes_text(),
        plural(kept.kept, "day"),
        ByteSize(kept.kept_bytes),
        if kept.removed > 0 {
            format!(
                "; {}, {} to prune (condor tape prune)",
                plural(kept.removed, "day"),
                ByteSize(kept.removed_bytes)
            )
        } else {
            String::new()
        }
    )?;
    if plan.tapes.is_empty() {
        writeln!(out, "# no tapes under {}", dir.display())?;
        return Ok(());
    }
    writeln!(
        out,
        "# {} ({})",
        dir.display(),
        plural(plan.tapes.len() as u64, "day")
    )?;
    writeln!(
        out,
        "{:<10}  {:>12}  {:>10}  {:>10}  {:>7}  {:>10}  {:>7}  {:>6}  hours (KST)",
        "day", "bytes", "records", "trades", "tickers", "conditions", "intents", "starts"
    )?;
    let mut unreadable = Vec::new();
    for judged in &plan.tapes {
        let (day, path, bytes) = (judged.file.day, &judged.path, judged.file.bytes);
        let note = retention::verdict_note(judged.verdict)
            .map(|n| format!("  ({n})"))
            .unwrap_or_default();
        match summarize(path) {
            Ok(s) => {
                let hours = match (s.first_ns, s.last_ns) {
                    (Some(a), Some(b)) => format!(
                        "{}–{}",
                        &import::clock_text(a)[..8],
                        &import::clock_text(b)[..8]
                    ),
                    _ => "-".to_owned(),
                };
                writeln!(
                    out,
                    "{day:<10}  {bytes:>12}  {:>10}  {:>10}  {:>7}  {:>10}  {:>7}  {:>6}  {hours}{note}",
                    s.records, s.trades, s.tickers, s.conditions, s.intents, s.starts
                )?;
                if let Some(d) = &s.damage {
                    writeln!(
                        out,
                        "{:<10}  damaged: reading stops at byte offset {} after seq {} ({} bytes not read): {}",
                        "", d.offset, d.after_seq, d.bytes_left, d.reason
                    )?;
                }
            }
            Err(e) => {
                writeln!(out, "{day:<10}  {bytes:>12}  unreadable: {e}{note}")?;
                unreadable.push(day.to_string());
            }
        }
    }
    if !unreadable.is_empty() {
        out.flush()?;
        bail!(
            "{} of {} tapes under {} could not be read ({})",
            unreadable.len(),
            plan.tapes.len(),
            dir.display(),
            unreadable.join(", ")
        );
    }
    Ok(())
}

/// `condor tape prune`: removes (or, dry, lists) what the retention removes; fails when a
/// file could not be removed.
fn prune(
    data_dir: &Path,
    today: TradingDay,
    policy: condor_actors::retention::RetentionPolicy,
    dry_run: bool,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let plan = Plan::of(data_dir, today, policy)?;
    let outcome = retention::prune(&plan, dry_run);
    retention::print_outcome(&plan, &outcome, out)?;
    let failures = outcome.failures();
    if failures > 0 {
        out.flush()?;
        bail!("{failures} file(s) could not be removed (listed above)");
    }
    Ok(())
}

/// `1 day`, `2 days`.
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DumpFormat {
    Text,
    Json,
    Csv,
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// `HH:MM:SS.uuuuuu` (KST) of a receive time.
fn clock_us(unix_ns: i64) -> String {
    let text = import::clock_text(unix_ns - unix_ns.rem_euclid(1_000));
    let (hms, frac) = text.split_once('.').unwrap_or((&text, ""));
    format!("{hms}.{:0<6}", &frac[..frac.len().min(6)])
}

/// One record as a person reads it.
/// Which condition, when the day traded several: nothing for the first (a one-condition
/// day reads as before), ` condition #N` (1-based, condor.toml's order) for the others.
fn of_condition(c: ConditionId) -> String {
    if c == ConditionId::FIRST {
        String::new()
    } else {
        format!(" condition #{}", u16::from(c.0) + 1)
    }
}

fn text_line(r: &TapeRecord) -> String {
    let head = format!("{:>8} {}", r.seq, clock_us(r.recv_ns));
    let body = match &r.event {
        TapeEvent::Started(started) => {
            let TapeStarted {
                writer,
                condition,
                strategy,
                settings,
            } = &**started;
            let mut s =
                format!("started  {writer:?} condition {condition:?} strategy {strategy:?}");
            for (k, v) in settings {
                s.push_str(&format!(" {k}={v:?}"));
            }
            s
        }
        TapeEvent::Stopped => "stopped".to_owned(),
        TapeEvent::Reconnected => "reconnected".to_owned(),
        TapeEvent::ConditionEnter {
            ticker,
            market_time,
            condition,
        } => format!(
            "enter    {ticker} at {market_time}{}",
            of_condition(*condition)
        ),
        TapeEvent::ConditionExit {
            ticker,
            market_time,
            condition,
        } => format!(
            "exit     {ticker} at {market_time}{}",
            of_condition(*condition)
        ),
        TapeEvent::JobDone(j) => match &j.output {
            Ok(values) => format!(
                "job      {} of #{} answered {values:?}",
                j.ticker, j.asked_on
            ),
            Err(why) => format!("job      {} of #{} failed: {why}", j.ticker, j.asked_on),
        },
        TapeEvent::Trade(t) => {
            let change = if t.prev_close.won() > 0 {
                format!(
                    " ({:+.2}%)",
                    (t.price.won() - t.prev_close.won()) as f64 * 100.0 / t.prev_close.won() as f64
                )
            } else {
                String::new()
            };
            format!(
                "trade    {} {:<4} {} @ {}{change} vol {} prev {} at {} #{}",
                t.ticker,
                side_name(t.aggressor),
                t.qty,
                t.price,
                t.cum_volume,
                t.prev_close,
                t.exchange_time,
                t.seq
            )
        }
        TapeEvent::Fill(f) => format!(
            "fill     {} {:<4} {} @ {} order {} at {}",
            f.ticker,
            side_name(f.side),
            f.qty,
            f.price,
            f.order_no,
            f.time
        ),
        TapeEvent::OrderDone {
            id,
            ticker,
            side,
            filled,
            rejected,
        } => format!(
            "done     {ticker} {:<4} {} filled {filled}{}",
            side_name(*side),
            id.map_or("(refused by the gate)".to_owned(), |id| format!("C{id}")),
            if *rejected { " rejected" } else { "" }
        ),
        TapeEvent::Timer { market_time } => format!("timer    {market_time}"),
        TapeEvent::Intent(i) => format!(
            "intent   {} {:<4} {} {} {:?} (tick #{})",
            i.ticker,
            side_name(i.side),
            i.qty,
            match i.order_type {
                OrderType::Market => "market".to_owned(),
                OrderType::Limit(p) => format!("limit {p}"),
            },
            i.reason,
            i.tick_seq
        ),
        TapeEvent::DeskOpened(config) => format!("desk     opened {config}"),
        TapeEvent::Desk(d) => {
            let mut s = format!("desk     {} at {}", d.input, d.time);
            for c in &d.commands {
                s.push_str(&format!("\n{:>36}→ {c}", ""));
            }
            s
        }
    };
    format!("{head}  {body}")
}

fn as_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_owned()))
}

/// One record as a JSON object.
fn json_line(r: &TapeRecord) -> serde_json::Value {
    let mut v = json!({
        "seq": r.seq,
        "recv_ns": r.recv_ns,
        "time": clock_us(r.recv_ns),
        "kind": r.event.kind_name(),
    });
    let fields = match &r.event {
        TapeEvent::Started(started) => {
            let TapeStarted {
                writer,
                condition,
                strategy,
                settings,
            } = &**started;
            json!({"writer": writer, "condition": condition, "strategy": strategy, "settings": settings})
        }
        TapeEvent::Stopped | TapeEvent::Reconnected => json!({}),
        TapeEvent::ConditionEnter {
            ticker,
            market_time,
            condition,
        }
        | TapeEvent::ConditionExit {
            ticker,
            market_time,
            condition,
        } => {
            json!({"ticker": ticker, "market_time": market_time, "condition": u16::from(condition.0) + 1})
        }
        TapeEvent::JobDone(j) => match &j.output {
            Ok(values) => json!({"ticker": j.ticker, "asked_on": j.asked_on, "answer": values}),
            Err(why) => json!({"ticker": j.ticker, "asked_on": j.asked_on, "failed": why}),
        },
        TapeEvent::Trade(t) => json!({
            "ticker": t.ticker,
            "price": t.price,
            "qty": t.qty,
            "cum_volume": t.cum_volume,
            "prev_close": t.prev_close,
            "aggressor": side_name(t.aggressor),
            "exchange_time": t.exchange_time,
            "trade_seq": t.seq,
        }),
        TapeEvent::Fill(f) => json!({
            "ticker": f.ticker,
            "side": side_name(f.side),
            "price": f.price,
            "qty": f.qty,
            "order_no": f.order_no,
            "time": f.time,
        }),
        TapeEvent::OrderDone {
            id,
            ticker,
            side,
            filled,
            rejected,
        } => json!({
            "id": id,
            "ticker": ticker,
            "side": side_name(*side),
            "filled": filled,
            "rejected": rejected,
        }),
        TapeEvent::Timer { market_time } => json!({"market_time": market_time}),
        TapeEvent::Intent(i) => json!({
            "ticker": i.ticker,
            "side": side_name(i.side),
            "qty": i.qty,
            "order_type": i.order_type,
            "reason": i.reason,
            "tick_seq": i.tick_seq,
        }),
        // Written by condor as JSON; shown as JSON, or as the text if it is not.
        TapeEvent::DeskOpened(config) => json!({"config": as_json(config)}),
        TapeEvent::Desk(d) => json!({
            "day": d.day,
            "market_time": d.time,
            "unix_ms": d.unix_ms,
            "input": as_json(&d.input),
            "commands": d.commands,
        }),
    };
    if let (Some(obj), serde_json::Value::Object(more)) = (v.as_object_mut(), fields) {
        obj.extend(more);
    }
    v
}

fn dump(
    path: &Path,
    ticker: Option<Ticker>,
    format: DumpFormat,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut reader = TapeReader::open(path)?;
    match format {
        DumpFormat::Text => writeln!(
            out,
            "# {} (format {}, created by {:?})",
            path.display(),
            reader.version(),
            reader.writer()
        )?,
        DumpFormat::Csv => writeln!(out, "{}", import::TRADES_CSV_HEADER)?,
        DumpFormat::Json => {}
    }
    let (mut shown, mut total) = (0u64, 0u64);
    while let Some(r) = reader.next_record()? {
        total += 1;
        if ticker.is_some() && r.event.ticker() != ticker {
            continue;
        }
        match format {
            DumpFormat::Text => writeln!(out, "{}", text_line(&r))?,
            DumpFormat::Json => writeln!(out, "{}", json_line(&r))?,
            DumpFormat::Csv => match &r.event {
                TapeEvent::Trade(t) => import::write_trade_row(r.recv_ns, t, out)?,
                _ => continue,
            },
        }
        shown += 1;
    }
    if format == DumpFormat::Text {
        match ticker {
            Some(t) => writeln!(out, "# {shown} of {total} records are about {t}")?,
            None => writeln!(out, "# {total} records")?,
        }
    }
    if let Some(d) = reader.damage() {
        out.flush()?;
        let live = if d.resumes_at.is_none() {
            " (if condor is recording this tape right now, its last block may just be being written)"
        } else {
            ""
        };
        return Err(anyhow!(
            "tape {}: reading stopped at byte offset {} after seq {} ({} bytes not read): {}{live}",
            path.display(),
            d.offset,
            d.after_seq,
            d.bytes_left,
            d.reason
        ));
    }
    Ok(())
}

/// Imports the CSV into the data directory's tape for its day; returns the tape's path.
fn import_day(
    trades: &Path,
    conditions: Option<&Path>,
    data_dir: &Path,
    force: bool,
    out: &mut impl Write,
) -> anyhow::Result<PathBuf> {
    let (day, events) = tape::import_csv(trades, conditions)?;
    let path = tape::day_path(&tape_dir(data_dir), day);
    let writer = format!("condor {} (tape import)", env!("CARGO_PKG_VERSION"));
    let written = if force {
        tape::replace_day(&path, &writer, &events)
    } else {
        tape::write_day(&path, &writer, &events)
    };
    let records = match written {
        Ok(n) => n,
        Err(e @ TapeError::Exists { .. }) => {
            return Err(anyhow!(e).context(format!(
                "no tape written for {day} (--force replaces the existing one)"
            )))
        }
        Err(e) => return Err(e.into()),
    };
    let s = summarize(&path).with_context(|| format!("cannot read back {}", path.display()))?;
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    writeln!(
        out,
        "wrote {}: {} ({} of {}, {}), {}–{} KST, {bytes} bytes",
        path.display(),
        plural(records, "record"),
        plural(s.trades, "trade"),
        plural(s.tickers as u64, "ticker"),
        plural(s.conditions, "condition event"),
        s.first_ns.map_or("-".to_owned(), import::clock_text),
        s.last_ns.map_or("-".to_owned(), import::clock_text),
    )?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use condor_actors::domain::OrderNo;
    use std::fs;

    const TRADES: &str = "date,time,ticker,price,qty,cum_volume,side
2024-01-02,09:00:01.250,005930,71200,10,10,buy
2024-01-02,09:00:01.500,000660,130000,3,3,
2024-01-02,09:00:02.000,005930,71100,5,15,
2024-01-02,09:00:03.000,005930,71100,2,17,sell
";
    const CONDITIONS: &str = "date,time,ticker,event
2024-01-02,09:00:00,005930,enter
2024-01-02,09:30:00,005930,exit
";

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap()
    }

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("t.csv"), TRADES).unwrap();
        fs::write(dir.path().join("c.csv"), CONDITIONS).unwrap();
        let data = dir.path().join("data");
        let mut out = Vec::new();
        let path = import_day(
            &dir.path().join("t.csv"),
            Some(&dir.path().join("c.csv")),
            &data,
            false,
            &mut out,
        )
        .unwrap();
        assert_eq!(path, data.join("tape").join("2024-01-02.tape"));
        let said = text(out);
        assert!(
            said.contains("6 records (4 trades of 2 tickers, 2 condition events)"),
            "{said}"
        );
        (dir, data)
    }

    /// The default retention as of `today`.
    fn plan_on(data: &Path, today: &str) -> Plan {
        Plan::of(data, today.parse().unwrap(), Default::default()).unwrap()
    }

    #[test]
    fn ls_shows_the_policy_and_marks_what_prune_removes_then_prune_removes_it() {
        let (_dir, data) = setup();
        let old = tape_dir(&data).join("2024-01-02.tape");
        let recent = tape_dir(&data).join("2024-05-30.tape");
        fs::copy(&old, &recent).unwrap();
        let bytes = fs::metadata(&old).unwrap().len();
        let mut out = Vec::new();
        ls(&tape_dir(&data), &plan_on(&data, "2024-06-01"), &mut out).unwrap();
        let listing = text(out);
        let lines: Vec<&str> = listing.lines().collect();
        assert_eq!(
            lines[0],
            format!(
                "# keeping tapes 90 days or 20 GiB, whichever is less; 1 day, {} kept; 1 day, {} to prune (condor tape prune)",
                ByteSize(bytes),
                ByteSize(bytes)
            ),
            "{listing}"
        );
        let row = |d: &str| *lines.iter().find(|l| l.starts_with(d)).unwrap();
        assert!(
            row("2024-01-02").ends_with("(to prune: older than 90 days)"),
            "{listing}"
        );
        assert!(
            row("2024-05-30").ends_with("09:00:00–09:30:00"),
            "{listing}"
        );

        let policy = Default::default();
        let today = "2024-06-01".parse().unwrap();
        let mut out = Vec::new();
        prune(&data, today, policy, true, &mut out).unwrap();
        let said = text(out);
        assert!(old.exists(), "a dry run removes nothing");
        assert!(
            said.contains("would remove  tape     2024-01-02")
                && said.contains(&format!(
                    "would remove 1 tape and 0 journals: {} would be freed",
                    ByteSize(bytes)
                )),
            "{said}"
        );
        let mut out = Vec::new();
        prune(&data, today, policy, false, &mut out).unwrap();
        let said = text(out);
        assert!(!old.exists() && recent.exists(), "{said}");
        assert!(
            said.contains(&format!(
                "removed 1 tape and 0 journals: {} freed; kept 1 tape",
                ByteSize(bytes)
            )),
            "{said}"
        );
        // Nothing left to do.
        let mut out = Vec::new();
        prune(&data, today, policy, false, &mut out).unwrap();
        assert!(text(out).contains("removed 0 tapes and 0 journals: 0 bytes freed"));
    }

    #[test]
    fn import_then_ls_then_dump_as_text_and_json() {
        let (_dir, data) = setup();
        let mut out = Vec::new();
        ls(&tape_dir(&data), &plan_on(&data, "2024-01-03"), &mut out).unwrap();
        let listing = text(out);
        let row = listing
            .lines()
            .find(|l| l.starts_with("2024-01-02"))
            .unwrap();
        let cols: Vec<&str> = row.split_whitespace().collect();
        // day, bytes, records, trades, tickers, conditions, intents, starts, hours
        assert_eq!(&cols[2..8], ["6", "4", "2", "2", "0", "0"], "{listing}");
        assert_eq!(cols[8], "09:00:00–09:30:00");

        let path = resolve("2024-01-02", &data).unwrap();
        let mut out = Vec::new();
        dump(&path, None, DumpFormat::Text, &mut out).unwrap();
        let dumped = text(out);
        let lines: Vec<&str> = dumped.lines().collect();
        assert_eq!(lines.len(), 8, "{dumped}");
        assert!(
            lines[1].ends_with("09:00:00.000000  enter    005930 at 09:00:00"),
            "{dumped}"
        );
        assert!(
            lines[2].contains(
                "trade    005930 buy  10 @ 71200 (+0.00%) vol 10 prev 71200 at 09:00:01 #1"
            ),
            "{dumped}"
        );
        assert_eq!(lines[7], "# 6 records");

        let mut out = Vec::new();
        dump(
            &path,
            Ticker::parse("000660").ok(),
            DumpFormat::Json,
            &mut out,
        )
        .unwrap();
        let dumped = text(out);
        let objs: Vec<serde_json::Value> = dumped
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(objs.len(), 1, "{dumped}");
        assert_eq!(objs[0]["kind"], "trade");
        assert_eq!(objs[0]["ticker"], "000660");
        assert_eq!(objs[0]["price"], 130000);
        assert_eq!(objs[0]["aggressor"], "buy");
        assert_eq!(objs[0]["seq"], 3);
        assert_eq!(objs[0]["time"], "09:00:01.500000");

        assert!(resolve("2024-01-09", &data)
            .unwrap_err()
            .to_string()
            .contains("tapes: 2024-01-02"));
    }

    #[test]
    fn dump_as_csv_imports_back_to_the_same_trades() {
        let (dir, data) = setup();
        let path = resolve("2024-01-02", &data).unwrap();
        let mut out = Vec::new();
        dump(&path, None, DumpFormat::Csv, &mut out).unwrap();
        let csv = dir.path().join("dumped.csv");
        fs::write(&csv, out).unwrap();
        let again = dir.path().join("again");
        import_day(&csv, None, &again, false, &mut Vec::new()).unwrap();
        let trades = |p: &Path| -> Vec<(i64, TapeEvent)> {
            tape::read(p)
                .unwrap()
                .records
                .into_iter()
                .filter(|r| matches!(r.event, TapeEvent::Trade(_)))
                .map(|r| (r.recv_ns, r.event))
                .collect()
        };
        let first = trades(&path);
        assert_eq!(first.len(), 4);
        assert_eq!(trades(&resolve("2024-01-02", &again).unwrap()), first);
        // A second import of the same day is refused without --force, then replaces with it.
        let err = import_day(&csv, None, &again, false, &mut Vec::new()).unwrap_err();
        assert!(format!("{err:#}").contains("--force"), "{err:#}");
        import_day(&csv, None, &again, true, &mut Vec::new()).unwrap();
    }

    #[test]
    fn a_damaged_tape_dumps_its_good_part_then_fails_naming_where() {
        let (_dir, data) = setup();
        let path = resolve("2024-01-02", &data).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        let len = bytes.len();
        bytes[len - 3] ^= 0xff;
        fs::write(&path, &bytes).unwrap();
        let mut out = Vec::new();
        let err = dump(&path, None, DumpFormat::Text, &mut out).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("2024-01-02.tape") && msg.contains("byte offset"),
            "{msg}"
        );
        assert!(msg.contains("torn tail"), "{msg}");
        // One block: nothing good before it, but the header line is printed.
        assert!(text(out).starts_with("# "));
        let mut out = Vec::new();
        assert!(ls(&tape_dir(&data), &plan_on(&data, "2024-01-03"), &mut out).is_ok());
        assert!(text(out).contains("damaged: reading stops at byte offset"));
        // A file that is not a tape fails by name.
        fs::write(&path, b"not a tape").unwrap();
        let err = dump(&path, None, DumpFormat::Text, &mut Vec::new()).unwrap_err();
        assert!(err.to_string().contains("is not a condor tape"), "{err}");
        assert!(ls(
            &tape_dir(&data),
            &plan_on(&data, "2024-01-03"),
            &mut Vec::new()
        )
        .is_err());
    }

    #[test]
    fn a_bad_csv_row_fails_naming_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("bad.csv");
        fs::write(
            &csv,
            format!("{TRADES}2024-01-02,09:00:04,005930,abc,1,18,buy\n"),
        )
        .unwrap();
        let err =
            import_day(&csv, None, &dir.path().join("d"), false, &mut Vec::new()).unwrap_err();
        assert!(
            err.to_string().contains("bad.csv:6: price \"abc\""),
            "{err}"
        );
        assert!(!dir
            .path()
            .join("d")
            .join("tape")
            .join("2024-01-02.tape")
            .exists());
    }

    #[test]
    fn every_kind_has_a_text_and_a_json_line() {
        use condor_actors::market::{Price, Qty, TimeOfDay};
        let t = Ticker::parse("005930").unwrap();
        let events = [
            TapeEvent::Started(Box::new(TapeStarted {
                writer: "condor 0.1.0".into(),
                condition: "급등".into(),
                strategy: "momentum".into(),
                settings: [("a".to_owned(), "1".to_owned())].into(),
            })),
            TapeEvent::Stopped,
            TapeEvent::Reconnected,
            TapeEvent::Timer {
                market_time: TimeOfDay::hms(9, 0, 5),
            },
            TapeEvent::Fill(condor_actors::messages::Fill {
                ticker: t,
                side: Side::Sell,
                price: Price::lit(100),
                qty: Qty::lit(2),
                order_no: OrderNo(7),
                time: TimeOfDay::hms(9, 0, 6),
            }),
            TapeEvent::OrderDone {
                id: None,
                ticker: t,
                side: Side::Buy,
                filled: Qty::lit(0),
                rejected: true,
            },
            TapeEvent::Intent(Box::new(tape::TapeIntent {
                ticker: t,
                side: Side::Buy,
                qty: Qty::lit(3),
                order_type: OrderType::Limit(Price::lit(101)),
                reason: "entry".into(),
                tick_seq: 9,
            })),
        ];
        let expect = [
            "started  \"condor 0.1.0\" condition \"급등\" strategy \"momentum\" a=\"1\"",
            "stopped",
            "reconnected",
            "timer    09:00:05",
            "fill     005930 sell 2 @ 100 order 7 at 09:00:06",
            "done     005930 buy  (refused by the gate) filled 0 rejected",
            "intent   005930 buy  3 limit 101 \"entry\" (tick #9)",
        ];
        for (i, (e, want)) in events.into_iter().zip(expect).enumerate() {
            let r = TapeRecord {
                seq: i as u64 + 1,
                recv_ns: 1_704_153_600_123_456_789,
                event: e,
            };
            let line = text_line(&r);
            assert!(line.ends_with(want), "{line}");
            assert!(line.contains("09:00:00.123456"), "{line}");
            let j = json_line(&r);
            assert_eq!(j["kind"], r.event.kind_name());
            assert_eq!(j["recv_ns"], 1_704_153_600_123_456_789i64);
        }
    }
}
