//! A plan is data: one [`Change`] per document object that differs from the live realm, each
//! with the writes ([`Op`]) that make it so. Writes name the objects they touch by natural key
//! ([`Seg`]); ids are looked up only when the write runs, so a plan can refer to objects an
//! earlier change of the same run creates.

use serde_json::{Value, json};

/// What a change does to its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    Unchanged,
    Update,
    Create,
    /// Part of the object cannot be applied (listed in `fields`).
    Unsupported,
    Delete,
    Failed,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Unchanged => "unchanged",
            Action::Update => "update",
            Action::Create => "create",
            Action::Unsupported => "unsupported",
            Action::Delete => "delete",
            Action::Failed => "failed",
        }
    }

    fn sign(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Delete => "-",
            Action::Failed => "!",
            Action::Unsupported => "?",
            Action::Unchanged => " ",
        }
    }
}

/// One segment of an admin path below the realm: literal text (already encoded) or an object
/// named by its natural key, resolved to its id when the write runs.
#[derive(Clone, Debug, PartialEq)]
pub enum Seg {
    Lit(String),
    Client(String),
    Group(String),
    Scope(String),
    User(String),
    Org(String),
}

/// A path below the realm's admin base.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Path(pub Vec<Seg>);

impl Path {
    pub fn lit(s: impl Into<String>) -> Self {
        Path(vec![Seg::Lit(s.into())])
    }
    pub fn then(mut self, s: impl Into<String>) -> Self {
        self.0.push(Seg::Lit(s.into()));
        self
    }
    pub fn seg(mut self, s: Seg) -> Self {
        self.0.push(s);
        self
    }
}

/// A role by (clientId or none, name).
pub type RoleRef = (Option<String>, String);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verb {
    Post,
    Put,
    Delete,
}

/// One write.
#[derive(Clone, Debug)]
pub enum Op {
    /// A request; `creates` names the object whose id the `Location` header carries.
    Send {
        verb: Verb,
        path: Path,
        body: Option<Value>,
        creates: Option<Seg>,
    },
    /// GET the object, merge `patch` into it (RFC 7386), PUT it back.
    Patch { path: Path, patch: Value },
    /// Finds the item named `name` in the list at `list`: PUTs `body` merged into it at
    /// `list/{id}`, or POSTs `body` to `list` when there is none.
    Named {
        list: Path,
        name: String,
        body: Value,
    },
    /// POSTs the id of `target` (a literal is sent as is) as a JSON string to `path`.
    Link { path: Path, target: Seg },
    /// Makes a client's default or optional client scopes (`kind`) exactly `want` (names).
    ClientScopes {
        client: String,
        kind: &'static str,
        want: Vec<String>,
    },
    /// Adds and removes role mappings (POST/DELETE role representations on `path`).
    Roles {
        path: Path,
        add: Vec<RoleRef>,
        remove: Vec<RoleRef>,
    },
    /// Adds and removes composites of a role.
    Composites {
        role: RoleRef,
        add: Vec<RoleRef>,
        remove: Vec<RoleRef>,
    },
    /// Creates a top-level flow with its executions; `flows` and `configs` are the document's
    /// flows and authenticator configs by alias.
    CreateFlow {
        alias: String,
        flows: Value,
        configs: Value,
    },
    /// Changes an existing flow in place to the document's (steps removed, added, settled).
    ReshapeFlow {
        alias: String,
        flows: Value,
        configs: Value,
    },
    /// Creates or updates (by provider type and name under its parent) a component; the parent
    /// is the realm, or the realm's component of (provider type, name).
    Component {
        parent: Option<(String, String)>,
        body: Value,
    },
    /// Deletes the sub-components of the realm's component (type, name) that are not named in
    /// `keep` (type, name): those Keycloak adds on its own when it creates a component (an LDAP
    /// provider's default mappers) and the document does not list.
    TrimSubComponents {
        parent: (String, String),
        keep: Vec<(String, String)>,
    },
    /// Replaces a realm-level component of the same type and name by a new one made from `body`
    /// (created first, then the old one deleted, so a realm never lacks an active key).
    ReplaceComponent { body: Value },
    /// Makes a client's authorization settings exactly `want`.
    Authz { client: String, want: Value },
}

