//! `cargo xtask bench [--full] [--n N] [--m M] [--p P] [--reps R]`: the API benchmarks of issue 7,
//! every contender against the same Keycloak in the same run.
//!
//! Starts (or reuses) the harness Keycloak, installs the pinned contenders under `.cache/bench/`
//! (the Rust ones from `bench/rust`, a separate Cargo project; python-keycloak in a venv; the
//! TypeScript admin client with npm), seeds a realm and runs:
//!
//! - `create`: N users (`bench-create` is recreated before every sample), at concurrency 1 and 8;
//! - `list`: all of the M users of `bench-list`, each contender's own way of getting all.
//!
//! Every sample is one process; its time is the operation only, after the contender has logged
//! in (the process wall time, start-up and login included, is kept next to it). Samples are
//! interleaved (rep 1 of every contender, then rep 2, …, the order rotated each rep) so drift in
//! the server hits all alike.
//! Writes `bench/results/latest.json` (raw samples, median, spread, machine, versions) and
//! `bench/results/latest.md` (ratios against the baseline). Targets are reported, not asserted.
//! Defaults N=200, M=2000, P=200 (GET → PUT), 3 reps; `--full` (or `BENCH_FULL=1`) is the issue's
//! N=1000, M=10000, P=500; `BENCH_N`, `BENCH_M`, `BENCH_P`, `BENCH_REPS` also work. Also: the
//! token-expiry stampede and each `list` process's peak RSS.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

#[path = "bench_bulk.rs"]
mod bulk;
#[path = "bench_only.rs"]
mod only;
#[path = "bench_stub.rs"]
mod stub;

const PYTHON_KEYCLOAK: &str = "7.1.1";
const TS_ADMIN_CLIENT: &str = "26.7.4";
const CONTENDERS: [&str; 6] = [
    "baseline",
    "cloakroom",
    "cloakroom-blocking",
    "keycloak-crate",
    "python-keycloak",
    "ts-admin-client",
];

struct Opts {
    n: usize,
    m: usize,
    /// Users read and written back in the GET → PUT scenario (at most M).
    p: usize,
    reps: usize,
    /// Realm sizes of the memory-at-scale rows (peak RSS listing every user).
    mem: Vec<usize>,
}

fn env_usize(name: &str) -> Result<Option<usize>> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(Some(
            v.trim()
                .parse()
                .with_context(|| format!("{name}={v} is not a number"))?,
        )),
        _ => Ok(None),
    }
}

fn parse_sizes(v: &str) -> Result<Vec<usize>> {
    v.split(',')
        .map(|x| {
            x.trim()
                .parse::<usize>()
                .with_context(|| format!("memory size {x:?} is not a number"))
        })
        .filter(|r| !matches!(r, Ok(0)))
        .collect()
}

fn parse(args: &[String]) -> Result<Opts> {
    let full =
        std::env::var("BENCH_FULL").is_ok_and(|v| v == "1") || args.iter().any(|a| a == "--full");
    let mut o = Opts {
        n: env_usize("BENCH_N")?.unwrap_or(if full { 1000 } else { 200 }),
        m: env_usize("BENCH_M")?.unwrap_or(if full { 10_000 } else { 2000 }),
        p: env_usize("BENCH_P")?.unwrap_or(if full { 500 } else { 200 }),
        reps: env_usize("BENCH_REPS")?.unwrap_or(3),
        mem: if full {
            vec![10_000, 100_000]
        } else {
            vec![10_000]
        },
    };
    if let Ok(v) = std::env::var("BENCH_MEM") {
        o.mem = parse_sizes(&v)?;
    }
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<usize> {
            let v = it.next().with_context(|| format!("{name} needs a value"))?;
            v.parse()
                .with_context(|| format!("{name} {v} is not a number"))
        };
        match a.as_str() {
            "--full" => {}
            "--n" => o.n = num("--n")?,
            "--m" => o.m = num("--m")?,
            "--p" => o.p = num("--p")?,
            "--reps" => o.reps = num("--reps")?.max(1),
            "--mem" => {
                let v = it.next().context("--mem needs sizes, e.g. 10000,100000")?;
                o.mem = parse_sizes(v)?;
            }
            "-h" | "--help" => {
                println!(
                    "usage: cargo xtask bench [--full] [--n N] [--m M] [--p P] [--reps R] [--mem SIZES]\n\
                     --mem 10000,100000: realm sizes of the memory rows (0 = none); --chart-only redraws the chart"
                );
                std::process::exit(0);
            }
            other => bail!("unknown bench option {other} (try --help)"),
        }
    }
    Ok(o)
}

