//! The sweep benchmark: pinprobe against its peers on one local TLS origin, side by side.
//!
//! This process is the server side (nginx from Debian's packages when it is installed, else the
//! lab's in-process server); every client measured is a child process, so the CPU time
//! (user + sys from `wait4`, grandchildren included once their parent has waited for them) and
//! the peak RSS are the client's alone. Everything stays on 127.0.0.1, every child has a
//! deadline, and every loop is bounded. `bench/README.md` explains the table.
//!
//! Flags (after `cargo bench --bench sweep --`):
//! `--quick` (fewer names and shorter runs), `--keep` (keep the files of every run: PKI,
//! targets, each child's output), `--no-nginx` (the in-process origin),
//! `--no-sslyze`, and for profiling `--wrap 'CMD ARGS'` (instead of the table, one pinprobe run
//! over the RSA origin under a profiler, e.g. `--wrap 'perf record -o /tmp/perf.data'`) with
//! `--wrap-names N` (default 100), `--wrap-j N` and `--wrap-ecdsa`; `--pinprobe PATH` measures
//! another build of pinprobe (to compare a change with the current one); `--python PATH` the
//! Python that has sslyze (default `python3`).

use std::fmt::Write as _;
use std::fs;
use std::io::{self, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use pinprobe::lab::{self, Behaviour, KeyKind, Leaf, LeafSpec, Server, PROXY_VARS};
use tempfile::TempDir;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The binary cargo built for this bench (the release profile); `--pinprobe PATH` replaces it.
const PINPROBE: &str = env!("CARGO_BIN_EXE_pinprobe");
/// The default `-j` of pinprobe, as its `--help` says.
const DEFAULT_J: usize = pinprobe::config::DEFAULT_CONCURRENCY;
/// The `-j` values tried besides the default.
const TRY_J: [usize; 4] = [4, 16, 32, 64];
/// Rounds of the throughput case (each pinprobe configuration and openssl s_time once per
/// round); the median round of each is reported.
const ROUNDS: usize = 3;
/// Names per chain in the throughput case.
const NAMES: usize = 1000;
/// Names in the memory case.
const MEMORY_NAMES: usize = 10_000;
/// Names sslyze scans per chain (it makes several connections per name, in Python).
const SSLYZE_NAMES: usize = 100;
/// Seconds `openssl s_time` runs per chain and round.
const S_TIME_SECONDS: u32 = 3;
/// Parallel curl processes, as the issue asks.
const CURL_PARALLEL: usize = 8;
/// The latency case: endpoints, and how long each server waits after the handshake.
const SLOW_ENDPOINTS: usize = 14;
const SLOW_DELAY: Duration = Duration::from_millis(200);
/// Repetitions of each latency measurement; the median is reported.
const LATENCY_RUNS: usize = 3;
/// Longest any one client run may take before it is killed (and reported as such).
const CHILD_DEADLINE: Duration = Duration::from_secs(120);
/// Longest nginx may take to accept connections.
const NGINX_START: Duration = Duration::from_secs(10);

fn main() {
    let options = Options::parse(std::env::args().skip(1));
    if !options.bench {
        // `cargo test --benches` runs this binary without `--bench`: a two-minute sweep has no
        // place in a test run
        let _ = writeln!(
            io::stdout(),
            "sweep: nothing to do outside `cargo bench --bench sweep` (or bench/run)"
        );
        return;
    }
    if let Err(e) = run(&options) {
        let _ = writeln!(io::stderr(), "sweep: error: {e}");
        std::process::exit(1);
    }
}

#[derive(Debug)]
struct Options {
    /// `cargo bench` passes `--bench`
    bench: bool,
    quick: bool,
    keep: bool,
    nginx: bool,
    sslyze: bool,
    wrap: Vec<String>,
    wrap_names: usize,
    wrap_ecdsa: bool,
    wrap_j: Option<usize>,
    pinprobe: PathBuf,
    python: PathBuf,
}

impl Options {
    fn parse(args: impl Iterator<Item = String>) -> Options {
        let mut o = Options {
            bench: false,
            quick: false,
            keep: false,
            nginx: true,
            sslyze: true,
            wrap: Vec::new(),
            wrap_names: 100,
            wrap_ecdsa: false,
            wrap_j: None,
            pinprobe: PathBuf::from(PINPROBE),
            python: PathBuf::from("python3"),
        };
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => o.quick = true,
                "--keep" => o.keep = true,
                "--no-nginx" => o.nginx = false,
                "--no-sslyze" => o.sslyze = false,
                "--wrap" => {
                    o.wrap = args
                        .next()
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect()
                }
                "--wrap-ecdsa" => o.wrap_ecdsa = true,
                "--python" => {
                    if let Some(path) = args.next() {
                        o.python = PathBuf::from(path);
                    }
                }
                "--pinprobe" => {
                    if let Some(path) = args.next() {
                        o.pinprobe = PathBuf::from(path);
                    }
                }
                "--wrap-j" => o.wrap_j = args.next().and_then(|n| n.parse().ok()),
                "--wrap-names" => {
                    o.wrap_names = args
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(o.wrap_names)
                }
                "--bench" => o.bench = true,
                // cargo's own arguments (a filter, --nocapture) mean nothing here
                _ => {}
            }
        }
        o
    }
}

