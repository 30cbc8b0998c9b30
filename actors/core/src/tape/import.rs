//! A day of trades (and, optionally, condition events) from CSV into tape records, and a
//! whole day written as one tape file at once.
//!
//! # The trades CSV
//!
//! A header row naming the columns, in any order:
//! `date,time,ticker,price,qty,cum_volume,side`, and optionally `prev_close` and
//! `exchange_time`. Then one trade a row:
//!
//! - `date`: `YYYY-MM-DD`, the same on every row (a tape is one KST day);
//! - `time`: when the trade was received, `HH:MM:SS` with an optional fraction of 1–9
//!   digits (`09:00:01.250`), KST; the record's receive time is that date and time in Unix
//!   ns;
//! - `ticker`: six digits; `price` (won, > 0), `qty` (shares, ≥ 1), `cum_volume` (the
//!   ticker's volume so far today, ≥ qty and never falling): integers;
//! - `side`: the aggressor, `buy`, `sell`, or empty for unknown. Unknown sides are decided
//!   by the tick rule, per ticker in time order: a price above the ticker's previous trade
//!   is a buy, below a sell, equal takes the previous trade's side, and a ticker's first
//!   trade is a buy;
//! - `prev_close` (optional, may be empty): the ticker's previous close (기준가). Where it is
//!   missing, the ticker's first given `prev_close` in time order, else its first trade's
//!   price (so the day's change starts at 0);
//! - `exchange_time` (optional, may be empty): the exchange's time of the trade,
//!   `HH:MM:SS`; else `time`'s whole seconds.
//!
//! Rows are ordered by `time`, rows with equal times keeping their order in the file, so a
//! file grouped by ticker imports as well as one in time order. Trades get `seq` 1, 2, …
//! in that order. Blank lines are skipped; quoted fields are refused.
//!
//! # The conditions CSV
//!
//! `date,time,ticker,event` with `event` `enter` or `exit`; same date and time rules. At
//! equal times condition events come before trades (the screener's word reaches the engine
//! before the trades it reacts to).
//!
//! Every row is checked; the first bad one is a [`TapeError::Import`] naming the file and
//! the line. The import adds no `Started`/`Stopped` markers: the tape holds the market's
//! inputs only (a replay of it has no strategy settings to compare with).
//!
//! Owns the CSV layouts both ways ([`write_trades_csv`] writes what [`import_csv`] reads)
//! and writing a whole day atomically. Must never leave a half-written tape behind.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fs4::{FileExt, TryLockError};

use super::format;
use super::writer::BATCH_RECORDS;
use super::{kst_second_of_day, TapeError, TapeEvent, TapeRecord, TapeTrade};
use crate::clock::TradingDay;
use crate::domain::ConditionId;
use crate::durable_file::sync_dir;
use crate::market::{check_cum_volume, Price, Qty, Side, Ticker, TimeOfDay};

/// The columns [`write_trades_csv`] writes, in order.
pub const TRADES_CSV_HEADER: &str =
    "date,time,ticker,price,qty,cum_volume,side,prev_close,exchange_time";

const NANOS_PER_SEC: i64 = 1_000_000_000;

/// Reads a day of trades (and condition events) from CSV. Returns the day and its events
/// with their receive times (Unix ns), merged in time order, ready for [`write_day`].
pub fn import_csv(
    trades: &Path,
    conditions: Option<&Path>,
) -> Result<(TradingDay, Vec<(i64, TapeEvent)>), TapeError> {
    let (day, trade_rows) = read_trades(trades)?;
    let mut events: Vec<(i64, TapeEvent)> = Vec::with_capacity(trade_rows.len());
    let mut trade_events = resolve_trades(trades, trade_rows)?;
    if let Some(path) = conditions {
        let conds = read_conditions(path, day)?;
        // Both are in time order: merge, condition events first at equal times.
        let mut t = trade_events.drain(..).peekable();
        for c in conds {
            while let Some(tr) = t.next_if(|tr| tr.0 < c.0) {
                events.push(tr);
            }
            events.push(c);
        }
        events.extend(t);
    } else {
        events.append(&mut trade_events);
    }
    let mut seq = 0u64;
    for (_, e) in &mut events {
        if let TapeEvent::Trade(t) = e {
            seq += 1;
            t.seq = seq;
        }
    }
    Ok((day, events))
}

