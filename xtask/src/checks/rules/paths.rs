//! HC025: every path the chart asks Heimdall for over HTTP (each httpGet probe of the Heimdall container, each http URL the test pod is given) is one the server answers without a session, by the served-paths list (`tests/app/served-paths.yaml`), itself checked against the server's source.

use super::{containers, heimdall_container, pod_specs, s, HttpUrl, Rendering};

/// HC025: probe paths and the test pod's URL paths, against the served-paths list.
pub fn served(r: &Rendering) -> Vec<String> {
    let Some(served) = &r.intent.served_paths else { return vec![] };
    let mut asked = Vec::new();
    if let Some(c) = heimdall_container(r.docs) {
        for probe in ["startupProbe", "livenessProbe", "readinessProbe"] {
            if let Some(path) = c[probe]["httpGet"]["path"].as_str() {
                asked.push((format!("the Heimdall container's {probe}"), path.to_string()));
            }
        }
    }
    for (doc, spec, _) in pod_specs(r.docs).into_iter().filter(|(d, _, _)| d.kind() == "Pod") {
        for c in containers(spec) {
            for e in c["env"].as_sequence().into_iter().flatten() {
                if let Some(path) = e["value"].as_str().and_then(HttpUrl::parse).map(|u| u.path.to_string()) {
                    asked.push((format!("{} container {} ({})", doc.id(), s(&c["name"]), s(&e["name"])), path));
                }
            }
        }
    }
    asked
        .into_iter()
        .filter(|(_, path)| !served.contains(path.split('?').next().unwrap_or_default()))
        .map(|(who, path)| {
            let known: Vec<&str> = served.iter().map(String::as_str).collect();
            format!(
                "{who} asks for {path}, which Heimdall does not serve without a session (served: {}; tests/app/served-paths.yaml)",
                known.join(", ")
            )
        })
        .collect()
}
