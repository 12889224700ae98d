//! The JAX-RS view of the classes: root resources, resource methods, sub-resource locators, and
//! the walk from each root through the locators to every served HTTP method + path.

use std::collections::{BTreeMap, BTreeSet};

use super::classfile::{
    ACC_BRIDGE, ACC_INTERFACE, ACC_STATIC, ACC_SYNTHETIC, Annotation, Class, Method,
};
use super::jars::Classes;
use super::locate::Targets;
use super::providers;

const PATH: &str = "Ljakarta/ws/rs/Path;";
const HTTP_METHODS: [(&str, &str); 7] = [
    ("Ljakarta/ws/rs/GET;", "GET"),
    ("Ljakarta/ws/rs/POST;", "POST"),
    ("Ljakarta/ws/rs/PUT;", "PUT"),
    ("Ljakarta/ws/rs/DELETE;", "DELETE"),
    ("Ljakarta/ws/rs/PATCH;", "PATCH"),
    ("Ljakarta/ws/rs/HEAD;", "HEAD"),
    ("Ljakarta/ws/rs/OPTIONS;", "OPTIONS"),
];
/// How deep locators may nest before the walk gives up (a guard against cycles).
const MAX_DEPTH: usize = 24;

/// One served HTTP method + path and where it is implemented.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Served {
    pub method: String,
    pub path: String,
    /// `package.Class#method` of the resource method.
    pub source: String,
    pub jar: String,
    /// The locator chain from the root, `Class#method` each.
    pub via: Vec<String>,
    /// Keycloak features (`Profile.Feature` constants) that the root, the locators, the
    /// provider factories or the method itself test: the endpoint needs them enabled.
    pub features: BTreeSet<String>,
}

/// A locator whose target could not be found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Unresolved {
    pub path: String,
    pub source: String,
    pub returns: String,
    pub reason: String,
}

/// A resource method or locator, with the annotations that apply to it after inheritance.
struct Member<'a> {
    owner: &'a Class,
    method: &'a Method,
    /// The most derived declaration (for the return type, which may be covariant).
    implementation: &'a Method,
    http: Option<&'static str>,
    path: Option<String>,
}

pub struct Walk<'a> {
    classes: &'a Classes,
    /// Classes with resource methods or locators (their own or inherited).
    resources: BTreeSet<String>,
    /// Supertype -> its concrete subtypes (sorted).
    below: BTreeMap<String, Vec<String>>,
    pub served: BTreeSet<Served>,
    pub unresolved: BTreeSet<Unresolved>,
    /// Locators resolved through an SPI: path -> provider classes.
    pub resolved_by_provider: BTreeMap<String, Vec<String>>,
}

pub fn java_name(internal: &str) -> String {
    internal.replace('/', ".")
}

fn http_of(annotations: &[Annotation]) -> Option<&'static str> {
    HTTP_METHODS
        .iter()
        .find(|(d, _)| annotations.iter().any(|a| a.type_desc == *d))
        .map(|(_, m)| *m)
}

fn path_of(annotations: &[Annotation]) -> Option<String> {
    annotations
        .iter()
        .find(|a| a.type_desc == PATH)
        .and_then(Annotation::str_value)
        .map(str::to_string)
}

fn is_jaxrs(m: &Method) -> bool {
    http_of(&m.annotations).is_some() || path_of(&m.annotations).is_some()
}

/// Joins path segments the way JAX-RS does, and drops `{name: regex}` regexes.
pub fn join(prefix: &str, segment: &str) -> String {
    let mut out = String::from(prefix.trim_end_matches('/'));
    let seg = strip_regex(segment.trim_matches('/'));
    if !seg.is_empty() {
        out.push('/');
        out.push_str(&seg);
    }
    if out.is_empty() { "/".to_string() } else { out }
}

fn strip_regex(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut skipping = false;
    for ch in path.chars() {
        match ch {
            '{' => {
                depth += 1;
                if depth == 1 {
                    skipping = false;
                    out.push(ch);
                    continue;
                }
            }
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    skipping = false;
                    out.push(ch);
                    continue;
                }
            }
            ':' if depth == 1 => skipping = true,
            c if c.is_whitespace() && depth > 0 => continue,
            _ => {}
        }
        if !skipping {
            out.push(ch);
        }
    }
    out.split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("/")
}

/// The features a root class's registration check tests: a static `boolean` method that reads
/// a feature and that the class itself never calls (the server calls it when it registers the
/// root, as with `isAdminApiV2Enabled()`). Checks the class calls itself gate single methods.
fn root_gate(class: &Class) -> BTreeSet<String> {
    let called: BTreeSet<&str> = class
        .methods
        .iter()
        .flat_map(|m| &m.invoked)
        .filter(|call| call.owner == class.name)
        .map(|call| call.name.as_str())
        .collect();
    class
        .methods
        .iter()
        .filter(|m| m.access & ACC_STATIC != 0 && m.descriptor == "()Z")
        .filter(|m| !called.contains(m.name.as_str()))
        .flat_map(|m| m.features.iter().cloned())
        .collect()
}

