//! `cargo xtask bench --only bulk [--reps R] [--users N] [--parallel P]`: the CLI's bulk work
//! against a real Keycloak (started by the project's launcher, or the running one reused), next to
//! its floors in the same run: `realm export` vs the bare paging loop over the same user pages,
//! `realm apply` of N new users (one at a time and with P in flight) vs Keycloak's own
//! `partialImport` of the same users. The samples come from `bench/bulk/run.sh` (order rotated
//! every repetition; peak RSS of each child from wait4 via GNU time).

use std::collections::BTreeMap;
use std::fs;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

/// What the section measures.
#[derive(Clone, Copy, Debug)]
pub struct Opts {
    pub users: usize,
    pub parallel: usize,
    /// The export's default page size, also the second bare loop's.
    pub page: usize,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            users: 10_000,
            parallel: 4,
            page: 500,
        }
    }
}

/// Rows (JSON) and the markdown body of the section.
pub fn section(reps: usize, o: Opts) -> Result<(Vec<Value>, String)> {
    let root = crate::repo_root();
    let st = Command::new("cargo")
        .args(["build", "--release", "-q", "-p", "cloakroom-cli"])
        .current_dir(&root)
        .status()?;
    if !st.success() {
        bail!("cargo build --release -p cloakroom-cli failed");
    }
    let server = crate::keycloak::ensure_started()?;
    let out = std::env::temp_dir().join(format!("cloakroom-bulk-{}.jsonl", std::process::id()));
    let _ = fs::remove_file(&out);
    let st = Command::new(root.join("bench/bulk/run.sh"))
        .env("CLOAKROOM_BENCH_URL", &server.state.url)
        .env("USERS", o.users.to_string())
        .env("REPS", reps.to_string())
        .env("PARALLEL", o.parallel.to_string())
        .env("PAGE", o.page.to_string())
        .env("OUT", &out)
        .status();
    let stopped = server.stop_if_owned();
    let st = st?;
    stopped?;
    if !st.success() {
        bail!("bench/bulk/run.sh failed ({st})");
    }
    let text = fs::read_to_string(&out).with_context(|| format!("reading {}", out.display()))?;
    let _ = fs::remove_file(&out);
    let samples: Vec<Value> = text
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("bench/bulk/run.sh output")?;
    Ok(markdown(&samples, reps, o))
}

