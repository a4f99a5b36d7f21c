//! The cold-start case: one process probing one endpoint, as most people run pinprobe, next to
//! curl and `openssl s_client` fetching the same URL. Each client is a fresh process per run,
//! so start-up (loading the binary, reading the trust stores, seeding the random generator) is
//! part of what is measured; the runs of the three are interleaved so that a burst of load
//! from elsewhere on the machine falls on all of them.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::child::{measure, Medians, Run};
use crate::clients::{tool_available, Bench};
use crate::pki::Pki;
use crate::targets::{verdict, Targets};
use crate::Result;

/// Runs of each client.
const COLD_RUNS: usize = 20;
/// Longest one cold run may take: a probe of one loopback endpoint takes milliseconds.
const COLD_DEADLINE: Duration = Duration::from_secs(30);
/// The one name probed (under the leaf's `*.bench.test`).
const COLD_NAME: &str = "cold.bench.test";
/// pinprobe's cold start may cost at most this many times curl's, in wall time and in CPU.
const COLD_TARGET: f64 = 1.5;

/// The clients of the case, in the order each round runs them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tool {
    Pinprobe,
    Curl,
    OpensslSClient,
}

impl Tool {
    fn label(self) -> &'static str {
        match self {
            Tool::Pinprobe => "pinprobe",
            Tool::Curl => "curl",
            Tool::OpensslSClient => "openssl s_client",
        }
    }
}

/// The runs of one client, and the failed ones apart.
struct Runs {
    client: Tool,
    ok: Vec<Run>,
    failed: usize,
    first_failure: Option<String>,
}

/// Runs the cold-start case against `port` (the RSA origin), prints it and adds its targets.
pub fn run(
    out: &mut impl Write,
    bench: &mut Bench,
    pki: &Pki,
    port: u16,
    targets: &mut Targets,
) -> Result<()> {
    let mut clients = vec![Tool::Pinprobe];
    let mut missing = Vec::new();
    if tool_available("curl", "--version") {
        clients.push(Tool::Curl);
    } else {
        missing.push("curl");
    }
    if tool_available("openssl", "version") {
        clients.push(Tool::OpensslSClient);
    } else {
        missing.push("openssl");
    }
    let version = pinprobe_tls_version(bench, pki, port)?;

    let mut all: Vec<Runs> = clients
        .iter()
        .map(|c| Runs {
            client: *c,
            ok: Vec::new(),
            failed: 0,
            first_failure: None,
        })
        .collect();
    // one run of each first, not counted: the page cache, the origin's first connections
    for client in &clients {
        once(bench, pki, port, *client)?;
    }
    for _ in 0..COLD_RUNS {
        for runs in &mut all {
            let (run, failure) = once(bench, pki, port, runs.client)?;
            match failure {
                None => runs.ok.push(run),
                Some(why) => {
                    runs.failed += 1;
                    runs.first_failure.get_or_insert(why);
                }
            }
        }
    }

    writeln!(out)?;
    writeln!(
        out,
        "cold start: one process, one endpoint of the RSA origin (GET /ping), TLS 1.3 (pinprobe \
         negotiated {version}; curl --tlsv1.3, s_client -tls1_3); median of {COLD_RUNS} \
         interleaved runs"
    )?;
    writeln!(
        out,
        "  {:<20} {:>8} {:>8} {:>8}",
        "client", "wall ms", "CPU ms", "RSS MiB"
    )?;
    let mut medians: Vec<(Tool, Medians)> = Vec::new();
    for runs in &all {
        let failed = (runs.failed > 0).then(|| {
            format!(
                "  ({} of {COLD_RUNS} failed: {})",
                runs.failed,
                runs.first_failure.as_deref().unwrap_or_default()
            )
        });
        match Medians::of(&runs.ok) {
            Some(m) => {
                writeln!(
                    out,
                    "  {:<20} {:>8.2} {:>8.2} {:>8.1}{}",
                    runs.client.label(),
                    m.wall_ms(),
                    m.cpu_ms(),
                    m.rss_mib(),
                    failed.unwrap_or_default()
                )?;
                if runs.failed == 0 {
                    medians.push((runs.client, m));
                }
            }
            None => writeln!(
                out,
                "  {:<20} {:>8} {:>8} {:>8}{}",
                runs.client.label(),
                "-",
                "-",
                "-",
                failed.unwrap_or_default()
            )?,
        }
    }
    for tool in &missing {
        writeln!(out, "  {tool}: not installed")?;
    }

    let find = |c: Tool| medians.iter().find(|(k, _)| *k == c).map(|(_, m)| *m);
    let pinprobe = find(Tool::Pinprobe);
    for peer in [Tool::Curl, Tool::OpensslSClient] {
        if !clients.contains(&peer) {
            continue;
        }
        let name = format!("pinprobe / {}", peer.label());
        let (Some(p), Some(q)) = (pinprobe, find(peer)) else {
            writeln!(out, "  {name:<27} n/a: a side had failed runs")?;
            if peer == Tool::Curl {
                targets.push(
                    format!("cold start wall n/a curl (<= {COLD_TARGET}x)"),
                    false,
                );
                targets.push(
                    format!("cold start CPU n/a curl (<= {COLD_TARGET}x)"),
                    false,
                );
            }
            continue;
        };
        let wall = p.wall_ms() / q.wall_ms().max(1e-9);
        let cpu = p.cpu_ms() / q.cpu_ms().max(1e-9);
        let check = |ratio: f64| {
            (peer == Tool::Curl).then(|| (ratio <= COLD_TARGET, format!("<= {COLD_TARGET}x")))
        };
        writeln!(
            out,
            "  {name:<27} wall {wall:>5.2}x {:<15} CPU {cpu:>5.2}x {}",
            verdict(check(wall)),
            verdict(check(cpu)),
        )?;
        if peer == Tool::Curl {
            targets.push(
                format!("cold start wall {wall:.2}x curl (<= {COLD_TARGET}x)"),
                wall <= COLD_TARGET,
            );
            targets.push(
                format!("cold start CPU {cpu:.2}x curl (<= {COLD_TARGET}x)"),
                cpu <= COLD_TARGET,
            );
        }
    }
    Ok(())
}

