//! The Redis side of the org's protocol (esa-org.md §5), and the only code
//! that speaks Redis: task lists per queue (`tasks:pending:{q}` →
//! `tasks:active:{q}` with BLMOVE, LREM on completion), result hashes
//! (`results:{task_id}` plus a `:logs` list), heartbeat keys with a TTL
//! and the registry sets. A queue `{q}` is a domain id (a coordinator's
//! subtasks) or an agent id (a worker's work items).

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, MultiplexedConnection};
use redis::{Client, Cmd, Pipeline};
use serde::{Deserialize, Serialize};

/// A failure at the Redis boundary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot reach Redis at {url}: {source}; start one with `redis-server --port 6379` or pass --redis redis://HOST:PORT")]
    Connect {
        url: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("Redis {command} {key} failed: {source}")]
    Command {
        command: &'static str,
        key: String,
        #[source]
        source: redis::RedisError,
    },
    #[error("malformed task message in {key}: {source}")]
    Message {
        key: String,
        #[source]
        source: serde_json::Error,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The key names of esa-org.md §5, in one place.
pub mod keys {
    pub fn pending(queue: &str) -> String {
        format!("tasks:pending:{queue}")
    }
    pub fn active(queue: &str) -> String {
        format!("tasks:active:{queue}")
    }
    pub fn result(task_id: &str) -> String {
        format!("results:{task_id}")
    }
    pub fn logs(task_id: &str) -> String {
        format!("results:{task_id}:logs")
    }
    pub fn notifications(domain: &str) -> String {
        format!("notifications:{domain}")
    }
    pub fn heartbeat(agent: &str) -> String {
        format!("agents:heartbeat:{agent}")
    }
    pub fn info(agent: &str) -> String {
        format!("agents:info:{agent}")
    }
    pub const ALL: &str = "agents:all";
    pub const DOMAINS: &str = "agents:domains";
    pub const WORKERS: &str = "agents:workers";
    /// Every pattern a live run writes (cleared before it starts).
    pub const PATTERNS: [&str; 3] = ["tasks:*", "results:*", "agents:*"];
}

/// The task message of esa-org.md §5.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskMessage {
    pub task_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub source: String,
    pub destination: String,
    /// Scaled (simulated) time of sending, in nanoseconds.
    pub timestamp: u64,
    pub payload: Payload,
    pub metadata: Metadata,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Payload {
    pub description: String,
    pub requirements: Vec<String>,
    pub context: Context,
}

/// What the core needs back when the message comes out of Redis.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtask: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The sampled service time (simulated ns) a worker serves.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_ns: Option<u64>,
    /// The drawn outcome of the attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ok: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// low | normal | high (critical maps to high).
    pub priority: String,
    pub timeout_seconds: u64,
}

impl TaskMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a task message serializes")
    }

    pub fn from_json(key: &str, raw: &str) -> Result<TaskMessage> {
        serde_json::from_str(raw).map_err(|source| StoreError::Message {
            key: key.to_string(),
            source,
        })
    }
}

/// A registry entry.
pub struct AgentInfo {
    pub id: String,
    pub kind: String,
    pub domain: Option<String>,
    pub slots: u32,
}

/// What Redis holds at the end of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Lists that are not empty: key → length.
    pub lists: BTreeMap<String, usize>,
    /// Result hashes by status.
    pub results: BTreeMap<String, u64>,
}

impl Audit {
    /// Task messages still in a pending or active list.
    pub fn messages_left(&self) -> usize {
        self.lists.values().sum()
    }

    pub fn result_hashes(&self) -> u64 {
        self.results.values().sum()
    }
}

/// A write the driver makes, in the order it decided it. One writer task
/// applies them in order, many to a pipeline, so the driver never waits
/// for Redis and per-key order is kept.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    /// Enqueues a task message on `queue` (LPUSH to its pending list).
    Push { queue: String, raw: String },
    /// Completes a message a coordinator took (LREM from active).
    Ack { queue: String, raw: String },
    /// Withdraws a message wherever it is, pending or taken: its work went
    /// back to the coordinator.
    Withdraw { queue: String, raw: String },
    /// A job's result hash, opened at arrival (status `pending`).
    OpenResult {
        task_id: String,
        description: String,
        at_ns: u64,
    },
    /// A job's log line (a domain's result).
    Log { task_id: String, line: String },
    /// A job's final result (status, the aggregated output of §5, the
    /// completion time), announced on the job's channel.
    CloseResult {
        task_id: String,
        status: &'static str,
        output: String,
        at_ns: u64,
    },
    /// An announcement on a domain's notification channel.
    Notify { domain: String, message: String },
}

