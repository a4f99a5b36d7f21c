//! Trust: builds the certificate path twice, against the public anchors (Mozilla's roots plus
//! `--cacert`) and against the OS store, and says which anchor each path reached or why none was.
//!
//! The two answers side by side are what tells interception apart from a broken chain: an
//! inspecting proxy's root is installed in the OS store by the enterprise and is in no public set.
//! Path building uses webpki's `verify_for_usage`, which returns the verified path; the pins are
//! then compared with the certificates on that path only.

use std::path::{Path, PathBuf};

use rustls::pki_types::TrustAnchor;
use rustls::pki_types::{CertificateDer, ServerName, SignatureVerificationAlgorithm, UnixTime};
use serde::Serialize;
use webpki::{EndEntityCert, KeyUsage};

use crate::chain::cert::CertInfo;
use crate::error::Error;
use crate::pins::Pin;

/// Which anchor set a path was built against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Store {
    /// Mozilla's roots plus `--cacert`: what a client that ships its own roots trusts
    Public,
    /// the platform's store: what this machine trusts, enterprise roots included
    Os,
}

impl Store {
    /// `public` or `os`.
    pub fn name(self) -> &'static str {
        match self {
            Store::Public => "public",
            Store::Os => "os",
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
}

impl std::fmt::Display for AnchorOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnchorOrigin::Mozilla => f.write_str("mozilla"),
            AnchorOrigin::CaCert(path) => write!(f, "--cacert {}", path.display()),
            AnchorOrigin::Os => f.write_str("os"),
            AnchorOrigin::Given(what) => f.write_str(what),
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
}

fn pin_base64<S: serde::Serializer>(pin: &Pin, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&pin.to_base64())
}

/// A set of trust anchors with what each one is.
pub struct AnchorSet {
    /// which set it is
    pub name: Store,
    anchors: Vec<TrustAnchor<'static>>,
    info: Vec<AnchorInfo>,
    /// problems met while loading (unreadable files, certificates that are not anchors)
    pub load_errors: Vec<String>,
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
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    use rustls::pki_types::pem::PemObject;
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.first() == Some(&0x30) {
        return Ok(vec![CertificateDer::from(bytes)]);
    }
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&bytes).collect();
    let certs = certs.map_err(|e| Error::File {
        file: path.display().to_string(),
        message: format!(
            "not a PEM certificate file ({e}): expected -----BEGIN CERTIFICATE----- blocks"
        ),
    })?;
    if certs.is_empty() {
        return Err(Error::File {
            file: path.display().to_string(),
            message: "no certificate found: expected -----BEGIN CERTIFICATE----- blocks".into(),
        });
    }
    Ok(certs)
}

impl AnchorSet {
    fn new(name: Store) -> AnchorSet {
        AnchorSet {
            name,
            anchors: Vec::new(),
            info: Vec::new(),
            load_errors: Vec::new(),
        }
    }

    fn add(&mut self, der: &CertificateDer<'_>, origin: &AnchorOrigin) -> Result<(), String> {
        let anchor = webpki::anchor_from_trusted_cert(der)
            .map_err(|e| format!("not usable as a trust anchor: {e:?}"))?
            .to_owned();
        let info = CertInfo::analyse(0, der);
        let pin = info
            .pin
            .ok_or_else(|| info.parse_error.clone().unwrap_or_default())?;
        self.anchors.push(anchor);
        self.info.push(AnchorInfo {
            subject: info.subject,
            spki_sha256: pin,
            origin: origin.clone(),
            not_after: info.not_after,
        });
        Ok(())
    }

