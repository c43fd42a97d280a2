//! `heimdall-migrate-values OLD-VALUES.yaml --out DIR`: the translation of `cargo xtask
//! migrate-values`, as a program of its own for users without a Rust toolchain.

use heimdall_migrate_values::{migrate_file, Map};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: heimdall-migrate-values OLD-VALUES.yaml --out DIR

Translates the values file given to mitre/heimdall-helm (chart 3.3.3, with -f) into
DIR/values.yaml and DIR/secrets.yaml (mode 0600) for this chart. Writes nothing, and
names every key, when a key needs a person's decision.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((from, out)) = parse(&args) else {
        eprintln!("{USAGE}");
        return ExitCode::from(if args.iter().any(|a| a == "--help" || a == "-h") { 0 } else { 2 });
    };
    match Map::built_in().and_then(|map| migrate_file(&map, &from, &out)) {
        Ok(notes) => {
            notes.iter().for_each(|n| println!("note: {n}"));
            println!(
                "wrote {0}/values.yaml and {0}/secrets.yaml (mode 0600): helm install ... -f {0}/values.yaml -f {0}/secrets.yaml",
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// The old values file and the --out folder, in either order; None unless both are given once.
fn parse(args: &[String]) -> Option<(PathBuf, PathBuf)> {
    let (mut from, mut out) = (None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--out" => out = Some(PathBuf::from(it.next()?)),
            s if s.starts_with("--out=") => out = Some(PathBuf::from(&s[6..])),
            s if s.starts_with('-') => return None,
            s if from.is_none() => from = Some(PathBuf::from(s)),
            _ => return None,
        }
    }
    Some((from?, out?))
}
