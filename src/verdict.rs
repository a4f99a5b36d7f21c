//! The verdict: one stable code per probe, the curl exit code a user of the Defender guide
//! would have seen, and the one-line evidence behind it.
//!
//! `classify` is a pure function of what the probe found, so the order of the rules below is
//! the whole policy and is tested as a table.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::evidence::{Certainty, Signal, Strength};

/// The outcome of one probe. The codes are a promise to users: add, never rename.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// path verified against a public anchor, pin set matched, HTTP answer as expected
    Ok,
    /// not anchored where the pins say, with evidence of a re-signing middlebox
    SslInterception,
    /// no public anchor, no pin match, no interception evidence
    UntrustedChain,
    /// publicly trusted, but no pin of the set is on the verified path
    PinMismatch,
    /// the certificate does not cover the host name
    NameMismatch,
    /// a certificate on the path has expired
    Expired,
    /// a certificate on the path is not valid yet
    NotYetValid,
    /// alert, reset or EOF during the handshake
    HandshakeFailed,
    /// the name did not resolve
    DnsFailed,
    /// TCP refused or unreachable
    ConnectFailed,
    /// a phase ran past its deadline
    Timeout,
    /// the proxy answered 407
    ProxyAuthRequired,
    /// the proxy answered CONNECT with another non-2xx status
    ProxyRefused,
    /// TLS and pins fine, the HTTP answer was not the expected one
    HttpUnexpected,
    /// the PAC file failed for this endpoint (threw, looped, answered garbage)
    PacFailed,
    /// pinprobe itself failed on this endpoint (a bug; please report it)
    InternalError,
}

impl Verdict {
    /// Every verdict, in table order.
    pub const ALL: [Verdict; 16] = [
        Verdict::Ok,
        Verdict::SslInterception,
        Verdict::UntrustedChain,
        Verdict::PinMismatch,
        Verdict::NameMismatch,
        Verdict::Expired,
        Verdict::NotYetValid,
        Verdict::HandshakeFailed,
        Verdict::DnsFailed,
        Verdict::ConnectFailed,
        Verdict::Timeout,
        Verdict::ProxyAuthRequired,
        Verdict::ProxyRefused,
        Verdict::HttpUnexpected,
        Verdict::PacFailed,
        Verdict::InternalError,
    ];

