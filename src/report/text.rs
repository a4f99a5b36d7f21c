//! The text report: one line per endpoint in the shape of `mdatp connectivity test`, failures
//! with verdict, curl code and evidence, `-v` details under each line, and advice at the end.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{plural, truncate, RunInfo, Shown, Summary};
use crate::chain::trust::PathReport;
use crate::drift::Drift;
use crate::pin_formats::PinFormat;
use crate::probe::ProbeResult;
use crate::verdict::{Advice, Verdict};

/// The state of a text report between results.
pub struct Text {
    verbose: bool,
    /// where the lines of --targets that were skipped are (`FILE:LINE`)
    skipped: Vec<String>,
    /// failing URLs per verdict for the advice block, each with the interception product its
    /// evidence names
    failures: BTreeMap<Verdict, Vec<(String, Option<String>)>>,
    /// each endpoint comes twice, direct then through the proxy
    compare: bool,
    /// the previous result's URL, route and verdict, to compare the two routes of an endpoint
    previous: Option<(String, String, Verdict)>,
    /// the format of the pins in drift reports
    pin_format: PinFormat,
    /// what to do about each verdict, from the profile
    advice: Advice,
}

impl Text {
    /// A text report; `verbose` adds the chain and trust details under each line.
    pub fn new(verbose: bool) -> Text {
        Text {
            verbose,
            skipped: Vec::new(),
            failures: BTreeMap::new(),
            compare: false,
            previous: None,
            pin_format: PinFormat::Okhttp,
            advice: Advice::default(),
        }
    }

    /// The format of the pins a drifted chain needs.
    pub fn pin_format(&mut self, format: PinFormat) {
        self.pin_format = format;
    }

    /// The first lines: what is probed, how it is reached, and where the OS store came from.
    pub fn header(&mut self, out: &mut impl Write, info: &RunInfo) -> io::Result<()> {
        self.compare = info.compare_direct;
        self.advice = info.advice.clone();
        self.skipped = info.skipped.iter().map(|s| s.place()).collect();
        let s = if info.endpoints == 1 { "" } else { "s" };
        writeln!(
            out,
            "pinprobe {}: {} endpoint{s} from {}, {}",
            info.version,
            info.endpoints,
            Shown(&info.profile),
            Shown(&info.routes)
        )?;
        if let Some(list) = &info.endpoint_list {
            writeln!(out, "endpoints: {}", Shown(list))?;
        }
        writeln!(out, "OS store: {}", Shown(&info.os_store.to_string()))?;
        for w in &info.warnings {
            writeln!(out, "warning {}: {}", w.warning, Shown(&w.detail))?;
        }
        Ok(())
    }

    /// The line of one result, and its details when verbose.
    pub fn result(&mut self, out: &mut impl Write, r: &ProbeResult) -> io::Result<()> {
        // the route is shown when it is not the plain direct one, and always when comparing
        let shown_url = if let Some(pac) = &r.route.pac {
            // the PAC decision on the line itself: what it returned and what was used
            let used = match (&pac.used, &pac.error) {
                (Some(used), _) => used.as_str(),
                (None, Some(_)) => "no answer",
                (None, None) => "nothing reachable",
            };
            // a script that threw or answered nothing usable has no answer to quote; the
            // evidence says why
            if pac.returned.is_empty() && pac.error.is_some() {
                format!("{} (PAC -> {})", Shown(&r.url), Shown(used))
            } else {
                format!(
                    "{} (PAC \"{}\" -> {})",
                    Shown(&r.url),
                    Shown(&pac.returned),
                    Shown(used)
                )
            }
        } else if self.compare || r.route.proxy.is_some() || r.route.source.is_some() {
            let route = if r.route.proxy.is_some() {
                format!("via {}", Shown(&r.route.via))
            } else {
                "direct".to_string()
            };
            format!("{} ({route})", Shown(&r.url))
        } else {
            Shown(&r.url).to_string()
        };
        if r.verdict == Verdict::Ok {
            writeln!(out, "Testing connection with {shown_url} ... [OK]")?;
        } else {
            // the product is named only where the verdict is the interception it made
            let vendor = r
                .interception
                .vendor
                .clone()
                .filter(|_| r.verdict == Verdict::SslInterception);
            self.failures
                .entry(r.verdict)
                .or_default()
                .push((r.url.clone(), vendor));
            writeln!(
                out,
                "Testing connection with {shown_url} ... [ERROR] {} (curl {}): {}",
                r.verdict,
                r.curl_code,
                Shown(&r.detail)
            )?;
        }
        for w in &r.warnings {
            writeln!(out, "    warning {}: {}", w.warning, Shown(&w.detail))?;
        }
        if let Some(d) = &r.drift {
            // a set that no longer matches always shows what it needs; a set that still
            // matches shows it with -v (its warning line says it drifted)
            if !d.matched || self.verbose {
                drift(out, d, &r.url, self.pin_format)?;
            }
        }
        if self.verbose {
            details(out, r)?;
        }
        if self.compare {
            if let Some((url, route, verdict)) = self.previous.take() {
                if url == r.url && verdict != r.verdict {
                    writeln!(
                        out,
                        "    the routes differ: {} gives {verdict}, via {} gives {}",
                        Shown(&route),
                        Shown(&r.route.via),
                        r.verdict
                    )?;
                }
            } else {
                self.previous = Some((r.url.clone(), r.route.via.clone(), r.verdict));
            }
        }
        Ok(())
    }

