//! Scenario files: a small line format a test writes to script the exchange — starting
//! cash, initial holdings, and scripted conditions whose enter/exit events fire at fixed
//! offsets from each alert registration.
//!
//! Owns parsing only. Must never panic on any input, and every error names its line
//! (1-based) and what is wrong with it.
//!
//! ```text
//! # comments run from '#' (at line start or after whitespace) to the end of the line
//! cash 50000000                      # starting cash in won ('_' and ',' allowed)
//! holding 005930 10 55000            # ticker qty avg-price (the stock must be listed)
//! condition S001 스크립트 테스트       # query_index (1-12 of A-Z a-z 0-9 _ -) and name
//! at 0ms S001 enter 005930           # offset (ms, s or m; decimals ok: 1.5s) from registration
//! at 250ms S001 enter 000660
//! at 1s S001 exit 005930
//! at 1500ms S001 enter 12345X        # codes are raw: invalid ones pass through on purpose
//! at 2s S001 R 000660                # N / R / O force the AFR job flag verbatim
//! ```
//!
//! `enter` yields `N` the first time a code enters under an alert and `R` after that;
//! `exit` yields `O`. Events of one condition fire in offset order (file order on ties).
//! `0000` is reserved for the built-in momentum condition.

use std::fmt;

use condor_model::market::{Price, Ticker};

use super::condition::MOMENTUM_QUERY_INDEX;
use super::events::AlertJob;
use super::universe::is_listed;

/// A parsed scenario.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scenario {
    /// Overrides `ExchangeConfig::cash` when present.
    pub cash: Option<i64>,
    pub holdings: Vec<ScenarioHolding>,
    pub conditions: Vec<ScriptedCondition>,
}

/// An initial holding: cost = qty × avg_price (cash is not debited for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScenarioHolding {
    pub ticker: Ticker,
    pub qty: u64,
    pub avg_price: Price,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptedCondition {
    pub query_index: String,
    pub name: String,
    /// Sorted by offset (stable).
    pub events: Vec<ScriptedEvent>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptedEvent {
    pub offset_ms: u64,
    pub action: ScriptAction,
    /// Raw code, not validated.
    pub code: String,
    /// Source line, for diagnostics.
    pub line: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptAction {
    /// `N` on first entry under the alert, `R` after.
    Enter,
    /// `O`.
    Exit,
    /// A forced job flag (`N`, `R`, `O` in the file).
    Job(AlertJob),
}

/// A scenario line that could not be understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scenario line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ScenarioError {}

/// Strips a comment: `#` at the start of the line or after whitespace (so a name like
/// `C#1` keeps its `#`).
fn strip_comment(line: &str) -> &str {
    let mut prev_ws = true;
    for (i, c) in line.char_indices() {
        if c == '#' && prev_ws {
            return &line[..i];
        }
        prev_ws = c.is_whitespace();
    }
    line
}

fn parse_int(s: &str, what: &str) -> Result<i64, String> {
    let cleaned: String = s.chars().filter(|&c| c != '_' && c != ',').collect();
    if cleaned.is_empty() || !cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{what} {s:?} is not a whole non-negative number"));
    }
    cleaned
        .parse::<i64>()
        .map_err(|_| format!("{what} {s:?} is too large"))
}

/// `250ms`, `1s`, `1.5s`, `2m`, `0` → milliseconds.
fn parse_offset(s: &str) -> Result<u64, String> {
    if s == "0" {
        return Ok(0);
    }
    let (num, unit_ms) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1u64)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000)
    } else {
        return Err(format!(
            "offset {s:?} needs a unit: ms, s or m (e.g. 250ms, 1.5s, 2m)"
        ));
    };
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    let digits_ok = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits_ok(int) || !digits_ok(frac) || frac.len() > 6 {
        return Err(format!("offset {s:?} is not a number with a unit"));
    }
    let int: u64 = int
        .parse()
        .map_err(|_| format!("offset {s:?} is too large"))?;
    let scale = 10u64.pow(frac.len() as u32);
    let frac_v: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse()
            .map_err(|_| format!("offset {s:?} is not a number"))?
    };
    let frac_ms = frac_v * unit_ms;
    if frac_ms % scale != 0 {
        return Err(format!(
            "offset {s:?} is not a whole number of milliseconds"
        ));
    }
    int.checked_mul(unit_ms)
        .and_then(|v| v.checked_add(frac_ms / scale))
        .ok_or_else(|| format!("offset {s:?} is too large"))
}

