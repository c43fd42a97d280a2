//! Tidy checks over the repository's own structure: module docs, one resource per template, generated docs current, one Go version, values comments, a unit test and a sole mutant per rule, function and helper length, helper names and usage lines, cited pitfalls explained, the layer fence and import circles, no chart named by the engine, helper indentation, validation first in every template, a claim in every rendering case, and the docs NOTES link to.

use std::collections::{BTreeMap, BTreeSet};
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

/// tests/cases/README.md: a snapshot diff alone is not a check, so every case that renders says,
/// in at least one `assert:`, what it is for.
#[test]
fn every_rendering_case_makes_a_claim() {
    let config = xtask::engine::config::Config::at_root(root()).expect("the harness config loads");
    let cases = config.cases().expect("the cases load");
    let silent: Vec<&str> = cases
        .iter()
        .filter(|c| c.spec.expect == xtask::engine::matrix::Expect::Renders && c.spec.assert.is_empty())
        .map(|c| c.name.as_str())
        .collect();
    assert!(silent.is_empty(), "rendering cases without an `assert:` about what they are for: {silent:?}");
}

#[test]
fn every_doc_notes_link_to_is_in_the_repository() {
    let notes = std::fs::read_to_string(root().join("heimdall/templates/NOTES.txt")).unwrap();
    let marker = "\"heimdall.notes.docLink\" (dict \"root\" $ \"path\" \"";
    let paths: Vec<&str> = notes.split(marker).skip(1).map(|rest| &rest[..rest.find('"').unwrap()]).collect();
    assert!(paths.len() >= 4, "NOTES link only {paths:?}");
    for path in paths {
        assert!(root().join(path).is_file(), "NOTES link {path}, which the repository lacks");
    }
}

#[test]
fn generated_docs_are_current() {
    let stale = xtask::tasks::docs::stale(root()).expect("the generated regions can be computed");
    assert!(stale.is_empty(), "out of date with values.yaml or the rules: {stale:?}; run `cargo xtask docs` and commit");
}

#[test]
fn one_go_version_everywhere() {
    let want = xtask::support::tools::GO_VERSION;
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
    let unread = xtask::tasks::docs::unread_comments(&values);
    assert!(unread.is_empty(), "heimdall/values.yaml lines {unread:?}: a `# --` comment that no key takes (another `# --` or a non-key line comes before the key), so the README and the schema would lose it");
}

#[test]
fn every_rule_has_a_unit_test_that_shows_it_firing() {
    let rules = root().join("xtask/src/checks/rules");
    let tests: String = WalkDir::new(&rules)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file() && e.path().strip_prefix(&rules).is_ok_and(|p| p.starts_with("tests") || p == Path::new("tests.rs"))
        })
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    let missing: Vec<&str> = xtask::checks::rules::all_rules()
        .iter()
        .map(|r| r.id)
        .filter(|id| !tests.contains(&format!("fn {}_fires", id.to_lowercase())) || !tests.contains(&format!("\"{id}\"")))
        .collect();
    assert!(missing.is_empty(), "rules without a `fn hcNNN_fires...` unit test that asserts on their id: {missing:?}");
}

