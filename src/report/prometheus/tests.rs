use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};

use super::*;
use crate::chain::trust::{AnchorSet, Store};
use crate::endpoint::Endpoint;
use crate::lab::{Ca, KeyKind, LeafSpec, Pki};
use crate::net::resolve::Resolver;
use crate::probe::{analyse_chain, Settings};

/// A context whose public store holds `root`.
fn context(root: &Ca) -> Context {
    Context::new(
        Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
        AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test root"),
        AnchorSet::from_certificates(Store::Os, &[], "test"),
        Vec::new(),
        Interceptors::bundled().unwrap(),
        Resolver::fixed(Vec::new()),
        Settings::default(),
    )
    .unwrap()
}

/// The result of analysing `chain` for lab.test with the public store holding `root`.
fn analysed(root: &Ca, chain: &[CertificateDer<'static>]) -> ProbeResult {
    let name = ServerName::try_from("lab.test").unwrap();
    analyse_chain(
        &context(root),
        "https://lab.test/",
        Some(&name),
        None,
        chain,
    )
}

/// A result that is not `ok`, with every field at hand to change.
fn blank() -> ProbeResult {
    ProbeResult::internal_error(&Endpoint::parse("https://lab.test/").unwrap(), "test")
}

fn text(series: &[Series]) -> String {
    let mut out = Vec::new();
    write_probes(&mut out, series).unwrap();
    String::from_utf8(out).unwrap()
}

fn one(measured: Measured) -> String {
    text(&[Series {
        labels: Vec::new(),
        measured,
    }])
}

/// The value of the sample line `name{labels}` (the whole text before the value).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.parse().unwrap())
}

/// Every line is a HELP or TYPE line, a comment, or a sample `name{labels} value` whose
/// labels are well quoted; each family's HELP and TYPE come once, before its samples.
fn assert_well_formed(text: &str) {
    let mut families: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!families.contains(&name), "{name} twice in\n{text}");
            families.push(name);
            continue;
        }
        if line.starts_with("# ") {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{line}"
        );
        let family = families.last().unwrap();
        assert!(name.starts_with(family), "{name} after {family}'s HELP");
        let mut rest = &line[name_end..];
        if let Some(labels) = rest.strip_prefix('{') {
            // label="value" pairs; inside a value only \\, \" and \n escapes
            let mut chars = labels.chars();
            loop {
                let label: String = chars.by_ref().take_while(|c| *c != '=').collect();
                assert!(label.chars().all(|c| c.is_ascii_lowercase()), "{line}");
                assert_eq!(chars.next(), Some('"'), "{line}");
                loop {
                    match chars.next().unwrap() {
                        '\\' => assert!(matches!(chars.next(), Some('\\' | '"' | 'n')), "{line}"),
                        '"' => break,
                        '\n' => panic!("raw line feed in {line}"),
                        _ => {}
                    }
                }
                match chars.next() {
                    Some(',') => continue,
                    Some('}') => break,
                    other => panic!("{other:?} after a label value in {line}"),
                }
            }
            rest = chars.as_str();
        }
        let number = rest.strip_prefix(' ').unwrap();
        assert!(
            number.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&number),
            "{line}"
        );
    }
}

