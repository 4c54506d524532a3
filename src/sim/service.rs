//! Serving a work item: each worker agent's service-time sampler and
//! failure draw, on its own seeded streams, with the slow and error faults
//! active on it applied. Both drivers draw through here: the simulation
//! schedules the completion, the live driver sleeps it.

use rand::Rng;

use super::dist::Sampler;
use super::faults::AgentFaults;
use super::rng::{stream, Stream};
use crate::org::Org;
use crate::scenario::{Dist, Scenario, ScenarioError};

/// A worker agent's service: sampler, its stream, and the failure stream.
pub struct Service {
    sampler: Sampler,
    rng: Stream,
    error_rate: f64,
    error_rng: Stream,
}

impl Service {
    /// A service of `dist` failing at `error_rate`, drawing from the
    /// streams `<name>/service` and `<name>/errors` of `seed`.
    pub fn new(dist: &Dist, error_rate: f64, seed: u64, name: &str) -> Result<Service, String> {
        Ok(Service {
            sampler: Sampler::new(dist)?,
            rng: stream(seed, &format!("{name}/service")),
            error_rate,
            error_rng: stream(seed, &format!("{name}/errors")),
        })
    }

    /// One attempt's service time (ns) and outcome under the faults active
    /// on the agent.
    #[inline]
    pub fn draw(&mut self, faults: &AgentFaults) -> (u64, bool) {
        let mut busy_ns = self.sampler.sample(&mut self.rng);
        if faults.slow_factor != 1.0 {
            busy_ns = crate::time::round_ns(busy_ns as f64 * faults.slow_factor).max(1);
        }
        let p_fail = 1.0 - (1.0 - self.error_rate) * faults.error_survival;
        let ok = p_fail <= 0.0 || self.error_rng.random::<f64>() >= p_fail;
        (busy_ns, ok)
    }
}

/// Every agent's service (`None` for agents that serve no work), on the
/// scenario seed's streams.
pub fn services(scenario: &Scenario, org: &Org) -> Result<Vec<Option<Service>>, ScenarioError> {
    let seed = scenario.seed;
    let mut services = Vec::with_capacity(org.agents.len());
    for a in &org.agents {
        services.push(match a.domain {
            None => None,
            Some(_) => Some(
                Service::new(&a.service, a.error_rate, seed, &format!("agent/{}", a.id)).map_err(
                    |e| {
                        ScenarioError::invalid(
                            &scenario.source,
                            &service_key(scenario, &a.id),
                            format!("agent `{}`: {e}", a.id),
                        )
                    },
                )?,
            ),
        });
    }
    Ok(services)
}

/// Where an agent's service distribution is written: its `[[org.agent]]`
/// entry if it sets `service`, else `[org.defaults]`.
fn service_key(scenario: &Scenario, id: &str) -> String {
    match (scenario.org.agents.iter()).position(|a| a.id == id && a.service.is_some()) {
        Some(i) => format!("org.agent[{i}].service"),
        None => "org.defaults.service".to_string(),
    }
}
