//! Reading a live realm into the document shape, piece by piece.

use std::collections::{BTreeMap, HashMap};

use cloakroom::Client;
use cloakroom::request::encode_segment;
use serde_json::{Map, Value, json};

use super::session::Session;
use crate::exit::CliResult;

/// Fields the server assigns or derives; never exported, never compared.
const VOLATILE: &[&str] = &[
    "id",
    "containerId",
    "internalId",
    "access",
    "createdTimestamp",
    "subGroupCount",
    "parentId",
    "flowId",
    "totp",
    "disableableCredentialTypes",
    "notBefore",
    "userProfileMetadata",
    // An identity provider's organization: carried by the organization's `identityProviders`.
    "organizationId",
];

/// Removes server-assigned fields from an object (and from its protocol mappers).
pub fn strip(v: &mut Value) {
    if let Value::Object(m) = v {
        for k in VOLATILE {
            m.remove(*k);
        }
        if let Some(Value::Object(attrs)) = m.get_mut("attributes") {
            attrs.remove("client.secret.creation.time");
        }
        if let Some(Value::Array(pms)) = m.get_mut("protocolMappers") {
            for pm in pms.iter_mut() {
                if let Value::Object(pm) = pm {
                    pm.remove("id");
                }
            }
            sort_by_key(pms, "name");
        }
    }
}

pub fn sort_by_key(items: &mut [Value], key: &str) {
    items.sort_by(|a, b| {
        a[key]
            .as_str()
            .unwrap_or("")
            .cmp(b[key].as_str().unwrap_or(""))
    });
}

/// A live realm being read.
pub struct Live<'a> {
    _kc: std::marker::PhantomData<&'a Client>,
    pub include_secrets: bool,
    pub session: Session,
    /// Client uuid → clientId.
    pub client_ids: BTreeMap<String, String>,
    /// (group id, group path) of every group, filled by `head`.
    pub group_paths: Vec<(String, String)>,
    /// (clientId or none, members endpoint, role name) of every role, filled by `head`.
    pub role_members: Vec<(Option<String>, String, String)>,
}

/// A user's group paths and direct role mappings, gathered from the groups' and roles' member
/// lists (a few calls per group and role instead of two per user).
#[derive(Default, Debug)]
pub struct Membership {
    pub groups: Vec<String>,
    pub realm_roles: Vec<String>,
    pub client_roles: BTreeMap<String, Vec<String>>,
}

/// A group (by path) or a role (realm, or by client id) that users are members of.
enum Grant {
    Group(String),
    Role(Option<String>, String),
}

/// Who is in which group and holds which role: each user's grants as indexes into one list, so
/// that the map costs a few dozen bytes a user, not a copy of every name.
#[derive(Default)]
pub struct Memberships {
    grants: Vec<Grant>,
    by_user: HashMap<String, Vec<u32>>,
}

impl Memberships {
    /// The memberships of user `id`, taken out of the map.
    pub fn take(&mut self, id: &str) -> Option<Membership> {
        let ixs = self.by_user.remove(id)?;
        let mut m = Membership::default();
        for ix in ixs {
            match self.grants.get(ix as usize) {
                Some(Grant::Group(p)) => m.groups.push(p.clone()),
                Some(Grant::Role(None, n)) => m.realm_roles.push(n.clone()),
                Some(Grant::Role(Some(c), n)) => {
                    m.client_roles.entry(c.clone()).or_default().push(n.clone())
                }
                None => {}
            }
        }
        Some(m)
    }
}

/// Member ids per request when reading who is in a group or holds a role. Keycloak spends
/// most of such a request on its fixed cost (pages of 100 of the default role's 10,000 members
/// took 19 s, pages of 5,000 took 1 s, dev-mode 26.7.3), and brief members are small.
const MEMBER_PAGE: u32 = 5000;

impl<'a> Live<'a> {
    pub fn new(kc: &'a Client, realm: &str, include_secrets: bool) -> Self {
        Live {
            _kc: std::marker::PhantomData,
            include_secrets,
            session: Session::new(kc, realm),
            client_ids: BTreeMap::new(),
            group_paths: Vec::new(),
            role_members: Vec::new(),
        }
    }

    async fn get(&self, path: &str) -> CliResult<Value> {
        self.session.get(path).await
    }

    async fn all(&self, path: &str, query: &[(&str, &str)]) -> CliResult<Vec<Value>> {
        self.session.all(path, query).await
    }

