//! Strategy parameters: what a strategy declares it can be configured with ([`ParamSpec`]:
//! name, kind and range, default, one line of help) and the validated values it is built
//! from ([`Params`]). One mechanism for the built-in strategies and a user's: configuration
//! (`CONDOR_PARAM_<NAME>`, `condor.toml`, `condor backtest --set`) sets values by name as
//! text, every value is range-checked as it is set, the settings journaled and taped are
//! [`Params::settings`], and `condor strategies` prints the specs.
//!
//! Owns parsing, ranges and the text form of values. Must never read the environment or a
//! file: the callers bring the text, so an error can name where it came from.

use std::fmt;

use crate::market::{self, TimeOfDay};

/// A parameter value that is out of range or does not parse; `field` is the parameter's
/// name as declared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strategy parameter {field}: {reason}")]
pub struct InvalidParam {
    pub field: &'static str,
    pub reason: String,
}

/// What values a parameter takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// A whole number in `min..=max`.
    Int { min: i64, max: i64 },
    /// A whole number in `min..=max`, or the word `none` meaning "not at all" (the entry's
    /// slippage: a number of grid ticks, or `market` for a market order).
    IntOr {
        min: i64,
        max: i64,
        none: &'static str,
    },
    /// A time of day, `HHMMSS` in KST.
    Time,
    /// `true` or `false`.
    Bool,
}

/// One parameter's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamValue {
    Int(i64),
    /// [`ParamKind::IntOr`]'s word.
    None,
    Time(TimeOfDay),
    Bool(bool),
}

/// One parameter a strategy declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamSpec {
    /// Lowercase with underscores: `confirm_ticks` (read from `CONDOR_PARAM_CONFIRM_TICKS`).
    pub name: &'static str,
    pub kind: ParamKind,
    pub default: ParamValue,
    /// One line for `condor strategies` and the README.
    pub help: &'static str,
}

impl ParamSpec {
    /// A whole number in `min..=max`.
    pub const fn int(
        name: &'static str,
        min: i64,
        max: i64,
        default: i64,
        help: &'static str,
    ) -> ParamSpec {
        ParamSpec {
            name,
            kind: ParamKind::Int { min, max },
            default: ParamValue::Int(default),
            help,
        }
    }

    /// A whole number in `min..=max` or the word `none`; `default` `None` is the word.
    pub const fn int_or(
        name: &'static str,
        min: i64,
        max: i64,
        none: &'static str,
        default: Option<i64>,
        help: &'static str,
    ) -> ParamSpec {
        ParamSpec {
            name,
            kind: ParamKind::IntOr { min, max, none },
            default: match default {
                Some(n) => ParamValue::Int(n),
                None => ParamValue::None,
            },
            help,
        }
    }

    /// A time of day (HHMMSS, KST).
    pub const fn time(name: &'static str, default: TimeOfDay, help: &'static str) -> ParamSpec {
        ParamSpec {
            name,
            kind: ParamKind::Time,
            default: ParamValue::Time(default),
            help,
        }
    }

    /// `true` or `false`.
    pub const fn flag(name: &'static str, default: bool, help: &'static str) -> ParamSpec {
        ParamSpec {
            name,
            kind: ParamKind::Bool,
            default: ParamValue::Bool(default),
            help,
        }
    }

    /// Reads `text` as this parameter's value, range included.
    pub fn parse(&self, text: &str) -> Result<ParamValue, InvalidParam> {
        let text = text.trim();
        let bad = |reason: String| InvalidParam {
            field: self.name,
            reason,
        };
        let int = |min: i64, max: i64| -> Result<ParamValue, InvalidParam> {
            let n: i64 = text
                .parse()
                .map_err(|_| bad(format!("{text:?} is not a whole number")))?;
            if !(min..=max).contains(&n) {
                return Err(bad(format!("must be {min}..={max}, got {n}")));
            }
            Ok(ParamValue::Int(n))
        };
        match self.kind {
            ParamKind::Int { min, max } => int(min, max),
            ParamKind::IntOr { none, .. } if text.eq_ignore_ascii_case(none) => {
                Ok(ParamValue::None)
            }
            ParamKind::IntOr { min, max, none } => {
                int(min, max).map_err(|e| bad(format!("{} (or {none:?})", e.reason)))
            }
            ParamKind::Time => TimeOfDay::parse_hhmmss(text)
                .map(ParamValue::Time)
                .map_err(|e| bad(e.to_string())),
            ParamKind::Bool => match text.to_ascii_lowercase().as_str() {
                "true" | "on" | "yes" | "1" => Ok(ParamValue::Bool(true)),
                "false" | "off" | "no" | "0" => Ok(ParamValue::Bool(false)),
                _ => Err(bad(format!("{text:?} is not true or false"))),
            },
        }
    }

