//! A case's `assert:` list: claims about named objects of its rendering, NOTES included (a path that equals, matches or does not, is absent, or counts), checked on every rendering of the case; an entry that finds no object fails.

use anyhow::{bail, Context, Result};
use regex::Regex;
use serde::Deserialize;
use serde_yaml::Value;

use crate::support::manifest::Doc;

/// One entry of a case's `assert:` list: one claim, named by its key as helm-unittest names its
/// asserts (`equals: {kind: Deployment, name: web, path: spec.replicas, value: 2}`). Each claim
/// takes only its own fields, and a path, pattern or selector is read when the case loads, so an
/// entry that could not be checked cannot be written.
#[derive(Debug, Clone)]
pub struct Assertion(Claim);

/// YAML writes the claim as a map of one key (serde_yaml would otherwise want a `!tag`).
impl<'de> Deserialize<'de> for Assertion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        serde_yaml::with::singleton_map::deserialize(d).map(Assertion)
    }
}

/// The claims an entry can make.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Claim {
    /// The value at the path equals `value`.
    Equals(Valued),
    /// Nothing is at the path.
    Absent(Located),
    /// The scalar at the path matches `pattern`.
    Matches(Patterned),
    /// The scalar at the path does not match `pattern` (e.g. a warning NOTES must leave out).
    NotMatches(Patterned),
    /// With a path: the length of the list or map there is `value`; without: `value` objects match
    /// (then the name or label may be left out, to count every object of the kind).
    Count(Counted),
}

/// The objects an entry is about: their kind, and their name or a label they carry.
#[derive(Debug, Clone)]
pub struct Target {
    kind: String,
    selector: Selector,
}

#[derive(Debug, Clone)]
enum Selector {
    Name(String),
    Label {
        key: String,
        value: String,
    },
    /// Every object of the kind (only a count without a path may say so).
    Every,
}

/// A path into an object, as written and as read: dotted keys, `[N]` for a list index,
/// `[key=value]` for the list item whose field has that value, `["a.b/c"]` for a key with dots;
/// e.g. `spec.template.spec.containers[name=app].volumeMounts`.
#[derive(Debug, Clone)]
pub struct ObjectPath {
    written: String,
    steps: Vec<Step>,
}

/// `equals`: a target, a path and the value found there.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Written")]
pub struct Valued {
    target: Target,
    path: ObjectPath,
    value: Value,
}

/// `absent`: a target and a path.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Written")]
pub struct Located {
    target: Target,
    path: ObjectPath,
}

/// `matches` and `notMatches`: a target, a path and a regular expression.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Written")]
pub struct Patterned {
    target: Target,
    path: ObjectPath,
    pattern: Regex,
}

/// `count`: a target, maybe a path, and a number.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Written")]
pub struct Counted {
    target: Target,
    path: Option<ObjectPath>,
    count: usize,
}

/// The fields any claim may be written with; each claim's `TryFrom` takes the ones it needs and
/// refuses the rest, saying what to write instead.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Written {
    kind: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    path: Option<String>,
    /// Some(Null) when written as `value: null`: a claim may expect null.
    #[serde(default, deserialize_with = "present")]
    value: Option<Value>,
    #[serde(default)]
    pattern: Option<String>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Written {
    /// The target; `every` says whether the entry may name neither a name nor a label.
    fn target(&self, every: bool) -> Result<Target> {
        let selector = match (&self.name, &self.label) {
            (Some(_), Some(_)) => bail!("give the object's name or a label (key=value), not both"),
            (Some(n), None) => Selector::Name(n.clone()),
            (None, Some(l)) => {
                let (key, value) = l.split_once('=').with_context(|| format!("label {l:?} is not key=value"))?;
                Selector::Label { key: key.into(), value: value.into() }
            }
            (None, None) if every => Selector::Every,
            (None, None) => bail!("give the object's name or a label (key=value), one of them"),
        };
        Ok(Target { kind: self.kind.clone(), selector })
    }

    fn path(&self) -> Result<ObjectPath> {
        let written = self.path.clone().context("this claim needs a path")?;
        let steps = parse_path(&written).with_context(|| format!("path {written:?}"))?;
        Ok(ObjectPath { written, steps })
    }

    fn refuse(&self, field: &str, present: bool, claim: &str) -> Result<()> {
        anyhow::ensure!(!present, "{claim} takes no {field}");
        Ok(())
    }
}

impl TryFrom<Written> for Valued {
    type Error = String;
    fn try_from(w: Written) -> std::result::Result<Self, String> {
        let read = || -> Result<Self> {
            w.refuse("pattern", w.pattern.is_some(), "equals")?;
            let value = w.value.clone().context("equals needs the value it expects: value: ...")?;
            Ok(Valued { target: w.target(false)?, path: w.path()?, value })
        };
        read().map_err(|e| format!("{e:#}"))
    }
}

impl TryFrom<Written> for Located {
    type Error = String;
    fn try_from(w: Written) -> std::result::Result<Self, String> {
        let read = || -> Result<Self> {
            w.refuse("value", w.value.is_some(), "absent")?;
            w.refuse("pattern", w.pattern.is_some(), "absent")?;
            Ok(Located { target: w.target(false)?, path: w.path()? })
        };
        read().map_err(|e| format!("{e:#}"))
    }
}

