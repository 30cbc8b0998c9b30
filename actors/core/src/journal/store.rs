//! The journal's durable store: one append-only text file per trading day, one line per
//! event, written in groups by one writer thread with one `write` and one `fdatasync` per
//! group.
//!
//! A record is `{seq} {at_ms} {crc:08x} {json}\n`: `seq` counts from 1 with no gaps,
//! `at_ms` is the caller's Unix time in ms, `json` is compact `serde_json` (never a raw
//! newline) and `crc` is CRC-32 over `"{seq} {at_ms} {json}"`. The file reads with `less`
//! and `grep`, and a crash leaves at most a torn tail: an unfinished last group.
//!
//! Owns the file format, the torn-tail rule, the exclusive lock on a file and the
//! group-commit writer. Generic over the event type: it knows nothing of trading. Must
//! never acknowledge an event before it is on disk, never skip a record it cannot read
//! (only a damaged tail with nothing valid after it is cut, and only by
//! [`JournalWriter::open`]), never modify a file in [`read`], and never panic on bad input.

use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

use crate::durable_file;
use serde::de::DeserializeOwned;
use serde::Serialize;

const LOG_TARGET: &str = "condor::journal";
const THREAD_NAME: &str = "condor-journal";
/// Most events in one group: bounds the buffer (and the wait of the group's first event)
/// when producers outrun the disk.
const MAX_BATCH: usize = 4096;
/// The group buffer is shrunk back to this after an unusually large group.
const BUF_KEEP: usize = 1 << 20;

/// One event read back from a journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<T> {
    pub seq: u64,
    pub at_ms: i64,
    pub event: T,
}

/// What a journal file holds: every intact record in order, and the damaged tail if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay<T> {
    pub records: Vec<Record<T>>,
    /// Bytes of the file up to the end of the last intact record.
    pub valid_len: u64,
    /// An unfinished last group (a crash mid-write); `open` cuts it off.
    pub torn: Option<TornTail>,
}

impl<T> Replay<T> {
    fn empty() -> Replay<T> {
        Replay {
            records: Vec::new(),
            valid_len: 0,
            torn: None,
        }
    }
}

/// A damaged tail with nothing valid after it: a write that never finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// Byte offset where the damage starts (= `Replay::valid_len`).
    pub offset: u64,
    /// Bytes from `offset` to the end of the file.
    pub bytes: u64,
    /// 1-based index of the first bad record.
    pub record: u64,
    pub reason: String,
}

/// Why a journal could not be opened or read. The messages are meant to be shown verbatim.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("journal {}: cannot {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    #[error(
        "journal {} is locked by another writer (is another condor running on the same data directory?)",
        path.display()
    )]
    Locked { path: PathBuf },
    #[error(
        "journal {} is damaged at record {record} (byte offset {offset}): {reason}; intact records \
         follow it, so this is not an unfinished write and nothing was changed: restore the file \
         from a backup or move it aside",
        path.display()
    )]
    Corrupt {
        path: PathBuf,
        record: u64,
        offset: u64,
        reason: String,
    },
    #[error(
        "journal {} record {record} (seq {seq}, byte offset {offset}) is intact but is not an \
         event this version of condor understands: {reason}",
        path.display()
    )]
    Decode {
        path: PathBuf,
        record: u64,
        seq: u64,
        offset: u64,
        reason: String,
    },
}

/// Why an append was not acknowledged. After an `Io` failure the writer acknowledges
/// nothing more: every later append and sync gets the same failure.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JournalFailure {
    #[error(
        "journal {}: {op} failed: {message}; the journal has stopped and acknowledges nothing more",
        path.display()
    )]
    Io {
        path: PathBuf,
        op: &'static str,
        kind: io::ErrorKind,
        message: String,
    },
    /// Only this event; the journal carries on.
    #[error("journal {}: event not journaled, it cannot be encoded as JSON: {message}", path.display())]
    Encode { path: PathBuf, message: String },
    /// The writer thread is gone (it never is while the writer is open, barring a bug).
    #[error("journal {}: the writer thread has stopped; event not journaled", path.display())]
    Stopped { path: PathBuf },
}

/// The path of `day`'s journal in `dir`: `dir/journal-YYYY-MM-DD.log`.
pub fn day_file(dir: &Path, day: &str) -> PathBuf {
    dir.join(format!("journal-{day}.log"))
}

/// Every day with a journal in `dir`, oldest first. Other files are ignored; a missing
/// directory has no days.
pub fn list_days(dir: &Path) -> Result<Vec<(String, PathBuf)>, StoreError> {
    crate::durable_file::list_days(dir, "journal-", ".log").map_err(|source| StoreError::Io {
        path: dir.to_path_buf(),
        action: "list the directory",
        source,
    })
}

/// Reads a journal without changing it. A missing file is an empty journal.
pub fn read<T: DeserializeOwned>(path: &Path) -> Result<Replay<T>, StoreError> {
    match fs::read(path) {
        Ok(bytes) => scan(path, &bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Replay::empty()),
        Err(source) => Err(StoreError::Io {
            path: path.to_path_buf(),
            action: "read the file",
            source,
        }),
    }
}

/// A line that checks out: its fields parse and its CRC matches (its seq is not checked).
struct Line<'a> {
    seq: u64,
    at_ms: i64,
    json: &'a [u8],
}

/// Parses one line (without its newline); `Err` says why it is not an intact record.
fn parse_line(line: &[u8]) -> Result<Line<'_>, String> {
    if line.contains(&0) {
        return Err("zero bytes (a block that never reached the disk)".to_owned());
    }
    let mut spaces = line
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b' ')
        .map(|(i, _)| i);
    let (Some(s1), Some(s2), Some(s3)) = (spaces.next(), spaces.next(), spaces.next()) else {
        let fields = line.iter().filter(|&&b| b == b' ').count() + 1;
        return Err(format!("{fields} fields where 4 were expected"));
    };
    let seq = parse_u64(&line[..s1])
        .ok_or_else(|| format!("seq {:?} is not a number", lossy(&line[..s1])))?;
    let at_text = &line[s1 + 1..s2];
    let at_ms = match at_text.strip_prefix(b"-") {
        Some(digits) => parse_u64(digits)
            .and_then(|v| 0i64.checked_sub_unsigned(v))
            .ok_or(()),
        None => parse_u64(at_text)
            .and_then(|v| i64::try_from(v).ok())
            .ok_or(()),
    }
    .map_err(|()| format!("time {:?} is not a number", lossy(at_text)))?;
    let crc_text = &line[s2 + 1..s3];
    let stored = parse_crc(crc_text)
        .ok_or_else(|| format!("checksum {:?} is not 8 hex digits", lossy(crc_text)))?;
    let json = &line[s3 + 1..];
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&line[..s2]);
    hasher.update(b" ");
    hasher.update(json);
    let computed = hasher.finalize();
    if computed != stored {
        return Err(format!(
            "checksum mismatch (stored {stored:08x}, computed {computed:08x})"
        ));
    }
    Ok(Line { seq, at_ms, json })
}

