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

#[test]
fn generated_docs_are_current() {
    let stale = xtask::docs::stale(root()).expect("the generated regions can be computed");
    assert!(stale.is_empty(), "out of date with values.yaml or the rules: {stale:?}; run `cargo xtask docs` and commit");
}

#[test]
fn one_go_version_everywhere() {
    let want = xtask::tools::GO_VERSION;
    let mut differ = Vec::new();
    for entry in WalkDir::new(root().join("xtask")).into_iter().filter_map(Result::ok).filter(|e| e.file_name() == "go.mod") {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        if !text.lines().any(|l| l == format!("go {want}.0")) {
            differ.push(format!("{}: not `go {want}.0`", entry.path().display()));
        }
    }
    for entry in WalkDir::new(root().join(".github/workflows")).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        differ.extend(
            text.lines()
                .filter(|l| l.contains("go-version:") && !l.ends_with(&format!("\"{want}\"")))
                .map(|l| format!("{}: {}", entry.path().display(), l.trim())),
        );
    }
    for entry in WalkDir::new(root().join("xtask/src"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "rs"))
    {
        let text = std::fs::read_to_string(entry.path()).unwrap();
        differ.extend(
            text.lines()
                .filter(|l| l.contains("Go 1.") || l.contains("go 1."))
                .map(|l| format!("{}: {}", entry.path().display(), l.trim())),
        );
    }
    assert!(differ.is_empty(), "Go {want} is tools::GO_VERSION; these say otherwise: {differ:#?}");
}

#[test]
fn every_values_comment_reaches_a_key() {
    let values = std::fs::read_to_string(root().join("heimdall/values.yaml")).unwrap();
    let unread = xtask::docs::unread_comments(&values);
    assert!(unread.is_empty(), "heimdall/values.yaml lines {unread:?}: a `# --` comment that no key takes (another `# --` or a non-key line comes before the key), so the README and the schema would lose it");
}

#[test]
fn every_rule_has_a_unit_test_that_shows_it_firing() {
    let tests = std::fs::read_to_string(root().join("xtask/src/rules/tests.rs")).unwrap();
    let missing: Vec<&str> = xtask::rules::RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !tests.contains(&format!("fn {}_fires", id.to_lowercase())) || !tests.contains(&format!("\"{id}\"")))
        .collect();
    assert!(missing.is_empty(), "rules without a `fn hcNNN_fires...` unit test that asserts on their id: {missing:?}");
}

#[test]
fn the_mutation_suite_covers_every_rule_and_every_template() {
    let mutants = xtask::mutants::load(&root().join("tests/mutants")).expect("the mutants load");
    assert!(mutants.len() >= 30, "only {} mutants; the suite keeps at least 30", mutants.len());
    for rule in xtask::rules::RULES {
        let sole = mutants.iter().any(|m| m.spec.caught_by.len() == 1 && m.spec.caught_by.contains(rule.id));
        assert!(sole, "no mutant under tests/mutants/ is caught by {} alone", rule.id);
    }
    let chart = root().join("heimdall");
    for entry in WalkDir::new(chart.join("templates")).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
        let rel = entry.path().strip_prefix(&chart).unwrap().to_string_lossy().replace('\\', "/");
        assert!(mutants.iter().any(|m| m.spec.template == rel), "no mutant plants a defect into {rel}");
    }
    for m in &mutants {
        assert!(
            xtask::mutants::staleness(&chart, &m.spec).is_none(),
            "mutant {} is stale: {:?}",
            m.name,
            xtask::mutants::staleness(&chart, &m.spec)
        );
    }
}

/// Lines of each non-test function in `text` that runs over `limit` (a function ends at the `}` at its own indentation).
fn long_functions(text: &str, limit: usize) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let end_of_code = lines.iter().position(|l| l.trim() == "#[cfg(test)]").unwrap_or(lines.len());
    let mut out = Vec::new();
    for (i, line) in lines[..end_of_code].iter().enumerate() {
        let trimmed = line.trim_start();
        let is_fn = ["fn ", "pub fn ", "pub(crate) fn ", "pub(super) fn "].iter().any(|p| trimmed.starts_with(p));
        if !is_fn || trimmed.ends_with(';') {
            continue;
        }
        let close = format!("{}}}", &line[..line.len() - trimmed.len()]);
        let length = lines[i..].iter().position(|l| *l == close).map(|n| n + 1).unwrap_or(0);
        if length > limit {
            let name = trimmed.split('(').next().unwrap_or(trimmed).to_string();
            out.push((name, length));
        }
    }
    out
}

