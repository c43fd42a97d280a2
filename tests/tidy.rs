//! Tidy checks over the repository's own sources: module docs, and no secrets file tracked by git.

use std::path::Path;
use walkdir::WalkDir;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_rust_module_opens_with_a_doc_line() {
    let mut missing = Vec::new();
    for dir in ["xtask/src", "tests"] {
        for entry in WalkDir::new(root().join(dir)).into_iter().filter_map(Result::ok) {
            let p = entry.path();
            if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(p).unwrap();
                if !text.trim_start().starts_with("//!") {
                    missing.push(p.strip_prefix(root()).unwrap().display().to_string());
                }
            }
        }
    }
    assert!(missing.is_empty(), "these modules do not open with a `//!` line saying what they are for: {missing:?}");
}

#[test]
fn every_chart_template_is_named_for_one_resource_or_helper() {
    // One resource per template file: no template renders two top-level objects of different kinds.
    for entry in WalkDir::new(root().join("heimdall/templates")).into_iter().filter_map(Result::ok) {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "yaml") {
            let text = std::fs::read_to_string(p).unwrap();
            let kinds = text.lines().filter(|l| l.starts_with("kind: ")).count();
            assert!(kinds <= 1, "{} renders {kinds} resources; give each its own file", p.display());
        }
    }
}
