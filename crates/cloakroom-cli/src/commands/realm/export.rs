//! `cloakroom realm export REALM [-o FILE]`: everything, every user page, streamed.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use serde_json::Value;

use super::snapshot::Live;
use crate::cli::ExportArgs;
use crate::commands::Ctx;
use crate::exit::{CliError, CliResult, Code};
use crate::fsutil;

pub async fn run(ctx: &Ctx, a: ExportArgs) -> CliResult {
    let (kc, _) = ctx.admin().await?;
    let work = export(ctx, &kc, &a);
    tokio::pin!(work);
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::other(format!("cannot watch for SIGTERM: {e}")))?;
    #[cfg(unix)]
    let terminated = term.recv();
    #[cfg(not(unix))]
    let terminated = std::future::pending::<Option<()>>();
    tokio::select! {
        r = &mut work => r,
        _ = tokio::signal::ctrl_c() => Err(interrupted(&a)),
        _ = terminated => Err(interrupted(&a)),
    }
    // Dropping `work` drops the temporary file, which deletes it: nothing is left behind.
}

fn interrupted(a: &ExportArgs) -> CliError {
    let mut e = CliError::new(Code::Interrupted, "export interrupted");
    if let Some(f) = &a.file {
        e = e.with_detail(format!("{} was not written", f.display()));
    }
    e
}

/// Writes `v` pretty-printed, indented by two spaces after the first line.
fn indented(v: &Value) -> String {
    let pretty = serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    pretty.replace('\n', "\n  ")
}

async fn export(ctx: &Ctx, kc: &cloakroom::Client, a: &ExportArgs) -> CliResult {
    let mut live = Live::new(kc, &a.name, a.include_secrets);
    let head = live.head().await.map_err(|e| {
        if e.code == Code::NotFound {
            CliError::not_found(format!("realm `{}` not found", a.name))
        } else {
            e
        }
    })?;
    let total: Option<u64> = if a.no_users {
        None
    } else {
        kc.realm(&a.name)
            .users()
            .count()
            .send()
            .await
            .ok()
            .and_then(|n| u64::try_from(n).ok())
    };

    // The destination: a temporary file beside the target (renamed at the end), or stdout.
    let mut temp = match &a.file {
        Some(f) => {
            let dir = f
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let mode = if a.include_secrets { 0o600 } else { 0o644 };
            Some(fsutil::temp_in(dir, f, mode)?)
        }
        None => None,
    };
    // Writing to standard output, a closed pipe (`| head`) ends the export quietly.
    let to_stdout = temp.is_none();
    let mut out: Box<dyn Write> = match &mut temp {
        Some(t) => Box::new(std::io::BufWriter::with_capacity(
            256 * 1024,
            t.as_file().try_clone()?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let werr = |e: std::io::Error| {
        if to_stdout && e.kind() == std::io::ErrorKind::BrokenPipe {
            crate::output::closed_pipe_exit();
        }
        CliError::other(format!("cannot write the export: {e}"))
    };

    out.write_all(b"{\n").map_err(werr)?;
    let n = head.len();
    for (i, (k, v)) in head.iter().enumerate() {
        let last = i + 1 == n && a.no_users;
        writeln!(
            out,
            "  {}: {}{}",
            Value::String(k.clone()),
            indented(v),
            if last { "" } else { "," }
        )
        .map_err(werr)?;
    }

    let bar = if std::io::stderr().is_terminal() && !ctx.out.quiet && !a.no_users {
        let b = indicatif::ProgressBar::new(total.unwrap_or(0));
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} users {pos}/{len} [{bar:30}] {per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        Some(b)
    } else {
        None
    };

    let count = if a.no_users {
        0
    } else {
        write_users(kc, &live, a, &mut out, bar.as_ref(), &werr).await?
    };
    out.write_all(b"}\n").map_err(werr)?;
    out.flush().map_err(werr)?;
    drop(out);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let (Some(t), Some(f)) = (temp, &a.file) {
        t.as_file().sync_all().map_err(werr)?;
        t.persist(f)
            .map_err(|e| CliError::io(format!("cannot write {}", f.display()), e.error))?;
        ctx.out.note(format!(
            "exported realm `{}` with {count} users to {}",
            a.name,
            f.display()
        ));
    }
    live.client_ids.clear();
    Ok(())
}

/// Writes the `"users"` member: every page of full representations, each user with its groups
/// and roles. Up to `--concurrency` pages are fetched ahead, in order, while the groups' and
/// roles' member lists are read, so the server works on both at once; memory holds those pages
/// and the member ids, never the realm's users.
async fn write_users(
    kc: &cloakroom::Client,
    live: &Live<'_>,
    a: &ExportArgs,
    out: &mut dyn Write,
    bar: Option<&indicatif::ProgressBar>,
    werr: &dyn Fn(std::io::Error) -> CliError,
) -> CliResult<usize> {
    use futures_util::{StreamExt, future};
    let delay = std::env::var("CLOAKROOM_DEBUG_EXPORT_PAGE_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    let page_size = a.page_size.clamp(1, 1000);
    let max = i32::try_from(page_size).unwrap_or(1000);
    let users = kc.realm(&a.name).users();
    let fetch = |first: usize| {
        let list = users.list();
        async move {
            let first = i32::try_from(first).map_err(|_| CliError::other("too many users"))?;
            // The typed listing, kept as the bytes the server sent until its turn comes (a
            // third of the memory of decoded users).
            let page = list
                .first(first)
                .max(max)
                .brief_representation(false)
                .send_response()
                .await?;
            Ok::<_, CliError>(page)
        }
    };
    let pages = futures_util::stream::iter((0usize..).map(|i| i * page_size))
        .map(fetch)
        .buffered(a.concurrency.clamp(1, 32));
    let mut pages = std::pin::pin!(pages.peekable());
    let (members, _) = future::join(live.memberships(a.concurrency), pages.as_mut().peek()).await;
    let mut members = members?;

    out.write_all(b"  \"users\": [").map_err(werr)?;
    let mut count = 0usize;
    while let Some(page) = pages.next().await {
        // Read as JSON: the export writes what the server sent, field for field.
        let items = match page?.json::<Value>()? {
            Value::Array(items) => items,
            _ => return Err(CliError::server("expected a list of users")),
        };
        let got = items.len();
        for u in items {
            let id = u["id"].as_str().unwrap_or("").to_owned();
            let u = Live::with_membership(u, members.take(&id));
            let text = serde_json::to_string(&u).map_err(|e| CliError::other(e.to_string()))?;
            out.write_all(if count == 0 { b"\n    " } else { b",\n    " })
                .map_err(werr)?;
            out.write_all(text.as_bytes()).map_err(werr)?;
            count += 1;
            if let Some(b) = bar {
                b.inc(1);
            }
        }
        out.flush().map_err(werr)?;
        if got < page_size {
            break;
        }
        if let Some(ms) = delay {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    }
    out.write_all(if count == 0 { b"]\n" } else { b"\n  ]\n" })
        .map_err(werr)?;
    Ok(count)
}
