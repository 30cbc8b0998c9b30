//! The tape: one trading day of what reached the trading core, recorded so the day can be
//! replayed. Condition enter/exit, every trade of every watched ticker, fills, order-done
//! events, timer firings, start/stop/reconnect markers, and the core's own outputs (order
//! intents), in arrival order, each with its receive time (Unix ns) and a sequence number.
//! The journal says what condor did; the tape says what it saw.
//!
//! `format` is the pure encoding (no I/O), `writer` the append side ([`Tape`], a clonable
//! handle to one writer thread, and [`TapeRecorder`], a per-actor buffer that encodes records
//! as they come), `reader` the read side ([`TapeReader`] streaming, what every tool uses;
//! [`read`] for a whole day in memory, what tests use), `import` the CSV import and
//! [`write_day`]. `condor tape` (ls, dump, import) is the command-line face.
//!
//! Owns the file format, the torn-tail rule and the lock on a day's tape. Must never panic on
//! any bytes it reads, never block a recorder on I/O, never cut anything but a torn tail
//! (damage with intact data after it is refused, not cut) and never change a file in [`read`].
//!
//! # The file
//!
//! `<data-dir>/tape/YYYY-MM-DD.tape` (KST day). All fixed-width integers are little-endian.
//!
//! ```text
//! header   "CONDORTP"  version u16  writer_len u16  writer (UTF-8, ≤ 1024 bytes)  crc32 u32
//! block    payload_len u32  count u32  first_seq u64  crc32 u32   payload (payload_len bytes)
//! block    ...
//! ```
//!
//! The header's CRC-32 covers everything before it; the version is read right after the
//! magic, so a file from a newer format is refused with both versions named before anything
//! else of it is trusted. A block's CRC-32 (crc32fast) covers its first 16 header bytes and
//! its payload; `first_seq` must continue the previous block (seqs run 1, 2, … with no gap,
//! across restarts on the same day's file). One block is what one recorder handed the writer
//! thread at once (at most [`BATCH_RECORDS`] records, fewer when flushed early).
//!
//! A payload is `count` records, each `len varint` then `len` bytes: a kind byte, the
//! receive time as a zigzag varint delta from the previous record of the block (from 0 for
//! the first), then the kind's fields as LEB128 varints (zigzag for signed values):
//!
//! | kind | event | fields after the kind and the time |
//! |---|---|---|
//! | 1 | `Started` | writer, condition, strategy (each `len` + UTF-8), settings count, then key, value pairs |
//! | 2 | `Stopped` | — |
//! | 3 | `Reconnected` | — |
//! | 4, 5 | `ConditionEnter`, `ConditionExit` | ticker, market time |
//! | 6, 7 | `Trade`, aggressor buy / sell | ticker, prev_close (zz), price − prev_close (zz), qty, cum_volume, exchange time, trade seq (zz delta from the block's previous trade, from 0) |
//! | 8 | `Fill` | ticker, side (0 buy, 1 sell), price (zz), qty, order_no (zz), time |
//! | 9 | `OrderDone` | flags (1 has id, 2 sell, 4 rejected), id (if flagged), ticker, filled |
//! | 10 | `Timer` | market time |
//! | 11 | `Intent` | ticker, flags (1 sell, 2 limit), qty, limit price (zz, if flagged), reason (`len` + UTF-8), tick_seq |
//! | 12 | `JobDone` | ticker, asked_on, flag (1 failed), then the numbers (count, each zz) or the failure's text |
//! | 13 | `DeskOpened` | the order desk's settings (`len` + JSON) |
//! | 14 | `Desk` | day (yyyymmdd), time, unix_ms (zz, from the receive time's ms), the input (`len` + JSON), the commands (count, each `len` + text) |
//!
//! A ticker is its six digits as one integer (`005930` → 5930, 2–3 bytes). A time of day is
//! seconds of day as a zigzag delta from the KST second of day of the record's receive time
//! (a trade's exchange time is that second or the one before: one byte). Every record is
//! covered by its block's checksum, not one of its own: a CRC per record would cost 4 bytes
//! a trade, about a fifth of one. A record whose bytes are not exactly its length, an
//! unknown kind or flag, a value out of range (a ticker over 999999, a time of day outside
//! the day, bad UTF-8, a repeated setting), a count that does not match: the block is
//! damaged, as with a bad checksum. Decoding uses checked arithmetic throughout and never
//! panics (a test feeds it random and garbled bytes).
//!
//! # Crashes and damage
//!
//! The writer thread writes every batch as soon as it arrives, and fdatasyncs when a sync
//! is asked for (the journal asks before every group it commits, so an order's inputs are
//! durable before its `OrderSent`) or when what it wrote has waited 200 ms. A crash of the
//! process loses at most what the recorders had not yet handed over (less than one batch
//! each: they hand over at [`BATCH_RECORDS`], before an order intent leaves, and once a
//! second); a power cut may also take the last 200 ms of writes no order depended on. An
//! fdatasync after every group cost the engine 17% of its firehose throughput (0.83x);
//! syncing on demand and by the period is what the tape does (what recording costs the
//! engine in all is in the README, from the engine bench). A crash
//! mid-write leaves a torn tail: a short block or a bad checksum with nothing intact after
//! it. [`read`] keeps the good prefix and says where it stopped ([`TapeFile::stopped`]);
//! [`Tape::open`] cuts the torn tail off with a warning naming the bytes cut, then continues
//! the seq. A bad block with an intact block somewhere after it is damage in the middle:
//! [`read`] stops there and says so (with where the intact data resumes), and [`Tape::open`]
//! refuses the file ([`TapeError::Corrupt`]) rather than cut good records.
//!
//! # Measured (`cargo bench --bench tape`, release, a 2-core VM shared with other builds)
//!
//! A synthetic day of 2,025,200 records: 2,000,000 trades over 200 tickers (prices on the
//! KRX grid from 1,000 to 500,000 won moving by ticks, mostly small lots and now and then
//! a block, arrivals busier at the open and the close), 1,200 condition events, a timer a
//! second, 200 intents with their fills and order-done events. Ranges are of four runs with
//! nothing else running; in brackets, four runs of the code before (64-byte records queued
//! 256 a batch, encoded by the writer thread) interleaved with them.
//!
//! | figure | value |
//! |---|---|
//! | on disk | 19.6 bytes a trade (39.2 MB for the day, 19.4 bytes a record, 1,978 blocks) [19.7; 7,911 blocks] |
//! | write: one recorder → writer thread → file, open and final sync included | 17.1–19.2 M records/s [14.9–16.7] |
//! | [`TapeRecorder::record`] on the recording thread, encoding included | 40.0–43.6 ns a record [25.6–31.7, queueing only] |
//! | read: [`TapeReader`] streaming, what every tool uses | 26.8–27.3 M records/s [27.0–27.9] |
//! | read: [`read`], the whole day into a `Vec`, what tests use | 16.3–17.6 M records/s, 0.61–0.64x of streaming in the same run |
//! | encode only, no I/O | 26.1–27.5 M records/s [18.0–21.6] |
//! | decode only, no I/O, checksums checked | 30.3–31.6 M records/s |
//!
//! A recorder encodes each record as it comes into the payload of the block it will be on
//! disk (a trade is written in place, in ~10–15 ns: nothing is queued, cloned or dropped per
//! record on another thread) and hands the writer thread the bytes, [`BATCH_RECORDS`]
//! (1,024) records at a time; the writer thread adds each block's header (the seq of its
//! first record) and checksum, and writes. Until then a recorder queued each record as a
//! 64-byte `(i64, TapeEvent)` in batches of 256 and the writer thread encoded them. A
//! profile of the engine under the firehose (`perf record` of the engine bench's
//! `tape_profile_on` against `tape_profile_off`) showed what that cost: the writer thread
//! spent ~115 ns a tick (`BlockEncoder::push`, a UTF-8 check of every ticker, the pool's
//! lock, dropping the events; the rest waking up and writing once per batch), the engine
//! thread ~55 ns more than without the tape (copying the records out, the time conversion,
//! and waking the writer thread for every batch: several µs a wake-up on this VM). Now the
//! writer thread spends ~40 ns a tick (most of it the kernel's write and the wake-ups) and
//! the engine thread ~28 ns more (encoding ~13, waking the writer ~12, the time ~3); the
//! woken writer thread also preempts the engine thread on its core now and then (9,339
//! times in one profiling run), time the engine thread loses without spending it.
//!
//! [`read`] is bound by the memory it fills, not by decoding: a profile of it is 55–60% the
//! kernel's first touch of fresh pages (zeroing them, 35%, and faulting them in), and the
//! decoding is as fast as streaming's. A record is 72 bytes (a trade inline in
//! [`TapeEvent`], the two bigger kinds boxed; it was 112) and a day 146 MB: first touching
//! 146 MB takes 64–100 ms on this VM on its own, which is what 2 M records in 100 ms (20 M
//! a second) would have to hold everything in. Transparent huge pages (`madvise`) took that
//! to 24–29 ms, but 407 ms the first time, compacting memory for them: not for a tool's
//! path. No tool reads a tape whole: `condor replay`, `backtest` (its `--latency-ms
//! recorded` too), `sim --tape` and `tape dump` stream with [`TapeReader`]; tests use
//! [`read`].
//!
//! Compression does not pay. LZ4 (lz4_flex 0.11, block format) over this day's payloads
//! saved 16% block by block (19.7 → 16.6 bytes a trade; 22% compressing 8 blocks together)
//! for 40–45 ns a record to compress (three times what encoding one takes) and
//! 7–10 ns a record to decompress (a quarter more on every read). 6 MB less disk a day is
//! not worth that; the format stays plain varints, with no new dependency.

