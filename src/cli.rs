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
        None => {
            if let Some(first) = cli.test.urls.first() {
                if let Err(message) = subcommand_in_url_position(first, &args) {
                    Cli::command()
                        .error(ErrorKind::InvalidSubcommand, message)
                        .exit();
                }
            }
            Run::Test(cli.test.options())
        }
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

/// Why `subcommand` does not take `flag` (as clap names it, without a value), if it is a
/// flag of `test` that users bring to it.
fn tip_for(subcommand: &str, flag: &str) -> Option<&'static str> {
    TIPS.iter()
        .find(|(name, flags, _)| *name == subcommand && flags.contains(&flag))
        .map(|(_, _, tip)| *tip)
}

/// Adds to an unknown-flag error the reason its subcommand does not take a flag of `test`.
/// Flags go after the subcommand, so the subcommand is the first argument; when it is not, and
/// a subcommand's name comes later, the flag was meant for that subcommand: the error then
/// shows the command line with the flags after it.
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
    let names = subcommand_names();
    if !names.iter().any(|n| n == subcommand) {
        // a flag of a subcommand given before it (`pinprobe --shared-set x pin URL`)
        let later = args
            .iter()
            .skip(2)
            .filter_map(|a| a.to_str())
            .find(|a| names.iter().any(|n| n == a));
        return match later {
            // a new error: clap's "a similar argument exists" would name a flag of `test`
            Some(word) => Cli::command().error(
                ErrorKind::UnknownArgument,
                format!(
                    "unexpected argument '{given}' found before the subcommand '{word}'\n\n  tip: {}",
                    flags_after(word, args)
                ),
            ),
            None => error,
        };
    }
    if let Some(tip) = tip_for(subcommand, &flag) {
        error.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![(*tip).into()]),
        );
    }
    error
}

/// The names a user may mean as a subcommand: clap's and its `help`.
fn subcommand_names() -> Vec<String> {
    let mut names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    names.push("help".into());
    names
}

/// The rule for the first URL of the default command.
///
/// `pinprobe URL...` means `pinprobe test URL...`, so the top level takes URLs as positional
/// arguments, and clap takes any word there that is not a subcommand in first place (a typo,
/// or a subcommand after a flag: `pinprobe -v inspect HOST`) for a URL. This check refuses
/// such a first URL with a usage error that says what was meant:
///
/// - an argument that looks like a URL (a scheme, a dot, a colon, a slash, so also every IP
///   address) is a URL, whatever its letters;
/// - a bare word (letters, digits, `-`, `_`) that is a subcommand's name (or `help`) came
///   after flags: the error shows the command line with the flags after the subcommand, the
///   only place they are read;
/// - a bare word within one edit of a subcommand's name (two for names of five letters or
///   more; a transposition is one edit; case is ignored), or the start of one (three letters
///   or more), is a mistyped subcommand: the error names the subcommand;
/// - any other bare word (`localhost`, `intranet-host`) is a host name.
///
/// A host whose name is refused is probed with `https://NAME/`, or with `pinprobe test NAME`:
/// after an explicit `test`, every positional argument is a URL.
///
/// (When a flag before the subcommand is one `test` does not take, clap stops at that flag
/// and [`with_tip`] suggests the same fix.)
fn subcommand_in_url_position(word: &str, args: &[OsString]) -> Result<(), String> {
    let bare = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !bare {
        return Ok(());
    }
    let escape =
        format!("To probe a host of that name, write https://{word}/ or `pinprobe test {word}`");
    let names = subcommand_names();
    if names.iter().any(|n| n == word) {
        let read_as = format!(
            "'{word}' comes after flags, so it was read as a URL of the default command 'test'"
        );
        let fix = flags_after(word, args);
        return Err(format!("{read_as}; {fix}\n\n{escape}"));
    }
    let lower = word.to_ascii_lowercase();
    let close = names.iter().find(|name| {
        let allowed = if name.len() >= 5 { 2 } else { 1 };
        edit_distance(&lower, name) <= allowed || (lower.len() >= 3 && name.starts_with(&lower))
    });
    match close {
        Some(name) => Err(format!(
            "'{word}' looks like a mistyped subcommand; did you mean '{name}'?\n\n{escape}"
        )),
        None => Ok(()),
    }
}

