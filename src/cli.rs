//! The command line: clap definitions and their translation into the options of
//! `pinprobe::cmd`.
//!
//! Each subcommand has its own `Args`, built from the groups of flags it reads (how chains are
//! trusted, how endpoints are reached, where the proxy comes from, the profile, ...), so a flag
//! it would ignore is a usage error (exit status 2) and its `--help` lists only its flags.
//! Defaults come from the consts of `pinprobe::config`, which the library uses too.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use pinprobe::cmd;
use pinprobe::config::{
    Network, DEFAULT_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_WARN_DAYS,
};
use pinprobe::pin_formats::PinFormat;
use pinprobe::report::Format;

/// Finds out why a pinned TLS connection fails, and who is intercepting it.
///
/// With no arguments, probes the 14 Microsoft Defender for Endpoint cloud endpoints of the
/// bundled profile, as `mdatp connectivity test` does, and explains every failure.
#[derive(Debug, Parser)]
#[command(name = "pinprobe", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub test: TestArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe the endpoints (the default command)
    Test(TestArgs),
    /// Show everything about one endpoint's chain, or a chain saved in a PEM file
    Inspect(InspectArgs),
    /// Run a simulated lab on 127.0.0.1 and show each verdict (no network needed)
    Demo(DemoArgs),
    /// Write a profile (TOML) with the pins of live chains
    Pin(PinArgs),
    /// Work with pin files of other tools
    Pins(PinsArgs),
}

/// The command to run, with its options for the library.
pub enum Run {
    Test(cmd::test::Options),
    Inspect(cmd::inspect::Options),
    Demo(cmd::demo::Options),
    Pin(cmd::pin::Options),
    Convert(cmd::convert::Options),
}

/// Parses the process's arguments; a usage error ends the process with exit status 2.
pub fn parse() -> Run {
    parse_from(std::env::args_os().collect())
}

fn parse_from(args: Vec<OsString>) -> Run {
    let matches = Cli::command()
        .try_get_matches_from(args.clone())
        .unwrap_or_else(|e| with_tip(e, &args).exit());
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    match cli.command {
        Some(Command::Test(test)) => Run::Test(test.options()),
        None => Run::Test(cli.test.options()),
        Some(Command::Inspect(args)) => Run::Inspect(args.options()),
        Some(Command::Demo(args)) => Run::Demo(args.options()),
        Some(Command::Pin(args)) => Run::Pin(args.options()),
        Some(Command::Pins(PinsArgs {
            command: PinsCommand::Convert(args),
        })) => Run::Convert(args.options()),
    }
}

/// Why a subcommand does not take a flag of `test`, and what to do instead.
const TIPS: &[(&str, &[&str], &str)] = &[
    (
        "inspect",
        &["--targets", "--shard", "--concurrency", "-j", "--quiet", "-q", "--fail-on"],
        "inspect looks at one endpoint; sweeps of many are `pinprobe test`'s",
    ),
    (
        "inspect",
        &["--compare-direct"],
        "inspect looks at one route; run `pinprobe test --compare-direct URL` to compare routes",
    ),
    (
        "inspect",
        &["--verbose", "-v", "--pin-format"],
        "inspect always shows every detail, with pins in base64 and hex",
    ),
    (
        "pin",
        &["--profile"],
        "pin writes a profile: to rewrite an existing one, give it with --update FILE",
    ),
    (
        "pin",
        &["--pinset"],
        "pin writes pin sets: to put every endpoint in one set, use --shared-set NAME",
    ),
    (
        "pin",
        &["--format", "--verbose", "-v", "--pin-format"],
        "pin writes a TOML profile, and what it pinned to standard error; reports are `pinprobe test`'s",
    ),
    (
        "pin",
        &["--compare-direct"],
        "pin takes the chain of one route; run `pinprobe test --compare-direct URL` to compare routes",
    ),
];

/// Adds to an unknown-flag error the reason its subcommand does not take a flag of `test`.
/// Flags go after the subcommand, so the subcommand is the first argument.
fn with_tip(mut error: clap::Error, args: &[OsString]) -> clap::Error {
    if error.kind() != ErrorKind::UnknownArgument {
        return error;
    }
    let Some(ContextValue::String(given)) = error.get(ContextKind::InvalidArg) else {
        return error;
    };
    // `--shard=1/2` is reported with its value
    let flag = given.split('=').next().unwrap_or_default().to_string();
    let subcommand = args.get(1).and_then(|a| a.to_str()).unwrap_or_default();
    let tip = TIPS
        .iter()
        .find(|(name, flags, _)| *name == subcommand && flags.contains(&flag.as_str()));
    if let Some((_, _, tip)) = tip {
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![(*tip).into()]),
        );
    }
    error
}

