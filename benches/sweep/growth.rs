//! The memory and growth cases, NDJSON runs of many endpoints against the ECDSA origin.
//!
//! Memory: 10,000 names, one `--resolve` each; the peak resident memory of the pinprobe
//! process. Growth: the same run at 1,000 and at 100,000 endpoints, to show whether memory
//! stays bounded and CPU per endpoint stays flat as the list grows; and one run of the text
//! report (in input order) at the larger count, whose memory is printed for information. The
//! growth runs use one host name with distinct paths, because 100,000 `--resolve` flags do not
//! fit on a command line; both counts use the same form so that they compare.

use std::io::Write;
use std::time::Duration;

use crate::child::{Medians, Run};
use crate::clients::{names, Bench, Job};
use crate::pki::Pki;
use crate::targets::{verdict, Targets};
use crate::{Result, DEFAULT_J};

/// Names in the memory case (`--quick`: 2,000).
const MEMORY_NAMES: usize = 10_000;
const QUICK_MEMORY_NAMES: usize = 2_000;
/// The smaller count, and how many times it runs (a short run's CPU is noisy: the median).
const SMALL: usize = 1_000;
const SMALL_RUNS: usize = 3;
/// The larger count (`--quick`: [`QUICK_LARGE`]).
const LARGE: usize = 100_000;
const QUICK_LARGE: usize = 10_000;
/// Longest one run at the larger count may take: about a minute on 2 cores, with room for a
/// busy machine.
const GROWTH_DEADLINE: Duration = Duration::from_secs(600);
/// The one name of every endpoint (under the leaf's `*.bench.test`).
const GROWTH_NAME: &str = "growth.bench.test";
/// Peak RSS with NDJSON, in the memory case and at the larger count, must stay under this.
const RSS_TARGET_MIB: f64 = 64.0;
/// CPU per endpoint at the larger count over that at the smaller one may be at most this.
const LINEAR_TARGET: f64 = 1.10;

/// Runs the memory and growth cases against `port` (the ECDSA origin), prints them and adds
/// their targets.
pub fn run(
    out: &mut impl Write,
    quick: bool,
    bench: &mut Bench,
    ecdsa: &Pki,
    port: u16,
    targets: &mut Targets,
) -> Result<()> {
    let (what, met) = memory(out, quick, bench, ecdsa, port)?;
    targets.push(what, met);
    out.flush()?;

    let large = if quick { QUICK_LARGE } else { LARGE };
    let mut small_runs = Vec::new();
    let mut small_failure = None;
    for _ in 0..SMALL_RUNS {
        let run = bench.pinprobe_job(ecdsa, &job(port, SMALL, "ndjson"))?;
        match run.failed() {
            None => small_runs.push(run),
            Some(why) => small_failure = small_failure.or(Some(why)),
        }
    }
    let big = bench.pinprobe_job(ecdsa, &job(port, large, "ndjson"))?;
    let text = bench.pinprobe_job(ecdsa, &job(port, large, "text"))?;

    writeln!(out)?;
    writeln!(
        out,
        "growth: https://{GROWTH_NAME}:PORT/ping?n=000001 ..., one --resolve, NDJSON to /dev/null, \
         -j {DEFAULT_J} (default), ECDSA origin"
    )?;
    writeln!(
        out,
        "  {:>9} {:>8} {:>11} {:>15} {:>8}",
        "endpoints", "wall s", "endpoints/s", "CPU ms/endpoint", "RSS MiB"
    )?;
    let small = Medians::of(&small_runs);
    match small {
        Some(m) => line(
            out,
            SMALL,
            &m,
            format!(
                "  (median of {} runs){}",
                small_runs.len(),
                note(small_failure.as_deref())
            ),
        )?,
        None => writeln!(out, "  {SMALL:>9} {}", note(small_failure.as_deref()))?,
    }
    let big_failure = big.failed();
    let big_rss = big.max_rss_kib as f64 / 1024.0;
    let rss_met = big_rss < RSS_TARGET_MIB && big_failure.is_none();
    line(
        out,
        large,
        &single(&big),
        format!(
            "  {}{}",
            verdict(Some((rss_met, format!("< {RSS_TARGET_MIB:.0} MiB")))),
            note(big_failure.as_deref())
        ),
    )?;
    targets.push(
        format!(
            "peak RSS {big_rss:.1} MiB for {large} endpoints with NDJSON (< {RSS_TARGET_MIB:.0} MiB)"
        ),
        rss_met,
    );

    match small.filter(|_| big_failure.is_none()) {
        Some(m) => {
            let ratio = per_endpoint(big.cpu, large) / per_endpoint(m.cpu, SMALL).max(1e-9);
            writeln!(
                out,
                "  CPU per endpoint, {large} / {SMALL}: {ratio:.2}x {}",
                verdict(Some((
                    ratio <= LINEAR_TARGET,
                    format!("<= {LINEAR_TARGET:.2}x")
                )))
            )?;
            targets.push(
                format!("CPU per endpoint at {large} within 10% of {SMALL} ({ratio:.2}x)"),
                ratio <= LINEAR_TARGET,
            );
        }
        None => {
            writeln!(
                out,
                "  CPU per endpoint, {large} / {SMALL}: n/a, a run failed"
            )?;
            targets.push(
                format!("CPU per endpoint at {large} within 10% of {SMALL} (n/a)"),
                false,
            );
        }
    }
    writeln!(
        out,
        "  text report in input order, {large} endpoints: peak RSS {:.1} MiB, {:.2} s, CPU {:.3} ms/endpoint (for information){}",
        text.max_rss_kib as f64 / 1024.0,
        text.wall.as_secs_f64(),
        per_endpoint(text.cpu, large),
        note(text.failed().as_deref())
    )?;
    Ok(())
}

