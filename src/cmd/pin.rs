//! `pinprobe pin`: its options and its entry point; probing, choosing the pins and writing the
//! profile are `crate::generate`'s.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::config::{self, Config, Network};
use crate::error::Error;
use crate::generate::{self, Job};
use crate::pins::Pin;
use crate::report::Summary;

/// The options of `pinprobe pin`: what to pin, how the chains are reached and trusted, and
/// where the profile goes. It writes pin sets, so it reads no profile or pin set of `test`.
#[derive(Clone, Debug)]
pub struct Options {
    /// the endpoints to pin (URLs or `host[:port]`); with `update` and none given, every
    /// endpoint of that profile
    pub urls: Vec<String>,
    /// one pin set for every endpoint, with this name
    pub shared_set: Option<String>,
    /// pin a chain that reaches no public (or --cacert) anchor
    pub allow_untrusted: bool,
    /// backup pins to add to every set (`sha256/...` or any pin syntax)
    pub backup_pins: Vec<String>,
    /// rewrite this profile instead of writing a new one
    pub update: Option<PathBuf>,
    /// `-o FILE`: where the profile goes (default: standard output, or the `update` file)
    pub output: Option<PathBuf>,
    /// `--force`: `-o` may replace an existing file
    pub force: bool,
    /// how the endpoints are reached and their chains trusted
    pub network: Network,
    /// `-j N`
    pub concurrency: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            urls: Vec::new(),
            shared_set: None,
            allow_untrusted: false,
            backup_pins: Vec::new(),
            update: None,
            output: None,
            force: false,
            network: Network::default(),
            concurrency: config::DEFAULT_CONCURRENCY,
        }
    }
}

/// Validates the options, probes the endpoints and writes the profile. Refused endpoints count
/// as failed (exit status 1) and nothing is written; configuration problems are errors (exit
/// status 2), found before anything is probed.
pub fn run(options: &Options) -> Result<Summary, Error> {
    if options.urls.is_empty() && options.update.is_none() {
        return Err(Error::usage(
            "pin",
            "give the endpoints to pin: https://host[:port]/path or host[:port]",
        ));
    }
    if let Some(name) = &options.shared_set {
        if name.trim().is_empty() || name.chars().any(char::is_control) {
            return Err(Error::usage(
                "--shared-set",
                format!("{name:?} is not a usable pin set name: give a name such as --shared-set my-service"),
            ));
        }
    }
    let backups = options
        .backup_pins
        .iter()
        .map(|text| {
            Pin::parse(text).map_err(|e| {
                Error::usage("--backup-pin", format!("{text:?} is not a valid pin: {e}"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let existing = match &options.update {
        Some(path) => Some(generate::load_for_update(path)?),
        None => None,
    };
    let mut source = "the command line".to_string();
    let urls = match &existing {
        Some((_, profile, path)) if options.urls.is_empty() => {
            source = path.display().to_string();
            if profile.endpoints.is_empty() {
                return Err(Error::File {
                    file: path.display().to_string(),
                    message: "the profile has no [[endpoints]]: give the URLs to pin".into(),
                });
            }
            profile.endpoints.iter().map(|e| e.url.clone()).collect()
        }
        _ => options.urls.clone(),
    };
    let mut config = Config::from_options(&config::Options {
        urls,
        concurrency: options.concurrency,
        ..options.network.clone().options()
    })?;
    // a URL given twice is one endpoint of the profile
    let mut seen = HashSet::new();
    config.endpoints.retain(|e| seen.insert(e.url.clone()));
    if let Some((_, profile, _)) = &existing {
        with_own_anchors(&mut config, profile);
    }
    generate::pin(Job {
        config,
        source,
        shared_set: options.shared_set.clone(),
        allow_untrusted: options.allow_untrusted,
        backups,
        update: existing.map(|(doc, _, path)| (doc, path)),
        output: options.output.clone(),
        force: options.force,
    })
}

/// The endpoints of the profile being updated whose pin set carries its own anchors are probed
/// with that set, so that their path to those anchors (the one their client verifies) is built
/// and pinned; the other endpoints are pinned on the public path, as new ones are.
fn with_own_anchors(config: &mut Config, profile: &crate::profile::Profile) {
    for endpoint in &mut config.endpoints {
        let set = profile
            .endpoints
            .iter()
            .find(|e| e.url == endpoint.url)
            .and_then(|e| e.pinset.as_deref())
            .and_then(|name| profile.pinsets.iter().find(|s| s.name == name))
            .filter(|set| !set.anchors.is_empty());
        if let Some(set) = set {
            endpoint.pinset = Some(set.name.clone());
            if !config.pinsets.iter().any(|s| s.name == set.name) {
                config.pinsets.push(set.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_refused_before_anything_is_probed() {
        let base = Options {
            urls: vec!["a.test".into()],
            ..Options::default()
        };
        type Case = (&'static str, fn(&mut Options));
        let cases: &[Case] = &[
            ("pin", |o| o.urls.clear()),
            ("--shared-set", |o| o.shared_set = Some(" ".into())),
            ("--backup-pin", |o| {
                o.backup_pins = vec!["sha256/abc".into()]
            }),
            ("--concurrency", |o| o.concurrency = 0),
        ];
        for (flag, change) in cases {
            let mut o = base.clone();
            change(&mut o);
            let e = run(&o).unwrap_err().to_string();
            assert!(e.starts_with(flag), "{flag}: {e}");
        }
    }
}
