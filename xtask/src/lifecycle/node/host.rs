//! What the node changes on the host, and how it is undone: a snapshot of sysctls, iptables tables, ipsets, mounts, network links, cgroups, fixed paths and node processes, taken before the node starts, restored when it stops, and compared again by the suite afterwards (with the temp folder's entries, which the runs must leave as they found them).

use super::witness::{self, Author, Witness};
use anyhow::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

/// Settings the kubelet, kube-proxy, the bridge and the firewall are known to write.
const SYSCTLS: [&str; 14] = [
    "vm/overcommit_memory",
    "vm/panic_on_oom",
    "kernel/panic",
    "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys",
    "kernel/keys/root_maxbytes",
    "net/ipv4/ip_forward",
    "net/ipv4/conf/all/route_localnet",
    "net/ipv6/conf/all/forwarding",
    "net/bridge/bridge-nf-call-iptables",
    "net/bridge/bridge-nf-call-ip6tables",
    "net/netfilter/nf_conntrack_max",
    "net/netfilter/nf_conntrack_tcp_timeout_established",
    "net/netfilter/nf_conntrack_tcp_timeout_close_wait",
];

/// Paths containerd, the kubelet and CNI use whatever they are told.
const FIXED_PATHS: [&str; 9] = [
    "/run/containerd",
    "/run/netns",
    "/var/lib/kubelet",
    "/usr/libexec/kubernetes",
    "/var/lib/cni",
    "/etc/cni",
    "/var/log/pods",
    "/var/log/containers",
    "/var/run/kube-router",
];

/// Folders below the home folder that the tools the run starts write when not told otherwise: Kubernetes
/// clients' cache, Helm's three, cosign's and skopeo's logins and caches. Compared, never removed.
const HOME_PATHS: [&str; 8] =
    [".kube", ".cache/helm", ".config/helm", ".local/share/helm", ".docker", ".sigstore", ".config/containers", ".local/share/containers"];

/// Process names (as /proc/PID/comm shows them, 15 characters at most) of the node and control plane.
pub const NODE_PROCESSES: [&str; 11] = [
    "containerd",
    "containerd-shim",
    "runc",
    "kubelet",
    "kube-proxy",
    "kube-apiserver",
    "etcd",
    "kube-controller",
    "kube-scheduler",
    "coredns",
    "kube-router",
];

const IPTABLES: [&str; 2] = ["iptables", "ip6tables"];

/// The host as the node may change it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct HostState {
    pub sysctls: BTreeMap<String, String>,
    /// `iptables:nat` → the table's rules, counters zeroed; a table holding nothing is absent.
    pub iptables: BTreeMap<String, String>,
    pub ipsets: BTreeSet<String>,
    pub mounts: BTreeSet<String>,
    pub links: BTreeSet<String>,
    /// `ip rule` lines that name the bridge, as `pref N <selector> <action>`: the run's own (its bridge's
    /// name is its claim), so another program's rules are none of its business.
    #[serde(default)]
    pub rules: BTreeSet<String>,
    /// `cpu/kubepods`: the first level of every cgroup hierarchy.
    pub cgroups: BTreeSet<String>,
    pub paths: BTreeSet<String>,
    /// `pid comm` of node processes and of anything running in a pod's cgroup.
    pub processes: BTreeSet<String>,
    /// Entries of the shared temp folder: compared, never restored (others may write there too).
    pub temp: BTreeSet<String>,
    /// Entries of the run's own temp folder (`TMPDIR` of its processes), when it has one.
    #[serde(default)]
    pub run_temp: BTreeSet<String>,
    /// Which of [`HOME_PATHS`] exist, as `~/PATH`.
    #[serde(default)]
    pub home: BTreeSet<String>,
}

fn home_paths() -> BTreeSet<String> {
    let Some(home) = std::env::var_os("HOME").map(std::path::PathBuf::from) else { return BTreeSet::new() };
    HOME_PATHS.iter().filter(|p| home.join(p).exists()).map(|p| format!("~/{p}")).collect()
}

