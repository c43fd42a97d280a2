//! NetworkPolicy semantics: whether rendered policies let one flow (source, destination, port, protocol) through, and which policy decides it.
//!
//! Kubernetes' rules, as the API documents them: a pod selected by any policy
//! of a type (Ingress or Egress) is isolated for that type, and then a flow
//! passes only if some rule of some such policy admits it; a flow needs both
//! the source's egress and the destination's ingress. `policyTypes` defaults
//! to Ingress, plus Egress when the policy has egress rules. Within a peer,
//! `namespaceSelector` and `podSelector` are ANDed; separate peers are ORed; a
//! peer without `namespaceSelector` means the policy's own namespace. `ipBlock`
//! matches addresses outside the pod network here (pod addresses are left to
//! each CNI by the API, so this model never lets an `ipBlock` match a pod).

use serde_yaml::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;

pub type Labels = BTreeMap<String, String>;

/// One end of a flow: a pod (labels in a namespace) or an address outside the pod network.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// How findings name it: "the app's pods", "the helm test Pod".
    pub name: String,
    pub namespace: String,
    pub namespace_labels: Labels,
    /// None for an address outside the pod network.
    pub pod_labels: Option<Labels>,
    pub ip: Option<IpAddr>,
    /// Named container ports of a pod: (name, number, protocol).
    pub named_ports: Vec<(String, u16, String)>,
}

impl Endpoint {
    /// A pod in `namespace` (whose only label is its name, as Kubernetes sets it).
    pub fn pod(name: &str, namespace: &str, labels: Labels) -> Self {
        Endpoint {
            name: name.into(),
            namespace: namespace.into(),
            namespace_labels: namespace_labels(namespace),
            pod_labels: Some(labels),
            ip: None,
            named_ports: vec![],
        }
    }

    /// An address outside the pod network.
    pub fn address(name: &str, ip: IpAddr) -> Self {
        Endpoint {
            name: name.into(),
            namespace: String::new(),
            namespace_labels: Labels::new(),
            pod_labels: None,
            ip: Some(ip),
            named_ports: vec![],
        }
    }
}

/// The label every namespace carries since Kubernetes 1.22.
pub fn namespace_labels(namespace: &str) -> Labels {
    Labels::from([("kubernetes.io/metadata.name".to_string(), namespace.to_string())])
}

/// A connection attempt.
#[derive(Debug, Clone)]
pub struct Flow {
    pub from: Endpoint,
    pub to: Endpoint,
    pub port: u16,
    pub protocol: String,
}

impl Flow {
    pub fn describe(&self) -> String {
        format!("{} → {} on {}/{}", self.from.name, self.to.name, self.port, self.protocol)
    }
}

/// A rendered NetworkPolicy, read once.
#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub namespace: String,
    pod_selector: Value,
    ingress_isolates: bool,
    egress_isolates: bool,
    ingress: Vec<Value>,
    egress: Vec<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// What one side of a flow (the source's egress or the destination's ingress) decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Side {
    /// No policy of this type selects the pod (or it is no pod).
    NotIsolated,
    /// Rule `rule` (0-based) of `policy` admits the flow.
    AllowedBy { policy: String, rule: usize },
    /// These policies isolate the pod and none of their rules admit the flow.
    DeniedBy(Vec<String>),
}

/// Both sides of a flow.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub egress: Side,
    pub ingress: Side,
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        !matches!(self.egress, Side::DeniedBy(_)) && !matches!(self.ingress, Side::DeniedBy(_))
    }

    /// Why the flow is allowed or denied, naming the deciding policies.
    pub fn explain(&self) -> String {
        let side = |what: &str, s: &Side| match s {
            Side::NotIsolated => format!("{what}: no NetworkPolicy isolates it"),
            Side::AllowedBy { policy, rule } => format!("{what}: admitted by NetworkPolicy/{policy} rule {rule}"),
            Side::DeniedBy(ps) => format!("{what}: blocked by NetworkPolicy/{} (no rule admits it)", ps.join(", NetworkPolicy/")),
        };
        format!("{}; {}", side("egress from the source", &self.egress), side("ingress at the destination", &self.ingress))
    }
}

impl Policy {
    /// Reads a NetworkPolicy document; `namespace` is used when it names none.
    pub fn from_value(doc: &Value, namespace: &str) -> Policy {
        let spec = &doc["spec"];
        let list = |v: &Value| v.as_sequence().cloned().unwrap_or_default();
        let (ingress, egress) = (list(&spec["ingress"]), list(&spec["egress"]));
        let types: Vec<&str> = spec["policyTypes"].as_sequence().into_iter().flatten().filter_map(Value::as_str).collect();
        // The API server's defaulting: Ingress always, Egress only when egress rules exist.
        let (ingress_isolates, egress_isolates) =
            if types.is_empty() { (true, !egress.is_empty()) } else { (types.contains(&"Ingress"), types.contains(&"Egress")) };
        Policy {
            name: doc["metadata"]["name"].as_str().unwrap_or("").into(),
            namespace: doc["metadata"]["namespace"].as_str().filter(|n| !n.is_empty()).unwrap_or(namespace).into(),
            pod_selector: spec["podSelector"].clone(),
            ingress_isolates,
            egress_isolates,
            ingress,
            egress,
        }
    }

