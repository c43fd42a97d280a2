//! Each rule firing on a hand-written, deliberately broken rendering, and staying quiet on a good one.

use super::storage::under;
use super::*;
use crate::support::manifest::parse;

const LABELS: &str = "{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/version: '2.13.1', app.kubernetes.io/component: server, app.kubernetes.io/part-of: heimdall, app.kubernetes.io/managed-by: Helm}";
const DB_LABELS: &str = "{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/version: '2.13.1', app.kubernetes.io/component: database, app.kubernetes.io/part-of: heimdall, app.kubernetes.io/managed-by: Helm}";
const JWT: &str = "jwt-secret-value-that-is-long-enough-for-heimdall-000000000000000000";

fn good_yaml() -> String {
    good_yaml_with(&[])
}

/// The good rendering with these settings added to Heimdall's ConfigMap (and checksum/config to match).
fn good_yaml_with(settings: &[(&str, &str)]) -> String {
    let mut config = BTreeMap::from([("PORT".to_string(), "3000".to_string())]);
    config.extend(settings.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config_checksum = format!("{:x}", Sha256::digest(derived::go_json_object(&config).as_bytes()));
    let config = serde_json::to_string(&config).unwrap();
    let mut data = BTreeMap::new();
    data.insert("ADMIN_PASSWORD".to_string(), "Admin_fixture_password_1".to_string());
    data.insert("API_KEY_SECRET".to_string(), "api-key-secret-fixture-value-0000000".to_string());
    data.insert("DATABASE_PASSWORD".to_string(), "database-password-fixture".to_string());
    data.insert("JWT_SECRET".to_string(), JWT.to_string());
    let checksum = secret_checksum_of(&data);
    let sc = "{allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1001, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}";
    let env =
        |name: &str| format!("{{name: {name}, valueFrom: {{secretKeyRef: {{name: r-heimdall-secrets, key: {name}, optional: false}}}}}}");
    format!(
        r#"---
# Source: heimdall/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata: {{name: r-heimdall-secrets, labels: {LABELS}}}
type: Opaque
data: {{ADMIN_PASSWORD: "", API_KEY_SECRET: "", DATABASE_PASSWORD: "", JWT_SECRET: ""}}
stringData:
  ADMIN_PASSWORD: "Admin_fixture_password_1"
  API_KEY_SECRET: "api-key-secret-fixture-value-0000000"
  DATABASE_PASSWORD: "database-password-fixture"
  JWT_SECRET: "{JWT}"
---
# Source: heimdall/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata: {{name: r-heimdall-config, labels: {LABELS}}}
data: {config}
---
# Source: heimdall/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata: {{name: r-heimdall, labels: {LABELS}}}
---
# Source: heimdall/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {{name: r-heimdall, labels: {LABELS}}}
spec: {{ports: [{{port: 3000, targetPort: http}}], selector: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}}}
---
# Source: heimdall/templates/postgresql-service.yaml
apiVersion: v1
kind: Service
metadata: {{name: r-heimdall-postgresql, labels: {DB_LABELS}}}
spec: {{ports: [{{port: 5432, targetPort: postgresql}}], selector: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: database}}}}
---
# Source: heimdall/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {{name: r-heimdall, labels: {LABELS}}}
spec:
  selector: {{matchLabels: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}}}
  template:
    metadata:
      labels: {LABELS}
      annotations: {{checksum/config: "{config_checksum}", checksum/secrets: "{checksum}"}}
    spec:
      serviceAccountName: r-heimdall
      enableServiceLinks: false
      securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}
      containers:
        - name: heimdall
          image: docker.io/mitre/heimdall2:2.13.1
          volumeMounts: [{{name: tmp, mountPath: /tmp}}]
          securityContext: {sc}
          envFrom: [{{configMapRef: {{name: r-heimdall-config}}}}, {{secretRef: {{name: r-heimdall-secrets}}}}]
          ports: [{{name: http, containerPort: 3000, protocol: TCP}}]
          env: [{}, {}, {}, {}, {{name: DATABASE_HOST, value: r-heimdall-postgresql}}, {{name: DATABASE_PORT, value: "5432"}}, {{name: DATABASE_SSL, value: "false"}}, {{name: DATABASE_SSL_INSECURE, value: "false"}}]
      volumes: [{{name: tmp, emptyDir: {{sizeLimit: 1Gi}}}}]
---
# Source: heimdall/templates/postgresql-statefulset.yaml
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: r-heimdall-postgresql, labels: {DB_LABELS}}}
spec:
  serviceName: r-heimdall-postgresql
  selector: {{matchLabels: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: database}}}}
  template:
    metadata: {{labels: {DB_LABELS}}}
    spec:
      enableServiceLinks: false
      securityContext: {{runAsNonRoot: true, runAsUser: 999, fsGroup: 999, seccompProfile: {{type: RuntimeDefault}}}}
      containers:
        - name: postgresql
          image: docker.io/postgres:17.6
          volumeMounts: [{{name: data, mountPath: /var/lib/postgresql/data}}]
          ports: [{{name: postgresql, containerPort: 5432, protocol: TCP}}]
          securityContext: {sc}
          env: [{{name: POSTGRES_PASSWORD, valueFrom: {{secretKeyRef: {{name: r-heimdall-secrets, key: DATABASE_PASSWORD, optional: false}}}}}}, {{name: PGDATA, value: /var/lib/postgresql/data/pgdata}}]
  volumeClaimTemplates: [{{metadata: {{name: data}}}}]
"#,
        env("JWT_SECRET"),
        env("API_KEY_SECRET"),
        env("DATABASE_PASSWORD"),
        env("ADMIN_PASSWORD"),
    )
}

fn findings_with(yaml: &str, intent: &Intent, diffs: &[Difference], notes: Option<&str>) -> Vec<String> {
    let m = parse(yaml).expect("test rendering parses");
    check(&Rendering { docs: &m.docs, notes, intent, differences: diffs }, Checks::All).iter().map(ToString::to_string).collect()
}

