//! Unit tests of kubeconfig reading: contexts, embedded and relative files, every credential kind, and each refusal.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A kubeconfig with two contexts: `main` (current, token, embedded CA) and `other` (client certificate).
fn two_contexts(dir: &Path) -> PathBuf {
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: main\nclusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n    certificate-authority-data: {}\n- name: c2\n  cluster:\n    server: https://kube.example.com\n    certificate-authority: certs/ca.pem\nusers:\n- name: u1\n  user:\n    token: tok-123\n- name: u2\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\ncontexts:\n- name: main\n  context: {{cluster: c1, user: u1}}\n- name: other\n  context: {{cluster: c2, user: u2, namespace: team}}\n",
        b64("CA PEM"),
        b64("CERT PEM"),
        b64("KEY PEM")
    );
    let path = dir.join("config");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_current_context_gives_server_embedded_ca_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let c = Cluster::from_kubeconfig(&two_contexts(dir.path()), None).unwrap();
    assert_eq!((c.server.as_str(), c.context_name.as_str()), ("https://127.0.0.1:6443", "main"));
    assert_eq!(std::fs::read_to_string(c.ca_file().unwrap()).unwrap(), "CA PEM");
    assert_eq!(c.auth, Auth::Token("tok-123".into()));
    assert!(c.helm_context_args().is_empty(), "no --context asked, so Helm uses the current context too");
    assert_eq!(c.host_and_port(), ("127.0.0.1".to_string(), "6443".to_string()));
}

#[test]
fn a_named_context_gives_its_cluster_relative_ca_and_embedded_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let c = Cluster::from_kubeconfig(&two_contexts(dir.path()), Some("other")).unwrap();
    assert_eq!(c.server, "https://kube.example.com");
    assert_eq!(c.ca_file().unwrap(), dir.path().join("certs/ca.pem"), "relative paths are read from the kubeconfig's folder");
    let Auth::ClientCertificate { cert, key } = &c.auth else { panic!("not a client certificate: {:?}", c.auth) };
    assert_eq!(std::fs::read_to_string(key).unwrap(), "KEY PEM");
    assert_eq!(std::fs::read_to_string(cert).unwrap(), "CERT PEM");
    assert_eq!(std::fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600, "an embedded key is written private");
    assert_eq!(c.helm_context_args(), ["--kube-context", "other"]);
    assert_eq!(c.host_and_port(), ("kube.example.com".to_string(), "443".to_string()));
}

#[test]
fn an_unknown_context_is_refused_naming_the_ones_there_are() {
    let dir = tempfile::tempdir().unwrap();
    let err = Cluster::from_kubeconfig(&two_contexts(dir.path()), Some("prod")).err().unwrap();
    let msg = format!("{err:#}");
    assert!(msg.contains("no context named \"prod\" (it has: main, other)"), "{msg}");
    assert!(msg.contains(&dir.path().join("config").display().to_string()), "the error names the file: {msg}");
}

fn user_config(user: &str, server: &str) -> Kubeconfig {
    let text = format!(
        "current-context: x\nclusters:\n- name: c\n  cluster:\n    server: {server}\nusers:\n- name: u\n  user:\n{user}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\n"
    );
    serde_yaml::from_str(&text).unwrap()
}

fn load(user: &str, server: &str) -> Result<Cluster> {
    Cluster::from_config(user_config(user, server), Path::new("/k/config"), Path::new("/k"), None)
}

#[test]
fn what_the_client_cannot_honour_is_refused_by_name() {
    let cases = [
        ("    auth-provider: {name: gcp}", "https://h", "auth-provider"),
        ("    client-certificate: a.crt", "https://h", "client certificate without its key"),
        ("    token: t", "http://h:8080", "needs an https:// API server"),
        ("    token: t\n    as: someone", "https://h", "impersonates another user"),
    ];
    for (user, server, expected) in cases {
        let msg = format!("{:#}", load(user, server).err().expect(expected));
        assert!(msg.contains(expected), "{expected}: {msg}");
    }
    let mut tls = user_config("    token: t", "https://h");
    tls.clusters[0].item.tls_server_name = Some("api".into());
    let msg = format!("{:#}", Cluster::from_config(tls, Path::new("/k/c"), Path::new("/k"), None).err().unwrap());
    assert!(msg.contains("tls-server-name"), "{msg}");
}

#[test]
fn token_files_basic_auth_and_ipv6_servers_are_read() {
    assert_eq!(load("    tokenFile: t.txt", "https://h").unwrap().auth, Auth::TokenFile("/k/t.txt".into()));
    assert_eq!(load("    username: ann\n    password: pw", "https://h").unwrap().auth, Auth::Basic("ann:pw".into()));
    let v6 = load("    token: t", "https://[::1]:6443").unwrap();
    assert_eq!(v6.host_and_port(), ("::1".to_string(), "6443".to_string()));
    assert_eq!(load("    token: t", "https://[fd00::1]").unwrap().host_and_port(), ("fd00::1".to_string(), "443".to_string()));
    assert_eq!(
        load("    token: t", "https://kube.example:8443/prefix").unwrap().host_and_port(),
        ("kube.example".to_string(), "8443".to_string())
    );
}

