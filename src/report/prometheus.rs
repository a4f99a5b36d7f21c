//! The Prometheus text exposition format (version 0.0.4): the metric families of a probe, for
//! `pinprobe serve`'s `/probe` and for `pinprobe test --format prometheus` (a file for
//! node_exporter's textfile collector), and the exporter's own families for `serve`'s
//! `/metrics`. Every metric name, its type and its help text live here and nowhere else.
//!
//! Labels stay bounded, because each value of a label is a series Prometheus keeps:
//!
//! - `verdict` takes the verdict codes (every one is written, 1 for the verdict and 0 for the
//!   others, so a series never vanishes when the verdict changes);
//! - `vendor` takes the product names of `pins/interceptors.toml`, `unknown` for interception no
//!   product name explains, and `none` without interception;
//! - `position` counts from the leaf along the path (at most [`MAX_CERTIFICATES`]), `role` is
//!   `leaf`, `intermediate` or `anchor`, `phase` one of six;
//! - certificate names never become labels, nor does the target: Prometheus adds the target
//!   by its relabelling (`instance`). Only the textfile of `test` labels each series with its
//!   `endpoint` URL and `route`, bounded by the profile the run probes.
//!
//! Label values are escaped as the format says (backslash, double quote, line feed).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::OnceLock;

use super::Summary;
use crate::chain::trust::Role;
use crate::evidence::Interceptors;
use crate::probe::{Context, ProbeResult};
use crate::verdict::Verdict;

/// The `Content-Type` of the exposition format this module writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Most certificates of one probe given a `pinprobe_cert_not_after_seconds` series: a verified
/// path is shorter (rustls-webpki allows six intermediates); a chain that reaches no anchor is
/// reported as presented, and a longer one is cut here.
pub const MAX_CERTIFICATES: usize = 10;

/// The `vendor` of a probe whose verdict is not `ssl-interception`.
pub const NO_VENDOR: &str = "none";

/// The `vendor` of interception that no product of the bundled list explains.
pub const UNKNOWN_VENDOR: &str = "unknown";

/// The upper bounds of the exporter's probe duration histogram, in seconds.
pub const DURATION_BUCKETS: [f64; 11] =
    [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];

#[derive(Clone, Copy)]
enum Kind {
    Gauge,
    Counter,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        }
    }
}

/// A metric family: its name, type and help text.
struct Family {
    name: &'static str,
    kind: Kind,
    help: &'static str,
}

const PROBE_SUCCESS: Family = Family {
    name: "probe_success",
    kind: Kind::Gauge,
    help: "1 when the verdict is ok (trusted, pinned, expected answer), else 0",
};
const VERDICT: Family = Family {
    name: "pinprobe_verdict",
    kind: Kind::Gauge,
    help: "1 for the probe's verdict, 0 for every other verdict code",
};
const CURL_CODE: Family = Family {
    name: "pinprobe_curl_code",
    kind: Kind::Gauge,
    help: "the curl exit code a client would have seen (0 ok, 60 untrusted or intercepted, 35 handshake, ...)",
};
const INTERCEPTION: Family = Family {
    name: "pinprobe_interception",
    kind: Kind::Gauge,
    help: "1 when the verdict is ssl-interception, with the product named by the evidence (unknown when none is), else 0 with vendor none",
};
const PIN_MATCH: Family = Family {
    name: "pinprobe_pin_match",
    kind: Kind::Gauge,
    help: "1 when a pin of the endpoint's pin set is on the verified path, else 0; absent without a pin set",
};
const CERT_NOT_AFTER: Family = Family {
    name: "pinprobe_cert_not_after_seconds",
    kind: Kind::Gauge,
    help: "end of validity of each certificate of the path the pins are compared with (else of the chain as presented), seconds since the Unix epoch; position 0 is the leaf",
};
const DURATION: Family = Family {
    name: "pinprobe_duration_seconds",
    kind: Kind::Gauge,
    help: "time spent in each phase of the probe that ran, in seconds",
};
const PINNED_EXPIRED: Family = Family {
    name: "pinprobe_pinned_certificate_expired",
    kind: Kind::Gauge,
    help: "certificates the endpoint's pin set carries as its own anchors that have expired; absent without a pin set",
};

