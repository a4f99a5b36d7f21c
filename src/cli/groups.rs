//! The groups of flags, each flattened into the subcommands that read it: how chains are
//! trusted, how endpoints are reached, where the proxy comes from, the profile and pins, and
//! for `test` alone the sweep and its report. A group is flattened in only where every one of
//! its flags is read, so a subcommand never accepts a flag and ignores it.

use std::path::PathBuf;

use clap::Args;
use pinprobe::config::{
    DEFAULT_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_WARN_DAYS,
};

use super::values::{fail_on_names, CatalogArg, FormatArg, GeoArg, OsStoreArg, PinFormatArg};

/// How chains are trusted: `test`, `inspect` (also with `--file`) and `pin`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Trust")]
pub struct TrustArgs {
    /// Extra anchors trusted like the public roots (private PKI, labs); PEM or DER; repeatable
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,

    /// The OS store: SSL_CERT_FILE/SSL_CERT_DIR when set, else the platform's (auto); the
    /// platform's alone; or both
    #[arg(long, value_name = "WHICH", value_enum, default_value_t = OsStoreArg::Auto)]
    pub os_store: OsStoreArg,
}

/// How endpoints are reached: `test`, `inspect` and `pin`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct ReachArgs {
    /// Use ADDR for HOST:PORT instead of DNS, as curl; repeatable
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,

    /// Seconds allowed for DNS, TCP connect and the TLS handshake together
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_CONNECT_TIMEOUT.as_secs_f64())]
    pub connect_timeout: f64,

    /// Hard deadline in seconds for each endpoint, HTTP included
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = DEFAULT_TIMEOUT.as_secs_f64())]
    pub timeout: f64,

    /// Skip the HTTP request after the handshake
    #[arg(long)]
    pub no_http: bool,

    /// HTTP proxy (http://[user:pass@]HOST:PORT); '' ignores the proxy variables of the
    /// environment (HTTPS_PROXY, https_proxy, ALL_PROXY, all_proxy), as curl
    #[arg(short = 'x', long, value_name = "URL")]
    pub proxy: Option<String>,

    /// Hosts, domains, addresses and CIDR blocks to reach without the proxy (comma-separated,
    /// `*` for all); replaces NO_PROXY / no_proxy, as curl
    #[arg(long, value_name = "LIST")]
    pub noproxy: Option<String>,
}

/// Where the proxy comes from when `--proxy` does not say: `test` and `inspect`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Connection")]
pub struct DiscoveryArgs {
    /// Find the proxy of each endpoint with this proxy auto-config file (a path or an http:// URL)
    #[arg(long, value_name = "FILE|URL")]
    pub pac: Option<String>,

    /// Find the PAC file as WPAD clients do over DNS (http://wpad.<domain>/wpad.dat)
    #[arg(long)]
    pub wpad: bool,

    /// Use the system's proxy settings: the environment, and on macOS `scutil --proxy`
    #[arg(long)]
    pub system_proxy: bool,
}

/// The endpoints' profile and the pin sets they are checked against: `test` and `inspect`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Profile and pins")]
pub struct ProfileArgs {
    /// Profile with endpoints and pin sets (TOML); replaces the bundled Defender profile; - for
    /// standard input
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// Extra pin sets (TOML, same format as profiles); repeatable
    #[arg(long, value_name = "FILE")]
    pub pins: Vec<PathBuf>,

    /// Pin set that URL arguments must match (without it, the verdict rests on trust alone)
    #[arg(long, value_name = "NAME")]
    pub pinset: Option<String>,

    /// Warn (expires-soon) about certificates on the verified path expiring within N days
    #[arg(long, value_name = "N", default_value_t = DEFAULT_WARN_DAYS)]
    pub warn_days: u32,
}

/// Which of the profile's endpoints to probe, for a Defender tenant: `test`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Defender tenant")]
pub struct TenantArgs {
    /// The tenant's geography: its streamlined endpoints (or those of --catalog)
    #[arg(
        long,
        value_name = "GEO",
        value_enum,
        ignore_case = true,
        conflicts_with = "onboarding"
    )]
    pub geo: Option<GeoArg>,

    /// Which list of endpoints: guide (the troubleshooting guide's, the default), standard,
    /// streamlined or all; standard and streamlined are per geography
    #[arg(long, value_name = "LIST", value_enum)]
    pub catalog: Option<CatalogArg>,

    /// The tenant's onboarding package (.py, mdatp_onboard.json, .sh, MDM .xml/.plist or
    /// .cmd): geography and catalog are read from it
    #[arg(long, value_name = "FILE")]
    pub onboarding: Option<PathBuf>,

    /// Print the endpoints the run would probe (method, URL, expected status, pin set) and
    /// exit, without connecting
    #[arg(long, conflicts_with_all = ["format", "json", "ndjson", "junit"])]
    pub list: bool,
}

/// Probes at a time: `test` and `pin`.
#[derive(Debug, Args)]
pub struct JobsArgs {
    /// Probes run at the same time
    #[arg(short = 'j', long, value_name = "N", default_value_t = DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
}

/// Which endpoints a sweep probes, and how: `test` only.
#[derive(Debug, Args)]
#[command(next_help_heading = "Sweep")]
pub struct SweepArgs {
    /// More endpoints, one URL or HOST[:PORT] per line (# comments); - for standard input
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// Probe only the K-th of N deterministic slices of the endpoints (for N machines)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// Probe every endpoint both directly and through the proxy, and report them side by side
    #[arg(long)]
    pub compare_direct: bool,

    #[command(flatten)]
    pub jobs: JobsArgs,

    /// No progress bar (it shows only when standard error is a terminal), and no summary line
    /// on standard error
    #[arg(short, long)]
    pub quiet: bool,
}

/// The reports of a sweep: `test` only.
#[derive(Debug, Args)]
#[command(next_help_heading = "Report")]
#[command(group = clap::ArgGroup::new("report_files").multiple(true))]
pub struct ReportArgs {
    /// Format of the report on standard output (or in the -o file)
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,

    /// Write the report to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE", group = "report_files")]
    pub output: Option<PathBuf>,

    /// Also write a JSON report to FILE (with the report of --format)
    #[arg(long, value_name = "FILE", group = "report_files")]
    pub json: Option<PathBuf>,

    /// Also write an NDJSON report to FILE, a line per probe as it finishes
    #[arg(long, value_name = "FILE", group = "report_files")]
    pub ndjson: Option<PathBuf>,

    /// Also write a JUnit XML report to FILE
    #[arg(long, value_name = "FILE", group = "report_files")]
    pub junit: Option<PathBuf>,

    /// Replace the report files (-o, --json, --ndjson, --junit) if they exist (their
    /// permissions are kept)
    #[arg(long, requires = "report_files")]
    pub force: bool,

    /// Show each chain, both paths, the pins and the evidence under each line
    #[arg(short, long)]
    pub verbose: bool,

    /// Also fail the run (exit 1) on these warnings; every verdict other than ok fails it
    /// anyway. Comma-separated, repeatable
    #[arg(long, value_name = "WHAT", value_delimiter = ',', value_parser = fail_on_names())]
    pub fail_on: Vec<String>,

    /// Format of the pins a drifted chain needs, in the report (written for the endpoint's host)
    #[arg(long, value_enum, default_value_t = PinFormatArg::Okhttp)]
    pub pin_format: PinFormatArg,
}
