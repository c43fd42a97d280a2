//! A Kubernetes API client for any cluster a kubeconfig names: its server, CA and credentials (token, client certificate, basic auth or an exec plugin) read as kubectl reads them, requests made with curl.
//!
//! The e2e suite talks to the built-in control plane and to an operator's cluster through this one
//! client, so the `--kubeconfig` path is the path every run takes.

use anyhow::{bail, ensure, Context, Result};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The parts of a kubeconfig this client reads; anything it cannot honour is refused by name.
#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct Kubeconfig {
    #[serde(default)]
    clusters: Vec<Named<ClusterEntry>>,
    #[serde(default)]
    users: Vec<Named<UserEntry>>,
    #[serde(default)]
    contexts: Vec<Named<ContextEntry>>,
    #[serde(default)]
    current_context: String,
}

#[derive(Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    item: T,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct ClusterEntry {
    server: String,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
    tls_server_name: Option<String>,
    proxy_url: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct UserEntry {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    client_certificate: Option<String>,
    client_certificate_data: Option<String>,
    client_key: Option<String>,
    client_key_data: Option<String>,
    username: Option<String>,
    password: Option<String>,
    exec: Option<ExecConfig>,
    auth_provider: Option<serde_yaml::Value>,
    /// Impersonation (`as`): refused, the suite must act as the user the operator named.
    #[serde(rename = "as")]
    impersonate: Option<String>,
}

#[derive(Deserialize, Default)]
struct ContextEntry {
    cluster: String,
    user: String,
    namespace: Option<String>,
}

/// A client-go credential plugin (`users[].user.exec`), as EKS, GKE and AKS kubeconfigs use.
#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct ExecConfig {
    command: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: Option<Vec<ExecEnv>>,
    api_version: String,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
struct ExecEnv {
    name: String,
    value: String,
}

/// How requests authenticate.
#[derive(Debug, PartialEq)]
enum Auth {
    Token(String),
    TokenFile(PathBuf),
    ClientCertificate { cert: PathBuf, key: PathBuf },
    Basic(String),
    Exec(ExecConfig),
    Anonymous,
}

/// A cluster reached through a kubeconfig context.
pub struct Cluster {
    pub kubeconfig: PathBuf,
    /// The context asked for (`--context`); None means the kubeconfig's current context.
    pub context: Option<String>,
    pub context_name: String,
    pub server: String,
    ca: Option<PathBuf>,
    insecure: bool,
    proxy: Option<String>,
    auth: Auth,
    /// Embedded certificates and keys written out for curl (mode 0600), deleted with the client.
    files: crate::support::scratch::Folder,
    exec_token: Mutex<Option<(String, Instant)>>,
    /// When set, the prefix every namespace a write may touch starts with (see [`Cluster::confine_writes`]).
    confined_to: Mutex<Option<String>>,
}

impl Cluster {
    /// Reads `kubeconfig` and picks `context` (else its current context), refusing what it cannot honour.
    pub fn from_kubeconfig(kubeconfig: &Path, context: Option<&str>) -> Result<Cluster> {
        let text = std::fs::read_to_string(kubeconfig).with_context(|| format!("reading the kubeconfig {}", kubeconfig.display()))?;
        let config: Kubeconfig = serde_yaml::from_str(&text).with_context(|| format!("{} is not a kubeconfig", kubeconfig.display()))?;
        let base = kubeconfig.parent().unwrap_or(Path::new("."));
        Self::from_config(config, kubeconfig, base, context).with_context(|| format!("kubeconfig {}", kubeconfig.display()))
    }

