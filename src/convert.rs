//! `pinprobe pins convert`: pin files from and to the formats of other tools.

use std::path::PathBuf;

use crate::error::Error;
use crate::pin_formats::PinFormat;

/// The options of `pinprobe pins convert`.
#[derive(Clone, Debug)]
pub struct Options {
    /// the input format
    pub from: PinFormat,
    /// the output format
    pub to: PinFormat,
    /// the input file, `-` for standard input
    pub input: PathBuf,
    /// the output file, standard output when absent
    pub output: Option<PathBuf>,
}

/// Converts and writes; the exit status is 0 when every entry was read.
pub fn run(_options: &Options) -> Result<crate::report::Summary, Error> {
    Err(Error::usage("pins convert", "not available yet"))
}
