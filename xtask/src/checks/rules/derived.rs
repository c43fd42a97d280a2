//! HC024: settings the chart derives from values, rendered consistently: the database wait on Heimdall's own host and port, DATABASE_SSL and DATABASE_SSL_INSECURE as the database values ask, checksum/config the hash of the ConfigMap the pod loads, and no replica count beside an HPA.

use super::{containers, env_value, env_var, heimdall_container, heimdall_pod, pod_specs, s, Rendering};
use crate::support::manifest::Doc;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// HC024, in four parts.
pub fn consistent(r: &Rendering) -> Vec<String> {
    let mut out = database_wait_matches(r.docs);
    out.extend(database_tls_as_asked(r));
    out.extend(config_checksums_follow_data(r.docs));
    out.extend(no_replicas_beside_an_hpa(r.docs));
    out.extend(external_url_follows_the_exposure(r));
    out
}

/// An EXTERNAL_URL the chart derives (none given in the config) names the host the Ingress or Route
/// serves, with https exactly when that object has TLS for it: else OAuth redirects and links go to
/// a scheme or host nobody serves.
fn external_url_follows_the_exposure(r: &Rendering) -> Vec<String> {
    let Some(heimdall) = heimdall_container(r.docs).filter(|_| !r.intent.external_url_given) else { return vec![] };
    let Some(url) = env_var(r.docs, heimdall, "EXTERNAL_URL") else { return vec![] };
    let served = r.docs.iter().find_map(|d| match d.kind() {
        "Ingress" => {
            let host = s(&d.value["spec"]["rules"][0]["host"]).to_string();
            let tls = d.value["spec"]["tls"].as_sequence().into_iter().flatten();
            let secured = tls.flat_map(|t| t["hosts"].as_sequence().into_iter().flatten()).any(|h| s(h) == host);
            Some((d, host, secured))
        }
        "Route" => Some((d, s(&d.value["spec"]["host"]).to_string(), !d.value["spec"]["tls"].is_null())),
        _ => None,
    });
    let Some((doc, host, secured)) = served else { return vec![] };
    let want = format!("{}://{host}", if secured { "https" } else { "http" });
    if url.trim_end_matches('/') == want {
        return vec![];
    }
    vec![format!("EXTERNAL_URL is {url:?}, derived by the chart, but {} serves {want}", doc.id())]
}

/// An init container that waits for the database (it is given DATABASE_HOST) waits for the host and
/// port Heimdall connects to; else it waits forever, or lets Heimdall start before its database.
fn database_wait_matches(docs: &[Doc]) -> Vec<String> {
    let Some((doc, spec, _)) = heimdall_pod(docs) else { return vec![] };
    let Some(heimdall) = heimdall_container(docs) else { return vec![] };
    let mut out = Vec::new();
    for init in spec["initContainers"].as_sequence().into_iter().flatten() {
        for var in ["DATABASE_HOST", "DATABASE_PORT"] {
            let (Some(waits), Some(connects)) = (env_value(init, var), env_var(docs, heimdall, var)) else { continue };
            if waits != connects {
                out.push(format!(
                    "{} init container {}: waits for {var} {waits:?}, but Heimdall connects to {connects:?}",
                    doc.id(),
                    s(&init["name"])
                ));
            }
        }
    }
    out
}

/// DATABASE_SSL is "false" for the embedded database (reached in-cluster without TLS); for an external
/// one it and DATABASE_SSL_INSECURE say what `externalDatabase.ssl` and `.sslInsecure` ask.
fn database_tls_as_asked(r: &Rendering) -> Vec<String> {
    let Some(heimdall) = heimdall_container(r.docs) else { return vec![] };
    let db = &r.intent.database_tls;
    let expected: [(&str, Option<bool>); 2] = match r.intent.embedded_database {
        true => [("DATABASE_SSL", Some(false)), ("DATABASE_SSL_INSECURE", None)],
        false => [("DATABASE_SSL", Some(db.ssl)), ("DATABASE_SSL_INSECURE", Some(db.insecure))],
    };
    let mut out = Vec::new();
    for (var, want) in expected {
        let Some(want) = want else { continue };
        let got = env_var(r.docs, heimdall, var);
        if got.as_deref() != Some(if want { "true" } else { "false" }) {
            let asked = if r.intent.embedded_database { "the embedded database" } else { "the externalDatabase values" };
            out.push(format!("Heimdall's {var} is {got:?}, but {asked} ask for \"{want}\""));
        }
    }
    out
}

/// A pod template that loads a rendered ConfigMap (envFrom) carries checksum/config, the sha256 of that
/// ConfigMap's data as the chart hashes it (Helm's `toJson`): else a changed setting rolls no pod.
fn config_checksums_follow_data(docs: &[Doc]) -> Vec<String> {
    let mut out = Vec::new();
    for (doc, spec, meta) in pod_specs(docs) {
        let loaded = containers(spec)
            .into_iter()
            .flat_map(|c| c["envFrom"].as_sequence().into_iter().flatten())
            .find_map(|from| docs.iter().find(|d| d.kind() == "ConfigMap" && d.name() == s(&from["configMapRef"]["name"])));
        let Some(config_map) = loaded else { continue };
        let data: BTreeMap<String, String> = super::string_map(&config_map.value["data"]);
        let want = format!("{:x}", Sha256::digest(go_json_object(&data).as_bytes()));
        match meta["annotations"]["checksum/config"].as_str() {
            Some(got) if got == want => {}
            got => out.push(format!(
                "{}: checksum/config is {got:?}, not the sha256 of {}'s data ({want}), so a changed setting would roll no pod",
                doc.id(),
                config_map.id()
            )),
        }
    }
    out
}

/// A workload an HPA scales renders no `spec.replicas`: every `helm upgrade` would reset the count
/// the HPA chose (and Argo CD would show it out of sync).
fn no_replicas_beside_an_hpa(docs: &[Doc]) -> Vec<String> {
    let mut out = Vec::new();
    for hpa in docs.iter().filter(|d| d.kind() == "HorizontalPodAutoscaler") {
        let target = &hpa.value["spec"]["scaleTargetRef"];
        let scaled = docs.iter().find(|d| d.kind() == s(&target["kind"]) && d.name() == s(&target["name"]));
        if let Some(workload) = scaled.filter(|w| !w.value["spec"]["replicas"].is_null()) {
            out.push(format!(
                "{} renders spec.replicas {} although {} scales it: each upgrade resets the HPA's count",
                workload.id(),
                serde_yaml::to_string(&workload.value["spec"]["replicas"]).unwrap_or_default().trim(),
                hpa.id()
            ));
        }
    }
    out
}

/// A map of strings as Go's encoding/json writes it (Helm's `toJson`): keys sorted, no spaces, and
/// `<`, `>`, `&`, U+2028 and U+2029 escaped as \uXXXX, control characters other than \n \r \t too.
pub(super) fn go_json_object(data: &BTreeMap<String, String>) -> String {
    let fields: Vec<String> = data.iter().map(|(k, v)| format!("{}:{}", go_json_string(k), go_json_string(v))).collect();
    format!("{{{}}}", fields.join(","))
}

fn go_json_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
