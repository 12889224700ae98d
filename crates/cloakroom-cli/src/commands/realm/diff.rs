//! `cloakroom realm diff A B`: two realm documents (files or `live:REALM`), object by object,
//! matched by natural keys.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::doc::{same, sections};
use super::snapshot::Live;
use crate::cli::{DiffArgs, OutputFormat};
use crate::commands::Ctx;
use crate::exit::{CliError, CliResult};

/// Field-level differences between two objects: (path, a, b); absent is `null`.
pub fn field_diffs(a: &Value, b: &Value, prefix: &str, out: &mut Vec<(String, Value, Value)>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                field_diffs(va, vb, &p, out);
            }
        }
        _ if same(a, b) => {}
        _ => out.push((prefix.to_owned(), a.clone(), b.clone())),
    }
}

/// All differences from `a` to `b`.
pub fn diff(a: &Value, b: &Value) -> Vec<Value> {
    let (sa, sb) = (sections(a), sections(b));
    let mut out = Vec::new();
    for (section, ka) in &sa {
        let empty = BTreeMap::new();
        let kb = sb.get(section).unwrap_or(&empty);
        for (key, va) in ka {
            match kb.get(key) {
                None => out.push(json!({"section": section, "key": key, "change": "removed"})),
                Some(vb) => {
                    let mut fields = Vec::new();
                    field_diffs(va, vb, "", &mut fields);
                    if !fields.is_empty() {
                        out.push(json!({
                            "section": section,
                            "key": key,
                            "change": "changed",
                            "fields": fields
                                .into_iter()
                                .map(|(p, x, y)| json!({"field": p, "a": x, "b": y}))
                                .collect::<Vec<_>>(),
                        }));
                    }
                }
            }
        }
        for key in kb.keys().filter(|k| !ka.contains_key(*k)) {
            out.push(json!({"section": section, "key": key, "change": "added"}));
        }
    }
    out
}

/// Keeps only field differences where both sides have a value.
pub fn drop_one_sided_fields(diffs: Vec<Value>) -> Vec<Value> {
    diffs
        .into_iter()
        .filter_map(|mut d| {
            if d["change"] != "changed" {
                return Some(d);
            }
            let kept: Vec<Value> = d["fields"]
                .as_array()
                .map(|f| {
                    f.iter()
                        .filter(|x| !x["a"].is_null() && !x["b"].is_null())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if kept.is_empty() {
                None
            } else {
                d["fields"] = Value::Array(kept);
                Some(d)
            }
        })
        .collect()
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::Null => "(absent)".to_owned(),
        other => other.to_string(),
    };
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(79).collect::<String>())
    } else {
        s
    }
}