/// `file: name (N lines)` for each unit `measure` finds over 60 lines in the files under `dir` that `pick` takes.
fn over_a_screen(dir: &str, pick: impl Fn(&Path) -> bool, measure: fn(&str, usize) -> Vec<(String, usize)>) -> Vec<String> {
    let mut long = Vec::new();
    for entry in WalkDir::new(root().join(dir)).into_iter().filter_map(Result::ok).filter(|e| pick(e.path())) {
        for (name, n) in measure(&std::fs::read_to_string(entry.path()).unwrap(), 60) {
            long.push(format!("{}: {name} ({n} lines)", entry.path().strip_prefix(root()).unwrap().display()));
        }
    }
    long
}

#[test]
fn no_function_in_the_harness_grows_past_a_screen() {
    let long = over_a_screen(
        "xtask/src",
        |p| p.extension().is_some_and(|e| e == "rs") && p.file_name().is_some_and(|n| n != "tests.rs"),
        long_functions,
    );
    assert!(long.is_empty(), "functions over 60 lines; split them into named steps: {long:#?}");
    assert_eq!(long_functions("fn a() {\n    x\n}\n", 2), vec![("fn a".to_string(), 3)], "the measure itself");
}

/// Lines of each `define` in a template helper file that runs over `limit` (from `define` to its own `end`).
fn long_defines(text: &str, limit: usize) -> Vec<(String, usize)> {
    let action = regex::Regex::new(r"\{\{-?\s*(if|range|with|define|block|end)\b").unwrap();
    let define = regex::Regex::new(r#"^\{\{-?\s*define "([^"]+)""#).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = define.captures(line).map(|c| c[1].to_string()) else { continue };
        let mut depth = 0i32;
        let length = lines[i..]
            .iter()
            .position(|l| {
                depth += action.captures_iter(l).map(|c| if &c[1] == "end" { -1 } else { 1 }).sum::<i32>();
                depth == 0
            })
            .map(|n| n + 1)
            .unwrap_or(lines.len() - i);
        if length > limit {
            out.push((name, length));
        }
    }
    out
}

#[test]
fn no_chart_helper_grows_past_a_screen() {
    let long = over_a_screen("heimdall/templates", |p| p.extension().is_some_and(|e| e == "tpl"), long_defines);
    assert!(long.is_empty(), "helpers over 60 lines; split them into named steps: {long:#?}");
    let nested =
        "{{- define \"a\" -}}\n{{- if x }}{{ y }}{{ end }}\n{{- range z }}\n{{- end }}\n{{- end }}\n{{- define \"b\" }}{{ end }}\n";
    assert_eq!(long_defines(nested, 1), vec![("a".to_string(), 5)], "the measure itself: a ends at its own end, b on its line");
}

#[test]
fn every_cited_pitfall_is_explained_in_the_repository() {
    let pitfalls = std::fs::read_to_string(root().join("docs/pitfalls.md")).unwrap();
    let cite = regex::Regex::new(r"pitfalls? ((?:\d+(?:, | and )?)+)").unwrap();
    let mut unexplained = Vec::new();
    for dir in ["tests/cases", "docs", "heimdall"] {
        for entry in WalkDir::new(root().join(dir)).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for c in cite.captures_iter(&text) {
                for n in c[1].split(|ch: char| !ch.is_ascii_digit()).filter(|n| !n.is_empty()) {
                    if !pitfalls.lines().any(|l| l.starts_with(&format!("{n}. **"))) {
                        unexplained.push(format!("{}: pitfall {n}", entry.path().strip_prefix(root()).unwrap().display()));
                    }
                }
            }
        }
    }
    assert!(unexplained.is_empty(), "cited but not explained in docs/pitfalls.md: {unexplained:?}");
    assert!(pitfalls.contains("20. **"), "docs/pitfalls.md lists pitfalls 1 to 20");
}
