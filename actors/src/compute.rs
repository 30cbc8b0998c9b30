//! Compute: a `SyncArbiter` pool for CPU-bound work (indicators over long windows, model
//! scoring), so the Processor's event loop never stalls. Results come back as messages
//! tagged with the tick sequence that asked, because N > 1 workers finish out of order.
//!
//! Owns nothing between jobs. Must never panic on a job: a panic would kill the worker
//! thread silently, so each job runs under `catch_unwind` ([`ComputeJob::run`]) and a
//! panic becomes an error answer.

use actix::prelude::*;

use crate::strategy::{ComputeJob, JobOutput};
use crate::trading::strategies::JobTicket;

const LOG: &str = "condor::compute";

/// One CPU-bound job a strategy asked for.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Job {
    /// Whose it is; answers arrive out of order (N > 1 workers) and are matched by this.
    pub ticket: JobTicket,
    pub job: ComputeJob,
    pub reply_to: Recipient<JobDone>,
}

/// A job's answer, back on the asker's mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Message)]
#[rtype(result = "()")]
pub struct JobDone {
    pub ticket: JobTicket,
    pub output: JobOutput,
}

pub struct Compute;

impl Actor for Compute {
    type Context = SyncContext<Self>;
}

impl Handler<Job> for Compute {
    type Result = ();
    fn handle(&mut self, job: Job, _: &mut SyncContext<Self>) {
        let output = job.job.run();
        if let Err(why) = &output {
            log::error!(target: LOG, "{} job of tick #{} failed: {why}", job.ticket.ticker, job.ticket.asked_on);
        }
        job.reply_to.do_send(JobDone {
            ticket: job.ticket,
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
    use crate::market::Ticker;

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
        let jobs: [(u64, ComputeJob); 3] = [
            (1, ComputeJob::new(|| vec![(1..=1000).sum()])),
            (2, ComputeJob::new(|| panic!("bad model"))),
            (3, ComputeJob::new(|| vec![7])),
        ];
        for (seq, job) in jobs {
            pool.do_send(Job {
                ticket: JobTicket::new(t, seq, None),
                job,
                reply_to: collect.clone().recipient(),
            });
        }
        let mut done = rx.await.unwrap();
        done.sort_by_key(|d| d.ticket.asked_on);
        assert_eq!(done[0].output, Ok(vec![500_500]));
        assert_eq!(done[1].output, Err("bad model".to_owned()));
        assert_eq!(done[2].output, Ok(vec![7]));
    }
}
