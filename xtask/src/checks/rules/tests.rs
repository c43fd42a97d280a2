//! Each rule firing on a hand-written, deliberately broken rendering, and staying quiet on a good one: the good rendering and the helpers every topic shares here, the tests in `tests/`, one file per topic, named for the rules' file (`generator.rs`) or, for the rules in `rules.rs`, their topic (`secrets.rs`, `budget.rs`).

use super::storage::under;
use super::*;
use crate::support::manifest::parse;

mod arrival;
mod budget;
mod derived;
mod generator;
mod generic;
mod paths;
mod pods;
mod ports;
mod reachability;
mod secrets;
mod storage;
mod variables;

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
    let config_checksum = format!("{:x}", Sha256::digest(super::derived::go_json_object(&config).as_bytes()));
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
