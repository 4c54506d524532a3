//! Time integrals of piecewise-constant quantities (busy slots, jobs in the
//! system), kept exactly in integer ns·units so Little's law and
//! utilisation come out of the simulated data without rounding drift.

/// ∫ level dt, advanced lazily whenever the level changes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Integral {
    level: u64,
    since_ns: u64,
    area: u128,
}

impl Integral {
    /// Area under the curve up to `t_ns` (not before the last change).
    #[inline]
    pub fn area_at(&self, t_ns: u64) -> u128 {
        self.area + self.level as u128 * t_ns.saturating_sub(self.since_ns) as u128
    }

    #[inline]
    fn settle(&mut self, t_ns: u64) {
        self.area = self.area_at(t_ns);
        self.since_ns = self.since_ns.max(t_ns);
    }

    #[inline]
    pub fn add(&mut self, t_ns: u64, delta: u64) {
        self.settle(t_ns);
        self.level += delta;
    }

    #[inline]
    pub fn sub(&mut self, t_ns: u64, delta: u64) {
        self.settle(t_ns);
        debug_assert!(self.level >= delta, "integral level below zero");
        self.level = self.level.saturating_sub(delta);
    }

    pub fn level(&self) -> u64 {
        self.level
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_steps_exactly() {
        let mut m = Integral::default();
        m.add(10, 2); // level 2 from 10
        m.add(20, 1); // level 3 from 20
        m.sub(25, 3); // level 0 from 25
        assert_eq!(m.area_at(100), 2 * 10 + 3 * 5);
    }
}
