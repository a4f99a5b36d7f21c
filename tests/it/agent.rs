//! A pin set's own anchors (the Defender agent's CA bundle): a chain under a stand-in "agent
//! root" that no public or OS store trusts is verified through them, an inspecting proxy is
//! still caught, expected statuses other than 200 are success, and an expired certificate of
//! the bundle is a `pinned-certificate-expired` warning in the header and the drift report.

use pinprobe::lab::{Ca, KeyKind};
use time::{Duration, OffsetDateTime};

use crate::squid::{self, Mode};
use crate::support::*;

/// A profile whose pin set `agent` carries the given anchor files and pins, with one endpoint
/// per (port, path, expected status).
fn agent_profile(anchors: &[&str], pins: &[String], endpoints: &[(u16, &str, u16)]) -> String {
    let anchors: Vec<String> = anchors.iter().map(|a| format!("{a:?}")).collect();
    let pins: Vec<String> = pins.iter().map(|p| format!("\"sha256/{p}\"")).collect();
    let mut profile = format!(
        "[pinsets.agent]\nanchors = [{}]\npins = [{}]\n",
        anchors.join(", "),
        pins.join(", ")
    );
    for (port, path, status) in endpoints {
        profile.push_str(&format!(
            "\n[[endpoints]]\nurl = \"https://{HOST}:{port}{path}\"\npinset = \"agent\"\nexpect_status = {status}\n"
        ));
    }
    profile
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_under_the_agents_own_root_is_ok_through_the_third_store() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(404, "not here")).await;
    let probe = Probe::new();
    probe.file("agent-root.pem", &pki.root.pem());
    let profile = agent_profile(
        &["agent-root.pem"],
        &[pin_base64(pki.root.der())],
        &[(server.port(), "/mdav/test", 404)],
    );
    let out = probe
        .profile(&profile)
        .resolve(server.port())
        .json()
        .run()
        .await;
    let r = out.result();
    // no public root and no OS anchor: only the pin set's own anchors vouch for the chain
    assert_verdict(&r, "ok", 0);
    assert_eq!(r["trust"]["public"]["verified"], false, "{r:#}");
    assert_eq!(r["trust"]["os"]["verified"], false, "{r:#}");
    let agent = &r["trust"]["agent"];
    assert_eq!(agent["verified"], true, "{r:#}");
    assert_eq!(agent["store"], "agent");
    assert!(text(&agent["anchor"]["origin"], "origin").contains("pin set agent, agent-root.pem"));
    assert_eq!(r["pins"]["path"], "agent", "{r:#}");
    // 404 is what this endpoint answers when it works
    assert_eq!(r["http"]["expect_status"], 404);
    out.assert_code(0);

    // the same chain with the pins alone (no anchors) is untrusted: that is what the third
    // store changes
    let out = Probe::new()
        .profile(&format!(
            "[pinsets.agent]\npins = [\"sha256/{}\"]\n\n[[endpoints]]\nurl = \"https://{HOST}:{}/mdav/test\"\npinset = \"agent\"\nexpect_status = 404\n",
            pin_base64(pki.root.der()),
            server.port()
        ))
        .resolve(server.port())
        .json()
        .run()
        .await;
    assert_verdict(&out.result(), "untrusted-chain", 60);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_200_where_404_is_expected_is_reported() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let probe = Probe::new();
    probe.file("agent-root.pem", &pki.root.pem());
    let profile = agent_profile(
        &["agent-root.pem"],
        &[pin_base64(pki.root.der())],
        &[(server.port(), "/mdav/test", 404)],
    );
    let out = probe.profile(&profile).resolve(server.port()).run().await;
    out.assert_code(1);
    assert!(
        out.stdout.contains("[ERROR] http-unexpected (curl 22)")
            && out.stdout.contains("expected 404"),
        "{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inspecting_proxy_is_caught_whatever_the_agents_store_says() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(404, "")).await;
    let bump_ca = Ca::root("Squid Lab Bump CA", "Corp Inspection", KeyKind::Rsa2048).expect("CA");
    let Some(proxy) = squid::start(
        Mode::Bump {
            ca: &bump_ca,
            origin_root: &pki.root,
        },
        &[HOST],
    ) else {
        return;
    };
    let probe = Probe::new();
    probe.file("agent-root.pem", &pki.root.pem());
    let profile = agent_profile(
        &["agent-root.pem"],
        &[pin_base64(pki.root.der())],
        &[(server.port(), "/mdav/test", 404)],
    );
    let out = probe
        .profile(&profile)
        .os_trusts(&bump_ca)
        .args(["--proxy", &proxy.url()])
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "ssl-interception", 60);
    assert_eq!(r["trust"]["agent"]["verified"], false, "{r:#}");
    assert!(text(&r["chain"][0]["issuer"], "issuer").contains("Squid Lab Bump CA"));
    out.assert_code(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_certificate_of_the_bundle_is_a_warning_in_the_header_and_the_drift_report() {
    // the bundle holds the root and an expired copy of the issuing CA (same name and key), as
    // the agent's holds Microsoft Secure Server CA 2011; the server sends the current copy
    let pki = genuine_pki(&[HOST]);
    let now = OffsetDateTime::now_utc();
    let expired = pki
        .inter
        .reissued_by(
            &pki.root,
            now - Duration::days(400),
            now - Duration::days(30),
        )
        .expect("expired copy");
    let server = serve(&pki.leaf, http(404, "")).await;
    let probe = Probe::new();
    probe.file("root.pem", &pki.root.pem());
    probe.file("issuing-2011.pem", &expired.pem());
    let profile = agent_profile(
        &["root.pem", "issuing-2011.pem"],
        &[pin_base64(pki.root.der()), pin_base64(expired.der())],
        &[(server.port(), "/mdav/test", 404)],
    );
    let out = probe
        .profile(&profile)
        .args(["-v"])
        .resolve(server.port())
        .run()
        .await;
    // the path to the root, still valid, wins over the one that ends at the expired copy
    assert!(out.stdout.contains("... [OK]"), "{}", out.stdout);
    let header = out.stdout.lines().take(4).collect::<Vec<_>>().join("\n");
    assert!(
        header.contains("warning pinned-certificate-expired: Pinprobe Lab Issuing CA (issuing-2011.pem, an anchor of pin set agent) expired on"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("pinned certificate expired: Pinprobe Lab Issuing CA"),
        "{}",
        out.stdout
    );
    // a warning: the run passes unless warnings fail it
    out.assert_code(0);

    // the leaf alone can only reach the expired copy: expired, naming it
    let server = serve_chain(vec![pki.leaf.cert.clone()], &pki.leaf, http(404, "")).await;
    let probe = Probe::new();
    probe.file("root.pem", &pki.root.pem());
    probe.file("issuing-2011.pem", &expired.pem());
    let profile = agent_profile(
        &["root.pem", "issuing-2011.pem"],
        &[pin_base64(pki.root.der()), pin_base64(expired.der())],
        &[(server.port(), "/mdav/test", 404)],
    );
    let out = probe
        .profile(&profile)
        .resolve(server.port())
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "expired", 60);
    assert!(
        text(&r["detail"], "detail").contains("the anchor")
            && text(&r["detail"], "detail").contains("Pinprobe Lab Issuing CA"),
        "{r:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_chain_the_agent_does_not_trust_is_a_pin_mismatch_saying_so() {
    // the server's chain is trusted by --cacert (a public root, for the probe); the pin set's
    // client trusts only its own anchor, another root
    let pki = genuine_pki(&[HOST]);
    let agent_root = Ca::root("Agent Root 2011", "Agent Corp", KeyKind::EcdsaP256).expect("CA");
    let server = serve(&pki.leaf, http(404, "")).await;
    let probe = Probe::new();
    probe.file("agent-root.pem", &agent_root.pem());
    let profile = agent_profile(
        &["agent-root.pem"],
        &[pin_base64(agent_root.der())],
        &[(server.port(), "/mdav/test", 404)],
    );
    let out = probe
        .profile(&profile)
        .cacert(&pki.root)
        .resolve(server.port())
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "pin-mismatch", 90);
    assert_eq!(r["trust"]["public"]["verified"], true, "{r:#}");
    assert_eq!(r["trust"]["agent"]["verified"], false, "{r:#}");
    assert!(
        text(&r["detail"], "detail")
            .starts_with("the chain reaches none of the 1 anchors set agent carries"),
        "{r:#}"
    );
}
