//! `pinprobe inspect`: everything about one endpoint's chain, or a chain saved in a PEM file.
//!
//! `test` answers "is it ok" for many endpoints; `inspect` answers "what exactly is there" for
//! one: every certificate as sent, both paths and where each one stops, the pins to add, the
//! TLS parameters, the evidence and the verdict. A chain captured elsewhere (`openssl s_client
//! -showcerts`) goes through the same analysis as a live one, without the network.
//!
//! The command's options and entry point are in `crate::cmd::inspect`.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;

use crate::chain::cert::CertInfo;
use crate::chain::trust::{read_certificates, PathReport};
use crate::config::{self, Config};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::input;
use crate::net::resolve::Resolver;
use crate::probe::{self, ProbeResult};
use crate::report::RunInfo;
use crate::run;

/// What was inspected.
#[derive(Clone, Debug)]
pub enum Inspected {
    /// a live endpoint
    Live {
        /// the URL probed
        url: String,
        /// whether the HTTP request was sent (`--no-http` turns it off)
        http: bool,
    },
    /// a chain read from a file
    File {
        /// the file, as named on the command line
        path: String,
        /// the host name checked against the leaf, if one was given
        host: Option<String>,
    },
}

/// How many anchors the public store holds, for the report header (the OS store's are in
/// `RunInfo::os_store`, as for `test`).
#[derive(Clone, Debug, Default)]
pub struct Anchors {
    /// public roots plus `--cacert`
    pub public: usize,
    /// `--cacert` files
    pub cacerts: Vec<String>,
}

/// Where a chain stops when a store's path reaches no anchor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stop {
    /// positions of the presented certificates walked from the leaf (issuer = subject)
    pub walked: Vec<usize>,
    /// position of the last certificate reached
    pub at: usize,
    /// its subject
    pub subject: String,
    /// its issuer, which neither the chain as sent nor the store supplies
    pub issuer: String,
    /// the last certificate reached is self-issued: the chain ends there
    pub self_issued: bool,
    /// the same, for humans
    pub detail: String,
}

/// Where each store's path stops (`None` when it reached an anchor or was not built).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Stops {
    /// the public path
    pub public: Option<Stop>,
    /// the OS store's path
    pub os: Option<Stop>,
}

/// Everything an inspection found, for the reports.
#[derive(Clone, Debug)]
pub struct Inspection {
    /// version, profile, start time
    pub info: RunInfo,
    /// what was inspected
    pub inspected: Inspected,
    /// the analysis, exactly as `test` reports it
    pub result: ProbeResult,
    /// which pin set was used and why
    pub pinset_reason: String,
    /// where each path stops
    pub stops: Stops,
    /// the anchor sets the paths were built against
    pub anchors: Anchors,
    /// the clock the validity periods are compared with, seconds since the Unix epoch
    pub now: i64,
}

