//! The memory case: many endpoints with NDJSON against the ECDSA origin, one name each; the
//! peak resident memory of the pinprobe process.

use std::io::Write;

use crate::clients::{names, Bench};
use crate::pki::Pki;
use crate::targets::{verdict, Targets};
use crate::{Result, DEFAULT_J};

/// Names in the memory case.
const MEMORY_NAMES: usize = 10_000;

/// Runs the memory case over `port` (the ECDSA origin), prints it and adds its target.
pub fn run(
    out: &mut impl Write,
    quick: bool,
    bench: &mut Bench,
    ecdsa: &Pki,
    port: u16,
    targets: &mut Targets,
) -> Result<()> {
    let memory_count = if quick { 2_000 } else { MEMORY_NAMES };
    let list = names(memory_count, "m");
    let run = bench.pinprobe(ecdsa, port, &list, None, &[])?;
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
    targets.push(
        format!(
            "peak RSS {rss_mib:.1} MiB for {} endpoints with NDJSON (< 64 MiB)",
            list.len()
        ),
        rss_mib < 64.0 && run.failed().is_none(),
    );
    Ok(())
}