#[test]
fn the_mutation_suite_covers_every_rule_and_every_template() {
    let mutants = xtask::tasks::mutants::load(&root().join("tests/mutants")).expect("the mutants load");
    assert!(mutants.len() >= 30, "only {} mutants; the suite keeps at least 30", mutants.len());
    for rule in xtask::checks::rules::all_rules() {
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
            xtask::tasks::mutants::staleness(&chart, &m.spec).is_none(),
            "mutant {} is stale: {:?}",
            m.name,
            xtask::tasks::mutants::staleness(&chart, &m.spec)
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

/// The `helm create` scaffold's helpers keep their names: values rendered through `tpl`
/// (extraObjects, secrets files) call them, so they are the chart's interface.
const SCAFFOLD_HELPERS: [&str; 6] =
    ["heimdall.name", "heimdall.fullname", "heimdall.chart", "heimdall.labels", "heimdall.selectorLabels", "heimdall.serviceAccountName"];

/// What is wrong with the defines of helper file `file` (`_ca-certificates.tpl`): each must be
/// `heimdall.<topic>.<name>`, its topic the file's stem without dashes (case aside), or one of the
/// scaffold's helpers in `_helpers.tpl`; and the comment right above it must hold its usage line,
/// the literal `{{ include "<name>"`.
fn misplaced_defines(file: &str, text: &str) -> Vec<String> {
    let define = regex::Regex::new(r#"^\{\{-?\s*define "([^"]+)""#).unwrap();
    let topic = file.trim_start_matches('_').trim_end_matches(".tpl").replace('-', "").to_lowercase();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = define.captures(line).map(|c| c[1].to_string()) else { continue };
        let named = match name.split('.').collect::<Vec<_>>()[..] {
            _ if file == "_helpers.tpl" => SCAFFOLD_HELPERS.contains(&name.as_str()),
            ["heimdall", t, _] => t.to_lowercase() == topic,
            _ => false,
        };
        if !named {
            out.push(format!("{file}: {name} is not heimdall.{topic}.<name>"));
        }
        let comment_start = (0..i).rev().find(|&j| lines[j].starts_with("{{/*"));
        let comment_ends_above = i > 0 && lines[i - 1].ends_with("*/}}");
        let usage = format!("{{{{ include \"{name}\"");
        if !comment_ends_above || !comment_start.is_some_and(|j| lines[j..i].iter().any(|l| l.contains(&usage))) {
            out.push(format!("{file}: {name} has no usage line ({usage} ...) in the comment above it"));
        }
    }
    out
}

#[test]
fn chart_helpers_are_named_for_their_file_with_a_usage_line() {
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(root().join("heimdall/templates")).unwrap().filter_map(Result::ok) {
        let file = entry.file_name().to_string_lossy().to_string();
        if file.ends_with(".tpl") {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            wrong.extend(misplaced_defines(&file, &text));
            if text.lines().count() > 300 {
                wrong.push(format!("{file}: {} lines; split it by topic (at most 300)", text.lines().count()));
            }
        }
    }
    assert!(wrong.is_empty(), "chart helpers out of place: {wrong:#?}");
    let planted = "{{/*\nUsage: {{ include \"heimdall.caCertificates.a\" . }}\n*/}}\n{{- define \"heimdall.caCertificates.a\" -}}\n{{- end }}\n{{/* b */}}\n{{- define \"heimdall.tls.b\" -}}\n{{- end }}\n";
    assert_eq!(
        misplaced_defines("_ca-certificates.tpl", planted),
        [
            "_ca-certificates.tpl: heimdall.tls.b is not heimdall.cacertificates.<name>",
            "_ca-certificates.tpl: heimdall.tls.b has no usage line ({{ include \"heimdall.tls.b\" ...) in the comment above it"
        ],
        "the measure itself: a named, documented define passes; a stranger without usage fails twice"
    );
    assert!(misplaced_defines("_helpers.tpl", "{{- define \"heimdall.fullname\" -}}\n").iter().all(|p| !p.contains("is not")));
}

/// `file line N` for each inline `.output()` in `text`: a command runs to its end through
/// `support::process` (or, a render, `support::command`), which says what failed and how to run it again.
fn inline_outputs(file: &str, text: &str) -> Vec<String> {
    text.lines().enumerate().filter(|(_, l)| l.contains(".output()")).map(|(i, _)| format!("{file} line {}", i + 1)).collect()
}

#[test]
fn commands_run_through_the_one_checked_runner() {
    let runners = ["xtask/src/support/process.rs", "xtask/src/support/command.rs"];
    let mut inline = Vec::new();
    for entry in WalkDir::new(root().join("xtask/src")).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
        let rel = entry.path().strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/");
        if !runners.contains(&rel.as_str()) {
            inline.extend(inline_outputs(&rel, &std::fs::read_to_string(entry.path()).unwrap()));
        }
    }
    assert!(inline.is_empty(), "run these through support::process::output or ::checked: {inline:?}");
    assert_eq!(inline_outputs("a.rs", "let o = cmd\n    .output()?;\n"), ["a.rs line 2"], "the measure itself");
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

/// The layers of `xtask/src`, lowest first, as ARCHITECTURE.md's `layers` block lists them.
fn layer_order() -> Vec<Vec<String>> {
    let map = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let block = map.split("```layers\n").nth(1).expect("ARCHITECTURE.md has a ```layers block").split("```").next().unwrap();
    // One rank per line, lowest first; layers on one line stand beside each other.
    block.lines().map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>()).filter(|r| !r.is_empty()).collect()
}

/// The module paths (`checks/rules/intent`) named in `text`, the code of module `module`: through
/// `crate::` paths and `super::` ones (resolved from `module`), in the forms `crate::a::b`,
/// `crate::a::{b, c::d}`, `crate::{a::b, …}` and `super::super::x`. Each path is cut back to the
/// longest module in `known` it starts with; code after `#[cfg(test)]` is left out.
fn module_paths(text: &str, module: &[&str], known: &BTreeSet<String>) -> BTreeSet<String> {
    let code: String =
        text.split("#[cfg(test)]").next().unwrap().lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n");
    let path = regex::Regex::new(r"\b(crate|super)((?:::super)*)::(?:(\w+(?:::\w+)*)(?:::\{([^{}]*)\})?|\{([^{}]*)\})").unwrap();
    let mut found = BTreeSet::new();
    for c in path.captures_iter(&code) {
        let mut base: Vec<String> =
            if &c[1] == "crate" { vec![] } else { module[..module.len().saturating_sub(1)].iter().map(|s| s.to_string()).collect() };
        for _ in 0..c[2].matches("super").count() {
            base.pop();
        }
        let head: Vec<String> = c.get(3).map(|h| h.as_str().split("::").map(str::to_string).collect()).unwrap_or_default();
        let group = c.get(4).or(c.get(5)).map(|g| g.as_str());
        let tails: Vec<Vec<String>> = match group {
            Some(g) => g.split(',').map(str::trim).filter(|i| !i.is_empty()).map(|i| i.split("::").map(str::to_string).collect()).collect(),
            None => vec![vec![]],
        };
        for tail in tails {
            let full: Vec<String> = base.iter().chain(&head).chain(&tail).cloned().collect();
            if let Some(m) = (1..=full.len()).rev().map(|n| full[..n].join("/")).find(|m| known.contains(m)) {
                found.insert(m);
            }
        }
    }
    found
}

/// The module path of each Rust file under `xtask/src` below the crate root (`checks/rules` for
/// checks/rules.rs or checks/rules/mod.rs), with the file.
fn modules() -> BTreeMap<String, std::path::PathBuf> {
    let src = root().join("xtask/src");
    let mut out = BTreeMap::new();
    for entry in WalkDir::new(&src).min_depth(2).into_iter().filter_map(Result::ok) {
        let rel = entry.path().strip_prefix(&src).unwrap().to_string_lossy().to_string();
        if let Some(stem) = rel.strip_suffix(".rs") {
            out.insert(stem.trim_end_matches("/mod").to_string(), entry.path().to_path_buf());
        }
    }
    out
}

/// Each module under `xtask/src` (its full path) and the modules it uses.
fn module_imports() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let known: BTreeSet<String> = modules.keys().cloned().collect();
    let mut imports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, file) in &modules {
        let segments: Vec<&str> = module.split('/').collect();
        let used = module_paths(&std::fs::read_to_string(file).unwrap(), &segments, &known);
        imports.entry(module.clone()).or_default().extend(used.into_iter().filter(|m| m != module));
    }
    imports
}

