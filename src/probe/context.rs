//! What every probe of a run shares: the TLS configuration, the anchor sets, the pin sets, the
//! interceptor names, the resolver and the routes; and the cache of analysed chains.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::ClientConfig;

use crate::chain::cert::CertInfo;
use crate::chain::trust::{build_path, AnchorOrigin, AnchorSet, PathReport};
use crate::error::Error;
use crate::evidence::Interceptors;
use crate::net::handshake;
use crate::net::resolve::Resolver;
use crate::pins::PinSet;
use crate::progress::Progress;
use crate::proxy::ProxyConfig;

/// The analysis of one presented chain: each certificate, and the paths against the public
/// anchors, the OS store and each pin set's own anchors. It depends only on the chain's bytes (and the clock, which moves little in a run),
/// so endpoints that present the same chain (a CDN, a load balancer, an inspecting proxy)
/// share it.
#[derive(Debug)]
pub struct ChainAnalysis {
    /// each certificate as sent
    pub infos: Vec<CertInfo>,
    /// the path against the public anchors
    pub public: PathReport,
    /// the path against the OS store
    pub os: PathReport,
    /// the path against the anchors of each pin set that carries some, by set name: built
    /// when an endpoint of that set first presents the chain (see [`Context::agent_path`])
    agent: std::sync::Mutex<HashMap<String, PathReport>>,
}

/// Most distinct chains kept per run; later ones are analysed and not kept.
const MAX_CACHED_CHAINS: usize = 4096;

/// Deadlines and switches of a run.
#[derive(Clone, Debug)]
pub struct Settings {
    /// deadline for DNS, TCP and the TLS handshake together (as curl's --connect-timeout)
    pub connect_timeout: Duration,
    /// deadline for the whole probe (as curl's --max-time)
    pub timeout: Duration,
    /// send the HTTP request and check the answer
    pub http: bool,
    /// certificates on the path expiring within this many days get a warning
    pub warn_days: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            connect_timeout: crate::config::DEFAULT_CONNECT_TIMEOUT,
            timeout: crate::config::DEFAULT_TIMEOUT,
            http: true,
            warn_days: crate::config::DEFAULT_WARN_DAYS,
        }
    }
}

/// What every probe of a run shares: the TLS configuration, both anchor sets (read once), the
/// pin sets, the interceptor names and the resolver.
pub struct Context {
    pub(super) provider: Arc<CryptoProvider>,
    pub(super) base: ClientConfig,
    /// public roots plus --cacert
    pub public: AnchorSet,
    /// the OS store
    pub os: AnchorSet,
    pub(super) interceptors: Interceptors,
    pub(super) pinsets: HashMap<String, PinSet>,
    /// the anchors of each pin set that carries some (the agent's own store), by set name
    pub agents: HashMap<String, AnchorSet>,
    pub(super) resolver: Resolver,
    pub(super) proxies: ProxyConfig,
    pub(super) progress: Option<Progress>,
    chains: std::sync::Mutex<HashMap<[u8; 32], Arc<ChainAnalysis>>>,
    /// deadlines and switches
    pub settings: Settings,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("public", &self.public)
            .field("os", &self.os)
            .field("settings", &self.settings)
            .finish()
    }
}

impl Context {
    /// A context for a run. The crypto provider is passed explicitly to every builder.
    pub fn new(
        provider: Arc<CryptoProvider>,
        public: AnchorSet,
        os: AnchorSet,
        pinsets: Vec<PinSet>,
        interceptors: Interceptors,
        resolver: Resolver,
        settings: Settings,
    ) -> Result<Context, Error> {
        // The crypto library initialises itself on first use (CPU features, the random
        // generator's seeding, tens of milliseconds here); doing it now keeps that time out of
        // the first probe's handshake timing.
        let mut seed = [0u8; 32];
        let _ = provider.secure_random.fill(&mut seed);
        for group in &provider.kx_groups {
            let _ = group.start();
        }
        let base = handshake::base_config(Arc::clone(&provider)).map_err(|e| Error::File {
            file: "TLS configuration".into(),
            message: format!("the crypto provider cannot be used: {e}"),
        })?;
        Ok(Context {
            provider,
            base,
            public,
            os,
            interceptors,
            agents: pinsets
                .iter()
                .filter(|s| !s.anchors.is_empty())
                .map(|s| (s.name.clone(), AnchorSet::of_pinset(s)))
                .collect(),
            pinsets: pinsets.into_iter().map(|s| (s.name.clone(), s)).collect(),
            resolver,
            proxies: ProxyConfig::direct(),
            progress: None,
            chains: std::sync::Mutex::new(HashMap::new()),
            settings,
        })
    }

