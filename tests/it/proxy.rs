//! Probes through proxies: real squid instances (forwarding, ssl-bump, Basic authentication)
//! and in-process proxies for what squid cannot be made to do.

use pinprobe::lab::{Ca, KeyKind, LabProxy, ProxyBehaviour};

use crate::squid::{self, Mode};
use crate::support::*;

fn route(r: &serde_json::Value) -> (&str, &str) {
    (
        r["route"]["via"].as_str().unwrap_or_default(),
        r["route"]["source"].as_str().unwrap_or_default(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarding_squid_gives_ok_and_names_the_route() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let Some(proxy) = squid::start(Mode::Forward, &[HOST]) else {
        return;
    };
    // by flag
    let out = Probe::new()
        .cacert(&pki.root)
        .args(["--proxy", &proxy.url(), &url(server.port())])
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "ok", 0);
    assert_eq!(
        route(&r),
        (proxy.url().as_str(), "--proxy"),
        "{}",
        proxy.log()
    );
    assert_eq!(r["proxy"]["status"], 200);
    assert!(r["timings_ms"]["proxy"].is_number());
    out.assert_code(0);

    // by environment, as curl reads it; NO_PROXY sends the host direct
    let out = Probe::new()
        .cacert(&pki.root)
        .env("HTTPS_PROXY", &proxy.url())
        .args([url(server.port())])
        .json()
        .run()
        .await;
    assert_eq!(route(&out.result()), (proxy.url().as_str(), "HTTPS_PROXY"));
    out.assert_code(0);
    let out = Probe::new()
        .cacert(&pki.root)
        .env("https_proxy", &proxy.url())
        .env("NO_PROXY", ".test")
        .endpoint(server.port())
        .json()
        .run()
        .await;
    assert_eq!(route(&out.result()), ("direct", "NO_PROXY entry test"));
    out.assert_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn bumping_squid_is_ssl_interception_naming_its_ca() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
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
    let out = Probe::new()
        .cacert(&pki.root)
        .os_trusts(&bump_ca)
        .args(["--proxy", &proxy.url(), &url(server.port())])
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "ssl-interception", 60);
    let s = signal(&r, "os-store-only-anchor");
    assert!(
        text(&s["detail"], "detail").contains("Squid Lab Bump CA"),
        "{s:#}\n{}",
        proxy.log()
    );
    assert!(text(&r["chain"][0]["issuer"], "issuer").contains("Squid Lab Bump CA"));
    // squid signs its leaves with its CA's own key
    signal(&r, "ca-key-reuse");
    // squid mimics the origin's leaf: same name, another key and issuer
    assert_eq!(r["chain"][0]["sans"][0], HOST);
    assert_ne!(r["chain"][0]["spki_sha256"], pin_base64(&pki.leaf.cert));
    out.assert_code(1);

    // side by side: the direct path is clean, the proxy path is intercepted
    let out = Probe::new()
        .cacert(&pki.root)
        .os_trusts(&bump_ca)
        .resolve(server.port())
        .args([
            "--proxy",
            &proxy.url(),
            "--compare-direct",
            &url(server.port()),
        ])
        .run()
        .await;
    out.assert_code(1);
    let direct = format!(
        "Testing connection with {} (direct) ... [OK]",
        url(server.port())
    );
    let via = format!(
        "Testing connection with {} (via {}) ... [ERROR] ssl-interception (curl 60)",
        url(server.port()),
        proxy.url()
    );
    assert!(out.stdout.contains(&direct), "{}", out.stdout);
    assert!(out.stdout.contains(&via), "{}", out.stdout);
    assert!(out.stdout.contains("the routes differ"), "{}", out.stdout);
}

