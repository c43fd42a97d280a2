//! HC014: the flows the chart needs pass its NetworkPolicies, and the flows it promises to stop do not.
//!
//! Flows are derived from the rendering's wiring (DATABASE_HOST to a Service
//! to its pods' port; the `helm test` Pod's URL; the Services in front of
//! Heimdall) and from what the case asked for (`ingressFrom`, `dnsTo`,
//! `externalDatabaseCidrs`), then evaluated by [`crate::support::netpol`].

use super::{heimdall_pod, pod_specs, s, string_map, subset, HttpUrl, Rendering};
use crate::support::manifest::Doc;
use crate::support::netpol::{self, Endpoint, Flow, Labels, Policy};
use serde_yaml::Value;
use std::net::IpAddr;

/// Where the chart stands: its pods as endpoints, and its policies.
struct Scene<'a> {
    r: &'a Rendering<'a>,
    namespace: String,
    policies: Vec<Policy>,
    heimdall: Endpoint,
    heimdall_spec: &'a Value,
    heimdall_meta: &'a Value,
}

pub(super) fn check(r: &Rendering) -> Vec<String> {
    let Some(scene) = Scene::new(r) else { return vec![] };
    let mut out = Vec::new();
    let mut required = Vec::new();
    let heimdall_ports = scene.heimdall_ports(&mut out);
    required.extend(scene.database_flows(&mut out));
    required.extend(scene.dns_flows());
    required.extend(scene.flows_to_heimdall(&heimdall_ports, &mut out));
    for flow in &required {
        let v = netpol::evaluate(&scene.policies, flow);
        if !v.allowed() {
            out.push(format!("required flow {} is blocked: {}", flow.describe(), v.explain()));
        }
    }
    if r.intent.network_policy {
        for flow in scene.forbidden_flows(&heimdall_ports) {
            let v = netpol::evaluate(&scene.policies, &flow);
            if v.allowed() {
                out.push(format!("forbidden flow {} is allowed: {}", flow.describe(), v.explain()));
            }
        }
    }
    out
}

/// Container ports of a pod spec: (name, possibly empty; number; protocol).
fn named_ports(spec: &Value) -> Vec<(String, u16, String)> {
    super::containers(spec)
        .iter()
        .flat_map(|c| c["ports"].as_sequence().into_iter().flatten())
        .filter_map(|p| {
            let number = u16::try_from(p["containerPort"].as_u64()?).ok()?;
            Some((s(&p["name"]).to_string(), number, p["protocol"].as_str().unwrap_or("TCP").to_string()))
        })
        .collect()
}

fn pod_endpoint(name: &str, namespace: &str, spec: &Value, meta: &Value) -> Endpoint {
    let mut e = Endpoint::pod(name, namespace, string_map(&meta["labels"]));
    e.named_ports = named_ports(spec);
    e
}

impl<'a> Scene<'a> {
    fn new(r: &'a Rendering<'a>) -> Option<Self> {
        let (doc, spec, meta) = heimdall_pod(r.docs)?;
        let namespace = if doc.namespace().is_empty() { r.intent.namespace.clone() } else { doc.namespace().to_string() };
        let policies = r.docs.iter().filter(|d| d.kind() == "NetworkPolicy").map(|d| Policy::from_value(&d.value, &namespace)).collect();
        let heimdall = pod_endpoint("Heimdall pods", &namespace, spec, meta);
        Some(Scene { r, namespace, policies, heimdall, heimdall_spec: spec, heimdall_meta: meta })
    }

    fn env_var(&self, container: &Value, name: &str) -> Option<String> {
        super::env_var(self.r.docs, container, name)
    }

