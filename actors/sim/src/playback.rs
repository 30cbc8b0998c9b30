//! `condor sim --tape FILE [--speed N|max]`: the flags, and reading a tape into the
//! [`TapeDay`] the exchange plays (the exchange itself does no I/O).
//!
//! Owns the tape flags' parsing and the load-time rules: a file that cannot be opened, is
//! not a tape, is from a newer format or is damaged with intact data after the damage is
//! an error naming the file; a torn tail is a warning and the good part plays; a tape with
//! nothing to play (no trades, no condition events) is an error. Must never load a
//! damaged middle silently.
//!
//! `condor run` flattens the simulator's flags too, and has its own `--tape on|off` (the
//! recording); there the two are `--sim-tape FILE` and `--sim-speed` (same variables).

use std::fmt;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgMatches, Command};
use condor_core::tape::{TapeError, TapeReader};

use super::exchange::{TapeDay, TapeDayBuilder, TapeDayError};

const ID_TAPE: &str = "sim_tape";
const ID_SPEED: &str = "sim_speed";

/// How fast a tape plays.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TapeSpeed {
    /// The recorded gaps divided by this (1 = as recorded).
    Times(f64),
    /// As fast as the clients take the frames, in order.
    Max,
}

impl Default for TapeSpeed {
    fn default() -> Self {
        TapeSpeed::Times(1.0)
    }
}

impl fmt::Display for TapeSpeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TapeSpeed::Times(x) => write!(f, "{x}x"),
            TapeSpeed::Max => f.write_str("max"),
        }
    }
}

impl std::str::FromStr for TapeSpeed {
    type Err = String;

    fn from_str(s: &str) -> Result<TapeSpeed, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("max") {
            return Ok(TapeSpeed::Max);
        }
        match t.parse::<f64>() {
            Ok(x) if x.is_finite() && x > 0.0 && x <= 1_000_000.0 => Ok(TapeSpeed::Times(x)),
            _ => Err(format!(
                "{s:?} is not a speed: a number above 0 and at most 1000000 (1 = as recorded, 10 = ten times faster) or `max`"
            )),
        }
    }
}

/// The tape flags of `condor sim` (`--sim-tape`, `--sim-speed` under `condor run`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TapeArgs {
    pub tape: Option<PathBuf>,
    pub speed: TapeSpeed,
}

impl TapeArgs {
    fn add(cmd: Command) -> Command {
        // `condor run` has a `--tape on|off` of its own (the recording).
        let (tape, speed) = if cmd.get_name() == "sim" {
            ("tape", "speed")
        } else {
            ("sim-tape", "sim-speed")
        };
        cmd.arg(
            Arg::new(ID_TAPE)
                .long(tape)
                .env("CONDOR_SIM_TAPE")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .conflicts_with_all(["firehose", "start_time"])
                .help("Play this recorded day (a condor tape) instead of the random market: its trades, its condition events as the condition T001 (named after the tape), and orders matched against its trades. See README"),
        )
        .arg(
            Arg::new(ID_SPEED)
                .long(speed)
                .env("CONDOR_SIM_SPEED")
                .value_name("N|max")
                .default_value("1")
                // So `--speed -2` is a bad speed, not an unknown flag.
                .allow_negative_numbers(true)
                .value_parser(|s: &str| s.parse::<TapeSpeed>())
                .help("With a tape: play it N times as fast as recorded (0.5, 1, 10, …), or `max`: as fast as the clients take it"),
        )
    }
}

