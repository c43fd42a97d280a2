//! Scenarios f and g: the API server as the oracle of every rendering. Every case that renders is accepted (server dry run, a real install without a Pod Security warning, its hook Pods admitted under "restricted", kept objects outliving uninstall), and a pod template that is not restricted does draw the warning.

use crate::tasks::e2e::*;

/// f. Every case that renders is accepted by the API server: `--dry-run=server`, then a real install
/// with no Pod Security warning (only a real install surfaces them; g shows the check can fire), and
/// each `helm test` hook Pod passes the namespace's enforced "restricted" admission (server dry run).
pub(crate) fn every_rendering_case_is_accepted(env: &Env) -> Result<()> {
    let config = Config::at_root(&tools::repo_root())?;
    let cases = config.cases()?;
    let rendering: Vec<(usize, &matrix::Case)> = cases.iter().enumerate().filter(|(_, c)| c.spec.expect == Expect::Renders).collect();
    // Cases are independent, and their pods are held back: a few at once, in namespaces of their own.
    let results = crate::support::parallel::parallel_map(&rendering, CASES_AT_ONCE, |(i, case)| case_is_accepted(env, &config, *i, case));
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).map(|e| format!("{e:#}")).collect();
    ensure!(failures.is_empty(), "{}", failures.join("\n"));
    Ok(())
}

/// How many cases f installs at once: each is a few API calls and Helm processes, no pod.
const CASES_AT_ONCE: usize = 3;

/// One case of f in a namespace of its own, deleted when it is judged.
fn case_is_accepted(env: &Env, config: &Config, i: usize, case: &matrix::Case) -> Result<()> {
    let work = env.scratch.join(format!("cases-h{}", env.helm.major));
    let prepared = render::prepare(case, config, &work, render::Purpose::AsShipped)?;
    let ns = env.namespace(&format!("case-{i:02}"))?;
    // A case that sends its objects elsewhere (namespaceOverride) keeps its release in a second
    // namespace, as an Argo CD Application does; its objects go to this run's `ns`.
    let overridden = case.values(&config.tests)?["namespaceOverride"].as_str().is_some_and(|n| !n.is_empty());
    let release_ns = if overridden { env.namespace(&format!("case-{i:02}-release"))? } else { ns.clone() };
    // f judges what the API server accepts, not what runs: on a cluster with nodes, no case starts pods.
    let judged = (|| -> Result<()> {
        let quota = if env.target.nodes > 0 { Some(hold_pods_back(env, &ns)?) } else { None };
        let mut base = vec![
            "install".to_string(),
            case.spec.release.clone(),
            prepared.chart_dir.display().to_string(),
            "--namespace".into(),
            release_ns.clone(),
        ];
        base.extend(prepared.value_args.iter().cloned());
        if overridden {
            base.extend(["--set".to_string(), format!("namespaceOverride={ns}")]);
        }
        match install_case(env, &base)? {
            Installed::Yes => {
                let release = (case.spec.release.as_str(), release_ns.as_str());
                release_pods(env, quota.as_deref())?;
                hook_pods_are_admitted(env, release, &ns)?;
                kept_objects_outlive_uninstall(env, release, &ns)
            }
            Installed::KindNotServed(why) => {
                env.note(format!("skipped case {}: {why}", case.name));
                Ok(())
            }
        }
    })();
    env.delete_namespace(&ns)?;
    if overridden {
        env.delete_namespace(&release_ns)?;
    }
    judged.with_context(|| case.name.clone())
}