    /// `value` as text [`Self::parse`] reads back.
    pub fn text(&self, value: ParamValue) -> String {
        match (value, self.kind) {
            (ParamValue::Int(n), _) => n.to_string(),
            (ParamValue::None, ParamKind::IntOr { none, .. }) => none.to_owned(),
            (ParamValue::None, _) => "none".to_owned(),
            (ParamValue::Time(t), _) => t.hhmmss(),
            (ParamValue::Bool(b), _) => b.to_string(),
        }
    }

    /// The values it takes, for people: `1..=100`, `0..=20 or market`, `HHMMSS`.
    pub fn range(&self) -> String {
        match self.kind {
            ParamKind::Int { min, max } => format!("{min}..={max}"),
            ParamKind::IntOr { min, max, none } => format!("{min}..={max} or {none}"),
            ParamKind::Time => "HHMMSS".to_owned(),
            ParamKind::Bool => "true|false".to_owned(),
        }
    }
}

/// Every strategy's parameters begin with these: the money per entry and the session's
/// two times are the condition's settings (`CONDOR_BUDGET_WON`, `CONDOR_ENTRY_CUTOFF`,
/// `CONDOR_FLATTEN_AT`, or the condition's table in `condor.toml`), and a strategy reads
/// them as it reads its own.
pub const COMMON: &[ParamSpec] = &[
    ParamSpec::int(
        "budget_won",
        1,
        1_000_000_000_000,
        1_000_000,
        "won to spend per entry; shares = budget / order price, whole shares",
    ),
    ParamSpec::time(
        "entry_cutoff",
        TimeOfDay::hms(15, 0, 0),
        "no new entry at or after this exchange time",
    ),
    ParamSpec::time(
        "flatten_at",
        TimeOfDay::hms(15, 15, 0),
        "sell everything at or after this exchange time, before the closing auction",
    ),
];

/// A strategy's parameter values: [`COMMON`] and its own, each range-checked as it is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Params {
    entries: Vec<(ParamSpec, ParamValue)>,
}

impl Params {
    /// [`COMMON`] and `own`, each at its default. Panics when `own` repeats a name or a
    /// default is out of its own range: a mistake in the strategy, found the first time
    /// it is registered.
    pub fn new(own: &[ParamSpec]) -> Params {
        let mut entries: Vec<(ParamSpec, ParamValue)> = Vec::new();
        for spec in COMMON.iter().chain(own) {
            assert!(
                !entries.iter().any(|(s, _)| s.name == spec.name),
                "strategy parameter {} declared twice",
                spec.name
            );
            let text = spec.text(spec.default);
            assert_eq!(
                spec.parse(&text),
                Ok(spec.default),
                "strategy parameter {}: its default is outside its range",
                spec.name
            );
            entries.push((*spec, spec.default));
        }
        Params { entries }
    }

    /// Sets the parameter `name` (case ignored) from text. `Ok(false)`: no such parameter.
    pub fn set(&mut self, name: &str, text: &str) -> Result<bool, InvalidParam> {
        let name = name.trim();
        match self
            .entries
            .iter_mut()
            .find(|(s, _)| s.name.eq_ignore_ascii_case(name))
        {
            Some((spec, value)) => {
                *value = spec.parse(text)?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Every parameter, in declaration order ([`COMMON`] first).
    pub fn specs(&self) -> impl Iterator<Item = &ParamSpec> {
        self.entries.iter().map(|(s, _)| s)
    }

    /// The names, for an error that lists them.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|(s, _)| s.name).collect()
    }

    pub fn get(&self, name: &str) -> Option<ParamValue> {
        self.entries
            .iter()
            .find(|(s, _)| s.name == name)
            .map(|(_, v)| *v)
    }

    /// The whole number `name`. Panics when the strategy reads a parameter it did not
    /// declare as a number: its own mistake, found by its first test.
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(ParamValue::Int(n)) => n,
            other => panic!("strategy parameter {name} is not a declared number: {other:?}"),
        }
    }

    /// [`Self::int`] for a number declared with a range inside `u32`.
    pub fn uint(&self, name: &str) -> u32 {
        u32::try_from(self.int(name))
            .unwrap_or_else(|_| panic!("strategy parameter {name} is declared outside u32"))
    }

