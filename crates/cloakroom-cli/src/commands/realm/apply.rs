//! `cloakroom realm apply FILE [--plan] [--continue-on-error]`: make a live realm contain what
//! a realm document describes. Objects are matched by natural keys; only fields the document
//! states are compared, so a second run changes nothing. Nothing is deleted: objects the live
//! realm has beyond the document stay (role and group memberships named in the document are
//! made exact, though, and so are a client's authorization settings, the texts of each locale
//! the document lists, and the members and identity providers of each organization it lists).
//!
//! A realm that does not exist yet is created by Keycloak's own full import (`POST
//! /admin/realms`) of the document without its users, after every server id in it is given a
//! fresh UUID (so a file exported from a realm on the same server imports beside it); the
//! users, and then everything the import left different, are applied as on an existing realm.

use cloakroom::request::Method;
use serde_json::Value;

use super::doc::{check, fresh_ids, objects, rename_realm, sections};
use super::execute::{Options, Run, summary};
use super::kinds::Cx;
use super::session::Session;
use super::snapshot::{clean_flow, strip};
use super::source::{self, Redact};
use crate::cli::{ApplyArgs, OutputFormat};
use crate::commands::Ctx;
use crate::exit::{CliError, CliResult};

/// Reads (and merges) the files, substitutes when asked, checks and renames the document: every
/// object must be keyable. Also returns the masking of substituted values.
fn load(a: &ApplyArgs) -> CliResult<(Value, String, Redact)> {
    let files = source::files(&a.file)?;
    let path = files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(", ");
    let mut doc = Value::Object(Default::default());
    for f in &files {
        let name = f.to_string_lossy();
        let next = crate::commands::read_document(&name)?;
        source::merge(&mut doc, next, &name)?;
    }
    let redact = if a.substitute {
        let base = a.file[0]
            .parent()
            .filter(|_| !a.file[0].is_dir())
            .map(std::path::Path::to_path_buf)
            .unwrap_or_else(|| a.file[0].clone());
        Redact::new(source::substitute(&mut doc, &base)?)
    } else {
        Redact::new(Vec::new())
    };
    let source = doc["realm"]
        .as_str()
        .ok_or_else(|| CliError::usage(format!("{path}: `realm` must be a string")))?
        .to_owned();
    let problems = check(&doc);
    if !problems.is_empty() {
        let mut e = CliError::usage(format!(
            "{path}: {} object(s) cannot be applied; nothing was changed",
            problems.len()
        ));
        for p in problems {
            e = e.with_detail(p);
        }
        return Err(e);
    }
    let target = a.into.clone().unwrap_or_else(|| source.clone());
    if target != source {
        doc = rename_realm(&doc, &source, &target)?;
    }
    Ok((doc, target, redact))
}

/// The document's sections with server-assigned fields removed from every object.
fn desired(doc: &Value) -> super::doc::Sections {
    let mut s = sections(doc);
    for (name, items) in s.iter_mut() {
        for v in items.values_mut() {
            match *name {
                "realm" => {}
                "authenticationFlows" => clean_flow(v),
                _ => strip(v),
            }
        }
    }
    if let Some(Value::Object(m)) = s.get_mut("realm").and_then(|r| r.get_mut("settings")) {
        m.remove("id");
    }
    s
}

pub async fn run(ctx: &Ctx, a: ApplyArgs) -> CliResult {
    let (doc, target, redact) = load(&a)?;
    apply(ctx, &a, &doc, &target, &redact)
        .await
        .map_err(|e| redact.error(e))
}

