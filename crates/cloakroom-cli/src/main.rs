//! The `cloakroom` command-line tool. See `cloakroom --help` and [`exit`] for exit codes.

mod auth;
mod cli;
mod commands;
mod config;
mod exit;
mod fsutil;
mod output;
mod prom;
mod secrets;

use std::io::IsTerminal;

use clap::Parser;

fn init_tracing(g: &cli::GlobalArgs, color: bool) {
    let filter = match std::env::var("CLOAKROOM_LOG")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(f) => f,
        None if g.quiet => "error".to_owned(),
        None => match g.verbose {
            0 => "warn".to_owned(),
            1 => "info,cloakroom=debug,cloakroom_cli=debug".to_owned(),
            _ => "info,cloakroom=trace,cloakroom_cli=trace".to_owned(),
        },
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(g.verbose > 1)
        .without_time()
        .try_init();
}

fn main() {
    // A bug must not dump a backtrace (which could show values) on an operator's terminal.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if output::is_closed_pipe_panic(msg) {
            output::closed_pipe_exit();
        }
        if std::env::var_os("RUST_BACKTRACE").is_some() {
            return default_hook(info);
        }
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "error: internal error in cloakroom{at}; please report it (RUST_BACKTRACE=1 shows details)"
        );
    }));
    let cli = cli::Cli::parse();
    let color = output::color_allowed(cli.global.no_color, std::io::stderr().is_terminal());
    init_tracing(&cli.global, color);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(commands::run(cli));
    rt.shutdown_timeout(std::time::Duration::from_millis(100));
    let code = match result {
        Ok(()) => 0,
        Err(e) => {
            e.report(color);
            e.exit_code()
        }
    };
    std::process::exit(code);
}
