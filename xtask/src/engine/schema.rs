//! Strict schema validation: every document against the Kubernetes JSON schemas of each case's Kubernetes version (the kinds they lack, such as HTTPRoute, against their CRDs), in-process, each schema compiled once per run.

use crate::support::manifest::Doc;
use crate::support::tools;
use anyhow::{anyhow, bail, Context, Result};
use jsonschema::Validator;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

mod listmap;

const DEFINITIONS_URI: &str = "https://kubernetes.io/api/_definitions.json";

/// Schemas of one run: definitions, kind schemas, registries and compiled validators, shared by every worker.
pub struct Schemas {
    root: Box<dyn Fn(&str) -> PathBuf + Send + Sync>,
    /// Kind -> CRD manifest, for kinds the Kubernetes schemas lack.
    crds: HashMap<String, PathBuf>,
    definitions: Mutex<HashMap<String, Arc<Json>>>,
    kind_schemas: Mutex<HashMap<(String, String), Arc<Json>>>,
    registries: Mutex<HashMap<String, &'static jsonschema::Registry<'static>>>,
    validators: Mutex<HashMap<(String, String), Arc<Validator>>>,
}

fn minor_of(kube_version: &str) -> String {
    kube_version.split('.').take(2).collect::<Vec<_>>().join(".")
}

impl Schemas {
    /// Schemas from the tools folder as `cargo xtask setup` installs them.
    pub fn installed() -> Self {
        let crds = tools::CRDS.iter().map(|c| (c.kind.to_string(), c.installed())).collect();
        Self::from_dirs(Box::new(tools::schema_dir), crds)
    }

    pub fn from_dirs(root: Box<dyn Fn(&str) -> PathBuf + Send + Sync>, crds: HashMap<String, PathBuf>) -> Self {
        Schemas {
            root,
            crds,
            definitions: Mutex::default(),
            kind_schemas: Mutex::default(),
            registries: Mutex::default(),
            validators: Mutex::default(),
        }
    }

