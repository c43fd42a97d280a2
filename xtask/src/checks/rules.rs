//! Conformance rules: the chart's documented contract, one named function per rule id, run on every rendering.

use crate::engine::config::Checks;
use crate::engine::normalise::Difference;
use crate::support::manifest::Doc;
use crate::support::report::Failure;
use base64::Engine;
use serde_yaml::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// The variables Heimdall must get from a Secret.
pub const REQUIRED_KEYS: [&str; 4] = ["ADMIN_PASSWORD", "API_KEY_SECRET", "DATABASE_PASSWORD", "JWT_SECRET"];

pub use intent::Intent;

/// One rendering, as the rules see it: unredacted documents (first render), NOTES, the case's intent, and how a second render differed.
pub struct Rendering<'a> {
    pub docs: &'a [Doc],
    pub notes: Option<&'a str>,
    pub intent: &'a Intent,
    pub differences: &'a [Difference],
}

/// A rule: id, one-line statement, check returning findings (empty = holds).
pub struct Rule {
    pub id: &'static str,
    pub statement: &'static str,
    pub check: fn(&Rendering) -> Vec<String>,
}

/// The rules any chart should meet: references resolve, recommended labels and matching selectors,
/// Pod Security "restricted", determinism, pod wiring and named ports. A generic run checks only these.
pub const GENERIC_RULES: &[Rule] = &[
    Rule { id: "HC008", statement: "every Secret, ConfigMap, Service, PVC and ServiceAccount a workload references (unless optional) exists in the rendering or is declared external", check: generic::references_resolve },
    Rule { id: "HC009", statement: "every object carries the recommended labels and every selector matches pod labels", check: generic::labels_and_selectors },
    Rule { id: "HC010", statement: "every pod meets Pod Security Standards \"restricted\"", check: generic::pod_security_restricted },
    Rule { id: "HC011", statement: "two renders of the same inputs are byte-identical: no random value, so GitOps diffs stay clean", check: generic::deterministic },
    Rule { id: "HC017", statement: "every pod's volume mounts and volumes name each other, every emptyDir has a sizeLimit, and no pod gets service-link variables", check: generic::wiring },
    Rule { id: "HC022", statement: "every port one object names in another resolves by name or number: each probe's port is one its container declares, each Service targetPort one every pod it selects declares, each Ingress, HTTPRoute and Route backend port one its Service has", check: ports::resolve },
];

