//! Fuzz harness for every wire decoder, on the stable toolchain (no cargo-fuzz, no
//! nightly): for each seed and target it feeds N inputs made by mutating the target's
//! valid samples (plus some random bytes) to the decoder inside `catch_unwind`, and
//! counts what came back.
//!
//! Past the decoders, the `core` target feeds N arbitrary but decodable inputs (trades of
//! any price and quantity, account events, condition enters and exits, the broker's late
//! and repeated replies, timers) through the trading core, a fresh one a day of at most
//! 4,000 inputs (`tests/support/core_drive.rs`); its `ok` are inputs the core took, its
//! `err` trades `to_tick` refused, and a panic ends its day. A second line per seed says
//! what the core did (days, intents, orders sent, fills, refusals, kill-switch trips).
//!
//! ```sh
//! cargo run -p condor-actors --release --example fuzz_decoders -- \
//!     [--target NAME|core|all] [--inputs N] [--seed S] [--seeds K] [--jobs J] [--list]
//! ```
//!
//! `--seeds K` runs the K seeds S, S+1, …, S+K-1 (one by default), `--jobs J` that many
//! seeds at once. First the corpus's fixed regression inputs run once
//! (`wire_corpus::REGRESSIONS`); then each seed prints one line per target, `fuzz seed
//! <seed> <target> <inputs> inputs <ok> ok <err> err <panics> panics <elapsed> s`, and a
//! total. It exits non-zero if anything panicked, printing each panicking input (the
//! first three per seed and target) as a byte-string literal for a regression test, with
//! the flags that replay it. A target's inputs depend only on the seed and its name, so
//! `--target X --seed S` replays exactly what any run fed X under S.
//!
//! Release builds wrap on integer overflow instead of panicking; the first line says
//! whether overflow checks are on. `CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true` turns
//! them on, so the harness catches overflows as the debug-built tests do.

#[path = "../tests/support/core_drive.rs"]
mod core_drive;
#[path = "../tests/support/wire_corpus.rs"]
mod wire_corpus;

use std::cell::RefCell;
use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use wire_corpus::{as_text, escaped, generate, input_rng, Target, REGRESSIONS};

const USAGE: &str = "usage: fuzz_decoders [--target NAME|core|all] [--inputs N] [--seed S] [--seeds K] [--jobs J] [--list]";

/// Panicking inputs printed per seed and target; the count covers the rest.
const SHOWN_PANICS: u64 = 3;

struct Args {
    target: String,
    inputs: u64,
    seed: u64,
    seeds: u64,
    jobs: usize,
    list: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        target: "all".into(),
        inputs: 100_000,
        seed: 1,
        seeds: 1,
        jobs: 1,
        list: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let mut number = |name: &str| -> Result<u64, String> {
            let v = value(name)?;
            v.parse().map_err(|_| format!("{name} {v:?}: not a number"))
        };
        match flag.as_str() {
            "--target" => args.target = value("--target")?,
            "--inputs" => args.inputs = number("--inputs")?,
            "--seed" => args.seed = number("--seed")?,
            "--seeds" => args.seeds = number("--seeds")?.max(1),
            "--jobs" => args.jobs = usize::try_from(number("--jobs")?.max(1)).unwrap_or(1),
            "--list" => args.list = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.seed.checked_add(args.seeds - 1).is_none() {
        return Err(format!(
            "--seed {} --seeds {}: past u64",
            args.seed, args.seeds
        ));
    }
    Ok(args)
}

thread_local! {
    /// The last panic's message and place, kept by the hook for the report.
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let targets = wire_corpus::targets();
    if args.list {
        for t in &targets {
            println!("{} ({} samples)", t.name, t.samples.len());
        }
        println!("{CORE} (the trading core, from arbitrary decodable inputs)");
        return ExitCode::SUCCESS;
    }
    let chosen: Vec<&Target> = targets
        .iter()
        .filter(|t| args.target == "all" || t.name == args.target)
        .collect();
    let core = args.target == "all" || args.target == CORE;
    if chosen.is_empty() && !core {
        eprintln!("no target {:?}; --list shows them", args.target);
        return ExitCode::from(2);
    }

    // Panics are expected events here: record them quietly instead of printing a
    // backtrace per input.
    panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|p| *p.borrow_mut() = info.to_string());
    }));
    let last_seed = args.seed + (args.seeds - 1);
    println!(
        "fuzz seeds {}..={} ({}) inputs {} per target and seed, overflow checks {}, {} jobs",
        args.seed,
        last_seed,
        args.seeds,
        args.inputs,
        if overflow_checks() { "on" } else { "off" },
        args.jobs
    );

    let started = Instant::now();
    let regression_panics = run_regressions(&chosen);
    let next = AtomicU64::new(args.seed);
    let total = Mutex::new(Counts::default());
    std::thread::scope(|scope| {
        for _ in 0..args
            .jobs
            .min(usize::try_from(args.seeds).unwrap_or(usize::MAX))
        {
            scope.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed > last_seed || seed < args.seed {
                    break;
                }
                // A seed's lines are printed together, so jobs do not interleave them.
                let mut report = String::new();
                let mut of_seed = Counts::default();
                for target in &chosen {
                    let c = run(target, args.inputs, seed, &mut report);
                    let _ = writeln!(
                        report,
                        "fuzz seed {seed} {} {} inputs {} ok {} err {} panics {:.1} s",
                        target.name, c.inputs, c.ok, c.err, c.panics, c.secs
                    );
                    of_seed.add(&c);
                }
                if core {
                    let c = run_core(args.inputs, seed, &mut report);
                    of_seed.add(&c);
                }
                let _ = writeln!(
                    report,
                    "fuzz seed {seed} all {} inputs {} ok {} err {} panics {:.1} s",
                    of_seed.inputs, of_seed.ok, of_seed.err, of_seed.panics, of_seed.secs
                );
                print!("{report}");
                total.lock().unwrap().add(&of_seed);
            });
        }
    });
    let total = total.into_inner().unwrap();
    println!(
        "fuzz all {} seeds {} inputs {} ok {} err {} panics {} regression panics {:.1} s",
        args.seeds,
        total.inputs,
        total.ok,
        total.err,
        total.panics,
        regression_panics,
        started.elapsed().as_secs_f64()
    );
    if total.panics + regression_panics > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The name of the trading core's target.
