//! A case's intent: what its values ask of the chart (secrets and their sources, database, policies, images, platform, metadata), read from the case as Helm combines its values, never from the rendering.

use super::REQUIRED_KEYS;
use crate::engine::matrix::Case;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// What a case asked for, read from the case itself (never from the rendering).
#[derive(Debug, Clone, Default)]
pub struct Intent {
    pub existing_secret: Option<String>,
    /// Required variable -> key inside the existing Secret.
    pub existing_secret_keys: BTreeMap<String, String>,
    /// Variable -> the value that must win (files in order, then inline), and where it came from.
    pub supplied: BTreeMap<String, (String, String)>,
    /// (Secret, key) of an external database password.
    pub external_db_secret: Option<(String, String)>,
    /// Objects the rendering may reference without rendering them ("Kind/name").
    pub external: BTreeSet<String>,
    /// The namespace of the chart's objects: namespaceOverride, or the release's.
    pub namespace: String,
    /// `postgresql.enabled` (the embedded database is on unless the case turns it off).
    pub embedded_database: bool,
    /// `externalDatabase.ssl` and `.sslInsecure`.
    pub database_tls: DatabaseTls,
    /// `networkPolicy.enabled`.
    pub network_policy: bool,
    /// `networkPolicy.ingressFrom`, `dnsTo` and `externalDatabaseCidrs` as the case gives them.
    pub ingress_from: Vec<Value>,
    pub dns_to: Vec<Value>,
    pub external_database_cidrs: Vec<String>,
    /// `networkPolicy.extraEgress` as the case gives it.
    pub extra_egress: Vec<Value>,
    /// `heimdall.secretResourcePolicy`: "keep" unless the case says otherwise; "" for none.
    pub secret_resource_policy: String,
    /// `podDisruptionBudget.unhealthyPodEvictionPolicy`: "AlwaysAllow" unless the case says otherwise.
    pub unhealthy_pod_eviction_policy: String,
    /// `heimdall.generateMissingSecrets` (on unless the case turns it off).
    pub generate_missing: bool,
    /// `global.imageRegistry`, when the case sets one: every image must come from it.
    pub image_registry: Option<String>,
    /// Every pull Secret the case names (`global.imagePullSecrets`, then `imagePullSecrets`; names or {name}).
    pub pull_secrets: Vec<String>,
    /// Whether security contexts must leave user and group IDs to OpenShift's SCC:
    /// `global.compatibility.openshift.adaptSecurityContext` "force", or "auto" (the default)
    /// with security.openshift.io/v1 among the case's `apiVersions`.
    pub openshift_adapts: bool,
    /// Whether the case's cluster is OpenShift (serves security.openshift.io/v1), whose DNS pods listen on 5353.
    pub openshift_dns: bool,
    /// `networkPolicy.dnsPorts` as the case gives it: the DNS the operator says they run; empty for the platform's.
    pub dns_ports: Vec<u16>,
    /// The chart's list of the variables Heimdall reads (`files/variables.yaml`); None checks nothing (rule unit tests).
    pub known_variables: Option<BTreeSet<String>>,
    /// Whether the case gives EXTERNAL_URL itself (heimdall.config or env/heimdallconfig.yaml), so the chart derives none.
    pub external_url_given: bool,
    /// The paths Heimdall serves without a session (`tests/app/served-paths.yaml`); None checks nothing (rule unit tests).
    pub served_paths: Option<BTreeSet<String>>,
    /// The Secrets `ingress.tls` names; `extraVolumeMounts` and `extraEnvFrom` as given.
    pub ingress_tls_secrets: Vec<String>,
    pub extra_volume_mounts: Vec<Value>,
    pub extra_env_from: Vec<Value>,
    /// The names of `service.extraPorts`' entries.
    pub service_extra_ports: Vec<String>,
    /// `lifecycle` as the case gives it (null when it gives none).
    pub lifecycle: Value,
    /// `revisionHistoryLimit` as given (None: the chart's default applies, which the case does not name).
    pub revision_history_limit: Option<i64>,
    /// `updateStrategy.rollingUpdate` as given (null when not given, or with another strategy type).
    pub rolling_update: Value,
    /// `diagnosticMode.command` and `.args` when `diagnosticMode.enabled`.
    pub diagnostic_mode: Option<(Value, Value)>,
    /// `httpRoute.timeouts` (null or empty when not given) and `httpRoute.filters`, as given.
    pub http_route_timeouts: Value,
    pub http_route_filters: Vec<Value>,
    /// `heimdall.allowUnknownVariables`.
    pub allow_unknown_variables: bool,
    /// `commonLabels` and `commonAnnotations` as given.
    pub common_labels: BTreeMap<String, String>,
    pub common_annotations: BTreeMap<String, String>,
    /// Keys the case gives under some other `labels`, `podLabels`, `annotations` or `podAnnotations`,
    /// which may win over a common value on an object.
    pub metadata_overrides: BTreeSet<String>,
    /// How many `extraObjects` entries the case gives.
    pub extra_objects: usize,
}