    fn selects(&self, e: &Endpoint) -> bool {
        e.pod_labels.as_ref().is_some_and(|labels| e.namespace == self.namespace && selector_matches(&self.pod_selector, labels))
    }

    fn isolates(&self, e: &Endpoint, dir: Direction) -> bool {
        self.selects(e) && if dir == Direction::Ingress { self.ingress_isolates } else { self.egress_isolates }
    }

    fn rules(&self, dir: Direction) -> &[Value] {
        if dir == Direction::Ingress {
            &self.ingress
        } else {
            &self.egress
        }
    }

    /// Whether `rule` admits `flow`, whose other end (the peer the rule names) is `peer`.
    fn rule_admits(&self, rule: &Value, dir: Direction, peer: &Endpoint, flow: &Flow) -> bool {
        let peers = &rule[if dir == Direction::Ingress { "from" } else { "to" }];
        let peer_ok = match peers.as_sequence() {
            None => true,
            Some(list) if list.is_empty() => true,
            Some(list) => list.iter().any(|p| self.peer_matches(p, peer)),
        };
        let ports_ok = match rule["ports"].as_sequence() {
            None => true,
            Some(list) if list.is_empty() => true,
            Some(list) => list.iter().any(|p| port_matches(p, flow)),
        };
        peer_ok && ports_ok
    }

    fn peer_matches(&self, peer: &Value, e: &Endpoint) -> bool {
        if let Some(block) = peer.get("ipBlock") {
            return e.ip.is_some_and(|ip| ip_block_contains(block, ip));
        }
        let (ns_sel, pod_sel) = (peer.get("namespaceSelector"), peer.get("podSelector"));
        let Some(labels) = &e.pod_labels else { return false };
        if ns_sel.is_none() && pod_sel.is_none() {
            return false;
        }
        let ns_ok = match ns_sel {
            Some(sel) => selector_matches(sel, &e.namespace_labels),
            None => e.namespace == self.namespace,
        };
        ns_ok && pod_sel.is_none_or(|sel| selector_matches(sel, labels))
    }
}

/// Decides `flow` under `policies`.
pub fn evaluate(policies: &[Policy], flow: &Flow) -> Verdict {
    Verdict {
        egress: decide(policies, &flow.from, Direction::Egress, &flow.to, flow),
        ingress: decide(policies, &flow.to, Direction::Ingress, &flow.from, flow),
    }
}

fn decide(policies: &[Policy], subject: &Endpoint, dir: Direction, peer: &Endpoint, flow: &Flow) -> Side {
    let isolating: Vec<&Policy> = policies.iter().filter(|p| p.isolates(subject, dir)).collect();
    if isolating.is_empty() {
        return Side::NotIsolated;
    }
    for p in &isolating {
        if let Some(rule) = p.rules(dir).iter().position(|r| p.rule_admits(r, dir, peer, flow)) {
            return Side::AllowedBy { policy: p.name.clone(), rule };
        }
    }
    Side::DeniedBy(isolating.iter().map(|p| p.name.clone()).collect())
}

/// A NetworkPolicyPort against the flow: protocol (default TCP), number or
/// range (`endPort`), or a name resolved on the destination pod's container ports.
fn port_matches(p: &Value, flow: &Flow) -> bool {
    let protocol = p["protocol"].as_str().unwrap_or("TCP");
    if protocol != flow.protocol {
        return false;
    }
    match &p["port"] {
        Value::Null => true,
        Value::Number(n) => {
            let start = n.as_u64().unwrap_or(0);
            let end = p["endPort"].as_u64().unwrap_or(start);
            (start..=end).contains(&u64::from(flow.port))
        }
        Value::String(name) => {
            flow.to.named_ports.iter().any(|(n, number, proto)| n == name && *number == flow.port && *proto == flow.protocol)
        }
        _ => false,
    }
}

/// A LabelSelector: `matchLabels` and `matchExpressions` ANDed; an empty selector matches everything.
pub fn selector_matches(selector: &Value, labels: &Labels) -> bool {
    let Some(sel) = selector.as_mapping() else { return selector.is_null() };
    let label = |k: &Value| k.as_str().and_then(|k| labels.get(k));
    let match_labels = sel
        .get("matchLabels")
        .and_then(Value::as_mapping)
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k) == v.as_str().map(|v| v.to_string()).as_ref());
    let expressions = sel.get("matchExpressions").and_then(Value::as_sequence).into_iter().flatten().all(|e| {
        let have = label(&e["key"]);
        let values: Vec<&str> = e["values"].as_sequence().into_iter().flatten().filter_map(Value::as_str).collect();
        match e["operator"].as_str().unwrap_or("") {
            "In" => have.is_some_and(|h| values.contains(&h.as_str())),
            "NotIn" => have.is_none_or(|h| !values.contains(&h.as_str())),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    });
    match_labels && expressions
}