/// One run of `client`, and why it failed (`None` when it fetched the page).
fn once(bench: &mut Bench, pki: &Pki, port: u16, client: Tool) -> Result<(Run, Option<String>)> {
    let dir = bench.run_dir()?;
    let url = format!("https://{COLD_NAME}:{port}/ping");
    let resolve = format!("{COLD_NAME}:{port}:127.0.0.1");
    let mut cmd = match client {
        Tool::Pinprobe => {
            let mut cmd = Command::new(&bench.pinprobe);
            cmd.arg("--cacert")
                .arg(&pki.root_pem)
                .arg("--resolve")
                .arg(&resolve)
                .arg("-q")
                .arg(&url);
            cmd
        }
        Tool::Curl => {
            // the body to standard output, so that the run shows it fetched the page
            let mut cmd = Command::new("curl");
            cmd.args(["-s", "--tlsv1.3", "--noproxy", "*", "--cacert"])
                .arg(&pki.root_pem)
                .arg("--resolve")
                .arg(&resolve)
                .arg(&url);
            cmd
        }
        Tool::OpensslSClient => {
            // -verify_hostname: the name is checked, as pinprobe and curl check it
            let mut cmd = Command::new("openssl");
            cmd.args(["s_client", "-connect"])
                .arg(format!("127.0.0.1:{port}"))
                .args(["-servername", COLD_NAME, "-verify_hostname", COLD_NAME])
                .arg("-CAfile")
                .arg(&pki.root_pem)
                .args(["-verify_return_error", "-quiet", "-tls1_3"]);
            cmd
        }
    };
    bench.client_env(&mut cmd, pki);
    if client == Tool::Pinprobe {
        // the machine's own OS store, read as a user's run reads it (hundreds of anchors, not
        // the bench's one root): reading it is part of what a cold start costs
        cmd.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
    }
    if client == Tool::OpensslSClient {
        // -quiet implies -ign_eof: s_client sends the request and reads until nginx closes
        let request = dir.join("request.txt");
        fs::write(
            &request,
            format!("GET /ping HTTP/1.1\r\nHost: {COLD_NAME}:{port}\r\nConnection: close\r\n\r\n"),
        )?;
        cmd.stdin(fs::File::open(&request)?);
    }
    let run = measure(&mut cmd, &dir, COLD_DEADLINE)?;
    let failure = run.failed().or_else(|| match client {
        Tool::Pinprobe => None,
        Tool::Curl => (run.stdout != "OK").then(|| "curl printed no body".to_string()),
        Tool::OpensslSClient => (!(run.stdout.starts_with("HTTP/1.1 200")
            && run.stdout.ends_with("OK")))
        .then(|| "s_client read no 200 answer".to_string()),
    });
    Ok((run, failure))
}

/// The TLS version pinprobe negotiated with the origin, from one run's JSON report (not
/// measured), or why it is not known.
fn pinprobe_tls_version(bench: &mut Bench, pki: &Pki, port: u16) -> Result<String> {
    let dir = bench.run_dir()?;
    let report = dir.join("report.json");
    let mut cmd = Command::new(&bench.pinprobe);
    cmd.arg("--cacert")
        .arg(&pki.root_pem)
        .arg("--resolve")
        .arg(format!("{COLD_NAME}:{port}:127.0.0.1"))
        .args(["-q", "--format", "json", "-o"])
        .arg(&report)
        .arg(format!("https://{COLD_NAME}:{port}/ping"));
    bench.client_env(&mut cmd, pki);
    let run = measure(&mut cmd, &dir, COLD_DEADLINE)?;
    if let Some(why) = run.failed() {
        // the counted runs will fail too, and their line says so: the bench goes on
        return Ok(format!("unknown, its JSON run failed: {why}"));
    }
    Ok(tls_version(&report).unwrap_or_else(|| "unknown, no TLS version in its report".into()))
}

/// The first `"tls": {"version": ...}` of a JSON report, wherever the report nests it.
fn tls_version(report: &Path) -> Option<String> {
    fn find(value: &serde_json::Value) -> Option<String> {
        match value {
            serde_json::Value::Object(map) => map
                .get("tls")
                .and_then(|tls| tls.get("version"))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
                .or_else(|| map.values().find_map(find)),
            serde_json::Value::Array(items) => items.iter().find_map(find),
            _ => None,
        }
    }
    let text = fs::read_to_string(report).ok()?;
    find(&serde_json::from_str(&text).ok()?)
}
