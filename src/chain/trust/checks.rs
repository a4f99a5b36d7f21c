//! The checks reported beside the paths: the host name against the leaf, and the validity
//! dates of every presented certificate.

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde::Serialize;

use crate::chain::cert::CertInfo;
use webpki::EndEntityCert;

use super::path::TimeProblem;

/// What is wrong with a certificate's dates at `now` (seconds), if anything.
pub(super) fn time_problem(c: &CertInfo, now: i64) -> Option<(TimeProblem, String)> {
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

pub(super) fn time_message(problem: TimeProblem, infos: &[CertInfo], now: UnixTime) -> String {
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
    let checked =
        EndEntityCert::try_from(leaf).map(|ee| ee.verify_is_valid_for_subject_name(name).is_ok());
    let ok = checked == Ok(true);
    NameCheck {
        ok,
        detail: (!ok).then(|| match checked {
            Err(e) => format!(
                "the leaf cannot be checked against {} ({e:?}: TLS clients reject the certificate itself)",
                name.to_str()
            ),
            Ok(_) if leaf_info.sans.is_empty() => format!(
                "the leaf has no subject alternative name; {} is not covered",
                name.to_str()
            ),
            Ok(_) => format!(
                "the leaf is for {}, not {}",
                leaf_info.names(),
                name.to_str()
            ),
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