/// Replaces the last `{template}` segment of `path` with a provider's id.
fn with_id(path: &str, id: Option<&str>) -> String {
    match (id, path.rsplit_once('/')) {
        (Some(id), Some((head, last))) if last.starts_with('{') => format!("{head}/{id}"),
        _ => path.to_string(),
    }
}

impl<'a> Walk<'a> {
    pub fn new(classes: &'a Classes) -> Self {
        let mut walk = Walk {
            classes,
            resources: BTreeSet::new(),
            below: BTreeMap::new(),
            served: BTreeSet::new(),
            unresolved: BTreeSet::new(),
            resolved_by_provider: BTreeMap::new(),
        };
        for (c, _) in classes.by_name.values() {
            let hierarchy = walk.hierarchy(&c.name);
            if hierarchy.iter().any(|h| h.methods.iter().any(is_jaxrs)) {
                walk.resources.insert(c.name.clone());
            }
            if c.is_abstract() {
                continue;
            }
            for h in hierarchy.iter().skip(1) {
                walk.below
                    .entry(h.name.clone())
                    .or_default()
                    .push(c.name.clone());
            }
        }
        walk
    }

    /// The class and its supertypes that the distribution has, most derived first.
    pub fn hierarchy(&self, name: &str) -> Vec<&'a Class> {
        let mut out: Vec<&'a Class> = Vec::new();
        let mut queue = vec![name.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(n) = queue.first().cloned() {
            queue.remove(0);
            if !seen.insert(n.clone()) {
                continue;
            }
            if let Some(c) = self.classes.get(&n) {
                out.push(c);
                queue.extend(c.super_name.iter().cloned());
                queue.extend(c.interfaces.iter().cloned());
            }
        }
        out
    }

