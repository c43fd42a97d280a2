//! `cargo xtask fuzz`: value sets generated from the chart's values schema ([`generate`]), each rendered by Helm 3 and Helm 4 and judged by an oracle the chart did not write, the API server. For every set one of these must hold: the chart refuses it with a message that names one of the set's values, or the API server accepts every rendered object in a server-side dry run (strict field validation) on the built-in control plane, CRDs installed. A Go template error, a YAML error or an object the API server refuses fails the set; proptest shrinks it to the fewest, simplest values that still fail, printed as a `--set-json` line and as a case file.
//!
//! Before the sets, three oracles run once on the same plane: values at their boundaries
//! ([`boundaries`]), upgrades from one set of values to another ([`upgrades`]), and the globals
//! against the values they stand for ([`precedence`]). `--mutants` then plants the fuzz mutants.

use crate::checks::refusals::Site;
use crate::engine::config::Config;
use crate::engine::generate::{self, Knob, Set};
use crate::support::cluster::Cluster;
use crate::support::manifest;
use crate::support::tools::{self, Helm};
use crate::tasks::e2e::served;
use anyhow::{bail, ensure, Context, Result};
use proptest::test_runner::{Config as RunnerConfig, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use serde_json::{json, Value as Json};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod boundaries;
mod precedence;
mod upgrades;

/// How a fuzz run is asked for.
pub struct FuzzOptions {
    /// Sets per batch; `make test` runs one batch.
    pub cases: u32,
    pub seed: u64,
    /// Keep running batches (seed, seed + 1, ...) until this much time has passed.
    pub time: Option<Duration>,
    /// The most values one set gives.
    pub most: usize,
    /// List every failing set of a batch (unshrunk) instead of stopping at the first.
    pub survey: bool,
    /// Then plant each fuzz mutant and require the oracle it names to catch it ([`run_mutants`]).
    pub mutants: bool,
}

/// The release and namespace every set renders as.
const RELEASE: &str = "fuzz";
const NAMESPACE: &str = "xtask-fuzz";

/// Runs the sets; fails with the first failing set, shrunk.
pub fn run(options: &FuzzOptions) -> Result<()> {
    let config = Config::at_root(&tools::repo_root())?;
    let knobs = knobs_of(&config.chart)?;
    tools::setup(false)?;
    let helms = tools::find_helms(None)?;
    for helm in &helms {
        crate::engine::renderd::enable(helm, 1);
    }
    let mut served = served::start_served(&control_plane_only(), true, false)?;
    let cluster = Cluster::from_kubeconfig(&served.kubeconfig, Some(&served.context))?;
    cluster.create("/api/v1/namespaces", &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}))?;
    // The plane runs no controller manager to make it, and Pod admission looks the account up.
    let account = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}});
    cluster.create(&format!("/api/v1/namespaces/{NAMESPACE}/serviceaccounts"), &account)?;
    let work = crate::support::scratch::folder("xtask-fuzz-")?;
    let chart = work.path().join("chart");
    crate::engine::render::copy_chart(&config.chart, &chart, &config.local_files)?;
    let names = value_names(&knobs);
    let sites = match &config.recorder {
        Some(recorder) => crate::checks::refusals::sites(&config.chart, recorder)?,
        None => Vec::new(),
    };
    let work = work.path().to_path_buf();
    let (kubeconfig, context) = (served.kubeconfig.clone(), served.context.clone());
    let oracle =
        Oracle { cluster, helms, chart, work, kubeconfig, context, names, sites, kinds: Mutex::default(), tally: Mutex::default() };
    let began = Instant::now();
    let reach = boundaries::check(&oracle, &knobs)?;
    println!("fuzz: {reach} ({:.0} s)", began.elapsed().as_secs_f64());
    let began = Instant::now();
    let moves = upgrades::check(&oracle, &knobs, options.cases / 8, options.seed)?;
    println!("fuzz: {moves} ({:.0} s)", began.elapsed().as_secs_f64());
    let pairs = precedence::check(&oracle, &knobs, &config.globals)?;
    println!("fuzz: precedence: {pairs} global values against the values they stand for, each as documented");
    let began = Instant::now();
    let mut seed = options.seed;
    loop {
        batch(&oracle, &knobs, options, seed)?;
        if options.time.is_none_or(|t| began.elapsed() >= t) {
            break;
        }
        seed += 1;
    }
    println!("{}", oracle.tally.lock().unwrap().summary(&knobs, &oracle.sites, seed - options.seed + 1, began.elapsed()));
    if options.mutants {
        run_mutants(&oracle, &config, &config.tests.join("mutants").join("fuzz"))?;
    }
    served::stop_served(&mut served)
}

