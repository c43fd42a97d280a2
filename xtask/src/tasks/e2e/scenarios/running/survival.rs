//! Scenarios m and n, for clusters with nodes: an evaluation uploaded through Heimdall's API survives every step an operator takes (upgrade, PostgreSQL pod deleted, rollout, secret rotation, uninstall and reinstall, and an upgrade from the previous chart version), generated secrets stay byte-identical, no secret reaches any container log, and a Heimdall pod stops within 5 s with its in-flight requests answered.

use super::{install_and_wait, ADMIN_EMAIL_VALUE};
use crate::lifecycle::node::images;
use crate::support::cluster::poll;
use crate::tasks::e2e::client::{run_client, wait_all_ready, wait_rolled_out, HELPERS};
use crate::tasks::e2e::logs;
use crate::tasks::e2e::{generated_secret_name, upgrade, Env, RELEASE};
use anyhow::{bail, ensure, Context, Result};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The longest a Heimdall pod may take from SIGTERM to gone (the issue's bound; the image's own
/// command took the whole 30 s grace period).
pub const STOP_LIMIT: Duration = Duration::from_secs(5);

/// An evaluation uploaded through the API, and the API key (made with the admin's session) that reads it.
pub(super) struct Evaluation {
    pub(super) id: String,
    pub(super) api_key: String,
}

/// m. Data, generated secrets and quiet logs survive an upgrade, a deleted PostgreSQL pod, a rollout, a
/// rotation, uninstall and reinstall; Heimdall pods stop within 5 s and finish in-flight requests.
pub fn data_secrets_and_quiet_logs_survive(env: &Env) -> Result<()> {
    let ns = env.namespace("survival")?;
    let chart = env.chart_copy("survival")?;
    let supplied = supplied_secrets()?;
    let values = supplied_values(&supplied);
    let values: Vec<&str> = values.iter().map(String::as_str).collect();
    let (generated, logs) = logs::watched(env, &ns, || lifecycle(env, &ns, &chart, &values, &supplied))?;
    let secrets = secret_values(&supplied, generated);
    logs::no_secret_in(&logs, &secrets)?;
    logs_that_must_exist(&logs)?;
    env.note(format!("{} container logs read, none holds any of {} secret values", logs.texts.len(), secrets.len()));
    Ok(())
}

/// Each secret value to look for in the logs, keyed by its name and where it came from.
fn secret_values(supplied: &BTreeMap<String, String>, generated: Vec<(String, String)>) -> BTreeMap<String, String> {
    let mut secrets: BTreeMap<String, String> = supplied.iter().map(|(k, v)| (format!("{k} (supplied)"), v.clone())).collect();
    secrets.extend(generated.into_iter().enumerate().map(|(n, (k, v))| (format!("{k} (generated, seen {})", n + 1), v)));
    secrets
}

/// The scenario's steps; every generated value it saw.
fn lifecycle(env: &Env, ns: &str, chart: &Path, values: &[&str], supplied: &BTreeMap<String, String>) -> Result<Vec<(String, String)>> {
    install_and_wait(env, ns, chart, values)?;
    first_start_logs_are_quiet(env, ns, supplied)?;
    env.helm_ok(&["test", RELEASE, "--namespace", ns, "--timeout", "300s", "--logs"])?;
    let evaluation = upload_evaluation(env, ns)?;
    let before = generated(env, ns)?;
    env.release_ok(&upgrade(ns, chart, values))?;
    wait_rolled_out(env, ns)?;
    still_there(env, ns, &evaluation, &before, "helm upgrade")?;
    delete_database_pod(env, ns)?;
    still_there(env, ns, &evaluation, &before, "the PostgreSQL pod was deleted")?;
    rollout_restart(env, ns)?;
    still_there(env, ns, &evaluation, &before, "a rollout of Heimdall")?;
    in_flight_requests_finish(env, ns, &evaluation)?;
    let rotated = rotate_jwt_secret(env, ns, chart, values, &before)?;
    still_there(env, ns, &evaluation, &rotated, "JWT_SECRET was rotated")?;
    uninstall_leaves_what_the_docs_list(env, ns)?;
    install_and_wait(env, ns, chart, values)?;
    still_there(env, ns, &evaluation, &rotated, "helm uninstall and a reinstall")?;
    Ok(before.into_iter().chain(rotated).collect())
}

/// n. `ct install --upgrade`: the previous chart version installed, an evaluation uploaded, then an
/// upgrade to this working tree keeps the evaluation and the generated secrets.
pub fn upgrade_from_the_previous_chart(env: &Env) -> Result<()> {
    let ns = env.namespace("previous")?;
    let (previous, which) = previous_chart(env)?;
    images_under_the_previous_tags(env, &previous, &which)?;
    let values = ["--set-string", ADMIN_EMAIL_VALUE];
    install_and_wait(env, &ns, &previous, &values)?;
    let evaluation = upload_evaluation(env, &ns)?;
    let before = generated(env, &ns)?;
    let chart = env.chart_copy("previous")?;
    env.release_ok(&upgrade(&ns, &chart, &values))?;
    wait_rolled_out(env, &ns)?;
    still_there(env, &ns, &evaluation, &before, &format!("the upgrade from {which}"))?;
    env.note(format!("upgraded from {which}"));
    Ok(())
}

/// On a cluster with its own registry (the built-in node's, which stands in for Docker Hub), the
/// images tagged as the previous chart names them too, where its pins differ from this chart's
/// (PostgreSQL 17.6 then, 17.11 now): the stand-ins are one build whatever their tag, as the
/// official images of one major share their data format. Elsewhere the real registry has both.
fn images_under_the_previous_tags(env: &Env, previous: &Path, which: &str) -> Result<()> {
    let Some(registry) = env.target.registry.as_ref() else { return Ok(()) };
    let (now, then) = (images::chart_references()?, images::chart_references_of(previous)?);
    for (now, then) in [(now.0, then.0), (now.1, then.1)] {
        let ((now_name, _), (then_name, then_tag)) = (split_tag(&now)?, split_tag(&then)?);
        ensure!(now_name == then_name, "the chart of {which} names {then}, another image than this chart's {now}: tag it by hand");
        if now != then {
            registry.tag(&now, then_tag)?;
            env.note(format!("{now} tagged {then_tag} too, as {which} names it"));
        }
    }
    Ok(())
}

fn split_tag(reference: &str) -> Result<(&str, &str)> {
    reference.rsplit_once(':').with_context(|| format!("{reference} carries no tag"))
}

/// A required key and an optional one, supplied inline with random values of this run.
fn supplied_secrets() -> Result<BTreeMap<String, String>> {
    Ok(BTreeMap::from([
        ("API_KEY_SECRET".to_string(), crate::support::process::random_hex(33)?),
        ("LDAP_PASSWORD".to_string(), format!("ldap-{}", crate::support::process::random_hex(12)?)),
    ]))
}

fn supplied_values(supplied: &BTreeMap<String, String>) -> Vec<String> {
    let mut values = vec!["--set-string".to_string(), ADMIN_EMAIL_VALUE.to_string()];
    for (k, v) in supplied {
        values.extend(["--set-string".to_string(), format!("heimdall.secrets.{k}={v}")]);
    }
    values
}

/// The generator's Secret, key by key.
pub(super) fn generated(env: &Env, ns: &str) -> Result<BTreeMap<String, String>> {
    env.secret(ns, &generated_secret_name())?.context("the generator's Secret is missing")
}

/// The evaluation is still listed and readable with the API key, and the generated secrets are
/// byte-identical to `expected`.
pub(super) fn still_there(env: &Env, ns: &str, evaluation: &Evaluation, expected: &BTreeMap<String, String>, after: &str) -> Result<()> {
    let now = generated(env, ns)?;
    let changed: Vec<&String> = expected.keys().chain(now.keys()).filter(|k| expected.get(*k) != now.get(*k)).collect();
    ensure!(changed.is_empty(), "after {after}, generated secrets changed: {changed:?}");
    let extra = [("API_KEY", evaluation.api_key.as_str()), ("EVALUATION", evaluation.id.as_str())];
    let slug: String = after.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(40).collect();
    let name = format!("e2e-listed-{}", slug.trim_matches('-'));
    let said = run_client(env, ns, &name, &format!("{HELPERS}{LISTED}"), &extra)
        .with_context(|| format!("after {after}, the evaluation uploaded before is not there"))?;
    ensure!(said.contains("listed"), "after {after}: {said}");
    Ok(())
}

/// Logs in as the admin, makes an API key with that session (POST /apikeys), uploads an evaluation with
/// the key (POST /evaluations, multipart) and reads it back.
pub(super) fn upload_evaluation(env: &Env, ns: &str) -> Result<Evaluation> {
    evaluation_from(&run_client(env, ns, "e2e-upload", &format!("{HELPERS}{UPLOAD}"), &[])?)
}

/// The evaluation and API key an [`UPLOAD`] client printed.
pub(super) fn evaluation_from(said: &str) -> Result<Evaluation> {
    let last = said.lines().last().unwrap_or("");
    let answer: Json = serde_json::from_str(last).with_context(|| format!("the upload pod printed no JSON: {said}"))?;
    let (id, api_key) = (answer["id"].as_str(), answer["apiKey"].as_str());
    Ok(Evaluation { id: id.context("no evaluation id")?.to_string(), api_key: api_key.context("no API key")?.to_string() })
}

/// Deletes PostgreSQL's pod; the StatefulSet makes it again on the same volume.
fn delete_database_pod(env: &Env, ns: &str) -> Result<()> {
    let pod = format!("{RELEASE}-postgresql-0");
    let old = env.cluster.get(&format!("/api/v1/namespaces/{ns}/pods/{pod}"))?.context("no PostgreSQL pod")?;
    env.cluster.request("DELETE", &format!("/api/v1/namespaces/{ns}/pods/{pod}"), None)?;
    poll(env.target.ready_timeout, Duration::from_millis(500), "PostgreSQL's pod being made again", |_| {
        let now = env.cluster.get(&format!("/api/v1/namespaces/{ns}/pods/{pod}"))?;
        Ok(now.filter(|p| p["metadata"]["uid"] != old["metadata"]["uid"]).map(|_| ()))
    })?;
    wait_all_ready(env, ns)
}

/// `kubectl rollout restart`: a new template annotation; the old pod must be gone within the limit.
fn rollout_restart(env: &Env, ns: &str) -> Result<()> {
    let old = heimdall_pod(env, ns)?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();
    let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now.to_string()}}}}});
    let path = format!("/apis/apps/v1/namespaces/{ns}/deployments/{RELEASE}");
    env.cluster.request_typed("PATCH", &path, Some(("application/strategic-merge-patch+json", &patch.to_string())))?;
    let took = stop_time(env, ns, &old).context("the rollout's old pod")?;
    env.note(format!("rollout: {took}"));
    wait_rolled_out(env, ns)
}

