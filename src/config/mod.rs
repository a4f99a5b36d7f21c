//! The validated configuration of a run, built from plain options (the binary turns its flags
//! into `Options`; the library never sees the flag parser's types).
//!
//! Everything that can be wrong with the input is found here, before any probe starts, and
//! reported with the file, line or flag and the fix.
//!
//! The options as given are in `options`; which endpoints a run probes, from the profile,
//! the URL arguments, `--targets` and `--shard`, is decided in `sweep`; the other checks are
//! here.

mod options;
pub mod pinnedpubkey;
mod sweep;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::chain::trust::OsStoreChoice;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::input;
use crate::net::resolve::Override;
use crate::output;
use crate::pin_formats::PinFormat;
use crate::pins::PinSet;
use crate::policy::FailOn;
use crate::probe::Settings;
use crate::profile::{Profile, BUNDLED_MDE_NAME};
use crate::proxy;
use crate::report::{Format, Target};
use crate::verdict::Advice;

pub use options::{Network, Options};

/// Most concurrent probes accepted by `-j`.
pub const MAX_CONCURRENCY: usize = 4096;

/// Probes at a time unless `-j` says otherwise: enough to keep two cores busy while most
/// probes wait on the network, far below the usual 1024 descriptors.
pub const DEFAULT_CONCURRENCY: usize = 128;

/// DNS, TCP connect and the TLS handshake together, unless `--connect-timeout` says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Each endpoint's deadline, HTTP included, unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Certificates on the verified path expiring within this many days get `expires-soon`,
/// unless `--warn-days` says otherwise.
pub const DEFAULT_WARN_DAYS: u32 = 30;

/// A run, validated.
#[derive(Clone, Debug)]
pub struct Config {
    /// where the endpoints came from, for the report header
    pub source: String,
    /// the endpoints of the profile and of the URL arguments, in order (see
    /// [`Config::each_endpoint`] for all of a run's)
    pub endpoints: Vec<Endpoint>,
    /// the endpoints of `--targets` (of the `--shard` slice), probed after `endpoints`: kept as
    /// their text, made one at a time, so that a list of 100,000 costs a few MiB
    pub targets: crate::targets::Listed,
    /// every pin set: the profile's and those of `--pins`
    pub pinsets: Vec<PinSet>,
    /// `--cacert` files
    pub cacerts: Vec<PathBuf>,
    /// `--os-store`: which stores make up the OS anchor set
    pub os_store: OsStoreChoice,
    /// `--resolve` entries
    pub resolve: Vec<Override>,
    /// the reports of the run, the one of `--format` (to standard output or `-o`) first, then
    /// those of `--json`, `--ndjson` and `--junit`
    pub reports: Vec<(Format, Target)>,
    /// whether the report files may replace existing files (`--force`)
    pub existing: output::Existing,
    /// the one-line summary goes to standard error: no report on standard output says how
    /// the run went, and `-q` was not given
    pub status_line: bool,
    /// details under each line
    pub verbose: bool,
    /// probes at a time
    pub concurrency: usize,
    /// deadlines and switches
    pub settings: Settings,
    /// how the proxy is found: the flags and the environment, or where a PAC file comes from
    /// (loaded when the run starts)
    pub proxy: proxy::Setting,
    /// probe every endpoint directly and through the proxy
    pub compare_direct: bool,
    /// the warnings that fail the run (`--fail-on`)
    pub fail_on: FailOn,
    /// lines of --targets that are not endpoints
    pub skipped: Vec<crate::targets::Skipped>,
    /// show a progress bar when standard error is a terminal
    pub progress: bool,
    /// format of the pins in drift reports
    pub pin_format: PinFormat,
    /// what to do about each verdict, in the profile's words
    pub advice: Advice,
    /// which of the profile's lists is probed, and why, when the profile has several
    pub selection: Option<crate::catalog::Selection>,
}

