//! Disk space at `condor run`: the settings (`CONDOR_DISK_LOW`, `CONDOR_DISK_RESUME_MARGIN`,
//! `CONDOR_DISK_RESERVE`, `CONDOR_DISK_CHECK_SECS`) and, at the start of each day's engine,
//! the reserve file made, the DiskWatch started and the journal told to free the reserve
//! when its write finds the disk full (`condor_actors::disk_space` says why then).
//!
//! A thin shell: the decisions are the watch's (`SpaceWatch`) and the desk's (the
//! `disk_space` rule). Never blocks the event loop (the reserve is made on a blocking task).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use clap::Args;
use condor_actors::disk_space::{Reserve, SpaceLimits};
use condor_actors::disk_watch::{DiskWatch, ReserveFreed};
use condor_actors::journal::Journal;
use condor_actors::notifier::Notifier;
use condor_actors::order_manager::OrderManager;
use condor_actors::retention::ByteSize;
use condor_actors::telemetry::Meters;

const LOG: &str = "condor::disk";

/// The reserve's file in the data directory.
pub const RESERVE_FILE: &str = "reserve";

/// When entries stop for want of disk space, and the reserve kept for the journal.
#[derive(Args, Debug, Clone)]
pub struct DiskArgs {
    /// Free space on the data directory's disk under which new entries stop (exits and
    /// cancels still go), e.g. 500MiB or 1GB; said once on Discord/Telegram and in
    /// /status. `0` never stops them.
    #[arg(
        long,
        env = "CONDOR_DISK_LOW",
        value_name = "SIZE",
        default_value = "500MiB",
        help_heading = "Disk space"
    )]
    pub disk_low: String,
    /// Entries resume once free space is back at CONDOR_DISK_LOW plus this much, so a disk
    /// hovering at the threshold does not turn them on and off.
    #[arg(
        long,
        env = "CONDOR_DISK_RESUME_MARGIN",
        value_name = "SIZE",
        default_value = "100MiB",
        help_heading = "Disk space"
    )]
    pub disk_resume_margin: String,
    /// Bytes preallocated at each start in `<data-dir>/reserve` and freed when a journal
    /// write finds the disk full, so exits, cancels and the shutdown are still journaled.
    /// `0`: no reserve.
    #[arg(
        long,
        env = "CONDOR_DISK_RESERVE",
        value_name = "SIZE",
        default_value = "64MiB",
        help_heading = "Disk space"
    )]
    pub disk_reserve: String,
    /// Seconds between two readings of the free space (statvfs, off the event loop).
    #[arg(
        long,
        env = "CONDOR_DISK_CHECK_SECS",
        value_name = "SECS",
        default_value = "10",
        value_parser = clap::value_parser!(u64).range(1..=3600),
        help_heading = "Disk space"
    )]
    pub disk_check_secs: u64,
}

/// The disk settings, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskSettings {
    pub limits: SpaceLimits,
    pub reserve_bytes: u64,
    pub every: Duration,
}

impl DiskArgs {
    /// The settings; a bad value is an error naming its variable and flag.
    pub fn settings(&self) -> anyhow::Result<DiskSettings> {
        let size = |var: &str, flag: &str, v: &str| {
            ByteSize::parse(v)
                .map(|b| b.0)
                .map_err(|e| anyhow::anyhow!("{var} ({flag}): {e}"))
        };
        Ok(DiskSettings {
            limits: SpaceLimits {
                low: size("CONDOR_DISK_LOW", "--disk-low", &self.disk_low)?,
                resume_margin: size(
                    "CONDOR_DISK_RESUME_MARGIN",
                    "--disk-resume-margin",
                    &self.disk_resume_margin,
                )?,
            },
            reserve_bytes: size("CONDOR_DISK_RESERVE", "--disk-reserve", &self.disk_reserve)?,
            every: Duration::from_secs(self.disk_check_secs),
        })
    }
}

/// At the start of a day's engine: makes the reserve in `data_dir` (or keeps it), starts
/// the DiskWatch for `orders`, and has `journal` free the reserve when it finds the disk
/// full. `None`: no watch, no reserve (tests, embedders that manage their disk).
pub async fn start(
    settings: Option<&DiskSettings>,
    data_dir: &Path,
    journal: &Journal,
    orders: &Addr<OrderManager>,
    notifier: Option<&Addr<Notifier>>,
    meters: Option<Arc<Meters>>,
) {
    let Some(s) = settings else { return };
    let reserve = if s.reserve_bytes > 0 {
        let path = data_dir.join(RESERVE_FILE);
        let bytes = s.reserve_bytes;
        let made = tokio::task::spawn_blocking(move || {
            Reserve::make(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
        match made {
            Ok(r) => Some(Arc::new(r)),
            Err(e) => {
                log::warn!(target: LOG, "no disk reserve ({} asked, CONDOR_DISK_RESERVE): {e}; a full disk will stop the journal", ByteSize(bytes));
                None
            }
        }
    } else {
        None
    };
    let watch = DiskWatch::new(
        data_dir.to_path_buf(),
        s.limits,
        s.every,
        orders.clone().recipient(),
    )
    .with_notifier(notifier.map(|n| n.clone().recipient()))
    .with_meters(meters)
    .with_reserve(reserve.clone())
    .start();
    if let Some(reserve) = reserve {
        journal.on_storage_full(Box::new(move || {
            match reserve.release("a journal write found the disk full") {
                Some(bytes) => {
                    watch.do_send(ReserveFreed { bytes });
                    true
                }
                None => false,
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(low: &str, margin: &str, reserve: &str) -> DiskArgs {
        DiskArgs {
            disk_low: low.to_owned(),
            disk_resume_margin: margin.to_owned(),
            disk_reserve: reserve.to_owned(),
            disk_check_secs: 10,
        }
    }

    #[test]
    fn the_defaults_and_sizes_read_as_written() {
        let s = args("500MiB", "100MiB", "64MiB").settings().unwrap();
        assert_eq!(s.limits.low, 500 << 20);
        assert_eq!(s.limits.resume_at(), 600 << 20);
        assert_eq!(s.reserve_bytes, 64 << 20);
        assert_eq!(s.every, Duration::from_secs(10));
        let s = args("1GB", "0", "0").settings().unwrap();
        assert_eq!((s.limits.low, s.reserve_bytes), (1_000_000_000, 0));
    }

    #[test]
    fn a_bad_size_names_its_variable() {
        let e = args("500M", "100MiB", "64MiB").settings().unwrap_err();
        assert!(
            e.to_string()
                .starts_with("CONDOR_DISK_LOW (--disk-low): \"500M\" is not a size"),
            "{e}"
        );
        let e = args("1GiB", "lots", "64MiB").settings().unwrap_err();
        assert!(
            e.to_string().starts_with("CONDOR_DISK_RESUME_MARGIN"),
            "{e}"
        );
        let e = args("1GiB", "1MiB", "-1").settings().unwrap_err();
        assert!(e.to_string().starts_with("CONDOR_DISK_RESERVE"), "{e}");
    }
}
