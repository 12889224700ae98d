//! One fixture: import it natively into A, apply it into B (exists, empty) and C (does not
//! exist), compare, plan again; every difference as a line
//! `fixture / path / kind / key / what differs`.

use std::process::Output;

use serde_json::{Value, json};

use super::admin::{Admin, seg};
use super::compare::{Declared, Kept, compare};
use super::document::{Fixture, fresh_ids, renamed};
use super::normalise::IdNames;
use super::snapshot::{self, Kinds};
use crate::support::{Env, Realm, unique};

pub fn judge(env: &Env, admin: &Admin, f: &Fixture) -> Vec<String> {
    let t0 = std::time::Instant::now();
    let base = unique("orc");
    let (a, b, c) = (
        format!("{base}-a"),
        format!("{base}-b"),
        format!("{base}-c"),
    );
    // Guards first: the realms go away even when this panics.
    let _ga = Realm {
        env,
        name: a.clone(),
    };
    let _gb = Realm {
        env,
        name: b.clone(),
    };
    let _gc = Realm {
        env,
        name: c.clone(),
    };
    import_natively(admin, f, &a);
    admin
        .post("", &json!({"realm": b}))
        .unwrap_or_else(|e| panic!("oracle: creating the empty realm {b}: {e}"));

    let mut lines = Vec::new();
    let mut line = |path: &str, kind: &str, key: &str, what: &str| {
        lines.push(format!("{} / {path} / {kind} / {key} / {what}", f.name));
    };
    let declared = Declared::of(&f.doc);
    let t = std::time::Instant::now();
    let mut phases = vec![format!("import {:.1}", t0.elapsed().as_secs_f64())];
    let want = snapshot::read(admin, &a, &f.passwords, &f.text);
    phases.push(format!("read A {:.1}", t.elapsed().as_secs_f64()));
    // What the empty realm B holds before the apply: Keycloak's defaults, which apply keeps.
    let before = snapshot::read(admin, &b, &f.passwords, &f.text);
    for (path, target) in [("update", &b), ("create", &c)] {
        let t = std::time::Instant::now();
        let out = cli(env, f, target, false);
        phases.push(format!("apply {path} {:.1}", t.elapsed().as_secs_f64()));
        for (key, what) in apply_problems(&out, target) {
            line(path, "apply", &key, &what);
        }
        if admin.get(&format!("/{}", seg(target))).is_err() {
            line(path, "realm", "(realm)", "not created");
            continue;
        }
        let t = std::time::Instant::now();
        let got: Kinds = snapshot::read(admin, target, &f.passwords, &f.text);
        phases.push(format!("read {:.1}", t.elapsed().as_secs_f64()));
        let mut kept = Kept {
            before: &before,
            count: 0,
        };
        let update = path == "update";
        for (kind, key, what) in compare(&want, &got, &declared, update.then_some(&mut kept)) {
            line(path, &kind, &key, &what);
        }
        if update {
            phases.push(format!("{} kept from before", kept.count));
        }
        let t = std::time::Instant::now();
        let plan = cli(env, f, target, true);
        phases.push(format!("plan {:.1}", t.elapsed().as_secs_f64()));
        for (key, what) in plan_problems(&plan, target) {
            line(path, "plan", &key, &what);
        }
    }
    eprintln!("oracle: {}: {} s", f.name, phases.join(", "));
    lines
}

/// `POST /admin/realms` with F renamed to `a`; with fresh ids when F's are taken.
fn import_natively(admin: &Admin, f: &Fixture, a: &str) {
    let doc = renamed(&f.doc, a);
    match admin.post("", &doc) {
        Ok(()) => {}
        Err(e) if e.status == 409 => {
            eprintln!(
                "oracle: {}: the server holds its ids already ({e}); importing with fresh ids",
                f.name
            );
            admin.delete(&format!("/{}", seg(a)));
            admin
                .post("", &fresh_ids(&doc))
                .unwrap_or_else(|e| panic!("oracle: Keycloak's importer refused {}: {e}", f.name));
        }
        Err(e) => panic!("oracle: Keycloak's importer refused {}: {e}", f.name),
    }
}

fn cli(env: &Env, f: &Fixture, target: &str, plan: bool) -> Output {
    let mut args = vec!["--output", "json", "realm", "apply"];
    let path = f.path.to_str().expect("UTF-8 fixture path");
    args.extend([path, "--into", target]);
    if plan {
        args.push("--plan");
    }
    env.admin().args(&args).output().expect("run cloakroom")
}

/// A message made comparable across runs: the realm's name as `{realm}`, ids as `<id>`.
fn stable(s: &str, realm: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    IdNames::default()
        .rewrite_str(&one_line, realm)
        .replace("<unknown id>", "<id>")
}

fn summary(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn first_error(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    lines
        .iter()
        .find(|l| l.to_lowercase().contains("error"))
        .or(lines.first())
        .map(|l| l.to_string())
        .unwrap_or_else(|| "(no message)".into())
}

fn action_key(a: &Value) -> String {
    format!(
        "{}/{}",
        a["section"].as_str().unwrap_or("?"),
        a["key"].as_str().unwrap_or("?")
    )
}

/// A failed run as `(exit)`: its exit code and first error line.
fn exit_problem(out: &Output, realm: &str) -> Vec<(String, String)> {
    if out.status.success() {
        return Vec::new();
    }
    let code = out.status.code().unwrap_or(-1);
    let line = stable(&first_error(out), realm);
    vec![("(exit)".into(), format!("exit {code}: {line}"))]
}

/// The exit status and every failed change of an apply.
fn apply_problems(out: &Output, realm: &str) -> Vec<(String, String)> {
    let mut v = exit_problem(out, realm);
    for a in summary(out)["actions"].as_array().into_iter().flatten() {
        if a["action"] == "failed" {
            let e = a["error"].as_str().unwrap_or("");
            v.push((
                stable(&action_key(a), realm),
                format!("failed: {}", stable(e, realm)),
            ));
        }
    }
    v
}

/// Everything a plan right after the apply still wants to do.
fn plan_problems(out: &Output, realm: &str) -> Vec<(String, String)> {
    let mut v = exit_problem(out, realm);
    let s = summary(out);
    for a in s["actions"].as_array().into_iter().flatten() {
        let action = a["action"].as_str().unwrap_or("?");
        if action == "unchanged" {
            continue;
        }
        let fields: Vec<&str> = a["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let detail = a["error"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or(fields.join(", "));
        v.push((
            stable(&action_key(a), realm),
            stable(&format!("would {action}: {detail}"), realm),
        ));
    }
    // The counts as well, so that a plan whose actions are not listed still shows.
    for (k, n) in s.as_object().into_iter().flatten() {
        // `objects` is the document's object count, not something to do.
        if k != "unchanged" && k != "objects" && n.as_u64().is_some_and(|n| n > 0) {
            v.push(("(summary)".into(), format!("{k} {n}")));
        }
    }
    // A plan the oracle cannot read never counts as empty.
    if out.status.success() && !s["actions"].is_array() {
        let keys: Vec<&String> = s
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        v.push((
            "(output)".into(),
            format!("no `actions` list in the JSON summary (keys: {keys:?})"),
        ));
    }
    v
}
