use rustls::pki_types::{ServerName, SignatureVerificationAlgorithm, UnixTime};

use super::*;
use crate::chain::cert::CertInfo;
use crate::lab::{Ca, KeyKind, LeafSpec};

fn algs() -> &'static [&'static dyn SignatureVerificationAlgorithm] {
    webpki::ALL_VERIFICATION_ALGS
}

#[test]
fn path_reaches_the_lab_root_and_lists_the_presented_certificates() {
    let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let inter = root
        .intermediate("Lab Issuing CA", "Lab", KeyKind::EcdsaP256)
        .unwrap();
    let leaf = inter.leaf(&LeafSpec::new(["lab.test"])).unwrap();
    // A stray certificate sent after the chain is not on the path.
    let stray = Ca::root("Stray", "Lab", KeyKind::EcdsaP256).unwrap();
    let mut chain = leaf.chain();
    chain.push(stray.der().clone());
    let infos = CertInfo::analyse_chain(&chain);
    let set = AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test");
    let report = build_path(&set, &chain, &infos, algs(), UnixTime::now());
    assert_eq!(report.state, PathState::Verified, "{:?}", report.error);
    assert_eq!(report.path, vec![0, 1]);
    let anchor = report.anchor.as_ref().unwrap();
    assert!(anchor.subject.contains("Lab Root"));
    let pins: Vec<_> = report.keys(&infos).iter().map(|k| k.pin).collect();
    assert_eq!(pins.len(), 3);
    assert!(!pins.contains(&infos[2].pin.unwrap()));

    let mozilla = AnchorSet::public(&[]).unwrap();
    let report = build_path(&mozilla, &chain, &infos, algs(), UnixTime::now());
    assert_eq!(report.state, PathState::NotReached);
    assert!(report.error.unwrap().contains("unknown issuer"));
}

#[test]
fn expired_leaf_still_names_its_anchor() {
    let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let mut spec = LeafSpec::new(["old.test"]);
    spec.not_before = ::time::OffsetDateTime::now_utc() - ::time::Duration::days(60);
    spec.not_after = ::time::OffsetDateTime::now_utc() - ::time::Duration::days(30);
    let leaf = root.leaf(&spec).unwrap();
    let chain = leaf.chain();
    let infos = CertInfo::analyse_chain(&chain);
    let set = AnchorSet::from_certificates(Store::Public, &[root.der().clone()], "test");
    let report = build_path(&set, &chain, &infos, algs(), UnixTime::now());
    assert_eq!(report.state, PathState::TimeInvalid(TimeProblem::Expired));
    assert!(report.anchor.is_some());
    assert!(report.error.unwrap().contains("expired on"));
}

#[test]
fn name_check_lists_the_names_of_the_leaf() {
    let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let leaf = root.leaf(&LeafSpec::new(["a.test"])).unwrap();
    let info = CertInfo::analyse(0, &leaf.cert);
    let good = ServerName::try_from("a.test").unwrap();
    let bad = ServerName::try_from("b.test").unwrap();
    assert!(check_name(&leaf.cert, &info, &good).ok);
    let check = check_name(&leaf.cert, &info, &bad);
    assert!(!check.ok);
    assert_eq!(check.detail.unwrap(), "the leaf is for a.test, not b.test");
}

