//! Retention as a user meets it: a data directory of real tapes (written through the tape
//! API) and real journals over many days, then `condor tape ls`, `condor tape prune
//! [--dry-run]` and `condor run`'s start, the binary each time.
//!
//! The days are counted back from today (KST), so the files are "old" the way a long-
//! running condor's are. A tomorrow's tape is there too: should the run cross midnight,
//! every file moves one day older and the same files are kept, so no verdict depends on
//! when the test runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use condor_actors::clock::{Clock, SystemClock, TradingDay};
use condor_actors::journal::event::JournalEvent;
use condor_actors::journal::Journal;
use condor_actors::market::{Price, Qty, Side, Ticker, TimeOfDay};
use condor_actors::retention::ByteSize;
use condor_actors::tape::{self, Tape, TapeEvent, TapeTrade};

const DAY_MS: i64 = 86_400_000;

fn condor(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_condor"));
    // Keep a developer's .env and CONDOR_* settings out of the test.
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info")
        .env("CONDOR_DATA_DIR", dir.join("data"))
        .current_dir(dir);
    c
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `n` days before `day` (negative: after).
fn back(day: TradingDay, n: i64) -> TradingDay {
    TradingDay::from_unix_ms(day.midnight_unix_ms() - n * DAY_MS)
}

/// A real tape for `day` with `trades` trades.
fn write_tape(data: &Path, day: TradingDay, trades: u64) -> PathBuf {
    let path = tape::day_path(&data.join("tape"), day);
    let open_ns = (day.midnight_unix_ms() + 9 * 3_600_000) * 1_000_000;
    let events: Vec<(i64, TapeEvent)> = (1..=trades)
        .map(|i| {
            let trade = TapeTrade {
                ticker: Ticker::parse("005930").unwrap(),
                price: Price::lit(71_000 + (i % 7) as i64 * 100),
                qty: Qty::lit(i % 13 + 1),
                cum_volume: i * 7,
                prev_close: Price::lit(70_000),
                aggressor: if i % 2 == 0 { Side::Buy } else { Side::Sell },
                exchange_time: TimeOfDay::hms(9, 0, (i % 60) as u32),
                seq: i,
            };
            (open_ns + i as i64 * 1_000_000, TapeEvent::Trade(trade))
        })
        .collect();
    tape::write_day(&path, "retention test", &events).unwrap();
    path
}

/// A real journal for `day`, with one record.
fn write_journal(data: &Path, day: TradingDay) -> PathBuf {
    let (journal, _) = Journal::open(&data.join("journal"), day, Arc::new(SystemClock)).unwrap();
    journal
        .record_wait(JournalEvent::OpeningCash { cash: 100_000_000 })
        .unwrap();
    journal.path().to_owned()
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().len()
}

struct Day {
    dir: tempfile::TempDir,
    /// Kept: tomorrow, today, 1 and 2 days ago (exactly the size cap between them).
    kept_tapes: Vec<PathBuf>,
    /// 3 days ago (over the cap) and 100 days ago (past 90 days).
    old_tapes: Vec<PathBuf>,
    /// 120 days ago, but held open by a writer (this test, standing in for a condor).
    held_tape: PathBuf,
    kept_journals: Vec<PathBuf>,
    /// 400 and 500 days ago (past 365).
    old_journals: Vec<PathBuf>,
    /// CONDOR_TAPE_KEEP_BYTES: the kept tapes' total.
    cap: u64,
}

fn data_dir() -> (Day, Tape) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let today = SystemClock.today();
    let kept_tapes: Vec<PathBuf> = [(-1, 50), (0, 400), (1, 300), (2, 200)]
        .iter()
        .map(|&(n, trades)| write_tape(&data, back(today, n), trades))
        .collect();
    let old_tapes = vec![
        write_tape(&data, back(today, 3), 100),
        write_tape(&data, back(today, 100), 10),
    ];
    let held_tape = write_tape(&data, back(today, 120), 10);
    let held = Tape::open(&held_tape, "a running condor").unwrap();
    let kept_journals = vec![
        write_journal(&data, back(today, 0)),
        write_journal(&data, back(today, 10)),
    ];
    let old_journals = vec![
        write_journal(&data, back(today, 400)),
        write_journal(&data, back(today, 500)),
    ];
    let cap = kept_tapes.iter().map(|p| size(p)).sum();
    (
        Day {
            dir,
            kept_tapes,
            old_tapes,
            held_tape,
            kept_journals,
            old_journals,
            cap,
        },
        held,
    )
}

impl Day {
    fn condor(&self) -> Command {
        let mut c = condor(self.dir.path());
        c.env("CONDOR_TAPE_KEEP_DAYS", "90")
            .env("CONDOR_TAPE_KEEP_BYTES", self.cap.to_string())
            .env("CONDOR_JOURNAL_KEEP_DAYS", "365");
        c
    }

