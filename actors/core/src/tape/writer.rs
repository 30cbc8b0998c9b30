//! The append side of one day's tape: [`Tape`], a clonable handle to one writer thread,
//! and [`TapeRecorder`], the per-actor buffer that batches records for it.
//!
//! Owns the file while open (an exclusive lock), the seq, and the only thread that writes
//! to it. Must never block a recorder on I/O, never panic on the engine's thread, and
//! never write after a failed write (a gap would hide everything after it from readers).

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::durable_file;

use super::format;
use super::reader::{self, Scan};
use super::{TapeError, TapeEvent, TapeTrade};

const LOG_TARGET: &str = "condor::tape";
const THREAD_NAME: &str = "condor-tape";

/// Records a recorder holds before it hands them to the writer thread as one batch (one
/// block on disk). 1,024 trades are ~20 KB, encoded as they will be on disk. Each batch
/// costs a wake-up of the writer thread and a write: at 256 a batch, under the engine
/// bench's firehose, those were most of what recording cost (see the module docs).
pub const BATCH_RECORDS: usize = 1024;
/// A recorder hands its batch over before it grows past this many bytes, whatever its
/// record count (only huge records get near it): a block's payload stays far below
/// [`format::MAX_BLOCK_PAYLOAD`], which readers refuse past.
const BATCH_BYTES: usize = 4 << 20;
/// Batches the writer thread takes off its queue for one write (and one fdatasync).
const MAX_GROUP: usize = 256;
/// The write buffer is shrunk back to this after an unusually large group.
const BUF_KEEP: usize = 4 << 20;
/// Emptied batch buffers kept for the recorders to reuse, at most.
const POOL_KEEP: usize = 64;
/// A fresh batch buffer's capacity: a batch of trades (~20 bytes each) fits.
const BATCH_CAPACITY: usize = 32 << 10;
/// Batch buffers bigger than this are not kept for reuse (a batch of huge records).
const POOL_MAX_CAPACITY: usize = 1 << 20;

/// A batch of records, encoded by the recorder into a block's payload (the writer thread
/// adds the header: the seq of its first record, and the checksum).
struct Batch {
    payload: Vec<u8>,
    count: u32,
}
type Done = Box<dyn FnOnce(Result<u64, TapeError>) + Send>;

/// What the writer thread is asked to do, in queue order.
enum Op {
    Batch(Batch),
    /// Answered once everything queued before it is durable.
    Sync(Done),
}

/// Records (and bytes) written so far by this writer, for the shutdown summary and the
/// bench.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapeStats {
    /// Records written (not counting those already in the file when it was opened).
    pub records: u64,
    /// Bytes written, the header of a new file included.
    pub bytes: u64,
    /// Blocks written (one per batch a recorder handed over).
    pub batches: u64,
    /// Records handed over but never written: after a write failure, or with the writer
    /// thread gone.
    pub dropped: u64,
}

/// The first write or sync failure: every later sync answers with it.
#[derive(Clone, Debug)]
struct Failure {
    action: &'static str,
    kind: io::ErrorKind,
    message: String,
}

impl Failure {
    fn to_error(&self, path: &Path) -> TapeError {
        TapeError::Io {
            path: path.to_path_buf(),
            action: self.action,
            source: io::Error::new(self.kind, self.message.clone()),
        }
    }
}

/// What the writer thread and the handles share.
#[derive(Default)]
struct Shared {
    records: AtomicU64,
    bytes: AtomicU64,
    batches: AtomicU64,
    dropped: AtomicU64,
    /// Set once the writer thread is gone for good (a recorder logs it once).
    gone_logged: AtomicBool,
    failure: Mutex<Option<Failure>>,
    /// Emptied batch buffers, back from the writer thread: a recorder takes one instead
    /// of allocating.
    pool: Mutex<Vec<Vec<u8>>>,
}

