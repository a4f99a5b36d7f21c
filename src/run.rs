//! A run: the endpoints of a validated `Config` probed concurrently, the results written to
//! each of its reports (see `crate::report`).

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;

use crate::chain::trust::AnchorSet;
use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::evidence::Interceptors;
use crate::net::resolve::Resolver;
use crate::output::Output;
use crate::probe::{self, Context, ProbeResult};
use crate::progress::Progress;
use crate::proxy::Route;
use crate::report::{Format, Report, RunInfo, Shown, Sink, Summary, Target};

/// Probes every endpoint of `config` and writes the report; the summary decides the exit
/// status. Only configuration and output problems are errors.
pub fn run(config: &Config) -> Result<Summary, Error> {
    let (concurrency, note) = fit_fd_limit(config.concurrency);
    if let Some(note) = note {
        let _ = writeln!(io::stderr(), "pinprobe: {note}");
    }
    let runtime = runtime_for(config).map_err(Error::Runtime)?;
    let resolver = Resolver::system(config.resolve.clone());
    runtime.block_on(run_fitted(config, concurrency, resolver))
}

/// The runtime a run needs: one probe runs on the calling thread (a runtime of worker threads
/// would hand its every step from one thread to another, for nothing to run beside it); more
/// run on a worker thread per core.
fn runtime_for(config: &Config) -> io::Result<tokio::runtime::Runtime> {
    let mut builder = if config.probe_count() <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    builder.enable_all().build()
}

/// As `run`, inside a runtime, with the resolver given (tests use one that never leaves the
/// machine).
pub async fn run_async(config: &Config, resolver: Resolver) -> Result<Summary, Error> {
    run_fitted(config, config.concurrency, resolver).await
}

/// As `run_async`, with `concurrency` probes at a time (fitted to the open-file limit) in
/// place of the configuration's.
async fn run_fitted(
    config: &Config,
    concurrency: usize,
    resolver: Resolver,
) -> Result<Summary, Error> {
    let proxies = config.proxy.load(&resolver).await?;
    let context = context(config, resolver)?.with_proxies(proxies);
    // every file is started before the first probe, so that one refused ends the run before it
    // begins; each appears at its path whole, once the run is done
    let mut files = Vec::new();
    for (_, target) in &config.reports {
        if let Target::File(path) = target {
            files.push((path, Output::create(path, config.existing)?));
        }
    }
    let mut opened = files.iter_mut();
    let mut sinks = Vec::new();
    for (format, target) in &config.reports {
        match target {
            Target::Stdout => sinks.push(Sink::new(*format, "standard output", io::stdout())),
            Target::File(path) => {
                if let Some((_, output)) = opened.next() {
                    sinks.push(Sink::new(*format, path.display().to_string(), output));
                }
            }
        }
    }
    let summary = sweep(config, concurrency, context, sinks).await?;
    for (_, output) in files {
        output.commit()?;
    }
    Ok(summary)
}

/// Builds the shared context: provider, both anchor sets (read once), pin sets, names, and
/// the proxy configuration. A warning about the OS store goes to standard error here.
pub fn context(config: &Config, resolver: Resolver) -> Result<Context, Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let public = AnchorSet::public(&config.cacerts)?;
    let os = AnchorSet::os(config.os_store);
    // said once, when the store is read: a run that passed over the keychain is told so
    if let Some(warning) = os.os_report().warning {
        let _ = writeln!(io::stderr(), "pinprobe: warning: {warning}");
    }
    Ok(Context::new(
        provider,
        public,
        os,
        config.pinsets.clone(),
        Interceptors::bundled()?,
        resolver,
        config.settings.clone(),
    )?
    .with_proxies(config.proxy.static_config().clone()))
}

/// The lines of `--targets` that are not endpoints, said once, up front, on standard error
/// (the summary counts them).
pub fn say_skipped(config: &Config) {
    let mut stderr = io::stderr();
    for line in &config.skipped {
        let _ = writeln!(stderr, "pinprobe: {}", Shown(&line.to_string()));
    }
}

/// Runs the probes of `config` with `context` and writes its first report (the one of
/// `--format`) to `out`; `target` names it in errors.
pub async fn run_to<W: Write>(
    config: &Config,
    context: Context,
    out: W,
    target: &str,
) -> Result<Summary, Error> {
    let format = config.reports.first().map_or(Format::Text, |(f, _)| *f);
    run_to_sinks(config, context, vec![Sink::new(format, target, out)]).await
}

/// Runs the probes of `config` with `context` and writes every report to its sink.
pub async fn run_to_sinks(
    config: &Config,
    context: Context,
    sinks: Vec<Sink<'_>>,
) -> Result<Summary, Error> {
    sweep(config, config.concurrency, context, sinks).await
}