/// Plain decimal digits only: the writer never writes a sign, a space or a leading `+`.
fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn parse_crc(text: &[u8]) -> Option<u32> {
    if text.len() != 8 || !text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(text).ok()?, 16).ok()
}

/// At most 40 bytes of `bytes`, for an error message.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned()
}

fn decode<T: DeserializeOwned>(json: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let event = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            inner.to_string()
        } else {
            format!("at {path}: {inner}")
        }
    })?;
    de.end().map_err(|e| e.to_string())?;
    Ok(event)
}

/// Reads every record of `bytes` (the whole file at `path`) and applies the torn-tail rule.
fn scan<T: DeserializeOwned>(path: &Path, bytes: &[u8]) -> Result<Replay<T>, StoreError> {
    let mut records: Vec<Record<T>> = Vec::new();
    let mut offset = 0usize;
    while offset < bytes.len() {
        let record = records.len() as u64 + 1;
        let rest = &bytes[offset..];
        let Some(newline) = rest.iter().position(|&b| b == b'\n') else {
            let reason = if rest.contains(&0) {
                "zero bytes (a block that never reached the disk)"
            } else {
                "no newline at the end (the write of this record never finished)"
            };
            return torn_or_corrupt(path, bytes, offset, record, reason.to_owned(), records);
        };
        let line = &rest[..newline];
        let parsed = match parse_line(line) {
            Ok(parsed) => parsed,
            Err(reason) => return torn_or_corrupt(path, bytes, offset, record, reason, records),
        };
        let expected = records.last().map_or(1, |r| r.seq + 1);
        if parsed.seq != expected {
            // An intact record in the wrong place is never an unfinished write (a torn write
            // cannot produce a matching checksum), so it is never cut off as a tail.
            return Err(StoreError::Corrupt {
                path: path.to_path_buf(),
                record,
                offset: offset as u64,
                reason: format!("seq {} where {expected} was expected", parsed.seq),
            });
        }
        let event = decode(parsed.json).map_err(|reason| StoreError::Decode {
            path: path.to_path_buf(),
            record,
            seq: parsed.seq,
            offset: offset as u64,
            reason,
        })?;
        records.push(Record {
            seq: parsed.seq,
            at_ms: parsed.at_ms,
            event,
        });
        offset += newline + 1;
    }
    Ok(Replay {
        records,
        valid_len: offset as u64,
        torn: None,
    })
}

/// The bad record at `offset` is a torn tail if no intact line follows it; otherwise the
/// damage is in the middle and the file is corrupt.
fn torn_or_corrupt<T>(
    path: &Path,
    bytes: &[u8],
    offset: usize,
    record: u64,
    reason: String,
    records: Vec<Record<T>>,
) -> Result<Replay<T>, StoreError> {
    let after_bad = bytes[offset..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| offset + i + 1);
    let mut later = bytes[after_bad..].split(|&b| b == b'\n');
    // The piece after the last newline has no newline, so it is never intact.
    let _unterminated = later.next_back();
    if later.any(|line| parse_line(line).is_ok()) {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            record,
            offset: offset as u64,
            reason,
        });
    }
    Ok(Replay {
        records,
        valid_len: offset as u64,
        torn: Some(TornTail {
            offset: offset as u64,
            bytes: (bytes.len() - offset) as u64,
            record,
            reason,
        }),
    })
}

/// Appends one record line to `buf`.
fn encode_line(buf: &mut Vec<u8>, seq: u64, at_ms: i64, json: &str) {
    let start = buf.len();
    // Writing into a Vec cannot fail.
    let _ = write!(buf, "{seq} {at_ms}");
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&buf[start..]);
    hasher.update(b" ");
    hasher.update(json.as_bytes());
    let _ = write!(buf, " {:08x} ", hasher.finalize());
    buf.extend_from_slice(json.as_bytes());
    buf.push(b'\n');
}

/// Where the writer thread puts its groups: the journal file, or in tests a failing device.
trait Sink: Send {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    fn sync_data(&mut self) -> io::Result<()>;
    /// Cuts the file back to `len` bytes: what a group whose write failed part-way left.
    fn truncate(&mut self, len: u64) -> io::Result<()>;
}

impl Sink for File {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        Write::write_all(self, buf)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        File::sync_data(self)
    }

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        // Opened for appending: the next write goes to the new end.
        self.set_len(len)
    }
}

type Done = Box<dyn FnOnce(Result<u64, JournalFailure>) + Send>;

/// Called on the writer thread before each group of appends is written; returns what to
/// wait on before the group is written. The tape uses it so that nothing journaled (an
/// order about to be sent) reaches the disk before the inputs that caused it are durable.
pub type BeforeCommit = Box<dyn FnMut() -> Box<dyn FnOnce() + Send> + Send>;

/// Called on the writer thread when a group's `write` fails because the disk is full;
/// returns whether it freed space (the data directory's reserve), in which case the file is
/// cut back to its last whole record and the group written once more. See
/// `crate::disk_space` for why.
pub type OnStorageFull = Box<dyn FnMut() -> bool + Send>;

/// What the writer thread is asked to do, in queue order.
enum Op {
    Append {
        at_ms: i64,
        json: String,
        done: Done,
    },
    /// An event that could not be encoded: answered in its place in the queue.
    Refused { message: String, done: Done },
    /// Answered once everything queued before it is durable.
    Barrier { done: Done },
    /// From here on, run this before each group is written.
    BeforeCommit(BeforeCommit),
    /// From here on, run this when a write finds the disk full.
    OnStorageFull(OnStorageFull),
}

impl Op {
    fn into_done(self) -> Done {
        match self {
            Op::Append { done, .. } | Op::Refused { done, .. } | Op::Barrier { done } => done,
            Op::BeforeCommit(_) | Op::OnStorageFull(_) => Box::new(|_| {}),
        }
    }
}

