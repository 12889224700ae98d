//! Where `realm apply` reads its document: one file, several files, or directories of them
//! (`*.json`, `*.yaml`, `*.yml`, in name order), merged into one document; and the optional
//! `${env:NAME}` / `${file:PATH}` substitution in string values, whose values are then masked in
//! everything apply prints.
//!
//! Merging: objects merge key by key, lists are concatenated (so each file can bring its own
//! users, clients, …; an object named twice is then reported by the document check, naming
//! both places), and any other value of a later file replaces the earlier one, except `realm`,
//! which every file that states it must state alike.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::exit::{CliError, CliResult};

/// The files to read, in order: each path as given, a directory as its realm files sorted by
/// name (not recursively).
pub fn files(paths: &[PathBuf]) -> CliResult<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" || !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p)
            .map_err(|e| CliError::io(format!("cannot read directory {}", p.display()), e))?;
        let mut found: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|f| f.is_file() && is_realm_file(f))
            .collect();
        found.sort();
        if found.is_empty() {
            return Err(CliError::usage(format!(
                "{}: no *.json, *.yaml or *.yml file in this directory",
                p.display()
            )));
        }
        out.extend(found);
    }
    Ok(out)
}

fn is_realm_file(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|x| x.to_str()),
        Some("json" | "yaml" | "yml")
    )
}

/// Merges `next` (read from `name`) into `into`.
pub fn merge(into: &mut Value, next: Value, name: &str) -> CliResult {
    if !(into.is_object() && next.is_object()) {
        return Err(CliError::usage(format!(
            "{name} is not a realm document (expected an object)"
        )));
    }
    if let (Some(x), Some(y)) = (into["realm"].as_str(), next["realm"].as_str())
        && x != y
    {
        return Err(CliError::usage(format!(
            "{name} is for realm `{y}`, an earlier file for `{x}`: files applied together \
             must name one realm"
        )));
    }
    merge_objects(into, next);
    Ok(())
}

fn merge_objects(into: &mut Value, next: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, next) {
        for (k, v) in b {
            match (a.get_mut(&k), v) {
                (Some(Value::Array(x)), Value::Array(y)) => x.extend(y),
                (Some(x @ Value::Object(_)), y @ Value::Object(_)) => merge_objects(x, y),
                (_, y) => {
                    a.insert(k, y);
                }
            }
        }
    }
}

/// Replaces `${env:NAME}` and `${file:PATH}` in every string value of `doc` (keys are left as
/// they are); `$${` stands for a literal `${`. Returns the values put in, to be masked in
/// output. A variable that is not set, or a file that cannot be read, is an error naming where
/// in the document it is asked for.
pub fn substitute(doc: &mut Value, base: &Path) -> CliResult<Vec<String>> {
    let mut used = Vec::new();
    walk(doc, "", base, &mut used)?;
    used.sort();
    used.dedup();
    Ok(used)
}

fn walk(v: &mut Value, at: &str, base: &Path, used: &mut Vec<String>) -> CliResult {
    match v {
        Value::String(s) if s.contains("${") => *s = expand(s, at, base, used)?,
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                walk(x, &format!("{at}[{i}]"), base, used)?;
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                let here = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                walk(x, &here, base, used)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn expand(s: &str, at: &str, base: &Path, used: &mut Vec<String>) -> CliResult<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            // `$${` is a literal `${`.
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let inner = &after[..end];
        let value = match inner.split_once(':') {
            Some(("env", name)) => std::env::var(name).map_err(|_| {
                CliError::usage(format!(
                    "{at}: environment variable `{name}` is not set (asked for by ${{env:{name}}})"
                ))
            })?,
            Some(("file", path)) => {
                let p = base.join(path);
                let text = std::fs::read_to_string(&p).map_err(|e| {
                    CliError::io(
                        format!("{at}: cannot read {} (${{file:{path}}})", p.display()),
                        e,
                    )
                })?;
                text.trim_end_matches(['\n', '\r']).to_owned()
            }
            // Keycloak's own placeholders (`${username}`, `${vault.x}`) stay as they are.
            _ => {
                out.push_str(&rest[i..i + 2 + end + 1]);
                rest = &after[end + 1..];
                continue;
            }
        };
        used.push(value.clone());
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Masks substituted values in text apply prints (values shorter than 4 characters are left:
/// masking them would hide ordinary words).
pub struct Redact(Vec<String>);

impl Redact {
    pub fn new(mut values: Vec<String>) -> Self {
        values.retain(|v| v.chars().count() >= 4);
        // Longest first, so a value that contains another is masked whole.
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        Redact(values)
    }

    pub fn text(&self, s: &str) -> String {
        let mut out = s.to_owned();
        for v in &self.0 {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "(substituted)");
            }
        }
        out
    }

    /// The error with substituted values masked in every line of it.
    pub fn error(&self, mut e: CliError) -> CliError {
        e.message = self.text(&e.message);
        for d in e.details.iter_mut() {
            *d = self.text(d);
        }
        e.hint = e.hint.map(|h| self.text(&h));
        e
    }

    pub fn json(&self, v: &mut Value) {
        match v {
            Value::String(s) => *s = self.text(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.json(x)),
            Value::Object(m) => m.values_mut().for_each(|x| self.json(x)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn files_merge_lists_and_objects_and_must_agree_on_the_realm() {
        let mut d = json!({"realm": "r", "users": [{"username": "a"}], "attributes": {"x": "1"}});
        merge(
            &mut d,
            json!({"realm": "r", "users": [{"username": "b"}], "attributes": {"y": "2"},
                   "displayName": "R"}),
            "b.json",
        )
        .unwrap();
        assert_eq!(d["users"], json!([{"username": "a"}, {"username": "b"}]));
        assert_eq!(d["attributes"], json!({"x": "1", "y": "2"}));
        assert_eq!(d["displayName"], "R");
        let e = merge(&mut d, json!({"realm": "other"}), "c.json").unwrap_err();
        assert!(e.to_string().contains("c.json is for realm `other`"), "{e}");
    }

    #[test]
    fn env_and_file_values_are_put_in_and_keycloak_placeholders_stay() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("secret.txt"), "s3cr3t-from-file\n").unwrap();
        // Set by cargo for every test run.
        let pkg = std::env::var("CARGO_PKG_NAME").unwrap();
        let mut d = json!({"clients": [{"secret": "${file:secret.txt}",
            "description": "${env:CARGO_PKG_NAME} and ${username} and $${env:X}"}]});
        let used = substitute(&mut d, dir.path()).unwrap();
        assert_eq!(d["clients"][0]["secret"], "s3cr3t-from-file");
        assert_eq!(
            d["clients"][0]["description"],
            format!("{pkg} and ${{username}} and ${{env:X}}")
        );
        assert_eq!(used, [pkg, "s3cr3t-from-file".to_owned()]);
        let r = Redact::new(used);
        assert_eq!(r.text("secret: s3cr3t-from-file"), "secret: (substituted)");
        let mut missing = json!({"users": [{"email": "${env:CLOAKROOM_TEST_UNSET_VAR}"}]});
        let e = substitute(&mut missing, dir.path()).unwrap_err();
        assert!(e.to_string().contains("users[0].email"), "{e}");
    }

    #[test]
    fn a_directory_is_its_realm_files_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["20-users.yaml", "10-realm.json", "notes.txt"] {
            std::fs::write(dir.path().join(n), "{}").unwrap();
        }
        let got = files(&[dir.path().to_path_buf()]).unwrap();
        let names: Vec<_> = got
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["10-realm.json", "20-users.yaml"]);
    }
}
