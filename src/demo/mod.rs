//! `pinprobe demo`: a simulated lab on 127.0.0.1 that shows each verdict with the real probe.
//!
//! Its world (`world`) is set up with the loopback lab of the integration tests (`crate::lab`):
//! a genuine origin under a lab "public" root, an inspecting middlebox whose CA sits in a lab OS
//! store, a middlebox named like a known interception product, one that resets handshakes, an
//! origin whose key rotated under a leaf pin, and proxies that forward or ask for credentials.
//! The scenario URLs are the real Defender endpoints of the bundled profile, mapped to the
//! lab's loopback ports; the probes, the verdicts and the report are those of `pinprobe test`.
//! The demo then checks every verdict against the one its scenario expects, so a change that
//! breaks a verdict breaks the demo's exit status too.
//! The command's options and entry point are in `crate::cmd::demo`.

pub mod scenario;
mod world;

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::Config;
use crate::error::Error;
use crate::evidence::Interceptors;
use crate::probe::{Context, Settings};
use crate::profile::Profile;
use crate::proxy::Route;
use crate::report::{Format, Quiet, Report, RunInfo, Sink, Summary, Target};
use crate::run::{self, now_rfc3339};
use crate::verdict::Verdict;

pub use scenario::{Backend, Scenario, Via, SCENARIOS};

/// Deadline for DNS, TCP and the handshake: loopback answers in milliseconds.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Deadline for each probe.
const TIMEOUT: Duration = Duration::from_secs(5);

/// What the report header says the endpoints come from.
const SOURCE: &str = "the demo lab on 127.0.0.1 (simulation; URLs from pins/mde.toml)";

/// The banner above the text report.
const BANNER: &str = "\
SIMULATION: pinprobe demo
  Every server below runs inside this process on 127.0.0.1: no traffic leaves the machine.
  The URLs are the real Defender endpoints of pins/mde.toml, answered by lab servers on
  loopback ports. The \"public\" root and the OS store are lab stand-ins made for this run;
  the machine's own trust store is neither read nor changed.";

/// One scenario's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// the scenario's URL
    pub url: String,
    /// what answered there
    pub answered_by: String,
    /// the lab server's address
    pub server: SocketAddr,
    /// the verdict the scenario expects
    pub expected: Verdict,
    /// the verdict the probe gave
    pub got: Verdict,
    /// `got == expected`
    pub ok: bool,
}

/// The `demo` object of the JSON document.
#[derive(Serialize)]
struct DemoSection<'a> {
    simulation: bool,
    note: &'static str,
    scenarios: &'a [Check],
    expected_verdicts: usize,
    mismatches: usize,
}

/// Runs the demo inside a runtime, writing its report in `format` (text or json) to `out`
/// (`target` names it in errors).
///
/// The summary counts scenarios, not endpoints: `failed` is the number of scenarios whose
/// verdict differs from the expected one, so the exit status is 0 exactly when every
/// scenario gave its expected verdict.
pub async fn run_to<W: Write>(
    format: Format,
    verbose: bool,
    out: W,
    target: &str,
) -> Result<Summary, Error> {
    let (summary, _) = run_checked(format, verbose, out, target).await?;
    Ok(summary)
}

/// As [`run_to`], also returning each scenario's check.
pub async fn run_checked<W: Write>(
    format: Format,
    verbose: bool,
    out: W,
    target: &str,
) -> Result<(Summary, Vec<Check>), Error> {
    let write_error = |source: io::Error| Error::Write {
        target: target.to_string(),
        source,
    };
    let world = world::World::start(SCENARIOS).await?;
    let config = config(&world, format, verbose)?;
    let context = Context::new(
        Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        world.public,
        world.os,
        config.pinsets.clone(),
        Interceptors::bundled()?,
        world.resolver,
        config.settings.clone(),
    )?;

    let mut out = Quiet::new(out);
    if format == Format::Text {
        scenario_table(&mut out).map_err(write_error)?;
    }
    // JSON: the report's document is completed with the demo's object before it is written
    let mut document = Vec::new();
    let sink: &mut dyn Write = match format {
        Format::Text => &mut out,
        // `cmd::demo::run` admits text and json only
        Format::Json | Format::Ndjson | Format::Junit | Format::Prometheus | Format::Summary => {
            &mut document
        }
    };
    let (report_summary, got) = probe(context, &config, world.routes, format, sink).await?;

    let checks = checks(&world.addresses, got);
    let mismatches = checks.iter().filter(|c| !c.ok).count();
    write_checks(&mut out, format, &document, &checks, mismatches).map_err(write_error)?;

    let summary = Summary {
        total: checks.len(),
        ok: checks.len() - mismatches,
        failed: mismatches,
        verdicts: report_summary.verdicts,
        ..Summary::default()
    };
    Ok((summary, checks))
}

