//! One module per command group.

use std::sync::Arc;

use clap::CommandFactory;

use crate::auth::Auth;
use crate::cli::{Cli, Command, GlobalArgs, OutputArg, RealmCmd};
use crate::config::Settings;
use crate::exit::{CliError, CliResult};
use crate::output::Out;

pub mod api;
pub mod config;
pub mod dev;
pub mod doctor;
pub mod health;
pub mod realm;
pub mod resource;
pub mod token;
pub mod version;

/// What every command gets: the global options and the output settings.
pub struct Ctx {
    pub g: GlobalArgs,
    pub out: Out,
}

impl Ctx {
    pub fn settings(&self) -> CliResult<Settings> {
        Settings::resolve(&self.g)
    }

    pub fn auth(&self) -> CliResult<Arc<Auth>> {
        Auth::new(self.settings()?, &self.g)
    }

    /// An authenticated admin client and the settings it was made from.
    pub async fn admin(&self) -> CliResult<(cloakroom::Client, Settings)> {
        let auth = self.auth()?;
        let kc = auth.admin_client().await?;
        Ok((kc, auth.settings.clone()))
    }
}

pub async fn run(mut cli: Cli) -> CliResult {
    // `-o` is the output format everywhere, and the file name of `realm export -o FILE`.
    if let Some(OutputArg::File(path)) = &cli.global.output {
        match &mut cli.command {
            Command::Realm(RealmCmd::Export(a)) if a.file.is_none() => {
                a.file = Some(path.clone());
                cli.global.output = None;
            }
            _ => {
                let not_a_format = OutputArg::File(path.clone()).format().err();
                return Err(CliError::usage(not_a_format.unwrap_or_default()));
            }
        }
    }
    let ctx = Ctx {
        out: Out::new(&cli.global),
        g: cli.global,
    };
    match cli.command {
        Command::Config(c) => config::run(&ctx, c),
        Command::Token(a) => token::run(&ctx, a).await,
        Command::Api(a) => api::run(&ctx, a).await,
        Command::Health(a) => health::health(&ctx, a).await,
        Command::Metrics(a) => health::metrics(&ctx, a).await,
        Command::Get(a) => resource::get(&ctx, a).await,
        Command::Create(a) => resource::create(&ctx, a).await,
        Command::Update(a) => resource::update(&ctx, a).await,
        Command::Delete(a) => resource::delete(&ctx, a).await,
        Command::Realm(c) => realm::run(&ctx, c).await,
        Command::Dev(c) => dev::run(&ctx, c).await,
        Command::Version => version::run(&ctx).await,
        Command::Doctor => doctor::run(&ctx).await,
        Command::Completions(a) => {
            let mut script = Vec::new();
            clap_complete::generate(a.shell, &mut Cli::command(), "cloakroom", &mut script);
            crate::output::write_stdout(&script)
        }
        Command::Manpage(a) => manpage(a.dir),
    }
}

fn manpage(dir: Option<std::path::PathBuf>) -> CliResult {
    let cmd = Cli::command();
    match dir {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .map_err(|e| CliError::other(format!("cannot render the man page: {e}")))?;
            crate::output::write_stdout(&buf)
        }
        Some(d) => {
            std::fs::create_dir_all(&d)
                .map_err(|e| CliError::io(format!("cannot create {}", d.display()), e))?;
            clap_mangen::generate_to(cmd, &d)
                .map_err(|e| CliError::io(format!("cannot write man pages to {}", d.display()), e))
        }
    }
}

/// Reads a body argument: JSON text, `@FILE`, or `-` for standard input.
pub fn read_data_arg(data: &str) -> CliResult<String> {
    if data == "-" {
        crate::secrets::read_stdin("the request body")
    } else if let Some(path) = data.strip_prefix('@') {
        std::fs::read_to_string(path).map_err(|e| CliError::io(format!("cannot read {path}"), e))
    } else {
        Ok(data.to_owned())
    }
}

/// Parses `NAME=VALUE` pairs.
pub fn parse_pairs(items: &[String], what: &str) -> CliResult<Vec<(String, String)>> {
    items
        .iter()
        .map(|q| {
            q.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| CliError::usage(format!("{what} `{q}` is not NAME=VALUE")))
        })
        .collect()
}

/// Reads a JSON or YAML document from a file (`-` for standard input).
pub fn read_document(path: &str) -> CliResult<serde_json::Value> {
    let text = if path == "-" {
        crate::secrets::read_stdin("the document")?
    } else {
        std::fs::read_to_string(path).map_err(|e| CliError::io(format!("cannot read {path}"), e))?
    };
    parse_document(&text, path)
}

pub fn parse_document(text: &str, name: &str) -> CliResult<serde_json::Value> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') || name.ends_with(".json") {
        serde_json::from_str(text)
            .map_err(|e| CliError::usage(format!("malformed JSON in {name}: {e}")))
    } else {
        serde_norway::from_str(text)
            .map_err(|e| CliError::usage(format!("malformed YAML in {name}: {e}")))
    }
}
