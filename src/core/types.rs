//! The core's own vocabulary: values every driver (the simulation, and
//! later a live one) hands the core, defined here rather than by the
//! scenario format that happens to read them today. `scenario` re-exports
//! them, so a scenario's `Priority` is the core's.

use serde::{Deserialize, Serialize};

use super::slab::Key;

/// Task priority; lower value is served first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Critical = 0,
    High = 1,
    Normal = 2,
    Low = 3,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Critical,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];
    /// Every name a priority may be written as (`medium` is `normal`).
    pub const NAMES: [&'static str; 5] = ["critical", "high", "normal", "medium", "low"];

    /// The priority written as `name` (one of [`Priority::NAMES`]).
    pub fn from_name(name: &str) -> Option<Priority> {
        match name {
            "critical" => Some(Priority::Critical),
            "high" => Some(Priority::High),
            "normal" | "medium" => Some(Priority::Normal),
            "low" => Some(Priority::Low),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Priority::Critical => "critical",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
}

/// What the CEO does at balancing level 4 (seed 001): add slots to the
/// overloaded agent, or shed its queued low-priority work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level4Action {
    AddSlots,
    ShedLow,
}

/// Index of an agent in the org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentIdx(pub u16);
/// Index of a domain coordinator in the org.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DomainIdx(pub u8);
/// Index of a worker pool (a worker role: one agent, or replicas sharing a queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PoolIdx(pub u16);
/// Index of a task template (a `[[load]]` task text and priority).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskIdx(pub u32);
/// A job's sequence number, in arrival order from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub u64);
/// The driver's id for a job: a live job's UUID as a number; the
/// simulation numbers its arrivals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExternalId(pub u128);
/// A live subtask (one domain's share of a job). It crosses a driver
/// boundary (a task message in Redis) as one `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u64", from = "u64")]
pub struct SubKey(pub(super) Key);
/// A live work item (one worker pool's share of a subtask); crosses a
/// driver boundary as one `u64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "u64", from = "u64")]
pub struct WorkKey(pub(super) Key);
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct JobKey(pub(super) Key);

/// Generation in the high half, slot index in the low half.
fn key_bits(k: Key) -> u64 {
    (u64::from(k.gen) << 32) | u64::from(k.index)
}

fn key_of(bits: u64) -> Key {
    Key {
        index: bits as u32,
        gen: (bits >> 32) as u32,
    }
}

impl From<SubKey> for u64 {
    fn from(k: SubKey) -> u64 {
        key_bits(k.0)
    }
}

impl From<u64> for SubKey {
    fn from(bits: u64) -> SubKey {
        SubKey(key_of(bits))
    }
}

impl From<WorkKey> for u64 {
    fn from(k: WorkKey) -> u64 {
        key_bits(k.0)
    }
}

impl From<u64> for WorkKey {
    fn from(bits: u64) -> WorkKey {
        WorkKey(key_of(bits))
    }
}
