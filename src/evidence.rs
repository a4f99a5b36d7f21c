//! Interception evidence: named signals found in a chain, each with a detail and a strength,
//! and the product they point to when one is known.
//!
//! The verdict needs a strong signal before it says `ssl-interception`; a chain with none is
//! only `untrusted-chain`. The names of interception products come from `pins/interceptors.toml`
//! (compiled in, every entry with its source), never from Rust literals.

use serde::{Deserialize, Serialize};

use crate::chain::cert::CertInfo;
use crate::chain::trust::{AnchorInfo, AnchorOrigin, PathReport};
use crate::error::Error;
use crate::net::proxy::ProxyAnswer;
use crate::pins::{Denied, Pin, PinSet};

/// The interceptor names, compiled into the binary.
pub const BUNDLED_INTERCEPTORS: &str = include_str!("../pins/interceptors.toml");
const BUNDLED_INTERCEPTORS_NAME: &str = "pins/interceptors.toml (bundled)";

/// How much a signal says about interception.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strength {
    /// worth a look, not proof
    Weak,
    /// points to interception, needs company
    Medium,
    /// enough on its own for the `ssl-interception` verdict
    Strong,
}

/// The kinds of evidence. The codes are a promise to users (JSON, JUnit): add, never rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalKind {
    /// the chain is anchored at a root only the OS store trusts
    OsStoreOnlyAnchor,
    /// an issuer name or key of a known interception product
    KnownInterceptor,
    /// a key of the pin set's deny list is on the chain
    DenyPin,
    /// an issuer organisation the pin set does not expect
    UnexpectedIssuer,
    /// a leaf without embedded Certificate Transparency SCTs
    NoSct,
    /// a leaf made moments before the probe, or with a lifetime no public CA issues
    FreshLeaf,
    /// short RSA keys, SHA-1 or MD5 signatures
    WeakCrypto,
    /// a leaf with the same key as a CA of its chain
    CaKeyReuse,
    /// what the proxy says of itself in its answer to CONNECT
    ProxyIdentity,
}

impl SignalKind {
    /// The stable code, e.g. `os-store-only-anchor`.
    pub fn code(self) -> &'static str {
        match self {
            SignalKind::OsStoreOnlyAnchor => "os-store-only-anchor",
            SignalKind::KnownInterceptor => "known-interceptor",
            SignalKind::DenyPin => "deny-pin",
            SignalKind::UnexpectedIssuer => "unexpected-issuer",
            SignalKind::NoSct => "no-sct",
            SignalKind::FreshLeaf => "fresh-leaf",
            SignalKind::WeakCrypto => "weak-crypto",
            SignalKind::CaKeyReuse => "ca-key-reuse",
            SignalKind::ProxyIdentity => "proxy-identity",
        }
    }
}

impl std::fmt::Display for SignalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.code())
    }
}

/// One piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signal {
    /// what kind of evidence it is
    pub signal: SignalKind,
    /// what was seen, for humans
    pub detail: String,
    /// how much it weighs
    pub strength: Strength,
}

/// The evidence of one probe and the product it names.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Interception {
    /// the interception product, when a signal names one
    pub vendor: Option<String>,
    /// every signal found, strongest first
    pub evidence: Vec<Signal>,
}

impl Interception {
    /// True when at least one signal is strong.
    pub fn is_strong(&self) -> bool {
        self.evidence.iter().any(|s| s.strength == Strength::Strong)
    }
}

/// Which certificate field an interceptor pattern is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// the issuer's commonName
    IssuerCn,
    /// the issuer's organizationName
    IssuerO,
    /// the SPKI pin of a known shared interception key
    Spki,
}

/// How sure a match makes us.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// a name only that product uses
    High,
    /// a name others could use too
    Medium,
}

/// One known interception product name.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interceptor {
    /// product name, e.g. "Zscaler"
    pub product: String,
    /// the field compared
    pub field: Field,
    /// the text (or pin) looked for
    pub pattern: String,
    /// how sure a match makes us
    pub confidence: Confidence,
    /// what else is typical of the product
    #[serde(default)]
    pub traits: Option<String>,
    /// where the name was documented
    pub source: String,
}