impl clap::FromArgMatches for TapeArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(TapeArgs {
            tape: m.get_one::<PathBuf>(ID_TAPE).cloned(),
            speed: m
                .get_one::<TapeSpeed>(ID_SPEED)
                .copied()
                .unwrap_or_default(),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for TapeArgs {
    fn augment_args(cmd: Command) -> Command {
        Self::add(cmd)
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::add(cmd)
    }
}

/// Why a tape cannot be played. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum TapeLoadError {
    #[error(transparent)]
    Tape(#[from] TapeError),
    #[error("tape {} cannot be played: {reason}", path.display())]
    Unplayable { path: PathBuf, reason: String },
}

/// Reads the tape at `path` (streaming: one block in memory besides the day) into the day
/// the exchange plays. A torn tail is logged and the records before it play.
pub fn load_day(path: &Path) -> Result<TapeDay, TapeLoadError> {
    let mut reader = TapeReader::open(path)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "tape".to_owned());
    let mut day = TapeDayBuilder::new(&stem);
    let mut records = 0u64;
    while let Some(r) = reader.next_record()? {
        day.push(&r);
        records += 1;
    }
    let mut damage_note = String::new();
    if let Some(d) = reader.damage() {
        if d.resumes_at.is_some() {
            return Err(TapeError::Corrupt {
                path: path.to_path_buf(),
                offset: d.offset,
                after_seq: d.after_seq,
                reason: d.reason.clone(),
            }
            .into());
        }
        damage_note = format!(" ({})", d.reason);
        if records > 0 {
            log::warn!(
                target: "condor::sim",
                "tape {}: reading stopped at byte {} after seq {} ({}); playing the {records} records before it",
                path.display(),
                d.offset,
                d.after_seq,
                d.reason
            );
        }
    }
    let day = day
        .finish()
        .map_err(|e: TapeDayError| TapeLoadError::Unplayable {
            path: path.to_path_buf(),
            reason: format!("{e}{damage_note}"),
        })?;
    if day.skipped() > 0 {
        log::warn!(
            target: "condor::sim",
            "tape {}: {} trade record(s) with a price or quantity out of range are not played",
            path.display(),
            day.skipped()
        );
    }
    Ok(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_parse_and_bad_ones_are_refused() {
        assert_eq!("1".parse::<TapeSpeed>(), Ok(TapeSpeed::Times(1.0)));
        assert_eq!("0.5".parse::<TapeSpeed>(), Ok(TapeSpeed::Times(0.5)));
        assert_eq!("MAX".parse::<TapeSpeed>(), Ok(TapeSpeed::Max));
        for bad in ["0", "-2", "fast", "", "NaN", "inf", "1e9"] {
            assert!(bad.parse::<TapeSpeed>().is_err(), "{bad}");
        }
        assert_eq!(TapeSpeed::Max.to_string(), "max");
        assert_eq!(TapeSpeed::Times(10.0).to_string(), "10x");
    }

    #[test]
    fn a_torn_tail_plays_the_good_part_and_damage_in_the_middle_is_refused() {
        use condor_core::tape::{Tape, TapeEvent, TapeTrade};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("day.tape");
        let trade = |i: u64| {
            TapeEvent::Trade(TapeTrade {
                ticker: condor_model::market::Ticker::parse("005930").unwrap(),
                price: condor_model::market::Price::lit(70_000 + 100 * i as i64),
                qty: condor_model::market::Qty::lit(1),
                cum_volume: i,
                prev_close: condor_model::market::Price::lit(70_000),
                aggressor: condor_model::market::Side::Buy,
                exchange_time: condor_model::market::TimeOfDay::hms(9, 30, 0),
                seq: i,
            })
        };
        // Three blocks of three trades (one flush each); where each ends.
        let mut ends = Vec::new();
        {
            let tape = Tape::open(&path, "test").unwrap();
            let mut rec = tape.recorder();
            for b in 0..3u64 {
                for i in 0..3 {
                    rec.record(1 + (b * 3 + i) as i64, trade(b * 3 + i + 1));
                }
                rec.flush();
                tape.sync().unwrap();
                ends.push(std::fs::metadata(&path).unwrap().len() as usize);
            }
        }
        let whole = std::fs::read(&path).unwrap();
        assert_eq!(load_day(&path).unwrap().trades(), 9);
        // Torn: the last block cut short.
        std::fs::write(&path, &whole[..whole.len() - 5]).unwrap();
        assert_eq!(load_day(&path).unwrap().trades(), 6, "the good part plays");
        // A flipped byte in the middle block, intact data after it: refused.
        let mut bad = whole.clone();
        bad[(ends[0] + ends[1]) / 2] ^= 0xFF;
        std::fs::write(&path, &bad).unwrap();
        match load_day(&path) {
            Err(e) => assert!(e.to_string().contains("day.tape"), "{e}"),
            Ok(day) => panic!("a damaged middle must not load ({} trades)", day.trades()),
        }
    }

    #[test]
    fn missing_garbage_and_empty_tapes_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.tape");
        let e = load_day(&missing).unwrap_err().to_string();
        assert!(e.contains("nope.tape"), "{e}");
        let garbage = dir.path().join("garbage.tape");
        std::fs::write(&garbage, b"not a tape at all").unwrap();
        let e = load_day(&garbage).unwrap_err().to_string();
        assert!(e.contains("garbage.tape"), "{e}");
        let empty = dir.path().join("empty.tape");
        std::fs::write(&empty, b"").unwrap();
        let e = load_day(&empty).unwrap_err().to_string();
        assert!(
            e.contains("empty.tape") && e.contains("cannot be played"),
            "{e}"
        );
    }
}