    /// The stable code, e.g. `ssl-interception`.
    pub fn code(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::SslInterception => "ssl-interception",
            Verdict::UntrustedChain => "untrusted-chain",
            Verdict::PinMismatch => "pin-mismatch",
            Verdict::NameMismatch => "name-mismatch",
            Verdict::Expired => "expired",
            Verdict::NotYetValid => "not-yet-valid",
            Verdict::HandshakeFailed => "handshake-failed",
            Verdict::DnsFailed => "dns-failed",
            Verdict::ConnectFailed => "connect-failed",
            Verdict::Timeout => "timeout",
            Verdict::ProxyAuthRequired => "proxy-auth-required",
            Verdict::ProxyRefused => "proxy-refused",
            Verdict::HttpUnexpected => "http-unexpected",
            Verdict::PacFailed => "pac-failed",
            Verdict::InternalError => "internal-error",
        }
    }

    /// The curl exit code a user of the guide would have seen (HTTP answers that were not
    /// expected may override it: see `Classified::curl_code`).
    pub fn curl_code(self) -> u8 {
        match self {
            Verdict::Ok => 0,
            Verdict::SslInterception
            | Verdict::UntrustedChain
            | Verdict::NameMismatch
            | Verdict::Expired
            | Verdict::NotYetValid => 60,
            Verdict::PinMismatch => 90,
            Verdict::HandshakeFailed => 35,
            Verdict::DnsFailed => 6,
            Verdict::ConnectFailed => 7,
            Verdict::Timeout => 28,
            Verdict::ProxyAuthRequired | Verdict::ProxyRefused => 56,
            Verdict::HttpUnexpected => 22,
            Verdict::PacFailed => 5,
            Verdict::InternalError => 2,
        }
    }

    /// The verdict of a code, e.g. `ssl-interception`.
    pub fn from_code(code: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.code() == code)
    }

    /// What to do about it, in words that hold for any service. A profile may give its own
    /// advice per verdict (the bundled Defender profile gives the guide's): see [`Advice`].
    pub fn advice(self) -> &'static str {
        match self {
            Verdict::Ok => "nothing to do",
            Verdict::SslInterception => "a device on the path re-signs TLS traffic (SSL/HTTPS inspection). Exclude these URLs from SSL inspection on the proxy or firewall; a client that pins its certificates rejects the re-signed chain whatever the system store trusts",
            Verdict::UntrustedChain => "the chain reaches no public root and shows no sign of a known interceptor: a private CA, a self-signed certificate, or an inspection device whose root is not installed. Check what answers on that address (see -v or `pinprobe inspect`)",
            Verdict::PinMismatch => "the chain is trusted (a public root or --cacert) but none of the pinned keys is on its path: the service rotated its key or changed CA (pin drift), or the pins are out of date. Compare the chain's pins (-v) with the pin set",
            Verdict::NameMismatch => "the certificate is not for this host name: a wrong --resolve entry, DNS pointing elsewhere, or a device answering in the service's place",
            Verdict::Expired => "a certificate on the path has expired; check the clock of this machine, then the server or device that sent it",
            Verdict::NotYetValid => "a certificate on the path is not valid yet; check the clock of this machine, then the server or device that sent it",
            Verdict::HandshakeFailed => "the TLS handshake broke (alert, reset or close): a firewall or an inspecting device that blocks the connection, or a server with no TLS version or cipher in common; check the firewall and proxy logs for these URLs",
            Verdict::DnsFailed => "the name did not resolve: check DNS on this machine, or whether the network requires a proxy",
            Verdict::ConnectFailed => "the TCP connection was refused or could not be routed: a firewall blocks the port to these endpoints, or the network requires a proxy",
            Verdict::Timeout => "no answer in time: a firewall that drops packets, or a proxy that is required and not configured",
            Verdict::ProxyAuthRequired => "the proxy asks for credentials; give them in the proxy URL (http://user:password@host:port), or allow these URLs on the proxy without authentication",
            Verdict::ProxyRefused => "the proxy refused to open a tunnel to the endpoint; allow these URLs on the proxy",
            Verdict::HttpUnexpected => "TLS and pins are fine but the service did not give the expected answer: a device that answers in its place, or a service-side problem",
            Verdict::PacFailed => "the PAC file gave no usable answer for this endpoint (see the JavaScript error): clients that use it cannot find their proxy; fix the PAC file",
            Verdict::InternalError => "pinprobe failed on this endpoint; please report it with the output of -v",
        }
    }
}

/// What to do about each verdict: a profile's own words where it gives them (`[advice]`, keyed
/// by verdict code), else [`Verdict::advice`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Advice(BTreeMap<Verdict, String>);

impl Advice {
    /// Advice with the given texts, the generic advice for the other verdicts.
    pub fn new(texts: BTreeMap<Verdict, String>) -> Advice {
        Advice(texts)
    }