impl Shared {
    fn take_buffer(&self) -> Vec<u8> {
        // try_lock: a recorder never waits; a contended pool just means one allocation.
        if let Ok(mut pool) = self.pool.try_lock() {
            if let Some(b) = pool.pop() {
                return b;
            }
        }
        Vec::with_capacity(BATCH_CAPACITY)
    }

    fn give_back(&self, mut batch: Vec<u8>) {
        if batch.capacity() < BATCH_CAPACITY || batch.capacity() > POOL_MAX_CAPACITY {
            return;
        }
        batch.clear();
        if let Ok(mut pool) = self.pool.lock() {
            if pool.len() < POOL_KEEP {
                pool.push(batch);
            }
        }
    }
}

/// The thread and the channel to it; when the last handle goes, the channel closes, the
/// thread writes what is queued, syncs, and is joined.
struct Inner {
    path: PathBuf,
    tx: Option<Sender<Op>>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl Inner {
    /// Hands `op` to the writer thread; if it is gone, the op comes back.
    fn send(&self, op: Op) -> Result<(), Op> {
        match &self.tx {
            Some(tx) => tx.send(op).map_err(|mpsc::SendError(op)| op),
            None => Err(op),
        }
    }

    fn stopped(&self) -> TapeError {
        TapeError::Stopped {
            path: self.path.clone(),
        }
    }

    /// An op the writer thread will never see: answered or counted here.
    fn refused(&self, op: Op) {
        match op {
            Op::Batch(batch) => {
                self.shared
                    .dropped
                    .fetch_add(u64::from(batch.count), Ordering::Relaxed);
                if !self.shared.gone_logged.swap(true, Ordering::Relaxed) {
                    log::error!(
                        target: LOG_TARGET,
                        "tape {}: the writer thread has stopped; records are no longer written",
                        self.path.display()
                    );
                }
            }
            Op::Sync(done) => answer(&self.path, done, Err(self.stopped())),
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            // The last handle dropped from one of the thread's own callbacks: it cannot wait
            // for itself; the thread still writes what is queued and exits.
            if thread.thread().id() != thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The append side of one day's tape: a clonable handle to a writer thread. Holds an
/// exclusive lock on the file until the last handle and recorder are dropped (or the
/// process dies). Dropping the last one waits for everything queued to be written and
/// synced.
#[derive(Clone)]
pub struct Tape {
    inner: Arc<Inner>,
}

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tape({})", self.inner.path.display())
    }
}

impl Tape {
    /// Opens (or creates) the tape at `path` for appending; `writer` names this program in
    /// a new file's header ("condor 0.1.0").
    ///
    /// Creates the parent directories; takes an exclusive lock on the file (a second
    /// writer, in this process or another, gets [`TapeError::Locked`]); writes the header
    /// if the file is new (or holds only a torn header); reads every block, cuts a torn
    /// tail off with a warning naming the bytes cut; then starts the writer thread, whose
    /// first record gets the seq after the last intact one. A newer format, a file that is
    /// not a tape, or damage with intact data after it is refused.
    pub fn open(path: &Path, writer: &str) -> Result<Tape, TapeError> {
        let io_err = |action| {
            move |source| TapeError::Io {
                path: path.to_path_buf(),
                action,
                source,
            }
        };
        let mut file = durable_file::open_locked_append(path).map_err(|e| match e {
            durable_file::OpenError::Locked => TapeError::Locked {
                path: path.to_path_buf(),
            },
            durable_file::OpenError::Io { action, source } => io_err(action)(source),
        })?;

        let mut header_bytes = 0u64;
        let last_seq = match reader::scan(path)? {
            Scan::Empty => {
                header_bytes =
                    write_header(&mut file, writer).map_err(io_err("write the header"))?;
                0
            }
            Scan::TornHeader { bytes } => {
                log::warn!(
                    target: LOG_TARGET,
                    "tape {}: cutting a torn header of {bytes} bytes (the file was never written past its creation) and starting it anew",
                    path.display()
                );
                file.set_len(0).map_err(io_err("cut off the torn header"))?;
                header_bytes =
                    write_header(&mut file, writer).map_err(io_err("write the header"))?;
                0
            }
            Scan::Blocks {
                last_seq,
                damage: None,
                ..
            } => last_seq,
            Scan::Blocks {
                last_seq,
                valid_len,
                damage: Some(damage),
            } => {
                if damage.resumes_at.is_some() {
                    // Not an unfinished write: cutting here would drop intact records.
                    return Err(TapeError::Corrupt {
                        path: path.to_path_buf(),
                        offset: damage.offset,
                        after_seq: damage.after_seq,
                        reason: format!(
                            "{}; nothing was cut: move the file aside (condor tape dump shows \
                             what it holds)",
                            damage.reason
                        ),
                    });
                }
                log::warn!(
                    target: LOG_TARGET,
                    "tape {}: cutting a torn tail of {} bytes at byte offset {} (after seq {}): {}",
                    path.display(),
                    damage.bytes_left,
                    damage.offset,
                    damage.after_seq,
                    damage.reason
                );
                file.set_len(valid_len)
                    .map_err(io_err("cut off the torn tail"))?;
                file.sync_all()
                    .map_err(io_err("sync after cutting the torn tail"))?;
                last_seq
            }
        };

        let shared = Arc::new(Shared::default());
        shared.bytes.store(header_bytes, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        let thread_path = path.to_path_buf();
        let thread_shared = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(move || write_loop(file, &thread_path, &thread_shared, last_seq, rx, SYNC_EVERY))
            .map_err(io_err("start the writer thread"))?;
        Ok(Tape {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                tx: Some(tx),
                thread: Some(thread),
                shared,
            }),
        })
    }

    /// A per-actor buffer that encodes records into a batch and hands the batch to the
    /// writer thread.
    pub fn recorder(&self) -> TapeRecorder {
        TapeRecorder {
            buf: self.inner.shared.take_buffer(),
            count: 0,
            ctx: format::EncodeContext::new(),
            inner: Arc::clone(&self.inner),
        }
    }

    /// Blocks until every batch handed over before this call is written and fdatasync'ed;
    /// returns the last durable seq (0 for an empty tape). After a write or sync failure,
    /// that failure.
    pub fn sync(&self) -> Result<u64, TapeError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.sync_then(move |r| {
            let _ = tx.send(r);
        });
        rx.recv().unwrap_or_else(|_| Err(self.inner.stopped()))
    }

