//! A mutational fuzzer over the built-in scenarios, run in-process through
//! the CLI's own entry point (`cli::main_with`) with a fixed seed.
//!
//! Each input is a built-in scenario (or the esa-105 org file, or a trace
//! file) mutated one to three times: byte flips, truncation, swapped values,
//! huge and negative numbers, odd durations and rates, unicode, deep
//! nesting, duplicate keys and tables, deleted lines, a 20 MB file, and odd
//! `--set` paths. Every input must end with exit 0, 1 or 2 — never a panic,
//! a hang or exit 3 — and every exit 2 must print a message. Half the inputs
//! are `check`ed, half are `run` with a small event budget so the whole
//! test stays well under a minute.

use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use esa_sim::cli::{main_with, Bar};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Inputs per test run.
const INPUTS: usize = 2_400;
/// Events a fuzzed `run` may use before it is stopped (exit 2).
const RUN_EVENTS: &str = "60000";
/// No single input may take longer than this (a hang guard, not a timing).
const HANG: Duration = Duration::from_secs(60);

const SCENARIOS: [&str; 5] = [
    "scenarios/baseline.toml",
    "scenarios/mmc.toml",
    "scenarios/overload.toml",
    "scenarios/worker-failure.toml",
    "scenarios/partial-success.toml",
];

const NUMBERS: [&str; 16] = [
    "-1",
    "0",
    "1",
    "-0",
    "1e308",
    "-1e308",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "nan",
    "inf",
    "-inf",
    "0.0000001",
    "99999999999",
    "4294967296",
    "65536",
];

const STRINGS: [&str; 26] = [
    "\"0s\"",
    "\"1ns\"",
    "\"213503d\"",
    "\"-5s\"",
    "\"1e9h\"",
    "\"5 s\"",
    "\"99999999999999999999ms\"",
    "\"1000000/s\"",
    "\"0/s\"",
    "\"1/d\"",
    "\"\"",
    "\" \"",
    "\"/\"",
    "\"../../x\"",
    "\"∞\"",
    "\"101%\"",
    "\"-5%\"",
    "\"< 0s\"",
    "\"== nan\"",
    "\"random:0\"",
    "\"random:999999\"",
    "\"D3\"",
    "\"L12\"",
    "\"orchestrator\"",
    "[]",
    "{}",
];

const UNICODE: [&str; 9] = [
    "é", "𝔘", "\u{202e}", "\u{0}", "🚀", "\u{feff}", "ǅ", "\u{fffd}", "\\u0000",
];

const SEGMENTS: [&str; 22] = [
    "scenario",
    "org",
    "load",
    "0",
    "1",
    "99999999999999999999",
    "-1",
    "slo",
    "fault",
    "agent",
    "domain",
    "L12",
    "D3",
    "arrival",
    "rate",
    "duration",
    "balancing",
    "interval",
    "tasks",
    "é",
    "latency_mean",
    "domain.D3",
];

/// One fuzz input: files to write and the CLI arguments.
struct Input {
    /// (file name inside the work dir, bytes).
    files: Vec<(String, Vec<u8>)>,
    args: Vec<String>,
    what: String,
}

struct Mutator {
    rng: ChaCha8Rng,
    sources: Vec<(String, Vec<u8>)>,
    org: Vec<u8>,
}

impl Mutator {
    fn new(seed: u64) -> Mutator {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let sources = SCENARIOS
            .iter()
            .map(|p| (p.to_string(), std::fs::read(root.join(p)).unwrap()))
            .collect();
        let org = std::fs::read(root.join("scenarios/orgs/esa-105.toml")).unwrap();
        Mutator {
            rng: ChaCha8Rng::seed_from_u64(seed),
            sources,
            org,
        }
    }