fn inline_intent() -> Intent {
    let mut intent = Intent::default();
    intent.supplied.insert("JWT_SECRET".into(), (JWT.into(), "heimdall.secrets".into()));
    intent
}

/// Asserts that exactly `rule` fires on the broken rendering.
fn fires(rule: &str, yaml: &str, intent: &Intent, diffs: &[Difference], notes: Option<&str>) {
    let found = findings_with(yaml, intent, diffs, notes);
    assert!(!found.is_empty(), "{rule} did not fire");
    assert!(found.iter().all(|f| f.starts_with(rule)), "expected only {rule}, got {found:#?}");
}

#[test]
fn the_good_rendering_passes_every_rule() {
    let found = findings_with(&good_yaml(), &inline_intent(), &[], Some("Secrets come from Secret r-heimdall-secrets"));
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn hc001_fires_when_a_chart_secret_is_rendered_beside_existing_secret() {
    let mut intent = Intent { existing_secret: Some("prod".into()), ..Default::default() };
    for k in REQUIRED_KEYS {
        intent.existing_secret_keys.insert(k.into(), k.into());
    }
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC001") && f.contains("Secret/r-heimdall-secrets is rendered")), "{found:#?}");
    assert!(found.iter().any(|f| f.starts_with("HC001") && f.contains("PostgreSQL container")), "{found:#?}");
}

#[test]
fn hc002_fires_when_the_file_value_beats_the_inline_one() {
    let mut intent = inline_intent();
    intent.supplied.insert("JWT_SECRET".into(), ("the-inline-value-that-should-have-won".into(), "heimdall.secrets".into()));
    fires("HC002", &good_yaml(), &intent, &[], None);
}

#[test]
fn hc002_fires_on_a_key_written_twice() {
    // Parsing rejects the duplicate first; the rule still counts raw lines.
    let m = parse(&good_yaml()).unwrap();
    let mut docs = m.docs.clone();
    docs[0].raw.push_str("\n  JWT_SECRET: \"again\"");
    let found: Vec<String> = check(&Rendering { docs: &docs, notes: None, intent: &inline_intent(), differences: &[] }, Checks::All)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(found.iter().any(|f| f.starts_with("HC002") && f.contains("appears 2 times")), "{found:#?}");
}

#[test]
fn hc003_fires_when_a_required_key_arrives_only_through_env_from() {
    let yaml = good_yaml().replace(
        "{name: ADMIN_PASSWORD, valueFrom: {secretKeyRef: {name: r-heimdall-secrets, key: ADMIN_PASSWORD, optional: false}}}",
        "{name: UNRELATED, value: x}",
    );
    fires("HC003", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc003_fires_on_an_optional_reference() {
    let yaml = good_yaml().replace("key: JWT_SECRET, optional: false", "key: JWT_SECRET, optional: true");
    fires("HC003", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc004_fires_when_postgresql_reads_another_secret() {
    let yaml = good_yaml().replace(
        "{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: r-heimdall-secrets, key: DATABASE_PASSWORD",
        "{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: r-heimdall-secrets, key: POSTGRES_PASSWORD",
    );
    fires("HC004", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc005_fires_on_a_secret_value_in_a_config_map_and_in_notes() {
    let yaml = good_yaml_with(&[("LEAK", JWT)]);
    fires("HC005", &yaml, &inline_intent(), &[], None);
    fires("HC005", &good_yaml(), &inline_intent(), &[], Some(&format!("your JWT is {JWT}")));
}

#[test]
fn hc006_fires_on_another_type_a_value_in_data_or_a_key_missing_from_data() {
    let yaml = good_yaml().replace("type: Opaque", "type: kubernetes.io/basic-auth");
    fires("HC006", &yaml, &inline_intent(), &[], None);
    let yaml = good_yaml().replace("data: {ADMIN_PASSWORD: \"\",", "data: {ADMIN_PASSWORD: \"eA==\",");
    fires("HC006", &yaml, &inline_intent(), &[], None);
    let yaml = good_yaml().replace("data: {ADMIN_PASSWORD: \"\", ", "data: {");
    fires("HC006", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc007_fires_on_a_missing_or_stale_checksum() {
    let good = good_yaml();
    let stale = good.replace(", checksum/secrets: \"", ", checksum/secrets: \"0");
    fires("HC007", &stale, &inline_intent(), &[], None);
    let start = good.find(", checksum/secrets").unwrap();
    let end = start + good[start..].find('}').unwrap();
    let missing = format!("{}{}", &good[..start], &good[end..]);
    fires("HC007", &missing, &inline_intent(), &[], None);
}

#[test]
fn hc008_fires_on_a_dangling_config_map_reference() {
    let yaml = good_yaml().replace("configMapRef: {name: r-heimdall-config}", "configMapRef: {name: r-heimdall-settings}");
    fires("HC008", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc008_accepts_declared_external_objects() {
    let yaml = good_yaml().replace("configMapRef: {name: r-heimdall-config}", "configMapRef: {name: shared-config}");
    let mut intent = inline_intent();
    intent.external.insert("ConfigMap/shared-config".into());
    assert!(findings_with(&yaml, &intent, &[], None).is_empty());
}

#[test]
fn hc009_fires_on_a_missing_label_and_a_selector_matching_nothing() {
    let yaml = good_yaml().replacen("app.kubernetes.io/part-of: heimdall, ", "", 1);
    fires("HC009", &yaml, &inline_intent(), &[], None);
    let yaml = good_yaml().replace(
        "selector: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}",
        "selector: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: web}}",
    );
    fires("HC009", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc010_fires_on_privilege_escalation_and_a_host_path() {
    let yaml = good_yaml().replacen("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", 1);
    fires("HC010", &yaml, &inline_intent(), &[], None);
    let from = "volumes: [{name: tmp, emptyDir: {sizeLimit: 1Gi}}]";
    assert!(good_yaml().contains(from));
    let yaml = good_yaml().replace(from, "volumes: [{name: tmp, hostPath: {path: /tmp}}]");
    fires("HC010", &yaml, &inline_intent(), &[], None);
}

#[test]
fn hc011_fires_on_a_varying_value() {
    let stray = Difference { doc: "ConfigMap/r-heimdall-config".into(), path: "data.PORT".into(), shape: None };
    fires("HC011", &good_yaml(), &inline_intent(), &[stray], None);
    let random_in_config = Difference { doc: "ConfigMap/r-heimdall-config".into(), path: "data.X".into(), shape: Some("<random-hex-128>") };
    fires("HC011", &good_yaml(), &inline_intent(), &[random_in_config], None);
}

#[test]
fn hc011_fires_on_a_random_secret_value_in_the_rendering() {
    // Render-time generation is what GitOps tools rotate on every sync: no exception for it.
    let generated =
        Difference { doc: "Secret/r-heimdall-secrets".into(), path: "stringData.JWT_SECRET".into(), shape: Some("<random-hex-128>") };
    fires("HC011", &good_yaml(), &inline_intent(), &[generated], None);
}

#[test]
fn checksum_matches_the_chart_canonical_form() {
    // "A=" + base64("x") + "\n": the same bytes the chart's template hashes.
    let mut data = BTreeMap::new();
    data.insert("A".to_string(), "x".to_string());
    assert_eq!(secret_checksum_of(&data), format!("{:x}", Sha256::digest(b"A=eA==\n")));
}

#[test]
fn hc012_fires_when_the_resource_policy_differs_from_the_values() {
    let mut keep = inline_intent();
    keep.secret_resource_policy = "keep".into();
    fires("HC012", &good_yaml(), &keep, &[], None);
    let annotated = good_yaml().replace(
        "metadata: {name: r-heimdall-secrets, labels:",
        "metadata: {name: r-heimdall-secrets, annotations: {helm.sh/resource-policy: keep}, labels:",
    );
    assert!(findings_with(&annotated, &keep, &[], None).is_empty());
    fires("HC012", &annotated, &inline_intent(), &[], None);
}

fn with_pdb(bound: &str, extra: &str) -> String {
    format!(
        "{}---\n# Source: heimdall/templates/pdb.yaml\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec:\n  {bound}\n  unhealthyPodEvictionPolicy: AlwaysAllow\n  selector: {{matchLabels: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}}}\n{extra}",
        good_yaml()
    )
}

const HPA: &str = "---\n# Source: heimdall/templates/hpa.yaml\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: r-heimdall, labels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/version: '2.13.1', app.kubernetes.io/component: server, app.kubernetes.io/part-of: heimdall, app.kubernetes.io/managed-by: Helm}}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: r-heimdall}, minReplicas: 3, maxReplicas: 5}\n";

#[test]
fn hc013_fires_on_a_budget_that_blocks_drains_and_on_a_missing_eviction_policy() {
    let mut intent = inline_intent();
    intent.unhealthy_pod_eviction_policy = "AlwaysAllow".into();
    // No replicas field: one pod; minAvailable 1 leaves no disruption.
    fires("HC013", &with_pdb("minAvailable: 1", ""), &intent, &[], None);
    fires("HC013", &with_pdb("minAvailable: 100%", ""), &intent, &[], None);
    assert!(findings_with(&with_pdb("maxUnavailable: 1", ""), &intent, &[], None).is_empty());
    // An HPA's minReplicas counts: 3 pods, minAvailable 2 leaves one; 67% rounds up to all three.
    assert!(findings_with(&with_pdb("minAvailable: 2", HPA), &intent, &[], None).is_empty());
    fires("HC013", &with_pdb("minAvailable: 67%", HPA), &intent, &[], None);
    let no_policy = with_pdb("maxUnavailable: 1", "").replace("  unhealthyPodEvictionPolicy: AlwaysAllow\n", "");
    fires("HC013", &no_policy, &intent, &[], None);
}

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
fn hc008_ignores_an_optional_reference_that_dangles() {
    let yaml = good_yaml().replace("{secretRef: {name: r-heimdall-secrets}}", "{secretRef: {name: sso-secrets, optional: true}}");
    let found = findings_with(&yaml, &inline_intent(), &[], None);
    assert!(!found.iter().any(|f| f.starts_with("HC008")), "{found:#?}");
    let required = good_yaml().replace("{secretRef: {name: r-heimdall-secrets}}", "{secretRef: {name: sso-secrets}}");
    assert!(findings_with(&required, &inline_intent(), &[], None)
        .iter()
        .any(|f| f.starts_with("HC008") && f.contains("Secret/sso-secrets")));
}

#[test]
fn a_service_targeting_a_port_no_container_declares_is_hc022s_not_hc014s() {
    let yaml = good_yaml().replace("ports: [{port: 5432, targetPort: postgresql}]", "ports: [{port: 5432, targetPort: 5433}]");
    let intent = Intent { embedded_database: true, ..inline_intent() };
    let found = findings_with(&yaml, &intent, &[], None);
    assert!(
        found.iter().any(|f| f.contains("targetPort 5433 is no port a container of StatefulSet/r-heimdall-postgresql declares")),
        "{found:#?}"
    );
    fires("HC022", &yaml, &intent, &[], None);
}

const GENERATOR_ANNOTATIONS: &str = "{helm.sh/hook: 'pre-install,pre-upgrade', helm.sh/hook-weight: 'WEIGHT', helm.sh/hook-delete-policy: 'before-hook-creation,hook-succeeded', argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: 'WEIGHT', argocd.argoproj.io/hook-delete-policy: 'BeforeHookCreation,HookSucceeded'}";

/// The good rendering with ADMIN_PASSWORD left to the generator hook: its Job, ServiceAccount, Role and RoleBinding.
fn with_generator(role_rules: &str, job_annotations: &str) -> String {
    let rbac = GENERATOR_ANNOTATIONS.replace("WEIGHT", "-10");
    let gen_labels = LABELS.replace("component: server", "component: secrets-generator");
    let sc = "{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}";
    let docs = format!(
        r#"
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: r-gen, labels: {LABELS}, annotations: {rbac}}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: r-gen, labels: {LABELS}, annotations: {rbac}}}
rules: {role_rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: r-gen, labels: {LABELS}, annotations: {rbac}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: r-gen}}
subjects: [{{kind: ServiceAccount, name: r-gen}}]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: r-gen, labels: {gen_labels}, annotations: {job_annotations}}}
spec:
  template:
    metadata: {{labels: {gen_labels}}}
    spec:
      serviceAccountName: r-gen
      automountServiceAccountToken: true
      enableServiceLinks: false
      restartPolicy: Never
      containers:
        - name: secrets-generator
          image: docker.io/mitre/heimdall2:2.13.1
          command: [node, -e, "main()"]
          securityContext: {sc}
          env:
            - {{name: GENERATED_SECRET, value: r-generated}}
            - {{name: GENERATE_KEYS, value: ADMIN_PASSWORD}}
"#
    );
    good_yaml().replace("{name: r-heimdall-secrets, key: ADMIN_PASSWORD", "{name: r-generated, key: ADMIN_PASSWORD") + &docs
}

const GENERATOR_RULES: &str = "[{apiGroups: [''], resources: [secrets], resourceNames: [r-generated], verbs: [create, get, patch]}, {apiGroups: [''], resources: [secrets], resourceNames: [r-heimdall-secrets], verbs: [get]}]";

fn generator_intent() -> Intent {
    let mut intent = inline_intent();
    intent.generate_missing = true;
    intent.embedded_database = true;
    intent.supplied.insert("API_KEY_SECRET".into(), ("api-key-secret-fixture-value-0000000".into(), "heimdall.secrets".into()));
    intent.supplied.insert("DATABASE_PASSWORD".into(), ("database-password-fixture".into(), "heimdall.secrets".into()));
    intent
}

#[test]
fn the_generator_rendering_passes_every_rule() {
    let found =
        findings_with(&with_generator(GENERATOR_RULES, &GENERATOR_ANNOTATIONS.replace("WEIGHT", "0")), &generator_intent(), &[], None);
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn hc015_fires_on_a_role_beyond_its_secret_and_on_the_wrong_keys() {
    let job = GENERATOR_ANNOTATIONS.replace("WEIGHT", "0");
    let every_secret = "[{apiGroups: [''], resources: [secrets], verbs: [create, get, patch]}]";
    fires("HC015", &with_generator(every_secret, &job), &generator_intent(), &[], None);
    let lists = GENERATOR_RULES.replace("verbs: [get]", "verbs: [get, list]");
    fires("HC015", &with_generator(&lists, &job), &generator_intent(), &[], None);
    let no_seed = "[{apiGroups: [''], resources: [secrets], resourceNames: [r-generated], verbs: [create, get, patch]}]";
    fires("HC015", &with_generator(no_seed, &job), &generator_intent(), &[], None);
    let mut jwt_too = generator_intent();
    jwt_too.supplied.remove("API_KEY_SECRET");
    let found = findings_with(&with_generator(GENERATOR_RULES, &job), &jwt_too, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC015") && f.contains("GENERATE_KEYS")), "{found:#?}");
    // A subject in another namespace names another ServiceAccount: the generator's own gets no Role.
    let elsewhere = with_generator(GENERATOR_RULES, &job)
        .replace("{kind: ServiceAccount, name: r-gen}", "{kind: ServiceAccount, name: r-gen, namespace: default}");
    let found = findings_with(&elsewhere, &generator_intent(), &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC015") && f.contains("no rendered Role is bound")), "{found:#?}");
}

#[test]
fn hc016_fires_on_a_missing_argo_hook_and_a_job_weighed_before_its_role() {
    let no_argo = GENERATOR_ANNOTATIONS.replace("WEIGHT", "0").replace("argocd.argoproj.io/hook: PreSync, ", "");
    fires("HC016", &with_generator(GENERATOR_RULES, &no_argo), &generator_intent(), &[], None);
    let first = GENERATOR_ANNOTATIONS.replace("WEIGHT", "-20");
    fires("HC016", &with_generator(GENERATOR_RULES, &first), &generator_intent(), &[], None);
    let post = GENERATOR_ANNOTATIONS.replace("WEIGHT", "0").replace("pre-install,pre-upgrade", "post-install");
    fires("HC016", &with_generator(GENERATOR_RULES, &post), &generator_intent(), &[], None);
}

#[test]
fn hc003_fires_when_a_generated_key_is_read_from_the_chart_secret() {
    let job = GENERATOR_ANNOTATIONS.replace("WEIGHT", "0");
    let yaml = with_generator(GENERATOR_RULES, &job)
        .replace("{name: r-generated, key: ADMIN_PASSWORD", "{name: r-heimdall-secrets, key: ADMIN_PASSWORD");
    fires("HC003", &yaml, &generator_intent(), &[], None);
}

#[test]
fn hc008_counts_the_generated_secret_only_when_a_generator_writes_it() {
    let yaml = good_yaml().replace("{name: r-heimdall-secrets, key: ADMIN_PASSWORD", "{name: r-generated, key: ADMIN_PASSWORD");
    let found = findings_with(&yaml, &inline_intent(), &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC008") && f.contains("Secret/r-generated")), "{found:#?}");
}

#[test]
fn hc017_fires_on_a_dangling_mount_an_unmounted_volume_an_unsized_empty_dir_and_service_links() {
    let yaml = good_yaml();
    for (from, to) in [
        ("volumeMounts: [{name: tmp, mountPath: /tmp}]", "volumeMounts: [{name: tmpp, mountPath: /tmp}]"),
        ("volumeMounts: [{name: tmp, mountPath: /tmp}]", "volumeMounts: []"),
        ("emptyDir: {sizeLimit: 1Gi}", "emptyDir: {}"),
        (
            "      enableServiceLinks: false\n      securityContext: {runAsNonRoot: true, runAsUser: 999",
            "      securityContext: {runAsNonRoot: true, runAsUser: 999",
        ),
    ] {
        assert!(yaml.contains(from), "{from}");
        fires("HC017", &yaml.replacen(from, to, 1), &inline_intent(), &[], None);
    }
    let found = findings_with(&yaml.replacen("emptyDir: {sizeLimit: 1Gi}", "emptyDir: {}", 1), &inline_intent(), &[], None);
    assert!(found.iter().any(|f| f.contains("emptyDir volume \"tmp\" has no sizeLimit")), "{found:#?}");
}

#[test]
fn hc018_fires_on_an_image_outside_the_mirror_and_on_a_missing_pull_secret() {
    let mirrored = good_yaml().replace("image: docker.io/", "image: mirror.example/hub/");
    let mut intent = inline_intent();
    intent.image_registry = Some("mirror.example/hub".into());
    assert!(findings_with(&mirrored, &intent, &[], None).is_empty());
    fires("HC018", &mirrored.replacen("image: mirror.example/hub/postgres", "image: docker.io/postgres", 1), &intent, &[], None);
    // A registry that merely starts like the mirror's is another registry.
    fires("HC018", &mirrored.replacen("image: mirror.example/hub/postgres", "image: mirror.example/hubx/postgres", 1), &intent, &[], None);
    intent.pull_secrets = vec!["regcred".into()];
    intent.external.insert("Secret/regcred".into());
    let with_secret = mirrored
        .replace("      enableServiceLinks: false\n", "      enableServiceLinks: false\n      imagePullSecrets: [{name: regcred}]\n");
    assert!(findings_with(&with_secret, &intent, &[], None).is_empty(), "{:#?}", findings_with(&with_secret, &intent, &[], None));
    fires("HC018", &with_secret.replacen("      imagePullSecrets: [{name: regcred}]\n", "", 1), &intent, &[], None);
}

#[test]
fn hc019_fires_on_a_fixed_user_or_group_where_openshift_assigns_them() {
    let mut intent = inline_intent();
    intent.openshift_adapts = true;
    // The good rendering fixes the database pod's runAsUser and the containers' too.
    fires("HC019", &good_yaml(), &intent, &[], None);
    let adapted = good_yaml().replace("runAsUser: 999, fsGroup: 999, ", "").replace("runAsUser: 1001, ", "");
    assert!(findings_with(&adapted, &intent, &[], None).is_empty(), "{:#?}", findings_with(&adapted, &intent, &[], None));
    fires(
        "HC019",
        &adapted.replacen("runAsNonRoot: true, seccompProfile", "runAsNonRoot: true, fsGroup: 1001, seccompProfile", 1),
        &intent,
        &[],
        None,
    );
    // Off OpenShift the fixed IDs are what the chart wants.
    intent.openshift_adapts = false;
    assert!(findings_with(&good_yaml(), &intent, &[], None).is_empty());
}

#[test]
fn hc020_fires_on_a_variable_heimdall_does_not_read() {
    let mut intent = inline_intent();
    let known = ["ADMIN_PASSWORD", "API_KEY_SECRET", "DATABASE_PASSWORD", "JWT_SECRET", "DATABASE_HOST", "DATABASE_PORT", "PORT"];
    let known = known.iter().chain(&["DATABASE_SSL", "DATABASE_SSL_INSECURE"]);
    intent.known_variables = Some(known.map(|k| k.to_string()).collect());
    assert!(findings_with(&good_yaml(), &intent, &[], None).is_empty());
    let in_config_map = good_yaml_with(&[("OKTA_ISSUER", "https://corp.okta.com")]);
    fires("HC020", &in_config_map, &intent, &[], None);
    let in_env = good_yaml()
        .replace("{name: DATABASE_PORT, value: \"5432\"}", "{name: DATABASE_PORT, value: \"5432\"}, {name: GITLAB_CLIENTSECRET, value: x}");
    fires("HC020", &in_env, &intent, &[], None);
    intent.allow_unknown_variables = true;
    assert!(findings_with(&in_config_map, &intent, &[], None).is_empty());
}

#[test]
fn hc021_fires_on_a_tls_path_outside_every_mount_and_on_an_item_never_projected() {
    let with_ca = |mount: &str, items: &str| {
        good_yaml_with(&[("DATABASE_SSL_CA", "/etc/heimdall/database-ca/ca.crt")])
            .replace(
                "volumeMounts: [{name: tmp, mountPath: /tmp}]",
                &format!("volumeMounts: [{{name: tmp, mountPath: /tmp}}, {{name: database-ca, mountPath: {mount}, readOnly: true}}]"),
            )
            .replace(
                "volumes: [{name: tmp, emptyDir: {sizeLimit: 1Gi}}]",
                &format!("volumes: [{{name: tmp, emptyDir: {{sizeLimit: 1Gi}}}}, {{name: database-ca, configMap: {{name: bundle, items: [{items}]}}}}]"),
            )
    };
    let mut intent = inline_intent();
    intent.external.insert("ConfigMap/bundle".into());
    let good = with_ca("/etc/heimdall/database-ca", "{key: ca.crt, path: ca.crt}");
    assert!(findings_with(&good, &intent, &[], None).is_empty(), "{:#?}", findings_with(&good, &intent, &[], None));
    fires("HC021", &with_ca("/etc/heimdall/db-ca", "{key: ca.crt, path: ca.crt}"), &intent, &[], None);
    fires("HC021", &with_ca("/etc/heimdall/database-ca", "{key: bundle.pem, path: bundle.pem}"), &intent, &[], None);
}

#[test]
fn hc022_fires_on_a_probe_service_or_backend_port_that_resolves_to_nothing() {
    let intent = inline_intent();
    let probe = |port: &str| {
        good_yaml().replace(
            "ports: [{name: http, containerPort: 3000, protocol: TCP}]",
            &format!("ports: [{{name: http, containerPort: 3000, protocol: TCP}}]\n          readinessProbe: {{httpGet: {{path: /server, port: {port}}}}}"),
        )
    };
    assert!(findings_with(&probe("http"), &intent, &[], None).is_empty());
    assert!(findings_with(&probe("3000"), &intent, &[], None).is_empty());
    fires("HC022", &probe("8080"), &intent, &[], None);
    fires("HC022", &probe("web"), &intent, &[], None);
    fires("HC022", &good_yaml().replace("targetPort: http}", "targetPort: 8080}"), &intent, &[], None);
    fires("HC022", &good_yaml().replace("targetPort: postgresql}", "targetPort: pg}"), &intent, &[], None);
    let ingress = |port: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/ingress.yaml\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{rules: [{{host: h.example, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: r-heimdall, port: {port}}}}}}}]}}}}]}}\n",
            good_yaml()
        )
    };
    assert!(findings_with(&ingress("{number: 3000}"), &intent, &[], None).is_empty());
    fires("HC022", &ingress("{number: 80}"), &intent, &[], None);
    fires("HC022", &ingress("{name: http}"), &intent, &[], None);
}

#[test]
fn hc023_fires_on_a_claim_written_without_fs_group_and_on_pgdata_off_the_claim() {
    let intent = inline_intent();
    let no_fs_group = good_yaml().replace("runAsUser: 999, fsGroup: 999,", "runAsUser: 999,");
    fires("HC023", &no_fs_group, &intent, &[], None);
    let read_only = no_fs_group.replace("mountPath: /var/lib/postgresql/data}", "mountPath: /var/lib/postgresql/data, readOnly: true}");
    assert!(findings_with(&read_only, &intent, &[], None).is_empty(), "a read-only claim needs no fsGroup");
    let openshift = Intent { openshift_adapts: true, ..inline_intent() };
    assert!(findings_with(&no_fs_group, &openshift, &[], None).iter().all(|f| !f.starts_with("HC023")), "the SCC assigns fsGroup");
    fires("HC023", &good_yaml().replace("value: /var/lib/postgresql/data/pgdata", "value: /var/lib/postgresql/pgdata"), &intent, &[], None);
    fires(
        "HC023",
        &good_yaml().replace("value: /var/lib/postgresql/data/pgdata", "value: /var/lib/postgresql/database"),
        &intent,
        &[],
        None,
    );
    assert!(under("/var/lib/postgresql/data", "/var/lib/postgresql/data/"));
}

#[test]
fn hc021_fires_when_no_init_container_writes_the_bundle_an_empty_dir_should_hold() {
    let bundle = |written: &str| {
        good_yaml_with(&[("NODE_EXTRA_CA_CERTS", "/etc/heimdall/ca-bundle/extra-ca.pem")])
            .replace(
                "volumeMounts: [{name: tmp, mountPath: /tmp}]",
                "volumeMounts: [{name: tmp, mountPath: /tmp}, {name: ca-bundle, mountPath: /etc/heimdall/ca-bundle, readOnly: true}]",
            )
            .replace(
                "volumes: [{name: tmp, emptyDir: {sizeLimit: 1Gi}}]",
                "volumes: [{name: tmp, emptyDir: {sizeLimit: 1Gi}}, {name: ca-bundle, emptyDir: {sizeLimit: 1Mi}}]",
            )
            .replace(
                "      containers:\n        - name: heimdall\n",
                &format!("      initContainers:\n        - {{name: bundle, image: docker.io/mitre/heimdall2:2.13.1, command: [sh, -c, 'cat /x/* > {written}'], securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {{drop: [ALL]}}, seccompProfile: {{type: RuntimeDefault}}}}, volumeMounts: [{{name: ca-bundle, mountPath: /bundle}}]}}\n      containers:\n        - name: heimdall\n"),
            )
    };
    let good = bundle("/bundle/extra-ca.pem");
    assert!(findings_with(&good, &inline_intent(), &[], None).is_empty(), "{:#?}", findings_with(&good, &inline_intent(), &[], None));
    fires("HC021", &bundle("/bundle/ca.pem"), &inline_intent(), &[], None);
}

#[test]
fn hc024_fires_on_a_wait_elsewhere_tls_settings_not_asked_a_stale_config_checksum_and_replicas_beside_an_hpa() {
    let intent = Intent { embedded_database: true, ..inline_intent() };
    let with_sum = good_yaml();
    assert!(findings_with(&with_sum, &intent, &[], None).is_empty(), "{:#?}", findings_with(&with_sum, &intent, &[], None));
    let stale = good_yaml_with(&[("LDAP_ENABLED", "false")]).replace("\"LDAP_ENABLED\":\"false\",", "");
    fires("HC024", &stale, &intent, &[], None);
    let ssl_on = with_sum.replace("{name: DATABASE_SSL, value: \"false\"}", "{name: DATABASE_SSL, value: \"true\"}");
    fires("HC024", &ssl_on, &intent, &[], None);
    let external = Intent { embedded_database: false, database_tls: intent::DatabaseTls { ssl: true, insecure: false }, ..inline_intent() };
    assert!(findings_with(&ssl_on, &external, &[], None).iter().all(|f| !f.starts_with("HC024")));
    let insecure = Intent { database_tls: intent::DatabaseTls { ssl: true, insecure: true }, ..external };
    assert!(findings_with(&ssl_on, &insecure, &[], None).iter().any(|f| f.starts_with("HC024") && f.contains("DATABASE_SSL_INSECURE")));
    let wait = |host: &str| {
        with_sum.replace(
            "      containers:\n        - name: heimdall\n",
            &format!("      initContainers:\n        - {{name: wait-for-database, image: docker.io/postgres:17.6, securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {{drop: [ALL]}}, seccompProfile: {{type: RuntimeDefault}}}}, env: [{{name: DATABASE_HOST, value: {host}}}, {{name: DATABASE_PORT, value: \"5432\"}}]}}\n      containers:\n        - name: heimdall\n"),
        )
    };
    assert!(findings_with(&wait("r-heimdall-postgresql"), &intent, &[], None).is_empty());
    // An external database's host names no Service, so HC014 has no flow to check: HC024 alone sees it.
    let plain_external = Intent { embedded_database: false, database_tls: intent::DatabaseTls::default(), ..inline_intent() };
    fires("HC024", &wait("db.example.com"), &plain_external, &[], None);
    let hpa = format!(
        "{with_sum}---\n# Source: heimdall/templates/hpa.yaml\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: r-heimdall}}, minReplicas: 2, maxReplicas: 4}}\n"
    );
    assert!(findings_with(&hpa, &intent, &[], None).is_empty(), "{:#?}", findings_with(&hpa, &intent, &[], None));
    fires("HC024", &hpa.replacen("spec:\n  selector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}", "spec:\n  replicas: 1\n  selector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}", 1), &intent, &[], None);
    assert_eq!(
        derived::go_json_object(&BTreeMap::from([("A".to_string(), "<a&b>\u{1}\"".to_string())])),
        r#"{"A":"\u003ca\u0026b\u003e\u0001\""}"#
    );
}

#[test]
fn hc025_fires_on_a_probe_or_test_url_path_the_server_does_not_serve() {
    let intent = Intent { served_paths: Some(BTreeSet::from(["/server".to_string(), "/".to_string()])), ..inline_intent() };
    let probe = |path: &str| {
        good_yaml().replace(
            "ports: [{name: http, containerPort: 3000, protocol: TCP}]",
            &format!("ports: [{{name: http, containerPort: 3000, protocol: TCP}}]\n          readinessProbe: {{httpGet: {{path: {path}, port: http}}}}"),
        )
    };
    assert!(findings_with(&probe("/server"), &intent, &[], None).is_empty());
    fires("HC025", &probe("/health"), &intent, &[], None);
    let test_pod = |url: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/tests/connection.yaml\napiVersion: v1\nkind: Pod\nmetadata: {{name: r-heimdall-test, labels: {LABELS}}}\nspec: {{enableServiceLinks: false, securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}, containers: [{{name: test, image: docker.io/mitre/heimdall2:2.13.1, securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {{drop: [ALL]}}, seccompProfile: {{type: RuntimeDefault}}}}, env: [{{name: URL, value: '{url}'}}]}}]}}\n",
            good_yaml()
        )
    };
    // The hand-written test pod draws other rules' findings (it is no hook); only HC025's may change.
    let good = findings_with(&test_pod("http://r-heimdall:3000/server"), &intent, &[], None);
    assert!(good.iter().all(|f| !f.starts_with("HC025")), "{good:#?}");
    let bad = findings_with(&test_pod("http://r-heimdall:3000/api/health"), &intent, &[], None);
    let (hc025, rest): (Vec<String>, Vec<String>) = bad.into_iter().partition(|f| f.starts_with("HC025"));
    assert!(hc025.len() == 1 && hc025[0].contains("/api/health"), "{hc025:#?}");
    assert_eq!(rest, good);
}