/// The oracles a fuzz mutant may name as the one that catches it.
const ORACLES: [&str; 3] = ["boundaries", "upgrades", "precedence"];

/// Plants each mutant under `dir` into the chart copy in turn, runs the oracle it names (`caughtBy`),
/// and fails unless that oracle fails: a defect only these oracles can see (no case gives the value
/// that shows it) proves each one still looks. The knobs are read again from the planted chart: a
/// mutant may change the schema or the defaults.
fn run_mutants(oracle: &Oracle, config: &Config, dir: &Path) -> Result<()> {
    for mutant in crate::tasks::mutants::load(dir)? {
        let named: Vec<&str> = mutant.spec.caught_by.iter().map(String::as_str).collect();
        let [by] = named[..] else { bail!("fuzz mutant {}: caughtBy names one oracle of {ORACLES:?}", mutant.name) };
        ensure!(ORACLES.contains(&by), "fuzz mutant {}: caughtBy names {by:?}, which is no fuzz oracle ({ORACLES:?})", mutant.name);
        if let Some(why) = crate::tasks::mutants::staleness(&oracle.chart, &mutant.spec) {
            bail!("fuzz mutant {} is stale: {why}", mutant.name);
        }
        let path = oracle.chart.join(&mutant.spec.template);
        let original = std::fs::read_to_string(&path)?;
        std::fs::write(&path, original.replacen(&mutant.spec.find, &mutant.spec.replace, 1))?;
        let knobs = knobs_of(&oracle.chart)?;
        let caught = match by {
            "boundaries" => boundaries::check(oracle, &knobs).err(),
            "upgrades" => upgrades::check(oracle, &knobs, 0, 1).err(),
            _ => precedence::check(oracle, &knobs, &config.globals).err(),
        };
        std::fs::write(&path, original)?;
        match caught {
            Some(why) => {
                println!("caught    {:<40} by {by}: {}", mutant.name, format!("{why:#}").lines().nth(1).unwrap_or_default().trim())
            }
            None => bail!(
                "fuzz mutant {} survived: {by} did not catch it ({})\nreproduce: cargo xtask fuzz --cases 1 --mutants",
                mutant.name,
                mutant.spec.defect
            ),
        }
    }
    Ok(())
}

/// The built-in control plane without a node: dry runs need no pod.
fn control_plane_only() -> crate::tasks::e2e::Options {
    crate::tasks::e2e::Options {
        helm: None,
        heimdall_source: None,
        filter: None,
        ready_timeout: Duration::from_secs(60),
        chart: None,
        helm_major: None,
    }
}

/// The chart's knobs: its schema's leaf values, with its defaults.
fn knobs_of(chart: &Path) -> Result<Vec<Knob>> {
    let schema: Json = serde_json::from_str(&std::fs::read_to_string(chart.join("values.schema.json"))?)?;
    let defaults: Json = serde_yaml::from_str(&std::fs::read_to_string(chart.join("values.yaml"))?)?;
    Ok(generate::knobs(&schema, &defaults))
}

