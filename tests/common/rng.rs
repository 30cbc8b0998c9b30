//! Randomness a failure can be replayed from.

/// The seed of `test`'s randomness: `CONDOR_TEST_SEED` if set, else `default`. Printed
/// (the harness shows a failed test's output), so a failure names the seed that replays
/// it.
pub fn seed(test: &str, default: u64) -> u64 {
    let seed = match std::env::var("CONDOR_TEST_SEED") {
        Ok(s) => s.parse().expect("CONDOR_TEST_SEED is a number"),
        Err(_) => default,
    };
    println!("{test}: seed {seed} (CONDOR_TEST_SEED={seed} replays it)");
    seed
}
