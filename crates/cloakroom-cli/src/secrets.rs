//! Where secrets come from: standard input, a file, the environment, or a prompt on a terminal.
//! Never from a command-line argument (which other users can read in the process list).

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use cloakroom::Secret;

use crate::exit::{CliError, CliResult};

static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);

/// Marks standard input as consumed (by a secret or by `--data -`); a second reader is a usage
/// error rather than a silent empty read.
pub fn take_stdin(what: &str) -> CliResult {
    if STDIN_TAKEN.swap(true, Ordering::SeqCst) {
        return Err(CliError::usage(format!(
            "standard input is already used by another option; cannot also read {what} from it"
        )));
    }
    Ok(())
}

/// Reads all of standard input (once per process).
pub fn read_stdin(what: &str) -> CliResult<String> {
    take_stdin(what)?;
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .map_err(|e| CliError::io(format!("cannot read {what} from standard input"), e))?;
    Ok(s)
}

/// The first line of a secret text, without its line ending.
fn first_line(s: &str) -> &str {
    s.split(['\n', '\r']).next().unwrap_or("")
}

pub fn from_file(path: &Path, what: &str) -> CliResult<Secret> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("cannot read the {what} file {}", path.display()), e))?;
    let line = first_line(&text);
    if line.is_empty() {
        return Err(CliError::usage(format!(
            "the {what} file {} is empty",
            path.display()
        )));
    }
    Ok(Secret::new(line))
}

pub fn from_stdin(what: &str) -> CliResult<Secret> {
    let text = read_stdin(what)?;
    let line = first_line(&text);
    if line.is_empty() {
        return Err(CliError::usage(format!("no {what} on standard input")));
    }
    Ok(Secret::new(line))
}

pub fn from_env(names: &[&str]) -> Option<Secret> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
        .map(Secret::new)
}

/// Whether a prompt can be shown: standard input and standard error are terminals.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal()
        && std::io::stderr().is_terminal()
        && !STDIN_TAKEN.load(Ordering::SeqCst)
}

/// Prompts on the terminal without echo.
pub fn prompt(label: &str) -> CliResult<Secret> {
    let v = rpassword::prompt_password(format!("{label}: "))
        .map_err(|e| CliError::io("cannot read from the terminal", e))?;
    if v.is_empty() {
        return Err(CliError::usage(format!("empty {label}")));
    }
    Ok(Secret::new(v))
}

/// Prompts for a visible value (for example an OTP code or a user name).
pub fn prompt_visible(label: &str) -> CliResult<String> {
    use std::io::Write;
    eprint!("{label}: ");
    let _ = std::io::stderr().flush();
    let mut s = String::new();
    std::io::stdin()
        .read_line(&mut s)
        .map_err(|e| CliError::io("cannot read from the terminal", e))?;
    Ok(s.trim().to_owned())
}