fn cache() -> PathBuf {
    crate::repo_root().join(".cache").join("bench")
}

fn run_ok(cmd: &mut Command, what: &str) -> Result<()> {
    let status = cmd.status().with_context(|| format!("running {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn output(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Installing the contenders

fn rust_bin() -> PathBuf {
    cache()
        .join("target")
        .join("release")
        .join("cloakroom-bench")
}

fn install_rust() -> Result<()> {
    let root = crate::repo_root();
    if std::env::var("BENCH_PREBUILT").is_ok_and(|v| v == "1") && rust_bin().exists() {
        // Built already (`cargo build --release --manifest-path bench/rust/Cargo.toml` with
        // CARGO_TARGET_DIR=.cache/bench/target): cargo run from `cargo xtask` can see a
        // different environment and rebuild every dependency.
        return Ok(());
    }
    println!(
        "bench: building bench/rust (baseline, cloakroom async and blocking, the keycloak crate)"
    );
    run_ok(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--release", "--locked", "--manifest-path"])
            .arg(root.join("bench/rust/Cargo.toml"))
            .env("CARGO_TARGET_DIR", cache().join("target")),
        "cargo build (bench/rust)",
    )
}

fn venv_python() -> PathBuf {
    cache().join("venv").join("bin").join("python")
}

fn install_python() -> Result<()> {
    let py = venv_python();
    let check = format!(
        "import importlib.metadata as m; assert m.version('python-keycloak') == '{PYTHON_KEYCLOAK}'"
    );
    if Command::new(&py)
        .args(["-c", &check])
        .status()
        .is_ok_and(|s| s.success())
    {
        return Ok(());
    }
    println!("bench: installing python-keycloak {PYTHON_KEYCLOAK} into .cache/bench/venv");
    run_ok(
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(cache().join("venv")),
        "python3 -m venv",
    )?;
    run_ok(
        Command::new(cache().join("venv/bin/pip"))
            .args(["install", "-q", "-r"])
            .arg(crate::repo_root().join("bench/python/requirements.txt")),
        "pip install -r bench/python/requirements.txt",
    )
}

fn node_dir() -> PathBuf {
    cache().join("node")
}

fn install_node() -> Result<()> {
    let dir = node_dir();
    fs::create_dir_all(&dir)?;
    let src = crate::repo_root().join("bench/node");
    // ESM resolves packages next to the script, so the script lives beside node_modules.
    for f in ["package.json", "package-lock.json", "ts_admin_client.mjs"] {
        fs::copy(src.join(f), dir.join(f)).with_context(|| format!("copying bench/node/{f}"))?;
    }
    let installed =
        fs::read_to_string(dir.join("node_modules/@keycloak/keycloak-admin-client/package.json"))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| v["version"].as_str().map(str::to_owned));
    if installed.as_deref() == Some(TS_ADMIN_CLIENT) {
        return Ok(());
    }
    println!("bench: installing @keycloak/keycloak-admin-client {TS_ADMIN_CLIENT} with npm ci");
    run_ok(
        Command::new("npm")
            .args(["ci", "--silent", "--no-audit", "--no-fund"])
            .current_dir(&dir),
        "npm ci (bench/node)",
    )
}

// ---------------------------------------------------------------------------------------------
// Running one sample

struct Env<'a> {
    url: &'a str,
    user: &'a str,
    password: &'a str,
}

/// Extra environment for the contender processes of the current scenario.
static CHILD_ENV: std::sync::Mutex<Vec<(&str, &str)>> = std::sync::Mutex::new(Vec::new());

fn contender_cmd(env: &Env, contender: &str, op: &str, realm: &str, n: usize, c: usize) -> Command {
    let root = crate::repo_root();
    let mut cmd = match contender {
        "baseline" | "cloakroom" | "cloakroom-blocking" | "keycloak-crate" => {
            let mut cmd = Command::new(rust_bin());
            cmd.arg(contender);
            cmd
        }
        "python-keycloak" => {
            let mut cmd = Command::new(venv_python());
            cmd.arg(root.join("bench/python/python_keycloak.py"));
            cmd
        }
        "ts-admin-client" => {
            let mut cmd = Command::new("node");
            cmd.arg("ts_admin_client.mjs").current_dir(node_dir());
            cmd
        }
        other => unreachable!("no contender {other}"),
    };
    cmd.args([op, env.url, realm, &n.to_string(), &c.to_string()])
        .env("BENCH_ADMIN_USER", env.user)
        .env("BENCH_ADMIN_PASSWORD", env.password)
        .envs(
            CHILD_ENV
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .copied(),
        );
    cmd
}

/// Runs one sample; returns (operation seconds, count, process wall seconds).
fn sample(
    env: &Env,
    contender: &str,
    op: &str,
    realm: &str,
    n: usize,
    c: usize,
) -> Result<(f64, u64, f64)> {
    sample_rss(env, contender, op, realm, n, c).map(|(s, k, w, _)| (s, k, w))
}

/// [`sample`], plus the contender process's peak RSS in KiB when it reports one.
fn sample_rss(
    env: &Env,
    contender: &str,
    op: &str,
    realm: &str,
    n: usize,
    c: usize,
) -> Result<(f64, u64, f64, Option<u64>)> {
    let mut cmd = contender_cmd(env, contender, op, realm, n, c);
    let started = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("running {contender} {op}"))?;
    let wall = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "{contender} {op} {realm} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let v: Value = serde_json::from_str(line)
        .with_context(|| format!("{contender} {op} printed {stdout:?}"))?;
    let secs = v["seconds"].as_f64().context("no seconds")?;
    let count = v["count"].as_u64().context("no count")?;
    Ok((secs, count, wall, v["peak_rss_kib"].as_u64()))
}