/// The name of the (one) running Heimdall pod.
fn heimdall_pod(env: &Env, ns: &str) -> Result<Json> {
    let selector = "app.kubernetes.io/component=server";
    let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods?labelSelector={selector}"), None)?;
    let live: Vec<&Json> =
        pods["items"].as_array().into_iter().flatten().filter(|p| p["metadata"]["deletionTimestamp"].is_null()).collect();
    ensure!(live.len() == 1, "expected one live Heimdall pod, found {}", live.len());
    Ok(live[0].clone())
}

/// How long `pod`'s Heimdall container took to stop after SIGTERM, read from the API: the kubelet sends
/// SIGTERM at deletionTimestamp minus the grace period (after the preStop sleep) and records the container's finishedAt (both to
/// the second). Waits until the pod is gone; fails past [`STOP_LIMIT`] with the container's last state.
fn stop_time(env: &Env, ns: &str, pod: &Json) -> Result<StopTime> {
    let name = pod["metadata"]["name"].as_str().context("a pod without a name")?;
    let path = format!("/api/v1/namespaces/{ns}/pods/{name}");
    let marked = poll(env.target.ready_timeout, Duration::from_millis(100), "the old Heimdall pod being deleted", |_| {
        Ok(match env.cluster.get(&path)? {
            Some(p) if p["metadata"]["deletionTimestamp"].is_null() => None,
            _ => Some(Instant::now()),
        })
    })?;
    let mut last = pod.clone();
    let gone = poll(Duration::from_secs(45), Duration::from_millis(100), "the old Heimdall pod stopping", |_| {
        Ok(match env.cluster.get(&path)? {
            Some(p) => {
                last = p;
                None
            }
            None => Some(marked.elapsed()),
        })
    })?;
    let pre_stop = Duration::from_secs(pre_stop_seconds(&last).max(0) as u64);
    let stop = StopTime { container: container_stop_seconds(&last), gone, pre_stop };
    let over = stop.container.map_or(gone > STOP_LIMIT + pre_stop, |s| s > STOP_LIMIT.as_secs() as i64);
    if over {
        bail!("pod {name}: {stop}, over {} s; its container: {}", STOP_LIMIT.as_secs(), last["status"]["containerStatuses"]);
    }
    Ok(stop)
}