/// Heimdall's own contract: its secrets, database, policies, images, variables and served paths.
pub const HEIMDALL_RULES: &[Rule] = &[
    Rule { id: "HC001", statement: "with existingSecret, the chart renders no app Secret and every app-secret reference points at it", check: existing_secret_honoured },
    Rule { id: "HC002", statement: "the chart's Secret holds each supplied key once, inline beating files key by key", check: secret_priority },
    Rule { id: "HC003", statement: "the four required keys reach the Heimdall container by explicit, non-optional secretKeyRef from the selected Secret", check: required_keys_by_reference },
    Rule { id: "HC004", statement: "PostgreSQL's password and Heimdall's DATABASE_PASSWORD come from the same Secret and key", check: database_password_single_source },
    Rule { id: "HC005", statement: "no secret value appears in a non-Secret document or in NOTES", check: no_secret_leak },
    Rule { id: "HC006", statement: "the chart's Secret is type Opaque, its values in stringData (sorted strings), every key listed empty under data so an upgrade can remove it", check: secret_opaque_string_data },
    Rule { id: "HC007", statement: "pod templates loading the chart's Secret (envFrom) carry checksum/secrets, the sha256 of its resolved data", check: secret_checksum },
    Rule { id: "HC012", statement: "the chart's Secret carries helm.sh/resource-policy exactly as the values ask (keep by default, none when empty)", check: secret_resource_policy },
    Rule { id: "HC013", statement: "a PodDisruptionBudget allows at least one voluntary disruption at the rendered replica count (or the HPA's minReplicas) and sets unhealthyPodEvictionPolicy as the values ask", check: disruption_budget_allows_drains },
    Rule { id: "HC014", statement: "NetworkPolicies admit every flow the chart needs (Heimdall to its database and DNS, the helm test Pod and ingressFrom peers to Heimdall) and stop every other source reaching the embedded database, the database reaching anything, and Heimdall reaching outside the cluster unless extraEgress opens it", check: reachability::check },
    Rule { id: "HC015", statement: "the secrets generator Job fills exactly the required keys no source supplies, under a Role that may create, read and patch only its own Secret and read only the chart's, bound to the Job's ServiceAccount alone", check: generator::scope },
    Rule { id: "HC016", statement: "the secrets generator's ServiceAccount, Role, RoleBinding and Job are hooks Helm runs before install and upgrade and Argo CD runs PreSync, RBAC first, each replaced before it is created again", check: generator::hooks },
    Rule { id: "HC018", statement: "with global.imageRegistry set, every container image of every pod (init containers, hooks and tests included) comes from it, and every pod lists every pull Secret the values name", check: pods::images },
    Rule { id: "HC019", statement: "on OpenShift (adaptSecurityContext force, or auto where security.openshift.io/v1 is served) no pod or container security context fixes runAsUser, runAsGroup or fsGroup, so the SCC assigns them", check: pods::openshift_ids },
    Rule { id: "HC020", statement: "every variable the Heimdall container gets (env, and the keys of the ConfigMap and Secret it loads) is one Heimdall reads, by the chart's files/variables.yaml, unless heimdall.allowUnknownVariables", check: variables::known },
    Rule { id: "HC021", statement: "every file path the Heimdall container is given for TLS material (DATABASE_SSL_CA/_CERT/_KEY, LDAP_SSL_CA, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) lies in a volume it mounts, which projects that file (or, an emptyDir, an init container mounting it writes that file)", check: pods::file_settings },
    Rule { id: "HC023", statement: "a pod that writes a PersistentVolumeClaim as a fixed non-root user sets fsGroup (unless OpenShift assigns it), and PGDATA lies under a claim volume's mount", check: storage::persistent_data },
    Rule { id: "HC024", statement: "settings derived from values agree: the database wait uses Heimdall's DATABASE_HOST and DATABASE_PORT, DATABASE_SSL and DATABASE_SSL_INSECURE say what the database values ask, checksum/config is the hash of the ConfigMap the pod loads, a workload an HPA scales renders no replicas, and a derived EXTERNAL_URL names the Ingress or Route host with https exactly when it has TLS", check: derived::consistent },
    Rule { id: "HC025", statement: "every path the chart asks Heimdall for (each httpGet probe of the Heimdall container, each http URL the test pod gets) is one the server answers without a session, by tests/app/served-paths.yaml, which test-chart checks against the server's source", check: paths::served },
    Rule { id: "HC026", statement: "documented values reach their object: each ingress.tls Secret is in the Ingress's spec.tls, each service.extraPorts entry is among the Service's ports, a lifecycle given is the Heimdall container's, httpRoute.timeouts and httpRoute.filters are on every rule of the HTTPRoute as given, every object of the chart's templates is in namespaceOverride's namespace (or the release's), a revisionHistoryLimit and each updateStrategy.rollingUpdate setting given are the Deployment's, diagnosticMode runs its command and arguments with no probe, each extraVolumeMounts entry is on the Heimdall container, extraEnvFrom ends the container's envFrom, after the chart's own sources, each commonLabels entry is on every object and pod template and each commonAnnotations entry on every object (with its value, unless the values give the key to that object), and the chart renders one object for each extraObjects entry", check: arrival::values_arrive },
];

/// Every rule, by id.
pub fn all_rules() -> Vec<&'static Rule> {
    let mut rules: Vec<&Rule> = GENERIC_RULES.iter().chain(HEIMDALL_RULES).collect();
    rules.sort_by_key(|r| r.id);
    rules
}

/// The findings of the rules `checks` selects; each carries its rule's id.
pub fn check(r: &Rendering, checks: Checks) -> Vec<Failure> {
    let rules = match checks {
        Checks::All => all_rules(),
        Checks::Generic => GENERIC_RULES.iter().collect(),
    };
    rules.into_iter().flat_map(|rule| (rule.check)(r).into_iter().map(move |f| Failure::new(rule.id, f))).collect()
}

// ---- reading the rendering -------------------------------------------------

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// An `http://` or `https://` URL a container is given: host, port (80 or 443 unless written) and path.
struct HttpUrl<'a> {
    tls: bool,
    host: &'a str,
    port: u16,
    path: &'a str,
}

impl HttpUrl<'_> {
    fn parse(url: &str) -> Option<HttpUrl<'_>> {
        let (tls, rest) = match url.strip_prefix("https://") {
            Some(rest) => (true, rest),
            None => (false, url.strip_prefix("http://")?),
        };
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, port.parse().ok()?),
            None => (authority, if tls { 443 } else { 80 }),
        };
        Some(HttpUrl { tls, host, port, path })
    }
}