async fn apply(ctx: &Ctx, a: &ApplyArgs, doc: &Value, target: &str, redact: &Redact) -> CliResult {
    let (doc, target) = (doc.clone(), target.to_owned());
    super::prune::check_kinds(&a.prune)?;
    let want = desired(&doc);
    let (kc, _) = ctx.admin().await?;
    let s = Session::new(&kc, &target);
    let exists = s.exists().await?;
    let opts = Options {
        plan: a.plan,
        continue_on_error: a.continue_on_error,
        parallel: usize::from(a.parallel),
    };
    let cx = Cx {
        desired: &want,
        realm: &target,
        reset_passwords: a.reset_passwords,
        exact_attributes: a.exact_attributes,
    };
    let mut run = Run::new(s, opts, exists);
    let deletes = match run.plan_deletes(&cx, &a.prune, a.max_deletes).await {
        Ok(d) => d,
        Err(e) => {
            report(ctx, &run, &summary(&run, &[]), redact)?;
            return Err(e);
        }
    };
    if !exists && !a.plan {
        import(&run.s, &doc).await?;
        run.exists = true;
    }
    run.created_realm = !exists;
    run.all(&cx).await;
    run.deletes(deletes).await;
    let mut objs = objects(&want);
    for o in objs.iter_mut().filter(|o| o.0 == "realm") {
        o.1 = target.clone();
    }
    if let Some(m) = want["realm"]["settings"]["localizationTexts"].as_object() {
        objs.extend(
            m.keys()
                .map(|l| ("localizationTexts".to_owned(), l.clone())),
        );
    }
    let sum = summary(&run, &objs);
    report(ctx, &run, &sum, redact)?;
    if let Some(e) = run.stop {
        return Err(e);
    }
    let n = |k: &str| sum[k].as_u64().unwrap_or(0);
    if n("failed") > 0 {
        return Err(CliError::other(format!("{} objects failed", n("failed"))));
    }
    if n("unsupported") > 0 && !a.allow_unsupported {
        return Err(CliError::other(format!(
            "{} objects have parts apply cannot carry (listed as `not applied`)",
            n("unsupported")
        ))
        .with_hint("pass --allow-unsupported to accept that"));
    }
    Ok(())
}

/// Creates the realm with Keycloak's own importer: everything but the users (they follow one
/// by one), organization members and authorization settings (they can name users).
async fn import(s: &Session, doc: &Value) -> CliResult {
    let mut body = doc.clone();
    if let Some(Value::Array(users)) = body.get_mut("users") {
        users.retain(|u| u.get("serviceAccountClientId").is_some());
    }
    for o in body["organizations"].as_array_mut().into_iter().flatten() {
        if let Some(m) = o.as_object_mut() {
            m.remove("members");
        }
    }
    for c in body["clients"].as_array_mut().into_iter().flatten() {
        if let Some(m) = c.as_object_mut() {
            m.remove("authorizationSettings");
        }
    }
    // The document's default role is the realm's (Keycloak would otherwise make its own, named
    // `default-roles-<realm>-1` beside the document's).
    let default_role = format!("default-roles-{}", s.realm.to_lowercase());
    let listed = body["roles"]["realm"]
        .as_array()
        .is_some_and(|a| a.iter().any(|r| r["name"] == default_role.as_str()));
    if body.get("defaultRole").is_none() && listed {
        body["defaultRole"] = serde_json::json!({ "name": default_role });
    }
    // Without a version Keycloak takes the file for an old one and migrates it (adding, for
    // instance, claims to protocol mappers): say it is this server's own.
    if body.get("keycloakVersion").is_none() {
        let info = s.kc.server_info().get().send().await?;
        if let Some(v) = info.system_info.and_then(|i| i.version) {
            body["keycloakVersion"] = Value::String(v);
        }
    }
    fresh_ids(&mut body);
    // The operation of `kc.realms().create`, with the document's own JSON as the body: a
    // round trip through `RealmRepresentation` could reshape what Keycloak's importer reads.
    s.kc.operation(Method::Post, "/admin/realms")
        .json(&body)
        .send()
        .await
        .map_err(|e| {
            CliError::from(e).context(format!(
                "creating realm `{}` with Keycloak's import; nothing was created",
                s.realm
            ))
        })?;
    Ok(())
}

fn report(ctx: &Ctx, run: &Run, sum: &Value, redact: &Redact) -> CliResult {
    if ctx.out.explicit && matches!(ctx.out.format, OutputFormat::Json | OutputFormat::Yaml) {
        let mut sum = sum.clone();
        redact.json(&mut sum);
        return ctx.out.print(&sum, &[]);
    }
    if ctx.out.quiet && !run.opts.plan {
        return Ok(());
    }
    for c in run.merged() {
        for l in c.lines() {
            crate::output::line(redact.text(&l))?;
        }
    }
    let verb = if run.opts.plan { "would" } else { "did" };
    let mut line = format!(
        "realm `{}`: {verb} create {}, update {}, {} unchanged, {} failed",
        run.s.realm, sum["created"], sum["updated"], sum["unchanged"], sum["failed"]
    );
    if sum["deleted"] != 0 {
        line.push_str(&format!(", {} deleted", sum["deleted"]));
    }
    if sum["unsupported"] != 0 {
        line.push_str(&format!(", {} not fully applied", sum["unsupported"]));
    }
    eprintln!("{line}");
    if sum["notAttempted"] != 0 {
        eprintln!(
            "{} objects were not attempted after the error",
            sum["notAttempted"]
        );
    }
    Ok(())
}
