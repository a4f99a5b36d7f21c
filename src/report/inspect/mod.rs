//! The report of `pinprobe inspect`: every section of one chain's analysis in text, or one
//! JSON document whose `inspect` member is the result exactly as `test --format json` gives it.
//!
//! The whole report is rendered first and written at once; a closed pipe ends it quietly.

use std::io::{self, Write};

use serde::Serialize;

use super::{plural, truncate, Format, Quiet, RunInfo, Shown};
use crate::chain::cert::CertInfo;
use crate::chain::trust::PathReport;
use crate::inspect::{Inspected, Inspection, Stop, Stops};
use crate::probe::ProbeResult;
use crate::verdict::Verdict;

#[derive(Serialize)]
struct Document<'a> {
    pinprobe: &'a RunInfo,
    inspect: &'a ProbeResult,
    pinset_reason: &'a str,
    stops: &'a Stops,
}

/// Writes the report of an inspection to `out`.
pub fn write<W: Write>(out: W, format: Format, inspection: &Inspection) -> io::Result<()> {
    let mut buf = Vec::new();
    match format {
        Format::Text => text(&mut buf, inspection)?,
        // cmd::inspect::run refuses the line-oriented formats; JSON is the document for all others
        Format::Json | Format::Ndjson | Format::Junit | Format::Prometheus | Format::Summary => {
            let doc = Document {
                pinprobe: &inspection.info,
                inspect: &inspection.result,
                pinset_reason: &inspection.pinset_reason,
                stops: &inspection.stops,
            };
            serde_json::to_writer_pretty(&mut buf, &doc).map_err(io::Error::other)?;
            writeln!(buf)?;
        }
    }
    let mut out = Quiet::new(out);
    out.write_all(&buf)?;
    out.flush()
}

/// The text report, section by section.
pub fn text(out: &mut impl Write, i: &Inspection) -> io::Result<()> {
    let r = &i.result;
    header(out, i)?;
    tls(out, i)?;
    chain(out, r, i.now)?;
    paths(out, r, &i.stops)?;
    checks(out, i)?;
    pins(out, r)?;
    evidence(out, r)?;
    warnings(out, r)?;
    http(out, i)?;
    writeln!(out)?;
    writeln!(
        out,
        "verdict: {} (curl {}): {}",
        r.verdict,
        r.curl_code,
        Shown(&verdict_detail(r))
    )
}

fn header(out: &mut impl Write, i: &Inspection) -> io::Result<()> {
    let r = &i.result;
    match &i.inspected {
        Inspected::Live { url, .. } => {
            writeln!(out, "pinprobe {} inspect {}", i.info.version, Shown(url))?;
            let address = match (r.address, r.resolved_by) {
                (Some(addr), Some(by)) => format!("{addr} ({})", by.describe()),
                (Some(addr), None) => addr.to_string(),
                (None, _) => "none: the name did not resolve".to_string(),
            };
            writeln!(out, "  route      {}", Shown(&r.route.describe()))?;
            let whose = if r.route.proxy.is_some() {
                " (the proxy's)"
            } else {
                ""
            };
            writeln!(out, "  address    {address}{whose}")?;
        }
        Inspected::File { path, host } => {
            let n = r.chain.len();
            writeln!(
                out,
                "pinprobe {} inspect {} (a chain read from a file, {n} certificate{})",
                i.info.version,
                Shown(path),
                plural(n)
            )?;
            match host {
                Some(host) => writeln!(
                    out,
                    "  host name  {}, checked against the leaf",
                    Shown(host)
                )?,
                None => writeln!(
                    out,
                    "  host name  none given: the leaf's names are not checked (add HOST to check them)"
                )?,
            }
        }
    }
    writeln!(out, "  pin set    {}", Shown(&i.pinset_reason))?;
    let a = &i.anchors;
    let public = if a.cacerts.is_empty() {
        "Mozilla's roots".to_string()
    } else {
        format!(
            "Mozilla's roots and --cacert {}",
            Shown(&a.cacerts.join(", "))
        )
    };
    writeln!(
        out,
        "  anchors    public {} ({public}), os {}",
        a.public,
        Shown(&i.info.os_store.to_string())
    )
}

fn tls(out: &mut impl Write, i: &Inspection) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "TLS")?;
    if let Inspected::File { .. } = i.inspected {
        return writeln!(out, "  not applicable: the chain was read from a file");
    }
    let Some(tls) = &i.result.tls else {
        let why = if i.result.timings_ms.handshake.is_some() {
            "the handshake did not complete"
        } else {
            "the probe ended before the handshake"
        };
        return writeln!(out, "  no session: {why} ({})", i.result.verdict);
    };
    let field = |v: &Option<String>| Shown(v.as_deref().unwrap_or("none")).to_string();
    writeln!(out, "  version       {}", field(&tls.version))?;
    writeln!(out, "  cipher suite  {}", field(&tls.cipher_suite))?;
    writeln!(out, "  key exchange  {}", field(&tls.kx_group))?;
    writeln!(out, "  ALPN          {}", field(&tls.alpn))
}

