//! Waiting for a condition, never for a time: every wait in the tests is one of these.

use std::time::Duration;

/// How long a test waits for something that should happen promptly. 30 s, the larger of
/// the two the tests had (the binary tests'), so no wait got shorter than it was: a
/// `condor run` child starts slowly on a shared 2-core machine building other tests.
/// Longer waits are a multiple of it. A test never asserts on how long anything took.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// How often a condition is looked at unless a wait says otherwise.
const EVERY: Duration = Duration::from_millis(20);

/// What a check answers: `true`/`Some`/`Ok` ends the wait; `Err` carries what was seen
/// instead, for the failure message.
pub trait Outcome {
    type Ready;
    fn ready(self) -> Result<Self::Ready, Option<String>>;
}

impl Outcome for bool {
    type Ready = ();
    fn ready(self) -> Result<(), Option<String>> {
        if self {
            Ok(())
        } else {
            Err(None)
        }
    }
}

impl<T> Outcome for Option<T> {
    type Ready = T;
    fn ready(self) -> Result<T, Option<String>> {
        self.ok_or(None)
    }
}

impl<T> Outcome for Result<T, String> {
    type Ready = T;
    fn ready(self) -> Result<T, Option<String>> {
        self.map_err(Some)
    }
}

impl<T> Outcome for Result<T, Option<String>> {
    type Ready = T;
    fn ready(self) -> Result<T, Option<String>> {
        self
    }
}

/// What is being waited for, in the failure message: text, or a function that describes
/// the state at the moment of giving up (a log's tail).
pub trait What {
    fn describe(&self) -> String;
}

impl What for &str {
    fn describe(&self) -> String {
        (*self).to_owned()
    }
}

impl What for &String {
    fn describe(&self) -> String {
        (*self).clone()
    }
}

impl What for String {
    fn describe(&self) -> String {
        self.clone()
    }
}

impl<F: Fn() -> String> What for F {
    fn describe(&self) -> String {
        self()
    }
}

/// A way of waiting: for at most `patience`, looking `every` so often.
#[derive(Clone, Copy, Debug)]
pub struct Poll {
    pub patience: Duration,
    pub every: Duration,
}

impl Default for Poll {
    fn default() -> Poll {
        Poll {
            patience: PATIENCE,
            every: EVERY,
        }
    }
}

impl Poll {
    /// Looks this often: a test that acts right after something happens (kills a process
    /// after a journal write) looks more often than the default.
    pub fn every(every: Duration) -> Poll {
        Poll {
            every,
            ..Poll::default()
        }
    }

    pub fn within(self, patience: Duration) -> Poll {
        Poll { patience, ..self }
    }

    /// Runs `check` until it is ready and returns what it gave; panics with `what` (and what
    /// `check` saw last) after the patience.
    pub async fn until<O: Outcome>(
        self,
        what: impl What,
        mut check: impl AsyncFnMut() -> O,
    ) -> O::Ready {
        let deadline = tokio::time::Instant::now() + self.patience;
        loop {
            let seen = match check().await.ready() {
                Ok(v) => return v,
                Err(seen) => seen,
            };
            if tokio::time::Instant::now() >= deadline {
                self.give_up(&what, seen);
            }
            tokio::time::sleep(self.every).await;
        }
    }

    /// [`Poll::until`] for a test without a runtime, blocking its thread.
    pub fn until_blocking<O: Outcome>(
        self,
        what: impl What,
        mut check: impl FnMut() -> O,
    ) -> O::Ready {
        let deadline = std::time::Instant::now() + self.patience;
        loop {
            let seen = match check().ready() {
                Ok(v) => return v,
                Err(seen) => seen,
            };
            if std::time::Instant::now() >= deadline {
                self.give_up(&what, seen);
            }
            std::thread::sleep(self.every);
        }
    }

    fn give_up(&self, what: &impl What, seen: Option<String>) -> ! {
        let what = what.describe();
        match seen {
            Some(seen) => panic!("gave up waiting {:?}: {what}: {seen}", self.patience),
            None => panic!("gave up waiting {:?}: {what}", self.patience),
        }
    }
}

/// Waits (for at most [`PATIENCE`]) until `check` is ready; returns what it gave.
pub async fn until<O: Outcome>(what: impl What, check: impl AsyncFnMut() -> O) -> O::Ready {
    Poll::default().until(what, check).await
}

/// [`until`] for a longer wait: a whole busy trading session, many lives of a process.
pub async fn until_within<O: Outcome>(
    patience: Duration,
    what: impl What,
    check: impl AsyncFnMut() -> O,
) -> O::Ready {
    Poll::default().within(patience).until(what, check).await
}

/// [`until`] blocking the thread, for a test without a runtime.
pub fn until_blocking<O: Outcome>(what: impl What, check: impl FnMut() -> O) -> O::Ready {
    Poll::default().until_blocking(what, check)
}
