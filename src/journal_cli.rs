//! `condor journal` and `condor kill-switch`: the day's journal from the terminal. The
//! first prints what happened, for a person or (`--json`) for a program; the second shows
//! the kill switch and lets an operator trip or reset it.
//!
//! Reads the journal files `condor run` writes; writes only the kill switch's own events,
//! through the same store, which refuses while a running engine holds the day's journal
//! (its lock), so two writers can never interleave. Must never print a secret: the
//! journal holds none.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};
use clap::{Args, Subcommand};
use condor_actors::clock::TradingDay;
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::store::{self, JournalWriter, Record};
use condor_actors::kill_switch::TripCause;
use condor_actors::market::Ticker;

/// Where the journals live under the data directory.
pub fn journal_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("journal")
}

fn parse_day(s: &str) -> Result<TradingDay, String> {
    s.parse().map_err(|e| format!("{e}"))
}

fn parse_ticker(s: &str) -> Result<Ticker, String> {
    s.parse().map_err(|e| format!("{e}"))
}

#[derive(Args, Debug, Clone)]
pub struct JournalArgs {
    /// Where condor keeps its journals (one file per trading day under `journal/`).
    #[arg(long, env = "CONDOR_DATA_DIR", default_value = "condor-data")]
    pub data_dir: PathBuf,
    /// The trading day to read (YYYY-MM-DD, KST); today by default (on `CONDOR_CLOCK`
    /// when set, as `condor run` reads it).
    #[arg(long, value_parser = parse_day)]
    pub day: Option<TradingDay>,
    /// Only this order: a client id (C20261125000001, with or without the C) or a broker
    /// order number (#123 or 123).
    #[arg(long)]
    pub order: Option<String>,
    /// Only events about this ticker (six digits).
    #[arg(long, value_parser = parse_ticker)]
    pub ticker: Option<Ticker>,
    /// One JSON object per line (seq, at_ms, at, event) instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub clock: crate::cli::ClockArgs,
}

#[derive(Args, Debug, Clone)]
pub struct KillSwitchArgs {
    #[command(subcommand)]
    pub action: KillSwitchAction,
    /// Where condor keeps its journals.
    #[arg(
        long,
        env = "CONDOR_DATA_DIR",
        default_value = "condor-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Today is `CONDOR_CLOCK`'s day when it is set (with `CONDOR_CLOSED_DAYS` and
    /// `CONDOR_LATE_OPEN`, as `condor run` reads them), so the switch tripped or reset is
    /// the one of the day that `condor run` trades.
    #[command(flatten)]
    pub clock: crate::cli::ClockArgs,
}

#[derive(Subcommand, Debug, Clone)]
pub enum KillSwitchAction {
    /// Show whether today's kill switch is on, and why.
    Status,
    /// Turn today's kill switch off: new entries are allowed again. condor must be stopped.
    Reset {
        /// Who and why, kept in the journal.
        #[arg(long, default_value = "reset by the operator")]
        note: String,
    },
    /// Turn today's kill switch on: no new entries until reset or the next day. condor
    /// must be stopped (it reads the switch at start).
    Trip {
        #[arg(long, default_value = "tripped by the operator")]
        note: String,
    },
}

