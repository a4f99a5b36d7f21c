//! One probe, start to verdict: resolve, connect, handshake with the recording verifier, GET,
//! then analyse the chain, build both paths, match the pins, collect the evidence and classify.
//!
//! Everything the network does is recorded as data in a `ProbeResult`; nothing here returns an
//! error. `run_all` runs many probes concurrently and hands results back in input order.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::ClientConfig;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::timeout_at;
use tokio_rustls::TlsConnector;

use crate::chain::cert::CertInfo;
use crate::chain::trust::{
    build_path, check_name, check_validity, AnchorSet, NameCheck, PathReport, PathState,
    TimeProblem, ValidityCheck,
};
use crate::drift::{self, Drift};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::evidence::{self, Interception, Interceptors, Strength};
use crate::net::handshake;
use crate::net::http::{self, HttpError};
use crate::net::proxy::{self, ConnectError, ProxyAnswer};
use crate::net::resolve::{Resolver, Source};
use crate::net::route::{Hop, ProxyConfig, Route, Skipped};
use crate::pins::{Pin, PinSet};
use crate::progress::Progress;
use crate::verdict::{classify, Anchored, Classified, Findings, NetFailure, Verdict};

/// The analysis of one presented chain: each certificate, and the paths against both anchor
/// sets. It depends only on the chain's bytes (and the clock, which moves little in a run),
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
    /// send the HTTP GET and check the answer
    pub http: bool,
    /// certificates on the path expiring within this many days get a warning
    pub warn_days: u32,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(20),
            http: true,
            warn_days: 30,
        }
    }
}

/// What every probe of a run shares: the TLS configuration, both anchor sets (read once), the
/// pin sets, the interceptor names and the resolver.
pub struct Context {
    provider: Arc<CryptoProvider>,
    base: ClientConfig,
    /// public roots plus --cacert
    pub public: AnchorSet,
    /// the OS store
    pub os: AnchorSet,
    interceptors: Interceptors,
    pinsets: HashMap<String, PinSet>,
    resolver: Resolver,
    proxies: ProxyConfig,
    progress: Option<Progress>,
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
        let infos: Vec<CertInfo> = chain
            .iter()
            .enumerate()
            .map(|(i, der)| CertInfo::analyse(i, der.as_ref()))
            .collect();
        let algs = self.provider.signature_verification_algorithms.all;
        let public = build_path(&self.public, chain, &infos, algs, now);
        let os = build_path(&self.os, chain, &infos, algs, now);
        let analysis = Arc::new(ChainAnalysis { infos, public, os });
        if let Ok(mut cache) = self.chains.lock() {
            if cache.len() < MAX_CACHED_CHAINS {
                cache.insert(key, Arc::clone(&analysis));
            }
        }
        analysis
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

    /// The same context, reaching endpoints through `proxies` (direct by default).
    pub fn with_proxies(mut self, proxies: ProxyConfig) -> Context {
        self.proxies = proxies;
        self
    }

    /// How the endpoints are reached, for report headers: `direct`, `via http://proxy:port
    /// (origin)`, or the PAC file that decides.
    pub fn route_for_proxy_text(&self) -> String {
        self.proxies.describe()
    }

    /// The route the proxy configuration gives for `endpoint`.
    pub fn route_for(&self, endpoint: &Endpoint) -> Route {
        self.proxies.route_for(&endpoint.host)
    }
}

/// The negotiated TLS parameters.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TlsParams {
    /// e.g. `TLSv1_3`
    pub version: Option<String>,
    /// e.g. `TLS13_AES_256_GCM_SHA384`
    pub cipher_suite: Option<String>,
    /// the key-exchange group, e.g. `X25519`
    pub kx_group: Option<String>,
    /// the ALPN protocol, if the server chose one
    pub alpn: Option<String>,
}

/// Milliseconds spent in each phase; a phase that did not run is absent.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timings {
    /// name resolution
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<f64>,
    /// TCP connect
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect: Option<f64>,
    /// the CONNECT exchange with the proxy
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<f64>,
    /// TLS handshake
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake: Option<f64>,
    /// HTTP request and answer
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<f64>,
    /// the whole probe, analysis included
    pub total: f64,
}

/// Both paths and the separate name and time checks.
#[derive(Clone, Debug, Serialize)]
pub struct Trust {
    /// the path against the public anchors
    pub public: PathReport,
    /// the path against the OS store
    pub os: PathReport,
    /// does the leaf cover the host name
    pub hostname: Option<NameCheck>,
    /// is every presented certificate within its validity period
    pub validity: Option<ValidityCheck>,
}

