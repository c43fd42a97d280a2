//! The chart's values contract: every value in values.yaml is documented by a comment and typed by values.schema.json.

use heimdall_chart_tests::repo_root;
use serde_json::Value as Json;
use serde_yaml::Value;

/// Values that are Kubernetes objects passed through as they are: their
/// fields are Kubernetes' own and documented there, not per field here.
const KUBERNETES_OBJECTS: [&str; 4] = ["podSecurityContext", "securityContext", "resources", "hosts"];

#[test]
fn every_value_has_a_comment_above_it() {
    let text = std::fs::read_to_string(repo_root().join("heimdall/values.yaml")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut undocumented = Vec::new();
    // (indent, key) of the enclosing keys.
    let mut stack: Vec<(usize, String)> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('-') {
            continue;
        }
        let Some((key, _)) = trimmed.split_once(':') else { continue };
        while stack.last().is_some_and(|(d, _)| *d >= indent) {
            stack.pop();
        }
        let inside_object = stack.iter().any(|(_, k)| KUBERNETES_OBJECTS.contains(&k.as_str()));
        let above = lines[..i].iter().rev().find(|l| !l.trim().is_empty()).map(|l| l.trim_start()).unwrap_or("");
        if !inside_object && !above.starts_with('#') {
            undocumented.push(format!("line {}: {}", i + 1, key));
        }
        stack.push((indent, key.to_string()));
    }
    assert!(undocumented.is_empty(), "values without a comment above them: {undocumented:#?}");
}

fn walk(value: &Value, schema: &Json, path: String, missing: &mut Vec<String>) {
    let Value::Mapping(map) = value else { return };
    let props = &schema["properties"];
    for (k, v) in map {
        let key = k.as_str().unwrap().to_string();
        let sub = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
        match props.get(&key) {
            Some(s) => {
                if s.get("description").is_none() {
                    missing.push(format!("{sub}: no description in the schema"));
                }
                if s.get("properties").is_some() {
                    walk(v, s, sub, missing);
                }
            }
            None if schema.get("additionalProperties").is_some_and(|a| a.is_object()) => {}
            None => missing.push(format!("{sub}: not in values.schema.json")),
        }
    }
}

#[test]
fn values_schema_covers_every_value_and_rejects_typos() {
    let values: Value = serde_yaml::from_str(&std::fs::read_to_string(repo_root().join("heimdall/values.yaml")).unwrap()).unwrap();
    let schema: Json = serde_json::from_str(&std::fs::read_to_string(repo_root().join("heimdall/values.schema.json")).unwrap()).unwrap();
    let mut missing = Vec::new();
    walk(&values, &schema, String::new(), &mut missing);
    assert!(missing.is_empty(), "{missing:#?}");
    assert_eq!(schema["additionalProperties"], Json::Bool(false), "a misspelt top-level value would pass silently");
    for block in ["heimdall", "postgresql", "externalDatabase", "ingress", "httpRoute", "autoscaling", "networkPolicy"] {
        assert_eq!(
            schema["properties"][block]["additionalProperties"],
            Json::Bool(false),
            "a misspelt {block}.* value would pass silently"
        );
    }
    assert_eq!(schema["properties"]["heimdall"]["properties"]["secrets"]["propertyNames"]["pattern"], "^[A-Z_][A-Z0-9_]*$");
}

/// httpRoute's timeouts and filters land in the HTTPRoute's rule as they are, so the values schema
/// must take what the Gateway API CRD takes there: the same duration form, filter types and count.
#[test]
fn http_route_timeouts_and_filters_follow_the_gateway_api_crd() {
    let crd = xtask::support::tools::CRDS.iter().find(|c| c.kind == "HTTPRoute").unwrap().installed();
    let crd: Json = serde_yaml::from_str(&std::fs::read_to_string(&crd).expect("the HTTPRoute CRD: run `cargo xtask setup`")).unwrap();
    let v1 = crd["spec"]["versions"].as_array().unwrap().iter().find(|v| v["name"] == "v1").unwrap();
    let rule = &v1["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["rules"]["items"]["properties"];
    let schema: Json = serde_json::from_str(&std::fs::read_to_string(repo_root().join("heimdall/values.schema.json")).unwrap()).unwrap();
    let ours = &schema["properties"]["httpRoute"]["properties"];
    for timeout in ["request", "backendRequest"] {
        let pattern = &rule["timeouts"]["properties"][timeout]["pattern"];
        assert!(pattern.is_string(), "the CRD has no {timeout} pattern");
        assert_eq!(&ours["timeouts"]["properties"][timeout]["pattern"], pattern, "httpRoute.timeouts.{timeout}");
    }
    assert_eq!(ours["filters"]["items"]["properties"]["type"]["enum"], rule["filters"]["items"]["properties"]["type"]["enum"]);
    assert_eq!(ours["filters"]["maxItems"], rule["filters"]["maxItems"]);
}
