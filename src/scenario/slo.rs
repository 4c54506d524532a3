//! `[slo]` validation: metric names (global, `domain.<ID>.<metric>`,
//! `priority.<p>.<metric>` or `load.<name>.<metric>`) and
//! targets `"<op> <value>"` whose value is in the metric's unit. Thresholds
//! are converted to the canonical unit of [`SloMetric::unit`]. The output
//! keeps the order the keys are written in the file; keys that only a
//! `--set` added come last, sorted by key.

use super::error::suggestion_hint;
use super::error::{Ctx, ScenarioError};
use super::model::{CmpOp, MetricUnit, Priority, SloMetric, SloScope, SloSpec};
use super::raw::parse_fraction;
use crate::time::{Rate, SimDuration, UnitError};
use toml::{Table, Value};

type Result<T> = std::result::Result<T, ScenarioError>;

/// Most SLO thresholds one scenario may declare.
const MAX_SLOS: usize = 10_000;

/// All `[slo]` entries, in file order.
pub(crate) fn slos(ctx: &Ctx<'_>, table: Option<&Table>) -> Result<Vec<SloSpec>> {
    let Some(table) = table else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (key, value) in table {
        match ScopeKind::from_key(key) {
            Some(kind) => scoped_slos(ctx, kind, value, &mut out)?,
            None => out.push(slo(ctx, key, SloScope::Global, key, value)?),
        }
        if out.len() > MAX_SLOS {
            return Err(ctx.invalid("slo", format!("more than {MAX_SLOS} thresholds")));
        }
    }
    out.sort_by_cached_key(|s| {
        (
            ctx.index
                .offset(&format!("slo.{}", s.key))
                .unwrap_or(usize::MAX),
            s.key.clone(),
        )
    });
    Ok(out)
}

/// The scoped forms of `[slo]`: `domain.<ID>`, `priority.<p>`, `load.<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ScopeKind {
    Domain,
    Priority,
    Load,
}

impl ScopeKind {
    const KEYS: [&'static str; 3] = ["domain", "priority", "load"];

    fn from_key(key: &str) -> Option<ScopeKind> {
        match key {
            "domain" => Some(ScopeKind::Domain),
            "priority" => Some(ScopeKind::Priority),
            "load" => Some(ScopeKind::Load),
            _ => None,
        }
    }

    fn key(self) -> &'static str {
        match self {
            ScopeKind::Domain => "domain",
            ScopeKind::Priority => "priority",
            ScopeKind::Load => "load",
        }
    }

    /// What the table under the key holds.
    fn plural(self) -> &'static str {
        match self {
            ScopeKind::Domain => "domains",
            ScopeKind::Priority => "priorities",
            ScopeKind::Load => "loads",
        }
    }

    /// How to write a threshold of this scope.
    fn example(self) -> &'static str {
        match self {
            ScopeKind::Domain => "write per-domain thresholds as domain.D3.latency_mean = \"< 5s\" or in a [slo.domain.D3] table",
            ScopeKind::Priority => "write per-priority thresholds as priority.critical.latency_p99 = \"< 5s\" or in a [slo.priority.critical] table",
            ScopeKind::Load => "write per-load thresholds as load.etl.latency_mean = \"< 5s\" or in a [slo.load.etl] table (etl: a [[load]] name)",
        }
    }

    /// The scope `name` gives; priorities are checked here, domains and
    /// loads against the org and the loads ([`crate::slo::check_scopes`]).
    fn scope(self, ctx: &Ctx<'_>, name: &str) -> Result<SloScope> {
        match self {
            ScopeKind::Domain => Ok(SloScope::Domain(name.to_string())),
            ScopeKind::Load => Ok(SloScope::Load(name.to_string())),
            ScopeKind::Priority => Priority::from_name(name)
                .map(SloScope::Priority)
                .ok_or_else(|| {
                    ctx.invalid(
                        &format!("slo.priority.{name}"),
                        format!(
                            "unknown priority `{name}` — {}",
                            suggestion_hint(name, &Priority::NAMES, "priorities")
                        ),
                    )
                }),
        }
    }
}

