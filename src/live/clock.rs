//! Scaled wall-clock time: a live run's `now` is the real time since it
//! started multiplied by the speed, so latencies and the scenario's
//! durations are in the same (simulated) units as a simulation's.

use std::time::Duration;

use tokio::time::Instant;

use crate::time::{SimDuration, SimInstant};

#[derive(Clone, Copy, Debug)]
pub struct Clock {
    origin: Instant,
    speed: f64,
}

impl Clock {
    /// Starts now; `speed` simulated seconds pass per real second.
    pub fn start(speed: f64) -> Clock {
        Clock {
            origin: Instant::now(),
            speed,
        }
    }

    pub fn now(&self) -> SimInstant {
        SimInstant((self.origin.elapsed().as_nanos() as f64 * self.speed) as u64)
    }

    /// The real instant of simulated time `t`.
    pub fn real_at(&self, t: SimInstant) -> Instant {
        self.origin + self.real(SimDuration(t.0))
    }

    /// How long a simulated span takes in real time.
    pub fn real(&self, d: SimDuration) -> Duration {
        Duration::from_nanos((d.as_nanos() as f64 / self.speed) as u64)
    }

    /// The simulated span of a real one.
    pub fn scaled(&self, d: Duration) -> SimDuration {
        SimDuration((d.as_nanos() as f64 * self.speed) as u64)
    }

    /// Real seconds since the start.
    pub fn real_elapsed(&self) -> Duration {
        self.origin.elapsed()
    }
}