/// One line per object, one indented line per field.
pub fn readable(diffs: &[Value], color: bool) -> String {
    let (red, green, yellow, reset) = if color {
        ("\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let mut s = String::new();
    for d in diffs {
        let name = format!(
            "{}/{}",
            d["section"].as_str().unwrap_or(""),
            d["key"].as_str().unwrap_or("")
        );
        match d["change"].as_str() {
            Some("added") => s.push_str(&format!("{green}+ {name}{reset}\n")),
            Some("removed") => s.push_str(&format!("{red}- {name}{reset}\n")),
            _ => {
                s.push_str(&format!("{yellow}~ {name}{reset}\n"));
                for f in d["fields"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    s.push_str(&format!(
                        "    {}: {} → {}\n",
                        f["field"].as_str().unwrap_or(""),
                        short(&f["a"]),
                        short(&f["b"])
                    ));
                }
            }
        }
    }
    s
}

/// A whole live realm as a document (users in memory).
pub async fn live_document(kc: &cloakroom::Client, realm: &str) -> CliResult<Value> {
    let mut live = Live::new(kc, realm, false);
    let mut head = live.head().await.map_err(|e| {
        if e.code == crate::exit::Code::NotFound {
            CliError::not_found(format!("realm `{realm}` not found"))
        } else {
            e
        }
    })?;
    let users = live
        .session
        .all("/users", &[("briefRepresentation", "false")])
        .await?;
    let mut members = live.memberships(8).await?;
    let detailed: Vec<Value> = users
        .into_iter()
        .map(|u| {
            let id = u["id"].as_str().unwrap_or("").to_owned();
            Live::with_membership(u, members.take(&id))
        })
        .collect();
    head.insert("users".into(), Value::Array(detailed));
    Ok(Value::Object(head))
}

async fn load(ctx: &Ctx, src: &str) -> CliResult<Value> {
    match src.strip_prefix("live:") {
        Some(realm) => {
            let (kc, _) = ctx.admin().await?;
            live_document(&kc, realm).await
        }
        None => crate::commands::read_document(src),
    }
}

/// Keeps only differences in what the first document names: no objects or fields that only
/// the second has.
pub fn declared_only(diffs: Vec<Value>) -> Vec<Value> {
    diffs
        .into_iter()
        .filter(|d| d["change"] != "added")
        .filter_map(|mut d| {
            if d["change"] != "changed" {
                return Some(d);
            }
            let kept: Vec<Value> = d["fields"]
                .as_array()
                .map(|f| f.iter().filter(|x| !x["a"].is_null()).cloned().collect())
                .unwrap_or_default();
            if kept.is_empty() {
                return None;
            }
            d["fields"] = Value::Array(kept);
            Some(d)
        })
        .collect()
}

pub async fn run(ctx: &Ctx, a: DiffArgs) -> CliResult {
    let da = load(ctx, &a.a).await?;
    let db = load(ctx, &a.b).await?;
    let mut diffs = diff(&da, &db);
    if a.ignore_defaults {
        diffs = drop_one_sided_fields(diffs);
    }
    if a.declared_only {
        diffs = declared_only(diffs);
    }
    match ctx.out.format {
        OutputFormat::Json | OutputFormat::Yaml if ctx.out.explicit => ctx.out.print(
            &json!({"a": a.a, "b": a.b, "count": diffs.len(), "differences": diffs}),
            &[],
        )?,
        _ => {
            if diffs.is_empty() {
                ctx.out.note("no differences");
            } else {
                crate::output::write_stdout(readable(&diffs, ctx.out.color).as_bytes())?;
                ctx.out.note(format!("{} differences", diffs.len()));
            }
        }
    }
    if a.exit_code && !diffs.is_empty() {
        return Err(CliError::other(format!(
            "{} differences between {} and {}",
            diffs.len(),
            a.a,
            a.b
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_only_ignores_what_the_first_document_leaves_out() {
        let a = json!({"realm": "r", "clients": [{"clientId": "app", "enabled": true}]});
        let b = json!({"realm": "r", "displayName": "x",
            "clients": [{"clientId": "app", "enabled": false, "extra": 1}, {"clientId": "other"}]});
        let d = declared_only(diff(&a, &b));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0]["key"], "app");
        assert_eq!(d[0]["fields"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn diff_matches_by_natural_keys() {
        let a = json!({"realm": "a", "enabled": true,
            "clients": [{"clientId": "app", "redirectUris": ["x", "y"]}, {"clientId": "gone"}],
            "groups": [{"name": "g", "subGroups": [{"name": "s", "attributes": {"k": ["1"]}}]}],
            "users": [{"username": "u", "enabled": true}]});
        let b = json!({"realm": "a", "enabled": false,
            "clients": [{"clientId": "app", "redirectUris": ["y", "x"]}],
            "groups": [{"name": "g", "subGroups": [{"name": "s", "attributes": {"k": ["2"]}}]}],
            "users": [{"username": "u", "enabled": true}, {"username": "v"}]});
        let d = diff(&a, &b);
        let names: Vec<String> = d
            .iter()
            .map(|x| {
                format!(
                    "{} {}/{}",
                    x["change"].as_str().unwrap(),
                    x["section"].as_str().unwrap(),
                    x["key"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(
            names,
            [
                "removed clients/gone",
                "changed groups//g/s",
                "changed realm/settings",
                "added users/v"
            ]
        );
        assert!(diff(&a, &a).is_empty());
        let text = readable(&d, false);
        assert!(
            text.contains("~ realm/settings\n    enabled: true → false\n"),
            "{text}"
        );
    }
}
