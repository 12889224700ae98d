//! Joins the spec and the names table into what gets generated, checking both on the way.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use serde_json::Value;

use super::names::{self, Names, OpDef};
use super::naming::{field_ident, is_pascal, is_plain_snake, pascal, snake};
use super::spec::{Op, Spec, placeholders};
use super::types::{self, Ty};

pub struct Plan {
    /// Sorted by name.
    pub handles: Vec<HandlePlan>,
    /// Fix-ups this document no longer needs (it says the same): worth removing once the
    /// project moves to it, but no reason to refuse it.
    pub notes: Vec<String>,
}

pub struct HandlePlan {
    /// As in the table: `Users`.
    pub name: String,
    /// `UsersHandle`.
    pub struct_name: String,
    pub prefix: String,
    pub module: String,
    pub doc: String,
    /// Path parameters of the prefix, in order.
    pub fields: Vec<PathArg>,
    /// Sorted by path, then method.
    pub ops: Vec<OpPlan>,
}

#[derive(Clone)]
pub struct PathArg {
    pub spec: String,
    pub rust: String,
    /// The spec allows `/` inside the value (`pattern: .*`): each segment is encoded on its own.
    pub multi_segment: bool,
}

pub struct OpPlan {
    pub method: String,
    pub path: String,
    pub deprecated: bool,
    pub handle: String,
    /// The Rust method name.
    pub name: String,
    /// The builder type: `UsersList`.
    pub builder: String,
    /// Every path parameter, in path order.
    pub path_params: Vec<PathArg>,
    /// Path parameters that are method arguments (not handle fields).
    pub args: Vec<PathArg>,
    pub query: Vec<QueryPlan>,
    pub body: BodyPlan,
    pub response: RespPlan,
    pub accept: Option<&'static str>,
    /// The content type of a JSON body when it is not `application/json`.
    pub content_type: Option<&'static str>,
}

/// The JSON body content type other than `application/json` that an operation may declare.
const MERGE_PATCH: &str = "application/merge-patch+json";

