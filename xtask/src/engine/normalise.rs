//! Normalisation: documents sorted by kind, namespace and name; random values redacted by shape, and only where two renders differ.

use crate::support::manifest::{Doc, Manifest};
use regex::Regex;
use serde_yaml::Value;
use std::sync::OnceLock;

/// Shapes of the values the chart generates. A value is redacted only when it
/// differs between two renders of the same inputs *and* has one of these
/// shapes; a supplied (fixed) value is never masked, and a varying value of
/// any other shape is reported, not hidden.
pub const RANDOM_SHAPES: [(&str, &str); 4] = [
    ("<random-hex-128>", r"^[0-9a-f]{128}$"),
    ("<random-hex-66>", r"^[0-9a-f]{66}$"),
    ("<random-admin-password: Admin_ + hex-32>", r"^Admin_[0-9a-f]{32}$"),
    ("<sha256-of-generated-data>", r"^[0-9a-f]{64}$"),
];

/// What a varying string of no known shape becomes in the normalised text.
pub const VARIES_UNKNOWN_SHAPE: &str = "<varies between renders: unknown shape>";

fn shapes() -> &'static [(String, Regex)] {
    static SHAPES: OnceLock<Vec<(String, Regex)>> = OnceLock::new();
    SHAPES.get_or_init(|| RANDOM_SHAPES.iter().map(|(n, r)| (n.to_string(), Regex::new(r).unwrap())).collect())
}

/// The placeholder for a random value of known shape, if it has one.
pub fn shape_of(value: &str) -> Option<&'static str> {
    shapes().iter().position(|(_, r)| r.is_match(value)).map(|i| RANDOM_SHAPES[i].0)
}

/// A scalar that differs between two renders of the same inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// "Kind/name" of the document, or "NOTES.txt".
    pub doc: String,
    /// Dotted path inside the document.
    pub path: String,
    /// The placeholder it was redacted to; None when its shape is unknown.
    pub shape: Option<&'static str>,
}

fn sort_key(d: &Doc) -> (String, String, String) {
    (d.kind().to_string(), d.namespace().to_string(), d.name().to_string())
}

pub fn sort(manifest: &mut Manifest) {
    manifest.docs.sort_by_key(sort_key);
}

fn redact(a: &mut Value, b: &Value, path: &str, doc: &str, diffs: &mut Vec<Difference>) {
    match (a, b) {
        (Value::Mapping(ma), Value::Mapping(mb)) => {
            for (k, va) in ma.iter_mut() {
                let key = k.as_str().map(str::to_string).unwrap_or_else(|| format!("{k:?}"));
                let sub = if path.is_empty() { key } else { format!("{path}.{key}") };
                match mb.get(k) {
                    Some(vb) => redact(va, vb, &sub, doc, diffs),
                    None => diffs.push(Difference { doc: doc.into(), path: sub, shape: None }),
                }
            }
            for k in mb.keys().filter(|k| !ma.contains_key(*k)) {
                diffs.push(Difference { doc: doc.into(), path: format!("{path}.{}", k.as_str().unwrap_or("?")), shape: None });
            }
        }
        (Value::Sequence(sa), Value::Sequence(sb)) if sa.len() == sb.len() => {
            for (i, (va, vb)) in sa.iter_mut().zip(sb).enumerate() {
                redact(va, vb, &format!("{path}[{i}]"), doc, diffs);
            }
        }
        (a, b) if a == b => {}
        (Value::String(sa), Value::String(sb)) => {
            let shape = shape_of(sa).filter(|s| shape_of(sb) == Some(s));
            // Unknown shapes are masked too, so the snapshot and the Helm 3 / Helm 4
            // comparison see one stable text; HC011 reports them (they never pass).
            *sa = shape.unwrap_or(VARIES_UNKNOWN_SHAPE).to_string();
            diffs.push(Difference { doc: doc.into(), path: path.into(), shape });
        }
        _ => diffs.push(Difference { doc: doc.into(), path: path.into(), shape: None }),
    }
}

