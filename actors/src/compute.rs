//! Compute: a `SyncArbiter` pool for CPU-bound work (indicators over long windows, model
//! scoring), so the Processor's event loop never stalls. Results come back as messages
//! tagged with the tick sequence that asked, because N > 1 workers finish out of order.
//!
//! Owns nothing between jobs. Must never panic on a job: a panic would kill the worker
//! thread silently, so each job runs under `catch_unwind` and a panic becomes an error
//! result.

use std::panic::{catch_unwind, AssertUnwindSafe};

use actix::prelude::*;

use crate::market::Ticker;

const LOG: &str = "condor::compute";

/// What a job produced: a number for the strategy, or why it failed.
pub type JobOutput = Result<i64, String>;

/// One CPU-bound job.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Job {
    pub ticker: Ticker,
    /// The tick that asked for it; results arrive out of order and are matched by this.
    pub seq: u64,
    pub work: Box<dyn FnOnce() -> i64 + Send>,
    pub reply_to: Recipient<JobDone>,
}

/// A job's result, back on the asker's mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct JobDone {
    pub ticker: Ticker,
    pub seq: u64,
    pub output: JobOutput,
}

pub struct Compute;

impl Actor for Compute {
    type Context = SyncContext<Self>;
}

impl Handler<Job> for Compute {
    type Result = ();
    fn handle(&mut self, job: Job, _: &mut SyncContext<Self>) {
        let output = catch_unwind(AssertUnwindSafe(job.work)).map_err(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            log::error!(target: LOG, "{} job #{} panicked: {why}", job.ticker, job.seq);
            why
        });
        job.reply_to.do_send(JobDone {
            ticker: job.ticker,
            seq: job.seq,
            output,
        });
    }
}

/// Starts `threads` workers (at least one).
pub fn start_pool(threads: usize) -> Addr<Compute> {
    SyncArbiter::start(threads.max(1), || Compute)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect(
        Vec<JobDone>,
        usize,
        Option<tokio::sync::oneshot::Sender<Vec<JobDone>>>,
    );
    impl Actor for Collect {
        type Context = Context<Self>;
    }
    impl Handler<JobDone> for Collect {
        type Result = ();
        fn handle(&mut self, done: JobDone, _: &mut Context<Self>) {
            self.0.push(done);
            if self.0.len() == self.1 {
                if let Some(tx) = self.2.take() {
                    let _ = tx.send(std::mem::take(&mut self.0));
                }
            }
        }
    }

    #[actix_rt::test]
    async fn results_carry_their_seq_and_a_panic_is_an_error_not_a_dead_worker() {
        let pool = start_pool(2);
        let (tx, rx) = tokio::sync::oneshot::channel();
        let collect = Collect(Vec::new(), 3, Some(tx)).start();
        let t = Ticker::parse("005930").unwrap();
        pool.do_send(Job {
            ticker: t,
            seq: 1,
            work: Box::new(|| (1..=1000).sum()),
            reply_to: collect.clone().recipient(),
        });
        pool.do_send(Job {
            ticker: t,
            seq: 2,
            work: Box::new(|| panic!("bad model")),
            reply_to: collect.clone().recipient(),
        });
        pool.do_send(Job {
            ticker: t,
            seq: 3,
            work: Box::new(|| 7),
            reply_to: collect.recipient(),
        });
        let mut done = rx.await.unwrap();
        done.sort_by_key(|d| d.seq);
        assert_eq!(done[0].output, Ok(500_500));
        assert_eq!(done[1].output, Err("bad model".to_owned()));
        assert_eq!(done[2].output, Ok(7));
    }
}
