//! Retention on disk: the settings (`CONDOR_TAPE_KEEP_DAYS`, `CONDOR_TAPE_KEEP_BYTES`,
//! `CONDOR_JOURNAL_KEEP_DAYS`), the listing of the data directory's tapes and journals,
//! and their removal. `condor run` prunes at start; `condor tape prune` on demand;
//! `condor tape ls` shows the policy and what it keeps.
//!
//! A thin shell: which file goes is `condor_actors::retention`'s pure decision. Never
//! removes today's file or one a running condor holds (the lock is checked again, and held,
//! at the moment of removal). Nothing is compressed: old files are removed.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use condor_actors::clock::TradingDay;
use condor_actors::durable_file;
use condor_actors::journal::store as journal_store;
pub use condor_actors::retention::Verdict;
use condor_actors::retention::{self, ByteSize, DayFile, KeepDays, Kept, RetentionPolicy, Tally};
use condor_actors::tape;

const LOG: &str = "condor::retention";

/// How long tapes and journals are kept.
#[derive(Args, Debug, Clone)]
pub struct RetentionArgs {
    /// Days of tapes kept (calendar days, today included), or `forever`; with
    /// CONDOR_TAPE_KEEP_BYTES, whichever keeps less. Older tapes are removed at each start
    /// of `condor run` and by `condor tape prune`.
    #[arg(
        long,
        env = "CONDOR_TAPE_KEEP_DAYS",
        value_name = "DAYS|forever",
        default_value = "90",
        help_heading = "Retention"
    )]
    pub tape_keep_days: String,
    /// Most bytes all tapes together may take, e.g. 20GiB or 500MiB (GB, MB: powers of
    /// 1000); the oldest days go first. Today's tape is kept even when it alone is more.
    #[arg(
        long,
        env = "CONDOR_TAPE_KEEP_BYTES",
        value_name = "SIZE",
        default_value = "20GiB",
        help_heading = "Retention"
    )]
    pub tape_keep_bytes: String,
    /// Days of journals kept (calendar days, today included), or `forever`.
    #[arg(
        long,
        env = "CONDOR_JOURNAL_KEEP_DAYS",
        value_name = "DAYS|forever",
        default_value = "365",
        help_heading = "Retention"
    )]
    pub journal_keep_days: String,
}

impl RetentionArgs {
    /// The policy; a bad value is an error naming its variable and flag.
    pub fn policy(&self) -> anyhow::Result<RetentionPolicy> {
        let days = |var: &str, flag: &str, v: &str| {
            KeepDays::parse(v).map_err(|e| anyhow::anyhow!("{var} ({flag}): {e}"))
        };
        let bytes = ByteSize::parse(&self.tape_keep_bytes)
            .map_err(|e| anyhow::anyhow!("CONDOR_TAPE_KEEP_BYTES (--tape-keep-bytes): {e}"))?;
        if bytes.0 == 0 {
            anyhow::bail!(
                "CONDOR_TAPE_KEEP_BYTES (--tape-keep-bytes): must be more than 0 (CONDOR_TAPE=off records no tape)"
            );
        }
        Ok(RetentionPolicy {
            tape_days: days(
                "CONDOR_TAPE_KEEP_DAYS",
                "--tape-keep-days",
                &self.tape_keep_days,
            )?,
            tape_bytes: bytes.0,
            journal_days: days(
                "CONDOR_JOURNAL_KEEP_DAYS",
                "--journal-keep-days",
                &self.journal_keep_days,
            )?,
        })
    }
}

/// One listed file and the verdict on it.
#[derive(Clone, Debug)]
pub struct Judged {
    pub path: PathBuf,
    pub file: DayFile,
    pub verdict: Verdict,
}

/// The data directory's tapes and journals, each judged.
#[derive(Clone, Debug)]
pub struct Plan {
    pub policy: RetentionPolicy,
    pub tapes: Vec<Judged>,
    pub journals: Vec<Judged>,
}

impl Plan {
    /// Lists `data_dir`'s tapes and journals (sizes, who holds them) and judges them as
    /// of `today`.
    pub fn of(data_dir: &Path, today: TradingDay, policy: RetentionPolicy) -> anyhow::Result<Plan> {
        let tape_dir = data_dir.join("tape");
        let journal_dir = data_dir.join("journal");
        let tapes = listed(tape::list_days(&tape_dir)?)?;
        let journals = listed(journal_store::list_days(&journal_dir)?)?;
        let judge = |files: Vec<(PathBuf, DayFile)>, verdicts: Vec<Verdict>| {
            files
                .into_iter()
                .zip(verdicts)
                .map(|((path, file), verdict)| Judged {
                    path,
                    file,
                    verdict,
                })
                .collect()
        };
        let tape_files: Vec<DayFile> = tapes.iter().map(|(_, f)| *f).collect();
        let journal_files: Vec<DayFile> = journals.iter().map(|(_, f)| *f).collect();
        Ok(Plan {
            policy,
            tapes: judge(tapes, retention::judge_tapes(&tape_files, today, &policy)),
            journals: judge(
                journals,
                retention::judge_journals(&journal_files, today, policy.journal_days),
            ),
        })
    }