/// `[slo.<kind>.<name>]` tables (or dotted `<kind>.<name>.<metric>` keys).
fn scoped_slos(
    ctx: &Ctx<'_>,
    kind: ScopeKind,
    value: &Value,
    out: &mut Vec<SloSpec>,
) -> Result<()> {
    let k = kind.key();
    let Value::Table(names) = value else {
        return Err(ctx.invalid(
            &format!("slo.{k}"),
            format!("must be a table of {}; {}", kind.plural(), kind.example()),
        ));
    };
    for (name, metrics) in names {
        let Value::Table(metrics) = metrics else {
            return Err(ctx.invalid(
                &format!("slo.{k}.{name}"),
                format!("must be a table of metrics; {}", kind.example()),
            ));
        };
        let scope = kind.scope(ctx, name)?;
        for (metric, target) in metrics {
            let key = format!("{k}.{name}.{metric}");
            out.push(slo(ctx, &key, scope.clone(), metric, target)?);
        }
    }
    Ok(())
}

fn slo(
    ctx: &Ctx<'_>,
    key: &str,
    scope: SloScope,
    metric_name: &str,
    value: &Value,
) -> Result<SloSpec> {
    let path = format!("slo.{key}");
    let Some(metric) = SloMetric::from_name(metric_name) else {
        let mut names: Vec<&str> = SloMetric::ALL.iter().map(|(n, _)| *n).collect();
        if scope == SloScope::Global {
            names.extend(ScopeKind::KEYS);
        }
        return Err(ctx.unknown_key(&path, &names));
    };
    if let Some(why) = scope.rejects(metric) {
        let form = match scope {
            SloScope::Global => "whole-run",
            SloScope::Domain(_) => "per-domain",
            SloScope::Priority(_) => "per-priority",
            SloScope::Load(_) => "per-load",
        };
        return Err(ctx.invalid(&path, format!("`{key}` has no {form} form: {why}")));
    }
    let Value::String(target) = value else {
        return Err(ctx.invalid(
            &path,
            format!(
                "must be a string \"<op> <value>\" such as {}; found a {}",
                example(metric, "<", None),
                value.type_str()
            ),
        ));
    };
    let (op, threshold) = parse_target(metric, target)
        .map_err(|msg| ctx.invalid(&path, format!("`{path} = \"{target}\"` {msg}")))?;
    Ok(SloSpec {
        key: key.to_string(),
        scope,
        metric,
        op,
        threshold,
        target: target.clone(),
    })
}

/// The threshold of an SLO target as written in `[slo]` and echoed in the
/// reports (`"< 1.25s"` → 1.25e9 for `latency_mean`), in the metric's
/// canonical unit; `key` may be scoped (`domain.D3.latency_mean`), its last
/// segment names the metric. `None` when either does not parse.
pub fn target_threshold(key: &str, target: &str) -> Option<f64> {
    let metric = SloMetric::from_name(key.rsplit('.').next()?)?;
    parse_target(metric, target).ok().map(|(_, v)| v)
}

/// `"< 5s"` → (`Lt`, 5e9) for a latency metric; the error says what is
/// wrong and gives a valid example.
fn parse_target(metric: SloMetric, target: &str) -> std::result::Result<(CmpOp, f64), String> {
    let t = target.trim();
    let ops = [
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("==", CmpOp::Eq),
        ("<", CmpOp::Lt),
        (">", CmpOp::Gt),
    ];
    let Some((sym, op)) = ops.iter().find(|(s, _)| t.starts_with(s)) else {
        return Err(format!(
            "needs a comparison operator (<, <=, >, >=, ==) before the value; write {}",
            example(metric, "<", Some(t))
        ));
    };
    let value = t[sym.len()..].trim();
    let unit = metric.unit();
    // A fraction's number is often right with its % left out ("> 5" for
    // 5 %); any other out-of-range number is itself the mistake.
    let hint = match unit {
        MetricUnit::Fraction => Some(value),
        MetricUnit::Nanos | MetricUnit::PerMin | MetricUnit::Count => None,
    };
    match (parse_value(unit, value), out_of_range(unit, value)) {
        (Some(v), _) => Ok((*op, v)),
        (None, Some(why)) => Err(format!(
            "is out of range: {why}; write {}",
            example(metric, sym, hint)
        )),
        (None, None) => Err(format!("needs {}", example(metric, sym, Some(value)))),
    }
}