/// A product whose CA name the administrator chooses; listed for the advice.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unnamed {
    /// product name
    pub product: String,
    /// how it is recognised instead
    pub kind: String,
    /// how sure its behaviour makes us
    pub confidence: Confidence,
    /// what is typical of the product
    #[serde(default)]
    pub traits: Option<String>,
    /// where that was documented
    pub source: String,
}

/// The known interception products.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interceptors {
    /// free text
    #[serde(default)]
    pub description: Option<String>,
    /// products recognised by name or key
    #[serde(default)]
    pub interceptors: Vec<Interceptor>,
    /// products recognised by behaviour only
    #[serde(default)]
    pub unnamed: Vec<Unnamed>,
}

impl Interceptors {
    /// The bundled list.
    pub fn bundled() -> Result<Interceptors, Error> {
        Interceptors::parse(BUNDLED_INTERCEPTORS, BUNDLED_INTERCEPTORS_NAME)
    }

    /// Parses an interceptor list; `file` names it in messages.
    pub fn parse(text: &str, file: &str) -> Result<Interceptors, Error> {
        let list: Interceptors =
            toml::from_str(text).map_err(|e| crate::profile::toml_error(&e, text, file))?;
        for entry in &list.interceptors {
            if entry.field == Field::Spki && Pin::parse(&entry.pattern).is_err() {
                return Err(Error::File {
                    file: file.to_string(),
                    message: format!(
                        "interceptor {}: \"{}\" is not a pin (expected sha256/<base64>)",
                        entry.product, entry.pattern
                    ),
                });
            }
        }
        Ok(list)
    }

    /// The first entry that matches the certificate, by issuer name or key.
    fn match_cert(&self, cert: &CertInfo) -> Option<(&Interceptor, String)> {
        self.interceptors.iter().find_map(|i| {
            let value = match i.field {
                Field::IssuerCn => cert.issuer_cn.clone(),
                Field::IssuerO => cert.issuer_o.clone(),
                Field::Spki => {
                    let pin = Pin::parse(&i.pattern).ok()?;
                    return (cert.pin == Some(pin))
                        .then(|| (i, format!("its key is {}'s shared key {pin}", i.product)));
                }
            }?;
            contains_ignore_case(&value, &i.pattern).then(|| {
                let field = if i.field == Field::IssuerCn {
                    "CN"
                } else {
                    "O"
                };
                (i, format!("issuer {field} \"{value}\""))
            })
        })
    }

    /// The first entry that matches an anchor (by its subject name or key).
    fn match_anchor(&self, anchor: &AnchorInfo) -> Option<(&Interceptor, String)> {
        self.interceptors.iter().find_map(|i| match i.field {
            Field::Spki => {
                let pin = Pin::parse(&i.pattern).ok()?;
                (anchor.spki_sha256 == pin)
                    .then(|| (i, format!("its key is {}'s shared key {pin}", i.product)))
            }
            _ => contains_ignore_case(&anchor.subject, &i.pattern)
                .then(|| (i, format!("subject \"{}\"", anchor.subject))),
        })
    }
}

fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .to_lowercase()
        .contains(needle.to_lowercase().as_str())
}

/// What the evidence is drawn from.
pub struct Inputs<'a> {
    /// the presented chain, analysed
    pub chain: &'a [CertInfo],
    /// the path against the public anchors
    pub public: &'a PathReport,
    /// the path against the OS store
    pub os: &'a PathReport,
    /// true when the public anchor set holds the given key
    pub public_has_key: &'a dyn Fn(&Pin) -> bool,
    /// the endpoint's pin set, if any
    pub pinset: Option<&'a PinSet>,
    /// the first key of the chain that the pin set denies (from `pins::check`)
    pub denied: Option<&'a Denied>,
    /// the known products
    pub interceptors: &'a Interceptors,
    /// the time of the probe, seconds since the Unix epoch
    pub now: i64,
}