impl Default for Config {
    /// No endpoint, the defaults of every flag: a base for callers that build a run
    /// themselves (the demo).
    fn default() -> Config {
        Config {
            source: String::new(),
            endpoints: Vec::new(),
            targets: crate::targets::Listed::default(),
            pinsets: Vec::new(),
            cacerts: Vec::new(),
            os_store: OsStoreChoice::Auto,
            resolve: Vec::new(),
            reports: vec![(Format::Text, Target::Stdout)],
            existing: output::Existing::Refuse,
            status_line: false,
            verbose: false,
            concurrency: DEFAULT_CONCURRENCY,
            settings: Settings::default(),
            proxy: proxy::Setting::default(),
            compare_direct: false,
            fail_on: FailOn::default(),
            skipped: Vec::new(),
            progress: false,
            pin_format: PinFormat::Okhttp,
            advice: Advice::default(),
            selection: None,
        }
    }
}

impl Config {
    /// Validates the options: loads the profile and pin files, parses URLs, pins and
    /// `--resolve` entries, and checks every pin set reference.
    ///
    /// The checks run in a fixed order (profile and pins, `--pinnedpubkey`, `--pinset`, the
    /// endpoints, `--shard`, `--resolve`, `-j`, the timeouts, `--cacert`, the proxy, the report
    /// files, `--fail-on`), so that of several mistakes the same one is reported first.
    pub fn from_options(o: &Options) -> Result<Config, Error> {
        input::stdin_once(stdin_uses(o))?;
        let (profile, profile_name) = load_profile(o)?;
        let mut pinsets = pin_sets(&profile, &o.pins)?;
        // from here on, its set is the one --pinset names
        let applied = pinnedpubkey::apply(o, &mut pinsets)?;
        let o: &Options = &applied;
        check_pinset(o.pinset.as_deref(), &pinsets, &profile_name)?;
        let sweep = sweep::endpoints(o, &profile, profile_name, &pinsets)?;
        let resolve = resolve_overrides(&o.resolve)?;
        check_concurrency(o.concurrency)?;
        let settings = settings(o)?;
        check_cacerts(&o.cacert)?;
        let proxy = proxy_setting(o)?;
        let reports = reports(o)?;
        let fail_on = FailOn::parse(&o.fail_on).map_err(|m| Error::usage("--fail-on", m))?;
        // the profile speaks for its own endpoints; ad-hoc URLs and --targets without a profile
        // of the user's are not the bundled profile's service, and get the generic advice
        let adhoc_only = o.profile.is_none() && (!o.urls.is_empty() || o.targets.is_some());
        let advice = if adhoc_only {
            Advice::default()
        } else {
            profile.advice
        };
        Ok(Config {
            source: sweep.source,
            endpoints: sweep.endpoints,
            targets: sweep.targets,
            pinsets,
            cacerts: o.cacert.clone(),
            os_store: o.os_store,
            resolve,
            status_line: !o.quiet && status_wanted(&reports),
            reports,
            existing: output::Existing::forced(o.force),
            verbose: o.verbose,
            concurrency: o.concurrency,
            settings,
            proxy,
            compare_direct: o.compare_direct,
            fail_on,
            skipped: sweep.skipped,
            progress: !o.quiet,
            pin_format: o.pin_format,
            advice,
            selection: sweep.selection,
        })
    }
}

/// The reports of a run: the one of `--format`, to `-o FILE` or standard output, then those of
/// `--json`, `--ndjson` and `--junit`, each to its file. Two reports may not share a file.
fn reports(o: &Options) -> Result<Vec<(Format, Target)>, Error> {
    let first = match &o.output {
        Some(path) => Target::File(path.clone()),
        None => Target::Stdout,
    };
    let mut reports = vec![(o.format, first)];
    let mut files: Vec<(&str, &Path)> = o.output.iter().map(|p| ("-o", p.as_path())).collect();
    for (flag, format, path) in [
        ("--json", Format::Json, &o.json),
        ("--ndjson", Format::Ndjson, &o.ndjson),
        ("--junit", Format::Junit, &o.junit),
    ] {
        let Some(path) = path else {
            continue;
        };
        if let Some((other, _)) = files.iter().find(|(_, p)| same_file(p, path)) {
            return Err(Error::usage(
                flag,
                format!(
                    "{} is the file of {other} too: give each report its own file",
                    path.display()
                ),
            ));
        }
        files.push((flag, path));
        reports.push((format, Target::File(path.clone())));
    }
    Ok(reports)
}

