//! HC022: every port one object names in another resolves, by name or number: a probe's port is one its container declares, a Service's targetPort one that every pod it selects declares, and an Ingress, HTTPRoute or Route backend a port its Service has.

use super::{containers, pod_specs, s, subset, Rendering};
use crate::support::manifest::Doc;
use serde_yaml::Value;

/// A port reference as Kubernetes writes it: a number, or the name of a declared port.
enum PortRef<'a> {
    Number(u64),
    Name(&'a str),
}

impl<'a> PortRef<'a> {
    fn of(v: &'a Value) -> Option<PortRef<'a>> {
        match v {
            Value::Number(n) => n.as_u64().map(PortRef::Number),
            Value::String(name) => Some(name.parse().map_or(PortRef::Name(name), PortRef::Number)),
            _ => None,
        }
    }

    fn shown(&self) -> String {
        match self {
            PortRef::Number(n) => n.to_string(),
            PortRef::Name(name) => format!("{name:?}"),
        }
    }
}

/// HC022, in three parts: probes, Services, and what routes traffic to a Service.
pub fn resolve(r: &Rendering) -> Vec<String> {
    let mut out = probe_ports(r.docs);
    out.extend(service_target_ports(r.docs));
    out.extend(backend_ports(r.docs));
    out
}

/// The ports a container declares, as "name=number" for messages.
fn declared(c: &Value) -> String {
    let ports: Vec<String> = c["ports"]
        .as_sequence()
        .into_iter()
        .flatten()
        .map(|p| format!("{}={}", s(&p["name"]), p["containerPort"].as_u64().unwrap_or(0)))
        .collect();
    if ports.is_empty() {
        "none".into()
    } else {
        ports.join(", ")
    }
}

/// Whether `c` declares the port `port` names.
fn declares(c: &Value, port: &PortRef) -> bool {
    c["ports"].as_sequence().into_iter().flatten().any(|p| match port {
        PortRef::Number(n) => p["containerPort"].as_u64() == Some(*n),
        PortRef::Name(name) => s(&p["name"]) == *name,
    })
}

/// Each httpGet, tcpSocket or grpc probe targets a port its own container declares: a probe on a port
/// where nothing listens keeps the pod from Ready, or restarts it forever.
fn probe_ports(docs: &[Doc]) -> Vec<String> {
    let mut out = Vec::new();
    for (doc, spec, _) in pod_specs(docs) {
        for c in containers(spec) {
            for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
                for handler in ["httpGet", "tcpSocket", "grpc"] {
                    let Some(port) = PortRef::of(&c[probe][handler]["port"]) else { continue };
                    if !declares(c, &port) {
                        out.push(format!(
                            "{} container {}: {probe}.{handler}.port {} is no port the container declares ({})",
                            doc.id(),
                            s(&c["name"]),
                            port.shown(),
                            declared(c)
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Each port of a Service with a selector reaches, through its targetPort (the port itself when
/// unset), a port declared by a container of every workload whose pods it selects.
fn service_target_ports(docs: &[Doc]) -> Vec<String> {
    let mut out = Vec::new();
    for svc in docs.iter().filter(|d| d.kind() == "Service") {
        let selector = &svc.value["spec"]["selector"];
        if selector.as_mapping().is_none_or(|m| m.is_empty()) {
            continue;
        }
        let selected = pod_specs(docs).into_iter().filter(|(_, _, meta)| subset(selector, &meta["labels"]));
        for (workload, spec, _) in selected {
            for p in svc.value["spec"]["ports"].as_sequence().into_iter().flatten() {
                let target = if p["targetPort"].is_null() { &p["port"] } else { &p["targetPort"] };
                let Some(port) = PortRef::of(target) else { continue };
                if !spec["containers"].as_sequence().into_iter().flatten().any(|c| declares(c, &port)) {
                    let ports: Vec<String> = spec["containers"].as_sequence().into_iter().flatten().map(declared).collect();
                    out.push(format!(
                        "{} port {}: targetPort {} is no port a container of {} declares ({})",
                        svc.id(),
                        p["port"].as_u64().unwrap_or(0),
                        port.shown(),
                        workload.id(),
                        ports.join("; ")
                    ));
                }
            }
        }
    }
    out
}

/// Each Ingress, HTTPRoute and Route backend that names a rendered Service names a port it has
/// (Ingress: its number or name; HTTPRoute: its number; Route: its name, or a number it targets).
fn backend_ports(docs: &[Doc]) -> Vec<String> {
    let mut out = Vec::new();
    for doc in docs {
        for (service, port, how) in backends(doc) {
            let Some(svc) = docs.iter().find(|d| d.kind() == "Service" && d.name() == service) else { continue };
            let Some(port) = PortRef::of(port) else { continue };
            let ports: Vec<&Value> = svc.value["spec"]["ports"].as_sequence().into_iter().flatten().collect();
            let found = ports.iter().any(|p| match (&port, how) {
                (PortRef::Name(name), _) => s(&p["name"]) == *name,
                (PortRef::Number(n), By::ServicePort) => p["port"].as_u64() == Some(*n),
                (PortRef::Number(n), By::TargetPort) => p["targetPort"].as_u64().or(p["port"].as_u64()) == Some(*n),
            });
            if !found {
                let have: Vec<String> = ports.iter().map(|p| format!("{}={}", s(&p["name"]), p["port"].as_u64().unwrap_or(0))).collect();
                out.push(format!(
                    "{}: its backend Service/{service} port {} is no port that Service has ({})",
                    doc.id(),
                    port.shown(),
                    have.join(", ")
                ));
            }
        }
    }
    out
}

/// How a backend's number is matched against a Service's ports.
#[derive(Clone, Copy)]
enum By {
    ServicePort,
    TargetPort,
}

/// (Service name, port reference, how a number matches) of each backend of an exposure object.
fn backends(doc: &Doc) -> Vec<(&str, &Value, By)> {
    let spec = &doc.value["spec"];
    match doc.kind() {
        "Ingress" => {
            let rules = spec["rules"].as_sequence().into_iter().flatten();
            let paths = rules.flat_map(|r| r["http"]["paths"].as_sequence().into_iter().flatten()).map(|p| &p["backend"]);
            let all = paths.chain(std::iter::once(&spec["defaultBackend"]));
            all.filter(|b| !b["service"].is_null())
                .map(|b| {
                    let port = &b["service"]["port"];
                    (s(&b["service"]["name"]), if port["name"].is_null() { &port["number"] } else { &port["name"] }, By::ServicePort)
                })
                .collect()
        }
        "HTTPRoute" => spec["rules"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|r| r["backendRefs"].as_sequence().into_iter().flatten())
            .filter(|b| b["kind"].as_str().unwrap_or("Service") == "Service")
            .map(|b| (s(&b["name"]), &b["port"], By::ServicePort))
            .collect(),
        "Route" if s(&spec["to"]["kind"]) == "Service" => vec![(s(&spec["to"]["name"]), &spec["port"]["targetPort"], By::TargetPort)],
        _ => Vec::new(),
    }
}
