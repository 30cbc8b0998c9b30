//! Retention: which recorded days (tapes) and journals a long-running condor removes so
//! its disk does not fill over weeks. Tapes go by age and by a cap on their total size,
//! whichever keeps less; journals, much smaller and the account's history, only by age
//! (or never). Today's files (and any day after it) and files a running condor holds
//! are always kept.
//!
//! Pure: a listing of (day, size, in use) and today in, a verdict per file out. Listing
//! the directories, checking the locks and removing the files is the caller's shell.

use std::fmt;

use crate::clock::TradingDay;

const DAY_MS: i64 = 86_400_000;

/// How many calendar days of files to keep, today included, or all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeepDays {
    /// At least 1: `Days(1)` keeps today's only.
    Days(u32),
    Forever,
}

impl KeepDays {
    /// `90` (days, at least 1) or `forever`.
    pub fn parse(s: &str) -> Result<KeepDays, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("forever") {
            return Ok(KeepDays::Forever);
        }
        match s.parse::<u32>() {
            Ok(0) => Err("must be at least 1 (today's file is always kept), got 0".to_owned()),
            Ok(n) => Ok(KeepDays::Days(n)),
            Err(_) => Err(format!(
                "expected a number of days (at least 1) or forever, got {s:?}"
            )),
        }
    }

    /// Whether a file `age` days old is past it.
    fn expired(self, age: i64) -> bool {
        match self {
            KeepDays::Days(n) => age >= i64::from(n),
            KeepDays::Forever => false,
        }
    }
}

impl fmt::Display for KeepDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepDays::Days(1) => write!(f, "1 day"),
            KeepDays::Days(n) => write!(f, "{n} days"),
            KeepDays::Forever => write!(f, "forever"),
        }
    }
}

/// What is kept of the tapes and the journals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub tape_days: KeepDays,
    /// Most bytes all tapes together may take; the oldest go first.
    pub tape_bytes: u64,
    pub journal_days: KeepDays,
}

impl RetentionPolicy {
    pub const DEFAULT_TAPE_DAYS: KeepDays = KeepDays::Days(90);
    /// 20 GiB: about 1,000 days of 1 million trades at ~20 bytes a trade; binds before
    /// the 90 days only when days run past ~230 MB.
    pub const DEFAULT_TAPE_BYTES: u64 = 20 << 30;
    /// A year: the journal is the account's own record, a line per order event.
    pub const DEFAULT_JOURNAL_DAYS: KeepDays = KeepDays::Days(365);

    /// The tapes' policy as a person reads it: `90 days or 20 GiB, whichever is less`.
    pub fn tapes_text(&self) -> String {
        match self.tape_days {
            KeepDays::Forever => format!("up to {}", ByteSize(self.tape_bytes)),
            days => format!("{days} or {}, whichever is less", ByteSize(self.tape_bytes)),
        }
    }
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            tape_days: Self::DEFAULT_TAPE_DAYS,
            tape_bytes: Self::DEFAULT_TAPE_BYTES,
            journal_days: Self::DEFAULT_JOURNAL_DAYS,
        }
    }
}

/// One day's file as listed: its day, its size, and whether a running condor holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DayFile {
    pub day: TradingDay,
    pub bytes: u64,
    pub in_use: bool,
}

/// Why a file stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kept {
    /// Today's, or a later day's (a clock set back): the day may still be written.
    Current,
    /// A running condor holds it (locked).
    InUse,
    /// Within the policy.
    Recent,
}

/// Why a file goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removed {
    /// Older than the days kept.
    Age { keep: KeepDays },
    /// The newer files already fill the size cap.
    OverCap { cap: u64 },
}

impl fmt::Display for Removed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Removed::Age { keep } => write!(f, "older than {keep}"),
            Removed::OverCap { cap } => write!(f, "over the {} cap", ByteSize(*cap)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Keep(Kept),
    Remove(Removed),
}

/// Whole calendar days from `day` to `today` (negative for a later day).
pub fn age_in_days(day: TradingDay, today: TradingDay) -> i64 {
    (today.midnight_unix_ms() - day.midnight_unix_ms()) / DAY_MS
}