    fn input(&mut self, index: usize, dir: &Path) -> Input {
        let (name, mut text) = self.sources.choose(&mut self.rng).unwrap().clone();
        let mut what = format!("#{index} from {name}:");
        let mut files = Vec::new();
        let mut args = Vec::new();
        if index == 0 {
            // The one huge input: a 20 MB file (a comment block, then the scenario).
            let mut big = vec![b'#'; 20 * 1024 * 1024];
            for i in (80..big.len()).step_by(80) {
                big[i] = b'\n';
            }
            big.extend_from_slice(b"\n");
            big.extend_from_slice(&text);
            text = big;
            what.push_str(" 20 MB file;");
        } else {
            let n = *[1, 1, 1, 2, 2, 3].choose(&mut self.rng).unwrap();
            for _ in 0..n {
                let op = self.mutate(&mut text, &mut files, &mut args);
                let _ = write!(what, " {op};");
            }
        }
        files.push(("s.toml".into(), text));
        let scenario = dir.join("s.toml").to_string_lossy().into_owned();
        let out = dir.join("out").to_string_lossy().into_owned();
        let mut argv: Vec<String> = if self.rng.random_bool(0.5) {
            vec!["esa-sim".into(), "check".into(), scenario]
        } else if self.rng.random_bool(0.7) {
            // Most runs are cut to two minutes so they finish in the budget.
            [
                "esa-sim",
                "run",
                &scenario,
                "-q",
                "--out",
                &out,
                "--max-events",
                RUN_EVENTS,
                "--set",
                "scenario.duration=2m",
                "--set",
                "scenario.warmup=0s",
            ]
            .map(String::from)
            .to_vec()
        } else {
            vec![
                "esa-sim".into(),
                "run".into(),
                scenario,
                "-q".into(),
                "--out".into(),
                out,
                "--max-events".into(),
                RUN_EVENTS.into(),
            ]
        };
        argv.extend(args);
        Input {
            files,
            args: argv,
            what,
        }
    }

