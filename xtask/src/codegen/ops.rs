//! `generated/ops/<module>.rs` (handles and request builders), `ops/mod.rs` and `catalog.rs`.

use std::collections::BTreeMap;

use super::plan::{BodyPlan, FieldPlan, HandlePlan, OpPlan, PathArg, Plan, RespPlan};
use super::types::Ty;

/// Which shared helpers of `generated/mod.rs` the operations use.
#[derive(Default)]
pub struct Uses {
    /// `Query::set`
    pub set: bool,
    /// `Query::set_all`
    pub set_all: bool,
    /// `Query::apply`
    pub apply: bool,
    /// `Query::to_pairs`
    pub to_pairs: bool,
    /// `Query::from_pairs`
    pub from_pairs: bool,
    /// `encode_path`
    pub encode_path: bool,
}

fn esc(s: &str) -> String {
    format!("{s:?}")
}

fn method_variant(m: &str) -> String {
    let mut cs = m.chars();
    match cs.next() {
        Some(f) => f.to_string() + &cs.as_str().to_ascii_lowercase(),
        None => String::new(),
    }
}

/// What `send` answers, as a Rust type.
fn answer_type(r: &RespPlan) -> String {
    match r {
        RespPlan::Unit => "()".into(),
        RespPlan::Json(t) => t.rust("models::"),
        RespPlan::Location | RespPlan::Text => "String".into(),
        RespPlan::OptLocation => "Option<String>".into(),
        RespPlan::Bytes => "bytes::Bytes".into(),
    }
}

fn answer_doc(r: &RespPlan) -> String {
    match r {
        RespPlan::Unit => "Answers nothing (`()`).".into(),
        RespPlan::Json(Ty::Option(t)) => {
            format!("Answers `Option<{}>`: `None` when Keycloak sends an empty body.", t.doc())
        }
        RespPlan::Json(t) => format!("Answers `{}`.", t.doc()),
        RespPlan::Location => "Answers the new object's id, taken from the `Location` header.".into(),
        RespPlan::OptLocation => {
            "Answers the new object's id from the `Location` header, or `None` when nothing was created."
                .into()
        }
        RespPlan::Text => "Answers the body as text.".into(),
        RespPlan::Bytes => "Answers the raw body.".into(),
    }
}

/// The argument type of a body in a handle method, and how the builder stores it.
fn body_arg(t: &Ty) -> (String, String) {
    match t {
        Ty::String => ("impl Into<String>".into(), "body.into()".into()),
        Ty::Bool | Ty::I32 | Ty::I64 | Ty::F64 => (t.rust("models::"), "body".into()),
        Ty::Vec(inner) => (
            format!("&[{}]", inner.rust("models::")),
            "body.to_vec()".into(),
        ),
        other => (
            format!("&{}", other.rust("models::")),
            "body.clone()".into(),
        ),
    }
}

fn setter_arg(t: &Ty) -> String {
    match t {
        Ty::String => "impl Into<String>".into(),
        other => format!("impl Into<{}>", other.rust("")),
    }
}

fn deprecated_attr(out: &mut String) {
    out.push_str("#[deprecated(note = \"deprecated by Keycloak\")]\n");
}

pub fn render_module(handles: &[&HandlePlan], header: &str, uses: &mut Uses) -> String {
    let mut body = String::new();
    let mut uses_models = false;
    let mut uses_check = false;
    let mut uses_bytes_part = false;
    for h in handles {
        render_handle(&mut body, h, uses);
        for op in &h.ops {
            let (text, info) = render_builder(op, uses);
            body.push_str(&text);
            uses_models |= info.models;
            uses_check |= !op.path_params.is_empty();
            uses_bytes_part |= info.part;
        }
    }
    let mut out = String::new();
    out.push_str(header);
    let names: Vec<String> = handles
        .iter()
        .map(|h| format!("`{}`", h.struct_name))
        .collect();
    out.push_str(&format!(
        "//! {} and their request builders.\n\n",
        names.join(", ")
    ));
    out.push_str("use crate::Client;\nuse crate::error::Result;\n");
    if uses_models {
        out.push_str("use crate::generated::models;\n");
    }
    if uses_bytes_part {
        out.push_str("use crate::request::Part;\n");
    }
    out.push_str("use crate::request::{Method, Request, Response};\n");
    if uses_check {
        out.push_str("use crate::request::{check_path_param, encode_segment};\n");
    }
    out.push('\n');
    out.push_str(&body);
    out
}

