//! The rows of `cargo xtask bench` that are not ratios against the baseline: memory at scale,
//! offline RS256 verification next to `openssl speed`, and the CLI next to kcadm.sh. Each row is
//! `{section, scenario, contender, value, unit, samples, note}`.

use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// `(label, value)` pairs from lines like `label: 12345 verifications/s (…)`.
pub fn parse_rates(text: &str, unit: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find(unit) else { continue };
        let before = line[..at].trim_end();
        let Some(num_start) = before.rfind(|c: char| !(c.is_ascii_digit() || c == '.')) else {
            continue;
        };
        let Ok(v) = before[num_start + 1..].parse::<f64>() else {
            continue;
        };
        let label = before[..=num_start]
            .trim_end()
            .trim_end_matches(':')
            .trim()
            .to_owned();
        out.push((label, v));
    }
    out
}

/// `(label, median ms)` from the CLI script's `label  median  N ms  min  M ms  (R runs)` lines.
pub fn parse_medians(text: &str) -> Vec<(String, f64, f64)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(at) = line.find(" median ") else {
            continue;
        };
        let label = line[..at].trim().to_owned();
        let nums: Vec<f64> = line[at..]
            .split_whitespace()
            .filter_map(|w| w.parse::<f64>().ok())
            .collect();
        if nums.len() >= 2 {
            out.push((label, nums[0], nums[1]));
        }
    }
    out
}

/// `(seconds, KiB)` from `12.3 s wall, 4567 KiB peak RSS`.
pub fn parse_time_rss(line: &str) -> Option<(f64, f64)> {
    let w: Vec<&str> = line.split_whitespace().collect();
    let s = w.iter().position(|x| *x == "s")?;
    let k = w.iter().position(|x| *x == "KiB")?;
    Some((
        w[s.checked_sub(1)?].parse().ok()?,
        w[k.checked_sub(1)?].parse().ok()?,
    ))
}

/// RS256 verifications per second: cloakroom's verifier (warm JWKS), `openssl speed rsa2048`
/// and python-keycloak's decode_token, in one run of bench/verify/run.sh.
pub fn verify_rows(seconds: u32) -> Result<Vec<Value>> {
    let root = crate::repo_root();
    let out = Command::new("bash")
        .arg(root.join("bench/verify/run.sh"))
        .arg(seconds.to_string())
        .current_dir(&root)
        .output()
        .context("running bench/verify/run.sh")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "bench/verify/run.sh failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    print!("{text}");
    let mut rates = parse_rates(&text, "verifications/s");
    rates.extend(parse_rates(&text, "verify/s"));
    let openssl = rates
        .iter()
        .find(|(l, _)| l.starts_with("openssl"))
        .map(|(_, v)| *v);
    let mut rows = Vec::new();
    for (label, v) in &rates {
        let contender = if label.starts_with("cloakroom signature check alone") {
            "cloakroom (signature only)"
        } else if label.starts_with("cloakroom") {
            "cloakroom"
        } else if label.starts_with("openssl") {
            "openssl"
        } else if label.starts_with("python-keycloak") {
            "python-keycloak"
        } else {
            continue;
        };
        let vs = openssl
            .filter(|_| contender != "openssl")
            .map(|o| format!("; {:.0}% of openssl's rate", 100.0 * v / o))
            .unwrap_or_default();
        rows.push(json!({
            "section": "verify",
            "scenario": "offline RS256 verification, 1 thread",
            "contender": contender,
            "value": v,
            "unit": "verifications/s",
            "samples": [v],
            "note": format!("{label}{vs}"),
        }));
    }
    if rows.len() < 3 {
        bail!("bench/verify/run.sh printed fewer than three rates:\n{text}");
    }
    Ok(rows)
}

/// `openssl speed` verify/s per algorithm: `(rsa2048, ecdsap256, ed25519)` rates from its
/// summary lines (`rsa 2048 bits …`, `… ecdsa (nistp256) …`, `… EdDSA (Ed25519) …`), the last
/// number of each being verify/s.
pub fn parse_openssl_speed(text: &str) -> [Option<f64>; 3] {
    let last = |l: &str| {
        l.split_whitespace()
            .last()
            .and_then(|w| w.parse::<f64>().ok())
    };
    let mut out = [None; 3];
    for line in text.lines() {
        let i = if line.trim_start().starts_with("rsa 2048 bits") {
            0
        } else if line.contains("(nistp256)") {
            1
        } else if line.contains("(Ed25519)") {
            2
        } else {
            continue;
        };
        out[i] = last(line).or(out[i]);
    }
    out
}