/// What one child run cost.
#[derive(Clone, Debug)]
struct Run {
    wall: Duration,
    /// user + sys of the child and every descendant it waited for
    cpu: Duration,
    max_rss_kib: u64,
    status: ExitStatus,
    killed: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    fn failed(&self) -> Option<String> {
        if self.killed {
            return Some(format!("killed after {} s", CHILD_DEADLINE.as_secs()));
        }
        if self.status.success() {
            return None;
        }
        let code = self
            .status
            .code()
            .map(|c| format!("exit status {c}"))
            .unwrap_or_else(|| format!("signal {:?}", self.status.signal()));
        let first = self.stderr.lines().next().unwrap_or_default();
        Some(format!("{code}: {first}"))
    }
}

/// Runs `cmd` as a child in its own process group, waits for it with `wait4` and returns its
/// wall time, CPU time and peak RSS. A child still running at `limit` is killed with its
/// whole process group.
fn measure(cmd: &mut Command, dir: &Path, limit: Duration) -> Result<Run> {
    let stdout_path = dir.join("child.stdout");
    let stderr_path = dir.join("child.stderr");
    cmd.stdout(fs::File::create(&stdout_path)?)
        .stderr(fs::File::create(&stderr_path)?)
        .process_group(0);
    let start = Instant::now();
    let child: Child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let (done, wait) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            // The child is not reaped before the watchdog has finished (WNOWAIT below), so the
            // process group id cannot have been reused.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            return true;
        }
        false
    });
    // Wait for the exit without reaping, so that the watchdog never signals a reused pid.
    loop {
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 || io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            break;
        }
    }
    let wall = start.elapsed();
    let _ = done.send(());
    let killed = watchdog.join().unwrap_or(false);
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(format!("wait4: {e}").into());
        }
    }
    drop(child);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Ok(Run {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss as u64,
        status: ExitStatus::from_raw(status),
        killed,
        stdout: fs::read_to_string(&stdout_path).unwrap_or_default(),
        stderr: fs::read_to_string(&stderr_path).unwrap_or_default(),
    })
}

/// One lab PKI (root -> intermediate -> leaf for `*.bench.test`, all of one key kind) and its
/// files.
struct Pki {
    label: &'static str,
    root_pem: PathBuf,
    chain_pem: PathBuf,
    key_pem: PathBuf,
    leaf: Leaf,
}

impl Pki {
    fn new(kind: KeyKind, label: &'static str, dir: &Path) -> Result<Pki> {
        let mut spec = LeafSpec::new(["*.bench.test"]);
        spec.key = kind;
        let lab::Pki { root, inter, leaf } = lab::Pki::with_spec(kind, &spec)?;
        let root_pem = dir.join(format!("root-{label}.pem"));
        let chain_pem = dir.join(format!("chain-{label}.pem"));
        let key_pem = dir.join(format!("key-{label}.pem"));
        fs::write(&root_pem, root.pem())?;
        fs::write(&chain_pem, format!("{}{}", leaf.pem(), inter.pem()))?;
        fs::write(&key_pem, leaf.key_pem())?;
        Ok(Pki {
            label,
            root_pem,
            chain_pem,
            key_pem,
            leaf,
        })
    }
}

/// nginx serving both chains, one port each; stopped (with its workers) on drop.
struct Nginx {
    child: Child,
    version: String,
}

impl Nginx {
    fn find() -> Option<PathBuf> {
        [
            "/usr/sbin/nginx",
            "/usr/local/sbin/nginx",
            "/usr/local/nginx/sbin/nginx",
        ]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
    }

