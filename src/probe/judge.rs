//! Judging a chain: the analysis (from the run's cache), both paths, the name and time checks,
//! the pins, the evidence and the warnings, turned into findings for `verdict::classify`.

use std::time::Instant;

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

use super::context::Context;
use super::result::{ms, PinMatch, ProbeResult, Trust, Warning, PINNED_EXPIRED};
use crate::chain::cert::CertInfo;
use crate::chain::trust::{
    check_name, check_validity, seen_keys, PathKey, PathReport, PathState, TimeProblem,
};
use crate::drift;
use crate::evidence;
use crate::pins::{self, Pin, PinReport, PinSet};
use crate::verdict::{classify, Anchored, Findings, HttpFailure, NetFailure, Stop};

/// `server_name`, when given, is checked against the leaf; `pinset` names the pin set.
pub fn analyse_chain(
    ctx: &Context,
    label: &str,
    server_name: Option<&ServerName<'static>>,
    pinset: Option<String>,
    chain: &[CertificateDer<'static>],
) -> ProbeResult {
    let start = Instant::now();
    let mut r = ProbeResult::blank(label, pinset);
    r.route.via = "file".into();
    let findings = judge(ctx, server_name, chain, None, None, &mut r);
    r.set(classify(&findings));
    r.timings_ms.total = ms(start);
    r
}

/// Analyses the chain (if one was seen), fills trust, pins and evidence on the result, and
/// gathers the findings `verdict::classify` decides from. One pass, in the order each step
/// needs the one before (paths, then pins on the trusted path, then evidence that reads the
/// pin check), which is why it stays in one function.
pub(super) fn judge(
    ctx: &Context,
    server_name: Option<&ServerName<'static>>,
    chain: &[CertificateDer<'static>],
    net_failure: Option<NetFailure>,
    http: Option<HttpFailure>,
    r: &mut ProbeResult,
) -> Findings {
    let pinset = r.pins.set.as_ref().and_then(|name| ctx.pinsets.get(name));
    let proxy_said = r.proxy.as_ref().and_then(evidence::proxy_identity);
    if chain.is_empty() {
        r.interception.evidence.extend(proxy_said);
        return Findings::stopped(net_failure.unwrap_or(NetFailure::new(
            Stop::NoCertificate,
            "the server presented no certificate",
        )));
    }

    let now = UnixTime::now();
    let analysis = ctx.analyse(chain, now);
    r.chain = analysis.infos.clone();
    let public = analysis.public.clone();
    let os = analysis.os.clone();
    let hostname = server_name.map(|name| check_name(&chain[0], &r.chain[0], name));
    let validity = check_validity(&r.chain, now);

    // the path against the set's own anchors (the agent's CA bundle), when it carries some
    let agent = r
        .pins
        .set
        .as_ref()
        .and_then(|name| ctx.agent_path(&analysis, chain, name, now));
    let trusted_path = trusted_path(agent.as_ref(), &public, &os);
    let mut paths = vec![&public, &os];
    paths.extend(agent.as_ref());
    let seen = seen_keys(&r.chain, &paths);
    let keys = trusted_path.map(|p| p.keys(&r.chain)).unwrap_or_default();
    let report = pinset.map(|set| pins::check(set, &keys, &seen));
    let pinned_expired: Vec<String> = pinset
        .and_then(|set| ctx.agents.get(&set.name))
        .map(|anchors| {
            anchors
                .expired(now.as_secs() as i64)
                .map(|a| a.expiry_note())
                .collect()
        })
        .unwrap_or_default();
    record_pins(
        pinset,
        report.as_ref(),
        trusted_path,
        keys,
        now,
        pinned_expired,
        r,
    );
    let os_pinned =
        r.pins.matched == Some(true) && public.state == PathState::NotReached && os.verified;

    r.interception = evidence::collect(&evidence::Inputs {
        chain: &r.chain,
        public: &public,
        os: &os,
        public_has_key: &|pin: &Pin| ctx.public.has_key(pin),
        public_has_subject: &|subject: &str| ctx.public.has_subject(subject),
        pinset,
        denied: report.as_ref().and_then(|rep| rep.denied.first()),
        interceptors: &ctx.interceptors,
        now: now.as_secs() as i64,
    });
    r.interception.evidence.extend(proxy_said);
    warnings(ctx, trusted_path, &r.chain, now, &mut r.warnings);

    let findings = Findings {
        failure: net_failure,
        public: anchored(&public),
        agent: agent.as_ref().map(anchored),
        public_detail: untrusted_text(&r.chain, &public, &os, agent.as_ref()),
        os_pinned,
        name_ok: hostname.as_ref().is_none_or(|h| h.ok),
        name_detail: hostname
            .as_ref()
            .and_then(|h| h.detail.clone())
            .unwrap_or_default(),
        time_detail: trusted_path
            .and_then(|p| p.error.clone())
            .or_else(|| public.error.clone())
            .or_else(|| os.error.clone())
            .unwrap_or_default(),
        pins_matched: r.pins.matched,
        pins_detail: pins_detail(pinset, trusted_path, [&public, &os], r),
        denied: report
            .as_ref()
            .and_then(|rep| rep.denied.first())
            .map(ToString::to_string),
        evidence: r.interception.evidence.clone(),
        vendor: r.interception.vendor.clone(),
        http,
    };
    r.trust = Some(Trust {
        public,
        os,
        agent,
        hostname,
        validity: Some(validity),
    });
    findings
}

/// Records the pin check on the result: the path compared with, the pins found on it and
/// those of every certificate on it, and the drift report (a `pin-drift` warning when the set
/// still matches on another pin).
fn record_pins(
    pinset: Option<&PinSet>,
    report: Option<&PinReport>,
    path: Option<&PathReport>,
    keys: Vec<PathKey>,
    now: UnixTime,
    pinned_expired: Vec<String>,
    r: &mut ProbeResult,
) {
    r.pins.matched = report.map(PinReport::is_match);
    let Some(path) = path else {
        return;
    };
    r.pins.keys = keys;
    r.pins.path = Some(path.store);
    for key in &r.pins.keys {
        let label = report
            .iter()
            .flat_map(|rep| &rep.matched)
            .find(|m| m.key.pin == key.pin)
            .map(|m| m.label.clone());
        let entry = PinMatch {
            pin: key.pin,
            label: label.clone().flatten(),
            certificate: key.label(),
        };
        if label.is_some() {
            r.pins.matches.push(entry.clone());
        }
        r.pins.path_pins.push(entry);
    }
    if let (Some(set), Some(report)) = (pinset, report) {
        r.drift = drift::compare(
            set,
            report,
            &r.pins.keys,
            &pins::taken_on(now.as_secs() as i64),
            pinned_expired,
        );
        if let Some(d) = r.drift.as_ref().filter(|d| d.matched) {
            if !d.stale.is_empty() {
                r.warnings.push(Warning {
                    warning: "pin-drift",
                    detail: d.summary.clone(),
                });
            }
            for note in &d.pinned_expired {
                r.warnings.push(Warning {
                    warning: PINNED_EXPIRED,
                    detail: note.clone(),
                });
            }
        }
    }
}

/// The evidence line of a pin mismatch: the set, and the pins the verified path holds instead.
fn pins_detail(
    pinset: Option<&PinSet>,
    path: Option<&PathReport>,
    others: [&PathReport; 2],
    r: &ProbeResult,
) -> String {
    let Some(set) = pinset else {
        return String::new();
    };
    let Some(path) = path else {
        if set.anchors.is_empty() {
            return String::new();
        }
        // a set with anchors of its own: its client trusts them and nothing else
        let instead = others
            .iter()
            .find_map(|p| p.anchor.as_ref().map(|a| (p.store, a)))
            .map_or_else(
                || "it reaches no anchor in any store".to_string(),
                |(store, anchor)| {
                    format!("it reaches {} in the {store} store instead", anchor.subject)
                },
            );
        return format!(
            "the chain reaches none of the {} anchors set {} carries, which its client trusts in place of the system store: {instead}",
            set.anchors.len(),
            set.name
        );
    };
    let held: Vec<String> = r
        .pins
        .path_pins
        .iter()
        .map(|m| format!("{} {}", m.certificate, m.pin))
        .collect();
    format!(
        "none of the {} pins of set {} is on the verified path ({}: {})",
        set.pins.len(),
        set.name,
        path.store,
        held.join(", ")
    )
}

fn anchored(p: &PathReport) -> Anchored {
    match p.state {
        PathState::Verified => Anchored::Verified,
        PathState::TimeInvalid(TimeProblem::Expired) => Anchored::Expired,
        PathState::TimeInvalid(TimeProblem::NotYetValid) => Anchored::NotYetValid,
        PathState::NotReached => Anchored::No,
    }
}

/// The path the pins are compared with. For a set that carries its own anchors, the path to
/// them and nothing else: its client trusts no other store, so a chain that reaches none of
/// them matches no pin, whatever the public or OS path holds. Otherwise the public path when
/// there is one, else the OS path (a private PKI the user pinned and installed); never
/// certificates off a path.
fn trusted_path<'p>(
    agent: Option<&'p PathReport>,
    public: &'p PathReport,
    os: &'p PathReport,
) -> Option<&'p PathReport> {
    let reached = |p: &&PathReport| p.state != PathState::NotReached;
    match agent {
        Some(agent) => Some(agent).filter(reached),
        None => [public, os].into_iter().find(reached),
    }
}