/// A target's value in the unit's canonical form, if it is a valid one.
/// The unit parsers own what is valid.
fn parse_value(unit: MetricUnit, value: &str) -> Option<f64> {
    match unit {
        MetricUnit::Nanos => value
            .parse::<SimDuration>()
            .ok()
            .map(|d| d.as_nanos() as f64),
        MetricUnit::PerMin => value.parse::<Rate>().ok().map(|r| round_sig(r.per_min())),
        MetricUnit::Fraction => parse_fraction(value).ok(),
        MetricUnit::Count => value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0),
    }
}

/// For a value [`parse_value`] rejects: what is wrong with it when it is
/// written in the unit's form but out of range (negative, too large, above
/// 100 %); `None` when it is not in the unit's form at all.
fn out_of_range(unit: MetricUnit, value: &str) -> Option<String> {
    let negative = |noun: &str| format!("`{value}` is negative (a {noun} is 0 or more)");
    match unit {
        MetricUnit::Nanos => match value.parse::<SimDuration>() {
            Err(e @ UnitError::Overflow(_)) => Some(e.to_string()),
            _ => value
                .strip_prefix('-')
                .filter(|v| v.parse::<SimDuration>().is_ok())
                .map(|_| negative("duration")),
        },
        MetricUnit::PerMin => match value.parse::<Rate>() {
            Err(e @ UnitError::RateTooHigh(_)) => Some(e.to_string()),
            _ => value
                .strip_prefix('-')
                .filter(|v| v.parse::<Rate>().is_ok())
                .map(|_| negative("rate")),
        },
        MetricUnit::Fraction => {
            let (number, percent) = match value.strip_suffix('%') {
                Some(n) => (n.trim(), true),
                None => (value, false),
            };
            let v = number.parse::<f64>().ok().filter(|v| v.is_finite())?;
            Some(match (v < 0.0, percent) {
                (true, _) => negative("percentage or fraction"),
                (false, true) => format!("`{value}` is above 100%"),
                (false, false) => format!(
                    "`{value}` is above 1 (a plain number is a fraction from 0 to 1; add % for a percentage)"
                ),
            })
        }
        MetricUnit::Count => {
            let v = value.parse::<f64>().ok()?;
            Some(if v.is_finite() {
                negative("count")
            } else {
                format!("`{value}` is not a finite number")
            })
        }
    }
}

/// Rounds to 12 significant digits, so "1000/min" → 1000.0 exactly even
/// though the rate went through per-second.
fn round_sig(v: f64) -> f64 {
    format!("{v:.11e}").parse().unwrap_or(v)
}

