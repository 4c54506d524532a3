//! `[slo]` validation: metric names (global or `domain.<ID>.<metric>`) and
//! targets `"<op> <value>"` whose value is in the metric's unit. Thresholds
//! are converted to the canonical unit of [`SloMetric::unit`]. The output
//! keeps the order the keys are written in the file; keys that only a
//! `--set` added come last, sorted by key.

use super::error::{Ctx, ScenarioError};
use super::model::{CmpOp, MetricUnit, SloMetric, SloScope, SloSpec};
use super::raw::parse_fraction;
use crate::time::{Rate, SimDuration};
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
        if key == "domain" {
            domain_slos(ctx, value, &mut out)?;
        } else {
            out.push(slo(ctx, key, SloScope::Global, key, value)?);
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

/// `[slo.domain.<ID>]` tables (or dotted `domain.<ID>.<metric>` keys).
fn domain_slos(ctx: &Ctx<'_>, value: &Value, out: &mut Vec<SloSpec>) -> Result<()> {
    let example = "write per-domain thresholds as domain.D3.latency_mean = \"< 5s\" or in a [slo.domain.D3] table";
    let Value::Table(domains) = value else {
        return Err(ctx.invalid(
            "slo.domain",
            format!("must be a table of domains; {example}"),
        ));
    };
    for (id, metrics) in domains {
        let Value::Table(metrics) = metrics else {
            return Err(ctx.invalid(
                &format!("slo.domain.{id}"),
                format!("must be a table of metrics; {example}"),
            ));
        };
        for (metric, target) in metrics {
            let key = format!("domain.{id}.{metric}");
            out.push(slo(
                ctx,
                &key,
                SloScope::Domain(id.clone()),
                metric,
                target,
            )?);
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
            names.push("domain");
        }
        return Err(ctx.unknown_key(&path, &names));
    };
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

/// `"< 5s"` → (`Lt`, 5e9) for a latency metric; the error says what form is needed.
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
            "needs a comparison operator (<, <=, >, >=, ==) before the value, like {}",
            example(metric, "<", Some(t))
        ));
    };
    let value = t[sym.len()..].trim();
    let threshold = match metric.unit() {
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
    };
    match threshold {
        Some(v) => Ok((*op, v)),
        None => Err(format!("needs {}", example(metric, sym, Some(value)))),
    }
}

/// Rounds to 12 significant digits, so "1000/min" → 1000.0 exactly even
/// though the rate went through per-second.
fn round_sig(v: f64) -> f64 {
    format!("{v:.11e}").parse().unwrap_or(v)
}

/// "a duration like \"< 5s\"", reusing the written number when there is one.
fn example(metric: SloMetric, op: &str, written: Option<&str>) -> String {
    let number = written
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_digit() && c != '.'))
        .filter(|n| !n.is_empty() && n.parse::<f64>().is_ok());
    match metric.unit() {
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
}
