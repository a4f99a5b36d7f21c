use super::*;
use crate::chain::trust::{AnchorInfo, PathState, Store};
use crate::lab::{Ca, KeyKind, LeafSpec};

fn cert(issuer_cn: &str, issuer_o: &str) -> CertInfo {
    let mut c = CertInfo::analyse(0, b"not a certificate");
    c.issuer_cn = Some(issuer_cn.into());
    c.issuer_o = Some(issuer_o.into());
    c.subject_cn = Some("www.example.com".into());
    c.pin = Some(Pin::of_spki(issuer_cn.as_bytes()));
    c
}

fn path(store: Store, anchor: Option<&str>) -> PathReport {
    PathReport {
        store,
        verified: anchor.is_some(),
        anchor: anchor.map(|subject| AnchorInfo {
            subject: subject.into(),
            spki_sha256: Pin::of_spki(subject.as_bytes()),
            origin: match store {
                Store::Public => AnchorOrigin::Mozilla,
                Store::Os => AnchorOrigin::Os,
                Store::Agent => AnchorOrigin::Given("agent".into()),
            },
            not_after: String::new(),
            not_after_unix: None,
        }),
        path: vec![0],
        error: None,
        state: if anchor.is_some() {
            PathState::Verified
        } else {
            PathState::NotReached
        },
    }
}

fn run(
    chain: &[CertInfo],
    public: &PathReport,
    os: &PathReport,
    pinset: Option<&PinSet>,
) -> Interception {
    run_at(
        chain,
        public,
        os,
        pinset,
        time::OffsetDateTime::now_utc().unix_timestamp(),
    )
}

/// As `run`, with the time of the probe given (seconds since the epoch), so that ages are
/// exact whatever second the test reaches it in.
fn run_at(
    chain: &[CertInfo],
    public: &PathReport,
    os: &PathReport,
    pinset: Option<&PinSet>,
    now: i64,
) -> Interception {
    let interceptors = Interceptors::bundled().unwrap();
    let public_anchor = public.anchor.as_ref().map(|a| a.spki_sha256);
    let has = move |p: &Pin| Some(*p) == public_anchor;
    let seen = crate::chain::trust::seen_keys(chain, &[public, os]);
    let report = pinset.map(|set| crate::pins::check(set, &[], &seen));
    collect(&Inputs {
        chain,
        public,
        os,
        public_has_key: &has,
        public_has_subject: &|_: &str| false,
        pinset,
        denied: report.as_ref().and_then(|r| r.denied.first()),
        interceptors: &interceptors,
        now,
    })
}

/// A chain made by the lab: root and issuing CA of organisation `org`, a leaf from `spec`.
fn lab_chain(org: &str, spec: LeafSpec) -> Vec<CertInfo> {
    let root = Ca::root("Lab Root", org, KeyKind::EcdsaP256).unwrap();
    let inter = root
        .intermediate("Lab Issuing", org, KeyKind::EcdsaP256)
        .unwrap();
    let leaf = inter.leaf(&spec).unwrap();
    let mut chain = CertInfo::analyse_chain(&leaf.chain());
    // the lab cannot log leaves in CT; a clean public leaf carries SCTs
    chain[0].embedded_scts = true;
    chain
}

fn public_path(origin: AnchorOrigin) -> PathReport {
    let mut p = path(Store::Public, Some("CN=Lab Root"));
    p.path = vec![0, 1];
    if let Some(a) = p.anchor.as_mut() {
        a.origin = origin;
    }
    p
}