    fn from_config(config: Kubeconfig, kubeconfig: &Path, base: &Path, context: Option<&str>) -> Result<Cluster> {
        let context_name = context.map(str::to_string).unwrap_or(config.current_context.clone());
        ensure!(!context_name.is_empty(), "it has no current-context: pass --context NAME (contexts: {})", names(&config.contexts));
        let ctx = find(&config.contexts, &context_name, "context")?;
        if let Some(ns) = &ctx.namespace {
            // Harmless: every request and Helm call names its namespace; said so nobody wonders.
            eprintln!("e2e: context {context_name} defaults to namespace {ns}; the suite uses its own namespaces instead");
        }
        let cluster = find(&config.clusters, &ctx.cluster, "cluster")?;
        let user = find(&config.users, &ctx.user, "user")?;
        ensure!(
            cluster.tls_server_name.is_none(),
            "cluster {} sets tls-server-name, which this client does not support: use a context whose server name matches its certificate",
            ctx.cluster
        );
        ensure!(
            cluster.server.starts_with("https://"),
            "cluster {} has server {:?}: the suite needs an https:// API server",
            ctx.cluster,
            cluster.server
        );
        let files = crate::support::scratch::folder("xtask-e2e-credentials-")?;
        let materialize = |path: &Option<String>, data: &Option<String>, name: &str| -> Result<Option<PathBuf>> {
            materialize(base, files.path(), path, data, name)
        };
        let ca = materialize(&cluster.certificate_authority, &cluster.certificate_authority_data, "ca.crt")?;
        let auth = auth_of(&ctx.user, user, &materialize, base)?;
        Ok(Cluster {
            kubeconfig: kubeconfig.to_path_buf(),
            context: context.map(str::to_string),
            context_name,
            server: cluster.server.trim_end_matches('/').to_string(),
            ca,
            insecure: cluster.insecure_skip_tls_verify,
            proxy: cluster.proxy_url.clone(),
            auth,
            files,
            exec_token: Mutex::new(None),
            confined_to: Mutex::new(None),
        })
    }

    /// The CA that signed the API server's certificate, if the kubeconfig names one.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// The API server's host and port, as a kubelet gives them to a pod (KUBERNETES_SERVICE_HOST/PORT).
    pub fn host_and_port(&self) -> (String, String) {
        let rest = self.server.trim_start_matches("https://");
        let authority = rest.split('/').next().unwrap_or(rest);
        let (host, port) = match authority.strip_prefix('[') {
            // An IPv6 literal: [::1] or [::1]:6443.
            Some(v6) => v6.split_once(']').map(|(h, tail)| (h, tail.strip_prefix(':'))).unwrap_or((v6, None)),
            None => authority.rsplit_once(':').map(|(h, p)| (h, Some(p))).unwrap_or((authority, None)),
        };
        (host.to_string(), port.unwrap_or("443").to_string())
    }

    /// The `--kube-context` argument Helm needs to talk to the same cluster.
    pub fn helm_context_args(&self) -> Vec<String> {
        self.context.iter().flat_map(|c| ["--kube-context".to_string(), c.clone()]).collect()
    }

    /// A request with this kubeconfig's credentials; the JSON answer, whatever its status.
    pub fn request(&self, method: &str, path: &str, body: Option<&Json>) -> Result<Json> {
        let text = body.map(|b| b.to_string());
        self.request_typed(method, path, text.as_deref().map(|t| ("application/json", t)))
    }

