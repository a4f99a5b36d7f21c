//! The known interception products (`pins/interceptors.toml`, compiled in, every entry with
//! its source): matched by issuer name or by a shared key, never by Rust literals.

use serde::Deserialize;

use crate::chain::cert::CertInfo;
use crate::chain::trust::AnchorInfo;
use crate::error::Error;
use crate::pins::Pin;

/// The interceptor names, compiled into the binary.
pub const BUNDLED_INTERCEPTORS: &str = include_str!("../../pins/interceptors.toml");
const BUNDLED_INTERCEPTORS_NAME: &str = "pins/interceptors.toml (bundled)";

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
    /// the pattern of an `spki` entry, decoded once when the list is read: every chain of a
    /// sweep is compared with it
    #[serde(skip)]
    spki: Option<Pin>,
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
        let mut list: Interceptors =
            toml::from_str(text).map_err(|e| crate::profile::toml_error(&e, text, file))?;
        for entry in &mut list.interceptors {
            if entry.field != Field::Spki {
                continue;
            }
            match Pin::parse(&entry.pattern) {
                Ok(pin) => entry.spki = Some(pin),
                Err(_) => {
                    return Err(Error::File {
                        file: file.to_string(),
                        message: format!(
                            "interceptor {}: \"{}\" is not a pin (expected sha256/<base64>)",
                            entry.product, entry.pattern
                        ),
                    })
                }
            }
        }
        Ok(list)
    }

    /// The first entry that matches the certificate, by issuer name or key.
    pub(super) fn match_cert(&self, cert: &CertInfo) -> Option<(&Interceptor, String)> {
        self.interceptors.iter().find_map(|i| {
            let value = match i.field {
                Field::IssuerCn => cert.issuer_cn.as_deref(),
                Field::IssuerO => cert.issuer_o.as_deref(),
                Field::Spki => {
                    let pin = i.spki?;
                    return (cert.pin == Some(pin))
                        .then(|| (i, format!("its key is {}'s shared key {pin}", i.product)));
                }
            }?;
            contains_ignore_case(value, &i.pattern).then(|| {
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
    pub(super) fn match_anchor(&self, anchor: &AnchorInfo) -> Option<(&Interceptor, String)> {
        self.interceptors.iter().find_map(|i| match i.field {
            Field::Spki => {
                let pin = i.spki?;
                (anchor.spki_sha256 == pin)
                    .then(|| (i, format!("its key is {}'s shared key {pin}", i.product)))
            }
            _ => contains_ignore_case(&anchor.subject, &i.pattern)
                .then(|| (i, format!("subject \"{}\"", anchor.subject))),
        })
    }
}

/// Whether `haystack` contains `needle`, both lowercased. Every chain of a sweep is compared
/// with every name of the list, so ASCII text (nearly all issuer names) is compared in place;
/// other text is lowercased first, since Unicode lowercasing can turn a non-ASCII character
/// into an ASCII one (the Kelvin sign into `k`).
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() && needle.is_ascii() {
        let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
        return needle.is_empty()
            || haystack
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle));
    }
    haystack
        .to_lowercase()
        .contains(needle.to_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::contains_ignore_case;

    #[test]
    fn names_match_whatever_their_case() {
        let cases = [
            ("Zscaler Intermediate Root CA", "zscaler", true),
            ("ZSCALER", "Zscaler", true),
            ("Forti", "fortigate", false),
            ("FortiGate CA", "", true),
            ("", "", true),
            ("", "a", false),
            // lowercased, the Kelvin sign is an ASCII k
            ("\u{212A}erio Control", "kerio", true),
            ("BLUE COAT \u{00C9}", "blue coat \u{00E9}", true),
            ("Blue Coat", "blue coat \u{00E9}", false),
        ];
        for (haystack, needle, expected) in cases {
            assert_eq!(
                contains_ignore_case(haystack, needle),
                expected,
                "{haystack:?} contains {needle:?}"
            );
            // the same answer as lowercasing both
            assert_eq!(
                contains_ignore_case(haystack, needle),
                haystack.to_lowercase().contains(&needle.to_lowercase()),
            );
        }
    }
}
