//! `condor backtest`: recorded days through the trading core with a fill model
//! (`condor_actors::backtest`), as one run with its report, or as a parameter sweep on all
//! cores, whole or as a deterministic shard; `condor backtest merge` joins shards.
//!
//! The strategy, risk and fee settings are `condor run`'s own (the same `CONDOR_*`
//! variables and `.env`), with `--set` on top. Reads tapes; writes only the files it is
//! asked for (`--trades`, `--report`), each whole or not at all. Bad input (an unknown
//! strategy or parameter, a value out of range, an empty grid, a missing or corrupt tape,
//! shards of different grids) is an error naming the argument or file, exit code 2.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use clap::{Args, Parser, Subcommand};
use condor_actors::backtest::fills::Latency;
use condor_actors::backtest::report::{EquityPoint, FillRow, Report};
use condor_actors::backtest::sweep::{self, Grid, Row, Shard, Sweep};
use condor_actors::backtest::{self as bt, FillSource, Outcome, Settings};
use condor_actors::ledger::FeeSchedule;
use condor_actors::strategy::{Params, StrategyRegistry};
use condor_actors::tape::{self, TapeError, TapeReader, TapeRecord};
use rayon::prelude::*;

use crate::cli::{Cli, Command, RunArgs};

fn parse_set(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE[,VALUE…], got {s:?}"))?;
    if k.trim().is_empty() {
        return Err(format!("expected NAME=VALUE[,VALUE…], got {s:?}"));
    }
    Ok((k.trim().to_owned(), v.trim().to_owned()))
}

fn parse_fills(s: &str) -> Result<FillSource, String> {
    match s {
        "model" => Ok(FillSource::Model),
        "recorded" => Ok(FillSource::Recorded),
        _ => Err(format!("expected model or recorded, got {s:?}")),
    }
}

fn parse_latency(s: &str) -> Result<LatencyArg, String> {
    if s == "recorded" {
        return Ok(LatencyArg::Recorded);
    }
    s.parse::<u64>()
        .map(LatencyArg::FixedMs)
        .map_err(|_| format!("expected milliseconds or `recorded`, got {s:?}"))
}

/// How orders reach the exchange in the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LatencyArg {
    FixedMs(u64),
    /// Drawn (seeded) from the day's recorded intent→fill times.
    Recorded,
}

#[derive(Args, Debug, Clone)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BacktestArgs {
    #[command(subcommand)]
    pub merge: Option<MergeCommand>,
    /// Tapes to run: a tape file, a day (YYYY-MM-DD, under the data directory) or a
    /// directory of tapes; several days run in date order.
    #[arg(long, num_args = 1.., required = true)]
    pub tape: Vec<String>,
    /// Where condor keeps its tapes (under `tape/`).
    #[arg(long, env = "CONDOR_DATA_DIR", default_value = "condor-data")]
    pub data_dir: PathBuf,
    /// A strategy parameter, or a list of them to sweep: `--set take_profit_bp=100,150,200`
    /// (repeatable; the grid is every combination).
    #[arg(long = "set", value_parser = parse_set, value_name = "NAME=VALUE[,VALUE…]")]
    pub set: Vec<(String, String)>,
    /// Opening cash in won.
    #[arg(long, default_value_t = 100_000_000)]
    pub cash: i64,
    /// Carry cash and positions from one day to the next (otherwise each day starts afresh).
    #[arg(long)]
    pub carry: bool,
    /// Where fills come from: `model` (the tape's later trades) or `recorded` (the fills
    /// the live run received; reproduces a live day's P&L).
    #[arg(long, default_value = "model", value_parser = parse_fills)]
    pub fills: FillSource,
    /// Order latency in the model: milliseconds, or `recorded` (drawn from the day's
    /// recorded intent→fill times with --seed).
    #[arg(long = "latency-ms", default_value = "0", value_parser = parse_latency)]
    pub latency: LatencyArg,
    /// Seed of the latency draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Run only the I-th of N deterministic slices of the grid (batch schedulers).
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Print the report (or the sweep's table) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write every fill as CSV.
    #[arg(long, value_name = "FILE.csv")]
    pub trades: Option<PathBuf>,
    /// Write a self-contained HTML report (equity, drawdown, daily P&L, trades).
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<PathBuf>,
    /// Write every intent the strategies produced, in order, as JSON (the fields of
    /// `condor replay --json`'s intents, and the day).
    #[arg(long, value_name = "FILE.json")]
    pub intents: Option<PathBuf>,
}

