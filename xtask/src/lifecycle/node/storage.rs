//! Storage for the node: a default StorageClass whose claims a small provisioner (a thread of the serving process) fills with local PersistentVolumes, one folder each, so the kubelet applies fsGroup as a cloud disk would; released volumes (reclaim policy Delete) and their folders are deleted.

use crate::support::cluster::Cluster;
use anyhow::Result;
use serde_json::{json, Value as Json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

pub const STORAGE_CLASS: &str = "heimdall-e2e-local";
const PROVISIONER: &str = "heimdall-e2e/local";
const PROVISIONED_BY: &str = "pv.kubernetes.io/provisioned-by";

/// The default StorageClass of the node, served by [`Provisioner`].
pub fn storage_class() -> Json {
    json!({"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
        "metadata": {"name": STORAGE_CLASS, "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": PROVISIONER, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"})
}

/// A running provisioner; stops when dropped.
pub struct Provisioner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Provisioner {
    /// Serves claims of [`STORAGE_CLASS`] every second, with volumes under `volumes`, logging to `log`.
    pub fn start(kubeconfig: PathBuf, context: String, volumes: PathBuf, node: String, log: PathBuf) -> Provisioner {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut log = std::fs::File::create(&log).ok();
            let cluster = match Cluster::from_kubeconfig(&kubeconfig, Some(&context)) {
                Ok(c) => c,
                Err(e) => return drop(log.as_mut().map(|l| writeln!(l, "provisioner: {e:#}"))),
            };
            while !flag.load(Ordering::Relaxed) {
                if let Err(e) = provision_once(&cluster, &volumes, &node) {
                    let _ = log.as_mut().map(|l| writeln!(l, "provisioner: {e:#}"));
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        Provisioner { stop, thread: Some(thread) }
    }
}

impl Drop for Provisioner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One pass: a volume for each pending claim of the class, and released volumes deleted with their folders.
fn provision_once(cluster: &Cluster, volumes: &Path, node: &str) -> Result<()> {
    let claims = cluster.request("GET", "/api/v1/persistentvolumeclaims", None)?;
    for claim in claims["items"].as_array().into_iter().flatten().filter(|c| wants_volume(c)) {
        let name = format!("heimdall-e2e-{}", claim["metadata"]["uid"].as_str().unwrap_or_default());
        let dir = volumes.join(&name);
        std::fs::create_dir_all(&dir)?;
        let answer = cluster.request("POST", "/api/v1/persistentvolumes", Some(&volume_for(claim, &name, &dir, node)))?;
        if answer["kind"] == "Status" && answer["reason"] != "AlreadyExists" {
            anyhow::bail!("creating {name}: {}", answer["message"]);
        }
    }
    let pvs = cluster.request("GET", "/api/v1/persistentvolumes", None)?;
    for pv in pvs["items"].as_array().into_iter().flatten().filter(|v| released(v)) {
        let name = pv["metadata"]["name"].as_str().unwrap_or_default();
        cluster.request("DELETE", &format!("/api/v1/persistentvolumes/{name}"), None)?;
        if let Some(path) = pv["spec"]["local"]["path"].as_str().filter(|p| Path::new(p).starts_with(volumes)) {
            let _ = std::fs::remove_dir_all(path);
        }
    }
    Ok(())
}

fn wants_volume(claim: &Json) -> bool {
    claim["spec"]["storageClassName"] == STORAGE_CLASS && claim["status"]["phase"] == "Pending" && claim["spec"]["volumeName"].is_null()
}

/// A volume of ours whose claim is gone and whose reclaim policy is still Delete (an operator who set
/// Retain keeps it, as a cloud provisioner would: the migration guide does).
fn released(pv: &Json) -> bool {
    pv["metadata"]["annotations"][PROVISIONED_BY] == PROVISIONER
        && matches!(pv["status"]["phase"].as_str(), Some("Released" | "Failed"))
        && pv["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
}

/// A local volume in `dir` on `node`, bound in advance to `claim`, as large and with the modes it asks for.
fn volume_for(claim: &Json, name: &str, dir: &Path, node: &str) -> Json {
    let m = &claim["metadata"];
    json!({"apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {PROVISIONED_BY: PROVISIONER}},
        "spec": {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"]["accessModes"],
            "volumeMode": "Filesystem",
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": STORAGE_CLASS,
            "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": m["namespace"], "name": m["name"], "uid": m["uid"]},
            "local": {"path": dir.display().to_string()},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}}}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pending_claim_gets_a_local_volume_bound_to_it_and_only_released_volumes_of_ours_are_deleted() {
        let claim = json!({"metadata": {"name": "data-pg-0", "namespace": "e2e-x", "uid": "u1"},
            "spec": {"storageClassName": STORAGE_CLASS, "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "8Gi"}}},
            "status": {"phase": "Pending"}});
        assert!(wants_volume(&claim));
        let mut bound = claim.clone();
        bound["spec"]["volumeName"] = json!("pv");
        assert!(!wants_volume(&bound));
        let mut other = claim.clone();
        other["spec"]["storageClassName"] = json!("standard");
        assert!(!wants_volume(&other));
        let pv = volume_for(&claim, "heimdall-e2e-u1", Path::new("/tmp/v/heimdall-e2e-u1"), "node-a");
        assert_eq!(pv["spec"]["claimRef"]["uid"], "u1");
        assert_eq!(pv["spec"]["capacity"]["storage"], "8Gi");
        assert_eq!(pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"][0], "node-a");
        let mut gone = pv.clone();
        gone["status"] = json!({"phase": "Released"});
        assert!(released(&gone) && !released(&pv));
        let mut retained = gone.clone();
        retained["spec"]["persistentVolumeReclaimPolicy"] = json!("Retain");
        assert!(!released(&retained), "a volume set to Retain was deleted");
        gone["metadata"]["annotations"][PROVISIONED_BY] = json!("someone-else");
        assert!(!released(&gone));
    }
}
