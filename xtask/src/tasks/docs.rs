//! `cargo xtask docs`: the generated parts of the READMEs and the schema: the chart's value tables and `values.schema.json`'s descriptions (both from the `# --` comments in `values.yaml`), and the rule list (from the rules' slice).

use anyhow::{bail, Context, Result};
use serde_yaml::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A generated region of a file, between `<!-- NAME:begin ... -->` and `<!-- NAME:end -->`.
struct Region {
    file: &'static str,
    name: &'static str,
    generate: fn(&Path) -> Result<String>,
}

const REGIONS: &[Region] = &[
    Region {
        file: "heimdall/README.md",
        name: "values",
        generate: |repo| tables(&std::fs::read_to_string(repo.join("heimdall/values.yaml"))?),
    },
    Region { file: "README.md", name: "rules", generate: |_| Ok(rule_list()) },
];

/// One documented value: its dotted path, default and description.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueDoc {
    pub path: String,
    pub default: String,
    pub description: String,
}

/// Descriptions by dotted path: a `# -- ` comment, with the `# ` lines that continue it, above a key.
pub fn descriptions(values_yaml: &str) -> BTreeMap<String, String> {
    parse_comments(values_yaml).0
}

/// Line numbers (from 1) of `# --` comments no key takes: another marker or a non-key line comes
/// first, so the docs, the schema and the README would silently lose them.
pub fn unread_comments(values_yaml: &str) -> Vec<usize> {
    parse_comments(values_yaml).1
}

/// The one reader of `values.yaml`'s comments: descriptions by path, and the markers it dropped.
fn parse_comments(values_yaml: &str) -> (BTreeMap<String, String>, Vec<usize>) {
    let key_line = regex::Regex::new(r"^(\s*)([A-Za-z0-9_.-]+):(\s|$)").unwrap();
    let (mut out, mut dropped) = (BTreeMap::new(), Vec::new());
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (n, line) in values_yaml.lines().enumerate() {
        let trimmed = line.trim_start();
        // A marker is "# --" alone or before a space: "# --api-versions ..." continues a description.
        if let Some(text) = trimmed.strip_prefix("# --").filter(|t| t.is_empty() || t.starts_with(' ')) {
            dropped.extend(pending.replace((n + 1, text.trim().to_string())).map(|(at, _)| at));
        } else if let (Some(text), Some((_, p))) = (trimmed.strip_prefix('#'), pending.as_mut()) {
            p.push(' ');
            p.push_str(text.trim());
        } else if let Some(c) = key_line.captures(line) {
            let indent = c[1].len();
            while stack.last().is_some_and(|(i, _)| *i >= indent) {
                stack.pop();
            }
            stack.push((indent, c[2].to_string()));
            let path = stack.iter().map(|(_, k)| k.as_str()).collect::<Vec<_>>().join(".");
            if let Some((_, d)) = pending.take() {
                out.insert(path, d);
            }
        } else if !trimmed.is_empty() {
            dropped.extend(pending.take().map(|(at, _)| at));
        }
    }
    dropped.extend(pending.map(|(at, _)| at));
    (out, dropped)
}

/// Every value a user sets: a scalar or list, or a mapping none of whose keys is documented on its own.
pub fn document(values_yaml: &str) -> Result<Vec<ValueDoc>> {
    let tree: Value = serde_yaml::from_str(values_yaml).context("values.yaml is not YAML")?;
    let described = descriptions(values_yaml);
    let mut out = Vec::new();
    let mut undocumented = Vec::new();
    walk(&tree, "", &described, &mut out, &mut undocumented);
    if !undocumented.is_empty() {
        bail!("values.yaml: these values have no `# --` comment above them: {}", undocumented.join(", "));
    }
    Ok(out)
}

fn walk(node: &Value, path: &str, described: &BTreeMap<String, String>, out: &mut Vec<ValueDoc>, undocumented: &mut Vec<String>) {
    let child = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    let documented_children =
        node.as_mapping().is_some_and(|m| m.keys().filter_map(Value::as_str).any(|k| described.contains_key(&child(k))));
    if let (Some(m), true) = (node.as_mapping(), documented_children || path.is_empty()) {
        for (k, v) in m {
            walk(v, &child(k.as_str().unwrap_or("?")), described, out, undocumented);
        }
        return;
    }
    match described.get(path) {
        Some(d) => out.push(ValueDoc { path: path.into(), default: default_text(node), description: d.clone() }),
        None => undocumented.push(path.into()),
    }
}

