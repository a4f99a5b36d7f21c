//! A pin set's own anchors (the Defender agent's CA bundle): a chain under a stand-in "agent
//! root" that no public or OS store trusts is verified through them, an inspecting proxy is
//! still caught, expected statuses other than 200 are success, and an expired certificate of
//! the bundle is a `pinned-certificate-expired` warning in the header and the drift report.

use pinprobe::lab::{Ca, KeyKind};
use time::{Duration, OffsetDateTime};

use crate::squid::{self, Mode};
use crate::support::*;

/// A run whose profile has one endpoint, `https://HOST:PORT/mdav/test` expecting `status`,
/// with the pin set `agent`: its anchors are the given CAs (written as the named files beside
/// the profile), its pins theirs.
fn agent_probe(anchors: &[(&str, &Ca)], port: u16, status: u16) -> Probe {
    let probe = Probe::new();
    let mut files = Vec::new();
    let mut pins = Vec::new();
    for (file, ca) in anchors {
        probe.file(file, &ca.pem());
        files.push(format!("{file:?}"));
        pins.push(format!("\"sha256/{}\"", pin_base64(ca.der())));
    }
    let profile = format!(
        "[pinsets.agent]\nanchors = [{}]\npins = [{}]\n\n[[endpoints]]\nurl = \"https://{HOST}:{port}/mdav/test\"\npinset = \"agent\"\nexpect_status = {status}\n",
        files.join(", "),
        pins.join(", ")
    );
    probe.profile(&profile)
}

/// `ca` (its name and key) issued again by `parent` for 400 days that ended `ended_days_ago`
/// days ago: the expired copy a bundle keeps beside the certificate in use.
fn expired_copy(ca: &Ca, parent: &Ca, ended_days_ago: i64) -> Ca {
    let now = OffsetDateTime::now_utc();
    ca.reissued_by(
        parent,
        now - Duration::days(ended_days_ago + 400),
        now - Duration::days(ended_days_ago),
    )
    .expect("an expired copy")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chain_under_the_agents_own_root_is_ok_through_the_third_store() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(404, "not here")).await;
    let out = agent_probe(&[("agent-root.pem", &pki.root)], server.port(), 404)
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
    let out = agent_probe(&[("agent-root.pem", &pki.root)], server.port(), 404)
        .resolve(server.port())
        .run()
        .await;
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
    let out = agent_probe(&[("agent-root.pem", &pki.root)], server.port(), 404)
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
    let expired = expired_copy(&pki.inter, &pki.root, 30);
    let server = serve(&pki.leaf, http(404, "")).await;
    let out = agent_probe(
        &[("root.pem", &pki.root), ("issuing-2011.pem", &expired)],
        server.port(),
        404,
    )
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
    let out = agent_probe(
        &[("root.pem", &pki.root), ("issuing-2011.pem", &expired)],
        server.port(),
        404,
    )
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
    let out = agent_probe(&[("agent-root.pem", &agent_root)], server.port(), 404)
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

    // a pin of the set on the public path changes nothing: the set's client trusts its anchors
    // alone, so its pins count only on the path to them (through the OS store alike)
    let profile = format!(
        "[pinsets.agent]\nanchors = [\"agent-root.pem\"]\npins = [\"sha256/{}\", \"sha256/{}\"]\n\n[[endpoints]]\nurl = \"https://{HOST}:{}/mdav/test\"\npinset = \"agent\"\nexpect_status = 404\n",
        pin_base64(agent_root.der()),
        pin_base64(pki.root.der()),
        server.port()
    );
    for trusted_by in ["--cacert", "the OS store"] {
        let probe = Probe::new();
        probe.file("agent-root.pem", &agent_root.pem());
        let probe = match trusted_by {
            "--cacert" => probe.cacert(&pki.root),
            _ => probe.os_trusts(&pki.root),
        };
        let out = probe
            .profile(&profile)
            .resolve(server.port())
            .json()
            .run()
            .await;
        let r = out.result();
        assert_ne!(r["verdict"], "ok", "{trusted_by}: {r:#}");
        assert_eq!(r["pins"]["matched"], false, "{trusted_by}: {r:#}");
        out.assert_code(1);
    }
}