/// The append side of one journal file. Holds an exclusive lock on the file until it is
/// closed or dropped (or the process dies). `Send + Sync`: share it with an `Arc`.
pub struct JournalWriter<T> {
    path: PathBuf,
    tx: Option<Sender<Op>>,
    thread: Option<JoinHandle<Result<u64, JournalFailure>>>,
    // fn(T): the writer holds no T, so it is Send + Sync whatever T is.
    _event: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for JournalWriter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JournalWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize + DeserializeOwned + Send + 'static> JournalWriter<T> {
    /// Opens (or creates) the journal at `path` for appending and returns what it holds.
    ///
    /// Creates the parent directories; takes an exclusive advisory lock on the file (a
    /// second writer, in this process or another, gets [`StoreError::Locked`]); reads it as
    /// [`read`] does; cuts a torn tail off (with a warning) and syncs; then starts the
    /// writer thread. The next append gets the seq after the last intact record.
    pub fn open(path: &Path) -> Result<(JournalWriter<T>, Replay<T>), StoreError> {
        let io_err = |action| {
            move |source| StoreError::Io {
                path: path.to_path_buf(),
                action,
                source,
            }
        };
        let mut file = durable_file::open_locked_append(path).map_err(|e| match e {
            durable_file::OpenError::Locked => StoreError::Locked {
                path: path.to_path_buf(),
            },
            durable_file::OpenError::Io { action, source } => io_err(action)(source),
        })?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(io_err("read the file"))?;
        let replay = scan::<T>(path, &bytes)?;
        drop(bytes);
        if let Some(torn) = &replay.torn {
            log::warn!(
                target: LOG_TARGET,
                "journal {}: dropping a torn tail of {} bytes at byte offset {} (record {}): {}",
                path.display(),
                torn.bytes,
                torn.offset,
                torn.record,
                torn.reason
            );
            file.set_len(replay.valid_len)
                .map_err(io_err("cut off the torn tail"))?;
            file.sync_all()
                .map_err(io_err("sync after cutting the torn tail"))?;
        }
        let last_seq = replay.records.last().map_or(0, |r| r.seq);
        let len = file
            .metadata()
            .map_err(io_err("read the file's length"))?
            .len();
        let writer = JournalWriter::start(path.to_path_buf(), last_seq, len, Box::new(file))
            .map_err(io_err("start the writer thread"))?;
        Ok((writer, replay))
    }

    /// Starts the writer thread over `sink`, `len` bytes long, whose last durable record is
    /// `last_seq`.
    fn start(
        path: PathBuf,
        last_seq: u64,
        len: u64,
        sink: Box<dyn Sink>,
    ) -> io::Result<JournalWriter<T>> {
        let (tx, rx) = mpsc::channel();
        let thread_path = path.clone();
        let thread = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || write_groups(sink, &thread_path, last_seq, len, rx))?;
        Ok(JournalWriter {
            path,
            tx: Some(tx),
            thread: Some(thread),
            _event: PhantomData,
        })
    }

    /// Queues `event`; never blocks on I/O. `done` is called from the writer thread once the
    /// group holding the event is written and fdatasync'ed, with its seq; callbacks run in
    /// seq order. After a write or sync failure every pending and later `done` gets the
    /// failure. A panicking `done` is logged and does not stop the journal.
    pub fn append(
        &self,
        at_ms: i64,
        event: T,
        done: impl FnOnce(Result<u64, JournalFailure>) + Send + 'static,
    ) {
        let done: Done = Box::new(done);
        // Encoding here spreads the work over the producers and keeps the writer thread on
        // I/O alone.
        let op = match serde_json::to_string(&event) {
            Ok(json) => Op::Append { at_ms, json, done },
            Err(e) => Op::Refused {
                message: e.to_string(),
                done,
            },
        };
        self.send(op);
    }

    /// Appends `event` and waits until it is durable; returns its seq.
    pub fn append_wait(&self, at_ms: i64, event: T) -> Result<u64, JournalFailure> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.append(at_ms, event, move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or_else(|_| Err(self.stopped()))
    }

    /// Waits until everything appended before this call is durable; returns the last
    /// durable seq (0 for an empty journal).
    pub fn sync(&self) -> Result<u64, JournalFailure> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(Op::Barrier {
            done: Box::new(move |r| {
                let _ = tx.send(r);
            }),
        });
        rx.recv().unwrap_or_else(|_| Err(self.stopped()))
    }

    /// Runs `hook` before each later group of appends is written, and waits on what it
    /// returns before writing the group (see [`BeforeCommit`]).
    pub fn before_commit(&self, hook: BeforeCommit) {
        self.send(Op::BeforeCommit(hook));
    }

    /// Runs `hook` when a later group's write finds the disk full (see [`OnStorageFull`]).
    pub fn on_storage_full(&self, hook: OnStorageFull) {
        self.send(Op::OnStorageFull(hook));
    }

    /// Writes everything queued, stops the writer thread and releases the lock; returns the
    /// last durable seq. Dropping the writer does the same without the result.
    pub fn close(mut self) -> Result<u64, JournalFailure> {
        self.shutdown()
    }
}

impl<T> JournalWriter<T> {
    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn stopped(&self) -> JournalFailure {
        JournalFailure::Stopped {
            path: self.path.clone(),
        }
    }

    fn send(&self, op: Op) {
        let op = match &self.tx {
            Some(tx) => match tx.send(op) {
                Ok(()) => return,
                Err(mpsc::SendError(op)) => op,
            },
            None => op,
        };
        // Only if the writer thread died: nobody else can answer, so answer here.
        let failure = self.stopped();
        answer(&self.path, op.into_done(), Err(failure));
    }

    fn shutdown(&mut self) -> Result<u64, JournalFailure> {
        // Closing the channel makes the writer thread drain the queue and return.
        drop(self.tx.take());
        let Some(thread) = self.thread.take() else {
            return Err(self.stopped());
        };
        if thread.thread().id() == thread::current().id() {
            // Dropped from one of its own callbacks: it cannot wait for itself; the thread
            // still drains the queue and exits.
            return Err(self.stopped());
        }
        thread.join().unwrap_or_else(|_| Err(self.stopped()))
    }
}

