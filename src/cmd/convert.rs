//! `pinprobe pins convert`: its options and its entry point; the conversion is
//! `crate::convert`'s.

use std::path::PathBuf;

use crate::convert;
use crate::error::Error;
use crate::output::{self, Existing};
use crate::pin_formats::PinFormat;
use crate::report::Summary;

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
    /// `--force`: the output file may replace an existing file
    pub force: bool,
    /// `--host [SET=]HOST` as given, checked by the conversion
    pub hosts: Vec<String>,
}

/// Converts and writes; the exit status is 0 when every entry was read.
pub fn run(options: &Options) -> Result<Summary, Error> {
    let existing = Existing::forced(options.force);
    // an existing -o is refused before standard input is read
    if let Some(path) = &options.output {
        output::check(path, existing)?;
    }
    let (text, name) = convert::read_input(&options.input)?;
    let document = convert::convert(options.from, options.to, &text, &name, &options.hosts)?;
    convert::write_output(options.output.as_deref(), existing, document.as_bytes())?;
    Ok(Summary::default())
}
