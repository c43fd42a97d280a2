//! Strict schema validation against the installed schemas rejects what it must: unknown fields, wrong types, unknown kinds, and a malformed HTTPRoute.

use xtask::engine::schema::Schemas;
use xtask::support::manifest::parse;

fn problems(kube: &str, yaml: &str) -> Vec<String> {
    let schemas = Schemas::installed();
    let m = parse(yaml).unwrap();
    m.docs.iter().flat_map(|d| schemas.validate(kube, d)).collect()
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: x}]\n";

#[test]
fn a_valid_document_passes_in_the_oldest_and_newest_versions() {
    for kube in ["1.30.0", "1.37.0"] {
        assert_eq!(problems(kube, DEPLOYMENT), Vec::<String>::new(), "Kubernetes {kube}");
    }
}

#[test]
fn an_unknown_field_is_rejected_naming_document_and_path() {
    let p = problems("1.30.0", &DEPLOYMENT.replace("  selector:", "  replicass: 2\n  selector:"));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].contains("Deployment/d") && p[0].contains("replicass"), "{p:?}");
}

#[test]
fn a_wrong_type_deep_in_a_pod_template_is_rejected() {
    let p = problems("1.37.0", &DEPLOYMENT.replace("image: x}", "image: x, ports: [{containerPort: http}]}"));
    assert!(p.iter().any(|e| e.contains("/spec/template/spec/containers/0/ports/0/containerPort")), "{p:?}");
}

#[test]
fn an_unknown_kind_is_an_error_not_a_skip() {
    let p = problems("1.37.0", "apiVersion: example.org/v1\nkind: Widget\nmetadata: {name: w}\n");
    assert!(p.len() == 1 && p[0].contains("no schema for example.org/v1 Widget"), "{p:?}");
}

#[test]
fn httproute_is_validated_strictly_against_its_crd() {
    let ok = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  parentRefs: [{name: gw}]\n  rules: [{backendRefs: [{name: s, port: 80}]}]\n";
    assert_eq!(problems("1.37.0", ok), Vec::<String>::new());
    let p = problems("1.37.0", &ok.replace("parentRefs: [{name: gw}]", "parentRefs: [{name: gw, sectionNam: https}]"));
    assert!(p.iter().any(|e| e.contains("HTTPRoute/r") && e.contains("sectionNam")), "{p:?}");
}
