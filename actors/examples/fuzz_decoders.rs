//! Fuzz harness for every wire decoder, on the stable toolchain (no cargo-fuzz, no
//! nightly): for each target it feeds N inputs made by mutating the target's valid
//! samples (plus some random bytes) to the decoder inside `catch_unwind`, and counts what
//! came back.
//!
//! ```sh
//! cargo run -p condor-actors --release --example fuzz_decoders -- \
//!     [--target NAME|all] [--inputs N] [--seed S] [--list]
//! ```
//!
//! Prints one line per target, `fuzz <target> <inputs> inputs <ok> ok <err> err <panics>
//! panics <elapsed> s`, and exits non-zero if anything panicked, printing each panicking
//! input (the first three per target) as a byte-string literal for a regression test.
//! A target's inputs depend only on the seed and its name, so `--target X` replays
//! exactly what `--target all` fed X.
//!
//! Release builds wrap on integer overflow instead of panicking; the first line says
//! whether overflow checks are on. `CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true` turns
//! them on, so the harness catches overflows as the debug-built tests do.

#[path = "../tests/support/wire_corpus.rs"]
mod wire_corpus;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;
use std::time::Instant;

use wire_corpus::{as_text, escaped, Mutation, Target, TOKENS, VALUES};

const USAGE: &str = "usage: fuzz_decoders [--target NAME|all] [--inputs N] [--seed S] [--list]";

/// Panicking inputs printed per target; the count covers the rest.
const SHOWN_PANICS: u64 = 3;

struct Args {
    target: String,
    inputs: u64,
    seed: u64,
    list: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        target: "all".into(),
        inputs: 100_000,
        seed: 1,
        list: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--target" => args.target = value("--target")?,
            "--inputs" => {
                let v = value("--inputs")?;
                args.inputs = v
                    .parse()
                    .map_err(|_| format!("--inputs {v:?}: not a count"))?;
            }
            "--seed" => {
                let v = value("--seed")?;
                args.seed = v
                    .parse()
                    .map_err(|_| format!("--seed {v:?}: not a number"))?;
            }
            "--list" => args.list = true,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
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
        return ExitCode::SUCCESS;
    }
    let chosen: Vec<&Target> = targets
        .iter()
        .filter(|t| args.target == "all" || t.name == args.target)
        .collect();
    if chosen.is_empty() {
        eprintln!("no target {:?}; --list shows them", args.target);
        return ExitCode::from(2);
    }

    // Panics are expected events here: record them quietly instead of printing a
    // backtrace per input.
    panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|p| *p.borrow_mut() = info.to_string());
    }));
    println!(
        "fuzz seed {} inputs {} per target, overflow checks {}",
        args.seed,
        args.inputs,
        if overflow_checks() { "on" } else { "off" }
    );

    let started = Instant::now();
    let mut total = Counts::default();
    for target in chosen {
        let c = run(target, args.inputs, args.seed);
        println!(
            "fuzz {} {} inputs {} ok {} err {} panics {:.1} s",
            target.name, c.inputs, c.ok, c.err, c.panics, c.secs
        );
        total.add(&c);
    }
    println!(
        "fuzz all {} inputs {} ok {} err {} panics {:.1} s",
        total.inputs,
        total.ok,
        total.err,
        total.panics,
        started.elapsed().as_secs_f64()
    );
    if total.panics > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Whether `i64::MAX + 1` panics in this build.
fn overflow_checks() -> bool {
    panic::catch_unwind(|| std::hint::black_box(std::hint::black_box(i64::MAX) + 1)).is_err()
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

fn run(target: &Target, inputs: u64, seed: u64) -> Counts {
    let mut rng = fastrand::Rng::with_seed(seed ^ fnv1a(target.name.as_bytes()));
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
                    println!(
                        "panic in {} on input {n}: {msg}\n  input (fed as from_utf8_lossy): b\"{}\"",
                        target.name,
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

/// One input: mostly 1–4 mutations of a sample, sometimes random bytes or random text
/// over JSON's and forms' alphabet (which gets further into a parser than noise does).
fn generate(rng: &mut fastrand::Rng, target: &Target) -> Vec<u8> {
    match rng.u8(0..16) {
        0 => (0..rng.usize(0..=256)).map(|_| rng.u8(..)).collect(),
        1 => {
            const ALPHABET: &[u8] = b"{}[]:,\"\\ 0123456789-+.eEtrufalsn_SCK3AFR%&=";
            (0..rng.usize(0..=128))
                .map(|_| ALPHABET[rng.usize(..ALPHABET.len())])
                .collect()
        }
        _ => {
            let sample = &target.samples[rng.usize(..target.samples.len())];
            let mut bytes = sample.text.as_bytes().to_vec();
            // 1 edit half the time, 2 a quarter, 3–4 the rest: each more edit breaks
            // more inputs before they reach the deeper checks.
            let edits = 1 + (rng.u32(..).trailing_ones() as usize).min(3);
            for _ in 0..edits {
                bytes = mutation(rng).apply(&bytes, &target.samples);
            }
            bytes
        }
    }
}

fn mutation(rng: &mut fastrand::Rng) -> Mutation {
    let at = rng.usize(..);
    let member = rng.usize(..);
    match rng.u8(0..12) {
        0 => Mutation::FlipBit {
            at,
            bit: rng.u8(..),
        },
        1 => Mutation::SetByte {
            at,
            byte: rng.u8(..),
        },
        2 => Mutation::Insert {
            at,
            token: rng.usize(..TOKENS.len()),
        },
        3 => Mutation::Delete {
            at,
            len: rng.usize(..),
        },
        4 => Mutation::Truncate { at },
        5 => Mutation::Duplicate {
            at,
            len: rng.usize(..),
        },
        6 => Mutation::Splice {
            donor: rng.usize(..),
            at,
            from: rng.usize(..),
        },
        7 | 8 => Mutation::ReplaceValue {
            member,
            value: rng.usize(..VALUES.len()),
        },
        9 => Mutation::RemoveMember { member },
        10 => match rng.u8(0..3) {
            0 => Mutation::RenameKey { member },
            1 => Mutation::Nest {
                member,
                depth: rng.usize(..),
            },
            _ => Mutation::DuplicateMember {
                member,
                value: rng.bool().then(|| rng.usize(..VALUES.len())),
            },
        },
        _ => Mutation::DuplicateMember {
            member,
            value: None,
        },
    }
}

/// A stable hash of the target's name, so each target has its own input stream.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
