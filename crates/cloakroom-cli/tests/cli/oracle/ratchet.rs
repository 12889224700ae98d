//! The reviewed list of known differences (`tests/fixtures/realms/oracle-gaps.txt`): the test
//! fails on a difference the list lacks (a regression) and on a listed one that no longer
//! occurs (the list only shrinks). `CLOAKROOM_ORACLE_BLESS=1` rewrites it.

use std::collections::BTreeSet;
use std::path::PathBuf;

const HEADER: &str = "\
# Differences between Keycloak's own importer (POST /admin/realms) and `cloakroom realm apply`,
# found by the oracle test (crates/cloakroom-cli/tests/cli/oracle.rs). One line each, sorted:
#   fixture / path / kind / key / what differs
# path: `update` = apply into an existing empty realm, `create` = apply into a realm that does
# not exist. kind `apply` = the apply itself failed (exit code, first error line, failed
# changes); kind `plan` = what `realm apply --plan` still wants to do right after the apply;
# other kinds compare the imported realm (A) with the applied one, field by field:
# `A-value → applied-value`; `missing` = made by the importer only, `not made by the importer`
# = made by apply only.
# The test fails when a difference appears that is not listed here AND when a listed one no
# longer occurs: fix the apply engine, then shrink this file. To rewrite it from a run:
#   CLOAKROOM_ORACLE_BLESS=1 cargo xtask test -- -p cloakroom-cli --test cli oracle
# and review the diff of this file like code. CLOAKROOM_ORACLE_ONLY=<part of a fixture name>
# judges (and blesses) only the matching fixtures; CLOAKROOM_ORACLE_THREADS (default 3) workers.
";

pub fn path() -> PathBuf {
    super::document::root().join("oracle-gaps.txt")
}

fn read() -> BTreeSet<String> {
    std::fs::read_to_string(path())
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks `found` against the file's lines of the `judged` fixtures (or rewrites those lines
/// when blessing, keeping the others).
pub fn check(found: &BTreeSet<String>, judged: &[&str]) {
    let mine = |l: &String| judged.iter().any(|f| l.starts_with(&format!("{f} / ")));
    let all = read();
    let known: BTreeSet<String> = all.iter().filter(|l| mine(l)).cloned().collect();
    let bless = std::env::var("CLOAKROOM_ORACLE_BLESS").is_ok_and(|v| v == "1");
    if bless {
        let mut text = HEADER.to_owned();
        let kept = all.iter().filter(|l| !mine(l));
        let lines: BTreeSet<&String> = kept.chain(found.iter()).collect();
        for l in lines {
            text.push_str(l);
            text.push('\n');
        }
        let p = path();
        let tmp = p.with_extension("txt.tmp");
        std::fs::write(&tmp, text).expect("write oracle-gaps.txt.tmp");
        std::fs::rename(&tmp, &p).expect("replace oracle-gaps.txt");
        eprintln!("oracle: wrote {} lines to {}", found.len(), p.display());
        return;
    }
    let new: Vec<&String> = found.difference(&known).collect();
    let gone: Vec<&String> = known.difference(found).collect();
    let mut msg = String::new();
    if !new.is_empty() {
        msg.push_str(&format!(
            "{} new differences (regressions, or new fixtures):\n",
            new.len()
        ));
        for l in &new {
            msg.push_str(&format!("  + {l}\n"));
        }
    }
    if !gone.is_empty() {
        msg.push_str(&format!(
            "{} listed differences no longer occur: remove them from {}\n",
            gone.len(),
            path().display()
        ));
        for l in &gone {
            msg.push_str(&format!("  - {l}\n"));
        }
    }
    assert!(
        msg.is_empty(),
        "oracle: the differences are not the reviewed ones.\n{msg}\
         After review, CLOAKROOM_ORACLE_BLESS=1 rewrites the file."
    );
}
