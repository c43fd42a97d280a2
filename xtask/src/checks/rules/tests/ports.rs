//! HC022, named and numbered ports, firing on ports that resolve to nothing.

use super::*;

#[test]
fn a_service_targeting_a_port_no_container_declares_is_hc022s_not_hc014s() {
    let yaml = good_yaml().replace("ports: [{port: 5432, targetPort: postgresql}]", "ports: [{port: 5432, targetPort: 5433}]");
    let intent = Intent { embedded_database: true, ..inline_intent() };
    let found = findings_with(&yaml, &intent, &[], None);
    assert!(
        found.iter().any(|f| f.contains("targetPort 5433 is no port a container of StatefulSet/r-heimdall-postgresql declares")),
        "{found:#?}"
    );
    fires("HC022", &yaml, &intent, &[], None);
}

#[test]
fn hc022_fires_on_a_probe_service_or_backend_port_that_resolves_to_nothing() {
    let intent = inline_intent();
    let probe = |port: &str| {
        good_yaml().replace(
            "ports: [{name: http, containerPort: 3000, protocol: TCP}]",
            &format!("ports: [{{name: http, containerPort: 3000, protocol: TCP}}]\n          readinessProbe: {{httpGet: {{path: /server, port: {port}}}}}"),
        )
    };
    assert!(findings_with(&probe("http"), &intent, &[], None).is_empty());
    assert!(findings_with(&probe("3000"), &intent, &[], None).is_empty());
    fires("HC022", &probe("8080"), &intent, &[], None);
    fires("HC022", &probe("web"), &intent, &[], None);
    fires("HC022", &good_yaml().replace("targetPort: http}", "targetPort: 8080}"), &intent, &[], None);
    fires("HC022", &good_yaml().replace("targetPort: postgresql}", "targetPort: pg}"), &intent, &[], None);
    let ingress = |port: &str| {
        format!(
            "{}---\n# Source: heimdall/templates/ingress.yaml\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec: {{rules: [{{host: h.example, http: {{paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: r-heimdall, port: {port}}}}}}}]}}}}]}}\n",
            good_yaml()
        )
    };
    assert!(findings_with(&ingress("{number: 3000}"), &intent, &[], None).is_empty());
    fires("HC022", &ingress("{number: 80}"), &intent, &[], None);
    fires("HC022", &ingress("{name: http}"), &intent, &[], None);
}