impl HostState {
    pub fn take() -> Result<HostState> {
        Ok(HostState {
            sysctls: SYSCTLS.iter().filter_map(|k| Some((k.to_string(), read_sysctl(k)?))).collect(),
            iptables: iptables_tables()?,
            ipsets: ipsets(),
            mounts: mounts()?,
            links: names_in("/sys/class/net"),
            rules: bridge_rules(super::BRIDGE),
            cgroups: cgroups(),
            paths: FIXED_PATHS.iter().filter(|p| Path::new(p).exists()).map(|p| p.to_string()).collect(),
            processes: node_processes(),
            temp: names_in(&witness::shared_temp_dir().to_string_lossy()),
            run_temp: match witness::shared_temp_dir() == std::env::temp_dir() {
                true => BTreeSet::new(),
                false => names_in(&std::env::temp_dir().to_string_lossy()),
            },
            home: home_paths(),
        })
    }

    /// Every difference from `before`, one line each; empty when the host is as it was.
    pub fn differences(&self, before: &HostState) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in &before.sysctls {
            if self.sysctls.get(k) != Some(v) {
                out.push(format!("sysctl {k}: {v} before, {:?} now", self.sysctls.get(k)));
            }
        }
        for table in before.iptables.keys().chain(self.iptables.keys()).collect::<BTreeSet<_>>() {
            if before.iptables.get(table) != self.iptables.get(table) {
                out.push(format!("{table} changed:\n{}", table_diff(before.iptables.get(table), self.iptables.get(table))));
            }
        }
        let sets = [
            ("ipset", &before.ipsets, &self.ipsets),
            ("mount", &before.mounts, &self.mounts),
            ("link", &before.links, &self.links),
            ("routing rule", &before.rules, &self.rules),
            ("cgroup", &before.cgroups, &self.cgroups),
            ("path", &before.paths, &self.paths),
            ("process", &before.processes, &self.processes),
            ("temp entry", &before.temp, &self.temp),
            ("entry in the run's temp folder", &before.run_temp, &self.run_temp),
            ("folder in the home folder", &before.home, &self.home),
        ];
        for (what, was, now) in sets {
            out.extend(now.difference(was).map(|x| format!("new {what}: {x}")));
            if what != "process" && !what.contains("temp") {
                out.extend(was.difference(now).map(|x| format!("gone {what}: {x}")));
            }
        }
        out
    }

    /// Puts back what the node of process `owner` changed since `self` was taken: its stray processes
    /// and pods' are killed (never another program's, see [`the_nodes`]), new
    /// mounts, the run's links, ipsets, cgroups and fixed paths removed, iptables tables and sysctls restored.
    /// Returns what could not be undone.
    pub fn restore(&self, owner: u32) -> Vec<String> {
        let mut failed = Vec::new();
        let now = match HostState::take() {
            Ok(now) => now,
            Err(e) => return vec![format!("reading the host's state: {e:#}")],
        };
        kill_new_processes(&self.processes, &now.processes, owner);
        let mut new_mounts: Vec<&String> = now.mounts.difference(&self.mounts).collect();
        new_mounts.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for m in new_mounts {
            unmount(m, &mut failed);
        }
        // A pod's veth goes with its network namespace, even between the look and the delete: one
        // already gone needs no undoing.
        for link in runs_links(now.links.difference(&self.links), super::BRIDGE) {
            let mut gone_meanwhile = Vec::new();
            run_or_note(Command::new("ip").args(["link", "delete", &link]), &format!("ip link delete {link}"), &mut gone_meanwhile);
            failed.extend(gone_meanwhile.into_iter().filter(|f| !f.contains("Cannot find device")));
        }
        for rule in now.rules.difference(&self.rules) {
            let mut args = vec!["rule", "del"];
            args.extend(rule.split_whitespace());
            run_or_note(Command::new("ip").args(&args), &format!("ip rule del {rule}"), &mut failed);
        }
        for (table, text) in &now.iptables {
            if self.iptables.get(table) != Some(text) {
                restore_table(table, self.iptables.get(table), &mut failed);
            }
        }
        for table in self.iptables.keys().filter(|t| !now.iptables.contains_key(*t)) {
            restore_table(table, self.iptables.get(table), &mut failed);
        }
        for set in now.ipsets.difference(&self.ipsets) {
            run_or_note(Command::new("ipset").args(["destroy", set]), &format!("ipset destroy {set}"), &mut failed);
        }
        for (k, v) in &self.sysctls {
            if now.sysctls.get(k) != Some(v) && std::fs::write(Path::new("/proc/sys").join(k), v).is_err() {
                failed.push(format!("sysctl {k} could not be set back to {v}"));
            }
        }
        for cg in now.cgroups.difference(&self.cgroups) {
            remove_cgroup(&Path::new("/sys/fs/cgroup").join(cg), &mut failed);
        }
        for path in now.paths.difference(&self.paths) {
            if let Err(e) = std::fs::remove_dir_all(path) {
                failed.push(format!("removing {path}: {e}"));
            }
        }
        failed
    }
}

