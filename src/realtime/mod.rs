//! D4 real-time communications (DESIGN.md §11): client connections held
//! by the gateway pool (L11 and its replicas), and message streams routed
//! through the router pool (L25) to connected clients.
//!
//! The model runs inside the simulation, on the sim's future-event list
//! ([`RtEvent`]s) and clock, with its own seeded streams, and is told of
//! crashes by the sim's fault injector. What it costs grows with events —
//! connects, drops, retries, session ends, messages — never with
//! connections × time: nothing beats per connection, uptime is an exact
//! integral of connected and disconnected client counts, and a broadcast
//! to n connected clients is one record of n deliveries.
//!
//! - A connection attempt completes after a handshake (two hops); it goes
//!   to the live gateway with the fewest connections that has room, or is
//!   refused (counted) and retried with backoff.
//! - A gateway crash drops its connections at once (counted); each client
//!   retries after `reconnect` backoff. The crash has recovered when 99 %
//!   of the clients it dropped are connected again (or have left).
//! - A message takes four hops (sender → gateway → router, router →
//!   gateway → recipient) plus the router's queue wait and service. When
//!   the router finishes it, the recipients are drawn from the clients
//!   present: connected ones receive it two hops later; a disconnected
//!   one's copy waits in its mailbox until it reconnects (delivered one hop
//!   after), its session ends, or the message's TTL passes (dropped,
//!   counted).
//!
//! It must not touch the job core: the two share only the agents that
//! fault injection crashes.

mod clients;
mod record;
mod router;

use rand::seq::index::sample;
use rand::Rng;

use crate::core::AgentIdx;
use crate::metrics::summary::{GatewayCrash, GatewaySummary, OrderedMap, RealtimeSummary};
use crate::org::Org;
use crate::scenario::{
    suggest, Backoff, Clients as ClientsSpec, Fanout, RealtimeSpec, Scenario, ScenarioError,
};
use crate::sim::dist::Sampler;
use crate::sim::faults::AgentFaults;
use crate::sim::rng::{stream, Stream};
use crate::sim::service::Service;
use crate::sim::workload::Arrivals;
use crate::time::{SimDuration, SimInstant};
use clients::{ClientId, Clients, Pending, State};
pub use record::RtRow;
use record::{Outcome, RtRecorder};
use router::{Msg, Router, Started};

/// What the model puts on the future-event list.
#[derive(Clone, Copy, Debug)]
pub enum RtEvent {
    /// A client of population `pop` joins (its session starts).
    Join { pop: u16 },
    /// A connection attempt of `client`'s session completes.
    Attempt { client: u32, session: u32 },
    /// `client`'s session ends.
    SessionEnd { client: u32, session: u32 },
    /// The next message of stream `stream` reaches the router.
    AtRouter { stream: u16 },
    /// Router member `member` finishes message `msg`.
    Routed {
        member: u16,
        epoch: u32,
        msg: u32,
        ok: bool,
    },
}

/// What a crash means to the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    None,
    Gateway(u16),
    Router(u16),
}

struct Gateway {
    id: String,
    up: bool,
    members: Vec<ClientId>,
    peak: u64,
    dropped: u64,
}

/// One population's source of clients and its draws.
struct Population {
    /// `Some((joined, count, ramp))` for a count population.
    count: Option<(u32, u32, SimDuration)>,
    arrivals: Option<Arrivals>,
    session: Option<Sampler>,
    backoff: Backoff,
    arrival_rng: Stream,
    session_rng: Stream,
    jitter_rng: Stream,
}

struct MsgStream {
    arrivals: Arrivals,
    fanout: Fanout,
    ttl_ns: u64,
    arrival_rng: Stream,
    recipient_rng: Stream,
}

struct Crash {
    gateway: u16,
    at_ns: u64,
    dropped: u64,
    /// Clients it dropped that are connected again or gone.
    resolved: u64,
    recovered_ns: Option<u64>,
}

