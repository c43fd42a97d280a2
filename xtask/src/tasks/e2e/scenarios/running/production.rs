//! Production behaviours, for clusters with nodes. Scenario p: three replicas on an empty database reach Ready with no restart (the start command's migration lock), a `helm upgrade` that rolls every pod under steady load through the Service fails no request (maxUnavailable 0 and the preStop sleep), and an upgrade to an image that cannot be pulled fails `--wait` while the old pods serve every request, and Helm 4's rollback restores the release. Scenario q: the same failed upgrade under Helm 3, and `helm rollback`.

use super::lock::{replicas_started_clean, replicas_wait_for_a_held_lock};
use super::{install_and_wait, ADMIN_EMAIL_VALUE};
use crate::support::cluster::poll;
use crate::support::tools::HelmMajor;
use crate::tasks::e2e::client::{client_pod, run_pod, service_port, wait_rolled_out, FIRST_LOGIN, HELPERS};
use crate::tasks::e2e::{upgrade, Env, RELEASE, SUPPLIED_SECRETS};
use anyhow::{ensure, Context, Result};
use serde::Deserialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// p. Two fresh installs side by side, each on an empty database: an HPA whose minReplicas is 2, and
/// (`lock`) 3 replicas that must wait for a migration lock the suite holds; every pod Ready, no
/// container restarted, one replica having run the migrations in each. Then, on the second, under a
/// steady load of new connections through the Service: an upgrade to 2 replicas with a changed pod
/// annotation (every pod replaced, one scaled away) fails no request; and an upgrade to an image that
/// cannot be pulled fails `--wait` while the old pods serve every request, and Helm 4's
/// `--rollback-on-failure` restores the release (q proves `helm rollback` under Helm 3).
pub fn production_behaviours(env: &Env) -> Result<()> {
    let (ns, autoscaled) = (env.namespace("production")?, env.namespace("autoscaled")?);
    let chart = env.chart_copy("production")?;
    // Every secret supplied: no hook Job needs the image, so the failing upgrade reaches the Deployment.
    let values = supplied_values();
    let hpa = ["--set", "autoscaling.enabled=true", "--set-string", ADMIN_EMAIL_VALUE];
    std::thread::scope(|s| {
        let scaled = s.spawn(|| {
            install_and_wait(env, &autoscaled, &chart, &hpa)?;
            wait_ready_replicas(env, &autoscaled, 2)?;
            replicas_started_clean(env, &autoscaled, "an HPA of minReplicas 2")?;
            env.delete_namespace(&autoscaled)
        });
        let held = replicas_wait_for_a_held_lock(env, &ns, &chart, &values);
        held.and(scaled.join().unwrap_or_else(|_| Err(anyhow::anyhow!("the autoscaled install panicked"))))
    })?;
    let mut rolled = values.clone();
    rolled.extend(["--set", "replicaCount=2", "--set-string", "podAnnotations.e2e/rolled=1"]);
    rolling_upgrade_fails_nothing(env, &ns, &chart, &rolled)?;
    // The same values but the image: only the image may differ between what fails and what serves.
    failed_upgrade_serves_and_rolls_back(env, &ns, &chart, &rolled)
}

/// The administrator's e-mail and every secret supplied inline.
fn supplied_values() -> Vec<&'static str> {
    let mut values = vec!["--set-string", ADMIN_EMAIL_VALUE];
    for secret in SUPPLIED_SECRETS {
        values.extend(["--set-string", secret]);
    }
    values
}

/// Under the load, an upgrade to `rolled` (2 replicas, a changed pod annotation): no request fails.
fn rolling_upgrade_fails_nothing(env: &Env, ns: &str, chart: &Path, rolled: &[&str]) -> Result<()> {
    let load = Load::start(env, ns)?;
    let mut rolled = rolled.to_vec();
    rolled.push("--wait");
    let (began, load_before) = (Instant::now(), load.counts(env)?.seconds);
    env.release_ok(&upgrade(ns, chart, &rolled))?;
    wait_rolled_out(env, ns)?;
    wait_old_pods_gone(env, ns)?;
    let counts = load.finish(env)?;
    let took = began.elapsed();
    env.note(format!("rolling upgrade to 2 replicas, {:.0} s from {load_before:.0} s of load: {counts}", took.as_secs_f64()));
    counts.judge(took).with_context(|| format!("the upgrade began at {load_before:.1} s of the load and took {:.0} s", took.as_secs_f64()))
}