pub mod format;
pub mod import;
pub mod reader;
pub mod writer;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::clock::TradingDay;
use crate::domain::{ConditionId, Fill, OrderType, Tick};
use crate::market::{Price, Qty, Side, Ticker, TimeOfDay};

pub use import::{import_csv, replace_day, write_day, write_trades_csv};
pub use reader::{read, TapeDamage, TapeFile, TapeReader};
pub use writer::{Tape, TapeRecorder, TapeStats, BATCH_RECORDS};

/// The format version this condor writes and the newest it reads.
/// 2 added the condition to enters and exits (written only when not the first, so a
/// one-condition day is encoded as version 1 encoded it) and the Compute job's answer.
/// 3 added the order engine's inputs and decisions (`DeskOpened`, `Desk`).
pub const TAPE_VERSION: u16 = 3;

/// What reached the core, or what it decided. A trade (nearly every record) is held
/// inline; the two kinds bigger than a trade are boxed, which keeps a [`TapeRecord`] at 72
/// bytes rather than 112: [`read`] of a day is bound by the memory it fills (see above).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TapeEvent {
    Started(Box<TapeStarted>),
    /// A clean stop.
    Stopped,
    /// The broker's websocket was lost and is back (every subscription re-registered).
    Reconnected,
    /// Condition `condition` (its place in the configuration; 0 when one is traded) lists
    /// `ticker` now.
    ConditionEnter {
        ticker: Ticker,
        market_time: TimeOfDay,
        condition: ConditionId,
    },
    ConditionExit {
        ticker: Ticker,
        market_time: TimeOfDay,
        condition: ConditionId,
    },
    Trade(TapeTrade),
    /// messages::Fill as the strategy received it.
    Fill(Fill),
    /// messages::OrderDone as the strategy received it (`id` is ClientOrderId.0).
    OrderDone {
        id: Option<u64>,
        ticker: Ticker,
        side: Side,
        filled: Qty,
        rejected: bool,
    },
    /// The strategies' periodic wake-up, with the market time it carried.
    Timer {
        market_time: TimeOfDay,
    },
    /// An order intent the core produced.
    Intent(Box<TapeIntent>),
    /// The answer to a strategy's Compute job reached the strategies' desk here (live: when
    /// the pool answered), for the job `ticker`'s tick `asked_on` asked for.
    JobDone(Box<TapeJobDone>),
    /// The order engine's driver started a desk set up as this (JSON of
    /// `trading::desk_tape::DeskConfig`).
    DeskOpened(Box<String>),
    /// One input reached the order engine, and what it decided.
    Desk(Box<TapeDesk>),
}