/// The verdict on each of `files` (any order; the verdicts are in the same order).
/// By age first; then, newest first, each file is kept while the total of the files kept
/// so far (today's and held ones included) stays within `policy.tape_bytes`, and once one
/// does not fit, it and every older one go, so what is kept is the most recent run of
/// days, without gaps.
pub fn judge_tapes(files: &[DayFile], today: TradingDay, policy: &RetentionPolicy) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = files
        .iter()
        .map(|f| by_age(f, today, policy.tape_days))
        .collect();
    let mut newest_first: Vec<usize> = (0..files.len()).collect();
    newest_first.sort_by(|&a, &b| files[b].day.cmp(&files[a].day));
    let mut total: u64 = 0;
    let mut full = false;
    for i in newest_first {
        match verdicts[i] {
            Verdict::Remove(_) => {}
            Verdict::Keep(Kept::Current | Kept::InUse) => {
                total = total.saturating_add(files[i].bytes);
            }
            Verdict::Keep(Kept::Recent) => {
                let with = total.saturating_add(files[i].bytes);
                if full || with > policy.tape_bytes {
                    full = true;
                    verdicts[i] = Verdict::Remove(Removed::OverCap {
                        cap: policy.tape_bytes,
                    });
                } else {
                    total = with;
                }
            }
        }
    }
    verdicts
}

/// The verdict on each of `files`, by age alone.
pub fn judge_journals(files: &[DayFile], today: TradingDay, keep: KeepDays) -> Vec<Verdict> {
    files.iter().map(|f| by_age(f, today, keep)).collect()
}

fn by_age(f: &DayFile, today: TradingDay, keep: KeepDays) -> Verdict {
    let age = age_in_days(f.day, today);
    if age <= 0 {
        Verdict::Keep(Kept::Current)
    } else if f.in_use {
        Verdict::Keep(Kept::InUse)
    } else if keep.expired(age) {
        Verdict::Remove(Removed::Age { keep })
    } else {
        Verdict::Keep(Kept::Recent)
    }
}

/// Counts and bytes of what a set of verdicts keeps and removes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub kept: u64,
    pub kept_bytes: u64,
    pub removed: u64,
    pub removed_bytes: u64,
}

impl Tally {
    pub fn of(files: &[DayFile], verdicts: &[Verdict]) -> Tally {
        let mut t = Tally::default();
        for (f, v) in files.iter().zip(verdicts) {
            match v {
                Verdict::Keep(_) => {
                    t.kept += 1;
                    t.kept_bytes += f.bytes;
                }
                Verdict::Remove(_) => {
                    t.removed += 1;
                    t.removed_bytes += f.bytes;
                }
            }
        }
        t
    }
}

/// A size in bytes, parsed from and shown as `20GiB`, `500 MiB`, `1.5GB`, `4096`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// A whole or decimal number and a unit: `B`, `KiB`, `MiB`, `GiB`, `TiB` (powers of
    /// 1024) or `KB`, `MB`, `GB`, `TB` (powers of 1000), any case; no unit is bytes.
    /// A bare `G` or `M` is refused: which of the two would it be?
    pub fn parse(s: &str) -> Result<ByteSize, String> {
        let text = s.trim();
        let split = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (number, unit) = (&text[..split], text[split..].trim());
        let unit_bytes: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kib" => 1 << 10,
            "mib" => 1 << 20,
            "gib" => 1 << 30,
            "tib" => 1 << 40,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            _ => {
                return Err(format!(
                    "{text:?} is not a size: a number and a unit, e.g. 20GiB, 500MiB or 20GB (KiB, MiB, GiB, TiB are powers of 1024; KB, MB, GB, TB of 1000)"
                ))
            }
        };
        let bad = || format!("{text:?} is not a size: {number:?} is not a number");
        let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && frac.is_empty() {
            return Err(bad());
        }
        let whole: u64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        if !frac.bytes().all(|c| c.is_ascii_digit()) || frac.len() > 9 {
            return Err(bad());
        }
        let frac_bytes = if frac.is_empty() {
            0
        } else {
            let scale = 10u128.pow(frac.len() as u32);
            let f: u128 = frac.parse().map_err(|_| bad())?;
            (f * u128::from(unit_bytes) / scale) as u64
        };
        let bytes = whole
            .checked_mul(unit_bytes)
            .and_then(|b| b.checked_add(frac_bytes))
            .ok_or_else(|| format!("{text:?} is too large"))?;
        Ok(ByteSize(bytes))
    }
}