/// Whether one module lies inside the other (a child uses its parent's items, and the parent
/// declares the child: that is nesting, not a circle).
fn nested(a: &str, b: &str) -> bool {
    a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
}

/// Each import that runs from a lower layer to a higher one or to one beside it, or from a folder
/// that is not a layer.
fn layer_violations(imports: &BTreeMap<String, BTreeSet<String>>, ranks: &[Vec<String>]) -> Vec<String> {
    let layer = |module: &str| module.split('/').next().unwrap_or_default().to_string();
    let rank = |module: &str| ranks.iter().position(|r| r.contains(&layer(module)));
    let mut found = Vec::new();
    for (module, used) in imports {
        let Some(own) = rank(module) else {
            found.push(format!("{module} is in no layer of ARCHITECTURE.md's layers block"));
            continue;
        };
        let allowed = |u: &str| layer(u) == layer(module) || rank(u).is_some_and(|r| r < own);
        for u in used.iter().filter(|u| !allowed(u)) {
            found.push(format!("{module} uses {u}, which is not in its layer or a lower one"));
        }
    }
    found
}

/// One import cycle among the modules, as the path that closes it, if there is any.
fn import_cycle(imports: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(m: &str, imports: &BTreeMap<String, BTreeSet<String>>, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> bool {
        if let Some(at) = path.iter().position(|p| p == m) {
            path.drain(..at);
            path.push(m.to_string());
            return true;
        }
        if done.contains(m) {
            return false;
        }
        path.push(m.to_string());
        if imports.get(m).into_iter().flatten().any(|u| visit(u, imports, path, done)) {
            return true;
        }
        path.pop();
        done.insert(m.to_string());
        false
    }
    let mut done = BTreeSet::new();
    imports.keys().find_map(|m| {
        let mut path = Vec::new();
        visit(m, imports, &mut path, &mut done).then_some(path)
    })
}

#[test]
fn imports_run_down_the_layers_and_never_in_a_cycle() {
    let order = layer_order();
    let lib = std::fs::read_to_string(root().join("xtask/src/lib.rs")).unwrap();
    let declared: BTreeSet<&str> = lib.lines().filter_map(|l| l.strip_prefix("pub mod ")).map(|m| m.trim_end_matches(';')).collect();
    assert_eq!(
        declared,
        order.iter().flatten().map(String::as_str).collect(),
        "xtask/src/lib.rs declares exactly ARCHITECTURE.md's layers"
    );
    let imports = module_imports();
    assert!(imports.len() > 20, "the walk finds the modules: {:?}", imports.keys());
    let violations = layer_violations(&imports, &order);
    assert!(violations.is_empty(), "imports against ARCHITECTURE.md's layer order: {violations:#?}");
    let between: BTreeMap<String, BTreeSet<String>> =
        imports.iter().map(|(m, used)| (m.clone(), used.iter().filter(|u| !nested(m, u)).cloned().collect())).collect();
    assert_eq!(import_cycle(&between), None, "the modules' imports form a cycle");
}

#[test]
fn the_layer_checks_fire_on_a_broken_graph() {
    let order: Vec<Vec<String>> = vec![vec!["support".into()], vec!["engine".into(), "lifecycle".into()], vec!["tasks".into()]];
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    let upward = graph(&[("support/tools", "tasks/e2e")]);
    assert_eq!(layer_violations(&upward, &order), ["support/tools uses tasks/e2e, which is not in its layer or a lower one"]);
    let beside = graph(&[("engine/render", "lifecycle/node"), ("engine/render", "engine/matrix"), ("lifecycle/node", "support/tools")]);
    assert_eq!(layer_violations(&beside, &order), ["engine/render uses lifecycle/node, which is not in its layer or a lower one"]);
    let cycle = graph(&[("tasks/a", "tasks/b"), ("tasks/b", "support/c"), ("support/c", "tasks/b")]);
    assert_eq!(import_cycle(&cycle), Some(["support/c", "tasks/b", "support/c"].map(String::from).to_vec()));
    assert_eq!(import_cycle(&upward), None);
    let known: BTreeSet<String> =
        ["support/tools", "engine/render", "engine/matrix", "checks/rules", "checks/rules/intent", "checks/rules/derived", "tasks/e2e"]
            .map(String::from)
            .into();
    let forms = "use crate::support::tools;\nuse crate::engine::{render, matrix::Case};\nuse crate::{checks::rules, tasks::e2e::x};\n// crate::tasks::docs\nuse super::intent::flag;\nuse super::super::rules::{derived, Rendering};\n#[cfg(test)]\nuse crate::tasks::e2e;\n";
    let want: BTreeSet<String> =
        ["support/tools", "engine/render", "engine/matrix", "checks/rules", "tasks/e2e", "checks/rules/intent", "checks/rules/derived"]
            .map(String::from)
            .into();
    assert_eq!(module_paths(forms, &["checks", "rules", "derived"], &known), want);
    // A circle between two modules of one folder is a circle; a child using its parent is not.
    let sibling = graph(&[("checks/rules/derived", "checks/rules/intent"), ("checks/rules/intent", "checks/rules/derived")]);
    assert!(import_cycle(&sibling).is_some());
    assert!(nested("checks/rules", "checks/rules/intent") && !nested("checks/rules/derived", "checks/rules/intent"));
}

/// `file:line` of each line under `paths` (files or folders below the repository) that names `word`, in any case.
fn lines_naming(paths: &[&str], word: &str) -> Vec<String> {
    let mut found = Vec::new();
    for path in paths {
        for entry in WalkDir::new(root().join(path)).into_iter().filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            let rel = entry.path().strip_prefix(root()).unwrap().display().to_string();
            let hits = text.lines().enumerate().filter(|(_, l)| l.to_lowercase().contains(word));
            found.extend(hits.map(|(i, _)| format!("{rel}:{}", i + 1)));
        }
    }
    found
}