/// What to write instead of a command line that gives flags before the subcommand `word`:
/// the same arguments with the flags moved after it, when that parses; else the flag the
/// subcommand does not take.
fn flags_after(word: &str, args: &[OsString]) -> String {
    let position = args
        .iter()
        .skip(1)
        .position(|a| a.to_str() == Some(word))
        .map_or(0, |p| p + 1);
    let mut fixed: Vec<OsString> = vec!["pinprobe".into(), word.into()];
    fixed.extend(args.iter().take(position).skip(1).cloned());
    fixed.extend(args.iter().skip(position + 1).cloned());
    if word == "help" {
        return "for help, write `pinprobe --help` or `pinprobe SUBCOMMAND --help`".into();
    }
    let see = format!("see `pinprobe {word} --help`");
    match Cli::command().try_get_matches_from(&fixed) {
        Ok(_) => format!(
            "put the flags after the subcommand: {}",
            fixed.iter().map(shell_word).collect::<Vec<_>>().join(" ")
        ),
        Err(e) => match (e.kind(), e.get(ContextKind::InvalidArg)) {
            (ErrorKind::UnknownArgument, Some(ContextValue::String(flag))) => {
                let why = tip_for(word, flag.split('=').next().unwrap_or_default())
                    .map_or_else(String::new, |tip| format!(" ({tip})"));
                format!(
                    "flags go after the subcommand, but '{word}' does not take '{flag}'{why}: {see}"
                )
            }
            _ => format!("flags go after the subcommand: {see}"),
        },
    }
}

/// Optimal string alignment distance: insertions, deletions, substitutions and transpositions
/// of neighbours each count one (`inpsect` is one edit from `inspect`).
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // d[i][j]: the distance between the first i characters of a and the first j of b
    let mut d: Vec<Vec<usize>> = (0..=a.len())
        .map(|i| (0..=b.len()).map(|j| if i == 0 { j } else { i }).collect())
        .collect();
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// An argument as a POSIX shell reads it back.
fn shell_word(arg: &OsString) -> String {
    let text = arg.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
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
    /// Endpoints to probe instead of the profile's: https://host[:port]/path or host[:port].
    /// A first URL that is, or looks like, a subcommand's name is refused: write https://NAME/
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

    #[test]
    fn edits_between_words() {
        let cases = [
            ("inspect", "inspect", 0),
            ("inpsect", "inspect", 1),
            ("insepct", "inspect", 1),
            ("ispect", "inspect", 1),
            ("inpsetc", "inspect", 2),
            ("tset", "test", 1),
            ("pins", "pin", 1),
            ("", "pin", 3),
        ];
        for (a, b, want) in cases {
            assert_eq!(edit_distance(a, b), want, "{a} {b}");
        }
    }

    #[test]
    fn bare_words_near_a_subcommand_are_refused_others_are_hosts() {
        let args = |line: &str| -> Vec<OsString> { line.split(' ').map(OsString::from).collect() };
        for host in [
            "example.com",
            "localhost",
            "intranet-host",
            "inspect.example",
            "inpsect:443",
            "https://inspect/",
            "10.0.0.1",
            "::1",
            "pin.corp",
        ] {
            assert_eq!(
                subcommand_in_url_position(host, &args(&format!("pinprobe {host}"))),
                Ok(()),
                "{host}"
            );
        }
        for (word, meant) in [
            ("inpsect", "inspect"),
            ("Inspect", "inspect"),
            ("insp", "inspect"),
            ("dmeo", "demo"),
            ("pinz", "pin"),
            ("tets", "test"),
        ] {
            let e = subcommand_in_url_position(word, &args(&format!("pinprobe {word} a.test")))
                .unwrap_err();
            assert!(
                e.starts_with(&format!(
                    "'{word}' looks like a mistyped subcommand; did you mean '{meant}'?"
                )) && e.contains(&format!("write https://{word}/")),
                "{e}"
            );
        }
        let e = subcommand_in_url_position(
            "inspect",
            &args("pinprobe --pinset a --cacert c_d inspect example.com")
                .into_iter()
                .map(|a| if a == "c_d" { "c d".into() } else { a })
                .collect::<Vec<_>>(),
        )
        .unwrap_err();
        assert!(
            e.starts_with("'inspect' comes after flags, so it was read as a URL of the default command 'test'; put the flags after the subcommand: pinprobe inspect --pinset a --cacert 'c d' example.com\n"),
            "{e}"
        );
    }

    #[test]
    fn a_flag_the_subcommand_does_not_take_is_named() {
        let args: Vec<OsString> = ["pinprobe", "-v", "inspect", "example.com"]
            .map(OsString::from)
            .to_vec();
        let e = subcommand_in_url_position("inspect", &args).unwrap_err();
        assert!(
            e.contains("flags go after the subcommand, but 'inspect' does not take '-v' (inspect always shows every detail, with pins in base64 and hex): see `pinprobe inspect --help`"),
            "{e}"
        );
    }

    #[test]
    fn arguments_are_quoted_for_the_shell() {
        assert_eq!(shell_word(&"--pinset".into()), "--pinset");
        assert_eq!(shell_word(&"a b".into()), "'a b'");
        assert_eq!(shell_word(&"it's".into()), r"'it'\''s'");
        assert_eq!(shell_word(&"".into()), "''");
    }
}
