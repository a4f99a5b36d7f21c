use super::*;
use crate::profile::Profile;

fn pin(seed: u8) -> Pin {
    Pin::parse(&hex::encode([seed; 32])).unwrap()
}

fn taken(seed: u8, what: &str) -> Taken {
    Taken {
        pin: pin(seed),
        label: format!("{what}: x, expires 2030-01-01, taken 2026-01-01"),
        source: "pinprobe pin, live chain of https://a.test/".into(),
    }
}

fn pinned(url: &str, seeds: &[u8]) -> Pinned {
    let e = Endpoint::parse(url).unwrap();
    Pinned {
        url: e.url,
        host: e.host,
        port: e.port,
        pins: seeds
            .iter()
            .zip(["leaf", "intermediate", "anchor"])
            .map(|(s, w)| taken(*s, w))
            .collect(),
        issuer_orgs: Some(vec!["Lab".into()]),
        expect_status: Some(200),
        expect_body: Some("OK".into()),
    }
}

fn loads(doc: &DocumentMut) -> Profile {
    let text = doc.to_string();
    let profile = Profile::parse(&text, "p.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    profile.check_refs(&[]).unwrap();
    profile
}

#[test]
fn set_names_come_from_the_host() {
    let cases = [
        ("cdn.x.cp.wd.microsoft.com", "cdn-x-cp-wd-microsoft-com"),
        ("Lab.Test", "lab-test"),
        ("127.0.0.1", "127-0-0-1"),
        ("::1", "1"),
        ("--", "endpoint"),
    ];
    for (host, want) in cases {
        assert_eq!(set_name(host), want, "{host}");
    }
    let taken: BTreeSet<String> = ["a-test".to_string(), "a-test-8443".to_string()].into();
    assert_eq!(fresh_name("b.test", 443, &taken), "b-test");
    assert_eq!(fresh_name("a.test", 443, &taken), "a-test-443");
    assert_eq!(fresh_name("a.test", 8443, &taken), "a-test-8443-2");
}

#[test]
fn a_new_profile_has_a_set_per_host_and_loads() {
    let mut doc = new_document("# header", "d");
    let plan = Plan {
        endpoints: vec![
            pinned("https://a.test/ping", &[1, 2, 3]),
            pinned("https://a.test/other", &[1, 2, 3]),
            pinned("https://a.test:8443/", &[4, 2, 3]),
            pinned("https://b.test/", &[5, 6, 3]),
        ],
        ..Plan::default()
    };
    let changes = apply(&mut doc, &plan).unwrap();
    let names: Vec<&str> = changes.sets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a-test", "a-test-8443", "b-test"]);
    assert!(changes.sets.iter().all(|s| s.created && s.off_path == 0));
    let profile = loads(&doc);
    assert_eq!(profile.endpoints.len(), 4);
    assert_eq!(profile.endpoints[1].pinset.as_deref(), Some("a-test"));
    assert_eq!(profile.endpoints[0].expect.body.as_deref(), Some("OK"));
    let a = &profile.pinsets[0];
    assert_eq!(a.pins.len(), 3);
    assert_eq!(a.expect_issuer_orgs, ["Lab"]);
    assert!(a.pins[0].label.as_deref().unwrap().starts_with("leaf: "));
    let text = doc.to_string();
    assert!(
        text.starts_with("# header\ndescription = \"d\"\n"),
        "{text}"
    );
    assert!(
        text.find("[pinsets.b-test]").unwrap() < text.find("[[endpoints]]").unwrap(),
        "{text}"
    );
}

#[test]
fn a_shared_set_holds_the_union_and_backups() {
    let mut doc = new_document("# h", "d");
    let plan = Plan {
        endpoints: vec![
            pinned("https://a.test/", &[1, 2, 3]),
            pinned("https://b.test/", &[4, 2, 3]),
        ],
        shared_set: Some("svc".into()),
        backups: vec![pin(9), pin(2)],
    };
    let changes = apply(&mut doc, &plan).unwrap();
    assert_eq!(changes.sets.len(), 1);
    let set = &changes.sets[0];
    assert_eq!(set.backups_on_path, [pin(2)]);
    assert_eq!(set.off_path, 1);
    let profile = loads(&doc);
    let pins: Vec<Pin> = profile.pinsets[0].pins.iter().map(|e| e.pin).collect();
    assert_eq!(pins, [pin(1), pin(2), pin(3), pin(4), pin(9)]);
    assert_eq!(
        profile.pinsets[0].pins[4].label.as_deref(),
        Some(BACKUP_LABEL)
    );
}

const REVIEWED: &str = r#"# Reviewed by the platform team.
description = "svc"

[pinsets.svc]
# checked against the vendor's documentation
expect_issuer_orgs = ["Lab"]
pins = [
  # the issuing CA, checked by hand
  { pin = "sha256/AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=", label = "Lab Issuing CA (hand-written)", source = "ops" },  # keep me
  # the old leaf
  "sha256/AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",  # old leaf note
  { pin = "sha256/CQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=", label = "offline spare", source = "backup key in the safe" },
]

[[endpoints]]
url = "https://a.test/ping"  # the health check
pinset = "svc"
expect_status = 200
"#;

#[test]
fn an_update_keeps_what_was_written_and_drops_what_left_the_path() {
    let mut doc: DocumentMut = REVIEWED.parse().unwrap();
    let mut a = pinned("https://a.test/ping", &[7, 2, 8]);
    a.issuer_orgs = Some(vec!["Lab".into(), "New Root Org".into()]);
    let plan = Plan {
        endpoints: vec![a, pinned("https://c.test/", &[5, 6, 3])],
        ..Plan::default()
    };
    let changes = apply(&mut doc, &plan).unwrap();
    let text = doc.to_string();
    let profile = loads(&doc);

    let svc = &changes.sets[0];
    assert!(!svc.created);
    assert_eq!(svc.kept.len(), 1);
    assert_eq!(
        svc.removed,
        [Entry {
            pin: pin(1),
            label: None
        }]
    );
    assert_eq!(svc.backups[0].label.as_deref(), Some("offline spare"));
    assert_eq!(
        svc.added.iter().map(|e| e.pin).collect::<Vec<_>>(),
        [pin(7), pin(8)]
    );
    assert_eq!(svc.orgs_added, ["New Root Org"]);
    assert_eq!(changes.endpoints_added, ["https://c.test/"]);

    for kept in [
        "# Reviewed by the platform team.",
        "# checked against the vendor's documentation",
        "# the issuing CA, checked by hand",
        "label = \"Lab Issuing CA (hand-written)\", source = \"ops\" },  # keep me",
        "label = \"offline spare\"",
        "url = \"https://a.test/ping\"  # the health check",
        "expect_issuer_orgs = [\"Lab\", \"New Root Org\"]",
    ] {
        assert!(text.contains(kept), "{kept:?} lost:\n{text}");
    }
    for gone in ["# the old leaf", "old leaf note", "AQEBAQEB"] {
        assert!(!text.contains(gone), "{gone:?} kept:\n{text}");
    }
    let svc = profile.pinsets.iter().find(|s| s.name == "svc").unwrap();
    let pins: Vec<Pin> = svc.pins.iter().map(|e| e.pin).collect();
    assert_eq!(pins, [pin(2), pin(9), pin(7), pin(8)]);
    // the existing endpoint keeps its expectation, the new one gets the answer seen
    assert_eq!(profile.endpoints[0].expect.body, None);
    assert_eq!(profile.endpoints[1].pinset.as_deref(), Some("c-test"));
    assert_eq!(profile.endpoints[1].expect.body.as_deref(), Some("OK"));
}

#[test]
fn pins_of_a_set_that_serves_unprobed_endpoints_are_kept() {
    let text = format!("{REVIEWED}\n[[endpoints]]\nurl = \"https://b.test/\"\npinset = \"svc\"\n");
    let mut doc: DocumentMut = text.parse().unwrap();
    let plan = Plan {
        endpoints: vec![pinned("https://a.test/ping", &[7, 2, 8])],
        ..Plan::default()
    };
    let changes = apply(&mut doc, &plan).unwrap();
    let svc = &changes.sets[0];
    assert!(svc.removed.is_empty());
    assert_eq!(svc.stale_kept[0].pin, pin(1));
    assert_eq!(svc.unprobed, ["https://b.test/"]);
    loads(&doc);
}

#[test]
fn a_one_line_array_is_spread_when_it_grows() {
    let mut doc: DocumentMut = "[pinsets.s]\npins = [\"sha256/AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=\"]\n[[endpoints]]\nurl = \"https://a.test/\"\n"
        .parse()
        .unwrap();
    let plan = Plan {
        endpoints: vec![pinned("https://a.test/", &[1, 2])],
        shared_set: Some("s".into()),
        ..Plan::default()
    };
    let changes = apply(&mut doc, &plan).unwrap();
    assert_eq!(
        changes.endpoints_linked,
        [("https://a.test/".to_string(), "s".to_string())]
    );
    let text = doc.to_string();
    assert!(
        text.contains("pins = [\n  \"sha256/AgIC"),
        "not spread:\n{text}"
    );
    assert!(text.contains("\n  { pin = \"sha256/AQEB"), "{text}");
    assert_eq!(loads(&doc).endpoints[0].pinset.as_deref(), Some("s"));
}

#[test]
fn shapes_it_cannot_edit_are_errors() {
    for text in [
        "endpoints = [{ url = \"https://a.test/\" }]\n",
        "pinsets = 1\n",
    ] {
        let mut doc: DocumentMut = text.parse().unwrap();
        let plan = Plan {
            endpoints: vec![pinned("https://a.test/", &[1])],
            ..Plan::default()
        };
        assert!(apply(&mut doc, &plan).is_err(), "{text}");
    }
}

#[test]
fn names_from_certificates_are_written_escaped_and_read_back_exactly() {
    let hostile = "lab.test\r\n\x1b[32m[OK]\u{9b}2J\u{202e}txt";
    let mut endpoint = pinned("https://a.test/", &[1, 2, 3]);
    endpoint.pins[0].label = format!("leaf: {hostile}");
    endpoint.issuer_orgs = Some(vec![hostile.to_string()]);
    endpoint.expect_body = Some(hostile.to_string());
    let mut doc = new_document("# header", "d");
    let plan = Plan {
        endpoints: vec![endpoint],
        ..Plan::default()
    };
    apply(&mut doc, &plan).unwrap();
    let written = doc.to_string();
    assert!(
        !written
            .chars()
            .any(|c| crate::report::is_escaped(c) && c != '\n'),
        "{written}"
    );
    assert!(
        written.contains(r"\u202E") && written.contains(r"\u009B"),
        "{written}"
    );
    let profile = loads(&doc);
    assert_eq!(
        profile.pinsets[0].pins[0].label.as_deref(),
        Some(format!("leaf: {hostile}").as_str())
    );
    assert_eq!(profile.endpoints[0].expect.body.as_deref(), Some(hostile));
    assert_eq!(profile.pinsets[0].expect_issuer_orgs, [hostile]);
}