/// A stopped pod's timing: its container's stop after SIGTERM (when its status says), and deletion to gone.
struct StopTime {
    container: Option<i64>,
    gone: Duration,
    /// The preStop sleep before SIGTERM, which the limit does not count.
    pre_stop: Duration,
}

impl std::fmt::Display for StopTime {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self.container {
            Some(s) => write!(f, "container stopped {s}s after SIGTERM (to the second)")?,
            None => write!(f, "container stop time not recorded")?,
        }
        write!(
            f,
            ", pod gone {:.1}s after its deletion was seen ({} s of preStop sleep first)",
            self.gone.as_secs_f64(),
            self.pre_stop.as_secs()
        )
    }
}

/// finishedAt of the pod's `heimdall` container minus the moment SIGTERM was sent, in seconds: the
/// deletion's start plus the container's preStop sleep (the kubelet sends SIGTERM when it ends).
fn container_stop_seconds(pod: &Json) -> Option<i64> {
    let meta = &pod["metadata"];
    let deleted = unix_seconds(meta["deletionTimestamp"].as_str()?)? - meta["deletionGracePeriodSeconds"].as_i64()?;
    let heimdall = pod["status"]["containerStatuses"].as_array()?.iter().find(|c| c["name"] == "heimdall")?;
    Some(unix_seconds(heimdall["state"]["terminated"]["finishedAt"].as_str()?)? - deleted - pre_stop_seconds(pod))
}