    /// The analysis of `chain`, from the run's cache when the same chain was seen before.
    pub fn analyse(&self, chain: &[CertificateDer<'_>], now: UnixTime) -> Arc<ChainAnalysis> {
        let key = chain_key(chain);
        if let Some(hit) = self.chains.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return hit;
        }
        let infos = CertInfo::analyse_chain(chain);
        let algs = self.provider.signature_verification_algorithms.all;
        let public = build_path(&self.public, chain, &infos, algs, now);
        let os = build_path(&self.os, chain, &infos, algs, now);
        let analysis = Arc::new(ChainAnalysis {
            infos,
            public,
            os,
            agent: std::sync::Mutex::new(HashMap::new()),
        });
        if let Ok(mut cache) = self.chains.lock() {
            if cache.len() < MAX_CACHED_CHAINS {
                cache.insert(key, Arc::clone(&analysis));
            }
        }
        analysis
    }

    /// The certificates of the named pin sets' own anchors that have expired at `now`
    /// (seconds since the epoch): each is said once, with the sets that carry it, as a
    /// `pinned-certificate-expired` warning for the run's header.
    pub fn pinned_expired<'s>(
        &self,
        sets: impl IntoIterator<Item = &'s str>,
        now: i64,
    ) -> Vec<super::Warning> {
        let mut expired: Vec<(&crate::chain::trust::AnchorInfo, Vec<&str>)> = Vec::new();
        let mut names: Vec<&str> = sets.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        for name in names {
            for info in self
                .agents
                .get(name)
                .into_iter()
                .flat_map(|a| a.expired(now))
            {
                match expired
                    .iter_mut()
                    .find(|(i, _)| i.spki_sha256 == info.spki_sha256)
                {
                    Some((_, sets)) => sets.push(name),
                    None => expired.push((info, vec![name])),
                }
            }
        }
        expired
            .into_iter()
            .map(|(info, sets)| {
                let file = match &info.origin {
                    AnchorOrigin::PinSet { file, .. } => file.clone(),
                    other => other.to_string(),
                };
                super::Warning {
                    warning: super::result::PINNED_EXPIRED,
                    detail: format!(
                        "{} ({file}, an anchor of pin set{} {}) expired on {}: the client that ships these anchors still carries it, but no chain verifies through it any more; its bundle is due to change",
                        info.name(),
                        if sets.len() == 1 { "" } else { "s" },
                        sets.join(" and "),
                        info.expiry_day(),
                    ),
                }
            })
            .collect()
    }

    /// The path of `chain` (analysed as `analysis`) against the anchors pin set `set` carries;
    /// None when it carries none. Built once per chain and set: only the sets the endpoints
    /// name cost a path, not every set of the profile.
    pub fn agent_path(
        &self,
        analysis: &ChainAnalysis,
        chain: &[CertificateDer<'_>],
        set: &str,
        now: UnixTime,
    ) -> Option<PathReport> {
        let anchors = self.agents.get(set)?;
        if let Some(hit) = analysis.agent.lock().ok().and_then(|m| m.get(set).cloned()) {
            return Some(hit);
        }
        let algs = self.provider.signature_verification_algorithms.all;
        let report = build_path(anchors, chain, &analysis.infos, algs, now);
        if let Ok(mut paths) = analysis.agent.lock() {
            paths.insert(set.to_string(), report.clone());
        }
        Some(report)
    }

    /// The same context, counting each finished probe on `progress`.
    pub fn with_progress(mut self, progress: Option<Progress>) -> Context {
        self.progress = progress;
        self
    }

    /// Ends the progress bar, if there is one.
    pub fn finish_progress(&self) {
        if let Some(p) = &self.progress {
            p.finish();
        }
    }

    /// How endpoints are reached: the one place that gives each its routes.
    pub fn proxies(&self) -> &ProxyConfig {
        &self.proxies
    }

    /// The same context, reaching endpoints through `proxies` (direct by default).
    pub fn with_proxies(mut self, proxies: ProxyConfig) -> Context {
        self.proxies = proxies;
        self
    }
}

/// SHA-256 over the chain: each certificate's length and bytes, in order.
fn chain_key(chain: &[CertificateDer<'_>]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for der in chain {
        hash.update((der.len() as u64).to_be_bytes());
        hash.update(der.as_ref());
    }
    hash.finalize().into()
}