    /// Applies one random mutation; returns its name.
    fn mutate(
        &mut self,
        text: &mut Vec<u8>,
        files: &mut Vec<(String, Vec<u8>)>,
        args: &mut Vec<String>,
    ) -> &'static str {
        // Semantic mutations (values, numbers, --set, trace and org files)
        // are drawn three times as often as ones that mostly break syntax.
        const OPS: [u8; 27] = [
            0, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 6, 7, 8, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 13,
            14,
        ];
        match *OPS.choose(&mut self.rng).unwrap() {
            0 => {
                self.flip_byte(text);
                "byte flip"
            }
            1 => {
                let at = self.rng.random_range(0..=text.len());
                text.truncate(at);
                "truncation"
            }
            2 => {
                self.swap_values(text);
                "swapped values"
            }
            3 => {
                let n = *NUMBERS.choose(&mut self.rng).unwrap();
                self.replace_number(text, n);
                "odd number"
            }
            4 => {
                let s = *STRINGS.choose(&mut self.rng).unwrap();
                self.replace_value(text, s);
                "odd value"
            }
            5 => {
                let u = *UNICODE.choose(&mut self.rng).unwrap();
                let at = self.char_boundary(text);
                text.splice(at..at, u.bytes());
                "unicode"
            }
            6 => {
                self.nest(text);
                "deep nesting"
            }
            7 => {
                self.duplicate_line(text);
                "duplicate line"
            }
            8 => {
                self.delete_line(text);
                "deleted line"
            }
            9 => {
                args.extend(["--set".to_string(), self.odd_set()]);
                "odd --set"
            }
            10 => {
                self.with_trace(text, files);
                "trace file"
            }
            11 => {
                self.with_org_file(text, files);
                "org file"
            }
            12 => {
                self.duplicate_table(text);
                "duplicate table"
            }
            13 => {
                self.big_load(text);
                "big load"
            }
            _ => {
                self.many_keywords(text);
                "many keywords"
            }
        }
    }

    /// A `[[load]]` with thousands of heavy tasks.
    fn big_load(&mut self, text: &mut Vec<u8>) {
        let n = self.rng.random_range(1..6_000);
        let weight = *[1u64, 1_000, 1_000_000, 4_294_967_295]
            .choose(&mut self.rng)
            .unwrap();
        let tasks: Vec<String> = (0..n)
            .map(|i| format!("{{ text = \"task {i} etl\", weight = {weight} }}"))
            .collect();
        let load = format!(
            "\n[[load]]\nname = \"big\"\narrival = {{ process = \"poisson\", rate = \"10/s\" }}\ntasks = [{}]\n",
            tasks.join(", ")
        );
        text.extend_from_slice(load.as_bytes());
    }

    /// A domain whose keywords are many and long ("a", "aa", … and one huge).
    fn many_keywords(&mut self, text: &mut Vec<u8>) {
        let n = self.rng.random_range(1..3_000);
        let mut words: Vec<String> = (1..=n).map(|k| format!("\"{}\"", "a".repeat(k))).collect();
        if self.rng.random_bool(0.3) {
            words.push(format!("\"{}\"", "b".repeat(1_000_000)));
        }
        let domain = format!(
            "\n[[org.domain]]\nid = \"DX\"\nkeywords = [{}]\n",
            words.join(", ")
        );
        text.extend_from_slice(domain.as_bytes());
    }

    fn lines(text: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut start = 0;
        for (i, b) in text.iter().enumerate() {
            if *b == b'\n' {
                out.push((start, i));
                start = i + 1;
            }
        }
        if start < text.len() {
            out.push((start, text.len()));
        }
        out
    }

    fn char_boundary(&mut self, text: &[u8]) -> usize {
        let mut at = self.rng.random_range(0..=text.len());
        while at > 0 && at < text.len() && (text[at] & 0xC0) == 0x80 {
            at -= 1;
        }
        at
    }

    fn flip_byte(&mut self, text: &mut [u8]) {
        if text.is_empty() {
            return;
        }
        let at = self.rng.random_range(0..text.len());
        text[at] = if self.rng.random_bool(0.7) {
            *b" =.[]{}\"'#,0123456789abcxyz-+_\n"
                .choose(&mut self.rng)
                .unwrap()
        } else {
            self.rng.random()
        };
    }

    /// (value start, value end) of `key = value` lines.
    fn values(text: &[u8]) -> Vec<(usize, usize)> {
        Self::lines(text)
            .into_iter()
            .filter_map(|(s, e)| {
                let line = &text[s..e];
                if line.starts_with(b"#") {
                    return None;
                }
                let eq = line.iter().position(|b| *b == b'=')?;
                Some((s + eq + 1, e))
            })
            .collect()
    }

    fn swap_values(&mut self, text: &mut Vec<u8>) {
        let values = Self::values(text);
        if values.len() < 2 {
            return;
        }
        let a = *values.choose(&mut self.rng).unwrap();
        let b = *values.choose(&mut self.rng).unwrap();
        let (first, second) = if a.0 <= b.0 { (a, b) } else { (b, a) };
        if first.1 > second.0 {
            return;
        }
        let va = text[first.0..first.1].to_vec();
        let vb = text[second.0..second.1].to_vec();
        text.splice(second.0..second.1, va);
        text.splice(first.0..first.1, vb);
    }

    fn replace_value(&mut self, text: &mut Vec<u8>, with: &str) {
        let values = Self::values(text);
        if let Some(&(s, e)) = values.choose(&mut self.rng) {
            text.splice(s..e, format!(" {with}").into_bytes());
        }
    }

    fn replace_number(&mut self, text: &mut Vec<u8>, with: &str) {
        let digits: Vec<usize> = (0..text.len())
            .filter(|&i| text[i].is_ascii_digit() && (i == 0 || !text[i - 1].is_ascii_digit()))
            .collect();
        let Some(&start) = digits.choose(&mut self.rng) else {
            return;
        };
        let mut end = start;
        while end < text.len() && (text[end].is_ascii_digit() || text[end] == b'.') {
            end += 1;
        }
        text.splice(start..end, with.bytes());
    }

    fn nest(&mut self, text: &mut Vec<u8>) {
        let depth = self.rng.random_range(100..20_000);
        let deep = match self.rng.random_range(0..3) {
            0 => format!("\nx = {}1{}\n", "[".repeat(depth), "]".repeat(depth)),
            1 => format!("\nx = {}1{}\n", "{a=".repeat(depth), "}".repeat(depth)),
            _ => format!("\n[{}]\n", vec!["t"; depth].join(".")),
        };
        let at = if self.rng.random_bool(0.5) {
            text.len()
        } else {
            0
        };
        text.splice(at..at, deep.into_bytes());
    }

    fn duplicate_line(&mut self, text: &mut Vec<u8>) {
        let lines = Self::lines(text);
        if let Some(&(s, e)) = lines.choose(&mut self.rng) {
            let mut line = text[s..e].to_vec();
            line.push(b'\n');
            text.splice(s..s, line);
        }
    }

    fn delete_line(&mut self, text: &mut Vec<u8>) {
        let lines = Self::lines(text);
        if let Some(&(s, e)) = lines.choose(&mut self.rng) {
            text.drain(s..(e + 1).min(text.len()));
        }
    }

    fn duplicate_table(&mut self, text: &mut Vec<u8>) {
        let header = *[
            "[scenario]\nname = \"dup\"\n",
            "[org]\npreset = \"none\"\n",
            "[[load]]\narrival = { process = \"poisson\", rate = \"1/s\" }\ntasks = [{ text = \"x\" }]\n",
            "[[fault]]\nat = \"1m\"\nkind = \"crash\"\ntarget = \"random:3\"\n",
            "[[fault]]\nat = \"0s\"\nkind = \"queue-outage\"\ntarget = \"D3\"\n",
            "[[fault]]\nat = \"0s\"\nkind = \"partition\"\nbetween = [\"orchestrator\", \"CEO\"]\n",
            "[[org.agent]]\nid = \"L12\"\nafter = [\"L12\", \"L13\"]\n",
            "[slo]\nrecovery_time = \"< 1s\"\n",
        ]
        .choose(&mut self.rng)
        .unwrap();
        text.extend_from_slice(b"\n");
        text.extend_from_slice(header.as_bytes());
    }

    fn odd_set(&mut self) -> String {
        let n = self.rng.random_range(1..6);
        let path: Vec<&str> = (0..n)
            .map(|_| *SEGMENTS.choose(&mut self.rng).unwrap())
            .collect();
        let value = if self.rng.random_bool(0.5) {
            STRINGS.choose(&mut self.rng).unwrap().trim_matches('"')
        } else {
            NUMBERS.choose(&mut self.rng).unwrap()
        };
        let sep = *["=", "==", "", " = "].choose(&mut self.rng).unwrap();
        format!("{}{sep}{value}", path.join("."))
    }

    fn with_trace(&mut self, text: &mut Vec<u8>, files: &mut Vec<(String, Vec<u8>)>) {
        let mut trace = String::new();
        if self.rng.random_bool(0.3) {
            trace.push_str("time\n");
        }
        let mut t: f64 = self.rng.random_range(-0.2..5.0);
        for _ in 0..self.rng.random_range(0..200) {
            let _ = writeln!(trace, "{t:.3}");
            t += self.rng.random_range(0.0..2.0);
        }
        let mut bytes = trace.into_bytes();
        if self.rng.random_bool(0.3) {
            self.flip_byte(&mut bytes);
        }
        if self.rng.random_bool(0.1) {
            bytes.extend_from_slice(b"0.5\n"); // out of order
        }
        files.push(("trace.csv".into(), bytes));
        let arrival = b"arrival = { process = \"trace\", file = \"trace.csv\" }";
        let lines = Self::lines(text);
        if let Some(&(s, e)) = lines
            .iter()
            .find(|(s, e)| text[*s..*e].starts_with(b"arrival"))
        {
            text.splice(s..e, arrival.iter().copied());
        }
    }

    fn with_org_file(&mut self, text: &mut Vec<u8>, files: &mut Vec<(String, Vec<u8>)>) {
        let mut org = self.org.clone();
        for _ in 0..self.rng.random_range(1..4) {
            match self.rng.random_range(0..5) {
                0 => self.flip_byte(&mut org),
                1 => self.swap_values(&mut org),
                2 => self.delete_line(&mut org),
                3 => self.duplicate_line(&mut org),
                _ => {
                    let s = *STRINGS.choose(&mut self.rng).unwrap();
                    self.replace_value(&mut org, s);
                }
            }
        }
        files.push(("org.toml".into(), org));
        let from = b"preset = \"esa-105\"";
        if let Some(at) = text.windows(from.len()).position(|w| w == from) {
            text.splice(
                at..at + from.len(),
                b"preset = \"org.toml\"".iter().copied(),
            );
        }
    }
}

