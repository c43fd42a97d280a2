//! The mutation suite on a small scale: a caught, a surviving and a stale mutant against one case, and the working tree left as it was.

use heimdall_chart_tests::repo_root;
use std::collections::BTreeMap;
use std::path::Path;
use xtask::tasks::mutants::{self, Fate};
use xtask::tasks::testchart::Options;

/// Every file below `dir` with its contents.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().display().to_string(), std::fs::read(e.path()).unwrap()))
        .collect()
}

fn write_mutant(dir: &Path, name: &str, template: &str, find: &str, replace: &str, caught_by: &str) {
    let text = format!("defect: {name}\ntemplate: {template}\ncaughtBy: [{caught_by}]\nfind: {find:?}\nreplace: {replace:?}\n");
    std::fs::write(dir.join(format!("{name}.yaml")), text).unwrap();
}

#[test]
fn caught_survived_and_stale_mutants_are_told_apart_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    // A label dropped from every object: HC009 catches it.
    write_mutant(dir.path(), "a-label-dropped", "templates/_helpers.tpl", "app.kubernetes.io/part-of: heimdall\n", "", "HC009");
    // A reworded NOTES line only changes the snapshot, which the suite does not count as a check.
    write_mutant(
        dir.path(),
        "b-notes-reworded",
        "templates/NOTES.txt",
        "Read the first admin's password",
        "Read the admin password",
        "HC005",
    );
    // A find text the template does not hold.
    write_mutant(dir.path(), "c-stale", "templates/secret.yaml", "no such text", "x", "HC006");
    let chart_before = tree(&repo_root().join("heimdall"));
    let snapshots_before = tree(&repo_root().join("tests/snapshots"));

    let mut opts = Options::new(repo_root());
    opts.filter = Some("defaults".into());
    let mut lines = Vec::new();
    let summary = mutants::run(&opts, dir.path(), None, |m, fate| lines.push(mutants::line(m, fate))).expect("the suite runs");

    let fates: BTreeMap<&str, &Fate> = summary.fates.iter().map(|(m, f)| (m.name.as_str(), f)).collect();
    assert!(matches!(fates["a-label-dropped"], Fate::Caught(by) if by.keys().eq(["HC009"].iter())), "{fates:#?}");
    assert_eq!(fates["b-notes-reworded"], &Fate::Survived);
    assert!(matches!(fates["c-stale"], Fate::Stale(why) if why.contains("occurs 0 times in templates/secret.yaml")), "{fates:#?}");
    assert_eq!(mutants::totals(&summary), "1 caught, 1 survived, 1 stale");
    assert!(!summary.passed());
    assert!(lines[0].starts_with("caught") && lines[0].contains("by HC009 ("), "{lines:#?}");
    assert!(lines[1].starts_with("SURVIVED") && lines[1].contains("b-notes-reworded"), "{lines:#?}");
    assert!(lines[2].starts_with("STALE"), "{lines:#?}");
    // A partial run checks declarations only: the caught mutant declared what caught it.
    assert!(summary.problems.is_empty(), "{:#?}", summary.problems);

    assert!(tree(&repo_root().join("heimdall")) == chart_before, "the suite changed heimdall/");
    assert!(tree(&repo_root().join("tests/snapshots")) == snapshots_before, "the suite wrote snapshots");
}

#[test]
fn a_mutant_caught_by_other_checks_than_it_declares_is_a_problem() {
    let dir = tempfile::tempdir().unwrap();
    write_mutant(dir.path(), "label-dropped", "templates/_helpers.tpl", "app.kubernetes.io/part-of: heimdall\n", "", "HC010");
    let mut opts = Options::new(repo_root());
    opts.filter = Some("defaults".into());
    let summary = mutants::run(&opts, dir.path(), None, |_, _| {}).expect("the suite runs");
    assert_eq!(summary.caught(), 1);
    assert!(summary.problems.iter().any(|p| p.contains("caught by HC009, but it declares caughtBy [HC010]")), "{:#?}", summary.problems);
    assert!(!summary.passed());
}