/// A pin of the set found on the trusted path.
#[derive(Clone, Debug, Serialize)]
pub struct PinMatch {
    /// the pin
    pub pin: Pin,
    /// its label in the pin set
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// the certificate it matched (`#1 DigiCert Global G2 ...` or `anchor ...`)
    pub certificate: String,
}

/// The pin check.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PinReport {
    /// the pin set, if the endpoint has one
    pub set: Option<String>,
    /// `None` without a set
    pub matched: Option<bool>,
    /// the store whose path the pins were compared with (`public` or `os`)
    pub path: Option<&'static str>,
    /// the pins found on that path
    pub matches: Vec<PinMatch>,
    /// the pins of the certificates on that path, for updating a set
    pub path_pins: Vec<PinMatch>,
}

/// A warning that rides along with the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// stable code: `expires-soon`, `weak-key`, `sha1-signature`, `trust-store`
    pub warning: &'static str,
    /// what was seen
    pub detail: String,
}

/// The HTTP check.
#[derive(Clone, Debug, Serialize)]
pub struct HttpReport {
    /// the answer, when one came
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<http::Answer>,
    /// why the check failed, if it did
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// expected status
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    /// expected body
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_body: Option<String>,
}

/// Everything one probe found.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeResult {
    /// the endpoint's URL
    pub url: String,
    /// how it was reached
    pub route: Route,
    /// the address connected to (or the last one tried)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<SocketAddr>,
    /// where the address came from
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<Source>,
    /// the proxy's answer to CONNECT, when the route goes through one
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<ProxyAnswer>,
    /// the verdict
    pub verdict: Verdict,
    /// the curl exit code a user of the guide would have seen
    pub curl_code: u8,
    /// one line of evidence (empty when ok)
    pub detail: String,
    /// warnings
    pub warnings: Vec<Warning>,
    /// the presented chain, in the order sent
    pub chain: Vec<CertInfo>,
    /// both paths, the name and the time checks (absent when no chain was seen)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust: Option<Trust>,
    /// the pin check
    pub pins: PinReport,
    /// interception evidence
    pub interception: Interception,
    /// how the pin set and the verified path drifted apart, when they did
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
    /// the HTTP check (absent when skipped or not reached)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpReport>,
    /// negotiated parameters (absent when the handshake did not complete)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsParams>,
    /// time per phase
    pub timings_ms: Timings,
}

impl ProbeResult {
    fn new(endpoint: &Endpoint) -> ProbeResult {
        ProbeResult::blank(&endpoint.url, endpoint.pinset.clone())
    }

    fn blank(url: &str, pinset: Option<String>) -> ProbeResult {
        ProbeResult {
            url: url.to_string(),
            route: Route::direct(None),
            address: None,
            resolved_by: None,
            proxy: None,
            verdict: Verdict::InternalError,
            curl_code: Verdict::InternalError.curl_code(),
            detail: String::new(),
            warnings: Vec::new(),
            chain: Vec::new(),
            trust: None,
            pins: PinReport {
                set: pinset,
                ..PinReport::default()
            },
            interception: Interception::default(),
            drift: None,
            http: None,
            tls: None,
            timings_ms: Timings::default(),
        }
    }

    /// The result for an endpoint whose probe task died (a bug); keeps the run going.
    pub fn internal_error(endpoint: &Endpoint, what: &str) -> ProbeResult {
        let mut r = ProbeResult::new(endpoint);
        r.detail = format!("the probe stopped unexpectedly: {what}");
        r
    }
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
}

fn failure(verdict: Verdict, detail: String) -> Option<NetFailure> {
    Some(NetFailure { verdict, detail })
}

/// Probes one endpoint on the route the context gives it. Never fails: every outcome is a
/// verdict.
pub async fn run(ctx: &Context, endpoint: &Endpoint) -> ProbeResult {
    run_route(ctx, endpoint, ctx.route_for(endpoint)).await
}

