//! Refusal coverage: every problem a chart's validation can record is produced by some refusal.
//!
//! A chart that collects its problems through one recorder template (`recorder:` in
//! chart-harness.yaml) names each problem at a call of it, with a literal message or a `printf` of
//! one. Each call is a site; its message, with every `printf` verb read as "anything", is a pattern.
//! A site whose pattern matches no expected-failure case's error is a validator nothing reaches: a
//! defect that drops it (taken out of the collector, a condition that never holds) passes every case.

use anyhow::{bail, Context, Result};
use regex::Regex;
use std::path::Path;

/// One call of the recorder: where it is and the message it records.
#[derive(Debug, Clone)]
pub struct Site {
    /// `templates/_validation.tpl:92`.
    pub at: String,
    /// The message as the template writes it (a `printf` format or a literal).
    pub message: String,
    pattern: Regex,
}

impl Site {
    /// Whether `refusal` (a render's error output) carries this site's message.
    pub fn produced_by(&self, refusal: &str) -> bool {
        self.pattern.is_match(refusal)
    }
}

/// Every call of `recorder` in the chart's templates, in file and line order.
pub fn sites(chart: &Path, recorder: &str) -> Result<Vec<Site>> {
    let call = format!("include \"{recorder}\"");
    let mut files: Vec<_> = walkdir::WalkDir::new(chart.join("templates"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        let rel = file.strip_prefix(chart).unwrap_or(&file).display().to_string();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| l.contains(&call)) {
            let at = format!("{rel}:{}", n + 1);
            let message = recorded_message(line).with_context(|| format!("{at}: reading the message this call of {recorder} records"))?;
            out.push(Site { pattern: message_pattern(&message)?, at, message });
        }
    }
    Ok(out)
}

/// The sites no refusal in `refusals` produced.
pub fn unreached<'a>(sites: &'a [Site], refusals: &[String]) -> Vec<&'a Site> {
    sites.iter().filter(|s| !refusals.iter().any(|r| s.produced_by(r))).collect()
}

/// `sites` without those whose message starts with one of `cluster_only` (problems only a cluster
/// can produce); an entry that starts no site's message, or several, is an error naming it.
pub fn without_cluster_only(sites: Vec<Site>, cluster_only: &[String]) -> Result<Vec<Site>> {
    for entry in cluster_only {
        let starts = sites.iter().filter(|s| s.message.starts_with(entry.as_str())).count();
        if starts != 1 {
            bail!("clusterOnlyRefusals entry {entry:?} starts {starts} recorded messages, not one: write the start of one message as the template writes it");
        }
    }
    Ok(sites.into_iter().filter(|s| !cluster_only.iter().any(|e| s.message.starts_with(e.as_str()))).collect())
}

/// The message of a call written `"message" "literal"` or `"message" (printf "format" ...)`.
fn recorded_message(line: &str) -> Result<String> {
    let Some((_, rest)) = line.split_once("\"message\" ") else {
        bail!("no \"message\" argument on the call's line; write the call on one line");
    };
    let literal = rest.strip_prefix("(printf ").unwrap_or(rest);
    go_string(literal)
        .context("the message is neither a string literal nor a printf of one, so no check can tell whether a case produces it")
}

/// The Go string literal at the start of `text`, unescaped.
fn go_string(text: &str) -> Result<String> {
    let mut chars = text.strip_prefix('"').context("no string literal")?.chars();
    let mut out = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Ok(out),
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    bail!("the string literal does not end on its line")
}

/// `format` with each printf verb (`%s`, `%d`, `%q`, `%v`...) matching anything, and `%%` a percent sign.
fn message_pattern(format: &str) -> Result<Regex> {
    let verb = Regex::new(r"%[-+# 0-9.]*[a-zA-Z%]").expect("a valid pattern");
    let mut pattern = String::from("(?s)");
    let mut last = 0;
    for m in verb.find_iter(format) {
        pattern.push_str(&regex::escape(&format[last..m.start()]));
        pattern.push_str(if m.as_str() == "%%" { "%" } else { ".*?" });
        last = m.end();
    }
    pattern.push_str(&regex::escape(&format[last..]));
    Regex::new(&pattern).with_context(|| format!("the pattern made of {format:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORDER: &str = "chart.validation.record";

    fn chart(template: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        std::fs::write(dir.path().join("templates/_checks.tpl"), template).unwrap();
        dir
    }

    #[test]
    fn each_call_is_a_site_whose_printf_verbs_match_anything() {
        let dir = chart(concat!(
            "{{/* chart.validation.record is the recorder: this comment is no call */}}\n",
            "{{- include \"chart.validation.record\" (dict \"root\" $ \"message\" \"route.host is empty: set it\") }}\n",
            "{{- include \"chart.validation.record\" (dict \"root\" $ \"message\" (printf \"%s (%d) is \\\"odd\\\"; 100%% sure\" $a $b)) }}\n",
        ));
        let found = sites(dir.path(), RECORDER).unwrap();
        assert_eq!(found.iter().map(|s| s.at.as_str()).collect::<Vec<_>>(), ["templates/_checks.tpl:2", "templates/_checks.tpl:3"]);
        assert_eq!(found[1].message, "%s (%d) is \"odd\"; 100%% sure");
        assert!(found[1].produced_by("Error: 2 problems:\n1) replicaCount (3) is \"odd\"; 100% sure"));
        assert!(!found[1].produced_by("replicaCount (3) is odd"));
        let refusals = vec!["Error: execution error at (x): route.host is empty: set it".to_string()];
        assert_eq!(unreached(&found, &refusals).iter().map(|s| s.at.as_str()).collect::<Vec<_>>(), ["templates/_checks.tpl:3"]);
    }

    #[test]
    fn a_cluster_only_entry_must_start_exactly_one_message() {
        let dir = chart(concat!(
            "{{- include \"chart.validation.record\" (dict \"root\" $ \"message\" (printf \"Secret %s lacks keys\" $s)) }}\n",
            "{{- include \"chart.validation.record\" (dict \"root\" $ \"message\" \"route.host is empty\") }}\n",
        ));
        let found = sites(dir.path(), RECORDER).unwrap();
        let left = without_cluster_only(found.clone(), &["Secret %s lacks".into()]).unwrap();
        assert_eq!(left.iter().map(|s| s.message.as_str()).collect::<Vec<_>>(), ["route.host is empty"]);
        let stale = format!("{:#}", without_cluster_only(found, &["Secret %s was".into()]).unwrap_err());
        assert!(stale.contains("\"Secret %s was\" starts 0 recorded messages"), "{stale}");
    }

    #[test]
    fn a_message_no_check_can_read_is_an_error_naming_the_call() {
        let dir = chart("{{- include \"chart.validation.record\" (dict \"root\" $ \"message\" $message) }}\n");
        let error = format!("{:#}", sites(dir.path(), RECORDER).unwrap_err());
        assert!(error.contains("templates/_checks.tpl:1") && error.contains("neither a string literal"), "{error}");
    }
}
