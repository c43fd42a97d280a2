//! Keyed lists: walks a document beside its schema and finds the duplicate keys of `x-kubernetes-list-type: map` lists and the duplicate items of `set` lists.

use serde_json::Value as Json;
use std::collections::BTreeMap;

/// Key fields the API server defaults before it compares keys: a port without
/// a protocol is TCP, so `{containerPort: 80}` and `{containerPort: 80, protocol: TCP}` collide.
const KEY_DEFAULTS: [(&str, &str); 1] = [("protocol", "TCP")];

/// Follows `$ref`s into the definitions (`.../_definitions.json#/$defs/NAME` or `#/$defs/NAME`).
fn resolve<'a>(defs: &'a Json, mut schema: &'a Json) -> &'a Json {
    for _ in 0..16 {
        let Some(reference) = schema.get("$ref").and_then(Json::as_str) else { break };
        let Some(name) = reference.rsplit_once("/$defs/").map(|(_, n)| n) else { break };
        match defs["$defs"].get(name) {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

/// Walks `value` beside `schema`, appending one message per duplicate to `out`.
pub fn walk(defs: &Json, schema: &Json, value: &Json, path: &str, out: &mut Vec<String>) {
    let schema = resolve(defs, schema);
    for sub in schema.get("allOf").and_then(Json::as_array).into_iter().flatten() {
        walk(defs, sub, value, path, out);
    }
    match value {
        Json::Object(fields) => {
            for (name, child) in fields {
                let child_schema = schema["properties"].get(name).or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(child_schema) = child_schema {
                    walk(defs, child_schema, child, &format!("{path}/{name}"), out);
                }
            }
        }
        Json::Array(items) => {
            check_list(schema, items, path, out);
            if let Some(item_schema) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(defs, item_schema, item, &format!("{path}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

fn check_list(schema: &Json, items: &[Json], path: &str, out: &mut Vec<String>) {
    match schema.get("x-kubernetes-list-type").and_then(Json::as_str) {
        Some("map") => {
            let keys: Vec<&str> = schema["x-kubernetes-list-map-keys"].as_array().into_iter().flatten().filter_map(Json::as_str).collect();
            report_repeats(items.iter().map(|item| map_key(item, &keys)), path, "entries", out);
        }
        Some("set") => report_repeats(items.iter().map(|item| item.to_string()), path, "items", out),
        _ => {}
    }
}

/// `name=DATABASE_PASSWORD` or `containerPort=3000,protocol=TCP`.
fn map_key(item: &Json, keys: &[&str]) -> String {
    keys.iter()
        .map(|k| {
            let default = KEY_DEFAULTS.iter().find(|(name, _)| name == k).map(|(_, d)| Json::String(d.to_string()));
            let v = item.get(*k).filter(|v| !v.is_null()).cloned().or(default).unwrap_or(Json::Null);
            format!("{k}={}", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn report_repeats(keys: impl Iterator<Item = String>, path: &str, what: &str, out: &mut Vec<String>) {
    let mut seen: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, key) in keys.enumerate() {
        seen.entry(key).or_default().push(i);
    }
    for (key, at) in seen.into_iter().filter(|(_, at)| at.len() > 1) {
        let at: Vec<String> = at.iter().map(usize::to_string).collect();
        out.push(format!(
            "at {path}: {what} {} repeat the key {key}; the schema keys this list, so Helm 4's server-side apply refuses the release (Helm 3 would keep the last)",
            at.join(" and ")
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defs() -> Json {
        json!({"$defs": {
            "Container": {"properties": {
                "env": {"type": "array", "items": {"$ref": "#/$defs/EnvVar"}, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
                "ports": {"type": "array", "items": {}, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["containerPort", "protocol"]},
                "args": {"type": "array", "items": {}, "x-kubernetes-list-type": "atomic"}
            }},
            "EnvVar": {"properties": {"name": {}, "value": {}}},
            "PodSpec": {"properties": {
                "containers": {"type": "array", "items": {"$ref": "#/$defs/Container"}, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"]},
                "finalizers": {"type": "array", "x-kubernetes-list-type": "set"}
            }}
        }})
    }

    fn duplicates(pod: Json) -> Vec<String> {
        let defs = defs();
        let root = json!({"properties": {"spec": {"$ref": "/api/_definitions.json#/$defs/PodSpec"}}});
        let mut out = vec![];
        walk(&defs, &root, &json!({ "spec": pod }), "", &mut out);
        out
    }

    #[test]
    fn a_variable_listed_twice_is_named_with_its_path() {
        let found = duplicates(
            json!({"containers": [{"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B"}, {"name": "A", "value": "2"}]}]}),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains("at /spec/containers/0/env") && found[0].contains("entries 0 and 2") && found[0].contains("name=A"),
            "{found:?}"
        );
    }

    #[test]
    fn a_port_without_protocol_collides_with_the_same_port_over_tcp_only() {
        let found = duplicates(
            json!({"containers": [{"name": "app", "ports": [{"containerPort": 80}, {"containerPort": 80, "protocol": "TCP"}]}]}),
        );
        assert!(found.len() == 1 && found[0].contains("containerPort=80,protocol=TCP"), "{found:?}");
        let udp = duplicates(
            json!({"containers": [{"name": "app", "ports": [{"containerPort": 53}, {"containerPort": 53, "protocol": "UDP"}]}]}),
        );
        assert!(udp.is_empty(), "{udp:?}");
    }

    #[test]
    fn containers_sets_and_atomic_lists() {
        let found = duplicates(json!({"containers": [{"name": "a"}, {"name": "a"}], "finalizers": ["x", "y", "x"]}));
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found.iter().any(|f| f.contains("/spec/containers") && f.contains("name=a")), "{found:?}");
        assert!(found.iter().any(|f| f.contains("/spec/finalizers") && f.contains("items 0 and 2")), "{found:?}");
        // An atomic list may repeat itself.
        assert!(duplicates(json!({"containers": [{"name": "a", "args": ["-v", "-v"]}]})).is_empty());
    }
}