    fn doc(&self, kind: &str, name: &str) -> Option<&'a Doc> {
        self.r.docs.iter().find(|d| d.kind() == kind && d.name() == name)
    }

    /// The rendered Service a host name (`svc`, `svc.ns`, `svc.ns.svc.cluster.local`) resolves to in the release namespace.
    fn service_for_host(&self, host: &str) -> Option<&'a Doc> {
        let mut labels = host.split('.');
        let name = labels.next()?;
        let rest: Vec<&str> = labels.collect();
        let local = rest.is_empty() || (rest[0] == self.namespace && rest.get(1).is_none_or(|l| *l == "svc"));
        if local {
            self.doc("Service", name)
        } else {
            None
        }
    }

    /// Pod endpoints a Service selects, each with the port number that `port` targets on it.
    fn service_targets(&self, service: &Doc, port: u16, out: &mut Vec<String>) -> Vec<(Endpoint, u16)> {
        let Some(sp) =
            service.value["spec"]["ports"].as_sequence().into_iter().flatten().find(|p| p["port"].as_u64() == Some(u64::from(port)))
        else {
            out.push(format!("{} has no port {port}", service.id()));
            return vec![];
        };
        let mut targets = Vec::new();
        let mut selected = false;
        for (doc, spec, meta) in pod_specs(self.r.docs) {
            if doc.kind() == "Pod" || !subset(&service.value["spec"]["selector"], &meta["labels"]) {
                continue;
            }
            selected = true;
            let endpoint =
                pod_endpoint(&format!("{} pods (Service {} port {port})", doc.name(), service.name()), &self.namespace, spec, meta);
            let number = match &sp["targetPort"] {
                Value::Null => Some(port),
                Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                Value::String(name) => endpoint.named_ports.iter().find(|(n, _, _)| n == name).map(|(_, number, _)| *number),
                _ => None,
            };
            // Only a port a container declares is known to listen; HC022 reports a targetPort that
            // resolves to none, so here that Service port simply carries no flow.
            if let Some(number) = number.filter(|n| endpoint.named_ports.iter().any(|(_, declared, _)| declared == n)) {
                targets.push((endpoint, number));
            }
        }
        if !selected {
            out.push(format!("{} selects no pod of the rendering", service.id()));
        }
        targets
    }

    /// Heimdall's containers (init containers too) → the database they are configured for.
    fn database_flows(&self, out: &mut Vec<String>) -> Vec<Flow> {
        let mut flows = Vec::new();
        for c in super::containers(self.heimdall_spec) {
            let (Some(host), Some(port)) = (self.env_var(c, "DATABASE_HOST"), self.env_var(c, "DATABASE_PORT")) else { continue };
            let Ok(port) = port.parse::<u16>() else {
                out.push(format!("container {}: DATABASE_PORT {port:?} is not a port number", s(&c["name"])));
                continue;
            };
            let from = Endpoint { name: format!("Heimdall pods (container {})", s(&c["name"])), ..self.heimdall.clone() };
            match self.service_for_host(&host) {
                Some(service) => {
                    for (to, number) in self.service_targets(service, port, out) {
                        flows.push(Flow { from: from.clone(), to, port: number, protocol: "TCP".into() });
                    }
                }
                None if self.r.intent.embedded_database => out.push(format!(
                    "container {}: DATABASE_HOST {host:?} names no Service of the rendering, yet the embedded database is on",
                    s(&c["name"])
                )),
                None => {
                    for cidr in &self.r.intent.external_database_cidrs {
                        let block: Value = serde_yaml::from_str(&format!("{{cidr: \"{cidr}\"}}")).unwrap_or(Value::Null);
                        if let Some(ip) = netpol::address_in_block(&block) {
                            let to = Endpoint::address(&format!("the external database at {cidr} ({host})"), ip);
                            flows.push(Flow { from: from.clone(), to, port, protocol: "TCP".into() });
                        }
                    }
                }
            }
        }
        flows
    }

    /// Heimdall → DNS, UDP and TCP, on the port its servers listen on: the `dnsTo` peers, or the
    /// cluster's DNS pods (kube-dns on 53; on OpenShift, openshift-dns's on 5353 behind the Service's
    /// 53). `networkPolicy.dnsPorts`, when the case sets it, says where its DNS listens.
    fn dns_flows(&self) -> Vec<Flow> {
        let intent = &self.r.intent;
        let ports = if !intent.dns_ports.is_empty() {
            intent.dns_ports.clone()
        } else if intent.openshift_dns {
            vec![5353]
        } else {
            vec![53]
        };
        let targets: Vec<Endpoint> = if intent.dns_to.is_empty() {
            vec![cluster_dns(intent.openshift_dns, ports[0])]
        } else {
            let peers = intent.dns_to.iter().enumerate();
            peers.filter_map(|(i, p)| netpol::member_of(p, &self.namespace, &format!("DNS (networkPolicy.dnsTo[{i}])"))).collect()
        };
        let mut flows = Vec::new();
        for to in targets {
            for port in &ports {
                for protocol in ["UDP", "TCP"] {
                    flows.push(Flow { from: self.heimdall.clone(), to: to.clone(), port: *port, protocol: protocol.into() });
                }
            }
        }
        flows
    }

    /// Heimdall's served ports: every (endpoint, port) a Service in front of Heimdall targets.
    fn heimdall_ports(&self, out: &mut Vec<String>) -> Vec<(Endpoint, u16)> {
        let mut ports = Vec::new();
        let in_front = |d: &&Doc| d.kind() == "Service" && subset(&d.value["spec"]["selector"], &self.heimdall_meta["labels"]);
        for svc in self.r.docs.iter().filter(in_front) {
            for p in svc.value["spec"]["ports"].as_sequence().into_iter().flatten() {
                let port = p["port"].as_u64().and_then(|n| u16::try_from(n).ok()).unwrap_or(0);
                ports.extend(self.service_targets(svc, port, out).into_iter().filter(|(e, _)| e.pod_labels == self.heimdall.pod_labels));
            }
        }
        ports
    }

    /// The `helm test` Pod through the Service its URL names, each `ingressFrom` peer (or, when
    /// none is given, any pod anywhere) to Heimdall's served port.
    fn flows_to_heimdall(&self, heimdall_ports: &[(Endpoint, u16)], out: &mut Vec<String>) -> Vec<Flow> {
        let mut flows = Vec::new();
        if let Some((test, url)) = self.test_pod() {
            match HttpUrl::parse(&url).filter(|u| !u.tls).and_then(|u| Some((self.service_for_host(u.host)?, u.port))) {
                Some((svc, port)) => {
                    for (to, number) in self.service_targets(svc, port, out) {
                        flows.push(Flow { from: test.clone(), to, port: number, protocol: "TCP".into() });
                    }
                }
                None => out.push(format!("the helm test Pod's URL {url:?} names no Service of the rendering")),
            }
        }
        let sources: Vec<Endpoint> = if self.r.intent.ingress_from.is_empty() {
            vec![Endpoint::pod("a pod in another namespace", "elsewhere", Labels::new())]
        } else {
            self.ingress_from_members()
        };
        for (to, port) in heimdall_ports {
            for from in &sources {
                flows.push(Flow { from: from.clone(), to: to.clone(), port: *port, protocol: "TCP".into() });
            }
        }
        flows
    }

    fn ingress_from_members(&self) -> Vec<Endpoint> {
        let peers = self.r.intent.ingress_from.iter().enumerate();
        peers.filter_map(|(i, p)| netpol::member_of(p, &self.namespace, &format!("networkPolicy.ingressFrom[{i}]"))).collect()
    }

    /// The `helm test` Pod and the URL it fetches.
    fn test_pod(&self) -> Option<(Endpoint, String)> {
        let doc = self.r.docs.iter().find(|d| d.kind() == "Pod" && s(&d.value["metadata"]["annotations"]["helm.sh/hook"]) == "test")?;
        let url = doc.value["spec"]["containers"].as_sequence()?.iter().find_map(|c| self.env_var(c, "URL"))?;
        Some((pod_endpoint("the helm test Pod", &self.namespace, &doc.value["spec"], &doc.value["metadata"]), url))
    }

    /// Sources other than Heimdall's pods → every port of the embedded database's pods;
    /// with `ingressFrom` set, a pod it does not name → Heimdall.
    fn forbidden_flows(&self, heimdall_ports: &[(Endpoint, u16)]) -> Vec<Flow> {
        let heimdall_labels = self.heimdall.pod_labels.clone().unwrap_or_default();
        let mut other_release = heimdall_labels.clone();
        other_release.insert("app.kubernetes.io/instance".into(), "another-release".into());
        let mut probes = vec![
            Endpoint::pod("an unlabelled pod of the release namespace", &self.namespace, Labels::new()),
            Endpoint::pod("another release's Heimdall pods in the same namespace", &self.namespace, other_release),
            Endpoint::pod("pods with Heimdall's labels in another namespace", "elsewhere", heimdall_labels),
            Endpoint::address("an address outside the cluster", IpAddr::from([203, 0, 113, 10])),
        ];
        probes.extend(self.test_pod().map(|(e, _)| e));
        probes.extend(self.ingress_from_members());
        let mut flows = Vec::new();
        for (doc, spec, meta) in pod_specs(self.r.docs).into_iter().filter(|(d, _, _)| d.kind() == "StatefulSet") {
            let db = pod_endpoint(&format!("{} pods (the embedded database)", doc.name()), &self.namespace, spec, meta);
            for (_, port, protocol) in &db.named_ports {
                flows.extend(probes.iter().map(|p| Flow { from: p.clone(), to: db.clone(), port: *port, protocol: protocol.clone() }));
            }
        }
        flows.extend(self.forbidden_egress());
        if !self.r.intent.ingress_from.is_empty() {
            let stranger = Endpoint::pod("a pod networkPolicy.ingressFrom does not name", "elsewhere", Labels::new());
            for (to, port) in heimdall_ports {
                flows.push(Flow { from: stranger.clone(), to: to.clone(), port: *port, protocol: "TCP".into() });
            }
        }
        flows
    }
}