#[test]
fn hc024_fires_on_a_derived_external_url_whose_scheme_or_host_the_ingress_does_not_serve() {
    let ingress = |url: &str, tls: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/ingress.yaml\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{{tls}rules: [{{host: h.example, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: r-heimdall, port: {{number: 3000}}}}}}}}]}}}}]}}\n",
            good_yaml_with(&[("EXTERNAL_URL", url)])
        )
    };
    let mut intent = Intent { embedded_database: true, ..inline_intent() };
    intent.external.insert("Secret/t".into());
    let secured = findings_with(&ingress("https://h.example", "tls: [{hosts: [h.example], secretName: t}], "), &intent, &[], None);
    assert!(secured.is_empty(), "{secured:#?}");
    let plain = findings_with(&ingress("http://h.example", ""), &intent, &[], None);
    assert!(plain.is_empty(), "{plain:#?}");
    fires("HC024", &ingress("https://h.example", ""), &intent, &[], None);
    fires("HC024", &ingress("http://h.example", "tls: [{hosts: [h.example], secretName: t}], "), &intent, &[], None);
    fires("HC024", &ingress("http://other.example", ""), &intent, &[], None);
    let given = Intent { external_url_given: true, ..intent };
    assert!(findings_with(&ingress("https://h.example", ""), &given, &[], None).is_empty(), "a URL the user gives is theirs");
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

