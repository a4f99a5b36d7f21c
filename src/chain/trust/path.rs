//! Path building against one anchor set with webpki, which returns the verified path: what
//! it reached, or why it reached nothing, and the certificates on it with their roles.

use std::collections::hash_map::{Entry, HashMap};

use rustls::pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor, UnixTime};
use serde::Serialize;
use webpki::{EndEntityCert, KeyUsage};

use super::anchors::{AnchorInfo, AnchorSet, Store};
use super::checks::time_message;
use crate::chain::cert::CertInfo;
use crate::pins::Pin;

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

fn describe(e: &webpki::Error, set: &AnchorSet, infos: &[CertInfo]) -> String {
    use webpki::Error as E;
    // the certificate whose dates are at fault, named when the analysis shows which
    let dated = |bad: &dyn Fn(&CertInfo) -> bool| {
        infos
            .iter()
            .find(|c| c.parse_error.is_none() && bad(c))
            .map(|c| {
                format!(
                    " (#{} {}: {} .. {})",
                    c.index,
                    c.short_name(),
                    c.not_before,
                    c.not_after
                )
            })
            .unwrap_or_default()
    };
    match e {
        E::BadDerTime => format!(
            "a certificate's validity dates cannot be used{}: a date before 1970 or out of the encoding's range, which TLS clients reject",
            dated(&|c| c.not_before_unix < 0 || c.not_after_unix < 0)
        ),
        E::InvalidCertValidity => format!(
            "a certificate's validity ends before it begins{}",
            dated(&|c| c.not_before_unix > c.not_after_unix)
        ),
        E::UnsupportedCriticalExtension => {
            "a certificate on the path carries a critical extension that TLS clients do not know, so they must reject it".into()
        }
        E::UnknownIssuer => format!(
            "no path to any of the {} {} anchors (unknown issuer)",
            set.len(),
            set.name
        ),
        E::InvalidSignatureForPublicKey
        | E::UnsupportedSignatureAlgorithmContext(_)
        | E::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
            if infos.iter().any(|c| c.weak_key().is_some()) =>
        {
            // rustls refuses RSA keys under 2048 bits, so a signature made with one reads as
            // one that does not verify; curl says "key too weak"
            let weak: Vec<String> = infos.iter().filter_map(CertInfo::weak_key).collect();
            format!(
                "{}, which TLS clients refuse as too weak (curl: key too weak), so the path cannot be verified",
                weak.join("; ")
            )
        }
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

/// Why the anchor reached is out of date at `now`, if its certificate has expired.
fn expired_anchor(anchor: &AnchorInfo, now: UnixTime) -> Option<String> {
    let not_after = anchor.not_after_unix?;
    (not_after < now.as_secs() as i64).then(|| {
        format!(
            "the anchor \"{}\" ({}) expired on {}",
            anchor.subject, anchor.origin, anchor.not_after
        )
    })
}

/// The anchors of `set` whose certificates have not expired at `now`.
fn valid_anchors(set: &AnchorSet, now: UnixTime) -> Vec<TrustAnchor<'static>> {
    set.anchors
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            set.info(*i)
                .is_none_or(|info| expired_anchor(info, now).is_none())
        })
        .map(|(_, anchor)| anchor.clone())
        .collect()
}

/// The middle of the time when every presented certificate that parses is valid, if there is
/// such a time.
fn when_all_valid(infos: &[CertInfo]) -> Option<UnixTime> {
    let parsed = || infos.iter().filter(|i| i.pin.is_some());
    let from = parsed().map(|i| i.not_before_unix).max()?;
    let until = parsed().map(|i| i.not_after_unix).min()?;
    (from <= until && from >= 0).then(|| {
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            from as u64 + ((until - from) as u64) / 2,
        ))
    })
}

/// The report of a path to the anchor at `anchor` in `set` (`usize::MAX`: none).
fn reached(
    set: &AnchorSet,
    anchor: usize,
    path: Vec<usize>,
    state: PathState,
    error: Option<String>,
) -> PathReport {
    PathReport {
        store: set.name,
        verified: state == PathState::Verified,
        anchor: set.info(anchor).cloned(),
        path,
        error,
        state,
    }
}

/// Each certificate of `chain` once, at its first position, and the intermediates (all but the
/// leaf) without copies. A copy adds no path, and webpki tries every candidate issuer again at
/// every step, so a chain that repeats its intermediates thousands of times took time quadratic
/// in its length.
fn distinct<'c>(
    chain: &'c [CertificateDer<'_>],
) -> (HashMap<&'c [u8], usize>, Vec<CertificateDer<'c>>) {
    let mut first: HashMap<&[u8], usize> = HashMap::with_capacity(chain.len());
    let mut intermediates: Vec<CertificateDer<'_>> = Vec::new();
    for (i, cert) in chain.iter().enumerate() {
        if let Entry::Vacant(slot) = first.entry(cert.as_ref()) {
            slot.insert(i);
            if i > 0 {
                intermediates.push(CertificateDer::from(cert.as_ref()));
            }
        }
    }
    (first, intermediates)
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
            return PathReport::not_examined(
                set.name,
                &format!("the leaf cannot be used: {}", describe(&e, set, infos)),
            )
        }
    };
    let (first, intermediates) = distinct(chain);
    let attempt_with = |anchors: &[TrustAnchor<'_>],
                        time: UnixTime|
     -> Result<(usize, Vec<usize>), webpki::Error> {
        let path = leaf.verify_for_usage(
            algs,
            anchors,
            &intermediates,
            time,
            KeyUsage::server_auth(),
            None,
            None,
        )?;
        let mut positions = vec![0];
        for cert in path.intermediate_certificates() {
            if let Some(i) = first.get(cert.der().as_ref()) {
                positions.push(*i);
            }
        }
        let anchor = set
            .index_of(path.anchor(), time.as_secs() as i64)
            .unwrap_or(usize::MAX);
        Ok((anchor, positions))
    };
    let attempt = |time: UnixTime| attempt_with(&set.anchors, time);
    let report = |anchor, path, state, error| reached(set, anchor, path, state, error);
    match attempt(now) {
        Ok((anchor, path)) => match set.info(anchor).and_then(|a| expired_anchor(a, now)) {
            // webpki takes an anchor as a name and a key; its certificate's dates are ours to
            // judge, as `openssl verify` does; and as OpenSSL prefers an issuer valid now, a
            // path to an anchor still valid wins over one to an expired anchor (a bundle that
            // holds an expired intermediate beside its root)
            Some(message) => match attempt_with(&valid_anchors(set, now), now) {
                Ok((anchor, path)) => report(anchor, path, PathState::Verified, None),
                Err(_) => report(
                    anchor,
                    path,
                    PathState::TimeInvalid(TimeProblem::Expired),
                    Some(message),
                ),
            },
            None => report(anchor, path, PathState::Verified, None),
        },
        Err(e @ (webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. })) => {
            let problem = match e {
                webpki::Error::CertExpired { .. } => TimeProblem::Expired,
                _ => TimeProblem::NotYetValid,
            };
            // Build again at a moment when every presented certificate is valid, to learn
            // whether the path would be good but for the clock; when there is no such moment
            // (a leaf that expired before its intermediate was re-issued), by the signatures
            // alone.
            let retry = when_all_valid(infos)
                .and_then(|t| attempt(t).ok())
                .or_else(|| super::signed::signed_path(set, chain, algs));
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
            Some(describe(&e, set, infos)),
        ),
    }
}
