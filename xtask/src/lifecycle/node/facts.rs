//! The published images' documented facts (users, paths, entrypoints, signals) that the chart relies on, checked against the stand-in images built here: a stand-in that differed could hide a defect the published image would show.

use anyhow::{Context, Result};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// One documented fact about an image.
pub enum Fact {
    /// A field of the OCI config (`User`, `WorkingDir`, `StopSignal`, ...), as JSON text.
    Config(&'static str, &'static str),
    /// An `Env` entry, exactly.
    Env(&'static str),
    /// A path in the filesystem, with its owner and mode where they are documented.
    Path { path: &'static str, owner: Option<(u64, u64)>, mode: Option<u32> },
    /// A line that starts so in a file (e.g. the passwd entry).
    Line(&'static str, &'static str),
}

/// mitre/heimdall2 (its Dockerfile in the source archive, on UBI 9 nodejs-22-minimal), and what the
/// chart's start script needs of it.
pub const HEIMDALL: &[Fact] = &[
    Fact::Config("User", "\"1001\""),
    Fact::Config("WorkingDir", "\"/app\""),
    Fact::Config("Cmd", "[\"/usr/local/bin/cmd.sh\"]"),
    Fact::Config("ExposedPorts", "{\"3000/tcp\":{}}"),
    Fact::Env("NODE_ENV=production"),
    Fact::Env("HOME=/opt/app-root/src"),
    Fact::Path { path: "usr/local/bin/cmd.sh", owner: None, mode: None },
    Fact::Path { path: "app/apps/backend/node_modules/.bin/sequelize", owner: None, mode: None },
    Fact::Path { path: "app/apps/backend/dist/src/main.js", owner: Some((1001, 0)), mode: None },
    Fact::Path { path: "app/apps/backend/.sequelizerc", owner: Some((1001, 0)), mode: None },
    Fact::Path { path: "app/apps/backend/seeders/20200514154327-create-administrator.js", owner: Some((1001, 0)), mode: None },
    Fact::Path { path: "bin/sh", owner: None, mode: None },
];

/// postgres:17 (docker-library/postgres, 17/bookworm/Dockerfile).
pub const POSTGRES: &[Fact] = &[
    Fact::Config("Entrypoint", "[\"docker-entrypoint.sh\"]"),
    Fact::Config("Cmd", "[\"postgres\"]"),
    Fact::Config("StopSignal", "\"SIGINT\""),
    Fact::Config("ExposedPorts", "{\"5432/tcp\":{}}"),
    Fact::Env("PGDATA=/var/lib/postgresql/data"),
    Fact::Line("etc/passwd", "postgres:x:999:999:"),
    Fact::Path { path: "usr/local/bin/docker-entrypoint.sh", owner: None, mode: None },
    Fact::Path { path: "var/run/postgresql", owner: Some((999, 999)), mode: Some(0o3777) },
    Fact::Path { path: "var/lib/postgresql/data", owner: Some((999, 999)), mode: Some(0o1777) },
    Fact::Path { path: "usr/lib/postgresql/17/bin/pg_isready", owner: None, mode: None },
];

/// A file of an image: its header fields and, for small regular files, the text.
struct Entry {
    owner: (u64, u64),
    mode: u32,
    link: Option<String>,
    text: Option<String>,
}

/// The facts `archive` (an OCI layout tar) does not carry, each as a sentence.
pub fn differences(archive: &Path, facts: &[Fact]) -> Result<Vec<String>> {
    let (config, files) = read_image(archive).with_context(|| format!("reading the image {}", archive.display()))?;
    Ok(facts.iter().filter_map(|f| missing(f, &config["config"], &files)).collect())
}

fn missing(fact: &Fact, config: &Json, files: &BTreeMap<String, Entry>) -> Option<String> {
    match fact {
        Fact::Config(field, want) => {
            let have = config[*field].to_string();
            (have != *want).then(|| format!("config {field} is {have}, documented {want}"))
        }
        Fact::Env(want) => {
            let env = config["Env"].as_array().cloned().unwrap_or_default();
            (!env.iter().any(|e| e == want)).then(|| format!("Env lacks {want}"))
        }
        Fact::Path { path, owner, mode } => match resolve(files, path) {
            None => Some(format!("/{path} is missing")),
            Some(e) if owner.is_some_and(|o| o != e.owner) => {
                Some(format!("/{path} is owned {:?}, documented {:?}", e.owner, owner.unwrap()))
            }
            Some(e) if mode.is_some_and(|m| m != e.mode & 0o7777) => {
                Some(format!("/{path} has mode {:o}, documented {:o}", e.mode & 0o7777, mode.unwrap()))
            }
            Some(_) => None,
        },
        Fact::Line(path, start) => {
            let text = resolve(files, path).and_then(|e| e.text.as_deref()).unwrap_or("");
            (!text.lines().any(|l| l.starts_with(start))).then(|| format!("/{path} has no line starting {start:?}"))
        }
    }
}

/// The entry at `path`, following symbolic links in its folders (e.g. var/run → /run) and at its end.
fn resolve<'a>(files: &'a BTreeMap<String, Entry>, path: &str) -> Option<&'a Entry> {
    let mut resolved = String::new();
    for part in path.split('/') {
        resolved = if resolved.is_empty() { part.to_string() } else { format!("{resolved}/{part}") };
        for _ in 0..8 {
            let Some(target) = files.get(&resolved).and_then(|e| e.link.as_ref()) else { break };
            resolved = normalise(&match target.strip_prefix('/') {
                Some(absolute) => absolute.to_string(),
                None => match resolved.rsplit_once('/') {
                    Some((dir, _)) => format!("{dir}/{target}"),
                    None => target.clone(),
                },
            });
        }
    }
    files.get(&resolved)
}

