//! A strict parser of the Prometheus text exposition format (version 0.0.4), for tests:
//! every line must be a comment, a `# HELP`/`# TYPE` line or a well-formed sample, and the
//! format's rules hold (valid names, escapes, one HELP and TYPE per family and before its
//! samples, a family's samples together, no series twice, counters not negative, histogram
//! buckets cumulative with `+Inf` equal to `_count`). The first violation is an error naming
//! the line. No crate fitted: `prometheus-parse` skips any line it cannot read.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
    Summary,
    Untyped,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The sample's own name (`x_bucket`, `x_sum`… for a histogram `x`).
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

#[derive(Clone, Debug)]
pub struct Family {
    pub kind: Kind,
    pub help: Option<String>,
    pub samples: Vec<Sample>,
}

#[derive(Clone, Debug, Default)]
pub struct Exposition {
    pub families: BTreeMap<String, Family>,
}

impl Exposition {
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.get(name)
    }

    /// The value of the sample `name` whose labels include all of `labels`; panics if there
    /// is not exactly one.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let found: Vec<&Sample> = self
            .families
            .values()
            .flat_map(|f| &f.samples)
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect();
        assert_eq!(found.len(), 1, "exactly one {name}{labels:?}: {found:?}");
        found[0].value
    }
}

fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A float as Go's ParseFloat reads it (what Prometheus uses), with ±Inf and NaN.
fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" | "Inf" => return Ok(f64::INFINITY),
        "-Inf" => return Ok(f64::NEG_INFINITY),
        "NaN" => return Ok(f64::NAN),
        _ => {}
    }
    let ok = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !ok {
        return Err(format!("{s:?} is not a number"));
    }
    s.parse::<f64>()
        .map_err(|_| format!("{s:?} is not a number"))
}

/// `{a="x",b="y"}` → labels, and what follows the closing brace.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = s.strip_prefix('{').ok_or("labels must start with {")?;
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("a label without =")?;
        let name = rest[..eq].trim();
        if !is_label_name(name) {
            return Err(format!("{name:?} is not a label name"));
        }
        rest = rest[eq + 1..]
            .trim_start()
            .strip_prefix('"')
            .ok_or("a label value must be quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                None => return Err("an unterminated label value".into()),
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("a bad escape \\{other:?} in a label value")),
                },
                Some((_, '\n')) => return Err("a raw newline in a label value".into()),
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name:?} twice"));
        }
        rest = rest[end + 1..].trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("labels must be separated by commas".into());
        }
    }
}

fn family_of<'a>(name: &'a str, declared: &BTreeMap<String, Family>) -> &'a str {
    if declared.contains_key(name) {
        return name;
    }
    for (suffix, kinds) in [
        ("_bucket", &[Kind::Histogram][..]),
        ("_sum", &[Kind::Histogram, Kind::Summary][..]),
        ("_count", &[Kind::Histogram, Kind::Summary][..]),
    ] {
        if let Some(base) = name.strip_suffix(suffix) {
            if declared.get(base).is_some_and(|f| kinds.contains(&f.kind)) {
                return base;
            }
        }
    }
    name
}

