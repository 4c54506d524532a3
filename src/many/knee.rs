//! The knee of a sweep along its first axis: the largest value at which
//! every SLO passes, and the point of maximum curvature of mean latency
//! (Kneedle: Satopää et al., 2011 — normalise both axes to [0, 1] and take
//! the point farthest from the chord between the ends).

use super::output::{Axis, Knee, KneePoint, Point, Verdict};
use crate::metrics::summary::OrderedMap;

/// One knee per combination of the other axes' values (points are in grid
/// order, the first axis slowest).
pub fn knees(axes: &[Axis], points: &[Point]) -> Vec<Knee> {
    let Some(first) = axes.first() else {
        return Vec::new();
    };
    let stride = points.len() / first.values.len().max(1);
    (0..stride)
        .map(|offset| {
            let line: Vec<(usize, &Point)> = (0..first.values.len())
                .map(|i| (i, &points[i * stride + offset]))
                .collect();
            knee(first, &line)
        })
        .collect()
}

/// The knee along one line of points; `line` pairs each point with the
/// index of its first-axis value.
fn knee(axis: &Axis, line: &[(usize, &Point)]) -> Knee {
    let x = |i: usize| axis.numeric[i].unwrap_or(i as f64);
    let at = line.first().map_or_else(OrderedMap::default, |(_, p)| {
        OrderedMap(p.values.0.iter().skip(1).cloned().collect())
    });
    let last_passing = line
        .iter()
        .filter(|(_, p)| p.verdict == Verdict::Pass)
        .max_by(|a, b| x(a.0).total_cmp(&x(b.0)))
        .map(|(i, p)| knee_point(axis, *i, p));
    let curve: Vec<(f64, f64)> = line
        .iter()
        .filter_map(|(i, p)| Some((x(*i), p.metrics.get("latency_mean")?.mean?)))
        .collect();
    let kneedle = kneedle(&curve).and_then(|k| {
        let mut with_values = line
            .iter()
            .filter(|(_, p)| p.metrics.get("latency_mean").and_then(|m| m.mean).is_some());
        with_values.nth(k).map(|(i, p)| knee_point(axis, *i, p))
    });
    Knee {
        key: axis.key.clone(),
        at,
        last_passing,
        kneedle,
    }
}

fn knee_point(axis: &Axis, i: usize, p: &Point) -> KneePoint {
    KneePoint {
        index: p.index,
        value: axis.values[i].clone(),
    }
}

/// The index of the point of maximum curvature of `curve` (x ascending or
/// not; at least three points, not all on a line), else `None`.
pub fn kneedle(curve: &[(f64, f64)]) -> Option<usize> {
    if curve.len() < 3 {
        return None;
    }
    let (x0, x1) = bounds(curve.iter().map(|p| p.0));
    let (y0, y1) = bounds(curve.iter().map(|p| p.1));
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let first = curve.first()?;
    let last = curve.last()?;
    let norm = |(x, y): (f64, f64)| ((x - x0) / (x1 - x0), (y - y0) / (y1 - y0));
    let (ax, ay) = norm(*first);
    let (bx, by) = norm(*last);
    // Distance from the chord, up to a constant factor.
    let distance = |p: (f64, f64)| {
        let (px, py) = norm(p);
        ((bx - ax) * (ay - py) - (ax - px) * (by - ay)).abs()
    };
    let (best, d) = curve
        .iter()
        .enumerate()
        .skip(1)
        .take(curve.len() - 2)
        .map(|(i, p)| (i, distance(*p)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
    (d > 1e-9).then_some(best)
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kneedle_finds_the_bend_of_a_queue_curve() {
        // Mean sojourn of M/M/1 with μ = 1: 1/(1-ρ); the bend is near ρ = 0.8.
        let curve: Vec<(f64, f64)> = [0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95]
            .iter()
            .map(|&r| (r, 1.0 / (1.0 - r)))
            .collect();
        assert_eq!(kneedle(&curve), Some(4));
        // Decreasing (latency against slots) works too.
        let down: Vec<(f64, f64)> = (1..=8)
            .map(|c| (c as f64, 1.0 + 8.0 / (c * c) as f64))
            .collect();
        assert_eq!(kneedle(&down), Some(1));
        assert_eq!(kneedle(&[(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)]), None);
        assert_eq!(kneedle(&[(0.0, 0.0), (1.0, 1.0)]), None);
    }
}
