//! Prometheus: `pinprobe serve` as a multi-target exporter scraped by a real Prometheus, and
//! `test --format prometheus`, both checked with `promtool check metrics`.
//!
//! promtool and prometheus come from Debian's `prometheus` package. Without them the tests
//! that need them are skipped with a note, unless `PINPROBE_REQUIRE_PROMETHEUS=1` (set by
//! `.ci/run`) makes a missing one a failure. Everything binds 127.0.0.1: serve on port 0 (it
//! says its address on standard error), Prometheus on a port the kernel handed out, its
//! targets mapped to the lab servers with `--resolve`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pinprobe::lab::{closed_port, Ca, KeyKind, LeafSpec, PROXY_VARS};
use serde_json::Value;
use tempfile::TempDir;

use crate::support::*;

/// The host name of the genuine lab server.
const GENUINE: &str = "genuine.test";
/// The host name of the server whose chain only the OS store trusts.
const CORP: &str = "corp.test";

/// Longest serve or Prometheus may take to start.
const START_DEADLINE: Duration = Duration::from_secs(20);
/// Longest the test waits for Prometheus to have scraped both targets.
const SCRAPE_DEADLINE: Duration = Duration::from_secs(20);
/// How often Prometheus is asked.
const POLL: Duration = Duration::from_millis(200);

fn required() -> bool {
    std::env::var("PINPROBE_REQUIRE_PROMETHEUS").is_ok_and(|v| v == "1")
}

/// The path of `name` (promtool, prometheus) from Debian's package, or None with a note on
/// standard error when it is missing and not required.
fn tool(name: &str) -> Option<PathBuf> {
    let found = ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            !required(),
            "PINPROBE_REQUIRE_PROMETHEUS=1 but {name} is not installed: apt-get install prometheus"
        );
        let _ = writeln!(
            std::io::stderr(),
            "{name} is not installed: skipping (set PINPROBE_REQUIRE_PROMETHEUS=1 to fail instead)"
        );
    }
    found
}

/// Runs `promtool check metrics` on `text` and fails with its complaints, if any. Skipped
/// without promtool.
fn promtool_check(text: &str, what: &str) {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write to promtool");
    let out = child.wait_with_output().expect("promtool ends");
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics on {what}: {}\n{}{}\n{text}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A child process killed (and waited for) on drop.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `pinprobe serve`.
struct Serve {
    _child: Killed,
    addr: SocketAddr,
    _dir: TempDir,
}

/// The lab: a genuine server (its root given to serve with `--cacert`) and one whose chain is
/// anchored at an inspection CA that only serve's OS store trusts.
struct Lab {
    root: Ca,
    inspection: Ca,
    genuine: pinprobe::lab::Server,
    corp: pinprobe::lab::Server,
}

impl Lab {
    async fn start() -> Lab {
        let pki = genuine_pki(&[GENUINE]);
        let inspection =
            Ca::root("Corp SSL Inspection CA", "Corp IT", KeyKind::EcdsaP256).expect("CA");
        let forged = inspection.leaf(&LeafSpec::new([CORP])).expect("leaf");
        Lab {
            genuine: serve(&pki.leaf, http(200, "OK")).await,
            corp: serve(&forged, http(200, "OK")).await,
            root: pki.root,
            inspection,
        }
    }

    fn genuine_url(&self) -> String {
        format!("https://{GENUINE}:{}/ping", self.genuine.port())
    }

    fn corp_url(&self) -> String {
        format!("https://{CORP}:{}/ping", self.corp.port())
    }

    /// Starts `pinprobe serve --listen 127.0.0.1:0` for this lab and reads its address from
    /// the `listening on ADDR` line.
    fn serve(&self) -> Serve {
        let dir = tempfile::tempdir().expect("temporary directory");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            path
        };
        let cacert = write("root.pem", &self.root.pem());
        let os_store = write("os-store.pem", &self.inspection.pem());
        let os_dir = dir.path().join("os-store.d");
        std::fs::create_dir(&os_dir).expect("directory");
        let mut command = Command::new(env!("CARGO_BIN_EXE_pinprobe"));
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--timeout", "5"])
            .arg("--cacert")
            .arg(&cacert)
            .args([
                "--resolve".to_string(),
                format!("{GENUINE}:{}:127.0.0.1", self.genuine.port()),
                "--resolve".to_string(),
                format!("{CORP}:{}:127.0.0.1", self.corp.port()),
            ])
            .env("SSL_CERT_FILE", &os_store)
            .env("SSL_CERT_DIR", &os_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for var in PROXY_VARS {
            command.env_remove(var);
        }
        let mut child = Killed(command.spawn().expect("pinprobe serve starts"));
        let stderr = child.0.stderr.take().expect("stderr");
        let (lines, said) = mpsc::channel();
        // reads serve's standard error to its end, so that it never blocks on a full pipe
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let start = Instant::now();
        let mut seen = Vec::new();
        let addr = loop {
            let left = START_DEADLINE.saturating_sub(start.elapsed());
            let line = said.recv_timeout(left).unwrap_or_else(|_| {
                panic!("serve said no 'listening on' within {START_DEADLINE:?}: {seen:?}")
            });
            if let Some(rest) = line.split("listening on ").nth(1) {
                let addr = rest.split_whitespace().next().expect("an address");
                break addr.parse().expect("a socket address");
            }
            seen.push(line);
        };
        Serve {
            _child: child,
            addr,
            _dir: dir,
        }
    }
}

/// One GET over HTTP/1.1 to `addr`: the status and the body, within 10 s.
fn get(addr: SocketAddr, target: &str) -> (u16, String, String) {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        tcp,
        "GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).expect("answer");
    let answer = String::from_utf8(answer).expect("UTF-8");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, head.to_string(), body.to_string())
}