    /// Mozilla's roots (compiled in) plus the anchors of every `--cacert` file.
    pub fn public(cacerts: &[PathBuf]) -> Result<AnchorSet, Error> {
        let mut set = AnchorSet::new(Store::Public);
        for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
            if let Err(e) = set.add(der, &AnchorOrigin::Mozilla) {
                set.load_errors.push(e);
            }
        }
        for path in cacerts {
            let origin = AnchorOrigin::CaCert(path.clone());
            for (i, der) in read_certificates(path)?.iter().enumerate() {
                set.add(der, &origin).map_err(|e| Error::File {
                    file: path.display().to_string(),
                    message: format!("certificate #{}: {e}", i + 1),
                })?;
            }
        }
        Ok(set)
    }

    /// The platform's store, read with rustls-native-certs (which honours `SSL_CERT_FILE` and
    /// `SSL_CERT_DIR`). Problems are kept in `load_errors`, never fatal: a machine without a
    /// store still gets the public verdict.
    pub fn os() -> AnchorSet {
        let mut set = AnchorSet::new(Store::Os);
        let result = rustls_native_certs::load_native_certs();
        for e in &result.errors {
            set.load_errors.push(e.to_string());
        }
        for der in &result.certs {
            if let Err(e) = set.add(der, &AnchorOrigin::Os) {
                set.load_errors.push(e);
            }
        }
        set
    }

    /// An anchor set made of the given certificates (tests and the lab).
    pub fn from_certificates(name: Store, certs: &[CertificateDer<'_>], origin: &str) -> AnchorSet {
        let mut set = AnchorSet::new(name);
        let origin = AnchorOrigin::Given(origin.to_string());
        for der in certs {
            if let Err(e) = set.add(der, &origin) {
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

    /// Whether an anchor with this key is in the set.
    pub fn has_key(&self, pin: &Pin) -> bool {
        self.info.iter().any(|i| i.spki_sha256 == *pin)
    }

    fn index_of(&self, anchor: &TrustAnchor<'_>) -> Option<usize> {
        self.anchors.iter().position(|a| {
            a.subject.as_ref() == anchor.subject.as_ref()
                && a.subject_public_key_info.as_ref() == anchor.subject_public_key_info.as_ref()
        })
    }
}

/// What path building against one anchor set found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathState {
    /// a path to an anchor, valid now
    Verified,
    /// a path to an anchor that is valid only at another time
    TimeInvalid(TimeProblem),
    /// no path to any anchor of the set
    NotReached,
}

/// Why a path is not valid now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeProblem {
    /// a certificate on the path has expired
    Expired,
    /// a certificate on the path is not valid yet
    NotYetValid,
}

/// The outcome of building a path against one anchor set, as reported.
#[derive(Clone, Debug, Serialize)]
pub struct PathReport {
    /// the anchor set
    pub store: Store,
    /// a path to an anchor was found and every certificate on it is valid now
    pub verified: bool,
    /// the anchor the path reached (also when the path is valid only at another time)
    pub anchor: Option<AnchorInfo>,
    /// positions in the presented chain of the certificates on the path, leaf first
    pub path: Vec<usize>,
    /// why no valid path was found
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// the state behind `verified` and `error`
    #[serde(skip)]
    pub state: PathState,
}

impl PathReport {
    /// A report for a chain that could not be examined (empty or missing).
    pub fn not_examined(store: Store, why: &str) -> PathReport {
        PathReport {
            store,
            verified: false,
            anchor: None,
            path: Vec::new(),
            error: Some(why.to_string()),
            state: PathState::NotReached,
        }
    }

    /// The certificates of the path with their roles, leaf first, anchor last.
    pub fn keys(&self, chain: &[CertInfo]) -> Vec<PathKey> {
        let mut keys: Vec<PathKey> = self
            .path
            .iter()
            .filter_map(|i| chain.get(*i))
            .filter_map(|c| {
                c.pin.map(|pin| PathKey {
                    pin,
                    role: if c.index == 0 {
                        Role::Leaf
                    } else {
                        Role::Intermediate
                    },
                    index: Some(c.index),
                    name: c.short_name(),
                    subject: c.subject.clone(),
                    certificate: format!("#{} {}", c.index, c.short_name()),
                    expires: c.not_after.clone(),
                })
            })
            .collect();
        if let Some(anchor) = &self.anchor {
            keys.push(PathKey {
                pin: anchor.spki_sha256,
                role: Role::Anchor,
                index: None,
                name: crate::chain::cert::common_name(&anchor.subject)
                    .unwrap_or_else(|| anchor.subject.clone()),
                subject: anchor.subject.clone(),
                certificate: anchor.subject.clone(),
                expires: anchor.not_after.clone(),
            });
        }
        keys
    }
}

/// Every key met in a chain, named for messages: the certificates as presented (`#1 Name`),
/// then the anchors the paths reached (by subject). What deny pins are compared with.
pub fn seen_keys(chain: &[CertInfo], paths: &[&PathReport]) -> Vec<(String, Pin)> {
    let presented = chain
        .iter()
        .filter_map(|c| c.pin.map(|p| (c.short_name(), p)));
    let anchors = paths
        .iter()
        .filter_map(|p| p.anchor.as_ref())
        .map(|a| (a.subject.clone(), a.spki_sha256));
    presented.chain(anchors).collect()
}

/// A position on a verified path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// the server's own certificate
    Leaf,
    /// a CA between the leaf and the anchor
    Intermediate,
    /// the trust anchor reached
    Anchor,
}