/// When the release holds objects marked `helm.sh/resource-policy: keep` (the SealedSecret and
/// CloudNativePG examples' promise), `helm uninstall` leaves each of them in place.
fn kept_objects_outlive_uninstall(env: &Env, (release, release_ns): (&str, &str), ns: &str) -> Result<()> {
    let manifest = env.helm_ok(&["get", "manifest", release, "--namespace", release_ns])?;
    let keep = |d: &&crate::support::manifest::Doc| d.value["metadata"]["annotations"]["helm.sh/resource-policy"].as_str() == Some("keep");
    let docs = crate::support::manifest::parse(&manifest.stdout)?.docs;
    let kept: Vec<_> = docs.iter().filter(keep).collect();
    if kept.is_empty() {
        return Ok(());
    }
    env.helm_ok(&["uninstall", release, "--namespace", release_ns, "--wait"])?;
    for doc in &kept {
        let at = if doc.namespace().is_empty() { ns } else { doc.namespace() };
        let path = format!("{}/{}", hook::collection(doc.api_version(), doc.kind(), at), doc.name());
        ensure!(env.cluster.get(&path)?.is_some(), "helm uninstall deleted {}, which carries helm.sh/resource-policy: keep", doc.id());
    }
    env.note(format!("helm uninstall left {}", kept.iter().map(|d| d.id()).collect::<Vec<_>>().join(", ")));
    Ok(())
}