/// One proptest run of `options.cases` sets from `seed`; the shrunk failure, if one fails.
fn batch(oracle: &Oracle, knobs: &[Knob], options: &FuzzOptions, seed: u64) -> Result<()> {
    let mut runner = seeded_runner(options.cases, seed);
    let failed = Mutex::new(Vec::new());
    let result = runner.run(&generate::sets(knobs, options.most), |set| match oracle.judge(knobs, &set) {
        Err(e) if options.survey => {
            failed.lock().unwrap().push(format!(
                "{}\n  {}",
                generate::set_line(&generate::chosen(knobs, &set)),
                format!("{e:#}").lines().next().unwrap_or_default()
            ));
            Ok(())
        }
        judged => judged.map_err(|e| TestCaseError::fail(format!("{e:#}"))),
    });
    let failed = failed.into_inner().unwrap();
    ensure!(failed.is_empty(), "{} of {} sets failed (seed {seed}):\n{}", failed.len(), options.cases, failed.join("\n"));
    match result {
        Ok(()) => Ok(()),
        Err(TestError::Fail(why, set)) => bail!("{}", failure_report(knobs, &set, &why.to_string(), seed)),
        Err(TestError::Abort(why)) => bail!("the fuzz run stopped: {why}"),
    }
}

/// A proptest runner of `cases` cases whose draws depend on `seed` alone (no failure file).
fn seeded_runner(cases: u32, seed: u64) -> TestRunner {
    let config = RunnerConfig { cases, failure_persistence: None, ..RunnerConfig::default() };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes))
}

/// The shrunk failing set: what failed, the `--set-json` line that reproduces it, and a case file.
fn failure_report(knobs: &[Knob], set: &Set, why: &str, seed: u64) -> String {
    let chosen = generate::chosen(knobs, set);
    let values = serde_yaml::to_string(&generate::values_document(knobs, set)).unwrap_or_default();
    let case: String = values.lines().map(|l| format!("  {l}\n")).collect();
    format!(
        "a generated value set fails (seed {seed}, shrunk to {} value(s)):\n{why}\nreproduce: helm template {RELEASE} heimdall --namespace {NAMESPACE} {}\nas a case (tests/cases/...yaml):\ndescription: found by cargo xtask fuzz --seed {seed}\nvalues:\n{case}expect: renders\n",
        chosen.len(),
        generate::set_line(&chosen)
    )
}

/// What the sets reached, for the closing line.
#[derive(Default)]
struct Tally {
    sets: usize,
    refused: usize,
    dry_runs: usize,
    knobs: HashSet<usize>,
    /// Indexes of the chart's validation sites a refusal produced.
    validators: BTreeSet<usize>,
}

impl Tally {
    fn summary(&self, knobs: &[Knob], sites: &[Site], batches: u64, took: Duration) -> String {
        format!(
            "fuzz: {} sets in {batches} batch(es), {:.0} s: {} refused by the chart naming a value, {} objects accepted by server-side dry runs; {} of {} values touched; {} of {} validators reached (test-chart's refusals check holds a case to each)",
            self.sets,
            took.as_secs_f64(),
            self.refused,
            self.dry_runs,
            self.knobs.len(),
            knobs.len(),
            self.validators.len(),
            sites.len(),
        )
    }
}

/// Renders a set under each Helm and judges it.
struct Oracle {
    cluster: Cluster,
    helms: Vec<Helm>,
    chart: PathBuf,
    work: PathBuf,
    /// The control plane, for the real upgrades.
    kubeconfig: PathBuf,
    context: String,
    /// What a refusal may call a value ([`value_names`]).
    names: Vec<String>,
    /// The problems the chart's validation can record, for the validators a refusal reached.
    sites: Vec<Site>,
    /// apiVersion/kind → the API path of its collection in the namespace, from discovery.
    kinds: Mutex<HashMap<String, String>>,
    tally: Mutex<Tally>,
}

/// What one Helm made of a values document: its objects, or the chart's refusal (which names a value).
enum Rendered {
    Objects(Vec<Json>),
    Refused,
}

