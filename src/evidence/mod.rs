//! Interception evidence: named signals found in a chain, each with a detail and a strength,
//! and the product they point to when one is known.
//!
//! The verdict needs a strong signal before it says `ssl-interception`; a chain with none is
//! only `untrusted-chain`. The names of interception products come from `pins/interceptors.toml`
//! (compiled in, every entry with its source), never from Rust literals.

mod interceptors;

pub use interceptors::{
    Confidence, Field, Interceptor, Interceptors, Unnamed, BUNDLED_INTERCEPTORS,
};

use serde::{Deserialize, Serialize};

use crate::chain::cert::CertInfo;
use crate::chain::trust::{AnchorOrigin, PathReport};
use crate::pins::{Denied, Pin, PinSet};
use crate::proxy::connect::ProxyAnswer;

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
    /// genuine public certificates sent beside a chain they do not sign
    AppendedGenuine,
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
            SignalKind::AppendedGenuine => "appended-genuine",
        }
    }
}

impl SignalKind {
    /// True for the kinds that point at a device re-signing the traffic, each on its own
    /// grounds, so that two of them together on a chain anchored nowhere are interception
    /// (`verdict::classify`). Weak keys and old signatures are a property of old servers, and
    /// what a proxy says of itself is only a hint: they never count.
    pub fn marks_resigning(self) -> bool {
        match self {
            SignalKind::OsStoreOnlyAnchor
            | SignalKind::KnownInterceptor
            | SignalKind::DenyPin
            | SignalKind::UnexpectedIssuer
            | SignalKind::NoSct
            | SignalKind::FreshLeaf
            | SignalKind::CaKeyReuse
            | SignalKind::AppendedGenuine => true,
            SignalKind::WeakCrypto | SignalKind::ProxyIdentity => false,
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

/// How sure the `ssl-interception` verdict is (see `verdict::classify` for the rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Certainty {
    /// a strong signal or a deny pin
    High,
    /// a chain anchored nowhere, with independent medium signals of a re-signing device
    Medium,
}

/// The evidence of one probe and the product it names.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Interception {
    /// the interception product, when a signal names one
    pub vendor: Option<String>,
    /// how sure the verdict is, when the verdict is `ssl-interception`
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<Certainty>,
    /// every signal found, strongest first
    pub evidence: Vec<Signal>,
}

impl Interception {
    /// True when at least one signal is strong.
    pub fn is_strong(&self) -> bool {
        self.evidence.iter().any(|s| s.strength == Strength::Strong)
    }
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
    /// true when the public anchor set holds an anchor with the given subject
    pub public_has_subject: &'a dyn Fn(&str) -> bool,
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
    appended_genuine(inputs, &mut out.evidence);

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

/// Public certificates sent beside a chain they do not sign: a public root (its key is one of
/// the public anchors) or a CA certificate issued by a public root's name, presented but off the
/// leaf's path. An interceptor appends the genuine certificates to its own chain to satisfy
/// clients that look for a pinned key anywhere in the presented chain; a server sending stale
/// extras of its own CA would have them on its path.
fn appended_genuine(inputs: &Inputs<'_>, out: &mut Vec<Signal>) {
    let on_path = |i: usize| inputs.public.path.contains(&i) && inputs.public.verified;
    let found: Vec<String> = inputs
        .chain
        .iter()
        .skip(1)
        // a certificate with a key TLS clients refuse (RSA under 2048 bits) can verify
        // nothing, so whether it signs the chain cannot be told: it is not counted as appended
        .filter(|c| {
            c.parse_error.is_none() && c.is_ca && !on_path(c.index) && c.weak_key().is_none()
        })
        .filter_map(|c| {
            let pin = c.pin?;
            if (inputs.public_has_key)(&pin) {
                Some(format!(
                    "#{} {} (a public anchor: Mozilla's or --cacert)",
                    c.index,
                    c.short_name()
                ))
            } else if (inputs.public_has_subject)(&c.issuer) && !c.self_issued {
                Some(format!(
                    "#{} {} (issued by the public anchor \"{}\")",
                    c.index,
                    c.short_name(),
                    c.issuer
                ))
            } else {
                None
            }
        })
        .collect();
    if !found.is_empty() {
        out.push(Signal {
            signal: SignalKind::AppendedGenuine,
            detail: format!(
                "{} sent beside a chain they do not sign: genuine certificates appended to another chain, as an interceptor does to pass pin checks that read the presented chain",
                found.join(", ")
            ),
            strength: Strength::Medium,
        });
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
mod tests;
