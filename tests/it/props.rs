//! Property tests: duration and rate strings, and the future-event list's
//! ordering (time, then insertion order).

use esa_sim::sim::engine::EventQueue;
use esa_sim::time::{Rate, SimDuration, SimInstant};
use proptest::prelude::*;

const NS_PER_MS: u64 = 1_000_000;

/// Durations that exercise every Display branch: exact hours and minutes,
/// whole and fractional seconds/ms/us, and arbitrary u64 values.
fn durations() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        0u64..2_000_000_000_000,
        (0u64..5_000_000).prop_map(|h| h * 3_600_000_000_000),
        (0u64..300_000_000).prop_map(|m| m * 60_000_000_000),
        (0u64..u64::MAX / 1_000_000).prop_map(|ms| ms * NS_PER_MS),
        (0u64..1_000_000).prop_map(|us| us * 1_000),
        Just(0u64),
        Just(u64::MAX),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Display is exact for every u64 (it prints whole h/m only when exact,
    /// and otherwise all significant digits), so parsing it back is lossless.
    #[test]
    fn duration_display_round_trips(ns in durations()) {
        let d = SimDuration(ns);
        let shown = d.to_string();
        let back: SimDuration = shown.parse().map_err(|e| TestCaseError::fail(format!("{shown}: {e}")))?;
        prop_assert_eq!(back, d, "{} displayed as {}", ns, shown);
    }

    #[test]
    fn millis_parse_exactly(n in 0u64..1_000_000_000) {
        prop_assert_eq!(format!("{n}ms").parse::<SimDuration>(), Ok(SimDuration(n * NS_PER_MS)));
        prop_assert_eq!(format!("{n}s").parse::<SimDuration>(), Ok(SimDuration(n * 1_000_000_000)));
        prop_assert_eq!(format!("{n}us").parse::<SimDuration>(), Ok(SimDuration(n * 1_000)));
        prop_assert_eq!(format!("{n}ns").parse::<SimDuration>(), Ok(SimDuration(n)));
    }

    /// A decimal fraction of a unit is exact to the nanosecond.
    #[test]
    fn fractional_seconds_parse_exactly(whole in 0u64..1_000_000, frac in 0u64..1_000_000_000) {
        let s = format!("{whole}.{frac:09}s");
        prop_assert_eq!(s.parse::<SimDuration>(), Ok(SimDuration(whole * 1_000_000_000 + frac)));
    }

    /// Garbage never panics: parsing returns Ok or Err.
    #[test]
    fn garbage_never_panics(s in any::<String>()) {
        let _ = s.parse::<SimDuration>();
        let _ = s.parse::<Rate>();
    }

    /// Near-misses (digits, dots, underscores, signs, units) never panic,
    /// and a negative or unit-less duration is always an error.
    #[test]
    fn near_misses_never_panic(s in "[-+]?[0-9._]{0,25}(e[0-9]{1,3})? ?(ns|us|µs|ms|s|m|min|h|d|days|x)?(/(s|min|h|ms|x))?") {
        let d = s.parse::<SimDuration>();
        let _ = s.parse::<Rate>();
        if s.starts_with('-') || s.starts_with('+') {
            prop_assert!(d.is_err(), "{} parsed as {:?}", s, d);
        }
    }

    /// Up to the highest accepted rate, 1,000,000/s = 60,000,000/min.
    #[test]
    fn per_minute_rates(n in 0u64..=60_000_000) {
        let r: Rate = format!("{n}/min").parse().map_err(|e| TestCaseError::fail(format!("{n}/min: {e}")))?;
        let want = n as f64 / 60.0;
        // The parser converts through ns (n · 1e9 / 6e10); allow the two
        // roundings that costs, nothing more.
        prop_assert!((r.per_s() - want).abs() <= want * 4.0 * f64::EPSILON, "{}/min → {} per s, want {}", n, r.per_s(), want);
        let per_h: Rate = format!("{n}/h").parse().unwrap();
        prop_assert!((per_h.per_s() - n as f64 / 3600.0).abs() <= n as f64 / 3600.0 * 4.0 * f64::EPSILON);
    }
}