fn untrusted_text(
    chain: &[CertInfo],
    public: &PathReport,
    os: &PathReport,
    agent: Option<&PathReport>,
) -> String {
    let why = public.error.clone().unwrap_or_default();
    let what = match chain {
        [leaf] if leaf.self_issued => {
            format!("self-signed certificate \"{}\": ", leaf.short_name())
        }
        [leaf, ..] if !leaf.self_issued && !chain.iter().any(|c| c.subject == leaf.issuer) => {
            // the commonest misconfiguration: worth its own words
            format!(
                "the server did not send the intermediate that issued the leaf (\"{}\"), and no anchor set holds it: ",
                leaf.issuer
            )
        }
        [.., last] => format!(
            "chain ends at \"{}\" issued by \"{}\": ",
            last.short_name(),
            last.issuer
        ),
        [] => String::new(),
    };
    let os_text = if os.verified {
        ""
    } else {
        "; the OS store does not trust it either"
    };
    let agent_text = match agent {
        Some(agent) if !agent.verified => "; nor do the pin set's own anchors",
        _ => "",
    };
    format!("{what}{why}{os_text}{agent_text}")
}

fn warnings(
    ctx: &Context,
    path: Option<&PathReport>,
    chain: &[CertInfo],
    now: UnixTime,
    out: &mut Vec<Warning>,
) {
    let now = now.as_secs() as i64;
    let horizon = now + i64::from(ctx.settings.warn_days) * 86_400;
    let on_path = path
        .map(|p| {
            p.path
                .iter()
                .filter_map(|i| chain.get(*i))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let soon = |not_after: i64| not_after >= now && not_after < horizon;
    if let Some(anchor) = path.and_then(|p| p.anchor.as_ref()) {
        if let Some(not_after) = anchor.not_after_unix.filter(|t| soon(*t)) {
            out.push(Warning {
                warning: "expires-soon",
                detail: format!(
                    "anchor {} expires in {} days ({})",
                    anchor.subject,
                    (not_after - now) / 86_400,
                    anchor.not_after
                ),
            });
        }
    }
    for c in on_path {
        if soon(c.not_after_unix) {
            out.push(Warning {
                warning: "expires-soon",
                detail: format!(
                    "#{} {} expires in {} days ({})",
                    c.index,
                    c.short_name(),
                    (c.not_after_unix - now) / 86_400,
                    c.not_after
                ),
            });
        }
        if let Some(detail) = c.weak_key() {
            out.push(Warning {
                warning: "weak-key",
                detail,
            });
        }
        // a self-signed leaf's signature on itself is checked by nobody
        if c.index > 0 || !c.self_issued {
            if let Some(detail) = c.weak_signature() {
                out.push(Warning {
                    warning: "sha1-signature",
                    detail,
                });
            }
        }
    }
}
