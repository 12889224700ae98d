//! `cargo xtask bench --only stub`: every contender against the loopback stub server
//! (`bench/stub/`, recorded Keycloak 26.7.3 answers replayed from precomputed bytes), so the
//! figures are the clients' own cost. Per sample: calls/s, the contender's CPU time (user+sys,
//! getrusage of its process, the operation only), allocations (Rust contenders: a counting
//! global allocator) and the stub's own CPU time over the same process.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::{CONTENDERS, Env, cache, contender_cmd, median, order};

/// Users in the stub's synthetic realm.
pub const REALM_USERS: usize = 10_000;

/// The stub server process; killed on drop.
pub struct Stub {
    child: Child,
    pub addr: String,
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Stub {
    pub fn start() -> Result<Stub> {
        let bin = cache().join("target/release/cloakroom-stub");
        let mut child = Command::new(&bin)
            .arg(crate::repo_root().join("bench/stub/recorded"))
            .arg(REALM_USERS.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("stub stdout")?;
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            bail!("the stub server did not start: {line:?}");
        };
        Ok(Stub {
            addr: addr.to_owned(),
            child,
        })
    }

    /// `(requests served, CPU seconds)` of the stub so far.
    pub fn stats(&self) -> Result<(u64, f64)> {
        let mut s = TcpStream::connect(&self.addr)?;
        s.write_all(b"GET /__stub/stats HTTP/1.1\r\nHost: stub\r\nConnection: close\r\n\r\n")?;
        let mut text = String::new();
        s.read_to_string(&mut text)?;
        let body = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or_default();
        let v: Value = serde_json::from_str(body).context("stub stats")?;
        // The stats request itself is not a contender's.
        Ok((
            v["requests"].as_u64().unwrap_or(0).saturating_sub(1),
            v["cpu_seconds"].as_f64().unwrap_or(f64::NAN),
        ))
    }
}

/// One scenario: the contender op, its N, concurrency, and HTTP calls per op unit.
struct Scenario {
    name: String,
    op: &'static str,
    n: usize,
    c: usize,
    /// HTTP calls the operation makes (for per-call figures).
    calls: usize,
}

fn scenarios(calls: usize) -> Vec<Scenario> {
    // (name, op, N, HTTP calls), each at concurrency 1 and 64.
    let each = [
        ("GET one user", "get", calls, calls),
        ("GET → PUT one user", "getput", calls / 2, calls / 2 * 2),
        ("create a user", "create", calls, calls),
    ];
    let mut v = Vec::new();
    for (i, (name, op, n, k)) in each.into_iter().enumerate() {
        for c in [1, 64] {
            v.push(Scenario {
                name: format!("{name}, c={c}"),
                op,
                n,
                c,
                calls: k,
            });
        }
        if i == 0 {
            // Paging is sequential in every client, so c=64 is 64 listings of the whole realm
            // at once, each paging on its own.
            for c in [1, 64] {
                v.push(Scenario {
                    name: format!("list all {REALM_USERS} users (pages of 100), c={c}"),
                    op: "list",
                    n: REALM_USERS,
                    c,
                    calls: c * (REALM_USERS / 100 + 1),
                });
            }
        }
    }
    v
}

#[derive(Default)]
struct Samples {
    calls_per_s: Vec<f64>,
    cpu_us_per_call: Vec<f64>,
    allocs_per_call: Vec<f64>,
    stub_us_per_call: Vec<f64>,
    stub_requests: Vec<f64>,
}

/// Runs every contender on every scenario `reps` times (order rotated each repetition) and
/// returns one row per scenario and contender.
pub fn rows(reps: usize, calls: usize) -> Result<Vec<Value>> {
    let stub = Stub::start()?;
    let url = format!("http://{}", stub.addr);
    let env = Env {
        url: &url,
        user: "admin",
        password: "admin",
    };
    let scen = scenarios(calls);
    let mut all: Vec<Vec<Samples>> = scen
        .iter()
        .map(|_| CONTENDERS.iter().map(|_| Samples::default()).collect())
        .collect();
    for rep in 1..=reps {
        for (si, s) in scen.iter().enumerate() {
            for contender in order(rep) {
                let ci = CONTENDERS.iter().position(|c| *c == contender).unwrap_or(0);
                let (req0, cpu0) = stub.stats()?;
                let v = run(&env, contender, s)?;
                // Every contender reports how many users it got, made or updated: a short count
                // (a truncated listing, say) fails the run rather than making a fast row.
                let want = if s.op == "list" {
                    s.c * REALM_USERS
                } else {
                    s.n
                };
                if v["count"].as_u64() != Some(want as u64) {
                    bail!(
                        "{contender} {}: count {} where {want} was due",
                        s.name,
                        v["count"]
                    );
                }
                let (req1, cpu1) = stub.stats()?;
                let secs = v["seconds"].as_f64().unwrap_or(f64::NAN);
                let cpu = v["cpu_seconds"].as_f64().unwrap_or(f64::NAN);
                let k = s.calls as f64;
                let out = &mut all[si][ci];
                out.calls_per_s.push(k / secs);
                out.cpu_us_per_call.push(cpu * 1e6 / k);
                if let Some(a) = v["allocations"].as_f64() {
                    out.allocs_per_call.push(a / k);
                }
                out.stub_us_per_call.push((cpu1 - cpu0) * 1e6 / k);
                out.stub_requests.push((req1 - req0) as f64);
                println!(
                    "bench: stub rep {rep} {:<40} {contender:<18} {:>8.0} calls/s {:>7.1} µs CPU/call",
                    s.name,
                    k / secs,
                    cpu * 1e6 / k
                );
            }
        }
    }
    let mut rows = Vec::new();
    for (si, s) in scen.iter().enumerate() {
        for (ci, contender) in CONTENDERS.iter().enumerate() {
            let x = &all[si][ci];
            rows.push(json!({
                "section": "stub",
                "scenario": s.name,
                "op": s.op,
                "concurrency": s.c,
                "calls_per_op": s.calls,
                "contender": contender,
                "calls_per_second": median(&x.calls_per_s),
                "cpu_us_per_call": median(&x.cpu_us_per_call),
                "cpu_seconds_per_10000_calls": median(&x.cpu_us_per_call) / 100.0,
                "allocations_per_call": if x.allocs_per_call.is_empty() { Value::Null } else { json!(median(&x.allocs_per_call)) },
                "stub_cpu_us_per_call": median(&x.stub_us_per_call),
                "samples_calls_per_second": x.calls_per_s,
                "samples_cpu_us_per_call": x.cpu_us_per_call,
                "samples_stub_requests": x.stub_requests,
            }));
        }
    }
    Ok(rows)
}

fn run(env: &Env, contender: &str, s: &Scenario) -> Result<Value> {
    let mut cmd: Command = contender_cmd(env, contender, s.op, "bench-stub", s.n, s.c);
    let out = cmd
        .output()
        .with_context(|| format!("running {contender} {}", s.op))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "{contender} {} against the stub failed ({}): {}{}",
            s.op,
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let v: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .with_context(|| format!("{contender} {} printed {stdout:?}", s.op))?;
    if v["cpu_seconds"].as_f64().is_none() {
        bail!("{contender} {} printed no cpu_seconds: {stdout:?}", s.op);
    }
    Ok(v)
}

fn spread(xs: &[f64]) -> f64 {
    let m = median(xs);
    let (lo, hi) = xs
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if m > 0.0 { (hi - lo) / m * 100.0 } else { 0.0 }
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

/// The stub section of latest.md: one table, then the targets.
pub fn markdown(rows: &[Value], reps: usize, calls: usize, load: &str) -> Result<String> {
    let mut md = String::new();
    writeln!(
        md,
        "Every contender against `bench/stub` (a one-thread loopback server replaying recorded Keycloak \
         26.7.3 answers from precomputed bytes; realm of {REALM_USERS} synthetic users made from the recorded \
         one). {calls} calls per sample (GET → PUT: {} pairs), {reps} samples each, contender order rotated \
         every repetition. **CPU** is the contender process's user+sys time (getrusage) during the operation \
         only (after login and the id lookup), per HTTP call; **× floor** divides it by the bare reqwest loop's. \
         Stub CPU is the server's own user+sys time per call over the whole sample process. \
         Load average during the run: {load}; when other jobs share the machine, absolute rates drop and \
         spreads widen, the CPU-time columns less than calls/s.\n",
        calls / 2
    )?;
    writeln!(
        md,
        "| scenario | contender | calls/s | CPU µs/call | CPU s / 10,000 calls | × floor | spread (CPU) | allocations/call | stub CPU µs/call |"
    )?;
    writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|")?;
    let mut targets = String::new();
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        let s = r["scenario"].as_str().unwrap_or("");
        if !names.contains(&s) {
            names.push(s);
        }
    }
    for s in names {
        let of = |c: &str| {
            rows.iter()
                .find(|r| r["scenario"] == s && r["contender"] == c)
        };
        let floor = of("baseline").map(|r| f(r, "cpu_us_per_call"));
        for r in rows.iter().filter(|r| r["scenario"] == s) {
            let cpu = f(r, "cpu_us_per_call");
            let samples: Vec<f64> = r["samples_cpu_us_per_call"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default();
            writeln!(
                md,
                "| {s} | {} | {:.0} | {cpu:.1} | {:.3} | {} | {:.0}% | {} | {:.1} |",
                r["contender"].as_str().unwrap_or(""),
                f(r, "calls_per_second"),
                cpu / 100.0,
                floor.map_or("–".into(), |b| format!("{:.2}", cpu / b)),
                spread(&samples),
                r["allocations_per_call"]
                    .as_f64()
                    .map_or("–".into(), |a| format!("{a:.0}")),
                f(r, "stub_cpu_us_per_call"),
            )?;
        }
        if let (Some(b), Some(cr), Some(py)) = (
            floor,
            of("cloakroom").map(|r| f(r, "cpu_us_per_call")),
            of("python-keycloak").map(|r| f(r, "cpu_us_per_call")),
        ) {
            let blocking = of("cloakroom-blocking").map(|r| f(r, "cpu_us_per_call") / b);
            writeln!(
                targets,
                "- {s}: cloakroom CPU/call {:.2}× the floor (≤ 1.10×: **{}**{}); python-keycloak {:.1}× cloakroom (≥ 5×: **{}**)",
                cr / b,
                if cr <= 1.10 * b { "met" } else { "missed" },
                blocking.map_or(String::new(), |x| format!("; blocking {x:.2}×")),
                py / cr,
                if py >= 5.0 * cr { "met" } else { "missed" },
            )?;
        }
    }
    writeln!(md, "\nTargets (reported, not asserted):\n\n{targets}")?;
    Ok(md)
}
