//! Value sets generated from a chart's `values.schema.json`: every leaf value (a "knob") with the
//! values its schema allows at their edges (both booleans; an integer's bounds, 0, 1 and a large one;
//! each enum member; an empty and a one-entry list or map; null where the type allows it; its
//! documented `examples`; the chart's default), simplest first. A set is a few knobs, each at one of its values: proptest picks them by
//! seed, and shrinks a failing set to fewer knobs at simpler values.

use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// One value a set may give, and the values it may take, simplest first.
#[derive(Debug, Clone)]
pub struct Knob {
    /// The value's path, key by key (`ingress`, `hosts`).
    pub path: Vec<String>,
    pub candidates: Vec<Json>,
    /// For a plain integer, boolean or string: a value unlikely to be found in a rendering by
    /// chance, which tells the fields the value lands in.
    pub probe: Option<Json>,
    /// The values at its boundaries a user may give (0, a large number, false, "", an empty list),
    /// other than its default: the rendering must carry each one or refuse it, never drop it.
    pub edges: Vec<Json>,
    /// Its first documented example (the schema's `examples`), if any.
    pub example: Option<Json>,
}

impl Knob {
    /// The dotted path, as `--set` and the chart's messages name it.
    pub fn name(&self) -> String {
        self.path.join(".")
    }
}

/// Every knob of `schema` (a chart's values schema), with the chart's `defaults` (values.yaml) among
/// the candidates. A string with a pattern takes only its default, which matches it; a knob with no
/// candidate is left out.
pub fn knobs(schema: &Json, defaults: &Json) -> Vec<Knob> {
    let mut out = Vec::new();
    walk(schema, defaults, &mut Vec::new(), &mut out);
    out
}

fn walk(schema: &Json, default: &Json, path: &mut Vec<String>, out: &mut Vec<Knob>) {
    if let Some(properties) = schema["properties"].as_object() {
        for (key, child) in properties {
            path.push(key.clone());
            walk(child, &default[key], path, out);
            path.pop();
        }
        if !schema["additionalProperties"].is_object() {
            return;
        }
    }
    let mut candidates = candidates(schema);
    let example = schema["examples"].get(0).cloned();
    let documented = schema["examples"].as_array().into_iter().flatten();
    for value in documented.chain((!default.is_null()).then_some(default)) {
        if !candidates.contains(value) {
            candidates.push(value.clone());
        }
    }
    if !candidates.is_empty() && !path.is_empty() {
        let (probe, edges) = probe_and_edges(schema, default);
        out.push(Knob { path: path.clone(), candidates, probe, edges, example });
    }
}

/// A plain scalar's or a list's probe and edges (see [`Knob`]); none for enums, patterns and maps. A
/// list's probe is one item, its simplest; its edge the empty list.
fn probe_and_edges(schema: &Json, default: &Json) -> (Option<Json>, Vec<Json>) {
    if schema["enum"].is_array() || schema["pattern"].is_string() || schema["oneOf"].is_array() || schema["anyOf"].is_array() {
        return (None, Vec::new());
    }
    let within = |v: &i64| schema["minimum"].as_i64().is_none_or(|m| *v >= m) && schema["maximum"].as_i64().is_none_or(|m| *v <= m);
    let (probe, edges): (Option<Json>, Vec<Json>) = match types(schema).iter().find(|t| *t != "null").map(String::as_str) {
        Some("integer") => {
            let probe = [37, 1234, 7].into_iter().find(|v| within(v) && default.as_i64() != Some(*v)).map(Json::from);
            let large = schema["maximum"].as_i64().unwrap_or(1_000_000);
            (probe, [0, large].into_iter().filter(within).map(Json::from).collect())
        }
        Some("boolean") => (Some(Json::Bool(default != &Json::Bool(true))), vec![json!(false), json!(true)]),
        Some("string") if schema["minLength"].as_u64().unwrap_or(0) == 0 => (Some(json!("fuzz-probe")), vec![json!("")]),
        Some("array") => {
            let empty = schema["minItems"].as_u64().unwrap_or(0) == 0;
            (simplest(&schema["items"]).map(|item| json!([item])), empty.then(|| json!([])).into_iter().collect())
        }
        _ => (None, Vec::new()),
    };
    (probe, edges.into_iter().filter(|e| e != default).collect())
}

/// The values `schema` allows at its edges, simplest first.
fn candidates(schema: &Json) -> Vec<Json> {
    if let Some(members) = schema["enum"].as_array() {
        return members.clone();
    }
    if let Some(alternatives) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let mut out: Vec<Json> = Vec::new();
        for alternative in alternatives.iter().flat_map(candidates) {
            if !out.contains(&alternative) {
                out.push(alternative);
            }
        }
        return out;
    }
    types(schema).iter().flat_map(|t| of_type(schema, t)).collect()
}

