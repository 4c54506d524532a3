//! Result aggregation rules (esa-org.md §2.4, seed 002).
//!
//! A domain coordinator turns its workers' outcomes into one domain result;
//! the top orchestrator merges domain results into the job's one final
//! result. Pure functions over bitmasks and counts.

/// The status of a domain result or of a job's final result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Completed = 0,
    CompletedWithWarnings = 1,
    Partial = 2,
    Failed = 3,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Completed,
        Status::CompletedWithWarnings,
        Status::Partial,
        Status::Failed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::CompletedWithWarnings => "completed_with_warnings",
            Status::Partial => "partial",
            Status::Failed => "failed",
        }
    }

    /// Completed, with or without warnings: counts toward completion.
    pub fn is_success(self) -> bool {
        matches!(self, Status::Completed | Status::CompletedWithWarnings)
    }
}

/// A domain's result from its workers' outcomes (bitmasks over the domain's
/// local pool indices). `warned`: a worker reported issues (here: it needed
/// a retry to succeed).
///
/// - every worker failed, or a critical one did → `failed`;
/// - some failed → `partial`;
/// - all succeeded → `completed`, or `completed_with_warnings`.
pub fn domain_status(selected: u64, failed: u64, critical: u64, warned: bool) -> Status {
    debug_assert!(selected != 0 && failed & !selected == 0);
    if failed == selected || failed & critical != 0 {
        Status::Failed
    } else if failed != 0 {
        Status::Partial
    } else if warned {
        Status::CompletedWithWarnings
    } else {
        Status::Completed
    }
}

/// Counts of domain results per [`Status`], as the orchestrator collects them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts([u16; 4]);

impl StatusCounts {
    pub fn add(&mut self, status: Status) {
        self.0[status as usize] += 1;
    }

    pub fn total(&self) -> u32 {
        self.0.iter().map(|&n| n as u32).sum()
    }

    /// The job's final result from its domain results: all failed →
    /// `failed`; any failed or partial → `partial`; any warnings →
    /// `completed_with_warnings`; else `completed`.
    pub fn merge(&self) -> Status {
        let [ok, warn, partial, failed] = self.0;
        debug_assert!(self.total() > 0);
        if failed as u32 == self.total() {
            Status::Failed
        } else if failed > 0 || partial > 0 {
            Status::Partial
        } else if warn > 0 {
            Status::CompletedWithWarnings
        } else {
            debug_assert!(ok > 0);
            Status::Completed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_rules() {
        assert_eq!(domain_status(0b111, 0, 0, false), Status::Completed);
        assert_eq!(
            domain_status(0b111, 0, 0, true),
            Status::CompletedWithWarnings
        );
        assert_eq!(domain_status(0b111, 0b010, 0b001, false), Status::Partial);
        assert_eq!(domain_status(0b111, 0b001, 0b001, false), Status::Failed);
        assert_eq!(domain_status(0b011, 0b011, 0, false), Status::Failed);
    }

    #[test]
    fn job_merge_rules() {
        let merge = |xs: &[Status]| {
            let mut c = StatusCounts::default();
            xs.iter().for_each(|s| c.add(*s));
            c.merge()
        };
        use Status::*;
        assert_eq!(merge(&[Completed, Completed]), Completed);
        assert_eq!(
            merge(&[Completed, CompletedWithWarnings]),
            CompletedWithWarnings
        );
        assert_eq!(merge(&[Completed, Failed]), Partial);
        assert_eq!(merge(&[Partial]), Partial);
        assert_eq!(merge(&[Failed, Failed]), Failed);
    }
}
