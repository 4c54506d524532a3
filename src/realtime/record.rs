//! Measurement of the D4 model: connected and disconnected client-time as
//! exact integrals (uptime), delivery and reconnect times in
//! HdrHistograms, message and copy outcomes as counters, and one time-series
//! row per interval. Bounded by the number of intervals, never by the
//! number of messages or connections.

use hdrhistogram::Histogram;

use crate::metrics::meter::Integral;
use crate::metrics::summary::{Latency, MessageCounts, QueueWait};
use crate::metrics::{histogram, latency_of, quantile, record, wait_of};
use crate::time::SimInstant;

/// One interval of the real-time columns of `timeseries.csv`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RtRow {
    /// Open connections at the interval's end.
    pub connections: u64,
    /// Clients wanting a connection but without one, at the end.
    pub offline: u64,
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub delivery_p99_ns: u64,
}

/// What the D4 model measures as it runs.
pub struct RtRecorder {
    warmup_ns: u64,
    end_ns: u64,
    interval_ns: u64,
    next_boundary_ns: u64,
    pub(crate) connected: Integral,
    pub(crate) down: Integral,
    /// (connected, down) areas at warm-up end and at load end.
    marks: [Option<(u128, u128)>; 2],
    pub(crate) peak: u64,
    pub(crate) opened: u64,
    pub(crate) dropped: u64,
    pub(crate) refused: u64,
    pub(crate) sessions: u64,
    delivery: Histogram<u64>,
    delivery_sum: u128,
    reconnect: Histogram<u64>,
    reconnect_sum: u128,
    saturated: u64,
    /// Counts of measured messages, and of all.
    pub(crate) measured: MessageCounts,
    pub(crate) all: MessageCounts,
    bucket: RtRow,
    bucket_delivery: Histogram<u64>,
    series: Vec<RtRow>,
    series_ends: Vec<u64>,
}

/// Which counter of [`MessageCounts`] an outcome adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Routed,
    RouterFull,
    RouterError,
    NoRecipients,
    Copy,
    Delivered,
    DeliveredOnReconnect,
    Ttl,
    RecipientLeft,
    MailboxFull,
    PendingAtEnd,
    InRouterAtEnd,
}

impl Outcome {
    fn counter(self, c: &mut MessageCounts) -> &mut u64 {
        match self {
            Outcome::Sent => &mut c.sent,
            Outcome::Routed => &mut c.routed,
            Outcome::RouterFull => &mut c.dropped_router_full,
            Outcome::RouterError => &mut c.dropped_router_error,
            Outcome::NoRecipients => &mut c.no_recipients,
            Outcome::Copy => &mut c.copies,
            Outcome::Delivered => &mut c.delivered,
            Outcome::DeliveredOnReconnect => &mut c.delivered_on_reconnect,
            Outcome::Ttl => &mut c.dropped_ttl,
            Outcome::RecipientLeft => &mut c.dropped_recipient_left,
            Outcome::MailboxFull => &mut c.dropped_mailbox_full,
            Outcome::PendingAtEnd => &mut c.pending_at_end,
            Outcome::InRouterAtEnd => &mut c.in_router_at_end,
        }
    }

    fn is_drop(self) -> bool {
        DROPS.contains(&self)
    }
}

/// The outcomes that give a delivery up.
const DROPS: [Outcome; 5] = [
    Outcome::RouterFull,
    Outcome::RouterError,
    Outcome::Ttl,
    Outcome::RecipientLeft,
    Outcome::MailboxFull,
];

/// Deliveries given up, for whatever reason: the [`DROPS`] counters summed.
pub fn dropped(counts: &MessageCounts) -> u64 {
    let mut c = *counts;
    DROPS.iter().map(|o| *o.counter(&mut c)).sum()
}

impl RtRecorder {
    /// Measures messages sent in `warmup..end`; histograms reach `horizon`.
    pub fn new(warmup: SimInstant, end: SimInstant, horizon: SimInstant, interval_ns: u64) -> Self {
        let max = crate::metrics::histogram_max_ns(horizon);
        RtRecorder {
            warmup_ns: warmup.as_nanos(),
            end_ns: end.as_nanos(),
            interval_ns,
            next_boundary_ns: interval_ns,
            connected: Integral::default(),
            down: Integral::default(),
            marks: [None, None],
            peak: 0,
            opened: 0,
            dropped: 0,
            refused: 0,
            sessions: 0,
            delivery: histogram(max),
            delivery_sum: 0,
            reconnect: histogram(max),
            reconnect_sum: 0,
            saturated: 0,
            measured: MessageCounts::default(),
            all: MessageCounts::default(),
            bucket: RtRow::default(),
            bucket_delivery: histogram(max),
            series: Vec::new(),
            series_ends: Vec::new(),
        }
    }