impl Role {
    /// `leaf`, `intermediate` or `anchor`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Leaf => "leaf",
            Role::Intermediate => "intermediate",
            Role::Anchor => "anchor",
        }
    }
}

/// A certificate of a verified path: what pin sets, drift reports and generated profiles are
/// made of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathKey {
    /// its pin
    pub pin: Pin,
    /// its position
    pub role: Role,
    /// its position in the chain as sent (None for an anchor from a store)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// a short name: the subject CN, else the subject
    pub name: String,
    /// the subject distinguished name
    pub subject: String,
    /// `#1 Issuing CA`, or the anchor's subject
    pub certificate: String,
    /// its end of validity, RFC 3339 (empty when unknown)
    pub expires: String,
}

impl PathKey {
    /// `#1 name` for a presented certificate, `anchor SUBJECT` for the anchor.
    pub fn label(&self) -> String {
        match self.role {
            Role::Anchor => format!("anchor {}", self.subject),
            Role::Leaf | Role::Intermediate => self.certificate.clone(),
        }
    }
}

fn describe(e: &webpki::Error, set: &AnchorSet) -> String {
    use webpki::Error as E;
    match e {
        E::UnknownIssuer => format!(
            "no path to any of the {} {} anchors (unknown issuer)",
            set.len(),
            set.name
        ),
        E::InvalidSignatureForPublicKey => {
            "a signature on the path does not verify with its issuer's key".into()
        }
        E::CaUsedAsEndEntity => "the leaf is a CA certificate".into(),
        E::EndEntityUsedAsCa => "a non-CA certificate was used as an issuer".into(),
        E::RequiredEkuNotFoundContext(_) => {
            "the leaf is not valid for TLS server authentication (extended key usage)".into()
        }
        E::CertExpired { .. } => "a certificate on the path has expired".into(),
        E::CertNotValidYet { .. } => "a certificate on the path is not valid yet".into(),
        E::NameConstraintViolation => "the path violates a name constraint of its CA".into(),
        E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            "a signature on the path uses an unsupported algorithm".into()
        }
        E::MaximumPathBuildCallsExceeded | E::MaximumPathDepthExceeded => {
            "the chain is too long or too tangled to build a path".into()
        }
        other => format!("path building failed: {other:?}"),
    }
}