    pub fn tape_tally(&self) -> Tally {
        tally(&self.tapes)
    }

    pub fn journal_tally(&self) -> Tally {
        tally(&self.journals)
    }

    /// `keeping tapes 90 days or 20 GiB, whichever is less, journals 365 days`.
    pub fn policy_text(&self) -> String {
        format!(
            "keeping tapes {}, journals {}",
            self.policy.tapes_text(),
            self.policy.journal_days
        )
    }
}

fn tally(judged: &[Judged]) -> Tally {
    let files: Vec<DayFile> = judged.iter().map(|j| j.file).collect();
    let verdicts: Vec<Verdict> = judged.iter().map(|j| j.verdict).collect();
    Tally::of(&files, &verdicts)
}

fn listed(days: Vec<(String, PathBuf)>) -> anyhow::Result<Vec<(PathBuf, DayFile)>> {
    let mut out = Vec::with_capacity(days.len());
    for (day, path) in days {
        let day: TradingDay = day
            .parse()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let bytes = std::fs::metadata(&path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read its size: {e}", path.display()))?
            .len();
        let in_use = durable_file::is_held(&path)
            .map_err(|e| anyhow::anyhow!("{}: cannot check its lock: {e}", path.display()))?;
        out.push((path, DayFile { day, bytes, in_use }));
    }
    Ok(out)
}

/// What became of a file the plan removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    Removed,
    /// `--dry-run`: left in place.
    WouldRemove,
    /// A condor took it between the listing and the removal.
    Held,
    Failed(String),
}

/// One file the plan removes, and what became of it.
#[derive(Clone, Debug)]
pub struct Pruned {
    pub kind: &'static str,
    pub judged: Judged,
    pub fate: Fate,
}

/// What pruning did (or, dry, would do).
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub pruned: Vec<Pruned>,
}

impl Outcome {
    /// Bytes freed (or that would be).
    pub fn freed(&self) -> u64 {
        self.pruned
            .iter()
            .filter(|p| matches!(p.fate, Fate::Removed | Fate::WouldRemove))
            .map(|p| p.judged.file.bytes)
            .sum()
    }

    pub fn failures(&self) -> usize {
        self.pruned
            .iter()
            .filter(|p| matches!(p.fate, Fate::Failed(_)))
            .count()
    }
}

/// Removes what `plan` removes (nothing with `dry_run`), each file only if no condor
/// holds it at that moment. A file that cannot be removed is reported, not fatal.
pub fn prune(plan: &Plan, dry_run: bool) -> Outcome {
    let mut outcome = Outcome::default();
    for (kind, judged) in [("tape", &plan.tapes), ("journal", &plan.journals)] {
        for j in judged {
            if !matches!(j.verdict, Verdict::Remove(_)) {
                continue;
            }
            let fate = if dry_run {
                Fate::WouldRemove
            } else {
                match durable_file::remove_unless_held(&j.path) {
                    Ok(true) => Fate::Removed,
                    Ok(false) => Fate::Held,
                    Err(e) => Fate::Failed(e.to_string()),
                }
            };
            outcome.pruned.push(Pruned {
                kind,
                judged: j.clone(),
                fate,
            });
        }
    }
    outcome
}

/// One line per file pruned, then the totals, as `condor tape prune` prints them.
pub fn print_outcome(plan: &Plan, outcome: &Outcome, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "# {}", plan.policy_text())?;
    for p in &outcome.pruned {
        let Verdict::Remove(why) = p.judged.verdict else {
            continue;
        };
        let what = match &p.fate {
            Fate::Removed => "removed".to_owned(),
            Fate::WouldRemove => "would remove".to_owned(),
            Fate::Held => "kept (a running condor holds it)".to_owned(),
            Fate::Failed(e) => format!("NOT removed: {e}"),
        };
        writeln!(
            out,
            "{what:<12}  {:<7}  {}  {:>10}  {why}  {}",
            p.kind,
            p.judged.file.day,
            ByteSize(p.judged.file.bytes).to_string(),
            p.judged.path.display()
        )?;
    }
    let dry = outcome
        .pruned
        .iter()
        .any(|p| matches!(p.fate, Fate::WouldRemove));
    let gone = |kind: &str| {
        outcome
            .pruned
            .iter()
            .filter(|p| p.kind == kind && matches!(p.fate, Fate::Removed | Fate::WouldRemove))
            .count() as u64
    };
    let (t, j) = (plan.tape_tally(), plan.journal_tally());
    writeln!(
        out,
        "{} {} and {}: {} {}; kept {} ({}) and {} ({})",
        if dry { "would remove" } else { "removed" },
        plural(gone("tape"), "tape"),
        plural(gone("journal"), "journal"),
        ByteSize(outcome.freed()),
        if dry { "would be freed" } else { "freed" },
        plural(t.kept, "tape"),
        ByteSize(t.kept_bytes),
        plural(j.kept, "journal"),
        ByteSize(j.kept_bytes),
    )
}