    /// Like [`Tape::sync`] but does not block: `done` runs on the writer thread once
    /// durable (here and now if the writer thread is gone). A panicking `done` is logged and
    /// does not stop the tape.
    pub fn sync_then(&self, done: impl FnOnce(Result<u64, TapeError>) + Send + 'static) {
        if let Err(op) = self.inner.send(Op::Sync(Box::new(done))) {
            self.inner.refused(op);
        }
    }

    /// Records (and bytes) written so far, for the shutdown summary and the bench.
    pub fn stats(&self) -> TapeStats {
        let s = &self.inner.shared;
        TapeStats {
            records: s.records.load(Ordering::Relaxed),
            bytes: s.bytes.load(Ordering::Relaxed),
            batches: s.batches.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
        }
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }
}

/// A per-actor buffer of records for the tape's writer thread. `Send`; one per actor (or
/// thread) that records. Records are encoded here, as they come, into the payload of the
/// block they will be on disk (a trade is ~20 bytes, written once); the writer thread only
/// adds each block's header and checksum and writes. Dropping it hands over what it holds.
pub struct TapeRecorder {
    inner: Arc<Inner>,
    /// The batch's payload so far.
    buf: Vec<u8>,
    /// Records in `buf`.
    count: usize,
    /// What the next record is delta-coded against.
    ctx: format::EncodeContext,
}

impl fmt::Debug for TapeRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TapeRecorder({}, {} buffered)",
            self.inner.path.display(),
            self.count
        )
    }
}