    fn start(binary: &Path, pkis: &[&Pki], dir: &Path) -> Result<(Nginx, Vec<u16>)> {
        let version = Command::new(binary)
            .arg("-v")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stderr).trim().to_string())
            .unwrap_or_default();
        let mut last_error = String::new();
        // a port read from 127.0.0.1:0 may be taken again before nginx binds it: retry
        for _ in 0..5 {
            let ports = pkis
                .iter()
                .map(|_| lab::closed_port())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let conf = dir.join("nginx.conf");
            fs::write(&conf, nginx_conf(pkis, &ports, dir))?;
            let mut child = Command::new(binary)
                .arg("-p")
                .arg(dir)
                .arg("-c")
                .arg(&conf)
                .args(["-g", "daemon off;"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(fs::File::create(dir.join("nginx.stderr"))?)
                .spawn()?;
            let started = Instant::now();
            let mut up = false;
            while started.elapsed() < NGINX_START {
                if child.try_wait()?.is_some() {
                    break;
                }
                if ports
                    .iter()
                    .all(|p| TcpStream::connect((Ipv4Addr::LOCALHOST, *p)).is_ok())
                {
                    up = true;
                    break;
                }
                thread::sleep(Duration::from_millis(20));
            }
            let nginx = Nginx {
                child,
                version: version.clone(),
            };
            if up {
                return Ok((nginx, ports));
            }
            drop(nginx);
            last_error = fs::read_to_string(dir.join("nginx.stderr")).unwrap_or_default();
            last_error += &fs::read_to_string(dir.join("error.log")).unwrap_or_default();
        }
        Err(format!("nginx did not start: {}", last_error.trim()).into())
    }

    /// CPU time of the master and its workers so far (from /proc, in clock ticks).
    fn cpu(&self) -> Duration {
        let pid = self.child.id();
        let mut pids = vec![pid];
        if let Ok(children) = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
            pids.extend(
                children
                    .split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
        pids.iter().map(|p| proc_cpu(*p)).sum()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM: the master stops its workers and exits; SIGKILL would orphan them
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_conf(pkis: &[&Pki], ports: &[u16], dir: &Path) -> String {
    let mut servers = String::new();
    for (pki, port) in pkis.iter().zip(ports) {
        let _ = write!(
            servers,
            r#"
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name _;
        ssl_certificate {chain};
        ssl_certificate_key {key};
        location / {{ return 200 "OK"; }}
    }}"#,
            chain = pki.chain_pem.display(),
            key = pki.key_pem.display(),
        );
    }
    // every handshake is a full one: no session cache, no tickets
    format!(
        r#"worker_processes auto;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
worker_rlimit_nofile 16384;
events {{ worker_connections 8192; }}
http {{
    access_log off;
    keepalive_timeout 0;
    default_type text/plain;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    client_body_temp_path {dir}/tmp;
    proxy_temp_path {dir}/tmp;
    fastcgi_temp_path {dir}/tmp;
    uwsgi_temp_path {dir}/tmp;
    scgi_temp_path {dir}/tmp;{servers}
}}
"#,
        dir = dir.display()
    )
}

fn clock_tick() -> Duration {
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Duration::from_secs(1) / u32::try_from(hz).unwrap_or(100).max(1)
}

/// utime + stime of a process from /proc/PID/stat.
fn proc_cpu(pid: u32) -> Duration {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // fields after the command name, which may hold spaces: state is field 3, utime 14
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return Duration::ZERO;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u32>().ok())
            .unwrap_or(0)
    };
    clock_tick() * (ticks(11) + ticks(12))
}

/// CPU time of this process (the in-process origin's server side).
fn self_cpu() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// The TLS origin of the throughput and memory cases: one port per chain.
struct Origin {
    what: String,
    ports: Vec<u16>,
    nginx: Option<Nginx>,
    _lab: Vec<Server>,
}

impl Origin {
    fn start(
        options: &Options,
        runtime: &tokio::runtime::Runtime,
        pkis: &[&Pki],
        dir: &Path,
    ) -> Result<Origin> {
        let mut why_not = "not installed".to_string();
        if let Some(binary) = Nginx::find().filter(|_| options.nginx) {
            let nginx_dir = dir.join("nginx");
            fs::create_dir_all(nginx_dir.join("tmp"))?;
            match Nginx::start(&binary, pkis, &nginx_dir) {
                Ok((nginx, ports)) => {
                    return Ok(Origin {
                        what: format!("{} ({})", nginx.version, binary.display()),
                        ports,
                        nginx: Some(nginx),
                        _lab: Vec::new(),
                    })
                }
                Err(e) => why_not = e.to_string(),
            }
        } else if !options.nginx {
            why_not = "--no-nginx".into();
        }
        let mut servers = Vec::new();
        for pki in pkis {
            let server = runtime.block_on(Server::start_with_capacity(
                pki.leaf.chain(),
                pki.leaf.key.clone_key(),
                ok(),
                // enough for every run of the bench against this origin
                1_000_000,
            ))?;
            servers.push(server);
        }
        Ok(Origin {
            what: format!("pinprobe's in-process lab server (nginx: {why_not})"),
            ports: servers.iter().map(Server::port).collect(),
            nginx: None,
            _lab: servers,
        })
    }

