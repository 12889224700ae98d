//! The library's floor plan: every top-level module of `src/` sits on a layer, and no file
//! may name (`crate::x…`, `use crate::{x, …}`) a module on a higher layer. `lib.rs` is exempt:
//! its re-exports are the public API's paths, not dependencies.
//!
//! Lowest first. Modules on one layer may use each other.
const LAYERS: &[&[&str]] = &[
    // Foundations: errors, secrets, the request/response model, retry policy.
    &["error", "secret", "request", "retry"],
    // Pure helpers with no I/O: signing keys, JWT/JWK, the clock type.
    &["jose", "clock"],
    // HTTP, knowing nothing of tokens.
    &["transport"],
    // Credentials and the token manager.
    &["auth"],
    // The client handle, the raw escape hatch, the blocking wrapper, version gating.
    &["client", "raw", "blocking", "served"],
    // Everything built on a client.
    &["generated", "server_version", "admin", "oidc"],
    &["uma"],
];

use std::path::{Path, PathBuf};

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The top-level module a file under `src/` belongs to.
fn owner(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("non-empty");
    let s = first.as_os_str().to_string_lossy();
    s.trim_end_matches(".rs").to_owned()
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("readable src") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Every top-level module named after `crate::` in `text`, including inside `use crate::{a, b}`.
fn imports(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let after = &rest[i + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    found.push(name);
                }
            } else {
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.push(name);
            }
            rest = &code[code.len() - after.len()..];
        }
    }
    found
}

fn violations(src: &Path) -> Vec<String> {
    let mut all = Vec::new();
    files(src, &mut all);
    all.sort();
    let mut bad = Vec::new();
    for f in all {
        let from = owner(src, &f);
        if from == "lib" {
            continue;
        }
        let Some(from_layer) = layer_of(&from) else {
            bad.push(format!("{}: module `{from}` is on no layer", f.display()));
            continue;
        };
        let text = std::fs::read_to_string(&f).expect("readable file");
        for to in imports(&text) {
            // Items re-exported at the crate root (`crate::Client`, `crate::Result`) name
            // their defining module's layer.
            let to = match to.as_str() {
                "Client" | "ClientBuilder" => "client".to_owned(),
                "Result" | "Error" => "error".to_owned(),
                "Secret" => "secret".to_owned(),
                "SigningKey" => "jose".to_owned(),
                "ClientAuth" | "Credentials" | "Otp" | "TokenProvider" | "TokenSet"
                | "TokenStats" => "auth".to_owned(),
                "Clock" => "clock".to_owned(),
                "Exchange" | "Observer" => "transport".to_owned(),
                "RetryPolicy" => "retry".to_owned(),
                _ => to,
            };
            match layer_of(&to) {
                Some(l) if l > from_layer => bad.push(format!(
                    "{}: `{from}` (layer {from_layer}) imports `{to}` (layer {l})",
                    f.display()
                )),
                Some(_) => {}
                None if to.chars().next().is_some_and(char::is_uppercase) => bad.push(format!(
                    "{}: `crate::{to}` is a root re-export this test does not place",
                    f.display()
                )),
                None => {}
            }
        }
    }
    bad
}

#[test]
fn no_import_runs_upward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let bad = violations(&src);
    assert!(bad.is_empty(), "upward imports:\n{}", bad.join("\n"));
}

#[test]
fn every_module_is_on_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    for f in all {
        let m = owner(&src, &f);
        assert!(m == "lib" || layer_of(&m).is_some(), "`{m}` has no layer");
    }
}

#[test]
fn the_parser_sees_grouped_and_inline_paths() {
    let got = imports("use crate::{auth::X, client};\nlet a = crate::oidc::f(); // crate::uma");
    assert_eq!(got, ["auth", "client", "oidc"]);
}
