//! A process-wide memo of pure, costly builds: parsing an org file and
//! building its keyword routers. Every run of a sweep, of a replication set
//! or of an exploration builds its simulation from the same org; the memo
//! makes all but the first build skip that work. A hit returns a clone of
//! what the build returned for an equal key, so results never depend on
//! whether the memo held it (nor on which thread built it first).

use std::sync::{Mutex, MutexGuard};

/// The last `capacity` (key, value) pairs of one pure function.
pub struct Memo<K, V> {
    entries: Mutex<Vec<(K, V)>>,
    capacity: usize,
}

impl<K: PartialEq, V: Clone> Memo<K, V> {
    pub const fn new(capacity: usize) -> Self {
        Memo {
            entries: Mutex::new(Vec::new()),
            capacity,
        }
    }

    /// The value for `key`: remembered, or built now by `build` (a failed
    /// build is not remembered).
    pub fn get_or_try<E>(&self, key: K, build: impl FnOnce(&K) -> Result<V, E>) -> Result<V, E> {
        if let Some((_, v)) = self.lock().iter().find(|(k, _)| *k == key) {
            return Ok(v.clone());
        }
        let value = build(&key)?;
        let mut entries = self.lock();
        if entries.iter().any(|(k, _)| *k == key) {
            return Ok(value); // another thread built it meanwhile
        }
        if entries.len() >= self.capacity.max(1) {
            entries.remove(0);
        }
        entries.push((key, value.clone()));
        Ok(value)
    }

    /// A panic while holding the lock cannot leave an entry half-written
    /// (entries are pushed whole), so a poisoned memo is still usable.
    fn lock(&self) -> MutexGuard<'_, Vec<(K, V)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_once_per_key_and_forgets_the_oldest() {
        let memo: Memo<u32, String> = Memo::new(2);
        let mut builds = 0;
        let mut get = |k: u32| {
            memo.get_or_try(k, |k| {
                builds += 1;
                Ok::<_, ()>(format!("v{k}"))
            })
            .unwrap()
        };
        assert_eq!(get(1), "v1");
        assert_eq!(get(1), "v1");
        assert_eq!(get(2), "v2");
        assert_eq!(get(3), "v3"); // forgets 1
        assert_eq!(get(1), "v1");
        assert_eq!(builds, 4);
        let failed: Result<String, &str> = memo.get_or_try(9, |_| Err("no"));
        assert_eq!(failed, Err("no"));
    }
}