/// A leaf whose validity began this recently was made for the connection.
pub const FRESH_LEAF_SECS: i64 = 10 * 60;
/// The longest leaf lifetime public CAs may issue (CA/Browser Forum baseline requirements).
pub const MAX_PUBLIC_LIFETIME_DAYS: i64 = 398;

/// Collects the signals of one chain.
pub fn collect(inputs: &Inputs<'_>) -> Interception {
    let mut out = Interception::default();

    // An anchor the OS trusts and the public roots do not: the enterprise-installed root of an
    // inspecting proxy, the case the Defender guide warns about.
    if !inputs.public.verified && inputs.os.verified {
        if let Some(anchor) = &inputs.os.anchor {
            if !(inputs.public_has_key)(&anchor.spki_sha256) {
                out.evidence.push(Signal {
                    signal: SignalKind::OsStoreOnlyAnchor,
                    detail: format!(
                        "the chain is anchored at \"{}\" ({}), which the OS store trusts and no public root set does",
                        anchor.subject, anchor.spki_sha256
                    ),
                    strength: Strength::Strong,
                });
            }
        }
    }

    let mut named = None;
    for cert in inputs.chain {
        if let Some((i, what)) = inputs.interceptors.match_cert(cert) {
            named = Some((i, format!("#{} {}: {what}", cert.index, cert.short_name())));
            break;
        }
    }
    if named.is_none() {
        for anchor in [&inputs.public.anchor, &inputs.os.anchor]
            .into_iter()
            .flatten()
        {
            if let Some((i, what)) = inputs.interceptors.match_anchor(anchor) {
                named = Some((i, format!("anchor {what}")));
                break;
            }
        }
    }
    if let Some((i, what)) = named {
        out.vendor = Some(i.product.clone());
        out.evidence.push(Signal {
            signal: SignalKind::KnownInterceptor,
            detail: format!("{what} matches {} (\"{}\")", i.product, i.pattern),
            strength: match i.confidence {
                Confidence::High => Strength::Strong,
                Confidence::Medium => Strength::Medium,
            },
        });
    }

    if let Some(denied) = inputs.denied {
        out.evidence.push(Signal {
            signal: SignalKind::DenyPin,
            detail: denied.to_string(),
            strength: Strength::Strong,
        });
    }

    if let Some(set) = inputs.pinset {
        unexpected_issuer(inputs.chain, set, &mut out.evidence);
    }
    if let Some(leaf) = inputs.chain.first().filter(|c| c.parse_error.is_none()) {
        no_sct(leaf, inputs, &mut out.evidence);
        fresh_leaf(leaf, inputs.now, &mut out.evidence);
    }
    weak_crypto(inputs.chain, &mut out.evidence);
    ca_key_reuse(inputs, &mut out.evidence);

    out.evidence.sort_by_key(|s| std::cmp::Reverse(s.strength));
    out
}

/// What the proxy says of itself in its answer to CONNECT (`Via`, `Server`, ...): it helps tell
/// a filtering proxy from an inspecting one, and is never more than a weak signal.
pub fn proxy_identity(answer: &ProxyAnswer) -> Option<Signal> {
    let identity = answer.identity();
    (!identity.is_empty()).then(|| Signal {
        signal: SignalKind::ProxyIdentity,
        detail: format!("the proxy's answer to CONNECT says {}", identity.join(", ")),
        strength: Strength::Weak,
    })
}