fn chain(out: &mut impl Write, r: &ProbeResult, now: i64) -> io::Result<()> {
    writeln!(out)?;
    let n = r.chain.len();
    if n == 0 {
        writeln!(out, "chain as sent: none")?;
        return writeln!(out, "  no certificate was presented");
    }
    writeln!(out, "chain as sent: {n} certificate{}", plural(n))?;
    for c in &r.chain {
        if let Some(e) = &c.parse_error {
            writeln!(out, "  #{} does not parse", c.index)?;
            writeln!(out, "    error        {}", Shown(e))?;
            writeln!(out, "    fingerprint  SHA-256 {}", c.sha256)?;
            continue;
        }
        writeln!(
            out,
            "  #{} {} ({})",
            c.index,
            Shown(&c.short_name()),
            role(c)
        )?;
        writeln!(out, "    subject      {}", Shown(&c.subject))?;
        writeln!(out, "    issuer       {}", Shown(&c.issuer))?;
        writeln!(
            out,
            "    valid        {} .. {}: {}",
            c.not_before,
            c.not_after,
            days_left(c, now)
        )?;
        let names = if c.sans.is_empty() {
            "none".to_string()
        } else {
            c.names()
        };
        writeln!(out, "    names        {}", Shown(&names))?;
        writeln!(out, "    key          {}", Shown(&c.key))?;
        writeln!(out, "    signature    {}", Shown(&c.signature_algorithm))?;
        writeln!(out, "    pin          sha256/{}", c.spki_sha256)?;
        writeln!(out, "    pin hex      {}", c.spki_sha256_hex)?;
        writeln!(out, "    fingerprint  SHA-256 {}", c.sha256)?;
    }
    Ok(())
}

fn role(c: &CertInfo) -> String {
    let mut role = match (c.index, c.is_ca) {
        (0, false) => "leaf".to_string(),
        (0, true) => "leaf, a CA certificate".to_string(),
        (_, true) => "CA".to_string(),
        (_, false) => "not a CA".to_string(),
    };
    if c.self_issued {
        role.push_str(", self-signed");
    }
    role
}

/// Days left in the validity period, said the way a reader acts on it.
fn days_left(c: &CertInfo, now: i64) -> String {
    const DAY: i64 = 86_400;
    if c.not_before_unix > now {
        match (c.not_before_unix - now).div_euclid(DAY) {
            0 => "not yet valid, starts in less than a day".into(),
            1 => "not yet valid, starts in 1 day".into(),
            n => format!("not yet valid, starts in {n} days"),
        }
    } else if c.not_after_unix < now {
        match (now - c.not_after_unix).div_euclid(DAY) {
            0 => "expired less than a day ago".into(),
            1 => "expired 1 day ago".into(),
            n => format!("expired {n} days ago"),
        }
    } else {
        match (c.not_after_unix - now).div_euclid(DAY) {
            0 => "less than a day left".into(),
            1 => "1 day left".into(),
            n => format!("{n} days left"),
        }
    }
}

fn paths(out: &mut impl Write, r: &ProbeResult, stops: &Stops) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "paths")?;
    let Some(trust) = &r.trust else {
        return writeln!(out, "  not built: no certificate was presented");
    };
    path(out, &trust.public, stops.public.as_ref())?;
    path(out, &trust.os, stops.os.as_ref())?;
    match &trust.agent {
        Some(agent) => path(out, agent, None),
        None => Ok(()),
    }
}

fn path(out: &mut impl Write, p: &PathReport, stop: Option<&Stop>) -> io::Result<()> {
    let store = p.store;
    match &p.anchor {
        Some(anchor) => {
            let steps: Vec<String> = p.path.iter().map(|i| format!("#{i} -> ")).collect();
            writeln!(
                out,
                "  {store:<6}  {:<8}  {}anchor {} (sha256/{}, {})",
                if p.verified { "verified" } else { "reached" },
                steps.concat(),
                Shown(&anchor.subject),
                anchor.spki_sha256.to_base64(),
                Shown(&anchor.origin.to_string())
            )?;
            if let Some(e) = &p.error {
                writeln!(out, "  {:<6}  {:<8}  not valid now: {}", "", "", Shown(e))?;
            }
        }
        None => {
            writeln!(
                out,
                "  {store:<6}  {:<8}  {}",
                "none",
                Shown(p.error.as_deref().unwrap_or("no anchor reached"))
            )?;
            if let Some(stop) = stop {
                writeln!(out, "  {:<6}  {:<8}  {}", "", "", Shown(&stop.detail))?;
            }
        }
    }
    Ok(())
}