impl Write {
    fn append(&self, pipe: &mut Pipeline) {
        match self {
            Write::Push { queue, raw } => {
                pipe.cmd("LPUSH")
                    .arg(keys::pending(queue))
                    .arg(raw)
                    .ignore();
            }
            Write::Ack { queue, raw } => {
                pipe.cmd("LREM")
                    .arg(keys::active(queue))
                    .arg(1)
                    .arg(raw)
                    .ignore();
            }
            Write::Withdraw { queue, raw } => {
                pipe.cmd("LREM")
                    .arg(keys::pending(queue))
                    .arg(1)
                    .arg(raw)
                    .ignore();
                pipe.cmd("LREM")
                    .arg(keys::active(queue))
                    .arg(1)
                    .arg(raw)
                    .ignore();
            }
            Write::OpenResult {
                task_id,
                description,
                at_ns,
            } => {
                let fields = [
                    ("task_id", task_id.clone()),
                    ("status", "pending".to_string()),
                    ("description", description.clone()),
                    ("started_at", at_ns.to_string()),
                ];
                pipe.cmd("HSET")
                    .arg(keys::result(task_id))
                    .arg(&fields[..])
                    .ignore();
            }
            Write::Log { task_id, line } => {
                pipe.cmd("RPUSH")
                    .arg(keys::logs(task_id))
                    .arg(line)
                    .ignore();
            }
            Write::CloseResult {
                task_id,
                status,
                output,
                at_ns,
            } => {
                let key = keys::result(task_id);
                let fields = [
                    ("status", status.to_string()),
                    ("output", output.clone()),
                    ("error", String::new()),
                    ("completed_at", at_ns.to_string()),
                ];
                pipe.cmd("HSET").arg(&key).arg(&fields[..]).ignore();
                pipe.cmd("PUBLISH").arg(&key).arg(*status).ignore();
            }
            Write::Notify { domain, message } => {
                pipe.cmd("PUBLISH")
                    .arg(keys::notifications(domain))
                    .arg(message)
                    .ignore();
            }
        }
    }
}

/// A connection for ordinary commands, shared by the driver's tasks.
#[derive(Clone)]
pub struct Store {
    client: Client,
    conn: ConnectionManager,
    url: String,
}

/// A dedicated connection for blocking pops (one per consumer: a blocking
/// command on the shared connection would stall every task).
pub struct Blocking {
    conn: MultiplexedConnection,
}

async fn run<T: redis::FromRedisValue>(
    conn: &mut (impl redis::aio::ConnectionLike + Send),
    cmd: &Cmd,
    command: &'static str,
    key: &str,
) -> Result<T> {
    cmd.query_async(conn)
        .await
        .map_err(|source| StoreError::Command {
            command,
            key: key.to_string(),
            source,
        })
}