/// Waits until the Deployment has `count` Ready replicas (an HPA scales it up to its minReplicas after
/// the install); on timeout, the HPA's status says why not.
fn wait_ready_replicas(env: &Env, ns: &str, count: u64) -> Result<()> {
    poll(env.target.ready_timeout, Duration::from_secs(2), &format!("{count} Ready replicas"), |up| {
        let d = env.deployment(ns)?.context("no Deployment")?;
        if d["status"]["readyReplicas"].as_u64().unwrap_or(0) >= count {
            return Ok(Some(()));
        }
        if up {
            let hpa = env.cluster.get(&format!("/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{RELEASE}"))?;
            anyhow::bail!("the Deployment has not {count} Ready replicas: {}; its HPA: {}", d["status"], hpa.unwrap_or_default()["status"]);
        }
        Ok(None)
    })
}

/// Waits until no pod of the namespace is terminating (the rollout's old pods have finished their stop).
pub(super) fn wait_old_pods_gone(env: &Env, ns: &str) -> Result<()> {
    poll(env.target.ready_timeout, Duration::from_millis(500), "the old pods finishing their stop", |_| {
        let pods = env.cluster.request("GET", &format!("/api/v1/namespaces/{ns}/pods"), None)?;
        let stopping = pods["items"].as_array().into_iter().flatten().any(|p| !p["metadata"]["deletionTimestamp"].is_null());
        Ok((!stopping).then_some(()))
    })
}

/// An image registry on the loopback address where nothing listens: the pull is refused at once, and
/// no traffic leaves the machine.
const MISSING_IMAGE: &str = "image.registry=127.0.0.1:1";
/// How long the failing upgrade waits: its new pod fails its pull within seconds.
const FAILING_UPGRADE_TIMEOUT: &str = "25s";

/// q. With every secret supplied (so no hook Job needs the image: the upgrade reaches the Deployment),
/// an upgrade to an image that cannot be pulled, under the load: `--wait` fails within its timeout
/// while the old pod serves every request, and the release is rolled back the documented way (Helm 3:
/// `helm rollback`; Helm 4: `--rollback-on-failure`, which p also proves on its replicas).
pub fn failed_upgrade_rolls_back(env: &Env) -> Result<()> {
    let ns = env.namespace("rollback")?;
    let chart = env.chart_copy("rollback")?;
    let values = supplied_values();
    install_and_wait(env, &ns, &chart, &values)?;
    failed_upgrade_serves_and_rolls_back(env, &ns, &chart, &values)
}

/// Under the load, the failing upgrade and the rollback: no request fails, and then the Deployment runs
/// the image it had, its revision is deployed, and the admin logs in with the password it had.
fn failed_upgrade_serves_and_rolls_back(env: &Env, ns: &str, chart: &Path, values: &[&str]) -> Result<()> {
    let before = deployed_image(env, ns)?;
    let load = Load::start(env, ns)?;
    let began = Instant::now();
    fail_upgrade_and_roll_back(env, ns, chart, values)?;
    wait_rolled_out(env, ns)?;
    wait_old_pods_gone(env, ns)?;
    let (counts, took) = (load.finish(env)?, began.elapsed());
    env.note(format!("failed upgrade and rollback, {:.0} s: {counts}", took.as_secs_f64()));
    counts.judge(took).context("while an upgrade to a missing image failed and was rolled back")?;
    ensure!(deployed_image(env, ns)? == before, "after the rollback the Deployment runs {}, not {before}", deployed_image(env, ns)?);
    let status = env.helm_ok(&["status", RELEASE, "--namespace", ns, "--output", "json"])?;
    let status: Json = serde_json::from_str(&status.stdout)?;
    ensure!(status["info"]["status"] == "deployed", "after the rollback the release is {}, not deployed", status["info"]["status"]);
    let deployment = env.deployment(ns)?.context("no Deployment")?;
    let mut login = client_pod(&deployment, service_port(env, ns)?, "e2e-login", &format!("{HELPERS}{FIRST_LOGIN}"), &[]);
    login["spec"]["containers"][0]["env"][2]["valueFrom"]["secretKeyRef"]["name"] = json!(format!("{RELEASE}-secrets"));
    run_pod(env, ns, &login).context("after the rollback the admin must log in with the password it had")?;
    Ok(())
}

