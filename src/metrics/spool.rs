//! Append-only storage for what a run keeps per interval (time-series rows,
//! encoded interval histograms), with memory bounded by a constant rather
//! than by the run's length.
//!
//! The newest [`KEEP_IN_MEMORY`] items stay in memory; once that many have
//! gathered they are appended, one JSON line each, to an anonymous
//! temporary file (deleted when the spool is dropped, or by the OS if the
//! process dies) and memory is freed. Reading back yields every item in
//! push order, spilled ones first. JSON round-trips every field exactly
//! (`float_roundtrip`), so a spilled run writes byte-identical reports.
//!
//! If the temporary file cannot be created or written, items simply stay
//! in memory: nothing is lost, only the bound is.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// How many items a spool holds in memory before it spills them.
pub const KEEP_IN_MEMORY: usize = 64;

/// Items in push order: `spilled` of them in `file`, then `recent`.
pub struct Spool<T> {
    recent: Vec<T>,
    file: Option<File>,
    spilled: usize,
    keep: usize,
    /// Spilling failed once; every later item stays in memory.
    spill_failed: bool,
}

impl<T> Default for Spool<T> {
    fn default() -> Self {
        Spool::with_keep(KEEP_IN_MEMORY)
    }
}

impl<T> Spool<T> {
    /// A spool holding at most `keep` items in memory (at least 1).
    pub fn with_keep(keep: usize) -> Self {
        Spool {
            recent: Vec::new(),
            file: None,
            spilled: 0,
            keep: keep.max(1),
            spill_failed: false,
        }
    }

    /// Items pushed so far.
    pub fn len(&self) -> usize {
        self.spilled + self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many items went to the temporary file.
    pub fn spilled(&self) -> usize {
        self.spilled
    }
}

impl<T: Serialize + DeserializeOwned> Spool<T> {
    /// Appends `item`; spills the items in memory once `keep` have gathered.
    pub fn push(&mut self, item: T) {
        self.recent.push(item);
        if self.recent.len() >= self.keep && !self.spill_failed {
            match self.spill() {
                Ok(()) => {
                    self.spilled += self.recent.len();
                    self.recent.clear();
                }
                Err(_) => self.spill_failed = true,
            }
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(tempfile::tempfile()?),
        };
        // A read may have moved the shared offset: always append.
        file.seek(SeekFrom::End(0))?;
        let mut w = BufWriter::new(&*file);
        for item in &self.recent {
            serde_json::to_writer(&mut w, item)?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }

    /// Every item in push order, read back (memory: all of them).
    pub fn to_vec(&self) -> io::Result<Vec<T>>
    where
        T: Clone,
    {
        let mut out = Vec::with_capacity(self.len());
        self.try_for_each(|x| {
            out.push(x.clone());
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with every item in push order.
    pub fn try_for_each(&self, mut f: impl FnMut(&T) -> io::Result<()>) -> io::Result<()> {
        if let Some(file) = &self.file {
            let mut file = file;
            file.seek(SeekFrom::Start(0))?;
            let mut lines = BufReader::new(file).lines();
            for _ in 0..self.spilled {
                let line = lines.next().unwrap_or_else(|| {
                    Err(io::Error::other("the spool's temporary file ended early"))
                })?;
                f(&serde_json::from_str(&line)?)?;
            }
        }
        self.recent.iter().try_for_each(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(s: &Spool<(u64, f64, String)>) -> Vec<(u64, f64, String)> {
        s.to_vec().unwrap()
    }

    #[test]
    fn reads_back_every_item_in_order_exactly() {
        let items: Vec<_> = (0..11u64)
            .map(|i| (i, 1.0 / (i as f64 + 3.0), format!("line {i},\"q\"")))
            .collect();
        let mut s = Spool::with_keep(4);
        for x in &items {
            s.push(x.clone());
        }
        assert_eq!(s.len(), 11);
        assert_eq!(s.spilled(), 8, "two batches of four went to the file");
        assert_eq!(collect(&s), items);
        // Reading twice, and pushing after a read, keep the order.
        assert_eq!(collect(&s), items);
        let mut more = items.clone();
        for i in 11..14u64 {
            let x = (i, i as f64, String::new());
            s.push(x.clone());
            more.push(x);
        }
        assert_eq!(s.spilled(), 12);
        assert_eq!(collect(&s), more);
    }

    #[test]
    fn small_spools_never_touch_disk() {
        let mut s = Spool::default();
        for i in 0..KEEP_IN_MEMORY as u64 - 1 {
            s.push((i, 0.0, String::new()));
        }
        assert_eq!(s.spilled(), 0);
        assert!(s.file.is_none());
        assert_eq!(collect(&s).len(), KEEP_IN_MEMORY - 1);
    }
}