const CORE: &str = "core";

/// The core target under `seed`: days of arbitrary inputs until `inputs` were fed, each
/// day inside `catch_unwind`.
fn run_core(inputs: u64, seed: u64, report: &mut String) -> Counts {
    let started = Instant::now();
    let mut tally = core_drive::CoreTally::default();
    let mut panics = 0;
    let mut day = 0;
    while tally.inputs < inputs {
        let before = tally.inputs;
        let left = inputs - tally.inputs;
        let day_seed = core_drive::day_seed(seed, day);
        let run = panic::catch_unwind(AssertUnwindSafe(|| {
            core_drive::run_day(day_seed, left, &mut tally)
        }));
        if run.is_err() {
            panics += 1;
            // A day that panicked before its first input still uses one.
            tally.inputs = tally.inputs.max(before + 1);
            if panics <= SHOWN_PANICS {
                let msg = LAST_PANIC.with(|p| p.borrow().clone());
                let _ = writeln!(
                    report,
                    "panic in {CORE} on day {day} of seed {seed}, input {} of the run (replay: --target {CORE} --seed {seed} --inputs {}): {msg}",
                    tally.inputs, tally.inputs
                );
            }
        }
        day += 1;
    }
    let t = tally;
    let _ = writeln!(
        report,
        "fuzz seed {seed} {CORE}: {} days {} intents {} orders sent {} fills {} refusals {} kill-switch trips",
        t.days, t.intents, t.sends, t.fills, t.refusals, t.trips
    );
    let secs = started.elapsed().as_secs_f64();
    let _ = writeln!(
        report,
        "fuzz seed {seed} {CORE} {} inputs {} ok {} err {panics} panics {secs:.1} s",
        t.inputs,
        t.inputs.saturating_sub(t.refused + panics),
        t.refused
    );
    Counts {
        inputs: t.inputs,
        ok: t.inputs.saturating_sub(t.refused + panics),
        err: t.refused,
        panics,
        secs,
    }
}

/// Whether `i64::MAX + 1` panics in this build.
fn overflow_checks() -> bool {
    panic::catch_unwind(|| std::hint::black_box(std::hint::black_box(i64::MAX) + 1)).is_err()
}

/// The corpus's fixed server frames (the cases earlier seeds found), once, if that
/// target is chosen.
fn run_regressions(chosen: &[&Target]) -> u64 {
    let Some(target) = chosen.iter().find(|t| t.name == "server_frame") else {
        return 0;
    };
    let mut panics = 0;
    for r in REGRESSIONS {
        if panic::catch_unwind(AssertUnwindSafe(|| (target.check)(r.input))).is_err() {
            panics += 1;
            let msg = LAST_PANIC.with(|p| p.borrow().clone());
            println!(
                "panic in server_frame on regression input ({}): {msg}\n  input: b\"{}\"",
                r.why,
                escaped(r.input.as_bytes())
            );
        }
    }
    panics
}

#[derive(Default)]
struct Counts {
    inputs: u64,
    ok: u64,
    err: u64,
    panics: u64,
    secs: f64,
}

impl Counts {
    fn add(&mut self, c: &Counts) {
        self.inputs += c.inputs;
        self.ok += c.ok;
        self.err += c.err;
        self.panics += c.panics;
        self.secs += c.secs;
    }
}

fn run(target: &Target, inputs: u64, seed: u64, report: &mut String) -> Counts {
    let mut rng = input_rng(seed, target);
    let mut c = Counts::default();
    let started = Instant::now();
    for n in 0..inputs {
        let input = generate(&mut rng, target);
        let text = as_text(&input);
        match panic::catch_unwind(AssertUnwindSafe(|| (target.check)(&text))) {
            Ok(Ok(())) => c.ok += 1,
            Ok(Err(_)) => c.err += 1,
            Err(_) => {
                c.panics += 1;
                if c.panics <= SHOWN_PANICS {
                    let msg = LAST_PANIC.with(|p| p.borrow().clone());
                    let _ = writeln!(
                        report,
                        "panic in {} on input {n} of seed {seed} (replay: --target {} --seed {seed} --inputs {}): {msg}\n  input (fed as from_utf8_lossy): b\"{}\"",
                        target.name,
                        target.name,
                        n + 1,
                        escaped(&input)
                    );
                }
            }
        }
        c.inputs += 1;
    }
    c.secs = started.elapsed().as_secs_f64();
    c
}