    /// A request with a body of any content type (e.g. server-side apply); the JSON answer.
    pub fn request_typed(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Result<Json> {
        self.json_call(method, path, body, None)
    }

    /// A request as the holder of `token` (e.g. a ServiceAccount), not as the kubeconfig's user.
    pub fn request_as(&self, token: &str, method: &str, path: &str, body: Option<(&str, &str)>) -> Result<Json> {
        self.json_call(method, path, body, Some(token))
    }

    fn json_call(&self, method: &str, path: &str, body: Option<(&str, &str)>, token: Option<&str>) -> Result<Json> {
        let text = self.call(method, path, body, token, false)?;
        serde_json::from_str(&text).with_context(|| format!("{method} {path} answered no JSON: {}", clip(&text)))
    }

    /// Requests of one method, each with a JSON body, sent by one curl over one connection (`--next`
    /// between them): each JSON answer, in order. Many small requests cost one process, not many.
    pub fn request_many(&self, method: &str, requests: &[(String, Json)]) -> Result<Vec<Json>> {
        const END: &str = "\n--xtask-answer-end--\n";
        let Some((first, _)) = requests.first() else { return Ok(Vec::new()) };
        let (mut cmd, _header_file) = self.curl_command(method, first, None, false)?;
        // Every option of the first request but its URL, again for each further one.
        let options: Vec<std::ffi::OsString> = cmd.get_args().map(|a| a.to_os_string()).collect();
        let options = options[..options.len() - 1].to_vec();
        let bodies = tempfile::tempdir_in(self.files.path())?;
        for (i, (path, body)) in requests.iter().enumerate() {
            let text = body.to_string();
            self.check_confinement(method, path, Some(("application/json", &text)))?;
            if i > 0 {
                cmd.arg("--next").args(&options).arg(format!("{}{path}", self.server));
            }
            let file = bodies.path().join(i.to_string());
            std::fs::write(&file, text)?;
            header(&mut cmd, "Content-Type: application/json");
            cmd.arg("--data-binary").arg(format!("@{}", file.display())).args(["--write-out", END]);
        }
        let out = curl(cmd, None).with_context(|| format!("{} {method} requests on {}", requests.len(), self.server))?;
        let answers: Vec<&str> = out.split(END).take(requests.len()).collect();
        ensure!(answers.len() == requests.len(), "curl answered {} of {} requests: {}", answers.len(), requests.len(), clip(&out));
        answers
            .iter()
            .zip(requests)
            .map(|(text, (path, _))| {
                serde_json::from_str(text).with_context(|| format!("{method} {path} answered no JSON: {}", clip(text)))
            })
            .collect()
    }

    /// A request whose answer is not JSON (e.g. `/readyz`, or an app behind the service proxy): its status and body.
    pub fn request_text(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Result<(u16, String)> {
        let text = self.call(method, path, body, None, true)?;
        let (body, status) = text.rsplit_once('\n').context("curl printed no status")?;
        Ok((status.trim().parse().unwrap_or(0), body.to_string()))
    }

    /// GET that returns None on 404 and fails on any other failure.
    pub fn get(&self, path: &str) -> Result<Option<Json>> {
        let v = self.request("GET", path, None)?;
        if v["kind"] == "Status" && v["code"] == 404 {
            return Ok(None);
        }
        if v["kind"] == "Status" && v["status"] == "Failure" {
            bail!("GET {path}: {}", v["message"]);
        }
        Ok(Some(v))
    }

    /// POST that fails on a Failure status.
    pub fn create(&self, path: &str, body: &Json) -> Result<Json> {
        let v = self.request("POST", path, Some(body))?;
        if v["kind"] == "Status" && v["status"] == "Failure" {
            bail!("POST {path}: {}", v["message"]);
        }
        Ok(v)
    }

    /// From now on, refuses (before sending) any write outside namespaces whose names start with
    /// `prefix`: creating such a namespace is allowed, anything cluster-scoped or elsewhere is not.
    pub fn confine_writes(&self, prefix: &str) {
        *self.confined_to.lock().unwrap() = Some(prefix.to_string());
    }

    fn check_confinement(&self, method: &str, path: &str, body: Option<(&str, &str)>) -> Result<()> {
        let Some(prefix) = self.confined_to.lock().unwrap().clone() else { return Ok(()) };
        if method == "GET" {
            return Ok(());
        }
        let path = path.split('?').next().unwrap_or(path);
        let namespace = namespace_of(path).or_else(|| {
            let created = (method == "POST" && path == "/api/v1/namespaces").then_some(body?.1)?;
            serde_json::from_str::<Json>(created).ok()?["metadata"]["name"].as_str().map(str::to_string)
        });
        ensure!(
            namespace.as_deref().is_some_and(|ns| ns.starts_with(&prefix)),
            "refused {method} {path}: the suite writes only inside its own namespaces ({prefix}*)"
        );
        Ok(())
    }

    /// One curl request; `with_status` appends the HTTP status as a last line.
    fn call(&self, method: &str, path: &str, body: Option<(&str, &str)>, token: Option<&str>, with_status: bool) -> Result<String> {
        self.check_confinement(method, path, body)?;
        let (cmd, _header_file) = self.curl_command(method, path, token, with_status)?;
        curl(cmd, body).with_context(|| format!("{method} {path} on {}", self.server))
    }

    /// A long GET (a watch, a followed log) as a running curl whose stdout is the answer as it comes,
    /// unbuffered, for up to an hour. Keep the [`Stream`] until it ends: it holds curl's token file.
    pub fn stream(&self, path: &str) -> Result<Stream> {
        let (mut cmd, token_file) = self.curl_command("GET", path, None, false)?;
        cmd.args(["--no-buffer", "--max-time", "3600"]).stdout(Stdio::piped()).stderr(Stdio::null());
        let child = cmd.spawn().context("running curl (apt-get install curl)")?;
        Ok(Stream { child, _token_file: token_file })
    }

    /// The curl command for a request, and the private file that holds its bearer token (keep it until curl ends).
    fn curl_command(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        with_status: bool,
    ) -> Result<(Command, Option<tempfile::NamedTempFile>)> {
        let mut cmd = Command::new("curl");
        cmd.args(["--silent", "--show-error", "--max-time", "60", "--request", method]);
        self.tls_args(&mut cmd);
        let bearer = match token {
            Some(t) => Some(t.to_string()),
            None => self.auth_args(&mut cmd)?,
        };
        // Read by curl from a private file, so no token appears in the process list.
        let header_file = match bearer {
            Some(t) => {
                let file = tempfile::NamedTempFile::new_in(self.files.path())?;
                std::fs::write(file.path(), format!("Authorization: Bearer {t}\n"))?;
                cmd.arg("--header").arg(format!("@{}", file.path().display()));
                Some(file)
            }
            None => None,
        };
        if with_status {
            cmd.args(["--write-out", "\n%{http_code}"]);
        }
        cmd.arg(format!("{}{path}", self.server));
        Ok((cmd, header_file))
    }

    fn tls_args(&self, cmd: &mut Command) {
        if let Some(ca) = &self.ca {
            cmd.arg("--cacert").arg(ca);
        }
        if self.insecure {
            cmd.arg("--insecure");
        }
        if let Some(proxy) = &self.proxy {
            cmd.args(["--proxy", proxy]);
        }
    }

    /// Adds the credentials that are files to `cmd`; the bearer token, if the user has one.
    fn auth_args(&self, cmd: &mut Command) -> Result<Option<String>> {
        match &self.auth {
            Auth::Token(t) => return Ok(Some(t.clone())),
            Auth::TokenFile(f) => {
                let t = std::fs::read_to_string(f).with_context(|| format!("reading the token file {}", f.display()))?;
                return Ok(Some(t.trim().to_string()));
            }
            Auth::ClientCertificate { cert, key } => {
                cmd.arg("--cert").arg(cert).arg("--key").arg(key);
            }
            Auth::Basic(user) => {
                // From a private config file, so the password never appears in the process list.
                let curlrc = self.files.path().join("basic.curlrc");
                std::fs::write(&curlrc, format!("user = \"{}\"\n", user.replace('\\', "\\\\").replace('"', "\\\"")))?;
                cmd.arg("--config").arg(curlrc);
            }
            Auth::Exec(exec) => return Ok(Some(self.exec_token(exec)?)),
            Auth::Anonymous => {}
        }
        Ok(None)
    }

    /// The exec plugin's token, asked again after four minutes (plugins hand out tokens that live longer).
    fn exec_token(&self, exec: &ExecConfig) -> Result<String> {
        let mut cached = self.exec_token.lock().unwrap();
        if let Some((token, at)) = cached.as_ref() {
            if at.elapsed() < Duration::from_secs(240) {
                return Ok(token.clone());
            }
        }
        let token = run_exec_plugin(exec)?;
        *cached = Some((token.clone(), Instant::now()));
        Ok(token)
    }
}

/// The namespace a namespaced API path names: `/api/v1/namespaces/NS/...` or `/apis/G/V/namespaces/NS/...`
/// (and the namespace object itself, `/api/v1/namespaces/NS`).
fn namespace_of(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let at = match parts.first() {
        Some(&"api") => 2,
        Some(&"apis") => 3,
        _ => return None,
    };
    (parts.get(at) == Some(&"namespaces")).then(|| parts.get(at + 1).map(|s| s.to_string())).flatten().filter(|s| !s.is_empty())
}

/// Calls `check` every `every` until it answers Some. Its argument says the time (`limit`) is up, so
/// it can fail with what it last saw; a check that does not is failed with "`what` within N s".
pub fn poll<T>(limit: Duration, every: Duration, what: &str, mut check: impl FnMut(bool) -> Result<Option<T>>) -> Result<T> {
    let start = Instant::now();
    loop {
        let up = start.elapsed() > limit;
        if let Some(done) = check(up)? {
            return Ok(done);
        }
        ensure!(!up, "{what} did not happen within {} s", limit.as_secs());
        std::thread::sleep(every);
    }
}

fn names<T>(items: &[Named<T>]) -> String {
    let v: Vec<&str> = items.iter().map(|n| n.name.as_str()).collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn find<'a, T>(items: &'a [Named<T>], name: &str, what: &str) -> Result<&'a T> {
    items
        .iter()
        .find(|n| n.name == name)
        .map(|n| &n.item)
        .with_context(|| format!("it has no {what} named {name:?} (it has: {})", names(items)))
}

/// A file path for curl from a kubeconfig's path field (relative to the kubeconfig) or its base64 `-data` twin.
fn materialize(base: &Path, dir: &Path, path: &Option<String>, data: &Option<String>, name: &str) -> Result<Option<PathBuf>> {
    if let Some(data) = data {
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(data.trim()).with_context(|| format!("its {name} data is not base64"))?;
        let file = dir.join(name);
        write_private(&file, &bytes)?;
        return Ok(Some(file));
    }
    Ok(path.as_ref().map(|p| base.join(p)))
}

fn write_private(file: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(file)?;
    f.write_all(bytes)?;
    Ok(())
}

type Materialize<'a> = dyn Fn(&Option<String>, &Option<String>, &str) -> Result<Option<PathBuf>> + 'a;

fn auth_of(name: &str, user: &UserEntry, materialize: &Materialize, base: &Path) -> Result<Auth> {
    ensure!(
        user.auth_provider.is_none(),
        "user {name} uses an auth-provider, which kubectl itself dropped: switch it to the provider's exec plugin (e.g. gke-gcloud-auth-plugin, kubelogin)"
    );
    ensure!(
        user.impersonate.is_none(),
        "user {name} impersonates another user (as:), which this client does not do: use a context whose user acts directly"
    );
    if let Some(token) = &user.token {
        return Ok(Auth::Token(token.clone()));
    }
    if let Some(file) = &user.token_file {
        return Ok(Auth::TokenFile(base.join(file)));
    }
    let cert = materialize(&user.client_certificate, &user.client_certificate_data, "client.crt")?;
    let key = materialize(&user.client_key, &user.client_key_data, "client.key")?;
    match (cert, key) {
        (Some(cert), Some(key)) => return Ok(Auth::ClientCertificate { cert, key }),
        (None, None) => {}
        _ => bail!("user {name} has a client certificate without its key, or a key without its certificate"),
    }
    if let (Some(u), Some(p)) = (&user.username, &user.password) {
        return Ok(Auth::Basic(format!("{u}:{p}")));
    }
    if let Some(exec) = &user.exec {
        return Ok(Auth::Exec(exec.clone()));
    }
    Ok(Auth::Anonymous)
}

/// Runs a client-go credential plugin as kubectl does and takes the token of its ExecCredential.
fn run_exec_plugin(exec: &ExecConfig) -> Result<String> {
    let info = serde_json::json!({"apiVersion": exec.api_version, "kind": "ExecCredential", "spec": {"interactive": false}});
    let mut cmd = Command::new(&exec.command);
    cmd.args(&exec.args).env("KUBERNETES_EXEC_INFO", info.to_string()).stdin(Stdio::null());
    for e in exec.env.iter().flatten() {
        cmd.env(&e.name, &e.value);
    }
    let out = crate::support::process::output(&mut cmd, &format!("the kubeconfig's exec plugin {}", exec.command))?;
    ensure!(
        out.status.success(),
        "the exec plugin {} failed ({}): {}",
        exec.command,
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let credential: Json =
        serde_json::from_slice(&out.stdout).with_context(|| format!("the exec plugin {} printed no ExecCredential", exec.command))?;
    credential["status"]["token"].as_str().map(str::to_string).with_context(|| {
        format!("the exec plugin {} returned no token (client certificates from exec plugins are not supported)", exec.command)
    })
}

fn header(cmd: &mut Command, value: &str) {
    cmd.arg("--header").arg(value);
}

/// Runs curl with an optional body on stdin; its stdout, or the error it printed.
/// A GET still being answered (see [`Cluster::stream`]); curl is killed when it is dropped.
pub struct Stream {
    pub child: std::process::Child,
    _token_file: Option<tempfile::NamedTempFile>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(mut cmd: Command, body: Option<(&str, &str)>) -> Result<String> {
    if let Some((content_type, _)) = body {
        header(&mut cmd, &format!("Content-Type: {content_type}"));
        cmd.args(["--data-binary", "@-"]).stdin(Stdio::piped());
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().context("running curl (apt-get install curl)")?;
    if let Some((_, b)) = body {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(b.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        bail!("curl: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn clip(text: &str) -> String {
    text.chars().take(400).collect()
}

#[cfg(test)]
mod tests;
