//! SPKI pins: the SHA-256 of a certificate's DER SubjectPublicKeyInfo, in every text form users
//! meet (OkHttp, curl, HPKP, hex), and the pin sets that a profile gives to endpoints.
//!
//! A pin names a key, not a certificate, so a certificate re-issued on the same key still
//! matches; this is what pinned clients (Defender, mobile apps) compare.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::chain::trust::PathKey;

/// The SHA-256 of a DER-encoded SubjectPublicKeyInfo.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pin([u8; 32]);

/// Why a text is not a pin; the message says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    /// the text has none of the known prefixes and is not 64 hex digits
    #[error("unknown pin syntax: expected sha256/<base64>, sha256//<base64>, pin-sha256=\"<base64>\" or 64 hex digits")]
    Syntax,
    /// the base64 part does not decode
    #[error("bad base64 ({0}): expected 44 base64 characters ending in '='")]
    Base64(String),
    /// the digest has the wrong length
    #[error("the digest is {0} bytes long: a SHA-256 pin is 32 bytes (44 base64 characters, 64 hex digits)")]
    Length(usize),
    /// hex digits that do not decode
    #[error("bad hex: expected 64 hex digits (colons allowed between bytes)")]
    Hex,
}

impl Pin {
    /// The pin of a DER-encoded SubjectPublicKeyInfo (the whole SEQUENCE, tag and length included).
    pub fn of_spki(spki_der: &[u8]) -> Pin {
        Pin(Sha256::digest(spki_der).into())
    }

    /// Reads any of `sha256/<b64>` (OkHttp), `sha256//<b64>` (curl), `pin-sha256="<b64>"` (HPKP)
    /// and 64 hex digits, optionally separated by colons (OpenSSL's fingerprint style).
    pub fn parse(text: &str) -> Result<Pin, PinError> {
        let text = text.trim();
        let b64 = if let Some(rest) = text.strip_prefix("sha256/") {
            // curl writes `sha256//<b64>`, but a base64 digest may itself start with `/`
            // (one key in 64): the curl reading is taken only when it decodes to a digest
            match rest.strip_prefix('/') {
                Some(curl) if BASE64.decode(curl.trim()).is_ok_and(|b| b.len() == 32) => Some(curl),
                _ => Some(rest),
            }
        } else if let Some(rest) = text.strip_prefix("pin-sha256=") {
            let rest = rest.trim();
            Some(
                rest.strip_prefix('"')
                    .and_then(|r| r.strip_suffix('"'))
                    .unwrap_or(rest),
            )
        } else {
            None
        };
        match b64 {
            Some(b64) => {
                let bytes = BASE64
                    .decode(b64.trim())
                    .map_err(|e| PinError::Base64(e.to_string()))?;
                Self::from_digest(&bytes)
            }
            None => {
                let hex_digits: String = text.chars().filter(|c| *c != ':').collect();
                if hex_digits.len() != 64 || !hex_digits.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(
                        if text.chars().all(|c| c.is_ascii_hexdigit() || c == ':')
                            && !text.is_empty()
                        {
                            PinError::Hex
                        } else {
                            PinError::Syntax
                        },
                    );
                }
                let bytes = hex::decode(hex_digits).map_err(|_| PinError::Hex)?;
                Self::from_digest(&bytes)
            }
        }
    }

    /// The pin whose digest is `bytes`, which must be 32 bytes long.
    pub fn from_digest(bytes: &[u8]) -> Result<Pin, PinError> {
        <[u8; 32]>::try_from(bytes)
            .map(Pin)
            .map_err(|_| PinError::Length(bytes.len()))
    }

    /// The digest in standard base64 (44 characters).
    pub fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    /// The digest in lowercase hex (64 digits).
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// `sha256/<base64>`, the canonical form.
impl fmt::Display for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256/{}", self.to_base64())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Pin {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A pin with what it stands for and where it was taken from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PinEntry {
    /// the pin itself
    pub pin: Pin,
    /// what certificate or key this pin is (e.g. "DigiCert Global Root G2")
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// where the pin was read
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// True when a pin's label or source calls it a backup: a key kept out of the chain on purpose
/// (HPKP, TrustKit), which drift reports never count as stale and `pin --update` keeps.
pub fn marked_backup(label: Option<&str>, source: Option<&str>) -> bool {
    [label, source]
        .into_iter()
        .flatten()
        .any(|t| t.to_ascii_lowercase().contains("backup"))
}

