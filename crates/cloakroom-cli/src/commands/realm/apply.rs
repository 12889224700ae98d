//! `cloakroom realm apply FILE [--plan] [--continue-on-error]`: make a live realm contain what
//! a realm document describes. Objects are matched by natural keys; only fields the document
//! states are compared, so a second run changes nothing. Nothing is deleted: objects the live
//! realm has beyond the document stay (role and group memberships named in the document are
//! made exact, though, and so are a client's authorization settings, the texts of each locale
//! the document lists, and the members and identity providers of each organization it lists).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cloakroom::Client;
use cloakroom::request::{Method, encode_segment};
use serde_json::{Map, Value, json};

use super::diff::{COLLECTIONS, same, sections};
use super::snapshot::{Live, strip};
use crate::cli::{ApplyArgs, OutputFormat};
use crate::commands::Ctx;
use crate::commands::resource::{list_all, merge_patch};
use crate::exit::{CliError, CliResult};

const FLOW_BINDINGS: &[&str] = &[
    "browserFlow",
    "registrationFlow",
    "directGrantFlow",
    "resetCredentialsFlow",
    "clientAuthenticationFlow",
    "dockerAuthenticationFlow",
    "firstBrokerLoginFlow",
];

/// Realm settings applied through their own endpoints, not the realm's PUT.
const REALM_SEPARATE: &[&str] = &["localizationTexts"];

/// Fields of `desired` whose value differs from `live` (absent in `live` counts as different).
pub fn changed_fields(desired: &Value, live: &Value, prefix: &str, skip: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    if let (Value::Object(d), Value::Object(l)) = (desired, live) {
        for (k, dv) in d {
            if skip.contains(&k.as_str()) {
                continue;
            }
            let p = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match (dv, l.get(k)) {
                (Value::Object(_), Some(lv @ Value::Object(_))) => {
                    out.extend(changed_fields(dv, lv, &p, &[]))
                }
                (_, Some(lv)) if same(dv, lv) => {}
                (Value::Null, None) => {}
                _ => out.push(p),
            }
        }
    } else if !same(desired, live) {
        out.push(prefix.to_owned());
    }
    out
}

fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        for k in keys {
            m.remove(*k);
        }
    }
    v
}

/// Replaces the source realm's name where Keycloak embeds it (URLs and the default role).
pub fn rename_realm(doc: &Value, from: &str, to: &str) -> CliResult<Value> {
    let mut text = serde_json::to_string(doc).map_err(|e| CliError::other(e.to_string()))?;
    text = text.replace(&format!("/realms/{from}/"), &format!("/realms/{to}/"));
    for f in [from.to_owned(), from.to_lowercase()] {
        text = text.replace(
            &format!("\"default-roles-{f}\""),
            &format!("\"default-roles-{}\"", to.to_lowercase()),
        );
    }
    let mut v: Value = serde_json::from_str(&text).map_err(|e| CliError::other(e.to_string()))?;
    v["realm"] = Value::String(to.to_owned());
    Ok(v)
}

struct Applier<'a> {
    kc: &'a Client,
    realm: String,
    base: String,
    plan: bool,
    continue_on_error: bool,
    actions: Vec<Value>,
    failures: usize,
    unchanged: usize,
    /// clientId → internal id.
    clients: BTreeMap<String, String>,
}

