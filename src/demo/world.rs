//! The demo's world: the certificates, servers, proxies, pin sets and trust stores the scenarios
//! play on, all made at run time with the loopback lab of the integration tests (`crate::lab`).
//!
//! Nothing here reads or changes the machine: the "public" roots and the OS store are anchor
//! sets made of lab certificates, every server listens on `127.0.0.1`, and the resolver knows
//! only the scenario host names, so no query or packet leaves the machine.

use std::collections::HashMap;
use std::net::SocketAddr;

use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use super::scenario::{Backend, Scenario, Via, CLOUD_PINSET, LEAF_PINSET};
use crate::chain::trust::{AnchorSet, Store};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::lab::{
    Behaviour, Ca, KeyKind, LabError, LabKey, LabProxy, Leaf, LeafSpec, ProxyBehaviour, Server,
};
use crate::net::resolve::Resolver;
use crate::pins::{Pin, PinEntry, PinSet};
use crate::profile::{Profile, BUNDLED_MDE_NAME};
use crate::proxy::{Proxy, Route};

/// The source of every demo pin and anchor, as reports show it.
const SOURCE: &str = "pinprobe demo (simulation)";
/// CN of the lab's stand-in for a public root.
const PUBLIC_ROOT_CN: &str = "Pinprobe Demo Public Root";
/// CN of the CA that issues the genuine leaves, under the public root.
const ISSUING_CA_CN: &str = "Pinprobe Demo Issuing CA";
/// O of the genuine chain.
const DEMO_ORG: &str = "Pinprobe Demo (simulation)";
/// CN of the inspecting middlebox's CA, which the lab OS store trusts.
const INSPECTION_CA_CN: &str = "Corp SSL Inspection CA (simulation)";
/// O of the inspecting middlebox's CA.
const INSPECTION_ORG: &str = "Corp (simulation)";
/// CN of the root above the named interceptor's CA (in no store).
const INTERCEPTOR_ROOT_CN: &str = "Zscaler Root CA";
/// CN of the CA that signs the named interceptor's leaves, in the shape Zscaler uses
/// (`pins/interceptors.toml` lists it), trailing space included.
const INTERCEPTOR_CA_CN: &str = "Zscaler Intermediate Root CA (zscalertwo.net) (t) ";
/// O of the named interceptor's CAs.
const INTERCEPTOR_ORG: &str = "Zscaler Inc.";
/// The answer of every server that completes a handshake: the Defender `/ping` answer.
const ANSWER_BODY: &str = "OK";

fn days(n: i64) -> Duration {
    Duration::days(n)
}

/// The certificate authorities of the demo world. Their validity is set back in time so that
/// the chains look like long-lived public ones, not like certificates made a moment ago.
struct Authorities {
    public_root: Ca,
    issuing: Ca,
    inspection: Ca,
    interceptor: Ca,
}

impl Authorities {
    fn new(now: OffsetDateTime) -> Result<Authorities, LabError> {
        // the RSA key is most of the demo's work (tens of milliseconds, a prime search, at
        // times far more): made on a thread of its own while this one makes the ECDSA
        // authorities
        let (inspection_key, ecdsa) = std::thread::scope(|s| {
            let inspection_key = s.spawn(|| LabKey::generate(KeyKind::Rsa2048));
            let ecdsa = Self::ecdsa(now);
            let inspection_key = inspection_key
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (inspection_key, ecdsa)
        });
        let (public_root, issuing, interceptor) = ecdsa?;
        // Inspection devices mostly sign with RSA; the enterprise installed this root years ago.
        let inspection = Ca::root_with_key(
            INSPECTION_CA_CN,
            INSPECTION_ORG,
            inspection_key?,
            now - days(3 * 365),
            now + days(7 * 365),
        )?;
        Ok(Authorities {
            public_root,
            issuing,
            inspection,
            interceptor,
        })
    }

    /// The public root, its issuing CA and the named interceptor's CA.
    fn ecdsa(now: OffsetDateTime) -> Result<(Ca, Ca, Ca), LabError> {
        let public_root = Ca::root_valid(
            PUBLIC_ROOT_CN,
            DEMO_ORG,
            KeyKind::EcdsaP256,
            now - days(5 * 365),
            now + days(15 * 365),
        )?;
        let issuing = public_root.intermediate_valid(
            ISSUING_CA_CN,
            DEMO_ORG,
            KeyKind::EcdsaP256,
            now - days(2 * 365),
            now + days(5 * 365),
        )?;
        let interceptor_root = Ca::root_valid(
            INTERCEPTOR_ROOT_CN,
            INTERCEPTOR_ORG,
            KeyKind::EcdsaP256,
            now - days(4 * 365),
            now + days(16 * 365),
        )?;
        let interceptor = interceptor_root.intermediate_valid(
            INTERCEPTOR_CA_CN,
            INTERCEPTOR_ORG,
            KeyKind::EcdsaP256,
            now - days(365),
            now + days(5 * 365),
        )?;
        Ok((public_root, issuing, interceptor))
    }
}

