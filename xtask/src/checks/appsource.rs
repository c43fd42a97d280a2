//! What the Heimdall server's own source says it reads and serves (from the archive HEIMDALL_SOURCE names), compared with the two lists the chart and the rules trust: the variable list `heimdall/files/variables.yaml` and the served paths `tests/app/served-paths.yaml`. A disagreement names the list and the source file and line.

use anyhow::{Context, Result};
use regex::Regex;
use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

/// The served-paths list, relative to the repository root.
pub const SERVED_PATHS: &str = "tests/app/served-paths.yaml";

/// The server's source files (TypeScript and JavaScript under apps/backend, tests and specs left out),
/// by their path in the archive.
pub struct Source {
    files: BTreeMap<String, String>,
}

impl Source {
    /// Reads the server's files from the gzipped tar of the Heimdall source.
    pub fn read(archive: &Path) -> Result<Source> {
        let file = std::fs::File::open(archive).with_context(|| format!("opening the Heimdall source archive {}", archive.display()))?;
        let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let mut files = BTreeMap::new();
        for entry in tar.entries().with_context(|| format!("reading {}", archive.display()))? {
            let mut entry = entry?;
            let path = entry.path()?.to_string_lossy().trim_start_matches("./").to_string();
            if is_server_code(&path) {
                let mut text = String::new();
                entry.read_to_string(&mut text).with_context(|| format!("reading {path} in {}", archive.display()))?;
                files.insert(path, text);
            }
        }
        anyhow::ensure!(
            files.keys().any(|p| p.ends_with("app.module.ts")),
            "{} holds no apps/backend/src/app.module.ts: is it the heimdall2 source?",
            archive.display()
        );
        Ok(Source { files })
    }

    #[cfg(test)]
    pub fn from_files(files: &[(&str, &str)]) -> Source {
        Source { files: files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect() }
    }

