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
    if let Some(note) = raise_fd_limit(config.concurrency) {
        let _ = writeln!(io::stderr(), "pinprobe: {note}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(run_async(config, Resolver::system(config.resolve.clone())))
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
        advice: config.advice.clone(),
    };
    // lines of --targets that are not endpoints: said once, up front, and counted
    let mut stderr = io::stderr();
    for line in &config.skipped {
        let _ = writeln!(stderr, "pinprobe: {}", Shown(line));
    }
    // a bar on the terminal while the report goes elsewhere (a file, a pipe): never mixed
    // with report lines on the same screen
    let report_to_terminal = config.output.is_none() && io::stdout().is_terminal();
    let progress = Progress::start(jobs.len(), config.progress && !report_to_terminal);
    let context = context.with_progress(progress);
    let mut report = Report::new(out, config.format, config.verbose, info).map_err(write_error)?;
    report.fail_on_warning(config.fail_on_warning);
    report.pin_format(config.pin_format);
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

/// Descriptors a run needs: one socket per probe in flight (two through a proxy in the lab),
/// plus the process's own files.
fn descriptors_needed(concurrency: usize) -> u64 {
    concurrency as u64 * 2 + 64
}

/// Raises the soft limit of open files when `-j` needs more, as far as the hard limit allows;
/// says what it did, or why the run may hit the limit.
pub fn raise_fd_limit(concurrency: usize) -> Option<String> {
    let needed = descriptors_needed(concurrency);
    let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
    if soft >= needed {
        return None;
    }
    let target = needed.min(hard);
    match rlimit::Resource::NOFILE.set(target, hard) {
        Ok(()) if target >= needed => Some(format!(
            "raised the open-file limit from {soft} to {target} for -j {concurrency}"
        )),
        Ok(()) => Some(format!(
            "raised the open-file limit from {soft} to its maximum {target}; -j {concurrency} may need {needed}: lower -j or raise the hard limit"
        )),
        Err(e) => Some(format!(
            "the open-file limit is {soft} and could not be raised ({e}); -j {concurrency} may need {needed}: lower -j"
        )),
    }
}

/// Now, RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