/// Writes a whole day of `events` to `path` as a new tape (seqs 1, 2, …) created by
/// `writer`; returns the records written. Atomic: written to a temporary file in the same
/// directory, fsync'ed, then linked into place; on any error nothing is left behind.
/// Refuses to overwrite an existing file ([`TapeError::Exists`]).
pub fn write_day(path: &Path, writer: &str, events: &[(i64, TapeEvent)]) -> Result<u64, TapeError> {
    write_whole(path, writer, events, false)
}

/// Like [`write_day`] but replaces an existing tape, atomically (a reader sees the old file
/// or the new one), and refuses while a writer holds it ([`TapeError::Locked`]).
pub fn replace_day(
    path: &Path,
    writer: &str,
    events: &[(i64, TapeEvent)],
) -> Result<u64, TapeError> {
    write_whole(path, writer, events, true)
}

/// Writes the trades among `records` in the trades CSV layout ([`TRADES_CSV_HEADER`], the
/// optional columns included), header first; returns the rows written.
pub fn write_trades_csv<'a>(
    records: impl IntoIterator<Item = &'a TapeRecord>,
    out: &mut impl Write,
) -> io::Result<u64> {
    writeln!(out, "{TRADES_CSV_HEADER}")?;
    let mut rows = 0;
    for r in records {
        if let TapeEvent::Trade(t) = &r.event {
            write_trade_row(r.recv_ns, t, out)?;
            rows += 1;
        }
    }
    Ok(rows)
}

/// One trade as a row of the trades CSV layout (no header).
pub fn write_trade_row(recv_ns: i64, t: &TapeTrade, out: &mut impl Write) -> io::Result<()> {
    let day = TradingDay::from_unix_ms(recv_ns.div_euclid(1_000_000));
    writeln!(
        out,
        "{day},{},{},{},{},{},{},{},{}",
        clock_text(recv_ns),
        t.ticker,
        t.price,
        t.qty,
        t.cum_volume,
        match t.aggressor {
            Side::Buy => "buy",
            Side::Sell => "sell",
        },
        t.prev_close,
        t.exchange_time
    )
}