    /// The resource methods and locators of a class, with JAX-RS annotation inheritance.
    fn members(&self, name: &str) -> Vec<Member<'a>> {
        let mut by_key: BTreeMap<(String, String), Member<'a>> = BTreeMap::new();
        let mut implementations: BTreeMap<(String, String), &'a Method> = BTreeMap::new();
        for class in self.hierarchy(name) {
            for m in &class.methods {
                if m.access & (ACC_STATIC | ACC_SYNTHETIC | ACC_BRIDGE) != 0 || m.name == "<init>" {
                    continue;
                }
                let key = (m.name.clone(), m.params_desc().to_string());
                let implementation = *implementations.entry(key.clone()).or_insert(m);
                if by_key.contains_key(&key) || !is_jaxrs(m) {
                    continue;
                }
                by_key.insert(
                    key,
                    Member {
                        owner: class,
                        method: m,
                        implementation,
                        http: http_of(&m.annotations),
                        path: path_of(&m.annotations),
                    },
                );
            }
        }
        by_key.into_values().collect()
    }

    /// The features a method reads, directly or through helpers of its own class hierarchy
    /// that it calls (`checkEnabled()` -> `isAdminApiV2Enabled()`), up to two calls deep.
    fn method_features(&self, class: &str, m: &Method) -> BTreeSet<String> {
        let own: BTreeSet<&str> = self
            .hierarchy(class)
            .iter()
            .map(|h| h.name.as_str())
            .collect();
        let mut out: BTreeSet<String> = m.features.iter().cloned().collect();
        let mut level = vec![m];
        for _ in 0..2 {
            let mut next = Vec::new();
            for caller in level {
                for call in caller
                    .invoked
                    .iter()
                    .filter(|c| own.contains(c.owner.as_str()))
                {
                    if let Some(callee) = self.lookup(class, &call.name, &call.descriptor) {
                        out.extend(callee.features.iter().cloned());
                        next.push(callee);
                    }
                }
            }
            level = next;
        }
        out
    }

    pub fn classes(&self) -> &'a Classes {
        self.classes
    }

    /// Whether a class (or a supertype) declares resource methods or locators.
    pub fn is_resource(&self, name: &str) -> bool {
        self.resources.contains(name)
    }

    /// Walks one root resource class mounted at `prefix`.
    pub fn walk(&mut self, class: &str, prefix: &str) {
        let features = self.classes.get(class).map(root_gate).unwrap_or_default();
        self.walk_at(class, prefix, &mut Vec::new(), &features);
    }

    fn walk_at(
        &mut self,
        class: &str,
        prefix: &str,
        via: &mut Vec<String>,
        features: &BTreeSet<String>,
    ) {
        if via.len() > MAX_DEPTH {
            self.unresolved.insert(Unresolved {
                path: prefix.to_string(),
                source: via.last().cloned().unwrap_or_default(),
                returns: java_name(class),
                reason: format!("locators nest deeper than {MAX_DEPTH}"),
            });
            return;
        }
        for member in self.members(class) {
            let path = match &member.path {
                Some(p) => join(prefix, p),
                None => prefix.to_string(),
            };
            let source = format!("{}#{}", java_name(&member.owner.name), member.method.name);
            let mut features = features.clone();
            features.extend(self.method_features(class, member.method));
            features.extend(self.method_features(class, member.implementation));
            if let Some(http) = member.http {
                let jar = self
                    .classes
                    .jar_of(&member.owner.name)
                    .unwrap_or("")
                    .to_string();
                self.served.insert(Served {
                    method: http.to_string(),
                    path,
                    source,
                    jar,
                    via: via.clone(),
                    features,
                });
                continue;
            }
            // A locator may lead to a subclass that inherits it (`PolicyService` ->
            // `PolicyTypeService`), but the same locator on the same class twice is a cycle.
            let step = format!("{source} on {}", java_name(class));
            if via.contains(&step) {
                continue;
            }
            let targets = self.locator_targets(class, &member, &path, &source);
            via.push(step);
            for (target, at, extra) in targets {
                let mut features = features.clone();
                features.extend(extra);
                self.walk_at(&target, &at, via, &features);
            }
            via.pop();
        }
    }

    /// The resource classes a sub-resource locator can return, each with the path it serves
    /// at (an SPI provider's id replaces the locator's last template segment).
    fn locator_targets(
        &mut self,
        walked: &str,
        member: &Member<'a>,
        path: &str,
        source: &str,
    ) -> Vec<(String, String, BTreeSet<String>)> {
        let implementation = member.implementation;
        let returns = implementation
            .return_desc()
            .trim_start_matches('L')
            .trim_end_matches(';')
            .to_string();
        if self.is_concrete_resource(&returns) {
            return vec![(returns, path.to_string(), BTreeSet::new())];
        }
        // Object, an interface or an abstract class: the providers of the SPI the body looks
        // up, else what the body creates or gets from the methods it calls, else the concrete
        // resource classes below the declared type.
        let mut out = Vec::new();
        let found = providers::resolve(self, implementation);
        for p in &found {
            self.resolved_by_provider.insert(
                with_id(path, p.id.as_deref()),
                vec![java_name(&p.provider), java_name(&p.resource)],
            );
        }
        out.extend(
            found
                .into_iter()
                .map(|p| (p.resource, with_id(path, p.id.as_deref()), p.features)),
        );
        if out.is_empty() {
            let mut targets = Targets::new();
            self.body_targets(walked, implementation, None, 0, &mut targets);
            if returns != "java/lang/Object" {
                // A resource created to be passed to the returned one is not a target.
                targets.retain(|(t, _)| self.hierarchy(t).iter().any(|h| h.name == returns));
            }
            if targets.is_empty() && returns != "java/lang/Object" {
                targets.extend(
                    self.concrete_resources_below(&returns)
                        .into_iter()
                        .map(|t| (t, None)),
                );
            }
            out.extend(
                targets
                    .into_iter()
                    .map(|(t, id)| (t, with_id(path, id.as_deref()), BTreeSet::new())),
            );
        }
        if out.is_empty() {
            self.unresolved.insert(Unresolved {
                path: path.to_string(),
                source: source.to_string(),
                returns: java_name(&returns),
                reason: "the declared type has no resource methods, and neither the body nor a \
                         known provider SPI names a resource class"
                    .to_string(),
            });
        }
        out
    }

    /// Concrete classes of the distribution that extend or implement `name` and are resources.
    pub fn concrete_resources_below(&self, name: &str) -> Vec<String> {
        self.concrete_below(name)
            .into_iter()
            .filter(|c| self.is_resource(&c.name))
            .map(|c| c.name.clone())
            .collect()
    }

    /// Concrete classes that extend or implement `name` (resources or not), sorted by name.
    pub fn concrete_below(&self, name: &str) -> Vec<&'a Class> {
        self.below
            .get(name)
            .map(|v| v.iter().filter_map(|n| self.classes.get(n)).collect())
            .unwrap_or_default()
    }

    /// Root resource classes: concrete classes with a class-level `@Path` (on the class or an
    /// interface it implements), with that path.
    pub fn roots(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (c, _) in self.classes.by_name.values() {
            if c.is_abstract() {
                continue;
            }
            // A class-level `@Path` is not inherited from a superclass (JAX-RS), but RESTEasy
            // takes it from an implemented interface.
            let path = self
                .hierarchy(&c.name)
                .iter()
                .filter(|h| h.name == c.name || h.access & ACC_INTERFACE != 0)
                .find_map(|h| path_of(&h.annotations));
            if let Some(p) = path {
                out.push((c.name.clone(), join("", &p)));
            }
        }
        out
    }
}