fn default_text(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".into(),
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => serde_json::to_string(&serde_json::to_value(other).unwrap_or_default()).unwrap_or_default(),
    }
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The generated Markdown: one table per top-level value (top-level scalars first, together).
pub fn tables(values_yaml: &str) -> Result<String> {
    let docs = document(values_yaml)?;
    let described = descriptions(values_yaml);
    let mut sections: Vec<(String, Vec<&ValueDoc>)> = Vec::new();
    for d in &docs {
        let top = d.path.split('.').next().unwrap_or("").to_string();
        let section = if top == d.path { String::new() } else { top };
        match sections.iter_mut().find(|(s, _)| *s == section) {
            Some((_, rows)) => rows.push(d),
            None => sections.push((section, vec![d])),
        }
    }
    let mut out = String::new();
    for (section, rows) in sections {
        let title = if section.is_empty() { "Top level".to_string() } else { format!("`{section}`") };
        out.push_str(&format!("\n### {title}\n\n"));
        if let Some(d) = described.get(&section) {
            out.push_str(&format!("{d}\n\n"));
        }
        out.push_str("| Value | Default | Meaning |\n|---|---|---|\n");
        for r in rows {
            out.push_str(&format!("| `{}` | `{}` | {} |\n", r.path, cell(&r.default), cell(&r.description)));
        }
    }
    Ok(out)
}

/// The rules as a Markdown list, from the slice the harness runs.
pub fn rule_list() -> String {
    crate::checks::rules::all_rules().into_iter().map(|r| format!("- **{}** {}\n", r.id, r.statement)).collect()
}

/// `text` with the region `name` replaced by `generated`.
pub fn splice(text: &str, name: &str, generated: &str) -> Result<String> {
    let begin_prefix = format!("<!-- {name}:begin");
    let end = format!("<!-- {name}:end -->");
    let (Some(b), Some(e)) = (text.find(&begin_prefix), text.find(&end)) else {
        bail!("the markers `{begin_prefix} ... -->` and `{end}` are missing");
    };
    let begin_line_end = b + text[b..].find('\n').map(|i| i + 1).unwrap_or(text.len() - b);
    if begin_line_end > e {
        bail!("`{end}` comes before the end of the `{begin_prefix}` line");
    }
    Ok(format!("{}{generated}{}", &text[..begin_line_end], &text[e..]))
}