pub fn parse(text: &str) -> Result<Exposition, String> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut helped = HashSet::new();
    let mut typed = HashSet::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut series = HashSet::new();
    if !text.is_empty() && !text.ends_with('\n') {
        return Err("the text must end with a newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            let (keyword, name, rest) = (
                words.next().unwrap_or_default(),
                words.next(),
                words.next().unwrap_or_default(),
            );
            match (keyword, name) {
                ("HELP", Some(name)) => {
                    if !is_metric_name(name) {
                        return Err(at(format!("{name:?} is not a metric name")));
                    }
                    if !helped.insert(name.to_owned()) {
                        return Err(at("a second HELP for the family".into()));
                    }
                    if finished.contains(name) || current.as_deref() == Some(name) {
                        return Err(at("HELP after the family's samples".into()));
                    }
                    let mut doc = String::new();
                    let mut chars = rest.chars();
                    while let Some(c) = chars.next() {
                        if c == '\\' {
                            match chars.next() {
                                Some('\\') => doc.push('\\'),
                                Some('n') => doc.push('\n'),
                                other => {
                                    return Err(at(format!("a bad escape \\{other:?} in HELP")))
                                }
                            }
                        } else {
                            doc.push(c);
                        }
                    }
                    families
                        .entry(name.to_owned())
                        .or_insert(Family {
                            kind: Kind::Untyped,
                            help: None,
                            samples: Vec::new(),
                        })
                        .help = Some(doc);
                }
                ("TYPE", Some(name)) => {
                    if !is_metric_name(name) {
                        return Err(at(format!("{name:?} is not a metric name")));
                    }
                    let kind = match rest {
                        "counter" => Kind::Counter,
                        "gauge" => Kind::Gauge,
                        "histogram" => Kind::Histogram,
                        "summary" => Kind::Summary,
                        "untyped" => Kind::Untyped,
                        other => return Err(at(format!("{other:?} is not a metric type"))),
                    };
                    if finished.contains(name) || current.as_deref() == Some(name) {
                        return Err(at("TYPE after the family's samples".into()));
                    }
                    if !typed.insert(name.to_owned()) {
                        return Err(at("a second TYPE for the family".into()));
                    }
                    families
                        .entry(name.to_owned())
                        .or_insert(Family {
                            kind,
                            help: None,
                            samples: Vec::new(),
                        })
                        .kind = kind;
                }
                ("HELP" | "TYPE", None) => return Err(at("HELP and TYPE need a name".into())),
                _ => {} // any other comment
            }
            continue;
        }
        // A sample.
        let name_end = line
            .find(['{', ' ', '\t'])
            .ok_or_else(|| at("a sample without a value".into()))?;
        let name = &line[..name_end];
        if !is_metric_name(name) {
            return Err(at(format!("{name:?} is not a metric name")));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let value = match fields.as_slice() {
            [v] => parse_value(v).map_err(at)?,
            [v, ts] => {
                ts.parse::<i64>()
                    .map_err(|_| at(format!("{ts:?} is not a timestamp")))?;
                parse_value(v).map_err(at)?
            }
            _ => {
                return Err(at(
                    "a sample is a name, labels, a value and maybe a timestamp".into(),
                ))
            }
        };
        let family = family_of(name, &families).to_owned();
        if current.as_deref() != Some(family.as_str()) {
            if finished.contains(&family) {
                return Err(at(format!("the samples of {family} are not together")));
            }
            if let Some(prev) = current.replace(family.clone()) {
                finished.insert(prev);
            }
        }
        if !series.insert((name.to_owned(), labels.clone())) {
            return Err(at("the same series twice".into()));
        }
        let f = families.entry(family.clone()).or_insert(Family {
            kind: Kind::Untyped,
            help: None,
            samples: Vec::new(),
        });
        match f.kind {
            Kind::Counter if value.is_nan() || value < 0.0 => {
                return Err(at("a counter below zero".into()))
            }
            Kind::Histogram if name.ends_with("_bucket") && !labels.contains_key("le") => {
                return Err(at("a bucket without le".into()))
            }
            Kind::Histogram if labels.contains_key("le") && !name.ends_with("_bucket") => {
                return Err(at("le on a sample that is not a bucket".into()))
            }
            Kind::Histogram if name == family => {
                return Err(at(
                    "a histogram's samples are _bucket, _sum and _count".into()
                ))
            }
            _ => {}
        }
        f.samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    for (name, f) in &families {
        if f.kind == Kind::Histogram {
            check_histogram(name, f)?;
        }
    }
    Ok(Exposition { families })
}

/// Per label set: buckets cumulative in `le` order, a `+Inf` bucket equal to `_count`, a `_sum`.
fn check_histogram(name: &str, f: &Family) -> Result<(), String> {
    // Per label set (le aside): the buckets (le, count), the _sum, the _count.
    type Group = (Vec<(f64, f64)>, Option<f64>, Option<f64>);
    let mut groups: BTreeMap<Vec<(String, String)>, Group> = BTreeMap::new();
    for s in &f.samples {
        let key: Vec<(String, String)> = s
            .labels
            .iter()
            .filter(|(k, _)| *k != "le")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let g = groups.entry(key).or_default();
        if s.name.ends_with("_bucket") {
            g.0.push((parse_value(&s.labels["le"])?, s.value));
        } else if s.name.ends_with("_sum") {
            g.1 = Some(s.value);
        } else {
            g.2 = Some(s.value);
        }
    }
    for (labels, (buckets, sum, count)) in groups {
        let what = format!("histogram {name}{labels:?}");
        let count = count.ok_or(format!("{what} has no _count"))?;
        sum.ok_or(format!("{what} has no _sum"))?;
        let mut sorted = buckets.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        if sorted.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(format!("{what} has a bucket twice"));
        }
        if sorted.windows(2).any(|w| w[1].1 < w[0].1) {
            return Err(format!("{what}'s buckets are not cumulative: {sorted:?}"));
        }
        match sorted.last() {
            Some((le, n)) if le.is_infinite() && *n == count => {}
            _ => {
                return Err(format!(
                    "{what} needs a +Inf bucket equal to _count {count}"
                ))
            }
        }
    }
    Ok(())
}