/// Prunes `data_dir` at `condor run`'s start, logging what went. A failure to list or
/// remove is logged, never fatal: an old file left is no reason not to trade.
pub fn prune_at_start(data_dir: &Path, today: TradingDay, policy: RetentionPolicy) {
    let plan = match Plan::of(data_dir, today, policy) {
        Ok(plan) => plan,
        Err(e) => {
            log::warn!(target: LOG, "retention: cannot list {}: {e:#}; nothing pruned", data_dir.display());
            return;
        }
    };
    let outcome = prune(&plan, false);
    for p in &outcome.pruned {
        let Verdict::Remove(why) = p.judged.verdict else {
            continue;
        };
        match &p.fate {
            Fate::Removed => log::info!(
                target: LOG,
                "removed {} {} ({}, {why})",
                p.kind,
                p.judged.path.display(),
                ByteSize(p.judged.file.bytes)
            ),
            Fate::Held => log::info!(
                target: LOG,
                "kept {} {}: a running condor holds it",
                p.kind,
                p.judged.path.display()
            ),
            Fate::Failed(e) => log::warn!(
                target: LOG,
                "cannot remove {} {}: {e}",
                p.kind,
                p.judged.path.display()
            ),
            Fate::WouldRemove => {}
        }
    }
    let (t, j) = (plan.tape_tally(), plan.journal_tally());
    log::info!(
        target: LOG,
        "{}: {} freed; {} ({}) and {} ({}) kept",
        plan.policy_text(),
        ByteSize(outcome.freed()),
        plural(t.kept, "tape"),
        ByteSize(t.kept_bytes),
        plural(j.kept, "journal"),
        ByteSize(j.kept_bytes)
    );
}

/// The note `condor tape ls` puts after a tape's row: why it would go, or why it stays
/// although old.
pub fn verdict_note(v: Verdict) -> Option<String> {
    match v {
        Verdict::Remove(why) => Some(format!("to prune: {why}")),
        Verdict::Keep(Kept::InUse) => Some("in use".to_owned()),
        Verdict::Keep(Kept::Current | Kept::Recent) => None,
    }
}

/// `1 tape`, `2 tapes`.
fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        r: RetentionArgs,
    }

    fn policy(args: &[&str]) -> anyhow::Result<RetentionPolicy> {
        let argv = std::iter::once("x").chain(args.iter().copied());
        Cli::try_parse_from(argv).unwrap().r.policy()
    }

    #[test]
    fn the_defaults_are_90_days_20_gib_and_a_year() {
        assert_eq!(policy(&[]).unwrap(), RetentionPolicy::default());
        let p = policy(&[
            "--tape-keep-days",
            "forever",
            "--tape-keep-bytes",
            "500MiB",
            "--journal-keep-days",
            "forever",
        ])
        .unwrap();
        assert_eq!(p.tape_days, KeepDays::Forever);
        assert_eq!(p.tape_bytes, 500 << 20);
        assert_eq!(p.journal_days, KeepDays::Forever);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        for (flag, value, var) in [
            ("--tape-keep-days", "ninety", "CONDOR_TAPE_KEEP_DAYS"),
            ("--tape-keep-days", "0", "CONDOR_TAPE_KEEP_DAYS"),
            ("--tape-keep-bytes", "20G", "CONDOR_TAPE_KEEP_BYTES"),
            ("--tape-keep-bytes", "0GiB", "CONDOR_TAPE_KEEP_BYTES"),
            ("--journal-keep-days", "-1", "CONDOR_JOURNAL_KEEP_DAYS"),
        ] {
            let e = policy(&[&format!("{flag}={value}")])
                .unwrap_err()
                .to_string();
            assert!(e.starts_with(&format!("{var} ({flag}): ")), "{e}");
        }
    }
}