/// A leaf for `host` valid from `from` to `to` (relative to now).
fn spec(host: &str, now: OffsetDateTime, from: Duration, to: Duration) -> LeafSpec {
    let mut spec = LeafSpec::new([host]);
    spec.not_before = now + from;
    spec.not_after = now + to;
    spec
}

/// The world of one demo run: a server per scenario and everything the probe context needs.
/// Dropping it stops the servers and proxies.
pub struct World {
    /// the scenario endpoints, in scenario order: the profile's URL and HTTP expectation, the
    /// scenario's pin set
    pub endpoints: Vec<Endpoint>,
    /// where each scenario's server listens, in scenario order
    pub addresses: Vec<SocketAddr>,
    /// the stand-in for the public roots: the lab public root only
    pub public: AnchorSet,
    /// the stand-in for the OS store: the lab public root and the inspection CA
    pub os: AnchorSet,
    /// the demo pin sets, made from the lab certificates
    pub pinsets: Vec<PinSet>,
    /// maps each scenario's (host, port) to its server, and knows no other name
    pub resolver: Resolver,
    /// the route of each scenario, in scenario order
    pub routes: Vec<Route>,
    /// held so that the servers run as long as the world
    _servers: Vec<Server>,
    /// held so that the proxies run as long as the world
    _proxies: Vec<LabProxy>,
}

impl World {
    /// Makes the certificates and starts one server per scenario on `127.0.0.1:0`. Must run
    /// inside a tokio runtime, which then serves the connections.
    pub async fn start(scenarios: &[Scenario]) -> Result<World, Error> {
        let profile = Profile::bundled()?;
        let now = OffsetDateTime::now_utc();
        let ca = Authorities::new(now)?;
        let endpoints = scenarios
            .iter()
            .map(|scenario| endpoint(&profile, scenario))
            .collect::<Result<Vec<_>, Error>>()?;
        let (servers, rotated_pins) = start_servers(scenarios, &endpoints, &ca, now).await?;
        let addresses: Vec<SocketAddr> = servers.iter().map(Server::addr).collect();
        let (routes, proxies) = start_proxies(scenarios, &endpoints, &addresses).await?;
        let resolver = Resolver::fixed_addrs(
            endpoints
                .iter()
                .zip(&addresses)
                .map(|(e, addr)| ((e.host.clone(), e.port), vec![*addr])),
        );
        let (public, os) = anchor_sets(&ca);
        Ok(World {
            endpoints,
            addresses,
            public,
            os,
            pinsets: pin_sets(&ca, rotated_pins)?,
            resolver,
            routes,
            _servers: servers,
            _proxies: proxies,
        })
    }
}

/// The profile's endpoint at the scenario's URL, checked against the scenario's pin set.
fn endpoint(profile: &Profile, scenario: &Scenario) -> Result<Endpoint, Error> {
    let mut endpoint = profile
        .endpoints
        .iter()
        .find(|e| e.url == scenario.url)
        .cloned()
        .ok_or_else(|| Error::File {
            file: BUNDLED_MDE_NAME.into(),
            message: format!(
                "the demo scenario {} is not an endpoint of the profile: use one of its URLs in src/demo/scenario.rs",
                scenario.url
            ),
        })?;
    endpoint.pinset = Some(scenario.pinset.to_string());
    Ok(endpoint)
}

/// Starts each scenario's server, in scenario order. Also returns the pins of the keys that
/// rotated away, which the leaf-pinned set still holds.
async fn start_servers(
    scenarios: &[Scenario],
    endpoints: &[Endpoint],
    ca: &Authorities,
    now: OffsetDateTime,
) -> Result<(Vec<Server>, Vec<PinEntry>), Error> {
    let mut servers = Vec::with_capacity(scenarios.len());
    let mut rotated_pins = Vec::new();
    for (scenario, endpoint) in scenarios.iter().zip(endpoints) {
        let host = endpoint.host.as_str();
        let server = match scenario.backend {
            Backend::Origin => {
                let leaf = ca.issuing.leaf(&spec(host, now, -days(30), days(335)))?;
                serve(&leaf, leaf.chain()).await
            }
            Backend::InspectingMiddlebox => {
                // minted on the fly for this connection, as inspection devices do
                // with a key of the kind the origin's leaf has (ECDSA here), as devices that
                // mimic the server's certificate do
                let forged = spec(host, now, Duration::ZERO, days(365));
                let leaf = ca.inspection.leaf(&forged)?;
                let mut chain = leaf.chain();
                chain.push(ca.inspection.der().clone());
                serve(&leaf, chain).await
            }
            Backend::NamedInterceptor => {
                // Zscaler's leaves live about two weeks
                let leaf = ca
                    .interceptor
                    .leaf(&spec(host, now, -Duration::hours(2), days(14)))?;
                serve(&leaf, leaf.chain()).await
            }
            Backend::ResettingMiddlebox => {
                Server::start_raw(Behaviour::ResetAfterClientHello).await
            }
            Backend::RotatedKey => {
                let old = ca.issuing.leaf(&spec(host, now, -days(300), days(65)))?;
                rotated_pins.push(PinEntry {
                    pin: pin_of(&old.cert)?,
                    // the drift report reads the pin's role from the label's `leaf:` prefix
                    label: Some(format!("leaf: {host}, the key before the rotation")),
                    source: Some(SOURCE.into()),
                });
                let new = ca.issuing.leaf(&spec(host, now, -days(2), days(363)))?;
                serve(&new, new.chain()).await
            }
        }?;
        servers.push(server);
    }
    Ok((servers, rotated_pins))
}

