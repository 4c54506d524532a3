//! `[[load]]` validation: arrival processes, task templates, and reading
//! trace files (a CSV column of arrival times, relative to the scenario).

use super::error::{quoted_list, suggestion_hint, Ctx, ScenarioError};
use super::model::{Arrival, LoadSpec, Priority, TaskSpec};
use super::raw::{RawArrival, RawDuration, RawLoad, RawRate, RawTask};
use super::validate::{int_in, non_empty, only_keys, positive};
use crate::time::{Rate, SimDuration};
use std::collections::BTreeSet;
use std::path::Path;

type Result<T> = std::result::Result<T, ScenarioError>;

const PROCESSES: [&str; 5] = ["poisson", "constant", "ramp", "burst", "trace"];
const PRIORITIES: [&str; 5] = ["critical", "high", "normal", "medium", "low"];
/// Most task templates per load.
const MAX_TASKS: usize = 100_000;
/// Most arrivals a trace file may hold.
const MAX_TRACE_ROWS: usize = 50_000_000;
const MAX_WEIGHT: i64 = 1_000_000;

/// All `[[load]]` entries; at least one is required.
pub(crate) fn loads(
    ctx: &Ctx<'_>,
    raw: Option<Vec<RawLoad>>,
    base_dir: &Path,
) -> Result<Vec<LoadSpec>> {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        return Err(ScenarioError::MissingTable {
            table: "[load]".into(),
            file: ctx.origin.into(),
            help: "add at least one [[load]] with arrival = { process = \"poisson\", rate = \"60/min\" } and tasks = [{ text = \"...\" }]".into(),
        });
    }
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, l) in raw.into_iter().enumerate() {
        let path = format!("load[{i}]");
        let name = match &l.name {
            Some(n) => non_empty(ctx, &format!("{path}.name"), n)?,
            None => format!("load{i}"),
        };
        if !names.insert(name.clone()) {
            return Err(ctx.invalid(
                &format!("{path}.name"),
                format!("duplicate load name \"{name}\"; give each [[load]] its own name"),
            ));
        }
        let arrival = arrival(ctx, &format!("{path}.arrival"), &l.arrival, base_dir)?;
        let tasks = tasks(ctx, &format!("{path}.tasks"), &l.tasks)?;
        out.push(LoadSpec {
            name,
            arrival,
            tasks,
        });
    }
    Ok(out)
}

fn arrival(ctx: &Ctx<'_>, path: &str, a: &RawArrival, base_dir: &Path) -> Result<Arrival> {
    let allowed = arrival_keys(ctx, path, a)?;
    let need = Need {
        ctx,
        path,
        help: format!("process = \"{}\" needs {}", a.process, quoted_list(allowed)),
    };
    Ok(match a.process.as_str() {
        "poisson" => Arrival::Poisson {
            rate: need.rate("rate", a.rate, false)?,
        },
        "constant" => Arrival::Constant {
            rate: need.rate("rate", a.rate, false)?,
        },
        "ramp" => Arrival::Ramp {
            from: need.rate("from", a.from, true)?,
            to: need.rate("to", a.to, false)?,
            over: need.dur("over", a.over)?,
        },
        "burst" => burst(&need, a)?,
        _ => {
            let key = format!("{path}.file");
            let file = a
                .file
                .as_deref()
                .ok_or_else(|| ctx.missing(&key, need.help.clone()))?;
            let file = non_empty(ctx, &key, file)?;
            let (file, times) = read_trace(ctx, &key, base_dir, &file)?;
            Arrival::Trace { file, times }
        }
    })
}