#[test]
fn hc026_fires_when_a_tls_secret_an_extra_mount_or_extra_env_from_misses_its_object() {
    let mut intent = inline_intent();
    intent.extra_volume_mounts = vec![serde_yaml::from_str("{name: tmp, mountPath: /tmp}").unwrap()];
    assert!(findings_with(&good_yaml(), &intent, &[], None).is_empty());
    intent.extra_volume_mounts = vec![serde_yaml::from_str("{name: banner, mountPath: /etc/banner}").unwrap()];
    fires("HC026", &good_yaml(), &intent, &[], None);
    let mut intent = inline_intent();
    intent.extra_env_from = vec![serde_yaml::from_str("{configMapRef: {name: r-heimdall-config}}").unwrap()];
    fires("HC026", &good_yaml(), &intent, &[], None);
    intent.extra_env_from = vec![serde_yaml::from_str("{secretRef: {name: r-heimdall-secrets}}").unwrap()];
    assert!(findings_with(&good_yaml(), &intent, &[], None).is_empty(), "the last envFrom entry ends the list");
    let ingress = |tls: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/ingress.yaml\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{{tls}rules: [{{host: h.example, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: r-heimdall, port: {{number: 3000}}}}}}}}]}}}}]}}\n",
            good_yaml()
        )
    };
    let mut intent = inline_intent();
    intent.ingress_tls_secrets = vec!["t".into()];
    intent.external.insert("Secret/t".into());
    assert!(findings_with(&ingress("tls: [{hosts: [h.example], secretName: t}], "), &intent, &[], None)
        .iter()
        .all(|f| !f.starts_with("HC026")));
    let found = findings_with(&ingress("tls: [{hosts: [h.example]}], "), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("\"t\"")), "{found:#?}");
}