/// The D4 model of one run.
pub struct Realtime {
    hop_ns: u64,
    max_connections: usize,
    max_pending: usize,
    gateways: Vec<Gateway>,
    router: Router,
    roles: Vec<Role>,
    pops: Vec<Population>,
    streams: Vec<MsgStream>,
    clients: Clients,
    crashes: Vec<Crash>,
    rec: RtRecorder,
    due: Vec<(SimInstant, RtEvent)>,
}

impl Realtime {
    /// The model of the scenario's `[realtime]`, `[[connections]]` and
    /// `[[messages]]`; `None` without them. Pool names are checked here.
    pub fn build(scenario: &Scenario, org: &Org) -> Result<Option<Realtime>, ScenarioError> {
        let Some(spec) = &scenario.realtime else {
            return Ok(None);
        };
        let seed = scenario.seed;
        let gateway_agents = pool(scenario, org, "realtime.gateways", &spec.gateways)?;
        let router_agents = pool(scenario, org, "realtime.router", &spec.router)?;
        if spec.gateways == spec.router {
            return Err(ScenarioError::invalid(
                &scenario.source,
                "realtime.router",
                format!("pool `{}` cannot be both the gateways and the router; name the pool of L25's replicas in router", spec.router),
            ));
        }
        let mut roles = vec![Role::None; org.agents.len()];
        for (i, &a) in gateway_agents.iter().enumerate() {
            roles[a.0 as usize] = Role::Gateway(i as u16);
        }
        let mut members = Vec::with_capacity(router_agents.len());
        for (i, &a) in router_agents.iter().enumerate() {
            roles[a.0 as usize] = Role::Router(i as u16);
            let agent = &org.agents[a.0 as usize];
            let name = format!("realtime/router/{}", agent.id);
            let service = Service::new(&spec.router_service, 0.0, seed, &name).map_err(|e| {
                ScenarioError::invalid(&scenario.source, "realtime.router_service", e)
            })?;
            members.push((a, spec.router_slots, service));
        }
        let load_end = SimInstant::ZERO + scenario.duration;
        let capacity = scenario.org.queue_capacity.unwrap_or(u32::MAX);
        Ok(Some(Realtime {
            hop_ns: scenario.org.hop_latency.as_nanos(),
            max_connections: spec.max_connections as usize,
            max_pending: spec.max_pending as usize,
            gateways: (gateway_agents.iter())
                .map(|&a| Gateway {
                    id: org.agents[a.0 as usize].id.clone(),
                    up: true,
                    members: Vec::new(),
                    peak: 0,
                    dropped: 0,
                })
                .collect(),
            router: Router::new(members, capacity),
            roles,
            pops: populations(scenario, spec, load_end)?,
            streams: streams(seed, spec, load_end),
            clients: Clients::default(),
            crashes: Vec::new(),
            rec: RtRecorder::new(
                SimInstant::ZERO + scenario.warmup,
                load_end,
                load_end + scenario.drain,
                scenario.interval.as_nanos(),
            ),
            due: Vec::new(),
        }))
    }

    /// The first join of every population and the first message of every
    /// stream.
    pub fn start(&mut self) {
        for p in 0..self.pops.len() {
            self.schedule_join(SimInstant::ZERO, p);
        }
        for s in 0..self.streams.len() {
            self.schedule_message(s);
        }
    }