pub struct QueryPlan {
    pub json: String,
    pub setter: String,
    pub ty: Ty,
    pub default: Option<String>,
    pub deprecated: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldPlan {
    pub json: String,
    pub rust: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BodyPlan {
    None,
    Json(Ty),
    Text,
    Form {
        required: Vec<FieldPlan>,
        optional: Vec<FieldPlan>,
    },
    Multipart {
        required: Vec<FieldPlan>,
        optional: Vec<FieldPlan>,
        files: Vec<FieldPlan>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum RespPlan {
    /// No body, or one nobody needs.
    Unit,
    /// A JSON body (`Option<T>` when the answer may be empty).
    Json(Ty),
    /// The id at the end of the `Location` header of a 201.
    Location,
    /// Like `Location`, but the operation may also succeed without creating anything.
    OptLocation,
    Text,
    Bytes,
}

/// Builder methods that query parameters and form fields must not shadow.
const RESERVED_METHODS: &[&str] = &[
    "send",
    "send_response",
    "to_request",
    "stream",
    "stream_pages",
];

struct Errors(Vec<String>);

impl Errors {
    fn push(&mut self, msg: impl Into<String>) {
        self.0.push(msg.into());
    }
}

fn derived_module(prefix: &str) -> String {
    let rest = prefix.strip_prefix("/admin/realms/{realm}").unwrap_or("");
    match rest.split('/').find(|s| !s.is_empty()) {
        Some(seg) => snake(seg),
        None => "realms".into(),
    }
}

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|r| r.starts_with('/'))
}

/// A suggested table line for an operation the table does not know.
fn suggestion(op: &Op, names: &Names) -> String {
    let handle = names
        .handles
        .iter()
        .filter(|(_, h)| under(&op.path, &h.prefix))
        .max_by_key(|(_, h)| h.prefix.len())
        .map(|(n, _)| n.as_str())
        .unwrap_or("?");
    format!(
        "  \"{}\" = {{ handle = \"{handle}\", method = \"?\" }}",
        op.key()
    )
}

pub fn build(spec: &Spec, names: &Names) -> Result<Plan> {
    let mut errors = Errors(Vec::new());
    let is_schema = |n: &str| spec.schema(n).is_some();

    // Which table entries apply to this document, and which spec operations they name.
    let mut entries: BTreeMap<&str, &OpDef> = BTreeMap::new();
    for (key, def) in &names.ops {
        match names::applies(def.since.as_deref(), &spec.version) {
            Ok(true) => {
                entries.insert(key.as_str(), def);
            }
            Ok(false) => {}
            Err(e) => errors.push(format!("`{key}`: {e}")),
        }
    }
    let spec_keys: BTreeSet<String> = spec.ops.iter().map(Op::key).collect();
    let missing: Vec<&Op> = spec
        .ops
        .iter()
        .filter(|op| !entries.contains_key(op.key().as_str()))
        .collect();
    if !missing.is_empty() {
        let mut msg = format!(
            "{} operation(s) of the {} document have no entry in the names table; add them under [ops]:",
            missing.len(),
            spec.version
        );
        for op in &missing {
            msg.push('\n');
            msg.push_str(&suggestion(op, names));
        }
        errors.push(msg);
    }
    for key in entries.keys() {
        if !spec_keys.contains(*key) {
            errors.push(format!(
                "names table entry `{key}` matches no operation of the {} document",
                spec.version
            ));
        }
    }

    // Handles.
    let mut used_global: BTreeSet<&str> = BTreeSet::new();
    let mut used_handle: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut handles: BTreeMap<&str, HandlePlan> = BTreeMap::new();
    let mut handle_has_entry: BTreeSet<&str> = BTreeSet::new();
    for def in names.ops.values() {
        handle_has_entry.insert(def.handle.as_str());
    }
    for (name, h) in &names.handles {
        if !is_pascal(name) {
            errors.push(format!("handle `{name}`: names are UpperCamelCase"));
        }
        if !h.prefix.starts_with("/admin/") {
            errors.push(format!(
                "handle `{name}`: prefix `{}` is not under /admin/",
                h.prefix
            ));
        }
        if !handle_has_entry.contains(name.as_str()) {
            errors.push(format!("handle `{name}` has no operation"));
        }
        let derived = derived_module(&h.prefix);
        let module = match &h.module {
            Some(m) if *m == derived => {
                errors.push(format!(
                    "handle `{name}`: `module = \"{m}\"` is the default; leave it out"
                ));
                m.clone()
            }
            Some(m) => m.clone(),
            None => derived,
        };
        if !is_plain_snake(&module) {
            errors.push(format!(
                "handle `{name}`: module `{module}` is not a snake_case name"
            ));
        }
        let mut fields = Vec::new();
        for p in placeholders(&h.prefix) {
            let rust = if let Some(r) = h.params.get(p) {
                used_handle.insert((name.as_str(), p));
                r.clone()
            } else if let Some(r) = names.params.get(p) {
                used_global.insert(p);
                r.clone()
            } else {
                snake(p)
            };
            fields.push(PathArg {
                spec: p.to_owned(),
                rust,
                multi_segment: false,
            });
        }
        handles.insert(
            name.as_str(),
            HandlePlan {
                name: name.clone(),
                struct_name: format!("{name}Handle"),
                prefix: h.prefix.clone(),
                module,
                doc: h.doc.clone(),
                fields,
                ops: Vec::new(),
            },
        );
    }

    // Operations.
    let mut builders: BTreeMap<String, String> = BTreeMap::new();
    for h in handles.values() {
        builders.insert(h.struct_name.clone(), format!("handle `{}`", h.name));
    }
    let mut methods: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut notes = Vec::new();
    for op in &spec.ops {
        let key = op.key();
        let Some(def) = entries.get(key.as_str()) else {
            continue;
        };
        let Some(h) = names.handles.get(&def.handle) else {
            errors.push(format!("`{key}`: unknown handle `{}`", def.handle));
            continue;
        };
        if !under(&op.path, &h.prefix) {
            errors.push(format!(
                "`{key}`: the path is not under the prefix of handle `{}`",
                def.handle
            ));
            continue;
        }
        if !is_plain_snake(&def.method) {
            errors.push(format!(
                "`{key}`: method `{}` is not a snake_case name",
                def.method
            ));
        }
        if let Some(prev) = methods.insert((def.handle.clone(), def.method.clone()), key.clone()) {
            errors.push(format!(
                "`{key}` and `{prev}` are both `{}Handle::{}`",
                def.handle, def.method
            ));
        }
        let builder = format!("{}{}", def.handle, pascal(&def.method));
        if let Some(prev) = builders.insert(builder.clone(), format!("`{key}`")) {
            errors.push(format!(
                "`{key}`: builder name `{builder}` is also used by {prev}"
            ));
        }
        match plan_op(
            op,
            def,
            names,
            &handles,
            &mut used_global,
            &mut used_handle,
            &is_schema,
            &mut notes,
        ) {
            Ok(p) => {
                if let Some(hp) = handles.get_mut(def.handle.as_str()) {
                    hp.ops.push(p);
                }
            }
            Err(e) => errors.push(format!("`{key}`: {e}")),
        }
    }

    // Renames nobody uses are stale.
    for (name, h) in &names.handles {
        for p in h.params.keys() {
            if !used_handle.contains(&(name.as_str(), p.as_str())) {
                errors.push(format!("handle `{name}`: rename of `{p}` is not used"));
            }
        }
    }
    for p in names.params.keys() {
        if !used_global.contains(p.as_str()) {
            errors.push(format!("[params]: rename of `{p}` is not used"));
        }
    }
    for h in handles.values() {
        for f in &h.fields {
            check_rust_name(&f.rust, &format!("handle `{}`", h.name), &mut errors);
        }
    }

    if !errors.0.is_empty() {
        bail!(
            "the names table does not fit the {} document:\n- {}",
            spec.version,
            errors.0.join("\n- ")
        );
    }
    let handles = handles
        .into_values()
        .filter(|h| !h.ops.is_empty())
        .collect();
    Ok(Plan { handles, notes })
}

fn check_rust_name(name: &str, what: &str, errors: &mut Errors) {
    if name == "id" {
        errors.push(format!(
            "{what}: `id` is not a meaningful Rust name; rename it in the table"
        ));
    } else if !is_plain_snake(name) {
        errors.push(format!("{what}: `{name}` is not a snake_case name"));
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_op<'a>(
    op: &Op,
    def: &'a OpDef,
    names: &'a Names,
    handles: &BTreeMap<&str, HandlePlan>,
    used_global: &mut BTreeSet<&'a str>,
    used_handle: &mut BTreeSet<(&'a str, &'a str)>,
    is_schema: &dyn Fn(&str) -> bool,
    notes: &mut Vec<String>,
) -> Result<OpPlan> {
    let key = op.key();
    let h = &names.handles[&def.handle];
    let hp = &handles[def.handle.as_str()];
    let prefix_params = placeholders(&h.prefix);
    let mut errors = Errors(Vec::new());
    let mut used_op: BTreeSet<&str> = BTreeSet::new();

    let mut rename = |spec_name: &str| -> String {
        if let Some((k, r)) = def.params.get_key_value(spec_name) {
            used_op.insert(k.as_str());
            return r.clone();
        }
        if let Some((k, r)) = h.params.get_key_value(spec_name) {
            used_handle.insert((def.handle.as_str(), k.as_str()));
            return r.clone();
        }
        if let Some((k, r)) = names.params.get_key_value(spec_name) {
            used_global.insert(k.as_str());
            return r.clone();
        }
        snake(spec_name)
    };

    let mut path_params = Vec::new();
    let mut args = Vec::new();
    for p in &op.path_params {
        let multi_segment = p.schema.get("pattern").and_then(Value::as_str) == Some(".*");
        if prefix_params.contains(&p.name.as_str()) {
            if def.params.contains_key(&p.name) {
                errors.push(format!(
                    "`{}` belongs to the handle prefix; rename it on the handle",
                    p.name
                ));
            }
            let field = hp.fields.iter().find(|f| f.spec == p.name).cloned();
            if let Some(mut f) = field {
                f.multi_segment = multi_segment;
                path_params.push(f);
            }
        } else {
            let a = PathArg {
                spec: p.name.clone(),
                rust: rename(&p.name),
                multi_segment,
            };
            check_rust_name(
                &a.rust,
                &format!("path parameter `{}`", p.name),
                &mut errors,
            );
            path_params.push(a.clone());
            args.push(a);
        }
    }

    // Query parameters.
    let mut query = Vec::new();
    for q in &op.query {
        let ty = types::from_schema(&q.schema)?;
        match &ty {
            Ty::String | Ty::Bool | Ty::I32 | Ty::I64 | Ty::F64 => {}
            Ty::Vec(inner) if **inner == Ty::String => {}
            other => bail!(
                "query parameter `{}` has type {}, which is not supported",
                q.name,
                other.doc()
            ),
        }
        let default = q.schema.get("default").and_then(|d| match d {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        query.push(QueryPlan {
            json: q.name.clone(),
            setter: field_ident(&snake(&q.name)),
            ty,
            default,
            deprecated: q.deprecated,
        });
    }

    // Request body.
    let spec_body = spec_body(op);
    let mut body = match (&def.body, &def.multipart) {
        (Some(_), Some(_)) => bail!("`body` and `multipart` exclude each other"),
        (Some(t), None) => {
            let ty = types::parse(t, is_schema)?;
            if matches!(ty, Ty::Option(_)) {
                bail!("a request body cannot be `Option`");
            }
            let b = BodyPlan::Json(ty);
            if spec_body.as_ref().is_ok_and(|sb| *sb == b) {
                notes.push(format!(
                    "`{key}`: the `body` fix-up repeats what this document says"
                ));
            }
            b
        }
        (None, Some(m)) => {
            let mut fields = |list: &[String]| -> Vec<FieldPlan> {
                list.iter()
                    .map(|n| FieldPlan {
                        json: n.clone(),
                        rust: rename(n),
                    })
                    .collect()
            };
            let required = fields(&m.required);
            let optional = fields(&m.optional);
            let files = fields(&m.files);
            BodyPlan::Multipart {
                required,
                optional,
                files,
            }
        }
        (None, None) => match spec_body {
            Ok(b) => b,
            Err(why) => bail!("{why}; give the body type with a `body` fix-up"),
        },
    };
    if let Some(req) = &def.form_required {
        let BodyPlan::Form { required, optional } = &mut body else {
            bail!("`form_required` needs a form body");
        };
        for name in req {
            let Some(i) = optional.iter().position(|f| f.json == *name) else {
                bail!("`form_required`: the form has no field `{name}`");
            };
            required.push(optional.remove(i));
        }
    }
    // Form field names go through the same renames.
    if let BodyPlan::Form { required, optional } = &mut body {
        for f in required.iter_mut().chain(optional.iter_mut()) {
            f.rust = rename(&f.json);
        }
    }

    // Answer.
    let spec_resp = spec_response(op);
    let (response, accept) = match &def.response {
        Some(r) => {
            let plan = match r.as_str() {
                "()" => RespPlan::Unit,
                "location" => RespPlan::Location,
                "text" => RespPlan::Text,
                "bytes" => RespPlan::Bytes,
                t => RespPlan::Json(types::parse(t, is_schema)?),
            };
            if spec_resp.as_ref().is_ok_and(|(sr, _)| *sr == plan) {
                notes.push(format!(
                    "`{key}`: the `response` fix-up repeats what this document says"
                ));
            }
            let accept = match &plan {
                RespPlan::Json(_) => Some("application/json"),
                RespPlan::Bytes => Some("application/octet-stream"),
                _ => None,
            };
            (plan, accept)
        }
        None => match spec_resp {
            Ok(x) => x,
            Err(why) => bail!("{why}; give the answer with a `response` fix-up"),
        },
    };

    for k in def.params.keys() {
        if !used_op.contains(k.as_str()) && !prefix_params.contains(&k.as_str()) {
            errors.push(format!("rename of `{k}` is not used"));
        }
    }

    // Rust names in one method signature and one builder must be distinct.
    let mut arg_names: Vec<String> = hp.fields.iter().map(|f| f.rust.clone()).collect();
    arg_names.extend(args.iter().map(|a| a.rust.clone()));
    let mut setters: Vec<String> = query.iter().map(|q| q.setter.clone()).collect();
    match &body {
        BodyPlan::Json(_) | BodyPlan::Text => arg_names.push("body".into()),
        BodyPlan::Form { required, optional } => {
            arg_names.extend(required.iter().map(|f| f.rust.clone()));
            setters.extend(optional.iter().map(|f| field_ident(&f.rust)));
        }
        BodyPlan::Multipart {
            required,
            optional,
            files,
        } => {
            arg_names.extend(required.iter().chain(files).map(|f| f.rust.clone()));
            setters.extend(optional.iter().map(|f| field_ident(&f.rust)));
        }
        BodyPlan::None => {}
    }
    if let BodyPlan::Form { required, .. } | BodyPlan::Multipart { required, .. } = &body {
        for f in required {
            check_rust_name(&f.rust, &format!("form field `{}`", f.json), &mut errors);
        }
    }
    let mut seen = BTreeSet::new();
    for n in &arg_names {
        if !seen.insert(n.as_str()) || n == "client" {
            errors.push(format!("argument name `{n}` is used twice"));
        }
    }
    let mut seen = BTreeSet::new();
    for s in &setters {
        if !seen.insert(s.as_str()) {
            errors.push(format!("setter `{s}` is used twice"));
        }
        if RESERVED_METHODS.contains(&s.as_str()) {
            errors.push(format!("setter `{s}` would shadow a builder method"));
        }
    }
    if !errors.0.is_empty() {
        bail!("{}", errors.0.join("; "));
    }

    Ok(OpPlan {
        method: op.method.clone(),
        path: op.path.clone(),
        deprecated: op.deprecated,
        handle: def.handle.clone(),
        name: def.method.clone(),
        builder: format!("{}{}", def.handle, pascal(&def.method)),
        path_params,
        args,
        query,
        body,
        response,
        accept,
        content_type: merge_patch(op).then_some(MERGE_PATCH),
    })
}

/// True when the operation takes a JSON Merge Patch body (and no plain JSON one).
fn merge_patch(op: &Op) -> bool {
    op.body.as_ref().is_some_and(|c| {
        c.iter().any(|(ct, _)| ct == MERGE_PATCH)
            && !c.iter().any(|(ct, _)| ct == "application/json")
    })
}

/// The request body as the spec describes it, or why it cannot be used.
fn spec_body(op: &Op) -> Result<BodyPlan, String> {
    let Some(content) = &op.body else {
        return Ok(BodyPlan::None);
    };
    let get = |ct: &str| content.iter().find(|(c, _)| c == ct).map(|(_, s)| s);
    if let Some(schema) = get("application/json").or_else(|| get(MERGE_PATCH)) {
        if types::is_untyped(schema) {
            return Err("the spec leaves the JSON body untyped".into());
        }
        let ty = types::from_schema(schema).map_err(|e| e.to_string())?;
        // A string offered as text/plain too is raw text (a document), not a JSON string.
        if ty == Ty::String && get("text/plain").is_some() {
            return Ok(BodyPlan::Text);
        }
        return Ok(BodyPlan::Json(ty));
    }
    if get("text/plain").is_some() {
        return Ok(BodyPlan::Text);
    }
    if let Some(schema) = get("application/x-www-form-urlencoded") {
        let props = schema.get("properties").and_then(Value::as_object);
        let Some(props) = props else {
            return Err("the form body lists no fields".into());
        };
        let optional = props
            .keys()
            .map(|k| FieldPlan {
                json: k.clone(),
                rust: snake(k),
            })
            .collect();
        return Ok(BodyPlan::Form {
            required: Vec::new(),
            optional,
        });
    }
    let cts: Vec<&str> = content.iter().map(|(c, _)| c.as_str()).collect();
    Err(format!(
        "the body's content types ({}) are not supported",
        cts.join(", ")
    ))
}

/// The answer as the spec describes it, with the `Accept` header to send.
fn spec_response(op: &Op) -> Result<(RespPlan, Option<&'static str>), String> {
    let with_content = op.responses.iter().find(|(_, c)| !c.is_empty());
    let Some((code, content)) = with_content else {
        let created = op.method == "POST" && op.responses.iter().any(|(c, _)| *c == 201);
        return Ok(match (created, op.responses.len()) {
            (true, 1) => (RespPlan::Location, None),
            (true, _) => (RespPlan::OptLocation, None),
            (false, _) => (RespPlan::Unit, None),
        });
    };
    let get = |ct: &str| content.iter().find(|(c, _)| c == ct).map(|(_, s)| s);
    if let Some(schema) = get("application/json").or_else(|| get("*/*")) {
        if types::is_untyped(schema) {
            return Err(format!("the spec leaves the {code} answer untyped"));
        }
        let ty = types::from_schema(schema).map_err(|e| e.to_string())?;
        let may_be_empty = op.responses.iter().any(|(_, c)| c.is_empty());
        let ty = if may_be_empty {
            Ty::Option(Box::new(ty))
        } else {
            ty
        };
        return Ok((RespPlan::Json(ty), Some("application/json")));
    }
    if get("application/octet-stream").is_some() {
        return Ok((RespPlan::Bytes, Some("application/octet-stream")));
    }
    if get("text/plain").is_some() {
        return Ok((RespPlan::Text, Some("text/plain")));
    }
    let cts: Vec<&str> = content.iter().map(|(c, _)| c.as_str()).collect();
    Err(format!(
        "the answer's content types ({}) are not supported",
        cts.join(", ")
    ))
}