/// The memory case: prints it and returns its target line and whether it was met.
fn memory(
    out: &mut impl Write,
    quick: bool,
    bench: &mut Bench,
    ecdsa: &Pki,
    port: u16,
) -> Result<(String, bool)> {
    let count = if quick {
        QUICK_MEMORY_NAMES
    } else {
        MEMORY_NAMES
    };
    let list = names(count, "m");
    let run = bench.pinprobe(ecdsa, port, &list, None, &[])?;
    let rss_mib = run.max_rss_kib as f64 / 1024.0;
    let met = rss_mib < RSS_TARGET_MIB && run.failed().is_none();
    writeln!(out)?;
    writeln!(
        out,
        "memory: {} endpoints, NDJSON to /dev/null, -j {DEFAULT_J} (default), ECDSA origin: peak RSS {rss_mib:.1} MiB {}; {:.2} s, {:.0} endpoints/s, CPU {:.3} ms/endpoint{}",
        list.len(),
        verdict(Some((met, format!("< {RSS_TARGET_MIB:.0} MiB")))),
        run.wall.as_secs_f64(),
        list.len() as f64 / run.wall.as_secs_f64().max(1e-9),
        per_endpoint(run.cpu, list.len()),
        note(run.failed().as_deref()),
    )?;
    Ok((
        format!(
            "peak RSS {rss_mib:.1} MiB for {} endpoints with NDJSON (< {RSS_TARGET_MIB:.0} MiB)",
            list.len()
        ),
        met,
    ))
}

/// The run over `count` endpoints of one name, distinct paths, in `format`.
fn job(port: u16, count: usize, format: &'static str) -> Job<'static> {
    let mut targets = String::with_capacity(count * 48);
    for i in 1..=count {
        targets.push_str(&format!("https://{GROWTH_NAME}:{port}/ping?n={i:06}\n"));
    }
    Job {
        targets,
        resolve: vec![format!("{GROWTH_NAME}:{port}:127.0.0.1")],
        format,
        concurrency: None,
        wrap: &[],
        limit: GROWTH_DEADLINE,
    }
}

/// One row of the table.
fn line(out: &mut impl Write, count: usize, m: &Medians, after: String) -> Result<()> {
    writeln!(
        out,
        "  {count:>9} {:>8.2} {:>11.0} {:>15.3} {:>8.1}{after}",
        m.wall.as_secs_f64(),
        count as f64 / m.wall.as_secs_f64().max(1e-9),
        per_endpoint(m.cpu, count),
        m.rss_mib(),
    )?;
    Ok(())
}

/// One run, as the medians of itself.
fn single(run: &Run) -> Medians {
    Medians {
        wall: run.wall,
        cpu: run.cpu,
        max_rss_kib: run.max_rss_kib,
    }
}

fn per_endpoint(cpu: Duration, count: usize) -> f64 {
    cpu.as_secs_f64() * 1000.0 / count.max(1) as f64
}

fn note(failure: Option<&str>) -> String {
    failure.map(|f| format!(" ({f})")).unwrap_or_default()
}
