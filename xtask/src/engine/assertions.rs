//! A case's `assert:` list: claims about named objects of its rendering, NOTES included (a path that equals, matches or does not, is absent, or counts), checked on every rendering of the case; an entry that finds no object fails.

use anyhow::{bail, Context, Result};
use regex::Regex;
use serde::Deserialize;
use serde_yaml::Value;

use crate::support::manifest::Doc;

/// One entry, as written in a case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Assertion {
    /// The objects' kind.
    pub kind: String,
    /// Their name, or a label they carry ("key=value").
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// Dotted keys, `[N]` for a list index, `[key=value]` for the list item whose field has that value,
    /// `["a.b/c"]` for a key with dots; e.g. `spec.template.spec.containers[name=app].volumeMounts`.
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub equals: Option<Value>,
    #[serde(default)]
    pub absent: Option<bool>,
    #[serde(default)]
    pub matches: Option<String>,
    /// A pattern the text at the path must not match (e.g. a warning NOTES must leave out).
    #[serde(default)]
    pub not_matches: Option<String>,
    /// With a path: the length of the list or map there; without: how many objects match (then the
    /// name or label may be left out, to count every object of the kind).
    #[serde(default)]
    pub count: Option<usize>,
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Item(String, String),
}

impl Assertion {
    /// Checks the entry's shape: one selector, one claim, a path where the claim needs one, a valid
    /// pattern. The error says what to write instead.
    pub fn validate(&self) -> Result<()> {
        let counts_objects = self.path.is_none() && self.count.is_some();
        match (&self.name, &self.label) {
            (Some(_), Some(_)) => bail!("{}: give the object's name or a label (key=value), not both", self.what()),
            (None, None) if !counts_objects => bail!("{}: give the object's name or a label (key=value), one of them", self.what()),
            _ => {}
        }
        if let Some(label) = &self.label {
            label.split_once('=').with_context(|| format!("{}: label {label:?} is not key=value", self.what()))?;
        }
        let claims =
            [self.equals.is_some(), self.absent == Some(true), self.matches.is_some(), self.not_matches.is_some(), self.count.is_some()];
        if claims.iter().filter(|c| **c).count() != 1 {
            bail!("{}: give exactly one of equals, absent: true, matches, notMatches, count", self.what());
        }
        match (&self.path, self.count) {
            (None, None) => bail!("{}: equals, absent, matches and notMatches need a path", self.what()),
            (Some(p), _) => drop(parse_path(p).with_context(|| format!("{}: path {p:?}", self.what()))?),
            (None, Some(_)) => {}
        }
        for p in self.matches.iter().chain(&self.not_matches) {
            Regex::new(p).with_context(|| format!("{}: matches {p:?} is not a regular expression", self.what()))?;
        }
        Ok(())
    }

    /// The entry in a message: "Deployment/app spec.replicas".
    pub fn what(&self) -> String {
        let selector = match (&self.name, &self.label) {
            (Some(n), _) => format!("{}/{n}", self.kind),
            (_, Some(l)) => format!("{} labelled {l}", self.kind),
            _ => self.kind.clone(),
        };
        match &self.path {
            Some(p) => format!("{selector} {p}"),
            None => selector,
        }
    }