// ---- the groups of flags, each read by the subcommands that flatten it ----

/// How chains are trusted: `test`, `inspect` (also with `--file`) and `pin`.
#[derive(Debug, Args)]
#[command(next_help_heading = "Trust")]
pub struct TrustArgs {
    /// Extra anchors trusted like the public roots (private PKI, labs); PEM or DER; repeatable
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
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

    /// Skip the HTTP GET after the handshake
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
    /// Profile with endpoints and pin sets (TOML); replaces the bundled Defender profile
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

    /// No progress bar (it shows only when standard error is a terminal)
    #[arg(short, long)]
    pub quiet: bool,
}

/// The report of a sweep: `test` only.
#[derive(Debug, Args)]
#[command(next_help_heading = "Report")]
pub struct ReportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,

    /// Write the report to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Show each chain, both paths, the pins and the evidence under each line
    #[arg(short, long)]
    pub verbose: bool,

    /// Also fail the run (exit 1) on warnings, not only on verdicts
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOnArg>,

    /// Format of the pins a drifted chain needs, in the report
    #[arg(long, value_enum, default_value_t = PinFormatArg::Okhttp)]
    pub pin_format: PinFormatArg,
}

fn network(trust: TrustArgs, reach: ReachArgs) -> Network {
    Network {
        cacert: trust.cacert,
        resolve: reach.resolve,
        connect_timeout: reach.connect_timeout,
        timeout: reach.timeout,
        no_http: reach.no_http,
        proxy: reach.proxy,
        noproxy: reach.noproxy,
    }
}

// ---- the subcommands ----

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Endpoints to probe instead of the profile's: https://host[:port]/path or host[:port]
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub reach: ReachArgs,

    #[command(flatten)]
    pub discovery: DiscoveryArgs,

    #[command(flatten)]
    pub profile: ProfileArgs,

    #[command(flatten)]
    pub sweep: SweepArgs,

    #[command(flatten)]
    pub report: ReportArgs,
}

impl TestArgs {
    /// The library's options.
    pub fn options(self) -> cmd::test::Options {
        cmd::test::Options {
            urls: self.urls,
            profile: self.profile.profile,
            pins: self.profile.pins,
            pinset: self.profile.pinset,
            warn_days: self.profile.warn_days,
            pac: self.discovery.pac,
            wpad: self.discovery.wpad,
            system_proxy: self.discovery.system_proxy,
            targets: self.sweep.targets,
            shard: self.sweep.shard,
            compare_direct: self.sweep.compare_direct,
            concurrency: self.sweep.jobs.concurrency,
            quiet: self.sweep.quiet,
            format: self.report.format.format(),
            output: self.report.output,
            verbose: self.report.verbose,
            fail_on_warning: matches!(self.report.fail_on, Some(FailOnArg::Warning)),
            pin_format: self.report.pin_format.format(),
            ..network(self.trust, self.reach).options()
        }
    }
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The endpoint: https://host[:port]/path or host[:port]; with --file, the host name the
    /// chain is checked against (optional)
    #[arg(value_name = "URL|HOST[:PORT]")]
    pub target: Option<String>,

    /// Analyse the chain in this PEM file (e.g. from `openssl s_client -showcerts`) instead of
    /// connecting
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ReachArgs", "DiscoveryArgs"])]
    pub file: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = DocumentFormatArg::Text)]
    pub format: DocumentFormatArg,

    /// Write the report to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub reach: ReachArgs,

    #[command(flatten)]
    pub discovery: DiscoveryArgs,

    #[command(flatten)]
    pub profile: ProfileArgs,
}

impl InspectArgs {
    /// The library's options.
    pub fn options(self) -> cmd::inspect::Options {
        cmd::inspect::Options {
            target: self.target,
            file: self.file,
            network: network(self.trust, self.reach),
            profile: self.profile.profile,
            pins: self.profile.pins,
            pinset: self.profile.pinset,
            warn_days: self.profile.warn_days,
            pac: self.discovery.pac,
            wpad: self.discovery.wpad,
            system_proxy: self.discovery.system_proxy,
            format: self.format.format(),
            output: self.output,
        }
    }
}

#[derive(Debug, Args)]
pub struct PinArgs {
    /// Endpoints to pin: https://host[:port]/path or host[:port] (default with --update: every
    /// endpoint of the file)
    #[arg(value_name = "URL", required_unless_present = "update")]
    pub urls: Vec<String>,

