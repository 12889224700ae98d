//! The oracle: Keycloak's own importer judges `realm apply`.
//!
//! For every realm document F in `tests/fixtures/realms/` and `keycloak-made/`:
//! - A: F imported by Keycloak (`POST /admin/realms`), renamed to a fresh name. When the
//!   server already holds F's ids (the realm F was exported from, or a run that did not clean
//!   up), the import answers 409 and A gets F with every UUID replaced by a fresh one,
//!   consistently (`document::fresh_ids`), so references inside F stay intact.
//! - B: an empty realm (`{"realm": B}`), then `cloakroom realm apply F --into B` (update path).
//! - C: `cloakroom realm apply F --into C`, C not existing (create path). F's ids are then on
//!   the server already (in A), as when an export is copied within one server.
//!
//! A, B and C are read kind by kind through the Admin API and compared by natural key
//! (`oracle/snapshot*.rs`, `oracle/compare.rs`; what is ignored and why: `oracle/normalise.rs`
//! and `compare::drop_generated`). Two differences are by design and not counted: on the update
//! path, what B held before the apply and the document does not name (`compare::Kept`: apply
//! merges, the importer makes exactly the document), and the default role and default groups a
//! user created through the Admin API gets (`compare::drop_defaults`). Then `realm apply F --into B|C --plan` must have nothing to
//! do. Every difference is one line in `tests/fixtures/realms/oracle-gaps.txt` (`ratchet.rs`).

mod admin;
mod compare;
mod document;
mod normalise;
mod ratchet;
mod run;
mod snapshot;
mod snapshot_clients;
mod snapshot_flows;
mod snapshot_people;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::support::Env;

/// Fixtures judged at once (each worker has its own admin session and CLI configuration).
fn workers() -> usize {
    std::env::var("CLOAKROOM_ORACLE_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(3)
}

#[test]
fn oracle_realm_apply_matches_keycloaks_importer() {
    let t0 = Instant::now();
    let fixtures = document::all();
    let only = std::env::var("CLOAKROOM_ORACLE_ONLY").ok();
    // Documents that share ids (exports of one realm) are judged one after the other by one
    // worker, so that each finds the server without the other's copies of its ids.
    let mut groups: Vec<Vec<&document::Fixture>> = Vec::new();
    for f in fixtures
        .iter()
        .filter(|f| only.as_ref().is_none_or(|o| f.name.contains(o.as_str())))
    {
        let id = f.doc["id"].as_str();
        match groups
            .iter_mut()
            .find(|g| id.is_some() && g[0].doc["id"].as_str() == id)
        {
            Some(g) => g.push(f),
            None => groups.push(vec![f]),
        }
    }
    let next = AtomicUsize::new(0);
    let found = Mutex::new(BTreeSet::new());
    std::thread::scope(|s| {
        for _ in 0..workers() {
            s.spawn(|| {
                let env = Env::new();
                let admin = admin::Admin::connect(env.server);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(group) = groups.get(i) else { break };
                    for f in group {
                        let t = Instant::now();
                        let lines = run::judge(&env, &admin, f);
                        eprintln!(
                            "oracle: {} — {} differences in {:.1} s",
                            f.name,
                            lines.len(),
                            t.elapsed().as_secs_f64()
                        );
                        found.lock().unwrap().extend(lines);
                    }
                }
            });
        }
    });
    let found = found.into_inner().unwrap();
    eprintln!(
        "oracle: {} fixtures, {} differences, {:.1} s",
        fixtures.len(),
        found.len(),
        t0.elapsed().as_secs_f64()
    );
    // A focused run (`CLOAKROOM_ORACLE_ONLY=name`) is checked against its fixtures' lines only.
    let judged: Vec<&str> = fixtures
        .iter()
        .map(|f| f.name.as_str())
        .filter(|n| only.as_ref().is_none_or(|o| n.contains(o.as_str())))
        .collect();
    ratchet::check(&found, &judged);
}
