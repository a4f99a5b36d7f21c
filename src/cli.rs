//! The command line: clap definitions and their translation into the library's `Options`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use pinprobe::config::Options;
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
    pub network: NetworkArgs,
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
    pub fn format(self) -> pinprobe::pin_formats::PinFormat {
        use pinprobe::pin_formats::PinFormat as F;
        match self {
            PinFormatArg::Okhttp => F::Okhttp,
            PinFormatArg::Curl => F::Curl,
            PinFormatArg::Hpkp => F::Hpkp,
            PinFormatArg::Hex => F::Hex,
            PinFormatArg::Toml => F::Toml,
            PinFormatArg::Chromium => F::Chromium,
            PinFormatArg::Android => F::Android,
        }
    }
}

impl PinArgs {
    /// The library's options. `pin` takes only the flags of `test` that decide how a chain is
    /// reached and trusted; the others (profile, pin set, report format) mean nothing here.
    pub fn options(self) -> pinprobe::generate::Options {
        pinprobe::generate::Options {
            urls: self.urls,
            shared_set: self.shared_set,
            allow_untrusted: self.allow_untrusted,
            backup_pins: self.backup_pin,
            update: self.update,
            common: Options {
                cacert: self.network.cacert,
                resolve: self.network.resolve,
                output: self.output,
                concurrency: self.network.concurrency,
                connect_timeout: self.network.connect_timeout,
                timeout: self.network.timeout,
                no_http: self.network.no_http,
                proxy: self.network.proxy,
                noproxy: self.network.noproxy,
                ..Options::default()
            },
        }
    }
}

impl ConvertArgs {
    /// The library's options.
    pub fn options(self) -> pinprobe::convert::Options {
        pinprobe::convert::Options {
            from: self.from.format(),
            to: self.to.format(),
            input: self.input,
            output: self.output,
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
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,

    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Show each chain, both paths, the pins and the evidence under each line
    #[arg(short, long)]
    pub verbose: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,
}

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

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Endpoints to probe instead of the profile's: https://host[:port]/path or host[:port]
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// How chains are reached and trusted: the flags of `test`, `inspect` and `pin`.
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// Extra anchors trusted like the public roots (private PKI, labs); PEM or DER; repeatable
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,

    /// Use ADDR for HOST:PORT instead of DNS, as curl; repeatable
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,

    /// Probes run at the same time
    #[arg(short = 'j', long, value_name = "N", default_value_t = pinprobe::config::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,

    /// Seconds allowed for DNS, TCP connect and the TLS handshake together
    #[arg(long, value_name = "SECONDS", default_value_t = pinprobe::config::DEFAULT_CONNECT_TIMEOUT.as_secs_f64())]
    pub connect_timeout: f64,

    /// Hard deadline in seconds for each endpoint, HTTP included
    #[arg(long = "timeout", value_name = "SECONDS", default_value_t = pinprobe::config::DEFAULT_TIMEOUT.as_secs_f64())]
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

/// The flags `test` and `inspect` share.
#[derive(Debug, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    pub network: NetworkArgs,

    /// Profile with endpoints and pin sets (TOML); replaces the bundled Defender profile
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// Extra pin sets (TOML, same format as profiles); repeatable
    #[arg(long, value_name = "FILE")]
    pub pins: Vec<PathBuf>,

    /// Pin set that URL arguments must match (without it, the verdict rests on trust alone)
    #[arg(long, value_name = "NAME")]
    pub pinset: Option<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    pub format: FormatArg,

    /// Write the report to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Show each chain, both paths, the pins and the evidence under each line
    #[arg(short, long)]
    pub verbose: bool,

    /// Find the proxy of each endpoint with this proxy auto-config file (a path or an http:// URL)
    #[arg(long, value_name = "FILE|URL")]
    pub pac: Option<String>,

    /// Find the PAC file as WPAD clients do over DNS (http://wpad.<domain>/wpad.dat)
    #[arg(long)]
    pub wpad: bool,

    /// Use the system's proxy settings: the environment, and on macOS `scutil --proxy`
    #[arg(long)]
    pub system_proxy: bool,

    /// Probe every endpoint both directly and through the proxy, and report them side by side
    #[arg(long)]
    pub compare_direct: bool,

    /// More endpoints, one URL or HOST[:PORT] per line (# comments); - for standard input
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// Probe only the K-th of N deterministic slices of the endpoints (for N machines)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,

    /// No progress bar (it shows only when standard error is a terminal)
    #[arg(short, long)]
    pub quiet: bool,

    /// Warn (expires-soon) about certificates on the verified path expiring within N days
    #[arg(long, value_name = "N", default_value_t = pinprobe::config::DEFAULT_WARN_DAYS)]
    pub warn_days: u32,

    /// Also fail the run (exit 1) on warnings, not only on verdicts
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOnArg>,

    /// Format of the pins a drifted chain needs, in the report
    #[arg(long, value_enum, default_value_t = PinFormatArg::Okhttp)]
    pub pin_format: PinFormatArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum FailOnArg {
    /// any warning (expires-soon, weak-key, sha1-signature) fails the run
    Warning,
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

impl CommonArgs {
    /// The library's options, for the given URLs.
    pub fn options(self, urls: Vec<String>) -> Options {
        Options {
            profile: self.profile,
            pins: self.pins,
            pinset: self.pinset,
            cacert: self.network.cacert,
            resolve: self.network.resolve,
            urls,
            format: self.format.format(),
            output: self.output,
            verbose: self.verbose,
            concurrency: self.network.concurrency,
            connect_timeout: self.network.connect_timeout,
            timeout: self.network.timeout,
            no_http: self.network.no_http,
            proxy: self.network.proxy,
            noproxy: self.network.noproxy,
            compare_direct: self.compare_direct,
            targets: self.targets,
            pac: self.pac,
            wpad: self.wpad,
            system_proxy: self.system_proxy,
            shard: self.shard,
            quiet: self.quiet,
            warn_days: self.warn_days,
            fail_on_warning: matches!(self.fail_on, Some(FailOnArg::Warning)),
            pin_format: self.pin_format.format(),
        }
    }
}

impl TestArgs {
    /// The library's options.
    pub fn options(self) -> Options {
        self.common.options(self.urls)
    }
}

impl InspectArgs {
    /// The library's options.
    pub fn options(self) -> pinprobe::inspect::Options {
        pinprobe::inspect::Options {
            target: self.target,
            file: self.file,
            common: self.common.options(Vec::new()),
        }
    }
}

impl DemoArgs {
    /// The library's options.
    pub fn options(self) -> pinprobe::demo::Options {
        pinprobe::demo::Options {
            verbose: self.verbose,
            format: self.format.format(),
        }
    }
}