#[test]
fn the_engine_names_no_chart() {
    // Support and engine serve any chart; what is particular to one comes from chart-harness.yaml.
    let generic = ["xtask/src/support", "xtask/src/support.rs", "xtask/src/engine", "xtask/src/engine.rs"];
    let named = lines_naming(&generic, "heimdall");
    assert!(named.is_empty(), "generic modules name the chart; take it from the harness config instead: {named:#?}");
    assert!(!lines_naming(&["xtask/src/checks/rules.rs"], "heimdall").is_empty(), "the measure finds the word where it is");
}

/// `line N: H spaces, want W` for each line of a helper file that starts with a trimming action
/// (`{{-`) but is not indented two spaces per enclosing `define`, `if`, `range`, `with` or `block`
/// (`else` and `end` sit at their opening's level). Only `{{-` lines may move: they trim the
/// whitespace before them, so indenting them changes no rendered byte; text lines stay put.
fn misindented_actions(text: &str) -> Vec<String> {
    let open = regex::Regex::new(r"\{\{-?\s*(if|range|with|define|block)\b").unwrap();
    let end = regex::Regex::new(r"\{\{-?\s*end\b").unwrap();
    let closing = regex::Regex::new(r"^\{\{-?\s*(end|else)\b").unwrap();
    let mut depth = 0usize;
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        if body.starts_with("{{-") {
            let want = 2 * depth.saturating_sub(usize::from(closing.is_match(body)));
            let have = line.len() - body.len();
            if have != want {
                found.push(format!("line {}: {have} spaces, want {want}", i + 1));
            }
        }
        depth = (depth + open.find_iter(body).count()).saturating_sub(end.find_iter(body).count());
    }
    found
}