    fn measured(&self, sent_ns: u64) -> bool {
        sent_ns >= self.warmup_ns && sent_ns < self.end_ns
    }

    /// `n` copies of a message sent at `sent_ns` end as `outcome`.
    #[inline]
    pub fn count(&mut self, sent_ns: u64, outcome: Outcome, n: u64) {
        *outcome.counter(&mut self.all) += n;
        if self.measured(sent_ns) {
            *outcome.counter(&mut self.measured) += n;
        }
        match outcome {
            Outcome::Sent => self.bucket.sent += n,
            o if o.is_drop() => self.bucket.dropped += n,
            _ => {}
        }
    }

    /// `n` recipients get a message sent at `sent_ns`, at `at_ns`.
    #[inline]
    pub fn delivered(&mut self, sent_ns: u64, at_ns: u64, n: u64, late: bool) {
        if n == 0 {
            return;
        }
        self.count(sent_ns, Outcome::Delivered, n);
        if late {
            self.count(sent_ns, Outcome::DeliveredOnReconnect, n);
        }
        let latency = at_ns.saturating_sub(sent_ns).max(1);
        self.bucket.delivered += n;
        if self.bucket_delivery.record_n(latency, n).is_err() {
            self.bucket_delivery.saturating_record(latency);
        }
        if self.measured(sent_ns) {
            self.delivery_sum += u128::from(latency) * u128::from(n);
            if self.delivery.record_n(latency, n).is_err() {
                self.saturated += n;
                self.delivery.saturating_record(latency);
            }
        }
    }

    /// A dropped connection is back after `ns`.
    pub fn reconnected(&mut self, ns: u64) {
        self.reconnect_sum += u128::from(ns);
        record(&mut self.reconnect, ns.max(1), &mut self.saturated);
    }

    /// Closes intervals and takes window marks at or before `t`, from the
    /// state before the events at `t` (as the job recorder does).
    #[inline]
    pub fn advance_to(&mut self, t: SimInstant, offline: u64) {
        let t = t.as_nanos();
        while self.next_boundary_ns <= t {
            let end = self.next_boundary_ns;
            self.close_interval(end, offline);
            self.next_boundary_ns += self.interval_ns;
        }
        for (i, mark) in [self.warmup_ns, self.end_ns].into_iter().enumerate() {
            if self.marks[i].is_none() && t >= mark {
                self.marks[i] = Some((self.connected.area_at(mark), self.down.area_at(mark)));
            }
        }
    }

    fn close_interval(&mut self, end: u64, offline: u64) {
        let mut row = std::mem::take(&mut self.bucket);
        row.connections = self.connected.level();
        row.offline = offline;
        row.delivery_p99_ns = quantile(&self.bucket_delivery, 0.99);
        self.bucket_delivery.reset();
        self.series.push(row);
        self.series_ends.push(end);
    }

    /// Closes the last (possibly partial) interval at the run's end.
    pub fn finish(&mut self, end: SimInstant, offline: u64) {
        self.advance_to(end, offline);
        if self.series_ends.last().is_none_or(|&e| end.as_nanos() > e) {
            self.close_interval(end.as_nanos(), offline);
        }
    }

    /// One row per interval, aligned with the job recorder's rows.
    pub fn series(&self) -> &[RtRow] {
        &self.series
    }

    /// Connected and disconnected client-ns in the measured window.
    pub fn window_areas(&self) -> (u128, u128) {
        let at = |i: usize| self.marks[i].unwrap_or((0, 0));
        let ((c0, d0), (c1, d1)) = (at(0), at(1));
        (c1.saturating_sub(c0), d1.saturating_sub(d0))
    }

    pub fn delivery(&self) -> Latency {
        latency_of(&self.delivery, self.delivery_sum)
    }

    pub fn reconnect(&self) -> QueueWait {
        wait_of(&self.reconnect, self.reconnect_sum)
    }

    /// Values clamped to the histograms' top (a bug if non-zero).
    pub fn saturated(&self) -> u64 {
        self.saturated
    }
}