fn checks(out: &mut impl Write, i: &Inspection) -> io::Result<()> {
    let trust = i.result.trust.as_ref();
    writeln!(out)?;
    writeln!(out, "host name check")?;
    match trust.map(|t| &t.hostname) {
        Some(Some(h)) if h.ok => writeln!(out, "  ok: the leaf covers the host name")?,
        Some(Some(h)) => writeln!(
            out,
            "  failed: {}",
            Shown(
                h.detail
                    .as_deref()
                    .unwrap_or("the leaf does not cover the host name")
            )
        )?,
        Some(None) => writeln!(out, "  not checked: no host name was given")?,
        None => writeln!(out, "  not checked: no certificate was presented")?,
    }
    writeln!(out)?;
    writeln!(out, "validity check")?;
    match trust.map(|t| &t.validity) {
        Some(Some(v)) if v.ok => writeln!(
            out,
            "  ok: every certificate presented is within its validity period"
        ),
        Some(Some(v)) => writeln!(
            out,
            "  failed: {}",
            Shown(
                v.detail
                    .as_deref()
                    .unwrap_or("a certificate is out of its validity period")
            )
        ),
        _ => writeln!(out, "  not checked: no certificate was presented"),
    }
}

fn evidence(out: &mut impl Write, r: &ProbeResult) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "evidence")?;
    if r.interception.evidence.is_empty() {
        writeln!(out, "  none")?;
    }
    for s in &r.interception.evidence {
        let strength = serde_json::to_value(s.strength)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        writeln!(out, "  [{strength}] {}: {}", s.signal, Shown(&s.detail))?;
    }
    writeln!(
        out,
        "  vendor   {}",
        Shown(r.interception.vendor.as_deref().unwrap_or("none named"))
    )
}

fn warnings(out: &mut impl Write, r: &ProbeResult) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "warnings")?;
    if r.warnings.is_empty() {
        return writeln!(out, "  none");
    }
    for w in &r.warnings {
        writeln!(out, "  {}: {}", w.warning, Shown(&w.detail))?;
    }
    Ok(())
}

fn http(out: &mut impl Write, i: &Inspection) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "HTTP")?;
    let checked = match i.inspected {
        Inspected::File { .. } => {
            return writeln!(out, "  not applicable: the chain was read from a file")
        }
        Inspected::Live { http, .. } => http,
    };
    if !checked {
        return writeln!(out, "  not checked (--no-http)");
    }
    let Some(h) = &i.result.http else {
        return writeln!(out, "  not sent: the connection ended before the request");
    };
    if let Some(a) = &h.answer {
        writeln!(
            out,
            "  answer    {} {} \"{}\"{}",
            a.status,
            Shown(&a.reason),
            Shown(&truncate(&a.body, 80)),
            if a.truncated { " (truncated)" } else { "" }
        )?;
    }
    if let Some(e) = &h.error {
        writeln!(out, "  error     {}", Shown(e))?;
    }
    let expected = match (h.expect_status, &h.expect_body) {
        (None, None) => "any HTTP answer".to_string(),
        (Some(s), None) => format!("status {s}"),
        (None, Some(b)) => format!("body \"{}\"", Shown(b)),
        (Some(s), Some(b)) => format!("status {s}, body \"{}\"", Shown(b)),
    };
    writeln!(out, "  expected  {expected}")
}

/// The verdict's detail; an `ok` verdict carries none, so say what made it ok.
fn verdict_detail(r: &ProbeResult) -> String {
    if !r.detail.is_empty() || r.verdict != Verdict::Ok {
        return r.detail.clone();
    }
    let mut parts = Vec::new();
    if let Some(anchor) = r
        .trust
        .as_ref()
        .and_then(|t| [&t.public, &t.os].into_iter().find(|p| p.verified))
        .and_then(|p| p.anchor.as_ref())
    {
        parts.push(format!(
            "the chain verifies against {} ({})",
            anchor.subject, anchor.origin
        ));
    }
    match (&r.pins.set, r.pins.matches.first()) {
        (Some(set), Some(m)) => parts.push(format!("pin set {set} matched on {}", m.certificate)),
        _ => parts.push("no pin set".to_string()),
    }
    if let Some(a) = r.http.as_ref().and_then(|h| h.answer.as_ref()) {
        parts.push(format!("HTTP {} as expected", a.status));
    }
    parts.join("; ")
}

mod pins;

use pins::pins;