#[test]
fn hc026_fires_when_a_service_extra_port_misses_the_service() {
    let mut intent = inline_intent();
    intent.service_extra_ports = vec!["metrics".into()];
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("service.extraPorts metrics is not among its ports")), "{found:#?}");
    let with_port =
        good_yaml().replace("{{port: 3000, targetPort: http}}", "{{port: 3000, targetPort: http}}, {{name: metrics, port: 9100}}");
    let with_port = with_port
        .replace("ports: [{port: 3000, targetPort: http}]", "ports: [{port: 3000, targetPort: http}, {name: metrics, port: 9100}]");
    let found = findings_with(&with_port, &intent, &[], None);
    assert!(!found.iter().any(|f| f.starts_with("HC026")), "{found:#?}");
}

#[test]
fn hc026_fires_when_a_lifecycle_misses_the_container() {
    let mut intent = inline_intent();
    intent.lifecycle = serde_yaml::from_str("{postStart: {exec: {command: [sh, -c, 'true']}}}").unwrap();
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("not the lifecycle the values give")), "{found:#?}");
}

#[test]
fn hc026_fires_when_http_route_timeouts_or_filters_miss_the_rule() {
    let route = |rule_extra: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/httproute.yaml\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{parentRefs: [{{name: gw}}], rules: [{{matches: [{{path: {{type: PathPrefix, value: /}}}}]{rule_extra}, backendRefs: [{{name: r-heimdall, port: 3000}}]}}]}}\n",
            good_yaml()
        )
    };
    let mut intent = inline_intent();
    intent.http_route_timeouts = serde_yaml::from_str("{request: 300s}").unwrap();
    intent.http_route_filters =
        vec![serde_yaml::from_str("{type: RequestMirror, requestMirror: {backendRef: {name: s, port: 1}}}").unwrap()];
    let given = ", timeouts: {request: 300s}, filters: [{type: RequestMirror, requestMirror: {backendRef: {name: s, port: 1}}}]";
    assert!(findings_with(&route(given), &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));
    let found =
        findings_with(&route(", filters: [{type: RequestMirror, requestMirror: {backendRef: {name: s, port: 1}}}]"), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("timeouts are not httpRoute.timeouts")), "{found:#?}");
    let found = findings_with(&route(", timeouts: {request: 300s}"), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("has 0 filters, not httpRoute.filters' 1")), "{found:#?}");
}

