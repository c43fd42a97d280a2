//! Scenarios h and i: the secrets generator's RBAC and logic against the real API server, and a GitOps tool's client-side renders applied twice.

use crate::support::manifest::{self, Doc};
use crate::tasks::e2e::hook::{self, Generator};
use crate::tasks::e2e::{generated_secret, generated_secret_name, Env, RELEASE};
use anyhow::{ensure, Context, Result};
use serde_json::Value as Json;

/// The generator of the chart's default rendering for namespace `ns`, rendered client-side (as Argo CD does).
fn rendered_generator(env: &Env, ns: &str, name: &str) -> Result<(Vec<Doc>, Generator)> {
    let chart = env.chart_copy(name)?;
    let text = env.helm_ok(&["template", RELEASE, chart.to_str().unwrap(), "--namespace", ns])?.stdout;
    let docs = manifest::parse(&text)?.docs;
    let generator = Generator::from_docs(&docs).context("the default rendering has no secrets generator Job")?;
    let script = hook::script(&chart)?;
    let command = &generator.job.value["spec"]["template"]["spec"]["containers"][0]["command"];
    ensure!(command[2].as_str() == Some(script.as_str()), "the Job does not run heimdall/files/secrets-generator.js verbatim");
    Ok((docs, generator))
}

fn log_of(out: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// The HTTP status of a request made with `token` (200, 201, 403, ...).
fn status_as(env: &Env, token: &str, method: &str, path: &str, body: Option<(&str, &str)>) -> Result<i64> {
    let answer = env.cluster.request_as(token, method, path, body)?;
    Ok(if answer["kind"] == "Status" { answer["code"].as_i64().unwrap_or(0) } else { 200 })
}

/// h. The generator, as its ServiceAccount: it may create and read its own Secret and nothing else; it fills
/// what is absent (copying from the chart's Secret first), keeps what is present byte for byte, is idempotent
/// and safe to run concurrently, and fails clearly.
pub fn generator_rbac_and_logic(env: &Env) -> Result<()> {
    let ns = env.namespace("generator")?;
    let (_, generator) = rendered_generator(env, &ns, "generator")?;
    generator.create_rbac(env, &ns)?;
    let token = generator.token(env, &ns)?;
    only_its_own_secret(env, &ns, &token)?;
    fills_absent_keys_only(env, &ns, &generator, &token)?;
    safe_concurrently(env, &ns, &generator, &token)?;
    fails_clearly(env, &generator, &token)
}

/// A request body: content type and text.
type Body<'a> = Option<(&'a str, &'a str)>;

fn only_its_own_secret(env: &Env, ns: &str, token: &str) -> Result<()> {
    let secrets = format!("/api/v1/namespaces/{ns}/secrets");
    env.create_secret(ns, "unrelated", &[("password", "e2e-unrelated-password")])?;
    let apply = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"unrelated"},"data":{"x":"eA=="}}"#;
    let attempts: [(&str, String, Body); 6] = [
        ("GET", format!("{secrets}/unrelated"), None),
        ("GET", secrets.clone(), None),
        ("POST", secrets.clone(), Some(("application/json", apply))),
        ("PATCH", format!("{secrets}/unrelated?fieldManager=e2e"), Some(("application/apply-patch+yaml", apply))),
        ("DELETE", format!("{secrets}/{}", generated_secret_name()), None),
        ("GET", format!("/api/v1/namespaces/{ns}/configmaps"), None),
    ];
    for (method, path, body) in attempts {
        let code = status_as(env, token, method, &path, body)?;
        ensure!(code == 403, "the generator's ServiceAccount got {code}, not 403, for {method} {path}");
    }
    let code = status_as(env, token, "GET", &format!("{secrets}/{}", generated_secret_name()), None)?;
    ensure!(code == 404, "the generator's ServiceAccount could not read its own (absent) Secret: {code}");
    Ok(())
}

fn fills_absent_keys_only(env: &Env, ns: &str, generator: &Generator, token: &str) -> Result<()> {
    // A release of an older chart version stored JWT_SECRET in the chart's Secret; someone set API_KEY_SECRET by hand.
    let (old_jwt, preset) = ("e2e-older-release-jwt-secret-".repeat(5), "e2e-preset-api-key-secret-value-000000000");
    env.create_secret(ns, &format!("{RELEASE}-secrets"), &[("JWT_SECRET", &old_jwt)])?;
    env.create_secret(ns, &generated_secret_name(), &[("API_KEY_SECRET", preset)])?;
    let out = generator.run(env, token, &[])?;
    let log = log_of(&out);
    ensure!(out.status.success(), "the generator failed:\n{log}");
    let first = env.secret(ns, &generated_secret_name())?.context("no generated Secret")?;
    ensure!(first["API_KEY_SECRET"] == preset, "the generator changed a key that was present");
    ensure!(first["JWT_SECRET"] == old_jwt, "the generator did not copy JWT_SECRET from the chart's Secret");
    ensure!(
        first.len() == 4 && first["DATABASE_PASSWORD"].len() == 66 && first["ADMIN_PASSWORD"].starts_with("Admin_"),
        "missing keys were not generated in their shapes"
    );
    ensure!(
        log.contains("copied from Secret heimdall-secrets: JWT_SECRET") && log.contains("generated: ADMIN_PASSWORD, DATABASE_PASSWORD"),
        "the log does not say what was copied and generated:\n{log}"
    );
    ensure!(first.values().all(|v| !log.contains(v.as_str())), "the generator's log shows a secret value");
    let again = generator.run(env, token, &[])?;
    ensure!(
        again.status.success() && log_of(&again).contains("nothing changed"),
        "a second run did not report nothing changed:\n{}",
        log_of(&again)
    );
    ensure!(env.secret(ns, &generated_secret_name())? == Some(first), "a second run changed the Secret");
    Ok(())
}