// ---------------------------------------------------------------------------------------------
// Statistics and reports

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k == 0 {
        f64::NAN
    } else if k % 2 == 1 {
        v[k / 2]
    } else {
        (v[k / 2 - 1] + v[k / 2]) / 2.0
    }
}

struct Cell {
    scenario: String,
    contender: String,
    secs: Vec<f64>,
    walls: Vec<f64>,
    counts: Vec<u64>,
    expected: u64,
    note: String,
}

impl Cell {
    fn stats(&self) -> Value {
        let med = median(&self.secs);
        let min = self.secs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.secs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        json!({
            "median_seconds": med,
            "min_seconds": min,
            "max_seconds": max,
            "spread_percent": if med > 0.0 { (max - min) / med * 100.0 } else { 0.0 },
            "users_per_second": self.expected as f64 / med,
            "median_wall_seconds": median(&self.walls),
        })
    }
}

fn machine() -> Value {
    let uname = output(Command::new("uname").arg("-a"));
    let nproc = output(&mut Command::new("nproc"));
    let free = output(Command::new("free").arg("-m"));
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    json!({ "uname": uname, "nproc": nproc, "cpu": cpu, "free_m": free, "loadavg_at_end": load.trim() })
}

fn lock_version(lock: &Path, name: &str) -> String {
    let text = fs::read_to_string(lock).unwrap_or_default();
    let needle = format!("name = \"{name}\"\nversion = \"");
    text.find(&needle)
        .map(|i| {
            let rest = &text[i + needle.len()..];
            rest[..rest.find('"').unwrap_or(0)].to_string()
        })
        .unwrap_or_default()
}

fn versions(state: &crate::keycloak::State) -> Value {
    let root = crate::repo_root();
    let rev = output(
        Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(&root),
    );
    json!({
        "keycloak": state.version,
        "keycloak_java": state.java,
        "baseline": format!("reqwest {} (bench/rust/Cargo.lock), rustls", lock_version(&root.join("bench/rust/Cargo.lock"), "reqwest")),
        "cloakroom": format!("{} (path dependency, git {rev})", lock_version(&root.join("bench/rust/Cargo.lock"), "cloakroom")),
        "cloakroom-blocking": format!("{} with feature blocking (path dependency, git {rev})", lock_version(&root.join("bench/rust/Cargo.lock"), "cloakroom")),
        "keycloak-crate": format!("keycloak {} (crates.io, pinned in bench/rust/Cargo.lock), default features: its own reqwest 0.13 client", lock_version(&root.join("bench/rust/Cargo.lock"), "keycloak")),
        "python-keycloak": format!("{PYTHON_KEYCLOAK} on {}", output(Command::new(venv_python()).arg("--version"))),
        "ts-admin-client": format!("@keycloak/keycloak-admin-client {TS_ADMIN_CLIENT} on node {}", output(Command::new("node").arg("--version"))),
        "rustc": output(Command::new("rustc").arg("--version")),
    })
}

/// The stampede realm's access-token lifespan, seconds.
const STAMPEDE_LIFESPAN: usize = 10;
/// Calls fired at once after the token expired.
const STAMPEDE_CALLS: usize = 100;

