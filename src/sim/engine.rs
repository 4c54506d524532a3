//! The future-event list: a binary heap plus FIFO lanes for fixed delays,
//! ordered by `(time, seq)`.
//!
//! Generic over the event payload. Ties at equal time are broken by the
//! insertion sequence number, never by heap internals, so the pop order is
//! a pure function of the push order (DESIGN.md §2 rule 3).
//!
//! Most of the org's events are messages crossing a link, and a link's
//! delay is one of a few constants (hop latency, plus planning or dispatch
//! time). Events scheduled a fixed delay after a clock that never goes back
//! come due in the order they were scheduled, so each such delay gets a
//! FIFO lane instead of the heap: an append and a pop at the front, where
//! the heap sifts 48-byte entries through `log n` levels both ways. A pop
//! takes the earliest `(time, seq)` among the heap's top and the lanes'
//! fronts, so the order is exactly a single heap's. Events at an arbitrary
//! time (service completions, arrivals, timers) use the heap.
//!
//! The heap's and lanes' storage is reused, so a run in steady state does
//! not allocate per event. This module knows nothing about the org, the
//! core or metrics.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::time::{SimDuration, SimInstant};

/// One scheduled event.
struct Entry<E> {
    time: u64,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    #[inline]
    fn key(&self) -> (u64, u64) {
        (self.time, self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
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
        other.key().cmp(&self.key())
    }
}

/// The events scheduled `delay` after their scheduling time, in time order.
struct Lane<E> {
    delay: u64,
    entries: VecDeque<Entry<E>>,
}

/// How many distinct fixed delays get a lane; further ones use the heap.
const LANES: usize = 4;

/// Where the next event waits.
#[derive(Clone, Copy)]
enum Source {
    Heap,
    Lane(usize),
}

/// A future-event list with a simulated clock.
pub struct EventQueue<E> {
    now: SimInstant,
    seq: u64,
    popped: u64,
    len: usize,
    heap: BinaryHeap<Entry<E>>,
    lanes: Vec<Lane<E>>,
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
            len: 0,
            heap: BinaryHeap::with_capacity(cap),
            lanes: Vec::with_capacity(LANES),
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
        self.len
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Schedules `event` at absolute time `at`. Scheduling in the past is a
    /// caller bug; the event is clamped to `now` so time never goes back.
    #[inline]
    pub fn schedule_at(&mut self, at: SimInstant, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let entry = self.entry(at.0.max(self.now.0), event);
        self.heap.push(entry);
    }

    /// Schedules `event` after `delay` from now. A delay that recurs (a
    /// link's latency) is served by its FIFO lane.
    #[inline]
    pub fn schedule_in(&mut self, delay: SimDuration, event: E) {
        let entry = self.entry((self.now + delay).0, event);
        match self.lane_for(delay.0) {
            Some(lane) => self.lanes[lane].entries.push_back(entry),
            None => self.heap.push(entry),
        }
    }

    /// The time of the next event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimInstant> {
        self.next().map(|(time, _)| SimInstant(time))
    }

    /// Pops the earliest event and advances the clock to its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimInstant, E)> {
        self.pop_until(SimInstant(u64::MAX))
    }

    /// Pops the earliest event if it is due at or before `limit` (the one
    /// look for the next event that a peek and a pop would make twice).
    #[inline]
    pub fn pop_until(&mut self, limit: SimInstant) -> Option<(SimInstant, E)> {
        let (time, source) = self.next().filter(|&(time, _)| time <= limit.0)?;
        let Entry { event, .. } = match source {
            Source::Heap => self.heap.pop()?,
            Source::Lane(i) => self.lanes[i].entries.pop_front()?,
        };
        debug_assert!(time >= self.now.0, "time went backwards");
        self.now = SimInstant(time);
        self.popped += 1;
        self.len -= 1;
        Some((self.now, event))
    }

    /// Numbers a new event.
    #[inline]
    fn entry(&mut self, time: u64, event: E) -> Entry<E> {
        let seq = self.seq;
        self.seq += 1;
        self.len += 1;
        Entry { time, seq, event }
    }

    /// The lane of `delay`: its own, else a new one, else an empty one
    /// taken over (its events are all popped, so order is kept).
    #[inline]
    fn lane_for(&mut self, delay: u64) -> Option<usize> {
        if let Some(i) = self.lanes.iter().position(|l| l.delay == delay) {
            return Some(i);
        }
        if self.lanes.len() < LANES {
            self.lanes.push(Lane {
                delay,
                entries: VecDeque::new(),
            });
            return Some(self.lanes.len() - 1);
        }
        let i = self.lanes.iter().position(|l| l.entries.is_empty())?;
        self.lanes[i].delay = delay;
        Some(i)
    }

    /// The earliest event's time and which holds it: the heap or a lane.
    #[inline]
    fn next(&self) -> Option<(u64, Source)> {
        let mut best = self.heap.peek().map(|e| (e.key(), Source::Heap));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(front) = lane.entries.front() {
                if best.is_none_or(|(key, _)| front.key() < key) {
                    best = Some((front.key(), Source::Lane(i)));
                }
            }
        }
        best.map(|((time, _), source)| (time, source))
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