/// See [`TapeEvent::Desk`]. The record's receive time is the stamp's monotonic instant;
/// the rest of the stamp is here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeDesk {
    pub day: TradingDay,
    pub time: TimeOfDay,
    pub unix_ms: i64,
    /// JSON of `trading::desk_tape::DeskInput`.
    pub input: String,
    /// The desk's commands, one line each (`trading::desk_tape::command_line`).
    pub commands: Vec<String>,
}

/// See [`TapeEvent::JobDone`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeJobDone {
    pub ticker: Ticker,
    pub asked_on: u64,
    pub output: crate::strategy::JobOutput,
}

/// condor started on this day: its version ("condor 0.1.0"), the condition it trades, the
/// strategy's name, and the settings in force (strategy parameters included).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeStarted {
    pub writer: String,
    pub condition: String,
    pub strategy: String,
    pub settings: BTreeMap<String, String>,
}

impl TapeEvent {
    /// The ticker the event is about, if any (markers and timers are about none).
    pub fn ticker(&self) -> Option<Ticker> {
        match self {
            TapeEvent::Started(_)
            | TapeEvent::Stopped
            | TapeEvent::Reconnected
            | TapeEvent::Timer { .. }
            | TapeEvent::DeskOpened(_)
            | TapeEvent::Desk(_) => None,
            TapeEvent::ConditionEnter { ticker, .. }
            | TapeEvent::ConditionExit { ticker, .. }
            | TapeEvent::OrderDone { ticker, .. } => Some(*ticker),
            TapeEvent::Trade(t) => Some(t.ticker),
            TapeEvent::Fill(f) => Some(f.ticker),
            TapeEvent::Intent(i) => Some(i.ticker),
            TapeEvent::JobDone(j) => Some(j.ticker),
        }
    }

