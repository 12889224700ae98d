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
