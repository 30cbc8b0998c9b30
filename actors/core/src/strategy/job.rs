//! Work a strategy hands off the event loop ([`ComputeJob`]) and its answer ([`JobAnswer`]).
//!
//! A strategy asks for at most one job per tick, from `on_tick`, through
//! [`super::Strategy::take_job`]; the job is a closure over data the strategy moved or
//! cloned into it (never a reference to its live state). Live, it runs in the Compute pool
//! while the Processor keeps handling ticks; `condor replay` and `condor backtest` run it
//! inline. Its answer is whole numbers so a replay can compare it exactly.
//!
//! What the strategy sees: the answer comes back through `on_job_done`, tagged with the
//! sequence number of the tick that asked (`asked_on`). Live, ticks that arrived after
//! that tick may already have been handed to `on_tick` (the loop did not wait); the answer
//! never comes before the tick that asked, and never after the ticker left the condition
//! (이탈) since it asked: such an answer is dropped and counted. Replay delivers each answer
//! where the live run's tape says it arrived; a backtest delivers it right after the tick
//! that asked (no compute latency).
//!
//! Must never hold actix types or a clock: the pool and the drivers own the running.

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A job's answer: whole numbers, or why it failed (a panic inside it, caught).
pub type JobOutput = Result<Vec<i64>, String>;

/// CPU-heavy work for the Compute pool; see the module docs.
pub struct ComputeJob {
    work: Box<dyn FnOnce() -> Vec<i64> + Send>,
}

impl ComputeJob {
    pub fn new(work: impl FnOnce() -> Vec<i64> + Send + 'static) -> ComputeJob {
        ComputeJob {
            work: Box::new(work),
        }
    }

    /// Runs the job on this thread. A panic inside it is caught and becomes the error
    /// (a panicking job must not take a pool worker, or a replay, down with it).
    pub fn run(self) -> JobOutput {
        catch_unwind(AssertUnwindSafe(self.work)).map_err(|panic| {
            panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the job panicked".to_owned())
        })
    }
}

impl fmt::Debug for ComputeJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ComputeJob")
    }
}

/// The answer to a job, as its strategy receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobAnswer {
    /// The sequence number of the tick whose `on_tick` asked for the job.
    pub asked_on: u64,
    pub output: JobOutput,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_runs_and_a_panic_becomes_its_error() {
        assert_eq!(ComputeJob::new(|| vec![1, 2]).run(), Ok(vec![1, 2]));
        let e = ComputeJob::new(|| panic!("window empty")).run();
        assert_eq!(e, Err("window empty".to_owned()));
        let e = ComputeJob::new(|| panic!("{} trades", 3)).run();
        assert_eq!(e, Err("3 trades".to_owned()));
    }
}