impl Applier<'_> {
    fn path(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    async fn get(&self, p: &str) -> CliResult<Value> {
        Ok(self
            .kc
            .raw()
            .get(self.path(p))
            .realm(&self.realm)
            .send_json()
            .await?)
    }

    async fn send(
        &self,
        method: Method,
        p: &str,
        body: Option<&Value>,
    ) -> CliResult<Option<String>> {
        let mut call = self.kc.raw().call(method, self.path(p)).realm(&self.realm);
        if let Some(b) = body {
            call = call.json(b);
        }
        let r = call.send().await?;
        Ok(r.location()
            .and_then(|l| l.rsplit('/').next())
            .map(str::to_owned))
    }

    fn record(&mut self, section: &str, key: &str, action: &str, fields: Vec<String>) {
        self.actions.push(json!({
            "section": section, "key": key, "action": action, "fields": fields,
        }));
    }

    /// Records a failure; stops unless `--continue-on-error`.
    fn fail(&mut self, section: &str, key: &str, e: CliError) -> CliResult {
        self.failures += 1;
        self.actions.push(json!({
            "section": section, "key": key, "action": "failed", "error": e.message,
            "details": e.details,
        }));
        if self.continue_on_error {
            Ok(())
        } else {
            Err(e.context(format!("{section}/{key}")))
        }
    }

    async fn refresh_clients(&mut self) -> CliResult {
        let all = list_all(self.kc, &self.path("/clients"), &[], None).await?;
        self.clients = all
            .iter()
            .filter_map(|c| {
                Some((
                    c["clientId"].as_str()?.to_owned(),
                    c["id"].as_str()?.to_owned(),
                ))
            })
            .collect();
        Ok(())
    }

    async fn scope_ids(&self) -> CliResult<BTreeMap<String, String>> {
        let v = self.get("/client-scopes").await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| {
                        Some((s["name"].as_str()?.to_owned(), s["id"].as_str()?.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn client_path(&self, client_id: &str) -> CliResult<String> {
        self.clients
            .get(client_id)
            .map(|id| format!("/clients/{}", encode_segment(id)))
            .ok_or_else(|| CliError::not_found(format!("no client `{client_id}`")))
    }

    /// The representation of a role: realm role, or client role of `client`.
    async fn role(&self, client: Option<&str>, name: &str) -> CliResult<Value> {
        let p = match client {
            None => format!("/roles/{}", encode_segment(name)),
            Some(c) => format!("{}/roles/{}", self.client_path(c)?, encode_segment(name)),
        };
        self.get(&p).await
    }

    /// Makes a mapping collection exactly `wanted` (role names) via POST/DELETE on `path`.
    async fn sync_roles(
        &mut self,
        section: &str,
        key: &str,
        path: &str,
        client: Option<&str>,
        current: &[Value],
        wanted: &[String],
    ) -> CliResult {
        let have: BTreeSet<String> = current
            .iter()
            .filter_map(|r| r["name"].as_str().map(str::to_owned))
            .collect();
        let want: BTreeSet<String> = wanted.iter().cloned().collect();
        let add: Vec<&String> = want.difference(&have).collect();
        let remove: Vec<&String> = have.difference(&want).collect();
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let what = format!(
            "roles{}: +{:?} -{:?}",
            client.map(|c| format!(" of {c}")).unwrap_or_default(),
            add,
            remove
        );
        self.record(section, key, "update", vec![what]);
        if self.plan {
            return Ok(());
        }
        let mut reps = Vec::new();
        for n in &add {
            reps.push(self.role(client, n).await?);
        }
        if !reps.is_empty() {
            self.send(Method::Post, path, Some(&Value::Array(reps)))
                .await?;
        }
        let gone: Vec<Value> = current
            .iter()
            .filter(|r| {
                r["name"]
                    .as_str()
                    .is_some_and(|n| remove.iter().any(|x| *x == n))
            })
            .cloned()
            .collect();
        if !gone.is_empty() {
            self.send(Method::Delete, path, Some(&Value::Array(gone)))
                .await?;
        }
        Ok(())
    }

    /// Role mappings of a user or group (`owner` like `/users/{id}`) to match the document.
    async fn sync_mappings(
        &mut self,
        section: &str,
        key: &str,
        owner: &str,
        desired: &Value,
    ) -> CliResult {
        let rm = if self.plan && owner.is_empty() {
            json!({})
        } else {
            self.get(&format!("{owner}/role-mappings")).await?
        };
        if let Some(realm_roles) = desired.get("realmRoles").and_then(Value::as_array) {
            let wanted: Vec<String> = realm_roles
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let current = rm["realmMappings"].as_array().cloned().unwrap_or_default();
            self.sync_roles(
                section,
                key,
                &format!("{owner}/role-mappings/realm"),
                None,
                &current,
                &wanted,
            )
            .await?;
        }
        if let Some(cr) = desired.get("clientRoles").and_then(Value::as_object) {
            let mut clients: BTreeSet<String> = cr.keys().cloned().collect();
            if let Some(cm) = rm["clientMappings"].as_object() {
                clients.extend(cm.keys().cloned());
            }
            for cid in clients {
                let wanted: Vec<String> = cr
                    .get(&cid)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let current = rm["clientMappings"][&cid]["mappings"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if wanted.is_empty() && current.is_empty() {
                    continue;
                }
                let Some(uuid) = self.clients.get(&cid).cloned() else {
                    if self.plan {
                        continue;
                    }
                    return Err(CliError::not_found(format!(
                        "no client `{cid}` for role mappings"
                    )));
                };
                let path = format!("{owner}/role-mappings/clients/{}", encode_segment(&uuid));
                self.sync_roles(section, key, &path, Some(&cid), &current, &wanted)
                    .await?;
            }
        }
        Ok(())
    }

    /// Protocol mappers of a client or client scope (`owner`), matched by name.
    async fn sync_mappers(
        &mut self,
        section: &str,
        key: &str,
        owner: &str,
        desired: &Value,
    ) -> CliResult {
        let Some(want) = desired.get("protocolMappers").and_then(Value::as_array) else {
            return Ok(());
        };
        let live = match self
            .get(&format!("{owner}/protocol-mappers/models"))
            .await?
        {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        let by_name: BTreeMap<String, Value> = live
            .into_iter()
            .filter_map(|m| Some((m["name"].as_str()?.to_owned(), m)))
            .collect();
        for m in want {
            let name = m["name"].as_str().unwrap_or("").to_owned();
            match by_name.get(&name) {
                None => {
                    self.record(
                        section,
                        key,
                        "update",
                        vec![format!("protocol mapper `{name}` added")],
                    );
                    if !self.plan {
                        self.send(
                            Method::Post,
                            &format!("{owner}/protocol-mappers/models"),
                            Some(m),
                        )
                        .await?;
                    }
                }
                Some(l) => {
                    let mut ls = l.clone();
                    strip(&mut ls);
                    let fields = changed_fields(m, &ls, "", &[]);
                    if !fields.is_empty() {
                        self.record(
                            section,
                            key,
                            "update",
                            vec![format!("protocol mapper `{name}`: {}", fields.join(", "))],
                        );
                        if !self.plan {
                            let mut body = l.clone();
                            merge_patch(&mut body, m);
                            let id = l["id"].as_str().unwrap_or("");
                            self.send(
                                Method::Put,
                                &format!("{owner}/protocol-mappers/models/{}", encode_segment(id)),
                                Some(&body),
                            )
                            .await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Default and optional client scopes of a client, by name.
    async fn sync_client_scopes(
        &mut self,
        key: &str,
        owner: &str,
        desired: &Value,
        scope_ids: &BTreeMap<String, String>,
    ) -> CliResult {
        for (field, kind) in [
            ("defaultClientScopes", "default-client-scopes"),
            ("optionalClientScopes", "optional-client-scopes"),
        ] {
            let Some(want) = desired.get(field).and_then(Value::as_array) else {
                continue;
            };
            let want: BTreeSet<String> = want
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            let live = match self.get(&format!("{owner}/{kind}")).await? {
                Value::Array(a) => a,
                _ => Vec::new(),
            };
            let have: BTreeMap<String, String> = live
                .iter()
                .filter_map(|s| {
                    Some((s["name"].as_str()?.to_owned(), s["id"].as_str()?.to_owned()))
                })
                .collect();
            for name in want.iter().filter(|n| !have.contains_key(*n)) {
                self.record("clients", key, "update", vec![format!("{field} + {name}")]);
                if self.plan {
                    continue;
                }
                let id = scope_ids
                    .get(name)
                    .ok_or_else(|| CliError::not_found(format!("no client scope `{name}`")))?;
                self.send(
                    Method::Put,
                    &format!("{owner}/{kind}/{}", encode_segment(id)),
                    None,
                )
                .await?;
            }
            for (name, id) in have.iter().filter(|(n, _)| !want.contains(*n)) {
                self.record("clients", key, "update", vec![format!("{field} - {name}")]);
                if !self.plan {
                    self.send(
                        Method::Delete,
                        &format!("{owner}/{kind}/{}", encode_segment(id)),
                        None,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}

/// Whether a user's live direct role mappings already are what the document states.
fn same_roles(d: &Value, m: &super::snapshot::Membership) -> bool {
    let names = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(r) = d.get("realmRoles") {
        if names(r) != m.realm_roles.iter().cloned().collect::<BTreeSet<_>>() {
            return false;
        }
    }
    if let Some(Value::Object(cr)) = d.get("clientRoles") {
        let mut clients: BTreeSet<&String> = cr.keys().collect();
        clients.extend(m.client_roles.keys());
        for c in clients {
            let want = cr.get(c).map(names).unwrap_or_default();
            let have: BTreeSet<String> = m
                .client_roles
                .get(c)
                .map(|v| v.iter().cloned().collect())
                .unwrap_or_default();
            if want != have {
                return false;
            }
        }
    }
    true
}

/// Role composites `{realm: [...], client: {cid: [...]}}` as (client, name) pairs.
fn composite_refs(c: &Value) -> BTreeSet<(Option<String>, String)> {
    let mut out = BTreeSet::new();
    for n in c["realm"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
        if let Some(n) = n.as_str() {
            out.insert((None, n.to_owned()));
        }
    }
    if let Some(cm) = c["client"].as_object() {
        for (cid, names) in cm {
            for n in names.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(n) = n.as_str() {
                    out.insert((Some(cid.clone()), n.to_owned()));
                }
            }
        }
    }
    out
}

pub async fn run(ctx: &Ctx, a: ApplyArgs) -> CliResult {
    let path = a.file.to_string_lossy().into_owned();
    let mut doc = crate::commands::read_document(&path)?;
    if !doc.is_object() {
        return Err(CliError::usage(format!(
            "{path} is not a realm document (expected an object)"
        )));
    }
    let source = doc["realm"]
        .as_str()
        .ok_or_else(|| CliError::usage(format!("{path} has no `realm` name")))?
        .to_owned();
    let target = a.into.clone().unwrap_or_else(|| source.clone());
    if target != source {
        doc = rename_realm(&doc, &source, &target)?;
    }
    let (kc, _) = ctx.admin().await?;
    let mut ap = Applier {
        kc: &kc,
        realm: target.clone(),
        base: crate::commands::resource::realm_base(&target),
        plan: a.plan,
        continue_on_error: a.continue_on_error,
        actions: Vec::new(),
        failures: 0,
        unchanged: 0,
        clients: BTreeMap::new(),
    };
    let result = apply(&mut ap, &doc).await;
    // Summary, also after a stop on error.
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut touched: BTreeSet<(String, String, String)> = BTreeSet::new();
    for act in &ap.actions {
        let k = (
            act["section"].as_str().unwrap_or("").to_owned(),
            act["key"].as_str().unwrap_or("").to_owned(),
            act["action"].as_str().unwrap_or("").to_owned(),
        );
        if touched.insert(k.clone()) {
            *counts.entry(k.2).or_default() += 1;
        }
    }
    let summary = json!({
        "realm": target,
        "plan": a.plan,
        "created": counts.get("create").copied().unwrap_or(0),
        "updated": counts.get("update").copied().unwrap_or(0),
        "unchanged": ap.unchanged,
        "failed": ap.failures,
        "actions": ap.actions,
    });
    if ctx.out.explicit && matches!(ctx.out.format, OutputFormat::Json | OutputFormat::Yaml) {
        ctx.out.print(&summary, &[])?;
    } else if !ctx.out.quiet || a.plan {
        let verb = if a.plan { "would" } else { "did" };
        for act in &ap.actions {
            let sign = match act["action"].as_str() {
                Some("create") => "+",
                Some("update") => "~",
                Some("failed") => "!",
                _ => " ",
            };
            let fields: Vec<&str> = act["fields"]
                .as_array()
                .map(|f| f.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let extra = if let Some(e) = act["error"].as_str() {
                format!(": {e}")
            } else if fields.is_empty() {
                String::new()
            } else {
                format!(": {}", fields.join(", "))
            };
            println!(
                "{sign} {}/{}{extra}",
                act["section"].as_str().unwrap_or(""),
                act["key"].as_str().unwrap_or("")
            );
        }
        eprintln!(
            "realm `{target}`: {verb} create {}, update {}, {} unchanged, {} failed",
            summary["created"], summary["updated"], summary["unchanged"], summary["failed"]
        );
    }
    result?;
    if ap.failures > 0 {
        return Err(CliError::other(format!("{} changes failed", ap.failures)));
    }
    Ok(())
}

async fn apply(ap: &mut Applier<'_>, doc: &Value) -> CliResult {
    let desired = sections(doc);
    let realm = ap.realm.clone();
    // 1. The realm itself.
    let exists = match ap.kc.raw().get(&ap.base).send().await {
        Ok(_) => true,
        Err(e) if e.is_not_found() => false,
        Err(e) => return Err(e.into()),
    };
    let settings = desired["realm"]["settings"].clone();
    if !exists {
        ap.record("realm", &realm, "create", vec![]);
        if ap.plan {
            // Nothing to compare against: everything in the document would be created.
            for (section, items) in &desired {
                if *section == "realm" {
                    continue;
                }
                for key in items.keys() {
                    ap.record(section, key, "create", vec![]);
                }
            }
            return Ok(());
        }
        let mut body = without(&without(&settings, FLOW_BINDINGS), REALM_SEPARATE);
        body["realm"] = Value::String(realm.clone());
        ap.kc
            .raw()
            .post("/admin/realms")
            .json(&body)
            .send()
            .await
            .map_err(|e| CliError::from(e).context(format!("creating realm `{realm}`")))?;
    }
    let mut live = Live::new(ap.kc, &realm, false);
    let head = live.head().await?;
    let live_doc = Value::Object(head);
    let have = sections(&live_doc);
    ap.refresh_clients().await?;

    // 2. Client scopes.
    let scope_path = |id: &str| format!("/client-scopes/{}", encode_segment(id));
    let mut scope_ids: BTreeMap<String, String> = BTreeMap::new();
    let live_scopes: BTreeMap<String, String> = ap.scope_ids().await?;
    for (name, d) in &desired["clientScopes"] {
        let r: CliResult = async {
            match have["clientScopes"].get(name) {
                None => {
                    ap.record("clientScopes", name, "create", vec![]);
                    if !ap.plan {
                        ap.send(Method::Post, "/client-scopes", Some(d)).await?;
                    }
                }
                Some(l) => {
                    let id = live_scopes.get(name).cloned().unwrap_or_default();
                    let fields = changed_fields(d, l, "", &["protocolMappers"]);
                    if fields.is_empty() {
                        ap.unchanged += 1;
                    } else {
                        ap.record("clientScopes", name, "update", fields);
                        if !ap.plan {
                            let mut body = ap.get(&scope_path(&id)).await?;
                            merge_patch(&mut body, &without(d, &["protocolMappers"]));
                            ap.send(Method::Put, &scope_path(&id), Some(&body)).await?;
                        }
                    }
                    ap.sync_mappers("clientScopes", name, &scope_path(&id), d)
                        .await?;
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ap.fail("clientScopes", name, e)?;
        }
    }
    if !ap.plan {
        scope_ids = ap.scope_ids().await?;
    } else {
        scope_ids.extend(live_scopes);
    }

    // 3. Realm roles (composites later).
    for (key, d) in desired["roles"]
        .iter()
        .filter(|(k, _)| k.starts_with("realm/"))
    {
        let name = &key["realm/".len()..];
        let r: CliResult = async {
            let body = without(d, &["composites", "composite"]);
            match have["roles"].get(key) {
                None => {
                    ap.record("roles", key, "create", vec![]);
                    if !ap.plan {
                        ap.send(Method::Post, "/roles", Some(&body)).await?;
                    }
                }
                Some(l) => {
                    let fields = changed_fields(&body, l, "", &[]);
                    if fields.is_empty() {
                        ap.unchanged += 1;
                    } else {
                        ap.record("roles", key, "update", fields);
                        if !ap.plan {
                            let p = format!("/roles/{}", encode_segment(name));
                            let mut cur = ap.get(&p).await?;
                            merge_patch(&mut cur, &body);
                            ap.send(Method::Put, &p, Some(&cur)).await?;
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ap.fail("roles", key, e)?;
        }
    }

    // 4. Clients.
    const CLIENT_SEPARATE: &[&str] = &[
        "protocolMappers",
        "defaultClientScopes",
        "optionalClientScopes",
        "authorizationSettings",
    ];
    for (cid, d) in &desired["clients"] {
        let r: CliResult = async {
            let created = !have["clients"].contains_key(cid);
            if created {
                ap.record("clients", cid, "create", vec![]);
                if ap.plan {
                    return Ok(());
                }
                ap.send(
                    Method::Post,
                    "/clients",
                    Some(&without(d, &["authorizationSettings"])),
                )
                .await?;
                ap.refresh_clients().await?;
            } else {
                let l = &have["clients"][cid];
                let fields = changed_fields(d, l, "", CLIENT_SEPARATE);
                if fields.is_empty() {
                    ap.unchanged += 1;
                } else {
                    ap.record("clients", cid, "update", fields);
                    if !ap.plan {
                        let p = ap.client_path(cid)?;
                        let mut cur = ap.get(&p).await?;
                        merge_patch(&mut cur, &without(d, CLIENT_SEPARATE));
                        ap.send(Method::Put, &p, Some(&cur)).await?;
                    }
                }
            }
            let owner = ap.client_path(cid)?;
            ap.sync_mappers("clients", cid, &owner, d).await?;
            ap.sync_client_scopes(cid, &owner, d, &scope_ids).await?;
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ap.fail("clients", cid, e)?;
        }
    }

    // 5. Client roles.
    for (key, d) in desired["roles"]
        .iter()
        .filter(|(k, _)| k.starts_with("client/"))
    {
        let rest = &key["client/".len()..];
        let Some((cid, name)) = rest.rsplit_once('/') else {
            continue;
        };
        let r: CliResult = async {
            let body = without(d, &["composites", "composite"]);
            // Keycloak adds some client roles itself when it creates a client (uma_protection
            // for authorization services): look again before creating one.
            let mut live = have["roles"].get(key).cloned();
            if live.is_none() && !ap.plan {
                match ap.role(Some(cid), name).await {
                    Ok(mut r) => {
                        strip(&mut r);
                        live = Some(r);
                    }
                    Err(e) if e.code == crate::exit::Code::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            match live.as_ref() {
                None => {
                    ap.record("roles", key, "create", vec![]);
                    if !ap.plan {
                        let p = format!("{}/roles", ap.client_path(cid)?);
                        ap.send(Method::Post, &p, Some(&body)).await?;
                    }
                }
                Some(l) => {
                    let fields = changed_fields(&body, l, "", &[]);
                    if fields.is_empty() {
                        ap.unchanged += 1;
                    } else {
                        ap.record("roles", key, "update", fields);
                        if !ap.plan {
                            let p =
                                format!("{}/roles/{}", ap.client_path(cid)?, encode_segment(name));
                            let mut cur = ap.get(&p).await?;
                            merge_patch(&mut cur, &body);
                            ap.send(Method::Put, &p, Some(&cur)).await?;
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ap.fail("roles", key, e)?;
        }
    }

    // 6. Role composites.
    for (key, d) in &desired["roles"] {
        let Some(want) = d.get("composites") else {
            continue;
        };
        let r: CliResult = async {
            let live_comp = have["roles"]
                .get(key)
                .and_then(|l| l.get("composites"))
                .cloned()
                .unwrap_or(json!({}));
            let (w, h) = (composite_refs(want), composite_refs(&live_comp));
            let add: Vec<_> = w.difference(&h).cloned().collect();
            let remove: Vec<_> = h.difference(&w).cloned().collect();
            if add.is_empty() && remove.is_empty() {
                return Ok(());
            }
            let fmt = |v: &[(Option<String>, String)]| {
                v.iter()
                    .map(|(c, n)| match c {
                        Some(c) => format!("{c}/{n}"),
                        None => n.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            ap.record(
                "roles",
                key,
                "update",
                vec![format!("composites: +[{}] -[{}]", fmt(&add), fmt(&remove))],
            );
            if ap.plan {
                return Ok(());
            }
            let (client, name) = match key.strip_prefix("realm/") {
                Some(n) => (None, n.to_owned()),
                None => {
                    let rest = &key["client/".len()..];
                    let (c, n) = rest.rsplit_once('/').unwrap_or(("", rest));
                    (Some(c.to_owned()), n.to_owned())
                }
            };
            let role = ap.role(client.as_deref(), &name).await?;
            let id = role["id"].as_str().unwrap_or("").to_owned();
            let p = format!("/roles-by-id/{}/composites", encode_segment(&id));
            let mut reps = Vec::new();
            for (c, n) in &add {
                reps.push(ap.role(c.as_deref(), n).await?);
            }
            if !reps.is_empty() {
                ap.send(Method::Post, &p, Some(&Value::Array(reps))).await?;
            }
            let mut gone = Vec::new();
            for (c, n) in &remove {
                gone.push(ap.role(c.as_deref(), n).await?);
            }
            if !gone.is_empty() {
                ap.send(Method::Delete, &p, Some(&Value::Array(gone)))
                    .await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ap.fail("roles", key, e)?;
        }
    }

    // 7. Groups, parents first (paths sort that way).
    let mut group_ids: BTreeMap<String, String> = BTreeMap::new();
    for (path, d) in &desired["groups"] {
        let r: CliResult = async {
            let body = without(d, &["realmRoles", "clientRoles", "subGroups", "path"]);
            let existing = match have["groups"].get(path) {
                Some(_) => {
                    let enc: Vec<String> = path
                        .trim_start_matches('/')
                        .split('/')
                        .map(encode_segment)
                        .collect();
                    Some(ap.get(&format!("/group-by-path/{}", enc.join("/"))).await?)
                }
                None => None,
            };
            let id = match existing {
                None => {
                    ap.record("groups", path, "create", vec![]);
                    if ap.plan {
                        return Ok(());
                    }
                    let parent = path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                    let created = if parent.is_empty() {
                        ap.send(Method::Post, "/groups", Some(&body)).await?
                    } else {
                        let pid = group_ids.get(parent).cloned().ok_or_else(|| {
                            CliError::not_found(format!("parent group `{parent}` missing"))
                        })?;
                        ap.send(
                            Method::Post,
                            &format!("/groups/{}/children", encode_segment(&pid)),
                            Some(&body),
                        )
                        .await?
                    };
                    created.ok_or_else(|| CliError::server("no id for the created group"))?
                }
                Some(live_group) => {
                    let id = live_group["id"].as_str().unwrap_or("").to_owned();
                    let mut l = live_group.clone();
                    strip(&mut l);
                    let fields = changed_fields(&body, &l, "", &[]);
                    if fields.is_empty() {
                        ap.unchanged += 1;
                    } else {
                        ap.record("groups", path, "update", fields);
                        if !ap.plan {
                            let mut cur = live_group.clone();
                            merge_patch(&mut cur, &body);
                            ap.send(
                                Method::Put,
                                &format!("/groups/{}", encode_segment(&id)),
                                Some(&cur),
                            )
                            .await?;
                        }
                    }
                    id
                }
            };
            group_ids.insert(path.clone(), id.clone());
            ap.sync_mappings(
                "groups",
                path,
                &format!("/groups/{}", encode_segment(&id)),
                d,
            )
            .await
        }
        .await;
        if let Err(e) = r {
            ap.fail("groups", path, e)?;
        }
    }

    // 8. Identity providers and their mappers.
    for (alias, d) in &desired["identityProviders"] {
        let r: CliResult = async {
            let p = format!("/identity-provider/instances/{}", encode_segment(alias));
            match have["identityProviders"].get(alias) {
                None => {
                    ap.record("identityProviders", alias, "create", vec![]);
                    if !ap.plan {
                        ap.send(Method::Post, "/identity-provider/instances", Some(d))
                            .await?;
                    }
                }
                Some(l) => {
                    let fields = changed_fields(d, l, "", &[]);
                    if fields.is_empty() {
                        ap.unchanged += 1;
                    } else {
                        ap.record("identityProviders", alias, "update", fields);
                        if !ap.plan {
                            let mut cur = ap.get(&p).await?;
                            merge_patch(&mut cur, d);
                            ap.send(Method::Put, &p, Some(&cur)).await?;
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ap.fail("identityProviders", alias, e)?;
        }
    }
    for (key, d) in &desired["identityProviderMappers"] {
        let r: CliResult = async {
            let alias = d["identityProviderAlias"].as_str().unwrap_or("");
            let base = format!(
                "/identity-provider/instances/{}/mappers",
                encode_segment(alias)
            );
            match have["identityProviderMappers"].get(key) {
                None => {
                    ap.record("identityProviderMappers", key, "create", vec![]);
                    if !ap.plan {
                        ap.send(Method::Post, &base, Some(d)).await?;
                    }
                }
                Some(l) => {
                    let fields = changed_fields(d, l, "", &[]);
                    if fields.is_empty() {
                        ap.unchanged += 1;
                    } else {
                        ap.record("identityProviderMappers", key, "update", fields);
                        if !ap.plan {
                            let all = ap.get(&base).await?;
                            let cur = all
                                .as_array()
                                .and_then(|a| a.iter().find(|m| m["name"] == d["name"]))
                                .cloned()
                                .ok_or_else(|| CliError::not_found(format!("mapper {key}")))?;
                            let id = cur["id"].as_str().unwrap_or("").to_owned();
                            let mut body = cur;
                            merge_patch(&mut body, d);
                            ap.send(
                                Method::Put,
                                &format!("{base}/{}", encode_segment(&id)),
                                Some(&body),
                            )
                            .await?;
                        }
                    }
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ap.fail("identityProviderMappers", key, e)?;
        }
    }

    // 9. Custom authentication flows (created with their executions; existing ones compared).
    for (alias, d) in &desired["authenticationFlows"] {
        if d["topLevel"] != true {
            continue;
        }
        match have["authenticationFlows"].get(alias) {
            Some(l) => {
                let fields = changed_fields(d, l, "", &[]);
                if fields.is_empty() {
                    ap.unchanged += 1;
                } else if d["builtIn"] == true {
                    ap.record(
                        "authenticationFlows",
                        alias,
                        "skipped",
                        vec![format!(
                            "built-in flow differs ({}); not changed",
                            fields.join(", ")
                        )],
                    );
                } else {
                    ap.record(
                        "authenticationFlows",
                        alias,
                        "skipped",
                        vec![format!(
                            "flow exists and differs ({}); delete it to have it re-created",
                            fields.join(", ")
                        )],
                    );
                }
            }
            None => {
                ap.record("authenticationFlows", alias, "create", vec![]);
                if ap.plan {
                    continue;
                }
                let r = create_flow(ap, &desired, alias).await;
                if let Err(e) = r {
                    ap.fail("authenticationFlows", alias, e)?;
                }
            }
        }
    }

    // 10. Realm settings (flow bindings included, now that the flows exist).
    {
        let l = &have["realm"]["settings"];
        let fields = changed_fields(&settings, l, "", REALM_SEPARATE);
        if fields.is_empty() {
            ap.unchanged += 1;
        } else {
            ap.record("realm", &realm, "update", fields.clone());
            if !ap.plan {
                let mut body = Map::new();
                if let Value::Object(s) = &settings {
                    for (k, v) in s {
                        if fields
                            .iter()
                            .any(|f| f == k || f.starts_with(&format!("{k}.")))
                        {
                            body.insert(k.clone(), v.clone());
                        }
                    }
                }
                if let Err(e) = ap.send(Method::Put, "", Some(&Value::Object(body))).await {
                    ap.fail("realm", &realm, e)?;
                }
            }
        }
    }

    // 11. Users, with group memberships and role mappings.
    if !desired["users"].is_empty() {
        let live_users = list_all(
            ap.kc,
            &ap.path("/users"),
            &[("briefRepresentation".into(), "false".into())],
            None,
        )
        .await?;
        let live_by_name: BTreeMap<String, Value> = live_users
            .into_iter()
            .filter_map(|u| Some((u["username"].as_str()?.to_owned(), u)))
            .collect();
        const USER_SEPARATE: &[&str] = &[
            "groups",
            "realmRoles",
            "clientRoles",
            "credentials",
            "federatedIdentities",
        ];
        // Memberships of the existing users, from the member lists of groups and roles: only
        // users whose memberships differ cost per-user calls.
        let live_members = if live_by_name.is_empty() {
            HashMap::new()
        } else {
            live.memberships(8).await?
        };
        let mut path_ids: BTreeMap<String, String> = live
            .group_paths
            .iter()
            .map(|(id, p)| (p.clone(), id.clone()))
            .collect();
        path_ids.extend(group_ids.iter().map(|(p, id)| (p.clone(), id.clone())));
        for (name, d) in &desired["users"] {
            let r: CliResult = async {
                let body = without(d, USER_SEPARATE);
                let id = match live_by_name.get(name) {
                    None => {
                        ap.record("users", name, "create", vec![]);
                        if ap.plan {
                            return Ok(());
                        }
                        ap.send(Method::Post, "/users", Some(&body))
                            .await?
                            .ok_or_else(|| CliError::server("no id for the created user"))?
                    }
                    Some(l) => {
                        let id = l["id"].as_str().unwrap_or("").to_owned();
                        let mut ls = l.clone();
                        strip(&mut ls);
                        let fields = changed_fields(&body, &ls, "", &[]);
                        if fields.is_empty() {
                            ap.unchanged += 1;
                        } else {
                            ap.record("users", name, "update", fields);
                            if !ap.plan {
                                let mut cur = l.clone();
                                merge_patch(&mut cur, &body);
                                ap.send(
                                    Method::Put,
                                    &format!("/users/{}", encode_segment(&id)),
                                    Some(&cur),
                                )
                                .await?;
                            }
                        }
                        id
                    }
                };
                let owner = format!("/users/{}", encode_segment(&id));
                // Group membership by path.
                if let Some(want) = d.get("groups").and_then(Value::as_array) {
                    let want: BTreeSet<String> = want
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect();
                    let have_g: BTreeMap<String, String> = live_members
                        .get(&id)
                        .map(|m| {
                            m.groups
                                .iter()
                                .map(|p| (p.clone(), path_ids.get(p).cloned().unwrap_or_default()))
                                .collect()
                        })
                        .unwrap_or_default();
                    for p in want.iter().filter(|p| !have_g.contains_key(*p)) {
                        ap.record("users", name, "update", vec![format!("join {p}")]);
                        if ap.plan {
                            continue;
                        }
                        let gid = match path_ids.get(p) {
                            Some(g) => g.clone(),
                            None => {
                                let enc: Vec<String> = p
                                    .trim_start_matches('/')
                                    .split('/')
                                    .map(encode_segment)
                                    .collect();
                                ap.get(&format!("/group-by-path/{}", enc.join("/"))).await?["id"]
                                    .as_str()
                                    .unwrap_or("")
                                    .to_owned()
                            }
                        };
                        ap.send(
                            Method::Put,
                            &format!("{owner}/groups/{}", encode_segment(&gid)),
                            None,
                        )
                        .await?;
                    }
                    for (p, gid) in have_g.iter().filter(|(p, _)| !want.contains(*p)) {
                        ap.record("users", name, "update", vec![format!("leave {p}")]);
                        if !ap.plan {
                            ap.send(
                                Method::Delete,
                                &format!("{owner}/groups/{}", encode_segment(gid)),
                                None,
                            )
                            .await?;
                        }
                    }
                }
                if let Some(m) = live_members.get(&id) {
                    if same_roles(d, m) {
                        return Ok(());
                    }
                }
                ap.sync_mappings("users", name, &owner, d).await
            }
            .await;
            if let Err(e) = r {
                ap.fail("users", name, e)?;
            }
        }
    }

    // 12. What refers to users, clients and identity providers by name: localization texts,
    // organizations, authorization settings.
    sync_localization(ap, &settings).await?;
    for (alias, d) in &desired["organizations"] {
        let r = sync_organization(ap, alias, d, have["organizations"].get(alias)).await;
        if let Err(e) = r {
            ap.fail("organizations", alias, e)?;
        }
    }
    for (cid, d) in &desired["clients"] {
        if let Some(want) = d.get("authorizationSettings") {
            if let Err(e) = sync_authz(ap, cid, want).await {
                ap.fail("clients", cid, e)?;
            }
        }
    }
    let _ = COLLECTIONS;
    Ok(())
}

/// Makes the texts of every locale the document lists exactly the document's.
async fn sync_localization(ap: &mut Applier<'_>, settings: &Value) -> CliResult {
    let Some(locales) = settings["localizationTexts"].as_object() else {
        return Ok(());
    };
    for (locale, want) in locales {
        let r: CliResult = async {
            let Some(want) = want.as_object() else {
                return Err(CliError::usage(format!(
                    "localizationTexts.{locale} must be an object of texts"
                )));
            };
            let p = format!("/localization/{}", encode_segment(locale));
            let live = ap.get(&p).await?;
            let live = live.as_object().cloned().unwrap_or_default();
            let changed: Map<String, Value> = want
                .iter()
                .filter(|(k, v)| live.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let extra: Vec<&String> = live.keys().filter(|k| !want.contains_key(*k)).collect();
            if changed.is_empty() && extra.is_empty() {
                ap.unchanged += 1;
                return Ok(());
            }
            let mut fields: Vec<String> = changed.keys().cloned().collect();
            fields.extend(extra.iter().map(|k| format!("-{k}")));
            ap.record("localizationTexts", locale, "update", fields);
            if ap.plan {
                return Ok(());
            }
            if !changed.is_empty() {
                ap.send(Method::Post, &p, Some(&Value::Object(changed)))
                    .await?;
            }
            for k in extra {
                ap.send(Method::Delete, &format!("{p}/{}", encode_segment(k)), None)
                    .await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            ap.fail("localizationTexts", locale, e)?;
        }
    }
    Ok(())
}

/// An organization, then its members (by username) and identity providers (by alias), exact.
async fn sync_organization(
    ap: &mut Applier<'_>,
    alias: &str,
    d: &Value,
    live: Option<&Value>,
) -> CliResult {
    const SEPARATE: &[&str] = &["members", "identityProviders"];
    let body = without(d, SEPARATE);
    let find_id = |all: &[Value]| {
        all.iter()
            .find(|o| o["alias"] == alias)
            .and_then(|o| o["id"].as_str())
            .map(str::to_owned)
    };
    let id = match live {
        None => {
            ap.record("organizations", alias, "create", vec![]);
            if ap.plan {
                return Ok(());
            }
            match ap.send(Method::Post, "/organizations", Some(&body)).await? {
                Some(id) => id,
                None => {
                    let all = list_all(ap.kc, &ap.path("/organizations"), &[], None).await?;
                    find_id(&all).ok_or_else(|| {
                        CliError::server(format!("organization `{alias}` was not created"))
                    })?
                }
            }
        }
        Some(l) => {
            let all = list_all(ap.kc, &ap.path("/organizations"), &[], None).await?;
            let id = find_id(&all)
                .ok_or_else(|| CliError::not_found(format!("organization `{alias}`")))?;
            let fields = changed_fields(&body, l, "", SEPARATE);
            if fields.is_empty() {
                ap.unchanged += 1;
            } else {
                ap.record("organizations", alias, "update", fields);
                if !ap.plan {
                    let p = format!("/organizations/{}", encode_segment(&id));
                    let mut cur = ap.get(&p).await?;
                    merge_patch(&mut cur, &body);
                    ap.send(Method::Put, &p, Some(&cur)).await?;
                }
            }
            id
        }
    };
    let base = format!("/organizations/{}", encode_segment(&id));
    let names = |v: &Value, key: &str| -> BTreeSet<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x[key].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    // Members.
    if let Some(want) = d.get("members") {
        let want = names(want, "username");
        let live_members = if live.is_some() {
            list_all(ap.kc, &ap.path(&format!("{base}/members")), &[], None).await?
        } else {
            Vec::new()
        };
        let have: BTreeMap<String, String> = live_members
            .iter()
            .filter_map(|m| {
                Some((
                    m["username"].as_str()?.to_owned(),
                    m["id"].as_str()?.to_owned(),
                ))
            })
            .collect();
        for u in want.iter().filter(|u| !have.contains_key(*u)) {
            ap.record(
                "organizations",
                alias,
                "update",
                vec![format!("member {u}")],
            );
            if !ap.plan {
                let found = ap
                    .kc
                    .raw()
                    .get(ap.path("/users"))
                    .query("username", u)
                    .query("exact", "true")
                    .realm(&ap.realm)
                    .send_json::<Value>()
                    .await?;
                let uid = found
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(|x| x["id"].as_str())
                    .ok_or_else(|| {
                        CliError::not_found(format!("user `{u}` (member of `{alias}`)"))
                    })?
                    .to_owned();
                ap.send(
                    Method::Post,
                    &format!("{base}/members"),
                    Some(&Value::String(uid)),
                )
                .await?;
            }
        }
        for (u, uid) in have.iter().filter(|(u, _)| !want.contains(*u)) {
            ap.record(
                "organizations",
                alias,
                "update",
                vec![format!("not member {u}")],
            );
            if !ap.plan {
                ap.send(
                    Method::Delete,
                    &format!("{base}/members/{}", encode_segment(uid)),
                    None,
                )
                .await?;
            }
        }
    }
    // Identity providers.
    if let Some(want) = d.get("identityProviders") {
        let want = names(want, "alias");
        let have = if live.is_some() {
            names(
                &ap.get(&format!("{base}/identity-providers")).await?,
                "alias",
            )
        } else {
            BTreeSet::new()
        };
        for a in want.difference(&have) {
            ap.record(
                "organizations",
                alias,
                "update",
                vec![format!("identity provider {a}")],
            );
            if !ap.plan {
                ap.send(
                    Method::Post,
                    &format!("{base}/identity-providers"),
                    Some(&Value::String(a.clone())),
                )
                .await?;
            }
        }
        for a in have.difference(&want) {
            ap.record(
                "organizations",
                alias,
                "update",
                vec![format!("no identity provider {a}")],
            );
            if !ap.plan {
                ap.send(
                    Method::Delete,
                    &format!("{base}/identity-providers/{}", encode_segment(a)),
                    None,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// Makes a client's authorization settings exactly the document's: Keycloak's import endpoint
/// creates and updates by name; what the live client has beyond the document (such as the
/// default resource and policies Keycloak adds when authorization is switched on) is deleted.
async fn sync_authz(ap: &mut Applier<'_>, cid: &str, want: &Value) -> CliResult {
    let Some(uuid) = ap.clients.get(cid).cloned() else {
        if ap.plan {
            return Ok(());
        }
        return Err(CliError::not_found(format!("no client `{cid}`")));
    };
    let live = Live::new(ap.kc, &ap.realm, false);
    let mut want = want.clone();
    super::snapshot::normalize_authz(&mut want);
    let have = live.authz_settings(&uuid).await?;
    if same(&want, &have) {
        ap.unchanged += 1;
        return Ok(());
    }
    let mut fields = Vec::new();
    for k in ["resources", "scopes", "policies"] {
        if !same(&want[k], &have[k]) {
            fields.push(format!("authorizationSettings.{k}"));
        }
    }
    if fields.is_empty() {
        fields.push("authorizationSettings".to_owned());
    }
    ap.record("clients", cid, "update", fields);
    if ap.plan {
        return Ok(());
    }
    let rs = format!("/clients/{}/authz/resource-server", encode_segment(&uuid));
    ap.send(Method::Post, &format!("{rs}/import"), Some(&want))
        .await?;
    // Delete what the document does not name: permissions and policies first (they refer to
    // resources and scopes), then resources, then scopes.
    let wanted = |k: &str| -> BTreeSet<String> {
        want[k]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    for (list, item, key) in [
        ("policy", "policy", "policies"),
        ("resource", "resource", "resources"),
        ("scope", "scope", "scopes"),
    ] {
        let keep = wanted(key);
        let all = list_all(ap.kc, &ap.path(&format!("{rs}/{list}")), &[], None).await?;
        for x in all {
            let (Some(name), Some(id)) = (
                x["name"].as_str(),
                x["id"].as_str().or_else(|| x["_id"].as_str()),
            ) else {
                continue;
            };
            if !keep.contains(name) {
                match ap
                    .send(
                        Method::Delete,
                        &format!("{rs}/{item}/{}", encode_segment(id)),
                        None,
                    )
                    .await
                {
                    Ok(_) => {}
                    // A permission deleted with the policy it depended on.
                    Err(e) if e.code == crate::exit::Code::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }
    Ok(())
}

/// Creates a top-level flow and its executions (sub-flows recursively), with requirements and
/// authenticator configs.
async fn create_flow(
    ap: &mut Applier<'_>,
    desired: &super::diff::Sections,
    alias: &str,
) -> CliResult {
    let d = &desired["authenticationFlows"][alias];
    ap.send(
        Method::Post,
        "/authentication/flows",
        Some(&json!({
            "alias": alias,
            "description": d["description"],
            "providerId": d["providerId"],
            "topLevel": true,
            "builtIn": false,
        })),
    )
    .await?;
    add_executions(ap, desired, alias).await
}

async fn add_executions(
    ap: &mut Applier<'_>,
    desired: &super::diff::Sections,
    flow: &str,
) -> CliResult {
    let Some(d) = desired["authenticationFlows"].get(flow) else {
        return Err(CliError::usage(format!(
            "sub-flow `{flow}` is not in the document"
        )));
    };
    let execs = d["authenticationExecutions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let fpath = format!("/authentication/flows/{}/executions", encode_segment(flow));
    for (i, e) in execs.iter().enumerate() {
        if e["authenticatorFlow"] == true {
            let sub_alias = e["flowAlias"].as_str().unwrap_or("");
            let sub = desired["authenticationFlows"]
                .get(sub_alias)
                .cloned()
                .unwrap_or(json!({}));
            let ty = sub["providerId"].as_str().unwrap_or("basic-flow");
            let mut body =
                json!({"alias": sub_alias, "type": ty, "description": sub["description"]});
            if ty == "form-flow" {
                body["provider"] = json!("registration-page-form");
            }
            ap.send(Method::Post, &format!("{fpath}/flow"), Some(&body))
                .await?;
        } else {
            ap.send(
                Method::Post,
                &format!("{fpath}/execution"),
                Some(&json!({"provider": e["authenticator"]})),
            )
            .await?;
        }
        // The new execution is the i-th direct child: set its requirement and config.
        let flat = ap.get(&fpath).await?;
        let direct: Vec<Value> = flat
            .as_array()
            .map(|a| a.iter().filter(|x| x["level"] == 0).cloned().collect())
            .unwrap_or_default();
        let Some(mut created) = direct.get(i).cloned() else {
            return Err(CliError::server(format!(
                "execution {i} of `{flow}` not found after creating it"
            )));
        };
        if let Some(req) = e["requirement"].as_str() {
            if created["requirement"] != req {
                created["requirement"] = json!(req);
                ap.send(Method::Put, &fpath, Some(&created)).await?;
            }
        }
        if let Some(cfg_alias) = e["authenticatorConfig"].as_str() {
            if let Some(cfg) = desired["authenticatorConfig"].get(cfg_alias) {
                let id = created["id"].as_str().unwrap_or("").to_owned();
                ap.send(
                    Method::Post,
                    &format!("/authentication/executions/{}/config", encode_segment(&id)),
                    Some(&json!({"alias": cfg_alias, "config": cfg["config"]})),
                )
                .await?;
            }
        }
        if e["authenticatorFlow"] == true {
            let sub_alias = e["flowAlias"].as_str().unwrap_or("").to_owned();
            Box::pin(add_executions(ap, desired, &sub_alias)).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_compare_only_what_the_document_says() {
        let d = json!({"a": 1, "b": {"c": [2, 1]}, "e": null});
        let l = json!({"a": 1, "b": {"c": [1, 2], "x": 9}, "z": 3});
        assert!(changed_fields(&d, &l, "", &[]).is_empty());
        let l2 = json!({"a": 2, "b": {"c": [1]}});
        assert_eq!(changed_fields(&d, &l2, "", &[]), ["a", "b.c"]);
    }

    #[test]
    fn rename_touches_urls_and_default_role() {
        let d = json!({"realm": "Src", "clients": [{"baseUrl": "/realms/Src/account/"}],
            "roles": {"realm": [{"name": "default-roles-src"}]}});
        let r = rename_realm(&d, "Src", "dst").unwrap();
        assert_eq!(r["realm"], "dst");
        assert_eq!(r["clients"][0]["baseUrl"], "/realms/dst/account/");
        assert_eq!(r["roles"]["realm"][0]["name"], "default-roles-dst");
    }
}