/// What one input did.
struct Outcome {
    code: Option<i32>,
    stderr: String,
}

fn run_input(dir: &Path, input: &Input) -> Outcome {
    for (name, bytes) in &input.files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = catch_unwind(AssertUnwindSafe(|| {
        main_with(input.args.clone(), &mut out, &mut err, Bar::Hidden)
    }))
    .ok();
    for (name, _) in &input.files {
        let _ = std::fs::remove_file(dir.join(name));
    }
    Outcome {
        code,
        stderr: String::from_utf8_lossy(&err).into_owned(),
    }
}

/// Keeps a failing input for replay and describes it.
fn keep(dir: &Path, index: usize, input: &Input, why: &str) -> String {
    let keep = dir.join(format!("failing-{index}"));
    std::fs::create_dir_all(&keep).unwrap();
    for (name, bytes) in &input.files {
        std::fs::write(keep.join(name), bytes).unwrap();
    }
    format!(
        "{why}: {} (args {:?}; files kept in {})",
        input.what,
        input.args,
        keep.display()
    )
}

#[test]
fn mutated_scenarios_never_panic_hang_or_break_invariants() {
    let work = tempfile::tempdir().unwrap();
    let dir: PathBuf = work.path().to_path_buf();
    let (tx, rx) = mpsc::channel::<Result<(usize, Option<i32>), String>>();
    let worker_dir = dir.clone();
    let started = Instant::now();
    std::thread::spawn(move || {
        let mut mutator = Mutator::new(0xE5A_F022);
        for i in 0..INPUTS {
            let input = mutator.input(i, &worker_dir);
            let outcome = run_input(&worker_dir, &input);
            let verdict = match outcome.code {
                None => Err(keep(&worker_dir, i, &input, "panicked")),
                Some(3) => Err(keep(&worker_dir, i, &input, "exit 3 (invariant)")),
                Some(2) if outcome.stderr.trim().is_empty() => {
                    Err(keep(&worker_dir, i, &input, "exit 2 without a message"))
                }
                Some(c @ (0..=2)) => Ok((i, Some(c))),
                Some(c) => Err(keep(&worker_dir, i, &input, &format!("exit {c}"))),
            };
            if tx.send(verdict).is_err() {
                return;
            }
        }
    });
    let mut by_code = [0usize; 3];
    let mut failures = Vec::new();
    for _ in 0..INPUTS {
        match rx.recv_timeout(HANG) {
            Ok(Ok((_, Some(code)))) => by_code[code as usize] += 1,
            Ok(Ok((_, None))) => unreachable!(),
            Ok(Err(failure)) => failures.push(failure),
            Err(_) => {
                let _ = work.keep();
                panic!(
                    "an input took more than {HANG:?} (a hang); inputs are in {}",
                    dir.display()
                );
            }
        }
    }
    let line = format!(
        "fuzz: {INPUTS} inputs in {:.1} s: {} exit 0, {} exit 1, {} exit 2, {} failures",
        started.elapsed().as_secs_f64(),
        by_code[0],
        by_code[1],
        by_code[2],
        failures.len()
    );
    println!("{line}");
    // .ci/run prints this file: test output is captured when tests pass.
    let _ = std::fs::write(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-summary.txt"),
        format!("{line}\n"),
    );
    if !failures.is_empty() {
        let _ = work.keep();
        panic!("{} fuzz failures:\n{}", failures.len(), failures.join("\n"));
    }
    assert!(
        by_code[0] + by_code[1] > INPUTS / 20,
        "almost no input ran; the mutator is too destructive: {by_code:?}"
    );
}