/// One `openssl speed` run of the three algorithms; `multi` = `-multi` processes.
fn openssl_speed(multi: usize) -> Result<[Option<f64>; 3]> {
    let mut cmd = Command::new("openssl");
    cmd.args(["speed", "-seconds", "1"]);
    if multi > 1 {
        cmd.args(["-multi", &multi.to_string()]);
    }
    let out = cmd
        .args(["rsa2048", "ecdsap256", "ed25519"])
        .output()
        .context("running openssl speed")?;
    if !out.status.success() {
        bail!(
            "openssl speed failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(parse_openssl_speed(&String::from_utf8_lossy(&out.stdout)))
}

/// cloakroom's JwtVerifier (crates/cloakroom/benches/verify.rs, one repetition per process)
/// interleaved with `openssl speed` at 1 and 2 processes, `reps` times. Returns the rows and the
/// markdown of the verify section.
pub fn verify_section(reps: usize) -> Result<(Vec<Value>, String)> {
    let root = crate::repo_root();
    println!(
        "bench: building the verify benchmark (cargo bench -p cloakroom --bench verify --no-run)"
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = Command::new(&cargo)
        .args([
            "bench",
            "-q",
            "-p",
            "cloakroom",
            "--bench",
            "verify",
            "--no-run",
        ])
        .current_dir(&root)
        .status()?;
    if !st.success() {
        bail!("building the verify benchmark failed");
    }
    const ALGS: [&str; 3] = ["RS256", "ES256", "EdDSA"];
    // [alg][threads-1] samples, for cloakroom and openssl.
    let mut ours = vec![vec![Vec::new(); 2]; 3];
    let mut theirs = vec![vec![Vec::new(); 2]; 3];
    let mut breakdown: Vec<(String, f64)> = Vec::new();
    for rep in 1..=reps {
        // Rotated: openssl first on even repetitions.
        let openssl_first = rep % 2 == 0;
        let run_openssl = |theirs: &mut Vec<Vec<Vec<f64>>>| -> Result<()> {
            for (t, multi) in [(0usize, 1usize), (1, 2)] {
                for (i, v) in openssl_speed(multi)?.into_iter().enumerate() {
                    theirs[i][t].extend(v);
                }
            }
            Ok(())
        };
        if openssl_first {
            run_openssl(&mut theirs)?;
        }
        let mut bench = Command::new(&cargo);
        bench
            .args(["bench", "-q", "-p", "cloakroom", "--bench", "verify"])
            .env("BENCH_SECONDS", "1")
            .env("BENCH_REPS", "1")
            .env_remove("BENCH_BREAKDOWN")
            .current_dir(&root);
        if rep == 1 {
            bench.env("BENCH_BREAKDOWN", "1");
        }
        let out = bench.output().context("running the verify benchmark")?;
        if !out.status.success() {
            bail!(
                "the verify benchmark failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Ok(v) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            // Per CPU second, as openssl speed counts, when the benchmark could measure it.
            let rate = v["rate_cpu"]
                .as_f64()
                .filter(|r| r.is_finite())
                .or_else(|| v["rate"].as_f64())
                .unwrap_or(f64::NAN);
            if let Some(what) = v["breakdown"].as_str() {
                breakdown.push((what.to_owned(), rate));
                continue;
            }
            let Some(i) = ALGS.iter().position(|a| v["alg"] == *a) else {
                continue;
            };
            let t = if v["threads"] == 2 { 1 } else { 0 };
            ours[i][t].push(rate);
        }
        if !openssl_first {
            run_openssl(&mut theirs)?;
        }
        println!("bench: verify rep {rep}: cloakroom {ours:?} openssl {theirs:?}");
    }
    verify_report(&ALGS, &ours, &theirs, &breakdown)
}

fn med(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        k if k % 2 == 1 => v[k / 2],
        k => (v[k / 2 - 1] + v[k / 2]) / 2.0,
    }
}

fn verify_report(
    algs: &[&str],
    ours: &[Vec<Vec<f64>>],
    theirs: &[Vec<Vec<f64>>],
    breakdown: &[(String, f64)],
) -> Result<(Vec<Value>, String)> {
    use std::fmt::Write as _;
    let openssl_name = ["rsa2048", "ecdsap256", "ed25519"];
    let mut rows = Vec::new();
    let mut md = String::from(
        "Whole `JwtVerifier::verify` of a Keycloak-shaped access token (warm JWKS; base64url, header, \
         key lookup, signature incl. SHA-256 of the signing input, claims, issuer/audience/expiry checks) \
         next to `openssl speed -seconds 1 <alg>` verify/s (the bare public-key operation on a digest), \
         both on the same machine in the same run, interleaved and alternated in order; medians of the \
         repetitions. Both are per CPU second: openssl speed divides by its user CPU time, and the \
         benchmark divides by each thread's CPU time (/proc/thread-self/schedstat), so other jobs on \
         the machine shift both alike. 2 threads: two OS threads sharing one verifier (per-thread rates \
         summed) vs twice openssl's one-process rate; the samples column of that row shows `openssl speed \
         -multi 2`'s own totals (on a loaded machine they have come out below one process: its divisor \
         is then not per-process CPU time).\n\n",
    );
    md.push_str(
        "| algorithm | threads | cloakroom verify/s | openssl verify/s | ratio | samples (cloakroom) | samples (openssl) |\n",
    );
    md.push_str("|---|---:|---:|---:|---:|---|---|\n");
    let mut targets = String::new();
    let fmt = |xs: &[f64]| {
        xs.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (i, alg) in algs.iter().enumerate() {
        for t in 0..2 {
            // 2 threads: against twice the one-process rate per CPU second (what scaling with
            // cores means); `openssl speed -multi 2`'s own figure stays in the samples column.
            let (c, o) = (med(&ours[i][t]), (t + 1) as f64 * med(&theirs[i][0]));
            writeln!(
                md,
                "| {alg} | {} | {c:.0} | {o:.0} ({}) | {:.2} | {} | {} |",
                t + 1,
                openssl_name[i],
                c / o,
                fmt(&ours[i][t]),
                fmt(&theirs[i][t]),
            )?;
            rows.push(json!({
                "section": "verify", "alg": alg, "threads": t + 1,
                "cloakroom_per_second": c, "openssl_per_second": o, "ratio": c / o,
                "samples_cloakroom": ours[i][t], "samples_openssl": theirs[i][t],
            }));
            if *alg == "RS256" {
                writeln!(
                    targets,
                    "- RS256, {} thread(s): whole verify at {:.2}× `openssl speed rsa2048` — ≥ 1.0×: **{}**",
                    t + 1,
                    c / o,
                    if c >= o { "met" } else { "missed" }
                )?;
            }
        }
    }
    if !breakdown.is_empty() {
        writeln!(
            md,
            "
Where the RS256 time goes (one run, 1 thread):
"
        )?;
        for (what, r) in breakdown {
            writeln!(md, "- {what}: {r:.0}/s = {:.1} µs each", 1e6 / r)?;
            rows.push(json!({"section": "verify", "breakdown": what, "rate": r}));
        }
    }
    writeln!(
        md,
        "
Targets (reported, not asserted):

{targets}"
    )?;
    Ok((rows, md))
}

/// The CLI next to kcadm.sh (token cold and warm, one admin GET), and `realm export` of
/// `realm` (already seeded with `users` users) with its wall time and peak RSS, next to a bare
/// curl loop over the same pages: crates/cloakroom-cli/bench/run.sh.
pub fn cli_rows(
    state: &crate::keycloak::State,
    runs: usize,
    realm: &str,
    users: usize,
) -> Result<Vec<Value>> {
    let root = crate::repo_root();
    // run.sh reads wall time and peak RSS from GNU time (Debian package `time`).
    if !std::path::Path::new("/usr/bin/time").exists() {
        println!("bench: installing GNU time (/usr/bin/time) for the CLI rows");
        let root_user = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        let mut apt = if root_user {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        let ok = apt
            .args(["install", "-y", "-q", "--no-install-recommends", "time"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            bail!("/usr/bin/time is missing and `apt-get install time` failed: install GNU time");
        }
    }
    let out = Command::new("bash")
        .arg(root.join("crates/cloakroom-cli/bench/run.sh"))
        .env("CLOAKROOM_BENCH_URL", &state.url)
        .env("CLOAKROOM_BENCH_ADMIN", &state.admin_username)
        .env("CLOAKROOM_BENCH_PASSWORD", &state.admin_password)
        .env("RUNS", runs.to_string())
        .env("USERS", users.to_string())
        .env("REALM", realm)
        .current_dir(&root)
        .output()
        .context("running crates/cloakroom-cli/bench/run.sh")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "crates/cloakroom-cli/bench/run.sh failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    print!("{text}");
    let mut rows = Vec::new();
    for (label, median, min) in parse_medians(&text) {
        let contender = if label.starts_with("kcadm") {
            "kcadm.sh"
        } else {
            "cloakroom CLI"
        };
        rows.push(json!({
            "section": "cli",
            "scenario": label,
            "contender": contender,
            "value": median,
            "unit": "ms",
            "samples": [median, min],
            "note": format!("median and min of {runs} runs, whole process"),
        }));
    }
    for line in text.lines() {
        let (contender, scenario, note) = if line.starts_with("cloakroom realm export (") {
            (
                "cloakroom CLI",
                format!("realm export of {users} users"),
                "users, groups, roles; streamed to a file",
            )
        } else if line.starts_with("cloakroom realm export --no-users") {
            (
                "cloakroom CLI",
                "realm export --no-users".to_owned(),
                "realm settings, clients, roles, groups, flows",
            )
        } else if line.starts_with("bare curl loop") {
            (
                "bash + curl",
                format!("the same {users} user pages"),
                "no output kept; the floor for the user pages",
            )
        } else {
            continue;
        };
        let Some(at) = line.find(':') else { continue };
        if let Some((s, kib)) = parse_time_rss(&line[at + 1..]) {
            rows.push(json!({
                "section": "cli",
                "scenario": format!("{scenario}: wall time"),
                "contender": contender, "value": s, "unit": "s", "samples": [s], "note": note,
            }));
            rows.push(json!({
                "section": "cli",
                "scenario": format!("{scenario}: peak RSS"),
                "contender": contender, "value": kib / 1024.0, "unit": "MiB",
                "samples": [kib / 1024.0], "note": note,
            }));
        }
    }
    if rows.is_empty() {
        bail!("crates/cloakroom-cli/bench/run.sh printed no figures:\n{text}");
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_speed_lines() {
        let text = "                  sign    verify    sign/s verify/s\n\
                    rsa 2048 bits 0.000650s 0.000020s   1538.5  50000.0\n\
                    \x20                             sign    verify    sign/s verify/s\n\
                    \x20256 bits ecdsa (nistp256)   0.0000s   0.0001s  40000.0  14000.5\n\
                    \x20253 bits EdDSA (Ed25519)   0.0000s   0.0001s  30000.0  11000.0\n";
        assert_eq!(
            parse_openssl_speed(text),
            [Some(50000.0), Some(14000.5), Some(11000.0)]
        );
    }

    #[test]
    fn rates_medians_and_time() {
        let v = parse_rates(
            "cloakroom JwtVerifier::verify (RS256, warm JWKS, 1 thread): 34569 verifications/s (1 in 3 s, 1 JWKS fetch)\n\
             openssl speed rsa2048 (OpenSSL 3.0.15): 43717.2 verify/s\n",
            "verify/s",
        );
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].1, 43717.2);
        assert!(v[0].0.starts_with("openssl speed rsa2048"));
        let v = parse_rates("x: 12 verifications/s (2 in 3 s)", "verifications/s");
        assert_eq!(v, [("x".to_owned(), 12.0)]);
        let m = parse_medians(
            "kcadm.sh get realms/master      median  3470 ms   min  3300 ms   (10 runs)",
        );
        assert_eq!(
            m,
            [("kcadm.sh get realms/master".to_owned(), 3470.0, 3300.0)]
        );
        assert_eq!(
            parse_time_rss(" 12.5 s wall, 20480 KiB peak RSS"),
            Some((12.5, 20480.0))
        );
        assert_eq!(parse_time_rss("garbage"), None);
    }
}