/// Probes one endpoint on the given route (`--compare-direct` probes each endpoint twice).
pub async fn run_route(ctx: &Context, endpoint: &Endpoint, route: Route) -> ProbeResult {
    let start = Instant::now();
    let settings = &ctx.settings;
    let deadline = tokio::time::Instant::from_std(start + settings.timeout);
    let connect_deadline =
        tokio::time::Instant::from_std(start + settings.connect_timeout.min(settings.timeout));
    let connect_limit = settings.connect_timeout.min(settings.timeout);
    let mut r = ProbeResult::new(endpoint);
    let route = match decide_by_pac(ctx, endpoint, route).await {
        Ok(route) => route,
        Err(route) => {
            // the PAC file failed for this endpoint: a verdict, and the run goes on
            r.route = route;
            let detail = r
                .route
                .pac
                .as_ref()
                .and_then(|p| p.error.clone())
                .unwrap_or_default();
            r.verdict = Verdict::PacFailed;
            r.curl_code = Verdict::PacFailed.curl_code();
            r.detail = detail;
            r.timings_ms.total = ms(start);
            return r;
        }
    };
    r.route = route.clone();
    let mut net_failure = None;
    let mut http_problem = None;
    let mut chain: Vec<CertificateDer<'static>> = Vec::new();

    'network: {
        // the ways to reach the endpoint, in order: one, or the entries of a PAC answer, each
        // tried when the one before could not be reached (as browsers do)
        let hops = route.hops();
        let mut reached = None;
        let mut skipped: Vec<Skipped> = Vec::new();
        for (i, hop) in hops.iter().enumerate() {
            let last = i + 1 == hops.len();
            let (host, port, whose) = match hop {
                Hop::Unsupported { entry, why } => {
                    skipped.push(Skipped {
                        entry: entry.clone(),
                        why: why.clone(),
                    });
                    continue;
                }
                Hop::Direct => (endpoint.host.as_str(), endpoint.port, String::new()),
                Hop::Proxy(p) => (p.host.as_str(), p.port, format!("the proxy {}: ", p.url())),
            };
            match reach(
                ctx,
                host,
                port,
                &whose,
                connect_deadline,
                connect_limit,
                &mut r,
            )
            .await
            {
                Ok(stream) => {
                    reached = Some((stream, hop.clone()));
                    break;
                }
                Err(f) if !last && hops.len() > 1 => skipped.push(Skipped {
                    entry: hop.describe(),
                    why: f.detail,
                }),
                Err(f) => {
                    net_failure = Some(f);
                    break;
                }
            }
        }
        if let Some(pac) = r.route.pac.as_mut() {
            pac.skipped = skipped.clone();
        }
        let Some((mut tcp, hop)) = reached else {
            let failure = net_failure.take().unwrap_or(NetFailure {
                verdict: Verdict::ConnectFailed,
                detail: "no entry of the PAC answer could be used".into(),
            });
            let detail = if skipped.is_empty() {
                failure.detail
            } else {
                let passed: Vec<String> = skipped
                    .iter()
                    .map(|s| format!("{}: {}", s.entry, s.why))
                    .collect();
                format!("{} (after {})", failure.detail, passed.join("; "))
            };
            net_failure = Some(NetFailure {
                verdict: failure.verdict,
                detail,
            });
            break 'network;
        };
        r.route.taken(&hop);
        let route = r.route.clone();
        // a probe sends one small request; waiting to coalesce it would only add latency
        let _ = tcp.set_nodelay(true);

        // CONNECT through the proxy
        if let Some(p) = &route.proxy {
            let t = Instant::now();
            let exchange = timeout_at(
                connect_deadline,
                proxy::connect(&mut tcp, &endpoint.authority_with_port(), p),
            )
            .await;
            r.timings_ms.proxy = Some(ms(t));
            match exchange {
                Err(_) => {
                    net_failure = failure(
                        Verdict::Timeout,
                        format!(
                            "phase proxy: the proxy {} did not answer CONNECT within {}",
                            p.url(),
                            seconds(connect_limit)
                        ),
                    );
                    break 'network;
                }
                Ok(Ok(answer)) => r.proxy = Some(answer),
                Ok(Err(e)) => {
                    net_failure = Some(proxy_failure(e, p, endpoint, &mut r));
                    break 'network;
                }
            }
        }

        // TLS
        let t = Instant::now();
        let (config, recorded) = handshake::for_probe(&ctx.base, Arc::clone(&ctx.provider));
        let connector = TlsConnector::from(config);
        let outcome = timeout_at(
            connect_deadline,
            connector.connect(endpoint.server_name.clone(), tcp),
        )
        .await;
        r.timings_ms.handshake = Some(ms(t));
        let (seen, signature_error) = match recorded.lock() {
            Ok(rec) => (rec.chain.clone(), rec.signature_error.clone()),
            Err(_) => (Vec::new(), None),
        };
        chain = seen;
        let mut tls = match outcome {
            Err(_) => {
                net_failure = failure(
                    Verdict::Timeout,
                    format!(
                        "phase tls-handshake: the handshake did not complete within {}{}",
                        seconds(connect_limit),
                        after_chain(chain.len())
                    ),
                );
                break 'network;
            }
            Ok(Err(e)) => {
                net_failure = failure(
                    Verdict::HandshakeFailed,
                    handshake_text(&e, signature_error.as_deref(), chain.len()),
                );
                break 'network;
            }
            Ok(Ok(tls)) => tls,
        };
        let (_, conn) = tls.get_ref();
        r.tls = Some(TlsParams {
            version: conn.protocol_version().map(|v| format!("{v:?}")),
            cipher_suite: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite())),
            kx_group: conn
                .negotiated_key_exchange_group()
                .map(|g| format!("{:?}", g.name())),
            alpn: conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
        });

        // HTTP
        if !settings.http {
            break 'network;
        }
        let t = Instant::now();
        let expect = &endpoint.expect;
        let answer = timeout_at(
            deadline,
            http::get(&mut tls, &endpoint.authority(), &endpoint.path),
        )
        .await;
        r.timings_ms.http = Some(ms(t));
        let mut report = HttpReport {
            answer: None,
            error: None,
            expect_status: expect.status,
            expect_body: expect.body.clone(),
        };
        match answer {
            Err(_) => {
                let detail = format!(
                    "phase http: no complete answer to GET {} before the {} deadline",
                    endpoint.path,
                    seconds(settings.timeout)
                );
                report.error = Some(detail.clone());
                http_problem = Some(Classified::new(Verdict::Timeout, detail));
            }
            Ok(Err(e)) => {
                let curl_code = match e {
                    HttpError::NoAnswer => 52,
                    HttpError::Malformed(_) | HttpError::HeadTooLarge(_) => 8,
                    HttpError::Send(_) => 55,
                    HttpError::Read(_) => 56,
                };
                let detail = format!("GET {}: {e}", endpoint.path);
                report.error = Some(detail.clone());
                http_problem = Some(Classified {
                    verdict: Verdict::HttpUnexpected,
                    curl_code,
                    detail,
                });
            }
            Ok(Ok(answer)) => {
                if let Some(why) = http::mismatch(&answer, expect.status, expect.body.as_deref()) {
                    http_problem = Some(Classified::new(
                        Verdict::HttpUnexpected,
                        format!("GET {}: {why}", endpoint.path),
                    ));
                }
                report.answer = Some(answer);
            }
        }
        r.http = Some(report);
        // a polite close; the answer is already read, so its outcome does not matter
        let _ = timeout_at(deadline, tokio::io::AsyncWriteExt::shutdown(&mut tls)).await;
    }

    let classified = judge(
        ctx,
        Some(&endpoint.server_name),
        &chain,
        net_failure,
        http_problem,
        &mut r,
    );
    // what the proxy says of itself helps tell a filtering proxy from an inspecting one
    if let Some(answer) = &r.proxy {
        let identity = answer.identity();
        if !identity.is_empty() {
            r.interception.evidence.push(evidence::Signal {
                signal: "proxy-identity",
                detail: format!("the proxy's answer to CONNECT says {}", identity.join(", ")),
                strength: Strength::Weak,
            });
        }
    }
    r.verdict = classified.verdict;
    r.curl_code = classified.curl_code;
    r.detail = classified.detail;
    r.timings_ms.total = ms(start);
    r
}

