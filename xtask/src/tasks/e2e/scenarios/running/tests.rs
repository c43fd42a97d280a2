//! Unit tests of scenario j's parts that need no nodes: how a restarted container is named and reported.

use super::*;
use std::collections::BTreeMap;

#[test]
fn a_restarted_container_is_named_with_how_it_last_ended_and_shown_in_the_report() {
    let pod = |init: u64, main: u64| {
        json!({"metadata": {"name": "heimdall-7d9f"}, "status": {"phase": "Running",
        "initContainerStatuses": [{"name": "wait-for-database", "restartCount": init, "state": {"terminated": {"reason": "Completed"}}}],
        "containerStatuses": [{"name": "heimdall", "restartCount": main, "state": {"running": {}},
            "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}})
    };
    assert_eq!(restart_of(&pod(0, 0)), None);
    let restarted = restart_of(&pod(0, 2)).unwrap();
    assert!(restarted.starts_with("container heimdall of pod heimdall-7d9f restarted 2 time(s)"), "{restarted}");
    assert!(restarted.contains("last ended: Error, exit code 1"), "{restarted}");
    assert!(restart_of(&pod(1, 0)).unwrap().contains("(how it ended is not recorded)"), "an init container counts too");
    let logs: BTreeMap<String, String> = [
        ("heimdall-7d9f/heimdall (previous)".to_string(), "migrating\nERROR: relation \"Users\" already exists\n".to_string()),
        ("heimdall-7d9f/heimdall".to_string(), "listening\n".to_string()),
    ]
    .into();
    let report = not_ready_report(&[&pod(0, 1)], &json!({}), &logs, Duration::from_secs(90));
    assert!(report.contains("container heimdall: running, not ready (restarted 1, last ended: Error, exit code 1)"), "{report}");
    assert!(report.contains("log before the restart: ERROR: relation \"Users\" already exists\n      log: listening"), "{report}");
}
