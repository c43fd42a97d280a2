//! Who changed the host during a run: the kernel's own record of it, so the host check blames only
//! the run. fanotify reports every entry created in the shared temp folder with the id of the
//! process that created it; the proc connector reports every fork, so the run's process tree is
//! known even for processes that exited long before the check. A temp entry, or a node process,
//! is the run's when its process descends from the run's first process; anything else was another
//! program's, and is named in a note, never a failure.
//!
//! Network links have no creator in the kernel's record (rtnetlink's notifications carry port id
//! 0), so they are placed by what they joined: rtnetlink reports every link and its master, and the
//! run's links are its bridge and the pod veths on it. A new link that never joined the bridge is
//! another program's.
//!
//! The run's processes also write their temporary files under a folder of the run (`TMPDIR`, see
//! [`redirect_temp`]), so a program that honours it leaves nothing in the shared folder at all.

use anyhow::{Context, Result};
use kernel::{fanotify_on, fanotify_on_mounts, link_events, listen, proc_connector, read_creations, read_forks, read_links, read_mounts};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The shared temp folder as it was before the run moved `TMPDIR` to a folder of its own; its
/// children inherit it through this variable.
const SHARED_TMPDIR: &str = "XTASK_SHARED_TMPDIR";

/// The temp folder every program on the machine shares (the one the host check compares).
pub fn shared_temp_dir() -> PathBuf {
    std::env::var_os(SHARED_TMPDIR).filter(|v| !v.is_empty()).map(PathBuf::from).unwrap_or_else(std::env::temp_dir)
}

/// Makes the run's own temp folder in the shared one and points `TMPDIR` at it, for this process
/// and every process it starts (Go, Node.js, Python, gcc and Helm honour it). Call it first, before
/// any thread or child starts; the folder goes like every scratch folder.
pub fn redirect_temp() -> Result<crate::support::scratch::Folder> {
    let shared = shared_temp_dir();
    let folder = crate::support::scratch::folder("xtask-run-temp-")?;
    std::env::set_var(SHARED_TMPDIR, &shared);
    std::env::set_var("TMPDIR", folder.path());
    Ok(folder)
}

/// What the kernel said about one process or temp entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// A process of the run (pid and command name).
    Run(i32, String),
    /// Another program's process.
    Other(i32, String),
    /// A link of the run: its bridge, or a link that joined it.
    RunLink(String),
    /// A link that never joined the run's bridge.
    OtherLink(String),
    /// Nothing was seen (made before the witness started, or its events were lost).
    Unknown,
}

/// The two listeners and what they heard.
pub struct Witness {
    root: i32,
    heard: Arc<Mutex<Heard>>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct Heard {
    /// child process → the process that forked it.
    parents: HashMap<i32, i32>,
    /// A temp entry's name → the process that created it, with its command name when it was asked.
    created: HashMap<String, (i32, String)>,
    /// A mount point → the process that attached a mount there.
    mounted: HashMap<String, (i32, String)>,
    /// Events the kernel dropped (a full queue): then Unknown stays possible for anything.
    lost: bool,
    /// The run's bridge, by name.
    bridge: String,
    /// A link's index → its name, as last reported.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    link_names: HashMap<i32, String>,
    /// Links reported (by name), and those that had the bridge as master at some report.
    links_seen: HashSet<String>,
    joined: HashSet<String>,
}

static GLOBAL: OnceLock<Witness> = OnceLock::new();

/// Starts the witness of this run (this process and its descendants) on the shared temp folder,
/// once per process; [`global`] finds it again.
pub fn start_global() -> Result<()> {
    if GLOBAL.get().is_none() {
        let witness = Witness::start(&shared_temp_dir(), std::process::id() as i32, super::BRIDGE)?;
        let _ = GLOBAL.set(witness);
    }
    Ok(())
}

/// The run's witness, if [`start_global`] started one.
pub fn global() -> Option<&'static Witness> {
    GLOBAL.get()
}

