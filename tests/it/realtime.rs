//! The D4 real-time model against what can be computed by hand: with no
//! failure uptime is exactly 1 and every delivery takes four hops plus the
//! router's service; one gateway crash with a fixed reconnect delay
//! recovers in that delay plus the handshake, and uptime and delivery
//! latency under it are the hand computation's; an arrival population is
//! an M/M/∞ queue (mean connections λ·E[S]). Also: refusals when capacity
//! is short, run-twice bytes, and bad input located with exit 2.

use serde_json::Value;

use super::{run_scenario, stderr};

/// An org of `gateways` gateways (pool `gw`), one router `rt` and a job
/// worker, 1 ms hops; `extra` adds `[realtime]`, populations, streams,
/// faults and SLOs.
fn scenario(gateways: usize, extra: &str) -> String {
    let mut s = String::from(
        r#"[scenario]
name = "rt-test"
seed = 3
duration = "200s"
warmup = "10s"
drain = "5s"
interval = "10s"

[org]
preset = "none"
hop_latency = "1ms"
plan_time = "0s"
fallback_domain = "D4"

[[org.domain]]
id = "D4"
keywords = []

[[org.agent]]
id = "worker"
domain = "D4"
service = { dist = "exp", mean = "10ms" }

[[org.agent]]
id = "rt"
domain = "D4"
"#,
    );
    for g in 0..gateways {
        s.push_str(&format!(
            "\n[[org.agent]]\nid = \"gw-{g}\"\ndomain = \"D4\"\npool = \"gw\"\n"
        ));
    }
    s.push_str(
        r#"
[[load]]
arrival = { process = "poisson", rate = "1/s" }
tasks = [{ text = "background job" }]
"#,
    );
    s.push_str(extra);
    s
}

/// `[realtime]` with gateways `gw` and a router `rt` that never queues
/// (unbounded slots), routing in `service`.
fn unbounded_router(service: &str) -> String {
    format!(
        "\n[realtime]\ngateways = \"gw\"\nrouter = \"rt\"\nrouter_slots = 100000\nrouter_service = {service}\n"
    )
}

