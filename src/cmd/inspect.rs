//! `pinprobe inspect`: its options and its entry point; the analysis is `crate::inspect`'s.

use std::io;
use std::path::{Path, PathBuf};

use crate::config::{self, Network};
use crate::error::Error;
use crate::input;
use crate::inspect;
use crate::output::{Existing, Output};
use crate::report::{self, Format, Summary};

/// The options of `pinprobe inspect`: one probe's, with the profile that gives its pin set,
/// and no option of a sweep or of `test`'s reports.
#[derive(Clone, Debug)]
pub struct Options {
    /// the endpoint, or with `file` the host name to check the chain against
    pub target: Option<String>,
    /// a PEM file holding a chain captured elsewhere; the network options are then not read
    pub file: Option<PathBuf>,
    /// how the endpoint is reached and its chain trusted
    pub network: Network,
    /// `--profile FILE`
    pub profile: Option<PathBuf>,
    /// `--pins FILE`, repeatable
    pub pins: Vec<PathBuf>,
    /// `--pinset NAME`
    pub pinset: Option<String>,
    /// `--pac FILE|URL`
    pub pac: Option<String>,
    /// `--wpad`
    pub wpad: bool,
    /// `--system-proxy`
    pub system_proxy: bool,
    /// `--warn-days N`
    pub warn_days: u32,
    /// `--format`: text or json
    pub format: Format,
    /// `-o FILE`
    pub output: Option<PathBuf>,
    /// `--force`: `-o` may replace an existing file
    pub force: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            target: None,
            file: None,
            network: Network::default(),
            profile: None,
            pins: Vec::new(),
            pinset: None,
            pac: None,
            wpad: false,
            system_proxy: false,
            warn_days: config::DEFAULT_WARN_DAYS,
            format: Format::Text,
            output: None,
            force: false,
        }
    }
}

impl Options {
    /// The options of a run of `test` that mean the same as these.
    fn probe_options(&self) -> config::Options {
        config::Options {
            profile: self.profile.clone(),
            pins: self.pins.clone(),
            pinset: self.pinset.clone(),
            pac: self.pac.clone(),
            wpad: self.wpad,
            system_proxy: self.system_proxy,
            warn_days: self.warn_days,
            ..self.network.clone().options()
        }
    }
}

/// Runs an inspection and writes its report. The summary counts the one result.
pub fn run(options: &Options) -> Result<Summary, Error> {
    if !matches!(options.format, Format::Text | Format::Json) {
        return Err(Error::usage(
            "--format",
            "inspect writes text or json; ndjson and junit are for `pinprobe test`",
        ));
    }
    let subject = match (&options.file, options.target.as_deref()) {
        (Some(path), host) => Subject::File(path, host),
        (None, Some(target)) => Subject::Live(target),
        (None, None) => {
            return Err(Error::usage(
                "inspect",
                "give a URL or HOST[:PORT], or --file FILE",
            ))
        }
    };
    let probe_options = options.probe_options();
    let mut stdin_uses = config::stdin_uses(&probe_options);
    stdin_uses.extend(options.file.iter().map(|p| ("--file", p.as_path())));
    input::stdin_once(stdin_uses)?;
    // an existing or unwritable -o fails before anything is probed
    let output = match &options.output {
        Some(path) => Some(Output::create(path, Existing::forced(options.force))?),
        None => None,
    };
    let inspection = match subject {
        Subject::File(path, host) => inspect::file(path, host, &probe_options)?,
        Subject::Live(target) => inspect::live(target, &probe_options)?,
    };
    let mut summary = Summary::default();
    summary.add(&inspection.result);
    let write_error = |target: String| move |source| Error::Write { target, source };
    match (output, &options.output) {
        (Some(mut output), Some(path)) => {
            report::inspect::write(&mut output, options.format, &inspection)
                .map_err(write_error(path.display().to_string()))?;
            output.commit()?;
        }
        _ => report::inspect::write(io::stdout(), options.format, &inspection)
            .map_err(write_error("standard output".into()))?,
    }
    Ok(summary)
}

/// What the options ask to inspect.
enum Subject<'a> {
    /// a live endpoint
    Live(&'a str),
    /// a chain in a file, and the host name to check it against
    File(&'a Path, Option<&'a str>),
}