/// Whether two paths name the same file, as far as can be told before either exists: the
/// same absolute path, or the same file on disk.
fn same_file(a: &Path, b: &Path) -> bool {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if absolute(a) == absolute(b) {
        return true;
    }
    matches!(
        (std::fs::canonicalize(a), std::fs::canonicalize(b)),
        (Ok(x), Ok(y)) if x == y
    )
}

/// True when no report on standard output says how the run went (the text report and the
/// summary line do; JSON, NDJSON and JUnit are read by programs, and `-o` leaves standard
/// output empty): the one-line summary then goes to standard error.
fn status_wanted(reports: &[(Format, Target)]) -> bool {
    !reports.iter().any(|(format, target)| {
        *target == Target::Stdout && matches!(format, Format::Text | Format::Summary)
    })
}

/// The profile's pin sets and those of `--pins`, checked: no name defined twice, and every
/// pin set the profile's endpoints name exists.
fn pin_sets(profile: &Profile, pins: &[PathBuf]) -> Result<Vec<PinSet>, Error> {
    let mut extra: Vec<PinSet> = Vec::new();
    for path in pins {
        let file = Profile::load(path, input::PINS)?;
        for set in file.pinsets {
            if let Some(first) = profile
                .pinsets
                .iter()
                .chain(&extra)
                .find(|s| s.name == set.name)
            {
                return Err(Error::File {
                    file: path.display().to_string(),
                    message: format!(
                        "pin set {:?} is already defined in {}: rename one of them",
                        set.name, first.origin
                    ),
                });
            }
            extra.push(set);
        }
    }
    profile.check_refs(&extra)?;
    let mut pinsets = profile.pinsets.clone();
    pinsets.extend(extra);
    Ok(pinsets)
}

/// `--pinset NAME` names one of the pin sets.
fn check_pinset(pinset: Option<&str>, pinsets: &[PinSet], profile_name: &str) -> Result<(), Error> {
    let Some(name) = pinset else {
        return Ok(());
    };
    if pinsets.iter().any(|s| s.name == name) {
        return Ok(());
    }
    let mut names: Vec<&str> = pinsets.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    Err(Error::usage(
        "--pinset",
        format!(
            "no pin set is named {name:?}: use one of {} (from {} and --pins)",
            names.join(", "),
            profile_name
        ),
    ))
}

/// The `--resolve HOST:PORT:ADDR` entries, parsed.
fn resolve_overrides(entries: &[String]) -> Result<Vec<Override>, Error> {
    entries
        .iter()
        .map(|r| Override::parse(r).map_err(|m| Error::usage("--resolve", m)))
        .collect()
}

/// `-j N` is within 1 to [`MAX_CONCURRENCY`].
fn check_concurrency(concurrency: usize) -> Result<(), Error> {
    if concurrency == 0 || concurrency > MAX_CONCURRENCY {
        return Err(Error::usage(
            "--concurrency",
            format!("{concurrency} is out of range: give 1 to {MAX_CONCURRENCY}"),
        ));
    }
    Ok(())
}

/// Each probe's settings: the timeouts, checked, `--no-http` and `--warn-days`.
fn settings(o: &Options) -> Result<Settings, Error> {
    Ok(Settings {
        connect_timeout: seconds("--connect-timeout", o.connect_timeout)?,
        timeout: seconds("--timeout", o.timeout)?,
        http: !o.no_http,
        warn_days: o.warn_days,
    })
}

