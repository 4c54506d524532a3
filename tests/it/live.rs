//! `esa-sim live` against a real `redis-server` each test starts on a free
//! local port in a temp dir (and stops when it ends): the M/M/4 scenario
//! agrees with Erlang C and with its own simulation, nothing is lost in
//! Redis, and a crashed worker's heartbeat key expires, its work is
//! requeued and every job has exactly one result. `.ci/run` installs
//! redis-server; without it these tests fail, they are never skipped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use super::{data, read_summary, run, stderr};

/// A redis-server of the test's own, on a free port, in a temp dir.
pub struct RedisServer {
    child: Child,
    port: u16,
    _dir: TempDir,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("redis.log")).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(log)
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "redis-server not found: install it (apt-get install redis-server); .ci/run does",
            );
        let server = RedisServer {
            child,
            port,
            _dir: dir,
        };
        server.wait_ready();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn connect(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut c) = redis::Client::open(self.url()).and_then(|c| c.get_connection()) {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "redis-server on port {} did not answer PING in 10 s",
            self.port
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn keys(c: &mut redis::Connection, pattern: &str) -> Vec<String> {
    let mut keys: Vec<String> = redis::cmd("KEYS").arg(pattern).query(c).unwrap();
    keys.sort();
    keys
}

/// Redis after a run, read by the test itself: every job has exactly one
/// result hash, each `completed`, and no task message is left in a list.
fn assert_nothing_lost(redis: &RedisServer, jobs: u64) {
    let mut c = redis.connect();
    let results: Vec<String> = (keys(&mut c, "results:*").into_iter())
        .filter(|k| !k.ends_with(":logs"))
        .collect();
    assert_eq!(results.len() as u64, jobs, "one result hash per job");
    for key in &results {
        let status: String = redis::cmd("HGET")
            .arg(key)
            .arg("status")
            .query(&mut c)
            .unwrap();
        assert_eq!(status, "completed", "{key}");
    }
    for list in keys(&mut c, "tasks:*") {
        let len: usize = redis::cmd("LLEN").arg(&list).query(&mut c).unwrap();
        assert_eq!(len, 0, "{list} still holds task messages");
    }
}

fn live_json(dir: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(dir.join("live.json")).unwrap()).unwrap()
}

/// Erlang C's mean sojourn W for M/M/c: arrival rate `lambda`, service
/// rate `mu`, `c` servers.
fn erlang_c_sojourn(lambda: f64, mu: f64, c: u32) -> f64 {
    let a = lambda / mu;
    let mut term = 1.0;
    let mut sum = 0.0;
    for k in 0..c {
        if k > 0 {
            term *= a / k as f64;
        }
        sum += term;
    }
    let last = term * a / c as f64 * c as f64 / (c as f64 - a);
    let p_wait = last / (sum + last);
    p_wait / (c as f64 * mu - lambda) + 1.0 / mu
}

#[test]
fn mmc_live_agrees_with_erlang_c_and_with_its_simulation_and_loses_nothing() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (live, sim) = (dir.path().join("live"), dir.path().join("sim"));
    let url = redis.url();
    let args = [
        "live",
        "scenarios/mmc-live.toml",
        "--redis",
        &url,
        "--speed",
        "100",
    ];
    let out = run(
        &[&args[..], &["-q", "--out", live.to_str().unwrap()]].concat(),
        0,
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
    run(
        &[
            "run",
            "scenarios/mmc-live.toml",
            "-q",
            "--out",
            sim.to_str().unwrap(),
        ],
        0,
    );
    // Side by side with `compare`, within the sim-vs-live tolerances of
    // the scenario's [compare] table.
    let compared = run(
        &[
            "compare",
            sim.to_str().unwrap(),
            live.to_str().unwrap(),
            "--scenario",
            "scenarios/mmc-live.toml",
        ],
        0,
    );
    assert!(super::stdout(&compared).contains("0 regressions"));
    let (l, s) = (read_summary(&live), read_summary(&sim));
    let arrived = l["jobs_all"]["arrived"].as_u64().unwrap();
    assert_eq!(
        arrived,
        s["jobs_all"]["arrived"].as_u64().unwrap(),
        "same seeded arrivals"
    );
    assert_eq!(l["jobs"]["lost"], 0);
    assert_eq!(l["jobs_all"]["in_flight_at_end"], 0);
    let audit = &live_json(&live)["audit"];
    assert_eq!(audit["lists"], serde_json::json!({}));
    assert_eq!(audit["results"]["completed"].as_u64(), Some(arrived));
    assert_nothing_lost(&redis, arrived);
    // λ = 0.48/s, μ = 0.2/s, c = 4: W = 5.897 s. 1,090 measured jobs give
    // the mean a standard error of about 4 % of W (batch means), and a
    // live run adds its Redis round trips and timer slop to every job
    // (measured: 2–5 % at --speed 100): 12 % is three standard errors
    // plus that overhead.
    let w = erlang_c_sojourn(0.48, 0.2, 4);
    let mean = |v: &Value| v["latency_ns"]["mean"].as_f64().unwrap() / 1e9;
    let (live_w, sim_w) = (mean(&l), mean(&s));
    eprintln!("mean sojourn: Erlang C {w:.3} s · simulated {sim_w:.3} s · live {live_w:.3} s");
    assert!(
        (live_w / w - 1.0).abs() < 0.12,
        "live W {live_w:.3} s vs Erlang C {w:.3} s"
    );
    // The same arrivals and service draws: what separates the two runs is
    // the live run's overhead alone.
    assert!(
        (0.0..0.10).contains(&(live_w / sim_w - 1.0)),
        "live W {live_w:.3} s vs simulated {sim_w:.3} s"
    );
}