fn realtime(run: &super::Run) -> Value {
    run.summary()["realtime"].clone()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn without_failures_uptime_is_one_and_delivery_is_four_hops_plus_service() {
    let extra = unbounded_router("{ dist = \"const\", value = \"3ms\" }")
        + r#"
[[connections]]
count = 1000

[[messages]]
kind = "direct"
arrival = { process = "poisson", rate = "100/s" }

[[messages]]
kind = "group"
group_size = { min = 2, max = 5 }
arrival = { process = "poisson", rate = "20/s" }

[[messages]]
kind = "broadcast"
arrival = { process = "constant", rate = "1/s" }
"#;
    let run = run_scenario(&scenario(2, &extra), &["-q"], 0);
    let r = realtime(&run);
    assert_eq!(r["uptime"], 1.0, "{r}");
    assert_eq!(r["connections_peak"], 1000);
    let d = &r["delivery_latency_ns"];
    // 4 hops of 1 ms + 3 ms of routing, for every copy: the mean is an
    // exact sum; the percentiles are HdrHistogram buckets (3 digits).
    assert_eq!(f(&d["mean"]), 7_000_000.0, "{d}");
    for q in ["p50", "p99", "max"] {
        let v = f(&d[q]);
        assert!((v - 7e6).abs() <= 7e6 * 1e-3, "{q} = {v}");
    }
    let m = &r["messages"];
    assert_eq!(m["copies"], m["delivered"], "{m}");
    assert_eq!(r["messages_dropped"], 0);
    // 190 broadcasts in the window reach all 1000 clients.
    assert!(f(&m["delivered"]) > 190.0 * 1000.0);
}

#[test]
fn delivery_latency_follows_the_router_service_distribution() {
    let extra = unbounded_router("{ dist = \"exp\", mean = \"3ms\" }")
        + r#"
[[connections]]
count = 500

[[messages]]
kind = "direct"
arrival = { process = "poisson", rate = "300/s" }
"#;
    let run = run_scenario(&scenario(2, &extra), &["-q"], 0);
    let d = realtime(&run)["delivery_latency_ns"].clone();
    let n = f(&d["count"]);
    assert!(n > 50_000.0, "{d}");
    // No queueing (unbounded slots): latency = 4 ms + Exp(mean 3 ms).
    // The mean's standard error is 3 ms / √n; allow 4 of them.
    let se = 3e6 / n.sqrt();
    assert!((f(&d["mean"]) - 7e6).abs() < 4.0 * se, "mean {d}");
    // Median 4 ms + ln 2 · 3 ms; p99 4 ms + ln 100 · 3 ms (2 %: sampling
    // and the histogram's buckets).
    let p50 = 4e6 + std::f64::consts::LN_2 * 3e6;
    let p99 = 4e6 + 100f64.ln() * 3e6;
    assert!((f(&d["p50"]) - p50).abs() < 0.02 * p50, "p50 {d}");
    assert!((f(&d["p99"]) - p99).abs() < 0.02 * p99, "p99 {d}");
}

/// Four gateways of 250 clients each; gw-2 crashes at 100 s for 50 s;
/// clients retry after exactly 500 ms; broadcasts every 100 ms.
fn crash_run() -> super::Run {
    let extra = unbounded_router("{ dist = \"const\", value = \"3ms\" }")
        + r#"
[[connections]]
count = 1000
reconnect = { initial = "500ms", multiplier = 1.0, jitter = "0%" }

[[messages]]
kind = "broadcast"
arrival = { process = "constant", rate = "10/s" }

[[fault]]
at = "100s"
kind = "crash"
target = "gw-2"
duration = "50s"

[slo]
connection_recovery_time = "< 2s"
uptime = "> 99.9%"
"#;
    run_scenario(&scenario(4, &extra), &["-q"], 0)
}

#[test]
fn a_gateway_crash_recovers_in_the_reconnect_delay_plus_the_handshake() {
    let r = realtime(&crash_run());
    // Least connections: 1000 clients land 250 on each gateway.
    assert_eq!(r["connections_dropped"], 250, "{r}");
    assert_eq!(r["crashes"][0]["dropped"], 250);
    // 500 ms delay + a two-hop handshake, for every one of them.
    let back_ns = 500_000_000 + 2 * 1_000_000;
    assert_eq!(r["recovery_time_ns"], back_ns);
    assert_eq!(r["reconnect_time_ns"]["count"], 250);
    assert_eq!(f(&r["reconnect_time_ns"]["mean"]), back_ns as f64);
    assert_eq!(r["connections_refused"], 0);
    assert_eq!(r["connections_at_end"], 1000);
}

#[test]
fn uptime_and_delivery_under_a_crash_match_the_hand_computation() {
    let r = realtime(&crash_run());
    let (clients, dropped, window_s, down_s) = (1000.0, 250.0, 190.0, 0.502);
    let uptime = 1.0 - dropped * down_s / (clients * window_s);
    assert!(
        (f(&r["uptime"]) - uptime).abs() < 1e-12,
        "uptime {}",
        r["uptime"]
    );
    assert!((f(&r["disconnected_client_s"]) - dropped * down_s).abs() < 1e-9);
    // Broadcasts are sent at k × 100 ms and routed 5 ms later (2 hops +
    // 3 ms). Those routed while gw-2's clients are away, [100 s, 100.502 s),
    // were sent at 100.0 … 100.4 s: 5 × 250 copies wait and are delivered
    // one hop after the reconnect, at 100.503 s; every other copy takes
    // 7 ms. The window holds the broadcasts sent at 10.0 … 199.9 s.
    let m = &r["messages"];
    assert_eq!(m["sent"], 1900, "{m}");
    assert_eq!(m["copies"], 1900 * 1000);
    assert_eq!(m["delivered_on_reconnect"], 5 * 250);
    assert_eq!(m["delivered"], m["copies"]);
    let late_ms: f64 = [503.0, 403.0, 303.0, 203.0, 103.0].iter().sum();
    let total_ns = (1900.0 * 1000.0 - 1250.0) * 7e6 + 250.0 * late_ms * 1e6;
    let mean = total_ns / (1900.0 * 1000.0);
    let d = &r["delivery_latency_ns"];
    assert!(
        (f(&d["mean"]) - mean).abs() < 1e-6 * mean,
        "mean {d} vs {mean}"
    );
    assert!((f(&d["max"]) - 503e6).abs() < 503e6 * 1e-3, "max {d}");
}

#[test]
fn arriving_clients_are_an_infinite_server_queue() {
    let extra = r#"
[realtime]
gateways = "gw"
router = "rt"

[[connections]]
arrival = { process = "poisson", rate = "10/s" }
session = { dist = "exp", mean = "60s" }
"#;
    let text = scenario(2, extra)
        .replace("duration = \"200s\"", "duration = \"2h\"")
        .replace("warmup = \"10s\"", "warmup = \"10m\"")
        .replace("interval = \"10s\"", "interval = \"1m\"");
    let r = realtime(&run_scenario(&text, &["-q"], 0));
    // M/M/∞: L = λ·E[S] = 600 connections on average. Over 6,600 s with a
    // 60 s correlation time the time average has a standard error of about
    // √(600 / 110) ≈ 2.3; allow 4 %.
    let mean = f(&r["connected_client_s"]) / 6600.0;
    assert!((mean - 600.0).abs() < 24.0, "mean connections {mean}");
    assert_eq!(r["uptime"], 1.0);
}

#[test]
fn short_capacity_refuses_connections_and_never_recovers() {
    let extra = r#"
[realtime]
gateways = "gw"
router = "rt"
max_connections = 300

[[connections]]
count = 1000
reconnect = { initial = "1s", max = "4s" }

[[fault]]
at = "100s"
kind = "crash"
target = "gw-0"

[slo]
connection_recovery_time = "< 2s"
"#;
    let run = run_scenario(&scenario(4, extra), &["-q"], 1);
    let r = realtime(&run);
    // 1000 clients fit on 4 × 300; after the crash 3 × 300 = 900 remain.
    assert_eq!(r["connections_dropped"], 250, "{r}");
    assert_eq!(r["connections_at_end"], 900);
    assert!(f(&r["connections_refused"]) > 100.0, "{r}");
    assert!(r["recovery_time_ns"].is_null());
    assert!(f(&r["uptime"]) < 1.0);
    let slo = &run.summary()["slo"][0];
    assert_eq!(slo["pass"], false, "{slo}");
}

#[test]
fn the_same_failover_twice_gives_the_same_bytes() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    for d in &dirs {
        let out = d.path().to_str().unwrap();
        super::run(
            &[
                "run",
                "scenarios/realtime-failover.toml",
                "-q",
                "--out",
                out,
            ],
            0,
        );
    }
    for f in ["summary.json", "timeseries.csv", "latency.hgrm"] {
        let a = std::fs::read(dirs[0].path().join(f)).unwrap();
        let b = std::fs::read(dirs[1].path().join(f)).unwrap();
        assert!(a == b, "{f} differs between two runs");
    }
    let csv = std::fs::read_to_string(dirs[0].path().join("timeseries.csv")).unwrap();
    assert!(csv.lines().next().unwrap().ends_with("delivery_p99_ns"));
}

