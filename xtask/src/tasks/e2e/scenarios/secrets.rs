//! Scenarios a to e: the secrets' lifecycle under Helm's own behaviour. Generated secrets survive upgrades and uninstall, an existingSecret is checked and used, a changed DATABASE_PASSWORD needs consent, and changed values reach the Secret and roll the pods.

use crate::tasks::e2e::*;

/// a. Generated secrets survive upgrades byte for byte; the chart's own Secret and release hold none of them.
pub(crate) fn generated_secrets_survive_upgrades(env: &Env) -> Result<()> {
    let ns = env.namespace("generate")?;
    let chart = env.chart_copy("generate")?;
    env.release_ok(&install(&ns, &chart, &[]))?;
    let first = generated_secret(env, &ns)?;
    let chart_secret = env.secret(&ns, &chart_secret_name())?.context("the chart's Secret is missing")?;
    ensure!(chart_secret.is_empty(), "the chart's Secret holds keys although nothing was supplied: {:?}", chart_secret.keys());
    let checksum = env.checksum(&ns)?;
    env.release_ok(&upgrade(&ns, &chart, &[]))?;
    ensure!(generated_secret(env, &ns)? == first, "an upgrade with no change rotated a generated secret");
    ensure!(env.checksum(&ns)? == checksum, "an upgrade with no change changed checksum/secrets");
    env.release_ok(&upgrade(&ns, &chart, &["--set", "replicaCount=2"]))?;
    ensure!(generated_secret(env, &ns)? == first, "an upgrade of an unrelated value rotated a generated secret");
    ensure!(env.checksum(&ns)? == checksum, "an upgrade of an unrelated value changed checksum/secrets");
    ensure!(env.deployment(&ns)?.unwrap()["spec"]["replicas"] == 2, "the unrelated value did not reach the Deployment");
    no_generated_value_in_release(env, &ns, &first)
}

/// The release record (manifest, hooks, notes, values) holds no generated value.
fn no_generated_value_in_release(env: &Env, ns: &str, generated: &BTreeMap<String, String>) -> Result<()> {
    for what in ["all", "hooks"] {
        let text = env.helm_ok(&["get", what, RELEASE, "--namespace", ns])?.stdout;
        for (k, v) in generated {
            ensure!(!text.contains(v.as_str()), "helm get {what} shows the generated {k}");
        }
    }
    Ok(())
}

/// b. `helm uninstall` leaves the generator's Secret (Helm does not own it); a new install of the release reuses it.
pub(crate) fn uninstall_keeps_secret_and_reinstall_reuses_it(env: &Env) -> Result<()> {
    let ns = env.namespace("reinstall")?;
    let chart = env.chart_copy("reinstall")?;
    env.release_ok(&install(&ns, &chart, &[]))?;
    let first = generated_secret(env, &ns)?;
    env.helm_ok(&["uninstall", RELEASE, "--namespace", &ns])?;
    ensure!(env.deployment(&ns)?.is_none(), "the Deployment outlived helm uninstall");
    ensure!(
        env.secret(&ns, &generated_secret_name())? == Some(first.clone()),
        "the generated Secret did not outlive helm uninstall unchanged"
    );
    env.release_ok(&install(&ns, &chart, &[]))?;
    ensure!(generated_secret(env, &ns)? == first, "a reinstall did not reuse the generated secrets");
    Ok(())
}

