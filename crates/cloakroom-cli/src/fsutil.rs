//! Small file helpers: private directories, atomic writes, permission checks.

use std::io::Write;
use std::path::Path;

use crate::exit::{CliError, CliResult};

/// Creates `dir` (and parents) if missing; a directory created here is private (0700).
pub fn ensure_private_dir(dir: &Path) -> CliResult {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
        .map_err(|e| CliError::io(format!("cannot create {}", dir.display()), e))
}

/// Writes `data` to `path` atomically: a temporary file in the same directory (created with
/// `mode`), flushed and synced, then renamed over `path`.
pub fn write_atomic(path: &Path, data: &[u8], mode: u32) -> CliResult {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = temp_in(dir, path, mode)?;
    tmp.write_all(data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| CliError::io(format!("cannot write {}", path.display()), e))?;
    tmp.persist(path)
        .map_err(|e| CliError::io(format!("cannot write {}", path.display()), e.error))?;
    Ok(())
}

/// A temporary file next to `target`, named after it, created with `mode` (unix).
pub fn temp_in(dir: &Path, target: &Path, mode: u32) -> CliResult<tempfile::NamedTempFile> {
    let stem = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cloakroom".into());
    let prefix = format!(".{stem}.");
    let mut b = tempfile::Builder::new();
    b.prefix(&prefix).suffix(".partial");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = mode;
    b.tempfile_in(dir).map_err(|e| {
        CliError::io(
            format!("cannot create a temporary file in {}", dir.display()),
            e,
        )
    })
}

/// Fails when `path` can be read by the group or others (unix); secrets must be private.
pub fn check_private(path: &Path, what: &str) -> CliResult {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| CliError::io(format!("cannot read {}", path.display()), e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(CliError::usage(format!(
                "refusing to read the {what} {}: it is readable by others (mode {mode:o})",
                path.display()
            ))
            .with_hint(format!("run `chmod 600 {}` or delete it", path.display())));
        }
    }
    #[cfg(not(unix))]
    let _ = (path, what);
    Ok(())
}