const REQUESTS: Family = Family {
    name: "pinprobe_exporter_requests_total",
    kind: Kind::Counter,
    help: "HTTP requests answered, by path (/probe, /metrics, / or other) and status code",
};
const IN_FLIGHT: Family = Family {
    name: "pinprobe_exporter_probes_in_flight",
    kind: Kind::Gauge,
    help: "probes running now",
};
const MAX_IN_FLIGHT: Family = Family {
    name: "pinprobe_exporter_probes_max",
    kind: Kind::Gauge,
    help: "probes that may run at once (--max-concurrent); a /probe request beyond them is answered 503",
};
const PROBE_DURATION: Family = Family {
    name: "pinprobe_exporter_probe_duration_seconds",
    kind: Kind::Histogram,
    help: "wall time of each probe run for /probe, in seconds",
};
const START_TIME: Family = Family {
    name: "process_start_time_seconds",
    kind: Kind::Gauge,
    help: "start time of the process since the Unix epoch in seconds",
};
const BUILD_INFO: Family = Family {
    name: "pinprobe_exporter_build_info",
    kind: Kind::Gauge,
    help: "always 1, labelled with the version of pinprobe",
};

/// A phase of a probe, as `pinprobe_duration_seconds` labels it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// name resolution
    Dns,
    /// the TCP connection
    Connect,
    /// the CONNECT exchange with a proxy
    Proxy,
    /// the TLS handshake
    Tls,
    /// the HTTP request and its answer
    Http,
    /// the whole probe, analysis included
    Total,
}

impl Phase {
    /// The label value: `dns`, `connect`, `proxy`, `tls`, `http` or `total`.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Proxy => "proxy",
            Phase::Tls => "tls",
            Phase::Http => "http",
            Phase::Total => "total",
        }
    }
}

/// A certificate's end of validity, at its position along the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotAfter {
    /// 0 for the leaf, counting towards the anchor
    pub position: usize,
    /// leaf, intermediate or anchor
    pub role: Role,
    /// seconds since the Unix epoch
    pub seconds: i64,
}

/// What one probe result gives the metric families: every value is of a bounded kind.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// the verdict
    pub verdict: Verdict,
    /// its curl code
    pub curl_code: u8,
    /// with `ssl-interception`, the product the evidence names (a name of the bundled list) or
    /// [`UNKNOWN_VENDOR`]; `None` otherwise
    pub vendor: Option<&'static str>,
    /// the pin check, `None` without a pin set
    pub pin_match: Option<bool>,
    /// the certificates' ends of validity, leaf first, at most [`MAX_CERTIFICATES`]
    pub not_after: Vec<NotAfter>,
    /// the time of each phase that ran, in seconds
    pub durations: Vec<(Phase, f64)>,
    /// the expired anchors of the endpoint's pin set, `None` without a pin set
    pub pinned_expired: Option<usize>,
}

impl Measured {
    /// The values of `r`. `pinned_expired` counts the expired anchors of its pin set (see
    /// [`pinned_expired_counts`]); it is dropped when the result has no pin set.
    pub fn of(r: &ProbeResult, pinned_expired: Option<usize>) -> Measured {
        let vendor = (r.verdict == Verdict::SslInterception)
            .then(|| known_vendor(r.interception.vendor.as_deref()));
        let t = &r.timings_ms;
        let durations = [
            (Phase::Dns, t.dns),
            (Phase::Connect, t.connect),
            (Phase::Proxy, t.proxy),
            (Phase::Tls, t.handshake),
            (Phase::Http, t.http),
            (Phase::Total, Some(t.total)),
        ]
        .into_iter()
        // milliseconds to a tenth, so seconds to a ten-thousandth: no binary fraction's tail
        .filter_map(|(phase, ms)| ms.map(|ms| (phase, (ms * 10.0).round() / 10_000.0)))
        .collect();
        Measured {
            verdict: r.verdict,
            curl_code: r.curl_code,
            vendor,
            pin_match: r.pins.set.as_ref().and(r.pins.matched),
            not_after: not_after(r),
            durations,
            pinned_expired: r.pins.set.as_ref().map(|_| pinned_expired.unwrap_or(0)),
        }
    }
}

