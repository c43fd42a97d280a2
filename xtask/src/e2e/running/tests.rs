//! Unit tests of scenario j's judgements: the admin token's signature and the not-Ready report (the scenario itself needs nodes).

use super::*;

const HEADER_PAYLOAD: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6ImUyZS1hZG1pbkBoZWltZGFsbC5leGFtcGxlIiwic3ViIjoiMSIsInJvbGUiOiJhZG1pbiIsImZvcmNlUGFzc3dvcmRDaGFuZ2UiOmZhbHNlLCJpYXQiOjE3NjQzMDAwMDAsImV4cCI6MTc2NDMwMDYwMH0";

/// Tokens signed by Python's hmac module (not by the code under test) with the key shown.
#[test]
fn the_admin_token_must_be_signed_with_the_secrets_jwt_secret() {
    let with_null = format!("{HEADER_PAYLOAD}.XJdwEzDtXoBJcQGxU56EIhBkRaCyE9FpGqL7Sfj7mRI"); // key 0123abcd + "null"
    let with_undefined = format!("{HEADER_PAYLOAD}.uGHjKXAaP7SQm_kCqoP4-n1ir5vuSpQ-ADJh_txu3sI"); // key 0123abcd + "undefined"
    let other_key = format!("{HEADER_PAYLOAD}.EL8J-uMdf7e7FD_Q_zr-kq4ux3EBPQz3U0xeL7TOkyU"); // key otherkey + "null"
    verify_admin_token(&with_null, "0123abcd").unwrap();
    verify_admin_token(&with_undefined, "0123abcd").unwrap();
    let err = verify_admin_token(&other_key, "0123abcd").unwrap_err().to_string();
    assert!(err.contains("not signed with JWT_SECRET from the Secret"), "{err}");
    let not_admin = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJlbWFpbCI6InNvbWVvbmVAZWxzZSIsInN1YiI6IjEiLCJyb2xlIjoidXNlciIsImZvcmNlUGFzc3dvcmRDaGFuZ2UiOmZhbHNlLCJpYXQiOjE3NjQzMDAwMDAsImV4cCI6MTc2NDMwMDYwMH0.EZ9ouIqZKTDdAI8LfrRWHt48xuqVRxOZ95_clK1Wdc8";
    assert!(verify_admin_token(not_admin, "0123abcd").unwrap_err().to_string().contains("not the admin's"));
    assert!(verify_admin_token("a.b", "0123abcd").unwrap_err().to_string().contains("not a JWT"));
}

#[test]
fn the_not_ready_report_names_each_pod_its_containers_and_last_events() {
    let pod = json!({"metadata": {"name": "heimdall-7d9f"}, "status": {"phase": "Pending",
        "initContainerStatuses": [{"name": "wait-for-database", "state": {"running": {}}}],
        "containerStatuses": [{"name": "heimdall", "state": {"waiting": {"reason": "PodInitializing"}}}]}});
    let event = |n: usize, name: &str| {
        json!({"involvedObject": {"name": name}, "type": "Warning", "reason": format!("R{n}"),
        "message": format!("m{n}"), "lastTimestamp": format!("2026-11-28T10:00:0{n}Z")})
    };
    let events = json!({"items": (0..7).map(|n| event(n, "heimdall-7d9f")).chain([event(9, "other-pod")]).collect::<Vec<_>>()});
    let report = not_ready_report(&[&pod], &events, Duration::from_secs(600));
    assert!(report.starts_with("pods not Ready after 600 s"), "{report}");
    assert!(report.contains("pod heimdall-7d9f: phase Pending"), "{report}");
    assert!(report.contains("container wait-for-database: running, not ready"), "{report}");
    assert!(report.contains("container heimdall: waiting: PodInitializing"), "{report}");
    assert!(
        report.contains("event Warning R6: m6") && report.contains("R2") && !report.contains("R1:"),
        "the last 5 events only: {report}"
    );
    assert!(!report.contains("other-pod") && !report.contains("R9"), "another pod's events: {report}");
    assert!(not_ready_report(&[], &events, Duration::from_secs(1)).contains("fewer than 2 pods"));
}