fn types(schema: &Json) -> Vec<String> {
    match &schema["type"] {
        Json::String(t) => vec![t.clone()],
        Json::Array(ts) => ts.iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    }
}

fn of_type(schema: &Json, kind: &str) -> Vec<Json> {
    match kind {
        "null" => vec![Json::Null],
        "boolean" => vec![json!(false), json!(true)],
        "integer" | "number" => integers(schema),
        "string" => strings(schema),
        "array" => arrays(schema),
        "object" => maps(schema),
        _ => Vec::new(),
    }
}

/// 0, 1, the bounds and a large value, those within the bounds.
fn integers(schema: &Json) -> Vec<Json> {
    let (min, max) = (schema["minimum"].as_i64(), schema["maximum"].as_i64());
    let mut out: Vec<i64> = vec![0, 1];
    out.extend(min);
    out.extend(max);
    out.push(max.unwrap_or(1_000_000));
    out.retain(|v| min.is_none_or(|m| *v >= m) && max.is_none_or(|m| *v <= m));
    out.dedup();
    let mut unique = Vec::new();
    for v in out {
        if !unique.contains(&v) {
            unique.push(v);
        }
    }
    unique.into_iter().map(Json::from).collect()
}

/// "" and a plain word, within the length bounds; for a patterned string, its documented examples
/// only (else its default stands).
fn strings(schema: &Json) -> Vec<Json> {
    if schema["pattern"].is_string() {
        return schema["examples"].as_array().cloned().unwrap_or_default();
    }
    let min = schema["minLength"].as_u64().unwrap_or(0);
    ["", "e2e"].into_iter().filter(|s| s.len() as u64 >= min).map(Json::from).collect()
}

/// An empty list (if allowed) and a list of the simplest item.
fn arrays(schema: &Json) -> Vec<Json> {
    let mut out = Vec::new();
    if schema["minItems"].as_u64().unwrap_or(0) == 0 {
        out.push(json!([]));
    }
    if let Some(item) = simplest(&schema["items"]) {
        out.push(json!([item]));
    }
    out
}

/// An empty map, and for a map of free keys one entry of the simplest value.
fn maps(schema: &Json) -> Vec<Json> {
    let mut out = vec![json!({})];
    if schema["additionalProperties"].is_object() && !schema["propertyNames"].is_object() {
        if let Some(value) = simplest(&schema["additionalProperties"]) {
            out.push(json!({ "e2e-key": value }));
        }
    }
    out
}

/// The simplest complete value of `schema`: for an object, its required properties at their simplest.
fn simplest(schema: &Json) -> Option<Json> {
    if schema["properties"].is_object() {
        let mut object = Map::new();
        for key in schema["required"].as_array().into_iter().flatten().filter_map(Json::as_str) {
            object.insert(key.to_string(), simplest(&schema["properties"][key])?);
        }
        return Some(Json::Object(object));
    }
    candidates(schema).into_iter().find(|c| !c.is_null() && c != &json!("") && c != &json!([]) && c != &json!({}))
}

/// A set: knob index → a number whose remainder picks the knob's candidate, at most `most` knobs.
/// Shrinking drops knobs and moves each number toward 0, the knob's first (simplest) candidate.
pub type Set = BTreeMap<usize, usize>;

/// Half the sets take their knobs from anywhere, half from one top-level value's knobs (`ingress.*`):
/// users set several knobs of one feature at once, and the defects hide in their combinations.
pub fn sets(knobs: &[Knob], most: usize) -> impl Strategy<Value = Set> {
    let anywhere = proptest::collection::btree_map(0..knobs.len(), 0..1024usize, 1..=most).boxed();
    let groups: Vec<Vec<usize>> = groups(knobs).into_values().filter(|g| g.len() > 1).collect();
    let within = proptest::sample::select(groups)
        .prop_flat_map(move |group| proptest::collection::btree_map(proptest::sample::select(group), 0..1024usize, 1..=most))
        .boxed();
    prop_oneof![anywhere, within]
}

/// Knob indexes by their top-level value.
fn groups(knobs: &[Knob]) -> BTreeMap<&str, Vec<usize>> {
    let mut out: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, knob) in knobs.iter().enumerate() {
        out.entry(knob.path[0].as_str()).or_default().push(i);
    }
    out
}

fn pick<'a>(knob: &'a Knob, raw: &usize) -> &'a Json {
    &knob.candidates[raw % knob.candidates.len()]
}

/// The chosen values: knob name → value.
pub fn chosen(knobs: &[Knob], set: &Set) -> BTreeMap<String, Json> {
    set.iter().map(|(k, raw)| (knobs[*k].name(), pick(&knobs[*k], raw).clone())).collect()
}