/// The certificates' ends of validity: along the path the pins are compared with (the one a
/// client that verifies would rely on), anchor last; without one, the chain as presented.
fn not_after(r: &ProbeResult) -> Vec<NotAfter> {
    let path = r
        .pins
        .path
        .and_then(|store| r.trust.as_ref().and_then(|t| t.path(store)));
    let role = |index: usize| {
        if index == 0 {
            Role::Leaf
        } else {
            Role::Intermediate
        }
    };
    let parsed = |c: &&crate::chain::cert::CertInfo| c.parse_error.is_none();
    let mut dates: Vec<(Role, i64)> = match path {
        Some(path) => {
            let mut dates: Vec<(Role, i64)> = path
                .path
                .iter()
                .filter_map(|i| r.chain.get(*i))
                .filter(parsed)
                .map(|c| (role(c.index), c.not_after_unix))
                .collect();
            if let Some(seconds) = path.anchor.as_ref().and_then(|a| a.not_after_unix) {
                dates.push((Role::Anchor, seconds));
            }
            dates
        }
        None => r
            .chain
            .iter()
            .filter(parsed)
            .map(|c| (role(c.index), c.not_after_unix))
            .collect(),
    };
    dates.truncate(MAX_CERTIFICATES);
    dates
        .into_iter()
        .enumerate()
        .map(|(position, (role, seconds))| NotAfter {
            position,
            role,
            seconds,
        })
        .collect()
}

/// The product names of the bundled interceptor list, the only values `vendor` takes besides
/// [`UNKNOWN_VENDOR`] and [`NO_VENDOR`].
fn known_vendors() -> &'static [String] {
    static VENDORS: OnceLock<Vec<String>> = OnceLock::new();
    VENDORS.get_or_init(|| {
        let Ok(list) = Interceptors::bundled() else {
            return Vec::new();
        };
        let names: BTreeSet<String> = list
            .interceptors
            .into_iter()
            .map(|i| i.product)
            .chain(list.unnamed.into_iter().map(|u| u.product))
            .collect();
        names.into_iter().collect()
    })
}

/// `vendor` as one of the bundled names, else [`UNKNOWN_VENDOR`].
fn known_vendor(vendor: Option<&str>) -> &'static str {
    vendor
        .and_then(|v| known_vendors().iter().find(|k| k.as_str() == v))
        .map_or(UNKNOWN_VENDOR, String::as_str)
}

/// For each pin set of the context that carries anchors of its own, how many of them have
/// expired at `now` (seconds since the Unix epoch); a set without anchors counts 0.
pub fn pinned_expired_counts(ctx: &Context, now: i64) -> BTreeMap<String, usize> {
    ctx.agents
        .keys()
        .map(|name| (name.clone(), pinned_expired_count(ctx, name, now)))
        .collect()
}

/// How many of the anchors the pin set `set` carries have expired at `now` (seconds since the
/// Unix epoch): `pinprobe_pinned_certificate_expired`, as `Context::pinned_expired` warns of
/// them.
pub fn pinned_expired_count(ctx: &Context, set: &str, now: i64) -> usize {
    ctx.agents.get(set).map_or(0, |a| a.expired(now).count())
}