#[test]
fn hc026_fires_when_an_object_leaves_the_namespace_or_the_update_settings_or_diagnostic_mode_miss_the_deployment() {
    let mut intent = inline_intent();
    intent.namespace = "saf".into();
    let in_saf = good_yaml().replace("metadata: {name: r-heimdall, labels:", "metadata: {name: r-heimdall, namespace: saf, labels:");
    assert!(findings_with(&in_saf, &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));
    let in_other = good_yaml().replace("metadata: {name: r-heimdall, labels:", "metadata: {name: r-heimdall, namespace: argocd, labels:");
    let found = findings_with(&in_other, &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("in namespace argocd, not saf")), "{found:#?}");

    let mut intent = inline_intent();
    intent.revision_history_limit = Some(2);
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("revisionHistoryLimit is None, not the 2")), "{found:#?}");
    let kept = good_yaml().replacen("  selector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}", "  revisionHistoryLimit: 2\n  selector: {matchLabels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}", 1);
    assert!(findings_with(&kept, &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));

    let mut intent = inline_intent();
    intent.rolling_update = serde_yaml::from_str("{maxSurge: 25%, maxUnavailable: 0}").unwrap();
    let found = findings_with(&kept, &intent, &[], None);
    assert!(
        found.iter().any(|f| f.starts_with("HC026") && f.contains("rollingUpdate.maxSurge is None, not the Some(\"25%\")")),
        "{found:#?}"
    );
    let rolling = kept.replacen(
        "  revisionHistoryLimit: 2\n",
        "  revisionHistoryLimit: 2\n  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}\n",
        1,
    );
    assert!(findings_with(&rolling, &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));

    let mut intent = inline_intent();
    intent.diagnostic_mode = Some((serde_yaml::from_str("[sleep]").unwrap(), serde_yaml::from_str("[infinity]").unwrap()));
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("does not run diagnosticMode's command")), "{found:#?}");
    let idle = good_yaml().replacen(
        "          image: docker.io/mitre/heimdall2:2.13.1\n",
        "          image: docker.io/mitre/heimdall2:2.13.1\n          command: [sleep]\n          args: [infinity]\n",
        1,
    );
    assert!(findings_with(&idle, &intent, &[], None).iter().all(|f| !f.starts_with("HC026")));
    let probed = idle.replacen(
        "          args: [infinity]\n",
        "          args: [infinity]\n          readinessProbe: {httpGet: {path: /, port: http}}\n",
        1,
    );
    let found = findings_with(&probed, &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("keeps its readinessProbe")), "{found:#?}");
}