    /// `_definitions.json` of a Kubernetes minor version, read once.
    fn definitions(&self, minor: &str) -> Result<Arc<Json>> {
        if let Some(d) = self.definitions.lock().unwrap().get(minor) {
            return Ok(d.clone());
        }
        let path = (self.root)(minor).join("_definitions.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("no Kubernetes {minor} schemas at {} (run `cargo xtask setup`)", path.display()))?;
        let defs: Arc<Json> = Arc::new(serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?);
        self.definitions.lock().unwrap().insert(minor.into(), defs.clone());
        Ok(defs)
    }

    /// The schema of a document's kind (a CRD's for the kinds in `crds`), read once per version.
    fn kind_schema(&self, minor: &str, doc: &Doc) -> Result<Arc<Json>> {
        let key = (minor.to_string(), schema_file(doc.api_version(), doc.kind()));
        if let Some(s) = self.kind_schemas.lock().unwrap().get(&key) {
            return Ok(s.clone());
        }
        let schema = if let Some(crd) = self.crds.get(doc.kind()) {
            crd_schema(crd, doc.kind(), doc.api_version())?
        } else {
            let path = (self.root)(minor).join(&key.1);
            let text = std::fs::read_to_string(&path).map_err(|_| {
                anyhow!(
                    "{}: no schema for {} {} in Kubernetes {minor} (looked for {})",
                    doc.id(),
                    doc.api_version(),
                    doc.kind(),
                    path.display()
                )
            })?;
            serde_json::from_str(&text)?
        };
        let schema = Arc::new(schema);
        self.kind_schemas.lock().unwrap().insert(key, schema.clone());
        Ok(schema)
    }

    fn registry(&self, minor: &str) -> Result<&'static jsonschema::Registry<'static>> {
        let defs = self.definitions(minor)?;
        let mut regs = self.registries.lock().unwrap();
        if let Some(r) = regs.get(minor) {
            return Ok(r);
        }
        let path = (self.root)(minor).join("_definitions.json");
        let registry = jsonschema::Registry::new()
            .add(DEFINITIONS_URI, (*defs).clone())
            .map_err(|e| anyhow!("registering {}: {e}", path.display()))?
            .prepare()
            .map_err(|e| anyhow!("preparing {}: {e}", path.display()))?;
        // One registry per Kubernetes version for the whole run.
        let leaked: &'static _ = Box::leak(Box::new(registry));
        regs.insert(minor.to_string(), leaked);
        Ok(leaked)
    }

    fn validator(&self, kube_version: &str, doc: &Doc) -> Result<Arc<Validator>> {
        let minor = minor_of(kube_version);
        let file = schema_file(doc.api_version(), doc.kind());
        let key = (minor.clone(), file.clone());
        if let Some(v) = self.validators.lock().unwrap().get(&key) {
            return Ok(v.clone());
        }
        let registry = self.registry(&minor)?;
        let schema = self.kind_schema(&minor, doc)?;
        let validator = jsonschema::options()
            .with_registry(registry)
            .with_base_uri(format!("https://kubernetes.io/api/{file}"))
            .build(&schema)
            .map_err(|e| anyhow!("compiling the schema {file}: {e}"))?;
        let v = Arc::new(validator);
        self.validators.lock().unwrap().insert(key, v.clone());
        Ok(v)
    }

    /// Every problem of `doc` under `kube_version`, each naming the document and the path.
    pub fn validate(&self, kube_version: &str, doc: &Doc) -> Vec<String> {
        let validator = match self.validator(kube_version, doc) {
            Ok(v) => v,
            Err(e) => return vec![format!("{e:#}")],
        };
        let instance: Json = match serde_json::to_value(&doc.value) {
            Ok(j) => j,
            Err(e) => return vec![format!("{}: cannot be read as JSON: {e}", doc.id())],
        };
        validator.iter_errors(&instance).map(|e| format!("{} ({}): at {}: {}", doc.id(), doc.source, e.instance_path(), e)).collect()
    }
}

impl Schemas {
    /// Every list the schema keys (`x-kubernetes-list-type: map`) that holds one
    /// key twice, and every `set` list that holds one item twice, each named by
    /// its path. JSON schema cannot say this; server-side apply (Helm 4) refuses it.
    pub fn list_map_duplicates(&self, kube_version: &str, doc: &Doc) -> Vec<String> {
        let minor = minor_of(kube_version);
        let (defs, schema) = match (self.definitions(&minor), self.kind_schema(&minor, doc)) {
            (Ok(d), Ok(s)) => (d, s),
            // Validation already reports a missing schema.
            _ => return vec![],
        };
        let Ok(instance) = serde_json::to_value(&doc.value) else { return vec![] };
        let mut found = Vec::new();
        listmap::walk(&defs, &schema, &instance, "", &mut found);
        found.into_iter().map(|f| format!("{} ({}): {f}", doc.id(), doc.source)).collect()
    }
}

/// The file kubernetes-validate names a kind's schema by: "deployment-apps-v1.json", "secret-v1.json".
pub fn schema_file(api_version: &str, kind: &str) -> String {
    let api = match api_version.split_once('/') {
        Some((group, version)) => format!("{}-{version}", group.split('.').next().unwrap_or(group)),
        None => api_version.to_string(),
    };
    format!("{}-{api}.json", kind.to_lowercase())
}

/// A kind's schema from its CRD, made strict like the Kubernetes ones:
/// an object that lists its properties accepts no others.
fn crd_schema(crd_path: &PathBuf, kind: &str, api_version: &str) -> Result<Json> {
    static CACHE: OnceLock<Mutex<HashMap<String, Json>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let key = format!("{}\0{api_version}", crd_path.display());
    if let Some(s) = cache.lock().unwrap().get(&key) {
        return Ok(s.clone());
    }
    let text =
        std::fs::read_to_string(crd_path).with_context(|| format!("no {kind} CRD at {} (run `cargo xtask setup`)", crd_path.display()))?;
    let crd: Json = serde_yaml::from_str(&text)?;
    let version = api_version.rsplit('/').next().unwrap_or("");
    let Some(entry) = crd["spec"]["versions"].as_array().and_then(|vs| vs.iter().find(|v| v["name"] == version)) else {
        bail!("the {kind} CRD at {} has no version {version}", crd_path.display());
    };
    let mut schema = entry["schema"]["openAPIV3Schema"].clone();
    drop_nulls(&mut schema);
    make_strict(&mut schema);
    schema["properties"]["apiVersion"] = json!({"type": "string", "enum": [api_version]});
    schema["properties"]["kind"] = json!({"type": "string", "enum": [kind]});
    schema["properties"]["metadata"] = json!({"$ref": format!("{DEFINITIONS_URI}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")});
    cache.lock().unwrap().insert(key, schema.clone());
    Ok(schema)
}

/// Removes keywords whose value is null, as the API server reads a CRD
/// (OpenShift's route CRD carries `anyOf: null`, which JSON Schema rejects).
fn drop_nulls(node: &mut Json) {
    match node {
        Json::Object(obj) => {
            obj.retain(|_, v| !v.is_null());
            obj.values_mut().for_each(drop_nulls);
        }
        Json::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn make_strict(node: &mut Json) {
    let Some(obj) = node.as_object_mut() else { return };
    let preserve = obj.get("x-kubernetes-preserve-unknown-fields") == Some(&Json::Bool(true));
    if obj.contains_key("properties") && !obj.contains_key("additionalProperties") && !preserve {
        obj.insert("additionalProperties".into(), Json::Bool(false));
    }
    for (_, child) in obj.iter_mut() {
        match child {
            Json::Object(_) => make_strict(child),
            Json::Array(items) => items.iter_mut().for_each(make_strict),
            _ => {}
        }
    }
    if let Some(Json::Object(props)) = obj.get_mut("properties") {
        props.values_mut().for_each(make_strict);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_file_names_follow_kubernetes_validate() {
        assert_eq!(schema_file("apps/v1", "Deployment"), "deployment-apps-v1.json");
        assert_eq!(schema_file("v1", "Secret"), "secret-v1.json");
        assert_eq!(schema_file("networking.k8s.io/v1", "Ingress"), "ingress-networking-v1.json");
        assert_eq!(schema_file("autoscaling/v2", "HorizontalPodAutoscaler"), "horizontalpodautoscaler-autoscaling-v2.json");
    }

    #[test]
    fn strictness_is_added_only_where_properties_are_listed() {
        let mut s = json!({"type": "object", "properties": {"a": {"type": "object", "properties": {"b": {}}}, "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {}}}});
        make_strict(&mut s);
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(s["properties"]["a"]["additionalProperties"], json!(false));
        assert!(s["properties"]["free"].get("additionalProperties").is_none());
    }
}
