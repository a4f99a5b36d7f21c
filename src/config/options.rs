//! The options of a run as given, before any check: those of `test`, and the part `inspect`
//! and `pin` share with it ([`Network`]). Their defaults are the consts of [`crate::config`].

use crate::catalog::{Choice, Geo};
use std::path::PathBuf;

use super::{DEFAULT_CONCURRENCY, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_WARN_DAYS};
use crate::chain::trust::OsStoreChoice;
use crate::pin_formats::PinFormat;
use crate::report::Format;

/// How chains are reached and trusted: the options `test`, `inspect` and `pin` share.
#[derive(Clone, Debug)]
pub struct Network {
    /// `--cacert FILE`, repeatable
    pub cacert: Vec<PathBuf>,
    /// `--os-store`
    pub os_store: OsStoreChoice,
    /// `--resolve HOST:PORT:ADDR`, repeatable
    pub resolve: Vec<String>,
    /// `--connect-timeout S`
    pub connect_timeout: f64,
    /// `--timeout S`
    pub timeout: f64,
    /// `--no-http`
    pub no_http: bool,
    /// `-x/--proxy URL` (`Some("")` turns the environment's proxy off)
    pub proxy: Option<String>,
    /// `--noproxy LIST`
    pub noproxy: Option<String>,
}

impl Default for Network {
    fn default() -> Network {
        Network {
            cacert: Vec::new(),
            os_store: OsStoreChoice::Auto,
            resolve: Vec::new(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT.as_secs_f64(),
            timeout: DEFAULT_TIMEOUT.as_secs_f64(),
            no_http: false,
            proxy: None,
            noproxy: None,
        }
    }
}

impl Network {
    /// The options of `test` with these set and every other one at its default: the base from
    /// which `inspect` and `pin` validate what they share with `test`.
    pub fn options(self) -> Options {
        Options {
            cacert: self.cacert,
            os_store: self.os_store,
            resolve: self.resolve,
            connect_timeout: self.connect_timeout,
            timeout: self.timeout,
            no_http: self.no_http,
            proxy: self.proxy,
            noproxy: self.noproxy,
            ..Options::default()
        }
    }
}

/// The options of `pinprobe test`, as given: every option a run of probes knows. The other
/// subcommands take the part they use (see `crate::cmd`) and fill in the rest from here.
#[derive(Clone, Debug)]
pub struct Options {
    /// `--profile FILE`
    pub profile: Option<PathBuf>,
    /// `--pins FILE`, repeatable
    pub pins: Vec<PathBuf>,
    /// `--pinset NAME`, for URL arguments
    pub pinset: Option<String>,
    /// `--pinnedpubkey PINS|FILE`: an ad-hoc pin set for URL arguments, in curl's syntax
    pub pinnedpubkey: Option<String>,
    /// `--cacert FILE`, repeatable
    pub cacert: Vec<PathBuf>,
    /// `--os-store`
    pub os_store: OsStoreChoice,
    /// `--resolve HOST:PORT:ADDR`, repeatable
    pub resolve: Vec<String>,
    /// URL arguments
    pub urls: Vec<String>,
    /// `--format`
    pub format: Format,
    /// `-o FILE`
    pub output: Option<PathBuf>,
    /// `--force`: `-o` and the report files may replace existing files
    pub force: bool,
    /// `--json FILE`: a JSON report besides the one of `--format`
    pub json: Option<PathBuf>,
    /// `--ndjson FILE`: an NDJSON report besides the one of `--format`
    pub ndjson: Option<PathBuf>,
    /// `--junit FILE`: a JUnit report besides the one of `--format`
    pub junit: Option<PathBuf>,
    /// `-v`
    pub verbose: bool,
    /// `-j N`
    pub concurrency: usize,
    /// `--connect-timeout S`
    pub connect_timeout: f64,
    /// `--timeout S`
    pub timeout: f64,
    /// `--no-http`
    pub no_http: bool,
    /// `-x/--proxy URL` (`Some("")` turns the environment's proxy off)
    pub proxy: Option<String>,
    /// `--noproxy LIST`
    pub noproxy: Option<String>,
    /// `--compare-direct`
    pub compare_direct: bool,
    /// `--targets FILE` (`-` for standard input)
    pub targets: Option<PathBuf>,
    /// `--pac FILE|URL`
    pub pac: Option<String>,
    /// `--wpad`
    pub wpad: bool,
    /// `--system-proxy`
    pub system_proxy: bool,
    /// `--shard K/N`
    pub shard: Option<String>,
    /// `--quiet`: no progress bar
    pub quiet: bool,
    /// `--warn-days N`
    pub warn_days: u32,
    /// `--fail-on NAME[,NAME]`, repeatable: the warnings that fail the run too
    pub fail_on: Vec<String>,
    /// `--pin-format`
    pub pin_format: PinFormat,
    /// `--geo`: the tenant's geography
    pub geo: Option<Geo>,
    /// `--catalog`: which list of the profile's endpoints
    pub catalog: Option<Choice>,
    /// `--onboarding FILE`: the tenant's onboarding package
    pub onboarding: Option<PathBuf>,
    /// `--list`: print the endpoints and exit
    pub list: bool,
    /// with the bundled profile and no list chosen, ask an agent installed on this machine for
    /// its tenant (the command line does; the default leaves the machine alone, so that a run
    /// driven by code gives the same endpoints everywhere)
    pub ask_installed_agent: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            profile: None,
            pins: Vec::new(),
            pinset: None,
            pinnedpubkey: None,
            cacert: Vec::new(),
            os_store: OsStoreChoice::Auto,
            resolve: Vec::new(),
            urls: Vec::new(),
            format: Format::Text,
            output: None,
            force: false,
            json: None,
            ndjson: None,
            junit: None,
            verbose: false,
            concurrency: DEFAULT_CONCURRENCY,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT.as_secs_f64(),
            timeout: DEFAULT_TIMEOUT.as_secs_f64(),
            no_http: false,
            proxy: None,
            noproxy: None,
            compare_direct: false,
            targets: None,
            pac: None,
            wpad: false,
            system_proxy: false,
            shard: None,
            quiet: false,
            warn_days: DEFAULT_WARN_DAYS,
            fail_on: Vec::new(),
            pin_format: PinFormat::Okhttp,
            geo: None,
            catalog: None,
            onboarding: None,
            list: false,
            ask_installed_agent: false,
        }
    }
}