    /// A short lowercase name of the kind: `started`, `trade`, `enter`, …
    pub fn kind_name(&self) -> &'static str {
        match self {
            TapeEvent::Started(_) => "started",
            TapeEvent::Stopped => "stopped",
            TapeEvent::Reconnected => "reconnected",
            TapeEvent::ConditionEnter { .. } => "enter",
            TapeEvent::ConditionExit { .. } => "exit",
            TapeEvent::Trade(_) => "trade",
            TapeEvent::Fill(_) => "fill",
            TapeEvent::OrderDone { .. } => "done",
            TapeEvent::Timer { .. } => "timer",
            TapeEvent::Intent(_) => "intent",
            TapeEvent::JobDone(_) => "job",
            TapeEvent::DeskOpened(_) => "desk-opened",
            TapeEvent::Desk(_) => "desk",
        }
    }
}

/// Every field of messages::Tick but `received_at` (a process-local Instant; the record's
/// recv_ns stands for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapeTrade {
    pub ticker: Ticker,
    pub price: Price,
    pub qty: Qty,
    pub cum_volume: u64,
    pub prev_close: Price,
    pub aggressor: Side,
    pub exchange_time: TimeOfDay,
    pub seq: u64,
}

impl TapeTrade {
    pub fn from_tick(tick: &Tick) -> TapeTrade {
        TapeTrade {
            ticker: tick.ticker,
            price: tick.price,
            qty: tick.qty,
            cum_volume: tick.cum_volume,
            prev_close: tick.prev_close,
            aggressor: tick.aggressor,
            exchange_time: tick.exchange_time,
            seq: tick.seq,
        }
    }

    pub fn to_tick(&self, received_at: Instant) -> Tick {
        Tick {
            ticker: self.ticker,
            price: self.price,
            qty: self.qty,
            cum_volume: self.cum_volume,
            prev_close: self.prev_close,
            aggressor: self.aggressor,
            exchange_time: self.exchange_time,
            received_at,
            seq: self.seq,
        }
    }
}

/// An order intent as the core produced it (`reason` owned: the tape outlives the strategy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeIntent {
    pub ticker: Ticker,
    pub side: Side,
    pub qty: Qty,
    pub order_type: OrderType,
    pub reason: String,
    pub tick_seq: u64,
}

/// Turns the engine's monotonic instants into the tape's Unix ns without a clock read per
/// tick: one reading of both clocks at start, then arithmetic.
#[derive(Clone, Copy, Debug)]
pub struct TapeTime {
    base: std::time::Instant,
    base_unix_ns: i64,
}

impl TapeTime {
    pub fn new(clock: &dyn crate::clock::Clock) -> TapeTime {
        TapeTime {
            base: clock.now(),
            base_unix_ns: clock.unix_ms().saturating_mul(1_000_000),
        }
    }

    pub fn unix_ns(&self, at: std::time::Instant) -> i64 {
        let since = at.saturating_duration_since(self.base).as_nanos();
        self.base_unix_ns
            .saturating_add(i64::try_from(since).unwrap_or(i64::MAX))
    }
}

/// One record: its sequence in the file (1, 2, … continuing across restarts on the same
/// day's file), the receive time as Unix ns stamped by whoever recorded it, and the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeRecord {
    pub seq: u64,
    pub recv_ns: i64,
    pub event: TapeEvent,
}