impl Store {
    pub async fn connect(url: &str) -> Result<Store> {
        let connect = |source| StoreError::Connect {
            url: url.to_string(),
            source,
        };
        let client = Client::open(url).map_err(connect)?;
        let conn = client.get_connection_manager().await.map_err(connect)?;
        let mut store = Store {
            client,
            conn,
            url: url.to_string(),
        };
        let _: String = run(&mut store.conn, &redis::cmd("PING"), "PING", "").await?;
        Ok(store)
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn blocking(&self) -> Result<Blocking> {
        let conn = (self.client.get_multiplexed_async_connection().await).map_err(|source| {
            StoreError::Connect {
                url: self.url.clone(),
                source,
            }
        })?;
        Ok(Blocking { conn })
    }

    async fn pipe(&mut self, pipe: &Pipeline, what: &'static str, key: &str) -> Result<()> {
        let conn = &mut self.conn;
        pipe.query_async::<()>(conn)
            .await
            .map_err(|source| StoreError::Command {
                command: what,
                key: key.to_string(),
                source,
            })
    }

    /// Every key of a previous run (the protocol's patterns only: other
    /// data in the same Redis is left alone).
    pub async fn clear(&mut self) -> Result<usize> {
        let mut removed = 0;
        for pattern in keys::PATTERNS {
            for key in self.scan(pattern).await? {
                let _: usize =
                    run(&mut self.conn, redis::cmd("DEL").arg(&key), "DEL", &key).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn scan(&mut self, pattern: &str) -> Result<Vec<String>> {
        let mut cursor = 0u64;
        let mut out = Vec::new();
        loop {
            let mut cmd = redis::cmd("SCAN");
            cmd.arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000);
            let (next, batch): (u64, Vec<String>) =
                run(&mut self.conn, &cmd, "SCAN", pattern).await?;
            out.extend(batch);
            if next == 0 {
                out.sort();
                out.dedup();
                return Ok(out);
            }
            cursor = next;
        }
    }

    /// The registry: every agent in `agents:all`, coordinators in
    /// `agents:domains`, workers in `agents:workers`, and an info hash each.
    pub async fn register(&mut self, agents: &[AgentInfo]) -> Result<()> {
        let mut pipe = redis::pipe();
        for a in agents {
            pipe.cmd("SADD").arg(keys::ALL).arg(&a.id).ignore();
            if a.kind == "domain" {
                pipe.cmd("SADD").arg(keys::DOMAINS).arg(&a.id).ignore();
            }
            if a.domain.is_some() {
                pipe.cmd("SADD").arg(keys::WORKERS).arg(&a.id).ignore();
            }
            let mut info = vec![("kind", a.kind.clone()), ("slots", a.slots.to_string())];
            if let Some(d) = &a.domain {
                info.push(("domain", d.clone()));
            }
            pipe.cmd("HSET").arg(keys::info(&a.id)).arg(&info).ignore();
        }
        self.pipe(&pipe, "SADD/HSET", keys::ALL).await
    }

    /// A heartbeat: the agent's key, alive for `ttl`.
    pub async fn beat(&mut self, agent: &str, ttl: Duration) -> Result<()> {
        let key = keys::heartbeat(agent);
        let ms = ttl.as_millis().max(1) as u64;
        let cmd = redis::cmd("SET")
            .arg(&key)
            .arg("alive")
            .arg("PX")
            .arg(ms)
            .clone();
        run::<()>(&mut self.conn, &cmd, "SET", &key).await
    }

    /// Each agent's heartbeat key's remaining life; `None`: expired.
    pub async fn heartbeat_ttls(&mut self, agents: &[String]) -> Result<Vec<Option<Duration>>> {
        let mut pipe = redis::pipe();
        for a in agents {
            pipe.cmd("PTTL").arg(keys::heartbeat(a));
        }
        let ttls: Vec<i64> =
            (pipe.query_async(&mut self.conn).await).map_err(|source| StoreError::Command {
                command: "PTTL",
                key: "agents:heartbeat:*".to_string(),
                source,
            })?;
        Ok(ttls
            .into_iter()
            .map(|ms| (ms >= 0).then(|| Duration::from_millis(ms as u64)))
            .collect())
    }

    /// Completes a task message taken from `queue` (LREM from active).
    pub async fn ack(&mut self, queue: &str, raw: &str) -> Result<usize> {
        let key = keys::active(queue);
        run(
            &mut self.conn,
            redis::cmd("LREM").arg(&key).arg(1).arg(raw),
            "LREM",
            &key,
        )
        .await
    }

    /// Applies `writes` in order, in one pipeline.
    pub async fn apply(&mut self, writes: &[Write]) -> Result<()> {
        let mut pipe = redis::pipe();
        for w in writes {
            w.append(&mut pipe);
        }
        self.pipe(&pipe, "pipeline of writes", "tasks:*/results:*")
            .await
    }

    /// The lists of `queues` that still hold messages, and every result
    /// hash's status.
    pub async fn audit(&mut self, queues: &[String]) -> Result<Audit> {
        let mut audit = Audit::default();
        for q in queues {
            for key in [keys::pending(q), keys::active(q)] {
                let len: usize =
                    run(&mut self.conn, redis::cmd("LLEN").arg(&key), "LLEN", &key).await?;
                if len > 0 {
                    audit.lists.insert(key, len);
                }
            }
        }
        for key in self.scan("results:*").await? {
            if key.ends_with(":logs") {
                continue;
            }
            let status: Option<String> = run(
                &mut self.conn,
                redis::cmd("HGET").arg(&key).arg("status"),
                "HGET",
                &key,
            )
            .await?;
            *audit.results.entry(status.unwrap_or_default()).or_default() += 1;
        }
        Ok(audit)
    }
}

impl Blocking {
    /// Takes the oldest message of `queue` into its active list (BLMOVE),
    /// waiting up to `timeout`; `None` if none came.
    pub async fn take(&mut self, queue: &str, timeout: Duration) -> Result<Option<String>> {
        let (from, to) = (keys::pending(queue), keys::active(queue));
        let mut cmd = redis::cmd("BLMOVE");
        cmd.arg(&from)
            .arg(&to)
            .arg("RIGHT")
            .arg("LEFT")
            .arg(timeout.as_secs_f64());
        run(&mut self.conn, &cmd, "BLMOVE", &from).await
    }
}
