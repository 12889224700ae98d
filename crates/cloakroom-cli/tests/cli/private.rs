//! A second, private Keycloak for tests that must stop or kill a server: a copy of the harness's
//! unpacked distribution (start-dev re-augments, which must not touch the one the shared test
//! server runs from), its own data directory and free ports, started with `cloakroom dev up`.
//! The data directory outlives a kill, so a restart finds the same realms.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

use crate::support::Env;

pub const ADMIN: &str = "devadmin";
pub const ADMIN_PASSWORD: &str = "dev-admin-pw-1";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind a loopback port")
        .local_addr()
        .unwrap()
        .port()
}

/// The JDK the test harness prefers (Temurin 25), when installed; else whatever kc.sh finds.
fn java_home() -> Option<PathBuf> {
    let mut homes: Vec<_> = std::fs::read_dir("/usr/lib/jvm")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("temurin-25"))
                && p.join("bin/java").is_file()
        })
        .collect();
    homes.sort();
    homes.into_iter().next()
}

pub struct PrivateKeycloak {
    pub work: tempfile::TempDir,
    pub home: PathBuf,
    pub data: PathBuf,
    pub env: Env,
    pub port: u16,
    pub mgmt: u16,
    pub url: String,
}

impl PrivateKeycloak {
    /// Copies the distribution and picks the ports; nothing runs yet.
    pub fn new() -> Self {
        let dist =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.cache/keycloak/keycloak-26.7.3");
        assert!(
            dist.join("bin/kc.sh").is_file(),
            "{} is missing: run `cargo xtask keycloak start` (or `cargo xtask test`) once to fetch it",
            dist.display()
        );
        let work = tempfile::tempdir().unwrap();
        let home = work.path().join("keycloak-26.7.3");
        let copied = std::process::Command::new("cp")
            .arg("-a")
            .arg(&dist)
            .arg(&home)
            .status()
            .unwrap();
        assert!(copied.success(), "cp -a {} failed", dist.display());
        let data = work.path().join("data");
        let (port, mgmt) = (free_port(), free_port());
        PrivateKeycloak {
            url: format!("http://127.0.0.1:{port}"),
            work,
            home,
            data,
            env: Env::new(),
            port,
            mgmt,
        }
    }

    /// `cloakroom dev …` for this server.
    pub fn dev(&self, args: &[&str]) -> Command {
        let mut c = self.env.bare();
        c.env("CLOAKROOM_DATA_DIR", &self.data)
            .env("CLOAKROOM_KEYCLOAK_HOME", &self.home)
            .env("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN)
            .env("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("JAVA_OPTS_KC_HEAP", "-Xms128m -Xmx768m")
            // The features the harness built the distribution with (xtask's BUILD_OPTIONS), so
            // the copy usually starts without re-augmenting; `dev up` works either way.
            .env(
                "KC_FEATURES",
                "token-exchange:v1,admin-fine-grained-authz:v1,client-types,client-secret-rotation",
            )
            .env_remove("JAVA");
        if let Some(h) = java_home() {
            c.env("JAVA_HOME", h);
        }
        c.args(args);
        c
    }

    /// `dev up` on the fixed ports; panics with the log's tail when it fails.
    pub fn up(&self) -> std::process::Output {
        let out = self
            .dev(&[
                "dev",
                "up",
                "--port",
                &self.port.to_string(),
                "--management-port",
                &self.mgmt.to_string(),
                "--wait",
                "240",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "dev up failed ({:?}): {}\nlog tail:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr),
            self.log_tail(40)
        );
        out
    }

    pub fn log_tail(&self, n: usize) -> String {
        let log =
            std::fs::read_to_string(self.data.join("keycloak/keycloak.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The pid `dev up` recorded (the leader of the server's process group).
    pub fn pid(&self) -> Option<u64> {
        let text = std::fs::read_to_string(self.data.join("keycloak/dev.json")).ok()?;
        serde_json::from_str::<Value>(&text).ok()?["pid"].as_u64()
    }

    /// SIGKILL to the whole process group, as a crash would; waits until the port is closed.
    pub fn kill(&self) {
        if let Some(pid) = self.pid() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(std::process::Stdio::null())
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while (Path::new(&format!("/proc/{pid}")).exists()
                || std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok())
                && Instant::now() < deadline
            {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// The arguments that log in to this server as its bootstrap admin (no token cache).
    pub fn login_args(&self) -> Vec<String> {
        ["--server", &self.url, "--user", ADMIN, "--no-cache"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    /// A `cloakroom` command logged in as this server's bootstrap admin.
    pub fn admin(&self) -> Command {
        let mut c = self.env.bare();
        c.args(self.login_args())
            .env("CLOAKROOM_PASSWORD", ADMIN_PASSWORD);
        c
    }

    /// The same, as a std command (for commands run in the background).
    pub fn admin_std(&self) -> std::process::Command {
        let mut c = std::process::Command::new(crate::support::cloakroom_bin());
        for (k, _) in std::env::vars() {
            if k.starts_with("CLOAKROOM_") || k.starts_with("KEYCLOAK_") || k.starts_with("KC_CLI_")
            {
                c.env_remove(k);
            }
        }
        c.env("CLOAKROOM_CONFIG_DIR", self.env.config_dir())
            .env("CLOAKROOM_PASSWORD", ADMIN_PASSWORD)
            .args(self.login_args());
        c
    }

    /// An admin command that must succeed; its stdout as JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self
            .admin()
            .args(["--output", "json"])
            .args(args)
            .output()
            .unwrap();
        crate::support::assert_success(&out, args);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?}: not JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }
}

impl Drop for PrivateKeycloak {
    fn drop(&mut self) {
        self.kill();
    }
}