    fn server_cpu(&self) -> Duration {
        match &self.nginx {
            Some(n) => n.cpu(),
            None => self_cpu(),
        }
    }
}

fn ok() -> Behaviour {
    Behaviour::Http {
        status: 200,
        body: "OK".into(),
    }
}

fn names(count: usize, prefix: &str) -> Vec<String> {
    (1..=count)
        .map(|i| format!("{prefix}{i:04}.bench.test"))
        .collect()
}

/// One measured client over one chain.
#[derive(Clone, Debug)]
struct Row {
    chain: &'static str,
    client: String,
    /// endpoints (or connections) completed
    done: usize,
    /// endpoints asked for
    asked: usize,
    run: Run,
    server_cpu: Duration,
    note: Option<String>,
}

impl Row {
    fn per_second(&self) -> f64 {
        self.done as f64 / self.run.wall.as_secs_f64().max(1e-9)
    }

    fn cpu_ms(&self) -> f64 {
        self.run.cpu.as_secs_f64() * 1000.0 / self.done.max(1) as f64
    }

    fn server_ms(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1000.0 / self.done.max(1) as f64
    }
}

/// Shared state of the clients: where files go, and the origin.
struct Bench {
    dir: TempDir,
    pinprobe: PathBuf,
    python: PathBuf,
    os_store: PathBuf,
    runs: usize,
}

