//! HC014, the NetworkPolicies' reachability, firing on policies that block a needed flow or admit another.

use super::*;

/// The good rendering with the chart's two NetworkPolicies (Heimdall's and the database's).
fn with_policies(heimdall_ingress: &str, database_from: &str) -> String {
    format!(
        r#"{}---
# Source: heimdall/templates/networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: r-heimdall, labels: {LABELS}}}
spec:
  podSelector: {{matchLabels: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}}}
  policyTypes: [Ingress, Egress]
  ingress: [{heimdall_ingress}]
  egress:
    - ports: [{{port: 53, protocol: UDP}}, {{port: 53, protocol: TCP}}]
    - ports: [{{port: 5432, protocol: TCP}}]
      to: [{{podSelector: {{matchLabels: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: database}}}}}}]
---
# Source: heimdall/templates/postgresql-networkpolicy.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: r-heimdall-postgresql, labels: {DB_LABELS}}}
spec:
  podSelector: {{matchLabels: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: database}}}}
  policyTypes: [Ingress, Egress]
  ingress: [{{ports: [{{port: postgresql, protocol: TCP}}], from: [{database_from}]}}]
  egress: []
"#,
        good_yaml()
    )
}

const HEIMDALL_FROM_ANYWHERE: &str = "{ports: [{port: http, protocol: TCP}]}";

const FROM_HEIMDALL: &str =
    "{podSelector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}}";

fn policy_intent() -> Intent {
    Intent { network_policy: true, embedded_database: true, ..inline_intent() }
}

#[test]
fn hc014_passes_the_chart_policies() {
    let found = findings_with(&with_policies(HEIMDALL_FROM_ANYWHERE, FROM_HEIMDALL), &policy_intent(), &[], None);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn hc014_fires_when_the_database_admits_only_database_pods() {
    let yaml = with_policies(HEIMDALL_FROM_ANYWHERE, &FROM_HEIMDALL.replace("component: server", "component: database"));
    let found = findings_with(&yaml, &policy_intent(), &[], None);
    assert!(
        found.iter().any(|f| f.starts_with("HC014")
            && f.contains("required flow Heimdall pods (container heimdall) → r-heimdall-postgresql pods")
            && f.contains("blocked by NetworkPolicy/r-heimdall-postgresql")),
        "{found:#?}"
    );
    assert!(found.iter().all(|f| f.starts_with("HC014")), "{found:#?}");
}

#[test]
fn hc014_fires_when_other_pods_can_reach_the_database() {
    // Selecting on the chart name alone admits another release's Heimdall.
    let loose = "{podSelector: {matchLabels: {app.kubernetes.io/name: heimdall}}}";
    let found = findings_with(&with_policies(HEIMDALL_FROM_ANYWHERE, loose), &policy_intent(), &[], None);
    assert!(
        found.iter().any(|f| f.contains("forbidden flow another release's Heimdall pods in the same namespace")
            && f.contains("admitted by NetworkPolicy/r-heimdall-postgresql rule 0")),
        "{found:#?}"
    );
    // A namespaceSelector beside the podSelector in a second item admits whole namespaces.
    let or = format!("{FROM_HEIMDALL}, {{namespaceSelector: {{}}}}");
    fires("HC014", &with_policies(HEIMDALL_FROM_ANYWHERE, &or), &policy_intent(), &[], None);
    // Without the database's policy nothing isolates it.
    let yaml = with_policies(HEIMDALL_FROM_ANYWHERE, FROM_HEIMDALL);
    let without = &yaml[..yaml.find("# Source: heimdall/templates/postgresql-networkpolicy.yaml").unwrap()];
    let found = findings_with(without, &policy_intent(), &[], None);
    assert!(found.iter().any(|f| f.contains("forbidden flow") && f.contains("no NetworkPolicy isolates it")), "{found:#?}");
}

#[test]
fn hc014_fires_when_dns_or_ingress_from_peers_are_blocked() {
    let yaml = with_policies(HEIMDALL_FROM_ANYWHERE, FROM_HEIMDALL)
        .replace("    - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n", "");
    let found = findings_with(&yaml, &policy_intent(), &[], None);
    assert!(found.iter().any(|f| f.contains("Heimdall pods → kube-dns pods on 53/UDP is blocked")), "{found:#?}");
    let mut intent = policy_intent();
    intent.ingress_from =
        vec![serde_yaml::from_str("{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}}").unwrap()];
    let only_monitoring = "{ports: [{port: http}], from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]}";
    let found = findings_with(&with_policies(only_monitoring, FROM_HEIMDALL), &intent, &[], None);
    assert!(
        found.iter().any(|f| f.contains("required flow networkPolicy.ingressFrom[0] → r-heimdall pods") && f.contains("blocked")),
        "{found:#?}"
    );
}

#[test]
fn hc014_fires_on_openshift_when_dns_egress_admits_only_the_services_port() {
    let yaml = with_policies(HEIMDALL_FROM_ANYWHERE, FROM_HEIMDALL);
    let intent = Intent { openshift_dns: true, ..policy_intent() };
    let found = findings_with(&yaml, &intent, &[], None);
    assert!(found.iter().any(|f| f.contains("Heimdall pods → OpenShift's DNS pods on 5353/UDP is blocked")), "{found:#?}");
    let dns = "    - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]\n";
    let both = yaml.replace(
        dns,
        "    - ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}, {port: 5353, protocol: UDP}, {port: 5353, protocol: TCP}]\n",
    );
    let found = findings_with(&both, &intent, &[], None);
    assert!(found.is_empty(), "{found:#?}");
    // A DNS the operator runs on another port is checked on that port.
    let intent = Intent { dns_ports: vec![1053], ..policy_intent() };
    let found = findings_with(&yaml, &intent, &[], None);
    assert!(found.iter().any(|f| f.contains("kube-dns pods on 1053/UDP is blocked")), "{found:#?}");
}

#[test]
fn hc014_fires_when_database_host_names_no_service() {
    let yaml = good_yaml().replace("{name: DATABASE_HOST, value: r-heimdall-postgresql}", "{name: DATABASE_HOST, value: r-postgresql}");
    let intent = Intent { embedded_database: true, ..inline_intent() };
    fires("HC014", &yaml, &intent, &[], None);
}

#[test]
fn hc014_fires_when_heimdall_or_the_database_may_reach_outside_the_cluster() {
    let good = with_policies(HEIMDALL_FROM_ANYWHERE, FROM_HEIMDALL);
    let heimdall_open = good.replacen("policyTypes: [Ingress, Egress]", "policyTypes: [Ingress]", 1);
    let found = findings_with(&heimdall_open, &policy_intent(), &[], None);
    assert!(found.iter().any(|f| f.contains("forbidden flow") && f.contains("an address outside the cluster on 443/TCP")), "{found:#?}");
    fires("HC014", &heimdall_open, &policy_intent(), &[], None);
    let database_open = good.replace("  egress: []\n", "  egress: [{}]\n");
    fires("HC014", &database_open, &policy_intent(), &[], None);
    // Egress the values open with extraEgress is the user's to open.
    let opened = Intent { extra_egress: vec![serde_yaml::from_str("{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}").unwrap()], ..policy_intent() };
    assert!(findings_with(&heimdall_open, &opened, &[], None).is_empty());
}