fn render_handle(out: &mut String, h: &HandlePlan, uses: &mut Uses) {
    out.push_str(&format!(
        "/// {}\n///\n/// Operations under `{}`.\n",
        h.doc, h.prefix
    ));
    out.push_str("#[derive(Clone, Debug)]\n");
    out.push_str(&format!("pub struct {} {{\n", h.struct_name));
    out.push_str("    pub(crate) client: Client,\n");
    for f in &h.fields {
        out.push_str(&format!("    pub(crate) {}: String,\n", f.rust));
    }
    out.push_str("}\n\n");

    out.push_str(&format!("impl {} {{\n", h.struct_name));
    let params: Vec<String> = h
        .fields
        .iter()
        .map(|f| format!("{}: impl Into<String>", f.rust))
        .collect();
    let mut sig = vec!["client: Client".to_owned()];
    sig.extend(params);
    out.push_str(&format!(
        "    /// A handle for the operations under `{}`.\n",
        h.prefix
    ));
    out.push_str(&format!(
        "    pub fn new({}) -> Self {{\n        Self {{\n            client,\n",
        sig.join(", ")
    ));
    for f in &h.fields {
        out.push_str(&format!("            {0}: {0}.into(),\n", f.rust));
    }
    out.push_str("        }\n    }\n");
    for op in &h.ops {
        out.push('\n');
        render_method(out, h, op, uses);
    }
    out.push_str("}\n\n");
}

fn render_method(out: &mut String, h: &HandlePlan, op: &OpPlan, uses: &mut Uses) {
    out.push_str(&format!(
        "    /// Sends `{} {}`.\n    ///\n    /// {}\n",
        op.method,
        op.path,
        answer_doc(&op.response)
    ));
    for a in op.path_params.iter().filter(|a| a.multi_segment) {
        out.push_str(&format!(
            "    ///\n    /// `{}` may contain `/`; each segment is percent-encoded on its own.\n",
            a.rust
        ));
    }
    if op.deprecated {
        out.push_str(
            "    #[deprecated(note = \"deprecated by Keycloak\")]\n    #[allow(deprecated)]\n",
        );
    }
    let mut sig = vec!["&self".to_owned()];
    let mut init = vec!["client: self.client.clone()".to_owned()];
    for f in &h.fields {
        init.push(format!("{0}: self.{0}.clone()", f.rust));
    }
    for a in &op.args {
        sig.push(format!("{}: impl Into<String>", a.rust));
        init.push(format!("{0}: {0}.into()", a.rust));
    }
    match &op.body {
        BodyPlan::None => {}
        BodyPlan::Json(t) => {
            let (arg, store) = body_arg(t);
            sig.push(format!("body: {arg}"));
            init.push(format!("body: {store}"));
        }
        BodyPlan::Text => {
            sig.push("body: impl Into<String>".into());
            init.push("body: body.into()".into());
        }
        BodyPlan::Form { required, .. } => {
            for f in required {
                sig.push(format!("{}: impl Into<String>", f.rust));
            }
            init.push(format!("form: {}", pairs_init(required, uses)));
        }
        BodyPlan::Multipart {
            required, files, ..
        } => {
            for f in required {
                sig.push(format!("{}: impl Into<String>", f.rust));
            }
            for f in files {
                sig.push(format!("{}: impl Into<bytes::Bytes>", f.rust));
            }
            init.push(format!("fields: {}", pairs_init(required, uses)));
            let parts: Vec<String> = files
                .iter()
                .map(|f| {
                    format!(
                        "Part {{ name: {json}.to_owned(), file_name: Some({json}.to_owned()), \
                         content_type: Some(\"application/octet-stream\".to_owned()), data: {rust}.into() }}",
                        json = esc(&f.json),
                        rust = f.rust
                    )
                })
                .collect();
            init.push(format!("parts: vec![{}]", parts.join(", ")));
        }
    }
    if !op.query.is_empty() {
        init.push("query: crate::generated::Query::default()".into());
    }
    out.push_str(&format!(
        "    pub fn {}({}) -> {} {{\n",
        op.name,
        sig.join(", "),
        op.builder
    ));
    out.push_str(&format!("        {} {{\n", op.builder));
    for i in init {
        out.push_str(&format!("            {i},\n"));
    }
    out.push_str("        }\n    }\n");
}

fn pairs_init(fields: &[FieldPlan], uses: &mut Uses) -> String {
    if fields.is_empty() {
        return "crate::generated::Query::default()".into();
    }
    uses.from_pairs = true;
    let items: Vec<String> = fields
        .iter()
        .map(|f| format!("({}, {}.into())", esc(&f.json), f.rust))
        .collect();
    format!(
        "crate::generated::Query::from_pairs(vec![{}])",
        items.join(", ")
    )
}