/// The keys `a.process` takes; any other arrival key present is an error.
fn arrival_keys(ctx: &Ctx<'_>, path: &str, a: &RawArrival) -> Result<&'static [&'static str]> {
    let allowed: &[&str] = match a.process.as_str() {
        "poisson" | "constant" => &["rate"],
        "ramp" => &["from", "to", "over"],
        "burst" => &["base", "peak", "every", "for"],
        "trace" => &["file"],
        other => {
            let hint = suggestion_hint(other, &PROCESSES, "choices");
            return Err(ctx.invalid(
                &format!("{path}.process"),
                format!("unknown arrival process \"{other}\" — {hint} (poisson: rate; constant: rate; ramp: from, to, over; burst: base, peak, every, for; trace: file)"),
            ));
        }
    };
    let present = [
        ("rate", a.rate.is_some()),
        ("from", a.from.is_some()),
        ("to", a.to.is_some()),
        ("over", a.over.is_some()),
        ("base", a.base.is_some()),
        ("peak", a.peak.is_some()),
        ("every", a.every.is_some()),
        ("for", a.for_.is_some()),
        ("file", a.file.is_some()),
    ];
    let chosen = format!("process = \"{}\"", a.process);
    only_keys(ctx, path, &present, allowed, &chosen)?;
    Ok(allowed)
}

fn burst(need: &Need<'_, '_>, a: &RawArrival) -> Result<Arrival> {
    let (every, for_) = (need.dur("every", a.every)?, need.dur("for", a.for_)?);
    if for_ >= every {
        return Err(need.ctx.invalid(
            &format!("{}.for", need.path),
            format!("the burst length for = {for_} must be shorter than every = {every}"),
        ));
    }
    Ok(Arrival::Burst {
        base: need.rate("base", a.base, false)?,
        peak: need.rate("peak", a.peak, false)?,
        every,
        for_,
    })
}

/// Reads the required keys of one arrival table, with one "needs" message.
struct Need<'c, 'p> {
    ctx: &'c Ctx<'c>,
    path: &'p str,
    help: String,
}

impl Need<'_, '_> {
    fn rate(&self, key: &str, v: Option<RawRate>, zero_ok: bool) -> Result<Rate> {
        let path = format!("{}.{key}", self.path);
        let r = v
            .ok_or_else(|| self.ctx.missing(&path, self.help.clone()))?
            .0;
        if !zero_ok && r.per_s() <= 0.0 {
            return Err(self
                .ctx
                .invalid(&path, "rate must be greater than zero, e.g. \"60/min\""));
        }
        Ok(r)
    }

    fn dur(&self, key: &str, v: Option<RawDuration>) -> Result<SimDuration> {
        let path = format!("{}.{key}", self.path);
        let d = v
            .ok_or_else(|| self.ctx.missing(&path, self.help.clone()))?
            .0;
        positive(self.ctx, &path, d)
    }
}

fn tasks(ctx: &Ctx<'_>, path: &str, raw: &[RawTask]) -> Result<Vec<TaskSpec>> {
    if raw.is_empty() {
        return Err(ctx.invalid(path, "needs at least one task, e.g. tasks = [{ text = \"Run the nightly ETL batch pipeline\" }]"));
    }
    if raw.len() > MAX_TASKS {
        return Err(ctx.invalid(
            path,
            format!("{} tasks; at most {MAX_TASKS} are supported", raw.len()),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, t)| {
            let p = format!("{path}[{i}]");
            Ok(TaskSpec {
                text: non_empty(ctx, &format!("{p}.text"), &t.text)?,
                weight: int_in(
                    ctx,
                    &format!("{p}.weight"),
                    t.weight.unwrap_or(1),
                    1,
                    MAX_WEIGHT,
                )? as u32,
                priority: priority(ctx, &format!("{p}.priority"), t.priority.as_deref())?,
            })
        })
        .collect()
}

fn priority(ctx: &Ctx<'_>, path: &str, p: Option<&str>) -> Result<Priority> {
    Ok(match p.unwrap_or("normal") {
        "critical" => Priority::Critical,
        "high" => Priority::High,
        "normal" | "medium" => Priority::Normal,
        "low" => Priority::Low,
        other => {
            let hint = suggestion_hint(other, &PRIORITIES, "choices");
            return Err(ctx.invalid(path, format!("unknown priority \"{other}\" — {hint}")));
        }
    })
}

/// Reads a trace CSV: one column of arrival times (seconds as numbers, or
/// duration strings), optional header row, non-decreasing.
fn read_trace(
    ctx: &Ctx<'_>,
    key: &str,
    base_dir: &Path,
    file: &str,
) -> Result<(String, Vec<SimDuration>)> {
    let full = base_dir.join(file);
    let shown = full.to_string_lossy().into_owned();
    let fail = |msg: String| ctx.invalid(key, format!("trace file `{shown}`: {msg}"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_path(&full)
        .map_err(|e| {
            fail(format!(
                "cannot read it ({e}); the path is relative to the scenario file's directory"
            ))
        })?;
    let mut times: Vec<SimDuration> = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| fail(format!("{e}")))?;
        let line = record.position().map_or(row as u64 + 1, |p| p.line());
        if record.len() != 1 {
            return Err(fail(format!(
                "line {line} has {} columns; write one arrival time per line",
                record.len()
            )));
        }
        let field = &record[0];
        let Some(t) = parse_time(field) else {
            if row == 0 {
                continue; // a header row
            }
            return Err(fail(format!("line {line}: `{field}` is not an arrival time; write seconds (12.5) or a duration (\"12.5s\")")));
        };
        if let Some(&prev) = times.last() {
            if t < prev {
                return Err(fail(format!("line {line}: arrival {t} is earlier than the previous one ({prev}); sort the file by time")));
            }
        }
        if times.len() >= MAX_TRACE_ROWS {
            return Err(fail(format!(
                "more than {MAX_TRACE_ROWS} arrivals; split the trace"
            )));
        }
        times.push(t);
    }
    if times.is_empty() {
        return Err(fail("has no arrival times".into()));
    }
    Ok((shown, times))
}

/// `12.5` (seconds) or `"12.5s"`; negative and non-finite values are rejected.
fn parse_time(field: &str) -> Option<SimDuration> {
    if let Ok(secs) = field.parse::<f64>() {
        return (0.0..1.8e10)
            .contains(&secs)
            .then(|| SimDuration::from_secs_f64(secs));
    }
    field.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_times() {
        assert_eq!(parse_time("1.5"), Some(SimDuration::from_millis(1_500)));
        assert_eq!(parse_time("250ms"), Some(SimDuration::from_millis(250)));
        assert_eq!(parse_time("-1"), None);
        assert_eq!(parse_time("NaN"), None);
        assert_eq!(parse_time("time"), None);
    }
}
