//! A bounded priority queue: critical, high, normal, low; FIFO within a
//! priority. Pushing past the bound is refused (the caller counts it), and a
//! requeued item can go to the front of its priority class.

use std::collections::VecDeque;

use super::types::Priority;

/// Four FIFO lanes, one per [`Priority`], with one shared capacity.
pub struct PriorityQueue<T> {
    lanes: [VecDeque<T>; 4],
    len: usize,
    capacity: usize,
    max_len: usize,
}

impl<T> PriorityQueue<T> {
    pub fn new(capacity: usize) -> Self {
        PriorityQueue {
            lanes: Default::default(),
            len: 0,
            capacity,
            max_len: 0,
        }
    }

    /// Appends `item` behind its priority class; `Err(item)` when full.
    #[inline]
    pub fn push_back(&mut self, priority: Priority, item: T) -> Result<(), T> {
        if self.len >= self.capacity {
            return Err(item);
        }
        self.lanes[priority as usize].push_back(item);
        self.grew();
        Ok(())
    }

    /// Appends `item` behind its priority class even past the bound: for an
    /// item that already held a place in this queue.
    pub fn push_back_unbounded(&mut self, priority: Priority, item: T) {
        self.lanes[priority as usize].push_back(item);
        self.grew();
    }

    /// Puts `item` at the front of its priority class (requeue). Never
    /// refused: the item already held a place in the system.
    pub fn push_front(&mut self, priority: Priority, item: T) {
        self.lanes[priority as usize].push_front(item);
        self.grew();
    }

    #[inline]
    fn grew(&mut self) {
        self.len += 1;
        self.max_len = self.max_len.max(self.len);
    }

    /// Removes the most urgent item.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        for lane in &mut self.lanes {
            if let Some(item) = lane.pop_front() {
                self.len -= 1;
                return Some(item);
            }
        }
        None
    }

    /// Removes the most urgent item whose priority is `max` or more urgent.
    pub fn pop_at_least(&mut self, max: Priority) -> Option<T> {
        for lane in &mut self.lanes[..=max as usize] {
            if let Some(item) = lane.pop_front() {
                self.len -= 1;
                return Some(item);
            }
        }
        None
    }

    /// Removes the least urgent, most recently queued item.
    pub fn pop_least_urgent(&mut self) -> Option<T> {
        for lane in self.lanes.iter_mut().rev() {
            if let Some(item) = lane.pop_back() {
                self.len -= 1;
                return Some(item);
            }
        }
        None
    }

    /// Removes the newest item of exactly `priority`.
    pub fn pop_back_of(&mut self, priority: Priority) -> Option<T> {
        let item = self.lanes[priority as usize].pop_back()?;
        self.len -= 1;
        Some(item)
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline]
    /// Every item, most urgent lane first (for invariant checks).
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.lanes.iter().flatten()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len_of(&self, priority: Priority) -> usize {
        self.lanes[priority as usize].len()
    }

    /// The longest the queue has been.
    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_then_fifo_and_bounded() {
        let mut q = PriorityQueue::new(4);
        q.push_back(Priority::Low, 1).unwrap();
        q.push_back(Priority::High, 2).unwrap();
        q.push_back(Priority::High, 3).unwrap();
        q.push_front(Priority::High, 4);
        assert_eq!(q.push_back(Priority::Critical, 5), Err(5));
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, vec![4, 2, 3, 1]);
        assert_eq!(q.max_len(), 4);
    }
}