/// The run's configuration: the world's endpoints and pin sets, probed all at once with the
/// demo's short deadlines.
fn config(world: &world::World, format: Format, verbose: bool) -> Result<Config, Error> {
    Ok(Config {
        source: SOURCE.into(),
        endpoints: world.endpoints.clone(),
        pinsets: world.pinsets.clone(),
        reports: vec![(format, Target::Stdout)],
        verbose,
        concurrency: SCENARIOS.len().max(1),
        settings: Settings {
            connect_timeout: CONNECT_TIMEOUT,
            timeout: TIMEOUT,
            ..Settings::default()
        },
        // the scenarios are the Defender endpoints: the bundled profile's advice is theirs
        advice: Profile::bundled()?.advice,
        ..Config::default()
    })
}

/// Probes every scenario on its route, writing the report to `sink`. Returns the report's
/// summary and each scenario's verdict, in scenario order (`None` where no result came).
async fn probe(
    context: Context,
    config: &Config,
    routes: Vec<Route>,
    format: Format,
    sink: &mut dyn Write,
) -> Result<(Summary, Vec<Option<Verdict>>), Error> {
    let info = RunInfo {
        version: env!("CARGO_PKG_VERSION"),
        profile: config.source.clone(),
        started: now_rfc3339(),
        endpoints: config.endpoints.len(),
        routes: "directly or through lab proxies on 127.0.0.1".into(),
        compare_direct: false,
        os_store: context.os.os_report(),
        skipped: Vec::new(),
        endpoint_list: None,
        warnings: Vec::new(),
        advice: config.advice.clone(),
    };
    let mut got = vec![None; SCENARIOS.len()];
    let sinks = vec![Sink::new(format, "standard output", sink)];
    let mut report = Report::new(sinks, config.verbose, info)?;
    let jobs: Vec<_> = config.endpoints.iter().cloned().zip(routes).collect();
    run::feed(
        Arc::new(context),
        jobs,
        config.concurrency,
        &mut report,
        |index, result| {
            if let Some(slot) = got.get_mut(index) {
                *slot = Some(result.verdict);
            }
        },
    )
    .await?;
    Ok((report.finish()?, got))
}

/// Each scenario's check: the verdict it got against the one it expects.
fn checks(addresses: &[SocketAddr], got: Vec<Option<Verdict>>) -> Vec<Check> {
    SCENARIOS
        .iter()
        .zip(addresses)
        .zip(got)
        .map(|((s, addr), got)| {
            // every endpoint gets a result; a missing one would be a bug of the run
            let got = got.unwrap_or(Verdict::InternalError);
            Check {
                url: s.url.into(),
                answered_by: s.answered_by.into(),
                server: *addr,
                expected: s.expected,
                got,
                ok: got == s.expected,
            }
        })
        .collect()
}

/// Writes the checks after the report: check lines after the text report, or the JSON
/// `document` with the demo object added.
fn write_checks(
    out: &mut impl Write,
    format: Format,
    document: &[u8],
    checks: &[Check],
    mismatches: usize,
) -> io::Result<()> {
    match format {
        Format::Text => check_lines(out, checks, mismatches)?,
        Format::Json | Format::Ndjson | Format::Junit | Format::Prometheus | Format::Summary => {
            let section = DemoSection {
                simulation: true,
                note: "every server ran inside pinprobe on 127.0.0.1; the public root and the OS store were lab stand-ins",
                scenarios: checks,
                expected_verdicts: checks.len() - mismatches,
                mismatches,
            };
            out.write_all(&with_demo(document, &section)?)?;
        }
    }
    out.flush()
}

