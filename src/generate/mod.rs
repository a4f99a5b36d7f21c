//! `pinprobe pin`: writes a profile from live chains.
//!
//! Each endpoint is probed once, as `test` does; the pins are those of the verified path (leaf,
//! intermediates, anchor), each labelled with what it is, when it expires and when it was taken.
//! A chain that reaches no public (or `--cacert`) anchor is refused unless `--allow-untrusted`,
//! because pinning an inspecting proxy's CA is the classic mistake: the pins would then accept
//! the interception. One refused endpoint means no profile is written (exit status 1), so a
//! reviewer never gets a file that silently lacks an endpoint.
//!
//! The profile goes to standard output or `-o FILE`; what was pinned, refused or changed goes
//! to standard error, so that standard output stays a clean TOML document.
//!
//! The command's options and entry point are in `crate::cmd::pin`.

mod changes;
pub mod document;
mod profile_file;
mod take;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use toml_edit::DocumentMut;

use crate::config::Config;
use crate::error::Error;
use crate::net::resolve::Resolver;
use crate::output::{self, Existing};
use crate::pins::Pin;
use crate::probe::{self, ProbeResult};
use crate::report::{Shown, Summary};
use crate::run;
use crate::verdict::Verdict;

use changes::count;
use document::{Changes, Pinned, Plan};

pub use profile_file::load_for_update;
pub use take::{take, Refusal, MAX_EXPECT_BODY};

/// A `pin` run, validated: what to probe and how, and where the profile goes.
#[derive(Clone, Debug)]
pub struct Job {
    /// the endpoints to pin, each once, and how to reach them
    pub config: Config,
    /// where the endpoints came from, for the first line on standard error
    pub source: String,
    /// one pin set for every endpoint, with this name
    pub shared_set: Option<String>,
    /// pin a chain that reaches no public (or --cacert) anchor
    pub allow_untrusted: bool,
    /// backup pins added to every set
    pub backups: Vec<Pin>,
    /// the profile to rewrite (as read by [`load_for_update`]) and its path
    pub update: Option<(DocumentMut, PathBuf)>,
    /// where the profile goes: this file, else the `update` file, else standard output
    pub output: Option<PathBuf>,
    /// `--force`: `output` may replace an existing file (the `update` file is always replaced)
    pub force: bool,
}

/// Probes the endpoints of the job and writes the profile. Refused endpoints count as failed
/// (exit status 1) and nothing is written; what was pinned, refused or changed goes to
/// standard error.
pub fn pin(job: Job) -> Result<Summary, Error> {
    let config = &job.config;
    let update_path = job.update.as_ref().map(|(_, path)| path.clone());
    // -o replaces a file only with --force; --update is itself the request to rewrite its file
    let target = match (&job.output, &update_path) {
        (Some(path), _) => Some((path.clone(), Existing::forced(job.force))),
        (None, Some(path)) => Some((path.clone(), Existing::Replace)),
        (None, None) => None,
    };
    if let Some((path, existing)) = &target {
        output::check(path, *existing)?;
    }
    let (results, routes) = probe_all(config)?;
    let taken_on = crate::pins::today();
    let sorted = sort(config, results, job.allow_untrusted, &taken_on);

    let mut err = io::stderr().lock();
    let _ = writeln!(
        err,
        "pinprobe {} pin: {} from {}, {}",
        env!("CARGO_PKG_VERSION"),
        count(config.endpoints.len(), "endpoint"),
        Shown(&job.source),
        Shown(&routes)
    );
    if !sorted.refused.is_empty() {
        let _ = changes::write_refused(
            &mut err,
            &sorted.refused,
            config.endpoints.len(),
            &update_path,
        );
        return Ok(sorted.summary);
    }

    let plan = Plan {
        endpoints: sorted.pinned,
        shared_set: job.shared_set,
        backups: job.backups,
    };
    let target = target
        .as_ref()
        .map(|(path, existing)| (path.as_path(), *existing));
    let changes = write(job.update, target, &plan, &taken_on)?;
    let shown = shown(target.map(|(path, _)| path));
    let _ = changes::write_changes(
        &mut err,
        &changes,
        &plan,
        &sorted.verdicts,
        &shown,
        &update_path,
    );
    Ok(sorted.summary)
}

/// Probes every endpoint once, as `test` does; also says how the endpoints are reached.
fn probe_all(config: &Config) -> Result<(Vec<Option<ProbeResult>>, String), Error> {
    // as `test` does: -j fitted to the open-file limit, said once
    let (concurrency, note) = run::fit_fd_limit(config.concurrency);
    if let Some(note) = note {
        let _ = writeln!(io::stderr(), "pinprobe: {note}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let context = run::context(config, Resolver::system(config.resolve.clone()))?;
    let routes = context.proxies().describe();
    let mut results: Vec<Option<ProbeResult>> = vec![None; config.endpoints.len()];
    runtime.block_on(probe::run_all(
        Arc::new(context),
        config.endpoints.clone(),
        concurrency,
        |index, result| results[index] = Some(result),
    ));
    Ok((results, routes))
}

/// The probes of a run, sorted into what may be pinned and what is refused.
struct Sorted {
    summary: Summary,
    pinned: Vec<Pinned>,
    refused: Vec<Refusal>,
    verdicts: Vec<(String, Verdict)>,
}

fn sort(
    config: &Config,
    results: Vec<Option<ProbeResult>>,
    allow_untrusted: bool,
    taken_on: &str,
) -> Sorted {
    let mut sorted = Sorted {
        summary: Summary::default(),
        pinned: Vec::new(),
        refused: Vec::new(),
        verdicts: Vec::new(),
    };
    for (endpoint, result) in config.endpoints.iter().zip(results) {
        let result = result
            .unwrap_or_else(|| ProbeResult::internal_error(endpoint, "the probe gave no result"));
        *sorted.summary.verdicts.entry(result.verdict).or_default() += 1;
        sorted.summary.total += 1;
        sorted.verdicts.push((endpoint.url.clone(), result.verdict));
        match take(endpoint, &result, allow_untrusted, taken_on) {
            Ok(p) => {
                sorted.summary.ok += 1;
                sorted.pinned.push(p);
            }
            Err(r) => {
                sorted.summary.failed += 1;
                sorted.refused.push(r);
            }
        }
    }
    sorted
}

/// Applies the plan to the profile updated (or to a new one), checks that the result loads,
/// and writes it to the target (standard output when none).
fn write(
    update: Option<(DocumentMut, PathBuf)>,
    target: Option<(&Path, Existing)>,
    plan: &Plan,
    taken_on: &str,
) -> Result<Changes, Error> {
    let (mut doc, update_path) = match update {
        Some((doc, path)) => (doc, Some(path)),
        None => (profile_file::new_document(&plan.endpoints, taken_on), None),
    };
    let changes = document::apply(&mut doc, plan).map_err(|message| Error::File {
        file: update_path
            .as_ref()
            .map_or_else(|| "the new profile".into(), |p| p.display().to_string()),
        message,
    })?;
    let text = doc.to_string();
    // what is written must load, or the reviewer gets a file that pinprobe itself refuses
    profile_file::check_loads(&text, &shown(target.map(|(path, _)| path)))?;
    profile_file::write_profile(target, &text)?;
    Ok(changes)
}

/// The target as the messages name it.
fn shown(target: Option<&Path>) -> String {
    target.map_or_else(
        || "standard output".to_string(),
        |p| p.display().to_string(),
    )
}