/// (doc, pod spec, pod template metadata) of every workload.
fn pod_specs(docs: &[Doc]) -> Vec<(&Doc, &Value, &Value)> {
    docs.iter()
        .filter_map(|d| match d.kind() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "ReplicaSet" => {
                Some((d, &d.value["spec"]["template"]["spec"], &d.value["spec"]["template"]["metadata"]))
            }
            "Pod" => Some((d, &d.value["spec"], &d.value["metadata"])),
            _ => None,
        })
        .collect()
}

fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"].iter().flat_map(|k| spec[*k].as_sequence().into_iter().flatten()).collect()
}

fn container<'a>(docs: &'a [Doc], kind: &str, name: &str) -> Option<&'a Value> {
    pod_specs(docs)
        .into_iter()
        .filter(|(d, _, _)| d.kind() == kind)
        .flat_map(|(_, spec, _)| spec["containers"].as_sequence().into_iter().flatten())
        .find(|c| s(&c["name"]) == name)
}

/// The Heimdall pod: the Deployment whose pod runs a "heimdall" container, with its pod spec and template metadata.
fn heimdall_pod(docs: &[Doc]) -> Option<(&Doc, &Value, &Value)> {
    pod_specs(docs).into_iter().find(|(d, spec, _)| {
        d.kind() == "Deployment" && spec["containers"].as_sequence().into_iter().flatten().any(|c| s(&c["name"]) == "heimdall")
    })
}

/// A variable as a container sees it: its own `env` value, else the last
/// rendered ConfigMap it loads with `envFrom` that sets it (Kubernetes' order).
fn env_var(docs: &[Doc], container: &Value, name: &str) -> Option<String> {
    let direct = container["env"].as_sequence().into_iter().flatten().find(|e| s(&e["name"]) == name);
    if let Some(e) = direct {
        return e["value"].as_str().map(str::to_string);
    }
    container["envFrom"].as_sequence().into_iter().flatten().rev().find_map(|from| {
        let cm = docs.iter().find(|d| d.kind() == "ConfigMap" && d.name() == s(&from["configMapRef"]["name"]))?;
        cm.value["data"][name].as_str().map(str::to_string)
    })
}

fn heimdall_container(docs: &[Doc]) -> Option<&Value> {
    container(docs, "Deployment", "heimdall")
}

fn postgresql_container(docs: &[Doc]) -> Option<&Value> {
    container(docs, "StatefulSet", "postgresql")
}

fn env_secret_ref<'a>(c: &'a Value, var: &str) -> Option<&'a Value> {
    c["env"].as_sequence()?.iter().find(|e| s(&e["name"]) == var).map(|e| &e["valueFrom"]["secretKeyRef"])
}

/// The literal value of a container's env var.
fn env_value<'a>(c: &'a Value, var: &str) -> Option<&'a str> {
    c["env"].as_sequence()?.iter().find(|e| s(&e["name"]) == var)?["value"].as_str()
}

/// The secrets-generator hook Job and its container: the Job whose container is told which Secret to write.
fn generator(docs: &[Doc]) -> Option<(&Doc, &Value)> {
    docs.iter().filter(|d| d.kind() == "Job").find_map(|d| {
        let spec = &d.value["spec"]["template"]["spec"];
        containers(spec).into_iter().find(|c| env_value(c, "GENERATED_SECRET").is_some()).map(|c| (d, c))
    })
}

/// The Secret the generator Job writes (never rendered: Helm must not own it).
fn generated_secret(docs: &[Doc]) -> Option<&str> {
    generator(docs).and_then(|(_, c)| env_value(c, "GENERATED_SECRET"))
}

fn chart_secrets(docs: &[Doc]) -> Vec<&Doc> {
    docs.iter().filter(|d| d.kind() == "Secret").collect()
}

/// The Secret the app's secrets are selected from: existingSecret, or the chart's one.
fn selected_secret(r: &Rendering) -> Option<String> {
    r.intent.existing_secret.clone().or_else(|| chart_secrets(r.docs).first().map(|d| d.name().to_string()))
}

/// The string entries of a mapping (labels, a selector, stringData).
fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_mapping().into_iter().flatten().filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string()))).collect()
}

fn string_data(doc: &Doc) -> BTreeMap<String, String> {
    string_map(&doc.value["stringData"])
}