/// An issuer organisation that the pin set does not expect (Defender: Microsoft, DigiCert).
fn unexpected_issuer(chain: &[CertInfo], set: &PinSet, out: &mut Vec<Signal>) {
    if set.expect_issuer_orgs.is_empty() {
        return;
    }
    let expected = |org: &str| {
        set.expect_issuer_orgs
            .iter()
            .any(|e| e.eq_ignore_ascii_case(org.trim()))
    };
    // one entry per unexpected issuer, with the certificates it issued
    let mut odd: Vec<(String, Vec<String>)> = Vec::new();
    for c in chain.iter().filter(|c| c.parse_error.is_none()) {
        if c.issuer_o.as_deref().is_some_and(expected) {
            continue;
        }
        let issuer = match &c.issuer_o {
            Some(o) => format!("O=\"{o}\""),
            None => format!("\"{}\" (no organisation)", c.issuer),
        };
        let cert = format!("#{} {}", c.index, c.short_name());
        match odd.iter_mut().find(|(i, _)| *i == issuer) {
            Some((_, certs)) => certs.push(cert),
            None => odd.push((issuer, vec![cert])),
        }
    }
    let odd: Vec<String> = odd
        .into_iter()
        .map(|(issuer, certs)| format!("{issuer} issued {}", certs.join(", ")))
        .collect();
    if !odd.is_empty() {
        out.push(Signal {
            signal: SignalKind::UnexpectedIssuer,
            detail: format!(
                "{}; pin set {} expects issuers from {}",
                odd.join("; "),
                set.name,
                set.expect_issuer_orgs.join(", ")
            ),
            strength: Strength::Medium,
        });
    }
}

/// A leaf without embedded SCTs. Public CAs embed them (browsers require Certificate
/// Transparency), so their absence on a publicly anchored leaf is odd; inspection devices
/// and private CAs do not log their leaves. Chains anchored at `--cacert` are a private PKI
/// the user declared and are not judged.
fn no_sct(leaf: &CertInfo, inputs: &Inputs<'_>, out: &mut Vec<Signal>) {
    if leaf.embedded_scts {
        return;
    }
    let public_origin = inputs
        .public
        .anchor
        .as_ref()
        .filter(|_| inputs.public.state != crate::chain::trust::PathState::NotReached)
        .map(|a| &a.origin);
    let (strength, why) = match public_origin {
        Some(AnchorOrigin::Mozilla) => (
            Strength::Medium,
            "although it chains to a public root, whose CAs embed SCTs in every leaf",
        ),
        Some(_) => return,
        None => (
            Strength::Weak,
            "like leaves minted by inspection devices and private CAs",
        ),
    };
    out.push(Signal {
        signal: SignalKind::NoSct,
        detail: format!(
            "#0 {} carries no embedded Certificate Transparency SCTs, {why}",
            leaf.short_name()
        ),
        strength,
    });
}

/// A leaf made moments before the probe, or with a lifetime no public CA issues.
fn fresh_leaf(leaf: &CertInfo, now: i64, out: &mut Vec<Signal>) {
    let age = now - leaf.not_before_unix;
    if (0..FRESH_LEAF_SECS).contains(&age) {
        out.push(Signal {
            signal: SignalKind::FreshLeaf,
            detail: format!(
                "#0 {} became valid {} before the probe ({}): made on the fly, as inspection devices do",
                leaf.short_name(),
                duration_text(age),
                leaf.not_before
            ),
            strength: Strength::Medium,
        });
    }
    let days = (leaf.not_after_unix - leaf.not_before_unix) / 86_400;
    let odd = if days > MAX_PUBLIC_LIFETIME_DAYS {
        Some(format!(
            "longer than the {MAX_PUBLIC_LIFETIME_DAYS} days public CAs may issue"
        ))
    } else if leaf.not_after_unix - leaf.not_before_unix < 86_400 {
        Some("shorter than a day".to_string())
    } else {
        None
    };
    if let Some(odd) = odd {
        out.push(Signal {
            signal: SignalKind::FreshLeaf,
            detail: format!("#0 {} is valid for {days} days, {odd}", leaf.short_name()),
            strength: Strength::Weak,
        });
    }
}