#[derive(Subcommand, Debug, Clone)]
pub enum MergeCommand {
    /// Join the JSON tables of `--shard` runs into the table one run of the grid gives.
    Merge {
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
}

/// `condor run`'s settings as the environment and `.env` give them.
fn run_settings() -> anyhow::Result<RunArgs> {
    match Cli::try_parse_from(["condor", "run"]) {
        Ok(Cli {
            command: Some(Command::Run(args)),
        }) => Ok(*args),
        Ok(_) => bail!("cannot read condor run's settings"),
        Err(e) => Err(anyhow!("{}", e.to_string().trim())),
    }
}

/// Everything fixed for every combination of a grid.
struct Plan {
    days: Vec<(String, PathBuf)>,
    strategy: String,
    base: Params,
    settings: Settings,
    latency: LatencyArg,
    seed: u64,
}

pub fn run(args: &BacktestArgs) -> anyhow::Result<()> {
    run_with(args, &StrategyRegistry::new())
}

/// `condor backtest` with the strategies `registry` knows.
pub fn run_with(args: &BacktestArgs, registry: &StrategyRegistry) -> anyhow::Result<()> {
    if let Some(MergeCommand::Merge { shards, json }) = &args.merge {
        return merge(shards, *json);
    }
    let run = run_settings()?;
    let days = resolve_days(&args.tape, &args.data_dir)?;
    let (fees, _) = run.fee_schedule(Some(FeeSchedule::default()));
    let plan = Plan {
        days,
        strategy: run.strategy.clone(),
        base: run.strategy_params(registry)?,
        settings: Settings {
            risk: run.risk()?,
            fees,
            cash: args.cash,
            fills: args.fills,
            carry: args.carry,
            orders_per_sec: run.orders_per_sec,
            keep_intents: args.intents.is_some(),
        },
        latency: args.latency,
        seed: args.seed,
    };
    if args.cash <= 0 {
        bail!("--cash must be positive, got {}", args.cash);
    }
    let grid = Grid::parse(&args.set)?;
    if grid.is_empty() {
        bail!("--set: the grid is empty");
    }
    // Every combination's parameters are checked before any runs.
    for i in 0..grid.len() {
        params_for(&plan, &grid.combination(i), registry)?;
    }
    if grid.is_sweep() || args.shard.is_some() {
        if args.trades.is_some() || args.report.is_some() || args.intents.is_some() {
            bail!("--trades, --report and --intents describe one run: not with a sweep or --shard");
        }
        let indices = match args.shard {
            Some(s) => grid.shard(s),
            None => (0..grid.len()).collect(),
        };
        let rows: Vec<Row> = indices
            .par_iter()
            .map(|&i| {
                let combo = grid.combination(i);
                let out = backtest(&plan, &combo, registry)?;
                Ok(Row::new(i, combo, &out.report))
            })
            .collect::<anyhow::Result<_>>()?;
        let table = Sweep::new(&grid, args.shard, rows);
        print_sweep(&table, args.json)
    } else {
        let out = backtest(&plan, &grid.combination(0), registry)?;
        if let Some(path) = &args.trades {
            write_whole(path, trades_csv(&out.fills).as_bytes())?;
        }
        if let Some(path) = &args.intents {
            let rows: Vec<serde_json::Value> = out
                .intents
                .iter()
                .map(|(day, i)| {
                    let mut v = serde_json::to_value(i).unwrap_or_default();
                    v["day"] = serde_json::Value::from(day.as_str());
                    v
                })
                .collect();
            write_whole(path, serde_json::to_string(&rows)?.as_bytes())?;
        }
        if let Some(path) = &args.report {
            write_whole(
                path,
                crate::backtest_report::html(&out, &plan_label(&plan)).as_bytes(),
            )?;
        }
        print_report(&out.report, &plan, args.json)
    }
}

fn plan_label(plan: &Plan) -> String {
    let days: Vec<&str> = plan.days.iter().map(|(d, _)| d.as_str()).collect();
    format!("{} over {}", plan.strategy, days.join(", "))
}

/// The strategy's parameters for one combination: `condor run`'s, then the combination's.
fn params_for(
    plan: &Plan,
    combo: &[(String, String)],
    registry: &StrategyRegistry,
) -> anyhow::Result<Params> {
    let mut p = plan.base.clone();
    for (k, v) in combo {
        if !p.set(k, v).map_err(|e| anyhow!("--set {e}"))? {
            bail!(
                "--set {k}: not a parameter of {}; known: {}",
                plan.strategy,
                p.names().join(", ")
            );
        }
    }
    registry
        .build(&plan.strategy, &p)
        .map_err(|e| anyhow!("--set: {e}"))?;
    Ok(p)
}

/// The intent→fill latencies of the live day taped at `path`, streamed (one block in
/// memory, not the day). A damaged tail gives those before it, as reading it whole did.
fn streamed_latencies(path: &Path) -> Result<Vec<u64>, TapeError> {
    let mut reader = TapeReader::open(path)?;
    let mut error = None;
    let latencies = bt::recorded_latencies(std::iter::from_fn(|| {
        reader.next_record().unwrap_or_else(|e| {
            error = Some(e);
            None
        })
    }));
    match error {
        Some(e) => Err(e),
        None => Ok(latencies),
    }
}

/// One backtest over the plan's days with one combination of parameters.
fn backtest(
    plan: &Plan,
    combo: &[(String, String)],
    registry: &StrategyRegistry,
) -> anyhow::Result<Outcome> {
    let params = params_for(plan, combo, registry)?;
    let mut readers = Vec::new();
    for (day, path) in &plan.days {
        let reader = TapeReader::open(path).with_context(|| format!("tape {}", path.display()))?;
        readers.push((day.clone(), path.clone(), reader));
    }
    let days = readers.into_iter().map(|(day, path, mut reader)| {
        let mut done = false;
        let records = std::iter::from_fn(move || {
            if done {
                return None;
            }
            match reader.next_record() {
                Ok(Some(r)) => Some(Ok(r)),
                Ok(None) => {
                    done = true;
                    reader.damage().map(|d| {
                        Err(anyhow!(
                            "tape {}: damaged at byte {} after record #{}: {}",
                            path.display(),
                            d.offset,
                            d.after_seq,
                            d.reason
                        ))
                    })
                }
                Err(e) => {
                    done = true;
                    Some(Err(anyhow!("tape {}: {e}", path.display())))
                }
            }
        });
        (
            day,
            Box::new(records) as Box<dyn Iterator<Item = anyhow::Result<TapeRecord>>>,
        )
    });
    let mut latency_error = None;
    let out = bt::run(
        days,
        &plan.settings,
        || {
            registry
                .build(&plan.strategy, &params)
                .expect("checked by params_for")
        },
        |day| match plan.latency {
            LatencyArg::FixedMs(ms) => Latency::Fixed(ms.saturating_mul(1_000_000)),
            LatencyArg::Recorded => {
                let samples = plan
                    .days
                    .iter()
                    .find(|(d, _)| d == day)
                    .map(|(_, p)| streamed_latencies(p))
                    .unwrap_or_else(|| Ok(Vec::new()))
                    .unwrap_or_else(|e: TapeError| {
                        latency_error = Some(e.to_string());
                        Vec::new()
                    });
                Latency::Sampled {
                    samples,
                    rng: fastrand::Rng::with_seed(plan.seed),
                }
            }
        },
    )?;
    if let Some(e) = latency_error {
        bail!("--latency-ms recorded: {e}");
    }
    Ok(out)
}

/// The days `--tape` names, in date order, each once.
fn resolve_days(args: &[String], data_dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for arg in args {
        let path = PathBuf::from(arg);
        if path.is_dir() {
            let days = tape::list_days(&path).with_context(|| format!("--tape {arg}"))?;
            if days.is_empty() {
                bail!("--tape {arg}: no tapes (YYYY-MM-DD.tape) in this directory");
            }
            out.extend(days);
        } else if path.is_file() {
            let day = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| arg.clone());
            out.push((day, path));
        } else if let Ok(day) = arg.parse::<condor_actors::clock::TradingDay>() {
            let file = tape::day_path(&data_dir.join("tape"), day);
            if !file.is_file() {
                bail!(
                    "--tape {arg}: no tape for that day ({} does not exist)",
                    file.display()
                );
            }
            out.push((day.to_string(), file));
        } else {
            bail!("--tape {arg}: no such file or directory, and not a day (YYYY-MM-DD)");
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Writes `bytes` to `path` whole: a temporary file beside it, then a rename.
fn write_whole(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .map_or_else(|| "out".into(), |n| n.to_string_lossy())
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

fn trades_csv(fills: &[FillRow]) -> String {
    let mut s = String::from(
        "day,time,ticker,side,qty,price,commission,tax,realized_pnl,position_after,cash_after\n",
    );
    for f in fills {
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            f.day,
            f.time,
            f.ticker,
            f.side,
            f.qty,
            f.price,
            f.commission,
            f.tax,
            f.realized_pnl,
            f.position_after,
            f.cash_after
        ));
    }
    s
}

fn print_report(r: &Report, plan: &Plan, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(r)?)?;
        return Ok(());
    }
    let won = condor_actors::notify::render::won;
    let signed = condor_actors::notify::render::signed_won;
    writeln!(out, "backtest of {}", plan_label(plan))?;
    writeln!(
        out,
        "  net P&L          {} won ({} → {})",
        signed(r.net_pnl),
        won(r.opening_cash),
        won(r.closing_equity)
    )?;
    writeln!(
        out,
        "  realized         {} won, unrealized {} won; commission {} won, tax {} won",
        signed(r.realized_pnl),
        signed(r.unrealized_pnl),
        won(r.commission),
        won(r.tax)
    )?;
    writeln!(
        out,
        "  orders           {} sent, {} fills, {} refused by risk, {} rejected, {} cancelled at the close",
        r.orders, r.fills, r.refused, r.rejected, r.cancelled
    )?;
    writeln!(
        out,
        "  trades           {} round trips, win rate {:.1}%, average win {} won, average loss {} won, profit factor {:.2}",
        r.trades,
        r.win_rate * 100.0,
        signed(r.avg_win),
        signed(r.avg_loss),
        r.profit_factor
    )?;
    writeln!(
        out,
        "  max drawdown     {} won ({:.2}%); exposure {:.1}% of the session",
        won(r.max_drawdown),
        r.max_drawdown_share * 100.0,
        r.exposure * 100.0
    )?;
    writeln!(out, "\n  ticker   trades  wins  fills        net P&L")?;
    for (t, l) in &r.per_ticker {
        writeln!(
            out,
            "  {t}  {:>6} {:>5} {:>6} {:>14}",
            l.trades,
            l.wins,
            l.fills,
            signed(l.net_pnl)
        )?;
    }
    writeln!(out, "\n  day          trades  wins  fills        net P&L")?;
    for (d, l) in &r.per_day {
        writeln!(
            out,
            "  {d}  {:>6} {:>5} {:>6} {:>14}",
            l.trades,
            l.wins,
            l.fills,
            signed(l.net_pnl)
        )?;
    }
    Ok(())
}