/// The routing rules that name `bridge`, as `ip rule del` takes them (`pref 1000 from all to
/// 10.96.0.0/16 iif heimdall-e2e0 unreachable`); a rule outlives its interface, marked `[detached]`.
fn bridge_rules(bridge: &str) -> BTreeSet<String> {
    let out = crate::support::process::output(Command::new("ip").args(["rule", "show"]), "ip rule show")
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    rules_naming(&out.unwrap_or_default(), bridge)
}

fn rules_naming(listing: &str, bridge: &str) -> BTreeSet<String> {
    let named = listing.lines().filter(|l| l.split_whitespace().any(|w| w == bridge));
    let parsed =
        named.filter_map(|l| l.split_once(':')).map(|(pref, rule)| format!("pref {} {}", pref.trim(), rule.replace("[detached]", "")));
    parsed.map(|r| r.split_whitespace().collect::<Vec<_>>().join(" ")).collect()
}

/// Of the new links, those that are still there and the run's: the bridge, and the links on it
/// (enslaved first: deleting the bridge frees them). Another program's new link is left alone.
pub(crate) fn runs_links<'a>(new: impl Iterator<Item = &'a String>, bridge: &str) -> Vec<String> {
    let net = Path::new("/sys/class/net");
    let on_bridge = |l: &str| std::fs::read_link(net.join(l).join("master")).is_ok_and(|m| m.file_name().is_some_and(|n| n == bridge));
    let new: Vec<&String> = new.filter(|l| net.join(l).exists()).collect();
    let mut out: Vec<String> = new.iter().filter(|l| on_bridge(l)).map(|l| l.to_string()).collect();
    out.extend(new.iter().filter(|l| l.as_str() == bridge).map(|l| l.to_string()));
    out
}

/// Differences from the host's state before a run, split by who made them: the run's own (and
/// what the witness cannot place) fail the check; another program's are notes.
#[derive(Debug, Default, PartialEq)]
pub struct Judged {
    pub blamed: Vec<String>,
    pub ignored: Vec<String>,
}

/// Asks the witness (where the run has one) who made each new temp entry, node process, mount and link;
/// every other difference, and everything without a witness, stays the run's.
pub fn judge(differences: Vec<String>, witness: Option<&Witness>) -> Judged {
    let mut judged = Judged::default();
    for difference in differences {
        let author = match witness {
            Some(w) => author(w, &difference),
            None => Author::Unknown,
        };
        match author {
            Author::Other(pid, comm) => {
                judged.ignored.push(format!("ignored {difference}: made by pid {pid} ({comm}), which is not a process of the run"))
            }
            Author::Run(pid, comm) => judged.blamed.push(format!("{difference} (made by pid {pid}, {comm}, a process of the run)")),
            Author::OtherLink(why) => judged.ignored.push(format!("ignored {difference}: {why}, so another program made it")),
            Author::RunLink(why) => judged.blamed.push(format!("{difference} ({why})")),
            Author::Unknown => judged.blamed.push(difference),
        }
    }
    judged
}

/// Who made one difference, where the witness can tell: a new temp entry, node process, mount or link.
fn author(witness: &Witness, difference: &str) -> Author {
    if let Some(name) = difference.strip_prefix("new temp entry: ") {
        witness.temp_entry(name)
    } else if let Some(process) = difference.strip_prefix("new process: ") {
        process.split(' ').next().and_then(|p| p.parse().ok()).map_or(Author::Unknown, |pid| witness.process(pid))
    } else if let Some(point) = difference.strip_prefix("new mount: ") {
        witness.mount(point)
    } else if let Some(name) = difference.strip_prefix("new link: ") {
        witness.link(name)
    } else {
        Author::Unknown
    }
}

