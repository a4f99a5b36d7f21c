//! The subcommands' own arguments: each one's positional arguments and flags, and the groups
//! of [`super::groups`] it flattens in. [`super::options`] turns them into the library's
//! options.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::groups::{
    DiscoveryArgs, JobsArgs, ProfileArgs, ReachArgs, ReportArgs, SweepArgs, TenantArgs, TrustArgs,
};
use super::values::{DocumentFormatArg, PinFormatArg};
use pinprobe::serve::{DEFAULT_LISTEN, DEFAULT_MAX_CONCURRENT};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// Endpoints to probe instead of the profile's: https://host[:port]/path or host[:port].
    /// A first URL that is, or looks like, a subcommand's name is refused: write https://NAME/
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,

    /// Pins for the URL arguments and --targets, as curl's --pinnedpubkey: sha256//<base64>
    /// entries separated by ';', or a file holding a public key (PEM or DER). Any certificate
    /// of the verified path matches, not only the leaf as in curl
    #[arg(
        long,
        value_name = "PINS|FILE",
        conflicts_with = "pinset",
        help_heading = "Profile and pins"
    )]
    pub pinnedpubkey: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub reach: ReachArgs,

    #[command(flatten)]
    pub discovery: DiscoveryArgs,

    #[command(flatten)]
    pub profile: ProfileArgs,

    #[command(flatten)]
    pub tenant: TenantArgs,

    #[command(flatten)]
    pub sweep: SweepArgs,

    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The endpoint: https://host[:port]/path or host[:port]; with --file, the host name the
    /// chain is checked against (optional)
    #[arg(value_name = "URL|HOST[:PORT]")]
    pub target: Option<String>,

    /// Analyse the chain in this PEM file (e.g. from `openssl s_client -showcerts`) instead of
    /// connecting; - for standard input
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ReachArgs", "DiscoveryArgs"])]
    pub file: Option<PathBuf>,

    /// Output format
    #[arg(long, value_enum, default_value_t = DocumentFormatArg::Text)]
    pub format: DocumentFormatArg,

    /// Write the report to FILE instead of standard output
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Replace the -o file if it exists (its permissions are kept)
    #[arg(long, requires = "output")]
    pub force: bool,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub reach: ReachArgs,

    #[command(flatten)]
    pub discovery: DiscoveryArgs,

    #[command(flatten)]
    pub profile: ProfileArgs,
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

    /// Replace the -o file if it exists (its permissions are kept)
    #[arg(long, requires = "output")]
    pub force: bool,

    #[command(flatten)]
    pub jobs: JobsArgs,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub reach: ReachArgs,
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

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell, e.g. `pinprobe completions bash > ~/.local/share/bash-completion/completions/pinprobe`
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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

    /// Replace the -o file if it exists (its permissions are kept)
    #[arg(long, requires = "output")]
    pub force: bool,

    /// The host a pin set is for (android, okhttp and chromium pin only the hosts they name):
    /// api.example.com, **.example.com for it and every name below it; SET=HOST for one set
    /// of several. Repeatable; replaces the hosts the input names for that set
    #[arg(long = "host", value_name = "[SET=]HOST")]
    pub hosts: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, HOST:PORT: 127.0.0.1:9780, [::1]:9780 (port 0: any free port)
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    pub listen: String,

    /// Probes run at the same time; a /probe request beyond them is answered 503
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_CONCURRENT)]
    pub max_concurrent: usize,

    /// Profile whose pin sets pinset= names and whose endpoints profile-endpoint= names (TOML);
    /// replaces the bundled Defender profile; - for standard input
    #[arg(long, value_name = "FILE", help_heading = "Profile and pins")]
    pub profile: Option<PathBuf>,

    /// Extra pin sets (TOML, same format as profiles); repeatable
    #[arg(long, value_name = "FILE", help_heading = "Profile and pins")]
    pub pins: Vec<PathBuf>,

    /// Pin set of a target asked without pinset= or profile-endpoint= (without it, the verdict
    /// rests on trust alone)
    #[arg(long, value_name = "NAME", help_heading = "Profile and pins")]
    pub pinset: Option<String>,

    #[command(flatten)]
    pub trust: TrustArgs,

    #[command(flatten)]
    pub reach: ReachArgs,

    #[command(flatten)]
    pub discovery: DiscoveryArgs,
}
