//! Parameter sweeps: a grid of strategy parameters (`--set take_profit_bp=100,150,200
//! --set stop_loss_bp=50,100`), its combinations in one fixed order, deterministic shards
//! of it for batch schedulers (`--shard I/N`: every N-th combination from the I-th), and
//! the merge of shard results into exactly the table one run gives.
//!
//! Pure: no I/O, no threads (the CLI runs the combinations on all cores).

use serde::{Deserialize, Serialize};

use super::report::Report;

/// A grid of parameter values; combination 0 takes every parameter's first value, and the
/// last parameter changes fastest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    params: Vec<(String, Vec<String>)>,
}

/// A grid, shard or merge that cannot be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SweepError {
    #[error("--set {0}: expected NAME=VALUE[,VALUE…]")]
    BadSet(String),
    #[error("--set {name}: an empty value in {values:?}")]
    EmptyValue { name: String, values: String },
    #[error("--set {0} is given twice")]
    Repeated(String),
    #[error("--shard {0}: expected I/N with 1 <= I <= N")]
    BadShard(String),
    #[error("{file}: a shard of another grid ({theirs}; the first file's is {ours})")]
    OtherGrid {
        file: String,
        ours: String,
        theirs: String,
    },
    #[error("{file}: combination {index} is in another shard too")]
    Overlap { file: String, index: usize },
    #[error("the shards miss {missing} of the grid's {total} combinations (the first missing is {first})")]
    Missing {
        missing: usize,
        total: usize,
        first: usize,
    },
    #[error("nothing to merge")]
    NothingToMerge,
}

impl Grid {
    /// The grid `--set` gives: each `(name, "v1,v2,…")` in the order given.
    pub fn parse(sets: &[(String, String)]) -> Result<Grid, SweepError> {
        let mut params: Vec<(String, Vec<String>)> = Vec::new();
        for (name, values) in sets {
            if params.iter().any(|(n, _)| n == name) {
                return Err(SweepError::Repeated(name.clone()));
            }
            let list: Vec<String> = values.split(',').map(|v| v.trim().to_owned()).collect();
            if list.iter().any(String::is_empty) {
                return Err(SweepError::EmptyValue {
                    name: name.clone(),
                    values: values.clone(),
                });
            }
            params.push((name.clone(), list));
        }
        Ok(Grid { params })
    }

    /// Combinations in the grid (1 for an empty grid: the settings as they are).
    pub fn len(&self) -> usize {
        self.params.iter().map(|(_, v)| v.len()).product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether any parameter has more than one value (a sweep rather than one run).
    pub fn is_sweep(&self) -> bool {
        self.params.iter().any(|(_, v)| v.len() > 1)
    }

    /// Combination `index`: each parameter's value in it.
    pub fn combination(&self, index: usize) -> Vec<(String, String)> {
        let mut rest = index;
        let mut out: Vec<(String, String)> = self
            .params
            .iter()
            .rev()
            .map(|(name, values)| {
                let v = values[rest % values.len()].clone();
                rest /= values.len();
                (name.clone(), v)
            })
            .collect();
        out.reverse();
        out
    }

    /// The grid as text, to tell shards of different grids apart.
    pub fn fingerprint(&self) -> String {
        self.params
            .iter()
            .map(|(n, v)| format!("{n}={}", v.join(",")))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The combinations shard `i` of `n` runs: every n-th from the (i−1)-th.
    pub fn shard(&self, shard: Shard) -> Vec<usize> {
        (0..self.len())
            .filter(|k| k % shard.of == shard.index - 1)
            .collect()
    }
}

/// `--shard I/N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub of: usize,
}

impl std::str::FromStr for Shard {
    type Err = SweepError;
    fn from_str(s: &str) -> Result<Shard, SweepError> {
        let bad = || SweepError::BadShard(s.to_owned());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, of) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index == 0 || index > of {
            return Err(bad());
        }
        Ok(Shard { index, of })
    }
}

/// One combination's result: the summary columns of the report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub index: usize,
    pub params: Vec<(String, String)>,
    pub net_pnl: i64,
    pub commission: i64,
    pub tax: i64,
    pub trades: u64,
    pub win_rate: f64,
    pub avg_win: i64,
    pub avg_loss: i64,
    pub profit_factor: f64,
    pub max_drawdown: i64,
    pub exposure: f64,
    pub orders: u64,
    pub fills: u64,
}

impl Row {
    pub fn new(index: usize, params: Vec<(String, String)>, r: &Report) -> Row {
        Row {
            index,
            params,
            net_pnl: r.net_pnl,
            commission: r.commission,
            tax: r.tax,
            trades: r.trades,
            win_rate: r.win_rate,
            avg_win: r.avg_win,
            avg_loss: r.avg_loss,
            profit_factor: r.profit_factor,
            max_drawdown: r.max_drawdown,
            exposure: r.exposure,
            orders: r.orders,
            fills: r.fills,
        }
    }
}

/// A sweep's table (a whole grid, or one shard of it), best first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    pub grid: String,
    pub combinations: usize,
    pub shard: Option<Shard>,
    pub rows: Vec<Row>,
}