/// c. existingSecret: a missing (mapped) key fails the install naming it; a complete one works, the chart makes no Secret, and NOTES names a key Heimdall does not read.
pub(crate) fn existing_secret_is_checked_and_used(env: &Env) -> Result<()> {
    let ns = env.namespace("existing")?;
    let chart = env.chart_copy("existing")?;
    let jwt = "e2e-existing-jwt-secret-0000000000000000000000000000000000000000000000";
    env.create_secret(
        &ns,
        "incomplete",
        &[("jwt", jwt), ("API_KEY_SECRET", "e2e-api-key-secret-00000000000000000"), ("DATABASE_PASSWORD", "e2e-database-password-0000")],
    )?;
    let run = env.release(&install(
        &ns,
        &chart,
        &["--set", "heimdall.existingSecret=incomplete", "--set", "heimdall.existingSecretKeys.JWT_SECRET=jwt"],
    ))?;
    ensure!(!run.success, "install with an incomplete existingSecret succeeded");
    ensure!(
        run.stderr.contains("lacks required keys: ADMIN_PASSWORD (key ADMIN_PASSWORD)") && !run.stderr.contains("JWT_SECRET (key jwt)"),
        "the failure does not name exactly the missing key:\n{}",
        run.stderr
    );
    env.create_secret(
        &ns,
        "complete",
        &[
            ("jwt", jwt),
            ("API_KEY_SECRET", "e2e-api-key-secret-00000000000000000"),
            ("DATABASE_PASSWORD", "e2e-database-password-0000"),
            ("ADMIN_PASSWORD", "E2e-Admin-Password-1"),
            // Heimdall reads GITLAB_SECRET: install reports this key in NOTES without failing.
            ("GITLAB_CLIENTSECRET", "e2e-gitlab-secret-under-the-wrong-name"),
        ],
    )?;
    let installed = env.release_ok(&install(
        &ns,
        &chart,
        &["--set", "heimdall.existingSecret=complete", "--set", "heimdall.existingSecretKeys.JWT_SECRET=jwt"],
    ))?;
    ensure!(env.secret(&ns, &chart_secret_name())?.is_none(), "the chart created an app Secret beside existingSecret");
    ensure!(
        installed.stdout.contains("heimdall.existingSecret complete has keys Heimdall does not read: GITLAB_CLIENTSECRET."),
        "NOTES does not report the unknown key:\n{}",
        installed.stdout
    );
    let d = env.deployment(&ns)?.context("no Deployment")?;
    let env_vars = &d["spec"]["template"]["spec"]["containers"][0]["env"];
    let jwt_ref = env_vars.as_array().into_iter().flatten().find(|e| e["name"] == "JWT_SECRET").context("no JWT_SECRET env")?;
    ensure!(
        jwt_ref["valueFrom"]["secretKeyRef"] == json!({"name": "complete", "key": "jwt", "optional": false}),
        "JWT_SECRET does not come from complete/jwt: {jwt_ref}"
    );
    Ok(())
}

/// d. With the embedded database, changing DATABASE_PASSWORD is refused unless explicitly allowed.
pub(crate) fn database_password_change_needs_consent(env: &Env) -> Result<()> {
    let ns = env.namespace("dbpassword")?;
    let chart = env.chart_copy("dbpassword")?;
    let (p1, p2) = (
        "heimdall.secrets.DATABASE_PASSWORD=e2e-first-database-password",
        "heimdall.secrets.DATABASE_PASSWORD=e2e-second-database-password",
    );
    env.release_ok(&install(&ns, &chart, &["--set-string", p1]))?;
    let run = env.release(&upgrade(&ns, &chart, &["--set-string", p2]))?;
    ensure!(!run.success, "an upgrade changing DATABASE_PASSWORD went through");
    ensure!(
        run.stderr.contains("differs from the one stored") && run.stderr.contains("allowDatabasePasswordChange"),
        "the refusal does not explain itself:\n{}",
        run.stderr
    );
    ensure!(stored_database_password(env, &ns)? == "e2e-first-database-password", "the refused upgrade changed the Secret");
    env.release_ok(&upgrade(&ns, &chart, &["--set-string", p2, "--set", "heimdall.allowDatabasePasswordChange=true"]))?;
    ensure!(stored_database_password(env, &ns)? == "e2e-second-database-password", "the allowed change did not reach the Secret");
    generated_database_password_change_needs_consent(env)
}

fn stored_database_password(env: &Env, ns: &str) -> Result<String> {
    let s = env.secret(ns, &chart_secret_name())?.context("the chart's Secret is missing")?;
    s.get("DATABASE_PASSWORD").cloned().context("the chart's Secret lacks DATABASE_PASSWORD")
}

