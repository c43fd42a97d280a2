//! HC026: documented values reach the object they are documented for: each `ingress.tls` Secret is in the Ingress's TLS, each `service.extraPorts` entry is on Heimdall's Service, `lifecycle` is the Heimdall container's, `httpRoute.timeouts` and `httpRoute.filters` are on the HTTPRoute's rule, the chart's objects are in namespaceOverride's namespace (or the release's), `revisionHistoryLimit` and `updateStrategy.rollingUpdate` are the Deployment's, `diagnosticMode` runs its command without probes, each `extraVolumeMounts` entry is on the Heimdall container, `extraEnvFrom` comes after the chart's own ConfigMap and Secret, `commonLabels` and `commonAnnotations` are on every object, and each `extraObjects` entry is rendered.

use super::{heimdall_container, heimdall_pod, pod_specs, s, Rendering};
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};

/// HC026, in twelve parts.
pub fn values_arrive(r: &Rendering) -> Vec<String> {
    let mut out = tls_secrets_arrive(r);
    out.extend(extra_ports_on_the_service(r));
    out.extend(http_route_rule_settings_arrive(r));
    out.extend(objects_in_the_namespace(r));
    out.extend(revision_history_limit_arrives(r));
    out.extend(rolling_update_arrives(r));
    out.extend(diagnostic_mode_arrives(r));
    if let Some(c) = heimdall_container(r.docs) {
        out.extend(mounts_arrive(&r.intent.extra_volume_mounts, c));
        out.extend(lifecycle_arrives(&r.intent.lifecycle, c));
        out.extend(env_from_after_the_chart(&r.intent.extra_env_from, c));
    }
    out.extend(common_metadata_arrives(r));
    out.extend(extra_objects_rendered(r));
    out
}

/// Each `commonLabels` entry is on every object and every pod template, each `commonAnnotations`
/// entry on every object: present, and with its value unless the case gives that key to some
/// object of its own (podLabels, service.annotations, an extra object's labels).
fn common_metadata_arrives(r: &Rendering) -> Vec<String> {
    let i = r.intent;
    let carries = |id: &str, value: &str, wanted, found: &Value| carries(id, value, wanted, found, &i.metadata_overrides);
    let mut out = Vec::new();
    for doc in r.docs {
        out.extend(carries(&doc.id(), "commonLabels", &i.common_labels, &doc.value["metadata"]["labels"]));
        out.extend(carries(&doc.id(), "commonAnnotations", &i.common_annotations, &doc.value["metadata"]["annotations"]));
    }
    for (doc, _, meta) in pod_specs(r.docs).into_iter().filter(|(d, _, _)| d.kind() != "Pod") {
        out.extend(carries(&format!("{}'s pod template", doc.id()), "commonLabels", &i.common_labels, &meta["labels"]));
    }
    out
}

/// What of `wanted` the map `found` lacks, or holds with another value the case did not ask for.
fn carries(id: &str, value: &str, wanted: &BTreeMap<String, String>, found: &Value, overrides: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (key, want) in wanted {
        match found.get(key.as_str()).map(s) {
            None => out.push(format!("{id}: {value} {key} is missing")),
            Some(got) if got != want && !overrides.contains(key) => {
                out.push(format!("{id}: {key} is {got:?}, not the {value} value {want:?}, and no value of the case gives it"))
            }
            Some(_) => {}
        }
    }
    out
}

/// A `lifecycle` the case gives is the Heimdall container's, as given.
fn lifecycle_arrives(lifecycle: &Value, container: &Value) -> Vec<String> {
    let given = lifecycle.as_mapping().is_some_and(|m| !m.is_empty());
    if !given || &container["lifecycle"] == lifecycle {
        return vec![];
    }
    vec![format!(
        "the Heimdall container's lifecycle is {}, not the lifecycle the values give",
        serde_yaml::to_string(&container["lifecycle"]).unwrap_or_default().trim()
    )]
}

/// Each `service.extraPorts` entry, by name, among the ports of the Service in front of Heimdall.
fn extra_ports_on_the_service(r: &Rendering) -> Vec<String> {
    let Some(service) = r.docs.iter().find(|d| d.kind() == "Service" && d.source.ends_with("templates/service.yaml")) else {
        return vec![];
    };
    let ports = service.value["spec"]["ports"].as_sequence().cloned().unwrap_or_default();
    let on = |name: &str| ports.iter().any(|p| p["name"].as_str() == Some(name));
    let missing = r.intent.service_extra_ports.iter().filter(|n| !on(n.as_str()));
    missing.map(|n| format!("{}: service.extraPorts {n} is not among its ports", service.id())).collect()
}

