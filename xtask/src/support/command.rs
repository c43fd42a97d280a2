//! A command run to completion: its argv, captured output and status, and the shell line that reproduces it.

use anyhow::{Context, Result};
use std::process::Command;
use std::time::{Duration, Instant};

/// One run of a command.
#[derive(Debug, Clone)]
pub struct Run {
    pub argv: Vec<String>,
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
    pub elapsed: Duration,
}

impl Run {
    /// The exact command line, quoted for a POSIX shell.
    pub fn command_line(&self) -> String {
        command_line(&self.argv)
    }
}

/// `argv` quoted for a POSIX shell.
pub fn command_line(argv: &[String]) -> String {
    argv.iter().map(|a| shell_quote(a)).collect::<Vec<_>>().join(" ")
}

pub fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Runs `argv` with extra environment variables and captures everything.
pub fn run_with_env(argv: Vec<String>, env: &[(&str, &std::ffi::OsStr)]) -> Result<Run> {
    let start = Instant::now();
    let out =
        Command::new(&argv[0]).args(&argv[1..]).envs(env.iter().copied()).output().with_context(|| format!("starting {}", argv[0]))?;
    Ok(Run {
        argv,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        success: out.status.success(),
        elapsed: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_round_trips_awkward_arguments() {
        assert_eq!(shell_quote("--set"), "--set");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