/// 100 concurrent calls just after the access token expired, per contender; token requests are
/// counted from the server's own login events (every token-endpoint call writes one).
fn stampede(env: &Env, reps: usize) -> Result<Vec<Value>> {
    let realm = "bench-stampede";
    sample(
        env,
        "baseline",
        "stampede-setup",
        realm,
        STAMPEDE_LIFESPAN,
        1,
    )?;
    let mut rows = Vec::new();
    for contender in CONTENDERS {
        let (mut requests, mut oks, mut secs) = (vec![], vec![], vec![]);
        for rep in 1..=reps {
            sample(env, "baseline", "events-clear", realm, 0, 1)?;
            let (s, ok, _) = sample(
                env,
                contender,
                "stampede",
                realm,
                STAMPEDE_LIFESPAN,
                STAMPEDE_CALLS,
            )?;
            let (_, events, _) = sample(env, "baseline", "events-count", realm, 0, 1)?;
            // The first event is the login before the sleep.
            let after = events.saturating_sub(1);
            println!(
                "bench: rep {rep} stampede {contender:<16} {after} token requests, {ok}/{STAMPEDE_CALLS} calls ok, {s:.3} s"
            );
            requests.push(after as f64);
            oks.push(ok);
            secs.push(s);
        }
        rows.push(json!({
            "section": "stampede",
            "scenario": format!("{STAMPEDE_CALLS} concurrent calls just after the token expired"),
            "contender": contender,
            "value": median(&requests),
            "unit": "token requests",
            "samples": requests,
            "calls_succeeded": oks,
            "samples_seconds": secs,
            "note": format!("calls that succeeded: {oks:?} of {STAMPEDE_CALLS}"),
        }));
    }
    Ok(rows)
}

