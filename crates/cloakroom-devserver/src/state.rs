//! The state file: what a running server is and how to reach it. One type for xtask's
//! `.cache/keycloak/state.json`, `cloakroom dev`'s `dev.json` and the tests that read them.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::error::Context;

/// A running Keycloak (and the PostgreSQL under it, if any).
#[derive(Clone, Serialize, Deserialize)]
pub struct State {
    pub version: String,
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// `http://127.0.0.1:<management port>`
    pub management_url: String,
    pub http_port: u16,
    pub management_port: u16,
    /// The PID of `kc.sh`, which is also the id of the server's process group.
    pub pid: u32,
    pub admin_username: String,
    pub admin_password: String,
    pub log: PathBuf,
    /// The java binary and its version line.
    #[serde(default)]
    pub java: String,
    #[serde(default)]
    pub started_at: String,
    /// Seconds from spawn to "ready and the admin can log in".
    #[serde(default)]
    pub start_seconds: Option<f64>,
    /// The server's data directory (H2 database, transaction logs).
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// Removed when the server is stopped (a per-run directory); `None` keeps the data.
    #[serde(default)]
    pub remove_on_stop: Option<PathBuf>,
    /// The unpacked distribution the server runs from.
    #[serde(default)]
    pub home: Option<PathBuf>,
    /// `dev-file` (H2) or `postgres`.
    #[serde(default = "default_db")]
    pub db: String,
    /// The private PostgreSQL cluster, when `db` is `postgres`.
    #[serde(default)]
    pub postgres: Option<crate::postgres::PostgresState>,
}

fn default_db() -> String {
    "dev-file".into()
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("version", &self.version)
            .field("url", &self.url)
            .field("pid", &self.pid)
            .field("admin_username", &self.admin_username)
            .field("admin_password", &"<redacted>")
            .field("db", &self.db)
            .finish_non_exhaustive()
    }
}

impl State {
    /// Reads a state file; `None` when it does not exist.
    pub fn read(path: &Path) -> Result<Option<State>> {
        match fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .ctx(|| format!("{} is not a valid state file", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).ctx(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the state file atomically, readable by its owner only (it holds the admin
    /// password).
    pub fn write(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let tmp = path.with_extension(format!("json.tmp{}", std::process::id()));
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .ctx(|| format!("writing {}", tmp.display()))?;
        file.write_all(text.as_bytes())
            .ctx(|| format!("writing {}", tmp.display()))?;
        fs::rename(&tmp, path).ctx(|| format!("writing {}", path.display()))
    }

    /// Removes the state file at `path` if it still describes the server with this PID.
    pub fn remove_if_pid(path: &Path, pid: u32) {
        if let Ok(Some(state)) = State::read(path)
            && state.pid == pid
        {
            let _ = fs::remove_file(path);
        }
    }
}

/// UTC timestamp like `2026-11-24T21:40:36Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_556_436)),
            "2026-11-24T21:40:36Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn reads_an_older_state_file_and_hides_the_password() {
        let text = r#"{"version":"26.7.3","url":"http://127.0.0.1:1","management_url":"http://127.0.0.1:2",
            "http_port":1,"management_port":2,"pid":7,"admin_username":"admin","admin_password":"s3cret",
            "log":"/tmp/kc.log"}"#;
        let s: State = serde_json::from_str(text).unwrap();
        assert_eq!(s.db, "dev-file");
        assert!(!format!("{s:?}").contains("s3cret"));
    }
}