/// A ResourceQuota of no pods in `ns`, so the workloads a case installs create none; its path. Only on a
/// cluster with nodes: without, pods never run, and no controller would record the quota's usage.
fn hold_pods_back(env: &Env, ns: &str) -> Result<String> {
    let quota = json!({"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "e2e-no-pods"}, "spec": {"hard": {"pods": "0"}}});
    env.cluster.create(&format!("/api/v1/namespaces/{ns}/resourcequotas"), &quota)?;
    let path = format!("/api/v1/namespaces/{ns}/resourcequotas/e2e-no-pods");
    // Quota admission counts pods only once the quota controller has recorded its usage.
    cluster::poll(Duration::from_secs(30), Duration::from_millis(200), "the pod quota taking effect", |_| {
        Ok(env.cluster.get(&path)?.and_then(|q| q["status"]["hard"]["pods"].as_str().map(drop)))
    })?;
    Ok(path)
}

/// Lifts [`hold_pods_back`], if held (the hook Pods' dry runs would count against it); the namespace goes next.
fn release_pods(env: &Env, quota: Option<&str>) -> Result<()> {
    if let Some(path) = quota {
        env.cluster.request("DELETE", path, None)?;
    }
    Ok(())
}

enum Installed {
    Yes,
    /// The case renders a kind this cluster has no CRD for (e.g. OpenShift's Route on kind).
    KindNotServed(String),
}

/// `--dry-run=server`, then a real install with `--no-hooks` (hooks are judged apart: Helm would wait
/// for hook Jobs, which do not run on a cluster without nodes); fails on any Pod Security warning.
fn install_case(env: &Env, base: &[String]) -> Result<Installed> {
    for dry in [true, false] {
        let mut args = base.to_vec();
        args.push(if dry { "--dry-run=server" } else { "--no-hooks" }.into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = env.helm(&refs)?;
        let what = if dry { "install --dry-run=server" } else { "install" };
        if !run.success {
            if let Some(why) = kind_not_served(env.cluster, &run.stderr)? {
                return Ok(Installed::KindNotServed(why));
            }
            bail!("{what}: {}\n  reproduce: {}", run.stderr.trim(), run.command_line());
        }
        ensure!(!run.stderr.contains("PodSecurity"), "{what}: Pod Security warning: {}", run.stderr.trim());
    }
    Ok(Installed::Yes)
}

/// When Helm failed for a kind the cluster does not serve, and discovery confirms it, says which.
fn kind_not_served(cluster: &Cluster, stderr: &str) -> Result<Option<String>> {
    let Some((kind, version)) = no_matches_for_kind(stderr) else { return Ok(None) };
    let path = if version.contains('/') { format!("/apis/{version}") } else { format!("/api/{version}") };
    let served =
        cluster.get(&path)?.is_some_and(|list| list["resources"].as_array().into_iter().flatten().any(|r| r["kind"] == kind.as_str()));
    Ok((!served).then(|| format!("the cluster serves no {kind} ({version}); install its CRD to include this case")))
}

/// The kind and group/version of Helm's `no matches for kind "K" in version "G/V"` error.
fn no_matches_for_kind(stderr: &str) -> Option<(String, String)> {
    let rest = stderr.split("no matches for kind \"").nth(1)?;
    let (kind, rest) = rest.split_once('"')?;
    let version = rest.split("in version \"").nth(1)?.split('"').next()?;
    Some((kind.to_string(), version.to_string()))
}

/// Submits the release's hooks (never created by an install here), lowest weight first, so validation
/// and admission judge them: objects that run nothing are created, as Helm would; Pods, Jobs and each
/// Job's pod template (as the Pod it would create) are submitted with dryRun=All, in `ns`, where the
/// chart puts its objects (the release record, which `helm get hooks` reads, is in `release_ns`).
fn hook_pods_are_admitted(env: &Env, (release, release_ns): (&str, &str), ns: &str) -> Result<()> {
    let hooks = env.helm_ok(&["get", "hooks", release, "--namespace", release_ns])?;
    let mut docs = crate::support::manifest::parse(&hooks.stdout)?.docs;
    docs.sort_by_key(|d| {
        d.value["metadata"]["annotations"]["helm.sh/hook-weight"].as_str().and_then(|w| w.parse::<i64>().ok()).unwrap_or(0)
    });
    for doc in &docs {
        if !matches!(doc.kind(), "Pod" | "Job") {
            hook::recreate(env, ns, doc)?;
            continue;
        }
        let mut submissions = vec![(doc.api_version().to_string(), doc.kind().to_string(), serde_json::to_value(&doc.value)?)];
        if doc.kind() == "Job" {
            let template = serde_json::to_value(&doc.value["spec"]["template"])?;
            let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": doc.name(), "labels": template["metadata"]["labels"]}, "spec": template["spec"]});
            submissions.push(("v1".into(), "Pod".into(), pod));
        }
        for (api_version, kind, body) in submissions {
            let answer = env.cluster.request("POST", &format!("{}?dryRun=All", hook::collection(&api_version, &kind, ns)), Some(&body))?;
            ensure!(answer["kind"] == kind.as_str(), "hook {} ({kind}) was not admitted: {}", doc.id(), answer["message"]);
        }
    }
    Ok(())
}

/// g. The Pod Security check of f can fire: a template that is not "restricted" draws the API server's warning.
pub(crate) fn pod_security_warning_is_seen(env: &Env) -> Result<()> {
    let ns = env.namespace("podsecurity")?;
    let chart = env.chart_copy("podsecurity")?;
    // Every secret supplied, so no generator Job: on a cluster with nodes its pod (same container
    // security context) would be refused too, and Helm would wait for it until its timeout.
    let mut args = vec!["--set", "securityContext.allowPrivilegeEscalation=true"];
    for secret in SUPPLIED_SECRETS {
        args.extend(["--set-string", secret]);
    }
    let run = env.release_ok(&install(&ns, &chart, &args))?;
    ensure!(
        run.stderr.contains("PodSecurity") && run.stderr.contains("allowPrivilegeEscalation"),
        "no Pod Security warning for allowPrivilegeEscalation=true, so f's check could not fire:\n{}",
        run.stderr
    );
    // And the hook check: enforcement refuses the non-restricted test Pod.
    let err = hook_pods_are_admitted(env, (RELEASE, &ns), &ns).err().context("a non-restricted hook Pod was admitted")?;
    ensure!(format!("{err:#}").contains("violates PodSecurity"), "the hook Pod was refused for another reason: {err:#}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helms_missing_kind_error_is_read() {
        let helm3 = "Error: INSTALLATION FAILED: unable to build kubernetes objects from release manifest: resource mapping not found for name: \"heimdall\" namespace: \"e2e\" from \"\": no matches for kind \"Route\" in version \"route.openshift.io/v1\"\nensure CRDs are installed first";
        assert_eq!(no_matches_for_kind(helm3), Some(("Route".into(), "route.openshift.io/v1".into())));
        assert_eq!(no_matches_for_kind("Error: INSTALLATION FAILED: timed out"), None);
    }
}