/// The preStop sleep of the pod's `heimdall` container, in seconds (0 without one).
fn pre_stop_seconds(pod: &Json) -> i64 {
    let spec = pod["spec"]["containers"].as_array().into_iter().flatten().find(|c| c["name"] == "heimdall");
    spec.and_then(|c| c["lifecycle"]["preStop"]["sleep"]["seconds"].as_i64()).unwrap_or(0)
}

/// Seconds since 1970 of an API timestamp ("2026-12-01T14:58:01Z").
fn unix_seconds(ts: &str) -> Option<i64> {
    let n = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let (y, m) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * m + 2) / 5 + d - 719469;
    Some(days * 86400 + n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?)
}

/// An upload whose body the client streams over the pod's preStop sleep and two seconds more goes
/// straight to the Heimdall pod; once its first part is on the wire the pod is deleted. The upload must
/// still be answered 201 (the server finished it after SIGTERM), and the pod must stop within the limit.
fn in_flight_requests_finish(env: &Env, ns: &str, evaluation: &Evaluation) -> Result<()> {
    let pod = heimdall_pod(env, ns)?;
    let ip = pod["status"]["podIP"].as_str().context("the Heimdall pod has no IP")?;
    let deployment = env.deployment(ns)?.context("no Deployment")?;
    let seconds = pre_stop_seconds(&pod) + 2;
    let parts = (seconds * 5).to_string();
    let extra = [("API_KEY", evaluation.api_key.as_str()), ("PARTS", parts.as_str())];
    let mut client = super::client_pod(&deployment, 3000, "e2e-in-flight", &format!("{HELPERS}{IN_FLIGHT}"), &extra);
    client["spec"]["containers"][0]["env"][0]["value"] = json!(format!("http://{ip}:3000"));
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/pods"), &client)?;
    let log_path = format!("/api/v1/namespaces/{ns}/pods/e2e-in-flight/log");
    poll(env.target.ready_timeout, Duration::from_millis(100), "the in-flight upload being sent", |_| {
        Ok(matches!(env.cluster.request_text("GET", &log_path, None)?, (200, t) if t.contains("sending")).then_some(()))
    })?;
    let name = pod["metadata"]["name"].as_str().unwrap_or("?");
    env.cluster.request("DELETE", &format!("/api/v1/namespaces/{ns}/pods/{name}"), None)?;
    let took = stop_time(env, ns, &pod).context("the pod deleted during an upload")?;
    let phase = super::wait_finished(env, ns, "e2e-in-flight")?;
    let (_, said) = env.cluster.request_text("GET", &log_path, None)?;
    ensure!(phase == "Succeeded", "an upload in flight when its pod was deleted was not answered 201: {}", said.trim());
    env.note(format!("deleted during a {seconds} s upload, which was answered 201; {took}"));
    wait_all_ready(env, ns)
}