/// Through an inspecting proxy, a pinned endpoint's report is about the interception: no drift
/// report, no pins of the forged path, no warnings about the forged leaf, one line by default.
#[tokio::test(flavor = "multi_thread")]
async fn under_interception_the_report_is_about_the_interception() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
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
    let profile = probe.file(
        "services.toml",
        &format!(
            "[pinsets.svc]\nexpect_issuer_orgs = [\"Pinprobe Lab\"]\npins = [\n  {{ pin = \"sha256/{}\", label = \"intermediate: Pinprobe Lab Issuing CA\" }},\n  {{ pin = \"sha256/{}\", label = \"leaf: {HOST}\" }},\n]\n\n[[endpoints]]\nurl = \"{}\"\npinset = \"svc\"\n",
            pin_base64(pki.inter.der()),
            pin_base64(&pki.leaf.cert),
            url(server.port())
        ),
    );
    let run = |probe: Probe| {
        probe
            .cacert(&pki.root)
            .os_trusts(&bump_ca)
            .args(flag("--profile", &profile))
            .args(["--proxy", &proxy.url(), "--warn-days", "100000"])
    };
    let out = run(probe).json().run().await;
    out.assert_code(1);
    let r = out.result();
    assert_verdict(&r, "ssl-interception", 60);
    assert!(r.get("drift").is_none(), "{r:#}");
    assert_eq!(r["warnings"], serde_json::json!([]), "{r:#}");
    assert_eq!(r["pins"]["path_pins"], serde_json::json!([]), "{r:#}");
    assert_eq!(r["pins"]["matched"], false);

    // the bump CA installed nowhere: the chain is anchored nowhere, and squid's leaf, made for
    // the connection with its CA's own key by an organisation the pin set does not expect, is
    // still named for what it is
    let out = Probe::new()
        .cacert(&pki.root)
        .args(flag("--profile", &profile))
        .args(["--proxy", &proxy.url()])
        .json()
        .run()
        .await;
    out.assert_code(1);
    let nowhere = out.result();
    assert_verdict(&nowhere, "ssl-interception", 60);
    assert_eq!(
        nowhere["interception"]["confidence"], "medium",
        "{nowhere:#}"
    );
    signal(&nowhere, "ca-key-reuse");
    signal(&nowhere, "unexpected-issuer");
    assert_eq!(r["interception"]["confidence"], "high", "{r:#}");

    let out = run(Probe::new()).run().await;
    out.assert_code(1);
    let details: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("    "))
        .collect();
    assert!(details.is_empty(), "{}", out.stdout);
    for absent in ["stale", "pins this chain needs", "expires", "drift"] {
        assert!(!out.stdout.contains(absent), "{absent}: {}", out.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn authenticating_squid_is_proxy_auth_required_unless_credentials_are_given() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let Some(proxy) = squid::start(Mode::BasicAuth, &[HOST]) else {
        return;
    };
    let out = Probe::new()
        .cacert(&pki.root)
        .args(["--proxy", &proxy.url(), &url(server.port())])
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "proxy-auth-required", 56);
    let detail = text(&r["detail"], "detail");
    assert!(detail.contains("Basic"), "{detail}\n{}", proxy.log());
    assert!(!detail.contains("Defender"), "{detail}");
    assert_eq!(r["proxy"]["status"], 407);
    out.assert_code(1);

    // credentials in the URL are sent, and never printed
    let out = Probe::new()
        .cacert(&pki.root)
        .args([
            "-v",
            "--proxy",
            &proxy.url_with_credentials(),
            &url(server.port()),
        ])
        .run()
        .await;
    assert!(
        out.stdout.contains("... [OK]"),
        "{}\n{}",
        out.stdout,
        proxy.log()
    );
    assert!(!out.stdout.contains("lab-secret") && !out.stderr.contains("lab-secret"));
    out.assert_code(0);
}

/// The advice block speaks the profile's words: a profile's `[advice]` where it gives them,
/// else pinprobe's own, which never mention Defender (the bundled profile's Defender advice is
/// for its own endpoints, not for ad-hoc URLs).
#[tokio::test(flavor = "multi_thread")]
async fn advice_comes_from_the_profile() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let proxy = LabProxy::start(ProxyBehaviour::AuthRequired)
        .await
        .expect("lab proxy");
    let generic = "What to do: the proxy asks for credentials; give them";

    // an ad-hoc URL, with the bundled profile loaded for its pin sets
    let out = Probe::new()
        .cacert(&pki.root)
        .args(["--proxy", &proxy.url(), &url(server.port())])
        .run()
        .await;
    out.assert_code(1);
    assert!(out.stdout.contains(generic), "{}", out.stdout);
    assert!(!out.stdout.contains("Defender"), "{}", out.stdout);

    let endpoint = format!("[[endpoints]]\nurl = \"{}\"\n", url(server.port()));
    for (advice, expected) in [
        ("", generic),
        (
            "\n[advice]\nproxy-auth-required = \"call the network desk\"\n",
            "What to do: call the network desk",
        ),
    ] {
        let probe = Probe::new();
        let profile = probe.file("own.toml", &format!("{endpoint}{advice}"));
        let out = probe
            .cacert(&pki.root)
            .args(flag("--profile", &profile))
            .args(["--proxy", &proxy.url()])
            .run()
            .await;
        out.assert_code(1);
        assert!(out.stdout.contains("proxy-auth-required"), "{}", out.stdout);
        assert!(out.stdout.contains(expected), "{}", out.stdout);
        assert!(!out.stdout.contains("Defender"), "{}", out.stdout);
    }
}