#[test]
fn chart_helpers_indent_their_control_flow() {
    let mut found = Vec::new();
    for entry in WalkDir::new(root().join("heimdall/templates")).into_iter().filter_map(Result::ok) {
        let p = entry.path();
        if p.extension().is_some_and(|e| e == "tpl") {
            let rel = p.strip_prefix(root()).unwrap().display().to_string();
            found.extend(misindented_actions(&std::fs::read_to_string(p).unwrap()).into_iter().map(|m| format!("{rel} {m}")));
        }
    }
    assert!(found.is_empty(), "indent each `{{{{-` line two spaces per enclosing block: {found:#?}");
    let flat = "{{- define \"a\" -}}\n{{- if x }}\ntext\n    {{- else }}\n{{- end }}\n{{- end }}\n";
    assert_eq!(misindented_actions(flat), ["line 2: 0 spaces, want 2", "line 4: 4 spaces, want 2", "line 5: 0 spaces, want 2"]);
}

/// The rendered templates (not `_*.tpl` helpers) under `heimdall/templates`, relative to the chart.
fn rendered_templates() -> Vec<(String, String)> {
    let dir = root().join("heimdall/templates");
    let mut found = Vec::new();
    for entry in WalkDir::new(&dir).into_iter().filter_map(Result::ok) {
        let p = entry.path();
        let name = p.file_name().unwrap().to_string_lossy();
        if entry.file_type().is_file() && !name.starts_with('_') {
            found.push((p.strip_prefix(&dir).unwrap().display().to_string(), std::fs::read_to_string(p).unwrap()));
        }
    }
    found.sort();
    found
}

/// `file line N` for each `fail` outside `_validation.tpl` that is not a chart fault: values'
/// problems are recorded (heimdall.validation.record) so that one render lists them all; only a
/// fault in the chart's own files may fail at once, under a comment saying it is not a value.
fn stray_fails(file: &str, text: &str) -> Vec<String> {
    let fail = regex::Regex::new(r"\{\{-?\s*fail\b").unwrap();
    let lines: Vec<&str> = text.lines().collect();
    (0..lines.len())
        .filter(|&i| fail.is_match(lines[i]) && !(i > 0 && lines[i - 1].contains("not a value")))
        .map(|i| format!("{file} line {}", i + 1))
        .collect()
}

#[test]
fn every_template_validates_first_and_only_validation_fails() {
    let opening = "{{- include \"heimdall.validation.run\" . -}}";
    let late: Vec<String> =
        rendered_templates().into_iter().filter(|(_, text)| text.lines().next() != Some(opening)).map(|(f, _)| f).collect();
    assert!(late.is_empty(), "these templates do not open with `{opening}`, so a problem could surface alone: {late:?}");
    let mut stray = Vec::new();
    for entry in WalkDir::new(root().join("heimdall/templates")).into_iter().filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().to_string();
        if entry.file_type().is_file() && name != "_validation.tpl" {
            stray.extend(stray_fails(&name, &std::fs::read_to_string(entry.path()).unwrap()));
        }
    }
    assert!(stray.is_empty(), "record values' problems with heimdall.validation.record instead of fail: {stray:?}");
    let planted = "{{- if x }}\n  {{- fail \"x\" }}\n{{- end }}\n  {{- /* The chart's own file, not a value. */}}\n  {{- fail \"y\" }}\n";
    assert_eq!(stray_fails("t.tpl", planted), ["t.tpl line 2"], "the measure itself: a fail under the chart-fault comment passes");
}
