//! Process groups: who is in one, whether it is alive (zombies do not count), signals, and a
//! verified stop. A server is started as the leader of its own group, so its PID names the
//! group; before signalling, the group is checked to still be the server (not a reused PID).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::error::bail;

/// The first executable called `program` on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}

/// One process of a group.
#[derive(Debug, Clone)]
pub struct Member {
    pub pid: u32,
    /// The state letter of `/proc/<pid>/stat` (`Z` for a zombie).
    pub state: char,
    /// The command line, arguments joined by spaces.
    pub cmdline: String,
}

/// The members of a process group, from `/proc`. `None` without `/proc`.
pub fn group_members(pgid: u32) -> Option<Vec<Member>> {
    let entries = fs::read_dir("/proc").ok()?;
    let mut members = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.get(2).and_then(|g| g.parse::<u32>().ok()) != Some(pgid) {
            continue;
        }
        let state = fields.first().and_then(|s| s.chars().next()).unwrap_or('?');
        let cmdline = fs::read(entry.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        members.push(Member {
            pid,
            state,
            cmdline,
        });
    }
    Some(members)
}

/// Whether any non-zombie process is left in the group. (`kill -0` is not enough: it succeeds
/// on an unreaped zombie.)
pub fn group_alive(pgid: u32) -> bool {
    match group_members(pgid) {
        Some(members) => members.iter().any(|m| m.state != 'Z'),
        None => Command::new("kill")
            .args(["-0", "--", &format!("-{pgid}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success()),
    }
}

/// Whether a live member of the group has `marker` in its command line (guards against a
/// reused PID).
pub fn group_runs(pgid: u32, marker: &str) -> bool {
    match group_members(pgid) {
        Some(members) => members
            .iter()
            .any(|m| m.state != 'Z' && m.cmdline.contains(marker)),
        None => Command::new("ps")
            .args(["-o", "args=", "-p", &pgid.to_string()])
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(marker)),
    }
}

/// Sends `signal` (`TERM`, `KILL`) to every process of the group.
pub fn signal_group(signal: &str, pgid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{pgid}"))
        .stderr(Stdio::null())
        .status();
}

/// How a verified stop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// Nothing was running.
    NotRunning,
    /// The group is not ours (its command lines lack the marker): left alone.
    NotOurs,
    /// Stopped by SIGTERM within the grace period.
    Terminated,
    /// Needed SIGKILL.
    Killed,
}

/// SIGTERM to the group when it still runs `marker`, up to `grace`, then SIGKILL. `reap`
/// is called while waiting (to collect our own child so it does not stay a zombie).
pub fn stop_group(
    pgid: u32,
    marker: &str,
    grace: Duration,
    mut reap: impl FnMut(),
) -> Result<Stopped> {
    reap();
    if !group_alive(pgid) {
        return Ok(Stopped::NotRunning);
    }
    if !group_runs(pgid, marker) {
        return Ok(Stopped::NotOurs);
    }
    signal_group("TERM", pgid);
    let how = if wait_gone(pgid, grace, &mut reap) {
        Stopped::Terminated
    } else {
        signal_group("KILL", pgid);
        if !wait_gone(pgid, Duration::from_secs(10), &mut reap) {
            bail!("process group {pgid} is still alive after SIGKILL");
        }
        Stopped::Killed
    };
    wait_reaped(pgid, &mut reap);
    Ok(how)
}

/// Waits (up to 10 s) until the group's zombies are reaped too, so that a stopped server
/// leaves no trace in `/proc` (its parent may be init, which reaps a moment later).
fn wait_reaped(pgid: u32, reap: &mut impl FnMut()) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(10) {
        reap();
        if group_members(pgid).is_none_or(|m| m.is_empty()) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_gone(pgid: u32, limit: Duration, reap: &mut impl FnMut()) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        reap();
        if !group_alive(pgid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// The last `lines` lines of a log file (empty when unreadable).
pub fn log_tail(path: &std::path::Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    let mut out = all[all.len().saturating_sub(lines)..].join("\n");
    out.push('\n');
    out
}

/// Free loopback ports, all different (held together while choosing).
pub fn free_ports(fixed: &[Option<u16>]) -> Result<Vec<u16>> {
    let mut held = Vec::new();
    for f in fixed {
        let listener = std::net::TcpListener::bind(("127.0.0.1", f.unwrap_or(0))).map_err(|e| {
            crate::Error::new(format!("127.0.0.1:{} is not free: {e}", f.unwrap_or(0)))
        })?;
        held.push(listener);
    }
    held.iter().map(|l| Ok(l.local_addr()?.port())).collect()
}
