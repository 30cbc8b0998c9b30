//! Reading a tape: [`read`] for a whole day in memory, [`TapeReader`] for one record at a
//! time (memory bounded by one block).
//!
//! Owns the reading half of the torn-tail rule: where reading stops, why, and whether
//! intact data follows (damage in the middle) or not (a torn tail). Must never change the
//! file, never skip a damaged block to read on after it, and never panic on any bytes.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::mem;
use std::path::{Path, PathBuf};

use super::format::{
    self, BlockDecoder, BlockHeader, HeaderError, BLOCK_HEADER_LEN, HEADER_FIXED_LEN,
    MAX_BLOCK_PAYLOAD,
};
use super::{TapeError, TapeRecord, TAPE_VERSION};

/// A whole tape, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeFile {
    pub version: u16,
    /// Who created the file ("condor 0.1.0"); each start is also a `Started` record.
    pub writer: String,
    pub records: Vec<TapeRecord>,
    /// Set when reading stopped early: where (byte offset, the last good seq) and why.
    pub stopped: Option<TapeDamage>,
}

/// Where and why reading stopped before the end of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeDamage {
    /// Byte offset of the first byte not read (the damaged block's start).
    pub offset: u64,
    /// The seq of the last good record (0: none).
    pub after_seq: u64,
    /// Bytes from `offset` to the end of the file.
    pub bytes_left: u64,
    /// Why, and whether anything intact follows.
    pub reason: String,
    /// Where an intact block follows the damage, if one does (damage in the middle);
    /// `None` for a torn tail (an unfinished write), which `Tape::open` cuts.
    pub resumes_at: Option<u64>,
}

/// Reads every record of the tape at `path`. A torn or damaged tail gives `Ok` with the
/// good prefix and [`TapeFile::stopped`] set; a file that is not a tape, a newer format, a
/// damaged header or a missing file is an `Err`.
pub fn read(path: &Path) -> Result<TapeFile, TapeError> {
    let mut reader = TapeReader::open(path)?;
    // A trade is about 20 bytes on disk: reserve for 16 a record so a day of trades never
    // outgrows its first allocation (pages beyond what is used are never touched), capped
    // since the size is only a guess; the excess is returned at the end.
    let estimate = (reader.file_len / 16).min(32 << 20);
    let mut records = Vec::with_capacity(usize::try_from(estimate).unwrap_or(0));
    while !reader.done && reader.load_block(&mut records)? {}
    records.shrink_to_fit();
    Ok(TapeFile {
        version: reader.version,
        writer: mem::take(&mut reader.writer),
        records,
        stopped: reader.damage,
    })
}

/// A streaming reader: yields records one at a time, holding one block in memory.
pub struct TapeReader {
    path: PathBuf,
    src: BufReader<File>,
    file_len: u64,
    version: u16,
    writer: String,
    /// The start of the next unread block.
    offset: u64,
    next_seq: u64,
    queue: VecDeque<TapeRecord>,
    payload: Vec<u8>,
    decoder: BlockDecoder,
    damage: Option<TapeDamage>,
    done: bool,
    /// The file ended inside its header after this many bytes (0: an empty file).
    incomplete_header: Option<u64>,
}

impl std::fmt::Debug for TapeReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TapeReader")
            .field("path", &self.path)
            .field("offset", &self.offset)
            .field("next_seq", &self.next_seq)
            .finish_non_exhaustive()
    }
}