struct BuilderInfo {
    models: bool,
    part: bool,
}

fn render_builder(op: &OpPlan, uses: &mut Uses) -> (String, BuilderInfo) {
    let mut out = String::new();
    let mut info = BuilderInfo {
        models: false,
        part: false,
    };
    let b = &op.builder;
    let allow = if op.deprecated {
        "#[allow(deprecated)]\n"
    } else {
        ""
    };

    // The struct.
    out.push_str(&format!(
        "/// Request builder for `{} {}`, made by [`{}Handle::{}`].\n",
        op.method, op.path, op.handle, op.name
    ));
    let has_setters = !op.query.is_empty()
        || matches!(&op.body, BodyPlan::Form { optional, .. } | BodyPlan::Multipart { optional, .. } if !optional.is_empty());
    if has_setters {
        out.push_str("///\n/// Optional parameters are set with its methods; then call [`send`](Self::send).\n");
    }
    if op.deprecated {
        deprecated_attr(&mut out);
    }
    out.push_str("#[derive(Clone)]\n#[must_use = \"a request builder does nothing until `send` is called\"]\n");
    out.push_str(&format!("pub struct {b} {{\n    client: Client,\n"));
    let mut debug_fields = Vec::new();
    for a in &op.path_params {
        out.push_str(&format!("    {}: String,\n", a.rust));
        debug_fields.push(a.rust.clone());
    }
    match &op.body {
        BodyPlan::None => {}
        BodyPlan::Json(t) => {
            info.models |= t.uses_models();
            out.push_str(&format!("    body: {},\n", t.rust("models::")));
        }
        BodyPlan::Text => out.push_str("    body: String,\n"),
        BodyPlan::Form { .. } => {
            uses.to_pairs = true;
            out.push_str("    form: crate::generated::Query,\n");
        }
        BodyPlan::Multipart { .. } => {
            uses.to_pairs = true;
            info.part = true;
            out.push_str("    fields: crate::generated::Query,\n    parts: Vec<Part>,\n");
        }
    }
    if !op.query.is_empty() {
        uses.apply = true;
        out.push_str("    query: crate::generated::Query,\n");
        debug_fields.push("query".into());
    }
    out.push_str("}\n\n");
    if let RespPlan::Json(t) = &op.response {
        info.models |= t.uses_models();
    }

    // Debug without the body, which may hold secrets.
    out.push_str(allow);
    out.push_str(&format!(
        "impl std::fmt::Debug for {b} {{\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{\n        f.debug_struct({})\n",
        esc(b)
    ));
    for d in &debug_fields {
        out.push_str(&format!(
            "            .field({}, &self.{d})\n",
            esc(d.trim_start_matches("r#"))
        ));
    }
    out.push_str("            .finish_non_exhaustive()\n    }\n}\n\n");

    // Setters, request, send.
    out.push_str(allow);
    out.push_str(&format!("impl {b} {{\n"));
    for q in &op.query {
        if !matches!(q.ty, Ty::Vec(_)) {
            uses.set = true;
        }
        let mut doc = format!("    /// Sets the `{}` query parameter", q.json);
        if let Some(d) = &q.default {
            doc.push_str(&format!(" (Keycloak's default: `{d}`)"));
        }
        doc.push_str(".\n");
        out.push_str(&doc);
        if q.deprecated {
            out.push_str("    #[deprecated(note = \"deprecated by Keycloak\")]\n");
        }
        match &q.ty {
            Ty::Vec(_) => {
                uses.set_all = true;
                out.push_str(&format!(
                    "    pub fn {}<I, S>(mut self, values: I) -> Self\n    where\n        I: IntoIterator<Item = S>,\n        S: Into<String>,\n    {{\n        \
                     self.query.set_all({}, values.into_iter().map(Into::into));\n        self\n    }}\n\n",
                    q.setter,
                    esc(&q.json)
                ));
            }
            Ty::String => out.push_str(&format!(
                "    pub fn {}(mut self, value: impl Into<String>) -> Self {{\n        self.query.set({}, value.into());\n        self\n    }}\n\n",
                q.setter,
                esc(&q.json)
            )),
            t => out.push_str(&format!(
                "    pub fn {}(mut self, value: {}) -> Self {{\n        self.query.set({}, Into::<{}>::into(value).to_string());\n        self\n    }}\n\n",
                q.setter,
                setter_arg(t),
                esc(&q.json),
                t.rust("")
            )),
        }
    }
    let optional_fields: &[FieldPlan] = match &op.body {
        BodyPlan::Form { optional, .. } | BodyPlan::Multipart { optional, .. } => optional,
        _ => &[],
    };
    let store = if matches!(op.body, BodyPlan::Form { .. }) {
        "form"
    } else {
        "fields"
    };
    for f in optional_fields {
        uses.set = true;
        out.push_str(&format!(
            "    /// Sets the `{json}` form field.\n    pub fn {setter}(mut self, value: impl Into<String>) -> Self {{\n        \
             self.{store}.set({lit}, value.into());\n        self\n    }}\n\n",
            json = f.json,
            setter = super::naming::field_ident(&f.rust),
            lit = esc(&f.json),
        ));
    }

    render_to_request(&mut out, op, uses);

    out.push_str(
        "    /// Sends the request and returns Keycloak's answer undecoded.\n    \
         pub async fn send_response(self) -> Result<Response> {\n        \
         let request = self.to_request()?;\n        self.client.send(request).await\n    }\n\n",
    );
    out.push_str(&format!(
        "    /// Sends the request. {}\n    pub async fn send(self) -> Result<{}> {{\n",
        answer_doc(&op.response),
        answer_type(&op.response)
    ));
    let tail = match &op.response {
        RespPlan::Unit => "self.send_response().await.map(drop)".to_owned(),
        RespPlan::Json(_) => "self.send_response().await?.json()".to_owned(),
        RespPlan::Location => "self.send_response().await?.location_id()".to_owned(),
        RespPlan::OptLocation => "let response = self.send_response().await?;\n        \
                                  match response.location() {\n            \
                                  Some(_) => response.location_id().map(Some),\n            \
                                  None => Ok(None),\n        }"
            .to_owned(),
        RespPlan::Text => "Ok(self.send_response().await?.text())".to_owned(),
        RespPlan::Bytes => "Ok(self.send_response().await?.bytes().clone())".to_owned(),
    };
    out.push_str(&format!("        {tail}\n    }}\n"));
    render_stream(&mut out, op);
    out.push_str("}\n\n");
    (out, info)
}

