//! `pinprobe demo`: a simulated lab on 127.0.0.1 that shows each verdict with the real probe.

use crate::error::Error;
use crate::report::{Format, Summary};

/// The options of `pinprobe demo`.
#[derive(Clone, Debug)]
pub struct Options {
    /// details under each line
    pub verbose: bool,
    /// output format
    pub format: Format,
}

/// Runs the demo and writes its report.
pub fn run(_options: &Options) -> Result<Summary, Error> {
    Err(Error::usage("demo", "not available yet"))
}