impl Witness {
    /// Listens for forks everywhere, for entries created in `temp` and for links (`bridge` is the
    /// run's); `root` is the run's first process. Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) on Linux.
    pub fn start(temp: &Path, root: i32, bridge: &str) -> Result<Witness> {
        let heard = Arc::new(Mutex::new(Heard { bridge: bridge.to_string(), ..Heard::default() }));
        let stop = Arc::new(AtomicBool::new(false));
        let forks = proc_connector().context("listening to the kernel's fork events (the proc connector)")?;
        let creations = fanotify_on(temp).with_context(|| format!("watching {} with fanotify", temp.display()))?;
        let links = link_events().context("listening to the kernel's link events (rtnetlink)")?;
        let mut threads = vec![
            listen(forks, &heard, &stop, read_forks),
            listen(creations, &heard, &stop, read_creations),
            listen(links, &heard, &stop, read_links),
        ];
        // Mount events came with Linux 6.14: without them, mounts stay the run's to explain.
        match fanotify_on_mounts() {
            Ok(mounts) => threads.push(listen(mounts, &heard, &stop, read_mounts)),
            Err(e) => eprintln!("witness: mounts are not attributed on this kernel ({e:#}); every new mount is blamed on the run"),
        }
        Ok(Witness { root, heard, stop, threads })
    }

    /// Who created the temp entry `name`.
    pub fn temp_entry(&self, name: &str) -> Author {
        self.recorded(|heard| heard.created.get(name))
    }

    /// The author of what `find` looks up among the creations heard, if any was heard.
    fn recorded(&self, find: impl FnOnce(&Heard) -> Option<&(i32, String)>) -> Author {
        let heard = self.heard.lock().unwrap();
        match find(&heard) {
            Some((pid, comm)) => self.judge(&heard, *pid, comm.clone()),
            None => Author::Unknown,
        }
    }

    /// Who attached the mount at `point`.
    pub fn mount(&self, point: &str) -> Author {
        self.recorded(|heard| heard.mounted.get(point))
    }

    /// Whose link `name` is: the run's when it is the run's bridge or joined it.
    pub fn link(&self, name: &str) -> Author {
        let heard = self.heard.lock().unwrap();
        if name == heard.bridge || heard.joined.contains(name) {
            Author::RunLink(format!("it is or joined the run's bridge {}", heard.bridge))
        } else if heard.links_seen.contains(name) {
            Author::OtherLink(format!("it never joined the run's bridge {}", heard.bridge))
        } else {
            Author::Unknown
        }
    }

    /// Whose process `pid` is (its command name read now).
    pub fn process(&self, pid: i32) -> Author {
        let heard = self.heard.lock().unwrap();
        self.judge(&heard, pid, comm_of(pid))
    }

    fn judge(&self, heard: &Heard, pid: i32, comm: String) -> Author {
        if descends(&heard.parents, pid, self.root) {
            Author::Run(pid, comm)
        } else if heard.parents.contains_key(&pid) || !heard.lost {
            Author::Other(pid, comm)
        } else {
            Author::Unknown
        }
    }
}

impl Drop for Witness {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.threads.drain(..).for_each(|t| drop(t.join()));
    }
}

/// Whether `pid` is `root` or was forked, at any depth, by it.
fn descends(parents: &HashMap<i32, i32>, mut pid: i32, root: i32) -> bool {
    for _ in 0..4096 {
        if pid == root {
            return true;
        }
        match parents.get(&pid) {
            Some(parent) if *parent != pid => pid = *parent,
            _ => return false,
        }
    }
    false
}

fn comm_of(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|c| c.trim().to_string()).unwrap_or_else(|_| "(exited)".into())
}

#[cfg(target_os = "linux")]
mod kernel {
    use super::{comm_of, Heard};
    use anyhow::{bail, Result};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    pub type Reader = fn(&[u8], &mut Heard);