/// The canonical form the chart hashes: "KEY=<base64(value)>\n" per sorted key.
pub fn secret_checksum_of(data: &BTreeMap<String, String>) -> String {
    let mut canonical = String::new();
    for (k, v) in data {
        canonical.push_str(&format!("{k}={}\n", base64::engine::general_purpose::STANDARD.encode(v)));
    }
    format!("{:x}", Sha256::digest(canonical.as_bytes()))
}

// ---- the rules ----------------------------------------------------------

/// Whether a non-empty `selector` matches `labels`.
fn subset(selector: &Value, labels: &Value) -> bool {
    selector.as_mapping().is_some_and(|m| !m.is_empty() && m.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

fn existing_secret_honoured(r: &Rendering) -> Vec<String> {
    let Some(name) = &r.intent.existing_secret else { return vec![] };
    let mut out: Vec<String> =
        chart_secrets(r.docs).iter().map(|d| format!("{} is rendered although existingSecret {name} is set", d.id())).collect();
    let db = r.intent.external_db_secret.as_ref();
    for (who, c) in [("Heimdall", heimdall_container(r.docs)), ("PostgreSQL", postgresql_container(r.docs))] {
        let Some(c) = c else { continue };
        for e in c["env"].as_sequence().into_iter().flatten() {
            let sref = &e["valueFrom"]["secretKeyRef"];
            if sref.is_null() {
                continue;
            }
            let var = s(&e["name"]);
            let allowed_db = db.is_some_and(|(n, _)| matches!(var, "DATABASE_PASSWORD" | "POSTGRES_PASSWORD") && s(&sref["name"]) == n);
            if s(&sref["name"]) != name && !allowed_db {
                out.push(format!("{who} container: {var} comes from Secret {:?}, not existingSecret {name}", s(&sref["name"])));
            }
        }
        for e in c["envFrom"].as_sequence().into_iter().flatten() {
            let n = s(&e["secretRef"]["name"]);
            if !e["secretRef"].is_null() && n != name {
                out.push(format!("{who} container: envFrom secretRef {n:?} is not existingSecret {name}"));
            }
        }
    }
    out
}

fn secret_priority(r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    for doc in chart_secrets(r.docs) {
        let data = string_data(doc);
        for (key, (value, source)) in &r.intent.supplied {
            match data.get(key) {
                None => out.push(format!("{}: supplied key {key} (from {source}) is missing", doc.id())),
                Some(v) if v != value => out.push(format!("{}: {key} does not hold the value from {source}, which should win", doc.id())),
                _ => {}
            }
        }
        let string_data_text = doc.raw.split("\nstringData:").nth(1).unwrap_or("");
        for key in data.keys() {
            let count = string_data_text.lines().filter(|l| l.trim_start().starts_with(&format!("{key}:"))).count();
            if count != 1 {
                out.push(format!("{}: key {key} appears {count} times", doc.id()));
            }
            if !r.intent.supplied.contains_key(key) && !REQUIRED_KEYS.contains(&key.as_str()) {
                out.push(format!("{}: key {key} was supplied by no source and is not a required key", doc.id()));
            }
        }
    }
    out
}

fn required_keys_by_reference(r: &Rendering) -> Vec<String> {
    let Some(c) = heimdall_container(r.docs) else { return vec!["no Deployment container named heimdall".into()] };
    let Some(selected) = selected_secret(r) else { return vec!["no app Secret: neither existingSecret nor a chart Secret".into()] };
    let chart_data: Option<BTreeMap<String, String>> = chart_secrets(r.docs).first().map(|d| string_data(d));
    let generated = r.intent.generated_keys();
    let mut out = Vec::new();
    for key in REQUIRED_KEYS {
        let Some(sref) = env_secret_ref(c, key) else {
            out.push(format!("{key} does not reach the Heimdall container by env[].valueFrom.secretKeyRef"));
            continue;
        };
        if sref["optional"].as_bool() == Some(true) {
            out.push(format!("{key}: secretKeyRef is optional, so a missing key would start Heimdall without it"));
        }
        let (want_name, want_key) = match (&r.intent.external_db_secret, key) {
            (Some((n, k)), "DATABASE_PASSWORD") => (n.clone(), k.clone()),
            _ if r.intent.existing_secret.is_some() => (selected.clone(), r.intent.existing_secret_keys[key].clone()),
            _ if generated.contains(key) => match generated_secret(r.docs) {
                Some(name) => (name.to_string(), key.to_string()),
                None => {
                    out.push(format!("{key} is supplied by no source, but no generator Job writes it"));
                    continue;
                }
            },
            _ => (selected.clone(), key.to_string()),
        };
        if s(&sref["name"]) != want_name || s(&sref["key"]) != want_key {
            out.push(format!("{key} comes from {}/{}, expected {want_name}/{want_key}", s(&sref["name"]), s(&sref["key"])));
        }
        if let (Some(data), true) = (&chart_data, s(&sref["name"]) == selected && r.intent.existing_secret.is_none()) {
            if !data.contains_key(s(&sref["key"])) {
                out.push(format!("{key}: the chart's Secret has no key {}", s(&sref["key"])));
            }
        }
    }
    out
}

fn database_password_single_source(r: &Rendering) -> Vec<String> {
    let Some(pg) = postgresql_container(r.docs) else { return vec![] };
    let Some(app) = heimdall_container(r.docs) else { return vec!["PostgreSQL is rendered without a Heimdall container".into()] };
    let (Some(p), Some(a)) = (env_secret_ref(pg, "POSTGRES_PASSWORD"), env_secret_ref(app, "DATABASE_PASSWORD")) else {
        return vec!["POSTGRES_PASSWORD or DATABASE_PASSWORD is not a secretKeyRef".into()];
    };
    if s(&p["name"]) != s(&a["name"]) || s(&p["key"]) != s(&a["key"]) {
        return vec![format!(
            "POSTGRES_PASSWORD comes from {}/{} but DATABASE_PASSWORD from {}/{}",
            s(&p["name"]),
            s(&p["key"]),
            s(&a["name"]),
            s(&a["key"])
        )];
    }
    vec![]
}

fn no_secret_leak(r: &Rendering) -> Vec<String> {
    let mut secrets: BTreeMap<String, String> = BTreeMap::new();
    for doc in chart_secrets(r.docs) {
        secrets.extend(string_data(doc));
    }
    for (k, (v, _)) in &r.intent.supplied {
        secrets.insert(k.clone(), v.clone());
    }
    let secrets: Vec<(String, String)> = secrets.into_iter().filter(|(_, v)| v.trim().len() >= 8).collect();
    let mut out = Vec::new();
    for doc in r.docs.iter().filter(|d| d.kind() != "Secret") {
        let text = serde_yaml::to_string(&doc.value).unwrap_or_default();
        for (k, v) in &secrets {
            if doc.raw.contains(v.trim()) || text.contains(v.trim()) {
                out.push(format!("{} contains the value of {k}", doc.id()));
            }
        }
    }
    if let Some(notes) = r.notes {
        for (k, v) in &secrets {
            if notes.contains(v.trim()) {
                out.push(format!("NOTES.txt contains the value of {k}"));
            }
        }
    }
    out
}

fn secret_opaque_string_data(r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    for doc in chart_secrets(r.docs) {
        if s(&doc.value["type"]) != "Opaque" {
            out.push(format!("{}: type is {:?}, not Opaque", doc.id(), s(&doc.value["type"])));
        }
        let Some(m) = doc.value["stringData"].as_mapping() else {
            out.push(format!("{}: has no stringData", doc.id()));
            continue;
        };
        // data must name exactly stringData's keys, each empty: values live in stringData only.
        let data = doc.value["data"].as_mapping();
        let data_keys: BTreeSet<&str> = data.into_iter().flatten().filter_map(|(k, _)| k.as_str()).collect();
        let string_keys: BTreeSet<&str> = m.keys().filter_map(|k| k.as_str()).collect();
        if data_keys != string_keys {
            out.push(format!(
                "{}: data lists {data_keys:?}, not stringData's keys {string_keys:?}: a removed key would stay in the live Secret",
                doc.id()
            ));
        }
        for (k, v) in data.into_iter().flatten() {
            if v.as_str() != Some("") {
                out.push(format!("{}: data.{} carries a value; values belong in stringData", doc.id(), s(k)));
            }
        }
        let keys: Vec<&str> = m.keys().filter_map(|k| k.as_str()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        if keys != sorted {
            out.push(format!("{}: stringData keys are not sorted", doc.id()));
        }
        for (k, v) in m {
            if !v.is_string() {
                out.push(format!("{}: stringData.{} is not a string", doc.id(), s(k)));
            }
        }
    }
    out
}

fn secret_checksum(r: &Rendering) -> Vec<String> {
    let Some(secret) = chart_secrets(r.docs).into_iter().next() else { return vec![] };
    let want = secret_checksum_of(&string_data(secret));
    let mut out = Vec::new();
    for (doc, spec, meta) in pod_specs(r.docs) {
        // Workloads that load the whole Secret roll on any change. PostgreSQL
        // reads only its password, which matters at initdb alone: no restart.
        let uses = containers(spec)
            .iter()
            .any(|c| c["envFrom"].as_sequence().into_iter().flatten().any(|e| s(&e["secretRef"]["name"]) == secret.name()));
        if !uses || doc.kind() == "Pod" {
            continue;
        }
        match meta["annotations"]["checksum/secrets"].as_str() {
            None => out.push(format!("{}: pod template has no checksum/secrets annotation", doc.id())),
            Some(got) if got != want => out.push(format!("{}: checksum/secrets is not the sha256 of {}'s data", doc.id(), secret.id())),
            _ => {}
        }
    }
    out
}

fn secret_resource_policy(r: &Rendering) -> Vec<String> {
    let want = r.intent.secret_resource_policy.as_str();
    let mut out = Vec::new();
    for doc in chart_secrets(r.docs) {
        match (doc.value["metadata"]["annotations"]["helm.sh/resource-policy"].as_str(), want) {
            (None, "") => {}
            (None, w) => out.push(format!("{}: no helm.sh/resource-policy annotation, but the values ask for {w:?}: helm uninstall would delete the secrets the database volume still needs", doc.id())),
            (Some(got), "") => out.push(format!("{}: helm.sh/resource-policy is {got:?}, but heimdall.secretResourcePolicy is empty", doc.id())),
            (Some(got), w) if got != w => out.push(format!("{}: helm.sh/resource-policy is {got:?}, but the values ask for {w:?}", doc.id())),
            _ => {}
        }
    }
    out
}

/// An IntOrString of a PodDisruptionBudget scaled to `replicas`; percentages round up, as the disruption controller does.
fn scaled(v: &Value, replicas: u64) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(p) => p.strip_suffix('%')?.parse::<u64>().ok().map(|pct| (pct * replicas).div_ceil(100)),
        _ => None,
    }
}

/// The replicas a workload runs with: the minReplicas of an HPA that scales it, else spec.replicas (default 1).
fn replicas_of(docs: &[Doc], workload: &Doc) -> u64 {
    let hpa = docs.iter().find(|d| {
        d.kind() == "HorizontalPodAutoscaler"
            && s(&d.value["spec"]["scaleTargetRef"]["kind"]) == workload.kind()
            && s(&d.value["spec"]["scaleTargetRef"]["name"]) == workload.name()
    });
    match hpa {
        Some(h) => h.value["spec"]["minReplicas"].as_u64().unwrap_or(1),
        None => workload.value["spec"]["replicas"].as_u64().unwrap_or(1),
    }
}

fn disruption_budget_allows_drains(r: &Rendering) -> Vec<String> {
    let mut out = Vec::new();
    for pdb in r.docs.iter().filter(|d| d.kind() == "PodDisruptionBudget") {
        let spec = &pdb.value["spec"];
        let selector = &spec["selector"]["matchLabels"];
        let Some((workload, _, _)) =
            pod_specs(r.docs).into_iter().find(|(d, _, meta)| d.kind() != "Pod" && subset(selector, &meta["labels"]))
        else {
            continue; // HC009 reports a selector that matches nothing.
        };
        let replicas = replicas_of(r.docs, workload);
        let allowed = match (scaled(&spec["minAvailable"], replicas), scaled(&spec["maxUnavailable"], replicas)) {
            (Some(min), None) => replicas.saturating_sub(min),
            (None, Some(max)) => max.min(replicas),
            _ => {
                out.push(format!("{}: set exactly one of minAvailable and maxUnavailable", pdb.id()));
                continue;
            }
        };
        if allowed == 0 {
            out.push(format!(
                "{}: allows no voluntary disruption of {} at {replicas} replica(s): node drains and cluster upgrades would hang on it",
                pdb.id(),
                workload.id()
            ));
        }
        let want = r.intent.unhealthy_pod_eviction_policy.as_str();
        if s(&spec["unhealthyPodEvictionPolicy"]) != want {
            out.push(format!(
                "{}: unhealthyPodEvictionPolicy is {:?}, but the values ask for {want:?}",
                pdb.id(),
                s(&spec["unhealthyPodEvictionPolicy"])
            ));
        }
    }
    out
}

mod arrival;
mod derived;
mod generator;
mod generic;
mod intent;
mod paths;
mod pods;
mod ports;
mod reachability;
mod storage;
pub mod variables;

#[cfg(test)]
mod tests;