#[test]
fn label_values_are_escaped_as_the_format_says() {
    assert_eq!(escape_label(r#"a\b"c"#), r#"a\\b\"c"#);
    assert_eq!(escape_label("line\nbreak"), r"line\nbreak");
    assert_eq!(escape_label("tab\tstays é"), "tab\tstays é");
    let series = [Series {
        labels: vec![("endpoint", "https://lab.test/\"quoted\"\\\n".into())],
        measured: Measured::of(&blank(), None),
    }];
    let out = text(&series);
    assert_well_formed(&out);
    assert!(
        out.contains(r#"probe_success{endpoint="https://lab.test/\"quoted\"\\\n"} 0"#),
        "{out}"
    );
}

#[test]
fn numbers_are_written_as_prometheus_reads_them() {
    for (value, written) in [
        (0.0, "0"),
        (1.0, "1"),
        (0.25, "0.25"),
        (1_796_147_250.0, "1796147250"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
    ] {
        assert_eq!(number(value), written);
    }
    assert_eq!(number(f64::NAN), "NaN");
}

#[test]
fn a_genuine_chain_has_every_family_and_its_dates_along_the_path() {
    let pki = Pki::genuine(&["lab.test"]).unwrap();
    let mut r = analysed(&pki.root, &pki.leaf.chain());
    r.pins.set = Some("lab".into());
    r.pins.matched = Some(true);
    // the analysis of a chain read from a file has no HTTP answer to check: ok, as for a file
    assert_eq!(r.verdict, Verdict::Ok, "{}", r.detail);
    let m = Measured::of(&r, Some(2));
    let out = one(m);
    assert_well_formed(&out);
    for family in [
        "probe_success",
        "pinprobe_verdict",
        "pinprobe_curl_code",
        "pinprobe_interception",
        "pinprobe_pin_match",
        "pinprobe_cert_not_after_seconds",
        "pinprobe_duration_seconds",
        "pinprobe_pinned_certificate_expired",
    ] {
        assert!(
            out.contains(&format!("# TYPE {family} gauge\n")),
            "{family}:\n{out}"
        );
    }
    assert_eq!(value(&out, "probe_success"), Some(1.0));
    assert_eq!(value(&out, "pinprobe_curl_code"), Some(0.0));
    assert_eq!(value(&out, "pinprobe_pin_match"), Some(1.0));
    assert_eq!(
        value(&out, "pinprobe_pinned_certificate_expired"),
        Some(2.0)
    );
    assert_eq!(
        value(&out, r#"pinprobe_interception{vendor="none"}"#),
        Some(0.0)
    );
    // leaf, intermediate, then the anchor the path reached (not sent by the server)
    let chain = &r.chain;
    let anchor = r.trust.as_ref().unwrap().public.anchor.clone().unwrap();
    for (position, role, seconds) in [
        (0, "leaf", chain[0].not_after_unix),
        (1, "intermediate", chain[1].not_after_unix),
        (2, "anchor", anchor.not_after_unix.unwrap()),
    ] {
        let series =
            format!(r#"pinprobe_cert_not_after_seconds{{position="{position}",role="{role}"}}"#);
        assert_eq!(value(&out, &series), Some(seconds as f64), "{out}");
    }
    assert_eq!(out.matches("pinprobe_cert_not_after_seconds{").count(), 3);
    // the phases that ran: a chain from a file has only the analysis
    assert!(value(&out, r#"pinprobe_duration_seconds{phase="total"}"#).is_some());
    assert!(!out.contains(r#"phase="tls""#), "{out}");
}

#[test]
fn every_verdict_is_written_once_and_only_the_probes_is_one() {
    let out = one(Measured::of(&blank(), None));
    assert_well_formed(&out);
    assert_eq!(out.matches("pinprobe_verdict{").count(), Verdict::ALL.len());
    for verdict in Verdict::ALL {
        let series = format!(r#"pinprobe_verdict{{verdict="{}"}}"#, verdict.code());
        let want = if verdict == Verdict::InternalError {
            1.0
        } else {
            0.0
        };
        assert_eq!(value(&out, &series), Some(want), "{series}");
    }
    assert_eq!(value(&out, "probe_success"), Some(0.0));
    assert_eq!(value(&out, "pinprobe_curl_code"), Some(2.0));
}

#[test]
fn without_a_pin_set_the_pin_families_are_left_out() {
    let mut r = blank();
    r.pins.set = None;
    r.pins.matched = None;
    let out = one(Measured::of(&r, Some(3)));
    assert!(!out.contains("pinprobe_pin_match"), "{out}");
    assert!(
        !out.contains("pinprobe_pinned_certificate_expired"),
        "{out}"
    );
    // no chain was seen: no certificate dates either
    assert!(!out.contains("pinprobe_cert_not_after_seconds"), "{out}");

    // a pin set with no anchors of its own counts none expired
    r.pins.set = Some("lab".into());
    r.pins.matched = Some(false);
    let out = one(Measured::of(&r, None));
    assert_eq!(value(&out, "pinprobe_pin_match"), Some(0.0));
    assert_eq!(
        value(&out, "pinprobe_pinned_certificate_expired"),
        Some(0.0)
    );
}

#[test]
fn the_vendor_is_a_name_of_the_bundled_list_or_unknown() {
    // a CA named like Zscaler's, in no store
    let ca = Ca::root("Zscaler Root CA", "Zscaler Inc.", KeyKind::EcdsaP256).unwrap();
    let leaf = ca.leaf(&LeafSpec::new(["lab.test"])).unwrap();
    let unrelated = Ca::root("Some Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let r = analysed(&unrelated, &leaf.chain());
    assert_eq!(r.verdict, Verdict::SslInterception, "{}", r.detail);
    let out = one(Measured::of(&r, None));
    assert_eq!(
        value(&out, r#"pinprobe_interception{vendor="Zscaler"}"#),
        Some(1.0),
        "{out}"
    );
    assert_eq!(
        value(&out, r#"pinprobe_verdict{verdict="ssl-interception"}"#),
        Some(1.0)
    );
    assert_eq!(value(&out, "pinprobe_curl_code"), Some(60.0));

    // a name the evidence could never give does not become a label value
    let mut r = blank();
    r.verdict = Verdict::SslInterception;
    r.interception.vendor = Some("Evil\"Corp\nTesting".into());
    assert_eq!(Measured::of(&r, None).vendor, Some(UNKNOWN_VENDOR));
    r.interception.vendor = None;
    assert_eq!(Measured::of(&r, None).vendor, Some(UNKNOWN_VENDOR));
    // and a vendor only counts with the verdict
    r.verdict = Verdict::UntrustedChain;
    r.interception.vendor = Some("Zscaler".into());
    assert_eq!(Measured::of(&r, None).vendor, None);
}

#[test]
fn a_chain_that_reaches_no_anchor_is_dated_as_presented_and_cut() {
    let pki = Pki::genuine(&["lab.test"]).unwrap();
    let stranger = Ca::root("Stranger", "Lab", KeyKind::EcdsaP256).unwrap();
    // the leaf, then its issuer sent 14 times: a long chain from a peer
    let mut chain = pki.leaf.chain();
    for _ in 0..13 {
        chain.push(pki.inter.der().clone());
    }
    let r = analysed(&stranger, &chain);
    assert!(r.pins.path.is_none(), "{:?}", r.pins.path);
    let m = Measured::of(&r, None);
    assert_eq!(m.not_after.len(), MAX_CERTIFICATES);
    assert_eq!(m.not_after[0].role, Role::Leaf);
    assert!(m.not_after[1..]
        .iter()
        .all(|c| c.role == Role::Intermediate));
    assert!(m.not_after.iter().enumerate().all(|(i, c)| c.position == i));
}

#[test]
fn the_textfile_has_one_series_per_endpoint_and_route_and_each_family_once() {
    let mut report = Prometheus::new();
    report.pinned_expired(BTreeMap::from([("agent".to_string(), 1)]));
    let mut a = blank();
    a.url = "https://a.test/ping".into();
    a.pins.set = Some("agent".into());
    let mut b = blank();
    b.url = "https://b.test/".into();
    b.verdict = Verdict::Ok;
    let mut b_proxy = b.clone();
    b_proxy.route.via = "http://127.0.0.1:3128".into();
    let again = a.clone();
    for r in [&a, &b, &b_proxy, &again] {
        report.result(r);
    }
    let mut out = Vec::new();
    let summary = report.finish(&mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_well_formed(&out);
    assert_eq!(summary.total, 4);
    assert!(
        out.starts_with("# pinprobe: 1 result of endpoints listed twice"),
        "{out}"
    );
    assert_eq!(out.matches("probe_success{").count(), 3, "{out}");
    assert_eq!(
        value(
            &out,
            r#"probe_success{endpoint="https://b.test/",route="proxy"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &out,
            r#"pinprobe_pinned_certificate_expired{endpoint="https://a.test/ping",route="direct"}"#
        ),
        Some(1.0)
    );
    assert_eq!(out.matches("# TYPE pinprobe_verdict ").count(), 1);
}

#[test]
fn the_exporters_histogram_is_cumulative() {
    let mut stats = Exporter {
        max_in_flight: 16,
        start_time: 1_796_147_250.5,
        ..Exporter::default()
    };
    for seconds in [0.01, 0.3, 0.3, 7.0, 100.0] {
        stats.durations.observe(seconds);
    }
    stats.requests.insert(("/probe", 200), 5);
    stats.requests.insert(("other", 404), 1);
    let mut out = Vec::new();
    write_exporter(&mut out, &stats).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert_well_formed(&out);
    let bucket = |le: &str| {
        value(
            &out,
            &format!(r#"pinprobe_exporter_probe_duration_seconds_bucket{{le="{le}"}}"#),
        )
    };
    assert_eq!(bucket("0.05"), Some(1.0));
    assert_eq!(bucket("0.5"), Some(3.0));
    assert_eq!(bucket("10"), Some(4.0));
    assert_eq!(bucket("60"), Some(4.0));
    assert_eq!(bucket("+Inf"), Some(5.0));
    assert_eq!(
        value(&out, "pinprobe_exporter_probe_duration_seconds_count"),
        Some(5.0)
    );
    assert_eq!(
        value(
            &out,
            r#"pinprobe_exporter_requests_total{path="/probe",code="200"}"#
        ),
        Some(5.0)
    );
    assert_eq!(
        value(&out, "process_start_time_seconds"),
        Some(1_796_147_250.5)
    );
    assert!(out.contains("# TYPE pinprobe_exporter_requests_total counter\n"));
    assert!(out.contains("# TYPE pinprobe_exporter_probe_duration_seconds histogram\n"));
}