/// `values.schema.json` (as `schema_text`, formatted two spaces per level, one key per line) with
/// the description of each value documented in `values_yaml` replaced by that comment; fails naming
/// each documented value whose schema property has no description line to carry it.
pub fn schema_with_descriptions(schema_text: &str, values_yaml: &str) -> Result<String> {
    let described = descriptions(values_yaml);
    let object_key = regex::Regex::new(r#"^(\s*)"([^"]+)": \{$"#).unwrap();
    let description = regex::Regex::new(r#"^(\s*)"description": "(?:[^"\\]|\\.)*"(,?)$"#).unwrap();
    let mut stack: Vec<(usize, String)> = Vec::new();
    let (mut out, mut written) = (Vec::new(), std::collections::BTreeSet::new());
    for line in schema_text.lines() {
        let indent = line.len() - line.trim_start().len();
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        if let Some(c) = object_key.captures(line) {
            stack.push((c[1].len(), c[2].to_string()));
        }
        let path = value_path(&stack);
        match (description.captures(line), path.as_ref().and_then(|p| described.get(p))) {
            (Some(c), Some(text)) if c[1].len() == stack.last().map_or(0, |(i, _)| i + 2) => {
                out.push(format!("{}\"description\": {}{}", &c[1], serde_json::to_string(text)?, &c[2]));
                written.insert(path.unwrap_or_default());
            }
            _ => out.push(line.to_string()),
        }
    }
    let missing: Vec<&String> = described.keys().filter(|k| !written.contains(*k)).collect();
    if !missing.is_empty() {
        bail!("values.schema.json: these documented values have no property with a \"description\" line to write their comment into: {missing:?}");
    }
    Ok(out.join("\n") + "\n")
}

/// The dotted value path of the innermost open object: `properties`, key, `properties`, key, ...;
/// None inside anything else (`items`, `oneOf`, `definitions`).
fn value_path(stack: &[(usize, String)]) -> Option<String> {
    if stack.is_empty() || stack.len() % 2 != 0 {
        return None;
    }
    let pairs: Vec<&String> = stack.chunks(2).map(|p| &p[1].1).collect();
    stack.chunks(2).all(|p| p[0].1 == "properties").then(|| pairs.iter().map(|k| k.as_str()).collect::<Vec<_>>().join("."))
}

/// Each generated file as it should be.
pub fn expected(repo: &Path) -> Result<Vec<(PathBuf, String)>> {
    let schema = repo.join("heimdall/values.schema.json");
    let values = std::fs::read_to_string(repo.join("heimdall/values.yaml"))?;
    let mut files: Vec<(PathBuf, String)> = vec![(
        schema.clone(),
        schema_with_descriptions(&std::fs::read_to_string(&schema)?, &values).context("heimdall/values.schema.json")?,
    )];
    for region in REGIONS {
        let path = repo.join(region.file);
        let current = match files.iter().position(|(p, _)| *p == path) {
            Some(i) => files.remove(i).1,
            None => std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?,
        };
        let spliced = splice(&current, region.name, &(region.generate)(repo)?).with_context(|| path.display().to_string())?;
        files.push((path, spliced));
    }
    Ok(files)
}

/// Files whose generated regions are out of date.
pub fn stale(repo: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for (path, want) in expected(repo)? {
        if std::fs::read_to_string(&path)? != want {
            out.push(path);
        }
    }
    Ok(out)
}

/// Rewrites the stale files; returns them.
pub fn run(repo: &Path) -> Result<Vec<PathBuf>> {
    let stale = stale(repo)?;
    for (path, want) in expected(repo)? {
        if stale.contains(&path) {
            std::fs::write(&path, want)?;
        }
    }
    Ok(stale)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: &str = "# Header comment.\n\n# -- The name.\nname: \"\"\n# -- Image.\nimage:\n  # -- Registry,\n  # continued.\n  registry: docker.io\n  # -- Tag.\n  tag: \"1.0\"\n# -- Resources (a block).\nresources:\n  limits:\n    memory: 1Gi\nlist:\n  - a\n";

    #[test]
    fn descriptions_follow_keys_and_continue_over_lines() {
        let d = descriptions(VALUES);
        assert_eq!(d["image.registry"], "Registry, continued.");
        assert_eq!(d["name"], "The name.");
        assert!(!d.contains_key("resources.limits"));
    }

    #[test]
    fn a_continuation_line_that_starts_with_a_flag_is_not_a_new_description() {
        let values = "# -- Pass it with\n# --api-versions security.openshift.io/v1, or not.\nmode: auto\n";
        assert_eq!(descriptions(values)["mode"], "Pass it with --api-versions security.openshift.io/v1, or not.");
    }

    #[test]
    fn a_comment_no_key_takes_is_reported_by_its_line() {
        assert!(unread_comments(VALUES).is_empty());
        let values = "# -- Lost: another marker follows.\n# -- Kept.\na: 1\nlist:\n  # -- Lost: a list item follows.\n  - x\n# -- Lost at the end.\n";
        assert_eq!(unread_comments(values), vec![1, 5, 7]);
    }

    #[test]
    fn the_schema_takes_each_documented_description_and_nothing_else() {
        let schema = "{\n  \"properties\": {\n    \"image\": {\n      \"description\": \"old\",\n      \"properties\": {\n        \"tag\": {\n          \"description\": \"old tag\"\n        }\n      }\n    },\n    \"list\": {\n      \"items\": {\n        \"description\": \"an item\"\n      }\n    }\n  }\n}\n";
        let values = "# -- Image \"quoted\".\nimage:\n  # -- Tag.\n  tag: x\nlist: []\n";
        let out = schema_with_descriptions(schema, values).unwrap();
        assert!(out.contains("\"description\": \"Image \\\"quoted\\\".\","), "{out}");
        assert!(out.contains("\"description\": \"Tag.\"\n") && out.contains("\"description\": \"an item\""), "{out}");
        let err = format!("{:#}", schema_with_descriptions(schema, &format!("{values}# -- Not in the schema.\nextra: 1\n")).unwrap_err());
        assert!(err.contains("\"extra\""), "{err}");
        let undescribed = schema.replace("\"description\": \"old tag\"", "\"type\": \"string\"");
        assert!(format!("{:#}", schema_with_descriptions(&undescribed, values).unwrap_err()).contains("\"image.tag\""));
    }

    #[test]
    fn an_undocumented_value_is_an_error_naming_it() {
        let err = format!("{:#}", document(VALUES).unwrap_err());
        assert!(err.contains("list") && !err.contains("resources"), "{err}");
    }

    #[test]
    fn tables_group_by_top_level_value() {
        let md = tables(&VALUES.replace("list:\n  - a\n", "")).unwrap();
        assert!(md.contains("### Top level") && md.contains("| `name` | `\"\"` | The name. |"), "{md}");
        assert!(md.contains("### `image`\n\nImage.\n") && md.contains("| `image.tag` | `1.0` | Tag. |"), "{md}");
        assert!(md.contains("| `resources` | `{\"limits\":{\"memory\":\"1Gi\"}}` | Resources (a block). |"), "{md}");
    }

    #[test]
    fn splice_replaces_only_between_markers() {
        let readme = "intro\n<!-- values:begin (generated) -->\nold\n<!-- values:end -->\noutro\n";
        let out = splice(readme, "values", "new\n").unwrap();
        assert_eq!(out, "intro\n<!-- values:begin (generated) -->\nnew\n<!-- values:end -->\noutro\n");
        assert!(format!("{:#}", splice("no markers", "values", "x").unwrap_err()).contains("values:begin"));
    }

    #[test]
    fn the_rule_list_names_every_rule() {
        let list = rule_list();
        assert_eq!(list.lines().count(), crate::checks::rules::all_rules().len());
        assert!(list.starts_with("- **HC001** with existingSecret"), "{list}");
    }
}
