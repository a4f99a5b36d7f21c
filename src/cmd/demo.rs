//! `pinprobe demo`: its options and its entry point; the lab and its scenarios are
//! `crate::demo`'s.

use std::io;

use crate::demo;
use crate::error::Error;
use crate::report::{Format, Summary};

/// The options of `pinprobe demo`.
#[derive(Clone, Debug)]
pub struct Options {
    /// details under each line
    pub verbose: bool,
    /// output format: text or json
    pub format: Format,
}

/// Runs the demo on a runtime of its own and writes its report to standard output. The
/// summary counts scenarios: the run passes when each gave its expected verdict.
pub fn run(options: &Options) -> Result<Summary, Error> {
    if !matches!(options.format, Format::Text | Format::Json) {
        return Err(Error::usage("--format", "the demo writes text or json"));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(demo::run_to(
        options.format,
        options.verbose,
        io::stdout(),
        "standard output",
    ))
}
