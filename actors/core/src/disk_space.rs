//! Disk space of the data directory: when new entries stop and when they resume
//! ([`SpaceWatch`], pure), what the disk has free ([`free_bytes`]), and the reserve file
//! freed for the journal when the disk is full ([`Reserve`]).
//!
//! Why a reserve, and why it is freed when the journal's own write finds the disk full
//! (not earlier, at some "critical" level): entries stop long before (below
//! `CONDOR_DISK_LOW`), but whatever else writes to the disk (the tape, the logs, another
//! program) goes on until it is full. Freed at the journal's failing write, the reserve's
//! bytes go to the journal at the moment it needs them, instead of to whichever writer
//! comes next; and a `write` that fails with ENOSPC leaves nothing durable behind it, so the
//! journal cuts the file back to its last whole record and writes the group again (a failed
//! `fdatasync` is never retried: the kernel may have dropped the pages). With the journal
//! still writing, exits, cancels, fills and the shutdown are journaled as usual, and the
//! rule that nothing leaves before it is journaled holds without exception.
//!
//! Must never: do its I/O on an actor's thread in the trading path ([`free_bytes`] and
//! [`Reserve::make`] are called from a blocking task; [`Reserve::release`] from the
//! journal's writer thread); remove a file but the reserve it made.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use fs4::FileExt;

/// When entries stop and resume, in bytes free on the data directory's disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpaceLimits {
    /// Below this, no new entries (`CONDOR_DISK_LOW`).
    pub low: u64,
    /// Entries resume at `low + resume_margin` free or more (`CONDOR_DISK_RESUME_MARGIN`),
    /// so that a disk hovering around `low` does not flip entries on and off.
    pub resume_margin: u64,
}

impl SpaceLimits {
    /// The free bytes at which entries resume.
    pub fn resume_at(&self) -> u64 {
        self.low.saturating_add(self.resume_margin)
    }
}

/// A change the trader is told of (once each way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpaceChange {
    /// Free space fell below `low`: entries stop.
    Low { free_bytes: u64 },
    /// Free space is back at `low + resume_margin` or more: entries resume.
    Back { free_bytes: u64 },
}

/// The low-space state with its hysteresis: fed each reading of the disk's free bytes,
/// answers the change, if any.
#[derive(Clone, Debug)]
pub struct SpaceWatch {
    limits: SpaceLimits,
    low: bool,
    free_bytes: Option<u64>,
}

impl SpaceWatch {
    pub fn new(limits: SpaceLimits) -> SpaceWatch {
        SpaceWatch {
            limits,
            low: false,
            free_bytes: None,
        }
    }

    /// One reading: `Some` when it changes whether entries may go.
    pub fn observe(&mut self, free_bytes: u64) -> Option<SpaceChange> {
        self.free_bytes = Some(free_bytes);
        if !self.low && free_bytes < self.limits.low {
            self.low = true;
            return Some(SpaceChange::Low { free_bytes });
        }
        if self.low && free_bytes >= self.limits.resume_at() {
            self.low = false;
            return Some(SpaceChange::Back { free_bytes });
        }
        None
    }

    /// Whether entries are stopped for want of space.
    pub fn is_low(&self) -> bool {
        self.low
    }

    /// The last reading.
    pub fn free_bytes(&self) -> Option<u64> {
        self.free_bytes
    }

    pub fn limits(&self) -> SpaceLimits {
        self.limits
    }
}

/// Bytes an unprivileged writer may still use on the disk holding `dir` (`statvfs`'s
/// `f_bavail × f_frsize`). A blocking system call: call it off the event loop.
pub fn free_bytes(dir: &Path) -> io::Result<u64> {
    fs4::available_space(dir)
}

/// The reserve file: disk blocks condor holds so that the journal can still write once the
/// disk is full (see the module docs for when it is freed).
#[derive(Debug)]
pub struct Reserve {
    path: PathBuf,
    bytes: u64,
    held: AtomicBool,
}

impl Reserve {
    /// Makes (or keeps) `path` a file of `bytes` allocated bytes: `fallocate`, or zeros
    /// written where the filesystem cannot allocate; synced. A file that cannot be made
    /// whole is removed and the error returned (condor then runs without a reserve).
    /// Blocking: call it off the event loop.
    pub fn make(path: &Path, bytes: u64) -> io::Result<Reserve> {
        let made = allocate(path, bytes);
        if made.is_err() {
            let _ = fs::remove_file(path);
        }
        made.map(|()| Reserve {
            path: path.to_path_buf(),
            bytes,
            held: AtomicBool::new(true),
        })
    }

