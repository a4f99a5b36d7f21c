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
//!
//! The modules: `options` (the flags), `child` (measuring a child with `wait4`), `pki` and
//! `origin` (the server side), `clients` (the commands measured), one module per case
//! (`throughput`, `cold`, `demo`, `latency`, `growth`), and `targets` (the summary).

mod child;
mod clients;
mod cold;
mod demo;
mod growth;
mod latency;
mod options;
mod origin;
mod pki;
mod targets;
mod throughput;

use std::fs;
use std::io::{self, Write};
use std::process::Command;
use std::thread;
use std::time::Instant;

use pinprobe::lab::KeyKind;

use crate::clients::{names, Bench};
use crate::options::Options;
use crate::origin::Origin;
use crate::pki::Pki;
use crate::targets::Targets;
use crate::throughput::ROUNDS;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The default `-j` of pinprobe, as its `--help` says.
const DEFAULT_J: usize = pinprobe::config::DEFAULT_CONCURRENCY;

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

fn run(options: &Options) -> Result<()> {
    let out = &mut io::stdout().lock();
    let started = Instant::now();
    let names_count = throughput::names_count(options);

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

    let sweep = throughput::run(out, options, &mut bench, &origin, &pkis)?;
    let mut targets = Targets::default();
    throughput::ratios(out, &sweep, &mut targets)?;
    out.flush()?;

    cold::run(out, &mut bench, &rsa, origin.ports[0], &mut targets)?;
    out.flush()?;

    demo::run(out, &mut bench, &rsa, &mut targets)?;
    out.flush()?;

    latency::run(out, &runtime, &mut bench, &ecdsa, &mut targets)?;
    out.flush()?;

    growth::run(
        out,
        options.quick,
        &mut bench,
        &ecdsa,
        origin.ports[1],
        &mut targets,
    )?;

    targets.print(out)?;

    drop(origin);
    if options.keep {
        let kept = bench.dir.keep();
        writeln!(out, "\nfiles of every run kept in {}", kept.display())?;
    }
    writeln!(out, "\nbench took {:.0} s", started.elapsed().as_secs_f64())?;
    Ok(())
}