/// One step of an event-queue workload.
#[derive(Clone, Debug)]
enum Op {
    /// Schedule at `now + delay` with the next id.
    Push(u64),
    /// The same through `schedule_in`: a fixed delay's FIFO lane while
    /// lanes last (more distinct delays than lanes here), else the heap.
    PushIn(u64),
    Pop,
    /// Look at the next time without popping: later pushes may then land
    /// before the peeked time.
    Peek,
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        // Small delays, so equal times (ties) are common.
        3 => (0u64..4).prop_map(Op::Push),
        2 => (0u64..1_000).prop_map(Op::Push),
        1 => any::<u32>().prop_map(|d| Op::Push(u64::from(d))),
        1 => (0u64..1 << 50).prop_map(Op::Push),
        3 => prop::sample::select(vec![0u64, 1, 3, 7, 50, 1_000, 70_000]).prop_map(Op::PushIn),
        3 => Just(Op::Pop),
        1 => Just(Op::Peek),
    ];
    prop::collection::vec(op, 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Pops come in non-decreasing time, equal times in insertion order,
    /// and match a reference model (a list sorted by (time, insertion)).
    #[test]
    fn event_queue_orders_by_time_then_insertion(ops in ops()) {
        let mut q: EventQueue<u64> = EventQueue::default();
        let mut model: Vec<(u64, u64)> = Vec::new(); // (time, id); ids are insertion order
        let mut next_id = 0u64;
        let mut last: Option<(u64, u64)> = None;
        let mut popped = 0u64;
        let check_pop = |got: Option<(SimInstant, u64)>, model: &mut Vec<(u64, u64)>, last: &mut Option<(u64, u64)>| -> Result<(), TestCaseError> {
            let want = model.iter().copied().enumerate().min_by_key(|&(_, (t, id))| (t, id));
            match (got, want) {
                (None, None) => {}
                (Some((t, id)), Some((i, (wt, wid)))) => {
                    prop_assert_eq!((t.0, id), (wt, wid));
                    model.swap_remove(i);
                    if let Some((lt, lid)) = *last {
                        prop_assert!(t.0 > lt || (t.0 == lt && id > lid), "({}, {}) after ({}, {})", t.0, id, lt, lid);
                    }
                    *last = Some((t.0, id));
                }
                (got, want) => prop_assert!(false, "got {:?}, model {:?}", got, want),
            }
            Ok(())
        };
        for op in ops {
            match op {
                Op::Push(delay) => {
                    let at = q.now().0 + delay;
                    q.schedule_at(SimInstant(at), next_id);
                    model.push((at, next_id));
                    next_id += 1;
                }
                Op::PushIn(delay) => {
                    let at = q.now().0 + delay;
                    q.schedule_in(SimDuration(delay), next_id);
                    model.push((at, next_id));
                    next_id += 1;
                }
                Op::Pop => {
                    let peek = q.peek_time();
                    let got = q.pop();
                    prop_assert_eq!(peek, got.map(|(t, _)| t));
                    if got.is_some() {
                        popped += 1;
                        prop_assert_eq!(q.now(), got.unwrap().0);
                    }
                    check_pop(got, &mut model, &mut last)?;
                }
                Op::Peek => {
                    let want = model.iter().map(|&(t, _)| t).min();
                    prop_assert_eq!(q.peek_time().map(|t| t.0), want);
                }
            }
            prop_assert_eq!(q.len(), model.len());
        }
        // Drain what is left.
        loop {
            let got = q.pop();
            let done = got.is_none();
            if !done { popped += 1; }
            check_pop(got, &mut model, &mut last)?;
            if done { break; }
        }
        prop_assert!(q.is_empty());
        prop_assert_eq!(q.popped(), popped);
    }
}