/// The banner and the scenario table, before the report.
fn scenario_table(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{BANNER}")?;
    writeln!(out)?;
    let width = SCENARIOS.iter().map(|s| s.url.len()).max().unwrap_or(0);
    let verdicts = SCENARIOS
        .iter()
        .map(|s| s.expected.code().len())
        .max()
        .unwrap_or(0);
    writeln!(
        out,
        "  {:<width$}  {:<verdicts$}  answered by",
        "URL", "expected"
    )?;
    for s in SCENARIOS {
        writeln!(
            out,
            "  {:<width$}  {:<verdicts$}  {}",
            s.url,
            s.expected.code(),
            s.answered_by
        )?;
    }
    writeln!(out)
}

/// One line per scenario and the result, after the report.
fn check_lines(out: &mut impl Write, checks: &[Check], mismatches: usize) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "Demo check (simulation):")?;
    for c in checks {
        writeln!(
            out,
            "  {}: expected {}, got {}: {}",
            c.url,
            c.expected,
            c.got,
            if c.ok { "ok" } else { "MISMATCH" }
        )?;
    }
    if mismatches == 0 {
        writeln!(
            out,
            "SIMULATION: all {} scenarios gave their expected verdict",
            checks.len()
        )
    } else {
        writeln!(
            out,
            "SIMULATION: {mismatches} of {} scenarios did not give their expected verdict",
            checks.len()
        )
    }
}

/// The report's JSON document with the `demo` object added as its last member.
///
/// The object is spliced into the text rather than re-serialising a parsed document: serde_json
/// keeps no key order once parsed here, and the rest of the document stays exactly what
/// `pinprobe --format json` writes.
fn with_demo(document: &[u8], section: &DemoSection<'_>) -> io::Result<Vec<u8>> {
    let text = std::str::from_utf8(document).map_err(io::Error::other)?;
    let body = text
        .trim_end()
        .strip_suffix('}')
        .ok_or_else(|| io::Error::other("the JSON report is not an object"))?
        .trim_end();
    // JSON strings hold no raw line breaks, so indenting after each one is safe
    let demo = serde_json::to_string_pretty(section)
        .map_err(io::Error::other)?
        .replace('\n', "\n  ");
    let joined = format!("{body},\n  \"demo\": {demo}\n}}\n");
    serde_json::from_str::<serde::de::IgnoredAny>(&joined).map_err(io::Error::other)?;
    Ok(joined.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn every_scenario_is_an_endpoint_of_the_bundled_profile() {
        let profile = Profile::bundled().unwrap();
        for s in SCENARIOS {
            assert!(
                profile.endpoints.iter().any(|e| e.url == s.url),
                "{} is not in pins/mde.toml",
                s.url
            );
        }
        let mut urls: Vec<&str> = SCENARIOS.iter().map(|s| s.url).collect();
        urls.sort_unstable();
        urls.dedup();
        assert_eq!(urls.len(), SCENARIOS.len(), "a URL is used twice");
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn every_scenario_gives_its_expected_verdict() {
        for format in [Format::Text, Format::Json] {
            let mut out = Vec::new();
            let (summary, checks) = run_checked(format, true, &mut out, "memory").await.unwrap();
            let text = String::from_utf8(out).unwrap();
            for c in &checks {
                assert_eq!(c.got, c.expected, "{}\n{text}", c.url);
                assert!(c.server.ip().is_loopback());
            }
            assert_eq!((summary.total, summary.failed), (SCENARIOS.len(), 0));
        }
    }

    #[test]
    fn the_demo_object_is_added_to_the_document() {
        let document = b"{\n  \"summary\": {\n    \"total\": 1\n  },\n  \"results\": []\n}\n";
        let checks = [Check {
            url: "https://a.test/ping".into(),
            answered_by: "lab".into(),
            server: "127.0.0.1:4433".parse().unwrap(),
            expected: Verdict::Ok,
            got: Verdict::Timeout,
            ok: false,
        }];
        let section = DemoSection {
            simulation: true,
            note: "n",
            scenarios: &checks,
            expected_verdicts: 0,
            mismatches: 1,
        };
        let joined = with_demo(document, &section).unwrap();
        let text = String::from_utf8(joined).unwrap();
        assert!(text.starts_with("{\n  \"summary\": {\n    \"total\": 1\n  },\n  \"results\": [],\n  \"demo\": {\n    \"simulation\": true,"), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["demo"]["scenarios"][0]["got"], "timeout");
        assert_eq!(value["summary"]["total"], 1);
        assert!(with_demo(b"[]", &section).is_err());
    }
}