/// Why a tape could not be opened, read, written or imported. Messages are meant to be
/// shown verbatim; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TapeError {
    #[error("tape {}: cannot {action}: {source}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        source: io::Error,
    },
    #[error("{} is not a condor tape (it does not start with \"CONDORTP\")", path.display())]
    NotATape { path: PathBuf },
    #[error(
        "tape {} was written by format version {found}; this condor reads up to version {supported}",
        path.display()
    )]
    NewerVersion {
        path: PathBuf,
        found: u16,
        supported: u16,
    },
    #[error("tape {} is damaged at byte offset {offset} (after seq {after_seq}): {reason}", path.display())]
    Corrupt {
        path: PathBuf,
        offset: u64,
        after_seq: u64,
        reason: String,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Import {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    #[error(
        "tape {} is locked by another writer (is another condor running on the same data directory?)",
        path.display()
    )]
    Locked { path: PathBuf },
    #[error("tape {}: the writer thread has stopped; nothing more is written", path.display())]
    Stopped { path: PathBuf },
    #[error("{} already exists; not overwriting it", path.display())]
    Exists { path: PathBuf },
}

/// Where `day`'s tape lives under `dir` (`dir/YYYY-MM-DD.tape`).
pub fn day_path(dir: &Path, day: TradingDay) -> PathBuf {
    dir.join(format!("{day}.tape"))
}

/// The tapes in `dir`: (day string, path), in date order. Other files are ignored; a
/// missing directory has none.
pub fn list_days(dir: &Path) -> Result<Vec<(String, PathBuf)>, TapeError> {
    crate::durable_file::list_days(dir, "", ".tape").map_err(|source| TapeError::Io {
        path: dir.to_path_buf(),
        action: "list the directory",
        source,
    })
}

/// Seconds of the KST day at `unix_ns`.
pub(crate) fn kst_second_of_day(unix_ns: i64) -> i64 {
    (unix_ns.div_euclid(1_000_000_000) + 9 * 3600).rem_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn day_path_and_list_days_agree_and_ignore_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let d2: TradingDay = "2024-01-03".parse().unwrap();
        let d1: TradingDay = "2024-01-02".parse().unwrap();
        assert_eq!(day_path(dir.path(), d1), dir.path().join("2024-01-02.tape"));
        for p in [day_path(dir.path(), d2), day_path(dir.path(), d1)] {
            fs::write(p, b"x").unwrap();
        }
        fs::write(dir.path().join("2024-13-01.tape"), b"x").unwrap();
        fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        fs::write(dir.path().join(".2024-01-04.tape.tmp"), b"x").unwrap();
        let days = list_days(dir.path()).unwrap();
        let names: Vec<&str> = days.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(names, ["2024-01-02", "2024-01-03"]);
        assert_eq!(days[1].1, dir.path().join("2024-01-03.tape"));
        assert!(list_days(&dir.path().join("missing")).unwrap().is_empty());
    }

    #[test]
    fn a_trade_keeps_every_field_of_its_tick_but_the_instant() {
        let now = Instant::now();
        let tick = Tick {
            ticker: Ticker::parse("005930").unwrap(),
            price: Price::lit(71_200),
            qty: Qty::lit(17),
            cum_volume: 1_234_567,
            prev_close: Price::lit(70_000),
            aggressor: Side::Sell,
            exchange_time: TimeOfDay::hms(9, 31, 7),
            received_at: now,
            seq: 42,
        };
        let trade = TapeTrade::from_tick(&tick);
        assert_eq!(trade.to_tick(now), tick);
        assert_eq!(trade.cum_volume, 1_234_567);
        assert_eq!(trade.aggressor, Side::Sell);
    }

    /// [`read`] of a day writes one of these per record into fresh memory; a trade inline
    /// and the bigger kinds boxed keep that at 72 bytes (it was 112).
    #[test]
    fn a_record_is_a_trade_and_its_two_stamps() {
        assert_eq!(std::mem::size_of::<TapeTrade>(), 56);
        assert_eq!(std::mem::size_of::<TapeEvent>(), 56);
        assert_eq!(std::mem::size_of::<TapeRecord>(), 72);
    }

    #[test]
    fn kst_second_of_day_wraps_at_kst_midnight() {
        // 2024-01-01 15:00:00 UTC is 2024-01-02 00:00:00 KST.
        let midnight = 1_704_121_200i64 * 1_000_000_000;
        assert_eq!(kst_second_of_day(midnight), 0);
        assert_eq!(kst_second_of_day(midnight - 1), 86_399);
        assert_eq!(
            kst_second_of_day(midnight + 9 * 3600 * 1_000_000_000),
            9 * 3600
        );
        assert_eq!(kst_second_of_day(i64::MIN), kst_second_of_day(i64::MIN));
    }
}