/// Starts the lab proxies and gives each scenario its route: one forwarding proxy for every
/// scenario behind a proxy, one that wants credentials.
async fn start_proxies(
    scenarios: &[Scenario],
    endpoints: &[Endpoint],
    addresses: &[SocketAddr],
) -> Result<(Vec<Route>, Vec<LabProxy>), Error> {
    let targets: HashMap<String, SocketAddr> = scenarios
        .iter()
        .zip(endpoints)
        .zip(addresses)
        .filter(|((s, _), _)| s.via == Via::Proxy)
        .map(|((_, e), addr)| (e.authority_with_port(), *addr))
        .collect();
    let forwarding = LabProxy::start(ProxyBehaviour::Forward { targets }).await?;
    let authenticating = LabProxy::start(ProxyBehaviour::AuthRequired).await?;
    let through = |proxy: &LabProxy, what: &str| -> Result<Route, Error> {
        let p = Proxy::parse(&proxy.url()).map_err(|message| Error::File {
            file: "pinprobe demo".into(),
            message,
        })?;
        Ok(Route::through(p, Some(format!("demo {what} (simulation)"))))
    };
    let routes = scenarios
        .iter()
        .map(|s| match s.via {
            Via::Direct => Ok(Route::direct(None)),
            Via::Proxy => through(&forwarding, "proxy"),
            Via::AuthenticatingProxy => through(&authenticating, "authenticating proxy"),
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok((routes, vec![forwarding, authenticating]))
}

/// The stand-ins for the public roots (the lab public root) and for the OS store (the lab
/// public root and the inspection CA).
fn anchor_sets(ca: &Authorities) -> (AnchorSet, AnchorSet) {
    let public = AnchorSet::from_certificates(
        Store::Public,
        &[ca.public_root.der().clone()],
        "demo public root (simulation)",
    );
    let os = AnchorSet::from_certificates(
        Store::Os,
        &[ca.public_root.der().clone(), ca.inspection.der().clone()],
        "demo OS store (simulation)",
    );
    (public, os)
}

/// The demo pin sets: the cloud set pins the lab CAs, the leaf-pinned set the keys that
/// rotated away.
fn pin_sets(ca: &Authorities, rotated_pins: Vec<PinEntry>) -> Result<Vec<PinSet>, Error> {
    let cloud = PinSet {
        name: CLOUD_PINSET.into(),
        description: Some(
            "lab stand-in for microsoft-cloud: the demo public root and its issuing CA".into(),
        ),
        pins: vec![
            PinEntry {
                pin: pin_of(ca.issuing.der())?,
                label: Some(format!("{ISSUING_CA_CN} (lab intermediate)")),
                source: Some(SOURCE.into()),
            },
            PinEntry {
                pin: pin_of(ca.public_root.der())?,
                label: Some(format!("{PUBLIC_ROOT_CN} (lab root)")),
                source: Some(SOURCE.into()),
            },
        ],
        deny: Vec::new(),
        expect_issuer_orgs: vec![DEMO_ORG.into()],
        origin: SOURCE.into(),
        anchors: Vec::new(),
        alternatives: false,
    };
    let leaf_pinned = PinSet {
        name: LEAF_PINSET.into(),
        description: Some("a service that pins its leaf key (no backup pin)".into()),
        pins: rotated_pins,
        deny: Vec::new(),
        expect_issuer_orgs: vec![DEMO_ORG.into()],
        origin: SOURCE.into(),
        anchors: Vec::new(),
        alternatives: false,
    };
    Ok(vec![cloud, leaf_pinned])
}

async fn serve(leaf: &Leaf, chain: Vec<CertificateDer<'static>>) -> Result<Server, LabError> {
    Server::start(
        chain,
        leaf.key.clone_key(),
        Behaviour::Http {
            status: 200,
            body: ANSWER_BODY.into(),
        },
    )
    .await
}

/// The SPKI pin of a lab certificate.
fn pin_of(der: &CertificateDer<'_>) -> Result<Pin, Error> {
    let (_, cert) = x509_parser::parse_x509_certificate(der.as_ref()).map_err(|e| Error::File {
        file: "pinprobe demo".into(),
        message: format!("a lab certificate does not parse ({e}): this is a bug, please report it"),
    })?;
    Ok(Pin::of_spki(cert.tbs_certificate.subject_pki.raw))
}