fn print_sweep(table: &Sweep, json: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(table)?)?;
        return Ok(());
    }
    let signed = condor_actors::notify::render::signed_won;
    writeln!(
        out,
        "sweep of {} ({} combinations{}), best first",
        table.grid,
        table.combinations,
        table
            .shard
            .map_or_else(String::new, |s| format!(", shard {}/{}", s.index, s.of))
    )?;
    writeln!(
        out,
        "  {:<40} {:>14} {:>7} {:>8} {:>7} {:>13}",
        "parameters", "net P&L", "trades", "win rate", "PF", "max drawdown"
    )?;
    for r in &table.rows {
        let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(
            out,
            "  {:<40} {:>14} {:>7} {:>7.1}% {:>7.2} {:>13}",
            params.join(" "),
            signed(r.net_pnl),
            r.trades,
            r.win_rate * 100.0,
            r.profit_factor,
            signed(-r.max_drawdown)
        )?;
    }
    Ok(())
}

fn merge(files: &[PathBuf], json: bool) -> anyhow::Result<()> {
    let mut parts = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        let sweep: Sweep = serde_json::from_str(&text).with_context(|| {
            format!(
                "{}: not the --json output of a condor backtest --shard run",
                f.display()
            )
        })?;
        parts.push((f.display().to_string(), sweep));
    }
    let table = sweep::merge(parts)?;
    print_sweep(&table, json)
}

/// The equity curve's points as (Unix ms, won), for the charts.
pub fn curve_ms(curve: &[EquityPoint]) -> Vec<(i64, i64)> {
    curve
        .iter()
        .map(|p| (p.at_ns / 1_000_000, p.equity))
        .collect()
}