    /// Each environment variable the server reads (`configService.get('X')`, `process.env.X`,
    /// `process.env['X']`, the seeders' `envConfig.X`), with every "file:line" that reads it.
    pub fn variable_reads(&self) -> BTreeMap<String, Vec<String>> {
        let read = Regex::new(r#"\.get\(\s*['"]([A-Z][A-Z0-9_]+)['"]|process\.env\.([A-Z][A-Z0-9_]+)|process\.env\[\s*['"]([A-Z][A-Z0-9_]+)['"]|envConfig\.([A-Z][A-Z0-9_]+)"#)
            .expect("the pattern is valid");
        let mut reads: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (path, text) in &self.files {
            for c in read.captures_iter(text) {
                let name = c.iter().skip(1).flatten().next().map(|m| m.as_str().to_string()).unwrap_or_default();
                let at = c.get(0).map_or(0, |m| m.start());
                reads.entry(name).or_default().push(format!("{path}:{}", line_of(text, at)));
            }
        }
        reads
    }

    /// Each GET path a controller serves ("/" + controller prefix + method path), with its "file:line"
    /// and whether a guard (`@UseGuards`) stands on the controller or the method.
    pub fn get_routes(&self) -> BTreeMap<String, (String, bool)> {
        let controller = Regex::new(r#"@Controller\(\s*(?:['"]([^'"]*)['"])?\s*\)"#).expect("valid");
        let get = Regex::new(r#"@Get\(\s*(?:['"]([^'"]*)['"])?\s*\)"#).expect("valid");
        let mut routes = BTreeMap::new();
        for (path, text) in self.files.iter().filter(|(p, _)| p.ends_with(".controller.ts")) {
            let Some(c) = controller.captures(text) else { continue };
            let prefix = c.get(1).map_or("", |m| m.as_str());
            let class_start = c.get(0).map_or(0, |m| m.start());
            let class_guarded = text[class_start..].split("export class").next().is_some_and(|head| head.contains("@UseGuards"));
            for g in get.captures_iter(text) {
                let at = g.get(0).map_or(0, |m| m.start());
                let route = join_route(prefix, g.get(1).map_or("", |m| m.as_str()));
                let guarded = class_guarded || decorators_around(text, at).contains("@UseGuards");
                routes.insert(route, (format!("{path}:{}", line_of(text, at)), guarded));
            }
        }
        routes
    }

    /// Where the server serves its frontend's files (ServeStaticModule), which answers "/" and, through
    /// its render path, any path no controller takes.
    pub fn static_frontend(&self) -> Option<String> {
        self.files.iter().find_map(|(path, text)| text.find("ServeStaticModule.forRoot").map(|at| format!("{path}:{}", line_of(text, at))))
    }
}

fn is_server_code(path: &str) -> bool {
    path.starts_with("apps/backend/")
        && (path.ends_with(".ts") || path.ends_with(".js"))
        && !path.contains("/node_modules/")
        && !path.contains("/test/")
        && !path.ends_with(".spec.ts")
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count() + 1
}

fn join_route(prefix: &str, method: &str) -> String {
    let parts: Vec<&str> = [prefix, method].iter().flat_map(|p| p.split('/')).filter(|p| !p.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

/// The decorator lines stacked around the decorator at `byte` (those above it and below it, up to
/// the method itself).
fn decorators_around(text: &str, byte: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let at = line_of(text, byte) - 1;
    let is_decorator = |l: &&&str| l.trim_start().starts_with('@');
    let above = lines[..at].iter().rev().take_while(is_decorator);
    let below = lines[at..].iter().take_while(is_decorator);
    above.chain(below).copied().collect::<Vec<_>>().join("\n")
}

/// The variable list's classes, its `notOffered` names (read by the server, deliberately not passed)
/// and its `readElsewhere` names (listed, but read by Node.js, OpenSSL or yarn, not the server).
struct VariableList {
    listed: BTreeSet<String>,
    not_offered: BTreeSet<String>,
    read_elsewhere: BTreeSet<String>,
}

impl VariableList {
    fn load(chart: &Path) -> Result<VariableList> {
        let path = chart.join("files/variables.yaml");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let doc: Value = serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let keys = |k: &str| doc[k].as_mapping().into_iter().flatten().filter_map(|(k, _)| k.as_str().map(str::to_string)).collect();
        Ok(VariableList {
            listed: crate::checks::rules::variables::load(chart)?,
            not_offered: keys("notOffered"),
            read_elsewhere: keys("readElsewhere"),
        })
    }
}

/// Every disagreement between the variable list and the source: a read the list lacks, a listed name
/// nothing reads, and stale `notOffered` / `readElsewhere` entries.
pub fn variables_disagree(chart: &Path, source: &Source) -> Result<Vec<String>> {
    let list = VariableList::load(chart)?;
    let reads = source.variable_reads();
    let file = "heimdall/files/variables.yaml";
    let mut out = Vec::new();
    for (name, at) in &reads {
        if !list.listed.contains(name) && !list.not_offered.contains(name) {
            out.push(format!("{} reads {name}, which {file} lists in no class (nor under notOffered): add it", at.join(", ")));
        }
        if list.read_elsewhere.contains(name) {
            out.push(format!("{file} says under readElsewhere that the server does not read {name}, but {} does", at.join(", ")));
        }
    }
    for name in list.listed.iter().filter(|n| !reads.contains_key(*n) && !list.read_elsewhere.contains(*n)) {
        out.push(format!("{file} lists {name}, which the server's source never reads (apps/backend: no get('{name}'), process.env.{name} or envConfig.{name}): remove it, or say under readElsewhere what reads it"));
    }
    for name in list.not_offered.iter().filter(|n| !reads.contains_key(*n)) {
        out.push(format!("{file} lists {name} under notOffered, but the server's source never reads it: remove the entry"));
    }
    Ok(out)
}

/// The served-paths list: each path with the reason it gives.
pub fn served_paths(repo: &Path) -> Result<BTreeMap<String, String>> {
    let path = repo.join(SERVED_PATHS);
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: Value = serde_yaml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    let entries = doc.as_sequence().with_context(|| format!("{} is not a list of {{path, why}}", path.display()))?;
    entries
        .iter()
        .map(|e| {
            let p = e["path"].as_str().with_context(|| format!("{}: an entry has no path", path.display()))?;
            Ok((p.to_string(), e["why"].as_str().unwrap_or_default().to_string()))
        })
        .collect()
}

/// Every served-paths entry the source does not back: "/" needs the static frontend; any other path a
/// controller's unguarded GET route.
pub fn paths_disagree(repo: &Path, source: &Source) -> Result<Vec<String>> {
    let routes = source.get_routes();
    let mut out = Vec::new();
    for path in served_paths(repo)?.keys() {
        match (path.as_str(), routes.get(path)) {
            ("/", _) if source.static_frontend().is_some() => {}
            (_, Some((_, false))) => {}
            (_, Some((at, true))) => {
                out.push(format!("{SERVED_PATHS} lists {path}, but {at} serves it only behind a guard (a session or API key)"))
            }
            (_, None) => {
                let unguarded: Vec<&str> = routes.iter().filter(|(_, (_, g))| !g).map(|(r, _)| r.as_str()).collect();
                out.push(format!(
                    "{SERVED_PATHS} lists {path}, which no controller of the server serves (unguarded GET routes: {})",
                    unguarded.join(", ")
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str =
        "@Controller()\n@UseInterceptors(LoggingInterceptor)\nexport class AppController {\n  @Get('/server')\n  info() {}\n}\n";
    const KEYS: &str =
        "@Controller('apikeys')\nexport class K {\n  @UseGuards(JwtAuthGuard)\n  @Get()\n  all() {}\n  @Get(':id')\n  one() {}\n}\n";

    #[test]
    fn routes_are_joined_with_their_line_and_guard() {
        let source = Source::from_files(&[("apps/backend/src/app.controller.ts", APP), ("apps/backend/src/k.controller.ts", KEYS)]);
        let routes = source.get_routes();
        assert_eq!(routes["/server"], ("apps/backend/src/app.controller.ts:4".to_string(), false));
        assert_eq!(routes["/apikeys"], ("apps/backend/src/k.controller.ts:4".to_string(), true));
        assert_eq!(routes["/apikeys/:id"], ("apps/backend/src/k.controller.ts:6".to_string(), false));
    }

    #[test]
    fn every_form_of_read_is_found_with_its_line() {
        let text = "a = this.configService.get(\n  'LDAP_HOST'\n);\nb = process.env.NODE_ENV;\nc = process.env['PORT'];\nd = envConfig.ADMIN_PASSWORD;\n";
        let reads = Source::from_files(&[("apps/backend/src/x.ts", text)]).variable_reads();
        let names: Vec<&str> = reads.keys().map(String::as_str).collect();
        assert_eq!(names, ["ADMIN_PASSWORD", "LDAP_HOST", "NODE_ENV", "PORT"]);
        assert_eq!(reads["LDAP_HOST"], ["apps/backend/src/x.ts:1"]);
        assert_eq!(reads["PORT"], ["apps/backend/src/x.ts:5"]);
    }
}
