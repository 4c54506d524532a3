//! Sharding: `--shard I/N` runs only the I-th of N deterministic slices of
//! the (point, replication) pairs and writes them to `shard.json`; `merge`
//! checks that a set of shard files is one whole sweep and hands its
//! records to the same reduction an unsharded sweep uses, so the merged
//! files are byte-identical to an unsharded run's.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::output::Replications;
use super::run::RepRecord;
use super::spec::SweepSpec;

/// The file a shard directory holds.
pub const SHARD_FILE: &str = "shard.json";

/// The I-th (1-based) of N slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Most shards a sweep may be cut into.
pub const MAX_SHARDS: u32 = 100_000;

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Shard, String> {
        let help = "write `--shard I/N` with 1 <= I <= N, e.g. `--shard 2/3` for the second of three shards";
        let (i, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not I/N; {help}"))?;
        let (Ok(index), Ok(count)) = (i.trim().parse::<u32>(), n.trim().parse::<u32>()) else {
            return Err(format!("`{s}` is not two whole numbers I/N; {help}"));
        };
        if count == 0 || count > MAX_SHARDS || index == 0 || index > count {
            return Err(format!(
                "`{s}` is out of range; {help} (N at most {MAX_SHARDS})"
            ));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Whether the `k`-th unit of work (in grid order) is this shard's.
    pub fn owns(self, k: usize) -> bool {
        k % self.count as usize == (self.index - 1) as usize
    }
}

/// The unit a shard slices: with a fixed replication count every
/// (point, replication) pair; with `--precision`, whole points, since a
/// point's replications are decided one after another from its results.
pub fn slices_points(mode: &Replications) -> bool {
    match mode {
        Replications::Fixed { .. } => false,
        Replications::Precision { .. } => true,
    }
}

/// `shard.json`: the sweep it belongs to and the runs it made.
#[derive(Debug, Serialize, Deserialize)]
pub struct ShardFile {
    pub esa_sim_version: String,
    pub shard: Shard,
    pub spec: SweepSpec,
    pub records: Vec<RepRecord>,
}

/// Why shard directories do not merge.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("cannot read {path}: {reason}; pass directories written by `esa-sim sweep --shard I/N --out DIR`")]
    Read { path: PathBuf, reason: String },
    #[error("{path} is not a shard of the same sweep as {first}: {what} differs; merge the shards of one `esa-sim sweep` command line (same scenario, --vary, --set, replications, version)")]
    Mismatch {
        path: PathBuf,
        first: PathBuf,
        what: &'static str,
    },
    #[error("shard {shard} is given twice ({a} and {b}); pass each shard directory once")]
    Duplicate {
        shard: Shard,
        a: PathBuf,
        b: PathBuf,
    },
    #[error("shards {missing} of {count} are missing; pass all {count} shard directories")]
    Missing { missing: String, count: u32 },
}

/// Reads `dir/shard.json`.
pub fn read(dir: &Path) -> Result<ShardFile, MergeError> {
    let path = dir.join(SHARD_FILE);
    let fail = |reason: String| MergeError::Read {
        path: path.clone(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| fail(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| fail(format!("not a shard file ({e})")))
}

/// Checks that `shards` (with their directories) are every shard of one
/// sweep, once each; returns the spec and all records.
pub fn combine(
    shards: Vec<(PathBuf, ShardFile)>,
) -> Result<(SweepSpec, Vec<RepRecord>), MergeError> {
    let Some((first_dir, first)) = shards.first() else {
        return Err(MergeError::Missing {
            missing: "all".into(),
            count: 0,
        });
    };
    let count = first.shard.count;
    let mut seen: Vec<Option<&Path>> = vec![None; count as usize];
    for (dir, s) in &shards {
        let what = if s.esa_sim_version != first.esa_sim_version {
            Some("the esa-sim version")
        } else if s.shard.count != count {
            Some("the shard count N")
        } else if s.spec != first.spec {
            Some("the sweep (scenario, grid or replications)")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(MergeError::Mismatch {
                path: dir.clone(),
                first: first_dir.clone(),
                what,
            });
        }
        let slot = &mut seen[(s.shard.index - 1) as usize];
        if let Some(a) = slot {
            return Err(MergeError::Duplicate {
                shard: s.shard,
                a: a.to_path_buf(),
                b: dir.clone(),
            });
        }
        *slot = Some(dir);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| (i + 1).to_string())
        .collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing {
            missing: missing.join(", "),
            count,
        });
    }
    let spec = first.spec.clone();
    let records = shards.into_iter().flat_map(|(_, s)| s.records).collect();
    Ok((spec, records))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_arguments() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        for bad in ["0/3", "4/3", "1/0", "a/b", "3", "-1/2", ""] {
            let e = bad.parse::<Shard>().unwrap_err();
            assert!(e.contains("--shard I/N"), "{bad}: {e}");
        }
    }

    #[test]
    fn shards_partition_the_work() {
        let shards: Vec<Shard> = (1..=3).map(|index| Shard { index, count: 3 }).collect();
        for k in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.owns(k)).count(), 1);
        }
    }
}