    fn selects(&self, doc: &Doc) -> bool {
        let labelled = |l: &str| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            doc.value["metadata"]["labels"][k].as_str() == Some(v)
        };
        doc.kind() == self.kind && self.name.as_deref().is_none_or(|n| doc.name() == n) && self.label.as_deref().is_none_or(labelled)
    }

    /// What is wrong with `docs` by this entry, one line per object (empty: it holds).
    pub fn check(&self, docs: &[Doc]) -> Vec<String> {
        let selected: Vec<&Doc> = docs.iter().filter(|d| self.selects(d)).collect();
        match (&self.path, self.count) {
            (None, Some(n)) if selected.len() != n => return vec![format!("{}: {} objects, not {n}", self.what(), selected.len())],
            (None, _) => return vec![],
            _ if selected.is_empty() => {
                return vec![format!("{}: no object of the rendering matches, so nothing was checked", self.what())]
            }
            _ => {}
        }
        let steps = parse_path(self.path.as_deref().unwrap_or_default()).unwrap_or_default();
        selected
            .into_iter()
            .filter_map(|doc| self.judge(walk(&doc.value, &steps)).map(|why| format!("{} ({}): {why}", self.what(), doc.id())))
            .collect()
    }

    /// Why `found` (the value at the path, if any) breaks the claim.
    fn judge(&self, found: Option<&Value>) -> Option<String> {
        let shown =
            |v: Option<&Value>| v.map_or("nothing".to_string(), |v| format!("{:?}", serde_yaml::to_string(v).unwrap_or_default().trim()));
        if self.absent == Some(true) {
            return found.map(|v| format!("expected absent, found {}", shown(Some(v))));
        }
        if let Some(want) = &self.equals {
            return (found != Some(want)).then(|| format!("expected {}, found {}", shown(Some(want)), shown(found)));
        }
        let hit = |pattern: &str| found.and_then(scalar_text).is_some_and(|t| Regex::new(pattern).is_ok_and(|r| r.is_match(&t)));
        if let Some(pattern) = &self.matches {
            return (!hit(pattern)).then(|| format!("expected a match for /{pattern}/, found {}", shown(found)));
        }
        if let Some(pattern) = &self.not_matches {
            return hit(pattern).then(|| format!("expected no match for /{pattern}/, found {}", shown(found)));
        }
        let n = self.count.unwrap_or(0);
        let len = found.and_then(|v| v.as_sequence().map(Vec::len).or(v.as_mapping().map(|m| m.len())));
        (len != Some(n)).then(|| format!("expected {n} entries, found {}", len.map_or(shown(found), |l| l.to_string())))
    }
}

/// NOTES as an object the entries can name: `{kind: NOTES, name: NOTES.txt, path: text}` is its
/// rendered text ("" when the chart prints none).
pub fn notes_doc(notes: Option<&str>) -> Doc {
    let mut value: Value = serde_yaml::from_str("{kind: NOTES, metadata: {name: NOTES.txt}}").expect("a literal mapping");
    value["text"] = Value::String(notes.unwrap_or_default().to_string());
    Doc { source: "templates/NOTES.txt".into(), value, raw: notes.unwrap_or_default().to_string() }
}

fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads a path; fails on an empty step, an unclosed bracket or a bracket that is neither an index,
/// `key=value` nor a quoted key.
fn parse_path(path: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let end = inner.find(']').with_context(|| format!("a '[' without its ']' in {path:?}"))?;
            steps.push(bracket(&inner[..end]).with_context(|| format!("[{}] in {path:?}", &inner[..end]))?);
            rest = inner[end + 1..].strip_prefix('.').unwrap_or(&inner[end + 1..]);
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        anyhow::ensure!(end > 0, "an empty step in {path:?}");
        steps.push(Step::Key(rest[..end].to_string()));
        rest = rest[end..].strip_prefix('.').unwrap_or(&rest[end..]);
    }
    anyhow::ensure!(!steps.is_empty(), "the path is empty");
    Ok(steps)
}

fn bracket(inner: &str) -> Result<Step> {
    if let Ok(i) = inner.parse() {
        return Ok(Step::Index(i));
    }
    if let Some(key) = inner.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        return Ok(Step::Key(key.to_string()));
    }
    match inner.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok(Step::Item(k.to_string(), v.to_string())),
        _ => bail!("a bracket holds an index, key=value or a \"quoted key\""),
    }
}