/// "a duration like \"< 5s\"": reuses the written number when the example
/// made from it is itself valid, so an invalid value is never the example.
fn example(metric: SloMetric, op: &str, written: Option<&str>) -> String {
    let unit = metric.unit();
    let suffix = match unit {
        MetricUnit::Nanos => "s",
        MetricUnit::PerMin => "/min",
        MetricUnit::Fraction => "%",
        MetricUnit::Count => "",
    };
    let number = written
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_digit() && c != '.'))
        .filter(|n| !n.is_empty() && n.parse::<f64>().is_ok())
        .filter(|n| parse_value(unit, &format!("{n}{suffix}")).is_some());
    match unit {
        MetricUnit::Nanos => format!("a duration like \"{op} {}s\"", number.unwrap_or("5")),
        MetricUnit::PerMin => format!("a rate like \"{op} {}/min\"", number.unwrap_or("1000")),
        MetricUnit::Fraction => format!(
            "a percentage like \"{op} {}%\" or a fraction from 0 to 1 like \"{op} 0.99\"",
            number.unwrap_or("99")
        ),
        MetricUnit::Count => format!(
            "a plain non-negative number like \"{op} {}\"",
            number.unwrap_or("0")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_in_canonical_units() {
        assert_eq!(
            parse_target(SloMetric::LatencyMean, "< 5s"),
            Ok((CmpOp::Lt, 5e9))
        );
        assert_eq!(
            parse_target(SloMetric::Throughput, "> 20/s"),
            Ok((CmpOp::Gt, 1200.0))
        );
        assert_eq!(
            parse_target(SloMetric::Completion, ">= 99%"),
            Ok((CmpOp::Ge, 0.99))
        );
        assert_eq!(
            parse_target(SloMetric::Completion, "> 0.5"),
            Ok((CmpOp::Gt, 0.5))
        );
        assert_eq!(
            parse_target(SloMetric::FailedJobs, "==0"),
            Ok((CmpOp::Eq, 0.0))
        );
        assert_eq!(
            parse_target(SloMetric::LatencyP99, "<= 1.5m"),
            Ok((CmpOp::Le, 90e9))
        );
    }

    #[test]
    fn wrong_units_explain_the_form() {
        let e = parse_target(SloMetric::LatencyMean, "< 5").unwrap_err();
        assert_eq!(e, "needs a duration like \"< 5s\"");
        let e = parse_target(SloMetric::Throughput, "> 1000").unwrap_err();
        assert!(e.contains("\"> 1000/min\""), "{e}");
        let e = parse_target(SloMetric::Completion, "> 99").unwrap_err();
        assert!(e.contains("\"> 99%\""), "{e}");
        let e = parse_target(SloMetric::FailedJobs, "== 1s").unwrap_err();
        assert!(e.contains("\"== 1\""), "{e}");
        assert!(parse_target(SloMetric::LatencyMean, "5s")
            .unwrap_err()
            .contains("operator"));
    }

    /// Every quoted example in an error parses, so a bad value is never
    /// offered as the fix; out-of-range values say what is wrong.
    #[test]
    fn examples_are_valid_and_range_errors_say_why() {
        let cases = [
            (SloMetric::Completion, "> 101%", "is above 100%"),
            (SloMetric::Completion, "> 1.5", "is above 1"),
            (SloMetric::Utilization, "< -1%", "is negative"),
            (SloMetric::FailedJobs, "> -1", "is negative"),
            (SloMetric::FailedJobs, "< inf", "not a finite number"),
            (SloMetric::FailedJobs, "< NaN", "not a finite number"),
            (SloMetric::LatencyMean, "< -5s", "is negative"),
            (SloMetric::LatencyP99, "<= 1000000d", "too large"),
            (SloMetric::Throughput, "> -5/min", "is negative"),
            (SloMetric::Throughput, "> 2000000/s", "highest rate"),
            (SloMetric::Completion, "> abc", "needs"),
            (SloMetric::LatencyMean, "-5s", "operator"),
            (SloMetric::RecoveryTime, "<= 1e30s", "needs"),
        ];
        for (metric, target, why) in cases {
            let e = parse_target(metric, target).unwrap_err();
            assert!(e.contains(why), "{target}: {e}");
            let examples: Vec<&str> = e.split('"').skip(1).step_by(2).collect();
            assert!(!examples.is_empty(), "{target}: no example in {e}");
            for ex in examples {
                assert_ne!(ex, target, "{target} echoed: {e}");
                assert!(
                    parse_target(metric, ex).is_ok(),
                    "{target}: example {ex:?} is invalid: {e}"
                );
            }
        }
    }
}
