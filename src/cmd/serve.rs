//! `pinprobe serve`: its options and its entry point; the exporter is `crate::serve`'s.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::config::{self, Config, Network};
use crate::error::Error;
use crate::net::resolve::Resolver;
use crate::report::Summary;
use crate::serve::{self, Exporter};

/// The options of `pinprobe serve`: where to listen, how many probes at once, and what one
/// probe needs (the profile and pin sets, trust, reach, proxy discovery).
#[derive(Clone, Debug)]
pub struct Options {
    /// `--listen ADDR`
    pub listen: String,
    /// `--max-concurrent N`
    pub max_concurrent: usize,
    /// how targets are reached and their chains trusted
    pub network: Network,
    /// `--profile FILE`: its pin sets and endpoints
    pub profile: Option<PathBuf>,
    /// `--pins FILE`, repeatable
    pub pins: Vec<PathBuf>,
    /// `--pinset NAME`: the pin set of a target asked without `pinset=`
    pub pinset: Option<String>,
    /// `--pac FILE|URL`
    pub pac: Option<String>,
    /// `--wpad`
    pub wpad: bool,
    /// `--system-proxy`
    pub system_proxy: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            listen: serve::DEFAULT_LISTEN.to_string(),
            max_concurrent: serve::DEFAULT_MAX_CONCURRENT,
            network: Network::default(),
            profile: None,
            pins: Vec::new(),
            pinset: None,
            pac: None,
            wpad: false,
            system_proxy: false,
        }
    }
}

impl Options {
    /// The options of a run of `test` that mean the same for one probe.
    fn probe_options(&self) -> config::Options {
        config::Options {
            profile: self.profile.clone(),
            pins: self.pins.clone(),
            pinset: self.pinset.clone(),
            pac: self.pac.clone(),
            wpad: self.wpad,
            system_proxy: self.system_proxy,
            ..self.network.clone().options()
        }
    }
}

/// Validates the options, listens, and answers requests until the process is stopped. Says
/// `pinprobe serve: listening on ADDR` on standard error once it accepts requests.
pub fn run(options: &Options) -> Result<Summary, Error> {
    if options.max_concurrent == 0 || options.max_concurrent > config::MAX_CONCURRENCY {
        return Err(Error::usage(
            "--max-concurrent",
            format!(
                "{} is out of range: give 1 to {}",
                options.max_concurrent,
                config::MAX_CONCURRENCY
            ),
        ));
    }
    let probe_options = options.probe_options();
    // validated as for a chain read from a file: every check of a run, with no endpoint to
    // probe until a request names one
    let config = Config::for_chain(&probe_options)?;
    let (profile, _) = config::load_profile(&probe_options)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(options.listen.as_str())
            .await
            .map_err(|e| {
                Error::usage(
                    "--listen",
                    format!(
                        "cannot listen on {:?}: {e}: give a free HOST:PORT, e.g. 127.0.0.1:9780 or [::1]:9780",
                        options.listen
                    ),
                )
            })?;
        let addr = listener.local_addr().map_err(Error::Runtime)?;
        let resolver = Resolver::system(config.resolve.clone());
        let proxies = config.proxy.load(&resolver).await?;
        let context = crate::run::context(&config, resolver)?.with_proxies(proxies);
        let exporter = Exporter::new(
            context,
            &config,
            profile.endpoints,
            options.pinset.clone(),
            options.max_concurrent,
        );
        let _ = writeln!(
            io::stderr(),
            "pinprobe serve: listening on {addr} (GET /probe?target=URL, GET /metrics)"
        );
        serve::serve(listener, Arc::new(exporter)).await;
        Ok(Summary::default())
    })
}
