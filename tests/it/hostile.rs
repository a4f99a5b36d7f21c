//! Hostile peers: a key that does not match the leaf, certificates that do not parse, a server
//! that closes without answering. Each ends in a verdict with the chain kept, never a panic.

use rustls::pki_types::CertificateDer;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn signature_by_another_key_fails_the_handshake_and_keeps_the_chain() {
    let shown = genuine_pki(&[HOST]);
    let signer = genuine_pki(&[HOST]);
    // the server presents one chain and signs the handshake with another leaf's key
    let server = serve_chain(shown.leaf.chain(), &signer.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .cacert(&shown.root)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "handshake-failed", 35);
    let detail = text(&r["detail"], "detail");
    assert!(
        detail.contains("signature") && detail.contains("2 certificates"),
        "{detail}"
    );
    let chain = r["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 2, "the chain seen before the failure is kept");
    assert_eq!(chain[0]["spki_sha256"], pin_base64(&shown.leaf.cert));
    assert_eq!(r["trust"]["public"]["verified"], true, "{:#}", r["trust"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_that_does_not_parse_is_reported_and_the_probe_goes_on() {
    let pki = genuine_pki(&[HOST]);
    let mut chain = pki.leaf.chain();
    chain.push(CertificateDer::from(
        b"\x30\x03\x02\x01\x05 not a certificate".to_vec(),
    ));
    let server = serve_chain(chain, &pki.leaf, http(200, "OK")).await;
    let out = Probe::new()
        .cacert(&pki.root)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    let r = out.result();
    let chain = r["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 3, "{r:#}");
    assert!(chain[2]["parse_error"].is_string(), "{:#}", chain[2]);
    assert_eq!(chain[2]["sha256"].as_str().map(str::len), Some(64));
    assert!(chain[0]["parse_error"].is_null());
    // the junk is not on the path, so the genuine path still verifies
    assert_verdict(&r, "ok", 0);
    out.assert_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn close_after_the_handshake_is_an_empty_reply() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, pinprobe::lab::Behaviour::CloseAfterHandshake).await;
    let out = Probe::new()
        .cacert(&pki.root)
        .endpoint(server.port())
        .json()
        .run()
        .await;
    out.assert_code(1);
    let r = out.result();
    // curl's "Empty reply from server"
    assert_verdict(&r, "http-unexpected", 52);
    assert!(
        text(&r["http"]["error"], "http error").contains("without an HTTP answer"),
        "{r:#}"
    );
    assert_eq!(r["trust"]["public"]["verified"], true);
}

/// A certificate message over the 64 KiB TLS clients accept is named as such, not as bytes
/// that are not TLS.
#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_chain_is_named_as_such() {
    let pki = genuine_pki(&[HOST]);
    let mut chain = pki.leaf.chain();
    let padding = pki.inter.der().clone();
    while chain.iter().map(|c| c.len()).sum::<usize>() < 70 * 1024 {
        chain.push(padding.clone());
    }
    let out = probe_chain(&pki.root, chain, &pki.leaf).await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "handshake-failed", 35);
    let detail = text(&r["detail"], "detail");
    assert!(
        detail.contains("larger than TLS clients accept (64 KiB)"),
        "{detail}"
    );
}

/// Dates a TLS client cannot use are named as what they are: a notBefore before 1970, and a
/// validity that ends before it begins.
#[tokio::test(flavor = "multi_thread")]
async fn unusable_dates_are_named() {
    let root = pinprobe::lab::Ca::root(
        "Dates Root",
        "Pinprobe Lab",
        pinprobe::lab::KeyKind::EcdsaP256,
    )
    .expect("root");
    let now = time::OffsetDateTime::now_utc();
    let cases = [
        (
            time::macros::datetime!(1960-01-01 00:00 UTC),
            now + time::Duration::days(30),
            "before 1970",
        ),
        (
            now + time::Duration::days(30),
            now - time::Duration::days(30),
            "validity ends before it begins",
        ),
    ];
    for (not_before, not_after, words) in cases {
        let leaf = root
            .leaf(&pinprobe::lab::LeafSpec {
                not_before,
                not_after,
                ..pinprobe::lab::LeafSpec::new([HOST])
            })
            .expect("leaf");
        let out = probe_chain(&root, leaf.chain(), &leaf).await;
        out.assert_code(1);
        let r = out.result();
        let detail = text(&r["detail"], "detail");
        assert!(detail.contains(words), "{words}: {r:#}");
        assert!(detail.contains("lab.test"), "{words}: {detail}");
    }
}

/// A leaf with a critical extension no client knows is named as such.
#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_critical_extension_is_named() {
    let root = pinprobe::lab::Ca::root(
        "Ext Root",
        "Pinprobe Lab",
        pinprobe::lab::KeyKind::EcdsaP256,
    )
    .expect("root");
    let leaf = root
        .leaf(&pinprobe::lab::LeafSpec {
            unknown_critical_extension: true,
            ..pinprobe::lab::LeafSpec::new([HOST])
        })
        .expect("leaf");
    let out = probe_chain(&root, leaf.chain(), &leaf).await;
    out.assert_code(1);
    let r = out.result();
    let detail = text(&r["detail"], "detail");
    assert!(
        detail.contains("critical extension that TLS clients do not know"),
        "{r:#}"
    );
    // the handshake itself is sound: the key checks the signature, the certificate is the fault
    assert_verdict(&r, "untrusted-chain", 60);
    let name = text(&r["trust"]["hostname"]["detail"], "hostname detail");
    assert!(
        name.contains("cannot be checked against lab.test"),
        "{name}"
    );
}