/// Listings paged with `first`/`max` that answer a list also get `stream()`: every item of
/// every page, so Keycloak's default page of 100 never truncates a result silently.
fn render_stream(out: &mut String, op: &OpPlan) {
    let paged = ["first", "max"]
        .iter()
        .all(|p| op.query.iter().any(|q| q.json == *p && q.ty == Ty::I32));
    let RespPlan::Json(Ty::Vec(item)) = &op.response else {
        return;
    };
    if !paged {
        return;
    }
    let item = item.rust("models::");
    out.push_str(&format!(
        "\n    /// Every item of every page, fetched lazily [`DEFAULT_PAGE_SIZE`](crate::admin::DEFAULT_PAGE_SIZE) \
         at a time until a short page. `first` and `max` set on the builder are replaced.\n    \
         pub fn stream(self) -> crate::admin::Pages<{item}> {{\n        \
         self.stream_pages(crate::admin::DEFAULT_PAGE_SIZE)\n    }}\n\n    \
         /// Like [`stream`](Self::stream), with `page_size` items per request.\n    \
         pub fn stream_pages(self, page_size: u32) -> crate::admin::Pages<{item}> {{\n        \
         crate::admin::pages(page_size, move |first, max| {{\n            \
         let first = i32::try_from(first).unwrap_or(i32::MAX);\n            \
         let max = i32::try_from(max).unwrap_or(i32::MAX);\n            \
         self.clone().first(first).max(max).send()\n        }})\n    }}\n"
    ));
}

fn encode_expr(a: &PathArg, uses: &mut Uses) -> String {
    if a.multi_segment {
        uses.encode_path = true;
        format!("crate::generated::encode_path(&self.{})", a.rust)
    } else {
        format!("encode_segment(&self.{})", a.rust)
    }
}