    fn all(&self) -> Vec<&PathBuf> {
        self.kept_tapes
            .iter()
            .chain(&self.old_tapes)
            .chain([&self.held_tape])
            .chain(&self.kept_journals)
            .chain(&self.old_journals)
            .collect()
    }

    fn name(p: &Path) -> String {
        p.file_name().unwrap().to_string_lossy().into_owned()
    }
}

#[test]
fn tape_ls_shows_the_policy_and_prune_removes_the_old_days_but_never_a_held_one() {
    let (day, _held) = data_dir();

    let o = day.condor().args(["tape", "ls"]).output().unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    let header = out.lines().next().unwrap();
    assert!(
        header.starts_with("# keeping tapes 90 days or ")
            && header.contains(", whichever is less; 5 days, ")
            && header.ends_with(" to prune (condor tape prune)"),
        "{out}"
    );
    let row = |p: &Path| -> String {
        let d = Day::name(p).trim_end_matches(".tape").to_owned();
        out.lines()
            .find(|l| l.starts_with(&d))
            .unwrap_or_else(|| panic!("{d} listed: {out}"))
            .to_owned()
    };
    let over = row(&day.old_tapes[0]);
    assert!(
        over.contains("  (to prune: over the ") && over.ends_with(" cap)"),
        "{out}"
    );
    assert!(
        row(&day.old_tapes[1]).ends_with("(to prune: older than 90 days)"),
        "{out}"
    );
    assert!(row(&day.held_tape).ends_with("(in use)"), "{out}");
    for p in &day.kept_tapes {
        assert!(!row(p).contains('('), "{out}");
    }

    // A dry run lists and removes nothing.
    let o = day
        .condor()
        .args(["tape", "prune", "--dry-run"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    for p in day.old_tapes.iter().chain(&day.old_journals) {
        assert!(
            out.lines()
                .any(|l| l.starts_with("would remove") && l.ends_with(&*p.to_string_lossy())),
            "{} listed: {out}",
            p.display()
        );
    }
    let freed = ByteSize(
        day.old_tapes
            .iter()
            .chain(&day.old_journals)
            .map(|p| size(p))
            .sum(),
    );
    assert!(
        out.contains(&format!(
            "would remove 2 tapes and 2 journals: {freed} would be freed"
        )),
        "{out}"
    );
    assert!(day.all().iter().all(|p| p.exists()), "{out}");

    let o = day.condor().args(["tape", "prune"]).output().unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    for p in day.old_tapes.iter().chain(&day.old_journals) {
        assert!(!p.exists(), "{} removed: {out}", p.display());
    }
    for p in day
        .kept_tapes
        .iter()
        .chain([&day.held_tape])
        .chain(&day.kept_journals)
    {
        assert!(p.exists(), "{} kept: {out}", p.display());
    }
    assert!(
        out.contains(&format!(
            "removed 2 tapes and 2 journals: {freed} freed; kept 5 tapes ("
        )),
        "{out}"
    );

    // Again: nothing left to remove.
    let o = day.condor().args(["tape", "prune"]).output().unwrap();
    let (out, _) = text(&o);
    assert!(
        out.contains("removed 0 tapes and 0 journals: 0 bytes freed"),
        "{out}"
    );
}

#[test]
fn condor_run_prunes_at_start_and_refuses_a_bad_setting_naming_it() {
    let (day, held) = data_dir();
    // Once the writer is gone, its old tape goes by age like any other.
    drop(held);

    // A bad value stops condor before it does anything, naming the variable.
    let o = day
        .condor()
        .arg("run")
        .env("CONDOR_TAPE_KEEP_BYTES", "20G")
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("CONDOR_TAPE_KEEP_BYTES"), "{out}\n{err}");
    assert!(
        day.all().iter().all(|p| p.exists()),
        "nothing pruned: {err}"
    );

    // A broker nobody answers: condor prunes, then fails to log in, and exits.
    let o = day
        .condor()
        .arg("run")
        .env("CONDOR_HTTP_ADDR", "off")
        .env("CONDOR_BROKER_REST_URL", "http://127.0.0.1:9")
        .env("CONDOR_BROKER_WS_URL", "ws://127.0.0.1:9")
        .env("CONDOR_APPKEY", "k")
        .env("CONDOR_APPSECRET", "s")
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(!o.status.success(), "no broker: {out}\n{err}");
    assert!(err.contains("cannot log in to the broker"), "{err}");
    for p in day
        .old_tapes
        .iter()
        .chain([&day.held_tape])
        .chain(&day.old_journals)
    {
        assert!(!p.exists(), "{} removed: {err}", p.display());
        assert!(
            err.lines()
                .any(|l| l.contains("removed") && l.contains(&*p.to_string_lossy())),
            "{} logged: {err}",
            p.display()
        );
    }
    for p in day.kept_tapes.iter().chain(&day.kept_journals) {
        assert!(p.exists(), "{} kept: {err}", p.display());
    }
    assert!(
        err.contains("keeping tapes 90 days or ") && err.contains(", journals 365 days: "),
        "{err}"
    );
}
