//! `condor.toml`: the conditions to trade, each with its strategy, the strategy's
//! parameters, its budget per entry and its most open positions. Secrets stay in `.env`.
//!
//! ```toml
//! [[conditions]]
//! name = "급등 모멘텀"          # t1866 name or query_index
//! strategy = "momentum"        # default: momentum
//! budget_won = 1_000_000       # the strategy's budget_won
//! max_positions = 5            # most tickers held or being bought at once
//!
//! [conditions.params]          # the strategy's own (`condor strategies`)
//! confirm_ticks = 4
//! take_profit_bp = 200
//!
//! [[conditions]]
//! name = "0001"
//! strategy = "vwap-band"
//! ```
//!
//! Owns reading the file and checking every value; an error names the file, the table
//! (`conditions[2]`, with its name) and the key. Must never read the environment: without
//! a file, `condor run`'s one-condition settings make the one condition (see
//! [`crate::cli::RunArgs::conditions`]).

use std::path::Path;

use anyhow::{anyhow, bail, Context as _};
use condor_actors::strategy::{Params, StrategyRegistry};
use serde::Deserialize;

/// One condition, checked: its strategy's parameters built and validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionConfig {
    /// As t1866 lists it: the name or the query_index.
    pub name: String,
    pub strategy: String,
    pub params: Params,
    pub max_positions: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    conditions: Vec<ConditionTable>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConditionTable {
    name: String,
    strategy: Option<String>,
    budget_won: Option<toml::Value>,
    entry_cutoff: Option<toml::Value>,
    flatten_at: Option<toml::Value>,
    max_positions: Option<i64>,
    #[serde(default)]
    params: toml::Table,
}

/// Most conditions one condor trades: LS registers each as a realtime alert, and the
/// conditions are numbered in a byte.
pub const MAX_CONDITIONS: usize = 32;

/// A value as the text [`Params::set`] reads: numbers and words as written, booleans as
/// `true`/`false`.
fn value_text(v: &toml::Value) -> Result<String, String> {
    match v {
        toml::Value::Integer(n) => Ok(n.to_string()),
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!(
            "must be a whole number, a word or true/false, got {}",
            other.type_str()
        )),
    }
}

/// Reads and checks `path`.
pub fn load(path: &Path, registry: &StrategyRegistry) -> anyhow::Result<Vec<ConditionConfig>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text, &path.display().to_string(), registry)
}

