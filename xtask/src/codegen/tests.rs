//! Generator tests: the pinned documents generate, the committed output is current, and the
//! names table is checked the way the header of `names.toml` promises.

use super::*;

fn read(rel: &str) -> String {
    std::fs::read_to_string(crate::repo_root().join(rel))
        .unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// A document with the project's supplement merged in, as `cargo xtask codegen` reads it.
fn with_supplement(rel: &str) -> String {
    let (text, notes) =
        supplement::merge_text(&read(rel), &read(supplement::DEFAULT_SUPPLEMENT)).unwrap();
    assert_eq!(
        notes,
        Vec::<String>::new(),
        "the document has none of the supplement"
    );
    text
}

#[test]
fn both_documents_generate_from_one_table() {
    let names = read(DEFAULT_NAMES);
    let g = generate(&with_supplement(DEFAULT_SPEC), &names, "26.7.3").unwrap();
    assert_eq!(
        (g.operations, g.deprecated),
        (413 + 66, 7),
        "66 from the supplement (50, then 6 Admin API v2 client and 10 console role-mapping operations)"
    );
    assert_eq!(
        g.notes,
        Vec::<String>::new(),
        "every fix-up is needed for the pinned document"
    );
    assert_eq!((g.structs, g.enums), (105 + 34, 10));
    let g = generate(
        &with_supplement("spec/keycloak-26.8.1-admin-openapi.json"),
        &names,
        "26.8.1",
    )
    .unwrap();
    assert_eq!((g.operations, g.deprecated), (415 + 66, 11));
    // 26.8.1 fixed the answer of the two `groups` operations; the fix-ups still apply.
    assert_eq!(g.notes.len(), 2, "{:?}", g.notes);
    assert!(g.files[&PathBuf::from("mod.rs")].contains("\"26.8.1\""));
}

#[test]
fn committed_output_is_current() {
    let g = generate(
        &with_supplement(DEFAULT_SPEC),
        &read(DEFAULT_NAMES),
        "26.7.3",
    )
    .unwrap();
    check(&crate::repo_root().join(DEFAULT_OUT), &g.files).unwrap();
}

#[test]
fn versions_come_from_file_names() {
    let v = |s: &str| version_from_file_name(Path::new(s));
    assert_eq!(
        v("spec/keycloak-26.8.1-admin-openapi.json").as_deref(),
        Some("26.8.1")
    );
    assert_eq!(v("openapi.json"), None);
}

/// A two-path document in the shape of Keycloak's.
fn tiny_spec() -> String {
    serde_json::json!({
        "openapi": "3.0.3",
        "paths": {
            "/admin/realms/{realm}/things": {
                "parameters": [{"name": "realm", "in": "path", "required": true, "schema": {"type": "string"}}],
                "get": {
                    "parameters": [
                        {"name": "first", "in": "query", "schema": {"type": "integer", "format": "int32"}},
                        {"name": "type", "in": "query", "schema": {"type": "string"}}
                    ],
                    "responses": {"200": {"description": "", "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}}}}}
                },
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}},
                    "responses": {"201": {"description": "Created"}}
                }
            },
            "/admin/realms/{realm}/things/{id}": {
                "parameters": [
                    {"name": "realm", "in": "path", "required": true, "schema": {"type": "string"}},
                    {"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}
                ],
                "put": {
                    "deprecated": true,
                    "requestBody": {"content": {"application/json": {"schema": {"type": "string", "format": "binary"}}}},
                    "responses": {"204": {"description": "No Content"}}
                }
            }
        },
        "components": {"schemas": {
            "Thing": {"type": "object", "properties": {
                "id": {"type": "string"},
                "type": {"$ref": "#/components/schemas/Kind"},
                "x5t#S256": {"type": "string"},
                "parent": {"$ref": "#/components/schemas/Thing"},
                "attributes": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}
            }},
            "Kind": {"type": "string", "enum": ["PLAIN", "JWT_SVID"]}
        }}
    })
    .to_string()
}