impl PinEntry {
    /// True when the entry is marked as a backup (see [`marked_backup`]).
    pub fn is_backup(&self) -> bool {
        marked_backup(self.label.as_deref(), self.source.as_deref())
    }
}

/// A named set of allowed and denied pins, as given by a profile.
#[derive(Clone, Debug, Default)]
pub struct PinSet {
    /// the name under `[pinsets.NAME]`
    pub name: String,
    /// free text from the profile
    pub description: Option<String>,
    /// a chain passes when any of these is on its verified path
    pub pins: Vec<PinEntry>,
    /// a chain fails when any of these is on it, whatever else matches
    pub deny: Vec<PinEntry>,
    /// issuer organisations the endpoints of this set are expected to show
    pub expect_issuer_orgs: Vec<String>,
    /// the file the set was read from, for messages
    pub origin: String,
    /// the set's own trust anchors (`anchors = [...]`): a client that trusts only these (the
    /// Defender agent's CA bundle) verifies against them, not the public roots or the OS store
    pub anchors: Vec<PinnedAnchor>,
    /// every pin is an alternative, as curl's `--pinnedpubkey` list is: the pins not on the
    /// path are never stale, so the set never drifts while one of them matches
    pub alternatives: bool,
}

/// A certificate a pin set carries as a trust anchor of its own, with the file it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedAnchor {
    /// the file as the profile names it (`agent/microsoft-root-2011.pem`)
    pub file: String,
    /// the certificate
    pub der: rustls::pki_types::CertificateDer<'static>,
    /// the pin of its key
    pub pin: Pin,
}

impl PinSet {
    /// The allowed entry for `pin`, if any.
    pub fn allowed(&self, pin: &Pin) -> Option<&PinEntry> {
        self.pins.iter().find(|entry| entry.pin == *pin)
    }

    /// The deny entry for `pin`, if any.
    pub fn denied(&self, pin: &Pin) -> Option<&PinEntry> {
        self.deny.iter().find(|entry| entry.pin == *pin)
    }
}

/// A key of the verified path that the set allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Matched {
    /// the certificate of the path
    pub key: PathKey,
    /// the set's label for the pin
    pub label: Option<String>,
}

/// A key the set denies, seen on the chain or reached as an anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denied {
    /// the certificate that holds it (`#1 Name`, or an anchor's subject)
    pub certificate: String,
    /// the key
    pub pin: Pin,
    /// the set's label for the deny entry
    pub label: Option<String>,
    /// the pin set whose deny list holds it
    pub set: String,
}

/// The evidence line of a denied key.
impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has the key {}, on the deny list of pin set {} ({})",
            self.certificate,
            self.pin,
            self.set,
            self.label.as_deref().unwrap_or("no label")
        )
    }
}

/// What a pin set says of a chain: the one place where pins are matched. The probe's verdict,
/// the drift report, `inspect` and `pin` all read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PinReport {
    /// keys of the verified path that the set allows, in path order
    pub matched: Vec<Matched>,
    /// pins of the set that are not on the path (backups, absent on purpose, left out)
    pub stale: Vec<PinEntry>,
    /// keys of the path that the set does not hold
    pub new: Vec<PathKey>,
    /// keys the set denies, anywhere on the chain or among the anchors reached
    pub denied: Vec<Denied>,
}

impl PinReport {
    /// A pin of the set is on the verified path.
    pub fn is_match(&self) -> bool {
        !self.matched.is_empty()
    }
}