#[test]
fn each_signal_fires_on_its_chain_and_stays_silent_on_a_clean_one() {
    let now = time::OffsetDateTime::now_utc();
    let clean_spec = LeafSpec::new(["lab.test"]);
    let set = PinSet {
        name: "cloud".into(),
        expect_issuer_orgs: vec!["DigiCert Inc".into()],
        ..PinSet::default()
    };
    let os_none = path(Store::Os, None);
    type Change = fn(&mut Vec<CertInfo>, &mut PathReport);
    struct Case {
        name: &'static str,
        org: &'static str,
        spec: LeafSpec,
        change: Change,
        expect: Option<(&'static str, Strength, &'static str)>,
    }
    let fresh = LeafSpec {
        not_before: now - time::Duration::seconds(30),
        ..clean_spec.clone()
    };
    let long = LeafSpec {
        not_after: now + time::Duration::days(800),
        ..clean_spec.clone()
    };
    let cases = [
        Case {
            name: "clean",
            org: "DigiCert Inc",
            spec: clean_spec.clone(),
            change: |_, _| {},
            expect: None,
        },
        Case {
            name: "unexpected issuer",
            org: "Corp Networks",
            spec: clean_spec.clone(),
            change: |_, _| {},
            expect: Some((
                "unexpected-issuer",
                Strength::Medium,
                "O=\"Corp Networks\" issued #0 lab.test, #1 Lab Issuing",
            )),
        },
        Case {
            name: "public leaf without SCTs",
            org: "DigiCert Inc",
            spec: clean_spec.clone(),
            change: |c, _| c[0].embedded_scts = false,
            expect: Some(("no-sct", Strength::Medium, "public root")),
        },
        Case {
            name: "unanchored leaf without SCTs",
            org: "DigiCert Inc",
            spec: clean_spec.clone(),
            change: |c, p| {
                c[0].embedded_scts = false;
                *p = path(Store::Public, None);
            },
            expect: Some(("no-sct", Strength::Weak, "inspection devices")),
        },
        Case {
            name: "--cacert anchor without SCTs is a declared private PKI",
            org: "DigiCert Inc",
            spec: clean_spec.clone(),
            change: |c, p| {
                c[0].embedded_scts = false;
                *p = public_path(AnchorOrigin::CaCert("lab.pem".into()));
            },
            expect: None,
        },
        Case {
            name: "leaf made 30 s ago",
            org: "DigiCert Inc",
            spec: fresh,
            change: |_, _| {},
            expect: Some(("fresh-leaf", Strength::Medium, "30 s before the probe")),
        },
        Case {
            name: "800-day leaf",
            org: "DigiCert Inc",
            spec: long,
            change: |_, _| {},
            expect: Some(("fresh-leaf", Strength::Weak, "398 days")),
        },
        Case {
            name: "RSA 1024",
            org: "DigiCert Inc",
            spec: clean_spec.clone(),
            change: |c, _| {
                c[1].key = "RSA 1024".into();
                c[1].key_bits = 1024;
            },
            expect: Some(("weak-crypto", Strength::Medium, "RSA 1024")),
        },
        Case {
            name: "leaf with its CA's key",
            org: "DigiCert Inc",
            spec: clean_spec.clone(),
            change: |c, _| {
                c[0].pin = c[1].pin;
            },
            expect: Some((
                "ca-key-reuse",
                Strength::Medium,
                "same key as #1 Lab Issuing",
            )),
        },
        Case {
            name: "SHA-1 signature",
            org: "DigiCert Inc",
            spec: clean_spec.clone(),
            change: |c, _| c[0].signature_algorithm = "sha1WithRSAEncryption".into(),
            expect: Some(("weak-crypto", Strength::Medium, "sha1WithRSAEncryption")),
        },
    ];
    for case in cases {
        let mut chain = lab_chain(case.org, case.spec);
        let mut public = public_path(AnchorOrigin::Mozilla);
        (case.change)(&mut chain, &mut public);
        let found = run_at(&chain, &public, &os_none, Some(&set), now.unix_timestamp());
        match case.expect {
            None => assert!(found.evidence.is_empty(), "{}: {:?}", case.name, found),
            Some((signal, strength, words)) => {
                assert_eq!(found.evidence.len(), 1, "{}: {:?}", case.name, found);
                let s = &found.evidence[0];
                assert_eq!(
                    (s.signal.code(), s.strength),
                    (signal, strength),
                    "{}",
                    case.name
                );
                assert!(s.detail.contains(words), "{}: {}", case.name, s.detail);
                assert!(!found.is_strong(), "{}", case.name);
            }
        }
    }
}

#[test]
fn bundled_list_loads_with_sources() {
    let list = Interceptors::bundled().unwrap();
    assert!(list.interceptors.len() >= 15);
    assert!(list.interceptors.iter().all(|i| !i.source.is_empty()));
    assert!(list.unnamed.iter().any(|u| u.product.contains("Squid")));
}

#[test]
fn malformed_list_names_the_line() {
    let e = Interceptors::parse("[[interceptors]]\nproduct = 1\n", "x.toml").unwrap_err();
    assert!(e.to_string().starts_with("x.toml:2:"), "{e}");
}