#[test]
fn hc026_fires_when_a_common_label_or_annotation_misses_an_object_or_an_extra_object_is_dropped() {
    let with_team = good_yaml().replace("app.kubernetes.io/managed-by: Helm}", "app.kubernetes.io/managed-by: Helm, example.com/team: a}");
    let mut intent = inline_intent();
    intent.common_labels.insert("example.com/team".into(), "a".into());
    assert!(findings_with(&with_team, &intent, &[], None).is_empty(), "every object and pod template carries the label");
    fires("HC026", &good_yaml(), &intent, &[], None);
    let found = findings_with(&with_team.replacen("example.com/team: a}", "example.com/team: b}", 1), &intent, &[], None);
    assert!(found.iter().any(|f| f.starts_with("HC026") && f.contains("not the commonLabels value")), "{found:#?}");
    intent.metadata_overrides.insert("example.com/team".into());
    assert!(findings_with(&with_team.replacen("example.com/team: a}", "example.com/team: b}", 1), &intent, &[], None).is_empty());

    let mut intent = inline_intent();
    intent.common_annotations.insert("example.com/owner".into(), "secops".into());
    let found = findings_with(&good_yaml(), &intent, &[], None);
    assert!(found.iter().all(|f| f.starts_with("HC026") && f.contains("commonAnnotations example.com/owner is missing")), "{found:#?}");

    let mut intent = inline_intent();
    intent.extra_objects = 1;
    fires("HC026", &good_yaml(), &intent, &[], None);
}
