//! Resolving sub-resource locators that return `Object` through Keycloak's provider SPIs
//! (`RealmResourceProvider`, `AdminRealmResourceProvider`, …): the locator loads the SPI's
//! class (`session.getProvider(Spi.class, id)`), every concrete implementation of that SPI is
//! a candidate, its resource is what its methods create with `new`, and its path segment is
//! the string its factory's `getId()` returns.

use std::collections::BTreeSet;

use super::classfile::{Class, Method};
use super::jaxrs::Walk;
use super::locate::constant_id;

/// A resource found behind a provider SPI.
pub struct Provided {
    /// The factory's id (the path segment), when `getId()` returns a constant.
    pub id: Option<String>,
    pub provider: String,
    pub resource: String,
}

/// The resources behind the SPIs whose class the locator `m` loads (`Spi.class`). Empty when
/// nothing resolves.
pub fn resolve(walk: &Walk, m: &Method) -> Vec<Provided> {
    let spis: BTreeSet<&String> = m.class_constants.iter().collect();
    let mut out = Vec::new();
    for spi in spis {
        if !spi.starts_with("org/keycloak/") {
            continue;
        }
        for provider in walk.concrete_below(spi) {
            for resource in resources_of(walk, provider) {
                out.push(Provided {
                    id: id_of(walk, provider, spi),
                    provider: provider.name.clone(),
                    resource,
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.id, &a.resource).cmp(&(&b.id, &b.resource)));
    out
}

/// The resource classes a provider hands out: itself when it is one, else what it creates.
fn resources_of(walk: &Walk, provider: &Class) -> Vec<String> {
    if walk.is_resource(&provider.name) {
        return vec![provider.name.clone()];
    }
    let mut out: BTreeSet<String> = BTreeSet::new();
    for m in &provider.methods {
        if m.name == "<init>" || m.name == "<clinit>" {
            continue;
        }
        out.extend(
            m.news
                .iter()
                .filter(|n| walk.is_resource(n) && n.as_str() != provider.name)
                .cloned(),
        );
    }
    out.into_iter().collect()
}

/// The id of the factory that creates `provider` (or of the provider itself when it is its own
/// factory): the first string constant of its `getId()`.
fn id_of(walk: &Walk, provider: &Class, spi: &str) -> Option<String> {
    if let Some(own) = constant_id(provider) {
        return Some(own);
    }
    let factory_spi = format!("{spi}Factory");
    walk.concrete_below(&factory_spi)
        .into_iter()
        .filter(|f| {
            f.methods
                .iter()
                .any(|m| m.name == "create" && m.news.contains(&provider.name))
        })
        .find_map(constant_id)
}
