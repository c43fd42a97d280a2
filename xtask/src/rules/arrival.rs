//! HC026: documented values reach the object they are documented for: each `ingress.tls` Secret is in the Ingress's TLS, each `extraVolumeMounts` entry is on the Heimdall container, and `extraEnvFrom` comes after the chart's own ConfigMap and Secret, as the values document.

use super::{heimdall_container, s, Rendering};
use serde_yaml::Value;

/// HC026, in three parts.
pub fn values_arrive(r: &Rendering) -> Vec<String> {
    let mut out = tls_secrets_arrive(r);
    if let Some(c) = heimdall_container(r.docs) {
        out.extend(mounts_arrive(&r.intent.extra_volume_mounts, c));
        out.extend(env_from_after_the_chart(&r.intent.extra_env_from, c));
    }
    out
}

/// Each `ingress.tls` entry's Secret is named in the rendered Ingress's `spec.tls` (else the
/// controller serves its default certificate).
fn tls_secrets_arrive(r: &Rendering) -> Vec<String> {
    let Some(ingress) = r.docs.iter().find(|d| d.kind() == "Ingress") else { return vec![] };
    let rendered: Vec<&str> = ingress.value["spec"]["tls"].as_sequence().into_iter().flatten().map(|t| s(&t["secretName"])).collect();
    r.intent
        .ingress_tls_secrets
        .iter()
        .filter(|name| !rendered.contains(&name.as_str()))
        .map(|name| format!("{}: ingress.tls names Secret {name:?}, which its spec.tls does not", ingress.id()))
        .collect()
}

/// Each `extraVolumeMounts` entry is one of the Heimdall container's mounts, at its path.
fn mounts_arrive(wanted: &[Value], c: &Value) -> Vec<String> {
    let mounts = c["volumeMounts"].as_sequence().cloned().unwrap_or_default();
    wanted
        .iter()
        .filter(|w| !mounts.iter().any(|m| s(&m["name"]) == s(&w["name"]) && s(&m["mountPath"]) == s(&w["mountPath"])))
        .map(|w| format!("extraVolumeMounts entry {:?} at {} is not on the Heimdall container", s(&w["name"]), s(&w["mountPath"])))
        .collect()
}

/// The `extraEnvFrom` entries are the last of the Heimdall container's `envFrom`, in their order:
/// the values document that they come after the chart's own sources.
fn env_from_after_the_chart(wanted: &[Value], c: &Value) -> Vec<String> {
    let all = c["envFrom"].as_sequence().cloned().unwrap_or_default();
    if wanted.is_empty() || all.ends_with(wanted) {
        return vec![];
    }
    vec![format!("the Heimdall container's envFrom does not end with the {} extraEnvFrom entries, in their order", wanted.len())]
}
