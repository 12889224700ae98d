//! A second, private Keycloak for tests that must stop or kill a server: a copy of the harness's
//! unpacked distribution (a re-augmentation must never touch the one the shared test server runs
//! from), its own data directory and free ports, started with `cloakroom dev up` (the launcher
//! crate `cloakroom-devserver`, with the harness's features and JDK choice).
//! The data directory outlives a kill, so a restart finds the same realms.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use cloakroom_devserver::dist::Distribution;
use cloakroom_devserver::process::{group_alive, signal_group};
use cloakroom_devserver::{State, VERSION};
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
        let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../.cache/keycloak")
            .join(format!("keycloak-{VERSION}"));
        let dist = Distribution::at(&shared, VERSION).unwrap_or_else(|e| {
            panic!("{e}: run `cargo xtask keycloak start` (or `cargo xtask test`) once to fetch it")
        });
        let work = tempfile::tempdir().unwrap();
        let home = dist
            .copy_to(work.path())
            .expect("copying the distribution")
            .home;
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
            // `dev up` builds with the harness's features and chooses the JDK like it.
            .env("JAVA_OPTS_KC_HEAP", "-Xms128m -Xmx768m");
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
    pub fn pid(&self) -> Option<u32> {
        State::read(&self.data.join("keycloak/dev.json"))
            .ok()
            .flatten()
            .map(|s| s.pid)
    }

    /// SIGKILL to the whole process group, as a crash would; waits until the port is closed.
    pub fn kill(&self) {
        if let Some(pid) = self.pid() {
            signal_group("KILL", pid);
            let deadline = Instant::now() + Duration::from_secs(30);
            while (group_alive(pid)
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
