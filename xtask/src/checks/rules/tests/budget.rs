//! HC013, the disruption budget, firing on budgets that block drains.

use super::*;

fn with_pdb(bound: &str, extra: &str) -> String {
    format!(
        "{}---\n# Source: heimdall/templates/pdb.yaml\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: r-heimdall, labels: {LABELS}}}\nspec:\n  {bound}\n  unhealthyPodEvictionPolicy: AlwaysAllow\n  selector: {{matchLabels: {{app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/component: server}}}}\n{extra}",
        good_yaml()
    )
}

const HPA: &str = "---\n# Source: heimdall/templates/hpa.yaml\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: r-heimdall, labels: {app.kubernetes.io/name: heimdall, app.kubernetes.io/instance: r, app.kubernetes.io/version: '2.13.1', app.kubernetes.io/component: server, app.kubernetes.io/part-of: heimdall, app.kubernetes.io/managed-by: Helm}}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: r-heimdall}, minReplicas: 3, maxReplicas: 5}\n";

#[test]
fn hc013_fires_on_a_budget_that_blocks_drains_and_on_a_missing_eviction_policy() {
    let mut intent = inline_intent();
    intent.unhealthy_pod_eviction_policy = "AlwaysAllow".into();
    // No replicas field: one pod; minAvailable 1 leaves no disruption.
    fires("HC013", &with_pdb("minAvailable: 1", ""), &intent, &[], None);
    fires("HC013", &with_pdb("minAvailable: 100%", ""), &intent, &[], None);
    assert!(findings_with(&with_pdb("maxUnavailable: 1", ""), &intent, &[], None).is_empty());
    // An HPA's minReplicas counts: 3 pods, minAvailable 2 leaves one; 67% rounds up to all three.
    assert!(findings_with(&with_pdb("minAvailable: 2", HPA), &intent, &[], None).is_empty());
    fires("HC013", &with_pdb("minAvailable: 67%", HPA), &intent, &[], None);
    let no_policy = with_pdb("maxUnavailable: 1", "").replace("  unhealthyPodEvictionPolicy: AlwaysAllow\n", "");
    fires("HC013", &no_policy, &intent, &[], None);
}