/// A 407 with many headers (cookies, policies, the schemes last) is still the proxy asking
/// for credentials: the headers of an answer are bounded by its bytes, not by a count.
#[tokio::test(flavor = "multi_thread")]
async fn a_407_with_a_hundred_headers_is_proxy_auth_required_with_its_schemes() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let mut answer = String::from("HTTP/1.1 407 Proxy Authentication Required\r\n");
    for i in 0..98 {
        answer.push_str(&format!("X-Policy-{i}: corp\r\n"));
    }
    answer.push_str("Proxy-Authenticate: Basic realm=\"corp\"\r\n");
    answer.push_str("Proxy-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n");
    let proxy = LabProxy::start(ProxyBehaviour::Answer(answer.into_bytes()))
        .await
        .expect("lab proxy");
    let out = Probe::new()
        .cacert(&pki.root)
        .args(["--proxy", &proxy.url(), &url(server.port())])
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "proxy-auth-required", 56);
    let detail = text(&r["detail"], "detail");
    assert!(
        detail.contains("Basic") && detail.contains("Negotiate"),
        "{detail}"
    );
    assert_eq!(r["proxy"]["status"], 407);
    out.assert_code(1);
}

#[tokio::test(flavor = "multi_thread")]
async fn in_process_proxies_that_misbehave() {
    let pki = genuine_pki(&[HOST]);
    let server = serve(&pki.leaf, http(200, "OK")).await;
    let cases = [
        (ProxyBehaviour::Garbage, "proxy-refused", 56, "not HTTP"),
        (ProxyBehaviour::Refuse(403), "proxy-refused", 56, "403"),
        (
            ProxyBehaviour::AuthRequired,
            "proxy-auth-required",
            56,
            "Negotiate",
        ),
        (ProxyBehaviour::Silent, "timeout", 28, "phase proxy"),
        (
            ProxyBehaviour::CloseAfterConnect,
            "handshake-failed",
            35,
            "closed",
        ),
    ];
    for (behaviour, verdict, code, words) in cases {
        let proxy = LabProxy::start(behaviour.clone()).await.expect("lab proxy");
        let out = Probe::new()
            .cacert(&pki.root)
            .args(["--connect-timeout", "1", "--timeout", "2"])
            .args(["--proxy", &proxy.url(), &url(server.port())])
            .json()
            .run()
            .await;
        let r = out.result();
        assert_verdict(&r, verdict, code);
        let detail = text(&r["detail"], "detail");
        assert!(detail.contains(words), "{behaviour:?}: {detail}");
        out.assert_code(1);
    }

    // a proxy that is not there: connect-failed, saying it was the proxy
    let port = pinprobe::lab::closed_port().expect("closed port");
    let out = Probe::new()
        .args([
            "--proxy",
            &format!("http://127.0.0.1:{port}"),
            &url(server.port()),
        ])
        .json()
        .run()
        .await;
    let r = out.result();
    assert_verdict(&r, "connect-failed", 7);
    assert!(text(&r["detail"], "detail").contains("the proxy"), "{r:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_proxy_settings_exit_2_naming_the_flag_or_variable() {
    for (args, env, needle) in [
        (vec!["--proxy", "socks5://127.0.0.1:1080"], None, "--proxy"),
        (vec!["--noproxy", "10.0.0.0/99"], None, "--noproxy"),
        (vec!["--compare-direct"], None, "--compare-direct"),
        (
            vec![],
            Some(("HTTPS_PROXY", "https://p:443")),
            "HTTPS_PROXY",
        ),
    ] {
        let mut probe = Probe::new().args(args.clone()).args(["https://lab.test/"]);
        if let Some((k, v)) = env {
            probe = probe.env(k, v);
        }
        let out = probe.run().await;
        out.assert_code(2);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    }
}