/// A number for the tables: whole numbers as such, others with one decimal.
fn num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn write_reports(
    opts: &Opts,
    cells: &[Cell],
    extra: &[Value],
    machine: Value,
    versions: Value,
    notes: &[String],
    total: f64,
) -> Result<()> {
    let dir = crate::repo_root().join("bench/results");
    fs::create_dir_all(&dir)?;
    let json_cells: Vec<Value> = cells
        .iter()
        .map(|c| {
            json!({
                "scenario": c.scenario,
                "contender": c.contender,
                "expected_count": c.expected,
                "samples_seconds": c.secs,
                "samples_wall_seconds": c.walls,
                "samples_count": c.counts,
                "stats": c.stats(),
                "note": c.note,
            })
        })
        .collect();
    let doc = json!({
        "command": "cargo xtask bench",
        "parameters": { "n_create": opts.n, "m_list": opts.m, "p_get_put": opts.p.min(opts.m), "reps": opts.reps, "concurrency": [1, 8] },
        "timing": "seconds of the operation inside each contender's process after its login; wall = whole process incl. start-up and login",
        "generated_at": output(Command::new("date").args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])),
        "total_run_seconds": total,
        "machine": machine,
        "versions": versions,
        "results": json_cells,
        "extra": extra,
        "notes": notes,
    });
    fs::write(
        dir.join("latest.json"),
        serde_json::to_string_pretty(&doc)? + "\n",
    )?;
    fs::write(dir.join("latest.svg"), crate::chart::chart_svg(&doc))?;

    let mut md = String::new();
    writeln!(md, "# Benchmarks: `cargo xtask bench`\n")?;
    writeln!(
        md,
        "Generated {} by `cargo xtask bench` (N={} users created, M={} users listed, {} samples each; \
         raw samples in [latest.json](latest.json)). Time is the operation inside each contender's \
         process after it logged in; **ratio** is median time / baseline median time (lower is \
         faster, 1.00 = the bare reqwest loop). Spread is (max−min)/median.\n",
        doc["generated_at"].as_str().unwrap_or(""),
        opts.n,
        opts.m,
        opts.reps
    )?;
    writeln!(md, "![The same results as a chart](latest.svg)\n")?;
    writeln!(
        md,
        "| scenario | contender | median s | min–max s | spread | users/s | ratio vs baseline | got |"
    )?;
    writeln!(md, "|---|---|---:|---:|---:|---:|---:|---|")?;
    let mut scenarios: Vec<&str> = Vec::new();
    for c in cells {
        if !scenarios.contains(&c.scenario.as_str()) {
            scenarios.push(&c.scenario);
        }
    }
    let mut targets = String::new();
    for s in &scenarios {
        let base = cells
            .iter()
            .find(|c| c.scenario == *s && c.contender == "baseline")
            .map(|c| median(&c.secs));
        for c in cells.iter().filter(|c| c.scenario == *s) {
            let st = c.stats();
            let ratio = base.map(|b| median(&c.secs) / b);
            let got = if c.counts.iter().all(|&k| k == c.expected) {
                format!("{} ✓", c.expected)
            } else {
                format!("{:?} of {}", c.counts, c.expected)
            };
            writeln!(
                md,
                "| {s} | {} | {:.3} | {:.3}–{:.3} | {:.0}% | {:.0} | {} | {got}{} |",
                c.contender,
                st["median_seconds"].as_f64().unwrap_or(f64::NAN),
                st["min_seconds"].as_f64().unwrap_or(f64::NAN),
                st["max_seconds"].as_f64().unwrap_or(f64::NAN),
                st["spread_percent"].as_f64().unwrap_or(f64::NAN),
                st["users_per_second"].as_f64().unwrap_or(f64::NAN),
                ratio.map_or("–".into(), |r| format!("{r:.2}")),
                if c.note.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", c.note)
                },
            )?;
        }
        // Targets: cloakroom within 5% of the baseline and ahead of every peer.
        let med = |name: &str| {
            cells
                .iter()
                .find(|c| c.scenario == *s && c.contender == name)
                .map(|c| median(&c.secs))
        };
        if let (Some(b), Some(cr)) = (base, med("cloakroom")) {
            let within = cr <= b * 1.05;
            let peers: Vec<(&str, f64)> = ["keycloak-crate", "python-keycloak", "ts-admin-client"]
                .iter()
                .filter_map(|p| med(p).map(|m| (*p, m)))
                .collect();
            let ahead = peers.iter().all(|(_, m)| cr < *m);
            writeln!(
                targets,
                "- {s}: cloakroom at {:.2}× the baseline — within 5%: **{}**; ahead of every peer ({}): **{}**",
                cr / b,
                if within { "met" } else { "missed" },
                peers
                    .iter()
                    .map(|(p, m)| format!("{p} {:.2}×", m / b))
                    .collect::<Vec<_>>()
                    .join(", "),
                if ahead { "met" } else { "missed" },
            )?;
        }
    }
    let mut sections: Vec<&str> = Vec::new();
    for r in extra {
        let sec = r["section"].as_str().unwrap_or("other");
        if !sections.contains(&sec) {
            sections.push(sec);
        }
    }
    for sec in sections {
        writeln!(md, "\n### {sec}\n")?;
        writeln!(
            md,
            "| scenario | contender | median | unit | samples | note |"
        )?;
        writeln!(md, "|---|---|---:|---|---|---|")?;
        for r in extra.iter().filter(|r| r["section"] == sec) {
            writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                r["scenario"].as_str().unwrap_or(""),
                r["contender"].as_str().unwrap_or(""),
                r["value"].as_f64().map_or("–".into(), num),
                r["unit"].as_str().unwrap_or(""),
                r["samples"]
                    .as_array()
                    .map(|a| a
                        .iter()
                        .filter_map(Value::as_f64)
                        .map(num)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default(),
                r["note"].as_str().unwrap_or(""),
            )?;
        }
    }
    for r in extra
        .iter()
        .filter(|r| r["section"] == "stampede" && r["contender"] == "cloakroom")
    {
        let v = r["value"].as_f64().unwrap_or(f64::NAN);
        let all_one = r["samples"]
            .as_array()
            .is_some_and(|a| a.iter().all(|x| x.as_f64() == Some(1.0)));
        writeln!(
            targets,
            "- token-expiry stampede: cloakroom made {v:.0} token request(s) (median; samples {}) — exactly one: **{}**",
            r["samples"],
            if all_one { "met" } else { "missed" }
        )?;
    }
    let rate = |c: &str| {
        extra
            .iter()
            .find(|r| r["section"] == "verify" && r["contender"] == c)
            .and_then(|r| r["value"].as_f64())
    };
    if let (Some(cr), Some(o)) = (rate("cloakroom"), rate("openssl")) {
        writeln!(
            targets,
            "- RS256 verification: cloakroom's whole JwtVerifier::verify {cr:.0}/s = {:.0}% of `openssl speed rsa2048` \
             ({o:.0}/s) — ≥ 90%: **{}**{}",
            100.0 * cr / o,
            if cr >= 0.9 * o { "met" } else { "missed" },
            rate("cloakroom (signature only)").map_or(String::new(), |s| format!(
                "; its signature check alone (SHA-256 of the token included, which openssl speed does not do) \
                 {s:.0}/s = {:.0}%: **{}**",
                100.0 * s / o,
                if s >= 0.9 * o { "met" } else { "missed" }
            ))
        )?;
    }
    writeln!(md, "\n## Targets (reported, not asserted)\n\n{targets}")?;
    writeln!(md, "## Notes\n")?;
    for n in notes {
        writeln!(md, "- {n}")?;
    }
    writeln!(md, "\n## Machine and versions\n")?;
    writeln!(
        md,
        "```\n{}\n```",
        serde_json::to_string_pretty(
            &json!({"machine": doc["machine"], "versions": doc["versions"]})
        )?
    )?;
    fs::write(dir.join("latest.md"), md)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------