fn walk<'a>(mut v: &'a Value, steps: &[Step]) -> Option<&'a Value> {
    for step in steps {
        v = match step {
            Step::Key(k) => v.as_mapping()?.get(k.as_str())?,
            Step::Index(i) => v.as_sequence()?.get(*i)?,
            Step::Item(k, want) => v.as_sequence()?.iter().find(|item| item[k.as_str()].as_str().is_some_and(|s| s == want))?,
        };
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::manifest::parse;

    const RENDERING: &str = "---\n# Source: c/templates/d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {tier: front}, annotations: {helm.sh/resource-policy: keep}}\nspec:\n  template:\n    spec:\n      containers:\n        - {name: web, volumeMounts: [{name: extra, mountPath: /etc/extra}]}\n        - {name: side}\n";

    fn entry(yaml: &str) -> Assertion {
        let a: Assertion = serde_yaml::from_str(yaml).unwrap();
        a.validate().unwrap();
        a
    }

    fn findings(yaml: &str) -> Vec<String> {
        entry(yaml).check(&parse(RENDERING).unwrap().docs)
    }

    #[test]
    fn each_claim_holds_on_the_rendering_and_fails_when_false() {
        let path = "path: 'spec.template.spec.containers[name=web].volumeMounts[0].mountPath'";
        assert!(findings(&format!("{{kind: Deployment, name: web, {path}, equals: /etc/extra}}")).is_empty());
        let wrong = findings(&format!("{{kind: Deployment, name: web, {path}, equals: /etc/other}}"));
        assert_eq!(
            wrong,
            [
                r#"Deployment/web spec.template.spec.containers[name=web].volumeMounts[0].mountPath (Deployment/web): expected "/etc/other", found "/etc/extra""#
            ]
        );
        assert!(findings("{kind: Deployment, label: tier=front, path: spec.replicas, absent: true}").is_empty());
        assert_eq!(findings("{kind: Deployment, label: tier=front, path: metadata.name, absent: true}").len(), 1);
        assert!(findings(r#"{kind: Deployment, name: web, path: 'metadata.annotations["helm.sh/resource-policy"]', matches: ^keep$}"#)
            .is_empty());
        assert_eq!(findings("{kind: Deployment, name: web, path: metadata.name, matches: ^api$}").len(), 1);
        assert!(findings("{kind: Deployment, name: web, path: spec.template.spec.containers, count: 2}").is_empty());
        assert_eq!(findings("{kind: Deployment, name: web, path: spec.template.spec.containers, count: 1}").len(), 1);
        assert!(findings("{kind: Service, count: 0}").is_empty());
        assert_eq!(findings("{kind: Deployment, count: 2}"), ["Deployment: 1 objects, not 2"]);
    }

    #[test]
    fn notes_are_an_object_whose_text_matches_or_not() {
        let docs = vec![notes_doc(Some("WARNING: ingress-nginx limits request bodies to 1 MB.\n"))];
        assert!(entry("{kind: NOTES, name: NOTES.txt, path: text, matches: 'limits request bodies'}").check(&docs).is_empty());
        let said = entry("{kind: NOTES, name: NOTES.txt, path: text, notMatches: 'limits request bodies'}").check(&docs);
        assert_eq!(said.len(), 1);
        assert!(said[0].contains("expected no match for /limits request bodies/"), "{said:?}");
        assert!(entry("{kind: NOTES, name: NOTES.txt, path: text, notMatches: 'WARNING'}").check(&[notes_doc(None)]).is_empty());
    }

    #[test]
    fn an_entry_that_finds_no_object_fails() {
        assert_eq!(
            findings("{kind: Deployment, name: api, path: spec.replicas, absent: true}"),
            ["Deployment/api spec.replicas: no object of the rendering matches, so nothing was checked"]
        );
        assert_eq!(findings("{kind: Service, label: tier=front, path: spec, absent: true}").len(), 1);
    }

    #[test]
    fn a_malformed_entry_is_refused_with_what_to_write() {
        let refused = |yaml: &str| format!("{:#}", serde_yaml::from_str::<Assertion>(yaml).unwrap().validate().unwrap_err());
        assert!(refused("{kind: Deployment, path: a, absent: true}").contains("name or a label"));
        assert!(refused("{kind: Deployment, name: w, path: a, absent: true, equals: 1}").contains("exactly one of"));
        assert!(refused("{kind: Deployment, name: w, equals: 1}").contains("need a path"));
        assert!(refused("{kind: Deployment, name: w, path: 'a[', absent: true}").contains("without its ']'"));
        assert!(refused("{kind: Deployment, name: w, path: a, matches: '('}").contains("not a regular expression"));
        assert!(refused("{kind: Deployment, name: w, path: a, notMatches: '('}").contains("not a regular expression"));
        assert!(refused("{kind: Deployment, name: w, path: a, matches: x, notMatches: y}").contains("exactly one of"));
    }
}