    /// The realm's own settings, without collections and server-assigned values.
    pub async fn realm_settings(&self) -> CliResult<Map<String, Value>> {
        let mut r = self.get("").await?;
        strip(&mut r);
        let Value::Object(mut m) = r else {
            return Ok(Map::new());
        };
        // The default role is named after the realm and managed by Keycloak; its composites
        // travel with the realm roles.
        m.remove("defaultRole");
        if let Some(Value::Object(smtp)) = m.get_mut("smtpServer") {
            smtp.remove("password");
        }
        Ok(m)
    }

    /// Everything but users: the document's head, in export order.
    pub async fn head(&mut self) -> CliResult<Map<String, Value>> {
        let mut doc = self.realm_settings().await?;
        let clients = self.client_list().await?;
        doc.insert("roles".into(), self.roles_doc(&clients).await?);
        doc.insert("groups".into(), Value::Array(self.groups().await?));
        doc.insert(
            "clientScopes".into(),
            Value::Array(self.client_scopes().await?),
        );
        let (scope_mappings, client_scope_mappings) = self.scope_mappings(&clients).await?;
        doc.insert("clients".into(), Value::Array(self.clients(clients).await?));
        doc.insert("scopeMappings".into(), scope_mappings);
        doc.insert("clientScopeMappings".into(), client_scope_mappings);
        let (dd, dop) = self.default_client_scopes().await?;
        doc.insert("defaultDefaultClientScopes".into(), dd);
        doc.insert("defaultOptionalClientScopes".into(), dop);
        doc.insert(
            "requiredActions".into(),
            Value::Array(self.required_actions().await?),
        );
        doc.insert("components".into(), self.components().await?);
        let (idps, mappers) = self.identity_providers().await?;
        doc.insert("identityProviders".into(), Value::Array(idps));
        doc.insert("identityProviderMappers".into(), Value::Array(mappers));
        // Authentication flows (top-level and sub-flows) and authenticator configs.
        let (flows, configs) = self.flows().await?;
        doc.insert("authenticationFlows".into(), Value::Array(flows));
        doc.insert("authenticatorConfig".into(), Value::Array(configs));
        // Realm-specific texts of every locale that has some.
        doc.insert("localizationTexts".into(), self.localization().await?);
        if doc.get("organizationsEnabled") == Some(&Value::Bool(true)) {
            doc.insert(
                "organizations".into(),
                Value::Array(self.organizations().await?),
            );
        }
        Ok(doc)
    }

    /// Every client as the server sends it; remembers uuid → clientId.
    pub async fn client_list(&mut self) -> CliResult<Vec<Value>> {
        let clients = self.all("/clients", &[]).await?;
        self.client_ids = clients
            .iter()
            .filter_map(|c| {
                Some((
                    c["id"].as_str()?.to_owned(),
                    c["clientId"].as_str()?.to_owned(),
                ))
            })
            .collect();
        Ok(clients)
    }

    /// `{realm: [...], client: {clientId: [...]}}` with composites by name.
    pub async fn roles_doc(&mut self, clients: &[Value]) -> CliResult<Value> {
        let realm_roles = self.roles("/roles").await?;
        for r in &realm_roles {
            if let Some(n) = r["name"].as_str() {
                self.role_members.push((
                    None,
                    format!("/roles/{}/users", encode_segment(n)),
                    n.to_owned(),
                ));
            }
        }
        let mut client_roles = Map::new();
        for c in clients {
            let (Some(id), Some(cid)) = (c["id"].as_str(), c["clientId"].as_str()) else {
                continue;
            };
            let roles = self
                .roles(&format!("/clients/{}/roles", encode_segment(id)))
                .await?;
            for r in &roles {
                if let Some(n) = r["name"].as_str() {
                    self.role_members.push((
                        Some(cid.to_owned()),
                        format!(
                            "/clients/{}/roles/{}/users",
                            encode_segment(id),
                            encode_segment(n)
                        ),
                        n.to_owned(),
                    ));
                }
            }
            if !roles.is_empty() {
                client_roles.insert(cid.to_owned(), Value::Array(roles));
            }
        }
        Ok(json!({"realm": realm_roles, "client": client_roles}))
    }

    /// Groups as a tree; remembers every group's path.
    pub async fn groups(&mut self) -> CliResult<Vec<Value>> {
        let top = self
            .all("/groups", &[("briefRepresentation", "false")])
            .await?;
        let mut groups = Vec::new();
        let mut paths = Vec::new();
        for g in top {
            groups.push(Box::pin(self.group_tree(g, &mut paths)).await?);
        }
        self.group_paths = paths;
        sort_by_key(&mut groups, "name");
        Ok(groups)
    }