/// Probes one endpoint and analyses what it presented. Of `options`, those of one probe apply:
/// the sweep's (URLs, `--targets`, `--shard`, `--compare-direct`) and the report's are not read.
pub fn live(target: &str, options: &config::Options) -> Result<Inspection, Error> {
    let (config, mut endpoint) = one_endpoint(target, options)?;
    let (profile_name, profile_endpoints) = profile_endpoints(options)?;
    let pinset_reason = choose_pinset(
        &mut endpoint,
        options.pinset.as_deref(),
        target,
        &profile_endpoints,
        &profile_name,
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let resolver = Resolver::system(config.resolve.clone());
    let proxies = runtime.block_on(config.proxy.load(&resolver))?;
    let ctx = run::context(&config, resolver)?.with_proxies(proxies);
    let result = runtime.block_on(probe::run(&ctx, &endpoint));
    Ok(finish(
        Inspected::Live {
            url: endpoint.url.clone(),
            http: config.settings.http,
        },
        result,
        pinset_reason,
        &ctx,
        &config,
        profile_name,
    ))
}

/// Analyses the chain saved in `path` without the network, against the host name of `target`
/// when one is given. Of `options`, the profile, pin sets, anchors and warning horizon apply.
pub fn file(
    path: &Path,
    target: Option<&str>,
    options: &config::Options,
) -> Result<Inspection, Error> {
    let chain = read_certificates(path, input::CHAIN)?;
    let common = &one_probe(options);
    let (config, endpoint) = match target {
        Some(target) => {
            let (config, endpoint) = one_endpoint(target, common)?;
            (config, Some((target, endpoint)))
        }
        None => (Config::for_chain(common)?, None),
    };
    let (profile_name, profile_endpoints) = profile_endpoints(common)?;
    // no network here: a resolver that knows no name
    let ctx = run::context(&config, Resolver::fixed(Vec::new()))?;
    let (result, pinset_reason, host) = match endpoint {
        Some((target, mut endpoint)) => {
            let reason = choose_pinset(
                &mut endpoint,
                common.pinset.as_deref(),
                target,
                &profile_endpoints,
                &profile_name,
            );
            let result = probe::analyse_chain(
                &ctx,
                &endpoint.url,
                Some(&endpoint.server_name),
                endpoint.pinset.clone(),
                &chain,
            );
            (result, reason, Some(endpoint.host.clone()))
        }
        None => {
            let reason = match &common.pinset {
                Some(name) => format!("{name}, given with --pinset"),
                None => format!(
                    "none: no --pinset, and no host name to look up in {profile_name}; verdict on trust alone"
                ),
            };
            let label = input::name(path);
            let result = probe::analyse_chain(&ctx, &label, None, common.pinset.clone(), &chain);
            (result, reason, None)
        }
    };
    Ok(finish(
        Inspected::File {
            path: input::name(path),
            host,
        },
        result,
        pinset_reason,
        &ctx,
        &config,
        profile_name,
    ))
}

/// The configuration for one endpoint and that endpoint: `options` validated with `target` as
/// the only URL, and nothing else to probe.
fn one_endpoint(target: &str, options: &config::Options) -> Result<(Config, Endpoint), Error> {
    let mut config = Config::from_options(&config::Options {
        urls: vec![target.to_string()],
        ..one_probe(options)
    })?;
    let endpoint = std::mem::take(&mut config.endpoints)
        .into_iter()
        .next()
        .ok_or_else(|| Error::usage(target, "names no endpoint: give a URL or HOST[:PORT]"))?;
    Ok((config, endpoint))
}

/// `options` without those of a sweep, which an inspection does not read.
fn one_probe(options: &config::Options) -> config::Options {
    config::Options {
        urls: Vec::new(),
        targets: None,
        shard: None,
        compare_direct: false,
        ..options.clone()
    }
}

fn profile_endpoints(o: &config::Options) -> Result<(String, Vec<Endpoint>), Error> {
    let (profile, name) = config::load_profile(o)?;
    Ok((name, profile.endpoints))
}

fn finish(
    inspected: Inspected,
    result: ProbeResult,
    pinset_reason: String,
    ctx: &probe::Context,
    config: &Config,
    profile: String,
) -> Inspection {
    let stops = match &result.trust {
        Some(trust) => Stops {
            public: stop(&result.chain, &trust.public),
            os: stop(&result.chain, &trust.os),
        },
        None => Stops::default(),
    };
    let now = time::OffsetDateTime::now_utc();
    Inspection {
        info: RunInfo {
            version: env!("CARGO_PKG_VERSION"),
            profile,
            started: run::now_rfc3339(),
            endpoints: 1,
            routes: ctx.proxies().describe(),
            compare_direct: false,
            os_store: ctx.os.os_report(),
            skipped: Vec::new(),
            endpoint_list: None,
            warnings: Vec::new(),
            // inspect reports one chain and gives no advice block
            advice: crate::verdict::Advice::default(),
        },
        inspected,
        result,
        pinset_reason,
        stops,
        anchors: Anchors {
            public: ctx.public.len(),
            cacerts: config.cacerts.iter().map(|p| input::name(p)).collect(),
        },
        now: now.unix_timestamp(),
    }
}

/// Picks the pin set of an inspected endpoint and says why: `--pinset` if given; else the pin
/// set, HTTP method and expectation of the profile endpoint with the same host and port (the
/// same path preferred). A target given without a path (`host[:port]`) means that endpoint, so it takes
/// the endpoint's path too; a target with another path keeps it and takes only the pin set,
/// because the expected answer belongs to the endpoint's path.
pub fn choose_pinset(
    endpoint: &mut Endpoint,
    pinset: Option<&str>,
    target: &str,
    profile: &[Endpoint],
    profile_name: &str,
) -> String {
    if let Some(name) = pinset {
        endpoint.pinset = Some(name.to_string());
        return format!("{name}, given with --pinset");
    }
    let same_place = |e: &&Endpoint| e.host == endpoint.host && e.port == endpoint.port;
    let exact = profile
        .iter()
        .filter(same_place)
        .find(|e| e.path == endpoint.path);
    let Some(found) = exact.or_else(|| profile.iter().find(same_place)) else {
        return format!(
            "none: {} is not an endpoint of {profile_name}, and no --pinset was given; verdict on trust alone",
            endpoint.authority()
        );
    };
    // the expected answer is the answer to the profile's method, so the two travel together
    let how = if found.path == endpoint.path {
        endpoint.expect = found.expect.clone();
        endpoint.method = found.method;
        "the same URL"
    } else if !has_path(target) {
        endpoint.path = found.path.clone();
        endpoint.url = found.url.clone();
        endpoint.expect = found.expect.clone();
        endpoint.method = found.method;
        "the same host and port; its path and expected answer are used"
    } else {
        "the same host and port; its expected answer belongs to its own path and is not used"
    };
    endpoint.pinset = found.pinset.clone();
    match &found.pinset {
        Some(name) => format!(
            "{name}, from endpoint {} of {profile_name} ({how})",
            found.url
        ),
        None => format!(
            "none: endpoint {} of {profile_name} ({how}) has no pin set; verdict on trust alone",
            found.url
        ),
    }
}

/// Whether the user wrote a path (or query) after the host and port.
fn has_path(target: &str) -> bool {
    let rest = target
        .trim()
        .split_once("://")
        .map_or(target.trim(), |(_, rest)| rest);
    rest.contains(['/', '?'])
}

/// Where the chain stops for a store whose path reached no anchor: walks from the leaf through
/// the presented certificates, each time to the one whose subject is the current issuer, and
/// names the last certificate reached and its issuer.
pub fn stop(chain: &[CertInfo], path: &PathReport) -> Option<Stop> {
    if path.anchor.is_some() || chain.is_empty() {
        return None;
    }
    let leaf = &chain[0];
    if let Some(e) = &leaf.parse_error {
        return Some(Stop {
            walked: vec![0],
            at: 0,
            subject: String::new(),
            issuer: String::new(),
            self_issued: false,
            detail: format!("the leaf does not parse ({e}), so no path can start"),
        });
    }
    let mut walked = vec![0];
    let mut seen = BTreeSet::from([0]);
    let mut at = leaf;
    while !at.self_issued {
        let next = chain.iter().find(|c| {
            c.parse_error.is_none() && !seen.contains(&c.index) && c.subject == at.issuer
        });
        match next {
            Some(c) => {
                walked.push(c.index);
                seen.insert(c.index);
                at = c;
            }
            None => break,
        }
    }
    let steps: Vec<String> = walked.iter().map(|i| format!("#{i}")).collect();
    let store = path.store;
    // webpki says "unknown issuer" when no anchor of the set has the issuer's name and key
    let no_anchor = path
        .error
        .as_deref()
        .is_some_and(|e| e.contains("unknown issuer"));
    let why = match (at.self_issued, no_anchor) {
        (true, true) => format!("it is self-signed, and no {store} anchor holds it"),
        (true, false) => "it is self-signed".to_string(),
        (false, true) => format!(
            "its issuer \"{}\" was not sent, and no {store} anchor holds it",
            at.issuer
        ),
        (false, false) => format!("its issuer is \"{}\"", at.issuer),
    };
    let detail = format!(
        "{} stops at #{} {}: {why}",
        steps.join(" -> "),
        at.index,
        at.short_name()
    );
    Some(Stop {
        walked,
        at: at.index,
        subject: at.subject.clone(),
        issuer: at.issuer.clone(),
        self_issued: at.self_issued,
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::trust::{build_path, AnchorSet, Store};
    use crate::lab::{Ca, KeyKind, LeafSpec};
    use rustls::pki_types::{CertificateDer, UnixTime};

    fn path(set: &AnchorSet, chain: &[CertificateDer<'_>]) -> PathReport {
        build_path(
            set,
            chain,
            &CertInfo::analyse_chain(chain),
            webpki::ALL_VERIFICATION_ALGS,
            UnixTime::now(),
        )
    }

    #[test]
    fn a_chain_without_its_root_stops_at_the_last_intermediate() {
        let root = Ca::root("Stop Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let inter = root
            .intermediate("Stop Issuing CA", "Lab", KeyKind::EcdsaP256)
            .unwrap();
        let leaf = inter.leaf(&LeafSpec::new(["stop.test"])).unwrap();
        // sent out of order, with a stranger in between
        let stranger = Ca::root("Stranger", "Lab", KeyKind::EcdsaP256).unwrap();
        let chain = vec![
            leaf.cert.clone(),
            stranger.der().clone(),
            inter.der().clone(),
        ];
        let empty = AnchorSet::from_certificates(Store::Os, &[], "test");
        let s = stop(&CertInfo::analyse_chain(&chain), &path(&empty, &chain)).unwrap();
        assert_eq!((s.walked.as_slice(), s.at), (&[0, 2][..], 2));
        assert!(s.issuer.contains("Stop Root"), "{s:?}");
        assert!(!s.self_issued);
        assert!(
            s.detail
                .starts_with("#0 -> #2 stops at #2 Stop Issuing CA: its issuer")
                && s.detail
                    .ends_with("was not sent, and no os anchor holds it"),
            "{}",
            s.detail
        );

        let trusted = AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test");
        assert_eq!(
            stop(&CertInfo::analyse_chain(&chain), &path(&trusted, &chain)),
            None
        );
    }

    #[test]
    fn a_self_signed_leaf_stops_at_once() {
        let leaf = Ca::self_signed_leaf(&LeafSpec::new(["self.test"])).unwrap();
        let chain = leaf.chain();
        let empty = AnchorSet::from_certificates(Store::Public, &[], "test");
        let s = stop(&CertInfo::analyse_chain(&chain), &path(&empty, &chain)).unwrap();
        assert_eq!(
            (s.walked.as_slice(), s.at, s.self_issued),
            (&[0][..], 0, true)
        );
        assert!(s.detail.contains("self-signed"), "{}", s.detail);
    }

    #[test]
    fn a_leaf_that_does_not_parse_stops_before_the_walk() {
        let chain = vec![CertificateDer::from(b"\x30\x03\x02\x01\x00".to_vec())];
        let empty = AnchorSet::from_certificates(Store::Public, &[], "test");
        let s = stop(&CertInfo::analyse_chain(&chain), &path(&empty, &chain)).unwrap();
        assert!(
            s.detail.starts_with("the leaf does not parse"),
            "{}",
            s.detail
        );
    }

    #[test]
    fn openssl_output_around_the_pem_blocks_is_tolerated() {
        let root = Ca::root("Text Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let inter = root
            .intermediate("Text Issuing CA", "Lab", KeyKind::EcdsaP256)
            .unwrap();
        let leaf = inter.leaf(&LeafSpec::new(["text.test"])).unwrap();
        let text = format!(
            "CONNECTED(00000003)\r\ndepth=1 O = Lab, CN = Text Issuing CA\n---\nCertificate chain\n \
             0 s:CN = text.test\n   i:O = Lab, CN = Text Issuing CA\n{}\n 1 s:O = Lab, CN = Text Issuing CA\n{}---\n\
             Server certificate\nsubject=CN = text.test\n---\nSSL handshake has read 1234 bytes\n",
            leaf.pem(),
            inter.pem()
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("chain.txt");
        std::fs::write(&file, text).unwrap();
        let read = read_certificates(&file, input::CHAIN).unwrap();
        assert_eq!(read, vec![leaf.cert.clone(), inter.der().clone()]);

        std::fs::write(
            &file,
            "CONNECTED(00000003)\nno peer certificate available\n",
        )
        .unwrap();
        let e = read_certificates(&file, input::CHAIN)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("chain.txt") && e.contains("expected -----BEGIN CERTIFICATE-----"),
            "{e}"
        );
    }

    fn endpoint(text: &str, pinset: Option<&str>) -> Endpoint {
        let mut e = Endpoint::parse(text).unwrap();
        e.pinset = pinset.map(str::to_string);
        e
    }

    #[test]
    fn the_pin_set_comes_from_the_flag_or_the_profile_endpoint() {
        let mut ping = endpoint("https://a.test/ping", Some("a"));
        ping.expect.body = Some("OK".into());
        let profile = vec![
            endpoint("https://b.test:8443/", Some("b")),
            ping,
            endpoint("https://c.test/", None),
        ];
        // (target, --pinset, pin set, url, expected body, reason starts with)
        let cases = [
            ("a.test", Some("x"), Some("x"), "https://a.test/", None, "x, given with --pinset"),
            ("a.test", None, Some("a"), "https://a.test/ping", Some("OK"), "a, from endpoint https://a.test/ping of p.toml (the same host and port; its path"),
            ("https://a.test/ping", None, Some("a"), "https://a.test/ping", Some("OK"), "a, from endpoint https://a.test/ping of p.toml (the same URL)"),
            ("https://a.test/other", None, Some("a"), "https://a.test/other", None, "a, from endpoint https://a.test/ping of p.toml (the same host and port; its expected answer"),
            ("b.test", None, None, "https://b.test/", None, "none: b.test is not an endpoint of p.toml"),
            ("b.test:8443", None, Some("b"), "https://b.test:8443/", None, "b, from endpoint https://b.test:8443/ of p.toml (the same URL)"),
            ("c.test", None, None, "https://c.test/", None, "none: endpoint https://c.test/ of p.toml (the same URL) has no pin set"),
        ];
        for (target, flag, set, url, body, reason) in cases {
            let mut e = Endpoint::parse(target).unwrap();
            let why = choose_pinset(&mut e, flag, target, &profile, "p.toml");
            assert_eq!(
                (
                    e.pinset.as_deref(),
                    e.url.as_str(),
                    e.expect.body.as_deref()
                ),
                (set, url, body),
                "{target}"
            );
            assert!(why.starts_with(reason), "{target}: {why}");
        }
    }
}