struct Stat {
    wall: Vec<f64>,
    rss: Vec<f64>,
    cpu: Vec<f64>,
    got: Vec<String>,
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn stats(samples: &[Value]) -> BTreeMap<String, Stat> {
    let mut by: BTreeMap<String, Stat> = BTreeMap::new();
    for s in samples {
        let e = by
            .entry(s["op"].as_str().unwrap_or("?").to_owned())
            .or_insert(Stat {
                wall: vec![],
                rss: vec![],
                cpu: vec![],
                got: vec![],
            });
        e.wall.push(s["wall_s"].as_f64().unwrap_or(f64::NAN));
        e.rss
            .push(s["rss_kib"].as_f64().unwrap_or(f64::NAN) / 1024.0);
        e.cpu.push(s["cpu_s"].as_f64().unwrap_or(f64::NAN));
        e.got.push(s["got"].as_str().unwrap_or("").to_owned());
    }
    by
}

fn label(op: &str, o: Opts) -> String {
    let n = o.users;
    match op {
        "export" => format!("`cloakroom realm export` of {n} users (to a file)"),
        "export-small" => format!(
            "`cloakroom realm export` of {} users (to a file; for its memory)",
            n / 10
        ),
        "bare" => format!("bare bash+curl loop over the same {n} user pages (100 each)"),
        "partialImport" => format!("Keycloak `partialImport` of the same {n} users (one POST)"),
        a if a.starts_with("bare-") => format!(
            "bare bash+curl loop over the same {n} users by pages of {} (the export's)",
            &a["bare-".len()..]
        ),
        a if a.starts_with("apply-") => format!(
            "`cloakroom realm apply` of {n} new users, `--parallel {}`",
            &a["apply-".len()..]
        ),
        other => other.to_owned(),
    }
}

fn markdown(samples: &[Value], reps: usize, o: Opts) -> (Vec<Value>, String) {
    let by = stats(samples);
    let wall = |op: &str| by.get(op).map(|s| median(&s.wall)).unwrap_or(f64::NAN);
    let mut md = format!(
        "Against a dev-mode Keycloak 26.7.3 (H2) started by `cargo xtask keycloak start`'s launcher on the same 2-core machine. {} users, {reps} repetitions, the seven operations' order rotated every repetition. Wall time and user+sys CPU of the measured process (for the floors: the bash+curl loop, the one curl of partialImport); peak RSS is ru_maxrss of that child (wait4, GNU time). **ratio** divides the median wall time by its floor's: the exports and bare loops by the bare loop over the export's pages ({page} users each, one request at a time), apply by partialImport. The export runs with its defaults: pages of {page}, up to 4 requests in flight, the groups' and roles' member lists read while the first user pages arrive. Every read (exports, bare loops) is timed after an untimed pass over the same users: Keycloak's user cache holds 10,000 users, and each apply sample's new users push the source realm's out. `got` is the realm's user count afterwards.\n\n| operation | median s | min–max s | spread | users/s | ratio vs floor | CPU s (median) | peak RSS MiB (median, max) | got |\n|---|---:|---:|---:|---:|---:|---:|---:|---|\n",
        o.users,
        page = o.page,
    );
    let mut rows = Vec::new();
    let bare_page = format!("bare-{}", o.page);
    let order = [
        "bare",
        bare_page.as_str(),
        "export",
        "export-small",
        "partialImport",
        "apply-1",
    ];
    let mut ops: Vec<&String> = by.keys().collect();
    ops.sort_by_key(|k| order.iter().position(|x| x == k).unwrap_or(order.len()));
    for op in ops {
        let s = &by[op];
        let m = median(&s.wall);
        let (lo, hi) = s
            .wall
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        let floor = match op.as_str() {
            o if o.starts_with("export") || o.starts_with("bare") => wall(&bare_page),
            _ => wall("partialImport"),
        };
        let rss_max = s.rss.iter().cloned().fold(f64::MIN, f64::max);
        let got = s
            .got
            .iter()
            .filter(|g| !g.is_empty())
            .cloned()
            .collect::<Vec<_>>();
        md.push_str(&format!(
            "| {} | {m:.1} | {lo:.1}–{hi:.1} | {:.0}% | {:.0} | {:.2} | {:.2} | {:.1}, {rss_max:.1} | {} |\n",
            label(op, o),
            (hi - lo) / m * 100.0,
            if op == "export-small" { o.users / 10 } else { o.users } as f64 / m,
            m / floor,
            median(&s.cpu),
            median(&s.rss),
            if got.is_empty() { "–".into() } else { got.join(", ") },
        ));
        rows.push(
            json!({"op": op, "wall_s": s.wall, "rss_mib": s.rss, "cpu_s": s.cpu, "got": s.got,
            "median_wall_s": m, "ratio_vs_floor": m / floor}),
        );
    }
    let e = wall("export") / wall(&bare_page);
    let e100 = wall("export") / wall("bare");
    let par = format!("apply-{}", o.parallel);
    let a = wall(&par) / wall("partialImport");
    let rss = |op: &str| by.get(op).map(|s| median(&s.rss)).unwrap_or(f64::NAN);
    let (big, small) = (rss("export"), rss("export-small"));
    let want = o.users.to_string();
    let applied: Vec<&String> = by
        .iter()
        .filter(|(op, _)| op.starts_with("apply-"))
        .flat_map(|(_, s)| &s.got)
        .collect();
    let exact = if !applied.is_empty() && applied.iter().all(|g| **g == want) {
        format!(
            "Every apply sample left exactly {want} users in the realm (no create sent twice, none missing)."
        )
    } else {
        format!("**Not every apply sample left {want} users in the realm**: {applied:?}.")
    };
    md.push_str(&format!(
        "\nTargets (reported, not asserted):\n\n- `realm export` of {n} users at {e:.2}× the bare loop over the same pages of {page} (≤ 1.2×: **{}**), {e100:.2}× the bare loop over pages of 100 (the floor as the issue first measured it: **{}**).\n- Memory flat: the export's median peak RSS is {big:.1} MiB for {n} users and {small:.1} MiB for {} users ({:.2}×; flat within 25%: **{}**). Pages in flight bound the users held; what grows with the realm is the map of member ids, tens of bytes a user.\n- `realm apply` of {n} new users with `--parallel {p}` (the default): {a:.2}× Keycloak's partialImport, {:.2}× `--parallel 1` (the issue sets no ratio; reported). {}\n",
        if e <= 1.2 { "met" } else { "missed" },
        if e100 <= 1.2 { "met" } else { "missed" },
        o.users / 10,
        big / small,
        if big / small <= 1.25 { "met" } else { "missed" },
        wall(&par) / wall("apply-1"),
        exact,
        n = o.users,
        p = o.parallel,
        page = o.page,
    ));
    let loads: Vec<&str> = samples.iter().filter_map(|s| s["load"].as_str()).collect();
    if let (Some(f), Some(l)) = (loads.first(), loads.last()) {
        md.push_str(&format!(
            "\nLoad average (1/5/15 min) at the first sample {f}, at the last {l}, on 2 cores.\n"
        ));
    }
    rows.push(json!({"users": o.users, "parallel": o.parallel, "samples": samples}));
    (rows, md)
}