/// `HH:MM:SS.mmm` (KST) of `unix_ns`, or `HH:MM:SS.nnnnnnnnn` when it is not a whole
/// millisecond: what the CSV's `time` column reads back to the same ns.
pub fn clock_text(unix_ns: i64) -> String {
    let sod = kst_second_of_day(unix_ns);
    let frac = unix_ns.rem_euclid(NANOS_PER_SEC);
    let hms = format!("{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
    if frac % 1_000_000 == 0 {
        format!("{hms}.{:03}", frac / 1_000_000)
    } else {
        format!("{hms}.{frac:09}")
    }
}

/// One trade as read, before sides, prev_close and seqs are settled.
struct TradeRow {
    line: u64,
    recv_ns: i64,
    ticker: Ticker,
    price: Price,
    qty: Qty,
    cum_volume: u64,
    side: Option<Side>,
    prev_close: Option<Price>,
    exchange_time: Option<TimeOfDay>,
}

/// A CSV file read line by line, with its line numbers, for error messages.
struct Csv {
    path: PathBuf,
    src: BufReader<File>,
    line: u64,
    buf: Vec<u8>,
    /// Fields in the header row: every row has as many.
    columns: usize,
}

impl Csv {
    fn open(path: &Path) -> Result<Csv, TapeError> {
        let file = File::open(path).map_err(|source| TapeError::Io {
            path: path.to_path_buf(),
            action: "open the file",
            source,
        })?;
        Ok(Csv {
            path: path.to_path_buf(),
            src: BufReader::with_capacity(1 << 20, file),
            line: 0,
            buf: Vec::new(),
            columns: 0,
        })
    }

    fn err(&self, reason: impl Into<String>) -> TapeError {
        TapeError::Import {
            path: self.path.clone(),
            line: self.line,
            reason: reason.into(),
        }
    }

    /// The next non-blank line's fields, or `None` at the end.
    fn next_row(&mut self) -> Result<Option<Vec<String>>, TapeError> {
        loop {
            self.buf.clear();
            let n = self
                .src
                .read_until(b'\n', &mut self.buf)
                .map_err(|source| TapeError::Io {
                    path: self.path.clone(),
                    action: "read the file",
                    source,
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            let mut bytes = &self.buf[..];
            if self.line == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            let text = std::str::from_utf8(bytes).map_err(|_| self.err("not UTF-8 text"))?;
            let text = text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            if text.contains('"') {
                return Err(self.err("quoted fields are not supported"));
            }
            return Ok(Some(text.split(',').map(|f| f.trim().to_owned()).collect()));
        }
    }

    /// Reads the header row and maps `names` (required) and `optional` to column indexes.
    fn header(
        &mut self,
        names: &[&str],
        optional: &[&str],
    ) -> Result<Vec<Option<usize>>, TapeError> {
        let Some(row) = self.next_row()? else {
            self.line = self.line.max(1);
            return Err(self.err(format!(
                "the file is empty; expected a header row: {}",
                names.join(",")
            )));
        };
        let mut index: Vec<Option<usize>> = vec![None; names.len() + optional.len()];
        for (i, col) in row.iter().enumerate() {
            let name = col.to_ascii_lowercase();
            let Some(slot) = names.iter().chain(optional).position(|n| *n == name) else {
                return Err(self.err(format!(
                    "unknown column {col:?} in the header row (columns: {}, optional {})",
                    names.join(","),
                    optional.join(",")
                )));
            };
            if index[slot].replace(i).is_some() {
                return Err(self.err(format!("column {col:?} appears twice in the header row")));
            }
        }
        let missing: Vec<&str> = names
            .iter()
            .zip(&index)
            .filter(|(_, i)| i.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(self.err(format!(
                "the header row lacks the column(s) {} (the first row must name the columns: {})",
                missing.join(","),
                names.join(",")
            )));
        }
        self.columns = row.len();
        Ok(index)
    }
}

fn parse_int<T: std::str::FromStr>(field: &str, name: &str) -> Result<T, String> {
    field
        .parse::<T>()
        .map_err(|_| format!("{name} {field:?} is not a whole number"))
}

/// `HH:MM:SS` with an optional fraction of 1–9 digits, as ns since midnight.
fn parse_clock(field: &str, name: &str) -> Result<i64, String> {
    let bad = || format!("{name} {field:?} is not HH:MM:SS or HH:MM:SS.fff");
    let (hms, frac) = match field.split_once('.') {
        Some((hms, frac)) => (hms, Some(frac)),
        None => (field, None),
    };
    let b = hms.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return Err(bad());
    }
    let digits = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let part = &hms[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (h, m, s) = (digits(0..2)?, digits(3..5)?, digits(6..8)?);
    if h > 23 || m > 59 || s > 59 {
        return Err(format!("{name} {field:?} is not a time of day"));
    }
    let mut ns = 0i64;
    if let Some(frac) = frac {
        if frac.is_empty() || frac.len() > 9 || !frac.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        ns = frac.parse::<i64>().map_err(|_| bad())? * 10i64.pow(9 - frac.len() as u32);
    }
    Ok(((h * 60 + m) * 60 + s) * NANOS_PER_SEC + ns)
}

/// Checks the row's field count and date, and returns its receive time in Unix ns.
fn row_time(
    row: &[String],
    columns: usize,
    date_col: usize,
    time_col: usize,
    day: &mut Option<(TradingDay, String)>,
) -> Result<i64, String> {
    if row.len() != columns {
        return Err(format!(
            "{} fields where the header row has {columns}",
            row.len()
        ));
    }
    let date = &row[date_col];
    let d: TradingDay = date.parse().map_err(|e| format!("date: {e}"))?;
    match day {
        Some((first, origin)) if *first != d => {
            return Err(format!(
                "date {d} differs from {first} ({origin}): a tape holds one day"
            ))
        }
        Some(_) => {}
        None => *day = Some((d, "the first row's".to_owned())),
    }
    let since_midnight = parse_clock(&row[time_col], "time")?;
    Ok(d.midnight_unix_ms() * 1_000_000 + since_midnight)
}

fn read_trades(path: &Path) -> Result<(TradingDay, Vec<TradeRow>), TapeError> {
    let mut csv = Csv::open(path)?;
    let cols = csv.header(
        &[
            "date",
            "time",
            "ticker",
            "price",
            "qty",
            "cum_volume",
            "side",
        ],
        &["prev_close", "exchange_time"],
    )?;
    let c = |i: usize| cols[i].unwrap_or(0);
    let header_line = csv.line;
    let mut day = None;
    let mut rows = Vec::new();
    while let Some(row) = csv.next_row()? {
        let parsed = (|| -> Result<TradeRow, String> {
            let recv_ns = row_time(&row, csv.columns, c(0), c(1), &mut day)?;
            let ticker = Ticker::parse(&row[c(2)]).map_err(|e| e.to_string())?;
            // Held to what KRX can print, as the wire is: a CSV is input like any other.
            let price = Price::new(parse_int(&row[c(3)], "price")?).map_err(|e| e.to_string())?;
            let qty: u64 = parse_int(&row[c(4)], "qty")?;
            if qty == 0 {
                return Err("qty is 0; a trade is at least one share".to_owned());
            }
            let qty = Qty::new(qty).map_err(|e| e.to_string())?;
            let cum_volume = check_cum_volume(parse_int(&row[c(5)], "cum_volume")?)
                .map_err(|e| e.to_string())?;
            if cum_volume < qty.shares() {
                return Err(format!(
                    "cum_volume {cum_volume} is below this trade's qty {qty}"
                ));
            }
            let side = match row[c(6)].to_ascii_lowercase().as_str() {
                "buy" => Some(Side::Buy),
                "sell" => Some(Side::Sell),
                "" => None,
                other => return Err(format!("side {other:?} is not buy, sell or empty")),
            };
            let prev_close = match cols[7].map(|i| row[i].as_str()) {
                None | Some("") => None,
                Some(f) => {
                    let p = Price::new(parse_int(f, "prev_close")?)
                        .map_err(|e| format!("prev_close: {e}"))?;
                    Some(p)
                }
            };
            let exchange_time = match cols[8].map(|i| row[i].as_str()) {
                None | Some("") => None,
                Some(f) => {
                    let ns = parse_clock(f, "exchange_time")?;
                    if ns % NANOS_PER_SEC != 0 {
                        return Err(format!(
                            "exchange_time {f:?} has a fraction; it is HH:MM:SS"
                        ));
                    }
                    Some(TimeOfDay::from_secs((ns / NANOS_PER_SEC) as u32))
                }
            };
            Ok(TradeRow {
                line: csv.line,
                recv_ns,
                ticker,
                price,
                qty,
                cum_volume,
                side,
                prev_close,
                exchange_time,
            })
        })();
        rows.push(parsed.map_err(|reason| csv.err(reason))?);
    }
    let Some((day, _)) = day else {
        return Err(TapeError::Import {
            path: path.to_path_buf(),
            line: header_line,
            reason: "no trades after the header row".to_owned(),
        });
    };
    // Stable: equal times keep the file's order.
    rows.sort_by_key(|r| r.recv_ns);
    Ok((day, rows))
}

/// Settles sides (tick rule), prev_close and exchange times, per ticker in time order, and
/// checks each ticker's cum_volume never falls.
fn resolve_trades(path: &Path, rows: Vec<TradeRow>) -> Result<Vec<(i64, TapeEvent)>, TapeError> {
    struct Last {
        price: Price,
        side: Side,
        cum_volume: u64,
        line: u64,
        base: Price,
    }
    // Each ticker's first given prev_close, else its first price.
    let mut base: HashMap<Ticker, Price> = HashMap::new();
    for r in &rows {
        if let Some(p) = r.prev_close {
            base.entry(r.ticker).or_insert(p);
        }
    }
    let mut last: HashMap<Ticker, Last> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let (side, base) = match last.get(&r.ticker) {
            Some(prev) => {
                if r.cum_volume < prev.cum_volume {
                    return Err(TapeError::Import {
                        path: path.to_path_buf(),
                        line: r.line,
                        reason: format!(
                            "cum_volume {} of {} falls below {} at line {} (an earlier trade)",
                            r.cum_volume, r.ticker, prev.cum_volume, prev.line
                        ),
                    });
                }
                let tick_rule = match r.price.cmp(&prev.price) {
                    std::cmp::Ordering::Greater => Side::Buy,
                    std::cmp::Ordering::Less => Side::Sell,
                    std::cmp::Ordering::Equal => prev.side,
                };
                (r.side.unwrap_or(tick_rule), prev.base)
            }
            None => (
                r.side.unwrap_or(Side::Buy),
                base.get(&r.ticker).copied().unwrap_or(r.price),
            ),
        };
        last.insert(
            r.ticker,
            Last {
                price: r.price,
                side,
                cum_volume: r.cum_volume,
                line: r.line,
                base,
            },
        );
        let exchange_time = r
            .exchange_time
            .unwrap_or_else(|| TimeOfDay::from_secs(kst_second_of_day(r.recv_ns) as u32));
        out.push((
            r.recv_ns,
            TapeEvent::Trade(TapeTrade {
                ticker: r.ticker,
                price: r.price,
                qty: r.qty,
                cum_volume: r.cum_volume,
                prev_close: r.prev_close.unwrap_or(base),
                aggressor: side,
                exchange_time,
                seq: 0,
            }),
        ));
    }
    Ok(out)
}

fn read_conditions(path: &Path, day: TradingDay) -> Result<Vec<(i64, TapeEvent)>, TapeError> {
    let mut csv = Csv::open(path)?;
    let cols = csv.header(&["date", "time", "ticker", "event"], &[])?;
    let c = |i: usize| cols[i].unwrap_or(0);
    let mut first_day = Some((day, "the trades' date".to_owned()));
    let mut events = Vec::new();
    while let Some(row) = csv.next_row()? {
        let parsed = (|| -> Result<(i64, TapeEvent), String> {
            let recv_ns = row_time(&row, csv.columns, c(0), c(1), &mut first_day)?;
            let ticker = Ticker::parse(&row[c(2)]).map_err(|e| e.to_string())?;
            let market_time = TimeOfDay::from_secs(kst_second_of_day(recv_ns) as u32);
            let event = match row[c(3)].to_ascii_lowercase().as_str() {
                "enter" => TapeEvent::ConditionEnter {
                    ticker,
                    market_time,
                    condition: ConditionId::FIRST,
                },
                "exit" => TapeEvent::ConditionExit {
                    ticker,
                    market_time,
                    condition: ConditionId::FIRST,
                },
                other => return Err(format!("event {other:?} is not enter or exit")),
            };
            Ok((recv_ns, event))
        })();
        events.push(parsed.map_err(|reason| csv.err(reason))?);
    }
    events.sort_by_key(|e| e.0);
    Ok(events)
}

fn write_whole(
    path: &Path,
    writer: &str,
    events: &[(i64, TapeEvent)],
    replace: bool,
) -> Result<u64, TapeError> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let io_err = |action| {
        move |source| TapeError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let exists = || TapeError::Exists {
        path: path.to_path_buf(),
    };
    if !replace && path.exists() {
        return Err(exists());
    }
    fs::create_dir_all(parent).map_err(io_err("create its directory"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "tape".to_owned());
    let tmp = parent.join(format!(
        ".{name}.import-{}-{}.tmp",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> Result<u64, TapeError> {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err("create a temporary file beside it"))?;
        let mut buf = Vec::with_capacity(4 << 20);
        format::encode_header(writer, &mut buf);
        let mut seq = 1u64;
        for chunk in events.chunks(BATCH_RECORDS) {
            format::encode_block(seq, chunk, &mut buf);
            seq += chunk.len() as u64;
            if buf.len() >= 4 << 20 {
                file.write_all(&buf)
                    .map_err(io_err("write the temporary file"))?;
                buf.clear();
            }
        }
        file.write_all(&buf)
            .map_err(io_err("write the temporary file"))?;
        file.sync_all().map_err(io_err("sync the temporary file"))?;
        drop(file);
        if replace {
            // Hold the old file's lock across the rename: a running writer keeps it.
            let _old = match OpenOptions::new().read(true).open(path) {
                Ok(old) => match FileExt::try_lock(&old) {
                    Ok(()) => Some(old),
                    Err(TryLockError::WouldBlock) => {
                        return Err(TapeError::Locked {
                            path: path.to_path_buf(),
                        })
                    }
                    Err(TryLockError::Error(e)) => return Err(io_err("lock the file")(e)),
                },
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(io_err("open the file")(e)),
            };
            fs::rename(&tmp, path).map_err(io_err("rename the temporary file into place"))?;
        } else {
            // A link fails if the name exists: no window where another file is overwritten.
            match fs::hard_link(&tmp, path) {
                Ok(()) => {
                    let _ = fs::remove_file(&tmp);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(exists()),
                Err(_) if path.exists() => return Err(exists()),
                // A file system without hard links: check, then rename.
                Err(_) => fs::rename(&tmp, path)
                    .map_err(io_err("rename the temporary file into place"))?,
            }
        }
        sync_dir(parent).map_err(io_err("sync its directory"))?;
        Ok(events.len() as u64)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::super::read;
    use super::*;

    fn ticker(s: &str) -> Ticker {
        Ticker::parse(s).unwrap()
    }

    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, text).unwrap();
        p
    }

    /// 2024-01-02 00:00:00 KST in Unix ns.
    const DAY_NS: i64 = 1_704_121_200 * NANOS_PER_SEC;
    const H9: i64 = 9 * 3600 * NANOS_PER_SEC;

    fn trades_of(events: &[(i64, TapeEvent)]) -> Vec<(i64, TapeTrade)> {
        events
            .iter()
            .filter_map(|(ns, e)| match e {
                TapeEvent::Trade(t) => Some((*ns, *t)),
                _ => None,
            })
            .collect()
    }

    const TRADES: &str = "\u{feff}date,time,ticker,price,qty,cum_volume,side\r
2024-01-02,09:00:01.250,005930,71200,10,10,buy\r
2024-01-02,09:00:01.250,000660,130000,3,3,\r
\r
2024-01-02,09:00:02.000,005930,71100,5,15,\r
2024-01-02,09:00:00.500,000660,129500,1,1,sell\r
2024-01-02,09:00:03,005930,71100,2,17,\r
2024-01-02,09:00:04.1,005930,71300,1,18,\r
";

    #[test]
    fn a_good_file_imports_in_time_order_with_sides_and_prev_close_settled() {
        let dir = tempfile::tempdir().unwrap();
        let trades = file(dir.path(), "t.csv", TRADES);
        let (day, events) = import_csv(&trades, None).unwrap();
        assert_eq!(day.to_string(), "2024-01-02");
        let got = trades_of(&events);
        assert_eq!(got.len(), 6);
        assert_eq!(events.len(), 6);
        // 000660 at 09:00:00.500 came later in the file but first in time.
        assert_eq!(got[0].0, DAY_NS + H9 + 500_000_000);
        assert_eq!(got[0].1.ticker, ticker("000660"));
        assert_eq!(got[0].1.aggressor, Side::Sell);
        // Equal times keep the file's order.
        assert_eq!(got[1].1.ticker, ticker("005930"));
        assert_eq!(got[2].1.ticker, ticker("000660"));
        // Tick rule: 130000 above 129500 is a buy; 71100 below 71200 a sell; equal keeps
        // the side; 71300 up a buy.
        let sides: Vec<Side> = got.iter().map(|(_, t)| t.aggressor).collect();
        assert_eq!(
            sides,
            [
                Side::Sell,
                Side::Buy,
                Side::Buy,
                Side::Sell,
                Side::Sell,
                Side::Buy
            ]
        );
        // prev_close: each ticker's first price.
        assert_eq!(got[2].1.prev_close, Price::lit(129_500));
        assert_eq!(got[5].1.prev_close, Price::lit(71_200));
        assert_eq!(got[5].0, DAY_NS + H9 + 4 * NANOS_PER_SEC + 100_000_000);
        assert_eq!(got[5].1.exchange_time, TimeOfDay::hms(9, 0, 4));
        let seqs: Vec<u64> = got.iter().map(|(_, t)| t.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
        assert_eq!(got[3].1.cum_volume, 15);
        assert_eq!(got[3].1.qty, Qty::lit(5));
    }

    #[test]
    fn condition_events_merge_before_trades_at_equal_times() {
        let dir = tempfile::tempdir().unwrap();
        let trades = file(dir.path(), "t.csv", TRADES);
        let conds = file(
            dir.path(),
            "c.csv",
            "ticker,event,date,time\n005930,exit,2024-01-02,09:10:00\n005930,enter,2024-01-02,09:00:01.250\n000660,ENTER,2024-01-02,08:59:59\n",
        );
        let (_, events) = import_csv(&trades, Some(&conds)).unwrap();
        let kinds: Vec<String> = events
            .iter()
            .map(|(_, e)| format!("{}:{}", e.kind_name(), e.ticker().unwrap()))
            .collect();
        assert_eq!(
            kinds,
            [
                "enter:000660",
                "trade:000660",
                "enter:005930",
                "trade:005930",
                "trade:000660",
                "trade:005930",
                "trade:005930",
                "trade:005930",
                "exit:005930"
            ]
        );
        assert!(events.windows(2).all(|w| w[0].0 <= w[1].0));
        assert_eq!(
            events[2].1,
            TapeEvent::ConditionEnter {
                ticker: ticker("005930"),
                market_time: TimeOfDay::hms(9, 0, 1),
                condition: ConditionId::FIRST,
            }
        );
        // Trade seqs count trades only, in the merged order.
        let seqs: Vec<u64> = trades_of(&events).iter().map(|(_, t)| t.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
    }

    fn import_err(trades: &str, conditions: Option<&str>) -> (String, u64) {
        let dir = tempfile::tempdir().unwrap();
        let t = file(dir.path(), "trades.csv", trades);
        let c = conditions.map(|c| file(dir.path(), "conds.csv", c));
        match import_csv(&t, c.as_deref()) {
            Err(TapeError::Import { path, line, reason }) => {
                let text = TapeError::Import {
                    path: path.clone(),
                    line,
                    reason,
                }
                .to_string();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                assert!(text.starts_with(&path.display().to_string()), "{text}");
                (format!("{name}: {text}"), line)
            }
            other => panic!("expected an import error, got {other:?}"),
        }
    }

    #[test]
    fn a_bad_row_names_the_file_and_the_line() {
        let h = "date,time,ticker,price,qty,cum_volume,side\n";
        let good = "2024-01-02,09:00:01,005930,71200,10,10,buy\n";
        let cases: &[(&str, u64, &str)] = &[
            (
                "2024-01-02,09:00:01,05930,71200,10,10,buy\n",
                3,
                "six digits",
            ),
            (
                "2024-01-02,09:00:01,005930,-5,10,10,buy\n",
                3,
                "not positive",
            ),
            ("2024-01-02,09:00:01,005930,71200,0,10,buy\n", 3, "qty is 0"),
            (
                "2024-01-02,09:00:01,005930,9223372036854775807,10,10,buy\n",
                3,
                "the highest price KRX can print",
            ),
            (
                "2024-01-02,09:00:01,005930,71200,18446744073709551615,18446744073709551615,buy\n",
                3,
                "the most one order or trade can carry",
            ),
            (
                "2024-01-02,09:00:01,005930,71200,10,1000000000000,buy\n",
                3,
                "the most a day can print",
            ),
            (
                "2024-01-02,09:00:01,005930,71200,1.5,10,buy\n",
                3,
                "qty \"1.5\"",
            ),
            (
                "2024-01-02,09:00:01,005930,71200,10,10,up\n",
                3,
                "side \"up\"",
            ),
            (
                "2024-01-02,25:00:01,005930,71200,10,10,buy\n",
                3,
                "not a time of day",
            ),
            ("2024-01-02,9:00:01,005930,71200,10,10,buy\n", 3, "HH:MM:SS"),
            (
                "2024-01-03,09:00:02,005930,71200,10,20,buy\n",
                3,
                "a tape holds one day",
            ),
            (
                "2024-02-30,09:00:02,005930,71200,10,20,buy\n",
                3,
                "not a date",
            ),
            ("2024-01-02,09:00:02,005930,71200,10,20\n", 3, "6 fields"),
            (
                "2024-01-02,09:00:02,005930,71200,10,5,buy\n",
                3,
                "below this trade's qty",
            ),
            (
                "2024-01-02,09:00:00,005930,71200,1,20,buy\n",
                2,
                "falls below 20 at line 3",
            ),
            (
                "\n\n2024-01-02,09:00:02,\"005930\",71200,10,20,buy\n",
                5,
                "quoted",
            ),
        ];
        for (row, line, needle) in cases {
            let (text, got_line) = import_err(&format!("{h}{good}{row}"), None);
            assert_eq!(got_line, *line, "{text}");
            assert!(text.contains(needle), "{needle:?} not in {text}");
            assert!(text.contains(&format!("trades.csv:{line}: ")), "{text}");
        }
        let (text, line) = import_err("date,time,ticker,price,qty,side\n", None);
        assert_eq!(line, 1);
        assert!(text.contains("lacks the column(s) cum_volume"), "{text}");
        let (text, _) = import_err("date,time,ticker,price,qty,cum_volume,side,venue\n", None);
        assert!(text.contains("unknown column \"venue\""), "{text}");
        let (text, line) = import_err(h, None);
        assert_eq!(line, 1);
        assert!(text.contains("no trades"), "{text}");
        let (text, line) = import_err("", None);
        assert!(text.contains("empty") && line == 1, "{text}");
        // A bad condition row names the conditions file.
        let (text, line) = import_err(
            &format!("{h}{good}"),
            Some("date,time,ticker,event\n2024-01-02,09:00:00,005930,enter\n2024-01-02,09:00:00,005930,leave\n"),
        );
        assert_eq!(line, 3);
        assert!(
            text.starts_with("conds.csv: ") && text.contains("\"leave\""),
            "{text}"
        );
        let (text, _) = import_err(
            &format!("{h}{good}"),
            Some("date,time,ticker,event\n2024-01-05,09:00:00,005930,enter\n"),
        );
        assert!(text.contains("the trades' date"), "{text}");
    }

    #[test]
    fn write_day_is_atomic_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let trades = file(dir.path(), "t.csv", TRADES);
        let (day, events) = import_csv(&trades, None).unwrap();
        let out = super::super::day_path(&dir.path().join("tape"), day);
        assert_eq!(write_day(&out, "condor tape import", &events).unwrap(), 6);
        let tape = read(&out).unwrap();
        assert_eq!(tape.writer, "condor tape import");
        assert!(tape.stopped.is_none());
        let back: Vec<(i64, TapeEvent)> = tape
            .records
            .iter()
            .map(|r| (r.recv_ns, r.event.clone()))
            .collect();
        assert_eq!(back, events);
        let before = fs::read(&out).unwrap();
        assert!(matches!(
            write_day(&out, "again", &events[..1]),
            Err(TapeError::Exists { .. })
        ));
        assert_eq!(fs::read(&out).unwrap(), before);
        // Replacing works, and is refused while a writer holds the tape.
        assert_eq!(replace_day(&out, "again", &events[..2]).unwrap(), 2);
        assert_eq!(read(&out).unwrap().records.len(), 2);
        let held = super::super::Tape::open(&out, "live").unwrap();
        assert!(matches!(
            replace_day(&out, "again", &events),
            Err(TapeError::Locked { .. })
        ));
        drop(held);
        // Nothing but the tape is left in the directory.
        let names: Vec<_> = fs::read_dir(dir.path().join("tape"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["2024-01-02.tape"]);
    }

    #[test]
    fn a_failed_import_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let tape_dir = dir.path().join("tape");
        let bad = file(
            dir.path(),
            "bad.csv",
            "date,time,ticker,price,qty,cum_volume,side\n2024-01-02,09:00:00,005930,71200,1,1,buy\n2024-01-02,09:00:01,005930,x,1,2,buy\n",
        );
        assert!(import_csv(&bad, None).is_err());
        assert!(!tape_dir.exists());
        // A write that fails midway (the target's directory is a file) leaves nothing.
        fs::write(&tape_dir, b"not a directory").unwrap();
        let (_, events) = import_csv(&file(dir.path(), "t.csv", TRADES), None).unwrap();
        assert!(write_day(&tape_dir.join("2024-01-02.tape"), "x", &events).is_err());
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["bad.csv", "t.csv", "tape"]);
    }

    #[test]
    fn import_then_dump_as_csv_then_import_gives_identical_trades() {
        let dir = tempfile::tempdir().unwrap();
        // Every optional column, some rows leaving them empty, and sub-ms receive times.
        let text = "date,time,ticker,price,qty,cum_volume,side,prev_close,exchange_time
2024-01-02,09:00:01.250,005930,71200,10,10,buy,70000,09:00:01
2024-01-02,09:00:01.250000001,000660,130000,3,3,,,
2024-01-02,09:00:02.999,005930,71100,5,15,,,09:00:02
2024-01-02,09:00:03,000660,131000,7,10,sell,128000,
";
        let first = file(dir.path(), "first.csv", text);
        let conds = file(
            dir.path(),
            "c.csv",
            "date,time,ticker,event\n2024-01-02,09:00:00,005930,enter\n",
        );
        let (day, events) = import_csv(&first, Some(&conds)).unwrap();
        let tape = super::super::day_path(dir.path(), day);
        write_day(&tape, "condor", &events).unwrap();
        let records = read(&tape).unwrap().records;
        let mut csv = Vec::new();
        assert_eq!(write_trades_csv(&records, &mut csv).unwrap(), 4);
        let csv = String::from_utf8(csv).unwrap();
        assert!(csv.starts_with(TRADES_CSV_HEADER), "{csv}");
        assert!(csv.contains("09:00:01.250000001,000660"), "{csv}");
        let second = file(dir.path(), "second.csv", &csv);
        let (day2, again) = import_csv(&second, None).unwrap();
        assert_eq!(day2, day);
        assert_eq!(trades_of(&again), trades_of(&events));
        // The explicit and the derived prev_close both survive.
        let t = trades_of(&again);
        assert_eq!(t[0].1.prev_close, Price::lit(70_000));
        assert_eq!(t[1].1.prev_close, Price::lit(128_000));
        assert_eq!(t[0].1.exchange_time, TimeOfDay::hms(9, 0, 1));
    }

    #[test]
    fn clock_text_reads_back_to_the_same_ns() {
        for ns in [0, 1, 999_999, 1_000_000, 123_456_789, 999_999_999] {
            let at = DAY_NS + H9 + ns;
            let text = clock_text(at);
            assert_eq!(parse_clock(&text, "t").unwrap(), H9 + ns, "{text}");
        }
        assert_eq!(clock_text(DAY_NS + H9 + 250_000_000), "09:00:00.250");
        assert_eq!(clock_text(DAY_NS - 1), "23:59:59.999999999");
    }
}
