//! The trading core fed arbitrary but decodable inputs, as the fuzz harness's `core`
//! target feeds it (`tests/support/core_drive.rs`), for a few seeds: strategies, risk
//! gate, order engine and ledger take trades of any price and quantity, account events
//! for known and unknown orders, duplicates and late replies without a panic. Tests
//! build with overflow checks, so an overflow anywhere is a panic here.

#[path = "support/core_drive.rs"]
mod core_drive;

use core_drive::{day_seed, run_day, CoreTally};

/// Inputs per seed: a few seconds for all seeds in a debug build.
const INPUTS: u64 = 20_000;

/// A fixed seed and two random ones a run (printed, so a failure replays:
/// `CONDOR_FUZZ_SEEDS=S cargo test -p condor-actors --test core_inputs`, or the harness
/// with `--target core --seed S`).
#[test]
fn the_core_takes_arbitrary_decodable_inputs_without_a_panic() {
    let seeds: Vec<u64> = match std::env::var("CONDOR_FUZZ_SEEDS") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("CONDOR_FUZZ_SEEDS: numbers, comma-separated")
            })
            .collect(),
        Err(_) => [20261207]
            .into_iter()
            .chain((0..2).map(|_| fastrand::u64(..)))
            .collect(),
    };
    let mut all = CoreTally::default();
    let mut failures = Vec::new();
    for &seed in &seeds {
        let mut tally = CoreTally::default();
        let mut day = 0;
        while tally.inputs < INPUTS {
            let before = tally.inputs;
            let left = INPUTS - tally.inputs;
            let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run_day(day_seed(seed, day), left, &mut tally)
            }));
            if run.is_err() {
                tally.inputs = tally.inputs.max(before + 1);
                failures.push(format!(
                    "seed {seed} day {day}: replay with the harness: --target core --seed {seed} --inputs {}",
                    tally.inputs
                ));
            }
            day += 1;
        }
        println!("core seed {seed}: {tally:?}");
        all.add(&tally);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The inputs reached every part of the core: strategies that ordered, orders sent,
    // fills booked, the risk gate refusing, and the kill switch.
    assert!(
        all.intents > 0 && all.sends > 0 && all.fills > 0 && all.refusals > 0 && all.trips > 0,
        "{all:?}"
    );
}
