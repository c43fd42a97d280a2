//! A values file of mitre/heimdall-helm, translated into this chart's values and a separate secrets
//! values file, by the map in docs/migration/heimdall-helm.yaml (built into the program, so the
//! static binary needs nothing beside it).

use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// docs/migration/heimdall-helm.yaml, as this program was built with it.
pub const MAP: &str = include_str!("../../docs/migration/heimdall-helm.yaml");

/// The map, as docs/migration/heimdall-helm.yaml writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Map {
    pub settings: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub values: BTreeMap<String, String>,
    pub database: BTreeMap<String, Targets>,
    pub images: BTreeMap<String, String>,
    pub ingress: BTreeMap<String, String>,
    pub old_defaults: BTreeMap<String, Value>,
    pub features: Vec<String>,
    pub dropped: BTreeMap<String, String>,
    pub by_hand: BTreeMap<String, String>,
    pub old_chart_values: Value,
}

/// Where a database value goes, for the embedded database and for an external one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    pub embedded: String,
    pub external: String,
}

/// What the translation makes: the chart's values, its secrets (as `heimdall.secrets`), and notes on what was left out.
#[derive(Debug, Default)]
pub struct Migration {
    pub values: Value,
    pub secrets: Value,
    pub notes: Vec<String>,
}

impl Map {
    /// The map this program was built with.
    pub fn built_in() -> Result<Map> {
        serde_yaml::from_str(MAP).context("parsing the built-in migration map (docs/migration/heimdall-helm.yaml)")
    }
}

pub fn load_map(path: &Path) -> Result<Map> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml::from_str(&text).with_context(|| format!("parsing the migration map {}", path.display()))
}

/// Reads `from` (the values file given to the old chart with -f), translates it, and writes the two
/// files into `out`; the notes on what was left out.
pub fn migrate_file(map: &Map, from: &Path, out: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(from).with_context(|| format!("reading {}", from.display()))?;
    let old = serde_yaml::from_str(&text).with_context(|| format!("parsing {}", from.display()))?;
    let migration = translate(map, &old)?;
    write(&migration, out)?;
    Ok(migration.notes)
}

/// Translates `old`; fails naming every key it cannot place.
pub fn translate(map: &Map, old: &Value) -> Result<Migration> {
    ensure!(old.is_mapping() || old.is_null(), "the old values are not a YAML map of values");
    let mut old = if old.is_null() { Value::Mapping(Mapping::new()) } else { old.clone() };
    let mut t = Translator { map, embedded: embedded(&old), out: Migration::default(), refused: Vec::new(), at_default: Vec::new() };
    t.out.values = Value::Mapping(Mapping::new());
    t.out.secrets = Value::Mapping(Mapping::new());
    for (key, default) in &map.old_defaults {
        if old[key.as_str()].is_null() {
            t.out.notes.push(format!("{key}: the old chart's default, {}, is carried over", text(default)));
            put(&mut old, key, default.clone());
        }
    }
    t.walk(&old, Some(&map.old_chart_values), "");
    if !t.refused.is_empty() {
        bail!("the old values cannot all be translated; nothing was written:\n  {}", t.refused.join("\n  "));
    }
    if !t.at_default.is_empty() {
        let keys = t.at_default.join(", ");
        t.out.notes.push(format!("left out, as the old chart's own defaults (this chart's defaults apply instead): {keys}"));
    }
    Ok(t.out)
}

/// Whether the old values ran the embedded database (postgresql.enabled, true by default).
fn embedded(old: &Value) -> bool {
    !matches!(old["postgresql"]["enabled"], Value::Bool(false)) && old["postgresql"]["enabled"].as_str() != Some("false")
}

/// One translation under way.
struct Translator<'a> {
    map: &'a Map,
    embedded: bool,
    out: Migration,
    refused: Vec<String>,
    /// Keys left out because they held the old chart's own default.
    at_default: Vec<String>,
}

