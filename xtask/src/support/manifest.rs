//! Parsing `helm template` output into documents; a duplicate mapping key anywhere is fatal and named.

use anyhow::{bail, Result};
use serde_yaml::Value;

/// The kind of the document the harness plants to carry NOTES.txt's text; it is taken out of the documents as the notes.
pub const NOTES_KIND: &str = "HarnessNotes";

/// One rendered document and the template it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Chart-relative template path, e.g. "templates/secret.yaml".
    pub source: String,
    pub value: Value,
    /// The document's text as Helm printed it (without the separator).
    pub raw: String,
}

impl Doc {
    fn str_at(&self, path: &[&str]) -> &str {
        let mut v = &self.value;
        for p in path {
            v = &v[*p];
        }
        v.as_str().unwrap_or("")
    }
    pub fn kind(&self) -> &str {
        self.str_at(&["kind"])
    }
    pub fn name(&self) -> &str {
        self.str_at(&["metadata", "name"])
    }
    pub fn namespace(&self) -> &str {
        self.str_at(&["metadata", "namespace"])
    }
    pub fn api_version(&self) -> &str {
        self.str_at(&["apiVersion"])
    }
    /// "Kind/name", how findings name a document.
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind(), self.name())
    }
}

/// A parsed rendering: the Kubernetes documents, and NOTES.txt's text when the harness planted its template.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub docs: Vec<Doc>,
    pub notes: Option<String>,
}

/// Splits multi-document YAML on `---` lines and parses each document.
pub fn parse(text: &str) -> Result<Manifest> {
    let mut chunks: Vec<String> = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            chunks.push(String::new());
        } else {
            let last = chunks.last_mut().unwrap();
            last.push_str(line);
            last.push('\n');
        }
    }
    let mut manifest = Manifest::default();
    for (index, raw) in chunks.into_iter().enumerate() {
        let source = raw
            .lines()
            .find_map(|l| l.strip_prefix("# Source: "))
            .map(|s| s.split_once('/').map(|(_, rest)| rest).unwrap_or(s).to_string())
            .unwrap_or_default();
        let value: Value = match serde_yaml::from_str(&raw) {
            Ok(v) => v,
            Err(e) => bail!("document {index} ({}) is not valid YAML: {e}", if source.is_empty() { "no # Source line" } else { &source }),
        };
        if value.is_null() {
            continue;
        }
        if !value.is_mapping() {
            bail!("document {index} ({source}) is not a mapping");
        }
        let doc = Doc { source, value, raw: raw.trim_end().to_string() };
        if doc.kind() == NOTES_KIND {
            manifest.notes = Some(doc.value["text"].as_str().unwrap_or("").to_string());
        } else {
            manifest.docs.push(doc);
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_documents_and_keeps_sources() {
        let m =
            parse("---\n# Source: chart/templates/a.yaml\nkind: A\nmetadata: {name: a}\n---\n# Source: chart/templates/b.yaml\nkind: B\n")
                .unwrap();
        assert_eq!(m.docs.len(), 2);
        assert_eq!(m.docs[0].source, "templates/a.yaml");
        assert_eq!(m.docs[0].id(), "A/a");
        assert_eq!(m.docs[1].kind(), "B");
    }

    #[test]
    fn duplicate_key_fails_naming_document_and_key() {
        let err = parse("---\n# Source: chart/templates/secret.yaml\nkind: Secret\nstringData:\n  JWT_SECRET: a\n  JWT_SECRET: b\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("templates/secret.yaml"), "{err}");
        assert!(err.contains("JWT_SECRET"), "{err}");
    }

    #[test]
    fn notes_document_is_taken_aside() {
        let m = parse("---\nkind: HarnessNotes\ntext: \"hello\"\n---\nkind: A\n").unwrap();
        assert_eq!(m.notes.as_deref(), Some("hello"));
        assert_eq!(m.docs.len(), 1);
    }
}
