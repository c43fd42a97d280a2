//! The rules any chart should meet, which a generic run checks alone: HC008 (references resolve), HC009 (recommended labels, matching selectors), HC010 (Pod Security "restricted"), HC011 (determinism) and HC017 (pod wiring); HC022 (named ports) is in `ports`.

use super::{containers, generated_secret, pod_specs, s, subset, Rendering};
use crate::support::manifest::Doc;
use serde_yaml::Value;
use std::collections::BTreeSet;

pub fn references_resolve(r: &Rendering) -> Vec<String> {
    // The generator Job's Secret exists once its hook ran, before any workload starts.
    let written = generated_secret(r.docs).map(|n| format!("Secret/{n}"));
    let present: BTreeSet<String> = r.docs.iter().map(|d| d.id()).chain(r.intent.external.iter().cloned()).chain(written).collect();
    let mut refs: Vec<(String, String)> = Vec::new();
    for (doc, spec, _) in pod_specs(r.docs) {
        refs.extend(pod_references(doc, spec).into_iter().map(|target| (doc.id(), target)));
    }
    for doc in r.docs {
        refs.extend(object_references(doc).into_iter().map(|target| (doc.id(), target)));
    }
    refs.into_iter()
        .filter(|(_, target)| !present.contains(target))
        .map(|(from, target)| format!("{from} references {target}, which is neither rendered nor declared external"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// "Kind/name" of every object a pod spec needs: env sources, volumes, pull secrets, its ServiceAccount and (StatefulSets) its Service.
fn pod_references(doc: &Doc, spec: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |kind: &str, name: &str| out.push(format!("{kind}/{name}"));
    // An optional reference may dangle: Kubernetes starts the pod without it.
    let required = |r: &Value| !r.is_null() && r["optional"].as_bool() != Some(true);
    for c in containers(spec) {
        for e in c["envFrom"].as_sequence().into_iter().flatten() {
            if required(&e["configMapRef"]) {
                add("ConfigMap", s(&e["configMapRef"]["name"]));
            }
            if required(&e["secretRef"]) {
                add("Secret", s(&e["secretRef"]["name"]));
            }
        }
        for e in c["env"].as_sequence().into_iter().flatten() {
            if required(&e["valueFrom"]["secretKeyRef"]) {
                add("Secret", s(&e["valueFrom"]["secretKeyRef"]["name"]));
            }
            if required(&e["valueFrom"]["configMapKeyRef"]) {
                add("ConfigMap", s(&e["valueFrom"]["configMapKeyRef"]["name"]));
            }
        }
    }
    for v in spec["volumes"].as_sequence().into_iter().flatten() {
        if required(&v["configMap"]) {
            add("ConfigMap", s(&v["configMap"]["name"]));
        }
        if required(&v["secret"]) {
            add("Secret", s(&v["secret"]["secretName"]));
        }
        if !v["persistentVolumeClaim"].is_null() {
            add("PersistentVolumeClaim", s(&v["persistentVolumeClaim"]["claimName"]));
        }
    }
    for p in spec["imagePullSecrets"].as_sequence().into_iter().flatten() {
        add("Secret", s(&p["name"]));
    }
    let sa = s(&spec["serviceAccountName"]);
    if !sa.is_empty() && sa != "default" {
        add("ServiceAccount", sa);
    }
    if doc.kind() == "StatefulSet" && !s(&doc.value["spec"]["serviceName"]).is_empty() {
        add("Service", s(&doc.value["spec"]["serviceName"]));
    }
    out
}

/// "Kind/name" of what routes and autoscalers point at.
fn object_references(doc: &Doc) -> Vec<String> {
    let spec = &doc.value["spec"];
    let list = |v: &Value| v.as_sequence().cloned().unwrap_or_default();
    match doc.kind() {
        "Ingress" => {
            let paths = list(&spec["rules"]).iter().flat_map(|rule| list(&rule["http"]["paths"])).collect::<Vec<_>>();
            let services = paths.iter().map(|p| format!("Service/{}", s(&p["backend"]["service"]["name"])));
            let tls =
                list(&spec["tls"]).into_iter().filter(|t| !t["secretName"].is_null()).map(|t| format!("Secret/{}", s(&t["secretName"])));
            services.chain(tls).collect()
        }
        "HTTPRoute" => {
            list(&spec["rules"]).iter().flat_map(|rule| list(&rule["backendRefs"])).map(|b| format!("Service/{}", s(&b["name"]))).collect()
        }
        "Route" => {
            let alternates = list(&spec["alternateBackends"]).into_iter().map(|b| format!("{}/{}", s(&b["kind"]), s(&b["name"])));
            std::iter::once(format!("{}/{}", s(&spec["to"]["kind"]), s(&spec["to"]["name"]))).chain(alternates).collect()
        }
        "HorizontalPodAutoscaler" => vec![format!("{}/{}", s(&spec["scaleTargetRef"]["kind"]), s(&spec["scaleTargetRef"]["name"]))],
        _ => vec![],
    }
}

const RECOMMENDED_LABELS: [&str; 6] = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/version",
    "app.kubernetes.io/component",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/managed-by",
];

pub fn labels_and_selectors(r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    let pods = pod_specs(r.docs);
    for doc in r.docs {
        for l in RECOMMENDED_LABELS {
            if doc.value["metadata"]["labels"].get(l).is_none() {
                out.push(format!("{}: label {l} is missing", doc.id()));
            }
        }
    }
    for (doc, _, meta) in &pods {
        // Pods have no template; a Job's selector is generated by the API server.
        if doc.kind() != "Pod" {
            for l in RECOMMENDED_LABELS {
                if meta["labels"].get(l).is_none() {
                    out.push(format!("{}: pod template label {l} is missing", doc.id()));
                }
            }
            if doc.kind() != "Job" && !subset(&doc.value["spec"]["selector"]["matchLabels"], &meta["labels"]) {
                out.push(format!("{}: selector.matchLabels does not match its pod template labels", doc.id()));
            }
        }
    }
    let matches_a_pod = |sel: &Value| pods.iter().any(|(d, _, meta)| d.kind() != "Pod" && subset(sel, &meta["labels"]));
    for doc in r.docs {
        let selector = match doc.kind() {
            "Service" => &doc.value["spec"]["selector"],
            "PodDisruptionBudget" => &doc.value["spec"]["selector"]["matchLabels"],
            "NetworkPolicy" => &doc.value["spec"]["podSelector"]["matchLabels"],
            _ => continue,
        };
        if !matches_a_pod(selector) {
            out.push(format!("{}: selector matches no pod template of the rendering", doc.id()));
        }
    }
    out
}

const RESTRICTED_VOLUME_TYPES: [&str; 8] =
    ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

pub fn pod_security_restricted(r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    for (doc, spec, _) in pod_specs(r.docs) {
        let id = doc.id();
        for host in ["hostNetwork", "hostPID", "hostIPC"] {
            if spec[host].as_bool() == Some(true) {
                out.push(format!("{id}: {host} is true"));
            }
        }
        for v in spec["volumes"].as_sequence().into_iter().flatten() {
            for (k, _) in v.as_mapping().into_iter().flatten() {
                let k = s(k);
                if k != "name" && !RESTRICTED_VOLUME_TYPES.contains(&k) {
                    out.push(format!("{id}: volume {} is of type {k}", s(&v["name"])));
                }
            }
        }
        let pod = &spec["securityContext"];
        for c in containers(spec) {
            let name = s(&c["name"]);
            let sc = &c["securityContext"];
            if sc["privileged"].as_bool() == Some(true) {
                out.push(format!("{id} container {name}: privileged"));
            }
            if sc["allowPrivilegeEscalation"].as_bool() != Some(false) {
                out.push(format!("{id} container {name}: allowPrivilegeEscalation is not false"));
            }
            let drops = sc["capabilities"]["drop"].as_sequence().into_iter().flatten().any(|d| s(d) == "ALL");
            if !drops {
                out.push(format!("{id} container {name}: capabilities.drop lacks ALL"));
            }
            for a in sc["capabilities"]["add"].as_sequence().into_iter().flatten() {
                if s(a) != "NET_BIND_SERVICE" {
                    out.push(format!("{id} container {name}: adds capability {}", s(a)));
                }
            }
            let non_root = sc["runAsNonRoot"].as_bool().or(pod["runAsNonRoot"].as_bool());
            if non_root != Some(true) {
                out.push(format!("{id} container {name}: runAsNonRoot is not true"));
            }
            if sc["runAsUser"].as_u64().or(pod["runAsUser"].as_u64()) == Some(0) {
                out.push(format!("{id} container {name}: runs as UID 0"));
            }
            let seccomp = sc["seccompProfile"]["type"].as_str().or(pod["seccompProfile"]["type"].as_str());
            if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
                out.push(format!("{id} container {name}: seccompProfile is not RuntimeDefault or Localhost"));
            }
            for p in c["ports"].as_sequence().into_iter().flatten() {
                if !p["hostPort"].is_null() && p["hostPort"].as_u64() != Some(0) {
                    out.push(format!("{id} container {name}: uses hostPort"));
                }
            }
        }
    }
    out
}

pub fn deterministic(r: &Rendering) -> Vec<String> {
    // Nothing the chart renders is random: generated secrets are made in the cluster.
    r.differences
        .iter()
        .map(|d| match d.shape {
            Some(shape) => format!(
                "{} {}: differs between two renders ({shape}): a random value in the rendering changes on every GitOps render",
                d.doc, d.path
            ),
            None => format!("{} {}: differs between two renders", d.doc, d.path),
        })
        .collect()
}

/// HC017: each mount names a volume of its pod (or a StatefulSet's claim
/// template), each volume is mounted, each emptyDir is sized, and
/// `enableServiceLinks` is false (otherwise Kubernetes adds a
/// `<SERVICE>_PORT=tcp://...` variable per Service in the namespace).
pub fn wiring(r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    for (doc, spec, _) in pod_specs(r.docs) {
        let id = doc.id();
        if spec["enableServiceLinks"].as_bool() != Some(false) {
            out.push(format!("{id}: enableServiceLinks is not false, so every container gets a variable per Service"));
        }
        let volumes = volume_names(doc, spec);
        let mut mounted = BTreeSet::new();
        for c in containers(spec) {
            for m in c["volumeMounts"].as_sequence().into_iter().flatten() {
                let name = s(&m["name"]);
                mounted.insert(name);
                if !volumes.contains(name) {
                    out.push(format!(
                        "{id} container {}: mounts {name:?} at {}, which is no volume of the pod",
                        s(&c["name"]),
                        s(&m["mountPath"])
                    ));
                }
            }
        }
        for v in spec["volumes"].as_sequence().into_iter().flatten() {
            let name = s(&v["name"]);
            if !mounted.contains(name) {
                out.push(format!("{id}: volume {name:?} is mounted by no container"));
            }
            let empty_dir = v.as_mapping().is_some_and(|m| m.contains_key("emptyDir"));
            if empty_dir && v["emptyDir"]["sizeLimit"].is_null() {
                out.push(format!("{id}: emptyDir volume {name:?} has no sizeLimit, so it may fill the node's disk"));
            }
        }
    }
    out
}

fn volume_names<'a>(doc: &'a Doc, spec: &'a Value) -> BTreeSet<&'a str> {
    let claims = doc.value["spec"]["volumeClaimTemplates"].as_sequence().into_iter().flatten().map(|c| s(&c["metadata"]["name"]));
    spec["volumes"].as_sequence().into_iter().flatten().map(|v| s(&v["name"])).chain(claims).collect()
}
