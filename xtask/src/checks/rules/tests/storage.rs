//! HC023, the database's persistent data, firing.

use super::*;

#[test]
fn hc023_fires_on_a_claim_written_without_fs_group_and_on_pgdata_off_the_claim() {
    let intent = inline_intent();
    let no_fs_group = good_yaml().replace("runAsUser: 999, fsGroup: 999,", "runAsUser: 999,");
    fires("HC023", &no_fs_group, &intent, &[], None);
    let read_only = no_fs_group.replace("mountPath: /var/lib/postgresql/data}", "mountPath: /var/lib/postgresql/data, readOnly: true}");
    assert!(findings_with(&read_only, &intent, &[], None).is_empty(), "a read-only claim needs no fsGroup");
    let openshift = Intent { openshift_adapts: true, ..inline_intent() };
    assert!(findings_with(&no_fs_group, &openshift, &[], None).iter().all(|f| !f.starts_with("HC023")), "the SCC assigns fsGroup");
    fires("HC023", &good_yaml().replace("value: /var/lib/postgresql/data/pgdata", "value: /var/lib/postgresql/pgdata"), &intent, &[], None);
    fires(
        "HC023",
        &good_yaml().replace("value: /var/lib/postgresql/data/pgdata", "value: /var/lib/postgresql/database"),
        &intent,
        &[],
        None,
    );
    assert!(under("/var/lib/postgresql/data", "/var/lib/postgresql/data/"));
}
