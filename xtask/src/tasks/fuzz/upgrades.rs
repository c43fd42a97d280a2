//! Oracle 3, upgrades. A release installed with values A and upgraded to values B: the fields
//! Kubernetes never changes on an existing object (a Deployment's or StatefulSet's selector, a
//! StatefulSet's volume claim templates and service name, a Job's template unless Helm recreates the
//! hook, a Service's clusterIP) must be equal in both renderings, or the chart must refuse the
//! upgrade with a message that names a value. The moves: each value from its default to each other
//! candidate (with the features above it on), and pairs of generated sets where B gives A's values
//! anew. A move that changes such a field, and the first few others, really run: `helm install` of
//! A, then `helm upgrade` to B, on the control plane (no hooks: no node runs their Jobs).

use super::{refusal_names_a_value, Oracle, Rendered, RELEASE};
use crate::engine::generate::{self, Knob, Set};
use crate::support::tools::Helm;
use anyhow::{bail, Context, Result};
use proptest::strategy::{Strategy, ValueTree};
use serde_json::Value as Json;

/// Moves whose upgrade really runs even though no immutable field changes.
const REAL_UPGRADES: usize = 4;

/// What the upgrade pass reached, for the closing line.
#[derive(Debug, Default)]
pub(super) struct Reach {
    moves: usize,
    compared: usize,
    upgraded: usize,
    refused: usize,
}

impl std::fmt::Display for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "upgrades: {} moves, {} with both renderings compared field by field, {} upgraded for real by helm, {} refused by the chart naming a value",
            self.moves, self.compared, self.upgraded, self.refused
        )
    }
}

/// Runs every move; fails listing each one that breaks.
pub(super) fn check(oracle: &Oracle, knobs: &[Knob], pairs: u32, seed: u64) -> Result<Reach> {
    let helm = oracle.helms.last().expect("fuzz runs with at least one Helm");
    let mut reach = Reach::default();
    let mut broken = Vec::new();
    for (a, b) in single_value_moves(knobs).into_iter().chain(generated_pairs(knobs, pairs, seed)) {
        reach.moves += 1;
        if let Err(e) = judge_move(oracle, helm, &a, &b, &mut reach) {
            broken.push(format!("{e:#}"));
        }
    }
    if !broken.is_empty() {
        bail!("{} upgrade(s) break:\n{}", broken.len(), broken.join("\n"));
    }
    Ok(reach)
}

