//! The watchdog: stops a server when the process that owns it dies without stopping it.
//!
//! A shell in its own process group reads a pipe from the owner. When the owner dies (Ctrl-C,
//! a panic that aborts, SIGKILL), the kernel closes the pipe, and the watchdog stops the
//! server's process group, removes the state file if it still names that server, and removes
//! the run's directory. Writing `disarm` to the pipe ends it quietly (server stopped normally,
//! or handed over to run on). The pipe is close-on-exec, so no other child keeps it open.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// An armed watchdog; [`Watchdog::disarm`] (or drop) ends it without touching the server.
pub struct Watchdog(Option<Child>);

impl Watchdog {
    /// Watches the server whose process group is `pgid`. `extra` runs (as shell code) after
    /// the group is gone, e.g. to stop a database.
    pub fn arm(
        pgid: u32,
        state_file: Option<&Path>,
        remove_dir: Option<&Path>,
        extra: &str,
    ) -> Watchdog {
        // POSIX sh (dash's `kill` takes no `--`; `-PGID` after the signal is a group).
        let script = format!(
            r#"
kc=$1; state=$2; dir=$3
if read -r line && [ "$line" = disarm ]; then exit 0; fi
if kill -0 "-$kc" 2>/dev/null; then
  kill -TERM "-$kc" 2>/dev/null
  i=0
  while kill -0 "-$kc" 2>/dev/null && [ "$i" -lt 60 ]; do sleep 1; i=$((i+1)); done
  kill -KILL "-$kc" 2>/dev/null
fi
if [ -n "$state" ] && grep -q "\"pid\": $kc," "$state" 2>/dev/null; then rm -f "$state"; fi
{extra}
if [ -n "$dir" ]; then rm -rf "$dir"; fi
"#
        );
        let child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("cloakroom-devserver-watchdog")
            .arg(pgid.to_string())
            .arg(state_file.map(|p| p.as_os_str()).unwrap_or_default())
            .arg(remove_dir.map(|p| p.as_os_str()).unwrap_or_default())
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                eprintln!("warning: no watchdog (Ctrl-C will leave the server running): {e}")
            })
            .ok();
        Watchdog(child)
    }

    /// Ends the watchdog; the server is left as it is.
    pub fn disarm(&mut self) {
        if let Some(mut w) = self.0.take() {
            if let Some(mut pipe) = w.stdin.take() {
                let _ = pipe.write_all(b"disarm\n");
            }
            let _ = w.wait();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.disarm();
    }
}
