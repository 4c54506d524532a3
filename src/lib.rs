//! esa-sim: a deterministic discrete-event simulator and benchmark harness
//! for the ESA 105-agent organisation.
//!
//! The pipeline is `scenario` (parse + validate) → `org` (resolve the
//! organisation) → `sim` (driver: clock, events, randomness) around `core`
//! (the org's sans-IO logic) → `metrics` → `slo` → `report`; `realtime` is D4's connection and
//! message model, run by the sim beside the core; `compare` judges two results against each
//! other (CI regression).

pub mod bench;
pub mod cli;
pub mod compare;
pub mod core;
pub mod explore;
pub mod live;
pub mod many;
pub mod memo;
pub mod metrics;
pub mod org;
pub mod realtime;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod slo;
pub mod time;