/// A boolean the case gives, typed by YAML or by `--set` as Helm types it; anything else (which the
/// chart's schema refuses) reads as the default.
pub(super) fn flag(v: &Value, default: bool) -> bool {
    v.as_bool().unwrap_or(default)
}

impl Intent {
    /// What `case` asks for, read from its values as Helm combines them.
    pub fn from_case(case: &Case, tests_dir: &Path) -> anyhow::Result<Intent> {
        let values = case.values(tests_dir)?;
        // The chart's objects go to namespaceOverride's namespace when it is given.
        let namespace = values["namespaceOverride"].as_str().filter(|n| !n.is_empty()).unwrap_or(&case.spec.namespace).to_string();
        let mut intent = Intent { namespace, ..Default::default() };
        intent.read_app_secrets(case, tests_dir, &values["heimdall"]);
        intent.read_database(&values);
        intent.read_policies(&values);
        intent.read_images(&values);
        intent.read_platform(case, &values);
        intent.read_external_url(case, tests_dir, &values);
        intent.read_external_objects(case, &values);
        intent.read_common_metadata(&values);
        Ok(intent)
    }

    fn read_common_metadata(&mut self, values: &Value) {
        let strings = |v: &Value| -> BTreeMap<String, String> {
            v.as_mapping().into_iter().flatten().filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string()))).collect()
        };
        self.common_labels = strings(&values["commonLabels"]);
        self.common_annotations = strings(&values["commonAnnotations"]);
        self.extra_objects = values["extraObjects"].as_sequence().map_or(0, Vec::len);
        collect_metadata_keys(values, &mut self.metadata_overrides);
    }

    fn read_platform(&mut self, case: &Case, values: &Value) {
        let mode = values["global"]["compatibility"]["openshift"]["adaptSecurityContext"].as_str().unwrap_or("auto");
        let served = case.spec.api_versions.iter().any(|v| v == "security.openshift.io/v1");
        self.openshift_adapts = mode == "force" || (mode == "auto" && served);
        self.openshift_dns = served;
        let ports = values["networkPolicy"]["dnsPorts"].as_sequence().into_iter().flatten();
        self.dns_ports = ports.filter_map(|p| p.as_u64().and_then(|n| u16::try_from(n).ok())).collect();
        self.allow_unknown_variables = flag(&values["heimdall"]["allowUnknownVariables"], false);
    }

    fn read_external_url(&mut self, case: &Case, tests_dir: &Path, values: &Value) {
        let in_file = case.spec.files.get("env/heimdallconfig.yaml").and_then(|f| std::fs::read_to_string(tests_dir.join(f)).ok());
        let in_file = in_file.and_then(|t| serde_yaml::from_str::<Value>(&t).ok()).is_some_and(|v| !v["EXTERNAL_URL"].is_null());
        self.external_url_given = in_file || !values["heimdall"]["config"]["EXTERNAL_URL"].is_null();
    }

    fn read_images(&mut self, values: &Value) {
        self.image_registry = text(&values["global"]["imageRegistry"]);
        let listed = [&values["global"]["imagePullSecrets"], &values["imagePullSecrets"]];
        for entry in listed.into_iter().filter_map(Value::as_sequence).flatten() {
            let name = entry.as_str().or(entry["name"].as_str()).unwrap_or_default().to_string();
            if !name.is_empty() && !self.pull_secrets.contains(&name) {
                self.pull_secrets.push(name);
            }
        }
    }

    /// Which Secret, which keys, and the values that must win (files in list order, then inline).
    fn read_app_secrets(&mut self, case: &Case, tests_dir: &Path, h: &Value) {
        self.existing_secret = text(&h["existingSecret"]);
        for key in REQUIRED_KEYS {
            let mapped = text(&h["existingSecretKeys"][key]).unwrap_or_else(|| key.to_string());
            self.existing_secret_keys.insert(key.into(), mapped);
        }
        self.secret_resource_policy = h["secretResourcePolicy"].as_str().unwrap_or("keep").to_string();
        self.generate_missing = flag(&h["generateMissingSecrets"], true);
        if self.existing_secret.is_some() {
            return;
        }
        let files: Vec<String> = match h["secretsFiles"].as_sequence() {
            Some(seq) => seq.iter().filter_map(|v| v.as_str().map(str::to_string)).collect(),
            None => vec!["env/heimdall-secrets.yaml".into()],
        };
        for file in files {
            let Some(fixture) = case.spec.files.get(&file) else { continue };
            let Ok(text) = std::fs::read_to_string(tests_dir.join(fixture)) else { continue };
            if let Ok(m) = serde_yaml::from_str::<Value>(&text) {
                self.supply(&m, &format!("secrets file {file}"));
            }
        }
        self.supply(&h["secrets"], "heimdall.secrets");
    }

    fn supply(&mut self, map: &Value, source: &str) {
        for (k, v) in map.as_mapping().into_iter().flatten() {
            if let (Some(k), Some(v)) = (k.as_str(), v.as_str()) {
                self.supplied.insert(k.into(), (v.into(), source.into()));
            }
        }
    }

    fn read_database(&mut self, values: &Value) {
        self.embedded_database = flag(&values["postgresql"]["enabled"], true);
        let db = &values["externalDatabase"];
        self.database_tls = DatabaseTls::from_values(db);
        if let (false, Some(name)) = (self.embedded_database, text(&db["existingSecret"])) {
            let key = text(&db["existingSecretPasswordKey"]).unwrap_or_else(|| "password".into());
            self.external.insert(format!("Secret/{name}"));
            self.external_db_secret = Some((name, key));
        }
    }

    fn read_policies(&mut self, values: &Value) {
        let np = &values["networkPolicy"];
        self.network_policy = flag(&np["enabled"], false);
        self.ingress_from = np["ingressFrom"].as_sequence().cloned().unwrap_or_default();
        self.dns_to = np["dnsTo"].as_sequence().cloned().unwrap_or_default();
        self.extra_egress = np["extraEgress"].as_sequence().cloned().unwrap_or_default();
        let cidrs = np["externalDatabaseCidrs"].as_sequence().into_iter().flatten();
        self.external_database_cidrs = cidrs.filter_map(|c| c.as_str().map(str::to_string)).collect();
        let policy = values["podDisruptionBudget"]["unhealthyPodEvictionPolicy"].as_str();
        self.unhealthy_pod_eviction_policy = policy.unwrap_or("AlwaysAllow").to_string();
    }

    /// Objects the values name but the chart does not render.
    fn read_external_objects(&mut self, case: &Case, values: &Value) {
        if let Some(name) = &self.existing_secret {
            self.external.insert(format!("Secret/{name}"));
        }
        if let Some(name) = text(&values["postgresql"]["persistence"]["existingClaim"]) {
            self.external.insert(format!("PersistentVolumeClaim/{name}"));
        }
        if let Some(name) = text(&values["caCertificates"]["existingConfigMap"]) {
            self.external.insert(format!("ConfigMap/{name}"));
        }
        for name in &self.pull_secrets {
            self.external.insert(format!("Secret/{name}"));
        }
        for tls in values["ingress"]["tls"].as_sequence().into_iter().flatten() {
            if let Some(name) = tls["secretName"].as_str() {
                self.external.insert(format!("Secret/{name}"));
                self.ingress_tls_secrets.push(name.to_string());
            }
        }
        self.extra_volume_mounts = values["extraVolumeMounts"].as_sequence().cloned().unwrap_or_default();
        self.extra_env_from = values["extraEnvFrom"].as_sequence().cloned().unwrap_or_default();
        let ports = values["service"]["extraPorts"].as_sequence().into_iter().flatten();
        self.service_extra_ports = ports.filter_map(|p| p["name"].as_str().map(str::to_string)).collect();
        self.lifecycle = values["lifecycle"].clone();
        self.revision_history_limit = values["revisionHistoryLimit"].as_i64();
        let strategy = &values["updateStrategy"];
        if strategy["type"].as_str().is_none_or(|t| t == "RollingUpdate") {
            self.rolling_update = strategy["rollingUpdate"].clone();
        }
        let diagnostic = &values["diagnosticMode"];
        if diagnostic["enabled"].as_bool() == Some(true) {
            self.diagnostic_mode = Some((diagnostic["command"].clone(), diagnostic["args"].clone()));
        }
        self.http_route_timeouts = values["httpRoute"]["timeouts"].clone();
        self.http_route_filters = values["httpRoute"]["filters"].as_sequence().cloned().unwrap_or_default();
        self.external.extend(case.spec.external.iter().cloned());
    }
}