    /// The advice for `verdict`.
    pub fn text(&self, verdict: Verdict) -> &str {
        self.0
            .get(&verdict)
            .map_or(verdict.advice(), String::as_str)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A phase of the probe that can run past its deadline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// name resolution
    Dns,
    /// TCP connect
    Connect,
    /// the CONNECT exchange with the proxy
    Proxy,
    /// the TLS handshake
    TlsHandshake,
    /// the HTTP request and answer
    Http,
}

/// What ended a probe before its chain could be judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// the PAC file threw, looped or answered garbage for this endpoint
    Pac,
    /// the name (of the endpoint or of the proxy) did not resolve
    Dns,
    /// TCP refused or unreachable, or no entry of a PAC answer could be used
    Connect,
    /// a phase ran past its deadline
    Timeout(Phase),
    /// the proxy answered CONNECT with this status instead of opening a tunnel
    ProxyStatus(u16),
    /// the proxy's answer to CONNECT was not HTTP, or it closed the connection
    ProxyBroken,
    /// alert, reset, EOF or nothing in common during the TLS handshake
    Handshake,
    /// the handshake ended without a certificate
    NoCertificate,
    /// the leaf's key is one TLS clients refuse (RSA under 2048 bits), so the server's
    /// handshake signature could not be checked: the chain is refused, as curl's "key too weak"
    WeakLeafKey,
    /// the probe itself failed (a bug): the other endpoints still run
    Internal,
    /// this machine could not give the probe what it needed (no open file left for a
    /// socket): a local failure, never a network outcome
    Local,
}

/// A network outcome that ended the probe, with what happened, for humans.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetFailure {
    /// what ended it
    pub stop: Stop,
    /// what happened, for humans
    pub detail: String,
}

impl NetFailure {
    /// A failure with its detail.
    pub fn new(stop: Stop, detail: impl Into<String>) -> NetFailure {
        NetFailure {
            stop,
            detail: detail.into(),
        }
    }
}

/// What was wrong with the HTTP answer of an endpoint whose chain was fine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpProblem {
    /// no complete answer before the deadline
    Timeout,
    /// the server closed without answering
    NoAnswer,
    /// an answer that is not HTTP, or a head too large
    Malformed,
    /// the request could not be sent
    Send,
    /// the answer could not be read
    Read,
    /// an answer, but not the expected status or body
    Unexpected,
}

/// An HTTP problem with what was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpFailure {
    /// what was wrong
    pub problem: HttpProblem,
    /// what was seen, for humans
    pub detail: String,
}

/// Where the chain's trust stands on one anchor set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchored {
    /// a path to an anchor verified
    Verified,
    /// a path to an anchor exists but a certificate on it has expired
    Expired,
    /// a path to an anchor exists but a certificate on it is not valid yet
    NotYetValid,
    /// no anchor was reached
    No,
}

/// What `classify` decides from. Each field is a fact the probe established; the details are
/// the evidence lines the verdict carries.
#[derive(Clone, Debug)]
pub struct Findings {
    /// set when the network (or the PAC file, or pinprobe itself) ended the probe before the
    /// chain could be judged
    pub failure: Option<NetFailure>,
    /// the path against the public anchors
    pub public: Anchored,
    /// the path against the pin set's own anchors (the agent's CA bundle); `None` when the set
    /// carries none
    pub agent: Option<Anchored>,
    /// why the public path was not reached, for the evidence line
    pub public_detail: String,
    /// the OS path verified and the pin set matched on it (a private PKI the user pinned)
    pub os_pinned: bool,
    /// the leaf covers the host name
    pub name_ok: bool,
    /// why it does not
    pub name_detail: String,
    /// the time problem, for the evidence line
    pub time_detail: String,
    /// `None` without a pin set; `Some(true)` when a pin is on the trusted path
    pub pins_matched: Option<bool>,
    /// what the pin check found, for the evidence line
    pub pins_detail: String,
    /// a key of the pin set's deny list is on the chain (from `pins::check`): fails it
    /// whatever else matches
    pub denied: Option<String>,
    /// the interception evidence, strongest first
    pub evidence: Vec<Signal>,
    /// the product named by the evidence
    pub vendor: Option<String>,
    /// what went wrong with the HTTP check; it decides only when the chain is fine
    pub http: Option<HttpFailure>,
}

impl Findings {
    /// The findings of a probe that ended before a chain could be judged.
    pub fn stopped(failure: NetFailure) -> Findings {
        Findings {
            failure: Some(failure),
            public: Anchored::No,
            agent: None,
            public_detail: String::new(),
            os_pinned: false,
            name_ok: false,
            name_detail: String::new(),
            time_detail: String::new(),
            pins_matched: None,
            pins_detail: String::new(),
            denied: None,
            evidence: Vec::new(),
            vendor: None,
            http: None,
        }
    }
}

