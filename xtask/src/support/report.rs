//! Reports: the summary table, JUnit XML and template coverage.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// What failed, and which check found it: a rule id (`HC003`), or one of the
/// harness's own checks (see [`checks`]). The mutation suite groups by `check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub check: &'static str,
    pub message: String,
}

impl Failure {
    pub fn new(check: &'static str, message: impl Into<String>) -> Self {
        Failure { check, message: message.into() }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check, self.message)
    }
}

/// What a row of the summary did: render a case, lint it, compare its snapshot, or one of the
/// run-wide checks. Printed (in the table and JUnit) as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Render,
    Lint,
    Snapshot,
    Stale,
    Coverage,
    Refusals,
    AppSource,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Render => "render",
            Step::Lint => "lint",
            Step::Snapshot => "snapshot",
            Step::Stale => "stale",
            Step::Coverage => "coverage",
            Step::Refusals => "refusals",
            Step::AppSource => "app-source",
        }
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// The harness's own checks, beside the rules' ids.
pub mod checks {
    /// `helm template` failed where the case expects a rendering.
    pub const RENDER: &str = "render";
    /// An expected-failure case rendered, or failed with another message.
    pub const EXPECT_FAILS: &str = "expect-fails";
    /// The output is not YAML, or a mapping repeats a key.
    pub const PARSE: &str = "parse";
    /// A document fails its Kubernetes (or CRD) schema.
    pub const SCHEMA: &str = "schema";
    /// A list the schema keys by name (env, ports, volumes...) repeats a key.
    pub const LIST_MAP: &str = "list-map";
    /// `helm lint --strict` failed.
    pub const LINT: &str = "lint";
    /// Helm versions or Kubernetes versions disagree after normalisation.
    pub const AGREEMENT: &str = "agreement";
    /// The normalised output differs from the reviewed snapshot.
    pub const SNAPSHOT: &str = "snapshot";
    /// A snapshot belongs to no case.
    pub const STALE: &str = "stale";
    /// A template produced no document in any case.
    pub const COVERAGE: &str = "coverage";
    /// A problem the chart's validation can record is produced by no expected-failure case.
    pub const REFUSALS: &str = "refusals";
    /// An entry of the case's `assert:` list does not hold.
    pub const ASSERT: &str = "assert";
    /// The chart's variable list or the served-paths list disagrees with the app's source.
    pub const APP_SOURCE: &str = "app-source";
    /// The harness could not run a step (a Helm binary missing, an I/O error).
    pub const HARNESS: &str = "harness";
    /// The harness's checks a planted defect may be caught by (snapshots are not a check: reviewers accept diffs).
    pub const CATCHING: &[&str] = &[RENDER, EXPECT_FAILS, PARSE, SCHEMA, LIST_MAP, LINT, AGREEMENT, COVERAGE, REFUSALS, APP_SOURCE, ASSERT];
}

/// One row of the summary: a render job, a lint or a case-level check.
#[derive(Debug, Clone)]
pub struct Row {
    pub case: String,
    pub helm: String,
    pub kube: String,
    pub step: Step,
    pub failures: Vec<Failure>,
    pub elapsed: Duration,
    /// The exact command that reproduces the step, when there is one.
    pub command: Option<String>,
}

impl Row {
    /// A row that has not failed yet.
    pub fn new(case: &str, helm: &str, kube: &str, step: Step) -> Self {
        Row { case: case.into(), helm: helm.into(), kube: kube.into(), step, failures: vec![], elapsed: Duration::ZERO, command: None }
    }

    pub fn fail(&mut self, check: &'static str, message: impl Into<String>) {
        self.failures.push(Failure::new(check, message));
    }

    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

pub fn table(rows: &[Row]) -> String {
    let w = rows.iter().map(|r| r.case.len()).max().unwrap_or(4).max(4);
    let mut out = format!("{:<w$}  {:<6}  {:<7}  {:<8}  {:<6}  {:>8}\n", "case", "helm", "kube", "step", "result", "time");
    for r in rows {
        out.push_str(&format!(
            "{:<w$}  {:<6}  {:<7}  {:<8}  {:<6}  {:>6}ms\n",
            r.case,
            r.helm,
            r.kube,
            r.step,
            if r.passed() { "ok" } else { "FAIL" },
            r.elapsed.as_millis()
        ));
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn junit(rows: &[Row]) -> String {
    let failures = rows.iter().filter(|r| !r.passed()).count();
    let total: f64 = rows.iter().map(|r| r.elapsed.as_secs_f64()).sum();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"test-chart\" tests=\"{}\" failures=\"{failures}\" time=\"{total:.3}\">\n",
        rows.len()
    );
    for r in rows {
        let name = xml_escape(&format!("{} [{} {} {}]", r.case, r.step, r.helm, r.kube));
        out.push_str(&format!(
            "    <testcase classname=\"test-chart.{}\" name=\"{name}\" time=\"{:.3}\"",
            xml_escape(&r.case),
            r.elapsed.as_secs_f64()
        ));
        if r.passed() {
            out.push_str("/>\n");
        } else {
            let mut body = r.failures.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            if let Some(c) = &r.command {
                body.push_str(&format!("\nreproduce: {c}"));
            }
            out.push_str(&format!(
                ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                xml_escape(r.failures[0].to_string().lines().next().unwrap_or("")),
                xml_escape(&body)
            ));
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Template files of the chart that can produce documents (not helpers, not NOTES.txt).
pub fn template_files(chart: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(chart.join("templates"))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.path().strip_prefix(chart).unwrap().to_string_lossy().replace('\\', "/"))
        .filter(|p| {
            let file = p.rsplit('/').next().unwrap_or("");
            !file.starts_with('_') && file != "NOTES.txt"
        })
        .collect();
    out.sort();
    out
}

/// Templates that produced no document in any rendering.
pub fn uncovered(templates: &[String], covered: &BTreeSet<String>) -> Vec<String> {
    templates.iter().filter(|t| !covered.contains(*t)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ok: bool) -> Row {
        Row {
            case: "a<b".into(),
            helm: "helm3".into(),
            kube: "1.30.0".into(),
            step: Step::Render,
            failures: if ok { vec![] } else { vec![Failure::new("HC001", "broken & bad")] },
            elapsed: Duration::from_millis(12),
            command: Some("helm template x".into()),
        }
    }

    #[test]
    fn junit_counts_and_escapes_failures() {
        let xml = junit(&[row(true), row(false)]);
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(xml.contains("HC001: broken &amp; bad") && xml.contains("a&lt;b"), "{xml}");
        assert!(xml.contains("reproduce: helm template x"), "{xml}");
    }

    #[test]
    fn coverage_names_templates_without_documents() {
        let covered: BTreeSet<String> = ["templates/a.yaml".to_string()].into();
        let all = vec!["templates/a.yaml".to_string(), "templates/b.yaml".to_string()];
        assert_eq!(uncovered(&all, &covered), vec!["templates/b.yaml"]);
    }

    #[test]
    fn table_marks_failures() {
        let t = table(&[row(false)]);
        assert!(t.contains("FAIL") && t.contains("12ms"), "{t}");
    }
}