impl TapeRecorder {
    /// Queues one record, received at `recv_ns` (Unix ns); never blocks on I/O. Encodes
    /// it into the batch (a trade does not allocate: batch buffers are reused). Hands the
    /// batch to the writer thread when it holds [`BATCH_RECORDS`] records.
    #[inline]
    pub fn record(&mut self, recv_ns: i64, event: TapeEvent) {
        self.ctx.record(recv_ns, &event, &mut self.buf);
        self.recorded();
    }

    /// [`TapeRecorder::record`] of a trade, without building the event first.
    #[inline]
    pub fn record_trade(&mut self, recv_ns: i64, trade: &TapeTrade) {
        self.ctx.trade(recv_ns, trade, &mut self.buf);
        self.recorded();
    }

    #[inline]
    fn recorded(&mut self) {
        self.count += 1;
        if self.count >= BATCH_RECORDS || self.buf.len() >= BATCH_BYTES {
            self.flush();
        }
    }

    /// Hands whatever is buffered to the writer thread now (before an order intent leaves,
    /// and once a second).
    pub fn flush(&mut self) {
        if self.count == 0 {
            return;
        }
        let batch = Batch {
            payload: mem::replace(&mut self.buf, self.inner.shared.take_buffer()),
            // At most BATCH_RECORDS.
            count: self.count as u32,
        };
        self.count = 0;
        self.ctx.new_block();
        if let Err(op) = self.inner.send(Op::Batch(batch)) {
            self.inner.refused(op);
        }
    }

    /// Records buffered and not yet handed over.
    pub fn buffered(&self) -> usize {
        self.count
    }
}

impl Drop for TapeRecorder {
    fn drop(&mut self) {
        self.flush();
    }
}

fn write_header(file: &mut File, writer: &str) -> io::Result<u64> {
    let mut header = Vec::new();
    format::encode_header(writer, &mut header);
    Write::write_all(file, &header)?;
    File::sync_data(file)?;
    Ok(header.len() as u64)
}

/// Calls `done`, containing a panic so one bad callback cannot stop the tape.
fn answer(path: &Path, done: Done, result: Result<u64, TapeError>) {
    if panic::catch_unwind(AssertUnwindSafe(move || done(result))).is_err() {
        log::error!(
            target: LOG_TARGET,
            "tape {}: a sync callback panicked; the tape carries on",
            path.display()
        );
    }
}

/// Where the writer thread writes: the tape file, or in tests a failing device.
pub(super) trait Sink: Send {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    fn sync_data(&mut self) -> io::Result<()>;
}

impl Sink for File {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        Write::write_all(self, buf)
    }

    fn sync_data(&mut self) -> io::Result<()> {
        File::sync_data(self)
    }
}

/// How long written records may wait for their fdatasync when nobody asked for one: what
/// a power cut (not a process crash: the kernel has every write) can take from the tape.
/// A sync asked for (the journal asks before every group it commits) is never delayed.
const SYNC_EVERY: Duration = Duration::from_millis(200);