#[test]
fn a_crashed_live_worker_s_key_expires_its_work_is_requeued_and_nothing_is_lost() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let scenario = data("live-worker-failure.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_esa-sim"))
        .args([
            "live",
            scenario.to_str().unwrap(),
            "--redis",
            &redis.url(),
            "-q",
            "--out",
        ])
        .arg(dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Watch w1's heartbeat key in Redis while the run goes: it must exist,
    // vanish after the crash (TTL expiry) and come back after the restart.
    let mut c = redis.connect();
    let mut seen = Vec::new();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        let exists: bool = redis::cmd("EXISTS")
            .arg("agents:heartbeat:w1")
            .query(&mut c)
            .unwrap();
        if seen.last() != Some(&exists) {
            seen.push(exists);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert!(
        seen.windows(3).any(|w| w == [true, false, true]),
        "w1's key never expired and came back: {seen:?}"
    );
    let s = read_summary(dir.path());
    let faults = &s["faults"];
    assert!(faults["attempts_lost"].as_u64().unwrap() >= 1, "{faults}");
    assert_eq!(faults["requeues"], faults["attempts_lost"], "{faults}");
    let detection = &faults["detections"][0];
    assert_eq!(detection["agent"], "w1");
    // Declared dead when its key expired: one TTL (30 s) after its last
    // beat, which came at most one heartbeat interval (10 s) before the
    // crash, read at the next registry read (every 10 s).
    let after = detection["detected_after_ns"].as_f64().unwrap() / 1e9;
    assert!((20.0..=45.0).contains(&after), "detected after {after} s");
    assert_eq!(s["jobs"]["lost"], 0);
    assert_eq!(s["jobs_all"]["in_flight_at_end"], 0);
    let arrived = s["jobs_all"]["arrived"].as_u64().unwrap();
    assert_eq!(s["jobs_all"]["completed"].as_u64(), Some(arrived));
    assert_nothing_lost(&redis, arrived);
}

#[test]
fn an_unreachable_redis_is_a_clear_error() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        &[
            "live",
            "scenarios/mmc-live.toml",
            "--redis",
            &url,
            "-q",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        2,
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot reach Redis at {url}")),
        "{err}"
    );
    assert!(err.contains("redis-server --port"), "{err}");
}

#[test]
fn a_partition_cannot_run_live_and_says_so() {
    let text = std::fs::read_to_string("scenarios/mmc-live.toml").unwrap()
        + "\n[[fault]]\nat = \"1m\"\nkind = \"partition\"\nbetween = [\"orchestrator\", \"Q\"]\nduration = \"1m\"\n";
    let dir = tempfile::tempdir().unwrap();
    let file = super::write_file(dir.path(), "s.toml", &text);
    let url = format!("redis://127.0.0.1:{}", free_port());
    let out_dir = dir.path().join("out");
    let out = run(
        &[
            "live",
            &file,
            "--redis",
            &url,
            "-q",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        2,
    );
    let err = stderr(&out);
    assert!(err.contains("fault[0] is a partition"), "{err}");
    assert!(err.contains("esa-sim run"), "{err}");
}

#[test]
fn a_speed_that_shrinks_delays_below_a_timer_tick_is_warned_about() {
    let url = format!("redis://127.0.0.1:{}", free_port());
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let args = ["live", "scenarios/baseline.toml", "--redis", &url, "-q"];
    let out = run(
        &[&args[..], &["--out", out_dir.to_str().unwrap()]].concat(),
        2,
    );
    let err = stderr(&out);
    assert!(
        err.contains("warning: at --speed 100, org.hop_latency = 2ms lasts 20 µs of real time"),
        "{err}"
    );
    assert!(err.contains("--speed 2 or less"), "{err}");
}
