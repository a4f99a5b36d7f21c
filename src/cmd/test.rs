//! `pinprobe test` (the default command): its options and its entry point; the run itself is
//! `crate::run`'s.

use crate::config::Config;
use crate::error::Error;
use crate::report::Summary;

/// The options of `pinprobe test`: every option of a run, validated by
/// [`Config::from_options`].
pub use crate::config::Options;

/// Validates the options, probes every endpoint and writes the report; with `--list`, writes
/// the endpoints instead, without connecting.
pub fn run(options: &Options) -> Result<Summary, Error> {
    let config = Config::from_options(options)?;
    if options.list {
        crate::run::say_skipped(&config);
        let mut out = crate::report::Quiet::new(std::io::stdout().lock());
        crate::report::text::list(&mut out, &config).map_err(|source| Error::Write {
            target: "standard output".into(),
            source,
        })?;
        // a line of --targets skipped fails the list as it fails the run
        return Ok(Summary::new(config.fail_on, config.skipped.len()));
    }
    crate::run::run(&config)
}
