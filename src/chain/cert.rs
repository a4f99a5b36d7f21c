//! What one certificate says: names, validity, key, signature algorithm and pins.
//!
//! Every certificate a server presents is analysed, whatever its quality: a certificate that does
//! not parse is reported as such, with its fingerprint, and never stops the probe.

use std::net::IpAddr;

use ::time::format_description::well_known::Rfc3339;
use ::time::OffsetDateTime;
use serde::Serialize;
use sha2::{Digest, Sha256};
use x509_parser::prelude::*;
use x509_parser::public_key::PublicKey;

use crate::pins::Pin;

/// Why a certificate cannot be analysed, from the parser's error.
fn does_not_parse(e: impl std::fmt::Display) -> String {
    format!("certificate does not parse: {e}")
}

/// The analysis of one DER certificate.
#[derive(Clone, Debug, Serialize)]
pub struct CertInfo {
    /// position in the chain as sent (0 = leaf)
    pub index: usize,
    /// subject distinguished name, RFC 4514 style
    pub subject: String,
    /// issuer distinguished name
    pub issuer: String,
    /// subject commonName, if any
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_cn: Option<String>,
    /// issuer commonName, if any
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_cn: Option<String>,
    /// issuer organizationName, if any
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_o: Option<String>,
    /// serial number, colon-separated hex
    pub serial: String,
    /// start of validity, RFC 3339
    pub not_before: String,
    /// end of validity, RFC 3339
    pub not_after: String,
    /// start of validity, seconds since the Unix epoch
    #[serde(skip)]
    pub not_before_unix: i64,
    /// end of validity, seconds since the Unix epoch
    #[serde(skip)]
    pub not_after_unix: i64,
    /// subject alternative names (DNS names and IP addresses)
    pub sans: Vec<String>,
    /// key type and size, e.g. "RSA 2048" or "EC P-256"
    pub key: String,
    /// key size in bits (0 when unknown)
    pub key_bits: usize,
    /// signature algorithm of the certificate, e.g. "sha256WithRSAEncryption"
    pub signature_algorithm: String,
    /// SPKI pin, base64
    pub spki_sha256: String,
    /// SPKI pin, hex
    pub spki_sha256_hex: String,
    /// SHA-256 of the whole certificate, hex (the fingerprint browsers show)
    pub sha256: String,
    /// a CA certificate (basic constraints cA = true)
    pub is_ca: bool,
    /// issuer and subject are the same name
    pub self_issued: bool,
    /// the certificate embeds Certificate Transparency SCTs (OID 1.3.6.1.4.1.11129.2.4.2)
    pub embedded_scts: bool,
    /// set when the certificate does not parse; the other fields are then empty
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
    /// the SPKI pin, when the certificate parses
    #[serde(skip)]
    pub pin: Option<Pin>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_else(|_| t.to_string())
}

fn curve_name(oid: &str) -> &'static str {
    match oid {
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        _ => "unknown curve",
    }
}

fn key_description(spki: &SubjectPublicKeyInfo<'_>) -> (String, usize) {
    let alg = spki.algorithm.algorithm.to_id_string();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => {
            let bits = rsa.key_size();
            (format!("RSA {bits}"), bits)
        }
        Ok(PublicKey::EC(point)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| curve_name(&oid.to_id_string()))
                .unwrap_or("unknown curve");
            (format!("EC {curve}"), point.key_size())
        }
        Ok(PublicKey::DSA(y)) => (format!("DSA {}", y.len() * 8), y.len() * 8),
        _ => match alg.as_str() {
            "1.3.101.112" => ("Ed25519".to_string(), 256),
            "1.3.101.113" => ("Ed448".to_string(), 456),
            other => (format!("unknown key ({other})"), 0),
        },
    }
}

fn signature_name(oid: &x509_parser::der_parser::Oid<'_>) -> String {
    x509_parser::objects::oid2sn(oid, x509_parser::objects::oid_registry())
        .map(str::to_string)
        .unwrap_or_else(|_| oid.to_id_string())
}

fn first_attr<'a>(mut it: impl Iterator<Item = &'a AttributeTypeAndValue<'a>>) -> Option<String> {
    it.next().and_then(|a| a.as_str().ok()).map(str::to_string)
}

/// The CN of a distinguished name as pinprobe prints it (`O=x, CN=y`), for short labels.
pub fn common_name(subject: &str) -> Option<String> {
    subject
        .split(", ")
        .find_map(|part| part.strip_prefix("CN="))
        .map(str::to_string)
}

/// The X.509 extension that carries embedded SCTs (RFC 6962, section 3.3).
pub const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";