/// A leaf with the same key as a CA of its chain: CAs keep their keys for signing
/// certificates, so only an improvised CA does this (squid's ssl-bump does it by default).
fn ca_key_reuse(inputs: &Inputs<'_>, out: &mut Vec<Signal>) {
    let Some(leaf) = inputs.chain.first() else {
        return;
    };
    let Some(pin) = leaf.pin else {
        return;
    };
    let presented = inputs
        .chain
        .iter()
        .skip(1)
        .filter(|c| c.is_ca && c.pin == Some(pin))
        .map(|c| format!("#{} {}", c.index, c.short_name()));
    let anchors = [&inputs.public.anchor, &inputs.os.anchor]
        .into_iter()
        .flatten()
        .filter(|a| a.spki_sha256 == pin)
        .map(|a| format!("anchor {}", a.subject));
    if let Some(ca) = presented.chain(anchors).next() {
        out.push(Signal {
            signal: SignalKind::CaKeyReuse,
            detail: format!(
                "#0 {} has the same key as {ca} ({pin}): CAs do not reuse their signing key for a server; squid's ssl-bump does by default",
                leaf.short_name()
            ),
            strength: Strength::Medium,
        });
    }
}

fn duration_text(secs: i64) -> String {
    if secs < 120 {
        format!("{secs} s")
    } else {
        format!("{} min", secs / 60)
    }
}