/// As `run_to_sinks`, with `concurrency` probes at a time.
async fn sweep(
    config: &Config,
    concurrency: usize,
    context: Context,
    sinks: Vec<Sink<'_>>,
) -> Result<Summary, Error> {
    let job_count = config.probe_count();
    let routes = context.proxies().describe_routes(config.compare_direct);
    let info = RunInfo {
        version: env!("CARGO_PKG_VERSION"),
        profile: config.source.clone(),
        started: now_rfc3339(),
        endpoints: config.endpoint_count(),
        routes,
        compare_direct: config.compare_direct,
        os_store: context.os.os_report(),
        skipped: config.skipped.clone(),
        endpoint_list: config.selection.as_ref().map(|s| s.told.clone()),
        warnings: context.pinned_expired(
            config.endpoint_pinsets(),
            time::OffsetDateTime::now_utc().unix_timestamp(),
        ),
        advice: config.advice.clone(),
    };
    say_skipped(config);
    // a bar on the terminal while the reports go elsewhere (files, a pipe): never mixed with
    // report lines on the same screen
    let report_to_terminal = config
        .reports
        .iter()
        .any(|(_, target)| *target == Target::Stdout)
        && io::stdout().is_terminal();
    let progress = Progress::start(job_count, config.progress && !report_to_terminal);
    let context = context.with_progress(progress);
    let mut report = Report::new(sinks, config.verbose, info)?;
    report.fail_on(config.fail_on.clone());
    report.pin_format(config.pin_format);
    report.pinned_expired(crate::report::prometheus::pinned_expired_counts(
        &context,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    ));
    if config.status_line {
        let files = config
            .reports
            .iter()
            .filter_map(|(_, target)| match target {
                Target::File(path) => Some(path.display().to_string()),
                Target::Stdout => None,
            })
            .collect();
        report.status_to(io::stderr(), files);
    }
    let context = Arc::new(context);
    // the jobs are made as the probes start: a list of 100,000 is never copied whole
    let routing = Arc::clone(&context);
    let jobs = config.each_endpoint().flat_map(move |endpoint| {
        let endpoint = endpoint.into_owned();
        routing
            .proxies()
            .routes_for(&endpoint.host, config.compare_direct)
            .into_iter()
            .map(move |route| (endpoint.clone(), route))
    });
    feed(
        Arc::clone(&context),
        jobs,
        concurrency,
        &mut report,
        |_, _| {},
    )
    .await?;
    context.finish_progress();
    report.finish()
}

/// Runs `jobs` and hands each result to `observe` and then to `report`, in the order the
/// report asks for. The first write error stops the writing (the probes still finish) and is
/// returned.
pub async fn feed(
    context: Arc<Context>,
    jobs: impl IntoIterator<Item = (Endpoint, Route)>,
    concurrency: usize,
    report: &mut Report<'_>,
    mut observe: impl FnMut(usize, &ProbeResult),
) -> Result<(), Error> {
    let mut failed = None;
    let order = report.order();
    probe::run_jobs(context, jobs, concurrency, order, |index, result| {
        observe(index, &result);
        if failed.is_none() {
            if let Err(e) = report.result(index, result) {
                failed = Some(e);
            }
        }
    })
    .await;
    failed.map_or(Ok(()), Err)
}

/// Descriptors one probe in flight may hold: its socket, and the one name resolution may open.
const DESCRIPTORS_PER_PROBE: u64 = 2;

/// Descriptors kept for the process's own files (the runtime, the report, the anchor files).
const DESCRIPTORS_RESERVED: u64 = 64;

/// Descriptors a run needs: those of each probe in flight plus the process's own files.
fn descriptors_needed(concurrency: usize) -> u64 {
    concurrency as u64 * DESCRIPTORS_PER_PROBE + DESCRIPTORS_RESERVED
}

/// The probes that fit in `soft` open files when `open` are already taken: at least one, so a
/// run always makes progress.
fn concurrency_within(soft: u64, open: u64) -> usize {
    let free = soft.saturating_sub(open.max(3) + DESCRIPTORS_RESERVED);
    usize::try_from(free / DESCRIPTORS_PER_PROBE)
        .unwrap_or(usize::MAX)
        .max(1)
}

/// Descriptors this process has open now, where the system says (Linux); else None.
fn open_descriptors() -> Option<u64> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    // the directory being read holds one descriptor of its own
    Some((entries.count() as u64).saturating_sub(1))
}

/// Fits `-j` to the open-file limit: raises the soft limit as far as the hard limit allows,
/// and when that is not enough lowers the concurrency to what fits, so that no probe fails for
/// want of a descriptor. Gives the concurrency to run with and what was done, to say once.
pub fn fit_fd_limit(concurrency: usize) -> (usize, Option<String>) {
    let needed = descriptors_needed(concurrency);
    let Ok((soft, hard)) = rlimit::Resource::NOFILE.get() else {
        return (concurrency, None);
    };
    if soft >= needed {
        return (concurrency, None);
    }
    let target = needed.min(hard);
    let (limit, raised) = match rlimit::Resource::NOFILE.set(target, hard) {
        Ok(()) => (target, None),
        Err(e) => (soft, Some(e)),
    };
    if limit >= needed {
        return (
            concurrency,
            Some(format!(
                "raised the open-file limit from {soft} to {limit} for -j {concurrency}"
            )),
        );
    }
    let open = open_descriptors().unwrap_or(DESCRIPTORS_RESERVED);
    let fits = concurrency_within(limit, open).min(concurrency);
    let how = match raised {
        None if limit > soft => {
            format!("raised the open-file limit from {soft} to its maximum {limit}")
        }
        None => format!("the open-file limit is {limit}, its maximum"),
        Some(e) => format!("the open-file limit is {limit} and could not be raised ({e})"),
    };
    (
        fits,
        Some(format!(
            "{how}; -j {concurrency} needs {needed}: running {fits} probes at a time instead (raise the hard limit, ulimit -Hn, to run more)"
        )),
    )
}

/// Now, RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_concurrency_that_fits_leaves_the_reserve_and_is_never_zero() {
        // (soft limit, descriptors open, probes that fit)
        for (soft, open, fits) in [
            (128, 5, 29),
            (256, 10, 91),
            (1024, 0, 478),
            (64, 10, 1),
            (0, 0, 1),
        ] {
            assert_eq!(
                concurrency_within(soft, open),
                fits,
                "soft {soft}, open {open}"
            );
            assert!(fits == 1 || descriptors_needed(fits) + open <= soft);
        }
    }
}
