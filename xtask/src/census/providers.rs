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
    /// Features the provider's or its factory's `isSupported` tests.
    pub features: BTreeSet<String>,
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
            let factory = factory_of(walk, provider, spi);
            let id = constant_id(provider).or_else(|| factory.and_then(constant_id));
            let features: BTreeSet<String> = [Some(provider), factory]
                .into_iter()
                .flatten()
                .flat_map(|c| c.methods.iter().filter(|m| m.name == "isSupported"))
                .flat_map(|m| m.features.iter().cloned())
                .collect();
            for resource in resources_of(walk, provider) {
                out.push(Provided {
                    id: id.clone(),
                    provider: provider.name.clone(),
                    resource,
                    features: features.clone(),
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

/// The factory that creates `provider`: the provider itself when it is its own factory, else
/// the implementation of `<spi>Factory` whose `create` instantiates it.
fn factory_of<'a>(walk: &Walk<'a>, provider: &'a Class, spi: &str) -> Option<&'a Class> {
    let factory_spi = format!("{spi}Factory");
    if walk
        .hierarchy(&provider.name)
        .iter()
        .any(|h| h.name == factory_spi)
    {
        return Some(provider);
    }
    walk.concrete_below(&factory_spi).into_iter().find(|f| {
        f.methods
            .iter()
            .any(|m| m.name == "create" && m.news.contains(&provider.name))
    })
}
