//! Running a plan: each kind is planned just before it runs (a later kind can see what an
//! earlier one created), in an order where what is referred to exists before what refers to it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::kinds::{
    Cx, Keyed, Kind, authz::Authz, client_roles::ClientRoles, client_scopes::ClientScopes,
    clients::Clients, components::Components, composites::Composites, flows::Flows, groups::Groups,
    identity_providers::IdentityProviderMappers, identity_providers::IdentityProviders,
    localization::Localization, organizations::Organizations, realm_links::RealmLinks,
    realm_roles::RealmRoles, realm_settings::RealmSettings, required_actions::RequiredActions,
    users::Users,
};
use super::plan::{Action, Change};
use super::resolve::Ids;
use super::session::Session;
use super::snapshot::Live;
use crate::exit::{CliError, CliResult};

/// How to run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Plan only: read, change nothing.
    pub plan: bool,
    pub continue_on_error: bool,
    /// Changes of an independent kind (users) in flight at once; 0 or 1 runs them one by one.
    pub parallel: usize,
}

/// Kinds whose changes do not refer to each other, so they may run side by side.
const INDEPENDENT: [&str; 1] = ["users"];

/// Deletes planned before anything runs, executed after everything else.
#[derive(Default)]
pub struct Deletes {
    pub changes: Vec<Change>,
}

pub struct Run {
    pub s: Session,
    pub opts: Options,
    /// Whether the realm existed when planning started.
    pub exists: bool,
    ids: Ids,
    /// Every planned change, in order (executed unless planning only).
    pub changes: Vec<Change>,
    /// The error that stopped the run.
    pub stop: Option<CliError>,
    /// Objects whose changes were not attempted after the stop.
    pub not_attempted: BTreeSet<(String, String)>,
    /// The realm is created by this run: every object of the document counts as created.
    pub created_realm: bool,
}

impl Run {
    pub fn new(s: Session, opts: Options, exists: bool) -> Self {
        Run {
            s,
            opts,
            exists,
            ids: Ids::default(),
            changes: Vec::new(),
            stop: None,
            not_attempted: BTreeSet::new(),
            created_realm: false,
        }
    }

    /// Plans `--prune` deletes from the live realm as it is now; more than `max` is an error
    /// before anything changes.
    pub async fn plan_deletes(
        &mut self,
        cx: &Cx<'_>,
        kinds: &[String],
        max: usize,
    ) -> CliResult<Deletes> {
        if kinds.is_empty() || !self.exists {
            return Ok(Deletes::default());
        }
        let kc = self.s.kc.clone();
        let mut live = Live::new(&kc, &self.s.realm, false);
        let changes = super::prune::plan(cx, kinds, &mut live).await?;
        if changes.len() > max {
            self.changes.extend(changes.iter().cloned());
            return Err(CliError::usage(format!(
                "--prune would delete {} objects, more than --max-deletes {max}; nothing was changed",
                changes.len()
            )));
        }
        Ok(Deletes { changes })
    }

    /// Runs the planned deletes (after everything else).
    pub async fn deletes(&mut self, d: Deletes) {
        self.run_changes(d.changes).await;
    }

    /// Runs changes in order (unless planning only); after a stop the rest are not attempted.
    async fn run_changes(&mut self, changes: Vec<Change>) {
        for mut c in changes {
            if self.stop.is_some() {
                self.not_attempted
                    .insert((c.section.clone(), c.key.clone()));
                continue;
            }
            if !self.opts.plan {
                self.execute(&mut c).await;
            }
            self.changes.push(c);
        }
    }

    /// Plans and runs every kind, in order; the first error that stops the run is kept in
    /// `stop`.
    pub async fn all(&mut self, cx: &Cx<'_>) {
        let r: CliResult = async {
            self.step(cx, &ClientScopes).await?;
            self.step(cx, &RealmRoles).await?;
            self.step(cx, &Clients).await?;
            self.step(cx, &ClientRoles).await?;
            self.step(cx, &Composites).await?;
            self.step(cx, &Groups).await?;
            self.step(cx, &IdentityProviders).await?;
            self.step(cx, &IdentityProviderMappers).await?;
            self.step(cx, &Flows).await?;
            self.step(
                cx,
                &RealmSettings {
                    imported: self.created_realm,
                },
            )
            .await?;
            self.step(cx, &RequiredActions).await?;
            self.step(cx, &Components).await?;
            self.step(cx, &RealmLinks).await?;
            self.step(cx, &Users).await?;
            self.step(cx, &Localization).await?;
            self.step(cx, &Organizations).await?;
            self.step(cx, &Authz).await
        }
        .await;
        if let Err(e) = r {
            self.stop.get_or_insert(e);
        }
    }

    async fn step<K: Kind>(&mut self, cx: &Cx<'_>, k: &K) -> CliResult {
        if self.stop.is_some() {
            return Ok(());
        }
        let kc = self.s.kc.clone();
        let mut live = Live::new(&kc, &self.s.realm, false);
        let have = if self.exists {
            k.read_live(cx, &mut live)
                .await
                .map_err(|e| e.context(format!("reading the live {}", K::NAME)))?
        } else {
            Keyed::new()
        };
        let planned = k
            .plan(cx, &have, &live)
            .await
            .map_err(|e| e.context(format!("planning {}", K::NAME)))?;
        if INDEPENDENT.contains(&K::NAME) && self.opts.parallel > 1 && !self.opts.plan {
            self.run_parallel(planned).await;
        } else {
            self.run_changes(planned).await;
        }
        Ok(())
    }