/// The probe families of one or more results, each with its own labels (none for `serve`,
/// whose target Prometheus labels; `endpoint` and `route` for the textfile).
pub struct Series {
    /// the labels every sample of this result carries, before the family's own
    pub labels: Vec<(&'static str, String)>,
    /// the values
    pub measured: Measured,
}

/// Writes the probe families of `series`; a family no result has a value for is left out.
pub fn write_probes(out: &mut impl Write, series: &[Series]) -> io::Result<()> {
    let mut text = String::new();
    family(&mut text, &PROBE_SUCCESS, series, |m, emit| {
        emit(&[], f64::from(u8::from(m.verdict == Verdict::Ok)));
    });
    family(&mut text, &VERDICT, series, |m, emit| {
        for verdict in Verdict::ALL {
            emit(
                &[("verdict", verdict.code())],
                f64::from(u8::from(m.verdict == verdict)),
            );
        }
    });
    family(&mut text, &CURL_CODE, series, |m, emit| {
        emit(&[], f64::from(m.curl_code));
    });
    family(&mut text, &INTERCEPTION, series, |m, emit| match m.vendor {
        Some(vendor) => emit(&[("vendor", vendor)], 1.0),
        None => emit(&[("vendor", NO_VENDOR)], 0.0),
    });
    family(&mut text, &PIN_MATCH, series, |m, emit| {
        if let Some(matched) = m.pin_match {
            emit(&[], f64::from(u8::from(matched)));
        }
    });
    family(&mut text, &CERT_NOT_AFTER, series, |m, emit| {
        for cert in &m.not_after {
            let position = cert.position.to_string();
            emit(
                &[("position", &position), ("role", cert.role.name())],
                cert.seconds as f64,
            );
        }
    });
    family(&mut text, &DURATION, series, |m, emit| {
        for (phase, seconds) in &m.durations {
            emit(&[("phase", phase.name())], *seconds);
        }
    });
    family(&mut text, &PINNED_EXPIRED, series, |m, emit| {
        if let Some(count) = m.pinned_expired {
            emit(&[], count as f64);
        }
    });
    out.write_all(text.as_bytes())
}

/// Writes one family: its HELP and TYPE lines, then the samples `samples` gives for each
/// series, when there is at least one.
fn family<F>(text: &mut String, family: &Family, series: &[Series], samples: F)
where
    F: Fn(&Measured, &mut dyn FnMut(&[(&str, &str)], f64)),
{
    let mut lines = String::new();
    for s in series {
        samples(&s.measured, &mut |own, value| {
            let labels: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|(name, value)| (*name, value.as_str()))
                .chain(own.iter().copied())
                .collect();
            sample(&mut lines, family.name, &labels, value);
        });
    }
    if !lines.is_empty() {
        header(text, family);
        text.push_str(&lines);
    }
}

fn header(text: &mut String, family: &Family) {
    let _ = writeln!(
        text,
        "# HELP {} {}\n# TYPE {} {}",
        family.name,
        escape_help(family.help),
        family.name,
        family.kind.name()
    );
}

/// One sample line: `name{label="value",...} value`.
fn sample(text: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    text.push_str(name);
    if !labels.is_empty() {
        text.push('{');
        for (i, (label, value)) in labels.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            let _ = write!(text, "{label}=\"{}\"", escape_label(value));
        }
        text.push('}');
    }
    text.push(' ');
    text.push_str(&number(value));
    text.push('\n');
}

/// A label value as the exposition format writes it: backslash, double quote and line feed
/// escaped.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A HELP text: backslash and line feed escaped.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value as Go's `ParseFloat` reads it: `+Inf`, `-Inf`, `NaN`, or a decimal.
fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        value.to_string()
    }
}

/// The results of a run, for `test --format prometheus`: one file for node_exporter's textfile
/// collector, every probe family once with a series per endpoint and route.
#[derive(Default)]
pub struct Prometheus {
    series: Vec<Series>,
    written: BTreeSet<(String, &'static str)>,
    duplicates: usize,
    pinned_expired: BTreeMap<String, usize>,
    summary: Summary,
}

impl Prometheus {
    /// An empty report.
    pub fn new() -> Prometheus {
        Prometheus::default()
    }

    /// The expired anchors of each pin set (see [`pinned_expired_counts`]).
    pub fn pinned_expired(&mut self, counts: BTreeMap<String, usize>) {
        self.pinned_expired = counts;
    }

    /// Keeps the values of one result. An endpoint listed twice on the same route (one URL in
    /// several geographies' lists) gives the same labels: its first result is kept, and the
    /// file says how many were left out.
    pub fn result(&mut self, r: &ProbeResult) {
        self.summary.add(r);
        let route = if r.route.via == "direct" {
            "direct"
        } else {
            "proxy"
        };
        if !self.written.insert((r.url.clone(), route)) {
            self.duplicates += 1;
            return;
        }
        let expired = r
            .pins
            .set
            .as_ref()
            .and_then(|set| self.pinned_expired.get(set).copied());
        self.series.push(Series {
            labels: vec![("endpoint", r.url.clone()), ("route", route.to_string())],
            measured: Measured::of(r, expired),
        });
    }