/// RSA keys under 2048 bits, SHA-1 or MD5 signatures anywhere in the chain (the signature of a
/// self-signed certificate on itself is not checked by anyone and is left out).
fn weak_crypto(chain: &[CertInfo], out: &mut Vec<Signal>) {
    let mut found = Vec::new();
    for c in chain.iter().filter(|c| c.parse_error.is_none()) {
        found.extend(c.weak_key());
        if !c.self_issued {
            found.extend(c.weak_signature());
        }
    }
    if !found.is_empty() {
        out.push(Signal {
            signal: SignalKind::WeakCrypto,
            detail: found.join("; "),
            strength: Strength::Medium,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::trust::{PathState, Store};
    use crate::lab::{Ca, KeyKind, LeafSpec};

    fn cert(issuer_cn: &str, issuer_o: &str) -> CertInfo {
        let mut c = CertInfo::analyse(0, b"not a certificate");
        c.issuer_cn = Some(issuer_cn.into());
        c.issuer_o = Some(issuer_o.into());
        c.subject_cn = Some("www.example.com".into());
        c.pin = Some(Pin::of_spki(issuer_cn.as_bytes()));
        c
    }

    fn path(store: Store, anchor: Option<&str>) -> PathReport {
        PathReport {
            store,
            verified: anchor.is_some(),
            anchor: anchor.map(|subject| AnchorInfo {
                subject: subject.into(),
                spki_sha256: Pin::of_spki(subject.as_bytes()),
                origin: match store {
                    Store::Public => AnchorOrigin::Mozilla,
                    Store::Os => AnchorOrigin::Os,
                },
                not_after: String::new(),
            }),
            path: vec![0],
            error: None,
            state: if anchor.is_some() {
                PathState::Verified
            } else {
                PathState::NotReached
            },
        }
    }

    fn run(
        chain: &[CertInfo],
        public: &PathReport,
        os: &PathReport,
        pinset: Option<&PinSet>,
    ) -> Interception {
        let interceptors = Interceptors::bundled().unwrap();
        let public_anchor = public.anchor.as_ref().map(|a| a.spki_sha256);
        let has = move |p: &Pin| Some(*p) == public_anchor;
        let seen = crate::chain::trust::seen_keys(chain, &[public, os]);
        let report = pinset.map(|set| crate::pins::check(set, &[], &seen));
        collect(&Inputs {
            chain,
            public,
            os,
            public_has_key: &has,
            pinset,
            denied: report.as_ref().and_then(|r| r.denied.first()),
            interceptors: &interceptors,
            now: time::OffsetDateTime::now_utc().unix_timestamp(),
        })
    }

    /// A chain made by the lab: root and issuing CA of organisation `org`, a leaf from `spec`.
    fn lab_chain(org: &str, spec: LeafSpec) -> Vec<CertInfo> {
        let root = Ca::root("Lab Root", org, KeyKind::EcdsaP256).unwrap();
        let inter = root
            .intermediate("Lab Issuing", org, KeyKind::EcdsaP256)
            .unwrap();
        let leaf = inter.leaf(&spec).unwrap();
        let mut chain: Vec<CertInfo> = leaf
            .chain()
            .iter()
            .enumerate()
            .map(|(i, der)| CertInfo::analyse(i, der))
            .collect();
        // the lab cannot log leaves in CT; a clean public leaf carries SCTs
        chain[0].embedded_scts = true;
        chain
    }

    fn public_path(origin: AnchorOrigin) -> PathReport {
        let mut p = path(Store::Public, Some("CN=Lab Root"));
        p.path = vec![0, 1];
        if let Some(a) = p.anchor.as_mut() {
            a.origin = origin;
        }
        p
    }

    #[test]
    fn each_signal_fires_on_its_chain_and_stays_silent_on_a_clean_one() {
        let now = time::OffsetDateTime::now_utc();
        let clean_spec = LeafSpec::new(["lab.test"]);
        let set = PinSet {
            name: "cloud".into(),
            expect_issuer_orgs: vec!["DigiCert Inc".into()],
            ..PinSet::default()
        };
        let os_none = path(Store::Os, None);
        type Change = fn(&mut Vec<CertInfo>, &mut PathReport);
        struct Case {
            name: &'static str,
            org: &'static str,
            spec: LeafSpec,
            change: Change,
            expect: Option<(&'static str, Strength, &'static str)>,
        }
        let fresh = LeafSpec {
            not_before: now - time::Duration::seconds(30),
            ..clean_spec.clone()
        };
        let long = LeafSpec {
            not_after: now + time::Duration::days(800),
            ..clean_spec.clone()
        };
        let cases = [
            Case {
                name: "clean",
                org: "DigiCert Inc",
                spec: clean_spec.clone(),
                change: |_, _| {},
                expect: None,
            },
            Case {
                name: "unexpected issuer",
                org: "Corp Networks",
                spec: clean_spec.clone(),
                change: |_, _| {},
                expect: Some((
                    "unexpected-issuer",
                    Strength::Medium,
                    "O=\"Corp Networks\" issued #0 lab.test, #1 Lab Issuing",
                )),
            },
            Case {
                name: "public leaf without SCTs",
                org: "DigiCert Inc",
                spec: clean_spec.clone(),
                change: |c, _| c[0].embedded_scts = false,
                expect: Some(("no-sct", Strength::Medium, "public root")),
            },
            Case {
                name: "unanchored leaf without SCTs",
                org: "DigiCert Inc",
                spec: clean_spec.clone(),
                change: |c, p| {
                    c[0].embedded_scts = false;
                    *p = path(Store::Public, None);
                },
                expect: Some(("no-sct", Strength::Weak, "inspection devices")),
            },
            Case {
                name: "--cacert anchor without SCTs is a declared private PKI",
                org: "DigiCert Inc",
                spec: clean_spec.clone(),
                change: |c, p| {
                    c[0].embedded_scts = false;
                    *p = public_path(AnchorOrigin::CaCert("lab.pem".into()));
                },
                expect: None,
            },
            Case {
                name: "leaf made 30 s ago",
                org: "DigiCert Inc",
                spec: fresh,
                change: |_, _| {},
                expect: Some(("fresh-leaf", Strength::Medium, "30 s before the probe")),
            },
            Case {
                name: "800-day leaf",
                org: "DigiCert Inc",
                spec: long,
                change: |_, _| {},
                expect: Some(("fresh-leaf", Strength::Weak, "398 days")),
            },
            Case {
                name: "RSA 1024",
                org: "DigiCert Inc",
                spec: clean_spec.clone(),
                change: |c, _| {
                    c[1].key = "RSA 1024".into();
                    c[1].key_bits = 1024;
                },
                expect: Some(("weak-crypto", Strength::Medium, "RSA 1024")),
            },
            Case {
                name: "leaf with its CA's key",
                org: "DigiCert Inc",
                spec: clean_spec.clone(),
                change: |c, _| {
                    c[0].pin = c[1].pin;
                },
                expect: Some((
                    "ca-key-reuse",
                    Strength::Medium,
                    "same key as #1 Lab Issuing",
                )),
            },
            Case {
                name: "SHA-1 signature",
                org: "DigiCert Inc",
                spec: clean_spec.clone(),
                change: |c, _| c[0].signature_algorithm = "sha1WithRSAEncryption".into(),
                expect: Some(("weak-crypto", Strength::Medium, "sha1WithRSAEncryption")),
            },
        ];
        for case in cases {
            let mut chain = lab_chain(case.org, case.spec);
            let mut public = public_path(AnchorOrigin::Mozilla);
            (case.change)(&mut chain, &mut public);
            let found = run(&chain, &public, &os_none, Some(&set));
            match case.expect {
                None => assert!(found.evidence.is_empty(), "{}: {:?}", case.name, found),
                Some((signal, strength, words)) => {
                    assert_eq!(found.evidence.len(), 1, "{}: {:?}", case.name, found);
                    let s = &found.evidence[0];
                    assert_eq!(
                        (s.signal.code(), s.strength),
                        (signal, strength),
                        "{}",
                        case.name
                    );
                    assert!(s.detail.contains(words), "{}: {}", case.name, s.detail);
                    assert!(!found.is_strong(), "{}", case.name);
                }
            }
        }
    }

    #[test]
    fn bundled_list_loads_with_sources() {
        let list = Interceptors::bundled().unwrap();
        assert!(list.interceptors.len() >= 15);
        assert!(list.interceptors.iter().all(|i| !i.source.is_empty()));
        assert!(list.unnamed.iter().any(|u| u.product.contains("Squid")));
    }

    #[test]
    fn malformed_list_names_the_line() {
        let e = Interceptors::parse("[[interceptors]]\nproduct = 1\n", "x.toml").unwrap_err();
        assert!(e.to_string().starts_with("x.toml:2:"), "{e}");
    }

    #[test]
    fn signals_table() {
        let clean = [cert(
            "DigiCert Global G2 TLS RSA SHA256 2020 CA1",
            "DigiCert Inc",
        )];
        let zscaler = [cert(
            "Zscaler Intermediate Root CA (zscalertwo.net) (t) ",
            "Zscaler Inc.",
        )];
        let public = path(Store::Public, Some("CN=DigiCert Global Root G2"));
        let none_public = path(Store::Public, None);
        let os_lab = path(Store::Os, Some("CN=Corp Inspection Root"));
        let os_public = path(Store::Os, Some("CN=DigiCert Global Root G2"));

        // clean public chain: nothing
        let e = run(&clean, &public, &os_public, None);
        assert!(e.evidence.is_empty() && e.vendor.is_none(), "{e:?}");

        // anchored only in the OS store: strong, names the anchor, no vendor
        let e = run(&clean, &none_public, &os_lab, None);
        assert_eq!(e.evidence[0].signal.code(), "os-store-only-anchor");
        assert!(e.evidence[0].detail.contains("Corp Inspection Root"));
        assert!(e.is_strong() && e.vendor.is_none());

        // a private chain trusted nowhere: no signal
        let e = run(&clean, &none_public, &path(Store::Os, None), None);
        assert!(e.evidence.is_empty());

        // a known name, case-insensitive, names the vendor
        let e = run(&zscaler, &none_public, &path(Store::Os, None), None);
        assert_eq!(e.vendor.as_deref(), Some("Zscaler"));
        assert_eq!(e.evidence[0].signal.code(), "known-interceptor");
        assert!(e.is_strong());

        // a medium-confidence name alone is not strong
        let avast = [cert("Avast Web/Mail Shield Root", "Avast")];
        let e = run(&avast, &none_public, &path(Store::Os, None), None);
        assert_eq!(e.evidence.len(), 1);
        assert!(!e.is_strong(), "{e:?}");

        // a deny pin anywhere on the chain
        let set = PinSet {
            name: "s".into(),
            deny: vec![crate::pins::PinEntry {
                pin: clean[0].pin.unwrap(),
                label: Some("shared key".into()),
                source: None,
            }],
            ..PinSet::default()
        };
        let e = run(&clean, &public, &os_public, Some(&set));
        assert_eq!(e.evidence[0].signal.code(), "deny-pin");
        assert!(e.is_strong());
    }
}