impl fmt::Display for ByteSize {
    /// In powers of 1024, to one decimal where it is not whole: `20 GiB`, `240.3 MiB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
        if self.0 < 1 << 10 {
            return write!(f, "{} bytes", self.0);
        }
        let mut unit = 0;
        while unit + 1 < UNITS.len() && self.0 >= 1u64 << (10 * (unit + 2)) {
            unit += 1;
        }
        let per = 1u64 << (10 * (unit + 1));
        // Tenths, rounded half up, in integers.
        let tenths = (u128::from(self.0) * 10 + u128::from(per) / 2) / u128::from(per);
        if tenths % 10 == 0 {
            write!(f, "{} {}", tenths / 10, UNITS[unit])
        } else {
            write!(f, "{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> TradingDay {
        s.parse().unwrap()
    }

    fn file(d: &str, bytes: u64) -> DayFile {
        DayFile {
            day: day(d),
            bytes,
            in_use: false,
        }
    }

    fn policy(tape_days: KeepDays, tape_bytes: u64) -> RetentionPolicy {
        RetentionPolicy {
            tape_days,
            tape_bytes,
            journal_days: KeepDays::Forever,
        }
    }

    #[test]
    fn age_counts_calendar_days_across_months_and_leap_days() {
        assert_eq!(age_in_days(day("2024-03-01"), day("2024-03-01")), 0);
        assert_eq!(age_in_days(day("2024-02-28"), day("2024-03-01")), 2);
        assert_eq!(age_in_days(day("2023-12-31"), day("2024-12-31")), 366);
        assert_eq!(age_in_days(day("2024-03-02"), day("2024-03-01")), -1);
    }

    #[test]
    fn tapes_older_than_the_days_kept_go_and_today_never_does() {
        let today = day("2024-06-10");
        let files = [
            file("2024-06-07", 10),
            file("2024-06-08", 10),
            file("2024-06-09", 10),
            file("2024-06-10", 10),
        ];
        // 2 days: today and yesterday.
        let v = judge_tapes(&files, today, &policy(KeepDays::Days(2), u64::MAX));
        let age = Verdict::Remove(Removed::Age {
            keep: KeepDays::Days(2),
        });
        assert_eq!(
            v,
            [
                age,
                age,
                Verdict::Keep(Kept::Recent),
                Verdict::Keep(Kept::Current)
            ]
        );
        // 1 day keeps today's alone; a cap of 0 bytes cannot take today's either.
        let v = judge_tapes(&files, today, &policy(KeepDays::Days(1), 0));
        assert_eq!(v[3], Verdict::Keep(Kept::Current));
        assert!(v[..3].iter().all(|v| matches!(v, Verdict::Remove(_))));
        // Forever by age: nothing goes.
        let v = judge_tapes(&files, today, &policy(KeepDays::Forever, u64::MAX));
        assert!(v.iter().all(|v| matches!(v, Verdict::Keep(_))));
    }

    #[test]
    fn the_size_cap_keeps_the_newest_days_that_fit_and_no_gap() {
        let today = day("2024-06-10");
        // Listed out of order on purpose: the verdicts follow the listing.
        let files = [
            file("2024-06-05", 1),
            file("2024-06-10", 40),
            file("2024-06-07", 50),
            file("2024-06-09", 30),
            file("2024-06-06", 5),
        ];
        let v = judge_tapes(&files, today, &policy(KeepDays::Days(90), 75));
        let cap = Verdict::Remove(Removed::OverCap { cap: 75 });
        // 40 (today) + 30 = 70 fits; the 50 does not, and the small older ones go with it.
        assert_eq!(
            v,
            [
                cap,
                Verdict::Keep(Kept::Current),
                cap,
                Verdict::Keep(Kept::Recent),
                cap
            ]
        );
        let t = Tally::of(&files, &v);
        assert_eq!(
            (t.kept, t.kept_bytes, t.removed, t.removed_bytes),
            (2, 70, 3, 56)
        );
        // Exactly at the cap is within it.
        let v = judge_tapes(&files, today, &policy(KeepDays::Days(90), 70));
        assert_eq!(v[3], Verdict::Keep(Kept::Recent));
    }

    #[test]
    fn whichever_keeps_less_wins() {
        let today = day("2024-06-10");
        let files = [
            file("2024-06-01", 1),
            file("2024-06-08", 1),
            file("2024-06-09", 1),
        ];
        // Age says keep 06-08 and 06-09, the cap says only 06-09.
        let v = judge_tapes(&files, today, &policy(KeepDays::Days(3), 1));
        assert_eq!(
            v,
            [
                Verdict::Remove(Removed::Age {
                    keep: KeepDays::Days(3)
                }),
                Verdict::Remove(Removed::OverCap { cap: 1 }),
                Verdict::Keep(Kept::Recent),
            ]
        );
    }

    #[test]
    fn a_file_a_running_condor_holds_is_kept_and_counted_against_the_cap() {
        let today = day("2024-06-10");
        let mut held = file("2024-06-09", 60);
        held.in_use = true;
        let files = [file("2024-01-01", 1), file("2024-06-08", 20), held];
        let v = judge_tapes(&files, today, &policy(KeepDays::Days(30), 70));
        assert_eq!(v[2], Verdict::Keep(Kept::InUse));
        assert_eq!(v[1], Verdict::Remove(Removed::OverCap { cap: 70 }));
        // Held and past the age: still kept.
        let mut old = file("2024-01-01", 1);
        old.in_use = true;
        let v = judge_journals(&[old], today, KeepDays::Days(30));
        assert_eq!(v, [Verdict::Keep(Kept::InUse)]);
    }

    #[test]
    fn journals_go_by_age_alone_and_forever_keeps_all() {
        let today = day("2025-06-10");
        let files = [
            file("2024-06-10", 1 << 40),
            file("2024-06-11", 1 << 40),
            file("2025-06-11", 1),
        ];
        let v = judge_journals(&files, today, KeepDays::Days(365));
        assert_eq!(
            v,
            [
                Verdict::Remove(Removed::Age {
                    keep: KeepDays::Days(365)
                }),
                Verdict::Keep(Kept::Recent),
                Verdict::Keep(Kept::Current),
            ]
        );
        let v = judge_journals(&files, today, KeepDays::Forever);
        assert!(v.iter().all(|v| matches!(v, Verdict::Keep(_))));
    }

    #[test]
    fn days_kept_parse_and_refuse_nonsense() {
        assert_eq!(KeepDays::parse("90"), Ok(KeepDays::Days(90)));
        assert_eq!(KeepDays::parse(" Forever "), Ok(KeepDays::Forever));
        assert!(KeepDays::parse("0").unwrap_err().contains("at least 1"));
        assert!(KeepDays::parse("-3").unwrap_err().contains("\"-3\""));
        assert!(KeepDays::parse("90d").is_err());
        assert_eq!(KeepDays::Days(1).to_string(), "1 day");
        assert_eq!(KeepDays::Days(90).to_string(), "90 days");
    }

    #[test]
    fn sizes_parse_in_both_kinds_of_unit() {
        let p = |s| ByteSize::parse(s).map(|b| b.0);
        assert_eq!(p("20GiB"), Ok(20 << 30));
        assert_eq!(p("500 MiB"), Ok(500 << 20));
        assert_eq!(p("500mib"), Ok(500 << 20));
        assert_eq!(p("1.5GiB"), Ok(3 << 29));
        assert_eq!(p("20GB"), Ok(20_000_000_000));
        assert_eq!(p("4096"), Ok(4096));
        assert_eq!(p("4096B"), Ok(4096));
        assert_eq!(p("0.5KiB"), Ok(512));
        for bad in [
            "",
            "GiB",
            "20G",
            "20 gigs",
            "1.2.3GiB",
            "-1GiB",
            "99999999999TiB",
        ] {
            assert!(p(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(p("20G").unwrap_err().contains("GiB"));
    }

    #[test]
    fn sizes_show_in_powers_of_1024() {
        assert_eq!(ByteSize(512).to_string(), "512 bytes");
        assert_eq!(ByteSize(20 << 30).to_string(), "20 GiB");
        assert_eq!(ByteSize(251_974_861).to_string(), "240.3 MiB");
        assert_eq!(ByteSize(1023 << 20).to_string(), "1023 MiB");
        assert_eq!(ByteSize(3 << 40).to_string(), "3 TiB");
        assert_eq!(ByteSize(5000 << 40).to_string(), "5000 TiB");
    }

    #[test]
    fn the_policy_reads_as_a_sentence() {
        let p = RetentionPolicy::default();
        assert_eq!(p.tapes_text(), "90 days or 20 GiB, whichever is less");
        let p = policy(KeepDays::Forever, 500 << 20);
        assert_eq!(p.tapes_text(), "up to 500 MiB");
    }
}