/// The chosen values as a values document (nested maps).
pub fn values_document(knobs: &[Knob], set: &Set) -> Json {
    let mut root = json!({});
    for (k, raw) in set {
        put(&mut root, &knobs[*k], pick(&knobs[*k], raw).clone());
    }
    root
}

/// Puts `value` at `knob`'s place in the values document `root`, making the maps above it.
pub fn put(root: &mut Json, knob: &Knob, value: Json) {
    let mut at = root;
    for key in &knob.path[..knob.path.len() - 1] {
        at = at.as_object_mut().expect("parents are maps").entry(key.clone()).or_insert_with(|| json!({}));
    }
    at[knob.path.last().expect("a knob has a path").as_str()] = value;
}

/// `--set-json` arguments that give the chosen values, as a shell line's tail.
pub fn set_line(chosen: &BTreeMap<String, Json>) -> String {
    chosen.iter().map(|(k, v)| format!("--set-json '{k}={v}'")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Json {
        json!({"type": "object", "properties": {
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10},
            "enabled": {"type": "boolean"},
            "kind": {"type": "string", "enum": ["A", "B"]},
            "name": {"type": "string", "minLength": 1},
            "digest": {"type": "string", "pattern": "^x"},
            "size": {"type": "string", "pattern": "^[0-9]+Gi$", "examples": ["8Gi", "20Gi"]},
            "timeout": {"type": ["integer", "null"]},
            "hosts": {"type": "array", "items": {"type": "object", "required": ["host"], "properties": {"host": {"type": "string", "minLength": 1}}}},
            "paths": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^/", "examples": ["/app"]}},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            "nested": {"type": "object", "properties": {"on": {"type": "boolean"}}}
        }})
    }

    #[test]
    fn each_leaf_gets_its_edges_simplest_first_and_the_default() {
        let knobs = knobs(&schema(), &json!({"digest": "xyz", "replicas": 3}));
        let of = |name: &str| knobs.iter().find(|k| k.name() == name).map(|k| k.candidates.clone()).unwrap_or_default();
        assert_eq!(of("replicas"), [json!(1), json!(10), json!(3)], "within bounds, then the default");
        assert_eq!(of("enabled"), [json!(false), json!(true)]);
        assert_eq!(of("kind"), [json!("A"), json!("B")]);
        assert_eq!(of("name"), [json!("e2e")], "minLength 1 leaves the empty string out");
        assert_eq!(of("digest"), [json!("xyz")], "a patterned string takes only its default");
        assert_eq!(of("size"), [json!("8Gi"), json!("20Gi")], "and its documented examples");
        assert_eq!(of("timeout"), [json!(0), json!(1), json!(1_000_000), Json::Null]);
        assert_eq!(of("hosts"), [json!([]), json!([{"host": "e2e"}])]);
        assert_eq!(of("labels"), [json!({}), json!({"e2e-key": "e2e"})]);
        assert_eq!(of("nested.on"), [json!(false), json!(true)]);
        let edges = |name: &str| knobs.iter().find(|k| k.name() == name).map(|k| (k.probe.clone(), k.edges.clone())).unwrap();
        assert_eq!(edges("replicas"), (Some(json!(7)), vec![json!(10)]), "7 is the probe within 1..=10; 0 is out of bounds");
        assert_eq!(edges("timeout"), (Some(json!(37)), vec![json!(0), json!(1_000_000)]));
        assert_eq!(edges("enabled"), (Some(json!(true)), vec![json!(false), json!(true)]));
        assert_eq!(edges("kind"), (None, vec![]), "an enum's members are its candidates already");
        assert_eq!(edges("name"), (None, vec![]), "a string that may not be empty has no edge");
        assert_eq!(edges("hosts"), (Some(json!([{"host": "e2e"}])), vec![json!([])]), "a list: one item, then none");
        assert_eq!(
            edges("paths"),
            (Some(json!(["/app"])), vec![]),
            "a list that may not be empty has no edge; a patterned item its example"
        );
        let example = |name: &str| knobs.iter().find(|k| k.name() == name).unwrap().example.clone();
        assert_eq!((example("size"), example("replicas")), (Some(json!("8Gi")), None));
    }

    #[test]
    fn a_set_becomes_a_values_document_and_a_set_line() {
        let knobs = knobs(&schema(), &json!({}));
        let at = |name: &str| knobs.iter().position(|k| k.name() == name).unwrap();
        let set = BTreeMap::from([(at("nested.on"), 3), (at("hosts"), 0)]);
        assert_eq!(values_document(&knobs, &set), json!({"nested": {"on": true}, "hosts": []}));
        assert_eq!(set_line(&chosen(&knobs, &set)), "--set-json 'hosts=[]' --set-json 'nested.on=true'");
    }
}
