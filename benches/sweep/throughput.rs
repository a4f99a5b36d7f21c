//! The throughput case: per chain, pinprobe at its default `-j` and at other `-j` values,
//! `openssl s_time -new`, `xargs -P 8 curl` and sslyze over the same names; the table of what
//! each cost, and pinprobe's ratios to each peer.

use std::io::Write;
use std::time::Duration;

use crate::child::Run;
use crate::clients::{names, sslyze_available, tool_available, Bench, CURL_PARALLEL};
use crate::options::Options;
use crate::origin::Origin;
use crate::pki::Pki;
use crate::targets::{verdict, Targets};
use crate::{Result, DEFAULT_J};

/// The `-j` values tried besides the default.
const TRY_J: [usize; 4] = [4, 16, 32, 64];
/// Rounds of the throughput case (each pinprobe configuration and openssl s_time once per
/// round); the median round of each is reported.
pub const ROUNDS: usize = 3;
/// Names per chain in the throughput case.
pub const NAMES: usize = 1000;
/// Names sslyze scans per chain (it makes several connections per name, in Python).
const SSLYZE_NAMES: usize = 100;
/// Seconds `openssl s_time` runs per chain and round.
const S_TIME_SECONDS: u32 = 3;
/// The targets at the default `-j`: throughput at least this many times `openssl s_time
/// -new`'s, client CPU per endpoint at most this many times its, throughput at least this many
/// times `xargs -P 8 curl`'s, and client CPU per endpoint at most this many milliseconds.
const S_TIME_SPEED_TARGET: f64 = 2.5;
const S_TIME_CPU_TARGET: f64 = 0.6;
const CURL_SPEED_TARGET: f64 = 5.0;
const CPU_MS_TARGET: f64 = 0.35;

/// One measured client over one chain.
#[derive(Clone, Debug)]
pub struct Row {
    pub chain: &'static str,
    pub client: String,
    /// endpoints (or connections) completed
    pub done: usize,
    /// endpoints asked for
    pub asked: usize,
    pub run: Run,
    pub server_cpu: Duration,
    pub note: Option<String>,
}

impl Row {
    pub fn per_second(&self) -> f64 {
        self.done as f64 / self.run.wall.as_secs_f64().max(1e-9)
    }

    pub fn cpu_ms(&self) -> f64 {
        self.run.cpu.as_secs_f64() * 1000.0 / self.done.max(1) as f64
    }

    fn server_ms(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1000.0 / self.done.max(1) as f64
    }
}

/// The rows of the throughput case.
pub struct Sweep {
    /// every row of the table, in its order
    rows: Vec<Row>,
    /// pinprobe with its default `-j`, one per chain
    defaults: Vec<Row>,
    /// the pinprobe configuration of highest throughput, one per chain
    best: Vec<Row>,
}

/// Names per chain in this run.
pub fn names_count(options: &Options) -> usize {
    if options.quick {
        200
    } else {
        NAMES
    }
}

/// Runs the throughput case over every chain and prints its table.
pub fn run(
    out: &mut impl Write,
    options: &Options,
    bench: &mut Bench,
    origin: &Origin,
    pkis: &[&Pki],
) -> Result<Sweep> {
    let names_count = names_count(options);
    let s_time_seconds = if options.quick { 1 } else { S_TIME_SECONDS };
    let sslyze_count = if options.quick { 20 } else { SSLYZE_NAMES };

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
    Ok(Sweep {
        rows,
        defaults,
        best,
    })
}

/// Prints pinprobe's ratios to each peer, per chain, and adds the targets of the default `-j`.
pub fn ratios(out: &mut impl Write, sweep: &Sweep, targets: &mut Targets) -> Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "pinprobe / peer, per chain: throughput (endpoints/s) and client CPU per endpoint"
    )?;
    for (default, top) in sweep.defaults.iter().zip(&sweep.best) {
        // the absolute target: what a sweep costs in CPU, whatever the peers cost
        let (cpu, met) = match default.done {
            0 => ("n/a".to_string(), false),
            _ => (
                format!("{:.3} ms", default.cpu_ms()),
                default.cpu_ms() <= CPU_MS_TARGET,
            ),
        };
        writeln!(
            out,
            "{:<6} {:<30} CPU per endpoint {cpu} {}",
            default.chain,
            default.client,
            verdict(Some((met, format!("<= {CPU_MS_TARGET} ms")))),
        )?;
        targets.push(
            format!(
                "{} CPU per endpoint {cpu} at -j {DEFAULT_J} (<= {CPU_MS_TARGET} ms)",
                default.chain
            ),
            met,
        );
        let mut picks = vec![(default, "default")];
        if top.client != default.client {
            picks.push((top, "best -j"));
        }
        for (pick, label) in picks {
            let name = format!("{} ({label})", pick.client.trim_end_matches(" (default)"));
            for peer in sweep
                .rows
                .iter()
                .filter(|r| r.chain == pick.chain && !r.client.starts_with("pinprobe"))
            {
                let (speed_target, cpu_target) = if peer.client.starts_with("openssl") {
                    (Some(S_TIME_SPEED_TARGET), Some(S_TIME_CPU_TARGET))
                } else if peer.client.starts_with("xargs") {
                    (Some(CURL_SPEED_TARGET), None)
                } else {
                    (None, None)
                };
                if peer.done == 0 || pick.done == 0 {
                    writeln!(
                        out,
                        "{:<6} {name:<30} vs {:<22} n/a: a side completed nothing",
                        pick.chain, peer.client,
                    )?;
                    // a target that could not be measured is not met
                    if label == "default" {
                        if let Some(t) = speed_target {
                            targets.push(
                                format!("{} endpoints/s n/a {} (>= {t}x)", pick.chain, peer.client),
                                false,
                            );
                        }
                        if let Some(t) = cpu_target {
                            targets.push(
                                format!(
                                    "{} CPU per endpoint n/a {} (<= {t}x)",
                                    pick.chain, peer.client
                                ),
                                false,
                            );
                        }
                    }
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
                        targets.push(
                            format!(
                                "{} endpoints/s {speed:.2}x {} ({target})",
                                pick.chain, peer.client
                            ),
                            met,
                        );
                    }
                    if let Some((met, target)) = cpu_check {
                        targets.push(
                            format!(
                                "{} CPU per endpoint {cpu:.2}x {} ({target})",
                                pick.chain, peer.client
                            ),
                            met,
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

/// The run of median throughput.
fn median(mut runs: Vec<Row>) -> Option<Row> {
    runs.sort_by(|a, b| a.per_second().total_cmp(&b.per_second()));
    let middle = runs.len() / 2;
    (!runs.is_empty()).then(|| runs.swap_remove(middle))
}