/// The secrets guide's rotation of a generated JWT_SECRET: remove the key, `helm upgrade`, restart.
/// Only JWT_SECRET changes. The generated values after it.
fn rotate_jwt_secret(
    env: &Env,
    ns: &str,
    chart: &Path,
    values: &[&str],
    before: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let path = format!("/api/v1/namespaces/{ns}/secrets/{}", generated_secret_name());
    let remove = r#"[{"op":"remove","path":"/data/JWT_SECRET"}]"#;
    env.cluster.request_typed("PATCH", &path, Some(("application/json-patch+json", remove)))?;
    env.release_ok(&upgrade(ns, chart, values))?;
    rollout_restart(env, ns)?;
    let after = generated(env, ns)?;
    ensure!(after.get("JWT_SECRET").is_some_and(|v| Some(v) != before.get("JWT_SECRET")), "the upgrade generated no new JWT_SECRET");
    let others: Vec<&String> = before.keys().filter(|k| *k != "JWT_SECRET" && before.get(*k) != after.get(*k)).collect();
    ensure!(others.is_empty(), "rotating JWT_SECRET changed {others:?} too");
    Ok(after)
}

/// What `helm uninstall` must leave in the namespace, as docs/secrets-management.md ("What helm
/// uninstall leaves") lists it, beside what Kubernetes makes in every namespace.
const LEFT_BY_UNINSTALL: [&str; 4] = [
    "PersistentVolumeClaim data-heimdall-postgresql-0",
    "Pod heimdall-test-connection",
    "Secret heimdall-generated-secrets",
    "Secret heimdall-secrets",
];
const IN_EVERY_NAMESPACE: [&str; 2] = ["ConfigMap kube-root-ca.crt", "ServiceAccount default"];

