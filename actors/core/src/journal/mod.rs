//! The journal: the engine's memory. Every change of account or order state is appended
//! to a per-day file and made durable before anything acts on it; on start the engine
//! rebuilds its orders and positions from it alone, then reconciles with the broker.
//!
//! `event` is the vocabulary, `store` the durable file with group commit, `recovery` the
//! pure rebuild of state from records. [`Journal`] is the handle the actors share: a
//! clone is cheap, appends never block, and the writer thread does all the I/O.
//!
//! Why a file of checksummed lines and not SQLite: a crash can only tear the last group
//! of a file that is only ever appended to, and the reader can tell that torn tail (cut
//! off, with a warning) from damage in the middle (start refused, naming the record),
//! which SQLite's own recovery would hide; one `write` + one `fdatasync` per group is
//! also cheaper than SQLite's WAL commit (figures in the README). `condor journal` reads
//! it for people and, with `--json`, for programs.

pub mod event;
pub mod recovery;
pub mod store;

use std::path::Path;
use std::sync::Arc;

use crate::clock::{Clock, TradingDay};
use event::JournalEvent;
use store::{JournalFailure, JournalWriter, Replay, StoreError};

/// Where `day`'s journal lives under `dir`.
pub fn day_path(dir: &Path, day: TradingDay) -> std::path::PathBuf {
    store::day_file(dir, &day.to_string())
}

/// The shared handle to today's journal. Events are stamped with the engine's clock.
#[derive(Clone)]
pub struct Journal {
    writer: Arc<JournalWriter<JournalEvent>>,
    clock: Arc<dyn Clock>,
    /// Counts appends, when metrics are on.
    appends: Option<prometheus_client::metrics::counter::Counter>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Journal({})", self.writer.path().display())
    }
}

impl Journal {
    /// Opens (creating if need be) `day`'s journal in `dir`, locked against a second
    /// writer, with a torn tail cut off (and warned about). Returns what it already holds.
    pub fn open(
        dir: &Path,
        day: TradingDay,
        clock: Arc<dyn Clock>,
    ) -> Result<(Journal, Replay<JournalEvent>), StoreError> {
        let (writer, replay) = JournalWriter::open(&day_path(dir, day))?;
        Ok((
            Journal {
                writer: Arc::new(writer),
                clock,
                appends: None,
            },
            replay,
        ))
    }

    /// Counts every append (this handle's and its clones') on `appends` (the engine's
    /// `condor_journal_appends_total`).
    pub fn counting_appends(
        mut self,
        appends: Option<prometheus_client::metrics::counter::Counter>,
    ) -> Journal {
        self.appends = appends;
        self
    }

    /// Appends `event`; `done` runs (on the writer thread) once it is durable or failed.
    pub fn record_then(
        &self,
        event: JournalEvent,
        done: impl FnOnce(Result<u64, JournalFailure>) + Send + 'static,
    ) {
        if let Some(c) = &self.appends {
            c.inc();
        }
        self.writer.append(self.clock.unix_ms(), event, done);
    }

    /// Appends `event` where nothing waits on it; a failure is logged by the writer.
    pub fn record(&self, event: JournalEvent) {
        self.record_then(event, |_| {});
    }

    /// Appends `event` and blocks until it is durable: for start-up and commands, never
    /// inside a trading actor's handler.
    pub fn record_wait(&self, event: JournalEvent) -> Result<u64, JournalFailure> {
        if let Some(c) = &self.appends {
            c.inc();
        }
        self.writer.append_wait(self.clock.unix_ms(), event)
    }

    /// Runs `hook` before each later group of appends is written, and writes the group
    /// only once what it returns is done (the tape's sync: see [`store::BeforeCommit`]).
    pub fn before_commit(&self, hook: store::BeforeCommit) {
        self.writer.before_commit(hook);
    }

    /// Runs `hook` when a write finds the disk full; when it frees space (the reserve) the
    /// group is written once more (see [`store::OnStorageFull`]).
    pub fn on_storage_full(&self, hook: store::OnStorageFull) {
        self.writer.on_storage_full(hook);
    }

    /// Blocks until everything appended so far is durable (shutdown).
    pub fn sync(&self) -> Result<u64, JournalFailure> {
        self.writer.sync()
    }

    pub fn path(&self) -> &Path {
        self.writer.path()
    }
}
