//! Oracle 2, values at their boundaries. For each plain value of the schema (an integer, a boolean
//! or a string: [`Knob::probe`]), a probe finds the fields it lands in: those that hold the probe's
//! value in the rendering, and another without it. Then each of the value's edges (0, a large
//! number, false, "") must land there too, as the API server stores the object (a field left out
//! and defaulted by the server to something else is a dropped value: `{{ with }}` on a 0), unless the
//! chart refuses the edge with a message that names a value. A list with a default of items is
//! probed with one item of its own, which shows where the default lands; an empty list must then
//! leave none of the default there, as stored (a chart that puts its own list back, or leaves a
//! field empty that the API server fills with a default of its own).

use super::{Oracle, Rendered, NAMESPACE, RELEASE};
use crate::engine::generate::Knob;
use anyhow::{bail, Result};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

/// What the boundary pass reached, for the closing line.
#[derive(Debug, Default)]
pub(super) struct Reach {
    /// Plain values with a probe.
    probed: usize,
    /// Of those, the ones found in some field.
    mapped: usize,
    fields: usize,
    carried: usize,
    refused: usize,
}

impl std::fmt::Display for Reach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "boundaries: {} of {} values land in a field ({} fields); their edges (0, large, false, \"\", [] for a list with a default): {} carried into the stored object, {} refused naming a value",
            self.mapped, self.probed, self.fields, self.carried, self.refused
        )
    }
}

/// One field a value lands in: the object (kind and name) and the JSON pointer within it.
#[derive(Debug, Clone, PartialEq)]
struct Field {
    kind: String,
    name: String,
    pointer: String,
}

/// Runs the boundary pass over every knob with a probe; fails listing every dropped edge.
pub(super) fn check(oracle: &Oracle, knobs: &[Knob]) -> Result<Reach> {
    let helm = oracle.helms.last().expect("fuzz runs with at least one Helm");
    let mut reach = Reach::default();
    let mut dropped = Vec::new();
    for knob in knobs {
        let Some(probe) = &knob.probe else { continue };
        if probe.is_array() && knob.edges.is_empty() {
            continue; // a list whose default is already empty, or that may not be empty
        }
        reach.probed += 1;
        let context = context_of(knob, knobs);
        let (base, fields) = match (
            oracle.rendered(helm, &context, "boundary.json")?,
            oracle.rendered(helm, &with(&context, knob, probe), "boundary.json")?,
        ) {
            (Rendered::Objects(base), Rendered::Objects(probed)) if probe.is_array() => {
                let traces = traces_of_the_default(&base, &probed);
                (base, traces)
            }
            (Rendered::Objects(base), Rendered::Objects(probed)) => {
                let fields = fields_holding(probe, &base, &probed);
                (base, fields)
            }
            _ => continue,
        };
        if fields.is_empty() {
            continue;
        }
        reach.mapped += 1;
        reach.fields += fields.len();
        for edge in &knob.edges {
            let values = with(&context, knob, edge);
            let Rendered::Objects(objects) = oracle.rendered(helm, &values, "boundary.json")? else {
                reach.refused += 1;
                continue;
            };
            let stored = oracle.admit(&objects)?;
            let how = if edge.is_array() {
                default_kept_at(&fields, &base, &objects, &stored)
            } else {
                dropped_at(&fields, &objects, &stored, edge)
            };
            match how {
                None => reach.carried += 1,
                Some(how) => dropped.push(format!(
                    "{}={edge} is dropped: {how} (with {}={probe} it is not)\n  reproduce: helm template {RELEASE} heimdall --namespace {NAMESPACE} --set-json '{}'",
                    knob.name(),
                    knob.name(),
                    flat(&values).join("' --set-json '")
                )),
            }
        }
    }
    if !dropped.is_empty() {
        bail!("{} value(s) at a boundary never reach the object they are documented for:\n{}", dropped.len(), dropped.join("\n"));
    }
    Ok(reach)
}