fn seconds(flag: &str, value: f64) -> Result<Duration, Error> {
    if !value.is_finite() || value <= 0.0 || value > 86_400.0 {
        return Err(Error::usage(
            flag,
            format!("{value} is not a usable number of seconds: give a value above 0 and at most 86400, e.g. {flag} 10"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Every `--cacert` is a file (it is read when the run starts).
/// The flags of `o` that read a file, and their paths: each may be `-`, standard input.
pub fn stdin_uses(o: &Options) -> Vec<(&'static str, &Path)> {
    let mut uses: Vec<(&str, &Path)> = Vec::new();
    uses.extend(o.onboarding.iter().map(|p| ("--onboarding", p.as_path())));
    uses.extend(o.profile.iter().map(|p| ("--profile", p.as_path())));
    uses.extend(o.pins.iter().map(|p| ("--pins", p.as_path())));
    uses.extend(o.targets.iter().map(|p| ("--targets", p.as_path())));
    uses.extend(o.cacert.iter().map(|p| ("--cacert", p.as_path())));
    uses.extend(o.pac.iter().map(|p| ("--pac", Path::new(p.as_str()))));
    uses.extend(
        o.pinnedpubkey
            .iter()
            .filter_map(|v| pinnedpubkey::key_file(v))
            .map(|p| ("--pinnedpubkey", p)),
    );
    uses
}

fn check_cacerts(paths: &[PathBuf]) -> Result<(), Error> {
    for path in paths {
        if !path.is_file() && !input::is_stdin(path) {
            return Err(Error::usage(
                "--cacert",
                format!(
                    "{} is not a readable file: give a PEM or DER certificate file",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// How the proxy is found, from the flags and the environment; `--compare-direct` needs a
/// proxy to compare with.
fn proxy_setting(o: &Options) -> Result<proxy::Setting, Error> {
    let proxy = proxy::Setting::from_flags(
        proxy::Flags {
            proxy: o.proxy.as_deref(),
            noproxy: o.noproxy.as_deref(),
            pac: o.pac.as_deref(),
            wpad: o.wpad,
            system: o.system_proxy,
        },
        |name| std::env::var(name).ok(),
    )?;
    if o.compare_direct && !proxy.may_use_proxy() {
        return Err(Error::usage(
            "--compare-direct",
            "there is no proxy to compare with: give --proxy URL or set HTTPS_PROXY",
        ));
    }
    Ok(proxy)
}

/// The profile the options name (the bundled Defender profile unless `--profile`) and the
/// name it is reported under.
pub fn load_profile(o: &Options) -> Result<(Profile, String), Error> {
    match &o.profile {
        Some(path) => Ok((Profile::load(path, input::PROFILE)?, input::name(path))),
        None => Ok((Profile::bundled()?, BUNDLED_MDE_NAME.to_string())),
    }
}

impl Config {
    /// How many endpoints the run probes: `endpoints` and those of `--targets`.
    pub fn endpoint_count(&self) -> usize {
        self.endpoints.len() + self.targets.len()
    }

    /// How many probes the run makes: each endpoint on each of its routes.
    pub fn probe_count(&self) -> usize {
        self.endpoint_count() * crate::proxy::ProxyConfig::routes_per_endpoint(self.compare_direct)
    }

    /// Every endpoint of the run, in order: `endpoints`, then those of `--targets`, each made
    /// when it is taken.
    pub fn each_endpoint(&self) -> impl Iterator<Item = Cow<'_, Endpoint>> {
        self.endpoints
            .iter()
            .map(Cow::Borrowed)
            .chain(self.targets.iter().map(Cow::Owned))
    }

    /// The pin sets the endpoints of the run name, each at least once.
    pub fn endpoint_pinsets(&self) -> impl Iterator<Item = &str> {
        self.endpoints
            .iter()
            .filter_map(|e| e.pinset.as_deref())
            .chain(self.targets.pinset().filter(|_| !self.targets.is_empty()))
    }

    /// A configuration for analysing a chain read from a file, with no endpoint to probe: the
    /// pin sets, `--pinset`, `--cacert` and the other flags are validated as by
    /// [`Config::from_options`], whose `--pinset` check needs a URL argument; a stand-in URL
    /// is given to it and its endpoint dropped.
    pub fn for_chain(o: &Options) -> Result<Config, Error> {
        let stand_in = Options {
            urls: vec!["https://chain.invalid/".to_string()],
            ..o.clone()
        };
        let mut config = Config::from_options(&stand_in)?;
        config.endpoints.clear();
        config.targets = crate::targets::Listed::default();
        config.source = load_profile(o)?.1;
        Ok(config)
    }
}