impl Intent {
    /// The required keys the generator hook must fill: in chart mode, those no source supplies
    /// (DATABASE_PASSWORD only for the embedded database; an external one's cannot be generated).
    pub fn generated_keys(&self) -> BTreeSet<String> {
        if self.existing_secret.is_some() || !self.generate_missing {
            return BTreeSet::new();
        }
        REQUIRED_KEYS
            .iter()
            .filter(|k| !self.supplied.contains_key(**k))
            .filter(|k| **k != "DATABASE_PASSWORD" || (self.embedded_database && self.external_db_secret.is_none()))
            .map(|k| k.to_string())
            .collect()
    }
}

/// The keys of every `labels`, `podLabels`, `annotations` and `podAnnotations` map anywhere in `v`.
fn collect_metadata_keys(v: &Value, into: &mut BTreeSet<String>) {
    for (k, child) in v.as_mapping().into_iter().flatten() {
        if matches!(k.as_str(), Some("labels" | "podLabels" | "annotations" | "podAnnotations")) {
            into.extend(child.as_mapping().into_iter().flatten().filter_map(|(k, _)| k.as_str().map(str::to_string)));
        }
        collect_metadata_keys(child, into);
    }
    for item in v.as_sequence().into_iter().flatten() {
        collect_metadata_keys(item, into);
    }
}

/// A non-empty string value.
fn text(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

/// What the database values ask of TLS (read only for an external database; values.yaml turns ssl on).
#[derive(Debug, Clone, Default)]
pub struct DatabaseTls {
    pub ssl: bool,
    pub insecure: bool,
}

impl DatabaseTls {
    pub fn from_values(external: &Value) -> DatabaseTls {
        DatabaseTls { ssl: flag(&external["ssl"], true), insecure: flag(&external["sslInsecure"], false) }
    }
}
