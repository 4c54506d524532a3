//! Latency per interval in HdrHistogram's own interval-log format
//! (`latency.hlog`), so HistogramLogAnalyzer, the Python `hdrh` package and
//! other HdrHistogram tools read esa-sim's distributions directly.
//!
//! Each time-series interval's latency histogram (every job result in the
//! interval, warm-up and drain included, like the `p50_ns`/`p99_ns`
//! columns) is encoded when the interval closes with the crate's V2 deflate
//! serializer and kept as its base64 line in a [`Spool`]: memory stays
//! bounded however many intervals a run has. Timestamps are simulated
//! seconds from the start of the run (`StartTime` and `BaseTime` 0), so the
//! file is deterministic.

use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

use base64::Engine;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;

use super::spool::Spool;

/// Values are recorded in ns; the log's max column is in ms, as the
/// HdrHistogram tools expect for latencies.
const MAX_VALUE_DIVISOR: f64 = 1e6;

/// One encoded interval.
#[derive(serde::Serialize, serde::Deserialize)]
struct Interval {
    /// `Tag=` of the line (a sweep point's replication), if any.
    tag: Option<String>,
    start_ns: u64,
    end_ns: u64,
    max_ns: u64,
    encoded: String,
}

/// The interval histograms of one run, encoded as they close.
pub struct IntervalLog {
    serializer: V2DeflateSerializer,
    buf: Vec<u8>,
    intervals: Spool<Interval>,
    /// Why an interval could not be encoded (a bug; reported on write).
    error: Option<String>,
}

impl Default for IntervalLog {
    fn default() -> Self {
        IntervalLog::with_keep(super::spool::KEEP_IN_MEMORY)
    }
}

impl IntervalLog {
    /// A log holding up to `keep` encoded intervals in memory (see
    /// [`Spool::with_keep`]).
    pub fn with_keep(keep: usize) -> Self {
        IntervalLog {
            serializer: V2DeflateSerializer::new(),
            buf: Vec::new(),
            intervals: Spool::with_keep(keep),
            error: None,
        }
    }

    /// Encodes the histogram of the interval `[start_ns, end_ns)`.
    pub fn push(&mut self, start_ns: u64, end_ns: u64, h: &Histogram<u64>) {
        self.push_tagged(None, start_ns, end_ns, h);
    }

    /// [`IntervalLog::push`] with a `Tag=` (HdrHistogram's tagged lines:
    /// a sweep point's log has one per replication).
    pub fn push_tagged(
        &mut self,
        tag: Option<String>,
        start_ns: u64,
        end_ns: u64,
        h: &Histogram<u64>,
    ) {
        self.buf.clear();
        if let Err(e) = self.serializer.serialize(h, &mut self.buf) {
            self.error
                .get_or_insert(format!("interval at {start_ns} ns: {e}"));
            return;
        }
        self.intervals.push(Interval {
            tag,
            start_ns,
            end_ns,
            max_ns: if h.is_empty() { 0 } else { h.max() },
            encoded: base64::engine::general_purpose::STANDARD.encode(&self.buf),
        });
    }

    /// Writes the log: the standard header lines, then one line per
    /// interval (`start,length,max,histogram`, as HdrHistogram writes them).
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_described(
            "job latency per time-series interval; timestamps are simulated seconds, values ns",
            out,
        )
    }

    /// [`IntervalLog::write`] with `what` in the first comment line.
    pub fn write_described(&self, what: &str, out: &mut dyn Write) -> io::Result<()> {
        if let Some(e) = &self.error {
            return Err(io::Error::other(format!(
                "a latency histogram could not be encoded ({e}); this is a bug in esa-sim"
            )));
        }
        IntervalLogWriterBuilder::new()
            .add_comment(&format!("esa-sim {} {what}", env!("CARGO_PKG_VERSION")))
            .add_comment("[Histogram log format version 1.3]")
            .with_start_time(UNIX_EPOCH)
            .with_base_time(UNIX_EPOCH)
            .with_max_value_divisor(MAX_VALUE_DIVISOR)
            .begin_log_with(&mut WriteRef(out), &mut V2DeflateSerializer::new())?;
        self.intervals.try_for_each(|i| {
            if let Some(tag) = &i.tag {
                write!(out, "Tag={tag},")?;
            }
            writeln!(
                out,
                "{:.3},{:.3},{:.3},{}",
                secs(i.start_ns),
                secs(i.end_ns - i.start_ns),
                i.max_ns as f64 / MAX_VALUE_DIVISOR,
                i.encoded
            )
        })
    }
}

fn secs(ns: u64) -> f64 {
    Duration::from_nanos(ns).as_secs_f64()
}

/// `&mut dyn Write` as a sized writer, for the builder's generic parameter.
struct WriteRef<'a>(&'a mut dyn Write);

impl Write for WriteRef<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}