/// A value of the line `series value` of an exposition.
fn sample(text: &str, series: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_answers_the_exposition_format_promtool_accepts() {
    let lab = Lab::start().await;
    let (genuine, corp) = (lab.genuine_url(), lab.corp_url());
    let serve = tokio::task::spawn_blocking(move || {
        let serve = lab.serve();
        let addr = serve.addr;
        let (status, head, ok) = get(addr, &format!("/probe?target={genuine}"));
        assert_eq!(status, 200, "{head}\n{ok}");
        assert!(
            head.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
            "{head}"
        );
        assert_eq!(sample(&ok, "probe_success").as_deref(), Some("1"), "{ok}");
        promtool_check(&ok, "/probe of the genuine server");

        let (_, _, intercepted) = get(addr, &format!("/probe?target={corp}"));
        assert_eq!(sample(&intercepted, "probe_success").as_deref(), Some("0"));
        assert_eq!(
            sample(
                &intercepted,
                r#"pinprobe_verdict{verdict="ssl-interception"}"#
            )
            .as_deref(),
            Some("1"),
            "{intercepted}"
        );
        assert_eq!(
            sample(&intercepted, r#"pinprobe_interception{vendor="unknown"}"#).as_deref(),
            Some("1"),
            "{intercepted}"
        );
        assert_eq!(
            sample(&intercepted, "pinprobe_curl_code").as_deref(),
            Some("60")
        );
        promtool_check(&intercepted, "/probe of the intercepted server");

        let (status, _, message) = get(addr, "/probe?target=http://genuine.test/");
        assert_eq!(status, 400, "{message}");
        assert!(message.contains("use https://"), "{message}");
        let (status, _, message) = get(addr, "/probe?target=genuine.test&pinset=nope");
        assert_eq!(status, 400, "{message}");
        assert!(
            message.contains("no pin set is named \"nope\""),
            "{message}"
        );

        let (status, _, metrics) = get(addr, "/metrics");
        assert_eq!(status, 200);
        assert_eq!(
            sample(
                &metrics,
                r#"pinprobe_exporter_requests_total{path="/probe",code="200"}"#
            )
            .as_deref(),
            Some("2"),
            "{metrics}"
        );
        promtool_check(&metrics, "/metrics");
        serve
    })
    .await
    .expect("the checks do not panic");
    drop(serve);
}

#[tokio::test(flavor = "multi_thread")]
async fn test_format_prometheus_writes_a_textfile_promtool_accepts() {
    let lab = Lab::start().await;
    let out = Probe::new()
        .cacert(&lab.root)
        .os_trusts(&lab.inspection)
        .args([
            "--resolve".to_string(),
            format!("{GENUINE}:{}:127.0.0.1", lab.genuine.port()),
            "--resolve".to_string(),
            format!("{CORP}:{}:127.0.0.1", lab.corp.port()),
            lab.genuine_url(),
            lab.corp_url(),
            "--format".into(),
            "prometheus".into(),
            "-o".into(),
            "pinprobe.prom".into(),
        ])
        .run()
        .await;
    out.assert_code(1);
    let text = std::fs::read_to_string(out.dir().join("pinprobe.prom")).expect("the textfile");
    let genuine = format!(r#"endpoint="{}",route="direct""#, lab.genuine_url());
    let corp = format!(r#"endpoint="{}",route="direct""#, lab.corp_url());
    assert_eq!(
        sample(&text, &format!("probe_success{{{genuine}}}")).as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!(r#"pinprobe_verdict{{{corp},verdict="ssl-interception"}}"#)
        )
        .as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(text.matches("# TYPE probe_success gauge").count(), 1);
    promtool_check(&text, "test --format prometheus");
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_refuses_a_bad_configuration_before_it_listens() {
    for (args, needle) in [
        (
            vec!["--max-concurrent", "0"],
            "--max-concurrent: 0 is out of range",
        ),
        (
            vec!["--listen", "nowhere"],
            "--listen: cannot listen on \"nowhere\"",
        ),
        (vec!["--pinset", "nope"], "no pin set is named \"nope\""),
    ] {
        let out = Probe::new().args(["serve"]).args(args).run().await;
        out.assert_code(2);
        assert!(out.stderr.contains(needle), "{}", out.stderr);
    }
}

/// A running Prometheus, killed on drop.
struct Prometheus {
    _child: Killed,
    addr: SocketAddr,
    dir: TempDir,
}

impl Prometheus {
    /// Starts Prometheus with `config` (a scrape configuration) on a free loopback port;
    /// retried when another process took the port first.
    fn start(binary: &Path, config: &str) -> Prometheus {
        let mut last = String::new();
        for _ in 0..3 {
            match Prometheus::try_start(binary, config) {
                Ok(p) => return p,
                Err(log) => last = log,
            }
        }
        panic!("prometheus did not start after 3 attempts; last log:\n{last}");
    }

    fn try_start(binary: &Path, config: &str) -> Result<Prometheus, String> {
        let dir = tempfile::tempdir().expect("temporary directory");
        let config_file = dir.path().join("prometheus.yml");
        std::fs::write(&config_file, config).expect("write the configuration");
        let port = closed_port().expect("free port");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
        let mut command = Command::new(binary);
        command
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        for var in PROXY_VARS {
            command.env_remove(var);
        }
        let mut child = Killed(command.spawn().expect("prometheus starts"));
        let start = Instant::now();
        while start.elapsed() < START_DEADLINE {
            if let Ok(Some(status)) = child.0.try_wait() {
                return Err(format!(
                    "prometheus exited with {status}:\n{}",
                    std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
                ));
            }
            if TcpStream::connect(addr).is_ok() && get(addr, "/-/ready").0 == 200 {
                return Ok(Prometheus {
                    _child: child,
                    addr,
                    dir,
                });
            }
            std::thread::sleep(POLL);
        }
        Err(format!(
            "prometheus was not ready within {START_DEADLINE:?}:\n{}",
            std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
        ))
    }

    /// The answer of `/api/v1/query` to `query`.
    fn query(&self, query: &str) -> Value {
        let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let (status, _, body) = get(self.addr, &format!("/api/v1/query?query={encoded}"));
        assert_eq!(status, 200, "{query}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }
}

/// The value of each series of an instant query's answer, by its `instance` label.
fn by_instance(answer: &Value) -> Vec<(String, String)> {
    answer["data"]["result"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .map(|r| {
                    (
                        r["metric"]["instance"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        r["value"][1].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The scrape configuration of docs/prometheus.md: blackbox_exporter's multi-target
/// relabelling, with serve's address, and a job for serve's own metrics.
fn scrape_config(serve: SocketAddr, targets: &[String]) -> String {
    let targets: String = targets
        .iter()
        .map(|t| format!("          - {t}\n"))
        .collect();
    format!(
        "global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pinprobe
    metrics_path: /probe
    static_configs:
      - targets:
{targets}    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: {serve}
  - job_name: pinprobe_exporter
    static_configs:
      - targets: ['{serve}']
"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn prometheus_scrapes_serve_for_a_genuine_and_an_intercepted_target() {
    let Some(binary) = tool("prometheus") else {
        return;
    };
    let lab = Lab::start().await;
    let (genuine, corp) = (lab.genuine_url(), lab.corp_url());
    let checked = tokio::task::spawn_blocking(move || {
        let serve = lab.serve();
        let prometheus = Prometheus::start(
            &binary,
            &scrape_config(serve.addr, &[genuine.clone(), corp.clone()]),
        );
        let start = Instant::now();
        let success = loop {
            let answer = prometheus.query("probe_success");
            let found = by_instance(&answer);
            let up = by_instance(&prometheus.query("up{job=\"pinprobe_exporter\"}"));
            if found.len() == 2 && up.len() == 1 {
                break answer;
            }
            assert!(
                start.elapsed() < SCRAPE_DEADLINE,
                "Prometheus had not scraped both targets within {SCRAPE_DEADLINE:?}: {answer}\n{}",
                prometheus.log()
            );
            std::thread::sleep(POLL);
        };
        let _ = writeln!(
            std::io::stderr(),
            "/api/v1/query?query=probe_success answered: {success}"
        );
        let mut found = by_instance(&success);
        found.sort();
        let mut want = vec![
            (genuine.clone(), "1".to_string()),
            (corp.clone(), "0".to_string()),
        ];
        want.sort();
        assert_eq!(found, want, "{success}");

        let verdict = prometheus.query(r#"pinprobe_verdict{verdict="ssl-interception"}"#);
        let _ = writeln!(
            std::io::stderr(),
            "pinprobe_verdict{{verdict=\"ssl-interception\"}} answered: {verdict}"
        );
        let mut found = by_instance(&verdict);
        found.sort();
        let mut want = vec![(genuine, "0".to_string()), (corp, "1".to_string())];
        want.sort();
        assert_eq!(found, want, "{verdict}");

        // Prometheus read serve's own metrics too, and every scrape succeeded
        let up = prometheus.query("up");
        assert!(
            by_instance(&up).iter().all(|(_, v)| v == "1") && by_instance(&up).len() == 3,
            "{up}"
        );
        (prometheus, serve)
    })
    .await
    .expect("the checks do not panic");
    // Prometheus first, then serve
    drop(checked);
}