impl TryFrom<Written> for Patterned {
    type Error = String;
    fn try_from(w: Written) -> std::result::Result<Self, String> {
        let read = || -> Result<Self> {
            w.refuse("value (it takes a pattern)", w.value.is_some(), "matches")?;
            let written = w.pattern.clone().context("matches and notMatches need a pattern: pattern: REGEX")?;
            let pattern = Regex::new(&written).with_context(|| format!("pattern {written:?} is not a regular expression"))?;
            Ok(Patterned { target: w.target(false)?, path: w.path()?, pattern })
        };
        read().map_err(|e| format!("{e:#}"))
    }
}

impl TryFrom<Written> for Counted {
    type Error = String;
    fn try_from(w: Written) -> std::result::Result<Self, String> {
        let read = || -> Result<Self> {
            w.refuse("pattern", w.pattern.is_some(), "count")?;
            let count = w.value.as_ref().and_then(Value::as_u64).context("count needs a number: value: N")?;
            let path = if w.path.is_some() { Some(w.path()?) } else { None };
            Ok(Counted { target: w.target(path.is_none())?, path, count: count as usize })
        };
        read().map_err(|e| format!("{e:#}"))
    }
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
    Item(String, String),
}

impl Target {
    fn selects(&self, doc: &Doc) -> bool {
        let chosen = match &self.selector {
            Selector::Name(n) => doc.name() == n,
            Selector::Label { key, value } => doc.value["metadata"]["labels"][key.as_str()].as_str() == Some(value.as_str()),
            Selector::Every => true,
        };
        doc.kind() == self.kind && chosen
    }

    fn what(&self) -> String {
        match &self.selector {
            Selector::Name(n) => format!("{}/{n}", self.kind),
            Selector::Label { key, value } => format!("{} labelled {key}={value}", self.kind),
            Selector::Every => self.kind.clone(),
        }
    }
}

impl Assertion {
    fn target(&self) -> &Target {
        match &self.0 {
            Claim::Equals(v) => &v.target,
            Claim::Absent(l) => &l.target,
            Claim::Matches(p) | Claim::NotMatches(p) => &p.target,
            Claim::Count(c) => &c.target,
        }
    }

    fn path(&self) -> Option<&ObjectPath> {
        match &self.0 {
            Claim::Equals(v) => Some(&v.path),
            Claim::Absent(l) => Some(&l.path),
            Claim::Matches(p) | Claim::NotMatches(p) => Some(&p.path),
            Claim::Count(c) => c.path.as_ref(),
        }
    }

    /// The entry in a message: "Deployment/app spec.replicas".
    pub fn what(&self) -> String {
        match self.path() {
            Some(p) => format!("{} {}", self.target().what(), p.written),
            None => self.target().what(),
        }
    }

    /// What is wrong with `docs` by this entry, one line per object (empty: it holds).
    pub fn check(&self, docs: &[Doc]) -> Vec<String> {
        let selected: Vec<&Doc> = docs.iter().filter(|d| self.target().selects(d)).collect();
        let Some(path) = self.path() else {
            let Claim::Count(Counted { count: n, .. }) = &self.0 else { return vec![] };
            return if selected.len() == *n { vec![] } else { vec![format!("{}: {} objects, not {n}", self.what(), selected.len())] };
        };
        if selected.is_empty() {
            return vec![format!("{}: no object of the rendering matches, so nothing was checked", self.what())];
        }
        selected
            .into_iter()
            .filter_map(|doc| self.judge(walk(&doc.value, &path.steps)).map(|why| format!("{} ({}): {why}", self.what(), doc.id())))
            .collect()
    }

    /// Why `found` (the value at the path, if any) breaks the claim.
    fn judge(&self, found: Option<&Value>) -> Option<String> {
        let shown =
            |v: Option<&Value>| v.map_or("nothing".to_string(), |v| format!("{:?}", serde_yaml::to_string(v).unwrap_or_default().trim()));
        let hit = |pattern: &Regex| found.and_then(scalar_text).is_some_and(|t| pattern.is_match(&t));
        match &self.0 {
            Claim::Absent(_) => found.map(|v| format!("expected absent, found {}", shown(Some(v)))),
            Claim::Equals(Valued { value, .. }) => {
                (found != Some(value)).then(|| format!("expected {}, found {}", shown(Some(value)), shown(found)))
            }
            Claim::Matches(Patterned { pattern, .. }) => {
                (!hit(pattern)).then(|| format!("expected a match for /{pattern}/, found {}", shown(found)))
            }
            Claim::NotMatches(Patterned { pattern, .. }) => {
                hit(pattern).then(|| format!("expected no match for /{pattern}/, found {}", shown(found)))
            }
            Claim::Count(Counted { count: n, .. }) => {
                let len = found.and_then(|v| v.as_sequence().map(Vec::len).or(v.as_mapping().map(|m| m.len())));
                (len != Some(*n)).then(|| format!("expected {n} entries, found {}", len.map_or(shown(found), |l| l.to_string())))
            }
        }
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
        serde_yaml::from_str(yaml).unwrap()
    }