impl Scene<'_> {
    /// Egress the chart documents closed: the embedded database's pods reach nothing, and Heimdall's
    /// pods reach no address outside the cluster (HTTPS, or the database port) unless
    /// `networkPolicy.extraEgress` opens something.
    fn forbidden_egress(&self) -> Vec<Flow> {
        let outside = Endpoint::address("an address outside the cluster", IpAddr::from([203, 0, 113, 10]));
        let mut flows = Vec::new();
        for (doc, spec, meta) in pod_specs(self.r.docs).into_iter().filter(|(d, _, _)| d.kind() == "StatefulSet") {
            let db = pod_endpoint(&format!("{} pods (the embedded database)", doc.name()), &self.namespace, spec, meta);
            flows.push(Flow { from: db, to: outside.clone(), port: 443, protocol: "TCP".into() });
        }
        if self.r.intent.extra_egress.is_empty() {
            for port in [443, 5432] {
                flows.push(Flow { from: self.heimdall.clone(), to: outside.clone(), port, protocol: "TCP".into() });
            }
        }
        flows
    }
}

/// The cluster's own DNS pods, serving on `port`: OpenShift's DNS operator's (namespace openshift-dns,
/// its Service's 53 mapped to the pods' 5353), or kube-dns's.
fn cluster_dns(openshift: bool, port: u16) -> Endpoint {
    let (name, namespace, label) = if openshift {
        ("OpenShift's DNS pods", "openshift-dns", ("dns.operator.openshift.io/daemonset-dns", "default"))
    } else {
        ("kube-dns pods", "kube-system", ("k8s-app", "kube-dns"))
    };
    let mut dns = Endpoint::pod(name, namespace, Labels::from([(label.0.to_string(), label.1.to_string())]));
    dns.named_ports = vec![("dns".into(), port, "UDP".into()), ("dns-tcp".into(), port, "TCP".into())];
    dns
}