pub fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--chart-only") {
        // Redraw latest.svg from latest.json (after a change to the chart, without a new run).
        let dir = crate::repo_root().join("bench/results");
        let doc: Value = serde_json::from_str(&fs::read_to_string(dir.join("latest.json"))?)?;
        fs::write(dir.join("latest.svg"), crate::chart::chart_svg(&doc))?;
        println!("bench: wrote bench/results/latest.svg from latest.json");
        return Ok(());
    }
    if args.iter().any(|a| a == "--only") {
        return only::run(args);
    }
    let opts = parse(args)?;
    let started = Instant::now();
    let server = crate::keycloak::ensure_started()?;
    let result = bench(&opts, &server.state, started);
    let stopped = server.stop_if_owned();
    result.and(stopped)
}

/// The contenders in the order of repetition `rep` (1-based): rotated by one each time, so no
/// contender always runs first (on a server that the previous contender just warmed up, or
/// just filled with work).
fn order(rep: usize) -> impl Iterator<Item = &'static str> {
    let n = CONTENDERS.len();
    (0..n).map(move |i| CONTENDERS[(i + rep - 1) % n])
}

/// How each contender's `list` holds the users, for the memory rows.
fn memory_note(contender: &str) -> &'static str {
    match contender {
        "cloakroom" => "users().list().stream(), counted as they come: no user kept",
        "cloakroom-blocking" => {
            "kc.wait(users().list().stream() counted): no user kept; plus its 1-worker runtime"
        }
        "keycloak-crate" => "users_get() first/max loop collecting into one Vec",
        "baseline" => "collects every page into one Vec",
        "python-keycloak" => "a_get_users({}) returns one list of all",
        "ts-admin-client" => "first/max loop collecting into one array",
        _ => "",
    }
}