fn read_sysctl(key: &str) -> Option<String> {
    std::fs::read_to_string(Path::new("/proc/sys").join(key)).ok().map(|v| v.trim().to_string())
}

fn names_in(dir: &str) -> BTreeSet<String> {
    std::fs::read_dir(dir).into_iter().flatten().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect()
}

/// The built-in chains of each table, with the ACCEPT policy a table has before anyone writes to it.
fn builtin_chains(table: &str) -> &'static [&'static str] {
    match table {
        "filter" | "security" => &["INPUT", "FORWARD", "OUTPUT"],
        "nat" => &["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
        "mangle" => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
        "raw" => &["PREROUTING", "OUTPUT"],
        _ => &[],
    }
}

/// Each table of `iptables-save` and `ip6tables-save`, comments dropped and counters zeroed.
fn iptables_tables() -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for family in IPTABLES {
        let saved = crate::support::process::output(
            &mut Command::new(format!("{family}-save")),
            &format!("{family}-save (apt-get install iptables)"),
        )?;
        out.extend(parse_save(family, &String::from_utf8_lossy(&saved.stdout)));
    }
    Ok(out)
}

fn parse_save(family: &str, text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(table) = line.strip_prefix('*') {
            current = Some((table.to_string(), Vec::new()));
        } else if line == "COMMIT" {
            if let Some((table, lines)) = current.take() {
                let untouched = lines.iter().all(|l| builtin_chains(&table).iter().any(|c| l == &format!(":{c} ACCEPT [0:0]")));
                if !untouched {
                    out.insert(format!("{family}:{table}"), lines.join("\n"));
                }
            }
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(zero_counters(line));
        }
    }
    out
}

/// `:CHAIN POLICY [12:345]` → `:CHAIN POLICY [0:0]`.
fn zero_counters(line: &str) -> String {
    match (line.starts_with(':'), line.rfind(" [")) {
        (true, Some(at)) => format!("{} [0:0]", &line[..at]),
        _ => line.to_string(),
    }
}

fn table_diff(before: Option<&String>, now: Option<&String>) -> String {
    let (a, b) = (before.map(String::as_str).unwrap_or(""), now.map(String::as_str).unwrap_or(""));
    let (a, b): (BTreeSet<&str>, BTreeSet<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out: Vec<String> = b.difference(&a).map(|l| format!("  + {l}")).collect();
    out.extend(a.difference(&b).map(|l| format!("  - {l}")));
    out.join("\n")
}

/// Puts one table back as it was (`before`), or empty with ACCEPT policies when it held nothing.
fn restore_table(key: &str, before: Option<&String>, failed: &mut Vec<String>) {
    let (family, table) = key.split_once(':').unwrap_or(("iptables", key));
    let body = match before {
        Some(text) => text.clone(),
        None => builtin_chains(table).iter().map(|c| format!(":{c} ACCEPT [0:0]")).collect::<Vec<_>>().join("\n"),
    };
    let input = format!("*{table}\n{body}\nCOMMIT\n");
    let result = Command::new(format!("{family}-restore"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(input.as_bytes())?;
            child.wait_with_output()
        });
    match result {
        Ok(out) if out.status.success() => {}
        Ok(out) => failed.push(format!("{family}-restore of {table}: {}", String::from_utf8_lossy(&out.stderr).trim())),
        Err(e) => failed.push(format!("{family}-restore of {table}: {e}")),
    }
}

fn ipsets() -> BTreeSet<String> {
    crate::support::process::output(Command::new("ipset").args(["list", "-n"]), "ipset list")
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Mount points, from /proc/self/mountinfo (octal escapes decoded).
fn mounts() -> Result<BTreeSet<String>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(text.lines().filter_map(|l| l.split(' ').nth(4)).map(unescape_mount).collect())
}

fn unescape_mount(s: &str) -> String {
    s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")
}

#[cfg(not(target_os = "linux"))]
fn unmount(point: &str, failed: &mut Vec<String>) {
    failed.push(format!("umount {point}: the node runs on Linux only"));
}

#[cfg(target_os = "linux")]
fn unmount(point: &str, failed: &mut Vec<String>) {
    let Ok(c) = std::ffi::CString::new(point) else { return };
    // SAFETY: umount2 with a valid C string; MNT_DETACH lets a busy mount go once its users are gone.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINVAL) && err.raw_os_error() != Some(libc::ENOENT) {
            failed.push(format!("umount {point}: {err}"));
        }
    }
}