const TINY_NAMES: &str = r#"
[handles.Things]
prefix = "/admin/realms/{realm}/things"
doc = "Things."

[ops]
"GET /admin/realms/{realm}/things" = { handle = "Things", method = "list" }
"POST /admin/realms/{realm}/things" = { handle = "Things", method = "create" }
"PUT /admin/realms/{realm}/things/{id}" = { handle = "Things", method = "update", params = { id = "thing_id" }, body = "Thing", reason = "typed as binary" }
"#;

fn tiny(names: &str) -> Result<Generated> {
    generate(&tiny_spec(), names, "26.7.3")
}

fn tiny_err(names: &str) -> String {
    match tiny(names) {
        Ok(_) => panic!("generation should fail"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn tiny_document_generates() {
    let g = tiny(TINY_NAMES).unwrap();
    let ops = &g.files[&PathBuf::from("ops/things.rs")];
    assert!(ops.contains(
        "pub fn update(&self, thing_id: impl Into<String>, body: &models::Thing) -> ThingsUpdate"
    ));
    assert!(
        ops.contains("pub async fn send(self) -> Result<String>"),
        "create answers the Location id"
    );
    assert!(ops.contains("pub fn r#type(mut self, value: impl Into<String>) -> Self"));
    assert!(ops.contains("#[deprecated(note = \"deprecated by Keycloak\")]"));
    let models = &g.files[&PathBuf::from("models.rs")];
    assert!(
        models.contains("pub parent: Option<Box<Thing>>"),
        "recursive fields are boxed"
    );
    assert!(models.contains("pub r#type: Option<Kind>"));
    assert!(models.contains("rename = \"x5t#S256\""));
    assert!(models.contains("JwtSvid"));
    assert!(
        models.contains("pub attributes: Option<std::collections::BTreeMap<String, Vec<String>>>")
    );
}

#[test]
fn every_operation_needs_an_entry() {
    let names = TINY_NAMES.replace(
        "\"POST /admin/realms/{realm}/things\" = { handle = \"Things\", method = \"create\" }\n",
        "",
    );
    let e = tiny_err(&names);
    assert!(e.contains("have no entry"), "{e}");
    assert!(
        e.contains("\"POST /admin/realms/{realm}/things\" = { handle = \"Things\""),
        "{e}"
    );
}

#[test]
fn every_entry_needs_an_operation() {
    let names = format!(
        "{TINY_NAMES}\"DELETE /admin/realms/{{realm}}/things\" = {{ handle = \"Things\", method = \"clear\" }}\n"
    );
    assert!(tiny_err(&names).contains("matches no operation"));
    // ... unless it is for a newer version.
    let names = format!(
        "{TINY_NAMES}\"DELETE /admin/realms/{{realm}}/things\" = {{ handle = \"Things\", method = \"clear\", since = \"26.8.0\" }}\n"
    );
    tiny(&names).unwrap();
}

#[test]
fn names_must_not_collide() {
    let names = TINY_NAMES.replace("method = \"create\"", "method = \"list\"");
    assert!(tiny_err(&names).contains("are both `ThingsHandle::list`"));
}

#[test]
fn fixups_need_a_reason_and_a_purpose() {
    let names = TINY_NAMES.replace(", reason = \"typed as binary\"", "");
    assert!(tiny_err(&names).contains("without a `reason`"));
    let names = TINY_NAMES.replace(
        "method = \"list\" }",
        "method = \"list\", response = \"Vec<Thing>\", reason = \"same as the spec\" }",
    );
    let notes = tiny(&names).unwrap().notes;
    assert!(
        notes.len() == 1 && notes[0].contains("repeats what this document says"),
        "{notes:?}"
    );
}

#[test]
fn untyped_bodies_and_bare_ids_are_refused() {
    let names = TINY_NAMES.replace(", body = \"Thing\", reason = \"typed as binary\"", "");
    assert!(tiny_err(&names).contains("untyped"));
    let names = TINY_NAMES.replace(", params = { id = \"thing_id\" }", "");
    assert!(tiny_err(&names).contains("`id` is not a meaningful Rust name"));
}