/// The values that turn on the features above `knob` (each ancestor's `enabled`), so its fields
/// render, and the documented example of each other list of its feature (the Gateway an HTTPRoute
/// attaches to): what an operator gives with the feature, so the chart does not refuse the context.
pub(super) fn context_of(knob: &Knob, knobs: &[Knob]) -> Json {
    let mut values = json!({});
    for depth in 1..knob.path.len() {
        let mut switch = knob.path[..depth].to_vec();
        switch.push("enabled".into());
        if let Some(enabled) = knobs.iter().find(|k| k.path == switch && k.path != knob.path && k.candidates.contains(&json!(true))) {
            values = with(&values, enabled, &json!(true));
        }
    }
    let companions = knobs.iter().filter(|k| k.path[0] == knob.path[0] && k.path != knob.path && k.path.len() > 1);
    for companion in companions {
        if let Some(example) = companion.example.as_ref().filter(|e| e.as_array().is_some_and(|items| !items.is_empty())) {
            values = with(&values, companion, example);
        }
    }
    values
}

/// `values` with `knob` set to `value`.
pub(super) fn with(values: &Json, knob: &Knob, value: &Json) -> Json {
    let mut out = values.clone();
    crate::engine::generate::put(&mut out, knob, value.clone());
    out
}

/// The values as `path=json` pairs, for a `--set-json` line.
fn flat(values: &Json) -> Vec<String> {
    let mut out = Vec::new();
    let mut leaves = BTreeMap::new();
    collect_leaves(values, String::new(), &mut leaves, true);
    for (path, value) in leaves {
        out.push(format!("{}={value}", path.trim_start_matches('/').replace('/', ".")));
    }
    out
}

/// The fields of `probed` that hold `probe` while the same field of `base` does not.
fn fields_holding(probe: &Json, base: &[Json], probed: &[Json]) -> Vec<Field> {
    leaves_where(probed, base, |value, other| value == probe && other != Some(probe))
}

/// Where a list's default shows in the rendering: each leaf of `base` (the default) that the
/// one-item probe changed or removed. An empty list must remove those too.
fn traces_of_the_default(base: &[Json], probed: &[Json]) -> Vec<Field> {
    leaves_where(base, probed, |value, other| other != Some(value) && !value.is_null())
}

/// Each leaf of `objects` that `keep` accepts, given its value and the same field of the same object
/// in `others` (if there).
fn leaves_where(objects: &[Json], others: &[Json], keep: impl Fn(&Json, Option<&Json>) -> bool) -> Vec<Field> {
    let mut out = Vec::new();
    for object in objects {
        let (kind, name) = identity(object);
        let other = others.iter().find(|o| identity(o) == (kind.clone(), name.clone()));
        let mut leaves = BTreeMap::new();
        collect_leaves(object, String::new(), &mut leaves, false);
        for (pointer, value) in leaves {
            if keep(&value, other.and_then(|o| o.pointer(&pointer))) {
                out.push(Field { kind: kind.clone(), name: name.clone(), pointer });
            }
        }
    }
    out
}

/// How an empty list gave way to the default: a trace of the default (see [`traces_of_the_default`])
/// that the stored object still holds, whether the chart put its own list back or the API server
/// defaulted the field the chart left empty (an HTTPRoute's matches: every path).
fn default_kept_at(traces: &[Field], base: &[Json], objects: &[Json], stored: &[Json]) -> Option<String> {
    for trace in traces {
        let Some(at) = objects.iter().position(|o| identity(o) == (trace.kind.clone(), trace.name.clone())) else { continue };
        let default = base.iter().find(|b| identity(b) == identity(&objects[at])).and_then(|b| b.pointer(&trace.pointer));
        let kept = stored[at].pointer(&trace.pointer);
        if let Some(kept) = kept.filter(|k| Some(*k) == default) {
            let rendered = objects[at].pointer(&trace.pointer).map_or("left out".to_string(), |v| format!("rendered as {v}"));
            return Some(format!(
                "{} {} {} is {rendered}, and the API server stores {kept}, as with the default list",
                trace.kind, trace.name, trace.pointer
            ));
        }
    }
    None
}

