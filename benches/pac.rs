//! The PAC benchmark: what deciding routes with a PAC file costs, in-process, for two files.
//!
//! - `dns`: a corporate-style file (a bypass list of 200 domains, then `dnsResolve` and
//!   `isInNet` on the host) asked for 1,000 distinct hosts, each resolved through a fixed map
//!   (no query leaves the process);
//! - `cpu`: a correct file that computes for about 0.1 s per call, asked for 200 hosts.
//!
//! Each case runs in a child process of its own (this binary again, with `--case NAME`), so
//! that its peak RSS is its own; `baseline` is the same process without a PAC file. The calls
//! are made as a run makes them: `find_proxy` on tokio's blocking threads, at most 128 at a
//! time (pinprobe's default `-j`), on the default pool and limits. `bench/README.md` explains
//! the table.
//!
//! `cargo bench --bench pac`

use std::fmt::Write as _;
use std::io::{self, Write};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pinprobe::net::resolve::{Override, Resolver};
use pinprobe::proxy::pac::{Limits, Pac, PacEntry};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Endpoints whose routes are decided at once, as pinprobe's default `-j`.
const CONCURRENCY: usize = pinprobe::config::DEFAULT_CONCURRENCY;
/// Hosts of the `dns` case.
const DNS_HOSTS: usize = 1000;
/// Hosts of the `cpu` case.
const CPU_HOSTS: usize = 200;
/// Rounds of the loop of the `cpu` case: about 0.1 s of QuickJS on the project's machine.
const CPU_ROUNDS: u32 = 7_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        let case = args.get(i + 1).map(String::as_str).unwrap_or_default();
        match child(case) {
            Ok(line) => {
                let _ = writeln!(io::stdout(), "{line}");
            }
            Err(e) => {
                let _ = writeln!(io::stderr(), "pac bench, case {case}: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if !args.iter().any(|a| a == "--bench") {
        // `cargo test --benches` runs this binary without `--bench`
        let _ = writeln!(
            io::stdout(),
            "pac: nothing to do outside `cargo bench --bench pac`"
        );
        return;
    }
    if let Err(e) = table() {
        let _ = writeln!(io::stderr(), "pac bench: error: {e}");
        std::process::exit(1);
    }
}

/// Runs each case in a child and prints the table.
fn table() -> Result<()> {
    let me = std::env::current_exe()?;
    let mut out = String::new();
    writeln!(
        out,
        "PAC evaluation, {} cores, default limits and pool, {CONCURRENCY} calls at a time",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    )?;
    writeln!(
        out,
        "| case | endpoints | answered | wall s | CPU s | CPU ms/endpoint | peak RSS MiB |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|")?;
    for case in ["baseline", "dns", "cpu"] {
        let output = Command::new(&me).args(["--case", case]).output()?;
        if !output.status.success() {
            return Err(format!(
                "case {case} failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )
            .into());
        }
        let line = String::from_utf8(output.stdout)?;
        let field = |name: &str| -> Result<f64> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .ok_or_else(|| format!("case {case}: no {name} in {line:?}"))?
                .parse::<f64>()
                .map_err(|e| format!("case {case}: {name}: {e}").into())
        };
        let (endpoints, answered) = (field("endpoints")?, field("answered")?);
        let (wall, cpu, rss) = (field("wall")?, field("cpu")?, field("rss_kib")?);
        let per = if endpoints > 0.0 {
            format!("{:.2}", cpu * 1000.0 / endpoints)
        } else {
            "-".into()
        };
        writeln!(
            out,
            "| {case} | {endpoints} | {answered} | {wall:.2} | {cpu:.2} | {per} | {:.1} |",
            rss / 1024.0
        )?;
    }
    io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

/// One case, measured from the loading of the file to the last answer; one line of
/// `key=value` fields.
fn child(case: &str) -> Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (resolver, script, hosts) = match case {
        "baseline" => (Resolver::fixed(Vec::new()), None, Vec::new()),
        "dns" => {
            let hosts: Vec<String> = (1..=DNS_HOSTS)
                .map(|i| format!("h{i:04}.pac.test"))
                .collect();
            let overrides = hosts
                .iter()
                .enumerate()
                .map(|(i, host)| {
                    // half in 10/8 (DIRECT), half in 198.18/15 (through the proxy)
                    let addr = if i % 2 == 0 {
                        format!("10.{}.{}.1", i / 256, i % 256)
                    } else {
                        format!("198.18.{}.{}", i / 256, i % 256)
                    };
                    Override::parse(&format!("{host}:443:{addr}"))
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            (Resolver::fixed(overrides), Some(dns_script()), hosts)
        }
        "cpu" => {
            let hosts = (1..=CPU_HOSTS)
                .map(|i| format!("c{i:03}.pac.test"))
                .collect();
            (Resolver::fixed(Vec::new()), Some(cpu_script()), hosts)
        }
        other => return Err(format!("no case {other:?} (baseline, dns, cpu)").into()),
    };

    let (cpu_start, wall_start) = (cpu_time(), Instant::now());
    let answered = match script {
        None => 0,
        Some(script) => runtime.block_on(decide_all(script, resolver, hosts.clone()))?,
    };
    let (wall, cpu) = (wall_start.elapsed(), cpu_time() - cpu_start);
    Ok(format!(
        "case={case} endpoints={} answered={answered} wall={:.3} cpu={:.3} rss_kib={}",
        hosts.len(),
        wall.as_secs_f64(),
        cpu.as_secs_f64(),
        peak_rss_kib()
    ))
}

/// Loads the file and asks it for every host, as `ProxyConfig::decide` does; the number of
/// usable answers.
async fn decide_all(script: String, resolver: Resolver, hosts: Vec<String>) -> Result<usize> {
    let pac = tokio::task::spawn_blocking(move || {
        Pac::from_script("bench.pac", script, &resolver, Limits::default())
    })
    .await??;
    let gate = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let mut tasks = Vec::new();
    for host in hosts {
        let (pac, gate) = (pac.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            let url = format!("https://{host}/");
            tokio::task::spawn_blocking(move || pac.find_proxy(&url, &host)).await
        }));
    }
    let mut answered = 0;
    for task in tasks {
        match task.await?? {
            Ok(entries) if !entries.is_empty() => answered += 1,
            Ok(_) => {}
            Err(e) => return Err(e.to_string().into()),
        }
    }
    // the file's answers are what the file says
    let check = pac.find_proxy("https://h0001.pac.test/", "h0001.pac.test")?;
    if !check.contains(&PacEntry::Direct) {
        return Err(format!("unexpected answer {check:?}").into());
    }
    Ok(answered)
}

/// A bypass list of 200 domains, then a lookup of the host: the shape of many corporate files.
fn dns_script() -> String {
    let mut script = String::from("function FindProxyForURL(url, host) {\n");
    script.push_str("  if (isPlainHostName(host)) return \"DIRECT\";\n");
    for i in 0..200 {
        let _ = writeln!(
            script,
            "  if (dnsDomainIs(host, \".bypass{i}.corp.example\") || shExpMatch(host, \"*.partner{i}.example\")) return \"DIRECT\";"
        );
    }
    script.push_str(
        "  var ip = dnsResolve(host);\n  if (ip && isInNet(ip, \"10.0.0.0\", \"255.0.0.0\")) return \"DIRECT\";\n  return \"PROXY proxy.corp.example:3128; DIRECT\";\n}\n",
    );
    script
}

/// A correct file that computes for about 0.1 s before answering.
fn cpu_script() -> String {
    format!(
        "function FindProxyForURL(url, host) {{\n  var x = host.length;\n  for (var i = 0; i < {CPU_ROUNDS}; i++) x = (x * 31 + i) % 1000003;\n  return x >= 0 ? \"DIRECT\" : \"PROXY p:1\";\n}}\n"
    )
}

fn usage() -> libc::rusage {
    // SAFETY: getrusage writes a whole rusage into the zeroed value it is given
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage
}

/// User + system CPU time of this process.
fn cpu_time() -> Duration {
    let usage = usage();
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Peak resident memory of this process, KiB (Linux).
fn peak_rss_kib() -> u64 {
    usage().ru_maxrss as u64
}