/// `a/b/../c/./d` as `a/c/d`.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

/// The image's config and its files, the layers applied in order (whiteouts remove).
fn read_image(archive: &Path) -> Result<(Json, BTreeMap<String, Entry>)> {
    let blobs = blobs(archive)?;
    let blob = |digest: &str| blobs.get(digest.trim_start_matches("sha256:")).with_context(|| format!("blob {digest} is missing"));
    let index: Json = serde_json::from_slice(blobs.get("index.json").context("no index.json")?)?;
    let manifest: Json = serde_json::from_slice(blob(index["manifests"][0]["digest"].as_str().unwrap_or(""))?)?;
    let config: Json = serde_json::from_slice(blob(manifest["config"]["digest"].as_str().unwrap_or(""))?)?;
    let mut files = BTreeMap::new();
    for layer in manifest["layers"].as_array().into_iter().flatten() {
        apply_layer(blob(layer["digest"].as_str().unwrap_or(""))?, &mut files)?;
    }
    Ok((config, files))
}

/// Every blob of the OCI layout tar by its hex digest, and index.json.
fn blobs(archive: &Path) -> Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut tar = tar::Archive::new(std::fs::File::open(archive)?);
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().trim_start_matches("./").to_string();
        let name = path.rsplit('/').next().unwrap_or("").to_string();
        if path == "index.json" || path.starts_with("blobs/sha256/") {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            out.insert(if path == "index.json" { path } else { name }, bytes);
        }
    }
    Ok(out)
}

fn apply_layer(gzipped: &[u8], files: &mut BTreeMap<String, Entry>) -> Result<()> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(gzipped));
    for entry in tar.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.to_string_lossy().trim_start_matches("./").trim_end_matches('/').to_string();
        if let Some(gone) = path.rsplit('/').next().and_then(|n| n.strip_prefix(".wh.")) {
            let dir = path.rsplit_once('/').map(|(d, _)| format!("{d}/")).unwrap_or_default();
            files.remove(&format!("{dir}{gone}"));
            continue;
        }
        let header = entry.header();
        let (owner, mode) = ((header.uid()?, header.gid()?), header.mode()?);
        let link = entry.link_name()?.filter(|_| header.entry_type().is_symlink()).map(|l| l.to_string_lossy().into_owned());
        let mut text = None;
        if header.entry_type().is_file() && header.size()? < 64 * 1024 {
            let mut s = String::new();
            if entry.read_to_string(&mut s).is_ok() {
                text = Some(s);
            }
        }
        files.insert(path, Entry { owner, mode, link, text });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(owner: (u64, u64), mode: u32, link: Option<&str>, text: Option<&str>) -> Entry {
        Entry { owner, mode, link: link.map(str::to_string), text: text.map(str::to_string) }
    }

    #[test]
    fn paths_resolve_through_folder_links_and_owners_and_modes_are_compared() {
        let files = BTreeMap::from([
            ("var/run".to_string(), entry((0, 0), 0o777, Some("/run"), None)),
            ("app/node_modules/.bin/tool".to_string(), entry((0, 0), 0o777, Some("../tool/lib/main"), None)),
            ("app/node_modules/tool/lib/main".to_string(), entry((0, 0), 0o755, None, None)),
            ("run/postgresql".to_string(), entry((999, 999), 0o43777, None, None)),
            (
                "etc/passwd".to_string(),
                entry((0, 0), 0o644, None, Some("root:x:0:0:\npostgres:x:999:999::/var/lib/postgresql:/bin/bash\n")),
            ),
        ]);
        let config = serde_json::json!({"StopSignal": "SIGINT", "Env": ["PGDATA=/var/lib/postgresql/data"]});
        let ok = [
            Fact::Path { path: "var/run/postgresql", owner: Some((999, 999)), mode: Some(0o3777) },
            Fact::Path { path: "app/node_modules/.bin/tool", owner: None, mode: None },
            Fact::Line("etc/passwd", "postgres:x:999:999:"),
        ];
        for f in &ok {
            assert_eq!(missing(f, &config, &files), None);
        }
        let wrong_mode = Fact::Path { path: "var/run/postgresql", owner: Some((999, 999)), mode: Some(0o2775) };
        assert!(missing(&wrong_mode, &config, &files).unwrap().contains("mode 3777, documented 2775"));
        let wrong_owner = Fact::Path { path: "run/postgresql", owner: Some((1001, 0)), mode: None };
        assert!(missing(&wrong_owner, &config, &files).unwrap().contains("owned (999, 999)"));
        assert!(missing(&Fact::Path { path: "usr/bin/psql", owner: None, mode: None }, &config, &files).unwrap().contains("missing"));
        assert!(missing(&Fact::Config("StopSignal", "\"SIGTERM\""), &config, &files).is_some());
        assert!(missing(&Fact::Env("PGDATA=/pgdata"), &config, &files).is_some());
        assert!(missing(&Fact::Line("etc/passwd", "heimdall:x:1001"), &config, &files).is_some());
    }
}
