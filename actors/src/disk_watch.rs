//! DiskWatch: the data directory's free space, read every few seconds. Below
//! `CONDOR_DISK_LOW` it tells the OrderManager ([`DiskSpace`]: the desk refuses new entries
//! by `disk_space`, exits and cancels still go), the trader once (a [`DiskAlert`] through
//! the Notifier) and `/status` (the `disk_*` gauges); back above the threshold plus the
//! margin, the same once more. It also reports the reserve the journal freed
//! ([`ReserveFreed`], sent from the journal's writer thread) and checks at once.
//!
//! Owns: the low/back state ([`SpaceWatch`], pure), the check timer, and its handle on the
//! reserve (to report whether it is held). Lives as long as the day's OrderManager: when
//! that is gone it stops itself.
//!
//! Must never: call `statvfs` on its own thread (a blocking task does, one at a time, and
//! the reading comes back here); decide about orders (the desk does, and replays it); tell
//! a change twice; remove anything (the journal's hook frees the reserve).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;

use crate::disk_space::{free_bytes, Reserve, SpaceChange, SpaceLimits, SpaceWatch};
use crate::messages::{Alert, DiskAlert, DiskSpace};
use crate::retention::ByteSize;
use crate::telemetry::Meters;

const LOG: &str = "condor::disk";

/// How often the free space is read by default (`CONDOR_DISK_CHECK_SECS`).
pub const DEFAULT_EVERY: Duration = Duration::from_secs(10);

/// The journal freed the reserve (`bytes`) because its write found the disk full.
#[derive(Clone, Copy, Debug, Message)]
#[rtype(result = "()")]
pub struct ReserveFreed {
    pub bytes: u64,
}

/// A reading of the free space, back from the blocking task.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Reading(Result<u64, String>);

/// See the module docs.
pub struct DiskWatch {
    dir: PathBuf,
    watch: SpaceWatch,
    every: Duration,
    orders: Recipient<DiskSpace>,
    notifier: Option<Recipient<Alert>>,
    meters: Option<Arc<Meters>>,
    reserve: Option<Arc<Reserve>>,
    /// A reading is on its way: no second one meanwhile.
    reading: bool,
    /// The last reading failed (said once until one succeeds).
    unreadable: bool,
}

impl DiskWatch {
    /// Watches the disk holding `dir` every `every`, telling `orders` when entries stop and
    /// resume under `limits`.
    pub fn new(
        dir: PathBuf,
        limits: SpaceLimits,
        every: Duration,
        orders: Recipient<DiskSpace>,
    ) -> DiskWatch {
        DiskWatch {
            dir,
            watch: SpaceWatch::new(limits),
            every,
            orders,
            notifier: None,
            meters: None,
            reserve: None,
            reading: false,
            unreadable: false,
        }
    }

    pub fn with_notifier(mut self, notifier: Option<Recipient<Alert>>) -> DiskWatch {
        self.notifier = notifier;
        self
    }

    pub fn with_meters(mut self, meters: Option<Arc<Meters>>) -> DiskWatch {
        self.meters = meters;
        self
    }

    /// The reserve the journal frees when the disk is full (shown in the gauges).
    pub fn with_reserve(mut self, reserve: Option<Arc<Reserve>>) -> DiskWatch {
        self.reserve = reserve;
        self
    }

    fn alert(&self, alert: DiskAlert) {
        if let Some(to) = &self.notifier {
            to.do_send(Alert::Disk(alert));
        }
    }

    fn read(&mut self, ctx: &mut Context<Self>) {
        if !self.orders.connected() {
            log::debug!(target: LOG, "the order manager is gone: the disk watch stops");
            ctx.stop();
            return;
        }
        if self.reading {
            return;
        }
        self.reading = true;
        let dir = self.dir.clone();
        let me = ctx.address();
        // statvfs can block on a sick disk or a network filesystem: never on this thread.
        actix_rt::spawn(async move {
            let reading = tokio::task::spawn_blocking(move || free_bytes(&dir))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            me.do_send(Reading(reading));
        });
    }

    fn gauges(&self) {
        if let Some(m) = &self.meters {
            if let Some(free) = self.watch.free_bytes() {
                m.disk_free_bytes
                    .set(i64::try_from(free).unwrap_or(i64::MAX));
            }
            m.disk_low.set(i64::from(self.watch.is_low()));
            let held = self
                .reserve
                .as_ref()
                .filter(|r| r.is_held())
                .map_or(0, |r| r.bytes());
            m.disk_reserve_bytes
                .set(i64::try_from(held).unwrap_or(i64::MAX));
        }
    }
}

impl Actor for DiskWatch {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        let limits = self.watch.limits();
        log::info!(
            target: LOG,
            "watching {}: no new entries under {} free, again from {}; every {} s; reserve {}",
            self.dir.display(),
            ByteSize(limits.low),
            ByteSize(limits.resume_at()),
            self.every.as_secs(),
            self.reserve
                .as_ref()
                .map_or_else(|| "none".to_owned(), |r| format!("{} at {}", ByteSize(r.bytes()), r.path().display()))
        );
        self.gauges();
        self.read(ctx);
        ctx.run_interval(self.every, |act, ctx| act.read(ctx));
    }
}

impl Handler<Reading> for DiskWatch {
    type Result = ();
    fn handle(&mut self, msg: Reading, _: &mut Context<Self>) {
        self.reading = false;
        let free = match msg.0 {
            Ok(free) => free,
            Err(e) => {
                if !std::mem::replace(&mut self.unreadable, true) {
                    log::warn!(target: LOG, "cannot read the free space of {}: {e}; entries go on as they were", self.dir.display());
                }
                return;
            }
        };
        self.unreadable = false;
        let limits = self.watch.limits();
        match self.watch.observe(free) {
            Some(SpaceChange::Low { free_bytes }) => {
                log::warn!(target: LOG, "disk space low: {} free in {}, under {} (CONDOR_DISK_LOW): no new entries; exits and cancels still go", ByteSize(free_bytes), self.dir.display(), ByteSize(limits.low));
                self.orders.do_send(DiskSpace {
                    low: true,
                    free_bytes,
                });
                self.alert(DiskAlert::Low {
                    free_bytes,
                    low: limits.low,
                });
            }
            Some(SpaceChange::Back { free_bytes }) => {
                log::info!(target: LOG, "disk space back: {} free in {}: entries resume", ByteSize(free_bytes), self.dir.display());
                self.orders.do_send(DiskSpace {
                    low: false,
                    free_bytes,
                });
                self.alert(DiskAlert::Back {
                    free_bytes,
                    resume_at: limits.resume_at(),
                });
            }
            None => {}
        }
        self.gauges();
    }
}

impl Handler<ReserveFreed> for DiskWatch {
    type Result = ();
    fn handle(&mut self, msg: ReserveFreed, ctx: &mut Context<Self>) {
        self.alert(DiskAlert::ReserveFreed { bytes: msg.bytes });
        self.gauges();
        self.read(ctx);
    }
}