fn valid_query_index(q: &str) -> bool {
    (1..=12).contains(&q.len())
        && q.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Scenario {
    /// Parses the text format above.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let mut sc = Scenario::default();
        let mut cash_line = 0usize;
        // (query_index, line) of `at` lines, checked once every condition is known.
        let mut pending: Vec<(String, ScriptedEvent)> = Vec::new();
        let mut cond_lines: Vec<usize> = Vec::new();
        let mut holding_lines: Vec<usize> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let err = |message: String| ScenarioError { line, message };
            let content = strip_comment(raw).trim();
            if content.is_empty() {
                continue;
            }
            let words: Vec<&str> = content.split_whitespace().collect();
            match words[0] {
                "cash" => {
                    if words.len() != 2 {
                        return Err(err("usage: cash <won>".into()));
                    }
                    if cash_line != 0 {
                        return Err(err(format!("cash given twice (first on line {cash_line})")));
                    }
                    sc.cash = Some(parse_int(words[1], "cash").map_err(err)?);
                    cash_line = line;
                }
                "holding" => {
                    if words.len() != 4 {
                        return Err(err("usage: holding <ticker> <qty> <avg-price>".into()));
                    }
                    let ticker = Ticker::parse_isu_no(words[1])
                        .map_err(|e| err(format!("holding ticker: {e}")))?;
                    if !is_listed(ticker) {
                        return Err(err(format!(
                            "holding {ticker}: not listed on the simulator"
                        )));
                    }
                    let qty = parse_int(words[2], "holding qty").map_err(err)?;
                    let avg = parse_int(words[3], "holding avg price").map_err(err)?;
                    if qty == 0 || avg == 0 {
                        return Err(err("holding qty and avg price must be positive".into()));
                    }
                    if let Some(k) = sc.holdings.iter().position(|h| h.ticker == ticker) {
                        return Err(err(format!(
                            "holding {ticker} given twice (first on line {})",
                            holding_lines[k]
                        )));
                    }
                    if qty.checked_mul(avg).is_none() {
                        return Err(err("holding qty × avg price is too large".into()));
                    }
                    sc.holdings.push(ScenarioHolding {
                        ticker,
                        qty: qty as u64,
                        avg_price: Price::new(avg).map_err(|e| err(e.to_string()))?,
                    });
                    holding_lines.push(line);
                }
                "condition" => {
                    if words.len() < 3 {
                        return Err(err("usage: condition <query_index> <name…>".into()));
                    }
                    let q = words[1];
                    if !valid_query_index(q) {
                        return Err(err(format!(
                            "query_index {q:?} must be 1-12 characters of A-Z a-z 0-9 _ -"
                        )));
                    }
                    if q == MOMENTUM_QUERY_INDEX {
                        return Err(err(format!(
                            "query_index {q} is reserved for the built-in momentum condition"
                        )));
                    }
                    if let Some(k) = sc.conditions.iter().position(|c| c.query_index == q) {
                        return Err(err(format!(
                            "condition {q} declared twice (first on line {})",
                            cond_lines[k]
                        )));
                    }
                    // The name is the rest of the line, inner spacing kept.
                    let after_kw = content["condition".len()..].trim_start();
                    let name = after_kw[q.len()..].trim().to_owned();
                    sc.conditions.push(ScriptedCondition {
                        query_index: q.to_owned(),
                        name,
                        events: Vec::new(),
                    });
                    cond_lines.push(line);
                }
                "at" => {
                    if words.len() != 5 {
                        return Err(err(
                            "usage: at <offset> <query_index> enter|exit|N|R|O <code>".into(),
                        ));
                    }
                    let offset_ms = parse_offset(words[1]).map_err(err)?;
                    let action = match words[3] {
                        "enter" => ScriptAction::Enter,
                        "exit" => ScriptAction::Exit,
                        "N" => ScriptAction::Job(AlertJob::Enter),
                        "R" => ScriptAction::Job(AlertJob::Reenter),
                        "O" => ScriptAction::Job(AlertJob::Exit),
                        other => {
                            return Err(err(format!(
                                "action {other:?}: expected enter, exit, N, R or O"
                            )))
                        }
                    };
                    pending.push((
                        words[2].to_owned(),
                        ScriptedEvent {
                            offset_ms,
                            action,
                            code: words[4].to_owned(),
                            line,
                        },
                    ));
                }
                other => {
                    return Err(err(format!(
                        "unknown directive {other:?}: expected cash, holding, condition or at"
                    )))
                }
            }
        }
        for (q, ev) in pending {
            let Some(c) = sc.conditions.iter_mut().find(|c| c.query_index == q) else {
                return Err(ScenarioError {
                    line: ev.line,
                    message: format!(
                        "condition {q:?} is not declared (add `condition {q} <name>`)"
                    ),
                });
            };
            c.events.push(ev);
        }
        for c in &mut sc.conditions {
            c.events.sort_by_key(|e| e.offset_ms);
        }
        Ok(sc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comments
cash 50_000_000
holding 005930 10 55000          # ticker qty avg-price
condition S001 스크립트  테스트 #2
at 0ms S001 enter 005930
at 1s S001 exit 005930
at 250ms S001 enter 000660
at 1500ms S001 enter 12345X
at 1.5s S001 R 000660
";

    #[test]
    fn parses_the_sample() {
        let sc = Scenario::parse(SAMPLE).unwrap();
        assert_eq!(sc.cash, Some(50_000_000));
        assert_eq!(
            sc.holdings,
            vec![ScenarioHolding {
                ticker: Ticker::parse("005930").unwrap(),
                qty: 10,
                avg_price: Price::lit(55_000)
            }]
        );
        let c = &sc.conditions[0];
        assert_eq!(
            (c.query_index.as_str(), c.name.as_str()),
            ("S001", "스크립트  테스트")
        );
        let got: Vec<_> = c
            .events
            .iter()
            .map(|e| (e.offset_ms, e.action, e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, ScriptAction::Enter, "005930"),
                (250, ScriptAction::Enter, "000660"),
                (1_000, ScriptAction::Exit, "005930"),
                (1_500, ScriptAction::Enter, "12345X"),
                (1_500, ScriptAction::Job(AlertJob::Reenter), "000660"),
            ]
        );
        assert_eq!(Scenario::parse("").unwrap(), Scenario::default());
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("250ms"), Ok(250));
        assert_eq!(parse_offset("1s"), Ok(1_000));
        assert_eq!(parse_offset("1.5s"), Ok(1_500));
        assert_eq!(parse_offset("2m"), Ok(120_000));
        assert_eq!(parse_offset("0"), Ok(0));
        assert!(parse_offset("250").is_err());
        assert!(parse_offset("1.5ms").is_err());
        assert!(parse_offset("-1s").is_err());
        assert!(parse_offset("s").is_err());
        assert!(parse_offset("99999999999999999999s").is_err());
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let cases: &[(&str, usize, &str)] = &[
            ("cash\n", 1, "usage: cash"),
            ("\n\ncash lots\n", 3, "not a whole"),
            ("cash 1\ncash 2\n", 2, "first on line 1"),
            ("holding 5930 1 100\n", 1, "holding ticker"),
            ("holding 999999 1 100\n", 1, "not listed"),
            ("holding 005930 0 100\n", 1, "must be positive"),
            (
                "holding 005930 1 100\nholding A005930 1 100\n",
                2,
                "given twice",
            ),
            ("condition S001\n", 1, "usage: condition"),
            ("condition 0000 x\n", 1, "reserved"),
            ("condition ABCDEFGHIJKLM x\n", 1, "1-12 characters"),
            (
                "condition S1 a\n# x\ncondition S1 b\n",
                3,
                "first on line 1",
            ),
            ("condition S1 a\nat 1 S1 enter 005930\n", 2, "needs a unit"),
            (
                "condition S1 a\nat 1s S1 jump 005930\n",
                2,
                "expected enter",
            ),
            ("condition S1 a\nat 1s S1 enter\n", 2, "usage: at"),
            (
                "condition S1 a\n\nat 1s S2 enter 005930\n",
                3,
                "not declared",
            ),
            ("buy 005930\n", 1, "unknown directive"),
        ];
        for &(text, line, needle) in cases {
            let e = Scenario::parse(text).unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
            assert!(e
                .to_string()
                .starts_with(&format!("scenario line {line}: ")));
        }
    }

    #[test]
    fn a_declaration_may_follow_its_events() {
        let sc = Scenario::parse("at 1s S9 exit 005930\ncondition S9 late # c\n").unwrap();
        assert_eq!(sc.conditions[0].events.len(), 1);
        assert_eq!(sc.conditions[0].name, "late");
    }
}