    fn findings(yaml: &str) -> Vec<String> {
        entry(yaml).check(&parse(RENDERING).unwrap().docs)
    }

    #[test]
    fn each_claim_holds_on_the_rendering_and_fails_when_false() {
        let path = "path: 'spec.template.spec.containers[name=web].volumeMounts[0].mountPath'";
        assert!(findings(&format!("equals: {{kind: Deployment, name: web, {path}, value: /etc/extra}}")).is_empty());
        let wrong = findings(&format!("equals: {{kind: Deployment, name: web, {path}, value: /etc/other}}"));
        assert_eq!(
            wrong,
            [
                r#"Deployment/web spec.template.spec.containers[name=web].volumeMounts[0].mountPath (Deployment/web): expected "/etc/other", found "/etc/extra""#
            ]
        );
        assert!(findings("absent: {kind: Deployment, label: tier=front, path: spec.replicas}").is_empty());
        assert_eq!(findings("absent: {kind: Deployment, label: tier=front, path: metadata.name}").len(), 1);
        assert!(findings(
            r#"matches: {kind: Deployment, name: web, path: 'metadata.annotations["helm.sh/resource-policy"]', pattern: ^keep$}"#
        )
        .is_empty());
        assert_eq!(findings("matches: {kind: Deployment, name: web, path: metadata.name, pattern: ^api$}").len(), 1);
        assert!(findings("count: {kind: Deployment, name: web, path: spec.template.spec.containers, value: 2}").is_empty());
        assert_eq!(findings("count: {kind: Deployment, name: web, path: spec.template.spec.containers, value: 1}").len(), 1);
        assert!(findings("count: {kind: Service, value: 0}").is_empty());
        assert_eq!(findings("count: {kind: Deployment, value: 2}"), ["Deployment: 1 objects, not 2"]);
        assert_eq!(
            findings("equals: {kind: Deployment, name: web, path: spec.replicas, value: null}"),
            [r#"Deployment/web spec.replicas (Deployment/web): expected "null", found nothing"#],
            "null is a value to expect, and an absent key is not null"
        );
    }

    #[test]
    fn notes_are_an_object_whose_text_matches_or_not() {
        let docs = vec![notes_doc(Some("WARNING: ingress-nginx limits request bodies to 1 MB.\n"))];
        assert!(entry("matches: {kind: NOTES, name: NOTES.txt, path: text, pattern: 'limits request bodies'}").check(&docs).is_empty());
        let said = entry("notMatches: {kind: NOTES, name: NOTES.txt, path: text, pattern: 'limits request bodies'}").check(&docs);
        assert_eq!(said.len(), 1);
        assert!(said[0].contains("expected no match for /limits request bodies/"), "{said:?}");
        assert!(entry("notMatches: {kind: NOTES, name: NOTES.txt, path: text, pattern: 'WARNING'}").check(&[notes_doc(None)]).is_empty());
    }

    #[test]
    fn an_entry_that_finds_no_object_fails() {
        assert_eq!(
            findings("absent: {kind: Deployment, name: api, path: spec.replicas}"),
            ["Deployment/api spec.replicas: no object of the rendering matches, so nothing was checked"]
        );
        assert_eq!(findings("absent: {kind: Service, label: tier=front, path: spec}").len(), 1);
    }

    #[test]
    fn a_malformed_entry_cannot_be_read_and_says_what_to_write() {
        let refused = |yaml: &str| serde_yaml::from_str::<Assertion>(yaml).unwrap_err().to_string();
        assert!(refused("absent: {kind: Deployment, path: a}").contains("name or a label"));
        assert!(refused("absent: {kind: Deployment, name: w, label: a=b, path: a}").contains("not both"));
        assert!(refused("absent: {kind: Deployment, name: w, path: a, value: 1}").contains("absent takes no value"));
        assert!(refused("equals: {kind: Deployment, name: w, value: 1}").contains("needs a path"));
        assert!(refused("equals: {kind: Deployment, name: w, path: a}").contains("needs the value"));
        assert!(refused("absent: {kind: Deployment, name: w, path: 'a['}").contains("without its ']'"));
        assert!(refused("matches: {kind: Deployment, name: w, path: a, pattern: '('}").contains("not a regular expression"));
        assert!(refused("notMatches: {kind: Deployment, name: w, path: a, pattern: '('}").contains("not a regular expression"));
        assert!(refused("count: {kind: Deployment, name: w, value: many}").contains("needs a number"));
        assert!(refused("count: {kind: Deployment, path: a, value: 1}").contains("name or a label"), "every object only without a path");
        assert!(refused("equals: {kind: Deployment, name: w, path: a, equals: 1}").contains("unknown field"));
        let two = refused("{equals: {kind: D, name: w, path: a, value: 1}, absent: {kind: D, name: w, path: a}}");
        assert!(two.contains("map with a single key"), "two claims in one entry: {two}");
        assert!(refused("contains: {kind: Deployment, name: w, path: a}").contains("unknown variant"));
    }
}
