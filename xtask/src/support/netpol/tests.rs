//! The evaluator against each NetworkPolicy semantic, including the classic traps.

use super::*;

fn policy(yaml: &str) -> Policy {
    Policy::from_value(&serde_yaml::from_str(yaml).unwrap(), "app")
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn web() -> Endpoint {
    let mut e = Endpoint::pod("web", "app", labels(&[("role", "web")]));
    e.named_ports = vec![("http".into(), 3000, "TCP".into())];
    e
}

fn client(ns: &str, pairs: &[(&str, &str)]) -> Endpoint {
    Endpoint::pod("client", ns, labels(pairs))
}

fn flow(from: Endpoint, to: Endpoint, port: u16) -> Flow {
    Flow { from, to, port, protocol: "TCP".into() }
}

fn allowed(policies: &[Policy], f: &Flow) -> bool {
    evaluate(policies, f).allowed()
}

const ADMIT_FRONTEND: &str = "metadata: {name: p}\nspec:\n  podSelector: {matchLabels: {role: web}}\n  ingress:\n    - from: [{podSelector: {matchLabels: {role: frontend}}}]\n";

#[test]
fn a_pod_no_policy_selects_is_not_isolated() {
    let f = flow(client("app", &[]), web(), 3000);
    assert_eq!(evaluate(&[], &f), Verdict { egress: Side::NotIsolated, ingress: Side::NotIsolated });
    let other = policy("metadata: {name: p}\nspec:\n  podSelector: {matchLabels: {role: db}}\n  policyTypes: [Ingress]\n");
    assert!(allowed(&[other], &f));
}

#[test]
fn an_empty_pod_selector_isolates_every_pod_of_its_namespace_only() {
    let deny_all = policy("metadata: {name: deny}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n");
    let v = evaluate(std::slice::from_ref(&deny_all), &flow(client("app", &[]), web(), 3000));
    assert_eq!(v.ingress, Side::DeniedBy(vec!["deny".into()]));
    let mut elsewhere = web();
    elsewhere.namespace = "other".into();
    assert!(allowed(&[deny_all], &flow(client("app", &[]), elsewhere, 3000)));
}

#[test]
fn policy_types_default_to_ingress_plus_egress_only_with_egress_rules() {
    // No policyTypes and `egress: []`: ingress isolated, egress not.
    let p = policy("metadata: {name: p}\nspec:\n  podSelector: {}\n  egress: []\n");
    let out = flow(web(), Endpoint::address("internet", "203.0.113.9".parse().unwrap()), 443);
    assert!(allowed(std::slice::from_ref(&p), &out));
    assert!(!allowed(&[p], &flow(client("app", &[]), web(), 3000)));
    // No policyTypes with an egress rule: egress isolated too.
    let p = policy("metadata: {name: p}\nspec:\n  podSelector: {}\n  egress: [{ports: [{port: 53, protocol: UDP}]}]\n");
    assert!(!allowed(&[p], &out));
}

#[test]
fn policy_types_egress_with_no_egress_rules_denies_all_egress_and_leaves_ingress_open() {
    let p = policy("metadata: {name: egress-only}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n");
    let out = flow(web(), client("app", &[]), 5432);
    assert_eq!(evaluate(std::slice::from_ref(&p), &out).egress, Side::DeniedBy(vec!["egress-only".into()]));
    // The client lives elsewhere (the policy isolates every pod of "app" for egress).
    assert!(allowed(&[p], &flow(client("elsewhere", &[]), web(), 3000)));
}

#[test]
fn one_peer_with_both_selectors_is_an_and_two_peers_are_an_or() {
    let and = policy("metadata: {name: and}\nspec:\n  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector: {matchLabels: {team: ops}}\n          podSelector: {matchLabels: {role: frontend}}\n");
    let or = policy("metadata: {name: or}\nspec:\n  podSelector: {}\n  ingress:\n    - from:\n        - namespaceSelector: {matchLabels: {team: ops}}\n        - podSelector: {matchLabels: {role: frontend}}\n");
    let mut ops_other = client("ops", &[("role", "other")]);
    ops_other.namespace_labels.insert("team".into(), "ops".into());
    let mut ops_frontend = client("ops", &[("role", "frontend")]);
    ops_frontend.namespace_labels.insert("team".into(), "ops".into());
    assert!(allowed(std::slice::from_ref(&and), &flow(ops_frontend.clone(), web(), 3000)));
    assert!(!allowed(std::slice::from_ref(&and), &flow(ops_other.clone(), web(), 3000)), "AND: the pod selector must hold too");
    assert!(allowed(std::slice::from_ref(&or), &flow(ops_other, web(), 3000)), "OR: the namespace alone admits");
    // The OR's podSelector peer means the policy's own namespace only.
    assert!(allowed(std::slice::from_ref(&or), &flow(client("app", &[("role", "frontend")]), web(), 3000)));
    assert!(!allowed(&[or], &flow(client("elsewhere", &[("role", "frontend")]), web(), 3000)));
}

#[test]
fn a_pod_selector_peer_is_limited_to_the_policy_namespace() {
    let p = policy(ADMIT_FRONTEND);
    assert!(allowed(std::slice::from_ref(&p), &flow(client("app", &[("role", "frontend")]), web(), 3000)));
    assert!(!allowed(&[p], &flow(client("other", &[("role", "frontend")]), web(), 3000)));
}

#[test]
fn an_empty_namespace_selector_admits_every_namespace() {
    let p = policy("metadata: {name: p}\nspec:\n  podSelector: {}\n  ingress: [{from: [{namespaceSelector: {}}]}]\n");
    assert!(allowed(std::slice::from_ref(&p), &flow(client("far", &[]), web(), 3000)));
    // but not an address outside the pod network
    assert!(!allowed(&[p], &flow(Endpoint::address("lb", "198.51.100.1".parse().unwrap()), web(), 3000)));
}

#[test]
fn ip_blocks_with_except() {
    let p = policy("metadata: {name: p}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.5.0/24]}}]}]\n");
    let to = |ip: &str| flow(web(), Endpoint::address("db", ip.parse().unwrap()), 5432);
    assert!(allowed(std::slice::from_ref(&p), &to("10.0.4.9")));
    assert!(!allowed(std::slice::from_ref(&p), &to("10.0.5.9")), "excepted range");
    assert!(!allowed(std::slice::from_ref(&p), &to("10.1.0.1")), "outside the block");
    assert!(!allowed(&[p], &flow(web(), client("app", &[]), 5432)), "an ipBlock never matches a pod here");
    assert!(cidr_contains("fd00::/8", "fd12::1".parse().unwrap()) && !cidr_contains("fd00::/8", "10.0.0.1".parse().unwrap()));
    assert!(cidr_contains("0.0.0.0/0", "192.0.2.1".parse().unwrap()));
}

#[test]
fn an_address_is_found_inside_a_block_and_outside_its_exceptions() {
    let block: Value = serde_yaml::from_str("{cidr: 10.0.0.0/30, except: [10.0.0.0/31]}").unwrap();
    assert_eq!(address_in_block(&block), Some("10.0.0.2".parse().unwrap()));
    let whole: Value = serde_yaml::from_str("{cidr: 10.0.0.0/24, except: [10.0.0.0/24]}").unwrap();
    assert_eq!(address_in_block(&whole), None);
    let single: Value = serde_yaml::from_str("{cidr: 192.0.2.7/32}").unwrap();
    assert_eq!(address_in_block(&single), Some("192.0.2.7".parse().unwrap()));
}

#[test]
fn named_numbered_and_ranged_ports_and_the_tcp_default() {
    let only = |ports: &str| policy(&format!("metadata: {{name: p}}\nspec:\n  podSelector: {{}}\n  ingress: [{{ports: {ports}}}]\n"));
    let f = flow(client("app", &[]), web(), 3000);
    assert!(allowed(&[only("[{port: http}]")], &f), "a named port resolves on the destination pod");
    assert!(!allowed(&[only("[{port: metrics}]")], &f), "a name the pod does not have");
    assert!(allowed(&[only("[{port: 3000}]")], &f));
    assert!(allowed(&[only("[{port: 2000, endPort: 4000}]")], &f));
    assert!(!allowed(&[only("[{port: 3001, endPort: 4000}]")], &f));
    assert!(!allowed(&[only("[{port: 3000, protocol: UDP}]")], &f), "protocol defaults to TCP and must match");
    assert!(allowed(&[only("[{protocol: TCP}]")], &f), "no port: every port of the protocol");
    let udp = Flow { protocol: "UDP".into(), ..f.clone() };
    assert!(!allowed(&[only("[{port: http}]")], &udp));
    assert!(allowed(&[only("[]")], &f), "an empty ports list admits every port");
}

#[test]
fn a_rule_without_peers_admits_every_source() {
    let p = policy("metadata: {name: p}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: 3000}]}]\n");
    assert!(allowed(std::slice::from_ref(&p), &flow(client("far", &[]), web(), 3000)));
    assert!(allowed(&[p], &flow(Endpoint::address("lb", "198.51.100.1".parse().unwrap()), web(), 3000)));
}

#[test]
fn match_expressions() {
    let sel: Value = serde_yaml::from_str(
        "{matchExpressions: [{key: tier, operator: In, values: [a, b]}, {key: legacy, operator: DoesNotExist}, {key: env, operator: NotIn, values: [dev]}, {key: team, operator: Exists}]}",
    )
    .unwrap();
    assert!(selector_matches(&sel, &labels(&[("tier", "b"), ("team", "x")])));
    assert!(!selector_matches(&sel, &labels(&[("tier", "c"), ("team", "x")])));
    assert!(!selector_matches(&sel, &labels(&[("tier", "a"), ("team", "x"), ("legacy", "1")])));
    assert!(!selector_matches(&sel, &labels(&[("tier", "a"), ("team", "x"), ("env", "dev")])));
    assert!(!selector_matches(&sel, &labels(&[("tier", "a")])));
    assert!(selector_matches(&sel, &labels_satisfying(&sel)), "synthesised labels satisfy their selector");
}

#[test]
fn both_sides_must_admit_and_the_verdict_names_the_deciding_policies() {
    let egress = policy("metadata: {name: client-egress}\nspec:\n  podSelector: {matchLabels: {role: frontend}}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: 53, protocol: UDP}]}]\n");
    let ingress = policy(ADMIT_FRONTEND);
    let f = flow(client("app", &[("role", "frontend")]), web(), 3000);
    let v = evaluate(&[egress.clone(), ingress.clone()], &f);
    assert!(!v.allowed());
    assert_eq!(v.egress, Side::DeniedBy(vec!["client-egress".into()]));
    assert_eq!(v.ingress, Side::AllowedBy { policy: "p".into(), rule: 0 });
    assert!(
        v.explain().contains("blocked by NetworkPolicy/client-egress") && v.explain().contains("admitted by NetworkPolicy/p rule 0"),
        "{}",
        v.explain()
    );
}

#[test]
fn peer_members_are_admitted_by_their_peer() {
    let peer: Value = serde_yaml::from_str(
        "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}, podSelector: {matchLabels: {app: nginx}}}",
    )
    .unwrap();
    let m = member_of(&peer, "app", "nginx").unwrap();
    assert_eq!(m.namespace, "ingress-nginx");
    assert_eq!(m.pod_labels, Some(labels(&[("app", "nginx")])));
    let local = member_of(&serde_yaml::from_str("{podSelector: {matchLabels: {a: b}}}").unwrap(), "app", "x").unwrap();
    assert_eq!(local.namespace, "app");
    let ip = member_of(&serde_yaml::from_str("{ipBlock: {cidr: 10.0.5.0/24}}").unwrap(), "app", "db").unwrap();
    assert_eq!(ip.ip, Some("10.0.5.0".parse().unwrap()));
}
