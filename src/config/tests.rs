//! Unit tests of the validation of options.

use super::*;

#[test]
fn defaults_give_the_bundled_profile() {
    let c = Config::from_options(&Options::default()).unwrap();
    assert_eq!(c.endpoints.len(), 14);
    assert!(c.source.contains("bundled"));
    assert!(c
        .endpoints
        .iter()
        .all(|e| e.pinset.as_deref() == Some("microsoft-cloud")));
}

#[test]
fn a_probe_and_the_flags_have_the_same_defaults() {
    let probe = Settings::default();
    let flags = Config::from_options(&Options::default()).unwrap().settings;
    for s in [probe, flags] {
        assert_eq!(
            (s.connect_timeout, s.timeout, s.warn_days),
            (DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_WARN_DAYS)
        );
    }
    assert_eq!(Options::default().concurrency, DEFAULT_CONCURRENCY);
    assert_eq!(
        Network::default().options().timeout,
        Options::default().timeout
    );
}

#[test]
fn bad_options_name_the_flag() {
    type Case = (&'static str, fn(&mut Options));
    let cases: &[Case] = &[
        ("--pinset", |o| o.pinset = Some("microsoft-cloud".into())),
        ("--pinset", |o| {
            o.urls = vec!["example.com".into()];
            o.pinset = Some("nope".into());
        }),
        ("ftp://example.com", |o| {
            o.urls = vec!["ftp://example.com".into()]
        }),
        ("--resolve", |o| o.resolve = vec!["example.com:443".into()]),
        ("--concurrency", |o| o.concurrency = 0),
        ("--timeout", |o| o.timeout = 0.0),
        ("--connect-timeout", |o| o.connect_timeout = f64::NAN),
        ("--cacert", |o| {
            o.cacert = vec!["/nonexistent/ca.pem".into()]
        }),
        ("--fail-on", |o| o.fail_on = vec!["pin-drift,drift".into()]),
        ("--junit", |o| {
            o.json = Some("report.json".into());
            o.junit = Some("./report.json".into());
        }),
    ];
    for (flag, change) in cases {
        let mut o = Options::default();
        change(&mut o);
        let e = Config::from_options(&o).unwrap_err().to_string();
        assert!(e.starts_with(flag), "{flag}: {e}");
    }
}

#[test]
fn urls_take_the_named_pin_set() {
    let o = Options {
        urls: vec!["https://example.com:8443/x".into()],
        pinset: Some("microsoft-cloud".into()),
        ..Options::default()
    };
    let c = Config::from_options(&o).unwrap();
    assert_eq!(c.endpoints.len(), 1);
    assert_eq!(c.endpoints[0].pinset.as_deref(), Some("microsoft-cloud"));
}

#[test]
fn a_chain_needs_no_endpoint_but_a_known_pin_set() {
    let c = Config::for_chain(&Options {
        pinset: Some("microsoft-cloud".into()),
        ..Options::default()
    })
    .unwrap();
    assert!(c.endpoints.is_empty());
    assert!(c.pinsets.iter().any(|s| s.name == "microsoft-cloud"));
    let e = Config::for_chain(&Options {
        pinset: Some("nope".into()),
        ..Options::default()
    })
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("--pinset: no pin set is named \"nope\""),
        "{e}"
    );
}

#[test]
fn a_profile_without_a_default_list_is_probed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagged.toml");
    std::fs::write(
        &path,
        "[[endpoints]]\nurl = \"https://a.example/\"\ncatalog = \"streamlined\"\ngeo = \"EU\"\n\n\
         [[endpoints]]\nurl = \"https://b.example/\"\ncatalog = \"standard\"\ngeo = \"US\"\n",
    )
    .unwrap();
    let o = Options {
        profile: Some(path),
        ..Options::default()
    };
    let c = Config::from_options(&o).unwrap();
    assert_eq!(c.endpoints.len(), 2);
    assert!(c.selection.is_none());
    // asked for, a list is chosen from it
    let c = Config::from_options(&Options {
        geo: Some(crate::catalog::Geo::Us),
        catalog: Some(crate::catalog::Choice::One(
            crate::catalog::Catalog::Standard,
        )),
        ..o
    })
    .unwrap();
    assert_eq!(c.endpoints.len(), 1);
    assert_eq!(c.endpoints[0].host, "b.example");
}

#[test]
fn one_place_decides_the_reports_of_a_run_and_the_line_on_standard_error() {
    let stdout = |format| (format, Target::Stdout);
    let file = |format, name: &str| (format, Target::File(name.into()));
    // (options, reports, summary line on standard error)
    type Case = (fn(&mut Options), Vec<(Format, Target)>, bool);
    let cases: Vec<Case> = vec![
        (|_| {}, vec![stdout(Format::Text)], false),
        (
            |o| o.format = Format::Json,
            vec![stdout(Format::Json)],
            true,
        ),
        (
            |o| o.output = Some("out.txt".into()),
            vec![file(Format::Text, "out.txt")],
            true,
        ),
        (
            |o| {
                o.format = Format::Json;
                o.quiet = true;
            },
            vec![stdout(Format::Json)],
            false,
        ),
        (
            |o| o.format = Format::Summary,
            vec![stdout(Format::Summary)],
            false,
        ),
        (
            |o| {
                o.junit = Some("r.xml".into());
                o.ndjson = Some("r.ndjson".into());
                o.json = Some("r.json".into());
            },
            vec![
                stdout(Format::Text),
                file(Format::Json, "r.json"),
                file(Format::Ndjson, "r.ndjson"),
                file(Format::Junit, "r.xml"),
            ],
            false,
        ),
    ];
    for (change, reports, status_line) in cases {
        let mut o = Options::default();
        change(&mut o);
        let c = Config::from_options(&o).unwrap();
        assert_eq!(
            (&c.reports, c.status_line),
            (&reports, status_line),
            "{o:?}"
        );
    }
}
