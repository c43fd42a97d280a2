//! HC020: every variable the Heimdall container is given is one Heimdall reads, by the chart's own list (`heimdall/files/variables.yaml`), the same list the chart's templates check against.

use super::{heimdall_container, s, Rendering};
use anyhow::{Context, Result};
use serde_yaml::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Every name the chart's `files/variables.yaml` lists, whatever its class.
pub fn load(chart: &Path) -> Result<BTreeSet<String>> {
    let path = chart.join("files/variables.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading the variable list {}", path.display()))?;
    let classes: Value = serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let names: BTreeSet<String> = classes
        .as_mapping()
        .into_iter()
        .flatten()
        .flat_map(|(_, names)| names.as_sequence().into_iter().flatten())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    anyhow::ensure!(!names.is_empty(), "{} lists no variables", path.display());
    Ok(names)
}

/// HC020: the Heimdall container's env names and the keys of every
/// ConfigMap and Secret the chart renders that it loads with envFrom.
pub fn known(r: &Rendering) -> Vec<String> {
    let Some(known) = &r.intent.known_variables else { return vec![] };
    if r.intent.allow_unknown_variables {
        return vec![];
    }
    let Some(container) = heimdall_container(r.docs) else { return vec![] };
    let mut given: Vec<(String, String)> =
        container["env"].as_sequence().into_iter().flatten().map(|e| (s(&e["name"]).to_string(), "env".to_string())).collect();
    for source in container["envFrom"].as_sequence().into_iter().flatten() {
        for (kind, reference) in [("ConfigMap", "configMapRef"), ("Secret", "secretRef")] {
            let name = s(&source[reference]["name"]);
            let Some(doc) = r.docs.iter().find(|d| d.kind() == kind && !name.is_empty() && d.name() == name) else { continue };
            for field in ["data", "stringData"] {
                for (key, _) in doc.value[field].as_mapping().into_iter().flatten() {
                    given.push((s(key).to_string(), format!("{kind} {name}")));
                }
            }
        }
    }
    given
        .into_iter()
        .filter(|(name, _)| !known.contains(name))
        .map(|(name, from)| {
            format!("the Heimdall container gets {name} (from {from}), which Heimdall does not read (heimdall/files/variables.yaml)")
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