/// The failing upgrade (`--wait` with a short timeout; Helm 4 with `--rollback-on-failure`), then, under
/// Helm 3, `helm rollback --wait`.
fn fail_upgrade_and_roll_back(env: &Env, ns: &str, chart: &Path, values: &[&str]) -> Result<()> {
    let mut args = values.to_vec();
    args.extend(["--set-string", MISSING_IMAGE, "--wait", "--timeout", FAILING_UPGRADE_TIMEOUT]);
    if env.helm.major >= HelmMajor::V4 {
        args.push("--rollback-on-failure");
    }
    let run = env.helm(&upgrade(ns, chart, &args))?;
    ensure!(!run.success, "{} succeeded, though its image cannot be pulled", run.command_line());
    if env.helm.major < HelmMajor::V4 {
        env.helm_ok(&["rollback", RELEASE, "--namespace", ns, "--wait", "--timeout", "300s"])?;
    }
    Ok(())
}

/// The image of the Deployment's Heimdall container.
fn deployed_image(env: &Env, ns: &str) -> Result<String> {
    let d = env.deployment(ns)?.context("no Deployment")?;
    Ok(d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default().to_string())
}

/// The least request rate the load must reach (issue 32: at least 10 a second).
const MIN_RATE: f64 = 10.0;
const LOAD_POD: &str = "e2e-load";

/// A pod that sends `GET /server` to the Service's cluster IP every 25 ms, each on a new connection (so
/// kube-proxy routes every request afresh, as a new client's would be), and answers its counts on port 8080.
pub(super) struct Load {
    /// The load pod, by the API server's path.
    pod: String,
}

/// What the load pod counted: answers 200, failures by kind (an error code or `HTTP <status>`).
#[derive(Deserialize)]
pub(super) struct Counts {
    ok: u64,
    failed: u64,
    kinds: BTreeMap<String, u64>,
    /// The first failures, each with its kind and when it happened.
    failures: Vec<String>,
    /// The slowest answer, in milliseconds.
    slowest: u64,
    pub(super) seconds: f64,
}

impl Load {
    pub(super) fn start(env: &Env, ns: &str) -> Result<Load> {
        Load::start_on(env, ns, None)
    }

    /// The load pod, on `node` if given (a node no drain of the scenario empties).
    pub(super) fn start_on(env: &Env, ns: &str, node: Option<&str>) -> Result<Load> {
        let deployment = env.deployment(ns)?.context("no Deployment")?;
        let mut pod = client_pod(&deployment, service_port(env, ns)?, LOAD_POD, LOAD, &[]);
        if let Some(node) = node {
            pod["spec"]["nodeSelector"] = json!({"kubernetes.io/hostname": node});
        }
        let container = &mut pod["spec"]["containers"][0];
        container["ports"] = json!([{"name": "counts", "containerPort": 8080}]);
        // Only the URL: the load logs in as nobody, and the release may have no generated Secret.
        container["env"] = json!([container["env"][0].clone()]);
        env.cluster.create(&format!("/api/v1/namespaces/{ns}/pods"), &pod)?;
        let load = Load { pod: format!("/api/v1/namespaces/{ns}/pods/{LOAD_POD}") };
        poll(env.target.ready_timeout, Duration::from_millis(500), "the load pod's first answer", |_| {
            Ok(load.counts(env).ok().filter(|c| c.ok > 0).map(|_| ()))
        })?;
        Ok(load)
    }

    pub(super) fn counts(&self, env: &Env) -> Result<Counts> {
        let (status, body) = env.cluster.request_text("GET", &format!("{}:8080/proxy/", self.pod), None)?;
        ensure!(status == 200, "the load pod answered {status}: {body}");
        serde_json::from_str(&body).with_context(|| format!("the load pod's counts: {body}"))
    }