/// d, continued: a generated DATABASE_PASSWORD is guarded too; supplying another one is refused, naming the generator's Secret.
fn generated_database_password_change_needs_consent(env: &Env) -> Result<()> {
    let ns = env.namespace("dbgenerated")?;
    let chart = env.chart_copy("dbgenerated")?;
    env.release_ok(&install(&ns, &chart, &[]))?;
    let generated = generated_secret(env, &ns)?;
    let run = env.release(&upgrade(&ns, &chart, &["--set-string", "heimdall.secrets.DATABASE_PASSWORD=e2e-supplied-database-password"]))?;
    ensure!(!run.success, "an upgrade replacing the generated DATABASE_PASSWORD went through");
    ensure!(
        run.stderr.contains(&format!("differs from the one stored in Secret {}", generated_secret_name())),
        "the refusal does not name the generator's Secret:\n{}",
        run.stderr
    );
    ensure!(!run.stderr.contains(generated["DATABASE_PASSWORD"].as_str()), "the refusal prints the stored password");
    let same = format!("heimdall.secrets.DATABASE_PASSWORD={}", generated["DATABASE_PASSWORD"]);
    env.release_ok(&upgrade(&ns, &chart, &["--set-string", &same]))?;
    ensure!(generated_secret(env, &ns)? == generated, "supplying the stored password changed the generator's Secret");
    Ok(())
}

/// e. A changed file or inline value changes the live Secret and the checksum; a removed inline key leaves the Secret.
pub(crate) fn changed_values_reach_the_secret_and_roll_pods(env: &Env) -> Result<()> {
    let ns = env.namespace("changes")?;
    let chart = env.chart_copy("changes")?;
    let file = chart.join("env/heimdall-secrets.yaml");
    let write = |jwt: &str| {
        std::fs::write(&file, format!("JWT_SECRET: \"{jwt}\"\nAPI_KEY_SECRET: \"e2e-file-api-key-secret-00000000000\"\nDATABASE_PASSWORD: \"e2e-file-database-password\"\nADMIN_PASSWORD: \"E2e-File-Admin-Pass\"\n"))
    };
    let jwt1 = "e2e-file-jwt-secret-one-000000000000000000000000000000000000000000000000";
    let jwt2 = "e2e-file-jwt-secret-two-000000000000000000000000000000000000000000000000";
    write(jwt1)?;
    // An optional secret that needs no partner setting (a provider's client secret would need its client ID).
    let ldap = ["--set-string", "heimdall.secrets.LDAP_PASSWORD=e2e-ldap-bind-password"];
    env.release_ok(&install(&ns, &chart, &ldap))?;
    let s1 = required_secret(env, &ns)?;
    let c1 = env.checksum(&ns)?;
    ensure!(
        s1["JWT_SECRET"] == jwt1 && s1.get("LDAP_PASSWORD").map(String::as_str) == Some("e2e-ldap-bind-password"),
        "the install did not store the file and inline values"
    );
    write(jwt2)?;
    env.release_ok(&upgrade(&ns, &chart, &ldap))?;
    let c2 = env.checksum(&ns)?;
    ensure!(required_secret(env, &ns)?["JWT_SECRET"] == jwt2, "a changed secrets file did not reach the live Secret");
    ensure!(c2 != c1, "a changed secrets file did not change checksum/secrets");
    let inline = "heimdall.secrets.JWT_SECRET=e2e-inline-jwt-secret-00000000000000000000000000000000000000000000000000";
    env.release_ok(&upgrade(&ns, &chart, &[ldap[0], ldap[1], "--set-string", inline]))?;
    let s3 = required_secret(env, &ns)?;
    ensure!(s3["JWT_SECRET"].starts_with("e2e-inline-jwt"), "an inline value did not override the file in the live Secret");
    ensure!(env.checksum(&ns)? != c2, "a changed inline value did not change checksum/secrets");
    env.release_ok(&upgrade(&ns, &chart, &["--set-string", inline]))?;
    ensure!(!required_secret(env, &ns)?.contains_key("LDAP_PASSWORD"), "a key removed from the inline secrets stayed in the live Secret");
    Ok(())
}
