//! `pinprobe pin`: writes a profile from live chains.

use std::path::PathBuf;

use crate::config;
use crate::error::Error;

/// The options of `pinprobe pin`.
#[derive(Clone, Debug)]
pub struct Options {
    /// the endpoints to pin (URLs or host[:port])
    pub urls: Vec<String>,
    /// one pin set for every endpoint, with this name
    pub shared_set: Option<String>,
    /// pin a chain that reaches no public (or --cacert) anchor
    pub allow_untrusted: bool,
    /// backup pins to add to every set (`sha256/...` or any pin syntax)
    pub backup_pins: Vec<String>,
    /// rewrite this profile instead of writing a new one
    pub update: Option<PathBuf>,
    /// the flags shared with `test` (`urls` empty; `output` is the profile to write)
    pub common: config::Options,
}

/// Probes the endpoints and writes the profile.
pub fn run(_options: &Options) -> Result<crate::report::Summary, Error> {
    Err(Error::usage("pin", "not available yet"))
}