impl Bench {
    /// A directory for one run's files.
    fn run_dir(&mut self) -> Result<PathBuf> {
        self.runs += 1;
        let dir = self.dir.path().join(format!("run{:03}", self.runs));
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// `pinprobe` over `names` on `port`, NDJSON to /dev/null, the bench root in both stores.
    fn pinprobe(
        &mut self,
        pki: &Pki,
        port: u16,
        names: &[String],
        concurrency: Option<usize>,
        wrap: &[String],
    ) -> Result<Run> {
        let dir = self.run_dir()?;
        let targets = dir.join("targets.txt");
        let mut list = String::new();
        for name in names {
            let _ = writeln!(list, "https://{name}:{port}/ping");
        }
        fs::write(&targets, list)?;
        let mut cmd = match wrap.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(&self.pinprobe);
                c
            }
            None => Command::new(&self.pinprobe),
        };
        cmd.arg("--targets")
            .arg(&targets)
            .arg("--cacert")
            .arg(&pki.root_pem)
            .args(["--format", "ndjson", "-o", "/dev/null", "-q", "--proxy", ""]);
        if let Some(j) = concurrency {
            cmd.arg("-j").arg(j.to_string());
        }
        for name in names {
            cmd.arg("--resolve").arg(format!("{name}:{port}:127.0.0.1"));
        }
        self.client_env(&mut cmd, pki);
        measure(&mut cmd, &dir, CHILD_DEADLINE)
    }

    fn client_env(&self, cmd: &mut Command, pki: &Pki) {
        for var in PROXY_VARS {
            cmd.env_remove(var);
        }
        cmd.env("SSL_CERT_FILE", &pki.root_pem)
            .env("SSL_CERT_DIR", &self.os_store)
            .stdin(Stdio::null());
    }

    fn s_time(&mut self, pki: &Pki, port: u16, seconds: u32) -> Result<(Run, usize)> {
        let dir = self.run_dir()?;
        let mut cmd = Command::new("openssl");
        cmd.args(["s_time", "-connect"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-new", "-time"])
            .arg(seconds.to_string());
        self.client_env(&mut cmd, pki);
        let run = measure(&mut cmd, &dir, CHILD_DEADLINE)?;
        // "4123 connections in 1.23s; 3352.03 connections/user sec, bytes read 0"
        let connections = run
            .stdout
            .lines()
            .find(|l| l.contains("connections in"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Ok((run, connections))
    }

    fn curl(&mut self, pki: &Pki, port: u16, names: &[String]) -> Result<(Run, usize)> {
        let dir = self.run_dir()?;
        let list = dir.join("names.txt");
        fs::write(&list, names.join("\n") + "\n")?;
        let mut cmd = Command::new("xargs");
        cmd.arg("-P")
            .arg(CURL_PARALLEL.to_string())
            .args([
                "-I",
                "{}",
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}\\n",
            ])
            .args(["--noproxy", "*", "--cacert"])
            .arg(&pki.root_pem)
            .arg("--resolve")
            .arg(format!("{{}}:{port}:127.0.0.1"))
            .arg(format!("https://{{}}:{port}/ping"));
        self.client_env(&mut cmd, pki);
        cmd.stdin(fs::File::open(&list)?);
        let run = measure(&mut cmd, &dir, CHILD_DEADLINE)?;
        let ok = run.stdout.lines().filter(|l| l.trim() == "200").count();
        Ok((run, ok))
    }

    fn sslyze(&mut self, pki: &Pki, port: u16, names: &[String]) -> Result<(Run, usize)> {
        let dir = self.run_dir()?;
        let list = dir.join("targets.txt");
        let mut text = String::new();
        for name in names {
            let _ = writeln!(text, "{name}:{port}{{127.0.0.1}}");
        }
        fs::write(&list, text)?;
        let json = dir.join("sslyze.json");
        let mut cmd = Command::new(&self.python);
        cmd.args(["-m", "sslyze", "--certinfo", "--mozilla_config", "disable"])
            .arg("--certinfo_ca_file")
            .arg(&pki.root_pem)
            .arg("--targets_in")
            .arg(&list)
            .arg("--json_out")
            .arg(&json)
            .arg("--quiet");
        self.client_env(&mut cmd, pki);
        let run = measure(&mut cmd, &dir, CHILD_DEADLINE)?;
        // serde_json cannot hold an RSA modulus written as a JSON number: Python reads it
        let count = Command::new(&self.python)
            .arg("-c")
            .arg(
                "import json,sys\n\
                 d=json.load(open(sys.argv[1]))\n\
                 print(sum(1 for r in d.get('server_scan_results',[]) \
                 if ((r.get('scan_result') or {}).get('certificate_info') or {}).get('status')=='COMPLETED'))",
            )
            .arg(&json)
            .output()?;
        let completed = String::from_utf8_lossy(&count.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        Ok((run, completed))
    }
}

fn sslyze_available(python: &Path) -> bool {
    Command::new(python)
        .args(["-m", "sslyze", "--help"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn tool_available(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn run(options: &Options) -> Result<()> {
    let out = &mut io::stdout().lock();
    let started = Instant::now();
    let names_count = if options.quick { 200 } else { NAMES };
    let memory_count = if options.quick { 2_000 } else { MEMORY_NAMES };
    let s_time_seconds = if options.quick { 1 } else { S_TIME_SECONDS };
    let sslyze_count = if options.quick { 20 } else { SSLYZE_NAMES };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let dir = tempfile::Builder::new()
        .prefix("pinprobe-sweep")
        .tempdir()?;
    let os_store = dir.path().join("os-store");
    fs::create_dir_all(&os_store)?;
    let rsa = Pki::new(KeyKind::Rsa2048, "RSA", dir.path())?;
    let ecdsa = Pki::new(KeyKind::EcdsaP256, "ECDSA", dir.path())?;
    let pkis = [&rsa, &ecdsa];
    let origin = Origin::start(options, &runtime, &pkis, dir.path())?;
    let mut bench = Bench {
        dir,
        pinprobe: options.pinprobe.clone(),
        python: options.python.clone(),
        os_store,
        runs: 0,
    };
    let version = Command::new(&options.pinprobe)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();

    writeln!(out, "pinprobe sweep benchmark")?;
    writeln!(
        out,
        "machine: {} cores; client: {version} ({})",
        thread::available_parallelism().map_or(0, |n| n.get()),
        options.pinprobe.display()
    )?;
    writeln!(out, "origin: {} on 127.0.0.1", origin.what)?;
    writeln!(
        out,
        "chains: root -> intermediate -> leaf *.bench.test, all RSA-2048 or all ECDSA P-256"
    )?;
    writeln!(
        out,
        "{names_count} names per chain; CPU = user+sys of the client process tree (wait4); \
         pinprobe and s_time rows: median of {ROUNDS} interleaved rounds"
    )?;
    out.flush()?;

    if !options.wrap.is_empty() {
        // only the profiled run: the same workload as a throughput row, under the wrapper
        let (pki, port) = if options.wrap_ecdsa {
            (&ecdsa, origin.ports[1])
        } else {
            (&rsa, origin.ports[0])
        };
        let list = names(options.wrap_names, "w");
        let run = bench.pinprobe(pki, port, &list, options.wrap_j, &options.wrap)?;
        writeln!(
            out,
            "\nwrapped run ({}) over {} {} endpoints: {:.2} s{}\n{}",
            options.wrap.join(" "),
            list.len(),
            pki.label,
            run.wall.as_secs_f64(),
            run.failed().map(|f| format!(" ({f})")).unwrap_or_default(),
            run.stderr.trim(),
        )?;
        if options.keep {
            writeln!(out, "files kept in {}", bench.dir.keep().display())?;
        }
        return Ok(());
    }

    let mut rows: Vec<Row> = Vec::new();
    let mut best: Vec<Row> = Vec::new();
    let mut defaults: Vec<Row> = Vec::new();
    let sslyze = options.sslyze && sslyze_available(&options.python);
    let have_openssl = tool_available("openssl", "version");
    let have_curl = tool_available("curl", "--version") && tool_available("xargs", "--version");
    for (pki, port) in pkis.iter().zip(origin.ports.iter().copied()) {
        let list = names(names_count, "h");
        // a warm-up run: page cache, the origin's first connections
        bench.pinprobe(pki, port, &list[..list.len().min(50)], None, &[])?;

        // Rounds that interleave every pinprobe configuration with openssl s_time, so that a
        // burst of load from elsewhere on the machine falls on both; each row is the median
        // round.
        let configs: Vec<usize> = std::iter::once(DEFAULT_J).chain(TRY_J).collect();
        let mut pinprobe_runs: Vec<Vec<Row>> = vec![Vec::new(); configs.len()];
        let mut s_time_runs: Vec<Row> = Vec::new();
        for _ in 0..ROUNDS {
            for (k, j) in configs.iter().enumerate() {
                let before = origin.server_cpu();
                let run = bench.pinprobe(pki, port, &list, Some(*j), &[])?;
                let server_cpu = origin.server_cpu().saturating_sub(before);
                let failed = run.failed();
                pinprobe_runs[k].push(Row {
                    chain: pki.label,
                    client: if *j == DEFAULT_J {
                        format!("pinprobe -j {j} (default)")
                    } else {
                        format!("pinprobe -j {j}")
                    },
                    done: if failed.is_none() { list.len() } else { 0 },
                    asked: list.len(),
                    run,
                    server_cpu,
                    note: failed,
                });
            }
            if have_openssl {
                let before = origin.server_cpu();
                let (run, connections) = bench.s_time(pki, port, s_time_seconds)?;
                let server_cpu = origin.server_cpu().saturating_sub(before);
                let note = (connections == 0).then(|| {
                    format!(
                        "no connection: {}",
                        run.stdout
                            .lines()
                            .chain(run.stderr.lines())
                            .next()
                            .unwrap_or("")
                    )
                });
                s_time_runs.push(Row {
                    chain: pki.label,
                    client: "openssl s_time -new".into(),
                    done: connections,
                    asked: connections,
                    note,
                    run,
                    server_cpu,
                });
            }
        }
        let tried: Vec<Row> = pinprobe_runs.into_iter().filter_map(median).collect();
        let Some(default) = tried.first().cloned() else {
            return Err("no pinprobe run".into());
        };
        let top = tried
            .iter()
            .max_by(|a, b| a.per_second().total_cmp(&b.per_second()))
            .cloned()
            .unwrap_or_else(|| default.clone());
        rows.extend(tried);
        defaults.push(default);
        best.push(top);
        rows.extend(median(s_time_runs));

        if have_curl {
            let before = origin.server_cpu();
            let (run, ok) = bench.curl(pki, port, &list)?;
            let server_cpu = origin.server_cpu().saturating_sub(before);
            rows.push(Row {
                chain: pki.label,
                client: format!("xargs -P {CURL_PARALLEL} curl"),
                done: ok,
                asked: list.len(),
                note: run.failed(),
                run,
                server_cpu,
            });
        }
        if sslyze {
            let subset = &list[..list.len().min(sslyze_count)];
            let before = origin.server_cpu();
            let (run, completed) = bench.sslyze(pki, port, subset)?;
            let server_cpu = origin.server_cpu().saturating_sub(before);
            rows.push(Row {
                chain: pki.label,
                client: "sslyze --certinfo".into(),
                done: completed,
                asked: subset.len(),
                note: run.failed(),
                run,
                server_cpu,
            });
        }
    }

    writeln!(out)?;
    writeln!(
        out,
        "{:<6} {:<27} {:>9} {:>7} {:>11} {:>8} {:>8} {:>10}",
        "chain", "client", "done", "wall s", "endpoints/s", "CPU ms", "RSS MiB", "server ms"
    )?;
    for row in &rows {
        writeln!(
            out,
            "{:<6} {:<27} {:>9} {:>7.2} {:>11.0} {:>8.3} {:>8.1} {:>10.3}{}",
            row.chain,
            row.client,
            format!("{}/{}", row.done, row.asked),
            row.run.wall.as_secs_f64(),
            row.per_second(),
            row.cpu_ms(),
            row.run.max_rss_kib as f64 / 1024.0,
            row.server_ms(),
            row.note
                .as_ref()
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        )?;
    }
    if !have_openssl {
        writeln!(out, "openssl: not installed")?;
    }
    if !have_curl {
        writeln!(out, "curl or xargs: not installed")?;
    }
    if !sslyze {
        writeln!(
            out,
            "sslyze: {}",
            if options.sslyze {
                "not installed (bench/run installs it in target/bench-venv)"
            } else {
                "skipped (--no-sslyze)"
            }
        )?;
    }

    writeln!(out)?;
    writeln!(
        out,
        "pinprobe / peer, per chain: throughput (endpoints/s) and client CPU per endpoint"
    )?;
    let mut targets: Vec<(String, bool)> = Vec::new();
    for (default, top) in defaults.iter().zip(&best) {
        let mut picks = vec![(default, "default")];
        if top.client != default.client {
            picks.push((top, "best -j"));
        }
        for (pick, label) in picks {
            let name = format!("{} ({label})", pick.client.trim_end_matches(" (default)"));
            for peer in rows
                .iter()
                .filter(|r| r.chain == pick.chain && !r.client.starts_with("pinprobe"))
            {
                let (speed_target, cpu_target) = if peer.client.starts_with("openssl") {
                    (Some(1.5), Some(0.6))
                } else if peer.client.starts_with("xargs") {
                    (Some(5.0), None)
                } else {
                    (None, None)
                };
                if peer.done == 0 || pick.done == 0 {
                    writeln!(
                        out,
                        "{:<6} {name:<30} vs {:<22} n/a: a side completed nothing",
                        pick.chain, peer.client,
                    )?;
                    continue;
                }
                let speed = pick.per_second() / peer.per_second().max(1e-9);
                let cpu = pick.cpu_ms() / peer.cpu_ms().max(1e-9);
                let speed_check = speed_target.map(|t| (speed >= t, format!(">= {t}x")));
                let cpu_check = cpu_target.map(|t| (cpu <= t, format!("<= {t}x")));
                writeln!(
                    out,
                    "{:<6} {name:<30} vs {:<22} throughput {speed:>7.2}x {:<15} CPU {cpu:>6.2}x {}",
                    pick.chain,
                    peer.client,
                    verdict(speed_check.clone()),
                    verdict(cpu_check.clone()),
                )?;
                if label == "default" {
                    if let Some((met, target)) = speed_check {
                        targets.push((
                            format!(
                                "{} endpoints/s {speed:.2}x {} ({target})",
                                pick.chain, peer.client
                            ),
                            met,
                        ));
                    }
                    if let Some((met, target)) = cpu_check {
                        targets.push((
                            format!(
                                "{} CPU per endpoint {cpu:.2}x {} ({target})",
                                pick.chain, peer.client
                            ),
                            met,
                        ));
                    }
                }
            }
        }
    }
    out.flush()?;

    targets.push(latency(out, &runtime, &mut bench, &ecdsa)?);
    out.flush()?;

    // memory: many endpoints with NDJSON, against the ECDSA origin
    let list = names(memory_count, "m");
    let port = origin.ports[1];
    let run = bench.pinprobe(&ecdsa, port, &list, None, &[])?;
    let rss_mib = run.max_rss_kib as f64 / 1024.0;
    writeln!(out)?;
    writeln!(
        out,
        "memory: {} endpoints, NDJSON to /dev/null, -j {DEFAULT_J} (default), ECDSA origin: peak RSS {rss_mib:.1} MiB {}; {:.2} s, {:.0} endpoints/s, CPU {:.3} ms/endpoint{}",
        list.len(),
        verdict(Some((rss_mib < 64.0, "< 64 MiB".into()))),
        run.wall.as_secs_f64(),
        list.len() as f64 / run.wall.as_secs_f64().max(1e-9),
        run.cpu.as_secs_f64() * 1000.0 / list.len() as f64,
        run.failed().map(|f| format!(" ({f})")).unwrap_or_default(),
    )?;
    targets.push((
        format!(
            "peak RSS {rss_mib:.1} MiB for {} endpoints with NDJSON (< 64 MiB)",
            list.len()
        ),
        rss_mib < 64.0 && run.failed().is_none(),
    ));

    writeln!(out)?;
    writeln!(
        out,
        "targets (pinprobe with its default -j): {} of {} met",
        targets.iter().filter(|(_, met)| *met).count(),
        targets.len()
    )?;
    for (what, met) in &targets {
        writeln!(out, "  {} {what}", if *met { "PASS" } else { "MISS" })?;
    }

    drop(origin);
    if options.keep {
        let kept = bench.dir.keep();
        writeln!(out, "\nfiles of every run kept in {}", kept.display())?;
    }
    writeln!(out, "\nbench took {:.0} s", started.elapsed().as_secs_f64())?;
    Ok(())
}

/// 14 lab servers that answer 200 ms after the handshake: pinprobe over all of them at once,
/// compared with one of them alone and with all of them one after another.
fn latency(
    out: &mut impl Write,
    runtime: &tokio::runtime::Runtime,
    bench: &mut Bench,
    pki: &Pki,
) -> Result<(String, bool)> {
    let mut servers = Vec::new();
    for _ in 0..SLOW_ENDPOINTS {
        servers.push(runtime.block_on(Server::start(
            pki.leaf.chain(),
            pki.leaf.key.clone_key(),
            Behaviour::DelayedHttp {
                status: 200,
                body: "OK".into(),
                delay: SLOW_DELAY,
            },
        ))?);
    }
    let slow = Slow {
        names: names(SLOW_ENDPOINTS, "slow"),
        servers,
        pki,
    };
    let (one, one_failed) = slow.median(bench, 1)?;
    let (all, all_failed) = slow.median(bench, SLOW_ENDPOINTS)?;
    let sequential = slow.probe(bench, SLOW_ENDPOINTS, Some(1))?;
    let ratio = all.as_secs_f64() / one.as_secs_f64().max(1e-9);
    writeln!(out)?;
    writeln!(
        out,
        "latency: {SLOW_ENDPOINTS} endpoints, each server answers {} ms after the handshake (median of {LATENCY_RUNS} runs)",
        SLOW_DELAY.as_millis()
    )?;
    let note = |f: &Option<String>| f.as_ref().map(|f| format!(" ({f})")).unwrap_or_default();
    writeln!(
        out,
        "  one endpoint alone                {:>7.3} s{}",
        one.as_secs_f64(),
        note(&one_failed)
    )?;
    writeln!(
        out,
        "  all {SLOW_ENDPOINTS}, -j {DEFAULT_J} (default)          {:>7.3} s = {ratio:.2}x one endpoint {}{}",
        all.as_secs_f64(),
        verdict(Some((ratio <= 1.3, "<= 1.3x".into()))),
        note(&all_failed)
    )?;
    writeln!(
        out,
        "  all {SLOW_ENDPOINTS}, one after another (-j 1) {:>7.3} s = {:.2}x one endpoint{}",
        sequential.wall.as_secs_f64(),
        sequential.wall.as_secs_f64() / one.as_secs_f64().max(1e-9),
        note(&sequential.failed())
    )?;
    Ok((
        format!("latency case {ratio:.2}x one endpoint's time (<= 1.3x)"),
        ratio <= 1.3 && one_failed.is_none() && all_failed.is_none(),
    ))
}

/// The slow servers of the latency case, one name each.
struct Slow<'a> {
    names: Vec<String>,
    servers: Vec<Server>,
    pki: &'a Pki,
}

impl Slow<'_> {
    /// pinprobe over the first `count` slow endpoints.
    fn probe(&self, bench: &mut Bench, count: usize, j: Option<usize>) -> Result<Run> {
        let dir = bench.run_dir()?;
        let mut cmd = Command::new(&bench.pinprobe);
        cmd.arg("--cacert").arg(&self.pki.root_pem).args([
            "--format",
            "ndjson",
            "-o",
            "/dev/null",
            "-q",
            "--proxy",
            "",
        ]);
        if let Some(j) = j {
            cmd.arg("-j").arg(j.to_string());
        }
        for (name, server) in self.names.iter().zip(&self.servers).take(count) {
            cmd.arg("--resolve")
                .arg(format!("{name}:{}:127.0.0.1", server.port()))
                .arg(format!("https://{name}:{}/ping", server.port()));
        }
        bench.client_env(&mut cmd, self.pki);
        measure(&mut cmd, &dir, CHILD_DEADLINE)
    }

    /// The median wall time of LATENCY_RUNS runs over `count` endpoints with the default -j,
    /// and the first failure seen.
    fn median(&self, bench: &mut Bench, count: usize) -> Result<(Duration, Option<String>)> {
        let mut walls = Vec::new();
        let mut failed = None;
        for _ in 0..LATENCY_RUNS {
            let run = self.probe(bench, count, None)?;
            failed = failed.or(run.failed());
            walls.push(run.wall);
        }
        walls.sort();
        Ok((walls[walls.len() / 2], failed))
    }
}

/// The run of median throughput.
fn median(mut runs: Vec<Row>) -> Option<Row> {
    runs.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    let middle = runs.len() / 2;
    (!runs.is_empty()).then(|| runs.swap_remove(middle))
}

fn verdict(check: Option<(bool, String)>) -> String {
    match check {
        None => String::new(),
        Some((true, target)) => format!("PASS ({target})"),
        Some((false, target)) => format!("MISS ({target})"),
    }
}
