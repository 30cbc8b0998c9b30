//! `condor strategies`: every registered strategy, its parameters with their defaults,
//! ranges and help, as text or `--json`.
//!
//! Owns the listing's layout only. Must never build a strategy or read configuration: it
//! shows what a strategy declares, not what a run would use.

use clap::Args;
use condor_actors::strategy::{StrategyInfo, StrategyRegistry};

#[derive(Args, Debug, Clone)]
pub struct StrategiesArgs {
    /// One JSON document: an array of strategies, each with its parameters.
    #[arg(long)]
    pub json: bool,
}

/// Prints the listing of `registry`'s strategies.
pub fn run(args: &StrategiesArgs, registry: &StrategyRegistry) -> anyhow::Result<()> {
    let out = if args.json {
        serde_json::to_string_pretty(&json(registry))?
    } else {
        text(registry)
    };
    println!("{out}");
    Ok(())
}

fn params_of(s: &StrategyInfo<'_>) -> Vec<(&'static str, String, String, &'static str)> {
    let values = s.defaults.settings();
    s.defaults
        .specs()
        .zip(values)
        .map(|(spec, (_, default))| (spec.name, default, spec.range(), spec.help))
        .collect()
}

/// Each strategy: its name and what it does, then one line a parameter.
pub fn text(registry: &StrategyRegistry) -> String {
    let mut out = String::new();
    for s in registry.strategies() {
        out.push_str(&format!("{}: {}\n", s.name, s.about));
        let rows = params_of(&s);
        let w_name = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let w_default = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
        let w_range = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
        for (name, default, range, help) in rows {
            out.push_str(&format!(
                "  {name:<w_name$}  {default:<w_default$}  {range:<w_range$}  {help}\n"
            ));
        }
        out.push('\n');
    }
    out.push_str(
        "Set a parameter with CONDOR_PARAM_<NAME>=VALUE (environment or .env), --param NAME=VALUE\n\
         or condor backtest --set NAME=VALUE.",
    );
    out
}

pub fn json(registry: &StrategyRegistry) -> serde_json::Value {
    let strategies: Vec<serde_json::Value> = registry
        .strategies()
        .map(|s| {
            let params: Vec<serde_json::Value> = params_of(&s)
                .into_iter()
                .map(|(name, default, range, help)| {
                    serde_json::json!({
                        "name": name,
                        "default": default,
                        "range": range,
                        "help": help,
                        "env": format!("{}{}", crate::cli::PARAM_VAR_PREFIX, name.to_ascii_uppercase()),
                    })
                })
                .collect();
            serde_json::json!({ "name": s.name, "about": s.about, "params": params })
        })
        .collect();
    serde_json::Value::Array(strategies)
}

#[cfg(test)]
mod tests {
    use condor_actors::strategy::ParamSpec;

    use super::*;

    #[test]
    fn every_strategy_and_parameter_is_listed_with_its_default_and_range() {
        let mut registry = StrategyRegistry::new();
        registry.register(
            "breakout",
            "buys a new high",
            &[ParamSpec::int(
                "lookback",
                2,
                50,
                5,
                "trades whose high to clear",
            )],
            |_| unreachable!("listing builds nothing"),
        );
        let t = text(&registry);
        assert!(t.starts_with("momentum: "), "{t}");
        assert!(t.contains("\nbreakout: buys a new high\n"), "{t}");
        let line = t.lines().find(|l| l.contains("confirm_ticks")).unwrap();
        assert!(line.contains(" 3 ") && line.contains("1..=100"), "{line}");
        let line = t.lines().find(|l| l.contains("lookback")).unwrap();
        assert!(
            line.contains(" 5 ") && line.contains("2..=50") && line.ends_with("to clear"),
            "{line}"
        );
        let j = json(&registry);
        assert_eq!(j[1]["name"], "vwap-band");
        assert_eq!(j[2]["name"], "breakout");
        assert_eq!(j[2]["params"][3]["env"], "CONDOR_PARAM_LOOKBACK");
        assert_eq!(j[0]["params"][0]["name"], "budget_won");
        assert_eq!(j[0]["params"][0]["default"], "1000000");
    }
}