/// Checks `set` against a chain. `path` is the signature-verified path, leaf first and anchor
/// last: allowed pins count only there, so a genuine root appended by a middlebox to its own
/// chain never matches. `seen` is every key met (the certificates as presented and the anchors
/// reached, named for messages): a deny pin fails the chain wherever it is.
pub fn check(set: &PinSet, path: &[PathKey], seen: &[(String, Pin)]) -> PinReport {
    let on_path = |pin: &Pin| path.iter().any(|k| k.pin == *pin);
    let mut report = PinReport::default();
    for key in path {
        match set.allowed(&key.pin) {
            Some(entry) => report.matched.push(Matched {
                key: key.clone(),
                label: entry.label.clone(),
            }),
            None => report.new.push(key.clone()),
        }
    }
    report.stale = set
        .pins
        .iter()
        // the set's own anchors are alternatives: a path reaches one of them, never all
        // (and every pin of a set of alternatives: curl's --pinnedpubkey list)
        .filter(|e| {
            !set.alternatives
                && !on_path(&e.pin)
                && !e.is_backup()
                && !set.anchors.iter().any(|a| a.pin == e.pin)
        })
        .cloned()
        .collect();
    for (certificate, pin) in seen {
        if let Some(entry) = set.denied(pin) {
            if !report.denied.iter().any(|d| d.pin == *pin) {
                report.denied.push(Denied {
                    certificate: certificate.clone(),
                    pin: *pin,
                    label: entry.label.clone(),
                    set: set.name.clone(),
                });
            }
        }
    }
    report
}

/// The day of `unix_secs` (seconds since the epoch), `YYYY-MM-DD`: the "taken" date of the pins
/// `needed` labels.
pub fn taken_on(unix_secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .map(|t| t.date().to_string())
        .unwrap_or_default()
}

/// Today, as [`taken_on`] writes it.
pub fn today() -> String {
    taken_on(time::OffsetDateTime::now_utc().unix_timestamp())
}