/// A verdict with its evidence line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    /// the verdict
    pub verdict: Verdict,
    /// the curl code (the verdict's, or the HTTP case's own)
    pub curl_code: u8,
    /// one line of evidence
    pub detail: String,
    /// how sure an `ssl-interception` verdict is
    pub confidence: Option<Certainty>,
}

impl Classified {
    /// A verdict with its own curl code.
    fn new(verdict: Verdict, detail: String) -> Classified {
        Classified {
            verdict,
            curl_code: verdict.curl_code(),
            detail,
            confidence: None,
        }
    }
}

/// Decides the verdict. The rules, in order (the first that applies decides):
///
/// 1. **The probe stopped** before a chain could be judged: PAC failed, DNS, connect, a
///    timeout, a proxy that answered CONNECT with 407 (`proxy-auth-required`) or another
///    status (`proxy-refused`), a broken handshake, no certificate, a leaf whose key is too
///    weak to check the handshake with (`untrusted-chain`, curl 60), or pinprobe's own failure
///    (`internal-error`, also when this machine ran out of open files: never a network
///    verdict).
/// 2. **A deny pin** is on the chain: `ssl-interception`, whatever else matches.
/// 3. **Not trusted** (no path to the pin set's own anchors, when it carries some, no public
///    path, and no OS path the pins matched): `ssl-interception`
///    with strong evidence (confidence high); else, when two or more signals of different
///    kinds that each point at a re-signing device (`SignalKind::marks_resigning`: an issuer
///    organisation the pin set does not expect, a leaf made for the connection, a leaf with its
///    CA's key, a known interceptor's name, genuine certificates appended off the path) are
///    medium, `ssl-interception` with confidence medium; else `untrusted-chain`. Evidence is
///    combined only on chains anchored nowhere: a chain a public root or `--cacert` vouches for
///    is judged by its pins (a chain re-issued by another public CA is pin drift, not
///    interception).
/// 4. **Trusted, but no pin on the path, with strong evidence**: `ssl-interception`.
/// 5. **The clock**: a certificate on the path the verdict rests on (the one to the pin set's
///    own anchors when it reached one, else the public path) `expired` or is `not-yet-valid`.
/// 6. **The name**: the leaf does not cover the host (`name-mismatch`).
/// 7. **The pins**: a pin set and none of it on the path (`pin-mismatch`, pin drift).
/// 8. **The HTTP answer**: a timeout (`timeout`, 28) or an answer that was missing, malformed
///    or not the expected one (`http-unexpected`, with curl's 52, 8, 55, 56 or 22).
/// 9. Otherwise `ok`.
pub fn classify(f: &Findings) -> Classified {
    if let Some(failure) = &f.failure {
        return Classified::new(stopped(failure.stop), failure.detail.clone());
    }
    let intercepted = |detail: &str, confidence: Certainty| {
        let detail = match &f.vendor {
            Some(vendor) => format!("{vendor}: {detail}"),
            None => detail.to_string(),
        };
        Classified {
            confidence: Some(confidence),
            ..Classified::new(Verdict::SslInterception, detail)
        }
    };
    if let Some(denied) = &f.denied {
        return intercepted(denied, Certainty::High);
    }
    let strong = f
        .evidence
        .iter()
        .find(|s| s.strength == Strength::Strong)
        .map(|s| s.detail.as_str());
    // the path the verdict rests on: the agent's when its own anchors were reached (how the
    // client that ships them verifies), else the public one
    let decisive = f.agent.filter(|a| *a != Anchored::No).unwrap_or(f.public);
    let trusted = decisive != Anchored::No || f.os_pinned;
    if !trusted {
        if let Some(evidence) = strong {
            return intercepted(evidence, Certainty::High);
        }
        return match combined(&f.evidence) {
            Some(evidence) => intercepted(&evidence, Certainty::Medium),
            None => Classified::new(Verdict::UntrustedChain, f.public_detail.clone()),
        };
    }
    if f.pins_matched == Some(false) {
        if let Some(evidence) = strong {
            return intercepted(evidence, Certainty::High);
        }
    }
    match decisive {
        Anchored::Expired => return Classified::new(Verdict::Expired, f.time_detail.clone()),
        Anchored::NotYetValid => {
            return Classified::new(Verdict::NotYetValid, f.time_detail.clone())
        }
        Anchored::Verified | Anchored::No => {}
    }
    if !f.name_ok {
        return Classified::new(Verdict::NameMismatch, f.name_detail.clone());
    }
    if f.pins_matched == Some(false) {
        return Classified::new(Verdict::PinMismatch, f.pins_detail.clone());
    }
    if let Some(http) = &f.http {
        let (verdict, curl_code) = match http.problem {
            HttpProblem::Timeout => (Verdict::Timeout, 28),
            HttpProblem::NoAnswer => (Verdict::HttpUnexpected, 52),
            HttpProblem::Malformed => (Verdict::HttpUnexpected, 8),
            HttpProblem::Send => (Verdict::HttpUnexpected, 55),
            HttpProblem::Read => (Verdict::HttpUnexpected, 56),
            HttpProblem::Unexpected => (Verdict::HttpUnexpected, 22),
        };
        return Classified {
            verdict,
            curl_code,
            detail: http.detail.clone(),
            confidence: None,
        };
    }
    Classified::new(Verdict::Ok, String::new())
}