    /// A thread that reads `fd` until told to stop, handing each read to `read`.
    pub(super) fn listen(fd: OwnedFd, heard: &Arc<Mutex<Heard>>, stop: &Arc<AtomicBool>, read: Reader) -> std::thread::JoinHandle<()> {
        let (heard, stop) = (heard.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while !stop.load(Ordering::SeqCst) {
                let mut poll = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
                // SAFETY: poll(2) on one valid descriptor.
                if unsafe { libc::poll(&mut poll, 1, 200) } <= 0 {
                    continue;
                }
                // SAFETY: read(2) into a buffer of the length given.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                let mut heard = heard.lock().unwrap();
                match n {
                    n if n > 0 => read(&buf[..n as usize], &mut heard),
                    // ENOBUFS: the kernel dropped events for a full socket.
                    _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENOBUFS) => heard.lost = true,
                    _ => {}
                }
            }
        })
    }

    fn check(ret: i32, what: &str) -> Result<i32> {
        if ret < 0 {
            bail!("{what}: {}", std::io::Error::last_os_error());
        }
        Ok(ret)
    }

    // linux/connector.h and linux/cn_proc.h
    const NETLINK_CONNECTOR: i32 = 11;
    const CN_IDX_PROC: u32 = 1;
    const CN_VAL_PROC: u32 = 1;
    const PROC_CN_MCAST_LISTEN: u32 = 1;
    const PROC_EVENT_FORK: u32 = 1;
    const NLMSG_HEADER: usize = 16;
    const CN_MSG_HEADER: usize = 20;

    /// A netlink socket of `protocol` bound to the multicast `groups`, with a large queue (a burst of
    /// events is not lost).
    fn netlink_listener(kind: i32, protocol: i32, groups: u32) -> Result<OwnedFd> {
        // SAFETY: socket(2); the descriptor is owned from here on.
        let fd = unsafe { OwnedFd::from_raw_fd(check(libc::socket(libc::PF_NETLINK, kind | libc::SOCK_CLOEXEC, protocol), "socket")?) };
        let size: libc::c_int = 16 << 20;
        // SAFETY: setsockopt(2) with an int.
        unsafe { libc::setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, (&size as *const libc::c_int).cast(), 4) };
        // SAFETY: a zeroed sockaddr_nl is valid; bind(2) with its size.
        let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        addr.nl_family = libc::AF_NETLINK as u16;
        addr.nl_groups = groups;
        let len = std::mem::size_of::<libc::sockaddr_nl>() as u32;
        check(unsafe { libc::bind(fd.as_raw_fd(), (&addr as *const libc::sockaddr_nl).cast(), len) }, "bind")?;
        Ok(fd)
    }

    /// A netlink socket subscribed to the kernel's process events.
    pub(super) fn proc_connector() -> Result<OwnedFd> {
        let fd = netlink_listener(libc::SOCK_DGRAM, NETLINK_CONNECTOR, CN_IDX_PROC)?;
        let mut msg = Vec::with_capacity(NLMSG_HEADER + CN_MSG_HEADER + 4);
        msg.extend(((NLMSG_HEADER + CN_MSG_HEADER + 4) as u32).to_ne_bytes());
        msg.extend((libc::NLMSG_DONE as u16).to_ne_bytes());
        msg.extend([0u8; 2 + 4]);
        msg.extend(std::process::id().to_ne_bytes());
        msg.extend(CN_IDX_PROC.to_ne_bytes());
        msg.extend(CN_VAL_PROC.to_ne_bytes());
        msg.extend([0u8; 8]);
        msg.extend(4u16.to_ne_bytes());
        msg.extend([0u8; 2]);
        msg.extend(PROC_CN_MCAST_LISTEN.to_ne_bytes());
        // SAFETY: send(2) of a buffer of the length given.
        check(unsafe { libc::send(fd.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) } as i32, "send")?;
        Ok(fd)
    }

    pub(super) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }

    // linux/rtnetlink.h and linux/if_link.h
    const RTMGRP_LINK: u32 = 1;
    const RTM_NEWLINK: u16 = 16;
    const RTM_DELLINK: u16 = 17;
    const IFINFO_HEADER: usize = 16;
    const IFLA_IFNAME: u16 = 3;
    const IFLA_MASTER: u16 = 10;

    /// A netlink socket subscribed to the kernel's link notifications.
    pub(super) fn link_events() -> Result<OwnedFd> {
        netlink_listener(libc::SOCK_RAW, libc::NETLINK_ROUTE, RTMGRP_LINK)
    }

    /// Each link message in a read: a new link's name by index, and whether its master is the bridge;
    /// a deleted link's index forgotten (the kernel reuses indexes).
    pub(super) fn read_links(buf: &[u8], heard: &mut Heard) {
        let mut at = 0;
        while let Some(len) = u32_at(buf, at).map(|l| l as usize).filter(|l| *l >= NLMSG_HEADER) {
            let message = &buf[at..(at + len).min(buf.len())];
            let kind = message.get(4..6).map(|b| u16::from_ne_bytes([b[0], b[1]]));
            let index = u32_at(message, NLMSG_HEADER + 4).map(|i| i as i32);
            if let (Some(RTM_DELLINK), Some(index)) = (kind, index) {
                heard.link_names.remove(&index);
            }
            if let (Some(RTM_NEWLINK), Some(index)) = (kind, index) {
                let (name, master) = link_attributes(message.get(NLMSG_HEADER + IFINFO_HEADER..).unwrap_or_default());
                if let Some(name) = name {
                    let bridge_index = heard.link_names.iter().find(|(_, n)| **n == heard.bridge).map(|(i, _)| *i);
                    if master.is_some() && master == bridge_index {
                        heard.joined.insert(name.clone());
                    }
                    heard.links_seen.insert(name.clone());
                    heard.link_names.insert(index, name);
                }
            }
            at += len.next_multiple_of(4);
        }
    }

    /// IFLA_IFNAME and IFLA_MASTER of a link message's attributes (length, type, value; 4-aligned).
    fn link_attributes(mut attributes: &[u8]) -> (Option<String>, Option<i32>) {
        let (mut name, mut master) = (None, None);
        while attributes.len() >= 4 {
            let (len, kind) =
                (u16::from_ne_bytes([attributes[0], attributes[1]]) as usize, u16::from_ne_bytes([attributes[2], attributes[3]]));
            let value = attributes.get(4..len.max(4)).unwrap_or_default();
            match kind {
                IFLA_IFNAME => name = Some(String::from_utf8_lossy(value.split(|b| *b == 0).next().unwrap_or_default()).into_owned()),
                IFLA_MASTER => master = u32_at(value, 0).map(|m| m as i32),
                _ => {}
            }
            attributes = attributes.get(len.max(4).next_multiple_of(4)..).unwrap_or_default();
        }
        (name, master)
    }

    /// Each fork event in a read: child process → parent process (threads are left out).
    pub(super) fn read_forks(buf: &[u8], heard: &mut Heard) {
        let mut at = 0;
        while let Some(len) = u32_at(buf, at).map(|l| l as usize).filter(|l| *l >= NLMSG_HEADER) {
            let event = &buf[at..(at + len).min(buf.len())];
            // proc_event: what, cpu, an 8-byte timestamp, then fork_proc_event's four ids.
            let base = NLMSG_HEADER + CN_MSG_HEADER;
            if u32_at(event, base) == Some(PROC_EVENT_FORK) {
                let id = |i: usize| u32_at(event, base + 16 + 4 * i).map(|v| v as i32);
                if let (Some(parent_tgid), Some(child_pid), Some(child_tgid)) = (id(1), id(2), id(3)) {
                    if child_pid == child_tgid {
                        heard.parents.insert(child_tgid, parent_tgid);
                    }
                }
            }
            at += len.next_multiple_of(4);
        }
    }

    // linux/fanotify.h
    const FAN_CLASS_NOTIF: u32 = 0;
    const FAN_REPORT_DFID_NAME: u32 = 0x400 | 0x800;
    const FAN_MARK_ADD: u32 = 1;
    const FAN_CREATE: u64 = 0x100;
    const FAN_MOVED_TO: u64 = 0x80;
    const FAN_ONDIR: u64 = 0x4000_0000;
    const FAN_EVENT_INFO_TYPE_DFID_NAME: u8 = 2;
    const FAN_Q_OVERFLOW: u64 = 0x4000;

    /// A fanotify group told of every entry created in (or moved into) `dir`.
    pub(super) fn fanotify_on(dir: &Path) -> Result<OwnedFd> {
        let flags = FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | libc::FAN_CLOEXEC;
        // SAFETY: fanotify_init(2); the descriptor is owned from here on.
        let fd =
            unsafe { OwnedFd::from_raw_fd(check(libc::fanotify_init(flags, (libc::O_RDONLY | libc::O_CLOEXEC) as u32), "fanotify_init")?) };
        let path = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())?;
        // SAFETY: fanotify_mark(2) with a NUL-terminated path.
        check(
            unsafe {
                libc::fanotify_mark(fd.as_raw_fd(), FAN_MARK_ADD, FAN_CREATE | FAN_MOVED_TO | FAN_ONDIR, libc::AT_FDCWD, path.as_ptr())
            },
            "fanotify_mark",
        )?;
        Ok(fd)
    }

    /// Each fanotify event in a read, as (pid, mask, its info records), in order.
    fn fanotify_events(buf: &[u8], mut each: impl FnMut(i32, u64, &[u8])) {
        let mut at = 0;
        // fanotify_event_metadata: event_len, vers, reserved, metadata_len, mask (8), fd, pid.
        while let Some(len) = u32_at(buf, at).map(|l| l as usize).filter(|l| *l >= 24) {
            let event = &buf[at..(at + len).min(buf.len())];
            let meta_len = event.get(6..8).map(|b| u16::from_ne_bytes([b[0], b[1]]) as usize).unwrap_or(24);
            let pid = u32_at(event, 20).unwrap_or(0) as i32;
            let mask = event.get(8..16).map(|b| u64::from_ne_bytes(b.try_into().unwrap())).unwrap_or(0);
            each(pid, mask, &event[meta_len.min(event.len())..]);
            at += len;
        }
    }

    /// Each creation event in a read: the entry's name → its creator, with the creator's command name
    /// asked at once (it may exit soon; the fork events still place it in a tree).
    pub(super) fn read_creations(buf: &[u8], heard: &mut Heard) {
        fanotify_events(buf, |pid, mask, info| {
            if mask & FAN_Q_OVERFLOW != 0 {
                heard.lost = true;
            }
            if let Some(name) = entry_name(info) {
                heard.created.insert(name, (pid, comm_of(pid)));
            }
        });
    }

    const FAN_REPORT_MNT: u32 = 0x4000;
    const FAN_MARK_MNTNS: u32 = 0x110;
    const FAN_MNT_ATTACH: u64 = 0x0100_0000;
    const FAN_EVENT_INFO_TYPE_MNT: u8 = 7;
    const SYS_STATMOUNT: libc::c_long = 457;
    const STATMOUNT_MNT_POINT: u64 = 0x10;

    /// A fanotify group told of every mount attached in this process's mount namespace (Linux 6.14).
    pub(super) fn fanotify_on_mounts() -> Result<OwnedFd> {
        let flags = FAN_CLASS_NOTIF | FAN_REPORT_MNT | libc::FAN_CLOEXEC;
        // SAFETY: fanotify_init(2); the descriptor is owned from here on.
        let fd =
            unsafe { OwnedFd::from_raw_fd(check(libc::fanotify_init(flags, (libc::O_RDONLY | libc::O_CLOEXEC) as u32), "fanotify_init")?) };
        let ns = std::fs::File::open("/proc/self/ns/mnt")?;
        // SAFETY: fanotify_mark(2) on a mount namespace, named by its descriptor (no path).
        check(
            unsafe { libc::fanotify_mark(fd.as_raw_fd(), FAN_MARK_ADD | FAN_MARK_MNTNS, FAN_MNT_ATTACH, ns.as_raw_fd(), std::ptr::null()) },
            "fanotify_mark on the mount namespace",
        )?;
        Ok(fd)
    }

    /// Each mount event in a read: where the mount was attached (asked of the kernel by its id at
    /// once, while it is there) → the process that attached it.
    pub(super) fn read_mounts(buf: &[u8], heard: &mut Heard) {
        fanotify_events(buf, |pid, _, mut info| {
            while info.len() >= 4 {
                let (kind, len) = (info[0], (u16::from_ne_bytes([info[2], info[3]]) as usize).max(4));
                // fanotify_event_info_mnt: the header, then the mount's 64-bit id at offset 8.
                let id = info.get(8..16).filter(|_| kind == FAN_EVENT_INFO_TYPE_MNT).map(|b| u64::from_ne_bytes(b.try_into().unwrap()));
                if let Some(point) = id.and_then(mount_point) {
                    heard.mounted.insert(point, (pid, comm_of(pid)));
                }
                info = info.get(len..).unwrap_or_default();
            }
        });
    }

    /// statmount(2) (Linux 6.8): the mount point of the mount with this unique id.
    fn mount_point(id: u64) -> Option<String> {
        // mnt_id_req, version 0: size, a spare word, the id, the fields wanted.
        let mut request = Vec::with_capacity(24);
        request.extend(24u32.to_ne_bytes());
        request.extend(0u32.to_ne_bytes());
        request.extend(id.to_ne_bytes());
        request.extend(STATMOUNT_MNT_POINT.to_ne_bytes());
        let mut answer = vec![0u64; 1024];
        let size = answer.len() * 8;
        // SAFETY: statmount(2) with a request of its declared size and a buffer of the length given.
        let ret = unsafe { libc::syscall(SYS_STATMOUNT, request.as_ptr(), answer.as_mut_ptr(), size, 0u32) };
        if ret != 0 {
            return None;
        }
        let bytes: Vec<u8> = answer.iter().flat_map(|w| w.to_ne_bytes()).collect();
        // struct statmount: the mask at 8, mnt_point (an offset into the strings at 512) at 108.
        let mask = u64::from_ne_bytes(bytes[8..16].try_into().ok()?);
        let offset = u32_at(&bytes, 108)? as usize;
        let text = bytes.get(512 + offset..).filter(|_| mask & STATMOUNT_MNT_POINT != 0)?;
        let end = text.iter().position(|b| *b == 0)?;
        Some(String::from_utf8_lossy(&text[..end]).into_owned())
    }

    /// The name in an event's DFID_NAME info record: header (type, pad, len), fsid (8), file_handle
    /// (handle_bytes, handle_type, the handle), then the name, NUL-terminated.
    pub(super) fn entry_name(mut info: &[u8]) -> Option<String> {
        while info.len() >= 4 {
            let (kind, len) = (info[0], u16::from_ne_bytes([info[2], info[3]]) as usize);
            let record = info.get(..len.max(4))?;
            if kind == FAN_EVENT_INFO_TYPE_DFID_NAME {
                let handle_bytes = u32_at(record, 12)? as usize;
                let name = record.get(20 + handle_bytes..)?;
                let end = name.iter().position(|b| *b == 0)?;
                return Some(String::from_utf8_lossy(&name[..end]).into_owned());
            }
            info = &info[len.max(4)..];
        }
        None
    }
}