/// How `edge` went missing from `fields`: the stored object's value where the rendering left the
/// field out or changed it. The API server leaves zero values (0, false, "") out of what it returns,
/// so a zero missing there was carried when the rendering has it, when it is "" (an empty string and
/// no string are one to Kubernetes), or when the rendering dropped the whole map around it (0 or
/// false turned the feature off: `preStopSleepSeconds: 0`, no preStop hook). A zero left out of a
/// map still rendered is dropped, whether the server then defaults it (a grace period of 30) or the
/// field's absence means something else (`automountServiceAccountToken` left out is true).
fn dropped_at(fields: &[Field], objects: &[Json], stored: &[Json], edge: &Json) -> Option<String> {
    for field in fields {
        let Some(at) = objects.iter().position(|o| identity(o) == (field.kind.clone(), field.name.clone())) else {
            return Some(format!("{} {} is no longer rendered", field.kind, field.name));
        };
        let parent = &field.pointer[..field.pointer.rfind('/').unwrap_or(0)];
        let rendered = objects[at].pointer(&field.pointer);
        let zero = [json!(0), json!(false), json!("")].contains(edge);
        let omitted = zero && (rendered == Some(edge) || edge == &json!("") || objects[at].pointer(parent).is_none());
        let got = stored[at].pointer(&field.pointer).cloned().unwrap_or(if omitted { edge.clone() } else { Json::Null });
        if &got != edge {
            let rendered = objects[at].pointer(&field.pointer).map_or("left out".to_string(), |v| format!("rendered as {v}"));
            return Some(format!("{} {} {} is {rendered}, and the API server stores {got}", field.kind, field.name, field.pointer));
        }
    }
    None
}

fn identity(object: &Json) -> (String, String) {
    (object["kind"].as_str().unwrap_or_default().to_string(), object["metadata"]["name"].as_str().unwrap_or_default().to_string())
}

