//! HC018, HC019 and HC021: what the chart's pods are given at run time: with a mirror, every image from it and every pull Secret; on OpenShift, user and group IDs left to the SCC; file paths for TLS material inside a mounted volume that holds them.

use super::{containers, env_var, heimdall_pod, pod_specs, s, Rendering};
use serde_yaml::Value;
use std::collections::BTreeSet;

/// HC018: with `global.imageRegistry`, each image starts with "<registry>/";
/// and each pod lists each pull Secret the values name.
pub fn images(r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    for (doc, spec, _) in pod_specs(r.docs) {
        let id = doc.id();
        if let Some(registry) = &r.intent.image_registry {
            for c in containers(spec) {
                let image = s(&c["image"]);
                if !image.starts_with(&format!("{registry}/")) {
                    out.push(format!(
                        "{id} container {}: image {image:?} does not come from global.imageRegistry {registry:?}",
                        s(&c["name"])
                    ));
                }
            }
        }
        let listed: BTreeSet<&str> = spec["imagePullSecrets"].as_sequence().into_iter().flatten().map(|p| s(&p["name"])).collect();
        for name in &r.intent.pull_secrets {
            if !listed.contains(name.as_str()) {
                out.push(format!("{id}: imagePullSecrets lacks {name:?}, which the values name"));
            }
        }
    }
    out
}

/// HC019: where OpenShift assigns IDs, a fixed runAsUser, runAsGroup or
/// fsGroup outside its namespace's range makes restricted-v2 refuse the pod.
pub fn openshift_ids(r: &Rendering) -> Vec<String> {
    if !r.intent.openshift_adapts {
        return vec![];
    }
    let mut out = Vec::new();
    for (doc, spec, _) in pod_specs(r.docs) {
        let id = doc.id();
        let contexts = std::iter::once(("the pod".to_string(), &spec["securityContext"]))
            .chain(containers(spec).into_iter().map(|c| (format!("container {}", s(&c["name"])), &c["securityContext"])));
        for (owner, sc) in contexts {
            for field in ["runAsUser", "runAsGroup", "fsGroup"] {
                if !sc[field].is_null() {
                    out.push(format!("{id}: {owner} sets {field}, which OpenShift's SCC must assign"));
                }
            }
        }
    }
    out
}

/// The settings whose value Heimdall (or Node.js) opens as a file when it is a path.
const FILE_SETTINGS: [&str; 6] =
    ["DATABASE_SSL_CA", "DATABASE_SSL_CERT", "DATABASE_SSL_KEY", "LDAP_SSL_CA", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"];

/// HC021: each file path the Heimdall container is given in one of
/// [`FILE_SETTINGS`] (by env or from a ConfigMap it loads) lies in a volume
/// it mounts, and a volume that projects chosen items projects that file.
/// Heimdall stops at boot on a path that is not a file.
pub fn file_settings(r: &Rendering) -> Vec<String> {
    let Some((doc, spec, _)) = heimdall_pod(r.docs) else { return vec![] };
    let Some(container) = spec["containers"].as_sequence().into_iter().flatten().find(|c| s(&c["name"]) == "heimdall") else {
        return vec![];
    };
    let mut out = Vec::new();
    for name in FILE_SETTINGS {
        let Some(path) = env_var(r.docs, container, name).filter(|v| v.starts_with('/')) else { continue };
        let mounts = container["volumeMounts"].as_sequence().into_iter().flatten();
        let hit = mounts.filter_map(|m| Some((m, path.strip_prefix(s(&m["mountPath"]))?.strip_prefix('/')?))).next();
        let Some((mount, inside)) = hit else {
            out.push(format!("{} container heimdall: {name} is {path}, which lies in no volume it mounts", doc.id()));
            continue;
        };
        let volume = spec["volumes"].as_sequence().into_iter().flatten().find(|v| s(&v["name"]) == s(&mount["name"]));
        let items = volume.and_then(|v| v["secret"]["items"].as_sequence().or(v["configMap"]["items"].as_sequence()));
        if let Some(items) = items {
            if !items.iter().any(|i| s(&i["path"]) == inside) {
                out.push(format!(
                    "{} container heimdall: {name} is {path}, but volume {} projects no item {inside}",
                    doc.id(),
                    s(&mount["name"])
                ));
            }
        }
        if volume.is_some_and(|v| !v["emptyDir"].is_null()) && !an_init_container_writes(spec, s(&mount["name"]), inside) {
            out.push(format!(
                "{} container heimdall: {name} is {path}, in emptyDir volume {}, but no init container that mounts it writes {inside} there",
                doc.id(),
                s(&mount["name"])
            ));
        }
    }
    out
}

/// Whether an init container mounts `volume` and names the file `inside` it in its command or
/// arguments (the chart's CA bundle is written by `cat ... > <mount>/<file>`).
fn an_init_container_writes(spec: &Value, volume: &str, inside: &str) -> bool {
    spec["initContainers"].as_sequence().into_iter().flatten().any(|c| {
        let words = ["command", "args"].iter().flat_map(|k| c[*k].as_sequence().into_iter().flatten()).map(s).collect::<Vec<_>>().join(" ");
        let mounts = c["volumeMounts"].as_sequence().into_iter().flatten().filter(|m| s(&m["name"]) == volume);
        mounts.map(|m| format!("{}/{inside}", s(&m["mountPath"]).trim_end_matches('/'))).any(|file| words.contains(&file))
    })
}
