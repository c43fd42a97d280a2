//! `cargo xtask migrate-values`: a values file of mitre/heimdall-helm, translated into this chart's values and a separate secrets values file, by the map in docs/migration/heimdall-helm.yaml.

use crate::engine::values::set_path;
use anyhow::{bail, ensure, Context, Result};
use serde::Deserialize;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// The map, as docs/migration/heimdall-helm.yaml writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Map {
    pub settings: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub values: BTreeMap<String, String>,
    pub database: BTreeMap<String, Targets>,
    pub old_defaults: BTreeMap<String, Value>,
    pub dropped: BTreeMap<String, String>,
    pub by_hand: BTreeMap<String, String>,
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

pub fn load_map(path: &Path) -> Result<Map> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_yaml::from_str(&text).with_context(|| format!("parsing the migration map {}", path.display()))
}

/// Translates `old` (the values file given to the old chart with -f); fails naming every key it cannot place.
pub fn translate(map: &Map, old: &Value) -> Result<Migration> {
    ensure!(old.is_mapping() || old.is_null(), "the old values are not a YAML map of values");
    let embedded = !matches!(old["postgresql"]["enabled"], Value::Bool(false)) && old["postgresql"]["enabled"].as_str() != Some("false");
    let mut out = Migration { values: Value::Mapping(Mapping::new()), secrets: Value::Mapping(Mapping::new()), notes: Vec::new() };
    let mut refused = Vec::new();
    let mut old = if old.is_null() { Value::Mapping(Mapping::new()) } else { old.clone() };
    for (key, default) in &map.old_defaults {
        if old[key.as_str()].is_null() {
            out.notes.push(format!("{key}: the old chart's default, {}, is carried over", text(default)));
            set_path(&mut old, key, default.clone());
        }
    }
    walk(&old, "", &mut |path, value| place(map, embedded, path, value, &mut out, &mut refused));
    if !refused.is_empty() {
        bail!("the old values cannot all be translated; nothing was written:\n  {}", refused.join("\n  "));
    }
    Ok(out)
}

/// Calls `visit` on each leaf, and on each map the visitor claims by returning true.
fn walk(v: &Value, prefix: &str, visit: &mut dyn FnMut(&str, &Value) -> bool) {
    for (k, child) in v.as_mapping().into_iter().flatten() {
        let path = if prefix.is_empty() { key(k) } else { format!("{prefix}.{}", key(k)) };
        if !visit(&path, child) && child.is_mapping() {
            walk(child, &path, visit);
        }
    }
}

fn key(k: &Value) -> String {
    k.as_str().map(str::to_string).unwrap_or_else(|| serde_yaml::to_string(k).unwrap_or_default().trim().to_string())
}

/// Places one old value; returns whether `path` was claimed (so its children are not visited).
fn place(map: &Map, embedded: bool, path: &str, value: &Value, out: &mut Migration, refused: &mut Vec<String>) -> bool {
    if value.is_null() {
        return true;
    }
    if let Some(var) = map.settings.get(path) {
        set_path(&mut out.values, &format!("heimdall.config.{var}"), Value::String(text(value)));
    } else if let Some(var) = map.secrets.get(path) {
        set_path(&mut out.secrets, &format!("heimdall.secrets.{var}"), Value::String(text(value)));
    } else if let Some(target) = map.values.get(path) {
        set_path(&mut out.values, target, typed(value));
    } else if let Some(t) = map.database.get(path) {
        set_path(&mut out.values, if embedded { &t.embedded } else { &t.external }, typed(value));
    } else if let Some(why) = map.dropped.get(path) {
        out.notes.push(format!("{path}: left out: {why}"));
    } else if let Some(what) = map.by_hand.get(path) {
        refused.push(format!("{path}: no value of this chart takes it as it is; {what}"));
    } else if !value.is_mapping() {
        refused.push(format!("{path}: not a value of mitre/heimdall-helm 3.3.3 that docs/migration/heimdall-helm.yaml knows; check its spelling, or move it by hand"));
    } else {
        return false;
    }
    if path == "databaseHost" && embedded {
        out.notes.push(
            "databaseHost: the old chart ignored it too while postgresql.enabled was true; externalDatabase.host is set but unused".into(),
        );
    }
    true
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

/// Writes `values.yaml` and `secrets.yaml` (mode 0600) into `dir`, refusing to overwrite either.
pub fn write(m: &Migration, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let header = "# Translated from a mitre/heimdall-helm values file by `cargo xtask migrate-values`.\n";
    let secrets_header = "# The secrets of a mitre/heimdall-helm values file, as heimdall.secrets. Keep this file out of\n# git, or encrypt it (helm-secrets); or move the values into a Secret and set heimdall.existingSecret.\n";
    for (name, head, v) in [("values.yaml", header, &m.values), ("secrets.yaml", secrets_header, &m.secrets)] {
        let path = dir.join(name);
        if path.exists() {
            bail!("{} exists; move it away or choose another --out folder", path.display());
        }
        std::fs::write(&path, format!("{head}{}", serde_yaml::to_string(v)?)).with_context(|| format!("writing {}", path.display()))?;
        #[cfg(unix)]
        if name == "secrets.yaml" {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> Map {
        load_map(&crate::support::tools::repo_root().join("docs/migration/heimdall-helm.yaml")).unwrap()
    }

    #[test]
    fn database_values_follow_postgresql_enabled() {
        let old: Value =
            serde_yaml::from_str("postgresql: {enabled: false}\ndatabaseHost: db.example\ndatabaseName: heimdall\ndatabasePort: '5432'")
                .unwrap();
        let m = translate(&map(), &old).unwrap();
        assert_eq!(m.values["externalDatabase"]["database"], "heimdall");
        assert_eq!(m.values["externalDatabase"]["port"], 5432, "a port given as a string becomes a number");
        assert_eq!(m.values["postgresql"]["enabled"], false);
        let m = translate(&map(), &serde_yaml::from_str("databaseName: heimdall").unwrap()).unwrap();
        assert_eq!(m.values["postgresql"]["auth"]["database"], "heimdall");
        let m = translate(&map(), &serde_yaml::from_str("jwtExpireTime: 25m").unwrap()).unwrap();
        assert_eq!(m.values["postgresql"]["auth"]["database"], "heimdall-database", "the old default was in effect and the data needs it");
    }

    #[test]
    fn keys_it_cannot_place_are_all_named_and_nothing_is_translated() {
        let old: Value = serde_yaml::from_str("sops: {enabled: true}\njwtSecrett: x\ncerts: {enabled: true}").unwrap();
        let msg = format!("{:#}", translate(&map(), &old).unwrap_err());
        for named in ["sops: ", "jwtSecrett: not a value", "certs: "] {
            assert!(msg.contains(named), "{named:?} missing from:\n{msg}");
        }
    }

    #[test]
    fn secrets_and_settings_land_apart_and_dropped_keys_leave_a_note() {
        let old: Value =
            serde_yaml::from_str("jwtSecret: s3cret\nregistrationDisabled: true\nheimdall: {image: {tag: release-latest}}").unwrap();
        let m = translate(&map(), &old).unwrap();
        assert_eq!(m.secrets["heimdall"]["secrets"]["JWT_SECRET"], "s3cret");
        assert!(m.values["heimdall"]["secrets"].is_null(), "a secret leaked into the values");
        assert_eq!(m.values["heimdall"]["config"]["REGISTRATION_DISABLED"], "true");
        assert!(m.notes.iter().any(|n| n.starts_with("heimdall.image.tag: left out")), "{:?}", m.notes);
    }
}