/// Builds the path of `chain` (as presented, leaf first) against `set` at time `now`.
pub fn build_path(
    set: &AnchorSet,
    chain: &[CertificateDer<'_>],
    infos: &[CertInfo],
    algs: &[&dyn SignatureVerificationAlgorithm],
    now: UnixTime,
) -> PathReport {
    let Some(leaf_der) = chain.first() else {
        return PathReport::not_examined(set.name, "no certificate was presented");
    };
    let leaf = match EndEntityCert::try_from(leaf_der) {
        Ok(leaf) => leaf,
        Err(e) => {
            return PathReport::not_examined(set.name, &format!("the leaf does not parse: {e:?}"))
        }
    };
    let intermediates = &chain[1..];
    let attempt = |time: UnixTime| -> Result<(usize, Vec<usize>), webpki::Error> {
        let path = leaf.verify_for_usage(
            algs,
            &set.anchors,
            intermediates,
            time,
            KeyUsage::server_auth(),
            None,
            None,
        )?;
        let mut positions = vec![0];
        for cert in path.intermediate_certificates() {
            let der = cert.der();
            if let Some(i) = chain.iter().position(|c| c.as_ref() == der.as_ref()) {
                positions.push(i);
            }
        }
        let anchor = set.index_of(path.anchor()).unwrap_or(usize::MAX);
        Ok((anchor, positions))
    };
    let report =
        |anchor: usize, path: Vec<usize>, state: PathState, error: Option<String>| PathReport {
            store: set.name,
            verified: state == PathState::Verified,
            anchor: set.info.get(anchor).cloned(),
            path,
            error,
            state,
        };
    match attempt(now) {
        Ok((anchor, path)) => report(anchor, path, PathState::Verified, None),
        Err(e @ (webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. })) => {
            let problem = match e {
                webpki::Error::CertExpired { .. } => TimeProblem::Expired,
                _ => TimeProblem::NotYetValid,
            };
            // Build again at a moment when every presented certificate is valid, to learn
            // whether the path would be good but for the clock.
            let from = infos
                .iter()
                .filter(|i| i.pin.is_some())
                .map(|i| i.not_before_unix)
                .max();
            let until = infos
                .iter()
                .filter(|i| i.pin.is_some())
                .map(|i| i.not_after_unix)
                .min();
            let retry = match (from, until) {
                (Some(from), Some(until)) if from <= until && from >= 0 => {
                    attempt(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
                        from as u64 + ((until - from) as u64) / 2,
                    )))
                    .ok()
                }
                _ => None,
            };
            let message = time_message(problem, infos, now);
            match retry {
                Some((anchor, path)) => {
                    report(anchor, path, PathState::TimeInvalid(problem), Some(message))
                }
                None => report(usize::MAX, Vec::new(), PathState::NotReached, Some(message)),
            }
        }
        Err(e) => report(
            usize::MAX,
            Vec::new(),
            PathState::NotReached,
            Some(describe(&e, set)),
        ),
    }
}

/// What is wrong with a certificate's dates at `now` (seconds), if anything.
fn time_problem(c: &CertInfo, now: i64) -> Option<(TimeProblem, String)> {
    if c.not_after_unix < now {
        Some((
            TimeProblem::Expired,
            format!("#{} {} expired on {}", c.index, c.short_name(), c.not_after),
        ))
    } else if c.not_before_unix > now {
        Some((
            TimeProblem::NotYetValid,
            format!(
                "#{} {} is not valid before {}",
                c.index,
                c.short_name(),
                c.not_before
            ),
        ))
    } else {
        None
    }
}

fn time_message(problem: TimeProblem, infos: &[CertInfo], now: UnixTime) -> String {
    let now = now.as_secs() as i64;
    let culprit = infos
        .iter()
        .filter(|i| i.pin.is_some())
        .filter_map(|i| time_problem(i, now))
        .find(|(p, _)| *p == problem);
    match (problem, culprit) {
        (_, Some((_, message))) => message,
        (TimeProblem::Expired, None) => "a certificate on the path has expired".into(),
        (TimeProblem::NotYetValid, None) => "a certificate on the path is not valid yet".into(),
    }
}

