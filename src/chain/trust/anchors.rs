//! Anchor sets: Mozilla's roots plus `--cacert` (public), the platform's store (os), each anchor
//! with where it came from, and the OS store with where it was read from.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use rustls::pki_types::{CertificateDer, TrustAnchor};
use serde::Serialize;

use super::os_store::{self, CertVars, OsStoreChoice, OsStoreReport, OsStoreSource, PlatformStore};
use crate::chain::cert::CertInfo;
use crate::error::Error;
use crate::input;
use crate::pins::{Pin, PinSet};

/// Which anchor set a path was built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Store {
    /// Mozilla's roots plus `--cacert`: what a client that ships its own roots trusts
    Public,
    /// the platform's store: what this machine trusts, enterprise roots included
    Os,
    /// the anchors a pin set carries (`anchors = [...]`): what a client that ships its own CA
    /// bundle trusts (the Defender agent), whatever the other two say
    Agent,
}

impl Store {
    /// `public`, `os` or `agent`.
    pub fn name(self) -> &'static str {
        match self {
            Store::Public => "public",
            Store::Os => "os",
            Store::Agent => "agent",
        }
    }
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Where an anchor came from. Only Mozilla's roots are a public CA's: the evidence that
/// expects public-CA behaviour (Certificate Transparency) asks for `Mozilla`, never for a
/// `--cacert` file or the OS store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AnchorOrigin {
    /// Mozilla's root program, compiled in (webpki-root-certs)
    Mozilla,
    /// a `--cacert` file
    CaCert(PathBuf),
    /// the platform's store
    Os,
    /// anchors a caller gave (the lab, tests), with what they are
    Given(String),
    /// a file of a pin set's `anchors`
    PinSet {
        /// the pin set
        set: String,
        /// the file, as the profile names it
        file: String,
    },
}

impl std::fmt::Display for AnchorOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnchorOrigin::Mozilla => f.write_str("mozilla"),
            AnchorOrigin::CaCert(path) => write!(f, "--cacert {}", input::name(path)),
            AnchorOrigin::Os => f.write_str("os"),
            AnchorOrigin::Given(what) => f.write_str(what),
            AnchorOrigin::PinSet { set, file } => write!(f, "pin set {set}, {file}"),
        }
    }
}

impl Serialize for AnchorOrigin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// What we know of one anchor of a set.
#[derive(Clone, Debug, Serialize)]
pub struct AnchorInfo {
    /// subject distinguished name
    pub subject: String,
    /// SPKI pin of the anchor (base64 in JSON, as the chain's)
    #[serde(serialize_with = "pin_base64")]
    pub spki_sha256: Pin,
    /// where it came from (`mozilla`, `--cacert FILE` or `os` in reports)
    pub origin: AnchorOrigin,
    /// end of the anchor certificate's validity, RFC 3339
    pub not_after: String,
    /// the same, seconds since the Unix epoch (None when the certificate gave none)
    #[serde(skip)]
    pub not_after_unix: Option<i64>,
}

impl AnchorInfo {
    /// `Name (origin) expired on DATE`, for the warnings about an expired anchor.
    pub fn expiry_note(&self) -> String {
        format!(
            "{} ({}) expired on {}",
            self.name(),
            self.origin,
            self.expiry_day()
        )
    }

    /// The subject's common name, else the subject.
    pub fn name(&self) -> String {
        crate::chain::cert::common_name(&self.subject).unwrap_or_else(|| self.subject.clone())
    }

    /// The day its certificate ends, `YYYY-MM-DD`.
    pub fn expiry_day(&self) -> &str {
        self.not_after.get(..10).unwrap_or(&self.not_after)
    }
}

fn pin_base64<S: serde::Serializer>(pin: &Pin, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&pin.to_base64())
}