#[test]
fn an_exec_plugin_is_run_with_its_env_and_its_token_used() {
    let user = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [-c, 'printf \"{\\\"status\\\":{\\\"token\\\":\\\"%s-%s\\\"}}\" \"$PREFIX\" \"$(echo $KUBERNETES_EXEC_INFO | grep -c ExecCredential)\"']\n      env: [{name: PREFIX, value: from-plugin}]";
    let c = load(user, "https://h").unwrap();
    let Auth::Exec(exec) = &c.auth else { panic!("{:?}", c.auth) };
    assert_eq!(c.exec_token(exec).unwrap(), "from-plugin-1", "the plugin sees its env and KUBERNETES_EXEC_INFO");
    let failing = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [-c, 'echo not logged in >&2; exit 3']";
    let c = load(failing, "https://h").unwrap();
    let Auth::Exec(exec) = &c.auth else { panic!() };
    let msg = format!("{:#}", c.exec_token(exec).err().unwrap());
    assert!(msg.contains("exec plugin sh failed") && msg.contains("not logged in"), "{msg}");
}

#[test]
fn a_confined_client_refuses_writes_outside_its_namespaces_before_sending() {
    let c = load("    token: t", "https://127.0.0.1:9").unwrap();
    c.confine_writes("e2e-abc-");
    let refused = [
        ("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", None),
        ("DELETE", "/api/v1/namespaces/default/secrets/x", None),
        ("PATCH", "/apis/apps/v1/namespaces/kube-system/deployments/x?force=true", None),
        ("POST", "/api/v1/namespaces", Some(("application/json", r#"{"metadata":{"name":"prod"}}"#))),
        ("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x", None),
    ];
    for (method, path, body) in refused {
        let msg = format!("{:#}", c.request_typed(method, path, body).err().unwrap());
        assert!(msg.contains("writes only inside its own namespaces (e2e-abc-*)"), "{method} {path}: {msg}");
    }
    // Allowed writes get past the guard and fail only on the network (nothing listens on port 9).
    let allowed = [
        ("POST", "/api/v1/namespaces/e2e-abc-a-h3/secrets", None),
        ("DELETE", "/api/v1/namespaces/e2e-abc-a-h3", None),
        ("POST", "/apis/batch/v1/namespaces/e2e-abc-f-h4/jobs?dryRun=All", None),
        ("POST", "/api/v1/namespaces", Some(("application/json", r#"{"metadata":{"name":"e2e-abc-b-h3"}}"#))),
        ("GET", "/api/v1/nodes", None),
    ];
    for (method, path, body) in allowed {
        let msg = format!("{:#}", c.request_typed(method, path, body).err().unwrap());
        assert!(msg.contains("curl:"), "{method} {path} should reach curl: {msg}");
    }
    // Several requests in one curl: one outside the namespaces refuses them all before any is sent.
    let inside = ("/api/v1/namespaces/e2e-abc-a-h3/secrets".to_string(), serde_json::json!({}));
    let outside = ("/api/v1/namespaces/default/secrets".to_string(), serde_json::json!({}));
    let msg = format!("{:#}", c.request_many("POST", &[inside.clone(), outside]).err().unwrap());
    assert!(msg.contains("writes only inside its own namespaces"), "{msg}");
    let msg = format!("{:#}", c.request_many("POST", &[inside.clone(), inside]).err().unwrap());
    assert!(msg.contains("2 POST requests") && msg.contains("curl:"), "both reach curl: {msg}");
    assert!(c.request_many("POST", &[]).unwrap().is_empty());
}

#[test]
fn no_credential_appears_on_curls_command_line() {
    let exec = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [-c, 'printf \"{\\\"status\\\":{\\\"token\\\":\\\"exec-secret-token\\\"}}\"']";
    let users = [
        ("    token: static-secret-token", "static-secret-token"),
        (exec, "exec-secret-token"),
        ("    username: ann\n    password: basic-secret-pw", "basic-secret-pw"),
    ];
    for (user, secret) in users {
        let c = load(user, "https://h").unwrap();
        for token in [None, Some("sa-secret-token")] {
            let (cmd, _file) = c.curl_command("GET", "/api", token, false).unwrap();
            let argv: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
            let shown = argv.join(" ");
            assert!(!shown.contains(secret) && !shown.contains("sa-secret-token"), "a credential on argv: {shown}");
            let sent = argv
                .iter()
                .filter_map(|a| a.strip_prefix('@'))
                .chain(argv.windows(2).filter(|w| w[0] == "--config").map(|w| w[1].as_str()));
            let files: String = sent.map(|f| std::fs::read_to_string(f).unwrap()).collect();
            let expected = token.unwrap_or(secret);
            assert!(files.contains(expected), "{expected} is not in the files curl reads: {files}");
        }
    }
}

#[test]
fn poll_returns_what_the_check_found_and_times_out_with_the_checks_own_message_or_a_generic_one() {
    let mut calls = 0;
    let found = poll(Duration::from_secs(5), Duration::from_millis(1), "x", |_| {
        calls += 1;
        Ok((calls == 3).then_some("third"))
    });
    assert_eq!(found.unwrap(), "third");
    let generic = poll::<()>(Duration::from_millis(5), Duration::from_millis(1), "the thing", |_| Ok(None)).unwrap_err();
    assert!(generic.to_string().contains("the thing did not happen within 0 s"), "{generic}");
    let own = poll::<()>(Duration::from_millis(5), Duration::from_millis(1), "the thing", |up| {
        ensure!(!up, "pod p: ImagePullBackOff");
        Ok(None)
    })
    .unwrap_err();
    assert_eq!(own.to_string(), "pod p: ImagePullBackOff");
}