/// Sorts both renders and redacts `first` where it differs from `second`;
/// returns every difference found. Documents present in only one render are
/// differences of unknown shape.
pub fn normalise(mut first: Manifest, mut second: Manifest) -> (Manifest, Vec<Difference>) {
    sort(&mut first);
    sort(&mut second);
    let mut diffs = Vec::new();
    if first.docs.len() != second.docs.len() {
        diffs.push(Difference { doc: "(document list)".into(), path: String::new(), shape: None });
    } else {
        for (a, b) in first.docs.iter_mut().zip(&second.docs) {
            let id = a.id();
            if a.id() != b.id() {
                diffs.push(Difference { doc: id, path: String::new(), shape: None });
                continue;
            }
            redact(&mut a.value, &b.value, "", &id, &mut diffs);
        }
    }
    if first.notes != second.notes {
        diffs.push(Difference { doc: "NOTES.txt".into(), path: String::new(), shape: None });
        first.notes = Some(format!("NOTES.txt {VARIES_UNKNOWN_SHAPE}"));
    }
    (first, diffs)
}

/// The snapshot text: each document with its source, then NOTES.txt.
pub fn to_text(manifest: &Manifest) -> String {
    let mut out = String::new();
    for doc in &manifest.docs {
        out.push_str("---\n");
        out.push_str(&format!("# Source: {}\n", doc.source));
        out.push_str(&serde_yaml::to_string(&doc.value).unwrap_or_default());
    }
    if let Some(notes) = &manifest.notes {
        out.push_str("--- NOTES.txt\n");
        out.push_str(notes.trim_end());
        out.push('\n');
    }
    out
}

/// Where Helm 3 and Helm 4 print the same manifests differently, said in
/// words. Known: Helm 4 ends every document with an empty line. Anything
/// else is a real difference and fails the case.
pub fn describe_raw_difference(helm3: &str, helm4: &str) -> Option<String> {
    if helm3 == helm4 {
        return None;
    }
    let squeeze = |s: &str| s.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n");
    if squeeze(helm3) == squeeze(helm4) {
        Some("Helm 4 prints an empty line at the end of every document; the documents are otherwise identical".into())
    } else {
        Some("the raw outputs differ beyond empty lines (compared after parsing and normalisation)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::support::manifest::parse;

    const SECRET: &str = "---\n# Source: chart/templates/secret.yaml\nkind: Secret\nmetadata: {name: s}\nstringData:\n  JWT_SECRET: \"{jwt}\"\n  FIXED: \"{fixed}\"\n";

    fn secret(jwt: &str, fixed: &str) -> Manifest {
        parse(&SECRET.replace("{jwt}", jwt).replace("{fixed}", fixed)).unwrap()
    }

    #[test]
    fn varying_value_of_known_shape_is_redacted_to_its_shape() {
        let (a, b) = ("a".repeat(128), "b".repeat(128));
        let (m, diffs) = normalise(secret(&a, "x"), secret(&b, "x"));
        assert_eq!(m.docs[0].value["stringData"]["JWT_SECRET"].as_str(), Some("<random-hex-128>"));
        assert_eq!(
            diffs,
            vec![Difference { doc: "Secret/s".into(), path: "stringData.JWT_SECRET".into(), shape: Some("<random-hex-128>") }]
        );
    }

    #[test]
    fn fixed_value_of_random_shape_is_not_masked() {
        let hex = "c".repeat(128);
        let (m, diffs) = normalise(secret(&hex, "x"), secret(&hex, "x"));
        assert_eq!(m.docs[0].value["stringData"]["JWT_SECRET"].as_str(), Some(hex.as_str()));
        assert!(diffs.is_empty());
    }

    #[test]
    fn varying_value_of_unknown_shape_is_reported_and_masked_as_unknown() {
        let (m, diffs) = normalise(secret("x", "one"), secret("x", "two"));
        assert_eq!(m.docs[0].value["stringData"]["FIXED"].as_str(), Some(VARIES_UNKNOWN_SHAPE));
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].shape, None);
    }

    #[test]
    fn documents_are_sorted_by_kind_namespace_name() {
        let m = parse(
            "---\nkind: Service\nmetadata: {name: b}\n---\nkind: ConfigMap\nmetadata: {name: z}\n---\nkind: Service\nmetadata: {name: a}\n",
        )
        .unwrap();
        let (m, _) = normalise(m.clone(), m);
        let ids: Vec<String> = m.docs.iter().map(|d| d.id()).collect();
        assert_eq!(ids, ["ConfigMap/z", "Service/a", "Service/b"]);
    }

    #[test]
    fn helm4_empty_lines_are_named_and_other_changes_are_not_excused() {
        assert_eq!(describe_raw_difference("a: 1\n", "a: 1\n"), None);
        assert!(describe_raw_difference("a: 1\n---\nb: 2\n", "a: 1\n\n---\nb: 2\n\n").unwrap().contains("empty line"));
        assert!(describe_raw_difference("a: 1\n", "a: 2\n").unwrap().contains("beyond"));
    }
}