    pub async fn client_scopes(&self) -> CliResult<Vec<Value>> {
        let mut scopes = match self.get("/client-scopes").await? {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        scopes.iter_mut().for_each(strip);
        sort_by_key(&mut scopes, "name");
        Ok(scopes)
    }

    /// Clients in document shape (secrets only when asked, authorization settings attached).
    pub async fn clients(&self, mut clients: Vec<Value>) -> CliResult<Vec<Value>> {
        for c in clients.iter_mut() {
            let confidential = c["publicClient"] == false && c["bearerOnly"] != true;
            let id = c["id"].as_str().unwrap_or("").to_owned();
            if self.include_secrets && confidential && c.get("secret").is_none() {
                if let Ok(s) = self
                    .get(&format!("/clients/{}/client-secret", encode_segment(&id)))
                    .await
                {
                    if let Some(v) = s.get("value") {
                        c["secret"] = v.clone();
                    }
                }
            }
            if c["authorizationServicesEnabled"] == true {
                c["authorizationSettings"] = self.authz_settings(&id).await?;
            }
            if !self.include_secrets {
                if let Value::Object(m) = c {
                    m.remove("secret");
                    m.remove("registrationAccessToken");
                }
            }
            strip(c);
        }
        sort_by_key(&mut clients, "clientId");
        Ok(clients)
    }

    /// Identity providers and their mappers. Keycloak never reveals IdP secrets.
    pub async fn identity_providers(&self) -> CliResult<(Vec<Value>, Vec<Value>)> {
        let mut idps = self.all("/identity-provider/instances", &[]).await?;
        let mut mappers = Vec::new();
        for idp in idps.iter_mut() {
            let alias = idp["alias"].as_str().unwrap_or("").to_owned();
            if let Some(Value::Object(cfg)) = idp.get_mut("config") {
                cfg.remove("clientSecret");
            }
            strip(idp);
            if let Value::Array(ms) = self
                .get(&format!(
                    "/identity-provider/instances/{}/mappers",
                    encode_segment(&alias)
                ))
                .await?
            {
                for mut m in ms {
                    strip(&mut m);
                    mappers.push(m);
                }
            }
        }
        sort_by_key(&mut idps, "alias");
        mappers.sort_by_key(|m| {
            (
                m["identityProviderAlias"].as_str().unwrap_or("").to_owned(),
                m["name"].as_str().unwrap_or("").to_owned(),
            )
        });
        Ok((idps, mappers))
    }

    /// A client's authorization services (resources, scopes, policies and permissions), in
    /// Keycloak's own export shape, which names everything instead of using ids; sorted by name.
    pub async fn authz_settings(&self, client_uuid: &str) -> CliResult<Value> {
        let mut s = self
            .get(&format!(
                "/clients/{}/authz/resource-server/settings",
                encode_segment(client_uuid)
            ))
            .await?;
        normalize_authz(&mut s);
        Ok(s)
    }

    /// `{locale: {key: text}}` of the realm's own localization texts.
    pub async fn localization(&self) -> CliResult<Value> {
        let mut out = Map::new();
        if let Value::Array(locales) = self.get("/localization").await? {
            for l in locales.iter().filter_map(Value::as_str) {
                let texts = self
                    .get(&format!("/localization/{}", encode_segment(l)))
                    .await?;
                if texts.as_object().is_some_and(|m| !m.is_empty()) {
                    out.insert(l.to_owned(), texts);
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// Organizations with their domains, attributes, members (by username) and linked identity
    /// providers (by alias), sorted by alias.
    pub async fn organizations(&self) -> CliResult<Vec<Value>> {
        let mut orgs = self
            .all("/organizations", &[("briefRepresentation", "false")])
            .await?;
        for o in orgs.iter_mut() {
            let id = o["id"].as_str().unwrap_or("").to_owned();
            let base = format!("/organizations/{}", encode_segment(&id));
            let mut members: Vec<Value> = self
                .all(&format!("{base}/members"), &[])
                .await?
                .iter()
                .filter_map(|m| Some(json!({"username": m["username"].as_str()?})))
                .collect();
            sort_by_key(&mut members, "username");
            let mut idps: Vec<Value> = match self.get(&format!("{base}/identity-providers")).await?
            {
                Value::Array(a) => a
                    .iter()
                    .filter_map(|i| Some(json!({"alias": i["alias"].as_str()?})))
                    .collect(),
                _ => Vec::new(),
            };
            sort_by_key(&mut idps, "alias");
            strip(o);
            if let Some(Value::Array(d)) = o.get_mut("domains") {
                sort_by_key(d, "name");
            }
            o["members"] = Value::Array(members);
            o["identityProviders"] = Value::Array(idps);
        }
        sort_by_key(&mut orgs, "alias");
        Ok(orgs)
    }

    /// Roles with their composites by name.
    async fn roles(&self, path: &str) -> CliResult<Vec<Value>> {
        let mut roles = self.all(path, &[("briefRepresentation", "false")]).await?;
        for r in roles.iter_mut() {
            if r["composite"] == true {
                if let Some(id) = r["id"].as_str() {
                    let comps = self
                        .get(&format!("/roles-by-id/{}/composites", encode_segment(id)))
                        .await?;
                    r["composites"] = self.role_names(&comps);
                }
            }
            strip(r);
            if let Value::Object(m) = r {
                m.remove("clientRole");
            }
        }
        sort_by_key(&mut roles, "name");
        Ok(roles)
    }

    /// `{realm: [names], client: {clientId: [names]}}` from a list of role representations.
    pub fn role_names(&self, roles: &Value) -> Value {
        let mut realm = Vec::new();
        let mut client: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in roles.as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let name = r["name"].as_str().unwrap_or("").to_owned();
            if r["clientRole"] == true {
                let cid = r["containerId"]
                    .as_str()
                    .and_then(|c| self.client_ids.get(c))
                    .cloned()
                    .unwrap_or_default();
                client.entry(cid).or_default().push(name);
            } else {
                realm.push(name);
            }
        }
        realm.sort();
        let mut out = Map::new();
        if !realm.is_empty() {
            out.insert("realm".into(), json!(realm));
        }
        if !client.is_empty() {
            let mut c = Map::new();
            for (k, mut v) in client {
                v.sort();
                c.insert(k, json!(v));
            }
            out.insert("client".into(), Value::Object(c));
        }
        Value::Object(out)
    }

    async fn group_tree(&self, g: Value, paths: &mut Vec<(String, String)>) -> CliResult<Value> {
        let id = g["id"].as_str().unwrap_or("").to_owned();
        let mut full = self
            .get(&format!("/groups/{}", encode_segment(&id)))
            .await?;
        if let Some(p) = full["path"].as_str() {
            paths.push((id.clone(), p.to_owned()));
        }
        let children = self
            .all(
                &format!("/groups/{}/children", encode_segment(&id)),
                &[("briefRepresentation", "false")],
            )
            .await?;
        let mut subs = Vec::new();
        for c in children {
            subs.push(Box::pin(self.group_tree(c, paths)).await?);
        }
        sort_by_key(&mut subs, "name");
        strip(&mut full);
        if let Value::Object(m) = &mut full {
            m.insert("subGroups".into(), Value::Array(subs));
            sort_strings(m.get_mut("realmRoles"));
            if let Some(Value::Object(cr)) = m.get_mut("clientRoles") {
                for v in cr.values_mut() {
                    sort_strings(Some(v));
                }
            }
        }
        Ok(full)
    }

    pub async fn flows(&self) -> CliResult<(Vec<Value>, Vec<Value>)> {
        let top = match self.get("/authentication/flows").await? {
            Value::Array(a) => a,
            _ => Vec::new(),
        };
        let mut flows = Vec::new();
        let mut configs = Vec::new();
        for f in top {
            let alias = f["alias"].as_str().unwrap_or("").to_owned();
            let flat = self
                .get(&format!(
                    "/authentication/flows/{}/executions",
                    encode_segment(&alias)
                ))
                .await?;
            for e in flat.as_array().map(Vec::as_slice).unwrap_or(&[]) {
                if let Some(fid) = e["flowId"].as_str() {
                    let mut sub = self
                        .get(&format!("/authentication/flows/{}", encode_segment(fid)))
                        .await?;
                    clean_flow(&mut sub);
                    flows.push(sub);
                }
                if let Some(cid) = e["authenticationConfig"].as_str() {
                    let mut c = self
                        .get(&format!("/authentication/config/{}", encode_segment(cid)))
                        .await?;
                    strip(&mut c);
                    configs.push(c);
                }
            }
            let mut f = f;
            clean_flow(&mut f);
            flows.push(f);
        }
        sort_by_key(&mut flows, "alias");
        flows.dedup_by(|a, b| a["alias"] == b["alias"]);
        sort_by_key(&mut configs, "alias");
        configs.dedup_by(|a, b| a["alias"] == b["alias"]);
        Ok((flows, configs))
    }

    /// Every user's group paths and direct role mappings, by user id, from the member lists of
    /// all groups and roles (`head` must have run).
    pub async fn memberships(&self, concurrency: usize) -> CliResult<Memberships> {
        use futures_util::StreamExt;
        let mut jobs: Vec<(String, Grant)> = Vec::new();
        for (id, path) in &self.group_paths {
            jobs.push((
                format!("/groups/{}/members", encode_segment(id)),
                Grant::Group(path.clone()),
            ));
        }
        for (client, endpoint, name) in &self.role_members {
            jobs.push((endpoint.clone(), Grant::Role(client.clone(), name.clone())));
        }
        let session = &self.session;
        let mut results = futures_util::stream::iter(jobs)
            .map(|(path, grant)| async move {
                let ids = session.member_ids(&path, MEMBER_PAGE).await?;
                Ok::<_, crate::exit::CliError>((grant, ids))
            })
            .buffer_unordered(concurrency.clamp(1, 32));
        let mut all = Memberships::default();
        while let Some(r) = results.next().await {
            let (grant, ids) = r?;
            let ix = u32::try_from(all.grants.len()).unwrap_or(u32::MAX);
            all.grants.push(grant);
            for id in ids {
                all.by_user.entry(id).or_default().push(ix);
            }
        }
        Ok(all)
    }

    /// A user representation with its memberships attached (and server-assigned fields removed).
    pub fn with_membership(mut u: Value, m: Option<Membership>) -> Value {
        let mut m = m.unwrap_or_default();
        m.groups.sort();
        m.realm_roles.sort();
        let mut client_roles = Map::new();
        for (c, mut names) in m.client_roles {
            names.sort();
            client_roles.insert(c, json!(names));
        }
        strip(&mut u);
        if let Value::Object(o) = &mut u {
            o.insert("groups".into(), json!(m.groups));
            o.insert("realmRoles".into(), json!(m.realm_roles));
            o.insert("clientRoles".into(), Value::Object(client_roles));
        }
        u
    }
}

/// Sorts an authorization export by name (resources, their scopes, scopes, policies) and the
/// name lists inside policy configs, which Keycloak returns in no fixed order.
pub fn normalize_authz(s: &mut Value) {
    if let Value::Object(m) = s {
        m.remove("id");
        m.remove("clientId");
        m.remove("name");
    }
    for section in ["resources", "scopes", "policies"] {
        if let Some(Value::Array(items)) = s.get_mut(section) {
            for it in items.iter_mut() {
                if let Value::Object(m) = it {
                    m.remove("_id");
                    m.remove("id");
                    if let Some(Value::Array(sc)) = m.get_mut("scopes") {
                        for x in sc.iter_mut() {
                            if let Value::Object(o) = x {
                                o.remove("id");
                            }
                        }
                        sort_by_key(sc, "name");
                    }
                    if let Some(Value::Object(cfg)) = m.get_mut("config") {
                        for (_, v) in cfg.iter_mut() {
                            // Config values that are JSON lists of names are sets.
                            let Some(text) = v.as_str() else { continue };
                            if let Ok(Value::Array(mut names)) = serde_json::from_str::<Value>(text)
                            {
                                if names.iter().all(Value::is_string) {
                                    names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                                    *v = Value::String(Value::Array(names).to_string());
                                }
                            }
                        }
                    }
                }
            }
            sort_by_key(items, "name");
        }
    }
}

fn sort_strings(v: Option<&mut Value>) {
    if let Some(Value::Array(a)) = v {
        a.sort_by(|x, y| x.as_str().unwrap_or("").cmp(y.as_str().unwrap_or("")));
    }
}

pub fn clean_flow(f: &mut Value) {
    strip(f);
    if let Some(Value::Array(ex)) = f.get_mut("authenticationExecutions") {
        // In the order Keycloak runs them; the priorities stay (Keycloak keeps them as given
        // since 25, and leaves gaps between them for executions added later).
        ex.sort_by_key(|e| e["priority"].as_i64().unwrap_or(0));
        for e in ex.iter_mut() {
            if let Value::Object(m) = e {
                // A misspelt duplicate Keycloak sends for compatibility; a file that has only
                // the misspelt key (older exports) means it, as Keycloak's importer reads it.
                if let Some(v) = m.remove("autheticatorFlow") {
                    m.entry("authenticatorFlow").or_insert(v);
                }
            }
        }
    }
}
