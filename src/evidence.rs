//! Interception evidence: named signals found in a chain, each with a detail and a strength,
//! and the product they point to when one is known.
//!
//! The verdict needs a strong signal before it says `ssl-interception`; a chain with none is
//! only `untrusted-chain`. The names of interception products come from `pins/interceptors.toml`
//! (compiled in, every entry with its source), never from Rust literals.

use serde::{Deserialize, Serialize};

use crate::chain::cert::CertInfo;
use crate::chain::trust::{AnchorInfo, PathReport};
use crate::error::Error;
use crate::pins::{Pin, PinSet};

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

/// One piece of evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Signal {
    /// stable name, e.g. `os-store-only-anchor`
    pub signal: &'static str,
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
        let list: Interceptors = toml::from_str(text).map_err(|e| match e.span() {
            Some(span) => Error::At {
                file: file.to_string(),
                line: text[..span.start.min(text.len())].matches('\n').count() + 1,
                message: e.message().to_string(),
            },
            None => Error::File {
                file: file.to_string(),
                message: e.message().to_string(),
            },
        })?;
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
    /// the known products
    pub interceptors: &'a Interceptors,
}

/// Collects the signals of one chain.
pub fn collect(inputs: &Inputs<'_>) -> Interception {
    let mut out = Interception::default();

    // An anchor the OS trusts and the public roots do not: the enterprise-installed root of an
    // inspecting proxy, the case the Defender guide warns about.
    if !inputs.public.verified && inputs.os.verified {
        if let Some(anchor) = &inputs.os.anchor {
            if !(inputs.public_has_key)(&anchor.spki_sha256) {
                out.evidence.push(Signal {
                    signal: "os-store-only-anchor",
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
            signal: "known-interceptor",
            detail: format!("{what} matches {} (\"{}\")", i.product, i.pattern),
            strength: match i.confidence {
                Confidence::High => Strength::Strong,
                Confidence::Medium => Strength::Medium,
            },
        });
    }

    if let Some(set) = inputs.pinset {
        let presented = inputs
            .chain
            .iter()
            .filter_map(|c| c.pin.map(|p| (c.short_name(), p)));
        let anchors = [&inputs.public.anchor, &inputs.os.anchor]
            .into_iter()
            .flatten()
            .map(|a| (a.subject.clone(), a.spki_sha256));
        for (name, pin) in presented.chain(anchors) {
            if let Some(entry) = set.denied(&pin) {
                let label = entry.label.as_deref().unwrap_or("no label");
                out.evidence.push(Signal {
                    signal: "deny-pin",
                    detail: format!(
                        "{name} has the key {pin}, on the deny list of pin set {} ({label})",
                        set.name
                    ),
                    strength: Strength::Strong,
                });
                break;
            }
        }
    }

    out.evidence.sort_by_key(|s| std::cmp::Reverse(s.strength));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::trust::PathState;

    fn cert(issuer_cn: &str, issuer_o: &str) -> CertInfo {
        let mut c = CertInfo::analyse(0, b"not a certificate");
        c.issuer_cn = Some(issuer_cn.into());
        c.issuer_o = Some(issuer_o.into());
        c.subject_cn = Some("www.example.com".into());
        c.pin = Some(Pin::of_spki(issuer_cn.as_bytes()));
        c
    }

    fn path(store: &'static str, anchor: Option<&str>) -> PathReport {
        PathReport {
            store,
            verified: anchor.is_some(),
            anchor: anchor.map(|subject| AnchorInfo {
                subject: subject.into(),
                spki_sha256: Pin::of_spki(subject.as_bytes()),
                origin: store.into(),
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
        collect(&Inputs {
            chain,
            public,
            os,
            public_has_key: &has,
            pinset,
            interceptors: &interceptors,
        })
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
        let public = path("public", Some("CN=DigiCert Global Root G2"));
        let none_public = path("public", None);
        let os_lab = path("os", Some("CN=Corp Inspection Root"));
        let os_public = path("os", Some("CN=DigiCert Global Root G2"));

        // clean public chain: nothing
        let e = run(&clean, &public, &os_public, None);
        assert!(e.evidence.is_empty() && e.vendor.is_none(), "{e:?}");

        // anchored only in the OS store: strong, names the anchor, no vendor
        let e = run(&clean, &none_public, &os_lab, None);
        assert_eq!(e.evidence[0].signal, "os-store-only-anchor");
        assert!(e.evidence[0].detail.contains("Corp Inspection Root"));
        assert!(e.is_strong() && e.vendor.is_none());

        // a private chain trusted nowhere: no signal
        let e = run(&clean, &none_public, &path("os", None), None);
        assert!(e.evidence.is_empty());

        // a known name, case-insensitive, names the vendor
        let e = run(&zscaler, &none_public, &path("os", None), None);
        assert_eq!(e.vendor.as_deref(), Some("Zscaler"));
        assert_eq!(e.evidence[0].signal, "known-interceptor");
        assert!(e.is_strong());

        // a medium-confidence name alone is not strong
        let avast = [cert("Avast Web/Mail Shield Root", "Avast")];
        let e = run(&avast, &none_public, &path("os", None), None);
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
        assert_eq!(e.evidence[0].signal, "deny-pin");
        assert!(e.is_strong());
    }
}