impl<T> Drop for JournalWriter<T> {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// Calls `done`, containing a panic so one bad callback cannot stop the journal.
fn answer(path: &Path, done: Done, result: Result<u64, JournalFailure>) {
    if panic::catch_unwind(AssertUnwindSafe(move || done(result))).is_err() {
        log::error!(
            target: LOG_TARGET,
            "journal {}: a completion callback panicked; the journal carries on",
            path.display()
        );
    }
}

/// The writer thread: takes one op, drains what else is queued (up to `MAX_BATCH`), writes
/// the group's records with one write and one fdatasync, then answers in queue order.
/// Returns when every `JournalWriter` handle is gone and the queue is empty.
fn write_groups(
    mut sink: Box<dyn Sink>,
    path: &Path,
    last_seq: u64,
    mut len: u64,
    rx: Receiver<Op>,
) -> Result<u64, JournalFailure> {
    let mut durable = last_seq;
    let mut storage_full: Option<OnStorageFull> = None;
    let mut failed: Option<JournalFailure> = None;
    let mut batch: Vec<Op> = Vec::with_capacity(MAX_BATCH);
    let mut buf: Vec<u8> = Vec::with_capacity(BUF_KEEP);
    let mut before: Option<BeforeCommit> = None;
    while let Ok(first) = rx.recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        batch.retain_mut(|op| match op {
            Op::BeforeCommit(hook) => {
                before = Some(std::mem::replace(hook, Box::new(|| Box::new(|| {}))));
                false
            }
            Op::OnStorageFull(hook) => {
                storage_full = Some(std::mem::replace(hook, Box::new(|| false)));
                false
            }
            _ => true,
        });
        let base = durable;
        if failed.is_none() {
            buf.clear();
            let mut seq = base;
            for op in &batch {
                if let Op::Append { at_ms, json, .. } = op {
                    seq += 1;
                    encode_line(&mut buf, seq, *at_ms, json);
                }
            }
            if !buf.is_empty() {
                // What the hook waits for (the tape's inputs) is on disk before a byte of
                // this group is written: a SIGKILL or a power cut between the two can leave
                // the tape without the journal's record, never the other way round.
                if let Some(hook) = before.as_mut() {
                    hook()();
                }
                let mut result = write_group(&mut *sink, &buf);
                if let (Err(("write", e)), Some(free)) = (&result, storage_full.as_mut()) {
                    // Nothing of this group is durable: cut off what it left and, if the
                    // reserve gave the disk room, write it again (once).
                    if e.kind() == io::ErrorKind::StorageFull
                        && sink.truncate(len).is_ok()
                        && free()
                    {
                        log::warn!(target: LOG_TARGET, "journal {}: the disk was full; writing again with the reserve's space", path.display());
                        result = write_group(&mut *sink, &buf);
                    }
                }
                match result {
                    Ok(()) => {
                        durable = seq;
                        len += buf.len() as u64;
                    }
                    Err((op, e)) => {
                        let failure = JournalFailure::Io {
                            path: path.to_path_buf(),
                            op,
                            kind: e.kind(),
                            message: e.to_string(),
                        };
                        // Once: from here on nothing is written and every answer is this.
                        log::error!(target: LOG_TARGET, "{failure}");
                        failed = Some(failure);
                    }
                }
            }
            if buf.capacity() > BUF_KEEP {
                buf.clear();
                buf.shrink_to(BUF_KEEP);
            }
        }
        let mut seq = base;
        for op in batch.drain(..) {
            let (done, result) = match op {
                Op::Append { done, .. } => {
                    seq += 1;
                    (done, Ok(seq))
                }
                Op::Refused { message, done } => (
                    done,
                    Err(JournalFailure::Encode {
                        path: path.to_path_buf(),
                        message,
                    }),
                ),
                Op::Barrier { done } => (done, Ok(durable)),
                Op::BeforeCommit(_) | Op::OnStorageFull(_) => continue,
            };
            let result = match &failed {
                Some(failure) => Err(failure.clone()),
                None => result,
            };
            answer(path, done, result);
        }
    }
    failed.map_or(Ok(durable), Err)
}