impl Sweep {
    pub fn new(grid: &Grid, shard: Option<Shard>, mut rows: Vec<Row>) -> Sweep {
        rank(&mut rows);
        Sweep {
            grid: grid.fingerprint(),
            combinations: grid.len(),
            shard,
            rows,
        }
    }
}

/// Best first: the highest net P&L, then the smaller drawdown, then grid order.
pub fn rank(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.net_pnl
            .cmp(&a.net_pnl)
            .then(a.max_drawdown.cmp(&b.max_drawdown))
            .then(a.index.cmp(&b.index))
    });
}

/// Joins shard tables (named by their files, for errors) into the table one run of the
/// whole grid gives. Refuses shards of different grids, overlapping shards and an
/// incomplete set.
pub fn merge(parts: Vec<(String, Sweep)>) -> Result<Sweep, SweepError> {
    let mut iter = parts.into_iter();
    let (_, first) = iter.next().ok_or(SweepError::NothingToMerge)?;
    let (grid, total) = (first.grid.clone(), first.combinations);
    let mut seen = vec![false; total];
    let mut rows = Vec::with_capacity(total);
    for (file, part) in std::iter::once((String::new(), first)).chain(iter) {
        if part.grid != grid || part.combinations != total {
            return Err(SweepError::OtherGrid {
                file,
                ours: grid,
                theirs: part.grid,
            });
        }
        for row in part.rows {
            match seen.get_mut(row.index) {
                Some(s) if !*s => *s = true,
                _ => {
                    return Err(SweepError::Overlap {
                        file,
                        index: row.index,
                    })
                }
            }
            rows.push(row);
        }
    }
    if let Some(first) = seen.iter().position(|s| !s) {
        return Err(SweepError::Missing {
            missing: seen.iter().filter(|s| !**s).count(),
            total,
            first,
        });
    }
    rank(&mut rows);
    Ok(Sweep {
        grid,
        combinations: total,
        shard: None,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        Grid::parse(&[
            ("take_profit_bp".into(), "100,150,200".into()),
            ("stop_loss_bp".into(), "50,100".into()),
        ])
        .unwrap()
    }

    fn row(index: usize, net: i64) -> Row {
        let mut r = Report::default();
        r.net_pnl = net;
        Row::new(index, grid().combination(index), &r)
    }

    #[test]
    fn combinations_run_in_grid_order_the_last_parameter_fastest() {
        let g = grid();
        assert_eq!(g.len(), 6);
        assert!(g.is_sweep());
        let c = |i| {
            g.combination(i)
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join("/")
        };
        assert_eq!(
            (0..6).map(c).collect::<Vec<_>>(),
            ["100/50", "100/100", "150/50", "150/100", "200/50", "200/100"]
        );
    }

    #[test]
    fn shards_cover_the_grid_once_and_merge_into_the_whole_table() {
        let g = grid();
        let shards: Vec<Shard> = ["1/3", "2/3", "3/3"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let nets = [5, -3, 9, 9, 0, 1];
        let whole = Sweep::new(&g, None, (0..6).map(|i| row(i, nets[i])).collect());
        let parts: Vec<(String, Sweep)> = shards
            .iter()
            .map(|s| {
                let rows = g.shard(*s).into_iter().map(|i| row(i, nets[i])).collect();
                (format!("{}.json", s.index), Sweep::new(&g, Some(*s), rows))
            })
            .collect();
        let merged = merge(parts.clone()).unwrap();
        assert_eq!(merged, whole);
        // Best first, ties in grid order.
        let order: Vec<usize> = merged.rows.iter().map(|r| r.index).collect();
        assert_eq!(order, [2, 3, 0, 5, 4, 1]);
        // Two shards only: what is missing is named.
        let err = merge(parts[..2].to_vec()).unwrap_err();
        assert!(
            matches!(err, SweepError::Missing { missing: 2, .. }),
            "{err}"
        );
        // The same shard twice overlaps.
        let err = merge(vec![parts[0].clone(), parts[0].clone()]).unwrap_err();
        assert!(matches!(err, SweepError::Overlap { .. }), "{err}");
    }

    #[test]
    fn shards_of_another_grid_are_refused_naming_the_file() {
        let g = grid();
        let other = Grid::parse(&[("take_profit_bp".into(), "100,150".into())]).unwrap();
        let a = Sweep::new(&g, None, (0..6).map(|i| row(i, 0)).collect());
        let b = Sweep::new(&other, None, vec![]);
        let err = merge(vec![("a.json".into(), a), ("b.json".into(), b)]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("b.json: a shard of another grid"),
            "{err}"
        );
    }

    #[test]
    fn bad_grids_and_shards_name_the_argument() {
        let e = Grid::parse(&[("x".into(), "1,,2".into())]).unwrap_err();
        assert_eq!(e.to_string(), "--set x: an empty value in \"1,,2\"");
        let e = Grid::parse(&[("x".into(), "1".into()), ("x".into(), "2".into())]).unwrap_err();
        assert_eq!(e.to_string(), "--set x is given twice");
        for bad in ["0/3", "4/3", "1", "a/b"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