/// A fabricated tenant id: never printed whole.
const ORG: &str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";

/// The blob of an onboarding package (`{"body": "<JSON>", "sig": ...}`) for a body.
fn blob(body: serde_json::Value) -> String {
    serde_json::json!({
        "body": body.to_string(),
        "sig": "ZmFicmljYXRlZA==",
        "sha256sig": "ZmFicmljYXRlZA==",
        "cert": "ZmFicmljYXRlZA==",
        "chain": ["ZmFicmljYXRlZA=="],
    })
    .to_string()
}

/// A streamlined package of the EU geography, as the macOS script carries it: a property
/// list in a heredoc.
fn streamlined_eu_sh() -> String {
    let info = blob(serde_json::json!({
        "orgId": ORG,
        "geoLocationUrl": "https://edr-weu.eu.endpoint.security.microsoft.com/edr/",
        "datacenter": "WestEurope3",
        "vortexGeoLocation": "EU",
        "vortexServerUrl": "https://eu-v20.events.endpoint.security.microsoft.com/OneCollector/1.0",
        "partnerGeoLocation": "GW_EU",
        "version": "1.7",
    }));
    let escaped = info
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    format!(
        "#!/usr/bin/env bash\ncat <<EOM > \"/Library/Application Support/Microsoft/Defender/com.microsoft.wdav.atp.plist\"\n\
         <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\
         <key>OnboardingInfo</key>\n<string>{escaped}</string>\n</dict>\n</plist>\nEOM\n"
    )
}

/// A standard package of the US geography, as the Linux script carries it: the onboarding
/// file's JSON in a Python literal.
fn standard_us_py() -> String {
    let info = blob(serde_json::json!({
        "orgId": ORG,
        "geoLocationUrl": "https://winatp-gw-cus.microsoft.com/",
        "datacenter": "CentralUs",
        "vortexGeoLocation": "US",
        "version": "1.7",
    }));
    let outer = serde_json::json!({ "onboardingInfo": info }).to_string();
    let literal = outer.replace('\\', r"\\").replace('\'', r"\'");
    format!("#!/usr/bin/env python\nwith open('/etc/opt/microsoft/mdatp/mdatp_onboard.json', 'w') as f:\n    f.write('{literal}')\n")
}

/// `--list --onboarding NAME` with a package file of that name holding `text`.
async fn list_package(name: &str, text: &str) -> Outcome {
    let probe = Probe::new();
    let package = probe.file(name, text);
    probe
        .args([
            "--list".as_ref(),
            "--onboarding".as_ref(),
            package.as_os_str(),
        ])
        .run()
        .await
}