/// The writer thread: takes one op, drains what else is queued (up to [`MAX_GROUP`]),
/// puts each batch's header before its payload and writes the group with one write; fdatasyncs when the
/// group holds a sync asked for, or when what was written has waited [`SYNC_EVERY`], then
/// answers the group's syncs. Returns, synced, when every handle is gone and the queue is
/// empty.
fn write_loop(
    mut sink: impl Sink,
    path: &Path,
    shared: &Shared,
    last_seq: u64,
    rx: Receiver<Op>,
    sync_every: Duration,
) {
    let mut durable = last_seq;
    let mut next_seq = last_seq + 1;
    let mut failed: Option<Failure> = None;
    let mut group: Vec<Op> = Vec::with_capacity(MAX_GROUP);
    let mut syncs: Vec<Done> = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    // Written but not yet fdatasync'ed: since when, and up to which seq.
    let mut unsynced: Option<Instant> = None;
    let sync = |sink: &mut dyn Sink, failed: &mut Option<Failure>, upto: u64| -> Option<u64> {
        match sink.sync_data() {
            Ok(()) => Some(upto),
            Err(e) => {
                log::error!(target: LOG_TARGET, "tape {}: fdatasync failed: {e}; the tape has stopped recording", path.display());
                let failure = Failure {
                    action: "fdatasync",
                    kind: e.kind(),
                    message: e.to_string(),
                };
                if let Ok(mut f) = shared.failure.lock() {
                    *f = Some(failure.clone());
                }
                *failed = Some(failure);
                None
            }
        }
    };
    loop {
        let first = match rx.recv_timeout(sync_every) {
            Ok(op) => op,
            Err(RecvTimeoutError::Timeout) => {
                if unsynced.take().is_some() && failed.is_none() {
                    if let Some(upto) = sync(&mut sink, &mut failed, next_seq - 1) {
                        durable = upto;
                    }
                }
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => break,
        };
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(op) => group.push(op),
                Err(_) => break,
            }
        }
        buf.clear();
        let (mut records, mut blocks) = (0u64, 0u64);
        for op in group.drain(..) {
            match op {
                Op::Batch(batch) => {
                    let count = u64::from(batch.count);
                    if failed.is_some() || count == 0 {
                        shared.dropped.fetch_add(count, Ordering::Relaxed);
                    } else {
                        format::write_block(next_seq, batch.count, &batch.payload, &mut buf);
                        next_seq += count;
                        records += count;
                        blocks += 1;
                    }
                    shared.give_back(batch.payload);
                }
                Op::Sync(done) => syncs.push(done),
            }
        }
        if !buf.is_empty() {
            match sink.write_all(&buf).map_err(|e| ("write", e)) {
                Ok(()) => {
                    unsynced.get_or_insert_with(Instant::now);
                    shared.records.fetch_add(records, Ordering::Relaxed);
                    shared.batches.fetch_add(blocks, Ordering::Relaxed);
                    shared.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
                }
                Err((action, e)) => {
                    let failure = Failure {
                        action,
                        kind: e.kind(),
                        message: e.to_string(),
                    };
                    // Once: from here on nothing is written and every sync answers this.
                    log::error!(
                        target: LOG_TARGET,
                        "tape {}: {action} failed: {e}; the tape has stopped recording ({records} records of this write lost)",
                        path.display()
                    );
                    shared.dropped.fetch_add(records, Ordering::Relaxed);
                    if let Ok(mut f) = shared.failure.lock() {
                        *f = Some(failure.clone());
                    }
                    failed = Some(failure);
                }
            }
            if buf.capacity() > BUF_KEEP {
                buf = Vec::with_capacity(1 << 20);
            }
        }
        let due = unsynced.is_some_and(|since| !syncs.is_empty() || since.elapsed() >= sync_every);
        if due && failed.is_none() {
            unsynced = None;
            if let Some(upto) = sync(&mut sink, &mut failed, next_seq - 1) {
                durable = upto;
            }
        }
        for done in syncs.drain(..) {
            let result = match &failed {
                Some(f) => Err(f.to_error(path)),
                None => Ok(durable),
            };
            answer(path, done, result);
        }
    }
    if unsynced.is_some() && failed.is_none() {
        let _ = sync(&mut sink, &mut failed, next_seq - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::super::format::tests::{every_kind, ticker, NINE_AM};
    use super::super::{read, TapeTrade};
    use super::*;
    use crate::market::{Price, Qty, Side, TimeOfDay};

    fn trade(n: u64) -> TapeEvent {
        TapeEvent::Trade(TapeTrade {
            ticker: ticker("005930"),
            price: Price::lit(71_000 + (n % 10) as i64 * 100),
            qty: Qty::lit(1 + n % 50),
            cum_volume: 1_000 + n,
            prev_close: Price::lit(70_000),
            aggressor: if n % 3 == 0 { Side::Sell } else { Side::Buy },
            exchange_time: TimeOfDay::hms(9, 0, 0),
            seq: n,
        })
    }

    #[test]
    fn every_kind_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tape").join("2024-01-02.tape");
        let tape = Tape::open(&path, "condor test").unwrap();
        let mut rec = tape.recorder();
        for (ns, e) in every_kind() {
            rec.record(ns, e);
        }
        rec.flush();
        assert_eq!(tape.sync().unwrap(), every_kind().len() as u64);
        let stats = tape.stats();
        assert_eq!(stats.records, every_kind().len() as u64);
        assert_eq!(stats.batches, 1);
        assert_eq!(stats.bytes, std::fs::metadata(&path).unwrap().len());
        drop(rec);
        drop(tape);
        let file = read(&path).unwrap();
        assert_eq!(file.writer, "condor test");
        assert_eq!(file.version, super::super::TAPE_VERSION);
        assert!(file.stopped.is_none());
        let got: Vec<_> = file
            .records
            .iter()
            .map(|r| (r.recv_ns, r.event.clone()))
            .collect();
        assert_eq!(got, every_kind());
        let seqs: Vec<u64> = file.records.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, (1..=every_kind().len() as u64).collect::<Vec<_>>());
    }

    #[test]
    fn seq_continues_across_reopen_and_the_first_header_stays() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.tape");
        {
            let tape = Tape::open(&path, "condor 0.1.0").unwrap();
            let mut rec = tape.recorder();
            for n in 1..=300 {
                rec.record(NINE_AM + n as i64, trade(n));
            }
            // Dropping the recorder and the handle writes and syncs what is queued.
        }
        assert_eq!(read(&path).unwrap().records.len(), 300);
        {
            let tape = Tape::open(&path, "condor 0.2.0").unwrap();
            assert_eq!(tape.sync().unwrap(), 300);
            let mut rec = tape.recorder();
            rec.record(NINE_AM + 1_000, TapeEvent::Reconnected);
            rec.flush();
            assert_eq!(tape.sync().unwrap(), 301);
            assert_eq!(tape.stats().records, 1);
        }
        let file = read(&path).unwrap();
        assert_eq!(file.writer, "condor 0.1.0");
        assert_eq!(file.records.len(), 301);
        assert_eq!(file.records[300].seq, 301);
        assert_eq!(file.records[300].event, TapeEvent::Reconnected);
        assert_eq!(file.records[299].event, trade(300));
    }

    #[test]
    fn a_second_writer_is_refused_while_the_first_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.tape");
        let tape = Tape::open(&path, "a").unwrap();
        match Tape::open(&path, "b") {
            Err(TapeError::Locked { path: p }) => assert_eq!(p, path),
            other => panic!("expected Locked, got {other:?}"),
        }
        let clone = tape.clone();
        drop(tape);
        // A clone still holds it.
        assert!(matches!(
            Tape::open(&path, "b"),
            Err(TapeError::Locked { .. })
        ));
        drop(clone);
        Tape::open(&path, "b").unwrap();
    }

    #[test]
    fn a_recorder_batches_flushes_and_flushes_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.tape");
        let tape = Tape::open(&path, "t").unwrap();
        let mut a = tape.recorder();
        let mut b = tape.recorder();
        for n in 1..BATCH_RECORDS as u64 {
            a.record(NINE_AM + n as i64, trade(n));
        }
        // Not yet a full batch: nothing reaches the writer.
        assert_eq!(a.buffered(), BATCH_RECORDS - 1);
        assert_eq!(tape.sync().unwrap(), 0);
        a.record(NINE_AM, trade(BATCH_RECORDS as u64));
        assert_eq!(a.buffered(), 0);
        assert_eq!(tape.sync().unwrap(), BATCH_RECORDS as u64);
        b.record(NINE_AM, TapeEvent::Stopped);
        a.record(NINE_AM, TapeEvent::Reconnected);
        a.flush();
        assert_eq!(tape.sync().unwrap(), BATCH_RECORDS as u64 + 1);
        drop(b);
        assert_eq!(tape.sync().unwrap(), BATCH_RECORDS as u64 + 2);
        assert_eq!(tape.stats().batches, 3);
        drop(a);
        drop(tape);
        let records = read(&path).unwrap().records;
        // Batches in the order they were handed over, each in its recorder's order.
        assert_eq!(records.len(), BATCH_RECORDS + 2);
        assert_eq!(records[BATCH_RECORDS].event, TapeEvent::Reconnected);
        assert_eq!(records[BATCH_RECORDS + 1].event, TapeEvent::Stopped);
        assert_eq!(records[0].event, trade(1));
    }

    #[test]
    fn sync_then_answers_on_the_writer_thread_and_survives_its_callbacks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.tape");
        let tape = Tape::open(&path, "t").unwrap();
        let mut rec = tape.recorder();
        rec.record(1, TapeEvent::Stopped);
        rec.flush();
        let (tx, rx) = mpsc::channel();
        tape.sync_then(move |r| {
            tx.send((r.unwrap(), thread::current().name().map(str::to_owned)))
                .unwrap();
        });
        assert_eq!(rx.recv().unwrap(), (1, Some(THREAD_NAME.to_owned())));
        // A panicking callback does not stop the tape.
        tape.sync_then(|_| panic!("a bad callback"));
        for n in 0..1000 {
            rec.record(n, TapeEvent::Reconnected);
        }
        drop(rec);
        // The last handle dropped by a callback, on the writer thread itself: it cannot
        // wait for itself, and must neither deadlock nor lose what is queued.
        let holder = Mutex::new(Some(tape.clone()));
        let (dropped_tx, dropped_rx) = mpsc::channel();
        tape.sync_then(move |r| {
            assert!(r.is_ok());
            drop(holder.lock().unwrap().take());
            dropped_tx.send(()).unwrap();
        });
        drop(tape);
        dropped_rx.recv().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            // The lock is released once the thread has finished.
            match Tape::open(&path, "t") {
                Ok(_) => break,
                Err(TapeError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    thread::sleep(std::time::Duration::from_millis(5))
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(read(&path).unwrap().records.len(), 1001);
    }

    /// A device that fails its n-th write.
    struct Failing {
        writes: u32,
        fail_at: u32,
        data: Arc<Mutex<Vec<u8>>>,
    }

    impl Sink for Failing {
        fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
            self.writes += 1;
            if self.writes >= self.fail_at {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "no space left"));
            }
            self.data.lock().unwrap().extend_from_slice(buf);
            Ok(())
        }

        fn sync_data(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// A device that counts its fdatasyncs.
    struct Counting(Arc<Mutex<(u32, u32)>>);

    impl Sink for Counting {
        fn write_all(&mut self, _: &[u8]) -> io::Result<()> {
            self.0.lock().unwrap().0 += 1;
            Ok(())
        }

        fn sync_data(&mut self) -> io::Result<()> {
            self.0.lock().unwrap().1 += 1;
            Ok(())
        }
    }

    /// A tape over a [`Counting`] device whose unasked writes wait `period` for their sync.
    fn counting_tape(period: Duration) -> (Tape, Arc<Mutex<(u32, u32)>>) {
        let counts = Arc::new(Mutex::new((0, 0)));
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel();
        let (sink, thread_shared) = (Counting(Arc::clone(&counts)), Arc::clone(&shared));
        let thread = thread::spawn(move || {
            write_loop(sink, Path::new("/x.tape"), &thread_shared, 0, rx, period)
        });
        let tape = Tape {
            inner: Arc::new(Inner {
                path: PathBuf::from("/x.tape"),
                tx: Some(tx),
                thread: Some(thread),
                shared,
            }),
        };
        (tape, counts)
    }

    /// Batches nobody waits for are written at once but not each fdatasync'ed; a sync
    /// asked for is answered only after an fdatasync of its own.
    #[test]
    fn only_a_sync_asked_for_costs_an_fdatasync_before_the_period() {
        let (tape, counts) = counting_tape(Duration::from_secs(3600));
        let mut rec = tape.recorder();
        for n in 1..=3 {
            rec.record(n, trade(n as u64));
            rec.flush();
        }
        assert_eq!(tape.sync().unwrap(), 3);
        let (writes, syncs) = *counts.lock().unwrap();
        assert!((1..=3).contains(&writes), "{writes} writes");
        assert_eq!(syncs, 1, "one fdatasync, for the sync asked for");
        assert_eq!(tape.sync().unwrap(), 3);
        assert_eq!(
            counts.lock().unwrap().1,
            1,
            "nothing new: no second fdatasync"
        );
    }

    /// What nobody asked to sync is synced once it has waited the period.
    #[test]
    fn an_unasked_write_is_synced_after_the_period() {
        let (tape, counts) = counting_tape(Duration::from_millis(10));
        let mut rec = tape.recorder();
        rec.record(1, trade(1));
        rec.flush();
        // Waited for generously: the point is that it happens with nobody asking.
        let deadline = Instant::now() + Duration::from_secs(10);
        while counts.lock().unwrap().1 < 1 {
            assert!(
                Instant::now() < deadline,
                "the period never synced the write"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        drop((rec, tape));
    }

    #[test]
    fn a_write_failure_stops_writing_and_every_later_sync_reports_it() {
        let data = Arc::new(Mutex::new(Vec::new()));
        let sink = Failing {
            writes: 0,
            fail_at: 2,
            data: Arc::clone(&data),
        };
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel();
        let thread_shared = Arc::clone(&shared);
        let thread = thread::spawn(move || {
            write_loop(
                sink,
                Path::new("/x.tape"),
                &thread_shared,
                0,
                rx,
                SYNC_EVERY,
            )
        });
        let tape = Tape {
            inner: Arc::new(Inner {
                path: PathBuf::from("/x.tape"),
                tx: Some(tx),
                thread: Some(thread),
                shared,
            }),
        };
        let mut rec = tape.recorder();
        rec.record(1, trade(1));
        rec.flush();
        assert_eq!(tape.sync().unwrap(), 1);
        rec.record(2, trade(2));
        rec.flush();
        let err = tape.sync().unwrap_err();
        assert!(err.to_string().contains("no space left"), "{err}");
        assert!(err.to_string().contains("/x.tape"), "{err}");
        rec.record(3, trade(3));
        rec.flush();
        assert!(tape.sync().is_err());
        let stats = tape.stats();
        assert_eq!((stats.records, stats.dropped), (1, 2));
        // Only the first write reached the device.
        let written = data.lock().unwrap().len();
        let mut one = Vec::new();
        format::encode_block(1, &[(1, trade(1))], &mut one);
        assert_eq!(written, one.len());
    }

    #[test]
    fn a_recorder_outliving_a_dead_writer_counts_instead_of_panicking() {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel::<Op>();
        drop(rx);
        let tape = Tape {
            inner: Arc::new(Inner {
                path: PathBuf::from("/y.tape"),
                tx: Some(tx),
                thread: None,
                shared,
            }),
        };
        let mut rec = tape.recorder();
        rec.record(1, TapeEvent::Stopped);
        rec.flush();
        assert!(matches!(tape.sync(), Err(TapeError::Stopped { .. })));
        assert_eq!(tape.stats().dropped, 1);
    }
}

#[cfg(test)]
mod sizes {
    /// Actors hold these and move them to their threads.
    #[test]
    fn handles_cross_threads() {
        fn send<T: Send>() {}
        fn shared<T: Send + Sync>() {}
        shared::<super::Tape>();
        send::<super::TapeRecorder>();
    }
}