    /// Events the model wants scheduled since the last call.
    pub fn take_due(&mut self) -> std::vec::Drain<'_, (SimInstant, RtEvent)> {
        self.due.drain(..)
    }

    /// Closes time-series intervals up to `t`; call before each event.
    #[inline]
    pub fn advance_to(&mut self, t: SimInstant) {
        self.rec.advance_to(t, self.clients.offline().len() as u64);
    }

    pub fn handle(&mut self, t: SimInstant, event: RtEvent, faults: &[AgentFaults]) {
        match event {
            RtEvent::Join { pop } => {
                let id = self.clients.admit(pop);
                self.begin(t, id);
                self.schedule_join(t, pop as usize);
            }
            RtEvent::Attempt { client, session } => {
                let c = self.clients.get(client);
                if c.session == session && matches!(c.state, State::Connecting | State::Down) {
                    self.attempt(t, client);
                }
            }
            RtEvent::SessionEnd { client, session } => {
                let c = self.clients.get(client);
                if c.session == session && c.state != State::Free {
                    self.leave(t, client);
                }
            }
            RtEvent::AtRouter { stream } => self.at_router(t, stream, faults),
            RtEvent::Routed {
                member,
                epoch,
                msg,
                ok,
            } => self.routed(t, (member, epoch, msg, ok), faults),
        }
    }

    /// `agent`'s process went down (its first active crash).
    pub fn agent_down(&mut self, t: SimInstant, agent: AgentIdx) {
        match self.roles[agent.0 as usize] {
            Role::Gateway(g) => self.gateway_down(t, g),
            Role::Router(m) => self.router.down(m as usize),
            Role::None => {}
        }
    }

    /// `agent`'s process is back (its last crash ended).
    pub fn agent_up(&mut self, t: SimInstant, agent: AgentIdx, faults: &[AgentFaults]) {
        match self.roles[agent.0 as usize] {
            Role::Gateway(g) => self.gateways[g as usize].up = true,
            Role::Router(m) => {
                for s in self.router.up(m as usize, faults) {
                    self.schedule_routed(t, s);
                }
            }
            Role::None => {}
        }
    }

    // ---- clients ----------------------------------------------------------

    fn schedule_join(&mut self, now: SimInstant, p: usize) {
        let pop = &mut self.pops[p];
        let at = match (&mut pop.count, &mut pop.arrivals) {
            (Some((joined, count, ramp)), _) if *joined < *count => {
                let offset = u128::from(ramp.as_nanos()) * u128::from(*joined) / u128::from(*count);
                *joined += 1;
                Some(SimInstant(offset as u64).max(now))
            }
            (None, Some(arrivals)) => arrivals.next(&mut pop.arrival_rng),
            _ => None,
        };
        if let Some(at) = at {
            self.due.push((at, RtEvent::Join { pop: p as u16 }));
        }
    }

    /// A session starts on `id`: its end is drawn, its first attempt
    /// completes after the handshake.
    fn begin(&mut self, t: SimInstant, id: ClientId) {
        self.rec.sessions += 1;
        let c = self.clients.get(id);
        let (session, pop) = (c.session, &mut self.pops[c.pop as usize]);
        if let Some(sampler) = &pop.session {
            let length = SimDuration(sampler.sample(&mut pop.session_rng));
            let event = RtEvent::SessionEnd {
                client: id,
                session,
            };
            self.due.push((t + length, event));
        }
        let event = RtEvent::Attempt {
            client: id,
            session,
        };
        self.due.push((t + self.handshake(), event));
    }

    fn handshake(&self) -> SimDuration {
        SimDuration(2 * self.hop_ns)
    }

    fn attempt(&mut self, t: SimInstant, id: ClientId) {
        let max = self.max_connections;
        let best = (self.gateways.iter().enumerate())
            .filter(|(_, g)| g.up && g.members.len() < max)
            .min_by_key(|(i, g)| (g.members.len(), *i))
            .map(|(i, _)| i);
        match best {
            Some(g) => self.connect(t, id, g),
            None => {
                self.rec.refused += 1;
                if self.clients.get(id).state == State::Connecting {
                    self.clients.go_down(id);
                    self.rec.down.add(t.as_nanos(), 1);
                }
                self.retry(t, id);
            }
        }
    }

    fn connect(&mut self, t: SimInstant, id: ClientId, g: usize) {
        let now = t.as_nanos();
        if self.clients.get(id).state == State::Down {
            self.rec.down.sub(now, 1);
        }
        let gateway = &mut self.gateways[g];
        self.clients.connect(id, g as u16, &mut gateway.members);
        gateway.peak = gateway.peak.max(gateway.members.len() as u64);
        self.rec.connected.add(now, 1);
        self.rec.opened += 1;
        self.rec.peak = self.rec.peak.max(self.rec.connected.level());
        let c = self.clients.get_mut(id);
        let mail = std::mem::take(&mut c.mailbox);
        if let Some((dropped_ns, crash)) = c.dropped.take() {
            self.rec.reconnected(now - dropped_ns);
            self.resolve(now, crash);
        }
        for p in mail {
            if p.expired(now) {
                self.rec.count(p.sent_ns, Outcome::Ttl, 1);
            } else {
                self.rec.delivered(p.sent_ns, now + self.hop_ns, 1, true);
            }
        }
    }

    /// Schedules `id`'s next attempt after its backoff and a handshake.
    fn retry(&mut self, t: SimInstant, id: ClientId) {
        let c = self.clients.get_mut(id);
        let (k, session) = (c.attempts, c.session);
        c.attempts = c.attempts.saturating_add(1);
        let pop = &mut self.pops[c.pop as usize];
        let wait = backoff_ns(&pop.backoff, k, &mut pop.jitter_rng);
        let event = RtEvent::Attempt {
            client: id,
            session,
        };
        self.due
            .push((t + SimDuration(wait) + self.handshake(), event));
    }

    /// `id`'s session ends: it leaves its gateway or the offline list, its
    /// mail is dropped, and a count population replaces it at once.
    fn leave(&mut self, t: SimInstant, id: ClientId) {
        let now = t.as_nanos();
        let c = self.clients.get(id);
        let (state, pop, dropped) = (c.state, c.pop, c.dropped);
        match state {
            State::Up(g) => {
                self.clients
                    .detach(id, &mut self.gateways[g as usize].members);
                self.rec.connected.sub(now, 1);
            }
            State::Down => {
                self.rec.down.sub(now, 1);
                if let Some((_, crash)) = dropped {
                    self.resolve(now, crash);
                }
            }
            State::Connecting | State::Free => {}
        }
        for p in self.clients.end_session(id) {
            self.rec.count(p.sent_ns, Outcome::RecipientLeft, 1);
        }
        if self.pops[pop as usize].count.is_some() {
            self.clients.start_session(id, pop);
            self.begin(t, id);
        } else {
            self.clients.release(id);
        }
    }

    fn gateway_down(&mut self, t: SimInstant, g: u16) {
        let now = t.as_nanos();
        let gateway = &mut self.gateways[g as usize];
        gateway.up = false;
        let dropped = std::mem::take(&mut gateway.members);
        if dropped.is_empty() {
            return;
        }
        let n = dropped.len() as u64;
        gateway.dropped += n;
        let crash = self.crashes.len() as u32;
        self.crashes.push(Crash {
            gateway: g,
            at_ns: now,
            dropped: n,
            resolved: 0,
            recovered_ns: None,
        });
        self.rec.dropped += n;
        self.rec.connected.sub(now, n);
        self.rec.down.add(now, n);
        for id in dropped {
            self.clients.go_down(id);
            let c = self.clients.get_mut(id);
            c.dropped = Some((now, crash));
            c.attempts = 0;
            self.retry(t, id);
        }
    }

    /// One client dropped by `crash` is back or gone.
    fn resolve(&mut self, now: u64, crash: u32) {
        let c = &mut self.crashes[crash as usize];
        c.resolved += 1;
        if c.recovered_ns.is_none() && 100 * c.resolved >= 99 * c.dropped {
            c.recovered_ns = Some(now - c.at_ns);
        }
    }

    // ---- messages ---------------------------------------------------------

    fn schedule_message(&mut self, s: usize) {
        let stream = &mut self.streams[s];
        if let Some(sent) = stream.arrivals.next(&mut stream.arrival_rng) {
            let at = sent + SimDuration(2 * self.hop_ns);
            self.due.push((at, RtEvent::AtRouter { stream: s as u16 }));
        }
    }

    fn at_router(&mut self, t: SimInstant, stream: u16, faults: &[AgentFaults]) {
        let sent_ns = t.as_nanos() - 2 * self.hop_ns;
        self.rec.count(sent_ns, Outcome::Sent, 1);
        match self.router.arrive(Msg { sent_ns, stream }, faults) {
            Ok(Some(started)) => self.schedule_routed(t, started),
            Ok(None) => {}
            Err(()) => self.rec.count(sent_ns, Outcome::RouterFull, 1),
        }
        self.schedule_message(stream as usize);
    }

    fn schedule_routed(&mut self, t: SimInstant, s: Started) {
        let event = RtEvent::Routed {
            member: s.member,
            epoch: s.epoch,
            msg: s.msg,
            ok: s.ok,
        };
        self.due.push((t + SimDuration(s.busy_ns), event));
    }

    fn routed(&mut self, t: SimInstant, done: (u16, u32, u32, bool), faults: &[AgentFaults]) {
        let (member, epoch, id, ok) = done;
        let Some((msg, next)) = self.router.done(member, epoch, id, faults) else {
            return; // the member crashed since; the message was requeued
        };
        if let Some(next) = next {
            self.schedule_routed(t, next);
        }
        if ok {
            self.rec.count(msg.sent_ns, Outcome::Routed, 1);
            self.fan_out(t, msg);
        } else {
            self.rec.count(msg.sent_ns, Outcome::RouterError, 1);
        }
    }

    /// The router sends `msg` on to its recipients.
    fn fan_out(&mut self, t: SimInstant, msg: Msg) {
        let n = self.clients.present().len();
        if n == 0 {
            self.rec.count(msg.sent_ns, Outcome::NoRecipients, 1);
            return;
        }
        let at_ns = t.as_nanos() + 2 * self.hop_ns;
        let s = &mut self.streams[msg.stream as usize];
        let (fanout, expires_ns) = (s.fanout, msg.sent_ns + s.ttl_ns);
        match fanout {
            Fanout::Direct => {
                let c = self.clients.present()[s.recipient_rng.random_range(0..n)];
                self.copy_to(t, c, msg, (at_ns, expires_ns));
            }
            Fanout::Group { min, max } => {
                let k = (s.recipient_rng.random_range(min..=max) as usize).min(n);
                for i in sample(&mut s.recipient_rng, n, k) {
                    let c = self.clients.present()[i];
                    self.copy_to(t, c, msg, (at_ns, expires_ns));
                }
            }
            Fanout::Broadcast => {
                self.rec.count(msg.sent_ns, Outcome::Copy, n as u64);
                let connected = self.rec.connected.level();
                self.rec.delivered(msg.sent_ns, at_ns, connected, false);
                for i in 0..self.clients.offline().len() {
                    let c = self.clients.offline()[i];
                    self.hold(t, c, msg.sent_ns, expires_ns);
                }
            }
        }
    }

    /// One copy of `msg` for client `c`: delivered at `at_ns` if it is
    /// connected, else held until it reconnects (until `expires_ns`).
    fn copy_to(&mut self, t: SimInstant, c: ClientId, msg: Msg, (at_ns, expires_ns): (u64, u64)) {
        self.rec.count(msg.sent_ns, Outcome::Copy, 1);
        if matches!(self.clients.get(c).state, State::Up(_)) {
            self.rec.delivered(msg.sent_ns, at_ns, 1, false);
        } else {
            self.hold(t, c, msg.sent_ns, expires_ns);
        }
    }

    /// Puts a copy in a disconnected client's mailbox, first dropping what
    /// expired at its head; a full mailbox drops the copy.
    fn hold(&mut self, t: SimInstant, c: ClientId, sent_ns: u64, expires_ns: u64) {
        let now = t.as_nanos();
        let mailbox = &mut self.clients.get_mut(c).mailbox;
        let expired = mailbox.iter().take_while(|p| p.expired(now)).count();
        let stale: Vec<u64> = mailbox.drain(..expired).map(|p| p.sent_ns).collect();
        let full = mailbox.len() >= self.max_pending;
        if !full {
            mailbox.push(Pending {
                sent_ns,
                expires_ns,
            });
        }
        for sent in stale {
            self.rec.count(sent, Outcome::Ttl, 1);
        }
        if full {
            self.rec.count(sent_ns, Outcome::MailboxFull, 1);
        }
    }

    // ---- the end ------------------------------------------------------------

    /// Closes the measurements at `end`: what is still held is counted, the
    /// model's invariants are checked (violations returned), and the
    /// summary and the time-series rows are made.
    pub fn finish(mut self, end: SimInstant) -> (RealtimeSummary, Vec<RtRow>, Vec<String>) {
        let end_ns = end.as_nanos();
        self.rec.finish(end, self.clients.offline().len() as u64);
        for i in 0..self.clients.present().len() {
            let c = self.clients.present()[i];
            for p in std::mem::take(&mut self.clients.get_mut(c).mailbox) {
                let outcome = if p.expired(end_ns) {
                    Outcome::Ttl
                } else {
                    Outcome::PendingAtEnd
                };
                self.rec.count(p.sent_ns, outcome, 1);
            }
        }
        let held: Vec<u64> = self.router.held().map(|m| m.sent_ns).collect();
        for sent in held {
            self.rec.count(sent, Outcome::InRouterAtEnd, 1);
        }
        let violations = self.violations();
        (self.summary(), self.rec.series().to_vec(), violations)
    }

    fn violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        let m = &self.rec.all;
        let left = m.routed + m.dropped_router_full + m.dropped_router_error + m.in_router_at_end;
        if m.sent != left {
            out.push(format!("message conservation: {} sent but {left} routed, dropped at the router or still there", m.sent));
        }
        let ends = m.delivered
            + m.dropped_ttl
            + m.dropped_recipient_left
            + m.dropped_mailbox_full
            + m.pending_at_end;
        if m.copies != ends {
            out.push(format!(
                "delivery conservation: {} copies but {ends} delivered, dropped or pending",
                m.copies
            ));
        }
        let lists: Vec<&[ClientId]> = (self.gateways.iter())
            .map(|g| g.members.as_slice())
            .collect();
        if let Err(e) = self.clients.check(&lists) {
            out.push(format!("connections: {e}"));
        }
        let listed: usize = lists.iter().map(|g| g.len()).sum();
        if listed as u64 != self.rec.connected.level() {
            out.push(format!(
                "connections: {listed} on gateways but {} counted",
                self.rec.connected.level()
            ));
        }
        if self.rec.saturated() > 0 {
            out.push(format!(
                "{} real-time values above the histograms' range",
                self.rec.saturated()
            ));
        }
        out
    }

    fn summary(&self) -> RealtimeSummary {
        let (connected, down) = self.rec.window_areas();
        let wanted = connected + down;
        let crashes: Vec<GatewayCrash> = (self.crashes.iter())
            .map(|c| GatewayCrash {
                gateway: self.gateways[c.gateway as usize].id.clone(),
                at_ns: c.at_ns,
                dropped: c.dropped,
                recovery_ns: c.recovered_ns,
            })
            .collect();
        let recovery_time_ns =
            (crashes.iter()).try_fold(0u64, |worst, c| c.recovery_ns.map(|r| worst.max(r)));
        RealtimeSummary {
            sessions: self.rec.sessions,
            connections_opened: self.rec.opened,
            connections_peak: self.rec.peak,
            connections_at_end: self.rec.connected.level(),
            connections_dropped: self.rec.dropped,
            connections_refused: self.rec.refused,
            uptime: (wanted > 0).then(|| connected as f64 / wanted as f64),
            connected_client_s: connected as f64 / 1e9,
            disconnected_client_s: down as f64 / 1e9,
            delivery_latency_ns: self.rec.delivery(),
            reconnect_time_ns: self.rec.reconnect(),
            messages_dropped: record::dropped(&self.rec.measured),
            messages: self.rec.measured,
            messages_all: self.rec.all,
            recovery_time_ns,
            crashes,
            gateways: OrderedMap(
                (self.gateways.iter())
                    .map(|g| {
                        let s = GatewaySummary {
                            max_connections: self.max_connections as u32,
                            connections_peak: g.peak,
                            connections_at_end: g.members.len() as u64,
                            dropped: g.dropped,
                        };
                        (g.id.clone(), s)
                    })
                    .collect(),
            ),
        }
    }
}

