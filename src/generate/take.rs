//! Which endpoints may be pinned, and what is taken from those that may.
//!
//! A probe is pinned only when its handshake completed, its chain reaches a public (or
//! `--cacert`) anchor without strong signs of interception, and a client would accept the path
//! today; each refusal says why and what to do instead.

use crate::chain::trust::{AnchorInfo, PathReport, PathState, TimeProblem};
use crate::endpoint::Endpoint;
use crate::evidence::Strength;
use crate::probe::{ProbeResult, Trust};
use crate::verdict::Verdict;

use super::document::{Pinned, Taken};

/// Longest HTTP body written as `expect_body`; longer answers are not a health check's.
pub const MAX_EXPECT_BODY: usize = 64;

/// Why an endpoint was not pinned.
#[derive(Clone, Debug)]
pub struct Refusal {
    /// the endpoint
    pub url: String,
    /// its verdict
    pub verdict: Verdict,
    /// the curl code of the verdict
    pub curl_code: u8,
    /// the probe's one-line evidence
    pub detail: String,
    /// why pinning it is refused, and what to do
    pub why: Vec<String>,
}

/// The pins of an endpoint's verified path, or why it must not be pinned.
pub fn take(
    endpoint: &Endpoint,
    r: &ProbeResult,
    allow_untrusted: bool,
    taken_on: &str,
) -> Result<Pinned, Refusal> {
    let refuse = |why: Vec<String>| Refusal {
        url: r.url.clone(),
        verdict: r.verdict,
        curl_code: r.curl_code,
        detail: r.detail.clone(),
        why,
    };
    let trust = completed(r).map_err(refuse)?;
    let (path, os_only) = verified_path(r, trust, allow_untrusted).map_err(refuse)?;
    accepted_today(endpoint, trust, path).map_err(refuse)?;
    let answer = r.http.as_ref().and_then(|h| h.answer.as_ref());
    Ok(Pinned {
        url: endpoint.url.clone(),
        host: endpoint.host.clone(),
        port: endpoint.port,
        pins: pins(r, os_only, taken_on),
        issuer_orgs: issuer_orgs(r),
        expect_status: answer.map(|a| a.status),
        expect_body: answer.and_then(|a| expect_body(&a.body, a.truncated)),
    })
}

/// The verdicts that end a probe before the handshake completed, or in a bug.
fn without_chain(verdict: Verdict) -> bool {
    matches!(
        verdict,
        Verdict::DnsFailed
            | Verdict::ConnectFailed
            | Verdict::Timeout
            | Verdict::HandshakeFailed
            | Verdict::ProxyAuthRequired
            | Verdict::ProxyRefused
            | Verdict::InternalError
    )
}

/// The probe's trust report, once the handshake completed.
fn completed(r: &ProbeResult) -> Result<&Trust, Vec<String>> {
    // a chain counts only once the server proved it holds the leaf's key (the handshake
    // completed); an HTTP problem after that does not change the chain
    match (&r.trust, &r.tls) {
        (Some(trust), Some(_)) => Ok(trust),
        _ => {
            let what = if without_chain(r.verdict) || r.chain.is_empty() {
                "no chain to pin: the probe did not complete a TLS handshake"
            } else {
                "the TLS handshake did not complete, so the server never proved it holds the leaf's key"
            };
            Err(vec![what.into()])
        }
    }
}