    /// Removes the file (once) and returns the bytes freed; `None` when it was already
    /// freed or could not be removed (logged by the caller's `why`).
    pub fn release(&self, why: &str) -> Option<u64> {
        if self.held.swap(false, Ordering::AcqRel) {
            match fs::remove_file(&self.path) {
                Ok(()) => {
                    log::warn!(target: "condor::disk", "reserve {} freed ({} bytes): {why}", self.path.display(), self.bytes);
                    return Some(self.bytes);
                }
                Err(e) => {
                    log::error!(target: "condor::disk", "cannot free the reserve {}: {e} ({why})", self.path.display());
                }
            }
        }
        None
    }

    pub fn is_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn allocate(path: &Path, bytes: u64) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)?;
    if file.metadata()?.len() > bytes {
        file.set_len(bytes)?;
    }
    match FileExt::allocate(&file, bytes) {
        Ok(()) => {}
        // A filesystem without fallocate: the blocks are taken by writing them.
        Err(e) if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(95) => {
            write_zeros(&mut file, bytes)?
        }
        Err(e) => return Err(e),
    }
    file.sync_all()
}

fn write_zeros(file: &mut File, bytes: u64) -> io::Result<()> {
    use std::io::Seek;
    file.seek(io::SeekFrom::Start(0))?;
    let chunk = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: SpaceLimits = SpaceLimits {
        low: 1_000,
        resume_margin: 200,
    };

    #[test]
    fn entries_stop_below_low_and_resume_only_past_the_margin() {
        let mut w = SpaceWatch::new(LIMITS);
        assert_eq!(w.observe(5_000), None);
        assert!(!w.is_low());
        // Exactly `low` is still enough.
        assert_eq!(w.observe(1_000), None);
        assert_eq!(w.observe(999), Some(SpaceChange::Low { free_bytes: 999 }));
        assert!(w.is_low());
        // Said once: lower still, and back up inside the margin, change nothing.
        assert_eq!(w.observe(10), None);
        assert_eq!(w.observe(1_000), None);
        assert_eq!(w.observe(1_199), None);
        assert!(w.is_low());
        assert_eq!(
            w.observe(1_200),
            Some(SpaceChange::Back { free_bytes: 1_200 })
        );
        assert!(!w.is_low());
        assert_eq!(w.observe(1_100), None);
        assert_eq!(w.free_bytes(), Some(1_100));
        assert_eq!(w.observe(0), Some(SpaceChange::Low { free_bytes: 0 }));
    }

    #[test]
    fn a_margin_that_overflows_never_resumes_by_wrapping() {
        let limits = SpaceLimits {
            low: u64::MAX - 1,
            resume_margin: 10,
        };
        assert_eq!(limits.resume_at(), u64::MAX);
        let mut w = SpaceWatch::new(limits);
        assert_eq!(w.observe(5), Some(SpaceChange::Low { free_bytes: 5 }));
        assert_eq!(w.observe(u64::MAX - 1), None);
    }

    #[test]
    fn the_reserve_holds_its_blocks_until_released_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reserve");
        let before = free_bytes(dir.path()).unwrap();
        assert!(before > 0);
        let r = Reserve::make(&path, 256 * 1024).unwrap();
        let meta = fs::metadata(&path).unwrap();
        assert_eq!(meta.len(), 256 * 1024);
        {
            use std::os::unix::fs::MetadataExt;
            assert!(meta.blocks() * 512 >= 256 * 1024, "not allocated: {meta:?}");
        }
        assert!(r.is_held());
        // Made again at the next start: kept, same size, even from a larger one.
        let r2 = Reserve::make(&path, 128 * 1024).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 128 * 1024);
        assert_eq!(r2.release("test"), Some(128 * 1024));
        assert!(!path.exists());
        assert!(!r2.is_held());
        assert_eq!(r2.release("test again"), None);
        // The first handle's file is gone too: its release frees nothing.
        assert_eq!(r.release("test"), None);
    }
}
