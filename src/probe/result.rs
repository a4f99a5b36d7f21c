//! What one probe found: the verdict with its evidence, the chain, both paths, the pin check,
//! the HTTP answer, the TLS parameters and the time of each phase. Serialised as-is into the
//! JSON report, so field names are a public format.

use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;

use crate::chain::cert::CertInfo;
use crate::chain::trust::{NameCheck, PathKey, PathReport, Store, ValidityCheck};
use crate::drift::Drift;
use crate::endpoint::{Endpoint, Method};
use crate::evidence::Interception;
use crate::net::http;
use crate::net::resolve::Source;
use crate::pins::Pin;
use crate::proxy::connect::ProxyAnswer;
use crate::proxy::Route;
use crate::verdict::{classify, Classified, Findings, NetFailure, Stop, Verdict};

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
    /// the path against the pin set's own anchors (the agent's CA bundle), when it has some
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<PathReport>,
    /// does the leaf cover the host name
    pub hostname: Option<NameCheck>,
    /// is every presented certificate within its validity period
    pub validity: Option<ValidityCheck>,
}

impl Trust {
    /// The path built against `store`.
    pub fn path(&self, store: Store) -> Option<&PathReport> {
        match store {
            Store::Public => Some(&self.public),
            Store::Os => Some(&self.os),
            Store::Agent => self.agent.as_ref(),
        }
    }
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
pub struct PinCheck {
    /// the pin set, if the endpoint has one
    pub set: Option<String>,
    /// `None` without a set
    pub matched: Option<bool>,
    /// the store whose path the pins were compared with (`public` or `os`)
    pub path: Option<Store>,
    /// the pins found on that path
    pub matches: Vec<PinMatch>,
    /// the pins of the certificates on that path, for updating a set
    pub path_pins: Vec<PinMatch>,
    /// the certificates of that path with their roles, leaf first, anchor last
    #[serde(skip)]
    pub keys: Vec<PathKey>,
}

/// A warning that rides along with the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// stable code: `expires-soon`, `weak-key`, `sha1-signature`, `pin-drift`,
    /// `pinned-certificate-expired`, `trust-store`
    pub warning: &'static str,
    /// what was seen
    pub detail: String,
}

/// The warning code of a certificate a pin set carries as an anchor that has expired.
pub const PINNED_EXPIRED: &str = "pinned-certificate-expired";

/// The HTTP check.
#[derive(Clone, Debug, Serialize)]
pub struct HttpReport {
    /// the request's method (`GET`, `HEAD`, `POST`)
    pub method: Method,
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
    /// what the endpoint is asked and must answer, and where the profile placed it (absent
    /// for a chain read from a file)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<EndpointInfo>,
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
    pub pins: PinCheck,
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

/// What an endpoint is asked and must answer, and where its profile placed it.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointInfo {
    /// the HTTP method of the request
    pub method: Method,
    /// the status it must answer (any when absent)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_status: Option<u16>,
    /// the catalog it belongs to (`standard`, `streamlined`), when the profile says
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<&'static str>,
    /// its geography (`EU`), when the profile says
    #[serde(skip_serializing_if = "Option::is_none")]
    pub geo: Option<&'static str>,
    /// what the service is, in the profile's words
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl ProbeResult {
    pub(super) fn new(endpoint: &Endpoint) -> ProbeResult {
        ProbeResult {
            endpoint: Some(EndpointInfo {
                method: endpoint.method,
                expect_status: endpoint.expect.status,
                catalog: endpoint.catalog.map(|c| c.name()),
                geo: endpoint.geo.map(|g| g.code()),
                service: endpoint.service.clone(),
            }),
            ..ProbeResult::blank(&endpoint.url, endpoint.pinset.clone())
        }
    }

    pub(super) fn blank(url: &str, pinset: Option<String>) -> ProbeResult {
        ProbeResult {
            url: url.to_string(),
            endpoint: None,
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
            pins: PinCheck {
                set: pinset,
                ..PinCheck::default()
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
        r.set(classify(&Findings::stopped(NetFailure::new(
            Stop::Internal,
            format!("the probe stopped unexpectedly: {what}"),
        ))));
        r
    }

    /// Takes the verdict, its curl code and its evidence line. Under `ssl-interception` the
    /// result is about the interception: the chain is the device's forgery, so its drift, the
    /// pins of its path and the warnings about its certificates (expiry, weak keys, drift) say
    /// nothing about the service and are dropped; the chain, the paths and the evidence stay
    /// (and the path's keys, which only `pin --allow-untrusted` takes, for a private PKI its
    /// owner vouches for).
    pub(super) fn set(&mut self, classified: Classified) {
        self.verdict = classified.verdict;
        self.curl_code = classified.curl_code;
        self.detail = classified.detail;
        self.interception.confidence = classified.confidence;
        if self.verdict == Verdict::SslInterception {
            self.drift = None;
            self.warnings.clear();
            self.pins.path_pins.clear();
        }
    }
}

/// Milliseconds since `since`, to a tenth.
pub(super) fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 10_000.0).round() / 10.0
}