/// Attempt `k`'s wait: `min(max, initial × multiplier^k)`, shortened by a
/// uniform share of up to `jitter` of it.
fn backoff_ns(b: &Backoff, k: u32, rng: &mut Stream) -> u64 {
    let grown = b.initial.as_nanos() as f64 * b.multiplier.powi(k.min(1_000) as i32);
    let base = grown.min(b.max.as_nanos() as f64);
    let cut = if b.jitter > 0.0 {
        b.jitter * rng.random::<f64>()
    } else {
        0.0
    };
    (base * (1.0 - cut)).round() as u64
}

/// The members of the pool named `name` (error at `key` if none).
fn pool(
    scenario: &Scenario,
    org: &Org,
    key: &str,
    name: &str,
) -> Result<Vec<AgentIdx>, ScenarioError> {
    match org.pools.iter().find(|p| p.name == name) {
        Some(p) => Ok(p.members.clone()),
        None => Err(ScenarioError::invalid(
            &scenario.source,
            key,
            format!(
                "no worker pool is named `{name}`{}; a pool is an agent's `pool` (its id by default), e.g. \"L11\" with replicas that set pool = \"L11\"",
                suggest(name, org.pools.iter().map(|p| p.name.as_str()), "pools")
            ),
        )),
    }
}

fn populations(
    scenario: &Scenario,
    spec: &RealtimeSpec,
    load_end: SimInstant,
) -> Result<Vec<Population>, ScenarioError> {
    let seed = scenario.seed;
    let mut out = Vec::with_capacity(spec.populations.len());
    for (i, p) in spec.populations.iter().enumerate() {
        let name = |what: &str| format!("realtime/connections/{i}/{}/{what}", p.name);
        let session = match &p.session {
            Some(d) => Some(Sampler::new(d).map_err(|e| {
                ScenarioError::invalid(&scenario.source, &format!("connections[{i}].session"), e)
            })?),
            None => None,
        };
        let (count, arrivals) = match &p.clients {
            ClientsSpec::Count { count, ramp } => (Some((0, *count, *ramp)), None),
            ClientsSpec::Arrival(a) => (None, Some(Arrivals::new(a, load_end))),
        };
        out.push(Population {
            count,
            arrivals,
            session,
            backoff: p.reconnect,
            arrival_rng: stream(seed, &name("arrivals")),
            session_rng: stream(seed, &name("sessions")),
            jitter_rng: stream(seed, &name("jitter")),
        });
    }
    Ok(out)
}

fn streams(seed: u64, spec: &RealtimeSpec, load_end: SimInstant) -> Vec<MsgStream> {
    (spec.streams.iter().enumerate())
        .map(|(i, m)| {
            let name = |what: &str| format!("realtime/messages/{i}/{}/{what}", m.name);
            MsgStream {
                arrivals: Arrivals::new(&m.arrival, load_end),
                fanout: m.fanout,
                ttl_ns: m.ttl.as_nanos(),
                arrival_rng: stream(seed, &name("arrivals")),
                recipient_rng: stream(seed, &name("recipients")),
            }
        })
        .collect()
}
