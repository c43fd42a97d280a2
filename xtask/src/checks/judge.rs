//! One rendering judged: the conformance rules, the case's `assert:` list, the schemas and keyed lists, and the template files its documents came from (for coverage). test-chart only orchestrates.

use crate::checks::rules::{self, Rendering};
use crate::engine::config::Checks;
use crate::engine::matrix::Case;
use crate::engine::schema::Schemas;
use crate::support::report::{checks, Failure};
use std::collections::BTreeSet;

/// What the judgement found: failures, each named by its check, and the template files whose output it read.
#[derive(Debug, Default)]
pub struct Findings {
    pub failures: Vec<Failure>,
    pub sources: BTreeSet<String>,
}

/// What judges a rendering besides the rendering itself: which rules, which schemas, and the
/// Kubernetes version whose schemas apply.
pub struct Judge<'a> {
    pub checks: Checks,
    pub schemas: &'a Schemas,
    pub kube_version: &'a str,
}

/// Judges `rendering`, case `case`'s: every rule, every `assert:` entry, every document's schema
/// and keyed lists.
pub fn judge(rendering: &Rendering, case: &Case, by: &Judge) -> Findings {
    let mut found = Findings { failures: rules::check(rendering, by.checks), sources: BTreeSet::new() };
    found.failures.extend(claims(rendering, case));
    for doc in rendering.docs {
        found.failures.extend(by.schemas.validate(by.kube_version, doc).into_iter().map(|e| Failure::new(checks::SCHEMA, e)));
        found.failures.extend(by.schemas.list_map_duplicates(by.kube_version, doc).into_iter().map(|e| Failure::new(checks::LIST_MAP, e)));
        found.sources.insert(doc.source.clone());
    }
    if rendering.notes.is_some() {
        found.sources.insert("templates/NOTES.txt".into());
    }
    found
}

/// The case's `assert:` entries that do not hold, over the documents and NOTES.
fn claims(rendering: &Rendering, case: &Case) -> Vec<Failure> {
    let asserted = &case.spec.assert;
    if asserted.is_empty() {
        return Vec::new();
    }
    let notes = crate::engine::assertions::notes_doc(rendering.notes);
    let docs: Vec<_> = rendering.docs.iter().cloned().chain([notes]).collect();
    let mut out = Vec::new();
    for (i, a) in asserted.iter().enumerate() {
        for finding in a.check(&docs) {
            out.push(Failure::new(checks::ASSERT, format!("assert entry {} of {}: {finding}", i + 1, case.name)));
        }
    }
    out
}