/// The first level under each cgroup hierarchy (`cpu/kubepods`, `unified/k8s.io`).
fn cgroups() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for hierarchy in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
        let h = hierarchy.file_name().to_string_lossy().into_owned();
        if hierarchy.path().is_symlink() {
            continue;
        }
        for entry in std::fs::read_dir(hierarchy.path()).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                out.insert(format!("{h}/{}", entry.file_name().to_string_lossy()));
            }
        }
    }
    out
}

/// Removes a cgroup and everything under it, deepest first (a cgroup goes once its processes have).
fn remove_cgroup(dir: &Path, failed: &mut Vec<String>) {
    for attempt in 0..20 {
        let mut dirs: Vec<_> =
            walkdir::WalkDir::new(dir).into_iter().flatten().filter(|e| e.file_type().is_dir()).map(|e| e.into_path()).collect();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        let left = dirs.iter().filter(|d| std::fs::remove_dir(d).is_err()).count();
        if left == 0 || !dir.exists() {
            return;
        }
        if attempt == 19 {
            failed.push(format!("cgroup {} could not be removed", dir.display()));
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// `pid comm` of every node process, and of every process in a pod's cgroup.
fn node_processes() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default().trim().to_string();
        let in_pod = std::fs::read_to_string(entry.path().join("cgroup")).unwrap_or_default().contains("kubepods");
        if in_pod || NODE_PROCESSES.contains(&comm.as_str()) {
            out.insert(format!("{pid} {comm}"));
        }
    }
    out
}

/// Kills the node's processes and its pods' that were not there before, except this process's own
/// children (the control plane's kube-apiserver and etcd, which their owner stops and reaps).
fn kill_new_processes(before: &BTreeSet<String>, now: &BTreeSet<String>, owner: u32) {
    let read = |pid: libc::pid_t, file: &str| std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default();
    for line in now.difference(before) {
        let pid = line.split(' ').next().and_then(|p| p.parse::<libc::pid_t>().ok()).filter(|p| !is_own_child(*p));
        if let Some(pid) = pid.filter(|p| the_nodes(&read(*p, "cmdline"), &read(*p, "cgroup"), owner)) {
            // SAFETY: kill(2); the pid is a node process or runs in a pod's cgroup, both started by this run.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
    if now.difference(before).next().is_some() {
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
}

/// Whether a process (its `/proc` cmdline and cgroup) is the node's of process `owner`: it runs in one
/// of the nodes' pod cgroup trees, or its command line names the owner's folders, which carry its
/// pid (`xtask-e2e-<pid>-`: containerd's shims too, which outlive their parent). Another program's
/// etcd or containerd started during the run, even another run's, is neither.
fn the_nodes(cmdline: &str, cgroup: &str, owner: u32) -> bool {
    let roots = ["/kubepods".to_string(), format!("{}/kubepods", super::SECOND.cgroup_root)];
    let in_pod = cgroup.lines().filter_map(|l| l.splitn(3, ':').nth(2)).any(|path| roots.iter().any(|r| path.starts_with(r.as_str())));
    in_pod || cmdline.contains(&format!("xtask-e2e-{owner}-"))
}

fn is_own_child(pid: libc::pid_t) -> bool {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The parent pid is the second field after the command, which is in parentheses.
    let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)).and_then(|p| p.parse::<u32>().ok());
    ppid == Some(std::process::id())
}

fn run_or_note(cmd: &mut Command, what: &str, failed: &mut Vec<String>) {
    match crate::support::process::output(cmd, what) {
        Ok(o) if o.status.success() => {}
        Ok(o) => failed.push(format!("{what}: {}", String::from_utf8_lossy(&o.stderr).trim())),
        Err(e) => failed.push(format!("{what}: {e:#}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAVED: &str = "# Generated by iptables-nft-save v1.8.9\n*filter\n:INPUT ACCEPT [10:200]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [3:180]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n-A OUTPUT -j KUBE-SERVICES\nCOMMIT\n";

    #[test]
    fn the_restore_kills_only_the_nodes_processes_and_its_pods() {
        let cgroup = |path: &str| format!("12:cpu,cpuacct:{path}\n0::{path}\n");
        let plain = cgroup("/user.slice");
        assert!(the_nodes("containerd\0--config\0/tmp/xtask-e2e-77-ab/node/containerd.toml\0", &plain, 77));
        assert!(the_nodes("containerd-shim-runc-v2\0-address\0/tmp/run/xtask-e2e-77-ab/node/containerd/containerd.sock\0", &plain, 77));
        assert!(the_nodes("postgres\0", &cgroup("/kubepods/burstable/pod1/c1"), 77));
        assert!(the_nodes("node\0", &cgroup("/heimdall-e2e-node-2/kubepods/besteffort/pod2/c2"), 77));
        assert!(!the_nodes("etcd\0--data-dir\0/tmp/xtask-e2e-78-cd/etcd\0", &plain, 77), "another run's etcd");
        assert!(!the_nodes("containerd\0", &plain, 77), "the machine's own containerd");
        assert!(!the_nodes("pause\0", &cgroup("/docker/0123/kubepods/pod3/c3"), 77), "a kind node's pod, inside its container");
    }

    #[test]
    fn only_rules_naming_the_bridge_are_the_runs_and_a_detached_one_is_still_found() {
        let listing = "0:\tfrom all lookup local\n1000:\tfrom all to 10.96.0.0/16 iif heimdall-e2e0 [detached] unreachable\n\
            1001:\tfrom all iif heimdall-e2e00 lookup 7\n32766:\tfrom all lookup main\n";
        let rules: Vec<String> = rules_naming(listing, "heimdall-e2e0").into_iter().collect();
        assert_eq!(rules, ["pref 1000 from all to 10.96.0.0/16 iif heimdall-e2e0 unreachable"]);
    }

    #[test]
    fn untouched_tables_count_as_absent_and_counters_are_ignored() {
        let tables = parse_save("iptables", SAVED);
        assert_eq!(tables.keys().collect::<Vec<_>>(), ["iptables:nat"]);
        assert!(tables["iptables:nat"].contains(":OUTPUT ACCEPT [0:0]\n:POSTROUTING"));
        assert!(tables["iptables:nat"].contains("-A OUTPUT -j KUBE-SERVICES"));
    }

    #[test]
    fn every_kind_of_change_is_reported_and_an_unchanged_host_reports_none() {
        let before = HostState {
            sysctls: [("net/ipv4/ip_forward".to_string(), "0".to_string())].into(),
            links: ["lo".to_string()].into(),
            ..HostState::default()
        };
        assert!(before.differences(&before).is_empty());
        let mut after = before.clone();
        after.sysctls.insert("net/ipv4/ip_forward".into(), "1".into());
        after.iptables.insert("iptables:nat".into(), "-A OUTPUT -j KUBE-SERVICES".into());
        after.links.insert("heimdall-e2e0".into());
        after.mounts.insert("/run/netns/cni-1".into());
        after.processes.insert("42 containerd-shim".into());
        after.temp.insert("xtask-e2e-credentials-42-AbC123".into());
        after.home.insert("~/.kube".into());
        let said = after.differences(&before).join("\n");
        for expected in [
            "sysctl net/ipv4/ip_forward",
            "iptables:nat changed",
            "+ -A OUTPUT -j KUBE-SERVICES",
            "new link: heimdall-e2e0",
            "new mount: /run/netns/cni-1",
            "new process: 42 containerd-shim",
            "new temp entry: xtask-e2e-credentials-42-AbC123",
            "new folder in the home folder: ~/.kube",
        ] {
            assert!(said.contains(expected), "{expected} missing from:\n{said}");
        }
    }
}
