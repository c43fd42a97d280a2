//! Where a long run's time goes: each phase's wall time, appended to the file `$XTASK_PHASES` names
//! (make test sets it) by whichever process ran the phase, and the table `cargo xtask phases` prints
//! from that file at the end. A report, never a check: nothing fails for being slow.

use std::io::Write;
use std::time::Duration;

/// The variable naming the file phases are appended to; unset, nothing is recorded.
pub const VARIABLE: &str = "XTASK_PHASES";

/// One line of the file: a top-level phase (depth 0, written by make test's steps) or a part of the
/// one that is running (depth 1, written by xtask), its wall time and whether it passed.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub depth: usize,
    pub name: String,
    pub took: Duration,
    pub passed: bool,
}

impl Phase {
    fn line(&self) -> String {
        let name = self.name.replace(['\t', '\n'], " ");
        format!("{}\t{name}\t{}\t{}\n", self.depth, self.took.as_millis(), if self.passed { 0 } else { 1 })
    }

    fn parse(line: &str) -> Option<Phase> {
        let mut fields = line.split('\t');
        let depth = fields.next()?.parse().ok()?;
        let name = fields.next()?.to_string();
        let took = Duration::from_millis(fields.next()?.trim().parse().ok()?);
        let passed = fields.next().is_none_or(|s| s.trim() == "0");
        Some(Phase { depth, name, took, passed })
    }
}

/// Appends a part of the running phase to the file, when one is named; a write that fails is
/// only said, since the table is a report.
pub fn record(name: &str, took: Duration, passed: bool) {
    let Some(path) = std::env::var_os(VARIABLE).filter(|p| !p.is_empty()) else { return };
    let line = Phase { depth: 1, name: name.to_string(), took, passed }.line();
    let written = std::fs::OpenOptions::new().create(true).append(true).open(&path).and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        eprintln!("phases: could not append to {}: {e}", std::path::Path::new(&path).display());
    }
}

/// The phases in the order they ran: a part is written when it ends, before the top-level phase it
/// belongs to, so each top-level phase is moved above the parts written since the one before it.
pub fn read(text: &str) -> Vec<Phase> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    for phase in text.lines().filter_map(Phase::parse) {
        if phase.depth == 0 {
            out.push(phase);
            out.append(&mut parts);
        } else {
            parts.push(phase);
        }
    }
    out.append(&mut parts);
    out
}

/// The table: one row a phase, parts indented below theirs, and the total of the top-level ones.
pub fn table(phases: &[Phase]) -> String {
    let width = phases.iter().map(|p| p.name.chars().count() + 2 * p.depth).max().unwrap_or(0).max(5);
    let mut out = format!("{:<width$}  {:>9}\n", "phase", "wall time");
    let mut total = Duration::ZERO;
    for p in phases {
        if p.depth == 0 {
            total += p.took;
        }
        let name = format!("{}{}", "  ".repeat(p.depth), p.name);
        let mark = if p.passed { "" } else { "  FAILED" };
        out.push_str(&format!("{name:<width$}  {:>9}{mark}\n", clock(p.took)));
    }
    out.push_str(&format!("{:<width$}  {:>9}\n", "total", clock(total)));
    out
}

/// `12:34` (minutes and seconds), or `1:02:03` past an hour.
fn clock(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_listed_under_their_phase_and_only_phases_add_up() {
        let text = "0\tsetup\t2000\t0\n1\tbuilds\t60000\t0\n1\tj. runs\t5000\t1\n0\te2e\t70000\t1\n0\tteardown\t500\n";
        let phases = read(text);
        let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["setup", "e2e", "builds", "j. runs", "teardown"]);
        let table = table(&phases);
        let rows: Vec<Vec<&str>> = table.lines().map(|l| l.split_whitespace().collect()).collect();
        assert!(table.lines().any(|l| l.starts_with("  builds ")), "a part is indented under its phase:\n{table}");
        assert!(rows.contains(&vec!["builds", "1:00"]), "{table}");
        assert!(rows.contains(&vec!["j.", "runs", "0:05", "FAILED"]), "{table}");
        assert_eq!(rows.last().unwrap(), &vec!["total", "1:13"], "parts are not added twice:\n{table}");
    }

    #[test]
    fn a_line_that_is_not_a_phase_is_left_out_and_hours_are_shown() {
        assert_eq!(read("garbage\n0\tx\tnot-a-number\n"), vec![]);
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }
}