    /// Writes the file.
    pub fn finish(&mut self, out: &mut impl Write) -> io::Result<Summary> {
        if self.duplicates > 0 {
            writeln!(
                out,
                "# pinprobe: {} result{} of endpoints listed twice on the same route left out (the first is kept)",
                self.duplicates,
                super::plural(self.duplicates)
            )?;
        }
        write_probes(out, &self.series)?;
        Ok(self.summary.clone())
    }
}

/// A histogram of fixed buckets ([`DURATION_BUCKETS`]).
#[derive(Clone, Debug, Default)]
pub struct Histogram {
    /// how many observations fell at or below each bound of [`DURATION_BUCKETS`] (not
    /// cumulative here; written cumulative)
    counts: [u64; DURATION_BUCKETS.len()],
    /// observations above the last bound
    over: u64,
    sum: f64,
}

impl Histogram {
    /// Counts one observation, in seconds.
    pub fn observe(&mut self, seconds: f64) {
        match DURATION_BUCKETS.iter().position(|b| seconds <= *b) {
            Some(i) => self.counts[i] += 1,
            None => self.over += 1,
        }
        self.sum += seconds;
    }

    /// Observations counted.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum::<u64>() + self.over
    }
}

/// What `serve`'s `/metrics` shows of the exporter itself.
#[derive(Clone, Debug, Default)]
pub struct Exporter {
    /// requests answered, by path (`/probe`, `/metrics`, `/`, `other`) and status code
    pub requests: BTreeMap<(&'static str, u16), u64>,
    /// probes running now
    pub in_flight: usize,
    /// probes that may run at once
    pub max_in_flight: usize,
    /// the wall time of each probe
    pub durations: Histogram,
    /// when the process started, seconds since the Unix epoch
    pub start_time: f64,
}

/// Writes the exporter's own families.
pub fn write_exporter(out: &mut impl Write, e: &Exporter) -> io::Result<()> {
    let mut text = String::new();
    if !e.requests.is_empty() {
        header(&mut text, &REQUESTS);
        for ((path, code), count) in &e.requests {
            let code = code.to_string();
            sample(
                &mut text,
                REQUESTS.name,
                &[("path", path), ("code", &code)],
                *count as f64,
            );
        }
    }
    header(&mut text, &IN_FLIGHT);
    sample(&mut text, IN_FLIGHT.name, &[], e.in_flight as f64);
    header(&mut text, &MAX_IN_FLIGHT);
    sample(&mut text, MAX_IN_FLIGHT.name, &[], e.max_in_flight as f64);
    header(&mut text, &PROBE_DURATION);
    let mut cumulative = 0;
    for (bound, count) in DURATION_BUCKETS.iter().zip(e.durations.counts) {
        cumulative += count;
        let le = number(*bound);
        sample(
            &mut text,
            "pinprobe_exporter_probe_duration_seconds_bucket",
            &[("le", &le)],
            cumulative as f64,
        );
    }
    let count = e.durations.count();
    sample(
        &mut text,
        "pinprobe_exporter_probe_duration_seconds_bucket",
        &[("le", "+Inf")],
        count as f64,
    );
    sample(
        &mut text,
        "pinprobe_exporter_probe_duration_seconds_sum",
        &[],
        e.durations.sum,
    );
    sample(
        &mut text,
        "pinprobe_exporter_probe_duration_seconds_count",
        &[],
        count as f64,
    );
    header(&mut text, &START_TIME);
    sample(&mut text, START_TIME.name, &[], e.start_time);
    header(&mut text, &BUILD_INFO);
    sample(
        &mut text,
        BUILD_INFO.name,
        &[("version", env!("CARGO_PKG_VERSION"))],
        1.0,
    );
    out.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests;
