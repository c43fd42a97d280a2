//! HC023: what a pod keeps on a persistent volume it can write: a non-root pod that writes a PersistentVolumeClaim sets fsGroup (outside OpenShift, whose SCC assigns one), and PostgreSQL's PGDATA lies under the mount of such a volume.

use super::{containers, env_value, pod_specs, s, Rendering};
use crate::support::manifest::Doc;
use serde_yaml::Value;
use std::collections::BTreeSet;

/// HC023: fsGroup for written claims, and PGDATA on one.
pub fn persistent_data(r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    for (doc, spec, _) in pod_specs(r.docs) {
        let claims = claim_volumes(doc, spec);
        if !r.intent.openshift_adapts {
            out.extend(written_without_fs_group(doc, spec, &claims));
        }
        out.extend(pgdata_off_the_claim(doc, spec, &claims));
    }
    out
}

/// The pod's volumes backed by a PersistentVolumeClaim, a StatefulSet's claim templates included.
fn claim_volumes<'a>(doc: &'a Doc, spec: &'a Value) -> BTreeSet<&'a str> {
    let templates = doc.value["spec"]["volumeClaimTemplates"].as_sequence().into_iter().flatten().map(|c| s(&c["metadata"]["name"]));
    let volumes = spec["volumes"].as_sequence().into_iter().flatten();
    let claimed = volumes.filter(|v| !v["persistentVolumeClaim"].is_null()).map(|v| s(&v["name"]));
    templates.chain(claimed).collect()
}

/// A container that runs as a fixed non-root user and mounts a claim writable needs the pod's fsGroup:
/// a new volume is root's, and nothing else makes it writable (initdb then fails, "Permission denied").
fn written_without_fs_group(doc: &Doc, spec: &Value, claims: &BTreeSet<&str>) -> Vec<String> {
    if !spec["securityContext"]["fsGroup"].is_null() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for c in containers(spec) {
        let user = c["securityContext"]["runAsUser"].as_u64().or(spec["securityContext"]["runAsUser"].as_u64());
        let non_root = user.is_some_and(|u| u != 0);
        for m in c["volumeMounts"].as_sequence().into_iter().flatten() {
            if non_root && claims.contains(s(&m["name"])) && m["readOnly"].as_bool() != Some(true) {
                out.push(format!(
                    "{} container {}: writes claim volume {:?} at {} as UID {} but the pod sets no fsGroup, so the volume stays root's",
                    doc.id(),
                    s(&c["name"]),
                    s(&m["name"]),
                    s(&m["mountPath"]),
                    user.unwrap_or(0)
                ));
            }
        }
    }
    out
}

/// A container's PGDATA must lie under the mount of a claim volume: elsewhere the database lives in the
/// container's own filesystem and is lost with the pod.
fn pgdata_off_the_claim(doc: &Doc, spec: &Value, claims: &BTreeSet<&str>) -> Vec<String> {
    let mut out = Vec::new();
    for c in containers(spec) {
        let Some(pgdata) = env_value(c, "PGDATA") else { continue };
        let mounts = c["volumeMounts"].as_sequence().into_iter().flatten().filter(|m| claims.contains(s(&m["name"])));
        let on_claim = mounts.clone().any(|m| under(pgdata, s(&m["mountPath"])));
        if !on_claim {
            let at: Vec<&str> = mounts.map(|m| s(&m["mountPath"])).collect();
            out.push(format!(
                "{} container {}: PGDATA {pgdata} is under no claim volume's mount ({}), so the database is lost with the pod",
                doc.id(),
                s(&c["name"]),
                if at.is_empty() { "it mounts none".to_string() } else { at.join(", ") }
            ));
        }
    }
    out
}

/// Whether `path` is `mount` or lies below it.
pub(super) fn under(path: &str, mount: &str) -> bool {
    let mount = mount.trim_end_matches('/');
    path == mount || path.strip_prefix(mount).is_some_and(|rest| rest.starts_with('/'))
}
