//! The message router (L25 and its replicas): one FIFO queue in front of
//! every live member's slots, bounded by `org.queue_capacity`. A member
//! serves a message in a time drawn from its service distribution (slow
//! and error faults apply); a crashed member's messages go back to the
//! head of the queue, in order, and its completions are ignored (epoch).

use std::collections::VecDeque;

use crate::core::AgentIdx;
use crate::sim::faults::AgentFaults;
use crate::sim::service::Service;

/// A message in the router's care: slab index.
pub type MsgId = u32;

/// A message on its way through the router.
#[derive(Clone, Copy, Debug)]
pub struct Msg {
    pub sent_ns: u64,
    pub stream: u16,
}

/// One router member.
pub struct Member {
    pub agent: AgentIdx,
    slots: u32,
    /// Messages it is serving.
    serving: Vec<MsgId>,
    up: bool,
    pub epoch: u32,
    service: Service,
}

/// A message started on a member: when it is done, and whether it got
/// through.
#[derive(Clone, Copy, Debug)]
pub struct Started {
    pub member: u16,
    pub epoch: u32,
    pub msg: MsgId,
    pub busy_ns: u64,
    pub ok: bool,
}

/// The router pool.
pub struct Router {
    members: Vec<Member>,
    queue: VecDeque<MsgId>,
    capacity: usize,
    msgs: Vec<Msg>,
    free: Vec<MsgId>,
}

impl Router {
    /// `members`: (agent, slots, service) of each replica.
    pub fn new(members: Vec<(AgentIdx, u32, Service)>, capacity: u32) -> Router {
        Router {
            members: (members.into_iter())
                .map(|(agent, slots, service)| Member {
                    agent,
                    slots,
                    serving: Vec::new(),
                    up: true,
                    epoch: 0,
                    service,
                })
                .collect(),
            queue: VecDeque::new(),
            capacity: capacity as usize,
            msgs: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Messages waiting or being served.
    pub fn held(&self) -> impl Iterator<Item = Msg> + '_ {
        let serving = self.members.iter().flat_map(|m| m.serving.iter());
        (self.queue.iter().chain(serving)).map(|&id| self.msgs[id as usize])
    }

    /// A message arrives: started at once on the first live member with a
    /// free slot, else queued; `Err` when the queue is full (dropped).
    pub fn arrive(&mut self, msg: Msg, faults: &[AgentFaults]) -> Result<Option<Started>, ()> {
        let free_member = self
            .members
            .iter()
            .position(|m| m.up && (m.serving.len() as u32) < m.slots);
        if free_member.is_none() && self.queue.len() >= self.capacity {
            return Err(());
        }
        let id = self.alloc(msg);
        match free_member {
            Some(m) => Ok(Some(self.start(m, id, faults))),
            None => {
                self.queue.push_back(id);
                Ok(None)
            }
        }
    }

    fn alloc(&mut self, msg: Msg) -> MsgId {
        match self.free.pop() {
            Some(id) => {
                self.msgs[id as usize] = msg;
                id
            }
            None => {
                self.msgs.push(msg);
                (self.msgs.len() - 1) as MsgId
            }
        }
    }

    fn start(&mut self, m: usize, id: MsgId, faults: &[AgentFaults]) -> Started {
        let member = &mut self.members[m];
        member.serving.push(id);
        let (busy_ns, ok) = member.service.draw(&faults[member.agent.0 as usize]);
        Started {
            member: m as u16,
            epoch: member.epoch,
            msg: id,
            busy_ns,
            ok,
        }
    }

    /// Member `m` finished `id` (started in `epoch`): the message leaves
    /// the router, and the member takes the next from the queue. `None`
    /// when the completion is stale (the member crashed since).
    pub fn done(
        &mut self,
        m: u16,
        epoch: u32,
        id: MsgId,
        faults: &[AgentFaults],
    ) -> Option<(Msg, Option<Started>)> {
        let member = &mut self.members[m as usize];
        if member.epoch != epoch {
            return None;
        }
        let pos = member.serving.iter().position(|&x| x == id)?;
        member.serving.swap_remove(pos);
        self.free.push(id);
        let next = self
            .queue
            .pop_front()
            .map(|next| self.start(m as usize, next, faults));
        Some((self.msgs[id as usize], next))
    }

    /// Member `m` crashed: its messages go back to the queue's head.
    pub fn down(&mut self, m: usize) {
        let member = &mut self.members[m];
        member.up = false;
        member.epoch += 1;
        for id in member.serving.drain(..).rev() {
            self.queue.push_front(id);
        }
    }

    /// Member `m` is back: it fills its slots from the queue.
    pub fn up(&mut self, m: usize, faults: &[AgentFaults]) -> Vec<Started> {
        self.members[m].up = true;
        let mut started = Vec::new();
        while (self.members[m].serving.len() as u32) < self.members[m].slots {
            let Some(id) = self.queue.pop_front() else {
                break;
            };
            started.push(self.start(m, id, faults));
        }
        started
    }
}