/// The lines of `--list` after its two header lines.
fn listed(out: &Outcome) -> Vec<&str> {
    out.stdout.lines().skip(2).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_onboarding_package_chooses_the_tenants_endpoints() {
    let out = list_package(
        "MicrosoftDefenderATPOnboardingMacOs.sh",
        &streamlined_eu_sh(),
    )
    .await;
    out.assert_code(0);
    assert!(
        out.stdout.lines().nth(1).is_some_and(|l| l.starts_with(
            "endpoints: streamlined endpoints for EU (--onboarding: macOS onboarding script (.sh)"
        ) && l.contains("org 0f1e…e1f0")),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(ORG) && !out.stderr.contains(ORG));
    let lines = listed(&out);
    assert_eq!(lines.len(), 18, "{}", out.stdout);
    assert!(lines.iter().all(|l| l.contains("streamlined EU")));
    let mdav = "GET  https://mdav.eu.endpoint.security.microsoft.com/mdav/test  expect 404, pin set mde-agent (its own anchors)";
    let packages = "HEAD https://mdav.eu.endpoint.security.microsoft.com/packages/?ostype=mac  expect 200, pin set mde-agent-packages (its own anchors)";
    let smartscreen = "POST https://europe.smartscreen.microsoft.com//api/network/mac  expect 400, pin set microsoft-cloud";
    for want in [mdav, packages, smartscreen] {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "{want}\n{}",
            out.stdout
        );
    }

    let out = list_package(
        "MicrosoftDefenderATPOnboardingLinuxServer.py",
        &standard_us_py(),
    )
    .await;
    out.assert_code(0);
    assert!(
        out.stdout.contains(
            "endpoints: standard endpoints for US (--onboarding: Linux onboarding script (.py)"
        ),
        "{}",
        out.stdout
    );
    let lines = listed(&out);
    assert_eq!(lines.len(), 13, "{}", out.stdout);
    assert!(lines.iter().any(|l| l.starts_with(
        "GET  https://winatp-gw-cus.microsoft.com/commands/test  expect 200, pin set mde-agent"
    )));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_that_does_not_parse_is_exit_2_naming_the_file() {
    let out = list_package("WindowsDefenderATPOnboardingScript.cmd", "@echo off\r\nREG add \"HKLM\\x\" /v OnboardingInfo /t REG_SZ /f /d \"{\\\"body\\\": \\\"not json\\\"}\"\r\n").await;
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("WindowsDefenderATPOnboardingScript.cmd"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn geo_and_catalog_choose_among_the_lists_and_say_what_they_chose() {
    let out = Probe::new().args(["--list", "--geo", "eu"]).run().await;
    out.assert_code(0);
    assert!(out
        .stdout
        .contains("endpoints: streamlined endpoints for EU (--geo)"));
    assert_eq!(listed(&out).len(), 18);
    let out = Probe::new()
        .args(["--list", "--geo", "UK", "--catalog", "standard"])
        .run()
        .await;
    out.assert_code(0);
    assert_eq!(listed(&out).len(), 9, "{}", out.stdout);
    // nothing chosen: the guide's list, and how to choose the tenant's
    let out = Probe::new().args(["--list"]).run().await;
    out.assert_code(0);
    assert_eq!(listed(&out).len(), 14, "{}", out.stdout);
    assert!(out
        .stdout
        .contains("choose the tenant's set with --onboarding FILE"));
    // a list the profile does not have, and a choice with URLs, are exit 2 naming the flag
    let out = Probe::new()
        .args(["--list", "--geo", "CH", "--catalog", "standard"])
        .run()
        .await;
    out.assert_code(2);
    assert!(
        out.stderr.contains(
            "--catalog: pins/mde.toml (bundled) has no endpoint for standard endpoints for CH"
        ),
        "{}",
        out.stderr
    );
    let out = Probe::new()
        .args(["--geo", "EU", "https://lab.test/"])
        .run()
        .await;
    out.assert_code(2);
    assert!(
        out.stderr
            .contains("--geo: chooses among the profile's endpoints"),
        "{}",
        out.stderr
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_installed_agent_is_asked_for_its_geography_without_privileges() {
    use std::os::unix::fs::PermissionsExt;
    let probe = Probe::new();
    // a directory of its own on PATH, holding only the stand-in mdatp
    let dir = probe.file("profile-dir-marker", "").with_file_name("bin");
    std::fs::create_dir(&dir).expect("bin directory");
    let mdatp = dir.join("mdatp");
    std::fs::write(
        &mdatp,
        "#!/bin/sh\necho 'edr_early_preview_enabled : \"disabled\"'\necho 'edr_partner_geo_location : \"GW_UK\"'\n",
    )
    .expect("write mdatp");
    std::fs::set_permissions(&mdatp, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = probe.env("PATH", &path).args(["--list"]).run().await;
    out.assert_code(0);
    assert!(
        out.stdout.contains("endpoints: streamlined endpoints for UK (mdatp health --details edr: edr_partner_geo_location GW_UK)"),
        "{}",
        out.stdout
    );
    assert_eq!(listed(&out).len(), 14, "{}", out.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn pin_update_reads_and_keeps_a_set_that_carries_anchors() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(404, "")).await;
    let probe = Probe::new().args(["pin"]);
    probe.file("agent-root.pem", &pki.root.pem());
    let profile = format!(
        "[pinsets.agent]\nanchors = [\"agent-root.pem\"]\npins = [\"sha256/{}\"]\n\n[[endpoints]]\nurl = \"https://{HOST}:{}/mdav/test\"\npinset = \"agent\"\nexpect_status = 404\n",
        pin_base64(pki.root.der()),
        server.port()
    );
    let file = probe.file("agent.toml", &profile);
    let out = probe
        .args(flag("--update", &file))
        .resolve(server.port())
        .run()
        .await;
    out.assert_code(0);
    let updated = std::fs::read_to_string(out.dir().join("agent.toml")).expect("updated");
    assert!(
        updated.contains("anchors = [\"agent-root.pem\"]"),
        "{updated}"
    );
    // the leaf and the issuing CA of the path the agent's anchors verify are pinned now
    assert!(
        updated.contains(&pin_base64(&pki.leaf.cert)),
        "{updated}\n{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_package_chooses_among_the_profiles_lists_only() {
    let probe = Probe::new();
    let package = probe.file("mdatp_onboard.sh", &streamlined_eu_sh());
    let targets = probe.file("targets.txt", "https://lab.test/\n");
    // with URL arguments or --targets a package has nothing to choose from: refused, unread
    for extra in [
        vec!["https://lab.test/".into()],
        vec!["--targets".into(), targets.clone().into_os_string()],
    ] {
        let mut args: Vec<std::ffi::OsString> = vec!["--list".into(), "--onboarding".into()];
        args.push(package.clone().into_os_string());
        args.extend(extra);
        let out = Probe::new().args(args).run().await;
        out.assert_code(2);
        assert!(
            out.stderr
                .contains("--onboarding: chooses among the profile's endpoints"),
            "{}",
            out.stderr
        );
    }
    // standard input read twice is refused before anything is read
    let out = Probe::new()
        .args(["--list", "--onboarding", "-", "--profile", "-"])
        .run()
        .await;
    out.assert_code(2);
    assert!(out.stderr.contains("standard input"), "{}", out.stderr);
    // a profile of one's own without the tenant's list: the package's own endpoints do not
    // stand in for it
    let probe = Probe::new();
    let package = probe.file("onboard.sh", &streamlined_eu_sh());
    let out = probe
        .profile("[[endpoints]]\nurl = \"https://lab.test/\"\n")
        .args([
            "--list".as_ref(),
            "--onboarding".as_ref(),
            package.as_os_str(),
        ])
        .run()
        .await;
    out.assert_code(2);
    assert!(
        out.stderr.contains("--onboarding: ")
            && out
                .stderr
                .contains("has no endpoint for streamlined endpoints for EU"),
        "{}",
        out.stderr
    );
    // the flag named is the one given
    let out = Probe::new()
        .profile("[[endpoints]]\nurl = \"https://lab.test/\"\n")
        .args(["--list", "--geo", "EU"])
        .run()
        .await;
    out.assert_code(2);
    assert!(out.stderr.contains("error: --geo: "), "{}", out.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renewed_anchor_kept_beside_its_expired_copy_is_the_one_named() {
    // two certificates of one name and key in the bundle, the old one expired
    let pki = genuine_pki(&[HOST]);
    let old_root = expired_copy(&pki.root, &pki.root, 10);
    let server = serve(&pki.leaf, http(404, "")).await;
    let out = agent_probe(
        &[("old-root.pem", &old_root), ("root.pem", &pki.root)],
        server.port(),
        404,
    )
    .resolve(server.port())
    .json()
    .run()
    .await;
    let r = out.result();
    assert_verdict(&r, "ok", 0);
    assert!(
        text(&r["trust"]["agent"]["anchor"]["origin"], "origin").ends_with("root.pem")
            && !text(&r["trust"]["agent"]["anchor"]["origin"], "origin").contains("old-root"),
        "{r:#}"
    );
}
