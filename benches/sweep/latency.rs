//! The latency case: 14 lab servers that answer 200 ms after the handshake; pinprobe over all
//! of them at once, compared with one of them alone and with all of them one after another.

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use pinprobe::lab::{Behaviour, Server};

use crate::child::{measure, Run, CHILD_DEADLINE};
use crate::clients::{names, Bench};
use crate::pki::Pki;
use crate::targets::{verdict, Targets};
use crate::{Result, DEFAULT_J};

/// Endpoints of the latency case, and how long each server waits after the handshake.
const SLOW_ENDPOINTS: usize = 14;
const SLOW_DELAY: Duration = Duration::from_millis(200);
/// Repetitions of each latency measurement; the median is reported.
const LATENCY_RUNS: usize = 3;

/// Runs the latency case, prints it and adds its target.
pub fn run(
    out: &mut impl Write,
    runtime: &tokio::runtime::Runtime,
    bench: &mut Bench,
    pki: &Pki,
    targets: &mut Targets,
) -> Result<()> {
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
    let met = ratio <= 1.3 && one_failed.is_none() && all_failed.is_none();
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
        verdict(Some((met, "<= 1.3x".into()))),
        note(&all_failed)
    )?;
    writeln!(
        out,
        "  all {SLOW_ENDPOINTS}, one after another (-j 1) {:>7.3} s = {:.2}x one endpoint{}",
        sequential.wall.as_secs_f64(),
        sequential.wall.as_secs_f64() / one.as_secs_f64().max(1e-9),
        note(&sequential.failed())
    )?;
    targets.push(
        format!("latency case {ratio:.2}x one endpoint's time (<= 1.3x)"),
        met,
    );
    Ok(())
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