#[test]
fn signals_table() {
    let clean = [cert(
        "DigiCert Global G2 TLS RSA SHA256 2020 CA1",
        "DigiCert Inc",
    )];
    let zscaler = [cert(
        "Zscaler Intermediate Root CA (zscalertwo.net) (t) ",
        "Zscaler Inc.",
    )];
    let public = path(Store::Public, Some("CN=DigiCert Global Root G2"));
    let none_public = path(Store::Public, None);
    let os_lab = path(Store::Os, Some("CN=Corp Inspection Root"));
    let os_public = path(Store::Os, Some("CN=DigiCert Global Root G2"));

    // clean public chain: nothing
    let e = run(&clean, &public, &os_public, None);
    assert!(e.evidence.is_empty() && e.vendor.is_none(), "{e:?}");

    // anchored only in the OS store: strong, names the anchor, no vendor
    let e = run(&clean, &none_public, &os_lab, None);
    assert_eq!(e.evidence[0].signal.code(), "os-store-only-anchor");
    assert!(e.evidence[0].detail.contains("Corp Inspection Root"));
    assert!(e.is_strong() && e.vendor.is_none());

    // a private chain trusted nowhere: no signal
    let e = run(&clean, &none_public, &path(Store::Os, None), None);
    assert!(e.evidence.is_empty());

    // a known name, case-insensitive, names the vendor
    let e = run(&zscaler, &none_public, &path(Store::Os, None), None);
    assert_eq!(e.vendor.as_deref(), Some("Zscaler"));
    assert_eq!(e.evidence[0].signal.code(), "known-interceptor");
    assert!(e.is_strong());

    // a medium-confidence name alone is not strong
    let avast = [cert("Avast Web/Mail Shield Root", "Avast")];
    let e = run(&avast, &none_public, &path(Store::Os, None), None);
    assert_eq!(e.evidence.len(), 1);
    assert!(!e.is_strong(), "{e:?}");

    // a deny pin anywhere on the chain
    let set = PinSet {
        name: "s".into(),
        deny: vec![crate::pins::PinEntry {
            pin: clean[0].pin.unwrap(),
            label: Some("shared key".into()),
            source: None,
        }],
        ..PinSet::default()
    };
    let e = run(&clean, &public, &os_public, Some(&set));
    assert_eq!(e.evidence[0].signal.code(), "deny-pin");
    assert!(e.is_strong());
}

/// Genuine public certificates sent beside a chain they do not sign fire; the same certificates
/// on the leaf's verified path stay silent.
#[test]
fn appended_genuine_certificates_fire_only_off_the_path() {
    let public_root_key = Pin::of_spki(b"genuine root");
    let ca = |index: usize, subject: &str, issuer: &str, pin: Pin| {
        let mut c = CertInfo::analyse(index, b"not a certificate");
        c.parse_error = None;
        c.is_ca = true;
        c.subject = subject.into();
        c.subject_cn = subject.strip_prefix("CN=").map(str::to_string);
        c.issuer = issuer.into();
        c.self_issued = subject == issuer;
        c.pin = Some(pin);
        c
    };
    let leaf = {
        let mut c = CertInfo::analyse(0, b"not a certificate");
        c.parse_error = None;
        c.issuer = "CN=Corp Inspection".into();
        c.pin = Some(Pin::of_spki(b"leaf"));
        c
    };
    let chain = vec![
        leaf,
        ca(
            1,
            "CN=Corp Inspection",
            "CN=Corp Inspection",
            Pin::of_spki(b"corp"),
        ),
        ca(
            2,
            "CN=Genuine Issuing",
            "CN=Genuine Root",
            Pin::of_spki(b"issuing"),
        ),
        ca(3, "CN=Genuine Root", "CN=Genuine Root", public_root_key),
    ];
    let interceptors = Interceptors::bundled().unwrap();
    let judge = |public: &PathReport| {
        collect(&Inputs {
            chain: &chain,
            public,
            os: &path(Store::Os, None),
            public_has_key: &|p: &Pin| *p == public_root_key,
            public_has_subject: &|s: &str| s == "CN=Genuine Root",
            pinset: None,
            denied: None,
            interceptors: &interceptors,
            now: 0,
        })
    };
    let off_path = judge(&path(Store::Public, None));
    let s = off_path
        .evidence
        .iter()
        .find(|s| s.signal == SignalKind::AppendedGenuine)
        .expect("appended-genuine fires");
    assert_eq!(s.strength, Strength::Medium);
    assert!(
        s.detail
            .contains("#2 Genuine Issuing (issued by the public anchor"),
        "{}",
        s.detail
    );
    assert!(
        s.detail
            .contains("#3 Genuine Root (a public anchor: Mozilla's or --cacert)"),
        "{}",
        s.detail
    );

    let mut on_path = path(Store::Public, Some("CN=Genuine Root"));
    on_path.path = vec![0, 1, 2, 3];
    let found = judge(&on_path);
    assert!(
        !found
            .evidence
            .iter()
            .any(|s| s.signal == SignalKind::AppendedGenuine),
        "{found:?}"
    );

    // a CA certificate with an RSA key under 2048 bits verifies nothing for a TLS client, so
    // whether it signs the chain cannot be told: never counted as appended
    let mut weak = chain.clone();
    for c in weak.iter_mut().skip(2) {
        c.key = "RSA-1024".into();
        c.key_bits = 1024;
    }
    let found = collect(&Inputs {
        chain: &weak,
        public: &path(Store::Public, None),
        os: &path(Store::Os, None),
        public_has_key: &|p: &Pin| *p == public_root_key,
        public_has_subject: &|s: &str| s == "CN=Genuine Root",
        pinset: None,
        denied: None,
        interceptors: &interceptors,
        now: 0,
    });
    assert!(
        !found
            .evidence
            .iter()
            .any(|s| s.signal == SignalKind::AppendedGenuine),
        "{found:?}"
    );
}