/// A set of trust anchors with what each one is.
///
/// What a report says of an anchor (its subject, dates and origin, [`AnchorInfo`]) is worked
/// out from its certificate the first time something asks: a run reaches a handful of the
/// hundreds of anchors a store holds, and formatting the names and dates of them all took
/// about as much CPU as a probe. Each is parsed when it is added, for its pin and to refuse
/// one that cannot be analysed.
pub struct AnchorSet {
    /// which set it is
    pub name: Store,
    pub(super) anchors: Vec<TrustAnchor<'static>>,
    /// each anchor's pin
    pub(super) pins: Vec<Pin>,
    /// each anchor's certificate and where it came from, analysed on demand into `info`
    pub(super) certs: Vec<(CertificateDer<'static>, AnchorOrigin)>,
    info: Vec<OnceLock<AnchorInfo>>,
    /// problems met while loading (unreadable files, certificates that are not anchors)
    pub load_errors: Vec<String>,
    /// where the OS store was read from (`None` for the public set)
    pub source: Option<OsStoreSource>,
}

impl std::fmt::Debug for AnchorSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnchorSet")
            .field("name", &self.name)
            .field("anchors", &self.anchors.len())
            .finish()
    }
}

/// Reads every certificate of a PEM file (or a single DER certificate).
pub fn read_certificates(
    path: &Path,
    limit: input::Limit,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = input::read_bounded(path, limit)?;
    certificates_in(&bytes, &input::name(path))
}

/// Every certificate of the bytes of a PEM file (or a single DER certificate); `file` names it
/// in messages.
pub fn certificates_in(bytes: &[u8], file: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    use rustls::pki_types::pem::PemObject;
    if bytes.first() == Some(&0x30) {
        return Ok(vec![CertificateDer::from(bytes.to_vec())]);
    }
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(bytes).collect();
    let certs = certs.map_err(|e| Error::File {
        file: file.to_string(),
        message: pem_error(bytes, &e),
    })?;
    if certs.is_empty() {
        return Err(Error::File {
            file: file.to_string(),
            message: "no certificate found: expected -----BEGIN CERTIFICATE----- blocks".into(),
        });
    }
    Ok(certs)
}

/// Characters of a line of the file quoted in an error.
const QUOTED_CHARS: usize = 60;

/// What is wrong with a PEM file, at the line where it is wrong: the parser's own error names
/// neither the line nor the block, and gives the block's label as a list of byte values.
fn pem_error(bytes: &[u8], error: &rustls::pki_types::pem::Error) -> String {
    use rustls::pki_types::pem::{Error as PemError, PemObject, SectionKind};
    // (line number, offset) of each line that starts a block
    let mut starts = Vec::new();
    let mut offset = 0;
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if line.starts_with(b"-----BEGIN ") {
            starts.push((index + 1, offset));
        }
        offset += line.len() + 1;
    }
    // the first block that fails when read on its own is the one the parser stopped at
    let failing = starts.iter().enumerate().find_map(|(i, &(line, start))| {
        let end = starts.get(i + 1).map_or(bytes.len(), |&(_, next)| next);
        let block = &bytes[start..end];
        <(SectionKind, Vec<u8>)>::pem_slice_iter(block)
            .next()
            .is_some_and(|item| item.is_err())
            .then_some((line, block))
    });
    let Some((line, block)) = failing else {
        return format!(
            "not a PEM certificate file ({}): expected -----BEGIN CERTIFICATE----- blocks",
            quoted(error.to_string().as_bytes())
        );
    };
    let begin = block.split(|&b| b == b'\n').next().unwrap_or_default();
    match error {
        PemError::MissingSectionEnd { end_marker } => format!(
            "line {line}: the block that starts here has no -----END {}----- line; \
             copy the whole block, from its BEGIN line to its END line",
            quoted(end_marker)
        ),
        PemError::IllegalSectionStart { .. } => format!(
            "line {line}: \"{}\" is not a BEGIN line: expected -----BEGIN CERTIFICATE-----",
            quoted(begin)
        ),
        PemError::Base64Decode(_) => {
            // the first line of the block with a character base64 does not use, if there is one
            let bad = block
                .split(|&b| b == b'\n')
                .enumerate()
                .skip(1)
                .take_while(|(_, text)| !text.starts_with(b"-----END "))
                .find_map(|(index, text)| {
                    text.iter()
                        .find(|&&b| !(b.is_ascii_alphanumeric() || b"+/= \t\r".contains(&b)))
                        .map(|&b| (line + index, b))
                });
            match bad {
                Some((at, byte)) => format!(
                    "line {at}: '{}' is not a base64 character, in the block that starts at line {line}",
                    quoted(&[byte])
                ),
                None => format!(
                    "line {line}: the block that starts here is not valid base64 (its length or padding is wrong)"
                ),
            }
        }
        other => format!("line {line}: {}", quoted(other.to_string().as_bytes())),
    }
}