fn render_to_request(out: &mut String, op: &OpPlan, uses: &mut Uses) {
    out.push_str("    /// The request [`send`](Self::send) sends: checked path parameters, query and body.\n");
    out.push_str("    pub fn to_request(&self) -> Result<Request> {\n");
    for a in &op.path_params {
        out.push_str(&format!(
            "        check_path_param({}, &self.{})?;\n",
            esc(a.rust.trim_start_matches("r#")),
            a.rust
        ));
    }
    let path_expr = if op.path_params.is_empty() {
        format!("{}.to_owned()", esc(&op.path))
    } else {
        let mut fmt = String::new();
        let mut args = Vec::new();
        for seg in op.path.split('/').skip(1) {
            fmt.push('/');
            match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => {
                    fmt.push_str("{}");
                    if let Some(a) = op.path_params.iter().find(|a| a.spec == name) {
                        args.push(encode_expr(a, uses));
                    }
                }
                None => fmt.push_str(&seg.replace('{', "{{").replace('}', "}}")),
            }
        }
        format!("format!({}, {})", esc(&fmt), args.join(", "))
    };
    out.push_str(&format!("        let path = {path_expr};\n"));
    let mut chain = format!(
        "Request::new(Method::{}, path, {})",
        method_variant(&op.method),
        esc(&op.path)
    );
    if op.path_params.iter().any(|a| a.spec == "realm") {
        chain.push_str(".realm(self.realm.as_str())");
    }
    if let Some(a) = op.accept {
        chain.push_str(&format!(".accept({})", esc(a)));
    }
    if let Some(c) = op.content_type {
        chain.push_str(&format!(".content_type({})", esc(c)));
    }
    if op.query.is_empty() {
        out.push_str(&format!("        let request = {chain};\n"));
    } else {
        out.push_str(&format!(
            "        let request = self.query.apply({chain});\n"
        ));
    }
    let last = match &op.body {
        BodyPlan::None => "Ok(request)",
        BodyPlan::Json(_) => "request.json(&self.body)",
        BodyPlan::Text => "Ok(request.text(self.body.as_str()))",
        BodyPlan::Form { .. } => "Ok(request.form(self.form.to_pairs()))",
        BodyPlan::Multipart { .. } => {
            "Ok(request.multipart(self.fields.to_pairs(), self.parts.clone()))"
        }
    };
    out.push_str(&format!("        {last}\n    }}\n\n"));
}

/// `ops/mod.rs`.
pub fn render_ops_mod(modules: &[String], header: &str) -> String {
    let mut out = String::new();
    out.push_str(header);
    out.push_str(
        "//! Handles and request builders, one file per area of the API; everything is re-exported\n\
         //! here and from [`crate::generated`].\n\n",
    );
    for m in modules {
        out.push_str(&format!("mod {m};\n"));
    }
    out.push('\n');
    for m in modules {
        out.push_str(&format!("pub use {m}::*;\n"));
    }
    out
}

/// `catalog.rs`.
pub fn render_catalog(plan: &Plan, header: &str) -> String {
    let mut rows: BTreeMap<(String, usize), String> = BTreeMap::new();
    for h in &plan.handles {
        for op in &h.ops {
            let rank = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
                .iter()
                .position(|m| *m == op.method)
                .unwrap_or(usize::MAX);
            let multi: Vec<String> = op
                .path_params
                .iter()
                .filter(|a| a.multi_segment)
                .map(|a| esc(&a.spec))
                .collect();
            rows.insert(
                (op.path.clone(), rank),
                format!(
                    "    OperationInfo {{\n        method: {},\n        path: {},\n        handle: {},\n        name: {},\n        deprecated: {},\n        multi_segment: &[{}],\n    }},\n",
                    esc(&op.method),
                    esc(&op.path),
                    esc(&h.name),
                    esc(&op.name),
                    op.deprecated,
                    multi.join(", ")
                ),
            );
        }
    }
    let mut out = String::new();
    out.push_str(header);
    out.push_str(
        "//! Every generated operation, for the coverage report, the CLI and tracing.\n\n\
         /// One operation of the Keycloak Admin API.\n\
         #[derive(Clone, Copy, Debug, PartialEq, Eq)]\n#[non_exhaustive]\n\
         pub struct OperationInfo {\n    \
         /// HTTP method in capitals.\n    pub method: &'static str,\n    \
         /// The path template exactly as in the OpenAPI document (`/admin/realms/{realm}/users`).\n    \
         pub path: &'static str,\n    \
         /// The handle, without the `Handle` suffix (`Users`).\n    pub handle: &'static str,\n    \
         /// The handle's method (`list`).\n    pub name: &'static str,\n    \
         /// Whether Keycloak marks the operation deprecated.\n    pub deprecated: bool,\n    \
         /// The path parameters whose value may span several segments (`a/b`; the spec's\n    \
         /// `pattern: .*`), by their name in `path`.\n    \
         pub multi_segment: &'static [&'static str],\n}\n\n",
    );
    out.push_str("/// All operations, sorted by path, then method.\npub static OPERATIONS: &[OperationInfo] = &[\n");
    for r in rows.values() {
        out.push_str(r);
    }
    out.push_str("];\n");
    out
}
