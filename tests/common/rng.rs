//! Randomness a failure can be replayed from: every random test draws from [`seeded`].

/// The seed: `CONDOR_TEST_SEED` if set, else `default`. Printed, so the output of a failed
/// test names the seed that replays it.
pub fn seed(test: &str, default: u64) -> u64 {
    let seed = match std::env::var("CONDOR_TEST_SEED") {
        Ok(s) => s.parse().expect("CONDOR_TEST_SEED is a number"),
        Err(_) => default,
    };
    println!("{test}: seed {seed} (CONDOR_TEST_SEED={seed} replays it)");
    seed
}

/// A generator seeded by [`seed`].
pub fn seeded(test: &str, default: u64) -> fastrand::Rng {
    fastrand::Rng::with_seed(seed(test, default))
}