/// `bytes` as text for a message: at most [`QUOTED_CHARS`] characters, escaped.
fn quoted(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut shown: String = text.chars().take(QUOTED_CHARS).collect();
    if text.chars().count() > QUOTED_CHARS {
        shown.push_str("...");
    }
    shown.escape_debug().to_string()
}

impl AnchorSet {
    fn new(name: Store) -> AnchorSet {
        AnchorSet {
            name,
            anchors: Vec::new(),
            pins: Vec::new(),
            certs: Vec::new(),
            info: Vec::new(),
            load_errors: Vec::new(),
            source: None,
        }
    }

    fn add(&mut self, der: CertificateDer<'static>, origin: &AnchorOrigin) -> Result<(), String> {
        let anchor = webpki::anchor_from_trusted_cert(&der)
            .map_err(|e| format!("not usable as a trust anchor: {e:?}"))?
            .to_owned();
        // an anchor whose dates or names cannot be read cannot be judged (its validity is
        // ours to check, webpki does not): it is a problem of the store, not an anchor
        let pin = CertInfo::pin_of(&der)?;
        self.pins.push(pin);
        self.anchors.push(anchor);
        self.certs.push((der, origin.clone()));
        self.info.push(OnceLock::new());
        Ok(())
    }

    /// What the reports say of the anchor at `index`.
    pub(super) fn info(&self, index: usize) -> Option<&AnchorInfo> {
        let (der, origin) = self.certs.get(index)?;
        let pin = self.pins[index];
        Some(self.info[index].get_or_init(|| {
            // `add` took only certificates that parse
            let info = CertInfo::analyse(0, der);
            AnchorInfo {
                subject: info.subject,
                spki_sha256: pin,
                origin: origin.clone(),
                not_after_unix: info.parse_error.is_none().then_some(info.not_after_unix),
                not_after: info.not_after,
            }
        }))
    }

    /// What the reports say of every anchor, in order.
    fn infos(&self) -> impl Iterator<Item = &AnchorInfo> {
        (0..self.len()).filter_map(|i| self.info(i))
    }