/// Checks `text`, the contents of the file called `file`.
pub fn parse(
    text: &str,
    file: &str,
    registry: &StrategyRegistry,
) -> anyhow::Result<Vec<ConditionConfig>> {
    let doc: FileDoc =
        toml::from_str(text).map_err(|e| anyhow!("{file}: {}", e.to_string().trim()))?;
    if doc.conditions.is_empty() {
        bail!("{file}: no [[conditions]]: list at least one condition to trade");
    }
    if doc.conditions.len() > MAX_CONDITIONS {
        bail!(
            "{file}: {} conditions; at most {MAX_CONDITIONS}",
            doc.conditions.len()
        );
    }
    let mut out: Vec<ConditionConfig> = Vec::new();
    for (i, table) in doc.conditions.into_iter().enumerate() {
        let at = format!("{file}: conditions[{}] ({:?})", i + 1, table.name);
        let name = table.name.trim().to_owned();
        if name.is_empty() {
            bail!("{file}: conditions[{}]: key name: must not be empty", i + 1);
        }
        if out.iter().any(|c| c.name == name) {
            bail!("{at}: key name: listed twice");
        }
        let strategy = table
            .strategy
            .unwrap_or_else(|| "momentum".to_owned())
            .trim()
            .to_owned();
        let mut params = registry
            .params(&strategy)
            .map_err(|e| anyhow!("{at}: key strategy: {e}"))?;
        let common = [
            ("budget_won", &table.budget_won),
            ("entry_cutoff", &table.entry_cutoff),
            ("flatten_at", &table.flatten_at),
        ];
        for (key, value) in common {
            if let Some(v) = value {
                let text = value_text(v).map_err(|e| anyhow!("{at}: key {key}: {e}"))?;
                params
                    .set(key, &text)
                    .map_err(|e| anyhow!("{at}: key {key}: {}", e.reason))?;
            }
        }
        for (key, v) in &table.params {
            let text = value_text(v).map_err(|e| anyhow!("{at}: key params.{key}: {e}"))?;
            if !params
                .set(key, &text)
                .map_err(|e| anyhow!("{at}: key params.{key}: {}", e.reason))?
            {
                bail!(
                    "{at}: key params.{key}: strategy {strategy} has no such parameter; its parameters: {}",
                    params.names().join(", ")
                );
            }
        }
        let max_positions = match table.max_positions {
            None => None,
            Some(n) if (1..=1_000).contains(&n) => usize::try_from(n).ok(),
            Some(n) => bail!("{at}: key max_positions: must be 1..=1000, got {n}"),
        };
        registry
            .build(&strategy, &params)
            .map_err(|e| anyhow!("{at}: {e}"))?;
        out.push(ConditionConfig {
            name,
            strategy,
            params,
            max_positions,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Vec<ConditionConfig> {
        parse(text, "condor.toml", &StrategyRegistry::new()).unwrap()
    }

    fn parse_err(text: &str) -> String {
        parse(text, "condor.toml", &StrategyRegistry::new())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn two_conditions_with_their_strategies_parameters_and_limits() {
        let c = parse_ok(
            r#"
            [[conditions]]
            name = "급등 모멘텀"
            budget_won = 500_000
            max_positions = 3
            entry_cutoff = "143000"
            [conditions.params]
            confirm_ticks = 4
            entry_slippage_ticks = "market"

            [[conditions]]
            name = "0001"
            strategy = "vwap-band"
            flatten_at = 151000
            [conditions.params]
            band_bp = 80
            "#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(
            (c[0].name.as_str(), c[0].strategy.as_str()),
            ("급등 모멘텀", "momentum")
        );
        assert_eq!(c[0].params.int("budget_won"), 500_000);
        assert_eq!(c[0].params.int("confirm_ticks"), 4);
        assert_eq!(c[0].params.int_or_none("entry_slippage_ticks"), None);
        assert_eq!(c[0].params.time("entry_cutoff").hhmmss(), "143000");
        assert_eq!(c[0].max_positions, Some(3));
        assert_eq!(c[1].strategy, "vwap-band");
        assert_eq!(c[1].params.int("band_bp"), 80);
        assert_eq!(c[1].params.int("budget_won"), 1_000_000, "the default");
        assert_eq!(c[1].params.time("flatten_at").hhmmss(), "151000");
        assert_eq!(c[1].max_positions, None);
    }

    #[test]
    fn every_bad_value_names_the_file_the_table_and_the_key() {
        let cases = [
            (
                "[[conditions]]\nname = \"a\"\n[conditions.params]\nconfirm_ticks = 0\n",
                "condor.toml: conditions[1] (\"a\"): key params.confirm_ticks: must be 1..=100, got 0",
            ),
            (
                "[[conditions]]\nname = \"a\"\n[conditions.params]\nconfirm_tiks = 3\n",
                "condor.toml: conditions[1] (\"a\"): key params.confirm_tiks: strategy momentum has no such parameter",
            ),
            (
                "[[conditions]]\nname = \"a\"\n[[conditions]]\nname = \"b\"\nstrategy = \"macd\"\n",
                "condor.toml: conditions[2] (\"b\"): key strategy: unknown strategy \"macd\"",
            ),
            (
                "[[conditions]]\nname = \"a\"\nbudget_won = 0\n",
                "condor.toml: conditions[1] (\"a\"): key budget_won: must be 1..=1000000000000, got 0",
            ),
            (
                "[[conditions]]\nname = \"a\"\nbudget_won = 1.5\n",
                "condor.toml: conditions[1] (\"a\"): key budget_won: must be a whole number, a word or true/false, got float",
            ),
            (
                "[[conditions]]\nname = \"a\"\nmax_positions = 0\n",
                "condor.toml: conditions[1] (\"a\"): key max_positions: must be 1..=1000, got 0",
            ),
            (
                "[[conditions]]\nname = \"a\"\nentry_cutoff = \"151600\"\n",
                "condor.toml: conditions[1] (\"a\"): strategy parameter entry_cutoff: must be before flatten_at",
            ),
            (
                "[[conditions]]\nname = \"a\"\n[[conditions]]\nname = \"a\"\n",
                "condor.toml: conditions[2] (\"a\"): key name: listed twice",
            ),
            ("", "condor.toml: no [[conditions]]"),
        ];
        for (text, want) in cases {
            let e = parse_err(text);
            assert!(e.starts_with(want), "{text}\n got: {e}\nwant: {want}");
        }
        // An unknown key and a malformed file: toml's own message, with the line.
        let e = parse_err("[[conditions]]\nname = \"a\"\nbudget = 1\n");
        assert!(
            e.starts_with("condor.toml: ") && e.contains("budget"),
            "{e}"
        );
        let e = parse_err("[[conditions]\nname = ");
        assert!(
            e.starts_with("condor.toml: ") && e.contains("line 1"),
            "{e}"
        );
    }
}
