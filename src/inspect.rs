//! `pinprobe inspect`: everything about one endpoint's chain, or a chain saved in a PEM file.

use std::path::PathBuf;

use crate::config;
use crate::error::Error;
use crate::report::Summary;

/// The options of `pinprobe inspect`.
#[derive(Clone, Debug)]
pub struct Options {
    /// the endpoint, or with `file` the host name to check the chain against
    pub target: Option<String>,
    /// a PEM file holding a chain captured elsewhere
    pub file: Option<PathBuf>,
    /// the flags shared with `test` (`urls` is empty)
    pub common: config::Options,
}

/// Runs an inspection and writes its report.
pub fn run(_options: &Options) -> Result<Summary, Error> {
    Err(Error::usage("inspect", "not available yet"))
}
