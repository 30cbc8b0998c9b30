//! Opening one of the engine's append-only files (the journal, the tape) so that what is
//! written to it survives a crash and nothing else writes it: its directories created with
//! their entries synced, the file opened for appending and exclusively locked.
//!
//! Owns nothing; plain functions. Must never leave a new file whose directory entry is not
//! durable, and never hand out a file another writer holds.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use fs4::{FileExt, TryLockError};

use crate::clock::TradingDay;

/// Why a file could not be opened: another writer holds it, or an I/O step failed.
#[derive(Debug)]
pub enum OpenError {
    Locked,
    Io {
        action: &'static str,
        source: io::Error,
    },
}

/// The directory `path` is in (`.` for a bare file name).
pub fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Opens (creating) `path` for reading and appending, with an exclusive advisory lock
/// (flock: released when the process dies). The directories it creates, and the file's own
/// entry, are synced before it returns, so a new file's records are never lost with it.
pub fn open_locked_append(path: &Path) -> Result<File, OpenError> {
    let io = |action| move |source| OpenError::Io { action, source };
    let parent = parent_of(path);
    // Directories about to be created: each one's entry in its parent must be synced too.
    let mut created = Vec::new();
    let mut dir = parent;
    while !dir.exists() {
        created.push(dir);
        match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => dir = p,
            _ => break,
        }
    }
    fs::create_dir_all(parent).map_err(io("create its directory"))?;
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io("open the file"))?;
    // Called through the trait: std's own `File::try_lock` is newer than rust-version.
    match FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(OpenError::Locked),
        Err(TryLockError::Error(e)) => return Err(io("lock the file")(e)),
    }
    sync_dir(parent).map_err(io("sync its directory"))?;
    for dir in &created {
        sync_dir(parent_of(dir)).map_err(io("sync a new directory"))?;
    }
    Ok(file)
}

/// The per-day files in `dir` named `{prefix}YYYY-MM-DD{suffix}`: (the day, the path), in
/// date order. Other files and directories are ignored; a missing directory has none.
pub fn list_days(dir: &Path, prefix: &str, suffix: &str) -> io::Result<Vec<(String, PathBuf)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut days = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(day) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|n| n.strip_suffix(suffix))
        else {
            continue;
        };
        if day.parse::<TradingDay>().is_ok() && !entry.file_type()?.is_dir() {
            days.push((day.to_owned(), entry.path()));
        }
    }
    // YYYY-MM-DD sorts by date as text.
    days.sort();
    Ok(days)
}

/// Whether a writer (a running condor's journal or tape) holds `path`'s lock now.
pub fn is_held(path: &Path) -> io::Result<bool> {
    let file = File::open(path)?;
    match FileExt::try_lock_shared(&file) {
        Ok(()) => Ok(false),
        Err(TryLockError::WouldBlock) => Ok(true),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Removes `path` unless a writer holds it; `Ok(false)` when held. The lock is held over
/// the unlink, so a writer opening the file meanwhile is refused (locked) instead of
/// appending to a file that is about to vanish.
pub fn remove_unless_held(path: &Path) -> io::Result<bool> {
    let file = File::open(path)?;
    match FileExt::try_lock(&file) {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(false),
        Err(TryLockError::Error(e)) => return Err(e),
    }
    fs::remove_file(path)?;
    sync_dir(parent_of(path))?;
    Ok(true)
}

/// Makes `dir`'s entries (a file created or renamed in it) durable.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Directories cannot be opened as files here; the file's own sync has to do.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_the_directories_and_refuses_a_second_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/day.log");
        let file = open_locked_append(&path).unwrap();
        assert!(path.exists());
        assert!(matches!(open_locked_append(&path), Err(OpenError::Locked)));
        drop(file);
        assert!(
            open_locked_append(&path).is_ok(),
            "the lock goes with the file"
        );
        assert_eq!(parent_of(Path::new("x.log")), Path::new("."));
    }

    #[test]
    fn a_held_file_is_not_removed_and_a_free_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("day.tape");
        let writer = open_locked_append(&path).unwrap();
        assert!(is_held(&path).unwrap());
        assert!(!remove_unless_held(&path).unwrap());
        assert!(path.exists());
        drop(writer);
        assert!(!is_held(&path).unwrap());
        assert!(remove_unless_held(&path).unwrap());
        assert!(!path.exists());
        assert!(
            remove_unless_held(&path).is_err(),
            "gone: an error, not a quiet success"
        );
    }

    #[test]
    fn days_are_listed_in_date_order_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "j-2026-12-04.log",
            "j-2026-12-03.log",
            "j-2026-13-01.log",
            "notes.txt",
        ] {
            fs::write(dir.path().join(name), b"").unwrap();
        }
        fs::create_dir(dir.path().join("j-2026-12-05.log")).unwrap();
        let days = list_days(dir.path(), "j-", ".log").unwrap();
        let names: Vec<&str> = days.iter().map(|(d, _)| d.as_str()).collect();
        assert_eq!(names, ["2026-12-03", "2026-12-04"]);
        assert!(list_days(&dir.path().join("none"), "j-", ".log")
            .unwrap()
            .is_empty());
    }
}