impl Oracle {
    fn judge(&self, knobs: &[Knob], set: &Set) -> Result<()> {
        let values = generate::values_document(knobs, set);
        let mut objects: Vec<Json> = Vec::new();
        let mut refused = false;
        for helm in &self.helms {
            match self.rendered(helm, &values, "values.json")? {
                Rendered::Objects(rendered) => objects.extend(rendered),
                Rendered::Refused => refused = true,
            }
        }
        let unique: Vec<Json> = objects.into_iter().fold(Vec::new(), |mut u, o| {
            if !u.contains(&o) {
                u.push(o);
            }
            u
        });
        self.admit(&unique)?;
        let mut tally = self.tally.lock().unwrap();
        tally.sets += 1;
        tally.refused += usize::from(refused);
        tally.dry_runs += unique.len();
        tally.knobs.extend(set.keys());
        Ok(())
    }

    /// `values` (written to `file` in the work folder) rendered by `helm`: its objects, or a refusal
    /// that names a value (a refusal that names none, or a broken template, is the error).
    fn rendered(&self, helm: &Helm, values: &Json, file: &str) -> Result<Rendered> {
        let file = self.work.join(file);
        std::fs::write(&file, values.to_string())?;
        let run = self.render(helm, &file)?;
        if !run.success {
            refusal_names_a_value(&run.stderr, &self.names).with_context(|| format!("{}: {}", helm.label(), run.command_line()))?;
            let produced = self.sites.iter().enumerate().filter(|(_, s)| s.produced_by(&run.stderr)).map(|(i, _)| i);
            self.tally.lock().unwrap().validators.extend(produced);
            return Ok(Rendered::Refused);
        }
        let docs = manifest::parse(&run.stdout)?.docs;
        Ok(Rendered::Objects(docs.into_iter().map(|d| serde_json::to_value(&d.value)).collect::<Result<Vec<_>, _>>()?))
    }

    /// Applies the rendering's ServiceAccounts and dry-runs every other object (server-side, strict
    /// field validation, all in one curl); the API server's answers (each object as it would be
    /// stored, defaults filled in), in the order of `objects`.
    fn admit(&self, objects: &[Json]) -> Result<Vec<Json>> {
        for account in objects.iter().filter(|o| o["kind"] == "ServiceAccount") {
            self.make(account)?;
        }
        let requests = objects
            .iter()
            .map(|o| Ok((format!("{}?dryRun=All&fieldValidation=Strict", self.collection(o)?), o.clone())))
            .collect::<Result<Vec<_>>>()?;
        let judged: Vec<(String, Json)> = requests.into_iter().filter(|(_, o)| o["kind"] != "ServiceAccount").collect();
        let mut answers = self.cluster.request_many("POST", &judged)?.into_iter();
        let mut stored = Vec::new();
        for object in objects {
            if object["kind"] == "ServiceAccount" {
                stored.push(object.clone());
                continue;
            }
            let answer = answers.next().context("an answer for every dry run")?;
            if answer["kind"] == "Status" && answer["status"] == "Failure" {
                bail!(
                    "the API server refuses {} {}: {}",
                    object["kind"].as_str().unwrap_or("?"),
                    object["metadata"]["name"].as_str().unwrap_or("?"),
                    answer["message"]
                );
            }
            stored.push(answer);
        }
        Ok(stored)
    }

    fn render(&self, helm: &Helm, values: &Path) -> Result<crate::support::command::Run> {
        let argv: Vec<String> = [helm.path.display().to_string(), "template".into(), RELEASE.into(), self.chart.display().to_string()]
            .into_iter()
            .chain(
                ["--namespace", NAMESPACE, "--kube-version", crate::lifecycle::controlplane::KUBERNETES_VERSION, "--values"]
                    .map(String::from),
            )
            .chain([values.display().to_string()])
            .collect();
        match crate::engine::renderd::pool_for(&helm.path) {
            Some(pool) => pool.run(argv),
            None => crate::support::command::run_with_env(argv, &[("KUBECONFIG", std::ffi::OsStr::new("/dev/null"))]),
        }
    }

    /// Applies a ServiceAccount of the rendering for real (server-side apply, strict): a Pod's admission
    /// looks up its account, which the release would have made before it.
    fn make(&self, account: &Json) -> Result<()> {
        let name = account["metadata"]["name"].as_str().unwrap_or_default();
        let path = format!("{}/{name}?fieldManager=xtask-fuzz&force=true&fieldValidation=Strict", self.collection(account)?);
        let answer = self.cluster.request_typed("PATCH", &path, Some(("application/apply-patch+yaml", &account.to_string())))?;
        if answer["kind"] == "Status" && answer["status"] == "Failure" {
            bail!("the API server refuses ServiceAccount {name}: {}", answer["message"]);
        }
        Ok(())
    }

