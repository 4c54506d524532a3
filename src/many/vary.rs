//! `--vary KEY=VALUES`: the axes of a sweep. `VALUES` is a list `a,b,c`
//! (commas inside `[...]`, `{...}` or quotes do not split) or a range
//! `FROM..TO:N` of N evenly spaced values, ends included, in the key's own
//! units: rates (`600/min..6000/min:10`), durations (`100ms..1s:4`),
//! percentages (`50%..90%:5`) or plain numbers (`2..12:6`). Every value
//! is later applied as `--set KEY=VALUE`, so it meets the same checks.

use super::output::Axis;
use crate::scenario::key_segments;
use crate::time::{Rate, SimDuration};

/// Most values one axis may have, and most points a grid may have.
pub const MAX_VALUES: usize = 10_000;
pub const MAX_POINTS: usize = 100_000;

/// What is wrong with a `--vary` argument, and how to fix it.
#[derive(Debug, thiserror::Error)]
#[error("invalid --vary `{arg}`: {message}")]
pub struct VaryError {
    pub arg: String,
    pub message: String,
}

/// Parses every `--vary` argument; a key may be varied once.
pub fn parse_all(args: &[String]) -> Result<Vec<Axis>, VaryError> {
    let mut axes: Vec<Axis> = Vec::with_capacity(args.len());
    for arg in args {
        let axis = parse(arg)?;
        if axes.iter().any(|a| a.key == axis.key) {
            return Err(error(
                arg,
                format!(
                    "`{}` is varied twice; give all its values in one --vary",
                    axis.key
                ),
            ));
        }
        axes.push(axis);
    }
    let points = axes
        .iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()));
    match points {
        Some(n) if n <= MAX_POINTS => Ok(axes),
        _ => Err(error(
            args.last().map_or("", String::as_str),
            format!(
                "the grid has more than {MAX_POINTS} points; vary fewer keys or give fewer values"
            ),
        )),
    }
}

fn error(arg: &str, message: String) -> VaryError {
    VaryError {
        arg: arg.to_string(),
        message,
    }
}

/// One `KEY=VALUES`.
pub fn parse(arg: &str) -> Result<Axis, VaryError> {
    let (key, values) = arg.split_once('=').ok_or_else(|| {
        error(arg, "expected `KEY=VALUES`, e.g. `--vary load.0.arrival.rate=4/s..9/s:6` or `--vary org.agent.server.slots=8,10,12`".into())
    })?;
    let key = key.trim();
    key_segments(key).map_err(|m| error(arg, m))?;
    let values = values.trim();
    let values = match split_range(values) {
        Some((from, to, n)) => range(from, to, n).map_err(|m| error(arg, m))?,
        None => list(values).map_err(|m| error(arg, m))?,
    };
    let (numeric, unit) = magnitudes(&values);
    Ok(Axis {
        key: key.to_string(),
        values,
        numeric,
        unit: unit.to_string(),
    })
}

/// `FROM..TO:N` → (FROM, TO, N), when the text has that shape.
fn split_range(s: &str) -> Option<(&str, &str, &str)> {
    let (ends, n) = s.rsplit_once(':')?;
    let (from, to) = ends.split_once("..")?;
    Some((from.trim(), to.trim(), n.trim()))
}

/// A comma-separated list; commas inside brackets, braces or quotes stay.
fn list(s: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push(s[start..i].trim().to_string());
                start = i + 1;
            }
            (None, _) => {}
        }
    }
    items.push(s[start..].trim().to_string());
    if items.iter().any(String::is_empty) {
        return Err(
            "a value is empty; write a list `a,b,c` or a range `FROM..TO:N`, e.g. `4/s..9/s:6`"
                .into(),
        );
    }
    if items.len() > MAX_VALUES {
        return Err(format!("more than {MAX_VALUES} values"));
    }
    Ok(items)
}

/// N evenly spaced values from `from` to `to`, in `from`'s kind of unit.
fn range(from: &str, to: &str, n: &str) -> Result<Vec<String>, String> {
    let n: usize = n
        .parse()
        .ok()
        .filter(|n| (2..=MAX_VALUES).contains(n))
        .ok_or_else(|| format!("the count after `:` must be a whole number from 2 to {MAX_VALUES} (the number of values, ends included), not `{n}`"))?;
    let a = Quantity::parse(from).ok_or_else(|| not_a_quantity(from))?;
    let b = Quantity::parse(to).ok_or_else(|| not_a_quantity(to))?;
    if a.unit != b.unit {
        return Err(format!(
            "`{from}` and `{to}` are in different units; write both ends in the same unit, e.g. `600/min..6000/min:10`"
        ));
    }
    Ok((0..n)
        .map(|i| {
            a.unit
                .format(a.value + (b.value - a.value) * i as f64 / (n - 1) as f64)
        })
        .collect())
}

fn not_a_quantity(s: &str) -> String {
    format!("`{s}` is not a number, rate (`600/min`), duration (`250ms`) or percentage (`80%`), so it cannot bound a range; list the values instead (`a,b,c`)")
}

/// A number in the unit it was written in.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Quantity {
    value: f64,
    unit: Unit,
    /// The value in the canonical unit: rates per minute, durations in
    /// ns, percentages as fractions.
    canonical: f64,
}

/// The unit a range is written in: how to read and write its values.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    /// `N/<time unit>`; the time unit as written (`min`, `s`, ...).
    Rate(&'static str),
    /// A duration, stepped in whole nanoseconds.
    Duration,
    Percent,
    Number,
}