    /// One pin set for every endpoint, with this name (default: one set per host and port)
    #[arg(long, value_name = "NAME")]
    pub shared_set: Option<String>,

    /// Pin a chain that reaches no public or --cacert anchor (never pin an inspecting proxy's CA)
    #[arg(long)]
    pub allow_untrusted: bool,

    /// A backup pin added to every set (a key kept offline, not in the current chain); repeatable
    #[arg(long, value_name = "PIN")]
    pub backup_pin: Vec<String>,

    /// Rewrite this profile with the new pins, keeping its labels and comments where it can
    #[arg(long, value_name = "FILE")]
    pub update: Option<PathBuf>,

    /// Write the profile to FILE (default: standard output, or the --update file)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    #[command(flatten)]
    pub jobs: JobsArgs,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub reach: ReachArgs,
}

impl PinArgs {
    /// The library's options.
    pub fn options(self) -> cmd::pin::Options {
        cmd::pin::Options {
            urls: self.urls,
            shared_set: self.shared_set,
            allow_untrusted: self.allow_untrusted,
            backup_pins: self.backup_pin,
            update: self.update,
            output: self.output,
            network: network(self.trust, self.reach),
            concurrency: self.jobs.concurrency,
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Show each chain, both paths, the pins and the evidence under each line
    #[arg(short, long)]
    pub verbose: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = DocumentFormatArg::Text)]
    pub format: DocumentFormatArg,
}

impl DemoArgs {
    /// The library's options.
    pub fn options(self) -> cmd::demo::Options {
        cmd::demo::Options {
            verbose: self.verbose,
            format: self.format.format(),
        }
    }
}

#[derive(Debug, Args)]
pub struct PinsArgs {
    #[command(subcommand)]
    pub command: PinsCommand,
}

#[derive(Debug, Subcommand)]
pub enum PinsCommand {
    /// Convert a pin file from another tool's format (or back)
    Convert(ConvertArgs),
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The input format
    #[arg(long, value_enum)]
    pub from: PinFormatArg,

    /// The output format
    #[arg(long, value_enum, default_value_t = PinFormatArg::Toml)]
    pub to: PinFormatArg,

    /// The input file; - for standard input
    #[arg(value_name = "FILE")]
    pub input: PathBuf,

    /// Write to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl ConvertArgs {
    /// The library's options.
    pub fn options(self) -> cmd::convert::Options {
        cmd::convert::Options {
            from: self.from.format(),
            to: self.to.format(),
            input: self.input,
            output: self.output,
        }
    }
}

// ---- values ----

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PinFormatArg {
    /// OkHttp: sha256/<base64>, one per line
    Okhttp,
    /// curl --pinnedpubkey: sha256//<b64>;sha256//<b64>
    Curl,
    /// an HPKP header: pin-sha256="<b64>"; ...
    Hpkp,
    /// 64 hex digits, one per line
    Hex,
    /// a pinprobe profile (TOML)
    Toml,
    /// Chromium's static pinsets JSON
    Chromium,
    /// Android's network security config XML
    Android,
}

impl PinFormatArg {
    pub fn format(self) -> PinFormat {
        match self {
            PinFormatArg::Okhttp => PinFormat::Okhttp,
            PinFormatArg::Curl => PinFormat::Curl,
            PinFormatArg::Hpkp => PinFormat::Hpkp,
            PinFormatArg::Hex => PinFormat::Hex,
            PinFormatArg::Toml => PinFormat::Toml,
            PinFormatArg::Chromium => PinFormat::Chromium,
            PinFormatArg::Android => PinFormat::Android,
        }
    }
}

/// The formats of `test`'s report.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FormatArg {
    /// one line per endpoint in the shape of `mdatp connectivity test`, advice at the end
    Text,
    /// one JSON document with every result
    Json,
    /// one JSON result per line, written as each probe finishes
    Ndjson,
    /// JUnit XML: one testsuite per profile, one testcase per endpoint and route
    Junit,
}

impl FormatArg {
    fn format(self) -> Format {
        match self {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Ndjson => Format::Ndjson,
            FormatArg::Junit => Format::Junit,
        }
    }
}

/// The formats of a one-document report (`inspect`, `demo`).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum DocumentFormatArg {
    /// for terminals
    Text,
    /// one JSON document
    Json,
}

impl DocumentFormatArg {
    fn format(self) -> Format {
        match self {
            DocumentFormatArg::Text => Format::Text,
            DocumentFormatArg::Json => Format::Json,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FailOnArg {
    /// any warning (expires-soon, weak-key, sha1-signature) fails the run
    Warning,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