impl CertInfo {
    /// The subject alternative names as a list for people, an empty one named as such
    /// (`an empty name ("")`) rather than left as a gap between two commas.
    pub fn names(&self) -> String {
        self.sans
            .iter()
            .map(|name| {
                if name.is_empty() {
                    "an empty name (\"\")"
                } else {
                    name.as_str()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Analyses every certificate of a presented chain, in the order sent.
    pub fn analyse_chain(chain: &[rustls::pki_types::CertificateDer<'_>]) -> Vec<CertInfo> {
        chain
            .iter()
            .enumerate()
            .map(|(i, der)| CertInfo::analyse(i, der.as_ref()))
            .collect()
    }

    /// The certificate's SPKI pin, as [`CertInfo::analyse`] gives it, without the rest of its
    /// work; or why the certificate cannot be analysed.
    pub fn pin_of(der: &[u8]) -> Result<Pin, String> {
        X509Certificate::from_der(der)
            .map(|(_, cert)| Pin::of_spki(cert.public_key().raw))
            .map_err(does_not_parse)
    }

    /// Analyses the certificate at `index` of a presented chain.
    pub fn analyse(index: usize, der: &[u8]) -> CertInfo {
        let sha256 = hex::encode(Sha256::digest(der));
        match X509Certificate::from_der(der) {
            Ok((_, cert)) => Self::from_parsed(index, &cert, sha256),
            Err(e) => CertInfo {
                index,
                subject: String::new(),
                issuer: String::new(),
                subject_cn: None,
                issuer_cn: None,
                issuer_o: None,
                serial: String::new(),
                not_before: String::new(),
                not_after: String::new(),
                not_before_unix: 0,
                not_after_unix: 0,
                sans: Vec::new(),
                key: String::new(),
                key_bits: 0,
                signature_algorithm: String::new(),
                spki_sha256: String::new(),
                spki_sha256_hex: String::new(),
                sha256,
                is_ca: false,
                self_issued: false,
                embedded_scts: false,
                parse_error: Some(does_not_parse(e)),
                pin: None,
            },
        }
    }

    fn from_parsed(index: usize, cert: &X509Certificate<'_>, sha256: String) -> CertInfo {
        let spki = cert.public_key();
        let pin = Pin::of_spki(spki.raw);
        let (key, key_bits) = key_description(spki);
        let mut sans = Vec::new();
        if let Ok(Some(ext)) = cert.subject_alternative_name() {
            for name in &ext.value.general_names {
                match name {
                    GeneralName::DNSName(d) => sans.push((*d).to_string()),
                    GeneralName::IPAddress(bytes) => {
                        let ip = match bytes.len() {
                            4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                            16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                            _ => None,
                        };
                        if let Some(ip) = ip {
                            sans.push(ip.to_string());
                        }
                    }
                    _ => {}
                }
            }
        }
        let validity = cert.validity();
        let subject = cert.subject().to_string();
        let issuer = cert.issuer().to_string();
        CertInfo {
            index,
            self_issued: subject == issuer,
            subject,
            issuer,
            subject_cn: first_attr(cert.subject().iter_common_name()),
            issuer_cn: first_attr(cert.issuer().iter_common_name()),
            issuer_o: first_attr(cert.issuer().iter_organization()),
            serial: cert.raw_serial_as_string(),
            not_before: rfc3339(validity.not_before.to_datetime()),
            not_after: rfc3339(validity.not_after.to_datetime()),
            not_before_unix: validity.not_before.timestamp(),
            not_after_unix: validity.not_after.timestamp(),
            sans,
            key,
            key_bits,
            signature_algorithm: signature_name(&cert.signature_algorithm.algorithm),
            spki_sha256: pin.to_base64(),
            spki_sha256_hex: pin.to_hex(),
            sha256,
            is_ca: cert.is_ca(),
            embedded_scts: cert
                .extensions()
                .iter()
                .any(|e| e.oid.to_id_string() == SCT_LIST_OID),
            parse_error: None,
            pin: Some(pin),
        }
    }

    /// `#1 name has a RSA 1024 key` when the key is an RSA key under 2048 bits.
    pub fn weak_key(&self) -> Option<String> {
        (self.key.starts_with("RSA") && self.key_bits > 0 && self.key_bits < 2048).then(|| {
            format!(
                "#{} {} has a {} key",
                self.index,
                self.short_name(),
                self.key
            )
        })
    }

    /// `#0 name is signed with sha1WithRSAEncryption` when its signature uses SHA-1 or MD5.
    pub fn weak_signature(&self) -> Option<String> {
        let alg = self.signature_algorithm.to_ascii_lowercase();
        (alg.contains("sha1") || alg.contains("md5")).then(|| {
            format!(
                "#{} {} is signed with {}",
                self.index,
                self.short_name(),
                self.signature_algorithm
            )
        })
    }

    /// A short name for messages: the subject CN, else the subject, else the fingerprint.
    pub fn short_name(&self) -> String {
        if let Some(cn) = &self.subject_cn {
            cn.clone()
        } else if !self.subject.is_empty() {
            self.subject.clone()
        } else {
            format!("certificate sha256:{}", &self.sha256[..16])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_name_is_found_in_either_order() {
        assert_eq!(
            common_name("O=Lab, CN=Lab Root").as_deref(),
            Some("Lab Root")
        );
        assert_eq!(
            common_name("O=Pinprobe Lab, CN=Pinprobe Lab Root CA").as_deref(),
            Some("Pinprobe Lab Root CA")
        );
        assert_eq!(common_name("CN=a.test").as_deref(), Some("a.test"));
        assert_eq!(common_name("O=Lab"), None);
        assert_eq!(common_name("O=Only Org"), None);
    }

    #[test]
    fn garbage_is_reported_not_fatal() {
        let info = CertInfo::analyse(1, b"\x30\x03\x02\x01\x00not a certificate");
        assert!(info
            .parse_error
            .as_deref()
            .unwrap()
            .starts_with("certificate does not parse"));
        assert_eq!(info.index, 1);
        assert!(info.pin.is_none());
        assert_eq!(info.sha256.len(), 64);
    }

    #[test]
    fn mozilla_root_is_described() {
        // DigiCert Global Root G2 from the compiled-in Mozilla roots; its pin is published.
        let g2 = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| CertInfo::analyse(0, c))
            .find(|i| i.subject_cn.as_deref() == Some("DigiCert Global Root G2"))
            .unwrap();
        assert_eq!(
            g2.spki_sha256,
            "i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY="
        );
        assert_eq!(g2.key, "RSA 2048");
        assert_eq!(g2.signature_algorithm, "sha256WithRSAEncryption");
        assert_eq!(g2.issuer_o.as_deref(), Some("DigiCert Inc"));
        assert!(g2.is_ca && g2.self_issued);
        assert_eq!(g2.not_after, "2038-01-15T12:00:00Z");
    }
}