impl TapeReader {
    /// Opens the tape at `path` and reads its header. A file that ends inside its header
    /// (created but never written) opens with no records and [`TapeReader::damage`] set.
    pub fn open(path: &Path) -> Result<TapeReader, TapeError> {
        let io_err = |action| {
            move |source| TapeError::Io {
                path: path.to_path_buf(),
                action,
                source,
            }
        };
        let file = File::open(path).map_err(io_err("open the file"))?;
        let file_len = file.metadata().map_err(io_err("read its size"))?.len();
        let mut src = BufReader::with_capacity(256 << 10, file);
        let mut fixed = [0u8; HEADER_FIXED_LEN];
        let n = read_full(&mut src, &mut fixed).map_err(io_err("read the header"))?;
        let header = match format::header_len(&fixed[..n]) {
            Ok(len) => {
                let mut bytes = fixed.to_vec();
                bytes.resize(len, 0);
                let m = read_full(&mut src, &mut bytes[HEADER_FIXED_LEN..])
                    .map_err(io_err("read the header"))?;
                bytes.truncate(HEADER_FIXED_LEN + m);
                format::decode_header(&bytes)
            }
            Err(e) => Err(e),
        };
        let mut reader = TapeReader {
            path: path.to_path_buf(),
            src,
            file_len,
            version: TAPE_VERSION,
            writer: String::new(),
            offset: 0,
            next_seq: 1,
            queue: VecDeque::new(),
            payload: Vec::new(),
            decoder: BlockDecoder::new(),
            damage: None,
            done: false,
            incomplete_header: None,
        };
        match header {
            Ok((header, len)) => {
                reader.version = header.version;
                reader.writer = header.writer;
                reader.offset = len as u64;
            }
            Err(HeaderError::Incomplete) => {
                if n >= 10 {
                    reader.version = u16::from_le_bytes([fixed[8], fixed[9]]);
                }
                reader.incomplete_header = Some(file_len);
                reader.done = true;
                reader.damage = Some(TapeDamage {
                    offset: 0,
                    after_seq: 0,
                    bytes_left: file_len,
                    reason: if file_len == 0 {
                        "the file is empty (created, never written)".to_owned()
                    } else {
                        format!(
                            "the file ends {file_len} bytes into its header (created, never written)"
                        )
                    },
                    resumes_at: None,
                });
            }
            Err(HeaderError::NotATape) => {
                return Err(TapeError::NotATape {
                    path: path.to_path_buf(),
                })
            }
            Err(HeaderError::Newer { found }) => {
                return Err(TapeError::NewerVersion {
                    path: path.to_path_buf(),
                    found,
                    supported: TAPE_VERSION,
                })
            }
            Err(HeaderError::Corrupt(reason)) => {
                return Err(TapeError::Corrupt {
                    path: path.to_path_buf(),
                    offset: 0,
                    after_seq: 0,
                    reason: format!("its header: {reason}"),
                })
            }
        }
        Ok(reader)
    }

    /// The next record; `Ok(None)` at the end or where reading stopped (see
    /// [`TapeReader::damage`]). `Err` only for an I/O error.
    pub fn next_record(&mut self) -> Result<Option<TapeRecord>, TapeError> {
        loop {
            if let Some(r) = self.queue.pop_front() {
                return Ok(Some(r));
            }
            if self.done {
                return Ok(None);
            }
            // The queue is empty: as a Vec (no copy) it takes the next block.
            let mut block: Vec<TapeRecord> = mem::take(&mut self.queue).into();
            let loaded = self.load_block(&mut block);
            self.queue = block.into();
            if !loaded? {
                return Ok(None);
            }
        }
    }

    /// Where and why reading stopped early, once it has.
    pub fn damage(&self) -> Option<&TapeDamage> {
        self.damage.as_ref()
    }

    pub fn version(&self) -> u16 {
        self.version
    }

    /// Who created the file.
    pub fn writer(&self) -> &str {
        &self.writer
    }

    /// Bytes read so far: the end of the last block read.
    pub fn position(&self) -> u64 {
        self.offset
    }

    /// Reads, checks and decodes the next block, appending its records to `out`. `false`
    /// (and nothing appended) at the end of the file or where it is damaged (then `damage`
    /// is set).
    fn load_block(&mut self, out: &mut Vec<TapeRecord>) -> Result<bool, TapeError> {
        let mut hdr = [0u8; BLOCK_HEADER_LEN];
        let n = read_full(&mut self.src, &mut hdr).map_err(|e| self.io("read the file", e))?;
        if n == 0 {
            self.done = true;
            return Ok(false);
        }
        if n < BLOCK_HEADER_LEN {
            return self.stop(format!(
                "the file ends {n} bytes into a block header of {BLOCK_HEADER_LEN}"
            ));
        }
        let header = BlockHeader::parse(&hdr);
        if let Err(reason) = header.check(self.next_seq - 1) {
            return self.stop(format!("bad block header: {reason}"));
        }
        let len = header.payload_len as usize;
        self.payload.clear();
        let got = (&mut self.src)
            .take(len as u64)
            .read_to_end(&mut self.payload)
            .map_err(|e| self.io("read the file", e))?;
        if got < len {
            return self.stop(format!(
                "the file ends {got} bytes into a block of {len} bytes"
            ));
        }
        if !header.crc_matches(&hdr, &self.payload) {
            return self.stop(format!(
                "block checksum mismatch (block of {} records from seq {})",
                header.count, header.first_seq
            ));
        }
        let at = out.len();
        // A block that checks out may still declare millions of records: reserve modestly.
        out.reserve((header.count as usize).min(4 * 1024));
        let decoded = self.decoder.decode(&header, &self.payload, |r| out.push(r));
        if let Err(reason) = decoded {
            out.truncate(at);
            return self.stop(format!("a block that checks out does not decode: {reason}"));
        }
        self.offset += (BLOCK_HEADER_LEN + len) as u64;
        self.next_seq = header.first_seq + u64::from(header.count);
        Ok(true)
    }