/// `httpRoute.timeouts` and `httpRoute.filters`, when given, are those of every rule of the chart's HTTPRoute, as given.
fn http_route_rule_settings_arrive(r: &Rendering) -> Vec<String> {
    let Some(route) = r.docs.iter().find(|d| d.kind() == "HTTPRoute" && d.source.ends_with("templates/httproute.yaml")) else {
        return vec![];
    };
    let timeouts = &r.intent.http_route_timeouts;
    let timeouts_given = timeouts.as_mapping().is_some_and(|m| !m.is_empty());
    let mut out = Vec::new();
    for (i, rule) in route.value["spec"]["rules"].as_sequence().into_iter().flatten().enumerate() {
        if timeouts_given && &rule["timeouts"] != timeouts {
            out.push(format!("{}: rule {i}'s timeouts are not httpRoute.timeouts as given", route.id()));
        }
        let filters = rule["filters"].as_sequence().cloned().unwrap_or_default();
        if filters != r.intent.http_route_filters {
            out.push(format!(
                "{}: rule {i} has {} filters, not httpRoute.filters' {} as given",
                route.id(),
                filters.len(),
                r.intent.http_route_filters.len()
            ));
        }
    }
    out
}

/// Every object of the chart's own templates names the namespace the values send it to
/// (namespaceOverride, or the release's).
fn objects_in_the_namespace(r: &Rendering) -> Vec<String> {
    let own = r.docs.iter().filter(|d| !d.source.ends_with("templates/extra-objects.yaml") && d.kind() != "NOTES");
    let elsewhere = own.filter(|d| !d.namespace().is_empty() && d.namespace() != r.intent.namespace);
    elsewhere.map(|d| format!("{}: in namespace {}, not {}", d.id(), d.namespace(), r.intent.namespace)).collect()
}

/// A `revisionHistoryLimit` the case gives is the Heimdall Deployment's.
fn revision_history_limit_arrives(r: &Rendering) -> Vec<String> {
    let (Some(want), Some((deployment, _, _))) = (r.intent.revision_history_limit, heimdall_pod(r.docs)) else { return vec![] };
    let got = deployment.value["spec"]["revisionHistoryLimit"].as_i64();
    if got == Some(want) {
        return vec![];
    }
    vec![format!("{}: revisionHistoryLimit is {got:?}, not the {want} the values give", deployment.id())]
}

/// Each `updateStrategy.rollingUpdate` setting the case gives is the Heimdall Deployment's (a number
/// or a percentage, as written).
fn rolling_update_arrives(r: &Rendering) -> Vec<String> {
    let (Some(given), Some((deployment, _, _))) = (r.intent.rolling_update.as_mapping(), heimdall_pod(r.docs)) else { return vec![] };
    let rendered = &deployment.value["spec"]["strategy"]["rollingUpdate"];
    let text = |v: &Value| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string()));
    let differs = given.iter().filter(|(k, v)| !v.is_null() && text(v) != text(&rendered[*k]));
    differs
        .map(|(k, v)| {
            format!("{}: rollingUpdate.{} is {:?}, not the {:?} the values give", deployment.id(), s(k), text(&rendered[k]), text(v))
        })
        .collect()
}

/// With `diagnosticMode` on, the Heimdall container runs a command of its own (the one the case gives,
/// if it gives one) with its arguments, and has no probe
/// (an idle container would never be Ready, or be restarted).
fn diagnostic_mode_arrives(r: &Rendering) -> Vec<String> {
    let (Some((command, args)), Some(c)) = (&r.intent.diagnostic_mode, heimdall_container(r.docs)) else { return vec![] };
    let mut out = Vec::new();
    // What the case leaves out is the chart's default (sleep infinity), which values.yaml documents.
    let differs = |given: &Value, got: &Value| !given.is_null() && given != got;
    if differs(command, &c["command"]) || differs(args, &c["args"]) || c["command"].is_null() {
        out.push("the Heimdall container does not run diagnosticMode's command and arguments".to_string());
    }
    for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
        if !c[probe].is_null() {
            out.push(format!("the Heimdall container keeps its {probe} in diagnosticMode"));
        }
    }
    out
}

/// One object from the extraObjects template for each `extraObjects` entry: none dropped, none doubled.
fn extra_objects_rendered(r: &Rendering) -> Vec<String> {
    let rendered = r.docs.iter().filter(|d| d.source.ends_with("templates/extra-objects.yaml")).count();
    if rendered == r.intent.extra_objects {
        return vec![];
    }
    vec![format!("extraObjects has {} entries but the chart rendered {rendered} objects from them", r.intent.extra_objects)]
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