/// The result of matching the leaf against the host name.
#[derive(Clone, Debug, Serialize)]
pub struct NameCheck {
    /// the leaf is valid for the name
    pub ok: bool,
    /// the names the leaf is valid for, when it is not
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Checks the leaf against the server name (SANs only, as browsers and webpki do).
pub fn check_name(
    leaf: &CertificateDer<'_>,
    leaf_info: &CertInfo,
    name: &ServerName<'_>,
) -> NameCheck {
    let ok = EndEntityCert::try_from(leaf)
        .map(|ee| ee.verify_is_valid_for_subject_name(name).is_ok())
        .unwrap_or(false);
    NameCheck {
        ok,
        detail: (!ok).then(|| {
            if leaf_info.sans.is_empty() {
                format!(
                    "the leaf has no subject alternative name; {} is not covered",
                    name.to_str()
                )
            } else {
                format!(
                    "the leaf is for {}, not {}",
                    leaf_info.sans.join(", "),
                    name.to_str()
                )
            }
        }),
    }
}

/// The result of checking the validity dates of the presented chain.
#[derive(Clone, Debug, Serialize)]
pub struct ValidityCheck {
    /// every presented certificate that parses is within its validity period now
    pub ok: bool,
    /// which certificate is out of its validity period, when one is
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Checks that every presented certificate that parses is within its validity period at
/// `now`, on the path or not: reported beside the path, which judges only its own.
pub fn check_validity(chain: &[CertInfo], now: UnixTime) -> ValidityCheck {
    let now = now.as_secs() as i64;
    let problem = chain
        .iter()
        .filter(|c| c.pin.is_some())
        .find_map(|c| time_problem(c, now))
        .map(|(_, message)| message);
    ValidityCheck {
        ok: problem.is_none(),
        detail: problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::{Ca, KeyKind, LeafSpec};

    fn algs() -> &'static [&'static dyn SignatureVerificationAlgorithm] {
        webpki::ALL_VERIFICATION_ALGS
    }

    fn analyse(chain: &[CertificateDer<'_>]) -> Vec<CertInfo> {
        chain
            .iter()
            .enumerate()
            .map(|(i, c)| CertInfo::analyse(i, c))
            .collect()
    }

    #[test]
    fn path_reaches_the_lab_root_and_lists_the_presented_certificates() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let inter = root
            .intermediate("Lab Issuing CA", "Lab", KeyKind::EcdsaP256)
            .unwrap();
        let leaf = inter.leaf(&LeafSpec::new(["lab.test"])).unwrap();
        // A stray certificate sent after the chain is not on the path.
        let stray = Ca::root("Stray", "Lab", KeyKind::EcdsaP256).unwrap();
        let mut chain = leaf.chain();
        chain.push(stray.der().clone());
        let infos = analyse(&chain);
        let set = AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test");
        let report = build_path(&set, &chain, &infos, algs(), UnixTime::now());
        assert_eq!(report.state, PathState::Verified, "{:?}", report.error);
        assert_eq!(report.path, vec![0, 1]);
        let anchor = report.anchor.as_ref().unwrap();
        assert!(anchor.subject.contains("Lab Root"));
        let pins: Vec<_> = report.keys(&infos).iter().map(|k| k.pin).collect();
        assert_eq!(pins.len(), 3);
        assert!(!pins.contains(&infos[2].pin.unwrap()));

        let mozilla = AnchorSet::public(&[]).unwrap();
        let report = build_path(&mozilla, &chain, &infos, algs(), UnixTime::now());
        assert_eq!(report.state, PathState::NotReached);
        assert!(report.error.unwrap().contains("unknown issuer"));
    }

    #[test]
    fn expired_leaf_still_names_its_anchor() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let mut spec = LeafSpec::new(["old.test"]);
        spec.not_before = ::time::OffsetDateTime::now_utc() - ::time::Duration::days(60);
        spec.not_after = ::time::OffsetDateTime::now_utc() - ::time::Duration::days(30);
        let leaf = root.leaf(&spec).unwrap();
        let chain = leaf.chain();
        let infos = analyse(&chain);
        let set = AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test");
        let report = build_path(&set, &chain, &infos, algs(), UnixTime::now());
        assert_eq!(report.state, PathState::TimeInvalid(TimeProblem::Expired));
        assert!(report.anchor.is_some());
        assert!(report.error.unwrap().contains("expired on"));
    }

    #[test]
    fn name_check_lists_the_names_of_the_leaf() {
        let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
        let leaf = root.leaf(&LeafSpec::new(["a.test"])).unwrap();
        let info = CertInfo::analyse(0, &leaf.cert);
        let good = ServerName::try_from("a.test").unwrap();
        let bad = ServerName::try_from("b.test").unwrap();
        assert!(check_name(&leaf.cert, &info, &good).ok);
        let check = check_name(&leaf.cert, &info, &bad);
        assert!(!check.ok);
        assert_eq!(check.detail.unwrap(), "the leaf is for a.test, not b.test");
    }
}