impl Translator<'_> {
    /// Places each key of `v` (at `prefix`), beside the old chart's default for it, descending into the maps no entry claims.
    fn walk(&mut self, v: &Value, defaults: Option<&Value>, prefix: &str) {
        for (k, child) in v.as_mapping().into_iter().flatten() {
            let path = if prefix.is_empty() { key(k) } else { format!("{prefix}.{}", key(k)) };
            let default = defaults.and_then(|d| d.as_mapping()).and_then(|d| d.get(k));
            if !self.place(&path, child, default) && child.is_mapping() {
                self.walk(child, default, &path);
            }
        }
    }

    /// Places one old value; returns whether `path` was claimed (so its children are not visited).
    fn place(&mut self, path: &str, value: &Value, default: Option<&Value>) -> bool {
        if value.is_null() {
            return true;
        }
        if default == Some(value) && !self.map.old_defaults.contains_key(path) {
            self.at_default.push(path.to_string());
            return true;
        }
        if self.map.features.iter().any(|f| f == path) && is_false(&value["enabled"]) {
            self.out.notes.push(format!("{path}: {path}.enabled is false, so the old chart used none of it; left out"));
            return true;
        }
        self.place_by_map(path, value)
    }

    /// Places `value` by the map's entry for `path`; false when it has none and `value` is a map to descend into.
    fn place_by_map(&mut self, path: &str, value: &Value) -> bool {
        let map = self.map;
        if let Some(var) = map.settings.get(path) {
            put(&mut self.out.values, &format!("heimdall.config.{var}"), Value::String(text(value)));
        } else if let Some(var) = map.secrets.get(path) {
            put(&mut self.out.secrets, &format!("heimdall.secrets.{var}"), Value::String(text(value)));
        } else if let Some(target) = map.values.get(path) {
            put(&mut self.out.values, target, typed(value));
        } else if let Some(t) = map.database.get(path) {
            put(&mut self.out.values, if self.embedded { &t.embedded } else { &t.external }, typed(value));
        } else if let Some(target) = map.images.get(path) {
            self.image(path, value, target);
        } else if let Some(target) = map.ingress.get(path) {
            self.ingress(path, value, target);
        } else if let Some(why) = map.dropped.get(path) {
            self.out.notes.push(format!("{path}: left out: {why}"));
        } else if let Some(what) = map.by_hand.get(path) {
            self.refused.push(format!("{path}: no value of this chart takes it as it is; {what}"));
        } else if !value.is_mapping() {
            self.refused.push(format!("{path}: not a value of mitre/heimdall-helm 3.3.3 that docs/migration/heimdall-helm.yaml knows; check its spelling, or move it by hand"));
        } else {
            return false;
        }
        if path == "databaseHost" && self.embedded {
            self.out.notes.push(
                "databaseHost: the old chart ignored it too while postgresql.enabled was true; externalDatabase.host is set but unused"
                    .into(),
            );
        }
        true
    }

    /// An image repository that may name its registry (`registry1.dso.mil/ironbank/...`): the registry
    /// goes to `<target>.registry`, the rest to `<target>.repository`, so a mirror keeps its registry.
    fn image(&mut self, path: &str, value: &Value, target: &str) {
        let Some(reference) = value.as_str() else {
            return self.refused.push(format!("{path}: an image repository is text, not {}", text(value)));
        };
        match split_registry(reference) {
            Some((registry, repository)) => {
                put(&mut self.out.values, &format!("{target}.registry"), Value::String(registry.into()));
                put(&mut self.out.values, &format!("{target}.repository"), Value::String(repository.into()));
                self.out.notes.push(format!("{path}: its registry kept: {target}.registry {registry}, {target}.repository {repository}"));
            }
            None => put(&mut self.out.values, &format!("{target}.repository"), Value::String(reference.into())),
        }
    }

    /// The old chart's `heimdall.ingress`, in this chart's `ingress` shape: paths name no backend (this
    /// chart routes to its own Service), and a path given as bare text becomes `{path, pathType: Prefix}`.
    fn ingress(&mut self, path: &str, value: &Value, target: &str) {
        for (k, child) in value.as_mapping().into_iter().flatten() {
            let (name, at) = (key(k), format!("{path}.{}", key(k)));
            match name.as_str() {
                "enabled" => put(&mut self.out.values, &format!("{target}.enabled"), typed(child)),
                "className" | "annotations" => put(&mut self.out.values, &format!("{target}.{name}"), child.clone()),
                "hosts" => {
                    let hosts = self.ingress_hosts(&at, child);
                    put(&mut self.out.values, &format!("{target}.hosts"), hosts);
                }
                "tls" => {
                    let tls = self.ingress_tls(&at, child);
                    put(&mut self.out.values, &format!("{target}.tls"), tls);
                }
                "apiVersion" | "kind" if matches!(child.as_str(), Some("networking.k8s.io/v1" | "Ingress")) => {}
                "apiVersion" | "kind" => self
                    .refused
                    .push(format!("{at}: {} is not networking.k8s.io/v1 Ingress, the only kind this chart renders", text(child))),
                _ => self.refused.push(format!("{at}: not a value of the old chart's heimdall.ingress; move it by hand")),
            }
        }
    }

    /// `hosts`, each `{host, paths: [{path, pathType}]}`.
    fn ingress_hosts(&mut self, at: &str, hosts: &Value) -> Value {
        let mut out = Vec::new();
        for (i, host) in hosts.as_sequence().into_iter().flatten().enumerate() {
            let mut entry = Mapping::new();
            entry.insert("host".into(), host["host"].clone());
            let paths: Vec<Value> = host["paths"]
                .as_sequence()
                .into_iter()
                .flatten()
                .enumerate()
                .map(|(j, p)| self.ingress_path(&format!("{at}[{i}].paths[{j}]"), p))
                .collect();
            entry.insert("paths".into(), Value::Sequence(paths));
            out.push(Value::Mapping(entry));
        }
        Value::Sequence(out)
    }

    /// One path: text (the old README's example), or a map whose backend is left out.
    fn ingress_path(&mut self, at: &str, p: &Value) -> Value {
        let (path, path_type) = match p {
            Value::String(s) => (s.clone(), None),
            _ => (p["path"].as_str().unwrap_or("/").to_string(), p["pathType"].as_str().map(str::to_string)),
        };
        if path_type.is_none() {
            self.out
                .notes
                .push(format!("{at}: no pathType (the old chart would have rendered an Ingress the API server refuses); Prefix given"));
        }
        if !p["backend"].is_null() {
            self.out.notes.push(format!("{at}.backend: left out: this chart's Ingress routes to its own Service"));
        }
        let mut entry = Mapping::new();
        entry.insert("path".into(), Value::String(path));
        entry.insert("pathType".into(), Value::String(path_type.unwrap_or_else(|| "Prefix".into())));
        Value::Mapping(entry)
    }

    /// `tls`, each `{secretName, hosts}` (the old chart ignored any other key).
    fn ingress_tls(&mut self, at: &str, tls: &Value) -> Value {
        let entries = tls.as_sequence().into_iter().flatten().map(|t| {
            let mut entry = Mapping::new();
            for k in ["secretName", "hosts"] {
                if !t[k].is_null() {
                    entry.insert(k.into(), t[k].clone());
                }
            }
            Value::Mapping(entry)
        });
        let out: Vec<Value> = entries.collect();
        if tls.as_sequence().is_some_and(|s| s.iter().any(|t| !t["name"].is_null())) {
            self.out.notes.push(format!("{at}[].name: left out: the old chart never read it"));
        }
        Value::Sequence(out)
    }
}