    /// A [`ParamKind::IntOr`]: `None` for its word.
    pub fn int_or_none(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(ParamValue::Int(n)) => Some(n),
            Some(ParamValue::None) => None,
            other => panic!("strategy parameter {name} is not a declared number: {other:?}"),
        }
    }

    pub fn time(&self, name: &str) -> TimeOfDay {
        match self.get(name) {
            Some(ParamValue::Time(t)) => t,
            other => panic!("strategy parameter {name} is not a declared time: {other:?}"),
        }
    }

    pub fn flag(&self, name: &str) -> bool {
        match self.get(name) {
            Some(ParamValue::Bool(b)) => b,
            other => panic!("strategy parameter {name} is not a declared flag: {other:?}"),
        }
    }

    /// Every value as (name, text), in declaration order: what is journaled and taped, and
    /// what [`Self::set`] reads back.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        self.entries
            .iter()
            .map(|(s, v)| (s.name, s.text(*v)))
            .collect()
    }

    /// The checks across [`COMMON`]'s values: the flatten before the closing auction, the
    /// entry cutoff before the flatten.
    pub fn check_common(&self) -> Result<(), InvalidParam> {
        let (cutoff, flatten) = (self.time("entry_cutoff"), self.time("flatten_at"));
        if flatten > market::CLOSING_AUCTION {
            return Err(InvalidParam {
                field: "flatten_at",
                reason: format!(
                    "must be at or before the closing auction {}, got {flatten}",
                    market::CLOSING_AUCTION
                ),
            });
        }
        if cutoff >= flatten {
            return Err(InvalidParam {
                field: "entry_cutoff",
                reason: format!("must be before flatten_at {flatten}, got {cutoff}"),
            });
        }
        Ok(())
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, value)) in self.settings().into_iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{name}={value}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &[ParamSpec] = &[
        ParamSpec::int("window", 1, 500, 20, "trades in the window"),
        ParamSpec::int_or("slip", 0, 20, "market", Some(1), "ticks above the last"),
        ParamSpec::flag("loud", false, "say more"),
    ];

    #[test]
    fn defaults_come_first_common_then_own() {
        let p = Params::new(OWN);
        assert_eq!(
            p.names(),
            [
                "budget_won",
                "entry_cutoff",
                "flatten_at",
                "window",
                "slip",
                "loud"
            ]
        );
        assert_eq!(p.int("budget_won"), 1_000_000);
        assert_eq!(p.int("window"), 20);
        assert_eq!(p.int_or_none("slip"), Some(1));
        assert!(!p.flag("loud"));
        assert_eq!(p.check_common(), Ok(()));
    }

    #[test]
    fn set_checks_the_range_and_names_the_parameter() {
        let mut p = Params::new(OWN);
        assert_eq!(p.set("WINDOW", " 40 "), Ok(true));
        assert_eq!(p.int("window"), 40);
        let e = p.set("window", "0").unwrap_err();
        assert_eq!(e.field, "window");
        assert!(e.to_string().contains("1..=500, got 0"), "{e}");
        let e = p.set("window", "4O").unwrap_err();
        assert!(
            e.to_string().contains("\"4O\" is not a whole number"),
            "{e}"
        );
        assert_eq!(p.int("window"), 40, "a refused value leaves the old one");
        assert_eq!(p.set("slip", "Market"), Ok(true));
        assert_eq!(p.int_or_none("slip"), None);
        let e = p.set("slip", "21").unwrap_err();
        assert!(e.to_string().contains("(or \"market\")"), "{e}");
        let e = p.set("entry_cutoff", "25:00").unwrap_err();
        assert_eq!(e.field, "entry_cutoff");
        assert_eq!(p.set("loud", "yes"), Ok(true));
        assert!(p.flag("loud"));
        assert_eq!(p.set("nope", "1"), Ok(false));
    }

    #[test]
    fn settings_read_back_to_the_same_values() {
        let mut p = Params::new(OWN);
        p.set("slip", "market").unwrap();
        p.set("flatten_at", "151000").unwrap();
        let mut q = Params::new(OWN);
        for (name, text) in p.settings() {
            assert_eq!(q.set(name, &text), Ok(true));
        }
        assert_eq!(p, q);
        assert_eq!(
            p.to_string(),
            "budget_won=1000000 entry_cutoff=150000 flatten_at=151000 window=20 slip=market loud=false"
        );
    }

    #[test]
    fn the_common_checks_name_the_bad_time() {
        let mut p = Params::new(&[]);
        p.set("flatten_at", "152500").unwrap();
        assert_eq!(p.check_common().unwrap_err().field, "flatten_at");
        p.set("flatten_at", "145900").unwrap();
        assert_eq!(p.check_common().unwrap_err().field, "entry_cutoff");
    }

    #[test]
    #[should_panic(expected = "declared twice")]
    fn a_strategy_cannot_redeclare_a_common_parameter() {
        Params::new(&[ParamSpec::int("budget_won", 1, 2, 1, "")]);
    }

    #[test]
    #[should_panic(expected = "outside its range")]
    fn a_default_outside_its_range_is_the_strategys_mistake() {
        Params::new(&[ParamSpec::int("window", 1, 5, 9, "")]);
    }
}