/// Parses "10.0.0.0/8" or "fd00::/8" into (network bits, prefix length, bit width).
fn parse_cidr(cidr: &str) -> Option<(u128, u32, u32)> {
    let (addr, len) = cidr.split_once('/')?;
    let len: u32 = len.parse().ok()?;
    match addr.parse::<IpAddr>().ok()? {
        IpAddr::V4(a) if len <= 32 => Some((u128::from(u32::from(a)), len, 32)),
        IpAddr::V6(a) if len <= 128 => Some((u128::from(a), len, 128)),
        _ => None,
    }
}

fn bits(ip: IpAddr) -> (u128, u32) {
    match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
        IpAddr::V6(a) => (u128::from(a), 128),
    }
}

/// Whether `cidr` holds `ip` (same address family only).
pub fn cidr_contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, len, width)) = parse_cidr(cidr) else { return false };
    let (addr, addr_width) = bits(ip);
    if width != addr_width {
        return false;
    }
    let shift = width - len;
    len == 0 || (net >> shift) == (addr >> shift)
}

fn ip_block_contains(block: &Value, ip: IpAddr) -> bool {
    let cidr = block["cidr"].as_str().unwrap_or("");
    cidr_contains(cidr, ip) && !block["except"].as_sequence().into_iter().flatten().filter_map(Value::as_str).any(|e| cidr_contains(e, ip))
}

/// An address inside `block` and outside its `except` ranges, to stand for "an address this peer admits".
pub fn address_in_block(block: &Value) -> Option<IpAddr> {
    let (net, len, width) = parse_cidr(block["cidr"].as_str()?)?;
    let host_bits = width - len;
    let base = net.checked_shr(host_bits).unwrap_or(0).checked_shl(host_bits).unwrap_or(0);
    let span: u128 = if host_bits >= 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
    // The first few addresses, then the one after each excepted range.
    let mut candidates: Vec<u128> = (0..4u128.min(span.saturating_add(1))).map(|i| base + i).collect();
    for e in block["except"].as_sequence().into_iter().flatten().filter_map(Value::as_str) {
        if let Some((enet, elen, _)) = parse_cidr(e) {
            let ehost = width - elen;
            let ebase = enet.checked_shr(ehost).unwrap_or(0).checked_shl(ehost).unwrap_or(0);
            candidates.push(ebase.saturating_add(1u128.checked_shl(ehost).unwrap_or(u128::MAX)));
        }
    }
    candidates.into_iter().filter(|c| *c <= base.saturating_add(span)).map(|c| to_ip(c, width)).find(|ip| ip_block_contains(block, *ip))
}

fn to_ip(v: u128, width: u32) -> IpAddr {
    if width == 32 {
        IpAddr::from(std::net::Ipv4Addr::from(v as u32))
    } else {
        IpAddr::from(std::net::Ipv6Addr::from(v))
    }
}

/// Labels that satisfy `selector` (values for `In`, any value for `Exists`), to stand for "a pod this selector admits".
pub fn labels_satisfying(selector: &Value) -> Labels {
    let mut labels = Labels::new();
    for (k, v) in selector["matchLabels"].as_mapping().into_iter().flatten() {
        if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
            labels.insert(k.into(), v.into());
        }
    }
    for e in selector["matchExpressions"].as_sequence().into_iter().flatten() {
        let key = e["key"].as_str().unwrap_or("").to_string();
        match e["operator"].as_str() {
            Some("In") => {
                labels.insert(key, e["values"][0].as_str().unwrap_or("").into());
            }
            Some("Exists") => {
                labels.insert(key, "present".into());
            }
            _ => {}
        }
    }
    labels
}

/// An endpoint that `peer` (of a policy in `namespace`) admits: a pod in a
/// matching namespace with matching labels, or an address in its `ipBlock`.
pub fn member_of(peer: &Value, namespace: &str, name: &str) -> Option<Endpoint> {
    if let Some(block) = peer.get("ipBlock") {
        return address_in_block(block).map(|ip| Endpoint::address(name, ip));
    }
    let pod_labels = peer.get("podSelector").map(labels_satisfying).unwrap_or_default();
    let Some(ns_sel) = peer.get("namespaceSelector") else { return Some(Endpoint::pod(name, namespace, pod_labels)) };
    let mut ns_labels = labels_satisfying(ns_sel);
    let ns = ns_labels.get("kubernetes.io/metadata.name").cloned().unwrap_or_else(|| format!("{namespace}-peer"));
    ns_labels.insert("kubernetes.io/metadata.name".into(), ns.clone());
    Some(Endpoint { namespace_labels: ns_labels, ..Endpoint::pod(name, &ns, pod_labels) })
}

#[cfg(test)]
mod tests;