/// `registry1.dso.mil/ironbank/mitre/saf/heimdall2` as its registry and repository; None when the
/// first part names no registry host (`mitre/heimdall2`: Docker Hub, this chart's default registry).
pub fn split_registry(reference: &str) -> Option<(&str, &str)> {
    let (first, rest) = reference.split_once('/')?;
    (first.contains('.') || first.contains(':') || first == "localhost").then_some((first, rest))
}

fn is_false(v: &Value) -> bool {
    matches!(v, Value::Bool(false)) || v.as_str() == Some("false")
}

fn key(k: &Value) -> String {
    k.as_str().map(str::to_string).unwrap_or_else(|| serde_yaml::to_string(k).unwrap_or_default().trim().to_string())
}

/// Sets the dotted `path` of `root` to `value`; where two old keys meet at one target (the old
/// chart's top-level `imagePullSecrets` and `heimdall.imagePullSecrets`), lists are joined and maps merged.
pub fn put(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    for part in path.split('.') {
        if !node.is_mapping() {
            *node = Value::Mapping(Mapping::new());
        }
        node = node.as_mapping_mut().unwrap().entry(Value::String(part.to_string())).or_insert(Value::Null);
    }
    match (node, value) {
        (Value::Sequence(have), Value::Sequence(more)) => have.extend(more),
        (Value::Mapping(have), Value::Mapping(more)) => have.extend(more),
        (node, value) => *node = value,
    }
}

/// A scalar as the text Heimdall reads from its environment.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

/// A value for a typed value of this chart: the old chart's "true", "false" and numbers given as strings become booleans and numbers.
fn typed(v: &Value) -> Value {
    match v.as_str() {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        Some(s) if s.parse::<u64>().is_ok() => serde_yaml::from_str(s).unwrap_or_else(|_| v.clone()),
        _ => v.clone(),
    }
}

/// Words YAML 1.1 reads as booleans. serde_yaml writes YAML 1.2, where they are text, unquoted; Helm
/// reads values files as YAML 1.1, and an annotation `yes` would reach it as `true`.
const YAML11_BOOLEANS: [&str; 16] = ["y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"];

/// serde_yaml's text with every plain scalar value that YAML 1.1 reads as a boolean quoted.
pub fn quote_yaml11_words(text: &str) -> String {
    let quoted = text.lines().map(|line| {
        let item = line.trim_start().strip_prefix("- ").map(|v| (&line[..line.len() - v.len()], v));
        match line.rsplit_once(": ").map(|(k, v)| (&line[..k.len() + 2], v)).or(item) {
            Some((head, value)) if YAML11_BOOLEANS.contains(&value) => format!("{head}'{value}'"),
            _ => line.to_string(),
        }
    });
    quoted.map(|l| l + "\n").collect()
}

/// Writes `values.yaml` and `secrets.yaml` (mode 0600) into `dir`, refusing to overwrite either.
pub fn write(m: &Migration, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let header = "# Translated from a mitre/heimdall-helm values file by heimdall-migrate-values.\n";
    let secrets_header = "# The secrets of a mitre/heimdall-helm values file, as heimdall.secrets. Keep this file out of\n# git, or encrypt it (helm-secrets); or move the values into a Secret and set heimdall.existingSecret.\n";
    for (name, head, v) in [("values.yaml", header, &m.values), ("secrets.yaml", secrets_header, &m.secrets)] {
        let path = dir.join(name);
        if path.exists() {
            bail!("{} exists; move it away or choose another --out folder", path.display());
        }
        std::fs::write(&path, format!("{head}{}", quote_yaml11_words(&serde_yaml::to_string(v)?)))
            .with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        if name == "secrets.yaml" {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
