//! The demo case: `pinprobe demo`, which starts its own lab on loopback and runs its 10
//! scenarios, as someone trying pinprobe for the first time would; run after run, each a fresh
//! process.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use crate::child::{measure, Medians};
use crate::clients::Bench;
use crate::pki::Pki;
use crate::targets::{verdict, Targets};
use crate::Result;

/// Runs of the demo.
const DEMO_RUNS: usize = 20;
/// Longest one demo run may take: its scenarios run in well under a second.
const DEMO_DEADLINE: Duration = Duration::from_secs(60);
/// The demo's wall time must stay under this.
const DEMO_TARGET_MS: f64 = 150.0;

/// Runs the demo case, prints it and adds its target. `pki` gives the clients' environment
/// only (the demo's lab has PKIs of its own).
pub fn run(
    out: &mut impl Write,
    bench: &mut Bench,
    pki: &Pki,
    targets: &mut Targets,
) -> Result<()> {
    let mut ok = Vec::new();
    let mut failed = 0;
    let mut first_failure = None;
    // one run first, not counted: the page cache
    for counted in std::iter::once(false).chain([true; DEMO_RUNS]) {
        let dir = bench.run_dir()?;
        let mut cmd = Command::new(&bench.pinprobe);
        cmd.arg("demo");
        bench.client_env(&mut cmd, pki);
        let run = measure(&mut cmd, &dir, DEMO_DEADLINE)?;
        if !counted {
            continue;
        }
        match run.failed() {
            None => ok.push(run),
            Some(why) => {
                failed += 1;
                first_failure.get_or_insert(why);
            }
        }
    }
    let failures = first_failure
        .map(|why| format!(" ({failed} of {DEMO_RUNS} failed: {why})"))
        .unwrap_or_default();
    writeln!(out)?;
    let Some(m) = Medians::of(&ok) else {
        writeln!(
            out,
            "demo: `pinprobe demo`, 10 scenarios on its own loopback lab:{failures}"
        )?;
        targets.push(format!("demo n/a (< {DEMO_TARGET_MS:.0} ms)"), false);
        return Ok(());
    };
    let met = m.wall_ms() < DEMO_TARGET_MS && failed == 0;
    writeln!(
        out,
        "demo: `pinprobe demo`, 10 scenarios on its own loopback lab, median of {DEMO_RUNS} runs: \
         wall {:.1} ms {}, CPU {:.1} ms, RSS {:.1} MiB{failures}",
        m.wall_ms(),
        verdict(Some((
            m.wall_ms() < DEMO_TARGET_MS,
            format!("< {DEMO_TARGET_MS:.0} ms")
        ))),
        m.cpu_ms(),
        m.rss_mib(),
    )?;
    targets.push(
        format!(
            "demo {:.1} ms wall for its 10 scenarios (< {DEMO_TARGET_MS:.0} ms)",
            m.wall_ms()
        ),
        met,
    );
    Ok(())
}