/// The pins a set needs for `path`, one per key, leaf first, each labelled with its position,
/// name and expiry and the day it was taken: what the drift report proposes, what `pin`
/// writes and what `inspect` lists as pins to add.
pub fn needed(path: &[PathKey], taken_on: &str, source: &str) -> Vec<PinEntry> {
    let mut entries: Vec<PinEntry> = Vec::new();
    for key in path {
        if entries.iter().any(|e| e.pin == key.pin) {
            continue;
        }
        let expires = key
            .expires
            .get(..10)
            .filter(|d| d.as_bytes().get(4) == Some(&b'-'))
            .map_or_else(String::new, |d| format!(", expires {d}"));
        entries.push(PinEntry {
            pin: key.pin,
            label: Some(format!(
                "{}: {}{expires}, taken {taken_on}",
                key.role.name(),
                key.name
            )),
            source: Some(source.to_string()),
        });
    }
    entries
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chain::trust::Role;

    // SPKI of DigiCert Global Root G2 and its published pin (Debian ca-certificates).
    const G2_B64: &str = "i7WTqTvh0OioIruIfFR4kMPnBqrS2rdiVPl/s2uC/CY=";
    const G2_HEX: &str = "8bb593a93be1d0e8a822bb887c547890c3e706aad2dab76254f97fb36b82fc26";

    #[test]
    fn sha256_of_known_input() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1
        assert_eq!(
            Pin::of_spki(b"abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_digest_starting_with_a_slash_is_not_taken_for_curl_syntax() {
        let mut digest = [7u8; 32];
        digest[0] = 0xfc; // base64 of 0xfc.. starts with '/'
        let b64 = BASE64.encode(digest);
        assert!(b64.starts_with('/'));
        for text in [format!("sha256/{b64}"), format!("sha256//{b64}")] {
            assert_eq!(Pin::parse(&text).unwrap().0, digest, "{text}");
        }
    }

    #[test]
    fn every_syntax_reads_the_same_pin() {
        let forms = [
            format!("sha256/{G2_B64}"),
            format!("sha256//{G2_B64}"),
            format!("pin-sha256=\"{G2_B64}\""),
            format!("  pin-sha256={G2_B64} "),
            G2_HEX.to_string(),
            G2_HEX.to_uppercase(),
            hex::decode(G2_HEX)
                .unwrap()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<Vec<_>>()
                .join(":"),
        ];
        for form in forms {
            let pin = Pin::parse(&form).unwrap_or_else(|e| panic!("{form}: {e}"));
            assert_eq!(pin.to_base64(), G2_B64, "{form}");
            assert_eq!(pin.to_hex(), G2_HEX, "{form}");
            assert_eq!(pin.to_string(), format!("sha256/{G2_B64}"));
        }
    }

    #[test]
    fn bad_pins_say_what_is_wrong() {
        let cases: &[(&str, PinError)] = &[
            ("sha256/abc", PinError::Base64(String::new())),
            ("sha256/YWJj", PinError::Length(3)),
            ("md5/abc", PinError::Syntax),
            ("", PinError::Syntax),
            ("8bb593a9", PinError::Hex),
            (&G2_HEX[..62], PinError::Hex),
            ("zz", PinError::Syntax),
        ];
        for (text, want) in cases {
            let got = Pin::parse(text).unwrap_err();
            match (want, &got) {
                (PinError::Base64(_), PinError::Base64(_)) => {}
                _ => assert_eq!(&got, want, "{text:?}"),
            }
            assert!(!got.to_string().is_empty());
        }
    }

    /// A path key made from `seed` (its pin is the SHA-256 of the seed), for tests.
    pub(crate) fn key(seed: &str, role: Role, expires: &str) -> PathKey {
        PathKey {
            pin: Pin::of_spki(seed.as_bytes()),
            role,
            index: None,
            name: seed.into(),
            subject: format!("CN={seed}"),
            certificate: seed.into(),
            expires: expires.into(),
        }
    }

    /// A pin set entry for the key made from `seed`, for tests.
    pub(crate) fn entry(seed: &str, label: &str) -> PinEntry {
        PinEntry {
            pin: Pin::of_spki(seed.as_bytes()),
            label: Some(label.into()),
            source: None,
        }
    }

    #[test]
    fn check_matches_on_the_path_and_denies_anywhere() {
        let path = [
            key("leaf", Role::Leaf, ""),
            key("inter", Role::Intermediate, ""),
            key("root", Role::Anchor, ""),
        ];
        let set = PinSet {
            name: "svc".into(),
            pins: vec![
                entry("inter", "intermediate: Issuing"),
                entry("gone", "leaf: old"),
                entry("spare", "backup key"),
                // a genuine root appended off the path never matches
                entry("appended", "anchor: Genuine Root"),
            ],
            deny: vec![entry("shared", "shared interception key")],
            ..PinSet::default()
        };
        let seen = [
            ("#0 leaf".to_string(), Pin::of_spki(b"leaf")),
            ("#2 Genuine Root".to_string(), Pin::of_spki(b"appended")),
            ("anchor CN=Corp".to_string(), Pin::of_spki(b"shared")),
        ];
        let report = check(&set, &path, &seen);
        assert!(report.is_match());
        let matched: Vec<&str> = report.matched.iter().map(|m| m.key.name.as_str()).collect();
        assert_eq!(matched, ["inter"]);
        let stale: Vec<&str> = report
            .stale
            .iter()
            .filter_map(|e| e.label.as_deref())
            .collect();
        assert_eq!(stale, ["leaf: old", "anchor: Genuine Root"]);
        let new: Vec<&str> = report.new.iter().map(|k| k.name.as_str()).collect();
        assert_eq!(new, ["leaf", "root"]);
        assert_eq!(report.denied.len(), 1);
        assert_eq!(report.denied[0].certificate, "anchor CN=Corp");

        let unmatched = check(&PinSet::default(), &path, &[]);
        assert!(!unmatched.is_match());
        assert_eq!(unmatched.new.len(), 3);
        assert!(unmatched.denied.is_empty());
    }

    #[test]
    fn the_day_pins_are_taken() {
        assert_eq!(taken_on(1_764_547_200), "2025-12-01");
        assert_eq!(today().len(), 10);
    }

    #[test]
    fn needed_pins_name_role_expiry_and_day() {
        let path = [
            key("svc.test", Role::Leaf, "2027-02-22T10:00:00Z"),
            key("Issuing", Role::Intermediate, "soon"),
            key("svc.test", Role::Anchor, ""),
        ];
        let needed = needed(&path, "2026-12-01", "test");
        let labels: Vec<&str> = needed.iter().filter_map(|e| e.label.as_deref()).collect();
        assert_eq!(
            labels,
            [
                "leaf: svc.test, expires 2027-02-22, taken 2026-12-01",
                "intermediate: Issuing, taken 2026-12-01",
            ]
        );
        assert_eq!(needed[0].source.as_deref(), Some("test"));
    }
}