/// One group: one write, one fdatasync; which of the two failed.
fn write_group(sink: &mut dyn Sink, buf: &[u8]) -> Result<(), (&'static str, io::Error)> {
    sink.write_all(buf)
        .map_err(|e| ("write", e))
        .and_then(|()| sink.sync_data().map_err(|e| ("fdatasync", e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use serde::Deserialize;

    #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
    struct Ev {
        thread: u32,
        n: u32,
        note: String,
    }

    fn ev(thread: u32, n: u32) -> Ev {
        Ev {
            thread,
            n,
            note: format!("event {n} of thread {thread}, with spaces"),
        }
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let dir = std::env::temp_dir().join(format!(
                "condor-journal-{name}-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn file(&self, name: &str) -> PathBuf {
            self.0.join(name)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// The hook runs before each group is written, and the group is written (and
    /// answered) only once what it returned is done.
    #[test]
    fn a_group_waits_for_its_before_commit_hook() {
        let dir = TempDir::new("before-commit");
        let (writer, _) = JournalWriter::<Ev>::open(&dir.file("j.log")).unwrap();
        let seen: Arc<Mutex<Vec<&'static str>>> = Arc::default();
        let sizes: Arc<Mutex<Vec<u64>>> = Arc::default();
        let hook_seen = Arc::clone(&seen);
        let hook_sizes = Arc::clone(&sizes);
        let path = dir.file("j.log");
        writer.before_commit(Box::new(move || {
            hook_seen.lock().unwrap().push("hook");
            let done_seen = Arc::clone(&hook_seen);
            let done_sizes = Arc::clone(&hook_sizes);
            let path = path.clone();
            Box::new(move || {
                std::thread::sleep(Duration::from_millis(30));
                let len = fs::metadata(&path).unwrap().len();
                done_sizes.lock().unwrap().push(len);
                done_seen.lock().unwrap().push("hook done");
            })
        }));
        for n in 1..=2 {
            let answered = Arc::clone(&seen);
            let (tx, rx) = mpsc::channel();
            writer.append(1, ev(0, n), move |r| {
                answered.lock().unwrap().push("answered");
                tx.send(r).unwrap();
            });
            assert_eq!(rx.recv().unwrap(), Ok(u64::from(n)));
        }
        // A barrier with nothing to write runs no hook.
        assert_eq!(writer.sync(), Ok(2));
        assert_eq!(
            *seen.lock().unwrap(),
            [
                "hook",
                "hook done",
                "answered",
                "hook",
                "hook done",
                "answered"
            ]
        );
        // Nothing of a group is written until the hook is done: the first found the file
        // empty, the second held only the first record.
        let sizes = sizes.lock().unwrap().clone();
        assert_eq!(sizes[0], 0);
        assert_eq!(
            sizes[1],
            fs::read(dir.file("j.log")).unwrap().len() as u64 / 2
        );
    }

    /// A journal of `n` events from thread 0; returns its bytes.
    fn write_journal(path: &Path, n: u32) -> Vec<u8> {
        let (writer, replay) = JournalWriter::<Ev>::open(path).unwrap();
        assert!(replay.records.is_empty());
        for i in 1..=n {
            assert_eq!(
                writer.append_wait(1_700_000_000_000 + i as i64, ev(0, i)),
                Ok(u64::from(i))
            );
        }
        assert_eq!(writer.close(), Ok(u64::from(n)));
        fs::read(path).unwrap()
    }

    /// Byte offset where each line starts.
    fn line_starts(bytes: &[u8]) -> Vec<usize> {
        let mut starts = vec![0];
        starts.extend(
            bytes
                .iter()
                .enumerate()
                .filter(|&(i, &b)| b == b'\n' && i + 1 < bytes.len())
                .map(|(i, _)| i + 1),
        );
        starts
    }

    fn line(seq: u64, at_ms: i64, json: &str) -> Vec<u8> {
        let mut buf = Vec::new();
        encode_line(&mut buf, seq, at_ms, json);
        buf
    }

    #[test]
    fn writer_is_send_and_sync() {
        fn check<W: Send + Sync>() {}
        check::<JournalWriter<Ev>>();
        check::<JournalFailure>();
    }

    #[test]
    fn the_record_format_is_one_readable_line() {
        let l = line(7, -3, r#"{"a":"b c"}"#);
        let text = String::from_utf8(l).unwrap();
        let crc = crc32fast::hash(br#"7 -3 {"a":"b c"}"#);
        assert_eq!(text, format!("7 -3 {crc:08x} {{\"a\":\"b c\"}}\n"));
    }

    #[test]
    fn round_trip_and_reopen_continues_the_seq() {
        let dir = TempDir::new("roundtrip");
        // Parent directories are created.
        let path = dir.file("a/b/journal-2024-01-02.log");
        write_journal(&path, 500);
        let replay = read::<Ev>(&path).unwrap();
        assert_eq!(replay.records.len(), 500);
        assert_eq!(replay.torn, None);
        assert_eq!(replay.valid_len, fs::metadata(&path).unwrap().len());
        for (i, r) in replay.records.iter().enumerate() {
            let n = i as u32 + 1;
            assert_eq!(r.seq, u64::from(n));
            assert_eq!(r.at_ms, 1_700_000_000_000 + i64::from(n));
            assert_eq!(r.event, ev(0, n));
        }

        let (writer, again) = JournalWriter::<Ev>::open(&path).unwrap();
        assert_eq!(again, replay);
        assert_eq!(writer.path(), path.as_path());
        assert_eq!(writer.sync(), Ok(500));
        assert_eq!(writer.append_wait(-5, ev(1, 1)), Ok(501));
        assert_eq!(writer.close(), Ok(501));
        let replay = read::<Ev>(&path).unwrap();
        assert_eq!(replay.records.len(), 501);
        assert_eq!(replay.records[500].at_ms, -5);
        assert_eq!(replay.records[500].event, ev(1, 1));
    }

    #[test]
    fn a_missing_file_reads_as_empty_and_an_empty_journal_syncs_to_zero() {
        let dir = TempDir::new("empty");
        let path = dir.file("journal-2024-01-02.log");
        assert_eq!(read::<Ev>(&path).unwrap(), Replay::empty());
        let (writer, replay) = JournalWriter::<Ev>::open(&path).unwrap();
        assert_eq!(replay, Replay::empty());
        assert_eq!(writer.sync(), Ok(0));
        assert_eq!(writer.close(), Ok(0));
        assert_eq!(fs::metadata(&path).unwrap().len(), 0);
    }

    #[test]
    fn group_commit_from_four_threads_keeps_every_order() {
        let dir = TempDir::new("group");
        let path = dir.file("journal.log");
        let (writer, _) = JournalWriter::<Ev>::open(&path).unwrap();
        let writer = Arc::new(writer);
        let seen: Arc<Mutex<Vec<(u64, u32, u32)>>> = Arc::default();
        let producers: Vec<_> = (0..4u32)
            .map(|t| {
                let writer = Arc::clone(&writer);
                let seen = Arc::clone(&seen);
                thread::spawn(move || {
                    for n in 0..1000u32 {
                        let seen = Arc::clone(&seen);
                        writer.append(i64::from(n), ev(t, n), move |r| {
                            let seq = r.expect("append is acknowledged");
                            seen.lock().unwrap().push((seq, t, n));
                        });
                    }
                })
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(writer.sync(), Ok(4000));
        let seen = seen.lock().unwrap().clone();
        // Callbacks ran in seq order and the seqs are exactly 1..=4000.
        let seqs: Vec<u64> = seen.iter().map(|s| s.0).collect();
        assert_eq!(seqs, (1..=4000).collect::<Vec<_>>());
        for t in 0..4 {
            let mine: Vec<u32> = seen.iter().filter(|s| s.1 == t).map(|s| s.2).collect();
            assert_eq!(mine, (0..1000).collect::<Vec<_>>(), "thread {t}");
        }
        let writer = Arc::into_inner(writer).unwrap();
        assert_eq!(writer.close(), Ok(4000));
        let replay = read::<Ev>(&path).unwrap();
        assert_eq!(replay.records.len(), 4000);
        for (r, &(seq, t, n)) in replay.records.iter().zip(&seen) {
            assert_eq!((r.seq, &r.event), (seq, &ev(t, n)));
        }
    }

    #[test]
    fn a_cut_anywhere_in_the_last_record_is_a_torn_tail_that_open_repairs() {
        let dir = TempDir::new("torn");
        let full = dir.file("full.log");
        let bytes = write_journal(&full, 10);
        let last = *line_starts(&bytes).last().unwrap();
        for cut in last..=bytes.len() {
            let path = dir.file(&format!("cut-{cut}.log"));
            fs::write(&path, &bytes[..cut]).unwrap();
            let replay = read::<Ev>(&path).unwrap();
            if cut == bytes.len() {
                assert_eq!((replay.records.len(), replay.torn), (10, None));
                continue;
            }
            assert_eq!(replay.records.len(), 9, "cut at {cut}");
            assert_eq!(replay.valid_len, last as u64);
            if cut == last {
                assert_eq!(replay.torn, None);
            } else {
                let torn = replay.torn.unwrap();
                assert_eq!(
                    (torn.offset, torn.bytes, torn.record),
                    (last as u64, (cut - last) as u64, 10),
                    "cut at {cut}"
                );
                // read never modifies the file.
                assert_eq!(fs::metadata(&path).unwrap().len(), cut as u64);
            }
            let (writer, replay) = JournalWriter::<Ev>::open(&path).unwrap();
            assert_eq!(replay.records.len(), 9);
            assert_eq!(fs::metadata(&path).unwrap().len(), last as u64);
            assert_eq!(writer.append_wait(99, ev(9, 9)), Ok(10));
            writer.close().unwrap();
            let replay = read::<Ev>(&path).unwrap();
            assert_eq!(replay.torn, None);
            assert_eq!(replay.records.len(), 10);
            assert_eq!(replay.records[9].event, ev(9, 9));
            fs::remove_file(&path).unwrap();
        }
    }

    #[test]
    fn zero_bytes_at_the_end_are_a_torn_tail() {
        let dir = TempDir::new("zeros");
        let path = dir.file("j.log");
        let bytes = write_journal(&path, 10);
        let last = *line_starts(&bytes).last().unwrap();

        // A block of zeros after the last record (the size grew, the data never landed).
        let mut zeros_after = bytes.clone();
        zeros_after.extend_from_slice(&[0; 4096]);
        fs::write(&path, &zeros_after).unwrap();
        let torn = read::<Ev>(&path).unwrap().torn.unwrap();
        assert_eq!(
            (torn.offset, torn.bytes, torn.record),
            (bytes.len() as u64, 4096, 11)
        );
        assert!(torn.reason.contains("zero bytes"), "{}", torn.reason);
        let (writer, replay) = JournalWriter::<Ev>::open(&path).unwrap();
        assert_eq!(replay.records.len(), 10);
        assert_eq!(writer.append_wait(1, ev(1, 1)), Ok(11));
        writer.close().unwrap();
        assert_eq!(read::<Ev>(&path).unwrap().records.len(), 11);

        // The last record's bytes are zeros, with a newline landing in the middle of them.
        let mut zeroed = bytes.clone();
        zeroed[last..].fill(0);
        zeroed[last + 10] = b'\n';
        fs::write(&path, &zeroed).unwrap();
        let replay = read::<Ev>(&path).unwrap();
        assert_eq!(replay.records.len(), 9);
        assert_eq!(replay.torn.unwrap().record, 10);
    }

    #[test]
    fn a_flipped_byte_in_the_last_record_is_a_torn_tail() {
        let dir = TempDir::new("flip-last");
        let path = dir.file("j.log");
        let mut bytes = write_journal(&path, 10);
        let last = *line_starts(&bytes).last().unwrap();
        let at = bytes.len() - 5;
        bytes[at] ^= 0x01;
        fs::write(&path, &bytes).unwrap();
        let replay = read::<Ev>(&path).unwrap();
        assert_eq!(replay.records.len(), 9);
        let torn = replay.torn.unwrap();
        assert_eq!((torn.offset, torn.record), (last as u64, 10));
        assert!(torn.reason.contains("checksum mismatch"), "{}", torn.reason);
        let (writer, _) = JournalWriter::<Ev>::open(&path).unwrap();
        assert_eq!(writer.append_wait(1, ev(1, 1)), Ok(10));
        writer.close().unwrap();
        let replay = read::<Ev>(&path).unwrap();
        assert_eq!((replay.records.len(), replay.torn), (10, None));
    }

    #[test]
    fn damage_in_the_middle_is_corrupt_and_names_the_record() {
        let dir = TempDir::new("middle");
        let path = dir.file("j.log");
        let bytes = write_journal(&path, 10);
        let starts = line_starts(&bytes);

        // Every byte of record 3 except its newline (flipping that merges two lines, also
        // caught, but then the reason differs).
        for at in starts[2]..starts[3] - 1 {
            let mut flipped = bytes.clone();
            flipped[at] ^= 0x20;
            fs::write(&path, &flipped).unwrap();
            match read::<Ev>(&path) {
                Err(e @ StoreError::Corrupt { .. }) => {
                    let StoreError::Corrupt { record, offset, .. } = &e else {
                        unreachable!()
                    };
                    assert_eq!((*record, *offset), (3, starts[2] as u64), "flip at {at}");
                    let text = e.to_string();
                    assert!(text.contains(&path.display().to_string()), "{text}");
                    assert!(text.contains("record 3"), "{text}");
                }
                other => panic!("flip at {at}: {other:?}"),
            }
            // open refuses it too and changes nothing.
            assert!(matches!(
                JournalWriter::<Ev>::open(&path),
                Err(StoreError::Corrupt { record: 3, .. })
            ));
            assert_eq!(fs::read(&path).unwrap(), flipped);
        }

        // Zeros over record 3 with intact records after them.
        let mut zeroed = bytes.clone();
        zeroed[starts[2]..starts[3] - 1].fill(0);
        fs::write(&path, &zeroed).unwrap();
        assert!(matches!(
            read::<Ev>(&path),
            Err(StoreError::Corrupt { record: 3, .. })
        ));

        // Record 5 deleted: the seq jumps from 4 to 6.
        let mut gap = bytes[..starts[4]].to_vec();
        gap.extend_from_slice(&bytes[starts[5]..]);
        fs::write(&path, &gap).unwrap();
        let e = read::<Ev>(&path).unwrap_err();
        assert!(
            matches!(&e, StoreError::Corrupt { record: 5, reason, .. } if reason.contains("seq 6 where 5")),
            "{e}"
        );

        // The last record written twice: intact, so not an unfinished write, and never cut.
        let mut dup = bytes.clone();
        dup.extend_from_slice(&bytes[starts[9]..]);
        fs::write(&path, &dup).unwrap();
        assert!(matches!(
            read::<Ev>(&path),
            Err(StoreError::Corrupt { record: 11, .. })
        ));
    }

    #[test]
    fn an_intact_record_of_another_shape_is_a_decode_error() {
        let dir = TempDir::new("decode");
        let path = dir.file("j.log");
        let mut bytes = line(1, 10, r#"{"thread":1,"n":2,"note":"x"}"#);
        bytes.extend(line(2, 11, r#"{"thread":1,"n":"two","note":"x"}"#));
        bytes.extend(line(3, 12, r#"{"thread":1,"n":3,"note":"x"}"#));
        fs::write(&path, &bytes).unwrap();
        let e = read::<Ev>(&path).unwrap_err();
        let text = e.to_string();
        match e {
            StoreError::Decode {
                record,
                seq,
                offset,
                reason,
                ..
            } => {
                assert_eq!((record, seq), (2, 2));
                assert_eq!(
                    offset,
                    line(1, 10, r#"{"thread":1,"n":2,"note":"x"}"#).len() as u64
                );
                assert!(reason.contains("n"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        assert!(text.contains("record 2"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(matches!(
            JournalWriter::<Ev>::open(&path),
            Err(StoreError::Decode { record: 2, .. })
        ));
    }

    #[test]
    fn a_second_writer_is_locked_out_until_the_first_closes() {
        let dir = TempDir::new("lock");
        let path = dir.file("j.log");
        let (first, _) = JournalWriter::<Ev>::open(&path).unwrap();
        let e = JournalWriter::<Ev>::open(&path).unwrap_err();
        assert!(
            matches!(&e, StoreError::Locked { path: p } if p == &path),
            "{e}"
        );
        assert!(e.to_string().contains(&path.display().to_string()));
        // Reading stays possible while a writer holds the lock.
        assert!(read::<Ev>(&path).is_ok());
        first.close().unwrap();
        let (second, _) = JournalWriter::<Ev>::open(&path).unwrap();
        drop(second);
    }

    /// Runs this test binary again as a child that runs only `child_process` with `env`.
    fn child(env: (&str, &Path)) -> std::process::Child {
        Command::new(std::env::current_exe().unwrap())
            .args([
                "journal::store::tests::child_process",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(env.0, env.1)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Not a test by itself: the other process of the two tests below.
    #[test]
    fn child_process() {
        if let Some(path) = std::env::var_os("CONDOR_JOURNAL_TEST_LOCK") {
            match JournalWriter::<Ev>::open(Path::new(&path)) {
                Err(StoreError::Locked { .. }) => println!("child: locked"),
                other => println!("child: {other:?}"),
            }
        }
        if let Some(path) = std::env::var_os("CONDOR_JOURNAL_TEST_CRASH") {
            let (writer, _) = JournalWriter::<Ev>::open(Path::new(&path)).unwrap();
            // Bounded in case the parent never kills it.
            let until = Instant::now() + Duration::from_secs(20);
            let mut n = 0;
            while Instant::now() < until {
                n += 1;
                writer.append(0, ev(0, n), |r| {
                    if let Ok(seq) = r {
                        // Printed only after the record is durable.
                        println!("acked {seq}");
                    }
                });
                if n % 64 == 0 {
                    thread::sleep(Duration::from_micros(200));
                }
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn another_process_is_locked_out() {
        let dir = TempDir::new("lock-process");
        let path = dir.file("j.log");
        let (writer, _) = JournalWriter::<Ev>::open(&path).unwrap();
        let out = child(("CONDOR_JOURNAL_TEST_LOCK", &path))
            .wait_with_output()
            .unwrap();
        let out = String::from_utf8_lossy(&out.stdout);
        assert!(out.contains("child: locked"), "{out}");
        drop(writer);
    }

    #[cfg(unix)]
    #[test]
    fn sigkill_loses_nothing_acknowledged_and_releases_the_lock() {
        let dir = TempDir::new("crash");
        let path = dir.file("j.log");
        let mut proc = child(("CONDOR_JOURNAL_TEST_CRASH", &path));
        let stdout = proc.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut acked = 0u64;
        for line in lines.by_ref() {
            if let Some(seq) = line.unwrap().strip_prefix("acked ") {
                acked = seq.parse().unwrap();
                if acked >= 3000 {
                    break;
                }
            }
        }
        // Child::kill is SIGKILL: no destructor, no flush, mid-group.
        proc.kill().unwrap();
        proc.wait().unwrap();
        for line in lines {
            if let Some(seq) = line.unwrap().strip_prefix("acked ") {
                acked = seq.parse().unwrap();
            }
        }
        assert!(acked >= 3000, "child acknowledged only {acked}");
        let (writer, replay) = JournalWriter::<Ev>::open(&path).unwrap();
        let last = replay.records.last().unwrap().seq;
        assert!(last >= acked, "acknowledged {acked}, journal holds {last}");
        for (i, r) in replay.records.iter().enumerate() {
            assert_eq!(r.seq, i as u64 + 1);
        }
        assert_eq!(writer.append_wait(0, ev(1, 1)), Ok(last + 1));
    }

    /// A device that holds its first write until `gate` opens, then fails the write or the
    /// sync.
    struct FailingSink {
        gate: Receiver<()>,
        fail_sync: bool,
    }

    impl Sink for FailingSink {
        fn write_all(&mut self, _buf: &[u8]) -> io::Result<()> {
            let _ = self.gate.recv();
            if self.fail_sync {
                Ok(())
            } else {
                Err(io::Error::from_raw_os_error(28))
            }
        }

        fn sync_data(&mut self) -> io::Result<()> {
            Err(io::Error::other("device went away"))
        }

        fn truncate(&mut self, _len: u64) -> io::Result<()> {
            Ok(())
        }
    }

    /// A disk of `room` bytes holding one file: a write takes what fits, then fails with
    /// ENOSPC (as write(2) does: short, then full).
    #[derive(Clone, Default)]
    struct SmallDisk {
        file: Arc<Mutex<Vec<u8>>>,
        room: Arc<Mutex<usize>>,
    }

    impl Sink for SmallDisk {
        fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
            let mut file = self.file.lock().unwrap();
            let room = *self.room.lock().unwrap();
            let fits = room.saturating_sub(file.len()).min(buf.len());
            file.extend_from_slice(&buf[..fits]);
            if fits < buf.len() {
                return Err(io::Error::from_raw_os_error(28));
            }
            Ok(())
        }

        fn sync_data(&mut self) -> io::Result<()> {
            Ok(())
        }

        fn truncate(&mut self, len: u64) -> io::Result<()> {
            self.file.lock().unwrap().truncate(len as usize);
            Ok(())
        }
    }

    #[test]
    fn a_full_disk_frees_the_reserve_and_the_group_is_written_once_more_whole() {
        let disk = SmallDisk::default();
        *disk.room.lock().unwrap() = 150;
        let writer =
            JournalWriter::<Ev>::start(PathBuf::from("/small/j.log"), 0, 0, Box::new(disk.clone()))
                .unwrap();
        let freed = Arc::new(Mutex::new(0u32));
        let (room, calls) = (Arc::clone(&disk.room), Arc::clone(&freed));
        writer.on_storage_full(Box::new(move || {
            let mut n = calls.lock().unwrap();
            *n += 1;
            // The reserve goes once: a second full disk finds nothing to free.
            if *n == 1 {
                *room.lock().unwrap() += 10_000;
                true
            } else {
                false
            }
        }));
        let (mut seq, mut n) = (0, 0);
        while disk.file.lock().unwrap().len() < 150 {
            seq = writer.append_wait(0, ev(1, n)).unwrap();
            n += 1;
        }
        assert_eq!(*freed.lock().unwrap(), 1);
        // No torn record in the middle: every line reads, in order.
        let bytes = disk.file.lock().unwrap().clone();
        let replay = scan::<Ev>(Path::new("/small/j.log"), &bytes).unwrap();
        assert!(replay.torn.is_none());
        assert_eq!(replay.records.len() as u64, seq);
        // Full again with nothing left to free: the journal stops, with the disk's error,
        // and what it held stays whole.
        *disk.room.lock().unwrap() = bytes.len() + 10;
        let failure = writer.append_wait(0, ev(2, 0)).unwrap_err();
        assert!(
            matches!(
                &failure,
                JournalFailure::Io {
                    kind: io::ErrorKind::StorageFull,
                    ..
                }
            ),
            "{failure}"
        );
        assert_eq!(*freed.lock().unwrap(), 2);
        assert_eq!(*disk.file.lock().unwrap(), bytes);
    }

    #[test]
    fn after_a_write_or_sync_failure_every_answer_is_the_failure() {
        for fail_sync in [false, true] {
            let (open_gate, gate) = mpsc::channel();
            let path = PathBuf::from("/nowhere/journal.log");
            let writer = JournalWriter::<Ev>::start(
                path.clone(),
                41,
                0,
                Box::new(FailingSink { gate, fail_sync }),
            )
            .unwrap();
            let answers: Arc<Mutex<Vec<Result<u64, JournalFailure>>>> = Arc::default();
            // The first append's group blocks in write; the rest queue behind it.
            for n in 0..100 {
                let answers = Arc::clone(&answers);
                writer.append(0, ev(0, n), move |r| answers.lock().unwrap().push(r));
            }
            open_gate.send(()).unwrap();
            let failure = writer.sync().unwrap_err();
            let text = failure.to_string();
            assert!(text.contains("/nowhere/journal.log"), "{text}");
            if fail_sync {
                assert!(
                    text.contains("fdatasync failed: device went away"),
                    "{text}"
                );
            } else {
                assert!(text.contains("write failed"), "{text}");
                assert!(matches!(
                    &failure,
                    JournalFailure::Io {
                        kind: io::ErrorKind::StorageFull,
                        ..
                    }
                ));
            }
            let answers = answers.lock().unwrap().clone();
            assert_eq!(answers.len(), 100);
            assert!(answers.iter().all(|a| a.as_ref() == Err(&failure)));
            // Failed for good: later appends and syncs get the same failure.
            assert_eq!(writer.append_wait(0, ev(0, 1)), Err(failure.clone()));
            assert_eq!(writer.sync(), Err(failure.clone()));
            assert_eq!(writer.close(), Err(failure));
        }
    }

    #[test]
    fn an_event_that_cannot_be_encoded_is_refused_alone() {
        let dir = TempDir::new("encode");
        let path = dir.file("j.log");
        // serde_json refuses maps with non-string keys.
        type Odd = BTreeMap<(u8, u8), u8>;
        let (writer, _) = JournalWriter::<Odd>::open(&path).unwrap();
        assert_eq!(writer.append_wait(0, Odd::new()), Ok(1));
        let refused = writer.append_wait(0, Odd::from([((1, 2), 3)])).unwrap_err();
        assert!(
            matches!(refused, JournalFailure::Encode { .. }),
            "{refused}"
        );
        assert_eq!(writer.append_wait(0, Odd::new()), Ok(2));
        writer.close().unwrap();
        assert_eq!(read::<Odd>(&path).unwrap().records.len(), 2);
    }

    #[test]
    fn a_panicking_callback_does_not_stop_the_journal() {
        let dir = TempDir::new("panic");
        let path = dir.file("j.log");
        let (writer, _) = JournalWriter::<Ev>::open(&path).unwrap();
        writer.append(0, ev(0, 1), |_| {
            panic!("deliberate panic in a test callback")
        });
        assert_eq!(writer.append_wait(0, ev(0, 2)), Ok(2));
        assert_eq!(writer.close(), Ok(2));
    }

    #[test]
    fn a_writer_dropped_from_its_own_callback_does_not_deadlock() {
        let dir = TempDir::new("self-drop");
        let path = dir.file("j.log");
        let (writer, _) = JournalWriter::<Ev>::open(&path).unwrap();
        let writer = Arc::new(writer);
        let (tx, rx) = mpsc::channel();
        let mine = Arc::clone(&writer);
        writer.append(0, ev(0, 1), move |r| {
            drop(mine);
            let _ = tx.send(r);
        });
        drop(writer);
        assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok(Ok(1)));
        // The thread exits by itself and releases the lock.
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            match JournalWriter::<Ev>::open(&path) {
                Ok(_) => break,
                Err(StoreError::Locked { .. }) if Instant::now() < until => {
                    thread::sleep(Duration::from_millis(10))
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn day_files_are_named_and_listed_by_day() {
        let dir = TempDir::new("days");
        assert_eq!(list_days(&dir.file("absent")).unwrap(), vec![]);
        assert_eq!(list_days(&dir.0).unwrap(), vec![]);
        assert_eq!(
            day_file(&dir.0, "2024-01-02"),
            dir.0.join("journal-2024-01-02.log")
        );
        for name in [
            "journal-2024-01-03.log",
            "journal-2023-12-29.log",
            "journal-2024-01-02.log",
            "journal-2024-1-02.log",
            "journal-2024-01-02.log.bak",
            "notes.txt",
        ] {
            fs::write(dir.file(name), b"").unwrap();
        }
        fs::create_dir(dir.file("journal-2024-01-04.log")).unwrap();
        let days: Vec<String> = list_days(&dir.0)
            .unwrap()
            .into_iter()
            .map(|d| d.0)
            .collect();
        assert_eq!(days, ["2023-12-29", "2024-01-02", "2024-01-03"]);
        assert_eq!(
            list_days(&dir.0).unwrap()[1].1,
            day_file(&dir.0, "2024-01-02")
        );
    }

    #[test]
    fn line_parsing_is_strict() {
        let good = line(1, 2, "{}");
        assert!(parse_line(&good[..good.len() - 1]).is_ok());
        for bad in [
            "1 2 {}",
            "+1 2 00000000 {}",
            "1 2 ABCDEF01 {}",
            "x 2 00000000 {}",
            "1 2x 00000000 {}",
            "",
        ] {
            assert!(parse_line(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let min = line(1, i64::MIN, "{}");
        assert_eq!(parse_line(&min[..min.len() - 1]).unwrap().at_ms, i64::MIN);
    }
}