/// One move: both renderings compared, and the real upgrade when a field Kubernetes keeps changes
/// (the chart must refuse it) or while fewer than [`REAL_UPGRADES`] have run (it must succeed).
fn judge_move(oracle: &Oracle, helm: &Helm, a: &Json, b: &Json, reach: &mut Reach) -> Result<()> {
    let (Rendered::Objects(before), Rendered::Objects(after)) = (oracle.rendered(helm, a, "a.json")?, oracle.rendered(helm, b, "b.json")?)
    else {
        return Ok(());
    };
    reach.compared += 1;
    let changes = immutable_changes(&before, &after);
    if changes.is_empty() && reach.upgraded >= REAL_UPGRADES {
        return Ok(());
    }
    reach.upgraded += 1;
    // Each real upgrade has a namespace of its own for the whole run (a fuzz mutant runs the pass again).
    static UPGRADES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let namespace = format!("xtask-fuzz-upgrade-{}", UPGRADES.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let upgrade = real_upgrade(oracle, helm, a, b, &namespace)?;
    let reproduce = format!(
        "  reproduce: helm install {RELEASE} heimdall --no-hooks --set-json '{a}' && helm upgrade {RELEASE} heimdall --no-hooks --set-json '{b}'"
    );
    match (upgrade.success, changes.is_empty()) {
        (true, true) => Ok(()),
        (true, false) => bail!("the upgrade from {a} to {b} went through although {}\n{reproduce}", changes.join("; ")),
        (false, _) => {
            let named = refusal_names_a_value(&upgrade.stderr, &oracle.names).is_ok();
            let by_the_server = upgrade.stderr.contains("is immutable") || upgrade.stderr.contains("Forbidden");
            if named && !by_the_server {
                reach.refused += 1;
                return Ok(());
            }
            let why = if changes.is_empty() { String::new() } else { format!(" ({})", changes.join("; ")) };
            let said = upgrade.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
            bail!("the upgrade from {a} to {b} fails and the chart did not refuse it{why}:\n  {said}\n{reproduce}")
        }
    }
}

/// `helm install` of `a` then `helm upgrade` to `b` in a namespace of their own; the upgrade's run
/// (the install must pass).
fn real_upgrade(oracle: &Oracle, helm: &Helm, a: &Json, b: &Json, namespace: &str) -> Result<crate::support::command::Run> {
    let (file_a, file_b) = (oracle.work.join("upgrade-a.json"), oracle.work.join("upgrade-b.json"));
    std::fs::write(&file_a, a.to_string())?;
    std::fs::write(&file_b, b.to_string())?;
    let argv = |verb: &str, values: &std::path::Path| -> Vec<String> {
        [helm.path.display().to_string(), verb.into(), RELEASE.into(), oracle.chart.display().to_string()]
            .into_iter()
            .chain(["--namespace", namespace, "--create-namespace", "--no-hooks", "--kube-context", &oracle.context].map(String::from))
            .chain(["--kubeconfig".into(), oracle.kubeconfig.display().to_string(), "--values".into(), values.display().to_string()])
            .collect()
    };
    let install = crate::support::command::run_with_env(argv("install", &file_a), &[])?;
    if !install.success {
        bail!("helm install of {a} fails, though its rendering passed the dry runs:\n{}", install.stderr.trim());
    }
    crate::support::command::run_with_env(argv("upgrade", &file_b), &[]).context("running helm upgrade")
}

/// Each value from the chart's defaults to each other candidate, with the features above it on.
fn single_value_moves(knobs: &[Knob]) -> Vec<(Json, Json)> {
    let mut out = Vec::new();
    for knob in knobs {
        let context = super::boundaries::context_of(knob, knobs);
        for candidate in knob.candidates.iter().skip(1) {
            out.push((context.clone(), super::boundaries::with(&context, knob, candidate)));
        }
    }
    out
}

/// `count` generated sets A, each with B giving the same values anew (each knob picks again): a
/// user changing the values they had set.
fn generated_pairs(knobs: &[Knob], count: u32, seed: u64) -> Vec<(Json, Json)> {
    let mut runner = super::seeded_runner(count, seed.wrapping_add(0x5eed));
    let pairs = generate::sets(knobs, 4).prop_flat_map(|a| {
        let n = a.len();
        (proptest::strategy::Just(a), proptest::collection::vec(0..1024usize, n))
    });
    (0..count)
        .filter_map(|_| pairs.new_tree(&mut runner).ok().map(|t| t.current()))
        .map(|(a, picks)| {
            let b: Set = a.keys().copied().zip(picks).collect();
            (generate::values_document(knobs, &a), generate::values_document(knobs, &b))
        })
        .collect()
}

/// The fields Kubernetes keeps on an existing object that differ between the renderings `before`
/// and `after`, for each object both render.
fn immutable_changes(before: &[Json], after: &[Json]) -> Vec<String> {
    let mut out = Vec::new();
    for new in after {
        let identity = (&new["kind"], &new["metadata"]["name"]);
        let Some(old) = before.iter().find(|o| (&o["kind"], &o["metadata"]["name"]) == identity) else { continue };
        for pointer in kept_fields(new) {
            let (was, is) = (old.pointer(pointer).unwrap_or(&Json::Null), new.pointer(pointer).unwrap_or(&Json::Null));
            if was != is {
                let (was, is) = (brief(was), brief(is));
                out.push(format!("{} {} {pointer} changes from {was} to {is}, and Kubernetes never changes it", identity.0, identity.1));
            }
        }
    }
    out
}

/// `value` as JSON, cut to a line's worth.
fn brief(value: &Json) -> String {
    let text = value.to_string();
    match text.char_indices().nth(160) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

/// The fields of `object` that Kubernetes will not change once it exists.
fn kept_fields(object: &Json) -> Vec<&'static str> {
    let recreated =
        object["metadata"]["annotations"]["helm.sh/hook-delete-policy"].as_str().is_some_and(|p| p.contains("before-hook-creation"));
    match object["kind"].as_str().unwrap_or_default() {
        "Deployment" => vec!["/spec/selector"],
        "StatefulSet" => vec!["/spec/selector", "/spec/serviceName", "/spec/volumeClaimTemplates"],
        "Job" if !recreated => vec!["/spec/selector", "/spec/template"],
        "Service" => vec!["/spec/clusterIP"],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn statefulset(size: &str) -> Json {
        json!({"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"selector": {"matchLabels": {"a": "b"}}, "serviceName": "db",
            "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": size}}}}]}})
    }

    #[test]
    fn a_kept_field_that_changes_is_named_and_a_recreated_hook_job_may_change() {
        let changes = immutable_changes(&[statefulset("8Gi")], &[statefulset("20Gi")]);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert!(changes[0].starts_with("\"StatefulSet\" \"db\" /spec/volumeClaimTemplates changes from"), "{changes:?}");
        assert!(immutable_changes(&[statefulset("8Gi")], &[statefulset("8Gi")]).is_empty());
        let job = |image: &str, policy: &str| {
            json!({"kind": "Job", "metadata": {"name": "gen", "annotations": {"helm.sh/hook-delete-policy": policy}},
                "spec": {"template": {"spec": {"containers": [{"image": image}]}}}})
        };
        assert!(immutable_changes(&[job("a", "before-hook-creation")], &[job("b", "before-hook-creation")]).is_empty());
        assert_eq!(immutable_changes(&[job("a", "hook-succeeded")], &[job("b", "hook-succeeded")]).len(), 1);
    }

    #[test]
    fn moves_start_from_the_defaults_and_pairs_give_the_same_values_anew() {
        let knob = |path: &str, candidates: Vec<Json>| Knob {
            path: path.split('.').map(str::to_string).collect(),
            candidates,
            probe: None,
            edges: vec![],
            example: None,
        };
        let knobs = [
            knob("size", vec![json!("8Gi"), json!("20Gi")]),
            knob("db.enabled", vec![json!(false), json!(true)]),
            knob("db.port", vec![json!(1), json!(2)]),
        ];
        let moves = single_value_moves(&knobs);
        assert!(moves.contains(&(json!({}), json!({"size": "20Gi"}))), "{moves:?}");
        assert!(moves.contains(&(json!({"db": {"enabled": true}}), json!({"db": {"enabled": true, "port": 2}}))), "{moves:?}");
        for (a, b) in generated_pairs(&knobs, 8, 1) {
            let keys = |v: &Json| {
                let mut leaves = std::collections::BTreeMap::new();
                super::super::boundaries::collect_leaves(v, String::new(), &mut leaves, true);
                leaves.into_keys().collect::<Vec<_>>()
            };
            assert_eq!(keys(&a), keys(&b), "B gives A's values: {a} {b}");
        }
    }
}
