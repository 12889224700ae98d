//! What a sub-resource locator that returns `Object`, an interface or an abstract class can
//! hand out: the resource classes its body creates, what the methods it calls on itself
//! return (with virtual dispatch on the class being walked), and what the implementations of
//! an interface it calls return.

use std::collections::BTreeSet;

use super::classfile::{ACC_BRIDGE, Class, Method};
use super::jaxrs::Walk;

/// How many calls deep a locator's body is followed.
const MAX_CALL_DEPTH: usize = 3;

/// Resource classes, each with the provider id that leads to it (when known).
pub type Targets = BTreeSet<(String, Option<String>)>;

/// The string constant a provider factory's own `getId()` returns.
pub fn constant_id(class: &Class) -> Option<String> {
    class
        .methods
        .iter()
        .find(|m| m.name == "getId" && m.descriptor == "()Ljava/lang/String;")
        .and_then(|m| m.strings.first().cloned())
}

/// The class a descriptor returns, when it returns a class.
pub fn returned_class(descriptor: &str) -> Option<&str> {
    let ret = &descriptor[descriptor.rfind(')')? + 1..];
    ret.strip_prefix('L')?.strip_suffix(';')
}

impl<'a> Walk<'a> {
    /// A resource class that JAX-RS can instantiate methods on (not abstract).
    pub fn is_concrete_resource(&self, name: &str) -> bool {
        self.classes().get(name).is_some_and(|c| !c.is_abstract()) && self.is_resource(name)
    }

    /// The most derived method `name` + parameters of `descriptor` in the hierarchy of
    /// `class`, preferring one with a body; bridges are skipped.
    pub fn lookup(&self, class: &str, name: &str, descriptor: &str) -> Option<&'a Method> {
        let params = descriptor
            .rfind(')')
            .map_or(descriptor, |i| &descriptor[..=i]);
        let mut declared = None;
        for c in self.hierarchy(class) {
            for m in &c.methods {
                if m.name != name || m.access & ACC_BRIDGE != 0 || m.params_desc() != params {
                    continue;
                }
                if m.has_code {
                    return Some(m);
                }
                declared.get_or_insert(m);
            }
        }
        declared
    }

    /// Resource classes the body of `m` (running on an instance of `class`) can return, each
    /// with the id of the provider factory it came from when a call dispatched through one
    /// (`LoginProtocolFactory.createProtocolEndpoint` on the `openid-connect` factory, …).
    ///
    /// Only calls that return `Object` or a resource type are followed: a locator hands its
    /// resource through those, and following every call would reach every provider.
    pub fn body_targets(
        &self,
        class: &str,
        m: &Method,
        id: Option<&str>,
        depth: usize,
        out: &mut Targets,
    ) {
        let found = |name: &str| (name.to_string(), id.map(str::to_string));
        out.extend(
            m.news
                .iter()
                .filter(|n| self.is_concrete_resource(n))
                .map(|n| found(n)),
        );
        if depth >= MAX_CALL_DEPTH {
            return;
        }
        for call in &m.invoked {
            let Some(ret) = returned_class(&call.descriptor) else {
                continue;
            };
            if ret != "java/lang/Object" && !self.is_resource(ret) {
                continue;
            }
            if self.is_concrete_resource(ret) {
                out.insert(found(ret));
                continue;
            }
            if self.hierarchy(class).iter().any(|h| h.name == call.owner) {
                if let Some(callee) = self.lookup(class, &call.name, &call.descriptor) {
                    self.body_targets(class, callee, id, depth + 1, out);
                }
                continue;
            }
            let owner_is_abstract = self
                .classes()
                .get(&call.owner)
                .is_some_and(|c| c.is_abstract());
            if !owner_is_abstract || !call.owner.starts_with("org/keycloak/") {
                continue;
            }
            for implementor in self.concrete_below(&call.owner) {
                let Some(callee) = self.lookup(&implementor.name, &call.name, &call.descriptor)
                else {
                    continue;
                };
                let own_id = id.map(str::to_string).or_else(|| constant_id(implementor));
                if let Some(r) = returned_class(&callee.descriptor)
                    && self.is_concrete_resource(r)
                {
                    out.insert((r.to_string(), own_id.clone()));
                }
                self.body_targets(&implementor.name, callee, own_id.as_deref(), depth + 1, out);
            }
        }
    }
}
