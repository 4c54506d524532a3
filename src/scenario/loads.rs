//! `[[load]]` validation: arrival processes, task templates, and reading
//! trace files (a CSV column of arrival times, relative to the scenario).

use super::error::{quoted_list, suggestion_hint, Ctx, ScenarioError};
use super::model::{Arrival, InputFile, LoadSpec, Priority, TaskSpec};
use super::raw::{within_horizon, RawArrival, RawDuration, RawLoad, RawRate, RawTask};
use super::validate::{int_in, non_empty, only_keys, positive};
use super::{sha256_tag_of, MAX_HORIZON};
use crate::time::{Rate, SimDuration};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

type Result<T> = std::result::Result<T, ScenarioError>;

const PROCESSES: [&str; 5] = ["poisson", "constant", "ramp", "burst", "trace"];
/// Most task templates per load.
const MAX_TASKS: usize = 100_000;
/// Most `[[load]]` streams one scenario may have (each (priority, load)
/// pair keeps its own histograms).
const MAX_LOADS: usize = 256;
/// Most arrivals a trace file may hold.
const MAX_TRACE_ROWS: usize = 50_000_000;
const MAX_WEIGHT: i64 = 1_000_000;
/// Largest sum of one load's task weights (the draw is a 32-bit
/// `WeightedIndex`; a wider one would change every run's draws).
const MAX_TOTAL_WEIGHT: u64 = u32::MAX as u64;

/// All `[[load]]` entries; at least one is required. Trace files read are
/// added to `inputs`.
pub(crate) fn loads(
    ctx: &Ctx<'_>,
    raw: Option<Vec<RawLoad>>,
    base_dir: &Path,
    inputs: &mut Vec<InputFile>,
) -> Result<Vec<LoadSpec>> {
    let raw = raw.unwrap_or_default();
    if raw.is_empty() {
        return Err(ScenarioError::MissingTable {
            table: "[load]".into(),
            file: ctx.origin.into(),
            help: "add at least one [[load]] with arrival = { process = \"poisson\", rate = \"60/min\" } and tasks = [{ text = \"...\" }]".into(),
        });
    }
    if raw.len() > MAX_LOADS {
        return Err(ctx.invalid(
            &format!("load[{MAX_LOADS}]"),
            format!(
                "{} [[load]] streams; at most {MAX_LOADS} are supported — merge streams with the same arrival process into one load with several tasks",
                raw.len()
            ),
        ));
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
        let arrival = arrival(
            ctx,
            &format!("{path}.arrival"),
            &l.arrival,
            base_dir,
            inputs,
        )?;
        let tasks = tasks(ctx, &format!("{path}.tasks"), &l.tasks)?;
        out.push(LoadSpec {
            name,
            arrival,
            tasks,
        });
    }
    Ok(out)
}

/// One arrival table (`arrival = { process = ... }`) at `path`; a trace
/// file it reads is added to `inputs`.
pub(crate) fn arrival(
    ctx: &Ctx<'_>,
    path: &str,
    a: &RawArrival,
    base_dir: &Path,
    inputs: &mut Vec<InputFile>,
) -> Result<Arrival> {
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
            let (shown, times, hash) = read_trace(ctx, &key, base_dir, &file)?;
            inputs.push(InputFile {
                key,
                path: file,
                hash,
            });
            Arrival::Trace { file: shown, times }
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
    let tasks = raw
        .iter()
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
        .collect::<Result<Vec<_>>>()?;
    total_weight(ctx, path, &tasks)?;
    Ok(tasks)
}

/// The task draw sums the weights in 32 bits; a larger total is an error
/// here rather than an overflow in the load generator.
fn total_weight(ctx: &Ctx<'_>, path: &str, tasks: &[TaskSpec]) -> Result<()> {
    let total: u64 = tasks.iter().map(|t| u64::from(t.weight)).sum();
    if total > MAX_TOTAL_WEIGHT {
        return Err(ctx.invalid(
            path,
            format!("the task weights add up to {total}; the total per load must be at most {MAX_TOTAL_WEIGHT}: weights are relative, so scale them down (e.g. divide each by 1000)"),
        ));
    }
    Ok(())
}

fn priority(ctx: &Ctx<'_>, path: &str, p: Option<&str>) -> Result<Priority> {
    let name = p.unwrap_or("normal");
    Priority::from_name(name).ok_or_else(|| {
        let hint = suggestion_hint(name, &Priority::NAMES, "choices");
        ctx.invalid(path, format!("unknown priority \"{name}\" — {hint}"))
    })
}