    /// Stops reading at the current block for `reason`: notes where, and whether anything
    /// intact follows.
    fn stop(&mut self, reason: String) -> Result<bool, TapeError> {
        let after_seq = self.next_seq - 1;
        let file_len = self
            .src
            .get_ref()
            .metadata()
            .map(|m| m.len())
            .unwrap_or(self.file_len)
            .max(self.offset);
        let resumes_at = find_intact_block(&self.path, self.offset, after_seq)
            .map_err(|e| self.io("read the file", e))?;
        let reason = match resumes_at {
            None => format!("{reason}; nothing intact follows (a torn tail: an unfinished write)"),
            Some(at) => format!("{reason}; intact data follows at byte offset {at} (damage in the middle of the file)"),
        };
        self.damage = Some(TapeDamage {
            offset: self.offset,
            after_seq,
            bytes_left: file_len - self.offset,
            reason,
            resumes_at,
        });
        self.done = true;
        Ok(false)
    }

    fn io(&self, action: &'static str, source: io::Error) -> TapeError {
        TapeError::Io {
            path: self.path.clone(),
            action,
            source,
        }
    }
}

/// Reads until `buf` is full or the source ends; returns the bytes read.
fn read_full(src: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match src.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(m) => n += m,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// What [`super::Tape::open`] finds in an existing file.
pub(super) enum Scan {
    /// No bytes at all.
    Empty,
    /// A header cut short: created, never written.
    TornHeader { bytes: u64 },
    /// A header and blocks: the last good seq, the length up to the end of the last good
    /// block, and where reading stopped if it did.
    Blocks {
        last_seq: u64,
        valid_len: u64,
        damage: Option<TapeDamage>,
    },
}

/// Reads the tape at `path` through, checking every block, for appending to it.
pub(super) fn scan(path: &Path) -> Result<Scan, TapeError> {
    let mut reader = TapeReader::open(path)?;
    if let Some(bytes) = reader.incomplete_header {
        return Ok(if bytes == 0 {
            Scan::Empty
        } else {
            Scan::TornHeader { bytes }
        });
    }
    let mut block = Vec::new();
    while reader.load_block(&mut block)? {
        block.clear();
    }
    Ok(Scan::Blocks {
        last_seq: reader.next_seq - 1,
        valid_len: reader.offset,
        damage: reader.damage,
    })
}

/// The first offset after `damaged_at` where an intact block starts that could follow seq
/// `after_seq` (its header plausible, its checksum right); `None` if there is none. Reads
/// the rest of the file in chunks, holding at most a chunk and one block.
fn find_intact_block(path: &Path, damaged_at: u64, after_seq: u64) -> io::Result<Option<u64>> {
    const CHUNK: usize = 1 << 20;
    let mut file = File::open(path)?;
    let end = file.metadata()?.len();
    let start = damaged_at + 1;
    file.seek(SeekFrom::Start(start))?;
    let mut window: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut window_start = start;
    // Makes `window` hold the file up to `upto`; false if the file ends first.
    let mut fill = |window: &mut Vec<u8>, window_start: u64, upto: u64| -> io::Result<bool> {
        while window_start + (window.len() as u64) < upto {
            let have = window.len();
            window.resize(have + CHUNK, 0);
            let n = read_full(&mut file, &mut window[have..])?;
            window.truncate(have + n);
            if n == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    };
    let mut at = start;
    while at + BLOCK_HEADER_LEN as u64 <= end {
        if !fill(&mut window, window_start, at + BLOCK_HEADER_LEN as u64)? {
            break;
        }
        let i = (at - window_start) as usize;
        let mut hdr = [0u8; BLOCK_HEADER_LEN];
        hdr.copy_from_slice(&window[i..i + BLOCK_HEADER_LEN]);
        let h = BlockHeader::parse(&hdr);
        let len = h.payload_len as u64;
        // Records lost in between take at least two bytes each.
        let lost_most = (at - damaged_at) / 2;
        let plausible = h.count >= 1
            && len as usize <= MAX_BLOCK_PAYLOAD
            && u64::from(h.count) * 2 <= len
            && at + BLOCK_HEADER_LEN as u64 + len <= end
            && h.first_seq > after_seq
            && h.first_seq - after_seq - 1 <= lost_most;
        if plausible {
            let payload_end = at + BLOCK_HEADER_LEN as u64 + len;
            if fill(&mut window, window_start, payload_end)? {
                let p = i + BLOCK_HEADER_LEN;
                if h.crc_matches(&hdr, &window[p..p + len as usize]) {
                    return Ok(Some(at));
                }
            }
        }
        at += 1;
        if at - window_start >= CHUNK as u64 {
            window.drain(..(at - window_start) as usize);
            window_start = at;
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::super::format::tests::{every_kind, ticker, NINE_AM};
    use super::super::format::{encode_block, encode_header};
    use super::super::{Tape, TapeEvent, TapeTrade};
    use super::*;
    use crate::market::{Price, Qty, Side, TimeOfDay};
    use std::fs;

    fn trade(n: u64) -> TapeEvent {
        TapeEvent::Trade(TapeTrade {
            ticker: ticker(&format!("{:06}", 5930 + n % 7)),
            price: Price::lit(50_000 + (n % 40) as i64 * 100),
            qty: Qty::lit(1 + n % 90),
            cum_volume: 10 * n,
            prev_close: Price::lit(49_000),
            aggressor: if n % 2 == 0 { Side::Sell } else { Side::Buy },
            exchange_time: TimeOfDay::hms(10, 0, (n % 60) as u32),
            seq: n,
        })
    }

    /// A tape of three blocks (`sizes` records each) written by hand; returns its bytes and
    /// where each block starts.
    fn three_blocks(sizes: [usize; 3]) -> (Vec<u8>, Vec<usize>) {
        let mut bytes = Vec::new();
        encode_header("test", &mut bytes);
        let mut starts = Vec::new();
        let mut seq = 1u64;
        for size in sizes {
            starts.push(bytes.len());
            let events: Vec<_> = (0..size as u64)
                .map(|i| (NINE_AM + (seq + i) as i64 * 1_000, trade(seq + i)))
                .collect();
            encode_block(seq, &events, &mut bytes);
            seq += size as u64;
        }
        (bytes, starts)
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    fn streamed(path: &Path) -> (Vec<TapeRecord>, Option<TapeDamage>) {
        let mut r = TapeReader::open(path).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            out.push(rec);
        }
        (out, r.damage().cloned())
    }

    #[test]
    fn streaming_and_whole_reads_agree() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, _) = three_blocks([100, 1, 300]);
        let path = write(dir.path(), "t.tape", &bytes);
        let whole = read(&path).unwrap();
        assert_eq!(whole.records.len(), 401);
        assert!(whole.stopped.is_none());
        let (records, damage) = streamed(&path);
        assert_eq!(records, whole.records);
        assert!(damage.is_none());
        assert_eq!(records[400].event, trade(401));
        assert_eq!(records[400].seq, 401);
    }

    /// Cut at every byte offset of the last block: never a panic, always the first two
    /// blocks, reported as a torn tail where the last block starts; and `Tape::open` cuts
    /// it and continues the seq.
    #[test]
    fn a_torn_last_block_keeps_the_good_prefix_at_every_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, starts) = three_blocks([5, 6, 7]);
        let last = starts[2];
        for cut in last + 1..bytes.len() {
            let path = write(dir.path(), &format!("cut{cut}.tape"), &bytes[..cut]);
            let file = read(&path).unwrap();
            assert_eq!(file.records.len(), 11, "cut {cut}");
            let d = file.stopped.clone().expect("damage reported");
            assert_eq!(d.offset, last as u64, "cut {cut}");
            assert_eq!(d.after_seq, 11);
            assert_eq!(d.bytes_left, (cut - last) as u64);
            assert_eq!(d.resumes_at, None);
            assert!(d.reason.contains("torn tail"), "{}", d.reason);
            assert_eq!(streamed(&path), (file.records.clone(), Some(d)));
            if cut % 7 == 0 || cut == bytes.len() - 1 {
                let tape = Tape::open(&path, "again").unwrap();
                assert_eq!(fs::metadata(&path).unwrap().len(), last as u64);
                let mut rec = tape.recorder();
                rec.record(NINE_AM, TapeEvent::Stopped);
                drop(rec);
                assert_eq!(tape.sync().unwrap(), 12);
                drop(tape);
                let file = read(&path).unwrap();
                assert!(file.stopped.is_none());
                assert_eq!(file.records.len(), 12);
                assert_eq!(file.records[11].event, TapeEvent::Stopped);
            }
            fs::remove_file(&path).ok();
        }
        // Cut exactly at a block boundary: nothing damaged.
        let path = write(dir.path(), "boundary.tape", &bytes[..last]);
        assert!(read(&path).unwrap().stopped.is_none());
    }

    #[test]
    fn a_flipped_byte_mid_file_stops_there_and_open_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let (bytes, starts) = three_blocks([50, 50, 50]);
        for flip in [
            starts[1] + 3,
            starts[1] + 30,
            starts[1] + 100,
            starts[2] - 1,
        ] {
            let mut bad = bytes.clone();
            bad[flip] ^= 0x10;
            let path = write(dir.path(), "flip.tape", &bad);
            let file = read(&path).unwrap();
            assert_eq!(file.records.len(), 50, "flip at {flip}");
            let d = file.stopped.clone().unwrap();
            assert_eq!(d.offset, starts[1] as u64);
            assert_eq!(d.after_seq, 50);
            assert_eq!(
                d.resumes_at,
                Some(starts[2] as u64),
                "flip at {flip}: {}",
                d.reason
            );
            assert!(d.reason.contains("middle"), "{}", d.reason);
            match Tape::open(&path, "x") {
                Err(TapeError::Corrupt {
                    offset,
                    after_seq,
                    reason,
                    ..
                }) => {
                    assert_eq!((offset, after_seq), (starts[1] as u64, 50));
                    assert!(reason.contains("nothing was cut"), "{reason}");
                }
                other => panic!("expected Corrupt, got {other:?}"),
            }
            // Nothing was changed.
            assert_eq!(fs::read(&path).unwrap(), bad);
        }
    }

    #[test]
    fn zeros_after_the_last_block_are_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let (mut bytes, starts) = three_blocks([3, 3, 3]);
        let len = bytes.len();
        bytes.extend(std::iter::repeat_n(0u8, 4096));
        let path = write(dir.path(), "zeros.tape", &bytes);
        let d = read(&path).unwrap().stopped.unwrap();
        assert_eq!((d.offset, d.resumes_at), (len as u64, None));
        drop(Tape::open(&path, "x").unwrap());
        assert_eq!(fs::metadata(&path).unwrap().len(), len as u64);
        assert!(starts[2] < len);
    }

    /// Version 2 only added to version 1: a day written by a version 1 condor reads as it
    /// was written (its enters and exits are the first condition's).
    #[test]
    fn a_version_1_tape_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let (mut bytes, _) = three_blocks([2, 1, 3]);
        bytes[8..10].copy_from_slice(&1u16.to_le_bytes());
        let len = format::header_len(&bytes[..format::HEADER_FIXED_LEN]).unwrap();
        let crc = crc32fast::hash(&bytes[..len - 4]);
        bytes[len - 4..len].copy_from_slice(&crc.to_le_bytes());
        let path = write(dir.path(), "old.tape", &bytes);
        let file = read(&path).unwrap();
        assert_eq!(file.version, 1);
        assert_eq!(file.records.len(), 6);
        assert_eq!(file.records[5].event, trade(6));
    }

    #[test]
    fn newer_versions_and_other_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let (mut bytes, _) = three_blocks([1, 1, 1]);
        let newer = super::super::TAPE_VERSION + 1;
        bytes[8..10].copy_from_slice(&newer.to_le_bytes());
        let path = write(dir.path(), "new.tape", &bytes);
        for err in [
            read(&path).unwrap_err(),
            Tape::open(&path, "x").unwrap_err(),
        ] {
            let text = err.to_string();
            assert!(matches!(
                err,
                TapeError::NewerVersion { found, supported, .. }
                    if found == newer && supported == newer - 1
            ));
            assert!(
                text.contains(&format!("version {newer}"))
                    && text.contains(&format!("up to version {}", newer - 1)),
                "{text}"
            );
            assert!(text.contains("new.tape"), "{text}");
        }
        let path = write(
            dir.path(),
            "notes.tape",
            b"hello, this is not a tape at all",
        );
        for err in [
            read(&path).unwrap_err(),
            Tape::open(&path, "x").unwrap_err(),
        ] {
            assert!(matches!(err, TapeError::NotATape { .. }), "{err}");
            assert!(err.to_string().contains("notes.tape"));
        }
        // Neither was changed.
        assert_eq!(
            fs::read(&path).unwrap(),
            b"hello, this is not a tape at all"
        );
        let err = read(&dir.path().join("missing.tape")).unwrap_err();
        assert!(matches!(err, TapeError::Io { .. }), "{err}");
    }

    #[test]
    fn an_empty_or_half_created_file_reads_empty_and_opens_anew() {
        let dir = tempfile::tempdir().unwrap();
        let mut header = Vec::new();
        encode_header("condor", &mut header);
        for cut in 0..header.len() {
            let path = write(dir.path(), "h.tape", &header[..cut]);
            let file = read(&path).unwrap();
            assert!(file.records.is_empty());
            assert_eq!(file.stopped.unwrap().bytes_left, cut as u64);
            let tape = Tape::open(&path, "fresh").unwrap();
            tape.recorder().record(1, TapeEvent::Stopped);
            assert_eq!(tape.sync().unwrap(), 1);
            drop(tape);
            let file = read(&path).unwrap();
            assert_eq!(file.writer, "fresh");
            assert_eq!(file.records.len(), 1);
            assert!(file.stopped.is_none());
        }
        let mut flipped = header.clone();
        flipped[12] ^= 1;
        let path = write(dir.path(), "bad-header.tape", &flipped);
        assert!(matches!(
            read(&path),
            Err(TapeError::Corrupt { offset: 0, .. })
        ));
    }

    /// Random bytes after a good header, and random bytes spliced into a good tape: reading
    /// never panics and what it returns is always a prefix of what was written.
    #[test]
    fn random_and_garbled_files_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = fastrand::Rng::with_seed(0xc0de);
        let mut good = Vec::new();
        encode_header("fuzz", &mut good);
        let n = every_kind().len() as u64;
        encode_block(1, &every_kind(), &mut good);
        encode_block(1 + n, &every_kind(), &mut good);
        let path = dir.path().join("good.tape");
        fs::write(&path, &good).unwrap();
        let all = read(&path).unwrap().records;
        assert_eq!(all.len() as u64, 2 * n);
        for round in 0..400 {
            let mut bytes = good.clone();
            match round % 3 {
                0 => {
                    bytes.truncate(format::decode_header(&good).unwrap().1);
                    bytes.extend((0..rng.usize(0..400)).map(|_| rng.u8(..)));
                }
                1 => {
                    for _ in 0..rng.usize(1..6) {
                        let i = rng.usize(24..bytes.len());
                        bytes[i] = rng.u8(..);
                    }
                }
                _ => {
                    let at = rng.usize(24..bytes.len());
                    let junk: Vec<u8> = (0..rng.usize(1..40)).map(|_| rng.u8(..)).collect();
                    bytes.splice(at..at, junk);
                }
            }
            fs::write(&path, &bytes).unwrap();
            match read(&path) {
                Ok(file) => {
                    assert!(file.records.len() <= all.len());
                    assert_eq!(file.records[..], all[..file.records.len()], "round {round}");
                }
                Err(e) => assert!(
                    matches!(
                        e,
                        TapeError::Corrupt { offset: 0, .. }
                            | TapeError::NotATape { .. }
                            | TapeError::NewerVersion { .. }
                    ),
                    "round {round}: {e}"
                ),
            }
        }
    }
}
