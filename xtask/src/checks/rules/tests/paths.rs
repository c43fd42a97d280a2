//! HC025, the paths the server serves, firing on one it does not.

use super::*;

#[test]
fn hc025_fires_on_a_probe_or_test_url_path_the_server_does_not_serve() {
    let intent = Intent { served_paths: Some(BTreeSet::from(["/server".to_string(), "/".to_string()])), ..inline_intent() };
    let probe = |path: &str| {
        good_yaml().replace(
            "ports: [{name: http, containerPort: 3000, protocol: TCP}]",
            &format!("ports: [{{name: http, containerPort: 3000, protocol: TCP}}]\n          readinessProbe: {{httpGet: {{path: {path}, port: http}}}}"),
        )
    };
    assert!(findings_with(&probe("/server"), &intent, &[], None).is_empty());
    fires("HC025", &probe("/health"), &intent, &[], None);
    let test_pod = |url: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/tests/connection.yaml\napiVersion: v1\nkind: Pod\nmetadata: {{name: r-heimdall-test, labels: {LABELS}}}\nspec: {{enableServiceLinks: false, securityContext: {{runAsNonRoot: true, seccompProfile: {{type: RuntimeDefault}}}}, containers: [{{name: test, image: docker.io/mitre/heimdall2:2.13.1, securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {{drop: [ALL]}}, seccompProfile: {{type: RuntimeDefault}}}}, env: [{{name: URL, value: '{url}'}}]}}]}}\n",
            good_yaml()
        )
    };
    // The hand-written test pod draws other rules' findings (it is no hook); only HC025's may change.
    let good = findings_with(&test_pod("http://r-heimdall:3000/server"), &intent, &[], None);
    assert!(good.iter().all(|f| !f.starts_with("HC025")), "{good:#?}");
    let bad = findings_with(&test_pod("http://r-heimdall:3000/api/health"), &intent, &[], None);
    let (hc025, rest): (Vec<String>, Vec<String>) = bad.into_iter().partition(|f| f.starts_with("HC025"));
    assert!(hc025.len() == 1 && hc025[0].contains("/api/health"), "{hc025:#?}");
    assert_eq!(rest, good);
}