/// `HH:MM:SS.mmm` KST of a journal timestamp.
fn kst_clock(at_ms: i64) -> String {
    let ms = (at_ms + 9 * 3_600_000).rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn day_or_today(
    day: Option<TradingDay>,
    clock: &crate::cli::ClockArgs,
) -> anyhow::Result<TradingDay> {
    match day {
        Some(day) => Ok(day),
        None => Ok(clock.clock()?.today()),
    }
}

fn read_day(dir: &Path, day: TradingDay) -> anyhow::Result<(PathBuf, Vec<Record<JournalEvent>>)> {
    let path = store::day_file(dir, &day.to_string());
    if !path.exists() {
        let days = store::list_days(dir).unwrap_or_default();
        let known: Vec<&str> = days.iter().map(|(d, _)| d.as_str()).collect();
        bail!(
            "no journal for {day} at {} (journals: {})",
            path.display(),
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        );
    }
    let replay = store::read::<JournalEvent>(&path)?;
    if let Some(t) = &replay.torn {
        eprintln!(
            "warning: {}: the last {} bytes (from record {}) are a torn write and are not shown: {}",
            path.display(),
            t.bytes,
            t.record,
            t.reason
        );
    }
    Ok((path, replay.records))
}

/// The client ids `filter` names: itself if it is one, else the orders with that number.
fn order_ids(records: &[Record<JournalEvent>], filter: &str) -> anyhow::Result<Vec<u64>> {
    let f = filter.trim();
    if let Some(id) = f.strip_prefix(['C', 'c']) {
        return Ok(vec![id
            .parse()
            .with_context(|| format!("--order {f:?}"))?]);
    }
    let n: i64 = f.trim_start_matches('#').parse().with_context(|| {
        format!("--order {f:?} is neither a client id (C…) nor an order number")
    })?;
    let mut ids: Vec<u64> = records
        .iter()
        .filter(|r| r.event.order_no().map(|n| n.0.abs()) == Some(n))
        .filter_map(|r| r.event.order_id())
        .collect();
    // A bare number may also be a client id.
    if ids.is_empty() && records.iter().any(|r| r.event.order_id() == Some(n as u64)) {
        ids.push(n as u64);
    }
    ids.dedup();
    Ok(ids)
}

/// `condor journal`.
pub fn print_journal(args: &JournalArgs) -> anyhow::Result<()> {
    let dir = journal_dir(&args.data_dir);
    let day = day_or_today(args.day, &args.clock)?;
    let (path, records) = read_day(&dir, day)?;
    let ids = match &args.order {
        Some(f) => Some(order_ids(&records, f)?),
        None => None,
    };
    let mut out = std::io::stdout().lock();
    if !args.json {
        writeln!(out, "# {} ({} records)", path.display(), records.len())?;
    }
    let mut shown = 0;
    for r in &records {
        if let Some(ids) = &ids {
            if !r.event.order_id().is_some_and(|id| ids.contains(&id)) {
                continue;
            }
        }
        if let Some(t) = args.ticker {
            let about = r.event.ticker().or_else(|| {
                // Order events after the send name no ticker: find their order's.
                let id = r.event.order_id()?;
                records.iter().find_map(|s| match &s.event {
                    JournalEvent::OrderSent {
                        id: sid, ticker, ..
                    } if *sid == id => Some(*ticker),
                    _ => None,
                })
            });
            if about != Some(t) {
                continue;
            }
        }
        shown += 1;
        if args.json {
            let line = serde_json::json!({
                "seq": r.seq,
                "at_ms": r.at_ms,
                "at": format!("{day}T{}+09:00", kst_clock(r.at_ms)),
                "event": r.event,
            });
            writeln!(out, "{line}")?;
        } else {
            writeln!(out, "{:>6} {}  {}", r.seq, kst_clock(r.at_ms), r.event)?;
        }
    }
    if !args.json && shown == 0 && !records.is_empty() {
        writeln!(out, "# nothing matched")?;
    }
    Ok(())
}

/// Whether today's kill switch is on: the last trip or reset in today's journal.
pub fn kill_switch_cause(records: &[Record<JournalEvent>]) -> Option<TripCause> {
    records.iter().fold(None, |on, r| match &r.event {
        JournalEvent::KillSwitchTripped { cause } => Some(cause.clone()),
        JournalEvent::KillSwitchReset { .. } => None,
        _ => on,
    })
}

/// `condor kill-switch`.
pub fn kill_switch(args: &KillSwitchArgs) -> anyhow::Result<()> {
    let dir = journal_dir(&args.data_dir);
    let clock = args.clock.clock()?;
    let day = clock.today();
    let path = store::day_file(&dir, &day.to_string());
    let mut out = std::io::stdout().lock();
    match &args.action {
        KillSwitchAction::Status => {
            let records = if path.exists() {
                store::read::<JournalEvent>(&path)?.records
            } else {
                Vec::new()
            };
            match kill_switch_cause(&records) {
                Some(cause) => writeln!(out, "kill switch ON for {day}: {cause}")?,
                None => writeln!(out, "kill switch off for {day}")?,
            }
        }
        KillSwitchAction::Reset { note } | KillSwitchAction::Trip { note } => {
            let (writer, replay) =
                JournalWriter::<JournalEvent>::open(&path).with_context(|| {
                    format!(
                        "cannot write today's journal {} (is condor running? stop it first)",
                        path.display()
                    )
                })?;
            let on = kill_switch_cause(&replay.records);
            let event = match (&args.action, on) {
                (KillSwitchAction::Reset { .. }, None) => {
                    writeln!(out, "kill switch already off for {day}")?;
                    return Ok(());
                }
                (KillSwitchAction::Reset { .. }, Some(_)) => {
                    JournalEvent::KillSwitchReset { note: note.clone() }
                }
                (_, Some(cause)) => {
                    writeln!(out, "kill switch already ON for {day}: {cause}")?;
                    return Ok(());
                }
                (_, None) => JournalEvent::KillSwitchTripped {
                    cause: TripCause::Operator { note: note.clone() },
                },
            };
            let seq = writer
                .append_wait(clock.unix_ms(), event.clone())
                .with_context(|| format!("cannot write {}", path.display()))?;
            writer
                .close()
                .with_context(|| format!("cannot close {}", path.display()))?;
            writeln!(out, "{day} record {seq}: {event}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_times_print_in_kst() {
        // 2026-11-25 00:01:02.345 UTC = 09:01:02.345 KST.
        let ms = TradingDay::new(2026, 11, 25).unwrap().midnight_unix_ms() + 9 * 3_600_000;
        assert_eq!(kst_clock(ms + 62_345), "09:01:02.345");
    }
}