    /// The counts so far; the pod is deleted.
    pub(super) fn finish(self, env: &Env) -> Result<Counts> {
        let counts = self.counts(env);
        env.cluster.request("DELETE", &format!("{}?gracePeriodSeconds=0", self.pod), None)?;
        counts
    }
}

impl Counts {
    /// No failed request, and the load was steady (at least [`MIN_RATE`] a second) for longer than the upgrade.
    pub(super) fn judge(&self, upgrade: Duration) -> Result<()> {
        let rate = (self.ok + self.failed) as f64 / self.seconds.max(1.0);
        ensure!(
            self.seconds >= upgrade.as_secs_f64(),
            "the load ran {:.0} s, less than the upgrade's {:.0} s",
            self.seconds,
            upgrade.as_secs_f64()
        );
        ensure!(rate >= MIN_RATE, "the load reached {rate:.1} requests a second, below {MIN_RATE}: the node is too busy to prove anything");
        ensure!(
            self.failed == 0,
            "{self}: a change of pods must fail no request (maxUnavailable 0, the preStop sleep, the disruption budget)"
        );
        Ok(())
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{} ok, {} failed {:?} in {:.0} s, slowest answer {} ms", self.ok, self.failed, self.kinds, self.seconds, self.slowest)?;
        if !self.failures.is_empty() {
            write!(f, " (first failures: {})", self.failures.join(", "))?;
        }
        Ok(())
    }
}

/// The load: a request every 25 ms to the Service's cluster IP (looked up once: a lookup per request
/// would measure the cluster's DNS, whose lost UDP answers stall a lookup the resolver's 5 s), without
/// keep-alive (`agent: false`), 5 s timeout; counts on :8080, with the first failures and slow answers.
const LOAD: &str = r#"
const http = require('http');
const target = new URL(process.env.URL + '/server');
const counts = {ok: 0, failed: 0, kinds: {}, failures: [], slowest: 0};
const started = Date.now();
const at = () => (Date.now() - started) / 1000;
const fail = kind => {
  counts.failed++; counts.kinds[kind] = (counts.kinds[kind] || 0) + 1;
  if (counts.failures.length < 20) counts.failures.push(kind + ' at ' + at().toFixed(1) + ' s');
};
let address;
const once = () => {
  if (!address) return;
  const sent = Date.now();
  const req = http.get({host: address, port: target.port, path: target.pathname, headers: {host: target.host}, agent: false, timeout: 5000}, res => {
    res.on('error', e => fail(e.code || e.message));
    res.on('end', () => {
      counts.slowest = Math.max(counts.slowest, Date.now() - sent);
      if (Date.now() - sent > 1000 && counts.failures.length < 20) counts.failures.push('slow ' + (Date.now() - sent) + ' ms sent at ' + ((sent - started) / 1000).toFixed(1) + ' s');
      res.statusCode === 200 ? counts.ok++ : fail('HTTP ' + res.statusCode);
    });
    res.resume();
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), {code: 'TIMEOUT'})));
  req.on('error', e => fail(e.code || e.message));
};
require('dns').lookup(target.hostname, (e, a) => { if (e) { console.error(e.message); process.exit(2); } address = a; });
setInterval(once, 25);
http.createServer((q, s) => {
  s.setHeader('content-type', 'application/json');
  s.end(JSON.stringify({...counts, seconds: (Date.now() - started) / 1000}));
}).listen(8080);
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_request_a_thin_load_or_a_short_load_fails_the_judgement() {
        let counts = |ok, failed, seconds| Counts { ok, failed, kinds: BTreeMap::new(), failures: vec![], slowest: 0, seconds };
        assert!(counts(1200, 0, 40.0).judge(Duration::from_secs(30)).is_ok());
        assert!(counts(1199, 1, 40.0).judge(Duration::from_secs(30)).is_err());
        assert!(counts(300, 0, 40.0).judge(Duration::from_secs(30)).is_err());
        assert!(counts(1200, 0, 20.0).judge(Duration::from_secs(30)).is_err());
    }
}