    /// The summary (with each rule that failed the run) and the advice block.
    pub fn finish(&mut self, out: &mut impl Write, s: &Summary) -> io::Result<()> {
        writeln!(out)?;
        if s.warned > 0 {
            writeln!(out, "{} with warnings{}", s.warned, warnings_rule(s))?;
        }
        // with --compare-direct each endpoint gives two results, one per route
        let what = if self.compare { "probes" } else { "endpoints" };
        if s.failed == 0 {
            writeln!(out, "{} of {} {what} ok", s.ok, s.total)?;
        } else {
            writeln!(
                out,
                "{} of {} {what} failed ({} ok)",
                s.failed, s.total, s.ok
            )?;
        }
        if s.skipped > 0 {
            writeln!(
                out,
                "{} line{} of --targets skipped ({}): they fail the run",
                s.skipped,
                plural(s.skipped),
                Shown(&places(&self.skipped))
            )?;
        }
        for (verdict, urls) in &self.failures {
            writeln!(out)?;
            writeln!(
                out,
                "{} (curl {}), {} endpoint{}:",
                verdict,
                verdict.curl_code(),
                urls.len(),
                if urls.len() == 1 { "" } else { "s" }
            )?;
            for (url, vendor) in urls {
                match vendor {
                    Some(vendor) => writeln!(
                        out,
                        "  {} (interception product: {})",
                        Shown(url),
                        Shown(vendor)
                    )?,
                    None => writeln!(out, "  {}", Shown(url))?,
                }
            }
            // a profile's [advice] is an input file's text
            writeln!(out, "  What to do: {}", Shown(self.advice.text(*verdict)))?;
        }
        Ok(())
    }
}

/// What `--fail-on` makes of the warnings, after their count: ` (--fail-on warning: they fail
/// the run)`, ` (--fail-on pin-drift: pin-drift on 1 fails the run)`, or nothing without it.
fn warnings_rule(s: &Summary) -> String {
    if s.fail_on.adds_nothing() {
        String::new()
    } else if s.fail_on.every() {
        format!(" ({}: they fail the run)", s.fail_on.flag())
    } else if s.warned_failing == 0 {
        format!(" ({}: none of them fails the run)", s.fail_on.flag())
    } else {
        let verb = if s.warned_failing == 1 {
            "fails"
        } else {
            "fail"
        };
        format!(
            " ({}: {} {verb} the run)",
            s.fail_on.flag(),
            s.failing_warnings()
        )
    }
}

/// Most places of skipped lines named in the summary; the rest are counted.
const SHOWN_PLACES: usize = 5;

