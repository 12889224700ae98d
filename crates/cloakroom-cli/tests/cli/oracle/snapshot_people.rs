//! Groups (by path), users (by username) and organizations (by alias).

use serde_json::json;

use super::snapshot::{Live, list, s};

pub fn groups(c: &mut Live) {
    let mut todo = list(c.get("/groups?briefRepresentation=false&max=1000"));
    while let Some(mut g) = todo.pop() {
        let id = s(&g, "id");
        let path = s(&g, "path");
        c.ids.add(&id, format!("group:{path}"));
        if g["subGroupCount"].as_u64().unwrap_or(0) > 0 {
            todo.extend(list(c.get(&format!(
                "/groups/{id}/children?briefRepresentation=false&max=1000"
            ))));
        }
        let roles = c.get(&format!("/groups/{id}/role-mappings"));
        g["(roles)"] = json!(c.role_names(&roles));
        // The group representation's own role lists say the same as `(roles)`.
        if let Some(m) = g.as_object_mut() {
            m.remove("realmRoles");
            m.remove("clientRoles");
        }
        c.put("groups", path, g);
    }
}

pub fn users(c: &mut Live) {
    for mut u in list(c.get("/users?briefRepresentation=false&max=1000")) {
        let id = s(&u, "id");
        let name = s(&u, "username");
        c.ids.add(&id, format!("user:{name}"));
        let roles = c.get(&format!("/users/{id}/role-mappings"));
        u["(roles)"] = json!(c.role_names(&roles));
        let groups: Vec<String> = list(c.get(&format!("/users/{id}/groups?max=1000")))
            .iter()
            .map(|g| s(g, "path"))
            .collect();
        u["(groups)"] = json!(groups);
        u["(credentials)"] = c.get(&format!("/users/{id}/credentials"));
        u["(federated identities)"] = c.get(&format!("/users/{id}/federated-identity"));
        if let Some(p) = c.passwords.get(&name) {
            u["(password grant)"] = json!(c.admin.password_login(c.realm, &name, p));
        }
        c.put("users", name, u);
    }
}

pub fn organizations(c: &mut Live) {
    if c.kinds["realm"]["settings"]["organizationsEnabled"] != true {
        return;
    }
    for mut o in list(c.get("/organizations?briefRepresentation=false&max=1000")) {
        let id = s(&o, "id");
        let alias = s(&o, "alias");
        c.ids.add(&id, format!("organization:{alias}"));
        let members: Vec<String> = list(c.get(&format!("/organizations/{id}/members?max=1000")))
            .iter()
            .map(|m| format!("{} ({})", s(m, "username"), s(m, "membershipType")))
            .collect();
        o["(members)"] = json!(members);
        let idps: Vec<String> = list(c.get(&format!("/organizations/{id}/identity-providers")))
            .iter()
            .map(|i| s(i, "alias"))
            .collect();
        o["(identity providers)"] = json!(idps);
        c.put("organizations", alias, o);
    }
}