/// The evidence line of rule 3's combination: the medium signals of at least two kinds that
/// each point at a re-signing device, or None when there are fewer.
fn combined(evidence: &[Signal]) -> Option<String> {
    let mut kinds = Vec::new();
    let mut details = Vec::new();
    for s in evidence
        .iter()
        .filter(|s| s.strength == Strength::Medium && s.signal.marks_resigning())
    {
        if !kinds.contains(&s.signal) {
            kinds.push(s.signal);
            details.push(s.detail.as_str());
        }
    }
    (kinds.len() >= 2).then(|| details.join("; "))
}

/// The verdict of a probe that stopped (rule 1).
fn stopped(stop: Stop) -> Verdict {
    match stop {
        Stop::Pac => Verdict::PacFailed,
        Stop::Dns => Verdict::DnsFailed,
        Stop::Connect => Verdict::ConnectFailed,
        Stop::Timeout(_) => Verdict::Timeout,
        Stop::ProxyStatus(407) => Verdict::ProxyAuthRequired,
        Stop::ProxyStatus(_) | Stop::ProxyBroken => Verdict::ProxyRefused,
        Stop::Handshake | Stop::NoCertificate => Verdict::HandshakeFailed,
        Stop::WeakLeafKey => Verdict::UntrustedChain,
        Stop::Internal | Stop::Local => Verdict::InternalError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::SignalKind;

    fn clean() -> Findings {
        Findings {
            failure: None,
            public: Anchored::Verified,
            agent: None,
            public_detail: "public detail".into(),
            os_pinned: false,
            name_ok: true,
            name_detail: "name detail".into(),
            time_detail: "time detail".into(),
            pins_matched: Some(true),
            pins_detail: "pins detail".into(),
            denied: None,
            evidence: Vec::new(),
            vendor: None,
            http: None,
        }
    }

    fn signal(strength: Strength, detail: &str) -> Signal {
        Signal {
            signal: SignalKind::OsStoreOnlyAnchor,
            detail: detail.into(),
            strength,
        }
    }

    fn http(problem: HttpProblem) -> Option<HttpFailure> {
        Some(HttpFailure {
            problem,
            detail: "http detail".into(),
        })
    }

    #[test]
    fn codes_are_stable() {
        let table: Vec<(&str, u8)> = Verdict::ALL
            .iter()
            .map(|v| (v.code(), v.curl_code()))
            .collect();
        assert_eq!(
            table,
            [
                ("ok", 0),
                ("ssl-interception", 60),
                ("untrusted-chain", 60),
                ("pin-mismatch", 90),
                ("name-mismatch", 60),
                ("expired", 60),
                ("not-yet-valid", 60),
                ("handshake-failed", 35),
                ("dns-failed", 6),
                ("connect-failed", 7),
                ("timeout", 28),
                ("proxy-auth-required", 56),
                ("proxy-refused", 56),
                ("http-unexpected", 22),
                ("pac-failed", 5),
                ("internal-error", 2),
            ]
        );
        for v in Verdict::ALL {
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::Value::String(v.code().into())
            );
        }
    }

    /// Rule 1: every way a probe stops, whatever else the findings hold.
    #[test]
    fn a_stopped_probe_is_judged_by_what_stopped_it() {
        let cases = [
            (Stop::Pac, Verdict::PacFailed, 5),
            (Stop::Dns, Verdict::DnsFailed, 6),
            (Stop::Connect, Verdict::ConnectFailed, 7),
            (Stop::Timeout(Phase::Dns), Verdict::Timeout, 28),
            (Stop::Timeout(Phase::TlsHandshake), Verdict::Timeout, 28),
            (Stop::ProxyStatus(407), Verdict::ProxyAuthRequired, 56),
            (Stop::ProxyStatus(403), Verdict::ProxyRefused, 56),
            (Stop::ProxyStatus(502), Verdict::ProxyRefused, 56),
            (Stop::ProxyBroken, Verdict::ProxyRefused, 56),
            (Stop::Handshake, Verdict::HandshakeFailed, 35),
            (Stop::NoCertificate, Verdict::HandshakeFailed, 35),
            (Stop::WeakLeafKey, Verdict::UntrustedChain, 60),
            (Stop::Internal, Verdict::InternalError, 2),
            (Stop::Local, Verdict::InternalError, 2),
        ];
        for (stop, verdict, curl) in cases {
            let mut f = clean();
            f.failure = Some(NetFailure::new(stop, "stopped"));
            f.denied = Some("deny".into());
            f.evidence.push(signal(Strength::Strong, "strong"));
            let c = classify(&f);
            assert_eq!(
                (c.verdict, c.curl_code, c.detail.as_str()),
                (verdict, curl, "stopped"),
                "{stop:?}"
            );
            assert_eq!(
                classify(&Findings::stopped(NetFailure::new(stop, "x"))).verdict,
                verdict
            );
        }
    }

    /// Rule 3's combination: on a chain anchored nowhere, medium signals of two kinds that
    /// each point at a re-signing device are interception with confidence medium; fewer, the
    /// same kind twice, kinds that do not count, or an anchored chain, are not.
    #[test]
    fn medium_signals_combine_only_on_a_chain_anchored_nowhere() {
        let medium = |kind: SignalKind, detail: &str| Signal {
            signal: kind,
            detail: detail.into(),
            strength: Strength::Medium,
        };
        let unanchored = |signals: Vec<Signal>| {
            let mut f = clean();
            f.public = Anchored::No;
            f.pins_matched = Some(false);
            f.evidence = signals;
            f
        };
        let issuer = medium(SignalKind::UnexpectedIssuer, "issuer O=Corp");
        let reuse = medium(SignalKind::CaKeyReuse, "leaf has its CA's key");
        let fresh = medium(SignalKind::FreshLeaf, "made 3 s ago");
        let weak = medium(SignalKind::WeakCrypto, "RSA-1024");

        let c = classify(&unanchored(vec![issuer.clone(), reuse.clone()]));
        assert_eq!(c.verdict, Verdict::SslInterception);
        assert_eq!(c.confidence, Some(Certainty::Medium));
        assert_eq!(c.detail, "issuer O=Corp; leaf has its CA's key");
        let c = classify(&unanchored(vec![
            fresh.clone(),
            reuse.clone(),
            weak.clone(),
        ]));
        assert_eq!(c.confidence, Some(Certainty::Medium));

        for (name, signals) in [
            ("one signal", vec![fresh.clone()]),
            ("the same kind twice", vec![fresh.clone(), fresh.clone()]),
            (
                "weak crypto does not count",
                vec![fresh.clone(), weak.clone()],
            ),
        ] {
            let c = classify(&unanchored(signals));
            assert_eq!(
                (c.verdict, c.confidence),
                (Verdict::UntrustedChain, None),
                "{name}"
            );
        }
        // anchored (public or --cacert), pins missed: pin drift, not interception
        let mut f = clean();
        f.pins_matched = Some(false);
        f.evidence = vec![issuer, reuse, fresh];
        let c = classify(&f);
        assert_eq!((c.verdict, c.confidence), (Verdict::PinMismatch, None));
        // strong evidence is confidence high
        f.evidence.push(signal(Strength::Strong, "strong"));
        assert_eq!(classify(&f).confidence, Some(Certainty::High));
        let mut f = clean();
        f.denied = Some("deny".into());
        assert_eq!(classify(&f).confidence, Some(Certainty::High));
    }

    /// Rule 8: each HTTP problem keeps curl's code for it.
    #[test]
    fn http_problems_keep_their_curl_code() {
        let cases = [
            (HttpProblem::Timeout, Verdict::Timeout, 28),
            (HttpProblem::NoAnswer, Verdict::HttpUnexpected, 52),
            (HttpProblem::Malformed, Verdict::HttpUnexpected, 8),
            (HttpProblem::Send, Verdict::HttpUnexpected, 55),
            (HttpProblem::Read, Verdict::HttpUnexpected, 56),
            (HttpProblem::Unexpected, Verdict::HttpUnexpected, 22),
        ];
        for (problem, verdict, curl) in cases {
            let mut f = clean();
            f.http = http(problem);
            let c = classify(&f);
            assert_eq!(
                (c.verdict, c.curl_code, c.detail.as_str()),
                (verdict, curl, "http detail"),
                "{problem:?}"
            );
            // a chain problem comes first
            f.public = Anchored::No;
            assert_eq!(classify(&f).verdict, Verdict::UntrustedChain, "{problem:?}");
        }
    }

    /// Rules 2 to 9, in order: each case is one rule firing, or one that must stay silent.
    #[test]
    fn classification_matrix() {
        type Case = (&'static str, fn(&mut Findings), Verdict, &'static str);
        let cases: &[Case] = &[
            ("clean", |_| {}, Verdict::Ok, ""),
            ("no pin set", |f| f.pins_matched = None, Verdict::Ok, ""),
            (
                "untrusted, no evidence",
                |f| {
                    f.public = Anchored::No;
                    f.pins_matched = Some(false);
                },
                Verdict::UntrustedChain,
                "public detail",
            ),
            (
                "untrusted, medium evidence only",
                |f| {
                    f.public = Anchored::No;
                    f.evidence.push(signal(Strength::Medium, "medium"));
                },
                Verdict::UntrustedChain,
                "public detail",
            ),
            (
                "untrusted with strong evidence",
                |f| {
                    f.public = Anchored::No;
                    f.pins_matched = Some(false);
                    f.evidence.push(signal(Strength::Medium, "medium"));
                    f.evidence
                        .push(signal(Strength::Strong, "anchored at Corp CA"));
                },
                Verdict::SslInterception,
                "anchored at Corp CA",
            ),
            (
                "vendor leads the detail",
                |f| {
                    f.public = Anchored::No;
                    f.pins_matched = None;
                    f.evidence.push(signal(Strength::Strong, "issuer CN"));
                    f.vendor = Some("Zscaler".into());
                },
                Verdict::SslInterception,
                "Zscaler: issuer CN",
            ),
            (
                "private PKI pinned in the OS store",
                |f| {
                    f.public = Anchored::No;
                    f.os_pinned = true;
                },
                Verdict::Ok,
                "",
            ),
            (
                "public chain, pins missed, strong evidence",
                |f| {
                    f.pins_matched = Some(false);
                    f.evidence.push(signal(Strength::Strong, "strong"));
                },
                Verdict::SslInterception,
                "strong",
            ),
            (
                "public chain, pins matched, strong evidence stays a signal",
                |f| f.evidence.push(signal(Strength::Strong, "strong")),
                Verdict::Ok,
                "",
            ),
            (
                "a deny pin wins over a matched pin",
                |f| f.denied = Some("deny hit".into()),
                Verdict::SslInterception,
                "deny hit",
            ),
            (
                "a deny pin wins over an expired chain",
                |f| {
                    f.public = Anchored::Expired;
                    f.denied = Some("deny hit".into());
                },
                Verdict::SslInterception,
                "deny hit",
            ),
            (
                "public chain, pins missed",
                |f| f.pins_matched = Some(false),
                Verdict::PinMismatch,
                "pins detail",
            ),
            (
                "expired before name and pins",
                |f| {
                    f.public = Anchored::Expired;
                    f.name_ok = false;
                    f.pins_matched = Some(false);
                },
                Verdict::Expired,
                "time detail",
            ),
            (
                "not yet valid",
                |f| f.public = Anchored::NotYetValid,
                Verdict::NotYetValid,
                "time detail",
            ),
            (
                "name before pins",
                |f| {
                    f.name_ok = false;
                    f.pins_matched = Some(false);
                },
                Verdict::NameMismatch,
                "name detail",
            ),
            (
                "http last",
                |f| f.http = http(HttpProblem::Unexpected),
                Verdict::HttpUnexpected,
                "http detail",
            ),
            (
                "pins before http",
                |f| {
                    f.pins_matched = Some(false);
                    f.http = http(HttpProblem::Unexpected);
                },
                Verdict::PinMismatch,
                "pins detail",
            ),
        ];
        for (name, change, verdict, detail) in cases {
            let mut f = clean();
            change(&mut f);
            let c = classify(&f);
            assert_eq!(
                (c.verdict, c.detail.as_str()),
                (*verdict, *detail),
                "{name}"
            );
        }
    }

    #[test]
    fn the_agents_own_anchors_decide_when_reached() {
        let with = |agent: Option<Anchored>, public: Anchored, pins: Option<bool>| Findings {
            agent,
            public,
            pins_matched: pins,
            ..clean()
        };
        let cases = [
            // a chain only the set's own anchors vouch for is verified as its client verifies
            (
                with(Some(Anchored::Verified), Anchored::No, Some(true)),
                Verdict::Ok,
            ),
            // nothing vouches for it: untrusted, as without anchors
            (
                with(Some(Anchored::No), Anchored::No, None),
                Verdict::UntrustedChain,
            ),
            // the clock is read on the path the verdict rests on
            (
                with(Some(Anchored::Expired), Anchored::No, Some(true)),
                Verdict::Expired,
            ),
            (
                with(Some(Anchored::Expired), Anchored::Verified, Some(true)),
                Verdict::Expired,
            ),
            // a public chain the set's client does not trust fails on its pins
            (
                with(Some(Anchored::No), Anchored::Verified, Some(false)),
                Verdict::PinMismatch,
            ),
        ];
        for (findings, want) in cases {
            assert_eq!(classify(&findings).verdict, want, "{findings:?}");
        }
        // and strong evidence of a re-signing device still wins over an unanchored chain
        let intercepted = Findings {
            evidence: vec![signal(Strength::Strong, "os-store-only anchor")],
            ..with(Some(Anchored::No), Anchored::No, Some(false))
        };
        assert_eq!(classify(&intercepted).verdict, Verdict::SslInterception);
    }
}