/// The path the pins are taken from, and whether only the OS store anchors it: the path to the
/// pin set's own anchors when it carries some and the chain reaches one, else the public path,
/// unless the chain reaches no public anchor and `--allow-untrusted` was given.
fn verified_path<'t>(
    r: &ProbeResult,
    trust: &'t Trust,
    allow_untrusted: bool,
) -> Result<(&'t PathReport, bool), Vec<String>> {
    // the path to the pin set's own anchors is the one its client verifies
    if let Some(agent) = trust
        .agent
        .as_ref()
        .filter(|a| a.state != PathState::NotReached)
    {
        return Ok((agent, false));
    }
    if trust.public.state != PathState::NotReached {
        if r.interception.is_strong() && !allow_untrusted {
            let signals: Vec<String> = r
                .interception
                .evidence
                .iter()
                .filter(|s| s.strength == Strength::Strong)
                .map(|s| format!("{}: {}", s.signal, s.detail))
                .collect();
            return Err(vec![
                format!(
                    "the chain reaches the public anchor {}, but shows strong signs of interception: {}",
                    anchor_text(trust.public.anchor.as_ref()),
                    signals.join("; ")
                ),
                classic_mistake(),
            ]);
        }
        Ok((&trust.public, false))
    } else if !allow_untrusted {
        let os = match (&trust.os.anchor, trust.os.state) {
            (Some(anchor), state) if state != PathState::NotReached => format!(
                "only the OS store trusts it: its path ends at the anchor {}",
                anchor_text(Some(anchor))
            ),
            _ => "the OS store does not trust it either".to_string(),
        };
        Err(vec![
            format!("the chain reaches no public anchor (Mozilla's roots or --cacert); {os}"),
            classic_mistake(),
        ])
    } else if trust.os.state != PathState::NotReached {
        Ok((&trust.os, true))
    } else {
        Err(vec![
            "the chain reaches no anchor in either store, so no path is verified and a pin taken from it would never match: give its CA with --cacert".into(),
        ])
    }
}

/// Refuses a path that a client rejects whatever its pins: out of its validity period, or a
/// leaf that does not cover the host.
fn accepted_today(
    endpoint: &Endpoint,
    trust: &Trust,
    path: &PathReport,
) -> Result<(), Vec<String>> {
    if let PathState::TimeInvalid(problem) = path.state {
        let what = match problem {
            TimeProblem::Expired => "expired",
            TimeProblem::NotYetValid => "not valid yet",
        };
        return Err(vec![format!(
            "a certificate on the {} path is {what} ({}): a client rejects this chain whatever its pins; renew the certificate first",
            path.store,
            path.error.as_deref().unwrap_or("out of its validity period")
        )]);
    }
    if let Some(name) = trust.hostname.as_ref().filter(|h| !h.ok) {
        return Err(vec![format!(
            "the leaf does not cover {} ({}): a client rejects this chain whatever its pins; fix the certificate or the --resolve mapping first",
            endpoint.host,
            name.detail.as_deref().unwrap_or("name mismatch")
        )]);
    }
    Ok(())
}

/// The pins of the path, labelled by `pins::needed`, with where they were taken.
fn pins(r: &ProbeResult, os_only: bool, taken_on: &str) -> Vec<Taken> {
    let source = if os_only {
        format!(
            "pinprobe pin --allow-untrusted, live chain of {} (anchored in the OS store only)",
            r.url
        )
    } else {
        format!("pinprobe pin, live chain of {}", r.url)
    };
    // the keys of the path the probe compared its pins with: the same path as chosen above
    crate::pins::needed(&r.pins.keys, taken_on, &source)
        .into_iter()
        .map(|e| Taken {
            pin: e.pin,
            label: e.label.unwrap_or_default(),
            source: e.source.unwrap_or_default(),
        })
        .collect()
}

/// The issuer organisations of the chain as served (what the unexpected-issuer signal reads),
/// or none when a certificate names none: that signal would then fire on the genuine chain.
fn issuer_orgs(r: &ProbeResult) -> Option<Vec<String>> {
    r.chain.iter().filter(|c| c.parse_error.is_none()).try_fold(
        Vec::<String>::new(),
        |mut all, c| {
            let o = c.issuer_o.as_ref()?;
            if !all.iter().any(|a| a.eq_ignore_ascii_case(o)) {
                all.push(o.clone());
            }
            Some(all)
        },
    )
}

/// The answer's body as `expect_body`, when it is short, whole and printable.
fn expect_body(body: &str, truncated: bool) -> Option<String> {
    let body = body.trim();
    let usable = !truncated
        && !body.is_empty()
        && body.len() <= MAX_EXPECT_BODY
        && !body.chars().any(char::is_control);
    usable.then(|| body.to_string())
}

fn classic_mistake() -> String {
    "pinning an inspecting proxy's CA is the classic mistake: the pins would accept the interception. Run where the traffic is not inspected, pass your private CA with --cacert, or give --allow-untrusted if this chain is your own".into()
}

fn anchor_text(anchor: Option<&AnchorInfo>) -> String {
    match anchor {
        Some(a) => format!("\"{}\" ({}, {})", a.subject, a.spki_sha256, a.origin),
        None => "(unknown)".into(),
    }
}