/// Reads a trace CSV: one column of arrival times (seconds as numbers, or
/// duration strings), non-decreasing, each inside [`MAX_HORIZON`]. Only a
/// first row that is not a number may be a header. Returns the path as
/// shown in messages, the times and the file's hash.
fn read_trace(
    ctx: &Ctx<'_>,
    key: &str,
    base_dir: &Path,
    file: &str,
) -> Result<(String, Vec<SimDuration>, String)> {
    let full = base_dir.join(file);
    let shown = full.to_string_lossy().into_owned();
    let fail = |msg: String| ctx.invalid(key, format!("trace file `{shown}`: {msg}"));
    let opened = std::fs::File::open(&full).map_err(|e| {
        fail(format!(
            "cannot read it ({e}); the path is relative to the scenario file's directory"
        ))
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(HashingReader::new(opened));
    let times = trace_times(&mut reader, &fail)?;
    let hash = reader.into_inner().finish();
    Ok((shown, times, hash))
}

fn trace_times<R: Read>(
    reader: &mut csv::Reader<R>,
    fail: &dyn Fn(String) -> ScenarioError,
) -> Result<Vec<SimDuration>> {
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
        let t = match parse_time(field) {
            TraceField::Time(t) => t,
            TraceField::Word if row == 0 => continue, // a header row
            TraceField::Word => {
                return Err(fail(format!("line {line}: `{field}` is not an arrival time; write seconds (12.5) or a duration (\"12.5s\")")));
            }
            TraceField::Bad(why) => return Err(fail(format!("line {line}: {why}"))),
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
    Ok(times)
}

/// One field of a trace file.
#[derive(Debug, PartialEq)]
enum TraceField {
    /// An arrival time.
    Time(SimDuration),
    /// Text that is not a number at all (a header, on the first row).
    Word,
    /// A number or duration that is not a valid arrival time, and why.
    Bad(String),
}

/// `12.5` (seconds) or `"12.5s"`. A number that is negative, not finite or
/// beyond the horizon is `Bad`, never a header.
fn parse_time(field: &str) -> TraceField {
    let hint = "write seconds (12.5) or a duration (\"12.5s\") from 0 to 36525d (100 years)";
    if let Ok(secs) = field.parse::<f64>() {
        return if !secs.is_finite() {
            TraceField::Bad(format!("`{field}` is not a finite number; {hint}"))
        } else if secs < 0.0 {
            TraceField::Bad(format!(
                "`{field}` is negative; arrival times count from the start of the run, so {hint}"
            ))
        } else if secs > MAX_HORIZON.as_secs_f64() {
            TraceField::Bad(format!("`{field}` is later than 36525d (100 years), the longest simulated time esa-sim supports"))
        } else {
            TraceField::Time(SimDuration::from_secs_f64(secs))
        };
    }
    let numeric = field
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'));
    if !numeric {
        return TraceField::Word;
    }
    if field.starts_with('-') {
        return TraceField::Bad(format!(
            "`{field}` is negative; arrival times count from the start of the run, so {hint}"
        ));
    }
    match field.parse::<SimDuration>() {
        Ok(d) => match within_horizon(d, field) {
            Ok(d) => TraceField::Time(d),
            Err(why) => TraceField::Bad(why),
        },
        Err(e) => TraceField::Bad(format!("{e}; {hint}")),
    }
}

/// A reader that hashes every byte read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// `"sha256:<hex>"` of everything read.
    fn finish(self) -> String {
        sha256_tag_of(self.hasher)
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_times() {
        let time = |f: &str| match parse_time(f) {
            TraceField::Time(t) => Some(t),
            TraceField::Word | TraceField::Bad(_) => None,
        };
        assert_eq!(time("1.5"), Some(SimDuration::from_millis(1_500)));
        assert_eq!(time("250ms"), Some(SimDuration::from_millis(250)));
        assert_eq!(time("36525d"), Some(MAX_HORIZON));
        assert_eq!(parse_time("time"), TraceField::Word);
        assert_eq!(parse_time("arrival_s"), TraceField::Word);
        for bad in [
            "-1", "-0.5", "-2s", "NaN", "inf", "-inf", "1e300", "36526d", "+5s", "5x",
        ] {
            assert!(matches!(parse_time(bad), TraceField::Bad(_)), "{bad}");
        }
    }
}
