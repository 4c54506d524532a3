//! The client table: one slot per present client (reused when a session
//! ends), its connection state, and the dense lists the model draws
//! recipients from and walks on a crash or a broadcast — present clients,
//! clients without a connection, and each gateway's connections — each
//! kept with O(1) insert and remove by swap.

/// A client's index in the table.
pub type ClientId = u32;

/// Messages a disconnected client is owed, oldest first.
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    pub sent_ns: u64,
    pub expires_ns: u64,
}

impl Pending {
    /// Whether its TTL has passed by `now_ns` (then it is dropped, not
    /// delivered).
    pub fn expired(&self, now_ns: u64) -> bool {
        self.expires_ns <= now_ns
    }
}

/// Where a client stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Slot unused.
    Free,
    /// Its session started; the first attempt has not completed.
    Connecting,
    /// Connected to gateway `.0`.
    Up(u16),
    /// Wants a connection and has none: dropped or refused; a retry is due.
    Down,
}

/// One client.
#[derive(Clone, Debug)]
pub struct Client {
    pub pop: u16,
    /// Changes with every session on this slot: events of an ended session
    /// carry the old value and are ignored.
    pub session: u32,
    pub state: State,
    /// Failed attempts since it was last connected (the backoff exponent).
    pub attempts: u32,
    /// When it was dropped, and by which crash (index), while it is down
    /// because of a crash.
    pub dropped: Option<(u64, u32)>,
    pub mailbox: Vec<Pending>,
    present_pos: u32,
    offline_pos: u32,
    gateway_pos: u32,
}

/// Every client, and the lists over them.
#[derive(Default)]
pub struct Clients {
    slots: Vec<Client>,
    free: Vec<ClientId>,
    present: Vec<ClientId>,
    offline: Vec<ClientId>,
}

/// Removes position `pos` of `list` by swap; the id that moved into it.
fn swap_out(list: &mut Vec<ClientId>, pos: u32) -> Option<ClientId> {
    list.swap_remove(pos as usize);
    list.get(pos as usize).copied()
}

impl Clients {
    pub fn get(&self, c: ClientId) -> &Client {
        &self.slots[c as usize]
    }

    pub fn get_mut(&mut self, c: ClientId) -> &mut Client {
        &mut self.slots[c as usize]
    }

    /// Clients present (in a session).
    pub fn present(&self) -> &[ClientId] {
        &self.present
    }

    /// Present clients without a connection (connecting or down).
    pub fn offline(&self) -> &[ClientId] {
        &self.offline
    }

    /// A new client of population `pop`, connecting.
    pub fn admit(&mut self, pop: u16) -> ClientId {
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.slots.push(Client {
                    pop,
                    session: 0,
                    state: State::Free,
                    attempts: 0,
                    dropped: None,
                    mailbox: Vec::new(),
                    present_pos: 0,
                    offline_pos: 0,
                    gateway_pos: 0,
                });
                (self.slots.len() - 1) as ClientId
            }
        };
        self.start_session(id, pop);
        id
    }

    /// Slot `id` begins a new session of `pop` (a replacement, after churn).
    pub fn start_session(&mut self, id: ClientId, pop: u16) {
        let (present, offline) = (self.present.len() as u32, self.offline.len() as u32);
        let c = &mut self.slots[id as usize];
        debug_assert_eq!(c.state, State::Free);
        c.pop = pop;
        c.session = c.session.wrapping_add(1);
        c.state = State::Connecting;
        c.attempts = 0;
        c.dropped = None;
        c.present_pos = present;
        c.offline_pos = offline;
        self.present.push(id);
        self.offline.push(id);
    }

    /// Ends `id`'s session: it leaves every list (not a gateway's: the
    /// caller detaches it first). Returns its undelivered mail.
    pub fn end_session(&mut self, id: ClientId) -> Vec<Pending> {
        let c = &mut self.slots[id as usize];
        let present_pos = c.present_pos;
        let was_offline = matches!(c.state, State::Connecting | State::Down);
        c.state = State::Free;
        let mail = std::mem::take(&mut c.mailbox);
        if let Some(moved) = swap_out(&mut self.present, present_pos) {
            self.slots[moved as usize].present_pos = present_pos;
        }
        if was_offline {
            self.leave_offline(id);
        }
        mail
    }

    /// Frees the slot of a client whose session ended (no replacement).
    pub fn release(&mut self, id: ClientId) {
        debug_assert_eq!(self.slots[id as usize].state, State::Free);
        self.free.push(id);
    }

    /// `id` got a connection on gateway `g`, whose list is `members`.
    pub fn connect(&mut self, id: ClientId, g: u16, members: &mut Vec<ClientId>) {
        self.leave_offline(id);
        let c = &mut self.slots[id as usize];
        c.state = State::Up(g);
        c.attempts = 0;
        c.gateway_pos = members.len() as u32;
        members.push(id);
    }

    /// Takes `id` off its gateway's list `members`.
    pub fn detach(&mut self, id: ClientId, members: &mut Vec<ClientId>) {
        let pos = self.slots[id as usize].gateway_pos;
        if let Some(moved) = swap_out(members, pos) {
            self.slots[moved as usize].gateway_pos = pos;
        }
    }

    /// A connecting or connected client is now down.
    pub fn go_down(&mut self, id: ClientId) {
        let offline = self.offline.len() as u32;
        let c = &mut self.slots[id as usize];
        let was_up = matches!(c.state, State::Up(_));
        c.state = State::Down;
        if was_up {
            c.offline_pos = offline;
            self.offline.push(id);
        }
    }

    fn leave_offline(&mut self, id: ClientId) {
        let pos = self.slots[id as usize].offline_pos;
        if let Some(moved) = swap_out(&mut self.offline, pos) {
            self.slots[moved as usize].offline_pos = pos;
        }
    }

    /// Whether the lists agree with every client's state: `Err` names the
    /// first disagreement.
    pub fn check(&self, gateways: &[&[ClientId]]) -> Result<(), String> {
        let mut up = 0usize;
        for (i, c) in self.slots.iter().enumerate() {
            let id = i as ClientId;
            let listed = |list: &[ClientId], pos: u32| list.get(pos as usize) == Some(&id);
            let present = c.state != State::Free;
            if present != listed(&self.present, c.present_pos) {
                return Err(format!(
                    "client {id} ({:?}) and the present list disagree",
                    c.state
                ));
            }
            let offline = matches!(c.state, State::Connecting | State::Down);
            if offline != listed(&self.offline, c.offline_pos) {
                return Err(format!(
                    "client {id} ({:?}) and the offline list disagree",
                    c.state
                ));
            }
            if let State::Up(g) = c.state {
                up += 1;
                if !listed(gateways[g as usize], c.gateway_pos) {
                    return Err(format!(
                        "client {id} is up on gateway {g} but not on its list"
                    ));
                }
            }
        }
        let listed: usize = gateways.iter().map(|g| g.len()).sum();
        if listed != up {
            return Err(format!(
                "{up} clients are up but the gateways list {listed}"
            ));
        }
        Ok(())
    }
}
