//! A run: the endpoints of a validated `Config` probed concurrently, the results written as a
//! report in input order.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;

use crate::chain::trust::AnchorSet;
use crate::config::Config;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::evidence::Interceptors;
use crate::net::resolve::Resolver;
use crate::output::Output;
use crate::probe::{self, Context, Order, ProbeResult};
use crate::progress::Progress;
use crate::proxy::Route;
use crate::report::{Report, RunInfo, Shown, Summary};

/// Probes every endpoint of `config` and writes the report; the summary decides the exit
/// status. Only configuration and output problems are errors.
pub fn run(config: &Config) -> Result<Summary, Error> {
    let (concurrency, note) = fit_fd_limit(config.concurrency);
    if let Some(note) = note {
        let _ = writeln!(io::stderr(), "pinprobe: {note}");
    }
    let config = Config {
        concurrency,
        ..config.clone()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(run_async(&config, Resolver::system(config.resolve.clone())))
}

/// As `run`, inside a runtime, with the resolver given (tests use one that never leaves the
/// machine).
pub async fn run_async(config: &Config, resolver: Resolver) -> Result<Summary, Error> {
    let proxies = config.proxy.load(&resolver).await?;
    let context = context(config, resolver)?.with_proxies(proxies);
    match &config.output {
        Some(path) => {
            // the report appears at its path whole, once the run is done
            let mut output = Output::create(path, config.existing)?;
            let summary = run_to(config, context, &mut output, &path.display().to_string()).await?;
            output.commit()?;
            Ok(summary)
        }
        None => run_to(config, context, io::stdout(), "standard output").await,
    }
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
        let _ = writeln!(stderr, "pinprobe: {}", Shown(line));
    }
}

/// Runs the probes of `config` with `context` and writes the report to `out`.
pub async fn run_to<W: Write>(
    config: &Config,
    context: Context,
    out: W,
    target: &str,
) -> Result<Summary, Error> {
    let write_error = |source: io::Error| Error::Write {
        target: target.to_string(),
        source,
    };
    let mut jobs = Vec::new();
    for endpoint in &config.endpoints {
        for route in context
            .proxies()
            .routes_for(&endpoint.host, config.compare_direct)
        {
            jobs.push((endpoint.clone(), route));
        }
    }
    let routes = context.proxies().describe_routes(config.compare_direct);
    let info = RunInfo {
        version: env!("CARGO_PKG_VERSION"),
        profile: config.source.clone(),
        started: now_rfc3339(),
        endpoints: config.endpoints.len(),
        routes,
        compare_direct: config.compare_direct,
        os_store: context.os.os_report(),
        skipped: config.skipped.clone(),
        endpoint_list: config.selection.as_ref().map(|s| s.told.clone()),
        warnings: context.pinned_expired(
            config.endpoints.iter().filter_map(|e| e.pinset.as_deref()),
            time::OffsetDateTime::now_utc().unix_timestamp(),
        ),
        advice: config.advice.clone(),
    };
    say_skipped(config);
    // a bar on the terminal while the report goes elsewhere (a file, a pipe): never mixed
    // with report lines on the same screen
    let report_to_terminal = config.output.is_none() && io::stdout().is_terminal();
    let progress = Progress::start(jobs.len(), config.progress && !report_to_terminal);
    let context = context.with_progress(progress);
    let mut report = Report::new(out, config.format, config.verbose, info).map_err(write_error)?;
    report.fail_on_warning(config.fail_on_warning);
    report.pin_format(config.pin_format);
    report.pinned_expired(crate::report::prometheus::pinned_expired_counts(
        &context,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    ));
    let context = Arc::new(context);
    // NDJSON writes each result as it finishes; the others keep the order of the endpoints
    let order = match config.format {
        crate::report::Format::Ndjson => Order::Completion,
        _ => Order::Input,
    };
    feed(
        Arc::clone(&context),
        jobs,
        config.concurrency,
        order,
        &mut report,
        |_, _| {},
    )
    .await
    .map_err(write_error)?;
    context.finish_progress();
    let mut summary = report.finish().map_err(write_error)?;
    summary.skipped = config.skipped.len();
    Ok(summary)
}

/// Runs `jobs` and hands each result, in input order, to `observe` and then to `report`. The
/// first write error stops the writing (the probes still finish) and is returned.
pub async fn feed<W: Write>(
    context: Arc<Context>,
    jobs: Vec<(Endpoint, Route)>,
    concurrency: usize,
    order: Order,
    report: &mut Report<W>,
    mut observe: impl FnMut(usize, &ProbeResult),
) -> io::Result<()> {
    let mut failed = None;
    probe::run_jobs(context, jobs, concurrency, order, |index, result| {
        observe(index, &result);
        if failed.is_none() {
            if let Err(e) = report.result(result) {
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