/// The time units a rate may be written per (as `crate::time` reads them).
const RATE_UNITS: [&str; 17] = [
    "ns", "us", "µs", "ms", "s", "sec", "secs", "m", "min", "mins", "h", "hr", "hour", "hours",
    "d", "day", "days",
];

impl Quantity {
    fn parse(s: &str) -> Option<Quantity> {
        let s = s.trim();
        if let Some((count, unit)) = s.split_once('/') {
            let rate = s.parse::<Rate>().ok()?;
            let unit = RATE_UNITS.iter().find(|u| **u == unit.trim())?;
            let value = finite(count.trim())?;
            return Some(Quantity {
                value,
                unit: Unit::Rate(unit),
                canonical: rate.per_min(),
            });
        }
        if let Some(p) = s.strip_suffix('%') {
            let value = finite(p.trim())?;
            return Some(Quantity {
                value,
                unit: Unit::Percent,
                canonical: value / 100.0,
            });
        }
        if let Ok(d) = s.parse::<SimDuration>() {
            let value = d.0 as f64;
            return Some(Quantity {
                value,
                unit: Unit::Duration,
                canonical: value,
            });
        }
        let value = finite(s)?;
        Some(Quantity {
            value,
            unit: Unit::Number,
            canonical: value,
        })
    }
}

fn finite(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl Unit {
    fn format(self, value: f64) -> String {
        match self {
            Unit::Rate(per) => format!("{}/{per}", number(value)),
            Unit::Duration => SimDuration(value.round().max(0.0) as u64).to_string(),
            Unit::Percent => format!("{}%", number(value)),
            Unit::Number => number(value),
        }
    }
}

/// A number written briefly: whole numbers without a fraction, others to
/// 9 significant digits with trailing zeros trimmed.
fn number(v: f64) -> String {
    if v == v.round() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    let digits = (8 - v.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let s = format!("{v:.digits$}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Each value as a number in its canonical unit (rates per minute,
/// durations in ns, percentages as fractions) and that unit's name; a
/// value of another kind than the first has none.
fn magnitudes(values: &[String]) -> (Vec<Option<f64>>, &'static str) {
    let quantities: Vec<Option<Quantity>> = values.iter().map(|v| Quantity::parse(v)).collect();
    let first = quantities.iter().flatten().next().map(|q| q.unit);
    let same_kind = |q: &Quantity| match (first, q.unit) {
        (Some(Unit::Rate(_)), Unit::Rate(_)) => true,
        (Some(a), b) => a == b,
        (None, _) => false,
    };
    let numeric = quantities
        .iter()
        .map(|q| q.filter(same_kind).map(|q| q.canonical))
        .collect();
    let unit = match first {
        Some(Unit::Rate(_)) => "per_min",
        Some(Unit::Duration) => "ns",
        Some(Unit::Percent) => "fraction",
        Some(Unit::Number) | None => "",
    };
    (numeric, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(arg: &str) -> Vec<String> {
        parse(arg).unwrap().values
    }

    #[test]
    fn ranges_keep_the_unit() {
        assert_eq!(
            values("k=4/s..9/s:6"),
            ["4/s", "5/s", "6/s", "7/s", "8/s", "9/s"]
        );
        assert_eq!(
            values("k=600/min..6000/min:4"),
            ["600/min", "2400/min", "4200/min", "6000/min"]
        );
        assert_eq!(values("k=2..12:6"), ["2", "4", "6", "8", "10", "12"]);
        assert_eq!(values("k=100ms..1s:4"), ["100ms", "400ms", "700ms", "1s"]);
        assert_eq!(values("k=50%..90%:3"), ["50%", "70%", "90%"]);
        assert_eq!(values("k=1..2:4"), ["1", "1.33333333", "1.66666667", "2"]);
    }

    #[test]
    fn lists_split_at_top_level_commas() {
        assert_eq!(values("k=8,10,12"), ["8", "10", "12"]);
        assert_eq!(values(r#"k=["a","b"],["c"]"#), [r#"["a","b"]"#, r#"["c"]"#]);
        assert_eq!(values("k=< 5s"), ["< 5s"]);
    }

    #[test]
    fn magnitudes_are_canonical() {
        let a = parse("k=4/s..6/s:3").unwrap();
        assert_eq!(a.unit, "per_min");
        assert_eq!(a.numeric, [Some(240.0), Some(300.0), Some(360.0)]);
        let b = parse(r#"k=1s,2s,x"#).unwrap();
        assert_eq!(b.numeric, [Some(1e9), Some(2e9), None]);
    }

    #[test]
    fn bad_input_says_how_to_fix_it() {
        for (arg, needle) in [
            ("k", "expected `KEY=VALUES`"),
            ("k=1..5:1", "whole number from 2"),
            ("k=1..5:x", "whole number from 2"),
            ("k=1/s..5/min:3", "different units"),
            ("k=a..b:3", "cannot bound a range"),
            ("k=1,,2", "a value is empty"),
            ("=1,2", "empty segment"),
        ] {
            let e = parse(arg).unwrap_err().to_string();
            assert!(e.contains(needle), "{arg}: {e}");
        }
        let e = parse_all(&["k=1,2".into(), "k=3,4".into()]).unwrap_err();
        assert!(e.to_string().contains("varied twice"));
    }
}