/// Eight runs at once on an absent Secret, in rounds until one run has lost a race (409 Conflict): every run
/// succeeds, exactly one generates each key, and a later run changes nothing.
fn safe_concurrently(env: &Env, ns: &str, generator: &Generator, token: &str) -> Result<()> {
    env.cluster.request("DELETE", &format!("/api/v1/namespaces/{ns}/secrets/{RELEASE}-secrets"), None)?;
    for round in 1..=10 {
        env.cluster.request("DELETE", &format!("/api/v1/namespaces/{ns}/secrets/{}", generated_secret_name()), None)?;
        let logs = concurrent_runs(generator, env, token, 8)?;
        let after = generated_secret(env, ns)?;
        for key in after.keys() {
            let makers = logs.iter().filter(|l| l.lines().any(|line| line.contains("generated: ") && line.contains(key.as_str()))).count();
            ensure!(makers == 1, "{makers} concurrent runs generated {key}; exactly one may:\n{}", logs.join("\n"));
        }
        let out = generator.run(env, token, &[])?;
        ensure!(out.status.success() && generated_secret(env, ns)? == after, "a run after the concurrent ones changed the Secret");
        let conflicts = logs.iter().filter(|l| l.contains("409 Conflict")).count();
        if conflicts > 0 {
            env.note(format!("8 concurrent generator runs (round {round}): one generated the keys, {conflicts} lost a race with 409 Conflict and kept its value"));
            return Ok(());
        }
    }
    anyhow::bail!("in 10 rounds of 8 concurrent runs none lost a race, so the conflict path went unproven")
}

fn concurrent_runs(generator: &Generator, env: &Env, token: &str, n: usize) -> Result<Vec<String>> {
    let children = (0..n).map(|_| generator.spawn(env, token, &[])).collect::<Result<Vec<_>>>()?;
    let mut logs = Vec::new();
    for child in children {
        let out = child.wait_with_output()?;
        ensure!(out.status.success(), "a concurrent run failed:\n{}", log_of(&out));
        logs.push(log_of(&out));
    }
    Ok(logs)
}

fn fails_clearly(env: &Env, generator: &Generator, token: &str) -> Result<()> {
    let cases = [
        (vec![("GENERATED_SECRET", "unrelated")], vec!["HTTP 403", "Secret unrelated", "Role"]),
        (vec![("GENERATE_KEYS", "JWT_SECRET,SESSION_SECRET")], vec!["SESSION_SECRET", "no shape"]),
        (vec![("NAMESPACE", "")], vec!["NAMESPACE is not set"]),
    ];
    for (overrides, expected) in cases {
        let out = generator.run(env, token, &overrides)?;
        let log = log_of(&out);
        ensure!(!out.status.success(), "the generator succeeded with {overrides:?}");
        ensure!(expected.iter().all(|e| log.contains(e)), "with {overrides:?} the error does not say {expected:?}:\n{log}");
        ensure!(!log.contains("    at "), "with {overrides:?} the error is a stack trace, not a message:\n{log}");
    }
    Ok(())
}

/// i. Argo CD: each sync renders the chart client-side (no `lookup`), runs the PreSync hooks, then applies the
/// rest with server-side apply. Two syncs must render identically and change no secret.
pub fn gitops_syncs_change_no_secret(env: &Env) -> Result<()> {
    let ns = env.namespace("argocd")?;
    let mut renders = Vec::new();
    let mut states = Vec::new();
    for sync in 1..=2 {
        let (docs, generator) = rendered_generator(env, &ns, "argocd")?;
        generator.run_hook(env, &ns, "as Argo CD's PreSync phase would, between its render and its apply")?;
        for doc in docs.iter().filter(|d| d.value["metadata"]["annotations"]["helm.sh/hook"].is_null()) {
            server_side_apply(env, &ns, doc).with_context(|| format!("sync {sync}: applying {}", doc.id()))?;
        }
        renders.push(docs);
        states.push((generated_secret(env, &ns)?, env.secret(&ns, &format!("{RELEASE}-secrets"))?.context("no chart Secret")?));
    }
    ensure!(renders[0] == renders[1], "two client-side renders of the same inputs differ");
    ensure!(states[0] == states[1], "the second sync changed a secret");
    let text = serde_json::to_string(&renders[0].iter().map(|d| &d.value).collect::<Vec<_>>())?;
    ensure!(states[0].0.values().all(|v| !text.contains(v.as_str())), "a generated value appears in the render");
    let d = env.deployment(&ns)?.context("no Deployment")?;
    let jwt = d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == "JWT_SECRET")
        .context("no JWT_SECRET")?;
    ensure!(
        jwt["valueFrom"]["secretKeyRef"]["name"] == generated_secret_name().as_str(),
        "JWT_SECRET is not read from the generator's Secret: {jwt}"
    );
    Ok(())
}

fn server_side_apply(env: &Env, ns: &str, doc: &Doc) -> Result<()> {
    let path = format!("{}/{}?fieldManager=argocd-controller&force=true", hook::collection_of(doc, ns), doc.name());
    let body = serde_json::to_string(&doc.value)?;
    let answer: Json = env.cluster.request_typed("PATCH", &path, Some(("application/apply-patch+yaml", &body)))?;
    ensure!(answer["kind"] != "Status", "server-side apply refused: {}", answer["message"]);
    Ok(())
}