/// The listeners need Linux; elsewhere the witness cannot start (nor does the node it serves).
#[cfg(not(target_os = "linux"))]
mod kernel {
    use super::Heard;
    use anyhow::{bail, Result};
    use std::path::Path;
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Mutex};

    pub struct OwnedFd;
    pub type Reader = fn(&[u8], &mut Heard);
    pub fn proc_connector() -> Result<OwnedFd> {
        bail!("the proc connector is Linux's")
    }
    pub fn fanotify_on(_: &Path) -> Result<OwnedFd> {
        bail!("fanotify is Linux's")
    }
    pub fn listen(_: OwnedFd, _: &Arc<Mutex<Heard>>, _: &Arc<AtomicBool>, _: Reader) -> std::thread::JoinHandle<()> {
        unreachable!("no listener starts without its descriptor")
    }
    pub fn fanotify_on_mounts() -> Result<OwnedFd> {
        bail!("fanotify is Linux's")
    }
    pub fn link_events() -> Result<OwnedFd> {
        bail!("rtnetlink is Linux's")
    }
    pub fn read_links(_: &[u8], _: &mut Heard) {}
    pub fn read_forks(_: &[u8], _: &mut Heard) {}
    pub fn read_mounts(_: &[u8], _: &mut Heard) {}
    pub fn read_creations(_: &[u8], _: &mut Heard) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_is_its_first_process_and_whatever_that_forked() {
        let parents = HashMap::from([(20, 10), (30, 20), (40, 99), (99, 1)]);
        assert!(descends(&parents, 10, 10) && descends(&parents, 30, 10));
        assert!(!descends(&parents, 40, 10) && !descends(&parents, 7, 10));
    }

    /// A stand-in run: a shell that creates the file it reads from its input, so its child is of the
    /// run; this test process is not (it forked the shell), so what it creates is another program's.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_temp_entry_is_blamed_on_the_run_only_when_a_process_of_the_run_made_it() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: fanotify and the proc connector need root (make test runs as root)");
            return;
        }
        use std::io::Write;
        let shared = tempfile::tempdir().unwrap();
        let mut run = std::process::Command::new("sh")
            .args(["-c", "read name; mkdir \"$name\"; read done"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let witness = Witness::start(shared.path(), run.id() as i32, "no-such-bridge").unwrap();
        std::fs::write(shared.path().join("unrelated.tmp"), "another program's").unwrap();
        let mut input = run.stdin.take().unwrap();
        writeln!(input, "{}", shared.path().join("leak.A2DzP1").display()).unwrap();
        for _ in 0..100 {
            if shared.path().join("leak.A2DzP1").exists() && witness.temp_entry("leak.A2DzP1") != Author::Unknown {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // The fork events come on a socket of their own: let it catch up.
        std::thread::sleep(std::time::Duration::from_millis(300));
        writeln!(input).unwrap();
        run.wait().unwrap();
        assert!(matches!(witness.temp_entry("leak.A2DzP1"), Author::Run(_, comm) if comm == "mkdir" || comm == "(exited)"));
        assert_eq!(witness.temp_entry("unrelated.tmp"), Author::Other(std::process::id() as i32, comm_of(std::process::id() as i32)));
        assert_eq!(witness.temp_entry("never-made"), Author::Unknown);
        // The host check: the run's leak fails it, the other program's entry is a note, and an entry
        // nobody saw made stays the run's.
        let differences = ["new temp entry: leak.A2DzP1", "new temp entry: unrelated.tmp", "new temp entry: never-made", "new link: veth0"];
        let judged = crate::lifecycle::node::host::judge(differences.iter().map(|d| d.to_string()).collect(), Some(&witness));
        assert_eq!(judged.blamed.len(), 3, "{judged:#?}");
        assert!(
            judged.blamed[0].starts_with("new temp entry: leak.A2DzP1 (made by pid") && judged.blamed[0].ends_with("a process of the run)")
        );
        assert_eq!(judged.blamed[1..], ["new temp entry: never-made", "new link: veth0"]);
        assert_eq!(judged.ignored.len(), 1, "{judged:#?}");
        assert!(
            judged.ignored[0].starts_with("ignored new temp entry: unrelated.tmp: made by pid")
                && judged.ignored[0].contains("not a process of the run")
        );
        let without = crate::lifecycle::node::host::judge(vec!["new temp entry: unrelated.tmp".into()], None);
        assert_eq!(without.blamed, ["new temp entry: unrelated.tmp"], "without a witness nothing is excused");
    }

    /// The same for mounts: one attached by a process of a stand-in run is the run's, one this test
    /// process attaches is another program's.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_mount_is_blamed_on_the_run_only_when_a_process_of_the_run_attached_it() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: fanotify and the proc connector need root (make test runs as root)");
            return;
        }
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let (theirs, ours) = (dir.path().join("run-mount"), dir.path().join("unrelated-mount"));
        std::fs::create_dir(&theirs).unwrap();
        std::fs::create_dir(&ours).unwrap();
        let mut run = std::process::Command::new("sh")
            .args(["-c", "read dir; mount -t tmpfs witness-test \"$dir\"; read done"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let witness = Witness::start(dir.path(), run.id() as i32, "no-such-bridge").unwrap();
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        let tmpfs = std::ffi::CString::new("tmpfs").unwrap();
        // SAFETY: mount(2) of a fresh tmpfs on a folder of this test.
        assert_eq!(unsafe { libc::mount(tmpfs.as_ptr(), c(&ours).as_ptr(), tmpfs.as_ptr(), 0, std::ptr::null()) }, 0);
        let mut input = run.stdin.take().unwrap();
        writeln!(input, "{}", theirs.display()).unwrap();
        let point = |p: &Path| p.display().to_string();
        for _ in 0..100 {
            if witness.mount(&point(&theirs)) != Author::Unknown {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        writeln!(input).unwrap();
        run.wait().unwrap();
        let (run_author, other_author) = (witness.mount(&point(&theirs)), witness.mount(&point(&ours)));
        for p in [&theirs, &ours] {
            // SAFETY: umount2(2) of the tmpfs mounted above.
            unsafe { libc::umount2(c(p).as_ptr(), libc::MNT_DETACH) };
        }
        assert!(matches!(run_author, Author::Run(_, ref comm) if comm == "mount" || comm == "(exited)"), "{run_author:?}");
        assert!(matches!(other_author, Author::Other(pid, _) if pid == std::process::id() as i32), "{other_author:?}");
        let judged = crate::lifecycle::node::host::judge(vec![format!("new mount: {}", point(&ours))], Some(&witness));
        assert!(judged.blamed.is_empty() && judged.ignored.len() == 1, "{judged:#?}");
    }

    /// Links: the run's bridge and a veth that joined it are the run's; a link made beside the run
    /// that never joined it is another program's, a note, and the restore leaves it alone.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_link_is_blamed_on_the_run_only_when_it_is_or_joined_the_runs_bridge() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: rtnetlink's link events and making links need root (make test runs as root)");
            return;
        }
        let n = std::process::id() % 100_000;
        let (bridge, veth, peer, other) = (format!("xw{n}br"), format!("xw{n}va"), format!("xw{n}vb"), format!("xw{n}ot"));
        let dir = tempfile::tempdir().unwrap();
        let witness = Witness::start(dir.path(), 1, &bridge).unwrap();
        let ip = |args: &str| assert!(std::process::Command::new("ip").args(args.split(' ')).status().unwrap().success(), "ip {args}");
        ip(&format!("link add {bridge} type bridge"));
        ip(&format!("link add {veth} type veth peer name {peer}"));
        ip(&format!("link set {veth} master {bridge}"));
        ip(&format!("link add {other} type bridge"));
        for _ in 0..100 {
            if matches!(witness.link(&veth), Author::RunLink(_)) && witness.link(&other) != Author::Unknown {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let authors = [&bridge, &veth, &peer, &other].map(|l| witness.link(l));
        let restored = crate::lifecycle::node::host::runs_links([&bridge, &veth, &peer, &other].into_iter(), &bridge);
        for link in [&veth, &bridge, &other] {
            ip(&format!("link delete {link}"));
        }
        assert!(matches!(&authors[0], Author::RunLink(_)) && matches!(&authors[1], Author::RunLink(_)), "{authors:?}");
        assert!(matches!(&authors[2], Author::OtherLink(_)) && matches!(&authors[3], Author::OtherLink(_)), "{authors:?}");
        assert_eq!(witness.link("never-made"), Author::Unknown);
        assert_eq!(
            restored,
            [veth.clone(), bridge.clone()],
            "the restore deletes the links on the bridge, then the bridge; never another's"
        );
        let differences = vec![format!("new link: {veth}"), format!("new link: {other}")];
        let judged = crate::lifecycle::node::host::judge(differences, Some(&witness));
        assert_eq!(judged.blamed, [format!("new link: {veth} (it is or joined the run's bridge {bridge})")]);
        assert_eq!(
            judged.ignored,
            [format!("ignored new link: {other}: it never joined the run's bridge {bridge}, so another program made it")]
        );
    }
}