/// `helm uninstall --wait`, then every object left in the namespace (but the suite's own client pods)
/// must be exactly what the docs list.
fn uninstall_leaves_what_the_docs_list(env: &Env, ns: &str) -> Result<()> {
    env.helm_ok(&["uninstall", RELEASE, "--namespace", ns, "--wait", "--timeout", "120s"])?;
    let mut expected: Vec<String> = LEFT_BY_UNINSTALL.iter().chain(&IN_EVERY_NAMESPACE).map(|s| s.to_string()).collect();
    expected.sort();
    let mut left = Vec::new();
    poll(Duration::from_secs(60), Duration::from_secs(1), "the uninstalled release's objects being gone", |up| {
        left = objects_in(env, ns)?;
        if left == expected || up {
            return Ok(Some(()));
        }
        Ok(None)
    })?;
    ensure!(left == expected, "helm uninstall left {left:?}; the docs list {expected:?}");
    Ok(())
}

/// Every object of the kinds a chart can make, in `ns`, as "Kind name", sorted; the suite's e2e-* pods left out.
fn objects_in(env: &Env, ns: &str) -> Result<Vec<String>> {
    let kinds = [
        ("/api/v1", "pods", "Pod"),
        ("/api/v1", "services", "Service"),
        ("/api/v1", "secrets", "Secret"),
        ("/api/v1", "configmaps", "ConfigMap"),
        ("/api/v1", "serviceaccounts", "ServiceAccount"),
        ("/api/v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
        ("/apis/apps/v1", "deployments", "Deployment"),
        ("/apis/apps/v1", "statefulsets", "StatefulSet"),
        ("/apis/batch/v1", "jobs", "Job"),
        ("/apis/rbac.authorization.k8s.io/v1", "roles", "Role"),
        ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", "RoleBinding"),
        ("/apis/networking.k8s.io/v1", "networkpolicies", "NetworkPolicy"),
        ("/apis/policy/v1", "poddisruptionbudgets", "PodDisruptionBudget"),
    ];
    let mut out = Vec::new();
    for (group, plural, kind) in kinds {
        let list = env.cluster.request("GET", &format!("{group}/namespaces/{ns}/{plural}"), None)?;
        for item in list["items"].as_array().into_iter().flatten() {
            let name = item["metadata"]["name"].as_str().unwrap_or("?");
            if !(kind == "Pod" && name.starts_with("e2e-")) {
                out.push(format!("{kind} {name}"));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The first start's logs as they are once every pod is Ready: no secret in them, and the seeder's
/// lines there, its password redacted. The whole run's logs are checked again at the end; this fails
/// a leak minutes sooner.
fn first_start_logs_are_quiet(env: &Env, ns: &str, supplied: &BTreeMap<String, String>) -> Result<()> {
    let logs = logs::read_now(env.cluster, ns)?;
    logs::no_secret_in(&logs, &secret_values(supplied, generated(env, ns)?.into_iter().collect()))?;
    logs::logged(&logs, "heimdall", SEEDED_EMAIL)?;
    logs::logged(&logs, "heimdall", SEEDED_PASSWORD)
}

/// The seeder's lines on a first start, as Heimdall logs them through the chart's start command.
const SEEDED_EMAIL: &str = "New administrator email is: e2e-admin@heimdall.example";
const SEEDED_PASSWORD: &str = "New administrator password is: (redacted by the Heimdall chart";

/// The logs checked are the ones that matter: the seeder ran and its password line was redacted, the
/// generator, PostgreSQL, wait-for-database and the test pod all logged.
fn logs_that_must_exist(logs: &logs::Logs) -> Result<()> {
    logs::logged(logs, "heimdall", SEEDED_EMAIL)?;
    logs::logged(logs, "heimdall", SEEDED_PASSWORD)?;
    logs::logged(logs, "secrets-generator", "JWT_SECRET")?;
    logs::logged(logs, "postgresql", "database system is ready to accept connections")?;
    logs::logged(logs, "wait-for-database", "accepting connections")?;
    logs::logged(logs, "get-server", "GET /server: 200")
}

/// The chart as of the newest `v*` tag, or, while there is none, as of [`PREVIOUS_CHART`]: a copy, and which.
fn previous_chart(env: &Env) -> Result<(PathBuf, String)> {
    let root = crate::support::tools::repo_root();
    let git = |args: &[&str]| crate::support::process::output(std::process::Command::new("git").arg("-C").arg(&root).args(args), "git");
    let tags = git(&["tag", "--list", "v*", "--sort=-v:refname"])?;
    let newest = String::from_utf8_lossy(&tags.stdout).lines().next().map(str::to_string);
    let (rev, which) = match newest {
        Some(tag) => (tag.clone(), format!("tag {tag}")),
        None => (PREVIOUS_CHART.0.to_string(), format!("commit {} ({})", &PREVIOUS_CHART.0[..7], PREVIOUS_CHART.1)),
    };
    let dir = env.scratch.join(format!("previous-h{}", env.helm.major));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let archive = git(&["archive", "--format=tar", &rev, "heimdall"])?;
    if !archive.status.success() {
        bail!(
            "the previous chart ({which}) is not in this clone's history: {} (a shallow clone? run git fetch --unshallow --tags)",
            String::from_utf8_lossy(&archive.stderr).trim()
        );
    }
    tar::Archive::new(archive.stdout.as_slice()).unpack(&dir).with_context(|| format!("unpacking the chart of {which}"))?;
    Ok((dir.join("heimdall"), which))
}

/// Until the first `v*` tag: the chart as issue 19 left it, the last before its own start command.
pub const PREVIOUS_CHART: (&str, &str) =
    ("b3d22fb2dd33f1ba1fd2c3ae358653a0c3349076", "the chart when pods first ran, before its own start command");

/// POST /apikeys with the admin's session, then POST /evaluations with the key; prints {id, apiKey}.
pub(super) const UPLOAD: &str = r#"
(async () => {
  const s = await login();
  const made = await reach(process.env.URL + '/apikeys', {method: 'POST', headers: {'content-type': 'application/json',
    authorization: 'Bearer ' + s.accessToken}, body: JSON.stringify({name: 'e2e', currentPassword: process.env.ADMIN_PASSWORD})});
  if (made.status !== 201) throw new Error('POST /apikeys answered ' + made.status + ': ' + await made.text());
  const {apiKey} = await made.json();
  const upload = () => { const form = new FormData();
    form.append('data', new Blob([JSON.stringify({profiles: [], platform: {name: 'e2e'}, version: '1', statistics: {}})]), 'e2e.json');
    form.append('filename', 'e2e-survival'); form.append('public', 'false');
    return reach(process.env.URL + '/evaluations', {method: 'POST', headers: {authorization: 'Api-Key ' + apiKey}, body: form}); };
  // Heimdall 2.13.1 answers POST /apikeys before it has saved the key's hash (apikey.service.ts:
  // newApiKey.save() is not awaited), so a key used at once can be refused for a moment.
  let up = await upload();
  for (let tries = 1; up.status === 403 && tries < 15; tries++) {
    await new Promise(ok => setTimeout(ok, 1000)); up = await upload(); }
  if (up.status !== 201) throw new Error('POST /evaluations answered ' + up.status + ': ' + await up.text());
  const {id} = await up.json();
  console.log(JSON.stringify({id: String(id), apiKey}));
})().catch(fail);
"#;

/// GET /evaluations/:id and GET /evaluations (the list) with the API key: the evaluation is in both.
pub(super) const LISTED: &str = r#"
(async () => {
  const auth = {headers: {authorization: 'Api-Key ' + process.env.API_KEY}};
  const one = await reach(process.env.URL + '/evaluations/' + process.env.EVALUATION, auth);
  if (one.status !== 200) throw new Error('GET /evaluations/' + process.env.EVALUATION + ' answered ' + one.status + ': ' + await one.text());
  const body = await one.json();
  if (body.filename !== 'e2e-survival') throw new Error('the evaluation came back as ' + JSON.stringify(body).slice(0, 300));
  const list = await reach(process.env.URL + '/evaluations?offset=0&limit=50&order[]=createdAt&order[]=DESC', auth);
  const all = await list.json();
  if (list.status !== 200 || !(all.evaluations || []).some(e => String(e.id) === process.env.EVALUATION))
    throw new Error('GET /evaluations answered ' + list.status + ' without it: ' + JSON.stringify(all).slice(0, 300));
  console.log('listed: ' + process.env.EVALUATION);
})().catch(fail);
"#;

/// POST /evaluations with the API key, its multipart body streamed in 10 parts over about 2 s;
/// "sending" once the first part is taken; exit 0 only if the answer is 201.
const IN_FLIGHT: &str = r#"
const boundary = 'e2e' + Date.now(), text = s => new TextEncoder().encode(s);
const head = '--' + boundary + '\r\nContent-Disposition: form-data; name="filename"\r\n\r\ne2e-in-flight\r\n--' + boundary +
  '\r\nContent-Disposition: form-data; name="public"\r\n\r\nfalse\r\n--' + boundary +
  '\r\nContent-Disposition: form-data; name="data"; filename="e2e.json"\r\nContent-Type: application/json\r\n\r\n{"padding": "';
let part = 0;
const body = new ReadableStream({async pull(c) {
  if (part === 1) console.log('sending');
  if (part > 0) await new Promise(ok => setTimeout(ok, 200));
  if (part === 0) c.enqueue(text(head)); else if (part <= Number(process.env.PARTS)) c.enqueue(text('x'.repeat(10000)));
  else { c.enqueue(text('"}\r\n--' + boundary + '--\r\n')); c.close(); }
  part++; }});
fetch(process.env.URL + '/evaluations', {method: 'POST', body, duplex: 'half', headers: {authorization: 'Api-Key ' + process.env.API_KEY,
  'content-type': 'multipart/form-data; boundary=' + boundary}})
  .then(async r => { console.log('answered ' + r.status); process.exit(r.status === 201 ? 0 : 1); })
  .catch(e => { console.log('failed: ' + ((e.cause && e.cause.code) || e.message)); process.exit(1); });
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_timestamps_become_unix_seconds() {
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2000-03-01T00:00:01Z"), Some(951868801));
        assert_eq!(unix_seconds("2026-12-01T14:58:01Z"), Some(1796137081));
        assert_eq!(unix_seconds("yesterday"), None);
    }

    #[test]
    fn the_container_stop_counts_from_sigterm_not_from_the_deadline() {
        let pod = json!({"metadata": {"deletionTimestamp": "2026-12-01T14:58:31Z", "deletionGracePeriodSeconds": 30},
            "status": {"containerStatuses": [{"name": "heimdall", "state": {"terminated": {"finishedAt": "2026-12-01T14:58:03Z"}}}]}});
        assert_eq!(container_stop_seconds(&pod), Some(2));
        let running = json!({"metadata": {"deletionTimestamp": "2026-12-01T14:58:31Z", "deletionGracePeriodSeconds": 30},
            "status": {"containerStatuses": [{"name": "heimdall", "state": {"running": {}}}]}});
        assert_eq!(container_stop_seconds(&running), None);
    }

    #[test]
    fn the_container_stop_counts_from_the_end_of_the_pre_stop_sleep() {
        let pod = json!({"metadata": {"deletionTimestamp": "2026-12-01T14:58:31Z", "deletionGracePeriodSeconds": 30},
            "spec": {"containers": [{"name": "heimdall", "lifecycle": {"preStop": {"sleep": {"seconds": 5}}}}]},
            "status": {"containerStatuses": [{"name": "heimdall", "state": {"terminated": {"finishedAt": "2026-12-01T14:58:07Z"}}}]}});
        assert_eq!(container_stop_seconds(&pod), Some(1));
    }
}