impl Op {
    pub fn send(verb: Verb, path: Path, body: Option<Value>) -> Op {
        Op::Send {
            verb,
            path,
            body,
            creates: None,
        }
    }
}

/// The planned change of one document object.
#[derive(Clone, Debug)]
pub struct Change {
    pub section: String,
    pub key: String,
    pub action: Action,
    /// What differs, one line each.
    pub fields: Vec<String>,
    pub ops: Vec<Op>,
    /// Parts of the object apply cannot carry, one line each.
    pub unsupported: Vec<String>,
    /// Why it failed, once run.
    pub error: Option<String>,
}

impl Change {
    pub fn new(section: &str, key: &str, action: Action) -> Self {
        Change {
            section: section.to_owned(),
            key: key.to_owned(),
            action,
            fields: Vec::new(),
            ops: Vec::new(),
            unsupported: Vec::new(),
            error: None,
        }
    }

    pub fn fields(mut self, f: Vec<String>) -> Self {
        self.fields = f;
        self
    }

    /// Marks parts of the object as not applied.
    pub fn unsupported(mut self, what: Vec<String>) -> Self {
        self.unsupported.extend(what);
        self
    }

    /// The object's outcome for the summary: failed, else unsupported when a part is, else the
    /// action.
    pub fn outcome(&self) -> Action {
        if self.action == Action::Failed {
            Action::Failed
        } else if !self.unsupported.is_empty() {
            Action::Unsupported
        } else {
            self.action
        }
    }

    pub fn op(mut self, op: Op) -> Self {
        self.ops.push(op);
        self
    }

    /// Adds the fields and writes of another change of the same object (an unchanged object
    /// becomes updated).
    pub fn absorb(&mut self, other: Change) {
        if other.action > self.action && other.action != Action::Unsupported {
            self.action = other.action;
        }
        self.fields.extend(other.fields);
        self.ops.extend(other.ops);
        self.unsupported.extend(other.unsupported);
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "section": self.section, "key": self.key, "action": self.action.name(),
            "fields": self.fields,
        });
        if let Some(e) = &self.error {
            v["error"] = json!(e);
        }
        if !self.unsupported.is_empty() {
            v["unsupported"] = json!(self.unsupported);
        }
        v
    }

    /// `+ clients/app: field, field`, then `? clients/app: unsupported: …` when a part is not
    /// applied; nothing for an unchanged object.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.action != Action::Unchanged || self.error.is_some() {
            out.push(self.line());
        }
        if !self.unsupported.is_empty() {
            out.push(format!(
                "? {}/{}: not applied: {}",
                self.section,
                self.key,
                self.unsupported.join("; ")
            ));
        }
        out
    }

    fn line(&self) -> String {
        let extra = match &self.error {
            Some(e) => format!(": {e}"),
            None if self.fields.is_empty() => String::new(),
            None => format!(": {}", self.fields.join(", ")),
        };
        format!(
            "{} {}/{}{extra}",
            self.action.sign(),
            self.section,
            self.key
        )
    }
}

/// Counts of the document's objects by outcome; they add up to the document's object count.
#[derive(Default, Debug, Clone, Copy)]
pub struct Counts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub unsupported: usize,
    pub deleted: usize,
}

impl Counts {
    pub fn add(&mut self, a: Action) {
        match a {
            Action::Create => self.created += 1,
            Action::Update => self.updated += 1,
            Action::Unchanged => self.unchanged += 1,
            Action::Failed => self.failed += 1,
            Action::Unsupported => self.unsupported += 1,
            Action::Delete => self.deleted += 1,
        }
    }
}