    /// Mozilla's roots (compiled in) plus the anchors of every `--cacert` file.
    pub fn public(cacerts: &[PathBuf]) -> Result<AnchorSet, Error> {
        let mut set = AnchorSet::new(Store::Public);
        for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
            // compiled in: a copy of the certificate is a copy of a reference
            if let Err(e) = set.add(der.clone(), &AnchorOrigin::Mozilla) {
                set.load_errors.push(e);
            }
        }
        for path in cacerts {
            let origin = AnchorOrigin::CaCert(path.clone());
            for (i, der) in read_certificates(path, input::CACERT)?
                .into_iter()
                .enumerate()
            {
                set.add(der, &origin).map_err(|e| Error::File {
                    file: input::name(path),
                    message: format!("certificate #{}: {e}", i + 1),
                })?;
            }
        }
        Ok(set)
    }

    /// The OS store `choice` names: by default what rustls-native-certs reads (`SSL_CERT_FILE`
    /// and `SSL_CERT_DIR` when either is set, else the platform's store); see
    /// [`OsStoreChoice`]. Problems are kept in `load_errors`, never fatal: a machine without a
    /// store still gets the public verdict.
    pub fn os(choice: OsStoreChoice) -> AnchorSet {
        let mut set = AnchorSet::new(Store::Os);
        let source = OsStoreSource::decide(choice, CertVars::from_env());
        let loaded = os_store::load(&source);
        set.load_errors = loaded.errors;
        for der in loaded.certs {
            if let Err(e) = set.add(der, &AnchorOrigin::Os) {
                set.load_errors.push(e);
            }
        }
        set.source = Some(source);
        set
    }

    /// What the reports say of this set as the OS store: where it was read from, how many
    /// anchors it held, the problems met, and the warning when a keychain was passed over.
    pub fn os_report(&self) -> OsStoreReport {
        let source = self
            .source
            .clone()
            .unwrap_or_else(|| OsStoreSource::Given(self.name.to_string()));
        OsStoreReport::new(
            &source,
            PlatformStore::current(),
            self.len(),
            self.load_errors.clone(),
        )
    }

    /// The anchors a pin set carries: the agent's own store for the endpoints of the set.
    pub fn of_pinset(set: &PinSet) -> AnchorSet {
        let mut anchors = AnchorSet::new(Store::Agent);
        for anchor in &set.anchors {
            let origin = AnchorOrigin::PinSet {
                set: set.name.clone(),
                file: anchor.file.clone(),
            };
            if let Err(e) = anchors.add(anchor.der.clone(), &origin) {
                anchors.load_errors.push(format!("{origin}: {e}"));
            }
        }
        anchors
    }

    /// The anchors whose certificates have expired at `now` (seconds since the epoch).
    pub fn expired(&self, now: i64) -> impl Iterator<Item = &AnchorInfo> {
        self.infos()
            .filter(move |i| i.not_after_unix.is_some_and(|t| t < now))
    }

    /// An anchor set made of the given certificates (tests and the lab).
    pub fn from_certificates(name: Store, certs: &[CertificateDer<'_>], origin: &str) -> AnchorSet {
        let mut set = AnchorSet::new(name);
        if name == Store::Os {
            set.source = Some(OsStoreSource::Given(origin.to_string()));
        }
        let origin = AnchorOrigin::Given(origin.to_string());
        for der in certs {
            if let Err(e) = set.add(der.clone().into_owned(), &origin) {
                set.load_errors.push(e);
            }
        }
        set
    }

    /// Number of anchors.
    pub fn len(&self) -> usize {
        self.anchors.len()
    }

    /// No anchors at all.
    pub fn is_empty(&self) -> bool {
        self.anchors.is_empty()
    }

    /// Whether an anchor with this subject (distinguished name, as reports show it) is in the
    /// set.
    pub fn has_subject(&self, subject: &str) -> bool {
        self.infos().any(|i| i.subject == subject)
    }

    /// Whether an anchor with this key is in the set.
    pub fn has_key(&self, pin: &Pin) -> bool {
        self.pins.contains(pin)
    }

    /// The position of `anchor` (a name and a key) in the set. Two certificates of one name
    /// and key (a CA renewed, the old copy kept) are one anchor to webpki: the one valid at
    /// `now` is named, else the first.
    pub(super) fn index_of(&self, anchor: &TrustAnchor<'_>, now: i64) -> Option<usize> {
        let mut same = self.anchors.iter().enumerate().filter(|(_, a)| {
            a.subject.as_ref() == anchor.subject.as_ref()
                && a.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
        });
        let first = same.next().map(|(i, _)| i)?;
        let valid = |i: usize| {
            self.info(i)
                .is_none_or(|info| info.not_after_unix.is_none_or(|t| t >= now))
        };
        Some(
            std::iter::once(first)
                .chain(same.map(|(i, _)| i))
                .find(|i| valid(*i))
                .unwrap_or(first),
        )
    }
}