/// Every scalar of `value` by JSON pointer; `maps_only` stops at lists (a values document).
pub(super) fn collect_leaves(value: &Json, at: String, out: &mut BTreeMap<String, Json>, maps_only: bool) {
    match value {
        Json::Object(map) => {
            for (key, child) in map {
                collect_leaves(child, format!("{at}/{}", key.replace('~', "~0").replace('/', "~1")), out, maps_only);
            }
        }
        Json::Array(items) if !maps_only => {
            for (i, child) in items.iter().enumerate() {
                collect_leaves(child, format!("{at}/{i}"), out, maps_only);
            }
        }
        _ => {
            out.insert(at, value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knob(path: &str, candidates: Vec<Json>) -> Knob {
        Knob { path: path.split('.').map(str::to_string).collect(), candidates, probe: None, edges: vec![], example: None }
    }

    fn deployment(spec: Json) -> Json {
        json!({"kind": "Deployment", "metadata": {"name": "app"}, "spec": spec})
    }

    #[test]
    fn a_probe_finds_the_fields_it_lands_in_and_a_dropped_zero_is_told_by_the_stored_default() {
        let base = [deployment(json!({"replicas": 1, "template": {"spec": {"grace": 30}}}))];
        let probed = [deployment(json!({"replicas": 1, "template": {"spec": {"grace": 37}}}))];
        let fields = fields_holding(&json!(37), &base, &probed);
        assert_eq!(fields, [Field { kind: "Deployment".into(), name: "app".into(), pointer: "/spec/template/spec/grace".into() }]);
        let left_out = [deployment(json!({"replicas": 1, "template": {"spec": {}}}))];
        let zero = [deployment(json!({"replicas": 1, "template": {"spec": {"grace": 0}}}))];
        assert_eq!(dropped_at(&fields, &zero, &left_out, &json!(0)), None, "rendered 0, which the server leaves out of its answer");
        let defaulted = [deployment(json!({"replicas": 1, "template": {"spec": {"grace": 30}}}))];
        let how = dropped_at(&fields, &left_out, &defaulted, &json!(0)).expect("a 0 the server defaults to 30 is dropped");
        assert!(how.contains("/spec/template/spec/grace is left out, and the API server stores 30"), "{how}");
        let how = dropped_at(&fields, &left_out, &left_out, &json!(false)).expect("false left out of a map still there is dropped");
        assert!(how.contains("is left out, and the API server stores null"), "{how}");
        let feature_off = [deployment(json!({"replicas": 1, "template": {}}))];
        assert_eq!(dropped_at(&fields, &feature_off, &feature_off, &json!(0)), None, "0 turned the map around it off");
        assert_eq!(dropped_at(&fields, &left_out, &left_out, &json!("")), None, "no string is an empty one");
        assert!(dropped_at(&fields, &left_out, &left_out, &json!(1_000_000)).is_some(), "a large value left out is dropped");
    }

    fn route(matches: Json) -> Json {
        json!({"kind": "HTTPRoute", "metadata": {"name": "app", "annotations": {"checksum": "c"}}, "spec": {"rules": [{"matches": matches}]}})
    }

    #[test]
    fn an_empty_list_that_the_default_still_fills_in_the_stored_object_is_dropped() {
        let path = |p: &str| json!([{"path": {"type": "PathPrefix", "value": p}}]);
        let (base, probed) = ([route(path("/"))], [route(path("/app"))]);
        let traces = traces_of_the_default(&base, &probed);
        assert_eq!(traces.iter().map(|t| t.pointer.as_str()).collect::<Vec<_>>(), ["/spec/rules/0/matches/0/path/value"]);
        let empty = [route(Json::Null)];
        let how = default_kept_at(&traces, &base, &empty, &base).expect("the API server filled the empty matches with the default's");
        assert!(
            how.contains("/spec/rules/0/matches/0/path/value is left out, and the API server stores \"/\", as with the default"),
            "{how}"
        );
        assert_eq!(default_kept_at(&traces, &base, &empty, &empty), None, "stored empty: the empty list was carried");
        let elsewhere = [route(path("/other"))];
        assert_eq!(default_kept_at(&traces, &base, &elsewhere, &elsewhere), None);
        assert!(default_kept_at(&traces, &base, &base, &base).is_some(), "the chart put its own list back");
    }

    #[test]
    fn the_context_gives_the_documented_example_of_each_other_list_of_the_feature() {
        let mut refs = knob("httpRoute.parentRefs", vec![json!([])]);
        refs.example = Some(json!([{"name": "gateway"}]));
        let mut size = knob("httpRoute.size", vec![json!("1Gi")]);
        size.example = Some(json!("1Gi"));
        let knobs = [knob("httpRoute.enabled", vec![json!(false), json!(true)]), refs, size, knob("httpRoute.paths", vec![json!(["/"])])];
        assert_eq!(
            context_of(&knobs[3], &knobs),
            json!({"httpRoute": {"enabled": true, "parentRefs": [{"name": "gateway"}]}}),
            "a list's example, not a plain value's"
        );
        assert_eq!(context_of(&knobs[1], &knobs), json!({"httpRoute": {"enabled": true}}), "a list is not its own companion");
    }

    #[test]
    fn the_context_turns_on_the_features_above_a_value() {
        let knobs = [knob("autoscaling.enabled", vec![json!(false), json!(true)]), knob("autoscaling.minReplicas", vec![json!(1)])];
        assert_eq!(context_of(&knobs[1], &knobs), json!({"autoscaling": {"enabled": true}}));
        assert_eq!(context_of(&knobs[0], &knobs), json!({}), "a switch is not its own context");
        let values = with(&context_of(&knobs[1], &knobs), &knobs[1], &json!(0));
        assert_eq!(flat(&values), ["autoscaling.enabled=true", "autoscaling.minReplicas=0"]);
    }
}
