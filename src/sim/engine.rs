//! The future-event list: a binary heap ordered by `(time, seq)`.
//!
//! Generic over the event payload. Ties at equal time are broken by the
//! insertion sequence number, never by heap internals, so the pop order is
//! a pure function of the push order (DESIGN.md §2 rule 3). The heap's
//! storage is reused, so a run in steady state does not allocate per event.
//! This module knows nothing about the org, the core or metrics.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::time::{SimDuration, SimInstant};

/// One scheduled event.
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so `BinaryHeap` (a max-heap) pops the earliest `(time, seq)`.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A future-event list with a simulated clock.
pub struct EventQueue<E> {
    now: SimInstant,
    seq: u64,
    popped: u64,
    heap: BinaryHeap<Entry<E>>,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::with_capacity(64)
    }
}

impl<E> EventQueue<E> {
    pub fn with_capacity(cap: usize) -> Self {
        EventQueue {
            now: SimInstant::ZERO,
            seq: 0,
            popped: 0,
            heap: BinaryHeap::with_capacity(cap),
        }
    }

    /// The time of the last popped event.
    #[inline]
    pub fn now(&self) -> SimInstant {
        self.now
    }

    /// Events popped so far.
    #[inline]
    pub fn popped(&self) -> u64 {
        self.popped
    }

    /// Events still scheduled.
    #[inline]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Schedules `event` at absolute time `at`. Scheduling in the past is a
    /// caller bug; the event is clamped to `now` so time never goes back.
    #[inline]
    pub fn schedule_at(&mut self, at: SimInstant, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let time = at.0.max(self.now.0);
        self.heap.push(Entry {
            time,
            seq: self.seq,
            event,
        });
        self.seq += 1;
    }

    /// Schedules `event` after `delay` from now.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        self.schedule_at(self.now + delay, event);
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimInstant> {
        self.heap.peek().map(|e| SimInstant(e.time))
    }

    /// Pops the earliest event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimInstant, E)> {
        let Entry { time, event, .. } = self.heap.pop()?;
        debug_assert!(time >= self.now.0, "time went backwards");
        self.now = SimInstant(time);
        self.popped += 1;
        Some((self.now, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut q = EventQueue::default();
        q.schedule_at(SimInstant(5), 'a');
        q.schedule_at(SimInstant(1), 'b');
        q.schedule_at(SimInstant(5), 'c');
        q.schedule_at(SimInstant(1), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec!['b', 'd', 'a', 'c']);
        assert_eq!(q.now(), SimInstant(5));
        assert_eq!(q.popped(), 4);
    }
}