    /// The API path that creates `object`'s kind in the fuzz namespace (or cluster-wide), by discovery.
    fn collection(&self, object: &Json) -> Result<String> {
        let (version, kind) = (object["apiVersion"].as_str().unwrap_or_default(), object["kind"].as_str().unwrap_or_default());
        let key = format!("{version}/{kind}");
        if let Some(path) = self.kinds.lock().unwrap().get(&key) {
            return Ok(path.clone());
        }
        let prefix = if version.contains('/') { format!("/apis/{version}") } else { format!("/api/{version}") };
        let list = self.cluster.request("GET", &prefix, None)?;
        let resource = list["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["kind"] == kind && !r["name"].as_str().unwrap_or("/").contains('/'));
        let resource = resource.with_context(|| format!("the API server serves no {kind} in {version}"))?;
        let name = resource["name"].as_str().unwrap_or_default();
        let path = match resource["namespaced"].as_bool() {
            Some(true) => format!("{prefix}/namespaces/{NAMESPACE}/{name}"),
            _ => format!("{prefix}/{name}"),
        };
        self.kinds.lock().unwrap().insert(key, path.clone());
        Ok(path)
    }
}

/// The names a refusal may give a value by: every knob, and every map above one but the top level
/// (`heimdall` or `image` alone would be found in any message).
fn value_names(knobs: &[Knob]) -> Vec<String> {
    let mut names: Vec<String> = knobs.iter().map(Knob::name).collect();
    for knob in knobs {
        names.extend((2..knob.path.len()).map(|n| knob.path[..n].join(".")));
    }
    names.sort();
    names.dedup();
    names
}

/// A refusal is the chart's when it names a value (by its dotted path or, as Helm's schema check does,
/// its JSON pointer): the one at fault may be one the set left out. A template or YAML error never is.
fn refusal_names_a_value(stderr: &str, names: &[String]) -> Result<()> {
    const BROKEN: [&str; 6] =
        ["nil pointer", "error calling", "wrong type for value", "can't evaluate field", "error converting YAML", "YAML parse error"];
    ensure!(!BROKEN.iter().any(|b| stderr.contains(b)), "the chart broke instead of refusing the values:\n{}", stderr.trim());
    let named = names.iter().any(|name| stderr.contains(name.as_str()) || stderr.contains(&format!("/{}", name.replace('.', "/"))));
    ensure!(named, "the chart refused the values without naming any value:\n{}", stderr.trim());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_must_name_a_value_and_a_template_error_is_never_one() {
        let knob = |path: &str| Knob {
            path: path.split('.').map(str::to_string).collect(),
            candidates: vec![json!(1)],
            probe: None,
            edges: vec![],
            example: None,
        };
        let names = value_names(&[knob("ingress.hosts"), knob("heimdall.secretsGenerator.resources.limits")]);
        assert_eq!(
            names,
            [
                "heimdall.secretsGenerator",
                "heimdall.secretsGenerator.resources",
                "heimdall.secretsGenerator.resources.limits",
                "ingress.hosts"
            ]
        );
        assert!(refusal_names_a_value("Error: execution error: ingress.hosts: list a host", &names).is_ok());
        assert!(refusal_names_a_value(
            "Error: values don't meet the specifications of the schema(s): at '/ingress/hosts': minItems",
            &names
        )
        .is_ok());
        let unnamed = refusal_names_a_value("Error: heimdall: something is wrong", &names).unwrap_err().to_string();
        assert!(unnamed.contains("without naming any value"), "{unnamed}");
        let broken = refusal_names_a_value("template: x: executing at <.Values.ingress.hosts>: nil pointer evaluating", &names);
        assert!(broken.unwrap_err().to_string().contains("broke instead of refusing"));
    }
}