fn bench(opts: &Opts, state: &crate::keycloak::State, started: Instant) -> Result<()> {
    let load_at_start = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    install_rust()?;
    install_python()?;
    install_node()?;
    let env = Env {
        url: &state.url,
        user: &state.admin_username,
        password: &state.admin_password,
    };

    println!("bench: seeding bench-list with {} users", opts.m);
    let (secs, _, _) = sample(&env, "baseline", "seed", "bench-list", opts.m, 8)?;
    println!("bench: seeded in {secs:.1} s");

    let mut cells: Vec<Cell> = Vec::new();
    let cell = |cells: &mut Vec<Cell>, scenario: &str, contender: &str, expected: u64| -> usize {
        if let Some(i) = cells
            .iter()
            .position(|c| c.scenario == scenario && c.contender == contender)
        {
            return i;
        }
        cells.push(Cell {
            scenario: scenario.into(),
            contender: contender.into(),
            secs: vec![],
            walls: vec![],
            counts: vec![],
            expected,
            note: String::new(),
        });
        cells.len() - 1
    };

    let mut rss_kib: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    for rep in 1..=opts.reps {
        for c in [1usize, 8] {
            let scenario = format!("create {} users, concurrency {c}", opts.n);
            for contender in order(rep) {
                sample(&env, "baseline", "reset", "bench-create", 0, 1)?;
                let (s, k, w) = sample(&env, contender, "create", "bench-create", opts.n, c)?;
                println!("bench: rep {rep} {scenario:<34} {contender:<16} {s:8.3} s ({k} users)");
                let i = cell(&mut cells, &scenario, contender, opts.n as u64);
                cells[i].secs.push(s);
                cells[i].walls.push(w);
                cells[i].counts.push(k);
            }
        }
        let scenario = format!("list all {} users", opts.m);
        for contender in order(rep) {
            let (s, k, w, rss) = sample_rss(&env, contender, "list", "bench-list", opts.m, 1)?;
            if let Some(r) = rss {
                rss_kib.entry(contender).or_default().push(r as f64);
            }
            let i = cell(&mut cells, &scenario, contender, opts.m as u64);
            cells[i].secs.push(s);
            cells[i].walls.push(w);
            cells[i].counts.push(k);
        }
        let p = opts.p.min(opts.m);
        let scenario = format!("GET → PUT {p} users, concurrency 1");
        for contender in order(rep) {
            let (s, k, w) = sample(&env, contender, "getput", "bench-list", p, 1)?;
            println!("bench: rep {rep} {scenario:<34} {contender:<16} {s:8.3} s ({k} users)");
            let i = cell(&mut cells, &scenario, contender, p as u64);
            cells[i].secs.push(s);
            cells[i].walls.push(w);
            cells[i].counts.push(k);
        }
    }
    sample(&env, "baseline", "reset", "bench-create", 0, 1)?;

    println!("bench: token-expiry stampede ({STAMPEDE_CALLS} calls, {STAMPEDE_LIFESPAN} s tokens)");
    let mut extra = stampede(&env, opts.reps.min(3))?;
    for contender in CONTENDERS {
        if let Some(samples) = rss_kib.get(contender) {
            extra.push(json!({
                "section": "memory",
                "scenario": format!("peak RSS of the process listing all {} users", opts.m),
                "contender": contender,
                "value": median(samples) / 1024.0,
                "unit": "MiB",
                "samples": samples.iter().map(|k| k / 1024.0).collect::<Vec<_>>(),
                "note": memory_note(contender),
            }));
        }
    }

    // Memory at scale: peak RSS of each contender's `list` of every user of a bigger realm.
    for &size in &opts.mem {
        let realm = format!("bench-mem-{size}");
        println!("bench: seeding {realm} with {size} users");
        let (secs, _, _) = sample(&env, "baseline", "seed", &realm, size, 8)?;
        println!("bench: seeded in {secs:.1} s");
        // Above 20,000 users every page costs this dev-mode server over a second whatever its
        // size (1.4 s for 100 users, 5 s for 1,000 at 100,000 users, measured), so a listing
        // by pages of 100 takes over 20 minutes: there only the collecting baseline and
        // cloakroom's stream run, with brief pages of 1,000 (~3 minutes each).
        let big = size > 20_000;
        let contenders: Vec<&str> = if big {
            vec!["baseline", "cloakroom"]
        } else {
            // One unmeasured listing first, so no contender pays for the server's cold caches.
            sample(&env, "baseline", "list", &realm, size, 1)?;
            CONTENDERS.to_vec()
        };
        *CHILD_ENV.lock().unwrap_or_else(|p| p.into_inner()) = if big {
            vec![("BENCH_PAGE", "1000"), ("BENCH_BRIEF", "1")]
        } else {
            Vec::new()
        };
        for contender in contenders {
            let (s, k, _, rss) = sample_rss(&env, contender, "list", &realm, size, 1)?;
            println!(
                "bench: list {realm} {contender:<18} {s:8.3} s ({k} users), peak RSS {rss:?} KiB"
            );
            if let Some(r) = rss {
                extra.push(json!({
                    "section": "memory",
                    "scenario": format!("peak RSS of the process listing all {size} users"),
                    "contender": contender,
                    "value": r as f64 / 1024.0,
                    "unit": "MiB",
                    "samples": [r as f64 / 1024.0],
                    "note": format!(
                        "{}; {k} users in {s:.1} s{}",
                        memory_note(contender),
                        if big { "; brief representations, pages of 1,000" } else { "" }
                    ),
                }));
            }
        }
    }
    CHILD_ENV.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let mut failed_parts = Vec::new();
    println!("bench: RS256 verification (bench/verify/run.sh)");
    match crate::bench_extra::verify_rows(3) {
        Ok(rows) => extra.extend(rows),
        Err(e) => failed_parts.push(format!("RS256 verification rows: {e:#}")),
    }
    let cli_size = opts.mem.first().copied().unwrap_or(opts.m);
    let cli_realm = if opts.mem.is_empty() {
        "bench-list".to_owned()
    } else {
        format!("bench-mem-{cli_size}")
    };
    println!(
        "bench: CLI vs kcadm.sh and realm export of {cli_realm} (crates/cloakroom-cli/bench/run.sh)"
    );
    match crate::bench_extra::cli_rows(state, 10, &cli_realm, cli_size) {
        Ok(rows) => extra.extend(rows),
        Err(e) => failed_parts.push(format!("CLI rows: {e:#}")),
    }

    // Which "get everything" calls truncate.
    let (_, ts_default, _) = sample(&env, "ts-admin-client", "list-default", "bench-list", 0, 1)?;
    let list_scenario = format!("list all {} users", opts.m);
    for c in cells.iter_mut().filter(|c| c.scenario == list_scenario) {
        c.note = match c.contender.as_str() {
            "baseline" => "first/max loop, pages of 100".into(),
            "cloakroom" => "users().list().stream(): all pages, 100 each".into(),
            "cloakroom-blocking" => {
                "kc.wait(users().list().stream() …): all pages, 100 each".into()
            }
            "keycloak-crate" => {
                "manual first/max loop, pages of 100: realm.users_get() returns one page (the server's 100), no paging helper".into()
            }
            "python-keycloak" => "a_get_users({}) pages to the end, 100 each".into(),
            "ts-admin-client" => {
                format!("manual first/max loop; users.find() alone returned {ts_default}")
            }
            _ => String::new(),
        };
    }
    let load_at_end = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let notes = vec![
        format!(
            "Load average at the start {} and at the end {} on {} cores: when other jobs share the machine, \
             spreads above ~50% mean that orderings inside that spread are noise; rerun on an idle machine \
             (or with --reps 5 and more) before reading small ratios.",
            load_at_start.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
            load_at_end.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
            output(&mut Command::new("nproc")),
        ),
        format!(
            "Truncation: the TypeScript admin client's users.find() without `max` returned {ts_default} of {} users \
             (the server's default page); it has no paging helper, so its row is the first/max loop its users write. \
             python-keycloak's a_get_users({{}}) and cloakroom's .stream() page to the end; Keycloak's own \
             GET /users without first/max returns 100.",
            opts.m
        ),
        "Every contender logs in once with the admin account (admin-cli, password grant) before its clock starts; \
         the baseline re-fetches its one token only if it is within 10 s of expiry (master's 60 s lifespan), \
         the TypeScript client re-authenticates on a 50 s timer as its README suggests, cloakroom and python-keycloak \
         refresh on their own; the keycloak crate's KeycloakAdminToken never refreshes (no sample here lasts 60 s)."
            .into(),
        "create: `bench-create` is deleted and recreated before every sample; users carry username, email, first and \
         last name, no credentials (no password hashing in the server). Concurrency 8 = 8 requests in flight \
         (buffer_unordered / asyncio.Semaphore / 8 promise workers / 8 std threads for cloakroom-blocking) on one client."
            .into(),
        "The server is a dev-mode Keycloak with H2 on the same 2-core machine as the clients, so most of every \
         create is server time; the ratios show client overhead on top of that, not the clients' raw speed."
            .into(),
        format!(
            "Stampede: realm `bench-stampede` with {STAMPEDE_LIFESPAN} s access tokens; each contender logs in there \
             (admin-cli, password grant), makes one call, sleeps {} s, then fires {STAMPEDE_CALLS} GET /users?max=1 at \
             once. Token requests are the server's LOGIN/REFRESH_TOKEN/CLIENT_LOGIN events (errors included) after the \
             first login. The baseline re-logs in under one lock; nothing in the peers' scripts re-authenticates \
             by hand, so their counts are their own token handling (in the first run both refreshed once per call: \
             100 token requests for 100 calls).",
            STAMPEDE_LIFESPAN + 1
        ),
        "GET → PUT: the first P users of `bench-list` (ids read before the clock), each read and written back with a \
         new firstName, one at a time. Memory: peak RSS (VmHWM / ru_maxrss / maxRSS) of each contender's `list` \
         process, start-up included.".into(),
        format!(
            "Memory at scale: realms bench-mem-N seeded by the baseline (8 in flight, kept for later runs); one \
             `list` sample per contender; sizes {:?} (--full adds 100,000; --mem sets them). Above 20,000 users only \
             the baseline and cloakroom run (brief pages of 1,000): this dev-mode server spends over a second on \
             every page once a realm holds 100,000 users (1.4 s for 100, 5 s for 1,000 full users, measured with \
             curl), so each peer's listing by pages of 100 would take over 20 minutes. RS256: bench/verify/run.sh \
             (3 s each, one token, one key, warm JWKS). CLI: crates/cloakroom-cli/bench/run.sh, 10 runs each, \
             whole processes incl. JVM start for kcadm.sh.{}",
            opts.mem,
            if failed_parts.is_empty() {
                String::new()
            } else {
                format!(" NOT MEASURED in this run: {}", failed_parts.join("; "))
            }
        ),
    ];
    let total = started.elapsed().as_secs_f64();
    write_reports(
        opts,
        &cells,
        &extra,
        machine(),
        versions(state),
        &notes,
        total,
    )?;
    println!("bench: wrote bench/results/latest.json and latest.md in {total:.0} s");
    // The sections measured without the server (issue 16): the stub server and verification.
    only::run_sections(
        &["stub", "verify"],
        opts.reps.max(5),
        only::DEFAULT_CALLS,
        bulk::Opts::default(),
    )?;
    print!(
        "{}",
        fs::read_to_string(crate::repo_root().join("bench/results/latest.md"))?
    );
    Ok(())
}
