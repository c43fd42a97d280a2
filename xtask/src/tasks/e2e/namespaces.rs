//! The run's namespaces: created labelled and enforcing Pod Security "restricted", deleted when their scenario ends, again by label at the end of the run, and on Ctrl-C.

use crate::support::cluster::Cluster;
use anyhow::{ensure, Result};
use serde_json::{json, Value as Json};
use std::sync::Arc;

/// The label every namespace of the suite carries, with the value [`MANAGER`].
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGER: &str = "heimdall-chart-e2e";
/// The label naming the run a namespace belongs to.
pub const RUN_LABEL: &str = "heimdall-chart-e2e/run";

/// A random id for one run (6 hex digits).
pub fn new_run_id() -> Result<String> {
    crate::support::process::random_hex(3)
}

/// What every namespace of run `run_id` starts with; the cluster client refuses writes elsewhere.
pub fn prefix(run_id: &str) -> String {
    format!("e2e-{run_id}-")
}

/// Creates `ns` with the run's labels and Pod Security "restricted", and its `default` ServiceAccount
/// (a controller manager makes it too; the built-in control plane has none, and Pod admission needs it).
pub fn create(cluster: &Cluster, ns: &str, run_id: &str) -> Result<()> {
    create_enforcing(cluster, ns, run_id, "restricted")
}

/// [`create`], with Pod Security `enforce` at `level` (warnings and audit stay "restricted"): for
/// another chart's pods that are not "restricted" (scenario v's mitre/heimdall-helm).
pub fn create_enforcing(cluster: &Cluster, ns: &str, run_id: &str, level: &str) -> Result<()> {
    cluster.create(
        "/api/v1/namespaces",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {
            MANAGED_BY: MANAGER,
            RUN_LABEL: run_id,
            "pod-security.kubernetes.io/enforce": level,
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted"}}}),
    )?;
    count_created();
    let answer = cluster.request(
        "POST",
        &format!("/api/v1/namespaces/{ns}/serviceaccounts"),
        Some(&json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}})),
    )?;
    ensure!(
        answer["kind"] == "ServiceAccount" || answer["reason"] == "AlreadyExists",
        "creating the default ServiceAccount of {ns}: {}",
        answer["message"]
    );
    Ok(())
}

/// Asks the API server to delete `ns` (and everything in it); a namespace already gone is fine.
pub fn delete(cluster: &Cluster, ns: &str) -> Result<()> {
    let answer = cluster.request("DELETE", &format!("/api/v1/namespaces/{ns}?propagationPolicy=Background"), None)?;
    ensure!(
        answer["kind"] == "Namespace" || answer["code"] == 404 || answer["status"] == "Success",
        "deleting namespace {ns}: {}",
        answer["message"]
    );
    Ok(())
}

/// The namespaces of run `run_id`, found by label.
pub fn of_run(cluster: &Cluster, run_id: &str) -> Result<Vec<Json>> {
    let list = cluster.request("GET", &format!("/api/v1/namespaces?labelSelector={RUN_LABEL}%3D{run_id}"), None)?;
    ensure!(list["kind"] == "NamespaceList", "listing the run's namespaces: {}", list["message"]);
    Ok(list["items"].as_array().cloned().unwrap_or_default())
}

/// Deletes every namespace of the run still there, then proves none is left that is not being deleted.
/// Returns how many the run created in all and how many are still terminating.
pub fn delete_run(cluster: &Cluster, run_id: &str) -> Result<(usize, usize)> {
    for ns in of_run(cluster, run_id)? {
        if ns["metadata"]["deletionTimestamp"].is_null() {
            delete(cluster, ns["metadata"]["name"].as_str().unwrap_or_default())?;
        }
    }
    let left = of_run(cluster, run_id)?;
    let live = live(&left);
    ensure!(live.is_empty(), "namespaces of this run were not deleted: {}", live.join(", "));
    Ok((CREATED.load(std::sync::atomic::Ordering::Relaxed), left.len()))
}

/// The names of the namespaces in `list` that nobody has asked to delete.
pub fn live(list: &[Json]) -> Vec<&str> {
    list.iter().filter(|n| n["metadata"]["deletionTimestamp"].is_null()).filter_map(|n| n["metadata"]["name"].as_str()).collect()
}

static CREATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn count_created() {
    CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// On Ctrl-C or SIGTERM: delete every namespace of the run before the process exits.
pub fn delete_on_interrupt(cluster: &Arc<Cluster>, run_id: String) {
    // Weak: a handler that owned the client would keep it (and its credentials folder) alive forever.
    let cluster = Arc::downgrade(cluster);
    crate::support::process::on_interrupt(Box::new(move || match cluster.upgrade().map(|c| delete_run(&c, &run_id)) {
        None => {}
        Some(Ok((n, _))) => eprintln!("e2e: interrupted; the run's {n} namespaces deleted"),
        Some(Err(e)) => eprintln!("e2e: interrupted; deleting the run's namespaces ({}*) failed: {e:#}", prefix(&run_id)),
    }));
}
