//! The clients measured, each as the command a user would run: pinprobe over a targets file,
//! `openssl s_time -new`, `xargs -P 8 curl` and sslyze; where their files go, and the
//! environment they all get (the bench root as the OS store, no proxy variables).

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pinprobe::lab::PROXY_VARS;
use tempfile::TempDir;

use crate::child::{measure, Run, CHILD_DEADLINE};
use crate::pki::Pki;
use crate::Result;

/// Parallel curl processes: what a shell script would run.
pub const CURL_PARALLEL: usize = 8;

/// One pinprobe run over a targets file.
pub struct Job<'a> {
    /// the targets file, one URL a line
    pub targets: String,
    /// the values of `--resolve`
    pub resolve: Vec<String>,
    /// the value of `--format`
    pub format: &'static str,
    /// `-j`, when not the default
    pub concurrency: Option<usize>,
    /// a profiler's command line to run pinprobe under
    pub wrap: &'a [String],
    /// how long the run may take
    pub limit: Duration,
}

/// Shared state of the clients: where files go, and which binaries run.
pub struct Bench {
    pub dir: TempDir,
    pub pinprobe: PathBuf,
    pub python: PathBuf,
    pub os_store: PathBuf,
    pub runs: usize,
}

impl Bench {
    /// A directory for one run's files.
    pub fn run_dir(&mut self) -> Result<PathBuf> {
        self.runs += 1;
        let dir = self.dir.path().join(format!("run{:03}", self.runs));
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    /// `pinprobe` over `names` on `port`, NDJSON to /dev/null, the bench root in both stores.
    pub fn pinprobe(
        &mut self,
        pki: &Pki,
        port: u16,
        names: &[String],
        concurrency: Option<usize>,
        wrap: &[String],
    ) -> Result<Run> {
        let mut targets = String::new();
        for name in names {
            let _ = writeln!(targets, "https://{name}:{port}/ping");
        }
        let job = Job {
            targets,
            resolve: names
                .iter()
                .map(|name| format!("{name}:{port}:127.0.0.1"))
                .collect(),
            format: "ndjson",
            concurrency,
            wrap,
            limit: CHILD_DEADLINE,
        };
        self.pinprobe_job(pki, &job)
    }

    /// `pinprobe --targets FILE` as `job` says, output to /dev/null, the bench root in both
    /// stores.
    pub fn pinprobe_job(&mut self, pki: &Pki, job: &Job) -> Result<Run> {
        let dir = self.run_dir()?;
        let targets = dir.join("targets.txt");
        fs::write(&targets, &job.targets)?;
        let mut cmd = match job.wrap.split_first() {
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
            .args([
                "--format",
                job.format,
                "-o",
                "/dev/null",
                "-q",
                "--proxy",
                "",
            ]);
        if let Some(j) = job.concurrency {
            cmd.arg("-j").arg(j.to_string());
        }
        for resolve in &job.resolve {
            cmd.arg("--resolve").arg(resolve);
        }
        self.client_env(&mut cmd, pki);
        measure(&mut cmd, &dir, job.limit)
    }

    /// What every client's environment holds: the bench root as the OS store, no proxy.
    pub fn client_env(&self, cmd: &mut Command, pki: &Pki) {
        for var in PROXY_VARS {
            cmd.env_remove(var);
        }
        cmd.env("SSL_CERT_FILE", &pki.root_pem)
            .env("SSL_CERT_DIR", &self.os_store)
            .stdin(Stdio::null());
    }

    pub fn s_time(&mut self, pki: &Pki, port: u16, seconds: u32) -> Result<(Run, usize)> {
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

    pub fn curl(&mut self, pki: &Pki, port: u16, names: &[String]) -> Result<(Run, usize)> {
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

    pub fn sslyze(&mut self, pki: &Pki, port: u16, names: &[String]) -> Result<(Run, usize)> {
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

pub fn sslyze_available(python: &Path) -> bool {
    Command::new(python)
        .args(["-m", "sslyze", "--help"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn tool_available(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// `count` names under `*.bench.test`: `{prefix}0001.bench.test` ...
pub fn names(count: usize, prefix: &str) -> Vec<String> {
    (1..=count)
        .map(|i| format!("{prefix}{i:04}.bench.test"))
        .collect()
}