/// Analyses a chain captured elsewhere (e.g. with `openssl s_client -showcerts`): the same
/// analysis and verdict as a live probe, without the network. `label` names it in reports;
/// `server_name`, when given, is checked against the leaf; `pinset` names the pin set.
pub fn analyse_chain(
    ctx: &Context,
    label: &str,
    server_name: Option<&ServerName<'static>>,
    pinset: Option<String>,
    chain: &[CertificateDer<'static>],
) -> ProbeResult {
    let start = Instant::now();
    let mut r = ProbeResult::blank(label, pinset);
    r.route.via = "file".into();
    let classified = judge(ctx, server_name, chain, None, None, &mut r);
    r.verdict = classified.verdict;
    r.curl_code = classified.curl_code;
    r.detail = classified.detail;
    r.timings_ms.total = ms(start);
    r
}

/// Analyses the chain (if one was seen), fills trust, pins and evidence, and classifies.
fn judge(
    ctx: &Context,
    server_name: Option<&ServerName<'static>>,
    chain: &[CertificateDer<'static>],
    net_failure: Option<NetFailure>,
    http_problem: Option<Classified>,
    r: &mut ProbeResult,
) -> Classified {
    let pinset = r.pins.set.as_ref().and_then(|name| ctx.pinsets.get(name));
    if chain.is_empty() {
        let failure = net_failure.unwrap_or(NetFailure {
            verdict: Verdict::HandshakeFailed,
            detail: "the server presented no certificate".into(),
        });
        return Classified::new(failure.verdict, failure.detail);
    }

    let now = UnixTime::now();
    let analysis = ctx.analyse(chain, now);
    r.chain = analysis.infos.clone();
    let public = analysis.public.clone();
    let os = analysis.os.clone();
    let hostname = server_name.map(|name| check_name(&chain[0], &r.chain[0], name));
    let validity = check_validity(&r.chain, now);

    r.interception = evidence::collect(&evidence::Inputs {
        chain: &r.chain,
        public: &public,
        os: &os,
        public_has_key: &|pin: &Pin| ctx.public.has_key(pin),
        pinset,
        interceptors: &ctx.interceptors,
        now: now.as_secs() as i64,
    });

    // the pins are compared with the public path when there is one, else with the OS path
    // (a private PKI the user pinned and installed); never with certificates off the path
    let trusted_path = if public.state != PathState::NotReached {
        Some(&public)
    } else if os.state != PathState::NotReached {
        Some(&os)
    } else {
        None
    };
    let mut os_pinned = false;
    let keys = trusted_path.map(|p| p.keys(&r.chain)).unwrap_or_default();
    if let Some(path) = trusted_path {
        r.pins.path = Some(path.store);
        for key in &keys {
            let label = pinset
                .and_then(|s| s.allowed(&key.pin))
                .map(|e| e.label.clone());
            let entry = PinMatch {
                pin: key.pin,
                label: label.clone().flatten(),
                certificate: key.label(),
            };
            if label.is_some() {
                r.pins.matches.push(entry.clone());
            }
            r.pins.path_pins.push(entry);
        }
    }
    if pinset.is_some() {
        let matched = !r.pins.matches.is_empty();
        r.pins.matched = Some(matched);
        os_pinned = matched && public.state == PathState::NotReached && os.verified;
    }
    let pins_detail = match (pinset, trusted_path) {
        (Some(set), Some(path)) => format!(
            "none of the {} pins of set {} is on the verified path ({}: {})",
            set.pins.len(),
            set.name,
            path.store,
            r.pins
                .path_pins
                .iter()
                .map(|m| format!("{} {}", m.certificate, m.pin))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    };

    if let (Some(set), Some(_)) = (pinset, trusted_path) {
        r.drift = drift::compare(set, &keys, &taken_on(now));
        if let Some(d) = r.drift.as_ref().filter(|d| d.matched) {
            r.warnings.push(Warning {
                warning: "pin-drift",
                detail: d.summary.clone(),
            });
        }
    }

    warnings(ctx, trusted_path, &r.chain, now, &mut r.warnings);

    let anchored = |p: &PathReport| match p.state {
        PathState::Verified => Anchored::Verified,
        PathState::TimeInvalid(TimeProblem::Expired) => Anchored::Expired,
        PathState::TimeInvalid(TimeProblem::NotYetValid) => Anchored::NotYetValid,
        PathState::NotReached => Anchored::No,
    };
    let strong = r
        .interception
        .evidence
        .iter()
        .find(|s| s.strength == Strength::Strong)
        .map(|s| s.detail.clone());
    let findings = Findings {
        failure: net_failure,
        public: anchored(&public),
        public_detail: untrusted_text(&r.chain, &public, &os),
        os_pinned,
        name_ok: hostname.as_ref().is_none_or(|h| h.ok),
        name_detail: hostname
            .as_ref()
            .and_then(|h| h.detail.clone())
            .unwrap_or_default(),
        time_detail: public
            .error
            .clone()
            .or_else(|| os.error.clone())
            .unwrap_or_default(),
        pins_matched: r.pins.matched,
        pins_detail,
        strong_evidence: strong,
        denied: r
            .interception
            .evidence
            .iter()
            .find(|s| s.signal == "deny-pin")
            .map(|s| s.detail.clone()),
        vendor: r.interception.vendor.clone(),
        http_problem,
    };
    r.trust = Some(Trust {
        public,
        os,
        hostname,
        validity: Some(validity),
    });
    classify(&findings)
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

fn taken_on(now: UnixTime) -> String {
    let date = time::OffsetDateTime::from_unix_timestamp(now.as_secs() as i64)
        .map(|t| t.date().to_string())
        .unwrap_or_default();
    format!("taken {date}")
}

fn untrusted_text(chain: &[CertInfo], public: &PathReport, os: &PathReport) -> String {
    let why = public.error.clone().unwrap_or_default();
    let what = match chain {
        [leaf] if leaf.self_issued => {
            format!("self-signed certificate \"{}\": ", leaf.short_name())
        }
        [.., last] => format!(
            "chain ends at \"{}\" issued by \"{}\": ",
            last.short_name(),
            last.issuer
        ),
        [] => String::new(),
    };
    let os_text = if os.verified {
        ""
    } else {
        "; the OS store does not trust it either"
    };
    format!("{what}{why}{os_text}")
}

fn warnings(
    ctx: &Context,
    path: Option<&PathReport>,
    chain: &[CertInfo],
    now: UnixTime,
    out: &mut Vec<Warning>,
) {
    let now = now.as_secs() as i64;
    let horizon = now + i64::from(ctx.settings.warn_days) * 86_400;
    let on_path = path
        .map(|p| {
            p.path
                .iter()
                .filter_map(|i| chain.get(*i))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for c in on_path {
        if c.not_after_unix >= now && c.not_after_unix < horizon {
            out.push(Warning {
                warning: "expires-soon",
                detail: format!(
                    "#{} {} expires in {} days ({})",
                    c.index,
                    c.short_name(),
                    (c.not_after_unix - now) / 86_400,
                    c.not_after
                ),
            });
        }
        if let Some(detail) = c.weak_key() {
            out.push(Warning {
                warning: "weak-key",
                detail,
            });
        }
        // a self-signed leaf's signature on itself is checked by nobody
        if c.index > 0 || !c.self_issued {
            if let Some(detail) = c.weak_signature() {
                out.push(Warning {
                    warning: "sha1-signature",
                    detail,
                });
            }
        }
    }
}

/// Asks the PAC file, when one decides the routes, which entries to try for `endpoint`. The
/// evaluation is synchronous JavaScript with its own time limit, so it runs off the async
/// threads. Err carries the route with the PAC error, for the `pac-failed` verdict.
async fn decide_by_pac(
    ctx: &Context,
    endpoint: &Endpoint,
    mut route: Route,
) -> Result<Route, Route> {
    let (Some(pac), Some(decision)) = (ctx.proxies.pac(), route.pac.as_mut()) else {
        return Ok(route);
    };
    if !route.hops.is_empty() {
        return Ok(route);
    }
    let outcome = match crate::pac::arguments(&endpoint.url) {
        Err(e) => Err(e),
        Ok((url, host)) => {
            let pac = pac.clone();
            match tokio::task::spawn_blocking(move || pac.find_proxy(&url, &host)).await {
                Ok(Ok(entries)) => Ok(entries),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(format!("the PAC evaluation stopped: {e}")),
            }
        }
    };
    match outcome {
        Ok(entries) => {
            decision.returned = crate::pac::describe_list(&entries);
            route.hops = crate::pac::hops(&entries);
            route.via = "pac".into();
            Ok(route)
        }
        Err(e) => {
            decision.error = Some(e);
            Err(route)
        }
    }
}

/// Resolves `host` and opens TCP to it (the endpoint, or a proxy: `whose` says which in
/// messages), trying each address in turn as curl does without happy eyeballs.
async fn reach(
    ctx: &Context,
    host: &str,
    port: u16,
    whose: &str,
    deadline: tokio::time::Instant,
    limit: Duration,
    r: &mut ProbeResult,
) -> Result<TcpStream, NetFailure> {
    let t = Instant::now();
    let resolved = timeout_at(deadline, ctx.resolver.resolve(host, port)).await;
    r.timings_ms.dns = Some(ms(t));
    let addrs = match resolved {
        Err(_) => {
            return Err(NetFailure {
                verdict: Verdict::Timeout,
                detail: format!(
                    "phase dns: {whose}{host} did not resolve within {}",
                    seconds(limit)
                ),
            })
        }
        Ok(Err(e)) => {
            return Err(NetFailure {
                verdict: Verdict::DnsFailed,
                detail: format!("{whose}{e}"),
            })
        }
        Ok(Ok((addrs, source))) => {
            r.resolved_by = Some(source);
            addrs
        }
    };
    let t = Instant::now();
    let mut errors = Vec::new();
    for addr in addrs.iter().take(8) {
        r.address = Some(*addr);
        match timeout_at(deadline, TcpStream::connect(addr)).await {
            Ok(Ok(stream)) => {
                r.timings_ms.connect = Some(ms(t));
                return Ok(stream);
            }
            Ok(Err(e)) => errors.push(format!("{addr}: {}", io_text(&e))),
            Err(_) => {
                r.timings_ms.connect = Some(ms(t));
                return Err(NetFailure {
                    verdict: Verdict::Timeout,
                    detail: format!(
                        "phase connect: {whose}no TCP answer from {addr} within {}",
                        seconds(limit)
                    ),
                });
            }
        }
    }
    r.timings_ms.connect = Some(ms(t));
    Err(NetFailure {
        verdict: Verdict::ConnectFailed,
        detail: format!("{whose}{}", errors.join("; ")),
    })
}

/// The verdict for a CONNECT that did not open a tunnel.
fn proxy_failure(
    e: ConnectError,
    p: &crate::net::route::Proxy,
    endpoint: &Endpoint,
    r: &mut ProbeResult,
) -> NetFailure {
    let target = endpoint.authority_with_port();
    match e {
        ConnectError::Status(answer) => {
            let identity = answer.identity();
            let said = if identity.is_empty() {
                String::new()
            } else {
                format!(" ({})", identity.join(", "))
            };
            let failure = if answer.status == 407 {
                let schemes = answer.auth_schemes();
                let offered = if schemes.is_empty() {
                    "no scheme named".to_string()
                } else {
                    format!("it offers {}", schemes.join(", "))
                };
                let sent = if p.has_credentials() {
                    "; the credentials of the proxy URL were refused"
                } else {
                    ""
                };
                NetFailure {
                    verdict: Verdict::ProxyAuthRequired,
                    detail: format!(
                        "the proxy {} answered CONNECT {target} with 407 {}{said}: {offered}{sent}; Defender for Endpoint does not support authenticated proxies",
                        p.url(),
                        answer.reason
                    ),
                }
            } else {
                NetFailure {
                    verdict: Verdict::ProxyRefused,
                    detail: format!(
                        "the proxy {} answered CONNECT {target} with {} {}{said}",
                        p.url(),
                        answer.status,
                        answer.reason
                    ),
                }
            };
            r.proxy = Some(answer);
            failure
        }
        other => NetFailure {
            verdict: Verdict::ProxyRefused,
            detail: format!(
                "the proxy {} did not open a tunnel to {target}: {other}",
                p.url()
            ),
        },
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn after_chain(certificates: usize) -> String {
    if certificates == 0 {
        String::new()
    } else {
        format!(" (after the server sent {certificates} certificates)")
    }
}

fn io_text(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::ConnectionReset => "connection reset".into(),
        K::TimedOut => "timed out".into(),
        _ => e.to_string(),
    }
}

fn handshake_text(
    e: &std::io::Error,
    signature_error: Option<&str>,
    certificates: usize,
) -> String {
    let after = after_chain(certificates);
    if let Some(sig) = signature_error {
        return format!(
            "the server's handshake signature does not verify with the leaf's key ({sig}){after}"
        );
    }
    let tls = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let what = match tls {
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("the server sent the TLS alert {alert:?}")
        }
        Some(rustls::Error::InvalidMessage(m)) => {
            format!("the server answered with bytes that are not TLS ({m:?})")
        }
        Some(rustls::Error::InappropriateHandshakeMessage { .. })
        | Some(rustls::Error::InappropriateMessage { .. }) => {
            format!("the server broke the TLS protocol ({})", e)
        }
        Some(rustls::Error::PeerIncompatible(why)) => {
            format!(
                "the server and pinprobe have no TLS version or cipher suite in common ({why:?})"
            )
        }
        Some(other) => format!("TLS error: {other}"),
        None => match e.kind() {
            std::io::ErrorKind::ConnectionReset => {
                "the connection was reset during the handshake".into()
            }
            std::io::ErrorKind::UnexpectedEof => {
                "the server closed the connection during the handshake".into()
            }
            _ => format!("the handshake failed: {e}"),
        },
    };
    format!("{what}{after}")
}

/// Probes every endpoint on its route, at most `concurrency` at a time, and hands each result
/// to `emit` in input order as soon as it and all before it are done. A slow endpoint delays
/// only the printing of those after it, never their probes.
pub async fn run_all<F>(ctx: Arc<Context>, endpoints: Vec<Endpoint>, concurrency: usize, emit: F)
where
    F: FnMut(usize, ProbeResult),
{
    let jobs = endpoints
        .into_iter()
        .map(|e| {
            let route = ctx.route_for(&e);
            (e, route)
        })
        .collect();
    run_jobs(ctx, jobs, concurrency, Order::Input, emit).await
}

/// The order in which results reach the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// the order of the endpoints (text and JSON reports)
    Input,
    /// as each probe finishes (NDJSON: nothing is held back)
    Completion,
}

/// As `run_all`, with the route of each probe given (`--compare-direct` gives each endpoint
/// twice, direct and through the proxy) and the order of delivery chosen. Probes are started
/// only as slots free up, so at most `concurrency` exist at a time whatever the count; with
/// `Order::Input`, results that finish early wait for those before them.
pub async fn run_jobs<F>(
    ctx: Arc<Context>,
    jobs: Vec<(Endpoint, Route)>,
    concurrency: usize,
    order: Order,
    mut emit: F,
) where
    F: FnMut(usize, ProbeResult),
{
    let concurrency = concurrency.max(1);
    let mut queue = jobs.into_iter().enumerate();
    let mut tasks = JoinSet::new();
    // the endpoint of each task in flight, to report a task that died
    let mut in_flight: HashMap<tokio::task::Id, (usize, Endpoint)> = HashMap::new();
    let mut pending = BTreeMap::new();
    let mut next = 0;
    let mut deliver = |index: usize, result: ProbeResult| match order {
        Order::Completion => emit(index, result),
        Order::Input => {
            pending.insert(index, result);
            while let Some(result) = pending.remove(&next) {
                emit(next, result);
                next += 1;
            }
        }
    };
    loop {
        while tasks.len() < concurrency {
            let Some((index, (endpoint, route))) = queue.next() else {
                break;
            };
            let ctx = Arc::clone(&ctx);
            let kept = endpoint.clone();
            let handle = tasks.spawn(async move {
                let result = run_route(&ctx, &endpoint, route).await;
                if let Some(p) = &ctx.progress {
                    p.done(result.verdict == Verdict::Ok);
                }
                (index, result)
            });
            in_flight.insert(handle.id(), (index, kept));
        }
        match tasks.join_next_with_id().await {
            None => break,
            Some(Ok((id, (index, result)))) => {
                in_flight.remove(&id);
                deliver(index, result);
            }
            Some(Err(e)) => {
                if let Some((index, endpoint)) = in_flight.remove(&e.id()) {
                    deliver(
                        index,
                        ProbeResult::internal_error(&endpoint, &e.to_string()),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Behaviour, Ca, KeyKind, LabProxy, LeafSpec, ProxyBehaviour, Server};
    use crate::net::route::{PacDecision, Proxy};

    fn context(root: &Ca) -> Context {
        Context::new(
            Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            AnchorSet::from_certificates("public", &[root.der().clone()], "test root"),
            AnchorSet::from_certificates("os", &[], "test"),
            Vec::new(),
            Interceptors::bundled().unwrap(),
            Resolver::fixed(Vec::new()),
            Settings::default(),
        )
        .unwrap()
    }

    #[test]
    fn a_chain_is_analysed_once_per_run() {
        let root = Ca::root("Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let a = root.leaf(&LeafSpec::new(["a.test"])).unwrap();
        let b = root.leaf(&LeafSpec::new(["b.test"])).unwrap();
        let ctx = context(&root);
        let now = UnixTime::now();
        let first = ctx.analyse(&a.chain(), now);
        assert!(first.public.verified);
        assert!(Arc::ptr_eq(&first, &ctx.analyse(&a.chain(), now)));
        let other = ctx.analyse(&b.chain(), now);
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(other.infos[0].sans, ["b.test"]);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn entries_are_tried_in_order_until_one_is_reached() {
        let root = Ca::root("Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let leaf = root.leaf(&LeafSpec::new(["lab.test"])).unwrap();
        let server = Server::start(
            leaf.chain(),
            leaf.key.clone_key(),
            Behaviour::Http {
                status: 200,
                body: "OK".into(),
            },
        )
        .await
        .unwrap();
        let endpoint = Endpoint::parse("https://lab.test/ping").unwrap();
        let targets = HashMap::from([("lab.test:443".to_string(), server.addr())]);
        let working = LabProxy::start(ProxyBehaviour::Forward { targets })
            .await
            .unwrap();
        let dead = crate::lab::closed_port().unwrap();
        let hops = vec![
            Hop::Unsupported {
                entry: "SOCKS5 127.0.0.1:1080".into(),
                why: "SOCKS proxies are not supported".into(),
            },
            Hop::Proxy(Proxy::parse(&format!("127.0.0.1:{dead}")).unwrap()),
            Hop::Proxy(Proxy::parse(&working.url()).unwrap()),
            Hop::Direct,
        ];
        let route = Route::from_pac(
            hops,
            PacDecision {
                source: "test.pac".into(),
                returned: "SOCKS5 ...; PROXY dead; PROXY working; DIRECT".into(),
                ..PacDecision::default()
            },
        );
        let ctx = context(&root);
        let r = run_route(&ctx, &endpoint, route).await;
        assert_eq!(r.verdict, Verdict::Ok, "{}", r.detail);
        assert_eq!(r.route.via, working.url());
        let pac = r.route.pac.as_ref().unwrap();
        assert_eq!(pac.skipped.len(), 2, "{pac:?}");
        assert!(pac.skipped[1].why.contains("the proxy"), "{pac:?}");
        assert_eq!(
            pac.used.as_deref(),
            Some(format!("PROXY {}", working.addr()).as_str())
        );
        assert!(
            r.route.describe().contains("skipped SOCKS5"),
            "{}",
            r.route.describe()
        );
    }
}