    /// Runs changes with up to `opts.parallel` in flight, results kept in plan order. Each
    /// change's writes run once, in order, with its own id cache (merged in afterwards); once a
    /// change fails (without `--continue-on-error`) no further change starts, and those that
    /// did not start are reported as not attempted.
    async fn run_parallel(&mut self, changes: Vec<Change>) {
        use futures_util::StreamExt;
        use std::sync::atomic::{AtomicBool, Ordering};
        let stopped = AtomicBool::new(self.stop.is_some());
        let (s, keep_going) = (&self.s, self.opts.continue_on_error);
        let stopped = &stopped;
        let mut done = futures_util::stream::iter(changes.into_iter().map(|mut c| async move {
            if stopped.load(Ordering::SeqCst) {
                return (c, None, None);
            }
            let mut ids = Ids::default();
            let err = run_ops(s, &mut ids, &mut c).await;
            if err.is_some() && !keep_going {
                stopped.store(true, Ordering::SeqCst);
            }
            (c, Some(ids), err)
        }))
        .buffered(self.opts.parallel);
        let mut results = Vec::new();
        while let Some(r) = done.next().await {
            results.push(r);
        }
        drop(done);
        for (c, ids, err) in results {
            let Some(ids) = ids else {
                self.not_attempted
                    .insert((c.section.clone(), c.key.clone()));
                continue;
            };
            self.ids.absorb(ids);
            if let Some(e) = err
                && !keep_going
            {
                self.stop.get_or_insert(e);
            }
            self.changes.push(c);
        }
    }

    async fn execute(&mut self, c: &mut Change) {
        if let Some(e) = run_ops(&self.s, &mut self.ids, c).await
            && !self.opts.continue_on_error
        {
            self.stop = Some(e);
        }
    }

    /// One change per object: the changes of each (section, key) merged, in first-seen order.
    pub fn merged(&self) -> Vec<Change> {
        let mut order: Vec<(String, String)> = Vec::new();
        let mut by: BTreeMap<(String, String), Change> = BTreeMap::new();
        for c in &self.changes {
            let k = (c.section.clone(), c.key.clone());
            match by.get_mut(&k) {
                Some(m) => {
                    let failed = c.action == Action::Failed;
                    m.absorb(c.clone());
                    if failed {
                        m.action = Action::Failed;
                        m.error = c.error.clone();
                    }
                }
                None => {
                    order.push(k.clone());
                    by.insert(k, c.clone());
                }
            }
        }
        let mut out: Vec<Change> = order.into_iter().filter_map(|k| by.remove(&k)).collect();
        if self.created_realm {
            for c in out.iter_mut() {
                if matches!(c.action, Action::Unchanged | Action::Update) {
                    c.action = Action::Create;
                }
            }
        }
        out
    }
}

/// Runs one change's writes in order; a failure marks the change failed and returns the
/// error (with the object named) that would stop the run.
async fn run_ops(s: &Session, ids: &mut Ids, c: &mut Change) -> Option<CliError> {
    for op in &c.ops {
        if let Err(e) = super::ops::run(s, ids, op).await {
            c.action = Action::Failed;
            c.error = Some(e.message.clone());
            return Some(e.context(format!("{}/{}", c.section, c.key)));
        }
    }
    None
}

/// The summary document: counts of the document's objects by outcome (they add up to
/// `objects`), and every object that is not unchanged.
/// Names the shape of the summary below (`realm apply [--plan] -o json`); documented in
/// `docs/realm-apply.md`. A change that removes or renames a key gets a new number.
pub const SCHEMA: &str = "cloakroom.realm-apply/1";

pub fn summary(run: &Run, objects: &[(String, String)]) -> Value {
    let merged = run.merged();
    let by: BTreeMap<(String, String), &Change> = merged
        .iter()
        .map(|c| ((c.section.clone(), c.key.clone()), c))
        .collect();
    let mut counts = super::plan::Counts::default();
    let mut not_attempted = 0;
    for o in objects {
        let outcome = match by.get(o) {
            Some(c) => c.outcome(),
            None if run.not_attempted.contains(o) || (run.stop.is_some() && by.is_empty()) => {
                not_attempted += 1;
                continue;
            }
            None if run.created_realm => Action::Create,
            None => Action::Unchanged,
        };
        counts.add(outcome);
    }
    // Changes to objects the document does not name (deletions, failed prunes).
    let named: std::collections::HashSet<(&str, &str)> = objects
        .iter()
        .map(|(section, key)| (section.as_str(), key.as_str()))
        .collect();
    for c in merged
        .iter()
        .filter(|c| !named.contains(&(c.section.as_str(), c.key.as_str())))
    {
        match c.action {
            Action::Delete => counts.deleted += 1,
            Action::Failed => counts.failed += 1,
            _ => {}
        }
    }
    let actions: Vec<Value> = merged
        .iter()
        .filter(|c| c.action != Action::Unchanged || !c.unsupported.is_empty())
        .map(Change::to_json)
        .collect();
    serde_json::json!({
        "schema": SCHEMA,
        "realm": run.s.realm,
        "plan": run.opts.plan,
        "objects": objects.len(),
        "created": counts.created,
        "updated": counts.updated,
        "unchanged": counts.unchanged,
        "failed": counts.failed,
        "unsupported": counts.unsupported,
        "deleted": counts.deleted,
        "notAttempted": not_attempted,
        "actions": actions,
    })
}
