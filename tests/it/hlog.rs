//! `latency.hlog` read back by a decoder written here from the HdrHistogram
//! V2 format description (base64 → zlib → ZigZag-LEB128 counts), not by the
//! `hdrhistogram` crate that wrote it: the interval counts must add up to
//! the run's results, and the merged distribution must give the same
//! percentiles and max as summary.json.

use std::io::Read;

use base64::Engine;

use crate::{run_scenario, OnePool};

/// One decoded interval: (start s, length s, counts by bucket index) and the
/// histogram's shape.
struct Decoded {
    start_s: f64,
    length_s: f64,
    unit_magnitude: u32,
    half_count_magnitude: u32,
    counts: Vec<u64>,
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().unwrap())
}

fn be_u64(b: &[u8]) -> u64 {
    u64::from_be_bytes(b[..8].try_into().unwrap())
}

/// ZigZag LEB128 (at most 9 bytes, the 9th carrying 8 bits).
fn zigzag(bytes: &[u8], pos: &mut usize) -> i64 {
    let mut v: u64 = 0;
    for i in 0..9 {
        let b = bytes[*pos];
        *pos += 1;
        if i == 8 {
            v |= (b as u64) << 56;
            break;
        }
        v |= ((b & 0x7f) as u64) << (7 * i);
        if b & 0x80 == 0 {
            break;
        }
    }
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn decode_line(line: &str) -> Decoded {
    let fields: Vec<&str> = line.split(',').collect();
    assert_eq!(fields.len(), 4, "interval line: {line}");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(fields[3])
        .unwrap();
    // Cookies carry the legacy word size (0x10) in bits 4–7.
    assert_eq!(be_u32(&raw) & !0xf0, 0x1c84_9304, "V2 compressed cookie");
    let len = be_u32(&raw[4..]) as usize;
    let mut plain = Vec::new();
    flate2::read::ZlibDecoder::new(&raw[8..8 + len])
        .read_to_end(&mut plain)
        .unwrap();
    assert_eq!(be_u32(&plain) & !0xf0, 0x1c84_9303, "V2 cookie");
    let payload_len = be_u32(&plain[4..]) as usize;
    assert_eq!(be_u32(&plain[8..]), 0, "normalizing offset");
    let digits = be_u32(&plain[12..]);
    let lowest = be_u64(&plain[16..]);
    let payload = &plain[40..40 + payload_len];
    let mut counts = Vec::new();
    let mut pos = 0;
    while pos < payload.len() {
        let c = zigzag(payload, &mut pos);
        if c < 0 {
            counts.extend(std::iter::repeat_n(0, (-c) as usize));
        } else {
            counts.push(c as u64);
        }
    }
    let sub_bucket_count = (2.0 * 10f64.powi(digits as i32)).log2().ceil() as u32;
    Decoded {
        start_s: fields[0].parse().unwrap(),
        length_s: fields[1].parse().unwrap(),
        unit_magnitude: 63 - lowest.leading_zeros(),
        half_count_magnitude: sub_bucket_count - 1,
        counts,
    }
}

/// The highest value that bucket `index` stands for.
fn highest_equivalent(d: &Decoded, index: usize) -> u64 {
    let half = 1u64 << d.half_count_magnitude;
    let mut bucket = (index as i64 >> d.half_count_magnitude) - 1;
    let mut sub = (index as u64 & (half - 1)) + half;
    if bucket < 0 {
        sub -= half;
        bucket = 0;
    }
    let shift = bucket as u32 + d.unit_magnitude;
    (sub << shift) + (1u64 << shift) - 1
}

fn quantile(d: &Decoded, counts: &[u64], total: u64, q: f64) -> u64 {
    let target = ((q * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (i, c) in counts.iter().enumerate() {
        seen += c;
        if seen >= target {
            return highest_equivalent(d, i);
        }
    }
    panic!("quantile past the end");
}

/// M/M/10 at 80 % load with every job measured (no warm-up).
fn pool() -> OnePool<'static> {
    OnePool {
        name: "hlog",
        seed: 3,
        duration: "3h",
        warmup: "0s",
        drain: "30m",
        interval: "20m",
        org_extra: "",
        slots: 10,
        service: "{ dist = \"exp\", mean = \"1s\" }",
        load: "poisson",
        process: "poisson",
        rate: "8/s",
    }
}

#[test]
fn hlog_intervals_decode_to_the_summary_distribution() {
    let text = pool().text();
    let run = run_scenario(&text, &["-q"], 0);
    let hlog = std::fs::read_to_string(run.out_dir().join("latency.hlog")).unwrap();
    let header: Vec<&str> = hlog.lines().take_while(|l| l.starts_with('#')).collect();
    assert!(header.contains(&"#[StartTime: 0.000 (seconds since epoch)]"));
    assert!(header.contains(&"#[BaseTime: 0.000 (seconds since epoch)]"));
    let intervals: Vec<Decoded> = hlog
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(decode_line)
        .collect();
    let summary = run.summary();
    let series = std::fs::read_to_string(run.out_dir().join("timeseries.csv")).unwrap();
    assert_eq!(intervals.len(), series.lines().count() - 1, "one per row");
    let mut at = 0.0;
    let mut merged: Vec<u64> = Vec::new();
    for d in &intervals {
        assert_eq!(d.start_s, at, "intervals are contiguous");
        at += d.length_s;
        if merged.len() < d.counts.len() {
            merged.resize(d.counts.len(), 0);
        }
        for (m, c) in merged.iter_mut().zip(&d.counts) {
            *m += c;
        }
    }
    let total: u64 = merged.iter().sum();
    let l = &summary["latency_ns"];
    assert_eq!(total, l["count"].as_u64().unwrap());
    assert_eq!(total, summary["jobs_all"]["arrived"].as_u64().unwrap());
    let d = &intervals[0];
    for (q, key) in [(0.5, "p50"), (0.99, "p99"), (0.999, "p999")] {
        assert_eq!(
            quantile(d, &merged, total, q),
            l[key].as_u64().unwrap(),
            "{key}"
        );
    }
    let last = merged.iter().rposition(|c| *c > 0).unwrap();
    assert_eq!(highest_equivalent(d, last), l["max"].as_u64().unwrap());
}

#[test]
fn hlog_is_deterministic() {
    let text = pool().text();
    let a = run_scenario(&text, &["-q"], 0);
    let b = run_scenario(&text, &["-q"], 0);
    let read = |r: &crate::Run| std::fs::read(r.out_dir().join("latency.hlog")).unwrap();
    assert_eq!(read(&a), read(&b));
}
