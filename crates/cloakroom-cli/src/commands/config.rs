//! `cloakroom config set|get|list|use|delete|path`.

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::cli::ConfigCmd;
use crate::config::{ConfigFile, config_dir, profile_name};
use crate::exit::{CliError, CliResult};

pub fn run(ctx: &Ctx, cmd: ConfigCmd) -> CliResult {
    let dir = config_dir()?;
    let mut file = ConfigFile::load(&dir)?;
    let name = profile_name(&ctx.g, &file);
    match cmd {
        ConfigCmd::Set { key, value } => {
            let first = file.profiles.is_empty();
            let p = file.profiles.entry(name.clone()).or_default();
            p.set(&key, &value)?;
            if first && file.current.is_none() {
                file.current = Some(name.clone());
            }
            file.save(&dir)?;
            ctx.out.note(format!("profile `{name}`: {key} set"));
            Ok(())
        }
        ConfigCmd::Get { key } => {
            let p = file
                .profiles
                .get(&name)
                .ok_or_else(|| CliError::not_found(format!("no profile named `{name}`")))?;
            match p.get(&key)? {
                Some(v) => crate::output::line(v),
                None => Err(CliError::not_found(format!(
                    "`{key}` is not set in profile `{name}`"
                ))),
            }
        }
        ConfigCmd::List => {
            let rows: Vec<Value> = file
                .profiles
                .iter()
                .map(|(n, p)| {
                    let mut m = Map::new();
                    m.insert("name".into(), json!(n));
                    m.insert("current".into(), json!(file.current.as_deref() == Some(n)));
                    if let Value::Object(fields) = serde_json::to_value(p).unwrap_or(Value::Null) {
                        m.extend(fields);
                    }
                    Value::Object(m)
                })
                .collect();
            ctx.out.print(
                &Value::Array(rows),
                &[
                    "name",
                    "current",
                    "server",
                    "auth-realm",
                    "realm",
                    "client-id",
                    "user",
                ],
            )
        }
        ConfigCmd::Use { name } => {
            if !file.profiles.contains_key(&name) {
                return Err(CliError::not_found(format!("no profile named `{name}`")));
            }
            file.current = Some(name.clone());
            file.save(&dir)?;
            ctx.out.note(format!("now using profile `{name}`"));
            Ok(())
        }
        ConfigCmd::Delete { name } => {
            if file.profiles.remove(&name).is_none() {
                return Err(CliError::not_found(format!("no profile named `{name}`")));
            }
            if file.current.as_deref() == Some(name.as_str()) {
                file.current = None;
            }
            file.save(&dir)?;
            let (sessions, lock) = crate::auth::profile_tokens(&dir, &name);
            let _ = std::fs::remove_dir_all(&sessions);
            let _ = std::fs::remove_file(lock);
            // The single-file cache of earlier versions.
            let mut legacy = sessions.into_os_string();
            legacy.push(".json");
            let _ = std::fs::remove_file(legacy);
            ctx.out.note(format!("deleted profile `{name}`"));
            Ok(())
        }
        ConfigCmd::Path => crate::output::line(dir.display()),
    }
}