#[test]
fn name_check_names_an_empty_name() {
    let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let bad = ServerName::try_from("lab.test").unwrap();
    for (names, shown) in [
        (vec![""], r#"an empty name ("")"#),
        (vec!["a.test", ""], r#"a.test, an empty name ("")"#),
    ] {
        let leaf = root.leaf(&LeafSpec::new(names)).unwrap();
        let info = CertInfo::analyse(0, &leaf.cert);
        let check = check_name(&leaf.cert, &info, &bad);
        assert_eq!(
            check.detail.unwrap(),
            format!("the leaf is for {shown}, not lab.test")
        );
    }
}

#[test]
fn pem_errors_name_the_line_of_the_failing_block() {
    let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let good = root.pem();
    let lines = good.lines().count();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chain.pem");
    let cut: String = good.lines().take(3).map(|l| format!("{l}\n")).collect();
    for (text, message) in [
        // a second block cut before its END line
        (
            format!("{good}{cut}"),
            format!(
                "line {}: the block that starts here has no -----END CERTIFICATE----- line; \
                 copy the whole block, from its BEGIN line to its END line",
                lines + 1
            ),
        ),
        (
            format!("{good}\n-----BEGIN CERTIFICATE-----\nMIIB!x\n-----END CERTIFICATE-----\n"),
            format!(
                "line {}: '!' is not a base64 character, in the block that starts at line {}",
                lines + 3,
                lines + 2
            ),
        ),
        (
            "-----BEGIN CERTIFICATE-----\nMIIBx\n-----END CERTIFICATE-----\n".to_string(),
            "line 1: the block that starts here is not valid base64 (its length or padding is wrong)"
                .to_string(),
        ),
        (
            "text\n-----BEGIN CERTIFICATE\nMIIB\n".to_string(),
            "line 2: \"-----BEGIN CERTIFICATE\" is not a BEGIN line: expected -----BEGIN CERTIFICATE-----"
                .to_string(),
        ),
    ] {
        std::fs::write(&file, &text).unwrap();
        let e = read_certificates(&file, crate::input::CACERT).unwrap_err().to_string();
        assert_eq!(e, format!("{}: {message}", file.display()), "{text}");
    }
}

#[test]
fn an_anchors_pin_known_from_the_start_is_the_one_its_analysis_gives() {
    // the pins are taken when an anchor is added, the reports' details from the certificate
    // when first asked: both must name the same key, for every Mozilla root and for RSA and
    // ECDSA lab roots
    let rsa = Ca::root("Lab RSA Root", "Lab", KeyKind::Rsa2048).unwrap();
    let ecdsa = Ca::root("Lab ECDSA Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let lab =
        AnchorSet::from_certificates(Store::Os, &[rsa.der().clone(), ecdsa.der().clone()], "test");
    let public = AnchorSet::public(&[]).unwrap();
    assert!(public.len() > 100, "{} Mozilla roots", public.len());
    for set in [&lab, &public] {
        for i in 0..set.len() {
            let (der, _) = &set.certs[i];
            let analysed = CertInfo::analyse(0, der);
            assert_eq!(Some(set.pins[i]), analysed.pin, "{}", analysed.subject);
            assert!(set.has_key(&set.pins[i]));
            let info = set.info(i).unwrap();
            assert_eq!(info.spki_sha256, set.pins[i]);
            assert_eq!(info.subject, analysed.subject);
            assert_eq!(info.not_after_unix, Some(analysed.not_after_unix));
        }
    }
    assert!(lab.has_subject(&CertInfo::analyse(0, rsa.der()).subject));
    assert!(!lab.has_subject("CN=Elsewhere"));
}

#[test]
fn an_anchor_whose_dates_cannot_be_read_is_a_problem_of_the_store_not_an_anchor() {
    // webpki takes an anchor as a name and a key and never reads its dates; pinprobe judges
    // them, so a certificate whose validity does not parse (month 13) cannot be an anchor
    let root = Ca::root("Lab Root", "Lab", KeyKind::EcdsaP256).unwrap();
    let mut der = root.der().to_vec();
    // the first UTCTime (tag 0x17, 13 bytes: YYMMDDHHMMSSZ) is notBefore: its month made 13
    let at = der
        .windows(2)
        .position(|w| w == [0x17, 0x0d])
        .expect("a UTCTime");
    der[at + 4] = b'1';
    der[at + 5] = b'3';
    let bad = rustls::pki_types::CertificateDer::from(der);
    assert!(webpki::anchor_from_trusted_cert(&bad).is_ok());
    let set = AnchorSet::from_certificates(Store::Public, &[bad, root.der().clone()], "test");
    assert_eq!(set.len(), 1, "only the root that parses is an anchor");
    assert_eq!(set.load_errors.len(), 1, "{:?}", set.load_errors);
    assert!(
        set.load_errors[0].contains("does not parse"),
        "{:?}",
        set.load_errors
    );
}