/// `a.txt:2, a.txt:4`, the first few places and how many more.
fn places(places: &[String]) -> String {
    let mut text = places
        .iter()
        .take(SHOWN_PLACES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if places.len() > SHOWN_PLACES {
        text.push_str(&format!(" and {} more", places.len() - SHOWN_PLACES));
    }
    text
}

/// The details under a result's line (`-v`): how it was reached, the chain, the checks.
fn details(out: &mut impl Write, r: &ProbeResult) -> io::Result<()> {
    connection(out, r)?;
    chain(out, r)?;
    checks(out, r)
}

/// The route, the TLS parameters, the proxy's answer and the time of each phase.
fn connection(out: &mut impl Write, r: &ProbeResult) -> io::Result<()> {
    let t = &r.timings_ms;
    let mut route = format!("    route {}", Shown(&r.route.describe()));
    if let Some(addr) = r.address {
        route.push_str(&format!(", {addr}"));
        if let Some(by) = r.resolved_by {
            let by = by.describe();
            route.push_str(&format!(" ({by})"));
        }
    }
    writeln!(out, "{route}")?;
    if let Some(tls) = &r.tls {
        let field = |v: &Option<String>| Shown(v.as_deref().unwrap_or("-")).to_string();
        writeln!(
            out,
            "    tls {} {} {} alpn {}",
            field(&tls.version),
            field(&tls.cipher_suite),
            field(&tls.kx_group),
            field(&tls.alpn)
        )?;
    }
    let phase = |name: &str, v: Option<f64>| v.map(|ms| format!("{name} {ms:.1} ms"));
    if let Some(answer) = &r.proxy {
        let mut line = format!(
            "    proxy answered {} {}",
            answer.status,
            Shown(&answer.reason)
        );
        for (name, value) in &answer.headers {
            line.push_str(&format!("; {}: {}", Shown(name), Shown(value)));
        }
        writeln!(out, "{line}")?;
    }
    let phases: Vec<String> = [
        phase("dns", t.dns),
        phase("connect", t.connect),
        phase("proxy", t.proxy),
        phase("handshake", t.handshake),
        phase("http", t.http),
        phase("total", Some(t.total)),
    ]
    .into_iter()
    .flatten()
    .collect();
    writeln!(out, "    time {}", phases.join(", "))?;
    Ok(())
}

/// Each certificate as sent.
fn chain(out: &mut impl Write, r: &ProbeResult) -> io::Result<()> {
    if !r.chain.is_empty() {
        let n = r.chain.len();
        let s = if n == 1 { "" } else { "s" };
        writeln!(out, "    chain, {n} certificate{s} as sent:")?;
    }
    for c in &r.chain {
        if let Some(e) = &c.parse_error {
            writeln!(
                out,
                "      #{} does not parse: {} (sha256 {})",
                c.index,
                Shown(e),
                c.sha256
            )?;
            continue;
        }
        writeln!(out, "      #{} {}", c.index, Shown(&c.short_name()))?;
        writeln!(out, "         subject  {}", Shown(&c.subject))?;
        writeln!(out, "         issuer   {}", Shown(&c.issuer))?;
        writeln!(out, "         valid    {} .. {}", c.not_before, c.not_after)?;
        writeln!(
            out,
            "         key      {}, signed {}",
            Shown(&c.key),
            Shown(&c.signature_algorithm)
        )?;
        if !c.sans.is_empty() {
            writeln!(out, "         names    {}", Shown(&c.names()))?;
        }
        writeln!(out, "         pin      sha256/{}", c.spki_sha256)?;
        writeln!(out, "                  {}", c.spki_sha256_hex)?;
    }
    Ok(())
}

/// Both paths, the name and time checks, the pins, the evidence and the HTTP answer.
fn checks(out: &mut impl Write, r: &ProbeResult) -> io::Result<()> {
    if let Some(trust) = &r.trust {
        path_line(out, &trust.public)?;
        path_line(out, &trust.os)?;
        if let Some(agent) = &trust.agent {
            path_line(out, agent)?;
        }
        if let Some(h) = &trust.hostname {
            writeln!(
                out,
                "    hostname {}",
                Shown(h.detail.as_deref().unwrap_or("ok"))
            )?;
        }
        if let Some(v) = &trust.validity {
            writeln!(
                out,
                "    validity {}",
                Shown(v.detail.as_deref().unwrap_or("ok"))
            )?;
        }
    }
    match (&r.pins.set, r.pins.matched) {
        (Some(set), Some(true)) => {
            for m in &r.pins.matches {
                writeln!(
                    out,
                    "    pins {}: matched {} on {} ({})",
                    Shown(set),
                    m.pin,
                    Shown(&m.certificate),
                    Shown(m.label.as_deref().unwrap_or("no label"))
                )?;
            }
        }
        (Some(set), Some(false)) => writeln!(
            out,
            "    pins {}: no pin on the {} path",
            Shown(set),
            r.pins
                .path
                .map_or("verified", crate::chain::trust::Store::name)
        )?,
        (Some(set), None) => writeln!(out, "    pins {}: not checked (no chain)", Shown(set))?,
        (None, _) => writeln!(out, "    pins none (verdict on trust alone)")?,
    }
    for s in &r.interception.evidence {
        let strength = serde_json::to_value(s.strength)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        writeln!(
            out,
            "    evidence [{strength}] {}: {}",
            s.signal,
            Shown(&s.detail)
        )?;
    }
    if let Some(http) = &r.http {
        match (&http.answer, &http.error) {
            (Some(a), _) => writeln!(
                out,
                "    http {} {} \"{}\"{}",
                a.status,
                Shown(&a.reason),
                Shown(&truncate(&a.body, 80)),
                if a.truncated { " (truncated)" } else { "" }
            )?,
            (None, Some(e)) => writeln!(out, "    http {}", Shown(e))?,
            (None, None) => {}
        }
    }
    Ok(())
}

fn drift(out: &mut impl Write, d: &Drift, url: &str, format: PinFormat) -> io::Result<()> {
    writeln!(out, "    drift: {}", Shown(&d.summary))?;
    for s in &d.stale {
        writeln!(
            out,
            "      stale  {} ({})",
            s.pin,
            Shown(s.label.as_deref().unwrap_or("no label"))
        )?;
    }
    for k in &d.new {
        writeln!(out, "      new    {} {}", Shown(&k.certificate), k.pin)?;
    }
    for note in &d.pinned_expired {
        writeln!(out, "      pinned certificate expired: {}", Shown(note))?;
    }
    if d.stale.is_empty() && d.matched {
        return Ok(());
    }
    writeln!(out, "      pins this chain needs ({}):", format.name())?;
    // the formats' comments carry the labels (certificate names) as they are
    for line in crate::pin_formats::write(format, &d.set, &d.needed, url).lines() {
        writeln!(out, "        {}", Shown(line))?;
    }
    Ok(())
}

fn path_line(out: &mut impl Write, p: &PathReport) -> io::Result<()> {
    let label = format!("{} path", p.store);
    match (&p.anchor, p.verified) {
        (Some(anchor), verified) => {
            let steps: Vec<String> = p.path.iter().map(|i| format!("#{i}")).collect();
            writeln!(
                out,
                "    {label:<11} {} {} -> anchor {} (sha256/{}, {}){}",
                if verified { "verified" } else { "reached" },
                steps.join(" -> "),
                Shown(&anchor.subject),
                anchor.spki_sha256.to_base64(),
                Shown(&anchor.origin.to_string()),
                p.error
                    .as_deref()
                    .map(|e| format!("; {}", Shown(e)))
                    .unwrap_or_default()
            )
        }
        (None, _) => writeln!(
            out,
            "    {label:<11} none: {}",
            Shown(p.error.as_deref().unwrap_or("no anchor reached"))
        ),
    }
}

/// `test --list`: where the endpoints come from, which list was chosen and why, and each
/// endpoint with its method, expected status and pin set, one per line.
pub fn list(out: &mut impl Write, config: &crate::config::Config) -> io::Result<()> {
    let count = config.endpoint_count();
    let s = if count == 1 { "" } else { "s" };
    writeln!(out, "{count} endpoint{s} from {}", Shown(&config.source))?;
    if let Some(selection) = &config.selection {
        writeln!(out, "endpoints: {}", Shown(&selection.told))?;
    }
    for e in config.each_endpoint() {
        let status = e
            .expect
            .status
            .map_or_else(|| "any".to_string(), |s| s.to_string());
        let trust = match e.pinset.as_deref() {
            Some(name) => match config.pinsets.iter().find(|p| p.name == name) {
                Some(set) if !set.anchors.is_empty() => format!("pin set {name} (its own anchors)"),
                _ => format!("pin set {name}"),
            },
            None => "no pin set".to_string(),
        };
        let place: Vec<String> = [
            e.catalog.map(|c| c.to_string()),
            e.geo.map(|g| g.to_string()),
            e.service.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        writeln!(
            out,
            "{:<4} {}  expect {status}, {trust}{}",
            e.method.name(),
            Shown(&e.url),
            if place.is_empty() {
                String::new()
            } else {
                format!(", {}", Shown(&place.join(" ")))
            }
        )?;
    }
    Ok(())
}