/// Runs a bad scenario: exit 2, and stderr names `key` and says `fix`.
fn rejects(extra: &str, key: &str, fix: &str) {
    let run = run_scenario(&scenario(2, extra), &["-q"], 2);
    let err = stderr(&run.out);
    assert!(err.contains(key), "no `{key}` in:\n{err}");
    assert!(err.contains(fix), "no `{fix}` in:\n{err}");
    assert!(err.contains("s.toml"), "no file in:\n{err}");
}

#[test]
fn bad_connections_and_messages_exit_2_with_a_located_message() {
    let conn = "\n[realtime]\ngateways = \"gw\"\nrouter = \"rt\"\n\n[[connections]]\ncount = 10\n";
    rejects(
        "\n[[connections]]\ncount = 10\narrival = { process = \"poisson\", rate = \"1/s\" }\n",
        "connections[0].arrival",
        "keep one",
    );
    rejects(
        "\n[[connections]]\narrival = { process = \"poisson\", rate = \"1/s\" }\n",
        "connections[0].session",
        "session = {",
    );
    rejects("\n[[connections]]\ncout = 10\n", "cout", "count");
    rejects(
        "\n[[connections]]\ncount = -5\n",
        "connections[0].count",
        "whole number",
    );
    rejects(
        "\n[[connections]]\ncount = 10\nreconnect = { initial = \"2s\", max = \"1s\" }\n",
        "connections[0].reconnect.max",
        "raise max",
    );
    rejects(
        "\n[[messages]]\nkind = \"direct\"\narrival = { process = \"poisson\", rate = \"1/s\" }\n",
        "messages[0]",
        "[[connections]]",
    );
    rejects(
        &format!("{conn}\n[[messages]]\nkind = \"multicast\"\narrival = {{ process = \"poisson\", rate = \"1/s\" }}\n"),
        "messages[0].kind",
        "broadcast",
    );
    rejects(
        &format!("{conn}\n[[messages]]\nkind = \"group\"\narrival = {{ process = \"poisson\", rate = \"1/s\" }}\n"),
        "messages[0].group_size",
        "group_size = {",
    );
    rejects(
        &format!("{conn}\n[[messages]]\nkind = \"direct\"\ngroup_size = {{ min = 1, max = 2 }}\narrival = {{ process = \"poisson\", rate = \"1/s\" }}\n"),
        "messages[0].group_size",
        "remove it",
    );
    rejects(
        "\n[realtime]\ngateways = \"L99\"\n\n[[connections]]\ncount = 10\n",
        "realtime.gateways",
        "no worker pool is named `L99`",
    );
    rejects(
        "\n[slo]\nuptime = \"> 99.9%\"\n",
        "slo.uptime",
        "[[connections]]",
    );
    rejects(
        &format!("{conn}\n[slo]\ndomain.D4.uptime = \"> 99%\"\n"),
        "domain.D4.uptime",
        "whole run only",
    );
}

#[test]
fn the_run_page_charts_connections_messages_and_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let args = [
        "run",
        "scenarios/realtime-failover.toml",
        "-q",
        "--html",
        "--out",
        out,
    ];
    super::run(&args, 0);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    for title in ["D4 connections", "D4 messages", "D4 delivery latency"] {
        assert!(html.contains(title), "no `{title}` chart");
    }
    assert!(
        html.contains("SLO delivery_latency_p99 &lt; 100ms")
            || html.contains("SLO delivery_latency_p99 < 100ms")
    );
}
